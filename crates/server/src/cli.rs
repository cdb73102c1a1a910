//! Flags, each with a `PBX_…` environment variable (`DATABASE_URL` for the database).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Parser, Subcommand, ValueEnum};
use pbx_infra::checks::EntraApplication;

/// Registers the PBX connection profiles of resellers' customers (Kazoo, 3CX) behind a multi-tenant REST API.
///
/// With no configuration at all it keeps everything in ./data (SQLite database, token key, encryption key) and
/// listens on 127.0.0.1:8080.
#[derive(Debug, Parser)]
#[command(name = "pbx-server", version)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub common: CommonArgs,
    #[command(flatten)]
    pub serve: ServeArgs,
}

#[derive(Debug, Clone, Default, Subcommand)]
pub enum Command {
    /// Run the API (the default).
    #[default]
    Serve,
    /// Bring the database schema up to date, then exit.
    Migrate,
    /// Print a development token signed with the embedded key (the token is the last line).
    Token(TokenArgs),
    /// Re-encrypt every stored secret under a new key, while the service keeps running.
    RotateKey(RotateKeyArgs),
    /// Print the OpenAPI document (as served at /api/openapi.json).
    Openapi,
    /// Load synthetic customers and Kazoo profiles in bulk, to measure the service at scale (not for production).
    Seed(SeedArgs),
    /// Print the database's plan for each read query of the service; exits with an error when one scans a table.
    Explain,
}

/// A secret given on the command line or in the environment: never printed.
#[derive(Clone)]
pub struct SecretArg(pub String);

impl std::fmt::Debug for SecretArg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[REDACTED]")
    }
}

impl std::str::FromStr for SecretArg {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self(s.to_owned()))
    }
}

#[derive(Debug, Clone, Args)]
pub struct RotateKeyArgs {
    /// The new key (base64, 32 bytes) [default: a new random key, with the key files of the data folder].
    #[arg(long, env = "PBX_NEW_ENCRYPTION_KEY", hide_env_values = true)]
    pub new_key: Option<SecretArg>,
}

/// Output format of the logs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object a line.
    Json,
}

