//! The therapist's live dashboard through the real router, on both engines: the unit's care
//! events reach its dashboards' streams and no other unit's, a stream resumes after the last
//! event it had, ends when the session does; flags are acknowledged and resolved with a
//! comment; what the dashboard writes to the access log.

#![allow(clippy::expect_used)]

use app::db_test;
use app::testing::{number as count, two_regions as world};
use axum::Router;
use axum::body::{Body, BodyDataStream};
use axum::http::{HeaderValue, Request, StatusCode, header};
use futures_util::StreamExt;
use lotsen_server::AppState;
use lotsen_server::live::Hub;
use sea_orm::{ConnectionTrait, DatabaseConnection};
use std::time::Duration;
use tower::ServiceExt;

use crate::common::{call, get, page, patient_session, send, staff_session};

const EVENTS: &str = "/mottagning/handelser";
const PLACE: &str = "block%3Am1%2Fp2%2Fphq";

/// The router with streams that check their session every 100 ms.
fn app(db: DatabaseConnection) -> Router {
    let mut state = AppState::with_defaults(db);
    state.live = Hub::checking_every(Duration::from_millis(100));
    crate::common::router_for(state)
}

/// PHQ-9 submitted in treatment 701 with every item at `value` but item 9 at `item9`.
fn phq(value: i32, item9: i32, key: char) -> String {
    let mut body = format!(
        "enrolment=701&place={PLACE}&submit_key={}&intent=submit",
        key.to_string().repeat(64)
    );
    for n in 1..=9 {
        let answer = if n == 9 { item9 } else { value };
        body.push_str(&format!("&answers%5Bphq9_{n}%5D={answer}"));
    }
    body
}

/// An open event stream.
struct Events {
    body: BodyDataStream,
    text: String,
}

/// Opens the event stream as the holder of `token` (with `Last-Event-ID` when given).
async fn open(
    router: &Router,
    path: &str,
    token: &str,
    last: Option<&str>,
) -> Result<Events, StatusCode> {
    let mut request: Request<Body> = page(path, token);
    request
        .headers_mut()
        .insert("sec-fetch-mode", "cors".parse().expect("value"));
    if let Some(last) = last {
        request
            .headers_mut()
            .insert("last-event-id", last.parse().expect("value"));
    }
    let response = router.clone().oneshot(request).await.expect("infallible");
    if response.status() != StatusCode::OK {
        return Err(response.status());
    }
    assert_eq!(
        response.headers()[header::CONTENT_TYPE],
        "text/event-stream",
        "a stream"
    );
    Ok(Events {
        body: response.into_body().into_data_stream(),
        text: String::new(),
    })
}

impl Events {
    /// The next event (its `id`, `event` and `data` lines), skipping keep-alives; `None` when
    /// none comes within `wait` or the stream ended.
    async fn next(&mut self, wait: Duration) -> Option<Vec<(String, String)>> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some(end) = self.text.find("\n\n") {
                let block: String = self.text.drain(..end + 2).collect();
                let fields: Vec<(String, String)> = block
                    .lines()
                    .filter(|l| !l.is_empty() && !l.starts_with(':'))
                    .filter_map(|l| l.split_once(':'))
                    .map(|(k, v)| (k.to_owned(), v.trim_start().to_owned()))
                    .collect();
                if fields.is_empty() {
                    continue;
                }
                return Some(fields);
            }
            match tokio::time::timeout_at(deadline, self.body.next()).await {
                Ok(Some(Ok(chunk))) => self.text.push_str(&String::from_utf8_lossy(&chunk)),
                _ => return None,
            }
        }
    }
}

/// A demo visitor's session as the therapist of a new sandbox.
async fn demo_therapist(router: &Router) -> String {
    let request = Request::post("/demo/start")
        .header(header::HOST, "lotsen.test")
        .header(header::ORIGIN, "https://lotsen.test")
        .header("sec-fetch-site", "same-origin")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from("persona=therapist"))
        .expect("request");
    let entered = send(router, request).await;
    let prefix = format!("{}=", app::auth::session::SESSION_COOKIE);
    entered
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.strip_prefix(&prefix))
        .and_then(|c| c.split(';').next())
        .filter(|token| !token.is_empty())
        .expect("a demo session")
        .to_owned()
}

