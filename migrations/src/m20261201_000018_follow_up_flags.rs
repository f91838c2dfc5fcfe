//! Flags the server raises by itself (a patient inactive, homework overdue, a message
//! unanswered) and the escalation of urgent flags nobody acknowledged.
//!
//! A flag not raised by an answer is unique per (enrolment, reason) while it is open: two
//! instances sweeping at once, or a sweep retried, raise it once. When an unacknowledged urgent
//! flag was escalated to the unit's patient administrators is kept on the flag, which is how an
//! escalation is sent once.

use crate::dsl::*;
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261201_000018_follow_up_flags"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("flag")
                    .add_column(instant_null("escalated_at"))
                    .take(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX IF NOT EXISTS ux_flag_open_reason \
                 ON flag (enrolment_id, reason) \
                 WHERE response_id IS NULL AND resolved_at IS NULL",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP INDEX IF EXISTS ux_flag_open_reason")
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("flag")
                    .drop_column(Alias::new("escalated_at"))
                    .take(),
            )
            .await
    }
}
