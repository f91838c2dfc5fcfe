//! Homework and the therapist's feedback.
//!
//! A module's worksheets are its homework: each is answered once per enrolment (a draft kept on
//! the server, then submitted and locked). An exercise (a sleep diary) takes repeated entries,
//! each kept as written. Both live in `homework_entry`, keyed like the other care rows by
//! enrolment, the version it was written under, and the block's place
//! (`block:<module>/<page>/<block>`). One row per worksheet and enrolment is enforced by a
//! partial unique index; a retried submit or entry is recognised by its idempotency key.
//!
//! `module_feedback` is the therapist's feedback on a module: one row per enrolment and module,
//! which the patient reads and which opens a module whose rule is `after_feedback`.

use crate::dsl::{OnDelete::*, *};
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261130_000013_homework_and_feedback"
    }
}

fn codes(column: &str, allowed: &[&str]) -> SimpleExpr {
    Expr::col(Alias::new(column)).is_in(allowed.iter().copied())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let tables = vec![
            table("homework_entry")
                .col(id_ref("enrolment_id"))
                .col(id_ref("program_version_id"))
                .col(short("module_key", 64))
                .col(short("place", 200))
                .col(
                    short("kind", 16)
                        .check(codes("kind", &["worksheet", "exercise"]))
                        .take(),
                )
                .col(
                    short("state", 16)
                        .check(codes("state", &["draft", "submitted"]))
                        .take(),
                )
                // Field key → the value as written.
                .col(json_text("fields"))
                .col(short_null("idempotency_key", 64))
                .col(instant("updated_at"))
                .col(instant_null("submitted_at"))
                .foreign_key(&mut fk(
                    "homework_entry",
                    "enrolment_id",
                    "enrolment",
                    Cascade,
                ))
                .foreign_key(&mut fk(
                    "homework_entry",
                    "program_version_id",
                    "program_version",
                    Restrict,
                ))
                .take(),
            table("module_feedback")
                .col(id_ref("enrolment_id"))
                .col(short("module_key", 64))
                .col(id_ref_null("staff_person_id"))
                .col(long("body"))
                .col(short("idempotency_key", 64))
                .col(instant("given_at"))
                // When the patient first saw it.
                .col(instant_null("read_at"))
                .foreign_key(&mut fk(
                    "module_feedback",
                    "enrolment_id",
                    "enrolment",
                    Cascade,
                ))
                .foreign_key(&mut fk(
                    "module_feedback",
                    "staff_person_id",
                    "staff_person",
                    SetNull,
                ))
                .take(),
        ];
        let indexes = vec![
            index(
                "homework_entry",
                &["enrolment_id", "place", "updated_at"],
                false,
            ),
            index("homework_entry", &["enrolment_id", "idempotency_key"], true),
            index("module_feedback", &["enrolment_id", "module_key"], true),
        ];
        create_all(manager, tables, indexes).await?;
        // A worksheet is answered once per enrolment; an exercise takes any number of entries.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX IF NOT EXISTS ux_homework_worksheet \
                 ON homework_entry (enrolment_id, place) WHERE kind = 'worksheet'",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_all(manager, &["module_feedback", "homework_entry"]).await
    }
}
