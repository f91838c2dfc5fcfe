//! The flags the server raises by itself, on both engines: a patient inactive for the program's
//! set days, a module's homework overdue, a message unanswered past two working days; each
//! raised once (also by two sweeps at once), not again after it was resolved until the patient
//! acts anew, never for a test enrolment; a reply resolves the message flag. An urgent flag not
//! acknowledged in time is escalated once to the unit's patient administrators, with a notice
//! without content.

#![allow(clippy::expect_used)]

use app::care::follow_up::sweep;
use app::db_test;
use app::programs::FollowUp;
use app::testing::{care_program, number as count, set_care_program, two_regions as world};
use axum::http::StatusCode;
use chrono::{DateTime, Duration, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection};

use crate::common::{app, call, get, patient_session, send, staff_session};

/// How many flags of `reason` enrolment `enrolment` has (open or not).
async fn flags(db: &DatabaseConnection, enrolment: i64, reason: &str) -> i64 {
    count(
        db,
        &format!(
            "SELECT COUNT(*) FROM flag WHERE enrolment_id = {enrolment} AND reason = '{reason}'"
        ),
    )
    .await
}

/// One sweep with escalation after four working hours.
async fn swept(db: &DatabaseConnection, at: DateTime<Utc>) -> app::care::follow_up::Swept {
    sweep(db, at, 4).await.expect("the sweep")
}

