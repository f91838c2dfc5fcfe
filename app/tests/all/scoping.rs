//! Patient data is reached only through the gate's decisions (`app::auth::scope`): this test
//! reads the source of the application and the server and fails where any other code names a
//! patient-data table itself. A place that must (the gate weighing the care relation, a demo
//! sandbox being made or deleted, sign-in finding who signed in) is listed below with why.

#![allow(clippy::expect_used)]

use std::path::{Path, PathBuf};

/// How code names a patient-data table: its SeaORM entity, or plain SQL reading from it.
const PATTERNS: &[&str] = &[
    "enrolment::Entity",
    "enrolment::ActiveModel",
    "patient::Entity",
    "emergency_grant::Entity",
    "FROM enrolment",
    "JOIN enrolment",
    "FROM patient ",
    "FROM questionnaire_response",
    "JOIN questionnaire_response",
    "FROM item_answer",
    "JOIN item_answer",
    "FROM worksheet_entry",
    "FROM message",
    "JOIN message",
    "FROM flag",
    "JOIN flag",
    "FROM module_state",
    "JOIN module_state",
    "FROM page_visit",
    "JOIN page_visit",
    "INTO page_visit",
    "page_visit::",
    "FROM form_response",
    "JOIN form_response",
    "INTO form_response",
    "UPDATE form_response",
    "form_response::",
    "FROM homework_entry",
    "JOIN homework_entry",
    "INTO homework_entry",
    "UPDATE homework_entry",
    "FROM module_feedback",
    "JOIN module_feedback",
    "INTO module_feedback",
    "UPDATE module_feedback",
    "FROM due_form",
    "JOIN due_form",
    "INTO due_form",
    "UPDATE due_form",
    "INTO flag",
    "INTO message",
    "UPDATE message",
    "flag::",
    "FROM care_note",
    "JOIN care_note",
    "FROM module_override",
    "JOIN module_override",
    "INTO care_note",
    "INTO module_override",
    "INTO enrolment_therapist",
    "UPDATE enrolment",
    "UPDATE flag",
    "FROM enrolment_handover",
    "JOIN enrolment_handover",
    "INTO enrolment_handover",
];

/// Files that may name them, and why.
const ALLOWED: &[(&str, &str)] = &[
    (
        "app/src/auth/scope.rs",
        "the decisions' own sources, the only way in",
    ),
    (
        "app/src/auth/gate.rs",
        "the gate: emergency grants it makes and weighs",
    ),
    ("app/src/db/entities/", "the entity definitions themselves"),
    (
        "app/src/demo/",
        "a sandbox is made with its patients and deleted with them",
    ),
    (
        "app/src/login/accounts.rs",
        "sign-in finds or registers the patient who signed in",
    ),
    (
        "app/src/catalogue/store.rs",
        "a minor upgrade moves a unit's running enrolments to a version: ids only, no patient data read",
    ),
    (
        "app/src/start/queries.rs",
        "the public count of ongoing treatments, real care only",
    ),
    (
        "app/src/notify/",
        "the outbox reads a recipient's consent and address by id, to queue and to send; it shows nothing",
    ),
    ("app/src/testing.rs", "test fixtures"),
    (
        "app/src/clinic/enrol.rs",
        "enrolment starts care at the caller's unit (UnitCare): it finds a person by number for the id only, and checks the unit's own ongoing enrolments",
    ),
    (
        "app/src/messages/store.rs",
        "messages: every function takes the patient's OwnEnrolment or staff's CareAccess and stays inside it",
    ),
    (
        "app/src/care/trial.rs",
        "a producer's own test enrolment and test patient are made, reset and found here: only rows marked as the caller's test",
    ),
    (
        "app/src/auth/session.rs",
        "a session's test binding holds only for the staff member's own test enrolment at their unit: ids only",
    ),
    (
        "app/src/care/follow_up.rs",
        "the server's follow-up sweep: times and counts of ongoing real care (no sandbox, no test) to raise flags and escalate urgent ones; it shows nothing, and raises through the ScheduledEnrolment it finds again",
    ),
    (
        "app/src/clinic/team.rs",
        "a treatment's care team (enrolment_therapist): changed only for the StaffEnrolment the gate reached, by its own row",
    ),
    (
        "app/src/clinic/handover.rs",
        "a handover moves only the StaffEnrolment the gate reached, by its own row, and lists units (no patient data)",
    ),
    (
        "app/src/clinic/notes.rs",
        "therapist-internal notes: written and read only through the StaffEnrolment the gate reached (its row, its notes source)",
    ),
    (
        "app/src/audit/search.rs",
        "the auditor's search names a log row's patient only where the patient has care at the auditor's care provider (a row about anyone else shows the id alone)",
    ),
    (
        "app/src/clinic/flagging.rs",
        "a flag raised by hand goes only on the StaffEnrolment the gate reached: its own row, held by its id against an ending",
    ),
    (
        "app/src/care/treatment.rs",
        "the treatment's phase and end: changes only the StaffEnrolment's own row and the flags of its flags source",
    ),
    (
        "app/src/clinic/queries.rs",
        "a flag is acknowledged or resolved only among the flags of the caller's unit (UnitCare's source)",
    ),
    (
        "app/src/care/record.rs",
        "the care record: every function takes the patient's OwnEnrolment, staff's StaffEnrolment, or the due-form sweep's ScheduledEnrolment (crate-private: ongoing real care, nothing shown), and stays inside it",
    ),
];

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn patient_data_is_reached_only_through_the_gates_decisions() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace")
        .to_path_buf();
    let mut files = Vec::new();
    for dir in ["app/src", "server/src"] {
        sources(&root.join(dir), &mut files);
    }
    assert!(files.len() > 50, "read {} files from {root:?}", files.len());
    let mut found = Vec::new();
    for file in &files {
        let relative = file
            .strip_prefix(&root)
            .expect("inside the workspace")
            .to_string_lossy()
            .replace('\\', "/");
        if ALLOWED
            .iter()
            .any(|(allowed, _)| relative.starts_with(allowed))
        {
            continue;
        }
        let text = std::fs::read_to_string(file).expect("readable source");
        for (number, line) in text.lines().enumerate() {
            // SQL may be written in any case.
            let line = line.to_ascii_lowercase();
            for pattern in PATTERNS {
                if line.contains(&pattern.to_ascii_lowercase()) {
                    found.push(format!("{relative}:{}: {pattern}", number + 1));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "patient data named outside app::auth::scope; take the gate's decision instead:\n{}",
        found.join("\n")
    );
}

/// The scan itself finds what it looks for (so that a renamed folder cannot make it pass).
#[test]
fn the_scan_sees_the_scope_module() {
    let scope = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/auth/scope.rs");
    let text = std::fs::read_to_string(scope).expect("scope module");
    assert!(text.contains("FROM enrolment"));
}
