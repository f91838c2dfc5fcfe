//! The therapist's caseload at the scale of a region (issue 12), on PostgreSQL (`make bench`):
//! a generated 100,000 patients, each in a treatment on the world's program, with 5,000,000
//! submitted answers (50 per treatment, PHQ-9 and GAD-7 in turn); unit A1 holds 2,000 of the
//! treatments, 60 of them Tove's (101), a few with open flags and unread messages.
//!
//! Through the real router and middleware, one client, `BENCH_CALLS` (200) calls each:
//!
//! - her caseload (`dashboard` with `mine=true`, 60 rows), first view of a session: one
//!   access-log row per patient shown (a new session each call);
//! - the same, again in one session (rows only for what changed: none here);
//! - the whole unit's dashboard (2,000 rows), again in one session, for comparison.
//!
//! Measured on a database in its steady state (vacuumed, checkpointed) and a server that has
//! served before (`WARM_UP` first views, not timed). `BENCH_SLOWEST=1` also prints the
//! slowest first views and their place in the run.
//!
//! Target: the caseload's p99 ≤ 25 ms.

#![allow(clippy::expect_used)]

/// The server binary's allocator, so that the figures are the server's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use app::auth::session::SESSION_COOKIE;
use app::testing::{Engine, TestDb, staff_session, two_regions};
use axum::Router;
use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode, header};
use lotsen_server::limits::{LimitConfig, Limits};
use lotsen_server::{AppState, router};
use sea_orm::{ConnectionTrait, DatabaseConnection, TransactionTrait};
use std::time::{Duration, Instant};
use tower::ServiceExt;

const PATIENTS: i64 = 100_000;
const IN_UNIT: i64 = 2_000;
const HERS: i64 = 60;
const ANSWERS_EACH: i64 = 50;
/// First views before the timed ones.
const WARM_UP: usize = 20;

async fn generate(db: &DatabaseConnection) {
    let started = Instant::now();
    let txn = db.begin().await.expect("begin");
    // Generated rows are consistent by construction: no foreign-key triggers while loading.
    for statement in [
        "SET LOCAL session_replication_role = replica".to_owned(),
        format!(
            "INSERT INTO patient (id, personnummer, given_name, family_name) \
             SELECT 100000 + g, '19' || lpad(g::text, 10, '0'), 'Patient', \
                    'P' || lpad(g::text, 6, '0') \
             FROM generate_series(1, {PATIENTS}) g"
        ),
        format!(
            "INSERT INTO enrolment (id, patient_id, program_version_id, care_unit_id, \
                responsible_staff_id, state, started_at, internal_note) \
             SELECT 200000 + g, 100000 + g, 601, \
                    CASE WHEN g <= {IN_UNIT} THEN 11 WHEN g % 2 = 0 THEN 12 ELSE 21 END, \
                    CASE WHEN g <= {HERS} THEN 101 END, 'active', \
                    now() - interval '60 days', '' \
             FROM generate_series(1, {PATIENTS}) g"
        ),
        format!(
            "INSERT INTO form_response (enrolment_id, program_version_id, questionnaire_key, \
                place, state, answers, total, band, scores, updated_at, submitted_at) \
             SELECT 200000 + e, 601, CASE WHEN n % 2 = 0 THEN 'phq' ELSE 'gad' END, \
                    'due:' || n, 'submitted', '{{}}', (e + n) % 20, NULL, '{{}}', \
                    now() - (60 - n) * interval '1 day', now() - (60 - n) * interval '1 day' \
             FROM generate_series(1, {PATIENTS}) e, generate_series(1, {ANSWERS_EACH}) n"
        ),
        // Some of her patients need her: flags, and messages not yet read.
        "INSERT INTO flag (enrolment_id, kind, priority, reason, raised_at) \
         SELECT 200000 + g, 'automatic', CASE WHEN g % 10 = 0 THEN 'urgent' ELSE 'warning' END, \
                'inactive', now() - interval '1 day' \
         FROM generate_series(1, 60, 5) g"
            .to_owned(),
        "INSERT INTO message (enrolment_id, sender_kind, body, idempotency_key, sent_at) \
         SELECT 200000 + g, 'patient', 'Hej', md5(g::text), now() - interval '2 hours' \
         FROM generate_series(1, 2000, 7) g"
            .to_owned(),
    ] {
        txn.execute_unprepared(&statement).await.expect("generate");
    }
    txn.commit().await.expect("commit");
    // What a region's database is in its steady state, not a minute after a bulk load: vacuumed
    // (hint bits and visibility map set, so the first reads write nothing back) and with the
    // load's pages on disk (no checkpoint of it while the calls are timed).
    for statement in ["VACUUM ANALYZE", "CHECKPOINT"] {
        db.execute_unprepared(statement).await.expect(statement);
    }
    println!(
        "  generated {PATIENTS} patients and treatments, {} answers in {:.0} s",
        PATIENTS * ANSWERS_EACH,
        started.elapsed().as_secs_f64()
    );
}

