//! The change feed and the collectors' credentials, over HTTP.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestServer, assert_error, kazoo, new_guid, read, report, three_cx};

async fn feed(server: &TestServer, token: &str, query: &str) -> (StatusCode, Value) {
    let (status, _, body) = read(server.get(&format!("/api/v1.0/events{query}"), token).await).await;
    (status, body)
}

fn types(page: &Value) -> Vec<&str> {
    page["data"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap()).collect()
}

async fn patch_pbx(server: &TestServer, token: &str, path: &str, ops: &Value, headers: &[(&str, &str)]) -> StatusCode {
    server.patch(path, token, ops, headers).await.status()
}

#[tokio::test]
async fn every_change_is_in_the_feed_in_order_with_its_actor_and_never_a_secret() {
    let server = TestServer::start().await;
    let tenant = new_guid();
    let token = server.token(&tenant, "onboarding");
    let customer = server.customer(&token).await;
    let (status, _, created) = read(server.create_pbx(&token, &customer, &kazoo("feed-1")).await).await;
    assert_eq!(status, StatusCode::CREATED);
    let path = format!("/api/v1.0/customers/{customer}/pbxs/{}", created["data"]["id"].as_str().unwrap());
    let on = json!([{"op": "replace", "path": "/enabled", "value": true}]);
    assert_eq!(patch_pbx(&server, &token, &path, &on, &[("accept-charges", "true")]).await, StatusCode::OK);
    let renamed = json!([{"op": "replace", "path": "/name", "value": "Renamed"}, {"op": "replace", "path": "/apiKey", "value": "NEWKEY"}]);
    assert_eq!(patch_pbx(&server, &token, &path, &renamed, &[]).await, StatusCode::OK);
    let off = json!([{"op": "replace", "path": "/enabled", "value": false}]);
    assert_eq!(patch_pbx(&server, &token, &path, &off, &[]).await, StatusCode::OK);
    let deleted = reqwest::Client::new().delete(server.url(&path)).bearer_auth(&token).send().await.unwrap();
    assert_eq!(deleted.status(), StatusCode::OK);

    let (status, page) = feed(&server, &token, "").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(
        types(&page),
        ["customer.created", "pbx.created", "pbx.enabled", "pbx.updated", "pbx.disabled", "pbx.deleted"]
    );
    assert_eq!(page["status"], "success");
    let events = page["data"].as_array().unwrap();
    assert_eq!(page["next"], events[5]["cursor"]);
    assert_eq!(events[0]["actor"]["tenantId"], tenant.as_str());
    assert_eq!(events[0]["resellerId"], tenant.as_str());
    assert_eq!(events[0]["data"]["name"], "Acme");
    assert_eq!(events[1]["data"]["enabled"], false);
    assert_eq!(events[2]["data"]["enabled"], true);
    assert_eq!(events[3]["changed"], json!(["apiKey", "name"]), "a changed secret is named");
    assert!(events[5]["data"].is_null());
    let text = page.to_string();
    assert!(!text.contains("ABCDEF") && !text.contains("NEWKEY"), "a secret in the feed: {text}");

    // Paging by cursor, and a page after the last event is empty and keeps the cursor.
    let (_, first) = feed(&server, &token, "?limit=2").await;
    assert_eq!(types(&first), ["customer.created", "pbx.created"]);
    let (_, rest) = feed(&server, &token, &format!("?after={}", first["next"].as_str().unwrap())).await;
    assert_eq!(rest["data"].as_array().unwrap().len(), 4);
    let (_, empty) = feed(&server, &token, &format!("?after={}", rest["next"].as_str().unwrap())).await;
    assert_eq!((empty["data"].as_array().unwrap().len(), &empty["next"]), (0, &rest["next"]));
}

#[tokio::test]
async fn a_tenant_sees_its_own_events_and_a_collector_everyones() {
    let server = TestServer::start().await;
    let (mine, theirs) = (server.reseller(), server.reseller());
    server.customer(&mine).await;
    server.customer(&theirs).await;
    assert_eq!(feed(&server, &mine, "").await.1["data"].as_array().unwrap().len(), 1);
    let collector = server.token(&new_guid(), "collector");
    assert_eq!(feed(&server, &collector, "").await.1["data"].as_array().unwrap().len(), 2);
    let reader = server.token(&new_guid(), "events:read");
    assert_eq!(feed(&server, &reader, "").await.1["data"].as_array().unwrap().len(), 0, "a stranger sees none");
    let writer = server.token(&new_guid(), "customers:write");
    let (status, body) = feed(&server, &writer, "").await;
    assert_error(
        status,
        &body,
        StatusCode::FORBIDDEN,
        "The token does not grant the scope 'events:read' this operation needs.",
    );
}

