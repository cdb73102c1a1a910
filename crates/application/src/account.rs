//! The enterprise tier's accounts: a tenant creates reseller tenants (accounts) and manages them; it and each account
//! may then act as the account on every customer and profile route.

use std::sync::Arc;

use async_trait::async_trait;
use pbx_domain::{Account, AccountDetails, CustomerId, PbxId, PbxType, ResellerId};

use crate::idempotency::{IdempotencyKey, IdempotencyKeys, KeyError, KeyRecord, Once, Written};
use crate::ports::{Clock, IdGenerator, Page, RepositoryError, Versioned, WriteError};
use crate::use_case::opaque_debug;

/// An account's figures (`GET /accounts/{id}/metrics`): counts over all its customers and profiles, and a page of
/// its customers with their profiles (no connection detail, no secret).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AccountMetrics {
    /// Its customers.
    pub customers: u64,
    /// Those enabled.
    pub enabled_customers: u64,
    /// Its profiles, by type and whether enabled: (type, enabled, count), each pair once.
    pub profiles: Vec<(PbxType, bool, u64)>,
    /// A page of its customers, oldest first, each with its profiles.
    pub items: Vec<CustomerProfiles>,
}

/// A customer of an account and its profiles, in the metrics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerProfiles {
    /// The customer.
    pub customer_id: CustomerId,
    /// Its name.
    pub name: String,
    /// Whether it is enabled.
    pub enabled: bool,
    /// Its profiles, oldest first.
    pub profiles: Vec<ProfileFigures>,
}

/// A profile in the metrics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileFigures {
    /// The profile.
    pub id: PbxId,
    /// Its type.
    pub pbx_type: PbxType,
    /// The PBX instance it reaches.
    pub instance_id: String,
    /// Its name.
    pub name: String,
    /// Whether it is enabled.
    pub enabled: bool,
    /// Kazoo: whether sub-accounts are monitored; `None` for other types.
    pub monitor_sub_accounts: Option<bool>,
}

/// Where accounts are kept.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait AccountRepository: Send + Sync {
    /// The account `id`, whoever its parent (to decide who may act as it).
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached, [`RepositoryError::Unexpected`] for
    /// any other failure.
    async fn find(&self, id: ResellerId) -> Result<Option<Versioned<Account>>, RepositoryError>;

    /// A page of `parent`'s accounts, oldest first, whose name or reference contains `filter` (any case).
    ///
    /// # Errors
    /// As [`AccountRepository::find`].
    async fn list(
        &self,
        parent: ResellerId,
        filter: Option<String>,
        page: Page,
    ) -> Result<Vec<Account>, RepositoryError>;

    /// Stores a new account, at version 1, and `key` (a create's `Idempotency-Key`) in the same transaction, unless
    /// its parent is a deleted account (or one whose deletion commits first).
    ///
    /// # Errors
    /// [`WriteError::KeyTaken`] when `key` is taken, [`WriteError::NotFound`] when the parent is a deleted account,
    /// otherwise as [`AccountRepository::find`].
    async fn insert(&self, account: &Account, key: Option<KeyRecord>) -> Result<(), WriteError>;

    /// Replaces the stored account if its version is still `expected_version`; returns the new version.
    ///
    /// # Errors
    /// [`WriteError::NotFound`] when it is gone, [`WriteError::VersionMismatch`] when its version is another.
    async fn update(&self, account: &Account, expected_version: u64) -> Result<u64, WriteError>;

    /// Deletes `parent`'s account `id`, if its version is `expected_version` (when given) and neither a customer
    /// nor an account belongs to it; a customer or an account being created under it meanwhile either commits first
    /// (and the delete is refused) or is refused itself.
    ///
    /// # Errors
    /// [`WriteError::NotFound`], [`WriteError::VersionMismatch`], and [`WriteError::InUse`] while it has customers
    /// or accounts.
    async fn delete(&self, parent: ResellerId, id: ResellerId, expected_version: Option<u64>)
    -> Result<(), WriteError>;

    /// The figures of the account `id` (the reseller of its customers), with the page `page` of its customers when
    /// given (none read otherwise).
    ///
    /// # Errors
    /// As [`AccountRepository::find`].
    async fn metrics(&self, id: ResellerId, page: Option<Page>) -> Result<AccountMetrics, RepositoryError>;
}

