//! A patient's own contact details for notifications. An address the patient gives is taken
//! only once they confirm it with a code sent to it: six digits, kept salted and hashed, valid
//! for [`CODE_VALID`], five wrong tries at most, [`CODES_PER_HOUR`] new codes an hour. Consent
//! per channel can be turned off at any time, and on only for an address on record.

use super::Channel;
use crate::auth::scope::OwnCare;
use crate::db::statement;
use crate::error::{AppError, invalid};
use chrono::{DateTime, Duration, Utc};
use sea_orm::{ConnectionTrait, TransactionTrait};
use sha2::{Digest, Sha256};

pub const CODE_VALID: Duration = Duration::minutes(15);
pub const CODES_PER_HOUR: i64 = 3;
pub const CODES_PER_DAY: i64 = 10;
pub const TRIES_PER_CODE: i32 = 5;

/// The text that carries a code: nothing else in it.
pub fn code_text(code: &str) -> String {
    // Lines short enough to be sent as written (8bit).
    format!(
        "Din kod till Lotsen: {code}\nKoden gäller i 15 minuter.\n\n\
         Your code for Lotsen: {code}\nThe code is valid for 15 minutes.\n\n\
         Bad du inte om en kod kan du bortse från det här meddelandet.\n\
         If you did not ask for a code, you can ignore this message.\n"
    )
}

/// The SMS that carries a code.
pub fn code_sms(code: &str) -> String {
    format!("Din kod till Lotsen: {code} (gäller i 15 minuter). Your code for Lotsen.")
}

pub const CODE_SUBJECT: &str = "Din kod till Lotsen / Your code for Lotsen";

/// The field a channel's address is entered in.
fn field(channel: Channel) -> &'static str {
    match channel {
        Channel::Email => "email",
        Channel::Sms => "phone",
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn hashed(salt: &str, code: &str) -> String {
    hex(&Sha256::digest(format!("{salt}:{code}").as_bytes()))
}

/// Six digits, uniformly drawn.
fn six_digits() -> Result<String, AppError> {
    loop {
        let mut bytes = [0u8; 4];
        getrandom::fill(&mut bytes).map_err(|_| AppError::Unavailable)?;
        let n = u32::from_le_bytes(bytes);
        // Below the largest multiple of a million, so that every code is equally likely.
        if n < 4_294_000_000 {
            return Ok(format!("{:06}", n % 1_000_000));
        }
    }
}

/// How many codes were made since a time: for the patient, or to an address (any patient).
async fn codes_since(
    db: &impl ConnectionTrait,
    column: &str,
    value: sea_orm::Value,
    since: DateTime<Utc>,
) -> Result<i64, AppError> {
    let row = db
        .query_one(statement(
            db,
            &format!(
                "SELECT COUNT(*) AS n FROM contact_code WHERE {column} = $1 AND created_at > $2"
            ),
            vec![value, since.into()],
        ))
        .await?;
    Ok(row
        .map(|r| r.try_get::<i64>("", "n"))
        .transpose()?
        .unwrap_or(0))
}

/// A code made for an address, to be sent to it.
#[derive(Debug)]
pub struct NewCode {
    pub id: i64,
    /// The address as it will be stored.
    pub address: String,
    pub code: String,
}

/// A new code for an address the patient gave: checked, rate-limited (per patient, and per
/// address so that nobody's mailbox can be filled from several accounts), stored hashed; an
/// earlier unused code for the channel stops working. The counting and the insert are one
/// transaction that holds the patient's row, so requests at once cannot slip past the limit.
pub async fn new_code<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    own: &OwnCare,
    channel: Channel,
    address: &str,
    now: DateTime<Utc>,
) -> Result<NewCode, AppError> {
    if own.sandbox_id().is_some() {
        return Err(invalid(field(channel), "not_in_demo"));
    }
    let address = match channel {
        Channel::Email => crate::clinic::enrol::check_email(address)?,
        Channel::Sms => crate::clinic::enrol::check_phone(address)?,
    };
    let code = six_digits()?;
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|_| AppError::Unavailable)?;
    let salt = hex(&salt);
    let txn = crate::db::begin_write(db).await?;
    if txn.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
        txn.execute(statement(
            &txn,
            "SELECT id FROM patient WHERE id = $1 FOR UPDATE",
            vec![own.patient_id().into()],
        ))
        .await?;
    }
    let patient = || own.patient_id().into();
    let limited = codes_since(&txn, "patient_id", patient(), now - Duration::hours(1)).await?
        >= CODES_PER_HOUR
        || codes_since(&txn, "patient_id", patient(), now - Duration::days(1)).await?
            >= CODES_PER_DAY
        || codes_since(
            &txn,
            "address",
            address.clone().into(),
            now - Duration::days(1),
        )
        .await?
            >= CODES_PER_DAY;
    if limited {
        txn.rollback().await?;
        return Err(invalid(field(channel), "too_many_codes"));
    }
    void(&txn, own, channel, now).await?;
    let id = txn
        .query_one(statement(
            &txn,
            "INSERT INTO contact_code (patient_id, channel, address, code_hash, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            vec![
                own.patient_id().into(),
                channel.code().into(),
                address.clone().into(),
                format!("{salt}${}", hashed(&salt, &code)).into(),
                now.into(),
                (now + CODE_VALID).into(),
            ],
        ))
        .await?
        .ok_or(AppError::Unavailable)?
        .try_get("", "id")?;
    txn.commit().await?;
    Ok(NewCode { id, address, code })
}

