//! `pbx-server`: reads its configuration, builds the adapters, wires them into the use cases and runs.

mod adapters;
mod cli;
mod commands;
mod config;
mod telemetry;

use clap::{CommandFactory, FromArgMatches};

use crate::cli::{Cli, Command};
use crate::commands::{explain, migrate, rotate_key, seed, serve, token};

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
        Command::Serve => serve::serve(&cli.common, &cli.serve).await,
        Command::Migrate => migrate::migrate(&cli.common).await,
        Command::Token(args) => token::token(&cli.common, &args),
        Command::RotateKey(args) => rotate_key::rotate_key(&cli.common, &args).await,
        Command::Seed(args) => seed::seed(&cli.common, &args).await,
        Command::Explain => explain::explain(&cli.common).await,
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
