//! Fakes of the systems connection checks call, on loopback (feature `test-support`): a Kazoo Crossbar, a blackhole
//! websocket, an Entra authority, and rude servers. Each counts the requests it answered.
//!
//! Crossbar answers by API key ([`key`] pads a word to Kazoo's 64 characters): `good` is account `acct1`'s key,
//! `parent` a parent account's (it reads `acct1`, `disabled`; `foreign` answers 403), `limited` 429, `garbage` a body
//! that is not JSON, `huge` a gigabyte, `redirect` a redirect to the metadata address; a key not 64 long 400, any
//! other 404. Blackhole answers by path: `/ok` pongs and accepts the subscription, `/refuse` refuses it (its error
//! carrying the token, as blackhole's do), `/silent` never answers. Entra: tenants ending in `…0001` exist and
//! consented, `…0002` have not consented, `…0003` lack the role, `…000000000000` do not exist.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::missing_panics_doc)] // test fixtures

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use base64::Engine;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::Message;

/// The token Crossbar hands out: a test checks that it shows nowhere.
pub const TOKEN: &str = "tok-SECRET-token-never-shown";

/// A 64-character API key starting with `what`.
#[must_use]
pub fn key(what: &str) -> String {
    format!("{what:x<64}")
}

/// What a fake answers: a status and a JSON body, raw bytes, or a rude behaviour.
#[derive(Debug)]
pub enum Answer {
    /// A status and a JSON body.
    Json(u16, Value),
    /// These bytes, as they are.
    Raw(&'static [u8]),
    /// A 201 announcing a gigabyte, sent until the client hangs up.
    Huge,
    /// Nothing, for a minute.
    Silent,
}

/// A fake HTTP server on loopback: its base URL and how many requests it read.
#[derive(Debug, Clone)]
pub struct Fake {
    /// `http://127.0.0.1:<port>` (or `ws://…`).
    pub url: String,
    requests: Arc<AtomicU64>,
}

impl Fake {
    /// Requests read so far.
    #[must_use]
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::SeqCst)
    }
}

/// A one-request-per-connection HTTP server answering through `route(method, path, body)`.
pub async fn http(route: fn(&str, &str, &Value) -> Answer) -> Fake {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let requests = Arc::new(AtomicU64::new(0));
    let counted = Arc::clone(&requests);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let _ = stream.set_nodelay(true);
            tokio::spawn(serve(stream, route, Arc::clone(&counted)));
        }
    });
    Fake { url: format!("http://{address}"), requests }
}

async fn serve(mut stream: TcpStream, route: fn(&str, &str, &Value) -> Answer, requests: Arc<AtomicU64>) {
    let mut head = Vec::new();
    let mut byte = [0_u8; 1];
    while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).await.is_ok_and(|n| n == 1) {
        head.push(byte[0]);
    }
    requests.fetch_add(1, Ordering::SeqCst);
    let head = String::from_utf8_lossy(&head).to_string();
    let length = head
        .lines()
        .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().unwrap_or(0)))
        .unwrap_or(0_usize);
    let mut body = vec![0_u8; length];
    let _ = stream.read_exact(&mut body).await;
    let mut request_line = head.split_whitespace();
    let (method, path) = (request_line.next().unwrap_or(""), request_line.next().unwrap_or(""));
    let body: Value =
        serde_json::from_slice(&body).unwrap_or_else(|_| Value::from(String::from_utf8_lossy(&body).to_string()));
    match route(method, path, &body) {
        Answer::Json(status, value) => {
            let text = value.to_string();
            let answer = format!(
                "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{text}",
                text.len()
            );
            let _ = stream.write_all(answer.as_bytes()).await;
        }
        Answer::Raw(bytes) => {
            let _ = stream.write_all(bytes).await;
        }
        Answer::Huge => {
            let _ = stream.write_all(b"HTTP/1.1 201 Created\r\ncontent-length: 1073741824\r\n\r\n").await;
            let chunk = vec![b'x'; 64 * 1024];
            while stream.write_all(&chunk).await.is_ok() {}
        }
        Answer::Silent => tokio::time::sleep(Duration::from_secs(60)).await,
    }
}

