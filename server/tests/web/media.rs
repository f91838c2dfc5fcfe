//! Program media and packages through the real router, on both database engines: uploads
//! are checked by their content and stored in the media directory, served only to those who
//! may see the program, and a published version goes out as a package and comes back in as a
//! new program with the same content and files.

#![allow(clippy::expect_used)]

use app::auth::session::SESSION_COOKIE;
use app::db_test;
use app::programs::media::MediaStore;
use app::programs::store::{self, Scope};
use app::programs::{Block, BlockBody, Media, Program, Rules};
use app::testing::{REGION_A, REGION_B, major_publication, small_program, two_regions};
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use lotsen_server::AppState;
use sea_orm::DatabaseConnection;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::common::{patient_session, send, staff_session};

/// A PNG file: the signature and an IHDR chunk's start (enough for a type check).
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06";
const JPEG: &[u8] = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01";

fn media_dir() -> PathBuf {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).expect("random");
    let name: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    std::env::temp_dir().join(format!("lotsen-media-test-{name}"))
}

fn app(db: DatabaseConnection, media: &Path) -> Router {
    let mut state = AppState::with_defaults(db);
    state.media = MediaStore::new(media);
    crate::common::router_for(state)
}

const BOUNDARY: &str = "lotsen-test-boundary";

/// One field of a multipart form: its name, for a file its name and type, and its content.
type Part<'a> = (&'a str, Option<(&'a str, &'a str)>, &'a [u8]);

/// A multipart form.
fn multipart(fields: &[Part]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, file, content) in fields {
        write!(body, "--{BOUNDARY}\r\n").expect("write");
        match file {
            Some((file_name, mime)) => write!(
                body,
                "Content-Disposition: form-data; name=\"{name}\"; filename=\"{file_name}\"\r\n\
                 Content-Type: {mime}\r\n\r\n"
            )
            .expect("write"),
            None => write!(
                body,
                "Content-Disposition: form-data; name=\"{name}\"\r\n\r\n"
            )
            .expect("write"),
        }
        body.extend_from_slice(content);
        body.extend_from_slice(b"\r\n");
    }
    write!(body, "--{BOUNDARY}--\r\n").expect("write");
    body
}

fn post_multipart(path: &str, body: Vec<u8>, token: Option<&str>) -> Request<Body> {
    let mut request = Request::post(path)
        .header(header::HOST, "lotsen.test")
        .header(header::ORIGIN, "https://lotsen.test")
        .header("sec-fetch-site", "same-origin")
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={BOUNDARY}"),
        );
    if let Some(token) = token {
        request = request.header(header::COOKIE, format!("{SESSION_COOKIE}={token}"));
    }
    request.body(Body::from(body)).expect("request")
}

fn get(path: &str, token: Option<&str>) -> Request<Body> {
    let mut request = Request::get(path).header(header::HOST, "lotsen.test");
    if let Some(token) = token {
        request = request.header(header::COOKIE, format!("{SESSION_COOKIE}={token}"));
    }
    request.body(Body::empty()).expect("request")
}

fn upload(
    program_id: i64,
    kind: &str,
    file: (&str, &str),
    content: &[u8],
    token: Option<&str>,
) -> Request<Body> {
    post_multipart(
        "/api/upload_media",
        multipart(&[
            ("program_id", None, program_id.to_string().as_bytes()),
            ("kind", None, kind.as_bytes()),
            ("file", Some(file), content),
        ]),
        token,
    )
}

fn files_in(dir: &Path) -> usize {
    std::fs::read_dir(dir).map(|d| d.count()).unwrap_or(0)
}

use app::testing::number as count;

/// The small program with an image block showing `media` on its first page.
fn with_image(title: &str, media: Media) -> Program {
    let mut program = small_program(title);
    program.modules[0].sections[0].steps[0].blocks.push(Block {
        key: "bild".to_owned(),
        show_if: None,
        body: BlockBody::Image {
            media,
            alt: "En säng i ett mörkt rum".to_owned(),
            caption: None,
        },
    });
    program
}

async fn new_program(db: &DatabaseConnection, scope: Scope, title: &str) -> i64 {
    store::create(db, scope, None, title, &Rules::default())
        .await
        .expect("program")
        .program_id
}

