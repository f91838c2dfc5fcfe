//! Who may do what, through the real router and middleware, on both database engines:
//! the authorization matrix over every server function, sessions and their limits, the
//! same-origin rule, the access log and its verification, and demo sandbox isolation.

#![allow(clippy::expect_used)]

use app::auth::session::{self, SESSION_COOKIE, SessionConfig, Subject};
use app::db_test;
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use lotsen_server::limits::{LimitConfig, Limits, Rate};
use lotsen_server::{AppState, router};
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use std::collections::BTreeSet;

use crate::common::{Answer, app, send, staff_session};

const MULTIPART_BOUNDARY: &str = "lotsen-matrix-boundary";

/// A POST as a browser sends it from one of our pages: same-origin, with the session cookie.
fn post(path: &str, body: String, token: Option<&str>) -> Request<Body> {
    let mut request = Request::post(path)
        .header(header::HOST, "lotsen.test")
        .header(header::ORIGIN, "https://lotsen.test")
        .header("sec-fetch-site", "same-origin")
        .header(
            header::CONTENT_TYPE,
            if body.starts_with('{') {
                "application/json".to_owned()
            } else if body.starts_with(&format!("--{MULTIPART_BOUNDARY}")) {
                format!("multipart/form-data; boundary={MULTIPART_BOUNDARY}")
            } else {
                "application/x-www-form-urlencoded".to_owned()
            },
        );
    if let Some(token) = token {
        request = request.header(header::COOKIE, format!("{SESSION_COOKIE}={token}"));
    }
    request.body(Body::from(body)).expect("request")
}

use app::testing::number as count;

use app::testing::two_regions as world;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Caller {
    Anonymous,
    Patient,
    Therapist,
    TherapistWithoutCareAssignment,
    AccessAdministrator,
    CareProviderAdministrator,
    Auditor,
    Producer,
    Publisher,
    /// A patient administrator in a care assignment at unit A1 (no therapist role).
    PatientAdministrator,
    /// A therapist at unit A1 who is not on the patients' care teams.
    TherapistOffTeam,
    /// The producer, testing version 601 as a patient (a test principal): their session is
    /// bound to their test enrolment.
    Tester,
}

const CALLERS: [Caller; 12] = [
    Caller::Anonymous,
    Caller::Patient,
    Caller::Therapist,
    Caller::TherapistWithoutCareAssignment,
    Caller::AccessAdministrator,
    Caller::CareProviderAdministrator,
    Caller::Auditor,
    Caller::Producer,
    Caller::Publisher,
    Caller::PatientAdministrator,
    Caller::TherapistOffTeam,
    Caller::Tester,
];

fn subject(caller: Caller) -> Option<Subject> {
    let staff = |person, assignment| Subject::Staff {
        staff_person_id: person,
        assignment_id: Some(assignment),
    };
    match caller {
        Caller::Anonymous => None,
        Caller::Patient => Some(Subject::Patient { patient_id: 401 }),
        Caller::Therapist => Some(staff(101, 301)),
        Caller::TherapistWithoutCareAssignment => Some(staff(102, 302)),
        Caller::AccessAdministrator => Some(staff(103, 303)),
        Caller::CareProviderAdministrator => Some(staff(104, 304)),
        Caller::Auditor => Some(staff(105, 305)),
        Caller::Producer => Some(staff(107, 307)),
        Caller::Publisher => Some(staff(108, 308)),
        Caller::PatientAdministrator => Some(staff(120, 320)),
        Caller::TherapistOffTeam => Some(staff(121, 321)),
        Caller::Tester => Some(staff(107, 307)),
    }
}

async fn sign_in(db: &DatabaseConnection, caller: Caller) -> Option<String> {
    let subject = subject(caller)?;
    let token = session::create(db, &SessionConfig::default(), subject, None, None, None)
        .await
        .expect("session");
    if caller == Caller::Tester {
        bind_test(db, &token).await;
    }
    Some(token)
}

/// The producer's test of version 601 (made once; a reset in the plain-route matrix makes a
/// newer one), bound to the session of `token`.
async fn bind_test(db: &DatabaseConnection, token: &str) {
    db.execute_unprepared(
        "INSERT INTO patient (id, personnummer, given_name, family_name) \
         SELECT 490, 'T00000000107', 'Test', 'Patient' \
         WHERE NOT EXISTS (SELECT 1 FROM patient WHERE id = 490); \
         INSERT INTO enrolment (patient_id, program_version_id, care_unit_id, state, started_at, \
           internal_note, test_by_staff_id) \
         SELECT 490, 601, 11, 'active', CURRENT_TIMESTAMP, '', 107 \
         WHERE NOT EXISTS (SELECT 1 FROM enrolment WHERE test_by_staff_id = 107)",
    )
    .await
    .expect("test enrolment");
    db.execute_unprepared(&format!(
        "UPDATE user_session SET test_enrolment_id = \
           (SELECT MAX(id) FROM enrolment WHERE test_by_staff_id = 107) \
         WHERE token_hash = '{}'",
        session::hash_token(token)
    ))
    .await
    .expect("bind");
}

/// The object a call is about, relative to the therapist at unit A1 and the patient 401.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Object {
    None,
    /// The patient's own record / the caller's own other session.
    Own,
    SameUnit,
    OtherUnit,
    OtherRegion,
    /// Another user's session.
    OtherUser,
    /// A demo sandbox's patient and treatment (the sandbox `seed_canaries` made): no caller of
    /// the real world reaches it.
    Sandbox,
}

const A: u16 = 200; // allowed
const U: u16 = 401; // not signed in
const D: u16 = 403; // denied
const N: u16 = 404; // not found
const V: u16 = 422; // let in, the input refused

/// Every server function × object × caller (in the order of CALLERS).
const MATRIX: &[(&str, Object, [u16; 12])] = &[
    (
        "service_overview",
        Object::None,
        [A, A, A, A, A, A, A, A, A, A, A, A],
    ),
    ("whoami", Object::None, [A, A, A, A, A, A, A, A, A, A, A, A]),
    (
        "login_choices",
        Object::None,
        [A, A, A, A, A, A, A, A, A, A, A, A],
    ),
    (
        "my_sessions",
        Object::None,
        [U, A, A, A, A, A, A, A, A, A, A, A],
    ),
    (
        "end_session",
        Object::Own,
        [U, A, A, A, A, A, A, A, A, A, A, A],
    ),
    (
        "end_session",
        Object::OtherUser,
        [U, N, N, N, N, N, N, N, N, N, N, N],
    ),
    (
        "my_care",
        Object::None,
        [U, A, D, D, D, D, D, D, D, D, D, A],
    ),
    // A treatment's pages and forms: the patient's own enrolment, or another patient's.
    (
        "my_treatment",
        Object::Own,
        [U, A, D, D, D, D, D, D, D, D, D, A],
    ),
    (
        "my_treatment",
        Object::OtherRegion,
        [U, N, D, D, D, D, D, D, D, D, D, N],
    ),
    (
        "my_treatment",
        Object::Sandbox,
        [U, N, D, D, D, D, D, D, D, D, D, N],
    ),
    ("my_page", Object::Own, [U, A, D, D, D, D, D, D, D, D, D, A]),
    (
        "my_page",
        Object::OtherUnit,
        [U, N, D, D, D, D, D, D, D, D, D, N],
    ),
    (
        "answer_form",
        Object::Own,
        [U, A, D, D, D, D, D, D, D, D, D, A],
    ),
    (
        "answer_form",
        Object::OtherRegion,
        [U, N, D, D, D, D, D, D, D, D, D, N],
    ),
    (
        "my_due_form",
        Object::Own,
        [U, A, D, D, D, D, D, D, D, D, D, A],
    ),
    (
        "my_due_form",
        Object::OtherRegion,
        [U, N, D, D, D, D, D, D, D, D, D, N],
    ),
    (
        "my_results",
        Object::Own,
        [U, A, D, D, D, D, D, D, D, D, D, A],
    ),
    (
        "my_results",
        Object::OtherRegion,
        [U, N, D, D, D, D, D, D, D, D, D, N],
    ),
    (
        "my_messages",
        Object::Own,
        [U, A, D, D, D, D, D, D, D, D, D, A],
    ),
    (
        "my_messages",
        Object::OtherRegion,
        [U, N, D, D, D, D, D, D, D, D, D, N],
    ),
    (
        "my_messages",
        Object::Sandbox,
        [U, N, D, D, D, D, D, D, D, D, D, N],
    ),
    (
        "send_message",
        Object::Own,
        [U, A, D, D, D, D, D, D, D, D, D, A],
    ),
    (
        "send_message",
        Object::OtherRegion,
        [U, N, D, D, D, D, D, D, D, D, D, N],
    ),
    (
        "send_message",
        Object::Sandbox,
        [U, N, D, D, D, D, D, D, D, D, D, N],
    ),
    (
        "save_homework",
        Object::Own,
        [U, A, D, D, D, D, D, D, D, D, D, A],
    ),
    (
        "save_homework",
        Object::OtherRegion,
        [U, N, D, D, D, D, D, D, D, D, D, N],
    ),
    // Feedback is the care team's: not the patient administrator's, nor another therapist's.
    (
        "give_feedback",
        Object::SameUnit,
        [U, D, A, D, D, D, D, D, D, D, D, N],
    ),
    (
        "give_feedback",
        Object::OtherUnit,
        [U, D, D, D, D, D, D, D, D, D, D, N],
    ),
    (
        "give_feedback",
        Object::OtherRegion,
        [U, D, N, D, D, D, D, D, D, D, N, N],
    ),
    (
        "give_feedback",
        Object::Sandbox,
        [U, D, N, D, D, D, D, D, D, D, N, N],
    ),
    (
        "reply_message",
        Object::SameUnit,
        [U, D, A, D, D, D, D, D, D, A, A, D],
    ),
    (
        "reply_message",
        Object::OtherUnit,
        [U, D, D, D, D, D, D, D, D, D, D, D],
    ),
    (
        "reply_message",
        Object::OtherRegion,
        [U, D, N, D, D, D, D, D, D, N, N, D],
    ),
    (
        "reply_message",
        Object::Sandbox,
        [U, D, N, D, D, D, D, D, D, N, N, D],
    ),
    (
        "who_read_my_data",
        Object::None,
        [U, A, D, D, D, D, D, D, D, D, D, A],
    ),
    (
        "my_data",
        Object::None,
        [U, A, D, D, D, D, D, D, D, D, D, A],
    ),
    (
        "my_contact",
        Object::None,
        [U, A, D, D, D, D, D, D, D, D, D, D],
    ),
    (
        "set_notifications",
        Object::None,
        [U, A, D, D, D, D, D, D, D, D, D, D],
    ),
    // Past the gate, a code needs a mail server (none here: tests/notify.rs has one) and one
    // that was sent: the input is refused, after the caller was let in.
    (
        "request_contact_code",
        Object::None,
        [U, V, D, D, D, D, D, D, D, D, D, D],
    ),
    (
        "confirm_contact_code",
        Object::None,
        [U, V, D, D, D, D, D, D, D, D, D, D],
    ),
    (
        "unit_patients",
        Object::None,
        [U, D, A, D, D, D, D, D, D, A, A, D],
    ),
    (
        "dashboard",
        Object::None,
        [U, D, A, D, D, D, D, D, D, A, A, D],
    ),
    // Her own caseload (`mine=true`): the same callers, each with their care teams only.
    (
        "dashboard",
        Object::Own,
        [U, D, A, D, D, D, D, D, D, A, A, D],
    ),
    // Flags are handled by the unit's therapists (a patient administrator sees them only).
    (
        "acknowledge_flag",
        Object::SameUnit,
        [U, D, A, D, D, D, D, D, D, D, A, D],
    ),
    (
        "acknowledge_flag",
        Object::OtherUnit,
        [U, D, N, D, D, D, D, D, D, D, N, D],
    ),
    (
        "acknowledge_flag",
        Object::OtherRegion,
        [U, D, N, D, D, D, D, D, D, D, N, D],
    ),
    (
        "acknowledge_flag",
        Object::Sandbox,
        [U, D, N, D, D, D, D, D, D, D, N, D],
    ),
    (
        "resolve_flag",
        Object::SameUnit,
        [U, D, A, D, D, D, D, D, D, D, A, D],
    ),
    (
        "resolve_flag",
        Object::OtherUnit,
        [U, D, N, D, D, D, D, D, D, D, N, D],
    ),
    (
        "resolve_flag",
        Object::OtherRegion,
        [U, D, N, D, D, D, D, D, D, D, N, D],
    ),
    (
        "resolve_flag",
        Object::Sandbox,
        [U, D, N, D, D, D, D, D, D, D, N, D],
    ),
    (
        "patient_record",
        Object::Own,
        [U, D, A, D, D, D, D, D, D, A, A, D],
    ),
    (
        "patient_record",
        Object::SameUnit,
        [U, D, A, D, D, D, D, D, D, A, A, D],
    ),
    (
        "patient_record",
        Object::OtherUnit,
        [U, D, D, D, D, D, D, D, D, D, D, D],
    ),
    (
        "patient_record",
        Object::OtherRegion,
        [U, D, N, D, D, D, D, D, D, N, N, D],
    ),
    (
        "patient_record",
        Object::Sandbox,
        [U, D, N, D, D, D, D, D, D, N, N, D],
    ),
    (
        "audit_search",
        Object::None,
        [U, D, D, D, D, D, A, D, D, D, D, D],
    ),
    (
        "unit_staff",
        Object::None,
        [U, D, D, D, A, D, D, D, D, D, D, D],
    ),
    (
        "grant_role",
        Object::SameUnit,
        [U, D, D, D, A, D, D, D, D, D, D, D],
    ),
    (
        "grant_role",
        Object::OtherRegion,
        [U, D, D, D, N, D, D, D, D, D, D, D],
    ),
    (
        "revoke_role",
        Object::SameUnit,
        [U, D, D, D, A, D, D, D, D, D, D, D],
    ),
    (
        "revoke_role",
        Object::OtherRegion,
        [U, D, D, D, N, D, D, D, D, D, D, D],
    ),
    (
        "provider_units",
        Object::None,
        [U, D, D, D, D, A, D, D, D, D, D, D],
    ),
    (
        "set_unit_active",
        Object::SameUnit,
        [U, D, D, D, D, A, D, D, D, D, D, D],
    ),
    (
        "set_unit_active",
        Object::OtherRegion,
        [U, D, D, D, D, N, D, D, D, D, D, D],
    ),
    (
        "set_crisis_info",
        Object::SameUnit,
        [U, D, D, D, D, A, D, D, D, D, D, D],
    ),
    (
        "set_crisis_info",
        Object::OtherRegion,
        [U, D, D, D, D, N, D, D, D, D, D, D],
    ),
    (
        "appoint_access_admin",
        Object::SameUnit,
        [U, D, D, D, D, A, D, D, D, D, D, D],
    ),
    (
        "appoint_access_admin",
        Object::OtherRegion,
        [U, D, D, D, D, N, D, D, D, D, D, D],
    ),
    (
        "remove_access_admin",
        Object::SameUnit,
        [U, D, D, D, D, A, D, D, D, D, D, D],
    ),
    (
        "remove_access_admin",
        Object::OtherRegion,
        [U, D, D, D, D, N, D, D, D, D, D, D],
    ),
    (
        "my_programs",
        Object::None,
        [U, D, D, D, D, D, D, A, A, D, D, A],
    ),
    (
        "create_program",
        Object::None,
        [U, D, D, D, D, D, D, A, D, D, D, A],
    ),
    (
        "program_draft",
        Object::SameUnit,
        [U, D, D, D, D, D, D, A, D, D, D, A],
    ),
    (
        "program_draft",
        Object::OtherRegion,
        [U, D, D, D, D, D, D, N, D, D, D, N],
    ),
    (
        "save_program_draft",
        Object::SameUnit,
        [U, D, D, D, D, D, D, A, D, D, D, A],
    ),
    (
        "save_program_draft",
        Object::OtherRegion,
        [U, D, D, D, D, D, D, N, D, D, D, N],
    ),
    (
        "upload_media",
        Object::SameUnit,
        [U, D, D, D, D, D, D, A, D, D, D, A],
    ),
    (
        "upload_media",
        Object::OtherRegion,
        [U, D, D, D, D, D, D, N, D, D, D, N],
    ),
    (
        "review_program",
        Object::SameUnit,
        [U, D, D, D, D, D, D, A, A, D, D, A],
    ),
    (
        "review_program",
        Object::OtherRegion,
        [U, D, D, D, D, D, D, N, N, D, D, N],
    ),
    (
        "publish_program",
        Object::SameUnit,
        [U, D, D, D, D, D, D, D, A, D, D, D],
    ),
    (
        "publish_program",
        Object::OtherRegion,
        [U, D, D, D, D, D, D, D, N, D, D, D],
    ),
    (
        "program_partners",
        Object::SameUnit,
        [U, D, D, D, D, D, D, D, A, D, D, D],
    ),
    (
        "program_partners",
        Object::OtherRegion,
        [U, D, D, D, D, D, D, D, N, D, D, D],
    ),
    (
        "share_program",
        Object::SameUnit,
        [U, D, D, D, D, D, D, D, A, D, D, D],
    ),
    (
        "share_program",
        Object::OtherRegion,
        [U, D, D, D, D, D, D, D, N, D, D, D],
    ),
    (
        "unpublish_version",
        Object::SameUnit,
        [U, D, D, D, D, D, D, D, A, D, D, D],
    ),
    (
        "unpublish_version",
        Object::OtherRegion,
        [U, D, D, D, D, D, D, D, N, D, D, D],
    ),
    (
        "catalogue",
        Object::None,
        [U, D, D, D, D, A, D, D, D, D, D, D],
    ),
    (
        "activate_program",
        Object::SameUnit,
        [U, D, D, D, D, A, D, D, D, D, D, D],
    ),
    (
        "activate_program",
        Object::OtherRegion,
        [U, D, D, D, D, N, D, D, D, D, D, D],
    ),
    (
        "deactivate_program",
        Object::SameUnit,
        [U, D, D, D, D, A, D, D, D, D, D, D],
    ),
    (
        "deactivate_program",
        Object::OtherRegion,
        [U, D, D, D, D, N, D, D, D, D, D, D],
    ),
    (
        "upgrade_enrolments",
        Object::SameUnit,
        [U, D, D, D, D, A, D, D, D, D, D, D],
    ),
    (
        "upgrade_enrolments",
        Object::OtherRegion,
        [U, D, D, D, D, N, D, D, D, D, D, D],
    ),
    // Last: enrolment adds patients to unit A1, which rows above would list.
    (
        "enrolment_choices",
        Object::None,
        [U, D, A, D, D, D, D, D, D, A, A, D],
    ),
    (
        "enrol_patients",
        Object::SameUnit,
        [U, D, A, D, D, D, D, D, D, A, A, D],
    ),
    // A treatment's summary for the record is read by the unit's clinical staff.
    (
        "record_summary",
        Object::SameUnit,
        [U, D, A, D, D, D, D, D, D, A, A, D],
    ),
    (
        "record_summary",
        Object::OtherUnit,
        [U, D, D, D, D, D, D, D, D, D, D, D],
    ),
    (
        "record_summary",
        Object::OtherRegion,
        [U, D, N, D, D, D, D, D, D, N, N, D],
    ),
    (
        "record_summary",
        Object::Sandbox,
        [U, D, N, D, D, D, D, D, D, N, N, D],
    ),
    // Moving a treatment on is its care team's: not the patient administrator's, nor another
    // therapist's. Last: it changes the treatment rows above read (to maintenance: still
    // going on).
    (
        "change_treatment",
        Object::SameUnit,
        [U, D, A, D, D, D, D, D, D, D, D, D],
    ),
    (
        "change_treatment",
        Object::OtherUnit,
        [U, D, D, D, D, D, D, D, D, D, D, D],
    ),
    (
        "change_treatment",
        Object::OtherRegion,
        [U, D, N, D, D, D, D, D, D, D, N, D],
    ),
    (
        "change_treatment",
        Object::Sandbox,
        [U, D, N, D, D, D, D, D, D, D, N, D],
    ),
    // A module is opened early or hidden by a therapist on the care team.
    (
        "set_module",
        Object::SameUnit,
        [U, D, A, D, D, D, D, D, D, D, D, N],
    ),
    (
        "set_module",
        Object::OtherUnit,
        [U, D, D, D, D, D, D, D, D, D, D, N],
    ),
    (
        "set_module",
        Object::OtherRegion,
        [U, D, N, D, D, D, D, D, D, D, N, N],
    ),
    (
        "set_module",
        Object::Sandbox,
        [U, D, N, D, D, D, D, D, D, D, N, N],
    ),
    // The test from the therapist's side: the tester's own, nobody else's. (A tester calling
    // the therapist's changes reaches only their test enrolment: any other is not found.)
    (
        "test_as_therapist",
        Object::Own,
        [U, D, D, D, D, D, D, D, D, D, D, A],
    ),
    // An extra form is asked for, and withdrawn, by a therapist on the care team.
    (
        "request_form",
        Object::SameUnit,
        [U, D, A, D, D, D, D, D, D, D, D, N],
    ),
    (
        "request_form",
        Object::OtherUnit,
        [U, D, D, D, D, D, D, D, D, D, D, N],
    ),
    (
        "request_form",
        Object::OtherRegion,
        [U, D, N, D, D, D, D, D, D, D, N, N],
    ),
    (
        "request_form",
        Object::Sandbox,
        [U, D, N, D, D, D, D, D, D, D, N, N],
    ),
    (
        "withdraw_form",
        Object::SameUnit,
        [U, D, A, D, D, D, D, D, D, D, D, N],
    ),
    (
        "withdraw_form",
        Object::OtherUnit,
        [U, D, D, D, D, D, D, D, D, D, D, N],
    ),
    (
        "withdraw_form",
        Object::OtherRegion,
        [U, D, N, D, D, D, D, D, D, D, N, N],
    ),
    (
        "withdraw_form",
        Object::Sandbox,
        [U, D, N, D, D, D, D, D, D, D, N, N],
    ),
    // Internal notes are written by a therapist on the care team.
    (
        "add_note",
        Object::SameUnit,
        [U, D, A, D, D, D, D, D, D, D, D, D],
    ),
    (
        "add_note",
        Object::OtherUnit,
        [U, D, D, D, D, D, D, D, D, D, D, D],
    ),
    (
        "add_note",
        Object::OtherRegion,
        [U, D, N, D, D, D, D, D, D, D, N, D],
    ),
    (
        "add_note",
        Object::Sandbox,
        [U, D, N, D, D, D, D, D, D, D, N, D],
    ),
    // A flag is raised by hand by a therapist on the care team.
    (
        "raise_flag",
        Object::SameUnit,
        [U, D, A, D, D, D, D, D, D, D, D, D],
    ),
    (
        "raise_flag",
        Object::OtherUnit,
        [U, D, D, D, D, D, D, D, D, D, D, D],
    ),
    (
        "raise_flag",
        Object::OtherRegion,
        [U, D, N, D, D, D, D, D, D, D, N, D],
    ),
    (
        "raise_flag",
        Object::Sandbox,
        [U, D, N, D, D, D, D, D, D, D, N, D],
    ),
    // The care team is changed by the unit's patient administrator or a therapist on it.
    // A handover, by the unit's patient administrator or a therapist on the care team: let
    // in, and refused as input here (the version is active at no other unit of the provider).
    (
        "hand_over",
        Object::SameUnit,
        [U, D, V, D, D, D, D, D, D, V, D, D],
    ),
    (
        "hand_over",
        Object::OtherUnit,
        [U, D, D, D, D, D, D, D, D, D, D, D],
    ),
    (
        "hand_over",
        Object::OtherRegion,
        [U, D, N, D, D, D, D, D, D, N, N, D],
    ),
    (
        "hand_over",
        Object::Sandbox,
        [U, D, N, D, D, D, D, D, D, N, N, D],
    ),
    (
        "change_care_team",
        Object::SameUnit,
        [U, D, A, D, D, D, D, D, D, A, D, D],
    ),
    (
        "change_care_team",
        Object::OtherUnit,
        [U, D, D, D, D, D, D, D, D, D, D, D],
    ),
    (
        "change_care_team",
        Object::OtherRegion,
        [U, D, N, D, D, D, D, D, D, N, N, D],
    ),
    (
        "change_care_team",
        Object::Sandbox,
        [U, D, N, D, D, D, D, D, D, N, N, D],
    ),
];

