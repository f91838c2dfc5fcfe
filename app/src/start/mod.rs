//! The public start page: what Lotsen is and how it works for patients, staff and care
//! providers, with live figures and the operational status read from the database.

mod components;
#[cfg(feature = "ssr")]
pub mod queries;

pub use components::StartPage;

use crate::error::AppError;
#[cfg(feature = "ssr")]
use leptos::prelude::*;
use lotsen_macros::endpoint;
use serde::{Deserialize, Serialize};

/// Public figures and current notices. Contains no personal data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceOverview {
    pub active_care_units: u64,
    pub published_programs: u64,
    pub ongoing_enrolments: u64,
    pub notices: Vec<StatusNotice>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Maintenance,
    Degraded,
    Outage,
}

impl Severity {
    pub fn from_code(code: &str) -> Self {
        match code {
            "maintenance" => Self::Maintenance,
            "degraded" => Self::Degraded,
            "outage" => Self::Outage,
            _ => Self::Info,
        }
    }

    pub fn as_code(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Maintenance => "maintenance",
            Self::Degraded => "degraded",
            Self::Outage => "outage",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusNotice {
    pub id: i64,
    pub severity: Severity,
    pub title_sv: String,
    pub title_en: String,
    pub body_sv: String,
    pub body_en: String,
    /// UTC date, `YYYY-MM-DD`.
    pub since: String,
}

/// Public: anyone may read the overview, signed in or not.
#[endpoint("service_overview")]
pub async fn get_service_overview() -> Result<ServiceOverview, AppError> {
    crate::auth::gate::public(ENDPOINT)?;
    let db = crate::server::db()?;
    let now = chrono::Utc::now();
    Ok(match use_context::<queries::OverviewCache>() {
        Some(cache) => cache.get(&db, now).await?,
        None => queries::overview(&db, now).await?,
    })
}
