//! Create PBX: attach a new connection profile to one of the caller's customers.

use std::sync::Arc;

use pbx_domain::{CustomerId, PbxId, PbxProfile, ResellerId};

use super::NewProfile;
use crate::events::Recorder;
use crate::idempotency::Reservation;
use crate::ports::{Clock, CustomerRepository, IdGenerator, InsertPbxError, PbxRepository, RepositoryError};
use crate::use_case::opaque_debug;

/// What a reseller asks for.
#[derive(Debug, Clone)]
pub struct CreatePbxCommand {
    /// The caller.
    pub reseller: ResellerId,
    /// The customer the profile is for.
    pub customer_id: CustomerId,
    /// The profile.
    pub profile: NewProfile,
    /// Whether the caller accepted the charge (`accept-charges: true`).
    pub accept_charges: bool,
    /// The id reserved by the request's `Idempotency-Key`, if it has one.
    pub reservation: Option<Reservation>,
    /// Who asks (recorded with the event).
    pub actor: pbx_domain::events::Actor,
}

/// Why no profile was created, in the order a client should hear about them.
#[derive(Debug, thiserror::Error)]
pub enum CreatePbxError {
    /// No customer with that id belongs to the caller.
    #[error("the customer does not exist")]
    CustomerNotFound,
    /// The PBX instance is already attached to a customer (any reseller's).
    #[error("the PBX instance is already attached to a customer")]
    InstanceAttached,
    /// The request is good, but the charge was not accepted; nothing was created.
    #[error("creating a PBX profile is chargeable and the charge was not accepted")]
    ChargesNotAccepted,
    /// The store failed: unavailable (a 503 to come back from), or unexpectedly.
    #[error(transparent)]
    Storage(#[from] RepositoryError),
}

/// The create-PBX use case.
#[derive(Clone)]
pub struct CreatePbx {
    customers: Arc<dyn CustomerRepository>,
    profiles: Arc<dyn PbxRepository>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGenerator>,
    recorder: Recorder,
}

opaque_debug!(CreatePbx);

impl CreatePbx {
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

