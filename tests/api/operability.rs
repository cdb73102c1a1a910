//! What operators rely on: metrics, a configuration file, and graceful shutdown under load.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use tokio::task::JoinSet;

use crate::helpers::{TestServer, kazoo, new_guid, read};

#[tokio::test]
async fn metrics_count_requests_by_route_and_profiles_by_type() {
    let server = TestServer::start().await;
    let token = server.reseller();
    let customer = server.customer(&token).await;
    server.create_pbx(&token, &customer, &kazoo(&new_guid())).await;
    server.get(&format!("/api/v1.0/customers/{}", new_guid()), &token).await;

    let response = server.client.get(server.url("/metrics")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "no token needed");
    assert!(
        response.headers()["content-type"].to_str().unwrap().starts_with("application/openmetrics-text; version=1.0.0")
    );
    let text = response.text().await.unwrap();
    for expected in [
        r#"pbx_http_requests_total{method="POST",route="/api/v1.0/customers/{customer_id}/pbxs",status="201"} 1"#,
        r#"pbx_http_requests_total{method="GET",route="/api/v1.0/customers/{customer_id}",status="404"} 1"#,
        r#"pbx_http_request_duration_seconds_count{method="POST",route="/api/v1.0/customers"} 1"#,
        r#"pbx_profiles_created_total{type="KazooPbxConnectionProfile"} 1"#,
        r#"pbx_db_pool_connections{state="idle"}"#,
    ] {
        assert!(text.contains(expected), "missing {expected} in:\n{text}");
    }
    assert!(!text.contains(&customer), "no concrete path (unbounded cardinality) in the labels");
}

