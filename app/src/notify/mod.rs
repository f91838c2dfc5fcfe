//! Notifications: "there is something new for you in Lotsen", by e-mail or SMS.
//!
//! A notification never carries anything clinical: each kind has one fixed text, the same bytes
//! for every recipient apart from the link, with no unit, program or clinical word (a mailbox or
//! a phone is often shared). It is written to the outbox (`notification`) in the same
//! transaction as the event that caused it, so it is sent if and only if the event happened.
//! The outbox holds the kind only; the address is read when it is sent, so a withdrawn consent
//! or changed number is respected.
//!
//! Rules kept here and by the sender (`lotsen_server::notify`):
//! - a patient gets them over the channels they consented to (`notify_by_email`,
//!   `notify_by_sms`) with an address on record; a staff member by e-mail;
//! - nothing for anyone in a demo sandbox;
//! - at most one waiting per recipient and channel (a unique index): a second event before it
//!   is sent adds nothing, since the text only says to sign in;
//! - at most one sent per recipient and channel in [`MIN_GAP`];
//! - none in the quiet hours of the night (Swedish time), which the sender keeps.

pub mod contact;

use crate::db::statement;
use chrono::{DateTime, Duration, Utc};
use sea_orm::{ConnectionTrait, DbErr};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// Sends a confirmation code at once. Not through the outbox: the patient is waiting for it,
/// and the code is kept nowhere in clear. The server provides one (as [`CodeSender`] in the
/// context) in real mode when e-mail or SMS is configured; without it no address can be
/// confirmed.
pub trait SendCode: Send + Sync {
    fn send_code<'a>(
        &'a self,
        channel: Channel,
        address: &'a str,
        code: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<(), CodeNotSent>> + Send + 'a>>;
}

/// The mail server or gateway did not take a code (the server's log says why).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodeNotSent;

#[derive(Clone)]
pub struct CodeSender(pub Arc<dyn SendCode>);

/// At most one notification per recipient and channel in this time.
pub const MIN_GAP: Duration = Duration::hours(3);

/// The kinds of notification, each one fixed text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Template {
    /// A patient was enrolled: they can sign in (sent before the first sign-in).
    TreatmentStarted,
    /// Someone of the care team wrote to the patient.
    NewMessage,
    /// The therapist gave feedback on a module.
    NewFeedback,
    /// A form is due.
    FormDue,
    /// To staff: an urgent flag was raised for one of their patients.
    UrgentFlag,
    /// To a unit's patient administrators: an urgent flag was not acknowledged in time.
    FlagEscalated,
}

/// The subject of every e-mail to a patient: the same whatever happened.
pub const PATIENT_SUBJECT: &str = "Nytt i Lotsen / New in Lotsen";
/// The subject of every e-mail to staff.
pub const STAFF_SUBJECT: &str = "Lotsen: se dina flaggor / see your flags";

const NO_REPLY: &str = "Det här meddelandet går inte att svara på.\n\
Vid akut fara för liv eller hälsa: ring 112.\n\
This message cannot be answered.\n\
In an emergency, call 112.\n";

impl Template {
    pub const ALL: [Self; 6] = [
        Self::TreatmentStarted,
        Self::NewMessage,
        Self::NewFeedback,
        Self::FormDue,
        Self::UrgentFlag,
        Self::FlagEscalated,
    ];

    /// The code stored in the outbox.
    pub fn code(self) -> &'static str {
        match self {
            Self::TreatmentStarted => "treatment_started",
            Self::NewMessage => "new_message",
            Self::NewFeedback => "new_feedback",
            Self::FormDue => "form_due",
            Self::UrgentFlag => "urgent_flag",
            Self::FlagEscalated => "flag_escalated",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.code() == code)
    }

    /// Whether it goes to staff (else to a patient).
    pub fn to_staff(self) -> bool {
        matches!(self, Self::UrgentFlag | Self::FlagEscalated)
    }

    /// Where the link leads, below the public address.
    pub fn path(self) -> &'static str {
        if self.to_staff() {
            "/mottagning"
        } else {
            "/mina-sidor"
        }
    }

    /// The news in one line, Swedish and English.
    fn news(self) -> (&'static str, &'static str) {
        match self {
            Self::TreatmentStarted => (
                "Du har fått tillgång till Lotsen.",
                "You now have access to Lotsen.",
            ),
            Self::NewMessage => (
                "Du har ett nytt meddelande i Lotsen.",
                "You have a new message in Lotsen.",
            ),
            Self::NewFeedback => (
                "Du har fått återkoppling i Lotsen.",
                "You have received feedback in Lotsen.",
            ),
            Self::FormDue => (
                "Det finns något att fylla i i Lotsen.",
                "There is something to fill in in Lotsen.",
            ),
            Self::UrgentFlag => (
                "En av dina patienter i Lotsen har en ny brådskande flagga.",
                "One of your patients in Lotsen has a new urgent flag.",
            ),
            Self::FlagEscalated => (
                "En brådskande flagga i Lotsen har inte kvitterats i tid.",
                "An urgent flag in Lotsen was not acknowledged in time.",
            ),
        }
    }

    pub fn subject(self) -> &'static str {
        if self.to_staff() {
            STAFF_SUBJECT
        } else {
            PATIENT_SUBJECT
        }
    }

    /// The e-mail's text, with the link (the public address and [`Self::path`]).
    pub fn email(self, link: &str) -> String {
        let (sv, en) = self.news();
        format!(
            "Hej!\n\n{sv}\nLogga in för att läsa mer:\n{link}\n\n\
             Hello!\n\n{en}\nSign in to read more (the link above).\n\n{NO_REPLY}"
        )
    }

    /// The SMS text, with the link.
    pub fn sms(self, link: &str) -> String {
        let (sv, _) = self.news();
        format!("{sv} Logga in: {link}")
    }
}