fn field<'a>(event: &'a [(String, String)], name: &str) -> Option<&'a str> {
    event
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

db_test!(
    a_units_dashboards_hear_of_its_care_at_once_and_of_nothing_else,
    |db| {
        world(&db).await;
        let router = app(db.clone());
        let therapist = staff_session(&db, 101, 301).await;
        let region_b = staff_session(&db, 106, 306).await;
        let patient = patient_session(&db, 401).await;

        // Only clinical staff in an assignment get a stream.
        assert_eq!(
            open(&router, EVENTS, &patient, None).await.err(),
            Some(StatusCode::FORBIDDEN)
        );
        let anonymous = Request::get(EVENTS)
            .header(header::HOST, "lotsen.test")
            .body(Body::empty())
            .expect("request");
        assert_eq!(
            send(&router, anonymous).await.status,
            StatusCode::UNAUTHORIZED
        );

        let mut here = open(&router, EVENTS, &therapist, None)
            .await
            .expect("stream");
        let mut there = open(&router, EVENTS, &region_b, None)
            .await
            .expect("stream");
        // A therapist at the provider's other unit (A2), and a demo visitor's therapist.
        db.execute_unprepared(
            "INSERT INTO staff_person (id, given_name, family_name) VALUES (130, 'Alma', 'Andraenhet'); \
             INSERT INTO staff_hsa_identity (id, staff_person_id, hsa_id) VALUES (230, 130, 'SE-130'); \
             INSERT INTO staff_assignment (id, staff_hsa_identity_id, care_unit_id, commission_hsa_id, \
               commission_name, commission_purpose) \
               VALUES (330, 230, 12, 'SE-130-U', 'V', 'Vård och behandling'); \
             INSERT INTO staff_role (staff_person_id, care_provider_id, care_unit_id, role, granted_at) \
               VALUES (130, 1, 12, 'therapist', CURRENT_TIMESTAMP)",
        )
        .await
        .expect("therapist at A2");
        let other_unit = staff_session(&db, 130, 330).await;
        let mut beside = open(&router, EVENTS, &other_unit, None)
            .await
            .expect("stream");
        let demo = demo_therapist(&router).await;
        let mut sandboxed = open(&router, EVENTS, &demo, None)
            .await
            .expect("a demo therapist's stream");

        // The patient answers PHQ-9 with item 9 at 1: an urgent flag, and an event at once.
        let sent = send(&router, call("answer_form", &phq(1, 1, 'a'), &patient)).await;
        assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
        let event = here.next(Duration::from_secs(5)).await.expect("an event");
        assert_eq!(field(&event, "event"), Some("care"));
        assert_eq!(field(&event, "data"), Some("flag"), "a flag was raised");
        let id = field(&event, "id").expect("an id").to_owned();
        assert!(id.parse::<i64>().expect("numeric") > 0);
        // Nothing of it reaches another care provider's unit, another unit of the same
        // provider, or a demo sandbox.
        assert_eq!(there.next(Duration::from_millis(500)).await, None);
        assert_eq!(beside.next(Duration::from_millis(100)).await, None);
        assert_eq!(sandboxed.next(Duration::from_millis(100)).await, None);
        // The event holds no clinical content: a kind and an id.
        assert!(
            event
                .iter()
                .all(|(k, _)| ["id", "event", "data"].contains(&k.as_str()))
        );

        // A stream opened after it, from the id the page was rendered at, has it first; one
        // that resumes after it (the browser's Last-Event-ID) does not have it again.
        let before = id.parse::<i64>().expect("numeric") - 1;
        let mut again = open(
            &router,
            &format!("{EVENTS}?after={before}"),
            &therapist,
            None,
        )
        .await
        .expect("stream");
        let replayed = again.next(Duration::from_secs(5)).await.expect("replayed");
        assert_eq!(field(&replayed, "id"), Some(id.as_str()));
        let mut resumed = open(&router, EVENTS, &therapist, Some(&id))
            .await
            .expect("stream");
        assert_eq!(resumed.next(Duration::from_millis(300)).await, None);

        // A message from the patient: the next event, in order, on every open stream.
        let message = format!("enrolment=701&body=Hej&submit_key={}", "b".repeat(64));
        let sent = send(&router, call("send_message", &message, &patient)).await;
        assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
        for stream in [&mut here, &mut again, &mut resumed] {
            let next = stream
                .next(Duration::from_secs(5))
                .await
                .expect("the message");
            assert_eq!(field(&next, "data"), Some("message"));
            assert!(
                field(&next, "id")
                    .expect("id")
                    .parse::<i64>()
                    .expect("numeric")
                    > id.parse::<i64>().expect("numeric")
            );
        }
        assert_eq!(there.next(Duration::from_millis(300)).await, None);
        assert_eq!(beside.next(Duration::from_millis(100)).await, None);
        assert_eq!(sandboxed.next(Duration::from_millis(100)).await, None);

        // The other unit's stream is not merely deaf: its own patient's message reaches it,
        // and not the first unit's.
        let maja = patient_session(&db, 403).await;
        let message = format!("enrolment=703&body=Hej&submit_key={}", "c".repeat(64));
        let sent = send(&router, call("send_message", &message, &maja)).await;
        assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
        let heard = beside
            .next(Duration::from_secs(5))
            .await
            .expect("A2's event");
        assert_eq!(field(&heard, "data"), Some("message"));
        assert_eq!(here.next(Duration::from_millis(300)).await, None);
        assert_eq!(sandboxed.next(Duration::from_millis(100)).await, None);

        // Signing out ends the stream: `end`, then the stream closes.
        let out = send(
            &router,
            crate::common::form_post("/logga-ut", "", &therapist),
        )
        .await;
        assert_eq!(out.status, StatusCode::SEE_OTHER);
        let end = here.next(Duration::from_secs(5)).await.expect("end");
        assert_eq!(field(&end, "event"), Some("end"));
        assert_eq!(here.next(Duration::from_secs(1)).await, None, "closed");
    }
);

