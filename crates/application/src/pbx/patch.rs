//! Patch PBX: change a profile with a JSON Patch; the result must pass every rule of a create.

use std::sync::Arc;

use pbx_domain::{CustomerId, PbxId, PbxProfile, ResellerId};

use super::fields;
use crate::input::{FieldProblem, Problems};
use crate::patch::{PatchError, PatchOp, apply};
use crate::ports::{CustomerRepository, PbxRepository, Versioned, WriteError};
use crate::use_case::{opaque_debug, storage_errors};

/// What a reseller asks for.
#[derive(Debug, Clone)]
pub struct PatchPbxCommand {
    /// The caller.
    pub reseller: ResellerId,
    /// The profile's customer.
    pub customer_id: CustomerId,
    /// The profile.
    pub pbx_id: PbxId,
    /// The patch document.
    pub operations: Vec<PatchOp>,
    /// Whether the caller accepted the charge of enabling the profile.
    pub accept_charges: bool,
    /// The version the caller last saw (`If-Match`), when given.
    pub if_match: Option<u64>,
}

/// Why the profile was not changed, in the order a client should hear about them.
#[derive(Debug, thiserror::Error)]
pub enum PatchPbxError {
    /// No such customer for the caller, or no such profile for the customer.
    #[error("not found")]
    NotFound,
    /// The profile changed since the version the caller gave.
    #[error("the profile has changed")]
    PreconditionFailed,
    /// The patch or the patched profile has problems; every one is listed.
    #[error("the patch is invalid")]
    Invalid(Vec<FieldProblem>),
    /// A `test` operation failed at this path.
    #[error("a test operation failed")]
    TestFailed(String),
    /// The new PBX instance is attached to a customer already.
    #[error("the PBX instance is already attached to a customer")]
    InstanceAttached,
    /// Enabling the profile is chargeable and the charge was not accepted.
    #[error("enabling a PBX profile is chargeable and the charge was not accepted")]
    ChargesNotAccepted,
    /// The database is unavailable.
    #[error("the database is unavailable")]
    Unavailable(#[source] anyhow::Error),
    /// Anything else.
    #[error(transparent)]
    Unexpected(anyhow::Error),
}
storage_errors!(PatchPbxError);

impl From<WriteError> for PatchPbxError {
    fn from(error: WriteError) -> Self {
        match error {
            WriteError::NotFound => Self::NotFound,
            WriteError::VersionMismatch => Self::PreconditionFailed,
            WriteError::InstanceAttached => Self::InstanceAttached,
            WriteError::InUse => Self::Unexpected(anyhow::anyhow!("a profile cannot be in use")),
            WriteError::Repository(e) => e.into(),
        }
    }
}

/// The patch-PBX use case.
#[derive(Clone)]
pub struct PatchPbx {
    customers: Arc<dyn CustomerRepository>,
    profiles: Arc<dyn PbxRepository>,
}
opaque_debug!(PatchPbx);

impl PatchPbx {
    /// The use case over its ports.
    #[must_use]
    pub fn new(customers: Arc<dyn CustomerRepository>, profiles: Arc<dyn PbxRepository>) -> Self {
        Self { customers, profiles }
    }