db_test!(uploads_are_checked_by_content_and_stored, |db| {
    two_regions(&db).await;
    let dir = media_dir();
    let router = app(db.clone(), &dir);
    let producer = staff_session(&db, 107, 307).await;
    let id = new_program(&db, REGION_A, "Bilder").await;

    // A real PNG is stored, under a new name, in the program's folder.
    let stored = send(
        &router,
        upload(id, "image", ("säng.png", "image/png"), PNG, Some(&producer)),
    )
    .await;
    assert_eq!(stored.status, StatusCode::OK, "{}", stored.text());
    let media: Media = serde_json::from_slice(&stored.bytes).expect("media");
    let Media::File { path, mime, bytes } = media.clone() else {
        panic!("not a file: {media:?}");
    };
    assert_eq!((mime.as_str(), bytes), ("image/png", PNG.len() as u64));
    assert!(path.ends_with(".png") && !path.contains("säng"), "{path}");
    let folder = dir.join(format!("p{id}"));
    assert_eq!(std::fs::read(folder.join(&path)).expect("stored"), PNG);

    // Files that are not what they claim, or not what the block shows, are refused, and
    // nothing is written.
    for (kind, file, content, reason) in [
        (
            "image",
            ("virus.png", "image/png"),
            &b"MZ\x90\x00 not a picture"[..],
            "type",
        ),
        ("image", ("foto.png", "image/png"), JPEG, "mismatch"),
        ("audio", ("ljud.mp3", "audio/mpeg"), PNG, "type"),
        ("image", ("tom.png", "image/png"), &b""[..], "empty"),
    ] {
        let refused = send(&router, upload(id, kind, file, content, Some(&producer))).await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{kind} {file:?}: {}",
            refused.text()
        );
        assert!(
            refused.text().contains(reason),
            "{reason}: {}",
            refused.text()
        );
    }
    let unknown_kind = send(
        &router,
        upload(
            id,
            "pdf",
            ("a.pdf", "application/pdf"),
            b"%PDF-1.7",
            Some(&producer),
        ),
    )
    .await;
    assert_eq!(unknown_kind.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(files_in(&folder), 1);

    // Only the program's own producers upload to it.
    let other_region = new_program(&db, REGION_B, "Grannens").await;
    let publisher = staff_session(&db, 108, 308).await;
    for (program, token, expected) in [
        (other_region, Some(producer.as_str()), StatusCode::NOT_FOUND),
        (id, Some(publisher.as_str()), StatusCode::FORBIDDEN),
        (id, None, StatusCode::UNAUTHORIZED),
    ] {
        let answer = send(
            &router,
            upload(program, "image", ("b.png", "image/png"), PNG, token),
        )
        .await;
        assert_eq!(answer.status, expected, "{}", answer.text());
    }
    assert_eq!(files_in(&dir.join(format!("p{other_region}"))), 0);
    assert_eq!(files_in(&folder), 1);

    // A second `program_id` after the owned one does not carry the file into another region's
    // program: each field counts once, and a repeated one refuses the whole upload.
    for fields in [
        vec![
            ("program_id", None, id.to_string().into_bytes()),
            ("program_id", None, other_region.to_string().into_bytes()),
            ("kind", None, b"image".to_vec()),
            ("file", Some(("c.png", "image/png")), PNG.to_vec()),
        ],
        vec![
            ("program_id", None, id.to_string().into_bytes()),
            ("kind", None, b"image".to_vec()),
            ("file", Some(("c.png", "image/png")), PNG.to_vec()),
            ("program_id", None, other_region.to_string().into_bytes()),
        ],
    ] {
        let parts: Vec<Part> = fields
            .iter()
            .map(|(name, file, content)| (*name, *file, content.as_slice()))
            .collect();
        let answer = send(
            &router,
            post_multipart("/api/upload_media", multipart(&parts), Some(&producer)),
        )
        .await;
        assert_eq!(
            answer.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            answer.text()
        );
        assert!(answer.text().contains("repeated"), "{}", answer.text());
    }
    assert_eq!(files_in(&dir.join(format!("p{other_region}"))), 0);
    assert_eq!(files_in(&folder), 1);

    // A draft may show the uploaded file; a file the program does not have is refused.
    let save = |program: Program, revision: i32| {
        let body =
            serde_json::json!({ "program_id": id, "revision": revision, "program": program });
        Request::post("/api/save_program_draft")
            .header(header::HOST, "lotsen.test")
            .header(header::ORIGIN, "https://lotsen.test")
            .header("sec-fetch-site", "same-origin")
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::COOKIE, format!("{SESSION_COOKIE}={producer}"))
            .body(Body::from(body.to_string()))
            .expect("request")
    };
    let made_up = Media::File {
        path: "finns-inte.png".to_owned(),
        mime: "image/png".to_owned(),
        bytes: 100,
    };
    let refused = send(&router, save(with_image("Bilder", made_up), 0)).await;
    assert!(
        refused.text().contains("media_missing"),
        "{}",
        refused.text()
    );
    let wrong_size = Media::File {
        path: path.clone(),
        mime: "image/png".to_owned(),
        bytes: 3,
    };
    let refused = send(&router, save(with_image("Bilder", wrong_size), 0)).await;
    assert!(
        refused.text().contains("media_missing"),
        "{}",
        refused.text()
    );
    let saved = send(&router, save(with_image("Bilder", media), 0)).await;
    assert!(saved.text().starts_with("{\"Saved\""), "{}", saved.text());

    // Served to the program's own staff, with ranges; to nobody else.
    let url = format!("/media/{id}/{path}");
    let served = send(&router, get(&url, Some(&producer))).await;
    assert_eq!(served.status, StatusCode::OK);
    assert_eq!(served.bytes, PNG);
    assert_eq!(served.headers[header::CONTENT_TYPE], "image/png");
    assert!(
        served.headers[header::CACHE_CONTROL]
            .to_str()
            .expect("header")
            .starts_with("private")
    );
    // Nothing in an uploaded file ever runs, even opened on its own.
    assert_eq!(
        served.headers[header::CONTENT_SECURITY_POLICY],
        "default-src 'none'; sandbox"
    );
    assert_eq!(served.headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    let ranged = Request::get(&url)
        .header(header::COOKIE, format!("{SESSION_COOKIE}={producer}"))
        .header(header::RANGE, "bytes=0-7")
        .body(Body::empty())
        .expect("request");
    let part = send(&router, ranged).await;
    assert_eq!(part.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(part.bytes, &PNG[..8]);
    let region_b_therapist = staff_session(&db, 106, 306).await;
    let not_enrolled = patient_session(&db, 401).await;
    for (token, expected) in [
        (Some(region_b_therapist.as_str()), StatusCode::NOT_FOUND),
        (Some(not_enrolled.as_str()), StatusCode::NOT_FOUND),
        (None, StatusCode::UNAUTHORIZED),
    ] {
        assert_eq!(send(&router, get(&url, token)).await.status, expected);
    }
    for sneaky in [
        format!("/media/{id}/..%2F..%2Fetc%2Fpasswd"),
        format!("/media/{id}/.{path}"),
        format!("/media/{id}/{path}.txt"),
    ] {
        let answer = send(&router, get(&sneaky, Some(&producer))).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{sneaky}");
    }
    let _ = std::fs::remove_dir_all(&dir);
});

/// Uploads `picture` to the program, saves a draft that shows it, and publishes it as 1.0:
/// what the package tests export. Returns the file and the program.
async fn published_with_picture(
    db: &DatabaseConnection,
    router: &Router,
    producer: &str,
    id: i64,
    title: &str,
    picture: &[u8],
) -> (Media, Program) {
    let stored = send(
        router,
        upload(
            id,
            "image",
            ("bild.png", "image/png"),
            picture,
            Some(producer),
        ),
    )
    .await;
    assert_eq!(stored.status, StatusCode::OK, "{}", stored.text());
    let media: Media = serde_json::from_slice(&stored.bytes).expect("media");
    let program = with_image(title, media.clone());
    let rules = Rules::default();
    store::save(db, REGION_A, id, 0, program.clone(), &rules)
        .await
        .expect("saved");
    store::publish(db, REGION_A, id, 1, &major_publication(), &rules)
        .await
        .expect("published");
    (media, program)
}

db_test!(
    a_version_goes_out_as_a_package_and_comes_back_as_a_new_program,
    |db| {
        two_regions(&db).await;
        let dir = media_dir();
        let router = app(db.clone(), &dir);
        let producer = staff_session(&db, 107, 307).await;
        let publisher = staff_session(&db, 108, 308).await;
        let id = new_program(&db, REGION_A, "Sov gott").await;
        let (media, program) =
            published_with_picture(&db, &router, &producer, id, "Sov gott", PNG).await;
        let rules = Rules::default();

        // Exported by the program's producers and publishers, as a download.
        let exported = send(
            &router,
            get(&format!("/program/{id}/paket/1.0"), Some(&publisher)),
        )
        .await;
        assert_eq!(exported.status, StatusCode::OK, "{}", exported.text());
        assert_eq!(exported.headers[header::CONTENT_TYPE], "application/zip");
        assert_eq!(
            exported.headers[header::CONTENT_DISPOSITION],
            "attachment; filename=\"sov-gott-1.0.lotsen.zip\""
        );
        let region_b_therapist = staff_session(&db, 106, 306).await;
        for (path, token, expected) in [
            (
                format!("/program/{id}/paket/1.0"),
                None,
                StatusCode::UNAUTHORIZED,
            ),
            (
                format!("/program/{id}/paket/1.0"),
                Some(region_b_therapist.as_str()),
                StatusCode::FORBIDDEN,
            ),
            (
                format!("/program/{id}/paket/2.0"),
                Some(publisher.as_str()),
                StatusCode::NOT_FOUND,
            ),
            (
                format!("/program/{id}/paket/x"),
                Some(publisher.as_str()),
                StatusCode::NOT_FOUND,
            ),
        ] {
            assert_eq!(
                send(&router, get(&path, token)).await.status,
                expected,
                "{path}"
            );
        }

        // Imported by a producer: a new program, its draft the same program, its files copied.
        let programs_before = count(&db, "SELECT COUNT(*) FROM program").await;
        let imported = send(
            &router,
            post_multipart(
                "/program/importera",
                multipart(&[(
                    "package",
                    Some(("sov-gott-1.0.lotsen.zip", "application/zip")),
                    &exported.bytes,
                )]),
                Some(&producer),
            ),
        )
        .await;
        assert_eq!(
            imported.status,
            StatusCode::SEE_OTHER,
            "{}",
            imported.text()
        );
        let location = imported.headers[header::LOCATION]
            .to_str()
            .expect("location");
        let new_id: i64 = location
            .strip_prefix("/program/")
            .and_then(|n| n.parse().ok())
            .expect("the new program's editor");
        assert_ne!(new_id, id);
        let draft = store::open_draft(&db, REGION_A, new_id, &rules)
            .await
            .expect("draft");
        assert_eq!(draft.program, program);
        let Media::File { path, .. } = media else {
            panic!("a file")
        };
        assert_eq!(
            std::fs::read(dir.join(format!("p{new_id}")).join(&path)).expect("copied"),
            PNG
        );

        // Published and exported again, it is the same package, byte for byte.
        store::publish(&db, REGION_A, new_id, 0, &major_publication(), &rules)
            .await
            .expect("published");
        let again = send(
            &router,
            get(&format!("/program/{new_id}/paket/1.0"), Some(&producer)),
        )
        .await;
        assert_eq!(again.body, exported.body);

        // Hostile or broken packages: the program list again, with every reason; nothing made.
        let mut evil = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default();
        evil.start_file("../../etc/cron.d/evil", options)
            .expect("zip");
        evil.write_all(b"* * * * * root rm -rf /").expect("zip");
        evil.start_file("lotsen-program.json", options)
            .expect("zip");
        evil.write_all(br#"{"format":"lotsen-program","format_version":99}"#)
            .expect("zip");
        let evil = evil.finish().expect("zip").into_inner();
        for (content, expected) in [
            (
                evil,
                vec![
                    "<code>../../etc/cron.d/evil</code>",
                    "Filnamnet pekar ut ur paketet och är inte tillåtet.",
                    "Paketet har en formatversion som den här Lotsen inte läser.",
                    "version 99",
                ],
            ),
            (
                b"not a zip at all".to_vec(),
                vec![
                    "Filen är inte ett läsbart zip-arkiv.",
                    "not a readable zip archive",
                ],
            ),
        ] {
            let refused = send(
                &router,
                post_multipart(
                    "/program/importera",
                    multipart(&[("package", Some(("p.zip", "application/zip")), &content)]),
                    Some(&producer),
                ),
            )
            .await;
            assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
            let page = refused.text();
            assert!(page.contains("Paketet importerades inte"), "{page}");
            // Whole, as it reads without JavaScript: no placeholder waiting for a script.
            assert!(!page.contains("Hämtar…"), "{page}");
            for reason in expected {
                assert!(page.contains(reason), "{reason}: {page}");
            }
        }
        assert_eq!(
            count(&db, "SELECT COUNT(*) FROM program").await,
            programs_before + 1
        );

        // Only producers import.
        let by_publisher = send(
            &router,
            post_multipart(
                "/program/importera",
                multipart(&[(
                    "package",
                    Some(("p.zip", "application/zip")),
                    &exported.bytes,
                )]),
                Some(&publisher),
            ),
        )
        .await;
        assert_eq!(by_publisher.status, StatusCode::FORBIDDEN);
        assert_eq!(
            count(&db, "SELECT COUNT(*) FROM program").await,
            programs_before + 1
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
);

db_test!(demo_visitors_upload_small_files_and_few, |db| {
    let dir = media_dir();
    let router = app(db.clone(), &dir);
    let entered = send(
        &router,
        Request::post("/demo/start")
            .header(header::HOST, "lotsen.test")
            .header(header::ORIGIN, "https://lotsen.test")
            .header("sec-fetch-site", "same-origin")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from("persona=producer"))
            .expect("request"),
    )
    .await;
    let cookie = entered.headers[header::SET_COOKIE]
        .to_str()
        .expect("ascii")
        .to_owned();
    let token = cookie
        .strip_prefix(&format!("{SESSION_COOKIE}="))
        .and_then(|rest| rest.split(';').next())
        .expect("a demo session")
        .to_owned();
    let home = send(
        &router,
        Request::post("/api/my_programs")
            .header(header::HOST, "lotsen.test")
            .header(header::ORIGIN, "https://lotsen.test")
            .header("sec-fetch-site", "same-origin")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::COOKIE, format!("{SESSION_COOKIE}={token}"))
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    let home: app::design::DesignHome = serde_json::from_slice(&home.bytes).expect("home");
    let id = home.programs[0].id;
    let gif = |bytes: usize| {
        let mut content = b"GIF89a".to_vec();
        content.resize(bytes, 0);
        content
    };

    // At most 1 MiB a file ...
    let large = send(
        &router,
        upload(
            id,
            "image",
            ("stor.gif", "image/gif"),
            &gif((1 << 20) + 1),
            Some(&token),
        ),
    )
    .await;
    assert_eq!(large.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(large.text().contains("too_large"), "{}", large.text());
    // ... and 10 files in all the sandbox's programs.
    let other = home.programs[1].id;
    for n in 0..10 {
        let program = if n % 2 == 0 { id } else { other };
        let stored = send(
            &router,
            upload(
                program,
                "image",
                ("liten.gif", "image/gif"),
                &gif(1 << 20),
                Some(&token),
            ),
        )
        .await;
        assert_eq!(stored.status, StatusCode::OK, "file {n}: {}", stored.text());
    }
    let one_more = send(
        &router,
        upload(
            id,
            "image",
            ("en-till.gif", "image/gif"),
            &gif(100),
            Some(&token),
        ),
    )
    .await;
    assert_eq!(one_more.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(one_more.text().contains("too_many"), "{}", one_more.text());
    assert_eq!(
        files_in(&dir.join(format!("p{id}"))) + files_in(&dir.join(format!("p{other}"))),
        10
    );
    let _ = std::fs::remove_dir_all(&dir);
});

db_test!(
    a_package_larger_than_two_mib_imports_and_only_producers_send_one,
    |db| {
        two_regions(&db).await;
        let dir = media_dir();
        let router = app(db.clone(), &dir);
        let producer = staff_session(&db, 107, 307).await;
        let publisher = staff_session(&db, 108, 308).await;
        let id = new_program(&db, REGION_A, "Stor bild").await;
        // A 3 MiB picture that does not compress (a PNG's signature, then noise).
        let mut picture = PNG.to_vec();
        let mut noise = vec![0u8; 3 << 20];
        getrandom::fill(&mut noise).expect("random");
        picture.extend_from_slice(&noise);
        published_with_picture(&db, &router, &producer, id, "Stor bild", &picture).await;
        let exported = send(
            &router,
            get(&format!("/program/{id}/paket/1.0"), Some(&publisher)),
        )
        .await;
        assert_eq!(exported.status, StatusCode::OK);
        assert!(
            exported.body.len() > 3 << 20,
            "{} bytes",
            exported.body.len()
        );
        let form = |token: &str| {
            post_multipart(
                "/program/importera",
                multipart(&[(
                    "package",
                    Some(("stor-bild-1.0.lotsen.zip", "application/zip")),
                    &exported.bytes,
                )]),
                Some(token),
            )
        };
        let programs = || count(&db, "SELECT COUNT(*) FROM program");
        let before = programs().await;
        // A publisher is refused before the upload is read, and nothing is made.
        let refused = send(&router, form(&publisher)).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text());
        assert_eq!(programs().await, before);
        let imported = send(&router, form(&producer)).await;
        assert_eq!(
            imported.status,
            StatusCode::SEE_OTHER,
            "{}",
            imported.text()
        );
        assert_eq!(programs().await, before + 1);
        let _ = std::fs::remove_dir_all(&dir);
    }
);
