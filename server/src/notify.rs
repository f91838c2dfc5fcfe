//! The notification sender: works through the outbox (`app::notify`), e-mail over SMTP and SMS
//! through an HTTP gateway. Any number of senders may run at once (`serve` runs one in real
//! mode, `lotsen notify` runs one alone): each claims rows for a while, so a row goes out once,
//! and a row whose sender stopped is taken up again when its claim runs out.
//!
//! A try that fails for a passing reason (the mail server is down, a timeout, a 5xx) is tried
//! again later, each wait twice the last (at most an hour); a refusal for good (a 5xx SMTP
//! reply, a 4xx from the gateway, an address that cannot be one) gives the row up. Nothing is
//! sent in the quiet hours. The log names a notification by id, channel and kind, never an
//! address.

use app::domain::time::QuietHours;
use app::notify::{self, Channel, Claimed, Outcome};
use chrono::Utc;
use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Body, Mailbox};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sea_orm::{DatabaseConnection, DbErr};
use std::time::Duration;

/// How long a sender holds the rows it claimed.
const LEASE: chrono::Duration = chrono::Duration::minutes(5);
/// Rows claimed at once.
const BATCH: u32 = 20;
/// The longest one delivery may take before it counts as failed.
const SEND_TIMEOUT: Duration = Duration::from_secs(30);

/// Whether an address's host is this machine (`127.0.0.1`, `[::1]`, `localhost`), where a
/// plain connection does not cross a network.
fn loopback(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?']).next().unwrap_or("");
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    let host = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host.split(':').next().unwrap_or(""),
    };
    matches!(host, "127.0.0.1" | "::1" | "localhost")
}

/// Why a delivery failed: worth another try, or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Failure {
    Retry(&'static str),
    Permanent(&'static str),
}

/// E-mail over SMTP.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Mailer {
    /// `url`: `smtp://host:port` (plain, for a relay on the same host), with `?tls=required`
    /// for STARTTLS, or `smtps://host:port` (TLS from the start); `user:password@` before the
    /// host to authenticate. `from`: the sender's address.
    pub fn new(url: &str, from: &str) -> Result<Self, String> {
        let from = from
            .parse()
            .map_err(|_| format!("--mail-from `{from}` is not an e-mail address"))?;
        if url.starts_with("smtp://") && !url.contains("tls=required") && !loopback(url) {
            return Err(
                "--smtp-url: a mail server on another host is reached over TLS: use smtps:// or \
                 add ?tls=required"
                    .to_owned(),
            );
        }
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|_| "--smtp-url is not an smtp:// or smtps:// address".to_owned())?
            .timeout(Some(Duration::from_secs(10)))
            .build();
        Ok(Self { transport, from })
    }

    async fn send(&self, to: &str, subject: &str, text: String) -> Result<(), Failure> {
        let to: Mailbox = to.parse().map_err(|_| Failure::Permanent("bad_address"))?;
        // 8bit: the text goes over the wire as written (every server today takes 8BITMIME);
        // lines too long for that (a long public address) are quoted-printable instead.
        let body = Body::new_with_encoding(text, ContentTransferEncoding::EightBit)
            .unwrap_or_else(Body::new);
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body)
            .map_err(|_| Failure::Permanent("bad_message"))?;
        match tokio::time::timeout(SEND_TIMEOUT, self.transport.send(message)).await {
            Err(_) => Err(Failure::Retry("timeout")),
            Ok(Ok(_)) => Ok(()),
            Ok(Err(err)) if err.is_permanent() => Err(Failure::Permanent("smtp_rejected")),
            Ok(Err(err)) if err.is_transient() => Err(Failure::Retry("smtp_transient")),
            Ok(Err(err)) if err.is_timeout() => Err(Failure::Retry("timeout")),
            Ok(Err(err)) if err.is_tls() => Err(Failure::Retry("tls")),
            Ok(Err(_)) => Err(Failure::Retry("connect")),
        }
    }
}

