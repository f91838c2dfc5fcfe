//! Programs and their content: program → immutable published versions → modules → sections →
//! steps (one step = one page) → content blocks; questionnaires and their items; activation of
//! versions on care units; sharing agreements between care providers.

use crate::dsl::{OnDelete::*, *};
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261125_000002_programs"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let tables = vec![
            table("program")
                .col(id_ref("owner_provider_id"))
                .col(short("title", 200))
                .col(long("description").default("").take())
                .col(id_ref_null("created_by"))
                .col(id_ref_null("sandbox_id"))
                .col(created_at())
                .foreign_key(&mut fk(
                    "program",
                    "owner_provider_id",
                    "care_provider",
                    Cascade,
                ))
                .foreign_key(&mut fk("program", "created_by", "staff_person", SetNull))
                .foreign_key(&mut fk("program", "sandbox_id", "demo_sandbox", Cascade))
                .take(),
            // A draft is editable; publishing freezes it. MAJOR.MINOR: minor for wording fixes
            // that running enrolments may take, major for structural changes.
            table("program_version")
                .col(id_ref("program_id"))
                .col(int("major"))
                .col(int("minor"))
                // "draft", "published", "unpublished".
                .col(short("status", 16))
                // sha256 of the canonical content, fixed at publication.
                .col(short_null("content_hash", 64))
                .col(long("release_notes").default("").take())
                .col(instant_null("published_at"))
                .col(id_ref_null("published_by"))
                .col(instant_null("unpublished_at"))
                .col(created_at())
                .foreign_key(&mut fk("program_version", "program_id", "program", Cascade))
                .foreign_key(&mut fk(
                    "program_version",
                    "published_by",
                    "staff_person",
                    SetNull,
                ))
                .take(),
            table("program_module")
                .col(id_ref("program_version_id"))
                .col(int("position"))
                .col(short("title", 200))
                // "open", "after_previous", "after_feedback".
                .col(short("unlock_rule", 32).default("open").take())
                .foreign_key(&mut fk(
                    "program_module",
                    "program_version_id",
                    "program_version",
                    Cascade,
                ))
                .take(),
            table("program_section")
                .col(id_ref("module_id"))
                .col(int("position"))
                .col(short("title", 200))
                .col(json_text_null("show_condition"))
                .foreign_key(&mut fk(
                    "program_section",
                    "module_id",
                    "program_module",
                    Cascade,
                ))
                .take(),
            table("program_step")
                .col(id_ref("section_id"))
                .col(int("position"))
                .col(short("title", 200))
                .foreign_key(&mut fk(
                    "program_step",
                    "section_id",
                    "program_section",
                    Cascade,
                ))
                .take(),
            table("questionnaire")
                .col(id_ref("program_version_id"))
                // Stable key within the version, e.g. "phq9" or "weekly-sleep".
                .col(short("key", 64))
                .col(short("title", 200))
                // Built-in scale code ("phq9", "gad7", "madrs_s", "audit", "isi") or empty.
                .col(short_null("scale", 32))
                // Scoring (sum, subscales, reverse items, weights), bands and alert rules.
                .col(json_text("scoring"))
                .foreign_key(&mut fk(
                    "questionnaire",
                    "program_version_id",
                    "program_version",
                    Cascade,
                ))
                .take(),
            table("questionnaire_item")
                .col(id_ref("questionnaire_id"))
                .col(int("position"))
                .col(short("key", 64))
                // "single_choice", "multiple_choice", "scale", "number", "free_text", "date", "time".
                .col(short("kind", 32))
                .col(long("text"))
                .col(json_text("options"))
                .col(flag("required", true))
                .foreign_key(&mut fk(
                    "questionnaire_item",
                    "questionnaire_id",
                    "questionnaire",
                    Cascade,
                ))
                .take(),
            table("content_block")
                .col(id_ref("step_id"))
                .col(int("position"))
                // "text", "image", "audio", "video", "exercise", "worksheet", "questionnaire",
                // "info_box", "link".
                .col(short("kind", 32))
                .col(json_text("body"))
                .col(id_ref_null("questionnaire_id"))
                .col(json_text_null("show_condition"))
                .foreign_key(&mut fk("content_block", "step_id", "program_step", Cascade))
                .foreign_key(&mut fk(
                    "content_block",
                    "questionnaire_id",
                    "questionnaire",
                    Restrict,
                ))
                .take(),
            table("program_activation")
                .col(id_ref("program_version_id"))
                .col(id_ref("care_unit_id"))
                .col(instant("activated_at"))
                .col(id_ref_null("activated_by"))
                .col(instant_null("deactivated_at"))
                .col(id_ref_null("deactivated_by"))
                .foreign_key(&mut fk(
                    "program_activation",
                    "program_version_id",
                    "program_version",
                    Cascade,
                ))
                .foreign_key(&mut fk(
                    "program_activation",
                    "care_unit_id",
                    "care_unit",
                    Cascade,
                ))
                .foreign_key(&mut fk(
                    "program_activation",
                    "activated_by",
                    "staff_person",
                    SetNull,
                ))
                .foreign_key(&mut fk(
                    "program_activation",
                    "deactivated_by",
                    "staff_person",
                    SetNull,
                ))
                .take(),
            table("sharing_agreement")
                .col(id_ref("program_id"))
                .col(id_ref("recipient_provider_id"))
                .col(instant("valid_from"))
                .col(instant_null("valid_to"))
                .col(id_ref_null("created_by"))
                .col(created_at())
                .foreign_key(&mut fk(
                    "sharing_agreement",
                    "program_id",
                    "program",
                    Cascade,
                ))
                .foreign_key(&mut fk(
                    "sharing_agreement",
                    "recipient_provider_id",
                    "care_provider",
                    Cascade,
                ))
                .foreign_key(&mut fk(
                    "sharing_agreement",
                    "created_by",
                    "staff_person",
                    SetNull,
                ))
                .take(),
        ];
        let indexes = vec![
            index("program", &["owner_provider_id"], false),
            index("program", &["sandbox_id"], false),
            index("program_version", &["program_id", "major", "minor"], true),
            index("program_version", &["status"], false),
            index("program_module", &["program_version_id", "position"], false),
            index("program_section", &["module_id", "position"], false),
            index("program_step", &["section_id", "position"], false),
            index("questionnaire", &["program_version_id", "key"], true),
            index("questionnaire_item", &["questionnaire_id", "key"], true),
            index("content_block", &["step_id", "position"], false),
            index("program_activation", &["care_unit_id"], false),
            index("program_activation", &["program_version_id"], false),
            index(
                "sharing_agreement",
                &["program_id", "recipient_provider_id"],
                true,
            ),
            index("sharing_agreement", &["recipient_provider_id"], false),
        ];
        create_all(manager, tables, indexes).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_all(
            manager,
            &[
                "sharing_agreement",
                "program_activation",
                "content_block",
                "questionnaire_item",
                "questionnaire",
                "program_step",
                "program_section",
                "program_module",
                "program_version",
                "program",
            ],
        )
        .await
    }
}
