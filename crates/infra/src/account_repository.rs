//! Accounts in the database.

use std::collections::HashMap;

use anyhow::Context;
use async_trait::async_trait;
use chrono::Utc;
use pbx_application::idempotency::KeyRecord;
use pbx_application::{
    AccountMetrics, AccountRepository, CustomerProfiles, Page, ProfileFigures, RepositoryError, Versioned, WriteError,
};
use pbx_domain::{Account, CustomerId, PbxId, PbxType, ResellerId};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect, QueryTrait};

use crate::customer_repository::{DetailColumns, stored_version};
use crate::db_error::repository_error;
use crate::entity::{account, customer};
use crate::unit_of_work::{Applied, Change, Unit};
use crate::{Database, queries};

/// [`AccountRepository`] over SeaORM.
#[derive(Debug, Clone)]
pub struct SeaOrmAccountRepository {
    db: Database,
}

impl SeaOrmAccountRepository {
    /// The repository over `db`.
    #[must_use]
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

fn to_domain(row: account::Model) -> anyhow::Result<Versioned<Account>> {
    let columns = DetailColumns {
        name: row.name,
        description: row.description,
        reference: row.reference,
        country_code: row.country_code,
        timezone: row.timezone,
        enabled: row.enabled,
    };
    let account = Account {
        id: ResellerId::from_uuid(row.id),
        parent: ResellerId::from_uuid(row.parent_tenant_id),
        date_created: row.date_created,
        details: columns.parse()?,
    };
    Ok(Versioned { value: account, version: u64::try_from(row.version)? })
}

fn active(account: &Account, version: i64) -> account::ActiveModel {
    let details = DetailColumns::of(&account.details);
    account::ActiveModel {
        id: Set(account.id.as_uuid()),
        parent_tenant_id: Set(account.parent.as_uuid()),
        name: Set(details.name),
        description: Set(details.description),
        reference: Set(details.reference),
        country_code: Set(details.country_code),
        timezone: Set(details.timezone),
        enabled: Set(details.enabled),
        date_created: Set(account.date_created),
        version: Set(version),
        date_deleted: Set(None),
    }
}

fn unreadable(e: anyhow::Error) -> RepositoryError {
    RepositoryError::Unexpected(e.context("an account cannot be read back"))
}

#[async_trait]
impl AccountRepository for SeaOrmAccountRepository {
    async fn find(&self, id: ResellerId) -> Result<Option<Versioned<Account>>, RepositoryError> {
        let row = queries::account(id).one(self.db.connection()).await.map_err(repository_error)?;
        row.map(to_domain).transpose().map_err(unreadable)
    }

    async fn list(
        &self,
        parent: ResellerId,
        filter: Option<String>,
        page: Page,
    ) -> Result<Vec<Account>, RepositoryError> {
        let rows = queries::accounts_page(parent, filter.as_deref(), page)
            .all(self.db.connection())
            .await
            .map_err(repository_error)?;
        rows.into_iter().map(|row| to_domain(row).map(|a| a.value)).collect::<anyhow::Result<_>>().map_err(unreadable)
    }

    async fn insert(&self, account: &Account, key: Option<KeyRecord>) -> Result<(), WriteError> {
        let backend = self.db.backend();
        let guard = queries::unless_deleted_account(backend, account.parent);
        let insert =
            queries::insert_where(&active(account, 1), guard).map_err(|e| RepositoryError::Unexpected(e.into()))?;
        match self.db.apply(Change::unrecorded(backend.build(&insert)).keyed(backend, key.as_ref())).await {
            Ok(Applied::Written { .. }) => Ok(()),
            Ok(Applied::Unmatched) => Err(WriteError::NotFound),
            Ok(Applied::KeyTaken) => Err(WriteError::KeyTaken),
            Err(e) => Err(repository_error(e).into()),
        }
    }

    async fn update(&self, account: &Account, expected_version: u64) -> Result<u64, WriteError> {
        let expected = stored_version(expected_version)?;
        let update = account::Entity::update_many()
            .set(active(account, expected + 1))
            .filter(account::Column::Id.eq(account.id.as_uuid()))
            .filter(account::Column::ParentTenantId.eq(account.parent.as_uuid()))
            .filter(account::Column::Version.eq(expected))
            .filter(account::Column::DateDeleted.is_null())
            .build(self.db.backend());
        if self.db.execute(update).await.map_err(repository_error)? > 0 {
            return Ok(expected_version + 1);
        }
        Err(match self.find(account.id).await? {
            Some(found) if found.value.parent == account.parent => WriteError::VersionMismatch,
            _ => WriteError::NotFound,
        })
    }