/// SMS through an HTTP gateway: a POST of `{"to": "+46…", "text": "…"}` as JSON, with a bearer
/// token if one is configured; any 2xx answer means taken.
#[derive(Clone)]
pub struct SmsGateway {
    client: openidconnect::reqwest::Client,
    url: String,
    token: Option<String>,
}

impl SmsGateway {
    pub fn new(url: &str, token: Option<String>) -> Result<Self, String> {
        if !(url.starts_with("https://") || url.starts_with("http://") && loopback(url)) {
            return Err(
                "--sms-gateway-url is an https:// address (http:// only on this host)".to_owned(),
            );
        }
        let client = openidconnect::reqwest::Client::builder()
            .timeout(SEND_TIMEOUT)
            .redirect(openidconnect::reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| format!("the SMS gateway's client: {e}"))?;
        Ok(Self {
            client,
            url: url.to_owned(),
            token,
        })
    }

    async fn send(&self, to: &str, text: String) -> Result<(), Failure> {
        let body = serde_json::json!({ "to": to, "text": text }).to_string();
        let mut request = self
            .client
            .post(&self.url)
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(body);
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        match request.send().await {
            Err(err) if err.is_timeout() => Err(Failure::Retry("timeout")),
            Err(_) => Err(Failure::Retry("connect")),
            Ok(reply) if reply.status().is_success() => Ok(()),
            Ok(reply) if reply.status() == http::StatusCode::TOO_MANY_REQUESTS => {
                Err(Failure::Retry("gateway_busy"))
            }
            Ok(reply) if reply.status().is_client_error() => {
                Err(Failure::Permanent("gateway_refused"))
            }
            Ok(_) => Err(Failure::Retry("gateway_error")),
        }
    }
}

/// What a sender needs besides the database.
#[derive(Clone)]
pub struct SenderConfig {
    pub mail: Option<Mailer>,
    pub sms: Option<SmsGateway>,
    /// The address that links in notifications lead to (`--public-url`).
    pub public_url: String,
    pub quiet: QuietHours,
    /// The first wait after a failed try; doubled each time.
    pub retry_base: Duration,
    /// How often the outbox is looked at.
    pub poll: Duration,
}

/// One sender.
pub struct Sender {
    db: DatabaseConnection,
    worker: String,
    config: SenderConfig,
}

impl Sender {
    pub fn new(db: DatabaseConnection, config: SenderConfig) -> Self {
        let mut nonce = [0u8; 6];
        let _ = getrandom::fill(&mut nonce);
        let nonce: String = nonce.iter().map(|b| format!("{b:02x}")).collect();
        Self {
            db,
            worker: format!("{}-{nonce}", std::process::id()),
            config,
        }
    }

    /// Works through the outbox until the task is dropped.
    pub async fn run(self) {
        tracing::info!(
            worker = %self.worker,
            email = self.config.mail.is_some(),
            sms = self.config.sms.is_some(),
            "notification sender started"
        );
        loop {
            match self.round().await {
                // A full batch: there may be more waiting.
                Ok(n) if n >= BATCH as usize => continue,
                Ok(_) => {}
                Err(err) => tracing::error!(error = %err, "the notification outbox failed"),
            }
            tokio::time::sleep(self.config.poll).await;
        }
    }

    /// Claims what is due and sends it; returns how many rows were claimed.
    pub async fn round(&self) -> Result<usize, DbErr> {
        let now = Utc::now();
        if self.config.quiet.contains(now) {
            return Ok(0);
        }
        let claimed = notify::claim(&self.db, &self.worker, now, LEASE, BATCH).await?;
        for row in &claimed {
            // One row's failure (the database gone a moment) leaves the others to be done.
            if let Err(err) = self.one(row).await {
                tracing::error!(notification = row.id, error = %err, "a notification failed");
            }
        }
        Ok(claimed.len())
    }

