//! The OpenAPI 3.1 document, generated from the handlers' annotations and the schemas below. The schemas describe
//! the wire format; the views and drafts produce and read it (the conformance run checks that they agree).

#![allow(dead_code)] // the schema types exist to be described, never built

use serde::Serialize;
use serde_json::Value;
use utoipa::openapi::ObjectBuilder;
use utoipa::openapi::schema::{OneOfBuilder, Schema, SchemaType, Type};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

/// A boolean, or the strings `"true"`/`"false"` as the platform's own examples send them.
fn flag() -> Schema {
    OneOfBuilder::new()
        .item(ObjectBuilder::new().schema_type(SchemaType::Type(Type::Boolean)))
        .item(ObjectBuilder::new().schema_type(SchemaType::Type(Type::String)).enum_values(Some(["true", "false"])))
        .description(Some("A boolean; the strings \"true\" and \"false\" are accepted too."))
        .into()
}

/// The same, or null (taken as absent), in a request.
fn optional_flag() -> Schema {
    OneOfBuilder::new()
        .item(ObjectBuilder::new().schema_type(SchemaType::Type(Type::Boolean)))
        .item(ObjectBuilder::new().schema_type(SchemaType::Type(Type::String)).enum_values(Some(["true", "false"])))
        .item(ObjectBuilder::new().schema_type(SchemaType::Type(Type::Null)))
        .description(Some("A boolean; the strings \"true\" and \"false\" are accepted too; null is the default."))
        .into()
}

/// The `_type` of a Kazoo profile.
#[derive(Serialize, ToSchema)]
pub(crate) enum KazooType {
    KazooPbxConnectionProfile,
}

/// The `_type` of a 3CX profile.
#[derive(Serialize, ToSchema)]
pub(crate) enum ThreeCxType {
    ThreeCxConnectionProfile,
}

/// A Kazoo PBX connection profile.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct KazooPbxConnectionProfile {
    /// The REST API's base URL.
    #[schema(example = "https://rest.example.com")]
    host_rest: String,
    /// The websocket's URL.
    #[schema(example = "wss://ws.example.com")]
    host_websocket: String,
    /// The Kazoo account (1–64 visible characters); unique across the system.
    #[schema(min_length = 1, max_length = 64, example = "12345")]
    account_id: String,
    /// The account's API key: only in the answer to the create that sent it.
    #[schema(min_length = 1, max_length = 256, example = "ABCDEF")]
    api_key: Option<String>,
    /// Whether sub-accounts are monitored too.
    #[schema(schema_with = flag)]
    monitor_sub_accounts: Value,
    #[serde(rename = "_type")]
    #[schema(inline)]
    pbx_type: KazooType,
    /// The profile's id.
    #[schema(pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")]
    id: String,
    /// A name for people (1–100 characters).
    #[schema(example = "Clients ~.pbx.kazoo.name.~ Pbx")]
    name: String,
    /// The customer's tenant id.
    #[schema(pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")]
    tenant_id: String,
    /// ISO 3166-1 alpha-2.
    #[schema(example = "US", pattern = "^[A-Z]{2}$")]
    country_code: String,
    /// Whether the platform uses the profile (false on create; enabling is chargeable).
    enabled: bool,
}

/// A 3CX PBX connection profile.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ThreeCxConnectionProfile {
    #[serde(rename = "_type")]
    #[schema(inline)]
    pbx_type: ThreeCxType,
    /// A name for people (1–100 characters).
    #[schema(example = "3CX Connexion")]
    name: String,
    /// The 3CX licence (1–64 visible characters); unique across the system.
    #[schema(min_length = 1, max_length = 64, example = "licenseKey-licenseKey-licenseKey")]
    license_key: String,
    /// The 3CX user to sign in as.
    #[schema(min_length = 1, max_length = 256)]
    username: String,
    /// That user's password: only in the answer to the create that sent it.
    #[schema(min_length = 1, max_length = 256)]
    password: Option<String>,
    /// Whether call recordings are archived.
    #[schema(schema_with = flag)]
    enable_recording_archive: Value,
    /// A .NET TimeSpan `[d.]hh:mm:ss[.fffffff]`, positive, at most a day; required when archiving.
    #[schema(example = "00:20:00")]
    recording_archive_frequency: Option<String>,
    #[schema(pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")]
    id: String,
    #[schema(pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")]
    tenant_id: String,
    #[schema(example = "US", pattern = "^[A-Z]{2}$")]
    country_code: String,
    enabled: bool,
}

/// A PBX connection profile, chosen by `_type`.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
#[schema(discriminator = "_type")]
pub(crate) enum PbxProfile {
    Kazoo(KazooPbxConnectionProfile),
    ThreeCx(ThreeCxConnectionProfile),
}

