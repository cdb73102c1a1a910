//! The life of a profile after its creation (contract §5): list, get, patch, delete, instance lookup.

use reqwest::header::{CONTENT_TYPE, ETAG, IF_MATCH};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestServer, assert_error, assert_timestamp, error_fields, kazoo, new_guid, read, three_cx};

/// A server, a reseller's token, one of its customers and a Kazoo profile of that customer.
struct Fixture {
    server: TestServer,
    token: String,
    customer: String,
    pbx: String,
    account: String,
}

async fn fixture() -> Fixture {
    let server = TestServer::start().await;
    let token = server.reseller();
    let customer = server.customer(&token).await;
    let account = new_guid();
    let (status, _, body) = read(server.create_pbx(&token, &customer, &kazoo(&account)).await).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let pbx = body["data"]["id"].as_str().unwrap().to_owned();
    Fixture { server, token, customer, pbx, account }
}

impl Fixture {
    fn path(&self) -> String {
        format!("/api/v1.0/customers/{}/pbxs/{}", self.customer, self.pbx)
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut request = self.server.client.request(method, self.server.url(path)).bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.header(CONTENT_TYPE, "application/json-patch+json").body(body.to_string());
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send().await.unwrap()
    }

    async fn patch(
        &self,
        document: Value,
        headers: &[(&str, &str)],
    ) -> (StatusCode, reqwest::header::HeaderMap, Value) {
        read(self.send(Method::PATCH, &self.path(), Some(document), headers).await).await
    }

    async fn list(&self, query: &str) -> (StatusCode, reqwest::header::HeaderMap, Value) {
        let path = format!("/api/v1.0/customers/{}/pbxs{query}", self.customer);
        read(self.send(Method::GET, &path, None, &[]).await).await
    }

    async fn get(&self) -> (StatusCode, reqwest::header::HeaderMap, Value) {
        read(self.send(Method::GET, &self.path(), None, &[]).await).await
    }
}

#[tokio::test]
async fn get_shows_the_whole_profile_without_its_secrets_and_an_etag() {
    let f = fixture().await;
    let (status, headers, body) = f.get().await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(headers[ETAG], "\"1\"");
    assert_eq!(
        body["data"],
        json!({
            "hostRest": "https://rest.example.com",
            "hostWebsocket": "wss://ws.example.com",
            "accountId": f.account,
            "monitorSubAccounts": false,
            "_type": "KazooPbxConnectionProfile",
            "id": f.pbx,
            "name": "Clients ~.pbx.kazoo.name.~ Pbx",
            "tenantId": f.customer,
            "countryCode": "US",
            "enabled": false,
            "connection": {"state": "unknown", "conditions": []}
        })
    );
    assert!(!body.to_string().contains("ABCDEF"), "no API key");
}

#[tokio::test]
async fn a_three_cx_profile_reads_back_without_its_password() {
    let f = fixture().await;
    let (_, _, created) = read(f.server.create_pbx(&f.token, &f.customer, &three_cx(&new_guid())).await).await;
    let id = created["data"]["id"].as_str().unwrap();
    let path = format!("/api/v1.0/customers/{}/pbxs/{id}", f.customer);
    let (status, _, body) = read(f.send(Method::GET, &path, None, &[]).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["data"]["enableRecordingArchive"], true);
    assert_eq!(body["data"]["recordingArchiveFrequency"], "00:20:00");
    assert!(body["data"].get("password").is_none());
}

#[tokio::test]
async fn a_profile_is_404_under_another_customer_and_400_with_a_bad_id() {
    let f = fixture().await;
    let other_customer = f.server.customer(&f.token).await;
    for path in [
        format!("/api/v1.0/customers/{other_customer}/pbxs/{}", f.pbx),
        format!("/api/v1.0/customers/{}/pbxs/{}", f.customer, new_guid()),
    ] {
        let (status, _, body) = read(f.send(Method::GET, &path, None, &[]).await).await;
        assert_error(status, &body, StatusCode::NOT_FOUND, "Not Found");
    }
    let (status, _, body) =
        read(f.send(Method::GET, &format!("/api/v1.0/customers/{}/pbxs/nope", f.customer), None, &[]).await).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "The value 'nope' is not valid.");
}

