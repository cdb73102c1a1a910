//! The feed read back: in commit order below the horizon (see the parent module), by audience, and purged by age.

use anyhow::Context;
use chrono::{DateTime, Utc};
use pbx_application::events::Audience;
use pbx_domain::events::{Actor, Event, EventType};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, FromQueryResult, QueryFilter, QuerySelect, QueryTrait,
    Statement, Value,
};

use crate::entity::{account, pbx_event};
use crate::queries::placeholder;

use super::{COLUMNS, horizon};

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
        actor: Actor { reseller_id: row.actor_tenant_id, subject: row.actor_subject },
        changed,
        data: row.data.filter(|d| !d.is_null()),
    })
}

/// The position named `name` of `pbx_event_positions` (`purged`, `nats`; `sequence` on MySQL and SQLite).
pub(crate) async fn position(connection: &impl ConnectionTrait, name: &str) -> Result<i64, DbErr> {
    let backend = connection.get_database_backend();
    let sql = format!("SELECT position FROM pbx_event_positions WHERE name = {}", placeholder(backend, 1));
    let row = connection.query_one_raw(Statement::from_sql_and_values(backend, sql, [name.into()])).await?;
    row.ok_or_else(|| DbErr::Custom(format!("the event position {name} is missing")))?.try_get_by_index(0)
}

/// The position of the last event kept (0 when none is).
pub(crate) async fn last_seq(connection: &impl ConnectionTrait) -> Result<i64, DbErr> {
    let last: Option<i64> = pbx_event::Entity::find()
        .select_only()
        .column_as(pbx_event::Column::Seq.max(), "last")
        .into_tuple::<Option<i64>>()
        .one(connection)
        .await?
        .flatten();
    Ok(last.unwrap_or(0))
}

/// The position of the last event every reader may be handed now: on PostgreSQL the last below the horizon, on
/// MySQL/MariaDB the counter's settled value ([`settled_bound`]), on SQLite the last; or the last purged position when
/// no event is kept.
pub(crate) async fn settled_head(connection: &impl ConnectionTrait) -> Result<i64, DbErr> {
    let backend = connection.get_database_backend();
    let last = match backend {
        DbBackend::Postgres => {
            let sql = format!("SELECT COALESCE(MAX(seq), 0) FROM pbx_events WHERE seq < {}", horizon());
            let row = connection.query_one_raw(Statement::from_string(backend, sql)).await?;
            row.map(|row| row.try_get_by_index::<i64>(0)).transpose()?.unwrap_or(0)
        }
        DbBackend::MySql => settled_bound(connection).await?.unwrap_or(0),
        _ => last_seq(connection).await?,
    };
    Ok(last.max(position(connection, "purged").await?))
}

/// The statement of the accounts under `reseller`.
pub(crate) fn resellers_statement(backend: DbBackend, reseller: pbx_domain::ResellerId) -> Statement {
    account::Entity::find()
        .select_only()
        .column(account::Column::Id)
        .filter(account::Column::ParentTenantId.eq(reseller.as_uuid()))
        .filter(account::Column::DateDeleted.is_null())
        .build(backend)
}

/// The resellers a reseller's reader sees: the reseller and the accounts under it.
pub(crate) async fn resellers_of(
    connection: &impl ConnectionTrait,
    reseller: pbx_domain::ResellerId,
) -> Result<Vec<pbx_domain::ResellerId>, DbErr> {
    let statement = resellers_statement(connection.get_database_backend(), reseller);
    let accounts: Vec<uuid::Uuid> = connection
        .query_all_raw(statement)
        .await?
        .iter()
        .map(|row| row.try_get_by_index(0))
        .collect::<Result<_, _>>()?;
    Ok(std::iter::once(reseller).chain(accounts.into_iter().map(pbx_domain::ResellerId::from_uuid)).collect())
}

