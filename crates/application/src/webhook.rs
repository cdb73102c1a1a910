//! Webhooks (§13): a reseller registers endpoints that receive its events. This module keeps them: create (with a
//! signing secret shown once), read, change, rotate the secret, delete; and it refuses a target the service must
//! not call, at create and at each change of the URL.

use std::net::IpAddr;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use pbx_domain::webhook::{SigningSecret, TargetError, Webhook, WebhookSettings, check_addresses, check_url};
use pbx_domain::{HttpUrl, ResellerId, WebhookId};

use crate::idempotency::{IdempotencyKey, IdempotencyKeys, KeyError, KeyRecord, Once, Written};
use crate::ports::{Clock, IdGenerator, Page, RepositoryError, Versioned, WriteError};
use crate::use_case::opaque_debug;

/// How long a rotated-out secret still signs deliveries, beside the new one.
pub const PREVIOUS_SECRET_SIGNS_FOR: Duration = Duration::hours(24);

/// A webhook's signing secrets: the current one, and the previous one until it stops signing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Secrets {
    /// The secret of every delivery.
    pub current: SigningSecret,
    /// The secret rotated out, and until when it signs too.
    pub previous: Option<(SigningSecret, DateTime<Utc>)>,
}

impl Secrets {
    /// The secrets that sign a delivery made at `now`: the current one, then the previous one while it still signs.
    #[must_use]
    pub fn signing_at(&self, now: DateTime<Utc>) -> Vec<&SigningSecret> {
        let previous = self.previous.as_ref().filter(|(_, until)| now < *until).map(|(secret, _)| secret);
        std::iter::once(&self.current).chain(previous).collect()
    }
}

/// Where webhooks are kept, their secrets encrypted.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait WebhookRepository: Send + Sync {
    /// `owner`'s webhook `id`.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached, [`RepositoryError::Unexpected`] for
    /// any other failure.
    async fn find(&self, owner: ResellerId, id: WebhookId) -> Result<Option<Versioned<Webhook>>, RepositoryError>;

    /// A page of `owner`'s webhooks, oldest first; with a `filter`, only those whose name contains it, in any case.
    ///
    /// # Errors
    /// As [`WebhookRepository::find`].
    async fn list(
        &self,
        owner: ResellerId,
        filter: Option<String>,
        page: Page,
    ) -> Result<Vec<Webhook>, RepositoryError>;

    /// Stores a new webhook, at version 1, with its secret, and `key` (a create's `Idempotency-Key`) in the same
    /// transaction.
    ///
    /// # Errors
    /// [`WriteError::KeyTaken`] when `key` is taken, [`WriteError::LimitReached`] when the owner has as many
    /// webhooks as it may have, [`WriteError::Repository`] for a storage failure.
    async fn insert(&self, webhook: &Webhook, secret: &SigningSecret, key: Option<KeyRecord>)
    -> Result<(), WriteError>;

    /// Stores `webhook`'s settings if its version is still `expected_version`; returns the new version.
    ///
    /// # Errors
    /// [`WriteError::NotFound`], [`WriteError::VersionMismatch`], or a storage failure.
    async fn update(&self, webhook: &Webhook, expected_version: u64) -> Result<u64, WriteError>;

    /// Makes `secret` the current secret of `owner`'s webhook `id`, the current one signing too until
    /// `previous_until`; returns the new version.
    ///
    /// # Errors
    /// [`WriteError::NotFound`], or a storage failure.
    async fn rotate(
        &self,
        owner: ResellerId,
        id: WebhookId,
        secret: &SigningSecret,
        previous_until: DateTime<Utc>,
    ) -> Result<u64, WriteError>;

    /// Deletes `owner`'s webhook `id`, if its version is `if_match` (when given).
    ///
    /// # Errors
    /// [`WriteError::NotFound`], [`WriteError::VersionMismatch`], or a storage failure.
    async fn delete(&self, owner: ResellerId, id: WebhookId, if_match: Option<u64>) -> Result<(), WriteError>;

    /// The secrets of webhook `id`.
    ///
    /// # Errors
    /// As [`WebhookRepository::find`]; a secret that cannot be decrypted is [`RepositoryError::Unexpected`].
    async fn secrets(&self, id: WebhookId) -> Result<Option<Secrets>, RepositoryError>;
}

