//! `Idempotency-Key` on creates: a repeat gets what the first request made and creates nothing, across replicas and
//! restarts.

use reqwest::{Response, StatusCode};
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::{Value, json};
use tokio::task::JoinSet;

use crate::helpers::{TestServer, kazoo, new_guid};

const CUSTOMERS: &str = "/api/v1.0/customers";

struct Answer {
    status: StatusCode,
    location: Option<String>,
    replayed: bool,
    body: Value,
}

async fn answer(response: Response) -> Answer {
    let header = |name: &str| response.headers().get(name).map(|v| v.to_str().unwrap().to_owned());
    let (status, location, replayed) =
        (response.status(), header("location"), header("idempotent-replayed").as_deref() == Some("true"));
    Answer { status, location, replayed, body: response.json().await.unwrap() }
}

/// Creates the customer "Acme" with `key`.
async fn create_acme(server: &TestServer, token: &str, key: &str) -> Answer {
    answer(server.post(CUSTOMERS, token, &json!({"name": "Acme"}), &[("idempotency-key", key)]).await).await
}

async fn count(server: &TestServer, token: &str, path: &str) -> usize {
    let body: Value = server.get(path, token).await.json().await.unwrap();
    body["data"].as_array().unwrap().len()
}

#[tokio::test]
async fn a_repeated_create_gets_the_first_answer_back_and_creates_nothing() {
    let server = TestServer::start().await;
    let token = server.reseller();
    let first = create_acme(&server, &token, "create-acme-1").await;
    let again = create_acme(&server, &token, "create-acme-1").await;
    assert_eq!((first.status, again.status), (StatusCode::CREATED, StatusCode::CREATED));
    assert!(!first.replayed && again.replayed, "only the repeat is marked");
    assert_eq!(again.location, first.location);
    assert_eq!(again.body["data"], first.body["data"], "the same customer, as stored (dates included)");
    assert_eq!(count(&server, &token, CUSTOMERS).await, 1);

    let customer = first.body["data"]["id"].as_str().unwrap();
    let pbxs = format!("{CUSTOMERS}/{customer}/pbxs");
    let headers = [("idempotency-key", "pbx-1"), ("accept-charges", "true")];
    let created = answer(server.post(&pbxs, &token, &kazoo("idem-1"), &headers).await).await;
    let repeat = answer(server.post(&pbxs, &token, &kazoo("idem-1"), &headers).await).await;
    assert_eq!((created.status, repeat.status), (StatusCode::CREATED, StatusCode::CREATED), "{:?}", repeat.body);
    assert!(repeat.replayed);
    assert_eq!((repeat.location, &repeat.body["data"]), (created.location, &created.body["data"]));
    assert_eq!(created.body["data"]["apiKey"], "ABCDEF", "the create answer, secret included, to its client only");
    assert_eq!(count(&server, &token, &pbxs).await, 1);
}

#[tokio::test]
async fn a_key_reused_for_another_request_is_422_and_keys_belong_to_one_reseller() {
    let server = TestServer::start().await;
    let (token, other) = (server.reseller(), server.reseller());
    let key = [("idempotency-key", "shared-key")];
    assert_eq!(create_acme(&server, &token, "shared-key").await.status, StatusCode::CREATED);
    let reused = answer(server.post(CUSTOMERS, &token, &json!({"name": "Globex"}), &key).await).await;
    assert_eq!(reused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reused.body["error"], 422);
    assert!(reused.body["message"].as_str().unwrap().contains("Idempotency-Key"), "{}", reused.body);

    let theirs = create_acme(&server, &other, "shared-key").await;
    assert_eq!(theirs.status, StatusCode::CREATED, "another reseller's key of the same name is another key");
    assert!(!theirs.replayed);
    assert_eq!((count(&server, &token, CUSTOMERS).await, count(&server, &other, CUSTOMERS).await), (1, 1));

    for bad in ["", "has space", &"k".repeat(256)] {
        let response = server.post(CUSTOMERS, &token, &json!({"name": "Acme"}), &[("idempotency-key", bad)]).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "key {bad:?}");
    }
}

