//! A treatment moved on by its therapist, on both engines: to the maintenance phase, then ended
//! with a reason, never past an urgent flag still open, the other open flags resolved with it;
//! after the end the patient can read but not answer, and the dashboard no longer lists them.
//! The summary for the medical record states the period, version, care team, modules, scores
//! with bands and every flag with how it was handled, without the internal note; reading it is
//! logged.

#![allow(clippy::expect_used)]

use app::db_test;
use app::testing::{number as count, two_regions as world};
use axum::http::StatusCode;
use sea_orm::ConnectionTrait;

use crate::common::{app, call, get, patient_session, send, staff_session};

const PLACE: &str = "block%3Am1%2Fp2%2Fphq";

/// PHQ-9 with every item `value` and item 9 `item9`, submitted.
fn phq(value: i32, item9: i32, key: char) -> String {
    phq_at(PLACE, value, item9, key)
}

/// The same, at another place (URL-encoded).
fn phq_at(place: &str, value: i32, item9: i32, key: char) -> String {
    let mut body = format!(
        "enrolment=701&place={place}&submit_key={}&intent=submit",
        key.to_string().repeat(64)
    );
    for n in 1..=9 {
        let answer = if n == 9 { item9 } else { value };
        body.push_str(&format!("&answers%5Bphq9_{n}%5D={answer}"));
    }
    body
}

/// A patient administrator (120) and a second therapist (121) at unit A1, and Tove (101)
/// responsible for Petra's treatment (701).
async fn unit_staff(db: &sea_orm::DatabaseConnection) {
    for statement in [
        "INSERT INTO staff_person (id, given_name, family_name) VALUES (120, 'Ines', 'Invånaradmin'), (121, 'Tor', 'Teamlös')",
        "INSERT INTO staff_hsa_identity (id, staff_person_id, hsa_id) VALUES (220, 120, 'SE-120'), (221, 121, 'SE-121')",
        "INSERT INTO staff_assignment (id, staff_hsa_identity_id, care_unit_id, commission_hsa_id, commission_name, commission_purpose) VALUES \
           (320, 220, 11, 'SE-120-U', 'V', 'Vård och behandling'), (321, 221, 11, 'SE-121-U', 'V', 'Vård och behandling')",
        "INSERT INTO staff_role (staff_person_id, care_provider_id, care_unit_id, role, granted_at) VALUES \
           (120, 1, 11, 'patient_admin', CURRENT_TIMESTAMP), (121, 1, 11, 'therapist', CURRENT_TIMESTAMP)",
        "UPDATE enrolment SET responsible_staff_id = 101 WHERE id = 701",
    ] {
        db.execute_unprepared(statement).await.expect("staff");
    }
}

fn change(to: &str, reason: &str) -> String {
    format!("patient_id=401&enrolment=701&to={to}&reason={reason}")
}

