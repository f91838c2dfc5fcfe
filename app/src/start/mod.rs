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
#[cfg(feature = "ssr")]
use sea_orm::sea_query::StringLen;
use serde::{Deserialize, Serialize};

/// Public figures and current notices. Contains no personal data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceOverview {
    pub active_care_units: u64,
    pub published_programs: u64,
    pub ongoing_enrolments: u64,
    pub notices: Vec<StatusNotice>,
}

/// How serious a status notice is. Stored in `status_notice.severity` as its code; SeaORM
/// reads and writes it as this type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sea_orm::EnumIter, sea_orm::DeriveActiveEnum))]
#[cfg_attr(
    feature = "ssr",
    sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")
)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "info"))]
    Info,
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "maintenance"))]
    Maintenance,
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "degraded"))]
    Degraded,
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "outage"))]
    Outage,
}

impl Severity {
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
