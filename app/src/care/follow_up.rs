//! The flags the server raises by itself when a patient falls behind, and the escalation of an
//! urgent flag that nobody acknowledged in time. Run by the server's housekeeping (every quarter
//! of an hour), on ongoing real care only: a demo sandbox's or a test enrolment's patients are
//! not followed up.
//!
//! - **Inactive** (warning): an active treatment in which the patient has done nothing (no page
//!   opened for the first time, nothing answered, sent or written) for the program's
//!   `follow_up.inactive_days`, counted from the last thing they did or from enrolment.
//! - **Overdue homework** (info): a module the patient opened `follow_up.homework_days` ago
//!   whose worksheets are not all sent.
//! - **Unanswered message** (warning): a patient's message with no reply from the care team by
//!   the end of the second working day after it was sent (Swedish working days,
//!   [`crate::domain::workdays`]). A reply resolves it.
//! - **Escalation**: an urgent flag not acknowledged within the server's set working hours is
//!   marked escalated, and the unit's patient administrators get a notice without content.
//!
//! Each rule names the instant its condition began (the last activity, the module's opening,
//! the oldest unanswered message); a flag is raised only if none of its reason was raised since
//! then, so a resolved flag is not raised again until the patient acts and falls behind anew.
//! A unique index keeps one open flag per (enrolment, reason), and the escalation is an update
//! of a flag not yet escalated: several instances sweeping at once raise and send each once.

use crate::auth::scope::{EnrolmentScope, ScheduledEnrolment, followed_enrolments};
use crate::db::{begin_write, statement};
use crate::domain::{FlagPriority, workdays};
use crate::error::AppError;
use crate::programs::{BlockBody, Module, Program};
use chrono::{DateTime, Duration, Utc};
use sea_orm::{ActiveEnum, ConnectionTrait, TransactionTrait};
use std::collections::BTreeMap;

pub use crate::domain::flag_reason::{INACTIVE, OVERDUE_HOMEWORK, UNANSWERED_MESSAGE};
/// A patient's message is answered within this many working days.
pub const REPLY_WORKING_DAYS: u32 = 2;

/// What one sweep did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Swept {
    pub raised: u64,
    pub escalated: u64,
}

/// One flag the rules call for: its reason, priority and the instant its condition began.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Due {
    reason: &'static str,
    priority: FlagPriority,
    since: DateTime<Utc>,
}

/// Escalates the urgent flags not acknowledged within `escalate_after_hours` working hours (0:
/// never) and raises the follow-up flags that have come due by `now`. Both run; the first
/// error is returned after.
pub async fn sweep<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    now: DateTime<Utc>,
    escalate_after_hours: u32,
) -> Result<Swept, AppError> {
    // The escalation first and on its own: a failure of the other rules never holds it up.
    let escalated = match escalate_after_hours {
        0 => Ok(0),
        hours => escalate(db, now, hours).await,
    };
    let raised = raise_due(db, now).await;
    Ok(Swept {
        raised: raised?,
        escalated: escalated?,
    })
}

