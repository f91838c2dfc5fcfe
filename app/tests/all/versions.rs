//! Drafts and versions: what a diff calls minor (wording, media) and major (structure); saving
//! a draft only on the revision it was read at; publishing 1.0, then MAJOR.MINOR by the size of
//! the change; frozen versions; other care providers' programs out of reach. SQLite and
//! PostgreSQL.

#![allow(clippy::expect_used)]
#![cfg(feature = "ssr")]

use app::db_test;
use app::programs::diff::{Change, Level, Part, Structure, What, diff, is_major};
use app::programs::store::{self, Bump, Publication, Scope, StoreError, VersionNumber};
use app::programs::version::VersionStatus;
use app::programs::{BlockBody, Media, ProblemKind, Program, Rules, UnlockRule};
use app::testing::{REGION_A, REGION_B, two_regions};
use serde_json::json;

/// Two modules; the first has a page with a text and an exercise, and a weekly form with a
/// band; the second opens after feedback.
fn program() -> Program {
    serde_json::from_value(json!({
        "title": "Sov bättre",
        "description": "Ett program om sömn.",
        "modules": [
            {"key": "m1", "title": "Om sömn", "unlock": "open", "sections": [
                {"key": "s1", "title": "Början", "show_if": null, "steps": [
                    {"key": "p1", "title": "Välkommen", "blocks": [
                        {"key": "b1", "show_if": null,
                         "body": {"kind": "text", "markdown": "Sömn är *viktigt*."}},
                        {"key": "b2", "show_if": null,
                         "body": {"kind": "exercise", "instructions": "Skriv ner din kväll.",
                                  "fields": [{"key": "f1", "label": "När gick du och lade dig?",
                                              "kind": {"kind": "time"}, "required": true}]}},
                        {"key": "b3", "show_if": null,
                         "body": {"kind": "image", "alt": "En säng.", "caption": null,
                                  "media": {"source": "file", "path": "sang.png",
                                            "mime": "image/png", "bytes": 100}}}
                    ]},
                    {"key": "p2", "title": "Veckans skattning", "blocks": [
                        {"key": "b4", "show_if": null,
                         "body": {"kind": "questionnaire", "questionnaire": "vecka"}}
                    ]}
                ]}
            ]},
            {"key": "m2", "title": "Rutiner", "unlock": "after_feedback", "sections": [
                {"key": "s2", "title": "Kvällen", "show_if": null, "steps": [
                    {"key": "p3", "title": "Kvällsrutin", "blocks": [
                        {"key": "b5", "show_if": null,
                         "body": {"kind": "text", "markdown": "Varva ner en timme före sänggåendet."}}
                    ]}
                ]}
            ]}
        ],
        "questionnaires": [
            {"key": "vecka", "title": "Veckoformulär", "scale": null, "instrument": {
                "code": "vecka", "name": "Veckoformulär",
                "items": [{"code": "q1", "text": "Hur har du sovit?",
                           "kind": {"kind": "choice", "values": [0, 1, 2]},
                           "required": true, "scored": true, "reverse": false, "weight": 1}],
                "skips": [], "subscales": [],
                "bands": [{"code": "bra", "from": 0, "to": 2}],
                "alerts": [], "criteria": []
            }}
        ]
    }))
    .expect("a program")
}

fn block_body(program: &mut Program, module: usize, step: usize, block: usize) -> &mut BlockBody {
    &mut program.modules[module].sections[0].steps[step].blocks[block].body
}

fn whats(changes: &[Change]) -> Vec<&What> {
    changes.iter().map(|c| &c.what).collect()
}