async fn tove(db: &DatabaseConnection) -> String {
    staff_session(db, 101, 301).await
}

fn dashboard(body: &'static str, token: &str) -> Request<Body> {
    Request::post("/api/dashboard")
        .header(header::HOST, "lotsen.test")
        .header("sec-fetch-site", "same-origin")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, format!("{SESSION_COOKIE}={token}"))
        .body(Body::from(body))
        .expect("request")
}

/// One call, timed; the number of patients it listed.
async fn call(router: &Router, request: Request<Body>) -> (Duration, usize) {
    let start = Instant::now();
    let response = router.clone().oneshot(request).await.expect("infallible");
    assert_eq!(response.status(), StatusCode::OK);
    let body = to_bytes(response.into_body(), 64 << 20)
        .await
        .expect("body");
    let elapsed = start.elapsed();
    let value: serde_json::Value = serde_json::from_slice(&body).expect("json");
    (elapsed, value["patients"].as_array().map_or(0, Vec::len))
}

fn report(what: &str, mut times: Vec<Duration>) {
    times.sort();
    let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
    println!(
        "  {what:<44} p50 {:>7.2} ms   p99 {:>7.2} ms",
        at(0.5).as_secs_f64() * 1e3,
        at(0.99).as_secs_f64() * 1e3
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let calls: usize = std::env::var("BENCH_CALLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let Some(t) = TestDb::new(Engine::Postgres).await else {
        println!("caseload: no PostgreSQL, skipped");
        return;
    };
    let db = t.db.clone();
    println!("Postgres ({calls} calls per kind, one client):");
    two_regions(&db).await;
    generate(&db).await;
    let mut state = AppState::with_defaults(db.clone());
    state.limits = Limits::new(LimitConfig::unlimited());
    let router = router(state);

    // A server that has served before: its pool's connections are open and have planned the
    // statements (a connection's first plan of the caseload's statement takes some 5 ms, and
    // the pool hands out its connections in turn). Not timed.
    for _ in 0..WARM_UP {
        let token = tove(&db).await;
        call(&router, dashboard("mine=true", &token)).await;
    }

    // First views: a new session each, so each logs its 60 rows.
    let mut tokens = Vec::with_capacity(calls);
    for _ in 0..calls {
        tokens.push(tove(&db).await);
    }
    let logged_before = app::testing::number(
        &db,
        "SELECT COUNT(*) FROM access_log WHERE object_type = 'dashboard'",
    )
    .await;
    let mut first = Vec::with_capacity(calls);
    for token in &tokens {
        let (time, listed) = call(&router, dashboard("mine=true", token)).await;
        assert_eq!(listed, HERS as usize);
        first.push(time);
    }
    if std::env::var_os("BENCH_SLOWEST").is_some() {
        let mut slowest: Vec<(usize, Duration)> = first.iter().copied().enumerate().collect();
        slowest.sort_by_key(|(_, t)| std::cmp::Reverse(*t));
        println!("  slowest first views (call, ms): {:?}", &slowest[..5]);
    }
    let logged = app::testing::number(
        &db,
        "SELECT COUNT(*) FROM access_log WHERE object_type = 'dashboard'",
    )
    .await
        - logged_before;
    assert_eq!(logged, calls as i64 * HERS);

    let token = tove(&db).await;
    let mut again = Vec::with_capacity(calls);
    let mut unit = Vec::with_capacity(calls);
    call(&router, dashboard("", &token)).await;
    for _ in 0..calls {
        let (time, listed) = call(&router, dashboard("mine=true", &token)).await;
        assert_eq!(listed, HERS as usize);
        again.push(time);
        let (time, listed) = call(&router, dashboard("", &token)).await;
        assert_eq!(listed, (IN_UNIT + 2) as usize);
        unit.push(time);
    }
    report("her caseload (60), first view: 60 log rows", first);
    report("her caseload (60), again in the session", again);
    report("the unit's dashboard (2,002), again", unit);
    println!("  access-log rows written by the first views: {logged}");
    let report = app::access_log::verify(&db).await.expect("verify");
    assert_eq!(report.broken, None);
    t.finish().await;
}
