//! The adapters every subcommand builds from the configuration: the database, the token checker, the cipher.

use anyhow::Context;
use pbx_api::{Authenticator, TokenSettings};
use pbx_infra::database::{backend_name, sqlite_url};
use pbx_infra::{Database, PoolSettings, SecretCipher, data_dir, key_file};

use crate::cli::{CommonArgs, SecretArg};

/// Length of the embedded HS256 token key, in bytes.
const TOKEN_KEY_LEN: usize = 64;

pub(crate) fn database_url(common: &CommonArgs) -> String {
    match &common.database_url {
        Some(url) if !url.trim().is_empty() => url.trim().to_owned(),
        _ => sqlite_url(&common.data_dir),
    }
}

pub(crate) async fn open_database(common: &CommonArgs) -> anyhow::Result<Database> {
    data_dir::create(&common.data_dir)?;
    let url = database_url(common);
    if url == sqlite_url(&common.data_dir) {
        data_dir::private_sqlite_file(&data_dir::sqlite_file(&common.data_dir))?;
    }
    let settings = PoolSettings {
        max_connections: common.db_max_connections,
        acquire_timeout: common.db_acquire_timeout,
        statement_timeout: Some(common.db_statement_timeout),
    };
    let db = Database::connect(&url, &settings).await?;
    db.migrate().await?;
    tracing::info!(database = backend_name(&url), "database ready");
    Ok(db)
}

fn token_settings(common: &CommonArgs, hs256_key: Vec<u8>) -> TokenSettings {
    TokenSettings {
        hs256_key,
        issuer: common.issuer.clone(),
        intended_audience: common.audience.clone(),
        tenant_claim: common.tenant_claim.clone(),
    }
}

/// The authenticator of the embedded HS256 key of the data folder (created on first use).
pub(crate) fn embedded_authenticator(common: &CommonArgs) -> anyhow::Result<Authenticator> {
    let key = key_file::load_or_create(&common.data_dir.join("token.key"), TOKEN_KEY_LEN)?;
    Ok(Authenticator::hs256(token_settings(common, key)))
}

/// The embedded HS256 authenticator, or the identity provider's keys with `--jwks`.
pub(crate) async fn authenticator(common: &CommonArgs) -> anyhow::Result<Authenticator> {
    match &common.jwks {
        Some(location) => Authenticator::jwks(token_settings(common, Vec::new()), location).await,
        None => embedded_authenticator(common),
    }
}

/// The cipher of secrets at rest: the configured keys, or the key files of the data folder.
pub(crate) fn cipher(common: &CommonArgs) -> anyhow::Result<SecretCipher> {
    let decode = |key: &SecretArg, what: &str| {
        key_file::decode(&key.0, SecretCipher::KEY_LEN).with_context(|| format!("{what} must be 32 bytes in base64"))
    };
    match &common.encryption_key {
        Some(current) => {
            let previous = common
                .previous_encryption_keys
                .iter()
                .map(|k| decode(k, "PBX_PREVIOUS_ENCRYPTION_KEYS"))
                .collect::<anyhow::Result<Vec<_>>>()?;
            SecretCipher::with_previous(&decode(current, "PBX_ENCRYPTION_KEY")?, &previous)
        }
        None => {
            data_dir::create(&common.data_dir)?;
            SecretCipher::from_dir(&common.data_dir)
        }
    }
}
