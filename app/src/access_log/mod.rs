//! The access log (PDL 4 kap. 3 §): every access to patient data, written as a hash chain per
//! care provider (and per demo sandbox), and its verification. A module of its own: the gate
//! writes here, the auditor's screen (`crate::audit`) reads here, and neither imports the other.
//!
//! Rows are hash-chained: `hash = sha256(prev_hash || canonical(row))`, one chain for real care
//! and one per demo sandbox. The application has no update or delete path for real rows, and on
//! PostgreSQL a trigger refuses them (and the runtime role may not touch the trigger). [`verify`]
//! walks every chain and names the first row whose content or link does not match.

use crate::db::PoolId;
use crate::db::entities::access_log;
use chrono::{DateTime, SubsecRound, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, SqlErr, TransactionTrait,
};
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// The `prev_hash` of the first row of a chain.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What was done with the patient's data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Saw the patient in a list (name and identity number).
    List,
    /// Opened the patient's record.
    Read,
    /// Changed the patient's data.
    Write,
    /// Opened the record outside a care relationship, with a stated reason.
    EmergencyRead,
    /// Searched the access log (the auditor), which names patients.
    Search,
    /// Exported the access log's rows about the patient (the auditor's CSV file).
    Export,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::List => "list",
            Self::Read => "read",
            Self::Write => "write",
            Self::EmergencyRead => "emergency_read",
            Self::Search => "search",
            Self::Export => "export",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Allowed,
    Refused,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Allowed => "allowed",
            Self::Refused => "refused",
        }
    }
}

/// One access, as the caller describes it. Time and hashes are added when it is appended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub user_hsa_id: String,
    pub assignment_hsa_id: Option<String>,
    pub care_unit_hsa_id: Option<String>,
    pub care_provider_org_number: Option<String>,
    pub patient_id: Option<i64>,
    pub action: Action,
    pub object_type: &'static str,
    pub object_id: Option<i64>,
    pub outcome: Outcome,
    pub reason: Option<String>,
    pub needs_follow_up: bool,
    pub sandbox_id: Option<i64>,
}

/// The exact bytes that a row's hash covers. Every field is length-prefixed, so no choice of
/// values can make two different rows read the same.
fn canonical(row: &access_log::Model) -> String {
    fn field(out: &mut String, value: Option<&str>) {
        match value {
            None => out.push_str("|-"),
            Some(v) => {
                out.push('|');
                out.push_str(&v.len().to_string());
                out.push(':');
                out.push_str(v);
            }
        }
    }
    let mut out = String::from("lotsen-access-log-v1");
    let time = row
        .occurred_at
        .to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let patient = row.patient_id.map(|v| v.to_string());
    let object = row.object_id.map(|v| v.to_string());
    let sandbox = row.sandbox_id.map(|v| v.to_string());
    for value in [
        Some(time.as_str()),
        Some(row.user_hsa_id.as_str()),
        row.assignment_hsa_id.as_deref(),
        row.care_unit_hsa_id.as_deref(),
        row.care_provider_org_number.as_deref(),
        patient.as_deref(),
        Some(row.action.as_str()),
        Some(row.object_type.as_str()),
        object.as_deref(),
        Some(row.outcome.as_str()),
        row.reason.as_deref(),
        Some(if row.needs_follow_up { "1" } else { "0" }),
        sandbox.as_deref(),
    ] {
        field(&mut out, value);
    }
    out
}

fn row_hash(prev_hash: &str, row: &access_log::Model) -> String {
    let mut hasher = Sha256::new();
    hasher.update(prev_hash.as_bytes());
    hasher.update(canonical(row).as_bytes());
    hex(&hasher.finalize())
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// Serialises appends within this process. Between processes (several servers on one
/// PostgreSQL database) the unique index on each chain's links refuses the loser of a race,
/// which then reads the new head and tries again.
static APPEND_LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
const APPEND_ATTEMPTS: usize = 16;

/// Appends waiting for [`APPEND_LOCK`] through [`append_shared`], of every connection pool:
/// a writer holding the lock takes its own pool's, oldest first, up to [`BATCH_ROWS`] rows
/// (more only for one caller's alone: [`write`] cuts them).
static WAITING: std::sync::Mutex<Vec<Waiting>> = std::sync::Mutex::new(Vec::new());

/// At most this many rows in one INSERT (SQLite takes at most 32,766 parameters a statement,
/// PostgreSQL 65,535; a row has 15).
const BATCH_ROWS: usize = 1000;

struct Waiting {
    pool: PoolId,
    entries: Vec<Entry>,
    done: tokio::sync::oneshot::Sender<Result<(), String>>,
}

fn waiting() -> std::sync::MutexGuard<'static, Vec<Waiting>> {
    WAITING.lock().unwrap_or_else(|e| e.into_inner())
}