/// Raises the follow-up flags that have come due by `now`; how many.
async fn raise_due<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    now: DateTime<Utc>,
) -> Result<u64, AppError> {
    let mut due: BTreeMap<i64, Vec<Due>> = BTreeMap::new();
    let candidates = candidates(db).await?;
    let versions: Vec<i64> = {
        let mut v: Vec<i64> = candidates.iter().map(|c| c.version_id).collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    let programs = programs(db, &versions).await?;
    for c in &candidates {
        let follow_up = programs
            .get(&c.version_id)
            .map(|p| p.follow_up)
            .unwrap_or_default();
        let list = due.entry(c.id).or_default();
        if c.active && follow_up.inactive_days > 0 {
            let since = c.last_activity.unwrap_or(c.started_at).max(c.started_at);
            let at = since + Duration::days(follow_up.inactive_days.into());
            if now >= at && c.inactive_flagged.is_none_or(|f| f < since) {
                list.push(Due {
                    reason: INACTIVE,
                    priority: FlagPriority::Warning,
                    since,
                });
            }
        }
        if let Some(since) = c.unanswered_since {
            let at = workdays::overdue_after_working_days(since, REPLY_WORKING_DAYS);
            if now >= at && c.unanswered_flagged.is_none_or(|f| f < since) {
                list.push(Due {
                    reason: UNANSWERED_MESSAGE,
                    priority: FlagPriority::Warning,
                    since,
                });
            }
        }
    }
    // Homework: the earliest opened module still owing worksheets, per treatment.
    let flagged: BTreeMap<i64, Option<DateTime<Utc>>> = candidates
        .iter()
        .filter(|c| c.active)
        .map(|c| (c.id, c.homework_flagged))
        .collect();
    let version_of: BTreeMap<i64, i64> = candidates.iter().map(|c| (c.id, c.version_id)).collect();
    for opened in opened_modules(db).await? {
        let (Some(homework_flagged), Some(program)) = (
            flagged.get(&opened.enrolment_id),
            version_of
                .get(&opened.enrolment_id)
                .and_then(|v| programs.get(v)),
        ) else {
            continue;
        };
        let days = program.follow_up.homework_days;
        let Some(module) = program.modules.iter().find(|m| m.key == opened.module_key) else {
            continue;
        };
        let owed = worksheets(module);
        if days == 0 || owed == 0 || opened.sent >= owed {
            continue;
        }
        // A module's homework is late from the day it is due; a flag raised since then (for
        // this module or an earlier one) covered it.
        let since = opened.opened_at + Duration::days(days.into());
        if now < since || homework_flagged.is_some_and(|f| f >= since) {
            continue;
        }
        let list = due.entry(opened.enrolment_id).or_default();
        match list.iter_mut().find(|d| d.reason == OVERDUE_HOMEWORK) {
            Some(d) => d.since = d.since.min(since),
            None => list.push(Due {
                reason: OVERDUE_HOMEWORK,
                priority: FlagPriority::Info,
                since,
            }),
        }
    }
    due.retain(|_, list| !list.is_empty());
    let mut raised = 0;
    let ids: Vec<i64> = due.keys().copied().collect();
    for enrolment in followed_enrolments(db, &ids).await? {
        for d in due.get(&enrolment.id()).into_iter().flatten() {
            // One treatment that fails (logged by id) does not stop the others'.
            match raise(db, &enrolment, *d, now).await {
                Ok(true) => raised += 1,
                Ok(false) => {}
                Err(error) => tracing::error!(
                    enrolment = enrolment.id(),
                    error = %error,
                    "raising a follow-up flag failed"
                ),
            }
        }
    }
    Ok(raised)
}

/// How many worksheets a module asks for that every patient sees (a worksheet shown only on a
/// condition may never be asked, and is not owed).
fn worksheets(module: &Module) -> i64 {
    let count = module
        .sections
        .iter()
        .filter(|s| s.show_if.is_none())
        .flat_map(|s| &s.steps)
        .flat_map(|step| &step.blocks)
        .filter(|b| b.show_if.is_none() && matches!(b.body, BlockBody::Worksheet { .. }))
        .count();
    i64::try_from(count).unwrap_or(i64::MAX)
}

/// An ongoing treatment of real care, with the times its rules read.
struct Candidate {
    id: i64,
    version_id: i64,
    /// Active (not in a maintenance phase): inactivity and homework are followed up.
    active: bool,
    started_at: DateTime<Utc>,
    last_activity: Option<DateTime<Utc>>,
    /// The oldest message of the patient's with no reply after it.
    unanswered_since: Option<DateTime<Utc>>,
    inactive_flagged: Option<DateTime<Utc>>,
    unanswered_flagged: Option<DateTime<Utc>>,
    homework_flagged: Option<DateTime<Utc>>,
}

async fn candidates(db: &impl ConnectionTrait) -> Result<Vec<Candidate>, AppError> {
    let flagged = |reason: &str| {
        format!(
            "(SELECT MAX(f.raised_at) FROM flag f WHERE f.enrolment_id = e.id \
               AND f.response_id IS NULL AND f.reason = '{reason}')"
        )
    };
    let sql = format!(
        "SELECT e.id, e.program_version_id, e.state, e.started_at, \
           (SELECT MAX(r.submitted_at) FROM form_response r WHERE r.enrolment_id = e.id) AS last_answer, \
           (SELECT MAX(v.first_seen_at) FROM page_visit v WHERE v.enrolment_id = e.id) AS last_visit, \
           (SELECT MAX(m.sent_at) FROM message m WHERE m.enrolment_id = e.id \
              AND m.sender_kind = 'patient') AS last_message, \
           (SELECT MAX(h.submitted_at) FROM homework_entry h WHERE h.enrolment_id = e.id) AS last_homework, \
           (SELECT MIN(m.sent_at) FROM message m WHERE m.enrolment_id = e.id \
              AND m.sender_kind = 'patient' AND NOT EXISTS (SELECT 1 FROM message s \
                WHERE s.enrolment_id = e.id AND s.sender_kind = 'staff' \
                AND s.sent_at >= m.sent_at) \
              AND NOT EXISTS (SELECT 1 FROM flag f WHERE f.enrolment_id = e.id \
                AND f.response_id IS NULL AND f.reason = '{unanswered_reason}' \
                AND f.raised_at >= m.sent_at)) AS unanswered_since, \
           {inactive} AS inactive_flagged, {unanswered} AS unanswered_flagged, \
           {homework} AS homework_flagged \
         FROM enrolment e \
         WHERE {real} AND {ongoing} \
         ORDER BY e.id",
        real = crate::db::filter::real_care("e"),
        unanswered_reason = UNANSWERED_MESSAGE,
        inactive = flagged(INACTIVE),
        unanswered = flagged(UNANSWERED_MESSAGE),
        homework = flagged(OVERDUE_HOMEWORK),
        ongoing = crate::domain::EnrolmentState::ongoing_sql("e.state"),
    );
    let rows = db.query_all(statement(db, &sql, vec![])).await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let mut last: Option<DateTime<Utc>> = None;
        for column in ["last_answer", "last_visit", "last_message", "last_homework"] {
            let at: Option<DateTime<Utc>> = row.try_get("", column)?;
            last = last.max(at);
        }
        let state: String = row.try_get("", "state")?;
        out.push(Candidate {
            id: row.try_get("", "id")?,
            version_id: row.try_get("", "program_version_id")?,
            active: state == crate::domain::EnrolmentState::Active.to_value(),
            started_at: row.try_get("", "started_at")?,
            last_activity: last,
            unanswered_since: row.try_get("", "unanswered_since")?,
            inactive_flagged: row.try_get("", "inactive_flagged")?,
            unanswered_flagged: row.try_get("", "unanswered_flagged")?,
            homework_flagged: row.try_get("", "homework_flagged")?,
        });
    }
    Ok(out)
}

