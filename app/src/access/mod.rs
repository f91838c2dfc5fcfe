//! The access administrator's screen: the staff with an assignment at the administrator's unit,
//! their roles there, granting and revoking them. Revoking a role ends every session of that
//! person at once, so that nothing they opened stays open.

mod components;
mod provider;
#[cfg(feature = "ssr")]
mod queries;

pub use components::{AccessAdminPage, ProviderAdminPage};
pub use provider::*;

use crate::auth::Role;
use crate::error::AppError;
use lotsen_macros::endpoint;
use serde::{Deserialize, Serialize};

/// Roles an access administrator may grant at their unit. Access administrators themselves are
/// appointed by the care provider's administrator.
pub const GRANTABLE: [Role; 4] = [
    Role::Therapist,
    Role::PatientAdministrator,
    Role::Producer,
    Role::Publisher,
];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitStaff {
    pub staff_person_id: i64,
    pub name: String,
    pub hsa_id: String,
    /// (grant id, role), active grants at this unit.
    pub roles: Vec<(i64, Role)>,
}

#[endpoint("unit_staff")]
pub async fn list_unit_staff() -> Result<Vec<UnitStaff>, AppError> {
    let principal = crate::auth::gate::enter(ENDPOINT)?;
    let db = crate::server::db()?;
    Ok(queries::unit_staff(&db, queries::unit_of(&principal)?).await?)
}

#[endpoint]
pub async fn grant_role(staff_person_id: i64, role: Role) -> Result<(), AppError> {
    let principal = crate::auth::gate::enter(ENDPOINT)?;
    let db = crate::server::db()?;
    queries::grant(&db, &principal, staff_person_id, role)
        .await
        .map_err(crate::auth::gate::refuse)
}

#[endpoint]
pub async fn revoke_role(grant_id: i64) -> Result<(), AppError> {
    let principal = crate::auth::gate::enter(ENDPOINT)?;
    let db = crate::server::db()?;
    queries::revoke(&db, &principal, grant_id)
        .await
        .map_err(crate::auth::gate::refuse)
}