/// Confirms the latest code for the channel: the address is stored and notifications over the
/// channel are turned on. Every try is counted first, in one statement, so tries at once cannot
/// get past the limit; an expired, spent or exhausted code is refused.
pub async fn confirm<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    own: &OwnCare,
    channel: Channel,
    code: &str,
    now: DateTime<Utc>,
) -> Result<String, AppError> {
    let code = code.trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid("code", "code_malformed"));
    }
    let row = db
        .query_one(statement(
            db,
            "SELECT id, address, code_hash, attempts, expires_at FROM contact_code \
             WHERE patient_id = $1 AND channel = $2 AND used_at IS NULL \
             ORDER BY id DESC LIMIT 1",
            vec![own.patient_id().into(), channel.code().into()],
        ))
        .await?
        .ok_or_else(|| invalid("code", "code_expired"))?;
    let id: i64 = row.try_get("", "id")?;
    let counted = db
        .execute(statement(
            db,
            "UPDATE contact_code SET attempts = attempts + 1 \
             WHERE id = $1 AND used_at IS NULL AND attempts < $2 AND expires_at > $3",
            vec![id.into(), TRIES_PER_CODE.into(), now.into()],
        ))
        .await?;
    if counted.rows_affected() != 1 {
        let expires: DateTime<Utc> = row.try_get("", "expires_at")?;
        let reason = if expires <= now {
            "code_expired"
        } else {
            "code_too_many_tries"
        };
        return Err(invalid("code", reason));
    }
    let stored: String = row.try_get("", "code_hash")?;
    let (salt, hash) = stored.split_once('$').ok_or(AppError::Unavailable)?;
    // Compared in constant time.
    let given = hashed(salt, code);
    let same = given.len() == hash.len()
        && given
            .bytes()
            .zip(hash.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    if !same {
        return Err(invalid("code", "code_wrong"));
    }
    let address: String = row.try_get("", "address")?;
    let txn = db.begin().await?;
    let spent = txn
        .execute(statement(
            &txn,
            "UPDATE contact_code SET used_at = $1 WHERE id = $2 AND used_at IS NULL",
            vec![now.into(), id.into()],
        ))
        .await?;
    if spent.rows_affected() != 1 {
        txn.rollback().await?;
        return Err(invalid("code", "code_expired"));
    }
    let sql = match channel {
        Channel::Email => "UPDATE patient SET email = $1, notify_by_email = TRUE WHERE id = $2",
        Channel::Sms => "UPDATE patient SET phone = $1, notify_by_sms = TRUE WHERE id = $2",
    };
    txn.execute(statement(
        &txn,
        sql,
        vec![address.clone().into(), own.patient_id().into()],
    ))
    .await?;
    txn.commit().await?;
    Ok(address)
}

/// Turns notifications per channel on or off; on only for a channel with an address on record.
pub async fn set_consent(
    db: &impl ConnectionTrait,
    own: &OwnCare,
    by_email: bool,
    by_sms: bool,
) -> Result<(), AppError> {
    if own.sandbox_id().is_some() {
        return Err(invalid("notify_by_email", "not_in_demo"));
    }
    let person = own.person(db).await?.ok_or(AppError::NotFound)?;
    let has = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.trim().is_empty());
    if by_email && !has(&person.email) {
        return Err(invalid("notify_by_email", "no_address"));
    }
    if by_sms && !has(&person.phone) {
        return Err(invalid("notify_by_sms", "no_address"));
    }
    db.execute(statement(
        db,
        "UPDATE patient SET notify_by_email = $1, notify_by_sms = $2 WHERE id = $3",
        vec![by_email.into(), by_sms.into(), own.patient_id().into()],
    ))
    .await?;
    Ok(())
}

/// The addresses waiting for their code now: (`email` or `sms`, the address).
pub async fn waiting(
    db: &impl ConnectionTrait,
    own: &OwnCare,
    now: DateTime<Utc>,
) -> Result<Vec<(String, String)>, AppError> {
    let rows = db
        .query_all(statement(
            db,
            "SELECT channel, address FROM contact_code WHERE patient_id = $1 \
             AND used_at IS NULL AND expires_at > $2 AND attempts < $3 ORDER BY channel",
            vec![own.patient_id().into(), now.into(), TRIES_PER_CODE.into()],
        ))
        .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("", "channel")?, r.try_get("", "address")?)))
        .collect()
}

/// Spends one code (it could not be sent).
pub async fn spend(db: &impl ConnectionTrait, id: i64, now: DateTime<Utc>) -> Result<(), AppError> {
    db.execute(statement(
        db,
        "UPDATE contact_code SET used_at = $1 WHERE id = $2 AND used_at IS NULL",
        vec![now.into(), id.into()],
    ))
    .await?;
    Ok(())
}

/// Spends the channel's waiting code (a new one replaces it).
pub async fn void(
    db: &impl ConnectionTrait,
    own: &OwnCare,
    channel: Channel,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    db.execute(statement(
        db,
        "UPDATE contact_code SET used_at = $1 \
         WHERE patient_id = $2 AND channel = $3 AND used_at IS NULL",
        vec![now.into(), own.patient_id().into(), channel.code().into()],
    ))
    .await?;
    Ok(())
}
