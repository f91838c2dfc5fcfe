//! The database connection: SQLite (the default, one file, WAL mode) or PostgreSQL.

use migrations::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend};

#[derive(Debug, thiserror::Error)]
pub enum DbSetupError {
    #[error("unsupported database URL (use sqlite:// or postgres://)")]
    UnsupportedUrl,
    #[error("cannot create the database directory {path}: {source}")]
    Directory {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot connect to the database: {0}")]
    Connect(sea_orm::DbErr),
    #[error("database set-up failed: {0}")]
    Setup(sea_orm::DbErr),
    #[error("runtime role: {0}")]
    Role(String),
    #[error("migrations failed: {0}")]
    Migrate(sea_orm::DbErr),
    #[error(
        "the database does not make commits durable ({0}): Lotsen acknowledges answers and \
         messages only once they are safe, so it does not start on such a database"
    )]
    Durability(String),
}

/// Refuses a database on which an acknowledged commit could be lost in a crash: PostgreSQL with
/// `fsync`, `synchronous_commit` or `full_page_writes` off; SQLite not synced in full.
pub async fn check_durability(db: &DatabaseConnection) -> Result<(), DbSetupError> {
    use sea_orm::Statement;
    let backend = db.get_database_backend();
    // `SHOW name` and `PRAGMA name` each answer one column named as the setting.
    let setting = |sql: &'static str, column: &'static str| async move {
        let row = db
            .query_one(Statement::from_string(backend, sql))
            .await
            .map_err(DbSetupError::Setup)?
            .ok_or_else(|| DbSetupError::Durability(format!("{sql}: no answer")))?;
        row.try_get::<String>("", column)
            .or_else(|_| row.try_get::<i64>("", column).map(|n| n.to_string()))
            .map_err(DbSetupError::Setup)
    };
    let mut off = Vec::new();
    if backend == DbBackend::Postgres {
        for name in ["fsync", "synchronous_commit", "full_page_writes"] {
            let sql = match name {
                "fsync" => "SHOW fsync",
                "synchronous_commit" => "SHOW synchronous_commit",
                _ => "SHOW full_page_writes",
            };
            if setting(sql, name).await? == "off" {
                off.push(format!("{name} = off"));
            }
        }
    } else {
        // 2 is FULL, 3 EXTRA.
        let synchronous = setting("PRAGMA synchronous", "synchronous").await?;
        if synchronous.parse::<i64>().unwrap_or(0) < 2 {
            off.push(format!("synchronous = {synchronous}"));
        }
    }
    match off.is_empty() {
        true => Ok(()),
        false => Err(DbSetupError::Durability(off.join(", "))),
    }
}

/// The file path of a `sqlite://` URL, if it names a file.
fn sqlite_path(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or(rest);
    (!path.is_empty() && path != ":memory:").then_some(path)
}

/// Connects; for SQLite creates the file's directory first and switches the file to WAL mode.
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbSetupError> {
    let is_sqlite = url.starts_with("sqlite:");
    if !is_sqlite && !url.starts_with("postgres://") && !url.starts_with("postgresql://") {
        return Err(DbSetupError::UnsupportedUrl);
    }
    if let Some(parent) = sqlite_path(url).and_then(|p| std::path::Path::new(p).parent())
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(parent).map_err(|source| DbSetupError::Directory {
            path: parent.display().to_string(),
            source,
        })?;
    }
    let db = Database::connect(app::db::connect_options(url))
        .await
        .map_err(DbSetupError::Connect)?;
    if db.get_database_backend() == DbBackend::Sqlite {
        // WAL is a property of the file: set once, it holds for every connection.
        db.execute_unprepared("PRAGMA journal_mode=WAL")
            .await
            .map_err(DbSetupError::Setup)?;
    }
    Ok(db)
}

/// Applies pending migrations; returns how many were applied.
pub async fn migrate(db: &DatabaseConnection) -> Result<usize, DbSetupError> {
    let pending = Migrator::get_pending_migrations(db)
        .await
        .map_err(DbSetupError::Migrate)?
        .len();
    Migrator::up(db, None)
        .await
        .map_err(DbSetupError::Migrate)?;
    Ok(pending)
}

