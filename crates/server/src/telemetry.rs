//! Logs: human-readable by default, JSON on request; `RUST_LOG` filters.

use tracing_subscriber::EnvFilter;

use crate::cli::LogFormat;

/// What is logged when `RUST_LOG` is not set: the service at info, its libraries at warn.
const DEFAULT_FILTER: &str = "warn,pbx_server=info,pbx_api=info,pbx_application=info,pbx_infra=info";

/// Installs the global subscriber, writing to stderr.
///
/// # Errors
/// When `RUST_LOG` does not parse or a subscriber is already installed.
pub fn init(format: &LogFormat) -> anyhow::Result<()> {
    let filter = match std::env::var("RUST_LOG") {
        Ok(value) if !value.trim().is_empty() => EnvFilter::try_new(value)?,
        _ => EnvFilter::new(DEFAULT_FILTER),
    };
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi);
    match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    }
    .map_err(|e| anyhow::anyhow!("installing the logger: {e}"))
}
