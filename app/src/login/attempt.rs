//! Login attempts: from the redirect to the identity provider until a session exists.
//!
//! An attempt is bound to the browser that started it (the `__Host-` login cookie), used once
//! (taking it for the provider's answer is a conditional update that only one request wins),
//! and lives ten minutes.

use super::LOGIN_COOKIE;
use crate::auth::UserKind;
use crate::auth::session::{hash_token, new_token};
use crate::db::entities::login_attempt;
use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter,
    sea_query::{Expr, StringLen},
};

/// How long a person has to finish signing in at the identity provider and pick an assignment.
pub const LIFETIME: Duration = Duration::minutes(10);

/// Where an attempt stands. Stored in `login_attempt.stage` as its code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sea_orm::EnumIter, sea_orm::DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum Stage {
    /// Sent to the identity provider; its answer is awaited.
    #[sea_orm(string_value = "redirected")]
    Redirected,
    /// The answer was taken (once).
    #[sea_orm(string_value = "taken")]
    Taken,
    /// A staff member is choosing an assignment.
    #[sea_orm(string_value = "choosing")]
    Choosing,
}

const REDIRECTED: Stage = Stage::Redirected;
const TAKEN: Stage = Stage::Taken;
const CHOOSING: Stage = Stage::Choosing;

/// What the authorization request carried, kept to check the answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Secrets {
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
}

/// The login cookie's value in these headers, if it is well-formed.
pub fn token_from_headers(headers: &http::HeaderMap) -> Option<String> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| {
            let value = c.trim().strip_prefix(LOGIN_COOKIE)?.strip_prefix('=')?;
            Some(value.to_owned())
        })
        .filter(|v| v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The `Set-Cookie` value that hands the browser its login token.
pub fn cookie(token: &str) -> String {
    format!(
        "{LOGIN_COOKIE}={token}; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age={}",
        LIFETIME.num_seconds()
    )
}

/// The `Set-Cookie` value that makes the browser forget its login token.
pub fn clear_cookie() -> String {
    format!("{LOGIN_COOKIE}=; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=0")
}

/// Records a new attempt and returns the browser's token.
pub async fn begin(
    db: &impl ConnectionTrait,
    kind: UserKind,
    secrets: &Secrets,
    now: DateTime<Utc>,
) -> Result<String, DbErr> {
    let token = new_token()?;
    login_attempt::Entity::insert(login_attempt::ActiveModel {
        token_hash: Set(hash_token(&token)),
        kind: Set(kind),
        stage: Set(REDIRECTED),
        state: Set(secrets.state.clone()),
        nonce: Set(secrets.nonce.clone()),
        pkce_verifier: Set(secrets.pkce_verifier.clone()),
        created_at: Set(now),
        expires_at: Set(now + LIFETIME),
        ..Default::default()
    })
    .exec(db)
    .await?;
    Ok(token)
}

/// Takes the attempt of `token` for the provider's answer: only once, only for `kind`, only
/// before it expires. Returns the secrets to check the answer against.
pub async fn take(
    db: &impl ConnectionTrait,
    token: &str,
    kind: UserKind,
    now: DateTime<Utc>,
) -> Result<Option<(i64, Secrets)>, DbErr> {
    let Some(row) = login_attempt::Entity::find()
        .filter(login_attempt::Column::TokenHash.eq(hash_token(token)))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    if row.kind != kind || row.stage != REDIRECTED || row.expires_at <= now {
        return Ok(None);
    }
    let won = login_attempt::Entity::update_many()
        .col_expr(login_attempt::Column::Stage, Expr::value(TAKEN))
        .filter(login_attempt::Column::Id.eq(row.id))
        .filter(login_attempt::Column::Stage.eq(REDIRECTED))
        .exec(db)
        .await?
        .rows_affected
        == 1;
    let secrets = Secrets {
        state: row.state,
        nonce: row.nonce,
        pkce_verifier: row.pkce_verifier,
    };
    Ok(won.then_some((row.id, secrets)))
}

/// A staff member signed in and now picks one of `offered`. The protocol secrets are wiped.
pub async fn await_choice(
    db: &impl ConnectionTrait,
    id: i64,
    staff_person_id: i64,
    offered: &[i64],
) -> Result<(), DbErr> {
    let offered = offered
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(",");
    login_attempt::Entity::update_many()
        .col_expr(login_attempt::Column::Stage, Expr::value(CHOOSING))
        .col_expr(login_attempt::Column::State, Expr::value(""))
        .col_expr(login_attempt::Column::Nonce, Expr::value(""))
        .col_expr(login_attempt::Column::PkceVerifier, Expr::value(""))
        .col_expr(
            login_attempt::Column::StaffPersonId,
            Expr::value(staff_person_id),
        )
        .col_expr(login_attempt::Column::Offered, Expr::value(offered))
        .filter(login_attempt::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// A staff login waiting at the assignment picker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    pub id: i64,
    pub staff_person_id: i64,
    pub offered: Vec<i64>,
}

/// The attempt of `token` if it waits for an assignment choice and has not expired.
pub async fn choosing(
    db: &impl ConnectionTrait,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Option<Pending>, DbErr> {
    let row = login_attempt::Entity::find()
        .filter(login_attempt::Column::TokenHash.eq(hash_token(token)))
        .filter(login_attempt::Column::Stage.eq(CHOOSING))
        .filter(login_attempt::Column::ExpiresAt.gt(now))
        .one(db)
        .await?;
    Ok(row.and_then(|row| {
        Some(Pending {
            id: row.id,
            staff_person_id: row.staff_person_id?,
            offered: row
                .offered
                .unwrap_or_default()
                .split(',')
                .filter_map(|id| id.parse().ok())
                .collect(),
        })
    }))
}

/// Ends an attempt (it succeeded or failed).
pub async fn finish(db: &impl ConnectionTrait, id: i64) -> Result<(), DbErr> {
    login_attempt::Entity::delete_by_id(id).exec(db).await?;
    Ok(())
}

/// Ends the attempt of `token`, whatever its stage.
pub async fn finish_token(db: &impl ConnectionTrait, token: &str) -> Result<(), DbErr> {
    login_attempt::Entity::delete_many()
        .filter(login_attempt::Column::TokenHash.eq(hash_token(token)))
        .exec(db)
        .await?;
    Ok(())
}

/// Deletes attempts nobody finished.
pub async fn delete_expired(db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<u64, DbErr> {
    Ok(login_attempt::Entity::delete_many()
        .filter(login_attempt::Column::ExpiresAt.lte(now))
        .exec(db)
        .await?
        .rows_affected)
}