db_test!(
    patients_who_fall_behind_are_flagged_once_and_a_reply_answers_the_message_flag,
    |db| {
        world(&db).await;
        // This program waits 20 days before calling a patient inactive, 7 for homework.
        let mut program = care_program();
        program.follow_up = FollowUp {
            inactive_days: 20,
            homework_days: 7,
        };
        set_care_program(&db, &program).await;
        db.execute_unprepared("UPDATE enrolment SET responsible_staff_id = 101")
            .await
            .expect("responsible");
        let router = app(db.clone());
        let therapist = staff_session(&db, 101, 301).await;
        let patient = patient_session(&db, 401).await;

        // The patient opens the homework module and writes to the care team.
        let opened = get(&router, "/mina-sidor/behandling/701/m4/p5", &patient).await;
        assert_eq!(opened.status, StatusCode::OK);
        let message = format!("enrolment=701&body=Hej&submit_key={}", "a".repeat(64));
        let sent = send(&router, call("send_message", &message, &patient)).await;
        assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
        let now = Utc::now();

        // A day later nothing is late.
        assert_eq!(swept(&db, now + Duration::days(1)).await.raised, 0);
        assert_eq!(count(&db, "SELECT COUNT(*) FROM flag").await, 0);

        // Eight days later: the worksheet is a day overdue and the message unanswered for more
        // than two working days; nobody is inactive yet (20 days).
        let eight = now + Duration::days(8);
        assert_eq!(swept(&db, eight).await.raised, 2);
        assert_eq!(flags(&db, 701, "overdue_homework").await, 1);
        assert_eq!(flags(&db, 701, "unanswered_message").await, 1);
        assert_eq!(
            count(&db, "SELECT COUNT(*) FROM flag WHERE enrolment_id <> 701").await,
            0
        );
        assert_eq!(
            count(
                &db,
                "SELECT COUNT(*) FROM flag WHERE kind = 'automatic' AND response_id IS NULL \
                 AND resolved_at IS NULL AND priority IN ('warning', 'info')"
            )
            .await,
            2
        );
        // Each is an event for the unit's live dashboards.
        assert_eq!(
            count(
                &db,
                "SELECT COUNT(*) FROM care_event WHERE kind = 'flag' AND enrolment_id = 701"
            )
            .await,
            2
        );
        // A second sweep raises nothing again.
        assert_eq!(swept(&db, eight).await.raised, 0);

        // The dashboard names them, and the message flag leads to the thread.
        let dashboard = get(&router, "/mottagning", &therapist).await;
        assert_eq!(dashboard.status, StatusCode::OK);
        assert!(
            dashboard.body.contains("Hemuppgift försenad"),
            "{}",
            dashboard.body
        );
        assert!(
            dashboard
                .body
                .contains("Meddelande obesvarat i mer än två arbetsdagar")
        );
        assert!(
            dashboard
                .body
                .contains("/mottagning/patient/401#reply-701-heading")
        );
        // Each patient's responsible therapist, and the unit's caseload per therapist: Tove
        // has both of unit A1's patients, one of them flagged, none urgent, one with an unread
        // message.
        let caseloads = dashboard
            .body
            .split("caseloads-heading")
            .nth(2)
            .expect("the caseload table")
            .replace("<!>", "");
        assert!(
            caseloads.contains(
                "<th scope=\"row\">Tove Terapeut</th><td>2</td><td>1</td><td>0</td><td>1</td>"
            ),
            "{caseloads}"
        );

        // The therapist replies: the message flag is resolved by the reply, the other stays.
        let reply = format!(
            "patient_id=401&enrolment=701&body=Hej%21&submit_key={}",
            "b".repeat(64)
        );
        let answered = send(&router, call("reply_message", &reply, &therapist)).await;
        assert_eq!(answered.status, StatusCode::OK, "{}", answered.body);
        assert_eq!(
            count(
                &db,
                "SELECT COUNT(*) FROM flag WHERE reason = 'unanswered_message' \
                 AND resolved_at IS NOT NULL AND resolved_by = 101 AND acknowledged_by = 101"
            )
            .await,
            1
        );
        assert_eq!(
            count(&db, "SELECT COUNT(*) FROM flag WHERE resolved_at IS NULL").await,
            1
        );
        assert_eq!(swept(&db, eight).await.raised, 0);
        assert_eq!(flags(&db, 701, "unanswered_message").await, 1);

        // A test enrolment is never followed up.
        db.execute_unprepared("UPDATE enrolment SET test_by_staff_id = 107 WHERE id = 703")
            .await
            .expect("test enrolment");

        // Three weeks on, the others have been inactive for 20 days: two sweeps at once (two
        // instances) raise each flag once.
        let later = now + Duration::days(21);
        let (a, b) = tokio::join!(swept(&db, later), swept(&db, later));
        assert_eq!(a.raised + b.raised, 3, "{a:?} {b:?}");
        for enrolment in [701, 702, 704] {
            assert_eq!(flags(&db, enrolment, "inactive").await, 1, "{enrolment}");
        }
        assert_eq!(flags(&db, 703, "inactive").await, 0);

        // Resolved while the patient still does nothing, it is not raised again; once the
        // patient acts and falls silent for another 20 days, it is.
        let inactive_702 = count(
            &db,
            "SELECT id FROM flag WHERE enrolment_id = 702 AND reason = 'inactive'",
        )
        .await;
        let resolve = format!("flag_id={inactive_702}&comment=Ringt%20patienten");
        let resolved = send(&router, call("resolve_flag", &resolve, &therapist)).await;
        assert_eq!(resolved.status, StatusCode::OK, "{}", resolved.body);
        assert_eq!(swept(&db, later + Duration::days(5)).await.raised, 0);
        assert_eq!(flags(&db, 702, "inactive").await, 1);
        let olle = patient_session(&db, 402).await;
        let back = get(&router, "/mina-sidor/behandling/702/m1/p1", &olle).await;
        assert_eq!(back.status, StatusCode::OK);
        // As if he came back two days after the flag was raised (the sweeps ran ahead of the
        // clock).
        let returned = later + Duration::days(2);
        app::testing::execute_with(
            &db,
            "UPDATE page_visit SET first_seen_at = $1 WHERE enrolment_id = 702",
            returned.into(),
        )
        .await;
        assert_eq!(swept(&db, returned + Duration::days(19)).await.raised, 0);
        assert_eq!(swept(&db, returned + Duration::days(20)).await.raised, 1);
        assert_eq!(flags(&db, 702, "inactive").await, 2);

        // Treatment 704 (unit B1): a message, its flag resolved by hand (a phone call), then
        // another message: that one is flagged in its turn.
        let t0 = returned + Duration::days(20);
        let rut = patient_session(&db, 404).await;
        let bo = staff_session(&db, 106, 306).await;
        let first = format!("enrolment=704&body=Hej&submit_key={}", "c".repeat(64));
        let sent = send(&router, call("send_message", &first, &rut)).await;
        assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
        assert_eq!(swept(&db, t0).await.raised, 1);
        let flag_704 = count(
            &db,
            "SELECT id FROM flag WHERE enrolment_id = 704 AND reason = 'unanswered_message'",
        )
        .await;
        let resolve = format!("flag_id={flag_704}&comment=Ringde%20upp");
        let resolved = send(&router, call("resolve_flag", &resolve, &bo)).await;
        assert_eq!(resolved.status, StatusCode::OK, "{}", resolved.body);
        assert_eq!(
            swept(&db, t0).await.raised,
            0,
            "the first message is handled"
        );
        let second = format!("enrolment=704&body=Igen&submit_key={}", "e".repeat(64));
        let sent = send(&router, call("send_message", &second, &rut)).await;
        assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
        app::testing::execute_with(
            &db,
            "UPDATE message SET sent_at = $1 WHERE body = 'Igen'",
            (t0 + Duration::hours(1)).into(),
        )
        .await;
        assert_eq!(swept(&db, t0 + Duration::days(1)).await.raised, 0);
        assert_eq!(swept(&db, t0 + Duration::days(8)).await.raised, 1);
        assert_eq!(flags(&db, 704, "unanswered_message").await, 2);
    }
);

