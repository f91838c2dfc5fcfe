//! Care as the patient walks it, through the real router, on both engines: the pages of a
//! treatment and which of them are refused, questionnaires kept as drafts and submitted once,
//! scored exactly, with one flag per alert rule and the crisis information at once.

#![allow(clippy::expect_used)]

use app::db_test;
use app::testing::{number as count, two_regions as world};
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use sea_orm::ConnectionTrait;

use crate::common::{Answer, app, call, get, patient_session, send, staff_session};

const TREATMENT: &str = "/mina-sidor/behandling/701";
const PHQ_PAGE: &str = "/mina-sidor/behandling/701/m1/p2";
const PLACE: &str = "block%3Am1%2Fp2%2Fphq";

/// The form body for PHQ-9 answers (items 1–9 in order; `None` leaves one out).
fn phq(answers: &[Option<i32>], key: &str, intent: &str) -> String {
    let mut body = format!("enrolment=701&place={PLACE}&submit_key={key}&intent={intent}");
    for (n, answer) in answers.iter().enumerate() {
        if let Some(value) = answer {
            body.push_str(&format!("&answers%5Bphq9_{}%5D={value}", n + 1));
        }
    }
    body
}

/// A submit key (64 hex digits) made of one digit.
fn key(c: char) -> String {
    c.to_string().repeat(64)
}

