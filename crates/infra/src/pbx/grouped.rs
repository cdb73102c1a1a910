//! Group commit of creates on PostgreSQL and MySQL/MariaDB: the creates that requests hand over while a group is
//! being written go together into one multi-row `INSERT … SELECT … FROM` the group's rows `v JOIN customers …`
//! (PostgreSQL: one JSON array parameter read by `jsonb_to_recordset`; MySQL: `SELECT … UNION ALL SELECT …`) — one
//! statement, one round trip and one commit for the group — and each request is answered with
//! its own outcome once that statement is durable: its row inserted (with the country stored), its customer not the
//! reseller's (404), or its instance already attached, by a stored row or by another row of the same group (409).
//!
//! A unique violation does not fail the statement: PostgreSQL skips the row (`ON CONFLICT DO NOTHING`), MySQL
//! too (`INSERT IGNORE`; the join has already made sure the customer exists, and every value was validated, which
//! are the other errors IGNORE would turn into warnings). The rows the statement did not insert are then told
//! apart by one query on their customers. Two writers take groups in turn, so one group is gathered while the
//! other is written. A create that arrives while no other is being written does not wait for a writer: the
//! repository writes it at once, in its own statement.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{DateTime, Utc};
use pbx_application::NewEvent;
use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement, Value};
use tokio::sync::{Mutex, mpsc, oneshot};
use uuid::Uuid;

use crate::Database;
use crate::db_error::is_deadlock;
use crate::outbox;
use crate::profile_row::Content;
use crate::queries::placeholder;
use crate::unit_of_work::{Unit, WriteErr, writer_stopped};

/// The most creates one statement carries (12 parameters each).
const MAX_GROUP: usize = 128;
/// Writers taking groups in turn.
const WRITERS: usize = 2;

/// One create: the row, its customer's reseller, and whether its country is the customer's.
pub(crate) struct Create {
    pub(crate) id: Uuid,
    pub(crate) customer_id: Uuid,
    pub(crate) reseller_id: Uuid,
    pub(crate) content: Content,
    pub(crate) inherit_country: bool,
    pub(crate) created_at: DateTime<Utc>,
    /// Recorded with the row (its data's country set to the one stored).
    pub(crate) event: NewEvent,
}

/// What became of one create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Created {
    /// Durable, with the country code stored.
    Inserted { country_code: String },
    /// Its customer is not the reseller's (or does not exist); nothing written.
    CustomerNotFound,
    /// Its instance is attached already; nothing written.
    Duplicate,
}

struct Job {
    create: Create,
    /// The create's outcome, or the database's failure, which is the whole group's (nothing of it was written).
    done: oneshot::Sender<Result<Created, WriteErr>>,
}

/// The handle requests use; the writers end when every handle is dropped.
#[derive(Debug, Clone)]
pub(crate) struct GroupedCreates {
    jobs: mpsc::UnboundedSender<Job>,
    /// Creates in flight (see [`GroupedCreates::enter`]).
    pending: Arc<AtomicUsize>,
}

impl GroupedCreates {
    /// Starts the writers on the current runtime.
    pub(crate) fn start(db: &Database) -> Self {
        let (jobs, receiver) = mpsc::unbounded_channel();
        let receiver = Arc::new(Mutex::new(receiver));
        for _ in 0..WRITERS {
            tokio::spawn(writer(db.clone(), Arc::clone(&receiver)));
        }
        Self { jobs, pending: Arc::default() }
    }

    /// Counts a create in flight, however it is written, until the guard is dropped; `true` with it when no
    /// other create is in flight: one alone had better write itself at once (no hand-over to a writer, nothing to
    /// group it with), which is what the repository then does.
    pub(crate) fn enter(&self) -> (InFlight, bool) {
        let before = self.pending.fetch_add(1, Ordering::Relaxed);
        (InFlight(Arc::clone(&self.pending)), before == 0)
    }

    /// Writes `create` with the next group; answers once that group's statement is durable (or failed).
    pub(crate) async fn create(&self, create: Create) -> Result<Created, WriteErr> {
        let (done, created) = oneshot::channel();
        if self.jobs.send(Job { create, done }).is_err() {
            return Err(writer_stopped());
        }
        created.await.unwrap_or_else(|_| Err(writer_stopped()))
    }
}

/// A create in flight, counted until dropped (also when its request goes away first).
pub(crate) struct InFlight(Arc<AtomicUsize>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Job")
    }
}

