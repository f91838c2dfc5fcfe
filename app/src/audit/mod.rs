//! The patient-data access log (Patient Data Act, 4 ch. 3 §): who read or changed which
//! patient's data, when, in which assignment and care unit, and whether it was allowed.
//!
//! Rows are hash-chained: `hash = sha256(prev_hash || canonical(row))`, one chain for real care
//! and one per demo sandbox. The application has no update or delete path for real rows, and on
//! PostgreSQL a trigger refuses them. [`verify`] walks every chain and names the first row whose
//! content or link does not match.

#[cfg(feature = "ssr")]
mod chain;
mod components;
#[cfg(feature = "ssr")]
pub mod search;

pub use components::AuditPage;

use crate::error::AppError;
use leptos::prelude::*;
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
#[server(endpoint = "audit_search")]
pub async fn audit_search(
    #[server(default)] filter: AuditFilter,
) -> Result<Vec<AuditRow>, AppError> {
    let principal = crate::auth::gate::enter("audit_search")?;
    let db = crate::server::db()?;
    search::for_auditor(&db, &principal, &filter, search::Purpose::Screen)
        .await
        .map_err(crate::auth::gate::refuse)
}

#[cfg(feature = "ssr")]
pub(crate) use chain::hex;
#[cfg(feature = "ssr")]
pub use chain::{
    Action, Anchor, Broken, Entry, Outcome, VerifyReport, append, append_all, head, verify,
    verify_anchored,
};