/// A new Kazoo profile.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct NewKazooPbxConnectionProfile {
    #[serde(rename = "_type")]
    #[schema(inline)]
    pbx_type: KazooType,
    /// A name for people (1–100 characters).
    #[schema(min_length = 1, max_length = 100, example = "Clients ~.pbx.kazoo.name.~ Pbx")]
    name: String,
    /// The REST API's base URL (http or https).
    #[schema(example = "https://rest.example.com")]
    host_rest: String,
    /// The websocket's URL (ws or wss).
    #[schema(example = "wss://ws.example.com")]
    host_websocket: String,
    /// The Kazoo account (1–64 visible characters); unique across the system.
    #[schema(min_length = 1, max_length = 64, example = "12345")]
    account_id: String,
    /// The account's API key (1–256 characters): stored encrypted, never shown again after this create.
    #[schema(min_length = 1, max_length = 256, example = "ABCDEF", format = Password)]
    api_key: String,
    /// Whether sub-accounts are monitored too (false when absent).
    #[schema(schema_with = optional_flag)]
    monitor_sub_accounts: Option<Value>,
    /// ISO 3166-1 alpha-2; the customer's country when absent.
    #[schema(example = "US")]
    country_code: Option<String>,
}

/// A new 3CX profile.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct NewThreeCxConnectionProfile {
    #[serde(rename = "_type")]
    #[schema(inline)]
    pbx_type: ThreeCxType,
    /// A name for people (1–100 characters).
    #[schema(min_length = 1, max_length = 100, example = "3CX Connexion")]
    name: String,
    /// The 3CX licence (1–64 visible characters); unique across the system.
    #[schema(min_length = 1, max_length = 64)]
    license_key: String,
    /// The 3CX user to sign in as (1–256 characters).
    #[schema(min_length = 1, max_length = 256)]
    username: String,
    /// That user's password (1–256 characters): stored encrypted, never shown again after this create.
    #[schema(min_length = 1, max_length = 256, format = Password)]
    password: String,
    /// Whether call recordings are archived (false when absent).
    #[schema(schema_with = optional_flag)]
    enable_recording_archive: Option<Value>,
    /// How often recordings are archived: `[d.]hh:mm:ss`, positive, at most a day; required when archiving.
    #[schema(example = "00:20:00")]
    recording_archive_frequency: Option<String>,
    /// ISO 3166-1 alpha-2; the customer's country when absent.
    #[schema(example = "US")]
    country_code: Option<String>,
}

/// A new PBX connection profile, chosen by `_type`; fields of another type are refused.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
#[schema(discriminator = "_type")]
pub(crate) enum NewPbxProfile {
    Kazoo(NewKazooPbxConnectionProfile),
    ThreeCx(NewThreeCxConnectionProfile),
}

/// A profile in a list.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PbxSummary {
    #[schema(pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")]
    id: String,
    name: String,
    #[serde(rename = "_type")]
    #[schema(example = "KazooPbxConnectionProfile")]
    pbx_type: String,
    #[schema(pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")]
    tenant_id: String,
    country_code: String,
    enabled: bool,
}

/// A customer of a reseller.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Customer {
    #[schema(pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")]
    id: String,
    #[schema(example = "Acme")]
    name: String,
    description: Option<String>,
    reference: Option<String>,
    #[schema(example = "US")]
    country_code: String,
    #[schema(example = "UTC")]
    timezone: String,
    enabled: bool,
    /// The reseller's tenant id.
    #[schema(pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")]
    parent_tenant_id: String,
    #[schema(example = "2019-11-29T16:03:23.9251680Z")]
    date_created: String,
}

/// A new customer.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct NewCustomer {
    #[schema(min_length = 1, max_length = 100, example = "Acme")]
    name: String,
    #[schema(max_length = 200)]
    description: Option<String>,
    #[schema(max_length = 200)]
    reference: Option<String>,
    /// ISO 3166-1 alpha-2, `US` when absent.
    #[schema(example = "FR")]
    country_code: Option<String>,
    /// An IANA time zone, `UTC` when absent.
    #[schema(example = "Europe/Paris")]
    timezone: Option<String>,
    #[schema(schema_with = optional_flag)]
    enabled: Option<Value>,
}

/// The operations of JSON Patch this API applies.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum PatchOperationKind {
    Add,
    Remove,
    Replace,
    Test,
}

/// One operation of a JSON Patch document (RFC 6902).
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PatchOperation {
    op: PatchOperationKind,
    /// A JSON Pointer to a field, such as `/name`.
    #[schema(example = "/enabled")]
    path: String,
    /// The value, for `add`, `replace` and `test`.
    #[schema(value_type = Option<Object>, example = "true")]
    value: Option<Value>,
}

/// Whether a PBX instance is attached; `id` and `tenantId` only when it is attached to one of your customers.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct InstanceLookup {
    exists: bool,
    instance_id: String,
    #[schema(pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")]
    id: Option<String>,
    #[schema(pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")]
    tenant_id: Option<String>,
}

/// One broken field of a request.
#[derive(Serialize, ToSchema)]
pub(crate) struct FieldError {
    #[schema(example = "hostRest")]
    field: String,
    #[schema(example = "must use the http or https scheme")]
    message: String,
}

