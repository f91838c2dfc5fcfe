//! `lotsen`: the Lotsen server.

use clap::Parser;
use lotsen_server::cli::{AuditCommand, Cli, Command};
use std::process::ExitCode;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    lotsen_server::telemetry::init(cli.log_format);
    lotsen_server::telemetry::contain_known_panics();
    let result = match cli.command.clone().unwrap_or(Command::Serve) {
        Command::Serve => lotsen_server::serve(&cli).await,
        Command::Notify => lotsen_server::notify(&cli).await,
        Command::Migrate { ref runtime_role } => {
            lotsen_server::migrate(&cli.database_url, runtime_role.as_deref()).await
        }
        Command::Setup { ref command } => {
            lotsen_server::setup::run(&cli.database_url, command).await
        }
        Command::Audit {
            command: AuditCommand::Head,
        } => lotsen_server::audit_head(&cli.database_url).await,
        Command::Audit {
            command: ref verify @ AuditCommand::Verify { .. },
        } => match verify.anchors() {
            Err(err) => {
                eprintln!("lotsen: {err}");
                return ExitCode::FAILURE;
            }
            Ok(anchors) => match lotsen_server::audit_verify(&cli.database_url, &anchors).await {
                Ok(true) => Ok(()),
                Ok(false) => return ExitCode::FAILURE,
                Err(err) => Err(err),
            },
        },
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
