//! The session check's cache: who a session token is, kept in memory so that a signed-in
//! request does not load the session, its person, assignment, unit, provider and roles again.
//!
//! It is only as good as what tells it of a change. The database tells it (migration 000024's
//! triggers), so that no code path that grants or revokes a role, signs someone out, or changes
//! an assignment can forget to:
//!
//! - **PostgreSQL** (any number of instances): each instance `LISTEN`s on [`CHANNEL`]; a
//!   session row changed or deleted drops that session's entry, anything else drops them all,
//!   at once when the change commits. While the listener is not connected the cache is **off**
//!   (every request loads from the database, nothing is kept), and it starts empty each time
//!   the listener connects again: a notification sent while nobody listened is never needed.
//!   Every [`HEARTBEAT`] the listener sends itself a notification from another connection and
//!   turns the cache off when it does not come back before the next one (a connection lost,
//!   or a path that carries queries but not notifications); an entry is kept at most [`TTL`]
//!   whatever happens.
//! - **SQLite** (one instance): a hit reads the session row and the change counter
//!   (`auth_epoch`) in one query, and the entry stands only if the counter is the one it was
//!   loaded under. A cache made for its database ([`SessionCache::for_database`]) makes that
//!   read on the request's own thread, through a read-only connection of its own
//!   ([`SqliteReader`]): the same statement, without a round trip to a pooled connection's
//!   thread (the identity benchmark: +6 µs per check against +102 µs through the pool). It
//!   reads what every process has committed, as the pool does, so a role granted by
//!   `lotsen setup` while the server runs counts at once too.
//!
//! The idle timeout is the session row's: a hit that is activity writes the last-seen time as
//! often as an uncached check does, and an entry that looks expired is checked in the database.

use super::principal::Principal;
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

/// The PostgreSQL channel of the changes (migration 000024).
pub const CHANNEL: &str = "lotsen_auth";

/// How long an entry is kept at most, even with no change heard.
pub const TTL: Duration = Duration::from_secs(60);

/// How often the PostgreSQL listener proves that notifications reach it.
pub const HEARTBEAT: Duration = Duration::from_secs(5);

/// More sessions than this at once: the cache starts over rather than grow.
const CAPACITY: usize = 100_000;

/// This instance's cache. Cloning shares it.
#[derive(Clone, Default)]
pub struct SessionCache(Arc<Inner>);

#[derive(Default)]
struct Inner {
    /// By the hash of the session token.
    entries: Mutex<HashMap<String, Cached>>,
    /// Moves at every change heard: a principal loaded before it is not kept.
    generation: AtomicU64,
    /// PostgreSQL: the listener is connected and the cache may be used.
    listening: AtomicBool,
    started: AtomicBool,
    /// Never used ([`SessionCache::off`]).
    disabled: bool,
    hits: AtomicU64,
    /// SQLite: hits whose read went through the [`SqliteReader`].
    read_in_place: AtomicU64,
    /// [`SessionCache::barrier`]s waiting for their own notification.
    barriers: Mutex<HashMap<String, tokio::sync::oneshot::Sender<()>>>,
    next_barrier: AtomicU64,
    /// SQLite: the pool whose hits read in place, and its reader, made at the first hit.
    sqlite: Option<(
        crate::db::PoolId,
        tokio::sync::OnceCell<Option<SqliteReader>>,
    )>,
}

/// A principal as loaded, with what decides how long it holds.
#[derive(Clone)]
pub(crate) struct Cached {
    pub principal: Principal,
    pub sandbox_id: Option<i64>,
    pub last_seen_at: DateTime<Utc>,
    pub absolute_expiry: DateTime<Utc>,
    /// The chosen assignment's end, if it has one ahead: the principal changes then.
    pub valid_to: Option<DateTime<Utc>>,
    /// SQLite: the change counter it was loaded under.
    pub epoch: i64,
    pub kept_at: Instant,
}

/// What a hit must still do: the session's last-seen time is due to be written.
pub(crate) struct Hit {
    pub principal: Principal,
    pub session_id: i64,
    pub sandbox_id: Option<i64>,
    pub last_seen_at: DateTime<Utc>,
}

/// Set, in a request's extensions, when the request changed its own session row (a test
/// binding): the middleware then drops the session's entry before the response leaves, so the
/// browser's next request (a redirect, at once) sees the change on this instance without
/// waiting for the notification.
#[derive(Clone, Default)]
pub struct OwnSessionChanged(Arc<AtomicBool>);

