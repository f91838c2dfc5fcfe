//! The command line. Every flag has an environment variable of the same meaning.

use clap::{Parser, Subcommand, ValueEnum};
use std::net::SocketAddr;

/// The default database: a SQLite file under ./data/, created on first run.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/lotsen.db?mode=rwc";

#[derive(Debug, Parser)]
#[command(
    name = "lotsen",
    version,
    about = "Lotsen: internet-based support and treatment in healthcare",
    long_about = "Lotsen: internet-based support and treatment in healthcare.\n\n\
                  Without a subcommand, `lotsen` serves the web application."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Address to listen on.
    #[arg(
        long,
        env = "LOTSEN_ADDR",
        default_value = "127.0.0.1:3000",
        global = true
    )]
    pub addr: SocketAddr,

    /// Database URL: `sqlite://path?mode=rwc` or `postgres://user@host/db`.
    #[arg(long, env = "LOTSEN_DATABASE_URL", default_value = DEFAULT_DATABASE_URL, global = true)]
    pub database_url: String,

    /// A session not used for this many minutes ends.
    #[arg(long, env = "LOTSEN_SESSION_IDLE_MINUTES", default_value_t = 30, global = true,
          value_parser = clap::value_parser!(u32).range(1..=1440))]
    pub session_idle_minutes: u32,

    /// A session ends this many hours after sign-in, however active.
    #[arg(long, env = "LOTSEN_SESSION_MAX_HOURS", default_value_t = 12, global = true,
          value_parser = clap::value_parser!(u32).range(1..=168))]
    pub session_max_hours: u32,

    /// Demo mode: a sandbox not used for this many minutes is deleted with everything in it.
    #[arg(long, env = "LOTSEN_DEMO_IDLE_MINUTES", default_value_t = 120, global = true,
          value_parser = clap::value_parser!(u32).range(1..=10080))]
    pub demo_idle_minutes: u32,

    /// Demo mode: at most this many sandboxes live at once.
    #[arg(
        long,
        env = "LOTSEN_DEMO_MAX_SANDBOXES",
        default_value_t = 200,
        global = true
    )]
    pub demo_max_sandboxes: u64,

    /// Sign-ins (and demo entrances) one address may start at once before it is slowed to
    /// `--sign-in-per-minute`. Behind a proxy every user shares its address.
    #[arg(long, env = "LOTSEN_SIGN_IN_BURST", default_value_t = 20, global = true,
          value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub sign_in_burst: u32,

    /// Sign-ins one address may start per minute, after its burst.
    #[arg(long, env = "LOTSEN_SIGN_IN_PER_MINUTE", default_value_t = 2, global = true,
          value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub sign_in_per_minute: u32,

    /// Reverse proxies in front of Lotsen (IP addresses, comma-separated): from these, the
    /// client's address is taken from `X-Forwarded-For` (for rate limits).
    #[arg(
        long,
        env = "LOTSEN_TRUSTED_PROXIES",
        value_delimiter = ',',
        global = true
    )]
    pub trusted_proxies: Vec<std::net::IpAddr>,

    /// Hosts that programs may show external images, audio and video from (HTTPS only,
    /// comma-separated; subdomains included). Without any, media links are refused.
    #[arg(long, env = "LOTSEN_MEDIA_HOSTS", value_delimiter = ',', global = true)]
    pub media_hosts: Vec<String>,

    /// Where uploaded images, audio and video are kept (one folder per program). Back it up
    /// with the database.
    #[arg(
        long,
        env = "LOTSEN_MEDIA_DIR",
        default_value = "data/media",
        global = true
    )]
    pub media_dir: std::path::PathBuf,

    /// The largest file a producer may upload, in MiB.
    #[arg(long, env = "LOTSEN_MAX_MEDIA_MB", default_value_t = 100, global = true,
          value_parser = clap::value_parser!(u64).range(1..=2048))]
    pub max_media_mb: u64,

    /// Serve without migrating: the database must be up to date already (`lotsen migrate`,
    /// run as the schema's owner), so that the server can run as a role that cannot alter
    /// tables or switch off the access log's protection.
    #[arg(long, env = "LOTSEN_NO_MIGRATE", global = true)]
    pub no_migrate: bool,

    /// Every hour (and at start), append the access log's head (`<time> <row id>:<hash>`) to
    /// this file: keep it where the database's administrators cannot write, and pass it to
    /// `lotsen audit verify --anchor-file`.
    #[arg(long, env = "LOTSEN_ANCHOR_FILE", global = true)]
    pub anchor_file: Option<std::path::PathBuf>,

    /// Every hour (and at start), run this command (`sh -c`) with the access log's head
    /// (`<row id>:<hash>`) on its standard input, e.g. to send it to another system.
    #[arg(long, env = "LOTSEN_ANCHOR_COMMAND", global = true)]
    pub anchor_command: Option<String>,

    /// The address people reach Lotsen at, e.g. `https://lotsen.region.se`. Needed in real
    /// mode: the identity providers send people back to `<this>/login/…/callback`.
    #[arg(long, env = "LOTSEN_PUBLIC_URL", global = true)]
    pub public_url: Option<String>,

    /// Patients' identity provider (an e-ID broker): its issuer URL. Setting it (or the staff
    /// one) turns on real mode, and demo mode off.
    #[arg(long, env = "LOTSEN_PATIENT_OIDC_ISSUER", global = true)]
    pub patient_oidc_issuer: Option<String>,

    /// Lotsen's client id at the patients' identity provider.
    #[arg(long, env = "LOTSEN_PATIENT_OIDC_CLIENT_ID", global = true)]
    pub patient_oidc_client_id: Option<String>,

    /// Lotsen's client secret at the patients' identity provider (prefer the environment
    /// variable: command lines are visible to other users of the machine).
    #[arg(
        long,
        env = "LOTSEN_PATIENT_OIDC_CLIENT_SECRET",
        hide_env_values = true,
        global = true
    )]
    pub patient_oidc_client_secret: Option<Secret>,

    /// Scopes asked of the patients' identity provider, besides `openid`.
    #[arg(
        long,
        env = "LOTSEN_PATIENT_OIDC_SCOPES",
        global = true,
        default_value = "profile https://id.oidc.se/scope/naturalPersonNumber"
    )]
    pub patient_oidc_scopes: String,

    /// Levels of assurance (`acr` values, comma-separated) a patient's sign-in must have one
    /// of, e.g. `http://id.elegnamnden.se/loa/1.0/loa3`. Sent as `acr_values`; a sign-in whose
    /// ID token has no `acr`, or another one, is refused.
    #[arg(
        long,
        env = "LOTSEN_PATIENT_OIDC_ACR",
        global = true,
        value_delimiter = ','
    )]
    pub patient_oidc_acr: Vec<String>,

    /// The most seconds since the patient last authenticated at the provider. Sent as
    /// `max_age`; an ID token without `auth_time`, or with an older one, is refused.
    #[arg(long, env = "LOTSEN_PATIENT_OIDC_MAX_AGE", global = true)]
    pub patient_oidc_max_age: Option<u64>,

    /// The claim that carries the patient's personal identity number (in the ID token or
    /// from the UserInfo endpoint).
    #[arg(
        long,
        env = "LOTSEN_PERSONNUMMER_CLAIM",
        global = true,
        default_value = "https://id.oidc.se/claim/personalIdentityNumber"
    )]
    pub personnummer_claim: String,

    /// Let patients with a coordination number (samordningsnummer) sign in.
    #[arg(long, env = "LOTSEN_ALLOW_COORDINATION_NUMBERS", global = true)]
    pub allow_coordination_numbers: bool,

    /// Staff's identity provider (SITHS): its issuer URL.
    #[arg(long, env = "LOTSEN_STAFF_OIDC_ISSUER", global = true)]
    pub staff_oidc_issuer: Option<String>,

    /// Lotsen's client id at the staff identity provider.
    #[arg(long, env = "LOTSEN_STAFF_OIDC_CLIENT_ID", global = true)]
    pub staff_oidc_client_id: Option<String>,

    /// Lotsen's client secret at the staff identity provider.
    #[arg(
        long,
        env = "LOTSEN_STAFF_OIDC_CLIENT_SECRET",
        hide_env_values = true,
        global = true
    )]
    pub staff_oidc_client_secret: Option<Secret>,

    /// Scopes asked of the staff identity provider, besides `openid`.
    #[arg(
        long,
        env = "LOTSEN_STAFF_OIDC_SCOPES",
        global = true,
        default_value = "profile"
    )]
    pub staff_oidc_scopes: String,

    /// Levels of assurance (`acr` values, comma-separated) a staff sign-in must have one of.
    #[arg(
        long,
        env = "LOTSEN_STAFF_OIDC_ACR",
        global = true,
        value_delimiter = ','
    )]
    pub staff_oidc_acr: Vec<String>,

    /// The most seconds since the staff member last authenticated at the provider.
    #[arg(long, env = "LOTSEN_STAFF_OIDC_MAX_AGE", global = true)]
    pub staff_oidc_max_age: Option<u64>,

    /// The claim that carries the staff member's HSA-ID (in the ID token or from UserInfo).
    #[arg(
        long,
        env = "LOTSEN_HSA_ID_CLAIM",
        global = true,
        default_value = "employeeHsaId"
    )]
    pub hsa_id_claim: String,

    /// The ID-token claim that carries the staff member's assignments (a JSON array).
    #[arg(
        long,
        env = "LOTSEN_COMMISSIONS_CLAIM",
        global = true,
        default_value = "commissions"
    )]
    pub commissions_claim: String,

    /// Notifications by e-mail: the mail server, as `smtp://host:port` (with `?tls=required`
    /// for STARTTLS) or `smtps://host:port`, with `user:password@` before the host to sign in.
    /// Real mode only: nothing is ever sent in demo mode.
    #[arg(long, env = "LOTSEN_SMTP_URL", global = true)]
    pub smtp_url: Option<Secret>,

    /// The sender address of notification e-mails (needed with --smtp-url).
    #[arg(long, env = "LOTSEN_MAIL_FROM", global = true)]
    pub mail_from: Option<String>,

    /// Notifications by SMS: the gateway's address, which takes a POST of
    /// `{"to": "+46…", "text": "…"}` as JSON.
    #[arg(long, env = "LOTSEN_SMS_GATEWAY_URL", global = true)]
    pub sms_gateway_url: Option<String>,

    /// The bearer token the SMS gateway expects, if any.
    #[arg(long, env = "LOTSEN_SMS_GATEWAY_TOKEN", global = true)]
    pub sms_gateway_token: Option<Secret>,

    /// Hours of the night (Swedish time) in which no notification is sent, as `21-8`, or
    /// `none`.
    #[arg(
        long,
        env = "LOTSEN_NOTIFY_QUIET_HOURS",
        global = true,
        default_value = "21-8"
    )]
    pub notify_quiet_hours: app::domain::time::QuietHours,

    /// Seconds to wait after the first failed try to send a notification (doubled after each
    /// further one, at most an hour).
    #[arg(
        long,
        env = "LOTSEN_NOTIFY_RETRY_SECONDS",
        global = true,
        default_value_t = 60,
        value_parser = clap::value_parser!(u64).range(1..=3600)
    )]
    pub notify_retry_seconds: u64,

    /// How often, in milliseconds, the sender looks for notifications to send.
    #[arg(
        long,
        env = "LOTSEN_NOTIFY_POLL_MS",
        global = true,
        default_value_t = 5000,
        value_parser = clap::value_parser!(u64).range(50..=600_000)
    )]
    pub notify_poll_ms: u64,

    /// Working hours (08–17 on Swedish working days) within which an urgent flag must be
    /// acknowledged before it is escalated to the unit's patient administrators; 0: never.
    #[arg(
        long,
        env = "LOTSEN_ESCALATE_AFTER_HOURS",
        global = true,
        default_value_t = 4,
        value_parser = clap::value_parser!(u32).range(0..=90)
    )]
    pub escalate_after_hours: u32,

    /// Log format: readable text for a terminal, or one JSON object per line.
    #[arg(long, env = "LOTSEN_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
}

