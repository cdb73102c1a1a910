//! Safe retries of creates: the rules of idempotency keys (the front end reads them from a request header and
//! fingerprints the request).
//!
//! A key belongs to one reseller. A create under a key writes the key's row — the request's fingerprint and the id
//! of what it makes — **in its own transaction**, beside what it makes and its events, under a unique (reseller,
//! key): so the key is taken exactly when the create commits. A second request with the key finds it taken (the
//! unique index makes it wait for a create still committing), and then:
//! - the same request (same fingerprint) within [`RETENTION`] gets what the first made, re-read by its id
//!   ([`Once::replayed`]); gone since, [`KeyError::Deleted`];
//! - a different request gets [`KeyError::Reused`].
//!
//! A create that fails (a 400, a 402, a 409, a database cut off mid-transaction) commits nothing, its key included:
//! the key stays free for a corrected or repeated request. There is nothing to free, repair or wait out.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use pbx_domain::ResellerId;
use uuid::Uuid;

use crate::ports::{Clock, RepositoryError};
use crate::use_case::opaque_debug;

/// How long a key stands for its create.
pub const RETENTION: TimeDelta = TimeDelta::hours(24);

/// The longest key accepted, in characters.
pub const MAX_KEY_LEN: usize = 255;

/// A request's key, as the front end read it, with the request's fingerprint (what makes two requests the same).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey {
    /// The key ([`parse_key`]).
    pub key: String,
    /// The request's fingerprint.
    pub fingerprint: String,
}

/// The key's row that a create writes with what it makes, in the same transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRecord {
    /// Whose key.
    pub reseller: ResellerId,
    /// The key.
    pub key: String,
    /// The request's fingerprint.
    pub fingerprint: String,
    /// The id of what the create makes.
    pub resource_id: Uuid,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// A key's row as kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptKey {
    /// The fingerprint of the request that took the key.
    pub fingerprint: String,
    /// The id of what it made.
    pub resource_id: Uuid,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// Why a key stops a create.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// The key was used with a different request within [`RETENTION`].
    #[error("the Idempotency-Key was used with a different request")]
    Reused,
    /// The key's create happened, and what it made was deleted since.
    #[error("what the create under this Idempotency-Key made was deleted since")]
    Deleted,
}

/// What a create's write did: made it, or found its key taken (nothing written).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Written<T> {
    /// Made, key written with it.
    Made(T),
    /// The key was taken by a committed create; nothing was written.
    KeyTaken,
}

/// A create's outcome: made by this request, or by an earlier one with the same key (re-read now).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Once<T> {
    /// What was made.
    pub value: T,
    /// Whether an earlier request with the same key made it.
    pub replayed: bool,
}

/// The error of a write that found its key taken though it was given none: a broken adapter.
#[must_use]
pub fn key_taken_unasked() -> RepositoryError {
    RepositoryError::Unexpected(anyhow::anyhow!("a write without an Idempotency-Key found its key taken"))
}

