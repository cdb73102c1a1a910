//! Safe retries of creates: the rules of idempotency keys (the front end reads them from a request header), over a
//! store of answers shared by every replica.
//!
//! A key belongs to one reseller. The first request with it claims it; a repeat of the same request (same
//! fingerprint) within [`RETENTION`] gets the stored answer back, a different request with the key is refused, and a
//! repeat that arrives while the first is still being answered waits for it. Only the answer of a create that happened
//! is kept ([`IdempotencyKeys::keep`]). After a 503 the outcome is unknown: the front end leaves the claim to the
//! repeat at once ([`IdempotencyKeys::abandon`]); after any other answer it releases the key, so that a corrected
//! request may use it again. A claim whose request never finished (its process died) is taken over after [`LEASE`].
//!
//! A claim reserves the id of what the create makes ([`Reservation`]), kept with the key: a repeat that takes an
//! unfinished claim over creates under the same id, so if the first request did create before its process died, the
//! repeat finds that resource instead of creating a second one.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use pbx_domain::ResellerId;
use uuid::Uuid;

use crate::ports::{Clock, IdGenerator, RepositoryError};
use crate::use_case::opaque_debug;

/// How long an answer is replayed.
pub const RETENTION: TimeDelta = TimeDelta::hours(24);

/// How long a claim may stay unanswered before a repeat takes it over (longer than any request may run).
pub const LEASE: TimeDelta = TimeDelta::seconds(60);

/// The first pause between two attempts to leave a claim to its repeats while the database is unavailable; it
/// doubles up to [`ABANDON_RETRY_MAX`], so that a burst of 503s under overload does not turn into a stream of
/// retries.
pub const ABANDON_RETRY: std::time::Duration = std::time::Duration::from_millis(500);

/// The longest pause between two attempts to leave a claim.
pub const ABANDON_RETRY_MAX: std::time::Duration = std::time::Duration::from_secs(2);

/// The longest key accepted, in characters.
pub const MAX_KEY_LEN: usize = 255;

/// An answer kept for repeats: opaque here, written and read by the front end alone (over HTTP: the status, the
/// `Location` header and the body).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAnswer {
    /// The front end's code for the answer.
    pub code: u16,
    /// Where the created resource is, as the front end names it.
    pub location: Option<String>,
    /// The answer itself.
    pub body: Vec<u8>,
}

/// The id a create under a key gives what it makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reservation {
    /// The id, the same for every request that runs under the key.
    pub id: Uuid,
    /// Whether an earlier request under the key may have created with it already (this one took its claim over):
    /// the create must then look for it before creating.
    pub resumed: bool,
}

/// When a claim is made, and the instants its key's row is judged by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClaimTimes {
    /// The claim's instant.
    pub now: DateTime<Utc>,
    /// A row created before this counts as absent.
    pub expired_before: DateTime<Utc>,
    /// A pending row created before this is taken over.
    pub stale_before: DateTime<Utc>,
}

impl ClaimTimes {
    /// A claim at `now`: rows older than [`RETENTION`] are forgotten, claims older than [`LEASE`] taken over.
    #[must_use]
    pub fn at(now: DateTime<Utc>) -> Self {
        Self { now, expired_before: now - RETENTION, stale_before: now - LEASE }
    }
}

/// The outcome of claiming a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The key is this request's: create under the reservation, then complete or release the key.
    Claimed(Reservation),
    /// The same request was answered already: this is its answer.
    Replay(StoredAnswer),
    /// The key was used for a different request.
    Mismatch,
    /// The same request is being answered right now.
    InProgress,
}

/// Where answers are kept.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait IdempotencyStore: Send + Sync {
    /// Claims `key` of `reseller` for the request `fingerprint` at `times.now`, atomically across replicas,
    /// reserving `candidate` for what it creates. A row created before `times.expired_before` counts as absent; a
    /// pending row created before `times.stale_before` is taken over, with the id it reserved.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached, [`RepositoryError::Unexpected`] for
    /// any other failure.
    async fn claim(
        &self,
        reseller: ResellerId,
        key: &str,
        fingerprint: &str,
        times: ClaimTimes,
        candidate: Uuid,
    ) -> Result<Claim, RepositoryError>;

    /// Stores the answer of the claimed `key`.
    ///
    /// # Errors
    /// As [`IdempotencyStore::claim`].
    async fn complete(&self, reseller: ResellerId, key: &str, answer: &StoredAnswer) -> Result<(), RepositoryError>;

    /// Forgets the pending claim of `key`.
    ///
    /// # Errors
    /// As [`IdempotencyStore::claim`].
    async fn release(&self, reseller: ResellerId, key: &str) -> Result<(), RepositoryError>;

    /// Leaves the pending claim of `key` that reserved `reserved`, if it was made at `claimed_before` or earlier
    /// (not a repeat's takeover since), to the next repeat at once, with its reservation: its claim time set to
    /// `stale_at`, before the lease of any claim at the time.
    ///
    /// # Errors
    /// As [`IdempotencyStore::claim`].
    async fn abandon(
        &self,
        reseller: ResellerId,
        key: &str,
        reserved: Uuid,
        claimed_before: DateTime<Utc>,
        stale_at: DateTime<Utc>,
    ) -> Result<(), RepositoryError>;

    /// Deletes every key created before `created_before`; returns how many.
    ///
    /// # Errors
    /// As [`IdempotencyStore::claim`].
    async fn purge(&self, created_before: DateTime<Utc>) -> Result<u64, RepositoryError>;
}

