//! The one way the repositories write: a unit of work owns begin → statements → events → commit or rollback →
//! wake-up ([`transact`]), and every write goes through it — a change of one or more statements ([`Change`],
//! through [`crate::Database::apply`]), SQLite's groups ([`crate::group_commit`], a batching strategy that puts
//! many changes in one unit), the grouped creates of PostgreSQL and MySQL ([`crate::pbx`]), a credentials read and
//! the purge. Errors stay [`DbErr`]s (shared as `Arc<DbErr>` when a group's failure is every member's) until
//! [`crate::db_error`] maps them for the ports.
//!
//! On PostgreSQL a lone change of one statement is not a transaction of its own but a single statement:
//! [`outbox::fused`] writes the row and its events in one round trip.

use std::sync::Arc;

use pbx_application::NewEvent;
use pbx_application::idempotency::KeyRecord;
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, Statement, TransactionTrait,
};

use crate::idempotency_store::key_statement;
use crate::outbox;
use crate::wakeup::Wakeups;

/// A database error, shared by the members of a group that failed together.
pub(crate) type WriteErr = Arc<DbErr>;

/// The error of a change handed to a batching writer (SQLite's group commit, the grouped creates) that stopped
/// before taking or answering it: the database counts as unavailable, and nothing of the change was written.
pub(crate) fn writer_stopped() -> WriteErr {
    Arc::new(DbErr::Conn(sea_orm::RuntimeErr::Internal("the database writer stopped".to_owned())))
}

/// What a unit of work decided: commit `events` with its writes, or roll everything back.
#[derive(Debug)]
pub(crate) struct Unit<T> {
    pub(crate) value: T,
    pub(crate) events: Vec<NewEvent>,
    pub(crate) commit: bool,
}

impl<T> Unit<T> {
    /// Commit, recording `events`.
    pub(crate) fn commit(value: T, events: Vec<NewEvent>) -> Self {
        Self { value, events, commit: true }
    }

    /// Roll back: nothing is written.
    pub(crate) fn roll_back(value: T) -> Self {
        Self { value, events: Vec::new(), commit: false }
    }
}

/// Runs `work` in a transaction of its own; records the events it returns last (see [`outbox`]), commits, and
/// rings the readers of those events. An error of `work` rolls everything back.
pub(crate) async fn transact<T>(
    connection: &DatabaseConnection,
    wakeups: &Wakeups,
    work: impl AsyncFnOnce(&DatabaseTransaction) -> Result<Unit<T>, DbErr>,
) -> Result<T, DbErr> {
    let transaction = connection.begin().await?;
    let unit = match work(&transaction).await {
        Ok(unit) if unit.commit => unit,
        ended => {
            // Ended explicitly: MySQL keeps a transaction open after a failed statement, and a dropped one is only
            // rolled back when its connection is next used.
            let _ = transaction.rollback().await;
            return ended.map(|unit| unit.value);
        }
    };
    if let Err(e) = outbox::append(&transaction, &unit.events).await {
        let _ = transaction.rollback().await;
        return Err(e);
    }
    transaction.commit().await?;
    wakeups.committed(&unit.events);
    Ok(unit.value)
}

/// What a change returns besides whether it wrote.
#[derive(Debug, Clone)]
pub(crate) enum Returning {
    /// Nothing.
    Nothing,
    /// The country a new profile stored, which its events' data then shows: its last statement returns it
    /// (`RETURNING country_code`), or, on MySQL, this query reads it after the statement.
    Country { read_back: Option<Statement> },
}

/// One change: statements run in order, each of which must change a row or none of the change is written, and the
/// events recorded with them. A create under an `Idempotency-Key` runs the key's insert first ([`Change::keyed`]).
#[derive(Debug, Clone)]
pub(crate) struct Change {
    pub(crate) statements: Vec<Statement>,
    pub(crate) events: Vec<NewEvent>,
    pub(crate) returning: Returning,
    /// Whether the first statement is an idempotency key's insert.
    pub(crate) keyed: bool,
}