/// A module an active patient of real care has opened: when first, and how many of its
/// worksheets were sent.
struct Opened {
    enrolment_id: i64,
    module_key: String,
    opened_at: DateTime<Utc>,
    sent: i64,
}

async fn opened_modules(db: &impl ConnectionTrait) -> Result<Vec<Opened>, AppError> {
    let sql = format!(
        "SELECT v.enrolment_id, v.module_key, MIN(v.first_seen_at) AS opened_at, \
           (SELECT COUNT(*) FROM homework_entry h WHERE h.enrolment_id = v.enrolment_id \
              AND h.module_key = v.module_key AND h.kind = 'worksheet' \
              AND h.submitted_at IS NOT NULL) AS sent \
         FROM page_visit v JOIN enrolment e ON e.id = v.enrolment_id \
         WHERE {} AND e.state = '{}' \
         GROUP BY v.enrolment_id, v.module_key",
        crate::db::filter::real_care("e"),
        sea_orm::ActiveEnum::to_value(&crate::domain::EnrolmentState::Active),
    );
    let rows = db.query_all(statement(db, &sql, vec![])).await?;
    rows.into_iter()
        .map(|row| {
            Ok(Opened {
                enrolment_id: row.try_get("", "enrolment_id")?,
                module_key: row.try_get("", "module_key")?,
                opened_at: row.try_get("", "opened_at")?,
                sent: row.try_get("", "sent")?,
            })
        })
        .collect()
}

/// The content of the versions followed. A version that cannot be read is left out (its
/// treatments get the default rules), and logged.
async fn programs(
    db: &impl ConnectionTrait,
    versions: &[i64],
) -> Result<BTreeMap<i64, Program>, AppError> {
    let mut out = BTreeMap::new();
    for id in versions {
        let row = db
            .query_one(statement(
                db,
                "SELECT content FROM program_version WHERE id = $1",
                vec![(*id).into()],
            ))
            .await?;
        let content: Option<String> = match row {
            Some(row) => row.try_get("", "content")?,
            None => None,
        };
        match content.map(|c| serde_json::from_str::<Program>(&c)) {
            Some(Ok(program)) => {
                out.insert(*id, program);
            }
            Some(Err(error)) => {
                tracing::error!(version = id, error = %error, "a program version cannot be read");
            }
            None => {}
        }
    }
    Ok(out)
}

