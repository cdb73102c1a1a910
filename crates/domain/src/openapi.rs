//! The OpenAPI schemas of the domain's wire types (the `openapi` feature): the change feed's events, the credentials,
//! and the form of every id ([`Guid`]).

use std::borrow::Cow;

use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType, Type};
use utoipa::{PartialSchema, ToSchema};

/// The schema of every id, in paths and in bodies, written once (ids are read as `uuid::Uuid`s or the domain's id
/// types; this names their form in the document).
#[derive(Debug)]
pub struct Guid;

impl PartialSchema for Guid {
    fn schema() -> RefOr<Schema> {
        #[allow(deprecated)] // `example`: the document has always shown one
        let object = ObjectBuilder::new()
            .schema_type(SchemaType::Type(Type::String))
            .description(Some(
                "A GUID (any case in, lower case out): the schema of every id, in paths and in bodies, written once.",
            ))
            .pattern(Some("^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"))
            .example(Some(serde_json::Value::from("5b2a2d4c-6f3e-4c8b-9d7a-1e2f3a4b5c6d")));
        RefOr::T(Schema::Object(object.build()))
    }
}

impl ToSchema for Guid {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Guid")
    }
}
