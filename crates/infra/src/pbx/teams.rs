//! The stored form of a Teams connection: the tenant id is the row's instance id; no other setting, no secret.

use pbx_domain::teams::{MicrosoftTenantId, TeamsConnection};
use serde_json::json;

use super::Stored;

pub(super) fn store(_teams: &TeamsConnection) -> Stored {
    Stored { settings: json!({}), secrets: json!({}) }
}

pub(super) fn load(instance_id: &str) -> anyhow::Result<TeamsConnection> {
    Ok(TeamsConnection { microsoft_tenant_id: MicrosoftTenantId::parse(instance_id)? })
}
