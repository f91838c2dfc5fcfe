//! Extra forms: a therapist on the care team asks the patient to answer one of the program's
//! questionnaires now, outside its schedule. Each is a due form whose schedule key is
//! `extra.<questionnaire key>` (program keys never hold a dot), numbered from 0 per
//! questionnaire, with the staff member who asked for it. A program key is up to 64 bytes, so
//! the schedule key grows to 80 (SQLite does not hold a string's length).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261202_000022_extra_forms"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("due_form")
                    // Kept as an id when the person is removed, like `enrolment.ended_by`.
                    .add_column(crate::dsl::id_ref_null("requested_by"))
                    .take(),
            )
            .await?;
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared(
                    "ALTER TABLE due_form ALTER COLUMN schedule_key TYPE varchar(80)",
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("due_form")
                    .drop_column(Alias::new("requested_by"))
                    .take(),
            )
            .await
    }
}