/// E-mail or SMS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Channel {
    Email,
    Sms,
}

impl Channel {
    pub fn code(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Sms => "sms",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "email" => Some(Self::Email),
            "sms" => Some(Self::Sms),
            _ => None,
        }
    }
}

/// Who a notification is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Recipient {
    Patient(i64),
    Staff(i64),
}

impl Recipient {
    /// The outbox column that holds this recipient, and the id.
    fn column(self) -> (&'static str, i64) {
        match self {
            Self::Patient(id) => ("patient_id", id),
            Self::Staff(id) => ("staff_person_id", id),
        }
    }
}

/// The channels over which a recipient may be reached now, with their addresses: a patient's
/// consented channels with an address on record, a staff member's e-mail; nothing in a demo
/// sandbox.
pub async fn addresses(
    db: &impl ConnectionTrait,
    recipient: Recipient,
) -> Result<Vec<(Channel, String)>, DbErr> {
    let present = |v: Option<String>| v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    let mut out = Vec::new();
    match recipient {
        Recipient::Patient(id) => {
            let Some(row) = db
                .query_one(statement(
                    db,
                    &format!(
                        "SELECT email, phone, notify_by_email, notify_by_sms FROM patient \
                         WHERE id = $1 AND {}",
                        crate::db::filter::in_sandbox("", None)
                    ),
                    vec![id.into()],
                ))
                .await?
            else {
                return Ok(out);
            };
            if row.try_get::<bool>("", "notify_by_email")?
                && let Some(email) = present(row.try_get("", "email")?)
            {
                out.push((Channel::Email, email));
            }
            if row.try_get::<bool>("", "notify_by_sms")?
                && let Some(phone) = present(row.try_get("", "phone")?)
            {
                out.push((Channel::Sms, phone));
            }
        }
        Recipient::Staff(id) => {
            let row = db
                .query_one(statement(
                    db,
                    &format!(
                        "SELECT email FROM staff_person WHERE id = $1 AND {}",
                        crate::db::filter::in_sandbox("", None)
                    ),
                    vec![id.into()],
                ))
                .await?;
            if let Some(email) = row.map(|r| r.try_get("", "email")).transpose()?
                && let Some(email) = present(email)
            {
                out.push((Channel::Email, email));
            }
        }
    }
    Ok(out)
}

/// When the recipient was last sent a notification over the channel.
async fn last_sent(
    db: &impl ConnectionTrait,
    recipient: Recipient,
    channel: Channel,
) -> Result<Option<DateTime<Utc>>, DbErr> {
    let (column, id) = recipient.column();
    let row = db
        .query_one(statement(
            db,
            &format!(
                "SELECT sent_at FROM notification WHERE {column} = $1 AND channel = $2 \
                 AND sent_at IS NOT NULL ORDER BY sent_at DESC LIMIT 1"
            ),
            vec![id.into(), channel.code().into()],
        ))
        .await?;
    row.map(|r| r.try_get("", "sent_at")).transpose()
}

/// Puts a notification in the outbox for each channel the recipient can be reached over, unless
/// one is already waiting there. Call it inside the transaction of the event. Returns how many
/// rows were added.
pub async fn enqueue(
    db: &impl ConnectionTrait,
    recipient: Recipient,
    template: Template,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    debug_assert_eq!(
        template.to_staff(),
        matches!(recipient, Recipient::Staff(_))
    );
    let (column, id) = recipient.column();
    let mut added = 0;
    for (channel, _) in addresses(db, recipient).await? {
        let send_after = match last_sent(db, recipient, channel).await? {
            Some(last) if last + MIN_GAP > now => last + MIN_GAP,
            _ => now,
        };
        // One waiting per recipient and channel: a unique index refuses a second.
        added += db
            .execute(statement(
                db,
                &format!(
                    "INSERT INTO notification ({column}, channel, template, send_after, created_at) \
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING"
                ),
                vec![
                    id.into(),
                    channel.code().into(),
                    template.code().into(),
                    send_after.into(),
                    now.into(),
                ],
            ))
            .await?
            .rows_affected();
    }
    Ok(added)
}

