//! Idempotency keys in `idempotency_keys`, one row per (reseller, key): [`key_statement`] is the insert a create
//! runs first in its own transaction (see [`crate::unit_of_work::Change::keyed`]), skipped — no row inserted — when
//! the key is taken; the unique primary key makes it wait for a create under the same key that is still
//! committing. [`SeaOrmIdempotencyStore`] reads the rows back and purges them.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use pbx_application::RepositoryError;
use pbx_application::idempotency::{IdempotencyStore, KeptKey, KeyRecord};
use pbx_domain::ResellerId;
use sea_orm::{ColumnTrait, Condition, DbBackend, EntityTrait, QueryFilter, QueryTrait, Statement, Value};

use crate::Database;
use crate::db_error::repository_error;
use crate::entity::idempotency_key;
use crate::queries::placeholder;

/// The insert of `key`'s row, which inserts nothing when the key is taken (PostgreSQL and SQLite `ON CONFLICT DO
/// NOTHING`, MySQL `INSERT IGNORE`: every value is checked before, so the duplicate key is the one error it can
/// pass over).
pub(crate) fn key_statement(backend: DbBackend, key: &KeyRecord) -> Statement {
    let values: Vec<String> = (1..=5).map(|n| placeholder(backend, n)).collect();
    let (insert, conflict) = match backend {
        DbBackend::MySql => ("INSERT IGNORE INTO", ""),
        _ => ("INSERT INTO", " ON CONFLICT DO NOTHING"),
    };
    let sql = format!(
        "{insert} idempotency_keys (reseller_id, idempotency_key, fingerprint, resource_id, created_at) \
         VALUES ({}){conflict}",
        values.join(", ")
    );
    let values: [Value; 5] = [
        key.reseller.as_uuid().into(),
        key.key.clone().into(),
        key.fingerprint.clone().into(),
        key.resource_id.into(),
        key.created_at.into(),
    ];
    Statement::from_sql_and_values(backend, sql, values)
}

/// [`IdempotencyStore`] over SeaORM.
#[derive(Debug, Clone)]
pub struct SeaOrmIdempotencyStore {
    db: Database,
}

impl SeaOrmIdempotencyStore {
    /// The store over `db`.
    #[must_use]
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

/// The row of `key` of `reseller`.
fn the_key(reseller: ResellerId, key: &str) -> Condition {
    Condition::all()
        .add(idempotency_key::Column::ResellerId.eq(reseller.as_uuid()))
        .add(idempotency_key::Column::IdempotencyKey.eq(key))
}

#[async_trait]
impl IdempotencyStore for SeaOrmIdempotencyStore {
    async fn find(&self, reseller: ResellerId, key: &str) -> Result<Option<KeptKey>, RepositoryError> {
        let row = idempotency_key::Entity::find_by_id((reseller.as_uuid(), key.to_owned()))
            .one(self.db.connection())
            .await
            .map_err(repository_error)?;
        Ok(row.map(|row| KeptKey {
            fingerprint: row.fingerprint,
            resource_id: row.resource_id,
            created_at: row.created_at,
        }))
    }

    async fn forget(&self, reseller: ResellerId, key: &str, created_at: DateTime<Utc>) -> Result<(), RepositoryError> {
        let delete = idempotency_key::Entity::delete_many()
            .filter(the_key(reseller, key))
            .filter(idempotency_key::Column::CreatedAt.eq(created_at));
        self.db.execute(delete.build(self.db.backend())).await.map_err(repository_error)?;
        Ok(())
    }

    async fn purge(&self, created_before: DateTime<Utc>) -> Result<u64, RepositoryError> {
        let purge =
            idempotency_key::Entity::delete_many().filter(idempotency_key::Column::CreatedAt.lt(created_before));
        self.db.execute(purge.build(self.db.backend())).await.map_err(repository_error)
    }
}
