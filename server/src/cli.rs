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

    /// Log format: readable text for a terminal, or one JSON object per line.
    #[arg(long, env = "LOTSEN_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, Subcommand)]
pub enum Command {
    /// Run migrations, then serve the web application (the default).
    Serve,
    /// Run pending database migrations and exit.
    Migrate,
    /// The patient-data access log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
}

#[derive(Debug, Clone, Copy, Subcommand)]
pub enum AuditCommand {
    /// Walk every hash chain of the access log; exit 1 and name the first broken row if any.
    Verify,
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

    pub fn demo_config(&self) -> app::demo::sandbox::DemoConfig {
        app::demo::sandbox::DemoConfig {
            max_sandboxes: self.demo_max_sandboxes,
        }
    }
}
