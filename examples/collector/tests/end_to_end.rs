//! The collector against a real pbx-server on the backend `PBX_TEST_BACKEND` selects: 8 clients make 300 random
//! creates, enables, disables, renames and deletes while the service is killed with SIGKILL once and restarted;
//! then the collector's set of profiles equals the database's enabled profiles exactly, and it never started a
//! profile after its delete. Over HTTP, and over NATS JetStream when `PBX_TEST_NATS_URL` is set (CI sets it).

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use pbx_infra::testing::{Backend, TestDatabase};
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use uuid::Uuid;

const CLIENTS: usize = 8;
const OPERATIONS: usize = 300;

/// pbx-server, built beside this crate's binary by the same `cargo test --workspace`.
fn server_binary() -> PathBuf {
    let collector = Path::new(env!("CARGO_BIN_EXE_pbx-collector"));
    let server = collector.with_file_name("pbx-server");
    assert!(server.exists(), "{} is missing: build it first (cargo build -p pbx-server)", server.display());
    server
}

struct Service {
    data_dir: tempfile::TempDir,
    _database: Option<TestDatabase>,
    database_url: Option<String>,
    nats_url: Option<String>,
    port: u16,
    child: Option<Child>,
}

impl Service {
    fn command(&self) -> Command {
        let mut command = Command::new(server_binary());
        command.arg("--data-dir").arg(self.data_dir.path());
        for (name, _) in std::env::vars() {
            if name.starts_with("PBX_") || name == "DATABASE_URL" || name == "RUST_LOG" {
                command.env_remove(name);
            }
        }
        if let Some(url) = &self.database_url {
            command.env("DATABASE_URL", url);
        }
        if let Some(url) = &self.nats_url {
            command.env("PBX_NATS_URL", url);
        }
        command
    }

