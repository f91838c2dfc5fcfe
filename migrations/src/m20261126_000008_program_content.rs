//! A program version holds its content as one document (the JSON of `app::programs::Program`):
//! the draft the design tool edits and, once published, the frozen version that is delivered,
//! hashed and exported. `revision` counts a draft's saves, so that two editors cannot
//! overwrite each other unseen: a save names the revision it started from.

use crate::dsl::*;
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261126_000008_program_content"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite adds columns one at a time.
        for column in [json_text_null("content"), int("revision").default(0).take()] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Alias::new("program_version"))
                        .add_column(column)
                        .take(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in ["revision", "content"] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Alias::new("program_version"))
                        .drop_column(Alias::new(column))
                        .take(),
                )
                .await?;
        }
        Ok(())
    }
}
