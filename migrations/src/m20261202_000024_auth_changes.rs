//! What the session check's cache hears (`app::auth::cache`): every change to what a signed-in
//! user is — a role granted or revoked, an assignment, unit, care provider, name, test binding
//! or session changed or ended — is announced by the database itself, from triggers, so no
//! code path that writes these tables can forget to.
//!
//! - PostgreSQL: `NOTIFY lotsen_auth` at commit, to every instance: `s<id>` for a session row
//!   changed (not by its own use: a later last-seen time) or deleted, `*` for anything else.
//! - SQLite (one instance): `auth_epoch.n` counts the changes (session rows only where what
//!   they point at changes; their last-seen time is not a change), and the cache reads it with
//!   the session row.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261202_000024_auth_changes"
    }
}

/// The session columns that decide who a session is (not `last_seen_at`).
const SESSION_COLUMNS: &str =
    "patient_id, staff_person_id, staff_assignment_id, sandbox_id, demo_persona, test_enrolment_id";

/// `(table, event, condition)`: the other changes that alter a signed-in user.
const CHANGES: [(&str, &str, &str); 9] = [
    ("staff_role", "INSERT OR UPDATE OR DELETE", ""),
    ("staff_assignment", "UPDATE OR DELETE", ""),
    ("staff_hsa_identity", "UPDATE OR DELETE", ""),
    ("care_unit", "UPDATE OR DELETE", ""),
    ("care_provider", "UPDATE OR DELETE", ""),
    (
        "staff_person",
        "UPDATE OF given_name, family_name, sandbox_id OR DELETE",
        "",
    ),
    (
        "patient",
        "UPDATE OF given_name, family_name, sandbox_id OR DELETE",
        "",
    ),
    // Only a test enrolment binds a session.
    (
        "enrolment",
        "UPDATE OF patient_id, care_unit_id, sandbox_id, test_by_staff_id OR DELETE",
        "OLD.test_by_staff_id IS NOT NULL",
    ),
    ("demo_sandbox", "DELETE", ""),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared(
            "CREATE TABLE auth_epoch (id BIGINT PRIMARY KEY NOT NULL, n BIGINT NOT NULL)",
        )
        .await?;
        db.execute_unprepared("INSERT INTO auth_epoch (id, n) VALUES (1, 0)")
            .await?;
        match manager.get_database_backend() {
            DatabaseBackend::Postgres => {
                db.execute_unprepared(
                    "CREATE FUNCTION lotsen_auth_changed() RETURNS trigger LANGUAGE plpgsql AS $$ \
                     BEGIN \
                       IF TG_TABLE_NAME = 'user_session' THEN \
                         PERFORM pg_notify('lotsen_auth', 's' || OLD.id); \
                       ELSE \
                         PERFORM pg_notify('lotsen_auth', '*'); \
                       END IF; \
                       RETURN NULL; \
                     END $$",
                )
                .await?;
                // A session moved on by its own use (last seen later) is no change; one that
                // is shortened (ended early, aged by an operator) is.
                let changed = SESSION_COLUMNS
                    .split(", ")
                    .map(|c| format!("OLD.{c} IS DISTINCT FROM NEW.{c}"))
                    .chain([
                        "NEW.last_seen_at < OLD.last_seen_at".to_owned(),
                        "NEW.absolute_expiry IS DISTINCT FROM OLD.absolute_expiry".to_owned(),
                    ])
                    .collect::<Vec<_>>()
                    .join(" OR ");
                db.execute_unprepared(&format!(
                    "CREATE TRIGGER tr_auth_changed_user_session AFTER UPDATE ON user_session \
                     FOR EACH ROW WHEN ({changed}) EXECUTE FUNCTION lotsen_auth_changed()"
                ))
                .await?;
                db.execute_unprepared(
                    "CREATE TRIGGER tr_auth_ended_user_session AFTER DELETE ON user_session \
                     FOR EACH ROW EXECUTE FUNCTION lotsen_auth_changed()",
                )
                .await?;
                for (table, event, condition) in CHANGES {
                    // One notification per statement, unless a row's own values decide.
                    let sql = if condition.is_empty() {
                        format!(
                            "CREATE TRIGGER tr_auth_changed_{table} AFTER {event} ON {table} \
                             FOR EACH STATEMENT EXECUTE FUNCTION lotsen_auth_changed()"
                        )
                    } else {
                        format!(
                            "CREATE TRIGGER tr_auth_changed_{table} AFTER {event} ON {table} \
                             FOR EACH ROW WHEN ({condition}) \
                             EXECUTE FUNCTION lotsen_auth_changed()"
                        )
                    };
                    db.execute_unprepared(&sql).await?;
                }
            }
            _ => {
                let bump = "BEGIN UPDATE auth_epoch SET n = n + 1 WHERE id = 1; END";
                db.execute_unprepared(&format!(
                    "CREATE TRIGGER tr_auth_changed_user_session \
                     AFTER UPDATE OF {SESSION_COLUMNS} ON user_session {bump}"
                ))
                .await?;
                for (table, event, condition) in CHANGES {
                    // SQLite: one trigger per event, and `OR` only between UPDATE OF's columns.
                    for (n, event) in event.split(" OR ").enumerate() {
                        let when = if condition.is_empty() {
                            String::new()
                        } else {
                            format!("WHEN {condition}")
                        };
                        db.execute_unprepared(&format!(
                            "CREATE TRIGGER tr_auth_changed_{table}_{n} \
                             AFTER {event} ON {table} FOR EACH ROW {when} {bump}"
                        ))
                        .await?;
                    }
                }
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        match manager.get_database_backend() {
            DatabaseBackend::Postgres => {
                db.execute_unprepared("DROP FUNCTION IF EXISTS lotsen_auth_changed() CASCADE")
                    .await?;
            }
            _ => {
                db.execute_unprepared("DROP TRIGGER IF EXISTS tr_auth_changed_user_session")
                    .await?;
                for (table, event, _) in CHANGES {
                    for n in 0..event.split(" OR ").count() {
                        db.execute_unprepared(&format!(
                            "DROP TRIGGER IF EXISTS tr_auth_changed_{table}_{n}"
                        ))
                        .await?;
                    }
                }
            }
        }
        db.execute_unprepared("DROP TABLE auth_epoch").await?;
        Ok(())
    }
}
