//! The OpenAPI 3.1 document, generated from the handlers' annotations, the wire types (`crate::wire`) they read
//! and write, and the envelopes that wrap them (`crate::envelope`, `crate::paging`): no schema here is a copy.

use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::envelope::{Failure, FieldError};

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
        description = "Resellers register the PBX connection profiles of their customers (one type per kind of \
                       phone system: see `NewPbxProfile`). Every \
                       answer wears the envelope; errors list every broken field.",
        version = "1.0"
    ),
    servers((url = "/", description = "The server that serves this document (at `/api/openapi.json`); every path is absolute")),
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
        crate::routes::accounts::create,
        crate::routes::accounts::list,
        crate::routes::accounts::get,
        crate::routes::accounts::patch,
        crate::routes::accounts::delete,
        crate::routes::accounts::metrics,
        crate::routes::webhooks::create,
        crate::routes::webhooks::list,
        crate::routes::webhooks::get,
        crate::routes::webhooks::patch,
        crate::routes::webhooks::delete,
        crate::routes::webhooks::rotate,
        crate::routes::webhooks::deliveries,
        crate::routes::webhooks::ping,
        crate::routes::webhooks::retry,
        crate::routes::events::feed,
        crate::routes::credentials::credentials,
        crate::routes::connection::check,
        crate::routes::connection::check_new,
        crate::routes::connection::report,
        crate::routes::health::healthz,
        crate::routes::health::readyz,
    ),
    components(schemas(Failure, FieldError)),
    modifiers(&BearerAuth),
    tags(
        (name = "PBX profiles", description = "How to reach a customer's phone system"),
        (name = "Customers", description = "A reseller's customers"),
        (name = "Accounts", description = "The enterprise tier: reseller tenants under the caller"),
        (name = "Webhooks", description = "Your endpoints that receive your events, signed (Standard Webhooks 1.0)"),
        (name = "Change feed", description = "Every change of a customer or a profile, in commit order, and the credentials collectors connect with"),
        (name = "Connection status", description = "Whether each profile reaches its PBX: the service's checks and collectors' reports (`connection` on every profile)"),
        (name = "Operations", description = "Health and readiness, without a token"),
    )
)]
#[derive(Debug)]
pub struct ApiDoc;

/// The document as served at `/api/openapi.json` (and checked in as `docs/openapi.json`): the generated one, with
/// the rules between fields that utoipa's schema model cannot hold (`if`/`then`) added by the body types that have
/// them.
#[must_use]
pub fn document() -> String {
    let Ok(mut document) = serde_json::to_value(ApiDoc::openapi()) else { return String::new() };
    let schemas = &mut document["components"]["schemas"];
    crate::wire::profile::three_cx::add_conditions(&mut schemas["NewThreeCxConnectionProfile"]);
    // A static key may not be one of the payload's fields: `not`, which utoipa's schema model cannot hold.
    schemas["StaticData"]["propertyNames"]["not"] = serde_json::json!({"enum": pbx_domain::webhook::PAYLOAD_FIELDS});
    refer_to_components(schemas);
    add_text_rule(&mut document["paths"]);
    add_account_prefix(&mut document["paths"]);
    serde_json::to_string_pretty(&document).unwrap_or_default()
}

/// The envelopes' `data` as a reference to its resource's schema (`Success_PbxProfile`'s to `PbxProfile`, a page's
/// items to theirs): utoipa writes a generic's parameter out in full inside each envelope, which left the resources'
/// own schemas unused and every generated client with two types for one resource.
fn refer_to_components(schemas: &mut serde_json::Value) {
    let Some(schemas) = schemas.as_object_mut() else { return };
    let envelopes: Vec<(String, String)> = schemas
        .keys()
        .filter_map(|name| {
            let (envelope, resource) = name.split_once('_')?;
            ["Success", "Collection"].contains(&envelope).then(|| (name.clone(), resource.to_owned()))
        })
        .collect();
    for (envelope, resource) in envelopes {
        let Some(schema) = schemas.get(&resource).cloned() else { continue };
        let reference = serde_json::json!({"$ref": format!("#/components/schemas/{resource}")});
        let data = &mut schemas[&envelope]["properties"]["data"];
        if *data == schema {
            *data = reference;
        } else if data.get("items") == Some(&schema) {
            data["items"] = reference;
        }
    }
}

