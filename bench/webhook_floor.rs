//! The floor of `make bench`'s webhook deliveries: the least program that does a webhook's work — reads the change
//! feed's events in order from PostgreSQL (below the horizon, as the service reads them), and for each one POSTs the
//! payload of §13 signed (Standard Webhooks, `pbx_domain`'s signature) to one receiver, one at a time, then records
//! its place (one `UPDATE`). No lease, no delivery log, no retry, no address check, no audience; the same HTTP
//! client (reqwest, kept-alive connections). When it has read everything it reads again after 1 ms.
//!
//! Usage: `webhook_floor <postgres-url> <receiver-url> <after-position>`; prints `webhook floor ready` once
//! connected, then runs until killed.

use std::time::Duration;

use pbx_domain::webhook::SigningSecret;
use sea_orm::sqlx::postgres::PgPoolOptions;
use sea_orm::sqlx::{self, Row};
use serde_json::{Value, json};

const READ: &str = "SELECT seq, id, event_type, occurred_at, customer_id, pbx_id, data FROM pbx_events \
                    WHERE seq > $1 AND seq < (SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint * 1048576) \
                    ORDER BY seq LIMIT 100";

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(url), Some(receiver), Some(after)) = (args.next(), args.next(), args.next()) else {
        eprintln!("usage: webhook_floor <postgres-url> <receiver-url> <after-position>");
        std::process::exit(2);
    };
    let mut place: i64 = after.parse()?;
    let pool = PgPoolOptions::new().max_connections(2).connect(&url).await?;
    sqlx::query("CREATE TABLE IF NOT EXISTS bench_floor_place (id int PRIMARY KEY, position bigint NOT NULL)")
        .execute(&pool)
        .await?;
    sqlx::query("INSERT INTO bench_floor_place VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET position = $1")
        .bind(place)
        .execute(&pool)
        .await?;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()?;
    let secret = SigningSecret::from_key(vec![7; 32]);
    let trigger = uuid::Uuid::now_v7().to_string();
    println!("webhook floor ready");
    loop {
        let rows = sqlx::query(READ).bind(place).fetch_all(&pool).await?;
        if rows.is_empty() {
            tokio::time::sleep(Duration::from_millis(1)).await;
            continue;
        }
        for row in rows {
            let (seq, id): (i64, uuid::Uuid) = (row.get("seq"), row.get("id"));
            let customer: uuid::Uuid = row.get("customer_id");
            let pbx: Option<uuid::Uuid> = row.get("pbx_id");
            let occurred: chrono::DateTime<chrono::Utc> = row.get("occurred_at");
            let data: Option<Value> = row.get("data");
            let mut payload = json!({
                "triggerID": trigger, "id": pbx.unwrap_or(customer), "type": row.get::<String, _>("event_type"),
                "eventId": id, "occurredAt": occurred, "customerId": customer, "data": data,
            });
            if let Some(pbx) = pbx {
                payload["pbxId"] = json!(pbx);
            }
            let body = serde_json::to_vec(&payload)?;
            let (event_id, timestamp) = (id.to_string(), chrono::Utc::now().timestamp());
            let signature = secret.sign(&event_id, timestamp, &body);
            let answer = client
                .post(&receiver)
                .header("content-type", "application/json")
                .header("webhook-id", &event_id)
                .header("webhook-timestamp", timestamp.to_string())
                .header("webhook-signature", signature)
                .body(body)
                .send()
                .await?;
            anyhow::ensure!(answer.status().is_success(), "the receiver answered {}", answer.status());
            sqlx::query("UPDATE bench_floor_place SET position = $1 WHERE id = 1").bind(seq).execute(&pool).await?;
            place = seq;
        }
    }
}
