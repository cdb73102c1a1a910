//! `pbx-server`: reads its configuration, builds the adapters, wires them into the use cases and runs.

mod cli;
mod config;
mod startup;
mod telemetry;

use clap::{CommandFactory, FromArgMatches};

use crate::cli::{Cli, Command};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = match config::matches(Cli::command(), std::env::args_os().collect())
        .and_then(|matches| Ok(Cli::from_arg_matches(&matches)?))
    {
        Ok(cli) => cli,
        Err(e) => match e.downcast::<clap::Error>() {
            Ok(clap_error) => clap_error.exit(),
            Err(e) => {
                eprintln!("pbx-server: {e:#}");
                return std::process::ExitCode::FAILURE;
            }
        },
    };
    if let Err(e) = telemetry::init(&cli.common.log_format) {
        eprintln!("pbx-server: {e:#}");
        return std::process::ExitCode::FAILURE;
    }
    let result = match cli.command.unwrap_or_default() {
        Command::Serve => startup::serve(&cli.common, &cli.serve).await,
        Command::Migrate => startup::migrate(&cli.common).await,
        Command::Token(args) => startup::token(&cli.common, &args),
        Command::RotateKey(args) => startup::rotate_key(&cli.common, &args).await,
        Command::Seed(args) => startup::seed(&cli.common, &args).await,
        Command::Explain => startup::explain(&cli.common).await,
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
