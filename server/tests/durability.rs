//! What the server acknowledged survives the server being killed (`kill -9`): a draft saved, a
//! questionnaire submitted and a message sent are all there when it is started again, on both
//! engines. And the server refuses to start on a database that does not make commits durable.
//!
//! These tests run the real `lotsen` binary and talk HTTP to it over a socket. On PostgreSQL
//! the database server itself is also stopped with `-m immediate` (a crash: no checkpoint) and
//! started again, so the tests of this file run one at a time.

#![allow(clippy::expect_used)]

use app::auth::session::{PATIENT_COOKIE, SESSION_COOKIE};
use app::testing::number as count;
use sea_orm::{ConnectionTrait, DbBackend};
use std::io::{BufRead, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The tests of this file one at a time: one of them restarts PostgreSQL.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Stops the PostgreSQL cluster that serves the test database as a crash would
/// (`pg_ctlcluster … stop -m immediate`: no checkpoint) and starts it again. The cluster is the
/// one `pg_lsclusters` lists with the database's port and data directory; a machine without
/// such a local Debian cluster fails the test unless `LOTSEN_TEST_SKIP_POSTGRES_CRASH=1` says
/// to skip this step deliberately.
async fn crash_postgres(db: &sea_orm::DatabaseConnection) -> bool {
    if std::env::var("LOTSEN_TEST_SKIP_POSTGRES_CRASH").as_deref() == Ok("1") {
        eprintln!("PostgreSQL not crashed: LOTSEN_TEST_SKIP_POSTGRES_CRASH=1");
        return false;
    }
    let show = |setting: &'static str| async move {
        let row = db
            .query_one(sea_orm::Statement::from_string(
                DbBackend::Postgres,
                format!("SHOW {setting}"),
            ))
            .await
            .expect("show")
            .expect("row");
        row.try_get_by_index::<String>(0).expect("setting")
    };
    let (port, data) = (show("port").await, show("data_directory").await);
    let clusters = Command::new("pg_lsclusters")
        .arg("--no-header")
        .output()
        .expect("pg_lsclusters (or set LOTSEN_TEST_SKIP_POSTGRES_CRASH=1)");
    let listing = String::from_utf8_lossy(&clusters.stdout).into_owned();
    let (version, cluster) = listing
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .find(|f| f.len() >= 6 && f[2] == port && f[5] == data)
        .map(|f| (f[0].to_owned(), f[1].to_owned()))
        .unwrap_or_else(|| panic!("no local cluster on port {port} at {data}: {listing}"));
    for action in [vec!["stop", "-m", "immediate"], vec!["start"]] {
        let status = Command::new("pg_ctlcluster")
            .args(["--skip-systemctl-redirect", &version, &cluster])
            .args(&action)
            .status()
            .expect("pg_ctlcluster");
        assert!(status.success(), "pg_ctlcluster {action:?}");
    }
    for _ in 0..60 {
        let ready = Command::new("pg_isready")
            .args(["-q", "-p", &port])
            .status()
            .is_ok_and(|s| s.success());
        if ready {
            return true;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    panic!("PostgreSQL did not come back");
}

/// A server process, killed when dropped (also when an assertion fails first).
struct Server(Child);

impl Server {
    fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A port nobody listens on now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("port")
}

/// `lotsen serve` on the database, in demo mode, once it listens.
fn serve(url: &str, port: u16) -> Server {
    let media = std::env::temp_dir().join(format!("lotsen-durability-{port}"));
    let mut child = Command::new(env!("CARGO_BIN_EXE_lotsen"))
        .args([
            "serve",
            "--addr",
            &format!("127.0.0.1:{port}"),
            "--database-url",
            url,
        ])
        .arg("--media-dir")
        .arg(&media)
        .env("LOTSEN_LOG_FORMAT", "text")
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("run lotsen");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = std::io::BufReader::new(stdout).lines();
    let listening = lines
        .by_ref()
        .map_while(Result::ok)
        .any(|line| line.contains("Lotsen is listening"));
    assert!(listening, "the server did not start");
    // Keep reading its output so that it never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Server(child)
}

struct Reply {
    status: u16,
    head: String,
    body: String,
}

/// One HTTP/1.1 request from "our own page" (same origin), with the session cookie if any.
fn request(port: u16, path: &str, body: &str, cookie: Option<&str>) -> Reply {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let cookie = cookie.map_or(String::new(), |c| {
        format!("Cookie: {SESSION_COOKIE}={c}\r\n")
    });
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nOrigin: http://127.0.0.1:{port}\r\n\
         Sec-Fetch-Site: same-origin\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: {}\r\nConnection: close\r\n{cookie}\r\n{body}",
        body.len()
    )
    .expect("send");
    let mut raw = String::new();
    stream.read_to_string(&mut raw).expect("read");
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status");
    Reply {
        status,
        head: head.to_owned(),
        body: body.to_owned(),
    }
}

fn session_of(reply: &Reply) -> String {
    reply
        .head
        .lines()
        .filter_map(|l| l.split_once(':'))
        .filter(|(name, _)| name.eq_ignore_ascii_case("set-cookie"))
        .find_map(|(_, value)| {
            // The staff persona's cookie, or the demo patient's beside it.
            let value = value.trim();
            value
                .strip_prefix(&format!("{SESSION_COOKIE}="))
                .or_else(|| value.strip_prefix(&format!("{PATIENT_COOKIE}=")))
                .and_then(|v| v.split(';').next())
                .map(str::to_owned)
        })
        .expect("a session cookie")
}

fn key(c: char) -> String {
    c.to_string().repeat(64)
}

/// Runs a test body on SQLite or PostgreSQL, alone: the lock is taken before the database is
/// made, because a crash of PostgreSQL would break another test's set-up too.
fn alone<F, Fut>(postgres: bool, body: F)
where
    F: FnOnce(sea_orm::DatabaseConnection, String) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let _alone = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    app::testing::runtime().block_on(async {
        let test = if postgres {
            match app::testing::TestDb::postgres().await {
                Some(test) => test,
                None => return,
            }
        } else {
            app::testing::TestDb::sqlite().await
        };
        body(test.db.clone(), test.url.clone()).await;
        test.finish().await;
    });
}

