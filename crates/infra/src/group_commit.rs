//! Group commit on SQLite, a batching strategy behind [`crate::unit_of_work`]: the changes that requests hand over
//! while a commit is under way are applied together, in one unit of work — one transaction, one sync to disk — by
//! one writer task, each in a savepoint of its own, so that a change refused (a unique index, a row not matched)
//! leaves the others. Each request is answered only after the transaction holding its change committed.
//!
//! SQLite has a single writer and syncs the log on every commit (`synchronous=FULL`): one commit per change makes
//! the sync the limit; one per group lets the throughput grow with the concurrency.

use std::sync::Arc;

use sea_orm::{ConnectionTrait, DatabaseConnection};
use tokio::sync::{Mutex, mpsc, oneshot};

use crate::unit_of_work::{Applied, Change, Unit, WriteErr, transact, writer_stopped};
use crate::wakeup::Wakeups;

/// The most changes one transaction carries.
const MAX_GROUP: usize = 256;

struct Job {
    change: Change,
    done: oneshot::Sender<Result<Applied, WriteErr>>,
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
    pub(crate) fn start(connection: DatabaseConnection, writes: Arc<Mutex<()>>, wakeups: Wakeups) -> Self {
        let (jobs, receiver) = mpsc::unbounded_channel();
        tokio::spawn(writer(connection, writes, wakeups, receiver));
        Self { jobs }
    }

    /// Applies `change` in the next group; answers once that group committed (or failed).
    pub(crate) async fn apply(&self, change: Change) -> Result<Applied, WriteErr> {
        let (done, applied) = oneshot::channel();
        if self.jobs.send(Job { change, done }).is_err() {
            return Err(writer_stopped());
        }
        applied.await.unwrap_or_else(|_| Err(writer_stopped()))
    }
}

async fn writer(
    connection: DatabaseConnection,
    writes: Arc<Mutex<()>>,
    wakeups: Wakeups,
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
            commit(&connection, &wakeups, &group).await
        };
        for (job, outcome) in group.into_iter().zip(outcomes) {
            let _ = job.done.send(outcome); // a request that went away no longer needs its answer
        }
    }
}

/// The group in one unit of work, each change in a savepoint; every change's own outcome, or, if the unit fails,
/// that failure for every change (nothing of the group is written then).
async fn commit(connection: &DatabaseConnection, wakeups: &Wakeups, group: &[Job]) -> Vec<Result<Applied, WriteErr>> {
    if let [only] = group {
        // Alone: no group to gather, no savepoint needed.
        return vec![only.change.clone().apply_alone(connection, wakeups).await.map_err(Arc::new)];
    }
    let applied = transact(connection, wakeups, async |transaction| {
        let mut outcomes = Vec::with_capacity(group.len());
        let mut events = Vec::new();
        for job in group {
            transaction.execute_unprepared("SAVEPOINT change").await?;
            let outcome = job.change.run(transaction).await;
            if matches!(outcome, Ok(Applied::Written { .. })) {
                transaction.execute_unprepared("RELEASE change").await?;
            } else {
                transaction.execute_unprepared("ROLLBACK TO change").await?;
                transaction.execute_unprepared("RELEASE change").await?;
            }
            if let Ok(applied) = &outcome {
                events.extend(job.change.events_of(applied));
            }
            outcomes.push(outcome.map_err(Arc::new));
        }
        let written = outcomes.iter().any(|o| matches!(o, Ok(Applied::Written { .. })));
        Ok(if written { Unit::commit(outcomes, events) } else { Unit::roll_back(outcomes) })
    })
    .await;
    match applied {
        Ok(outcomes) => outcomes,
        Err(e) => {
            let e = Arc::new(e);
            group.iter().map(|_| Err(Arc::clone(&e))).collect()
        }
    }
}
