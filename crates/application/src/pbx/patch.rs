//! Patch PBX: change a profile; the changed profile is whole and valid (the front end read each field it changes
//! through the same rules as a create), and enabling it is chargeable. A change never decrypts the stored secrets:
//! it keeps them, or writes new ones.

use std::sync::Arc;

use pbx_domain::connection::Status;
use pbx_domain::{CountryCode, CustomerId, PbxId, PbxProfile, ResellerId, SecretEdit, Withheld};

use super::NewProfile;
use crate::events::Recorder;
use crate::ports::{PbxRepository, ProfileToChange, RepositoryError, Versioned, WriteError};
use crate::use_case::opaque_debug;

/// A profile as it is before a change, with what a change needs to know of its customer.
#[derive(Debug, Clone)]
pub struct Editable {
    /// The profile (its secrets not read) and its version.
    pub current: Versioned<PbxProfile<Withheld>>,
    /// The customer's country: a profile's country when it has none of its own.
    customer_country: CountryCode,
    /// The customer's reseller.
    reseller: ResellerId,
    /// The profile's connection status as kept when read.
    connection: Status,
}

/// A profile changed: its new version, and its connection status once changed (what was kept, or what a change of
/// its connection fields leaves of it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Patched {
    /// The profile (without its secrets) and its new version.
    pub profile: Versioned<PbxProfile<Withheld>>,
    /// Its connection status.
    pub connection: Status,
}

/// The profile a change makes: every field a client can set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileChange {
    /// The profile's fields, its secret kept or written.
    pub profile: NewProfile<SecretEdit>,
    /// Whether the platform uses it.
    pub enabled: bool,
    /// The secret fields the change writes (the API's names), named in the event's `changed` whether or not their
    /// value differs: otherwise `changed` would confirm a guess of a stored secret.
    pub secrets_written: Vec<String>,
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
    /// The new PBX instance is attached to a customer already.
    #[error("the PBX instance is already attached to a customer")]
    InstanceAttached,
    /// The change points the profile's secret somewhere else without writing the secret again (a Kazoo profile's
    /// host, a 3CX profile's licence key or user name): a caller that cannot read the stored secret could otherwise
    /// send it to a host of its own. Holds the secret's field (the API's name) and the fields that moved it.
    #[error("{0} must be given again with a change of {1}")]
    SecretNotRepeated(&'static str, &'static str),
    /// Enabling the profile is chargeable and the charge was not accepted.
    #[error("enabling a PBX profile is chargeable and the charge was not accepted")]
    ChargesNotAccepted,
    /// The store failed: unavailable (a 503 to come back from), or unexpectedly.
    #[error(transparent)]
    Storage(#[from] RepositoryError),
}

impl From<WriteError> for PatchPbxError {
    fn from(error: WriteError) -> Self {
        match error {
            WriteError::NotFound => Self::NotFound,
            WriteError::VersionMismatch => Self::PreconditionFailed,
            WriteError::InstanceAttached => Self::InstanceAttached,
            WriteError::InUse | WriteError::LimitReached | WriteError::KeyTaken => Self::Storage(
                RepositoryError::Unexpected(anyhow::anyhow!("a profile's patch is not in use, limited or keyed")),
            ),
            WriteError::Repository(e) => e.into(),
        }
    }
}

/// The patch-PBX use case: [`PatchPbx::load`] the profile, change it, [`PatchPbx::save`] the change.
#[derive(Clone)]
pub struct PatchPbx {
    profiles: Arc<dyn PbxRepository>,
    recorder: Recorder,
}
opaque_debug!(PatchPbx);

impl PatchPbx {
    /// The use case over its ports.
    #[must_use]
    pub fn new(profiles: Arc<dyn PbxRepository>, recorder: Recorder) -> Self {
        Self { profiles, recorder }
    }

    /// The profile to change, its secrets not read; `if_match` is the version the caller last saw, when it gave one.
    ///
    /// # Errors
    /// [`PatchPbxError::NotFound`], [`PatchPbxError::PreconditionFailed`] when the profile has another version,
    /// or a storage failure.
    #[tracing::instrument(name = "load_pbx", skip(self))]
    pub async fn load(
        &self,
        reseller: ResellerId,
        customer_id: CustomerId,
        pbx_id: PbxId,
        if_match: Option<u64>,
    ) -> Result<Editable, PatchPbxError> {
        let ProfileToChange { current, customer_country, connection } =
            self.profiles.find_to_change(reseller, customer_id, pbx_id).await?.ok_or(PatchPbxError::NotFound)?;
        if if_match.is_some_and(|v| v != current.version) {
            return Err(PatchPbxError::PreconditionFailed);
        }
        Ok(Editable { current, customer_country, reseller, connection })
    }