    /// Creates the profile and returns it. Under a resumed [`Reservation`], a profile that the interrupted first
    /// request created with the reserved id is returned instead of trying to create it again.
    ///
    /// # Errors
    /// See [`CreatePbxError`]; the first that applies, in its order. Without `accept_charges` nothing is written:
    /// the answer is [`CreatePbxError::InstanceAttached`] when the instance is taken, otherwise
    /// [`CreatePbxError::ChargesNotAccepted`].
    #[tracing::instrument(
        name = "create_pbx",
        skip(self, command),
        fields(customer_id = %command.customer_id, pbx_type = %command.profile.connection.pbx_type())
    )]
    pub async fn execute(&self, command: CreatePbxCommand) -> Result<PbxProfile, CreatePbxError> {
        let CreatePbxCommand { reseller, customer_id, profile: valid, accept_charges, reservation, actor } = command;
        let id = PbxId::from_uuid(reservation.map_or_else(|| self.ids.new_id(), |r| r.id));
        // The reserved id was drawn for this caller's key, so a profile under it is the one its first request made
        // (past the ownership check); it is read whole, secrets included, since the create's answer shows them.
        if reservation.is_some_and(|r| r.resumed)
            && let Some(created) = self.profiles.find(customer_id, id).await?
        {
            tracing::info!(pbx_id = %id, "PBX profile created by an interrupted request under the same key");
            return Ok(created.value);
        }
        let inherit_country = valid.country_code.is_none();
        // Without a country of its own, the profile takes its customer's: the insert fills it in.
        let country_code = valid.country_code.unwrap_or_default();
        let mut profile = PbxProfile::new(id, customer_id, valid.name, country_code, valid.connection);
        if !accept_charges {
            // Nothing is written: the answer is the first that applies of 404, 409 and 402.
            self.customers.find(reseller, customer_id).await?.ok_or(CreatePbxError::CustomerNotFound)?;
            let instance = profile.instance_id();
            return Err(if self.profiles.instance_attached(instance.pbx_type(), instance.value()).await? {
                CreatePbxError::InstanceAttached
            } else {
                CreatePbxError::ChargesNotAccepted
            });
        }
        let event = self.recorder.pbx_created(&actor, reseller, &profile);
        match self.profiles.insert_for_reseller(reseller, &profile, inherit_country, self.clock.now(), event).await {
            Ok(stored_country) => {
                profile.country_code = stored_country;
                tracing::info!(pbx_id = %profile.id, "PBX profile created");
                Ok(profile)
            }
            Err(InsertPbxError::CustomerNotFound) => Err(CreatePbxError::CustomerNotFound),
            Err(InsertPbxError::InstanceAttached) => Err(CreatePbxError::InstanceAttached),
            Err(InsertPbxError::Repository(e)) => Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::RepositoryError;
    use crate::ports::{MockClock, MockCustomerRepository, MockIdGenerator, MockPbxRepository, Versioned};
    use chrono::{DateTime, Utc};
    use mockall::predicate::eq;
    use pbx_domain::kazoo::{AccountId, KazooConnection};
    use pbx_domain::{
        CountryCode, Customer, CustomerName, HttpUrl, NewCustomer, PbxConnection, PbxType, ProfileName, Secret, WsUrl,
    };
    use uuid::Uuid;

    const RESELLER: &str = "11111111-1111-4111-8111-111111111111";
    const CUSTOMER: &str = "22222222-2222-4222-8222-222222222222";
    const PBX: &str = "0190f5a4-7a4e-7b7e-9a52-6f1f0e0c1d2e";

    fn reseller() -> ResellerId {
        ResellerId::parse(RESELLER).unwrap()
    }

    fn customer_id() -> CustomerId {
        CustomerId::parse(CUSTOMER).unwrap()
    }

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_575_043_403, 0).unwrap()
    }

    fn customer(country: &str) -> Customer {
        let mut details = NewCustomer::named(CustomerName::parse("Acme").unwrap());
        details.country_code = CountryCode::parse(country).unwrap();
        Customer {
            id: customer_id(),
            reseller_id: reseller(),
            date_created: now(),
            details,
            options: Default::default(),
        }
    }

    fn kazoo(name: &str, country: Option<&str>) -> NewProfile {
        NewProfile {
            name: ProfileName::parse(name).unwrap(),
            country_code: country.map(|c| CountryCode::parse(c).unwrap()),
            connection: KazooConnection {
                host_rest: HttpUrl::parse("https://rest.example.com").unwrap(),
                host_websocket: WsUrl::parse("wss://ws.example.com").unwrap(),
                account_id: AccountId::parse("12345").unwrap(),
                api_key: Secret::parse("ABCDEF").unwrap(),
                monitor_sub_accounts: false,
            }
            .into(),
        }
    }

    fn seed() -> NewProfile {
        kazoo("Clients Kazoo Pbx", None)
    }

    fn command(profile: NewProfile, accept_charges: bool) -> CreatePbxCommand {
        CreatePbxCommand {
            reseller: reseller(),
            customer_id: customer_id(),
            profile,
            accept_charges,
            reservation: None,
            actor: crate::events::test_actor(),
        }
    }

    fn customers_finding(found: Option<Customer>) -> MockCustomerRepository {
        let mut customers = MockCustomerRepository::new();
        customers
            .expect_find()
            .with(eq(reseller()), eq(customer_id()))
            .times(1)
            .return_once(move |_, _| Ok(found.map(|value| Versioned { value, version: 1 })));
        customers
    }

    fn clock() -> MockClock {
        let mut clock = MockClock::new();
        clock.expect_now().return_const(now());
        clock
    }

    fn ids() -> MockIdGenerator {
        let mut ids = MockIdGenerator::new();
        ids.expect_new_id().return_const(Uuid::parse_str(PBX).unwrap());
        ids
    }

    fn use_case(customers: MockCustomerRepository, profiles: MockPbxRepository) -> CreatePbx {
        CreatePbx::new(
            Arc::new(customers),
            Arc::new(profiles),
            Arc::new(clock()),
            Arc::new(ids()),
            crate::events::test_recorder(),
        )
    }

    /// A store that inserts once, answering `answer` (the stored country, or why not).
    fn inserting(answer: fn() -> Result<CountryCode, InsertPbxError>) -> MockPbxRepository {
        let mut profiles = MockPbxRepository::new();
        profiles.expect_insert_for_reseller().times(1).returning(move |_, _, _, _, _| answer());
        profiles
    }

    fn no_customer_lookup() -> MockCustomerRepository {
        let mut customers = MockCustomerRepository::new();
        customers.expect_find().never();
        customers
    }

    fn fr() -> Result<CountryCode, InsertPbxError> {
        Ok(CountryCode::parse("FR").unwrap())
    }

    #[tokio::test]
    async fn creates_a_disabled_profile_in_one_insert_with_the_customers_country_when_none_is_given() {
        let mut profiles = MockPbxRepository::new();
        profiles
            .expect_insert_for_reseller()
            .withf(|reseller_id, profile, inherit, created_at, _| {
                *reseller_id == reseller()
                    && profile.instance_id().value() == "12345"
                    && profile.customer_id == customer_id()
                    && *inherit
                    && *created_at == now()
            })
            .times(1)
            .returning(|_, _, _, _, _| fr());
        let created = use_case(no_customer_lookup(), profiles).execute(command(seed(), true)).await.unwrap();
        assert_eq!(created.id.to_string(), PBX);
        assert_eq!(created.customer_id, customer_id());
        assert_eq!(created.country_code.as_str(), "FR", "the country the store filled in");
        assert!(!created.enabled);
        assert!(matches!(created.connection, PbxConnection::Kazoo(_)));
    }

    #[tokio::test]
    async fn a_given_country_wins_over_the_customers() {
        let mut profiles = MockPbxRepository::new();
        profiles
            .expect_insert_for_reseller()
            .withf(|_, profile, inherit, _, _| !*inherit && profile.country_code.as_str() == "DE")
            .times(1)
            .returning(|_, profile, _, _, _| Ok(profile.country_code));
        let created = use_case(no_customer_lookup(), profiles)
            .execute(command(kazoo("Clients Kazoo Pbx", Some("de")), true))
            .await
            .unwrap();
        assert_eq!(created.country_code.as_str(), "DE");
    }

    const RESERVED: &str = "0190f5a4-7a4e-7b7e-9a52-000000000002";

    fn reserved(resumed: bool) -> CreatePbxCommand {
        let reservation = Some(Reservation { id: Uuid::parse_str(RESERVED).unwrap(), resumed });
        CreatePbxCommand { reservation, ..command(seed(), true) }
    }

    #[tokio::test]
    async fn under_an_idempotency_key_the_profile_takes_the_reserved_id() {
        let mut profiles = MockPbxRepository::new();
        profiles.expect_find().never();
        profiles
            .expect_insert_for_reseller()
            .withf(|_, p, _, _, e| p.id.to_string() == RESERVED && e.pbx_id == Some(p.id))
            .times(1)
            .returning(|_, _, _, _, _| fr());
        let created = use_case(no_customer_lookup(), profiles).execute(reserved(false)).await;
        assert_eq!(created.unwrap().id.to_string(), RESERVED);
    }

    #[tokio::test]
    async fn a_resumed_create_returns_what_the_interrupted_request_created_and_writes_nothing() {
        let mut profiles = MockPbxRepository::new();
        profiles
            .expect_find()
            .withf(|customer, id| *customer == customer_id() && id.to_string() == RESERVED)
            .times(1)
            .returning(|customer, id| {
                let valid = kazoo("As first created", None);
                let value =
                    PbxProfile::new(id, customer, valid.name, CountryCode::parse("FR").unwrap(), valid.connection);
                Ok(Some(Versioned { value, version: 1 }))
            });
        profiles.expect_insert_for_reseller().never();
        profiles.expect_instance_attached().never();
        let created = use_case(no_customer_lookup(), profiles).execute(reserved(true)).await;
        let created = created.unwrap();
        assert_eq!((created.id.to_string(), created.name.as_str()), (RESERVED.to_owned(), "As first created"));
    }

    #[tokio::test]
    async fn a_resumed_create_whose_first_request_created_nothing_creates_under_the_reserved_id() {
        let mut profiles = MockPbxRepository::new();
        profiles.expect_find().times(1).returning(|_, _| Ok(None));
        profiles
            .expect_insert_for_reseller()
            .withf(|_, p, _, _, e| p.id.to_string() == RESERVED && e.pbx_id == Some(p.id))
            .times(1)
            .returning(|_, _, _, _, _| fr());
        let created = use_case(no_customer_lookup(), profiles).execute(reserved(true)).await;
        assert_eq!(created.unwrap().id.to_string(), RESERVED);
    }

    #[tokio::test]
    async fn an_unknown_or_foreign_customer_is_not_found() {
        let profiles = inserting(|| Err(InsertPbxError::CustomerNotFound));
        let result = use_case(no_customer_lookup(), profiles).execute(command(seed(), true)).await;
        assert!(matches!(result, Err(CreatePbxError::CustomerNotFound)), "{result:?}");
    }

    #[tokio::test]
    async fn a_taken_instance_is_a_conflict_when_the_store_refuses_it() {
        let profiles = inserting(|| Err(InsertPbxError::InstanceAttached));
        let result = use_case(no_customer_lookup(), profiles).execute(command(seed(), true)).await;
        assert!(matches!(result, Err(CreatePbxError::InstanceAttached)), "{result:?}");
    }

    #[tokio::test]
    async fn without_accepted_charges_an_unknown_customer_is_not_found_first_and_nothing_is_written() {
        let mut profiles = MockPbxRepository::new();
        profiles.expect_insert_for_reseller().never();
        profiles.expect_instance_attached().never();
        let result = use_case(customers_finding(None), profiles).execute(command(seed(), false)).await;
        assert!(matches!(result, Err(CreatePbxError::CustomerNotFound)), "{result:?}");
    }

    #[tokio::test]
    async fn without_accepted_charges_a_taken_instance_is_still_a_conflict() {
        let mut profiles = MockPbxRepository::new();
        profiles.expect_insert_for_reseller().never();
        profiles.expect_instance_attached().with(eq(PbxType::Kazoo), eq("12345")).times(1).returning(|_, _| Ok(true));
        let result = use_case(customers_finding(Some(customer("US"))), profiles).execute(command(seed(), false)).await;
        assert!(matches!(result, Err(CreatePbxError::InstanceAttached)), "{result:?}");
    }

    #[tokio::test]
    async fn without_accepted_charges_a_good_request_asks_for_them_and_writes_nothing() {
        let mut profiles = MockPbxRepository::new();
        profiles.expect_insert_for_reseller().never();
        profiles.expect_instance_attached().times(1).returning(|_, _| Ok(false));
        let result = use_case(customers_finding(Some(customer("US"))), profiles).execute(command(seed(), false)).await;
        assert!(matches!(result, Err(CreatePbxError::ChargesNotAccepted)), "{result:?}");
    }

    #[tokio::test]
    async fn storage_failures_keep_their_kind() {
        let mut customers = MockCustomerRepository::new();
        customers.expect_find().returning(|_, _| Err(RepositoryError::Unavailable(anyhow::anyhow!("pool timed out"))));
        let result = use_case(customers, MockPbxRepository::new()).execute(command(seed(), false)).await;
        assert!(matches!(result, Err(CreatePbxError::Storage(RepositoryError::Unavailable(_)))), "{result:?}");

        let profiles = inserting(|| Err(RepositoryError::Unexpected(anyhow::anyhow!("disk full")).into()));
        let result = use_case(no_customer_lookup(), profiles).execute(command(seed(), true)).await;
        assert!(matches!(result, Err(CreatePbxError::Storage(RepositoryError::Unexpected(_)))), "{result:?}");
    }
}
