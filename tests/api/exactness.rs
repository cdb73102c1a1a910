//! Input exactness: what a body or a parameter says is what the service reads, or the request is refused — a key
//! sent twice, a charset other than UTF-8, invisible characters, numbers at their extremes.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, IF_MATCH};
use serde_json::{Value, json};

use crate::helpers::{TestServer, error_fields, kazoo, new_guid, read};

fn pbxs(customer: &str) -> String {
    format!("/api/v1.0/customers/{customer}/pbxs")
}

#[tokio::test]
async fn a_key_sent_twice_is_400_naming_it_and_creates_nothing() {
    let server = TestServer::start().await;
    let token = server.reseller();
    let customer = server.customer(&token).await;
    let bodies = [
        (
            r#"{"_type": "KazooPbxConnectionProfile", "name": "n", "hostRest": "https://r.example.com",
                "hostWebsocket": "wss://w.example.com", "accountId": "A-1", "accountId": "A-2", "apiKey": "k"}"#,
            "accountId",
        ),
        (
            r#"{"_type": "ThreeCxConnectionProfile", "name": "n", "hostRest": "https://r.example.com",
                "hostWebsocket": "wss://w.example.com", "accountId": "A-3", "apiKey": "k",
                "_type": "KazooPbxConnectionProfile"}"#,
            "_type",
        ),
    ];
    for (body, key) in bodies {
        let response = server
            .client
            .post(server.url(&pbxs(&customer)))
            .header(AUTHORIZATION, format!("Bearer {token}"))
            .header(CONTENT_TYPE, "application/json")
            .header("accept-charges", "true")
            .body(body)
            .send()
            .await
            .unwrap();
        let (status, _, answer) = read(response).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{key}: {answer}");
        assert_eq!(error_fields(&answer), [key], "{answer}");
    }
    let (_, _, list) = read(server.get(&pbxs(&customer), &token).await).await;
    assert_eq!(list["data"], json!([]), "nothing was created");
}

#[tokio::test]
async fn a_charset_other_than_utf8_is_415() {
    let server = TestServer::start().await;
    let token = server.reseller();
    let customer = server.customer(&token).await;
    for (content_type, expected) in [
        ("application/json; charset=latin1", StatusCode::UNSUPPORTED_MEDIA_TYPE),
        ("application/json; charset=ISO-8859-1", StatusCode::UNSUPPORTED_MEDIA_TYPE),
        ("application/json; charset=utf-16", StatusCode::UNSUPPORTED_MEDIA_TYPE),
        ("application/json; charset=UTF-8", StatusCode::CREATED),
    ] {
        let response = server
            .client
            .post(server.url(&pbxs(&customer)))
            .header(AUTHORIZATION, format!("Bearer {token}"))
            .header(CONTENT_TYPE, content_type)
            .header("accept-charges", "true")
            .body(kazoo(&new_guid()).to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), expected, "{content_type}");
    }
}