/// Raises one flag unless one of its reason was raised since its condition began (or one is
/// open: the unique index), with its care event, in one transaction. Whether it was raised.
async fn raise<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    enrolment: &ScheduledEnrolment,
    due: Due,
    now: DateTime<Utc>,
) -> Result<bool, AppError> {
    // A reply committed since the sweep read the thread answers the message after all.
    let still = match due.reason {
        UNANSWERED_MESSAGE => {
            "AND NOT EXISTS (SELECT 1 FROM message s WHERE s.enrolment_id = $1 \
               AND s.sender_kind = 'staff' AND s.sent_at >= $5)"
        }
        _ => "",
    };
    let txn = begin_write(db).await?;
    // A treatment ended since the sweep read it gets no flag: the row is held (PostgreSQL) so
    // that an ending waits for this commit, or this insert sees the ending.
    let ongoing = crate::domain::EnrolmentState::ongoing_sql("o.state");
    let lock = crate::db::share_lock(&txn);
    let raised = txn
        .execute(statement(
            &txn,
            &format!(
                "INSERT INTO flag (enrolment_id, kind, priority, reason, raised_at) \
                 SELECT $1, 'automatic', $2, $3, $4 WHERE NOT EXISTS (SELECT 1 FROM flag \
                   WHERE enrolment_id = $1 AND reason = $3 AND response_id IS NULL \
                   AND raised_at >= $5) {still} \
                 AND EXISTS (SELECT 1 FROM enrolment o WHERE o.id = $1 AND {ongoing}{lock}) \
                 ON CONFLICT DO NOTHING"
            ),
            vec![
                enrolment.id().into(),
                due.priority.to_value().into(),
                due.reason.into(),
                now.into(),
                due.since.into(),
            ],
        ))
        .await?
        .rows_affected()
        > 0;
    if raised {
        enrolment
            .record_event(&txn, crate::live::EventKind::Flag, now)
            .await?;
    }
    txn.commit().await?;
    if raised {
        crate::live::wake();
    }
    Ok(raised)
}

/// Escalates the urgent flags of real care not acknowledged within `hours` working hours of
/// being raised: each is marked once, and the unit's patient administrators are told.
async fn escalate<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    now: DateTime<Utc>,
    hours: u32,
) -> Result<u64, AppError> {
    let rows = db
        .query_all(statement(
            db,
            &format!(
                "SELECT f.id, f.enrolment_id, f.raised_at FROM flag f \
                 JOIN enrolment e ON e.id = f.enrolment_id \
                 WHERE f.priority = '{}' AND f.acknowledged_at IS NULL \
                   AND f.resolved_at IS NULL AND f.escalated_at IS NULL AND {} \
                 ORDER BY f.id",
                sea_orm::ActiveEnum::to_value(&crate::domain::FlagPriority::Urgent),
                crate::db::filter::real_care("e"),
            ),
            vec![],
        ))
        .await?;
    let mut late: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    for row in rows {
        let raised: DateTime<Utc> = row.try_get("", "raised_at")?;
        if now >= workdays::after_working_hours(raised, hours) {
            late.entry(row.try_get("", "enrolment_id")?)
                .or_default()
                .push(row.try_get("", "id")?);
        }
    }
    let ids: Vec<i64> = late.keys().copied().collect();
    let mut escalated = 0;
    // Only ongoing treatments' flags: an ended one's are on no dashboard to act from.
    let mut reached: BTreeMap<i64, ScheduledEnrolment> = followed_enrolments(db, &ids)
        .await?
        .into_iter()
        .map(|e| (e.id(), e))
        .collect();
    for (enrolment_id, flags) in late {
        let Some(enrolment) = reached.remove(&enrolment_id) else {
            continue;
        };
        for flag in flags {
            match escalate_one(db, &enrolment, flag, now).await {
                Ok(true) => escalated += 1,
                Ok(false) => {}
                Err(error) => {
                    tracing::error!(flag, error = %error, "escalating a flag failed");
                }
            }
        }
    }
    Ok(escalated)
}