db_test!(
    the_dashboard_shows_who_needs_the_team_and_flags_are_acknowledged_and_resolved,
    |db| {
        world(&db).await;
        let router = app(db.clone());
        let therapist = staff_session(&db, 101, 301).await;
        let region_b = staff_session(&db, 106, 306).await;
        let patient = patient_session(&db, 401).await;
        let dashboard_rows = || {
            count(
                &db,
                "SELECT COUNT(*) FROM access_log WHERE object_type = 'dashboard'",
            )
        };

        let first = get(&router, "/mottagning", &therapist).await;
        assert_eq!(first.status, StatusCode::OK);
        assert!(first.body.contains("Inga öppna flaggor."), "no flag yet");
        assert!(
            first
                .body
                .contains("data-live-events=\"/mottagning/handelser\"")
        );
        assert!(
            first.body.contains("Uppdatera"),
            "a refresh link without JavaScript"
        );
        let shown = dashboard_rows().await;
        assert!(shown >= 1, "the first dashboard logs every patient shown");

        // Nothing changed: the same dashboard again logs nothing new.
        get(&router, "/mottagning", &therapist).await;
        assert_eq!(dashboard_rows().await, shown);

        // An urgent answer: a flag on the dashboard, its patient first, logged once.
        let sent = send(&router, call("answer_form", &phq(1, 1, 'a'), &patient)).await;
        assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
        let now = get(&router, "/mottagning", &therapist).await;
        assert!(now.body.contains("Brådskande"), "{}", now.body);
        assert!(
            now.body
                .contains("PHQ-9 fråga 9: tankar på döden eller att skada sig själv")
        );
        assert!(now.body.contains("Inte kvitterad"));
        assert_eq!(
            dashboard_rows().await,
            shown + 1,
            "one row: the patient who changed"
        );
        assert_eq!(
            count(
                &db,
                "SELECT COUNT(*) FROM access_log WHERE object_type = 'dashboard' AND patient_id = 401"
            )
            .await,
            2
        );
        let flag: i64 = count(&db, "SELECT MAX(id) FROM flag WHERE enrolment_id = 701").await;
        let body = format!("flag_id={flag}");

        // Another care provider's therapist and the patient cannot touch it.
        assert_eq!(
            send(&router, call("acknowledge_flag", &body, &region_b))
                .await
                .status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            send(&router, call("acknowledge_flag", &body, &patient))
                .await
                .status,
            StatusCode::FORBIDDEN
        );
        assert!(
            !get(&router, "/mottagning", &region_b)
                .await
                .body
                .contains("phq9_item9")
        );

        // Acknowledged: by whom, shown; twice changes nothing.
        for _ in 0..2 {
            let acked = send(&router, call("acknowledge_flag", &body, &therapist)).await;
            assert_eq!(acked.status, StatusCode::OK, "{}", acked.body);
        }
        assert_eq!(
            count(&db, &format!("SELECT COUNT(*) FROM flag WHERE id = {flag} AND acknowledged_by = 101 AND resolved_at IS NULL")).await,
            1
        );
        assert!(
            get(&router, "/mottagning", &therapist)
                .await
                .body
                .contains("Kvitterad av")
        );

        // Resolving takes a comment; without one nothing changes.
        let empty = send(
            &router,
            call(
                "resolve_flag",
                &format!("{body}&comment=%20%20"),
                &therapist,
            ),
        )
        .await;
        assert_eq!(
            empty.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            empty.body
        );
        assert!(empty.body.contains("comment_empty"), "{}", empty.body);
        assert_eq!(
            count(
                &db,
                &format!("SELECT COUNT(*) FROM flag WHERE id = {flag} AND resolved_at IS NULL")
            )
            .await,
            1
        );
        let resolved = send(
            &router,
            call(
                "resolve_flag",
                &format!("{body}&comment=Ringde+patienten%2C+plan+finns."),
                &therapist,
            ),
        )
        .await;
        assert_eq!(resolved.status, StatusCode::OK, "{}", resolved.body);
        assert_eq!(
            count(&db, &format!("SELECT COUNT(*) FROM flag WHERE id = {flag} AND resolved_by = 101 AND resolution = 'Ringde patienten, plan finns.'")).await,
            1
        );
        // Resolved is final.
        assert_eq!(
            send(
                &router,
                call("resolve_flag", &format!("{body}&comment=igen"), &therapist)
            )
            .await
            .status,
            StatusCode::CONFLICT
        );
        assert_eq!(
            count(
                &db,
                "SELECT COUNT(*) FROM access_log WHERE object_type IN ('flag_acknowledged', 'flag_resolved') AND patient_id = 401 AND action = 'write'"
            )
            .await,
            2
        );
        let after = get(&router, "/mottagning", &therapist).await;
        assert!(after.body.contains("Inga öppna flaggor."), "{}", after.body);
        // Each change is a care event of the unit (answer with flag, acknowledged, resolved).
        assert_eq!(
            count(
                &db,
                "SELECT COUNT(*) FROM care_event WHERE enrolment_id = 701 AND kind = 'flag'"
            )
            .await,
            3
        );

        // A message from the patient is unread until the care team opens the record: both
        // are events (the team's dashboards show the count); a second look changes nothing.
        db.execute_unprepared("UPDATE enrolment SET responsible_staff_id = 101 WHERE id = 701")
            .await
            .expect("team");
        let messages = || {
            count(
                &db,
                "SELECT COUNT(*) FROM care_event WHERE enrolment_id = 701 AND kind = 'message'",
            )
        };
        let message = format!("enrolment=701&body=Hej&submit_key={}", "c".repeat(64));
        let sent = send(&router, call("send_message", &message, &patient)).await;
        assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
        assert_eq!(messages().await, 1);
        let unread = count(
            &db,
            "SELECT COUNT(*) FROM message WHERE enrolment_id = 701 AND read_at IS NULL",
        );
        assert_eq!(unread.await, 1);
        get(&router, "/mottagning/patient/401", &therapist).await;
        assert_eq!(messages().await, 2, "read by the team");
        get(&router, "/mottagning/patient/401", &therapist).await;
        assert_eq!(messages().await, 2, "nothing more to read");
    }
);

