//! Patch customer: change a customer; the changed customer is whole and valid (the front end read it through the
//! same rules as a create).

use std::sync::Arc;

use pbx_domain::events::Actor;
use pbx_domain::{Customer, CustomerId, CustomerOptions, NewCustomer, ResellerId};

use crate::events::Recorder;
use crate::ports::{CustomerRepository, RepositoryError, Versioned, WriteError};
use crate::use_case::opaque_debug;

/// Why the customer was not changed.
#[derive(Debug, thiserror::Error)]
pub enum PatchCustomerError {
    /// No such customer for the caller.
    #[error("not found")]
    NotFound,
    /// The customer changed since the version the caller gave.
    #[error("the customer has changed")]
    PreconditionFailed,
    /// The store failed: unavailable (a 503 to come back from), or unexpectedly.
    #[error(transparent)]
    Storage(#[from] RepositoryError),
}

/// The patch-customer use case: [`PatchCustomer::load`] the customer, change it, [`PatchCustomer::save`] it.
#[derive(Clone)]
pub struct PatchCustomer {
    customers: Arc<dyn CustomerRepository>,
    recorder: Recorder,
}
opaque_debug!(PatchCustomer);

impl PatchCustomer {
    /// The use case over its port.
    #[must_use]
    pub fn new(customers: Arc<dyn CustomerRepository>, recorder: Recorder) -> Self {
        Self { customers, recorder }
    }

    /// The customer to change; `if_match` is the version the caller last saw, when it gave one.
    ///
    /// # Errors
    /// [`PatchCustomerError::NotFound`], [`PatchCustomerError::PreconditionFailed`], or a storage failure.
    #[tracing::instrument(name = "load_customer", skip(self))]
    pub async fn load(
        &self,
        reseller: ResellerId,
        customer_id: CustomerId,
        if_match: Option<u64>,
    ) -> Result<Versioned<Customer>, PatchCustomerError> {
        let current = self.customers.find(reseller, customer_id).await?.ok_or(PatchCustomerError::NotFound)?;
        if if_match.is_some_and(|v| v != current.version) {
            return Err(PatchCustomerError::PreconditionFailed);
        }
        Ok(current)
    }

    /// Stores `details` over `current`, if nothing changed the customer since it was loaded.
    ///
    /// # Errors
    /// See [`PatchCustomerError`].
    #[tracing::instrument(name = "save_customer", skip_all, fields(customer_id = %current.value.id))]
    pub async fn save(
        &self,
        current: Versioned<Customer>,
        details: NewCustomer,
        options: CustomerOptions,
        actor: &Actor,
    ) -> Result<Versioned<Customer>, PatchCustomerError> {
        let patched = Customer { details, options, ..current.value.clone() };
        let event = self.recorder.customer_updated(actor, &current.value, &patched);
        let version = self.customers.update(&patched, current.version, &event).await.map_err(|e| match e {
            WriteError::NotFound => PatchCustomerError::NotFound,
            WriteError::VersionMismatch => PatchCustomerError::PreconditionFailed,
            WriteError::Repository(e) => e.into(),
            other => PatchCustomerError::Storage(RepositoryError::Unexpected(other.into())),
        })?;
        tracing::info!(version, "customer changed");
        Ok(Versioned { value: patched, version })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::MockCustomerRepository;
    use pbx_domain::CustomerName;
    use uuid::Uuid;

    fn reseller() -> ResellerId {
        ResellerId::from_uuid(Uuid::from_u128(1))
    }

    fn customer_id() -> CustomerId {
        CustomerId::from_uuid(Uuid::from_u128(2))
    }

    fn repository() -> MockCustomerRepository {
        let mut customers = MockCustomerRepository::new();
        customers.expect_find().returning(|reseller, id| {
            let details = NewCustomer::named(CustomerName::parse("Acme").unwrap());
            Ok(Some(Versioned {
                value: Customer {
                    id,
                    reseller_id: reseller,
                    date_created: chrono::Utc::now(),
                    details,
                    options: CustomerOptions::default(),
                },
                version: 2,
            }))
        });
        customers
    }

    #[tokio::test]
    async fn a_change_keeps_what_the_service_owns_and_changes_the_rest() {
        let mut customers = repository();
        customers
            .expect_update()
            .withf(|c, v, e| {
                *v == 2 && c.details.name.as_str() == "Acme SA" && c.reseller_id == reseller() && e.customer_id == c.id
            })
            .times(1)
            .returning(|_, _, _| Ok(3));
        let use_case = PatchCustomer::new(Arc::new(customers), crate::events::test_recorder());
        let current = use_case.load(reseller(), customer_id(), Some(2)).await.unwrap();
        let created = current.value.date_created;
        let patched = use_case
            .save(
                current,
                NewCustomer::named(CustomerName::parse("Acme SA").unwrap()),
                CustomerOptions::default(),
                &crate::events::test_actor(),
            )
            .await
            .unwrap();
        assert_eq!((patched.version, patched.value.date_created, patched.value.id), (3, created, customer_id()));
    }

    #[tokio::test]
    async fn a_stale_version_is_a_failed_precondition_before_and_during_the_write() {
        let mut customers = repository();
        customers.expect_update().returning(|_, _, _| Err(WriteError::VersionMismatch));
        let use_case = PatchCustomer::new(Arc::new(customers), crate::events::test_recorder());
        let stale = use_case.load(reseller(), customer_id(), Some(1)).await;
        assert!(matches!(stale, Err(PatchCustomerError::PreconditionFailed)), "{stale:?}");
        let current = use_case.load(reseller(), customer_id(), None).await.unwrap();
        let raced = use_case
            .save(
                current,
                NewCustomer::named(CustomerName::parse("B").unwrap()),
                CustomerOptions::default(),
                &crate::events::test_actor(),
            )
            .await;
        assert!(matches!(raced, Err(PatchCustomerError::PreconditionFailed)), "{raced:?}");
    }
}