impl OwnSessionChanged {
    pub fn is_set(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}

/// Marks the current request (a server function's) as having changed its own session row.
pub fn own_session_changed() {
    if let Some(flag) = leptos::prelude::with_context::<http::request::Parts, _>(|parts| {
        parts.extensions.get::<OwnSessionChanged>().cloned()
    })
    .flatten()
    {
        flag.0.store(true, Ordering::Release);
    }
}

/// What the cache's hit path reads on SQLite: the session row and the change counter.
const SQLITE_HIT_SQL: &str = "SELECT s.id, s.last_seen_at, s.absolute_expiry, e.n \
    FROM user_session s CROSS JOIN auth_epoch e WHERE s.token_hash = $1 AND e.id = 1";

impl SessionCache {
    /// A cache, on PostgreSQL off until [`SessionCache::listen`] has connected.
    pub fn new() -> Self {
        Self::default()
    }

    /// A cache for `db`: on SQLite with a file in WAL mode, its hits on `db` read through a
    /// [`SqliteReader`].
    pub fn for_database(db: &DatabaseConnection) -> Self {
        let sqlite = match crate::db::PoolId::of(db) {
            Some(pool @ crate::db::PoolId::Sqlite(_)) => Some((pool, Default::default())),
            _ => None,
        };
        Self(Arc::new(Inner {
            sqlite,
            ..Inner::default()
        }))
    }

    /// SQLite: the reader for hits on `db`, if it is the pool the cache was made for and that
    /// pool's main database is a file (asked of the pool itself, so the reader opens the very
    /// file the pool has open, whatever the URL said).
    async fn sqlite_reader(&self, db: &DatabaseConnection) -> Option<&SqliteReader> {
        let (pool, reader) = self.0.sqlite.as_ref()?;
        if crate::db::PoolId::of(db).as_ref() != Some(pool) {
            return None;
        }
        // An error is not kept: the next hit asks again (and this one reads through the pool).
        reader
            .get_or_try_init(|| SqliteReader::of(db))
            .await
            .ok()?
            .as_ref()
    }

    /// A cache that is never used: every check loads from the database (what the benchmark
    /// compares the cache with).
    pub fn off() -> Self {
        Self(Arc::new(Inner {
            disabled: true,
            ..Inner::default()
        }))
    }

    /// Whether the cache is in use on `db` now.
    pub fn is_on(&self, db: &impl ConnectionTrait) -> bool {
        if self.0.disabled {
            return false;
        }
        match db.get_database_backend() {
            DbBackend::Postgres => self.0.listening.load(Ordering::Acquire),
            _ => true,
        }
    }

    /// The number of checks answered from the cache so far (for tests and the benchmark).
    pub fn hits(&self) -> u64 {
        self.0.hits.load(Ordering::Relaxed)
    }

    /// SQLite: how many hits read the database through the cache's own reader (for tests and
    /// the benchmark; the rest went through the pool).
    pub fn reads_in_place(&self) -> u64 {
        self.0.read_in_place.load(Ordering::Relaxed)
    }

    pub(crate) fn generation(&self) -> u64 {
        self.0.generation.load(Ordering::Acquire)
    }