#[test]
fn wording_and_media_are_minor_changes() {
    let before = program();
    let mut after = program();
    if let BlockBody::Text { markdown } = block_body(&mut after, 0, 0, 0) {
        *markdown = "Sömn är *mycket* viktigt.".to_owned();
    }
    if let BlockBody::Exercise { fields, .. } = block_body(&mut after, 0, 0, 1) {
        fields[0].label = "När somnade du?".to_owned();
    }
    if let BlockBody::Image { media, alt, .. } = block_body(&mut after, 0, 0, 2) {
        *media = Media::File {
            path: "sang-2.png".to_owned(),
            mime: "image/png".to_owned(),
            bytes: 120,
        };
        *alt = "En bäddad säng.".to_owned();
    }
    after.modules[1].title = "Kvällsrutiner".to_owned();
    after.questionnaires[0]
        .instrument
        .as_mut()
        .expect("own form")
        .items[0]
        .text = Some("Hur har du sovit i veckan?".to_owned());

    let changes = diff(&before, &after);
    let parts: Vec<Part> = changes
        .iter()
        .map(|c| match &c.what {
            What::Edited { part, .. } => *part,
            other => panic!("not a wording change: {other:?}"),
        })
        .collect();
    assert_eq!(
        parts,
        vec![
            Part::Text,
            Part::FieldLabel,
            Part::Media,
            Part::AltText,
            Part::Title,
            Part::ItemText
        ]
    );
    assert!(!is_major(&changes));
    // Where and what, as the publisher reads it.
    assert_eq!(
        changes[0]
            .at
            .iter()
            .map(|c| (c.level, c.title.as_str()))
            .collect::<Vec<_>>(),
        vec![
            (Level::Module, "Om sömn"),
            (Level::Section, "Början"),
            (Level::Page, "Välkommen"),
            (Level::Block, "1")
        ]
    );
    assert_eq!(
        changes[0].what,
        What::Edited {
            part: Part::Text,
            before: "Sömn är *viktigt*.".to_owned(),
            after: "Sömn är *mycket* viktigt.".to_owned()
        }
    );
    assert_eq!(diff(&before, &before), vec![]);
}

#[test]
fn wording_a_library_scale_is_a_minor_change() {
    let mut before = program();
    before.questionnaires.push(app::programs::QuestionnaireDef {
        key: "gad7".to_owned(),
        title: "GAD-7".to_owned(),
        scale: Some("gad7".to_owned()),
        instrument: None,
        item_texts: Vec::new(),
    });
    let mut after = before.clone();
    after.questionnaires[1].item_texts = vec![String::new(), "Andra frågan".to_owned()];
    let changes = diff(&before, &after);
    assert_eq!(
        whats(&changes),
        vec![&What::Edited {
            part: Part::ItemText,
            before: String::new(),
            after: "Andra frågan".to_owned()
        }]
    );
    assert!(!is_major(&changes));
    // Another scale is another instrument: major.
    after.questionnaires[1].scale = Some("phq9".to_owned());
    assert!(is_major(&diff(&before, &after)));
}

#[test]
fn a_schedule_added_or_changed_is_a_major_change() {
    use app::programs::{Schedule, ScheduleStart, UnlockRule};
    let before = program();
    let mut after = program();
    after.schedules.push(Schedule {
        key: "veckovis".to_owned(),
        questionnaire: "vecka".to_owned(),
        starts: ScheduleStart::Enrolment,
        every_days: Some(7),
        window_days: 3,
        blocking: false,
    });
    let changes = diff(&before, &after);
    assert_eq!(whats(&changes), vec![&What::Added]);
    assert_eq!(changes[0].at[0].level, Level::Schedule);
    assert!(is_major(&changes));
    let mut later = after.clone();
    later.schedules[0].window_days = 5;
    assert_eq!(
        whats(&diff(&after, &later)),
        vec![&What::Restructured {
            part: Structure::Schedule
        }]
    );
    // A module that opens on a day instead of after the one before it: when it unlocks.
    let mut days = program();
    days.modules[0].unlock = UnlockRule::AfterDays { days: 7 };
    assert!(is_major(&diff(&before, &days)));
}

