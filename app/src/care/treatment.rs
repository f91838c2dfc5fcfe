//! Where a treatment goes next — the maintenance phase, or its end with a stated reason — and
//! the summary of a treatment for the medical record.
//!
//! Ending is the care team's: a therapist on the treatment's team, while it is going on at the
//! caller's unit. An urgent flag still open stops it (a risk answer is never closed away with
//! the treatment); the other open flags are resolved with it, saying so. A patient's answer
//! being submitted at the same moment either commits first, and its flag is counted, or finds
//! the treatment ended (`record::submit` holds the row for the length of its transaction).

use super::progress::ModuleStatus;
use crate::auth::scope::{CareAccess, EnrolmentScope, StaffEnrolment};
use crate::clinic::Acknowledged;
use crate::clinic::summary::{Handled, RecordSummary, SummaryFlag, SummaryModule};
use crate::db::{begin_write, statement};
use crate::domain::{EndReason, EnrolmentState, FlagPriority};
use crate::error::{AppError, invalid};
use chrono::{DateTime, Utc};
use sea_orm::{ActiveEnum, ConnectionTrait, TransactionTrait};

/// What a therapist moves a treatment to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// The program is done; the patient keeps access at a lower pace.
    Maintenance,
    /// The treatment ends, for this reason.
    End(EndReason),
}

/// The resolution of a flag still open when its treatment ended (never an urgent one).
pub const ENDED_WITH_TREATMENT: &str = "Behandlingen avslutades / The treatment ended";

/// Moves the treatment on. Asking again for the state it is in already (a retry) changes
/// nothing and succeeds; anything else on a treatment that is not going on is refused.
pub async fn change(
    db: &(impl ConnectionTrait + TransactionTrait),
    enrolment: &StaffEnrolment,
    staff_person_id: i64,
    change: Change,
) -> Result<(), AppError> {
    if !enrolment.on_team(db, staff_person_id).await? {
        return Err(AppError::Forbidden);
    }
    let now = Utc::now();
    let txn = begin_write(db).await?;
    let row = txn
        .query_one(enrolment.statement(
            &txn,
            &format!(
                "SELECT e.state, e.end_reason FROM {} e",
                enrolment.enrolment_row()
            ),
            vec![],
        ))
        .await?
        .ok_or(AppError::NotFound)?;
    let state: EnrolmentState = row.try_get("", "state")?;
    let reason: Option<EndReason> = row.try_get("", "end_reason")?;
    let already = match change {
        Change::Maintenance => state == EnrolmentState::Maintenance,
        Change::End(wanted) => state == EnrolmentState::Ended && reason == Some(wanted),
    };
    if already {
        txn.rollback().await?;
        return Ok(());
    }
    if !enrolment.may_write() || !state.is_ongoing() {
        txn.rollback().await?;
        return Err(invalid("enrolment", "treatment_ended"));
    }
    let (sql, values): (&str, Vec<sea_orm::Value>) = match change {
        Change::Maintenance => (
            "UPDATE enrolment SET state = $1, maintenance_at = $2 \
             WHERE id IN (SELECT x.id FROM {row} x) AND state = $3",
            vec![
                EnrolmentState::Maintenance.to_value().into(),
                now.into(),
                state.to_value().into(),
            ],
        ),
        Change::End(reason) => (
            "UPDATE enrolment SET state = $1, ended_at = $2, end_reason = $3, ended_by = $4 \
             WHERE id IN (SELECT x.id FROM {row} x) AND state = $5",
            vec![
                EnrolmentState::Ended.to_value().into(),
                now.into(),
                reason.to_value().into(),
                staff_person_id.into(),
                state.to_value().into(),
            ],
        ),
    };
    // The update holds the row: on PostgreSQL it waits for an answer being submitted (which
    // holds it shared), so the flags counted below include that answer's.
    let updated = txn
        .execute(enrolment.statement(
            &txn,
            &sql.replace("{row}", &enrolment.enrolment_row()),
            values,
        ))
        .await?;
    if updated.rows_affected() != 1 {
        // Changed by someone else since it was read.
        txn.rollback().await?;
        return Err(AppError::Conflict);
    }
    if matches!(change, Change::End(_)) {
        let urgent = txn
            .query_one(enrolment.statement(
                &txn,
                &format!(
                    "SELECT COUNT(*) AS n FROM {} f WHERE f.resolved_at IS NULL AND f.priority = $1",
                    enrolment.flags()
                ),
                vec![FlagPriority::Urgent.to_value().into()],
            ))
            .await?
            .map(|row| row.try_get::<i64>("", "n"))
            .transpose()?
            .unwrap_or(0);
        if urgent > 0 {
            txn.rollback().await?;
            return Err(invalid("enrolment", "urgent_flags_open"));
        }
        txn.execute(enrolment.statement(
            &txn,
            &format!(
                // Resolved, not acknowledged: nobody looked at them, and the summary says so.
                "UPDATE flag SET resolved_at = $1, resolved_by = $2, resolution = $3 \
                 WHERE resolved_at IS NULL AND id IN (SELECT f.id FROM {} f)",
                enrolment.flags()
            ),
            vec![
                now.into(),
                staff_person_id.into(),
                ENDED_WITH_TREATMENT.into(),
            ],
        ))
        .await?;
    }
    // Last: it holds the events' order lock until the commit.
    enrolment
        .record_event(&txn, crate::live::EventKind::Treatment, now)
        .await?;
    txn.commit().await?;
    crate::live::wake();
    Ok(())
}

