//! The stored form of a Kazoo connection.

use anyhow::Context;
use pbx_domain::kazoo::{AccountId, KazooConnection};
use pbx_domain::{HttpUrl, Secret, WsUrl};
use serde::{Deserialize, Serialize};

use super::Stored;

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

pub(super) fn load(instance_id: &str, stored: Stored) -> anyhow::Result<KazooConnection> {
    let settings: Settings = serde_json::from_value(stored.settings).context("Kazoo settings")?;
    let secrets: Secrets = serde_json::from_value(stored.secrets).context("Kazoo secrets")?;
    Ok(KazooConnection {
        host_rest: HttpUrl::stored(&settings.host_rest)?,
        host_websocket: WsUrl::stored(&settings.host_websocket)?,
        account_id: AccountId::parse(instance_id)?,
        api_key: Secret::parse(&secrets.api_key)?,
        monitor_sub_accounts: settings.monitor_sub_accounts,
    })
}
