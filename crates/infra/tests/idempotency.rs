//! The idempotency store on each backend (`PBX_TEST_BACKEND`): claims, replays, expiry, takeover, purge.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

use chrono::{DateTime, Utc};
use pbx_application::idempotency::{Claim, ClaimTimes, IdempotencyStore, Reservation, StoredAnswer};
use pbx_domain::ResellerId;
use pbx_infra::testing::TestDatabase;
use pbx_infra::{Database, PoolSettings, SeaOrmIdempotencyStore, SecretCipher};
use sea_orm::{ConnectionTrait, Statement};
use uuid::Uuid;

fn at(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000 + seconds, 0).unwrap()
}

/// The id a claim at `now` offers to reserve.
fn candidate(now: i64) -> Uuid {
    Uuid::from_u128(u128::from(now.unsigned_abs()) + 1)
}

/// A claim at `now` that got the key, reserving that claim's candidate.
fn claimed(now: i64) -> Claim {
    Claim::Claimed(Reservation { id: candidate(now), resumed: false })
}

/// Claims at `now` with the service's windows: a day of retention, a minute of lease.
async fn claim(store: &SeaOrmIdempotencyStore, reseller: ResellerId, key: &str, fp: &str, now: i64) -> Claim {
    store.claim(reseller, key, fp, ClaimTimes::at(at(now)), candidate(now)).await.unwrap()
}

#[tokio::test]
async fn claims_replays_expiry_takeover_and_purge() {
    let test_db = TestDatabase::create().await.unwrap();
    let db = Database::connect(test_db.url(), &PoolSettings::default()).await.unwrap();
    db.migrate().await.unwrap();
    let store = SeaOrmIdempotencyStore::new(db.clone(), SecretCipher::new(&[9; 32]).unwrap());
    let reseller = ResellerId::from_uuid(Uuid::now_v7());

    assert_eq!(claim(&store, reseller, "k1", "fp", 0).await, claimed(0));
    assert_eq!(claim(&store, reseller, "k1", "fp", 1).await, Claim::InProgress, "the first is still running");
    assert_eq!(claim(&store, reseller, "k1", "other", 1).await, Claim::Mismatch);
    let answer = StoredAnswer {
        code: 201,
        location: Some("https://api.example.com/x".into()),
        body: br#"{"apiKey":"TOP-SECRET"}"#.to_vec(),
    };
    store.complete(reseller, "k1", &answer).await.unwrap();
    assert_eq!(claim(&store, reseller, "k1", "fp", 2).await, Claim::Replay(answer.clone()));
    let stored = db
        .connection()
        .query_one_raw(Statement::from_string(db.backend(), "SELECT answer FROM idempotency_keys"))
        .await
        .unwrap()
        .unwrap()
        .try_get::<String>("", "answer")
        .unwrap();
    assert!(!stored.contains("TOP-SECRET"), "answers are encrypted at rest: {stored}");
    let other = ResellerId::from_uuid(Uuid::now_v7());
    assert_eq!(claim(&store, other, "k1", "fp", 2).await, claimed(2), "keys are per reseller");

    let day = 24 * 3600;
    assert_eq!(claim(&store, reseller, "k1", "fp", day + 1).await, claimed(day + 1), "a day later the key is new");

    assert_eq!(claim(&store, reseller, "k2", "fp", 0).await, claimed(0));
    assert_eq!(claim(&store, reseller, "k2", "fp", 59).await, Claim::InProgress);
    let resumed = Claim::Claimed(Reservation { id: candidate(0), resumed: true });
    assert_eq!(claim(&store, reseller, "k2", "fp", 61).await, resumed, "taken over, with the id reserved at first");
    assert_eq!(claim(&store, reseller, "k2", "fp", 62).await, Claim::InProgress, "by one repeat only");
    store.release(reseller, "k2").await.unwrap();
    assert_eq!(claim(&store, reseller, "k2", "other", 63).await, claimed(63), "a released key is free");

    // An outcome unknown (a 503): the claim goes to the next repeat at once, with its reservation; still the same
    // request's only.
    assert_eq!(claim(&store, reseller, "k3", "fp", 0).await, claimed(0));
    store.abandon(reseller, "k3", candidate(1), at(1), at(1 - 61)).await.unwrap();
    assert_eq!(claim(&store, reseller, "k3", "fp", 1).await, Claim::InProgress, "another reservation's leave: none");
    store.abandon(reseller, "k3", candidate(0), at(1), at(1 - 61)).await.unwrap();
    assert_eq!(claim(&store, reseller, "k3", "other", 2).await, Claim::Mismatch, "still the first request's key");
    let resumed = Claim::Claimed(Reservation { id: candidate(0), resumed: true });
    assert_eq!(claim(&store, reseller, "k3", "fp", 2).await, resumed, "taken over at once, with the id reserved");
    store.abandon(reseller, "k3", candidate(0), at(1), at(2 - 61)).await.unwrap();
    assert_eq!(claim(&store, reseller, "k3", "fp", 3).await, Claim::InProgress, "a late abandon leaves the takeover");
    store.complete(reseller, "k3", &answer).await.unwrap();
    store.abandon(reseller, "k3", candidate(0), at(4), at(-60)).await.unwrap();
    assert_eq!(claim(&store, reseller, "k3", "fp", 4).await, Claim::Replay(answer.clone()), "an answer stays kept");

    // Left: k1 of `other` (at 2), k1 of `reseller` (a day on), k2 (at 63), k3 (at 2).
    assert_eq!(store.purge(at(100)).await.unwrap(), 3);
    assert_eq!(store.purge(at(100)).await.unwrap(), 0);
    assert_eq!(claim(&store, reseller, "k1", "fp", day + 2).await, Claim::InProgress, "the newer claim stays");
}