#[tokio::test]
async fn list_gives_summaries_oldest_first_in_pages() {
    let f = fixture().await;
    let mut ids = vec![f.pbx.clone()];
    for profile in [three_cx(&new_guid()), kazoo(&new_guid())] {
        let (_, _, body) = read(f.server.create_pbx(&f.token, &f.customer, &profile).await).await;
        ids.push(body["data"]["id"].as_str().unwrap().to_owned());
    }

    let (status, _, body) = f.list("").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let mut keys: Vec<&String> = body.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(keys, ["data", "page_index", "page_size", "status", "timestamp"]);
    assert_eq!((body["page_size"].as_u64(), body["page_index"].as_u64()), (Some(3), Some(0)));
    assert_timestamp(&body["timestamp"]);
    let listed: Vec<&str> = body["data"].as_array().unwrap().iter().map(|p| p["id"].as_str().unwrap()).collect();
    assert_eq!(listed, ids);
    assert_eq!(
        body["data"][1],
        json!({"id": ids[1], "name": "3CX Connexion", "_type": "ThreeCxConnectionProfile", "tenantId": f.customer, "countryCode": "US", "enabled": false,
               "connection": {"state": "unknown", "reason": "NotCheckable", "message": "The service cannot check this type of PBX; collectors report its state.", "conditions": []}})
    );
    assert!(!body.to_string().contains("mot de passe") && !body.to_string().contains("ABCDEF"), "no secret");

    let (_, _, body) = f.list("?pageIndex=1&pageSize=2").await;
    assert_eq!((body["page_size"].as_u64(), body["page_index"].as_u64()), (Some(1), Some(1)));
    assert_eq!(body["data"][0]["id"], ids[2]);
    let (_, _, body) = f.list("?pageIndex=5").await;
    assert_eq!(body["data"], json!([]));

    for (query, field) in [
        ("?pageSize=0", "pageSize"),
        ("?pageSize=1001", "pageSize"),
        ("?pageIndex=-1", "pageIndex"),
        ("?pageSize=ten", "pageSize"),
    ] {
        let (status, _, body) = f.list(query).await;
        assert_error(status, &body, StatusCode::BAD_REQUEST, "One or more fields are invalid.");
        assert_eq!(error_fields(&body), [field], "{query}");
    }
}

