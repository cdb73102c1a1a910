//! How the service checks a Kazoo profile (CONTRACT §15): the requests it makes and what each answer means. The
//! transport (HTTP, the websocket, the address rule) is the adapter's; what is asked and how an answer is read is
//! here, so that every adapter reads Kazoo the same way.
//!
//! 1. `PUT {hostRest}/v2/api_auth` with the API key → [`ConditionType::Authenticated`] and a token;
//! 2. `GET {hostRest}/v2/accounts/{accountId}` with the token → [`ConditionType::AccountMatches`] (the key's own
//!    account, or one it may read as a parent's key; enabled);
//! 3. the websocket at `hostWebsocket`: a `ping` answered, a `subscribe` to `call.CHANNEL_CREATE.*` on the account
//!    accepted → [`ConditionType::EventStream`].

use serde_json::{Value, json};

use super::KazooConnection;
use crate::connection::{ConditionType, Failure, Reason};

/// The conditions of a Kazoo check, in order.
pub const CONDITIONS: [ConditionType; 3] =
    [ConditionType::Authenticated, ConditionType::AccountMatches, ConditionType::EventStream];

/// The event binding a check subscribes to.
pub const BINDING: &str = "call.CHANNEL_CREATE.*";

impl<S> KazooConnection<S> {
    /// Whether the API key would go over plain `http` or `ws`.
    #[must_use]
    pub fn insecure(&self) -> bool {
        self.host_rest.as_str().starts_with("http:") || self.host_websocket.as_str().starts_with("ws:")
    }

    /// The REST API's URL of `path` (`/v2` not repeated when `hostRest` ends with it).
    #[must_use]
    pub fn rest_url(&self, path: &str) -> String {
        let base = self.host_rest.as_str().trim_end_matches('/');
        let base = base.strip_suffix("/v2").unwrap_or(base);
        format!("{base}/v2/{path}")
    }

    /// `PUT …/v2/api_auth`'s URL.
    #[must_use]
    pub fn auth_url(&self) -> String {
        self.rest_url("api_auth")
    }

    /// `GET …/v2/accounts/{accountId}`'s URL.
    #[must_use]
    pub fn account_url(&self) -> String {
        let account: String = url::form_urlencoded::byte_serialize(self.account_id.as_str().as_bytes()).collect();
        self.rest_url(&format!("accounts/{account}"))
    }
}

/// The body of `PUT /v2/api_auth`.
#[must_use]
pub fn auth_body(api_key: &str) -> Value {
    json!({"data": {"api_key": api_key}})
}

/// What an authentication answered: the token and the key's own account.
#[derive(Clone, PartialEq, Eq)]
pub struct Authenticated {
    /// The token, for this check only (never stored, never shown).
    pub token: String,
    /// The account the key belongs to.
    pub account_id: String,
}

impl std::fmt::Debug for Authenticated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticated").field("token", &"REDACTED").field("account_id", &self.account_id).finish()
    }
}

/// Reads `PUT /v2/api_auth`'s answer of `status` and `body`.
///
/// # Errors
/// 400, 401, 403, 404 → `InvalidCredentials` (Kazoo answers 400 to a key that is not 64 characters); 429 →
/// `RateLimited`; any other status, or a success without a token and an account → `UnexpectedResponse`.
pub fn read_auth(status: u16, body: &Value) -> Result<Authenticated, Failure> {
    match status {
        200 | 201 => {
            let token = body.get("auth_token").or_else(|| body.pointer("/data/auth_token")).and_then(Value::as_str);
            let account = body.pointer("/data/account_id").and_then(Value::as_str);
            match (token, account) {
                (Some(token), Some(account)) if !token.is_empty() => {
                    Ok(Authenticated { token: token.to_owned(), account_id: account.to_owned() })
                }
                _ => Err(Failure::answered(Reason::UnexpectedResponse, status)),
            }
        }
        400 | 401 | 403 | 404 => Err(Failure::answered(Reason::InvalidCredentials, status)),
        429 => Err(Failure::answered(Reason::RateLimited, status)),
        _ => Err(Failure::answered(Reason::UnexpectedResponse, status)),
    }
}

/// Reads `GET /v2/accounts/{accountId}`'s answer; `own` says whether the key's account is the profile's.
///
/// # Errors
/// 403 (401 for another account's key) → `AccountMismatch`; 404 → `AccountNotFound`; `enabled: false` →
/// `AccountDisabled`; 429 → `RateLimited`; anything else → `UnexpectedResponse`.
pub fn read_account(status: u16, body: &Value, own: bool) -> Result<(), Failure> {
    match status {
        200 => match body.pointer("/data/enabled").and_then(Value::as_bool) {
            Some(false) => Err(Failure::new(Reason::AccountDisabled)),
            _ => Ok(()),
        },
        401 | 403 if !own => Err(Failure::answered(Reason::AccountMismatch, status)),
        404 => Err(Failure::answered(Reason::AccountNotFound, status)),
        429 => Err(Failure::answered(Reason::RateLimited, status)),
        _ => Err(Failure::answered(Reason::UnexpectedResponse, status)),
    }
}

