//! The columns that hold a code of a closed set accept only those codes: a care provider's
//! kind, an enrolment's state, a version's status, a role, a notice's severity, the kind of user
//! of a session and of a login attempt, and a login attempt's stage. The server reads them as
//! enums, so a row written by hand with another code would make every query that reads it fail
//! (a mistyped status notice would take the public start page down): the database refuses it
//! at the door instead. PostgreSQL: CHECK constraints; SQLite, which cannot add one to an
//! existing table: triggers that abort the write.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261129_000011_stored_codes"
    }
}

/// (table, column, the codes it may hold) as of this migration.
const CODES: &[(&str, &str, &[&str])] = &[
    ("care_provider", "kind", &["region", "private"]),
    (
        "enrolment",
        "state",
        &["active", "maintenance", "ended", "handed_over"],
    ),
    (
        "program_version",
        "status",
        &["draft", "published", "unpublished"],
    ),
    (
        "staff_role",
        "role",
        &[
            "therapist",
            "patient_admin",
            "access_admin",
            "provider_admin",
            "producer",
            "publisher",
            "operator",
            "auditor",
        ],
    ),
    (
        "status_notice",
        "severity",
        &["info", "maintenance", "degraded", "outage"],
    ),
    ("user_session", "user_kind", &["patient", "staff"]),
    ("login_attempt", "kind", &["patient", "staff"]),
    (
        "login_attempt",
        "stage",
        &["redirected", "taken", "choosing"],
    ),
];

fn list(codes: &[&str]) -> String {
    codes
        .iter()
        .map(|c| format!("'{c}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for (table, column, codes) in CODES {
            let codes = list(codes);
            if manager.get_database_backend() == DatabaseBackend::Postgres {
                db.execute_unprepared(&format!(
                    "ALTER TABLE {table} ADD CONSTRAINT {table}_{column}_code \
                     CHECK ({column} IN ({codes}))"
                ))
                .await?;
            } else {
                for (event, name) in [
                    ("INSERT", "insert"),
                    (&format!("UPDATE OF {column}"), "update"),
                ] {
                    db.execute_unprepared(&format!(
                        "CREATE TRIGGER {table}_{column}_code_{name} BEFORE {event} ON {table} \
                         WHEN NEW.{column} NOT IN ({codes}) \
                         BEGIN SELECT RAISE(ABORT, '{table}.{column}: not one of its codes'); END"
                    ))
                    .await?;
                }
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for (table, column, _) in CODES {
            if manager.get_database_backend() == DatabaseBackend::Postgres {
                db.execute_unprepared(&format!(
                    "ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {table}_{column}_code"
                ))
                .await?;
            } else {
                for name in ["insert", "update"] {
                    db.execute_unprepared(&format!(
                        "DROP TRIGGER IF EXISTS {table}_{column}_code_{name}"
                    ))
                    .await?;
                }
            }
        }
        Ok(())
    }
}
