//! Kazoo: an account on a Kazoo cluster, reached over its REST API and its websocket.

#[cfg(feature = "serde")]
pub mod check;

use super::Credentials;
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

    /// The PBX instance: the account id.
    #[must_use]
    pub fn instance(&self) -> &str {
        self.account_id.as_str()
    }

    /// The URLs the platform calls, by the API's field name.
    #[must_use]
    pub fn hosts(&self) -> Vec<(&'static str, &str)> {
        vec![("hostRest", self.host_rest.as_str()), ("hostWebsocket", self.host_websocket.as_str())]
    }

    /// The API key (the API's field name) when `after` sends it to another host, with the fields that move it.
    #[must_use]
    pub fn moved_secret<T>(&self, after: &KazooConnection<T>) -> Option<(&'static str, &'static str)> {
        (self.host_rest != after.host_rest || self.host_websocket != after.host_websocket)
            .then_some(("apiKey", "hostRest or hostWebsocket"))
    }

    /// The fields (the API's names) whose values differ in `after`, the API key aside.
    #[must_use]
    pub fn differences<T>(&self, after: &KazooConnection<T>) -> Vec<&'static str> {
        super::differing([
            ("hostRest", self.host_rest != after.host_rest),
            ("hostWebsocket", self.host_websocket != after.host_websocket),
            ("accountId", self.account_id != after.account_id),
            ("monitorSubAccounts", self.monitor_sub_accounts != after.monitor_sub_accounts),
        ])
    }
}

impl KazooConnection {
    /// What a collector needs: the API key.
    #[must_use]
    pub fn credentials(&self) -> Credentials {
        Credentials { api_key: Some(self.api_key.expose().to_owned()), ..Credentials::default() }
    }

    /// The connection of the API reference's example.
    ///
    /// # Panics
    /// Never: its values are valid.
    #[must_use]
    #[allow(clippy::expect_used)] // constant values, tested
    pub fn example() -> Self {
        Self {
            host_rest: HttpUrl::parse("https://rest.example.com").expect("a URL"),
            host_websocket: WsUrl::parse("wss://ws.example.com").expect("a URL"),
            account_id: AccountId::parse("12345").expect("an account id"),
            api_key: Secret::parse("ABCDEF").expect("a key"),
            monitor_sub_accounts: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{PbxConnection, PbxType};

    #[test]
    fn the_account_id_is_the_instance_id() {
        let connection = PbxConnection::from(KazooConnection::example());
        assert_eq!(connection.instance_id().pbx_type(), PbxType::Kazoo);
        assert_eq!(connection.instance_id().value(), "12345");
        assert!(!format!("{connection:?}").contains("ABCDEF"), "the API key never shows");
    }

    #[test]
    fn the_api_key_follows_the_hosts() {
        let before = KazooConnection::example();
        assert_eq!(
            before.hosts(),
            [("hostRest", "https://rest.example.com"), ("hostWebsocket", "wss://ws.example.com")]
        );
        let moved =
            KazooConnection { host_rest: HttpUrl::parse("https://elsewhere.example").unwrap(), ..before.clone() };
        assert_eq!(before.moved_secret(&moved), Some(("apiKey", "hostRest or hostWebsocket")));
        let renamed = KazooConnection { monitor_sub_accounts: true, ..before.clone() };
        assert_eq!(before.moved_secret(&renamed), None);
        assert_eq!(before.credentials().api_key.as_deref(), Some("ABCDEF"));
    }

    #[test]
    fn account_ids_are_visible_characters() {
        assert!(AccountId::parse("3c2b1a0e9f8d7c6b5a4f3e2d1c0b9a8f").is_ok());
        assert!(AccountId::parse("").is_err());
        assert!(AccountId::parse("12 345").is_err());
        assert!(AccountId::parse(&"a".repeat(65)).is_err());
    }
}
