//! Live updates for the therapists' dashboards.
//!
//! A change that a dashboard shows (an answer submitted, a flag raised or handled, a message,
//! homework, feedback, an enrolment) writes a **care event** in the same transaction as the
//! change: a row of `care_event` with a global id, the enrolment's unit and sandbox, a kind
//! code and the enrolment — no clinical content. A dashboard's stream reads the events of its
//! unit and sandbox with `id > last`, so a reconnect, or a reconnect to another instance,
//! loses none.
//!
//! What wakes the readers: after its transaction has committed, the writer calls [`wake`] (an
//! in-process signal); on PostgreSQL the transaction also sends a `NOTIFY` on [`CHANNEL`]
//! (delivered at commit, to every instance), which each instance's listener turns into a wake.
//! Neither carries anything but "look again".
//!
//! Order: on PostgreSQL, ids come from a sequence when the row is inserted, so a transaction
//! that took a lower id could commit after one with a higher id, and a reader that had moved
//! past the higher id would never see the lower. Every event is therefore written under one
//! transaction-scoped advisory lock, taken right before the insert and held to the commit:
//! events commit in the order of their ids. (SQLite has one writer at a time.)
//!
//! The access log: a stream sends kinds and ids of events, never patient data, and writes no
//! row. The dashboard it makes the browser fetch again writes a row for each patient whose
//! care changed since that session last had the dashboard, and for each patient shown that
//! the session has not had logged yet (see [`seen`]), not the whole list again; a session's
//! first dashboard at a unit logs every patient shown.

use serde::{Deserialize, Serialize};

/// What changed in an enrolment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EventKind {
    /// A questionnaire was submitted.
    Answer,
    /// A flag was raised, acknowledged or resolved.
    Flag,
    /// A message was sent, by the patient or the care team.
    Message,
    /// A worksheet was submitted or an exercise entry added.
    Homework,
    /// Feedback on a module was given.
    Feedback,
    /// The patient was enrolled.
    Enrolment,
    /// The patient saw a page for the first time.
    Progress,
    /// The treatment moved to the maintenance phase or ended.
    Treatment,
}

impl EventKind {
    pub const ALL: [EventKind; 8] = [
        EventKind::Answer,
        EventKind::Flag,
        EventKind::Message,
        EventKind::Homework,
        EventKind::Feedback,
        EventKind::Enrolment,
        EventKind::Progress,
        EventKind::Treatment,
    ];

    pub fn code(self) -> &'static str {
        match self {
            EventKind::Answer => "answer",
            EventKind::Flag => "flag",
            EventKind::Message => "message",
            EventKind::Homework => "homework",
            EventKind::Feedback => "feedback",
            EventKind::Enrolment => "enrolment",
            EventKind::Progress => "progress",
            EventKind::Treatment => "treatment",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.code() == code)
    }
}

#[cfg(feature = "ssr")]
pub use server::*;

#[cfg(feature = "ssr")]
mod server {
    use super::EventKind;
    use crate::auth::scope::UnitCare;
    use crate::db::statement;
    use sea_orm::{ConnectionTrait, DbBackend, DbErr};
    use std::collections::HashMap;
    use std::sync::{LazyLock, Mutex};
    use tokio::sync::watch;

    /// The PostgreSQL channel whose notifications wake the readers of every instance.
    pub const CHANNEL: &str = "lotsen_care";

    /// The advisory lock that orders the events' commits (an arbitrary constant of ours).
    const ORDER_LOCK: i64 = 0x4c6f_7473_656e; // "Lotsen"

    /// How many events one read returns at most.
    pub const PAGE: u64 = 500;

    static WAKES: LazyLock<watch::Sender<u64>> = LazyLock::new(|| watch::channel(0).0);

    /// Tells this process's readers to look for new events. Call it after the transaction
    /// that wrote them has committed.
    pub fn wake() {
        WAKES.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// A receiver that changes at every [`wake`].
    pub fn wakes() -> watch::Receiver<u64> {
        WAKES.subscribe()
    }

    /// Run in the writing transaction right before an event is inserted: on PostgreSQL, the
    /// lock that orders the events' commits and the notification sent at commit.
    pub(crate) async fn before_event(db: &impl ConnectionTrait) -> Result<(), DbErr> {
        if db.get_database_backend() == DbBackend::Postgres {
            db.execute(statement(
                db,
                "SELECT pg_advisory_xact_lock($1)",
                vec![ORDER_LOCK.into()],
            ))
            .await?;
            db.execute(statement(
                db,
                "SELECT pg_notify($1, '')",
                vec![CHANNEL.into()],
            ))
            .await?;
        }
        Ok(())
    }

    /// One care event, as the readers see it.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct CareEvent {
        pub id: i64,
        pub unit_id: i64,
        pub sandbox_id: Option<i64>,
        pub kind: EventKind,
    }

    impl CareEvent {
        /// Whether a dashboard of `unit` hears of it.
        pub fn reaches(&self, unit: &UnitCare) -> bool {
            self.unit_id == unit.unit_id() && self.sandbox_id == unit.sandbox_id()
        }
    }

    fn events(rows: Vec<sea_orm::QueryResult>) -> Result<Vec<CareEvent>, DbErr> {
        let mut events = Vec::with_capacity(rows.len());
        for row in rows {
            let code: String = row.try_get("", "kind")?;
            // A kind this build does not know (a newer instance's) is still a change.
            let kind = EventKind::from_code(&code).unwrap_or(EventKind::Progress);
            events.push(CareEvent {
                id: row.try_get("", "id")?,
                unit_id: row.try_get("", "care_unit_id")?,
                sandbox_id: row.try_get("", "sandbox_id")?,
                kind,
            });
        }
        Ok(events)
    }

