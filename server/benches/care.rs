//! Care under load, as a ratio to `/healthz` in the same server and the same run
//! (`make bench`): a generated data set of many patients, each with a treatment and a session,
//! and wrk (64 connections by default) rotating through them for
//!
//! - the patient's treatment overview (server-rendered, reads the care record),
//! - saving a questionnaire draft (a write),
//! - sending a message (a write, committed before it is acknowledged).
//!
//! The server is Lotsen's whole router and middleware on a loopback socket, on SQLite and on
//! PostgreSQL. Targets (issue 11): the overview at ≥ 25 % of `/healthz`, p99 ≤ 20 ms.
//! `BENCH_PATIENTS` (default 2000), `BENCH_SECONDS` (10), `BENCH_CONNECTIONS` (64).

#![allow(clippy::expect_used)]

/// The server binary's allocator, so that the figures are the server's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use app::auth::session::SESSION_COOKIE;
use app::testing::{Engine, TestDb, patient_session, two_regions};
use lotsen_server::limits::{LimitConfig, Limits};
use lotsen_server::{AppState, router};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::process::Command;

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// `n` patients at unit A1, each in a treatment on the world's program (version 601) and with
/// a session; returns `token enrolment` lines.
async fn patients(db: &DatabaseConnection, n: u64) -> String {
    let (first_patient, first_enrolment) = (100_000_u64, 200_000_u64);
    for chunk in (0..n).collect::<Vec<_>>().chunks(500) {
        let mut people = String::new();
        let mut treatments = String::new();
        for i in chunk {
            let sep = if people.is_empty() { "" } else { "," };
            let _ = write!(
                people,
                "{sep}({}, '19{:010}', 'Patient', '{i}')",
                first_patient + i,
                i
            );
            let _ = write!(
                treatments,
                "{sep}({}, {}, 601, 11, 101, 'active', CURRENT_TIMESTAMP, '')",
                first_enrolment + i,
                first_patient + i
            );
        }
        db.execute_unprepared(&format!(
            "INSERT INTO patient (id, personnummer, given_name, family_name) VALUES {people}"
        ))
        .await
        .expect("patients");
        db.execute_unprepared(&format!(
            "INSERT INTO enrolment (id, patient_id, program_version_id, care_unit_id, \
             responsible_staff_id, state, started_at, internal_note) VALUES {treatments}"
        ))
        .await
        .expect("enrolments");
    }
    let mut lines = String::new();
    for i in 0..n {
        let token = patient_session(db, (first_patient + i) as i64).await;
        let _ = writeln!(lines, "{token} {}", first_enrolment + i);
    }
    lines
}

/// The wrk script: each request as the next patient of the list (each thread starting at its
/// own place), with a message key unique to the thread and the request.
fn script(mode: &str) -> String {
    format!(
        r#"
-- `tid` is a global that `setup` gives each thread (a local here would hide it).
local people, n, counter = {{}}, 0, 0
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
function init(args)
  for line in io.lines(args[1]) do
    local token, enrolment = line:match("(%S+) (%S+)")
    n = n + 1
    people[n] = {{ token, enrolment }}
  end
  counter = (tid or 0) * 7919
end
function request()
  counter = counter + 1
  local who = people[(counter % n) + 1]
  local headers = {{ ["Cookie"] = "{SESSION_COOKIE}=" .. who[1], ["Sec-Fetch-Site"] = "same-origin" }}
  if "{mode}" == "page" then
    headers["Sec-Fetch-Mode"] = "navigate"
    return wrk.format("GET", "/mina-sidor/behandling/" .. who[2], headers)
  end
  headers["Content-Type"] = "application/x-www-form-urlencoded"
  local body
  if "{mode}" == "draft" then
    body = "enrolment=" .. who[2] .. "&place=block%3Am1%2Fp2%2Fphq&submit_key="
      .. string.rep("a", 64) .. "&intent=save&answers%5Bphq9_1%5D=1"
    return wrk.format("POST", "/api/answer_form", headers, body)
  end
  body = "enrolment=" .. who[2] .. "&body=Hej%21&submit_key="
    .. string.format("%032d%032d", tid or 0, counter)
  return wrk.format("POST", "/api/send_message", headers, body)
end
"#
    )
}

