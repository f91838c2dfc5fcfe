//! The head of the real-care chain of the access log, found by an index of its own.
//!
//! Every append first reads the newest row of its chain (`WHERE sandbox_id IS NULL ORDER BY id
//! DESC LIMIT 1`), one at a time. With statistics taken while the log held few real-care rows,
//! PostgreSQL estimated a handful where there were 20,000, read them all and sorted them: 8 ms
//! a look-up, and each append waited for the one before (`cargo bench --bench live`: a
//! refetch of 1,000 dashboards took 35 s). An index holding only that chain, in id order, is
//! the cheapest plan whatever the statistics say.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261202_000025_log_head_index"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE INDEX ix_access_log_real_chain ON access_log (id) WHERE sandbox_id IS NULL",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP INDEX ix_access_log_real_chain")
            .await?;
        Ok(())
    }
}
