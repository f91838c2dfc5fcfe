//! The signed-in user of one request, as the session middleware found them.

use super::{Me, Role, UserKind};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub session_id: i64,
    /// The first 16 hex digits of the session token's sha256 (what the database keeps): names
    /// the session in the security log without revealing the token.
    pub session_tag: String,
    /// Set for demo visitors: everything they reach lies inside this sandbox.
    pub sandbox_id: Option<i64>,
    pub demo_persona: Option<String>,
    pub who: Who,
    /// Set while a producer or publisher tests a program as a patient: the one test enrolment
    /// their session is bound to. Only staff holding one of those roles carry it.
    pub test: Option<TestBinding>,
}

/// A staff member's session bound to one of their own test enrolments: the test principal
/// reaches that enrolment (and its test patient) the way a patient reaches their own, and no
/// other patient data. It is never a patient session: the actor stays the staff member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TestBinding {
    pub enrolment_id: i64,
    pub patient_id: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Who {
    Patient { patient_id: i64, name: String },
    Staff(Staff),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Staff {
    pub staff_person_id: i64,
    pub name: String,
    pub hsa_id: String,
    /// The assignment chosen after login; nothing unit-bound is open without one.
    pub assignment: Option<Assignment>,
    /// Roles in effect in the chosen assignment: granted at its unit, or provider-wide.
    pub roles: Vec<Role>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    pub id: i64,
    pub commission_hsa_id: String,
    /// The assignment's purpose is care and treatment ("Vård och behandling").
    pub for_care: bool,
    pub care_unit_id: i64,
    pub care_unit_hsa_id: String,
    pub care_unit_name: String,
    pub care_provider_id: i64,
    pub care_provider_org_number: String,
    /// Regions are public care providers; their staff names may be shown to patients.
    pub care_provider_public: bool,
}

/// The client's address as the rate limits count it (an IPv6 client by its /64), put into
/// every request's extensions by the server, for the security log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddress(pub std::net::IpAddr);

impl Principal {
    /// Who acted, for the security log: a staff member's HSA-ID, or a patient's internal id
    /// (never a personal identity number).
    pub fn actor(&self) -> String {
        match &self.who {
            Who::Staff(staff) => staff.hsa_id.clone(),
            Who::Patient { patient_id, .. } => format!("patient:{patient_id}"),
        }
    }

    pub fn patient_id(&self) -> Option<i64> {
        match &self.who {
            Who::Patient { patient_id, .. } => Some(*patient_id),
            Who::Staff(_) => None,
        }
    }

    pub fn staff(&self) -> Option<&Staff> {
        match &self.who {
            Who::Staff(staff) => Some(staff),
            Who::Patient { .. } => None,
        }
    }

    pub fn has_role(&self, role: Role) -> bool {
        self.staff().is_some_and(|s| s.roles.contains(&role))
    }

    pub fn me(&self) -> Me {
        if self.test.is_some() {
            return Me {
                kind: UserKind::Patient,
                name: self.staff().map(|s| s.name.clone()).unwrap_or_default(),
                unit: None,
                roles: Vec::new(),
                demo_persona: self.demo_persona.clone(),
                testing: true,
            };
        }
        match &self.who {
            Who::Patient { name, .. } => Me {
                kind: UserKind::Patient,
                name: name.clone(),
                unit: None,
                roles: Vec::new(),
                demo_persona: self.demo_persona.clone(),
                testing: false,
            },
            Who::Staff(staff) => Me {
                kind: UserKind::Staff,
                name: staff.name.clone(),
                unit: staff.assignment.as_ref().map(|a| a.care_unit_name.clone()),
                roles: staff.roles.clone(),
                demo_persona: self.demo_persona.clone(),
                testing: false,
            },
        }
    }
}
