//! The enterprise tier's accounts (§10): a tenant creates reseller tenants and manages them; nobody else sees them.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestServer, assert_error, kazoo, new_guid, read, three_cx};

async fn patch(server: &TestServer, path: &str, token: &str, body: &Value, if_match: &str) -> reqwest::Response {
    let request = server
        .client
        .patch(server.url(path))
        .bearer_auth(token)
        .header("content-type", "application/json-patch+json")
        .header("if-match", if_match);
    request.body(body.to_string()).send().await.unwrap()
}

/// The answer to deleting an account that still has customers or accounts.
fn assert_not_empty((status, body): (StatusCode, Value)) {
    let message = "The account still has customers or accounts of its own; delete them before the account.";
    assert_error(status, &body, StatusCode::CONFLICT, message);
}

async fn delete(server: &TestServer, path: &str, token: &str) -> (StatusCode, Value) {
    let response = server.client.delete(server.url(path)).bearer_auth(token).send().await.unwrap();
    let (status, _, body) = read(response).await;
    (status, body)
}

#[tokio::test]
async fn a_tenant_creates_reads_changes_and_deletes_its_accounts() {
    let server = TestServer::start().await;
    let tenant = new_guid();
    let token = server.token(&tenant, "onboarding");
    let response = server
        .post(
            "/api/v1.0/accounts",
            &token,
            &json!({"name": "Brand North", "countryCode": "ca", "timezone": "America/Toronto"}),
            &[],
        )
        .await;
    let (status, headers, body) = read(response).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let account = body["data"].clone();
    let id = account["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1.0/accounts/{id}");
    assert!(headers["location"].to_str().unwrap().ends_with(&path));
    assert_eq!(headers["etag"], "\"1\"");
    assert_eq!(account["parentTenantId"], tenant.to_lowercase());
    assert_eq!((account["countryCode"].as_str(), account["timezone"].as_str()), (Some("CA"), Some("America/Toronto")));
    assert_eq!((account["enabled"].clone(), account["dateDeleted"].clone()), (json!(false), Value::Null));

    let (status, _, listed) = read(server.get("/api/v1.0/accounts?filter=NORTH", &token).await).await;
    assert_eq!((status, listed["data"].as_array().unwrap().len()), (StatusCode::OK, 1));
    assert_eq!(listed["data"][0], account);
    let (status, _, got) = read(server.get(&path, &token).await).await;
    assert_eq!((status, &got["data"]), (StatusCode::OK, &account));

    let enable = json!([{"op": "replace", "path": "/enabled", "value": "true"}]);
    let (status, headers, patched) = read(patch(&server, &path, &token, &enable, "\"1\"").await).await;
    assert_eq!((status, patched["data"]["enabled"].clone()), (StatusCode::OK, json!(true)), "{patched}");
    assert_eq!(headers["etag"], "\"2\"");
    assert_eq!(patch(&server, &path, &token, &enable, "\"1\"").await.status(), StatusCode::PRECONDITION_FAILED);
    let read_only = json!([{"op": "replace", "path": "/parentTenantId", "value": new_guid()}]);
    assert_eq!(patch(&server, &path, &token, &read_only, "\"2\"").await.status(), StatusCode::BAD_REQUEST);

    // A customer of the account (made with the account's own token) keeps it from being deleted.
    let customer = server.customer(&server.token(&id, "onboarding")).await;
    assert_not_empty(delete(&server, &path, &token).await);
    let (status, _) =
        delete(&server, &format!("/api/v1.0/customers/{customer}"), &server.token(&id, "onboarding")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(delete(&server, &path, &token).await.0, StatusCode::OK);
    assert_eq!(server.get(&path, &token).await.status(), StatusCode::NOT_FOUND, "gone, like a missing one");
}

#[tokio::test]
async fn another_tenant_or_the_account_itself_cannot_see_or_touch_an_account() {
    let server = TestServer::start().await;
    let owner = server.token(&new_guid(), "onboarding");
    let (_, _, body) = read(server.post("/api/v1.0/accounts", &owner, &json!({"name": "Brand"}), &[]).await).await;
    let id = body["data"]["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1.0/accounts/{id}");
    let missing = format!("/api/v1.0/accounts/{}", new_guid());
    let (_, _, not_found) = read(server.get(&missing, &owner).await).await;
    for other in [server.token(&new_guid(), "onboarding"), server.token(&id, "onboarding")] {
        let (status, _, body) = read(server.get(&path, &other).await).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(body["message"], not_found["message"], "the same answer as a missing account");
        let (_, _, listed) = read(server.get("/api/v1.0/accounts", &other).await).await;
        assert_eq!(listed["data"], json!([]));
        let rename = json!([{"op": "replace", "path": "/name", "value": "Mine"}]);
        assert_eq!(patch(&server, &path, &other, &rename, "*").await.status(), StatusCode::NOT_FOUND);
        assert_eq!(delete(&server, &path, &other).await.0, StatusCode::NOT_FOUND);
    }
    assert_eq!(server.get(&path, &owner).await.status(), StatusCode::OK, "still there");
}

#[tokio::test]
async fn accounts_need_their_scopes() {
    let server = TestServer::start().await;
    let tenant = new_guid();
    let reader = server.token(&tenant, "accounts:read");
    let writer = server.token(&tenant, "accounts:write");
    let customers = server.token(&tenant, "customers:read customers:write pbxs:read pbxs:write");
    let server = &server;
    let create = |token: String| async move {
        server.post("/api/v1.0/accounts", &token, &json!({"name": "Brand"}), &[]).await.status()
    };
    assert_eq!(create(writer.clone()).await, StatusCode::CREATED);
    assert_eq!(create(reader.clone()).await, StatusCode::FORBIDDEN);
    assert_eq!(create(customers.clone()).await, StatusCode::FORBIDDEN);
    assert_eq!(server.get("/api/v1.0/accounts", &reader).await.status(), StatusCode::OK);
    assert_eq!(server.get("/api/v1.0/accounts", &writer).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(server.get("/api/v1.0/accounts", &customers).await.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn an_account_body_is_checked_like_a_customers() {
    let server = TestServer::start().await;
    let token = server.reseller();
    let body = json!({"name": " ", "countryCode": "ZZ", "dateDeleted": null, "colour": "red"});
    let (status, _, answer) = read(server.post("/api/v1.0/accounts", &token, &body, &[]).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let fields: Vec<&str> = answer["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["name", "countryCode", "colour", "dateDeleted"]);
}

/// Creates an account under the tenant of `token` and returns its id.
async fn account(server: &TestServer, token: &str, body: Value) -> String {
    let (status, _, created) = read(server.post("/api/v1.0/accounts", token, &body, &[]).await).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    created["data"]["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_tenant_runs_customers_and_profiles_of_each_account_through_the_prefix() {
    let server = TestServer::start().await;
    let tenant = new_guid();
    let token = server.token(&tenant, "onboarding");
    let north =
        account(&server, &token, json!({"name": "North", "countryCode": "CA", "timezone": "America/Toronto"})).await;
    let south =
        account(&server, &token, json!({"name": "South", "countryCode": "BR", "timezone": "America/Sao_Paulo"})).await;
    for (account, country, timezone) in [(&north, "CA", "America/Toronto"), (&south, "BR", "America/Sao_Paulo")] {
        let prefix = format!("/api/v1.0/accounts/{account}");
        let response = server.post(&format!("{prefix}/customers"), &token, &json!({"name": "Acme"}), &[]).await;
        let (status, headers, body) = read(response).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let customer = body["data"]["id"].as_str().unwrap().to_owned();
        assert!(headers["location"].to_str().unwrap().ends_with(&format!("{prefix}/customers/{customer}")));
        assert_eq!(body["data"]["parentTenantId"], account.as_str(), "the account's customer");
        assert_eq!(
            (body["data"]["countryCode"].as_str(), body["data"]["timezone"].as_str()),
            (Some(country), Some(timezone)),
            "inherited"
        );
        let teams = json!({"_type": "TeamsPbxConnectionProfile", "name": "Teams", "microsoftTenantId": new_guid()});
        for profile in [kazoo(&new_guid()), three_cx(&new_guid()), teams] {
            let pbxs = format!("{prefix}/customers/{customer}/pbxs");
            let response = server.post(&pbxs, &token, &profile, &[("accept-charges", "true")]).await;
            let (status, headers, body) = read(response).await;
            assert_eq!(status, StatusCode::CREATED, "{body}");
            let id = body["data"]["id"].as_str().unwrap();
            assert!(headers["location"].to_str().unwrap().ends_with(&format!("{pbxs}/{id}")));
            assert_eq!(body["data"]["countryCode"], country, "a profile takes its customer's country");
            assert_eq!(server.get(&format!("{pbxs}/{id}"), &token).await.status(), StatusCode::OK);
        }
        // The account's own token sees the same customer on the short routes, and through its own prefix.
        let own = server.token(account, "onboarding");
        assert_eq!(server.get(&format!("/api/v1.0/customers/{customer}/pbxs"), &own).await.status(), StatusCode::OK);
        assert_eq!(server.get(&format!("{prefix}/customers/{customer}"), &own).await.status(), StatusCode::OK);
        // The parent's own short routes hold its own customers, not the account's.
        assert_eq!(
            server.get(&format!("/api/v1.0/customers/{customer}"), &token).await.status(),
            StatusCode::NOT_FOUND
        );
        // The account's customer lists its three profiles through the prefix.
        let (_, _, listed) = read(server.get(&format!("{prefix}/customers/{customer}/pbxs"), &token).await).await;
        assert_eq!(listed["data"].as_array().unwrap().len(), 3);
    }
    // A sibling account, another tenant and a tenant of a missing account all get the missing account's answer.
    let (_, _, missing) = read(server.get(&format!("/api/v1.0/accounts/{}/customers", new_guid()), &token).await).await;
    assert_eq!(missing["error"], 404);
    for (caller, account) in
        [(server.token(&south, "onboarding"), &north), (server.token(&new_guid(), "onboarding"), &north)]
    {
        let (status, _, body) =
            read(server.get(&format!("/api/v1.0/accounts/{account}/customers"), &caller).await).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(body["message"], missing["message"]);
        let created =
            server.post(&format!("/api/v1.0/accounts/{account}/customers"), &caller, &json!({"name": "X"}), &[]).await;
        assert_eq!(created.status(), StatusCode::NOT_FOUND);
    }
    let (_, _, parents) = read(server.get("/api/v1.0/customers", &token).await).await;
    assert_eq!(parents["data"], json!([]), "the parent's own customers are its own");
}

#[tokio::test]
async fn the_instance_lookup_shows_ids_to_the_tenant_above_the_owner() {
    let server = TestServer::start().await;
    let token = server.token(&new_guid(), "onboarding");
    let brand = account(&server, &token, json!({"name": "Brand"})).await;
    let prefix = format!("/api/v1.0/accounts/{brand}");
    let (_, _, customer) =
        read(server.post(&format!("{prefix}/customers"), &token, &json!({"name": "Acme"}), &[]).await).await;
    let customer = customer["data"]["id"].as_str().unwrap().to_owned();
    let instance = new_guid();
    let pbxs = format!("{prefix}/customers/{customer}/pbxs");
    let response = server.post(&pbxs, &token, &kazoo(&instance), &[("accept-charges", "true")]).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let lookup = format!("/api/v1.0/pbxs?instanceId={instance}");
    for caller in [&token, &server.token(&brand, "onboarding")] {
        let (status, _, found) = read(server.get(&lookup, caller).await).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(found["data"]["tenantId"], customer.as_str(), "{found}");
    }
    let (_, _, stranger) = read(server.get(&lookup, &server.token(&new_guid(), "onboarding")).await).await;
    assert!(stranger["data"]["tenantId"].is_null() && stranger["data"]["id"].is_null(), "{stranger}");
}

#[tokio::test]
async fn account_metrics_count_customers_and_profiles_and_page_the_customers() {
    let server = TestServer::start().await;
    let token = server.token(&new_guid(), "onboarding");
    let brand = account(&server, &token, json!({"name": "Brand"})).await;
    let prefix = format!("/api/v1.0/accounts/{brand}");
    let mut customers = Vec::new();
    for (name, enabled) in [("First", true), ("Second", false), ("Third", true)] {
        let body = json!({"name": name, "enabled": enabled});
        let (_, _, created) = read(server.post(&format!("{prefix}/customers"), &token, &body, &[]).await).await;
        customers.push(created["data"]["id"].as_str().unwrap().to_owned());
    }
    let teams = json!({"_type": "TeamsPbxConnectionProfile", "name": "Teams", "microsoftTenantId": new_guid()});
    let mut monitored = kazoo(&new_guid());
    monitored["monitorSubAccounts"] = json!(true);
    for (customer, profile) in
        [(&customers[0], monitored), (&customers[0], three_cx(&new_guid())), (&customers[2], teams)]
    {
        let pbxs = format!("{prefix}/customers/{customer}/pbxs");
        let response = server.post(&pbxs, &token, &profile, &[("accept-charges", "true")]).await;
        assert_eq!(response.status(), StatusCode::CREATED);
    }
    let (_, _, other) =
        read(server.post(&format!("{prefix}/customers"), &server.reseller(), &json!({"name": "X"}), &[]).await).await;
    assert_eq!(other["error"], 404, "someone else cannot add to the account");

    let (status, _, body) =
        read(server.get(&format!("/api/v1.0/accounts/{brand}/metrics?pageSize=2"), &token).await).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let data = &body["data"];
    assert_eq!(data["accountId"], brand.as_str());
    assert_eq!((data["customers"].clone(), data["enabledCustomers"].clone()), (json!(3), json!(2)));
    assert_eq!(data["pbxs"], json!({"total": 3, "enabled": 0, "byType": {"3CX": 1, "Kazoo": 1, "Teams": 1}}));
    let items = data["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "a page of two");
    assert_eq!(items[0]["customerId"], customers[0].as_str());
    assert_eq!(items[0]["pbxs"][0]["pbxType"], "Kazoo");
    assert_eq!(items[0]["pbxs"][0]["monitorSubAccounts"], true);
    assert_eq!(items[0]["pbxs"][1]["pbxType"], "3CX");
    assert!(items[0]["pbxs"][1]["monitorSubAccounts"].is_null());
    assert!(!body.to_string().contains("ABCDEF") && !body.to_string().contains("mot de passe"), "no secret");
    assert_eq!(items[1]["pbxs"], json!([]));
    let (_, _, second) =
        read(server.get(&format!("/api/v1.0/accounts/{brand}/metrics?pageSize=2&pageIndex=1"), &token).await).await;
    assert_eq!(second["data"]["items"][0]["pbxs"][0]["pbxType"], "Teams");

    let own = server.token(&brand, "accounts:read");
    assert_eq!(server.get(&format!("/api/v1.0/accounts/{brand}/metrics"), &own).await.status(), StatusCode::OK);
    let stranger = server.token(&new_guid(), "onboarding");
    assert_eq!(
        server.get(&format!("/api/v1.0/accounts/{brand}/metrics"), &stranger).await.status(),
        StatusCode::NOT_FOUND
    );
    let no_scope = server.token(&brand, "customers:read");
    assert_eq!(
        server.get(&format!("/api/v1.0/accounts/{brand}/metrics"), &no_scope).await.status(),
        StatusCode::FORBIDDEN
    );
}

/// §11 through the account prefix: the customer's own fields and its first profile, as on the short routes.
#[tokio::test]
async fn a_customer_with_its_options_and_first_profile_is_created_under_an_account() {
    let server = TestServer::start().await;
    let token = server.token(&new_guid(), "onboarding");
    let brand =
        account(&server, &token, json!({"name": "Brand", "countryCode": "DE", "timezone": "Europe/Berlin"})).await;
    let prefix = format!("/api/v1.0/accounts/{brand}");
    let body = json!({"name": "Acme", "trialDuration": "7", "syncAcdAgentWithPbx": "true",
        "pbxConnectionProfile": three_cx(&new_guid())});
    let response = server.post(&format!("{prefix}/customers"), &token, &body, &[("accept-charges", "true")]).await;
    let (status, headers, created) = read(response).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let customer = created["data"]["id"].as_str().unwrap().to_owned();
    assert!(headers["location"].to_str().unwrap().ends_with(&format!("{prefix}/customers/{customer}")));
    assert_eq!(
        (created["data"]["trialDuration"].clone(), created["data"]["syncAcdAgentWithPbx"].clone()),
        (json!(7), json!(true))
    );
    let summaries = created["data"]["pbxConnectionProfiles"].as_array().unwrap();
    assert_eq!(
        (summaries.len(), summaries[0]["countryCode"].as_str()),
        (1, Some("DE")),
        "the account's country, through the customer"
    );
    let (_, _, got) = read(server.get(&format!("{prefix}/customers/{customer}"), &token).await).await;
    assert_eq!(got["data"]["pbxConnectionProfiles"], created["data"]["pbxConnectionProfiles"]);
}

#[tokio::test]
async fn an_account_with_accounts_of_its_own_is_not_deleted_and_a_deleted_one_owns_nothing_new() {
    let server = TestServer::start().await;
    let token = server.token(&new_guid(), "onboarding");
    let brand = account(&server, &token, json!({"name": "Brand"})).await;
    let brand_token = server.token(&brand, "onboarding");
    let sub = account(&server, &brand_token, json!({"name": "Sub-brand"})).await;
    let path = format!("/api/v1.0/accounts/{brand}");

    assert_not_empty(delete(&server, &path, &token).await);
    assert_eq!(delete(&server, &format!("/api/v1.0/accounts/{sub}"), &brand_token).await.0, StatusCode::OK);
    assert_eq!(delete(&server, &path, &token).await.0, StatusCode::OK);

    // The deleted account's own token creates nothing under it any more.
    let customer = server.post("/api/v1.0/customers", &brand_token, &json!({"name": "Acme"}), &[]).await;
    assert_eq!(customer.status(), StatusCode::NOT_FOUND, "a customer of a deleted account");
    let nested = server.post("/api/v1.0/accounts", &brand_token, &json!({"name": "Late"}), &[]).await;
    assert_eq!(nested.status(), StatusCode::NOT_FOUND, "an account under a deleted account");
    let with_profile = json!({"name": "Acme", "pbxConnectionProfile": kazoo(&new_guid())});
    let response = server.post("/api/v1.0/customers", &brand_token, &with_profile, &[("accept-charges", "true")]).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND, "a customer and its profile under a deleted account");
}

/// Eight creates under an account (half with a first profile) and the account's delete, sent together, many
/// times: either the delete is refused (409) and every create stands, or the delete went first and every create
/// is refused (404) — never an account deleted with customers left under it.
#[tokio::test]
async fn deleting_an_account_while_customers_are_created_under_it_never_orphans_one() {
    let server = TestServer::start().await;
    let token = server.token(&new_guid(), "onboarding");
    let (mut deleted, mut refused) = (0, 0);
    for trial in 0..20 {
        let brand = account(&server, &token, json!({"name": "Brand"})).await;
        let prefix = format!("/api/v1.0/accounts/{brand}");
        let creates = (0..8).map(|i| {
            let (server, token, prefix) = (&server, &token, &prefix);
            async move {
                let body = if i % 2 == 0 {
                    json!({"name": format!("Acme {i}"), "pbxConnectionProfile": kazoo(&new_guid())})
                } else {
                    json!({"name": format!("Acme {i}")})
                };
                let response =
                    server.post(&format!("{prefix}/customers"), token, &body, &[("accept-charges", "true")]).await;
                response.status()
            }
        });
        let (statuses, (deletion, _)) =
            tokio::join!(futures_util::future::join_all(creates), delete(&server, &prefix, &token));
        let created = statuses.iter().filter(|s| **s == StatusCode::CREATED).count();
        match deletion {
            StatusCode::OK => {
                deleted += 1;
                assert!(
                    statuses.iter().all(|s| *s == StatusCode::NOT_FOUND),
                    "trial {trial}: the account was deleted and the creates answered {statuses:?}"
                );
            }
            StatusCode::CONFLICT => {
                refused += 1;
                assert_eq!(created, 8, "trial {trial}: the account stays and the creates answered {statuses:?}");
                let (_, _, listed) = read(server.get(&format!("{prefix}/customers?pageSize=100"), &token).await).await;
                assert_eq!(listed["data"].as_array().map(Vec::len), Some(created), "trial {trial}: every 201 is there");
            }
            other => panic!("trial {trial}: the delete answered {other}"),
        }
    }
    crate::helpers::report(&format!("account delete against 8 creates: {deleted} deleted first, {refused} refused"));
}

/// The metrics name customers and profile instance ids (a 3CX licence key among them): `accounts:read` alone, which
/// the plain routes would not let read them, gets the counts.
#[tokio::test]
async fn account_metrics_show_customers_and_profiles_only_to_a_token_that_may_read_them() {
    let server = TestServer::start().await;
    let tenant = new_guid();
    let token = server.token(&tenant, "onboarding");
    let brand = account(&server, &token, json!({"name": "Brand"})).await;
    let prefix = format!("/api/v1.0/accounts/{brand}");
    let body = json!({"name": "Acme", "pbxConnectionProfile": three_cx("LICENCE-KEY-1")});
    let response = server.post(&format!("{prefix}/customers"), &token, &body, &[("accept-charges", "true")]).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    for (scopes, shown) in [
        ("accounts:read", false),
        ("accounts:read customers:read", false),
        ("accounts:read pbxs:read", false),
        ("accounts:read customers:read pbxs:read", true),
        ("onboarding", true),
    ] {
        let (status, _, metrics) =
            read(server.get(&format!("{prefix}/metrics"), &server.token(&tenant, scopes)).await).await;
        assert_eq!(status, StatusCode::OK, "{scopes}");
        assert_eq!(
            (metrics["data"]["customers"].as_u64(), metrics["data"]["pbxs"]["total"].as_u64()),
            (Some(1), Some(1))
        );
        assert_eq!(metrics["data"].get("items").is_some(), shown, "{scopes}: {metrics}");
        assert_eq!(metrics.to_string().contains("LICENCE-KEY-1"), shown, "{scopes}");
    }
}
