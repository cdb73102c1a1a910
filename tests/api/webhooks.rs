//! Webhooks as a resource (§13): created with a secret shown once, read, patched, rotated and deleted by their
//! owner alone, on both route families; a target the service may not call is refused.

use reqwest::StatusCode;
use reqwest::header::{ETAG, IF_MATCH, LOCATION};
use serde_json::{Value, json};

use crate::helpers::{TestServer, assert_error, error_fields, new_guid, read};

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
    assert_eq!(body["data"]["events"].as_array().unwrap().len(), 9, "all the feed's types but credentials reads");
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
        // IPv6 forms that embed 127.0.0.1: 6to4, SIIT, Teredo's client; and the discard-only prefix.
        "https://[2002:7f00:1::]/",
        "https://[::ffff:0:7f00:1]/",
        "https://[2001:0:4136:e378:8000:63bf:80ff:fffe]/",
        "https://[100::1]/",
        "https://localhost:8443/",
        "http://crm.example.com/",
    ] {
        let (status, _, body) = read(server.post("/api/v1.0/webhooks", &token, &webhook(url), &[]).await).await;
        assert_eq!((status, error_fields(&body)), (StatusCode::BAD_REQUEST, vec!["url".to_owned()]), "{url}: {body}");
    }
    let (_, _, list) = read(server.get("/api/v1.0/webhooks", &token).await).await;
    assert_eq!(list["data"], json!([]), "nothing stored");
}

/// One request a receiver got.
#[derive(Debug, Clone)]
struct Received {
    id: String,
    timestamp: i64,
    signature: String,
    body: Vec<u8>,
}

/// Which requests a receiver refuses (500).
#[derive(Debug, Clone, Copy)]
enum Refuse {
    /// The first attempt of each `webhook-id`.
    FirstAttempts,
    /// Every n-th request.
    Every(usize),
}

/// A webhook receiver on a free port: records every request, and answers 500 to those `refuse` names, 200 to
/// the others.
struct Receiver {
    url: String,
    received: std::sync::Arc<std::sync::Mutex<Vec<Received>>>,
}

