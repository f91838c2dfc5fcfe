//! On PostgreSQL the server may run as a role that can only insert into and read the access
//! log (see `lotsen migrate --runtime-role`). A demo sandbox's own chain must still go with the
//! sandbox: this function, owned by the migrating role and run with its rights, deletes one
//! sandbox's rows and nothing else. Real-care rows stay append-only (the trigger refuses them).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261129_000010_sandbox_log_deletion"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            let db = manager.get_connection();
            db.execute_unprepared(
                "CREATE OR REPLACE FUNCTION lotsen_delete_sandbox_log(sandbox bigint)
                 RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER
                 SET search_path = pg_catalog, public, pg_temp AS $$
                 DECLARE deleted bigint;
                 BEGIN
                   IF sandbox IS NULL THEN
                     RAISE EXCEPTION 'real-care rows of the access log are never deleted';
                   END IF;
                   DELETE FROM public.access_log WHERE sandbox_id = sandbox;
                   GET DIAGNOSTICS deleted = ROW_COUNT;
                   RETURN deleted;
                 END;
                 $$;",
            )
            .await?;
            db.execute_unprepared(
                "REVOKE ALL ON FUNCTION lotsen_delete_sandbox_log(bigint) FROM PUBLIC",
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared("DROP FUNCTION IF EXISTS lotsen_delete_sandbox_log(bigint)")
                .await?;
        }
        Ok(())
    }
}