    /// The newest event's id (0 when there is none).
    pub async fn latest(db: &impl ConnectionTrait) -> Result<i64, DbErr> {
        let row = db
            .query_one(statement(
                db,
                "SELECT COALESCE(MAX(id), 0) AS id FROM care_event",
                vec![],
            ))
            .await?;
        Ok(row.map(|r| r.try_get("", "id")).transpose()?.unwrap_or(0))
    }

    /// Every event after `after`, oldest first, at most [`PAGE`]: what an instance's hub fans
    /// out to its streams, each of which keeps those of its own scope.
    pub async fn after(db: &impl ConnectionTrait, after: i64) -> Result<Vec<CareEvent>, DbErr> {
        let rows = db
            .query_all(statement(
                db,
                &format!(
                    "SELECT id, care_unit_id, sandbox_id, kind FROM care_event \
                     WHERE id > $1 ORDER BY id LIMIT {PAGE}"
                ),
                vec![after.into()],
            ))
            .await?;
        events(rows)
    }

    /// The events of the unit's dashboards after `after`, oldest first, at most [`PAGE`].
    pub async fn in_unit_after(
        db: &impl ConnectionTrait,
        unit: &UnitCare,
        after: i64,
    ) -> Result<Vec<CareEvent>, DbErr> {
        let rows = db
            .query_all(statement(
                db,
                &format!(
                    "SELECT id, care_unit_id, sandbox_id, kind FROM {} c \
                     WHERE id > $1 ORDER BY id LIMIT {PAGE}",
                    unit.events()
                ),
                vec![after.into()],
            ))
            .await?;
        events(rows)
    }

    /// The newest event of the unit's dashboards (0 when there is none).
    pub async fn latest_in_unit(db: &impl ConnectionTrait, unit: &UnitCare) -> Result<i64, DbErr> {
        let row = db
            .query_one(statement(
                db,
                &format!("SELECT COALESCE(MAX(id), 0) AS id FROM {} c", unit.events()),
                vec![],
            ))
            .await?;
        Ok(row.map(|r| r.try_get("", "id")).transpose()?.unwrap_or(0))
    }

    /// The enrolments of the unit's dashboards that changed after `after`, and the newest
    /// event among them (`after` when none).
    pub async fn changed_in_unit(
        db: &impl ConnectionTrait,
        unit: &UnitCare,
        after: i64,
    ) -> Result<(Vec<i64>, i64), DbErr> {
        let rows = db
            .query_all(statement(
                db,
                &format!(
                    "SELECT enrolment_id, MAX(id) AS newest FROM {} c WHERE id > $1 \
                     GROUP BY enrolment_id",
                    unit.events()
                ),
                vec![after.into()],
            ))
            .await?;
        let mut newest = after;
        let mut changed = Vec::with_capacity(rows.len());
        for row in rows {
            changed.push(row.try_get("", "enrolment_id")?);
            newest = newest.max(row.try_get("", "newest")?);
        }
        Ok((changed, newest))
    }

    /// How long events are kept: long past any reconnect; a stream further behind starts
    /// over from the whole dashboard.
    pub const KEEP_DAYS: i64 = 7;

    /// Deletes the events older than [`KEEP_DAYS`]; how many.
    pub async fn prune(
        db: &impl ConnectionTrait,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<u64, DbErr> {
        let before = now - chrono::Duration::days(KEEP_DAYS);
        let done = db
            .execute(statement(
                db,
                "DELETE FROM care_event WHERE created_at < $1",
                vec![before.into()],
            ))
            .await?;
        Ok(done.rows_affected())
    }

    /// What each session (by its tag: part of the hash of its token) last had of a unit's
    /// dashboard: the newest event it reflected, the patients already logged for it, and
    /// when. Kept in this process only: a session whose next dashboard is served by another
    /// instance has every patient logged again (more rows, never fewer).
    static SEEN: LazyLock<Mutex<HashMap<(String, i64), Seen>>> = LazyLock::new(Default::default);

    /// How long a session's last dashboard counts: after this, the whole list is logged again.
    const SEEN_FOR: std::time::Duration = std::time::Duration::from_secs(8 * 3600);

    /// A session's last dashboard of a unit.
    #[derive(Debug, Clone, Default)]
    pub struct Seen {
        /// The newest event whose change it reflected (and was logged).
        pub event: i64,
        /// The patients logged for it in this session.
        pub logged: std::collections::BTreeSet<i64>,
        at: Option<std::time::Instant>,
    }

    /// What this session last had of the unit's dashboard (nothing: log everything shown).
    pub fn seen(session: &str, unit_id: i64) -> Seen {
        let seen = SEEN.lock().unwrap_or_else(|e| e.into_inner());
        seen.get(&(session.to_owned(), unit_id))
            .filter(|s| s.at.is_some_and(|at| at.elapsed() < SEEN_FOR))
            .cloned()
            .unwrap_or_default()
    }

    /// Remembers what this session now has of the unit's dashboard.
    pub fn mark_seen(
        session: &str,
        unit_id: i64,
        event: i64,
        logged: std::collections::BTreeSet<i64>,
    ) {
        let mut seen = SEEN.lock().unwrap_or_else(|e| e.into_inner());
        if seen.len() >= 50_000 {
            seen.retain(|_, s| s.at.is_some_and(|at| at.elapsed() < SEEN_FOR));
        }
        seen.insert(
            (session.to_owned(), unit_id),
            Seen {
                event,
                logged,
                at: Some(std::time::Instant::now()),
            },
        );
    }
}
