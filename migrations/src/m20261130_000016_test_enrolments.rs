//! Test enrolments: a producer or publisher walks a draft or a version as a patient would.
//!
//! `enrolment.test_by_staff_id` marks an enrolment as a test, made by and for that staff
//! member (one per version and unit): it keeps the enrolment out of the care team's lists and
//! records, the due-form sweep, notifications, catalogue upgrades and the public figures. Its patient is a test patient of
//! the same staff member (a `patient` row whose personal identity number is `T` and the staff
//! member's id, which no real number can equal). Deleting the staff member deletes their tests.
//!
//! `user_session.test_enrolment_id` binds a staff member's session to one of their test
//! enrolments: while it is set, the session's principal reaches that one enrolment the way a
//! patient reaches their own, and nothing else of any patient. It is cleared when the test
//! enrolment goes (a reset starts over with a new one).

use crate::dsl::*;
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261130_000016_test_enrolments"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        // Plain SQL: both engines add a column with a reference this way (SQLite only when
        // its default is NULL, as here).
        db.execute_unprepared(
            "ALTER TABLE enrolment ADD COLUMN test_by_staff_id BIGINT NULL \
             REFERENCES staff_person (id) ON DELETE CASCADE",
        )
        .await?;
        db.execute_unprepared(
            "ALTER TABLE user_session ADD COLUMN test_enrolment_id BIGINT NULL \
             REFERENCES enrolment (id) ON DELETE SET NULL",
        )
        .await?;
        manager
            .create_index(index("enrolment", &["test_by_staff_id"], false))
            .await?;
        // One test of a version per staff member and unit, whatever two clicks at once do.
        db.execute_unprepared(
            "CREATE UNIQUE INDEX IF NOT EXISTS ux_enrolment_test \
             ON enrolment (test_by_staff_id, program_version_id, care_unit_id) \
             WHERE test_by_staff_id IS NOT NULL",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared("ALTER TABLE user_session DROP COLUMN test_enrolment_id")
            .await?;
        db.execute_unprepared("DELETE FROM enrolment WHERE test_by_staff_id IS NOT NULL")
            .await?;
        db.execute_unprepared("DROP INDEX IF EXISTS ux_enrolment_test")
            .await?;
        // SQLite drops a column only once no index names it.
        manager
            .drop_index(
                Index::drop()
                    .name("ix_enrolment_test_by_staff_id")
                    .table("enrolment")
                    .to_owned(),
            )
            .await?;
        db.execute_unprepared("ALTER TABLE enrolment DROP COLUMN test_by_staff_id")
            .await?;
        Ok(())
    }
}
