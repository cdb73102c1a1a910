//! The change feed's rows: how an event is numbered and written in its change's transaction, read back in commit
//! order, and purged by age. No connection is kept here: [`crate::unit_of_work`] runs these statements.
//!
//! **Commit order.** Transactions commit out of order: numbering events from a sequence at insert time would let a
//! reader see event 8 committed while event 7 is still in flight, hand out cursor 8, and never see 7. Each backend
//! keeps the order its own way:
//! - **PostgreSQL, no lock shared by writers**: an event's number is its transaction's id shifted left by 20 bits,
//!   plus its place in the transaction (`pg_current_xact_id()`, taken when the transaction writes). A reader returns
//!   only events whose transaction id is below the oldest transaction still running
//!   (`pg_snapshot_xmin(pg_current_snapshot())`): every transaction below it has ended, and every later one draws a
//!   larger id, so nothing can appear behind a cursor handed out. The horizon is the cluster's: a long write
//!   transaction anywhere holds readers back (latency, never loss) until it ends — the service's own are bounded by
//!   its statement timeout (docs/architecture.md).
//! - **MySQL/MariaDB and SQLite, a counter row**: one row (`pbx_event_positions`, `sequence`) that a transaction
//!   updates as its last statement before its commit; its row lock is held until the commit, so numbers are handed
//!   out in commit order (InnoDB releases row locks once the commit is visible; SQLite has one writer anyway). The
//!   price on MySQL is that the tails of event-writing transactions run one at a time. A reader on MySQL/MariaDB
//!   first reads the counter with a locking read ([`settled_bound`]): granted once every transaction that drew a
//!   number up to the value it returns has committed and released the row, so a read view taken after it sees all
//!   of them. Without it a reader could pass an event: MariaDB takes a read view by walking the running
//!   transactions, not at one instant, and a walk preempted long enough can miss a commit and still take in the
//!   next one (seen once under load: 1199 of 1200 events read).
//!
//! Events written before the PostgreSQL numbering (small counter numbers) sort before every later one: a
//! transaction id shifted by 20 bits is larger than any count of events written before it.

use anyhow::Context;
use chrono::{DateTime, Utc};
use pbx_application::events::{Audience, NewEvent};
use pbx_domain::events::{Actor, Event, EventType};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, FromQueryResult, QueryFilter,
    QuerySelect, QueryTrait, Statement, Value,
};

use crate::entity::{account, pbx_event};
use crate::queries::placeholder;

/// Bits of an event number (PostgreSQL) that count the events of one transaction.
const PLACE_BITS: u32 = 20;

/// PostgreSQL: the number of the `place`-th event of the current transaction.
fn xact_number(place: usize) -> String {
    format!("pg_current_xact_id()::text::bigint * {} + {place}", 1_u64 << PLACE_BITS)
}

/// PostgreSQL: the numbers below this are of transactions that have all ended.
fn horizon() -> String {
    // A scalar subquery: computed once for the statement, not for every row.
    format!("(SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint * {})", 1_u64 << PLACE_BITS)
}

/// The columns of `pbx_events`, in the order [`event_values`] gives them.
const COLUMNS: &str = "seq, id, event_type, occurred_at, reseller_id, customer_id, pbx_id, actor_tenant_id, \
                       actor_subject, changed, data";

fn too_many(events: &[NewEvent]) -> Result<(), DbErr> {
    if events.len() >= 1 << PLACE_BITS {
        return Err(DbErr::Custom(format!("{} events in one transaction is too many", events.len())));
    }
    Ok(())
}

/// The values of an event's columns but `seq`.
fn event_values(event: &NewEvent) -> [Value; 10] {
    [
        Value::from(event.id),
        Value::from(event.event_type.as_str()),
        Value::from(event.occurred_at),
        Value::from(event.reseller_id.as_uuid()),
        Value::from(event.customer_id.as_uuid()),
        Value::from(event.pbx_id.map(|id| id.as_uuid())),
        Value::from(event.actor.reseller_id),
        Value::from(event.actor.subject.clone()),
        Value::from(event.changed.as_ref().map(|c| serde_json::Value::from(c.clone()))),
        Value::from(event.data.clone()),
    ]
}