#[test]
fn acknowledged_writes_survive_a_killed_server_on_sqlite() {
    alone(false, survive);
}

#[test]
fn acknowledged_writes_survive_a_killed_server_and_a_crashed_postgresql() {
    alone(true, survive);
}

#[test]
fn the_server_refuses_postgresql_without_durable_commits() {
    alone(true, refuse);
}

#[test]
fn the_server_syncs_sqlite_commits_in_full() {
    alone(false, refuse);
}

async fn survive(db: sea_orm::DatabaseConnection, url: String) {
    let port = free_port();
    let mut server = serve(&url, port);
    let entered = request(port, "/demo/start", "persona=patient", None);
    assert_eq!(entered.status, 303, "{}", entered.body);
    let session = session_of(&entered);
    let enrolment = count(
        &db,
        &format!(
            "SELECT e.id FROM enrolment e JOIN patient p ON p.id = e.patient_id \
             WHERE p.sandbox_id IS NOT NULL AND p.personnummer = '{}'",
            app::demo::PATIENT_PERSONNUMMER
        ),
    )
    .await;

    // A draft saved, a form submitted (this week's, the demo patient's fourth), a message sent:
    // each acknowledged with 200.
    let draft = request(
        port,
        "/api/save_homework",
        &format!(
            "enrolment={enrolment}&place=block%3Aoro-2%2Foro-hemuppgift-2%2Foro-sortera\
             &fields%5Bsortera-tanke%5D=UTKAST-SOM-SKA-FINNAS&submit_key={}&intent=save",
            key('a')
        ),
        Some(&session),
    );
    assert_eq!(draft.status, 200, "{}", draft.body);
    let answers: String = (1..=7)
        .map(|n| format!("&answers%5Bgad7_{n}%5D=1"))
        .collect();
    let form = request(
        port,
        "/api/answer_form",
        &format!(
            "enrolment={enrolment}&place=schedule%3Aoro-gad7-vecka%2F3\
             &submit_key={}&intent=submit{answers}",
            key('b')
        ),
        Some(&session),
    );
    assert_eq!(form.status, 200, "{}", form.body);
    let message = request(
        port,
        "/api/send_message",
        &format!(
            "enrolment={enrolment}&body=MEDDELANDE-SOM-SKA-FINNAS&submit_key={}",
            key('c')
        ),
        Some(&session),
    );
    assert_eq!(message.status, 200, "{}", message.body);

    // Killed at once (SIGKILL: no shutdown, no flush of its own); PostgreSQL crashed too, then
    // both started again.
    server.kill();
    let db = match db.get_database_backend() {
        DbBackend::Postgres if crash_postgres(&db).await => {
            sea_orm::Database::connect(app::db::connect_options(&url))
                .await
                .expect("reconnect")
        }
        _ => db,
    };
    let mut again = serve(&url, port);
    for (what, sql) in [
        (
            "the draft",
            "SELECT COUNT(*) FROM homework_entry WHERE state = 'draft' \
             AND fields LIKE '%UTKAST-SOM-SKA-FINNAS%'",
        ),
        (
            "the submitted form",
            "SELECT COUNT(*) FROM form_response WHERE state = 'submitted' AND total = 7",
        ),
        (
            "the message",
            "SELECT COUNT(*) FROM message WHERE body = 'MEDDELANDE-SOM-SKA-FINNAS'",
        ),
    ] {
        assert_eq!(count(&db, sql).await, 1, "{what} after kill -9");
    }
    // The restarted server still knows the session and the treatment.
    let thread = request(
        port,
        "/api/my_messages",
        &format!("enrolment={enrolment}"),
        Some(&session),
    );
    assert_eq!(thread.status, 200, "{}", thread.body);
    assert!(thread.body.contains("MEDDELANDE-SOM-SKA-FINNAS"));
    again.kill();
}