    async fn delete(
        &self,
        parent: ResellerId,
        id: ResellerId,
        expected_version: Option<u64>,
    ) -> Result<(), WriteError> {
        let expected = expected_version.map(stored_version).transpose()?;
        self.db
            .transact(async |transaction| {
                // The row first, for update: a create under the account that locked it first (see
                // `queries::unless_deleted_account`) commits before this goes on, and one that comes later waits
                // and then sees the account deleted.
                let Some(row) = queries::account(id).lock_exclusive().one(transaction).await? else {
                    return Ok(Unit::roll_back(Err(WriteError::NotFound)));
                };
                if row.parent_tenant_id != parent.as_uuid() {
                    return Ok(Unit::roll_back(Err(WriteError::NotFound)));
                }
                if expected.is_some_and(|v| v != row.version) {
                    return Ok(Unit::roll_back(Err(WriteError::VersionMismatch)));
                }
                // Statements of their own, after the lock: they read what the creates ahead committed
                // (PostgreSQL's read committed takes a snapshot a statement, MySQL's first plain read one now).
                if queries::customers_of(id).limit(1).count(transaction).await? > 0
                    || queries::accounts_of(id).limit(1).count(transaction).await? > 0
                {
                    return Ok(Unit::roll_back(Err(WriteError::InUse)));
                }
                let mark = account::Entity::update_many()
                    .col_expr(account::Column::DateDeleted, Expr::val(Utc::now()))
                    .col_expr(account::Column::Version, Expr::col(account::Column::Version).add(1))
                    .filter(account::Column::Id.eq(id.as_uuid()));
                mark.exec(transaction).await?;
                Ok(Unit::commit(Ok(()), Vec::new()))
            })
            .await
            .map_err(repository_error)?
    }

    async fn metrics(&self, id: ResellerId, page: Option<Page>) -> Result<AccountMetrics, RepositoryError> {
        let connection = self.db.connection();
        let customers = queries::customers_of(id).count(connection).await.map_err(repository_error)?;
        let enabled_customers = queries::customers_of(id)
            .filter(customer::Column::Enabled.eq(true))
            .count(connection)
            .await
            .map_err(repository_error)?;
        let counts: Vec<(String, bool, i64)> =
            queries::profile_counts_of(id).into_tuple().all(connection).await.map_err(repository_error)?;
        let page_rows = match page {
            Some(page) => queries::customers_page(id, None, page).all(connection).await.map_err(repository_error)?,
            None => Vec::new(),
        };
        let ids = page_rows.iter().map(|c| c.id).collect::<Vec<_>>();
        let profiles = if ids.is_empty() {
            Vec::new()
        } else {
            queries::profiles_of(ids)
                .into_model::<queries::FiguresRow>()
                .all(connection)
                .await
                .map_err(repository_error)?
        };
        let figures = || -> anyhow::Result<AccountMetrics> {
            // Each customer's profiles, in the order read (oldest first).
            let mut by_customer: HashMap<uuid::Uuid, Vec<ProfileFigures>> = HashMap::new();
            for row in profiles {
                let pbx_type = PbxType::parse(&row.pbx_type)?;
                by_customer.entry(row.customer_id).or_default().push(ProfileFigures {
                    id: PbxId::from_uuid(row.id),
                    pbx_type,
                    instance_id: row.instance_id,
                    name: row.name,
                    enabled: row.enabled,
                    monitor_sub_accounts: crate::pbx::monitors_sub_accounts(pbx_type, row.settings),
                });
            }
            let items = page_rows
                .into_iter()
                .map(|c| CustomerProfiles {
                    customer_id: CustomerId::from_uuid(c.id),
                    profiles: by_customer.remove(&c.id).unwrap_or_default(),
                    name: c.name,
                    enabled: c.enabled,
                })
                .collect();
            let profiles = counts
                .into_iter()
                .map(|(pbx_type, enabled, n)| Ok((PbxType::parse(&pbx_type)?, enabled, u64::try_from(n)?)))
                .collect::<anyhow::Result<_>>()?;
            Ok(AccountMetrics { customers, enabled_customers, profiles, items })
        };
        figures().context("the metrics of an account cannot be read").map_err(RepositoryError::Unexpected)
    }
}
