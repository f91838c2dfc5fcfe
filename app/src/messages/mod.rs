//! Secure messaging between a patient and the care team of one of their treatments.
//!
//! A thread belongs to an enrolment. The patient writes from their treatment; the care team
//! reads and answers from the patient's record at their unit (the read is part of the record's
//! logged read, an answer is logged as a change). A patient's message counts as read when
//! someone of the care team (the responsible therapist or a co-therapist) has opened it, not
//! when anyone else at the unit has; a therapist's message when the patient has. Messages are
//! plain text: web addresses become links, everything else is shown as written. A message is
//! shown as sent only once it is committed; the same send retried (its `submit_key`) makes no
//! second message. After the treatment has ended the thread can be read, not written.

mod components;
#[cfg(feature = "ssr")]
pub(crate) mod store;
pub mod text;

pub use components::{MessagesPage, StaffThread};

use crate::error::AppError;
use lotsen_macros::endpoint;
use serde::{Deserialize, Serialize};

/// A patient may send this many messages an hour in one treatment; staff this many in all.
pub const PATIENT_PER_HOUR: i64 = 10;
pub const STAFF_PER_HOUR: i64 = 60;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageView {
    pub from_patient: bool,
    /// The staff member who wrote it (for a therapist's message).
    pub author: Option<String>,
    pub body: String,
    /// UTC, `YYYY-MM-DD HH:MM`.
    pub sent_at: String,
    /// Read by its recipient: the care team for a patient's message, the patient for the team's.
    pub read: bool,
}

/// The patient's thread in one treatment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Thread {
    pub enrolment_id: i64,
    pub program: String,
    pub care_unit: String,
    /// New messages may be written (treatment is going on).
    pub open: bool,
    pub messages: Vec<MessageView>,
    /// Sent with the form: a retried send is recognised.
    pub submit_key: String,
}

/// The patient's messages in one of their treatments, oldest first. Opening them marks the care
/// team's messages read.
#[endpoint]
pub async fn my_messages(enrolment: i64) -> Result<Thread, AppError> {
    let (db, enrolment) = crate::auth::gate::own_enrolment(ENDPOINT, enrolment).await?;
    store::patient_thread(&db, &enrolment).await
}

/// The patient writes to the care team of one of their treatments.
#[endpoint]
pub async fn send_message(
    enrolment: i64,
    body: String,
    submit_key: String,
) -> Result<(), AppError> {
    let (db, enrolment) = crate::auth::gate::own_enrolment(ENDPOINT, enrolment).await?;
    store::send_as_patient(&db, &enrolment, &body, &submit_key).await
}

/// Someone of the unit answers the patient in one of the patient's treatments there.
#[endpoint]
pub async fn reply_message(
    patient_id: i64,
    enrolment: i64,
    body: String,
    submit_key: String,
) -> Result<(), AppError> {
    let principal = crate::auth::gate::enter(ENDPOINT)?;
    let db = crate::server::db()?;
    let access = crate::auth::gate::patient_for_staff(
        &db,
        &principal,
        patient_id,
        crate::access_log::Action::Write,
        "message",
    )
    .await?;
    let staff = principal.staff().ok_or(AppError::Forbidden)?;
    store::send_as_staff(
        &db,
        &access,
        staff.staff_person_id,
        enrolment,
        &body,
        &submit_key,
    )
    .await
}
