//! Reading profiles: one, a page of a customer's, and who a PBX instance is attached to.

use std::sync::Arc;

use pbx_domain::{CustomerId, PbxId, ResellerId};

use crate::account::AccountRepository;
use crate::ports::{Attachment, CustomerRepository, Page, PbxRepository, PbxSummary, RepositoryError, ShownProfile};
use crate::use_case::opaque_debug;

/// Why profiles cannot be shown.
#[derive(Debug, thiserror::Error)]
pub enum ReadPbxError {
    /// No such customer for the caller, or no such profile for the customer.
    #[error("not found")]
    NotFound,
    /// The store failed: unavailable (a 503 to come back from), or unexpectedly.
    #[error(transparent)]
    Storage(#[from] RepositoryError),
}

/// Where a PBX instance is attached, as the caller may know it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InstanceLookup {
    /// Attached to one of the caller's customers, or to a customer of an account under the caller.
    Own(Attachment),
    /// Attached to another reseller's customer (which stays unnamed).
    Foreign,
    /// Not attached anywhere.
    Free,
}

/// The read use cases of profiles: get one, list a customer's, look up an instance.
#[derive(Clone)]
pub struct ReadPbxs {
    customers: Arc<dyn CustomerRepository>,
    profiles: Arc<dyn PbxRepository>,
    accounts: Arc<dyn AccountRepository>,
}
opaque_debug!(ReadPbxs);

impl ReadPbxs {
    /// The use cases over their ports.
    #[must_use]
    pub fn new(
        customers: Arc<dyn CustomerRepository>,
        profiles: Arc<dyn PbxRepository>,
        accounts: Arc<dyn AccountRepository>,
    ) -> Self {
        Self { customers, profiles, accounts }
    }

    async fn visible(&self, reseller: ResellerId, customer_id: CustomerId) -> Result<(), ReadPbxError> {
        self.customers.find(reseller, customer_id).await?.map(drop).ok_or(ReadPbxError::NotFound)
    }

    /// The profile `pbx_id` of the caller's customer `customer_id`, without its secrets, with its connection status.
    ///
    /// # Errors
    /// [`ReadPbxError::NotFound`] when either is missing or the customer is another reseller's.
    pub async fn get(
        &self,
        reseller: ResellerId,
        customer_id: CustomerId,
        pbx_id: PbxId,
    ) -> Result<ShownProfile, ReadPbxError> {
        self.profiles.find_visible(reseller, customer_id, pbx_id).await?.ok_or(ReadPbxError::NotFound)
    }

    /// A page of the profiles of the caller's customer `customer_id`, oldest first.
    ///
    /// # Errors
    /// [`ReadPbxError::NotFound`] when the customer is missing or another reseller's.
    pub async fn list(
        &self,
        reseller: ResellerId,
        customer_id: CustomerId,
        page: Page,
    ) -> Result<Vec<PbxSummary>, ReadPbxError> {
        self.visible(reseller, customer_id).await?;
        Ok(self.profiles.list(customer_id, page).await?)
    }