/// Why an account operation did not happen.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// No such account for the caller (missing, deleted, or another tenant's: all alike).
    #[error("not found")]
    NotFound,
    /// The account changed since the version the caller gave.
    #[error("the account has changed")]
    PreconditionFailed,
    /// The account still has customers or accounts of its own.
    #[error("the account still has customers or accounts")]
    NotEmpty,
    /// The create's `Idempotency-Key` stops it.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// The store failed: unavailable (a 503 to come back from), or unexpectedly.
    #[error(transparent)]
    Storage(#[from] RepositoryError),
}

impl From<WriteError> for AccountError {
    fn from(error: WriteError) -> Self {
        match error {
            WriteError::NotFound | WriteError::InstanceAttached => Self::NotFound,
            WriteError::VersionMismatch => Self::PreconditionFailed,
            WriteError::InUse => Self::NotEmpty,
            WriteError::LimitReached => {
                Self::Storage(RepositoryError::Unexpected(anyhow::anyhow!("accounts have no limit in number")))
            }
            WriteError::KeyTaken => Self::Storage(crate::idempotency::key_taken_unasked()),
            WriteError::Repository(e) => Self::Storage(e),
        }
    }
}

/// The account use cases: create, read, change and delete a tenant's accounts, and decide who acts as one.
#[derive(Clone)]
pub struct Accounts {
    accounts: Arc<dyn AccountRepository>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGenerator>,
    keys: IdempotencyKeys,
}
opaque_debug!(Accounts);

impl Accounts {
    /// The use cases over their ports.
    #[must_use]
    pub fn new(
        accounts: Arc<dyn AccountRepository>,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdGenerator>,
        keys: IdempotencyKeys,
    ) -> Self {
        Self { accounts, clock, ids, keys }
    }

    /// Creates an account under `parent`, once per `key` (see [`IdempotencyKeys::create`]).
    ///
    /// # Errors
    /// [`AccountError::NotFound`] when `parent` is a deleted account; [`AccountError::Key`]; storage failures.
    #[tracing::instrument(name = "create_account", skip(self, details, key))]
    pub async fn create(
        &self,
        parent: ResellerId,
        details: AccountDetails,
        key: Option<&IdempotencyKey>,
    ) -> Result<Once<Versioned<Account>>, AccountError> {
        let account =
            Account { id: ResellerId::from_uuid(self.ids.new_id()), parent, date_created: self.clock.now(), details };
        let write = async |key: Option<_>| match self.accounts.insert(&account, key).await {
            Ok(()) => {
                tracing::info!(account_id = %account.id, "account created");
                Ok(Written::Made(Versioned { value: account.clone(), version: 1 }))
            }
            Err(WriteError::KeyTaken) => Ok(Written::KeyTaken),
            Err(e) => Err(AccountError::from(e)),
        };
        let find = async |id| {
            let found = self.accounts.find(ResellerId::from_uuid(id)).await?;
            Ok(found.filter(|a| a.value.parent == parent))
        };
        self.keys.create(parent, key, account.id.as_uuid(), write, find).await
    }

    /// `parent`'s account `id`.
    ///
    /// # Errors
    /// [`AccountError::NotFound`] when it is missing or not `parent`'s.
    pub async fn get(&self, parent: ResellerId, id: ResellerId) -> Result<Versioned<Account>, AccountError> {
        self.accounts.find(id).await?.filter(|a| a.value.parent == parent).ok_or(AccountError::NotFound)
    }

    /// A page of `parent`'s accounts, oldest first, whose name or reference contains `filter`.
    ///
    /// # Errors
    /// Storage failures only.
    pub async fn list(
        &self,
        parent: ResellerId,
        filter: Option<String>,
        page: Page,
    ) -> Result<Vec<Account>, AccountError> {
        Ok(self.accounts.list(parent, filter, page).await?)
    }

    /// `parent`'s account to change; `if_match` is the version the caller last saw, when it gave one.
    ///
    /// # Errors
    /// [`AccountError::NotFound`], [`AccountError::PreconditionFailed`], or a storage failure.
    pub async fn load(
        &self,
        parent: ResellerId,
        id: ResellerId,
        if_match: Option<u64>,
    ) -> Result<Versioned<Account>, AccountError> {
        let current = self.get(parent, id).await?;
        if if_match.is_some_and(|v| v != current.version) {
            return Err(AccountError::PreconditionFailed);
        }
        Ok(current)
    }