#[derive(Debug, Clone, Args)]
pub struct CommonArgs {
    /// A TOML file of settings (keys are the flags' names: `bind = "0.0.0.0:8080"`). Flags beat environment
    /// variables, which beat the file.
    #[arg(long, env = "PBX_CONFIG", global = true)]
    pub config: Option<PathBuf>,
    /// Folder for the SQLite database and the key files.
    #[arg(long, env = "PBX_DATA_DIR", default_value = "./data", global = true)]
    pub data_dir: PathBuf,
    /// Database URL: postgres://…, mysql://… or sqlite://… [default: SQLite at <data-dir>/pbx.db]
    #[arg(long, env = "DATABASE_URL", hide_env_values = true, global = true)]
    pub database_url: Option<String>,
    /// The key that encrypts secrets at rest (base64, 32 bytes) [default: <data-dir>/encryption.key, created on
    /// first start]. Prefer the environment variable to the flag: flags show in process lists.
    #[arg(long, env = "PBX_ENCRYPTION_KEY", hide_env_values = true, global = true)]
    pub encryption_key: Option<SecretArg>,
    /// Older keys (base64, comma separated) still accepted to decrypt, during and after a rotation.
    #[arg(long, env = "PBX_PREVIOUS_ENCRYPTION_KEYS", hide_env_values = true, value_delimiter = ',', global = true)]
    pub previous_encryption_keys: Vec<SecretArg>,
    /// Most database connections open at once.
    #[arg(long, env = "PBX_DB_MAX_CONNECTIONS", default_value_t = 16, global = true)]
    pub db_max_connections: u32,
    /// How long a request waits for a database connection before answering 503 (e.g. 5s, 500ms).
    #[arg(long, env = "PBX_DB_ACQUIRE_TIMEOUT", default_value = "5s", value_parser = parse_duration, global = true)]
    pub db_acquire_timeout: Duration,
    /// The longest a database statement may run before the database cancels it (PostgreSQL, MySQL/MariaDB).
    #[arg(long, env = "PBX_DB_STATEMENT_TIMEOUT", default_value = "30s", value_parser = parse_duration, global = true)]
    pub db_statement_timeout: Duration,
    /// An identity provider's public keys (RS256/ES256): a JWKS file, or an https URL. Tokens are then checked
    /// against it, and this service mints none.
    #[arg(long, env = "PBX_JWKS", global = true)]
    pub jwks: Option<String>,
    /// The `iss` that tokens must carry (and that minted tokens carry).
    #[arg(long, env = "PBX_ISSUER", global = true)]
    pub issuer: Option<String>,
    /// The `aud` that tokens must carry (and that minted tokens carry).
    #[arg(long, env = "PBX_AUDIENCE", global = true)]
    pub audience: Option<String>,
    /// The token claim that names the reseller tenant.
    #[arg(long, env = "PBX_TENANT_CLAIM", default_value = "tenant_id", global = true)]
    pub tenant_claim: String,
    /// Log format.
    #[arg(long, env = "PBX_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "PBX_BIND", default_value = "127.0.0.1:8080", global = true)]
    pub bind: SocketAddr,
    /// Public base URL used in Location headers, e.g. https://api.example.com [default: from the request]
    #[arg(long, env = "PBX_PUBLIC_URL", global = true)]
    pub public_url: Option<String>,
    /// Build Location from the Forwarded / X-Forwarded-Proto / X-Forwarded-Host headers (checked: http or https, a
    /// host name or address). Set it only behind a proxy that sets them itself; otherwise they are ignored.
    #[arg(long, env = "PBX_TRUST_FORWARDED", global = true)]
    pub trust_forwarded: bool,
    /// Let webhooks target loopback, private, link-local and unique-local addresses, and plain http: for tests and
    /// on-premises receivers. Off, such a URL is refused at create and change, and at each delivery.
    #[arg(long, env = "PBX_WEBHOOKS_ALLOW_PRIVATE", global = true)]
    pub webhooks_allow_private: bool,
    /// Let a PBX profile's hosts (`hostRest`, `hostWebsocket`) be written as loopback, private, link-local or
    /// metadata addresses: for tests and PBXs on the operator's own network. Off, such a host is refused at create and
    /// change (a host name is not resolved then).
    #[arg(long, env = "PBX_PBX_HOSTS_ALLOW_PRIVATE", global = true)]
    pub pbx_hosts_allow_private: bool,
    /// Check profiles' connections by itself (CONTRACT §15): after a create or a change of a connection field, and
    /// every `--check-interval`. `--pbx-checks=false` for operators who want no outbound connection from the
    /// service; the check routes work either way.
    #[arg(long, env = "PBX_PBX_CHECKS", default_value_t = true, action = clap::ArgAction::Set, global = true)]
    pub pbx_checks: bool,
    /// How often an enabled profile is checked again (jittered by ±10 %; doubled for each failed check in a row,
    /// up to a day).
    #[arg(long, env = "PBX_CHECK_INTERVAL", default_value = "6h", value_parser = parse_duration, global = true)]
    pub check_interval: Duration,
    /// The service's own connection checks (after creates and changes, periodic) running at once, at most: the others
    /// wait their turn, each profile once. Checks asked for by requests have their own bound (32).
    #[arg(long, env = "PBX_CHECK_CONCURRENCY", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..), global = true)]
    pub check_concurrency: u16,
    /// When a collector's last report counts as stale (`CollectorStale`).
    #[arg(long, env = "PBX_COLLECTOR_STALE_AFTER", default_value = "15m", value_parser = parse_duration, global = true)]
    pub collector_stale_after: Duration,
    /// The platform's application in Microsoft Entra, with which Teams profiles are checked for consent and the
    /// `CallRecords.Read.All` permission; without it a Teams check stops at the tenant's existence.
    #[arg(long, env = "PBX_TEAMS_CLIENT_ID", global = true)]
    pub teams_client_id: Option<String>,
    /// That application's client secret (never printed).
    #[arg(long, env = "PBX_TEAMS_CLIENT_SECRET", hide_env_values = true, global = true)]
    pub teams_client_secret: Option<SecretArg>,
    /// The Microsoft Entra authority Teams checks ask.
    #[arg(long, env = "PBX_ENTRA_AUTHORITY", default_value = "https://login.microsoftonline.com", global = true)]
    pub entra_authority: String,
    /// Let the portal hand out development tokens (`POST /portal/dev-token`, every scope of one fixed reseller).
    /// Refused unless the server listens on loopback and mints its own tokens; never to a request that came
    /// through a proxy (Forwarded or X-Forwarded-* headers). `make run` turns it on.
    #[arg(long, env = "PBX_DEV_TOKENS", global = true)]
    pub dev_tokens: bool,
    /// Largest request body accepted, in bytes.
    #[arg(long, env = "PBX_BODY_LIMIT", default_value_t = 64 * 1024, global = true)]
    pub body_limit: usize,
    /// Requests a second each reseller may make (per replica), 0 for no limit; beyond it, 429 with Retry-After.
    #[arg(long, env = "PBX_RATE_LIMIT", default_value_t = 100, global = true)]
    pub rate_limit: u32,
    /// Requests a reseller may make at once above the rate.
    #[arg(long, env = "PBX_RATE_BURST", default_value_t = 200, global = true)]
    pub rate_burst: u32,
    /// Browser origins allowed to call the API (CORS), comma separated; none by default (CORS off).
    #[arg(long, env = "PBX_CORS_ORIGINS", value_delimiter = ',', global = true)]
    pub cors_origins: Vec<String>,
    /// How long a client may take to send a request's head, and then its body (408 after).
    #[arg(long, env = "PBX_REQUEST_TIMEOUT", default_value = "10s", value_parser = parse_duration, global = true)]
    pub request_timeout: Duration,
    /// How long an idle keep-alive connection stays open.
    #[arg(long, env = "PBX_KEEP_ALIVE", default_value = "75s", value_parser = parse_duration, global = true)]
    pub keep_alive: Duration,
    /// The most client connections the API holds at once, all workers together [default: what the open-file
    /// limit leaves once the database pool and the service's own sockets have their share]. Past it the server stops
    /// accepting until a connection ends: the next ones wait in the kernel's queue, and are not refused.
    #[arg(long, env = "PBX_MAX_CONNECTIONS", value_parser = clap::value_parser!(u32).range(1..), global = true)]
    pub max_connections: Option<u32>,
    /// HTTP worker threads [default: one per CPU core].
    #[arg(long, env = "PBX_WORKERS", value_parser = clap::value_parser!(u16).range(1..), global = true)]
    pub workers: Option<u16>,
    /// Write each PBX profile create on its own, instead of committing concurrent creates together in one statement
    /// (PostgreSQL and MySQL/MariaDB; SQLite always groups): to compare, or to rule grouping out.
    #[arg(long, env = "PBX_NO_GROUP_COMMIT", global = true)]
    pub no_group_commit: bool,
    /// How long the change feed keeps its events (`GET /api/v1.0/events`): older ones are deleted every hour, and a
    /// cursor older than what is kept gets 410.
    #[arg(long, env = "PBX_EVENTS_RETENTION", default_value = "7d", value_parser = parse_duration, global = true)]
    pub events_retention: Duration,
    /// Publish every event of the change feed to this NATS server's JetStream (stream `PBX_EVENTS`, subject
    /// `pbx.events.<resellerId>.<type>`), e.g. nats://127.0.0.1:4222.
    #[arg(long, env = "PBX_NATS_URL", global = true)]
    pub nats_url: Option<String>,
    /// Serve /metrics on this address alone (e.g. 127.0.0.1:9100) instead of with the API.
    #[arg(long, env = "PBX_METRICS_BIND", global = true)]
    pub metrics_bind: Option<SocketAddr>,
    /// On SIGTERM/SIGINT, how long to keep serving (readiness 503, connections closed after each answer) before
    /// no longer accepting connections, so that load balancers and clients move away first.
    #[arg(long, env = "PBX_SHUTDOWN_DRAIN", default_value = "1s", value_parser = parse_duration, global = true)]
    pub shutdown_drain: Duration,
    /// On SIGTERM/SIGINT, how long requests in flight may take to finish.
    #[arg(long, env = "PBX_SHUTDOWN_GRACE", default_value = "30s", value_parser = parse_duration, global = true)]
    pub shutdown_grace: Duration,
}