/// Past the gate of a plain route: whatever the handler answers, but not the gate's refusal.
const X: u16 = 0;

/// Every plain route × object × caller (in the order of CALLERS). The object fills the path:
/// a patient of the caller's unit (402), of another unit of the provider (403), of another care
/// provider (404); the provider's own program (501) or another provider's (9502, whose title and
/// media file are canaries). A plain route's answer is checked for the canaries too.
const PLAIN_MATRIX: &[(&str, Object, [u16; 12])] = &[
    ("GET /healthz", Object::None, [X; 12]),
    ("GET /readyz", Object::None, [X; 12]),
    ("POST /sprak", Object::None, [X; 12]),
    ("POST /demo/start", Object::None, [X; 12]),
    ("POST /logga-ut", Object::None, [X; 12]),
    ("POST /login/{audience}", Object::None, [X; 12]),
    ("GET /login/{audience}/callback", Object::None, [X; 12]),
    ("POST /logga-in/uppdrag", Object::None, [X; 12]),
    (
        "GET /granskning/logg.csv",
        Object::None,
        [U, D, D, D, D, D, A, D, D, D, D, D],
    ),
    // The auditor searches for another provider's patient: an empty file.
    (
        "GET /granskning/logg.csv",
        Object::OtherRegion,
        [U, D, D, D, D, D, A, D, D, D, D, D],
    ),
    (
        "GET /mina-sidor/mina-uppgifter.json",
        Object::None,
        [U, A, D, D, D, D, D, D, D, D, D, A],
    ),
    (
        "POST /mottagning/patient/{id}/nodatkomst",
        Object::SameUnit,
        [U, D, A, D, D, D, D, D, D, D, X, D],
    ),
    // Emergency access reaches the provider's other units (inner secrecy), not another
    // care provider; it is a therapist's, not a patient administrator's.
    (
        "POST /mottagning/patient/{id}/nodatkomst",
        Object::OtherUnit,
        [U, D, A, D, D, D, D, D, D, D, X, D],
    ),
    (
        "POST /mottagning/patient/{id}/nodatkomst",
        Object::OtherRegion,
        [U, D, N, D, D, D, D, D, D, D, X, D],
    ),
    (
        "GET /media/{program_id}/{*path}",
        Object::Own,
        [U, A, A, A, A, A, A, A, A, A, A, A],
    ),
    (
        "GET /media/{program_id}/{*path}",
        Object::OtherRegion,
        [U, N, N, N, N, N, N, N, N, N, N, N],
    ),
    (
        "POST /program/importera",
        Object::None,
        [U, D, D, D, D, D, D, X, D, D, D, X],
    ),
    (
        "GET /program/{id}/paket/{version}",
        Object::Own,
        [U, D, D, D, D, D, D, A, A, D, D, A],
    ),
    (
        "GET /program/{id}/paket/{version}",
        Object::OtherRegion,
        [U, D, D, D, D, D, D, N, N, D, D, N],
    ),
    (
        "POST /program/{id}/testa",
        Object::Own,
        [U, D, D, D, D, D, D, X, X, D, D, X],
    ),
    (
        "POST /program/{id}/testa",
        Object::OtherRegion,
        [U, D, D, D, D, D, D, N, N, D, D, N],
    ),
    (
        "POST /testa/borja-om",
        Object::None,
        [U, D, D, D, D, D, D, D, D, D, D, X],
    ),
    (
        "POST /testa/avsluta",
        Object::None,
        [U, X, X, X, X, X, X, X, X, X, X, X],
    ),
    (
        "GET /mottagning/handelser",
        Object::None,
        [U, D, A, D, D, D, D, D, D, A, A, D],
    ),
];

/// A plain route's path and form body for `object` (see [`PLAIN_MATRIX`]).
fn plain_request(path: &str, object: Object) -> (String, String) {
    let (patient, program, file) = match object {
        Object::OtherUnit => ("403", "501", "a.png"),
        Object::OtherRegion => ("404", "9502", "b.png"),
        _ => ("402", "501", "a.png"),
    };
    let mut path = path
        .replace("{audience}", "patient")
        .replace("{id}/nodatkomst", &format!("{patient}/nodatkomst"))
        .replace("{id}", program)
        .replace("{program_id}", program)
        .replace("{*path}", file)
        .replace("{version}", "1.0");
    if path == "/granskning/logg.csv" && object == Object::OtherRegion {
        path.push_str("?patient=404");
    }
    let body = if path.ends_with("/nodatkomst") {
        "reason=Patienten+ringer+i+kris+och+teamet+n%C3%A5s+inte".to_owned()
    } else if path.ends_with("/testa") {
        "version=1.0".to_owned()
    } else {
        String::new()
    };
    (path, body)
}

/// What the plain routes could leak: another provider's program with a canary title and a
/// media file (and the provider's own, to show the wall is not merely closed), and access-log
/// rows about another provider's patient and a sandbox's patient, whose names are canaries.
async fn seed_plain_canaries(db: &DatabaseConnection, media: &app::programs::media::MediaStore) {
    db.execute_unprepared(
        "INSERT INTO program (id, owner_provider_id, title) VALUES (9502, 2, 'CANARY-PROGRAM-B'); \
         INSERT INTO program_version (id, program_id, major, minor, status) \
           VALUES (9602, 9502, 1, 0, 'published'); \
         UPDATE program_version SET content = (SELECT content FROM program_version WHERE id = 601), \
           content_hash = (SELECT content_hash FROM program_version WHERE id = 601) WHERE id = 9602; \
         UPDATE patient SET family_name = 'CANARY-PATIENT-404' WHERE id = 404",
    )
    .await
    .expect("program of region B");
    for (program, file, content) in [
        (501, "a.png", &b"MEDIA-A"[..]),
        (9502, "b.png", &b"CANARY-MEDIA-B"[..]),
    ] {
        let path = media.locate(program, file).expect("path");
        std::fs::create_dir_all(path.parent().expect("folder")).expect("folder");
        std::fs::write(path, [PNG_SIGNATURE, content].concat()).expect("media");
    }
    let sandbox = count(db, "SELECT MAX(sandbox_id) FROM patient").await;
    let sandbox_patient = count(
        db,
        &format!("SELECT MIN(id) FROM patient WHERE sandbox_id = {sandbox}"),
    )
    .await;
    let entry = |patient, unit: &str, provider: &str, sandbox_id| app::access_log::Entry {
        user_hsa_id: "SE-106".to_owned(),
        assignment_hsa_id: Some("SE-106-U".to_owned()),
        care_unit_hsa_id: Some(unit.to_owned()),
        care_provider_org_number: Some(provider.to_owned()),
        patient_id: Some(patient),
        action: app::access_log::Action::Read,
        object_type: "enrolment",
        object_id: None,
        outcome: app::access_log::Outcome::Allowed,
        reason: None,
        needs_follow_up: false,
        sandbox_id,
    };
    app::access_log::append_all(
        db,
        vec![
            entry(404, "SE2321000024-B1", "2321000024", None),
            // A row in region A's log about region B's patient (none is written today; an
            // older one must not name them).
            entry(404, "SE2321000016-A1", "2321000016", None),
            entry(
                sandbox_patient,
                "SE2321000016-A1",
                "2321000016",
                Some(sandbox),
            ),
            // One row the auditor of region A does see: the export is not merely empty.
            entry(402, "SE2321000016-A1", "2321000016", None),
        ],
    )
    .await
    .expect("log rows");
}

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

/// Strings of [`seed_plain_canaries`] that no allowed answer may carry.
const PLAIN_CANARIES: [&str; 3] = ["CANARY-PROGRAM-B", "CANARY-MEDIA-B", "CANARY-PATIENT-404"];

