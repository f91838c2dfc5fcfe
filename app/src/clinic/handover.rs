//! Handover within one care provider: a treatment moves, with its whole record (answers,
//! homework, messages, flags, due forms), to another of the provider's active units where the
//! same version is active. Its care team stays behind: the receiving unit's patient
//! administrator or therapists make one of theirs responsible. The unit that handed it over
//! keeps reading the record, never writing to it, for as long as after a treatment it ended
//! (`RECENT_CARE_DAYS`, through `enrolment_handover`). Another care provider gets a new
//! enrolment of its own: the treatment here ends (reason "needs other care") and no data moves.

use super::UnitChoice;
use crate::auth::scope::{EnrolmentScope, StaffEnrolment};
use crate::db::{begin_write, statement};
use crate::error::{AppError, invalid};
use sea_orm::{ConnectionTrait, TransactionTrait};

/// The units the treatment may be handed over to: the same care provider's other active units
/// where its version is active and the patient is not already in treatment on the program, by
/// name.
pub async fn targets(
    db: &impl ConnectionTrait,
    enrolment: &StaffEnrolment,
) -> Result<Vec<UnitChoice>, AppError> {
    let ongoing = crate::domain::EnrolmentState::ongoing_sql("o.state");
    let rows = db
        .query_all(statement(
            db,
            &format!(
            "SELECT u.id, u.name, u.hsa_id FROM care_unit u \
             WHERE u.active = TRUE AND u.id <> $1 \
               AND u.care_provider_id = (SELECT f.care_provider_id FROM care_unit f WHERE f.id = $1) \
               AND EXISTS (SELECT 1 FROM program_activation a WHERE a.care_unit_id = u.id \
                 AND a.program_version_id = $2 AND a.deactivated_at IS NULL) \
               AND NOT EXISTS (SELECT 1 FROM enrolment o \
                 JOIN program_version ov ON ov.id = o.program_version_id \
                 WHERE o.patient_id = $3 AND o.care_unit_id = u.id AND {ongoing} \
                   AND ov.program_id = (SELECT pv.program_id FROM program_version pv WHERE pv.id = $2)) \
             ORDER BY u.name, u.id"
            ),
            vec![
                enrolment.unit_id().into(),
                enrolment.version_id().into(),
                enrolment.patient_id().into(),
            ],
        ))
        .await?;
    rows.into_iter()
        .map(|row| {
            Ok(UnitChoice {
                unit_id: row.try_get("", "id")?,
                name: row.try_get("", "name")?,
                hsa_id: row.try_get("", "hsa_id")?,
            })
        })
        .collect::<Result<_, sea_orm::DbErr>>()
        .map_err(AppError::from)
}

/// Hands the treatment over to `to` (one of [`targets`]: else 422 `not_a_handover_unit`), by
/// `by`, while it goes on at the caller's unit, with `logged` (the receiving unit's access-log
/// row) in the same transaction. A care event at each unit moves their dashboards.
pub async fn hand_over(
    db: &(impl ConnectionTrait + TransactionTrait),
    enrolment: &StaffEnrolment,
    to: i64,
    by: i64,
    logged: impl FnOnce(&UnitChoice) -> crate::access_log::Entry,
) -> Result<(), AppError> {
    if !enrolment.may_write() {
        return Err(invalid("enrolment", "treatment_ended"));
    }
    let unit = targets(db, enrolment)
        .await?
        .into_iter()
        .find(|u| u.unit_id == to)
        .ok_or_else(|| invalid("unit_id", "not_a_handover_unit"))?;
    let from = enrolment.unit_id();
    let now = chrono::Utc::now();
    let txn = begin_write(db).await?;
    // The row first, exclusively (an answer being sent holds it shared: this waits for it),
    // and only while the treatment goes on here; the events' lock last.
    let moved = txn
        .execute(enrolment.statement(
            &txn,
            &format!(
                "UPDATE enrolment SET care_unit_id = $1, responsible_staff_id = NULL \
                 WHERE id IN (SELECT x.id FROM {} x) AND care_unit_id = $2 AND {}",
                enrolment.enrolment_row(),
                crate::domain::EnrolmentState::ongoing_sql("state")
            ),
            vec![to.into(), from.into()],
        ))
        .await?
        .rows_affected();
    if moved == 0 {
        txn.rollback().await?;
        return Err(invalid("enrolment", "treatment_ended"));
    }
    txn.execute(enrolment.statement(
        &txn,
        &format!(
            "INSERT INTO enrolment_handover \
               (enrolment_id, from_unit_id, to_unit_id, handed_over_at, handed_over_by) \
             SELECT x.id, $1, $2, $3, $4 FROM {} x",
            enrolment.enrolment_row()
        ),
        vec![from.into(), to.into(), now.into(), by.into()],
    ))
    .await?;
    txn.execute(enrolment.statement(
        &txn,
        &format!(
            "DELETE FROM enrolment_therapist WHERE enrolment_id IN (SELECT x.id FROM {} x)",
            enrolment.enrolment_row()
        ),
        vec![],
    ))
    .await?;
    crate::access_log::append_all(&txn, vec![logged(&unit)]).await?;
    // The handing unit's dashboards drop the row, the receiving unit's show it. Last: the
    // events' order lock is held to the commit (`crate::live::before_event`); taken before
    // the access log's append, the two could wait on each other.
    enrolment
        .record_event_for_unit(&txn, from, crate::live::EventKind::Treatment, now)
        .await?;
    enrolment
        .record_event(&txn, crate::live::EventKind::Treatment, now)
        .await?;
    txn.commit().await?;
    crate::live::wake();
    Ok(())
}
