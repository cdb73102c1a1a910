//! The state of webhook deliveries in the database: each webhook's place in the feed and its lease, and the log of
//! each event's delivery.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use pbx_application::RepositoryError;
use pbx_application::delivery::{
    Attempt, Claim, Claimable, DISABLE_AFTER, DISABLED, DeliveryRecord, DeliveryStore, Outcome, Recorded,
};
use pbx_domain::WebhookId;
use pbx_domain::events::Event;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait,
};

use crate::Database;
use crate::db_error::repository_error;
use crate::entity::{account, webhook, webhook_delivery};

/// [`DeliveryStore`] over SeaORM.
#[derive(Debug, Clone)]
pub struct SeaOrmDeliveryStore {
    db: Database,
    /// The lease instant of this store's last claim, in milliseconds.
    last_claim: Arc<AtomicI64>,
}

impl SeaOrmDeliveryStore {
    /// The store over `db`.
    #[must_use]
    pub fn new(db: Database) -> Self {
        Self { db, last_claim: Arc::default() }
    }
}

fn unexpected(e: impl Into<anyhow::Error>) -> RepositoryError {
    RepositoryError::Unexpected(e.into())
}

/// The webhook `id` while `replica` holds it.
fn held(id: WebhookId, replica: &str) -> Condition {
    Condition::all().add(webhook::Column::Id.eq(id.as_uuid())).add(webhook::Column::LeaseOwner.eq(replica))
}

/// The statement that writes (or rewrites) an event's row of the delivery log.
#[allow(clippy::too_many_arguments)]
fn log_upsert(
    backend: sea_orm::DbBackend,
    id: WebhookId,
    event_id: uuid::Uuid,
    position: i64,
    event_type: &str,
    attempts: i32,
    attempt: &Attempt,
    (status, next_attempt_at): (&str, Option<DateTime<Utc>>),
) -> sea_orm::Statement {
    let log = webhook_delivery::ActiveModel {
        webhook_id: Set(id.as_uuid()),
        event_id: Set(event_id),
        position: Set(position),
        event_type: Set(event_type.to_owned()),
        attempts: Set(attempts),
        status: Set(status.to_owned()),
        last_status_code: Set(attempt.status.map(i32::from)),
        last_error: Set(attempt.error.clone()),
        duration_ms: Set(Some(i64::try_from(attempt.duration.as_millis()).unwrap_or(i64::MAX))),
        next_attempt_at: Set(next_attempt_at),
        date_updated: Set(Utc::now()),
    };
    webhook_delivery::Entity::insert(log)
        .on_conflict(
            OnConflict::columns([webhook_delivery::Column::WebhookId, webhook_delivery::Column::EventId])
                .update_columns([
                    webhook_delivery::Column::Attempts,
                    webhook_delivery::Column::Status,
                    webhook_delivery::Column::LastStatusCode,
                    webhook_delivery::Column::LastError,
                    webhook_delivery::Column::DurationMs,
                    webhook_delivery::Column::NextAttemptAt,
                    webhook_delivery::Column::DateUpdated,
                ])
                .to_owned(),
        )
        .build(backend)
}

/// The log's entry of webhook `id`'s disabling, at feed position `position`.
fn disabled_entry(backend: sea_orm::DbBackend, id: WebhookId, position: i64) -> sea_orm::Statement {
    let why = format!("disabled: {DISABLE_AFTER} events in a row were given up; enabled again, it goes on from here");
    let entry = Attempt { status: None, error: Some(why), duration: std::time::Duration::ZERO };
    log_upsert(backend, id, uuid::Uuid::now_v7(), position, DISABLED, 0, &entry, ("failed", None))
}

