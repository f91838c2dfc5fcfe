//! Identity and access: demo-sandbox scoping of the access log, a therapist-internal note on
//! enrolments (never shown to the patient), and the session's chosen persona in demo mode.
//!
//! The access log keeps one hash chain for real care and one per demo sandbox. Real rows stay
//! append-only; on PostgreSQL the trigger now lets a sandbox's own rows be deleted with the
//! sandbox (they are demo data, and an expired sandbox must leave nothing behind).

use crate::dsl::*;
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261126_000005_identity"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("access_log")
                    .add_column(id_ref_null("sandbox_id"))
                    .take(),
            )
            .await?;
        manager
            .create_index(index("access_log", &["sandbox_id", "id"], false))
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("enrolment")
                    .add_column(long("internal_note").default("").take())
                    .take(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("user_session")
                    .add_column(short_null("demo_persona", 32))
                    .take(),
            )
            .await?;
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared(
                    "CREATE OR REPLACE FUNCTION access_log_append_only() RETURNS trigger AS $$
                     BEGIN
                       IF TG_OP = 'DELETE' AND OLD.sandbox_id IS NOT NULL THEN
                         RETURN OLD;
                       END IF;
                       RAISE EXCEPTION 'access_log is append-only';
                     END;
                     $$ LANGUAGE plpgsql;",
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            db.execute_unprepared(
                "CREATE OR REPLACE FUNCTION access_log_append_only() RETURNS trigger AS $$
                 BEGIN
                   RAISE EXCEPTION 'access_log is append-only';
                 END;
                 $$ LANGUAGE plpgsql;",
            )
            .await?;
        }
        manager
            .drop_index(
                Index::drop()
                    .name("ix_access_log_sandbox_id_id")
                    .table("access_log")
                    .to_owned(),
            )
            .await?;
        for (table, column) in [
            ("user_session", "demo_persona"),
            ("enrolment", "internal_note"),
            ("access_log", "sandbox_id"),
        ] {
            manager
                .alter_table(Table::alter().table(table).drop_column(column).take())
                .await?;
        }
        Ok(())
    }
}