/// PostgreSQL: `INSERT INTO pbx_events … SELECT … [FROM from] UNION ALL …` of `events`, their parameters numbered
/// after the `taken` already bound; with `country`, each event's data takes `from`'s `country_code` (the country a
/// profile stored).
fn xact_insert(events: &[NewEvent], taken: usize, from: Option<&str>, country: bool) -> (String, Vec<Value>) {
    let mut values = Vec::with_capacity(events.len() * 10);
    let arms: Vec<String> = events
        .iter()
        .enumerate()
        .map(|(place, event)| {
            let first = taken + values.len();
            values.extend(event_values(event));
            let p = |i: usize| format!("${}", first + i - 1);
            let data = if country {
                format!(
                    "jsonb_set(CAST({} AS jsonb), '{{countryCode}}', to_jsonb({}.country_code))",
                    p(10),
                    from.unwrap_or("w")
                )
            } else {
                p(10)
            };
            let params: Vec<String> = (1..=9).map(p).collect();
            let from = from.map(|f| format!(" FROM {f}")).unwrap_or_default();
            format!("SELECT {}, {}, {data}{from}", xact_number(place), params.join(", "))
        })
        .collect();
    (format!("INSERT INTO pbx_events ({COLUMNS}) {}", arms.join(" UNION ALL ")), values)
}

/// PostgreSQL: `write` (an `INSERT`, `UPDATE` or `DELETE` of one row) and its `events` in one statement, one round
/// trip and no explicit transaction: a data-modifying CTE. The statement returns the written row (with `country`,
/// its `country_code`, which the events' data then shows), no row when it matched none: no event is written then.
pub(crate) fn fused(write: &Statement, events: &[NewEvent], country: bool) -> Result<Statement, DbErr> {
    too_many(events)?;
    let mut values: Vec<Value> = write.values.as_ref().map(|v| v.0.clone()).unwrap_or_default();
    let returning =
        if write.sql.contains(" RETURNING ") { String::new() } else { " RETURNING 1 AS written".to_owned() };
    let (insert, event_values) = xact_insert(events, values.len() + 1, Some("w"), country);
    values.extend(event_values);
    let sql = format!("WITH w AS ({}{returning}), e AS ({insert}) SELECT * FROM w", write.sql);
    Ok(Statement::from_sql_and_values(DbBackend::Postgres, sql, values))
}

/// Draws `count` event numbers from the counter (MySQL, SQLite), as the transaction's last statement but the
/// events' insert; the counter's row stays locked until the transaction ends. Returns the last number drawn.
async fn draw(connection: &impl ConnectionTrait, count: i64) -> Result<i64, DbErr> {
    let backend = connection.get_database_backend();
    let row = if backend == DbBackend::MySql {
        // No UPDATE … RETURNING on MySQL/MariaDB: LAST_INSERT_ID(expr) keeps the value for this session.
        let update = "UPDATE pbx_event_positions SET position = LAST_INSERT_ID(position + ?) WHERE name = 'sequence'";
        connection.execute_raw(Statement::from_sql_and_values(backend, update, [count.into()])).await?;
        connection.query_one_raw(Statement::from_string(backend, "SELECT CAST(LAST_INSERT_ID() AS SIGNED)")).await?
    } else {
        let update =
            "UPDATE pbx_event_positions SET position = position + ? WHERE name = 'sequence' RETURNING position";
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
    too_many(events)?;
    let backend = connection.get_database_backend();
    if backend == DbBackend::Postgres {
        let (sql, values) = xact_insert(events, 1, None, false);
        connection.execute_raw(Statement::from_sql_and_values(backend, sql, values)).await?;
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
        actor_tenant_id: Set(event.actor.reseller_id),
        actor_subject: Set(event.actor.subject.clone()),
        changed: Set(event.changed.as_ref().map(|c| serde_json::Value::from(c.clone()))),
        data: Set(event.data.clone()),
    });
    pbx_event::Entity::insert_many(rows).exec_without_returning(connection).await?;
    Ok(())
}

/// Sets a profile event's `countryCode` to the country stored (a profile that took its customer's).
pub(crate) fn with_country(event: &mut NewEvent, country_code: &str) {
    if let Some(data) = event.data.as_mut().and_then(serde_json::Value::as_object_mut) {
        data.insert("countryCode".to_owned(), serde_json::Value::from(country_code));
    }
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

/// The statement reading up to `limit` events after `after` that `audience` sees, in order: for a list of
/// resellers, one index range of `(reseller_id, seq)` each, merged — never a walk of everyone's events. Each row
/// says whether it is `settled`: below the horizon on PostgreSQL, at most `bound` on MySQL ([`settled_bound`]),
/// always on SQLite.
fn rows_statement(backend: DbBackend, after: i64, limit: u64, audience: &Audience, bound: Option<i64>) -> Statement {
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
            "SELECT {COLUMNS}, CASE WHEN {settled} THEN 1 ELSE 0 END AS settled FROM {table} WHERE {condition} \
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
) -> Statement {
    let read = rows_statement(backend, after, limit, audience, bound);
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
/// from [`settled_bound`], read before.
pub(crate) async fn page(
    connection: &impl ConnectionTrait,
    after: i64,
    limit: u64,
    audience: &Audience,
    bound: Option<i64>,
) -> Result<Page, DbErr> {
    let statement = page_statement(connection.get_database_backend(), after, limit, audience, bound);
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
