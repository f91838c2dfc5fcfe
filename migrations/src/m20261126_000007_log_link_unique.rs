//! The access log's chains cannot fork: no two rows of the same chain (real care, or one demo
//! sandbox) may link to the same previous hash. Appends no longer need a lock held across a
//! transaction; a writer that loses a race is refused here, reads the new head and retries.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261126_000007_log_link_unique"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Sandbox ids start at 1: 0 stands for the real-care chain (NULL would never clash).
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX ux_access_log_link \
                 ON access_log ((COALESCE(sandbox_id, 0)), prev_hash)",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP INDEX ux_access_log_link")
            .await?;
        Ok(())
    }
}