/// PostgreSQL: the record of a delivered event in one statement — the webhook moved past it and its claim renewed
/// (while `replica` holds it), and its log row written from the row updated (none when the claim is lost).
fn delivered(
    replica: &str,
    id: WebhookId,
    event: &Event,
    position: i64,
    attempts: i32,
    attempt: &Attempt,
    until: DateTime<Utc>,
) -> sea_orm::Statement {
    let sql = "WITH w AS (UPDATE webhooks SET failures = 0, cursor = $3, attempts = 0, next_attempt_at = NULL, \
               lease_until = $4 WHERE id = $1 AND lease_owner = $2 RETURNING id) \
               INSERT INTO webhook_deliveries (webhook_id, event_id, position, event_type, attempts, status, \
               last_status_code, last_error, duration_ms, next_attempt_at, date_updated) \
               SELECT id, $5, $3, $6, $7, 'delivered', $8, NULL, $9, NULL, $10 FROM w \
               ON CONFLICT (webhook_id, event_id) DO UPDATE SET attempts = EXCLUDED.attempts, status = EXCLUDED.status, \
               last_status_code = EXCLUDED.last_status_code, last_error = EXCLUDED.last_error, \
               duration_ms = EXCLUDED.duration_ms, next_attempt_at = EXCLUDED.next_attempt_at, \
               date_updated = EXCLUDED.date_updated";
    let duration = i64::try_from(attempt.duration.as_millis()).unwrap_or(i64::MAX);
    let values: [sea_orm::Value; 10] = [
        id.as_uuid().into(),
        replica.into(),
        position.into(),
        until.into(),
        event.id.into(),
        event.event_type.as_str().into(),
        attempts.into(),
        attempt.status.map(i32::from).into(),
        duration.into(),
        Utc::now().into(),
    ];
    sea_orm::Statement::from_sql_and_values(sea_orm::DbBackend::Postgres, sql, values)
}

#[async_trait]
impl DeliveryStore for SeaOrmDeliveryStore {
    async fn claim(
        &self,
        replica: &str,
        which: &Claimable,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Vec<Claim>, RepositoryError> {
        // Whole milliseconds, as an instant read back as it was written on every backend, and a different one for
        // every claim of this store: the rows a claim took are those of its owner and instant.
        let millis = until.timestamp_millis();
        let next = |last: i64| Ord::max(millis, last + 1);
        let last = self.last_claim.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |last| Some(next(last)));
        let millis = next(last.unwrap_or_else(|last| last));
        let until = DateTime::from_timestamp_millis(millis).ok_or_else(|| unexpected(anyhow::anyhow!("{until}")))?;
        let free = Condition::any().add(webhook::Column::LeaseUntil.is_null()).add(webhook::Column::LeaseUntil.lt(now));
        let due =
            Condition::any().add(webhook::Column::NextAttemptAt.is_null()).add(webhook::Column::NextAttemptAt.lte(now));
        let which = match which {
            Claimable::SeeingEventsOf(resellers) => {
                let resellers: Vec<uuid::Uuid> = resellers.iter().map(|r| r.as_uuid()).collect();
                // The tenants above those of the resellers that are accounts.
                let above = account::Entity::find()
                    .select_only()
                    .column(account::Column::ParentTenantId)
                    .filter(account::Column::Id.is_in(resellers.clone()))
                    .filter(account::Column::DateDeleted.is_null())
                    .into_query();
                Condition::any()
                    .add(webhook::Column::OwnerTenantId.is_in(resellers))
                    .add(webhook::Column::OwnerTenantId.in_subquery(above))
            }
            Claimable::One(id) => Condition::all().add(webhook::Column::Id.eq(id.as_uuid())),
            // An index range of (reseller_id, seq) per webhook and reseller it sees: no walk of the feed.
            Claimable::Behind => Condition::any()
                .add(webhook::Column::NextAttemptAt.is_not_null())
                .add(webhook::Column::LeaseOwner.is_not_null())
                .add(Expr::cust(
                    "EXISTS (SELECT 1 FROM pbx_events e WHERE e.reseller_id = webhooks.owner_tenant_id \
                     AND e.seq > webhooks.cursor)",
                ))
                .add(Expr::cust(
                    "EXISTS (SELECT 1 FROM accounts a JOIN pbx_events e ON e.reseller_id = a.id \
                     WHERE a.parent_tenant_id = webhooks.owner_tenant_id AND a.date_deleted IS NULL \
                     AND e.seq > webhooks.cursor)",
                )),
        };
        // Taken only while free, in one statement: of two replicas claiming at once, each row goes to one; then
        // read back by the claim's owner and instant.
        let take = webhook::Entity::update_many()
            .col_expr(webhook::Column::LeaseOwner, Expr::val(replica))
            .col_expr(webhook::Column::LeaseUntil, Expr::val(until))
            .filter(webhook::Column::Enabled.eq(true))
            .filter(free)
            .filter(due)
            .filter(which)
            .build(self.db.backend());
        if self.db.execute(take).await.map_err(repository_error)? == 0 {
            return Ok(Vec::new());
        }
        let rows = webhook::Entity::find()
            .filter(webhook::Column::LeaseOwner.eq(replica))
            .filter(webhook::Column::LeaseUntil.eq(until))
            .all(self.db.connection())
            .await
            .map_err(repository_error)?;
        rows.into_iter()
            .map(|row| {
                let (cursor, attempts) = (row.cursor, row.attempts);
                let webhook = crate::webhook_repository::to_domain(row).map_err(unexpected)?.value;
                Ok(Claim {
                    webhook,
                    cursor: u64::try_from(cursor).map_err(unexpected)?,
                    attempts: u32::try_from(attempts).map_err(unexpected)?,
                })
            })
            .collect()
    }

