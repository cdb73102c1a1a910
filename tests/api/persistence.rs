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

#[tokio::test]
async fn rotate_key_re_encrypts_every_secret_while_the_server_keeps_reading() {
    let mut server = TestServer::start().await;
    let token = server.reseller();
    let customer = server.customer(&token).await;
    let mut paths = Vec::new();
    for profile in [kazoo(&new_guid()), three_cx(&new_guid())] {
        let (_, _, body) = read(server.create_pbx(&token, &customer, &profile).await).await;
        paths.push(format!("/api/v1.0/customers/{customer}/pbxs/{}", body["data"]["id"].as_str().unwrap()));
    }
    let key_file = server.data_dir().join("encryption.key");
    let old_key = std::fs::read_to_string(&key_file).unwrap();

    let output = server.run(&["rotate-key"]);
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{printed}\n{}", String::from_utf8_lossy(&output.stderr));
    assert!(printed.contains("Re-encrypted 2 stored secrets"), "{printed}");
    assert_ne!(std::fs::read_to_string(&key_file).unwrap(), old_key, "a new current key");
    let kept = std::fs::read_dir(server.data_dir())
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().starts_with("encryption.key."))
        .count();
    assert_eq!(kept, 1, "the old key is kept beside the new one");

    // The running server reads the re-encrypted secrets without a restart (reading decrypts them).
    for path in &paths {
        let (status, _, body) = read(server.get(path, &token).await).await;
        assert_eq!(status, StatusCode::OK, "{body}\n{}", server.logs());
    }
    let rename = serde_json::json!([{"op": "replace", "path": "/name", "value": "After rotation"}]);
    let response = server.patch(&paths[0], &token, &rename, &[]).await;
    assert_eq!(response.status(), StatusCode::OK);

    // A second rotation takes everything, the row the server rewrote with its start-up key included, to a third key.
    let output = server.run(&["rotate-key"]);
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(printed.contains("Re-encrypted 2 stored secrets") && printed.contains("(0 already were)"), "{printed}");
    server.restart();
    for path in &paths {
        assert_eq!(server.get(path, &token).await.status(), StatusCode::OK);
    }
}

#[tokio::test]
async fn a_configured_encryption_key_is_used_instead_of_the_key_file_and_rotates_on_request() {
    use base64::Engine;
    let encode = |byte: u8| base64::engine::general_purpose::STANDARD.encode([byte; 32]);
    let (old, new) = (encode(1), encode(2));
    let server = TestServer::start_with(&[("PBX_ENCRYPTION_KEY", old.as_str())]).await;
    let token = server.reseller();
    let customer = server.customer(&token).await;
    let (_, _, body) = read(server.create_pbx(&token, &customer, &kazoo(&new_guid())).await).await;
    let path = format!("/api/v1.0/customers/{customer}/pbxs/{}", body["data"]["id"].as_str().unwrap());
    assert!(!server.data_dir().join("encryption.key").exists(), "no key file when a key is configured");

    let refused = server.run(&["rotate-key"]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--new-key"));
    let rotated = server.run(&["rotate-key", "--new-key", &new]);
    assert!(String::from_utf8_lossy(&rotated.stdout).contains("Re-encrypted 1 stored secrets"));

    // A replica configured with the new key and the old one as previous reads everything.
    let replica =
        server.replica_with(&[("PBX_ENCRYPTION_KEY", new.as_str()), ("PBX_PREVIOUS_ENCRYPTION_KEYS", old.as_str())]);
    assert_eq!(replica.get(&path, &token).await.status(), StatusCode::OK);
}
