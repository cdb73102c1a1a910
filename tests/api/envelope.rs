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

/// Requests actix-http could not parse were answered by it with an empty body; they are checked first now (see
/// `crates/api/src/framing.rs`), so every answer wears the envelope, and the connection is closed after it.
#[tokio::test]
async fn a_malformed_request_is_answered_in_the_envelope_and_the_connection_closed() {
    let server = TestServer::start().await;
    let long_uri = format!("GET /api/v1.0/customers?x={} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(100_000));
    let big_head =
        format!("GET /api/v1.0/customers HTTP/1.1\r\nHost: x\r\n{}\r\n", "X-Filler: aaaaaaaaaa\r\n".repeat(3000));
    let many = format!("GET /api/v1.0/customers HTTP/1.1\r\nHost: x\r\n{}\r\n", "X-A: a\r\n".repeat(100));
    let cases: [(&[u8], u16, &str); 7] = [
        (b"GARBAGE\r\n\r\n", 400, "not well-formed"),
        (long_uri.as_bytes(), 414, "URI"),
        (big_head.as_bytes(), 431, "head"),
        (many.as_bytes(), 431, "header fields"),
        (b"POST /api/v1.0/customers HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400, "Transfer-Encoding"),
        (b"GET /api/v1.0/customers/\xff\xfe HTTP/1.1\r\nHost: x\r\n\r\n", 400, "ASCII"),
        (b"POST /api/v1.0/customers HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400, "Content-Length"),
    ];
    for (request, status, message) in cases {
        let answer = raw_bytes(&server.base, request).await;
        let label = String::from_utf8_lossy(&request[..request.len().min(60)]).into_owned();
        assert!(answer.starts_with(&format!("HTTP/1.1 {status} ")), "{label}: {answer}");
        assert!(answer.contains("connection: close"), "{label}: {answer}");
        let body = answer.split("\r\n\r\n").nth(1).unwrap_or_default();
        let body: serde_json::Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{label}: {e}: {answer}"));
        assert_eq!(
            (body["error"].as_u64(), body["status"].as_str()),
            (Some(u64::from(status)), Some("error")),
            "{label}"
        );
        assert!(body["message"].as_str().unwrap().contains(message), "{label}: {body}");
    }
}

/// A sound request and then a malformed one on the same connection: the first is answered as usual, the second in
/// the envelope after it.
#[tokio::test]
async fn a_malformed_request_after_a_sound_one_is_answered_after_it() {
    let server = TestServer::start().await;
    let answer =
        raw_bytes(&server.base, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /\xff HTTP/1.1\r\nHost: x\r\n\r\n").await;
    let second = answer.find("HTTP/1.1 400").unwrap_or_else(|| panic!("{answer}"));
    assert!(answer.starts_with("HTTP/1.1 200") && second > 0, "{answer}");
    assert!(answer[second..].contains(r#""error":400"#), "{answer}");
}

/// A head that stops half-way: 408 in the envelope once the request timeout has passed.
#[tokio::test]
async fn a_head_that_does_not_arrive_in_time_is_a_408_in_the_envelope() {
    let server = TestServer::start_with(&[("PBX_REQUEST_TIMEOUT", "1s")]).await;
    let answer = raw_bytes(&server.base, b"GET /api/v1.0/customers HTTP/1.1\r\nHost: x\r\n").await;
    assert!(answer.starts_with("HTTP/1.1 408") && answer.contains(r#""error":408"#), "{answer}");
}

/// A chunked body is read through, and the request after it on the same connection too.
#[tokio::test]
async fn a_chunked_body_and_the_request_after_it_are_answered() {
    let server = TestServer::start().await;
    let token = server.reseller();
    let body = r#"{"name": "Chunked"}"#;
    let request = format!(
        "POST /api/v1.0/customers HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\n\
         Transfer-Encoding: chunked\r\n\r\n5\r\n{}\r\n{:x}\r\n{}\r\n0\r\n\r\n\
         GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        &body[..5],
        body.len() - 5,
        &body[5..]
    );
    let answer = raw_bytes(&server.base, request.as_bytes()).await;
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
    assert!(answer.contains("Chunked") && answer.contains("HTTP/1.1 200"), "{answer}");
}

/// `request` sent as bytes on a new connection; everything answered until the server closes it (10 s at most).
async fn raw_bytes(base: &str, request: &[u8]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(base.trim_start_matches("http://")).await.unwrap();
    let _ = stream.write_all(request).await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(std::time::Duration::from_secs(10), stream.read_to_end(&mut answer)).await;
    String::from_utf8_lossy(&answer).into_owned()
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
