//! Connection status (CONTRACT §15) through the API, against fakes of Kazoo and Entra on loopback: the automatic
//! check after a create and after a change of a connection field, the check route (joined by concurrent
//! requests, one per 10 s), the dry run, collectors' reports, `pbx.connection_changed` recorded once per change,
//! and nothing secret in any answer or log line.

use std::time::{Duration, Instant};

use pbx_infra::fakes::{self, TOKEN, key};
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use serde_json::{Value, json};

use crate::helpers::{TestServer, new_guid, read, three_cx};

/// A server that checks by itself, and may reach the fakes on loopback over plain http/ws.
async fn checking_server() -> TestServer {
    TestServer::start_with(&[("PBX_PBX_CHECKS", "true"), ("PBX_PBX_HOSTS_ALLOW_PRIVATE", "true")]).await
}

fn kazoo_at(rest: &str, websocket: &str, api_key: &str) -> Value {
    json!({
        "_type": "KazooPbxConnectionProfile", "name": "Checked", "hostRest": rest,
        "hostWebsocket": format!("{websocket}/ok"), "accountId": "acct1", "apiKey": api_key,
    })
}

/// The profile's `connection` once its state is `state`, polling for up to 15 s.
async fn connection_once(server: &TestServer, token: &str, path: &str, state: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (status, _, body) = read(server.get(path, token).await).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        if body["data"]["connection"]["state"] == state || Instant::now() > deadline {
            assert_eq!(body["data"]["connection"]["state"], state, "{body}");
            return body["data"]["connection"].clone();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The `pbx.*` events the reseller of `token` sees.
async fn profile_events(server: &TestServer, token: &str) -> Vec<Value> {
    let (status, _, body) = read(server.get("/api/v1.0/events?limit=1000", token).await).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"].as_str().unwrap().starts_with("pbx."))
        .cloned()
        .collect()
}

/// The `pbx.connection_changed` events the reseller of `token` sees.
async fn connection_events(server: &TestServer, token: &str) -> Vec<Value> {
    profile_events(server, token).await.into_iter().filter(|e| e["type"] == "pbx.connection_changed").collect()
}

/// Each `pbx.*` event's type and the state of the `connection` its data shows.
async fn recorded_states(server: &TestServer, token: &str) -> Vec<(String, String)> {
    let events = profile_events(server, token).await;
    let state = |e: &Value| e["data"]["connection"]["state"].as_str().unwrap_or("(none)").to_owned();
    events.iter().map(|e| (e["type"].as_str().unwrap().to_owned(), state(e))).collect()
}

#[tokio::test]
async fn a_created_profile_is_checked_at_once_its_change_recorded_once_and_its_version_kept() {
    let (crossbar, blackhole) = (fakes::http(fakes::crossbar).await, fakes::blackhole().await);
    let server = checking_server().await;
    let token = server.reseller();
    let customer = server.customer(&token).await;
    let (status, headers, body) =
        read(server.create_pbx(&token, &customer, &kazoo_at(&crossbar.url, &blackhole.url, &key("good"))).await).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["data"]["connection"]["state"], "checking", "a check follows at once");
    let path = headers["location"].to_str().unwrap().trim_start_matches(&server.url("")).to_owned();
    let connection = connection_once(&server, &token, &path, "connected").await;
    let types: Vec<&str> =
        connection["conditions"].as_array().unwrap().iter().map(|c| c["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["Authenticated", "AccountMatches", "EventStream"]);
    assert!(connection["conditions"].as_array().unwrap().iter().all(|c| c["status"] == "true"));
    let (_, headers, _) = read(server.get(&path, &token).await).await;
    assert_eq!(headers["etag"], "\"1\"", "a check never changes the version");

    // A check asked for within 10 s of the last gives its result without another request to the PBX.
    let before = crossbar.requests();
    let (status, _, body) = read(server.post(&format!("{path}/check"), &token, &json!({}), &[]).await).await;
    assert_eq!((status, &body["data"]["connection"]["state"]), (StatusCode::OK, &json!("connected")), "{body}");
    assert_eq!(crossbar.requests(), before);

    let events = connection_events(&server, &token).await;
    assert_eq!(events.len(), 1, "unknown → connected, once: {events:?}");
    assert_eq!(events[0]["data"]["connection"]["state"], "connected");
    assert_eq!(events[0]["changed"], json!(["connection"]));
    assert!(events[0]["data"].get("apiKey").is_none());
    let logs = server.logs();
    assert!(!logs.contains(TOKEN) && !logs.contains(&key("good")), "no token or key in the logs");
}

#[tokio::test]
async fn a_refused_key_fails_and_a_new_key_is_checked_again() {
    let (crossbar, blackhole) = (fakes::http(fakes::crossbar).await, fakes::blackhole().await);
    let server = checking_server().await;
    let token = server.reseller();
    let customer = server.customer(&token).await;
    let body = kazoo_at(&crossbar.url, &blackhole.url, &key("nobody"));
    let (status, headers, _) = read(server.create_pbx(&token, &customer, &body).await).await;
    assert_eq!(status, StatusCode::CREATED);
    let path = headers["location"].to_str().unwrap().trim_start_matches(&server.url("")).to_owned();
    let connection = connection_once(&server, &token, &path, "failed").await;
    assert_eq!(connection["reason"], "InvalidCredentials");
    assert_eq!(connection["message"], "The PBX refused the credentials. (HTTP 404)");

    let patch = json!([{"op": "replace", "path": "/apiKey", "value": key("good")}]);
    let response = server.patch(&path, &token, &patch, &[]).await;
    let (status, _, body) = read(response).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["connection"]["state"], "checking", "the old result is of another key");
    connection_once(&server, &token, &path, "connected").await;
    let states: Vec<Value> =
        connection_events(&server, &token).await.iter().map(|e| e["data"]["connection"]["state"].clone()).collect();
    assert_eq!(states, [json!("failed"), json!("connected")]);

    // A rename changes no connection field: no check, no event.
    let rename = json!([{"op": "replace", "path": "/name", "value": "Renamed"}]);
    let response = server.patch(&path, &token, &rename, &[]).await;
    let (status, _, body) = read(response).await;
    assert_eq!((status, &body["data"]["connection"]["state"]), (StatusCode::OK, &json!("connected")), "{body}");
    // `connection` is read only.
    for op in [
        json!({"op": "replace", "path": "/connection", "value": {}}),
        json!({"op": "add", "path": "/connection/state", "value": "connected"}),
    ] {
        let response = server.patch(&path, &token, &json!([op]), &[]).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{op}");
    }

    // Every profile event shows the connection once its change is written (never `checking`): the created profile
    // not yet checked, the new key's last check forgotten, the rename's kept.
    let expected = [
        ("pbx.created", "unknown"),
        ("pbx.connection_changed", "failed"),
        ("pbx.updated", "unknown"),
        ("pbx.connection_changed", "connected"),
        ("pbx.updated", "connected"),
    ];
    let expected: Vec<(String, String)> = expected.iter().map(|(t, s)| ((*t).to_owned(), (*s).to_owned())).collect();
    assert_eq!(recorded_states(&server, &token).await, expected);
}

#[tokio::test]
async fn concurrent_check_requests_join_one_check() {
    let (crossbar, blackhole) = (fakes::http(fakes::crossbar).await, fakes::blackhole().await);
    // Checks off: only the requests check.
    let server = TestServer::start_with(&[("PBX_PBX_HOSTS_ALLOW_PRIVATE", "true")]).await;
    let token = server.reseller();
    let customer = server.customer(&token).await;
    let body = kazoo_at(&crossbar.url, &blackhole.url, &key("parent"));
    let (status, headers, body) = read(server.create_pbx(&token, &customer, &body).await).await;
    assert_eq!((status, &body["data"]["connection"]["state"]), (StatusCode::CREATED, &json!("unknown")));
    let path = headers["location"].to_str().unwrap().trim_start_matches(&server.url("")).to_owned();
    let requests: Vec<_> = (0..20)
        .map(|_| {
            let (url, token) = (server.url(&format!("{path}/check")), token.clone());
            tokio::spawn(async move {
                let response = reqwest::Client::new()
                    .post(url)
                    .header(AUTHORIZATION, format!("Bearer {token}"))
                    .send()
                    .await
                    .unwrap();
                read(response).await
            })
        })
        .collect();
    for request in requests {
        let (status, _, body) = request.await.unwrap();
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["data"]["connection"]["state"], "connected", "{body}");
    }
    assert_eq!(crossbar.requests(), 2, "one check: api_auth and the account, once");
    assert_eq!(connection_events(&server, &token).await.len(), 1);
}

#[tokio::test]
async fn a_profile_is_checked_before_it_is_saved_and_nothing_is_kept() {
    let (crossbar, blackhole) = (fakes::http(fakes::crossbar).await, fakes::blackhole().await);
    let server = TestServer::start_with(&[("PBX_PBX_HOSTS_ALLOW_PRIVATE", "true")]).await;
    let token = server.reseller();
    let customer = server.customer(&token).await;
    let mut body = kazoo_at(&crossbar.url, &blackhole.url, &key("parent"));
    body["accountId"] = json!("disabled");
    let check = format!("/api/v1.0/customers/{customer}/pbxs/check");
    let (status, _, answer) = read(server.post(&check, &token, &body, &[]).await).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["data"]["connection"]["state"], "failed");
    assert_eq!(answer["data"]["connection"]["reason"], "AccountDisabled");
    let (_, _, teams) = read(server.post(&check, &token, &json!({"_type": "ThreeCxConnectionProfile", "name": "x", "licenseKey": "L-1", "username": "u", "password": "p"}), &[]).await).await;
    assert_eq!(teams["data"]["connection"]["reason"], "NotCheckable", "{teams}");
    let (_, _, listed) = read(server.get(&format!("/api/v1.0/customers/{customer}/pbxs"), &token).await).await;
    assert_eq!(listed["data"], json!([]), "nothing stored");
    assert!(connection_events(&server, &token).await.is_empty());
    let (status, _, invalid) =
        read(server.post(&check, &token, &json!({"_type": "KazooPbxConnectionProfile"}), &[]).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{invalid}");
    let stranger = server.reseller();
    let (status, _, _) = read(server.post(&check, &stranger, &body, &[]).await).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "another reseller's customer");
}

