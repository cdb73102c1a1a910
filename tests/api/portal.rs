//! The portal page at `/`: served from the binary with a strict content security policy, and the development
//! token it offers on a server that mints its own tokens (the browser tests in tests/browser drive the page).

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::TestServer;

#[tokio::test]
async fn the_page_and_its_assets_are_served_with_a_strict_policy() {
    let server = TestServer::start().await;
    for (path, media_type, contains) in [
        ("/", "text/html; charset=utf-8", "<title>PBX profiles"),
        ("/portal/app.js", "text/javascript; charset=utf-8", "/api/openapi.json"),
        ("/portal/app.css", "text/css; charset=utf-8", ":root"),
    ] {
        let response = server.client.get(server.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert_eq!(response.headers()["content-type"], media_type, "{path}");
        let policy = response.headers()["content-security-policy"].to_str().unwrap().to_owned();
        assert!(policy.contains("script-src 'self'") && policy.contains("frame-ancestors 'none'"), "{policy}");
        assert!(response.text().await.unwrap().contains(contains), "{path}");
    }
}

#[tokio::test]
async fn a_loopback_server_that_mints_tokens_offers_a_development_token_that_works() {
    let server = TestServer::start().await;
    let config: Value =
        server.client.get(server.url("/portal/config.json")).send().await.unwrap().json().await.unwrap();
    assert_eq!(config, json!({"devTokens": true}));
    let response = server.client.post(server.url("/portal/dev-token")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["data"]["tenantId"], pbx_api::portal::DEV_TENANT);
    let token = body["data"]["token"].as_str().unwrap();
    assert_eq!(server.get("/api/v1.0/customers", token).await.status(), StatusCode::OK, "a token with every scope");
    assert_eq!(
        server.post("/api/v1.0/customers", token, &json!({"name": "Dev"}), &[]).await.status(),
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn a_server_on_other_interfaces_offers_no_development_token() {
    let server = TestServer::start_with(&[("PBX_BIND", "0.0.0.0:0")]).await;
    let config: Value =
        server.client.get(server.url("/portal/config.json")).send().await.unwrap().json().await.unwrap();
    assert_eq!(config, json!({"devTokens": false}));
    let response = server.client.post(server.url("/portal/dev-token")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}