db_test!(authorization_matrix_covers_every_plain_route, |db| {
    world(&db).await;
    more_callers(&db).await;
    seed_canaries(&db).await;
    let mut state = AppState::with_defaults(db.clone());
    let media_dir = std::env::temp_dir().join(format!(
        "lotsen-plain-matrix-{}",
        app::auth::session::new_token().expect("name")
    ));
    state.media = app::programs::media::MediaStore::new(&media_dir);
    seed_plain_canaries(&db, &state.media).await;
    let router = crate::common::router_for(state);
    let routes: BTreeSet<String> = lotsen_server::plain_route_keys().into_iter().collect();
    let policies: BTreeSet<String> = app::auth::policy::ROUTES
        .iter()
        .map(|(r, _)| (*r).to_owned())
        .collect();
    let covered: BTreeSet<String> = PLAIN_MATRIX
        .iter()
        .map(|(r, _, _)| (*r).to_owned())
        .collect();
    assert_eq!(
        routes, policies,
        "plain routes without a policy row (or rows without a route)"
    );
    assert_eq!(routes, covered, "plain routes without a matrix row");
    let gate_refusal = "You may not do this.";
    let mut failures = Vec::new();
    let mut allowed_with_data = BTreeSet::new();
    for (route, object, expected) in PLAIN_MATRIX {
        let (method, path) = route.split_once(' ').expect("METHOD /path");
        let (path, body) = plain_request(path, *object);
        for (caller, expected) in CALLERS.iter().zip(expected) {
            let token = sign_in(&db, *caller).await;
            let request = if method == "POST" {
                post(&path, body.clone(), token.as_deref())
            } else {
                let mut request = Request::get(&path).header(header::HOST, "lotsen.test");
                if let Some(token) = &token {
                    request = request.header(header::COOKIE, format!("{SESSION_COOKIE}={token}"));
                }
                request.body(Body::empty()).expect("request")
            };
            // A live stream that was let in never ends: its status and headers are the answer.
            let answer = if path == "/mottagning/handelser" {
                send_head(&router, request).await
            } else {
                send(&router, request).await
            };
            let status = answer.status.as_u16();
            let by_gate = status == 401 || (status == 403 && answer.body.contains(gate_refusal));
            let right = match *expected {
                X => !by_gate,
                // Let in and answered (a redirect counts: the emergency grant leads to the record).
                A => status == 200 || status == 303,
                N => status == 404 && !by_gate,
                code => status == code && by_gate,
            };
            if !right {
                failures.push(format!(
                    "{route} {object:?} as {caller:?}: expected {expected}, got {status} {}",
                    answer.body
                ));
            }
            for canary in CANARIES.iter().chain(&PLAIN_CANARIES) {
                if answer.body.contains(canary) {
                    failures.push(format!(
                        "{route} {object:?} as {caller:?}: answered with {canary}: {}",
                        answer.body
                    ));
                }
            }
            if status == 200 {
                for own in ["MEDIA-A", "Olle", "Petra"] {
                    if answer.body.contains(own) {
                        allowed_with_data.insert(format!("{route} {object:?} {own}"));
                    }
                }
            }
        }
    }
    let _ = std::fs::remove_dir_all(&media_dir);
    // The auditor's search for another provider's patient shows the rows about them in the
    // provider's own log without their name or number: the one seeded, and the exports of it
    // (each patient an export shows is logged). Before, a search for any patient id was logged
    // under that id, and the next search named the patient.
    let token = sign_in(&db, Caller::Auditor).await.expect("token");
    let request = Request::get("/granskning/logg.csv?patient=404")
        .header(header::HOST, "lotsen.test")
        .header(header::COOKIE, format!("{SESSION_COOKIE}={token}"))
        .body(Body::empty())
        .expect("request");
    let export = send(&router, request).await;
    assert_eq!(export.status, StatusCode::OK);
    assert!(
        export.body.contains(r#","404","","read","allowed""#),
        "{}",
        export.body
    );
    assert!(
        !export.body.contains("CANARY-PATIENT-404") && !export.body.contains("191212121212"),
        "{}",
        export.body
    );
    assert!(
        failures.is_empty(),
        "{} cells wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // The walls are not merely closed: the same routes answer with the caller's own data.
    for seen in [
        "GET /media/{program_id}/{*path} Own MEDIA-A",
        "GET /granskning/logg.csv None Olle",
        "GET /mina-sidor/mina-uppgifter.json None Petra",
    ] {
        assert!(
            allowed_with_data.contains(seen),
            "no allowed answer showed {seen}: {allowed_with_data:?}"
        );
    }
});

/// A request's status and headers, and its body only when it is not a stream.
async fn send_head(router: &Router, request: Request<Body>) -> Answer {
    use tower::ServiceExt;
    let response = router.clone().oneshot(request).await.expect("infallible");
    if response.status() != StatusCode::OK {
        return crate::common::read(response).await;
    }
    Answer {
        status: response.status(),
        headers: response.headers().clone(),
        body: String::new(),
        bytes: Vec::new(),
    }
}

/// A fresh open flag on an enrolment, to acknowledge or resolve (a reason of its own: one
/// flag per reason is open at a time).
async fn flag_row(db: &DatabaseConnection, enrolment: i64) -> i64 {
    let n = count(db, "SELECT COUNT(*) FROM flag").await;
    db.execute_unprepared(&format!(
        "INSERT INTO flag (enrolment_id, kind, priority, reason, raised_at) \
         VALUES ({enrolment}, 'manual', 'warning', 'matrix-{n}', CURRENT_TIMESTAMP)"
    ))
    .await
    .expect("flag");
    count(db, "SELECT MAX(id) FROM flag").await
}

/// A fresh grant to revoke.
async fn grant_row(
    db: &DatabaseConnection,
    staff: i64,
    provider: i64,
    unit: i64,
    role: &str,
) -> i64 {
    db.execute_unprepared(&format!(
        "INSERT INTO staff_role (staff_person_id, care_provider_id, care_unit_id, role, granted_at) \
         VALUES ({staff}, {provider}, {unit}, '{role}', CURRENT_TIMESTAMP)"
    ))
    .await
    .expect("grant");
    count(db, "SELECT MAX(id) FROM staff_role").await
}

/// A fresh program with a draft ready to publish, in region A (same unit) or region B.
const V1_0: app::programs::version::VersionNumber =
    app::programs::version::VersionNumber { major: 1, minor: 0 };

async fn program_arguments(
    db: &DatabaseConnection,
    function: &str,
    object: Object,
) -> Option<String> {
    use app::programs::{Rules, store};
    const PROGRAM_FUNCTIONS: [&str; 14] = [
        "my_programs",
        "create_program",
        "program_draft",
        "save_program_draft",
        "upload_media",
        "review_program",
        "publish_program",
        "program_partners",
        "share_program",
        "unpublish_version",
        "catalogue",
        "activate_program",
        "deactivate_program",
        "upgrade_enrolments",
    ];
    if !PROGRAM_FUNCTIONS.contains(&function) {
        return None;
    }
    let provider_id = match object {
        Object::SameUnit => 1,
        Object::OtherRegion => 2,
        _ => {
            return match function {
                "create_program" => Some("title=Nytt+program".to_owned()),
                _ => Some(String::new()),
            };
        }
    };
    let scope = store::Scope {
        provider_id,
        sandbox_id: None,
    };
    let rules = Rules::default();
    let id = store::create(db, scope, None, "Program", &rules)
        .await
        .expect("program")
        .program_id;
    let program = app::testing::small_program("Program");
    store::save(db, scope, id, 0, program.clone(), &rules)
        .await
        .expect("draft");
    // The catalogue's functions work on a published version (1.0), and, for the care-provider
    // administrator of region A, on a unit of region A or B.
    let unit = if provider_id == 1 { 11 } else { 21 };
    if [
        "unpublish_version",
        "activate_program",
        "deactivate_program",
        "upgrade_enrolments",
    ]
    .contains(&function)
    {
        let publication = app::testing::major_publication();
        store::publish(db, scope, id, 1, &publication, &rules)
            .await
            .expect("publish");
    }
    if function == "deactivate_program" || function == "upgrade_enrolments" {
        app::catalogue::store::activate(db, scope, id, V1_0, unit, None)
            .await
            .expect("activate");
        let activation = count(db, "SELECT MAX(id) FROM program_activation").await;
        return Some(format!("activation_id={activation}"));
    }
    Some(match function {
        "share_program" => format!("program_id={id}&provider_id={}&share=true", 3 - provider_id),
        "unpublish_version" => format!("program_id={id}&major=1&minor=0"),
        // Region B's program is not shared with region A: not found, even on A's own unit.
        "activate_program" => format!("program_id={id}&version=1.0&unit_id=11"),
        "save_program_draft" => serde_json::json!({
            "program_id": id,
            "revision": 1,
            "program": program,
        })
        .to_string(),
        "publish_program" => {
            format!("program_id={id}&revision=1&bump=major&release_notes=F%C3%B6rsta")
        }
        // A GIF is plain ASCII at its start: the whole form fits in a string.
        "upload_media" => format!(
            "--{MULTIPART_BOUNDARY}\r\nContent-Disposition: form-data; name=\"program_id\"\r\n\r\n{id}\r\n\
             --{MULTIPART_BOUNDARY}\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\nimage\r\n\
             --{MULTIPART_BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.gif\"\r\n\
             Content-Type: image/gif\r\n\r\nGIF89a\x01\x00\x01\x00\r\n--{MULTIPART_BOUNDARY}--\r\n"
        ),
        _ => format!("program_id={id}"),
    })
}

async fn arguments(
    db: &DatabaseConnection,
    function: &str,
    caller: Caller,
    object: Object,
) -> String {
    if let Some(arguments) = program_arguments(db, function, object).await {
        return arguments;
    }
    // A demo sandbox's first patient and their treatment.
    let sandboxed = match object {
        Object::Sandbox => {
            let patient = count(
                db,
                "SELECT MIN(id) FROM patient WHERE sandbox_id IS NOT NULL",
            )
            .await;
            let enrolment = count(
                db,
                &format!("SELECT MIN(id) FROM enrolment WHERE patient_id = {patient}"),
            )
            .await;
            (patient, enrolment)
        }
        _ => (0, 0),
    };
    // The patient's own enrolment (701), another patient's at A2 (703) or in region B (704);
    // the tester's own is their test enrolment.
    let enrolment = match object {
        Object::OtherUnit => 703,
        Object::OtherRegion => 704,
        Object::Sandbox => sandboxed.1,
        _ if caller == Caller::Tester => {
            count(
                db,
                "SELECT MAX(id) FROM enrolment WHERE test_by_staff_id = 107",
            )
            .await
        }
        _ => 701,
    };
    // Patients 402, 403 and 404 and their enrolments, for staff.
    let (patient, staff_enrolment) = match object {
        Object::OtherUnit => (403, 703),
        Object::OtherRegion => (404, 704),
        Object::Sandbox => sandboxed,
        _ => (402, 702),
    };
    let key = app::auth::session::new_token().expect("key");
    match function {
        "my_messages" | "my_results" => return format!("enrolment={enrolment}"),
        "dashboard" if object == Object::Own => return "mine=true".to_owned(),
        "request_contact_code" => return "channel=email&address=petra%40example.se".to_owned(),
        "confirm_contact_code" => return "channel=email&code=123456".to_owned(),
        "send_message" => return format!("enrolment={enrolment}&body=Hej&submit_key={key}"),
        "reply_message" => {
            return format!(
                "patient_id={patient}&enrolment={staff_enrolment}&body=Hej&submit_key={key}"
            );
        }
        "save_homework" => {
            return format!(
                "enrolment={enrolment}&place=block%3Am4%2Fp5%2Fdiary&submit_key={key}&intent=submit\
                 &fields%5Bnight%5D=2026-11-29"
            );
        }
        "record_summary" => return format!("patient_id={patient}&enrolment={staff_enrolment}"),
        // The responsible therapist joining again: allowed, and changes nothing later rows see.
        "change_care_team" => {
            return format!(
                "patient_id={patient}&enrolment={staff_enrolment}&action=add&staff_person_id=101"
            );
        }
        // The first module is open anyway: opening it early changes nothing later rows see.
        "set_module" => {
            return format!(
                "patient_id={patient}&enrolment={staff_enrolment}&module=m1&action=unlock"
            );
        }
        "add_note" => {
            return format!("patient_id={patient}&enrolment={staff_enrolment}&body=Anteckning");
        }
        "raise_flag" => {
            return format!(
                "patient_id={patient}&enrolment={staff_enrolment}&reason=manual_contact\
                 &priority=warning&note=Ring+upp"
            );
        }
        // Asked for once (by the therapist), and withdrawn in the next rows.
        "test_as_therapist" => return String::new(),
        "hand_over" => {
            return format!("patient_id={patient}&enrolment={staff_enrolment}&unit_id=12");
        }
        "request_form" => {
            return format!(
                "patient_id={patient}&enrolment={staff_enrolment}&questionnaire=phq&days=7"
            );
        }
        "withdraw_form" => {
            return format!("patient_id={patient}&enrolment={staff_enrolment}&schedule=extra.phq");
        }
        "change_treatment" => {
            return format!("patient_id={patient}&enrolment={staff_enrolment}&to=maintenance");
        }
        "give_feedback" => {
            return format!(
                "patient_id={patient}&enrolment={staff_enrolment}&module=m1&body=Bra&submit_key={key}"
            );
        }
        // A new person for each caller, on version 601, active at unit A1 from the first call.
        "enrol_patients" => {
            db.execute_unprepared(
                "INSERT INTO program_activation (program_version_id, care_unit_id, activated_at) \
                 SELECT 601, 11, CURRENT_TIMESTAMP WHERE NOT EXISTS \
                   (SELECT 1 FROM program_activation WHERE program_version_id = 601 \
                    AND care_unit_id = 11 AND deactivated_at IS NULL)",
            )
            .await
            .expect("activation");
            let number = match caller {
                Caller::Therapist => "198505051238",
                Caller::PatientAdministrator => "198505051246",
                _ => "198505051253",
            };
            return format!("patients={number}&version_id=601&responsible_staff_id=101");
        }
        "my_treatment" => return format!("enrolment={enrolment}"),
        "my_due_form" => return format!("enrolment={enrolment}&schedule=gad-weekly"),
        "my_page" => return format!("enrolment={enrolment}&module=m1&step=p1"),
        "answer_form" => {
            return format!(
                "enrolment={enrolment}&place=block%3Am1%2Fp2%2Fphq&submit_key={}&intent=save\
                 &answers%5Bphq9_1%5D=1",
                "a".repeat(64)
            );
        }
        _ => {}
    }
    if function == "acknowledge_flag" || function == "resolve_flag" {
        let enrolment = match object {
            Object::SameUnit => 702,
            Object::OtherUnit => 703,
            Object::Sandbox => sandboxed.1,
            _ => 704,
        };
        return format!("flag_id={}&comment=Klart", flag_row(db, enrolment).await);
    }
    match (function, object) {
        // A role the therapist's clinical role already implies: later rows stay as they are.
        ("grant_role", Object::SameUnit) => {
            return "staff_person_id=101&role=patient_admin".to_owned();
        }
        ("grant_role", Object::OtherRegion) => {
            return "staff_person_id=106&role=producer".to_owned();
        }
        ("revoke_role", Object::SameUnit) => {
            return format!(
                "grant_id={}",
                grant_row(db, 101, 1, 11, "patient_admin").await
            );
        }
        ("revoke_role", Object::OtherRegion) => {
            return format!("grant_id={}", grant_row(db, 106, 2, 21, "producer").await);
        }
        // Opening an open unit changes nothing that later rows depend on.
        ("set_unit_active", Object::SameUnit) => return "unit_id=12&active=true".to_owned(),
        ("set_crisis_info", Object::SameUnit) => {
            return "unit_id=12&crisis_info=Ring+010-123+45+67".to_owned();
        }
        ("set_crisis_info", Object::OtherRegion) => {
            return "unit_id=21&crisis_info=Ring+010-123+45+67".to_owned();
        }
        ("set_unit_active", Object::OtherRegion) => return "unit_id=21&active=true".to_owned(),
        ("appoint_access_admin", Object::SameUnit) => {
            return "unit_id=11&staff_person_id=102".to_owned();
        }
        ("appoint_access_admin", Object::OtherRegion) => {
            return "unit_id=21&staff_person_id=106".to_owned();
        }
        ("remove_access_admin", Object::SameUnit) => {
            return format!(
                "grant_id={}",
                grant_row(db, 102, 1, 12, "access_admin").await
            );
        }
        ("remove_access_admin", Object::OtherRegion) => {
            return format!(
                "grant_id={}",
                grant_row(db, 106, 2, 21, "access_admin").await
            );
        }
        _ => {}
    }
    match object {
        Object::None => String::new(),
        Object::Own => match subject(caller) {
            // A second session of the same user, to end.
            Some(subject) => {
                let token =
                    session::create(db, &SessionConfig::default(), subject, None, None, None)
                        .await
                        .expect("session");
                let id = count(
                    db,
                    &format!(
                        "SELECT id FROM user_session WHERE token_hash = '{}'",
                        session::hash_token(&token)
                    ),
                )
                .await;
                format!("session_id={id}&patient_id=401")
            }
            None => "session_id=1&patient_id=401".to_owned(),
        },
        Object::SameUnit => "patient_id=402".to_owned(),
        Object::OtherUnit => "patient_id=403".to_owned(),
        Object::OtherRegion => "patient_id=404".to_owned(),
        Object::Sandbox => format!("patient_id={}", sandboxed.0),
        Object::OtherUser => {
            let token = session::create(
                db,
                &SessionConfig::default(),
                Subject::Patient { patient_id: 404 },
                None,
                None,
                None,
            )
            .await
            .expect("session");
            let id = count(
                db,
                &format!(
                    "SELECT id FROM user_session WHERE token_hash = '{}'",
                    session::hash_token(&token)
                ),
            )
            .await;
            format!("session_id={id}")
        }
    }
}

/// Strings that no allowed answer in the matrix may carry: the therapist-internal notes of
/// patient 401's treatment at another unit and at another care provider, of other units'
/// patients, and the names and notes of a demo sandbox's patients.
const CANARIES: [&str; 5] = [
    "CANARY-NOTE-A2",
    "CANARY-NOTE-B1",
    "CANARY-NOTE-403",
    "CANARY-NOTE-404",
    "Kanariesand",
];

/// The callers the two-region world lacks: a patient administrator and a therapist off the
/// care team, both in care assignments at unit A1. Patient 401's team is Tove (101).
async fn more_callers(db: &DatabaseConnection) {
    for statement in [
        "INSERT INTO staff_person (id, given_name, family_name) VALUES (120, 'Ines', 'Invånaradmin'), (121, 'Tor', 'Teamlös')",
        "INSERT INTO staff_hsa_identity (id, staff_person_id, hsa_id) VALUES (220, 120, 'SE-120'), (221, 121, 'SE-121')",
        "INSERT INTO staff_assignment (id, staff_hsa_identity_id, care_unit_id, commission_hsa_id, commission_name, commission_purpose) VALUES \
           (320, 220, 11, 'SE-120-U', 'V', 'Vård och behandling'), (321, 221, 11, 'SE-121-U', 'V', 'Vård och behandling')",
        "INSERT INTO staff_role (staff_person_id, care_provider_id, care_unit_id, role, granted_at) VALUES \
           (120, 1, 11, 'patient_admin', CURRENT_TIMESTAMP), (121, 1, 11, 'therapist', CURRENT_TIMESTAMP)",
        "UPDATE enrolment SET responsible_staff_id = 101 WHERE id IN (701, 702)",
        "INSERT INTO enrolment_therapist (enrolment_id, staff_person_id) VALUES (701, 101), (702, 101)",
    ] {
        db.execute_unprepared(statement).await.expect("callers");
    }
}

async fn seed_canaries(db: &DatabaseConnection) {
    let sandbox = app::demo::sandbox::create(
        db,
        &app::demo::sandbox::DemoConfig::default(),
        chrono::Duration::hours(1),
    )
    .await
    .expect("sandbox");
    for statement in [
        "INSERT INTO enrolment (id, patient_id, program_version_id, care_unit_id, state, started_at, internal_note) VALUES \
           (7705, 401, 601, 12, 'active', CURRENT_TIMESTAMP, 'CANARY-NOTE-A2'), \
           (7706, 401, 601, 21, 'active', CURRENT_TIMESTAMP, 'CANARY-NOTE-B1')".to_owned(),
        "UPDATE enrolment SET internal_note = 'CANARY-NOTE-403' WHERE id = 703".to_owned(),
        "UPDATE enrolment SET internal_note = 'CANARY-NOTE-404' WHERE id = 704".to_owned(),
        format!("UPDATE patient SET family_name = 'Kanariesand' WHERE sandbox_id = {sandbox}"),
        format!("UPDATE enrolment SET internal_note = 'Kanariesand' WHERE sandbox_id = {sandbox}"),
        // The sandbox's first treatment at the real unit A1: only the sandbox keeps it from the
        // unit's staff (a sandbox has units of its own, which would refuse them anyway).
        format!(
            "UPDATE enrolment SET care_unit_id = 11 WHERE id = \
               (SELECT MIN(id) FROM enrolment WHERE patient_id = \
                 (SELECT MIN(id) FROM patient WHERE sandbox_id = {sandbox}))"
        ),
    ] {
        db.execute_unprepared(&statement).await.expect("canary");
    }
    assert!(
        count(
            db,
            &format!("SELECT COUNT(*) FROM patient WHERE sandbox_id = {sandbox}")
        )
        .await
            > 0
    );
}

db_test!(authorization_matrix_covers_every_server_function, |db| {
    world(&db).await;
    more_callers(&db).await;
    seed_canaries(&db).await;
    // Every cell comes from one address: more than its write limit allows (tested below); and
    // the producer calls every function twice (as themselves and testing as a patient), more
    // than one user's limit allows.
    let router = limited_app(
        db.clone(),
        LimitConfig {
            writes_per_address: Rate {
                per_minute: 600,
                burst: 10_000,
            },
            writes_per_user: Rate {
                per_minute: 300,
                burst: 1_000,
            },
            ..LimitConfig::default()
        },
    );

    // Every registered server function has rows in the matrix, and every row names one.
    let registered: BTreeSet<String> = leptos::server_fn::axum::server_fn_paths()
        .map(|(path, _)| path.trim_start_matches("/api/").to_owned())
        .collect();
    let covered: BTreeSet<String> = MATRIX.iter().map(|(f, _, _)| (*f).to_owned()).collect();
    assert_eq!(
        registered, covered,
        "server functions without a matrix row (or rows without a function)"
    );
    let policies: BTreeSet<String> = app::auth::policy::POLICY
        .iter()
        .map(|(f, _)| (*f).to_owned())
        .collect();
    assert_eq!(
        registered, policies,
        "server functions without a policy row"
    );

    let mut failures = Vec::new();
    for (function, object, expected) in MATRIX {
        for (caller, expected) in CALLERS.iter().zip(expected) {
            let token = sign_in(&db, *caller).await;
            let body = arguments(&db, function, *caller, *object).await;
            let answer = send(
                &router,
                post(&format!("/api/{function}"), body, token.as_deref()),
            )
            .await;
            if answer.status.as_u16() != *expected {
                failures.push(format!(
                    "{function} {object:?} as {caller:?}: expected {expected}, got {} {}",
                    answer.status, answer.body
                ));
            }
            for canary in CANARIES {
                if answer.body.contains(canary) {
                    failures.push(format!(
                        "{function} {object:?} as {caller:?}: answered with {canary}: {}",
                        answer.body
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} cells wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );

    // Reads of patient data by staff were logged: allowed at A1 (401, 402, and the two listed
    // by unit_patients), refused at A2, for each of the three clinical callers; nothing about
    // region B.
    let allowed = count(
        &db,
        "SELECT COUNT(*) FROM access_log WHERE outcome = 'allowed' AND user_hsa_id = 'SE-101'",
    )
    .await;
    let refused = count(
        &db,
        "SELECT COUNT(*) FROM access_log WHERE outcome = 'refused' AND patient_id = 403",
    )
    .await;
    let region_b = count(
        &db,
        "SELECT COUNT(*) FROM access_log WHERE patient_id = 404",
    )
    .await;
    // reply_message adds a write at A1 by each of the three clinical callers, and three refusals
    // for patient 403; give_feedback a write by the therapist and two refusals (the therapists);
    // enrol_patients a write for the person the therapist enrolled; the dashboard a list row
    // for each of the unit's two patients, and her own caseload (`mine=true`, a new session)
    // one again for each, both on her care team; acknowledge_flag and resolve_flag a write each;
    // record_summary a read by the therapist and three refusals at A2 (the clinical callers);
    // change_treatment a write by the therapist and two refusals (the therapists);
    // change_care_team a write by the therapist and three refusals (the clinical callers);
    // add_note, raise_flag, set_module, request_form and withdraw_form a write by the therapist
    // and two refusals (the therapists) each; hand_over a write by the therapist and three refusals
    // (the clinical callers).
    assert_eq!((allowed, refused, region_b), (22, 29, 0));
    // The therapist off the care team is let write at patient 402 only what the unit's
    // clinical staff may (a reply in the care team's thread, a flag acknowledged and
    // resolved): each of the nine changes of the treatment they tried (feedback, a module, an
    // extra form asked for and withdrawn, the phase, a note, a flag, a handover, the care team) is
    // logged as a refused write, none as an allowed one.
    let off_team = |outcome: &str| {
        format!(
            "SELECT COUNT(*) FROM access_log WHERE user_hsa_id = 'SE-121' AND patient_id = 402 \
             AND action = 'write' AND outcome = '{outcome}'"
        )
    };
    assert_eq!(
        (
            count(&db, &off_team("allowed")).await,
            count(&db, &off_team("refused")).await
        ),
        (3, 9)
    );
    // And the auditor's search, one row for each patient it showed (401, 402 and 403).
    let searches = count(
        &db,
        "SELECT COUNT(*) FROM access_log WHERE action = 'search'",
    )
    .await;
    assert_eq!(searches, 3);
    let report = app::access_log::verify(&db).await.expect("verify");
    assert_eq!((report.rows, report.broken), (85, None));
});

db_test!(patients_never_receive_therapist_internal_notes, |db| {
    world(&db).await;
    let router = app(db.clone());
    let patient = sign_in(&db, Caller::Patient).await;
    let own = send(
        &router,
        post("/api/my_care", String::new(), patient.as_deref()),
    )
    .await;
    assert_eq!(own.status, StatusCode::OK);
    assert!(own.body.contains("Program"), "{}", own.body);
    assert!(!own.body.contains("INTERNAL-NOTE-701"), "{}", own.body);
    let therapist = sign_in(&db, Caller::Therapist).await;
    let record = send(
        &router,
        post(
            "/api/patient_record",
            "patient_id=401".into(),
            therapist.as_deref(),
        ),
    )
    .await;
    assert!(record.body.contains("INTERNAL-NOTE-701"), "{}", record.body);
    // Nor do patient administrators: they start and oversee treatment, and read no notes.
    more_callers(&db).await;
    let administrator = sign_in(&db, Caller::PatientAdministrator).await;
    let record = send(
        &router,
        post(
            "/api/patient_record",
            "patient_id=401".into(),
            administrator.as_deref(),
        ),
    )
    .await;
    assert_eq!(record.status, StatusCode::OK, "{}", record.body);
    assert!(record.body.contains("Petra"), "{}", record.body);
    assert!(
        !record.body.contains("INTERNAL-NOTE-701"),
        "{}",
        record.body
    );

    // And the patient sees who read their data: the unit and, for a region, the name.
    let seen = send(
        &router,
        post("/api/who_read_my_data", String::new(), patient.as_deref()),
    )
    .await;
    assert!(
        seen.body.contains("Enhet A1") && seen.body.contains("Tove Terapeut"),
        "{}",
        seen.body
    );
});

db_test!(sessions_end_when_idle_too_long_or_too_old, |db| {
    world(&db).await;
    let router = app(db.clone());
    for (column, value) in [
        ("last_seen_at", "2000-01-01T00:00:00+00:00"),
        ("absolute_expiry", "2000-01-01T00:00:00+00:00"),
    ] {
        let token = sign_in(&db, Caller::Patient).await.expect("token");
        let before = send(&router, post("/api/whoami", String::new(), Some(&token))).await;
        assert!(before.body.contains("Petra Patient"), "{}", before.body);
        db.execute_unprepared(&format!(
            "UPDATE user_session SET {column} = '{value}' WHERE token_hash = '{}'",
            session::hash_token(&token)
        ))
        .await
        .expect("age the session");
        let after = send(&router, post("/api/whoami", String::new(), Some(&token))).await;
        assert!(
            after.body.contains("\"me\":null"),
            "{column}: {}",
            after.body
        );
        let cleared = after.headers.get_all(header::SET_COOKIE).iter().any(|v| {
            v.to_str()
                .is_ok_and(|v| v.starts_with(SESSION_COOKIE) && v.contains("Max-Age=0"))
        });
        assert!(
            cleared,
            "{column}: the browser is told to forget the cookie"
        );
        let rows = count(
            &db,
            &format!(
                "SELECT COUNT(*) FROM user_session WHERE token_hash = '{}'",
                session::hash_token(&token)
            ),
        )
        .await;
        assert_eq!(rows, 0, "{column}: the session is gone on the server");
    }
});

/// Waits up to five seconds for `done`.
async fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..500 {
        if done() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("not within 5 s: {what}");
}

/// The unit's patient list, as `token`'s user, through `router`.
async fn list(router: &Router, token: &str) -> Answer {
    send(
        router,
        post("/api/unit_patients", String::new(), Some(token)),
    )
    .await
}

/// Two instances of Lotsen on one database, each with its own session cache, reached without
/// the tests' barrier (`common::router_for`): what the cache alone does.
fn instance(db: &DatabaseConnection) -> (Router, app::auth::cache::SessionCache) {
    let state = AppState::with_defaults(db.clone());
    let cache = state.session_cache.clone();
    (router(state), cache)
}

db_test!(
    the_session_cache_hears_role_removals_and_sign_outs_of_every_instance,
    |db| {
        world(&db).await;
        let postgres = db.get_database_backend() == sea_orm::DbBackend::Postgres;
        let (one, cache) = instance(&db);
        let (two, _) = instance(&db);
        let token = sign_in(&db, Caller::Therapist).await.expect("token");
        assert_eq!(list(&one, &token).await.status, StatusCode::OK);
        // PostgreSQL: the first request started the listener; the cache is off until it listens.
        eventually("the cache is on", || cache.is_on(&db)).await;
        assert_eq!(list(&one, &token).await.status, StatusCode::OK);
        let hits = cache.hits();
        let in_place = cache.reads_in_place();
        assert_eq!(list(&one, &token).await.status, StatusCode::OK);
        assert_eq!(
            cache.hits(),
            hits + 1,
            "a signed-in request answered from the cache"
        );
        // SQLite: the hit read the session row and the change counter through the cache's own
        // connection to the file, on the request's thread.
        assert_eq!(
            cache.reads_in_place(),
            in_place + u64::from(!postgres),
            "SQLite's hit read in place"
        );

        // The therapist role is revoked elsewhere (another instance, an operator): the next check
        // loads the person again and is refused. (PostgreSQL: once the notification is heard,
        // which the barrier waits for; SQLite reads the change counter with the session.)
        db.execute_unprepared(
            "UPDATE staff_role SET revoked_at = CURRENT_TIMESTAMP \
         WHERE staff_person_id = 101 AND role = 'therapist'",
        )
        .await
        .expect("revoke");
        if postgres {
            cache.barrier(&db).await.expect("barrier");
        }
        let hits = cache.hits();
        assert_eq!(list(&one, &token).await.status, StatusCode::FORBIDDEN);
        assert_eq!(
            cache.hits(),
            hits,
            "the revoked role was not answered from the cache"
        );
        db.execute_unprepared(
            "UPDATE staff_role SET revoked_at = NULL WHERE staff_person_id = 101",
        )
        .await
        .expect("grant again");
        if postgres {
            cache.barrier(&db).await.expect("barrier");
        }
        assert_eq!(list(&one, &token).await.status, StatusCode::OK);
        assert_eq!(list(&one, &token).await.status, StatusCode::OK);

        // Signed out through the other instance: this one no longer knows the token.
        let out = send(&two, post("/logga-ut", String::new(), Some(&token))).await;
        assert_eq!(out.status, StatusCode::SEE_OTHER);
        if postgres {
            cache.barrier(&db).await.expect("barrier");
        }
        assert_eq!(list(&one, &token).await.status, StatusCode::UNAUTHORIZED);

        // A session aged past its idle limit in the database is not kept alive by the cache.
        let token = sign_in(&db, Caller::Therapist).await.expect("token");
        assert_eq!(list(&one, &token).await.status, StatusCode::OK);
        assert_eq!(list(&one, &token).await.status, StatusCode::OK);
        db.execute_unprepared(&format!(
            "UPDATE user_session SET last_seen_at = '2000-01-01T00:00:00+00:00' \
         WHERE token_hash = '{}'",
            session::hash_token(&token)
        ))
        .await
        .expect("age");
        if postgres {
            cache.barrier(&db).await.expect("barrier");
        }
        assert_eq!(list(&one, &token).await.status, StatusCode::UNAUTHORIZED);
    }
);

/// PostgreSQL: with its listener's connection cut, the cache turns itself off (a role removed
/// meanwhile is seen at once, with no notification to hear), and on again when it listens.
#[test]
fn the_session_cache_is_off_while_its_listener_is_down() {
    app::testing::runtime().block_on(async {
        let Some(t) = app::testing::TestDb::postgres().await else {
            return;
        };
        let db = t.db.clone();
        world(&db).await;
        let (one, cache) = instance(&db);
        let token = sign_in(&db, Caller::Therapist).await.expect("token");
        assert_eq!(list(&one, &token).await.status, StatusCode::OK);
        eventually("the cache is on", || cache.is_on(&db)).await;
        assert_eq!(list(&one, &token).await.status, StatusCode::OK);
        assert_eq!(list(&one, &token).await.status, StatusCode::OK);
        let cut = db
            .execute_unprepared(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE datname = current_database() AND query LIKE '%lotsen_auth%' \
                 AND pid <> pg_backend_pid()",
            )
            .await
            .expect("terminate");
        assert_eq!(cut.rows_affected(), 1, "the listener's backend");
        eventually("the cache is off", || !cache.is_on(&db)).await;
        db.execute_unprepared(
            "UPDATE staff_role SET revoked_at = CURRENT_TIMESTAMP \
             WHERE staff_person_id = 101 AND role = 'therapist'",
        )
        .await
        .expect("revoke");
        let hits = cache.hits();
        // Whether or not it is listening again by now, this is not answered from before.
        assert_eq!(list(&one, &token).await.status, StatusCode::FORBIDDEN);
        eventually("the cache is on again", || cache.is_on(&db)).await;
        assert_eq!(list(&one, &token).await.status, StatusCode::FORBIDDEN);
        assert_eq!(list(&one, &token).await.status, StatusCode::FORBIDDEN);
        assert!(cache.hits() > hits, "answered from the cache again");
        t.finish().await;
    });
}

db_test!(signing_out_ends_the_session_and_clears_site_data, |db| {
    world(&db).await;
    let router = app(db.clone());
    let token = sign_in(&db, Caller::Therapist).await.expect("token");
    let out = send(&router, post("/logga-ut", String::new(), Some(&token))).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert!(
        out.headers["clear-site-data"]
            .to_str()
            .expect("ascii")
            .contains("\"cookies\"")
    );
    let again = send(
        &router,
        post("/api/unit_patients", String::new(), Some(&token)),
    )
    .await;
    assert_eq!(again.status, StatusCode::UNAUTHORIZED);
    // The session cookie is a __Host- cookie: Secure, HttpOnly, SameSite, host-only.
    let entered = send(
        &router,
        post("/demo/start", "persona=therapist".into(), None),
    )
    .await;
    let cookie = entered.headers[header::SET_COOKIE]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(cookie.starts_with("__Host-lotsen_session="), "{cookie}");
    for attribute in ["Path=/", "Secure", "HttpOnly", "SameSite=Lax"] {
        assert!(cookie.contains(attribute), "{attribute} in {cookie}");
    }
    assert!(!cookie.contains("Domain"), "{cookie}");
});

db_test!(state_changes_from_other_sites_are_refused, |db| {
    let router = app(db.clone());
    let cases: [(&[(&str, &str)], StatusCode); 5] = [
        (&[("sec-fetch-site", "cross-site")], StatusCode::FORBIDDEN),
        (&[("sec-fetch-site", "same-site")], StatusCode::FORBIDDEN),
        (&[("origin", "https://evil.test")], StatusCode::FORBIDDEN),
        (&[], StatusCode::FORBIDDEN),
        (&[("origin", "https://lotsen.test")], StatusCode::SEE_OTHER),
    ];
    for (headers, expected) in cases {
        let mut request = Request::post("/sprak")
            .header(header::HOST, "lotsen.test")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let answer = send(
            &router,
            request.body(Body::from("lang=en&next=/")).expect("request"),
        )
        .await;
        assert_eq!(answer.status, expected, "{headers:?}: {}", answer.body);
        if expected == StatusCode::FORBIDDEN {
            assert!(
                answer.headers.get(header::SET_COOKIE).is_none(),
                "nothing changed"
            );
        }
    }
    // Demo entrance and server functions follow the same rule.
    let mut request = post("/demo/start", "persona=patient".into(), None);
    request
        .headers_mut()
        .insert("sec-fetch-site", "cross-site".parse().expect("header"));
    assert_eq!(send(&router, request).await.status, StatusCode::FORBIDDEN);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM demo_sandbox").await, 0);
});

/// The therapist opens these patients' records, one after the other.
async fn read_records(router: &Router, token: Option<&str>, patients: &[i64]) {
    for patient in patients {
        send(
            router,
            post(
                "/api/patient_record",
                format!("patient_id={patient}"),
                token,
            ),
        )
        .await;
    }
}

/// Runs the real `lotsen` binary on the test database: whether it succeeded, what it printed.
fn lotsen(url: &str, args: &[&str]) -> (bool, String) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_lotsen"))
        .args(args)
        .args(["--database-url", url])
        .env("LOTSEN_LOG_FORMAT", "text")
        .output()
        .expect("run lotsen");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

db_test!(
    tampering_with_one_log_row_is_named_by_audit_verify,
    |db, url| {
        world(&db).await;
        let router = app(db.clone());
        let therapist = sign_in(&db, Caller::Therapist).await;
        read_records(&router, therapist.as_deref(), &[401, 402, 403, 401, 402]).await;
        let (ok, stdout) = lotsen(&url, &["audit", "verify"]);
        assert!(ok, "{stdout}");
        assert!(stdout.contains("5 row(s)"), "{stdout}");

        let third: i64 = count(
            &db,
            "SELECT id FROM access_log ORDER BY id LIMIT 1 OFFSET 2",
        )
        .await;
        let tamper = format!("UPDATE access_log SET outcome = 'allowed' WHERE id = {third}");
        if db.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
            // The database itself refuses; a superuser must switch the trigger off to tamper.
            assert!(db.execute_unprepared(&tamper).await.is_err());
            db.execute_unprepared("ALTER TABLE access_log DISABLE TRIGGER USER")
                .await
                .expect("disable");
        }
        db.execute_unprepared(&tamper).await.expect("tamper");
        let (ok, stdout) = lotsen(&url, &["audit", "verify"]);
        assert!(!ok, "{stdout}");
        assert!(stdout.contains(&format!("row id {third}:")), "{stdout}");
        assert!(stdout.contains("content does not match"), "{stdout}");
    }
);

db_test!(
    rows_cut_off_the_end_are_found_through_an_anchor,
    |db, url| {
        world(&db).await;
        let router = app(db.clone());
        let therapist = sign_in(&db, Caller::Therapist).await;
        read_records(&router, therapist.as_deref(), &[401, 402, 401]).await;
        let lotsen = |args: &[&str]| lotsen(&url, args);
        // The head as printed by `audit head` and by `audit verify`: the third read's row.
        let (ok, head) = lotsen(&["audit", "head"]);
        assert!(ok, "{head}");
        let anchor = head.trim().to_owned();
        let (ok, verified) = lotsen(&["audit", "verify"]);
        assert!(ok && verified.contains(&anchor), "{verified}");
        let anchored_id: i64 = anchor
            .split(':')
            .next()
            .and_then(|id| id.parse().ok())
            .expect("id");

        // More reads, then the log is cut back to before the anchored row.
        read_records(&router, therapist.as_deref(), &[402, 401]).await;
        if db.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
            db.execute_unprepared("ALTER TABLE access_log DISABLE TRIGGER USER")
                .await
                .expect("disable");
        }
        db.execute_unprepared(&format!("DELETE FROM access_log WHERE id >= {anchored_id}"))
            .await
            .expect("cut");
        // What is left still links up: without the anchor nothing shows.
        let (ok, unanchored) = lotsen(&["audit", "verify"]);
        assert!(ok, "{unanchored}");
        let (ok, anchored) = lotsen(&["audit", "verify", "--anchor", &anchor]);
        assert!(!ok, "{anchored}");
        assert!(
            anchored.contains(&format!("row id {anchored_id}:")),
            "{anchored}"
        );
        assert!(anchored.contains("cut back"), "{anchored}");
        // A malformed anchor is refused before anything is read.
        let (ok, _) = lotsen(&["audit", "verify", "--anchor", "12:nothex"]);
        assert!(!ok);
    }
);

/// Patient ids that a signed-in therapist sees in their unit's list.
async fn listed(router: &Router, token: &str) -> BTreeSet<i64> {
    let answer = send(
        router,
        post("/api/unit_patients", String::new(), Some(token)),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let list: Vec<serde_json::Value> = serde_json::from_str(&answer.body).expect("json");
    list.iter()
        .filter_map(|p| p["patient_id"].as_i64())
        .collect()
}

/// The token of the session a demo entrance set (the staff persona's cookie or the patient's).
fn session_of(answer: &Answer) -> String {
    let cookie = answer.headers[header::SET_COOKIE].to_str().expect("ascii");
    cookie
        .strip_prefix("__Host-lotsen_session=")
        .or_else(|| cookie.strip_prefix("__Host-lotsen_patient="))
        .and_then(|rest| rest.split(';').next())
        .expect("session cookie")
        .to_owned()
}

/// A request of a browser that holds a demo visitor's two sessions, sent from `from` (a page's
/// path) when given.
fn in_both(path: &str, staff: &str, patient: &str, from: Option<&str>) -> Request<Body> {
    let mut request = post(path, String::new(), None);
    let headers = request.headers_mut();
    headers.insert(
        header::COOKIE,
        format!("{SESSION_COOKIE}={staff}; __Host-lotsen_patient={patient}")
            .parse()
            .expect("header"),
    );
    if let Some(from) = from {
        headers.insert(
            header::REFERER,
            format!("https://lotsen.test{from}")
                .parse()
                .expect("header"),
        );
    }
    request
}

db_test!(
    a_demo_visitor_holds_the_patient_and_a_staff_persona_of_one_sandbox_side_by_side,
    |db| {
        let router = app(db.clone());
        let name = |answer: &Answer| -> String {
            let me: serde_json::Value = serde_json::from_str(&answer.body).expect("json");
            me["me"]["name"].as_str().unwrap_or("nobody").to_owned()
        };
        let therapist = session_of(
            &send(
                &router,
                post("/demo/start", "persona=therapist".into(), None),
            )
            .await,
        );
        // Trying the patient sets the patient's cookie and keeps the therapist's session.
        let entered = send(
            &router,
            post("/demo/start", "persona=patient".into(), Some(&therapist)),
        )
        .await;
        assert_eq!(entered.headers[header::LOCATION], "/mina-sidor");
        let set = entered.headers[header::SET_COOKIE].to_str().expect("ascii");
        assert!(set.starts_with("__Host-lotsen_patient="), "{set}");
        for attribute in ["Path=/", "Secure", "HttpOnly", "SameSite=Lax"] {
            assert!(set.contains(attribute), "{attribute} in {set}");
        }
        let patient = session_of(&entered);
        assert_eq!(count(&db, "SELECT COUNT(*) FROM demo_sandbox").await, 1);
        assert_eq!(count(&db, "SELECT COUNT(*) FROM user_session").await, 2);

        // One browser, both cookies: the patient's side is the patient, the rest the therapist.
        let cases = [
            ("/api/whoami", None, "Tove Terapeut"),
            ("/api/whoami", Some("/mottagning"), "Tove Terapeut"),
            (
                "/api/whoami",
                Some("/mina-sidor/behandling/1"),
                "Petra Patient",
            ),
            ("/api/whoami", Some("/mina-sidorna"), "Tove Terapeut"),
        ];
        for (path, from, expected) in cases {
            let answer = send(&router, in_both(path, &therapist, &patient, from)).await;
            assert_eq!(name(&answer), expected, "{path} from {from:?}");
        }
        // A page load is made in the session of its own side: after a form on a patient's page
        // (its referrer) the browser loads the therapist's page it was sent to.
        let mut navigation = in_both("/api/whoami", &therapist, &patient, Some("/mina-sidor"));
        navigation
            .headers_mut()
            .insert("sec-fetch-mode", "navigate".parse().expect("header"));
        assert_eq!(name(&send(&router, navigation).await), "Tove Terapeut");
        let care = send(&router, in_both("/api/my_care", &therapist, &patient, None)).await;
        assert_eq!(care.status, StatusCode::OK, "{}", care.body);
        assert!(care.body.contains("Hantera oro"), "{}", care.body);
        let listed = send(
            &router,
            in_both(
                "/api/unit_patients",
                &therapist,
                &patient,
                Some("/mina-sidor"),
            ),
        )
        .await;
        assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
        assert!(listed.body.contains("Olle"), "{}", listed.body);
        let page = send(
            &router,
            Request::get("/mina-sidor")
                .header(
                    header::COOKIE,
                    format!("{SESSION_COOKIE}={therapist}; __Host-lotsen_patient={patient}"),
                )
                .body(Body::empty())
                .expect("request"),
        )
        .await;
        assert!(page.body.contains("Hantera oro"), "the patient's page");

        // Another staff persona replaces the therapist only; the patient stays signed in.
        let mut auditor = in_both("/demo/start", &therapist, &patient, None);
        *auditor.body_mut() = Body::from("persona=auditor");
        let auditor = session_of(&send(&router, auditor).await);
        let old = send(
            &router,
            post("/api/whoami", String::new(), Some(&therapist)),
        )
        .await;
        assert!(
            old.body.contains("\"me\":null"),
            "the therapist's token is dead: {}",
            old.body
        );
        let still = send(&router, post("/api/whoami", String::new(), Some(&patient))).await;
        assert_eq!(name(&still), "Petra Patient");
        assert_eq!(count(&db, "SELECT COUNT(*) FROM user_session").await, 2);

        // The patient's activity does not keep the staff session alive; its own does.
        let ten_minutes_ago = chrono::Utc::now() - chrono::Duration::minutes(10);
        let auditor_hash = session::hash_token(&auditor);
        db.execute(Statement::from_sql_and_values(
            db.get_database_backend(),
            "UPDATE user_session SET last_seen_at = $1 WHERE token_hash = $2",
            [ten_minutes_ago.into(), auditor_hash.clone().into()],
        ))
        .await
        .expect("age");
        let last_seen = || async {
            db.query_one(Statement::from_sql_and_values(
                db.get_database_backend(),
                "SELECT CAST(last_seen_at AS TEXT) AS at FROM user_session WHERE token_hash = $1",
                [auditor_hash.clone().into()],
            ))
            .await
            .expect("query")
            .expect("row")
            .try_get::<String>("", "at")
            .expect("at")
        };
        let before = last_seen().await;
        let answer = send(&router, in_both("/api/my_care", &auditor, &patient, None)).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        assert_eq!(last_seen().await, before, "the patient's request");
        send(&router, in_both("/api/whoami", &auditor, &patient, None)).await;
        assert_ne!(last_seen().await, before, "the auditor's own request");

        // Another site's page cannot pick a session by its referrer.
        let mut foreign = in_both("/api/whoami", &auditor, &patient, None);
        foreign.headers_mut().insert(
            header::REFERER,
            "https://other.lotsen.test/mina-sidor"
                .parse()
                .expect("header"),
        );
        assert_eq!(name(&send(&router, foreign).await), "Greta Granskare");

        // A staff session that has ended is cleared, and a new one set in the same response
        // is kept (the browser applies the lines in order).
        db.execute(Statement::from_sql_and_values(
            db.get_database_backend(),
            "DELETE FROM user_session WHERE token_hash = $1",
            [auditor_hash.into()],
        ))
        .await
        .expect("end");
        let mut again = in_both("/demo/start", &auditor, &patient, Some("/mina-sidor"));
        *again.body_mut() = Body::from("persona=therapist");
        let again = send(&router, again).await;
        let lines: Vec<&str> = again
            .headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(!lines[0].contains("Max-Age=0"), "{lines:?}");
        let therapist = session_of(&again);
        let me = send(
            &router,
            post("/api/whoami", String::new(), Some(&therapist)),
        )
        .await;
        assert_eq!(name(&me), "Tove Terapeut");

        // Signing out leaves the demo as both, and clears both cookies.
        let out = send(
            &router,
            in_both("/logga-ut", &therapist, &patient, Some("/mina-sidor")),
        )
        .await;
        assert_eq!(out.status, StatusCode::SEE_OTHER);
        let cleared: Vec<&str> = out
            .headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter(|v| v.contains("Max-Age=0"))
            .collect();
        assert_eq!(cleared.len(), 2, "{cleared:?}");
        assert_eq!(count(&db, "SELECT COUNT(*) FROM user_session").await, 0);
    }
);

db_test!(
    the_demo_patient_meets_a_treatment_three_weeks_under_way,
    |db| {
        let router = app(db.clone());
        let started = send(&router, post("/demo/start", "persona=patient".into(), None)).await;
        let patient = session_of(&started);
        let enrolment = count(
            &db,
            &format!(
                "SELECT e.id FROM enrolment e JOIN patient p ON p.id = e.patient_id \
             WHERE p.personnummer = '{}'",
                app::demo::PATIENT_PERSONNUMMER
            ),
        )
        .await;
        let call = |function: &str| {
            post(
                &format!("/api/{function}"),
                format!("enrolment={enrolment}"),
                Some(&patient),
            )
        };
        let treatment: serde_json::Value =
            serde_json::from_str(&send(&router, call("my_treatment")).await.body).expect("json");
        let statuses: Vec<&str> = treatment["modules"]
            .as_array()
            .expect("modules")
            .iter()
            .map(|m| m["status"].as_str().unwrap_or_default())
            .collect();
        // The first module done (its homework sent, the therapist's feedback given), the second
        // open, the rest waiting.
        assert_eq!(
            statuses,
            ["Finished", "Open", "Locked", "Locked", "Locked", "Locked"]
        );
        assert!(treatment["modules"][0]["feedback"]["body"].is_string());
        // Three weekly GAD-7 answered, this week's open; the thread read on both sides.
        assert_eq!(treatment["due_forms"].as_array().map(Vec::len), Some(1));
        assert_eq!(treatment["unread_messages"], 0);
        let results: serde_json::Value =
            serde_json::from_str(&send(&router, call("my_results")).await.body).expect("json");
        let totals: Vec<i64> = results[0]["points"]
            .as_array()
            .expect("points")
            .iter()
            .filter_map(|p| p["total"].as_i64())
            .collect();
        assert_eq!(totals, [12, 16, 8], "worse, then better");
        let thread = send(&router, call("my_messages")).await;
        assert!(
            thread.body.contains("Oron kom tillbaka på jobbet"),
            "{}",
            thread.body
        );
        // The patient's question of yesterday waits for the care team, unread; the second
        // week's worsening raised a flag that the therapist handled with a comment.
        assert_eq!(
            count(
                &db,
                "SELECT COUNT(*) FROM message WHERE read_at IS NULL AND sender_kind = 'patient'"
            )
            .await,
            1
        );
        assert_eq!(
            count(&db, "SELECT COUNT(*) FROM message WHERE read_at IS NULL").await,
            1
        );
        assert_eq!(
            count(
                &db,
                "SELECT COUNT(*) FROM flag WHERE reason = 'gad7_worsened' \
                 AND resolved_at IS NOT NULL AND resolution <> '' AND response_id IS NOT NULL"
            )
            .await,
            1
        );
        // Olle, of the same therapist, has done nothing since enrolment: an open flag.
        assert_eq!(
            count(
                &db,
                "SELECT COUNT(*) FROM flag WHERE reason = 'inactive' AND resolved_at IS NULL"
            )
            .await,
            1
        );
    }
);

db_test!(demo_visitors_never_see_each_others_data, |db| {
    let router = app(db.clone());
    let first = send(
        &router,
        post("/demo/start", "persona=therapist".into(), None),
    )
    .await;
    let second = send(
        &router,
        post("/demo/start", "persona=therapist".into(), None),
    )
    .await;
    assert_eq!(
        (first.status, second.status),
        (StatusCode::SEE_OTHER, StatusCode::SEE_OTHER)
    );
    assert_eq!(first.headers[header::LOCATION], "/mottagning");
    let (a, b) = (session_of(&first), session_of(&second));
    let (seen_a, seen_b) = (listed(&router, &a).await, listed(&router, &b).await);
    assert_eq!(
        (seen_a.len(), seen_b.len()),
        (3, 3),
        "three patients at the demo unit"
    );
    assert!(seen_a.is_disjoint(&seen_b));
    // The other visitor's patient does not exist, as far as this visitor can tell.
    for id in &seen_b {
        let answer = send(
            &router,
            post("/api/patient_record", format!("patient_id={id}"), Some(&a)),
        )
        .await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{}", answer.body);
    }
    // Switching persona stays in the same sandbox, with a new session token.
    let switched = send(
        &router,
        post("/demo/start", "persona=patient".into(), Some(&a)),
    )
    .await;
    assert_eq!(switched.headers[header::LOCATION], "/mina-sidor");
    let patient = session_of(&switched);
    assert_ne!(patient, a);
    let seen = send(
        &router,
        post("/api/who_read_my_data", String::new(), Some(&patient)),
    )
    .await;
    assert!(seen.body.contains("Tove Terapeut"), "{}", seen.body);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM demo_sandbox").await, 2);
    // The public figures never count demo data.
    let figures = send(&router, post("/api/service_overview", String::new(), None)).await;
    assert!(
        figures.body.contains("\"ongoing_enrolments\":0"),
        "{}",
        figures.body
    );
});

db_test!(an_expired_sandbox_leaves_no_rows, |db| {
    let tables: Vec<String> = {
        let sql = if db.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_name <> 'seaql_migrations'"
        } else {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'seaql_migrations'"
        };
        db.query_all(Statement::from_string(db.get_database_backend(), sql))
            .await
            .expect("tables")
            .iter()
            .map(|r| r.try_get_by_index::<String>(0).expect("name"))
            .collect()
    };
    assert!(tables.len() >= 24, "{tables:?}");
    for care in ["page_visit", "form_response", "flag"] {
        assert!(tables.iter().any(|t| t == care), "{care} is counted");
    }
    let total = |db: DatabaseConnection, tables: Vec<String>| async move {
        let mut sum = 0;
        for t in &tables {
            sum += count(&db, &format!("SELECT COUNT(*) FROM {t}")).await;
        }
        sum
    };
    let before = total(db.clone(), tables.clone()).await;
    let router = app(db.clone());
    let entered = send(
        &router,
        post("/demo/start", "persona=therapist".into(), None),
    )
    .await;
    let token = session_of(&entered);
    listed(&router, &token).await;
    // The sandbox's care record goes with it: pages seen, answers and the flags they raised.
    for sql in [
        "INSERT INTO page_visit (enrolment_id, program_version_id, module_key, step_key, first_seen_at) \
         SELECT id, program_version_id, 'm', 's', CURRENT_TIMESTAMP FROM enrolment",
        "INSERT INTO form_response (enrolment_id, program_version_id, questionnaire_key, place, state, \
           answers, scores, updated_at, submitted_at) \
         SELECT id, program_version_id, 'q', 'block:m/s/b', 'submitted', '{}', '{}', CURRENT_TIMESTAMP, \
           CURRENT_TIMESTAMP FROM enrolment",
        "INSERT INTO flag (enrolment_id, kind, priority, reason, response_id, raised_at) \
         SELECT enrolment_id, 'automatic', 'urgent', 'r', id, CURRENT_TIMESTAMP FROM form_response",
    ] {
        db.execute_unprepared(sql).await.expect("care rows");
    }
    assert!(count(&db, "SELECT COUNT(*) FROM flag").await > 0);
    assert!(total(db.clone(), tables.clone()).await > before + 10);
    assert_eq!(
        app::demo::sandbox::delete_expired(&db, chrono::Utc::now())
            .await
            .expect("sweep"),
        0,
        "not yet expired"
    );
    db.execute_unprepared("UPDATE demo_sandbox SET expires_at = '2000-01-01T00:00:00+00:00'")
        .await
        .expect("expire");
    assert_eq!(
        app::demo::sandbox::delete_expired(&db, chrono::Utc::now())
            .await
            .expect("sweep"),
        1
    );
    assert_eq!(
        total(db.clone(), tables.clone()).await,
        before,
        "every row of the sandbox is gone"
    );
    let after = send(&router, post("/api/whoami", String::new(), Some(&token))).await;
    assert!(after.body.contains("\"me\":null"), "{}", after.body);
});

fn limited_app(db: DatabaseConnection, config: LimitConfig) -> Router {
    let mut state = AppState::with_defaults(db);
    state.limits = Limits::new(config);
    crate::common::router_for(state)
}

db_test!(
    too_many_sign_ins_or_writes_get_429_and_change_nothing,
    |db| {
        world(&db).await;
        let generous = Rate {
            per_minute: 1000,
            burst: 1000,
        };
        let router = limited_app(
            db.clone(),
            LimitConfig {
                sign_in_per_address: Rate {
                    per_minute: 1,
                    burst: 3,
                },
                writes_per_address: generous,
                writes_per_user: Rate {
                    per_minute: 1,
                    burst: 5,
                },
            },
        );
        for _ in 0..3 {
            let entered = send(&router, post("/demo/start", "persona=patient".into(), None)).await;
            assert_eq!(entered.status, StatusCode::SEE_OTHER);
        }
        let refused = send(&router, post("/demo/start", "persona=patient".into(), None)).await;
        assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
        assert!(refused.body.contains("Vänta en stund"), "{}", refused.body);
        let wait: u64 = refused.headers[header::RETRY_AFTER]
            .to_str()
            .expect("ascii")
            .parse()
            .expect("seconds");
        assert!((1..=60).contains(&wait), "{wait}");
        assert_eq!(
            count(&db, "SELECT COUNT(*) FROM demo_sandbox").await,
            3,
            "no fourth sandbox"
        );

        // Per user: the sixth call in a burst is refused; another user is not affected.
        let patient = sign_in(&db, Caller::Patient).await;
        for _ in 0..5 {
            let ok = send(
                &router,
                post("/api/my_care", String::new(), patient.as_deref()),
            )
            .await;
            assert_eq!(ok.status, StatusCode::OK);
        }
        let limited = send(
            &router,
            post("/api/my_care", String::new(), patient.as_deref()),
        )
        .await;
        assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
        let other = sign_in(&db, Caller::Therapist).await;
        let fine = send(
            &router,
            post("/api/unit_patients", String::new(), other.as_deref()),
        )
        .await;
        assert_eq!(fine.status, StatusCode::OK);
    }
);

fn form(path: &str, body: &str, token: &str) -> Request<Body> {
    post(path, body.to_owned(), Some(token))
}

db_test!(
    emergency_access_needs_a_reason_is_logged_and_reaches_the_auditor,
    |db| {
        world(&db).await;
        let router = app(db.clone());
        let therapist = sign_in(&db, Caller::Therapist).await.expect("token");
        let record = |id: i64| {
            form(
                "/api/patient_record",
                &format!("patient_id={id}"),
                &therapist,
            )
        };

        // Outside the care relationship: refused until a reason is stated.
        assert_eq!(
            send(&router, record(403)).await.status,
            StatusCode::FORBIDDEN
        );
        let short = send(
            &router,
            form(
                "/mottagning/patient/403/nodatkomst",
                "reason=kort",
                &therapist,
            ),
        )
        .await;
        assert_eq!(
            short.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            short.body
        );
        assert!(short.body.contains("10–1000 tecken"), "{}", short.body);
        assert_eq!(
            send(&router, record(403)).await.status,
            StatusCode::FORBIDDEN,
            "nothing opened"
        );

        let reason = "Patienten söker akut och behandlande enhet är stängd";
        let granted = send(
            &router,
            form(
                "/mottagning/patient/403/nodatkomst",
                &format!("reason={reason}"),
                &therapist,
            ),
        )
        .await;
        assert_eq!(granted.status, StatusCode::SEE_OTHER, "{}", granted.body);
        assert_eq!(granted.headers[header::LOCATION], "/mottagning/patient/403");
        assert_eq!(send(&router, record(403)).await.status, StatusCode::OK);

        // Another region's patient stays invisible, emergency or not.
        let other = send(
            &router,
            form(
                "/mottagning/patient/404/nodatkomst",
                &format!("reason={reason}"),
                &therapist,
            ),
        )
        .await;
        assert_eq!(other.status, StatusCode::NOT_FOUND);

        let flagged = count(&db, "SELECT COUNT(*) FROM access_log WHERE patient_id = 403 AND action = 'emergency_read' AND outcome = 'allowed' AND needs_follow_up").await;
        assert_eq!(flagged, 2, "the grant and the read that followed");

        // A unit that does not allow emergency access refuses, and the attempt is logged.
        db.execute_unprepared("UPDATE care_unit SET allows_emergency_access = FALSE WHERE id = 11")
            .await
            .expect("update");
        let refused = send(
            &router,
            form(
                "/mottagning/patient/403/nodatkomst",
                &format!("reason={reason}"),
                &therapist,
            ),
        )
        .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        let logged = count(&db, "SELECT COUNT(*) FROM access_log WHERE patient_id = 403 AND action = 'emergency_read' AND outcome = 'refused'").await;
        assert_eq!(logged, 1);
        // A patient in the caller's own care needs no emergency access: nothing is granted.
        let own = send(
            &router,
            form(
                "/mottagning/patient/402/nodatkomst",
                &format!("reason={reason}"),
                &therapist,
            ),
        )
        .await;
        assert_eq!(own.status, StatusCode::SEE_OTHER);
        assert_eq!(
            count(
                &db,
                "SELECT COUNT(*) FROM emergency_grant WHERE patient_id = 402"
            )
            .await,
            0
        );

        // Region B's own read never shows up for region A's auditor.
        let b = session::create(
            &db,
            &SessionConfig::default(),
            Subject::Staff {
                staff_person_id: 106,
                assignment_id: Some(306),
            },
            None,
            None,
            None,
        )
        .await
        .expect("session");
        assert_eq!(
            send(&router, form("/api/patient_record", "patient_id=404", &b))
                .await
                .status,
            StatusCode::OK
        );

        let auditor = sign_in(&db, Caller::Auditor).await.expect("token");
        let follow_up = send(
            &router,
            form("/api/audit_search", "filter[follow_up_only]=true", &auditor),
        )
        .await;
        assert_eq!(follow_up.status, StatusCode::OK, "{}", follow_up.body);
        let rows: Vec<serde_json::Value> = serde_json::from_str(&follow_up.body).expect("json");
        assert_eq!(rows.len(), 3, "{}", follow_up.body);
        assert!(
            rows.iter()
                .all(|r| r["reason"] == reason && r["needs_follow_up"] == true)
        );
        let all = send(&router, form("/api/audit_search", "", &auditor)).await;
        assert!(
            !all.body.contains("SE-106"),
            "another region's reads: {}",
            all.body
        );
        let by_user = send(
            &router,
            form(
                "/api/audit_search",
                "filter[user_hsa_id]=SE-101&filter[patient_id]=403",
                &auditor,
            ),
        )
        .await;
        let rows: Vec<serde_json::Value> = serde_json::from_str(&by_user.body).expect("json");
        assert_eq!(
            rows.len(),
            5,
            "two refused reads, the grant, the emergency read of 403 and the refused grant: {}",
            by_user.body
        );
        let bad = send(
            &router,
            form("/api/audit_search", "filter[from]=igår", &auditor),
        )
        .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);

        // The export: the same rows as CSV, readable by spreadsheet programs.
        let csv = send(
            &router,
            Request::get("/granskning/logg.csv?uppfoljning=1")
                .header(header::HOST, "lotsen.test")
                .header(header::COOKIE, format!("{SESSION_COOKIE}={auditor}"))
                .body(Body::empty())
                .expect("request"),
        )
        .await;
        assert_eq!(csv.status, StatusCode::OK);
        assert!(
            csv.headers[header::CONTENT_TYPE]
                .to_str()
                .expect("ascii")
                .starts_with("text/csv")
        );
        assert!(csv.body.starts_with('\u{feff}'));
        assert_eq!(
            csv.body.lines().count(),
            4,
            "header and three rows: {}",
            csv.body
        );
        assert!(csv.body.contains(reason));
        // The auditor's own reads are patient data too: each search (a refused filter is not
        // one), and each patient in the export.
        let auditor_rows = |action: &'static str| {
            count(
                &db,
                match action {
                    "search" => {
                        "SELECT COUNT(*) FROM access_log WHERE user_hsa_id = 'SE-105' AND action = 'search'"
                    }
                    _ => {
                        "SELECT COUNT(*) FROM access_log WHERE user_hsa_id = 'SE-105' AND action = 'export' AND patient_id = 403"
                    }
                },
            )
        };
        // Three searches (a refused filter is none), each showing patient 403 only.
        assert_eq!(auditor_rows("search").await, 3);
        assert_eq!(
            count(&db, "SELECT COUNT(*) FROM access_log WHERE user_hsa_id = 'SE-105' AND action = 'search' AND patient_id = 403").await,
            3,
            "each search names the patients it showed"
        );
        assert_eq!(auditor_rows("export").await, 1);
        let therapist_csv = send(
            &router,
            Request::get("/granskning/logg.csv")
                .header(header::HOST, "lotsen.test")
                .header(header::COOKIE, format!("{SESSION_COOKIE}={therapist}"))
                .body(Body::empty())
                .expect("request"),
        )
        .await;
        assert_eq!(therapist_csv.status, StatusCode::FORBIDDEN);
        assert!(
            app::access_log::verify(&db)
                .await
                .expect("verify")
                .broken
                .is_none()
        );
    }
);

db_test!(removing_a_role_ends_that_persons_sessions_at_once, |db| {
    world(&db).await;
    let router = app(db.clone());
    let therapist = sign_in(&db, Caller::Therapist).await.expect("token");
    let second = sign_in(&db, Caller::Therapist).await.expect("token");
    assert_eq!(
        send(&router, form("/api/unit_patients", "", &therapist))
            .await
            .status,
        StatusCode::OK
    );

    let admin = sign_in(&db, Caller::AccessAdministrator)
        .await
        .expect("token");
    let staff = send(&router, form("/api/unit_staff", "", &admin)).await;
    let list: Vec<serde_json::Value> = serde_json::from_str(&staff.body).expect("json");
    let tove = list
        .iter()
        .find(|s| s["name"] == "Tove Terapeut")
        .expect("Tove at A1");
    let grant = tove["roles"][0][0].as_i64().expect("grant id");
    assert_eq!(tove["roles"][0][1], "therapist");
    assert!(
        list.iter().all(|s| s["name"] != "Bo Behandlare"),
        "region B's staff are not listed"
    );

    // Another unit's role cannot be granted; a role that is not the unit's to give neither.
    let invalid = send(
        &router,
        form(
            "/api/grant_role",
            "staff_person_id=101&role=auditor",
            &admin,
        ),
    )
    .await;
    assert_eq!(invalid.status, StatusCode::FORBIDDEN);

    let revoked = send(
        &router,
        form("/api/revoke_role", &format!("grant_id={grant}"), &admin),
    )
    .await;
    assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.body);
    for token in [&therapist, &second] {
        let after = send(&router, form("/api/unit_patients", "", token)).await;
        assert_eq!(
            after.status,
            StatusCode::UNAUTHORIZED,
            "every session ended at once"
        );
    }
    let fresh = sign_in(&db, Caller::Therapist).await.expect("token");
    let now = send(&router, form("/api/unit_patients", "", &fresh)).await;
    assert_eq!(
        now.status,
        StatusCode::FORBIDDEN,
        "signed in again, but no longer a therapist"
    );
    let again = send(
        &router,
        form("/api/revoke_role", &format!("grant_id={grant}"), &admin),
    )
    .await;
    assert_eq!(
        again.status,
        StatusCode::NOT_FOUND,
        "a revoked grant is gone"
    );
    let row = count(&db, &format!("SELECT COUNT(*) FROM staff_role WHERE id = {grant} AND revoked_by = 103 AND revoked_at IS NOT NULL")).await;
    assert_eq!(row, 1, "the grant is kept, marked revoked and by whom");
});

db_test!(a_closed_unit_opens_no_patient_data, |db| {
    world(&db).await;
    let router = app(db.clone());
    let admin = sign_in(&db, Caller::CareProviderAdministrator)
        .await
        .expect("token");
    let units = send(&router, form("/api/provider_units", "", &admin)).await;
    let list: Vec<serde_json::Value> = serde_json::from_str(&units.body).expect("json");
    let names: Vec<&str> = list.iter().filter_map(|u| u["name"].as_str()).collect();
    assert_eq!(
        names,
        ["Enhet A1", "Enhet A2"],
        "only the provider's own units"
    );
    assert_eq!(list[0]["access_admins"][0][1], "Alva Åtkomst");

    let therapist = sign_in(&db, Caller::Therapist).await.expect("token");
    let closed = send(
        &router,
        form("/api/set_unit_active", "unit_id=11&active=false", &admin),
    )
    .await;
    assert_eq!(closed.status, StatusCode::OK, "{}", closed.body);
    let refused = send(&router, form("/api/unit_patients", "", &therapist)).await;
    assert_eq!(
        refused.status,
        StatusCode::FORBIDDEN,
        "no care purpose at a closed unit"
    );
    send(
        &router,
        form("/api/set_unit_active", "unit_id=11&active=true", &admin),
    )
    .await;
    assert_eq!(
        send(&router, form("/api/unit_patients", "", &therapist))
            .await
            .status,
        StatusCode::OK
    );

    // Removing an access administrator ends her sessions; an access administrator cannot
    // remove another one (that is the care provider's to do).
    let alva = sign_in(&db, Caller::AccessAdministrator)
        .await
        .expect("token");
    let grant = list[0]["access_admins"][0][0].as_i64().expect("grant");
    let not_hers = send(
        &router,
        form("/api/revoke_role", &format!("grant_id={grant}"), &alva),
    )
    .await;
    assert_eq!(not_hers.status, StatusCode::NOT_FOUND);
    let removed = send(
        &router,
        form(
            "/api/remove_access_admin",
            &format!("grant_id={grant}"),
            &admin,
        ),
    )
    .await;
    assert_eq!(removed.status, StatusCode::OK, "{}", removed.body);
    assert_eq!(
        send(&router, form("/api/unit_staff", "", &alva))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    let appointed = send(
        &router,
        form(
            "/api/appoint_access_admin",
            "unit_id=11&staff_person_id=103",
            &admin,
        ),
    )
    .await;
    assert_eq!(appointed.status, StatusCode::OK);
    let alva = sign_in(&db, Caller::AccessAdministrator)
        .await
        .expect("token");
    assert_eq!(
        send(&router, form("/api/unit_staff", "", &alva))
            .await
            .status,
        StatusCode::OK
    );
    let elsewhere = send(
        &router,
        form(
            "/api/appoint_access_admin",
            "unit_id=11&staff_person_id=106",
            &admin,
        ),
    )
    .await;
    assert_eq!(
        elsewhere.status,
        StatusCode::NOT_FOUND,
        "staff without an assignment at the unit"
    );
});

db_test!(
    setup_registers_an_organisation_once_and_refuses_bad_input,
    |db, url| {
        let steps: [&[&str]; 4] = [
            &[
                "setup",
                "provider",
                "--org-number",
                "232199-0018",
                "--name",
                "Region Test",
                "--county",
                "01",
            ],
            &[
                "setup",
                "unit",
                "--provider",
                "2321990018",
                "--hsa-id",
                "SE2321990018-E1",
                "--name",
                "Mottagningen",
            ],
            &[
                "setup",
                "staff",
                "--hsa-id",
                "SE2321990018-A1",
                "--given-name",
                "Ada",
                "--family-name",
                "Admin",
            ],
            &[
                "setup",
                "grant",
                "--hsa-id",
                "SE2321990018-A1",
                "--role",
                "provider_admin",
                "--provider",
                "2321990018",
            ],
        ];
        for step in steps {
            let (ok, first) = lotsen(&url, step);
            assert!(
                ok && (first.contains("registered") || first.contains("granted")),
                "{first}"
            );
            // Again: nothing changes, and it says so.
            let (ok, again) = lotsen(&url, step);
            assert!(ok && again.contains("already"), "{again}");
        }
        assert_eq!(count(&db, "SELECT COUNT(*) FROM staff_role").await, 1);
        assert_eq!(count(&db, "SELECT COUNT(*) FROM staff_person").await, 1);
        for bad in [
            &[
                "setup",
                "provider",
                "--org-number",
                "232199-0019",
                "--name",
                "X",
                "--county",
                "01",
            ][..],
            &[
                "setup",
                "unit",
                "--provider",
                "2321990018",
                "--hsa-id",
                "E1",
                "--name",
                "X",
            ],
            &[
                "setup",
                "staff",
                "--hsa-id",
                "SE2321990018-B1",
                "--given-name",
                " ",
                "--family-name",
                "X",
            ],
            &[
                "setup",
                "grant",
                "--hsa-id",
                "SE2321990018-Z9",
                "--role",
                "therapist",
                "--provider",
                "2321990018",
            ],
            &[
                "setup",
                "grant",
                "--hsa-id",
                "SE2321990018-A1",
                "--role",
                "chief",
                "--provider",
                "2321990018",
            ],
        ] {
            let (ok, _) = lotsen(&url, bad);
            assert!(!ok, "{bad:?} was accepted");
        }
        assert_eq!(count(&db, "SELECT COUNT(*) FROM staff_person").await, 1);
        assert_eq!(count(&db, "SELECT COUNT(*) FROM care_unit").await, 1);

        // A program from a package manifest: published as 1.0 and active on the unit, once.
        let manifest = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../app/src/demo/programs/hantera-oro.lotsen-program.json"
        );
        let install = [
            "setup",
            "program",
            "--provider",
            "2321990018",
            "--manifest",
            manifest,
            "--unit",
            "SE2321990018-E1",
        ];
        let (ok, first) = lotsen(&url, &install);
        assert!(
            ok && first.contains("installed as 1.0 and activated on SE2321990018-E1"),
            "{first}"
        );
        let (ok, again) = lotsen(&url, &install);
        assert!(ok && again.contains("already installed"), "{again}");
        assert_eq!(
            count(
                &db,
                "SELECT COUNT(*) FROM program_activation a \
                 JOIN program_version v ON v.id = a.program_version_id \
                 WHERE v.status = 'published' AND v.major = 1 AND v.minor = 0 \
                 AND a.deactivated_at IS NULL"
            )
            .await,
            1
        );
        // Not a manifest, or no such file: refused, nothing installed.
        for path in [
            concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"),
            "/nonexistent.json",
        ] {
            let (ok, _) = lotsen(
                &url,
                &[
                    "setup",
                    "program",
                    "--provider",
                    "2321990018",
                    "--manifest",
                    path,
                ],
            );
            assert!(!ok, "{path} was installed");
        }
        assert_eq!(count(&db, "SELECT COUNT(*) FROM program").await, 1);
    }
);

db_test!(
    media_links_are_allowed_only_from_the_configured_hosts,
    |db| {
        use app::programs::{Block, BlockBody, Media, Rules, store};
        world(&db).await;
        let mut state = AppState::with_defaults(db.clone());
        state.content_rules.media_hosts = vec!["media.region.se".to_owned()];
        let router = crate::common::router_for(state);
        let token = sign_in(&db, Caller::Producer).await;
        let scope = store::Scope {
            provider_id: 1,
            sandbox_id: None,
        };
        let id = store::create(&db, scope, None, "Bilder", &Rules::default())
            .await
            .expect("program")
            .program_id;

        // The editor is told which hosts it may use ...
        let draft = send(
            &router,
            post(
                "/api/program_draft",
                format!("program_id={id}"),
                token.as_deref(),
            ),
        )
        .await;
        assert!(
            draft.body.contains("\"media_hosts\":[\"media.region.se\"]"),
            "{}",
            draft.body
        );

        // ... and the server holds to them.
        let mut revision = 0;
        for (url, saved) in [
            ("https://media.region.se/somn.png", true),
            ("https://cdn.media.region.se/somn.png", true),
            ("https://elsewhere.example/somn.png", false),
        ] {
            let mut program = app::testing::small_program("Bilder");
            program.modules[0].sections[0].steps[0].blocks.push(Block {
                key: "bild".to_owned(),
                show_if: None,
                body: BlockBody::Image {
                    media: Media::External {
                        url: url.to_owned(),
                    },
                    alt: "En säng.".to_owned(),
                    caption: None,
                },
            });
            let body =
                serde_json::json!({ "program_id": id, "revision": revision, "program": program });
            let answer = send(
                &router,
                post(
                    "/api/save_program_draft",
                    body.to_string(),
                    token.as_deref(),
                ),
            )
            .await;
            assert_eq!(
                answer.body.starts_with("{\"Saved\""),
                saved,
                "{url}: {}",
                answer.body
            );
            if saved {
                revision += 1;
            } else {
                assert!(answer.body.contains("media_not_allowed"), "{}", answer.body);
            }
        }
    }
);

/// Patient 401 is also in treatment at unit A2 (region A) and at unit B1 (region B), each with
/// a note of its own; Ada Andra is a therapist at A2.
async fn treated_in_three_places(db: &DatabaseConnection) {
    for statement in [
        "INSERT INTO enrolment (id, patient_id, program_version_id, care_unit_id, state, started_at, internal_note) VALUES \
           (705, 401, 601, 12, 'active', CURRENT_TIMESTAMP, 'NOTE-OF-A2'), \
           (706, 401, 601, 21, 'active', CURRENT_TIMESTAMP, 'NOTE-OF-B1')",
        "INSERT INTO staff_person (id, given_name, family_name) VALUES (109, 'Ada', 'Andra')",
        "INSERT INTO staff_hsa_identity (id, staff_person_id, hsa_id) VALUES (209, 109, 'SE-109')",
        "INSERT INTO staff_assignment (id, staff_hsa_identity_id, care_unit_id, commission_hsa_id, commission_name, commission_purpose) \
           VALUES (309, 209, 12, 'SE-109-U', 'V', 'Vård och behandling')",
        "INSERT INTO staff_role (staff_person_id, care_provider_id, care_unit_id, role, granted_at) \
           VALUES (109, 1, 12, 'therapist', CURRENT_TIMESTAMP)",
    ] {
        db.execute_unprepared(statement).await.expect("seed");
    }
}

/// Runs `sql` with one time value as `$1`, on either engine.
async fn at_time(db: &DatabaseConnection, sql: &str, time: chrono::DateTime<chrono::Utc>) {
    db.execute(app::db::statement(db, sql, vec![time.into()]))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

db_test!(a_record_shows_only_what_the_assignment_reaches, |db| {
    world(&db).await;
    treated_in_three_places(&db).await;
    let router = app(db.clone());
    let notes = ["INTERNAL-NOTE-701", "NOTE-OF-A2", "NOTE-OF-B1"];
    // From each assignment: the record of its own unit's treatment, and nothing of the others.
    for (person, assignment, unit_hsa, own_note) in [
        (101, 301, "SE2321000016-A1", "INTERNAL-NOTE-701"),
        (109, 309, "SE2321000016-A2", "NOTE-OF-A2"),
        (106, 306, "SE2321000024-B1", "NOTE-OF-B1"),
    ] {
        let token = staff_session(&db, person, assignment).await;
        let record = send(
            &router,
            form("/api/patient_record", "patient_id=401", &token),
        )
        .await;
        assert_eq!(record.status, StatusCode::OK, "{}", record.body);
        for note in notes {
            assert_eq!(
                record.body.contains(note),
                note == own_note,
                "SE-{person} at {unit_hsa}, {note}: {}",
                record.body
            );
        }
        // Logged under the assignment's own unit.
        let logged = count(
            &db,
            &format!(
                "SELECT COUNT(*) FROM access_log WHERE patient_id = 401 AND user_hsa_id = 'SE-{person}' \
                 AND care_unit_hsa_id = '{unit_hsa}' AND outcome = 'allowed'"
            ),
        )
        .await;
        assert_eq!(logged, 1, "SE-{person}");
    }
    // The unit's list holds its own patients only.
    let a2 = staff_session(&db, 109, 309).await;
    let listed = send(&router, form("/api/unit_patients", "", &a2)).await;
    assert!(
        listed.body.contains("Petra") && listed.body.contains("Maja"),
        "{}",
        listed.body
    );
    assert!(!listed.body.contains("Olle"), "{}", listed.body);

    // An ended treatment stays readable at its unit for a while, then only in emergency.
    at_time(
        &db,
        "UPDATE enrolment SET state = 'ended', ended_at = $1 WHERE id = 705",
        chrono::Utc::now(),
    )
    .await;
    let read = send(&router, form("/api/patient_record", "patient_id=401", &a2)).await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.body);
    assert!(read.body.contains("NOTE-OF-A2"), "{}", read.body);
    at_time(
        &db,
        "UPDATE enrolment SET ended_at = $1 WHERE id = 705",
        chrono::Utc::now() - chrono::Duration::days(120),
    )
    .await;
    let read = send(&router, form("/api/patient_record", "patient_id=401", &a2)).await;
    assert_eq!(read.status, StatusCode::FORBIDDEN, "{}", read.body);
    assert!(!read.body.contains("NOTE-OF"), "{}", read.body);
});

db_test!(an_emergency_grant_ends_when_it_ends, |db| {
    world(&db).await;
    treated_in_three_places(&db).await;
    let router = app(db.clone());
    let therapist = sign_in(&db, Caller::Therapist).await.expect("token");
    let reason = "reason=Patienten s%C3%B6ker akut och enheten %C3%A4r st%C3%A4ngd";
    let record = |token: &str| form("/api/patient_record", "patient_id=403", token);
    let granted = send(
        &router,
        form("/mottagning/patient/403/nodatkomst", reason, &therapist),
    )
    .await;
    assert_eq!(granted.status, StatusCode::SEE_OTHER, "{}", granted.body);
    let expires = || {
        count(
            &db,
            "SELECT COUNT(*) FROM emergency_grant WHERE patient_id = 403 AND assignment_id = 301 \
             AND care_unit_id = 11 AND care_provider_id = 1",
        )
    };
    assert_eq!(expires().await, 1);
    let before: Vec<sea_orm::QueryResult> = db
        .query_all(Statement::from_string(
            db.get_database_backend(),
            "SELECT expires_at FROM emergency_grant",
        ))
        .await
        .expect("grant");
    let ends = |rows: &[sea_orm::QueryResult]| -> chrono::DateTime<chrono::Utc> {
        rows[0].try_get("", "expires_at").expect("expires_at")
    };
    for _ in 0..3 {
        let read = send(&router, record(&therapist)).await;
        assert_eq!(read.status, StatusCode::OK, "{}", read.body);
    }
    // Reads under the grant do not extend it.
    let after = db
        .query_all(Statement::from_string(
            db.get_database_backend(),
            "SELECT expires_at FROM emergency_grant",
        ))
        .await
        .expect("grant");
    assert_eq!(ends(&before), ends(&after));
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM access_log WHERE patient_id = 403 AND action = 'emergency_read' \
             AND outcome = 'allowed' AND needs_follow_up AND reason IS NOT NULL"
        )
        .await,
        4,
        "the grant and three reads"
    );

    // The grant belongs to the assignment that made it: the same person at the same unit in
    // another assignment has none.
    db.execute_unprepared(
        "INSERT INTO staff_assignment (id, staff_hsa_identity_id, care_unit_id, commission_hsa_id, commission_name, commission_purpose) \
           VALUES (310, 201, 11, 'SE-101-V', 'V2', 'Vård och behandling')",
    )
    .await
    .expect("second assignment");
    let other_assignment = staff_session(&db, 101, 310).await;
    let refused = send(&router, record(&other_assignment)).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);

    // A unit that stops allowing emergency access ends the grant's reads at once.
    db.execute_unprepared("UPDATE care_unit SET allows_emergency_access = FALSE WHERE id = 11")
        .await
        .expect("disallow");
    assert_eq!(
        send(&router, record(&therapist)).await.status,
        StatusCode::FORBIDDEN
    );
    db.execute_unprepared("UPDATE care_unit SET allows_emergency_access = TRUE WHERE id = 11")
        .await
        .expect("allow");
    assert_eq!(
        send(&router, record(&therapist)).await.status,
        StatusCode::OK
    );

    // Once its time is out, the record closes, however recently it was read.
    at_time(
        &db,
        "UPDATE emergency_grant SET expires_at = $1",
        chrono::Utc::now() - chrono::Duration::seconds(1),
    )
    .await;
    let closed = send(&router, record(&therapist)).await;
    assert_eq!(closed.status, StatusCode::FORBIDDEN, "{}", closed.body);
});

