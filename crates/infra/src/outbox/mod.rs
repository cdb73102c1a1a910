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

mod read;

pub(crate) use read::{
    Detail, Page, Rows, event, last_seq, page, page_statement, position, purge, resellers_of, resellers_statement,
    settled_bound, settled_head,
};

use pbx_application::events::NewEvent;
use sea_orm::{ActiveValue::Set, ConnectionTrait, DbBackend, DbErr, EntityTrait, Statement, Value};

use crate::entity::pbx_event;

/// Bits of an event number (PostgreSQL) that count the events of one transaction.
const PLACE_BITS: u32 = 20;

/// PostgreSQL: the number of the `place`-th event of the current transaction.
fn xact_number(place: usize) -> String {
    xact_number_of(&place.to_string())
}

/// PostgreSQL: the number of the event at the place `place` (an SQL expression) in the current transaction.
fn xact_number_of(place: &str) -> String {
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

/// PostgreSQL: `INSERT INTO pbx_events … SELECT … FROM w UNION ALL …` of `events` (`w` the row a fused statement
/// wrote), their parameters numbered after the `taken` already bound; with `country`, each event's data takes `w`'s
/// `country_code` (the country a profile stored).
fn xact_insert(events: &[NewEvent], taken: usize, country: bool) -> (String, Vec<Value>) {
    let mut values = Vec::with_capacity(events.len() * 10);
    let arms: Vec<String> = events
        .iter()
        .enumerate()
        .map(|(place, event)| {
            let first = taken + values.len();
            values.extend(event_values(event));
            let p = |i: usize| format!("${}", first + i - 1);
            let data = if country {
                format!("jsonb_set(CAST({} AS jsonb), '{{countryCode}}', to_jsonb(w.country_code))", p(10))
            } else {
                p(10)
            };
            let params: Vec<String> = (1..=9).map(p).collect();
            format!("SELECT {}, {}, {data} FROM w", xact_number(place), params.join(", "))
        })
        .collect();
    (format!("INSERT INTO pbx_events ({COLUMNS}) {}", arms.join(" UNION ALL ")), values)
}

/// PostgreSQL: `INSERT INTO pbx_events` of `events`, numbered in the current transaction; one text whatever their
/// count (the events one JSON array parameter read as rows), so a connection prepares and plans it once.
fn recordset_insert(events: &[NewEvent]) -> Statement {
    let rows: Vec<serde_json::Value> = events
        .iter()
        .enumerate()
        .map(|(place, event)| {
            serde_json::json!({
                "place": place,
                "id": event.id,
                "event_type": event.event_type.as_str(),
                "occurred_at": timestamp(event.occurred_at),
                "reseller_id": event.reseller_id.as_uuid(),
                "customer_id": event.customer_id.as_uuid(),
                "pbx_id": event.pbx_id.map(|id| id.as_uuid()),
                "actor_tenant_id": event.actor.reseller_id,
                "actor_subject": event.actor.subject,
                "changed": event.changed,
                "data": event.data,
            })
        })
        .collect();
    let sql = format!(
        "INSERT INTO pbx_events ({COLUMNS}) SELECT {}, v.id, v.event_type, v.occurred_at, v.reseller_id, \
         v.customer_id, v.pbx_id, v.actor_tenant_id, v.actor_subject, v.changed, v.data \
         FROM jsonb_to_recordset($1::jsonb) AS v(place bigint, id uuid, event_type text, occurred_at timestamptz, \
         reseller_id uuid, customer_id uuid, pbx_id uuid, actor_tenant_id uuid, actor_subject text, changed json, \
         data json)",
        xact_number_of("v.place"),
    );
    Statement::from_sql_and_values(DbBackend::Postgres, sql, [Value::from(serde_json::Value::from(rows))])
}

/// A time as PostgreSQL stores it, to the microsecond (truncated, as a bound parameter is), in RFC 3339.
pub(crate) fn timestamp(time: chrono::DateTime<chrono::Utc>) -> String {
    time.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// PostgreSQL: `write` (an `INSERT`, `UPDATE` or `DELETE` of one row) and its `events` in one statement, one round
/// trip and no explicit transaction: a data-modifying CTE. The statement returns the written row (with `country`,
/// its `country_code`, which the events' data then shows), no row when it matched none: no event is written then.
pub(crate) fn fused(write: &Statement, events: &[NewEvent], country: bool) -> Result<Statement, DbErr> {
    too_many(events)?;
    let mut values: Vec<Value> = write.values.as_ref().map(|v| v.0.clone()).unwrap_or_default();
    let returning =
        if write.sql.contains(" RETURNING ") { String::new() } else { " RETURNING 1 AS written".to_owned() };
    let (insert, event_values) = xact_insert(events, values.len() + 1, country);
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
        connection.execute_raw(recordset_insert(events)).await?;
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
