//! [`PbxRepository`] over SeaORM: profiles read, written and grouped, each row's connection in its type's stored
//! form (see the parent module).

use anyhow::{Context, anyhow};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use pbx_application::idempotency::KeyRecord;
use pbx_application::{
    Attachment, InsertPbxError, NewEvent, Page, PbxRepository, PbxSummary, ProfileToChange, RepositoryError,
    ShownProfile, Versioned, WriteError,
};
use pbx_domain::{CountryCode, Customer, CustomerId, PbxId, PbxProfile, PbxType, ResellerId, Secret, Withheld};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, FromQueryResult, PaginatorTrait,
    QueryFilter, QueryTrait,
};

use super::grouped::{Create, Created, GroupedCreates};
use crate::db_error::{is_unique_violation, repository_error};
use crate::entity::pbx_profile;
use crate::instance_key::instance_key;
use crate::profile_row::Content;
use crate::queries::{ConnectionColumns, ShownRow, SummaryRow};
use crate::unit_of_work::{Applied, Change, Returning, WriteErr};
use crate::{Database, SecretCipher, queries};

use super::{Credential, Stored, StoredSecrets, load};

/// [`PbxRepository`] over SeaORM.
#[derive(Debug, Clone)]
pub struct SeaOrmPbxRepository {
    db: Database,
    cipher: SecretCipher,
    /// PostgreSQL and MySQL: the writers that commit concurrent creates together (see [`grouped`]). SQLite groups
    /// its inserts in [`Database`].
    grouped: Option<GroupedCreates>,
}

impl SeaOrmPbxRepository {
    /// The repository over `db`, encrypting secrets with `cipher`; on PostgreSQL and MySQL, creates are committed
    /// in groups (when called on a Tokio runtime, which starts the writers).
    #[must_use]
    pub fn new(db: Database, cipher: SecretCipher) -> Self {
        let grouped = (db.backend() != DbBackend::Sqlite && tokio::runtime::Handle::try_current().is_ok())
            .then(|| GroupedCreates::start(&db));
        Self { db, cipher, grouped }
    }

    /// The same repository writing each create on its own (one statement per create), to compare with grouping.
    #[must_use]
    pub fn without_grouping(self) -> Self {
        Self { grouped: None, ..self }
    }

    fn content(&self, profile: &PbxProfile) -> anyhow::Result<Content> {
        let stored = Stored::of(&profile.connection)?;
        let secrets = self.cipher.encrypt(&serde_json::to_vec(&stored.secrets)?, profile.id.as_uuid().as_bytes())?;
        let instance = profile.instance_id();
        Ok(Content {
            pbx_type: instance.pbx_type().as_str().to_owned(),
            instance_id: instance.value().to_owned(),
            instance_key: instance_key(instance.value()),
            name: profile.name.to_string(),
            country_code: profile.country_code.to_string(),
            enabled: profile.enabled,
            settings: stored.settings,
            secrets,
        })
    }

    /// The profile of a whole row, its secrets decrypted when `S` holds them.
    fn to_domain<S: Credential>(&self, row: pbx_profile::Model) -> anyhow::Result<Versioned<PbxProfile<S>>> {
        let secrets = if S::DECRYPTED {
            StoredSecrets::Decrypted(serde_json::from_slice(&self.cipher.decrypt(&row.secrets, row.id.as_bytes())?)?)
        } else {
            StoredSecrets::NotRead
        };
        let shown = ShownRow {
            id: row.id,
            customer_id: row.customer_id,
            pbx_type: row.pbx_type,
            instance_id: row.instance_id,
            name: row.name,
            country_code: row.country_code,
            enabled: row.enabled,
            settings: row.settings,
            version: row.version,
        };
        load(shown, &secrets)
    }

