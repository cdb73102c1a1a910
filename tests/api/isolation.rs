//! Tenant isolation: every route answers another reseller's customer exactly as one that does not exist.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestServer, kazoo, new_guid, read};

#[tokio::test]
async fn every_route_answers_a_foreign_customer_exactly_like_a_missing_one() {
    let server = TestServer::start().await;
    let (mine, theirs) = (server.reseller(), server.reseller());
    let foreign = server.customer(&theirs).await;
    let (_, _, body) = read(server.create_pbx(&theirs, &foreign, &kazoo(&new_guid())).await).await;
    let foreign_pbx = body["data"]["id"].as_str().unwrap().to_owned();
    let missing = new_guid();

    let patch = json!([{"op": "replace", "path": "/name", "value": "Mine now"}]);
    let routes: Vec<(Method, String, Option<Value>)> = vec![
        (Method::GET, "/api/v1.0/customers/{c}".into(), None),
        (Method::PATCH, "/api/v1.0/customers/{c}".into(), Some(patch.clone())),
        (Method::DELETE, "/api/v1.0/customers/{c}".into(), None),
        (Method::GET, "/api/v1.0/customers/{c}/pbxs".into(), None),
        (Method::POST, "/api/v1.0/customers/{c}/pbxs".into(), Some(kazoo(&new_guid()))),
        (Method::GET, "/api/v1.0/customers/{c}/pbxs/{p}".into(), None),
        (Method::PATCH, "/api/v1.0/customers/{c}/pbxs/{p}".into(), Some(patch)),
        (Method::DELETE, "/api/v1.0/customers/{c}/pbxs/{p}".into(), None),
    ];
    for (method, template, body) in routes {
        let mut answers = Vec::new();
        for customer in [&foreign, &missing] {
            let path = template.replace("{c}", customer).replace("{p}", &foreign_pbx);
            let mut request = server
                .client
                .request(method.clone(), server.url(&path))
                .bearer_auth(&mine)
                .header("accept-charges", "true");
            if let Some(body) = &body {
                request = request.header("content-type", "application/json").body(body.to_string());
            }
            let (status, _, mut answer) = read(request.send().await.unwrap()).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{method} {template} on {customer}: {answer}");
            answer["timestamp"] = Value::Null;
            answers.push(answer);
        }
        assert_eq!(answers[0], answers[1], "{method} {template}: the two 404s differ");
    }
    // And the owner still sees everything unchanged.
    let (status, _, body) =
        read(server.get(&format!("/api/v1.0/customers/{foreign}/pbxs/{foreign_pbx}"), &theirs).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["data"]["name"], "Clients ~.pbx.kazoo.name.~ Pbx");
}