/// Queues a notice that must not wait (an escalation): due now, whatever was sent in
/// [`MIN_GAP`], and a notice already waiting for the recipient on a channel takes its text
/// (both only say to sign in). How many channels it was queued on: 0 when the recipient has
/// no address.
pub async fn enqueue_now(
    db: &impl ConnectionTrait,
    recipient: Recipient,
    template: Template,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let (column, id) = recipient.column();
    let mut added = 0;
    for (channel, _) in addresses(db, recipient).await? {
        added += db
            .execute(statement(
                db,
                &format!(
                    "INSERT INTO notification ({column}, channel, template, send_after, created_at) \
                     VALUES ($1, $2, $3, $4, $5) \
                     ON CONFLICT ({column}, channel) \
                       WHERE sent_at IS NULL AND gave_up_at IS NULL AND {column} IS NOT NULL \
                     DO UPDATE SET template = excluded.template, send_after = excluded.send_after"
                ),
                vec![
                    id.into(),
                    channel.code().into(),
                    template.code().into(),
                    now.into(),
                    now.into(),
                ],
            ))
            .await?
            .rows_affected();
    }
    Ok(added)
}

/// A notification a sender has claimed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claimed {
    pub id: i64,
    pub recipient: Recipient,
    pub channel: Channel,
    pub template: Template,
    /// Tries made before this one.
    pub attempts: i32,
}

/// Claims up to `limit` notifications that are due and that no other sender holds, for
/// `lease`. On PostgreSQL rows another sender is claiming are skipped (`FOR UPDATE SKIP
/// LOCKED`); SQLite runs one write at a time. A row the sender does not finish (it stopped)
/// is claimed again once the lease has run out.
pub async fn claim(
    db: &impl ConnectionTrait,
    worker: &str,
    now: DateTime<Utc>,
    lease: Duration,
    limit: u32,
) -> Result<Vec<Claimed>, DbErr> {
    let skip_locked = match db.get_database_backend() {
        sea_orm::DbBackend::Postgres => "FOR UPDATE SKIP LOCKED",
        _ => "",
    };
    let rows = db
        .query_all(statement(
            db,
            &format!(
                "UPDATE notification SET claimed_by = $1, claimed_until = $2 \
                 WHERE id IN (SELECT id FROM notification \
                   WHERE sent_at IS NULL AND gave_up_at IS NULL AND send_after <= $3 \
                   AND (claimed_until IS NULL OR claimed_until < $3) \
                   ORDER BY send_after, id LIMIT $4 {skip_locked}) \
                 RETURNING id, patient_id, staff_person_id, channel, template, attempts"
            ),
            vec![
                worker.into(),
                (now + lease).into(),
                now.into(),
                i64::from(limit).into(),
            ],
        ))
        .await?;
    let mut claimed = Vec::with_capacity(rows.len());
    for row in rows {
        let patient: Option<i64> = row.try_get("", "patient_id")?;
        let staff: Option<i64> = row.try_get("", "staff_person_id")?;
        let recipient = match (patient, staff) {
            (Some(id), _) => Recipient::Patient(id),
            (None, Some(id)) => Recipient::Staff(id),
            (None, None) => continue,
        };
        let channel: String = row.try_get("", "channel")?;
        let template: String = row.try_get("", "template")?;
        let (Some(channel), Some(template)) =
            (Channel::from_code(&channel), Template::from_code(&template))
        else {
            continue;
        };
        claimed.push(Claimed {
            id: row.try_get("", "id")?,
            recipient,
            channel,
            template,
            attempts: row.try_get("", "attempts")?,
        });
    }
    claimed.sort_by_key(|c| c.id);
    Ok(claimed)
}

/// Extends this sender's claim on a row right before it is sent; `false` if the claim was lost
/// (it ran out and another sender took the row).
pub async fn renew(
    db: &impl ConnectionTrait,
    worker: &str,
    claimed: &Claimed,
    until: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let renewed = db
        .execute(statement(
            db,
            "UPDATE notification SET claimed_until = $1 \
             WHERE id = $2 AND claimed_by = $3 AND sent_at IS NULL AND gave_up_at IS NULL",
            vec![until.into(), claimed.id.into(), worker.into()],
        ))
        .await?;
    Ok(renewed.rows_affected() == 1)
}