db_test!(
    a_treatment_ends_only_past_its_urgent_flags_and_its_summary_says_how_it_went,
    |db| {
        world(&db).await;
        db.execute_unprepared(
            "UPDATE enrolment SET responsible_staff_id = 101 WHERE id = 701; \
             INSERT INTO flag (enrolment_id, kind, priority, reason, raised_at) \
               VALUES (701, 'automatic', 'warning', 'inactive', CURRENT_TIMESTAMP)",
        )
        .await
        .expect("care team and a follow-up flag");
        let router = app(db.clone());
        let therapist = staff_session(&db, 101, 301).await;
        let patient = patient_session(&db, 401).await;
        let state = |db: sea_orm::DatabaseConnection| async move {
            count(
                &db,
                "SELECT CAST(CASE state WHEN 'active' THEN 1 WHEN 'maintenance' THEN 2 \
                   WHEN 'ended' THEN 3 ELSE 0 END AS BIGINT) FROM enrolment WHERE id = 701",
            )
            .await
        };

        // A risk answer: 2 on items 1–8 and 1 on item 9 is 17, moderately severe, urgent.
        let answered = send(&router, call("answer_form", &phq(2, 1, 'a'), &patient)).await;
        assert_eq!(answered.status, StatusCode::OK, "{}", answered.body);
        let urgent = count(
            &db,
            "SELECT id FROM flag WHERE enrolment_id = 701 AND priority = 'urgent'",
        )
        .await;

        // Not ending it with the urgent flag open, nor without a known reason (who may: the
        // matrix in access.rs); nothing changes.
        let refused = send(
            &router,
            call(
                "change_treatment",
                &change("ended", "completed"),
                &therapist,
            ),
        )
        .await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            refused.body
        );
        assert!(
            refused.body.contains("urgent_flags_open"),
            "{}",
            refused.body
        );
        let unknown = send(
            &router,
            call("change_treatment", &change("ended", "tired"), &therapist),
        )
        .await;
        assert_eq!(
            unknown.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            unknown.body
        );
        assert!(
            unknown.body.contains("end_reason_unknown"),
            "{}",
            unknown.body
        );
        assert_eq!(state(db.clone()).await, 1);
        assert_eq!(
            count(
                &db,
                "SELECT COUNT(*) FROM flag WHERE enrolment_id = 701 AND resolved_at IS NULL"
            )
            .await,
            2
        );

        // The therapist handles the flag, moves the treatment to maintenance (twice: a retry
        // changes nothing), and ends it.
        let resolved = send(
            &router,
            call(
                "resolve_flag",
                &format!("flag_id={urgent}&comment=Ringde+patienten%2C+ingen+akut+risk"),
                &therapist,
            ),
        )
        .await;
        assert_eq!(resolved.status, StatusCode::OK, "{}", resolved.body);
        for _ in 0..2 {
            let moved = send(
                &router,
                call("change_treatment", &change("maintenance", ""), &therapist),
            )
            .await;
            assert_eq!(moved.status, StatusCode::OK, "{}", moved.body);
        }
        assert_eq!(state(db.clone()).await, 2);
        let page = get(&router, "/mottagning/patient/401", &therapist).await;
        assert!(page.body.contains("Underhållsfas"), "{}", page.body);
        let ended = send(
            &router,
            call(
                "change_treatment",
                &change("ended", "completed"),
                &therapist,
            ),
        )
        .await;
        assert_eq!(ended.status, StatusCode::OK, "{}", ended.body);
        assert_eq!(state(db.clone()).await, 3);
        assert_eq!(
            count(
                &db,
                "SELECT COUNT(*) FROM enrolment WHERE id = 701 AND end_reason = 'completed' \
                 AND ended_by = 101 AND ended_at IS NOT NULL AND maintenance_at IS NOT NULL"
            )
            .await,
            1
        );
        // The inactivity flag was resolved with the treatment, saying so.
        assert_eq!(
            count(
                &db,
                "SELECT COUNT(*) FROM flag WHERE enrolment_id = 701 AND reason = 'inactive' \
                 AND resolved_by = 101 AND resolution LIKE 'Behandlingen avslutades%'"
            )
            .await,
            1
        );
        // Two changes, two events for the unit's dashboards (the retry made none).
        assert_eq!(
            count(
                &db,
                "SELECT COUNT(*) FROM care_event WHERE kind = 'treatment' AND enrolment_id = 701"
            )
            .await,
            2
        );
        // An ended treatment takes no more changes: the unit only reads it now.
        for (to, reason) in [
            ("ended", "completed"),
            ("ended", "other"),
            ("maintenance", ""),
        ] {
            let again = send(
                &router,
                call("change_treatment", &change(to, reason), &therapist),
            )
            .await;
            assert_eq!(again.status, StatusCode::FORBIDDEN, "{}", again.body);
        }
        assert_eq!(
            count(
                &db,
                "SELECT COUNT(*) FROM enrolment WHERE id = 701 AND end_reason = 'completed'"
            )
            .await,
            1
        );

        // The patient reads but answers nothing more; the dashboard no longer lists them.
        let late = send(&router, call("answer_form", &phq(0, 0, 'b'), &patient)).await;
        assert_eq!(
            late.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            late.body
        );
        assert!(late.body.contains("treatment_ended"), "{}", late.body);
        // The send made before the end, retried (its answer lost on the way), is answered as
        // it was: sent, urgent.
        let retried = send(&router, call("answer_form", &phq(2, 1, 'a'), &patient)).await;
        assert_eq!(retried.status, StatusCode::OK, "{}", retried.body);
        assert!(retried.body.contains("\"urgent\":true"), "{}", retried.body);
        let treatment = get(&router, "/mina-sidor/behandling/701", &patient).await;
        assert_eq!(treatment.status, StatusCode::OK);
        let dashboard = send(&router, call("dashboard", "", &therapist)).await;
        assert_eq!(dashboard.status, StatusCode::OK, "{}", dashboard.body);
        assert!(
            !dashboard.body.contains("\"enrolment_id\":701"),
            "{}",
            dashboard.body
        );

        // The summary, as data and as the page with its text for the record system.
        let summary = send(
            &router,
            call("record_summary", "patient_id=401&enrolment=701", &therapist),
        )
        .await;
        assert_eq!(summary.status, StatusCode::OK, "{}", summary.body);
        let data: serde_json::Value = serde_json::from_str(&summary.body).expect("json");
        assert_eq!(data["state"], "ended");
        assert_eq!(data["end_reason"], "completed");
        assert_eq!(data["version"], "1.0");
        assert_eq!(data["therapists"][0], "Tove Terapeut");
        assert_eq!(data["scores"][0]["points"][0]["total"], 17);
        assert_eq!(data["scores"][0]["points"][0]["band"], "moderately_severe");
        assert_eq!(data["flags"].as_array().map(Vec::len), Some(2));
        assert!(
            !summary.body.contains("INTERNAL-NOTE-701"),
            "{}",
            summary.body
        );
        let page = get(
            &router,
            "/mottagning/patient/401/sammanfattning/701",
            &therapist,
        )
        .await;
        assert_eq!(page.status, StatusCode::OK);
        let text = page.text();
        for expected in [
            "Patient: Petra Patient, 199107172380",
            "Program: Program, version 1.0",
            "Status: Avslutad",
            "Skäl till avslut: Programmet genomfört",
            "Behandlare: Tove Terapeut (ansvarig)",
            "PHQ-9: Vid start 17 (medelsvåra besvär)",
            "Brådskande: PHQ-9 fråga 9",
            "Tove Terapeut: Ringde patienten, ingen akut risk",
            "Varning: Inaktiv",
            "Behandlingen avslutades",
        ] {
            assert!(text.contains(expected), "{expected:?} missing from {text}");
        }
        assert!(!text.contains("Fortfarande öppen"), "{text}");
        assert!(!text.contains("INTERNAL-NOTE-701"), "{text}");
        // Each read of the summary is a read of the patient's record in the access log.
        assert_eq!(
            count(
                &db,
                "SELECT COUNT(*) FROM access_log WHERE patient_id = 401 \
                 AND object_type = 'record_summary' AND action = 'read'"
            )
            .await,
            2
        );
    }
);

