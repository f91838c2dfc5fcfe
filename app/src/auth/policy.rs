//! The policy table: every server function, by endpoint, and who may call it at all. The gate
//! refuses an endpoint that has no row here, and the authorization matrix test fails for a
//! registered server function that has none. What a caller may touch *inside* a function
//! (which patient, which unit) is decided by the object checks in `gate`.

use super::Role;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requirement {
    /// Anyone, signed in or not. Must not return personal data.
    Public,
    /// Any signed-in user; the function returns only the caller's own things.
    SignedIn,
    /// A signed-in patient; the function returns only their own data.
    Patient,
    /// A signed-in patient, or a producer or publisher testing a program as one (a test
    /// principal): the function returns only the caller's own care, which for a test principal
    /// is their one test enrolment.
    PatientOrTester,
    /// A test principal: a producer or publisher whose session is bound to a test enrolment.
    Tester,
    /// Staff holding this role, or a test principal acting as their test's therapist (the
    /// function reaches only their test enrolment then).
    RoleOrTester(Role),
    /// Staff in an assignment for care and treatment, holding a clinical role at its unit.
    Clinical,
    /// As [`Requirement::Clinical`], holding this clinical role.
    ClinicalRole(Role),
    /// Staff holding this role in the chosen assignment.
    Role(Role),
    /// Staff holding any of these roles in the chosen assignment.
    AnyRole(&'static [Role]),
}

/// Those who work on programs: producers write them, publishers review and publish them.
pub const PROGRAM_STAFF: &[Role] = &[Role::Producer, Role::Publisher];

pub const POLICY: &[(&str, Requirement)] = &[
    ("service_overview", Requirement::Public),
    ("whoami", Requirement::Public),
    ("login_choices", Requirement::Public),
    ("my_sessions", Requirement::SignedIn),
    ("end_session", Requirement::SignedIn),
    ("my_care", Requirement::PatientOrTester),
    ("who_read_my_data", Requirement::PatientOrTester),
    ("my_data", Requirement::PatientOrTester),
    ("my_contact", Requirement::Patient),
    ("request_contact_code", Requirement::Patient),
    ("confirm_contact_code", Requirement::Patient),
    ("set_notifications", Requirement::Patient),
    ("my_treatment", Requirement::PatientOrTester),
    ("my_page", Requirement::PatientOrTester),
    ("my_due_form", Requirement::PatientOrTester),
    ("test_as_therapist", Requirement::Tester),
    ("answer_form", Requirement::PatientOrTester),
    ("my_results", Requirement::PatientOrTester),
    ("my_messages", Requirement::PatientOrTester),
    ("send_message", Requirement::PatientOrTester),
    ("save_homework", Requirement::PatientOrTester),
    ("reply_message", Requirement::Clinical),
    ("give_feedback", Requirement::RoleOrTester(Role::Therapist)),
    ("set_module", Requirement::RoleOrTester(Role::Therapist)),
    ("request_form", Requirement::RoleOrTester(Role::Therapist)),
    ("withdraw_form", Requirement::RoleOrTester(Role::Therapist)),
    ("unit_patients", Requirement::Clinical),
    ("dashboard", Requirement::Clinical),
    ("acknowledge_flag", Requirement::Role(Role::Therapist)),
    ("resolve_flag", Requirement::Role(Role::Therapist)),
    ("enrolment_choices", Requirement::Clinical),
    ("enrol_patients", Requirement::Clinical),
    ("patient_record", Requirement::Clinical),
    ("record_summary", Requirement::Clinical),
    ("change_treatment", Requirement::Role(Role::Therapist)),
    ("change_care_team", Requirement::Clinical),
    ("hand_over", Requirement::Clinical),
    ("add_note", Requirement::Role(Role::Therapist)),
    ("raise_flag", Requirement::Role(Role::Therapist)),
    ("audit_search", Requirement::Role(Role::Auditor)),
    ("unit_staff", Requirement::Role(Role::AccessAdministrator)),
    ("grant_role", Requirement::Role(Role::AccessAdministrator)),
    ("revoke_role", Requirement::Role(Role::AccessAdministrator)),
    (
        "provider_units",
        Requirement::Role(Role::CareProviderAdministrator),
    ),
    (
        "set_unit_active",
        Requirement::Role(Role::CareProviderAdministrator),
    ),
    (
        "set_crisis_info",
        Requirement::Role(Role::CareProviderAdministrator),
    ),
    (
        "appoint_access_admin",
        Requirement::Role(Role::CareProviderAdministrator),
    ),
    (
        "remove_access_admin",
        Requirement::Role(Role::CareProviderAdministrator),
    ),
    ("my_programs", Requirement::AnyRole(PROGRAM_STAFF)),
    ("create_program", Requirement::Role(Role::Producer)),
    ("program_draft", Requirement::Role(Role::Producer)),
    ("save_program_draft", Requirement::Role(Role::Producer)),
    ("upload_media", Requirement::Role(Role::Producer)),
    ("review_program", Requirement::AnyRole(PROGRAM_STAFF)),
    ("publish_program", Requirement::Role(Role::Publisher)),
    ("program_partners", Requirement::Role(Role::Publisher)),
    ("share_program", Requirement::Role(Role::Publisher)),
    ("unpublish_version", Requirement::Role(Role::Publisher)),
    (
        "catalogue",
        Requirement::Role(Role::CareProviderAdministrator),
    ),
    (
        "activate_program",
        Requirement::Role(Role::CareProviderAdministrator),
    ),
    (
        "deactivate_program",
        Requirement::Role(Role::CareProviderAdministrator),
    ),
    (
        "upgrade_enrolments",
        Requirement::Role(Role::CareProviderAdministrator),
    ),
];

/// Every plain route (not a server function), as `METHOD /path` the way the router writes it,
/// and who may call it at all. The router wraps each one in a check of its row (a route
/// without a row does not start), and the authorization matrix covers them all. Object checks
/// (which patient, which program) happen inside, as for server functions.
pub const ROUTES: &[(&str, Requirement)] = &[
    ("GET /healthz", Requirement::Public),
    // The live stream of the unit's care events, for its dashboards (scoped inside to the
    // assignment's unit and the sandbox).
    ("GET /mottagning/handelser", Requirement::Clinical),
    ("GET /readyz", Requirement::Public),
    ("POST /sprak", Requirement::Public),
    ("POST /demo/start", Requirement::Public),
    // Signing out without a session changes nothing.
    ("POST /logga-ut", Requirement::Public),
    ("POST /login/{audience}", Requirement::Public),
    ("GET /login/{audience}/callback", Requirement::Public),
    ("POST /logga-in/uppdrag", Requirement::Public),
    ("GET /granskning/logg.csv", Requirement::Role(Role::Auditor)),
    (
        "GET /mina-sidor/mina-uppgifter.json",
        Requirement::PatientOrTester,
    ),
    // A therapist's step, for care that cannot wait; not a patient administrator's.
    (
        "POST /mottagning/patient/{id}/nodatkomst",
        Requirement::ClinicalRole(Role::Therapist),
    ),
    // Staff of the owning or a sharing care provider, or patients enrolled: checked inside.
    ("GET /media/{program_id}/{*path}", Requirement::SignedIn),
    ("POST /program/importera", Requirement::Role(Role::Producer)),
    (
        "GET /program/{id}/paket/{version}",
        Requirement::AnyRole(PROGRAM_STAFF),
    ),
    // Testing a program as a patient: start (on a version of a program of the caller's care
    // provider, checked inside), start over, stop (stopping without a test changes nothing).
    (
        "POST /program/{id}/testa",
        Requirement::AnyRole(PROGRAM_STAFF),
    ),
    ("POST /testa/borja-om", Requirement::Tester),
    ("POST /testa/avsluta", Requirement::SignedIn),
];

/// The row of a plain route (`METHOD /path`).
pub fn route_requirement(route: &str) -> Option<Requirement> {
    row(ROUTES, route)
}

/// The row of a server function, by endpoint.
pub fn requirement(endpoint: &str) -> Option<Requirement> {
    row(POLICY, endpoint)
}

fn row(table: &[(&str, Requirement)], key: &str) -> Option<Requirement> {
    table
        .iter()
        .find(|(name, _)| *name == key)
        .map(|(_, requirement)| *requirement)
}
