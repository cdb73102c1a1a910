//! Group commit of inserts on SQLite: the inserts that requests hand over while a commit is under way are written
//! together, in one transaction, with one sync to disk, by one writer task. Each request is answered only after the
//! transaction holding its row committed, and a row refused by a unique index fails its own request only (SQLite
//! aborts the one statement, not the transaction).
//!
//! SQLite has a single writer and syncs the log on every commit (`synchronous=FULL`): one commit per create makes the
//! sync the limit; one per group lets the throughput grow with the concurrency.

use std::sync::Arc;

use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, QueryResult, Statement, TransactionTrait};
use tokio::sync::{Mutex, mpsc, oneshot};

use pbx_application::NewEvent;

use crate::db_error::{is_unavailable, is_unique_violation};
use crate::outbox::{self, Committed};

/// The most inserts one transaction carries.
const MAX_GROUP: usize = 256;

/// What became of one insert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Committed; with the text the statement returned, for one that returns a column.
    Inserted { returned: Option<String> },
    /// The statement inserted no row (an `INSERT … SELECT` whose `SELECT` found none).
    NothingInserted,
    /// Refused by a unique index; nothing of it was written.
    Duplicate,
    /// Not written: the database failed (`unavailable` when it could not be reached).
    Failed { unavailable: bool, message: String },
}

impl Outcome {
    fn failed(error: &DbErr) -> Self {
        Self::Failed { unavailable: is_unavailable(error), message: error.to_string() }
    }

    /// What an insert came to: `Some` (with what it returned) if it inserted a row, `None` if it inserted none.
    fn of(result: Result<Option<Option<String>>, DbErr>) -> Self {
        match result {
            Ok(Some(returned)) => Self::Inserted { returned },
            Ok(None) => Self::NothingInserted,
            Err(e) if is_unique_violation(&e) => Self::Duplicate,
            Err(e) => Self::failed(&e),
        }
    }
}

/// An insert statement, whether it returns one text column (`RETURNING`) to report, and the events recorded
/// with its row.
#[derive(Debug, Clone)]
pub(crate) struct Insert {
    pub(crate) statement: Statement,
    pub(crate) returning: bool,
    /// Without `RETURNING` (MySQL): a query of the one text column to report, run after the insert in its
    /// transaction.
    pub(crate) read_back: Option<Statement>,
    /// Recorded in the same transaction when the row is inserted; the text reported is their data's
    /// `countryCode` (the country stored, see [`outbox::with_country`]).
    pub(crate) events: Vec<NewEvent>,
}

impl Insert {
    /// A statement recording no event (tools).
    pub(crate) fn unrecorded(statement: Statement) -> Self {
        Self { statement, returning: false, read_back: None, events: Vec::new() }
    }

    /// What running the insert on `connection` came to.
    pub(crate) async fn outcome(&self, connection: &impl ConnectionTrait) -> Outcome {
        Outcome::of(self.run(connection).await)
    }

    async fn run(&self, connection: &impl ConnectionTrait) -> Result<Option<Option<String>>, DbErr> {
        if self.returning {
            let row: Option<QueryResult> = connection.query_one_raw(self.statement.clone()).await?;
            return row.map(|row| row.try_get_by_index::<String>(0).map(Some)).transpose();
        }
        let done = connection.execute_raw(self.statement.clone()).await?;
        if done.rows_affected() == 0 {
            return Ok(None);
        }
        let Some(read_back) = &self.read_back else { return Ok(Some(None)) };
        let row = connection.query_one_raw(read_back.clone()).await?;
        Ok(Some(row.map(|row| row.try_get_by_index::<String>(0)).transpose()?))
    }

    /// The events to record for `outcome`: none unless the row was inserted.
    fn events_of(&self, outcome: &Outcome) -> Vec<NewEvent> {
        let Outcome::Inserted { returned } = outcome else { return Vec::new() };
        let mut events = self.events.clone();
        if let Some(country) = returned {
            events.iter_mut().for_each(|e| outbox::with_country(e, country));
        }
        events
    }