db_test!(
    the_patient_administrator_reassigns_a_treatment_and_the_care_team_follows,
    |db| {
        world(&db).await;
        unit_staff(&db).await;
        let router = app(db.clone());
        let administrator = staff_session(&db, 120, 320).await;
        let tove = staff_session(&db, 101, 301).await;
        let tor = staff_session(&db, 121, 321).await;
        let team = |action: &str, person: i64| {
            format!("patient_id=401&enrolment=701&action={action}&staff_person_id={person}")
        };
        let responsible = |db: sea_orm::DatabaseConnection| async move {
            count(
                &db,
                "SELECT responsible_staff_id FROM enrolment WHERE id = 701",
            )
            .await
        };
        let co_therapists = |db: sea_orm::DatabaseConnection| async move {
            count(
                &db,
                "SELECT COUNT(*) FROM enrolment_therapist WHERE enrolment_id = 701",
            )
            .await
        };

        // Tove is away: the patient administrator makes Tor responsible. Tove is off the team
        // now and may not change it; Tor is on it.
        let moved = send(
            &router,
            call(
                "change_care_team",
                &team("responsible", 121),
                &administrator,
            ),
        )
        .await;
        assert_eq!(moved.status, StatusCode::OK, "{}", moved.body);
        assert_eq!(responsible(db.clone()).await, 121);
        let off = send(&router, call("change_care_team", &team("add", 101), &tove)).await;
        assert_eq!(off.status, StatusCode::FORBIDDEN, "{}", off.body);

        // Tor brings Nils in; a therapist of another region's unit cannot join; the
        // responsible therapist is replaced, never removed.
        let added = send(&router, call("change_care_team", &team("add", 102), &tor)).await;
        assert_eq!(added.status, StatusCode::OK, "{}", added.body);
        assert_eq!(co_therapists(db.clone()).await, 1);
        let stranger = send(&router, call("change_care_team", &team("add", 106), &tor)).await;
        assert_eq!(
            stranger.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            stranger.body
        );
        assert!(
            stranger.body.contains("not_a_therapist"),
            "{}",
            stranger.body
        );
        let alone = send(
            &router,
            call("change_care_team", &team("remove", 121), &tor),
        )
        .await;
        assert_eq!(
            alone.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            alone.body
        );
        assert!(alone.body.contains("responsible_needed"), "{}", alone.body);
        assert_eq!(
            (
                responsible(db.clone()).await,
                co_therapists(db.clone()).await
            ),
            (121, 1)
        );

        // The record names the team; the dashboard names Tor as Petra's therapist.
        let record = get(&router, "/mottagning/patient/401", &administrator).await;
        let text = record.body.replace("<!>", "");
        assert!(text.contains("Tor Teamlös (ansvarig)"), "{}", record.body);
        assert!(
            text.contains("Nils Utanuppdrag (medbehandlare)"),
            "{}",
            record.body
        );
        // The patient administrator manages the team and nothing of the treatment's content:
        // no phase, feedback or module controls, which the responsible therapist has.
        assert!(text.contains("Byt ansvarig"), "{text}");
        let tors = get(&router, "/mottagning/patient/401", &tor).await;
        for control in ["Behandlingens fas", "Dölj för patienten"] {
            assert!(!text.contains(control), "{control}: {text}");
            assert!(tors.body.contains(control), "{control}: {}", tors.body);
        }
        let dashboard = send(&router, call("dashboard", "", &administrator)).await;
        assert!(
            dashboard.body.contains("\"therapist\":\"Tor Teamlös\""),
            "{}",
            dashboard.body
        );

        // Tor brings Tove back; Tove, a co-therapist, takes the treatment over: she leaves the
        // co-therapists, and Tor, who did not hand it over, stays on the team as one.
        let back = send(&router, call("change_care_team", &team("add", 101), &tor)).await;
        assert_eq!(back.status, StatusCode::OK, "{}", back.body);
        let taken = send(
            &router,
            call("change_care_team", &team("responsible", 101), &tove),
        )
        .await;
        assert_eq!(taken.status, StatusCode::OK, "{}", taken.body);
        assert_eq!(
            (
                responsible(db.clone()).await,
                co_therapists(db.clone()).await
            ),
            (101, 2)
        );
        // Tove hands it to Nils: he leaves the co-therapists; Tove, who handed it over, is off
        // the team; Tor stays.
        let handed = send(
            &router,
            call("change_care_team", &team("responsible", 102), &tove),
        )
        .await;
        assert_eq!(handed.status, StatusCode::OK, "{}", handed.body);
        assert_eq!(
            (
                responsible(db.clone()).await,
                co_therapists(db.clone()).await
            ),
            (102, 1)
        );
        // Five changes, five events for the dashboards; each call a write in the access log:
        // allowed, but for Tove's while she was off the team, which is logged as refused.
        assert_eq!(
            count(
                &db,
                "SELECT COUNT(*) FROM care_event WHERE kind = 'treatment' AND enrolment_id = 701"
            )
            .await,
            5
        );
        let logged = |outcome: &'static str| {
            let db = db.clone();
            async move {
                count(
                    &db,
                    &format!(
                        "SELECT COUNT(*) FROM access_log WHERE patient_id = 401 \
                         AND object_type = 'care_team' AND action = 'write' \
                         AND outcome = '{outcome}'"
                    ),
                )
                .await
            }
        };
        assert_eq!((logged("allowed").await, logged("refused").await), (7, 1));
    }
);

db_test!(
    internal_notes_are_the_therapists_and_reach_no_patient_nor_administrator,
    |db| {
        world(&db).await;
        unit_staff(&db).await;
        let router = app(db.clone());
        let tove = staff_session(&db, 101, 301).await;
        let tor = staff_session(&db, 121, 321).await;
        let administrator = staff_session(&db, 120, 320).await;
        let patient = patient_session(&db, 401).await;
        let note = "patient_id=401&enrolment=701&body=NOTE-SECRET+ring+f%C3%B6re+modul+3";

        // Tove, on the care team, writes a note; an empty one is refused; Tor, a therapist of
        // the unit off the team, may not write one.
        let written = send(&router, call("add_note", note, &tove)).await;
        assert_eq!(written.status, StatusCode::OK, "{}", written.body);
        let empty = send(
            &router,
            call("add_note", "patient_id=401&enrolment=701&body=+", &tove),
        )
        .await;
        assert_eq!(
            empty.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            empty.body
        );
        let off = send(&router, call("add_note", note, &tor)).await;
        assert_eq!(off.status, StatusCode::FORBIDDEN, "{}", off.body);
        assert_eq!(count(&db, "SELECT COUNT(*) FROM care_note").await, 1);

        // The therapists read it, dated and signed, on the record.
        let page = get(&router, "/mottagning/patient/401", &tor).await;
        let text = page.body.replace("<!>", "");
        assert!(text.contains("NOTE-SECRET ring före modul 3"), "{text}");
        assert!(text.contains("· Tove Terapeut"), "{text}");

        // Nobody else does: not the patient administrator, not the patient (the treatment,
        // their data), not the summary for the record.
        for (function, body, token) in [
            ("patient_record", "patient_id=401", &administrator),
            ("record_summary", "patient_id=401&enrolment=701", &tove),
            ("my_treatment", "enrolment=701", &patient),
            ("my_data", "", &patient),
        ] {
            let answer = send(&router, call(function, body, token)).await;
            assert_eq!(answer.status, StatusCode::OK, "{function}: {}", answer.body);
            assert!(
                !answer.body.contains("NOTE-SECRET"),
                "{function}: {}",
                answer.body
            );
        }
        let page = get(&router, "/mottagning/patient/401", &administrator).await;
        assert!(!page.body.contains("NOTE-SECRET"), "{}", page.body);
        assert!(!page.body.contains("Interna anteckningar"), "{}", page.body);
    }
);