/// `changed` would otherwise confirm a guess: the stored key written again must read like another key written.
#[tokio::test]
async fn a_secret_written_is_named_in_changed_whether_or_not_it_differed() {
    let server = TestServer::start().await;
    let token = server.token(&new_guid(), "onboarding");
    let customer = server.customer(&token).await;
    let (_, _, created) = read(server.create_pbx(&token, &customer, &kazoo("guess-1")).await).await;
    let stored = kazoo("guess-1")["apiKey"].as_str().unwrap().to_owned();
    let path = format!("/api/v1.0/customers/{customer}/pbxs/{}", created["data"]["id"].as_str().unwrap());
    for key in [stored.as_str(), "ANOTHER", "ANOTHER"] {
        let write = json!([{"op": "replace", "path": "/apiKey", "value": key}]);
        assert_eq!(patch_pbx(&server, &token, &path, &write, &[]).await, StatusCode::OK);
    }
    let rename = json!([{"op": "replace", "path": "/name", "value": "Renamed"}]);
    assert_eq!(patch_pbx(&server, &token, &path, &rename, &[]).await, StatusCode::OK);
    let (_, page) = feed(&server, &token, "").await;
    let changed: Vec<&Value> = page["data"].as_array().unwrap()[2..].iter().map(|e| &e["changed"]).collect();
    assert_eq!(
        changed,
        [&json!(["apiKey"]), &json!(["apiKey"]), &json!(["apiKey"]), &json!(["name"])],
        "the same, another, the same again; a rename writes no secret"
    );
}

#[tokio::test]
async fn bad_parameters_are_400_each_named() {
    let server = TestServer::start().await;
    let token = server.reseller();
    for query in
        ["?after=abc", "?after=-1", "?after=18446744073709551615", "?limit=0", "?limit=1001", "?wait=31", "?wait=x"]
    {
        let (status, body) = feed(&server, &token, query).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
        let field = body["errors"][0]["field"].as_str().unwrap().to_owned();
        assert!(query.contains(&field), "{query}: {body}");
    }
    // The largest cursor the document allows (19 digits) is past every cursor handed out: a follower that sent it
    // would skip events, so it is told (§14).
    let (status, body) = feed(&server, &token, "?after=9999999999999999999").await;
    assert_eq!((status, body["errors"][0]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("after")), "{body}");
}

#[tokio::test]
async fn a_waiting_reader_wakes_when_an_event_is_committed() {
    let server = TestServer::start().await;
    let token = server.reseller();
    let (_, page) = feed(&server, &token, "").await;
    let next = page["next"].as_str().unwrap().to_owned();
    let started = Instant::now();
    let waiting = {
        let (url, token) = (server.url(&format!("/api/v1.0/events?after={next}&wait=20")), token.clone());
        tokio::spawn(async move { reqwest::Client::new().get(url).bearer_auth(token).send().await.unwrap() })
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    server.customer(&token).await;
    let answer: Value = waiting.await.unwrap().json().await.unwrap();
    assert_eq!(types(&answer), ["customer.created"]);
    assert!(started.elapsed() < Duration::from_secs(5), "woke after {:?}", started.elapsed());
    // Nothing more: the wait lasts as long as asked, and answers an empty page.
    let started = Instant::now();
    let (_, empty) = feed(&server, &token, &format!("?after={}&wait=1", answer["next"].as_str().unwrap())).await;
    assert!(empty["data"].as_array().unwrap().is_empty());
    assert!(started.elapsed() >= Duration::from_millis(900), "{:?}", started.elapsed());
}

#[tokio::test]
async fn credentials_need_the_collector_scope_and_every_read_is_recorded() {
    let server = TestServer::start().await;
    let token = server.reseller();
    let customer = server.customer(&token).await;
    let (_, _, k) = read(server.create_pbx(&token, &customer, &kazoo("cred-1")).await).await;
    let (_, _, t) = read(server.create_pbx(&token, &customer, &three_cx("cred-licence-1")).await).await;
    let kazoo_path = format!("/api/v1.0/customers/{customer}/pbxs/{}/credentials", k["data"]["id"].as_str().unwrap());
    let three_cx_path =
        format!("/api/v1.0/customers/{customer}/pbxs/{}/credentials", t["data"]["id"].as_str().unwrap());
    for scope in ["onboarding", "pbxs:read", "events:read", "pbxs:read pbxs:write customers:read customers:write"] {
        let (status, _, body) = read(server.get(&kazoo_path, &server.token(&new_guid(), scope)).await).await;
        assert_error(
            status,
            &body,
            StatusCode::FORBIDDEN,
            "The token does not grant the scope 'collector' this operation needs.",
        );
        let (status, _, _) = read(server.get(&kazoo_path, &token).await).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "not even the owner's onboarding token");
    }
    let collector = server.token(&new_guid(), "collector");
    let (status, _, body) = read(server.get(&kazoo_path, &collector).await).await;
    assert_eq!((status, &body["data"]), (StatusCode::OK, &json!({"apiKey": "ABCDEF"})));
    let (status, _, body) = read(server.get(&three_cx_path, &collector).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["data"]["licenseKey"], "cred-licence-1");
    assert!(body["data"]["password"].is_string() && body["data"]["username"].is_string());
    let missing = format!("/api/v1.0/customers/{customer}/pbxs/{}/credentials", new_guid());
    assert_eq!(server.get(&missing, &collector).await.status(), StatusCode::NOT_FOUND);

    let (_, page) = feed(&server, &collector, "").await;
    let reads: Vec<&Value> =
        page["data"].as_array().unwrap().iter().filter(|e| e["type"] == "pbx.credentials_read").collect();
    assert_eq!(reads.len(), 2, "one event a read");
    assert_eq!(reads[0]["pbxId"], k["data"]["id"]);
    assert!(reads[0]["data"].is_null());
}

