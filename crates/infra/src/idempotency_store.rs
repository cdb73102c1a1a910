//! [`IdempotencyStore`] over SeaORM: a claim is a row inserted under the (reseller, key) primary key, so that one
//! replica wins a race, and keeps the id reserved for what the create makes; answers are encrypted, as they may show
//! a secret.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use pbx_application::RepositoryError;
use pbx_application::idempotency::{Claim, ClaimTimes, IdempotencyStore, Reservation, StoredAnswer};
use pbx_domain::ResellerId;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, Condition, EntityTrait, QueryFilter, QueryTrait};
use uuid::Uuid;

use crate::db_error::{is_unique_violation, repository_error};
use crate::entity::idempotency_key;
use crate::{Database, SecretCipher};

/// [`IdempotencyStore`] over SeaORM.
#[derive(Debug, Clone)]
pub struct SeaOrmIdempotencyStore {
    db: Database,
    cipher: SecretCipher,
}

impl SeaOrmIdempotencyStore {
    /// The store over `db`, encrypting answers with `cipher`.
    #[must_use]
    pub fn new(db: Database, cipher: SecretCipher) -> Self {
        Self { db, cipher }
    }

    /// Inserts a pending claim reserving `resource_id`; `false` when the key has a row already.
    async fn insert(
        &self,
        reseller: ResellerId,
        key: &str,
        fingerprint: &str,
        now: DateTime<Utc>,
        resource_id: Uuid,
    ) -> Result<bool, RepositoryError> {
        let row = idempotency_key::ActiveModel {
            reseller_id: Set(reseller.as_uuid()),
            idempotency_key: Set(key.to_owned()),
            fingerprint: Set(fingerprint.to_owned()),
            resource_id: Set(resource_id),
            status: Set(None),
            location: Set(None),
            answer: Set(None),
            created_at: Set(now),
        };
        let insert = idempotency_key::Entity::insert(row).build(self.db.backend());
        match self.db.execute(insert).await {
            Ok(_) => Ok(true),
            Err(e) if is_unique_violation(&e) => Ok(false),
            Err(e) => Err(repository_error(e)),
        }
    }

    /// Deletes the row of `key` if it is still the one created at `created_at`.
    async fn delete_if_unchanged(
        &self,
        reseller: ResellerId,
        key: &str,
        created_at: DateTime<Utc>,
    ) -> Result<(), RepositoryError> {
        let delete = idempotency_key::Entity::delete_many()
            .filter(the_key(reseller, key))
            .filter(idempotency_key::Column::CreatedAt.eq(created_at));
        self.db.execute(delete.build(self.db.backend())).await.map_err(repository_error)?;
        Ok(())
    }

    fn answer(&self, reseller: ResellerId, row: &idempotency_key::Model) -> anyhow::Result<Option<StoredAnswer>> {
        let (Some(status), Some(answer)) = (row.status, &row.answer) else { return Ok(None) };
        let body = self.cipher.decrypt(answer, &associated(reseller, &row.idempotency_key))?;
        Ok(Some(StoredAnswer { code: u16::try_from(status)?, location: row.location.clone(), body }))
    }
}

/// The row of `key` of `reseller`.
fn the_key(reseller: ResellerId, key: &str) -> Condition {
    Condition::all()
        .add(idempotency_key::Column::ResellerId.eq(reseller.as_uuid()))
        .add(idempotency_key::Column::IdempotencyKey.eq(key))
}

/// What an encrypted answer is bound to: it cannot be moved to another key.
fn associated(reseller: ResellerId, key: &str) -> Vec<u8> {
    [reseller.as_uuid().as_bytes().as_slice(), key.as_bytes()].concat()
}

