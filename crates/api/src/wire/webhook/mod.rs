//! A webhook on the wire (§13): what a reseller sends to register one, and what it reads back (the secret only
//! in the answer that made it).

mod view;

pub(crate) use view::{DeliveryView, PingView, WebhookView};

use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

use json_patch::PatchOperation;
use pbx_domain::events::EventType;
use pbx_domain::webhook::{
    MAX_RETRIES, MAX_STATIC_PAIRS, Webhook, WebhookFormat, WebhookMethod, WebhookName, WebhookSettings, check_url,
    retries, static_data, subscribable,
};
use serde::Deserialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;
use utoipa::openapi::Schema;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, OneOfBuilder, SchemaType, Type};

use super::field::{Field, FieldProblem, Problems, whole};
use super::patch::{PatchTarget, Rules, patch_document, patch_view};
use super::profile::optional_flag;
use super::text::Text;
use super::{Body, Fields, parse_body};
use crate::ApiError;

/// Fields of a webhook that the service sets.
const SET_BY_SERVICE: &[&str] = &["id", "secret", "dateCreated"];

/// A new webhook, or one patched.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = NewWebhook)]
pub(crate) struct WebhookBody {
    #[serde(default)]
    #[schema(schema_with = name, required = true)]
    name: Field<String>,
    #[serde(default)]
    #[schema(schema_with = url, required = true)]
    url: Field<String>,
    #[serde(default)]
    #[schema(schema_with = method)]
    method: Field<String>,
    #[serde(default)]
    #[schema(schema_with = format)]
    format: Field<String>,
    #[serde(default)]
    #[schema(schema_with = events)]
    events: Field<Vec<Value>>,
    #[serde(default)]
    #[schema(schema_with = static_data_schema)]
    static_data: Field<Map<String, Value>>,
    #[serde(default)]
    #[schema(schema_with = retries_schema)]
    retries: Field<serde_json::Number>,
    /// Whether deliveries are made (true when absent).
    #[serde(default)]
    #[schema(schema_with = optional_flag)]
    enabled: Field<bool>,
}

impl Body for WebhookBody {
    const KIND: &'static str = "a webhook";
    const SET_BY_SERVICE: &'static [&'static str] = SET_BY_SERVICE;
    fn fields() -> &'static Fields {
        static FIELDS: LazyLock<Fields> = LazyLock::new(Fields::of::<WebhookBody>);
        &FIELDS
    }
}

fn name() -> Schema {
    Text::Trimmed { max: 100 }.schema("A name for people (1–100 characters after trimming).", Some("CRM"))
}

fn url() -> Schema {
    ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::String))
        .max_length(Some(2048))
        .pattern(Some(pbx_domain::HttpUrl::pattern()))
        .description(Some(
            "Where deliveries go: an https URL on the public internet. Its host must not be, nor resolve to, a \
             loopback, private, link-local, unique-local or metadata address (400 otherwise; \
             `--webhooks-allow-private` allows them, and http).",
        ))
        .examples([serde_json::json!("https://crm.example.com/hooks/pbx")])
        .into()
}

fn one_of_names(names: &[&str], description: &str) -> Schema {
    OneOfBuilder::new()
        .item(ObjectBuilder::new().schema_type(SchemaType::Type(Type::String)).enum_values(Some(names.to_vec())))
        .item(ObjectBuilder::new().schema_type(SchemaType::Type(Type::Null)))
        .description(Some(description))
        .into()
}

fn method() -> Schema {
    let names: Vec<&str> = WebhookMethod::ALL.iter().map(|m| m.as_str()).collect();
    one_of_names(
        &names,
        "The method of a delivery: POST (the default) or PUT with the event in the body, GET with its fields as query parameters.",
    )
}

fn format() -> Schema {
    let names: Vec<&str> = WebhookFormat::ALL.iter().map(|f| f.as_str()).collect();
    one_of_names(&names, "The body of a delivery: json (the default), or form (application/x-www-form-urlencoded).")
}

/// The event types a webhook may subscribe to, in the contract's order.
fn subscribable_types() -> impl Iterator<Item = EventType> {
    EventType::ALL.into_iter().filter(|t| subscribable(*t))
}

fn events() -> Schema {
    let names: Vec<&str> = subscribable_types().map(EventType::as_str).collect();
    OneOfBuilder::new()
        .item(
            ArrayBuilder::new()
                .items(ObjectBuilder::new().schema_type(SchemaType::Type(Type::String)).enum_values(Some(names)))
                .min_items(Some(1))
                .unique_items(true),
        )
        .item(ObjectBuilder::new().schema_type(SchemaType::Type(Type::Null)))
        .description(Some("The event types delivered (the change feed's, but pbx.credentials_read); all when absent."))
        .into()
}

/// `StaticData` (a component of its own: client generators read a named object in a union, not an inline one).
pub(crate) struct StaticData;

