//! `POST /customers` and `GET /customers/{id}`.

use reqwest::StatusCode;
use reqwest::header::LOCATION;
use serde_json::{Value, json};

use crate::helpers::{TestServer, assert_error, assert_timestamp, error_fields, kazoo, new_guid, read};

/// PATCHes the customer `id` with the JSON Patch `patch`.
async fn patch_customer(server: &TestServer, token: &str, id: &str, patch: &Value) -> reqwest::Response {
    let request = server.client.patch(server.url(&format!("/api/v1.0/customers/{id}"))).bearer_auth(token);
    let request = request.header("content-type", "application/json-patch+json").body(patch.to_string());
    request.send().await.unwrap()
}

#[tokio::test]
async fn a_created_customer_can_be_read_back_by_its_reseller_only() {
    let server = TestServer::start().await;
    let tenant = new_guid();
    let token = server.token(&tenant, "onboarding");
    let request = json!({
        "name": "  Acme Corp ",
        "description": "Main office",
        "reference": "ACC-42",
        "countryCode": "gb",
        "timezone": "Europe/London",
        "enabled": "true"
    });
    let (status, headers, created) = read(server.post("/api/v1.0/customers", &token, &request, &[]).await).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["data"]["id"].as_str().unwrap().to_owned();
    assert_eq!(headers[LOCATION], format!("{}/api/v1.0/customers/{id}", server.base));
    let data = &created["data"];
    assert_eq!(data["name"], "Acme Corp");
    assert_eq!(data["countryCode"], "GB");
    assert_eq!(data["timezone"], "Europe/London");
    assert_eq!(data["enabled"], true);
    assert_eq!(data["parentTenantId"], tenant);
    assert_timestamp(&data["dateCreated"]);

    let (status, _, read_back) = read(server.get(&format!("/api/v1.0/customers/{id}"), &token).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(read_back["data"], created["data"]);

    let stranger = server.reseller();
    let (status, _, body) = read(server.get(&format!("/api/v1.0/customers/{id}"), &stranger).await).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "Not Found");
}

#[tokio::test]
async fn a_customer_has_defaults() {
    let server = TestServer::start().await;
    let token = server.reseller();
    let (_, _, body) = read(server.post("/api/v1.0/customers", &token, &json!({"name": "Acme"}), &[]).await).await;
    assert_eq!(body["data"]["countryCode"], "US");
    assert_eq!(body["data"]["timezone"], "UTC");
    assert_eq!(body["data"]["enabled"], false);
}

#[tokio::test]
async fn an_invalid_customer_is_400_listing_every_field() {
    let server = TestServer::start().await;
    let token = server.reseller();
    let request = json!({
        "description": "d".repeat(201),
        "countryCode": "ZZ",
        "timezone": "Mars/Olympus",
        "parentTenantId": new_guid(),
        "colour": "blue"
    });
    let (status, _, body) = read(server.post("/api/v1.0/customers", &token, &request, &[]).await).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "One or more fields are invalid.");
    // Fields the type does not have come last, in alphabetical order.
    assert_eq!(error_fields(&body), ["name", "description", "countryCode", "timezone", "colour", "parentTenantId"]);
}

#[tokio::test]
async fn a_customer_id_that_is_not_a_guid_is_400() {
    let server = TestServer::start().await;
    let token = server.reseller();
    let (status, _, body) = read(server.get("/api/v1.0/customers/acme", &token).await).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "The value 'acme' is not valid.");
}

