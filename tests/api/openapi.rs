//! The OpenAPI document and the docs page are served; the checked-in copy is the served one.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::TestServer;

#[tokio::test]
async fn the_served_openapi_document_is_the_checked_in_one() {
    let server = TestServer::start().await;
    let response = server.client.get(server.url("/api/openapi.json")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let served: Value = response.json().await.unwrap();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/openapi.json");
    let checked_in: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert!(served == checked_in, "docs/openapi.json has drifted from the code: run `make openapi` and commit it");
    assert_eq!(served["openapi"], "3.1.0");
    let create = &served["paths"]["/api/v1.0/customers/{customer_id}/pbxs"]["post"];
    let examples = &create["requestBody"]["content"]["application/json"]["examples"];
    assert_eq!(examples["Kazoo (the seed)"]["value"]["accountId"], "12345", "the seed's Kazoo example");
    assert_eq!(examples["3CX (the seed)"]["value"]["recordingArchiveFrequency"], "00:20:00", "the seed's 3CX example");
}

#[tokio::test]
async fn the_docs_page_is_served_without_the_internet() {
    let server = TestServer::start().await;
    // Written without its slash, the address leads to the page.
    let bare = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let moved = bare.get(server.url("/api/docs")).send().await.unwrap();
    assert_eq!(moved.status(), StatusCode::PERMANENT_REDIRECT);
    assert_eq!(moved.headers()[reqwest::header::LOCATION], "/api/docs/");
    let page = server.client.get(server.url("/api/docs")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.url().path() == "/api/docs/", "{}", page.url());
    let html = page.text().await.unwrap();
    assert!(html.contains("swagger-ui"), "{html}");
    for asset in ["/api/docs/swagger-ui.css", "/api/docs/swagger-ui-bundle.js", "/api/docs/swagger-initializer.js"] {
        let response = server.client.get(server.url(asset)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{asset}");
    }
}
