//! 401 and 403 come before everything else, in the envelope, with `WWW-Authenticate`.

use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, WWW_AUTHENTICATE};
use serde_json::json;

use crate::helpers::{TestServer, assert_error, kazoo, new_guid, read};

const PATH_WITH_BAD_ID: &str = "/api/v1.0/customers/not-a-guid/pbxs";

#[tokio::test]
async fn requests_without_a_usable_token_are_401_before_anything_else() {
    let server = TestServer::start().await;
    let other_key = TestServer::start().await.reseller(); // signed with another server's key
    let cases: Vec<(Option<String>, &str, &str)> = vec![
        (None, "missing", "no Authorization header"),
        (Some("Basic dXNlcjpwYXNz".into()), "malformed", "another scheme"),
        (Some("Bearer".into()), "malformed", "no token"),
        (Some("Bearer not.a.jwt".into()), "malformed", "garbage"),
        (Some(format!("Bearer {other_key}")), "invalid", "badly signed"),
        (
            Some(format!(
                "Bearer eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{}.",
                "eyJ0ZW5hbnRfaWQiOiIxMTExMTExMS0xMTExLTQxMTEtODExMS0xMTExMTExMTExMTEiLCJleHAiOjQxMDI0NDQ4MDB9"
            )),
            "malformed",
            "alg none",
        ),
    ];
    for (authorization, why, case) in cases {
        let mut request =
            server.client.post(server.url(PATH_WITH_BAD_ID)).header(CONTENT_TYPE, "text/plain").body("not json");
        if let Some(value) = authorization {
            request = request.header(AUTHORIZATION, value);
        }
        let (status, headers, body) = read(request.send().await.unwrap()).await;
        assert_error(status, &body, StatusCode::UNAUTHORIZED, &format!("The bearer token is {why}."));
        assert_eq!(headers[WWW_AUTHENTICATE], r#"Bearer error="invalid_token""#, "{case}");
    }
}

#[tokio::test]
async fn an_expired_token_is_401() {
    let server = TestServer::start().await;
    let expired = token_expired_an_hour_ago(server.data_dir());
    let (status, _, body) = read(server.post("/api/v1.0/customers", &expired, &json!({"name": "x"}), &[]).await).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "The bearer token is expired.");
}

/// An HS256 token signed with the server's own key whose `exp` is an hour in the past (past the 60 s leeway).
fn token_expired_an_hour_ago(data_dir: &std::path::Path) -> String {
    use base64::Engine;
    let text = std::fs::read_to_string(data_dir.join("token.key")).unwrap();
    let key = base64::engine::general_purpose::STANDARD.decode(text.trim()).unwrap();
    let claims = json!({"tenant_id": new_guid(), "scope": "onboarding", "exp": chrono::Utc::now().timestamp() - 3600});
    jsonwebtoken::encode(&jsonwebtoken::Header::default(), &claims, &jsonwebtoken::EncodingKey::from_secret(&key))
        .unwrap()
}

#[tokio::test]
async fn a_token_without_the_scope_is_403_before_the_path_and_body_are_looked_at() {
    let server = TestServer::start().await;
    let tenant = new_guid();
    for (scope, path, needed) in [
        ("pbxs:read customers:write", PATH_WITH_BAD_ID, "pbxs:write"),
        ("pbxs:write", "/api/v1.0/customers", "customers:write"),
    ] {
        let token = server.token(&tenant, scope);
        let (status, _, body) = read(server.post(path, &token, &json!("not an object"), &[]).await).await;
        let message = format!("The token does not grant the scope '{needed}' this operation needs.");
        assert_error(status, &body, StatusCode::FORBIDDEN, &message);
    }
}

#[tokio::test]
async fn the_fine_scope_is_enough_without_onboarding() {
    let server = TestServer::start().await;
    let tenant = new_guid();
    let customer = server.customer(&server.token(&tenant, "customers:write")).await;
    let token = server.token(&tenant, "pbxs:write");
    let (status, _, body) = read(server.create_pbx(&token, &customer, &kazoo(&new_guid())).await).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let reader = server.token(&tenant, "customers:read");
    let (status, _, body) = read(server.get(&format!("/api/v1.0/customers/{customer}"), &reader).await).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}
