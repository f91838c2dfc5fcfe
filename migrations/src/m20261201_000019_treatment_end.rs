//! How a treatment moved on: when it entered the maintenance phase, and why, when and by whom it
//! ended. The record summary states them; the reason is a code (`EndReason`), never free text.

use crate::dsl::*;
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261201_000019_treatment_end"
    }
}

/// The columns added to `enrolment`, one statement each (SQLite adds one column at a time).
fn columns() -> Vec<ColumnDef> {
    vec![
        instant_null("maintenance_at"),
        short_null("end_reason", 32),
        // The staff member who ended it; kept as an id when the person is removed.
        id_ref_null("ended_by"),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in columns() {
            manager
                .alter_table(Table::alter().table("enrolment").add_column(column).take())
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for name in ["ended_by", "end_reason", "maintenance_at"] {
            manager
                .alter_table(
                    Table::alter()
                        .table("enrolment")
                        .drop_column(Alias::new(name))
                        .take(),
                )
                .await?;
        }
        Ok(())
    }
}
