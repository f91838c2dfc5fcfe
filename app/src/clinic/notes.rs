//! Therapist-internal notes on a treatment: dated and signed, kept as written (a note is never
//! edited; a correction is a new note). The unit's therapists read them on the record; the
//! patient never does (no patient's scope reaches `care_note`), nor a patient administrator,
//! nor the summary for the medical record.

use super::Note;
use crate::auth::scope::{EnrolmentScope, StaffEnrolment};
use crate::error::{AppError, invalid};
use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;

/// The treatment's notes, newest first.
pub async fn notes(
    db: &impl ConnectionTrait,
    enrolment: &StaffEnrolment,
) -> Result<Vec<Note>, AppError> {
    let rows = db
        .query_all(enrolment.statement(
            db,
            &format!(
                "SELECT n.body, n.written_at, s.given_name, s.family_name FROM {} n \
                 LEFT JOIN staff_person s ON s.id = n.author_staff_id \
                 ORDER BY n.written_at DESC, n.id DESC",
                enrolment.notes()
            ),
            vec![],
        ))
        .await?;
    rows.into_iter()
        .map(|row| {
            let at: DateTime<Utc> = row.try_get("", "written_at")?;
            let given: Option<String> = row.try_get("", "given_name")?;
            let family: Option<String> = row.try_get("", "family_name")?;
            Ok(Note {
                author: format!(
                    "{} {}",
                    given.unwrap_or_default(),
                    family.unwrap_or_default()
                )
                .trim()
                .to_owned(),
                written_at: crate::domain::time::stockholm(at)
                    .format("%Y-%m-%d %H:%M")
                    .to_string(),
                body: row.try_get("", "body")?,
            })
        })
        .collect()
}

/// A therapist on the care team writes a note, while the treatment goes on.
pub async fn add(
    db: &impl ConnectionTrait,
    enrolment: &StaffEnrolment,
    staff_person_id: i64,
    body: &str,
) -> Result<(), AppError> {
    if !enrolment.on_team(db, staff_person_id).await? {
        return Err(AppError::Forbidden);
    }
    if !enrolment.may_write() {
        return Err(invalid("enrolment", "treatment_ended"));
    }
    let body = crate::messages::text::clean(body).map_err(|e| invalid("body", e.code()))?;
    // The state is read again in the insert: a treatment ended since takes no note.
    let written = db
        .execute(enrolment.statement(
            db,
            &format!(
                "INSERT INTO care_note (enrolment_id, author_staff_id, body, written_at) \
                 SELECT x.id, $1, $2, $3 FROM {} x WHERE {}",
                enrolment.enrolment_row(),
                crate::domain::EnrolmentState::ongoing_sql("x.state")
            ),
            vec![staff_person_id.into(), body.into(), Utc::now().into()],
        ))
        .await?;
    if written.rows_affected() == 0 {
        return Err(invalid("enrolment", "treatment_ended"));
    }
    Ok(())
}
