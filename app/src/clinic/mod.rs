//! The therapist's side: the patients of the unit in the chosen assignment, and one patient's
//! record. Every patient shown is written to the access log.

mod components;
#[cfg(feature = "ssr")]
pub mod enrol;
#[cfg(feature = "ssr")]
mod queries;

pub use components::{ClinicHome, PatientRecordPage};

use crate::error::AppError;
use lotsen_macros::endpoint;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitPatient {
    pub patient_id: i64,
    pub name: String,
    pub personnummer: String,
    pub program: String,
    pub state: crate::domain::EnrolmentState,
}

/// A patient's record as staff see it, therapist-internal notes included.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatientRecord {
    pub patient_id: i64,
    pub name: String,
    pub personnummer: String,
    pub enrolments: Vec<RecordEnrolment>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordEnrolment {
    pub enrolment_id: i64,
    pub program: String,
    pub care_unit: String,
    pub state: crate::domain::EnrolmentState,
    pub started: String,
    pub internal_note: String,
    /// The thread with the patient, oldest first.
    pub messages: Vec<crate::messages::MessageView>,
    /// A key for the answer form while an answer may be written (ongoing treatment at the
    /// caller's unit).
    pub reply_key: Option<String>,
    /// The modules: progress, homework, feedback.
    pub modules: Vec<crate::care::StaffModule>,
    /// A key for the feedback forms, for a therapist while feedback may be given.
    pub feedback_key: Option<String>,
}

/// The patients with an ongoing enrolment at the caller's unit. Each one listed is logged.
#[endpoint]
pub async fn unit_patients() -> Result<Vec<UnitPatient>, AppError> {
    let principal = crate::auth::gate::enter(ENDPOINT)?;
    let db = crate::server::db()?;
    let unit = crate::auth::gate::unit_for_staff(&principal)?;
    let patients = queries::unit_patients(&db, &unit).await?;
    let entries = patients
        .iter()
        .map(|p| {
            crate::auth::gate::staff_entry(
                &principal,
                Some(p.patient_id),
                crate::access_log::Action::List,
                "patient_list",
                crate::access_log::Outcome::Allowed,
            )
        })
        .collect();
    crate::access_log::append_all(&db, entries).await?;
    Ok(patients)
}

#[endpoint("patient_record")]
pub async fn get_patient_record(patient_id: i64) -> Result<PatientRecord, AppError> {
    let principal = crate::auth::gate::enter(ENDPOINT)?;
    let db = crate::server::db()?;
    let access = crate::auth::gate::patient_for_staff(
        &db,
        &principal,
        patient_id,
        crate::access_log::Action::Read,
        "patient_record",
    )
    .await?;
    let patient = access.patient();
    let mut enrolments = queries::record_enrolments(&db, &access).await?;
    let staff_person_id = principal
        .staff()
        .map(|s| s.staff_person_id)
        .unwrap_or_default();
    let mut threads = crate::messages::store::record_threads(&db, &access, staff_person_id).await?;
    let mut modules = crate::care::staff_modules(&db, &access, staff_person_id).await?;
    let therapist = principal.has_role(crate::auth::Role::Therapist);
    for enrolment in &mut enrolments {
        enrolment.messages = threads.remove(&enrolment.enrolment_id).unwrap_or_default();
        enrolment.modules = modules.remove(&enrolment.enrolment_id).unwrap_or_default();
        if access.may_write() && enrolment.state.is_ongoing() {
            enrolment.reply_key = Some(crate::auth::session::new_token()?);
            if therapist {
                enrolment.feedback_key = Some(crate::auth::session::new_token()?);
            }
        }
    }
    // Therapist-internal notes are the therapists' own: a patient administrator, who starts
    // and oversees treatment, does not read them.
    if !therapist {
        for enrolment in &mut enrolments {
            enrolment.internal_note.clear();
        }
    }
    Ok(PatientRecord {
        patient_id,
        name: format!("{} {}", patient.given_name, patient.family_name),
        personnummer: patient.personnummer.clone(),
        enrolments,
    })
}

/// What a patient may be enrolled on at the caller's unit, and who may be responsible.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrolChoices {
    pub versions: Vec<VersionChoice>,
    pub therapists: Vec<TherapistChoice>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionChoice {
    pub version_id: i64,
    /// `<program> <major>.<minor>`.
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TherapistChoice {
    pub staff_person_id: i64,
    pub name: String,
}

/// What the enrolment form asks for, checked by `enrol`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnrolRequest {
    /// One person a line: `<personal identity number> [given name] [family name]`.
    pub patients: String,
    pub version_id: i64,
    pub responsible_staff_id: i64,
    /// Contact details and consent, for one person enrolled alone; empty when not given.
    pub email: String,
    pub phone: String,
    pub notify_by_email: bool,
    pub notify_by_sms: bool,
}

/// The program versions active at the caller's unit and the unit's therapists, for the
/// enrolment form.
#[endpoint]
pub async fn enrolment_choices() -> Result<EnrolChoices, AppError> {
    let principal = crate::auth::gate::enter(ENDPOINT)?;
    let db = crate::server::db()?;
    let unit = crate::auth::gate::unit_for_staff(&principal)?;
    enrol::choices(&db, &unit).await
}

/// Enrols one patient or a group at the caller's unit: all of them, or none and the bad line
/// named. Personal identity numbers come only in the POST body, never in an address. Each
/// enrolment is logged as a write. Returns how many were enrolled.
#[allow(clippy::too_many_arguments)]
#[endpoint]
pub async fn enrol_patients(
    patients: String,
    version_id: i64,
    responsible_staff_id: i64,
    #[server(default)] email: String,
    #[server(default)] phone: String,
    /// A checked box sends `on`.
    #[server(default)]
    notify_by_email: String,
    #[server(default)] notify_by_sms: String,
) -> Result<usize, AppError> {
    let request = EnrolRequest {
        patients,
        version_id,
        responsible_staff_id,
        email,
        phone,
        notify_by_email: !notify_by_email.is_empty(),
        notify_by_sms: !notify_by_sms.is_empty(),
    };
    let principal = crate::auth::gate::enter(ENDPOINT)?;
    let db = crate::server::db()?;
    let unit = crate::auth::gate::unit_for_staff(&principal)?;
    let enrolled = enrol::enrol(&db, &unit, &request).await?;
    let entries = enrolled
        .iter()
        .map(|patient_id| {
            crate::auth::gate::staff_entry(
                &principal,
                Some(*patient_id),
                crate::access_log::Action::Write,
                "enrolment",
                crate::access_log::Outcome::Allowed,
            )
        })
        .collect();
    crate::access_log::append_all(&db, entries).await?;
    Ok(enrolled.len())
}