    /// Sends one claimed row, if it is still this sender's and not the night.
    async fn one(&self, row: &Claimed) -> Result<(), DbErr> {
        let now = Utc::now();
        let outcome = if self.config.quiet.contains(now) {
            Outcome::Retry {
                at: self.config.quiet.next_allowed(now),
                error: None,
            }
        } else {
            // The claim is renewed right before sending: a row whose claim ran out while the
            // batch was being worked through may be another sender's by now.
            if !notify::renew(&self.db, &self.worker, row, now + LEASE).await? {
                tracing::warn!(
                    notification = row.id,
                    "claim lost before sending: left to another"
                );
                return Ok(());
            }
            self.deliver(row).await?
        };
        match &outcome {
            Outcome::Sent => tracing::info!(
                notification = row.id,
                channel = row.channel.code(),
                template = row.template.code(),
                "notification sent"
            ),
            Outcome::Retry { at, error } => tracing::warn!(
                notification = row.id,
                channel = row.channel.code(),
                error = error.unwrap_or("waiting"),
                retry_at = %at,
                "notification not sent yet"
            ),
            Outcome::GiveUp(error) => tracing::warn!(
                notification = row.id,
                channel = row.channel.code(),
                error,
                "notification given up"
            ),
        }
        if !notify::finish(&self.db, &self.worker, row, &outcome, Utc::now()).await? {
            tracing::warn!(
                notification = row.id,
                "the outcome was not recorded: claim lost"
            );
        }
        Ok(())
    }

    async fn deliver(&self, row: &Claimed) -> Result<Outcome, DbErr> {
        let now = Utc::now();
        let address = match notify::prepare(&self.db, row, now).await? {
            Ok(address) => address,
            Err(outcome) => return Ok(outcome),
        };
        let link = format!(
            "{}{}",
            self.config.public_url.trim_end_matches('/'),
            row.template.path()
        );
        let result = match (row.channel, &self.config.mail, &self.config.sms) {
            (Channel::Email, Some(mail), _) => {
                mail.send(&address, row.template.subject(), row.template.email(&link))
                    .await
            }
            (Channel::Sms, _, Some(sms)) => sms.send(&address, row.template.sms(&link)).await,
            (Channel::Email, None, _) => Err(Failure::Permanent("email_not_configured")),
            (Channel::Sms, _, None) => Err(Failure::Permanent("sms_not_configured")),
        };
        Ok(match result {
            Ok(()) => Outcome::Sent,
            Err(Failure::Permanent(kind)) => Outcome::GiveUp(kind),
            Err(Failure::Retry(kind)) if row.attempts + 1 >= notify::MAX_ATTEMPTS => {
                Outcome::GiveUp(kind)
            }
            Err(Failure::Retry(kind)) => Outcome::Retry {
                at: Utc::now() + notify::backoff(self.config.retry_base, row.attempts),
                error: Some(kind),
            },
        })
    }
}

/// Confirmation codes go out at once, by the same mail server or gateway (quiet hours do not
/// apply: the patient asked for the code and is waiting for it).
impl app::notify::SendCode for SenderConfig {
    fn send_code<'a>(
        &'a self,
        channel: Channel,
        address: &'a str,
        code: &'a str,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<(), app::notify::CodeNotSent>> + Send + 'a>,
    > {
        use app::notify::contact::{CODE_SUBJECT, code_sms, code_text};
        Box::pin(async move {
            let result = match (channel, &self.mail, &self.sms) {
                (Channel::Email, Some(mail), _) => {
                    mail.send(address, CODE_SUBJECT, code_text(code)).await
                }
                (Channel::Sms, _, Some(sms)) => sms.send(address, code_sms(code)).await,
                _ => Err(Failure::Permanent("not_configured")),
            };
            result.map_err(|failure| {
                tracing::warn!(
                    channel = channel.code(),
                    ?failure,
                    "a confirmation code was not sent"
                );
                app::notify::CodeNotSent
            })
        })
    }
}
