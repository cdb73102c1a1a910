//! The ports: what the use cases need from the outside world.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use pbx_domain::{CountryCode, Customer, CustomerId, PbxId, PbxProfile, PbxType, ResellerId, Secret, Withheld};
use uuid::Uuid;

use crate::events::NewEvent;
use crate::idempotency::KeyRecord;

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

/// A stored value and its version, which every change bumps (the `ETag` of a resource).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Versioned<T> {
    /// The value.
    pub value: T,
    /// Its version: 1 when created.
    pub version: u64,
}

/// Which page of a list: `index` counts from 0, `size` is 1 to 1000.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// The page, from 0.
    pub index: u64,
    /// Items a page.
    pub size: u64,
}

impl Page {
    /// Rows to skip.
    #[must_use]
    pub const fn offset(&self) -> u64 {
        self.index.saturating_mul(self.size)
    }
}

/// What a list of profiles shows of each: no connection details, no secret; its connection status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PbxSummary {
    /// The profile's id.
    pub id: PbxId,
    /// Its customer.
    pub customer_id: CustomerId,
    /// Its name.
    pub name: String,
    /// Its PBX type.
    pub pbx_type: PbxType,
    /// Its country.
    pub country_code: CountryCode,
    /// Whether it is enabled.
    pub enabled: bool,
    /// Its kept connection status.
    pub connection: pbx_domain::connection::Status,
}

/// A profile as its get shows it: without secrets, with its version and its kept connection status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShownProfile {
    /// The profile and its version.
    pub profile: Versioned<PbxProfile<Withheld>>,
    /// Its kept connection status.
    pub connection: pbx_domain::connection::Status,
}

/// A profile read to be changed, its customer's country, its kept connection status. A change never reads the
/// stored secrets (`S` is [`Withheld`]): it keeps them or writes new ones. What an idempotent replay re-reads holds
/// them decrypted (`S` is [`pbx_domain::Secret`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileToChange<S = Withheld> {
    /// The profile and its version.
    pub current: Versioned<PbxProfile<S>>,
    /// Its customer's country (what a profile without its own takes).
    pub customer_country: CountryCode,
    /// Its kept connection status.
    pub connection: pbx_domain::connection::Status,
}

/// What a PBX instance is attached to: a profile, and its customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// The profile.
    pub pbx_id: PbxId,
    /// Its customer.
    pub customer_id: CustomerId,
    /// The customer's reseller.
    pub reseller_id: ResellerId,
}

/// Why a profile could not be stored.
#[derive(Debug, thiserror::Error)]
pub enum InsertPbxError {
    /// The customer is not the reseller's, or does not exist.
    #[error("the customer does not exist")]
    CustomerNotFound,
    /// A profile for the same PBX instance (type and instance id) is already stored, for any customer.
    #[error("the PBX instance is already attached to a customer")]
    InstanceAttached,
    /// The create's `Idempotency-Key` is taken by a committed create (see [`crate::idempotency`]); nothing written.
    #[error("the Idempotency-Key is taken")]
    KeyTaken,
    /// A storage failure.
    #[error(transparent)]
    Repository(#[from] RepositoryError),
}

/// Why a change to a stored value was not made.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The value is gone.
    #[error("not found")]
    NotFound,
    /// The value changed since it was read (its version is not the one expected).
    #[error("the stored version is not the expected one")]
    VersionMismatch,
    /// A uniqueness rule would break (a PBX instance attached twice).
    #[error("the PBX instance is already attached to a customer")]
    InstanceAttached,
    /// Other rows depend on it (a customer that still has profiles).
    #[error("other records still refer to it")]
    InUse,
    /// Its owner has as many as it may have (webhooks: `pbx_domain::webhook::MAX_PER_OWNER`).
    #[error("the owner has as many as it may have")]
    LimitReached,
    /// The create's `Idempotency-Key` is taken by a committed create (see [`crate::idempotency`]); nothing written.
    #[error("the Idempotency-Key is taken")]
    KeyTaken,
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
    async fn find(&self, reseller: ResellerId, id: CustomerId) -> Result<Option<Versioned<Customer>>, RepositoryError>;