/// `lotsen serve` in real mode on the database (the identity provider is never reached: only
/// sessions made here are used), killed when dropped.
struct Instance {
    child: std::process::Child,
    port: u16,
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn instance(url: &str) -> Instance {
    use std::io::BufRead;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_lotsen"))
        .args(["serve", "--addr", "127.0.0.1:0", "--database-url", url])
        .args(["--staff-oidc-issuer", "https://idp.region.example"])
        .args(["--staff-oidc-client-id", "lotsen"])
        .args(["--public-url", "http://127.0.0.1"])
        .arg("--media-dir")
        .arg(std::env::temp_dir().join("lotsen-live-test"))
        .env("LOTSEN_LOG_FORMAT", "text")
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .expect("run lotsen");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if let Some(at) = line.find("http://127.0.0.1:") {
                let port: String = line[at + 17..]
                    .chars()
                    .take_while(char::is_ascii_digit)
                    .collect();
                let _ = tx.send(port.parse::<u16>().expect("port"));
            }
        }
    });
    let port = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("the second instance did not start");
    Instance { child, port }
}

/// A server-function call to another process, as a browser on its pages would send it.
async fn call_at(port: u16, function: &str, body: &str, token: &str) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    let request = format!(
        "POST /api/{function} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\
         Origin: http://127.0.0.1:{port}\r\nSec-Fetch-Site: same-origin\r\n\
         Content-Type: application/x-www-form-urlencoded\r\n\
         Cookie: {}={token}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        app::auth::session::SESSION_COOKIE,
        body.len()
    );
    stream.write_all(request.as_bytes()).await.expect("send");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.expect("answer");
    answer
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0)
}

