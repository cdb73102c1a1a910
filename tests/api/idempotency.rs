//! `Idempotency-Key` on creates: a repeat gets the first answer and creates nothing, across replicas and restarts.

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
    assert_eq!(again.body, first.body, "the very same answer, timestamp included");
    assert_eq!(count(&server, &token, CUSTOMERS).await, 1);

    let customer = first.body["data"]["id"].as_str().unwrap();
    let pbxs = format!("{CUSTOMERS}/{customer}/pbxs");
    let headers = [("idempotency-key", "pbx-1"), ("accept-charges", "true")];
    let created = answer(server.post(&pbxs, &token, &kazoo("idem-1"), &headers).await).await;
    let repeat = answer(server.post(&pbxs, &token, &kazoo("idem-1"), &headers).await).await;
    assert_eq!((created.status, repeat.status), (StatusCode::CREATED, StatusCode::CREATED), "{:?}", repeat.body);
    assert!(repeat.replayed);
    assert_eq!((repeat.location, repeat.body), (created.location, created.body.clone()));
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
    assert_eq!((again.status, again.location), (StatusCode::CREATED, first.location));
    assert_eq!(count(&server, &token, CUSTOMERS).await, 1);
}

#[tokio::test]
async fn a_repeat_after_the_resource_was_deleted_replays_the_first_answer_and_creates_nothing() {
    let server = TestServer::start().await;
    let token = server.reseller();
    let first = create_acme(&server, &token, "then-deleted").await;
    let location = first.location.clone().unwrap();
    let deleted = server.client.delete(&location).bearer_auth(&token).send().await.unwrap();
    assert_eq!(deleted.status(), StatusCode::OK);

    let again = create_acme(&server, &token, "then-deleted").await;
    assert!(again.replayed, "the answer of the create the key stands for");
    assert_eq!((again.status, again.location, again.body), (StatusCode::CREATED, first.location, first.body));
    let gone = server.client.get(&location).bearer_auth(&token).send().await.unwrap();
    assert_eq!(gone.status(), StatusCode::NOT_FOUND, "the replay does not bring the customer back");
    assert_eq!(count(&server, &token, CUSTOMERS).await, 0);
}

/// Puts the claim of `key` back as a process that died after committing its create would have left it: pending (no
/// answer stored) and older than the one-minute lease.
async fn interrupt_after_commit(server: &TestServer, key: &str) {
    let db = server.database().await;
    let (at, of) = if db.backend() == DbBackend::Postgres { ("$1", "$2") } else { ("?", "?") };
    let sql = format!(
        "UPDATE idempotency_keys SET status = NULL, location = NULL, answer = NULL, created_at = {at} \
         WHERE idempotency_key = {of}"
    );
    let stale = chrono::Utc::now() - chrono::TimeDelta::minutes(2);
    let statement = Statement::from_sql_and_values(db.backend(), sql, [stale.into(), key.into()]);
    assert_eq!(db.connection().execute_raw(statement).await.unwrap().rows_affected(), 1);
}

#[tokio::test]
async fn a_repeat_after_a_crash_between_the_create_and_its_answer_finds_what_was_created() {
    let server = TestServer::start().await;
    let token = server.reseller();
    let first = create_acme(&server, &token, "crashed-customer").await;
    interrupt_after_commit(&server, "crashed-customer").await;
    let again = create_acme(&server, &token, "crashed-customer").await;
    assert_eq!((again.status, &again.location), (StatusCode::CREATED, &first.location), "{}", again.body);
    assert_eq!(again.body["data"]["id"], first.body["data"]["id"]);
    assert_eq!(count(&server, &token, CUSTOMERS).await, 1, "no second customer");

    let customer = first.body["data"]["id"].as_str().unwrap();
    let pbxs = format!("{CUSTOMERS}/{customer}/pbxs");
    let headers = [("idempotency-key", "crashed-pbx"), ("accept-charges", "true")];
    let created = answer(server.post(&pbxs, &token, &kazoo("idem-crash"), &headers).await).await;
    interrupt_after_commit(&server, "crashed-pbx").await;
    let repeat = answer(server.post(&pbxs, &token, &kazoo("idem-crash"), &headers).await).await;
    assert_eq!((repeat.status, &repeat.location), (StatusCode::CREATED, &created.location), "{}", repeat.body);
    assert_eq!(repeat.body["data"]["apiKey"], "ABCDEF", "the create answer, secret included, as the first");
    assert_eq!(count(&server, &token, &pbxs).await, 1);

    let answered = answer(server.post(&pbxs, &token, &kazoo("idem-crash"), &headers).await).await;
    assert!(answered.replayed, "the resumed answer is kept for later repeats");
    assert_eq!(answered.body, repeat.body);
}
