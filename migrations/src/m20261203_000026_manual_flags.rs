//! Manual flags: a therapist on the care team flags a treatment by hand, with one of a fixed
//! set of reasons (kept in `flag.reason`, so that the open-flag index keeps one open per
//! reason), a note in their own words, and who raised it.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261203_000026_manual_flags"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one at a time.
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("flag"))
                    .add_column(ColumnDef::new(Alias::new("note")).text().null())
                    .to_owned(),
            )
            .await?;
        // As `acknowledged_by` and `resolved_by`: a staff member removed leaves the flag.
        // (Both engines add a column with its reference this way when its default is NULL.)
        manager
            .get_connection()
            .execute_unprepared(
                "ALTER TABLE flag ADD COLUMN raised_by BIGINT NULL \
                 REFERENCES staff_person (id) ON DELETE SET NULL",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in ["raised_by", "note"] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Alias::new("flag"))
                        .drop_column(Alias::new(column))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