    /// The columns a change from `before` to `after` sets, with their values: those whose values differ, and the
    /// secrets only when `secret` is a new one (encrypted then; the stored ones are kept, never read).
    fn changed_columns(
        &self,
        before: &PbxProfile<Withheld>,
        after: &PbxProfile<Withheld>,
        secret: Option<&Secret>,
    ) -> anyhow::Result<Vec<(pbx_profile::Column, sea_orm::Value)>> {
        use pbx_profile::Column;
        let mut columns: Vec<(Column, sea_orm::Value)> = Vec::new();
        if before.pbx_type() != after.pbx_type() {
            columns.push((Column::PbxType, after.pbx_type().as_str().into()));
        }
        let instance = after.instance_id().value();
        if before.instance_id().value() != instance {
            columns.push((Column::InstanceId, instance.into()));
            columns.push((Column::InstanceKey, instance_key(instance).into()));
        }
        if before.name != after.name {
            columns.push((Column::Name, after.name.as_str().into()));
        }
        if before.country_code != after.country_code {
            columns.push((Column::CountryCode, after.country_code.as_str().into()));
        }
        if before.enabled != after.enabled {
            columns.push((Column::Enabled, after.enabled.into()));
        }
        let settings = super::settings(&after.connection)?;
        if super::settings(&before.connection)? != settings {
            columns.push((Column::Settings, settings.into()));
        }
        if let Some(secret) = secret {
            let secrets = serde_json::to_vec(&super::secrets(after.pbx_type(), Some(secret))?)?;
            columns.push((Column::Secrets, self.cipher.encrypt(&secrets, after.id.as_uuid().as_bytes())?.into()));
        }
        Ok(columns)
    }

    /// The row of a new profile, secrets encrypted.
    fn new_row(&self, profile: &PbxProfile, created_at: DateTime<Utc>) -> anyhow::Result<pbx_profile::ActiveModel> {
        let content = self.content(profile)?;
        Ok(pbx_profile::ActiveModel {
            id: Set(profile.id.as_uuid()),
            customer_id: Set(profile.customer_id.as_uuid()),
            pbx_type: Set(content.pbx_type),
            instance_id: Set(content.instance_id),
            instance_key: Set(Some(content.instance_key)),
            name: Set(content.name),
            country_code: Set(content.country_code),
            enabled: Set(content.enabled),
            settings: Set(content.settings),
            secrets: Set(content.secrets),
            created_at: Set(created_at),
            version: Set(1),
        })
    }

    /// Inserts new profiles in one statement (bulk loads such as `pbx-server seed`; the API creates through
    /// [`PbxRepository::insert_for_reseller`]). Keep a batch under about 2,000 rows: databases cap a statement's
    /// parameters.
    ///
    /// # Errors
    /// When a secret cannot be encrypted or the database refuses the rows (an instance already attached, say).
    pub async fn insert_batch(&self, profiles: &[(PbxProfile, DateTime<Utc>)]) -> anyhow::Result<()> {
        if profiles.is_empty() {
            return Ok(());
        }
        let rows = profiles.iter().map(|(p, at)| self.new_row(p, *at)).collect::<anyhow::Result<Vec<_>>>()?;
        let insert = pbx_profile::Entity::insert_many(rows).build(self.db.backend());
        self.db.apply(Change::unrecorded(insert)).await?;
        Ok(())
    }

    /// Stores a new profile whose customer is known to exist, at version 1 (tests and tools; the API creates
    /// through [`PbxRepository::insert_for_reseller`]).
    ///
    /// # Errors
    /// [`InsertPbxError::InstanceAttached`] when the instance is taken, [`InsertPbxError::Repository`] otherwise.
    pub async fn insert(&self, profile: &PbxProfile, created_at: DateTime<Utc>) -> Result<(), InsertPbxError> {
        let row = self.new_row(profile, created_at).map_err(RepositoryError::Unexpected)?;
        let statement = pbx_profile::Entity::insert(row).build(self.db.backend());
        match self.db.apply(Change::unrecorded(statement)).await {
            Ok(Applied::Written { .. }) => Ok(()),
            Ok(Applied::Unmatched | Applied::KeyTaken) => {
                Err(RepositoryError::Unexpected(anyhow!("the insert wrote no row")).into())
            }
            Err(e) => Err(insert_error(e)),
        }
    }

    /// A row read by id, as a profile.
    fn read_back<S: Credential>(
        &self,
        id: PbxId,
        row: Option<pbx_profile::Model>,
    ) -> Result<Option<Versioned<PbxProfile<S>>>, RepositoryError> {
        row.map(|row| self.to_domain(row).with_context(|| format!("PBX profile {id} cannot be read back")))
            .transpose()
            .map_err(RepositoryError::Unexpected)
    }