db_test!(
    a_therapist_opens_a_module_early_and_hides_one_from_the_patient,
    |db| {
        world(&db).await;
        unit_staff(&db).await;
        let router = app(db.clone());
        let tove = staff_session(&db, 101, 301).await;
        let tor = staff_session(&db, 121, 321).await;
        let patient = patient_session(&db, 401).await;
        let set = |module: &str, action: &str| {
            format!("patient_id=401&enrolment=701&module={module}&action={action}")
        };

        // m2 waits for m1 to be finished: its page is refused until Tove opens it.
        let locked = get(&router, "/mina-sidor/behandling/701/m2/p3", &patient).await;
        assert_ne!(locked.status, StatusCode::OK);
        assert!(!locked.body.contains("LOCKED-MODULE-TEXT"));
        let off = send(&router, call("set_module", &set("m2", "unlock"), &tor)).await;
        assert_eq!(off.status, StatusCode::FORBIDDEN, "{}", off.body);
        let opened = send(&router, call("set_module", &set("m2", "unlock"), &tove)).await;
        assert_eq!(opened.status, StatusCode::OK, "{}", opened.body);
        let page = get(&router, "/mina-sidor/behandling/701/m2/p3", &patient).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("LOCKED-MODULE-TEXT"));

        // m4 hidden: gone from the patient's overview, its page refused; the record says so.
        let hidden = send(&router, call("set_module", &set("m4", "hide"), &tove)).await;
        assert_eq!(hidden.status, StatusCode::OK, "{}", hidden.body);
        let overview = get(&router, "/mina-sidor/behandling/701", &patient).await;
        let text = overview.body.replace("<!>", "");
        assert!(
            text.contains("Modul m3") && !text.contains("Modul m4"),
            "{text}"
        );
        let page = get(&router, "/mina-sidor/behandling/701/m4/p5", &patient).await;
        assert_ne!(page.status, StatusCode::OK);
        let record = get(&router, "/mottagning/patient/401", &tove).await;
        assert!(
            record
                .body
                .replace("<!>", "")
                .contains("Modul m4 – <span class=\"module-status\">Dold för patienten")
        );

        // Shown again, as the program says; a module the version lacks, or an unknown action,
        // is refused and changes nothing.
        let shown = send(&router, call("set_module", &set("m4", "reset"), &tove)).await;
        assert_eq!(shown.status, StatusCode::OK, "{}", shown.body);
        let overview = get(&router, "/mina-sidor/behandling/701", &patient).await;
        assert!(overview.body.replace("<!>", "").contains("Modul m4"));
        let missing = send(&router, call("set_module", &set("m9", "hide"), &tove)).await;
        assert_eq!(
            missing.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            missing.body
        );
        assert!(missing.body.contains("unknown_module"), "{}", missing.body);
        let odd = send(&router, call("set_module", &set("m4", "delete"), &tove)).await;
        assert_eq!(odd.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", odd.body);
        assert_eq!(count(&db, "SELECT COUNT(*) FROM module_override").await, 1);
        // A repeat changes nothing, and makes no event for the dashboards.
        let events =
            "SELECT COUNT(*) FROM care_event WHERE kind = 'progress' AND enrolment_id = 701";
        let before = count(&db, events).await;
        let again = send(&router, call("set_module", &set("m2", "unlock"), &tove)).await;
        assert_eq!(again.status, StatusCode::OK, "{}", again.body);
        assert_eq!(count(&db, events).await, before);
        // Each change was one (unlock, hide, show), beside the patient's first view of a page.
        assert_eq!(before, 4);
    }
);

