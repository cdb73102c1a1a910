//! Kazoo: an account on a Kazoo cluster, reached over its REST API and its websocket.

use crate::text::bounded_text;
use crate::{HttpUrl, Secret, WsUrl};

bounded_text!(
    /// A Kazoo account id: 1 to 64 visible characters. It identifies the PBX instance.
    AccountId,
    visible,
    64
);

/// How to reach a Kazoo account; `S` is [`Secret`], or [`Withheld`](crate::Withheld) when read without secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KazooConnection<S = Secret> {
    /// The REST API's base URL (`http`/`https`).
    pub host_rest: HttpUrl,
    /// The websocket's URL (`ws`/`wss`).
    pub host_websocket: WsUrl,
    /// The account, unique across the system.
    pub account_id: AccountId,
    /// The account's API key.
    pub api_key: S,
    /// Whether the account's sub-accounts are monitored too.
    pub monitor_sub_accounts: bool,
}

impl<S> KazooConnection<S> {
    /// The same connection with its API key mapped by `f` (withheld, say).
    pub fn map_secrets<T>(self, f: impl FnOnce(S) -> T) -> KazooConnection<T> {
        let Self { host_rest, host_websocket, account_id, api_key, monitor_sub_accounts } = self;
        KazooConnection { host_rest, host_websocket, account_id, api_key: f(api_key), monitor_sub_accounts }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{PbxConnection, PbxType};

    #[test]
    fn the_account_id_is_the_instance_id() {
        let connection = PbxConnection::from(KazooConnection {
            host_rest: HttpUrl::parse("https://rest.example.com").unwrap(),
            host_websocket: WsUrl::parse("wss://ws.example.com").unwrap(),
            account_id: AccountId::parse("12345").unwrap(),
            api_key: Secret::parse("ABCDEF").unwrap(),
            monitor_sub_accounts: false,
        });
        assert_eq!(connection.instance_id().pbx_type(), PbxType::Kazoo);
        assert_eq!(connection.instance_id().value(), "12345");
        assert!(!format!("{connection:?}").contains("ABCDEF"), "the API key never shows");
    }

    #[test]
    fn account_ids_are_visible_characters() {
        assert!(AccountId::parse("3c2b1a0e9f8d7c6b5a4f3e2d1c0b9a8f").is_ok());
        assert!(AccountId::parse("").is_err());
        assert!(AccountId::parse("12 345").is_err());
        assert!(AccountId::parse(&"a".repeat(65)).is_err());
    }
}
