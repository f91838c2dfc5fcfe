//! Care delivery: enrolments (patient × program version × care unit) with their therapists,
//! per-patient module visibility and unlock state, questionnaire responses with item answers and
//! scores, worksheets, message threads and messages, flags, and the notification outbox.

use crate::dsl::{OnDelete::*, *};
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261125_000003_care_delivery"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let tables = vec![
            table("enrolment")
                .col(id_ref("patient_id"))
                .col(id_ref("program_version_id"))
                .col(id_ref("care_unit_id"))
                .col(id_ref_null("responsible_staff_id"))
                // "active", "maintenance", "ended", "handed_over".
                .col(short("state", 16).default("active").take())
                .col(instant("started_at"))
                .col(instant_null("ended_at"))
                .col(id_ref_null("handed_over_to_unit_id"))
                .col(id_ref_null("sandbox_id"))
                .foreign_key(&mut fk("enrolment", "patient_id", "patient", Cascade))
                .foreign_key(&mut fk(
                    "enrolment",
                    "program_version_id",
                    "program_version",
                    Restrict,
                ))
                .foreign_key(&mut fk("enrolment", "care_unit_id", "care_unit", Restrict))
                .foreign_key(&mut fk(
                    "enrolment",
                    "responsible_staff_id",
                    "staff_person",
                    SetNull,
                ))
                .foreign_key(&mut fk(
                    "enrolment",
                    "handed_over_to_unit_id",
                    "care_unit",
                    SetNull,
                ))
                .foreign_key(&mut fk("enrolment", "sandbox_id", "demo_sandbox", Cascade))
                .take(),
            table("enrolment_therapist")
                .col(id_ref("enrolment_id"))
                .col(id_ref("staff_person_id"))
                .col(created_at())
                .foreign_key(&mut fk(
                    "enrolment_therapist",
                    "enrolment_id",
                    "enrolment",
                    Cascade,
                ))
                .foreign_key(&mut fk(
                    "enrolment_therapist",
                    "staff_person_id",
                    "staff_person",
                    Cascade,
                ))
                .take(),
            table("module_state")
                .col(id_ref("enrolment_id"))
                .col(id_ref("module_id"))
                .col(flag("visible", true))
                .col(instant_null("unlocked_at"))
                .col(instant_null("submitted_at"))
                .col(instant_null("feedback_at"))
                .foreign_key(&mut fk(
                    "module_state",
                    "enrolment_id",
                    "enrolment",
                    Cascade,
                ))
                .foreign_key(&mut fk(
                    "module_state",
                    "module_id",
                    "program_module",
                    Restrict,
                ))
                .take(),
            table("questionnaire_response")
                .col(id_ref("enrolment_id"))
                .col(id_ref("questionnaire_id"))
                .col(instant("submitted_at"))
                .col(int_null("total_score"))
                .col(short_null("band", 32))
                // Subscale scores and the scoring rules' version, computed by the server.
                .col(json_text("scores"))
                .foreign_key(&mut fk(
                    "questionnaire_response",
                    "enrolment_id",
                    "enrolment",
                    Cascade,
                ))
                .foreign_key(&mut fk(
                    "questionnaire_response",
                    "questionnaire_id",
                    "questionnaire",
                    Restrict,
                ))
                .take(),
            table("item_answer")
                .col(id_ref("response_id"))
                .col(id_ref("item_id"))
                .col(json_text("value"))
                .col(int_null("score"))
                .foreign_key(&mut fk(
                    "item_answer",
                    "response_id",
                    "questionnaire_response",
                    Cascade,
                ))
                .foreign_key(&mut fk(
                    "item_answer",
                    "item_id",
                    "questionnaire_item",
                    Restrict,
                ))
                .take(),
            table("worksheet_entry")
                .col(id_ref("enrolment_id"))
                .col(id_ref("content_block_id"))
                .col(json_text("fields"))
                .col(instant("updated_at"))
                .col(instant_null("submitted_at"))
                .foreign_key(&mut fk(
                    "worksheet_entry",
                    "enrolment_id",
                    "enrolment",
                    Cascade,
                ))
                .foreign_key(&mut fk(
                    "worksheet_entry",
                    "content_block_id",
                    "content_block",
                    Restrict,
                ))
                .take(),
            table("message_thread")
                .col(id_ref("patient_id"))
                .col(id_ref("care_unit_id"))
                .col(id_ref_null("enrolment_id"))
                .col(short("subject", 200))
                .col(created_at())
                .foreign_key(&mut fk("message_thread", "patient_id", "patient", Cascade))
                .foreign_key(&mut fk(
                    "message_thread",
                    "care_unit_id",
                    "care_unit",
                    Restrict,
                ))
                .foreign_key(&mut fk(
                    "message_thread",
                    "enrolment_id",
                    "enrolment",
                    SetNull,
                ))
                .take(),
            table("message")
                .col(id_ref("thread_id"))
                // "patient", "staff", "system".
                .col(short("sender_kind", 16))
                .col(id_ref_null("sender_staff_id"))
                .col(long("body"))
                .col(instant("sent_at"))
                .col(instant_null("read_at"))
                .foreign_key(&mut fk("message", "thread_id", "message_thread", Cascade))
                .foreign_key(&mut fk(
                    "message",
                    "sender_staff_id",
                    "staff_person",
                    SetNull,
                ))
                .take(),
            // A flag is closed with a comment, never deleted: a risk answer's flag cannot be lost.
            table("flag")
                .col(id_ref("patient_id"))
                .col(id_ref("care_unit_id"))
                .col(id_ref_null("enrolment_id"))
                // "automatic" or "manual"; what raised it, e.g. a questionnaire response.
                .col(short("source_kind", 16))
                .col(short_null("source_type", 32))
                .col(id_ref_null("source_id"))
                // "info", "warning", "critical".
                .col(short("priority", 16))
                .col(short("reason_code", 64))
                .col(instant("raised_at"))
                .col(id_ref_null("assigned_staff_id"))
                .col(instant_null("closed_at"))
                .col(id_ref_null("closed_by"))
                .col(long_null("close_comment"))
                .foreign_key(&mut fk("flag", "patient_id", "patient", Cascade))
                .foreign_key(&mut fk("flag", "care_unit_id", "care_unit", Restrict))
                .foreign_key(&mut fk("flag", "enrolment_id", "enrolment", SetNull))
                .foreign_key(&mut fk(
                    "flag",
                    "assigned_staff_id",
                    "staff_person",
                    SetNull,
                ))
                .foreign_key(&mut fk("flag", "closed_by", "staff_person", SetNull))
                .take(),
            // Notifications carry a template code only, never clinical content.
            table("notification_outbox")
                .col(short("channel", 16))
                .col(id_ref_null("patient_id"))
                .col(id_ref_null("staff_person_id"))
                .col(short("template", 64))
                .col(created_at())
                .col(instant("send_after"))
                .col(int("attempts").default(0).take())
                .col(instant_null("sent_at"))
                .col(short_null("last_error", 500))
                .foreign_key(&mut fk(
                    "notification_outbox",
                    "patient_id",
                    "patient",
                    Cascade,
                ))
                .foreign_key(&mut fk(
                    "notification_outbox",
                    "staff_person_id",
                    "staff_person",
                    Cascade,
                ))
                .take(),
        ];
        let indexes = vec![
            index("enrolment", &["patient_id"], false),
            index("enrolment", &["care_unit_id", "state"], false),
            index("enrolment", &["responsible_staff_id"], false),
            index("enrolment", &["sandbox_id"], false),
            index(
                "enrolment_therapist",
                &["enrolment_id", "staff_person_id"],
                true,
            ),
            index("enrolment_therapist", &["staff_person_id"], false),
            index("module_state", &["enrolment_id", "module_id"], true),
            index(
                "questionnaire_response",
                &["enrolment_id", "submitted_at"],
                false,
            ),
            index("item_answer", &["response_id", "item_id"], true),
            index(
                "worksheet_entry",
                &["enrolment_id", "content_block_id"],
                false,
            ),
            index("message_thread", &["patient_id"], false),
            index("message_thread", &["care_unit_id"], false),
            index("message", &["thread_id", "sent_at"], false),
            index("flag", &["care_unit_id", "closed_at"], false),
            index("flag", &["patient_id"], false),
            index("notification_outbox", &["sent_at", "send_after"], false),
        ];
        create_all(manager, tables, indexes).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_all(
            manager,
            &[
                "notification_outbox",
                "flag",
                "message",
                "message_thread",
                "worksheet_entry",
                "item_answer",
                "questionnaire_response",
                "module_state",
                "enrolment_therapist",
                "enrolment",
            ],
        )
        .await
    }
}