#[tokio::test]
async fn customers_list_in_pages_and_filter_on_name_and_reference() {
    let server = TestServer::start().await;
    let token = server.reseller();
    for (name, reference) in [("Acme Corp", None), ("Globex", Some("acme-42")), ("Initech", None)] {
        let mut body = json!({ "name": name });
        if let Some(reference) = reference {
            body["reference"] = json!(reference);
        }
        server.post("/api/v1.0/customers", &token, &body, &[]).await;
    }
    server.customer(&server.reseller()).await; // another reseller's
    let names = |body: &serde_json::Value| -> Vec<String> {
        body["data"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap().to_owned()).collect()
    };
    let (status, _, body) = read(server.get("/api/v1.0/customers", &token).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(names(&body), ["Acme Corp", "Globex", "Initech"]);
    assert_eq!(body["page_size"], 3);
    let (_, _, body) = read(server.get("/api/v1.0/customers?filter=ACME", &token).await).await;
    assert_eq!(names(&body), ["Acme Corp", "Globex"]);
    let (_, _, body) = read(server.get("/api/v1.0/customers?pageIndex=1&pageSize=2", &token).await).await;
    assert_eq!((names(&body), body["page_index"].as_u64()), (vec!["Initech".to_owned()], Some(1)));
    let (status, _, body) = read(server.get("/api/v1.0/customers?pageSize=5000", &token).await).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "One or more fields are invalid.");
    assert_eq!(error_fields(&body), ["pageSize"]);
}

#[tokio::test]
async fn a_customer_is_patched_with_json_patch() {
    let server = TestServer::start().await;
    let token = server.reseller();
    let id = server.customer(&token).await;
    let path = format!("/api/v1.0/customers/{id}");
    let patch = |document: serde_json::Value, if_match: Option<&'static str>| {
        let mut request = server
            .client
            .patch(server.url(&path))
            .bearer_auth(&token)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(document.to_string());
        if let Some(value) = if_match {
            request = request.header("if-match", value);
        }
        async move { read(request.send().await.unwrap()).await }
    };
    let (status, headers, body) = patch(
        json!([
            {"op": "replace", "path": "/name", "value": "Acme SA"},
            {"op": "add", "path": "/reference", "value": "R-1"},
            {"op": "replace", "path": "/countryCode", "value": "fr"},
            {"op": "replace", "path": "/enabled", "value": "true"}
        ]),
        Some("\"1\""),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(headers["etag"], "\"2\"");
    let data = &body["data"];
    assert_eq!((data["name"].as_str(), data["reference"].as_str()), (Some("Acme SA"), Some("R-1")));
    assert_eq!((data["countryCode"].as_str(), data["enabled"].as_bool()), (Some("FR"), Some(true)));

    let (status, _, body) = patch(json!([{"op": "remove", "path": "/countryCode"}]), None).await;
    assert_eq!((status, body["data"]["countryCode"].as_str()), (StatusCode::OK, Some("US")), "back to the default");

    let (status, _, body) = patch(
        json!([{"op": "replace", "path": "/timezone", "value": "Mars/Olympus"}, {"op": "replace", "path": "/parentTenantId", "value": new_guid()}]),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(error_fields(&body), ["/parentTenantId"], "an operation that can never apply is reported first");
    let (status, _, body) = patch(json!([{"op": "replace", "path": "/timezone", "value": "Mars/Olympus"}]), None).await;
    assert_eq!((status, error_fields(&body)), (StatusCode::BAD_REQUEST, vec!["timezone".to_owned()]));
    let (status, _, _) = patch(json!([{"op": "replace", "path": "/name", "value": "x"}]), Some("\"1\"")).await;
    assert_eq!(status, StatusCode::PRECONDITION_FAILED);
}

#[tokio::test]
async fn patches_as_the_platforms_clients_send_them_are_accepted() {
    let server = TestServer::start().await;
    let token = server.reseller();
    let id = server.customer(&token).await;
    let send = |document: serde_json::Value| {
        let request = server
            .client
            .patch(server.url(&format!("/api/v1.0/customers/{id}")))
            .bearer_auth(&token)
            .header(reqwest::header::CONTENT_TYPE, "application/json-patch+json")
            .body(document.to_string());
        async move { read(request.send().await.unwrap()).await }
    };
    // One operation object instead of an array, `replace` of a field that is not set, a boolean as a string.
    let (status, _, body) = send(json!({"op": "replace", "path": "/description", "value": "Head office"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["description"], "Head office");
    let (status, _, body) = send(json!([{"op": "replace", "path": "/enabled", "value": "true"}])).await;
    assert_eq!((status, body["data"]["enabled"].as_bool()), (StatusCode::OK, Some(true)), "{body}");
    // Removing an optional field that is not set changes nothing; an unknown field is still refused.
    let (status, _, body) = send(json!([{"op": "remove", "path": "/reference"}])).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _, body) = send(json!([{"op": "replace", "path": "/colour", "value": "red"}])).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["errors"], json!([{"field": "/colour", "message": "is not a field of a customer"}]));
}

#[tokio::test]
async fn a_customer_with_profiles_cannot_be_deleted_until_they_are() {
    let server = TestServer::start().await;
    let token = server.reseller();
    let id = server.customer(&token).await;
    let (_, _, created) = read(server.create_pbx(&token, &id, &crate::helpers::kazoo(&new_guid())).await).await;
    let pbx = created["data"]["id"].as_str().unwrap();
    let delete = |path: String| {
        let request = server.client.delete(server.url(&path)).bearer_auth(&token);
        async move { read(request.send().await.unwrap()).await }
    };
    let (status, _, body) = delete(format!("/api/v1.0/customers/{id}")).await;
    assert_error(
        status,
        &body,
        StatusCode::CONFLICT,
        "The customer still has PBX profiles; delete them before the customer.",
    );
    assert_eq!(delete(format!("/api/v1.0/customers/{id}/pbxs/{pbx}")).await.0, StatusCode::OK);
    let (status, _, body) = delete(format!("/api/v1.0/customers/{id}")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _, body) = read(server.get(&format!("/api/v1.0/customers/{id}"), &token).await).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "Not Found");
}