    async fn record(
        &self,
        replica: &str,
        id: WebhookId,
        event: &Event,
        position: u64,
        attempts: u32,
        attempt: &Attempt,
        outcome: &Outcome,
        until: DateTime<Utc>,
    ) -> Result<Recorded, RepositoryError> {
        let position = i64::try_from(position).map_err(unexpected)?;
        let attempts = i32::try_from(attempts).map_err(unexpected)?;
        if self.db.backend() == sea_orm::DbBackend::Postgres && matches!(outcome, Outcome::Delivered) {
            // The common case in one round trip: the webhook moved on and its log written, or neither.
            let fused = delivered(replica, id, event, position, attempts, attempt, until);
            let written = self.db.execute(fused).await.map_err(repository_error)?;
            return Ok(if written == 0 { Recorded::Lost } else { Recorded::Kept });
        }
        let (status, next_attempt_at) = match outcome {
            Outcome::Delivered => ("delivered", None),
            Outcome::Failed => ("failed", None),
            Outcome::Retry(at) => ("pending", Some(*at)),
        };
        let mut update = webhook::Entity::update_many().filter(held(id, replica));
        let failures = Expr::col(webhook::Column::Failures);
        let bound = i32::try_from(DISABLE_AFTER).map_err(unexpected)?;
        update = match outcome {
            Outcome::Delivered => update.col_expr(webhook::Column::Failures, Expr::val(0)),
            // The bound reached disables the webhook (a change of it: a new version). MySQL reads each assignment
            // after the ones before it, so `failures` is counted last, from the old value.
            Outcome::Failed => {
                let reached = failures.clone().add(1).gte(bound);
                update
                    .col_expr(
                        webhook::Column::Version,
                        Expr::case(
                            reached.clone().and(Expr::col(webhook::Column::Enabled).eq(true)),
                            Expr::col(webhook::Column::Version).add(1),
                        )
                        .finally(Expr::col(webhook::Column::Version))
                        .into(),
                    )
                    .col_expr(
                        webhook::Column::Enabled,
                        Expr::case(reached, Expr::val(false)).finally(Expr::col(webhook::Column::Enabled)).into(),
                    )
                    .col_expr(webhook::Column::Failures, failures.add(1))
            }
            Outcome::Retry(_) => update,
        };
        update = match outcome {
            Outcome::Delivered | Outcome::Failed => update
                .col_expr(webhook::Column::Cursor, Expr::val(position))
                .col_expr(webhook::Column::Attempts, Expr::val(0))
                .col_expr(webhook::Column::NextAttemptAt, Expr::val(None::<DateTime<Utc>>))
                .col_expr(webhook::Column::LeaseUntil, Expr::val(until)),
            // The claim is given up until the retry is due.
            Outcome::Retry(at) => update
                .col_expr(webhook::Column::Attempts, Expr::val(attempts))
                .col_expr(webhook::Column::NextAttemptAt, Expr::val(*at))
                .col_expr(webhook::Column::LeaseOwner, Expr::val(None::<String>))
                .col_expr(webhook::Column::LeaseUntil, Expr::val(None::<DateTime<Utc>>)),
        };
        let upsert = log_upsert(
            self.db.backend(),
            id,
            event.id,
            position,
            event.event_type.as_str(),
            attempts,
            attempt,
            (status, next_attempt_at),
        );
        let update = update.build(self.db.backend());
        // The log, the webhook's place and its disabling together: a crash between them would otherwise log a
        // delivery the webhook then makes again, or move on without a log.
        let db = &self.db;
        db.transact(async |transaction| {
            use sea_orm::ConnectionTrait;
            if transaction.execute_raw(update).await?.rows_affected() == 0 {
                return Ok(crate::unit_of_work::Unit::roll_back(Recorded::Lost));
            }
            transaction.execute_raw(upsert).await?;
            if matches!(outcome, Outcome::Failed) {
                let failures: Option<i32> = webhook::Entity::find_by_id(id.as_uuid())
                    .select_only()
                    .column(webhook::Column::Failures)
                    .into_tuple()
                    .one(transaction)
                    .await?;
                // Exactly at the bound: the failure that disabled it (not one of a delivery under way since).
                if failures == Some(bound) {
                    transaction.execute_raw(disabled_entry(db.backend(), id, position)).await?;
                    return Ok(crate::unit_of_work::Unit::commit(Recorded::Disabled, Vec::new()));
                }
            }
            Ok(crate::unit_of_work::Unit::commit(Recorded::Kept, Vec::new()))
        })
        .await
        .map_err(repository_error)
    }

