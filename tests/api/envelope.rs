//! Answers actix gives on its own wear the envelope too.

use reqwest::StatusCode;
use reqwest::header::CONTENT_TYPE;

use crate::helpers::{TestServer, assert_error, read};

#[tokio::test]
async fn unknown_routes_and_methods_answer_in_the_envelope() {
    let server = TestServer::start().await;
    let token = server.reseller();
    let (status, headers, body) = read(server.get("/api/v1.0/nothing-here", &token).await).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "Not Found");
    assert_eq!(headers[CONTENT_TYPE], "application/json; charset=utf-8");
    let (status, _, body) = read(server.get("/nothing-here", &token).await).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "Not Found");
    let response = server.client.delete(server.url("/api/v1.0/customers")).send().await.unwrap();
    let (status, _, body) = read(response).await;
    assert_error(status, &body, StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed");
}

#[tokio::test]
async fn every_answer_carries_a_request_id_and_keeps_the_clients() {
    let server = TestServer::start().await;
    let response = server.client.get(server.url("/x")).header("x-request-id", "abc-123").send().await.unwrap();
    assert_eq!(response.headers()["x-request-id"], "abc-123");
    let response = server.client.get(server.url("/x")).send().await.unwrap();
    assert_eq!(response.headers()["x-request-id"].len(), 36);
}

#[tokio::test]
async fn a_malformed_request_gets_an_error_not_a_hang() {
    let server = TestServer::start().await;
    let answer = crate::helpers::raw_http(&server.base, "GARBAGE\r\n\r\n").await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
}

/// RFC 9110 §9.3.2: `HEAD` is answered wherever `GET` is, with the `GET`'s head (its length and type) and no body.
#[tokio::test]
async fn head_is_answered_wherever_get_is_with_the_head_of_the_get() {
    let server = TestServer::start().await;
    let token = server.reseller();
    let customer = server.customer(&token).await;
    for path in ["/api/v1.0/customers".to_owned(), format!("/api/v1.0/customers/{customer}"), "/healthz".to_owned()] {
        let got = server.get(&path, &token).await;
        let (got_status, got_type, got_length) =
            (got.status(), got.headers()[CONTENT_TYPE].clone(), got.bytes().await.unwrap().len());
        let head = server.client.head(server.url(&path)).bearer_auth(&token).send().await.unwrap();
        assert_eq!(head.status(), got_status, "{path}");
        assert_eq!(head.headers()[CONTENT_TYPE], got_type, "{path}");
        let length: usize = head.headers()["content-length"].to_str().unwrap().parse().unwrap();
        assert_eq!(length, got_length, "{path}: the GET's length");
        assert!(head.bytes().await.unwrap().is_empty(), "{path}: no body");
    }
    let response = server.client.delete(server.url("/api/v1.0/customers")).send().await.unwrap();
    assert_eq!(response.headers()["allow"], "GET, HEAD, POST");
}