#[derive(Debug, Clone, Args)]
pub struct TokenArgs {
    /// The reseller tenant id (a GUID) the token acts for.
    #[arg(long)]
    pub tenant: String,
    /// Space-separated scopes: onboarding (everything but collector), customers:read, customers:write, pbxs:read,
    /// pbxs:write, customers:trial, accounts:read, accounts:write, events:read, and collector (every tenant's change
    /// feed and the profiles' credentials: for the platform's collectors only).
    #[arg(long, default_value = "onboarding")]
    pub scope: String,
    /// Lifetime of the token (e.g. 1h, 30m, 3600s).
    #[arg(long, default_value = "1h", value_parser = parse_duration)]
    pub ttl: Duration,
}

#[derive(Debug, Clone, Args)]
pub struct SeedArgs {
    /// The reseller tenant id (a GUID) owning the customers.
    #[arg(long)]
    pub tenant: String,
    /// How many customers.
    #[arg(long, default_value_t = 10_000)]
    pub customers: u32,
    /// How many profiles, spread evenly over the customers.
    #[arg(long, default_value_t = 1_000_000)]
    pub profiles: u64,
}

/// `250ms`, `30s`, `5m`, `1h`, `2d`, or a bare number of seconds.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number.parse().map_err(|_| format!("'{text}' is not a duration such as 30s, 5m or 1h"))?;
    let seconds = |factor: u64| {
        number.checked_mul(factor).map(Duration::from_secs).ok_or_else(|| format!("'{text}' is too long"))
    };
    match unit {
        "ms" => Ok(Duration::from_millis(number)),
        "" | "s" => seconds(1),
        "m" => seconds(60),
        "h" => seconds(3600),
        "d" => seconds(86_400),
        _ => Err(format!("'{text}' has an unknown unit; use ms, s, m, h or d")),
    }
}