#[test]
fn structure_is_a_major_change() {
    let before = program();

    // A block removed and another added, on the first page.
    let mut after = program();
    let steps = &mut after.modules[0].sections[0].steps;
    steps[0].blocks.remove(2);
    let copy = steps[0].blocks[0].clone();
    steps[1].blocks.push(copy);
    steps[1].blocks[1].key = "b9".to_owned();
    let changes = diff(&before, &after);
    // In reading order: the first page's loss, then the second page's gain.
    assert_eq!(whats(&changes), vec![&What::Removed, &What::Added]);
    assert_eq!(changes[0].at.last().map(|c| c.key.as_str()), Some("b3"));
    assert_eq!(changes[1].at.last().map(|c| c.key.as_str()), Some("b9"));
    assert!(is_major(&changes));

    // Pages in another order.
    let mut after = program();
    after.modules[0].sections[0].steps.swap(0, 1);
    assert_eq!(
        whats(&diff(&before, &after)),
        vec![
            &What::Moved { from: 2, to: 1 },
            &What::Moved { from: 1, to: 2 }
        ]
    );

    // A field's kind, an unlock rule, a condition, a band: each structural, and named.
    let mut after = program();
    if let BlockBody::Exercise { fields, .. } = block_body(&mut after, 0, 0, 1) {
        fields[0].required = false;
    }
    after.modules[1].unlock = UnlockRule::AfterPrevious;
    after.modules[1].sections[0].show_if = Some(
        serde_json::from_value(
            json!({"questionnaire": "vecka", "item": "total", "op": "at_least", "value": 1}),
        )
        .expect("condition"),
    );
    after.questionnaires[0]
        .instrument
        .as_mut()
        .expect("own form")
        .bands[0]
        .code = "god".to_owned();
    let restructured: Vec<Structure> = diff(&before, &after)
        .iter()
        .map(|c| match &c.what {
            What::Restructured { part } => *part,
            other => panic!("not structural: {other:?}"),
        })
        .collect();
    assert_eq!(
        restructured,
        vec![
            Structure::Fields,
            Structure::Unlock,
            Structure::Condition,
            Structure::Scoring
        ]
    );

    // A block that becomes another kind.
    let mut after = program();
    *block_body(&mut after, 1, 0, 0) = BlockBody::Link {
        url: "https://www.1177.se/".to_owned(),
        label: "1177".to_owned(),
    };
    assert_eq!(
        whats(&diff(&before, &after)),
        vec![&What::Restructured {
            part: Structure::Kind
        }]
    );
}

fn publication(bump: Bump, notes: &str, by: Option<i64>) -> Publication {
    Publication {
        bump,
        release_notes: notes.to_owned(),
        published_by: by,
    }
}

async fn stored(db: &sea_orm::DatabaseConnection, program_id: i64) -> Program {
    store::open_draft(db, REGION_A, program_id, &Rules::default())
        .await
        .expect("draft")
        .program
}