/// What became of a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Applied {
    /// Written: the rows the last statement changed, and the country it returned.
    Written { rows: u64, country: Option<String> },
    /// A statement changed no row: nothing of the change was written.
    Unmatched,
    /// The change's idempotency key is taken: nothing of the change was written.
    KeyTaken,
}

impl Change {
    /// `statements` and the events they record.
    pub(crate) fn recorded(statements: Vec<Statement>, events: Vec<NewEvent>) -> Self {
        Self { statements, events, returning: Returning::Nothing, keyed: false }
    }

    /// The change, writing `key` (a create's `Idempotency-Key`) first, in its transaction: when the key is taken
    /// (its insert skipped), nothing is written and the change is [`Applied::KeyTaken`].
    pub(crate) fn keyed(mut self, backend: DbBackend, key: Option<&KeyRecord>) -> Self {
        if let Some(key) = key {
            self.statements.insert(0, key_statement(backend, key));
            self.keyed = true;
        }
        self
    }

    /// One statement recording no event (accounts, idempotency keys, the relay's position).
    pub(crate) fn unrecorded(statement: Statement) -> Self {
        Self::recorded(vec![statement], Vec::new())
    }

    /// Runs the statements on `connection` (in a transaction or a savepoint that the caller ends).
    pub(crate) async fn run(&self, connection: &impl ConnectionTrait) -> Result<Applied, DbErr> {
        let (mut rows, mut country) = (0, None);
        let last = self.statements.len().saturating_sub(1);
        for (i, statement) in self.statements.iter().enumerate() {
            match &self.returning {
                Returning::Country { read_back: None } if i == last => {
                    let Some(row) = connection.query_one_raw(statement.clone()).await? else {
                        return Ok(Applied::Unmatched);
                    };
                    (rows, country) = (1, Some(row.try_get_by_index::<String>(0)?));
                }
                returning => {
                    rows = connection.execute_raw(statement.clone()).await?.rows_affected();
                    if rows == 0 {
                        return Ok(if self.keyed && i == 0 { Applied::KeyTaken } else { Applied::Unmatched });
                    }
                    if let (Returning::Country { read_back: Some(read_back) }, true) = (returning, i == last) {
                        let row = connection.query_one_raw(read_back.clone()).await?;
                        country = row.map(|row| row.try_get_by_index::<String>(0)).transpose()?;
                    }
                }
            }
        }
        Ok(Applied::Written { rows, country })
    }

    /// The events to record for `applied`: none unless written, with the country stored.
    pub(crate) fn events_of(&self, applied: &Applied) -> Vec<NewEvent> {
        let Applied::Written { country, .. } = applied else { return Vec::new() };
        let mut events = self.events.clone();
        if let Some(country) = country {
            events.iter_mut().for_each(|e| outbox::with_country(e, country));
        }
        events
    }

    /// Applies the change alone (not grouped with others): one statement without events needs no transaction;
    /// on PostgreSQL one statement with its events is one fused statement; anything else a unit of work.
    pub(crate) async fn apply_alone(
        self,
        connection: &DatabaseConnection,
        wakeups: &Wakeups,
    ) -> Result<Applied, DbErr> {
        if self.events.is_empty() && self.statements.len() == 1 {
            return self.run(connection).await;
        }
        if connection.get_database_backend() == DbBackend::Postgres
            && let [statement] = self.statements.as_slice()
        {
            let country = matches!(self.returning, Returning::Country { .. });
            let fused = outbox::fused(statement, &self.events, country)?;
            let Some(row) = connection.query_one_raw(fused).await? else { return Ok(Applied::Unmatched) };
            let country = if country { Some(row.try_get_by_index::<String>(0)?) } else { None };
            let applied = Applied::Written { rows: 1, country };
            wakeups.committed(&self.events);
            return Ok(applied);
        }
        transact(connection, wakeups, async |transaction| {
            let applied = self.run(transaction).await?;
            let events = self.events_of(&applied);
            Ok(match applied {
                Applied::Unmatched | Applied::KeyTaken => Unit::roll_back(applied),
                written => Unit::commit(written, events),
            })
        })
        .await
    }
}
