//! `POST /customers` and `GET /customers/{id}`.

use reqwest::StatusCode;
use reqwest::header::LOCATION;
use serde_json::json;

use crate::helpers::{TestServer, assert_error, assert_timestamp, error_fields, new_guid, read};

#[tokio::test]
async fn a_created_customer_can_be_read_back_by_its_reseller_only() {
    let server = TestServer::start().await;
    let tenant = new_guid();
    let token = server.token(&tenant, "onboarding");
    let request = json!({
        "name": "  Acme Corp ",
        "description": "Main office",
        "reference": "ACC-42",
        "countryCode": "gb",
        "timezone": "Europe/London",
        "enabled": "true"
    });
    let (status, headers, created) = read(server.post("/api/v1.0/customers", &token, &request, &[]).await).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["data"]["id"].as_str().unwrap().to_owned();
    assert_eq!(headers[LOCATION], format!("{}/api/v1.0/customers/{id}", server.base));
    let data = &created["data"];
    assert_eq!(data["name"], "Acme Corp");
    assert_eq!(data["countryCode"], "GB");
    assert_eq!(data["timezone"], "Europe/London");
    assert_eq!(data["enabled"], true);
    assert_eq!(data["parentTenantId"], tenant);
    assert_timestamp(&data["dateCreated"]);

    let (status, _, read_back) = read(server.get(&format!("/api/v1.0/customers/{id}"), &token).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(read_back["data"], created["data"]);

    let stranger = server.reseller();
    let (status, _, body) = read(server.get(&format!("/api/v1.0/customers/{id}"), &stranger).await).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "Not Found");
}

#[tokio::test]
async fn a_customer_has_defaults() {
    let server = TestServer::start().await;
    let token = server.reseller();
    let (_, _, body) = read(server.post("/api/v1.0/customers", &token, &json!({"name": "Acme"}), &[]).await).await;
    assert_eq!(body["data"]["countryCode"], "US");
    assert_eq!(body["data"]["timezone"], "UTC");
    assert_eq!(body["data"]["enabled"], false);
}

#[tokio::test]
async fn an_invalid_customer_is_400_listing_every_field() {
    let server = TestServer::start().await;
    let token = server.reseller();
    let request = json!({
        "description": "d".repeat(201),
        "countryCode": "ZZ",
        "timezone": "Mars/Olympus",
        "parentTenantId": new_guid(),
        "colour": "blue"
    });
    let (status, _, body) = read(server.post("/api/v1.0/customers", &token, &request, &[]).await).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "One or more fields are invalid.");
    // Fields the type does not have come last, in alphabetical order.
    assert_eq!(error_fields(&body), ["name", "description", "countryCode", "timezone", "colour", "parentTenantId"]);
}

#[tokio::test]
async fn a_customer_id_that_is_not_a_guid_is_400() {
    let server = TestServer::start().await;
    let token = server.reseller();
    let (status, _, body) = read(server.get("/api/v1.0/customers/acme", &token).await).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "The value 'acme' is not valid.");
}