db_test!(
    an_extra_form_the_therapist_asks_for_is_answered_scored_and_flagged_or_withdrawn,
    |db| {
        world(&db).await;
        unit_staff(&db).await;
        db.execute_unprepared(
            "UPDATE patient SET email = 'petra@example.se', notify_by_email = TRUE WHERE id = 401",
        )
        .await
        .expect("contact");
        let router = app(db.clone());
        let tove = staff_session(&db, 101, 301).await;
        let tor = staff_session(&db, 121, 321).await;
        let administrator = staff_session(&db, 120, 320).await;
        let patient = patient_session(&db, 401).await;
        let ask = |questionnaire: &str, days: i32| {
            format!("patient_id=401&enrolment=701&questionnaire={questionnaire}&days={days}")
        };
        let withdraw = |schedule: &str| format!("patient_id=401&enrolment=701&schedule={schedule}");
        let extra = |db: sea_orm::DatabaseConnection, state: &'static str| async move {
            count(
                &db,
                &format!(
                    "SELECT COUNT(*) FROM due_form WHERE enrolment_id = 701 \
                     AND schedule_key LIKE 'extra.%' AND state = '{state}'"
                ),
            )
            .await
        };
        let link = r#"href="/mina-sidor/formular/701/extra.phq""#;

        // Tove, on the care team, asks Petra for a PHQ-9 now, open three days: Petra is told
        // that a form waits (its kind only), and her treatment lists it.
        let asked = send(&router, call("request_form", &ask("phq", 3), &tove)).await;
        assert_eq!(asked.status, StatusCode::OK, "{}", asked.body);
        assert_eq!(extra(db.clone(), "planned").await, 1);
        assert_eq!(
            count(
                &db,
                "SELECT COUNT(*) FROM notification WHERE patient_id = 401 AND template = 'form_due'"
            )
            .await,
            1
        );
        let overview = get(&router, "/mina-sidor/behandling/701", &patient).await;
        assert!(overview.body.contains(link), "{}", overview.body);

        // Asked again while open, for a day count out of range, for a questionnaire the
        // program lacks, or by Tor (off the team): refused, nothing made.
        for (body, session, status, code) in [
            (
                ask("phq", 7),
                &tove,
                StatusCode::UNPROCESSABLE_ENTITY,
                "extra_form_open",
            ),
            (
                ask("gad", 0),
                &tove,
                StatusCode::UNPROCESSABLE_ENTITY,
                "extra_form_days",
            ),
            (
                ask("gad", 29),
                &tove,
                StatusCode::UNPROCESSABLE_ENTITY,
                "extra_form_days",
            ),
            (
                ask("nope", 7),
                &tove,
                StatusCode::UNPROCESSABLE_ENTITY,
                "unknown_questionnaire",
            ),
            (ask("gad", 7), &tor, StatusCode::FORBIDDEN, ""),
            (ask("gad", 7), &administrator, StatusCode::FORBIDDEN, ""),
        ] {
            let refused = send(&router, call("request_form", &body, session)).await;
            assert_eq!(refused.status, status, "{body}: {}", refused.body);
            assert!(refused.body.contains(code), "{body}: {}", refused.body);
        }
        assert_eq!(
            count(
                &db,
                "SELECT COUNT(*) FROM due_form WHERE schedule_key LIKE 'extra.%'"
            )
            .await,
            1
        );

        // Petra opens it and answers item 9 with 1: scored, and an urgent flag raised.
        let form = get(&router, "/mina-sidor/formular/701/extra.phq", &patient).await;
        assert_eq!(form.status, StatusCode::OK, "{}", form.body);
        assert!(form.body.contains("Fråga nummer 9"));
        let sent = send(
            &router,
            call(
                "answer_form",
                &phq_at("schedule%3Aextra.phq%2F0", 1, 1, 'e'),
                &patient,
            ),
        )
        .await;
        assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
        assert_eq!(extra(db.clone(), "answered").await, 1);
        assert_eq!(
            count(
                &db,
                "SELECT COUNT(*) FROM flag f JOIN form_response r ON r.id = f.response_id \
                 WHERE f.enrolment_id = 701 AND f.priority = 'urgent' AND f.resolved_at IS NULL \
                 AND r.place = 'schedule:extra.phq/0' AND r.total = 9"
            )
            .await,
            1
        );
        let overview = get(&router, "/mina-sidor/behandling/701", &patient).await;
        assert!(!overview.body.contains(link), "answered: no longer asked");
        let record = get(&router, "/mottagning/patient/401", &tove).await;
        let text = record.body.replace("<!>", "");
        assert!(text.contains("Extra formulär"), "{}", record.body);
        assert!(text.contains("besvarat"), "{}", record.body);

        // Asked for again, then withdrawn by Tove: closed, no longer asked; Tor may not
        // withdraw; withdrawing again changes nothing.
        let again = send(&router, call("request_form", &ask("phq", 7), &tove)).await;
        assert_eq!(again.status, StatusCode::OK, "{}", again.body);
        assert_eq!(
            count(
                &db,
                "SELECT COUNT(*) FROM due_form WHERE schedule_key = 'extra.phq' AND occurrence = 1"
            )
            .await,
            1
        );
        let foreign = send(&router, call("withdraw_form", &withdraw("extra.phq"), &tor)).await;
        assert_eq!(foreign.status, StatusCode::FORBIDDEN, "{}", foreign.body);
        let scheduled = send(
            &router,
            call("withdraw_form", &withdraw("gad-weekly"), &tove),
        )
        .await;
        assert_eq!(
            scheduled.status,
            StatusCode::NOT_FOUND,
            "{}",
            scheduled.body
        );
        let events =
            "SELECT COUNT(*) FROM care_event WHERE kind = 'progress' AND enrolment_id = 701";
        let before = count(&db, events).await;
        let withdrawn = send(
            &router,
            call("withdraw_form", &withdraw("extra.phq"), &tove),
        )
        .await;
        assert_eq!(withdrawn.status, StatusCode::OK, "{}", withdrawn.body);
        assert_eq!(extra(db.clone(), "expired").await, 1);
        assert_eq!(count(&db, events).await, before + 1);
        let twice = send(
            &router,
            call("withdraw_form", &withdraw("extra.phq"), &tove),
        )
        .await;
        assert_eq!(twice.status, StatusCode::OK, "{}", twice.body);
        assert_eq!(count(&db, events).await, before + 1);
        let overview = get(&router, "/mina-sidor/behandling/701", &patient).await;
        assert!(!overview.body.contains(link), "withdrawn: no longer asked");
        let gone = get(&router, "/mina-sidor/formular/701/extra.phq", &patient).await;
        assert!(
            gone.body.contains("Summa: 9"),
            "the page shows the one answered: {}",
            gone.body
        );

        // A GAD-7 open one day, its day past: it lapses unanswered, and may be asked again.
        let gad = send(&router, call("request_form", &ask("gad", 1), &tove)).await;
        assert_eq!(gad.status, StatusCode::OK, "{}", gad.body);
        db.execute_unprepared(
            "UPDATE due_form SET due_on = '2020-01-01', closes_on = '2020-01-02' \
             WHERE schedule_key = 'extra.gad'",
        )
        .await
        .expect("a day past");
        let overview = get(&router, "/mina-sidor/behandling/701", &patient).await;
        assert!(!overview.body.contains("extra.gad"), "{}", overview.body);
        assert_eq!(
            count(
                &db,
                "SELECT COUNT(*) FROM due_form WHERE schedule_key = 'extra.gad' AND state = 'expired'"
            )
            .await,
            1
        );
        let renewed = send(&router, call("request_form", &ask("gad", 1), &tove)).await;
        assert_eq!(renewed.status, StatusCode::OK, "{}", renewed.body);

        // The patient administrator sees the extra forms, and no form to ask for one.
        let overseen = get(&router, "/mottagning/patient/401", &administrator).await;
        let text = overseen.body.replace("<!>", "");
        assert!(text.contains("stängt utan svar"), "{}", overseen.body);
        assert!(
            !text.contains("name=\"questionnaire\""),
            "{}",
            overseen.body
        );
        let own = get(&router, "/mottagning/patient/401", &tove).await;
        assert!(own.body.contains("name=\"questionnaire\""), "{}", own.body);

        // Each therapist's call a write in the access log (13: Tor's too, the care team
        // decides after the gate); the administrator's role was refused before any patient.
        assert_eq!(
            count(
                &db,
                "SELECT COUNT(*) FROM access_log WHERE patient_id = 401 \
                 AND object_type = 'extra_form' AND action = 'write'"
            )
            .await,
            13
        );
    }
);

