//! Webhooks as a resource (§13): created with a secret shown once, read, patched, rotated and deleted by their
//! owner alone, on both route families; a target the service may not call is refused.

use reqwest::StatusCode;
use reqwest::header::{ETAG, IF_MATCH, LOCATION};
use serde_json::{Value, json};

use crate::helpers::{TestServer, error_fields, new_guid, read};

fn webhook(url: &str) -> Value {
    json!({"name": "CRM", "url": url, "events": ["customer.created", "pbx.enabled"], "staticData": {"source": "pbx"}})
}

async fn patch(server: &TestServer, path: &str, token: &str, etag: &str, body: &Value) -> reqwest::Response {
    server
        .client
        .patch(server.url(path))
        .bearer_auth(token)
        .header(IF_MATCH, etag)
        .header("content-type", "application/json-patch+json")
        .body(body.to_string())
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_reseller_creates_reads_patches_rotates_and_deletes_its_webhook() {
    let server = TestServer::start_with(&[("PBX_WEBHOOKS_ALLOW_PRIVATE", "true")]).await;
    let token = server.reseller();
    let (status, headers, body) =
        read(server.post("/api/v1.0/webhooks", &token, &webhook("http://127.0.0.1:9/hooks"), &[]).await).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let created = &body["data"];
    let id = created["id"].as_str().unwrap().to_owned();
    let secret = created["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"), "{secret}");
    assert_eq!(headers[LOCATION].to_str().unwrap(), server.url(&format!("/api/v1.0/webhooks/{id}")));
    assert_eq!(headers[ETAG], "\"1\"");
    assert_eq!(
        (created["method"].as_str(), created["format"].as_str(), created["retries"].as_u64()),
        (Some("POST"), Some("json"), Some(1))
    );
    assert_eq!(created["events"], json!(["customer.created", "pbx.enabled"]));
    assert_eq!(created["staticData"], json!({"source": "pbx"}));

    let path = format!("/api/v1.0/webhooks/{id}");
    let (status, headers, body) = read(server.get(&path, &token).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[ETAG], "\"1\"");
    assert!(body["data"].get("secret").is_none(), "the secret is shown once: {body}");
    let (_, _, list) = read(server.get("/api/v1.0/webhooks", &token).await).await;
    assert_eq!(list["data"].as_array().unwrap().len(), 1, "{list}");

    let disable = json!([{"op": "replace", "path": "/enabled", "value": false}, {"op": "remove", "path": "/events"}]);
    let (status, headers, body) = read(patch(&server, &path, &token, "\"1\"", &disable).await).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(headers[ETAG], "\"2\"");
    assert_eq!(body["data"]["enabled"], false);
    assert_eq!(body["data"]["events"].as_array().unwrap().len(), 8, "all the feed's types but credentials reads");
    let stale = read(patch(&server, &path, &token, "\"1\"", &disable).await).await;
    assert_eq!(stale.0, StatusCode::PRECONDITION_FAILED);
    let secret_patch = json!([{"op": "replace", "path": "/secret", "value": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}]);
    let (status, _, body) = read(patch(&server, &path, &token, "\"2\"", &secret_patch).await).await;
    assert_eq!((status, error_fields(&body)), (StatusCode::BAD_REQUEST, vec!["/secret".to_owned()]), "{body}");

    let (status, headers, body) = read(server.post(&format!("{path}/secret"), &token, &json!({}), &[]).await).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(headers[ETAG], "\"3\"");
    let rotated = body["data"]["secret"].as_str().unwrap();
    assert!(rotated.starts_with("whsec_") && rotated != secret);

    let deleted = server.client.delete(server.url(&path)).bearer_auth(&token).send().await.unwrap();
    assert_eq!(deleted.status(), StatusCode::OK);
    assert_eq!(server.get(&path, &token).await.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn another_tenant_sees_nothing_and_an_account_has_its_own_webhooks() {
    let server = TestServer::start_with(&[("PBX_WEBHOOKS_ALLOW_PRIVATE", "true")]).await;
    let (owner, stranger) = (server.reseller(), server.reseller());
    let (_, _, body) =
        read(server.post("/api/v1.0/webhooks", &owner, &webhook("http://127.0.0.1:9/"), &[]).await).await;
    let path = format!("/api/v1.0/webhooks/{}", body["data"]["id"].as_str().unwrap());
    assert_eq!(server.get(&path, &stranger).await.status(), StatusCode::NOT_FOUND);
    let deleted = server.client.delete(server.url(&path)).bearer_auth(&stranger).send().await.unwrap();
    assert_eq!(deleted.status(), StatusCode::NOT_FOUND);
    let (_, _, list) = read(server.get("/api/v1.0/webhooks", &stranger).await).await;
    assert_eq!(list["data"], json!([]));

    // Under the account prefix, the account's own webhooks.
    let (_, _, account) = read(server.post("/api/v1.0/accounts", &owner, &json!({"name": "Brand"}), &[]).await).await;
    let prefix = format!("/api/v1.0/accounts/{}", account["data"]["id"].as_str().unwrap());
    let (status, headers, body) =
        read(server.post(&format!("{prefix}/webhooks"), &owner, &webhook("http://127.0.0.1:9/"), &[]).await).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert!(headers[LOCATION].to_str().unwrap().contains(&format!("{prefix}/webhooks/")));
    let (_, _, list) = read(server.get(&format!("{prefix}/webhooks"), &owner).await).await;
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    let (_, _, list) = read(server.get("/api/v1.0/webhooks", &owner).await).await;
    assert_eq!(list["data"].as_array().unwrap().len(), 1, "the owner's own, not the account's");
}

#[tokio::test]
async fn webhooks_need_their_scopes() {
    let server = TestServer::start().await;
    let reader = server.token(&new_guid(), "webhooks:read");
    let refused = server.post("/api/v1.0/webhooks", &reader, &webhook("https://crm.example.com/"), &[]).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(server.get("/api/v1.0/webhooks", &reader).await.status(), StatusCode::OK);
    let other = server.token(&new_guid(), "customers:read");
    assert_eq!(server.get("/api/v1.0/webhooks", &other).await.status(), StatusCode::FORBIDDEN);
}

/// No server-side request forgery: a URL naming this host, a private network or the metadata service, or plain
/// http, is refused on create and on patch (and the name `localhost`, by what it resolves to).
#[tokio::test]
async fn a_target_the_service_may_not_call_is_refused() {
    let server = TestServer::start().await;
    let token = server.reseller();
    for url in [
        "https://127.0.0.1/hooks",
        "https://10.0.0.8/",
        "https://169.254.169.254/latest/meta-data/",
        "https://[::1]:8443/",
        "https://[fd00::1]/",
        "https://localhost:8443/",
        "http://crm.example.com/",
    ] {
        let (status, _, body) = read(server.post("/api/v1.0/webhooks", &token, &webhook(url), &[]).await).await;
        assert_eq!((status, error_fields(&body)), (StatusCode::BAD_REQUEST, vec!["url".to_owned()]), "{url}: {body}");
    }
    let (_, _, list) = read(server.get("/api/v1.0/webhooks", &token).await).await;
    assert_eq!(list["data"], json!([]), "nothing stored");
}
