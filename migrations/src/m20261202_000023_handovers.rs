//! Handovers within one care provider: a treatment moves, with its whole record, to another of
//! the provider's units where the same version is active. The enrolment's unit changes; this row
//! keeps where it came from, so that the unit that handed it over keeps reading the record (never
//! writing to it) for the set time after the handover, as for a treatment it ended.

use crate::dsl::OnDelete::{Cascade, NoAction, SetNull};
use crate::dsl::*;
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261202_000023_handovers"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let tables = vec![
            table("enrolment_handover")
                .col(id_ref("enrolment_id"))
                .col(id_ref("from_unit_id"))
                .col(id_ref("to_unit_id"))
                .col(instant("handed_over_at"))
                .col(id_ref_null("handed_over_by"))
                .foreign_key(&mut fk(
                    "enrolment_handover",
                    "enrolment_id",
                    "enrolment",
                    Cascade,
                ))
                .foreign_key(&mut fk(
                    "enrolment_handover",
                    "from_unit_id",
                    "care_unit",
                    NoAction,
                ))
                .foreign_key(&mut fk(
                    "enrolment_handover",
                    "to_unit_id",
                    "care_unit",
                    NoAction,
                ))
                .foreign_key(&mut fk(
                    "enrolment_handover",
                    "handed_over_by",
                    "staff_person",
                    SetNull,
                ))
                .take(),
        ];
        let indexes = vec![
            index("enrolment_handover", &["enrolment_id"], false),
            index(
                "enrolment_handover",
                &["from_unit_id", "handed_over_at"],
                false,
            ),
        ];
        create_all(manager, tables, indexes).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_all(manager, &["enrolment_handover"]).await
    }
}
