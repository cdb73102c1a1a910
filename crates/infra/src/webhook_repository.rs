//! Webhooks in the database, their secrets encrypted; and the system's resolver of host names.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::time::Duration;

use anyhow::Context;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use pbx_application::idempotency::KeyRecord;
use pbx_application::webhook::{Resolver, Secrets, WebhookRepository};
use pbx_application::{Page, RepositoryError, Versioned, WriteError};
use pbx_domain::events::EventType;
use pbx_domain::webhook::{
    MAX_PER_OWNER, SigningSecret, Webhook, WebhookFormat, WebhookMethod, WebhookName, WebhookSettings,
};
use pbx_domain::{ResellerId, WebhookId};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    QueryTrait, Statement,
};

use crate::customer_repository::stored_version;
use crate::db_error::repository_error;
use crate::entity::webhook;
use crate::queries::placeholder;
use crate::unit_of_work::{Applied, Change, Unit};
use crate::{Database, SecretCipher};

/// [`WebhookRepository`] over SeaORM.
#[derive(Debug, Clone)]
pub struct SeaOrmWebhookRepository {
    db: Database,
    cipher: SecretCipher,
}

impl SeaOrmWebhookRepository {
    /// The repository over `db`, secrets encrypted with `cipher`.
    #[must_use]
    pub fn new(db: Database, cipher: SecretCipher) -> Self {
        Self { db, cipher }
    }

    fn find_row(owner: ResellerId, id: WebhookId) -> sea_orm::Select<webhook::Entity> {
        webhook::Entity::find()
            .filter(webhook::Column::Id.eq(id.as_uuid()))
            .filter(webhook::Column::OwnerTenantId.eq(owner.as_uuid()))
    }

    fn seal(&self, id: WebhookId, secret: &SigningSecret) -> Result<String, RepositoryError> {
        self.cipher.encrypt(secret.key(), id.as_uuid().as_bytes()).map_err(RepositoryError::Unexpected)
    }

    fn open(&self, id: uuid::Uuid, sealed: &str) -> anyhow::Result<SigningSecret> {
        Ok(SigningSecret::from_key(self.cipher.decrypt(sealed, id.as_bytes())?))
    }

    /// Why an update or delete of `owner`'s `id` matched no row.
    async fn why_unmatched(&self, owner: ResellerId, id: WebhookId) -> WriteError {
        match Self::find_row(owner, id).one(self.db.connection()).await {
            Ok(Some(_)) => WriteError::VersionMismatch,
            Ok(None) => WriteError::NotFound,
            Err(e) => repository_error(e).into(),
        }
    }
}

pub(crate) fn to_domain(row: webhook::Model) -> anyhow::Result<Versioned<Webhook>> {
    let events = row
        .events
        .map(|names| {
            names
                .split(' ')
                .map(|name| EventType::parse(name).with_context(|| format!("unknown event type {name}")))
                .collect::<anyhow::Result<BTreeSet<_>>>()
        })
        .transpose()?;
    let settings = WebhookSettings {
        name: WebhookName::parse(&row.name)?,
        url: pbx_domain::HttpUrl::stored(&row.url)?,
        method: WebhookMethod::parse(&row.method).context("unknown method")?,
        format: WebhookFormat::parse(&row.format).context("unknown format")?,
        events,
        static_data: serde_json::from_str::<BTreeMap<String, String>>(&row.static_data)?,
        retries: u8::try_from(row.retries)?,
        enabled: row.enabled,
    };
    let webhook = Webhook {
        id: WebhookId::from_uuid(row.id),
        owner: ResellerId::from_uuid(row.owner_tenant_id),
        date_created: row.date_created,
        settings,
    };
    Ok(Versioned { value: webhook, version: u64::try_from(row.version)? })
}

/// The columns of `webhook`'s settings.
fn settings_row(webhook: &Webhook) -> Result<webhook::ActiveModel, RepositoryError> {
    let settings = &webhook.settings;
    let events = settings.events.as_ref().map(|events| events.iter().map(|e| e.as_str()).collect::<Vec<_>>().join(" "));
    let static_data =
        serde_json::to_string(&settings.static_data).map_err(|e| RepositoryError::Unexpected(e.into()))?;
    Ok(webhook::ActiveModel {
        name: Set(settings.name.as_str().to_owned()),
        url: Set(settings.url.as_str().to_owned()),
        method: Set(settings.method.as_str().to_owned()),
        format: Set(settings.format.as_str().to_owned()),
        events: Set(events),
        static_data: Set(static_data),
        retries: Set(i32::from(settings.retries)),
        enabled: Set(settings.enabled),
        ..Default::default()
    })
}