#[tokio::test]
async fn control_and_format_characters_are_refused_in_every_text_field_secrets_included() {
    let server = TestServer::start().await;
    let token = server.reseller();
    let customer = server.customer(&token).await;
    let cases: [(&str, &str); 6] = [
        ("apiKey", "ABC\u{0}DEF"),
        ("name", "Main \u{202e}xbp.exe"),
        ("accountId", "Acct\u{200b}A1"),
        ("hostRest", "https://rest.example.com/\u{2066}"),
        ("hostWebsocket", "wss://ws.exa\tmple.com"),
        ("apiKey", "\u{feff}ABCDEF"),
    ];
    for (field, value) in cases {
        let mut profile = kazoo(&new_guid());
        profile[field] = Value::from(value);
        let (status, _, body) = read(server.create_pbx(&token, &customer, &profile).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{field} {value:?}: {body}");
        assert_eq!(error_fields(&body), [field], "{value:?}: {body}");
        assert!(!body.to_string().contains(value), "the value is not echoed: {body}");
    }
    let mut three_cx = crate::helpers::three_cx(&new_guid());
    three_cx["password"] = Value::from("pass\u{7f}word");
    three_cx["username"] = Value::from("user\u{200d}");
    let (status, _, body) = read(server.create_pbx(&token, &customer, &three_cx).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(error_fields(&body), ["username", "password"], "{body}");
    let (status, _, body) = read(
        server.post("/api/v1.0/customers", &token, &json!({"name": "Acme\u{202e}", "reference": "r\u{0}"}), &[]).await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(error_fields(&body), ["name", "reference"], "{body}");
}

#[tokio::test]
async fn the_page_index_of_the_report_is_400_not_a_dropped_connection() {
    let server = TestServer::start().await;
    let token = server.reseller();
    let response = server.get("/api/v1.0/customers?pageIndex=9223372036854776&pageSize=1000", &token).await;
    let (status, _, body) = read(response).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(error_fields(&body), ["pageIndex"]);
    let last = server.get("/api/v1.0/customers?pageIndex=9007199254740991&pageSize=1000", &token).await;
    assert_eq!(last.status(), StatusCode::OK, "the largest index the OpenAPI document allows is served");
}

/// A number as a client might send it at, or past, the edges of what any integer type holds.
fn extreme() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "0",
            "-0",
            "1",
            "-1",
            "+1",
            "1000",
            "1001",
            "9007199254740991",
            "9007199254740992",
            "9223372036854775",
            "9223372036854776",
            "9223372036854775807",
            "9223372036854775808",
            "-9223372036854775808",
            "18446744073709551615",
            "18446744073709551616",
            "340282366920938463463374607431768211456",
            "1e308",
            "1e309",
            "NaN",
            "0x10",
            "",
            " 7",
        ])
        .prop_map(str::to_owned),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<u64>().prop_map(|n| n.to_string()),
        any::<i128>().prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|n| n.to_string()),
        "[0-9]{16,40}",
    ]
}

/// Every numeric parameter of every route — `pageIndex` and `pageSize` of both lists, the version in `If-Match` on
/// each change — at its extremes gets an answer below 500, never a dropped connection.
#[test]
fn every_numeric_parameter_at_its_extremes_gets_an_answer_below_500() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let _context = runtime.enter(); // reqwest starts its timeout timer when a request is sent
    let (server, token, customer, pbx) = runtime.block_on(async {
        let server = TestServer::start().await;
        let token = server.reseller();
        let customer = server.customer(&token).await;
        let (_, _, created) = read(server.create_pbx(&token, &customer, &kazoo(&new_guid())).await).await;
        let pbx = created["data"]["id"].as_str().unwrap().to_owned();
        (server, token, customer, pbx)
    });
    let lists = ["/api/v1.0/customers".to_owned(), pbxs(&customer)];
    let changes = [format!("/api/v1.0/customers/{customer}"), format!("{}/{pbx}", pbxs(&customer))];
    let mut runner = TestRunner::new(Config { cases: 256, failure_persistence: None, ..Config::default() });
    let strategy = (0..6_usize, extreme());
    runner
        .run(&strategy, |(place, number)| {
            let request = match place {
                0..=3 => {
                    let parameter = if place % 2 == 0 { "pageIndex" } else { "pageSize" };
                    let url = reqwest::Url::parse_with_params(&server.url(&lists[place / 2]), [(parameter, &number)])
                        .map_err(|e| TestCaseError::fail(e.to_string()))?;
                    server.client.get(url)
                }
                _ => {
                    // A `test` that fails changes nothing, whatever the version says.
                    let patch = json!([{"op": "test", "path": "/name", "value": "not the name"}]);
                    server
                        .client
                        .patch(server.url(&changes[place - 4]))
                        .header(CONTENT_TYPE, "application/json-patch+json")
                        .header(IF_MATCH, format!("\"{number}\""))
                        .body(patch.to_string())
                }
            };
            let answer = runtime.block_on(request.header(AUTHORIZATION, format!("Bearer {token}")).send());
            let status =
                answer.map_err(|e| TestCaseError::fail(format!("no answer for {place} = {number:?}: {e}")))?.status();
            prop_assert!(status.as_u16() < 500, "{} for {} = {:?}", status, place, number);
            Ok(())
        })
        .unwrap();
}
