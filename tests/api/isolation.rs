//! Tenant isolation (OWASP API1, broken object-level authorisation): every route, for the caller's own customer,
//! another reseller's customer and a customer that does not exist; and profile ids under the wrong customer.
//! The last two of each always give the same 404 body. The same through the account prefix, for the account, its
//! parent, a sibling account, another tenant and a missing account.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestServer, kazoo, new_guid, read};

struct Route {
    method: Method,
    template: &'static str,
    body: Option<Value>,
    /// What the owner gets.
    own: StatusCode,
}

fn routes() -> Vec<Route> {
    let rename = json!([{"op": "replace", "path": "/name", "value": "Renamed"}]);
    let route = |method, template, body, own| Route { method, template, body, own };
    // Deletes come last: the owner's own calls must not remove what the later cases use.
    vec![
        route(Method::GET, "/api/v1.0/customers/{c}", None, StatusCode::OK),
        route(Method::PATCH, "/api/v1.0/customers/{c}", Some(rename.clone()), StatusCode::OK),
        route(Method::GET, "/api/v1.0/customers/{c}/pbxs", None, StatusCode::OK),
        route(Method::POST, "/api/v1.0/customers/{c}/pbxs", Some(kazoo("{new}")), StatusCode::CREATED),
        route(Method::GET, "/api/v1.0/customers/{c}/pbxs/{p}", None, StatusCode::OK),
        route(Method::PATCH, "/api/v1.0/customers/{c}/pbxs/{p}", Some(rename), StatusCode::OK),
        route(Method::DELETE, "/api/v1.0/customers/{c}/pbxs/{p}", None, StatusCode::OK),
        route(Method::DELETE, "/api/v1.0/customers/{c}", None, StatusCode::CONFLICT),
    ]
}

async fn call(server: &TestServer, token: &str, route: &Route, customer: &str, pbx: &str) -> (StatusCode, Value) {
    call_under(server, token, None, route, customer, pbx).await
}

/// `route` through the prefix of `account` (`/api/v1.0/accounts/{account}/customers…`), or as is.
async fn call_under(
    server: &TestServer,
    token: &str,
    account: Option<&str>,
    route: &Route,
    customer: &str,
    pbx: &str,
) -> (StatusCode, Value) {
    let template = match account {
        Some(account) => route.template.replacen("/api/v1.0", &format!("/api/v1.0/accounts/{account}"), 1),
        None => route.template.to_owned(),
    };
    let path = template.replace("{c}", customer).replace("{p}", pbx);
    let mut request = server
        .client
        .request(route.method.clone(), server.url(&path))
        .bearer_auth(token)
        .header("accept-charges", "true");
    if let Some(body) = &route.body {
        let body = body.to_string().replace("{new}", &new_guid());
        request = request.header("content-type", "application/json").body(body);
    }
    let (status, _, mut answer) = read(request.send().await.unwrap()).await;
    answer["timestamp"] = Value::Null;
    (status, answer)
}

