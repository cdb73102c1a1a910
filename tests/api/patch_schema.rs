//! The patch documents of the served OpenAPI document (`PbxPatchOperation`, `CustomerPatchOperation`) against the
//! handlers: every operation the document lists applies to a resource that has the field, with the value it has;
//! a field of another PBX type than the profile's is refused naming it (the one rejection of a schema-valid patch
//! besides the stateful ones, which scripts/schemathesis.toml allows in the stateful phase only).

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestServer, error_fields, kazoo, new_guid, read, three_cx};

/// The paths each kind of operation of `schema` (a `…PatchOperation` component) may name.
struct Listed {
    set: Vec<String>,
    remove: Vec<String>,
    test: Vec<String>,
}

fn listed(document: &Value, component: &str) -> Listed {
    let mut listed = Listed { set: Vec::new(), remove: Vec::new(), test: Vec::new() };
    for operation in document["components"]["schemas"][component]["oneOf"].as_array().unwrap() {
        let ops: Vec<&str> =
            operation["properties"]["op"]["enum"].as_array().unwrap().iter().map(|o| o.as_str().unwrap()).collect();
        let paths =
            operation["properties"]["path"]["enum"].as_array().unwrap().iter().map(|p| p.as_str().unwrap().to_owned());
        match ops.as_slice() {
            ["add", "replace"] => listed.set.extend(paths),
            ["remove"] => listed.remove.extend(paths),
            ["test"] => listed.test.extend(paths),
            other => panic!("unexpected operations {other:?}"),
        }
    }
    listed
}

async fn served_document(server: &TestServer) -> Value {
    read(server.client.get(server.url("/api/openapi.json")).send().await.unwrap()).await.2
}

async fn patch(server: &TestServer, token: &str, path: &str, operation: Value) -> (StatusCode, Value) {
    let (status, _, body) = read(server.patch(path, token, &operation, &[("accept-charges", "true")]).await).await;
    (status, body)
}

#[tokio::test]
async fn every_listed_operation_applies_to_a_profile_of_a_type_that_has_the_field() {
    let server = TestServer::start().await;
    let token = server.reseller();
    let customer = server.customer(&token).await;
    let document = served_document(&server).await;
    let listed = listed(&document, "PbxPatchOperation");
    assert!(listed.set.contains(&"/hostRest".to_owned()) && listed.set.contains(&"/licenseKey".to_owned()));

    let mut teams = json!({"_type": "TeamsPbxConnectionProfile", "name": "Teams", "microsoftTenantId": new_guid()});
    teams["countryCode"] = json!("FR");
    let bodies = [
        ("NewKazooPbxConnectionProfile", kazoo(&format!("acct-{}", new_guid()))),
        ("NewThreeCxConnectionProfile", three_cx(&format!("lic-{}", new_guid()))),
        ("NewTeamsPbxConnectionProfile", teams),
    ];
    for (schema, body) in bodies {
        let (status, _, created) = read(server.create_pbx(&token, &customer, &body).await).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        let view = created["data"].clone();
        let path = format!("/api/v1.0/customers/{customer}/pbxs/{}", view["id"].as_str().unwrap());
        let fields = &document["components"]["schemas"][schema]["properties"];
        let has = |pointer: &str| {
            let field = &pointer[1..];
            fields.get(field).is_some() || ["enabled", "id", "tenantId"].contains(&field)
        };
        for pointer in &listed.set {
            let field = &pointer[1..];
            let value = view.get(field).cloned().unwrap_or(json!(null));
            let (status, answer) =
                patch(&server, &token, &path, json!({"op": "replace", "path": pointer, "value": value})).await;
            if has(pointer) {
                assert_eq!(status, StatusCode::OK, "{schema} {pointer}: {answer}");
            } else {
                assert_eq!(status, StatusCode::BAD_REQUEST, "{schema} {pointer}: {answer}");
                assert_eq!(error_fields(&answer), std::slice::from_ref(pointer), "{schema}");
            }
        }
        for pointer in listed.test.iter().filter(|p| has(p)) {
            let (_, _, current) = read(server.get(&path, &token).await).await;
            let value = current["data"].get(&pointer[1..]).cloned().unwrap_or(json!(null));
            let (status, answer) =
                patch(&server, &token, &path, json!({"op": "test", "path": pointer, "value": value})).await;
            assert_eq!(status, StatusCode::OK, "{schema} test {pointer}: {answer}");
        }
        for pointer in listed.remove.iter().filter(|p| has(p)) {
            let (status, answer) = patch(&server, &token, &path, json!([{"op": "remove", "path": pointer}])).await;
            assert_eq!(status, StatusCode::OK, "{schema} remove {pointer}: {answer}");
        }
    }
}

#[tokio::test]
async fn every_listed_operation_applies_to_a_customer() {
    let server = TestServer::start().await;
    let token = server.reseller();
    let customer = server.customer(&token).await;
    let document = served_document(&server).await;
    let listed = listed(&document, "CustomerPatchOperation");
    let path = format!("/api/v1.0/customers/{customer}");
    let (_, _, current) = read(server.get(&path, &token).await).await;
    for pointer in listed.set.iter().chain(&listed.test) {
        let op = if listed.set.contains(pointer) { "replace" } else { "test" };
        let value = current["data"].get(&pointer[1..]).cloned().unwrap_or(json!(null));
        let (status, answer) = patch(&server, &token, &path, json!({"op": op, "path": pointer, "value": value})).await;
        assert_eq!(status, StatusCode::OK, "{op} {pointer}: {answer}");
    }
    for pointer in &listed.remove {
        let (status, answer) = patch(&server, &token, &path, json!({"op": "remove", "path": pointer})).await;
        assert_eq!(status, StatusCode::OK, "remove {pointer}: {answer}");
    }
    assert!(listed.remove.contains(&"/description".to_owned()) && !listed.remove.contains(&"/name".to_owned()));
}
