//! Webhooks (§13): a reseller's endpoint that receives its events, signed by the Standard Webhooks 1.0 spec.
//!
//! What a webhook is and may be: its settings and their rules, which addresses it may not target (no server-side
//! request forgery), and the signature of a delivery — which a receiver checks with the same function.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use chrono::{DateTime, Utc};

use crate::events::EventType;
use crate::text::bounded_text;
use crate::{ResellerId, TextError, WebhookId};

mod payload;
mod signing;

pub use payload::{Delivery, PING, delivery, payload, ping};
pub use signing::{SecretFormat, SigningSecret, signature_header, verify};

bounded_text!(
    /// A webhook's name: 1 to 100 characters after trimming, no control characters.
    WebhookName,
    bounded,
    100
);

/// The HTTP method of a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum WebhookMethod {
    /// The event in the body (the default).
    #[default]
    Post,
    /// The event in the body.
    Put,
    /// The event's fields as query parameters.
    Get,
}

impl WebhookMethod {
    /// Every method, as the contract lists them.
    pub const ALL: [Self; 3] = [Self::Post, Self::Put, Self::Get];

    /// Its name (`POST`).
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Post => "POST",
            Self::Put => "PUT",
            Self::Get => "GET",
        }
    }

    /// The method named `name` (exactly as the contract spells it).
    #[must_use]
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|method| method.as_str() == name)
    }
}

/// How a delivery's body is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum WebhookFormat {
    /// A JSON object (the default).
    #[default]
    Json,
    /// `application/x-www-form-urlencoded` fields of the same top-level names.
    Form,
}

impl WebhookFormat {
    /// Every format.
    pub const ALL: [Self; 2] = [Self::Json, Self::Form];

    /// Its name (`json`).
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Json => "json",
            Self::Form => "form",
        }
    }

    /// The format named `name`.
    #[must_use]
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|format| format.as_str() == name)
    }
}

/// The event types a webhook may subscribe to: the feed's, but a collector's read of credentials, which concerns
/// the platform, not the reseller's systems.
#[must_use]
pub fn subscribable(event: EventType) -> bool {
    event != EventType::PbxCredentialsRead
}

/// The most static key/value pairs a webhook carries.
pub const MAX_STATIC_PAIRS: usize = 20;
/// Webhooks an owner (a reseller, or an account) may have at once (CONTRACT §13): the next create is refused.
pub const MAX_PER_OWNER: u32 = 20;
/// The most characters of a static key or value.
pub const MAX_STATIC_CHARS: usize = 200;
/// The most retries of a delivery.
pub const MAX_RETRIES: u8 = 10;

/// Why a webhook's setting was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    /// An event type a webhook cannot subscribe to.
    #[error("{0} is not an event a webhook receives")]
    NotSubscribable(&'static str),
    /// Over [`MAX_STATIC_PAIRS`] pairs.
    #[error("must have at most {MAX_STATIC_PAIRS} pairs")]
    TooManyPairs,
    /// A key or value that is empty (keys), too long or has a control character.
    #[error("{key}: {problem}")]
    StaticText {
        /// The key (cut to 40 characters).
        key: String,
        /// What is wrong with it or its value.
        problem: TextError,
    },
    /// Over [`MAX_RETRIES`].
    #[error("must be between 0 and {MAX_RETRIES}")]
    Retries,
    /// A static key that is one of the delivery's own fields.
    #[error("{0} is a field of every delivery; choose another key")]
    Reserved(String),
}

/// The fields of every delivery's payload, which a static pair may not replace.
pub const PAYLOAD_FIELDS: [&str; 8] =
    ["triggerID", "id", "type", "eventId", "occurredAt", "customerId", "pbxId", "data"];

/// The static pairs a delivery carries besides the event's fields.
///
/// # Errors
/// [`WebhookError`] for over 20 pairs, a key that is one of [`PAYLOAD_FIELDS`], or a key (1–200 characters) or
/// value (0–200) that breaks the text rule.
pub fn static_data(pairs: BTreeMap<String, String>) -> Result<BTreeMap<String, String>, WebhookError> {
    if pairs.len() > MAX_STATIC_PAIRS {
        return Err(WebhookError::TooManyPairs);
    }
    let problem = |key: &str, problem| WebhookError::StaticText { key: key.chars().take(40).collect(), problem };
    for (key, value) in &pairs {
        if PAYLOAD_FIELDS.contains(&key.as_str()) {
            return Err(WebhookError::Reserved(key.clone()));
        }
        crate::text::bounded(key, MAX_STATIC_CHARS).map_err(|e| problem(key, e))?;
        if value.chars().count() > MAX_STATIC_CHARS {
            return Err(problem(key, TextError::TooLong { max: MAX_STATIC_CHARS }));
        }
        if value.chars().any(crate::text::is_control_or_format) {
            return Err(problem(key, TextError::ControlCharacter));
        }
    }
    Ok(pairs)
}