    /// The principal of `hash`, if the cache holds it and it still stands at `now`; `None`
    /// sends the caller to the database.
    pub(crate) async fn hit(
        &self,
        db: &DatabaseConnection,
        hash: &str,
        now: DateTime<Utc>,
        idle: chrono::Duration,
    ) -> Result<Option<Hit>, sea_orm::DbErr> {
        if !self.is_on(db) {
            return Ok(None);
        }
        let Some(mut entry) = self.lookup(hash) else {
            return Ok(None);
        };
        if db.get_database_backend() != DbBackend::Postgres {
            let reader = self.sqlite_reader(db).await;
            let read = match reader.and_then(|reader| reader.read(hash)) {
                Some(read) => {
                    self.0.read_in_place.fetch_add(1, Ordering::Relaxed);
                    read
                }
                None => db
                    .query_one(crate::db::statement(db, SQLITE_HIT_SQL, vec![hash.into()]))
                    .await?
                    .map(|row| -> Result<_, sea_orm::DbErr> {
                        Ok(HitRow {
                            id: row.try_get("", "id")?,
                            epoch: row.try_get("", "n")?,
                            last_seen_at: row.try_get("", "last_seen_at")?,
                            absolute_expiry: row.try_get("", "absolute_expiry")?,
                        })
                    })
                    .transpose()?,
            };
            let Some(row) = read else {
                self.forget(hash);
                return Ok(None);
            };
            if row.id != entry.principal.session_id || row.epoch != entry.epoch {
                self.forget(hash);
                return Ok(None);
            }
            entry.last_seen_at = row.last_seen_at;
            entry.absolute_expiry = row.absolute_expiry;
        }
        let expired = entry.last_seen_at + idle <= now
            || entry.absolute_expiry <= now
            || entry.valid_to.is_some_and(|to| to <= now);
        if expired {
            // The database decides (another instance may have seen the session since).
            self.forget(hash);
            return Ok(None);
        }
        self.0.hits.fetch_add(1, Ordering::Relaxed);
        Ok(Some(Hit {
            session_id: entry.principal.session_id,
            sandbox_id: entry.sandbox_id,
            last_seen_at: entry.last_seen_at,
            principal: entry.principal,
        }))
    }

    fn lookup(&self, hash: &str) -> Option<Cached> {
        let mut entries = self.0.entries.lock().unwrap_or_else(|e| e.into_inner());
        match entries.get(hash) {
            Some(entry) if entry.kept_at.elapsed() < TTL => Some(entry.clone()),
            Some(_) => {
                entries.remove(hash);
                None
            }
            None => None,
        }
    }

    /// Keeps what the database said of `hash`, unless a change was heard since `generation`
    /// was read (before the load) or the cache is off.
    pub(crate) fn keep(
        &self,
        db: &impl ConnectionTrait,
        hash: String,
        entry: Cached,
        generation: u64,
    ) {
        if !self.is_on(db) {
            return;
        }
        let mut entries = self.0.entries.lock().unwrap_or_else(|e| e.into_inner());
        if self.generation() != generation {
            return;
        }
        if entries.len() >= CAPACITY {
            entries.clear();
        }
        entries.insert(hash, entry);
    }

    /// The session's last-seen time was written.
    pub(crate) fn seen(&self, hash: &str, at: DateTime<Utc>) {
        let mut entries = self.0.entries.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(entry) = entries.get_mut(hash) {
            entry.last_seen_at = at;
        }
    }

    pub(crate) fn forget(&self, hash: &str) {
        self.0
            .entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(hash);
    }

    /// PostgreSQL: returns once this instance has heard every change committed before the
    /// call (notifications reach a listener in the order of their commits), or after a second
    /// if the listener is lost meanwhile (the cache is off then). What a caller uses that must
    /// see its own change at once, as a test does; nothing on SQLite, or while the cache is off.
    pub async fn barrier(&self, db: &DatabaseConnection) -> Result<(), sea_orm::DbErr> {
        if !matches!(db.get_database_backend(), DbBackend::Postgres) || !self.is_on(db) {
            return Ok(());
        }
        let n = self.0.next_barrier.fetch_add(1, Ordering::Relaxed);
        let token = format!("b{}.{:p}.{n}", std::process::id(), Arc::as_ptr(&self.0));
        let (heard, wait) = tokio::sync::oneshot::channel();
        self.0
            .barriers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(token.clone(), heard);
        db.execute(crate::db::statement(
            db,
            "SELECT pg_notify($1, $2)",
            vec![CHANNEL.into(), token.clone().into()],
        ))
        .await?;
        let _ = tokio::time::timeout(Duration::from_secs(1), wait).await;
        self.0
            .barriers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&token);
        Ok(())
    }

    /// A change was heard: `s<id>` for one session, anything else for all of them (but a
    /// barrier's, `b…`, or a listener's heartbeat, `h…`, which change nothing).
    pub fn changed(&self, payload: &str) {
        if payload.starts_with('h') {
            return;
        }
        if payload.starts_with('b') {
            let waiting = self
                .0
                .barriers
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(payload);
            if let Some(heard) = waiting {
                let _ = heard.send(());
            }
            return;
        }
        let mut entries = self.0.entries.lock().unwrap_or_else(|e| e.into_inner());
        self.0.generation.fetch_add(1, Ordering::AcqRel);
        match payload
            .strip_prefix('s')
            .and_then(|id| id.parse::<i64>().ok())
        {
            Some(session) => entries.retain(|_, e| e.principal.session_id != session),
            None => entries.clear(),
        }
    }