fn unreadable(e: anyhow::Error) -> RepositoryError {
    RepositoryError::Unexpected(e.context("a webhook cannot be read back"))
}

#[async_trait]
impl WebhookRepository for SeaOrmWebhookRepository {
    async fn find(&self, owner: ResellerId, id: WebhookId) -> Result<Option<Versioned<Webhook>>, RepositoryError> {
        let row = Self::find_row(owner, id).one(self.db.connection()).await.map_err(repository_error)?;
        row.map(to_domain).transpose().map_err(unreadable)
    }

    async fn list(
        &self,
        owner: ResellerId,
        filter: Option<String>,
        page: Page,
    ) -> Result<Vec<Webhook>, RepositoryError> {
        let mut query = webhook::Entity::find().filter(webhook::Column::OwnerTenantId.eq(owner.as_uuid()));
        if let Some(filter) = filter {
            query = query.filter(crate::queries::contains(&filter, [webhook::Column::Name]));
        }
        let rows = query
            .order_by_asc(webhook::Column::DateCreated)
            .order_by_asc(webhook::Column::Id)
            .offset(page.offset())
            .limit(page.size)
            .all(self.db.connection())
            .await
            .map_err(repository_error)?;
        rows.into_iter().map(|row| to_domain(row).map(|w| w.value)).collect::<anyhow::Result<_>>().map_err(unreadable)
    }

    async fn insert(
        &self,
        webhook: &Webhook,
        secret: &SigningSecret,
        key: Option<KeyRecord>,
    ) -> Result<(), WriteError> {
        let mut row = settings_row(webhook)?;
        row.id = Set(webhook.id.as_uuid());
        row.owner_tenant_id = Set(webhook.owner.as_uuid());
        row.secret = Set(self.seal(webhook.id, secret)?);
        row.previous_secret = Set(None);
        row.previous_secret_until = Set(None);
        row.date_created = Set(webhook.date_created);
        row.version = Set(1);
        // Its deliveries start with the events after the last one recorded now.
        row.cursor = Set(crate::outbox::last_seq(self.db.connection()).await.map_err(repository_error)?);
        row.attempts = Set(0);
        row.next_attempt_at = Set(None);
        row.lease_owner = Set(None);
        row.lease_until = Set(None);
        row.failures = Set(0);
        let backend = self.db.backend();
        let insert = webhook::Entity::insert(row).build(backend);
        let owner: sea_orm::Value = webhook.owner.as_uuid().into();
        let (ensure, take) = owner_statements(backend, &owner);
        // Made apart, committed at once: inserted by concurrent transactions, a new row deadlocks them on MySQL.
        self.db.execute(ensure).await.map_err(repository_error)?;
        // The owner's row taken first (its concurrent creates count one after the other), after the key if any.
        let change = Change::recorded(vec![take, insert], Vec::new()).keyed(backend, key.as_ref());
        match self.db.apply(change).await.map_err(repository_error)? {
            Applied::Written { .. } => Ok(()),
            // Only the owner's count can match no row: it is at its limit.
            Applied::Unmatched => Err(WriteError::LimitReached),
            Applied::KeyTaken => Err(WriteError::KeyTaken),
        }
    }

    async fn update(&self, webhook: &Webhook, expected_version: u64) -> Result<u64, WriteError> {
        let expected = stored_version(expected_version)?;
        let mut row = settings_row(webhook)?;
        row.version = Set(expected + 1);
        // A changed webhook (enabled again, or pointed elsewhere) counts its failures from zero.
        row.failures = Set(0);
        let update = webhook::Entity::update_many()
            .set(row)
            .filter(webhook::Column::Id.eq(webhook.id.as_uuid()))
            .filter(webhook::Column::OwnerTenantId.eq(webhook.owner.as_uuid()))
            .filter(webhook::Column::Version.eq(expected))
            .build(self.db.backend());
        if self.db.execute(update).await.map_err(repository_error)? > 0 {
            return Ok(expected_version + 1);
        }
        Err(self.why_unmatched(webhook.owner, webhook.id).await)
    }

