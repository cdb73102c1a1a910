//! Create customer: a reseller adds a customer of its own.

use std::sync::Arc;

use pbx_domain::events::Actor;
use pbx_domain::{Customer, CustomerId, CustomerOptions, NewCustomer, PbxId, PbxProfile, ResellerId};

use crate::events::Recorder;
use crate::idempotency::{IdempotencyKey, IdempotencyKeys, KeyError, Once, Written};
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
    /// The request's `Idempotency-Key`, if it has one.
    pub key: Option<IdempotencyKey>,
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
    /// Its version (1, unless re-read for a repeat of its create and changed since).
    pub version: u64,
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
    /// The request's `Idempotency-Key` stops it.
    #[error(transparent)]
    Key(#[from] KeyError),
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
    keys: IdempotencyKeys,
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
        keys: IdempotencyKeys,
    ) -> Self {
        Self { customers, profiles, clock, ids, recorder, keys }
    }

    /// Creates the customer and returns it, once per `key` (see [`IdempotencyKeys::create`]: a repeat of the
    /// request gets the customer its first request made, re-read with its profiles).
    ///
    /// # Errors
    /// See [`CreateCustomerError`].
    #[tracing::instrument(name = "create_customer", skip(self, command), fields(reseller = %command.reseller))]
    pub async fn execute(&self, command: CreateCustomerCommand) -> Result<Once<CreatedCustomer>, CreateCustomerError> {
        let CreateCustomerCommand { reseller, details, options, key, first_profile, accept_charges, actor } = command;
        let id = CustomerId::from_uuid(self.ids.new_id());
        let now = self.clock.now();
        let customer = Customer { id, reseller_id: reseller, date_created: now, details, options };
        let find = async |id| {
            let Some(created) = self.customers.find(reseller, CustomerId::from_uuid(id)).await? else {
                return Ok(None);
            };
            let profiles = self.profiles.list(created.value.id, Page { index: 0, size: 1000 }).await?;
            Ok(Some(CreatedCustomer { customer: created.value, version: created.version, profiles }))
        };
        let Some(first) = first_profile else {
            let event = self.recorder.customer_created(&actor, &customer);
            let write = async |key: Option<_>| match self.customers.insert(&customer, &event, key).await {
                Ok(()) => {
                    tracing::info!(customer_id = %customer.id, "customer created");
                    Ok(Written::Made(CreatedCustomer { customer: customer.clone(), version: 1, profiles: Vec::new() }))
                }
                Err(WriteError::KeyTaken) => Ok(Written::KeyTaken),
                Err(WriteError::NotFound) => Err(CreateCustomerError::ResellerNotFound),
                Err(WriteError::Repository(e)) => Err(e.into()),
                Err(e) => Err(RepositoryError::Unexpected(e.into()).into()),
            };
            return self.keys.create(reseller, key.as_ref(), id.as_uuid(), write, find).await;
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
        let write = async |key: Option<_>| {
            match self.profiles.insert_with_customer(&customer, &profile, now, &events, key).await {
                Ok(()) => {}
                Err(InsertPbxError::KeyTaken) => return Ok(Written::KeyTaken),
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
            Ok(Written::Made(CreatedCustomer { customer: customer.clone(), version: 1, profiles: vec![summary] }))
        };
        self.keys.create(reseller, key.as_ref(), id.as_uuid(), write, find).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::idempotency::{KeptKey, MockIdempotencyStore};
    use crate::ports::RepositoryError;
    use crate::ports::{MockClock, MockCustomerRepository, MockIdGenerator, MockPbxRepository, Versioned};
    use chrono::DateTime;
    use pbx_domain::CustomerName;
    use uuid::Uuid;

    const RESELLER: &str = "11111111-1111-4111-8111-111111111111";
    const CUSTOMER: &str = "0190f5a4-7a4e-7b7e-9a52-6f1f0e0c1d2e";

    fn use_case(customers: MockCustomerRepository) -> CreateCustomer {
        with_profiles(customers, MockPbxRepository::new())
    }

    fn with_profiles(customers: MockCustomerRepository, profiles: MockPbxRepository) -> CreateCustomer {
        with_keys(customers, profiles, MockIdempotencyStore::new())
    }

    fn with_keys(
        customers: MockCustomerRepository,
        profiles: MockPbxRepository,
        keys: MockIdempotencyStore,
    ) -> CreateCustomer {
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
            crate::idempotency::test_keys(keys),
        )
    }

    fn command(name: &str) -> CreateCustomerCommand {
        let details = NewCustomer::named(CustomerName::parse(name).unwrap());
        let options = CustomerOptions::default();
        CreateCustomerCommand {
            reseller: ResellerId::parse(RESELLER).unwrap(),
            details,
            options,
            key: None,
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
            .withf(|c, _, key| c.reseller_id.to_string() == RESELLER && c.id.to_string() == CUSTOMER && key.is_none())
            .times(1)
            .returning(|_, _, _| Ok(()));
        let customer = use_case(customers).execute(command("Acme")).await.unwrap().value.customer;
        assert_eq!(customer.details.name.as_str(), "Acme");
        assert_eq!(customer.date_created.timestamp(), 1_575_043_403);
    }

    fn keyed() -> CreateCustomerCommand {
        CreateCustomerCommand { key: Some(crate::idempotency::test_key("f")), ..command("Acme") }
    }

    #[tokio::test]
    async fn under_an_idempotency_key_the_key_is_written_with_the_customer() {
        let mut customers = MockCustomerRepository::new();
        customers
            .expect_insert()
            .withf(|c, _, key| {
                key.as_ref().is_some_and(|k| {
                    (k.resource_id, k.key.as_str(), k.fingerprint.as_str()) == (c.id.as_uuid(), "k", "f")
                })
            })
            .times(1)
            .returning(|_, _, _| Ok(()));
        let created = use_case(customers).execute(keyed()).await.unwrap();
        assert!(!created.replayed);
        assert_eq!(created.value.version, 1);
    }

    #[tokio::test]
    async fn a_repeat_gets_the_customer_its_first_request_made_re_read_with_its_profiles() {
        const FIRST: &str = "0190f5a4-7a4e-7b7e-9a52-000000000001";
        let mut customers = MockCustomerRepository::new();
        customers.expect_insert().times(1).returning(|_, _, _| Err(WriteError::KeyTaken));
        customers
            .expect_find()
            .withf(|reseller, id| reseller.to_string() == RESELLER && id.to_string() == FIRST)
            .times(1)
            .returning(|reseller, id| {
                let details = NewCustomer::named(CustomerName::parse("Acme").unwrap());
                let date_created = DateTime::from_timestamp(1_500_000_000, 0).unwrap();
                let options = CustomerOptions::default();
                Ok(Some(Versioned {
                    value: Customer { id, reseller_id: reseller, date_created, details, options },
                    version: 3,
                }))
            });
        let mut profiles = MockPbxRepository::new();
        profiles.expect_list().times(1).returning(|_, _| Ok(Vec::new()));
        let mut keys = MockIdempotencyStore::new();
        keys.expect_find().times(1).returning(|_, _| {
            let created_at = DateTime::from_timestamp(1_799_999_000, 0).unwrap();
            Ok(Some(KeptKey { fingerprint: "f".to_owned(), resource_id: Uuid::parse_str(FIRST).unwrap(), created_at }))
        });
        let created = with_keys(customers, profiles, keys).execute(keyed()).await.unwrap();
        assert!(created.replayed);
        let customer = created.value.customer;
        assert_eq!((customer.id.to_string(), customer.date_created.timestamp()), (FIRST.to_owned(), 1_500_000_000));
        assert_eq!(created.value.version, 3);
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
            .withf(|c, p, _, events, _| {
                events.len() == 2 && p.customer_id == c.id && p.country_code == c.details.country_code && !p.enabled
            })
            .times(1)
            .returning(|_, _, _, _, _| Ok(()));
        let created = with_profiles(customers, profiles).execute(with_a_profile(true)).await.unwrap().value;
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
        profiles.expect_insert_with_customer().returning(|_, _, _, _, _| Err(InsertPbxError::InstanceAttached));
        let raced = with_profiles(MockCustomerRepository::new(), profiles).execute(with_a_profile(true)).await;
        assert!(matches!(raced, Err(CreateCustomerError::InstanceAttached)), "{raced:?}");
    }

    #[tokio::test]
    async fn storage_failures_keep_their_kind() {
        let mut customers = MockCustomerRepository::new();
        customers
            .expect_insert()
            .returning(|_, _, _| Err(RepositoryError::Unavailable(anyhow::anyhow!("down")).into()));
        let result = use_case(customers).execute(command("Acme")).await;
        assert!(matches!(result, Err(CreateCustomerError::Storage(RepositoryError::Unavailable(_)))), "{result:?}");
    }
}
