//! The change feed (`GET /api/v1.0/events`, and its copy on NATS JetStream): what happened to which resource, by
//! whom. Services downstream of the profile service (the collectors) read it with these types.
//!
//! ```
//! use pbx_domain::events::{Event, EventType};
//!
//! let event: Event = serde_json::from_str(r#"{
//!     "id": "0190f5a4-7a4e-7b7e-9a52-6f1f0e0c1d2e", "cursor": "42", "type": "pbx.enabled",
//!     "occurredAt": "2026-11-27T10:00:00Z", "resellerId": "5b2a2d4c-6f3e-4c8b-9d7a-1e2f3a4b5c6d",
//!     "customerId": "5b2a2d4c-6f3e-4c8b-9d7a-1e2f3a4b5c6e", "pbxId": "0190f5a4-7a4e-7b7e-9a52-6f1f0e0c1d2f",
//!     "actor": {"tenantId": "5b2a2d4c-6f3e-4c8b-9d7a-1e2f3a4b5c6d", "subject": "portal"},
//!     "changed": ["enabled"], "data": {"enabled": true, "_type": "ThreeCxConnectionProfile"}
//! }"#).unwrap();
//! assert_eq!(event.event_type, EventType::PbxEnabled);
//! assert_eq!(event.profile_enabled(), Some(true));
//! ```

use std::fmt;

use chrono::{DateTime, Utc};

pub use crate::pbx::Credentials;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// What changed: the event types of the feed, as their names (`pbx.enabled`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(example = "pbx.enabled"))]
pub enum EventType {
    /// A customer was created.
    #[serde(rename = "customer.created")]
    CustomerCreated,
    /// A customer was changed.
    #[serde(rename = "customer.updated")]
    CustomerUpdated,
    /// A customer was deleted.
    #[serde(rename = "customer.deleted")]
    CustomerDeleted,
    /// A profile was created.
    #[serde(rename = "pbx.created")]
    PbxCreated,
    /// A profile was changed, `enabled` aside.
    #[serde(rename = "pbx.updated")]
    PbxUpdated,
    /// A profile was turned on (with or without other changes): collection starts.
    #[serde(rename = "pbx.enabled")]
    PbxEnabled,
    /// A profile was turned off (with or without other changes): collection stops.
    #[serde(rename = "pbx.disabled")]
    PbxDisabled,
    /// A profile was deleted.
    #[serde(rename = "pbx.deleted")]
    PbxDeleted,
    /// A profile's credentials were read (by a collector).
    #[serde(rename = "pbx.credentials_read")]
    PbxCredentialsRead,
    /// A profile's connection state or reason changed (a check's result, or a collector's report): `data` is the
    /// profile with its `connection`.
    #[serde(rename = "pbx.connection_changed")]
    PbxConnectionChanged,
}

impl EventType {
    /// Every type, in the order of the contract.
    pub const ALL: [Self; 10] = [
        Self::CustomerCreated,
        Self::CustomerUpdated,
        Self::CustomerDeleted,
        Self::PbxCreated,
        Self::PbxUpdated,
        Self::PbxEnabled,
        Self::PbxDisabled,
        Self::PbxDeleted,
        Self::PbxCredentialsRead,
        Self::PbxConnectionChanged,
    ];

    /// The type's name (`pbx.enabled`).
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::CustomerCreated => "customer.created",
            Self::CustomerUpdated => "customer.updated",
            Self::CustomerDeleted => "customer.deleted",
            Self::PbxCreated => "pbx.created",
            Self::PbxUpdated => "pbx.updated",
            Self::PbxEnabled => "pbx.enabled",
            Self::PbxDisabled => "pbx.disabled",
            Self::PbxDeleted => "pbx.deleted",
            Self::PbxCredentialsRead => "pbx.credentials_read",
            Self::PbxConnectionChanged => "pbx.connection_changed",
        }
    }

    /// The type named `name`, if any.
    #[must_use]
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == name)
    }

    /// The type of a profile change: `pbx.enabled` or `pbx.disabled` when it turns `enabled` on or off, else
    /// `pbx.updated`.
    #[must_use]
    pub const fn of_profile_change(was_enabled: bool, is_enabled: bool) -> Self {
        match (was_enabled, is_enabled) {
            (false, true) => Self::PbxEnabled,
            (true, false) => Self::PbxDisabled,
            _ => Self::PbxUpdated,
        }
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who made a change: the tenant of the token, and its subject (`sub`) when the token names one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Actor {
    /// The token's tenant (the tenant above an account, for a change made through the account prefix).
    #[serde(rename = "tenantId")]
    #[cfg_attr(feature = "openapi", schema(value_type = crate::openapi::Guid))]
    pub reseller_id: Uuid,
    /// The token's subject (`sub`), when it names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub subject: Option<String>,
}

/// One event of the feed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Event {
    /// The event's id (the `Nats-Msg-Id` of its NATS message).
    #[cfg_attr(feature = "openapi", schema(value_type = crate::openapi::Guid))]
    pub id: Uuid,
    /// Where to resume after this event (`after=`); opaque.
    #[cfg_attr(feature = "openapi", schema(example = "42"))]
    pub cursor: String,
    /// What happened.
    #[serde(rename = "type")]
    pub event_type: EventType,
    /// When it was committed.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime, example = "2026-11-27T10:00:00.123456Z"))]
    pub occurred_at: DateTime<Utc>,
    /// The customer's reseller (or account).
    #[cfg_attr(feature = "openapi", schema(value_type = crate::openapi::Guid))]
    pub reseller_id: Uuid,
    /// The customer.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::openapi::Guid))]
    pub customer_id: Uuid,
    /// The profile, for a `pbx.*` event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::openapi::Guid>, nullable = false))]
    pub pbx_id: Option<Uuid>,
    /// Who made the change.
    pub actor: Actor,
    /// The fields an update changed (a changed secret is named, never shown).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub changed: Option<Vec<String>>,
    /// The resource as its get shows it after the change (never a secret); `null` for a delete and a credentials
    /// read. A customer's omits `pbxConnectionProfiles` (each profile has its own events).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub data: Option<serde_json::Value>,
}

impl Event {
    /// For a profile event, whether the profile is enabled after it (`data.enabled`).
    #[must_use]
    pub fn profile_enabled(&self) -> Option<bool> {
        self.data.as_ref()?.get("enabled")?.as_bool()
    }
}

/// A page of the feed: `next` is the cursor to ask `after=` next (the last event's, or the one given when the page
/// is empty).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventPage {
    /// The events, oldest first.
    pub data: Vec<Event>,
    /// The cursor to resume from.
    pub next: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_reads_back_from_its_name_and_serialises_as_it() {
        for t in EventType::ALL {
            assert_eq!(EventType::parse(t.as_str()), Some(t));
            assert_eq!(serde_json::to_value(t).unwrap(), serde_json::Value::from(t.as_str()));
        }
        assert_eq!(EventType::parse("pbx.exploded"), None);
    }

    #[test]
    fn a_change_of_enabled_is_its_own_type() {
        assert_eq!(EventType::of_profile_change(false, true), EventType::PbxEnabled);
        assert_eq!(EventType::of_profile_change(true, false), EventType::PbxDisabled);
        assert_eq!(EventType::of_profile_change(true, true), EventType::PbxUpdated);
        assert_eq!(EventType::of_profile_change(false, false), EventType::PbxUpdated);
    }

    #[test]
    fn credentials_never_show_in_debug() {
        let c = Credentials { password: Some("hunter2".into()), ..Credentials::default() };
        let shown = format!("{c:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("REDACTED"));
    }
}