#[tokio::test]
async fn collectors_report_and_decide_for_a_profile_the_service_cannot_check() {
    let server = TestServer::start().await;
    let token = server.reseller();
    let collector = server.token(&new_guid(), "collector");
    let customer = server.customer(&token).await;
    let (status, headers, body) = read(server.create_pbx(&token, &customer, &three_cx("L-collected")).await).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(
        (&body["data"]["connection"]["state"], &body["data"]["connection"]["reason"]),
        (&json!("unknown"), &json!("NotCheckable"))
    );
    let path = headers["location"].to_str().unwrap().trim_start_matches(&server.url("")).to_owned();
    let put = |body: Value, token: String| {
        let url = server.url(&format!("{path}/connection/collector"));
        async move {
            let response = reqwest::Client::new()
                .put(url)
                .header(AUTHORIZATION, format!("Bearer {token}"))
                .header(CONTENT_TYPE, "application/json")
                .body(body.to_string())
                .send()
                .await
                .unwrap();
            read(response).await
        }
    };
    let (status, _, body) =
        put(json!({"state": "connected", "lastEventAt": "2026-12-07T10:00:00Z"}), collector.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["connection"]["state"], "connected");
    assert_eq!(body["data"]["connection"]["collector"]["lastEventAt"], "2026-12-07T10:00:00Z");
    let (_, _, body) = put(json!({"state": "connected"}), collector.clone()).await;
    assert_eq!(body["data"]["connection"]["state"], "connected");
    let (_, _, body) =
        put(json!({"state": "failed", "reason": "WebsocketClosed", "message": "Closed by the PBX"}), collector.clone())
            .await;
    assert_eq!(
        (&body["data"]["connection"]["state"], &body["data"]["connection"]["reason"]),
        (&json!("failed"), &json!("WebsocketClosed"))
    );
    let states: Vec<Value> =
        connection_events(&server, &token).await.iter().map(|e| e["data"]["connection"]["state"].clone()).collect();
    assert_eq!(states, [json!("connected"), json!("failed")], "a report that changes nothing records nothing");
    let (_, _, listed) = read(server.get(&format!("/api/v1.0/customers/{customer}/pbxs"), &token).await).await;
    assert_eq!(listed["data"][0]["connection"]["state"], "failed", "lists show it too");
    let created = &profile_events(&server, &token).await[0];
    assert_eq!(created["type"], "pbx.created");
    assert_eq!(
        (&created["data"]["connection"]["state"], &created["data"]["connection"]["reason"]),
        (&json!("unknown"), &json!("NotCheckable"))
    );

    let (status, _, body) =
        put(json!({"state": "sleeping", "reason": "not camel", "message": "", "lastSeenAt": "x"}), collector.clone())
            .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let mut fields = crate::helpers::error_fields(&body);
    fields.sort();
    assert_eq!(fields, ["lastSeenAt", "message", "reason", "state"]);
    let (status, _, _) = put(json!({"state": "connected"}), token.clone()).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "the collector scope only");
}

