//! Program packages: export then import gives the same program and media; hostile or broken
//! packages are refused with the path and the reason, whole.

#![allow(clippy::expect_used)]
#![cfg(feature = "ssr")]

use app::programs::package::{self, ImportProblem, Limits};
use app::programs::{
    Block, BlockBody, Media, Module, Program, QuestionnaireDef, Rules, Schedule, ScheduleStart,
    Section, Step, UnlockRule,
};
use std::collections::BTreeMap;
use std::io::{Cursor, Write};

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n-rest-of-a-picture";

fn program(image_bytes: u64) -> Program {
    let blocks = vec![
        Block {
            key: "intro".to_owned(),
            show_if: None,
            body: BlockBody::Text {
                markdown: "Välkommen till *programmet*.".to_owned(),
            },
        },
        Block {
            key: "bild".to_owned(),
            show_if: None,
            body: BlockBody::Image {
                media: Media::File {
                    path: "bilder/kurva.png".to_owned(),
                    mime: "image/png".to_owned(),
                    bytes: image_bytes,
                },
                alt: "En kurva.".to_owned(),
                caption: None,
            },
        },
        Block {
            key: "gad7-block".to_owned(),
            show_if: None,
            body: BlockBody::Questionnaire {
                questionnaire: "gad7".to_owned(),
            },
        },
    ];
    Program {
        title: "Hantera oro".to_owned(),
        description: String::new(),
        modules: vec![Module {
            key: "m1".to_owned(),
            title: "Modul 1".to_owned(),
            unlock: UnlockRule::Open,
            sections: vec![Section {
                key: "s1".to_owned(),
                title: "Sektion 1".to_owned(),
                show_if: None,
                steps: vec![Step {
                    key: "p1".to_owned(),
                    title: "Sida 1".to_owned(),
                    blocks,
                }],
            }],
        }],
        questionnaires: vec![QuestionnaireDef {
            key: "gad7".to_owned(),
            title: "GAD-7".to_owned(),
            scale: Some("gad7".to_owned()),
            item_texts: Vec::new(),
            instrument: None,
        }],
        follow_up: Default::default(),
        schedules: vec![Schedule {
            key: "varje-vecka".to_owned(),
            questionnaire: "gad7".to_owned(),
            starts: ScheduleStart::Enrolment,
            every_days: Some(7),
            window_days: 3,
            blocking: true,
        }],
    }
}

fn media() -> BTreeMap<String, Vec<u8>> {
    BTreeMap::from([("bilder/kurva.png".to_owned(), PNG.to_vec())])
}

fn import(bytes: &[u8]) -> Result<package::Package, Vec<ImportProblem>> {
    package::import(bytes, &Limits::default(), &Rules::default())
}

/// A zip of these (name, content) entries.
fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, content) in entries {
        zip.start_file(*name, options).expect("start");
        zip.write_all(content).expect("write");
    }
    zip.finish().expect("finish").into_inner()
}

fn manifest(program: &Program) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "format": "lotsen-program",
        "format_version": package::FORMAT_VERSION,
        "program": program,
    }))
    .expect("json")
}

fn reasons(result: Result<package::Package, Vec<ImportProblem>>) -> Vec<(String, String)> {
    result
        .expect_err("refused")
        .into_iter()
        .map(|p| (p.path, p.reason))
        .collect()
}

#[test]
fn export_then_import_gives_back_the_same_program_and_media() {
    let original = program(PNG.len() as u64);
    let bytes = package::export(&original, &media()).expect("export");
    let back = import(&bytes).expect("import");
    assert_eq!(back.program, original);
    assert_eq!(back.media, media());
    // The same program exports to the same bytes.
    assert_eq!(
        package::export(&back.program, &back.media).expect("again"),
        bytes
    );
    // `make fuzz` starts the fuzzer from this package.
    if let Ok(dir) = std::env::var("LOTSEN_FUZZ_SEEDS") {
        std::fs::create_dir_all(&dir).expect("seed dir");
        std::fs::write(format!("{dir}/valid.zip"), &bytes).expect("seed");
    }
}

#[test]
fn names_that_leave_the_package_or_do_not_belong_are_refused() {
    let good = manifest(&program(PNG.len() as u64));
    for name in [
        "../evil.sh",
        "media/../../etc/passwd",
        "/etc/passwd",
        "media\\x.png",
        "C:/x",
    ] {
        let bytes = zip_of(&[
            ("lotsen-program.json", &good),
            ("media/bilder/kurva.png", PNG),
            (name, b"x"),
        ]);
        let problems = reasons(import(&bytes));
        assert_eq!(problems.len(), 1, "{name}: {problems:?}");
        assert_eq!(problems[0].0, name);
        assert!(problems[0].1.contains("leaves the package"), "{problems:?}");
    }
    let bytes = zip_of(&[
        ("lotsen-program.json", &good),
        ("media/bilder/kurva.png", PNG),
        ("run.sh", b"x"),
        ("media/extra.png", PNG),
    ]);
    assert_eq!(
        reasons(import(&bytes)),
        vec![
            (
                "run.sh".to_owned(),
                "unexpected file (only lotsen-program.json and media/…)".to_owned()
            ),
            (
                "media/extra.png".to_owned(),
                "not used by the program".to_owned()
            ),
        ]
    );
}