db_test!(
    on_postgresql_an_event_through_one_instance_reaches_a_dashboard_on_another_and_none_is_lost,
    |db, url| {
        use sea_orm::DbBackend;
        // SQLite is one process's database: nothing to wake across instances.
        if db.get_database_backend() != DbBackend::Postgres {
            return;
        }
        world(&db).await;
        let router = app(db.clone());
        let therapist = staff_session(&db, 101, 301).await;
        let patient = patient_session(&db, 401).await;
        let other = instance(&url);
        let message = |n: u32| format!("enrolment=701&body=Meddelande+{n}&submit_key={:064}", n);
        let id_of = |event: &[(String, String)]| -> i64 {
            field(event, "id").expect("id").parse().expect("numeric")
        };

        // A message through the other instance reaches the dashboard's stream here.
        let mut stream = open(&router, EVENTS, &therapist, None)
            .await
            .expect("stream");
        assert_eq!(
            call_at(other.port, "send_message", &message(1), &patient).await,
            200
        );
        let first = stream
            .next(Duration::from_secs(10))
            .await
            .expect("across instances");
        assert_eq!(field(&first, "data"), Some("message"));
        let mut ids = vec![id_of(&first)];

        // The listeners' connections are cut (both instances'), and messages are committed
        // while they reconnect: they still arrive, once and in order.
        let cut = db
            .execute_unprepared(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE datname = current_database() AND query LIKE 'LISTEN%' \
                 AND pid <> pg_backend_pid()",
            )
            .await
            .expect("terminate");
        let _ = cut;
        for n in 2..=3 {
            assert_eq!(
                call_at(other.port, "send_message", &message(n), &patient).await,
                200
            );
        }
        for _ in 2..=3 {
            let event = stream
                .next(Duration::from_secs(15))
                .await
                .expect("after the cut");
            assert_eq!(field(&event, "data"), Some("message"));
            ids.push(id_of(&event));
        }

        // The stream itself is cut, and two more are committed: the browser's reconnect
        // (Last-Event-ID) has exactly those.
        drop(stream);
        for n in 4..=5 {
            assert_eq!(
                call_at(other.port, "send_message", &message(n), &patient).await,
                200
            );
        }
        let last = ids.last().expect("ids").to_string();
        let mut resumed = open(&router, EVENTS, &therapist, Some(&last))
            .await
            .expect("stream");
        for _ in 4..=5 {
            let event = resumed
                .next(Duration::from_secs(10))
                .await
                .expect("resumed");
            ids.push(id_of(&event));
        }
        assert_eq!(
            resumed.next(Duration::from_millis(500)).await,
            None,
            "no more"
        );
        assert!(
            ids.windows(2).all(|w| w[0] < w[1]),
            "in order, none twice: {ids:?}"
        );
        assert_eq!(
            count(
                &db,
                "SELECT COUNT(*) FROM care_event WHERE kind = 'message' AND enrolment_id = 701"
            )
            .await,
            5
        );
    }
);

