//! Testing a program as a patient, through the real router on both engines: a producer's test
//! enrolment is walked like a patient's, reaches nothing else, stays out of care (lists,
//! records, notifications, public figures), starts over and ends.

#![allow(clippy::expect_used)]

use app::db_test;
use app::testing::{number as count, two_regions as world};
use axum::Router;
use axum::http::{StatusCode, header};
use sea_orm::{ConnectionTrait, DatabaseConnection};

use crate::common::{Answer, app, call, form_post, get, patient_session, send, staff_session};

/// A server function's answer to the holder of `token`.
async fn ask(router: &Router, function: &str, body: &str, token: &str) -> Answer {
    send(router, call(function, body, token)).await
}

fn location(answer: &Answer) -> String {
    answer
        .headers
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// Starts a test of program 501 (version `which`) and returns the test enrolment.
async fn start(router: &Router, token: &str, which: &str) -> i64 {
    let started = send(
        router,
        form_post("/program/501/testa", &format!("version={which}"), token),
    )
    .await;
    assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.body);
    location(&started)
        .strip_prefix("/mina-sidor/behandling/")
        .and_then(|id| id.parse().ok())
        .expect("to the test's treatment page")
}

/// PHQ-9 with item 9 at 1 (urgent), submitted in enrolment `e`.
fn urgent_phq(e: i64) -> String {
    let mut body = format!(
        "enrolment={e}&place=block%3Am1%2Fp2%2Fphq&submit_key={}&intent=submit",
        "c".repeat(64)
    );
    for (n, value) in [2, 3, 1, 2, 1, 1, 0, 1, 1].iter().enumerate() {
        body.push_str(&format!("&answers%5Bphq9_{}%5D={value}", n + 1));
    }
    body
}

/// The patient of region A with contact details and consent: had the test reached anyone, the
/// outbox would show it.
async fn consenting_patients(db: &DatabaseConnection) {
    db.execute_unprepared(
        "UPDATE patient SET email = 'petra@example.se', notify_by_email = TRUE WHERE id = 401; \
         UPDATE staff_person SET email = 'pia@example.se' WHERE id = 107",
    )
    .await
    .expect("contact");
}

