#[cfg(feature = "ssr")]
use sea_orm::sea_query::StringLen;
use serde::{Deserialize, Serialize};

/// Application roles, granted in Lotsen per care unit (or care provider), never taken from the
/// identity provider. The patient is not a role: patients are their own kind of user.
///
/// Stored in `staff_role.role` as its code; SeaORM reads and writes it as this type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sea_orm::EnumIter, sea_orm::DeriveActiveEnum))]
#[cfg_attr(
    feature = "ssr",
    sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "therapist"))]
    Therapist,
    // The same names as in the database and in forms (`as_code`).
    #[serde(rename = "patient_admin")]
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "patient_admin"))]
    PatientAdministrator,
    /// Grants and revokes staff roles at one unit.
    #[serde(rename = "access_admin")]
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "access_admin"))]
    AccessAdministrator,
    /// Activates units and appoints their access administrators, for one care provider.
    #[serde(rename = "provider_admin")]
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "provider_admin"))]
    CareProviderAdministrator,
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "producer"))]
    Producer,
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "publisher"))]
    Publisher,
    #[serde(rename = "operator")]
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "operator"))]
    PlatformOperator,
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "auditor"))]
    Auditor,
}

impl Role {
    pub const ALL: [Role; 8] = [
        Role::Therapist,
        Role::PatientAdministrator,
        Role::AccessAdministrator,
        Role::CareProviderAdministrator,
        Role::Producer,
        Role::Publisher,
        Role::PlatformOperator,
        Role::Auditor,
    ];

    pub fn as_code(self) -> &'static str {
        match self {
            Self::Therapist => "therapist",
            Self::PatientAdministrator => "patient_admin",
            Self::AccessAdministrator => "access_admin",
            Self::CareProviderAdministrator => "provider_admin",
            Self::Producer => "producer",
            Self::Publisher => "publisher",
            Self::PlatformOperator => "operator",
            Self::Auditor => "auditor",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_code() == code)
    }

    /// Roles that open patient data, and only in an assignment for care and treatment.
    pub fn is_clinical(self) -> bool {
        matches!(self, Self::Therapist | Self::PatientAdministrator)
    }
}

/// Stored in `user_session.user_kind` as its code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sea_orm::EnumIter, sea_orm::DeriveActiveEnum))]
#[cfg_attr(
    feature = "ssr",
    sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")
)]
#[serde(rename_all = "snake_case")]
pub enum UserKind {
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "patient"))]
    Patient,
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "staff"))]
    Staff,
}

/// What the page shows about the signed-in user. No identity numbers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    pub kind: UserKind,
    pub name: String,
    /// The care unit of the chosen assignment, for staff.
    pub unit: Option<String>,
    /// Roles in effect in the chosen assignment.
    pub roles: Vec<Role>,
    /// In demo mode: the persona the visitor is trying.
    pub demo_persona: Option<String>,
    /// A producer or publisher testing a program as a patient (shown as a patient, with a
    /// banner to start over or stop).
    #[serde(default)]
    pub testing: bool,
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::Role;

    /// Forms send `as_code` names to server functions, which read them with serde.
    #[test]
    fn forms_and_serde_name_roles_alike() {
        for role in Role::ALL {
            let json = format!("\"{}\"", role.as_code());
            assert_eq!(serde_json::from_str::<Role>(&json).ok(), Some(role));
            assert_eq!(serde_json::to_string(&role).ok(), Some(json));
        }
    }
}
