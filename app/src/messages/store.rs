//! Messages, read and written within the gate's decisions: a patient's own enrolment
//! ([`OwnEnrolment`]) or a staff member's access to a patient at their unit ([`CareAccess`]).

use super::{MessageView, PATIENT_PER_HOUR, STAFF_PER_HOUR, Thread, text};
use crate::auth::scope::{CareAccess, EnrolmentScope, OwnEnrolment};
use crate::db::entities::{care_unit, program, program_version};
use crate::db::statement;
use crate::error::{AppError, invalid};
use chrono::{DateTime, Duration, Utc};
use sea_orm::{ConnectionTrait, EntityTrait, QueryResult, TransactionTrait};
use std::collections::BTreeMap;

/// Checks a form's submit key: 64 hex digits, as the server made it for the form (a retried
/// send or submit carries the same key and is recognised).
pub(crate) fn check_key(key: &str) -> Result<(), AppError> {
    if key.len() == 64 && key.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err(invalid("submit_key", "malformed"))
    }
}

fn view(row: &QueryResult) -> Result<MessageView, AppError> {
    let kind: String = row.try_get("", "sender_kind")?;
    let given: Option<String> = row.try_get("", "given_name")?;
    let family: Option<String> = row.try_get("", "family_name")?;
    let sent: DateTime<Utc> = row.try_get("", "sent_at")?;
    let read: Option<DateTime<Utc>> = row.try_get("", "read_at")?;
    Ok(MessageView {
        from_patient: kind == "patient",
        author: given.zip(family).map(|(g, f)| format!("{g} {f}")),
        body: row.try_get("", "body")?,
        sent_at: sent.format("%Y-%m-%d %H:%M").to_string(),
        read: read.is_some(),
    })
}

/// The messages of a scope's source (`OwnEnrolment::messages`, `CareAccess::messages`), oldest
/// first, with their authors' names.
fn thread_sql(source: &str) -> String {
    format!(
        "SELECT m.enrolment_id, m.sender_kind, m.body, m.sent_at, m.read_at, \
                s.given_name, s.family_name \
         FROM {source} m LEFT JOIN staff_person s ON s.id = m.sender_staff_id \
         ORDER BY m.sent_at, m.id"
    )
}

/// One enrolment's thread, oldest first.
async fn thread_rows(
    db: &impl ConnectionTrait,
    own: &OwnEnrolment,
) -> Result<Vec<QueryResult>, AppError> {
    Ok(db
        .query_all(own.statement(db, &thread_sql(&own.messages()), vec![]))
        .await?)
}

/// The patient's thread in one treatment, oldest first, as it stands (nothing marked read).
pub(crate) async fn patient_messages(
    db: &impl ConnectionTrait,
    own: &OwnEnrolment,
) -> Result<Vec<MessageView>, AppError> {
    let rows = thread_rows(db, own).await?;
    rows.iter().map(view).collect()
}

pub async fn patient_thread(
    db: &impl ConnectionTrait,
    own: &OwnEnrolment,
) -> Result<Thread, AppError> {
    db.execute(statement(
        db,
        "UPDATE message SET read_at = $1 \
         WHERE enrolment_id = $2 AND sender_kind = 'staff' AND read_at IS NULL",
        vec![Utc::now().into(), own.id().into()],
    ))
    .await?;
    let rows = thread_rows(db, own).await?;
    let messages = rows.iter().map(view).collect::<Result<Vec<_>, _>>()?;
    let version = program_version::Entity::find_by_id(own.version_id())
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let program = program::Entity::find_by_id(version.program_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let unit = care_unit::Entity::find_by_id(own.unit_id())
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Thread {
        enrolment_id: own.id(),
        program: program.title,
        care_unit: unit.name,
        open: own.may_write(),
        messages,
        submit_key: crate::auth::session::new_token()?,
    })
}

/// Whether a message with this key is already in the thread (a retried send).
async fn already_sent(
    db: &impl ConnectionTrait,
    enrolment_id: i64,
    key: &str,
) -> Result<bool, AppError> {
    let row = db
        .query_one(statement(
            db,
            "SELECT COUNT(*) AS n FROM message WHERE enrolment_id = $1 AND idempotency_key = $2",
            vec![enrolment_id.into(), key.into()],
        ))
        .await?;
    Ok(row
        .map(|r| r.try_get::<i64>("", "n"))
        .transpose()?
        .unwrap_or(0)
        > 0)
}