    /// What a change reads of the profile `id` (its secrets decrypted when `S` holds them), in one query.
    async fn to_change<S: Credential>(
        &self,
        reseller: ResellerId,
        customer_id: CustomerId,
        id: PbxId,
    ) -> Result<Option<ProfileToChange<S>>, RepositoryError> {
        let statement = queries::profile_to_change(self.db.backend(), reseller, customer_id, id);
        let Some(row) = self.db.connection().query_one_raw(statement).await.map_err(repository_error)? else {
            return Ok(None);
        };
        let read = || -> anyhow::Result<_> {
            let country = CountryCode::parse(&row.try_get::<String>("", "customer_country")?)?;
            let connection = ConnectionColumns::from_query_result(&row, "")?.status()?;
            Ok((pbx_profile::Model::from_query_result(&row, "")?, country, connection))
        };
        let (model, customer_country, connection) = read().map_err(RepositoryError::Unexpected)?;
        Ok(self.read_back(id, Some(model))?.map(|current| ProfileToChange { current, customer_country, connection }))
    }

    /// After a write that matched no row: is the row gone, or at another version?
    async fn why_unmatched(&self, customer_id: CustomerId, id: PbxId) -> WriteError {
        self.unmatched(queries::profile(customer_id, id)).await
    }

    /// The same, the row looked for as `reseller` sees it.
    async fn why_unmatched_for(&self, reseller: ResellerId, customer_id: CustomerId, id: PbxId) -> WriteError {
        self.unmatched(queries::visible_profile(reseller, customer_id, id)).await
    }

    async fn unmatched(&self, row: sea_orm::Select<pbx_profile::Entity>) -> WriteError {
        match row.count(self.db.connection()).await {
            Ok(0) => WriteError::NotFound,
            Ok(_) => WriteError::VersionMismatch,
            Err(e) => repository_error(e).into(),
        }
    }
}

/// The error of an insert that the database refused: its instance taken, or a failure.
fn insert_error(error: WriteErr) -> InsertPbxError {
    if is_unique_violation(&error) { InsertPbxError::InstanceAttached } else { repository_error(error).into() }
}

fn summary(row: SummaryRow) -> anyhow::Result<PbxSummary> {
    let connection = row.connection.status()?;
    Ok(PbxSummary {
        id: PbxId::from_uuid(row.id),
        customer_id: CustomerId::from_uuid(row.customer_id),
        name: row.name,
        pbx_type: PbxType::parse(&row.pbx_type)?,
        country_code: CountryCode::parse(&row.country_code)?,
        enabled: row.enabled,
        connection,
    })
}

#[async_trait]
impl PbxRepository for SeaOrmPbxRepository {
    async fn insert_for_reseller(
        &self,
        reseller: ResellerId,
        profile: &PbxProfile,
        inherit_country: bool,
        created_at: DateTime<Utc>,
        event: NewEvent,
        key: Option<KeyRecord>,
    ) -> Result<CountryCode, InsertPbxError> {
        let content = self.content(profile).map_err(RepositoryError::Unexpected)?;
        let in_flight = self.grouped.as_ref().map(GroupedCreates::enter);
        // A create under an Idempotency-Key is written alone, its key first in its transaction.
        if let (Some(grouped), Some((_, false)), None) = (&self.grouped, &in_flight, &key) {
            let create = Create {
                id: profile.id.as_uuid(),
                customer_id: profile.customer_id.as_uuid(),
                reseller_id: reseller.as_uuid(),
                content,
                inherit_country,
                created_at,
                event,
            };
            let stored = match grouped.create(create).await.map_err(|e| InsertPbxError::from(repository_error(e)))? {
                Created::Inserted { country_code } => country_code,
                Created::CustomerNotFound => return Err(InsertPbxError::CustomerNotFound),
                Created::Duplicate => return Err(InsertPbxError::InstanceAttached),
            };
            return CountryCode::parse(&stored).map_err(|e| RepositoryError::Unexpected(e.into()).into());
        }
        let given = (!inherit_country).then(|| content.country_code.clone());
        let backend = self.db.backend();
        // MySQL has no RETURNING: there, a profile that inherits its country reads it back, in the transaction
        // that records its event (whose data shows the country).
        let returning = match backend {
            DbBackend::MySql if inherit_country => {
                Returning::Country { read_back: Some(queries::country_of(profile.id).build(backend)) }
            }
            DbBackend::MySql => Returning::Nothing,
            _ => Returning::Country { read_back: None },
        };
        let statement =
            queries::insert_for_reseller(reseller, profile, created_at, content, given, backend != DbBackend::MySql)
                .map_err(|e| RepositoryError::Unexpected(e.into()))?;
        let change = Change { returning, ..Change::recorded(vec![backend.build(&statement)], vec![event]) };
        let stored = match self.db.apply(change.keyed(backend, key.as_ref())).await {
            Ok(Applied::Written { country: Some(stored), .. }) => stored,
            Ok(Applied::Written { country: None, .. }) => return Ok(profile.country_code),
            Ok(Applied::Unmatched) => return Err(InsertPbxError::CustomerNotFound),
            Ok(Applied::KeyTaken) => return Err(InsertPbxError::KeyTaken),
            Err(e) => return Err(insert_error(e)),
        };
        CountryCode::parse(&stored).map_err(|e| RepositoryError::Unexpected(e.into()).into())
    }