#[tokio::test]
async fn patch_renames_and_bumps_the_etag() {
    let f = fixture().await;
    let (status, headers, body) =
        f.patch(json!([{"op": "replace", "path": "/name", "value": "Renamed"}]), &[("if-match", "\"1\"")]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(headers[ETAG], "\"2\"");
    assert_eq!(body["data"]["name"], "Renamed");
    assert!(body["data"].get("apiKey").is_none(), "no secret in a patch answer");
    let (_, headers, body) = f.get().await;
    assert_eq!((headers[ETAG].to_str().unwrap(), body["data"]["name"].as_str()), ("\"2\"", Some("Renamed")));
}

#[tokio::test]
async fn enabling_is_chargeable() {
    let f = fixture().await;
    let enable = json!([{"op": "replace", "path": "/enabled", "value": "true"}]);
    let (status, _, body) = f.patch(enable.clone(), &[]).await;
    assert_error(
        status,
        &body,
        StatusCode::PAYMENT_REQUIRED,
        "Enabling a PBX profile is chargeable. To accept the charge, repeat the identical request with the header \
         'accept-charges: true'. Nothing was changed.",
    );
    assert_eq!(f.get().await.2["data"]["enabled"], false, "nothing changed");
    let (status, _, body) = f.patch(enable, &[("accept-charges", "true")]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["enabled"], true);
    // Already enabled: renaming it again costs nothing.
    let (status, _, _) = f.patch(json!([{"op": "replace", "path": "/name", "value": "Still on"}]), &[]).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn patches_that_cannot_apply_are_400_naming_the_path() {
    let f = fixture().await;
    let cases = [
        (
            json!([{"op": "replace", "path": "/_type", "value": "ThreeCxConnectionProfile"}]),
            "/_type",
            "cannot be changed",
        ),
        (json!([{"op": "replace", "path": "/id", "value": new_guid()}]), "/id", "cannot be changed"),
        (json!([{"op": "replace", "path": "/tenantId", "value": new_guid()}]), "/tenantId", "cannot be changed"),
        (
            json!([{"op": "add", "path": "/licenseKey", "value": "x"}]),
            "/licenseKey",
            "is not a field of KazooPbxConnectionProfile",
        ),
        (json!([{"op": "remove", "path": "/hostRest"}]), "/hostRest", "is required and cannot be removed"),
        (json!([{"op": "test", "path": "/apiKey", "value": "ABCDEF"}]), "/apiKey", "is a secret and cannot be tested"),
        (json!([{"op": "move", "from": "/name", "path": "/x"}]), "/0/op", "'move' is not supported"),
        (
            json!([{"op": "replace", "path": "/hostRest", "value": "ftp://x"}]),
            "hostRest",
            "must use the http or https scheme",
        ),
        (
            json!([{"op": "replace", "path": "/enabled", "value": "maybe"}]),
            "enabled",
            "must be a boolean (true or false)",
        ),
    ];
    for (document, field, message) in cases {
        let (status, _, body) = f.patch(document.clone(), &[]).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{document}: {body}");
        assert_eq!(body["errors"], json!([{"field": field, "message": message}]), "{document}");
    }
    let (status, _, body) = f.patch(json!("x"), &[]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["message"].as_str().unwrap().starts_with("The patch document must be a JSON array"), "{body}");
    // A single operation object is read as a document of that one operation (contract §9), and checked as such.
    let (status, _, body) = f.patch(json!({"op": "replace"}), &[]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["errors"], json!([{"field": "/0/path", "message": "is required: a JSON Pointer such as /name"}]));
    assert_eq!(f.get().await.1[ETAG], "\"1\"", "nothing changed");
}

#[tokio::test]
async fn a_failed_test_is_409_and_changes_nothing() {
    let f = fixture().await;
    let document = json!([
        {"op": "replace", "path": "/name", "value": "Changed"},
        {"op": "test", "path": "/accountId", "value": "not-this-one"}
    ]);
    let (status, _, body) = f.patch(document, &[]).await;
    assert_error(
        status,
        &body,
        StatusCode::CONFLICT,
        "The test operation at '/accountId' failed; nothing was changed.",
    );
    assert_eq!(f.get().await.2["data"]["name"], "Clients ~.pbx.kazoo.name.~ Pbx");
    let passing =
        json!([{"op": "test", "path": "/accountId", "value": f.account}, {"op": "remove", "path": "/countryCode"}]);
    assert_eq!(f.patch(passing, &[]).await.0, StatusCode::OK);
}

#[tokio::test]
async fn moving_to_an_instance_attached_elsewhere_is_409() {
    let f = fixture().await;
    let taken = new_guid();
    let other = f.server.customer(&f.token).await;
    f.server.create_pbx(&f.token, &other, &kazoo(&taken)).await;
    let (status, _, body) = f.patch(json!([{"op": "replace", "path": "/accountId", "value": taken}]), &[]).await;
    assert_error(status, &body, StatusCode::CONFLICT, "This PBX instance is already attached to a customer.");
    let with_enable = json!([{"op": "replace", "path": "/accountId", "value": taken}, {"op": "replace", "path": "/enabled", "value": true}]);
    assert_eq!(f.patch(with_enable, &[]).await.0, StatusCode::CONFLICT, "409 comes before 402");
}

#[tokio::test]
async fn a_stale_if_match_is_412() {
    let f = fixture().await;
    assert_eq!(f.patch(json!([{"op": "replace", "path": "/name", "value": "A"}]), &[]).await.0, StatusCode::OK);
    // A bare number reads like an ETag; one past any version a row can hold is stale like any other.
    for stale in ["\"1\"", "W/\"1\"", "1", "\"99999999999999999999\""] {
        let (status, _, body) =
            f.patch(json!([{"op": "replace", "path": "/name", "value": "B"}]), &[(IF_MATCH.as_str(), stale)]).await;
        assert_eq!(status, StatusCode::PRECONDITION_FAILED, "{body}");
        let (status, _, _) = read(f.send(Method::DELETE, &f.path(), None, &[(IF_MATCH.as_str(), stale)]).await).await;
        assert_eq!(status, StatusCode::PRECONDITION_FAILED);
    }
    let (status, _, body) =
        f.patch(json!([{"op": "replace", "path": "/name", "value": "B"}]), &[(IF_MATCH.as_str(), "junk")]).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "If-Match must be * or an ETag such as \"3\".");
    assert_eq!(f.get().await.2["data"]["name"], "A");
}

/// Twenty concurrent renames: without `If-Match` each applies to the profile as it is when written (none is 412 for
/// a version it never named: a lost race is applied again); with `If-Match` on the same version, one wins.
#[tokio::test]
async fn concurrent_patches_without_if_match_all_apply_and_with_it_one_wins() {
    let f = fixture().await;
    let renames = (0..20).map(|n| f.patch(json!([{"op": "replace", "path": "/name", "value": format!("N{n}")}]), &[]));
    for (status, _, body) in futures_util::future::join_all(renames).await {
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (_, headers, _) = f.get().await;
    assert_eq!(headers[ETAG], "\"21\"", "twenty changes, each written once");
    let version = [(IF_MATCH.as_str(), "\"21\"")];
    let renames =
        (0..20).map(|n| f.patch(json!([{"op": "replace", "path": "/name", "value": format!("M{n}")}]), &version));
    let statuses: Vec<StatusCode> = futures_util::future::join_all(renames).await.into_iter().map(|a| a.0).collect();
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::OK).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::PRECONDITION_FAILED).count(), 19, "{statuses:?}");
}

