//! Reading profiles: one, a page of a customer's, and who a PBX instance is attached to.

use std::sync::Arc;

use pbx_domain::{CustomerId, PbxId, PbxProfile, ResellerId, Withheld};

use crate::ports::{CustomerRepository, InstanceOwner, Page, PbxRepository, PbxSummary, RepositoryError, Versioned};
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
    /// Attached to one of the caller's customers.
    Own(InstanceOwner),
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
}
opaque_debug!(ReadPbxs);

impl ReadPbxs {
    /// The use cases over their ports.
    #[must_use]
    pub fn new(customers: Arc<dyn CustomerRepository>, profiles: Arc<dyn PbxRepository>) -> Self {
        Self { customers, profiles }
    }

    async fn visible(&self, reseller: ResellerId, customer_id: CustomerId) -> Result<(), ReadPbxError> {
        self.customers.find(reseller, customer_id).await?.map(drop).ok_or(ReadPbxError::NotFound)
    }

    /// The profile `pbx_id` of the caller's customer `customer_id`, without its secrets.
    ///
    /// # Errors
    /// [`ReadPbxError::NotFound`] when either is missing or the customer is another reseller's.
    pub async fn get(
        &self,
        reseller: ResellerId,
        customer_id: CustomerId,
        pbx_id: PbxId,
    ) -> Result<Versioned<PbxProfile<Withheld>>, ReadPbxError> {
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

    /// Whether the PBX instance `instance_id` is attached, and to whom if the caller may know.
    ///
    /// # Errors
    /// Storage failures only.
    pub async fn lookup(&self, reseller: ResellerId, instance_id: &str) -> Result<InstanceLookup, ReadPbxError> {
        Ok(match self.profiles.find_instance(instance_id).await? {
            Some(owner) if owner.reseller_id == reseller => InstanceLookup::Own(owner),
            Some(_) => InstanceLookup::Foreign,
            None => InstanceLookup::Free,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::{MockCustomerRepository, MockPbxRepository};
    use uuid::Uuid;

    fn owner(reseller: u128) -> InstanceOwner {
        InstanceOwner {
            pbx_id: PbxId::from_uuid(Uuid::from_u128(3)),
            customer_id: CustomerId::from_uuid(Uuid::from_u128(2)),
            reseller_id: ResellerId::from_uuid(Uuid::from_u128(reseller)),
        }
    }

    async fn lookup(found: Option<InstanceOwner>) -> InstanceLookup {
        let mut profiles = MockPbxRepository::new();
        profiles.expect_find_instance().withf(|id| id == "12345").returning(move |_| Ok(found.clone()));
        ReadPbxs::new(Arc::new(MockCustomerRepository::new()), Arc::new(profiles))
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
    async fn a_list_under_a_missing_or_foreign_customer_is_not_found_without_touching_profiles() {
        let mut customers = MockCustomerRepository::new();
        customers.expect_find().returning(|_, _| Ok(None));
        let mut profiles = MockPbxRepository::new();
        profiles.expect_list().never();
        let read = ReadPbxs::new(Arc::new(customers), Arc::new(profiles));
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
        let read = ReadPbxs::new(Arc::new(customers), Arc::new(profiles));
        let got = read.get(reseller, customer, PbxId::from_uuid(pbx)).await;
        assert!(matches!(got, Err(ReadPbxError::NotFound)));
    }
}
