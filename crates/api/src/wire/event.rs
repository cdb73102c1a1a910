//! The change feed on the wire: events show resources as a get does ([`EventRender`]); the schemas below describe
//! `pbx_domain::events`' types, which the answers serialise (a collector reads them with the same types).

use pbx_application::Render;
use pbx_domain::{Customer, PbxProfile};
use serde_json::Value;
use utoipa::ToSchema;

use super::customer::CustomerView;
use super::profile::{ProfileView, Secrets};

/// Shows resources in events exactly as the get of each shows it.
#[derive(Debug, Clone, Copy, Default)]
pub struct EventRender;

impl Render for EventRender {
    fn customer(&self, customer: &Customer) -> Value {
        serde_json::to_value(CustomerView::new(customer)).unwrap_or(Value::Null)
    }

    fn profile(&self, profile: &PbxProfile) -> Value {
        serde_json::to_value(ProfileView::new(profile, Secrets::Hidden, &[])).unwrap_or(Value::Null)
    }
}

/// The event types.
#[derive(Debug, ToSchema)]
#[schema(as = EventType, example = "pbx.enabled")]
#[allow(dead_code)] // a schema
pub(crate) enum EventTypeDoc {
    #[schema(rename = "customer.created")]
    CustomerCreated,
    #[schema(rename = "customer.updated")]
    CustomerUpdated,
    #[schema(rename = "customer.deleted")]
    CustomerDeleted,
    #[schema(rename = "pbx.created")]
    PbxCreated,
    #[schema(rename = "pbx.updated")]
    PbxUpdated,
    #[schema(rename = "pbx.enabled")]
    PbxEnabled,
    #[schema(rename = "pbx.disabled")]
    PbxDisabled,
    #[schema(rename = "pbx.deleted")]
    PbxDeleted,
    #[schema(rename = "pbx.credentials_read")]
    PbxCredentialsRead,
}

/// Who made a change.
#[derive(Debug, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Actor)]
#[allow(dead_code)] // a schema
pub(crate) struct ActorDoc {
    /// The token's tenant.
    #[schema(value_type = super::Guid)]
    tenant_id: String,
    /// The token's subject (`sub`), when it names one.
    #[schema(nullable = false)]
    subject: Option<String>,
}

/// One change.
#[derive(Debug, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Event)]
#[allow(dead_code)] // a schema
pub(crate) struct EventDoc {
    /// The event's id (the `Nats-Msg-Id` of its NATS message).
    #[schema(value_type = super::Guid)]
    id: String,
    /// Where to resume after this event (`after=`); opaque.
    #[schema(example = "42")]
    cursor: String,
    #[serde(rename = "type")]
    event_type: EventTypeDoc,
    #[schema(format = DateTime, example = "2026-11-27T10:00:00.123456Z")]
    occurred_at: String,
    /// The customer's reseller (or account).
    #[schema(value_type = super::Guid)]
    reseller_id: String,
    #[schema(value_type = super::Guid)]
    customer_id: String,
    /// The profile, for a `pbx.*` event.
    #[schema(value_type = Option<super::Guid>, nullable = false)]
    pbx_id: Option<String>,
    actor: ActorDoc,
    /// The fields an update changed (a changed secret is named, never shown).
    #[schema(nullable = false)]
    changed: Option<Vec<String>>,
    /// The resource as its get shows it after the change (never a secret); `null` for a delete and a credentials
    /// read. A customer's omits `pbxConnectionProfiles` (each profile has its own events).
    #[schema(value_type = Option<Object>)]
    data: Option<Value>,
}

/// A page of the change feed.
#[derive(Debug, ToSchema)]
#[schema(as = EventPage)]
#[allow(dead_code)] // a schema
pub(crate) struct EventPageDoc {
    /// The events after the cursor, in commit order.
    data: Vec<EventDoc>,
    /// The cursor to ask `after=` next: the last event's, or the one given when the page is empty.
    #[schema(example = "42")]
    next: String,
    #[schema(example = "success")]
    status: String,
    #[schema(format = DateTime, example = "2026-11-27T10:00:00.1234567Z")]
    timestamp: String,
}