/// An error.
#[derive(Serialize, ToSchema)]
pub(crate) struct ErrorEnvelope {
    /// The HTTP status.
    #[schema(example = 404)]
    error: u16,
    #[schema(example = "Not Found")]
    message: String,
    #[schema(example = "error")]
    status: String,
    #[schema(example = "2020-02-06T12:46:58.7669535Z")]
    timestamp: String,
    /// Every broken field, on a 400 about fields.
    errors: Option<Vec<FieldError>>,
}

macro_rules! envelope {
    ($(#[$meta:meta])* $name:ident, $data:ty) => {
        $(#[$meta])*
        #[derive(Serialize, ToSchema)]
        pub(crate) struct $name {
            data: $data,
            #[schema(example = "success")]
            status: String,
            #[schema(example = "2019-11-29T16:03:23.9251680Z")]
            timestamp: String,
        }
    };
}

envelope!(
    /// A profile in the envelope.
    PbxProfileEnvelope,
    PbxProfile
);
envelope!(
    /// A customer in the envelope.
    CustomerEnvelope,
    Customer
);
envelope!(
    /// The answer to an instance lookup.
    InstanceLookupEnvelope,
    InstanceLookup
);

/// The state of the process or of its database.
#[derive(Serialize, ToSchema)]
pub(crate) struct Health {
    #[schema(example = "ready")]
    status: String,
}

envelope!(
    /// Health or readiness.
    HealthEnvelope,
    Health
);

macro_rules! page {
    ($(#[$meta:meta])* $name:ident, $item:ty) => {
        $(#[$meta])*
        #[derive(Serialize, ToSchema)]
        pub(crate) struct $name {
            /// Items in this page.
            page_size: u64,
            /// The page, from 0.
            page_index: u64,
            data: Vec<$item>,
            #[schema(example = "success")]
            status: String,
            timestamp: String,
        }
    };
}

page!(
    /// A page of profiles.
    PbxSummaryPage,
    PbxSummary
);
page!(
    /// A page of customers.
    CustomerPage,
    Customer
);

/// The answer to a delete.
#[derive(Serialize, ToSchema)]
pub(crate) struct Deleted {
    #[schema(example = "success")]
    status: String,
    timestamp: String,
}

/// The answers of every route that needs a token, before anything else is looked at.
#[derive(utoipa::IntoResponses)]
pub(crate) enum AuthFailures {
    /// The bearer token is missing, malformed, expired or invalid
    #[response(status = 401)]
    Unauthorized(ErrorEnvelope),
    /// The token lacks the scope
    #[response(status = 403)]
    Forbidden(ErrorEnvelope),
}

/// The bearer-token security scheme.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut scheme = Http::new(HttpAuthScheme::Bearer);
        scheme.bearer_format = Some("JWT".to_owned());
        scheme.description = Some(
            "A JWT naming the reseller tenant (claim `tenant_id` by default) with scopes in `scope`: `onboarding` \
             (everything), `customers:read`, `customers:write`, `pbxs:read`, `pbxs:write`. In the embedded default, \
             `pbx-server token --tenant <guid>` prints one."
                .to_owned(),
        );
        components.add_security_scheme("bearer", SecurityScheme::Http(scheme));
    }
}

/// The API's OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "PBX profile service",
        description = "Resellers register the PBX connection profiles (Kazoo, 3CX) of their customers. Every \
                       answer wears the envelope; errors list every broken field.",
        version = "1.0"
    ),
    paths(
        crate::routes::pbxs::create,
        crate::routes::pbxs::list,
        crate::routes::pbxs::get,
        crate::routes::pbxs::patch,
        crate::routes::pbxs::delete,
        crate::routes::pbxs::lookup,
        crate::routes::customers::create,
        crate::routes::customers::list,
        crate::routes::customers::get,
        crate::routes::customers::patch,
        crate::routes::customers::delete,
        crate::routes::health::healthz,
        crate::routes::health::readyz,
    ),
    components(schemas(ErrorEnvelope, FieldError)),
    modifiers(&BearerAuth),
    tags(
        (name = "PBX profiles", description = "How to reach a customer's phone system"),
        (name = "Customers", description = "A reseller's customers"),
        (name = "Operations", description = "Health and readiness, without a token"),
    )
)]
#[derive(Debug)]
pub struct ApiDoc;

/// The document as served at `/api/openapi.json` (and checked in as `docs/openapi.json`).
#[must_use]
pub fn document() -> String {
    ApiDoc::openapi().to_pretty_json().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_lists_every_route_with_its_security() {
        let doc: Value = serde_json::from_str(&document()).unwrap();
        assert_eq!(doc["openapi"], "3.1.0");
        let paths = doc["paths"].as_object().unwrap();
        for path in [
            "/api/v1.0/customers/{customer_id}/pbxs",
            "/api/v1.0/customers/{customer_id}/pbxs/{pbx_id}",
            "/api/v1.0/pbxs",
            "/api/v1.0/customers",
            "/api/v1.0/customers/{customer_id}",
            "/healthz",
            "/readyz",
        ] {
            assert!(paths.contains_key(path), "{path}");
        }
        assert_eq!(doc["components"]["schemas"]["PbxProfile"]["discriminator"]["propertyName"], "_type");
        assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    }
}
