//! The change feed's outbox on the backend `PBX_TEST_BACKEND` selects: events written with their change and only
//! then, read back in commit order under concurrent writers, purged by age.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use pbx_application::events::{Audience, EventLog, Read, Visibility};
use pbx_application::{CustomerRepository, NewEvent, PbxRepository, WriteError};
use pbx_domain::events::{Actor, Event, EventType};
use pbx_domain::teams::{MicrosoftTenantId, TeamsConnection};
use pbx_domain::{
    CountryCode, Customer, CustomerId, CustomerName, NewCustomer, PbxId, PbxProfile, ProfileName, ResellerId,
};
use pbx_infra::testing::TestDatabase;
use pbx_infra::{Database, PoolSettings, SeaOrmCustomerRepository, SeaOrmEventLog, SeaOrmPbxRepository, SecretCipher};
use uuid::Uuid;

struct Fixture {
    _test_db: TestDatabase,
    customers: SeaOrmCustomerRepository,
    profiles: SeaOrmPbxRepository,
    log: SeaOrmEventLog,
}

async fn fixture() -> Fixture {
    let test_db = TestDatabase::create().await.unwrap();
    let settings = PoolSettings { max_connections: 24, ..PoolSettings::default() };
    let db = Database::connect(test_db.url(), &settings).await.unwrap();
    db.migrate().await.unwrap();
    let cipher = SecretCipher::new(&[42; 32]).unwrap();
    Fixture {
        customers: SeaOrmCustomerRepository::new(db.clone()),
        profiles: SeaOrmPbxRepository::new(db.clone(), cipher),
        log: SeaOrmEventLog::new(db),
        _test_db: test_db,
    }
}

fn customer(reseller: ResellerId, country: &str) -> Customer {
    let mut details = NewCustomer::named(CustomerName::parse("Acme").unwrap());
    details.country_code = CountryCode::parse(country).unwrap();
    Customer {
        id: CustomerId::from_uuid(Uuid::now_v7()),
        reseller_id: reseller,
        date_created: Utc::now(),
        details,
        options: pbx_domain::CustomerOptions::default(),
    }
}

fn teams(customer: CustomerId) -> PbxProfile {
    let tenant = MicrosoftTenantId::parse(&Uuid::now_v7().to_string()).unwrap();
    PbxProfile::new(
        PbxId::from_uuid(Uuid::now_v7()),
        customer,
        ProfileName::parse("Teams").unwrap(),
        CountryCode::US,
        TeamsConnection { microsoft_tenant_id: tenant }.into(),
    )
}

fn event(event_type: EventType, reseller: ResellerId, customer: CustomerId, pbx: Option<PbxId>) -> NewEvent {
    NewEvent {
        id: Uuid::now_v7(),
        event_type,
        occurred_at: Utc::now(),
        reseller_id: reseller,
        customer_id: customer,
        pbx_id: pbx,
        actor: Actor { reseller_id: reseller.as_uuid(), subject: Some("test".to_owned()) },
        changed: None,
        data: Some(serde_json::json!({"countryCode": "US", "enabled": false})),
    }
}

/// A read once nothing is held back (on PostgreSQL, other tests' transactions on the cluster hold the horizon).
async fn settled(log: &SeaOrmEventLog, after: Option<u64>, limit: u64, audience: &Audience) -> Read {
    loop {
        match log.read(after, limit, audience).await.unwrap() {
            Read::HeldBack(_) => tokio::time::sleep(Duration::from_millis(5)).await,
            read => return read,
        }
    }
}

