//! The live dashboard under load (issue 12, `make bench`): `BENCH_DASHBOARDS` (1,000)
//! therapists of one unit, each with their own session and their dashboard's event stream open
//! on one instance, and a patient of the unit who sends a message, `BENCH_ROUNDS` (20) times.
//!
//! - **Submit to refetch:** for each dashboard, the time from the start of the patient's submit
//!   (`POST /api/send_message`) to the end of the dashboard's refetch: the care event read from
//!   its stream, then the whole page fetched again as `public/live.js` does (`GET /mottagning`
//!   with `Lotsen-Live: 1`), its last byte read. The script's own 150 ms wait for further events
//!   is left out: it is a choice of the browser's side, not work. Target: p99 ≤ 100 ms.
//! - **Idle connections per GB:** after the rounds, `BENCH_IDLE_EACH` (10) more streams for
//!   each session (a therapist's other tabs) are opened and left idle: the server's resident
//!   memory then, less before, per stream. Target: ≥ 50,000 per GB.
//! - The access-log rows that the refetches wrote, per refetch (one for the patient whose care
//!   changed, by design: see `app::clinic::unit_dashboard`), and in how many INSERTs: requests
//!   that append at the same time share one (`app::access_log::append_shared`).
//!
//! The server is Lotsen's whole router and middleware on a loopback socket in this process; the
//! dashboards are a second process (this program again, `LOTSEN_LIVE_BENCH_CLIENT` set), so
//! that the memory measured is the server's alone. On SQLite and on PostgreSQL.

#![allow(clippy::expect_used)]

/// The server binary's allocator, so that the figures are the server's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use app::auth::session::SESSION_COOKIE;
use app::testing::{Engine, TestDb, patient_session, staff_session, two_regions};
use lotsen_server::limits::{LimitConfig, Limits};
use lotsen_server::{AppState, router};
use openidconnect::reqwest;
use sea_orm::{ConnectionTrait, DatabaseConnection};
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Write as _};
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const CLIENT: &str = "LOTSEN_LIVE_BENCH_CLIENT";
const FIRST_STAFF: u64 = 20_000;
/// The unit's patients who act, one after the other (a patient may send ten messages an hour).
const PATIENTS: u64 = 60;
const FIRST_PATIENT: u64 = 100_000;
const FIRST_ENROLMENT: u64 = 200_000;

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Rows of `INSERT INTO {table} {columns} VALUES …` for `0..n`, 500 to a statement.
async fn insert_rows(
    db: &DatabaseConnection,
    table_columns: &str,
    n: u64,
    row: impl Fn(u64) -> String,
) {
    for chunk in (0..n).collect::<Vec<_>>().chunks(500) {
        let values = chunk.iter().map(|i| row(*i)).collect::<Vec<_>>().join(",");
        db.execute_unprepared(&format!("INSERT INTO {table_columns} VALUES {values}"))
            .await
            .unwrap_or_else(|e| panic!("{table_columns}: {e}"));
    }
}

