//! Customers in the database.

use anyhow::Context;
use async_trait::async_trait;
use pbx_application::{CustomerRepository, RepositoryError};
use pbx_domain::{CountryCode, Customer, CustomerId, CustomerName, NewCustomer, OptionalText, ResellerId, Timezone};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};

use crate::Database;
use crate::db_error::repository_error;
use crate::entity::customer;

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

fn to_domain(row: customer::Model) -> anyhow::Result<Customer> {
    let optional = |text: Option<String>| text.map(|t| OptionalText::parse(&t)).transpose();
    Ok(Customer {
        id: CustomerId::from_uuid(row.id),
        reseller_id: ResellerId::from_uuid(row.reseller_id),
        date_created: row.date_created,
        details: NewCustomer {
            name: CustomerName::parse(&row.name)?,
            description: optional(row.description)?,
            reference: optional(row.reference)?,
            country_code: CountryCode::parse(&row.country_code)?,
            timezone: Timezone::parse(&row.timezone)?,
            enabled: row.enabled,
        },
    })
}

#[async_trait]
impl CustomerRepository for SeaOrmCustomerRepository {
    async fn find(&self, reseller: ResellerId, id: CustomerId) -> Result<Option<Customer>, RepositoryError> {
        let row = customer::Entity::find_by_id(id.as_uuid())
            .filter(customer::Column::ResellerId.eq(reseller.as_uuid()))
            .one(self.db.connection())
            .await
            .map_err(repository_error)?;
        row.map(|row| to_domain(row).with_context(|| format!("customer {id} is stored with an invalid value")))
            .transpose()
            .map_err(RepositoryError::Unexpected)
    }

    async fn insert(&self, customer: &Customer) -> Result<(), RepositoryError> {
        let details = &customer.details;
        let row = customer::ActiveModel {
            id: Set(customer.id.as_uuid()),
            reseller_id: Set(customer.reseller_id.as_uuid()),
            name: Set(details.name.to_string()),
            description: Set(details.description.as_ref().map(|t| t.as_str().to_owned())),
            reference: Set(details.reference.as_ref().map(|t| t.as_str().to_owned())),
            country_code: Set(details.country_code.to_string()),
            timezone: Set(details.timezone.to_string()),
            enabled: Set(details.enabled),
            date_created: Set(customer.date_created),
            version: Set(1),
        };
        customer::Entity::insert(row).exec_without_returning(self.db.connection()).await.map_err(repository_error)?;
        Ok(())
    }
}