db_test!(
    a_treatment_handed_over_within_the_provider_moves_with_its_record_and_the_old_unit_only_reads_it,
    |db| {
        world(&db).await;
        unit_staff(&db).await;
        db.execute_unprepared(
            "INSERT INTO staff_person (id, given_name, family_name) VALUES (130, 'Alma', 'Andraenheten'); \
             INSERT INTO staff_hsa_identity (id, staff_person_id, hsa_id) VALUES (230, 130, 'SE-130'); \
             INSERT INTO staff_assignment (id, staff_hsa_identity_id, care_unit_id, commission_hsa_id, \
               commission_name, commission_purpose) VALUES (330, 230, 12, 'SE-130-U', 'V', 'Vård och behandling'); \
             INSERT INTO staff_role (staff_person_id, care_provider_id, care_unit_id, role, granted_at) \
               VALUES (130, 1, 12, 'therapist', CURRENT_TIMESTAMP); \
             INSERT INTO program_activation (program_version_id, care_unit_id, activated_at) \
               VALUES (601, 12, CURRENT_TIMESTAMP); \
             INSERT INTO enrolment_therapist (enrolment_id, staff_person_id) VALUES (701, 121)",
        )
        .await
        .expect("a therapist at A2, the version active there, a co-therapist at A1");
        let router = app(db.clone());
        let tove = staff_session(&db, 101, 301).await;
        let alma = staff_session(&db, 130, 330).await;
        let patient = patient_session(&db, 401).await;
        let to = |unit: i64| format!("patient_id=401&enrolment=701&unit_id={unit}");

        // Petra's urgent answer, before the handover.
        let answered = send(&router, call("answer_form", &phq(2, 1, 'a'), &patient)).await;
        assert_eq!(answered.status, StatusCode::OK, "{}", answered.body);
        let record = get(&router, "/mottagning/patient/401", &tove).await;
        assert!(record.body.contains("Lämna över behandlingen"), "{}", record.body);

        // Not to another care provider's unit, nor to its own: refused, nothing moved.
        for unit in [21, 11] {
            let refused = send(&router, call("hand_over", &to(unit), &tove)).await;
            assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
            assert!(refused.body.contains("not_a_handover_unit"), "{}", refused.body);
        }
        assert_eq!(count(&db, "SELECT care_unit_id FROM enrolment WHERE id = 701").await, 11);

        // Tove hands it over to A2: it moves with its record; the care team stays behind.
        let handed = send(&router, call("hand_over", &to(12), &tove)).await;
        assert_eq!(handed.status, StatusCode::OK, "{}", handed.body);
        assert_eq!(
            count(
                &db,
                "SELECT COUNT(*) FROM enrolment WHERE id = 701 AND care_unit_id = 12 \
                 AND responsible_staff_id IS NULL AND state = 'active'"
            )
            .await,
            1
        );
        assert_eq!(
            count(&db, "SELECT COUNT(*) FROM enrolment_therapist WHERE enrolment_id = 701").await,
            0
        );
        assert_eq!(
            count(
                &db,
                "SELECT COUNT(*) FROM enrolment_handover WHERE enrolment_id = 701 \
                 AND from_unit_id = 11 AND to_unit_id = 12 AND handed_over_by = 101"
            )
            .await,
            1
        );
        // Logged at both units (each call a write at A1, the two refused ones too; the
        // handover received at A2); a care event at each.
        let logged = |object: &'static str, unit: &'static str| {
            let db = db.clone();
            async move {
                count(
                    &db,
                    &format!(
                        "SELECT COUNT(*) FROM access_log WHERE patient_id = 401 AND action = 'write' \
                         AND outcome = 'allowed' AND object_type = '{object}' \
                         AND care_unit_hsa_id = 'SE2321000016-{unit}'"
                    ),
                )
                .await
            }
        };
        assert_eq!(logged("handover", "A1").await, 3);
        assert_eq!(logged("handover_received", "A2").await, 1);
        assert_eq!(
            count(
                &db,
                "SELECT COUNT(DISTINCT care_unit_id) FROM care_event \
                 WHERE enrolment_id = 701 AND kind = 'treatment'"
            )
            .await,
            2
        );

        // A1 reads it, read only, and says where it went; it changes nothing there now.
        let record = get(&router, "/mottagning/patient/401", &tove).await;
        assert_eq!(record.status, StatusCode::OK, "{}", record.body);
        let text = record.body.replace("<!>", "");
        assert!(text.contains("Överlämnad till Enhet A2"), "{}", record.body);
        assert!(!text.contains("Lämna över behandlingen"), "{}", record.body);
        for (function, body) in [
            ("hand_over", to(12)),
            ("change_treatment", change("maintenance", "")),
            ("add_note", "patient_id=401&enrolment=701&body=Sent".to_owned()),
        ] {
            let refused = send(&router, call(function, &body, &tove)).await;
            assert_eq!(refused.status, StatusCode::FORBIDDEN, "{function}: {}", refused.body);
        }
        let dashboard = send(&router, call("dashboard", "", &tove)).await;
        assert!(!dashboard.body.contains("\"enrolment_id\":701"), "{}", dashboard.body);

        // A2: on the dashboard with its urgent flag; Alma takes it on (only herself made
        // responsible: nothing else of a team she is not on), and works on it.
        let dashboard = send(&router, call("dashboard", "", &alma)).await;
        assert_eq!(dashboard.status, StatusCode::OK, "{}", dashboard.body);
        assert!(dashboard.body.contains("\"enrolment_id\":701"), "{}", dashboard.body);
        assert!(dashboard.body.contains("\"urgent_flags\":1"), "{}", dashboard.body);
        let record = get(&router, "/mottagning/patient/401", &alma).await;
        assert!(
            record.body.contains("Ta på dig behandlingen som ansvarig behandlare"),
            "{}",
            record.body
        );
        let added = send(
            &router,
            call(
                "change_care_team",
                "patient_id=401&enrolment=701&action=add&staff_person_id=130",
                &alma,
            ),
        )
        .await;
        assert_eq!(added.status, StatusCode::FORBIDDEN, "{}", added.body);
        let taken = send(
            &router,
            call(
                "change_care_team",
                "patient_id=401&enrolment=701&action=responsible&staff_person_id=130",
                &alma,
            ),
        )
        .await;
        assert_eq!(taken.status, StatusCode::OK, "{}", taken.body);
        let opened = send(
            &router,
            call(
                "set_module",
                "patient_id=401&enrolment=701&module=m2&action=unlock",
                &alma,
            ),
        )
        .await;
        assert_eq!(opened.status, StatusCode::OK, "{}", opened.body);
        let record = get(&router, "/mottagning/patient/401", &alma).await;
        assert!(record.body.contains("PHQ-9"), "{}", record.body);
        // The patient goes on where she was.
        let page = get(&router, "/mina-sidor/behandling/701/m2/p3", &patient).await;
        assert!(page.body.contains("LOCKED-MODULE-TEXT"), "{}", page.body);

        // Petra starts another treatment at A1: A1 writes to that one, still not to the one
        // it handed over (its thread is answered at A2).
        db.execute_unprepared(
            "INSERT INTO enrolment (id, patient_id, program_version_id, care_unit_id, state, \
               started_at, internal_note, responsible_staff_id) \
             VALUES (705, 401, 601, 11, 'active', CURRENT_TIMESTAMP, '', 101)",
        )
        .await
        .expect("a second treatment at A1");
        let reply = |enrolment: i64, k: char| {
            format!(
                "patient_id=401&enrolment={enrolment}&body=Hej&submit_key={}",
                k.to_string().repeat(64)
            )
        };
        let moved = send(&router, call("reply_message", &reply(701, 'a'), &tove)).await;
        assert_eq!(moved.status, StatusCode::FORBIDDEN, "{}", moved.body);
        let own = send(&router, call("reply_message", &reply(705, 'b'), &tove)).await;
        assert_eq!(own.status, StatusCode::OK, "{}", own.body);
        assert_eq!(
            count(&db, "SELECT COUNT(*) FROM message WHERE enrolment_id = 701 AND sender_kind = 'staff'").await,
            0
        );

        // Ninety days on, A1 no longer reaches the one it handed over.
        db.execute_unprepared(
            "UPDATE enrolment_handover SET handed_over_at = '2000-01-01T00:00:00+00:00'",
        )
        .await
        .expect("long ago");
        let record = get(&router, "/mottagning/patient/401", &tove).await;
        assert_eq!(record.status, StatusCode::OK, "{}", record.body);
        assert!(!record.body.contains("Överlämnad till"), "{}", record.body);
        let gone = send(&router, call("reply_message", &reply(701, 'c'), &tove)).await;
        assert_eq!(gone.status, StatusCode::NOT_FOUND, "{}", gone.body);
    }
);