/// A GET as a browser sends it, with the session cookie and the given fetch metadata.
fn browser_get(path: &str, token: &str, site: &str, mode: &str, dest: &str) -> Request<Body> {
    Request::get(path)
        .header(header::HOST, "lotsen.test")
        .header(header::COOKIE, format!("{SESSION_COOKIE}={token}"))
        .header("sec-fetch-site", site)
        .header("sec-fetch-mode", mode)
        .header("sec-fetch-dest", dest)
        .body(Body::empty())
        .expect("request")
}

db_test!(other_sites_cannot_make_staff_browsers_read_records, |db| {
    world(&db).await;
    let router = app(db.clone());
    let therapist = sign_in(&db, Caller::Therapist).await.expect("token");
    let patient = sign_in(&db, Caller::Patient).await.expect("token");
    let rows = || count(&db, "SELECT COUNT(*) FROM access_log");

    // Another site links, frames, or fetches the record: nothing of it, and no row.
    for (site, mode, dest) in [
        ("cross-site", "navigate", "document"),
        ("cross-site", "no-cors", "image"),
        ("cross-site", "cors", "empty"),
        ("same-site", "navigate", "iframe"),
    ] {
        let before = rows().await;
        for path in [
            "/mottagning/patient/401",
            "/mottagning",
            "/api/unit_patients",
        ] {
            let answer = send(&router, browser_get(path, &therapist, site, mode, dest)).await;
            assert!(
                !answer.body.contains("Petra") && !answer.body.contains("INTERNAL-NOTE"),
                "{site} {dest} {path}: {}",
                answer.body
            );
            if path.starts_with("/mottagning") {
                // A person who followed a link opens it from here.
                assert!(
                    answer.body.contains(&format!("href=\"{path}\"")),
                    "{site} {dest} {path}: {}",
                    answer.body
                );
            }
        }
        assert_eq!(rows().await, before, "{site} {mode} {dest} wrote a row");
    }

    // Our own pages, a client-side navigation's fetch, an EventSource, a typed address: the
    // record, logged.
    for (site, mode, dest, path) in [
        (
            "same-origin",
            "navigate",
            "document",
            "/mottagning/patient/401",
        ),
        ("same-origin", "cors", "empty", "/mottagning/patient/401"),
        ("none", "navigate", "document", "/mottagning/patient/401"),
    ] {
        let before = rows().await;
        let mut request = browser_get(path, &therapist, site, mode, dest);
        if dest == "empty" && path.starts_with("/mottagning") {
            request
                .headers_mut()
                .insert(header::ACCEPT, "text/event-stream".parse().expect("header"));
        }
        let answer = send(&router, request).await;
        assert_eq!(
            answer.status,
            StatusCode::OK,
            "{site} {path}: {}",
            answer.body
        );
        assert!(
            answer.body.contains("Petra"),
            "{site} {path}: {}",
            answer.body
        );
        assert_eq!(rows().await, before + 1, "{site} {mode} {dest} {path}");
    }

    // Landing after signing in: the identity provider's answer and the page it leads to come
    // from another site's redirect chain. A patient lands on their own page (which writes no
    // access-log row); staff land on the assignment choice, whose form then posts from here.
    let landed = send(
        &router,
        browser_get(
            "/mina-sidor",
            &patient,
            "cross-site",
            "navigate",
            "document",
        ),
    )
    .await;
    assert_eq!(landed.status, StatusCode::OK);
    assert!(landed.body.contains("Petra"), "{}", landed.body);
    let choice = send(
        &router,
        browser_get(
            "/logga-in/uppdrag",
            &therapist,
            "cross-site",
            "navigate",
            "document",
        ),
    )
    .await;
    assert!(
        !choice.body.contains("Fortsätt till Lotsen"),
        "{}",
        choice.body
    );
});