impl utoipa::PartialSchema for StaticData {
    fn schema() -> utoipa::openapi::RefOr<Schema> {
        let value = ObjectBuilder::new()
            .schema_type(SchemaType::Type(Type::String))
            .max_length(Some(200))
            .pattern(Some(super::text::query_pattern(false)));
        let key = ObjectBuilder::new()
            .schema_type(SchemaType::Type(Type::String))
            .min_length(Some(1))
            .max_length(Some(200))
            .pattern(Some(super::text::query_pattern(true)));
        ObjectBuilder::new()
            .schema_type(SchemaType::Type(Type::Object))
            .property_names(Some(key))
            .additional_properties(Some(value))
            .max_properties(Some(MAX_STATIC_PAIRS))
            .description(Some(
                "Key/value strings each delivery carries besides the event's fields: at most 20 pairs, keys 1–200 \
                 and values 0–200 characters, no control characters, no key that is a field of the payload.",
            ))
            .into()
    }
}

impl utoipa::ToSchema for StaticData {
    fn name() -> std::borrow::Cow<'static, str> {
        std::borrow::Cow::Borrowed("StaticData")
    }
}

fn static_data_schema() -> Schema {
    OneOfBuilder::new()
        .item(utoipa::openapi::Ref::from_schema_name("StaticData"))
        .item(ObjectBuilder::new().schema_type(SchemaType::Type(Type::Null)))
        .description(Some("The pairs each delivery carries (none when absent)."))
        .into()
}

fn retries_schema() -> Schema {
    OneOfBuilder::new()
        .item(
            ObjectBuilder::new()
                .schema_type(SchemaType::Type(Type::Integer))
                .minimum(Some(0))
                .maximum(Some(MAX_RETRIES)),
        )
        .item(ObjectBuilder::new().schema_type(SchemaType::Type(Type::Null)))
        .description(Some("Attempts after the first, 0 to 10 (1 when absent), waiting attempt × 2 s between them."))
        .into()
}

/// A JSON array.
impl super::field::Wire for Vec<Value> {
    const EXPECTED: &'static str = "an array";
    fn from_json(value: Value) -> Option<Self> {
        match value {
            Value::Array(items) => Some(items),
            _ => None,
        }
    }
}

/// A JSON number.
impl super::field::Wire for serde_json::Number {
    const EXPECTED: &'static str = "a whole number";
    fn from_json(value: Value) -> Option<Self> {
        match value {
            Value::Number(number) => Some(number),
            _ => None,
        }
    }
}

/// A name among `all` (as `as_str` spells each), or the problem.
fn named<T: Copy>(
    field: Field<String>,
    name: &str,
    all: &[T],
    as_str: fn(T) -> &'static str,
    problems: &mut Problems,
) -> Option<Option<T>> {
    let choices = || all.iter().map(|t| as_str(*t)).collect::<Vec<_>>().join(", ");
    match field {
        Field::Missing => Some(None),
        Field::Given(text) => match all.iter().find(|t| as_str(**t) == text) {
            Some(found) => Some(Some(*found)),
            None => {
                problems.push(name, format!("must be one of {}", choices()));
                None
            }
        },
        Field::WrongType => {
            problems.push(name, format!("must be one of {}", choices()));
            None
        }
    }
}

fn parse_events(field: Field<Vec<Value>>, problems: &mut Problems) -> Option<Option<BTreeSet<EventType>>> {
    let items = match field {
        Field::Missing => return Some(None),
        Field::WrongType => {
            problems.push("events", "must be an array of event types");
            return None;
        }
        Field::Given(items) => items,
    };
    if items.is_empty() {
        problems.push("events", "must name at least one event type (leave it out for all)");
        return None;
    }
    let mut types = BTreeSet::new();
    let mut valid = true;
    for (index, item) in items.iter().enumerate() {
        match item.as_str().and_then(EventType::parse).filter(|t| subscribable(*t)) {
            Some(event) if types.insert(event) => {}
            Some(_) => {
                problems.push(&format!("events.{index}"), "is listed twice");
                valid = false;
            }
            None => {
                let names: Vec<&str> = subscribable_types().map(EventType::as_str).collect();
                problems.push(&format!("events.{index}"), format!("must be one of {}", names.join(", ")));
                valid = false;
            }
        }
    }
    valid.then_some(Some(types))
}

fn parse_static_data(field: Field<Map<String, Value>>, problems: &mut Problems) -> Option<BTreeMap<String, String>> {
    let object = match field {
        Field::Missing => return Some(BTreeMap::new()),
        Field::WrongType => {
            problems.push("staticData", "must be an object of strings");
            return None;
        }
        Field::Given(object) => object,
    };
    let mut pairs = BTreeMap::new();
    for (key, value) in object {
        let Value::String(value) = value else {
            problems.push(&format!("staticData.{key}"), "must be a string");
            return None;
        };
        pairs.insert(key, value);
    }
    static_data(pairs).map_err(|e| problems.push("staticData", e.to_string())).ok()
}

