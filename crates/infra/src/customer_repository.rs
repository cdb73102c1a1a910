//! Customers in the database.

use async_trait::async_trait;
use pbx_application::idempotency::KeyRecord;
use pbx_application::{CustomerRepository, NewEvent, Page, RepositoryError, Versioned, WriteError};
use pbx_domain::{
    CountryCode, Customer, CustomerId, CustomerName, CustomerOptions, Features, NewCustomer, OptionalText, ResellerId,
    TenantProfileType, Timezone, TrialDays,
};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DbBackend, EntityTrait, PaginatorTrait, QueryFilter, QueryTrait, Statement,
};

use crate::db_error::{is_foreign_key_violation, repository_error};
use crate::entity::customer;
use crate::unit_of_work::{Applied, Change};
use crate::{Database, queries};

/// [`CustomerRepository`] over SeaORM.
#[derive(Debug, Clone)]
pub struct SeaOrmCustomerRepository {
    db: Database,
}

impl SeaOrmCustomerRepository {
    /// The repository over `db`.
    #[must_use]
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

/// The stored columns of a customer's (or an account's) details.
pub(crate) struct DetailColumns {
    pub(crate) name: String,
    pub(crate) description: Option<String>,
    pub(crate) reference: Option<String>,
    pub(crate) country_code: String,
    pub(crate) timezone: String,
    pub(crate) enabled: bool,
}

impl DetailColumns {
    pub(crate) fn of(details: &NewCustomer) -> Self {
        Self {
            name: details.name.to_string(),
            description: details.description.as_ref().map(|t| t.as_str().to_owned()),
            reference: details.reference.as_ref().map(|t| t.as_str().to_owned()),
            country_code: details.country_code.to_string(),
            timezone: details.timezone.to_string(),
            enabled: details.enabled,
        }
    }

    pub(crate) fn parse(self) -> anyhow::Result<NewCustomer> {
        let optional = |text: Option<String>| text.map(|t| OptionalText::parse(&t)).transpose();
        Ok(NewCustomer {
            name: CustomerName::parse(&self.name)?,
            description: optional(self.description)?,
            reference: optional(self.reference)?,
            country_code: CountryCode::parse(&self.country_code)?,
            timezone: Timezone::parse(&self.timezone)?,
            enabled: self.enabled,
        })
    }
}

fn to_domain(row: customer::Model) -> anyhow::Result<Customer> {
    let columns = DetailColumns {
        name: row.name,
        description: row.description,
        reference: row.reference,
        country_code: row.country_code,
        timezone: row.timezone,
        enabled: row.enabled,
    };
    let options = CustomerOptions {
        features: Features::new(u32::try_from(row.features_agent)?, u32::try_from(row.features_device)?)?,
        tenant_profile_type: TenantProfileType::parse(&row.tenant_profile_type)?,
        trial_duration: TrialDays::new(u64::try_from(row.trial_duration)?)?,
        sync_acd_agent_with_pbx: row.sync_acd_agent_with_pbx,
        send_new_user_email: row.send_new_user_email,
        send_connect_welcome_email: row.send_connect_welcome_email,
    };
    Ok(Customer {
        id: CustomerId::from_uuid(row.id),
        reseller_id: ResellerId::from_uuid(row.reseller_id),
        date_created: row.date_created,
        details: columns.parse()?,
        options,
    })
}

pub(crate) fn active(customer: &Customer) -> customer::ActiveModel {
    let details = DetailColumns::of(&customer.details);
    let options = &customer.options;
    customer::ActiveModel {
        id: Set(customer.id.as_uuid()),
        reseller_id: Set(customer.reseller_id.as_uuid()),
        name: Set(details.name),
        description: Set(details.description),
        reference: Set(details.reference),
        country_code: Set(details.country_code),
        timezone: Set(details.timezone),
        enabled: Set(details.enabled),
        date_created: Set(customer.date_created),
        version: Set(1),
        features_agent: Set(i32::try_from(options.features.agent()).unwrap_or(i32::MAX)),
        features_device: Set(i32::try_from(options.features.device()).unwrap_or(i32::MAX)),
        tenant_profile_type: Set(options.tenant_profile_type.as_str().to_owned()),
        trial_duration: Set(i16::from(options.trial_duration.days())),
        sync_acd_agent_with_pbx: Set(options.sync_acd_agent_with_pbx),
        send_new_user_email: Set(options.send_new_user_email),
        send_connect_welcome_email: Set(options.send_connect_welcome_email),
    }
}

impl SeaOrmCustomerRepository {
    /// Inserts customers in one statement (bulk loads such as `pbx-server seed`). Keep a batch under about 2,000.
    ///
    /// # Errors
    /// When the database refuses the rows.
    pub async fn insert_batch(&self, customers: &[Customer]) -> anyhow::Result<()> {
        if customers.is_empty() {
            return Ok(());
        }
        let insert = customer::Entity::insert_many(customers.iter().map(active)).build(self.db.backend());
        self.db.apply(Change::unrecorded(insert)).await?;
        Ok(())
    }

