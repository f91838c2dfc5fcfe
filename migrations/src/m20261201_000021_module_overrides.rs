//! What a therapist decided about one module for one patient: opened early (before its rule
//! would open it), or hidden (the patient does not see it, and the modules after it do not wait
//! for it). One row per (enrolment, module key), with who decided it last and when.

use crate::dsl::OnDelete::{Cascade, SetNull};
use crate::dsl::*;
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261201_000021_module_overrides"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let tables = vec![
            table("module_override")
                .col(id_ref("enrolment_id"))
                .col(short("module_key", 64))
                .col(instant_null("unlocked_at"))
                .col(flag("hidden", false))
                .col(id_ref_null("changed_by"))
                .col(instant("changed_at"))
                .foreign_key(&mut fk(
                    "module_override",
                    "enrolment_id",
                    "enrolment",
                    Cascade,
                ))
                .foreign_key(&mut fk(
                    "module_override",
                    "changed_by",
                    "staff_person",
                    SetNull,
                ))
                .take(),
        ];
        let indexes = vec![index(
            "module_override",
            &["enrolment_id", "module_key"],
            true,
        )];
        create_all(manager, tables, indexes).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_all(manager, &["module_override"]).await
    }
}
