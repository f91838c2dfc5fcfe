//! The patient's own pages: their programs, "who has read my data", and "my data": everything
//! Lotsen keeps about them as a page and as a JSON download (never therapist-internal notes).

mod components;
#[cfg(feature = "ssr")]
mod queries;

pub use components::{MyDataPage, PatientHome};

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

/// Everything Lotsen keeps about the signed-in patient that is theirs to see: their details,
/// each treatment's record, and who of the staff has read their data. Therapist-internal notes
/// are not part of it (they are the care provider's; a full request under GDPR art. 15 goes to
/// the care provider).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwnData {
    /// UTC, `YYYY-MM-DD HH:MM`.
    pub made_at: String,
    pub name: String,
    pub personnummer: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub notify_by_email: bool,
    pub notify_by_sms: bool,
    pub treatments: Vec<crate::care::TreatmentRecord>,
    pub accesses: Vec<AccessSeen>,
}

/// The patient's own data, for the page and the download (`GET /mina-sidor/mina-uppgifter.json`).
#[endpoint]
pub async fn my_data() -> Result<OwnData, AppError> {
    let principal = crate::auth::gate::enter(ENDPOINT)?;
    let own = crate::auth::scope::OwnCare::of(&principal).ok_or(AppError::Forbidden)?;
    let db = crate::server::db()?;
    gather(&db, &own).await
}

/// Everything of [`OwnData`], within the patient's own scope.
#[cfg(feature = "ssr")]
pub async fn gather(
    db: &sea_orm::DatabaseConnection,
    own: &crate::auth::scope::OwnCare,
) -> Result<OwnData, AppError> {
    let person = own.person(db).await?.ok_or(AppError::NotFound)?;
    let mut treatments = Vec::new();
    for enrolment in own.all_enrolments(db).await? {
        // A treatment whose version cannot be read (logged where it failed) does not keep the
        // rest from the patient.
        match crate::care::treatment_record(db, &enrolment).await {
            Ok(record) => treatments.push(record),
            Err(AppError::Unavailable) => {}
            Err(error) => return Err(error),
        }
    }
    Ok(OwnData {
        made_at: chrono::Utc::now().format("%Y-%m-%d %H:%M").to_string(),
        name: format!("{} {}", person.given_name, person.family_name)
            .trim()
            .to_owned(),
        personnummer: person.personnummer,
        email: person.email,
        phone: person.phone,
        notify_by_email: person.notify_by_email,
        notify_by_sms: person.notify_by_sms,
        treatments,
        accesses: queries::accesses(db, own).await?,
    })
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
