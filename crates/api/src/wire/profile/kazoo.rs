//! `KazooPbxConnectionProfile` on the wire: the body of a create (and of a patched profile), and the answer.

use pbx_application::pbx::NewProfile;
use pbx_domain::kazoo::{AccountId, KazooConnection};
use pbx_domain::{HttpUrl, PbxProfile, Secret, Withheld, WsUrl};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use utoipa::openapi::Schema;

use super::{Base, Common, Credential, Shown, country_code, flag, optional_flag};
use crate::wire::field::{Field, FieldProblem, Problems};
use crate::wire::text::Text;
use crate::wire::{Guid, values};

/// The `_type` of a Kazoo profile.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, ToSchema)]
pub(crate) enum KazooType {
    #[default]
    KazooPbxConnectionProfile,
}

/// A new Kazoo profile.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = NewKazooPbxConnectionProfile)]
pub(crate) struct KazooBody {
    #[serde(rename = "_type")]
    #[schema(inline)]
    // It chose this type before the body was read (`profile::parse`): here for the schema and the unknown-field
    // check, never read again.
    _pbx_type: KazooType,
    #[serde(default)]
    #[schema(schema_with = name, required = true)]
    name: Field<String>,
    #[serde(default)]
    #[schema(schema_with = host_rest, required = true)]
    host_rest: Field<String>,
    #[serde(default)]
    #[schema(schema_with = host_websocket, required = true)]
    host_websocket: Field<String>,
    #[serde(default)]
    #[schema(schema_with = account_id, required = true)]
    account_id: Field<String>,
    #[serde(default)]
    #[schema(schema_with = api_key, required = true)]
    api_key: Field<String>,
    /// Whether sub-accounts are monitored too (false when absent).
    #[serde(default)]
    #[schema(schema_with = monitor_sub_accounts)]
    monitor_sub_accounts: Field<bool>,
    #[serde(default)]
    #[schema(schema_with = country_code)]
    country_code: Field<String>,
}

fn name() -> Schema {
    Text::Trimmed { max: 100 }.schema("A name for people (1–100 characters).", Some("Main office"))
}

fn monitor_sub_accounts() -> Schema {
    crate::wire::titled(optional_flag(), "Monitor sub-accounts")
}

fn host_rest() -> Schema {
    values::http_url("The REST API's base URL (http or https).", "https://rest.example.com")
}

fn host_websocket() -> Schema {
    values::ws_url("The websocket's URL (ws or wss).", "wss://ws.example.com")
}

fn account_id() -> Schema {
    let description =
        "The Kazoo account (1–64 visible characters); unique across the system, whatever its case or width.";
    Text::Visible { max: 64 }.schema(description, Some("12345"))
}

fn api_key() -> Schema {
    let description =
        "The account's API key (1–256 characters): stored encrypted, never shown again after this create.";
    Text::Secret { max: 256 }.schema(description, Some("ABCDEF"))
}

impl KazooBody {
    /// The profile, or every problem with the body; `base` gives the fields the body leaves out.
    pub(super) fn parse<S: From<Secret> + Clone>(
        self,
        base: &Base<'_, KazooConnection<Withheld>, S>,
    ) -> Result<NewProfile<S>, Vec<FieldProblem>> {
        let mut problems = Problems::default();
        let p = &mut problems;
        let common = Common::parse(self.name, self.country_code, base, p);
        let kept = base.keep("hostRest", |k| k.host_rest.clone());
        let host_rest = self.host_rest.or_kept(kept, |f| f.required("hostRest", HttpUrl::parse, p));
        let kept = base.keep("hostWebsocket", |k| k.host_websocket.clone());
        let host_websocket = self.host_websocket.or_kept(kept, |f| f.required("hostWebsocket", WsUrl::parse, p));
        let kept = base.keep("accountId", |k| k.account_id.clone());
        let account_id = self.account_id.or_kept(kept, |f| f.required("accountId", AccountId::parse, p));
        let written = |key: &str| Secret::parse(key).map(S::from);
        let api_key = self.api_key.or_kept(base.keep_secret("apiKey"), |f| f.required("apiKey", written, p));
        let kept = base.keep("monitorSubAccounts", |k| k.monitor_sub_accounts);
        let monitor_sub_accounts = self.monitor_sub_accounts.or_kept(kept, |f| f.or("monitorSubAccounts", false, p));
        problems.or_build(|| {
            let connection = KazooConnection {
                host_rest: host_rest?,
                host_websocket: host_websocket?,
                account_id: account_id?,
                api_key: api_key?,
                monitor_sub_accounts: monitor_sub_accounts?,
            };
            common?.with(connection.into())
        })
    }
}

/// A Kazoo PBX connection profile, in the seed's field order.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = KazooPbxConnectionProfile)]
pub(crate) struct KazooView<'a> {
    /// The REST API's base URL.
    #[schema(example = "https://rest.example.com")]
    host_rest: &'a str,
    /// The websocket's URL.
    #[schema(example = "wss://ws.example.com")]
    host_websocket: &'a str,
    /// The Kazoo account (1–64 visible characters); unique across the system.
    #[schema(min_length = 1, max_length = 64, example = "12345")]
    account_id: &'a str,
    /// The account's API key: only in the answer to the create that sent it.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 256, example = "ABCDEF")]
    api_key: Option<&'a str>,
    /// Whether sub-accounts are monitored too.
    #[schema(schema_with = flag)]
    monitor_sub_accounts: Value,
    #[serde(rename = "_type")]
    #[schema(inline)]
    pbx_type: KazooType,
    /// The profile's id.
    #[schema(value_type = Guid)]
    id: String,
    /// A name for people (1–100 characters).
    #[schema(example = "Clients ~.pbx.kazoo.name.~ Pbx")]
    name: &'a str,
    /// The customer's tenant id.
    #[schema(value_type = Guid)]
    tenant_id: String,
    /// ISO 3166-1 alpha-2.
    #[schema(example = "US", pattern = "^[A-Z]{2}$")]
    country_code: &'a str,
    /// Whether the platform uses the profile (false on create; enabling is chargeable).
    enabled: bool,
    /// Whether the profile reaches its PBX (read only; CONTRACT §15). Absent only where an event's data predates
    /// the check.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<pbx_domain::connection::Connection>, nullable = false)]
    connection: Option<&'a pbx_domain::connection::Connection>,
}

impl<'a> KazooView<'a> {
    /// The view of `profile`, whose connection is `kazoo`.
    pub(super) fn new<S: Credential>(
        profile: &'a PbxProfile<S>,
        kazoo: &'a KazooConnection<S>,
        shown: &Shown<'a>,
    ) -> Self {
        Self {
            host_rest: kazoo.host_rest.as_str(),
            host_websocket: kazoo.host_websocket.as_str(),
            account_id: kazoo.account_id.as_str(),
            api_key: shown.secret(&kazoo.api_key),
            monitor_sub_accounts: shown.flag(kazoo.monitor_sub_accounts, "monitorSubAccounts"),
            pbx_type: KazooType::KazooPbxConnectionProfile,
            id: profile.id.to_string(),
            name: profile.name.as_str(),
            tenant_id: profile.customer_id.to_string(),
            country_code: profile.country_code.as_str(),
            enabled: profile.enabled,
            connection: shown.connection,
        }
    }
}