async fn escalate_one<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    enrolment: &ScheduledEnrolment,
    flag: i64,
    now: DateTime<Utc>,
) -> Result<bool, AppError> {
    let txn = begin_write(db).await?;
    let marked = txn
        .execute(statement(
            &txn,
            "UPDATE flag SET escalated_at = $1 WHERE id = $2 AND enrolment_id = $3 \
               AND escalated_at IS NULL AND acknowledged_at IS NULL AND resolved_at IS NULL",
            vec![now.into(), flag.into(), enrolment.id().into()],
        ))
        .await?
        .rows_affected()
        > 0;
    if !marked {
        txn.rollback().await?;
        return Ok(false);
    }
    let mut told = 0;
    for staff in patient_administrators(&txn, enrolment.unit_id(), now).await? {
        let to = crate::notify::Recipient::Staff(staff);
        told += crate::notify::enqueue_now(&txn, to, crate::notify::Template::FlagEscalated, now)
            .await?;
    }
    if told == 0 {
        // Not marked: tried again at every sweep until someone can be told.
        txn.rollback().await?;
        tracing::error!(
            flag,
            unit = enrolment.unit_id(),
            "an urgent flag is not acknowledged in time, and the unit has no patient \
             administrator with an e-mail address to tell"
        );
        return Ok(false);
    }
    enrolment
        .record_event(&txn, crate::live::EventKind::Flag, now)
        .await?;
    txn.commit().await?;
    crate::live::wake();
    Ok(true)
}

/// The staff members who are patient administrators at an active unit now: the role granted
/// at the unit or provider-wide, and an assignment for care at the unit in force (what a
/// session needs to hold the role there).
async fn patient_administrators(
    db: &impl ConnectionTrait,
    unit: i64,
    now: DateTime<Utc>,
) -> Result<Vec<i64>, AppError> {
    let rows = db
        .query_all(statement(
            db,
            "SELECT DISTINCT r.staff_person_id AS id FROM staff_role r \
             JOIN care_unit u ON u.id = $1 \
             JOIN staff_hsa_identity i ON i.staff_person_id = r.staff_person_id \
             JOIN staff_assignment a ON a.staff_hsa_identity_id = i.id AND a.care_unit_id = u.id \
             WHERE r.role = $2 AND r.revoked_at IS NULL AND u.active \
               AND r.care_provider_id = u.care_provider_id \
               AND (r.care_unit_id = u.id OR r.care_unit_id IS NULL) \
               AND a.commission_purpose = $4 \
               AND (a.valid_to IS NULL OR a.valid_to > $3) \
             ORDER BY r.staff_person_id",
            vec![
                unit.into(),
                crate::auth::Role::PatientAdministrator.as_code().into(),
                now.into(),
                crate::auth::session::CARE_PURPOSE.into(),
            ],
        ))
        .await?;
    rows.iter()
        .map(|r| r.try_get("", "id").map_err(AppError::from))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::programs::{Block, Field, FieldKind, Section, ShowIf, ShowOp, Step, UnlockRule};

    fn worksheet(key: &str, show_if: Option<ShowIf>) -> Block {
        Block {
            key: key.to_owned(),
            show_if,
            body: BlockBody::Worksheet {
                instructions: "Fyll i.".to_owned(),
                fields: vec![Field {
                    key: "f".to_owned(),
                    label: "Fält".to_owned(),
                    kind: FieldKind::Text { max_chars: 500 },
                    required: true,
                }],
            },
        }
    }

    #[test]
    fn only_worksheets_every_patient_sees_are_owed() {
        let condition = ShowIf {
            questionnaire: "phq9".to_owned(),
            item: "q1".to_owned(),
            op: ShowOp::AtLeast,
            value: 1,
        };
        let module = Module {
            key: "m1".to_owned(),
            title: "Modul".to_owned(),
            unlock: UnlockRule::Open,
            sections: vec![Section {
                key: "s1".to_owned(),
                title: "Avsnitt".to_owned(),
                show_if: None,
                steps: vec![Step {
                    key: "p1".to_owned(),
                    title: "Sida".to_owned(),
                    blocks: vec![
                        worksheet("w1", None),
                        worksheet("w2", Some(condition.clone())),
                        worksheet("w3", None),
                    ],
                }],
            }],
        };
        assert_eq!(worksheets(&module), 2);
    }
}
