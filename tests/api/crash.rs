//! Crash safety: creates at 32 connections, the server killed with SIGKILL at a random moment, restarted; every
//! create answered 201 is there and readable, and every stored profile reads back whole.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;
use tokio::task::JoinSet;

use crate::helpers::{TestServer, kazoo, new_guid, report};

const ROUNDS: usize = 20;
const CONNECTIONS: usize = 32;

/// A pseudo-random number from the clock (the moment of each kill need not be reproducible, only arbitrary).
fn random_below(bound: u64) -> u64 {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    u64::from(nanos.wrapping_mul(2_654_435_761)) % bound
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_sigkills_under_32_connections_lose_no_acknowledged_create() {
    let mut server = TestServer::start_with(&[("PBX_RATE_LIMIT", "0")]).await;
    let token = server.reseller();
    let customer = server.customer(&token).await;
    let pbxs = format!("/api/v1.0/customers/{customer}/pbxs");
    // Acknowledged creates: profile id -> the account id it was created with.
    let acknowledged = Arc::new(Mutex::new(BTreeMap::<String, String>::new()));
    let mut attempts = 0usize;

    for _ in 0..ROUNDS {
        let mut clients = JoinSet::new();
        for _ in 0..CONNECTIONS {
            let (url, token, acknowledged) = (server.url(&pbxs), token.clone(), Arc::clone(&acknowledged));
            let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
            clients.spawn(async move {
                let mut sent = 0usize;
                loop {
                    let account = new_guid();
                    let request =
                        client.post(&url).bearer_auth(&token).header("accept-charges", "true").json(&kazoo(&account));
                    sent += 1;
                    // A killed server ends the loop: connection refused or reset.
                    let Ok(response) = request.send().await else { return sent };
                    if response.status() != StatusCode::CREATED {
                        panic!("a create answered {}", response.status());
                    }
                    let Ok(body) = response.json::<Value>().await else { return sent };
                    let id = body["data"]["id"].as_str().unwrap().to_owned();
                    acknowledged.lock().unwrap().insert(id, account);
                }
            });
        }
        tokio::time::sleep(Duration::from_millis(100 + random_below(400))).await;
        std::process::Command::new("kill").args(["-KILL", &server.pid().to_string()]).status().unwrap();
        server.wait();
        while let Some(sent) = clients.join_next().await {
            attempts += sent.unwrap();
        }
        server.restart_stopped();
    }

    // Everything stored, page by page.
    let mut stored = BTreeSet::new();
    for page in 0.. {
        let body: Value =
            server.get(&format!("{pbxs}?pageSize=1000&pageIndex={page}"), &token).await.json().await.unwrap();
        let items = body["data"].as_array().unwrap();
        stored.extend(items.iter().map(|item| item["id"].as_str().unwrap().to_owned()));
        if items.len() < 1000 {
            break;
        }
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    let lost: Vec<_> = acknowledged.keys().filter(|id| !stored.contains(*id)).collect();
    assert!(lost.is_empty(), "{} creates answered 201 are gone: {lost:?}", lost.len());

    // Every stored profile reads back whole: its secrets decrypt, its fields parse; acknowledged ones as created.
    let mut reads = JoinSet::new();
    for id in stored.iter().cloned() {
        let request = server.client.get(server.url(&format!("{pbxs}/{id}"))).bearer_auth(&token);
        reads.spawn(async move {
            let response = request.send().await.unwrap();
            (id, response.status(), response.json::<Value>().await.unwrap())
        });
        while reads.len() >= 16 {
            let (id, status, body) = reads.join_next().await.unwrap().unwrap();
            check(&acknowledged, &id, status, &body);
        }
    }
    while let Some(result) = reads.join_next().await {
        let (id, status, body) = result.unwrap();
        check(&acknowledged, &id, status, &body);
    }
    report(&format!(
        "crash safety: {ROUNDS} SIGKILL rounds at {CONNECTIONS} connections; {attempts} creates sent, {} answered \
         201, {} stored ({} of them committed as the server died, unanswered), 0 lost, 0 unreadable",
        acknowledged.len(),
        stored.len(),
        stored.len() - acknowledged.len()
    ));
}

fn check(acknowledged: &BTreeMap<String, String>, id: &str, status: StatusCode, body: &Value) {
    assert_eq!(status, StatusCode::OK, "profile {id} does not read back: {body}");
    assert_eq!(body["data"]["id"], id);
    if let Some(account) = acknowledged.get(id) {
        assert_eq!(body["data"]["accountId"], account.as_str(), "profile {id} is not what was created");
    }
}
