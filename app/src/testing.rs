//! Throwaway databases for tests, on both engines.
//!
//! SQLite: a fresh file in the system temp directory. PostgreSQL: a fresh database on the server
//! named by `LOTSEN_TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`),
//! dropped again at the end. If PostgreSQL cannot be reached the test fails; it is skipped only
//! when `LOTSEN_TEST_SKIP_POSTGRES=1` says so explicitly.

use migrations::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use std::sync::atomic::{AtomicU32, Ordering};

const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

pub struct TestDb {
    pub db: DatabaseConnection,
    pub url: String,
    pub engine: Engine,
    cleanup: Cleanup,
}

enum Cleanup {
    File(std::path::PathBuf),
    Database { admin_url: String, name: String },
}

fn unique_name() -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    format!(
        "lotsen_test_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        nanos
    )
}

/// Panics with a clear message: test set-up failures are failures, never skips.
fn setup_failed(what: &str, err: impl std::fmt::Display) -> ! {
    panic!("test database set-up failed: {what}: {err}")
}

impl TestDb {
    /// A migrated database on `engine`, or `None` only when PostgreSQL was explicitly skipped.
    pub async fn new(engine: Engine) -> Option<Self> {
        match engine {
            Engine::Sqlite => Some(Self::sqlite().await),
            Engine::Postgres => Self::postgres().await,
        }
    }

    pub async fn sqlite() -> Self {
        let path = std::env::temp_dir().join(format!("{}.db", unique_name()));
        let url = format!("sqlite://{}?mode=rwc", path.display());
        let db = Database::connect(&url)
            .await
            .unwrap_or_else(|e| setup_failed("open SQLite", e));
        Self::migrate(&db).await;
        Self {
            db,
            url,
            engine: Engine::Sqlite,
            cleanup: Cleanup::File(path),
        }
    }

    pub async fn postgres() -> Option<Self> {
        if std::env::var("LOTSEN_TEST_SKIP_POSTGRES").as_deref() == Ok("1") {
            eprintln!("PostgreSQL tests skipped: LOTSEN_TEST_SKIP_POSTGRES=1");
            return None;
        }
        let admin_url = std::env::var("LOTSEN_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_owned());
        let admin = Database::connect(&admin_url).await.unwrap_or_else(|e| {
            setup_failed(
                &format!(
                    "connect to PostgreSQL at {admin_url} (set LOTSEN_TEST_POSTGRES_URL, \
                     or LOTSEN_TEST_SKIP_POSTGRES=1 to skip deliberately)"
                ),
                e,
            )
        });
        let name = unique_name();
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap_or_else(|e| setup_failed("create database", e));
        let _ = admin.close().await;
        let url = replace_database(&admin_url, &name);
        let db = Database::connect(&url)
            .await
            .unwrap_or_else(|e| setup_failed("connect to the new database", e));
        Self::migrate(&db).await;
        Some(Self {
            db,
            url,
            engine: Engine::Postgres,
            cleanup: Cleanup::Database { admin_url, name },
        })
    }

    async fn migrate(db: &DatabaseConnection) {
        Migrator::up(db, None)
            .await
            .unwrap_or_else(|e| setup_failed("run migrations", e));
    }

    /// Closes the connection and removes the database.
    pub async fn finish(self) {
        let _ = self.db.close().await;
        match self.cleanup {
            Cleanup::File(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            Cleanup::Database { admin_url, name } => {
                if let Ok(admin) = Database::connect(&admin_url).await {
                    let _ = admin
                        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .await;
                    let _ = admin.close().await;
                }
            }
        }
    }
}

/// The same URL with another database name (the path), keeping any query string.
fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let host_part = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{host_part}/{name}?{q}"),
        None => format!("{host_part}/{name}"),
    }
}

/// Runs an async test body once on SQLite and once on PostgreSQL, as two test functions
/// `<name>::sqlite` and `<name>::postgres`.
#[macro_export]
macro_rules! db_test {
    ($name:ident, |$db:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn body($db: sea_orm::DatabaseConnection) $body

            #[tokio::test]
            async fn sqlite() {
                let t = $crate::testing::TestDb::sqlite().await;
                body(t.db.clone()).await;
                t.finish().await;
            }

            #[tokio::test]
            async fn postgres() {
                let Some(t) = $crate::testing::TestDb::postgres().await else { return };
                body(t.db.clone()).await;
                t.finish().await;
            }
        }
    };
    // The same, with the database URL too (for tests that run the `lotsen` binary on it).
    ($name:ident, |$db:ident, $url:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn body($db: sea_orm::DatabaseConnection, $url: String) $body

            #[tokio::test]
            async fn sqlite() {
                let t = $crate::testing::TestDb::sqlite().await;
                body(t.db.clone(), t.url.clone()).await;
                t.finish().await;
            }

            #[tokio::test]
            async fn postgres() {
                let Some(t) = $crate::testing::TestDb::postgres().await else { return };
                body(t.db.clone(), t.url.clone()).await;
                t.finish().await;
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::replace_database;

    #[test]
    fn replaces_the_database_name_only() {
        assert_eq!(
            replace_database("postgres://postgres@127.0.0.1:5432/postgres", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            replace_database("postgres://u:p@h/db?sslmode=disable", "x"),
            "postgres://u:p@h/x?sslmode=disable"
        );
        assert_eq!(
            replace_database("postgres://h:5432", "x"),
            "postgres://h:5432/x"
        );
    }
}
