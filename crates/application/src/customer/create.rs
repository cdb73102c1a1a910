//! Create customer: a reseller adds a customer of its own.

use std::sync::Arc;

use pbx_domain::{Customer, CustomerId, CustomerOptions, NewCustomer, ResellerId};

use crate::idempotency::Reservation;
use crate::ports::{Clock, CustomerRepository, IdGenerator, RepositoryError};
use crate::use_case::opaque_debug;

/// What a reseller asks for.
#[derive(Debug, Clone)]
pub struct CreateCustomerCommand {
    /// The caller, who will own the customer.
    pub reseller: ResellerId,
    /// The customer's details.
    pub details: NewCustomer,
    /// Its options (checked by the caller: a trial needs its own scope).
    pub options: CustomerOptions,
    /// The id reserved by the request's `Idempotency-Key`, if it has one.
    pub reservation: Option<Reservation>,
}

/// Why no customer was created.
#[derive(Debug, thiserror::Error)]
pub enum CreateCustomerError {
    /// The store failed: unavailable (a 503 to come back from), or unexpectedly.
    #[error(transparent)]
    Storage(#[from] RepositoryError),
}

/// The create-customer use case.
#[derive(Clone)]
pub struct CreateCustomer {
    customers: Arc<dyn CustomerRepository>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGenerator>,
}

opaque_debug!(CreateCustomer);

impl CreateCustomer {
    /// The use case over its ports.
    #[must_use]
    pub fn new(customers: Arc<dyn CustomerRepository>, clock: Arc<dyn Clock>, ids: Arc<dyn IdGenerator>) -> Self {
        Self { customers, clock, ids }
    }

    /// Creates the customer and returns it. Under a resumed [`Reservation`], a customer that the interrupted first
    /// request created with the reserved id is returned instead of creating a second one.
    ///
    /// # Errors
    /// See [`CreateCustomerError`].
    #[tracing::instrument(name = "create_customer", skip(self, command), fields(reseller = %command.reseller))]
    pub async fn execute(&self, command: CreateCustomerCommand) -> Result<Customer, CreateCustomerError> {
        let CreateCustomerCommand { reseller, details, options, reservation } = command;
        let id = CustomerId::from_uuid(reservation.map_or_else(|| self.ids.new_id(), |r| r.id));
        if reservation.is_some_and(|r| r.resumed)
            && let Some(created) = self.customers.find(reseller, id).await?
        {
            tracing::info!(customer_id = %id, "customer created by an interrupted request under the same key");
            return Ok(created.value);
        }
        let customer = Customer { id, reseller_id: reseller, date_created: self.clock.now(), details, options };
        self.customers.insert(&customer).await?;
        tracing::info!(customer_id = %customer.id, "customer created");
        Ok(customer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::RepositoryError;
    use crate::ports::{MockClock, MockCustomerRepository, MockIdGenerator, Versioned};
    use chrono::DateTime;
    use pbx_domain::CustomerName;
    use uuid::Uuid;

    const RESELLER: &str = "11111111-1111-4111-8111-111111111111";
    const CUSTOMER: &str = "0190f5a4-7a4e-7b7e-9a52-6f1f0e0c1d2e";

    fn use_case(customers: MockCustomerRepository) -> CreateCustomer {
        let mut clock = MockClock::new();
        clock.expect_now().return_const(DateTime::from_timestamp(1_575_043_403, 0).unwrap());
        let mut ids = MockIdGenerator::new();
        ids.expect_new_id().return_const(Uuid::parse_str(CUSTOMER).unwrap());
        CreateCustomer::new(Arc::new(customers), Arc::new(clock), Arc::new(ids))
    }

    fn command(name: &str) -> CreateCustomerCommand {
        let details = NewCustomer::named(CustomerName::parse(name).unwrap());
        let options = CustomerOptions::default();
        CreateCustomerCommand { reseller: ResellerId::parse(RESELLER).unwrap(), details, options, reservation: None }
    }

    #[tokio::test]
    async fn creates_a_customer_owned_by_the_caller() {
        let mut customers = MockCustomerRepository::new();
        customers
            .expect_insert()
            .withf(|c| c.reseller_id.to_string() == RESELLER && c.id.to_string() == CUSTOMER)
            .times(1)
            .returning(|_| Ok(()));
        let customer = use_case(customers).execute(command("Acme")).await.unwrap();
        assert_eq!(customer.details.name.as_str(), "Acme");
        assert_eq!(customer.date_created.timestamp(), 1_575_043_403);
    }

    const RESERVED: &str = "0190f5a4-7a4e-7b7e-9a52-000000000001";

    fn reserved(resumed: bool) -> CreateCustomerCommand {
        let id = Uuid::parse_str(RESERVED).unwrap();
        CreateCustomerCommand { reservation: Some(Reservation { id, resumed }), ..command("Acme") }
    }

    #[tokio::test]
    async fn under_an_idempotency_key_the_customer_takes_the_reserved_id() {
        let mut customers = MockCustomerRepository::new();
        customers.expect_find().never();
        customers.expect_insert().withf(|c| c.id.to_string() == RESERVED).times(1).returning(|_| Ok(()));
        let customer = use_case(customers).execute(reserved(false)).await.unwrap();
        assert_eq!(customer.id.to_string(), RESERVED);
    }

    #[tokio::test]
    async fn a_resumed_create_returns_what_the_interrupted_request_created_and_writes_nothing() {
        let mut customers = MockCustomerRepository::new();
        customers
            .expect_find()
            .withf(|reseller, id| reseller.to_string() == RESELLER && id.to_string() == RESERVED)
            .times(1)
            .returning(|reseller, id| {
                let details = NewCustomer::named(CustomerName::parse("Acme").unwrap());
                let date_created = DateTime::from_timestamp(1_500_000_000, 0).unwrap();
                let options = CustomerOptions::default();
                Ok(Some(Versioned {
                    value: Customer { id, reseller_id: reseller, date_created, details, options },
                    version: 1,
                }))
            });
        customers.expect_insert().never();
        let customer = use_case(customers).execute(reserved(true)).await.unwrap();
        assert_eq!((customer.id.to_string(), customer.date_created.timestamp()), (RESERVED.to_owned(), 1_500_000_000));
    }

    #[tokio::test]
    async fn a_resumed_create_whose_first_request_created_nothing_creates_under_the_reserved_id() {
        let mut customers = MockCustomerRepository::new();
        customers.expect_find().times(1).returning(|_, _| Ok(None));
        customers.expect_insert().withf(|c| c.id.to_string() == RESERVED).times(1).returning(|_| Ok(()));
        let customer = use_case(customers).execute(reserved(true)).await.unwrap();
        assert_eq!(customer.date_created.timestamp(), 1_575_043_403, "created now");
    }

    #[tokio::test]
    async fn storage_failures_keep_their_kind() {
        let mut customers = MockCustomerRepository::new();
        customers.expect_insert().returning(|_| Err(RepositoryError::Unavailable(anyhow::anyhow!("down"))));
        let result = use_case(customers).execute(command("Acme")).await;
        assert!(matches!(result, Err(CreateCustomerError::Storage(RepositoryError::Unavailable(_)))), "{result:?}");
    }
}
