//! Create PBX: attach a new connection profile to one of the caller's customers.

use std::sync::Arc;

use pbx_domain::{CustomerId, PbxId, PbxProfile, ResellerId};

use super::NewProfile;
use crate::events::Recorder;
use crate::idempotency::{IdempotencyKey, IdempotencyKeys, KeyError, Once, Written};
use crate::ports::{Clock, CustomerRepository, IdGenerator, InsertPbxError, PbxRepository, RepositoryError, Versioned};
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
    /// The request's `Idempotency-Key`, if it has one.
    pub key: Option<IdempotencyKey>,
    /// Who asks (recorded with the event).
    pub actor: pbx_domain::events::Actor,
}

/// A profile just created, or re-read for a repeat of its create (see [`crate::idempotency`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedProfile {
    /// The profile, secrets included (a create's answer shows them), and its version.
    pub profile: Versioned<PbxProfile>,
    /// Its kept connection status, when re-read (none is kept yet for a profile just created).
    pub connection: Option<pbx_domain::connection::Status>,
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
    /// The request's `Idempotency-Key` stops it.
    #[error(transparent)]
    Key(#[from] KeyError),
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
    keys: IdempotencyKeys,
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
        keys: IdempotencyKeys,
    ) -> Self {
        Self { customers, profiles, clock, ids, recorder, keys }
    }

    /// Creates the profile and returns it, once per `key` (see [`IdempotencyKeys::create`]: a repeat of the
    /// request gets the profile its first request made, re-read whole).
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
    pub async fn execute(&self, command: CreatePbxCommand) -> Result<Once<CreatedProfile>, CreatePbxError> {
        let CreatePbxCommand { reseller, customer_id, profile: valid, accept_charges, key, actor } = command;
        let id = PbxId::from_uuid(self.ids.new_id());
        let inherit_country = valid.country_code.is_none();
        // Without a country of its own, the profile takes its customer's: the insert fills it in.
        let country_code = valid.country_code.unwrap_or_default();
        let profile = PbxProfile::new(id, customer_id, valid.name, country_code, valid.connection);
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
        let created_at = self.clock.now();
        let write = async |key: Option<_>| {
            let inserted = self
                .profiles
                .insert_for_reseller(reseller, &profile, inherit_country, created_at, event.clone(), key)
                .await;
            let stored_country = match inserted {
                Ok(stored_country) => stored_country,
                Err(InsertPbxError::KeyTaken) => return Ok(Written::KeyTaken),
                Err(InsertPbxError::CustomerNotFound) => return Err(CreatePbxError::CustomerNotFound),
                Err(InsertPbxError::InstanceAttached) => return Err(CreatePbxError::InstanceAttached),
                Err(InsertPbxError::Repository(e)) => return Err(e.into()),
            };
            tracing::info!(pbx_id = %profile.id, "PBX profile created");
            let profile = PbxProfile { country_code: stored_country, ..profile.clone() };
            Ok(Written::Made(CreatedProfile { profile: Versioned { value: profile, version: 1 }, connection: None }))
        };
        // The id was drawn for this caller's key, under the customer of its path (the key's fingerprint holds it).
        let find = async |id| {
            let found = self.profiles.find_created(reseller, customer_id, PbxId::from_uuid(id)).await?;
            Ok(found.map(|found| CreatedProfile { profile: found.current, connection: Some(found.connection) }))
        };
        self.keys.create(reseller, key.as_ref(), id.as_uuid(), write, find).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::idempotency::{KeptKey, MockIdempotencyStore};
    use crate::ports::RepositoryError;
    use crate::ports::{
        MockClock, MockCustomerRepository, MockIdGenerator, MockPbxRepository, ProfileToChange, Versioned,
    };
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
            key: None,
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
        with_keys(customers, profiles, MockIdempotencyStore::new())
    }

    fn with_keys(
        customers: MockCustomerRepository,
        profiles: MockPbxRepository,
        keys: MockIdempotencyStore,
    ) -> CreatePbx {
        CreatePbx::new(
            Arc::new(customers),
            Arc::new(profiles),
            Arc::new(clock()),
            Arc::new(ids()),
            crate::events::test_recorder(),
            crate::idempotency::test_keys(keys),
        )
    }

    /// A store that inserts once, answering `answer` (the stored country, or why not).
    fn inserting(answer: fn() -> Result<CountryCode, InsertPbxError>) -> MockPbxRepository {
        let mut profiles = MockPbxRepository::new();
        profiles.expect_insert_for_reseller().times(1).returning(move |_, _, _, _, _, _| answer());
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
            .withf(|reseller_id, profile, inherit, created_at, _, key| {
                *reseller_id == reseller()
                    && profile.instance_id().value() == "12345"
                    && profile.customer_id == customer_id()
                    && *inherit
                    && *created_at == now()
                    && key.is_none()
            })
            .times(1)
            .returning(|_, _, _, _, _, _| fr());
        let created = use_case(no_customer_lookup(), profiles).execute(command(seed(), true)).await.unwrap();
        assert!(!created.replayed && created.value.connection.is_none());
        assert_eq!(created.value.profile.version, 1);
        let created = created.value.profile.value;
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
            .withf(|_, profile, inherit, _, _, _| !*inherit && profile.country_code.as_str() == "DE")
            .times(1)
            .returning(|_, profile, _, _, _, _| Ok(profile.country_code));
        let created = use_case(no_customer_lookup(), profiles)
            .execute(command(kazoo("Clients Kazoo Pbx", Some("de")), true))
            .await
            .unwrap();
        assert_eq!(created.value.profile.value.country_code.as_str(), "DE");
    }

    fn keyed() -> CreatePbxCommand {
        CreatePbxCommand { key: Some(crate::idempotency::test_key("f")), ..command(seed(), true) }
    }

    #[tokio::test]
    async fn under_an_idempotency_key_the_key_is_written_with_the_profile() {
        let mut profiles = MockPbxRepository::new();
        profiles
            .expect_insert_for_reseller()
            .withf(|_, p, _, _, e, key| {
                e.pbx_id == Some(p.id) && key.as_ref().is_some_and(|k| k.resource_id == p.id.as_uuid())
            })
            .times(1)
            .returning(|_, _, _, _, _, _| fr());
        let created = use_case(no_customer_lookup(), profiles).execute(keyed()).await.unwrap();
        assert!(!created.replayed);
        assert_eq!(created.value.profile.value.id.to_string(), PBX);
    }

    #[tokio::test]
    async fn a_repeat_gets_the_profile_its_first_request_made_re_read_with_its_status() {
        const FIRST: &str = "0190f5a4-7a4e-7b7e-9a52-000000000002";
        let mut profiles = MockPbxRepository::new();
        profiles.expect_insert_for_reseller().times(1).returning(|_, _, _, _, _, _| Err(InsertPbxError::KeyTaken));
        profiles
            .expect_find_created()
            .withf(|r, customer, id| (*r, *customer, id.to_string()) == (reseller(), customer_id(), FIRST.to_owned()))
            .times(1)
            .returning(|_, customer, id| {
                let valid = kazoo("As first created", None);
                let value =
                    PbxProfile::new(id, customer, valid.name, CountryCode::parse("FR").unwrap(), valid.connection);
                Ok(Some(ProfileToChange {
                    current: Versioned { value, version: 2 },
                    customer_country: CountryCode::parse("FR").unwrap(),
                    connection: pbx_domain::connection::Status::default(),
                }))
            });
        let mut keys = MockIdempotencyStore::new();
        keys.expect_find().times(1).returning(|_, _| {
            let created_at = DateTime::from_timestamp(1_799_999_000, 0).unwrap();
            Ok(Some(KeptKey { fingerprint: "f".to_owned(), resource_id: Uuid::parse_str(FIRST).unwrap(), created_at }))
        });
        let created = with_keys(no_customer_lookup(), profiles, keys).execute(keyed()).await.unwrap();
        assert!(created.replayed && created.value.connection.is_some());
        let profile = created.value.profile;
        assert_eq!((profile.value.id.to_string(), profile.value.name.as_str()), (FIRST.to_owned(), "As first created"));
        assert_eq!(profile.version, 2);
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
