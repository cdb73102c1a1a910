//! Create customer: a reseller adds a customer of its own.

use std::sync::Arc;

use pbx_domain::events::Actor;
use pbx_domain::{Customer, CustomerId, CustomerOptions, NewCustomer, PbxId, PbxProfile, ResellerId};

use crate::events::Recorder;
use crate::idempotency::Reservation;
use crate::pbx::NewProfile;
use crate::ports::{
    Clock, CustomerRepository, IdGenerator, InsertPbxError, Page, PbxRepository, PbxSummary, RepositoryError,
    WriteError,
};
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
    /// A first PBX profile, created with the customer or not at all.
    pub first_profile: Option<NewProfile>,
    /// Whether the caller accepts the charge of that profile.
    pub accept_charges: bool,
    /// Who asks (recorded with the events).
    pub actor: Actor,
}

/// A customer just created, and its profiles (the first one, when it came with the customer).
#[derive(Debug, Clone)]
pub struct CreatedCustomer {
    /// The customer.
    pub customer: Customer,
    /// Its profiles.
    pub profiles: Vec<PbxSummary>,
}

/// Why no customer was created.
#[derive(Debug, thiserror::Error)]
pub enum CreateCustomerError {
    /// The first profile's PBX instance is attached to a customer already; nothing was created.
    #[error("the PBX instance is already attached to a customer")]
    InstanceAttached,
    /// The first profile is chargeable and the charge was not accepted; nothing was created.
    #[error("the charge of the PBX profile was not accepted")]
    ChargesNotAccepted,
    /// The reseller is an account that was deleted (before, or while this create waited for the deletion).
    #[error("the reseller is a deleted account")]
    ResellerNotFound,
    /// The store failed: unavailable (a 503 to come back from), or unexpectedly.
    #[error(transparent)]
    Storage(#[from] RepositoryError),
}

/// The create-customer use case.
#[derive(Clone)]
pub struct CreateCustomer {
    customers: Arc<dyn CustomerRepository>,
    profiles: Arc<dyn PbxRepository>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGenerator>,
    recorder: Recorder,
}

opaque_debug!(CreateCustomer);

impl CreateCustomer {
    /// The use case over its ports.
    #[must_use]
    pub fn new(
        customers: Arc<dyn CustomerRepository>,
        profiles: Arc<dyn PbxRepository>,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdGenerator>,
        recorder: Recorder,
    ) -> Self {
        Self { customers, profiles, clock, ids, recorder }
    }