    /// Applies the patch and returns the profile as stored.
    ///
    /// # Errors
    /// See [`PatchPbxError`]; the first that applies, in its order.
    #[tracing::instrument(name = "patch_pbx", skip(self, command), fields(pbx_id = %command.pbx_id))]
    pub async fn execute(&self, command: PatchPbxCommand) -> Result<Versioned<PbxProfile>, PatchPbxError> {
        let customer =
            self.customers.find(command.reseller, command.customer_id).await?.ok_or(PatchPbxError::NotFound)?.value;
        let current = self.profiles.find(command.customer_id, command.pbx_id).await?.ok_or(PatchPbxError::NotFound)?;
        if command.if_match.is_some_and(|v| v != current.version) {
            return Err(PatchPbxError::PreconditionFailed);
        }
        let pbx_type = current.value.pbx_type();
        let mut values = fields::of(&current.value);
        apply(&mut values, command.operations, &fields::rules(pbx_type)).map_err(|e| match e {
            PatchError::Invalid(problems) => PatchPbxError::Invalid(problems),
            PatchError::TestFailed(path) => PatchPbxError::TestFailed(path),
        })?;
        let (draft, enabled) = fields::draft(pbx_type, values);
        let mut problems = Problems::from_vec(draft.problems());
        let enabled = problems.take(enabled);
        if !problems.is_empty() {
            return Err(PatchPbxError::Invalid(problems.into_vec()));
        }
        let valid = draft.parse().map_err(PatchPbxError::Invalid)?;
        let patched = PbxProfile {
            id: current.value.id,
            customer_id: current.value.customer_id,
            name: valid.name,
            country_code: valid.country_code.unwrap_or(customer.details.country_code),
            enabled: enabled.unwrap_or(current.value.enabled),
            connection: valid.connection,
        };
        let turned_on = patched.enabled && !current.value.enabled;
        if turned_on && !command.accept_charges {
            let (before, after) = (current.value.instance_id(), patched.instance_id());
            if before != after && self.profiles.instance_attached(after.pbx_type(), after.value()).await? {
                return Err(PatchPbxError::InstanceAttached);
            }
            return Err(PatchPbxError::ChargesNotAccepted);
        }
        let version = self.profiles.update(&patched, current.version).await?;
        tracing::info!(version, "PBX profile changed");
        Ok(Versioned { value: patched, version })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::Raw;
    use crate::ports::{MockCustomerRepository, MockPbxRepository, RepositoryError};
    use pbx_domain::kazoo::{AccountId, KazooConnection};
    use pbx_domain::{CountryCode, CustomerName, HttpUrl, NewCustomer, ProfileName, Secret, WsUrl};
    use uuid::Uuid;

    fn reseller() -> ResellerId {
        ResellerId::from_uuid(Uuid::from_u128(1))
    }

    fn customer_id() -> CustomerId {
        CustomerId::from_uuid(Uuid::from_u128(2))
    }

    fn pbx_id() -> PbxId {
        PbxId::from_uuid(Uuid::from_u128(3))
    }

    fn profile(enabled: bool) -> PbxProfile {
        let mut profile = PbxProfile::new(
            pbx_id(),
            customer_id(),
            ProfileName::parse("Main").unwrap(),
            CountryCode::parse("DE").unwrap(),
            KazooConnection {
                host_rest: HttpUrl::parse("https://rest.example.com").unwrap(),
                host_websocket: WsUrl::parse("wss://ws.example.com").unwrap(),
                account_id: AccountId::parse("12345").unwrap(),
                api_key: Secret::parse("ABCDEF").unwrap(),
                monitor_sub_accounts: false,
            }
            .into(),
        );
        profile.enabled = enabled;
        profile
    }

    fn customers(found: bool) -> MockCustomerRepository {
        let mut customers = MockCustomerRepository::new();
        customers.expect_find().returning(move |reseller, id| {
            let mut details = NewCustomer::named(CustomerName::parse("Acme").unwrap());
            details.country_code = CountryCode::parse("FR").unwrap();
            Ok(found.then(|| Versioned {
                value: pbx_domain::Customer { id, reseller_id: reseller, date_created: chrono::Utc::now(), details },
                version: 1,
            }))
        });
        customers
    }

    fn stored(enabled: bool) -> MockPbxRepository {
        let mut profiles = MockPbxRepository::new();
        profiles.expect_find().returning(move |_, _| Ok(Some(Versioned { value: profile(enabled), version: 4 })));
        profiles
    }

    fn replace(path: &str, value: Raw) -> PatchOp {
        PatchOp::Replace { path: path.to_owned(), value }
    }

    fn command(operations: Vec<PatchOp>, accept_charges: bool, if_match: Option<u64>) -> PatchPbxCommand {
        PatchPbxCommand {
            reseller: reseller(),
            customer_id: customer_id(),
            pbx_id: pbx_id(),
            operations,
            accept_charges,
            if_match,
        }
    }

    async fn run(
        customers: MockCustomerRepository,
        profiles: MockPbxRepository,
        command: PatchPbxCommand,
    ) -> Result<Versioned<PbxProfile>, PatchPbxError> {
        PatchPbx::new(Arc::new(customers), Arc::new(profiles)).execute(command).await
    }

    #[tokio::test]
    async fn a_rename_is_stored_at_the_read_version_and_keeps_the_secrets() {
        let mut profiles = stored(false);
        profiles
            .expect_update()
            .withf(|p, v| *v == 4 && p.name.as_str() == "New" && p.connection == profile(false).connection)
            .times(1)
            .returning(|_, _| Ok(5));
        let patched =
            run(customers(true), profiles, command(vec![replace("/name", Raw::Text("New".into()))], false, Some(4)))
                .await
                .unwrap();
        assert_eq!(patched.version, 5);
        assert_eq!(patched.value.country_code.as_str(), "DE", "an untouched country stays");
    }

    #[tokio::test]
    async fn removing_the_country_falls_back_to_the_customers() {
        let mut profiles = stored(false);
        profiles.expect_update().returning(|_, _| Ok(5));
        let ops = vec![PatchOp::Remove { path: "/countryCode".into() }];
        let patched = run(customers(true), profiles, command(ops, false, None)).await.unwrap();
        assert_eq!(patched.value.country_code.as_str(), "FR");
    }

    #[tokio::test]
    async fn missing_customer_or_profile_is_not_found() {
        let result = run(customers(false), MockPbxRepository::new(), command(vec![], false, None)).await;
        assert!(matches!(result, Err(PatchPbxError::NotFound)), "{result:?}");
        let mut profiles = MockPbxRepository::new();
        profiles.expect_find().returning(|_, _| Ok(None));
        let result = run(customers(true), profiles, command(vec![], false, None)).await;
        assert!(matches!(result, Err(PatchPbxError::NotFound)), "{result:?}");
    }

    #[tokio::test]
    async fn a_stale_version_is_a_failed_precondition_before_and_during_the_write() {
        let result = run(customers(true), stored(false), command(vec![], false, Some(3))).await;
        assert!(matches!(result, Err(PatchPbxError::PreconditionFailed)), "{result:?}");
        let mut profiles = stored(false);
        profiles.expect_update().returning(|_, _| Err(WriteError::VersionMismatch));
        let result = run(customers(true), profiles, command(vec![], false, Some(4))).await;
        assert!(matches!(result, Err(PatchPbxError::PreconditionFailed)), "{result:?}");
    }

    #[tokio::test]
    async fn bad_operations_and_bad_values_are_invalid_and_nothing_is_written() {
        for ops in [
            vec![replace("/_type", Raw::Text("ThreeCxConnectionProfile".into()))],
            vec![replace("/hostRest", Raw::Text("ftp://x".into()))],
            vec![replace("/enabled", Raw::Number)],
        ] {
            let mut profiles = stored(false);
            profiles.expect_update().never();
            let result = run(customers(true), profiles, command(ops.clone(), true, None)).await;
            assert!(matches!(result, Err(PatchPbxError::Invalid(_))), "{ops:?}: {result:?}");
        }
    }

    #[tokio::test]
    async fn a_failed_test_writes_nothing() {
        let mut profiles = stored(false);
        profiles.expect_update().never();
        let ops = vec![PatchOp::Test { path: "/name".into(), value: Raw::Text("Other".into()) }];
        let result = run(customers(true), profiles, command(ops, false, None)).await;
        assert!(matches!(&result, Err(PatchPbxError::TestFailed(path)) if path == "/name"), "{result:?}");
    }

    #[tokio::test]
    async fn enabling_needs_the_charge_accepted() {
        let enable = || vec![replace("/enabled", Raw::Text("true".into()))];
        let mut profiles = stored(false);
        profiles.expect_update().never();
        let result = run(customers(true), profiles, command(enable(), false, None)).await;
        assert!(matches!(result, Err(PatchPbxError::ChargesNotAccepted)), "{result:?}");

        let mut profiles = stored(false);
        profiles.expect_update().withf(|p, _| p.enabled).times(1).returning(|_, _| Ok(5));
        assert!(run(customers(true), profiles, command(enable(), true, None)).await.is_ok());

        // Already enabled: nothing to charge.
        let mut profiles = stored(true);
        profiles.expect_update().times(1).returning(|_, _| Ok(5));
        assert!(run(customers(true), profiles, command(enable(), false, None)).await.is_ok());
    }

    #[tokio::test]
    async fn a_taken_instance_is_a_conflict_before_the_charge_and_at_the_write() {
        let ops = || vec![replace("/accountId", Raw::Text("taken".into())), replace("/enabled", Raw::Bool(true))];
        let mut profiles = stored(false);
        profiles.expect_instance_attached().withf(|_, id| id == "taken").returning(|_, _| Ok(true));
        profiles.expect_update().never();
        let result = run(customers(true), profiles, command(ops(), false, None)).await;
        assert!(matches!(result, Err(PatchPbxError::InstanceAttached)), "{result:?}");

        let mut profiles = stored(false);
        profiles.expect_update().returning(|_, _| Err(WriteError::InstanceAttached));
        let result = run(customers(true), profiles, command(ops(), true, None)).await;
        assert!(matches!(result, Err(PatchPbxError::InstanceAttached)), "{result:?}");
    }

    #[tokio::test]
    async fn storage_failures_keep_their_kind() {
        let mut profiles = MockPbxRepository::new();
        profiles.expect_find().returning(|_, _| Err(RepositoryError::Unavailable(anyhow::anyhow!("down"))));
        let result = run(customers(true), profiles, command(vec![], false, None)).await;
        assert!(matches!(result, Err(PatchPbxError::Unavailable(_))), "{result:?}");
    }
}
