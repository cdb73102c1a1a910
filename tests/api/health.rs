//! `GET /healthz` and `GET /readyz` answer without a token.

use reqwest::StatusCode;

use crate::helpers::{TestServer, read};

#[tokio::test]
async fn health_and_readiness_answer_without_a_token() {
    let server = TestServer::start().await;
    for (path, state) in [("/healthz", "alive"), ("/readyz", "ready")] {
        let (status, _, body) = read(server.client.get(server.url(path)).send().await.unwrap()).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        assert_eq!(body["data"]["status"], state);
        assert_eq!(body["status"], "success");
    }
}
