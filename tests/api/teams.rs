//! The third PBX type, Microsoft Teams (contract §8): everything of §4 and §5 as for the other types.

use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, ETAG, LOCATION};
use serde_json::{Value, json};

use crate::helpers::{TestServer, assert_error, error_fields, new_guid, read};

fn teams(tenant: &str) -> Value {
    json!({"_type": "TeamsPbxConnectionProfile", "name": "Teams", "microsoftTenantId": tenant})
}

#[tokio::test]
async fn a_teams_profile_is_created_read_patched_found_and_deleted() {
    let server = TestServer::start().await;
    let token = server.reseller();
    let customer = server.customer(&token).await;
    let tenant = new_guid().to_uppercase();

    let (status, headers, created) = read(server.create_pbx(&token, &customer, &teams(&tenant)).await).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let data = &created["data"];
    let id = data["id"].as_str().unwrap();
    assert_eq!(data["microsoftTenantId"], tenant.to_lowercase(), "lower case out");
    assert_eq!((data["_type"].as_str(), data["enabled"].as_bool()), (Some("TeamsPbxConnectionProfile"), Some(false)));
    assert_eq!((data["tenantId"].as_str(), data["countryCode"].as_str()), (Some(customer.as_str()), Some("US")));
    let path = format!("/api/v1.0/customers/{customer}/pbxs/{id}");
    assert_eq!(headers[LOCATION], server.url(&path));

    let (status, _, read_back) = read(server.get(&path, &token).await).await;
    assert_eq!((status, &read_back["data"]), (StatusCode::OK, data));
    let (_, _, list) = read(server.get(&format!("/api/v1.0/customers/{customer}/pbxs"), &token).await).await;
    assert_eq!(list["data"][0]["_type"], "TeamsPbxConnectionProfile");

    // The instance is found under any case, with its ids for the owner.
    let (_, _, found) = read(server.get(&format!("/api/v1.0/pbxs?instanceId={tenant}"), &token).await).await;
    assert_eq!(found["data"], json!({"exists": true, "instanceId": tenant, "id": id, "tenantId": customer}));

    // Rename and enable in one patch (chargeable), then delete.
    let patch = |document: Value, charges: bool| {
        let mut request = server
            .client
            .patch(server.url(&path))
            .bearer_auth(&token)
            .header(CONTENT_TYPE, "application/json-patch+json")
            .body(document.to_string());
        if charges {
            request = request.header("accept-charges", "true");
        }
        async move { read(request.send().await.unwrap()).await }
    };
    let document = json!([{"op": "replace", "path": "/name", "value": "Teams HQ"}, {"op": "replace", "path": "/enabled", "value": true}]);
    let (status, _, _) = patch(document.clone(), false).await;
    assert_eq!(status, StatusCode::PAYMENT_REQUIRED);
    let (status, headers, patched) = patch(document, true).await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(
        (patched["data"]["name"].as_str(), patched["data"]["enabled"].as_bool()),
        (Some("Teams HQ"), Some(true))
    );
    assert_eq!(headers[ETAG], "\"2\"");
    let (status, _, body) = patch(json!([{"op": "add", "path": "/apiKey", "value": "x"}]), true).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["errors"], json!([{"field": "/apiKey", "message": "is not a field of TeamsPbxConnectionProfile"}]));

    let response = server.client.delete(server.url(&path)).bearer_auth(&token).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(server.get(&path, &token).await.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_microsoft_tenant_belongs_to_one_customer_whatever_its_case() {
    let server = TestServer::start().await;
    let (mine, theirs) = (server.reseller(), server.reseller());
    let (first, foreign) = (server.customer(&mine).await, server.customer(&theirs).await);
    let tenant = new_guid();
    let (status, _, _) = read(server.create_pbx(&mine, &first, &teams(&tenant)).await).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _, body) = read(server.create_pbx(&theirs, &foreign, &teams(&tenant.to_uppercase())).await).await;
    assert_error(status, &body, StatusCode::CONFLICT, "This PBX instance is already attached to a customer.");
    let (_, _, found) = read(server.get(&format!("/api/v1.0/pbxs?instanceId={tenant}"), &theirs).await).await;
    assert_eq!(found["data"], json!({"exists": true, "instanceId": tenant}), "no ids to another reseller");
}

#[tokio::test]
async fn a_teams_profile_with_a_bad_tenant_or_foreign_fields_is_400_listing_them() {
    let server = TestServer::start().await;
    let token = server.reseller();
    let customer = server.customer(&token).await;
    let mut body = teams("not-a-guid");
    body["apiKey"] = json!("ABCDEF");
    body["name"] = json!("");
    let (status, _, answer) = read(server.create_pbx(&token, &customer, &body).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert_eq!(error_fields(&answer), ["name", "microsoftTenantId", "apiKey"]);
    assert_eq!(answer["errors"][1]["message"], "must be a GUID such as 72f988bf-86f1-41af-91ab-2d7cd011db47");
}