/// A secret from the command line or environment; never printed.
#[derive(Clone)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(…)")
    }
}

impl std::str::FromStr for Secret {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self(s.to_owned()))
    }
}

#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Run migrations, then serve the web application (the default).
    Serve,
    /// Run pending database migrations and exit. Run it as the role that owns the schema.
    Migrate {
        /// PostgreSQL: let this role run `serve` (with `--no-migrate`): it may read and write
        /// the application's tables, but only insert into and read the access log, and it
        /// can change no table's definition or trigger. The role must exist.
        #[arg(long)]
        runtime_role: Option<String>,
    },
    /// The patient-data access log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Send notifications only, without serving the web application. Any number of these may
    /// run beside `serve` on one database; each notification goes out once.
    Notify,
    /// Register care providers, units and staff, and grant the first roles (real mode).
    Setup {
        #[command(subcommand)]
        command: crate::setup::SetupCommand,
    },
}

#[derive(Debug, Clone, Subcommand)]
pub enum AuditCommand {
    /// Walk every hash chain of the access log; exit 1 and name the first broken row if any.
    /// Prints the real-care chain's head: keep it elsewhere and pass it back as `--anchor`.
    Verify {
        /// A head printed earlier (`<row id>:<hash>`); the log must still hold that row with
        /// that hash, so that rows cut off the end are noticed. May be repeated.
        #[arg(long)]
        anchor: Vec<app::access_log::Anchor>,
        /// A file of heads, one a line, as `serve --anchor-file` writes them. May be repeated.
        #[arg(long)]
        anchor_file: Vec<std::path::PathBuf>,
    },
    /// Print the real-care chain's head (`<row id>:<hash>`), to keep outside the database.
    Head,
}