    /// Creates the customer and returns it. Under a resumed [`Reservation`], a customer that the interrupted first
    /// request created with the reserved id is returned instead of creating a second one.
    ///
    /// # Errors
    /// See [`CreateCustomerError`].
    #[tracing::instrument(name = "create_customer", skip(self, command), fields(reseller = %command.reseller))]
    pub async fn execute(&self, command: CreateCustomerCommand) -> Result<CreatedCustomer, CreateCustomerError> {
        let CreateCustomerCommand { reseller, details, options, reservation, first_profile, accept_charges, actor } =
            command;
        let id = CustomerId::from_uuid(reservation.map_or_else(|| self.ids.new_id(), |r| r.id));
        if reservation.is_some_and(|r| r.resumed)
            && let Some(created) = self.customers.find(reseller, id).await?
        {
            tracing::info!(customer_id = %id, "customer created by an interrupted request under the same key");
            let profiles = self.profiles.list(id, Page { index: 0, size: 1000 }).await?;
            return Ok(CreatedCustomer { customer: created.value, profiles });
        }
        let now = self.clock.now();
        let customer = Customer { id, reseller_id: reseller, date_created: now, details, options };
        let Some(first) = first_profile else {
            match self.customers.insert(&customer, &self.recorder.customer_created(&actor, &customer)).await {
                Ok(()) => {}
                Err(WriteError::NotFound) => return Err(CreateCustomerError::ResellerNotFound),
                Err(WriteError::Repository(e)) => return Err(e.into()),
                Err(e) => return Err(RepositoryError::Unexpected(e.into()).into()),
            }
            tracing::info!(customer_id = %customer.id, "customer created");
            return Ok(CreatedCustomer { customer, profiles: Vec::new() });
        };
        // The profile takes the customer's country unless it has its own, as a profile created later would.
        let country_code = first.country_code.unwrap_or(customer.details.country_code);
        let profile_id = PbxId::from_uuid(self.ids.new_id());
        let profile = PbxProfile::new(profile_id, customer.id, first.name, country_code, first.connection);
        if !accept_charges {
            // Nothing is written: 409 when the instance is taken, otherwise 402, as for a profile on its own.
            let instance = profile.instance_id();
            return Err(if self.profiles.instance_attached(instance.pbx_type(), instance.value()).await? {
                CreateCustomerError::InstanceAttached
            } else {
                CreateCustomerError::ChargesNotAccepted
            });
        }
        let events =
            [self.recorder.customer_created(&actor, &customer), self.recorder.pbx_created(&actor, reseller, &profile)];
        match self.profiles.insert_with_customer(&customer, &profile, now, &events).await {
            Ok(()) => {}
            Err(InsertPbxError::InstanceAttached) => return Err(CreateCustomerError::InstanceAttached),
            Err(InsertPbxError::CustomerNotFound) => return Err(CreateCustomerError::ResellerNotFound),
            Err(InsertPbxError::Repository(e)) => return Err(e.into()),
        }
        tracing::info!(customer_id = %customer.id, pbx_id = %profile.id, "customer created with its first PBX profile");
        let summary = PbxSummary {
            id: profile.id,
            customer_id: customer.id,
            name: profile.name.to_string(),
            pbx_type: profile.pbx_type(),
            country_code: profile.country_code,
            enabled: profile.enabled,
            connection: pbx_domain::connection::Status::default(),
        };
        Ok(CreatedCustomer { customer, profiles: vec![summary] })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::RepositoryError;
    use crate::ports::{MockClock, MockCustomerRepository, MockIdGenerator, MockPbxRepository, Versioned};
    use chrono::DateTime;
    use pbx_domain::CustomerName;
    use uuid::Uuid;

    const RESELLER: &str = "11111111-1111-4111-8111-111111111111";
    const CUSTOMER: &str = "0190f5a4-7a4e-7b7e-9a52-6f1f0e0c1d2e";

    fn use_case(customers: MockCustomerRepository) -> CreateCustomer {
        with_profiles(customers, resumed_profiles())
    }

    /// The profiles a resumed create lists: none.
    fn resumed_profiles() -> MockPbxRepository {
        let mut profiles = MockPbxRepository::new();
        profiles.expect_list().returning(|_, _| Ok(Vec::new()));
        profiles
    }

    fn with_profiles(customers: MockCustomerRepository, profiles: MockPbxRepository) -> CreateCustomer {
        let mut clock = MockClock::new();
        clock.expect_now().return_const(DateTime::from_timestamp(1_575_043_403, 0).unwrap());
        let mut ids = MockIdGenerator::new();
        ids.expect_new_id().return_const(Uuid::parse_str(CUSTOMER).unwrap());
        CreateCustomer::new(
            Arc::new(customers),
            Arc::new(profiles),
            Arc::new(clock),
            Arc::new(ids),
            crate::events::test_recorder(),
        )
    }

    fn command(name: &str) -> CreateCustomerCommand {
        let details = NewCustomer::named(CustomerName::parse(name).unwrap());
        let options = CustomerOptions::default();
        CreateCustomerCommand {
            reseller: ResellerId::parse(RESELLER).unwrap(),
            details,
            options,
            reservation: None,
            first_profile: None,
            accept_charges: false,
            actor: crate::events::test_actor(),
        }
    }

    #[tokio::test]
    async fn creates_a_customer_owned_by_the_caller() {
        let mut customers = MockCustomerRepository::new();
        customers
            .expect_insert()
            .withf(|c, _| c.reseller_id.to_string() == RESELLER && c.id.to_string() == CUSTOMER)
            .times(1)
            .returning(|_, _| Ok(()));
        let customer = use_case(customers).execute(command("Acme")).await.unwrap().customer;
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
        customers.expect_insert().withf(|c, _| c.id.to_string() == RESERVED).times(1).returning(|_, _| Ok(()));
        let customer = use_case(customers).execute(reserved(false)).await.unwrap().customer;
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
        let customer = use_case(customers).execute(reserved(true)).await.unwrap().customer;
        assert_eq!((customer.id.to_string(), customer.date_created.timestamp()), (RESERVED.to_owned(), 1_500_000_000));
    }

    #[tokio::test]
    async fn a_resumed_create_whose_first_request_created_nothing_creates_under_the_reserved_id() {
        let mut customers = MockCustomerRepository::new();
        customers.expect_find().times(1).returning(|_, _| Ok(None));
        customers.expect_insert().withf(|c, _| c.id.to_string() == RESERVED).times(1).returning(|_, _| Ok(()));
        let customer = use_case(customers).execute(reserved(true)).await.unwrap().customer;
        assert_eq!(customer.date_created.timestamp(), 1_575_043_403, "created now");
    }

    fn with_a_profile(accept_charges: bool) -> CreateCustomerCommand {
        let first = NewProfile {
            name: pbx_domain::ProfileName::parse("Main").unwrap(),
            country_code: None,
            connection: pbx_domain::PbxConnection::example(pbx_domain::PbxType::ThreeCx),
        };
        CreateCustomerCommand { first_profile: Some(first), accept_charges, ..command("Acme") }
    }

    #[tokio::test]
    async fn a_first_profile_is_written_with_its_customer_in_one_call() {
        let mut customers = MockCustomerRepository::new();
        customers.expect_insert().never();
        let mut profiles = MockPbxRepository::new();
        profiles
            .expect_insert_with_customer()
            .withf(|c, p, _, events| {
                events.len() == 2 && p.customer_id == c.id && p.country_code == c.details.country_code && !p.enabled
            })
            .times(1)
            .returning(|_, _, _, _| Ok(()));
        let created = with_profiles(customers, profiles).execute(with_a_profile(true)).await.unwrap();
        assert_eq!(created.profiles.len(), 1);
        assert_eq!(created.profiles[0].customer_id, created.customer.id);
    }

    #[tokio::test]
    async fn without_the_charge_accepted_nothing_is_written_and_a_taken_instance_comes_first() {
        for (taken, expected) in [(false, "charge"), (true, "attached")] {
            let mut customers = MockCustomerRepository::new();
            customers.expect_insert().never();
            let mut profiles = MockPbxRepository::new();
            profiles.expect_insert_with_customer().never();
            profiles.expect_instance_attached().returning(move |_, _| Ok(taken));
            let result = with_profiles(customers, profiles).execute(with_a_profile(false)).await;
            match (result, expected) {
                (Err(CreateCustomerError::ChargesNotAccepted), "charge")
                | (Err(CreateCustomerError::InstanceAttached), "attached") => {}
                (other, _) => panic!("{expected}: {other:?}"),
            }
        }
        let mut profiles = MockPbxRepository::new();
        profiles.expect_insert_with_customer().returning(|_, _, _, _| Err(InsertPbxError::InstanceAttached));
        let raced = with_profiles(MockCustomerRepository::new(), profiles).execute(with_a_profile(true)).await;
        assert!(matches!(raced, Err(CreateCustomerError::InstanceAttached)), "{raced:?}");
    }

    #[tokio::test]
    async fn storage_failures_keep_their_kind() {
        let mut customers = MockCustomerRepository::new();
        customers.expect_insert().returning(|_, _| Err(RepositoryError::Unavailable(anyhow::anyhow!("down")).into()));
        let result = use_case(customers).execute(command("Acme")).await;
        assert!(matches!(result, Err(CreateCustomerError::Storage(RepositoryError::Unavailable(_)))), "{result:?}");
    }
}