db_test!(
    a_producer_walks_a_version_as_a_patient_and_the_test_is_not_care,
    |db| {
        world(&db).await;
        consenting_patients(&db).await;
        let router = app(db.clone());
        let producer = staff_session(&db, 107, 307).await;
        let therapist = staff_session(&db, 101, 301).await;
        let ongoing = || {
            count(
                &db,
                "SELECT COUNT(*) FROM enrolment WHERE test_by_staff_id IS NULL",
            )
        };
        let real = ongoing().await;

        // Before the test, the producer is no patient.
        let refused = ask(&router, "my_care", "", &producer).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);

        let e = start(&router, &producer, "1.0").await;
        assert_eq!(
            count(
                &db,
                &format!(
                    "SELECT COUNT(*) FROM enrolment e JOIN patient p ON p.id = e.patient_id \
                     WHERE e.id = {e} AND e.test_by_staff_id = 107 AND e.program_version_id = 601 \
                     AND e.care_unit_id = 11 AND e.responsible_staff_id IS NULL \
                     AND p.personnummer = 'T00000000107' AND p.email IS NULL"
                )
            )
            .await,
            1
        );
        let treatment = format!("/mina-sidor/behandling/{e}");

        // The patient's pages, as a patient sees them, with the banner and its ways out.
        let overview = get(&router, &treatment, &producer).await;
        assert_eq!(overview.status, StatusCode::OK);
        assert!(overview.body.contains("Modul m1"));
        assert!(overview.body.contains("Du testar programmet som patient"));
        assert!(overview.body.contains(r#"action="/testa/borja-om""#));
        assert!(overview.body.contains(r#"action="/testa/avsluta""#));
        let home = get(&router, "/mina-sidor", &producer).await;
        assert!(home.body.contains(&format!(r#"href="{treatment}""#)));
        assert!(
            !home.body.contains("/mina-sidor/aviseringar"),
            "a test has no notification settings"
        );
        let first = get(&router, &format!("{treatment}/m1/p1"), &producer).await;
        assert!(first.body.contains("Välkommen till programmet."));

        // Nothing but the test: not the real patient's treatment, by page or by function.
        let other = get(&router, "/mina-sidor/behandling/701", &producer).await;
        assert_eq!(other.status, StatusCode::NOT_FOUND);
        let other = ask(
            &router,
            "my_page",
            "enrolment=701&module=m1&step=p1",
            &producer,
        )
        .await;
        assert_eq!(other.status, StatusCode::NOT_FOUND);
        assert!(!home.body.contains("/mina-sidor/behandling/701"));
        // Nor contact details, which would send something.
        for (function, body) in [
            ("my_contact", ""),
            (
                "request_contact_code",
                "channel=email&address=pia%40example.se",
            ),
            ("set_notifications", "by_email=true&by_sms=false"),
        ] {
            let answer = ask(&router, function, body, &producer).await;
            assert_eq!(answer.status, StatusCode::FORBIDDEN, "{function}");
        }

        // An urgent answer: the crisis information and a flag, in the test only; a message.
        let sent = ask(&router, "answer_form", &urgent_phq(e), &producer).await;
        assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
        assert!(sent.body.contains(r#""urgent":true"#), "{}", sent.body);
        let message = ask(
            &router,
            "send_message",
            &format!(
                "enrolment={e}&body=Hej+fr%C3%A5n+testet&submit_key={}",
                "d".repeat(64)
            ),
            &producer,
        )
        .await;
        assert_eq!(message.status, StatusCode::OK, "{}", message.body);
        assert_eq!(
            count(
                &db,
                &format!(
                    "SELECT COUNT(*) FROM flag WHERE enrolment_id = {e} AND priority = 'urgent'"
                )
            )
            .await,
            1
        );
        // No one was told: no notification to anyone.
        assert_eq!(count(&db, "SELECT COUNT(*) FROM notification").await, 0);

        // The care team of the unit sees none of it: not in the list, not by the record.
        let list = ask(&router, "unit_patients", "", &therapist).await;
        assert_eq!(list.status, StatusCode::OK);
        let tester = count(
            &db,
            &format!("SELECT patient_id FROM enrolment WHERE id = {e}"),
        )
        .await;
        assert!(list.body.contains(r#""patient_id":401"#));
        assert!(!list.body.contains(&format!(r#""patient_id":{tester}"#)));
        let record = ask(
            &router,
            "patient_record",
            &format!("patient_id={tester}"),
            &therapist,
        )
        .await;
        assert_eq!(record.status, StatusCode::NOT_FOUND);
        let page = get(
            &router,
            &format!("/mottagning/patient/{tester}"),
            &therapist,
        )
        .await;
        assert!(!page.body.contains("Hej från testet"));
        // Nor do the public figures count it.
        let figures = ask(&router, "service_overview", "", &therapist).await;
        assert!(
            figures
                .body
                .contains(&format!(r#""ongoing_enrolments":{real}"#)),
            "{}",
            figures.body
        );

        // Starting over: everything recorded in the test is gone, a new test is bound.
        let restarted = send(&router, form_post("/testa/borja-om", "", &producer)).await;
        assert_eq!(restarted.status, StatusCode::SEE_OTHER);
        let again: i64 = location(&restarted)
            .strip_prefix("/mina-sidor/behandling/")
            .and_then(|id| id.parse().ok())
            .expect("to the new test");
        assert_ne!(again, e);
        for table in ["page_visit", "form_response", "flag", "message"] {
            assert_eq!(
                count(
                    &db,
                    &format!("SELECT COUNT(*) FROM {table} WHERE enrolment_id IN ({e}, {again})")
                )
                .await,
                0,
                "{table}"
            );
        }
        assert_eq!(
            get(
                &router,
                &format!("/mina-sidor/behandling/{again}"),
                &producer
            )
            .await
            .status,
            StatusCode::OK
        );
        assert_eq!(
            get(&router, &treatment, &producer).await.status,
            StatusCode::NOT_FOUND
        );
        // Going back to the same version finds the same test.
        assert_eq!(start(&router, &producer, "1.0").await, again);

        // Ending the test: back to the program; the patient's pages are closed again.
        let stopped = send(&router, form_post("/testa/avsluta", "", &producer)).await;
        assert_eq!(stopped.status, StatusCode::SEE_OTHER);
        assert_eq!(location(&stopped), "/program/501/granska");
        let after = ask(&router, "my_care", "", &producer).await;
        assert_eq!(after.status, StatusCode::FORBIDDEN);
        assert_eq!(ongoing().await, real, "no real enrolment was made");
    }
);

db_test!(
    a_test_binding_reaches_only_the_testers_own_test_while_they_work_on_programs,
    |db| {
        world(&db).await;
        let router = app(db.clone());
        let producer = staff_session(&db, 107, 307).await;
        let publisher = staff_session(&db, 108, 308).await;
        let patient = patient_session(&db, 401).await;

        // A publisher tests too; a producer's session bound to the publisher's test is no
        // tester (the binding holds for one's own test only).
        let theirs = start(&router, &publisher, "1.0").await;
        db.execute_unprepared(&format!(
            "UPDATE user_session SET test_enrolment_id = {theirs} WHERE staff_person_id = 107"
        ))
        .await
        .expect("bind");
        let borrowed = get(
            &router,
            &format!("/mina-sidor/behandling/{theirs}"),
            &producer,
        )
        .await;
        assert_eq!(borrowed.status, StatusCode::FORBIDDEN);

        // The publisher's test ends with their program role.
        db.execute_unprepared(
            "UPDATE staff_role SET revoked_at = CURRENT_TIMESTAMP WHERE staff_person_id = 108",
        )
        .await
        .expect("revoke");
        let revoked = get(
            &router,
            &format!("/mina-sidor/behandling/{theirs}"),
            &publisher,
        )
        .await;
        assert_eq!(revoked.status, StatusCode::FORBIDDEN);
        // Stopping then clears the binding for good: the role back does not bring the test back.
        let stopped = send(&router, form_post("/testa/avsluta", "", &publisher)).await;
        assert_eq!(stopped.status, StatusCode::SEE_OTHER);
        db.execute_unprepared(
            "UPDATE staff_role SET revoked_at = NULL WHERE staff_person_id = 108",
        )
        .await
        .expect("grant again");
        let back = get(
            &router,
            &format!("/mina-sidor/behandling/{theirs}"),
            &publisher,
        )
        .await;
        assert_eq!(back.status, StatusCode::FORBIDDEN);

        // A patient never reaches a test enrolment, even one that names them.
        db.execute_unprepared(&format!(
            "UPDATE enrolment SET patient_id = 401 WHERE id = {theirs}"
        ))
        .await
        .expect("point");
        let own = ask(&router, "my_care", "", &patient).await;
        assert!(!own.body.contains(&format!(r#""enrolment_id":{theirs}"#)));
        let by_id = get(
            &router,
            &format!("/mina-sidor/behandling/{theirs}"),
            &patient,
        )
        .await;
        assert_eq!(by_id.status, StatusCode::NOT_FOUND);

        // Another care provider's program is not found; an empty one has nothing to test; a
        // patient may not start a test at all.
        db.execute_unprepared(
            "INSERT INTO program (id, owner_provider_id, title) VALUES (502, 2, 'B'), (503, 1, 'Tomt'); \
             INSERT INTO program_version (id, program_id, major, minor, status, content) VALUES \
               (602, 502, 1, 0, 'published', NULL), \
               (603, 503, 0, 0, 'draft', '{\"title\":\"Tomt\",\"modules\":[]}')",
        )
        .await
        .expect("programs");
        let other = send(
            &router,
            form_post("/program/502/testa", "version=1.0", &producer),
        )
        .await;
        assert_eq!(other.status, StatusCode::NOT_FOUND);
        let empty = send(
            &router,
            form_post("/program/503/testa", "version=utkast", &producer),
        )
        .await;
        assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(empty.body.contains("inga moduler"));
        let nonsense = send(
            &router,
            form_post("/program/501/testa", "version=v1", &producer),
        )
        .await;
        assert_eq!(nonsense.status, StatusCode::UNPROCESSABLE_ENTITY);
        let by_patient = send(
            &router,
            form_post("/program/501/testa", "version=1.0", &patient),
        )
        .await;
        assert_eq!(by_patient.status, StatusCode::FORBIDDEN);
        assert_eq!(
            count(
                &db,
                "SELECT COUNT(*) FROM enrolment WHERE test_by_staff_id = 107"
            )
            .await,
            0,
            "nothing was started"
        );
    }
);

db_test!(
    a_producer_sees_the_test_from_the_therapists_side_and_acts_as_its_therapist,
    |db| {
        world(&db).await;
        let router = app(db.clone());
        let producer = staff_session(&db, 107, 307).await;
        let therapist = staff_session(&db, 101, 301).await;
        let e = start(&router, &producer, "1.0").await;
        let p = count(
            &db,
            &format!("SELECT patient_id FROM enrolment WHERE id = {e}"),
        )
        .await;
        let change = |function: &'static str, rest: &str| {
            let body = format!("patient_id={p}&enrolment={e}&{rest}");
            let router = router.clone();
            let producer = producer.clone();
            async move { ask(&router, function, &body, &producer).await }
        };

        // As the patient: an urgent PHQ-9. From the therapist's side (linked from the test's
        // banner): the flag, and the modules with their controls.
        let sent = ask(&router, "answer_form", &urgent_phq(e), &producer).await;
        assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
        let overview = get(&router, &format!("/mina-sidor/behandling/{e}"), &producer).await;
        assert!(overview.body.contains(r#"href="/testa/behandlare""#));
        let seen = get(&router, "/testa/behandlare", &producer).await;
        assert_eq!(seen.status, StatusCode::OK, "{}", seen.body);
        let text = seen.body.replace("<!>", "");
        assert!(
            text.contains("Testet sett från behandlarens sida"),
            "{}",
            seen.body
        );
        assert!(text.contains("Brådskande"), "{}", seen.body);
        assert!(
            text.contains("Modul m5 – <span class=\"module-status\">Låst"),
            "{}",
            seen.body
        );

        // As its therapist: feedback on module 4 opens module 5 (after feedback); module 2,
        // waiting for module 1 to be finished, is opened now. The patient's side meets both.
        let locked = get(
            &router,
            &format!("/mina-sidor/behandling/{e}/m2/p3"),
            &producer,
        )
        .await;
        assert_eq!(locked.status, StatusCode::FORBIDDEN);
        let given = change(
            "give_feedback",
            &format!("module=m4&body=Bra+jobbat&submit_key={}", "d".repeat(64)),
        )
        .await;
        assert_eq!(given.status, StatusCode::OK, "{}", given.body);
        let opened = change("set_module", "module=m2&action=unlock").await;
        assert_eq!(opened.status, StatusCode::OK, "{}", opened.body);
        let m5 = get(
            &router,
            &format!("/mina-sidor/behandling/{e}/m5/p6"),
            &producer,
        )
        .await;
        assert!(m5.body.contains("AFTER-FEEDBACK-TEXT"), "{}", m5.body);
        let m2 = get(
            &router,
            &format!("/mina-sidor/behandling/{e}/m2/p3"),
            &producer,
        )
        .await;
        assert!(m2.body.contains("LOCKED-MODULE-TEXT"), "{}", m2.body);
        let asked = change("request_form", "questionnaire=gad&days=7").await;
        assert_eq!(asked.status, StatusCode::OK, "{}", asked.body);
        let overview = get(&router, &format!("/mina-sidor/behandling/{e}"), &producer).await;
        assert!(
            overview
                .body
                .contains(&format!("/mina-sidor/formular/{e}/extra.gad"))
        );

        // The test reaches nothing else: as the test's therapist, no real treatment; as a
        // therapist, not the test. None of it is care: no care event, no notice, no log row
        // of a patient.
        let real = ask(
            &router,
            "set_module",
            "patient_id=401&enrolment=701&module=m2&action=unlock",
            &producer,
        )
        .await;
        assert_eq!(real.status, StatusCode::NOT_FOUND, "{}", real.body);
        let test = ask(
            &router,
            "set_module",
            &format!("patient_id={p}&enrolment={e}&module=m2&action=hide"),
            &therapist,
        )
        .await;
        assert_ne!(test.status, StatusCode::OK, "{}", test.body);
        assert_eq!(
            count(
                &db,
                "SELECT COUNT(*) FROM module_override WHERE hidden = TRUE"
            )
            .await,
            0
        );
        assert_eq!(
            count(
                &db,
                &format!("SELECT COUNT(*) FROM care_event WHERE enrolment_id = {e}")
            )
            .await,
            0
        );
        assert_eq!(count(&db, "SELECT COUNT(*) FROM notification").await, 0);
        assert_eq!(
            count(
                &db,
                &format!(
                    "SELECT COUNT(*) FROM access_log WHERE patient_id = {p} AND outcome = 'allowed'"
                )
            )
            .await,
            0
        );

        // The test ended, its therapist's side is closed.
        let stopped = send(&router, form_post("/testa/avsluta", "", &producer)).await;
        assert_eq!(stopped.status, StatusCode::SEE_OTHER, "{}", stopped.body);
        let closed = ask(&router, "test_as_therapist", "", &producer).await;
        assert_eq!(closed.status, StatusCode::FORBIDDEN, "{}", closed.body);
    }
);