#[tokio::test]
async fn metrics_can_have_a_listener_of_their_own() {
    let server = TestServer::start_with(&[("PBX_METRICS_BIND", "127.0.0.1:0")]).await;
    let metrics = server.metrics_url.clone().expect("a metrics listener");
    let response = server.client.get(&metrics).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.text().await.unwrap().contains("pbx_profiles_created_total"));
    assert_eq!(server.client.get(server.url("/metrics")).send().await.unwrap().status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_configuration_file_sets_what_flags_and_variables_do_not() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pbx.toml");
    std::fs::write(&file, "rate_limit = 1\nrate-burst = 1\npublic-url = \"https://api.example.com\"\n").unwrap();
    let path = file.to_str().unwrap().to_owned();
    // The variable beats the file: the public URL comes from the environment.
    let server = TestServer::start_with(&[("PBX_CONFIG", &path), ("PBX_PUBLIC_URL", "https://edge.example.com")]).await;
    let token = server.reseller();
    let response = server.post("/api/v1.0/customers", &token, &serde_json::json!({"name": "Acme"}), &[]).await;
    assert!(response.headers()["location"].to_str().unwrap().starts_with("https://edge.example.com/api/v1.0/"));
    // The file's rate limit (1 a second, bursts of 1) applies.
    let limited = async {
        for _ in 0..10 {
            if server.get("/api/v1.0/customers", &token).await.status() == StatusCode::TOO_MANY_REQUESTS {
                return true;
            }
        }
        false
    };
    assert!(limited.await, "the file's rate limit never applied");
    assert!(server.logs().contains("effective configuration"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_a_burst_loses_no_answered_create_and_resets_no_connection() {
    let mut server = TestServer::start_with(&[("PBX_RATE_LIMIT", "0"), ("PBX_SHUTDOWN_DRAIN", "2s")]).await;
    let token = server.reseller();
    let customer = server.customer(&token).await;
    let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
    let url = server.url(&format!("/api/v1.0/customers/{customer}/pbxs"));
    let send = |client: &reqwest::Client| {
        let request = client.post(&url).bearer_auth(&token).header("accept-charges", "true").json(&kazoo(&new_guid()));
        async move { request.send().await }
    };

    // 16 requests in flight at all times, SIGTERM once 40 are answered, more requests during the drain, then none.
    let mut burst = JoinSet::new();
    for _ in 0..16 {
        burst.spawn(send(&client));
    }
    let mut created = BTreeSet::new();
    let mut signalled: Option<Instant> = None;
    while let Some(result) = burst.join_next().await {
        let response = result.unwrap().unwrap_or_else(|e| panic!("a request in flight or in the drain failed: {e:?}"));
        let (status, _, body) = read(response).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        created.insert(body["data"]["id"].as_str().unwrap().to_owned());
        if created.len() == 40 && signalled.is_none() {
            std::process::Command::new("kill").args(["-TERM", &server.pid().to_string()]).status().unwrap();
            signalled = Some(Instant::now());
        }
        if signalled.is_none_or(|at| at.elapsed() < Duration::from_millis(300)) {
            burst.spawn(send(&client));
        }
    }
    let status = server.wait();
    assert!(status.success(), "exit status {status}");
    println!("graceful stop: {} creates answered 201, none failed", created.len());
    assert!(created.len() > 40, "requests were served during the drain");

    server.restart_stopped();
    for id in &created {
        let path = format!("/api/v1.0/customers/{customer}/pbxs/{id}");
        assert_eq!(server.get(&path, &token).await.status(), StatusCode::OK, "{id} was answered 201 but is gone");
    }
    // Pages of 1000 (a fast machine answers more than that before it stops).
    let mut stored = 0;
    for index in 0.. {
        let page = format!("/api/v1.0/customers/{customer}/pbxs?pageSize=1000&pageIndex={index}");
        let (_, _, listed) = read(server.get(&page, &token).await).await;
        let count = listed["page_size"].as_u64().unwrap();
        stored += count;
        if count < 1000 {
            break;
        }
    }
    assert_eq!(stored, created.len() as u64, "nothing half-created either");
}

/// Clients that keep connecting through the whole stop, a new connection for every request: each connection is
/// answered (201 while the server serves, 503 once it has stopped accepting) until the socket closes, and then
/// refused: none is reset. Before the fix, connections were reset or closed unanswered: actix-server's workers dropped
/// those handed to them and not yet started, and closing the socket reset those queued in it (each client's last
/// attempt, in most rounds, until the socket stopped completing handshakes before its last accept).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_answers_every_connection_until_the_socket_closes() {
    let mut server = TestServer::start_with(&[("PBX_RATE_LIMIT", "0"), ("PBX_SHUTDOWN_DRAIN", "300ms")]).await;
    let token = server.reseller();
    let customer = server.customer(&token).await;
    let client = reqwest::Client::builder().pool_max_idle_per_host(0).timeout(Duration::from_secs(10)).build().unwrap();
    // Three stops: the race is lost now and then, not every time.
    for round in 0..3 {
        if round > 0 {
            server.restart_stopped();
        }
        let url = server.url(&format!("/api/v1.0/customers/{customer}/pbxs"));
        let counts = connections_through_a_stop(&mut server, &client, &url, &token).await;
        println!("connections through stop {round}: {counts:?}");
        let lost: Vec<&String> = counts.keys().filter(|k| !["201", "503", "last"].contains(&k.as_str())).collect();
        assert!(lost.is_empty(), "stop {round}: connections not answered: {counts:?}");
        assert_eq!(counts.get("last"), Some(&16), "each client ends refused once the socket closes");
        assert!(counts.contains_key("503"), "connections arriving during the stop are answered: {counts:?}");
    }
}

/// 16 clients send creates, each on a new connection, until their connection is refused; SIGTERM after a second.
/// What became of the requests, counted: a status, `refused`, or how one was lost.
async fn connections_through_a_stop(
    server: &mut TestServer,
    client: &reqwest::Client,
    url: &str,
    token: &str,
) -> BTreeMap<String, usize> {
    let mut clients = JoinSet::new();
    for _ in 0..16 {
        let (client, url, token) = (client.clone(), url.to_owned(), token.to_owned());
        clients.spawn(async move {
            let mut outcomes: Vec<String> = Vec::new();
            loop {
                let request = client.post(&url).bearer_auth(&token).header("accept-charges", "true");
                match request.json(&kazoo(&new_guid())).send().await {
                    Ok(response) => {
                        let status = response.status();
                        match response.bytes().await {
                            Ok(_) => outcomes.push(status.as_str().to_owned()),
                            Err(e) => outcomes.push(format!("body lost after {status}: {e:?}")),
                        }
                    }
                    Err(e) if e.is_connect() => {
                        outcomes.push("last".to_owned());
                        return outcomes;
                    }
                    Err(e) => outcomes.push(format!("failed: {e:?}")),
                }
            }
        });
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    std::process::Command::new("kill").args(["-TERM", &server.pid().to_string()]).status().unwrap();
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    while let Some(outcomes) = clients.join_next().await {
        for outcome in outcomes.unwrap() {
            *counts.entry(outcome).or_default() += 1;
        }
    }
    assert!(server.wait().success());
    counts
}

/// An idle keep-alive connection (a client's pool) does not hold the stop until the grace runs out: it is closed
/// when the stop begins.
#[tokio::test]
async fn an_idle_keep_alive_connection_does_not_hold_the_stop() {
    let mut server = TestServer::start_with(&[("PBX_SHUTDOWN_DRAIN", "100ms"), ("PBX_SHUTDOWN_GRACE", "30s")]).await;
    let pooled = reqwest::Client::builder().pool_idle_timeout(Duration::from_secs(120)).build().unwrap();
    assert_eq!(pooled.get(server.url("/healthz")).send().await.unwrap().status(), StatusCode::OK);
    let started = Instant::now();
    assert!(server.stop().success());
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "the stop waited {:?} for an idle connection",
        started.elapsed()
    );
}

#[tokio::test]
async fn readiness_turns_503_while_draining() {
    let mut server = TestServer::start_with(&[("PBX_SHUTDOWN_DRAIN", "3s")]).await;
    std::process::Command::new("kill").args(["-TERM", &server.pid().to_string()]).status().unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let ready = server.client.get(server.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(ready.headers()["connection"], "close");
    assert_eq!(server.client.get(server.url("/healthz")).send().await.unwrap().status(), StatusCode::OK);
    assert!(server.wait().success());
}

#[tokio::test]
async fn json_logs_carry_the_request_id_on_every_line_of_a_request() {
    let mut server = TestServer::start_with(&[("PBX_LOG_FORMAT", "json")]).await;
    let token = server.reseller();
    let customer = server.customer(&token).await;
    let response = server
        .client
        .post(server.url(&format!("/api/v1.0/customers/{customer}/pbxs")))
        .bearer_auth(&token)
        .header("accept-charges", "true")
        .header("x-request-id", "trace-me-42")
        .json(&kazoo(&new_guid()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "trace-me-42");
    assert!(server.stop().success());
    let logs = server.logs();
    let lines: Vec<serde_json::Value> = logs
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let traced: Vec<&serde_json::Value> = lines.iter().filter(|l| l.to_string().contains("trace-me-42")).collect();
    let messages: Vec<&str> = traced.iter().filter_map(|l| l["fields"]["message"].as_str()).collect();
    assert!(messages.contains(&"PBX profile created") && messages.contains(&"request"), "{messages:?}");
    // A request's duration in milliseconds, to the microsecond: at most three decimals.
    for line in lines.iter().filter(|l| l["fields"]["message"] == "request") {
        let elapsed = line["fields"]["elapsed_ms"].to_string();
        let decimals = elapsed.split_once('.').map_or(0, |(_, d)| d.len());
        assert!(decimals <= 3, "elapsed_ms {elapsed} in {line}");
    }
}