/// The text rule of bodies on the text query parameters (`filter`, and `instanceId`, which must also be more than
/// white space), as `crate::query::QueryParams::text` applies it: one pattern, written once (`wire::text`).
fn add_text_rule(paths: &mut serde_json::Value) {
    let operations = paths.as_object_mut().into_iter().flat_map(|items| items.values_mut());
    for operation in operations.flat_map(|item| item.as_object_mut().into_iter().flat_map(|item| item.values_mut())) {
        // `get_mut`, not an index: indexing a missing key would insert `"parameters": null`.
        for parameter in operation.get_mut("parameters").and_then(serde_json::Value::as_array_mut).into_iter().flatten()
        {
            let non_blank = match parameter["name"].as_str() {
                Some("filter") => false,
                Some("instanceId") => true,
                _ => continue,
            };
            parameter["schema"]["pattern"] = crate::wire::text::query_pattern(non_blank).into();
            if let Some(description) = parameter["description"].as_str() {
                parameter["description"] = format!("{description}.{}", crate::wire::text::beyond_the_pattern()).into();
            }
        }
    }
}

/// Every customer and profile route again under `/api/v1.0/accounts/{account_tenant_id}` (the same handlers, acting
/// as the account): the same operation with the account's path parameter first, an operation id of its own, and a
/// 404 that also covers an account the caller may not act as.
fn add_account_prefix(paths: &mut serde_json::Value) {
    let Some(items) = paths.as_object_mut() else { return };
    let parameter = serde_json::json!({
        "name": crate::auth::ACTING_ACCOUNT,
        "in": "path",
        "required": true,
        "description": "The account acted as: the caller's own tenant, or an account under it (404 otherwise, like a \
                        missing account)",
        "schema": {"$ref": "#/components/schemas/Guid"},
    });
    let prefixed: Vec<(String, serde_json::Value)> = items
        .iter()
        .filter(|(path, _)| {
            path.starts_with("/api/v1.0/customers")
                || path.starts_with("/api/v1.0/webhooks")
                || path.as_str() == "/api/v1.0/pbxs"
        })
        .map(|(path, item)| {
            let mut item = item.clone();
            for operation in item.as_object_mut().into_iter().flat_map(|item| item.values_mut()) {
                if let Some(id) = operation["operationId"].as_str() {
                    operation["operationId"] = format!("{id}UnderAccount").into();
                }
                let parameters = operation["parameters"].as_array().cloned().unwrap_or_default();
                operation["parameters"] = std::iter::once(parameter.clone()).chain(parameters).collect();
                operation["tags"] = serde_json::json!(["Accounts"]);
                let not_found = &mut operation["responses"]["404"];
                let description = not_found["description"].as_str().map(|d| format!("{d}; or ")).unwrap_or_default();
                *not_found = serde_json::json!({
                    "description": format!("{description}no such account for the caller (missing, or neither the caller nor under it)"),
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorEnvelope"}}},
                });
            }
            let path =
                path.replacen("/api/v1.0", &format!("/api/v1.0/accounts/{{{}}}", crate::auth::ACTING_ACCOUNT), 1);
            (path, item)
        })
        .collect();
    items.extend(prefixed);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

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
            "/api/v1.0/accounts",
            "/api/v1.0/accounts/{account_id}",
            "/api/v1.0/accounts/{account_tenant_id}/customers/{customer_id}/pbxs/{pbx_id}",
            "/api/v1.0/accounts/{account_tenant_id}/pbxs",
            "/healthz",
            "/readyz",
        ] {
            assert!(paths.contains_key(path), "{path}");
        }
        assert_eq!(doc["components"]["schemas"]["PbxProfile"]["discriminator"]["propertyName"], "_type");
        // utoipa takes a literal maximum: it must be the bound the server applies.
        for list in ["/api/v1.0/customers", "/api/v1.0/customers/{customer_id}/pbxs"] {
            let parameters = doc["paths"][list]["get"]["parameters"].as_array().unwrap();
            let index = parameters.iter().find(|p| p["name"] == "pageIndex").unwrap();
            assert_eq!(index["schema"]["maximum"], crate::paging::MAX_INDEX, "{list}");
        }
        assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    }

    #[test]
    fn every_route_under_the_account_prefix_documents_its_404() {
        let doc: Value = serde_json::from_str(&document()).unwrap();
        let prefixed: Vec<(&String, &Value)> =
            doc["paths"].as_object().unwrap().iter().filter(|(path, _)| path.contains("{account_tenant_id}")).collect();
        assert_eq!(
            prefixed.len(),
            15,
            "customers, a customer, its profiles, a profile, its credentials, the lookup, webhooks, a webhook, its \
             secret, its deliveries, its ping, a retry, a check, a check before saving, a collector's report"
        );
        for (path, item) in prefixed {
            for (method, operation) in item.as_object().unwrap() {
                assert!(operation["responses"]["404"].is_object(), "{method} {path}");
                assert_eq!(operation["parameters"][0]["name"], crate::auth::ACTING_ACCOUNT, "{method} {path}");
            }
        }
    }

    #[test]
    fn an_account_patch_names_the_fields_of_an_account() {
        let doc: Value = serde_json::from_str(&document()).unwrap();
        let operations = doc["components"]["schemas"]["AccountPatchOperation"]["oneOf"].as_array().unwrap();
        let paths: Vec<&str> = operations
            .iter()
            .flat_map(|operation| operation["properties"]["path"]["enum"].as_array().into_iter().flatten())
            .filter_map(Value::as_str)
            .collect();
        for field in ["/name", "/description", "/reference", "/countryCode", "/timezone", "/enabled"] {
            assert!(paths.contains(&field), "{field} in {paths:?}");
        }
        assert!(operations.iter().all(|o| o["properties"]["path"]["enum"] != serde_json::json!([])), "no empty enum");
    }

    #[test]
    fn archiving_needs_a_frequency_in_the_document_too() {
        let doc: Value = serde_json::from_str(&document()).unwrap();
        let three_cx = &doc["components"]["schemas"]["NewThreeCxConnectionProfile"];
        assert_eq!(three_cx["then"]["required"][0], "recordingArchiveFrequency");
        assert!(three_cx["properties"]["enableRecordingArchive"].is_object(), "the names the condition uses exist");
        assert!(three_cx["properties"]["recordingArchiveFrequency"].is_object());
    }

    #[test]
    fn every_text_query_parameter_states_the_text_rule() {
        let doc: Value = serde_json::from_str(&document()).unwrap();
        let mut seen = Vec::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for parameter in
                item.as_object().unwrap().values().flat_map(|o| o["parameters"].as_array().into_iter().flatten())
            {
                let name = parameter["name"].as_str().unwrap();
                let cases: &[(&str, bool)] = match name {
                    "filter" => &[("Acme", true), ("", true), (" ", true), ("a\u{0}b", false), ("\u{202E}x", false)],
                    "instanceId" => {
                        &[("Acme", true), (" x ", true), (" ", false), ("a\u{0}b", false), ("\u{200B}", false)]
                    }
                    _ => continue,
                };
                let pattern = regex::Regex::new(parameter["schema"]["pattern"].as_str().unwrap()).unwrap();
                for (value, ok) in cases {
                    assert_eq!(pattern.is_match(value), *ok, "{path} {name}: {value:?}");
                }
                seen.push(format!("{path} {name}"));
            }
        }
        // Customers, accounts and webhooks listed, customers and webhooks under the prefix; the lookup, and again
        // under the prefix.
        assert_eq!(seen.len(), 7, "{seen:?}");
    }

    #[test]
    fn every_if_match_states_the_form_the_server_reads() {
        let doc: Value = serde_json::from_str(&document()).unwrap();
        let mut seen = 0;
        for operation in doc["paths"].as_object().unwrap().values().flat_map(|item| item.as_object().unwrap().values())
        {
            for parameter in operation["parameters"].as_array().into_iter().flatten() {
                if parameter["name"] == "If-Match" {
                    assert_eq!(parameter["schema"]["pattern"], crate::etag::IF_MATCH_PATTERN);
                    seen += 1;
                }
            }
        }
        // Customers, profiles, accounts and webhooks; customers, profiles and webhooks again under the account prefix.
        assert_eq!(seen, 14, "a PATCH and a DELETE of each resource");
    }
}
