//! The wire format, once: each resource's request body (which reads every field whatever was sent, collects every
//! problem in one pass and turns itself into domain values) and its answer view. The OpenAPI document is generated
//! from these same types, and what a body type's schema says of its fields (their names, which are required,
//! which are secrets) is what the unknown-field check and the JSON Patch rules use: nothing to keep in step by hand.

pub(crate) mod account;
pub(crate) mod customer;
pub(crate) mod event;
pub(crate) mod field;
pub(crate) mod patch;
pub(crate) mod profile;
pub(crate) mod text;
pub(crate) mod values;
pub(crate) mod webhook;

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use utoipa::PartialSchema;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{KnownFormat, Schema, SchemaFormat};

use field::FieldProblem;

pub(crate) use pbx_domain::openapi::Guid;

/// What a body type's schema says of its fields.
#[derive(Debug, Default)]
pub(crate) struct Fields {
    /// Every field, in the schema's order.
    pub(crate) names: Vec<String>,
    /// The fields that must be sent.
    pub(crate) required: Vec<String>,
    /// The fields whose values are secrets (`format: password`).
    pub(crate) secrets: Vec<String>,
}

impl Fields {
    /// The fields of `T`'s schema.
    pub(crate) fn of<T: PartialSchema>() -> Self {
        let RefOr::T(Schema::Object(object)) = T::schema() else { return Self::default() };
        let secrets = object
            .properties
            .iter()
            .filter(|(_, property)| {
                matches!(property, RefOr::T(Schema::Object(p)) if p.format == Some(SchemaFormat::KnownFormat(KnownFormat::Password)))
            })
            .map(|(name, _)| name.clone())
            .collect();
        Self { names: object.properties.keys().cloned().collect(), required: object.required.clone(), secrets }
    }

    /// Whether `name` is one of the fields.
    pub(crate) fn has(&self, name: &str) -> bool {
        self.names.iter().any(|n| n == name)
    }

    /// Whether `name` must be sent.
    pub(crate) fn is_required(&self, name: &str) -> bool {
        self.required.iter().any(|n| n == name)
    }
}

/// A request body type.
pub(crate) trait Body: DeserializeOwned + PartialSchema {
    /// What the body describes, for messages (`KazooPbxConnectionProfile`, `a customer`).
    const KIND: &'static str;
    /// Fields a client may see but never send: the service sets them.
    const SET_BY_SERVICE: &'static [&'static str];
    /// Its fields, read once from its schema.
    fn fields() -> &'static Fields;
}

/// `schema` with `title`: what a form labels the field with (the portal; client generators name things after it),
/// where the field's name would read like a developer's.
pub(crate) fn titled(mut schema: utoipa::openapi::Schema, title: &str) -> utoipa::openapi::Schema {
    use utoipa::openapi::Schema;
    match &mut schema {
        Schema::Object(object) => object.title = Some(title.to_owned()),
        Schema::OneOf(one_of) => one_of.title = Some(title.to_owned()),
        _ => {}
    }
    schema
}

/// `object` read as a `T` and turned into a value by `parse`.
///
/// # Errors
/// Every problem: those `parse` finds in `T`'s fields, then each field `T` does not have.
pub(crate) fn parse_body<T: Body, U>(
    object: Map<String, Value>,
    parse: impl FnOnce(T) -> Result<U, Vec<FieldProblem>>,
) -> Result<U, Vec<FieldProblem>> {
    let (body, mut unknown) = read::<T>(object);
    let mut problems = match body.map(parse) {
        Some(Ok(value)) if unknown.is_empty() => return Ok(value),
        Some(Ok(_)) => Vec::new(),
        Some(Err(problems)) => problems,
        // Cannot happen (fields never fail to read), but never a 400 without a reason.
        None => vec![FieldProblem::new("", format!("is not {}", T::KIND))],
    };
    problems.append(&mut unknown);
    Err(problems)
}

/// Reads `object` as a `T`, after taking out (and noting) the fields `T` does not have.
fn read<T: Body>(mut object: Map<String, Value>) -> (Option<T>, Vec<FieldProblem>) {
    let fields = T::fields();
    // In the order of their names, whatever order they were sent in.
    let mut unknown: Vec<String> = object.keys().filter(|key| !fields.has(key)).cloned().collect();
    unknown.sort();
    let problems = unknown
        .into_iter()
        .map(|key| {
            object.remove(&key);
            let message = if T::SET_BY_SERVICE.contains(&key.as_str()) {
                "is set by the service and cannot be sent".to_owned()
            } else {
                format!("is not a field of {}", T::KIND)
            };
            FieldProblem::new(key, message)
        })
        .collect();
    (serde_json::from_value(Value::Object(object)).ok(), problems)
}

/// `value`, a JSON object in the unit tests of the wire format, as the bodies' parsers take it.
#[cfg(test)]
#[allow(clippy::panic)] // a test's own input
pub(crate) fn object(value: Value) -> Map<String, Value> {
    let Value::Object(object) = value else { panic!("an object") };
    object
}

/// Arbitrary JSON for the property tests of the wire format: `words` among the strings, `keys` among the object
/// keys, both mixed with random ones, nested a few levels.
#[cfg(test)]
pub(crate) fn arbitrary_json(
    words: Vec<&'static str>,
    keys: Vec<String>,
) -> impl proptest::strategy::Strategy<Value = Value> {
    use proptest::prelude::*;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        prop::sample::select(words).prop_map(Value::from),
        ".{0,40}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 48, 6, move |inner| {
        let key = prop_oneof![prop::sample::select(keys.clone()), ".{0,12}"];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(key, inner, 0..6).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}
