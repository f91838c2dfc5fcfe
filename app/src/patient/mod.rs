//! The patient's own pages: their programs and "who has read my data".

mod components;
#[cfg(feature = "ssr")]
mod queries;

pub use components::PatientHome;

use crate::error::AppError;
use lotsen_macros::endpoint;
use serde::{Deserialize, Serialize};

/// One of the patient's programs, as the patient sees it: no therapist-internal fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MyEnrolment {
    pub enrolment_id: i64,
    pub program: String,
    pub version: String,
    pub care_unit: String,
    pub therapist: Option<String>,
    pub state: crate::domain::EnrolmentState,
    /// `YYYY-MM-DD`.
    pub started: String,
}

/// One access to the patient's data by staff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessSeen {
    /// UTC, `YYYY-MM-DD HH:MM`.
    pub at: String,
    pub care_unit: String,
    /// Shown for public care providers (regions) only.
    pub staff_name: Option<String>,
    pub action: String,
}

#[endpoint]
pub async fn my_care() -> Result<Vec<MyEnrolment>, AppError> {
    let principal = crate::auth::gate::enter(ENDPOINT)?;
    let own = crate::auth::scope::OwnCare::of(&principal).ok_or(AppError::Forbidden)?;
    let db = crate::server::db()?;
    Ok(queries::enrolments(&db, &own).await?)
}

#[endpoint]
pub async fn who_read_my_data() -> Result<Vec<AccessSeen>, AppError> {
    let principal = crate::auth::gate::enter(ENDPOINT)?;
    let own = crate::auth::scope::OwnCare::of(&principal).ok_or(AppError::Forbidden)?;
    let db = crate::server::db()?;
    Ok(queries::accesses(&db, &own).await?)
}