db_test!(administrators_cannot_grant_roles_to_themselves, |db| {
    world(&db).await;
    let router = app(db.clone());
    let roles = || count(&db, "SELECT COUNT(*) FROM staff_role");
    let before = roles().await;
    let access_admin = sign_in(&db, Caller::AccessAdministrator)
        .await
        .expect("token");
    for role in ["therapist", "producer", "publisher", "patient_admin"] {
        let answer = send(
            &router,
            form(
                "/api/grant_role",
                &format!("staff_person_id=103&role={role}"),
                &access_admin,
            ),
        )
        .await;
        assert_eq!(
            answer.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{role}: {}",
            answer.body
        );
        assert!(answer.body.contains("own_roles"), "{}", answer.body);
    }
    let provider_admin = sign_in(&db, Caller::CareProviderAdministrator)
        .await
        .expect("token");
    let answer = send(
        &router,
        form(
            "/api/appoint_access_admin",
            "unit_id=11&staff_person_id=104",
            &provider_admin,
        ),
    )
    .await;
    assert_eq!(
        answer.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        answer.body
    );
    assert_eq!(roles().await, before, "nothing granted");
    // Someone else, the same way: granted.
    let granted = send(
        &router,
        form(
            "/api/grant_role",
            "staff_person_id=107&role=publisher",
            &access_admin,
        ),
    )
    .await;
    assert_eq!(granted.status, StatusCode::OK, "{}", granted.body);
    assert_eq!(roles().await, before + 1);
});