#[async_trait]
impl IdempotencyStore for SeaOrmIdempotencyStore {
    async fn claim(
        &self,
        reseller: ResellerId,
        key: &str,
        fingerprint: &str,
        times: ClaimTimes,
        candidate: Uuid,
    ) -> Result<Claim, RepositoryError> {
        let ClaimTimes { now, expired_before, stale_before } = times;
        // Twice at most: a row found expired (or gone) is deleted and the insert tried once more.
        for _ in 0..2 {
            if self.insert(reseller, key, fingerprint, now, candidate).await? {
                return Ok(Claim::Claimed(Reservation { id: candidate, resumed: false }));
            }
            let Some(row) = idempotency_key::Entity::find_by_id((reseller.as_uuid(), key.to_owned()))
                .one(self.db.connection())
                .await
                .map_err(repository_error)?
            else {
                continue;
            };
            if row.created_at < expired_before {
                self.delete_if_unchanged(reseller, key, row.created_at).await?;
                continue;
            }
            if row.fingerprint != fingerprint {
                return Ok(Claim::Mismatch);
            }
            if let Some(answer) = self.answer(reseller, &row).map_err(RepositoryError::Unexpected)? {
                return Ok(Claim::Replay(answer));
            }
            if row.created_at >= stale_before {
                return Ok(Claim::InProgress);
            }
            // The claim of a request that never finished: take it over, with its reservation, unless another repeat
            // just did.
            let take_over = idempotency_key::Entity::update_many()
                .col_expr(idempotency_key::Column::CreatedAt, Expr::value(now))
                .filter(the_key(reseller, key))
                .filter(idempotency_key::Column::CreatedAt.eq(row.created_at))
                .filter(idempotency_key::Column::Status.is_null());
            let taken = self.db.execute(take_over.build(self.db.backend())).await.map_err(repository_error)?;
            let resumed = Reservation { id: row.resource_id, resumed: true };
            return Ok(if taken > 0 { Claim::Claimed(resumed) } else { Claim::InProgress });
        }
        Ok(Claim::InProgress)
    }

    async fn complete(&self, reseller: ResellerId, key: &str, answer: &StoredAnswer) -> Result<(), RepositoryError> {
        let encrypted =
            self.cipher.encrypt(&answer.body, &associated(reseller, key)).map_err(RepositoryError::Unexpected)?;
        let status = i16::try_from(answer.code).map_err(|e| RepositoryError::Unexpected(e.into()))?;
        let update = idempotency_key::Entity::update_many()
            .col_expr(idempotency_key::Column::Status, Expr::value(status))
            .col_expr(idempotency_key::Column::Location, Expr::value(answer.location.clone()))
            .col_expr(idempotency_key::Column::Answer, Expr::value(encrypted))
            .filter(the_key(reseller, key));
        self.db.execute(update.build(self.db.backend())).await.map_err(repository_error)?;
        Ok(())
    }

    async fn release(&self, reseller: ResellerId, key: &str) -> Result<(), RepositoryError> {
        let delete = idempotency_key::Entity::delete_many()
            .filter(the_key(reseller, key))
            .filter(idempotency_key::Column::Status.is_null());
        self.db.execute(delete.build(self.db.backend())).await.map_err(repository_error)?;
        Ok(())
    }

    async fn abandon(
        &self,
        reseller: ResellerId,
        key: &str,
        reserved: Uuid,
        claimed_before: DateTime<Utc>,
        stale_at: DateTime<Utc>,
    ) -> Result<(), RepositoryError> {
        let update = idempotency_key::Entity::update_many()
            .col_expr(idempotency_key::Column::CreatedAt, Expr::value(stale_at))
            .filter(the_key(reseller, key))
            .filter(idempotency_key::Column::Status.is_null())
            .filter(idempotency_key::Column::ResourceId.eq(reserved))
            .filter(idempotency_key::Column::CreatedAt.lte(claimed_before));
        self.db.execute(update.build(self.db.backend())).await.map_err(repository_error)?;
        Ok(())
    }

    async fn purge(&self, created_before: DateTime<Utc>) -> Result<u64, RepositoryError> {
        let purge =
            idempotency_key::Entity::delete_many().filter(idempotency_key::Column::CreatedAt.lt(created_before));
        self.db.execute(purge.build(self.db.backend())).await.map_err(repository_error)
    }
}