    fn token(&self, tenant: &str, scope: &str) -> String {
        let output = self.command().args(["token", "--tenant", tenant, "--scope", scope]).output().unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8(output.stdout).unwrap().lines().last().unwrap().to_owned()
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    async fn start(&mut self) {
        let log = std::fs::OpenOptions::new().create(true).append(true).open(self.data_dir.path().join("server.log"));
        let child = self
            .command()
            .args(["serve", "--bind", &format!("127.0.0.1:{}", self.port)])
            .stdout(Stdio::null())
            .stderr(Stdio::from(log.unwrap()))
            .spawn()
            .unwrap();
        self.child = Some(child);
        let started = Instant::now();
        while reqwest::get(format!("{}/readyz", self.url())).await.map(|r| r.status().is_success()).ok() != Some(true) {
            assert!(started.elapsed() < Duration::from_secs(60), "pbx-server did not start");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn kill(&mut self) {
        let mut child = self.child.take().unwrap();
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

async fn service(nats_url: Option<String>) -> Service {
    let database = match Backend::from_env() {
        Backend::Sqlite => None,
        _ => Some(TestDatabase::create().await.unwrap()),
    };
    let database_url = database.as_ref().map(|db| db.url().to_owned());
    let mut service = Service {
        data_dir: tempfile::tempdir().unwrap(),
        _database: database,
        database_url,
        nats_url,
        port: free_port(),
        child: None,
    };
    service.start().await;
    service
}

/// One client's random changes to its own customer's profiles; failures while the service is down are expected.
async fn client(url: String, token: String, seed: u64, done: Arc<AtomicUsize>) {
    let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let customer = loop {
        let response = http
            .post(format!("{url}/api/v1.0/customers"))
            .bearer_auth(&token)
            .json(&json!({"name": "Acme"}))
            .send()
            .await;
        if let Ok(response) = response
            && response.status() == reqwest::StatusCode::CREATED
        {
            let body: Value = response.json().await.unwrap();
            break body["data"]["id"].as_str().unwrap().to_owned();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let pbxs = format!("{url}/api/v1.0/customers/{customer}/pbxs");
    let mut profiles: Vec<String> = Vec::new();
    while done.fetch_add(1, Ordering::SeqCst) < OPERATIONS {
        let choice = if profiles.is_empty() { 0 } else { rng.random_range(0..5) };
        let target = (!profiles.is_empty()).then(|| profiles[rng.random_range(0..profiles.len())].clone());
        let patch = |ops: Value| {
            let url = format!("{pbxs}/{}", target.clone().unwrap_or_default());
            http.patch(url)
                .bearer_auth(&token)
                .header("content-type", "application/json-patch+json")
                .header("accept-charges", "true")
                .body(ops.to_string())
                .send()
        };
        let _ = match choice {
            0 => {
                let body = json!({"_type": "TeamsPbxConnectionProfile", "name": "Teams", "microsoftTenantId": Uuid::now_v7().to_string()});
                let sent =
                    http.post(&pbxs).bearer_auth(&token).header("accept-charges", "true").json(&body).send().await;
                if let Ok(response) = sent
                    && response.status() == reqwest::StatusCode::CREATED
                {
                    let body: Value = response.json().await.unwrap();
                    profiles.push(body["data"]["id"].as_str().unwrap().to_owned());
                }
                continue;
            }
            1 => patch(json!([{"op": "replace", "path": "/enabled", "value": true}])).await,
            2 => patch(json!([{"op": "replace", "path": "/enabled", "value": false}])).await,
            3 => {
                patch(json!([{"op": "replace", "path": "/name", "value": format!("Renamed {}", rng.random::<u16>())}]))
                    .await
            }
            _ => {
                let id = target.unwrap();
                let deleted = http.delete(format!("{pbxs}/{id}")).bearer_auth(&token).send().await;
                if deleted.is_ok_and(|r| {
                    r.status() == reqwest::StatusCode::OK || r.status() == reqwest::StatusCode::NOT_FOUND
                }) {
                    profiles.retain(|p| *p != id);
                }
                continue;
            }
        };
    }
}

/// The profiles enabled in the database, read through the API (every customer of the tenant).
async fn enabled_profiles(url: &str, token: &str) -> BTreeSet<Uuid> {
    let http = reqwest::Client::new();
    let get = |path: String| http.get(format!("{url}{path}")).bearer_auth(token).send();
    let customers: Value = get("/api/v1.0/customers?pageSize=1000".to_owned()).await.unwrap().json().await.unwrap();
    let mut enabled = BTreeSet::new();
    for customer in customers["data"].as_array().unwrap() {
        let id = customer["id"].as_str().unwrap();
        let page: Value =
            get(format!("/api/v1.0/customers/{id}/pbxs?pageSize=1000")).await.unwrap().json().await.unwrap();
        for profile in page["data"].as_array().unwrap() {
            if profile["enabled"] == true {
                enabled.insert(profile["id"].as_str().unwrap().parse().unwrap());
            }
        }
    }
    enabled
}

/// The cursor of the last event in the feed.
async fn last_cursor(url: &str, token: &str) -> Option<String> {
    let http = reqwest::Client::new();
    let mut next: Option<String> = None;
    loop {
        let after = next.as_ref().map(|c| format!("&after={c}")).unwrap_or_default();
        let page: Value = http
            .get(format!("{url}/api/v1.0/events?limit=1000{after}"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if page["data"].as_array().unwrap().is_empty() {
            return next;
        }
        next = page["next"].as_str().map(str::to_owned);
    }
}

async fn collector_follows_every_change_through_a_crash(nats_url: Option<String>) {
    let mut service = service(nats_url.clone()).await;
    let tenant = Uuid::now_v7().to_string();
    let token = service.token(&tenant, "onboarding");
    let collector_token = service.token(&Uuid::now_v7().to_string(), "collector");
    let state = service.data_dir.path().join("collector.json");
    let mut collector = Command::new(env!("CARGO_BIN_EXE_pbx-collector"));
    collector.args(["--url", &service.url(), "--token", &collector_token, "--state"]).arg(&state);
    if let Some(url) = &nats_url {
        collector.args(["--nats", url, "--subject", &format!("pbx.events.{tenant}.>")]);
    }
    let log = std::fs::File::create(service.data_dir.path().join("collector.log")).unwrap();
    let mut collector =
        collector.stdout(Stdio::from(log.try_clone().unwrap())).stderr(Stdio::from(log)).spawn().unwrap();

    let done = Arc::new(AtomicUsize::new(0));
    let clients: Vec<_> =
        (0..CLIENTS).map(|i| tokio::spawn(client(service.url(), token.clone(), i as u64, Arc::clone(&done)))).collect();
    while done.load(Ordering::SeqCst) < OPERATIONS / 2 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    service.kill();
    tokio::time::sleep(Duration::from_millis(300)).await;
    service.start().await;
    for client in clients {
        client.await.unwrap();
    }

    let expected = enabled_profiles(&service.url(), &token).await;
    let started = Instant::now();
    let collected = loop {
        let last = last_cursor(&service.url(), &collector_token).await;
        let saved: Option<Value> = std::fs::read(&state).ok().and_then(|b| serde_json::from_slice(&b).ok());
        if let Some(saved) = &saved
            && saved["cursor"].as_str().map(str::to_owned) == last
        {
            // Caught up; read the set once more after a pause to be sure nothing moved.
            tokio::time::sleep(Duration::from_millis(300)).await;
            if last_cursor(&service.url(), &collector_token).await == last {
                break saved.clone();
            }
        }
        if started.elapsed() > Duration::from_secs(90) {
            let log = std::fs::read_to_string(service.data_dir.path().join("collector.log")).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(30).collect();
            panic!(
                "the collector did not catch up; last {last:?}, state {saved:?}; its log ends:\n{}",
                tail.join("\n")
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let _ = collector.kill();
    let _ = collector.wait();
    let collecting: BTreeSet<Uuid> =
        collected["collecting"].as_object().unwrap().keys().map(|k| k.parse().unwrap()).collect();
    let log = std::fs::read_to_string(service.data_dir.path().join("collector.log")).unwrap();
    assert_eq!(collected["started_after_delete"], 0, "{log}");
    assert_eq!(collecting, expected, "the collector's set against the database's enabled profiles; its log:\n{log}");
    eprintln!(
        "collector ({}): {} profiles enabled at the end, {} starts/stops",
        if nats_url.is_some() { "NATS" } else { "HTTP" },
        expected.len(),
        log.lines().filter(|l| l.starts_with("start") || l.starts_with("stop") || l.starts_with("restart")).count()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn over_http_the_collector_keeps_exactly_the_enabled_profiles_through_a_crash() {
    collector_follows_every_change_through_a_crash(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn over_nats_the_collector_keeps_exactly_the_enabled_profiles_through_a_crash() {
    let Ok(url) = std::env::var("PBX_TEST_NATS_URL") else {
        eprintln!(
            "skipped: set PBX_TEST_NATS_URL (nats://127.0.0.1:4222, JetStream on) to run the NATS collector test"
        );
        return;
    };
    collector_follows_every_change_through_a_crash(Some(url)).await;
}