/// Adds the message; whether it was added (not a retry that raced the first send).
async fn insert(
    db: &impl ConnectionTrait,
    enrolment_id: i64,
    staff_person_id: Option<i64>,
    body: &str,
    key: &str,
) -> Result<bool, AppError> {
    let added = db.execute(statement(
        db,
        "INSERT INTO message (enrolment_id, sender_kind, sender_staff_id, body, idempotency_key, sent_at) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (enrolment_id, idempotency_key) DO NOTHING",
        vec![
            enrolment_id.into(),
            if staff_person_id.is_some() { "staff" } else { "patient" }.into(),
            staff_person_id.into(),
            body.into(),
            key.into(),
            Utc::now().into(),
        ],
    ))
    .await?;
    Ok(added.rows_affected() == 1)
}

/// A send's transaction, in which the sender's messages of the last hour are counted and the
/// new one added: two sends at once by one sender wait for each other here, so the second counts
/// the first and the limit holds (counted before the transaction, ten parallel sends all saw
/// room). SQLite's write lock holds the whole database; on PostgreSQL the sender's row (`table`
/// is `enrolment` for a patient's sends in one treatment, `staff_person` for a staff member's)
/// is locked until the commit (`FOR NO KEY UPDATE`: rows that only refer to it, a flag
/// acknowledged by the staff member or a page visit of the treatment, are not held up). Taken
/// before the events' order lock, as every writer does.
async fn begin_counted(
    db: &(impl ConnectionTrait + TransactionTrait),
    table: &'static str,
    id: i64,
) -> Result<sea_orm::DatabaseTransaction, AppError> {
    let txn = crate::db::begin_write(db).await?;
    if txn.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
        txn.execute(statement(
            &txn,
            &format!("SELECT id FROM {table} WHERE id = $1 FOR NO KEY UPDATE"),
            vec![id.into()],
        ))
        .await?;
    }
    Ok(txn)
}

fn an_hour_ago() -> DateTime<Utc> {
    Utc::now() - Duration::hours(1)
}

pub async fn send_as_patient(
    db: &(impl ConnectionTrait + TransactionTrait),
    own: &OwnEnrolment,
    body: &str,
    key: &str,
) -> Result<(), AppError> {
    check_key(key)?;
    // A retry of a send that was committed is answered as it was, whatever happened since.
    if already_sent(db, own.id(), key).await? {
        return Ok(());
    }
    if !own.may_write() {
        return Err(invalid("enrolment", "treatment_ended"));
    }
    let body = text::clean(body).map_err(|e| invalid("body", e.code()))?;
    let txn = begin_counted(db, "enrolment", own.id()).await?;
    let recent = txn
        .query_one(own.statement(
            &txn,
            &format!(
                "SELECT COUNT(*) AS n FROM {} m WHERE sender_kind = 'patient' AND sent_at > $1",
                own.messages()
            ),
            vec![an_hour_ago().into()],
        ))
        .await?
        .map(|r| r.try_get::<i64>("", "n"))
        .transpose()?
        .unwrap_or(0);
    if recent >= PATIENT_PER_HOUR {
        txn.rollback().await?;
        return Err(invalid("body", "rate_limited"));
    }
    if insert(&txn, own.id(), None, &body, key).await? {
        own.record_event(&txn, crate::live::EventKind::Message, Utc::now())
            .await?;
    }
    txn.commit().await?;
    crate::live::wake();
    Ok(())
}

/// The resolution of an unanswered-message flag that a reply resolved.
pub const ANSWERED_BY_REPLY: &str = "Besvarad i meddelandetråden / Answered in the thread";