#[tokio::test]
async fn only_a_creation_uses_up_a_key_so_the_402_handshake_and_corrections_work() {
    let server = TestServer::start().await;
    let token = server.reseller();
    let customer = server.customer(&token).await;
    let pbxs = format!("{CUSTOMERS}/{customer}/pbxs");
    let key = ("idempotency-key", "charged-1");
    let refused = server.post(&pbxs, &token, &kazoo("idem-402"), &[key]).await;
    assert_eq!(refused.status(), StatusCode::PAYMENT_REQUIRED);
    let mut broken = kazoo("idem-402");
    broken["hostRest"] = json!("not a url");
    let invalid = server.post(&pbxs, &token, &broken, &[key, ("accept-charges", "true")]).await;
    assert_eq!(invalid.status(), StatusCode::BAD_REQUEST, "a different body once the key is free again is fine");
    let accepted =
        answer(server.post(&pbxs, &token, &kazoo("idem-402"), &[key, ("accept-charges", "true")]).await).await;
    assert_eq!(accepted.status, StatusCode::CREATED);
    assert!(!accepted.replayed, "the 402 and the 400 kept nothing");
    let repeat = answer(server.post(&pbxs, &token, &kazoo("idem-402"), &[key, ("accept-charges", "true")]).await).await;
    assert!(repeat.replayed && repeat.status == StatusCode::CREATED);
    assert_eq!(count(&server, &token, &pbxs).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_concurrent_repeats_over_two_replicas_create_once_and_all_get_the_answer() {
    let first = TestServer::start().await;
    let second = first.replica();
    let token = first.reseller();
    let key = new_guid();
    let mut requests = JoinSet::new();
    for i in 0..20 {
        let server = if i % 2 == 0 { &first } else { &second };
        let request = server
            .client
            .post(server.url(CUSTOMERS))
            .bearer_auth(&token)
            .header("idempotency-key", &key)
            .json(&json!({"name": "Acme", "reference": "concurrent"}));
        requests.spawn(async move { request.send().await });
    }
    let mut locations = Vec::new();
    while let Some(result) = requests.join_next().await {
        let response = answer(result.unwrap().unwrap()).await;
        assert_eq!(response.status, StatusCode::CREATED, "{}", response.body);
        locations.push(response.location.unwrap().rsplit('/').next().unwrap().to_owned());
    }
    locations.sort();
    locations.dedup();
    assert_eq!(locations.len(), 1, "one customer for every answer: {locations:?}");
    assert_eq!(count(&first, &token, CUSTOMERS).await, 1, "logs:\n{}\n{}", first.logs(), second.logs());
}

#[tokio::test]
async fn keys_outlive_a_restart() {
    let mut server = TestServer::start().await;
    let token = server.reseller();
    let first = create_acme(&server, &token, "before-restart").await;
    server.restart();
    let again = create_acme(&server, &token, "before-restart").await;
    assert!(again.replayed);
    assert_eq!(again.status, StatusCode::CREATED);
    assert_eq!(again.body["data"]["id"], first.body["data"]["id"], "the customer made before the restart");
    assert_eq!(count(&server, &token, CUSTOMERS).await, 1);
}

#[tokio::test]
async fn a_repeat_after_the_resource_was_deleted_is_a_conflict_and_creates_nothing() {
    let server = TestServer::start().await;
    let token = server.reseller();
    let first = create_acme(&server, &token, "then-deleted").await;
    let location = first.location.clone().unwrap();
    let deleted = server.client.delete(&location).bearer_auth(&token).send().await.unwrap();
    assert_eq!(deleted.status(), StatusCode::OK);

    let again = create_acme(&server, &token, "then-deleted").await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
    assert!(again.body["message"].as_str().unwrap().contains("deleted since"), "{}", again.body);
    let gone = server.client.get(&location).bearer_auth(&token).send().await.unwrap();
    assert_eq!(gone.status(), StatusCode::NOT_FOUND, "the repeat does not bring the customer back");
    assert_eq!(count(&server, &token, CUSTOMERS).await, 0);
}

/// Ages the row of `key` past the 24 hours a key stands for its create (the purge has not run yet).
async fn expire(server: &TestServer, key: &str) {
    let db = server.database().await;
    let (at, of) = if db.backend() == DbBackend::Postgres { ("$1", "$2") } else { ("?", "?") };
    let sql = format!("UPDATE idempotency_keys SET created_at = {at} WHERE idempotency_key = {of}");
    let old = chrono::Utc::now() - chrono::TimeDelta::hours(25);
    let statement = Statement::from_sql_and_values(db.backend(), sql, [old.into(), key.into()]);
    assert_eq!(db.connection().execute_raw(statement).await.unwrap().rows_affected(), 1);
}

#[tokio::test]
async fn a_key_stands_for_its_create_24_hours_then_is_free() {
    let server = TestServer::start().await;
    let token = server.reseller();
    let first = create_acme(&server, &token, "a-day-old").await;
    expire(&server, "a-day-old").await;
    let again = create_acme(&server, &token, "a-day-old").await;
    assert_eq!(again.status, StatusCode::CREATED);
    assert!(!again.replayed, "created anew");
    assert_ne!(again.location, first.location);
    let repeat = create_acme(&server, &token, "a-day-old").await;
    assert!(repeat.replayed && repeat.location == again.location, "the key now stands for the second create");
    assert_eq!(count(&server, &token, CUSTOMERS).await, 2);
}

#[tokio::test]
async fn a_webhook_and_an_account_are_created_once_and_a_key_serves_one_path() {
    let server = TestServer::start_with(&[("PBX_WEBHOOKS_ALLOW_PRIVATE", "true")]).await;
    let token = server.reseller();
    let hook = json!({"name": "CRM", "url": "http://127.0.0.1:9/hooks", "events": ["pbx.created"]});
    let key = [("idempotency-key", "hook-1")];
    let created = answer(server.post("/api/v1.0/webhooks", &token, &hook, &key).await).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let repeat = answer(server.post("/api/v1.0/webhooks", &token, &hook, &key).await).await;
    assert!(repeat.replayed && repeat.location == created.location);
    assert_eq!(repeat.body["data"], created.body["data"], "the signing secret shown again to a repeat of its create");
    assert!(created.body["data"]["secret"].as_str().unwrap().starts_with("whsec_"), "{}", created.body);
    let elsewhere = answer(server.post(CUSTOMERS, &token, &json!({"name": "Acme"}), &key).await).await;
    assert_eq!(elsewhere.status, StatusCode::UNPROCESSABLE_ENTITY, "the same key on another path");

    let account = json!({"name": "Sub"});
    let key = [("idempotency-key", "account-1")];
    let first = answer(server.post("/api/v1.0/accounts", &token, &account, &key).await).await;
    let again = answer(server.post("/api/v1.0/accounts", &token, &account, &key).await).await;
    assert_eq!((first.status, again.status), (StatusCode::CREATED, StatusCode::CREATED), "{}", first.body);
    assert!(again.replayed && again.body["data"] == first.body["data"]);

    // Under the account's prefix the caller acts as the account: the account's keys are its own.
    let account = first.body["data"]["id"].as_str().unwrap();
    assert_eq!(create_acme(&server, &token, "prefix-key").await.status, StatusCode::CREATED);
    let path = format!("/api/v1.0/accounts/{account}/customers");
    let under =
        answer(server.post(&path, &token, &json!({"name": "Acme"}), &[("idempotency-key", "prefix-key")]).await);
    let under = under.await;
    assert_eq!(under.status, StatusCode::CREATED, "{}", under.body);
    assert!(!under.replayed, "the account's own customer");
}
