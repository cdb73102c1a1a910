//! A database outage: 503 within the acquire timeout, health and readiness tell them apart, and the service
//! recovers without a restart. Needs a database server (PBX_TEST_BACKEND=postgres or mysql).

use std::time::{Duration, Instant};

use pbx_infra::testing::Backend;
use reqwest::StatusCode;

use crate::helpers::{Proxy, TestServer, assert_error, host_port, read};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_outage_answers_503_quickly_and_the_service_recovers() {
    if Backend::from_env() == Backend::Sqlite {
        eprintln!("skipped: the outage test needs a database server (PBX_TEST_BACKEND=postgres or mysql)");
        return;
    }
    let server_url = std::env::var(Backend::from_env().url_variable().unwrap()).unwrap();
    let mut proxy = Proxy::start(&host_port(&server_url)).await;
    let server = TestServer::launch(&[("PBX_DB_ACQUIRE_TIMEOUT", "1s")], |url| proxy.route(url)).await;
    let token = server.reseller();
    let customer = server.customer(&token).await;
    let path = format!("/api/v1.0/customers/{customer}");
    assert_eq!(server.client.get(server.url("/readyz")).send().await.unwrap().status(), StatusCode::OK);

    proxy.cut();

    let started = Instant::now();
    let (status, headers, body) = read(server.get(&path, &token).await).await;
    let elapsed = started.elapsed();
    assert_error(
        status,
        &body,
        StatusCode::SERVICE_UNAVAILABLE,
        "The service is temporarily unavailable; try again shortly.",
    );
    assert!(headers.contains_key("retry-after"));
    assert!(elapsed < Duration::from_secs(5), "answered after {elapsed:?}, the acquire timeout is 1s");
    assert_eq!(server.client.get(server.url("/healthz")).send().await.unwrap().status(), StatusCode::OK);
    assert_eq!(
        server.client.get(server.url("/readyz")).send().await.unwrap().status(),
        StatusCode::SERVICE_UNAVAILABLE
    );

    proxy.restore().await;

    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let status = server.get(&path, &token).await.status();
        if status == StatusCode::OK {
            break;
        }
        assert!(Instant::now() < deadline, "still {status} 20 s after the database came back");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(server.client.get(server.url("/readyz")).send().await.unwrap().status(), StatusCode::OK);
}