impl AuditCommand {
    /// The anchors given on the command line and in the anchor files.
    pub fn anchors(&self) -> Result<Vec<app::access_log::Anchor>, String> {
        let Self::Verify {
            anchor,
            anchor_file,
        } = self
        else {
            return Ok(Vec::new());
        };
        let mut anchors = anchor.clone();
        for file in anchor_file {
            let text = std::fs::read_to_string(file)
                .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
            // Each line as `serve` writes it: `<time> <row id>:<hash>`; the last word counts.
            for (number, line) in text.lines().enumerate() {
                let Some(last) = line.split_whitespace().last() else {
                    continue;
                };
                let parsed = last
                    .parse()
                    .map_err(|e| format!("{} line {}: {e}", file.display(), number + 1))?;
                anchors.push(parsed);
            }
        }
        Ok(anchors)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

impl Cli {
    pub fn session_config(&self) -> app::auth::session::SessionConfig {
        app::auth::session::SessionConfig {
            idle: chrono::Duration::minutes(self.session_idle_minutes.into()),
            absolute: chrono::Duration::hours(self.session_max_hours.into()),
            demo_idle: chrono::Duration::minutes(self.demo_idle_minutes.into()),
        }
    }

    /// The identity providers, if any are configured (real mode).
    pub fn login(&self) -> Result<crate::oidc::Login, String> {
        use crate::oidc::{Audience, ClaimConfig, Login, Provider, ProviderConfig};
        let provider = |audience: Audience,
                        issuer: &Option<String>,
                        client_id: &Option<String>,
                        secret: &Option<Secret>,
                        scopes: &str,
                        (acr, max_age): (&[String], Option<u64>)|
         -> Result<Option<std::sync::Arc<Provider>>, String> {
            let who = match audience {
                Audience::Patient => "patient",
                Audience::Staff => "staff",
            };
            let Some(issuer) = issuer else {
                return Ok(None);
            };
            let client_id = client_id
                .clone()
                .ok_or_else(|| format!("--{who}-oidc-issuer needs --{who}-oidc-client-id"))?;
            let public_url = self
                .public_url
                .as_deref()
                .ok_or_else(|| "an identity provider needs --public-url".to_owned())?;
            let config = ProviderConfig {
                issuer: issuer.clone(),
                client_id,
                client_secret: secret.as_ref().map(|s| s.0.clone()),
                scopes: scopes.split_whitespace().map(str::to_owned).collect(),
                acr_values: acr
                    .iter()
                    .map(|v| v.trim().to_owned())
                    .filter(|v| !v.is_empty())
                    .collect(),
                max_age: max_age.map(std::time::Duration::from_secs),
            };
            Provider::new(audience, config, public_url)
                .map(|p| Some(std::sync::Arc::new(p)))
                .map_err(|e| format!("{who} identity provider: {e}"))
        };
        Ok(Login {
            patient: provider(
                Audience::Patient,
                &self.patient_oidc_issuer,
                &self.patient_oidc_client_id,
                &self.patient_oidc_client_secret,
                &self.patient_oidc_scopes,
                (&self.patient_oidc_acr, self.patient_oidc_max_age),
            )?,
            staff: provider(
                Audience::Staff,
                &self.staff_oidc_issuer,
                &self.staff_oidc_client_id,
                &self.staff_oidc_client_secret,
                &self.staff_oidc_scopes,
                (&self.staff_oidc_acr, self.staff_oidc_max_age),
            )?,
            claims: std::sync::Arc::new(ClaimConfig {
                personnummer: self.personnummer_claim.clone(),
                allow_coordination_numbers: self.allow_coordination_numbers,
                hsa_id: self.hsa_id_claim.clone(),
                commissions: self.commissions_claim.clone(),
            }),
        })
    }

    pub fn limit_config(&self) -> crate::limits::LimitConfig {
        crate::limits::LimitConfig {
            sign_in_per_address: crate::limits::Rate {
                per_minute: self.sign_in_per_minute,
                burst: self.sign_in_burst,
            },
            ..Default::default()
        }
    }

    /// The notification sender's settings, if e-mail or SMS is configured.
    pub fn sender_config(&self) -> Result<Option<crate::notify::SenderConfig>, String> {
        if self.smtp_url.is_none() && self.sms_gateway_url.is_none() {
            return Ok(None);
        }
        let public_url = self
            .public_url
            .clone()
            .ok_or_else(|| "notifications need --public-url for their link".to_owned())?;
        let mail = match &self.smtp_url {
            None => None,
            Some(url) => {
                let from = self
                    .mail_from
                    .as_deref()
                    .ok_or_else(|| "--smtp-url needs --mail-from".to_owned())?;
                Some(crate::notify::Mailer::new(&url.0, from)?)
            }
        };
        let sms = match &self.sms_gateway_url {
            None => None,
            Some(url) => Some(crate::notify::SmsGateway::new(
                url,
                self.sms_gateway_token.as_ref().map(|t| t.0.clone()),
            )?),
        };
        Ok(Some(crate::notify::SenderConfig {
            mail,
            sms,
            public_url,
            quiet: self.notify_quiet_hours,
            retry_base: std::time::Duration::from_secs(self.notify_retry_seconds),
            poll: std::time::Duration::from_millis(self.notify_poll_ms),
        }))
    }

    pub fn demo_config(&self) -> app::demo::sandbox::DemoConfig {
        app::demo::sandbox::DemoConfig {
            max_sandboxes: self.demo_max_sandboxes,
        }
    }
}