impl ServeArgs {
    /// The platform's application in Microsoft Entra, from its two flags (both or neither).
    ///
    /// # Errors
    /// When only one is given, or the secret is empty.
    pub fn entra_application(&self) -> anyhow::Result<Option<EntraApplication>> {
        match (&self.teams_client_id, &self.teams_client_secret) {
            (Some(client_id), Some(secret)) => Ok(Some(EntraApplication {
                client_id: client_id.clone(),
                client_secret: pbx_domain::Secret::parse(&secret.0).context("--teams-client-secret")?,
            })),
            (None, None) => Ok(None),
            _ => anyhow::bail!("--teams-client-id and --teams-client-secret go together"),
        }
    }

    /// That application's client id, when given (its secret is never shown).
    #[must_use]
    pub fn entra_client_id(&self) -> Option<&str> {
        self.teams_client_id.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("750ms"), Ok(Duration::from_millis(750)));
        assert_eq!(parse_duration("30"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert!(parse_duration("h").is_err());
        assert!(parse_duration("5 weeks").is_err());
    }

    #[test]
    fn the_command_line_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn no_arguments_means_serve_with_the_zero_setup_defaults() {
        let cli = Cli::try_parse_from(["pbx-server"]).unwrap();
        assert!(cli.command.is_none());
        assert_eq!(cli.serve.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(cli.common.data_dir, PathBuf::from("./data"));
        assert_eq!(cli.serve.workers, None, "actix's default: one worker per CPU core");
    }

    #[test]
    fn workers_are_at_least_one() {
        assert_eq!(Cli::try_parse_from(["pbx-server", "--workers", "3"]).unwrap().serve.workers, Some(3));
        assert!(Cli::try_parse_from(["pbx-server", "--workers", "0"]).is_err());
    }
}
