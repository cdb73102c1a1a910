//! Identity providers (RS256/ES256 through a JWKS), algorithm confusion, rate limits, headers and CORS.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use p256::pkcs8::EncodePrivateKey;
use reqwest::StatusCode;
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::traits::PublicKeyParts;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{TestServer, assert_error, new_guid, read};

/// A signing key of an identity provider and its public JWK.
struct Signer {
    kid: String,
    algorithm: Algorithm,
    encoding: EncodingKey,
    jwk: Value,
    public_pem: Vec<u8>,
}

fn rsa_signer(kid: &str) -> Signer {
    let mut rng = rsa::rand_core::OsRng;
    let private = rsa::RsaPrivateKey::new(&mut rng, 2048).unwrap();
    let public = private.to_public_key();
    let der = private.to_pkcs1_der().unwrap();
    let public_pem = rsa::pkcs1::EncodeRsaPublicKey::to_pkcs1_pem(&public, rsa::pkcs1::LineEnding::LF).unwrap();
    Signer {
        kid: kid.to_owned(),
        algorithm: Algorithm::RS256,
        encoding: EncodingKey::from_rsa_der(der.as_bytes()),
        jwk: json!({
            "kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig",
            "n": URL_SAFE_NO_PAD.encode(public.n().to_bytes_be()),
            "e": URL_SAFE_NO_PAD.encode(public.e().to_bytes_be()),
        }),
        public_pem: public_pem.into_bytes(),
    }
}

fn ec_signer(kid: &str) -> Signer {
    let private = p256::ecdsa::SigningKey::random(&mut p256::elliptic_curve::rand_core::OsRng);
    let der = private.to_pkcs8_der().unwrap();
    let point = private.verifying_key().to_encoded_point(false);
    Signer {
        kid: kid.to_owned(),
        algorithm: Algorithm::ES256,
        encoding: EncodingKey::from_ec_der(der.as_bytes()),
        jwk: json!({
            "kty": "EC", "kid": kid, "alg": "ES256", "crv": "P-256",
            "x": URL_SAFE_NO_PAD.encode(point.x().unwrap()),
            "y": URL_SAFE_NO_PAD.encode(point.y().unwrap()),
        }),
        public_pem: Vec::new(),
    }
}

impl Signer {
    fn token(&self, claims: &Value) -> String {
        let mut header = Header::new(self.algorithm);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding).unwrap()
    }
}

/// A JWKS served over HTTP on the loopback, whose keys the test can change, counting its requests.
struct JwksServer {
    url: String,
    keys: Arc<std::sync::Mutex<Vec<Value>>>,
    hits: Arc<AtomicUsize>,
}

impl JwksServer {
    async fn start(keys: Vec<Value>) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/.well-known/jwks.json", listener.local_addr().unwrap());
        let keys = Arc::new(std::sync::Mutex::new(keys));
        let hits = Arc::new(AtomicUsize::new(0));
        let (served, counted) = (Arc::clone(&keys), Arc::clone(&hits));
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let body = json!({ "keys": *served.lock().unwrap() }).to_string();
                counted.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    let mut request = [0u8; 4096];
                    let _ = stream.read(&mut request).await;
                    let answer = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = stream.write_all(answer.as_bytes()).await;
                });
            }
        });
        Self { url, keys, hits }
    }
}

fn claims(tenant: &str) -> Value {
    json!({
        "tenant_id": tenant,
        "scope": "onboarding",
        "iss": "https://idp.example.com",
        "aud": "pbx-api",
        "exp": chrono::Utc::now().timestamp() + 600,
    })
}

