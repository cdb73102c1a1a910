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