/// A date as the record states it: the Swedish day.
fn day(at: DateTime<Utc>) -> String {
    crate::domain::time::stockholm_day(at)
        .format("%Y-%m-%d")
        .to_string()
}

/// A moment as the record states it: Swedish time to the minute.
fn minute(at: DateTime<Utc>) -> String {
    crate::domain::time::stockholm(at)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// A person's name as shown, from the columns of an outer join: `None` when nobody is there.
pub(crate) fn person(given: Option<String>, family: Option<String>) -> Option<String> {
    given.map(|g| {
        format!("{g} {}", family.unwrap_or_default())
            .trim()
            .to_owned()
    })
}

/// The summary of one treatment for the medical record, with fixed content: the period, the
/// program and version, the care team, the modules done, each scale's first and latest total
/// with its band, and every flag with how it was handled. Therapist-internal notes are never
/// part of it.
pub async fn summary(
    db: &impl ConnectionTrait,
    access: &CareAccess,
    enrolment: &StaffEnrolment,
) -> Result<RecordSummary, AppError> {
    let facts = db
        .query_one(enrolment.statement(
            db,
            &format!(
                "SELECT e.state, e.started_at, e.maintenance_at, e.ended_at, e.end_reason, \
                        p.title, v.major, v.minor, u.name \
                 FROM {} e \
                 JOIN program_version v ON v.id = e.program_version_id \
                 JOIN program p ON p.id = v.program_id \
                 JOIN care_unit u ON u.id = e.care_unit_id",
                enrolment.enrolment_row()
            ),
            vec![],
        ))
        .await?
        .ok_or(AppError::NotFound)?;
    let started: DateTime<Utc> = facts.try_get("", "started_at")?;
    let maintenance: Option<DateTime<Utc>> = facts.try_get("", "maintenance_at")?;
    let ended: Option<DateTime<Utc>> = facts.try_get("", "ended_at")?;
    let end_reason: Option<EndReason> = facts.try_get("", "end_reason")?;
    let major: i32 = facts.try_get("", "major")?;
    let minor: i32 = facts.try_get("", "minor")?;

    // The care team, the responsible therapist first.
    let team = enrolment.care_team(db).await?;
    let mut therapists = Vec::new();
    if !team.is_empty() {
        let ids: Vec<String> = team.iter().map(i64::to_string).collect();
        let rows = db
            .query_all(statement(
                db,
                &format!(
                    "SELECT id, given_name, family_name FROM staff_person WHERE id IN ({}) \
                     ORDER BY family_name, given_name, id",
                    ids.join(", ")
                ),
                vec![],
            ))
            .await?;
        for row in rows {
            let id: i64 = row.try_get("", "id")?;
            let name = person(
                row.try_get("", "given_name")?,
                row.try_get("", "family_name")?,
            )
            .unwrap_or_default();
            if Some(id) == enrolment.responsible_staff_id() {
                therapists.insert(0, name);
            } else {
                therapists.push(name);
            }
        }
    }

    let modules = super::record::module_statuses(db, enrolment)
        .await?
        .into_iter()
        // A module hidden from the patient was not part of their treatment.
        .filter(|(_, status)| *status != ModuleStatus::Hidden)
        .map(|(title, status)| SummaryModule {
            title,
            done: status == ModuleStatus::Finished,
        })
        .collect();
    let scores = super::record::results(db, enrolment).await?;

    let flags = flags(db, enrolment).await?;

    let patient = access.patient();
    Ok(RecordSummary {
        patient_id: patient.id,
        enrolment_id: enrolment.id(),
        name: format!("{} {}", patient.given_name, patient.family_name)
            .trim()
            .to_owned(),
        personnummer: patient.personnummer.clone(),
        program: facts.try_get("", "title")?,
        version: format!("{major}.{minor}"),
        care_unit: facts.try_get("", "name")?,
        state: facts.try_get("", "state")?,
        started: day(started),
        maintenance_from: maintenance.map(day),
        ended: ended.map(day),
        end_reason,
        therapists,
        modules,
        scores,
        flags,
        made_at: minute(Utc::now()),
    })
}

/// Every flag of the treatment, oldest first, with how each was handled.
pub(crate) async fn flags(
    db: &impl ConnectionTrait,
    enrolment: &StaffEnrolment,
) -> Result<Vec<SummaryFlag>, AppError> {
    let rows = db
        .query_all(enrolment.statement(
            db,
            &format!(
                "SELECT f.priority, f.reason, f.raised_at, f.acknowledged_at, f.escalated_at, \
                        f.resolved_at, f.resolution, r.questionnaire_key, \
                        a.given_name AS ack_given, a.family_name AS ack_family, \
                        s.given_name AS res_given, s.family_name AS res_family, \
                        f.note, b.given_name AS by_given, b.family_name AS by_family \
                 FROM {} f \
                 LEFT JOIN {} r ON r.id = f.response_id \
                 LEFT JOIN staff_person a ON a.id = f.acknowledged_by \
                 LEFT JOIN staff_person s ON s.id = f.resolved_by \
                 LEFT JOIN staff_person b ON b.id = f.raised_by \
                 ORDER BY f.raised_at, f.id",
                enrolment.flags(),
                enrolment.form_responses()
            ),
            vec![],
        ))
        .await?;
    let mut flags = Vec::with_capacity(rows.len());
    for row in rows {
        let priority: FlagPriority = row.try_get("", "priority")?;
        let raised: DateTime<Utc> = row.try_get("", "raised_at")?;
        let acknowledged: Option<DateTime<Utc>> = row.try_get("", "acknowledged_at")?;
        let escalated: Option<DateTime<Utc>> = row.try_get("", "escalated_at")?;
        let resolved: Option<DateTime<Utc>> = row.try_get("", "resolved_at")?;
        let ack_by = person(
            row.try_get("", "ack_given")?,
            row.try_get("", "ack_family")?,
        );
        let res_by = person(
            row.try_get("", "res_given")?,
            row.try_get("", "res_family")?,
        );
        flags.push(SummaryFlag {
            raised_by: person(row.try_get("", "by_given")?, row.try_get("", "by_family")?),
            note: row.try_get("", "note")?,
            priority,
            reason: row.try_get("", "reason")?,
            questionnaire: row.try_get("", "questionnaire_key")?,
            raised_at: minute(raised),
            escalated_at: escalated.map(minute),
            acknowledged: acknowledged.map(|at| Acknowledged {
                by: ack_by.unwrap_or_default(),
                at: minute(at),
            }),
            resolved: resolved
                .map(|at| -> Result<Handled, sea_orm::DbErr> {
                    Ok(Handled {
                        by: res_by.clone().unwrap_or_default(),
                        at: minute(at),
                        comment: row
                            .try_get::<Option<String>>("", "resolution")?
                            .unwrap_or_default(),
                    })
                })
                .transpose()?,
        });
    }
    Ok(flags)
}
