//! What a delivery sends: the event's payload (§13) in the webhook's format, signed, and the test delivery.

use chrono::{DateTime, Utc};

use super::{SigningSecret, Webhook, WebhookFormat, WebhookMethod, signature_header};

/// One delivery of an event to a webhook, as it goes on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// The webhook's method.
    pub method: WebhookMethod,
    /// The webhook's URL; with `GET`, the payload's fields added to its query.
    pub url: String,
    /// `webhook-id`, `webhook-timestamp`, `webhook-signature`, and the body's `content-type` when it has one.
    pub headers: Vec<(&'static str, String)>,
    /// The body (none with `GET`; its signature is then that of an empty body).
    pub body: Vec<u8>,
}

/// The payload of `event` for `webhook`: `triggerID` (the webhook), `id` (the profile's, or the customer's),
/// `type`, `eventId`, `occurredAt`, `customerId`, `pbxId` (profile events), `data` (the resource as a get shows it,
/// `null` after a delete), then the webhook's static pairs.
#[must_use]
pub fn payload(webhook: &Webhook, event: &crate::events::Event) -> serde_json::Map<String, serde_json::Value> {
    use serde_json::Value;
    let mut fields = serde_json::Map::new();
    let id = event.pbx_id.unwrap_or(event.customer_id);
    fields.insert("triggerID".into(), Value::String(webhook.id.to_string()));
    fields.insert("id".into(), Value::String(id.to_string()));
    fields.insert("type".into(), Value::String(event.event_type.as_str().to_owned()));
    fields.insert("eventId".into(), Value::String(event.id.to_string()));
    // As the feed writes it.
    let occurred_at = serde_json::to_value(event.occurred_at).unwrap_or(Value::Null);
    fields.insert("occurredAt".into(), occurred_at);
    fields.insert("customerId".into(), Value::String(event.customer_id.to_string()));
    if let Some(pbx) = event.pbx_id {
        fields.insert("pbxId".into(), Value::String(pbx.to_string()));
    }
    fields.insert("data".into(), event.data.clone().unwrap_or(Value::Null));
    add_static_data(&mut fields, webhook);
    fields
}

/// The delivery of `event` to `webhook` at `timestamp` (Unix seconds), signed by each of `secrets`: a JSON body, or
/// form fields of the same names (objects written as JSON text), or, with `GET`, the same fields in the query.
#[must_use]
pub fn delivery(
    webhook: &Webhook,
    event: &crate::events::Event,
    secrets: &[&SigningSecret],
    timestamp: i64,
) -> Delivery {
    written(webhook, &payload(webhook, event), &event.id.to_string(), secrets, timestamp)
}

/// `webhook`'s static pairs, after a payload's own fields (which they may not replace).
fn add_static_data(fields: &mut serde_json::Map<String, serde_json::Value>, webhook: &Webhook) {
    for (key, value) in &webhook.settings.static_data {
        fields.entry(key.clone()).or_insert_with(|| serde_json::Value::String(value.clone()));
    }
}

/// The type of a test delivery (`POST …/webhooks/{id}/ping`).
pub const PING: &str = "webhook.ping";

/// A test delivery of `webhook`, made at `at`: `triggerID`, `id` (the webhook's), `type` (`webhook.ping`),
/// `eventId` (`id`, fresh), `occurredAt`, and the webhook's static pairs.
#[must_use]
pub fn ping(webhook: &Webhook, id: uuid::Uuid, at: DateTime<Utc>, secrets: &[&SigningSecret]) -> Delivery {
    use serde_json::Value;
    let mut fields = serde_json::Map::new();
    fields.insert("triggerID".into(), Value::String(webhook.id.to_string()));
    fields.insert("id".into(), Value::String(webhook.id.to_string()));
    fields.insert("type".into(), Value::String(PING.to_owned()));
    fields.insert("eventId".into(), Value::String(id.to_string()));
    fields.insert("occurredAt".into(), serde_json::to_value(at).unwrap_or(Value::Null));
    add_static_data(&mut fields, webhook);
    written(webhook, &fields, &id.to_string(), secrets, at.timestamp())
}

/// `fields` written as `webhook`'s method and format ask, signed as the delivery `id` at `timestamp`.
fn written(
    webhook: &Webhook,
    fields: &serde_json::Map<String, serde_json::Value>,
    id: &str,
    secrets: &[&SigningSecret],
    timestamp: i64,
) -> Delivery {
    let text = |value: &serde_json::Value| match value {
        serde_json::Value::String(text) => text.clone(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    };
    let form = || {
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        for (key, value) in fields {
            form.append_pair(key, &text(value));
        }
        form.finish()
    };
    let settings = &webhook.settings;
    let (url, body, content_type) = match (settings.method, settings.format) {
        (WebhookMethod::Get, _) => {
            let separator = if settings.url.as_str().contains('?') { '&' } else { '?' };
            (format!("{}{separator}{}", settings.url, form()), Vec::new(), None)
        }
        (_, WebhookFormat::Json) => {
            (settings.url.to_string(), serde_json::to_vec(fields).unwrap_or_default(), Some("application/json"))
        }
        (_, WebhookFormat::Form) => {
            (settings.url.to_string(), form().into_bytes(), Some("application/x-www-form-urlencoded"))
        }
    };
    let mut headers = vec![
        ("webhook-signature", signature_header(secrets, id, timestamp, &body)),
        ("webhook-id", id.to_owned()),
        ("webhook-timestamp", timestamp.to_string()),
    ];
    if let Some(content_type) = content_type {
        headers.push(("content-type", content_type.to_owned()));
    }
    Delivery { method: settings.method, url, headers, body }
}