/// The retries of a delivery after its first attempt.
///
/// # Errors
/// [`WebhookError::Retries`] over 10.
pub fn retries(value: u64) -> Result<u8, WebhookError> {
    u8::try_from(value).ok().filter(|n| *n <= MAX_RETRIES).ok_or(WebhookError::Retries)
}

/// A webhook's settings: everything a reseller sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookSettings {
    /// Its name.
    pub name: WebhookName,
    /// Where deliveries go, exactly as given (checked by [`check_url`], and its host's addresses before each
    /// delivery).
    pub url: crate::HttpUrl,
    /// The method of a delivery.
    pub method: WebhookMethod,
    /// How its body is written.
    pub format: WebhookFormat,
    /// The event types it receives; `None` for all of them.
    pub events: Option<BTreeSet<EventType>>,
    /// Pairs each delivery carries besides the event's fields.
    pub static_data: BTreeMap<String, String>,
    /// Attempts after the first (0–10).
    pub retries: u8,
    /// Whether deliveries are made.
    pub enabled: bool,
}

impl WebhookSettings {
    /// Whether it receives events of `event`.
    #[must_use]
    pub fn receives(&self, event: EventType) -> bool {
        subscribable(event) && self.events.as_ref().is_none_or(|events| events.contains(&event))
    }
}

/// A webhook as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    /// Its id (the `triggerID` of each delivery).
    pub id: WebhookId,
    /// The reseller whose events it receives.
    pub owner: ResellerId,
    /// When it was created (UTC).
    pub date_created: DateTime<Utc>,
    /// Its settings.
    pub settings: WebhookSettings,
}

/// Why a webhook's URL was refused as a target.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    /// Not an absolute URL.
    #[error("must be an absolute https URL")]
    NotAbsolute,
    /// Not `https` (or `http` where allowed).
    #[error("must use the https scheme")]
    Scheme,
    /// A host that is, or resolves to, an address the service must not call.
    #[error("must not be a loopback, private, link-local, unique-local or metadata address ({0})")]
    Forbidden(IpAddr),
    /// A host that resolves to no address.
    #[error("its host does not resolve")]
    Unresolved,
}

/// Checks a webhook's URL: absolute, of the form of [`crate::HttpUrl`] (so no user name or password), `https` (or
/// `http` when `allow_private`), and, unless
/// `allow_private`, a host that is not an address [`forbidden`] (a name is resolved and checked by the caller, with
/// [`check_addresses`], at create time and before each delivery).
///
/// # Errors
/// [`TargetError`] naming what is wrong.
pub fn check_url(value: &str, allow_private: bool) -> Result<crate::HttpUrl, TargetError> {
    let given = crate::HttpUrl::parse(value).map_err(|_| TargetError::NotAbsolute)?;
    let url = url::Url::parse(given.as_str()).map_err(|_| TargetError::NotAbsolute)?;
    if !(url.scheme() == "https" || allow_private && url.scheme() == "http") {
        return Err(TargetError::Scheme);
    }
    if !allow_private && let Some(address) = crate::address::forbidden_literal(&url) {
        return Err(TargetError::Forbidden(address));
    }
    Ok(given)
}

/// Checks the addresses a webhook's host resolved to: none may be [`forbidden`] (unless `allow_private`), and there
/// must be one.
///
/// # Errors
/// [`TargetError::Forbidden`] with the first forbidden address, [`TargetError::Unresolved`] for none.
pub fn check_addresses(addresses: &[IpAddr], allow_private: bool) -> Result<(), TargetError> {
    if addresses.is_empty() {
        return Err(TargetError::Unresolved);
    }
    match addresses.iter().find(|a| !allow_private && forbidden(**a)) {
        Some(address) => Err(TargetError::Forbidden(*address)),
        None => Ok(()),
    }
}

