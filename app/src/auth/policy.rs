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
    /// Staff in an assignment for care and treatment, holding a clinical role at its unit.
    Clinical,
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
    ("my_care", Requirement::Patient),
    ("who_read_my_data", Requirement::Patient),
    ("unit_patients", Requirement::Clinical),
    ("patient_record", Requirement::Clinical),
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

pub fn requirement(endpoint: &str) -> Option<Requirement> {
    POLICY
        .iter()
        .find(|(name, _)| *name == endpoint)
        .map(|(_, requirement)| *requirement)
}