/// Holds every append of this process until the guard is dropped (tests: appends that wait).
#[cfg(feature = "testing")]
pub async fn hold_appends() -> tokio::sync::MutexGuard<'static, ()> {
    APPEND_LOCK.lock().await
}

/// How many [`append_shared`] calls are waiting to append to `db` (tests).
#[cfg(feature = "testing")]
pub fn appends_waiting(db: &DatabaseConnection) -> usize {
    let Some(pool) = PoolId::of(db) else {
        return 0;
    };
    waiting().iter().filter(|w| w.pool == pool).count()
}

/// Appends one row.
pub async fn append<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    entry: Entry,
) -> Result<(), DbErr> {
    append_all(db, vec![entry]).await
}

/// Appends rows, all with the same timestamp, linked in the given order, in one INSERT (one
/// per [`BATCH_ROWS`]). Entries of different chains (real care and sandboxes) may be mixed.
/// For a transaction of the caller's; on a connection, [`append_shared`] does the same and is
/// faster under load.
pub async fn append_all<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    entries: Vec<Entry>,
) -> Result<(), DbErr> {
    if entries.is_empty() {
        return Ok(());
    }
    let _guard = APPEND_LOCK.lock().await;
    write(db, entries).await
}

/// Appends rows as [`append_all`] does, on a connection (no transaction of the caller's), in one
/// INSERT with those of every other request of this process that is waiting to append to the
/// same database: one commit, and on a database that syncs each commit to disk one `fsync`,
/// for all of them (group commit), where one after another each waited for every earlier one's.
/// Each caller's rows stay together, in its order; all rows of one INSERT have one timestamp.
///
/// The rows are written by a task of their own, so a request dropped while it waits (its
/// client gone) neither loses them nor fails the other requests written with it. It returns
/// once its rows are committed, or with the error that kept them out.
pub async fn append_shared(db: &DatabaseConnection, entries: Vec<Entry>) -> Result<(), DbErr> {
    if entries.is_empty() {
        return Ok(());
    }
    let Some(pool) = PoolId::of(db) else {
        return append_all(db, entries).await;
    };
    let (done, written) = tokio::sync::oneshot::channel();
    waiting().push(Waiting {
        pool: pool.clone(),
        entries,
        done,
    });
    tokio::spawn(write_waiting(db.clone(), pool));
    match written.await {
        Ok(outcome) => outcome.map_err(DbErr::Custom),
        // The writer panicked: whether the INSERT committed is unknown, so this access is
        // not reported as logged.
        Err(_) => Err(DbErr::Custom("the access log's writer stopped".to_owned())),
    }
}

/// Writes what waits for `pool`, if an earlier writer has not: one task per [`append_shared`],
/// each with the lock in turn, so that every append is written by its own turn at the latest.
async fn write_waiting(db: DatabaseConnection, pool: PoolId) {
    let _guard = APPEND_LOCK.lock().await;
    // One INSERT a turn: what comes meanwhile has its own turn queued (behind appends in
    // transactions and to other databases, which would otherwise wait while this one goes on).
    let batch = {
        let mut all = waiting();
        let mut rows = 0;
        let mut taken = Vec::new();
        let mut index = 0;
        while index < all.len() {
            let next = &all[index];
            if next.pool == pool && (rows == 0 || rows + next.entries.len() <= BATCH_ROWS) {
                rows += next.entries.len();
                taken.push(all.remove(index));
            } else {
                index += 1;
            }
        }
        taken
    };
    if batch.is_empty() {
        return;
    }
    let mut entries = Vec::with_capacity(batch.iter().map(|w| w.entries.len()).sum());
    let mut answers = Vec::with_capacity(batch.len());
    for waiting in batch {
        entries.extend(waiting.entries);
        answers.push(waiting.done);
    }
    let outcome = write(&db, entries).await.map_err(|err| err.to_string());
    for answer in answers {
        // Its request may be gone; its rows are written all the same.
        let _ = answer.send(outcome.clone());
    }
}

