//! Due forms: one row per instance of a program's scheduled questionnaire in one enrolment.
//!
//! A schedule (in the program document) says when a questionnaire is asked: at enrolment, when
//! a module opens or is finished, at the end; once or every so many days; open for a window of
//! days; blocking the pages or not. A row is made when an instance falls due (`planned`), is
//! marked `shown` when the patient opens it, `answered` (with its response) when submitted, or
//! `expired` when its window closed or a newer instance fell due. At most one instance per
//! schedule is open (planned or shown) at a time, which a partial unique index holds. Days
//! (`due_on`, `closes_on`) are Swedish calendar days, `YYYY-MM-DD`.

use crate::dsl::{OnDelete::*, *};
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261130_000015_due_forms"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let tables = vec![
            table("due_form")
                .col(id_ref("enrolment_id"))
                .col(id_ref("program_version_id"))
                .col(short("schedule_key", 64))
                // 0 for the first time the schedule falls due.
                .col(int("occurrence"))
                .col(short("questionnaire_key", 64))
                .col(short("due_on", 10))
                .col(short("closes_on", 10))
                .col(flag("blocking", false))
                .col(
                    short("state", 16)
                        .check(codes("state", &["planned", "shown", "answered", "expired"]))
                        .take(),
                )
                .col(id_ref_null("response_id"))
                .col(created_at())
                .col(instant("updated_at"))
                .foreign_key(&mut fk("due_form", "enrolment_id", "enrolment", Cascade))
                .foreign_key(&mut fk(
                    "due_form",
                    "program_version_id",
                    "program_version",
                    Restrict,
                ))
                .foreign_key(&mut fk(
                    "due_form",
                    "response_id",
                    "form_response",
                    NoAction,
                ))
                .take(),
        ];
        let indexes = vec![index(
            "due_form",
            &["enrolment_id", "schedule_key", "occurrence"],
            true,
        )];
        create_all(manager, tables, indexes).await?;
        // At most one open instance per schedule and enrolment.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX IF NOT EXISTS ux_due_form_open \
                 ON due_form (enrolment_id, schedule_key) WHERE state IN ('planned', 'shown')",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_all(manager, &["due_form"]).await
    }
}