#[tokio::test]
async fn a_pbx_that_never_answers_costs_a_check_its_bound_and_nothing_else() {
    let silent = fakes::http(|_, _, _| fakes::Answer::Silent).await;
    let server = TestServer::start_with(&[("PBX_PBX_HOSTS_ALLOW_PRIVATE", "true")]).await;
    let token = server.reseller();
    let customer = server.customer(&token).await;
    let (_, headers, _) =
        read(server.create_pbx(&token, &customer, &kazoo_at(&silent.url, "ws://127.0.0.1:9", &key("good"))).await)
            .await;
    let path = headers["location"].to_str().unwrap().trim_start_matches(&server.url("")).to_owned();
    let check = tokio::spawn({
        let (url, token) = (server.url(&format!("{path}/check")), token.clone());
        async move {
            let started = Instant::now();
            let response =
                reqwest::Client::new().post(url).header(AUTHORIZATION, format!("Bearer {token}")).send().await.unwrap();
            (read(response).await, started.elapsed())
        }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Meanwhile the API answers, and the profile shows the check running.
    let started = Instant::now();
    let (status, _, body) = read(server.get(&path, &token).await).await;
    assert_eq!((status, &body["data"]["connection"]["state"]), (StatusCode::OK, &json!("checking")));
    assert!(started.elapsed() < Duration::from_secs(1));
    let ((status, _, body), took) = check.await.unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["connection"]["reason"], "Timeout");
    assert!(took <= Duration::from_secs(13), "{took:?}");
}

#[tokio::test]
async fn two_replicas_following_the_feed_check_each_new_profile_once() {
    let (crossbar, blackhole) = (fakes::http(fakes::crossbar).await, fakes::blackhole().await);
    let server = checking_server().await;
    let replica = server.replica();
    let token = server.reseller();
    let customer = server.customer(&token).await;
    let mut paths = Vec::new();
    for n in 0..10 {
        // Half through each replica: both followers see every create.
        let target = if n % 2 == 0 { &server } else { &replica };
        let mut body = kazoo_at(&crossbar.url, &blackhole.url, &key("parent"));
        body["name"] = json!(format!("Profile {n}"));
        body["accountId"] = json!(if n == 0 { "acct1".to_owned() } else { format!("missing-{n}") });
        let (status, headers, body) = read(target.create_pbx(&token, &customer, &body).await).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        paths.push(headers["location"].to_str().unwrap().trim_start_matches(&target.url("")).to_owned());
    }
    connection_once(&server, &token, &paths[0], "connected").await;
    for path in &paths[1..] {
        let connection = connection_once(&replica, &token, path, "failed").await;
        assert_eq!(connection["reason"], "AccountNotFound");
    }
    // Each check asks Crossbar twice (the key, then the account): ten checks, not twenty.
    assert_eq!(crossbar.requests(), 20, "each profile checked by one replica");
    assert_eq!(connection_events(&server, &token).await.len(), 10, "one change recorded per profile");
}

#[tokio::test]
async fn enabled_profiles_are_checked_again_periodically_and_disabled_ones_are_not() {
    let (enabled_pbx, disabled_pbx, blackhole) =
        (fakes::http(fakes::crossbar).await, fakes::http(fakes::crossbar).await, fakes::blackhole().await);
    let server = TestServer::start_with(&[
        ("PBX_PBX_CHECKS", "true"),
        ("PBX_PBX_HOSTS_ALLOW_PRIVATE", "true"),
        ("PBX_CHECK_INTERVAL", "1s"),
    ])
    .await;
    let token = server.reseller();
    let customer = server.customer(&token).await;
    let mut paths = Vec::new();
    for fake in [&enabled_pbx, &disabled_pbx] {
        let mut body = kazoo_at(&fake.url, &blackhole.url, &key("parent"));
        body["accountId"] = json!(if paths.is_empty() { "acct1" } else { "disabled" });
        let (status, headers, body) = read(server.create_pbx(&token, &customer, &body).await).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        paths.push(headers["location"].to_str().unwrap().trim_start_matches(&server.url("")).to_owned());
    }
    let enable = json!([{"op": "replace", "path": "/enabled", "value": true}]);
    let response = server.patch(&paths[0], &token, &enable, &[("accept-charges", "true")]).await;
    assert_eq!(response.status(), StatusCode::OK);
    let first = connection_once(&server, &token, &paths[0], "connected").await;
    connection_once(&server, &token, &paths[1], "failed").await;
    let (enabled_before, disabled_before) = (enabled_pbx.requests(), disabled_pbx.requests());
    // Due again after the interval, started once the 10 s between two checks of a profile have passed.
    let deadline = Instant::now() + Duration::from_secs(20);
    while enabled_pbx.requests() == enabled_before && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(enabled_pbx.requests() > enabled_before, "the enabled profile was checked again");
    assert_eq!(disabled_pbx.requests(), disabled_before, "the disabled one was not");
    let again = connection_once(&server, &token, &paths[0], "connected").await;
    assert_ne!(again["checkedAt"], first["checkedAt"]);
    assert_eq!(
        again["conditions"][0]["lastTransitionTime"], first["conditions"][0]["lastTransitionTime"],
        "nothing changed"
    );
    assert_eq!(
        connection_events(&server, &token).await.len(),
        2,
        "one per profile: a check that changes nothing records nothing"
    );
}

#[tokio::test]
async fn an_accounts_profiles_are_checked_through_its_prefix_and_nowhere_else() {
    let (crossbar, blackhole) = (fakes::http(fakes::crossbar).await, fakes::blackhole().await);
    let server = TestServer::start_with(&[("PBX_PBX_HOSTS_ALLOW_PRIVATE", "true")]).await;
    let token = server.token(&new_guid(), "onboarding");
    let (status, _, account) =
        read(server.post("/api/v1.0/accounts", &token, &json!({"name": "Brand"}), &[]).await).await;
    assert_eq!(status, StatusCode::CREATED, "{account}");
    let prefix = format!("/api/v1.0/accounts/{}", account["data"]["id"].as_str().unwrap());
    let (_, _, customer) =
        read(server.post(&format!("{prefix}/customers"), &token, &json!({"name": "Acme"}), &[]).await).await;
    let pbxs = format!("{prefix}/customers/{}/pbxs", customer["data"]["id"].as_str().unwrap());
    let body = kazoo_at(&crossbar.url, &blackhole.url, &key("good"));

    // The dry run and the check of a saved profile, both through the prefix.
    let (status, _, dry) = read(server.post(&format!("{pbxs}/check"), &token, &body, &[]).await).await;
    assert_eq!((status, &dry["data"]["connection"]["state"]), (StatusCode::OK, &json!("connected")), "{dry}");
    let response = server.post(&pbxs, &token, &body, &[("accept-charges", "true")]).await;
    let (status, _, created) = read(response).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let check = format!("{pbxs}/{}/check", created["data"]["id"].as_str().unwrap());
    let (status, _, checked) = read(server.post(&check, &token, &json!({}), &[]).await).await;
    assert_eq!((status, &checked["data"]["connection"]["state"]), (StatusCode::OK, &json!("connected")), "{checked}");

    // The parent's short routes hold its own customers, and another tenant has no such account.
    let short = check.trim_start_matches(&prefix).replacen("/customers", "/api/v1.0/customers", 1);
    let (status, _, _) = read(server.post(&short, &token, &json!({}), &[]).await).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{short}");
    let before = crossbar.requests();
    let stranger = server.token(&new_guid(), "onboarding");
    let (status, _, _) = read(server.post(&check, &stranger, &json!({}), &[]).await).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "the missing account's answer");
    let (status, _, _) = read(server.post(&format!("{pbxs}/check"), &stranger, &body, &[]).await).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "the missing account's answer");
    assert_eq!(crossbar.requests(), before, "no request to the PBX for a refused caller");
}