    /// Stores `change` over `editable`, if nothing changed the profile since it was loaded.
    ///
    /// # Errors
    /// See [`PatchPbxError`]; the first that applies, in its order. Without `accept_charges`, a change that turns
    /// the profile on writes nothing: [`PatchPbxError::InstanceAttached`] when its new instance is taken,
    /// otherwise [`PatchPbxError::ChargesNotAccepted`].
    #[tracing::instrument(name = "save_pbx", skip_all, fields(pbx_id = %editable.current.value.id))]
    pub async fn save(
        &self,
        editable: Editable,
        change: ProfileChange,
        accept_charges: bool,
        actor: &pbx_domain::events::Actor,
    ) -> Result<Patched, PatchPbxError> {
        let Editable { current, customer_country, reseller, connection } = editable;
        let ProfileChange { profile: new, enabled, secrets_written } = change;
        let mut written = None;
        let patched = PbxProfile {
            id: current.value.id,
            customer_id: current.value.customer_id,
            name: new.name,
            country_code: new.country_code.unwrap_or(customer_country),
            enabled,
            connection: new.connection.map_secrets(|secret| {
                if let SecretEdit::Written(secret) = secret {
                    written = Some(secret);
                }
                Withheld
            }),
        };
        if let Some((secret, moved)) = current.value.connection.moved_secret(&patched.connection)
            && !secrets_written.iter().any(|written| written == secret)
        {
            return Err(PatchPbxError::SecretNotRepeated(secret, moved));
        }
        let turned_on = patched.enabled && !current.value.enabled;
        if turned_on && !accept_charges {
            let (before, after) = (current.value.instance_id(), patched.instance_id());
            let moved = before.pbx_type() != after.pbx_type() || before.normalized() != after.normalized();
            if moved && self.profiles.instance_attached(after.pbx_type(), after.value()).await? {
                return Err(PatchPbxError::InstanceAttached);
            }
            return Err(PatchPbxError::ChargesNotAccepted);
        }
        let event =
            self.recorder.pbx_changed(actor, reseller, (&current.value, &patched), secrets_written, &connection);
        let connection = event.connection_after(patched.pbx_type(), connection);
        let version = self.profiles.update(&current.value, &patched, written, current.version, &event).await?;
        tracing::info!(version, "PBX profile changed");
        Ok(Patched { profile: Versioned { value: patched, version }, connection })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::{MockPbxRepository, RepositoryError};
    use pbx_domain::kazoo::{AccountId, KazooConnection};
    use pbx_domain::{HttpUrl, PbxConnection, ProfileName, Secret, WsUrl};
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

    fn kazoo(account: &str) -> PbxConnection {
        KazooConnection {
            host_rest: HttpUrl::parse("https://rest.example.com").unwrap(),
            host_websocket: WsUrl::parse("wss://ws.example.com").unwrap(),
            account_id: AccountId::parse(account).unwrap(),
            api_key: Secret::parse("ABCDEF").unwrap(),
            monitor_sub_accounts: false,
        }
        .into()
    }

    fn profile(enabled: bool) -> PbxProfile {
        let mut profile = PbxProfile::new(
            pbx_id(),
            customer_id(),
            ProfileName::parse("Main").unwrap(),
            CountryCode::parse("DE").unwrap(),
            kazoo("12345"),
        );
        profile.enabled = enabled;
        profile
    }

    /// A kept status: the last check passed, and a collector reported (when the tests started: never stale).
    fn kept() -> Status {
        use pbx_domain::connection::{Checked, CollectorReport, CollectorState, Findings};
        static STARTED: std::sync::OnceLock<chrono::DateTime<chrono::Utc>> = std::sync::OnceLock::new();
        let mut findings = Findings::default();
        pbx_domain::kazoo::check::CONDITIONS.iter().for_each(|&c| findings.holds(c));
        let now = *STARTED.get_or_init(chrono::Utc::now);
        let collector = CollectorReport {
            state: CollectorState::Connected,
            reason: None,
            message: None,
            last_seen_at: now,
            last_event_at: None,
        };
        Status {
            checked: Some(Checked::new(findings, &pbx_domain::kazoo::check::CONDITIONS, None, now)),
            collector: Some(collector),
            checking_until: Some(now + chrono::TimeDelta::seconds(10)),
        }
    }

    fn stored(enabled: bool) -> MockPbxRepository {
        let mut profiles = MockPbxRepository::new();
        profiles.expect_find_to_change().returning(move |_, _, _| {
            Ok(Some(ProfileToChange {
                current: Versioned { value: profile(enabled).withheld(), version: 4 },
                customer_country: CountryCode::parse("FR").unwrap(),
                connection: kept(),
            }))
        });
        profiles
    }

    /// The change of a profile named `name` reaching `account`, with `country` and `enabled`.
    fn change(name: &str, account: &str, country: Option<&str>, enabled: bool) -> ProfileChange {
        let profile = NewProfile {
            name: ProfileName::parse(name).unwrap(),
            country_code: country.map(|c| CountryCode::parse(c).unwrap()),
            connection: kazoo(account).map_secrets(|_| SecretEdit::Kept),
        };
        ProfileChange { profile, enabled, secrets_written: Vec::new() }
    }

    async fn run(
        profiles: MockPbxRepository,
        if_match: Option<u64>,
        change: ProfileChange,
        accept_charges: bool,
    ) -> Result<Versioned<PbxProfile<Withheld>>, PatchPbxError> {
        Ok(run_with(crate::events::test_recorder(), profiles, if_match, change, accept_charges).await?.profile)
    }

    async fn run_with(
        recorder: Recorder,
        profiles: MockPbxRepository,
        if_match: Option<u64>,
        change: ProfileChange,
        accept_charges: bool,
    ) -> Result<Patched, PatchPbxError> {
        let use_case = PatchPbx::new(Arc::new(profiles), recorder);
        let editable = use_case.load(reseller(), customer_id(), pbx_id(), if_match).await?;
        use_case.save(editable, change, accept_charges, &crate::events::test_actor()).await
    }

    /// A recorder that shows a profile as its name and its Kazoo account.
    fn showing_accounts() -> Recorder {
        let mut render = crate::events::MockRender::new();
        render.expect_profile().returning(|p| {
            let account = match &p.connection {
                PbxConnection::Kazoo(kazoo) => kazoo.account_id.as_str().to_owned(),
                _ => String::new(),
            };
            serde_json::json!({"name": p.name.as_str(), "accountId": account})
        });
        let system = crate::system::SystemClock;
        Recorder::new(Arc::new(system), Arc::new(crate::system::UuidV7Generator), Arc::new(render))
    }

    #[tokio::test]
    async fn the_event_shows_the_connection_kept_and_a_new_account_forgets_the_check_not_the_collector() {
        use pbx_domain::connection::ConnectionState;
        let connection_of = |event: &crate::events::NewEvent| event.data.as_ref().unwrap()["connection"].clone();
        let mut profiles = stored(false);
        profiles
            .expect_update()
            .withf(move |_, _, _, _, e| {
                let connection = connection_of(e);
                e.changed.as_deref() == Some(&["name".to_owned()][..])
                    && connection["state"] == "connected"
                    && connection["conditions"].as_array().unwrap().len() == 3
            })
            .times(1)
            .returning(|_, _, _, _, _| Ok(5));
        let renamed =
            run_with(showing_accounts(), profiles, None, change("New", "12345", Some("DE"), false), false).await;
        assert_eq!(renamed.unwrap().connection, kept(), "a rename keeps the status (the answer shows it)");

        let mut profiles = stored(false);
        profiles
            .expect_update()
            .withf(move |_, _, _, _, e| {
                let connection = connection_of(e);
                connection["state"] == "unknown"
                    && connection["conditions"].as_array().unwrap().is_empty()
                    && connection["collector"]["state"] == "connected"
            })
            .times(1)
            .returning(|_, _, _, _, _| Ok(5));
        let moved = run_with(showing_accounts(), profiles, None, change("Main", "67890", None, false), false).await;
        let connection = moved.unwrap().connection;
        assert_eq!((connection.checked, connection.checking_until), (None, None));
        assert!(connection.collector.is_some());
        assert_eq!(
            kept().summarize(true, chrono::Utc::now(), chrono::TimeDelta::minutes(15)).state,
            ConnectionState::Checking,
            "what the event does not record"
        );
    }

    #[tokio::test]
    async fn a_rename_is_stored_at_the_read_version() {
        let mut profiles = stored(false);
        profiles
            .expect_update()
            .withf(|before, p, secret, v, _| {
                *v == 4
                    && p.name.as_str() == "New"
                    && p.connection == profile(false).withheld().connection
                    && before.name.as_str() == "Main"
                    && secret.is_none()
            })
            .times(1)
            .returning(|_, _, _, _, _| Ok(5));
        let patched = run(profiles, Some(4), change("New", "12345", Some("DE"), false), false).await.unwrap();
        assert_eq!(patched.version, 5);
        assert_eq!(patched.value.country_code.as_str(), "DE");
    }

    #[tokio::test]
    async fn only_a_written_secret_reaches_the_store_and_the_event_names_it_equal_or_not() {
        let mut profiles = stored(false);
        profiles
            .expect_update()
            .withf(|_, _, secret, _, e| {
                secret.as_ref().is_some_and(|s| s.expose() == "ABCDEF")
                    && e.changed.as_deref() == Some(&["apiKey".to_owned(), "name".to_owned()][..])
            })
            .times(1)
            .returning(|_, _, _, _, _| Ok(5));
        let mut rekeyed = change("New", "12345", Some("DE"), false);
        rekeyed.profile.connection = kazoo("12345").map_secrets(SecretEdit::Written);
        rekeyed.secrets_written = vec!["apiKey".to_owned()];
        let patched = run(profiles, None, rekeyed, false).await.unwrap();
        assert_eq!(patched.value.connection, profile(false).withheld().connection, "the answer holds no secret");
    }

    #[tokio::test]
    async fn without_a_country_the_customers_stands_in() {
        let mut profiles = stored(false);
        profiles.expect_update().returning(|_, _, _, _, _| Ok(5));
        let patched = run(profiles, None, change("Main", "12345", None, false), false).await.unwrap();
        assert_eq!(patched.value.country_code.as_str(), "FR");
    }

    #[tokio::test]
    async fn missing_customer_or_profile_is_not_found() {
        // Another reseller's customer reads as missing, like a missing profile: the port says so.
        let mut profiles = MockPbxRepository::new();
        profiles
            .expect_find_to_change()
            .withf(|r, c, p| (*r, *c, *p) == (reseller(), customer_id(), pbx_id()))
            .returning(|_, _, _| Ok(None));
        let use_case = PatchPbx::new(Arc::new(profiles), crate::events::test_recorder());
        let result = use_case.load(reseller(), customer_id(), pbx_id(), None).await;
        assert!(matches!(result, Err(PatchPbxError::NotFound)), "{result:?}");
    }

    #[tokio::test]
    async fn a_stale_version_is_a_failed_precondition_before_and_during_the_write() {
        let result = run(stored(false), Some(3), change("Main", "12345", None, false), false).await;
        assert!(matches!(result, Err(PatchPbxError::PreconditionFailed)), "{result:?}");
        let mut profiles = stored(false);
        profiles.expect_update().returning(|_, _, _, _, _| Err(WriteError::VersionMismatch));
        let result = run(profiles, Some(4), change("Main", "12345", None, false), false).await;
        assert!(matches!(result, Err(PatchPbxError::PreconditionFailed)), "{result:?}");
    }

    #[tokio::test]
    async fn enabling_needs_the_charge_accepted() {
        let enable = || change("Main", "12345", None, true);
        let mut profiles = stored(false);
        profiles.expect_update().never();
        profiles.expect_instance_attached().never();
        let result = run(profiles, None, enable(), false).await;
        assert!(matches!(result, Err(PatchPbxError::ChargesNotAccepted)), "{result:?}");

        let mut profiles = stored(false);
        profiles
            .expect_update()
            .withf(|_, p, _, _, e| p.enabled && e.event_type == pbx_domain::events::EventType::PbxEnabled)
            .times(1)
            .returning(|_, _, _, _, _| Ok(5));
        assert!(run(profiles, None, enable(), true).await.is_ok());

        // Already enabled: nothing to charge.
        let mut profiles = stored(true);
        profiles.expect_update().times(1).returning(|_, _, _, _, _| Ok(5));
        assert!(run(profiles, None, enable(), false).await.is_ok());
    }

    #[tokio::test]
    async fn a_taken_instance_is_a_conflict_before_the_charge_and_at_the_write() {
        let mut profiles = stored(false);
        profiles.expect_instance_attached().withf(|_, id| id == "taken").returning(|_, _| Ok(true));
        profiles.expect_update().never();
        let result = run(profiles, None, change("Main", "taken", None, true), false).await;
        assert!(matches!(result, Err(PatchPbxError::InstanceAttached)), "{result:?}");

        let mut profiles = stored(false);
        profiles.expect_update().returning(|_, _, _, _, _| Err(WriteError::InstanceAttached));
        let result = run(profiles, None, change("Main", "taken", None, true), true).await;
        assert!(matches!(result, Err(PatchPbxError::InstanceAttached)), "{result:?}");
    }

    #[tokio::test]
    async fn the_same_instance_respelled_is_not_taken_by_another() {
        let mut profiles = stored(false);
        profiles.expect_instance_attached().never();
        profiles.expect_update().never();
        let result = run(profiles, None, change("Main", "１２３４５", None, true), false).await;
        assert!(matches!(result, Err(PatchPbxError::ChargesNotAccepted)), "{result:?}");
    }

    #[tokio::test]
    async fn storage_failures_keep_their_kind() {
        let mut profiles = MockPbxRepository::new();
        profiles
            .expect_find_to_change()
            .returning(|_, _, _| Err(RepositoryError::Unavailable(anyhow::anyhow!("down"))));
        let result = run(profiles, None, change("Main", "12345", None, false), false).await;
        assert!(matches!(result, Err(PatchPbxError::Storage(RepositoryError::Unavailable(_)))), "{result:?}");
    }
}