    /// A page of `reseller`'s customers, oldest first, whose name or reference contains `filter` (any case).
    ///
    /// # Errors
    /// As [`CustomerRepository::find`].
    async fn list(
        &self,
        reseller: ResellerId,
        filter: Option<String>,
        page: Page,
    ) -> Result<Vec<Customer>, RepositoryError>;

    /// Stores a new customer, at version 1, and `event` and `key` (a create's `Idempotency-Key`) in the same
    /// transaction, unless its reseller is a deleted account (or one whose deletion commits first), or `key` is
    /// taken ([`WriteError::KeyTaken`]).
    ///
    /// # Errors
    /// [`WriteError::NotFound`] when the reseller is a deleted account (nothing is stored), otherwise as
    /// [`CustomerRepository::find`].
    async fn insert(&self, customer: &Customer, event: &NewEvent, key: Option<KeyRecord>) -> Result<(), WriteError>;

    /// The reseller (or account) of the customer `id`, whoever it is.
    ///
    /// # Errors
    /// As [`CustomerRepository::find`].
    async fn reseller_of(&self, id: CustomerId) -> Result<Option<ResellerId>, RepositoryError>;

    /// Replaces the stored customer if its version is still `expected_version`, and stores `event` in the same
    /// transaction; returns the new version.
    ///
    /// # Errors
    /// The adapter MUST return [`WriteError::NotFound`] when it is gone and [`WriteError::VersionMismatch`] when
    /// its version is another (no event is stored then).
    async fn update(&self, customer: &Customer, expected_version: u64, event: &NewEvent) -> Result<u64, WriteError>;

    /// Deletes the customer `id` of `reseller`, if its version is `expected_version` (when given), and stores
    /// `event` in the same transaction.
    ///
    /// # Errors
    /// [`WriteError::NotFound`], [`WriteError::VersionMismatch`], and [`WriteError::InUse`] while profiles refer
    /// to it (the adapter MUST rely on the database's foreign key, not on a count read beforehand).
    async fn delete(
        &self,
        reseller: ResellerId,
        id: CustomerId,
        expected_version: Option<u64>,
        event: &NewEvent,
    ) -> Result<(), WriteError>;
}