async fn profile(server: &TestServer, token: &str, customer: &str) -> String {
    let (_, _, body) = read(server.create_pbx(token, customer, &kazoo(&new_guid())).await).await;
    body["data"]["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn every_route_answers_a_foreign_customer_exactly_like_a_missing_one() {
    let server = TestServer::start().await;
    let (mine, theirs) = (server.reseller(), server.reseller());
    let own = server.customer(&mine).await;
    let own_pbx = profile(&server, &mine, &own).await;
    let foreign = server.customer(&theirs).await;
    let foreign_pbx = profile(&server, &theirs, &foreign).await;
    let missing = new_guid();

    for route in routes() {
        let (status, answer) = call(&server, &mine, &route, &foreign, &foreign_pbx).await;
        let (missing_status, missing_answer) = call(&server, &mine, &route, &missing, &foreign_pbx).await;
        let label = format!("{} {}", route.method, route.template);
        assert_eq!(status, StatusCode::NOT_FOUND, "{label} on another reseller's customer: {answer}");
        assert_eq!(missing_status, StatusCode::NOT_FOUND, "{label} on a missing customer");
        assert_eq!(answer, missing_answer, "{label}: the two 404s differ");
        let (status, answer) = call(&server, &mine, &route, &own, &own_pbx).await;
        assert_eq!(status, route.own, "{label} on the caller's own customer: {answer}");
    }

    // The other reseller's data is untouched.
    let (status, _, body) =
        read(server.get(&format!("/api/v1.0/customers/{foreign}/pbxs/{foreign_pbx}"), &theirs).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["data"]["name"], "Clients ~.pbx.kazoo.name.~ Pbx");
}

#[tokio::test]
async fn a_profile_id_under_the_wrong_customer_is_answered_like_a_missing_profile() {
    let server = TestServer::start().await;
    let (mine, theirs) = (server.reseller(), server.reseller());
    let (first, second) = (server.customer(&mine).await, server.customer(&mine).await);
    let first_pbx = profile(&server, &mine, &first).await;
    let foreign = server.customer(&theirs).await;
    let foreign_pbx = profile(&server, &theirs, &foreign).await;

    for route in routes().into_iter().filter(|r| r.template.ends_with("{p}")) {
        let label = format!("{} {}", route.method, route.template);
        let cases = [
            (&second, &first_pbx, "my profile under my other customer"),
            (&second, &foreign_pbx, "another reseller's profile under my customer"),
            (&second, &new_guid(), "a profile that does not exist"),
        ];
        let mut answers = Vec::new();
        for (customer, pbx, case) in cases {
            let (status, answer) = call(&server, &mine, &route, customer, pbx).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{label}, {case}: {answer}");
            answers.push(answer);
        }
        assert!(answers.windows(2).all(|w| w[0] == w[1]), "{label}: the 404s differ");
    }
    assert_eq!(
        server.get(&format!("/api/v1.0/customers/{first}/pbxs/{first_pbx}"), &mine).await.status(),
        StatusCode::OK
    );
}

async fn account_of(server: &TestServer, token: &str) -> String {
    let (status, _, body) = read(server.post("/api/v1.0/accounts", token, &json!({"name": "Brand"}), &[]).await).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["data"]["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn every_prefixed_route_answers_the_account_and_its_parent_and_nobody_else() {
    let server = TestServer::start().await;
    let parent = server.token(&new_guid(), "onboarding");
    let (account, sibling) = (account_of(&server, &parent).await, account_of(&server, &parent).await);
    let stranger = server.token(&new_guid(), "onboarding");
    let strangers_account = account_of(&server, &stranger).await;
    let as_account = server.token(&account, "onboarding");
    let theirs = server.reseller();
    let foreign = server.customer(&theirs).await;
    let foreign_pbx = profile(&server, &theirs, &foreign).await;
    let missing = new_guid();

    // The account and its parent: their own customer as usual, a foreign or missing one alike.
    for (viewer, who) in [(&as_account, "the account"), (&parent, "its parent")] {
        let own = server.customer(&as_account).await;
        let own_pbx = profile(&server, &as_account, &own).await;
        for route in routes() {
            let label = format!("{who}: {} {}", route.method, route.template);
            let (status, answer) = call_under(&server, viewer, Some(&account), &route, &foreign, &foreign_pbx).await;
            let (missing_status, missing_answer) =
                call_under(&server, viewer, Some(&account), &route, &missing, &foreign_pbx).await;
            assert_eq!((status, missing_status), (StatusCode::NOT_FOUND, StatusCode::NOT_FOUND), "{label}: {answer}");
            assert_eq!(answer, missing_answer, "{label}: the two 404s differ");
            let (status, answer) = call_under(&server, viewer, Some(&account), &route, &own, &own_pbx).await;
            assert_eq!(status, route.own, "{label} on the account's own customer: {answer}");
        }
    }

    // Whoever may not act as the account, and any account that is missing or another tenant's: the same 404
    // everywhere, whichever customer the path names.
    let own = server.customer(&as_account).await;
    let own_pbx = profile(&server, &as_account, &own).await;
    let reference = call_under(&server, &parent, Some(&new_guid()), &routes()[0], &own, &own_pbx).await;
    assert_eq!(reference.0, StatusCode::NOT_FOUND);
    let sibling_token = server.token(&sibling, "onboarding");
    let cases = [
        (&sibling_token, account.as_str(), "a sibling account"),
        (&stranger, account.as_str(), "another tenant"),
        (&parent, strangers_account.as_str(), "another tenant's account"),
        (&parent, missing.as_str(), "a missing account"),
    ];
    for (caller, prefix, case) in cases {
        for route in routes() {
            for (customer, pbx) in [(&own, &own_pbx), (&foreign, &foreign_pbx), (&missing, &own_pbx)] {
                let (status, answer) = call_under(&server, caller, Some(prefix), &route, customer, pbx).await;
                let label = format!("{case}: {} {} on {customer}", route.method, route.template);
                assert_eq!(status, StatusCode::NOT_FOUND, "{label}: {answer}");
                assert_eq!(answer, reference.1, "{label}: not the missing account's answer");
            }
        }
    }
    let path = format!("/api/v1.0/customers/{own}/pbxs/{own_pbx}");
    assert_eq!(server.get(&path, &as_account).await.status(), StatusCode::OK, "untouched");
}