#[test]
fn a_zip_bomb_and_oversized_packages_are_refused() {
    let good = manifest(&program(PNG.len() as u64));
    let zeros = vec![0u8; 8 << 20];
    let bytes = zip_of(&[
        ("lotsen-program.json", &good),
        ("media/bilder/kurva.png", PNG),
        ("media/noll.bin", &zeros),
    ]);
    let problems = reasons(import(&bytes));
    assert!(
        problems.contains(&(
            "media/noll.bin".to_owned(),
            "compressed suspiciously well (a zip bomb?)".to_owned()
        )),
        "{problems:?}"
    );
    let small = Limits {
        max_package_bytes: 100,
        ..Limits::default()
    };
    assert!(package::import(&bytes, &small, &Rules::default()).is_err());
    assert_eq!(
        reasons(import(b"PK\x03\x04 not really")).len(),
        1,
        "not a zip"
    );
}

#[test]
fn the_document_is_checked_format_schema_and_content() {
    let p = program(PNG.len() as u64);
    let with = |json: &[u8]| {
        zip_of(&[
            ("lotsen-program.json", json),
            ("media/bilder/kurva.png", PNG),
        ])
    };
    // Another format version: said plainly.
    let mut newer = serde_json::to_value(manifest_value(&p)).expect("value");
    newer["format_version"] = 3.into();
    let problems = reasons(import(&with(&serde_json::to_vec(&newer).expect("json"))));
    assert_eq!(problems[0].0, "lotsen-program.json: format_version");
    assert!(problems[0].1.contains("version 3"), "{problems:?}");
    // An unknown block kind: the schema error, with line and column.
    let unknown = String::from_utf8(manifest(&p))
        .expect("utf8")
        .replace("\"kind\":\"text\"", "\"kind\":\"iframe\"");
    let problems = reasons(import(&with(unknown.as_bytes())));
    assert!(
        problems[0].1.contains("unknown variant `iframe`"),
        "{problems:?}"
    );
    assert!(problems[0].1.contains("line 1 column"), "{problems:?}");
    // A program that would not pass the validation report.
    let mut no_alt = p.clone();
    if let BlockBody::Image { alt, .. } = &mut no_alt.modules[0].sections[0].steps[0].blocks[1].body
    {
        alt.clear();
    }
    let problems = reasons(import(&with(&manifest(&no_alt))));
    assert_eq!(
        problems,
        vec![(
            "program.modules[0].sections[0].steps[0].blocks[1]".to_owned(),
            "ImageWithoutAlt".to_owned()
        )]
    );
    // No document at all.
    let problems = reasons(import(&zip_of(&[("media/bilder/kurva.png", PNG)])));
    assert!(problems.contains(&("lotsen-program.json".to_owned(), "missing".to_owned())));
}

fn manifest_value(p: &Program) -> serde_json::Value {
    serde_json::from_slice(&manifest(p)).expect("value")
}

#[test]
fn a_package_of_format_version_1_still_imports() {
    // Version 1 knew neither schedules nor modules that open on a day.
    let mut p = program(PNG.len() as u64);
    p.schedules.clear();
    let old = serde_json::to_vec(&serde_json::json!({
        "format": "lotsen-program",
        "format_version": 1,
        "program": p,
    }))
    .expect("json");
    assert!(!String::from_utf8_lossy(&old).contains("schedules"));
    let imported = import(&zip_of(&[
        ("lotsen-program.json", &old),
        ("media/bilder/kurva.png", PNG),
    ]))
    .expect("imported");
    assert_eq!(imported.program, p);
}

#[test]
fn media_must_be_there_the_size_and_the_type_they_claim() {
    let p = program(PNG.len() as u64);
    let json = manifest(&p);
    let missing = zip_of(&[("lotsen-program.json", &json)]);
    assert_eq!(
        reasons(import(&missing)),
        vec![(
            "media/bilder/kurva.png".to_owned(),
            "used by the program but missing".to_owned()
        )]
    );
    let html = b"<html><script>alert(1)</script></html>-------";
    let fake = zip_of(&[
        ("lotsen-program.json", &json),
        ("media/bilder/kurva.png", &html[..PNG.len()]),
    ]);
    assert_eq!(
        reasons(import(&fake)),
        vec![(
            "media/bilder/kurva.png".to_owned(),
            "not a image/png file".to_owned()
        )]
    );
    let short = zip_of(&[
        ("lotsen-program.json", &json),
        ("media/bilder/kurva.png", &PNG[..10]),
    ]);
    assert_eq!(reasons(import(&short)).len(), 1);
}

#[test]
fn the_demo_programs_survive_export_and_import() {
    for (index, manifest) in app::demo::DEMO_PACKAGES.iter().enumerate() {
        let program = app::demo::demo_program(index).expect("a valid demo package");
        let zip = package::export(&program, &BTreeMap::new()).expect("export");
        let back = package::import(&zip, &Limits::default(), &Rules::default()).expect("import");
        assert_eq!(back.program, program);
        eprintln!(
            "{}: {} modules, manifest {} bytes, package {} bytes",
            program.title,
            program.modules.len(),
            manifest.len(),
            zip.len()
        );
        assert!(zip.len() < manifest.len(), "the package is compressed");
    }
}
