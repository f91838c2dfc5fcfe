//! The care record, keyed by the program document's stable keys.
//!
//! Program content became one JSON document per version (migration 000008), but the care
//! tables of migration 000003 pointed at relational content tables that nothing ever filled
//! (`program_module`, `program_section`, `program_step`, `questionnaire`,
//! `questionnaire_item`, `content_block`). Those, and the care tables that referenced them
//! (`module_state`, `questionnaire_response`, `item_answer`, `worksheet_entry`), are dropped
//! here; they never held a row. `flag` is made anew keyed by enrolment, with what raised it.
//!
//! What replaces them keys every row by its enrolment, the program version it was written
//! under (a minor upgrade may change wording; an answer keeps the version it was given under),
//! and the content's keys:
//! - `page_visit`: the first time the patient opened a page (module key, page key);
//! - `form_response`: a questionnaire answered at one place (a page's questionnaire block
//!   today, a scheduled instance later), first as a draft kept on the server, then submitted
//!   once, scored by the server, never changed;
//! - `flag`: raised for the care team, at most one per (response, alert rule);
//! - `message`: the secure messages of the enrolment's thread (the unused `message_thread` and
//!   `message` of 000003, keyed by patient and unit, are replaced).
//!
//! A unit's crisis information (`care_unit.crisis_info`) is what a patient sees at once after
//! an urgent answer, besides 112 and 1177.

use crate::dsl::{OnDelete::*, *};
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261130_000012_care_records"
    }
}

/// Children before parents.
const DEAD: &[&str] = &[
    "item_answer",
    "questionnaire_response",
    "message",
    "message_thread",
    "worksheet_entry",
    "module_state",
    "flag",
    "content_block",
    "questionnaire_item",
    "questionnaire",
    "program_step",
    "program_section",
    "program_module",
];

fn codes(column: &str, allowed: &[&str]) -> SimpleExpr {
    Expr::col(Alias::new(column)).is_in(allowed.iter().copied())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_all(manager, DEAD).await?;
        manager
            .alter_table(
                Table::alter()
                    .table("care_unit")
                    .add_column(long_null("crisis_info"))
                    .take(),
            )
            .await?;
        let tables = vec![
            table("page_visit")
                .col(id_ref("enrolment_id"))
                .col(id_ref("program_version_id"))
                .col(short("module_key", 64))
                .col(short("step_key", 64))
                .col(instant("first_seen_at"))
                .foreign_key(&mut fk("page_visit", "enrolment_id", "enrolment", Cascade))
                .foreign_key(&mut fk(
                    "page_visit",
                    "program_version_id",
                    "program_version",
                    Restrict,
                ))
                .take(),
            table("form_response")
                .col(id_ref("enrolment_id"))
                .col(id_ref("program_version_id"))
                .col(short("questionnaire_key", 64))
                // Where it was answered: `block:<module>/<page>/<block>`.
                .col(short("place", 200))
                .col(
                    short("state", 16)
                        .check(codes("state", &["draft", "submitted"]))
                        .take(),
                )
                // The answers, one per item code, as given.
                .col(json_text("answers"))
                // Set by the server's scoring when submitted.
                .col(int_null("total"))
                .col(short_null("band", 32))
                .col(json_text("scores"))
                .col(short_null("idempotency_key", 64))
                .col(instant("updated_at"))
                .col(instant_null("submitted_at"))
                .foreign_key(&mut fk(
                    "form_response",
                    "enrolment_id",
                    "enrolment",
                    Cascade,
                ))
                .foreign_key(&mut fk(
                    "form_response",
                    "program_version_id",
                    "program_version",
                    Restrict,
                ))
                .take(),
            // A flag is closed with a comment, never deleted: a risk answer's flag cannot be lost.
            table("flag")
                .col(id_ref("enrolment_id"))
                .col(
                    short("kind", 16)
                        .check(codes("kind", &["automatic", "manual"]))
                        .take(),
                )
                .col(
                    short("priority", 16)
                        .check(codes("priority", &["info", "warning", "urgent"]))
                        .take(),
                )
                // An alert rule's code, or another reason's.
                .col(short("reason", 64))
                .col(id_ref_null("response_id"))
                .col(instant("raised_at"))
                .col(instant_null("acknowledged_at"))
                .col(id_ref_null("acknowledged_by"))
                .col(instant_null("resolved_at"))
                .col(id_ref_null("resolved_by"))
                .col(long_null("resolution"))
                .foreign_key(&mut fk("flag", "enrolment_id", "enrolment", Cascade))
                .foreign_key(&mut fk("flag", "response_id", "form_response", NoAction))
                .foreign_key(&mut fk("flag", "acknowledged_by", "staff_person", SetNull))
                .foreign_key(&mut fk("flag", "resolved_by", "staff_person", SetNull))
                .take(),
            // The thread is the enrolment's: between the patient and its care team.
            table("message")
                .col(id_ref("enrolment_id"))
                .col(
                    short("sender_kind", 16)
                        .check(codes("sender_kind", &["patient", "staff"]))
                        .take(),
                )
                .col(id_ref_null("sender_staff_id"))
                .col(long("body"))
                .col(short("idempotency_key", 64))
                .col(instant("sent_at"))
                // When its recipient read it: the patient, or someone of the care team.
                .col(instant_null("read_at"))
                .col(id_ref_null("read_by_staff_id"))
                .foreign_key(&mut fk("message", "enrolment_id", "enrolment", Cascade))
                .foreign_key(&mut fk(
                    "message",
                    "sender_staff_id",
                    "staff_person",
                    SetNull,
                ))
                .foreign_key(&mut fk(
                    "message",
                    "read_by_staff_id",
                    "staff_person",
                    SetNull,
                ))
                .take(),
        ];
        let indexes = vec![
            index(
                "page_visit",
                &["enrolment_id", "module_key", "step_key"],
                true,
            ),
            index("form_response", &["enrolment_id", "place"], true),
            index(
                "form_response",
                &["enrolment_id", "questionnaire_key", "submitted_at"],
                false,
            ),
            index("flag", &["enrolment_id", "resolved_at"], false),
            index("message", &["enrolment_id", "sent_at"], false),
            index("message", &["enrolment_id", "idempotency_key"], true),
            index("message", &["sender_staff_id", "sent_at"], false),
        ];
        create_all(manager, tables, indexes).await?;
        // One flag per (response, rule), however often a submit is retried.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX IF NOT EXISTS ux_flag_response_reason \
                 ON flag (response_id, reason) WHERE response_id IS NOT NULL",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // The dead tables are not made again: migration 000003 and 000002 drop them only if
        // they exist, and nothing used them.
        drop_all(manager, &["message", "flag", "form_response", "page_visit"]).await?;
        manager
            .alter_table(
                Table::alter()
                    .table("care_unit")
                    .drop_column(Alias::new("crisis_info"))
                    .take(),
            )
            .await
    }
}