    /// After a write that matched no row: is the customer gone, or at another version?
    async fn why_unmatched(&self, reseller: ResellerId, id: CustomerId) -> WriteError {
        match queries::customer(reseller, id).count(self.db.connection()).await {
            Ok(0) => WriteError::NotFound,
            Ok(_) => WriteError::VersionMismatch,
            Err(e) => repository_error(e).into(),
        }
    }
}

/// The insert of `customer`, which inserts nothing when its reseller is a deleted account (see
/// [`queries::unless_deleted_account`]).
pub(crate) fn guarded_insert(backend: DbBackend, customer: &Customer) -> Result<Statement, RepositoryError> {
    let guard = queries::unless_deleted_account(backend, customer.reseller_id);
    let insert = queries::insert_where(&active(customer), guard).map_err(|e| RepositoryError::Unexpected(e.into()))?;
    Ok(backend.build(&insert))
}

pub(crate) fn stored_version(expected: u64) -> Result<i64, RepositoryError> {
    i64::try_from(expected).map_err(|e| RepositoryError::Unexpected(e.into()))
}

#[async_trait]
impl CustomerRepository for SeaOrmCustomerRepository {
    async fn find(&self, reseller: ResellerId, id: CustomerId) -> Result<Option<Versioned<Customer>>, RepositoryError> {
        let row = queries::customer(reseller, id).one(self.db.connection()).await.map_err(repository_error)?;
        row.map(|row| {
            let version = u64::try_from(row.version)?;
            Ok(Versioned { value: to_domain(row)?, version })
        })
        .transpose()
        .map_err(|e: anyhow::Error| {
            RepositoryError::Unexpected(e.context(format!("customer {id} cannot be read back")))
        })
    }

    async fn list(
        &self,
        reseller: ResellerId,
        filter: Option<String>,
        page: Page,
    ) -> Result<Vec<Customer>, RepositoryError> {
        let rows = queries::customers_page(reseller, filter.as_deref(), page)
            .all(self.db.connection())
            .await
            .map_err(repository_error)?;
        rows.into_iter().map(to_domain).collect::<anyhow::Result<_>>().map_err(RepositoryError::Unexpected)
    }

    async fn insert(&self, customer: &Customer, event: &NewEvent, key: Option<KeyRecord>) -> Result<(), WriteError> {
        let backend = self.db.backend();
        let insert = guarded_insert(backend, customer)?;
        let change = Change::recorded(vec![insert], vec![event.clone()]).keyed(backend, key.as_ref());
        match self.db.apply(change).await.map_err(repository_error)? {
            Applied::Written { .. } => Ok(()),
            Applied::Unmatched => Err(WriteError::NotFound),
            Applied::KeyTaken => Err(WriteError::KeyTaken),
        }
    }

    async fn reseller_of(&self, id: CustomerId) -> Result<Option<ResellerId>, RepositoryError> {
        let row = queries::customer_by_id(id.as_uuid()).one(self.db.connection()).await.map_err(repository_error)?;
        Ok(row.map(|row| ResellerId::from_uuid(row.reseller_id)))
    }

    async fn update(&self, customer: &Customer, expected_version: u64, event: &NewEvent) -> Result<u64, WriteError> {
        let expected = stored_version(expected_version)?;
        let mut row = active(customer);
        row.version = Set(expected + 1);
        let update = customer::Entity::update_many()
            .set(row)
            .filter(customer::Column::Id.eq(customer.id.as_uuid()))
            .filter(customer::Column::ResellerId.eq(customer.reseller_id.as_uuid()))
            .filter(customer::Column::Version.eq(expected))
            .build(self.db.backend());
        match self.db.apply(Change::recorded(vec![update], vec![event.clone()])).await.map_err(repository_error)? {
            Applied::Written { .. } => Ok(expected_version + 1),
            Applied::Unmatched | Applied::KeyTaken => Err(self.why_unmatched(customer.reseller_id, customer.id).await),
        }
    }

    async fn delete(
        &self,
        reseller: ResellerId,
        id: CustomerId,
        expected_version: Option<u64>,
        event: &NewEvent,
    ) -> Result<(), WriteError> {
        let mut delete = customer::Entity::delete_many()
            .filter(customer::Column::Id.eq(id.as_uuid()))
            .filter(customer::Column::ResellerId.eq(reseller.as_uuid()));
        if let Some(expected) = expected_version {
            delete = delete.filter(customer::Column::Version.eq(stored_version(expected)?));
        }
        let delete = delete.build(self.db.backend());
        match self.db.apply(Change::recorded(vec![delete], vec![event.clone()])).await {
            Ok(Applied::Written { .. }) => Ok(()),
            Ok(Applied::Unmatched | Applied::KeyTaken) => Err(self.why_unmatched(reseller, id).await),
            Err(e) if is_foreign_key_violation(&e) => Err(WriteError::InUse),
            Err(e) => Err(repository_error(e).into()),
        }
    }
}