/// Kazoo's Crossbar (see the module's documentation).
#[must_use]
pub fn crossbar(method: &str, path: &str, body: &Value) -> Answer {
    let path = path.strip_prefix("/v2").unwrap_or(path);
    if method == "PUT" && path == "/api_auth" {
        let api_key = body.pointer("/data/api_key").and_then(Value::as_str).unwrap_or_default();
        let authenticated =
            |account: &str| Answer::Json(201, json!({"auth_token": TOKEN, "data": {"account_id": account}}));
        return match api_key {
            k if k.len() != 64 => Answer::Json(400, json!({"message": "invalid key", "data": {"api_key": k}})),
            k if k == key("good") => authenticated("acct1"),
            k if k == key("parent") => authenticated("parent"),
            k if k == key("limited") => Answer::Json(429, json!({})),
            k if k == key("garbage") => Answer::Raw(b"HTTP/1.1 201 Created\r\ncontent-length: 7\r\n\r\nnotjson"),
            k if k == key("huge") => Answer::Huge,
            k if k == key("redirect") => Answer::Raw(
                b"HTTP/1.1 307 Temporary Redirect\r\nlocation: http://169.254.169.254/\r\ncontent-length: 0\r\n\r\n",
            ),
            _ => Answer::Json(404, json!({"message": "not found"})),
        };
    }
    match (method, path) {
        ("GET", "/accounts/acct1") => Answer::Json(200, json!({"data": {"id": "acct1", "enabled": true}})),
        ("GET", "/accounts/disabled") => Answer::Json(200, json!({"data": {"id": "disabled", "enabled": false}})),
        ("GET", "/accounts/foreign") => Answer::Json(403, json!({"message": "forbidden"})),
        _ => Answer::Json(404, json!({"message": "bad identifier"})),
    }
}

/// A blackhole websocket (see the module's documentation).
pub async fn blackhole() -> Fake {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let requests = Arc::new(AtomicU64::new(0));
    let counted = Arc::clone(&requests);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
            // Two messages per answer (an event, then the answer), as a server that does not wait between writes.
            let _ = stream.set_nodelay(true);
            tokio::spawn(websocket(stream));
        }
    });
    Fake { url: format!("ws://{address}"), requests }
}

#[allow(clippy::result_large_err)] // tungstenite's handshake callback returns its own error type
async fn websocket(stream: TcpStream) {
    let mut path = String::new();
    let callback = |request: &tokio_tungstenite::tungstenite::handshake::server::Request, response| {
        path = request.uri().path().to_owned();
        Ok(response)
    };
    let Ok(mut socket) = tokio_tungstenite::accept_hdr_async(stream, callback).await else { return };
    while let Some(Ok(Message::Text(text))) = socket.next().await {
        let request: Value = serde_json::from_str(text.as_str()).unwrap_or_default();
        let id = request["request_id"].clone();
        let answer = match (path.as_str(), request["action"].as_str()) {
            ("/silent", _) => continue,
            (_, Some("ping")) => {
                json!({"action": "reply", "request_id": id, "status": "success", "data": {"response": "pong"}})
            }
            ("/ok", Some("subscribe")) => json!({"action": "reply", "request_id": id, "status": "success", "data": {}}),
            _ => json!({"action": "reply", "request_id": id, "status": "error",
                        "data": {"message": format!("bad token {}", request["auth_token"])}}),
        };
        // An event for someone else first: the answer is found by its request id.
        let event = json!({"action": "event", "name": "CHANNEL_CREATE"}).to_string();
        let _ = socket.send(Message::text(event)).await;
        let _ = socket.send(Message::text(answer.to_string())).await;
    }
}

/// A token whose payload holds `roles`.
#[must_use]
pub fn jwt(roles: &[&str]) -> String {
    let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json!({"roles": roles}).to_string());
    format!("e30.{payload}.c2ln")
}

/// An Entra authority (see the module's documentation).
#[must_use]
pub fn entra(method: &str, path: &str, body: &Value) -> Answer {
    let tenant = path.split('/').nth(1).unwrap_or_default().to_owned();
    if method == "GET" {
        return if tenant.ends_with("000000000000") {
            Answer::Json(400, json!({"error": "invalid_tenant", "error_codes": [90002]}))
        } else {
            Answer::Json(200, json!({"issuer": format!("https://login.example/{tenant}/v2.0")}))
        };
    }
    if !body.as_str().is_some_and(|form| form.contains("grant_type=client_credentials")) {
        return Answer::Json(400, json!({"error": "invalid_request"}));
    }
    match tenant.chars().last() {
        Some('1') => Answer::Json(200, json!({"access_token": jwt(&["CallRecords.Read.All"])})),
        Some('2') => Answer::Json(400, json!({"error": "invalid_client", "error_codes": [7_000_229]})),
        _ => Answer::Json(200, json!({"access_token": jwt(&["User.Read.All"])})),
    }
}
