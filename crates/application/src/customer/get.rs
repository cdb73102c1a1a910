//! Get customer: one of the caller's customers.

use std::sync::Arc;

use pbx_domain::{Customer, CustomerId, ResellerId};

use crate::ports::{CustomerRepository, RepositoryError, Versioned};
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
}

opaque_debug!(GetCustomer);

impl GetCustomer {
    /// The use case over its port.
    #[must_use]
    pub fn new(customers: Arc<dyn CustomerRepository>) -> Self {
        Self { customers }
    }

    /// The customer `id` of `reseller`.
    ///
    /// # Errors
    /// [`GetCustomerError::NotFound`] when it does not exist or belongs to another reseller.
    pub async fn execute(&self, reseller: ResellerId, id: CustomerId) -> Result<Versioned<Customer>, GetCustomerError> {
        self.customers.find(reseller, id).await?.ok_or(GetCustomerError::NotFound)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::MockCustomerRepository;

    #[tokio::test]
    async fn a_missing_or_foreign_customer_is_not_found() {
        let mut customers = MockCustomerRepository::new();
        customers.expect_find().times(1).returning(|_, _| Ok(None));
        let result = GetCustomer::new(Arc::new(customers))
            .execute(ResellerId::from_uuid(uuid::Uuid::nil()), CustomerId::from_uuid(uuid::Uuid::nil()))
            .await;
        assert!(matches!(result, Err(GetCustomerError::NotFound)));
    }
}
