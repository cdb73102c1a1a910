//! Every answer of Create PBX (contract §4), in its order of precedence.

use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use serde_json::{Value, json};

use crate::helpers::{TestServer, assert_error, error_fields, kazoo, new_guid, read, three_cx};

fn pbxs(customer: &str) -> String {
    format!("/api/v1.0/customers/{customer}/pbxs")
}

#[tokio::test]
async fn a_customer_id_that_is_not_a_guid_is_400_with_the_seed_message() {
    let server = TestServer::start().await;
    let token = server.reseller();
    for segment in ["not-a-guid", "12345", "5b2a2d4c6f3e4c8b9d7a1e2f3a4b5c6d"] {
        let (status, _, body) = read(server.create_pbx(&token, segment, &kazoo("1")).await).await;
        assert_error(status, &body, StatusCode::BAD_REQUEST, &format!("The value '{segment}' is not valid."));
    }
}

#[tokio::test]
async fn an_unknown_customer_and_another_resellers_customer_get_the_same_404() {
    let server = TestServer::start().await;
    let (mine, theirs) = (server.reseller(), server.reseller());
    let their_customer = server.customer(&theirs).await;
    for customer in [new_guid(), their_customer.clone(), their_customer.to_uppercase()] {
        let (status, _, body) = read(server.create_pbx(&mine, &customer, &kazoo(&new_guid())).await).await;
        assert_error(status, &body, StatusCode::NOT_FOUND, "Not Found");
        let keys: Vec<&String> = body.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["error", "message", "status", "timestamp"], "nothing else tells them apart");
    }
}

#[tokio::test]
async fn a_customer_id_in_upper_case_is_the_same_customer() {
    let server = TestServer::start().await;
    let token = server.reseller();
    let customer = server.customer(&token).await;
    let (status, headers, body) =
        read(server.create_pbx(&token, &customer.to_uppercase(), &kazoo(&new_guid())).await).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["data"]["tenantId"], customer);
    assert!(headers["location"].to_str().unwrap().contains(&customer), "lower case in Location");
}

