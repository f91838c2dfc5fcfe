//! What identity costs a request, measured in one run on both engines (`make bench`):
//!
//! - session validation: a server function called with a valid session cookie against the
//!   same call without one, with the session cache (`app::auth::cache`) and without it, and
//!   on SQLite with the cache reading through the pool instead of its own connection;
//! - an access-log write: one append of the hash chain on its own against the whole request
//!   that performs it (a therapist opening a patient record), and so the request without it.
//!
//! Calls go through the real router and middleware, one at a time, in alternating rounds;
//! the figure per kind is the median of the rounds.

#![allow(clippy::expect_used)]

/// The server binary's allocator, so that the figures are the server's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use app::access_log::{self, Action, Entry, Outcome};
use app::auth::cache::SessionCache;
use app::auth::session::SESSION_COOKIE;
use app::testing::{Engine, TestDb, staff_session, two_regions};
use axum::Router;
use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode, header};
use lotsen_server::limits::{LimitConfig, Limits};
use lotsen_server::{AppState, router};
use std::time::{Duration, Instant};
use tower::ServiceExt;

const ROUNDS: usize = 5;

fn post(path: &str, body: &'static str, token: Option<&str>) -> Request<Body> {
    let mut request = Request::post(path)
        .header(header::HOST, "lotsen.test")
        .header("sec-fetch-site", "same-origin")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some(token) = token {
        request = request.header(header::COOKIE, format!("{SESSION_COOKIE}={token}"));
    }
    request.body(Body::from(body)).expect("request")
}

async fn call(router: &Router, request: Request<Body>) {
    let response = router.clone().oneshot(request).await.expect("infallible");
    assert_eq!(response.status(), StatusCode::OK);
    let _ = to_bytes(response.into_body(), 1 << 20).await.expect("body");
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values[values.len() / 2]
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

async fn bench(engine: Engine, n: u32) {
    let Some(t) = TestDb::new(engine).await else {
        return;
    };
    let db = t.db.clone();
    two_regions(&db).await;
    let mut state = AppState::with_defaults(db.clone());
    state.limits = Limits::new(LimitConfig::unlimited());
    let mut uncached = state.clone();
    uncached.session_cache = SessionCache::off();
    let mut pooled = state.clone();
    pooled.session_cache = SessionCache::new();
    let pooled_cache = pooled.session_cache.clone();
    let cache = state.session_cache.clone();
    let uncached = router(uncached);
    let pooled = router(pooled);
    let router = router(state);
    let token = staff_session(&db, 101, 301).await;
    let entry = Entry {
        user_hsa_id: "SE-101".to_owned(),
        assignment_hsa_id: Some("SE-101-U".to_owned()),
        care_unit_hsa_id: Some("SE2321000016-A1".to_owned()),
        care_provider_org_number: Some("2321000016".to_owned()),
        patient_id: Some(402),
        action: Action::Read,
        object_type: "patient_record",
        object_id: Some(402),
        outcome: Outcome::Allowed,
        reason: None,
        needs_follow_up: false,
        sandbox_id: None,
    };

    // PostgreSQL: the cache is on once its listener (started by the first request) listens.
    call(&router, post("/api/whoami", "", Some(&token))).await;
    for _ in 0..500 {
        if cache.is_on(&db) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(cache.is_on(&db), "the session cache is on");
    let sqlite = engine == Engine::Sqlite;
    if sqlite {
        call(&pooled, post("/api/whoami", "", Some(&token))).await;
    }
    let hits_before = cache.hits();
    let in_place_before = cache.reads_in_place();
    let pooled_before = pooled_cache.hits();

    let (mut anonymous, mut signed_in, mut record, mut append) = (vec![], vec![], vec![], vec![]);
    let mut without_cache = vec![];
    let mut through_pool = vec![];
    for _ in 0..ROUNDS {
        let start = Instant::now();
        for _ in 0..n {
            call(&router, post("/api/whoami", "", None)).await;
        }
        anonymous.push(start.elapsed() / n);
        let start = Instant::now();
        for _ in 0..n {
            call(&router, post("/api/whoami", "", Some(&token))).await;
        }
        signed_in.push(start.elapsed() / n);
        let start = Instant::now();
        for _ in 0..n {
            call(&uncached, post("/api/whoami", "", Some(&token))).await;
        }
        without_cache.push(start.elapsed() / n);
        if sqlite {
            let start = Instant::now();
            for _ in 0..n {
                call(&pooled, post("/api/whoami", "", Some(&token))).await;
            }
            through_pool.push(start.elapsed() / n);
        }
        let start = Instant::now();
        for _ in 0..n {
            call(
                &router,
                post("/api/patient_record", "patient_id=402", Some(&token)),
            )
            .await;
        }
        record.push(start.elapsed() / n);
        let start = Instant::now();
        for _ in 0..n {
            access_log::append(&db, entry.clone())
                .await
                .expect("append");
        }
        append.push(start.elapsed() / n);
    }
    let report = access_log::verify(&db).await.expect("verify");
    assert_eq!(report.broken, None);
    let hits = cache.hits() - hits_before;
    let in_place = cache.reads_in_place() - in_place_before;
    let pooled_hits = pooled_cache.hits() - pooled_before;
    let (a, s, u, r, w) = (
        median(anonymous),
        median(signed_in),
        median(without_cache),
        median(record),
        median(append),
    );
    let without_log = r.saturating_sub(w);
    println!("{engine:?} ({n} calls per kind per round, {ROUNDS} rounds, medians, one client):");
    println!("  whoami without a session        {:>8.0} µs", micros(a));
    println!(
        "  whoami with a valid session     {:>8.0} µs   session validation +{:.0} µs ({:.2}× the call without)",
        micros(s),
        micros(s.saturating_sub(a)),
        micros(s) / micros(a)
    );
    println!(
        "  the same without the cache      {:>8.0} µs   session validation +{:.0} µs",
        micros(u),
        micros(u.saturating_sub(a)),
    );
    if sqlite {
        let p = median(through_pool);
        println!(
            "  the cache reading via the pool  {:>8.0} µs   session validation +{:.0} µs ({pooled_hits} of {} from the cache)",
            micros(p),
            micros(p.saturating_sub(a)),
            ROUNDS as u32 * n
        );
    }
    println!(
        "  checks answered from the cache  {hits} of {} signed-in calls ({in_place} read in place)",
        2 * ROUNDS as u32 * n
    );
    println!("  patient record (logs one read)  {:>8.0} µs", micros(r));
    println!(
        "  one access-log append alone     {:>8.0} µs   {:.0} % of the request; the request costs {:.2}× what it would without the write",
        micros(w),
        100.0 * micros(w) / micros(r),
        micros(r) / micros(without_log).max(1.0)
    );
    println!("  chain verified: {} rows intact", report.rows);
    t.finish().await;
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let n = std::env::var("BENCH_CALLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    bench(Engine::Sqlite, n).await;
    bench(Engine::Postgres, n).await;
}