/// Starts `lotsen serve` on the database and waits up to 60 s for it to listen or to stop:
/// `Ok(log)` if it listened (it is stopped again), `Err(log)` if it stopped by itself.
fn serve_briefly(url: &str, extra: &[&str]) -> Result<String, String> {
    use std::io::{BufRead, Read};
    let media = std::env::temp_dir().join("lotsen-serve-test");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_lotsen"))
        .args(["serve", "--addr", "127.0.0.1:0", "--database-url", url])
        .args(extra)
        .arg("--media-dir")
        .arg(&media)
        .env("LOTSEN_LOG_FORMAT", "text")
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run lotsen");
    let stdout = child.stdout.take().expect("stdout");
    let (lines, seen) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    let mut log = String::new();
    let listened = loop {
        match seen.recv_timeout(std::time::Duration::from_secs(60)) {
            Ok(line) => {
                log.push_str(&line);
                log.push('\n');
                if line.contains("Lotsen is listening") {
                    break true;
                }
            }
            // Output closed (the process ended) or nothing for a minute.
            Err(_) => break false,
        }
    };
    let _ = child.kill();
    let _ = child.wait();
    if let Some(mut stderr) = child.stderr.take() {
        let _ = stderr.read_to_string(&mut log);
    }
    if listened { Ok(log) } else { Err(log) }
}

