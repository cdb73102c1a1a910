//! The SQLite baseline of `make bench`: the statements of one create (the customer lookup, then the insert), with
//! the service's own connection settings, from `concurrency` tasks for `seconds`; no HTTP, no JSON, no encryption.
//!
//! `cargo run --release -p pbx-infra --example sqlite_baseline -- <data-dir> <concurrency> <seconds>`
//! prints `RESULT rps=… p50_ms=… p99_ms=… errors=… non2xx=0`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark tool: a failure ends it

use std::time::{Duration, Instant};

use pbx_infra::database::sqlite_url;
use pbx_infra::{Database, PoolSettings};
use sea_orm::{ConnectionTrait, DbBackend, Statement, Value};
use uuid::Uuid;

const SELECT: &str = "SELECT id, reseller_id, name, description, reference, country_code, timezone, enabled, \
                      date_created, version FROM customers WHERE id = ? AND reseller_id = ?";
const INSERT: &str = "INSERT INTO pbx_profiles (id, customer_id, pbx_type, instance_id, instance_key, name, \
                      country_code, enabled, settings, secrets, created_at, version) VALUES (?, ?, \
                      'KazooPbxConnectionProfile', ?, ?, 'Bench', 'US', false, ?, ?, ?, 1)";

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dir = std::path::PathBuf::from(&args[1]);
    let concurrency: usize = args[2].parse().unwrap();
    let seconds: u64 = args[3].parse().unwrap();
    std::fs::create_dir_all(&dir).unwrap();
    let db = Database::connect(&sqlite_url(&dir), &PoolSettings::default()).await.unwrap();
    db.migrate().await.unwrap();
    let (customer, reseller) = (Uuid::now_v7(), Uuid::now_v7());
    db.connection()
        .execute_raw(Statement::from_sql_and_values(
            DbBackend::Sqlite,
            "INSERT INTO customers (id, reseller_id, name, country_code, timezone, enabled, date_created, version) \
             VALUES (?, ?, 'Bench', 'US', 'UTC', false, ?, 1)",
            [customer.into(), reseller.into(), chrono::Utc::now().into()],
        ))
        .await
        .unwrap();

    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let tasks: Vec<_> = (0..concurrency)
        .map(|_| {
            let db = db.clone();
            tokio::spawn(async move {
                let (mut latencies, mut errors) = (Vec::new(), 0u64);
                let settings: serde_json::Value = serde_json::json!({
                    "hostRest": "https://rest.example.com", "hostWebsocket": "wss://ws.example.com",
                    "monitorSubAccounts": false
                });
                while Instant::now() < deadline {
                    let begun = Instant::now();
                    let select =
                        Statement::from_sql_and_values(DbBackend::Sqlite, SELECT, [customer.into(), reseller.into()]);
                    // The service's instance key is a SHA-256 in hex: 64 characters, unique per type.
                    let instance = Uuid::now_v7().simple().to_string();
                    let values: [Value; 7] = [
                        Uuid::now_v7().into(),
                        customer.into(),
                        instance.clone().into(),
                        format!("{instance}{instance}").into(),
                        settings.clone().into(),
                        "v1:00000000:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".into(),
                        chrono::Utc::now().into(),
                    ];
                    let insert = Statement::from_sql_and_values(DbBackend::Sqlite, INSERT, values);
                    let done = async {
                        db.connection().query_one_raw(select).await?;
                        db.connection().execute_raw(insert).await
                    }
                    .await;
                    match done {
                        Ok(_) => latencies.push(begun.elapsed()),
                        Err(_) => errors += 1,
                    }
                }
                (latencies, errors)
            })
        })
        .collect();
    let (mut latencies, mut errors) = (Vec::new(), 0);
    for task in tasks {
        let (l, e) = task.await.unwrap();
        latencies.extend(l);
        errors += e;
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort();
    let percentile = |p: f64| {
        let index = ((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len().max(1)) - 1;
        latencies.get(index).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    println!(
        "RESULT rps={:.1} p50_ms={:.3} p99_ms={:.3} errors={errors} non2xx=0",
        latencies.len() as f64 / elapsed,
        percentile(0.5),
        percentile(0.99)
    );
}