    async fn release(&self, replica: &str, id: WebhookId, cursor: u64) -> Result<(), RepositoryError> {
        let release = webhook::Entity::update_many()
            .col_expr(webhook::Column::Cursor, Expr::val(i64::try_from(cursor).map_err(unexpected)?))
            .col_expr(webhook::Column::LeaseOwner, Expr::val(None::<String>))
            .col_expr(webhook::Column::LeaseUntil, Expr::val(None::<DateTime<Utc>>))
            .filter(held(id, replica))
            .build(self.db.backend());
        self.db.execute(release).await.map_err(repository_error)?;
        Ok(())
    }

    async fn note(
        &self,
        id: WebhookId,
        event_id: uuid::Uuid,
        event_type: &str,
        position: Option<u64>,
        attempts: u32,
        attempt: &Attempt,
        outcome: &Outcome,
    ) -> Result<(), RepositoryError> {
        let row =
            webhook::Entity::find_by_id(id.as_uuid()).one(self.db.connection()).await.map_err(repository_error)?;
        let Some(row) = row else { return Ok(()) };
        // A test delivery is logged at the webhook's place in the feed, among the events delivered around it.
        let position = match position {
            Some(position) => i64::try_from(position).map_err(unexpected)?,
            None => row.cursor,
        };
        let status = if matches!(outcome, Outcome::Delivered) { "delivered" } else { "failed" };
        let attempts = i32::try_from(attempts).map_err(unexpected)?;
        let upsert =
            log_upsert(self.db.backend(), id, event_id, position, event_type, attempts, attempt, (status, None));
        self.db.execute(upsert).await.map_err(repository_error)?;
        Ok(())
    }

    async fn logged(&self, id: WebhookId, event_id: uuid::Uuid) -> Result<Option<(u64, u32, String)>, RepositoryError> {
        let row = webhook_delivery::Entity::find_by_id((id.as_uuid(), event_id))
            .one(self.db.connection())
            .await
            .map_err(repository_error)?;
        row.map(|row| {
            let position = u64::try_from(row.position).map_err(unexpected)?;
            Ok((position, u32::try_from(row.attempts).map_err(unexpected)?, row.event_type))
        })
        .transpose()
    }

    async fn log(&self, id: WebhookId, page: pbx_application::Page) -> Result<Vec<DeliveryRecord>, RepositoryError> {
        let rows = webhook_delivery::Entity::find()
            .filter(webhook_delivery::Column::WebhookId.eq(id.as_uuid()))
            .order_by_desc(webhook_delivery::Column::Position)
            .order_by_desc(webhook_delivery::Column::EventId)
            .offset(page.offset())
            .limit(page.size)
            .all(self.db.connection())
            .await
            .map_err(repository_error)?;
        rows.into_iter()
            .map(|row| {
                let status = match row.status.as_str() {
                    "delivered" => "delivered",
                    "failed" => "failed",
                    _ => "pending",
                };
                Ok(DeliveryRecord {
                    event_id: row.event_id,
                    event_type: row.event_type,
                    attempts: u32::try_from(row.attempts).map_err(unexpected)?,
                    status,
                    last_status_code: row.last_status_code.and_then(|c| u16::try_from(c).ok()),
                    last_error: row.last_error,
                    duration_ms: row.duration_ms.and_then(|d| u64::try_from(d).ok()),
                    next_attempt_at: row.next_attempt_at,
                    last_attempt_at: row.date_updated,
                })
            })
            .collect()
    }
}