/// Appends `entries`, [`APPEND_LOCK`] held by the caller: in one INSERT, or one per
/// [`BATCH_ROWS`] (each a commit of its own) when there are more.
async fn write<C: ConnectionTrait>(db: &C, entries: Vec<Entry>) -> Result<(), DbErr> {
    let now: DateTime<Utc> = Utc::now().trunc_subsecs(6);
    for part in entries.chunks(BATCH_ROWS) {
        // Two round trips: the heads, then one multi-row INSERT, atomic by itself (no
        // transaction: on SQLite one that reads before it writes could not wait for another
        // writer). If another process appended in between, the unique index on the links
        // refuses the INSERT whole.
        let mut attempt = 1;
        loop {
            let rows = link(db, part.to_vec(), now).await?;
            match access_log::Entity::insert_many(rows).exec(db).await {
                Ok(_) => break,
                Err(err)
                    if attempt < APPEND_ATTEMPTS
                        && matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) =>
                {
                    attempt += 1;
                    tokio::task::yield_now().await;
                }
                Err(err) => return Err(err),
            }
        }
    }
    Ok(())
}

/// Computes each entry's link and hash from the current heads of their chains.
async fn link(
    db: &impl ConnectionTrait,
    entries: Vec<Entry>,
    now: DateTime<Utc>,
) -> Result<Vec<access_log::ActiveModel>, DbErr> {
    let mut heads: HashMap<Option<i64>, String> = HashMap::new();
    let mut rows = Vec::with_capacity(entries.len());
    for entry in entries {
        let prev_hash = match heads.get(&entry.sandbox_id) {
            Some(head) => head.clone(),
            None => head_of(db, entry.sandbox_id).await?,
        };
        let mut row = access_log::Model {
            id: 0,
            occurred_at: now,
            user_hsa_id: entry.user_hsa_id,
            assignment_hsa_id: entry.assignment_hsa_id,
            care_unit_hsa_id: entry.care_unit_hsa_id,
            care_provider_org_number: entry.care_provider_org_number,
            patient_id: entry.patient_id,
            action: entry.action.as_str().to_owned(),
            object_type: entry.object_type.to_owned(),
            object_id: entry.object_id,
            outcome: entry.outcome.as_str().to_owned(),
            reason: entry.reason,
            needs_follow_up: entry.needs_follow_up,
            prev_hash,
            hash: String::new(),
            sandbox_id: entry.sandbox_id,
        };
        row.hash = row_hash(&row.prev_hash, &row);
        heads.insert(row.sandbox_id, row.hash.clone());
        rows.push(active(row));
    }
    Ok(rows)
}

fn active(row: access_log::Model) -> access_log::ActiveModel {
    access_log::ActiveModel {
        id: sea_orm::ActiveValue::NotSet,
        occurred_at: Set(row.occurred_at),
        user_hsa_id: Set(row.user_hsa_id),
        assignment_hsa_id: Set(row.assignment_hsa_id),
        care_unit_hsa_id: Set(row.care_unit_hsa_id),
        care_provider_org_number: Set(row.care_provider_org_number),
        patient_id: Set(row.patient_id),
        action: Set(row.action),
        object_type: Set(row.object_type),
        object_id: Set(row.object_id),
        outcome: Set(row.outcome),
        reason: Set(row.reason),
        needs_follow_up: Set(row.needs_follow_up),
        prev_hash: Set(row.prev_hash),
        hash: Set(row.hash),
        sandbox_id: Set(row.sandbox_id),
    }
}

async fn head_of(db: &impl ConnectionTrait, sandbox: Option<i64>) -> Result<String, DbErr> {
    let column = access_log::Column::SandboxId;
    let query = access_log::Entity::find()
        .filter(match sandbox {
            Some(id) => column.eq(id),
            None => column.is_null(),
        })
        .order_by_desc(access_log::Column::Id)
        .select_only()
        .column(access_log::Column::Hash)
        .into_tuple::<String>();
    Ok(query.one(db).await?.unwrap_or_else(|| GENESIS.to_owned()))
}

