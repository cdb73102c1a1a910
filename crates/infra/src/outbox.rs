//! The change feed's outbox: events written in the transaction of their change, numbered in commit order, read
//! back by cursor, purged by age, and a signal for the readers waiting on this replica.
//!
//! **Commit order.** Transactions commit out of order: numbering events from an identity column (or a sequence)
//! at insert time would let a reader see event 8 committed while event 7 is still in flight, hand out cursor 8,
//! and never see 7. Here the number comes from one counter row (`pbx_event_positions`, `sequence`) that a
//! transaction updates as its very last statement before its commit: the row lock it takes is held until the
//! commit, so the next transaction recording events waits for that commit before it draws its numbers. Numbers
//! are therefore handed out in commit order on every backend (PostgreSQL and InnoDB release row locks after the
//! commit is visible; SQLite has one writer), and a reader reading `seq > cursor` never skips one. The price is
//! that the tails of event-writing transactions (counter, event insert, commit) run one at a time; group commit
//! takes the counter once for a whole group.

use std::sync::Arc;

use anyhow::Context;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use pbx_application::RepositoryError;
use pbx_application::events::{EventLog, Listener, NewEvent, Read, Visibility};
use pbx_domain::events::{Actor, Event, EventType};
use sea_orm::sea_query::{Condition, Query};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Statement, TransactionTrait,
};
use tokio::sync::Notify;

use crate::Database;
use crate::db_error::repository_error;
use crate::entity::{account, pbx_event};
use crate::queries::placeholder;

/// Wakes the readers waiting on this replica when events are committed.
#[derive(Debug, Clone, Default)]
pub(crate) struct Committed(Arc<Notify>);

impl Committed {
    /// Events were committed.
    pub(crate) fn signal(&self) {
        self.0.notify_waiters();
    }

    /// Completes at the next signal after this call (armed now, before its first poll).
    pub(crate) fn listen(&self) -> Listener {
        let mut notified = Box::pin(Arc::clone(&self.0).notified_owned());
        notified.as_mut().enable();
        notified
    }
}

/// Sets a profile event's `countryCode` to the country stored (a profile that took its customer's).
pub(crate) fn with_country(event: &mut NewEvent, country_code: &str) {
    if let Some(data) = event.data.as_mut().and_then(serde_json::Value::as_object_mut) {
        data.insert("countryCode".to_owned(), serde_json::Value::from(country_code));
    }
}

/// The position named `name` of `pbx_event_positions`.
fn position_statement(backend: DbBackend, name: &str) -> Statement {
    let sql = format!("SELECT position FROM pbx_event_positions WHERE name = {}", placeholder(backend, 1));
    Statement::from_sql_and_values(backend, sql, [name.into()])
}

/// Draws `count` event numbers from the counter, as the transaction's last statement but the events' insert; the
/// counter's row stays locked until the transaction ends. Returns the last number drawn.
async fn draw(connection: &impl ConnectionTrait, count: i64) -> Result<i64, DbErr> {
    let backend = connection.get_database_backend();
    let row = if backend == DbBackend::MySql {
        // No UPDATE … RETURNING on MySQL/MariaDB: LAST_INSERT_ID(expr) keeps the value for this session.
        let update = "UPDATE pbx_event_positions SET position = LAST_INSERT_ID(position + ?) WHERE name = 'sequence'";
        connection.execute_raw(Statement::from_sql_and_values(backend, update, [count.into()])).await?;
        connection.query_one_raw(Statement::from_string(backend, "SELECT CAST(LAST_INSERT_ID() AS SIGNED)")).await?
    } else {
        let update = format!(
            "UPDATE pbx_event_positions SET position = position + {} WHERE name = 'sequence' RETURNING position",
            placeholder(backend, 1)
        );
        connection.query_one_raw(Statement::from_sql_and_values(backend, update, [count.into()])).await?
    };
    row.ok_or_else(|| DbErr::Custom("the event counter is missing (run the migrations)".to_owned()))?
        .try_get_by_index(0)
}

/// Records `events` in the transaction `connection` is in: call it last, just before the commit.
pub(crate) async fn append(connection: &impl ConnectionTrait, events: &[NewEvent]) -> Result<(), DbErr> {
    if events.is_empty() {
        return Ok(());
    }
    let count = i64::try_from(events.len()).map_err(|e| DbErr::Custom(e.to_string()))?;
    let first = draw(connection, count).await? - count + 1;
    let rows = events.iter().zip(first..).map(|(event, seq)| pbx_event::ActiveModel {
        seq: Set(seq),
        id: Set(event.id),
        event_type: Set(event.event_type.as_str().to_owned()),
        occurred_at: Set(event.occurred_at),
        reseller_id: Set(event.reseller_id.as_uuid()),
        customer_id: Set(event.customer_id.as_uuid()),
        pbx_id: Set(event.pbx_id.map(|id| id.as_uuid())),
        actor_tenant_id: Set(event.actor.tenant_id),
        actor_subject: Set(event.actor.subject.clone()),
        changed: Set(event.changed.as_ref().map(|c| serde_json::Value::from(c.clone()))),
        data: Set(event.data.clone()),
    });
    pbx_event::Entity::insert_many(rows).exec_without_returning(connection).await?;
    Ok(())
}