#[tokio::test]
async fn delete_then_404_and_the_instance_can_be_attached_again() {
    let f = fixture().await;
    let (status, _, body) = read(f.send(Method::DELETE, &f.path(), None, &[("if-match", "\"1\"")]).await).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body.as_object().unwrap().keys().collect::<Vec<_>>(), ["status", "timestamp"]);
    assert_eq!(body["status"], "success");
    let (status, _, body) = f.get().await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "Not Found");
    let (status, _, body) = read(f.send(Method::DELETE, &f.path(), None, &[]).await).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "Not Found");
    let (status, _, body) = read(f.server.create_pbx(&f.token, &f.customer, &kazoo(&f.account)).await).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

#[tokio::test]
async fn instance_lookup_shows_ids_to_the_owner_only() {
    let f = fixture().await;
    let lookup = |token: String, query: String| {
        let server = &f.server;
        async move { read(server.get(&format!("/api/v1.0/pbxs{query}"), &token).await).await }
    };
    let (status, _, body) = lookup(f.token.clone(), format!("?instanceId={}", f.account)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"], json!({"exists": true, "instanceId": f.account, "id": f.pbx, "tenantId": f.customer}));

    let stranger = f.server.reseller();
    let (_, _, body) = lookup(stranger.clone(), format!("?instanceId={}", f.account)).await;
    assert_eq!(body["data"], json!({"exists": true, "instanceId": f.account}));
    let free = new_guid();
    let (_, _, body) = lookup(stranger.clone(), format!("?instanceId={free}")).await;
    assert_eq!(body["data"], json!({"exists": false, "instanceId": free}));
    for query in ["", "?instanceId="] {
        let (status, _, body) = lookup(stranger.clone(), query.to_owned()).await;
        assert_error(status, &body, StatusCode::BAD_REQUEST, "One or more fields are invalid.");
        assert_eq!(error_fields(&body), ["instanceId"]);
    }
}

/// Issue 33, finding 1: a patch that points a profile's secret somewhere else — a Kazoo profile's `hostRest` or
/// `hostWebsocket`, a 3CX profile's `licenseKey` or `username` — must write the secret again, or a token that may
/// write but never read secrets (`pbxs:write`) could send the stored one to a host of its own. Without it: 400 on
/// the secret's field and nothing changed; with it: 200.
#[tokio::test]
async fn a_patch_that_moves_a_secret_must_write_it_again() {
    let server = TestServer::start().await;
    let tenant = new_guid();
    let admin = server.token(&tenant, "onboarding");
    let writer = server.token(&tenant, "pbxs:write");
    let customer = server.customer(&admin).await;
    let cases = [
        (kazoo(&new_guid()), "/hostRest", json!("https://attacker.example.com"), "apiKey", "hostRest or hostWebsocket"),
        (
            kazoo(&new_guid()),
            "/hostWebsocket",
            json!("wss://attacker.example.com"),
            "apiKey",
            "hostRest or hostWebsocket",
        ),
        (three_cx(&new_guid()), "/licenseKey", json!(new_guid()), "password", "licenseKey or username"),
        (three_cx(&new_guid()), "/username", json!("someone-else"), "password", "licenseKey or username"),
    ];
    for (body, field, value, secret, moved) in cases {
        let (status, _, created) = read(server.create_pbx(&admin, &customer, &body).await).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        let path = format!("/api/v1.0/customers/{customer}/pbxs/{}", created["data"]["id"].as_str().unwrap());
        let send = |operations: Value| {
            server
                .client
                .patch(server.url(&path))
                .bearer_auth(&writer)
                .header(CONTENT_TYPE, "application/json-patch+json")
                .body(operations.to_string())
                .send()
        };
        let (status, _, refused) =
            read(send(json!([{"op": "replace", "path": field, "value": value}])).await.unwrap()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{field}: {refused}");
        assert_eq!(error_fields(&refused), [secret], "{field}: {refused}");
        let message = refused["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains(moved), "{field}: {refused}");
        let (_, headers, shown) = read(server.get(&path, &admin).await).await;
        assert_eq!(headers[ETAG], "\"1\"", "{field}: nothing changed");
        assert_eq!(shown["data"][&field[1..]], body[&field[1..]], "{field}: nothing changed");

        let with_secret = json!([
            {"op": "replace", "path": field, "value": value},
            {"op": "replace", "path": format!("/{secret}"), "value": "a-new-secret-of-theirs"},
        ]);
        let (status, headers, changed) = read(send(with_secret).await.unwrap()).await;
        assert_eq!(status, StatusCode::OK, "{field}: {changed}");
        assert_eq!(headers[ETAG], "\"2\"");
        assert_eq!(changed["data"][&field[1..]], value, "{field}");
    }
}

/// Issue 33, finding 2: a PBX host written as an address the service may not call — loopback, private, link-local,
/// the metadata service, in any spelling — is 400 on its field, on create (alone and inside a customer's create) and
/// on patch; a host name is not resolved (the seed's `rest.example.com` stays valid offline). With
/// `PBX_PBX_HOSTS_ALLOW_PRIVATE`, such hosts are allowed (tests, on-premises PBXs).
#[tokio::test]
async fn a_pbx_host_naming_a_private_address_is_refused_unless_allowed() {
    let server = TestServer::start().await;
    let token = server.reseller();
    let customer = server.customer(&token).await;
    for (field, url) in [
        ("hostRest", "https://127.0.0.1:19443"),
        ("hostRest", "http://169.254.169.254/latest/meta-data"),
        ("hostRest", "https://[::1]"),
        ("hostRest", "https://10.0.0.1"),
        ("hostRest", "https://[2002:7f00:1::]"),
        ("hostWebsocket", "wss://[::ffff:0:7f00:1]"),
        ("hostWebsocket", "ws://192.168.1.10:8000"),
    ] {
        let mut body = kazoo(&new_guid());
        body[field] = json!(url);
        let (status, _, refused) = read(server.create_pbx(&token, &customer, &body).await).await;
        assert_eq!(
            (status, error_fields(&refused)),
            (StatusCode::BAD_REQUEST, vec![field.to_owned()]),
            "{url}: {refused}"
        );
        let nested = json!({"name": "Nested", "pbxConnectionProfile": body});
        let (status, _, refused) = read(server.post("/api/v1.0/customers", &token, &nested, &[]).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{url}: {refused}");
        assert_eq!(error_fields(&refused), [format!("pbxConnectionProfile.{field}")], "{url}: {refused}");
    }
    let (status, _, created) = read(server.create_pbx(&token, &customer, &kazoo(&new_guid())).await).await;
    assert_eq!(status, StatusCode::CREATED, "a host name is not resolved: {created}");
    let path = format!("/api/v1.0/customers/{customer}/pbxs/{}", created["data"]["id"].as_str().unwrap());
    let moved = json!([
        {"op": "replace", "path": "/hostRest", "value": "https://[fd00::1]"},
        {"op": "replace", "path": "/apiKey", "value": "NEWKEY"},
    ]);
    let answer = server
        .client
        .patch(server.url(&path))
        .bearer_auth(&token)
        .header(CONTENT_TYPE, "application/json-patch+json")
        .body(moved.to_string())
        .send()
        .await
        .unwrap();
    let (status, _, refused) = read(answer).await;
    assert_eq!((status, error_fields(&refused)), (StatusCode::BAD_REQUEST, vec!["hostRest".to_owned()]), "{refused}");

    let allowed = TestServer::start_with(&[("PBX_PBX_HOSTS_ALLOW_PRIVATE", "true")]).await;
    let token = allowed.reseller();
    let customer = allowed.customer(&token).await;
    let mut body = kazoo(&new_guid());
    body["hostRest"] = json!("https://127.0.0.1:19443");
    let (status, _, created) = read(allowed.create_pbx(&token, &customer, &body).await).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
}
