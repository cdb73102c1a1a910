//! The ports: what the use cases need from the outside world.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use pbx_domain::{Customer, CustomerId, PbxProfile, PbxType, ResellerId};
use uuid::Uuid;

/// A storage failure that is not a business outcome.
#[derive(Debug, thiserror::Error)]
pub enum RepositoryError {
    /// The database could not be reached in time (connection refused, pool exhausted). Worth retrying later.
    #[error("the database is unavailable")]
    Unavailable(#[source] anyhow::Error),
    /// Anything else.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// Why a profile could not be stored.
#[derive(Debug, thiserror::Error)]
pub enum InsertPbxError {
    /// A profile for the same PBX instance (type and instance id) is already stored, for any customer.
    #[error("the PBX instance is already attached to a customer")]
    InstanceAttached,
    /// A storage failure.
    #[error(transparent)]
    Repository(#[from] RepositoryError),
}

/// Where customers are kept.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait CustomerRepository: Send + Sync {
    /// The customer `id`, if it exists **and** belongs to `reseller`; another reseller's customer is `None`, exactly
    /// like a missing one.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached, [`RepositoryError::Unexpected`] for
    /// any other failure.
    async fn find(&self, reseller: ResellerId, id: CustomerId) -> Result<Option<Customer>, RepositoryError>;

    /// Stores a new customer.
    ///
    /// # Errors
    /// As [`CustomerRepository::find`].
    async fn insert(&self, customer: &Customer) -> Result<(), RepositoryError>;
}

/// Where PBX connection profiles are kept, secrets included.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait PbxRepository: Send + Sync {
    /// Stores a new profile, created at `created_at`.
    ///
    /// The one-customer-per-PBX-instance rule must be enforced by the store itself (a unique constraint on the
    /// PBX type and instance id), so that two concurrent inserts cannot both succeed.
    ///
    /// # Errors
    /// The adapter MUST return [`InsertPbxError::InstanceAttached`] when that constraint is violated, and
    /// [`InsertPbxError::Repository`] for any other failure.
    async fn insert(&self, profile: &PbxProfile, created_at: DateTime<Utc>) -> Result<(), InsertPbxError>;

    /// Whether a profile for the PBX instance `instance_id` of type `pbx_type` is stored, for any customer.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached, [`RepositoryError::Unexpected`] for
    /// any other failure.
    async fn instance_attached(&self, pbx_type: PbxType, instance_id: &str) -> Result<bool, RepositoryError>;
}

/// Whether the service can serve: its store answers and is up to date.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait Readiness: Send + Sync {
    /// Succeeds when the store answers and its schema is current.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the store does not answer, [`RepositoryError::Unexpected`] when it
    /// is not ready for another reason (migrations pending).
    async fn check(&self) -> Result<(), RepositoryError>;
}

/// The current time.
#[cfg_attr(test, mockall::automock)]
pub trait Clock: Send + Sync {
    /// Now, in UTC.
    fn now(&self) -> DateTime<Utc>;
}

/// Fresh identifiers.
#[cfg_attr(test, mockall::automock)]
pub trait IdGenerator: Send + Sync {
    /// A new, unique id; time-ordered (UUIDv7) so that storage order follows creation order.
    fn new_id(&self) -> Uuid;
}