    async fn insert_with_customer(
        &self,
        customer: &Customer,
        profile: &PbxProfile,
        created_at: DateTime<Utc>,
        events: &[NewEvent],
        key: Option<KeyRecord>,
    ) -> Result<(), InsertPbxError> {
        let backend = self.db.backend();
        let profile_row = self.new_row(profile, created_at).map_err(RepositoryError::Unexpected)?;
        // The profile's insert comes second: a customer refused (its reseller a deleted account) refuses the change.
        let statements = vec![
            crate::customer_repository::guarded_insert(backend, customer)?,
            pbx_profile::Entity::insert(profile_row).build(backend),
        ];
        match self.db.apply(Change::recorded(statements, events.to_vec()).keyed(backend, key.as_ref())).await {
            Ok(Applied::Written { .. }) => Ok(()),
            Ok(Applied::Unmatched) => Err(InsertPbxError::CustomerNotFound),
            Ok(Applied::KeyTaken) => Err(InsertPbxError::KeyTaken),
            Err(e) => Err(insert_error(e)),
        }
    }

    async fn instance_attached(&self, pbx_type: PbxType, instance_id: &str) -> Result<bool, RepositoryError> {
        let count = queries::instance_of_type(pbx_type, instance_id)
            .count(self.db.connection())
            .await
            .map_err(repository_error)?;
        Ok(count > 0)
    }

    async fn find(&self, customer_id: CustomerId, id: PbxId) -> Result<Option<Versioned<PbxProfile>>, RepositoryError> {
        let row = queries::profile(customer_id, id).one(self.db.connection()).await.map_err(repository_error)?;
        self.read_back(id, row)
    }

    async fn find_to_change(
        &self,
        reseller: ResellerId,
        customer_id: CustomerId,
        id: PbxId,
    ) -> Result<Option<ProfileToChange>, RepositoryError> {
        self.to_change(reseller, customer_id, id).await
    }

    async fn find_created(
        &self,
        reseller: ResellerId,
        customer_id: CustomerId,
        id: PbxId,
    ) -> Result<Option<ProfileToChange<Secret>>, RepositoryError> {
        self.to_change(reseller, customer_id, id).await
    }

    async fn find_visible(
        &self,
        reseller: ResellerId,
        customer_id: CustomerId,
        id: PbxId,
    ) -> Result<Option<ShownProfile>, RepositoryError> {
        let statement = queries::visible_profile_shown(self.db.backend(), reseller, customer_id, id);
        let Some(row) = self.db.connection().query_one_raw(statement).await.map_err(repository_error)? else {
            return Ok(None);
        };
        let shown = || -> anyhow::Result<ShownProfile> {
            let connection = ConnectionColumns::from_query_result(&row, "")?.status()?;
            let profile = load(ShownRow::from_query_result(&row, "")?, &StoredSecrets::NotRead)?;
            Ok(ShownProfile { profile, connection })
        };
        shown()
            .with_context(|| format!("PBX profile {id} cannot be read"))
            .map(Some)
            .map_err(RepositoryError::Unexpected)
    }