/// Why a key is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a key must be 1 to {MAX_KEY_LEN} visible ASCII characters (no spaces)")]
pub struct InvalidKey;

/// A key as sent by a client, checked.
///
/// # Errors
/// [`InvalidKey`] when it is empty, too long, or holds anything but visible ASCII.
pub fn parse_key(text: &str) -> Result<&str, InvalidKey> {
    if text.is_empty() || text.len() > MAX_KEY_LEN || !text.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(InvalidKey);
    }
    Ok(text)
}

/// The rules over a store, a clock and the ids to reserve.
#[derive(Clone)]
pub struct IdempotencyKeys {
    store: Arc<dyn IdempotencyStore>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGenerator>,
}
opaque_debug!(IdempotencyKeys);

impl IdempotencyKeys {
    /// The rules over their ports.
    #[must_use]
    pub fn new(store: Arc<dyn IdempotencyStore>, clock: Arc<dyn Clock>, ids: Arc<dyn IdGenerator>) -> Self {
        Self { store, clock, ids }
    }

    /// A new id for a claim to reserve.
    #[must_use]
    pub fn candidate(&self) -> Uuid {
        self.ids.new_id()
    }

    /// Claims `key` for the request `fingerprint`, reserving `candidate` ([`IdempotencyKeys::candidate`]) if the
    /// key is new.
    ///
    /// # Errors
    /// Storage failures. When the database was unavailable the claim may still have been made: leave it
    /// ([`IdempotencyKeys::abandon`] with `candidate`).
    pub async fn claim(
        &self,
        reseller: ResellerId,
        key: &str,
        fingerprint: &str,
        candidate: Uuid,
    ) -> Result<Claim, RepositoryError> {
        self.store.claim(reseller, key, fingerprint, ClaimTimes::at(self.clock.now()), candidate).await
    }

    /// Keeps `answer` (that of a create that happened) for repeats under `key`.
    ///
    /// # Errors
    /// Storage failures.
    pub async fn keep(&self, reseller: ResellerId, key: &str, answer: &StoredAnswer) -> Result<(), RepositoryError> {
        self.store.complete(reseller, key, answer).await
    }

    /// Releases `key` after a request that could not be answered.
    ///
    /// # Errors
    /// Storage failures.
    pub async fn release(&self, reseller: ResellerId, key: &str) -> Result<(), RepositoryError> {
        self.store.release(reseller, key).await
    }

    /// Leaves `key`'s claim reserving `reserved` to the next repeat of its request, with that id, after a request
    /// whose outcome is unknown (the database failed or was cut off mid-create, or mid-claim: the create or the
    /// claim may have committed). A repeat then finds what was created under the reservation, or creates it;
    /// releasing the key instead would let it create a second resource, and keeping the claim as it is would hold
    /// repeats off for the lease. While the database is unavailable (a failover) it is tried again after
    /// [`ABANDON_RETRY`], then twice as long up to [`ABANDON_RETRY_MAX`], for the lease at most: repeats wait for
    /// the database, not for the lease. Only this request's claim is left, never a repeat's takeover since.
    ///
    /// # Errors
    /// A storage failure other than unavailability, or unavailability for the whole lease (the claim then waits
    /// out its lease).
    pub async fn abandon(&self, reseller: ResellerId, key: &str, reserved: Uuid) -> Result<(), RepositoryError> {
        let (claimed_before, mut pause) = (self.clock.now(), ABANDON_RETRY);
        loop {
            let stale_at = ClaimTimes::at(self.clock.now()).stale_before - TimeDelta::seconds(1);
            match self.store.abandon(reseller, key, reserved, claimed_before, stale_at).await {
                Err(RepositoryError::Unavailable(_)) if self.clock.now() - claimed_before < LEASE => {
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(ABANDON_RETRY_MAX);
                }
                done => return done,
            }
        }
    }