async fn everything(log: &SeaOrmEventLog) -> Vec<Event> {
    match settled(log, None, 1000, &Audience::All).await {
        Read::Events(events) => events,
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_change_records_its_event_and_a_refused_change_records_none() {
    let f = fixture().await;
    let reseller = ResellerId::from_uuid(Uuid::now_v7());
    let owner = customer(reseller, "FR");
    f.customers.insert(&owner, &event(EventType::CustomerCreated, reseller, owner.id, None), None).await.unwrap();
    // A profile without a country of its own takes its customer's: the event shows the country stored.
    let profile = teams(owner.id);
    let created = event(EventType::PbxCreated, reseller, owner.id, Some(profile.id));
    f.profiles.insert_for_reseller(reseller, &profile, true, Utc::now(), created, None).await.unwrap();
    // Refused changes: a stale version, a foreign reseller's customer, a customer still in use.
    let stale = f.customers.update(&owner, 7, &event(EventType::CustomerUpdated, reseller, owner.id, None)).await;
    assert!(matches!(stale, Err(WriteError::VersionMismatch)), "{stale:?}");
    let stranger = customer(ResellerId::from_uuid(Uuid::now_v7()), "US");
    let elsewhere = teams(owner.id);
    let created = event(EventType::PbxCreated, stranger.reseller_id, owner.id, None);
    let foreign =
        f.profiles.insert_for_reseller(stranger.reseller_id, &elsewhere, true, Utc::now(), created, None).await;
    assert!(foreign.is_err());
    let deleted = event(EventType::CustomerDeleted, reseller, owner.id, None);
    assert!(matches!(f.customers.delete(reseller, owner.id, None, &deleted).await, Err(WriteError::InUse)));
    f.profiles
        .delete(
            reseller,
            owner.id,
            profile.id,
            Some(1),
            &event(EventType::PbxDeleted, reseller, owner.id, Some(profile.id)),
        )
        .await
        .unwrap();

    let events = everything(&f.log).await;
    let types: Vec<EventType> = events.iter().map(|e| e.event_type).collect();
    assert_eq!(types, [EventType::CustomerCreated, EventType::PbxCreated, EventType::PbxDeleted]);
    assert_eq!(events[1].data.as_ref().unwrap()["countryCode"], "FR", "the country stored");
    assert_eq!(events[1].pbx_id, Some(profile.id.as_uuid()));
    assert_eq!(events[1].actor.subject.as_deref(), Some("test"));
    let cursors: Vec<u64> = events.iter().map(|e| e.cursor.parse().unwrap()).collect();
    assert!(cursors.windows(2).all(|w| w[0] < w[1]), "{cursors:?}");
}

#[tokio::test]
async fn a_read_of_heads_is_the_read_with_data_narrowed_to_the_pbx_type() {
    let f = fixture().await;
    let reseller = ResellerId::from_uuid(Uuid::now_v7());
    let owner = customer(reseller, "FR");
    let mut created = event(EventType::PbxCreated, reseller, owner.id, Some(PbxId::from_uuid(Uuid::now_v7())));
    created.data = Some(serde_json::json!({"_type": "KazooPbxConnectionProfile", "name": "Big", "apiKey": "x"}));
    created.changed = Some(vec!["name".to_owned()]);
    f.log.append(&[event(EventType::CustomerCreated, reseller, owner.id, None), created]).await.unwrap();

    let whole = everything(&f.log).await;
    let heads = loop {
        match f.log.read_heads(None, 1000, &Audience::All).await.unwrap() {
            Read::HeldBack(_) => tokio::time::sleep(Duration::from_millis(5)).await,
            Read::Events(events) => break events,
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(heads.len(), 2);
    assert_eq!(heads[0].data, Some(serde_json::json!({"_type": null})), "a customer's event has no PBX type");
    assert_eq!(heads[1].data, Some(serde_json::json!({"_type": "KazooPbxConnectionProfile"})));
    for (head, whole) in heads.into_iter().zip(whole) {
        assert_eq!(Event { data: whole.data.clone(), ..head }, whole, "all but the data as a whole read gives it");
    }
}

#[tokio::test]
async fn a_tenant_reads_its_own_events_and_a_collector_every_one() {
    let f = fixture().await;
    let (mine, theirs) = (ResellerId::from_uuid(Uuid::now_v7()), ResellerId::from_uuid(Uuid::now_v7()));
    for reseller in [mine, theirs, mine] {
        let c = customer(reseller, "US");
        f.customers.insert(&c, &event(EventType::CustomerCreated, reseller, c.id, None), None).await.unwrap();
    }
    let audience = f.log.audience(Visibility::Reseller(mine)).await.unwrap();
    assert_eq!(audience, Audience::Resellers(vec![mine]), "no account under it");
    let Read::Events(own) = settled(&f.log, None, 10, &audience).await else { panic!() };
    assert_eq!(own.len(), 2);
    assert!(own.iter().all(|e| e.reseller_id == mine.as_uuid()));
    assert_eq!(everything(&f.log).await.len(), 3);
    let Read::Events(after) = settled(&f.log, Some(own[0].cursor.parse().unwrap()), 10, &audience).await else {
        panic!()
    };
    assert_eq!(after, own[1..]);
}

#[tokio::test]
async fn purged_events_make_an_older_cursor_gone_and_the_feed_starts_after_them() {
    let f = fixture().await;
    let reseller = ResellerId::from_uuid(Uuid::now_v7());
    let old: DateTime<Utc> = Utc::now() - chrono::Duration::days(8);
    for at in [old, old, Utc::now()] {
        let c = customer(reseller, "US");
        let mut e = event(EventType::CustomerCreated, reseller, c.id, None);
        e.occurred_at = at;
        f.customers.insert(&c, &e, None).await.unwrap();
    }
    let all = everything(&f.log).await;
    assert_eq!(f.log.purge(Utc::now() - chrono::Duration::days(7)).await.unwrap(), 2);
    assert_eq!(f.log.purge(Utc::now() - chrono::Duration::days(7)).await.unwrap(), 0, "purging again is harmless");
    assert_eq!(everything(&f.log).await, all[2..]);
    let first = all[0].cursor.parse().unwrap();
    assert_eq!(f.log.read(Some(first), 10, &Audience::All).await.unwrap(), Read::Gone);
    let last_purged = all[1].cursor.parse().unwrap();
    assert_eq!(settled(&f.log, Some(last_purged), 10, &Audience::All).await, Read::Events(all[2..].to_vec()));
    assert_eq!(f.log.kept_from().await.unwrap(), last_purged, "a reader without a cursor starts after the purge");
    let newest: u64 = all[2].cursor.parse().unwrap();
    assert_eq!(settled(&f.log, Some(newest), 10, &Audience::All).await, Read::Events(Vec::new()));
    assert_eq!(settled(&f.log, Some(newest + 1), 10, &Audience::All).await, Read::Ahead, "never handed out");
}

#[tokio::test]
async fn with_every_event_purged_the_last_purged_position_is_still_a_cursor_and_the_next_one_is_not() {
    let f = fixture().await;
    let reseller = ResellerId::from_uuid(Uuid::now_v7());
    let c = customer(reseller, "US");
    let mut e = event(EventType::CustomerCreated, reseller, c.id, None);
    e.occurred_at = Utc::now() - chrono::Duration::days(8);
    f.customers.insert(&c, &e, None).await.unwrap();
    assert_eq!(f.log.purge(Utc::now() - chrono::Duration::days(7)).await.unwrap(), 1);
    let kept_from = f.log.kept_from().await.unwrap();
    assert!(kept_from > 0);
    assert_eq!(settled(&f.log, Some(kept_from), 10, &Audience::All).await, Read::Events(Vec::new()));
    assert_eq!(settled(&f.log, Some(kept_from + 1), 10, &Audience::All).await, Read::Ahead);
}

/// Reads the whole feed in pages of `limit` without pause until `done` and nothing is left or held back: the events
/// in the order read, each read once, at increasing cursors.
async fn follow(f: Arc<Fixture>, done: Arc<AtomicBool>, limit: u64) -> Vec<Uuid> {
    let (mut cursor, mut seen, mut order) = (None::<u64>, HashSet::new(), Vec::new());
    loop {
        let finished = done.load(Ordering::SeqCst);
        let (page, held_back) = match f.log.read(cursor, limit, &Audience::All).await.unwrap() {
            Read::Events(page) => (page, false),
            Read::HeldBack(page) => (page, true),
            other @ (Read::Gone | Read::Ahead) => panic!("{other:?}"),
        };
        for e in &page {
            let at: u64 = e.cursor.parse().unwrap();
            assert!(cursor.is_none_or(|c| at > c), "cursor {at} after {cursor:?}");
            cursor = Some(at);
            assert!(seen.insert(e.id), "event {} read twice", e.id);
            order.push(e.id);
        }
        if finished && page.is_empty() && !held_back {
            return order;
        }
    }
}

/// Many writers commit concurrently (customer creates, profile creates through group commit, updates) while a reader
/// polls without pause: every event is read exactly once, in increasing cursors, and none is skipped — the check
/// that fails when a cursor is handed out past an event not yet committed.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writers_and_a_polling_reader_see_every_event_once_in_order() {
    const WRITERS: usize = 16;
    const ROUNDS: usize = 25;
    let f = Arc::new(fixture().await);
    let done = Arc::new(AtomicBool::new(false));
    let reader = tokio::spawn(follow(Arc::clone(&f), Arc::clone(&done), 37));
    let mut writers = tokio::task::JoinSet::new();
    for _ in 0..WRITERS {
        let f = Arc::clone(&f);
        writers.spawn(async move {
            let reseller = ResellerId::from_uuid(Uuid::now_v7());
            let mut written = Vec::new();
            for _ in 0..ROUNDS {
                let mut c = customer(reseller, "DE");
                let created = event(EventType::CustomerCreated, reseller, c.id, None);
                f.customers.insert(&c, &created, None).await.unwrap();
                written.push(created.id);
                let profile = teams(c.id);
                let e = event(EventType::PbxCreated, reseller, c.id, Some(profile.id));
                let id = e.id;
                f.profiles.insert_for_reseller(reseller, &profile, true, Utc::now(), e, None).await.unwrap();
                written.push(id);
                c.details.name = CustomerName::parse("Acme SA").unwrap();
                let updated = event(EventType::CustomerUpdated, reseller, c.id, None);
                f.customers.update(&c, 1, &updated).await.unwrap();
                written.push(updated.id);
            }
            written
        });
    }
    let mut written = HashSet::new();
    while let Some(ids) = writers.join_next().await {
        written.extend(ids.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    done.store(true, Ordering::SeqCst);
    let read = reader.await.unwrap();
    assert_eq!(read.len(), WRITERS * ROUNDS * 3);
    let read: HashSet<Uuid> = read.into_iter().collect();
    assert_eq!(read, written, "the reader skipped events");
}

/// Many small event-only transactions committing at once while two readers read without pause: neither reader passes
/// an event — the race is in the instant a commit becomes visible (on MariaDB a read view is not taken at one
/// instant: a later commit can be in it and an earlier one not), so it is made as frequent as possible here.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn commits_racing_readers_without_pause_are_never_passed() {
    const WRITERS: usize = 20;
    const ROUNDS: usize = 60;
    let f = Arc::new(fixture().await);
    let done = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..2).map(|_| tokio::spawn(follow(Arc::clone(&f), Arc::clone(&done), 500))).collect();
    let mut writers = tokio::task::JoinSet::new();
    for _ in 0..WRITERS {
        let f = Arc::clone(&f);
        writers.spawn(async move {
            let (reseller, customer) = (ResellerId::from_uuid(Uuid::now_v7()), CustomerId::from_uuid(Uuid::now_v7()));
            let mut written = Vec::new();
            for _ in 0..ROUNDS {
                let e = event(EventType::CustomerUpdated, reseller, customer, None);
                written.push(e.id);
                f.log.append(&[e]).await.unwrap();
            }
            written
        });
    }
    let mut written = HashSet::new();
    while let Some(ids) = writers.join_next().await {
        written.extend(ids.unwrap());
    }
    done.store(true, Ordering::SeqCst);
    for reader in readers {
        let seen: HashSet<Uuid> = reader.await.unwrap().into_iter().collect();
        let passed = written.difference(&seen).count();
        assert_eq!(passed, 0, "a reader passed {passed} of {} events", written.len());
    }
}

/// Events stored before migration 8 (numbered by the counter) stay readable, a cursor handed out then reads on,
/// and every event written after sorts after them — on PostgreSQL, where numbering moved to transaction ids, and
/// elsewhere, where the counter stays.
#[tokio::test]
async fn events_stored_before_the_transaction_numbering_and_their_cursors_still_read() {
    use sea_orm::{ConnectionTrait, Statement, Value};
    use sea_orm_migration::MigratorTrait;
    let test_db = TestDatabase::create().await.unwrap();
    let db = Database::connect(test_db.url(), &PoolSettings::default()).await.unwrap();
    pbx_infra::migration::Migrator::up(db.connection(), Some(7)).await.unwrap();
    let backend = db.backend();
    let reseller = ResellerId::from_uuid(Uuid::now_v7());
    let mut old = Vec::new();
    for seq in 1..=3_i64 {
        let id = Uuid::now_v7();
        let p = |n: usize| if backend == sea_orm::DbBackend::Postgres { format!("${n}") } else { "?".to_owned() };
        let sql = format!(
            "INSERT INTO pbx_events (seq, id, event_type, occurred_at, reseller_id, customer_id, actor_tenant_id) \
             VALUES ({}, {}, 'customer.created', {}, {}, {}, {})",
            p(1),
            p(2),
            p(3),
            p(4),
            p(5),
            p(6)
        );
        let values: [Value; 6] = [
            seq.into(),
            id.into(),
            Utc::now().into(),
            reseller.as_uuid().into(),
            Uuid::now_v7().into(),
            reseller.as_uuid().into(),
        ];
        db.connection().execute_raw(Statement::from_sql_and_values(backend, sql, values)).await.unwrap();
        old.push(id);
    }
    let counter = "UPDATE pbx_event_positions SET position = 3 WHERE name = 'sequence'";
    db.connection().execute_raw(Statement::from_string(backend, counter)).await.unwrap();
    db.migrate().await.unwrap();

    let customers = SeaOrmCustomerRepository::new(db.clone());
    let log = SeaOrmEventLog::new(db.clone());
    let c = customer(reseller, "US");
    let created = event(EventType::CustomerCreated, reseller, c.id, None);
    customers.insert(&c, &created, None).await.unwrap();
    let Read::Events(read) = settled(&log, Some(2), 10, &Audience::All).await else { panic!("gone") };
    let ids: Vec<Uuid> = read.iter().map(|e| e.id).collect();
    assert_eq!(ids, [old[2], created.id], "the cursor handed out before reads on, the new event after the old");
    assert!(read[1].cursor.parse::<u64>().unwrap() > 3);
    let everything: Vec<Uuid> = everything(&log).await.iter().map(|e| e.id).collect();
    assert_eq!(everything, [old[0], old[1], old[2], created.id]);
}