async fn writer(db: Database, jobs: Arc<Mutex<mpsc::UnboundedReceiver<Job>>>) {
    loop {
        let group = {
            let mut jobs = jobs.lock().await;
            let Some(first) = jobs.recv().await else { return };
            let mut group = vec![first];
            while group.len() < MAX_GROUP {
                match jobs.try_recv() {
                    Ok(job) => group.push(job),
                    Err(_) => break,
                }
            }
            group
        };
        let creates: Vec<&Create> = group.iter().map(|job| &job.create).collect();
        let outcomes: Vec<Result<Created, WriteErr>> = match write_retrying_deadlocks(&db, &creates).await {
            Ok(outcomes) => outcomes.into_iter().map(Ok).collect(),
            Err(e) => {
                let e = Arc::new(e);
                group.iter().map(|_| Err(Arc::clone(&e))).collect()
            }
        };
        for (job, outcome) in group.into_iter().zip(outcomes) {
            let _ = job.done.send(outcome); // a request that went away no longer needs its answer
        }
    }
}

/// The columns a group's statement inserts, and what each takes from its create (`v`) or its customer (`c`).
const INSERT: &str = "pbx_profiles (id, customer_id, pbx_type, instance_id, instance_key, name, country_code, \
                      enabled, settings, secrets, created_at, version) \
                      SELECT v.id, c.id, v.pbx_type, v.instance_id, v.instance_key, v.name, \
                      COALESCE(v.country_code, c.country_code), false, v.settings, v.secrets, v.created_at, 1";
/// Each create joined to its customer, if the reseller's; rows in the order of their unique key.
const JOIN: &str = "JOIN customers c ON c.id = v.customer_id AND c.reseller_id = v.reseller_id \
                    ORDER BY v.pbx_type, v.instance_key";

/// The group's statement. PostgreSQL: one text for every group size, the creates one JSON array parameter read as
/// rows, so each connection prepares and plans it once (a text per size was planned again and again, its prepared
/// statements pushed out of the connection's cache). MySQL: every create a `SELECT` of its values.
fn statement(backend: DbBackend, creates: &[&Create]) -> Statement {
    if backend == DbBackend::Postgres {
        let rows: Vec<serde_json::Value> = creates
            .iter()
            .map(|create| {
                let content = &create.content;
                serde_json::json!({
                    "id": create.id,
                    "customer_id": create.customer_id,
                    "reseller_id": create.reseller_id,
                    "pbx_type": content.pbx_type,
                    "instance_id": content.instance_id,
                    "instance_key": content.instance_key,
                    "name": content.name,
                    "country_code": (!create.inherit_country).then_some(&content.country_code),
                    "settings": content.settings,
                    "secrets": content.secrets,
                    "created_at": outbox::timestamp(create.created_at),
                })
            })
            .collect();
        let sql = format!(
            "INSERT INTO {INSERT} FROM jsonb_to_recordset($1::jsonb) AS v(id uuid, customer_id uuid, reseller_id \
             uuid, pbx_type text, instance_id text, instance_key text, name text, country_code text, settings jsonb, \
             secrets text, created_at timestamptz) {JOIN} ON CONFLICT DO NOTHING RETURNING id, country_code"
        );
        return Statement::from_sql_and_values(backend, sql, [Value::from(serde_json::Value::from(rows))]);
    }
    const NAMES: [&str; 11] = [
        "id",
        "customer_id",
        "reseller_id",
        "pbx_type",
        "instance_id",
        "instance_key",
        "name",
        "country_code",
        "settings",
        "secrets",
        "created_at",
    ];
    let mut values: Vec<Value> = Vec::with_capacity(creates.len() * NAMES.len());
    let mut selects = Vec::with_capacity(creates.len());
    for (row, create) in creates.iter().enumerate() {
        let content = &create.content;
        let country = (!create.inherit_country).then(|| content.country_code.clone());
        values.extend([
            Value::from(create.id),
            Value::from(create.customer_id),
            Value::from(create.reseller_id),
            Value::from(content.pbx_type.clone()),
            Value::from(content.instance_id.clone()),
            Value::from(content.instance_key.clone()),
            Value::from(content.name.clone()),
            Value::from(country),
            Value::from(content.settings.clone()),
            Value::from(content.secrets.clone()),
            Value::from(create.created_at),
        ]);
        let columns: Vec<String> = NAMES
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let p = placeholder(backend, row * NAMES.len() + i + 1);
                if row == 0 { format!("{p} AS {name}") } else { p }
            })
            .collect();
        selects.push(format!("SELECT {}", columns.join(", ")));
    }
    let sql = format!("INSERT IGNORE INTO {INSERT} FROM ({rows}) v {JOIN}", rows = selects.join(" UNION ALL "));
    Statement::from_sql_and_values(backend, sql, values)
}