db_test!(
    demo_mode_never_serves_a_database_with_real_care_data,
    |db, url| {
        // An empty database: demo mode starts.
        let started = serve_briefly(&url, &[]);
        assert!(started.is_ok(), "{started:?}");
        // Real care providers and patients in it: no identity provider means no start at all.
        world(&db).await;
        let refused = serve_briefly(&url, &[]).expect_err("demo mode on real data");
        assert!(
            refused.contains("holds real care data (2 care provider(s), 4 patient(s))"),
            "{refused}"
        );
    }
);

/// Log lines written while a test runs on this thread.
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

thread_local! {
    static CAPTURE: std::cell::RefCell<Option<Captured>> = const { std::cell::RefCell::new(None) };
}

/// Writes to the capture of the thread that logs, if its test set one, and nowhere otherwise.
struct ThisThread;

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for ThisThread {
    type Writer = tracing_subscriber::fmt::writer::EitherWriter<Captured, std::io::Sink>;
    fn make_writer(&'a self) -> Self::Writer {
        match CAPTURE.with(|capture| capture.borrow().clone()) {
            Some(captured) => tracing_subscriber::fmt::writer::EitherWriter::A(captured),
            None => tracing_subscriber::fmt::writer::EitherWriter::B(std::io::sink()),
        }
    }
}

/// Ends this thread's capture.
struct Capturing(Captured);