#[tokio::test]
async fn a_reader_waiting_on_one_replica_wakes_within_a_second_or_so_of_a_commit_on_another() {
    let server = TestServer::start().await;
    let other = server.replica();
    let token = server.reseller();
    let (_, page) = feed(&other, &token, "").await;
    let next = page["next"].as_str().unwrap().to_owned();
    let waiting = {
        let (url, token) = (other.url(&format!("/api/v1.0/events?after={next}&wait=20")), token.clone());
        tokio::spawn(async move { reqwest::Client::new().get(url).bearer_auth(token).send().await.unwrap() })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let committed = Instant::now();
    server.customer(&token).await;
    let answer: Value = waiting.await.unwrap().json().await.unwrap();
    assert_eq!(types(&answer), ["customer.created"]);
    // The other replica reads again every second: woken within one poll (and a margin for this busy machine).
    assert!(committed.elapsed() < Duration::from_millis(2500), "woke after {:?}", committed.elapsed());
}

#[tokio::test]
async fn changes_through_the_account_prefix_are_the_accounts_and_seen_by_the_tenant_above_it() {
    let server = TestServer::start().await;
    let tenant = new_guid();
    let token = server.token(&tenant, "onboarding");
    let (status, _, account) =
        read(server.post("/api/v1.0/accounts", &token, &json!({"name": "Brand"}), &[]).await).await;
    assert_eq!(status, StatusCode::CREATED);
    let account = account["data"]["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1.0/accounts/{account}/customers");
    assert_eq!(server.post(&path, &token, &json!({"name": "Acme"}), &[]).await.status(), StatusCode::CREATED);

    let (_, above) = feed(&server, &token, "").await;
    assert_eq!(types(&above), ["customer.created"], "the tenant above sees its accounts' events");
    let event = &above["data"][0];
    assert_eq!(event["resellerId"], account.as_str(), "the change is the account's");
    assert_eq!(event["actor"]["tenantId"], tenant.as_str(), "made by the tenant above's token");
    let (_, own) = feed(&server, &server.token(&account, "events:read"), "").await;
    assert_eq!(types(&own), ["customer.created"], "the account sees its own");
    let (_, stranger) = feed(&server, &server.reseller(), "").await;
    assert!(types(&stranger).is_empty());
}

#[tokio::test]
async fn sigterm_answers_every_waiting_long_poll_at_once_with_its_cursor() {
    let mut server = TestServer::start().await;
    let token = server.reseller();
    let (_, page) = feed(&server, &token, "").await;
    let next = page["next"].as_str().unwrap().to_owned();
    let mut polls = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let (url, token) = (server.url(&format!("/api/v1.0/events?after={next}&wait=30")), token.clone());
        polls.spawn(async move { reqwest::Client::new().get(url).bearer_auth(token).send().await.unwrap() });
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let stopping = Instant::now();
    std::process::Command::new("kill").args(["-TERM", &server.pid().to_string()]).status().unwrap();
    while let Some(answer) = polls.join_next().await {
        let answer = answer.unwrap();
        assert_eq!(answer.status(), StatusCode::OK);
        let page: Value = answer.json().await.unwrap();
        assert_eq!((page["data"].as_array().unwrap().len(), page["next"].as_str()), (0, Some(next.as_str())));
    }
    let answered = stopping.elapsed();
    assert!(server.wait().success());
    // Not a timing threshold of the service's speed: 30 s polls answered by the stop, not by their wait.
    assert!(answered < Duration::from_secs(10), "the polls were answered after {answered:?}");
    report(&format!(
        "SIGTERM with 20 long polls waiting: answered in {answered:?}, stopped in {:?}",
        stopping.elapsed()
    ));
}

#[tokio::test]
async fn a_waiting_reader_is_woken_by_its_own_events_and_not_by_another_tenants() {
    let server = TestServer::start().await;
    let (mine, theirs) = (server.reseller(), server.reseller());
    let (_, page) = feed(&server, &mine, "").await;
    let next = page["next"].as_str().unwrap().to_owned();
    let waiting = {
        let (url, token) = (server.url(&format!("/api/v1.0/events?after={next}&wait=20")), mine.clone());
        tokio::spawn(async move { reqwest::Client::new().get(url).bearer_auth(token).send().await.unwrap() })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    for _ in 0..3 {
        server.customer(&theirs).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!waiting.is_finished(), "another tenant's events answered the wait");
    server.customer(&mine).await;
    let answer: Value = waiting.await.unwrap().json().await.unwrap();
    assert_eq!(types(&answer), ["customer.created"]);
    assert!(answer["data"][0]["resellerId"].is_string());
}