/// What a host name resolves to.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait Resolver: Send + Sync {
    /// The addresses of `host` (empty when it does not resolve, or not in time).
    async fn resolve(&self, host: &str, port: u16) -> Vec<IpAddr>;
}

/// Why a webhook operation did not happen.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    /// No such webhook for the caller (missing, or another tenant's: alike).
    #[error("not found")]
    NotFound,
    /// The webhook changed since the version the caller gave.
    #[error("the webhook has changed")]
    PreconditionFailed,
    /// Its URL is not a target the service may call.
    #[error("url {0}")]
    Target(#[from] TargetError),
    /// The owner has [`pbx_domain::webhook::MAX_PER_OWNER`] webhooks already.
    #[error("the owner has as many webhooks as it may have")]
    TooMany,
    /// The system gave no random bytes for a secret.
    #[error("no random bytes for a secret: {0}")]
    Random(String),
    /// The create's `Idempotency-Key` stops it.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// The store failed.
    #[error(transparent)]
    Storage(#[from] RepositoryError),
}

impl From<WriteError> for WebhookError {
    fn from(error: WriteError) -> Self {
        match error {
            WriteError::NotFound | WriteError::InstanceAttached | WriteError::InUse => Self::NotFound,
            WriteError::LimitReached => Self::TooMany,
            WriteError::VersionMismatch => Self::PreconditionFailed,
            WriteError::KeyTaken => Self::Storage(crate::idempotency::key_taken_unasked()),
            WriteError::Repository(e) => Self::Storage(e),
        }
    }
}

/// A fresh secret: 32 random bytes from the operating system.
fn new_secret() -> Result<SigningSecret, WebhookError> {
    let mut key = vec![0_u8; 32];
    getrandom::getrandom(&mut key).map_err(|e| WebhookError::Random(e.to_string()))?;
    Ok(SigningSecret::from_key(key))
}

/// The webhook use cases.
#[derive(Clone)]
pub struct Webhooks {
    webhooks: Arc<dyn WebhookRepository>,
    deliveries: Arc<dyn crate::delivery::DeliveryStore>,
    resolver: Arc<dyn Resolver>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGenerator>,
    keys: IdempotencyKeys,
    allow_private: bool,
}
opaque_debug!(Webhooks);

impl Webhooks {
    /// The use cases over their ports; `allow_private` lets webhooks target private addresses and plain `http`
    /// (tests, on-premises setups).
    pub fn new(
        webhooks: Arc<dyn WebhookRepository>,
        deliveries: Arc<dyn crate::delivery::DeliveryStore>,
        resolver: Arc<dyn Resolver>,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdGenerator>,
        keys: IdempotencyKeys,
        allow_private: bool,
    ) -> Self {
        Self { webhooks, deliveries, resolver, clock, ids, keys, allow_private }
    }

    /// Whether private targets and plain `http` are allowed.
    #[must_use]
    pub const fn allow_private(&self) -> bool {
        self.allow_private
    }

    /// Checks that `url` is a target the service may call now: its form, then (unless private targets are allowed)
    /// every address its host resolves to.
    ///
    /// # Errors
    /// [`WebhookError::Target`] naming why not.
    pub async fn check_target(&self, url: &HttpUrl) -> Result<(), WebhookError> {
        check_url(url.as_str(), self.allow_private)?;
        if self.allow_private {
            return Ok(());
        }
        let url = url::Url::parse(url.as_str()).map_err(|_| TargetError::NotAbsolute)?;
        let Some(url::Host::Domain(host)) = url.host() else { return Ok(()) };
        let addresses = self.resolver.resolve(host, url.port_or_known_default().unwrap_or(443)).await;
        Ok(check_addresses(&addresses, false)?)
    }

    /// Creates a webhook of `owner`'s, once per `key` (see [`IdempotencyKeys::create`]); returns it with its secret
    /// (to show once — and again to a replay of its create, re-read with the webhook, where it is kept encrypted).
    ///
    /// # Errors
    /// [`WebhookError::Target`] for a URL the service may not call; [`WebhookError::Key`]; storage failures.
    #[tracing::instrument(name = "create_webhook", skip(self, settings, key))]
    pub async fn create(
        &self,
        owner: ResellerId,
        settings: WebhookSettings,
        key: Option<&IdempotencyKey>,
    ) -> Result<Once<(Versioned<Webhook>, SigningSecret)>, WebhookError> {
        self.check_target(&settings.url).await?;
        let webhook =
            Webhook { id: WebhookId::from_uuid(self.ids.new_id()), owner, date_created: self.clock.now(), settings };
        let secret = new_secret()?;
        let write = async |key: Option<_>| match self.webhooks.insert(&webhook, &secret, key).await {
            Ok(()) => {
                tracing::info!(webhook_id = %webhook.id, "webhook created");
                Ok(Written::Made((Versioned { value: webhook.clone(), version: 1 }, secret.clone())))
            }
            Err(WriteError::KeyTaken) => Ok(Written::KeyTaken),
            Err(e) => Err(WebhookError::from(e)),
        };
        let find = async |id| {
            let id = WebhookId::from_uuid(id);
            let Some(found) = self.webhooks.find(owner, id).await? else { return Ok(None) };
            Ok(self.webhooks.secrets(id).await?.map(|secrets| (found, secrets.current)))
        };
        self.keys.create(owner, key, webhook.id.as_uuid(), write, find).await
    }

    /// `owner`'s webhook `id`.
    ///
    /// # Errors
    /// [`WebhookError::NotFound`] when it is missing or not `owner`'s.
    pub async fn get(&self, owner: ResellerId, id: WebhookId) -> Result<Versioned<Webhook>, WebhookError> {
        self.webhooks.find(owner, id).await?.ok_or(WebhookError::NotFound)
    }

    /// A page of `owner`'s webhooks, oldest first; with a `filter` (trimmed; blank is none), only those whose name
    /// contains it, in any case.
    ///
    /// # Errors
    /// Storage failures only.
    pub async fn list(
        &self,
        owner: ResellerId,
        filter: Option<String>,
        page: Page,
    ) -> Result<Vec<Webhook>, WebhookError> {
        let filter = crate::use_case::search_text(filter);
        Ok(self.webhooks.list(owner, filter, page).await?)
    }

    /// `owner`'s webhook to change; `if_match` is the version the caller last saw, when it gave one.
    ///
    /// # Errors
    /// [`WebhookError::NotFound`], [`WebhookError::PreconditionFailed`], or a storage failure.
    pub async fn load(
        &self,
        owner: ResellerId,
        id: WebhookId,
        if_match: Option<u64>,
    ) -> Result<Versioned<Webhook>, WebhookError> {
        let current = self.get(owner, id).await?;
        if if_match.is_some_and(|v| v != current.version) {
            return Err(WebhookError::PreconditionFailed);
        }
        Ok(current)
    }

    /// Stores `settings` over `current`, if nothing changed the webhook since it was loaded; a new URL is checked
    /// as on create. The next delivery uses them.
    ///
    /// # Errors
    /// See [`WebhookError`].
    #[tracing::instrument(name = "save_webhook", skip_all, fields(webhook_id = %current.value.id))]
    pub async fn save(
        &self,
        current: Versioned<Webhook>,
        settings: WebhookSettings,
    ) -> Result<Versioned<Webhook>, WebhookError> {
        if settings.url != current.value.settings.url {
            self.check_target(&settings.url).await?;
        }
        let patched = Webhook { settings, ..current.value };
        let version = self.webhooks.update(&patched, current.version).await?;
        Ok(Versioned { value: patched, version })
    }

    /// A new secret for `owner`'s webhook `id` (to show once); the previous one signs too for
    /// [`PREVIOUS_SECRET_SIGNS_FOR`].
    ///
    /// # Errors
    /// [`WebhookError::NotFound`], or a storage failure.
    #[tracing::instrument(name = "rotate_webhook_secret", skip(self))]
    pub async fn rotate(
        &self,
        owner: ResellerId,
        id: WebhookId,
    ) -> Result<(Versioned<Webhook>, SigningSecret), WebhookError> {
        let secret = new_secret()?;
        let version = self.webhooks.rotate(owner, id, &secret, self.clock.now() + PREVIOUS_SECRET_SIGNS_FOR).await?;
        let webhook = self.get(owner, id).await?;
        tracing::info!(version, "webhook secret rotated");
        Ok((webhook, secret))
    }

    /// A page of the delivery log of `owner`'s webhook `id`, the latest event first.
    ///
    /// # Errors
    /// [`WebhookError::NotFound`], or a storage failure.
    pub async fn deliveries(
        &self,
        owner: ResellerId,
        id: WebhookId,
        page: Page,
    ) -> Result<Vec<crate::delivery::DeliveryRecord>, WebhookError> {
        self.get(owner, id).await?;
        Ok(self.deliveries.log(id, page).await?)
    }

    /// Deletes `owner`'s webhook `id`, if its version is `if_match` (when given).
    ///
    /// # Errors
    /// [`WebhookError::NotFound`], [`WebhookError::PreconditionFailed`].
    #[tracing::instrument(name = "delete_webhook", skip(self))]
    pub async fn delete(&self, owner: ResellerId, id: WebhookId, if_match: Option<u64>) -> Result<(), WebhookError> {
        self.webhooks.delete(owner, id, if_match).await?;
        tracing::info!("webhook deleted");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::{MockClock, MockIdGenerator};

    fn settings(url: &str) -> WebhookSettings {
        WebhookSettings {
            name: pbx_domain::webhook::WebhookName::parse("CRM").unwrap(),
            url: HttpUrl::parse(url).unwrap(),
            method: pbx_domain::webhook::WebhookMethod::Post,
            format: pbx_domain::webhook::WebhookFormat::Json,
            events: None,
            static_data: std::collections::BTreeMap::new(),
            retries: 1,
            enabled: true,
        }
    }

    fn webhooks(resolved: &'static str, repository: MockWebhookRepository, allow_private: bool) -> Webhooks {
        let mut resolver = MockResolver::new();
        resolver.expect_resolve().returning(move |_, _| vec![resolved.parse().unwrap()]);
        let mut clock = MockClock::new();
        clock.expect_now().returning(|| DateTime::UNIX_EPOCH);
        let mut ids = MockIdGenerator::new();
        ids.expect_new_id().returning(|| uuid::Uuid::from_u128(7));
        let deliveries = Arc::new(crate::delivery::MockDeliveryStore::new());
        Webhooks::new(
            Arc::new(repository),
            deliveries,
            Arc::new(resolver),
            Arc::new(clock),
            Arc::new(ids),
            crate::idempotency::test_keys(crate::idempotency::MockIdempotencyStore::new()),
            allow_private,
        )
    }

    #[tokio::test]
    async fn a_host_resolving_to_a_private_address_is_refused_and_nothing_stored() {
        let mut repository = MockWebhookRepository::new();
        repository.expect_insert().never();
        let refused = webhooks("10.0.0.5", repository, false)
            .create(ResellerId::from_uuid(uuid::Uuid::from_u128(1)), settings("https://hooks.example.com/"), None)
            .await;
        assert!(matches!(refused, Err(WebhookError::Target(TargetError::Forbidden(_)))), "{refused:?}");
    }

    #[tokio::test]
    async fn a_public_target_is_created_with_a_fresh_secret() {
        let mut repository = MockWebhookRepository::new();
        repository.expect_insert().times(1).returning(|_, _, _| Ok(()));
        let created = webhooks("93.184.216.34", repository, false)
            .create(ResellerId::from_uuid(uuid::Uuid::from_u128(1)), settings("https://hooks.example.com/"), None)
            .await
            .unwrap();
        let (webhook, secret) = created.value;
        assert_eq!(webhook.value.id, WebhookId::from_uuid(uuid::Uuid::from_u128(7)));
        assert!(secret.expose().starts_with("whsec_") && secret.key().len() == 32);
    }

    #[tokio::test]
    async fn private_targets_and_http_are_allowed_when_the_flag_says_so() {
        let mut repository = MockWebhookRepository::new();
        repository.expect_insert().times(1).returning(|_, _, _| Ok(()));
        let created = webhooks("10.0.0.5", repository, true)
            .create(ResellerId::from_uuid(uuid::Uuid::from_u128(1)), settings("http://127.0.0.1:9000/"), None)
            .await;
        assert!(created.is_ok(), "{created:?}");
    }

    #[test]
    fn the_previous_secret_signs_until_its_time_is_up() {
        let (old, new) = (SigningSecret::from_key(vec![1; 32]), SigningSecret::from_key(vec![2; 32]));
        let until = DateTime::UNIX_EPOCH + PREVIOUS_SECRET_SIGNS_FOR;
        let secrets = Secrets { current: new.clone(), previous: Some((old.clone(), until)) };
        assert_eq!(secrets.signing_at(DateTime::UNIX_EPOCH), vec![&new, &old]);
        assert_eq!(secrets.signing_at(until), vec![&new]);
    }
}