/// MySQL/MariaDB: the last event number every reader may be handed, read by a locking read of the counter (it
/// waits for the transaction drawing numbers, if one is, to end) — on a connection outside any transaction, so
/// that the shared lock is not held on. `None` elsewhere (PostgreSQL's horizon is in the read's statement; SQLite
/// has one writer). To be read before the events, by a statement of its own.
pub(crate) async fn settled_bound(connection: &impl ConnectionTrait) -> Result<Option<i64>, DbErr> {
    let backend = connection.get_database_backend();
    if backend != DbBackend::MySql {
        return Ok(None);
    }
    let lock = "SELECT position FROM pbx_event_positions WHERE name = 'sequence' LOCK IN SHARE MODE";
    let row = connection.query_one_raw(Statement::from_string(backend, lock)).await?;
    let row = row.ok_or_else(|| DbErr::Custom("the event counter is missing (run the migrations)".to_owned()))?;
    Ok(Some(row.try_get_by_index(0)?))
}

/// What a read takes of each event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Detail {
    /// The whole event.
    Whole,
    /// Its `data` narrowed to `{"_type": …}` (see [`pbx_application::events::EventLog::read_heads`]): the rest of
    /// a profile's view is neither sent by the database nor parsed here.
    Head,
}

/// The columns of a read of `detail`, in [`COLUMNS`]' order.
fn columns(backend: DbBackend, detail: Detail) -> String {
    let type_only = match backend {
        DbBackend::Postgres => "json_build_object('_type', data->>'_type')",
        DbBackend::MySql => "JSON_OBJECT('_type', JSON_UNQUOTE(JSON_EXTRACT(data, '$._type')))",
        _ => "json_object('_type', json_extract(data, '$._type'))",
    };
    match detail {
        Detail::Whole => COLUMNS.to_owned(),
        Detail::Head => COLUMNS.replace(", data", &format!(", {type_only} AS data")),
    }
}

/// The statement reading up to `limit` events after `after` that `audience` sees, in order: for a list of
/// resellers, one index range of `(reseller_id, seq)` each, merged — never a walk of everyone's events. Each row
/// says whether it is `settled`: below the horizon on PostgreSQL, at most `bound` on MySQL ([`settled_bound`]),
/// always on SQLite.
fn rows_statement(
    backend: DbBackend,
    after: i64,
    limit: u64,
    audience: &Audience,
    bound: Option<i64>,
    detail: Detail,
) -> Statement {
    let columns = columns(backend, detail);
    let settled = match (backend, bound) {
        (DbBackend::Postgres, _) => format!("seq < {}", horizon()),
        (_, Some(bound)) => format!("seq <= {bound}"),
        _ => "1 = 1".to_owned(),
    };
    let mut values: Vec<Value> = Vec::new();
    // MySQL picks the primary key on a small table; the range of the reseller's index is right at any size.
    let hint = if backend == DbBackend::MySql { " FORCE INDEX (ix_pbx_events_reseller_seq)" } else { "" };
    let mut arm = |reseller: Option<uuid::Uuid>| {
        let mut condition = String::new();
        let mut table = "pbx_events".to_owned();
        if let Some(reseller) = reseller {
            table.push_str(hint);
            values.push(reseller.into());
            condition = format!("reseller_id = {} AND ", placeholder(backend, values.len()));
        }
        values.push(after.into());
        condition.push_str(&format!("seq > {}", placeholder(backend, values.len())));
        format!(
            "SELECT {columns}, CASE WHEN {settled} THEN 1 ELSE 0 END AS settled FROM {table} WHERE {condition} \
             ORDER BY seq LIMIT {limit}"
        )
    };
    let sql = match audience {
        Audience::All => arm(None),
        Audience::Resellers(resellers) if resellers.len() == 1 => arm(Some(resellers[0].as_uuid())),
        Audience::Resellers(resellers) => {
            let arms: Vec<String> = resellers
                .iter()
                .enumerate()
                .map(|(i, reseller)| format!("SELECT * FROM ({}) r{i}", arm(Some(reseller.as_uuid()))))
                .collect();
            format!("{} ORDER BY seq LIMIT {limit}", arms.join(" UNION ALL "))
        }
    };
    Statement::from_sql_and_values(backend, sql, values)
}

