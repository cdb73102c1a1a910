//! A PBX profile as the API shows it, in the seed's field order.

use pbx_application::PbxSummary;
use pbx_domain::{PbxConnection, PbxProfile, PbxType};
use serde::Serialize;
use serde_json::Value;

/// Whether a view shows the profile's secrets. Only the answer to a create does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Secrets {
    Shown,
    Hidden,
}

/// A boolean shown the way the client sent it: `"true"` stays a string in the echo of a create, as in the seed.
fn flag(value: bool, as_text: bool) -> Value {
    if as_text { Value::from(value.to_string()) } else { Value::from(value) }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct KazooView<'a> {
    host_rest: &'a str,
    host_websocket: &'a str,
    account_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    api_key: Option<&'a str>,
    monitor_sub_accounts: Value,
    #[serde(rename = "_type")]
    pbx_type: &'static str,
    id: String,
    name: &'a str,
    tenant_id: String,
    country_code: &'a str,
    enabled: bool,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ThreeCxView<'a> {
    #[serde(rename = "_type")]
    pbx_type: &'static str,
    name: &'a str,
    license_key: &'a str,
    username: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    password: Option<&'a str>,
    enable_recording_archive: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    recording_archive_frequency: Option<String>,
    id: String,
    tenant_id: String,
    country_code: &'a str,
    enabled: bool,
}

#[derive(Debug, Serialize)]
#[serde(untagged)]
pub(crate) enum ProfileView<'a> {
    Kazoo(KazooView<'a>),
    ThreeCx(ThreeCxView<'a>),
}

impl<'a> ProfileView<'a> {
    /// The view of `profile`; `sent_as_text` names the boolean fields the client sent as strings.
    pub(crate) fn new(profile: &'a PbxProfile, secrets: Secrets, sent_as_text: &[String]) -> Self {
        let shown = |secret: &'a pbx_domain::Secret| (secrets == Secrets::Shown).then(|| secret.expose());
        let as_text = |field: &str| sent_as_text.iter().any(|f| f == field);
        let id = profile.id.to_string();
        let tenant_id = profile.customer_id.to_string();
        let (name, country_code, enabled) = (profile.name.as_str(), profile.country_code.as_str(), profile.enabled);
        match &profile.connection {
            PbxConnection::Kazoo(kazoo) => Self::Kazoo(KazooView {
                host_rest: kazoo.host_rest.as_str(),
                host_websocket: kazoo.host_websocket.as_str(),
                account_id: kazoo.account_id.as_str(),
                api_key: shown(&kazoo.api_key),
                monitor_sub_accounts: flag(kazoo.monitor_sub_accounts, as_text("monitorSubAccounts")),
                pbx_type: PbxType::Kazoo.as_str(),
                id,
                name,
                tenant_id,
                country_code,
                enabled,
            }),
            PbxConnection::ThreeCx(three_cx) => Self::ThreeCx(ThreeCxView {
                pbx_type: PbxType::ThreeCx.as_str(),
                name,
                license_key: three_cx.license_key.as_str(),
                username: three_cx.username.as_str(),
                password: shown(&three_cx.password),
                enable_recording_archive: flag(
                    three_cx.recording_archive.is_enabled(),
                    as_text("enableRecordingArchive"),
                ),
                recording_archive_frequency: three_cx.recording_archive.frequency().map(|f| f.to_string()),
                id,
                tenant_id,
                country_code,
                enabled,
            }),
        }
    }
}

/// A profile in a list: `{id, name, _type, tenantId, countryCode, enabled}`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SummaryView<'a> {
    id: String,
    name: &'a str,
    #[serde(rename = "_type")]
    pbx_type: &'static str,
    tenant_id: String,
    country_code: &'a str,
    enabled: bool,
}

impl<'a> SummaryView<'a> {
    pub(crate) fn new(summary: &'a PbxSummary) -> Self {
        Self {
            id: summary.id.to_string(),
            name: &summary.name,
            pbx_type: summary.pbx_type.as_str(),
            tenant_id: summary.customer_id.to_string(),
            country_code: summary.country_code.as_str(),
            enabled: summary.enabled,
        }
    }
}