/// What the sender does with a claimed notification.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The mail server or gateway took it.
    Sent,
    /// Not now: try again then (a failed try counts as an attempt, a postponement does not).
    Retry {
        at: DateTime<Utc>,
        error: Option<&'static str>,
    },
    /// Never: no address any more, or refused for good.
    GiveUp(&'static str),
}

/// The sender's decision before sending: the address to send to, or why not now. A
/// notification waits until [`MIN_GAP`] after the last one sent to the recipient over the
/// channel; it is given up if the recipient can no longer be reached over it.
pub async fn prepare(
    db: &impl ConnectionTrait,
    claimed: &Claimed,
    now: DateTime<Utc>,
) -> Result<Result<String, Outcome>, DbErr> {
    if let Some(last) = last_sent(db, claimed.recipient, claimed.channel).await?
        && last + MIN_GAP > now
    {
        return Ok(Err(Outcome::Retry {
            at: last + MIN_GAP,
            error: None,
        }));
    }
    let address = addresses(db, claimed.recipient)
        .await?
        .into_iter()
        .find_map(|(channel, address)| (channel == claimed.channel).then_some(address));
    Ok(address.ok_or(Outcome::GiveUp("no_address")))
}

/// Records the outcome of a claimed notification, if this sender still holds it. Returns
/// whether it did.
pub async fn finish(
    db: &impl ConnectionTrait,
    worker: &str,
    claimed: &Claimed,
    outcome: &Outcome,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let release = "claimed_by = NULL, claimed_until = NULL";
    let (set, values): (String, Vec<sea_orm::Value>) = match outcome {
        Outcome::Sent => (
            format!("sent_at = $3, attempts = attempts + 1, last_error = NULL, {release}"),
            vec![now.into()],
        ),
        Outcome::Retry { at, error: None } => {
            (format!("send_after = $3, {release}"), vec![(*at).into()])
        }
        Outcome::Retry {
            at,
            error: Some(error),
        } => (
            format!("send_after = $3, attempts = attempts + 1, last_error = $4, {release}"),
            vec![(*at).into(), (*error).into()],
        ),
        Outcome::GiveUp(error) => (
            format!("gave_up_at = $3, last_error = $4, {release}"),
            vec![now.into(), (*error).into()],
        ),
    };
    let mut all = vec![claimed.id.into(), worker.into()];
    all.extend(values);
    let done = db
        .execute(statement(
            db,
            &format!("UPDATE notification SET {set} WHERE id = $1 AND claimed_by = $2"),
            all,
        ))
        .await?;
    Ok(done.rows_affected() == 1)
}

/// How long to wait after `attempts` failed tries: `base` doubled each time, at most an hour.
pub fn backoff(base: std::time::Duration, attempts: i32) -> Duration {
    let base = Duration::from_std(base).unwrap_or(Duration::seconds(60));
    let factor = 1_i32 << attempts.clamp(0, 16);
    (base * factor).min(Duration::hours(1))
}

/// Tries before a notification is given up: with a minute's base, about a day and a half.
pub const MAX_ATTEMPTS: i32 = 40;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_text_is_fixed_apart_from_the_link_and_has_no_clinical_word() {
        let link = "https://lotsen.example/mina-sidor";
        for template in Template::ALL {
            let mail = template.email(link);
            assert_eq!(mail.matches(link).count(), 1, "{template:?}");
            assert_eq!(mail.replace(link, "LINK"), template.email("LINK"));
            assert!(template.sms(link).ends_with(link));
            assert!(template.sms(link).chars().count() <= 160);
            let lower = mail.to_lowercase();
            for word in [
                "behandling",
                "treatment",
                "program",
                "ångest",
                "depression",
                "sömn",
                "mottagning",
                "enhet",
                "skattning",
                "gad",
                "phq",
            ] {
                let without_link = lower.replace(&link.to_lowercase(), "");
                assert!(!without_link.contains(word), "{template:?} says {word}");
            }
            assert!(template.subject().is_ascii(), "an unencoded subject");
            // Short lines: sent as written (8bit), not re-encoded.
            for line in template.email("").lines() {
                assert!(line.len() < 70, "{template:?}: a long line: {line}");
            }
            assert_eq!(Template::from_code(template.code()), Some(template));
        }
    }

    #[test]
    fn retries_back_off_to_an_hour() {
        let minute = std::time::Duration::from_secs(60);
        assert_eq!(backoff(minute, 0), Duration::minutes(1));
        assert_eq!(backoff(minute, 3), Duration::minutes(8));
        assert_eq!(backoff(minute, 6), Duration::hours(1));
        assert_eq!(backoff(minute, 39), Duration::hours(1));
    }
}