db_test!(
    a_therapist_lists_their_own_caseload_and_the_log_has_only_those_shown,
    |db| {
        world(&db).await;
        unit_staff(&db).await;
        let router = app(db.clone());
        let tove = staff_session(&db, 101, 301).await;
        let tor = staff_session(&db, 121, 321).await;
        // The patients a dashboard lists, and those its open flags name.
        let listed = |body: String| {
            let dashboard: serde_json::Value = serde_json::from_str(&body).expect("json");
            let ids = |key: &str| -> Vec<i64> {
                let mut ids: Vec<i64> = dashboard[key]
                    .as_array()
                    .expect(key)
                    .iter()
                    .map(|p| p["patient_id"].as_i64().expect("id"))
                    .collect();
                ids.sort_unstable();
                ids
            };
            (ids("patients"), ids("flags"))
        };
        db.execute_unprepared(
            "INSERT INTO flag (enrolment_id, kind, priority, reason, raised_at) VALUES \
               (702, 'automatic', 'warning', 'inactive', CURRENT_TIMESTAMP)",
        )
        .await
        .expect("flag");

        // Tove is responsible for Petra's treatment (401), nobody for 402's: her caseload is
        // Petra's alone, flags included; the unit's list has both.
        let mine = send(&router, call("dashboard", "mine=true", &tove)).await;
        assert_eq!(mine.status, StatusCode::OK, "{}", mine.body);
        assert_eq!(listed(mine.body), (vec![401], vec![]));
        let logged = "SELECT COUNT(*) FROM access_log WHERE user_hsa_id = 'SE-101' \
                      AND object_type = 'dashboard'";
        assert_eq!(
            count(&db, logged).await,
            1,
            "only Petra was shown, so logged"
        );
        let unit = send(&router, call("dashboard", "", &tove)).await;
        assert_eq!(listed(unit.body), (vec![401, 402], vec![402]));
        assert_eq!(count(&db, logged).await, 2, "then 402, once shown");

        // Tor is on no care team: an empty caseload, until he joins 402's as a co-therapist.
        let none = send(&router, call("dashboard", "mine=true", &tor)).await;
        assert_eq!(listed(none.body), (vec![], vec![]));
        db.execute_unprepared(
            "INSERT INTO enrolment_therapist (enrolment_id, staff_person_id) VALUES (702, 121)",
        )
        .await
        .expect("co-therapist");
        let joined = send(&router, call("dashboard", "mine=true", &tor)).await;
        assert_eq!(listed(joined.body), (vec![402], vec![402]));

        // The page offers the choice to a therapist and keeps it in the refresh link.
        let page = crate::common::get(&router, "/mottagning?vems=mina", &tor).await;
        let text = page.body.replace("<!>", "");
        assert!(text.contains("Mina patienter"), "{}", page.body);
        assert!(text.contains("vems=mina"), "{}", page.body);
        assert!(!text.contains("Petra"), "Petra is not Tor's: {}", page.body);
    }
);

