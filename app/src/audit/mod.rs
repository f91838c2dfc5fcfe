//! The auditor's screen: searching the access log (`crate::access_log`) by patient, person,
//! unit and time, and exporting what was found. Searches and exports are themselves logged.

mod components;
#[cfg(feature = "ssr")]
pub mod search;

pub use components::AuditPage;

use crate::error::AppError;
use lotsen_macros::endpoint;
use serde::{Deserialize, Serialize};

/// What the auditor searches for. No personal identity numbers: patients are named by their
/// internal id (from a row's link), so that nothing personal ends up in an address.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AuditFilter {
    pub patient_id: Option<i64>,
    pub user_hsa_id: Option<String>,
    /// `YYYY-MM-DD`, inclusive, UTC.
    pub from: Option<String>,
    pub to: Option<String>,
    pub follow_up_only: bool,
}

/// One row of the access log as the auditor sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRow {
    pub id: i64,
    /// UTC, `YYYY-MM-DD HH:MM:SS`.
    pub at: String,
    pub user_hsa_id: String,
    pub user_name: Option<String>,
    pub care_unit: Option<String>,
    pub patient_id: Option<i64>,
    pub patient: Option<String>,
    pub action: String,
    pub outcome: String,
    pub reason: Option<String>,
    pub needs_follow_up: bool,
}

/// The auditor's search: rows of their own care provider only, newest first, at most 1,000.
#[endpoint]
pub async fn audit_search(
    #[server(default)] filter: AuditFilter,
) -> Result<Vec<AuditRow>, AppError> {
    let principal = crate::auth::gate::enter(ENDPOINT)?;
    let db = crate::server::db()?;
    search::for_auditor(&db, &principal, &filter, search::Purpose::Screen)
        .await
        .map_err(crate::auth::gate::refuse)
}