db_test!(a_draft_is_saved_only_on_the_revision_it_was_read_at, |db| {
    two_regions(&db).await;
    let rules = Rules::default();
    let draft = store::create(&db, REGION_A, Some(101), "  Sov bättre ", &rules)
        .await
        .expect("create");
    assert_eq!(
        (draft.revision, draft.program.title.as_str()),
        (0, "Sov bättre")
    );
    assert!(
        draft
            .problems
            .iter()
            .any(|p| p.kind == ProblemKind::EmptyProgram && p.blocking),
        "an empty program is reported, not refused, while it is a draft"
    );

    let saved = store::save(&db, REGION_A, draft.program_id, 0, program(), &rules)
        .await
        .expect("save");
    assert_eq!(saved.revision, 1);
    assert_eq!(stored(&db, draft.program_id).await, program());

    // A second editor still on revision 0: refused, and the first editor's work stays.
    let mut other = program();
    other.title = "Sov sämre".to_owned();
    match store::save(&db, REGION_A, draft.program_id, 0, other, &rules).await {
        Err(StoreError::Conflict {
            expected: 0,
            current: Some(1),
        }) => {}
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_eq!(stored(&db, draft.program_id).await, program());

    // Input no draft may hold: refused with every path, and nothing changes.
    let mut bad = program();
    bad.title = "x".repeat(201);
    *block_body(&mut bad, 1, 0, 0) = BlockBody::Link {
        url: "javascript:alert(1)".to_owned(),
        label: "Klicka".to_owned(),
    };
    bad.modules[1].key = "m1".to_owned();
    match store::save(&db, REGION_A, draft.program_id, 1, bad, &rules).await {
        Err(StoreError::Refused(problems)) => assert_eq!(
            problems
                .iter()
                .map(|p| (p.path.as_str(), &p.kind))
                .collect::<Vec<_>>(),
            vec![
                ("title", &ProblemKind::TooLong { max: 200 }),
                (
                    "modules[1]",
                    &ProblemKind::DuplicateKey {
                        key: "m1".to_owned()
                    }
                ),
                (
                    "modules[1].sections[0].steps[0].blocks[0]",
                    &ProblemKind::UnsafeLink
                ),
            ]
        ),
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(stored(&db, draft.program_id).await, program());

    // Nothing in a draft may be larger than a package may carry.
    let mut huge = program();
    for n in 0..500 {
        let mut module = huge.modules[1].clone();
        module.key = format!("x{n}");
        for (i, section) in module.sections.iter_mut().enumerate() {
            section.key = format!("x{n}-s{i}");
            for (j, step) in section.steps.iter_mut().enumerate() {
                step.key = format!("x{n}-s{i}-p{j}");
                for (k, block) in step.blocks.iter_mut().enumerate() {
                    block.key = format!("x{n}-s{i}-p{j}-b{k}");
                    block.body = BlockBody::Text {
                        markdown: "z".repeat(19_000),
                    };
                }
            }
        }
        huge.modules.push(module);
    }
    assert!(matches!(
        store::save(&db, REGION_A, draft.program_id, 1, huge, &rules).await,
        Err(StoreError::TooLarge { .. })
    ));
    assert_eq!(stored(&db, draft.program_id).await, program());
});

db_test!(two_saves_on_one_revision_one_wins, |db| {
    two_regions(&db).await;
    let rules = Rules::default();
    let draft = store::create(&db, REGION_A, None, "Sov bättre", &rules)
        .await
        .expect("create");
    let mut tasks = Vec::new();
    for n in 0..8 {
        let db = db.clone();
        let id = draft.program_id;
        tasks.push(tokio::spawn(async move {
            let mut program = program();
            program.title = format!("Version {n}");
            store::save(&db, REGION_A, id, 0, program, &Rules::default()).await
        }));
    }
    let mut won = Vec::new();
    for task in tasks {
        match task.await.expect("task") {
            Ok(saved) => won.push(saved.program.title),
            Err(StoreError::Conflict { .. }) => {}
            Err(other) => panic!("unexpected: {other:?}"),
        }
    }
    assert_eq!(won.len(), 1, "exactly one save wins");
    let now = store::open_draft(&db, REGION_A, draft.program_id, &rules)
        .await
        .expect("draft");
    assert_eq!((now.revision, now.program.title), (1, won.remove(0)));
});

db_test!(publishing_freezes_numbered_versions, |db| {
    two_regions(&db).await;
    let rules = Rules::default();
    let id = store::create(&db, REGION_A, Some(101), "Sov bättre", &rules)
        .await
        .expect("create")
        .program_id;

    // An unfinished program is not published: the report's blocking problems say why.
    match store::publish(
        &db,
        REGION_A,
        id,
        0,
        &publication(Bump::Major, "", None),
        &rules,
    )
    .await
    {
        Err(StoreError::Refused(problems)) => {
            assert_eq!(problems[0].kind, ProblemKind::EmptyProgram);
        }
        other => panic!("expected a refusal, got {other:?}"),
    }

    store::save(&db, REGION_A, id, 0, program(), &rules)
        .await
        .expect("save");
    // The publisher approves what they saw: an older revision is refused.
    assert!(matches!(
        store::publish(
            &db,
            REGION_A,
            id,
            0,
            &publication(Bump::Major, "", None),
            &rules
        )
        .await,
        Err(StoreError::Conflict { .. })
    ));
    let (draft, changes) = store::review(&db, REGION_A, id, &rules)
        .await
        .expect("diff");
    assert_eq!((draft.revision, draft.based_on), (1, None));
    assert_eq!(
        changes.iter().filter(|c| c.what == What::Added).count(),
        3,
        "two modules and a questionnaire are new"
    );
    let first = store::publish(
        &db,
        REGION_A,
        id,
        1,
        &publication(Bump::Minor, "Första", Some(101)),
        &rules,
    )
    .await
    .expect("publish");
    assert_eq!(first, VersionNumber { major: 1, minor: 0 });
    // Published: no draft is left to save into on that revision.
    assert!(matches!(
        store::save(&db, REGION_A, id, 1, program(), &rules).await,
        Err(StoreError::Conflict { current: None, .. })
    ));

    // The editor starts again from 1.0 (reading makes no draft); the first save makes it.
    // Unchanged, it is not published again.
    let draft = store::open_draft(&db, REGION_A, id, &rules)
        .await
        .expect("latest");
    assert_eq!(
        (draft.revision, &draft.program),
        (store::NEW_DRAFT, &program())
    );
    assert_eq!(draft.based_on, Some(first));
    let made = store::save(&db, REGION_A, id, store::NEW_DRAFT, program(), &rules)
        .await
        .expect("new draft");
    assert_eq!(made.revision, 0);
    // A second editor who also started from 1.0 finds the draft made.
    assert!(matches!(
        store::save(&db, REGION_A, id, store::NEW_DRAFT, program(), &rules).await,
        Err(StoreError::Conflict {
            current: Some(0),
            ..
        })
    ));
    assert!(matches!(
        store::publish(
            &db,
            REGION_A,
            id,
            0,
            &publication(Bump::Minor, "", None),
            &rules
        )
        .await,
        Err(StoreError::Unchanged)
    ));

    // A wording fix: minor.
    let mut reworded = program();
    reworded.modules[1].title = "Kvällsrutiner".to_owned();
    store::save(&db, REGION_A, id, 0, reworded.clone(), &rules)
        .await
        .expect("save");
    let minor = store::publish(
        &db,
        REGION_A,
        id,
        1,
        &publication(Bump::Minor, "Rubrik", None),
        &rules,
    )
    .await
    .expect("minor");
    assert_eq!(minor, VersionNumber { major: 1, minor: 1 });

    // A new page: a minor number is refused, with the change that needs a major one.
    let mut grown = reworded.clone();
    let mut page = grown.modules[1].sections[0].steps[0].clone();
    page.key = "p4".to_owned();
    page.blocks[0].key = "b6".to_owned();
    grown.modules[1].sections[0].steps.push(page);
    let draft = store::open_draft(&db, REGION_A, id, &rules)
        .await
        .expect("draft");
    assert_eq!(draft.revision, store::NEW_DRAFT);
    store::save(&db, REGION_A, id, draft.revision, grown.clone(), &rules)
        .await
        .expect("save");
    match store::publish(
        &db,
        REGION_A,
        id,
        0,
        &publication(Bump::Minor, "", None),
        &rules,
    )
    .await
    {
        Err(StoreError::NeedsMajor(changes)) => {
            assert_eq!(whats(&changes), vec![&What::Added]);
            assert_eq!(changes[0].at.last().map(|c| c.key.as_str()), Some("p4"));
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    let major = store::publish(
        &db,
        REGION_A,
        id,
        0,
        &publication(Bump::Major, "Ny sida", None),
        &rules,
    )
    .await
    .expect("major");
    assert_eq!(major, VersionNumber { major: 2, minor: 0 });

    // Every version stays as it was published, with the hash of its content.
    let versions = store::versions(&db, REGION_A, id).await.expect("versions");
    assert_eq!(
        versions
            .iter()
            .map(|v| (v.number.to_string(), v.status))
            .collect::<Vec<_>>(),
        vec![
            ("2.0".to_owned(), VersionStatus::Published),
            ("1.1".to_owned(), VersionStatus::Published),
            ("1.0".to_owned(), VersionStatus::Published)
        ]
    );
    for (version, content) in versions.iter().zip([&grown, &reworded, &program()]) {
        assert_eq!(
            &store::version(&db, REGION_A, id, version.number)
                .await
                .expect("version"),
            content
        );
        let canonical = store::canonical(content).expect("json");
        assert_eq!(
            version.content_hash.as_deref(),
            Some(store::content_hash(&canonical).as_str())
        );
    }
});

db_test!(another_providers_programs_are_not_found, |db| {
    two_regions(&db).await;
    let rules = Rules::default();
    let id = store::create(&db, REGION_A, None, "Sov bättre", &rules)
        .await
        .expect("create")
        .program_id;
    let sandbox = Scope {
        provider_id: 1,
        sandbox_id: Some(1),
    };
    for scope in [REGION_B, sandbox] {
        assert!(matches!(
            store::open_draft(&db, scope, id, &rules).await,
            Err(StoreError::NotFound)
        ));
        assert!(matches!(
            store::save(&db, scope, id, 0, program(), &rules).await,
            Err(StoreError::NotFound)
        ));
        assert!(matches!(
            store::publish(
                &db,
                scope,
                id,
                0,
                &publication(Bump::Major, "", None),
                &rules
            )
            .await,
            Err(StoreError::NotFound)
        ));
        assert!(matches!(
            store::versions(&db, scope, id).await,
            Err(StoreError::NotFound)
        ));
    }
    assert_eq!(stored(&db, id).await.modules.len(), 0);
});