/// §11: the customer fields the platform's clients send, with their defaults and their leniency.
#[tokio::test]
async fn the_platforms_customer_fields_are_stored_returned_and_patched() {
    let server = TestServer::start().await;
    let token = server.reseller();
    let (status, _, plain) =
        read(server.post("/api/v1.0/customers", &token, &json!({"name": "Plain"}), &[]).await).await;
    assert_eq!(status, StatusCode::CREATED);
    let defaults = json!({"features": {"agent": 0, "device": 0}, "tenantProfileType": "TenantProfileType_analytics",
        "trialDuration": 0, "syncAcdAgentWithPbx": false, "sendNewUserEmail": true, "sendConnectWelcomeEmail": true});
    for (field, value) in defaults.as_object().unwrap() {
        assert_eq!(&plain["data"][field], value, "{field}");
    }

    let body = json!({"name": "Acme", "features": {"agent": 25, "device": 3}, "tenantProfileType": "TenantProfileType_callcenter",
        "trialDuration": "14", "syncAcdAgentWithPbx": "true", "sendNewUserEmail": false, "sendConnectWelcomeEmail": "false"});
    let (status, _, created) = read(server.post("/api/v1.0/customers", &token, &body, &[]).await).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["data"]["id"].as_str().unwrap().to_owned();
    let (_, _, got) = read(server.get(&format!("/api/v1.0/customers/{id}"), &token).await).await;
    let expected = json!({"features": {"agent": 25, "device": 3}, "tenantProfileType": "TenantProfileType_callcenter",
        "trialDuration": 14, "syncAcdAgentWithPbx": true, "sendNewUserEmail": false, "sendConnectWelcomeEmail": false});
    for (field, value) in expected.as_object().unwrap() {
        assert_eq!(&got["data"][field], value, "{field}");
        assert_eq!(&created["data"][field], value, "{field} in the create's answer");
    }

    let patch = json!([{"op": "replace", "path": "/features", "value": {"agent": 0, "device": 9}},
        {"op": "replace", "path": "/sendNewUserEmail", "value": "true"}]);
    let (status, _, patched) = read(patch_customer(&server, &token, &id, &patch).await).await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(patched["data"]["features"], json!({"agent": 0, "device": 9}));
    assert_eq!(
        (patched["data"]["sendNewUserEmail"].clone(), patched["data"]["trialDuration"].clone()),
        (json!(true), json!(14))
    );
}