#[tokio::test]
async fn a_body_that_is_not_json_is_415_or_400() {
    let server = TestServer::start().await;
    let token = server.reseller();
    let customer = server.customer(&token).await;
    let send = |content_type: Option<&'static str>, body: &'static str| {
        let mut request = server
            .client
            .post(server.url(&pbxs(&customer)))
            .header(AUTHORIZATION, format!("Bearer {token}"))
            .header("accept-charges", "true")
            .body(body);
        if let Some(content_type) = content_type {
            request = request.header(CONTENT_TYPE, content_type);
        }
        request.send()
    };
    let message415 = "The request body must be JSON in UTF-8, sent with 'Content-Type: application/json' (a charset parameter, if any, must be utf-8).";
    for content_type in [None, Some("text/plain"), Some("application/x-www-form-urlencoded")] {
        let (status, _, body) = read(send(content_type, r#"{"name":"x"}"#).await.unwrap()).await;
        assert_error(status, &body, StatusCode::UNSUPPORTED_MEDIA_TYPE, message415);
    }
    let (status, _, body) = read(send(Some("application/json"), "{not json").await.unwrap()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["message"].as_str().unwrap().starts_with("The request body is not valid JSON"), "{body}");
    for not_an_object in ["[]", "\"text\"", "42", "null"] {
        let (status, _, body) = read(send(Some("application/json"), not_an_object).await.unwrap()).await;
        assert_error(status, &body, StatusCode::BAD_REQUEST, "The request body must be a JSON object.");
    }
}

#[tokio::test]
async fn a_body_over_64_kib_is_413() {
    let server = TestServer::start().await;
    let token = server.reseller();
    let customer = server.customer(&token).await;
    let mut profile = kazoo(&new_guid());
    profile["name"] = json!("x".repeat(70 * 1024));
    let (status, _, body) = read(server.create_pbx(&token, &customer, &profile).await).await;
    assert_error(
        status,
        &body,
        StatusCode::PAYLOAD_TOO_LARGE,
        "The request body is larger than the limit of 65536 bytes.",
    );

    // Without a Content-Length (chunked), the limit holds while reading.
    let chunk = "x".repeat(8 * 1024);
    let mut request = format!(
        "POST {} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        pbxs(&customer)
    );
    for _ in 0..9 {
        request.push_str(&format!("{:x}\r\n{chunk}\r\n", chunk.len()));
    }
    request.push_str("0\r\n\r\n");
    let answer = crate::helpers::raw_http(&server.base, &request).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains(r#""error":413"#), "{answer}");
}

#[tokio::test]
async fn a_missing_or_unknown_type_is_400_listing_the_known_types() {
    let server = TestServer::start().await;
    let token = server.reseller();
    let customer = server.customer(&token).await;
    let known = "KazooPbxConnectionProfile, ThreeCxConnectionProfile, TeamsPbxConnectionProfile";
    for (type_value, message) in [
        (None, format!("is required: one of {known}")),
        (Some(json!("SipTrunk")), format!("must be one of: {known}")),
        (Some(json!(7)), format!("must be one of: {known}")),
    ] {
        let mut profile = kazoo(&new_guid());
        profile.as_object_mut().unwrap().remove("_type");
        if let Some(value) = type_value {
            profile["_type"] = value;
        }
        let (status, _, body) = read(server.create_pbx(&token, &customer, &profile).await).await;
        assert_error(status, &body, StatusCode::BAD_REQUEST, "One or more fields are invalid.");
        assert_eq!(body["errors"], json!([{ "field": "_type", "message": message }]));
    }
}

#[tokio::test]
async fn every_broken_field_is_reported_not_only_the_first() {
    let server = TestServer::start().await;
    let token = server.reseller();
    let customer = server.customer(&token).await;
    let profile = json!({
        "_type": "KazooPbxConnectionProfile",
        "name": "   ",
        "countryCode": "XX",
        "hostRest": "wss://rest.example.com",
        "hostWebsocket": 42,
        "apiKey": "",
        "monitorSubAccounts": "perhaps",
        "licenseKey": "belongs to 3CX",
        "enabled": true
    });
    let (status, _, body) = read(server.create_pbx(&token, &customer, &profile).await).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "One or more fields are invalid.");
    assert_eq!(
        error_fields(&body),
        [
            "name",
            "countryCode",
            "hostRest",
            "hostWebsocket",
            "accountId",
            "apiKey",
            "monitorSubAccounts",
            "enabled",
            "licenseKey"
        ]
    );
    let message = |field: &str| {
        body["errors"].as_array().unwrap().iter().find(|e| e["field"] == field).unwrap()["message"].clone()
    };
    assert_eq!(message("hostRest"), "must use the http or https scheme");
    assert_eq!(message("hostWebsocket"), "must be a string");
    assert_eq!(message("accountId"), "is required");
    assert_eq!(message("licenseKey"), "is not a field of KazooPbxConnectionProfile");
    assert_eq!(message("enabled"), "is set by the service and cannot be sent");
}

#[tokio::test]
async fn the_rules_of_each_field_are_enforced() {
    let server = TestServer::start().await;
    let token = server.reseller();
    let customer = server.customer(&token).await;
    let cases: Vec<(Value, &str, &str)> = vec![
        (json!({"name": "a".repeat(101)}), "name", "must be at most 100 characters"),
        (json!({"name": "line\nbreak"}), "name", "must not contain control or format characters"),
        (
            json!({"hostRest": "rest.example.com"}),
            "hostRest",
            "must be an absolute URL with a host, such as https://rest.example.com",
        ),
        (json!({"hostWebsocket": "https://ws.example.com"}), "hostWebsocket", "must use the ws or wss scheme"),
        (
            json!({"hostRest": "https://user:secret@rest.example.com"}),
            "hostRest",
            "must be of the form scheme://host[:port][/path] with scheme http or https, the host a DNS name, an IPv4 \
             address or a bracketed IPv6 address, no user name or password, and only visible ASCII characters",
        ),
        (json!({"accountId": "a b"}), "accountId", "must contain only visible characters (no spaces)"),
        (json!({"accountId": "a".repeat(65)}), "accountId", "must be at most 64 characters"),
        (json!({"apiKey": "k".repeat(257)}), "apiKey", "must be at most 256 characters"),
        (json!({"countryCode": "USA"}), "countryCode", "must be an ISO 3166-1 alpha-2 country code, such as US or FR"),
    ];
    for (patch, field, message) in cases {
        let mut profile = kazoo(&new_guid());
        for (key, value) in patch.as_object().unwrap() {
            profile[key] = value.clone();
        }
        let (status, _, body) = read(server.create_pbx(&token, &customer, &profile).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{field}: {body}");
        assert_eq!(body["errors"], json!([{ "field": field, "message": message }]), "{field}");
    }
    let three_cx_cases: Vec<(Value, &str, &str)> = vec![
        (
            json!({"enableRecordingArchive": true, "recordingArchiveFrequency": null}),
            "recordingArchiveFrequency",
            "is required when enableRecordingArchive is true",
        ),
        (json!({"recordingArchiveFrequency": "00:00:00"}), "recordingArchiveFrequency", "must be longer than zero"),
        (
            json!({"recordingArchiveFrequency": "1.00:00:01"}),
            "recordingArchiveFrequency",
            "must be at most one day (1.00:00:00)",
        ),
        (
            json!({"recordingArchiveFrequency": "20 minutes"}),
            "recordingArchiveFrequency",
            "must be a time span of the form [d.]hh:mm:ss[.fffffff], such as 00:20:00",
        ),
        (json!({"enableRecordingArchive": "yes"}), "enableRecordingArchive", "must be a boolean (true or false)"),
        (json!({"password": null}), "password", "is required"),
    ];
    for (patch, field, message) in three_cx_cases {
        let mut profile = three_cx(&new_guid());
        for (key, value) in patch.as_object().unwrap() {
            profile[key] = value.clone();
        }
        let (status, _, body) = read(server.create_pbx(&token, &customer, &profile).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{field}: {body}");
        assert_eq!(body["errors"], json!([{ "field": field, "message": message }]), "{field}");
    }
}

#[tokio::test]
async fn a_profile_takes_its_customers_country_unless_it_gives_one() {
    let server = TestServer::start().await;
    let token = server.reseller();
    let (_, _, body) =
        read(server.post("/api/v1.0/customers", &token, &json!({"name": "Le Client", "countryCode": "FR"}), &[]).await)
            .await;
    let customer = body["data"]["id"].as_str().unwrap().to_owned();
    let (_, _, body) = read(server.create_pbx(&token, &customer, &kazoo(&new_guid())).await).await;
    assert_eq!(body["data"]["countryCode"], "FR");
    let mut profile = kazoo(&new_guid());
    profile["countryCode"] = json!("be");
    let (_, _, body) = read(server.create_pbx(&token, &customer, &profile).await).await;
    assert_eq!(body["data"]["countryCode"], "BE");
}

#[tokio::test]
async fn a_pbx_instance_attached_anywhere_is_409() {
    let server = TestServer::start().await;
    let (mine, theirs) = (server.reseller(), server.reseller());
    let (first, second, foreign) =
        (server.customer(&mine).await, server.customer(&mine).await, server.customer(&theirs).await);
    let account = new_guid();
    let (status, _, _) = read(server.create_pbx(&mine, &first, &kazoo(&account)).await).await;
    assert_eq!(status, StatusCode::CREATED);

    for (token, customer) in [(&mine, &first), (&mine, &second), (&theirs, &foreign)] {
        let (status, _, body) = read(server.create_pbx(token, customer, &kazoo(&account)).await).await;
        assert_error(status, &body, StatusCode::CONFLICT, "This PBX instance is already attached to a customer.");
    }
    // The same value is another instance for another PBX type.
    let (status, _, body) = read(server.create_pbx(&mine, &second, &three_cx(&account)).await).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

#[tokio::test]
async fn a_pbx_instance_under_another_spelling_is_the_same_instance() {
    let server = TestServer::start().await;
    let (mine, theirs) = (server.reseller(), server.reseller());
    let (first, foreign) = (server.customer(&mine).await, server.customer(&theirs).await);
    for (attached, respelled, make) in [
        ("0123456789abcdef", "0123456789ABCDEF", kazoo as fn(&str) -> Value),
        ("AcctA1", "\u{ff21}cctA1", kazoo),
        ("abcd-1234-efgh", "ABCD-1234-EFGH", three_cx),
    ] {
        let (status, _, created) = read(server.create_pbx(&mine, &first, &make(attached)).await).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        let (status, _, body) = read(server.create_pbx(&theirs, &foreign, &make(respelled)).await).await;
        assert_error(status, &body, StatusCode::CONFLICT, "This PBX instance is already attached to a customer.");
        // The owner finds it under any spelling, with its ids; the other reseller learns only that it exists.
        let lookup = format!("/api/v1.0/pbxs?instanceId={}", urlencode(respelled));
        let (_, _, own) = read(server.get(&lookup, &mine).await).await;
        assert_eq!(own["data"]["exists"], true, "{own}");
        assert_eq!(own["data"]["id"], created["data"]["id"], "{own}");
        let (_, _, foreign_view) = read(server.get(&lookup, &theirs).await).await;
        assert_eq!(foreign_view["data"], json!({"exists": true, "instanceId": respelled}));
    }
}

fn urlencode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

#[tokio::test]
async fn without_accepted_charges_a_good_request_is_402_and_creates_nothing() {
    let server = TestServer::start().await;
    let token = server.reseller();
    let customer = server.customer(&token).await;
    let profile = kazoo(&new_guid());
    let message = "Creating a PBX profile is chargeable. To accept the charge, repeat the identical request with the \
                   header 'accept-charges: true'. Nothing was created.";
    for headers in [vec![], vec![("accept-charges", "false")], vec![("accept-charges", "yes")]] {
        let (status, _, body) = read(server.post(&pbxs(&customer), &token, &profile, &headers).await).await;
        assert_error(status, &body, StatusCode::PAYMENT_REQUIRED, message);
    }
    // Nothing was created: the identical request with the header succeeds, and only then is the instance taken.
    let (status, _, body) =
        read(server.post(&pbxs(&customer), &token, &profile, &[("accept-charges", "TRUE")]).await).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, _, _) = read(server.post(&pbxs(&customer), &token, &profile, &[]).await).await;
    assert_eq!(status, StatusCode::CONFLICT, "409 comes before 402");
}

#[tokio::test]
async fn problems_are_answered_in_the_contracts_order() {
    let server = TestServer::start().await;
    let token = server.reseller();
    let customer = server.customer(&token).await;
    let taken = new_guid();
    server.create_pbx(&token, &customer, &kazoo(&taken)).await;
    let mut invalid_and_taken = kazoo(&taken);
    invalid_and_taken["hostRest"] = json!("nope");

    // A bad path wins over a bad body; a missing customer wins over a conflict; a bad body over a conflict;
    // a conflict over charges.
    let cases = [
        (
            "not-a-guid".to_owned(),
            invalid_and_taken.clone(),
            StatusCode::BAD_REQUEST,
            "The value 'not-a-guid' is not valid.",
        ),
        (new_guid(), kazoo(&taken), StatusCode::NOT_FOUND, "Not Found"),
        (customer.clone(), invalid_and_taken, StatusCode::BAD_REQUEST, "One or more fields are invalid."),
        (customer.clone(), kazoo(&taken), StatusCode::CONFLICT, "This PBX instance is already attached to a customer."),
    ];
    for (customer, body, expected, message) in cases {
        let (status, _, answer) = read(server.post(&pbxs(&customer), &token, &body, &[]).await).await;
        assert_error(status, &answer, expected, message);
    }
}