    /// Runs the insert and records its events in one transaction of its own; signals `committed`.
    pub(crate) async fn recorded(&self, connection: &DatabaseConnection, committed: &Committed) -> Outcome {
        if self.events.is_empty() {
            return self.outcome(connection).await;
        }
        let transaction = match connection.begin().await {
            Ok(transaction) => transaction,
            Err(e) => return Outcome::failed(&e),
        };
        let outcome = self.outcome(&transaction).await;
        let events = self.events_of(&outcome);
        if events.is_empty() {
            let _ = transaction.rollback().await;
            return outcome;
        }
        if let Err(e) = outbox::append(&transaction, &events).await {
            let _ = transaction.rollback().await;
            return Outcome::failed(&e);
        }
        match transaction.commit().await {
            Ok(()) => {
                committed.signal();
                outcome
            }
            Err(e) => Outcome::failed(&e),
        }
    }
}

struct Job {
    insert: Insert,
    done: oneshot::Sender<Outcome>,
}

/// The handle requests use; the writer task ends when every handle is dropped.
#[derive(Debug, Clone)]
pub(crate) struct GroupCommit {
    jobs: mpsc::UnboundedSender<Job>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Job")
    }
}

impl GroupCommit {
    /// Starts the writer task on the current runtime. `writes` is the writers' turn that other writes of the
    /// process also take, so that the group's transaction never waits in SQLite's busy handler for them.
    pub(crate) fn start(connection: DatabaseConnection, writes: Arc<Mutex<()>>, committed: Committed) -> Self {
        let (jobs, receiver) = mpsc::unbounded_channel();
        tokio::spawn(writer(connection, writes, committed, receiver));
        Self { jobs }
    }

    /// Runs `insert` in the next group; answers once that group committed (or failed).
    pub(crate) async fn insert(&self, insert: Insert) -> Outcome {
        let (done, outcome) = oneshot::channel();
        if self.jobs.send(Job { insert, done }).is_err() {
            return Outcome::Failed { unavailable: true, message: "the database writer has stopped".to_owned() };
        }
        outcome.await.unwrap_or(Outcome::Failed {
            unavailable: true,
            message: "the database writer stopped before answering".to_owned(),
        })
    }
}

async fn writer(
    connection: DatabaseConnection,
    writes: Arc<Mutex<()>>,
    committed: Committed,
    mut jobs: mpsc::UnboundedReceiver<Job>,
) {
    while let Some(first) = jobs.recv().await {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match jobs.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        let outcomes = {
            let _turn = writes.lock().await;
            commit(&connection, &group, &committed).await
        };
        for (job, outcome) in group.into_iter().zip(outcomes) {
            let _ = job.done.send(outcome); // a request that went away no longer needs its answer
        }
    }
}

/// One transaction for the group, its events recorded last: each insert's own outcome, or, if the transaction
/// fails, that failure for every insert (nothing of the group is written then).
async fn commit(connection: &DatabaseConnection, group: &[Job], committed: &Committed) -> Vec<Outcome> {
    if let [only] = group {
        // Alone: no group to gather.
        return vec![only.insert.recorded(connection, committed).await];
    }
    let all = |outcome: Outcome| vec![outcome; group.len()];
    let transaction = match connection.begin().await {
        Ok(transaction) => transaction,
        Err(e) => return all(Outcome::failed(&e)),
    };
    let mut outcomes = Vec::with_capacity(group.len());
    let mut events = Vec::new();
    for job in group {
        let outcome = job.insert.outcome(&transaction).await;
        if let Outcome::Failed { .. } = outcome {
            // Anything but a duplicate may have ended the transaction: give the whole group up.
            let _ = transaction.rollback().await;
            return all(outcome);
        }
        events.extend(job.insert.events_of(&outcome));
        outcomes.push(outcome);
    }
    if let Err(e) = outbox::append(&transaction, &events).await {
        let _ = transaction.rollback().await;
        return all(Outcome::failed(&e));
    }
    match transaction.commit().await {
        Ok(()) => {
            committed.signal();
            outcomes
        }
        Err(e) => all(Outcome::failed(&e)),
    }
}
