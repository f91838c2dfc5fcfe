//! Database migrations for Lotsen. They run on SQLite and on PostgreSQL.
//!
//! One file per migration, named `mYYYYMMDD_HHMMSS_what.rs`. A published migration is never
//! edited: later features add new migrations (columns, tables), not rewrites.

pub use sea_orm_migration::prelude::*;

mod dsl;
mod m20261125_000001_organisations_and_people;
mod m20261125_000002_programs;
mod m20261125_000003_care_delivery;
mod m20261125_000004_platform;
mod m20261126_000005_identity;
mod m20261126_000006_login;
mod m20261126_000007_log_link_unique;
mod m20261126_000008_program_content;
mod m20261129_000009_emergency_grant;
mod m20261129_000010_sandbox_log_deletion;
mod m20261129_000011_stored_codes;
mod m20261130_000012_care_records;
mod m20261130_000013_homework_and_feedback;
mod m20261130_000014_notifications;
mod m20261130_000015_due_forms;
mod m20261130_000016_test_enrolments;
mod m20261201_000017_care_events;
mod m20261201_000018_follow_up_flags;
mod m20261201_000019_treatment_end;
mod m20261201_000020_care_notes;
mod m20261201_000021_module_overrides;
mod m20261202_000022_extra_forms;
mod m20261202_000023_handovers;
mod m20261202_000024_auth_changes;
mod m20261202_000025_log_head_index;
mod m20261203_000026_manual_flags;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261125_000001_organisations_and_people::Migration),
            Box::new(m20261125_000002_programs::Migration),
            Box::new(m20261125_000003_care_delivery::Migration),
            Box::new(m20261125_000004_platform::Migration),
            Box::new(m20261126_000005_identity::Migration),
            Box::new(m20261126_000006_login::Migration),
            Box::new(m20261126_000007_log_link_unique::Migration),
            Box::new(m20261126_000008_program_content::Migration),
            Box::new(m20261129_000009_emergency_grant::Migration),
            Box::new(m20261129_000010_sandbox_log_deletion::Migration),
            Box::new(m20261129_000011_stored_codes::Migration),
            Box::new(m20261130_000012_care_records::Migration),
            Box::new(m20261130_000013_homework_and_feedback::Migration),
            Box::new(m20261130_000014_notifications::Migration),
            Box::new(m20261130_000015_due_forms::Migration),
            Box::new(m20261130_000016_test_enrolments::Migration),
            Box::new(m20261201_000017_care_events::Migration),
            Box::new(m20261201_000018_follow_up_flags::Migration),
            Box::new(m20261201_000019_treatment_end::Migration),
            Box::new(m20261201_000020_care_notes::Migration),
            Box::new(m20261201_000021_module_overrides::Migration),
            Box::new(m20261202_000022_extra_forms::Migration),
            Box::new(m20261202_000023_handovers::Migration),
            Box::new(m20261202_000024_auth_changes::Migration),
            Box::new(m20261202_000025_log_head_index::Migration),
            Box::new(m20261203_000026_manual_flags::Migration),
        ]
    }
}