db_test!(
    an_urgent_flag_nobody_acknowledges_is_escalated_once_to_the_units_patient_administrators,
    |db| {
        world(&db).await;
        // Alva (103) gets an assignment for care at A1 and is made patient administrator there;
        // Nils (102) is one at A1 too, but only in an administrative assignment (no role with
        // patient data there); Greta (105, assigned at A1) is one at A2 only; Viktor (104) is
        // a provider administrator. All but Alva have e-mail, for now.
        db.execute_unprepared(
            "INSERT INTO staff_assignment (id, staff_hsa_identity_id, care_unit_id, \
               commission_hsa_id, commission_name, commission_purpose) \
             VALUES (309, 203, 11, 'SE-103-V', 'V', 'Vård och behandling')",
        )
        .await
        .expect("assignment");
        db.execute_unprepared(
            "INSERT INTO staff_role (staff_person_id, care_provider_id, care_unit_id, role, granted_at) \
             VALUES (103, 1, 11, 'patient_admin', CURRENT_TIMESTAMP), \
                    (102, 1, 11, 'patient_admin', CURRENT_TIMESTAMP), \
                    (105, 1, 12, 'patient_admin', CURRENT_TIMESTAMP)",
        )
        .await
        .expect("roles");
        db.execute_unprepared(
            "UPDATE staff_person SET email = 'personal@example.se' WHERE id IN (101, 102, 104, 105)",
        )
        .await
        .expect("addresses");
        db.execute_unprepared("UPDATE enrolment SET responsible_staff_id = 101 WHERE id = 701")
            .await
            .expect("responsible");
        let router = app(db.clone());
        let therapist = staff_session(&db, 101, 301).await;
        let patient = patient_session(&db, 401).await;

        // PHQ-9 with item 9 at 1: an urgent flag.
        let mut body = format!(
            "enrolment=701&place=block%3Am1%2Fp2%2Fphq&submit_key={}&intent=submit",
            "c".repeat(64)
        );
        for n in 1..=9 {
            body.push_str(&format!("&answers%5Bphq9_{n}%5D={}", i32::from(n == 9)));
        }
        let answered = send(&router, call("answer_form", &body, &patient)).await;
        assert_eq!(answered.status, StatusCode::OK, "{}", answered.body);
        assert_eq!(
            count(&db, "SELECT COUNT(*) FROM flag WHERE priority = 'urgent'").await,
            1
        );
        // An urgent flag of enrolment 702, acknowledged long ago: never escalated.
        db.execute_unprepared(
            "INSERT INTO flag (enrolment_id, kind, priority, reason, raised_at, acknowledged_at, acknowledged_by) \
             VALUES (702, 'manual', 'urgent', 'manual', '2026-01-05 09:00:00+00:00', '2026-01-05 09:30:00+00:00', 101)",
        )
        .await
        .expect("acknowledged flag");
        let now = Utc::now();
        let escalations = "SELECT COUNT(*) FROM notification WHERE template = 'flag_escalated'";

        // Within four working hours nothing happens (four working hours are at least four).
        assert_eq!(swept(&db, now + Duration::hours(1)).await.escalated, 0);
        // Long after, while nobody who may act can be told: not marked, tried again.
        let late = now + Duration::days(10);
        assert_eq!(swept(&db, late).await.escalated, 0);
        assert_eq!(
            count(
                &db,
                "SELECT COUNT(*) FROM flag WHERE escalated_at IS NOT NULL"
            )
            .await,
            0
        );
        assert_eq!(count(&db, escalations).await, 0);
        // Alva gets an address, and already has a notice waiting (held back by the gap between
        // notices): the escalation takes its place and is due at once.
        db.execute_unprepared("UPDATE staff_person SET email = 'alva@example.se' WHERE id = 103")
            .await
            .expect("address");
        db.execute_unprepared(
            "INSERT INTO notification (staff_person_id, channel, template, send_after, created_at) \
             VALUES (103, 'email', 'urgent_flag', '2099-01-01 00:00:00+00:00', CURRENT_TIMESTAMP)",
        )
        .await
        .expect("waiting notice");
        assert_eq!(swept(&db, late).await.escalated, 1);
        assert_eq!(
            count(
                &db,
                "SELECT COUNT(*) FROM flag WHERE escalated_at IS NOT NULL"
            )
            .await,
            1
        );
        assert_eq!(count(&db, escalations).await, 1);
        assert_eq!(
            count(
                &db,
                "SELECT staff_person_id FROM notification WHERE template = 'flag_escalated'"
            )
            .await,
            103
        );
        assert_eq!(
            count(
                &db,
                "SELECT COUNT(*) FROM notification WHERE staff_person_id = 103 \
                 AND send_after < '2098-01-01 00:00:00+00:00'"
            )
            .await,
            1,
            "one notice, due now"
        );
        // Again, and by two instances at once: nothing more.
        let (a, b) = tokio::join!(swept(&db, late), swept(&db, late));
        assert_eq!(a.escalated + b.escalated, 0);
        assert_eq!(count(&db, escalations).await, 1);

        // The therapist's dashboard says it was escalated.
        let dashboard = get(&router, "/mottagning", &therapist).await;
        assert!(
            dashboard
                .body
                .contains("eskalerad till patientadministratör"),
            "{}",
            dashboard.body
        );
        // The patient administrator follows up: of the unit's two open flags, one is not
        // acknowledged and escalated (Petra's), one acknowledged (Olle's). Each choice lists
        // only its own, and says how many each holds.
        let petra = count(
            &db,
            "SELECT id FROM flag WHERE enrolment_id = 701 AND escalated_at IS NOT NULL",
        )
        .await;
        let olle = count(&db, "SELECT id FROM flag WHERE enrolment_id = 702").await;
        let administrator = staff_session(&db, 103, 309).await;
        let listed = |body: &str, flag: i64| body.contains(&format!("data-key=\"flag-{flag}\""));
        let all = get(&router, "/mottagning", &administrator).await;
        assert_eq!(all.status, StatusCode::OK, "{}", all.body);
        assert!(
            listed(&all.body, petra) && listed(&all.body, olle),
            "{}",
            all.body
        );
        for choice in ["Alla öppna (2)", "Inte kvitterade (1)", "Eskalerade (1)"] {
            assert!(all.body.contains(choice), "{choice}: {}", all.body);
        }
        for path in ["/mottagning?flaggor=eskalerade", "/mottagning?flaggor=nya"] {
            let chosen = get(&router, path, &administrator).await;
            assert_eq!(chosen.status, StatusCode::OK, "{}", chosen.body);
            assert!(listed(&chosen.body, petra), "{path}: {}", chosen.body);
            assert!(!listed(&chosen.body, olle), "{path}: {}", chosen.body);
        }
        // Once acknowledged, Petra's flag is handled but still escalated (and still open).
        db.execute_unprepared(&format!(
            "UPDATE flag SET acknowledged_at = CURRENT_TIMESTAMP, acknowledged_by = 101 \
             WHERE id = {petra}"
        ))
        .await
        .expect("acknowledged");
        let new = get(&router, "/mottagning?flaggor=nya", &administrator).await;
        assert!(
            !listed(&new.body, petra) && !listed(&new.body, olle),
            "{}",
            new.body
        );
        assert!(
            new.body.contains("Inga öppna flaggor av det slaget."),
            "{}",
            new.body
        );
        let escalated = get(&router, "/mottagning?flaggor=eskalerade", &administrator).await;
        assert!(listed(&escalated.body, petra), "{}", escalated.body);

        // The notice itself says nothing clinical: the fixed text for staff.
        let text = app::notify::Template::FlagEscalated.email("https://lotsen.test/mottagning");
        for word in ["PHQ", "Petra", "Enhet", "självmord", "item"] {
            assert!(!text.contains(word), "{word}");
        }
    }
);