#[tokio::test]
async fn a_trial_needs_its_own_scope_on_create_and_on_patch() {
    let server = TestServer::start().await;
    let tenant = new_guid();
    let writer = server.token(&tenant, "customers:read customers:write");
    let trial = json!({"name": "Trial", "trialDuration": 30});
    let (status, _, body) = read(server.post("/api/v1.0/customers", &writer, &trial, &[]).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_fields(&body), ["trialDuration"]);
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("customers:trial"), "{body}");
    let granted = server.token(&tenant, "customers:read customers:write customers:trial");
    let (status, _, body) = read(server.post("/api/v1.0/customers", &granted, &trial, &[]).await).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = body["data"]["id"].as_str().unwrap().to_owned();

    let (server, id) = (&server, id.as_str());
    let send = |token: &str, patch: Value| {
        let token = token.to_owned();
        async move { read(patch_customer(server, &token, id, &patch).await).await }
    };
    let (status, _, body) = send(&writer, json!([{"op": "replace", "path": "/name", "value": "Renamed"}])).await;
    assert_eq!(status, StatusCode::OK, "a trial granted before does not block other changes: {body}");
    let (status, _, body) = send(&writer, json!([{"op": "replace", "path": "/trialDuration", "value": "60"}])).await;
    assert_eq!((status, error_fields(&body)), (StatusCode::BAD_REQUEST, vec!["trialDuration".to_owned()]));
    let (status, _, body) = send(&writer, json!([{"op": "replace", "path": "/trialDuration", "value": 0}])).await;
    assert_eq!(
        (status, body["data"]["trialDuration"].clone()),
        (StatusCode::OK, json!(0)),
        "ending a trial needs no scope"
    );
    let (status, _, _) = send(&granted, json!([{"op": "replace", "path": "/trialDuration", "value": "90"}])).await;
    assert_eq!(status, StatusCode::OK);
}

fn platform_example(account: &str) -> Value {
    json!({
        "name": "Clients ~.customer.name.~",
        "countryCode": "US",
        "timezone": "America/New_York",
        "trialDuration": "14",
        "features": {"agent": 10, "device": 0},
        "pbxConnectionProfile": {
            "_type": "KazooPbxConnectionProfile", "name": "Clients ~.pbx.kazoo.name.~ Pbx",
            "hostRest": "https://rest.example.com", "hostWebsocket": "wss://ws.example.com",
            "accountId": account, "apiKey": "ABCDEF", "monitorSubAccounts": "true"
        }
    })
}

async fn customer_count(server: &TestServer, token: &str) -> usize {
    let (_, _, listed) = read(server.get("/api/v1.0/customers?pageSize=1000", token).await).await;
    listed["data"].as_array().unwrap().len()
}

