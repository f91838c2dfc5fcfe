//! Dashboard reads that wait together share one. A unit's rows are the same for all of its
//! staff (and a therapist's own caseload for all of her sessions), so when a care event makes a
//! thousand dashboards fetch the page at once, one read serves every request that came while
//! the read before it ran.
//!
//! No request gets rows read before it came: a read takes the requests waiting when it starts,
//! and the next read starts when it ends. A request that comes while none runs is read for at
//! once, alone. Reads run in a task of their own, so a request that goes away (its client gone)
//! neither ends the read nor fails the others; a failed read fails those it was for, once. The
//! access log is each request's own (`unit_dashboard`).

use super::{DashboardPatient, OpenFlag};
use crate::auth::scope::UnitCare;
use crate::db::PoolId;
use sea_orm::{DatabaseConnection, DbErr};
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, MutexGuard};
use tokio::sync::oneshot;

/// A dashboard's rows: its patients and open flags.
pub type Rows = Arc<(Vec<DashboardPatient>, Vec<OpenFlag>)>;

type Answer = oneshot::Sender<Result<Rows, String>>;

/// The database, and the scope's unit, sandbox and care team.
type Key = (PoolId, (i64, Option<i64>, Option<i64>));

#[derive(Default)]
struct Scope {
    /// The requests that the next read is for.
    waiting: Vec<Answer>,
    /// Held by the read that runs: the next one waits for it.
    turn: Arc<tokio::sync::Mutex<()>>,
    /// Tests: how many reads have started and ended, and a read's answers held back.
    #[cfg(feature = "testing")]
    reads: u64,
    #[cfg(feature = "testing")]
    read: u64,
    #[cfg(feature = "testing")]
    answers_held: Arc<tokio::sync::Mutex<()>>,
}

struct Scopes {
    by_key: HashMap<Key, Scope>,
    /// More scopes than this: the idle ones are dropped (each demo sandbox is a scope).
    limit: usize,
}

const KEPT: usize = 4096;

static SCOPES: LazyLock<Mutex<Scopes>> = LazyLock::new(|| {
    Mutex::new(Scopes {
        by_key: HashMap::new(),
        limit: KEPT,
    })
});

fn scopes() -> MutexGuard<'static, Scopes> {
    SCOPES.lock().unwrap_or_else(|e| e.into_inner())
}

/// The rows of `listed`, read after this call began: for this request alone, or for it and the
/// others that waited with it.
pub(crate) async fn dashboard_rows(
    db: &DatabaseConnection,
    listed: &UnitCare,
) -> Result<Rows, DbErr> {
    let Some(pool) = PoolId::of(db) else {
        return read(db, listed).await;
    };
    let key = (pool, listed.key());
    let (answer, rows) = oneshot::channel();
    {
        let mut all = scopes();
        if all.by_key.len() > all.limit {
            // A scope with a read waiting or running has its task holding `turn`.
            all.by_key.retain(|_, s| Arc::strong_count(&s.turn) > 1);
            all.limit = KEPT.max(2 * all.by_key.len());
        }
        let scope = all.by_key.entry(key.clone()).or_default();
        scope.waiting.push(answer);
        // The first to wait starts the next read; those after it join it until it starts.
        if scope.waiting.len() == 1 {
            tokio::spawn(read_for_waiting(
                db.clone(),
                *listed,
                key,
                scope.turn.clone(),
            ));
        }
    }
    match rows.await {
        Ok(rows) => rows.map_err(DbErr::Custom),
        // The read's task panicked.
        Err(_) => Err(DbErr::Custom("the dashboard's read stopped".to_owned())),
    }
}

async fn read_for_waiting(
    db: DatabaseConnection,
    listed: UnitCare,
    key: Key,
    turn: Arc<tokio::sync::Mutex<()>>,
) {
    let _turn = turn.lock().await;
    // It starts now: whoever comes from here on waits for the next one.
    let waiting = {
        let mut all = scopes();
        let Some(scope) = all.by_key.get_mut(&key) else {
            return;
        };
        #[cfg(feature = "testing")]
        {
            scope.reads += 1;
        }
        std::mem::take(&mut scope.waiting)
    };
    if waiting.is_empty() {
        return;
    }
    let rows = read(&db, &listed).await.map_err(|err| err.to_string());
    #[cfg(feature = "testing")]
    let held = scopes().by_key.get_mut(&key).map(|scope| {
        scope.read += 1;
        scope.answers_held.clone()
    });
    #[cfg(feature = "testing")]
    let _held = match &held {
        Some(held) => Some(held.lock().await),
        None => None,
    };
    for answer in waiting {
        // Its request may be gone.
        let _ = answer.send(rows.clone());
    }
}

async fn read(db: &DatabaseConnection, listed: &UnitCare) -> Result<Rows, DbErr> {
    // Both at once, each on a connection of its own.
    let (patients, flags) = tokio::try_join!(
        super::queries::dashboard_patients(db, listed),
        super::queries::open_flags(db, listed)
    )?;
    Ok(Arc::new((patients, flags)))
}

/// Tests, of the whole unit `unit_id`'s reads in real care on `db`: hold the next read from
/// starting, or a read's answers from being given; how many requests wait for the next read;
/// how many reads have started, and ended.
#[cfg(feature = "testing")]
pub mod testing {
    use super::*;

    fn scope<T>(
        db: &DatabaseConnection,
        unit_id: i64,
        f: impl FnOnce(&mut Scope) -> T,
    ) -> Option<T> {
        let key = (PoolId::of(db)?, (unit_id, None, None));
        Some(f(scopes().by_key.entry(key).or_default()))
    }

    pub async fn hold_reads(
        db: &DatabaseConnection,
        unit_id: i64,
    ) -> Option<tokio::sync::OwnedMutexGuard<()>> {
        let turn = scope(db, unit_id, |s| s.turn.clone())?;
        Some(turn.lock_owned().await)
    }

    pub async fn hold_answers(
        db: &DatabaseConnection,
        unit_id: i64,
    ) -> Option<tokio::sync::OwnedMutexGuard<()>> {
        let held = scope(db, unit_id, |s| s.answers_held.clone())?;
        Some(held.lock_owned().await)
    }

    pub fn waiting(db: &DatabaseConnection, unit_id: i64) -> usize {
        scope(db, unit_id, |s| s.waiting.len()).unwrap_or(0)
    }

    pub fn reads(db: &DatabaseConnection, unit_id: i64) -> u64 {
        scope(db, unit_id, |s| s.reads).unwrap_or(0)
    }

    pub fn reads_ended(db: &DatabaseConnection, unit_id: i64) -> u64 {
        scope(db, unit_id, |s| s.read).unwrap_or(0)
    }
}