/// How many migrations the database still lacks. Only reads (SeaORM's own look-up would
/// create its table first, which a runtime role may not).
pub async fn pending(db: &DatabaseConnection) -> Result<usize, DbSetupError> {
    use sea_orm::Statement;
    let rows = db
        .query_all(Statement::from_string(
            db.get_database_backend(),
            "SELECT version FROM seaql_migrations",
        ))
        .await
        .map_err(DbSetupError::Migrate)?;
    let applied: Vec<String> = rows
        .iter()
        .filter_map(|row| row.try_get::<String>("", "version").ok())
        .collect();
    Ok(Migrator::migrations()
        .iter()
        .filter(|m| !applied.iter().any(|a| a == m.name()))
        .count())
}

/// PostgreSQL: lets `role` run the server without owning anything. It reads and writes the
/// application's tables, reads the migrations table, only inserts into and reads the access
/// log, and deletes a demo sandbox's log rows through the function made for that. Whoever
/// runs this owns the tables (the migrating role). Safe to run again after new migrations.
pub async fn grant_runtime_role(db: &DatabaseConnection, role: &str) -> Result<(), DbSetupError> {
    if db.get_database_backend() != DbBackend::Postgres {
        return Err(DbSetupError::Role(
            "a runtime role is for PostgreSQL; SQLite has no roles".to_owned(),
        ));
    }
    let plain = !role.is_empty()
        && role.len() <= 63
        && role
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !role.starts_with(|c: char| c.is_ascii_digit());
    if !plain {
        return Err(DbSetupError::Role(format!(
            "{role:?}: a role name of lower-case letters, digits and underscores"
        )));
    }
    // A role that owns the tables, or may act as their owner, could switch the log's
    // protection off whatever is granted or revoked here.
    let standing = db
        .query_one(sea_orm::Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT r.rolsuper AS superuser, pg_has_role($1, current_user, 'MEMBER') AS owner \
             FROM pg_roles r WHERE r.rolname = $1",
            [role.into()],
        ))
        .await
        .map_err(|e| DbSetupError::Role(e.to_string()))?
        .ok_or_else(|| DbSetupError::Role(format!("there is no role {role}: create it first")))?;
    let superuser: bool = standing.try_get("", "superuser").unwrap_or(true);
    let owner: bool = standing.try_get("", "owner").unwrap_or(true);
    if superuser || owner {
        return Err(DbSetupError::Role(format!(
            "{role} is a superuser or may act as the schema's owner: the server's role must be \
             one that owns nothing"
        )));
    }
    let statements = [
        format!("GRANT USAGE ON SCHEMA public TO {role}"),
        format!("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}"),
        format!("REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON access_log FROM {role}"),
        format!("REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON seaql_migrations FROM {role}"),
        format!("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}"),
        format!("GRANT EXECUTE ON FUNCTION lotsen_delete_sandbox_log(bigint) TO {role}"),
        // Tables and sequences that later migrations make are the runtime role's to use too
        // (the access log keeps its own revocations above).
        format!(
            "ALTER DEFAULT PRIVILEGES IN SCHEMA public \
             GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role}"
        ),
        format!(
            "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {role}"
        ),
    ];
    for statement in statements {
        db.execute_unprepared(&statement)
            .await
            .map_err(|e| DbSetupError::Role(format!("{statement}: {e}")))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::sqlite_path;

    #[test]
    fn finds_the_file_of_a_sqlite_url() {
        assert_eq!(
            sqlite_path("sqlite://data/lotsen.db?mode=rwc"),
            Some("data/lotsen.db")
        );
        assert_eq!(sqlite_path("sqlite:///tmp/x.db"), Some("/tmp/x.db"));
        assert_eq!(sqlite_path("sqlite::memory:"), None);
        assert_eq!(sqlite_path("postgres://h/db"), None);
    }
}