    /// Stores `details` over `current`, if nothing changed the account since it was loaded.
    ///
    /// # Errors
    /// See [`AccountError`].
    #[tracing::instrument(name = "save_account", skip_all, fields(account_id = %current.value.id))]
    pub async fn save(
        &self,
        current: Versioned<Account>,
        details: AccountDetails,
    ) -> Result<Versioned<Account>, AccountError> {
        let patched = Account { details, ..current.value };
        let version = self.accounts.update(&patched, current.version).await?;
        Ok(Versioned { value: patched, version })
    }

    /// Deletes `parent`'s account `id`, if its version is `if_match` (when given) and it has no customer or account
    /// left.
    ///
    /// # Errors
    /// [`AccountError::NotFound`], [`AccountError::PreconditionFailed`], [`AccountError::NotEmpty`].
    #[tracing::instrument(name = "delete_account", skip(self))]
    pub async fn delete(&self, parent: ResellerId, id: ResellerId, if_match: Option<u64>) -> Result<(), AccountError> {
        self.accounts.delete(parent, id, if_match).await?;
        tracing::info!("account deleted");
        Ok(())
    }

    /// The figures of the account `id`, for the account itself or its parent; its customers and their profiles
    /// only with `page` (for a caller that may read them).
    ///
    /// # Errors
    /// [`AccountError::NotFound`] for anyone else, exactly as when it does not exist.
    pub async fn metrics(
        &self,
        reseller: ResellerId,
        id: ResellerId,
        page: Option<Page>,
    ) -> Result<AccountMetrics, AccountError> {
        let account = self.acting_as(reseller, id).await?.ok_or(AccountError::NotFound)?;
        Ok(self.accounts.metrics(account.id, page).await?)
    }

    /// The account `id` when `reseller` may act as it (the account itself or its parent); `None` otherwise, exactly as
    /// when it does not exist.
    ///
    /// # Errors
    /// Storage failures only.
    pub async fn acting_as(&self, reseller: ResellerId, id: ResellerId) -> Result<Option<Account>, AccountError> {
        Ok(self.accounts.find(id).await?.map(|a| a.value).filter(|a| a.acts_for(reseller)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::{MockClock, MockIdGenerator};
    use pbx_domain::{CustomerName, NewCustomer};
    use uuid::Uuid;

    fn tenant(n: u128) -> ResellerId {
        ResellerId::from_uuid(Uuid::from_u128(n))
    }

    fn account(id: u128, parent: u128) -> Versioned<Account> {
        let details = NewCustomer::named(CustomerName::parse("Brand").unwrap());
        Versioned {
            value: Account {
                id: tenant(id),
                parent: tenant(parent),
                date_created: chrono::DateTime::UNIX_EPOCH,
                details,
            },
            version: 1,
        }
    }

    fn accounts(repository: MockAccountRepository) -> Accounts {
        let keys = crate::idempotency::test_keys(crate::idempotency::MockIdempotencyStore::new());
        Accounts::new(Arc::new(repository), Arc::new(MockClock::new()), Arc::new(MockIdGenerator::new()), keys)
    }

    #[tokio::test]
    async fn the_account_and_its_parent_act_as_it_and_others_find_nothing() {
        let mut repository = MockAccountRepository::new();
        repository.expect_find().returning(|id| Ok((id == tenant(2)).then(|| account(2, 1))));
        let accounts = accounts(repository);
        for (caller, id, acts) in [(1, 2, true), (2, 2, true), (3, 2, false), (1, 9, false)] {
            let found = accounts.acting_as(tenant(caller), tenant(id)).await.unwrap();
            assert_eq!(found.is_some(), acts, "tenant {caller} as account {id}");
        }
    }

    #[tokio::test]
    async fn only_the_parent_reads_or_changes_an_account() {
        let mut repository = MockAccountRepository::new();
        repository.expect_find().returning(|_| Ok(Some(account(2, 1))));
        repository.expect_update().never();
        let accounts = accounts(repository);
        assert!(accounts.get(tenant(1), tenant(2)).await.is_ok());
        for caller in [2, 3] {
            assert!(matches!(accounts.get(tenant(caller), tenant(2)).await, Err(AccountError::NotFound)));
            assert!(matches!(accounts.load(tenant(caller), tenant(2), None).await, Err(AccountError::NotFound)));
        }
        assert!(matches!(accounts.load(tenant(1), tenant(2), Some(7)).await, Err(AccountError::PreconditionFailed)));
    }
}
