//! The Kazoo part of a profile draft.

use pbx_domain::kazoo::{AccountId, KazooConnection};
use pbx_domain::{HttpUrl, PbxConnection, Secret, WsUrl};
use validator::{Validate, ValidationError};

use crate::input::{self, FieldProblem, Input, Problems, Raw, optional_flag, parse_required};

/// The Kazoo fields of a `KazooPbxConnectionProfile`, as sent.
#[derive(Debug, Clone, Default, Validate)]
pub struct KazooDraft {
    /// `hostRest`: an absolute http/https URL.
    #[validate(custom(function = "host_rest"))]
    pub host_rest: Input<String>,
    /// `hostWebsocket`: an absolute ws/wss URL.
    #[validate(custom(function = "host_websocket"))]
    pub host_websocket: Input<String>,
    /// `accountId`: 1–64 visible characters.
    #[validate(custom(function = "account_id"))]
    pub account_id: Input<String>,
    /// `apiKey`: 1–256 characters.
    #[validate(custom(function = "api_key"))]
    pub api_key: Input<String>,
    /// `monitorSubAccounts`: optional boolean, false by default.
    #[validate(custom(function = "optional_flag"))]
    pub monitor_sub_accounts: Input<bool>,
}

fn host_rest(input: &Input<String>) -> Result<(), ValidationError> {
    input::required(input, HttpUrl::parse)
}

fn host_websocket(input: &Input<String>) -> Result<(), ValidationError> {
    input::required(input, WsUrl::parse)
}

fn account_id(input: &Input<String>) -> Result<(), ValidationError> {
    input::required(input, AccountId::parse)
}

fn api_key(input: &Input<String>) -> Result<(), ValidationError> {
    input::required(input, Secret::parse)
}

impl KazooDraft {
    /// The API names of the fields, in the order the API shows them.
    pub const FIELDS: [&'static str; 5] = ["hostRest", "hostWebsocket", "accountId", "apiKey", "monitorSubAccounts"];

    /// Sets the field the API calls `field`; gives `raw` back when there is no such field.
    pub(crate) fn set(&mut self, field: &str, raw: Raw) -> Result<(), Raw> {
        match field {
            "hostRest" => self.host_rest = Input::text(raw),
            "hostWebsocket" => self.host_websocket = Input::text(raw),
            "accountId" => self.account_id = Input::text(raw),
            "apiKey" => self.api_key = Input::text(raw),
            "monitorSubAccounts" => self.monitor_sub_accounts = Input::flag(raw),
            _ => return Err(raw),
        }
        Ok(())
    }

    /// Every problem with these fields.
    pub(crate) fn problems(&self) -> Vec<FieldProblem> {
        self.validate().err().map(|e| input::problems(&e, &Self::FIELDS)).unwrap_or_default()
    }

    /// The connection, once [`KazooDraft::problems`] has found nothing.
    pub(crate) fn parse(self, problems: &mut Problems) -> Option<PbxConnection> {
        let host_rest = problems.take(parse_required("hostRest", self.host_rest, HttpUrl::parse));
        let host_websocket = problems.take(parse_required("hostWebsocket", self.host_websocket, WsUrl::parse));
        let account_id = problems.take(parse_required("accountId", self.account_id, AccountId::parse));
        let api_key = problems.take(parse_required("apiKey", self.api_key, Secret::parse));
        Some(
            KazooConnection {
                host_rest: host_rest?,
                host_websocket: host_websocket?,
                account_id: account_id?,
                api_key: api_key?,
                monitor_sub_accounts: self.monitor_sub_accounts.or(false),
            }
            .into(),
        )
    }
}

/// The Kazoo fields of a stored connection, as a client would send them (secrets included).
pub(crate) fn fields(kazoo: &KazooConnection) -> Vec<(&'static str, Raw)> {
    vec![
        ("hostRest", Raw::Text(kazoo.host_rest.to_string())),
        ("hostWebsocket", Raw::Text(kazoo.host_websocket.to_string())),
        ("accountId", Raw::Text(kazoo.account_id.to_string())),
        ("apiKey", Raw::Text(kazoo.api_key.expose().to_owned())),
        ("monitorSubAccounts", Raw::Bool(kazoo.monitor_sub_accounts)),
    ]
}
