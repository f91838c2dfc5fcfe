//! Emergency access (nödåtkomst) as a grant of its own: who opened which patient's record, in
//! which assignment at which unit and care provider, why, and until when. Reads under a grant
//! are logged but never extend it.

use crate::dsl::{OnDelete::*, *};
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261129_000009_emergency_grant"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let tables = vec![
            table("emergency_grant")
                .col(id_ref("staff_person_id"))
                .col(id_ref("assignment_id"))
                .col(id_ref("care_unit_id"))
                .col(id_ref("care_provider_id"))
                .col(id_ref("patient_id"))
                .col(long("reason"))
                .col(instant("granted_at"))
                .col(instant("expires_at"))
                .col(id_ref_null("sandbox_id"))
                .foreign_key(&mut fk(
                    "emergency_grant",
                    "staff_person_id",
                    "staff_person",
                    Cascade,
                ))
                .foreign_key(&mut fk(
                    "emergency_grant",
                    "assignment_id",
                    "staff_assignment",
                    Cascade,
                ))
                .foreign_key(&mut fk(
                    "emergency_grant",
                    "care_unit_id",
                    "care_unit",
                    Cascade,
                ))
                .foreign_key(&mut fk(
                    "emergency_grant",
                    "care_provider_id",
                    "care_provider",
                    Cascade,
                ))
                .foreign_key(&mut fk("emergency_grant", "patient_id", "patient", Cascade))
                .foreign_key(&mut fk(
                    "emergency_grant",
                    "sandbox_id",
                    "demo_sandbox",
                    Cascade,
                ))
                .take(),
        ];
        let indexes = vec![index(
            "emergency_grant",
            &["assignment_id", "patient_id", "expires_at"],
            false,
        )];
        create_all(manager, tables, indexes).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_all(manager, &["emergency_grant"]).await
    }
}