/// The websocket's `ping` message.
#[must_use]
pub fn ping(request_id: &str) -> Value {
    json!({"action": "ping", "request_id": request_id})
}

/// The websocket's `subscribe` message for the profile's account.
#[must_use]
pub fn subscribe(token: &str, account_id: &str, request_id: &str) -> Value {
    json!({
        "action": "subscribe", "auth_token": token, "request_id": request_id,
        "data": {"account_id": account_id, "binding": BINDING},
    })
}

/// Whether `message` answers the request `request_id` (a message for another request, or an event, does not).
#[must_use]
pub fn answers(message: &Value, request_id: &str) -> bool {
    message.get("request_id").and_then(Value::as_str) == Some(request_id)
}

/// Reads the answer to `ping`: `pong` (as `action`, or as blackhole's `data.response`).
///
/// # Errors
/// `UnexpectedResponse` for anything else.
pub fn read_pong(message: &Value) -> Result<(), Failure> {
    let pong = message.get("action").and_then(Value::as_str) == Some("pong")
        || message.pointer("/data/response").and_then(Value::as_str) == Some("pong");
    if pong { Ok(()) } else { Err(Failure::new(Reason::UnexpectedResponse)) }
}

/// Reads the answer to `subscribe`: `status: "success"`.
///
/// # Errors
/// `UnexpectedResponse` for an error or anything else (the error's text is never shown: blackhole puts the token
/// in it).
pub fn read_subscribed(message: &Value) -> Result<(), Failure> {
    if message.get("status").and_then(Value::as_str) == Some("success") {
        Ok(())
    } else {
        Err(Failure::new(Reason::UnexpectedResponse))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{HttpUrl, Secret};

    fn connection(rest: &str) -> KazooConnection<Secret> {
        KazooConnection { host_rest: HttpUrl::parse(rest).unwrap(), ..KazooConnection::example() }
    }

    #[test]
    fn v2_is_not_repeated_and_plain_http_is_insecure() {
        assert_eq!(connection("https://k.example/v2").auth_url(), "https://k.example/v2/api_auth");
        assert_eq!(connection("https://k.example/v2/").auth_url(), "https://k.example/v2/api_auth");
        assert_eq!(connection("https://k.example:8443").account_url(), "https://k.example:8443/v2/accounts/12345");
        assert!(!connection("https://k.example").insecure());
        assert!(connection("http://k.example").insecure());
    }

    #[test]
    fn authentication_answers_map_to_reasons() {
        let ok = json!({"auth_token": "t0k", "data": {"account_id": "12345"}});
        assert_eq!(read_auth(201, &ok).unwrap().account_id, "12345");
        assert!(!format!("{:?}", read_auth(201, &ok).unwrap()).contains("t0k"));
        for (status, reason) in [
            (400, Reason::InvalidCredentials),
            (401, Reason::InvalidCredentials),
            (404, Reason::InvalidCredentials),
            (429, Reason::RateLimited),
            (500, Reason::UnexpectedResponse),
            (302, Reason::UnexpectedResponse),
        ] {
            assert_eq!(read_auth(status, &Value::Null).unwrap_err(), Failure::answered(reason, status));
        }
        assert_eq!(read_auth(201, &json!({"data": {}})).unwrap_err().reason, Reason::UnexpectedResponse);
    }

    #[test]
    fn account_answers_map_to_reasons() {
        assert_eq!(read_account(200, &json!({"data": {"enabled": true}}), false), Ok(()));
        assert_eq!(
            read_account(200, &json!({"data": {"enabled": false}}), true).unwrap_err().reason,
            Reason::AccountDisabled
        );
        assert_eq!(read_account(403, &Value::Null, false).unwrap_err().reason, Reason::AccountMismatch);
        assert_eq!(read_account(403, &Value::Null, true).unwrap_err().reason, Reason::UnexpectedResponse);
        assert_eq!(read_account(404, &Value::Null, false).unwrap_err().reason, Reason::AccountNotFound);
    }

    #[test]
    fn websocket_answers() {
        assert!(answers(&json!({"request_id": "r1", "action": "pong"}), "r1"));
        assert!(!answers(&json!({"request_id": "r2"}), "r1"));
        assert_eq!(read_pong(&json!({"action": "pong"})), Ok(()));
        assert_eq!(read_pong(&json!({"action": "reply", "data": {"response": "pong"}})), Ok(()));
        assert!(read_pong(&json!({"action": "reply"})).is_err());
        assert_eq!(read_subscribed(&json!({"status": "success"})), Ok(()));
        assert!(read_subscribed(&json!({"status": "error", "data": {"auth_token": "t"}})).is_err());
        assert_eq!(subscribe("t", "a", "r")["data"]["binding"], BINDING);
    }
}