async fn create_customer(server: &TestServer, token: &str) -> StatusCode {
    server.post("/api/v1.0/customers", token, &json!({"name": "Acme"}), &[]).await.status()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_of_an_identity_provider_are_checked_against_its_jwks() {
    let (rsa, ec) = (rsa_signer("rsa-1"), ec_signer("ec-1"));
    let jwks = JwksServer::start(vec![rsa.jwk.clone(), ec.jwk.clone()]).await;
    let env = [("PBX_JWKS", jwks.url.as_str()), ("PBX_ISSUER", "https://idp.example.com"), ("PBX_AUDIENCE", "pbx-api")];
    let server = TestServer::start_with(&env).await;
    let tenant = new_guid();

    assert_eq!(create_customer(&server, &rsa.token(&claims(&tenant))).await, StatusCode::CREATED, "RS256");
    assert_eq!(create_customer(&server, &ec.token(&claims(&tenant))).await, StatusCode::CREATED, "ES256");

    let mut wrong_audience = claims(&tenant);
    wrong_audience["aud"] = json!("another-api");
    let mut wrong_issuer = claims(&tenant);
    wrong_issuer["iss"] = json!("https://evil.example.com");
    let mut expired = claims(&tenant);
    expired["exp"] = json!(chrono::Utc::now().timestamp() - 3600);
    let mut no_exp = claims(&tenant);
    no_exp.as_object_mut().unwrap().remove("exp");
    let stranger = rsa_signer("rsa-1"); // same kid, another key
    let confused = jsonwebtoken::encode(
        &Header { kid: Some("rsa-1".into()), ..Header::new(Algorithm::HS256) },
        &claims(&tenant),
        &EncodingKey::from_secret(&rsa.public_pem),
    )
    .unwrap();
    let unsigned = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT","kid":"rsa-1"}"#),
        URL_SAFE_NO_PAD.encode(claims(&tenant).to_string())
    );
    for (token, why) in [
        (rsa.token(&wrong_audience), "another audience"),
        (rsa.token(&wrong_issuer), "another issuer"),
        (rsa.token(&expired), "expired"),
        (rsa.token(&no_exp), "no exp"),
        (stranger.token(&claims(&tenant)), "signed with another key under a known kid"),
        (confused, "HS256 signed with the RSA public key (algorithm confusion)"),
        (unsigned, "alg none"),
    ] {
        let (status, headers, body) =
            read(server.post("/api/v1.0/customers", &token, &json!({"name": "x"}), &[]).await).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{why}: {body}");
        assert!(headers.contains_key("www-authenticate"), "{why}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_key_is_fetched_when_a_token_names_it_at_most_once_a_minute() {
    let (first, second, third) = (rsa_signer("k1"), ec_signer("k2"), ec_signer("k3"));
    let jwks = JwksServer::start(vec![first.jwk.clone()]).await;
    let server = TestServer::start_with(&[("PBX_JWKS", jwks.url.as_str())]).await;
    let tenant = new_guid();
    let mut plain = claims(&tenant);
    plain.as_object_mut().unwrap().retain(|k, _| k != "iss" && k != "aud");
    assert_eq!(create_customer(&server, &first.token(&plain)).await, StatusCode::CREATED);
    let hits_at_start = jwks.hits.load(Ordering::SeqCst);

    // The provider rotates: k2 appears. A token signed with it makes the service refresh once.
    jwks.keys.lock().unwrap().push(second.jwk.clone());
    assert_eq!(create_customer(&server, &second.token(&plain)).await, StatusCode::CREATED);
    assert_eq!(jwks.hits.load(Ordering::SeqCst), hits_at_start + 1);

    // k3 appears too, but within the minute: no second fetch, the token is refused for now.
    jwks.keys.lock().unwrap().push(third.jwk.clone());
    for _ in 0..3 {
        assert_eq!(create_customer(&server, &third.token(&plain)).await, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(jwks.hits.load(Ordering::SeqCst), hits_at_start + 1, "at most one refresh a minute");
}

#[tokio::test]
async fn the_token_command_refuses_when_an_identity_provider_is_configured() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_pbx-server"))
        .args(["token", "--tenant", &new_guid()])
        .env("PBX_JWKS", "https://idp.example.com/.well-known/jwks.json")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("identity provider") && stderr.contains("mints none"), "{stderr}");
}

#[tokio::test]
async fn a_tenant_over_its_rate_limit_gets_429_with_retry_after() {
    let server = TestServer::start_with(&[("PBX_RATE_LIMIT", "1"), ("PBX_RATE_BURST", "3")]).await;
    let (busy, quiet) = (server.reseller(), server.reseller());
    // The burst of 3 passes; within at most a few more requests the bucket is empty (even on a slow machine, where a
    // token may refill between two requests).
    let mut answered = 0;
    let (status, headers, body) = loop {
        let (status, headers, body) = read(server.get("/api/v1.0/customers", &busy).await).await;
        if status != StatusCode::OK {
            break (status, headers, body);
        }
        answered += 1;
        assert!(answered < 20, "never limited");
    };
    assert!(answered >= 3, "the burst passes first");
    assert_error(status, &body, StatusCode::TOO_MANY_REQUESTS, "Too many requests for this tenant; retry in 1 s.");
    assert_eq!(headers["retry-after"], "1");
    assert_eq!(server.get("/api/v1.0/customers", &quiet).await.status(), StatusCode::OK, "another tenant is not held");
}

#[tokio::test]
async fn api_answers_are_not_cached_or_sniffed_and_cors_is_off_by_default() {
    let server = TestServer::start().await;
    let token = server.reseller();
    for response in [
        server.get("/api/v1.0/customers", &token).await,
        server.get(&format!("/api/v1.0/customers/{}", new_guid()), &token).await,
        server.client.get(server.url("/api/v1.0/customers")).send().await.unwrap(),
    ] {
        assert_eq!(response.headers()["cache-control"], "no-store");
        assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    }
    let preflight = server
        .client
        .request(reqwest::Method::OPTIONS, server.url("/api/v1.0/customers"))
        .header("origin", "https://portal.example.com")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert!(!preflight.headers().contains_key("access-control-allow-origin"));
}

#[tokio::test]
async fn cors_allows_the_configured_origins_only() {
    let server = TestServer::start_with(&[("PBX_CORS_ORIGINS", "https://portal.example.com")]).await;
    let preflight = |origin: &'static str| {
        server
            .client
            .request(reqwest::Method::OPTIONS, server.url("/api/v1.0/customers"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "authorization, content-type, accept-charges")
            .send()
    };
    let allowed = preflight("https://portal.example.com").await.unwrap();
    assert_eq!(allowed.headers()["access-control-allow-origin"], "https://portal.example.com");
    let refused = preflight("https://evil.example.com").await.unwrap();
    assert!(!refused.headers().contains_key("access-control-allow-origin"));
}

#[tokio::test]
async fn deeply_nested_json_is_a_400_not_a_crash() {
    let server = TestServer::start().await;
    let token = server.reseller();
    let customer = server.customer(&token).await;
    let deep = format!("{{\"name\":{}1{}}}", "[".repeat(500), "]".repeat(500));
    let response = server
        .client
        .post(server.url(&format!("/api/v1.0/customers/{customer}/pbxs")))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body(deep)
        .send()
        .await
        .unwrap();
    let (status, _, body) = read(response).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["message"].as_str().unwrap().contains("recursion limit"), "{body}");
    assert_eq!(server.client.get(server.url("/healthz")).send().await.unwrap().status(), StatusCode::OK);
}

#[tokio::test]
async fn two_authorization_headers_are_a_bad_request() {
    let server = TestServer::start().await;
    let token = server.reseller();
    let (good, bad) = (format!("Bearer {token}"), "Bearer not-a-token".to_owned());
    for pair in [[&good, &bad], [&bad, &good], [&good, &good]] {
        let response = server
            .client
            .get(server.url("/api/v1.0/customers"))
            .header("authorization", pair[0])
            .header("authorization", pair[1])
            .send()
            .await
            .unwrap();
        let (status, _, body) = read(response).await;
        assert_error(status, &body, StatusCode::BAD_REQUEST, "send one Authorization header, not several");
    }
}

async fn location_of_a_create(server: &TestServer, headers: &[(&str, &str)]) -> (StatusCode, Option<String>) {
    let token = server.reseller();
    let response = server.post("/api/v1.0/customers", &token, &json!({"name": "Acme"}), headers).await;
    let location = response.headers().get("location").map(|l| l.to_str().unwrap().to_owned());
    (response.status(), location)
}

#[tokio::test]
async fn forwarding_headers_are_ignored_unless_trusted() {
    let server = TestServer::start().await;
    let own = format!("{}/api/v1.0/customers/", server.url("").trim_end_matches('/'));
    for header in [
        ("x-forwarded-proto", "javascript"),
        ("x-forwarded-host", "evil.example.com"),
        ("forwarded", "proto=javascript;host=evil.example.com"),
    ] {
        let (status, location) = location_of_a_create(&server, &[header]).await;
        assert_eq!(status, StatusCode::CREATED, "{header:?}");
        assert!(location.unwrap().starts_with(&own), "{header:?}");
    }
}

#[tokio::test]
async fn trusted_forwarding_headers_make_the_location_when_they_name_an_http_url() {
    let server = TestServer::start_with(&[("PBX_TRUST_FORWARDED", "true")]).await;
    let forwarded = [("x-forwarded-proto", "https"), ("x-forwarded-host", "pbx.example.com:8443")];
    let (status, location) = location_of_a_create(&server, &forwarded).await;
    assert_eq!(status, StatusCode::CREATED);
    assert!(location.unwrap().starts_with("https://pbx.example.com:8443/api/v1.0/customers/"));
    for header in [
        ("x-forwarded-proto", "javascript"),
        ("x-forwarded-host", "evil.example.com/phish?"),
        ("x-forwarded-host", "user@evil.example.com"),
        ("forwarded", "proto=data;host=evil.example.com"),
    ] {
        let token = server.reseller();
        let response = server.post("/api/v1.0/customers", &token, &json!({"name": "Acme"}), &[header]).await;
        let (status, _, body) = read(response).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{header:?}: {body}");
        let listed = server.get("/api/v1.0/customers", &token).await.json::<Value>().await.unwrap();
        assert_eq!(listed["data"], json!([]), "{header:?}: nothing was created");
    }
}
