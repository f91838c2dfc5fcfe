//! Who may do what, through the real router and middleware, on both database engines:
//! the authorization matrix over every server function, sessions and their limits, the
//! same-origin rule, the access log and its verification, and demo sandbox isolation.

#![allow(clippy::expect_used)]

use app::auth::session::{self, SESSION_COOKIE, SessionConfig, Subject};
use app::db_test;
use axum::Router;
use axum::body::{Body, to_bytes};
use axum::http::{HeaderMap, Request, StatusCode, header};
use lotsen_server::limits::{LimitConfig, Limits, Rate};
use lotsen_server::{AppState, router};
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use std::collections::BTreeSet;
use tower::ServiceExt;

fn app(db: DatabaseConnection) -> Router {
    router(AppState::with_defaults(db))
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

async fn send(router: &Router, request: Request<Body>) -> Answer {
    let response = router.clone().oneshot(request).await.expect("infallible");
    let status = response.status();
    let headers = response.headers().clone();
    let body = to_bytes(response.into_body(), 4 << 20).await.expect("body");
    Answer {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

const MULTIPART_BOUNDARY: &str = "lotsen-matrix-boundary";

/// A POST as a browser sends it from one of our pages: same-origin, with the session cookie.
fn post(path: &str, body: String, token: Option<&str>) -> Request<Body> {
    let mut request = Request::post(path)
        .header(header::HOST, "lotsen.test")
        .header(header::ORIGIN, "https://lotsen.test")
        .header("sec-fetch-site", "same-origin")
        .header(
            header::CONTENT_TYPE,
            if body.starts_with('{') {
                "application/json".to_owned()
            } else if body.starts_with(&format!("--{MULTIPART_BOUNDARY}")) {
                format!("multipart/form-data; boundary={MULTIPART_BOUNDARY}")
            } else {
                "application/x-www-form-urlencoded".to_owned()
            },
        );
    if let Some(token) = token {
        request = request.header(header::COOKIE, format!("{SESSION_COOKIE}={token}"));
    }
    request.body(Body::from(body)).expect("request")
}

use app::testing::number as count;

use app::testing::two_regions as world;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Caller {
    Anonymous,
    Patient,
    Therapist,
    TherapistWithoutCareAssignment,
    AccessAdministrator,
    CareProviderAdministrator,
    Auditor,
    Producer,
    Publisher,
}

const CALLERS: [Caller; 9] = [
    Caller::Anonymous,
    Caller::Patient,
    Caller::Therapist,
    Caller::TherapistWithoutCareAssignment,
    Caller::AccessAdministrator,
    Caller::CareProviderAdministrator,
    Caller::Auditor,
    Caller::Producer,
    Caller::Publisher,
];

fn subject(caller: Caller) -> Option<Subject> {
    let staff = |person, assignment| Subject::Staff {
        staff_person_id: person,
        assignment_id: Some(assignment),
    };
    match caller {
        Caller::Anonymous => None,
        Caller::Patient => Some(Subject::Patient { patient_id: 401 }),
        Caller::Therapist => Some(staff(101, 301)),
        Caller::TherapistWithoutCareAssignment => Some(staff(102, 302)),
        Caller::AccessAdministrator => Some(staff(103, 303)),
        Caller::CareProviderAdministrator => Some(staff(104, 304)),
        Caller::Auditor => Some(staff(105, 305)),
        Caller::Producer => Some(staff(107, 307)),
        Caller::Publisher => Some(staff(108, 308)),
    }
}

async fn sign_in(db: &DatabaseConnection, caller: Caller) -> Option<String> {
    let subject = subject(caller)?;
    Some(
        session::create(db, &SessionConfig::default(), subject, None, None, None)
            .await
            .expect("session"),
    )
}

/// The object a call is about, relative to the therapist at unit A1 and the patient 401.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Object {
    None,
    /// The patient's own record / the caller's own other session.
    Own,
    SameUnit,
    OtherUnit,
    OtherRegion,
    /// Another user's session.
    OtherUser,
}

const A: u16 = 200; // allowed
const U: u16 = 401; // not signed in
const D: u16 = 403; // denied
const N: u16 = 404; // not found

/// Every server function × object × caller (in the order of CALLERS).
const MATRIX: &[(&str, Object, [u16; 9])] = &[
    (
        "service_overview",
        Object::None,
        [A, A, A, A, A, A, A, A, A],
    ),
    ("whoami", Object::None, [A, A, A, A, A, A, A, A, A]),
    ("login_choices", Object::None, [A, A, A, A, A, A, A, A, A]),
    ("my_sessions", Object::None, [U, A, A, A, A, A, A, A, A]),
    ("end_session", Object::Own, [U, A, A, A, A, A, A, A, A]),
    (
        "end_session",
        Object::OtherUser,
        [U, N, N, N, N, N, N, N, N],
    ),
    ("my_care", Object::None, [U, A, D, D, D, D, D, D, D]),
    (
        "who_read_my_data",
        Object::None,
        [U, A, D, D, D, D, D, D, D],
    ),
    ("unit_patients", Object::None, [U, D, A, D, D, D, D, D, D]),
    ("patient_record", Object::Own, [U, D, A, D, D, D, D, D, D]),
    (
        "patient_record",
        Object::SameUnit,
        [U, D, A, D, D, D, D, D, D],
    ),
    (
        "patient_record",
        Object::OtherUnit,
        [U, D, D, D, D, D, D, D, D],
    ),
    (
        "patient_record",
        Object::OtherRegion,
        [U, D, N, D, D, D, D, D, D],
    ),
    ("audit_search", Object::None, [U, D, D, D, D, D, A, D, D]),
    ("unit_staff", Object::None, [U, D, D, D, A, D, D, D, D]),
    ("grant_role", Object::SameUnit, [U, D, D, D, A, D, D, D, D]),
    (
        "grant_role",
        Object::OtherRegion,
        [U, D, D, D, N, D, D, D, D],
    ),
    ("revoke_role", Object::SameUnit, [U, D, D, D, A, D, D, D, D]),
    (
        "revoke_role",
        Object::OtherRegion,
        [U, D, D, D, N, D, D, D, D],
    ),
    ("provider_units", Object::None, [U, D, D, D, D, A, D, D, D]),
    (
        "set_unit_active",
        Object::SameUnit,
        [U, D, D, D, D, A, D, D, D],
    ),
    (
        "set_unit_active",
        Object::OtherRegion,
        [U, D, D, D, D, N, D, D, D],
    ),
    (
        "appoint_access_admin",
        Object::SameUnit,
        [U, D, D, D, D, A, D, D, D],
    ),
    (
        "appoint_access_admin",
        Object::OtherRegion,
        [U, D, D, D, D, N, D, D, D],
    ),
    (
        "remove_access_admin",
        Object::SameUnit,
        [U, D, D, D, D, A, D, D, D],
    ),
    (
        "remove_access_admin",
        Object::OtherRegion,
        [U, D, D, D, D, N, D, D, D],
    ),
    ("my_programs", Object::None, [U, D, D, D, D, D, D, A, A]),
    ("create_program", Object::None, [U, D, D, D, D, D, D, A, D]),
    (
        "program_draft",
        Object::SameUnit,
        [U, D, D, D, D, D, D, A, D],
    ),
    (
        "program_draft",
        Object::OtherRegion,
        [U, D, D, D, D, D, D, N, D],
    ),
    (
        "save_program_draft",
        Object::SameUnit,
        [U, D, D, D, D, D, D, A, D],
    ),
    (
        "save_program_draft",
        Object::OtherRegion,
        [U, D, D, D, D, D, D, N, D],
    ),
    (
        "upload_media",
        Object::SameUnit,
        [U, D, D, D, D, D, D, A, D],
    ),
    (
        "upload_media",
        Object::OtherRegion,
        [U, D, D, D, D, D, D, N, D],
    ),
    (
        "review_program",
        Object::SameUnit,
        [U, D, D, D, D, D, D, A, A],
    ),
    (
        "review_program",
        Object::OtherRegion,
        [U, D, D, D, D, D, D, N, N],
    ),
    (
        "publish_program",
        Object::SameUnit,
        [U, D, D, D, D, D, D, D, A],
    ),
    (
        "publish_program",
        Object::OtherRegion,
        [U, D, D, D, D, D, D, D, N],
    ),
    (
        "program_partners",
        Object::SameUnit,
        [U, D, D, D, D, D, D, D, A],
    ),
    (
        "program_partners",
        Object::OtherRegion,
        [U, D, D, D, D, D, D, D, N],
    ),
    (
        "share_program",
        Object::SameUnit,
        [U, D, D, D, D, D, D, D, A],
    ),
    (
        "share_program",
        Object::OtherRegion,
        [U, D, D, D, D, D, D, D, N],
    ),
    (
        "unpublish_version",
        Object::SameUnit,
        [U, D, D, D, D, D, D, D, A],
    ),
    (
        "unpublish_version",
        Object::OtherRegion,
        [U, D, D, D, D, D, D, D, N],
    ),
    ("catalogue", Object::None, [U, D, D, D, D, A, D, D, D]),
    (
        "activate_program",
        Object::SameUnit,
        [U, D, D, D, D, A, D, D, D],
    ),
    (
        "activate_program",
        Object::OtherRegion,
        [U, D, D, D, D, N, D, D, D],
    ),
    (
        "deactivate_program",
        Object::SameUnit,
        [U, D, D, D, D, A, D, D, D],
    ),
    (
        "deactivate_program",
        Object::OtherRegion,
        [U, D, D, D, D, N, D, D, D],
    ),
    (
        "upgrade_enrolments",
        Object::SameUnit,
        [U, D, D, D, D, A, D, D, D],
    ),
    (
        "upgrade_enrolments",
        Object::OtherRegion,
        [U, D, D, D, D, N, D, D, D],
    ),
];

/// A fresh grant to revoke.
async fn grant_row(
    db: &DatabaseConnection,
    staff: i64,
    provider: i64,
    unit: i64,
    role: &str,
) -> i64 {
    db.execute_unprepared(&format!(
        "INSERT INTO staff_role (staff_person_id, care_provider_id, care_unit_id, role, granted_at) \
         VALUES ({staff}, {provider}, {unit}, '{role}', CURRENT_TIMESTAMP)"
    ))
    .await
    .expect("grant");
    count(db, "SELECT MAX(id) FROM staff_role").await
}

/// A fresh program with a draft ready to publish, in region A (same unit) or region B.
const V1_0: app::programs::version::VersionNumber =
    app::programs::version::VersionNumber { major: 1, minor: 0 };

async fn program_arguments(
    db: &DatabaseConnection,
    function: &str,
    object: Object,
) -> Option<String> {
    use app::programs::{Rules, store};
    const PROGRAM_FUNCTIONS: [&str; 14] = [
        "my_programs",
        "create_program",
        "program_draft",
        "save_program_draft",
        "upload_media",
        "review_program",
        "publish_program",
        "program_partners",
        "share_program",
        "unpublish_version",
        "catalogue",
        "activate_program",
        "deactivate_program",
        "upgrade_enrolments",
    ];
    if !PROGRAM_FUNCTIONS.contains(&function) {
        return None;
    }
    let provider_id = match object {
        Object::SameUnit => 1,
        Object::OtherRegion => 2,
        _ => {
            return match function {
                "create_program" => Some("title=Nytt+program".to_owned()),
                _ => Some(String::new()),
            };
        }
    };
    let scope = store::Scope {
        provider_id,
        sandbox_id: None,
    };
    let rules = Rules::default();
    let id = store::create(db, scope, None, "Program", &rules)
        .await
        .expect("program")
        .program_id;
    let program = app::testing::small_program("Program");
    store::save(db, scope, id, 0, program.clone(), &rules)
        .await
        .expect("draft");
    // The catalogue's functions work on a published version (1.0), and, for the care-provider
    // administrator of region A, on a unit of region A or B.
    let unit = if provider_id == 1 { 11 } else { 21 };
    if [
        "unpublish_version",
        "activate_program",
        "deactivate_program",
        "upgrade_enrolments",
    ]
    .contains(&function)
    {
        let publication = app::testing::major_publication();
        store::publish(db, scope, id, 1, &publication, &rules)
            .await
            .expect("publish");
    }
    if function == "deactivate_program" || function == "upgrade_enrolments" {
        app::catalogue::store::activate(db, scope, id, V1_0, unit, None)
            .await
            .expect("activate");
        let activation = count(db, "SELECT MAX(id) FROM program_activation").await;
        return Some(format!("activation_id={activation}"));
    }
    Some(match function {
        "share_program" => format!("program_id={id}&provider_id={}&share=true", 3 - provider_id),
        "unpublish_version" => format!("program_id={id}&major=1&minor=0"),
        // Region B's program is not shared with region A: not found, even on A's own unit.
        "activate_program" => format!("program_id={id}&version=1.0&unit_id=11"),
        "save_program_draft" => serde_json::json!({
            "program_id": id,
            "revision": 1,
            "program": program,
        })
        .to_string(),
        "publish_program" => {
            format!("program_id={id}&revision=1&bump=major&release_notes=F%C3%B6rsta")
        }
        // A GIF is plain ASCII at its start: the whole form fits in a string.
        "upload_media" => format!(
            "--{MULTIPART_BOUNDARY}\r\nContent-Disposition: form-data; name=\"program_id\"\r\n\r\n{id}\r\n\
             --{MULTIPART_BOUNDARY}\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\nimage\r\n\
             --{MULTIPART_BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.gif\"\r\n\
             Content-Type: image/gif\r\n\r\nGIF89a\x01\x00\x01\x00\r\n--{MULTIPART_BOUNDARY}--\r\n"
        ),
        _ => format!("program_id={id}"),
    })
}

async fn arguments(
    db: &DatabaseConnection,
    function: &str,
    caller: Caller,
    object: Object,
) -> String {
    if let Some(arguments) = program_arguments(db, function, object).await {
        return arguments;
    }
    match (function, object) {
        // A role the therapist's clinical role already implies: later rows stay as they are.
        ("grant_role", Object::SameUnit) => {
            return "staff_person_id=101&role=patient_admin".to_owned();
        }
        ("grant_role", Object::OtherRegion) => {
            return "staff_person_id=106&role=producer".to_owned();
        }
        ("revoke_role", Object::SameUnit) => {
            return format!(
                "grant_id={}",
                grant_row(db, 101, 1, 11, "patient_admin").await
            );
        }
        ("revoke_role", Object::OtherRegion) => {
            return format!("grant_id={}", grant_row(db, 106, 2, 21, "producer").await);
        }
        // Opening an open unit changes nothing that later rows depend on.
        ("set_unit_active", Object::SameUnit) => return "unit_id=12&active=true".to_owned(),
        ("set_unit_active", Object::OtherRegion) => return "unit_id=21&active=true".to_owned(),
        ("appoint_access_admin", Object::SameUnit) => {
            return "unit_id=11&staff_person_id=102".to_owned();
        }
        ("appoint_access_admin", Object::OtherRegion) => {
            return "unit_id=21&staff_person_id=106".to_owned();
        }
        ("remove_access_admin", Object::SameUnit) => {
            return format!(
                "grant_id={}",
                grant_row(db, 102, 1, 12, "access_admin").await
            );
        }
        ("remove_access_admin", Object::OtherRegion) => {
            return format!(
                "grant_id={}",
                grant_row(db, 106, 2, 21, "access_admin").await
            );
        }
        _ => {}
    }
    match object {
        Object::None => String::new(),
        Object::Own => match subject(caller) {
            // A second session of the same user, to end.
            Some(subject) => {
                let token =
                    session::create(db, &SessionConfig::default(), subject, None, None, None)
                        .await
                        .expect("session");
                let id = count(
                    db,
                    &format!(
                        "SELECT id FROM user_session WHERE token_hash = '{}'",
                        session::hash_token(&token)
                    ),
                )
                .await;
                format!("session_id={id}&patient_id=401")
            }
            None => "session_id=1&patient_id=401".to_owned(),
        },
        Object::SameUnit => "patient_id=402".to_owned(),
        Object::OtherUnit => "patient_id=403".to_owned(),
        Object::OtherRegion => "patient_id=404".to_owned(),
        Object::OtherUser => {
            let token = session::create(
                db,
                &SessionConfig::default(),
                Subject::Patient { patient_id: 404 },
                None,
                None,
                None,
            )
            .await
            .expect("session");
            let id = count(
                db,
                &format!(
                    "SELECT id FROM user_session WHERE token_hash = '{}'",
                    session::hash_token(&token)
                ),
            )
            .await;
            format!("session_id={id}")
        }
    }
}

db_test!(authorization_matrix_covers_every_server_function, |db| {
    world(&db).await;
    // Every cell comes from one address: more than its write limit allows (tested below).
    let router = limited_app(
        db.clone(),
        LimitConfig {
            writes_per_address: Rate {
                per_minute: 600,
                burst: 10_000,
            },
            ..LimitConfig::default()
        },
    );

    // Every registered server function has rows in the matrix, and every row names one.
    let registered: BTreeSet<String> = leptos::server_fn::axum::server_fn_paths()
        .map(|(path, _)| path.trim_start_matches("/api/").to_owned())
        .collect();
    let covered: BTreeSet<String> = MATRIX.iter().map(|(f, _, _)| (*f).to_owned()).collect();
    assert_eq!(
        registered, covered,
        "server functions without a matrix row (or rows without a function)"
    );
    let policies: BTreeSet<String> = app::auth::policy::POLICY
        .iter()
        .map(|(f, _)| (*f).to_owned())
        .collect();
    assert_eq!(
        registered, policies,
        "server functions without a policy row"
    );

    let mut failures = Vec::new();
    for (function, object, expected) in MATRIX {
        for (caller, expected) in CALLERS.iter().zip(expected) {
            let token = sign_in(&db, *caller).await;
            let body = arguments(&db, function, *caller, *object).await;
            let answer = send(
                &router,
                post(&format!("/api/{function}"), body, token.as_deref()),
            )
            .await;
            if answer.status.as_u16() != *expected {
                failures.push(format!(
                    "{function} {object:?} as {caller:?}: expected {expected}, got {} {}",
                    answer.status, answer.body
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} cells wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );

    // Reads of patient data by staff were logged: allowed at A1 (401, 402, and the two listed
    // by unit_patients), refused at A2; nothing about region B.
    let allowed = count(
        &db,
        "SELECT COUNT(*) FROM access_log WHERE outcome = 'allowed' AND user_hsa_id = 'SE-101'",
    )
    .await;
    let refused = count(
        &db,
        "SELECT COUNT(*) FROM access_log WHERE outcome = 'refused' AND patient_id = 403",
    )
    .await;
    let region_b = count(
        &db,
        "SELECT COUNT(*) FROM access_log WHERE patient_id = 404",
    )
    .await;
    assert_eq!((allowed, refused, region_b), (4, 1, 0));
    let report = app::audit::verify(&db).await.expect("verify");
    assert_eq!((report.rows, report.broken), (5, None));
});

db_test!(patients_never_receive_therapist_internal_notes, |db| {
    world(&db).await;
    let router = app(db.clone());
    let patient = sign_in(&db, Caller::Patient).await;
    let own = send(
        &router,
        post("/api/my_care", String::new(), patient.as_deref()),
    )
    .await;
    assert_eq!(own.status, StatusCode::OK);
    assert!(own.body.contains("Program"), "{}", own.body);
    assert!(!own.body.contains("INTERNAL-NOTE-701"), "{}", own.body);
    let therapist = sign_in(&db, Caller::Therapist).await;
    let record = send(
        &router,
        post(
            "/api/patient_record",
            "patient_id=401".into(),
            therapist.as_deref(),
        ),
    )
    .await;
    assert!(record.body.contains("INTERNAL-NOTE-701"), "{}", record.body);

    // And the patient sees who read their data: the unit and, for a region, the name.
    let seen = send(
        &router,
        post("/api/who_read_my_data", String::new(), patient.as_deref()),
    )
    .await;
    assert!(
        seen.body.contains("Enhet A1") && seen.body.contains("Tove Terapeut"),
        "{}",
        seen.body
    );
});

db_test!(sessions_end_when_idle_too_long_or_too_old, |db| {
    world(&db).await;
    let router = app(db.clone());
    for (column, value) in [
        ("last_seen_at", "2000-01-01T00:00:00+00:00"),
        ("absolute_expiry", "2000-01-01T00:00:00+00:00"),
    ] {
        let token = sign_in(&db, Caller::Patient).await.expect("token");
        let before = send(&router, post("/api/whoami", String::new(), Some(&token))).await;
        assert!(before.body.contains("Petra Patient"), "{}", before.body);
        db.execute_unprepared(&format!(
            "UPDATE user_session SET {column} = '{value}' WHERE token_hash = '{}'",
            session::hash_token(&token)
        ))
        .await
        .expect("age the session");
        let after = send(&router, post("/api/whoami", String::new(), Some(&token))).await;
        assert!(
            after.body.contains("\"me\":null"),
            "{column}: {}",
            after.body
        );
        let cleared = after.headers.get_all(header::SET_COOKIE).iter().any(|v| {
            v.to_str()
                .is_ok_and(|v| v.starts_with(SESSION_COOKIE) && v.contains("Max-Age=0"))
        });
        assert!(
            cleared,
            "{column}: the browser is told to forget the cookie"
        );
        let rows = count(
            &db,
            &format!(
                "SELECT COUNT(*) FROM user_session WHERE token_hash = '{}'",
                session::hash_token(&token)
            ),
        )
        .await;
        assert_eq!(rows, 0, "{column}: the session is gone on the server");
    }
});

db_test!(signing_out_ends_the_session_and_clears_site_data, |db| {
    world(&db).await;
    let router = app(db.clone());
    let token = sign_in(&db, Caller::Therapist).await.expect("token");
    let out = send(&router, post("/logga-ut", String::new(), Some(&token))).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert!(
        out.headers["clear-site-data"]
            .to_str()
            .expect("ascii")
            .contains("\"cookies\"")
    );
    let again = send(
        &router,
        post("/api/unit_patients", String::new(), Some(&token)),
    )
    .await;
    assert_eq!(again.status, StatusCode::UNAUTHORIZED);
    // The session cookie is a __Host- cookie: Secure, HttpOnly, SameSite, host-only.
    let entered = send(
        &router,
        post("/demo/start", "persona=therapist".into(), None),
    )
    .await;
    let cookie = entered.headers[header::SET_COOKIE]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(cookie.starts_with("__Host-lotsen_session="), "{cookie}");
    for attribute in ["Path=/", "Secure", "HttpOnly", "SameSite=Lax"] {
        assert!(cookie.contains(attribute), "{attribute} in {cookie}");
    }
    assert!(!cookie.contains("Domain"), "{cookie}");
});

db_test!(state_changes_from_other_sites_are_refused, |db| {
    let router = app(db.clone());
    let cases: [(&[(&str, &str)], StatusCode); 5] = [
        (&[("sec-fetch-site", "cross-site")], StatusCode::FORBIDDEN),
        (&[("sec-fetch-site", "same-site")], StatusCode::FORBIDDEN),
        (&[("origin", "https://evil.test")], StatusCode::FORBIDDEN),
        (&[], StatusCode::FORBIDDEN),
        (&[("origin", "https://lotsen.test")], StatusCode::SEE_OTHER),
    ];
    for (headers, expected) in cases {
        let mut request = Request::post("/sprak")
            .header(header::HOST, "lotsen.test")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let answer = send(
            &router,
            request.body(Body::from("lang=en&next=/")).expect("request"),
        )
        .await;
        assert_eq!(answer.status, expected, "{headers:?}: {}", answer.body);
        if expected == StatusCode::FORBIDDEN {
            assert!(
                answer.headers.get(header::SET_COOKIE).is_none(),
                "nothing changed"
            );
        }
    }
    // Demo entrance and server functions follow the same rule.
    let mut request = post("/demo/start", "persona=patient".into(), None);
    request
        .headers_mut()
        .insert("sec-fetch-site", "cross-site".parse().expect("header"));
    assert_eq!(send(&router, request).await.status, StatusCode::FORBIDDEN);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM demo_sandbox").await, 0);
});

/// The therapist opens these patients' records, one after the other.
async fn read_records(router: &Router, token: Option<&str>, patients: &[i64]) {
    for patient in patients {
        send(
            router,
            post(
                "/api/patient_record",
                format!("patient_id={patient}"),
                token,
            ),
        )
        .await;
    }
}

/// Runs the real `lotsen` binary on the test database: whether it succeeded, what it printed.
fn lotsen(url: &str, args: &[&str]) -> (bool, String) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_lotsen"))
        .args(args)
        .args(["--database-url", url])
        .env("LOTSEN_LOG_FORMAT", "text")
        .output()
        .expect("run lotsen");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

db_test!(
    tampering_with_one_log_row_is_named_by_audit_verify,
    |db, url| {
        world(&db).await;
        let router = app(db.clone());
        let therapist = sign_in(&db, Caller::Therapist).await;
        read_records(&router, therapist.as_deref(), &[401, 402, 403, 401, 402]).await;
        let (ok, stdout) = lotsen(&url, &["audit", "verify"]);
        assert!(ok, "{stdout}");
        assert!(stdout.contains("5 row(s)"), "{stdout}");

        let third: i64 = count(
            &db,
            "SELECT id FROM access_log ORDER BY id LIMIT 1 OFFSET 2",
        )
        .await;
        let tamper = format!("UPDATE access_log SET outcome = 'allowed' WHERE id = {third}");
        if db.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
            // The database itself refuses; a superuser must switch the trigger off to tamper.
            assert!(db.execute_unprepared(&tamper).await.is_err());
            db.execute_unprepared("ALTER TABLE access_log DISABLE TRIGGER USER")
                .await
                .expect("disable");
        }
        db.execute_unprepared(&tamper).await.expect("tamper");
        let (ok, stdout) = lotsen(&url, &["audit", "verify"]);
        assert!(!ok, "{stdout}");
        assert!(stdout.contains(&format!("row id {third}:")), "{stdout}");
        assert!(stdout.contains("content does not match"), "{stdout}");
    }
);

db_test!(
    rows_cut_off_the_end_are_found_through_an_anchor,
    |db, url| {
        world(&db).await;
        let router = app(db.clone());
        let therapist = sign_in(&db, Caller::Therapist).await;
        read_records(&router, therapist.as_deref(), &[401, 402, 401]).await;
        let lotsen = |args: &[&str]| lotsen(&url, args);
        // The head as printed by `audit head` and by `audit verify`: the third read's row.
        let (ok, head) = lotsen(&["audit", "head"]);
        assert!(ok, "{head}");
        let anchor = head.trim().to_owned();
        let (ok, verified) = lotsen(&["audit", "verify"]);
        assert!(ok && verified.contains(&anchor), "{verified}");
        let anchored_id: i64 = anchor
            .split(':')
            .next()
            .and_then(|id| id.parse().ok())
            .expect("id");

        // More reads, then the log is cut back to before the anchored row.
        read_records(&router, therapist.as_deref(), &[402, 401]).await;
        if db.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
            db.execute_unprepared("ALTER TABLE access_log DISABLE TRIGGER USER")
                .await
                .expect("disable");
        }
        db.execute_unprepared(&format!("DELETE FROM access_log WHERE id >= {anchored_id}"))
            .await
            .expect("cut");
        // What is left still links up: without the anchor nothing shows.
        let (ok, unanchored) = lotsen(&["audit", "verify"]);
        assert!(ok, "{unanchored}");
        let (ok, anchored) = lotsen(&["audit", "verify", "--anchor", &anchor]);
        assert!(!ok, "{anchored}");
        assert!(
            anchored.contains(&format!("row id {anchored_id}:")),
            "{anchored}"
        );
        assert!(anchored.contains("cut back"), "{anchored}");
        // A malformed anchor is refused before anything is read.
        let (ok, _) = lotsen(&["audit", "verify", "--anchor", "12:nothex"]);
        assert!(!ok);
    }
);

/// Patient ids that a signed-in therapist sees in their unit's list.
async fn listed(router: &Router, token: &str) -> BTreeSet<i64> {
    let answer = send(
        router,
        post("/api/unit_patients", String::new(), Some(token)),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let list: Vec<serde_json::Value> = serde_json::from_str(&answer.body).expect("json");
    list.iter()
        .filter_map(|p| p["patient_id"].as_i64())
        .collect()
}

fn session_of(answer: &Answer) -> String {
    let cookie = answer.headers[header::SET_COOKIE].to_str().expect("ascii");
    cookie
        .strip_prefix("__Host-lotsen_session=")
        .and_then(|rest| rest.split(';').next())
        .expect("session cookie")
        .to_owned()
}

db_test!(demo_visitors_never_see_each_others_data, |db| {
    let router = app(db.clone());
    let first = send(
        &router,
        post("/demo/start", "persona=therapist".into(), None),
    )
    .await;
    let second = send(
        &router,
        post("/demo/start", "persona=therapist".into(), None),
    )
    .await;
    assert_eq!(
        (first.status, second.status),
        (StatusCode::SEE_OTHER, StatusCode::SEE_OTHER)
    );
    assert_eq!(first.headers[header::LOCATION], "/mottagning");
    let (a, b) = (session_of(&first), session_of(&second));
    let (seen_a, seen_b) = (listed(&router, &a).await, listed(&router, &b).await);
    assert_eq!(
        (seen_a.len(), seen_b.len()),
        (2, 2),
        "two patients at the demo unit"
    );
    assert!(seen_a.is_disjoint(&seen_b));
    // The other visitor's patient does not exist, as far as this visitor can tell.
    for id in &seen_b {
        let answer = send(
            &router,
            post("/api/patient_record", format!("patient_id={id}"), Some(&a)),
        )
        .await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{}", answer.body);
    }
    // Switching persona stays in the same sandbox, with a new session token.
    let switched = send(
        &router,
        post("/demo/start", "persona=patient".into(), Some(&a)),
    )
    .await;
    assert_eq!(switched.headers[header::LOCATION], "/mina-sidor");
    let patient = session_of(&switched);
    assert_ne!(patient, a);
    let old = send(&router, post("/api/whoami", String::new(), Some(&a))).await;
    assert!(
        old.body.contains("\"me\":null"),
        "the old token is dead: {}",
        old.body
    );
    let seen = send(
        &router,
        post("/api/who_read_my_data", String::new(), Some(&patient)),
    )
    .await;
    assert!(seen.body.contains("Tove Terapeut"), "{}", seen.body);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM demo_sandbox").await, 2);
    // The public figures never count demo data.
    let figures = send(&router, post("/api/service_overview", String::new(), None)).await;
    assert!(
        figures.body.contains("\"ongoing_enrolments\":0"),
        "{}",
        figures.body
    );
});

db_test!(an_expired_sandbox_leaves_no_rows, |db| {
    let tables: Vec<String> = {
        let sql = if db.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_name <> 'seaql_migrations'"
        } else {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'seaql_migrations'"
        };
        db.query_all(Statement::from_string(db.get_database_backend(), sql))
            .await
            .expect("tables")
            .iter()
            .map(|r| r.try_get_by_index::<String>(0).expect("name"))
            .collect()
    };
    assert!(tables.len() >= 32, "{tables:?}");
    let total = |db: DatabaseConnection, tables: Vec<String>| async move {
        let mut sum = 0;
        for t in &tables {
            sum += count(&db, &format!("SELECT COUNT(*) FROM {t}")).await;
        }
        sum
    };
    let before = total(db.clone(), tables.clone()).await;
    let router = app(db.clone());
    let entered = send(
        &router,
        post("/demo/start", "persona=therapist".into(), None),
    )
    .await;
    let token = session_of(&entered);
    listed(&router, &token).await;
    assert!(total(db.clone(), tables.clone()).await > before + 10);
    assert_eq!(
        app::demo::sandbox::delete_expired(&db, chrono::Utc::now())
            .await
            .expect("sweep"),
        0,
        "not yet expired"
    );
    db.execute_unprepared("UPDATE demo_sandbox SET expires_at = '2000-01-01T00:00:00+00:00'")
        .await
        .expect("expire");
    assert_eq!(
        app::demo::sandbox::delete_expired(&db, chrono::Utc::now())
            .await
            .expect("sweep"),
        1
    );
    assert_eq!(
        total(db.clone(), tables.clone()).await,
        before,
        "every row of the sandbox is gone"
    );
    let after = send(&router, post("/api/whoami", String::new(), Some(&token))).await;
    assert!(after.body.contains("\"me\":null"), "{}", after.body);
});

fn limited_app(db: DatabaseConnection, config: LimitConfig) -> Router {
    let mut state = AppState::with_defaults(db);
    state.limits = Limits::new(config);
    router(state)
}

db_test!(
    too_many_sign_ins_or_writes_get_429_and_change_nothing,
    |db| {
        world(&db).await;
        let generous = Rate {
            per_minute: 1000,
            burst: 1000,
        };
        let router = limited_app(
            db.clone(),
            LimitConfig {
                sign_in_per_address: Rate {
                    per_minute: 1,
                    burst: 3,
                },
                writes_per_address: generous,
                writes_per_user: Rate {
                    per_minute: 1,
                    burst: 5,
                },
            },
        );
        for _ in 0..3 {
            let entered = send(&router, post("/demo/start", "persona=patient".into(), None)).await;
            assert_eq!(entered.status, StatusCode::SEE_OTHER);
        }
        let refused = send(&router, post("/demo/start", "persona=patient".into(), None)).await;
        assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
        assert!(refused.body.contains("Vänta en stund"), "{}", refused.body);
        let wait: u64 = refused.headers[header::RETRY_AFTER]
            .to_str()
            .expect("ascii")
            .parse()
            .expect("seconds");
        assert!((1..=60).contains(&wait), "{wait}");
        assert_eq!(
            count(&db, "SELECT COUNT(*) FROM demo_sandbox").await,
            3,
            "no fourth sandbox"
        );

        // Per user: the sixth call in a burst is refused; another user is not affected.
        let patient = sign_in(&db, Caller::Patient).await;
        for _ in 0..5 {
            let ok = send(
                &router,
                post("/api/my_care", String::new(), patient.as_deref()),
            )
            .await;
            assert_eq!(ok.status, StatusCode::OK);
        }
        let limited = send(
            &router,
            post("/api/my_care", String::new(), patient.as_deref()),
        )
        .await;
        assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
        let other = sign_in(&db, Caller::Therapist).await;
        let fine = send(
            &router,
            post("/api/unit_patients", String::new(), other.as_deref()),
        )
        .await;
        assert_eq!(fine.status, StatusCode::OK);
    }
);

fn form(path: &str, body: &str, token: &str) -> Request<Body> {
    post(path, body.to_owned(), Some(token))
}

db_test!(
    emergency_access_needs_a_reason_is_logged_and_reaches_the_auditor,
    |db| {
        world(&db).await;
        let router = app(db.clone());
        let therapist = sign_in(&db, Caller::Therapist).await.expect("token");
        let record = |id: i64| {
            form(
                "/api/patient_record",
                &format!("patient_id={id}"),
                &therapist,
            )
        };

        // Outside the care relationship: refused until a reason is stated.
        assert_eq!(
            send(&router, record(403)).await.status,
            StatusCode::FORBIDDEN
        );
        let short = send(
            &router,
            form(
                "/mottagning/patient/403/nodatkomst",
                "reason=kort",
                &therapist,
            ),
        )
        .await;
        assert_eq!(
            short.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            short.body
        );
        assert!(short.body.contains("10–1000 tecken"), "{}", short.body);
        assert_eq!(
            send(&router, record(403)).await.status,
            StatusCode::FORBIDDEN,
            "nothing opened"
        );

        let reason = "Patienten söker akut och behandlande enhet är stängd";
        let granted = send(
            &router,
            form(
                "/mottagning/patient/403/nodatkomst",
                &format!("reason={reason}"),
                &therapist,
            ),
        )
        .await;
        assert_eq!(granted.status, StatusCode::SEE_OTHER, "{}", granted.body);
        assert_eq!(granted.headers[header::LOCATION], "/mottagning/patient/403");
        assert_eq!(send(&router, record(403)).await.status, StatusCode::OK);

        // Another region's patient stays invisible, emergency or not.
        let other = send(
            &router,
            form(
                "/mottagning/patient/404/nodatkomst",
                &format!("reason={reason}"),
                &therapist,
            ),
        )
        .await;
        assert_eq!(other.status, StatusCode::NOT_FOUND);

        let flagged = count(&db, "SELECT COUNT(*) FROM access_log WHERE patient_id = 403 AND action = 'emergency_read' AND outcome = 'allowed' AND needs_follow_up").await;
        assert_eq!(flagged, 2, "the grant and the read that followed");

        // A unit that does not allow emergency access refuses, and the attempt is logged.
        db.execute_unprepared("UPDATE care_unit SET allows_emergency_access = FALSE WHERE id = 11")
            .await
            .expect("update");
        let refused = send(
            &router,
            form(
                "/mottagning/patient/402/nodatkomst",
                &format!("reason={reason}"),
                &therapist,
            ),
        )
        .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        let logged = count(&db, "SELECT COUNT(*) FROM access_log WHERE patient_id = 402 AND action = 'emergency_read' AND outcome = 'refused'").await;
        assert_eq!(logged, 1);

        // Region B's own read never shows up for region A's auditor.
        let b = session::create(
            &db,
            &SessionConfig::default(),
            Subject::Staff {
                staff_person_id: 106,
                assignment_id: Some(306),
            },
            None,
            None,
            None,
        )
        .await
        .expect("session");
        assert_eq!(
            send(&router, form("/api/patient_record", "patient_id=404", &b))
                .await
                .status,
            StatusCode::OK
        );

        let auditor = sign_in(&db, Caller::Auditor).await.expect("token");
        let follow_up = send(
            &router,
            form("/api/audit_search", "filter[follow_up_only]=true", &auditor),
        )
        .await;
        assert_eq!(follow_up.status, StatusCode::OK, "{}", follow_up.body);
        let rows: Vec<serde_json::Value> = serde_json::from_str(&follow_up.body).expect("json");
        assert_eq!(rows.len(), 3, "{}", follow_up.body);
        assert!(
            rows.iter()
                .all(|r| r["reason"] == reason && r["needs_follow_up"] == true)
        );
        let all = send(&router, form("/api/audit_search", "", &auditor)).await;
        assert!(
            !all.body.contains("SE-106"),
            "another region's reads: {}",
            all.body
        );
        let by_user = send(
            &router,
            form(
                "/api/audit_search",
                "filter[user_hsa_id]=SE-101&filter[patient_id]=403",
                &auditor,
            ),
        )
        .await;
        let rows: Vec<serde_json::Value> = serde_json::from_str(&by_user.body).expect("json");
        assert_eq!(
            rows.len(),
            4,
            "two refused reads, the grant and the emergency read of 403: {}",
            by_user.body
        );
        let bad = send(
            &router,
            form("/api/audit_search", "filter[from]=igår", &auditor),
        )
        .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);

        // The export: the same rows as CSV, readable by spreadsheet programs.
        let csv = send(
            &router,
            Request::get("/granskning/logg.csv?uppfoljning=1")
                .header(header::HOST, "lotsen.test")
                .header(header::COOKIE, format!("{SESSION_COOKIE}={auditor}"))
                .body(Body::empty())
                .expect("request"),
        )
        .await;
        assert_eq!(csv.status, StatusCode::OK);
        assert!(
            csv.headers[header::CONTENT_TYPE]
                .to_str()
                .expect("ascii")
                .starts_with("text/csv")
        );
        assert!(csv.body.starts_with('\u{feff}'));
        assert_eq!(
            csv.body.lines().count(),
            4,
            "header and three rows: {}",
            csv.body
        );
        assert!(csv.body.contains(reason));
        let therapist_csv = send(
            &router,
            Request::get("/granskning/logg.csv")
                .header(header::HOST, "lotsen.test")
                .header(header::COOKIE, format!("{SESSION_COOKIE}={therapist}"))
                .body(Body::empty())
                .expect("request"),
        )
        .await;
        assert_eq!(therapist_csv.status, StatusCode::FORBIDDEN);
        assert!(
            app::audit::verify(&db)
                .await
                .expect("verify")
                .broken
                .is_none()
        );
    }
);

db_test!(removing_a_role_ends_that_persons_sessions_at_once, |db| {
    world(&db).await;
    let router = app(db.clone());
    let therapist = sign_in(&db, Caller::Therapist).await.expect("token");
    let second = sign_in(&db, Caller::Therapist).await.expect("token");
    assert_eq!(
        send(&router, form("/api/unit_patients", "", &therapist))
            .await
            .status,
        StatusCode::OK
    );

    let admin = sign_in(&db, Caller::AccessAdministrator)
        .await
        .expect("token");
    let staff = send(&router, form("/api/unit_staff", "", &admin)).await;
    let list: Vec<serde_json::Value> = serde_json::from_str(&staff.body).expect("json");
    let tove = list
        .iter()
        .find(|s| s["name"] == "Tove Terapeut")
        .expect("Tove at A1");
    let grant = tove["roles"][0][0].as_i64().expect("grant id");
    assert_eq!(tove["roles"][0][1], "therapist");
    assert!(
        list.iter().all(|s| s["name"] != "Bo Behandlare"),
        "region B's staff are not listed"
    );

    // Another unit's role cannot be granted; a role that is not the unit's to give neither.
    let invalid = send(
        &router,
        form(
            "/api/grant_role",
            "staff_person_id=101&role=auditor",
            &admin,
        ),
    )
    .await;
    assert_eq!(invalid.status, StatusCode::FORBIDDEN);

    let revoked = send(
        &router,
        form("/api/revoke_role", &format!("grant_id={grant}"), &admin),
    )
    .await;
    assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.body);
    for token in [&therapist, &second] {
        let after = send(&router, form("/api/unit_patients", "", token)).await;
        assert_eq!(
            after.status,
            StatusCode::UNAUTHORIZED,
            "every session ended at once"
        );
    }
    let fresh = sign_in(&db, Caller::Therapist).await.expect("token");
    let now = send(&router, form("/api/unit_patients", "", &fresh)).await;
    assert_eq!(
        now.status,
        StatusCode::FORBIDDEN,
        "signed in again, but no longer a therapist"
    );
    let again = send(
        &router,
        form("/api/revoke_role", &format!("grant_id={grant}"), &admin),
    )
    .await;
    assert_eq!(
        again.status,
        StatusCode::NOT_FOUND,
        "a revoked grant is gone"
    );
    let row = count(&db, &format!("SELECT COUNT(*) FROM staff_role WHERE id = {grant} AND revoked_by = 103 AND revoked_at IS NOT NULL")).await;
    assert_eq!(row, 1, "the grant is kept, marked revoked and by whom");
});

db_test!(a_closed_unit_opens_no_patient_data, |db| {
    world(&db).await;
    let router = app(db.clone());
    let admin = sign_in(&db, Caller::CareProviderAdministrator)
        .await
        .expect("token");
    let units = send(&router, form("/api/provider_units", "", &admin)).await;
    let list: Vec<serde_json::Value> = serde_json::from_str(&units.body).expect("json");
    let names: Vec<&str> = list.iter().filter_map(|u| u["name"].as_str()).collect();
    assert_eq!(
        names,
        ["Enhet A1", "Enhet A2"],
        "only the provider's own units"
    );
    assert_eq!(list[0]["access_admins"][0][1], "Alva Åtkomst");

    let therapist = sign_in(&db, Caller::Therapist).await.expect("token");
    let closed = send(
        &router,
        form("/api/set_unit_active", "unit_id=11&active=false", &admin),
    )
    .await;
    assert_eq!(closed.status, StatusCode::OK, "{}", closed.body);
    let refused = send(&router, form("/api/unit_patients", "", &therapist)).await;
    assert_eq!(
        refused.status,
        StatusCode::FORBIDDEN,
        "no care purpose at a closed unit"
    );
    send(
        &router,
        form("/api/set_unit_active", "unit_id=11&active=true", &admin),
    )
    .await;
    assert_eq!(
        send(&router, form("/api/unit_patients", "", &therapist))
            .await
            .status,
        StatusCode::OK
    );

    // Removing an access administrator ends her sessions; an access administrator cannot
    // remove another one (that is the care provider's to do).
    let alva = sign_in(&db, Caller::AccessAdministrator)
        .await
        .expect("token");
    let grant = list[0]["access_admins"][0][0].as_i64().expect("grant");
    let not_hers = send(
        &router,
        form("/api/revoke_role", &format!("grant_id={grant}"), &alva),
    )
    .await;
    assert_eq!(not_hers.status, StatusCode::NOT_FOUND);
    let removed = send(
        &router,
        form(
            "/api/remove_access_admin",
            &format!("grant_id={grant}"),
            &admin,
        ),
    )
    .await;
    assert_eq!(removed.status, StatusCode::OK, "{}", removed.body);
    assert_eq!(
        send(&router, form("/api/unit_staff", "", &alva))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    let appointed = send(
        &router,
        form(
            "/api/appoint_access_admin",
            "unit_id=11&staff_person_id=103",
            &admin,
        ),
    )
    .await;
    assert_eq!(appointed.status, StatusCode::OK);
    let alva = sign_in(&db, Caller::AccessAdministrator)
        .await
        .expect("token");
    assert_eq!(
        send(&router, form("/api/unit_staff", "", &alva))
            .await
            .status,
        StatusCode::OK
    );
    let elsewhere = send(
        &router,
        form(
            "/api/appoint_access_admin",
            "unit_id=11&staff_person_id=106",
            &admin,
        ),
    )
    .await;
    assert_eq!(
        elsewhere.status,
        StatusCode::NOT_FOUND,
        "staff without an assignment at the unit"
    );
});

db_test!(
    setup_registers_an_organisation_once_and_refuses_bad_input,
    |db, url| {
        let steps: [&[&str]; 4] = [
            &[
                "setup",
                "provider",
                "--org-number",
                "232199-0018",
                "--name",
                "Region Test",
                "--county",
                "01",
            ],
            &[
                "setup",
                "unit",
                "--provider",
                "2321990018",
                "--hsa-id",
                "SE2321990018-E1",
                "--name",
                "Mottagningen",
            ],
            &[
                "setup",
                "staff",
                "--hsa-id",
                "SE2321990018-A1",
                "--given-name",
                "Ada",
                "--family-name",
                "Admin",
            ],
            &[
                "setup",
                "grant",
                "--hsa-id",
                "SE2321990018-A1",
                "--role",
                "provider_admin",
                "--provider",
                "2321990018",
            ],
        ];
        for step in steps {
            let (ok, first) = lotsen(&url, step);
            assert!(
                ok && (first.contains("registered") || first.contains("granted")),
                "{first}"
            );
            // Again: nothing changes, and it says so.
            let (ok, again) = lotsen(&url, step);
            assert!(ok && again.contains("already"), "{again}");
        }
        assert_eq!(count(&db, "SELECT COUNT(*) FROM staff_role").await, 1);
        assert_eq!(count(&db, "SELECT COUNT(*) FROM staff_person").await, 1);
        for bad in [
            &[
                "setup",
                "provider",
                "--org-number",
                "232199-0019",
                "--name",
                "X",
                "--county",
                "01",
            ][..],
            &[
                "setup",
                "unit",
                "--provider",
                "2321990018",
                "--hsa-id",
                "E1",
                "--name",
                "X",
            ],
            &[
                "setup",
                "staff",
                "--hsa-id",
                "SE2321990018-B1",
                "--given-name",
                " ",
                "--family-name",
                "X",
            ],
            &[
                "setup",
                "grant",
                "--hsa-id",
                "SE2321990018-Z9",
                "--role",
                "therapist",
                "--provider",
                "2321990018",
            ],
            &[
                "setup",
                "grant",
                "--hsa-id",
                "SE2321990018-A1",
                "--role",
                "chief",
                "--provider",
                "2321990018",
            ],
        ] {
            let (ok, _) = lotsen(&url, bad);
            assert!(!ok, "{bad:?} was accepted");
        }
        assert_eq!(count(&db, "SELECT COUNT(*) FROM staff_person").await, 1);
        assert_eq!(count(&db, "SELECT COUNT(*) FROM care_unit").await, 1);
    }
);

db_test!(
    media_links_are_allowed_only_from_the_configured_hosts,
    |db| {
        use app::programs::{Block, BlockBody, Media, Rules, store};
        world(&db).await;
        let mut state = AppState::with_defaults(db.clone());
        state.content_rules.media_hosts = vec!["media.region.se".to_owned()];
        let router = router(state);
        let token = sign_in(&db, Caller::Producer).await;
        let scope = store::Scope {
            provider_id: 1,
            sandbox_id: None,
        };
        let id = store::create(&db, scope, None, "Bilder", &Rules::default())
            .await
            .expect("program")
            .program_id;

        // The editor is told which hosts it may use ...
        let draft = send(
            &router,
            post(
                "/api/program_draft",
                format!("program_id={id}"),
                token.as_deref(),
            ),
        )
        .await;
        assert!(
            draft.body.contains("\"media_hosts\":[\"media.region.se\"]"),
            "{}",
            draft.body
        );

        // ... and the server holds to them.
        let mut revision = 0;
        for (url, saved) in [
            ("https://media.region.se/somn.png", true),
            ("https://cdn.media.region.se/somn.png", true),
            ("https://elsewhere.example/somn.png", false),
        ] {
            let mut program = app::testing::small_program("Bilder");
            program.modules[0].sections[0].steps[0].blocks.push(Block {
                key: "bild".to_owned(),
                show_if: None,
                body: BlockBody::Image {
                    media: Media::External {
                        url: url.to_owned(),
                    },
                    alt: "En säng.".to_owned(),
                    caption: None,
                },
            });
            let body =
                serde_json::json!({ "program_id": id, "revision": revision, "program": program });
            let answer = send(
                &router,
                post(
                    "/api/save_program_draft",
                    body.to_string(),
                    token.as_deref(),
                ),
            )
            .await;
            assert_eq!(
                answer.body.starts_with("{\"Saved\""),
                saved,
                "{url}: {}",
                answer.body
            );
            if saved {
                revision += 1;
            } else {
                assert!(answer.body.contains("media_not_allowed"), "{}", answer.body);
            }
        }
    }
);