db_test!(
    the_dashboard_shows_each_scales_latest_score_with_its_change_and_flags_a_meaningful_worsening,
    |db| {
        world(&db).await;
        // Two earlier PHQ-9 answers in treatment 701 (scheduled forms, say): 14, then 9.
        db.execute_unprepared(
            "INSERT INTO form_response (enrolment_id, program_version_id, questionnaire_key, place, \
               state, answers, total, band, scores, updated_at, submitted_at) VALUES \
             (701, 601, 'phq', 'schedule:x/0', 'submitted', '{}', 14, 'moderate', '{}', \
               '2026-01-05 09:00:00+00:00', '2026-01-05 09:00:00+00:00'), \
             (701, 601, 'phq', 'schedule:x/1', 'submitted', '{}', 9, 'mild', '{}', \
               '2026-01-12 09:00:00+00:00', '2026-01-12 09:00:00+00:00')",
        )
        .await
        .expect("earlier answers");
        let router = app(db.clone());
        let therapist = staff_session(&db, 101, 301).await;
        let patient = patient_session(&db, 401).await;

        // Now 15: items 1–7 at 2, item 8 at 1, item 9 at 0. Six points worse than last time.
        let mut body = format!(
            "enrolment=701&place=block%3Am1%2Fp2%2Fphq&submit_key={}&intent=submit",
            "d".repeat(64)
        );
        for n in 1..=9 {
            let value = match n {
                1..=7 => 2,
                8 => 1,
                _ => 0,
            };
            body.push_str(&format!("&answers%5Bphq9_{n}%5D={value}"));
        }
        let answered = send(&router, call("answer_form", &body, &patient)).await;
        assert_eq!(answered.status, StatusCode::OK, "{}", answered.body);
        assert_eq!(
            count(
                &db,
                "SELECT COUNT(*) FROM flag WHERE enrolment_id = 701 AND reason = 'phq9_worsened' \
                 AND priority = 'warning' AND response_id IS NOT NULL"
            )
            .await,
            1
        );
        assert_eq!(
            count(&db, "SELECT COUNT(*) FROM flag WHERE priority = 'urgent'").await,
            0
        );

        let dashboard = get(&router, "/mottagning", &therapist).await;
        assert_eq!(dashboard.status, StatusCode::OK);
        let row = dashboard
            .body
            .split("data-key=\"patient-701\"")
            .nth(1)
            .and_then(|rest| rest.split("</tr>").next())
            .expect("treatment 701's row");
        let text = row.replace("<!>", "");
        assert!(
            text.contains("PHQ-9 <strong>15</strong> (medelsvåra besvär)"),
            "{text}"
        );
        assert!(text.contains("+1 sedan start"), "{text}");
        assert!(
            text.contains("+6 sedan förra (<strong>betydande försämring</strong>)"),
            "{text}"
        );
        assert!(
            !text.contains("+1 sedan start (<strong>"),
            "1 point is not meaningful"
        );
        // The flag names what it is.
        assert!(
            dashboard
                .body
                .contains("PHQ-9 minst 5 poäng sämre än förra gången")
        );
        // Only the patients with open flags, by name: treatment 701 alone, and the table says
        // how many of how many it shows.
        let chosen = get(&router, "/mottagning?ordning=namn&visa=flaggor", &therapist).await;
        assert_eq!(chosen.status, StatusCode::OK);
        assert!(chosen.body.contains("data-key=\"patient-701\""));
        assert!(!chosen.body.contains("data-key=\"patient-702\""));
        assert!(
            chosen.body.replace("<!>", "").contains("(visar 1 av 2)"),
            "{}",
            chosen.body
        );
        assert!(chosen.body.contains(r#"<option value="flaggor" selected"#));
        // By name, every patient; an unknown choice is the default.
        let by_name = get(&router, "/mottagning?ordning=namn&visa=%3Cx%3E", &therapist).await;
        let olle = by_name.body.find("data-key=\"patient-702\"").expect("Olle");
        let petra = by_name
            .body
            .find("data-key=\"patient-701\"")
            .expect("Petra");
        assert!(olle < petra, "Exempel before Patient");
        // By need (the default), Petra with her flag comes first.
        let olle = dashboard
            .body
            .find("data-key=\"patient-702\"")
            .expect("Olle");
        let petra = dashboard
            .body
            .find("data-key=\"patient-701\"")
            .expect("Petra");
        assert!(petra < olle, "the flag first");
        // A patient who answered nothing has no scores.
        let other = dashboard
            .body
            .split("data-key=\"patient-702\"")
            .nth(1)
            .and_then(|rest| rest.split("</tr>").next())
            .expect("treatment 702's row");
        assert!(
            other.contains("<td class=\"scores-cell\">–</td>"),
            "{other}"
        );
    }
);
