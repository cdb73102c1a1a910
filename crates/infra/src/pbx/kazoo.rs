//! The stored form of a Kazoo connection.

use anyhow::Context;
use pbx_domain::kazoo::{AccountId, KazooConnection};
use pbx_domain::{HttpUrl, WsUrl};
use serde::{Deserialize, Serialize};

use super::{Credential, Stored, StoredSecrets};

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Settings {
    host_rest: String,
    host_websocket: String,
    monitor_sub_accounts: bool,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Secrets {
    api_key: String,
}

pub(super) fn store(kazoo: &KazooConnection) -> anyhow::Result<Stored> {
    let settings = Settings {
        host_rest: kazoo.host_rest.to_string(),
        host_websocket: kazoo.host_websocket.to_string(),
        monitor_sub_accounts: kazoo.monitor_sub_accounts,
    };
    let secrets = Secrets { api_key: kazoo.api_key.expose().to_owned() };
    Ok(Stored { settings: serde_json::to_value(settings)?, secrets: serde_json::to_value(secrets)? })
}

/// Whether the stored settings of a Kazoo profile monitor its sub-accounts (`None` when they cannot be read).
pub(super) fn monitors_sub_accounts(settings: serde_json::Value) -> Option<bool> {
    serde_json::from_value::<Settings>(settings).ok().map(|s| s.monitor_sub_accounts)
}

pub(super) fn load<S: Credential>(
    instance_id: &str,
    settings: serde_json::Value,
    secrets: &StoredSecrets,
) -> anyhow::Result<KazooConnection<S>> {
    let settings: Settings = serde_json::from_value(settings).context("Kazoo settings")?;
    Ok(KazooConnection {
        host_rest: HttpUrl::stored(&settings.host_rest)?,
        host_websocket: WsUrl::stored(&settings.host_websocket)?,
        account_id: AccountId::parse(instance_id)?,
        api_key: S::read(secrets, |s: Secrets| s.api_key).context("Kazoo secrets")?,
        monitor_sub_accounts: settings.monitor_sub_accounts,
    })
}
