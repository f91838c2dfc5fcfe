//! Notifications leave through real servers: two `lotsen notify` processes work one outbox
//! while the mail server and the SMS gateway are down, and once they are back every
//! notification arrives exactly once, each byte-equal to its template apart from the link. The
//! far ends are a real SMTP server (npm `smtp-server`) and an HTTP endpoint where an SMS
//! gateway would be (`end2end/notify-sink.mjs`; `make e2e-deps` installs it). A patient
//! confirms a new address with the code that arrives there.

#![allow(clippy::expect_used)]

use app::db_test;
use app::notify::{PATIENT_SUBJECT, Recipient, STAFF_SUBJECT, Template};
use app::testing::number as count;
use std::io::BufRead;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const PUBLIC_URL: &str = "https://lotsen.region.example";
const TOKEN: &str = "gateway-token-for-tests";

/// A child process, killed when dropped (also when an assertion fails first).
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("port")
}

/// Starts a process and collects its stdout lines; returns once a line contains `ready`.
fn start(command: &mut Command, ready: &str) -> (Process, Arc<Mutex<Vec<String>>>) {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start");
    let stdout = child.stdout.take().expect("stdout");
    let lines = Arc::new(Mutex::new(Vec::new()));
    let (tx, rx) = std::sync::mpsc::channel();
    let (sink, ready) = (lines.clone(), ready.to_owned());
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if line.contains(&ready) {
                let _ = tx.send(());
            }
            sink.lock().unwrap_or_else(|e| e.into_inner()).push(line);
        }
    });
    let process = Process(child);
    rx.recv_timeout(Duration::from_secs(30))
        .expect("the process did not get ready");
    (process, lines)
}

/// `lotsen notify` on the database, sending to the given ports.
fn sender(url: &str, smtp: u16, gateway: u16) -> (Process, Arc<Mutex<Vec<String>>>) {
    start(
        Command::new(env!("CARGO_BIN_EXE_lotsen"))
            .arg("notify")
            .args(["--database-url", url])
            .args(["--smtp-url", &format!("smtp://127.0.0.1:{smtp}")])
            .args(["--mail-from", "lotsen@region.example"])
            .args([
                "--sms-gateway-url",
                &format!("http://127.0.0.1:{gateway}/sms"),
            ])
            .args(["--sms-gateway-token", TOKEN])
            .args(["--public-url", PUBLIC_URL])
            // Real mode (the provider is not reached: a sender never signs anyone in).
            .args(["--staff-oidc-issuer", "https://idp.region.example"])
            .args(["--staff-oidc-client-id", "lotsen"])
            // Whatever the hour the test runs at; the quiet hours have their own unit test.
            .args(["--notify-quiet-hours", "none"])
            .args(["--notify-retry-seconds", "1"])
            .args(["--notify-poll-ms", "100"])
            .env("LOTSEN_LOG_FORMAT", "text")
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1"),
        "notification sender started",
    )
}

fn sink(smtp: u16, gateway: u16) -> (Process, Arc<Mutex<Vec<String>>>) {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../end2end");
    assert!(
        std::path::Path::new(dir)
            .join("node_modules/smtp-server")
            .is_dir(),
        "the test's SMTP server is not installed: run `make e2e-deps`"
    );
    start(
        Command::new("node")
            .current_dir(dir)
            .arg("notify-sink.mjs")
            .arg(smtp.to_string())
            .arg(gateway.to_string()),
        r#""kind":"listening""#,
    )
}

