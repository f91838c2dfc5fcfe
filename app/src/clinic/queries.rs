use super::{RecordEnrolment, UnitPatient};
use crate::auth::scope::{CareAccess, UnitCare};
use crate::db::statement;
use sea_orm::{ConnectionTrait, DbErr};

/// The patients in ongoing treatment at the unit.
pub async fn unit_patients(
    db: &impl ConnectionTrait,
    unit: &UnitCare,
) -> Result<Vec<UnitPatient>, DbErr> {
    let rows = db
        .query_all(statement(
            db,
            &format!(
                "SELECT pa.id, pa.given_name, pa.family_name, pa.personnummer, p.title, e.state \
                 FROM {} e \
                 JOIN patient pa ON pa.id = e.patient_id \
                 JOIN program_version v ON v.id = e.program_version_id \
                 JOIN program p ON p.id = v.program_id \
                 ORDER BY pa.family_name, pa.given_name, pa.id",
                unit.enrolments()
            ),
            vec![],
        ))
        .await?;
    rows.into_iter()
        .map(|row| {
            let given: String = row.try_get("", "given_name")?;
            let family: String = row.try_get("", "family_name")?;
            let personnummer: String = row.try_get("", "personnummer")?;
            // Enrolled by staff and not yet signed in: no name until the e-ID gives one.
            let name = format!("{given} {family}").trim().to_owned();
            Ok(UnitPatient {
                patient_id: row.try_get("", "id")?,
                name: if name.is_empty() {
                    personnummer.clone()
                } else {
                    name
                },
                personnummer,
                program: row.try_get("", "title")?,
                state: row.try_get("", "state")?,
            })
        })
        .collect()
}

/// The patient's enrolments that the access reaches, with their therapist-internal notes.
pub async fn record_enrolments(
    db: &impl ConnectionTrait,
    access: &CareAccess,
) -> Result<Vec<RecordEnrolment>, DbErr> {
    let rows = db
        .query_all(statement(
            db,
            &format!(
                "SELECT e.id, p.title, u.name, e.state, e.started_at, e.internal_note \
                 FROM {} e \
                 JOIN program_version v ON v.id = e.program_version_id \
                 JOIN program p ON p.id = v.program_id \
                 JOIN care_unit u ON u.id = e.care_unit_id \
                 ORDER BY e.started_at DESC, e.id DESC",
                access.enrolments()
            ),
            vec![],
        ))
        .await?;
    rows.into_iter()
        .map(|row| {
            let started: chrono::DateTime<chrono::Utc> = row.try_get("", "started_at")?;
            Ok(RecordEnrolment {
                enrolment_id: row.try_get("", "id")?,
                program: row.try_get("", "title")?,
                care_unit: row.try_get("", "name")?,
                state: row.try_get("", "state")?,
                started: started.format("%Y-%m-%d").to_string(),
                internal_note: row.try_get("", "internal_note")?,
                messages: Vec::new(),
                reply_key: None,
                modules: Vec::new(),
                feedback_key: None,
            })
        })
        .collect()
}
