//! SeaORM entities (generated-style, one file per table) for the tables the application uses
//! so far. The schema itself is defined by the `migrations` crate.

pub mod entities;

use sea_orm::{
    ConnectOptions, ConnectionTrait, DatabaseBackend, DatabaseTransaction, DbErr, Statement,
    TransactionTrait, Value,
};
use std::time::Duration;

/// How the server connects, and the tests too, so that they meet the same concurrency: SeaORM
/// would otherwise give SQLite a single connection, which hides every race between writers.
pub fn connect_options(url: &str) -> ConnectOptions {
    let is_sqlite = url.starts_with("sqlite:");
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(if is_sqlite { 8 } else { 32 })
        .acquire_timeout(Duration::from_secs(5))
        // No ping before every query: a dead connection fails the query, which the pool then
        // replaces; a ping would double the round trips of every request.
        .test_before_acquire(false)
        .sqlx_logging(false);
    if url.starts_with("postgres") {
        // No JIT compilation: Lotsen's statements are many and short, and PostgreSQL's JIT
        // (on by default above a cost estimate that the dashboard's correlated counts pass
        // with a region's data) spent 152 of a caseload statement's 153 ms compiling it.
        options.map_sqlx_postgres_opts(|o| o.options([("jit", "off")]));
    }
    if is_sqlite {
        // Every commit is synced to disk before it is acknowledged (in WAL mode NORMAL would
        // survive a killed process but could lose the last commits on power loss).
        options.map_sqlx_sqlite_opts(|o| {
            o.synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Full)
        });
    }
    options
}

/// Begins a transaction that is going to write.
///
/// On SQLite a plain `BEGIN` is deferred: the transaction reads from a snapshot and asks for
/// the write lock only at its first write. If another connection committed in between, that
/// request fails at once with "database is locked" (the busy timeout cannot help, because the
/// snapshot is already stale), so two concurrent sign-ins could fail each other. Taking the
/// write lock with the first statement makes the transaction wait its turn instead, as
/// `BEGIN IMMEDIATE` would (SeaORM issues the `BEGIN` itself). The statement changes nothing.
/// PostgreSQL needs nothing of the kind.
pub async fn begin_write<C: TransactionTrait + ConnectionTrait>(
    db: &C,
) -> Result<DatabaseTransaction, DbErr> {
    let txn = db.begin().await?;
    if txn.get_database_backend() == DatabaseBackend::Sqlite {
        txn.execute_unprepared("UPDATE seaql_migrations SET version = version WHERE 0")
            .await?;
    }
    Ok(txn)
}

/// The locking clause that makes a `SELECT` in a write transaction hold its rows against a
/// concurrent `UPDATE` until the commit (`FOR SHARE`) on PostgreSQL; nothing on SQLite, where
/// [`begin_write`] already holds the whole database.
pub fn share_lock(db: &impl ConnectionTrait) -> &'static str {
    match db.get_database_backend() {
        DatabaseBackend::Postgres => " FOR SHARE",
        _ => "",
    }
}

/// The tenant filters of raw SQL, each written once. A demo sandbox's rows carry its id in
/// `sandbox_id`, real care's none; a producer's test of a program is an enrolment with
/// `test_by_staff_id` set. Each function takes the table's alias (`e`), or `""` for a bare
/// column name.
pub mod filter {
    fn column(alias: &str, name: &str) -> String {
        if alias.is_empty() {
            name.to_owned()
        } else {
            format!("{alias}.{name}")
        }
    }

    /// The row belongs to the sandbox (or to real care, where there is none).
    pub fn in_sandbox(alias: &str, sandbox_id: Option<i64>) -> String {
        let sandbox = column(alias, "sandbox_id");
        match sandbox_id {
            Some(id) => format!("{sandbox} = {id}"),
            None => format!("{sandbox} IS NULL"),
        }
    }

    /// Two rows of the same sandbox, or both of real care.
    pub fn same_sandbox(a: &str, b: &str) -> String {
        let (a, b) = (column(a, "sandbox_id"), column(b, "sandbox_id"));
        format!("({a} = {b} OR ({a} IS NULL AND {b} IS NULL))")
    }