/// The settings a body describes; `allow_private` lets a URL be plain `http` or name a private address.
///
/// # Errors
/// Every broken field, then every field a webhook does not have.
pub(crate) fn parse(object: Map<String, Value>, allow_private: bool) -> Result<WebhookSettings, Vec<FieldProblem>> {
    parse_body(object, |body: WebhookBody| {
        let mut problems = Problems::default();
        let name = body.name.required("name", WebhookName::parse, &mut problems);
        let url = body.url.required("url", |url| check_url(url, allow_private), &mut problems);
        let method = named(body.method, "method", &WebhookMethod::ALL, WebhookMethod::as_str, &mut problems);
        let format = named(body.format, "format", &WebhookFormat::ALL, WebhookFormat::as_str, &mut problems);
        let events = parse_events(body.events, &mut problems);
        let static_data = parse_static_data(body.static_data, &mut problems);
        let retries = match body.retries {
            Field::Missing => Some(1),
            Field::Given(number) => whole(&number).and_then(|n| retries(n).ok()),
            Field::WrongType => None,
        };
        if retries.is_none() {
            problems.push("retries", format!("must be a whole number from 0 to {MAX_RETRIES}"));
        }
        let enabled = body.enabled.or("enabled", true, &mut problems);
        problems.or_build(|| {
            Some(WebhookSettings {
                name: name?,
                url: url?,
                method: method?.unwrap_or_default(),
                format: format?.unwrap_or_default(),
                events: events?,
                static_data: static_data?,
                retries: retries?,
                enabled: enabled?,
            })
        })
    })
}

/// What a patch may do to a webhook's fields.
fn rules() -> Rules<'static> {
    Rules { kind: WebhookBody::KIND, fields: WebhookBody::fields(), read_only: SET_BY_SERVICE, writable: &[] }
}

/// What `operations` make of `current`: its view patched, then read back as the body of a create.
///
/// # Errors
/// 400 listing every operation that cannot apply or every problem of the patched webhook; 409 for a failed `test`.
pub(crate) fn patched(
    current: &Webhook,
    operations: Vec<PatchOperation>,
    allow_private: bool,
) -> Result<WebhookSettings, ApiError> {
    let view = patch_view(WebhookView::new(current, None), operations, &rules())?;
    parse(view, allow_private).map_err(ApiError::Invalid)
}

patch_document!(
    /// A JSON Patch document for a webhook.
    WebhookPatch,
    "WebhookPatch",
    PatchTarget::of::<WebhookBody>(&rules(), &[])
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::object;

    #[test]
    fn a_minimal_body_takes_the_defaults() {
        let settings =
            parse(object(serde_json::json!({"name": "CRM", "url": "https://crm.example.com/h"})), false).unwrap();
        assert_eq!(
            (settings.method, settings.format, settings.retries, settings.enabled),
            (WebhookMethod::Post, WebhookFormat::Json, 1, true)
        );
        assert_eq!(settings.events, None);
    }

    #[test]
    fn every_broken_field_is_listed() {
        let body = serde_json::json!({
            "name": "", "url": "http://crm.example.com/", "method": "DELETE", "format": "xml",
            "events": ["pbx.credentials_read", "customer.created", "customer.created"],
            "staticData": {"k": 1}, "retries": 11, "enabled": "maybe", "secret": "whsec_x"
        });
        let problems = parse(object(body), false).unwrap_err();
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(
            fields,
            ["name", "url", "method", "format", "events.0", "events.2", "staticData.k", "retries", "enabled", "secret"]
        );
    }

    #[test]
    fn a_view_reads_back_as_the_same_settings() {
        let body = serde_json::json!({
            "name": "CRM", "url": "https://crm.example.com/h", "method": "PUT", "format": "form",
            "events": ["pbx.enabled"], "staticData": {"source": "pbx"}, "retries": 3, "enabled": false
        });
        let settings = parse(object(body), false).unwrap();
        let webhook = Webhook {
            id: pbx_domain::WebhookId::from_uuid(uuid::Uuid::from_u128(1)),
            owner: pbx_domain::ResellerId::from_uuid(uuid::Uuid::from_u128(2)),
            date_created: chrono::DateTime::UNIX_EPOCH,
            settings: settings.clone(),
        };
        let mut view = object(serde_json::to_value(WebhookView::new(&webhook, None)).unwrap());
        for field in SET_BY_SERVICE {
            view.remove(*field);
        }
        assert_eq!(parse(view, false).unwrap(), settings);
    }

    /// The URL is kept as sent: a patch reads back the same text (a normalised one could outgrow the limit).
    #[test]
    fn the_url_is_kept_as_sent() {
        let sent = format!("HTTPS://CRM.example.com?{}", "0".repeat(2020));
        let settings = parse(object(serde_json::json!({"name": "CRM", "url": sent})), false).unwrap();
        assert_eq!(settings.url.as_str(), sent);
    }
}