    /// Forgets the session of `token` here at once (a sign-out); other instances hear of its end
    /// from the database.
    pub fn forget_token(&self, token: &str) {
        // A look-up under way when the session ended does not put its entry back.
        self.0.generation.fetch_add(1, Ordering::AcqRel);
        self.forget(&super::session::hash_token(token));
    }

    /// Turns the cache on or off (PostgreSQL: the listener connected or lost); either way it
    /// starts again empty.
    fn set_listening(&self, on: bool) {
        if !on {
            self.0.listening.store(false, Ordering::Release);
        }
        self.changed("*");
        if on {
            self.0.listening.store(true, Ordering::Release);
        }
    }

    /// PostgreSQL: starts this cache's listener, once. It ends when the cache is dropped or
    /// the database closed. (SQLite needs none.)
    pub fn listen(&self, db: &DatabaseConnection) {
        if self.0.disabled
            || db.get_database_backend() != DbBackend::Postgres
            || self.0.started.load(Ordering::Acquire)
            || self.0.started.swap(true, Ordering::AcqRel)
        {
            return;
        }
        tokio::spawn(listen(Arc::downgrade(&self.0), db.clone()));
    }
}

/// What a hit reads on SQLite.
struct HitRow {
    id: i64,
    epoch: i64,
    last_seen_at: DateTime<Utc>,
    absolute_expiry: DateTime<Utc>,
}

/// SQLite: the hit path's read ([`SQLITE_HIT_SQL`]), made synchronously on the calling thread
/// through read-only connections of the cache's own to the database file.
///
/// A pooled connection (sqlx) runs each statement on a thread of its own: a statement that
/// takes microseconds costs a round trip between threads, which the session check of every
/// request paid. Reading in place is safe here: in WAL mode a reader never waits for a writer
/// (the busy timeout bounds the rare wait on a checkpoint), and the statement reads two rows
/// by their keys. Anything unexpected (an error, a time written in a form this does not
/// read, a file not in WAL mode) returns `None`, and the caller asks the pool as before; a
/// connection that failed is not used again.
struct SqliteReader {
    /// The pool's main database file, as SQLite names it (an absolute path).
    path: std::path::PathBuf,
    idle: Mutex<Vec<rusqlite::Connection>>,
    /// Connections kept between reads: as many as reads can run at once (one per thread);
    /// more may be open for a moment.
    keep: usize,
}

impl SqliteReader {
    /// For the pool `db`, asked which file its main database is and whether that file is in
    /// WAL mode; `None` for an in-memory database or another journal mode, so that such a
    /// pool's hits go through the pool without trying a connection of their own each time.
    async fn of(db: &DatabaseConnection) -> Result<Option<Self>, sea_orm::DbErr> {
        let mode = db
            .query_one(sea_orm::Statement::from_string(
                DbBackend::Sqlite,
                "PRAGMA journal_mode",
            ))
            .await?
            .map(|row| row.try_get::<String>("", "journal_mode"))
            .transpose()?;
        if !mode.is_some_and(|mode| mode.eq_ignore_ascii_case("wal")) {
            return Ok(None);
        }
        let rows = db
            .query_all(sea_orm::Statement::from_string(
                DbBackend::Sqlite,
                "PRAGMA database_list",
            ))
            .await?;
        let mut file = None;
        for row in rows {
            if row.try_get::<String>("", "name")? == "main" {
                file = Some(row.try_get::<String>("", "file")?);
            }
        }
        Ok(file.filter(|f| !f.is_empty()).map(|file| Self {
            path: file.into(),
            idle: Mutex::new(Vec::new()),
            keep: std::thread::available_parallelism().map_or(4, |n| n.get().max(4)),
        }))
    }

    fn read(&self, hash: &str) -> Option<Option<HitRow>> {
        let taken = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let conn = match taken {
            Some(conn) => conn,
            None => self.open()?,
        };
        let read = Self::query(&conn, hash);
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if read.is_some() && idle.len() < self.keep {
            idle.push(conn);
        }
        read
    }