/// The first row that breaks its chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broken {
    pub id: i64,
    pub reason: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    pub rows: u64,
    pub chains: usize,
    pub broken: Option<Broken>,
    /// The last row of the real-care chain: record it elsewhere (an anchor).
    pub head: Option<Anchor>,
}

/// A row of the real-care chain and its hash, as recorded outside the database. Rows cut off
/// the end of a chain leave a shorter chain that still links up; an anchor recorded before
/// reveals it, because its row is gone or has another hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anchor {
    pub id: i64,
    pub hash: String,
}

impl std::fmt::Display for Anchor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.id, self.hash)
    }
}

impl std::str::FromStr for Anchor {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (id, hash) = s
            .trim()
            .split_once(':')
            .ok_or_else(|| "an anchor is <row id>:<hash>".to_owned())?;
        let id = id
            .parse()
            .map_err(|_| "the row id is not a number".to_owned())?;
        if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err("the hash is 64 hexadecimal digits".to_owned());
        }
        Ok(Self {
            id,
            hash: hash.to_ascii_lowercase(),
        })
    }
}

/// The last row of the real-care chain, if any.
pub async fn head(db: &impl ConnectionTrait) -> Result<Option<Anchor>, DbErr> {
    Ok(access_log::Entity::find()
        .filter(access_log::Column::SandboxId.is_null())
        .order_by_desc(access_log::Column::Id)
        .one(db)
        .await?
        .map(|row| Anchor {
            id: row.id,
            hash: row.hash,
        }))
}

/// Walks every chain in id order and stops at the first row whose link or content does not
/// match.
pub async fn verify(db: &impl ConnectionTrait) -> Result<VerifyReport, DbErr> {
    verify_anchored(db, &[]).await
}

/// [`verify`], and then checks that every anchor recorded earlier is still in the real-care
/// chain with the same hash (so that cutting rows off its end is found too).
pub async fn verify_anchored(
    db: &impl ConnectionTrait,
    anchors: &[Anchor],
) -> Result<VerifyReport, DbErr> {
    let mut report = walk(db, anchors).await?;
    if report.broken.is_none() {
        report.head = head(db).await?;
    }
    Ok(report)
}

async fn walk(db: &impl ConnectionTrait, anchors: &[Anchor]) -> Result<VerifyReport, DbErr> {
    const PAGE: u64 = 2_000;
    let mut heads: HashMap<Option<i64>, String> = HashMap::new();
    let mut anchored: HashMap<i64, &str> =
        anchors.iter().map(|a| (a.id, a.hash.as_str())).collect();
    let mut rows = 0;
    // Pages by key, not by offset: sandboxes expiring while the walk goes on delete rows, and
    // an offset would then skip live rows and report a break that is not there.
    let mut after = i64::MIN;
    loop {
        let page = access_log::Entity::find()
            .filter(access_log::Column::Id.gt(after))
            .order_by_asc(access_log::Column::Id)
            .limit(PAGE)
            .all(db)
            .await?;
        let Some(last) = page.last() else {
            break;
        };
        after = last.id;
        for row in page {
            rows += 1;
            let expected = heads.get(&row.sandbox_id).map_or(GENESIS, String::as_str);
            let broken = if row.prev_hash != expected {
                Some("its link does not match the row before it (a row was removed or changed)")
            } else if row_hash(&row.prev_hash, &row) != row.hash {
                Some("its content does not match its hash (the row was changed)")
            } else {
                None
            };
            let broken = broken.or_else(|| match anchored.remove(&row.id) {
                Some(hash) if row.sandbox_id.is_some() || hash != row.hash => {
                    Some("it does not match the hash recorded for it (the log was rewritten)")
                }
                _ => None,
            });
            if let Some(reason) = broken {
                return Ok(VerifyReport {
                    rows,
                    chains: heads.len().max(1),
                    broken: Some(Broken { id: row.id, reason }),
                    head: None,
                });
            }
            heads.insert(row.sandbox_id, row.hash);
        }
    }
    // An anchor whose row was never met: the log was cut back past it.
    let missing = anchored.keys().min().copied();
    Ok(VerifyReport {
        rows,
        chains: heads.len(),
        broken: missing.map(|id| Broken {
            id,
            reason: "this row was recorded as part of the log and is gone (the log was cut back)",
        }),
        head: None,
    })
}