struct Run {
    rps: f64,
    p50: String,
    p99: String,
    failed: u64,
}

fn wrk(addr: SocketAddr, path: &str, script: Option<(&std::path::Path, &std::path::Path)>) -> Run {
    let (seconds, connections) = (
        setting("BENCH_SECONDS", 10),
        setting("BENCH_CONNECTIONS", 64),
    );
    let mut command = Command::new("wrk");
    command
        .arg("-t2")
        .arg(format!("-c{connections}"))
        .arg(format!("-d{seconds}s"))
        .arg("--latency");
    if let Some((script, _)) = script {
        command.arg("-s").arg(script);
    }
    command.arg(format!("http://{addr}{path}"));
    if let Some((_, people)) = script {
        command.arg("--").arg(people);
    }
    let output = command.output().expect("wrk (apt-get install wrk)");
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "wrk: {text}");
    let field = |prefix: &str| {
        text.lines()
            .map(str::trim)
            .find_map(|l| l.strip_prefix(prefix))
            .map(|v| v.trim().to_owned())
    };
    Run {
        rps: field("Requests/sec:")
            .and_then(|v| v.parse().ok())
            .expect("requests/s"),
        p50: field("50%").unwrap_or_default(),
        p99: field("99%").unwrap_or_default(),
        failed: field("Non-2xx or 3xx responses:")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0),
    }
}

async fn bench(engine: Engine) {
    let Some(t) = TestDb::new(engine).await else {
        return;
    };
    let db = t.db.clone();
    two_regions(&db).await;
    let n = setting("BENCH_PATIENTS", 2000);
    let people = patients(&db, n).await;
    let dir = std::env::temp_dir().join(format!("lotsen-care-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let people_file = dir.join("people.txt");
    std::fs::write(&people_file, people).expect("people");

    let mut state = AppState::with_defaults(db.clone());
    state.limits = Limits::new(LimitConfig::unlimited());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let server = tokio::spawn(async move {
        axum::serve(
            listener,
            router(state).into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .expect("serve");
    });

    let runs = tokio::task::spawn_blocking(move || {
        // Warm up, then each kind in turn.
        let _ = Command::new("wrk")
            .args(["-t1", "-c8", "-d2s"])
            .arg(format!("http://{addr}/healthz"))
            .output();
        let health = wrk(addr, "/healthz", None);
        let mut runs = vec![("/healthz", health)];
        for (name, mode) in [
            ("treatment overview (SSR)", "page"),
            ("questionnaire draft saved", "draft"),
            ("message sent", "message"),
        ] {
            let file = dir.join(format!("{mode}.lua"));
            std::fs::write(&file, script(mode)).expect("script");
            runs.push((name, wrk(addr, "/", Some((&file, &people_file)))));
        }
        let _ = std::fs::remove_dir_all(&dir);
        runs
    })
    .await
    .expect("wrk runs");
    server.abort();

    let messages =
        app::testing::number(&db, "SELECT COUNT(*) FROM message WHERE body = 'Hej!'").await;
    let health = runs[0].1.rps;
    println!(
        "{engine:?}: {n} patients, wrk {} connections × {} s per kind, same server, same run",
        setting("BENCH_CONNECTIONS", 64),
        setting("BENCH_SECONDS", 10)
    );
    for (name, run) in &runs {
        println!(
            "  {name:<28} {:>8.0} req/s  {:>5.1} % of /healthz  p50 {:>8}  p99 {:>8}{}",
            run.rps,
            100.0 * run.rps / health,
            run.p50,
            run.p99,
            if run.failed > 0 {
                format!("  ({} answers not 2xx!)", run.failed)
            } else {
                String::new()
            }
        );
    }
    println!("  messages committed: {messages}");
    t.finish().await;
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        bench(Engine::Sqlite).await;
        bench(Engine::Postgres).await;
    });
}