/// §11: the platform's create example makes the customer and its first profile together, and replays.
#[tokio::test]
async fn a_customer_comes_with_its_first_profile_in_one_create_and_replays_with_its_key() {
    let server = TestServer::start().await;
    let token = server.reseller();
    let body = platform_example(&new_guid());
    let key = new_guid();
    let headers = [("accept-charges", "true"), ("Idempotency-Key", key.as_str())];
    let (status, _, created) = read(server.post("/api/v1.0/customers", &token, &body, &headers).await).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let customer = created["data"]["id"].as_str().unwrap().to_owned();
    assert_eq!(created["data"]["trialDuration"], 14);
    let profiles = created["data"]["pbxConnectionProfiles"].as_array().unwrap().clone();
    assert_eq!(profiles.len(), 1);
    assert_eq!(profiles[0]["_type"], "KazooPbxConnectionProfile");
    assert_eq!(
        (profiles[0]["tenantId"].as_str(), profiles[0]["countryCode"].as_str()),
        (Some(customer.as_str()), Some("US"))
    );
    assert!(!created.to_string().contains("ABCDEF"), "no secret in the answer");
    let pbx = profiles[0]["id"].as_str().unwrap();
    let (status, _, profile) =
        read(server.get(&format!("/api/v1.0/customers/{customer}/pbxs/{pbx}"), &token).await).await;
    assert_eq!((status, profile["data"]["monitorSubAccounts"].clone()), (StatusCode::OK, json!(true)));
    let (_, _, got) = read(server.get(&format!("/api/v1.0/customers/{customer}"), &token).await).await;
    assert_eq!(got["data"]["pbxConnectionProfiles"], json!(profiles), "a get shows the summaries too");

    let (status, replay_headers, replayed) =
        read(server.post("/api/v1.0/customers", &token, &body, &headers).await).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(replay_headers["idempotent-replayed"], "true");
    assert_eq!(replayed["data"], created["data"], "the whole answer again");
    assert_eq!(customer_count(&server, &token).await, 1, "nothing created twice");
}

#[tokio::test]
async fn a_first_profile_without_the_charge_accepted_or_on_a_taken_instance_creates_nothing() {
    let server = TestServer::start().await;
    let token = server.reseller();
    let (status, _, body) =
        read(server.post("/api/v1.0/customers", &token, &platform_example(&new_guid()), &[]).await).await;
    assert_eq!(status, StatusCode::PAYMENT_REQUIRED, "{body}");
    assert_eq!(customer_count(&server, &token).await, 0, "402: no customer either");

    let taken = new_guid();
    let owner = server.reseller();
    let owners_customer = server.customer(&owner).await;
    assert_eq!(server.create_pbx(&owner, &owners_customer, &kazoo(&taken)).await.status(), StatusCode::CREATED);
    for headers in [&[("accept-charges", "true")][..], &[][..]] {
        let (status, _, body) =
            read(server.post("/api/v1.0/customers", &token, &platform_example(&taken), headers).await).await;
        assert_eq!(status, StatusCode::CONFLICT, "{headers:?}: {body}");
    }
    assert_eq!(customer_count(&server, &token).await, 0, "409: no customer either");

    let mut broken = platform_example(&new_guid());
    broken["name"] = json!(" ");
    broken["pbxConnectionProfile"]["hostRest"] = json!("ftp://rest.example.com");
    let (status, _, body) =
        read(server.post("/api/v1.0/customers", &token, &broken, &[("accept-charges", "true")]).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_fields(&body), ["name", "pbxConnectionProfile.hostRest"], "together, with the customer's own");
}

#[tokio::test]
async fn a_customers_first_profile_is_not_patchable() {
    let server = TestServer::start().await;
    let token = server.reseller();
    let customer = server.customer(&token).await;
    let patch = json!([{"op": "add", "path": "/pbxConnectionProfile", "value": kazoo(&new_guid())}]);
    let (status, _, body) = read(patch_customer(&server, &token, &customer, &patch).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}

/// Twenty concurrent renames of one customer without `If-Match`: each applies to the customer as it is when written
/// (a lost race is applied again, never 412 for a version the client did not name), so all twenty are 200 and the
/// customer has changed twenty times.
#[tokio::test]
async fn concurrent_patches_without_if_match_all_apply() {
    let server = TestServer::start().await;
    let token = server.reseller();
    let id = server.customer(&token).await;
    let patches = (0..20).map(|n| {
        let document = json!([{"op": "replace", "path": "/name", "value": format!("Acme {n}")}]);
        let (server, token, id) = (&server, &token, &id);
        async move { read(patch_customer(server, token, id, &document).await).await }
    });
    for (status, _, body) in futures_util::future::join_all(patches).await {
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let answer = server.client.get(server.url(&format!("/api/v1.0/customers/{id}"))).bearer_auth(&token);
    let (status, headers, _) = read(answer.send().await.unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["etag"], "\"21\"", "twenty changes, each written once");
}
