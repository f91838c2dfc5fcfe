//! Platform tables: the patient-data access log (hash-chained, append-only), server-side
//! sessions, operational status notices and fault reports.

use crate::dsl::{OnDelete::*, *};
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261125_000004_platform"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let tables = vec![
            // Patient Data Act access log. No foreign keys: the log outlives what it names.
            // hash = sha256(prev_hash || canonical(row)).
            table("access_log")
                .col(instant("occurred_at"))
                .col(short("user_hsa_id", 64))
                .col(short_null("assignment_hsa_id", 64))
                .col(short_null("care_unit_hsa_id", 64))
                .col(short_null("care_provider_org_number", 10))
                .col(id_ref_null("patient_id"))
                .col(short("action", 32))
                .col(short("object_type", 32))
                .col(id_ref_null("object_id"))
                // "allowed" or "refused".
                .col(short("outcome", 16))
                // Stated reason, for emergency access only.
                .col(long_null("reason"))
                .col(flag("needs_follow_up", false))
                .col(short("prev_hash", 64))
                .col(short("hash", 64))
                .take(),
            table("user_session")
                // sha256 of the cookie value; the value itself is never stored.
                .col(short("token_hash", 64))
                // "patient", "staff", "demo".
                .col(short("user_kind", 16))
                .col(id_ref_null("patient_id"))
                .col(id_ref_null("staff_person_id"))
                .col(id_ref_null("staff_assignment_id"))
                .col(id_ref_null("sandbox_id"))
                .col(created_at())
                .col(instant("last_seen_at"))
                .col(instant("absolute_expiry"))
                .col(short_null("user_agent", 300))
                .foreign_key(&mut fk("user_session", "patient_id", "patient", Cascade))
                .foreign_key(&mut fk(
                    "user_session",
                    "staff_person_id",
                    "staff_person",
                    Cascade,
                ))
                .foreign_key(&mut fk(
                    "user_session",
                    "staff_assignment_id",
                    "staff_assignment",
                    Cascade,
                ))
                .foreign_key(&mut fk(
                    "user_session",
                    "sandbox_id",
                    "demo_sandbox",
                    Cascade,
                ))
                .take(),
            table("status_notice")
                // "info", "maintenance", "degraded", "outage".
                .col(short("severity", 16))
                .col(short("title_sv", 200))
                .col(short("title_en", 200))
                .col(long("body_sv").default("").take())
                .col(long("body_en").default("").take())
                .col(instant("starts_at"))
                .col(instant_null("ends_at"))
                .col(created_at())
                .take(),
            table("fault_report")
                // "patient", "staff", "public".
                .col(short("reporter_kind", 16))
                .col(short("category", 32))
                .col(long("description"))
                .col(short_null("contact", 254))
                // "new", "triaged", "closed".
                .col(short("status", 16).default("new").take())
                .col(created_at())
                .take(),
        ];
        let indexes = vec![
            index("access_log", &["patient_id", "occurred_at"], false),
            index("access_log", &["user_hsa_id", "occurred_at"], false),
            index("access_log", &["occurred_at"], false),
            index("user_session", &["token_hash"], true),
            index("user_session", &["patient_id"], false),
            index("user_session", &["staff_person_id"], false),
            index("status_notice", &["starts_at", "ends_at"], false),
            index("fault_report", &["status", "created_at"], false),
        ];
        create_all(manager, tables, indexes).await?;

        // On PostgreSQL the database itself refuses to change or remove access-log rows.
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared(
                    "CREATE OR REPLACE FUNCTION access_log_append_only() RETURNS trigger AS $$
                     BEGIN
                       RAISE EXCEPTION 'access_log is append-only';
                     END;
                     $$ LANGUAGE plpgsql;
                     CREATE TRIGGER access_log_no_update_delete
                       BEFORE UPDATE OR DELETE ON access_log
                       FOR EACH ROW EXECUTE FUNCTION access_log_append_only();
                     CREATE TRIGGER access_log_no_truncate
                       BEFORE TRUNCATE ON access_log
                       FOR EACH STATEMENT EXECUTE FUNCTION access_log_append_only();",
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_all(
            manager,
            &[
                "fault_report",
                "status_notice",
                "user_session",
                "access_log",
            ],
        )
        .await?;
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared("DROP FUNCTION IF EXISTS access_log_append_only()")
                .await?;
        }
        Ok(())
    }
}