db_test!(
    a_live_refresh_brings_the_live_region_without_the_enrolment_section,
    |db| {
        world(&db).await;
        let router = app(db.clone());
        let therapist = staff_session(&db, 101, 301).await;
        let whole = get(&router, "/mottagning", &therapist).await;
        assert_eq!(whole.status, StatusCode::OK, "{}", whole.body);
        assert!(whole.body.contains("Skriv in patienter"), "{}", whole.body);
        // What `public/live.js` fetches: the page again, of which it keeps the live region
        // (and, after a refusal, looks for the live box).
        let mut request = page("/mottagning", &therapist);
        request
            .headers_mut()
            .insert("lotsen-live", HeaderValue::from_static("1"));
        let live = send(&router, request).await;
        assert_eq!(live.status, StatusCode::OK, "{}", live.body);
        for mark in ["data-live-events", "data-live-region", "Petra", "Olle"] {
            assert!(live.body.contains(mark), "{mark}: {}", live.body);
        }
        assert!(!live.body.contains("Skriv in patienter"), "{}", live.body);
    }
);

db_test!(
    dashboards_that_wait_together_share_one_read_made_after_they_came,
    |db| {
        use app::clinic::together::testing::{
            hold_answers, hold_reads, reads, reads_ended, waiting,
        };
        async fn until(what: &str, done: impl Fn() -> bool) {
            let started = std::time::Instant::now();
            while !done() {
                assert!(started.elapsed() < Duration::from_secs(10), "{what}");
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
        world(&db).await;
        let router = app(db.clone());
        let first = staff_session(&db, 101, 301).await;
        let second = staff_session(&db, 101, 301).await;
        let load = |token: &str| {
            let (router, token) = (router.clone(), token.to_owned());
            tokio::spawn(async move { get(&router, "/mottagning", &token).await })
        };
        let maja_logged = || {
            count(
                &db,
                "SELECT COUNT(*) FROM access_log WHERE patient_id = 403 AND action = 'list'",
            )
        };

        // A read of unit A1's dashboard runs (held): one session's dashboard comes, then the
        // care changes (Maja's treatment moves to A1), then another session's.
        let held = hold_reads(&db, 11).await.expect("a pool");
        let one = load(&first);
        until("the first never came", || waiting(&db, 11) == 1).await;
        db.execute_unprepared("UPDATE enrolment SET care_unit_id = 11 WHERE id = 703")
            .await
            .expect("move");
        let two = load(&second);
        until("the second never came", || waiting(&db, 11) == 2).await;
        let before = reads(&db, 11);
        drop(held);
        // One read for both, made after both came: each shows Maja, and logs her for itself.
        for answer in [one.await.expect("first"), two.await.expect("second")] {
            assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
            for name in ["Petra", "Olle", "Maja"] {
                assert!(answer.body.contains(name), "{name}: {}", answer.body);
            }
        }
        assert_eq!(reads(&db, 11) - before, 1);
        assert_eq!(maja_logged().await, 2);

        // A dashboard that comes while a read runs is not given that read's rows: Maja's
        // treatment moves back after the first's read and before the second comes.
        let held = hold_answers(&db, 11).await.expect("a pool");
        let one = load(&first);
        until("the first was never read", || {
            reads_ended(&db, 11) - before == 2
        })
        .await;
        db.execute_unprepared("UPDATE enrolment SET care_unit_id = 12 WHERE id = 703")
            .await
            .expect("move back");
        let two = load(&second);
        until("the second never came", || waiting(&db, 11) == 1).await;
        drop(held);
        let (one, two) = (one.await.expect("first"), two.await.expect("second"));
        assert!(one.body.contains("Maja"), "{}", one.body);
        assert!(two.body.contains("Olle"), "{}", two.body);
        assert!(!two.body.contains("Maja"), "{}", two.body);
        assert_eq!(reads(&db, 11) - before, 3);
    }
);