    /// Deletes the keys older than [`RETENTION`]; returns how many.
    ///
    /// # Errors
    /// Storage failures.
    pub async fn purge_expired(&self) -> Result<u64, RepositoryError> {
        self.store.purge(self.clock.now() - RETENTION).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::{MockClock, MockIdGenerator};

    #[test]
    fn keys_are_visible_ascii_up_to_255() {
        assert_eq!(parse_key("3f9c-4b1e_retry.1"), Ok("3f9c-4b1e_retry.1"));
        assert_eq!(parse_key(&"k".repeat(255)).map(str::len), Ok(255));
        for bad in ["", " ", "a b", "é", "a\tb", &"k".repeat(256)] {
            assert_eq!(parse_key(bad), Err(InvalidKey), "{bad:?}");
        }
    }

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + seconds, 0).unwrap_or_default()
    }

    fn keys(store: MockIdempotencyStore) -> IdempotencyKeys {
        let mut clock = MockClock::new();
        clock.expect_now().returning(|| at(0));
        let mut ids = MockIdGenerator::new();
        ids.expect_new_id().returning(|| Uuid::from_u128(7));
        IdempotencyKeys::new(Arc::new(store), Arc::new(clock), Arc::new(ids))
    }

    #[tokio::test]
    async fn a_claim_forgets_answers_after_a_day_and_takes_over_claims_after_a_minute() {
        let mut store = MockIdempotencyStore::new();
        store
            .expect_claim()
            .withf(|_, key, fingerprint, times, candidate| {
                let window = ClaimTimes { now: at(0), expired_before: at(-86_400), stale_before: at(-60) };
                (key, fingerprint, *times, *candidate) == ("k", "f", window, Uuid::from_u128(7))
            })
            .returning(|_, _, _, _, id| Ok(Claim::Claimed(Reservation { id, resumed: false })));
        let reseller = ResellerId::from_uuid(Uuid::nil());
        let claimed = Claim::Claimed(Reservation { id: Uuid::from_u128(7), resumed: false });
        let keys = keys(store);
        assert_eq!(keys.claim(reseller, "k", "f", keys.candidate()).await.ok(), Some(claimed), "a new id reserved");
    }

    fn unavailable() -> RepositoryError {
        RepositoryError::Unavailable(anyhow::anyhow!("no primary"))
    }

    #[tokio::test(start_paused = true)]
    async fn an_abandon_is_tried_again_while_the_database_is_unavailable_and_leaves_only_this_claim() {
        let mut store = MockIdempotencyStore::new();
        let mut attempts = 0;
        store
            .expect_abandon()
            .withf(|_, key, reserved, claimed_before, stale_at| {
                (key, *reserved, *claimed_before, *stale_at) == ("k", Uuid::from_u128(3), at(0), at(-61))
            })
            .times(3)
            .returning(move |_, _, _, _, _| {
                attempts += 1;
                if attempts < 3 { Err(unavailable()) } else { Ok(()) }
            });
        let reseller = ResellerId::from_uuid(Uuid::nil());
        let left = keys(store).abandon(reseller, "k", Uuid::from_u128(3)).await;
        assert!(left.is_ok(), "left once the database answers");
    }

    #[tokio::test(start_paused = true)]
    async fn an_abandon_gives_up_after_the_lease_and_at_once_on_another_failure() {
        let mut store = MockIdempotencyStore::new();
        store.expect_abandon().returning(|_, _, _, _, _| Err(unavailable()));
        let mut clock = MockClock::new();
        let mut calls = 0;
        clock.expect_now().returning(move || {
            calls += 1;
            at(calls * 10) // every attempt reads the clock twice: 20 s an attempt
        });
        let mut ids = MockIdGenerator::new();
        ids.expect_new_id().returning(Uuid::now_v7);
        let late = IdempotencyKeys::new(Arc::new(store), Arc::new(clock), Arc::new(ids));
        let reseller = ResellerId::from_uuid(Uuid::nil());
        let left = late.abandon(reseller, "k", Uuid::nil()).await;
        assert!(matches!(left, Err(RepositoryError::Unavailable(_))), "past the lease");

        let mut store = MockIdempotencyStore::new();
        let failed = |_: ResellerId, _: &str, _: Uuid, _: DateTime<Utc>, _: DateTime<Utc>| {
            Err(RepositoryError::Unexpected(anyhow::anyhow!("?")))
        };
        store.expect_abandon().times(1).returning(failed);
        let left = keys(store).abandon(reseller, "k", Uuid::nil()).await;
        assert!(matches!(left, Err(RepositoryError::Unexpected(_))), "given up at once");
    }
}
