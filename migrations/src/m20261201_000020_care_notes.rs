//! Therapist-internal notes on a treatment: dated, signed and kept (never edited), read by the
//! unit's therapists and never by the patient, nor by a patient administrator.

use crate::dsl::OnDelete::{Cascade, SetNull};
use crate::dsl::*;
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261201_000020_care_notes"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let tables = vec![
            table("care_note")
                .col(id_ref("enrolment_id"))
                .col(id_ref_null("author_staff_id"))
                .col(long("body"))
                .col(instant("written_at"))
                .foreign_key(&mut fk("care_note", "enrolment_id", "enrolment", Cascade))
                .foreign_key(&mut fk(
                    "care_note",
                    "author_staff_id",
                    "staff_person",
                    SetNull,
                ))
                .take(),
        ];
        let indexes = vec![index("care_note", &["enrolment_id", "written_at"], false)];
        create_all(manager, tables, indexes).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_all(manager, &["care_note"]).await
    }
}