    async fn list(&self, customer_id: CustomerId, page: Page) -> Result<Vec<PbxSummary>, RepositoryError> {
        let rows = queries::profiles_page(customer_id, page)
            .into_model::<SummaryRow>()
            .all(self.db.connection())
            .await
            .map_err(repository_error)?;
        rows.into_iter().map(summary).collect::<anyhow::Result<_>>().map_err(RepositoryError::Unexpected)
    }

    async fn update(
        &self,
        before: &PbxProfile<Withheld>,
        after: &PbxProfile<Withheld>,
        secret: Option<Secret>,
        expected_version: u64,
        event: &NewEvent,
    ) -> Result<u64, WriteError> {
        let expected = i64::try_from(expected_version).map_err(|e| RepositoryError::Unexpected(e.into()))?;
        let columns = self.changed_columns(before, after, secret.as_ref()).map_err(RepositoryError::Unexpected)?;
        let mut update = pbx_profile::Entity::update_many();
        for (column, value) in columns {
            update = update.col_expr(column, Expr::value(value));
        }
        let update = update
            .col_expr(pbx_profile::Column::Version, Expr::value(expected + 1))
            .filter(pbx_profile::Column::Id.eq(after.id.as_uuid()))
            .filter(pbx_profile::Column::CustomerId.eq(after.customer_id.as_uuid()))
            .filter(pbx_profile::Column::Version.eq(expected))
            .build(self.db.backend());
        let mut statements = vec![update];
        // A connection field changed: the last check's result is of another connection.
        if event.changes_connection(after.pbx_type()) {
            statements.push(crate::connection_store::reset(self.db.backend(), after.id));
        }
        match self.db.apply(Change::recorded(statements, vec![event.clone()])).await {
            Ok(Applied::Written { .. }) => Ok(expected_version + 1),
            Ok(Applied::Unmatched | Applied::KeyTaken) => Err(self.why_unmatched(after.customer_id, after.id).await),
            Err(e) if is_unique_violation(&e) => Err(WriteError::InstanceAttached),
            Err(e) => Err(repository_error(e).into()),
        }
    }

    async fn delete(
        &self,
        reseller: ResellerId,
        customer_id: CustomerId,
        id: PbxId,
        expected_version: Option<u64>,
        event: &NewEvent,
    ) -> Result<(), WriteError> {
        let mut delete = pbx_profile::Entity::delete_many()
            .filter(pbx_profile::Column::Id.eq(id.as_uuid()))
            .filter(pbx_profile::Column::CustomerId.eq(customer_id.as_uuid()))
            .filter(pbx_profile::Column::CustomerId.in_subquery(queries::customer_of(reseller, customer_id)));
        if let Some(expected) = expected_version {
            let expected = i64::try_from(expected).map_err(|e| RepositoryError::Unexpected(e.into()))?;
            delete = delete.filter(pbx_profile::Column::Version.eq(expected));
        }
        let delete = delete.build(self.db.backend());
        match self.db.apply(Change::recorded(vec![delete], vec![event.clone()])).await {
            Ok(Applied::Written { .. }) => Ok(()),
            Ok(Applied::Unmatched | Applied::KeyTaken) => Err(self.why_unmatched_for(reseller, customer_id, id).await),
            Err(e) => Err(repository_error(e).into()),
        }
    }

    async fn find_instance(&self, instance_id: &str) -> Result<Option<Attachment>, RepositoryError> {
        let connection = self.db.connection();
        let Some(profile) = queries::instance(instance_id).one(connection).await.map_err(repository_error)? else {
            return Ok(None);
        };
        let owner = queries::customer_by_id(profile.customer_id)
            .one(connection)
            .await
            .map_err(repository_error)?
            .context("a profile refers to a customer that does not exist")?;
        Ok(Some(Attachment {
            pbx_id: PbxId::from_uuid(profile.id),
            customer_id: CustomerId::from_uuid(profile.customer_id),
            reseller_id: ResellerId::from_uuid(owner.reseller_id),
        }))
    }
}
