//! Flags raised by hand: a therapist on the care team flags a treatment with a reason from a
//! fixed list ([`crate::domain::flag_reason::MANUAL`]), a priority and a note in their own
//! words. It is a flag like any other from then on: on the unit's dashboards at once, one open
//! per (treatment, reason), acknowledged and resolved there, and an urgent one tells the rest
//! of the care team at once (a notice without content) and escalates when nobody acknowledges
//! it in time.

use crate::auth::scope::{EnrolmentScope, StaffEnrolment};
use crate::db::{begin_write, statement};
use crate::domain::{FlagKind, FlagPriority};
use crate::error::{AppError, invalid};
use chrono::Utc;
use sea_orm::{ActiveEnum, ConnectionTrait, TransactionTrait};

/// The reason, priority (its code) and note as given, checked: a reason or priority outside
/// its list, or an empty or overlong note, is refused before anything is read or written.
pub fn check(reason: &str, priority: &str, note: &str) -> Result<(FlagPriority, String), AppError> {
    if !crate::domain::flag_reason::MANUAL.contains(&reason) {
        return Err(invalid("reason", "flag_reason_unknown"));
    }
    let priority = FlagPriority::try_from_value(&priority.to_owned())
        .map_err(|_| invalid("priority", "flag_priority_unknown"))?;
    let note = crate::messages::text::clean_field(note, "note", "flag_note_empty")?;
    Ok((priority, note))
}

/// Raises the flag (the caller, `staff_person_id`, is on the care team: the gate decided).
/// A flag of the same reason that is still open is refused (`flag_already_open`), and so is
/// one for a treatment that ended or was handed over since the gate read it.
pub async fn raise(
    db: &(impl ConnectionTrait + TransactionTrait),
    enrolment: &StaffEnrolment,
    staff_person_id: i64,
    reason: &str,
    priority: FlagPriority,
    note: &str,
) -> Result<(), AppError> {
    if !enrolment.may_write() {
        return Err(invalid("enrolment", "treatment_ended"));
    }
    let now = Utc::now();
    let txn = begin_write(db).await?;
    // Held against an ending or a handover until the commit.
    enrolment.hold_ongoing(&txn).await?;
    let raised = txn
        .execute(statement(
            &txn,
            "INSERT INTO flag (enrolment_id, kind, priority, reason, raised_at, note, raised_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (enrolment_id, reason) WHERE response_id IS NULL AND resolved_at IS NULL \
             DO NOTHING",
            vec![
                enrolment.id().into(),
                FlagKind::Manual.to_value().into(),
                priority.to_value().into(),
                reason.into(),
                now.into(),
                note.into(),
                staff_person_id.into(),
            ],
        ))
        .await?
        .rows_affected()
        > 0;
    if !raised {
        txn.rollback().await?;
        return Err(invalid("reason", "flag_already_open"));
    }
    // The rest of the care team is told at once (a notice without content), whatever was
    // sent to them lately: the raiser knows.
    if priority == FlagPriority::Urgent {
        for staff in enrolment.care_team(&txn).await? {
            if staff != staff_person_id {
                let to = crate::notify::Recipient::Staff(staff);
                crate::notify::enqueue_now(&txn, to, crate::notify::Template::UrgentFlag, now)
                    .await?;
            }
        }
    }
    // Last: it holds the events' order lock until the commit.
    enrolment
        .record_event(&txn, crate::live::EventKind::Flag, now)
        .await?;
    txn.commit().await?;
    crate::live::wake();
    Ok(())
}