    async fn rotate(
        &self,
        owner: ResellerId,
        id: WebhookId,
        secret: &SigningSecret,
        previous_until: DateTime<Utc>,
    ) -> Result<u64, WriteError> {
        // One statement: the current secret moves to `previous_secret` as the new one takes its place. MySQL reads
        // each assignment after the ones before it, so `previous_secret` is set first, from the old value.
        let update = webhook::Entity::update_many()
            .col_expr(webhook::Column::PreviousSecret, Expr::col(webhook::Column::Secret))
            .col_expr(webhook::Column::PreviousSecretUntil, Expr::val(previous_until))
            .col_expr(webhook::Column::Secret, Expr::val(self.seal(id, secret)?))
            .col_expr(webhook::Column::Version, Expr::col(webhook::Column::Version).add(1))
            .filter(webhook::Column::Id.eq(id.as_uuid()))
            .filter(webhook::Column::OwnerTenantId.eq(owner.as_uuid()))
            .build(self.db.backend());
        if self.db.execute(update).await.map_err(repository_error)? == 0 {
            return Err(WriteError::NotFound);
        }
        let row = Self::find_row(owner, id).one(self.db.connection()).await.map_err(repository_error)?;
        let row = row.ok_or(WriteError::NotFound)?;
        Ok(u64::try_from(row.version).map_err(|e| RepositoryError::Unexpected(e.into()))?)
    }

    async fn delete(&self, owner: ResellerId, id: WebhookId, if_match: Option<u64>) -> Result<(), WriteError> {
        let mut delete = webhook::Entity::delete_many()
            .filter(webhook::Column::Id.eq(id.as_uuid()))
            .filter(webhook::Column::OwnerTenantId.eq(owner.as_uuid()));
        if let Some(expected) = if_match {
            delete = delete.filter(webhook::Column::Version.eq(stored_version(expected)?));
        }
        let backend = self.db.backend();
        let delete = delete.build(backend);
        let give_back = Statement::from_sql_and_values(
            backend,
            format!(
                "UPDATE webhook_owners SET webhooks = webhooks - 1 WHERE owner_tenant_id = {} AND webhooks > 0",
                placeholder(backend, 1)
            ),
            [owner.as_uuid().into()],
        );
        let deleted = self
            .db
            .transact(async |transaction| {
                // The owner's row first, as a create takes it: the two never wait on each other in opposite orders.
                transaction.execute_raw(give_back).await?;
                if transaction.execute_raw(delete).await?.rows_affected() == 0 {
                    return Ok(Unit::roll_back(false));
                }
                Ok(Unit::commit(true, Vec::new()))
            })
            .await
            .map_err(repository_error)?;
        if deleted {
            return Ok(());
        }
        Err(self.why_unmatched(owner, id).await)
    }

    async fn secrets(&self, id: WebhookId) -> Result<Option<Secrets>, RepositoryError> {
        let row =
            webhook::Entity::find_by_id(id.as_uuid()).one(self.db.connection()).await.map_err(repository_error)?;
        let Some(row) = row else { return Ok(None) };
        let read = || -> anyhow::Result<Secrets> {
            let current = self.open(row.id, &row.secret)?;
            let previous = match (&row.previous_secret, row.previous_secret_until) {
                (Some(sealed), Some(until)) => Some((self.open(row.id, sealed)?, until)),
                _ => None,
            };
            Ok(Secrets { current, previous })
        };
        read().map(Some).map_err(|e| RepositoryError::Unexpected(e.context("a webhook's secret cannot be read")))
    }
}

/// [`Resolver`] by the operating system's resolver, 5 seconds at most.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemResolver;

#[async_trait]
impl Resolver for SystemResolver {
    async fn resolve(&self, host: &str, port: u16) -> Vec<IpAddr> {
        let lookup = tokio::net::lookup_host((host, port));
        match tokio::time::timeout(Duration::from_secs(5), lookup).await {
            Ok(Ok(addresses)) => addresses.map(|a| a.ip()).collect(),
            _ => Vec::new(),
        }
    }
}

/// The statements that count a webhook of `owner` in: its row in `webhook_owners` made if absent, then one more
/// taken unless it has [`MAX_PER_OWNER`] (no row changed then).
fn owner_statements(backend: DbBackend, owner: &sea_orm::Value) -> (Statement, Statement) {
    let ensure = match backend {
        DbBackend::MySql => "INSERT IGNORE INTO webhook_owners (owner_tenant_id, webhooks) VALUES (?, 0)".to_owned(),
        _ => format!(
            "INSERT INTO webhook_owners (owner_tenant_id, webhooks) VALUES ({}, 0) ON CONFLICT (owner_tenant_id) DO NOTHING",
            placeholder(backend, 1)
        ),
    };
    let take = format!(
        "UPDATE webhook_owners SET webhooks = webhooks + 1 WHERE owner_tenant_id = {} AND webhooks < {MAX_PER_OWNER}",
        placeholder(backend, 1)
    );
    (
        Statement::from_sql_and_values(backend, ensure, [owner.clone()]),
        Statement::from_sql_and_values(backend, take, [owner.clone()]),
    )
}
