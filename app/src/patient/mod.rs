//! The patient's own pages: their programs, "who has read my data", and "my data": everything
//! Lotsen keeps about them as a page and as a JSON download (never therapist-internal notes).

mod components;
#[cfg(feature = "ssr")]
mod queries;

pub use components::{MyDataPage, NotificationsPage, PatientHome};

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

/// The patient's notification settings, for `/mina-sidor/aviseringar`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactSettings {
    pub email: Option<String>,
    pub phone: Option<String>,
    pub notify_by_email: bool,
    pub notify_by_sms: bool,
    /// Whether the settings can be changed (not in a demo sandbox).
    pub can_change: bool,
    /// Whether codes can be sent here (real mode with e-mail or SMS configured).
    pub can_confirm: bool,
    /// The addresses waiting for their code: (`email` or `sms`, the address).
    pub waiting: Vec<(String, String)>,
}

#[cfg(feature = "ssr")]
fn channel_of(code: &str) -> Result<crate::notify::Channel, AppError> {
    crate::notify::Channel::from_code(code)
        .ok_or_else(|| crate::error::invalid("channel", "invalid_channel"))
}

#[endpoint]
pub async fn my_contact() -> Result<ContactSettings, AppError> {
    let principal = crate::auth::gate::enter(ENDPOINT)?;
    let own = crate::auth::scope::OwnCare::of(&principal).ok_or(AppError::Forbidden)?;
    let db = crate::server::db()?;
    let person = own.person(&db).await?.ok_or(AppError::NotFound)?;
    let can_change = own.sandbox_id().is_none();
    let can_confirm =
        can_change && leptos::prelude::use_context::<crate::notify::CodeSender>().is_some();
    Ok(ContactSettings {
        email: person.email,
        phone: person.phone,
        notify_by_email: person.notify_by_email,
        notify_by_sms: person.notify_by_sms,
        can_change,
        can_confirm,
        waiting: crate::notify::contact::waiting(&db, &own, chrono::Utc::now()).await?,
    })
}

/// Sends a code to an address the patient gave (`channel`: `email` or `sms`).
#[endpoint]
pub async fn request_contact_code(channel: String, address: String) -> Result<(), AppError> {
    let principal = crate::auth::gate::enter(ENDPOINT)?;
    let own = crate::auth::scope::OwnCare::of(&principal).ok_or(AppError::Forbidden)?;
    let channel = channel_of(&channel)?;
    let field = match channel {
        crate::notify::Channel::Email => "email",
        crate::notify::Channel::Sms => "phone",
    };
    let Some(sender) = leptos::prelude::use_context::<crate::notify::CodeSender>() else {
        return Err(crate::error::invalid(field, "notifications_off"));
    };
    let db = crate::server::db()?;
    let now = chrono::Utc::now();
    let made = crate::notify::contact::new_code(&db, &own, channel, &address, now).await?;
    if sender
        .0
        .send_code(channel, &made.address, &made.code)
        .await
        .is_err()
    {
        // Not sent: this code is spent at once, and the patient may ask again.
        crate::notify::contact::spend(&db, made.id, now).await?;
        return Err(crate::error::invalid(field, "code_not_sent"));
    }
    Ok(())
}

/// Confirms an address with the code sent to it; notifications over it are turned on.
#[endpoint]
pub async fn confirm_contact_code(channel: String, code: String) -> Result<(), AppError> {
    let principal = crate::auth::gate::enter(ENDPOINT)?;
    let own = crate::auth::scope::OwnCare::of(&principal).ok_or(AppError::Forbidden)?;
    let channel = channel_of(&channel)?;
    let db = crate::server::db()?;
    crate::notify::contact::confirm(&db, &own, channel, &code, chrono::Utc::now())
        .await
        .map(drop)
}

/// Turns notifications by e-mail and by SMS on or off (a checkbox left out is off).
#[endpoint]
pub async fn set_notifications(
    #[server(default)] notify_by_email: String,
    #[server(default)] notify_by_sms: String,
) -> Result<(), AppError> {
    let principal = crate::auth::gate::enter(ENDPOINT)?;
    let own = crate::auth::scope::OwnCare::of(&principal).ok_or(AppError::Forbidden)?;
    let db = crate::server::db()?;
    crate::notify::contact::set_consent(
        &db,
        &own,
        !notify_by_email.is_empty(),
        !notify_by_sms.is_empty(),
    )
    .await
}