/// Polls until the condition holds, for at most `secs` seconds.
async fn until<F, Fut>(secs: u64, what: &str, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !condition().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// One e-mail as the SMTP server took it: the envelope's recipient, the headers (unfolded) and
/// the body with the wire's CRLF line ends made LF.
struct Mail {
    to: String,
    headers: Vec<(String, String)>,
    body: String,
}

impl Mail {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn received(lines: &Arc<Mutex<Vec<String>>>) -> (Vec<Mail>, Vec<serde_json::Value>) {
    let lines = lines.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let records: Vec<serde_json::Value> = lines
        .iter()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    let mails = records
        .iter()
        .filter(|r| r["kind"] == "email")
        .map(|r| {
            let to = r["to"].as_array().expect("to");
            assert_eq!(to.len(), 1, "one recipient per message");
            // The last line end is the SMTP transfer's own (the one before `.`).
            let raw = r["data"].as_str().expect("data");
            let data = raw.strip_suffix("\r\n").unwrap_or(raw);
            let (head, body) = data.split_once("\r\n\r\n").expect("headers, then body");
            let mut headers: Vec<(String, String)> = Vec::new();
            for line in head.split("\r\n") {
                match (line.starts_with([' ', '\t']), headers.last_mut()) {
                    (true, Some((_, value))) => value.push_str(line),
                    _ => {
                        let (name, value) = line.split_once(':').expect("a header");
                        headers.push((name.to_owned(), value.trim().to_owned()));
                    }
                }
            }
            Mail {
                to: to[0].as_str().expect("address").to_owned(),
                headers,
                body: body.replace("\r\n", "\n"),
            }
        })
        .collect();
    let sms = records.into_iter().filter(|r| r["kind"] == "sms").collect();
    (mails, sms)
}

#[test]
fn notifications_sent_while_the_servers_are_down_arrive_once_with_two_senders_on_postgresql() {
    app::testing::runtime().block_on(async {
        if let Some(test) = app::testing::TestDb::postgres().await {
            outage_then_delivery(&test.db, &test.url).await;
            test.finish().await;
        }
    });
}

#[test]
fn notifications_sent_while_the_servers_are_down_arrive_once_with_two_senders_on_sqlite() {
    app::testing::runtime().block_on(async {
        let test = app::testing::TestDb::sqlite().await;
        outage_then_delivery(&test.db, &test.url).await;
        test.finish().await;
    });
}

async fn outage_then_delivery(db: &sea_orm::DatabaseConnection, url: &str) {
    use sea_orm::ConnectionTrait;
    app::testing::two_regions(db).await;
    db.execute_unprepared(
        "UPDATE patient SET email = 'petra@example.se', phone = '+46701234567', \
           notify_by_email = TRUE, notify_by_sms = TRUE WHERE id = 401",
    )
    .await
    .expect("contact");
    db.execute_unprepared(
        "UPDATE patient SET email = 'maja@example.se', notify_by_email = TRUE WHERE id = 403",
    )
    .await
    .expect("contact");
    db.execute_unprepared("UPDATE staff_person SET email = 'tove@region-a.example' WHERE id = 101")
        .await
        .expect("contact");
    let (smtp, gateway) = (free_port(), free_port());

    // Two senders, and nothing listening where the mail server and the gateway should be.
    let (_one, one_log) = sender(url, smtp, gateway);
    let (_two, two_log) = sender(url, smtp, gateway);
    let now = chrono::Utc::now();
    for (to, template) in [
        (Recipient::Patient(401), Template::NewMessage),
        (Recipient::Patient(403), Template::NewMessage),
        (Recipient::Staff(101), Template::UrgentFlag),
    ] {
        app::notify::enqueue(db, to, template, now)
            .await
            .expect("enqueue");
    }
    assert_eq!(count(db, "SELECT COUNT(*) FROM notification").await, 4);
    let rows = || async {
        let rows = db
            .query_all(sea_orm::Statement::from_string(
                db.get_database_backend(),
                "SELECT id, attempts, last_error, sent_at IS NOT NULL AS sent FROM notification",
            ))
            .await
            .expect("rows");
        rows.iter()
            .map(|r| {
                format!(
                    "{:?}/{:?}/{:?}/{:?}",
                    r.try_get_by_index::<i64>(0).ok(),
                    r.try_get_by_index::<i32>(1).ok(),
                    r.try_get_by_index::<Option<String>>(2).ok(),
                    r.try_get_by_index::<bool>(3).ok()
                )
            })
            .collect::<Vec<_>>()
    };
    let logs = || {
        [&one_log, &two_log]
            .map(|l| l.lock().unwrap_or_else(|e| e.into_inner()).join("\n"))
            .join("\n---\n")
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while count(
        db,
        "SELECT COUNT(*) FROM notification WHERE attempts >= 1 AND sent_at IS NULL \
         AND last_error = 'connect'",
    )
    .await
        != 4
    {
        assert!(
            Instant::now() < deadline,
            "no failed tries while the servers are down: {:?}\n{}",
            rows().await,
            logs()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // The servers come back: each notification arrives, once.
    let (_sink, sink_log) = sink(smtp, gateway);
    until(60, "every notification sent", || async {
        count(
            db,
            "SELECT COUNT(*) FROM notification WHERE sent_at IS NOT NULL",
        )
        .await
            == 4
    })
    .await;
    // Time for a duplicate to show, if one were coming.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (mails, sms) = received(&sink_log);
    let mut to: Vec<&str> = mails.iter().map(|m| m.to.as_str()).collect();
    to.sort_unstable();
    assert_eq!(
        to,
        [
            "maja@example.se",
            "petra@example.se",
            "tove@region-a.example"
        ],
        "each e-mail once"
    );
    assert_eq!(sms.len(), 1, "the SMS once: {sms:?}");

    // Byte-equal to the template apart from the link; the same bytes for both patients.
    let patient_link = format!("{PUBLIC_URL}/mina-sidor");
    for mail in mails.iter().filter(|m| m.to != "tove@region-a.example") {
        assert_eq!(mail.body, Template::NewMessage.email(&patient_link));
        assert_eq!(mail.header("Subject"), Some(PATIENT_SUBJECT));
        assert_eq!(mail.header("From"), Some("lotsen@region.example"));
        assert_eq!(
            mail.header("Content-Type"),
            Some("text/plain; charset=utf-8")
        );
        assert!(!mail.body.contains("Petra") && !mail.body.contains("Maja"));
    }
    let staff = mails
        .iter()
        .find(|m| m.to == "tove@region-a.example")
        .expect("the staff notice");
    assert_eq!(
        staff.body,
        Template::UrgentFlag.email(&format!("{PUBLIC_URL}/mottagning"))
    );
    assert_eq!(staff.header("Subject"), Some(STAFF_SUBJECT));
    let text = &sms[0];
    assert_eq!(text["path"], "/sms");
    assert_eq!(text["authorization"], format!("Bearer {TOKEN}"));
    let body: serde_json::Value =
        serde_json::from_str(text["body"].as_str().expect("body")).expect("JSON");
    assert_eq!(body["to"], "+46701234567");
    assert_eq!(body["text"], Template::NewMessage.sms(&patient_link));

    // The log says what happened without an address.
    for log in [&one_log, &two_log] {
        let log = log.lock().unwrap_or_else(|e| e.into_inner()).join("\n");
        assert!(!log.contains("@example.se") && !log.contains("+46701234567"));
    }
    let sent_by_both = [&one_log, &two_log].map(|log| {
        log.lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter(|l| l.contains("notification sent"))
            .count()
    });
    assert_eq!(sent_by_both.iter().sum::<usize>(), 4, "{sent_by_both:?}");
}

/// The six digits after `prefix` in a text.
fn code_in(text: &str, prefix: &str) -> String {
    let start = text.find(prefix).expect("the code's line") + prefix.len();
    text[start..start + 6].to_owned()
}

db_test!(
    a_patient_confirms_a_new_address_with_the_code_sent_to_it,
    |db| {
        use crate::common::{call as request, page, patient_session, send};
        use axum::http::StatusCode;
        app::testing::two_regions(&db).await;
        let (smtp, gateway) = (free_port(), free_port());
        let (_sink, sink_log) = sink(smtp, gateway);
        let mut state = lotsen_server::AppState::with_defaults(db.clone());
        let config = lotsen_server::notify::SenderConfig {
            mail: Some(
                lotsen_server::notify::Mailer::new(
                    &format!("smtp://127.0.0.1:{smtp}"),
                    "lotsen@region.example",
                )
                .expect("mailer"),
            ),
            sms: Some(
                lotsen_server::notify::SmsGateway::new(
                    &format!("http://127.0.0.1:{gateway}/sms"),
                    None,
                )
                .expect("gateway"),
            ),
            public_url: PUBLIC_URL.to_owned(),
            quiet: app::domain::time::QuietHours::NIGHT,
            retry_base: Duration::from_secs(1),
            poll: Duration::from_millis(100),
        };
        state.codes = Some(app::notify::CodeSender(Arc::new(config)));
        let router = crate::common::router_for(state);
        let patient = patient_session(&db, 401).await;
        let call = |function: &'static str, body: String| {
            let (router, patient) = (router.clone(), patient.clone());
            async move { send(&router, request(function, &body, &patient)).await }
        };
        let settings = || async {
            let page = send(&router, page("/mina-sidor/aviseringar", &patient)).await;
            assert_eq!(page.status, StatusCode::OK);
            page.body
        };
        assert!(settings().await.contains("Skicka kod"));

        // No address yet: notifications cannot be turned on.
        let early = call("set_notifications", "notify_by_email=on".into()).await;
        assert_eq!(early.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(early.body.contains("no_address"), "{}", early.body);
        // A bad address is named and nothing is sent.
        let bad = call("request_contact_code", "channel=email&address=petra".into()).await;
        assert!(bad.body.contains("invalid_email"), "{}", bad.body);

        // A code by e-mail: it arrives at the mail server; the database keeps its hash only.
        let asked = call(
            "request_contact_code",
            "channel=email&address=petra%40example.se".into(),
        )
        .await;
        assert_eq!(asked.status, StatusCode::OK, "{}", asked.body);
        let mails = || received(&sink_log).0;
        until(10, "the code's e-mail", || async { mails().len() == 1 }).await;
        let mail = &mails()[0];
        assert_eq!(mail.to, "petra@example.se");
        assert_eq!(
            mail.header("Subject"),
            Some(app::notify::contact::CODE_SUBJECT)
        );
        let code = code_in(&mail.body, "Din kod till Lotsen: ");
        assert_eq!(mail.body, app::notify::contact::code_text(&code));
        assert_eq!(
            count(
                &db,
                &format!("SELECT COUNT(*) FROM contact_code WHERE code_hash LIKE '%{code}%'")
            )
            .await,
            0
        );
        assert!(
            settings().await.contains("petra@example.se"),
            "the page waits for the code"
        );
        assert_eq!(
            count(
                &db,
                "SELECT COUNT(*) FROM patient WHERE id = 401 AND email IS NOT NULL"
            )
            .await,
            0,
            "not stored before it is confirmed"
        );

        // A wrong code counts a try; the right one stores the address and turns e-mail on.
        let wrong = format!(
            "{:06}",
            (code.parse::<u32>().expect("digits") + 1) % 1_000_000
        );
        let refused = call(
            "confirm_contact_code",
            format!("channel=email&code={wrong}"),
        )
        .await;
        assert!(refused.body.contains("code_wrong"), "{}", refused.body);
        let confirmed = call("confirm_contact_code", format!("channel=email&code={code}")).await;
        assert_eq!(confirmed.status, StatusCode::OK, "{}", confirmed.body);
        assert_eq!(
            count(
                &db,
                "SELECT COUNT(*) FROM patient WHERE id = 401 AND email = 'petra@example.se' \
             AND notify_by_email"
            )
            .await,
            1
        );
        let again = call("confirm_contact_code", format!("channel=email&code={code}")).await;
        assert!(again.body.contains("code_expired"), "spent: {}", again.body);

        // A code by SMS, typed wrong five times: then even the right one is refused.
        let asked = call(
            "request_contact_code",
            "channel=sms&address=070-123+45+67".into(),
        )
        .await;
        assert_eq!(asked.status, StatusCode::OK, "{}", asked.body);
        until(10, "the code's SMS", || async {
            received(&sink_log).1.len() == 1
        })
        .await;
        let sms = received(&sink_log).1[0].clone();
        let body: serde_json::Value =
            serde_json::from_str(sms["body"].as_str().expect("body")).expect("JSON");
        assert_eq!(body["to"], "+46701234567");
        let text = body["text"].as_str().expect("text");
        let code = code_in(text, "Din kod till Lotsen: ");
        assert_eq!(text, app::notify::contact::code_sms(&code));
        let wrong = format!(
            "{:06}",
            (code.parse::<u32>().expect("digits") + 1) % 1_000_000
        );
        for _ in 0..app::notify::contact::TRIES_PER_CODE {
            let refused = call("confirm_contact_code", format!("channel=sms&code={wrong}")).await;
            assert!(refused.body.contains("code_wrong"), "{}", refused.body);
        }
        let locked = call("confirm_contact_code", format!("channel=sms&code={code}")).await;
        assert!(
            locked.body.contains("code_too_many_tries"),
            "{}",
            locked.body
        );
        assert_eq!(
            count(
                &db,
                "SELECT COUNT(*) FROM patient WHERE id = 401 AND phone IS NOT NULL"
            )
            .await,
            0
        );

        // Three codes an hour: the fourth is refused and nothing more is sent.
        let third = call(
            "request_contact_code",
            "channel=sms&address=0701234567".into(),
        )
        .await;
        assert_eq!(third.status, StatusCode::OK, "{}", third.body);
        let fourth = call(
            "request_contact_code",
            "channel=sms&address=0701234567".into(),
        )
        .await;
        assert!(fourth.body.contains("too_many_codes"), "{}", fourth.body);
        until(10, "the third code", || async {
            received(&sink_log).1.len() == 2
        })
        .await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(received(&sink_log).1.len(), 2);

        // Turned off again: both boxes left out.
        let off = call("set_notifications", String::new()).await;
        assert_eq!(off.status, StatusCode::OK, "{}", off.body);
        assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM patient WHERE id = 401 AND NOT notify_by_email AND NOT notify_by_sms"
        )
        .await,
        1
    );
    }
);
