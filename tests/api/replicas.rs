//! Several replicas on one database: the one-customer-per-PBX-instance rule holds across processes.

use std::collections::BTreeMap;

use reqwest::StatusCode;
use tokio::task::JoinSet;

use crate::helpers::{TestServer, kazoo, new_guid};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_creates_of_one_instance_over_two_replicas_give_one_201_and_49_409() {
    let first = TestServer::start().await;
    let second = first.replica();
    let token = first.reseller();
    let (customer_a, customer_b) = (first.customer(&token).await, second.customer(&token).await);
    let account = new_guid();

    let mut requests = JoinSet::new();
    for i in 0..50 {
        let (server, customer) = if i % 2 == 0 { (&first, &customer_a) } else { (&second, &customer_b) };
        // One instance under three spellings: as sent, in capitals, in fullwidth digits and letters.
        let spelling = match i % 3 {
            0 => account.clone(),
            1 => account.to_uppercase(),
            _ => account.chars().map(|c| if c.is_ascii_alphanumeric() { fullwidth(c) } else { c }).collect(),
        };
        let profile = kazoo(&spelling);
        let request = server
            .client
            .post(server.url(&format!("/api/v1.0/customers/{customer}/pbxs")))
            .bearer_auth(&token)
            .header("accept-charges", "true")
            .json(&profile);
        requests.spawn(async move { request.send().await.map(|r| r.status()) });
    }
    let mut statuses = BTreeMap::new();
    while let Some(result) = requests.join_next().await {
        let status = result.unwrap().unwrap();
        *statuses.entry(status.as_u16()).or_insert(0) += 1;
    }
    assert_eq!(
        statuses,
        BTreeMap::from([(StatusCode::CREATED.as_u16(), 1), (StatusCode::CONFLICT.as_u16(), 49)]),
        "logs:\n{}\n{}",
        first.logs(),
        second.logs()
    );
}

/// The fullwidth form of an ASCII letter or digit (`A` → `Ａ`).
fn fullwidth(c: char) -> char {
    char::from_u32(u32::from(c) - 0x21 + 0xFF01).unwrap_or(c)
}