impl Drop for Capturing {
    fn drop(&mut self) {
        CAPTURE.with(|capture| capture.borrow_mut().take());
    }
}

/// Captures the JSON log lines written on this thread until the guard drops.
///
/// The subscriber is the process's global one, installed once, and not a thread-scoped
/// `set_default`: `tracing` caches each call site's interest for the whole process, and while
/// only one dispatcher exists it asks the default of whichever thread reaches the site first.
/// With a scoped subscriber, a parallel test reaching the security log's call site first, on a
/// thread without one, cached "never" and the events of this test were lost (seen with four
/// test threads). A global subscriber is every thread's default, so the interest is the same
/// whichever thread computes it; the cache is rebuilt once it is in place, for a site that
/// registered between the dispatcher's creation and its install.
fn capture_logs() -> Capturing {
    static INSTALLED: std::sync::OnceLock<()> = std::sync::OnceLock::new();
    INSTALLED.get_or_init(|| {
        let subscriber = tracing_subscriber::fmt()
            .json()
            .flatten_event(true)
            .with_max_level(tracing::Level::INFO)
            .with_writer(ThisThread)
            .finish();
        tracing::subscriber::set_global_default(subscriber)
            .expect("no other global subscriber in the test binary");
        tracing::callsite::rebuild_interest_cache();
    });
    let captured = Captured::default();
    CAPTURE.with(|capture| *capture.borrow_mut() = Some(captured.clone()));
    Capturing(captured)
}

db_test!(security_events_are_logged_with_one_schema, |db| {
    world(&db).await;
    let capturing = capture_logs();
    let captured = capturing.0.clone();
    let router = app(db.clone());

    // Refusals: nobody signed in (401), the wrong role (403), another region's patient (404).
    send(&router, post("/api/unit_patients", String::new(), None)).await;
    let patient = sign_in(&db, Caller::Patient).await;
    send(
        &router,
        post("/api/unit_patients", String::new(), patient.as_deref()),
    )
    .await;
    let therapist = sign_in(&db, Caller::Therapist).await;
    send(
        &router,
        post(
            "/api/patient_record",
            "patient_id=404".into(),
            therapist.as_deref(),
        ),
    )
    .await;
    // A grant and its revocation.
    let admin = sign_in(&db, Caller::AccessAdministrator)
        .await
        .expect("token");
    let granted = send(
        &router,
        form(
            "/api/grant_role",
            "staff_person_id=102&role=producer",
            &admin,
        ),
    )
    .await;
    assert_eq!(granted.status, StatusCode::OK, "{}", granted.body);
    let grant = count(
        &db,
        "SELECT id FROM staff_role WHERE staff_person_id = 102 AND role = 'producer'",
    )
    .await;
    let revoked = send(
        &router,
        form("/api/revoke_role", &format!("grant_id={grant}"), &admin),
    )
    .await;
    assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.body);
    // A demo visitor comes in.
    let demo = send(
        &router,
        post("/demo/start", "persona=therapist".into(), None),
    )
    .await;
    assert_eq!(demo.status, StatusCode::SEE_OTHER, "{}", demo.body);

    let text = String::from_utf8(captured.0.lock().expect("lock").clone()).expect("utf-8");
    let events: Vec<serde_json::Value> = text
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|event| event["target"] == "security")
        .collect();
    for event in &events {
        for field in [
            "timestamp",
            "event",
            "outcome",
            "actor",
            "session",
            "address",
            "detail",
        ] {
            assert!(event[field].is_string(), "{field} missing: {event}");
        }
        assert!(
            event["timestamp"]
                .as_str()
                .is_some_and(|t| t.ends_with('Z')),
            "UTC: {event}"
        );
    }
    let find = |event: &str, outcome: &str, actor: &str| {
        events
            .iter()
            .any(|e| e["event"] == event && e["outcome"] == outcome && e["actor"] == actor)
    };
    assert!(find("authorization_refused", "401", "-"), "{text}");
    assert!(
        find("authorization_refused", "403", "patient:401"),
        "{text}"
    );
    assert!(find("authorization_refused", "404", "SE-101"), "{text}");
    assert!(find("role_granted", "success", "SE-103"), "{text}");
    assert!(find("role_revoked", "success", "SE-103"), "{text}");
    assert!(
        events
            .iter()
            .any(|e| e["event"] == "demo_sign_in" && e["detail"] == "therapist"),
        "{text}"
    );
    // The session is named by its tag, never by its token; nobody by a personal identity number.
    let token = therapist.expect("token");
    assert!(!text.contains(&token));
    assert!(
        events.iter().any(|e| e["session"]
            .as_str()
            .is_some_and(|s| s.len() == 16 && token.len() == 64)),
        "{text}"
    );
    for number in [
        "199107172380",
        "199006022397",
        "199610202385",
        "191212121212",
    ] {
        assert!(!text.contains(number), "{number} in the log: {text}");
    }
});

db_test!(
    rows_cut_off_and_rechained_are_found_through_the_anchor_file,
    |db, url| {
        world(&db).await;
        let router = app(db.clone());
        let therapist = sign_in(&db, Caller::Therapist).await;
        let file = std::env::temp_dir().join(format!(
            "lotsen-anchors-{}-{:?}.txt",
            std::process::id(),
            db.get_database_backend()
        ));
        let _ = std::fs::remove_file(&file);
        let sinks = lotsen_server::AnchorSinks {
            file: Some(file.clone()),
            command: Some(format!("cat >> {}.cmd", file.display())),
        };
        read_records(&router, therapist.as_deref(), &[401, 402]).await;
        lotsen_server::record_anchor(&db, &sinks).await;
        read_records(&router, therapist.as_deref(), &[401, 402]).await;
        lotsen_server::record_anchor(&db, &sinks).await;
        let written = std::fs::read_to_string(&file).expect("anchor file");
        assert_eq!(written.lines().count(), 2, "{written}");
        let sent = std::fs::read_to_string(format!("{}.cmd", file.display())).expect("command");
        assert_eq!(sent.lines().count(), 2, "{sent}");
        let last: i64 = written
            .lines()
            .last()
            .and_then(|l| l.split_whitespace().last())
            .and_then(|a| a.split(':').next())
            .and_then(|id| id.parse().ok())
            .expect("anchored id");
        let verify = |extra: &[&str]| {
            let mut args = vec!["audit", "verify"];
            args.extend_from_slice(extra);
            lotsen(&url, &args)
        };
        let path = file.display().to_string();
        let (ok, intact) = verify(&["--anchor-file", &path]);
        assert!(ok, "{intact}");
        assert!(intact.contains("2 anchor(s)"), "{intact}");

        // The tail is cut off and new rows are appended: the chain links up again...
        if db.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
            db.execute_unprepared("ALTER TABLE access_log DISABLE TRIGGER USER")
                .await
                .expect("disable");
        }
        db.execute_unprepared(&format!("DELETE FROM access_log WHERE id >= {}", last - 1))
            .await
            .expect("cut");
        read_records(&router, therapist.as_deref(), &[401, 402, 401]).await;
        let (ok, unanchored) = verify(&[]);
        assert!(ok, "{unanchored}");
        // ...but not with what was recorded outside.
        let (ok, anchored) = verify(&["--anchor-file", &path]);
        assert!(!ok, "{anchored}");
        assert!(anchored.contains(&format!("row id {last}:")), "{anchored}");
        let _ = std::fs::remove_file(&file);
        let _ = std::fs::remove_file(format!("{}.cmd", file.display()));
    }
);

db_test!(
    the_runtime_role_can_only_append_to_the_access_log,
    |db, url| {
        if db.get_database_backend() != sea_orm::DatabaseBackend::Postgres {
            // SQLite has no roles: a pilot runs as one user.
            return;
        }
        world(&db).await;
        let role = format!("lotsen_rt_{}", std::process::id());
        db.execute_unprepared(&format!("DROP ROLE IF EXISTS {role}"))
            .await
            .ok();
        db.execute_unprepared(&format!("CREATE ROLE {role} LOGIN"))
            .await
            .expect("role");
        // The owner itself (a superuser here) is refused as a runtime role.
        let (ok, _) = lotsen(&url, &["migrate", "--runtime-role", "postgres"]);
        assert!(!ok, "a superuser accepted as the runtime role");
        let (ok, out) = lotsen(&url, &["migrate", "--runtime-role", &role]);
        assert!(ok, "{out}");
        let (ok, again) = lotsen(&url, &["migrate", "--runtime-role", &role]);
        assert!(ok, "{again}");
        // The same database, as the runtime role.
        let (scheme_user, rest) = url.split_once('@').expect("user in the URL");
        let runtime_url = format!(
            "{}{role}@{rest}",
            &scheme_user[..scheme_user.find("://").expect("scheme") + 3]
        );
        {
            let runtime = sea_orm::Database::connect(&runtime_url)
                .await
                .expect("connect as the runtime role");
            // The server's work: reading records writes the log.
            let router = app(runtime.clone());
            let therapist = sign_in(&runtime, Caller::Therapist).await;
            read_records(&router, therapist.as_deref(), &[401, 402]).await;
            assert_eq!(count(&runtime, "SELECT COUNT(*) FROM access_log").await, 2);
            for (statement, refusal) in [
                (
                    "UPDATE access_log SET outcome = 'allowed'",
                    "permission denied",
                ),
                ("DELETE FROM access_log", "permission denied"),
                ("TRUNCATE access_log", "permission denied"),
                (
                    "ALTER TABLE access_log DISABLE TRIGGER USER",
                    "must be owner",
                ),
                ("DROP TABLE access_log", "must be owner"),
            ] {
                let error = runtime
                    .execute_unprepared(statement)
                    .await
                    .expect_err(statement)
                    .to_string();
                assert!(error.contains(refusal), "{statement}: {error}");
            }
            // A demo sandbox still goes with its own log rows.
            let sandbox = app::demo::sandbox::create(
                &runtime,
                &app::demo::sandbox::DemoConfig::default(),
                chrono::Duration::hours(1),
            )
            .await
            .expect("sandbox");
            runtime
            .execute_unprepared(&format!(
                "INSERT INTO access_log (occurred_at, user_hsa_id, action, object_type, outcome, \
                 needs_follow_up, prev_hash, hash, sandbox_id) VALUES (CURRENT_TIMESTAMP, 'x', \
                 'read', 'patient_record', 'allowed', FALSE, 'p', 'h', {sandbox})"
            ))
            .await
            .expect("a sandbox row");
            app::demo::sandbox::delete(&runtime, sandbox)
                .await
                .expect("delete the sandbox");
            assert_eq!(count(&runtime, "SELECT COUNT(*) FROM access_log").await, 2);
            runtime.close().await.expect("close");
        }
        // It serves without migrating; it would not migrate a database that needs it.
        let served = serve_briefly(
            &runtime_url,
            &[
                "--no-migrate",
                "--staff-oidc-issuer",
                "http://127.0.0.1:9/",
                "--staff-oidc-client-id",
                "x",
                "--public-url",
                "http://127.0.0.1:3000",
            ],
        );
        assert!(served.is_ok(), "{served:?}");
        for statement in [
            format!("REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {role}"),
            format!("DROP OWNED BY {role}"),
            format!("DROP ROLE {role}"),
        ] {
            db.execute_unprepared(&statement).await.ok();
        }
    }
);

/// A form posted by a browser without JavaScript, as `ActionForm` renders it: HTML accepted,
/// sent from `page`.
fn browser_form(path: &str, body: &str, token: &str, page: &str) -> Request<Body> {
    let mut request = form(path, body, token);
    let headers = request.headers_mut();
    headers.insert(
        header::ACCEPT,
        header::HeaderValue::from_static("text/html,application/xhtml+xml"),
    );
    headers.insert(
        header::REFERER,
        header::HeaderValue::from_str(&format!("https://lotsen.test{page}")).expect("referer"),
    );
    request
}

db_test!(
    a_form_without_javascript_shows_its_refusal_on_its_own_page,
    |db| {
        world(&db).await;
        let router = app(db.clone());
        let roles = || count(&db, "SELECT COUNT(*) FROM staff_role");
        let before = roles().await;
        let admin = sign_in(&db, Caller::AccessAdministrator)
            .await
            .expect("token");
        let own_id = 103;
        // Refused (an administrator granting themselves a role): back to the page, with the error.
        let refused = send(
            &router,
            browser_form(
                "/api/grant_role",
                &format!("staff_person_id={own_id}&role=producer"),
                &admin,
                "/behorigheter",
            ),
        )
        .await;
        assert_eq!(refused.status, StatusCode::FOUND, "{}", refused.body);
        let location = refused.headers[header::LOCATION]
            .to_str()
            .expect("location")
            .to_owned();
        assert!(
            location.starts_with("https://lotsen.test/behorigheter?")
                && location.contains("__path=%2Fapi%2Fgrant_role")
                && location.contains("__err="),
            "{location}"
        );
        assert!(
            !location.contains("producer"),
            "what was sent stays out: {location}"
        );
        assert_eq!(roles().await, before, "nothing granted");
        let path = location.trim_start_matches("https://lotsen.test");
        let page = send(
            &router,
            browser_get(path, &admin, "same-origin", "navigate", "document"),
        )
        .await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(
            page.body.contains(
                r#"<p role="alert" class="error">Du kan inte ge dig själv roller eller ta bort dina egna."#
            ),
            "the page says why"
        );
        // The same page without the error says nothing of the kind.
        let plain = send(
            &router,
            browser_get(
                "/behorigheter",
                &admin,
                "same-origin",
                "navigate",
                "document",
            ),
        )
        .await;
        assert!(
            !plain.body.contains(r#"role="alert""#),
            "no alert without an error"
        );
        // Allowed: back to the page, nothing in its address, and the grant is there.
        let granted = send(
            &router,
            browser_form(
                "/api/grant_role",
                "staff_person_id=107&role=publisher",
                &admin,
                "/behorigheter?__path=%2Fapi%2Fgrant_role&__err=old",
            ),
        )
        .await;
        assert_eq!(granted.status, StatusCode::FOUND);
        let back = granted.headers[header::LOCATION]
            .to_str()
            .expect("location");
        assert_eq!(
            back.trim_end_matches('?'),
            "https://lotsen.test/behorigheter",
            "the old error is gone from the address"
        );
        assert_eq!(roles().await, before + 1);
        // A script's call (no HTML accepted) still gets the refusal's own status.
        let scripted = send(
            &router,
            form(
                "/api/grant_role",
                &format!("staff_person_id={own_id}&role=producer"),
                &admin,
            ),
        )
        .await;
        assert_eq!(scripted.status, StatusCode::UNPROCESSABLE_ENTITY);
    }
);

// The patient's own functions across the demo wall: a demo visitor's patient, in a sandbox,
// names a real treatment's id, and a real patient names the sandbox's: each is "not found",
// answers with nothing of the other side, and writes nothing there.
db_test!(own_data_functions_do_not_cross_the_sandbox_wall, |db| {
    world(&db).await;
    seed_canaries(&db).await;
    let router = app(db.clone());
    let sandbox = count(&db, "SELECT MAX(sandbox_id) FROM patient").await;
    let demo_patient = count(
        &db,
        &format!(
            "SELECT MIN(patient_id) FROM enrolment WHERE sandbox_id = {sandbox} \
             AND test_by_staff_id IS NULL"
        ),
    )
    .await;
    let demo_enrolment = count(
        &db,
        &format!(
            "SELECT MIN(id) FROM enrolment WHERE sandbox_id = {sandbox} \
             AND patient_id = {demo_patient}"
        ),
    )
    .await;
    let demo = session::create(
        &db,
        &SessionConfig::default(),
        Subject::Patient {
            patient_id: demo_patient,
        },
        Some(sandbox),
        Some("patient"),
        None,
    )
    .await
    .expect("demo session");
    let real = sign_in(&db, Caller::Patient).await.expect("token");
    // The demo patient reaches their own treatment: the wall is not merely closed.
    let own = send(
        &router,
        post(
            "/api/my_treatment",
            format!("enrolment={demo_enrolment}"),
            Some(&demo),
        ),
    )
    .await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.body);

    let written = "SELECT (SELECT COUNT(*) FROM form_response) + (SELECT COUNT(*) FROM message) \
        + (SELECT COUNT(*) FROM homework_entry) + (SELECT COUNT(*) FROM page_visit) \
        + (SELECT COUNT(*) FROM due_form)";
    let before = count(&db, written).await;
    let mut failures = Vec::new();
    for (token, enrolment, foreign) in [
        (&demo, 701, ["Petra", "CANARY-NOTE-A2"]),
        (&real, demo_enrolment, ["Kanariesand", "Kanariesand"]),
    ] {
        let key = app::auth::session::new_token().expect("key");
        for (function, body) in [
            ("my_treatment", format!("enrolment={enrolment}")),
            (
                "my_page",
                format!("enrolment={enrolment}&module=m1&step=p1"),
            ),
            (
                "my_due_form",
                format!("enrolment={enrolment}&schedule=gad-weekly"),
            ),
            ("my_results", format!("enrolment={enrolment}")),
            ("my_messages", format!("enrolment={enrolment}")),
            (
                "send_message",
                format!("enrolment={enrolment}&body=Hej&submit_key={key}"),
            ),
            (
                "answer_form",
                format!(
                    "enrolment={enrolment}&place=block%3Am1%2Fp2%2Fphq&submit_key={key}\
                     &intent=submit&answers%5Bphq9_1%5D=1"
                ),
            ),
            (
                "save_homework",
                format!(
                    "enrolment={enrolment}&place=block%3Am4%2Fp5%2Fdiary&submit_key={key}\
                     &intent=submit&fields%5Bnight%5D=2026-11-29"
                ),
            ),
        ] {
            let answer = send(
                &router,
                post(&format!("/api/{function}"), body, Some(token)),
            )
            .await;
            if answer.status != StatusCode::NOT_FOUND {
                failures.push(format!(
                    "{function} of {enrolment}: {} {}",
                    answer.status, answer.body
                ));
            }
            for text in foreign {
                if answer.body.contains(text) {
                    failures.push(format!("{function} of {enrolment} showed {text}"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(count(&db, written).await, before, "nothing written across");
});
