//! The stored form of a Kazoo connection.

use pbx_domain::kazoo::KazooConnection;
use serde_json::json;

use super::Stored;

pub(super) fn store(kazoo: &KazooConnection) -> anyhow::Result<Stored> {
    Ok(Stored {
        settings: json!({
            "hostRest": kazoo.host_rest.as_str(),
            "hostWebsocket": kazoo.host_websocket.as_str(),
            "monitorSubAccounts": kazoo.monitor_sub_accounts,
        }),
        secrets: json!({ "apiKey": kazoo.api_key.expose() }),
    })
}