/// Rows read from the log: those that may be handed out, and whether more were committed behind the horizon.
#[derive(Debug)]
pub(crate) struct Rows {
    pub(crate) settled: Vec<pbx_event::Model>,
    pub(crate) held_back: bool,
}

/// A read of the feed in one statement: the rows, and the positions that tell a stale or unknown cursor apart.
#[derive(Debug)]
pub(crate) struct Page {
    pub(crate) rows: Rows,
    /// The position of the last event purged.
    pub(crate) purged: i64,
    /// The last event number drawn (every event up to it may not be settled yet, on PostgreSQL).
    pub(crate) last: i64,
}

/// The statement of [`page`]: [`rows_statement`]'s rows joined to one row of positions (alone when there are none).
pub(crate) fn page_statement(
    backend: DbBackend,
    after: i64,
    limit: u64,
    audience: &Audience,
    bound: Option<i64>,
    detail: Detail,
) -> Statement {
    let read = rows_statement(backend, after, limit, audience, bound, detail);
    let sql = format!(
        "SELECT m.purged_position, m.last_position, r.* FROM (SELECT (SELECT position FROM pbx_event_positions \
         WHERE name = 'purged') AS purged_position, (SELECT COALESCE(MAX(seq), 0) FROM pbx_events) AS last_position) m \
         LEFT JOIN ({}) r ON 1 = 1 ORDER BY r.seq",
        read.sql
    );
    Statement { sql, ..read }
}

/// Up to `limit` rows after `after` that `audience` sees, in order, with the purged position and the last event
/// number, in one statement (one snapshot: a purge that raced the read is seen with the events it deleted); `bound`
/// from [`settled_bound`], read before; each row as `detail` says.
pub(crate) async fn page(
    connection: &impl ConnectionTrait,
    after: i64,
    limit: u64,
    audience: &Audience,
    bound: Option<i64>,
    detail: Detail,
) -> Result<Page, DbErr> {
    let statement = page_statement(connection.get_database_backend(), after, limit, audience, bound, detail);
    let mut settled = Vec::new();
    let (mut purged, mut last, mut held_back) = (None, 0, false);
    for row in connection.query_all_raw(statement).await? {
        purged = Some(row.try_get::<i64>("", "purged_position")?);
        last = row.try_get::<i64>("", "last_position")?;
        // Ordered by number: the settled rows come first; no row read leaves the columns null.
        match row.try_get::<Option<i32>>("", "settled")? {
            None => {}
            Some(0) => held_back = true,
            Some(_) if !held_back => settled.push(pbx_event::Model::from_query_result(&row, "")?),
            Some(_) => {}
        }
    }
    let purged = purged.ok_or_else(|| DbErr::Custom("the event position purged is missing".to_owned()))?;
    Ok(Page { rows: Rows { settled, held_back }, purged, last })
}

/// Deletes the events that occurred before `before` in the transaction `connection` is in, and moves the purged
/// position past them; how many.
pub(crate) async fn purge(connection: &impl ConnectionTrait, before: DateTime<Utc>) -> Result<u64, DbErr> {
    let last: Option<i64> = pbx_event::Entity::find()
        .select_only()
        .column_as(pbx_event::Column::Seq.max(), "last")
        .filter(pbx_event::Column::OccurredAt.lt(before))
        .into_tuple::<Option<i64>>()
        .one(connection)
        .await?
        .flatten();
    let Some(last) = last else { return Ok(0) };
    // Several replicas may purge at once: the position only moves forward.
    let backend = connection.get_database_backend();
    let moved = format!(
        "UPDATE pbx_event_positions SET position = {} WHERE name = 'purged' AND position < {}",
        placeholder(backend, 1),
        placeholder(backend, 2)
    );
    connection.execute_raw(Statement::from_sql_and_values(backend, moved, [last.into(), last.into()])).await?;
    let deleted = pbx_event::Entity::delete_many().filter(pbx_event::Column::Seq.lte(last)).exec(connection).await?;
    Ok(deleted.rows_affected)
}
