//! What a demo sandbox costs to make, measured in one run on both engines (`make bench`): a
//! whole sandbox (two regions, units, staff, three patients, the two demo programs and the
//! patient persona's three weeks of history) made while few sandboxes live, and again while
//! 200 live (the default `--demo-max-sandboxes`), as a ratio of the medians. (That the
//! history is there is tested in `server/tests/web/access.rs`.)

#![allow(clippy::expect_used)]

/// The server binary's allocator, so that the figures are the server's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use app::demo::sandbox::{DemoConfig, create};
use app::testing::{Engine, TestDb};
use std::time::{Duration, Instant};

const SAMPLES: usize = 15;
const LIVE: usize = 200;

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values[values.len() / 2]
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

async fn bench(engine: Engine) {
    let Some(t) = TestDb::new(engine).await else {
        return;
    };
    let db = t.db.clone();
    let config = DemoConfig {
        max_sandboxes: 10_000,
    };
    let idle = chrono::Duration::hours(2);
    let timed = || {
        let db = db.clone();
        async move {
            let start = Instant::now();
            create(&db, &config, idle).await.expect("sandbox");
            start.elapsed()
        }
    };
    let mut few = Vec::with_capacity(SAMPLES);
    for _ in 0..SAMPLES {
        few.push(timed().await);
    }
    for _ in SAMPLES..LIVE {
        timed().await;
    }
    let mut many = Vec::with_capacity(SAMPLES);
    for _ in 0..SAMPLES {
        many.push(timed().await);
    }
    let (a, b) = (median(few), median(many));
    println!("{engine:?} (medians of {SAMPLES} sandboxes, one at a time):");
    println!(
        "  a sandbox with 0–{SAMPLES} live        {:>8.1} ms",
        millis(a)
    );
    println!(
        "  a sandbox with {LIVE}–{} live    {:>8.1} ms   {:.2}× the first",
        LIVE + SAMPLES,
        millis(b),
        millis(b) / millis(a)
    );
    t.finish().await;
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    bench(Engine::Sqlite).await;
    bench(Engine::Postgres).await;
}
