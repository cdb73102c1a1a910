//! The seed's two examples, exactly as the reference page shows them.

use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, LOCATION};
use serde_json::json;

use crate::helpers::{TestServer, assert_timestamp, kazoo, read, three_cx};

#[tokio::test]
async fn the_seed_kazoo_request_gets_the_seed_answer() {
    let server = TestServer::start().await;
    let token = server.reseller();
    let customer = server.customer(&token).await;

    let (status, headers, body) = read(server.create_pbx(&token, &customer, &kazoo("12345")).await).await;

    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(headers[CONTENT_TYPE], "application/json; charset=utf-8");
    let id = body["data"]["id"].as_str().unwrap().to_owned();
    // The seed's answer, and the connection status CONTRACT §15 adds to every profile (none checked here).
    let mut data = body["data"].clone();
    let connection = data.as_object_mut().unwrap().remove("connection");
    assert_eq!(connection, Some(json!({"state": "unknown", "conditions": []})));
    assert_eq!(
        data,
        json!({
            "hostRest": "https://rest.example.com",
            "hostWebsocket": "wss://ws.example.com",
            "accountId": "12345",
            "apiKey": "ABCDEF",
            "monitorSubAccounts": false,
            "_type": "KazooPbxConnectionProfile",
            "id": id,
            "name": "Clients ~.pbx.kazoo.name.~ Pbx",
            "tenantId": customer,
            "countryCode": "US",
            "enabled": false
        })
    );
    assert_eq!(body["status"], "success");
    assert_timestamp(&body["timestamp"]);
    assert_eq!(headers[LOCATION], format!("{}/api/v1.0/customers/{customer}/pbxs/{id}", server.base));
    let parsed = uuid::Uuid::parse_str(&id).unwrap();
    assert_eq!(parsed.get_version_num(), 7, "PBX ids are UUIDv7");
    assert_eq!(id, id.to_lowercase());
}

#[tokio::test]
async fn the_seed_three_cx_request_gets_the_seed_answer() {
    let server = TestServer::start().await;
    let token = server.reseller();
    let customer = server.customer(&token).await;

    let (status, headers, body) =
        read(server.create_pbx(&token, &customer, &three_cx("licenseKey-licenseKey-licenseKey")).await).await;

    assert_eq!(status, StatusCode::CREATED, "{body}");
    let data = &body["data"];
    for (field, expected) in [
        ("_type", json!("ThreeCxConnectionProfile")),
        ("name", json!("3CX Connexion")),
        ("licenseKey", json!("licenseKey-licenseKey-licenseKey")),
        ("username", json!("nom d'utilisateur-nom d'utilisateur-nom d'utilisateur")),
        ("password", json!("mot de passe mot de passe")),
        ("enableRecordingArchive", json!("true")),
        ("recordingArchiveFrequency", json!("00:20:00")),
        ("tenantId", json!(customer)),
        ("countryCode", json!("US")),
        ("enabled", json!(false)),
    ] {
        assert_eq!(data[field], expected, "{field} in {body}");
    }
    let id = data["id"].as_str().unwrap();
    assert_eq!(headers[LOCATION], format!("{}/api/v1.0/customers/{customer}/pbxs/{id}", server.base));
}

#[tokio::test]
async fn a_frequency_is_returned_normalised_and_a_boolean_as_sent() {
    let server = TestServer::start().await;
    let token = server.reseller();
    let customer = server.customer(&token).await;
    let mut profile = three_cx(&crate::helpers::new_guid());
    profile["enableRecordingArchive"] = json!(true);
    profile["recordingArchiveFrequency"] = json!("0:5:0.5");

    let (status, _, body) = read(server.create_pbx(&token, &customer, &profile).await).await;

    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["data"]["enableRecordingArchive"], json!(true));
    assert_eq!(body["data"]["recordingArchiveFrequency"], "00:05:00.5000000");
}