/// `n` therapists at unit A1, each with a session; and 60 more patients in treatment there, so
/// that the dashboard is a caseload's size, each with a session. Returns the therapists'
/// tokens, and `token enrolment` of each patient.
async fn world(db: &DatabaseConnection, n: u64) -> (Vec<String>, Vec<String>) {
    two_regions(db).await;
    let s = FIRST_STAFF;
    insert_rows(db, "staff_person (id, given_name, family_name)", n, |i| {
        format!("({}, 'Terapeut', 'T{i:04}')", s + i)
    })
    .await;
    insert_rows(
        db,
        "staff_hsa_identity (id, staff_person_id, hsa_id)",
        n,
        |i| format!("({}, {}, 'SE-B{i}')", s + i, s + i),
    )
    .await;
    insert_rows(
        db,
        "staff_assignment (id, staff_hsa_identity_id, care_unit_id, commission_hsa_id, \
         commission_name, commission_purpose)",
        n,
        |i| {
            format!(
                "({}, {}, 11, 'SE-B{i}-U', 'V', 'Vård och behandling')",
                s + i,
                s + i
            )
        },
    )
    .await;
    insert_rows(
        db,
        "staff_role (staff_person_id, care_provider_id, care_unit_id, role, granted_at)",
        n,
        |i| format!("({}, 1, 11, 'therapist', CURRENT_TIMESTAMP)", s + i),
    )
    .await;
    insert_rows(
        db,
        "patient (id, personnummer, given_name, family_name)",
        PATIENTS,
        |i| {
            format!(
                "({}, '19{:010}', 'Patient', 'P{i:02}')",
                FIRST_PATIENT + i,
                i
            )
        },
    )
    .await;
    insert_rows(
        db,
        "enrolment (id, patient_id, program_version_id, care_unit_id, responsible_staff_id, \
         state, started_at, internal_note)",
        PATIENTS,
        |i| {
            format!(
                "({}, {}, 601, 11, 101, 'active', CURRENT_TIMESTAMP, '')",
                FIRST_ENROLMENT + i,
                FIRST_PATIENT + i
            )
        },
    )
    .await;
    let mut tokens = Vec::new();
    for i in 0..n {
        let id = (s + i) as i64;
        tokens.push(staff_session(db, id, id).await);
    }
    let mut patients = Vec::new();
    for i in 0..PATIENTS {
        let token = patient_session(db, (FIRST_PATIENT + i) as i64).await;
        patients.push(format!("{token} {}", FIRST_ENROLMENT + i));
    }
    (tokens, patients)
}

/// This process's resident memory, in bytes.
fn resident() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .expect("VmRSS")
        * 1024
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[index]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

