//! Connection status in `pbx_connections` (migration 14): one row per profile, created by its first check or report,
//! gone with the profile. Every write compares and bumps `revision`, so that of two writers (a check ending, a
//! collector reporting, on any replica) one writes and the other reads again — the change between two statuses is
//! recorded once. A check holds its profile with a lease (`checking_by`, `checking_until`), as webhooks do.

use anyhow::Context;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use pbx_application::connection::{Begun, ConnectionStore, Due, Kept, Saved};
use pbx_application::{NewEvent, RepositoryError};
use pbx_domain::connection::{Checked, CollectorReport, Status};
use pbx_domain::{CustomerId, PbxId, PbxType, ResellerId};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveValue, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, FromQueryResult, QueryFilter, QueryTrait,
    Statement,
};

use crate::Database;
use crate::db_error::{is_foreign_key_violation, repository_error};
use crate::entity::pbx_connection::{self, Column};
use crate::queries::placeholder;
use crate::unit_of_work::{Applied, Change};

/// [`ConnectionStore`] over SeaORM.
#[derive(Debug, Clone)]
pub struct SeaOrmConnectionStore {
    db: Database,
}

impl SeaOrmConnectionStore {
    /// The store on `db`.
    #[must_use]
    pub const fn new(db: Database) -> Self {
        Self { db }
    }

    /// Creates `pbx`'s row unless it exists; `false` when the profile is gone.
    async fn ensure_row(&self, pbx: PbxId) -> Result<bool, RepositoryError> {
        let row = pbx_connection::ActiveModel {
            pbx_id: ActiveValue::Set(pbx.as_uuid()),
            failures: ActiveValue::Set(0),
            revision: ActiveValue::Set(0),
            ..Default::default()
        };
        let insert = pbx_connection::Entity::insert(row)
            .on_conflict(OnConflict::column(Column::PbxId).do_nothing_on([Column::PbxId]).to_owned())
            .build(self.db.backend());
        match self.db.connection().execute_raw(insert).await {
            Ok(_) => Ok(true),
            Err(e) if is_foreign_key_violation(&e) => Ok(false),
            Err(e) => Err(repository_error(e)),
        }
    }

    /// Writes `update` while the row's revision is `revision`, bumping it, with `event`.
    async fn write_at(
        &self,
        pbx: PbxId,
        revision: u64,
        update: sea_orm::UpdateMany<pbx_connection::Entity>,
        event: Option<NewEvent>,
    ) -> Result<Saved, RepositoryError> {
        let revision = i64::try_from(revision).map_err(|e| RepositoryError::Unexpected(e.into()))?;
        let statement = update
            .col_expr(Column::Revision, Expr::col(Column::Revision).add(1))
            .filter(Column::PbxId.eq(pbx.as_uuid()))
            .filter(Column::Revision.eq(revision))
            .build(self.db.backend());
        match self.db.apply(Change::recorded(vec![statement], event.into_iter().collect())).await {
            Ok(Applied::Written { .. }) => Ok(Saved::Saved),
            Ok(Applied::Unmatched | Applied::KeyTaken) => Ok(Saved::Moved),
            Err(e) => Err(repository_error(std::sync::Arc::unwrap_or_clone(e))),
        }
    }
}

/// The statement that forgets `pbx`'s last check, with its lease and schedule, when its connection fields change
/// (in the change's own transaction): the profile is `unknown` until checked again, at once. Always changes a row
/// (an upsert), as a change's statements must.
pub(crate) fn reset(backend: DbBackend, pbx: PbxId) -> Statement {
    let row = pbx_connection::ActiveModel {
        pbx_id: ActiveValue::Set(pbx.as_uuid()),
        failures: ActiveValue::Set(0),
        revision: ActiveValue::Set(1),
        ..Default::default()
    };
    let cleared = [Column::Checked, Column::CheckingBy];
    let instants = [Column::CheckingUntil, Column::StartedAt, Column::NextCheckAt];
    let mut on_conflict = OnConflict::column(Column::PbxId);
    for column in cleared {
        on_conflict.value(column, Expr::val(None::<String>));
    }
    for column in instants {
        on_conflict.value(column, Expr::val(None::<DateTime<Utc>>));
    }
    on_conflict
        .value(Column::Failures, Expr::val(0))
        .value(Column::Revision, Expr::col((pbx_connection::Entity, Column::Revision)).add(1));
    pbx_connection::Entity::insert(row).on_conflict(on_conflict.to_owned()).build(backend)
}

fn unexpected(error: anyhow::Error) -> RepositoryError {
    RepositoryError::Unexpected(error)
}

/// The kept status of a row (none: the default).
pub(crate) fn kept(row: Option<pbx_connection::Model>) -> anyhow::Result<Kept> {
    let Some(row) = row else { return Ok(Kept::default()) };
    Ok(Kept {
        status: status(row.checked.as_deref(), row.collector.as_deref(), row.checking_until)?,
        revision: u64::try_from(row.revision)?,
        checking_by: row.checking_by,
        failures: u32::try_from(row.failures)?,
    })
}

