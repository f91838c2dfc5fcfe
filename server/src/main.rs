//! `lotsen`: the Lotsen server.

use clap::Parser;
use lotsen_server::cli::{Cli, Command};
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    lotsen_server::telemetry::init(cli.log_format);
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => lotsen_server::serve(&cli.database_url, cli.addr).await,
        Command::Migrate => lotsen_server::migrate(&cli.database_url).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(error = %err, "lotsen stopped with an error");
            eprintln!("lotsen: {err}");
            ExitCode::FAILURE
        }
    }
}