/// The event of a row.
pub(crate) fn event(row: pbx_event::Model) -> anyhow::Result<Event> {
    let changed = row
        .changed
        .map(serde_json::from_value::<Vec<String>>)
        .transpose()
        .context("an event's changed fields are not a list of names")?;
    Ok(Event {
        id: row.id,
        cursor: row.seq.to_string(),
        event_type: EventType::parse(&row.event_type)
            .with_context(|| format!("unknown event type {}", row.event_type))?,
        occurred_at: row.occurred_at,
        reseller_id: row.reseller_id,
        customer_id: row.customer_id,
        pbx_id: row.pbx_id,
        actor: Actor { tenant_id: row.actor_tenant_id, subject: row.actor_subject },
        changed,
        data: row.data.filter(|d| !d.is_null()),
    })
}

/// [`EventLog`] over SeaORM.
#[derive(Debug, Clone)]
pub struct SeaOrmEventLog {
    db: Database,
}

impl SeaOrmEventLog {
    /// The log in `db`.
    #[must_use]
    pub fn new(db: Database) -> Self {
        Self { db }
    }

    /// The position `name` (`sequence`, `purged`, `nats`).
    pub(crate) async fn position(connection: &impl ConnectionTrait, name: &str) -> Result<i64, DbErr> {
        let row = connection.query_one_raw(position_statement(connection.get_database_backend(), name)).await?;
        row.ok_or_else(|| DbErr::Custom(format!("the event position {name} is missing")))?.try_get_by_index(0)
    }

    /// Up to `limit` rows after `after` that `visibility` shows, in order.
    pub(crate) async fn rows(
        connection: &impl ConnectionTrait,
        after: i64,
        limit: u64,
        visibility: Visibility,
    ) -> Result<Vec<pbx_event::Model>, DbErr> {
        let mut select = pbx_event::Entity::find().filter(pbx_event::Column::Seq.gt(after));
        if let Visibility::Tenant(tenant) = visibility {
            let accounts = Query::select()
                .column(account::Column::Id)
                .from(account::Entity)
                .and_where(account::Column::ParentTenantId.eq(tenant.as_uuid()))
                .to_owned();
            select = select.filter(
                Condition::any()
                    .add(pbx_event::Column::ResellerId.eq(tenant.as_uuid()))
                    .add(pbx_event::Column::ResellerId.in_subquery(accounts)),
            );
        }
        select.order_by_asc(pbx_event::Column::Seq).limit(limit).all(connection).await
    }
}

#[async_trait]
impl EventLog for SeaOrmEventLog {
    async fn append(&self, events: &[NewEvent]) -> Result<(), RepositoryError> {
        self.db.write_recorded(Vec::new(), events).await.map_err(repository_error)?;
        Ok(())
    }

    async fn read(&self, after: Option<u64>, limit: u64, visibility: Visibility) -> Result<Read, RepositoryError> {
        let connection = self.db.connection();
        // Positions are BIGINT: a cursor past that range is past every event.
        let from = i64::try_from(after.unwrap_or(0)).unwrap_or(i64::MAX);
        let rows = Self::rows(connection, from, limit, visibility).await.map_err(repository_error)?;
        // Read after the events: a purge that deleted some of them has committed its position by then.
        if after.is_some() && from < Self::position(connection, "purged").await.map_err(repository_error)? {
            return Ok(Read::Gone);
        }
        let events = rows.into_iter().map(event).collect::<anyhow::Result<_>>()?;
        Ok(Read::Events(events))
    }

    fn listen(&self) -> Listener {
        self.db.committed().listen()
    }

    async fn purge(&self, before: DateTime<Utc>) -> Result<u64, RepositoryError> {
        let purged = self
            .db
            .write(|connection| async move {
                let txn = connection.begin().await?;
                let purged = async {
                    let last: Option<i64> = pbx_event::Entity::find()
                        .select_only()
                        .column_as(pbx_event::Column::Seq.max(), "last")
                        .filter(pbx_event::Column::OccurredAt.lt(before))
                        .into_tuple::<Option<i64>>()
                        .one(&txn)
                        .await?
                        .flatten();
                    let Some(last) = last else { return Ok(0) };
                    // Several replicas may purge at once: the position only moves forward.
                    let backend = txn.get_database_backend();
                    let moved = format!(
                        "UPDATE pbx_event_positions SET position = {} WHERE name = 'purged' AND position < {}",
                        placeholder(backend, 1),
                        placeholder(backend, 2)
                    );
                    txn.execute_raw(Statement::from_sql_and_values(backend, moved, [last.into(), last.into()])).await?;
                    let deleted =
                        pbx_event::Entity::delete_many().filter(pbx_event::Column::Seq.lte(last)).exec(&txn).await?;
                    Ok::<u64, DbErr>(deleted.rows_affected)
                }
                .await;
                match purged {
                    Ok(n) if n > 0 => txn.commit().await.map(|()| n),
                    other => {
                        let _ = txn.rollback().await;
                        other
                    }
                }
            })
            .await
            .map_err(repository_error)?;
        Ok(purged)
    }
}