pub use crate::address::{address_literal, forbidden};

#[cfg(test)]
mod tests {
    use super::*;

    fn delivered(method: WebhookMethod, format: WebhookFormat) -> Delivery {
        use crate::events::{Actor, Event};
        let settings = WebhookSettings {
            name: WebhookName::parse("CRM").unwrap(),
            url: check_url("https://crm.example.com/hooks?k=1", false).unwrap(),
            method,
            format,
            events: None,
            static_data: BTreeMap::from([("source".to_owned(), "pbx".to_owned())]),
            retries: 1,
            enabled: true,
        };
        let webhook = Webhook {
            id: crate::WebhookId::from_uuid(uuid::Uuid::from_u128(1)),
            owner: crate::ResellerId::from_uuid(uuid::Uuid::from_u128(2)),
            date_created: DateTime::UNIX_EPOCH,
            settings,
        };
        let event = Event {
            id: uuid::Uuid::from_u128(3),
            cursor: "9".into(),
            event_type: EventType::PbxEnabled,
            occurred_at: DateTime::UNIX_EPOCH,
            reseller_id: uuid::Uuid::from_u128(2),
            customer_id: uuid::Uuid::from_u128(4),
            pbx_id: Some(uuid::Uuid::from_u128(5)),
            actor: Actor { reseller_id: uuid::Uuid::from_u128(2), subject: None },
            changed: None,
            data: Some(serde_json::json!({"enabled": true})),
        };
        delivery(&webhook, &event, &[&SigningSecret::from_key(vec![7; 32])], 1_764_670_000)
    }

    #[test]
    fn a_delivery_carries_the_payload_signed_as_json_form_or_query() {
        let secret = SigningSecret::from_key(vec![7; 32]);
        let json = delivered(WebhookMethod::Post, WebhookFormat::Json);
        let header = |d: &Delivery, name: &str| d.headers.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone());
        let body: serde_json::Value = serde_json::from_slice(&json.body).unwrap();
        assert_eq!(body["triggerID"], "00000000-0000-0000-0000-000000000001");
        assert_eq!(body["id"], "00000000-0000-0000-0000-000000000005", "a profile event names the profile");
        assert_eq!((body["type"].as_str(), body["source"].as_str()), (Some("pbx.enabled"), Some("pbx")));
        assert_eq!(body["data"]["enabled"], true);
        let id = header(&json, "webhook-id").unwrap();
        assert_eq!(id, "00000000-0000-0000-0000-000000000003", "the event's id");
        assert!(verify(&secret, &header(&json, "webhook-signature").unwrap(), &id, 1_764_670_000, &json.body));
        assert_eq!(header(&json, "content-type").as_deref(), Some("application/json"));

        let form = delivered(WebhookMethod::Put, WebhookFormat::Form);
        let text = String::from_utf8(form.body.clone()).unwrap();
        assert!(text.contains("type=pbx.enabled") && text.contains("data=%7B%22enabled%22%3Atrue%7D"), "{text}");
        assert!(verify(&secret, &header(&form, "webhook-signature").unwrap(), &id, 1_764_670_000, &form.body));

