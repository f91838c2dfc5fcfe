//! Notifications: the outbox that a sender works through.
//!
//! Migration 000003 made `notification_outbox`, which nothing wrote to, without a way for one
//! sender among several to claim a row. It is replaced by `notification`: one row per message
//! to one recipient (a patient or a staff member) over one channel (e-mail or SMS). A row holds
//! the template's code only, never an address or any clinical word: the address is read when
//! the message is sent, so a changed or withdrawn contact is respected. A sender claims a row
//! for a while (`claimed_by`, `claimed_until`), marks it `sent_at` once the mail server or the
//! SMS gateway took it, or schedules a retry (`attempts`, `send_after`, `last_error`) and at
//! last gives up (`gave_up_at`).
//!
//! `contact_code` holds the codes that confirm an address a patient gave themselves: hashed
//! (salted SHA-256), valid for a short while, with the wrong tries counted.

use crate::dsl::{OnDelete::*, *};
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261130_000014_notifications"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_all(manager, &["notification_outbox"]).await?;
        let tables = vec![
            table("notification")
                .col(id_ref_null("patient_id"))
                .col(id_ref_null("staff_person_id"))
                .col(
                    short("channel", 8)
                        .check(codes("channel", &["email", "sms"]))
                        .take(),
                )
                .col(short("template", 32))
                .col(created_at())
                .col(instant("send_after"))
                .col(int("attempts").default(0).take())
                .col(short_null("claimed_by", 64))
                .col(instant_null("claimed_until"))
                .col(instant_null("sent_at"))
                .col(instant_null("gave_up_at"))
                // What went wrong the last time, as a kind ("connect", "timeout"…): never an
                // address or a server's reply, which may quote one.
                .col(short_null("last_error", 200))
                .foreign_key(&mut fk("notification", "patient_id", "patient", Cascade))
                .foreign_key(&mut fk(
                    "notification",
                    "staff_person_id",
                    "staff_person",
                    Cascade,
                ))
                .take(),
            table("contact_code")
                .col(id_ref("patient_id"))
                .col(
                    short("channel", 8)
                        .check(codes("channel", &["email", "sms"]))
                        .take(),
                )
                .col(short("address", 254))
                .col(short("code_hash", 160))
                .col(created_at())
                .col(instant("expires_at"))
                .col(int("attempts").default(0).take())
                .col(instant_null("used_at"))
                .foreign_key(&mut fk("contact_code", "patient_id", "patient", Cascade))
                .take(),
        ];
        let indexes = vec![
            index("contact_code", &["patient_id", "created_at"], false),
            index("notification", &["patient_id", "channel"], false),
            index("notification", &["staff_person_id", "channel"], false),
        ];
        create_all(manager, tables, indexes).await?;
        let db = manager.get_connection();
        // What the senders look for: rows still to send, by when.
        db.execute_unprepared(
            "CREATE INDEX IF NOT EXISTS ix_notification_pending ON notification (send_after) \
             WHERE sent_at IS NULL AND gave_up_at IS NULL",
        )
        .await?;
        // At most one waiting per recipient and channel.
        for column in ["patient_id", "staff_person_id"] {
            db.execute_unprepared(&format!(
                "CREATE UNIQUE INDEX IF NOT EXISTS ux_notification_waiting_{column} \
                 ON notification ({column}, channel) \
                 WHERE sent_at IS NULL AND gave_up_at IS NULL AND {column} IS NOT NULL"
            ))
            .await?;
        }
        // Exactly one recipient.
        db.execute_unprepared(match manager.get_database_backend() {
            sea_orm_migration::sea_orm::DatabaseBackend::Postgres => {
                "ALTER TABLE notification ADD CONSTRAINT ck_notification_one_recipient \
                 CHECK ((patient_id IS NULL) <> (staff_person_id IS NULL))"
            }
            // SQLite cannot add a constraint to a table: a trigger refuses the row instead.
            _ => {
                "CREATE TRIGGER IF NOT EXISTS tr_notification_one_recipient \
                 BEFORE INSERT ON notification \
                 WHEN (NEW.patient_id IS NULL) = (NEW.staff_person_id IS NULL) \
                 BEGIN SELECT RAISE(ABORT, 'a notification has exactly one recipient'); END"
            }
        })
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_all(manager, &["contact_code", "notification"]).await
    }
}
