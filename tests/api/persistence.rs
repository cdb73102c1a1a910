//! Data survives a restart; secrets are stored encrypted and never logged.

use reqwest::StatusCode;

use crate::helpers::{TestServer, kazoo, new_guid, read, three_cx};

#[tokio::test]
async fn data_is_still_there_after_a_restart() {
    let mut server = TestServer::start().await;
    let tenant = new_guid();
    let token = server.token(&tenant, "onboarding");
    let customer = server.customer(&token).await;
    let account = new_guid();
    let (status, _, _) = read(server.create_pbx(&token, &customer, &kazoo(&account)).await).await;
    assert_eq!(status, StatusCode::CREATED);

    server.restart();

    // The same token still verifies (the key file was kept), the customer is there, the instance still taken.
    let (status, _, body) = read(server.get(&format!("/api/v1.0/customers/{customer}"), &token).await).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _, body) = read(server.create_pbx(&token, &customer, &kazoo(&account)).await).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
}

#[tokio::test]
async fn secrets_are_neither_stored_in_clear_nor_logged_at_any_level() {
    let mut server = TestServer::start_with(&[("RUST_LOG", "trace")]).await;
    let token = server.reseller();
    let customer = server.customer(&token).await;
    let (api_key, password) = ("kazoo-api-key-7c1e9b", "threecx-password-5d2a8f");
    let mut kazoo = kazoo(&new_guid());
    kazoo["apiKey"] = api_key.into();
    let mut three_cx = three_cx(&new_guid());
    three_cx["password"] = password.into();
    let (status, _, _) = read(server.create_pbx(&token, &customer, &kazoo).await).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _, _) = read(server.create_pbx(&token, &customer, &three_cx).await).await;
    assert_eq!(status, StatusCode::CREATED);
    // A refused request with a secret in it.
    let mut invalid = kazoo.clone();
    invalid["hostRest"] = "nope".into();
    server.create_pbx(&token, &customer, &invalid).await;
    server.stop();

    let logs = server.logs();
    assert!(logs.contains("PBX profile created"), "the trace log was written");
    for entry in std::fs::read_dir(server.data_dir()).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        for secret in [api_key, password] {
            assert!(!text.contains(secret), "{secret} readable in {}", path.display());
        }
    }
    for secret in [api_key, password, token.as_str()] {
        assert!(!logs.contains(secret), "a secret in the logs");
    }
}