async fn bench(engine: Engine) {
    let Some(t) = TestDb::new(engine).await else {
        return;
    };
    let db = t.db.clone();
    let n = setting("BENCH_DASHBOARDS", 1000);
    let rounds = setting("BENCH_ROUNDS", 20);
    let (tokens, patients) = world(&db, n).await;
    let dir = std::env::temp_dir().join(format!("lotsen-live-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let tokens_file = dir.join("tokens.txt");
    std::fs::write(&tokens_file, tokens.join("\n")).expect("tokens");
    let patients_file = dir.join("patients.txt");
    std::fs::write(&patients_file, patients.join("\n")).expect("patients");

    let mut state = AppState::with_defaults(db.clone());
    state.limits = Limits::new(LimitConfig::unlimited());
    let hub = state.live.clone();
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

    // Warm: the page rendered and one stream opened (the hub's reader started) before the
    // memory without the dashboards is read.
    {
        let http = reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("client");
        let page = http
            .get(format!("http://{addr}/mottagning"))
            .header("cookie", format!("{SESSION_COOKIE}={}", tokens[0]))
            .send()
            .await
            .expect("dashboard");
        assert!(page.status().is_success(), "dashboard: {}", page.status());
        let mut stream = http
            .get(format!("http://{addr}/mottagning/handelser"))
            .header("cookie", format!("{SESSION_COOKIE}={}", tokens[0]))
            .send()
            .await
            .expect("stream");
        assert!(stream.status().is_success(), "stream: {}", stream.status());
        drop(tokio::time::timeout(Duration::from_millis(100), stream.chunk()).await);
    }

    let idle_each = setting("BENCH_IDLE_EACH", 10);
    let exe = std::env::current_exe().expect("this program");
    let mut child = Command::new(exe)
        .env(CLIENT, "1")
        .env("BENCH_ADDR", addr.to_string())
        .env("BENCH_TOKENS", &tokens_file)
        .env("BENCH_PATIENTS", &patients_file)
        .env("BENCH_ROUNDS", rounds.to_string())
        .env("BENCH_IDLE_EACH", idle_each.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("the dashboards' process");
    let mut to_child = child.stdin.take().expect("stdin");
    let mut from_child = BufReader::new(child.stdout.take().expect("stdout"));
    let handle = tokio::runtime::Handle::current();
    let count_log = {
        let db = db.clone();
        move |sql: &str| handle.block_on(app::testing::number(&db, sql))
    };
    let (report, (logged, inserts), before, during) = tokio::task::spawn_blocking(move || {
        let expect = |from_child: &mut BufReader<std::process::ChildStdout>, what: &str| {
            let mut line = String::new();
            from_child
                .read_line(&mut line)
                .expect("the dashboards' process");
            assert_eq!(line.trim(), what, "the dashboards' process: {line}");
        };
        let mut say = |what: &str| writeln!(to_child, "{what}").expect("to the dashboards");
        // Every dashboard shown once (its patients logged), then every stream open.
        expect(&mut from_child, "viewed");
        say("open");
        expect(&mut from_child, "open");
        // What the dashboards' first views logged is not the refetches'.
        let logged_before = count_log("SELECT COALESCE(MAX(id), 0) FROM access_log");
        say("go");
        let mut report = String::new();
        loop {
            let mut line = String::new();
            if from_child.read_line(&mut line).expect("report") == 0 {
                panic!("the dashboards' process ended:\n{report}");
            }
            if line.trim() == "done" {
                break;
            }
            report.push_str(&line);
        }
        let logged = count_log(&format!(
            "SELECT COUNT(*) FROM access_log WHERE id > {logged_before}"
        ));
        // Rows written by one INSERT share its timestamp (`access_log::append_shared`).
        let inserts = count_log(&format!(
            "SELECT COUNT(DISTINCT occurred_at) FROM access_log WHERE id > {logged_before}"
        ));
        // More streams, idle (a therapist's other tabs): what they add to the server's memory.
        std::thread::sleep(Duration::from_secs(1));
        let before = resident();
        say("idle");
        expect(&mut from_child, "idle");
        std::thread::sleep(Duration::from_secs(2));
        let during = resident();
        say("end");
        let status = child.wait().expect("wait");
        assert!(status.success(), "the dashboards' process failed");
        (report, (logged, inserts), before, during)
    })
    .await
    .expect("dashboards");
    hub.close();
    server.abort();
    let idle = n * idle_each;
    let per_stream = during.saturating_sub(before) as f64 / idle as f64;
    println!(
        "{engine:?}: {n} dashboards of one unit (62 patients) on one instance, {rounds} messages \
         from the unit's patients"
    );
    print!("{report}");
    println!(
        "  access-log rows written by the refetches: {logged} ({:.2} per refetch), in {inserts} \
         INSERTs (distinct timestamps; {:.1} rows each)",
        logged as f64 / (n * rounds) as f64,
        logged as f64 / inserts.max(1) as f64
    );
    println!(
        "  server memory (resident): {:.1} MiB, then {:.1} MiB with {idle} more streams open and \
         idle: {:.1} KiB per stream = {:.0} idle streams per GB (not counting the kernel's \
         socket buffers)",
        before as f64 / 1048576.0,
        during as f64 / 1048576.0,
        per_stream / 1024.0,
        1e9 / per_stream.max(1.0)
    );
    let _ = std::fs::remove_dir_all(&dir);
    t.finish().await;
}

/// What a dashboard saw in one round.
struct Seen {
    round: u64,
    event: Duration,
    refetched: Duration,
}

/// One dashboard: shown once, then (at `open`) its stream opened, and each care event of a new
/// round answered by fetching the page again, as `public/live.js` does. Whatever goes wrong is
/// reported at once.
async fn dashboard(
    http: reqwest::Client,
    addr: String,
    token: String,
    current: Arc<Mutex<(u64, Instant)>>,
    mut open: tokio::sync::watch::Receiver<bool>,
    report: tokio::sync::mpsc::UnboundedSender<Result<Option<Seen>, String>>,
) -> Result<(), String> {
    let cookie = format!("{SESSION_COOKIE}={token}");
    let page = |live: bool| {
        let request = http
            .get(format!("http://{addr}/mottagning"))
            .header("cookie", &cookie)
            .header("accept", "text/html")
            .timeout(Duration::from_secs(120));
        async move {
            let request = if live {
                request.header("lotsen-live", "1")
            } else {
                request
            };
            let page = request
                .send()
                .await
                .map_err(|e| format!("dashboard: {e}"))?;
            if !page.status().is_success() {
                return Err(format!("dashboard: {}", page.status()));
            }
            let body = page.text().await.map_err(|e| format!("dashboard: {e}"))?;
            if !body.contains("data-live-region") {
                return Err("not the dashboard".to_owned());
            }
            Ok(())
        }
    };
    // As the therapist opened it: its patients logged once, its session known.
    page(false).await?;
    let _ = report.send(Ok(None));
    open.wait_for(|open| *open)
        .await
        .map_err(|_| "never opened".to_owned())?;
    let mut stream = http
        .get(format!("http://{addr}/mottagning/handelser"))
        .header("cookie", &cookie)
        .header("accept", "text/event-stream")
        .send()
        .await
        .map_err(|e| format!("stream: {e}"))?;
    if !stream.status().is_success() {
        return Err(format!("stream: {}", stream.status()));
    }
    let _ = report.send(Ok(None));
    let mut buffer = String::new();
    let mut done_round = 0;
    loop {
        let chunk = match stream.chunk().await {
            Ok(Some(chunk)) => chunk,
            Ok(None) => return Err("the stream ended".to_owned()),
            Err(e) => return Err(format!("the stream broke: {e}")),
        };
        buffer.push_str(&String::from_utf8_lossy(&chunk));
        let mut changed = false;
        while let Some(end) = buffer.find("\n\n") {
            changed |= buffer[..end]
                .lines()
                .any(|l| l == "event: care" || l == "event: resync");
            buffer.drain(..end + 2);
        }
        let (round, started) = *current.lock().map_err(|_| "poisoned")?;
        if !changed || round == done_round {
            continue;
        }
        done_round = round;
        let event = started.elapsed();
        page(true).await?;
        let _ = report.send(Ok(Some(Seen {
            round,
            event,
            refetched: started.elapsed(),
        })));
    }
}

/// The dashboards' process: shows every dashboard and says `viewed`; at `open` opens every
/// stream and says `open`; at `go` runs the rounds and prints the figures.
async fn dashboards() {
    let addr = std::env::var("BENCH_ADDR").expect("BENCH_ADDR");
    let lines = |var: &str| -> Vec<String> {
        std::fs::read_to_string(std::env::var(var).expect(var))
            .expect(var)
            .lines()
            .map(str::to_owned)
            .collect()
    };
    let tokens = lines("BENCH_TOKENS");
    let patients: Vec<(String, String)> = lines("BENCH_PATIENTS")
        .into_iter()
        .filter_map(|l| l.split_once(' ').map(|(t, e)| (t.to_owned(), e.to_owned())))
        .collect();
    let rounds = setting("BENCH_ROUNDS", 20);
    let n = tokens.len();
    // No overall deadline: a stream stays open for the whole run (keep-alives every 15 s).
    let http = reqwest::Client::builder()
        .no_proxy()
        .read_timeout(Duration::from_secs(60))
        .build()
        .expect("client");
    // The round under way and when its submit started.
    let current: Arc<Mutex<(u64, Instant)>> = Arc::new(Mutex::new((0, Instant::now())));
    let (report_tx, mut reports) = tokio::sync::mpsc::unbounded_channel();
    let (open_tx, open_rx) = tokio::sync::watch::channel(false);
    for token in tokens {
        let task = dashboard(
            http.clone(),
            addr.clone(),
            token,
            current.clone(),
            open_rx.clone(),
            report_tx.clone(),
        );
        let report = report_tx.clone();
        tokio::spawn(async move {
            if let Err(error) = task.await {
                let _ = report.send(Err(error));
            }
        });
    }
    let mut next = async || -> Option<Seen> {
        match tokio::time::timeout(Duration::from_secs(300), reports.recv()).await {
            Ok(Some(Ok(seen))) => seen,
            Ok(Some(Err(error))) => panic!("a dashboard: {error}"),
            Ok(None) => panic!("the dashboards are gone"),
            Err(_) => panic!("no dashboard did anything for 5 minutes"),
        }
    };
    let mut stdin = String::new();
    for (said, then) in [("viewed", "open"), ("open", "go")] {
        for _ in 0..n {
            assert!(next().await.is_none(), "a refetch before any submit");
        }
        println!("{said}");
        stdin.clear();
        std::io::stdin().read_line(&mut stdin).expect("stdin");
        assert_eq!(stdin.trim(), then);
        if then == "open" {
            open_tx.send_replace(true);
        }
    }

    let mut events = Vec::new();
    let mut refetches = Vec::new();
    let mut slowest_rounds = Vec::new();
    for round in 1..=rounds {
        let (patient, enrolment) = &patients[(round as usize - 1) % patients.len()];
        *current.lock().expect("round") = (round, Instant::now());
        let sent = http
            .post(format!("http://{addr}/api/send_message"))
            .header("cookie", format!("{SESSION_COOKIE}={patient}"))
            .header("sec-fetch-site", "same-origin")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!(
                "enrolment={enrolment}&body=Hej%21&submit_key={round:064}"
            ))
            .timeout(Duration::from_secs(60))
            .send()
            .await
            .expect("send_message");
        assert!(
            sent.status().is_success(),
            "send_message: {}",
            sent.status()
        );
        let mut slowest = Duration::ZERO;
        for _ in 0..n {
            let seen = next().await.expect("a refetch");
            assert_eq!(seen.round, round, "a dashboard refetched twice");
            slowest = slowest.max(seen.refetched);
            events.push(seen.event);
            refetches.push(seen.refetched);
        }
        slowest_rounds.push(slowest);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    events.sort();
    refetches.sort();
    slowest_rounds.sort();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "  care event at the dashboard:  p50 {}  p99 {}",
        ms(percentile(&events, 0.5)),
        ms(percentile(&events, 0.99))
    );
    let _ = writeln!(
        out,
        "  submit to refetch complete:   p50 {}  p99 {}  max {}  ({} refetches; the last \
         dashboard of a round, median {})",
        ms(percentile(&refetches, 0.5)),
        ms(percentile(&refetches, 0.99)),
        ms(percentile(&refetches, 1.0)),
        refetches.len(),
        ms(percentile(&slowest_rounds, 0.5)),
    );
    print!("{out}");
    println!("done");
    // The idle streams: `BENCH_IDLE_EACH` more for each session, opened 200 at a time and held.
    stdin.clear();
    std::io::stdin().read_line(&mut stdin).expect("stdin");
    assert_eq!(stdin.trim(), "idle");
    let each = setting("BENCH_IDLE_EACH", 10) as usize;
    let all: Vec<String> = lines("BENCH_TOKENS")
        .into_iter()
        .flat_map(|t| std::iter::repeat_n(t, each))
        .collect();
    let mut held = Vec::with_capacity(all.len());
    for batch in all.chunks(200) {
        let opened = batch.iter().map(|token| {
            http.get(format!("http://{addr}/mottagning/handelser"))
                .header("cookie", format!("{SESSION_COOKIE}={token}"))
                .header("accept", "text/event-stream")
                .send()
        });
        for response in futures_util::future::join_all(opened).await {
            let response = response.expect("an idle stream");
            assert!(
                response.status().is_success(),
                "idle stream: {}",
                response.status()
            );
            held.push(response);
        }
    }
    println!("idle");
    stdin.clear();
    std::io::stdin().read_line(&mut stdin).expect("stdin");
    assert_eq!(stdin.trim(), "end");
    drop(held);
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    if std::env::var_os(CLIENT).is_some() {
        runtime.block_on(dashboards());
        return;
    }
    runtime.block_on(async {
        bench(Engine::Sqlite).await;
        bench(Engine::Postgres).await;
    });
}