/// Where keys are kept (written by the creates themselves, in their transactions).
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait IdempotencyStore: Send + Sync {
    /// The row of `key` of `reseller`, if any.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached, [`RepositoryError::Unexpected`] for
    /// any other failure.
    async fn find(&self, reseller: ResellerId, key: &str) -> Result<Option<KeptKey>, RepositoryError>;

    /// Deletes the row of `key` if it is still the one created at `created_at` (an expired row, not yet purged).
    ///
    /// # Errors
    /// As [`IdempotencyStore::find`].
    async fn forget(&self, reseller: ResellerId, key: &str, created_at: DateTime<Utc>) -> Result<(), RepositoryError>;

    /// Deletes every key created before `created_before`; returns how many.
    ///
    /// # Errors
    /// As [`IdempotencyStore::find`].
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

/// The rules over a store and a clock.
#[derive(Clone)]
pub struct IdempotencyKeys {
    store: Arc<dyn IdempotencyStore>,
    clock: Arc<dyn Clock>,
}
opaque_debug!(IdempotencyKeys);

impl IdempotencyKeys {
    /// The rules over their ports.
    #[must_use]
    pub fn new(store: Arc<dyn IdempotencyStore>, clock: Arc<dyn Clock>) -> Self {
        Self { store, clock }
    }

    /// Creates once per key: `write` makes the resource `id`, writing the key's record with it (`None` without a
    /// key); when the key is taken, by the same request within [`RETENTION`], `find` re-reads what it made. A key
    /// whose row has expired (not yet purged) is forgotten and `write` runs again.
    ///
    /// # Errors
    /// `write`'s and `find`'s; [`KeyError`] (into `E`) for a key of another request or whose resource is gone.
    pub async fn create<T, E>(
        &self,
        reseller: ResellerId,
        key: Option<&IdempotencyKey>,
        id: Uuid,
        write: impl AsyncFn(Option<KeyRecord>) -> Result<Written<T>, E>,
        find: impl AsyncFnOnce(Uuid) -> Result<Option<T>, E>,
    ) -> Result<Once<T>, E>
    where
        E: From<KeyError> + From<RepositoryError>,
    {
        // Twice at most: a row found expired (or purged meanwhile) is forgotten and the create written once more.
        for _ in 0..2 {
            let record = key.map(|key| KeyRecord {
                reseller,
                key: key.key.clone(),
                fingerprint: key.fingerprint.clone(),
                resource_id: id,
                created_at: self.clock.now(),
            });
            match write(record).await? {
                Written::Made(value) => return Ok(Once { value, replayed: false }),
                Written::KeyTaken => {}
            }
            let Some(key) = key else { break };
            let Some(kept) = self.store.find(reseller, &key.key).await? else { continue };
            if kept.created_at < self.clock.now() - RETENTION {
                self.store.forget(reseller, &key.key, kept.created_at).await?;
                continue;
            }
            if kept.fingerprint != key.fingerprint {
                return Err(KeyError::Reused.into());
            }
            return match find(kept.resource_id).await? {
                Some(value) => Ok(Once { value, replayed: true }),
                None => Err(KeyError::Deleted.into()),
            };
        }
        Err(match key {
            Some(_) => RepositoryError::Unexpected(anyhow::anyhow!("an Idempotency-Key was taken, then gone, twice")),
            None => key_taken_unasked(),
        }
        .into())
    }

    /// Deletes the keys older than [`RETENTION`]; returns how many.
    ///
    /// # Errors
    /// Storage failures.
    pub async fn purge_expired(&self) -> Result<u64, RepositoryError> {
        self.store.purge(self.clock.now() - RETENTION).await
    }
}

/// Keys over `store`, the clock at a fixed instant: for the use cases' tests.
#[cfg(test)]
pub(crate) fn test_keys(store: MockIdempotencyStore) -> IdempotencyKeys {
    let mut clock = crate::ports::MockClock::new();
    clock.expect_now().return_const(DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default());
    IdempotencyKeys::new(Arc::new(store), Arc::new(clock))
}

/// A key of the fingerprint `fingerprint`, for the use cases' tests.
#[cfg(test)]
pub(crate) fn test_key(fingerprint: &str) -> IdempotencyKey {
    IdempotencyKey { key: "k".to_owned(), fingerprint: fingerprint.to_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    use super::{test_key as key, test_keys as keys};

    fn kept(fingerprint: &str, resource: u128, created_at: DateTime<Utc>) -> Option<KeptKey> {
        Some(KeptKey { fingerprint: fingerprint.to_owned(), resource_id: Uuid::from_u128(resource), created_at })
    }

    /// `keys.create` under `key` of a resource 9, whose write finds the key taken `taken` times; the records
    /// written, and what it found (`find` answers resource 7 alone).
    async fn create(
        keys: &IdempotencyKeys,
        key: Option<&IdempotencyKey>,
        taken: usize,
    ) -> (Vec<Option<KeyRecord>>, Result<Once<u128>, RepositoryError>) {
        let written = std::sync::Mutex::new(Vec::new());
        let outcome = keys
            .create(
                ResellerId::from_uuid(Uuid::nil()),
                key,
                Uuid::from_u128(9),
                async |record: Option<KeyRecord>| {
                    let mut written = written.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                    written.push(record);
                    Ok(if written.len() <= taken { Written::KeyTaken } else { Written::Made(9) })
                },
                async |id: Uuid| Ok((id == Uuid::from_u128(7)).then_some(7)),
            )
            .await;
        (written.into_inner().unwrap_or_default(), outcome)
    }

    impl From<KeyError> for RepositoryError {
        fn from(e: KeyError) -> Self {
            RepositoryError::Unexpected(anyhow::anyhow!("{e:?}"))
        }
    }

    #[tokio::test]
    async fn a_create_writes_its_key_with_it_and_without_a_key_writes_none() {
        let keys = keys(MockIdempotencyStore::new());
        let (written, outcome) = create(&keys, Some(&key("f")), 0).await;
        assert_eq!(outcome.ok(), Some(Once { value: 9, replayed: false }));
        let record = KeyRecord {
            reseller: ResellerId::from_uuid(Uuid::nil()),
            key: "k".to_owned(),
            fingerprint: "f".to_owned(),
            resource_id: Uuid::from_u128(9),
            created_at: at(0),
        };
        assert_eq!(written, [Some(record)]);
        let (written, outcome) = create(&keys, None, 0).await;
        assert_eq!((written, outcome.ok()), (vec![None], Some(Once { value: 9, replayed: false })));
    }

    #[tokio::test]
    async fn a_taken_key_replays_the_same_request_and_refuses_another_or_a_deleted_resource() {
        let mut store = MockIdempotencyStore::new();
        store.expect_find().times(1).returning(|_, _| Ok(kept("f", 7, at(-60))));
        let (written, outcome) = create(&keys(store), Some(&key("f")), 1).await;
        assert_eq!((written.len(), outcome.ok()), (1, Some(Once { value: 7, replayed: true })), "re-read by its id");

        let mut store = MockIdempotencyStore::new();
        store.expect_find().returning(|_, _| Ok(kept("f", 7, at(-60))));
        let (_, outcome) = create(&keys(store), Some(&key("other")), 1).await;
        assert_eq!(outcome.err().map(|e| e.to_string()), Some("Reused".to_owned()));

        let mut store = MockIdempotencyStore::new();
        store.expect_find().returning(|_, _| Ok(kept("f", 8, at(-60))));
        let (_, outcome) = create(&keys(store), Some(&key("f")), 1).await;
        assert_eq!(outcome.err().map(|e| e.to_string()), Some("Deleted".to_owned()));
    }

    #[tokio::test]
    async fn an_expired_or_vanished_key_is_written_again() {
        let mut store = MockIdempotencyStore::new();
        let expired = at(0) - RETENTION - TimeDelta::seconds(1);
        store.expect_find().times(1).returning(move |_, _| Ok(kept("other", 7, expired)));
        store
            .expect_forget()
            .withf(move |_, key, created_at| (key, *created_at) == ("k", expired))
            .times(1)
            .returning(|_, _, _| Ok(()));
        let (written, outcome) = create(&keys(store), Some(&key("f")), 1).await;
        assert_eq!((written.len(), outcome.ok()), (2, Some(Once { value: 9, replayed: false })));

        let mut store = MockIdempotencyStore::new();
        store.expect_find().returning(|_, _| Ok(None));
        let (written, outcome) = create(&keys(store), Some(&key("f")), 1).await;
        assert_eq!((written.len(), outcome.ok()), (2, Some(Once { value: 9, replayed: false })), "purged meanwhile");
        let mut store = MockIdempotencyStore::new();
        store.expect_find().returning(|_, _| Ok(None));
        let (written, outcome) = create(&keys(store), Some(&key("f")), 2).await;
        assert!(written.len() == 2 && outcome.is_err(), "not forever");
    }
}