async fn refuse(db: sea_orm::DatabaseConnection, url: String) {
    {
        match db.get_database_backend() {
            DbBackend::Postgres => {
                // This database only: the cluster's own setting stays as it is.
                let database = url.rsplit('/').next().unwrap_or_default().to_owned();
                db.execute_unprepared(&format!(
                    "ALTER DATABASE {database} SET synchronous_commit = off"
                ))
                .await
                .expect("alter");
                // It must stop by itself; one that serves is killed after 60 s and fails the test.
                let mut child = Command::new(env!("CARGO_BIN_EXE_lotsen"))
                    .args(["serve", "--addr", "127.0.0.1:0", "--database-url", &url])
                    .env("NO_COLOR", "1")
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .expect("run lotsen");
                let mut ended = None;
                for _ in 0..600 {
                    ended = child.try_wait().expect("wait");
                    if ended.is_some() {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
                let _ = child.kill();
                let output = child.wait_with_output().expect("output");
                let status =
                    ended.expect("the server started on a database without durable commits");
                assert!(!status.success());
                let said = String::from_utf8_lossy(&output.stderr).into_owned()
                    + &String::from_utf8_lossy(&output.stdout);
                assert!(said.contains("synchronous_commit"), "{said}");
            }
            _ => {
                // SQLite: every connection the server opens writes in WAL mode, synced in full.
                let server_db = lotsen_server::db::connect(&url).await.expect("connect");
                for pragma in ["journal_mode", "synchronous"] {
                    let row = server_db
                        .query_one(sea_orm::Statement::from_string(
                            DbBackend::Sqlite,
                            format!("PRAGMA {pragma}"),
                        ))
                        .await
                        .expect("pragma")
                        .expect("row");
                    let value = row
                        .try_get_by_index::<String>(0)
                        .or_else(|_| row.try_get_by_index::<i64>(0).map(|n| n.to_string()))
                        .expect("value");
                    let expected = if pragma == "journal_mode" { "wal" } else { "2" };
                    assert_eq!(value, expected, "{pragma}");
                }
                lotsen_server::db::check_durability(&server_db)
                    .await
                    .expect("durable");
            }
        }
    }
}