impl Receiver {
    async fn start(refuse: Refuse) -> Self {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hooks", listener.local_addr().unwrap());
        let received: std::sync::Arc<std::sync::Mutex<Vec<Received>>> = std::sync::Arc::default();
        let log = received.clone();
        tokio::spawn(async move {
            loop {
                let Ok((mut stream, _)) = listener.accept().await else { return };
                let log = log.clone();
                tokio::spawn(async move {
                    let mut buffer = Vec::new();
                    let mut chunk = [0_u8; 8192];
                    loop {
                        let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") else {
                            match stream.read(&mut chunk).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => buffer.extend_from_slice(&chunk[..n]),
                            }
                            continue;
                        };
                        let head = String::from_utf8_lossy(&buffer[..end]).into_owned();
                        let header = |name: &str| {
                            head.lines().find_map(|line| {
                                let (key, value) = line.split_once(':')?;
                                key.eq_ignore_ascii_case(name).then(|| value.trim().to_owned())
                            })
                        };
                        let length: usize = header("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
                        while buffer.len() < end + 4 + length {
                            match stream.read(&mut chunk).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => buffer.extend_from_slice(&chunk[..n]),
                            }
                        }
                        let request = Received {
                            id: header("webhook-id").unwrap_or_default(),
                            timestamp: header("webhook-timestamp").and_then(|v| v.parse().ok()).unwrap_or(0),
                            signature: header("webhook-signature").unwrap_or_default(),
                            body: buffer[end + 4..end + 4 + length].to_vec(),
                        };
                        buffer.drain(..end + 4 + length);
                        let refused = {
                            let mut log = log.lock().unwrap();
                            let first = !log.iter().any(|r| r.id == request.id);
                            log.push(request);
                            match refuse {
                                Refuse::FirstAttempts => first,
                                Refuse::Every(n) => log.len().is_multiple_of(n),
                            }
                        };
                        let status = if refused { "500 Internal Server Error" } else { "200 OK" };
                        let answer = format!("HTTP/1.1 {status}\r\ncontent-length: 0\r\n\r\n");
                        if stream.write_all(answer.as_bytes()).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        Self { url, received }
    }
}

/// Deliveries end to end: every change of the owner's customers and profiles that the webhook subscribes to reaches
/// the receiver, signed (checked with the secret shown on create), in feed order, a failed attempt made again with
/// the same `webhook-id`; another tenant's changes never do.
#[tokio::test]
async fn each_subscribed_event_is_delivered_signed_in_order_and_retried_with_the_same_id() {
    let server = TestServer::start_with(&[("PBX_WEBHOOKS_ALLOW_PRIVATE", "true")]).await;
    let receiver = Receiver::start(Refuse::FirstAttempts).await;
    let (owner, stranger) = (server.reseller(), server.reseller());
    let body = json!({"name": "CRM", "url": receiver.url, "events": ["customer.created", "pbx.created"], "retries": 2});
    let (status, _, created) = read(server.post("/api/v1.0/webhooks", &owner, &body, &[]).await).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let secret = pbx_domain::webhook::SigningSecret::parse(created["data"]["secret"].as_str().unwrap()).unwrap();
    let mut expected = Vec::new();
    for _ in 0..3 {
        let customer = server.customer(&owner).await;
        expected.push(customer.clone());
        let (status, _, profile) =
            read(server.create_pbx(&owner, &customer, &crate::helpers::kazoo(&new_guid())).await).await;
        assert_eq!(status, StatusCode::CREATED, "{profile}");
        expected.push(profile["data"]["id"].as_str().unwrap().to_owned());
        // Not subscribed: a change of the customer.
        let rename = json!([{"op": "replace", "path": "/name", "value": "Renamed"}]);
        patch(&server, &format!("/api/v1.0/customers/{customer}"), &owner, "\"1\"", &rename).await;
        server.customer(&stranger).await;
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let delivered = loop {
        let received = receiver.received.lock().unwrap().clone();
        if received.len() >= 2 * expected.len() || std::time::Instant::now() > deadline {
            break received;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    let mut order = Vec::new();
    for request in &delivered {
        assert!(
            pbx_domain::webhook::verify(&secret, &request.signature, &request.id, request.timestamp, &request.body),
            "a signature that does not verify: {request:?}"
        );
        let payload: Value = serde_json::from_slice(&request.body).unwrap();
        assert_eq!(payload["eventId"], request.id.as_str());
        assert_eq!(payload["triggerID"], created["data"]["id"]);
        order.push((request.id.clone(), payload["id"].as_str().unwrap().to_owned()));
    }
    // Each event twice in a row (refused once, then delivered), and in the order of the changes.
    assert_eq!(order.len(), 2 * expected.len(), "{order:?}");
    for (pair, id) in order.chunks(2).zip(&expected) {
        assert_eq!(pair[0], pair[1], "a retry carries the same webhook-id");
        assert_eq!(&pair[0].1, id, "feed order");
    }

    // The delivery log, the latest event first: each delivered at its second attempt.
    let log_path = format!("/api/v1.0/webhooks/{}/deliveries", created["data"]["id"].as_str().unwrap());
    let (status, _, log) = read(server.get(&log_path, &owner).await).await;
    assert_eq!(status, StatusCode::OK, "{log}");
    let entries = log["data"].as_array().unwrap();
    let logged: Vec<&str> = entries.iter().map(|e| e["eventId"].as_str().unwrap()).collect();
    let sent: Vec<&str> = order.iter().step_by(2).rev().map(|(id, _)| id.as_str()).collect();
    assert_eq!(logged, sent, "{log}");
    for entry in entries {
        assert_eq!((entry["status"].as_str(), entry["attempts"].as_u64()), (Some("delivered"), Some(2)), "{entry}");
        assert_eq!(entry["lastStatusCode"], 200);
    }
    assert_eq!(server.get(&log_path, &stranger).await.status(), StatusCode::NOT_FOUND);

    // A test delivery: once, signed, logged (refused here: it is its id's first attempt).
    let ping_path = format!("/api/v1.0/webhooks/{}/ping", created["data"]["id"].as_str().unwrap());
    let before_ping = chrono::Utc::now() - chrono::TimeDelta::seconds(1);
    let (status, _, pinged) = read(server.post(&ping_path, &owner, &json!({}), &[]).await).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{pinged}");
    let ping_id = pinged["data"]["eventId"].as_str().unwrap().to_owned();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let logged = loop {
        let (_, _, log) = read(server.get(&log_path, &owner).await).await;
        let entry = log["data"].as_array().unwrap().iter().find(|e| e["eventId"] == ping_id.as_str()).cloned();
        if entry.is_some() || std::time::Instant::now() > deadline {
            break entry;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    let logged = logged.expect("the ping is in the log");
    assert_eq!((logged["type"].as_str(), logged["status"].as_str()), (Some("webhook.ping"), Some("failed")));
    assert_eq!(logged["lastStatusCode"], 500);
    let tried = chrono::DateTime::parse_from_rfc3339(logged["lastAttemptAt"].as_str().unwrap()).unwrap();
    assert!((before_ping..=chrono::Utc::now()).contains(&tried.to_utc()), "when it was tried: {logged}");
    let received = receiver.received.lock().unwrap().clone();
    let request = received.iter().find(|r| r.id == ping_id).expect("the receiver got the ping");
    assert!(pbx_domain::webhook::verify(&secret, &request.signature, &request.id, request.timestamp, &request.body));
    assert_eq!(serde_json::from_slice::<Value>(&request.body).unwrap()["type"], "webhook.ping");
    assert_eq!(server.post(&ping_path, &stranger, &json!({}), &[]).await.status(), StatusCode::NOT_FOUND);

    // A retry asked for: the first event once more, same webhook-id, its third attempt in the log.
    let first = &order[0].0;
    let retry_path = format!("{log_path}/{first}/retry");
    let (status, _, body) = read(server.post(&retry_path, &owner, &json!({}), &[]).await).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while receiver.received.lock().unwrap().iter().filter(|r| &r.id == first).count() < 3 {
        assert!(std::time::Instant::now() < deadline, "the retry did not arrive");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let (_, _, log) = read(server.get(&log_path, &owner).await).await;
        let entry = log["data"].as_array().unwrap().iter().find(|e| e["eventId"] == first.as_str()).cloned().unwrap();
        if entry["attempts"] == 3 {
            assert_eq!(entry["status"], "delivered");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the retry is not logged: {entry}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // A test delivery retried counts its attempts as an event does (its second reaches the receiver).
    let (status, _, body) =
        read(server.post(&format!("{log_path}/{ping_id}/retry"), &owner, &json!({}), &[]).await).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let (_, _, log) = read(server.get(&log_path, &owner).await).await;
        let entry = log["data"].as_array().unwrap().iter().find(|e| e["eventId"] == ping_id.as_str()).cloned().unwrap();
        if entry["attempts"] == 2 {
            assert_eq!((entry["status"].as_str(), entry["lastStatusCode"].as_u64()), (Some("delivered"), Some(200)));
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the ping's retry is not counted: {entry}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let unknown = server.post(&format!("{log_path}/{}/retry", new_guid()), &owner, &json!({}), &[]).await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
}

/// Every event of `token`'s feed, oldest first, whose type is one of `types` (all when empty): its id.
async fn feed_ids(server: &TestServer, token: &str, types: &[&str]) -> Vec<String> {
    let (mut ids, mut after) = (Vec::new(), String::new());
    loop {
        let query = if after.is_empty() { "limit=1000".to_owned() } else { format!("limit=1000&after={after}") };
        let (status, _, page) = read(server.get(&format!("/api/v1.0/events?{query}&wait=0"), token).await).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let events = page["data"].as_array().unwrap().clone();
        if events.is_empty() {
            return ids;
        }
        for event in &events {
            if types.is_empty() || types.contains(&event["type"].as_str().unwrap()) {
                ids.push(event["id"].as_str().unwrap().to_owned());
            }
        }
        after = page["next"].as_str().unwrap().to_owned();
    }
}

/// Issue 24's test: 8 clients make 300 changes across two resellers while the service is killed with SIGKILL once
/// and restarted, and each receiver refuses some deliveries. Afterwards each webhook has received every event it
/// subscribes to, none of the other tenant's, in feed order, each signed; a duplicate only as a repeat, with the same
/// `webhook-id`, right after its first delivery (a retry, or a delivery the kill cut short).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn through_a_sigkill_every_subscribed_event_arrives_in_feed_order() {
    let mut server = TestServer::start_with(&[("PBX_WEBHOOKS_ALLOW_PRIVATE", "true"), ("PBX_RATE_LIMIT", "0")]).await;
    let tenants = [server.reseller(), server.reseller()];
    let subscriptions: [&[&str]; 2] = [&[], &["pbx.created", "pbx.enabled", "pbx.disabled", "pbx.deleted"]];
    let mut receivers = Vec::new();
    for (token, types) in tenants.iter().zip(subscriptions) {
        let receiver = Receiver::start(Refuse::Every(40)).await;
        let mut body = json!({"name": "CRM", "url": receiver.url, "retries": 3});
        if !types.is_empty() {
            body["events"] = json!(types);
        }
        let (status, _, created) = read(server.post("/api/v1.0/webhooks", token, &body, &[]).await).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        let secret = pbx_domain::webhook::SigningSecret::parse(created["data"]["secret"].as_str().unwrap()).unwrap();
        receivers.push((receiver, secret));
    }

    // 8 clients, 4 a tenant, making changes until 300 are acknowledged in all; killed half-way through (a request
    // the kill cuts short may or may not have happened: the feed says which), then on against the restarted server.
    let acknowledged = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let clients = make_changes(&server.base, &tenants, &acknowledged);
    while acknowledged.load(std::sync::atomic::Ordering::Relaxed) < 150 {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    std::process::Command::new("kill").args(["-KILL", &server.pid().to_string()]).status().unwrap();
    server.wait();
    clients.join_all().await;
    server.restart_stopped();
    make_changes(&server.base, &tenants, &acknowledged).join_all().await;

    for ((receiver, secret), (token, types)) in receivers.iter().zip(tenants.iter().zip(subscriptions)) {
        let expected = feed_ids(&server, token, types).await;
        assert!(expected.len() > 50, "changes were made: {}", expected.len());
        // The claim of the killed replica runs out (30 s) before another takes the webhook on.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(150);
        let received = loop {
            let received = receiver.received.lock().unwrap().clone();
            let mut distinct: Vec<&str> = received.iter().map(|r| r.id.as_str()).collect();
            distinct.dedup();
            if distinct.len() >= expected.len() || std::time::Instant::now() > deadline {
                break received;
            }
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        };
        for request in &received {
            assert!(
                pbx_domain::webhook::verify(secret, &request.signature, &request.id, request.timestamp, &request.body),
                "a signature that does not verify: {request:?}"
            );
        }
        let mut distinct: Vec<String> = received.iter().map(|r| r.id.clone()).collect();
        distinct.dedup();
        let repeats = received.len() - distinct.len();
        crate::helpers::report(&format!(
            "webhooks through a SIGKILL: {} events of {} delivered in feed order, {repeats} repeats",
            distinct.len(),
            expected.len()
        ));
        assert_eq!(distinct, expected, "every subscribed event, in feed order, none of another tenant's");
    }
}

/// 8 clients, each of a tenant in turn, that make changes until `acknowledged` reaches 300 or the server stops
/// answering: a customer, its profile, the profile enabled, every other round deleted.
fn make_changes(
    base: &str,
    tenants: &[String; 2],
    acknowledged: &std::sync::Arc<std::sync::atomic::AtomicUsize>,
) -> tokio::task::JoinSet<()> {
    use std::sync::atomic::Ordering::Relaxed;
    let client = reqwest::Client::new();
    let mut clients = tokio::task::JoinSet::new();
    for index in 0..8 {
        let (token, base, client, acknowledged) =
            (tenants[index % 2].clone(), base.to_owned(), client.clone(), acknowledged.clone());
        clients.spawn(async move {
            // The answer's body when it is a 2xx (counted), `None` when it is not or the server is gone.
            let acknowledge = async |request: reqwest::RequestBuilder| -> Option<Value> {
                let response = request.bearer_auth(&token).send().await.ok()?;
                if !response.status().is_success() {
                    return None;
                }
                let body = response.json::<Value>().await.ok()?;
                acknowledged.fetch_add(1, Relaxed);
                Some(body)
            };
            let mut round = 0_u32;
            while acknowledged.load(Relaxed) < 300 {
                round += 1;
                let name = json!({"name": format!("Client {index} round {round}")});
                let Some(customer) = acknowledge(client.post(format!("{base}/api/v1.0/customers")).json(&name)).await
                else {
                    return;
                };
                let pbxs = format!("{base}/api/v1.0/customers/{}/pbxs", customer["data"]["id"].as_str().unwrap_or(""));
                let create =
                    client.post(&pbxs).header("accept-charges", "true").json(&crate::helpers::kazoo(&new_guid()));
                let Some(profile) = acknowledge(create).await else { return };
                let pbx = format!("{pbxs}/{}", profile["data"]["id"].as_str().unwrap_or(""));
                let enable = json!([{"op": "replace", "path": "/enabled", "value": true}]);
                let patch =
                    client.patch(&pbx).header("content-type", "application/json-patch+json").body(enable.to_string());
                acknowledge(patch).await;
                if round.is_multiple_of(2) {
                    acknowledge(client.delete(&pbx)).await;
                }
            }
        });
    }
    clients
}

/// A webhook whose receiver fails every event is disabled after `DISABLE_AFTER` of them in a row (a new version, an
/// entry in its log that cannot be retried); enabled again, it goes on with the event after the last one given up.
#[tokio::test]
async fn a_webhook_that_keeps_failing_is_disabled_and_enabled_again_goes_on_from_there() {
    use pbx_application::delivery::{DISABLE_AFTER, DISABLED};
    let server = TestServer::start_with(&[("PBX_WEBHOOKS_ALLOW_PRIVATE", "true")]).await;
    let receiver = Receiver::start(Refuse::Every(1)).await;
    let owner = server.reseller();
    let body = json!({"name": "CRM", "url": receiver.url, "events": ["customer.created"], "retries": 0});
    let (status, _, created) = read(server.post("/api/v1.0/webhooks", &owner, &body, &[]).await).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let path = format!("/api/v1.0/webhooks/{}", created["data"]["id"].as_str().unwrap());
    let mut customers = Vec::new();
    for _ in 0..DISABLE_AFTER + 3 {
        customers.push(server.customer(&owner).await);
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let (headers, shown) = loop {
        let (_, headers, shown) = read(server.get(&path, &owner).await).await;
        if shown["data"]["enabled"] == false || std::time::Instant::now() > deadline {
            break (headers, shown);
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert_eq!(shown["data"]["enabled"], false, "{shown}");
    assert_eq!(headers[ETAG], "\"2\"");
    let (status, _, refused) = read(server.post(&format!("{path}/ping"), &owner, &json!({}), &[]).await).await;
    assert_error(status, &refused, StatusCode::CONFLICT, "The webhook is disabled; enable it before a test delivery.");
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    let sent: Vec<String> = receiver.received.lock().unwrap().iter().map(|r| r.id.clone()).collect();
    assert_eq!(sent.len(), DISABLE_AFTER as usize, "nothing sent once disabled: {sent:?}");

    let (_, _, log) = read(server.get(&format!("{path}/deliveries"), &owner).await).await;
    let entries = log["data"].as_array().unwrap();
    assert_eq!(entries.len(), DISABLE_AFTER as usize + 1, "{log}");
    assert_eq!((entries[0]["type"].as_str(), entries[0]["status"].as_str()), (Some(DISABLED), Some("failed")));
    assert!(entries[1..].iter().all(|e| e["status"] == "failed" && e["lastStatusCode"] == 500), "{log}");
    let retry = format!("{path}/deliveries/{}/retry", entries[0]["eventId"].as_str().unwrap());
    assert_eq!(server.post(&retry, &owner, &json!({}), &[]).await.status(), StatusCode::NOT_FOUND);

    let enable = json!([{"op": "replace", "path": "/enabled", "value": true}]);
    assert_eq!(patch(&server, &path, &owner, "\"2\"", &enable).await.status(), StatusCode::OK);
    let enabled_at = std::time::Instant::now();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let next = loop {
        let next = receiver.received.lock().unwrap().get(DISABLE_AFTER as usize).map(|r| r.body.clone());
        if next.is_some() || std::time::Instant::now() > deadline {
            break next;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert!(enabled_at.elapsed() < std::time::Duration::from_secs(5), "the disabled webhook's claim was given up");
    let next: Value = serde_json::from_slice(&next.expect("a delivery once enabled again")).unwrap();
    assert_eq!(next["id"], customers[DISABLE_AFTER as usize].as_str(), "the event after the last one given up");
}

/// Issue 32's regression: 100 owners × 20 quiet webhooks (their customers have no events), then a new owner's
/// webhook gets each of its owner's first five events in under a second — the quiet ones hold no slot it needs.
/// On the 250 ms poll that claimed the 32 oldest enabled webhooks whatever they had to do, it got none.
#[tokio::test]
async fn a_new_owners_webhook_is_served_beside_two_thousand_quiet_ones() {
    let server = TestServer::start_with(&[("PBX_WEBHOOKS_ALLOW_PRIVATE", "true")]).await;
    let client = reqwest::Client::new();
    let owners: Vec<String> = (0..100).map(|_| server.reseller()).collect();
    let mut creates = tokio::task::JoinSet::new();
    for (n, token) in owners.into_iter().enumerate() {
        let (client, url) = (client.clone(), server.url("/api/v1.0/webhooks"));
        creates.spawn(async move {
            for i in 0..20 {
                // Never called: nothing happens to these owners' customers.
                let body = json!({"name": format!("quiet {n}/{i}"), "url": "http://127.0.0.1:9/quiet"});
                let created = client.post(&url).bearer_auth(&token).json(&body).send().await.unwrap();
                assert_eq!(created.status(), StatusCode::CREATED, "{}", created.text().await.unwrap());
            }
        });
    }
    while let Some(created) = creates.join_next().await {
        created.unwrap();
    }
    // Long enough for a poll of the oldest webhooks to go round several times.
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;

    let receiver = Receiver::start(Refuse::Every(usize::MAX)).await;
    let owner = server.reseller();
    let body = json!({"name": "new", "url": receiver.url, "events": ["customer.created"]});
    let (status, _, created) = read(server.post("/api/v1.0/webhooks", &owner, &body, &[]).await).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let mut delays = Vec::new();
    for n in 1..=5 {
        let started = std::time::Instant::now();
        let customer = server.customer(&owner).await;
        loop {
            let received = receiver.received.lock().unwrap().clone();
            let payloads: Vec<Value> = received.iter().map(|r| serde_json::from_slice(&r.body).unwrap()).collect();
            if payloads.iter().any(|p| p["id"] == customer.as_str()) {
                assert_eq!(payloads.len(), n, "each event once");
                break;
            }
            let waited = started.elapsed();
            assert!(waited < std::time::Duration::from_secs(1), "event {n} not delivered after {waited:?}");
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        delays.push(started.elapsed());
    }
    crate::helpers::report(&format!("webhooks: a new owner's first 5 events beside 2,000 quiet webhooks: {delays:?}"));
}

/// At most `MAX_PER_OWNER` webhooks an owner, however many of its clients create at once: 30 concurrent creates
/// make exactly 20, the others are 409 in the envelope; a delete makes room for one more. Another owner is not
/// counted with it.
#[tokio::test]
async fn an_owner_has_at_most_twenty_webhooks_however_many_create_at_once() {
    use pbx_domain::webhook::MAX_PER_OWNER;
    let server = TestServer::start_with(&[("PBX_WEBHOOKS_ALLOW_PRIVATE", "true")]).await;
    let (owner, other) = (server.reseller(), server.reseller());
    let client = reqwest::Client::new();
    let create = |token: String, n: u32| {
        let (client, url) = (client.clone(), server.url("/api/v1.0/webhooks"));
        async move {
            let body = json!({"name": format!("hook {n}"), "url": "http://127.0.0.1:9/hooks"});
            read(client.post(&url).bearer_auth(token).json(&body).send().await.unwrap()).await
        }
    };
    let answers = futures_util::future::join_all((0..30).map(|n| create(owner.clone(), n))).await;
    let created: Vec<&Value> =
        answers.iter().filter(|(status, _, _)| *status == StatusCode::CREATED).map(|(_, _, body)| body).collect();
    assert_eq!(created.len(), MAX_PER_OWNER as usize, "{answers:?}");
    let message = format!("You have {MAX_PER_OWNER} webhooks, as many as you may have; delete one first.");
    for (status, _, body) in answers.iter().filter(|(status, _, _)| *status != StatusCode::CREATED) {
        assert_error(*status, body, StatusCode::CONFLICT, &message);
    }
    let (_, _, list) = read(server.get("/api/v1.0/webhooks?pageSize=100", &owner).await).await;
    assert_eq!(list["data"].as_array().unwrap().len(), MAX_PER_OWNER as usize, "{list}");
    // The list filters by name, in any case: "hook 1" and "hook 10" … "hook 19" of those created.
    let (_, _, filtered) = read(server.get("/api/v1.0/webhooks?filter=HOOK+1&pageSize=100", &owner).await).await;
    let names: Vec<&str> = filtered["data"].as_array().unwrap().iter().map(|w| w["name"].as_str().unwrap()).collect();
    let expected: Vec<&str> = created
        .iter()
        .map(|w| w["data"]["name"].as_str().unwrap())
        .filter(|name| name.to_lowercase().contains("hook 1"))
        .collect();
    assert!(!names.is_empty() && names.len() == expected.len(), "{names:?} against {expected:?}");
    assert!(names.iter().all(|n| n.starts_with("hook 1")), "{names:?}");
    let (status, _, _) = create(other, 0).await;
    assert_eq!(status, StatusCode::CREATED, "another owner has its own 20");

    let first = created[0]["data"]["id"].as_str().unwrap();
    let deleted = reqwest::Client::new()
        .delete(server.url(&format!("/api/v1.0/webhooks/{first}")))
        .bearer_auth(&owner)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::OK);
    assert_eq!(create(owner.clone(), 31).await.0, StatusCode::CREATED, "a delete makes room");
    assert_eq!(create(owner.clone(), 32).await.0, StatusCode::CONFLICT);

    // Deletes and creates at once: the count stays the rows' count, so the owner fills up to exactly 20 again.
    let (_, _, list) = read(server.get("/api/v1.0/webhooks?pageSize=100", &owner).await).await;
    let ids: Vec<String> =
        list["data"].as_array().unwrap().iter().map(|w| w["id"].as_str().unwrap().to_owned()).collect();
    let deletes = ids.iter().take(10).map(|id| {
        let request =
            reqwest::Client::new().delete(server.url(&format!("/api/v1.0/webhooks/{id}"))).bearer_auth(&owner);
        async move { request.send().await.unwrap().status() }
    });
    let creates = (40..55).map(|n| create(owner.clone(), n));
    let (deleted, made) =
        tokio::join!(futures_util::future::join_all(deletes), futures_util::future::join_all(creates));
    assert!(deleted.iter().all(|s| *s == StatusCode::OK), "{deleted:?}");
    assert!(made.iter().all(|(s, _, _)| [StatusCode::CREATED, StatusCode::CONFLICT].contains(s)), "{made:?}");
    for n in 60..90 {
        if create(owner.clone(), n).await.0 == StatusCode::CONFLICT {
            break;
        }
    }
    let (_, _, list) = read(server.get("/api/v1.0/webhooks?pageSize=100", &owner).await).await;
    assert_eq!(list["data"].as_array().unwrap().len(), MAX_PER_OWNER as usize, "full again, and no further");
}

/// Two replicas on one database, both delivering (each follows every commit and claims the webhooks whose owner has
/// something new): 8 clients create customers through both. Each event reaches the webhook exactly once, in feed
/// order — never two replicas working one webhook at once (the claim), never an event left behind by a claim given up
/// as another replica's commit arrived.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_replicas_deliver_every_event_once_in_feed_order() {
    let first = TestServer::start_with(&[("PBX_WEBHOOKS_ALLOW_PRIVATE", "true"), ("PBX_RATE_LIMIT", "0")]).await;
    let second = first.replica();
    let receiver = Receiver::start(Refuse::Every(usize::MAX)).await;
    let token = first.reseller();
    let body = json!({"name": "CRM", "url": receiver.url, "events": ["customer.created"]});
    let (status, _, created) = read(first.post("/api/v1.0/webhooks", &token, &body, &[]).await).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let mut clients = tokio::task::JoinSet::new();
    for client in 0..8 {
        let urls = [first.url("/api/v1.0/customers"), second.url("/api/v1.0/customers")];
        let token = token.clone();
        clients.spawn(async move {
            let http = reqwest::Client::new();
            for n in 0..25 {
                let body = json!({"name": format!("Client {client} customer {n}")});
                let answer = http.post(&urls[(client + n) % 2]).bearer_auth(&token).json(&body).send().await.unwrap();
                assert_eq!(answer.status(), StatusCode::CREATED);
            }
        });
    }
    while let Some(done) = clients.join_next().await {
        done.unwrap();
    }
    let expected = feed_ids(&first, &token, &["customer.created"]).await;
    assert_eq!(expected.len(), 200);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let received: Vec<String> = loop {
        let received: Vec<String> = receiver.received.lock().unwrap().iter().map(|r| r.id.clone()).collect();
        if received.len() >= expected.len() || std::time::Instant::now() > deadline {
            break received;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(received, expected, "each event once, in feed order");
}