        let get = delivered(WebhookMethod::Get, WebhookFormat::Json);
        assert!(get.body.is_empty() && get.url.starts_with("https://crm.example.com/hooks?k=1&"), "{}", get.url);
        assert!(get.url.contains("&triggerID=00000000-0000-0000-0000-000000000001"), "{}", get.url);
        assert!(verify(&secret, &header(&get, "webhook-signature").unwrap(), &id, 1_764_670_000, b""));
    }

    #[test]
    fn a_static_key_may_not_replace_a_field_of_the_payload() {
        let pairs = BTreeMap::from([("type".to_owned(), "x".to_owned())]);
        assert_eq!(static_data(pairs), Err(WebhookError::Reserved("type".to_owned())));
    }

    /// The test vector of the Standard Webhooks spec.
    #[test]
    fn signs_as_the_standard_webhooks_test_vector() {
        let secret = SigningSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let (id, timestamp, body) = ("msg_p5jXN8AQM9LWM0D4loKWxJek", 1_614_265_330, br#"{"test": 2432232314}"#);
        let expected = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
        assert_eq!(secret.sign(id, timestamp, body), expected);
        assert!(verify(&secret, expected, id, timestamp, body));
        assert!(!verify(&secret, expected, id, timestamp + 1, body), "another timestamp");
        assert!(!verify(&secret, expected, id, timestamp, b"{}"), "another body");
        assert_eq!(secret.expose(), "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
        assert_eq!(format!("{secret:?}"), "SigningSecret([REDACTED])");
    }

    #[test]
    fn a_header_carries_a_signature_for_each_secret_and_either_verifies() {
        let (old, new) = (SigningSecret::from_key(vec![1; 32]), SigningSecret::from_key(vec![2; 32]));
        let header = signature_header(&[&new, &old], "msg_1", 10, b"{}");
        assert_eq!(header.split(' ').count(), 2);
        assert!(verify(&old, &header, "msg_1", 10, b"{}") && verify(&new, &header, "msg_1", 10, b"{}"));
        assert!(!verify(&SigningSecret::from_key(vec![3; 32]), &header, "msg_1", 10, b"{}"));
        assert_eq!(SigningSecret::parse("whsec_c2hvcnQ="), Err(SecretFormat), "5 bytes");
        assert_eq!(SigningSecret::parse("whsec_!!"), Err(SecretFormat));
    }

    #[test]
    fn a_url_is_https_without_credentials_and_not_a_forbidden_literal() {
        assert!(check_url("https://hooks.example.com/pbx?x=1", false).is_ok());
        assert_eq!(check_url("http://hooks.example.com/", false), Err(TargetError::Scheme));
        assert!(check_url("http://hooks.example.com/", true).is_ok(), "http where private targets are allowed");
        assert_eq!(check_url("ftp://hooks.example.com/", false), Err(TargetError::NotAbsolute));
        assert_eq!(check_url("https://u:p@hooks.example.com/", false), Err(TargetError::NotAbsolute));
        assert_eq!(
            check_url("https://169.254.169.254/latest/meta-data", false),
            Err(TargetError::Forbidden("169.254.169.254".parse().unwrap()))
        );
        assert_eq!(check_url("https://[::1]:8443/", false), Err(TargetError::Forbidden("::1".parse().unwrap())));
        assert!(check_url("https://127.0.0.1:8443/", true).is_ok());
    }

    #[test]
    fn resolved_addresses_are_all_checked() {
        let public: IpAddr = "93.184.216.34".parse().unwrap();
        let private: IpAddr = "10.0.0.7".parse().unwrap();
        assert_eq!(check_addresses(&[public], false), Ok(()));
        assert_eq!(check_addresses(&[public, private], false), Err(TargetError::Forbidden(private)));
        assert_eq!(check_addresses(&[public, private], true), Ok(()));
        assert_eq!(check_addresses(&[], true), Err(TargetError::Unresolved));
    }

    #[test]
    fn static_data_and_retries_have_bounds() {
        let pairs = |n: usize| (0..n).map(|i| (format!("k{i}"), "v".to_owned())).collect::<BTreeMap<_, _>>();
        assert!(static_data(pairs(20)).is_ok());
        assert_eq!(static_data(pairs(21)), Err(WebhookError::TooManyPairs));
        assert!(static_data(BTreeMap::from([(String::new(), "v".to_owned())])).is_err(), "an empty key");
        assert!(static_data(BTreeMap::from([("k".to_owned(), "a\u{0}".to_owned())])).is_err(), "a NUL");
        assert!(static_data(BTreeMap::from([("k".to_owned(), String::new())])).is_ok(), "an empty value");
        assert_eq!(retries(10), Ok(10));
        assert_eq!(retries(11), Err(WebhookError::Retries));
    }

    #[test]
    fn a_webhook_receives_its_types_or_all_but_credentials_reads() {
        let mut settings = WebhookSettings {
            name: WebhookName::parse("CRM").unwrap(),
            url: check_url("https://hooks.example.com/", false).unwrap(),
            method: WebhookMethod::default(),
            format: WebhookFormat::default(),
            events: None,
            static_data: BTreeMap::new(),
            retries: 1,
            enabled: true,
        };
        assert!(settings.receives(EventType::PbxEnabled));
        assert!(!settings.receives(EventType::PbxCredentialsRead));
        settings.events = Some(BTreeSet::from([EventType::CustomerCreated]));
        assert!(settings.receives(EventType::CustomerCreated));
        assert!(!settings.receives(EventType::PbxEnabled));
    }
}
