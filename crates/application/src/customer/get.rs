//! Get customer: one of the caller's customers.

use std::sync::Arc;

use pbx_domain::{Customer, CustomerId, ResellerId};

use crate::ports::{CustomerRepository, Page, PbxRepository, PbxSummary, RepositoryError, Versioned};
use crate::use_case::opaque_debug;

/// Why the customer cannot be shown.
#[derive(Debug, thiserror::Error)]
pub enum GetCustomerError {
    /// No customer with that id belongs to the caller.
    #[error("the customer does not exist")]
    NotFound,
    /// The store failed: unavailable (a 503 to come back from), or unexpectedly.
    #[error(transparent)]
    Storage(#[from] RepositoryError),
}

/// The get-customer use case.
#[derive(Clone)]
pub struct GetCustomer {
    customers: Arc<dyn CustomerRepository>,
    profiles: Arc<dyn PbxRepository>,
}

/// The profiles a customer's answer lists: its oldest 1000 (`GET …/pbxs` pages through them all).
const PROFILES_SHOWN: Page = Page { index: 0, size: 1000 };

opaque_debug!(GetCustomer);

impl GetCustomer {
    /// The use case over its ports.
    #[must_use]
    pub fn new(customers: Arc<dyn CustomerRepository>, profiles: Arc<dyn PbxRepository>) -> Self {
        Self { customers, profiles }
    }

    /// The customer `id` of `reseller`, with the summaries of its profiles (the oldest 1000).
    ///
    /// # Errors
    /// [`GetCustomerError::NotFound`] when it does not exist or belongs to another reseller.
    pub async fn execute(
        &self,
        reseller: ResellerId,
        id: CustomerId,
    ) -> Result<(Versioned<Customer>, Vec<PbxSummary>), GetCustomerError> {
        let customer = self.customers.find(reseller, id).await?.ok_or(GetCustomerError::NotFound)?;
        Ok((customer, self.profiles.list(id, PROFILES_SHOWN).await?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::{MockCustomerRepository, MockPbxRepository};

    #[tokio::test]
    async fn a_missing_or_foreign_customer_is_not_found_and_its_profiles_are_not_read() {
        let mut customers = MockCustomerRepository::new();
        customers.expect_find().times(1).returning(|_, _| Ok(None));
        let mut profiles = MockPbxRepository::new();
        profiles.expect_list().never();
        let result = GetCustomer::new(Arc::new(customers), Arc::new(profiles))
            .execute(ResellerId::from_uuid(uuid::Uuid::nil()), CustomerId::from_uuid(uuid::Uuid::nil()))
            .await;
        assert!(matches!(result, Err(GetCustomerError::NotFound)));
    }
}