    /// A read-only connection to the file, if the file is still in WAL mode (where a reader
    /// never waits for a writer's commit).
    fn open(&self) -> Option<rusqlite::Connection> {
        use rusqlite::OpenFlags;
        let conn = rusqlite::Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .ok()?;
        conn.busy_timeout(Duration::from_millis(100)).ok()?;
        let mode: String = conn
            .query_row("PRAGMA journal_mode", [], |row| row.get(0))
            .ok()?;
        mode.eq_ignore_ascii_case("wal").then_some(conn)
    }

    fn query(conn: &rusqlite::Connection, hash: &str) -> Option<Option<HitRow>> {
        use rusqlite::OptionalExtension;
        let mut statement = conn.prepare_cached(SQLITE_HIT_SQL).ok()?;
        let row = statement
            .query_row([hash], |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, String>(2)?,
                    row.get::<_, i64>(3)?,
                ))
            })
            .optional()
            .ok()?;
        let Some((id, last_seen_at, absolute_expiry, epoch)) = row else {
            return Some(None);
        };
        Some(Some(HitRow {
            id,
            epoch,
            last_seen_at: sqlite_time(&last_seen_at)?,
            absolute_expiry: sqlite_time(&absolute_expiry)?,
        }))
    }
}

/// A time as sqlx writes it to SQLite (RFC 3339), or as SQLite's own functions do.
fn sqlite_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            chrono::NaiveDateTime::parse_from_str(text, "%F %T%.f")
                .ok()
                .map(|t| t.and_utc())
        })
}

async fn listen(cache: Weak<Inner>, db: DatabaseConnection) {
    use sea_orm::sqlx::postgres::PgListener;
    let pool = db.get_postgres_connection_pool().clone();
    let alive = |cache: &Weak<Inner>| cache.upgrade().map(SessionCache);
    let mut backoff = Duration::from_millis(100);
    let mut beats = 0_u64;
    loop {
        if pool.is_closed() || alive(&cache).is_none() {
            return;
        }
        let connected = async {
            let mut listener = PgListener::connect_with(&pool).await?;
            // A lost connection is reported (`Ok(None)`), never quietly made again: the
            // notifications in between would be missed while the cache stayed on.
            listener.eager_reconnect(false);
            listener.listen(CHANNEL).await?;
            Ok::<_, sea_orm::sqlx::Error>(listener)
        }
        .await;
        match connected {
            Ok(mut listener) => {
                backoff = Duration::from_millis(100);
                // Listening from here on: what was changed before is not in the cache.
                match alive(&cache) {
                    Some(this) => this.set_listening(true),
                    None => return,
                }
                // The heartbeat goes the way a change does: a notification on the channel,
                // sent from another connection, must come back before the next beat. A path
                // that carries queries but not notifications turns the cache off too.
                let mut heartbeat = tokio::time::interval(HEARTBEAT);
                heartbeat.tick().await;
                let mut awaited: Option<String> = None;
                loop {
                    tokio::select! {
                        got = listener.try_recv() => match got {
                            Ok(Some(notification)) => {
                                let payload = notification.payload();
                                if awaited.as_deref() == Some(payload) {
                                    awaited = None;
                                } else {
                                    match alive(&cache) {
                                        Some(this) => this.changed(payload),
                                        None => return,
                                    }
                                }
                            }
                            // `None`: the connection was lost (notifications with it).
                            Ok(None) => {
                                tracing::warn!("session-cache listener lost its connection");
                                break;
                            }
                            Err(err) => {
                                tracing::warn!(error = %err, "session-cache listener failed");
                                break;
                            }
                        },
                        _ = heartbeat.tick() => {
                            if awaited.is_some() {
                                tracing::warn!("session-cache listener stopped hearing its heartbeat");
                                break;
                            }
                            if pool.is_closed() || alive(&cache).is_none() {
                                return;
                            }
                            beats += 1;
                            let beat = format!("h{}.{:p}.{beats}", std::process::id(), cache.as_ptr());
                            let sent = db
                                .execute(crate::db::statement(
                                    &db,
                                    "SELECT pg_notify($1, $2)",
                                    vec![CHANNEL.into(), beat.clone().into()],
                                ))
                                .await;
                            if sent.is_err() {
                                break;
                            }
                            awaited = Some(beat);
                        }
                    }
                }
            }
            Err(err) => {
                if pool.is_closed() {
                    return;
                }
                tracing::warn!(error = %err, "session-cache listener could not connect");
            }
        }
        // Off until it listens again.
        match alive(&cache) {
            Some(this) => this.set_listening(false),
            None => return,
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
}