    /// Whether the PBX instance `instance_id` is attached, and to whom if the caller may know: the owning reseller
    /// and the tenant above it (when the owner is one of its accounts) do.
    ///
    /// # Errors
    /// Storage failures only.
    pub async fn lookup(&self, reseller: ResellerId, instance_id: &str) -> Result<InstanceLookup, ReadPbxError> {
        let Some(owner) = self.profiles.find_instance(instance_id).await? else { return Ok(InstanceLookup::Free) };
        if owner.reseller_id == reseller {
            return Ok(InstanceLookup::Own(owner));
        }
        let above = self.accounts.find(owner.reseller_id).await?.is_some_and(|a| a.value.parent == reseller);
        Ok(if above { InstanceLookup::Own(owner) } else { InstanceLookup::Foreign })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::MockAccountRepository;
    use crate::ports::{MockCustomerRepository, MockPbxRepository};
    use uuid::Uuid;

    /// No tenant has accounts.
    fn no_accounts() -> MockAccountRepository {
        let mut accounts = MockAccountRepository::new();
        accounts.expect_find().returning(|_| Ok(None));
        accounts
    }

    fn owner(reseller: u128) -> Attachment {
        Attachment {
            pbx_id: PbxId::from_uuid(Uuid::from_u128(3)),
            customer_id: CustomerId::from_uuid(Uuid::from_u128(2)),
            reseller_id: ResellerId::from_uuid(Uuid::from_u128(reseller)),
        }
    }

    async fn lookup(found: Option<Attachment>) -> InstanceLookup {
        let mut profiles = MockPbxRepository::new();
        profiles.expect_find_instance().withf(|id| id == "12345").returning(move |_| Ok(found.clone()));
        ReadPbxs::new(Arc::new(MockCustomerRepository::new()), Arc::new(profiles), Arc::new(no_accounts()))
            .lookup(ResellerId::from_uuid(Uuid::from_u128(1)), "12345")
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn a_lookup_names_the_profile_to_its_owner_only() {
        assert_eq!(lookup(Some(owner(1))).await, InstanceLookup::Own(owner(1)));
        assert_eq!(lookup(Some(owner(9))).await, InstanceLookup::Foreign);
        assert_eq!(lookup(None).await, InstanceLookup::Free);
    }

    #[tokio::test]
    async fn a_lookup_names_the_profile_to_the_tenant_above_the_owning_account() {
        use pbx_domain::{Account, CustomerName, NewCustomer};
        let mut profiles = MockPbxRepository::new();
        profiles.expect_find_instance().returning(|_| Ok(Some(owner(9))));
        let mut accounts = MockAccountRepository::new();
        accounts.expect_find().returning(|id| {
            let details = NewCustomer::named(CustomerName::parse("Brand").unwrap());
            let parent = ResellerId::from_uuid(Uuid::from_u128(1));
            let account = Account { id, parent, date_created: chrono::DateTime::UNIX_EPOCH, details };
            Ok(Some(crate::Versioned { value: account, version: 1 }))
        });
        let read = ReadPbxs::new(Arc::new(MockCustomerRepository::new()), Arc::new(profiles), Arc::new(accounts));
        let as_tenant = |n| ResellerId::from_uuid(Uuid::from_u128(n));
        assert_eq!(read.lookup(as_tenant(1), "12345").await.unwrap(), InstanceLookup::Own(owner(9)), "the parent");
        assert_eq!(read.lookup(as_tenant(2), "12345").await.unwrap(), InstanceLookup::Foreign, "a sibling");
    }

    #[tokio::test]
    async fn a_list_under_a_missing_or_foreign_customer_is_not_found_without_touching_profiles() {
        let mut customers = MockCustomerRepository::new();
        customers.expect_find().returning(|_, _| Ok(None));
        let mut profiles = MockPbxRepository::new();
        profiles.expect_list().never();
        let read = ReadPbxs::new(Arc::new(customers), Arc::new(profiles), Arc::new(no_accounts()));
        let (reseller, customer) = (ResellerId::from_uuid(Uuid::nil()), CustomerId::from_uuid(Uuid::nil()));
        let listed = read.list(reseller, customer, Page { index: 0, size: 10 }).await;
        assert!(matches!(listed, Err(ReadPbxError::NotFound)));
    }

    #[tokio::test]
    async fn a_get_asks_for_the_profile_as_the_caller_sees_it_in_one_read() {
        let (reseller, customer, pbx) =
            (ResellerId::from_uuid(Uuid::from_u128(1)), CustomerId::from_uuid(Uuid::from_u128(2)), Uuid::from_u128(3));
        let mut customers = MockCustomerRepository::new();
        customers.expect_find().never();
        let mut profiles = MockPbxRepository::new();
        profiles
            .expect_find_visible()
            .withf(move |r, c, p| (*r, *c, p.as_uuid()) == (reseller, customer, pbx))
            .returning(|_, _, _| Ok(None));
        let read = ReadPbxs::new(Arc::new(customers), Arc::new(profiles), Arc::new(no_accounts()));
        let got = read.get(reseller, customer, PbxId::from_uuid(pbx)).await;
        assert!(matches!(got, Err(ReadPbxError::NotFound)));
    }
}