/// The status of the stored columns (JSON text).
pub(crate) fn status(
    checked: Option<&str>,
    collector: Option<&str>,
    checking_until: Option<DateTime<Utc>>,
) -> anyhow::Result<Status> {
    Ok(Status {
        checked: checked.map(serde_json::from_str).transpose().context("a kept check")?,
        collector: collector.map(serde_json::from_str).transpose().context("a kept report")?,
        checking_until,
    })
}

#[derive(Debug, FromQueryResult)]
struct DueRow {
    id: uuid::Uuid,
    customer_id: uuid::Uuid,
    reseller_id: uuid::Uuid,
}

#[async_trait]
impl ConnectionStore for SeaOrmConnectionStore {
    async fn kept(&self, pbx: PbxId) -> Result<Kept, RepositoryError> {
        let row = pbx_connection::Entity::find_by_id(pbx.as_uuid())
            .one(self.db.connection())
            .await
            .map_err(repository_error)?;
        kept(row).map_err(unexpected)
    }

    async fn begin(
        &self,
        pbx: PbxId,
        replica: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
        recent: DateTime<Utc>,
    ) -> Result<Begun, RepositoryError> {
        if !self.ensure_row(pbx).await? {
            return Ok(Begun::Gone);
        }
        let take = pbx_connection::Entity::update_many()
            .col_expr(Column::CheckingBy, Expr::val(replica))
            .col_expr(Column::CheckingUntil, Expr::val(until))
            .col_expr(Column::StartedAt, Expr::val(now))
            .col_expr(Column::Revision, Expr::col(Column::Revision).add(1))
            .filter(Column::PbxId.eq(pbx.as_uuid()))
            .filter(Column::CheckingUntil.is_null().or(Column::CheckingUntil.lte(now)))
            .filter(Column::StartedAt.is_null().or(Column::StartedAt.lte(recent)))
            .build(self.db.backend());
        let taken = self.db.execute(take).await.map_err(|e| repository_error(std::sync::Arc::unwrap_or_clone(e)))?;
        let kept = self.kept(pbx).await?;
        Ok(if taken == 1 {
            Begun::Started(kept)
        } else if kept.status.checking_until.is_some_and(|until| until > now) {
            Begun::Running
        } else {
            Begun::Recent(kept)
        })
    }

    async fn finish(
        &self,
        pbx: PbxId,
        revision: u64,
        checked: &Checked,
        next_check_at: DateTime<Utc>,
        failures: u32,
        event: Option<NewEvent>,
    ) -> Result<Saved, RepositoryError> {
        let checked = serde_json::to_string(checked).map_err(|e| unexpected(e.into()))?;
        let update = pbx_connection::Entity::update_many()
            .col_expr(Column::Checked, Expr::val(checked))
            .col_expr(Column::CheckingBy, Expr::val(None::<String>))
            .col_expr(Column::CheckingUntil, Expr::val(None::<DateTime<Utc>>))
            .col_expr(Column::NextCheckAt, Expr::val(next_check_at))
            .col_expr(Column::Failures, Expr::val(i32::try_from(failures).unwrap_or(i32::MAX)));
        self.write_at(pbx, revision, update, event).await
    }

    async fn report(
        &self,
        pbx: PbxId,
        revision: u64,
        report: &CollectorReport,
        event: Option<NewEvent>,
    ) -> Result<Saved, RepositoryError> {
        if revision == 0 && !self.ensure_row(pbx).await? {
            return Ok(Saved::Gone);
        }
        let report = serde_json::to_string(report).map_err(|e| unexpected(e.into()))?;
        let update = pbx_connection::Entity::update_many().col_expr(Column::Collector, Expr::val(report));
        self.write_at(pbx, revision, update, event).await
    }

    async fn due(&self, now: DateTime<Utc>, limit: u64) -> Result<Vec<Due>, RepositoryError> {
        let backend = self.db.backend();
        // Each value bound where it appears (`?` placeholders bind in order).
        let mut values: Vec<sea_orm::Value> = Vec::new();
        let mut bind = |value: sea_orm::Value| {
            values.push(value);
            placeholder(backend, values.len())
        };
        let enabled = bind(true.into());
        let types: Vec<String> =
            PbxType::ALL.iter().filter(|t| t.checkable()).map(|t| bind(t.as_str().into())).collect();
        let (due_at, free_at, limit) = (bind(now.into()), bind(now.into()), bind(limit.into()));
        let sql = format!(
            "SELECT p.id, p.customer_id, c.reseller_id FROM pbx_profiles p \
             JOIN customers c ON c.id = p.customer_id \
             LEFT JOIN pbx_connections s ON s.pbx_id = p.id \
             WHERE p.enabled = {enabled} AND p.pbx_type IN ({types}) \
             AND (s.pbx_id IS NULL OR ((s.next_check_at IS NULL OR s.next_check_at <= {due_at}) \
             AND (s.checking_until IS NULL OR s.checking_until <= {free_at}))) \
             LIMIT {limit}",
            types = types.join(", "),
        );
        let statement = Statement::from_sql_and_values(backend, sql, values);
        let rows = DueRow::find_by_statement(statement).all(self.db.connection()).await.map_err(repository_error)?;
        Ok(rows
            .into_iter()
            .map(|row| Due {
                pbx_id: PbxId::from_uuid(row.id),
                customer_id: CustomerId::from_uuid(row.customer_id),
                reseller_id: ResellerId::from_uuid(row.reseller_id),
            })
            .collect())
    }
}
