//! Delete customer: only once it has no PBX profile left.

use std::sync::Arc;

use pbx_domain::events::Actor;
use pbx_domain::{CustomerId, ResellerId};

use crate::events::Recorder;
use crate::ports::{CustomerRepository, RepositoryError, WriteError};
use crate::use_case::opaque_debug;

/// Why the customer was not deleted.
#[derive(Debug, thiserror::Error)]
pub enum DeleteCustomerError {
    /// No such customer for the caller.
    #[error("not found")]
    NotFound,
    /// The customer changed since the version the caller gave.
    #[error("the customer has changed")]
    PreconditionFailed,
    /// The customer still has PBX profiles.
    #[error("the customer still has PBX profiles")]
    HasProfiles,
    /// The store failed: unavailable (a 503 to come back from), or unexpectedly.
    #[error(transparent)]
    Storage(#[from] RepositoryError),
}

/// The delete-customer use case.
#[derive(Clone)]
pub struct DeleteCustomer {
    customers: Arc<dyn CustomerRepository>,
    recorder: Recorder,
}
opaque_debug!(DeleteCustomer);

impl DeleteCustomer {
    /// The use case over its port.
    #[must_use]
    pub fn new(customers: Arc<dyn CustomerRepository>, recorder: Recorder) -> Self {
        Self { customers, recorder }
    }

    /// Deletes the caller's customer `id`, if its version is `if_match` (when given).
    ///
    /// # Errors
    /// See [`DeleteCustomerError`].
    #[tracing::instrument(name = "delete_customer", skip(self))]
    pub async fn execute(
        &self,
        reseller: ResellerId,
        id: CustomerId,
        if_match: Option<u64>,
        actor: &Actor,
    ) -> Result<(), DeleteCustomerError> {
        let event = self.recorder.customer_deleted(actor, reseller, id);
        match self.customers.delete(reseller, id, if_match, &event).await {
            Ok(()) => {
                tracing::info!("customer deleted");
                Ok(())
            }
            Err(WriteError::NotFound) => Err(DeleteCustomerError::NotFound),
            Err(WriteError::VersionMismatch) => Err(DeleteCustomerError::PreconditionFailed),
            Err(WriteError::InUse) => Err(DeleteCustomerError::HasProfiles),
            Err(WriteError::Repository(e)) => Err(e.into()),
            Err(other) => Err(DeleteCustomerError::Storage(RepositoryError::Unexpected(other.into()))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::MockCustomerRepository;
    use uuid::Uuid;

    async fn run(outcome: fn() -> Result<(), WriteError>) -> Result<(), DeleteCustomerError> {
        let mut customers = MockCustomerRepository::new();
        customers
            .expect_delete()
            .withf(|_, id, _, event| event.customer_id == *id && event.data.is_none())
            .times(1)
            .returning(move |_, _, _, _| outcome());
        DeleteCustomer::new(Arc::new(customers), crate::events::test_recorder())
            .execute(
                ResellerId::from_uuid(Uuid::nil()),
                CustomerId::from_uuid(Uuid::nil()),
                None,
                &crate::events::test_actor(),
            )
            .await
    }

    #[tokio::test]
    async fn every_outcome() {
        assert!(run(|| Ok(())).await.is_ok());
        assert!(matches!(run(|| Err(WriteError::InUse)).await, Err(DeleteCustomerError::HasProfiles)));
        assert!(matches!(run(|| Err(WriteError::NotFound)).await, Err(DeleteCustomerError::NotFound)));
        assert!(matches!(run(|| Err(WriteError::VersionMismatch)).await, Err(DeleteCustomerError::PreconditionFailed)));
    }
}