/// The `id IN (…)` list of `ids` and its values, placeholders from 1.
fn id_list(backend: DbBackend, ids: &[Uuid]) -> (String, Vec<Value>) {
    let list: Vec<String> = (1..=ids.len()).map(|n| placeholder(backend, n)).collect();
    (list.join(", "), ids.iter().map(|id| Value::from(*id)).collect())
}

/// How often a group the database chose as a deadlock's victim is written again.
const DEADLOCK_RETRIES: usize = 3;

/// [`write`] and the events of the rows inserted, as one unit of work.
async fn write_recorded(db: &Database, creates: &[&Create]) -> Result<Vec<Created>, DbErr> {
    db.transact(async |transaction| {
        let outcomes = write(transaction, creates).await?;
        let events: Vec<NewEvent> = creates
            .iter()
            .zip(&outcomes)
            .filter_map(|(create, outcome)| match outcome {
                Created::Inserted { country_code } => {
                    let mut event = create.event.clone();
                    outbox::with_country(&mut event, country_code);
                    Some(event)
                }
                _ => None,
            })
            .collect();
        Ok(Unit::commit(outcomes, events))
    })
    .await
}

/// [`write_recorded`], again when the database broke a deadlock by rolling it back. Rows go in in the order of their unique
/// key, so two writers take the index's locks in one order; a deadlock can still come from the other statements
/// on the table (a patch that renames an instance), and a group's statement is all or nothing, so it is safe to
/// repeat.
async fn write_retrying_deadlocks(db: &Database, creates: &[&Create]) -> Result<Vec<Created>, DbErr> {
    let mut attempt = 0;
    loop {
        match write_recorded(db, creates).await {
            Err(e) if is_deadlock(&e) && attempt < DEADLOCK_RETRIES => {
                attempt += 1;
                tracing::warn!(attempt, creates = creates.len(), "a group of creates met a deadlock: written again");
            }
            written => return written,
        }
    }
}

/// Writes the group; each create's outcome, in order.
async fn write(connection: &impl ConnectionTrait, creates: &[&Create]) -> Result<Vec<Created>, DbErr> {
    let backend = connection.get_database_backend();
    let mut inserted: HashMap<Uuid, String> = HashMap::with_capacity(creates.len());
    if backend == DbBackend::Postgres {
        for row in connection.query_all_raw(statement(backend, creates)).await? {
            inserted.insert(row.try_get_by_index(0)?, row.try_get_by_index(1)?);
        }
    } else {
        connection.execute_raw(statement(backend, creates)).await?;
        let ids: Vec<Uuid> = creates.iter().map(|c| c.id).collect();
        let (list, values) = id_list(backend, &ids);
        let sql = format!("SELECT id, country_code FROM pbx_profiles WHERE id IN ({list})");
        for row in connection.query_all_raw(Statement::from_sql_and_values(backend, sql, values)).await? {
            inserted.insert(row.try_get_by_index(0)?, row.try_get_by_index(1)?);
        }
    }
    // A create not inserted: its customer is not the reseller's, or its instance is taken.
    let missing: Vec<Uuid> = creates.iter().filter(|c| !inserted.contains_key(&c.id)).map(|c| c.customer_id).collect();
    let mut owned: HashSet<(Uuid, Uuid)> = HashSet::new();
    if !missing.is_empty() {
        let (list, values) = id_list(backend, &missing);
        let sql = format!("SELECT id, reseller_id FROM customers WHERE id IN ({list})");
        for row in connection.query_all_raw(Statement::from_sql_and_values(backend, sql, values)).await? {
            owned.insert((row.try_get_by_index(0)?, row.try_get_by_index(1)?));
        }
    }
    Ok(creates
        .iter()
        .map(|create| match inserted.remove(&create.id) {
            Some(country_code) => Created::Inserted { country_code },
            None if owned.contains(&(create.customer_id, create.reseller_id)) => Created::Duplicate,
            None => Created::CustomerNotFound,
        })
        .collect())
}
