//! `pbx-server`: reads its configuration, builds the adapters, wires them into the use cases and runs.

mod cli;
mod startup;
mod telemetry;

use clap::Parser;

use crate::cli::{Cli, Command};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    if let Err(e) = telemetry::init(&cli.common.log_format) {
        eprintln!("pbx-server: {e:#}");
        return std::process::ExitCode::FAILURE;
    }
    let result = match cli.command.unwrap_or_default() {
        Command::Serve => startup::serve(&cli.common, &cli.serve).await,
        Command::Migrate => startup::migrate(&cli.common).await,
        Command::Token(args) => startup::token(&cli.common, &args),
        Command::RotateKey(args) => startup::rotate_key(&cli.common, &args).await,
        Command::Openapi => {
            println!("{}", pbx_api::openapi::document());
            Ok(())
        }
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "pbx-server stopped on an error");
            eprintln!("pbx-server: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