db_test!(
    a_therapist_flags_a_treatment_by_hand_and_the_care_team_sees_it,
    |db| {
        world(&db).await;
        unit_staff(&db).await;
        // Tor (121) joins the care team; both therapists have an address for notices.
        db.execute_unprepared(
            "INSERT INTO enrolment_therapist (enrolment_id, staff_person_id) VALUES (701, 121); \
             UPDATE staff_person SET email = 'tove@example.se' WHERE id = 101; \
             UPDATE staff_person SET email = 'tor@example.se' WHERE id = 121",
        )
        .await
        .expect("team");
        let router = app(db.clone());
        let tove = staff_session(&db, 101, 301).await;
        let tor = staff_session(&db, 121, 321).await;
        let administrator = staff_session(&db, 120, 320).await;
        let patient = patient_session(&db, 401).await;
        let flags = || count(&db, "SELECT COUNT(*) FROM flag");
        let raise = |reason: &str, priority: &str, note: &str| {
            format!("patient_id=401&enrolment=701&reason={reason}&priority={priority}&note={note}")
        };

        // The record offers the form to the care team, not to the patient administrator.
        let page = get(&router, "/mottagning/patient/401", &tove).await;
        assert!(page.body.contains("Flagga behandlingen"), "{}", page.body);
        let page = get(&router, "/mottagning/patient/401", &administrator).await;
        assert!(!page.body.contains("Flagga behandlingen"));

        // Bad input is refused, specifically, and writes nothing.
        for (body, code) in [
            (
                raise("manual_mood", "urgent", "Orolig"),
                "flag_reason_unknown",
            ),
            (raise("inactive", "urgent", "Orolig"), "flag_reason_unknown"),
            (raise("manual_risk", "urgent", "+"), "flag_note_empty"),
        ] {
            let refused = send(&router, call("raise_flag", &body, &tove)).await;
            assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
            assert!(refused.body.contains(code), "{body}: {}", refused.body);
        }
        let refused = send(
            &router,
            call(
                "raise_flag",
                &raise("manual_risk", "severe", "Orolig"),
                &tove,
            ),
        )
        .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            refused.body.contains("flag_priority_unknown"),
            "{}",
            refused.body
        );
        // A patient administrator may not raise one, nor a therapist of another provider.
        let region_b = staff_session(&db, 106, 306).await;
        for token in [&administrator, &region_b] {
            let answer = send(
                &router,
                call(
                    "raise_flag",
                    &raise("manual_risk", "urgent", "Orolig"),
                    token,
                ),
            )
            .await;
            assert!(
                [StatusCode::FORBIDDEN, StatusCode::NOT_FOUND].contains(&answer.status),
                "{}",
                answer.body
            );
        }
        assert_eq!(flags().await, 0);

        // Tove raises an urgent one: the care team sees it on the dashboard with its note and
        // who raised it, Tor is told at once (a notice without content), Tove is not.
        let note = "FLAG-NOTE+ringde+och+l%C3%A4t+orolig";
        let raised = send(
            &router,
            call("raise_flag", &raise("manual_risk", "urgent", note), &tove),
        )
        .await;
        assert_eq!(raised.status, StatusCode::OK, "{}", raised.body);
        assert_eq!(
            count(
                &db,
                "SELECT COUNT(*) FROM flag WHERE kind = 'manual' AND priority = 'urgent' \
                 AND reason = 'manual_risk' AND raised_by = 101 AND enrolment_id = 701 \
                 AND response_id IS NULL AND resolved_at IS NULL"
            )
            .await,
            1
        );
        // The patient opens the first page: the dashboard's row names the module they are in.
        let before = get(&router, "/mottagning", &tor).await;
        assert!(!before.body.contains("Modul m1"), "{}", before.body);
        let opened = get(&router, "/mina-sidor/behandling/701/m1/p1", &patient).await;
        assert_eq!(opened.status, StatusCode::OK);
        let dashboard = get(&router, "/mottagning", &tor).await;
        let text = dashboard.body.replace("<!>", "");
        assert!(
            text.contains(r#"<span class="muted module">Modul m1</span>"#),
            "{text}"
        );
        assert!(text.contains("Oro för patientens säkerhet"), "{text}");
        assert!(text.contains("FLAG-NOTE ringde och lät orolig"), "{text}");
        assert!(text.contains("av Tove Terapeut"), "{text}");
        // A patient administrator sees the flag and who raised it, not the note (clinical text
        // for the therapists, as internal notes are).
        let administrators = get(&router, "/mottagning", &administrator).await;
        let text = administrators.body.replace("<!>", "");
        assert!(text.contains("Oro för patientens säkerhet"), "{text}");
        assert!(!text.contains("FLAG-NOTE"), "{text}");
        // The summary for the medical record says who raised it and why, in their words.
        let summary = send(
            &router,
            call("record_summary", "patient_id=401&enrolment=701", &tove),
        )
        .await;
        assert_eq!(summary.status, StatusCode::OK, "{}", summary.body);
        assert!(
            summary.body.contains("FLAG-NOTE ringde och lät orolig")
                && summary.body.contains("Tove Terapeut"),
            "{}",
            summary.body
        );
        // The patient administrator's summary and dashboard data say who raised it, not the
        // note; and the flags they see have no acknowledge or resolve controls (a therapist's).
        let summary = send(
            &router,
            call(
                "record_summary",
                "patient_id=401&enrolment=701",
                &administrator,
            ),
        )
        .await;
        assert_eq!(summary.status, StatusCode::OK, "{}", summary.body);
        assert!(
            summary.body.contains(r#""raised_by":"Tove Terapeut""#)
                && summary.body.contains(r#""note":null"#)
                && !summary.body.contains("FLAG-NOTE"),
            "{}",
            summary.body
        );
        let data = send(&router, call("dashboard", "", &administrator)).await;
        assert_eq!(data.status, StatusCode::OK, "{}", data.body);
        assert!(
            data.body.contains("manual_risk") && !data.body.contains("FLAG-NOTE"),
            "{}",
            data.body
        );
        assert!(!text.contains(r#"name="flag_id""#), "{text}");
        let therapists = get(&router, "/mottagning", &tor).await;
        assert!(
            therapists.body.contains(r#"name="flag_id""#),
            "{}",
            therapists.body
        );
        // A record outside the care relation: the therapist is offered emergency access, the
        // patient administrator (whom the server refuses it) is not.
        let refused = get(&router, "/mottagning/patient/403", &tove).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        assert!(refused.body.contains("nodatkomst"), "{}", refused.body);
        let refused = get(&router, "/mottagning/patient/403", &administrator).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        assert!(!refused.body.contains("nodatkomst"), "{}", refused.body);
        let told = |who: i64| {
            let db = db.clone();
            async move {
                count(
                    &db,
                    &format!(
                        "SELECT COUNT(*) FROM notification WHERE staff_person_id = {who} \
                         AND template = 'urgent_flag'"
                    ),
                )
                .await
            }
        };
        assert_eq!((told(121).await, told(101).await), (1, 0));
        assert_eq!(
            count(
                &db,
                "SELECT COUNT(*) FROM access_log WHERE patient_id = 401 AND action = 'write' \
                 AND object_type = 'flag' AND outcome = 'allowed' AND user_hsa_id = 'SE-101'"
            )
            .await,
            1
        );

        // One open flag per reason: a second is refused and makes none; another reason is a
        // flag of its own.
        let again = send(
            &router,
            call("raise_flag", &raise("manual_risk", "warning", "Igen"), &tor),
        )
        .await;
        assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(again.body.contains("flag_already_open"), "{}", again.body);
        let other = send(
            &router,
            call("raise_flag", &raise("manual_contact", "info", "Ring"), &tor),
        )
        .await;
        assert_eq!(other.status, StatusCode::OK, "{}", other.body);
        assert_eq!(flags().await, 2);

        // The note is the care team's: the patient never sees it.
        for (function, body) in [("my_treatment", "enrolment=701"), ("my_data", "")] {
            let answer = send(&router, call(function, body, &patient)).await;
            assert_eq!(answer.status, StatusCode::OK);
            assert!(!answer.body.contains("FLAG-NOTE"), "{function}");
        }

        // Resolved, the reason may be raised again.
        let id = count(&db, "SELECT id FROM flag WHERE reason = 'manual_risk'").await;
        let resolved = send(
            &router,
            call(
                "resolve_flag",
                &format!("flag_id={id}&comment=Samtal+gjort"),
                &tove,
            ),
        )
        .await;
        assert_eq!(resolved.status, StatusCode::OK, "{}", resolved.body);
        let anew = send(
            &router,
            call(
                "raise_flag",
                &raise("manual_risk", "warning", "Ny+oro"),
                &tove,
            ),
        )
        .await;
        assert_eq!(anew.status, StatusCode::OK, "{}", anew.body);

        // An ended treatment takes no flag: the unit reads it, and writes nothing to it.
        db.execute_unprepared(
            "UPDATE enrolment SET state = 'ended', ended_at = CURRENT_TIMESTAMP WHERE id = 701",
        )
        .await
        .expect("end");
        let ended = send(
            &router,
            call("raise_flag", &raise("manual_other", "info", "Sent"), &tove),
        )
        .await;
        assert_eq!(ended.status, StatusCode::FORBIDDEN, "{}", ended.body);
        assert_eq!(flags().await, 3);
    }
);
