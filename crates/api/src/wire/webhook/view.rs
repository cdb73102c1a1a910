//! A webhook as answers show it, its test delivery and its delivery log.

use std::collections::BTreeMap;

use pbx_domain::events::EventType;
use pbx_domain::webhook::Webhook;
use serde::Serialize;
use utoipa::ToSchema;

use super::{StaticData, subscribable_types};
use crate::timestamp;
use crate::wire::Guid;

/// A webhook.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Webhook)]
pub(crate) struct WebhookView<'a> {
    /// Its id (each delivery's `triggerID`).
    #[schema(value_type = Guid)]
    id: String,
    #[schema(value_type = String)]
    name: &'a str,
    #[schema(value_type = String)]
    url: &'a str,
    #[schema(value_type = String, example = "POST")]
    method: &'static str,
    #[schema(value_type = String, example = "json")]
    format: &'static str,
    /// The event types delivered.
    #[schema(value_type = Vec<String>)]
    events: Vec<&'static str>,
    /// Pairs each delivery carries.
    #[schema(value_type = StaticData)]
    static_data: &'a BTreeMap<String, String>,
    /// Attempts after the first.
    retries: u8,
    /// Whether deliveries are made.
    enabled: bool,
    /// The signing secret (`whsec_…`): in the answer to the create and to a rotation only.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    secret: Option<String>,
    #[schema(example = "2026-12-02T10:00:00.0000000Z")]
    date_created: String,
}

impl<'a> WebhookView<'a> {
    /// `webhook` as its owner reads it; `secret` (exposed) only in the answer that made it.
    pub(crate) fn new(webhook: &'a Webhook, secret: Option<String>) -> Self {
        let settings = &webhook.settings;
        let events = match &settings.events {
            Some(events) => events.iter().map(|e| e.as_str()).collect(),
            None => subscribable_types().map(EventType::as_str).collect(),
        };
        Self {
            id: webhook.id.to_string(),
            name: settings.name.as_str(),
            url: settings.url.as_str(),
            method: settings.method.as_str(),
            format: settings.format.as_str(),
            events,
            static_data: &settings.static_data,
            retries: settings.retries,
            enabled: settings.enabled,
            secret,
            date_created: timestamp(webhook.date_created),
        }
    }
}

/// A test delivery under way.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = WebhookPing)]
pub(crate) struct PingView {
    /// Its `webhook-id`, and its entry in the delivery log.
    #[schema(value_type = Guid)]
    event_id: String,
}

impl PingView {
    pub(crate) fn new(event_id: uuid::Uuid) -> Self {
        Self { event_id: event_id.to_string() }
    }
}

/// One event's delivery to a webhook, in its log.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = WebhookDelivery)]
pub(crate) struct DeliveryView<'a> {
    /// The event (each delivery's `webhook-id`).
    #[schema(value_type = Guid)]
    event_id: String,
    /// Its type: a feed type, `webhook.ping` for a test delivery, or `webhook.disabled` for the entry recording
    /// that the webhook was disabled after 10 events in a row were given up (not a delivery: it cannot be retried).
    #[serde(rename = "type")]
    #[schema(value_type = String, example = "pbx.enabled")]
    event_type: &'a str,
    /// Attempts made.
    attempts: u32,
    /// `pending` (to be tried again at `nextAttemptAt`), `delivered` (a 2xx) or `failed` (given up).
    #[schema(value_type = String, example = "delivered")]
    status: &'static str,
    /// The receiver's last status code, when it answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    last_status_code: Option<u16>,
    /// Why the last attempt failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    last_error: Option<&'a str>,
    /// How long the last attempt took.
    #[serde(skip_serializing_if = "Option::is_none")]
    duration_ms: Option<u64>,
    /// When the next attempt is due.
    #[serde(skip_serializing_if = "Option::is_none")]
    next_attempt_at: Option<String>,
    /// When the last attempt was made (RFC 3339, UTC); for the entry of a disabling, when it was recorded.
    #[schema(example = "2026-12-07T14:03:05.123456Z")]
    last_attempt_at: String,
}

impl<'a> DeliveryView<'a> {
    pub(crate) fn new(record: &'a pbx_application::delivery::DeliveryRecord) -> Self {
        Self {
            event_id: record.event_id.to_string(),
            event_type: &record.event_type,
            attempts: record.attempts,
            status: record.status,
            last_status_code: record.last_status_code,
            last_error: record.last_error.as_deref(),
            duration_ms: record.duration_ms,
            next_attempt_at: record.next_attempt_at.map(timestamp),
            last_attempt_at: timestamp(record.last_attempt_at),
        }
    }
}