    /// An enrolment of a patient's care, not a producer's test of the program.
    pub fn not_a_test(enrolment: &str) -> String {
        format!("{} IS NULL", column(enrolment, "test_by_staff_id"))
    }

    /// An enrolment of real care: no sandbox's and no test.
    pub fn real_care(enrolment: &str) -> String {
        format!(
            "{} AND {}",
            in_sandbox(enrolment, None),
            not_a_test(enrolment)
        )
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn the_filters_read_as_sql() {
            assert_eq!(super::in_sandbox("e", Some(7)), "e.sandbox_id = 7");
            assert_eq!(super::in_sandbox("", None), "sandbox_id IS NULL");
            assert_eq!(
                super::same_sandbox("u", "l"),
                "(u.sandbox_id = l.sandbox_id OR (u.sandbox_id IS NULL AND l.sandbox_id IS NULL))"
            );
            assert_eq!(
                super::real_care("e"),
                "e.sandbox_id IS NULL AND e.test_by_staff_id IS NULL"
            );
        }
    }
}

/// The placeholder a scope's SQL source puts where its enrolment's id goes.
pub(crate) const SCOPE_PARAMETER: &str = "$enrolment";

/// A plain SQL statement with `$n` placeholders, written once for both engines: on SQLite the
/// placeholders become `?n`, numbered the same, so one value may be used twice (`$8 … $8`).
pub fn statement(db: &impl ConnectionTrait, sql: &str, values: Vec<Value>) -> Statement {
    // On SQLite an unbound named parameter reads as NULL: a scope's source used without its
    // binding would find nothing, silently.
    assert!(
        !sql.contains(SCOPE_PARAMETER),
        "an enrolment's SQL source must be bound with EnrolmentScope::statement"
    );
    let backend = db.get_database_backend();
    let sql = match backend {
        sea_orm::DatabaseBackend::Postgres => sql.to_owned(),
        _ => {
            let mut out = String::with_capacity(sql.len());
            let mut chars = sql.chars().peekable();
            while let Some(c) = chars.next() {
                if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
                    out.push('?');
                    while let Some(digit) = chars.next_if(char::is_ascii_digit) {
                        out.push(digit);
                    }
                } else {
                    out.push(c);
                }
            }
            out
        }
    };
    Statement::from_sql_and_values(backend, sql, values)
}

/// Which database a connection is to, for what this process keeps per database (the access
/// log's appends that wait together, reads of a dashboard shared): the connection pool itself.
/// Two pools on one database, as two processes would have, are two.
#[derive(Clone)]
pub(crate) enum PoolId {
    Sqlite(std::sync::Arc<sea_orm::sqlx::sqlite::SqliteConnectOptions>),
    Postgres(std::sync::Arc<sea_orm::sqlx::postgres::PgConnectOptions>),
}

impl PoolId {
    /// `None` for a connection that is not a pool's (none of Lotsen's).
    pub(crate) fn of(db: &sea_orm::DatabaseConnection) -> Option<Self> {
        use sea_orm::DatabaseConnection as C;
        match db {
            // Each pool has its own options, shared by its clones (sqlx `Pool::connect_options`).
            C::SqlxSqlitePoolConnection(_) => Some(Self::Sqlite(
                db.get_sqlite_connection_pool().connect_options(),
            )),
            C::SqlxPostgresPoolConnection(_) => Some(Self::Postgres(
                db.get_postgres_connection_pool().connect_options(),
            )),
            _ => None,
        }
    }

    fn address(&self) -> usize {
        match self {
            Self::Sqlite(options) => std::sync::Arc::as_ptr(options) as usize,
            Self::Postgres(options) => std::sync::Arc::as_ptr(options) as usize,
        }
    }
}

impl PartialEq for PoolId {
    fn eq(&self, other: &Self) -> bool {
        self.address() == other.address()
    }
}

impl Eq for PoolId {}

impl std::hash::Hash for PoolId {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.address().hash(state);
    }
}