/// A message from the care team; the patient is notified (in the same transaction) over the
/// channels they consented to.
pub async fn send_as_staff(
    db: &(impl ConnectionTrait + TransactionTrait),
    access: &CareAccess,
    staff_person_id: i64,
    enrolment_id: i64,
    body: &str,
    key: &str,
) -> Result<(), AppError> {
    if !access.may_write() {
        return Err(AppError::Forbidden);
    }
    let enrolment = access
        .enrolment(db, enrolment_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let patient_id = crate::auth::scope::EnrolmentScope::patient_id(&enrolment);
    let state = crate::auth::scope::EnrolmentScope::state(&enrolment);
    check_key(key)?;
    if already_sent(db, enrolment_id, key).await? {
        return Ok(());
    }
    if !state.is_ongoing() {
        return Err(invalid("enrolment", "treatment_ended"));
    }
    // Handed over to another unit: read here, answered there.
    if !enrolment.may_write() {
        return Err(AppError::Forbidden);
    }
    let body = text::clean(body).map_err(|e| invalid("body", e.code()))?;
    // The staff member's own messages of the last hour, to anyone.
    let txn = begin_counted(db, "staff_person", staff_person_id).await?;
    let recent = txn
        .query_one(statement(
            &txn,
            "SELECT COUNT(*) AS n FROM message WHERE sender_staff_id = $1 AND sent_at > $2",
            vec![staff_person_id.into(), an_hour_ago().into()],
        ))
        .await?
        .map(|r| r.try_get::<i64>("", "n"))
        .transpose()?
        .unwrap_or(0);
    if recent >= STAFF_PER_HOUR {
        txn.rollback().await?;
        return Err(invalid("body", "rate_limited"));
    }
    if insert(&txn, enrolment_id, Some(staff_person_id), &body, key).await? {
        let patient = crate::notify::Recipient::Patient(patient_id);
        crate::notify::enqueue(
            &txn,
            patient,
            crate::notify::Template::NewMessage,
            Utc::now(),
        )
        .await?;
        // A reply is what an unanswered-message flag asked for: it is resolved by it.
        let now = Utc::now();
        txn.execute(statement(
            &txn,
            &format!(
                "UPDATE flag SET resolved_at = $1, resolved_by = $2, resolution = $3, \
                   acknowledged_at = COALESCE(acknowledged_at, $1), \
                   acknowledged_by = COALESCE(acknowledged_by, $2) \
                 WHERE enrolment_id = $4 AND reason = $5 AND response_id IS NULL \
                   AND resolved_at IS NULL AND enrolment_id IN (SELECT x.id FROM {} x)",
                access.enrolments()
            ),
            vec![
                now.into(),
                staff_person_id.into(),
                ANSWERED_BY_REPLY.into(),
                enrolment_id.into(),
                crate::care::follow_up::UNANSWERED_MESSAGE.into(),
            ],
        ))
        .await?;
        access
            .record_event(&txn, enrolment_id, crate::live::EventKind::Message, now)
            .await?;
    }
    txn.commit().await?;
    crate::live::wake();
    Ok(())
}

/// The threads of the enrolments the access reaches, by enrolment. The patient's messages in
/// enrolments where the reader is on the care team are marked read, under ongoing care only
/// (ended treatment and emergency access are read-only).
pub async fn record_threads(
    db: &(impl ConnectionTrait + TransactionTrait),
    access: &CareAccess,
    staff_person_id: i64,
) -> Result<BTreeMap<i64, Vec<MessageView>>, AppError> {
    if access.may_write() {
        mark_read_by_team(db, access, staff_person_id).await?;
    }
    let rows = db
        .query_all(statement(db, &thread_sql(&access.messages()), vec![]))
        .await?;
    let mut threads: BTreeMap<i64, Vec<MessageView>> = BTreeMap::new();
    for row in &rows {
        let enrolment: i64 = row.try_get("", "enrolment_id")?;
        threads.entry(enrolment).or_default().push(view(row)?);
    }
    Ok(threads)
}

async fn mark_read_by_team(
    db: &(impl ConnectionTrait + TransactionTrait),
    access: &CareAccess,
    staff_person_id: i64,
) -> Result<(), AppError> {
    let team = format!(
        "enrolment_id IN (SELECT e.id FROM {} e WHERE e.responsible_staff_id = $1 OR EXISTS \
           (SELECT 1 FROM enrolment_therapist t WHERE t.enrolment_id = e.id AND t.staff_person_id = $1))",
        access.enrolments()
    );
    let now = Utc::now();
    let txn = db.begin().await?;
    let read = txn
        .query_all(statement(
            &txn,
            &format!(
                "UPDATE message SET read_at = $2, read_by_staff_id = $1 \
                 WHERE sender_kind = 'patient' AND read_at IS NULL AND {team} \
                 RETURNING enrolment_id"
            ),
            vec![staff_person_id.into(), now.into()],
        ))
        .await?;
    let threads: std::collections::BTreeSet<i64> = read
        .iter()
        .map(|row| row.try_get("", "enrolment_id"))
        .collect::<Result<_, _>>()?;
    // The care team's dashboards show the unread messages: they change.
    for enrolment_id in threads {
        access
            .record_event(&txn, enrolment_id, crate::live::EventKind::Message, now)
            .await?;
    }
    txn.commit().await?;
    crate::live::wake();
    Ok(())
}
