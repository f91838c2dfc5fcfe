//! Care events: what a therapist's live dashboard hears of.
//!
//! A row per change that a dashboard shows (an answer submitted, a flag raised or handled, a
//! message, homework, feedback, an enrolment), written in the same transaction as the change.
//! It holds no clinical content: the unit and sandbox it belongs to (the scope a stream reads
//! within), a kind code and the enrolment. Streams resume at `id > last`, so no event is lost
//! across a reconnect or an instance; old rows are pruned.

use crate::dsl::OnDelete::Cascade;
use crate::dsl::*;
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261201_000017_care_events"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let tables = vec![
            table("care_event")
                .col(id_ref("care_unit_id"))
                .col(id_ref_null("sandbox_id"))
                .col(short("kind", 16))
                .col(id_ref("enrolment_id"))
                .col(instant("created_at"))
                .foreign_key(&mut fk("care_event", "care_unit_id", "care_unit", Cascade))
                .foreign_key(&mut fk("care_event", "sandbox_id", "demo_sandbox", Cascade))
                .foreign_key(&mut fk("care_event", "enrolment_id", "enrolment", Cascade))
                .take(),
        ];
        let indexes = vec![
            index("care_event", &["care_unit_id", "id"], false),
            index("care_event", &["created_at"], false),
            index("care_event", &["enrolment_id"], false),
        ];
        create_all(manager, tables, indexes).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_all(manager, &["care_event"]).await
    }
}
