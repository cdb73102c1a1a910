//! The change feed's relay to NATS JetStream, on the backend `PBX_TEST_BACKEND` selects and the NATS server of
//! `PBX_TEST_NATS_URL` (skipped with a note without it; CI sets it): replicas take turns through the lease, each
//! event is published once, in order, to `pbx.events.<resellerId>.<type>` with its id as `Nats-Msg-Id`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

use std::time::Duration;

use async_nats::jetstream;
use chrono::Utc;
use futures_util::StreamExt;
use pbx_application::{CustomerRepository, NewEvent};
use pbx_domain::events::{Actor, Event, EventType};
use pbx_domain::{Customer, CustomerId, CustomerName, NewCustomer, ResellerId};
use pbx_infra::testing::{Backend, TestDatabase};
use pbx_infra::{Database, PoolSettings, SeaOrmCustomerRepository};
use sea_orm::{ConnectionTrait, Statement, TransactionTrait};
use uuid::Uuid;

const EVENTS: usize = 40;

async fn jetstream_context() -> Option<jetstream::Context> {
    let Ok(url) = std::env::var("PBX_TEST_NATS_URL") else {
        eprintln!("skipped: set PBX_TEST_NATS_URL (nats://127.0.0.1:4222, JetStream on) to run the NATS relay tests");
        return None;
    };
    Some(jetstream::new(async_nats::connect(url).await.unwrap()))
}

async fn database(test_db: &TestDatabase) -> Database {
    let db = Database::connect(test_db.url(), &PoolSettings::default()).await.unwrap();
    db.migrate().await.unwrap();
    db
}

/// `EVENTS` customers of a new reseller, each with its `customer.created`; their event ids, in order.
async fn changes(db: &Database, reseller: ResellerId) -> Vec<Uuid> {
    let customers = SeaOrmCustomerRepository::new(db.clone());
    let mut ids = Vec::new();
    for _ in 0..EVENTS {
        let customer = Customer {
            id: CustomerId::from_uuid(Uuid::now_v7()),
            reseller_id: reseller,
            date_created: Utc::now(),
            details: NewCustomer::named(CustomerName::parse("Acme").unwrap()),
            options: pbx_domain::CustomerOptions::default(),
        };
        let event = NewEvent {
            id: Uuid::now_v7(),
            event_type: EventType::CustomerCreated,
            occurred_at: Utc::now(),
            reseller_id: reseller,
            customer_id: customer.id,
            pbx_id: None,
            actor: Actor { reseller_id: reseller.as_uuid(), subject: None },
            changed: None,
            data: Some(serde_json::json!({"name": "Acme"})),
        };
        customers.insert(&customer, &event, None).await.unwrap();
        ids.push(event.id);
    }
    ids
}

/// Every message of the stream on `pbx.events.<reseller>.>`, with its message id.
async fn published(jetstream: &jetstream::Context, reseller: ResellerId) -> Vec<(String, Event)> {
    let stream = jetstream.get_stream(pbx_infra::nats::STREAM).await.unwrap();
    let consumer = stream
        .create_consumer(jetstream::consumer::pull::OrderedConfig {
            filter_subject: format!("pbx.events.{reseller}.>"),
            ..Default::default()
        })
        .await
        .unwrap();
    let mut messages = consumer.messages().await.unwrap();
    let mut seen = Vec::new();
    while let Ok(Some(message)) = tokio::time::timeout(Duration::from_secs(2), messages.next()).await {
        let message = message.unwrap();
        let id = message.headers.as_ref().and_then(|h| h.get("Nats-Msg-Id")).unwrap().to_string();
        assert_eq!(message.subject.as_str(), format!("pbx.events.{reseller}.customer.created"));
        seen.push((id, serde_json::from_slice(&message.payload).unwrap()));
    }
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_publish_each_event_once_in_order_taking_turns() {
    let Some(jetstream) = jetstream_context().await else { return };
    if Backend::from_env() == Backend::Sqlite {
        eprintln!(
            "skipped on SQLite: one process writes an SQLite file, so there is no other replica to take turns with"
        );
        return;
    }
    let test_db = TestDatabase::create().await.unwrap();
    let (one, two) = (database(&test_db).await, database(&test_db).await);
    let reseller = ResellerId::from_uuid(Uuid::now_v7());
    let written = changes(&one, reseller).await;
    // Prime the stream (created by the relay when absent).
    let _ = pbx_infra::nats::ensure_stream(&jetstream).await.unwrap();

    // While another replica holds the lease, this one publishes nothing.
    let connection = two.connection();
    let holder = connection.begin().await.unwrap();
    let lock = "SELECT position FROM pbx_event_positions WHERE name = 'nats' FOR UPDATE";
    holder.query_one_raw(Statement::from_string(connection.get_database_backend(), lock)).await.unwrap();
    assert_eq!(pbx_infra::nats::publish_batch(&jetstream, &one).await.unwrap(), 0, "published without the lease");
    holder.rollback().await.unwrap();

    // Both replicas relay at once until nothing is left: every event is published by exactly one of them.
    let relay = |db: Database, jetstream: jetstream::Context| async move {
        let mut total = 0;
        for _ in 0..50 {
            total += pbx_infra::nats::publish_batch(&jetstream, &db).await.unwrap();
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        total
    };
    let (a, b) = tokio::join!(
        tokio::spawn(relay(one.clone(), jetstream.clone())),
        tokio::spawn(relay(two.clone(), jetstream.clone()))
    );
    assert_eq!(a.unwrap() + b.unwrap(), EVENTS, "published more than once (or not at all)");
    let seen = published(&jetstream, reseller).await;
    let ids: Vec<Uuid> = seen.iter().map(|(id, _)| id.parse().unwrap()).collect();
    assert_eq!(ids, written, "once each, in order");
    assert!(seen.iter().all(|(id, event)| *id == event.id.to_string()), "Nats-Msg-Id is the event id");
}

#[tokio::test]
async fn a_batch_published_again_after_a_crash_is_dropped_by_its_message_id() {
    let Some(jetstream) = jetstream_context().await else { return };
    let test_db = TestDatabase::create().await.unwrap();
    let db = database(&test_db).await;
    let reseller = ResellerId::from_uuid(Uuid::now_v7());
    let written = changes(&db, reseller).await;
    assert_eq!(publish_all(&jetstream, &db).await, EVENTS);
    // A crash after publishing and before recording the position: the relay starts again from the old one.
    let backend = db.connection().get_database_backend();
    db.connection()
        .execute_raw(Statement::from_string(backend, "UPDATE pbx_event_positions SET position = 0 WHERE name = 'nats'"))
        .await
        .unwrap();
    assert_eq!(publish_all(&jetstream, &db).await, EVENTS, "published again");
    let ids: Vec<Uuid> = published(&jetstream, reseller).await.iter().map(|(id, _)| id.parse().unwrap()).collect();
    assert_eq!(ids, written, "JetStream kept one copy of each");
}

/// Publishes batches until `EVENTS` are out (or 2 s pass): on PostgreSQL a transaction still open elsewhere in the
/// cluster (another test's) holds the newest events back for a moment. A batch that fails is tried again, as the
/// relay does (nothing is recorded as published then); one that never succeeds leaves the count short.
async fn publish_all(jetstream: &jetstream::Context, db: &Database) -> usize {
    let mut total = 0;
    for _ in 0..200 {
        match pbx_infra::nats::publish_batch(jetstream, db).await {
            Ok(published) => total += published,
            Err(e) => eprintln!("a batch failed, tried again: {e:#}"),
        }
        if total >= EVENTS {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    total
}
