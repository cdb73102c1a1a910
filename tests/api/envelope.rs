//! Answers actix gives on its own wear the envelope too.

use reqwest::StatusCode;
use reqwest::header::CONTENT_TYPE;

use crate::helpers::{TestServer, assert_error, raw_http, read};

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

/// Requests actix-http cannot parse, and a head that does not arrive in time, are answered by actix-http itself,
/// with an empty body: those answers go out in the envelope (`crates/api/src/framing.rs`), and the connection is
/// closed after them.
#[tokio::test]
async fn a_malformed_request_is_answered_in_the_envelope_and_the_connection_closed() {
    let server = TestServer::start().await;
    let long_uri = format!("GET /api/v1.0/customers?x={} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(100_000));
    let big_head =
        format!("GET /api/v1.0/customers HTTP/1.1\r\nHost: x\r\n{}\r\n", "X-Filler: aaaaaaaaaa\r\n".repeat(3000));
    let many = format!("GET /api/v1.0/customers HTTP/1.1\r\nHost: x\r\n{}\r\n", "X-A: a\r\n".repeat(100));
    let cases: [(&[u8], u16); 7] = [
        (b"GARBAGE\r\n\r\n", 400),
        (long_uri.as_bytes(), 414),
        (big_head.as_bytes(), 431),
        (many.as_bytes(), 431),
        (b"POST /api/v1.0/customers HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
        (b"GET /api/v1.0/customers/\xff\xfe HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        (b"POST /api/v1.0/customers HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400),
    ];
    for (request, status) in cases {
        let answer = raw_http(&server.base, request).await;
        let label = String::from_utf8_lossy(&request[..request.len().min(60)]).into_owned();
        assert_raw_error(&answer, status, &label);
        assert!(answer.contains("connection: close"), "{label}: {answer}");
    }
}

/// `answer` is one answer in the envelope, with `status`.
fn assert_raw_error(answer: &str, status: u16, label: &str) {
    assert!(answer.starts_with(&format!("HTTP/1.1 {status} ")), "{label}: {answer}");
    assert!(answer.contains("content-type: application/json"), "{label}: {answer}");
    let body = answer.split("\r\n\r\n").nth(1).unwrap_or_default();
    let body: serde_json::Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{label}: {e}: {answer}"));
    assert_eq!((body["error"].as_u64(), body["status"].as_str()), (Some(u64::from(status)), Some("error")), "{label}");
    assert!(!body["message"].as_str().unwrap_or_default().is_empty(), "{label}: {body}");
}

/// A sound request and then a malformed one on the same connection: the first is answered as usual, the second in
/// the envelope after it.
#[tokio::test]
async fn a_malformed_request_after_a_sound_one_is_answered_after_it() {
    let server = TestServer::start().await;
    let answer =
        raw_http(&server.base, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /\xff HTTP/1.1\r\nHost: x\r\n\r\n").await;
    let second = answer.find("HTTP/1.1 400").unwrap_or_else(|| panic!("{answer}"));
    assert!(answer.starts_with("HTTP/1.1 200") && second > 0, "{answer}");
    assert_raw_error(&answer[second..], 400, "after a sound request");
}

/// A head that stops half-way: 408 in the envelope once the request timeout has passed.
#[tokio::test]
async fn a_head_that_does_not_arrive_in_time_is_a_408_in_the_envelope() {
    let server = TestServer::start_with(&[("PBX_REQUEST_TIMEOUT", "1s")]).await;
    let answer = raw_http(&server.base, b"GET /api/v1.0/customers HTTP/1.1\r\nHost: x\r\n").await;
    assert_raw_error(&answer, 408, "a late head");
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
