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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}