db_test!(
    a_patient_walks_the_open_modules_and_a_locked_one_is_refused,
    |db| {
        world(&db).await;
        let router = app(db.clone());
        let patient = patient_session(&db, 401).await;

        let home = get(&router, "/mina-sidor", &patient).await;
        assert!(
            home.body.contains(&format!(r#"href="{TREATMENT}""#)),
            "the program links to its treatment"
        );

        let overview = get(&router, TREATMENT, &patient).await;
        assert_eq!(overview.status, StatusCode::OK);
        assert!(overview.body.contains("Modul m1") && overview.body.contains("Modul m2"));
        assert!(
            overview
                .body
                .contains(r#"href="/mina-sidor/behandling/701/m1/p1""#)
        );
        assert!(
            overview.body.contains("Låst"),
            "the second module says it is locked"
        );
        assert!(
            !overview.body.contains("/m2/p3"),
            "no link into the locked module"
        );

        // The locked module's page is refused by address and by server-function call.
        let locked = get(&router, "/mina-sidor/behandling/701/m2/p3", &patient).await;
        assert_eq!(locked.status, StatusCode::FORBIDDEN);
        assert!(!locked.body.contains("LOCKED-MODULE-TEXT"));
        let called = send(
            &router,
            call("my_page", "enrolment=701&module=m2&step=p3", &patient),
        )
        .await;
        assert_eq!(called.status, StatusCode::FORBIDDEN);
        assert!(!called.body.contains("LOCKED-MODULE-TEXT"));
        // A section whose condition needs an answer is not there until there is one.
        let hidden = get(&router, "/mina-sidor/behandling/701/m3/p4", &patient).await;
        assert_eq!(hidden.status, StatusCode::NOT_FOUND);
        assert!(!hidden.body.contains("SHOWN-AT-TEN"));

        // Reading the module's pages finishes it, and the next one opens.
        let first = get(&router, "/mina-sidor/behandling/701/m1/p1", &patient).await;
        assert_eq!(first.status, StatusCode::OK);
        assert!(first.body.contains("Välkommen till programmet."));
        assert!(
            first
                .body
                .contains(&format!(r#"rel="next" href="{PHQ_PAGE}""#))
        );
        let second = get(&router, PHQ_PAGE, &patient).await;
        assert_eq!(second.status, StatusCode::OK);
        assert!(
            second.body.contains("Fråga nummer 1"),
            "the questionnaire is shown with its wording"
        );
        assert!(
            second
                .body
                .contains(r#"rel="next" href="/mina-sidor/behandling/701/m2/p3""#)
        );
        let opened = get(&router, "/mina-sidor/behandling/701/m2/p3", &patient).await;
        assert_eq!(opened.status, StatusCode::OK);
        assert!(opened.body.contains("LOCKED-MODULE-TEXT"));
        let overview = get(&router, TREATMENT, &patient).await;
        assert!(overview.body.contains("Klar"), "the first module is done");
        // Each page counts once, however often it is opened, under the version it was read in.
        get(&router, "/mina-sidor/behandling/701/m1/p1", &patient).await;
        assert_eq!(
            count(
                &db,
                "SELECT COUNT(*) FROM page_visit WHERE enrolment_id = 701"
            )
            .await,
            3
        );
        assert_eq!(
            count(
                &db,
                "SELECT COUNT(*) FROM page_visit WHERE program_version_id = 601"
            )
            .await,
            3
        );

        // Someone else's treatment is not found, from the page and from the function.
        let other = get(&router, "/mina-sidor/behandling/703", &patient).await;
        assert_eq!(other.status, StatusCode::NOT_FOUND);
        let other = send(
            &router,
            call("my_page", "enrolment=704&module=m1&step=p1", &patient),
        )
        .await;
        assert_eq!(other.status, StatusCode::NOT_FOUND);
        assert_eq!(
            count(
                &db,
                "SELECT COUNT(*) FROM page_visit WHERE enrolment_id <> 701"
            )
            .await,
            0
        );
    }
);

db_test!(
    answers_are_kept_as_drafts_then_submitted_once_and_scored_exactly,
    |db| {
        world(&db).await;
        let router = app(db.clone());
        let patient = patient_session(&db, 401).await;
        let responses = || count(&db, "SELECT COUNT(*) FROM form_response");
        let flags = || count(&db, "SELECT COUNT(*) FROM flag");

        // A draft with two answers, kept on the server and shown again.
        let draft = phq(&[Some(2), Some(3)], &key('a'), "save");
        let saved = send(&router, call("answer_form", &draft, &patient)).await;
        assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
        let shown = get(&router, PHQ_PAGE, &patient).await;
        assert!(shown.body.contains("Utkast sparat"));
        assert!(
            shown
                .body
                .contains(r#"name="answers[phq9_2]" value="3" checked"#),
            "the draft's answer is checked again"
        );

        // A submit with an answer missing is refused, says so, and keeps what was given.
        let partial = phq(&[Some(2), Some(3), Some(1)], &key('b'), "submit");
        let refused = send(&router, call("answer_form", &partial, &patient)).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            refused.body.contains("missing_answer") && refused.body.contains("phq9_4"),
            "{}",
            refused.body
        );
        assert_eq!(count(&db, "SELECT COUNT(*) FROM form_response WHERE state = 'draft' AND answers LIKE '%phq9_3%'").await, 1);

        // Bad input changes nothing: a value the item does not take, a field of no item.
        let before = get(&router, PHQ_PAGE, &patient).await.body;
        for bad in [
            phq(&[Some(4)], &key('a'), "save"),
            format!(
                "{}&answers%5Bnot_an_item%5D=1",
                phq(&[Some(1)], &key('a'), "save")
            ),
            phq(&[Some(1)], "short-key", "submit"),
        ] {
            let answer = send(&router, call("answer_form", &bad, &patient)).await;
            assert_eq!(
                answer.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{bad}: {}",
                answer.body
            );
        }
        assert!(
            get(&router, PHQ_PAGE, &patient)
                .await
                .body
                .contains(r#"value="3" checked"#)
        );
        assert!(before.contains(r#"value="3" checked"#));

        // Submitted: 2+3+1+2+1+1+0+1+1 = 12, "moderate", and item 9 at 1 is urgent.
        let all = [
            Some(2),
            Some(3),
            Some(1),
            Some(2),
            Some(1),
            Some(1),
            Some(0),
            Some(1),
            Some(1),
        ];
        let submit = phq(&all, &key('c'), "submit");
        let sent = send(&router, call("answer_form", &submit, &patient)).await;
        assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
        assert!(sent.body.contains(r#""urgent":true"#), "{}", sent.body);
        assert_eq!(
            count(
                &db,
                "SELECT COUNT(*) FROM form_response WHERE state = 'submitted' AND total = 12 AND band = 'moderate'"
            )
            .await,
            1
        );
        assert_eq!(
        count(&db, "SELECT COUNT(*) FROM flag WHERE enrolment_id = 701 AND priority = 'urgent' AND reason = 'phq9_item9' AND resolved_at IS NULL").await,
        1
    );

        // The same submit again (a retry) is answered as before: no second response or flag.
        let again = send(&router, call("answer_form", &submit, &patient)).await;
        assert_eq!(again.status, StatusCode::OK);
        assert!(again.body.contains(r#""urgent":true"#));
        assert_eq!((responses().await, flags().await), (1, 1));
        // Another submit, or a draft over it, cannot change what was sent.
        let changed = phq(&[Some(0); 9], &key('d'), "submit");
        assert_eq!(
            send(&router, call("answer_form", &changed, &patient))
                .await
                .status,
            StatusCode::CONFLICT
        );
        let over = phq(&[Some(0)], &key('d'), "save");
        assert_eq!(
            send(&router, call("answer_form", &over, &patient))
                .await
                .status,
            StatusCode::CONFLICT
        );
        assert_eq!(
            count(&db, "SELECT COUNT(*) FROM form_response WHERE total = 12").await,
            1
        );

        // The page says it was sent and shows what to do at once, with the unit's own contacts.
        // The care-provider administrator sets the unit's crisis contacts.
        let admin = staff_session(&db, 104, 304).await;
        let set = send(
            &router,
            call(
                "set_crisis_info",
                "unit_id=11&crisis_info=Ring+mottagningen%3A+010-123+45+67",
                &admin,
            ),
        )
        .await;
        assert_eq!(set.status, StatusCode::OK, "{}", set.body);
        let too_long = format!("unit_id=11&crisis_info={}", "x".repeat(1001));
        let refused = send(&router, call("set_crisis_info", &too_long, &admin)).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        let shown = get(&router, PHQ_PAGE, &patient).await;
        assert!(shown.body.contains("Skickat"));
        assert!(
            shown.body.contains("Behöver du hjälp nu?")
                && shown.body.contains("112")
                && shown.body.contains("1177")
        );
        assert!(shown.body.contains("010-123 45 67"));
        assert!(
            !shown.body.contains(r#"name="intent""#),
            "no form to send again"
        );
        // My results: the chart (an image with its title and description) and the table.
        let results = get(&router, "/mina-sidor/behandling/701/resultat", &patient).await;
        assert_eq!(results.status, StatusCode::OK);
        assert!(results.body.contains(r#"role="img""#) && results.body.contains("<title"));
        assert!(
            results.body.contains("PHQ-9: 1 svar"),
            "the description says what it shows"
        );
        assert!(
            results.body.contains("<td>12</td><td>måttliga besvär</td>"),
            "the table has the figures"
        );
        // The total of 12 shows the section that asks for 10 or more.
        let shown_at_ten = get(&router, "/mina-sidor/behandling/701/m3/p4", &patient).await;
        assert_eq!(shown_at_ten.status, StatusCode::OK);
        assert!(shown_at_ten.body.contains("SHOWN-AT-TEN"));
    }
);

db_test!(
    an_answer_without_risk_raises_no_flag_and_others_cannot_answer,
    |db| {
        world(&db).await;
        let router = app(db.clone());
        let patient = patient_session(&db, 401).await;
        let calm = [
            Some(1),
            Some(1),
            Some(0),
            Some(0),
            Some(0),
            Some(0),
            Some(0),
            Some(0),
            Some(0),
        ];
        // Another patient cannot answer in this treatment.
        let other = patient_session(&db, 402).await;
        let theirs = send(
            &router,
            call("answer_form", &phq(&calm, &key('e'), "submit"), &other),
        )
        .await;
        assert_eq!(theirs.status, StatusCode::NOT_FOUND);
        assert_eq!(count(&db, "SELECT COUNT(*) FROM form_response").await, 0);

        let sent = send(
            &router,
            call("answer_form", &phq(&calm, &key('e'), "submit"), &patient),
        )
        .await;
        assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
        assert!(sent.body.contains(r#""urgent":false"#));
        assert_eq!(count(&db, "SELECT COUNT(*) FROM flag").await, 0);
        let shown = get(&router, PHQ_PAGE, &patient).await;
        assert!(!shown.body.contains("Behöver du hjälp nu?"));
        assert!(shown.body.contains("Summa: 2"), "the total is shown");

        // Ended treatment stays readable but takes no answers and records no visits.
        db.execute_unprepared(
            "UPDATE enrolment SET state = 'ended', ended_at = CURRENT_TIMESTAMP WHERE id = 701",
        )
        .await
        .expect("end");
        let visits = count(&db, "SELECT COUNT(*) FROM page_visit").await;
        let read = get(&router, "/mina-sidor/behandling/701/m1/p1", &patient).await;
        assert_eq!(read.status, StatusCode::OK);
        assert_eq!(count(&db, "SELECT COUNT(*) FROM page_visit").await, visits);
        let closed = send(
            &router,
            call("answer_form", &phq(&[Some(1)], &key('f'), "save"), &patient),
        )
        .await;
        assert_eq!(closed.status, StatusCode::UNPROCESSABLE_ENTITY);
    }
);

db_test!(
    a_form_without_javascript_keeps_its_answers_and_says_what_is_missing,
    |db| {
        world(&db).await;
        let router = app(db.clone());
        let patient = patient_session(&db, 401).await;
        let mut request = call(
            "answer_form",
            &phq(&[Some(2), Some(1)], &key('b'), "submit"),
            &patient,
        );
        let headers = request.headers_mut();
        headers.insert(
            header::ACCEPT,
            header::HeaderValue::from_static("text/html"),
        );
        headers.insert(
            header::REFERER,
            header::HeaderValue::from_str(&format!("https://lotsen.test{PHQ_PAGE}"))
                .expect("referer"),
        );
        let answer = send(&router, request).await;
        assert_eq!(answer.status, StatusCode::FOUND, "{}", answer.body);
        let location = answer.headers[header::LOCATION]
            .to_str()
            .expect("location")
            .to_owned();
        assert!(location.contains("__err="), "{location}");
        let path = location.trim_start_matches("https://lotsen.test");
        let shown = get(&router, path, &patient).await;
        assert!(
            shown
                .body
                .contains("Svara på alla frågor innan du skickar."),
            "the page says why"
        );
        assert!(
            shown
                .body
                .contains(r#"name="answers[phq9_1]" value="2" checked"#),
            "what was given is kept"
        );
    }
);

const MESSAGES: &str = "/mina-sidor/behandling/701/meddelanden";

fn message(enrolment: i64, body: &str, key: &str) -> String {
    let body: String = body
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    format!("enrolment={enrolment}&body={body}&submit_key={key}")
}

// The hourly limits hold when the sends come at once: each send counts the others that were
// committed before it, so of 20 parallel sends by a patient exactly 10 are stored, and of 70
// by a therapist exactly 60; the rest are refused as over the limit, none fails otherwise.
db_test!(the_message_limits_hold_for_parallel_sends, |db| {
    world(&db).await;
    let mut state = lotsen_server::AppState::with_defaults(db.clone());
    // The request limits of the router are not what is tested here.
    state.limits =
        lotsen_server::limits::Limits::new(lotsen_server::limits::LimitConfig::unlimited());
    let router = crate::common::router_for(state);
    let patient = patient_session(&db, 401).await;
    let therapist = staff_session(&db, 101, 301).await;
    db.execute_unprepared("UPDATE enrolment SET responsible_staff_id = 101 WHERE id = 701")
        .await
        .expect("team");
    // Keys of their own for each sender: a key already used in the thread is a retry.
    for (function, token, prefix, sends, limit, sender, keys) in [
        (
            "send_message",
            &patient,
            "",
            20,
            10,
            "sender_kind = 'patient'",
            0,
        ),
        (
            "reply_message",
            &therapist,
            "patient_id=401&",
            70,
            60,
            "sender_staff_id = 101",
            1000,
        ),
    ] {
        let answers = futures_util::future::join_all((0..sends).map(|n| {
            let key = format!("{:064x}", keys + n);
            let body = format!("{prefix}{}", message(701, "fråga", &key));
            send(&router, call(function, &body, token))
        }))
        .await;
        let stored = count(
            &db,
            &format!("SELECT COUNT(*) FROM message WHERE enrolment_id = 701 AND {sender}"),
        )
        .await;
        assert_eq!(
            stored, limit,
            "{function}: stored of {sends} parallel sends"
        );
        let ok = answers
            .iter()
            .filter(|a| a.status == StatusCode::OK)
            .count();
        let limited = answers
            .iter()
            .filter(|a| a.body.contains("rate_limited"))
            .count();
        assert_eq!(
            (ok, limited),
            (limit as usize, sends - limit as usize),
            "{function}: {:?}",
            answers
                .iter()
                .filter(|a| a.status != StatusCode::OK && !a.body.contains("rate_limited"))
                .map(|a| (a.status, a.body.clone()))
                .collect::<Vec<_>>()
        );
    }
});

db_test!(a_patient_and_the_care_team_write_to_each_other, |db| {
    world(&db).await;
    db.execute_unprepared("UPDATE enrolment SET responsible_staff_id = 101 WHERE id = 701")
        .await
        .expect("team");
    let router = app(db.clone());
    let patient = patient_session(&db, 401).await;
    let therapist = staff_session(&db, 101, 301).await;
    let messages = || count(&db, "SELECT COUNT(*) FROM message");

    // The patient writes; markup stays text, an address becomes a link; a retry sends nothing new.
    let text = "Hej! <script>alert(1)</script> Läs https://www.1177.se/oro.";
    let first = message(701, text, &key('a'));
    assert_eq!(
        send(&router, call("send_message", &first, &patient))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        send(&router, call("send_message", &first, &patient))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(messages().await, 1);
    let thread = get(&router, MESSAGES, &patient).await;
    assert_eq!(thread.status, StatusCode::OK);
    assert!(
        thread
            .body
            .contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "escaped"
    );
    assert!(!thread.body.contains("<script>alert"));
    assert!(
        thread.body.contains(r#"<a href="https://www.1177.se/oro""#),
        "linked"
    );
    assert!(thread.body.contains("inte läst ännu"));
    assert!(
        thread.body.contains("ring 112"),
        "the page says where to turn in an emergency"
    );

    // The unit's patient administrator reads the record too: the message is there, and still
    // unread (only the care team's reading marks it read).
    for statement in [
        "INSERT INTO staff_person (id, given_name, family_name) VALUES (120, 'Ines', 'Invånaradmin')",
        "INSERT INTO staff_hsa_identity (id, staff_person_id, hsa_id) VALUES (220, 120, 'SE-120')",
        "INSERT INTO staff_assignment (id, staff_hsa_identity_id, care_unit_id, commission_hsa_id, \
           commission_name, commission_purpose) \
           VALUES (320, 220, 11, 'SE-120-U', 'V', 'Vård och behandling')",
        "INSERT INTO staff_role (staff_person_id, care_provider_id, care_unit_id, role, granted_at) \
           VALUES (120, 1, 11, 'patient_admin', CURRENT_TIMESTAMP)",
    ] {
        db.execute_unprepared(statement)
            .await
            .expect("patient administrator");
    }
    let administrator = staff_session(&db, 120, 320).await;
    let record = get(&router, "/mottagning/patient/401", &administrator).await;
    assert_eq!(record.status, StatusCode::OK);
    assert!(
        record
            .body
            .contains("&lt;script&gt;alert(1)&lt;/script&gt;")
    );
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM message WHERE read_by_staff_id IS NOT NULL"
        )
        .await,
        0
    );
    assert!(
        get(&router, MESSAGES, &patient)
            .await
            .body
            .contains("inte läst ännu")
    );

    // The responsible therapist reads it on the record (which marks it read) and answers.
    let record = get(&router, "/mottagning/patient/401", &therapist).await;
    assert_eq!(record.status, StatusCode::OK);
    assert!(
        record
            .body
            .contains("&lt;script&gt;alert(1)&lt;/script&gt;")
    );
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM message WHERE read_by_staff_id = 101"
        )
        .await,
        1
    );
    assert!(
        get(&router, MESSAGES, &patient)
            .await
            .body
            .contains("läst av vården")
    );
    let reply = format!(
        "patient_id=401&{}",
        message(701, "Tack, vi hörs på torsdag.", &key('b'))
    );
    let answered = send(&router, call("reply_message", &reply, &therapist)).await;
    assert_eq!(answered.status, StatusCode::OK, "{}", answered.body);
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM access_log WHERE patient_id = 401 AND action = 'write' AND object_type = 'message'").await,
        1
    );
    let overview = get(&router, TREATMENT, &patient).await;
    assert!(
        overview.body.contains("1 olästa"),
        "the overview says a message waits"
    );
    let thread = get(&router, MESSAGES, &patient).await;
    assert!(
        thread.body.contains("Tack, vi hörs på torsdag.") && thread.body.contains("Tove Terapeut")
    );
    assert!(
        !get(&router, TREATMENT, &patient)
            .await
            .body
            .contains("olästa"),
        "now read"
    );

    // Bad input is refused and stores nothing.
    let before = messages().await;
    for (body, reason) in [
        (" \n ".to_owned(), "message_empty"),
        ("å".repeat(4001), "message_too_long"),
    ] {
        let refused = send(
            &router,
            call("send_message", &message(701, &body, &key('c')), &patient),
        )
        .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(refused.body.contains(reason), "{}", refused.body);
    }
    assert_eq!(messages().await, before);

    // Nobody else reaches the thread: another patient, another region's therapist, or a
    // therapist naming a patient of theirs with another patient's enrolment.
    let other = patient_session(&db, 402).await;
    assert_eq!(
        get(&router, MESSAGES, &other).await.status,
        StatusCode::NOT_FOUND
    );
    let sent_by_other = send(
        &router,
        call("send_message", &message(701, "x", &key('d')), &other),
    )
    .await;
    assert_eq!(sent_by_other.status, StatusCode::NOT_FOUND);
    let region_b = staff_session(&db, 106, 306).await;
    let from_b = format!("patient_id=401&{}", message(701, "x", &key('d')));
    assert_eq!(
        send(&router, call("reply_message", &from_b, &region_b))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let crossed = format!("patient_id=402&{}", message(701, "x", &key('d')));
    assert_eq!(
        send(&router, call("reply_message", &crossed, &therapist))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(messages().await, before);

    // A patient may send ten an hour in a treatment; the eleventh waits.
    for n in 0..9 {
        let key = format!("{n:064x}");
        let ok = send(
            &router,
            call("send_message", &message(701, "fråga", &key), &patient),
        )
        .await;
        assert_eq!(ok.status, StatusCode::OK);
    }
    let limited = send(
        &router,
        call("send_message", &message(701, "fråga", &key('e')), &patient),
    )
    .await;
    assert!(limited.body.contains("rate_limited"), "{}", limited.body);

    // After the treatment, the thread can be read, not written.
    db.execute_unprepared(
        "UPDATE enrolment SET state = 'ended', ended_at = CURRENT_TIMESTAMP WHERE id = 701",
    )
    .await
    .expect("end");
    let ended = get(&router, MESSAGES, &patient).await;
    assert!(
        ended.body.contains("Tack, vi hörs på torsdag.") && !ended.body.contains(r#"name="body""#)
    );
    let late = send(
        &router,
        call("send_message", &message(701, "hej", &key('f')), &patient),
    )
    .await;
    assert!(late.body.contains("treatment_ended"), "{}", late.body);
    // Ended treatment is read-only for the unit too: an answer is refused, and logged so.
    let after_end = format!("patient_id=401&{}", message(701, "x", &key('f')));
    let refused = send(&router, call("reply_message", &after_end, &therapist)).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert_eq!(
            count(
                &db,
                "SELECT COUNT(*) FROM access_log WHERE patient_id = 401 AND action = 'write' AND outcome = 'refused'"
            )
            .await,
            1
        );
    assert!(
        !get(&router, "/mottagning/patient/401", &therapist)
            .await
            .body
            .contains(r#"name="body""#)
    );
});

db_test!(two_submits_at_once_make_one_response_and_one_flag, |db| {
    world(&db).await;
    let router = app(db.clone());
    let patient = patient_session(&db, 401).await;
    let urgent = [
        Some(0),
        Some(0),
        Some(0),
        Some(0),
        Some(0),
        Some(0),
        Some(0),
        Some(0),
        Some(2),
    ];
    // The same submit twice at once (a double click): both told it was sent, once.
    let same = phq(&urgent, &key('a'), "submit");
    let (first, second) = tokio::join!(
        send(&router, call("answer_form", &same, &patient)),
        send(&router, call("answer_form", &same, &patient)),
    );
    assert_eq!(
        (first.status, second.status),
        (StatusCode::OK, StatusCode::OK),
        "{} {}",
        first.body,
        second.body
    );
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM form_response WHERE state = 'submitted'"
        )
        .await,
        1
    );
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM flag WHERE reason = 'phq9_item9'").await,
        1
    );

    // Two different submits at once (two tabs): one wins, the other is refused.
    db.execute_unprepared("DELETE FROM flag")
        .await
        .expect("reset");
    db.execute_unprepared("DELETE FROM form_response")
        .await
        .expect("reset");
    let one = phq(&urgent, &key('b'), "submit");
    // Item 9 at 0: no alert.
    let calm = [
        Some(1),
        Some(1),
        Some(1),
        Some(1),
        Some(1),
        Some(1),
        Some(1),
        Some(1),
        Some(0),
    ];
    let other = phq(&calm, &key('c'), "submit");
    let (a, b) = tokio::join!(
        send(&router, call("answer_form", &one, &patient)),
        send(&router, call("answer_form", &other, &patient)),
    );
    let mut statuses = [a.status.as_u16(), b.status.as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409], "{} {}", a.body, b.body);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM form_response").await, 1);
    let urgent_won = a.status == StatusCode::OK;
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM flag").await,
        i64::from(urgent_won)
    );
});

const HOMEWORK_PAGE: &str = "/mina-sidor/behandling/701/m4/p5";
const WORKSHEET: &str = "block%3Am4%2Fp5%2Fws";
const DIARY: &str = "block%3Am4%2Fp5%2Fdiary";

/// A `save_homework` form body for enrolment 701: `fields` as (key, value).
fn homework(place: &str, fields: &[(&str, &str)], key: &str, intent: &str) -> String {
    let mut body = format!("enrolment=701&place={place}&submit_key={key}&intent={intent}");
    for (name, value) in fields {
        body.push_str(&format!("&fields%5B{name}%5D={value}"));
    }
    body
}

db_test!(
    homework_is_kept_submitted_once_and_feedback_opens_the_next_module,
    |db| {
        world(&db).await;
        db.execute_unprepared("UPDATE enrolment SET responsible_staff_id = 101 WHERE id = 701")
            .await
            .expect("responsible");
        let router = app(db.clone());
        let patient = patient_session(&db, 401).await;
        let therapist = staff_session(&db, 101, 301).await;
        let save = |body: String| {
            let router = router.clone();
            let patient = patient.clone();
            async move { send(&router, call("save_homework", &body, &patient)).await }
        };
        let rows = |sql: &'static str| {
            let db = db.clone();
            async move { count(&db, sql).await }
        };

        let page = get(&router, HOMEWORK_PAGE, &patient).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(
            page.body.contains("Skicka hemuppgiften") && page.body.contains("Spara anteckningen")
        );
        // The module after it opens only with the therapist's feedback.
        let locked = get(&router, "/mina-sidor/behandling/701/m5/p6", &patient).await;
        assert_eq!(locked.status, StatusCode::FORBIDDEN);

        // A draft is kept on the server and shown again.
        let draft = save(homework(
            WORKSHEET,
            &[("thought", "Jobbet")],
            &key('a'),
            "save",
        ))
        .await;
        assert_eq!(draft.status, StatusCode::OK, "{}", draft.body);
        assert!(
            get(&router, HOMEWORK_PAGE, &patient)
                .await
                .body
                .contains(">Jobbet</textarea>")
        );

        // A send with a required field missing keeps what was written and names the field.
        let missing = save(homework(
            WORKSHEET,
            &[("thought", "Jobbet+igen")],
            &key('b'),
            "submit",
        ))
        .await;
        assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            missing.body.contains("strength") && missing.body.contains("missing_answer"),
            "{}",
            missing.body
        );
        assert!(
            get(&router, HOMEWORK_PAGE, &patient)
                .await
                .body
                .contains(">Jobbet igen</textarea>")
        );
        // A value the field does not take is refused and changes nothing.
        for (fields, reason) in [
            (vec![("thought", "x"), ("strength", "11")], "out_of_range"),
            (
                vec![("thought", "x"), ("strength", "mycket")],
                "not_a_number",
            ),
            (vec![("thought", "x"), ("other", "1")], "unknown_field"),
        ] {
            let refused = save(homework(WORKSHEET, &fields, &key('b'), "submit")).await;
            assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
            assert!(refused.body.contains(reason), "{}", refused.body);
        }
        assert_eq!(
            rows("SELECT COUNT(*) FROM homework_entry WHERE state = 'submitted'").await,
            0
        );

        // Sent once: a retry is answered the same, anything else is refused (409).
        let sent = homework(
            WORKSHEET,
            &[("thought", "Jobbet"), ("strength", "7")],
            &key('c'),
            "submit",
        );
        assert_eq!(save(sent.clone()).await.status, StatusCode::OK);
        assert_eq!(save(sent).await.status, StatusCode::OK);
        for intent in ["save", "submit"] {
            let changed = save(homework(
                WORKSHEET,
                &[("thought", "Annat"), ("strength", "1")],
                &key('d'),
                intent,
            ))
            .await;
            assert_eq!(changed.status, StatusCode::CONFLICT, "{intent}");
        }
        assert_eq!(
            rows("SELECT COUNT(*) FROM homework_entry WHERE kind = 'worksheet' AND state = 'submitted' \
                  AND fields LIKE '%Jobbet%' AND program_version_id = 601").await,
            1
        );
        let page = get(&router, HOMEWORK_PAGE, &patient).await;
        assert!(page.body.contains("Inskickad") && !page.body.contains("Skicka hemuppgiften"));

        // An exercise takes repeated entries, each once, none as a draft.
        for (night, k) in [
            ("2026-11-27", 'e'),
            ("2026-11-28", 'f'),
            ("2026-11-28", 'f'),
        ] {
            let entry = save(homework(
                DIARY,
                &[("night", night), ("quality", "Bra")],
                &key(k),
                "submit",
            ))
            .await;
            assert_eq!(entry.status, StatusCode::OK, "{}", entry.body);
        }
        for (fields, intent, reason) in [
            (vec![("night", "28/11")], "submit", "not_a_date"),
            (
                vec![("night", "2026-11-29"), ("quality", "Utmärkt")],
                "submit",
                "not_allowed",
            ),
            (vec![("quality", "Bra")], "submit", "missing_answer"),
            (vec![("night", "2026-11-29")], "save", "no_draft"),
        ] {
            let refused = save(homework(DIARY, &fields, &key('1'), intent)).await;
            assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{reason}");
            assert!(refused.body.contains(reason), "{}", refused.body);
        }
        // A key already used for another block is refused.
        let reused = save(homework(
            DIARY,
            &[("night", "2026-11-29")],
            &key('c'),
            "submit",
        ))
        .await;
        assert_eq!(reused.status, StatusCode::CONFLICT);
        assert_eq!(
            rows("SELECT COUNT(*) FROM homework_entry WHERE kind = 'exercise'").await,
            2
        );
        let page = get(&router, HOMEWORK_PAGE, &patient).await;
        assert!(page.body.contains("2026-11-27") && page.body.contains("2026-11-28"));

        // The care team reads what was submitted, never the patient's drafts.
        let record = get(&router, "/mottagning/patient/401", &therapist).await;
        assert_eq!(record.status, StatusCode::OK);
        assert!(
            record.body.contains("Fält thought") && record.body.contains(">Jobbet<"),
            "{}",
            record.body
        );
        assert!(record.body.contains("Återkoppling på modulen"));

        // Feedback: on an open module only, once.
        let feedback = |module: &str, body: &str, k: char| {
            format!(
                "patient_id=401&enrolment=701&module={module}&body={body}&submit_key={}",
                key(k)
            )
        };
        let locked = send(
            &router,
            call("give_feedback", &feedback("m5", "Bra", '2'), &therapist),
        )
        .await;
        assert_eq!(locked.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(locked.body.contains("module_locked"));
        let empty = send(
            &router,
            call("give_feedback", &feedback("m4", "+", '2'), &therapist),
        )
        .await;
        assert!(empty.body.contains("message_empty"), "{}", empty.body);
        let given = feedback("m4", "Fint+arbete+med+loggen.", '2');
        assert_eq!(
            send(&router, call("give_feedback", &given, &therapist))
                .await
                .status,
            StatusCode::OK
        );
        assert_eq!(
            send(&router, call("give_feedback", &given, &therapist))
                .await
                .status,
            StatusCode::OK
        );
        let again = send(
            &router,
            call("give_feedback", &feedback("m4", "Igen", '3'), &therapist),
        )
        .await;
        assert_eq!(again.status, StatusCode::CONFLICT);
        let changed = send(
            &router,
            call(
                "give_feedback",
                &feedback("m4", "Annan+text", '2'),
                &therapist,
            ),
        )
        .await;
        assert_eq!(changed.status, StatusCode::CONFLICT);

        assert_eq!(rows("SELECT COUNT(*) FROM module_feedback").await, 1);
        assert_eq!(
            rows("SELECT COUNT(*) FROM access_log WHERE patient_id = 401 AND action = 'write' AND object_type = 'feedback'").await,
            6
        );

        // The patient reads it, and the module after it opens.
        assert_eq!(
            rows("SELECT COUNT(*) FROM module_feedback WHERE read_at IS NULL").await,
            1
        );
        let overview = get(&router, TREATMENT, &patient).await;
        assert!(
            overview.body.contains("Fint arbete med loggen.")
                && overview.body.contains("Tove Terapeut")
        );
        assert_eq!(
            rows("SELECT COUNT(*) FROM module_feedback WHERE read_at IS NULL").await,
            0
        );
        let opened = get(&router, "/mina-sidor/behandling/701/m5/p6", &patient).await;
        assert_eq!(opened.status, StatusCode::OK);
        assert!(opened.body.contains("AFTER-FEEDBACK-TEXT"));
    }
);

db_test!(
    feedback_and_homework_stay_inside_the_reached_enrolment,
    |db| {
        world(&db).await;
        let router = app(db.clone());
        let therapist = staff_session(&db, 101, 301).await;
        let other_patient = patient_session(&db, 402).await;
        // Patient 402's session cannot write into 401's enrolment.
        let crossed = send(
            &router,
            call(
                "save_homework",
                &homework(DIARY, &[("night", "2026-11-29")], &key('a'), "submit"),
                &other_patient,
            ),
        )
        .await;
        assert_eq!(crossed.status, StatusCode::NOT_FOUND);
        // Staff reach patient 402, but enrolment 701 is patient 401's: not found, nothing written.
        let crossed = send(
            &router,
            call(
                "give_feedback",
                &format!(
                    "patient_id=402&enrolment=701&module=m4&body=Hej&submit_key={}",
                    key('b')
                ),
                &therapist,
            ),
        )
        .await;
        assert_eq!(crossed.status, StatusCode::NOT_FOUND);
        // Enrolment 703 is at another unit of the provider.
        let other_unit = send(
            &router,
            call(
                "give_feedback",
                &format!(
                    "patient_id=403&enrolment=703&module=m4&body=Hej&submit_key={}",
                    key('c')
                ),
                &therapist,
            ),
        )
        .await;
        assert_eq!(other_unit.status, StatusCode::FORBIDDEN);
        assert_eq!(
            count(&db, "SELECT COUNT(*) FROM homework_entry").await
                + count(&db, "SELECT COUNT(*) FROM module_feedback").await,
            0
        );
    }
);

/// The enrolment form's body: `patients` as typed, on version 601 with Tove (101) responsible.
fn enrolment(patients: &str, extra: &str) -> String {
    let mut body = String::from("version_id=601&responsible_staff_id=101&patients=");
    body.push_str(&patients.replace(' ', "+").replace('\n', "%0A"));
    body.push_str(extra);
    body
}

db_test!(staff_enrol_one_patient_or_a_group_all_or_none, |db| {
    world(&db).await;
    db.execute_unprepared(
        "INSERT INTO program_activation (program_version_id, care_unit_id, activated_at) \
         VALUES (601, 11, CURRENT_TIMESTAMP)",
    )
    .await
    .expect("activate");
    let router = app(db.clone());
    let therapist = staff_session(&db, 101, 301).await;
    let enrol = |body: String| {
        let router = router.clone();
        let therapist = therapist.clone();
        async move { send(&router, call("enrol_patients", &body, &therapist)).await }
    };
    let enrolments = || {
        let db = db.clone();
        async move { count(&db, "SELECT COUNT(*) FROM enrolment").await }
    };

    // The form offers what is active at the unit and its therapists.
    let home = get(&router, "/mottagning", &therapist).await;
    assert!(home.body.contains("Skriv in patienter") && home.body.contains("Program 1.0"));
    assert!(home.body.contains("Tove Terapeut"));

    // One new person, with contact details and consent: registered and enrolled.
    let one = enrol(enrolment(
        "19850505-1238 Anna Andersson",
        "&email=anna%40example.se&phone=070-123+45+67&notify_by_email=on",
    ))
    .await;
    assert_eq!(one.status, StatusCode::OK, "{}", one.body);
    assert_eq!(one.body, "1");
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM patient WHERE personnummer = '198505051238' AND given_name = 'Anna' \
             AND email = 'anna@example.se' AND phone = '+46701234567' AND notify_by_email AND NOT notify_by_sms \
             AND sandbox_id IS NULL"
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM enrolment e JOIN patient p ON p.id = e.patient_id \
             WHERE p.personnummer = '198505051238' AND e.care_unit_id = 11 AND e.program_version_id = 601 \
             AND e.responsible_staff_id = 101 AND e.state = 'active'"
        )
        .await,
        1
    );
    // The patient is now in the unit's list, and the enrolment is in the access log.
    assert!(
        get(&router, "/mottagning", &therapist)
            .await
            .body
            .contains("Anna Andersson")
    );
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM access_log WHERE action = 'write' AND object_type = 'enrolment'"
        )
        .await,
        1
    );

    // A group: a bad line is named, and nobody is enrolled.
    let before = enrolments().await;
    let patients_before = count(&db, "SELECT COUNT(*) FROM patient").await;
    for (list, field, reason) in [
        (
            "198505051246\n\n198505051254",
            "line:3",
            "invalid_personnummer",
        ),
        ("198505051246\n19850505-1246", "line:2", "duplicate_line"),
        ("198505051246\n198505051238", "line:2", "already_enrolled"),
        (" \n", "patients", "no_patients"),
    ] {
        let refused = enrol(enrolment(list, "")).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{list}");
        assert!(
            refused.body.contains(field) && refused.body.contains(reason),
            "{list}: {}",
            refused.body
        );
    }
    assert_eq!(enrolments().await, before);
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM patient").await,
        patients_before
    );

    // Bad choices and contact details are refused and change nothing.
    for (body, reason) in [
        (
            enrolment("198505051246", "").replace("version_id=601", "version_id=9999"),
            "version_not_active",
        ),
        (
            enrolment("198505051246", "")
                .replace("responsible_staff_id=101", "responsible_staff_id=103"),
            "not_a_therapist",
        ),
        (
            enrolment("198505051246", "&email=inte-en-adress"),
            "invalid_email",
        ),
        (
            enrolment("198505051246", "&notify_by_sms=on"),
            "consent_without_contact",
        ),
        (
            enrolment("198505051246\n198505051253", "&email=a%40b.se"),
            "contact_for_one_only",
        ),
    ] {
        let refused = enrol(body).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{reason}");
        assert!(refused.body.contains(reason), "{}", refused.body);
    }
    assert_eq!(enrolments().await, before);

    // A good group: two new people and a known one (Maja, 403, treated in the program at A2: the
    // rule is one ongoing enrolment per program at a unit, and A2's care is not shown here).
    let group = enrol(enrolment(
        "198505051246 Bertil Berg\n197001011118\n199610202385",
        "",
    ))
    .await;
    assert_eq!(group.status, StatusCode::OK, "{}", group.body);
    assert_eq!(group.body, "3");
    assert_eq!(enrolments().await, before + 3);
    // Maja (403, treated at A2) is the same person: no second patient row, her name unchanged.
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM patient WHERE personnummer = '199610202385' AND given_name = 'Maja'").await,
        1
    );
    // A new person without a name is listed by number until their first login.
    let list = get(&router, "/mottagning", &therapist).await;
    assert!(list.body.contains("Bertil Berg") && list.body.contains("197001011118"));
    // Numbers never travel in an address: the form posts them.
    assert!(!list.body.contains("?patients=") && list.body.contains(r#"method="post""#));

    // Staff of another unit or region, and a patient, cannot enrol here: they enrol at their own
    // unit, where nothing is active.
    let region_b = staff_session(&db, 106, 306).await;
    let elsewhere = send(
        &router,
        call("enrol_patients", &enrolment("198505051253", ""), &region_b),
    )
    .await;
    assert_eq!(elsewhere.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(elsewhere.body.contains("version_not_active"));
});

db_test!(a_patient_takes_home_their_own_data_and_nothing_else, |db| {
    world(&db).await;
    db.execute_unprepared("UPDATE enrolment SET responsible_staff_id = 101 WHERE id = 701")
        .await
        .expect("responsible");
    let router = app(db.clone());
    let patient = patient_session(&db, 401).await;
    let other = patient_session(&db, 402).await;
    let therapist = staff_session(&db, 101, 301).await;
    let ok = |answer: Answer| assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);

    // A draft, a submitted worksheet, a message each way, feedback, and the record read.
    get(&router, "/mina-sidor/behandling/701/m1/p1", &patient).await;
    ok(send(
        &router,
        call(
            "answer_form",
            &phq(&[Some(2), Some(1)], &key('a'), "save"),
            &patient,
        ),
    )
    .await);
    ok(send(
        &router,
        call(
            "save_homework",
            &homework(
                WORKSHEET,
                &[("thought", "MIN-TANKE"), ("strength", "4")],
                &key('b'),
                "submit",
            ),
            &patient,
        ),
    )
    .await);
    ok(send(
        &router,
        call(
            "send_message",
            &message(701, "MITT-MEDDELANDE", &key('c')),
            &patient,
        ),
    )
    .await);
    ok(send(
        &router,
        call(
            "send_message",
            &message(702, "ANNANS-MEDDELANDE", &key('d')),
            &other,
        ),
    )
    .await);
    ok(get(&router, "/mottagning/patient/401", &therapist).await);
    ok(send(
        &router,
        call(
            "give_feedback",
            &format!(
                "patient_id=401&enrolment=701&module=m4&body=BRA-JOBBAT&submit_key={}",
                key('e')
            ),
            &therapist,
        ),
    )
    .await);

    let file = get(&router, "/mina-sidor/mina-uppgifter.json", &patient).await;
    assert_eq!(file.status, StatusCode::OK);
    assert_eq!(
        file.headers
            .get(header::CONTENT_DISPOSITION)
            .and_then(|v| v.to_str().ok()),
        Some("attachment; filename=\"mina-uppgifter.json\"")
    );
    let data: serde_json::Value = serde_json::from_str(&file.body).expect("json");
    assert_eq!(data["personnummer"], "199107172380");
    assert_eq!(data["name"], "Petra Patient");
    let treatment = &data["treatments"][0];
    assert_eq!(treatment["program"], "Program");
    assert_eq!(treatment["care_unit"], "Enhet A1");
    assert_eq!(treatment["care_provider"], "Region A");
    assert_eq!(treatment["pages_seen"][0][1], "Sida p1");
    let answer = &treatment["answers"][0];
    assert_eq!(
        (
            answer["questionnaire"].as_str(),
            answer["submitted"].as_bool()
        ),
        (Some("PHQ-9"), Some(false))
    );
    assert_eq!(
        answer["items"][0],
        serde_json::json!(["Fråga nummer 1", "2"])
    );
    assert_eq!(
        treatment["homework"][0]["fields"][0],
        serde_json::json!(["Fält thought", "MIN-TANKE"])
    );
    assert_eq!(treatment["feedback"][0][0], "Modul m4");
    assert_eq!(treatment["feedback"][0][1]["body"], "BRA-JOBBAT");
    assert_eq!(treatment["messages"][0]["body"], "MITT-MEDDELANDE");
    assert!(data["accesses"].as_array().is_some_and(|a| !a.is_empty()));
    for foreign in ["INTERNAL-NOTE-701", "ANNANS-MEDDELANDE", "Olle"] {
        assert!(!file.body.contains(foreign), "{foreign} in {}", file.body);
    }
    // The same on the page, which says where a full request goes.
    let page = get(&router, "/mina-sidor/mina-uppgifter", &patient).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("MIN-TANKE")
            && page.body.contains("BRA-JOBBAT")
            && page.body.contains("artikel 15")
    );
    assert!(!page.body.contains("INTERNAL-NOTE-701") && !page.body.contains("ANNANS-MEDDELANDE"));
    // Nobody else downloads it.
    let staff = get(&router, "/mina-sidor/mina-uppgifter.json", &therapist).await;
    assert_eq!(staff.status, StatusCode::FORBIDDEN);
});

db_test!(
    a_demo_visitor_enrolling_a_real_persons_number_touches_no_real_data,
    |db| {
        world(&db).await;
        let router = app(db.clone());
        let entered = send(
            &router,
            Request::post("/demo/start")
                .header(header::HOST, "lotsen.test")
                .header(header::ORIGIN, "https://lotsen.test")
                .header("sec-fetch-site", "same-origin")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from("persona=therapist"))
                .expect("request"),
        )
        .await;
        assert_eq!(entered.status, StatusCode::SEE_OTHER);
        let cookie = entered.headers[header::SET_COOKIE].to_str().expect("ascii");
        let session = cookie
            .split_once('=')
            .and_then(|(_, rest)| rest.split(';').next())
            .expect("session")
            .to_owned();
        let choices = send(&router, call("enrolment_choices", "", &session)).await;
        assert_eq!(choices.status, StatusCode::OK, "{}", choices.body);
        let choices: serde_json::Value = serde_json::from_str(&choices.body).expect("json");
        let version = choices["versions"][0]["version_id"]
            .as_i64()
            .expect("a version");
        let therapist = choices["therapists"][0]["staff_person_id"]
            .as_i64()
            .expect("a therapist");
        // Rut Region's number (patient 404, real care in region B).
        let enrolled = send(
            &router,
            call(
                "enrol_patients",
                &format!(
                    "patients=191212121212&version_id={version}&responsible_staff_id={therapist}"
                ),
                &session,
            ),
        )
        .await;
        assert_eq!(enrolled.status, StatusCode::OK, "{}", enrolled.body);
        // A person of the sandbox was registered; the real one is untouched and not shown.
        assert_eq!(
        count(&db, "SELECT COUNT(*) FROM patient WHERE personnummer = '191212121212' AND sandbox_id IS NOT NULL").await,
        1
    );
        assert_eq!(
            count(&db, "SELECT COUNT(*) FROM enrolment WHERE patient_id = 404").await,
            1
        );
        let list = get(&router, "/mottagning", &session).await;
        assert!(list.body.contains("191212121212") && !list.body.contains("Rut Region"));
    }
);

db_test!(
    notifications_are_queued_with_the_event_once_per_recipient_and_never_in_a_sandbox,
    |db| {
        use app::notify::{self, Outcome, Recipient, Template};
        world(&db).await;
        db.execute_unprepared(
            "UPDATE enrolment SET responsible_staff_id = 101 WHERE id = 701; \
             UPDATE patient SET email = 'petra@example.se', phone = '+46701234567', \
               notify_by_email = TRUE, notify_by_sms = TRUE WHERE id = 401; \
             UPDATE patient SET email = 'olle@example.se' WHERE id = 402; \
             UPDATE staff_person SET email = 'tove@region-a.example' WHERE id = 101",
        )
        .await
        .expect("contact");
        let router = app(db.clone());
        let patient = patient_session(&db, 401).await;
        let therapist = staff_session(&db, 101, 301).await;
        let waiting = |who: &'static str| {
            let db = db.clone();
            async move {
                count(
                    &db,
                    &format!(
                        "SELECT COUNT(*) FROM notification WHERE {who} \
                         AND sent_at IS NULL AND gave_up_at IS NULL"
                    ),
                )
                .await
            }
        };

        // The patient's own message notifies nobody.
        let own = message(701, "Hej från Petra", &key('a'));
        assert_eq!(
            send(&router, call("send_message", &own, &patient))
                .await
                .status,
            StatusCode::OK
        );
        assert_eq!(count(&db, "SELECT COUNT(*) FROM notification").await, 0);

        // A reply from the care team: one notification per consented channel, kind only.
        let reply = |k: char| format!("patient_id=401&{}", message(701, "Svar", &key(k)));
        let answered = send(&router, call("reply_message", &reply('b'), &therapist)).await;
        assert_eq!(answered.status, StatusCode::OK, "{}", answered.body);
        assert_eq!(
            count(
                &db,
                "SELECT COUNT(*) FROM notification WHERE patient_id = 401 \
                 AND template = 'new_message' AND channel IN ('email', 'sms')"
            )
            .await,
            2
        );
        // A second reply before it went out adds nothing: one waits per channel.
        let again = send(&router, call("reply_message", &reply('c'), &therapist)).await;
        assert_eq!(again.status, StatusCode::OK);
        assert_eq!(waiting("patient_id = 401").await, 2);
        // A patient without consent gets nothing (402 has an address, no consent).
        assert!(
            notify::enqueue(
                &db,
                Recipient::Patient(402),
                Template::NewMessage,
                chrono::Utc::now()
            )
            .await
            .expect("enqueue")
                == 0
        );

        // An urgent answer: a content-free notice to the care team, once.
        let risky = [
            Some(1),
            Some(1),
            Some(0),
            Some(0),
            Some(0),
            Some(0),
            Some(0),
            Some(0),
            Some(2),
        ];
        let submitted = send(
            &router,
            call("answer_form", &phq(&risky, &key('d'), "submit"), &patient),
        )
        .await;
        assert_eq!(submitted.status, StatusCode::OK, "{}", submitted.body);
        assert!(submitted.body.contains(r#""urgent":true"#));
        let retried = send(
            &router,
            call("answer_form", &phq(&risky, &key('d'), "submit"), &patient),
        )
        .await;
        assert_eq!(retried.status, StatusCode::OK);
        assert_eq!(
            count(
                &db,
                "SELECT COUNT(*) FROM notification WHERE staff_person_id = 101 \
                 AND template = 'urgent_flag' AND channel = 'email'"
            )
            .await,
            1
        );

        // A sender claims what is due; a second sender at the same moment gets none of it.
        let now = chrono::Utc::now() + chrono::Duration::seconds(1);
        let lease = chrono::Duration::minutes(5);
        let (first, second) = tokio::join!(
            notify::claim(&db, "sender-1", now, lease, 20),
            notify::claim(&db, "sender-2", now, lease, 20)
        );
        let (first, second) = (first.expect("claim"), second.expect("claim"));
        assert_eq!(first.len() + second.len(), 3, "{first:?} {second:?}");
        assert!(first.iter().all(|a| second.iter().all(|b| a.id != b.id)));
        let mut all = first.clone();
        all.extend(second.clone());
        // What it may send: the address on record now, and only to its own claim.
        let email = all
            .iter()
            .find(|c| c.recipient == Recipient::Patient(401) && c.channel.code() == "email")
            .expect("the patient's e-mail")
            .clone();
        let holder = if first.contains(&email) {
            "sender-1"
        } else {
            "sender-2"
        };
        let other = if holder == "sender-1" {
            "sender-2"
        } else {
            "sender-1"
        };
        assert_eq!(
            notify::prepare(&db, &email, now).await.expect("prepare"),
            Ok("petra@example.se".to_owned())
        );
        assert!(
            !notify::finish(&db, other, &email, &Outcome::Sent, now)
                .await
                .expect("finish")
        );
        assert!(
            notify::finish(&db, holder, &email, &Outcome::Sent, now)
                .await
                .expect("finish")
        );
        // Once sent, the next one for that channel waits three hours.
        let third = send(&router, call("reply_message", &reply('e'), &therapist)).await;
        assert_eq!(third.status, StatusCode::OK);
        let next = notify::claim(
            &db,
            "sender-3",
            now + chrono::Duration::minutes(10),
            lease,
            20,
        )
        .await
        .expect("claim");
        assert!(
            !next
                .iter()
                .any(|c| c.recipient == Recipient::Patient(401) && c.channel.code() == "email"),
            "the next e-mail is not due yet: {next:?}"
        );
        let later = notify::claim(
            &db,
            "sender-3",
            now + notify::MIN_GAP + chrono::Duration::seconds(1),
            lease,
            20,
        )
        .await
        .expect("claim");
        assert!(
            later.iter().any(|c| c.recipient == Recipient::Patient(401)
                && c.channel.code() == "email"
                && c.template == Template::NewMessage),
            "{later:?}"
        );
        // Consent withdrawn before sending: given up, not sent.
        db.execute_unprepared("UPDATE patient SET notify_by_sms = FALSE WHERE id = 401")
            .await
            .expect("withdraw");
        let sms = all
            .iter()
            .find(|c| c.channel.code() == "sms")
            .expect("the patient's SMS");
        assert_eq!(
            notify::prepare(&db, sms, now).await.expect("prepare"),
            Err(Outcome::GiveUp("no_address"))
        );

        // Nothing is ever queued for anyone in a demo sandbox.
        db.execute_unprepared(
            "INSERT INTO demo_sandbox (id, token_hash, created_at, last_seen_at, expires_at) \
             VALUES (9001, 'x', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP); \
             UPDATE patient SET sandbox_id = 9001 WHERE id = 402; \
             UPDATE patient SET notify_by_email = TRUE WHERE id = 402",
        )
        .await
        .expect("sandbox");
        assert_eq!(
            notify::enqueue(&db, Recipient::Patient(402), Template::NewMessage, now)
                .await
                .expect("enqueue"),
            0
        );
        assert_eq!(
            count(
                &db,
                "SELECT COUNT(*) FROM notification WHERE patient_id = 402"
            )
            .await,
            0
        );
        // Nothing about a message is kept with a notification: its kind only.
        assert_eq!(
            count(
                &db,
                "SELECT COUNT(*) FROM notification WHERE template NOT IN \
                 ('new_message', 'urgent_flag')"
            )
            .await,
            0
        );
    }
);

/// The form body for GAD-7 answers at a scheduled form's instance, every item the same.
fn gad(schedule_place: &str, value: i32, key: &str) -> String {
    let mut body = format!("enrolment=701&place={schedule_place}&submit_key={key}&intent=submit");
    for n in 1..=7 {
        body.push_str(&format!("&answers%5Bgad7_{n}%5D={value}"));
    }
    body
}

db_test!(
    a_scheduled_form_falls_due_lapses_and_a_blocking_one_comes_before_the_pages,
    |db| {
        world(&db).await;
        let router = app(db.clone());
        let patient = patient_session(&db, 401).await;
        let due_link = r#"href="/mina-sidor/formular/701/gad-weekly""#;
        let forms = |sql: &'static str| {
            let db = db.clone();
            async move { count(&db, sql).await }
        };
        // A GAD-7 sent to an instance of the weekly schedule.
        let send_gad = |place: &str, value: i32, k: char| {
            let request = call("answer_form", &gad(place, value, &key(k)), &patient);
            let router = router.clone();
            async move { send(&router, request).await }
        };

        // Day 0: the weekly GAD-7 is due at enrolment, listed on the treatment; the module that
        // opens on day 14 is refused by address.
        let overview = get(&router, TREATMENT, &patient).await;
        assert!(overview.body.contains("Formulär att besvara"));
        assert!(overview.body.contains(due_link), "{}", overview.body);
        assert_eq!(
            forms("SELECT COUNT(*) FROM due_form WHERE enrolment_id = 701 AND occurrence = 0 AND state = 'planned'").await,
            1
        );
        let later = get(&router, "/mina-sidor/behandling/701/m6/p7", &patient).await;
        assert_eq!(later.status, StatusCode::FORBIDDEN);
        assert!(!later.body.contains("DAY-FOURTEEN-TEXT"));
        // Begun and saved as a draft, then left.
        let begun = "enrolment=701&place=schedule%3Agad-weekly%2F0&submit_key=".to_owned()
            + &key('9')
            + "&intent=save&answers%5Bgad7_1%5D=3";
        let saved = send(&router, call("answer_form", &begun, &patient)).await;
        assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);

        // Three weeks away: one form, this week's (instance 3); the first lapsed unanswered.
        app::testing::started_days_ago(&db, 701, 22).await;
        let overview = get(&router, TREATMENT, &patient).await;
        assert_eq!(overview.body.matches(due_link).count(), 1);
        assert_eq!(
            forms("SELECT COUNT(*) FROM due_form WHERE enrolment_id = 701 AND state IN ('planned', 'shown')").await,
            1
        );
        assert_eq!(
            forms("SELECT COUNT(*) FROM due_form WHERE enrolment_id = 701 AND occurrence = 0 AND state = 'expired'").await,
            1
        );
        assert_eq!(
            forms("SELECT COUNT(*) FROM due_form WHERE enrolment_id = 701 AND occurrence = 3")
                .await,
            1
        );
        let opened = get(&router, "/mina-sidor/behandling/701/m6/p7", &patient).await;
        assert_eq!(opened.status, StatusCode::OK);
        assert!(opened.body.contains("DAY-FOURTEEN-TEXT"));
        // The draft the patient was told was saved went with them to this week's form.
        assert_eq!(
            forms(
                "SELECT COUNT(*) FROM form_response WHERE place = 'schedule:gad-weekly/3' \
                 AND state = 'draft' AND answers LIKE '%gad7_1%'"
            )
            .await,
            1
        );

        // Opening it marks it shown; the lapsed instance takes no answer; this week's does, once.
        let form = get(&router, "/mina-sidor/formular/701/gad-weekly", &patient).await;
        assert_eq!(form.status, StatusCode::OK);
        assert!(form.body.contains("Oro nummer 1"), "the items' wording");
        assert_eq!(
            forms("SELECT COUNT(*) FROM due_form WHERE enrolment_id = 701 AND occurrence = 3 AND state = 'shown'").await,
            1
        );
        let stale = send_gad("schedule%3Agad-weekly%2F0", 1, 'a').await;
        assert_eq!(stale.status, StatusCode::NOT_FOUND);
        let sent = send_gad("schedule%3Agad-weekly%2F3", 2, 'b').await;
        assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
        assert_eq!(
            forms(
                "SELECT COUNT(*) FROM due_form d JOIN form_response r ON r.id = d.response_id \
                 WHERE d.enrolment_id = 701 AND d.occurrence = 3 AND d.state = 'answered' \
                 AND r.state = 'submitted' AND r.total = 14 AND r.questionnaire_key = 'gad'"
            )
            .await,
            1
        );
        let overview = get(&router, TREATMENT, &patient).await;
        assert!(
            !overview.body.contains(due_link),
            "answered: no longer asked"
        );
        // The same send again (its answer lost on the way) is answered as the first; another
        // send is refused; another spelling of the instance is no instance.
        let retried = send_gad("schedule%3Agad-weekly%2F3", 2, 'b').await;
        assert_eq!(retried.status, StatusCode::OK, "{}", retried.body);
        let again = send_gad("schedule%3Agad-weekly%2F3", 0, 'c').await;
        assert_eq!(again.status, StatusCode::CONFLICT, "answered: fixed");
        let respelled = send_gad("schedule%3Agad-weekly%2F03", 0, 'c').await;
        assert_eq!(respelled.status, StatusCode::NOT_FOUND);
        assert_eq!(
            forms("SELECT COUNT(*) FROM form_response WHERE state = 'submitted'").await,
            1
        );
        let shown = get(&router, "/mina-sidor/formular/701/gad-weekly", &patient).await;
        assert_eq!(shown.status, StatusCode::OK);
        assert!(
            shown.body.contains("Summa: 14"),
            "the answered instance, scored"
        );
        // The answer counts in the results like any other.
        let results = get(&router, "/mina-sidor/behandling/701/resultat", &patient).await;
        assert!(results.body.contains("GAD-7"));

        // Another patient's treatment: its forms are not found.
        let other = patient_session(&db, 402).await;
        let foreign = get(&router, "/mina-sidor/formular/701/gad-weekly", &other).await;
        assert_eq!(foreign.status, StatusCode::NOT_FOUND);

        // A blocking schedule: next week's instance comes before the pages. The page's content is
        // not sent until the form is answered (a draft begun before it fell due is still taken).
        let mut program = app::testing::care_program();
        program.schedules[0].blocking = true;
        app::testing::set_care_program(&db, &program).await;
        app::testing::started_days_ago(&db, 701, 29).await;
        let blocked = get(&router, "/mina-sidor/behandling/701/m1/p1", &patient).await;
        assert_eq!(blocked.status, StatusCode::OK);
        assert!(!blocked.body.contains("Välkommen till programmet."));
        assert!(blocked.body.contains("Besvara formuläret först"));
        assert!(blocked.body.contains(due_link));
        let called = send(
            &router,
            call("my_page", "enrolment=701&module=m1&step=p1", &patient),
        )
        .await;
        assert_eq!(called.status, StatusCode::OK);
        assert!(!called.body.contains("Välkommen till programmet."));
        assert_eq!(
            count(&db, "SELECT COUNT(*) FROM page_visit WHERE step_key = 'p1'").await,
            0,
            "a page held back is not seen"
        );
        // What the patient had begun on a page (open in a tab) is still taken as a draft.
        let kept = send(
            &router,
            call(
                "answer_form",
                &phq(&[Some(1); 9], &key('d'), "save"),
                &patient,
            ),
        )
        .await;
        assert_eq!(kept.status, StatusCode::OK, "{}", kept.body);
        let sent = send_gad("schedule%3Agad-weekly%2F4", 0, 'e').await;
        assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
        let free = get(&router, "/mina-sidor/behandling/701/m1/p1", &patient).await;
        assert!(free.body.contains("Välkommen till programmet."));
    }
);

db_test!(
    the_sweep_makes_due_forms_and_tells_the_patient_once_without_content,
    |db| {
        world(&db).await;
        db.execute_unprepared(
            "UPDATE patient SET email = 'petra@example.se', notify_by_email = TRUE WHERE id = 401",
        )
        .await
        .expect("contact");
        // Enrolled a week ago: the first form lapsed unseen, the second is due today.
        app::testing::started_days_ago(&db, 701, 7).await;
        let made = app::care::sweep_due_forms(&db).await.expect("sweep");
        // The world's four ongoing treatments on version 601: Petra's second week, and the
        // first day of the other three (started today).
        assert_eq!(made, 4);
        assert_eq!(
            count(
                &db,
                "SELECT COUNT(*) FROM due_form WHERE enrolment_id = 701 AND occurrence = 1 \
                 AND state = 'planned'"
            )
            .await,
            1
        );
        assert_eq!(
            count(
                &db,
                "SELECT COUNT(*) FROM due_form WHERE enrolment_id = 701 AND occurrence = 0"
            )
            .await,
            0,
            "a lapsed instance nobody saw is not made"
        );
        // Petra consented to e-mail: one notice, its kind only; the others gave no consent.
        assert_eq!(
            count(
                &db,
                "SELECT COUNT(*) FROM notification WHERE patient_id = 401 AND template = 'form_due'"
            )
            .await,
            1
        );
        assert_eq!(count(&db, "SELECT COUNT(*) FROM notification").await, 1);
        // Swept again: nothing new, nothing told twice.
        assert_eq!(app::care::sweep_due_forms(&db).await.expect("sweep"), 0);
        assert_eq!(count(&db, "SELECT COUNT(*) FROM notification").await, 1);
        // Ongoing treatment only.
        db.execute_unprepared("UPDATE enrolment SET state = 'ended' WHERE id <> 701")
            .await
            .expect("ended");
        app::testing::started_days_ago(&db, 701, 14).await;
        assert_eq!(app::care::sweep_due_forms(&db).await.expect("sweep"), 1);
    }
);
