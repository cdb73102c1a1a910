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
    let server = TestServer::start_with(&[("PBX_DEV_TOKENS", "true")]).await;
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

async fn offers_no_development_token(server: &TestServer) {
    let config: Value =
        server.client.get(server.url("/portal/config.json")).send().await.unwrap().json().await.unwrap();
    assert_eq!(config, json!({"devTokens": false}));
    let response = server.client.post(server.url("/portal/dev-token")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn development_tokens_are_off_unless_asked_for() {
    offers_no_development_token(&TestServer::start().await).await;
}

#[tokio::test]
async fn development_tokens_are_refused_outside_loopback_and_with_an_identity_provider() {
    let server = TestServer::start().await;
    for (flags, says) in [
        (&["--dev-tokens", "--bind", "0.0.0.0:0"][..], "--dev-tokens needs a loopback --bind"),
        (&["--dev-tokens", "--jwks", "/nonexistent/jwks.json"][..], "--dev-tokens cannot be used with --jwks"),
    ] {
        let refused = server.run(&[&["serve"][..], flags].concat());
        assert!(!refused.status.success(), "{flags:?}");
        assert!(String::from_utf8_lossy(&refused.stderr).contains(says), "{flags:?}");
    }
}

/// A reverse proxy on the same host reaches the server from loopback and, like nginx's `proxy_pass
/// http://127.0.0.1:8080`, may keep the loopback Host: whoever reaches the proxy would get a write token.
#[tokio::test]
async fn no_development_token_through_a_proxy() {
    let server = TestServer::start_with(&[("PBX_DEV_TOKENS", "true")]).await;
    for (header, value) in [
        ("x-forwarded-for", "203.0.113.7"),
        ("forwarded", "for=203.0.113.7;proto=https"),
        ("x-forwarded-proto", "https"),
        ("x-forwarded-host", "pbx.example.com"),
    ] {
        let response = server.client.post(server.url("/portal/dev-token")).header(header, value).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{header}");
    }
    let direct = server.client.post(server.url("/portal/dev-token")).send().await.unwrap();
    assert_eq!(direct.status(), StatusCode::OK, "the same request, sent directly");
}