/// Where PBX connection profiles are kept, secrets included.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait PbxRepository: Send + Sync {
    /// Stores a new profile, created at `created_at`, at version 1, if its customer is `reseller`'s: the ownership
    /// check and the insert are one statement, one round trip. With `inherit_country`, the profile takes its
    /// customer's country code instead of `profile.country_code`. Returns the country code stored.
    ///
    /// The one-customer-per-PBX-instance rule must be enforced by the store itself (a unique constraint on the
    /// PBX type and instance id), so that two concurrent inserts cannot both succeed.
    ///
    /// `event` and `key` (a create's `Idempotency-Key`) are stored in the same transaction; with `inherit_country`,
    /// the adapter sets the event's data's `countryCode` to the country stored.
    ///
    /// # Errors
    /// [`InsertPbxError::KeyTaken`] when `key` is taken (a create under it committed; a create still committing
    /// is waited for); [`InsertPbxError::CustomerNotFound`] when no customer `profile.customer_id` is
    /// `reseller`'s (whether or not the instance is taken); the adapter MUST return
    /// [`InsertPbxError::InstanceAttached`] when the instance constraint is violated, and
    /// [`InsertPbxError::Repository`] for any other failure.
    async fn insert_for_reseller(
        &self,
        reseller: ResellerId,
        profile: &PbxProfile,
        inherit_country: bool,
        created_at: DateTime<Utc>,
        event: NewEvent,
        key: Option<KeyRecord>,
    ) -> Result<CountryCode, InsertPbxError>;

    /// Stores a new customer and its first profile, both at version 1, with `events` and `key`, in one
    /// transaction: nothing is stored unless all is, and nothing when the customer's reseller is a deleted account.
    ///
    /// # Errors
    /// [`InsertPbxError::KeyTaken`] as for [`PbxRepository::insert_for_reseller`], [`InsertPbxError::InstanceAttached`] when the profile's instance is taken,
    /// [`InsertPbxError::CustomerNotFound`] when the reseller is a deleted account (nothing is stored either way),
    /// [`InsertPbxError::Repository`] for any other failure.
    async fn insert_with_customer(
        &self,
        customer: &Customer,
        profile: &PbxProfile,
        created_at: DateTime<Utc>,
        events: &[NewEvent],
        key: Option<KeyRecord>,
    ) -> Result<(), InsertPbxError>;

    /// Whether a profile for the PBX instance `instance_id` of type `pbx_type` is stored, for any customer.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached, [`RepositoryError::Unexpected`] for
    /// any other failure.
    async fn instance_attached(&self, pbx_type: PbxType, instance_id: &str) -> Result<bool, RepositoryError>;

    /// The profile `id` of customer `customer_id`, secrets decrypted.
    ///
    /// # Errors
    /// As [`PbxRepository::instance_attached`].
    async fn find(&self, customer_id: CustomerId, id: PbxId) -> Result<Option<Versioned<PbxProfile>>, RepositoryError>;

    /// The profile `id` of customer `customer_id`, without its secrets (none is decrypted), with that customer's
    /// country and its connection status — if the customer is `reseller`'s (`None` otherwise, exactly like a
    /// missing profile): what a change reads, in one query.
    ///
    /// # Errors
    /// As [`PbxRepository::instance_attached`].
    async fn find_to_change(
        &self,
        reseller: ResellerId,
        customer_id: CustomerId,
        id: PbxId,
    ) -> Result<Option<ProfileToChange>, RepositoryError>;

    /// The same read with the profile's secrets decrypted: what a replayed create shows again.
    ///
    /// # Errors
    /// As [`PbxRepository::instance_attached`].
    async fn find_created(
        &self,
        reseller: ResellerId,
        customer_id: CustomerId,
        id: PbxId,
    ) -> Result<Option<ProfileToChange<Secret>>, RepositoryError>;

    /// The profile `id` of customer `customer_id`, if that customer is `reseller`'s, without its secrets (what a
    /// get shows): one read where [`CustomerRepository::find`] then [`PbxRepository::find`] would take two, and no
    /// secret decrypted.
    ///
    /// # Errors
    /// As [`PbxRepository::instance_attached`].
    async fn find_visible(
        &self,
        reseller: ResellerId,
        customer_id: CustomerId,
        id: PbxId,
    ) -> Result<Option<ShownProfile>, RepositoryError>;

    /// A page of the customer's profiles, oldest first.
    ///
    /// # Errors
    /// As [`PbxRepository::instance_attached`].
    async fn list(&self, customer_id: CustomerId, page: Page) -> Result<Vec<PbxSummary>, RepositoryError>;

    /// Changes the stored profile from `before` to `after` if its version is still `expected_version` — the fields
    /// that differ, and its secret only when `secret` is a new one (the stored one is kept otherwise, never read) —
    /// and stores `event` in the same transaction; returns the new version.
    ///
    /// # Errors
    /// The adapter MUST return [`WriteError::NotFound`] when it is gone, [`WriteError::VersionMismatch`] when
    /// its version is another, and [`WriteError::InstanceAttached`] on the instance's unique constraint (no event
    /// is stored then).
    async fn update(
        &self,
        before: &PbxProfile<Withheld>,
        after: &PbxProfile<Withheld>,
        secret: Option<Secret>,
        expected_version: u64,
        event: &NewEvent,
    ) -> Result<u64, WriteError>;

    /// Deletes the profile `id` of customer `customer_id`, if that customer is `reseller`'s and the profile's version
    /// is `expected_version` (when given), and stores `event` in the same transaction — one statement that checks
    /// the owner.
    ///
    /// # Errors
    /// [`WriteError::NotFound`] (another reseller's customer too) or [`WriteError::VersionMismatch`].
    async fn delete(
        &self,
        reseller: ResellerId,
        customer_id: CustomerId,
        id: PbxId,
        expected_version: Option<u64>,
        event: &NewEvent,
    ) -> Result<(), WriteError>;

    /// Who the PBX instance `instance_id` (any PBX type) is attached to, if anyone.
    ///
    /// # Errors
    /// As [`PbxRepository::instance_attached`].
    async fn find_instance(&self, instance_id: &str) -> Result<Option<Attachment>, RepositoryError>;
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
