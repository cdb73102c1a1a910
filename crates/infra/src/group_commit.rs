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

use crate::db_error::{is_unavailable, is_unique_violation};

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

/// An insert statement, and whether it returns one text column (`RETURNING`) to report.
#[derive(Debug, Clone)]
pub(crate) struct Insert {
    pub(crate) statement: Statement,
    pub(crate) returning: bool,
}

impl Insert {
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
        Ok((done.rows_affected() > 0).then_some(None))
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
    pub(crate) fn start(connection: DatabaseConnection, writes: Arc<Mutex<()>>) -> Self {
        let (jobs, receiver) = mpsc::unbounded_channel();
        tokio::spawn(writer(connection, writes, receiver));
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

async fn writer(connection: DatabaseConnection, writes: Arc<Mutex<()>>, mut jobs: mpsc::UnboundedReceiver<Job>) {
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
            commit(&connection, &group).await
        };
        for (job, outcome) in group.into_iter().zip(outcomes) {
            let _ = job.done.send(outcome); // a request that went away no longer needs its answer
        }
    }
}

/// One transaction for the group: each insert's own outcome, or, if the transaction fails, that failure for every
/// insert (nothing of the group is written then).
async fn commit(connection: &DatabaseConnection, group: &[Job]) -> Vec<Outcome> {
    if let [only] = group {
        // Alone: one statement in its own implicit transaction, rather than three (BEGIN, INSERT, COMMIT).
        return vec![only.insert.outcome(connection).await];
    }
    let all = |outcome: Outcome| vec![outcome; group.len()];
    let transaction = match connection.begin().await {
        Ok(transaction) => transaction,
        Err(e) => return all(Outcome::failed(&e)),
    };
    let mut outcomes = Vec::with_capacity(group.len());
    for job in group {
        let outcome = job.insert.outcome(&transaction).await;
        if let Outcome::Failed { .. } = outcome {
            // Anything but a duplicate may have ended the transaction: give the whole group up.
            let _ = transaction.rollback().await;
            return all(outcome);
        }
        outcomes.push(outcome);
    }
    match transaction.commit().await {
        Ok(()) => outcomes,
        Err(e) => all(Outcome::failed(&e)),
    }
}
