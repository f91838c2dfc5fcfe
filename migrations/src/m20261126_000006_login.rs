//! Sign-in through OpenID Connect: a login attempt lives from the redirect to the identity
//! provider until a session exists (or the attempt fails or expires after ten minutes).
//!
//! The browser holds a random token in a `__Host-` cookie; the row holds its sha256, the
//! `state`, `nonce` and PKCE verifier sent with the authorization request, and, for staff who
//! still have to pick an assignment, the person and the assignments offered.

use crate::dsl::{OnDelete::*, *};
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261126_000006_login"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let tables = vec![
            table("login_attempt")
                .col(short("token_hash", 64))
                // "patient" or "staff".
                .col(short("kind", 16))
                // "redirected" until the provider answers, then "choosing" (staff only).
                .col(short("stage", 16))
                .col(short("state", 128))
                .col(short("nonce", 128))
                .col(short("pkce_verifier", 128))
                .col(id_ref_null("staff_person_id"))
                // Comma-separated staff_assignment ids the person may choose from.
                .col(long_null("offered"))
                .col(created_at())
                .col(instant("expires_at"))
                .foreign_key(&mut fk(
                    "login_attempt",
                    "staff_person_id",
                    "staff_person",
                    Cascade,
                ))
                .take(),
        ];
        let indexes = vec![
            index("login_attempt", &["token_hash"], true),
            index("login_attempt", &["expires_at"], false),
        ];
        create_all(manager, tables, indexes).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_all(manager, &["login_attempt"]).await
    }
}
