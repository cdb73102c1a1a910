//! [`EventLog`] over SeaORM: the outbox's rows ([`crate::outbox`]) read and purged through [`Database`], and
//! readers woken by the commits they may see ([`crate::wakeup`]).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use pbx_application::RepositoryError;
use pbx_application::events::{Audience, EventLog, Listener, NewEvent, Read, Visibility};

use crate::Database;
use crate::db_error::repository_error;
use crate::outbox;
use crate::unit_of_work::Unit;

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

    /// A page of the log, each event as `detail` says (see [`EventLog::read`]).
    async fn read_as(
        &self,
        after: Option<u64>,
        limit: u64,
        audience: &Audience,
        detail: outbox::Detail,
    ) -> Result<Read, RepositoryError> {
        let connection = self.db.connection();
        // Positions are BIGINT: a cursor past that range is past every event.
        let from = i64::try_from(after.unwrap_or(0)).unwrap_or(i64::MAX);
        let bound = outbox::settled_bound(connection).await.map_err(repository_error)?;
        let outbox::Page { rows, purged, last } =
            outbox::page(connection, from, limit, audience, bound, detail).await.map_err(repository_error)?;
        if after.is_some() {
            if from < purged {
                return Ok(Read::Gone);
            }
            // Past the last event and the last purged one: a cursor never handed out. On MySQL the bound read
            // before is the last number drawn, every event up to it committed.
            if rows.settled.is_empty() && !rows.held_back && from > purged.max(bound.unwrap_or(last)) {
                return Ok(Read::Ahead);
            }
        }
        let events = rows.settled.into_iter().map(outbox::event).collect::<anyhow::Result<_>>()?;
        Ok(if rows.held_back { Read::HeldBack(events) } else { Read::Events(events) })
    }
}

#[async_trait]
impl EventLog for SeaOrmEventLog {
    async fn append(&self, events: &[NewEvent]) -> Result<(), RepositoryError> {
        let events = events.to_vec();
        self.db.transact(async |_| Ok(Unit::commit((), events))).await.map_err(repository_error)
    }

    async fn audience(&self, visibility: Visibility) -> Result<Audience, RepositoryError> {
        match visibility {
            Visibility::All => Ok(Audience::All),
            Visibility::Reseller(reseller) => {
                let resellers = outbox::resellers_of(self.db.connection(), reseller).await.map_err(repository_error)?;
                Ok(Audience::Resellers(resellers))
            }
        }
    }

    async fn read(&self, after: Option<u64>, limit: u64, audience: &Audience) -> Result<Read, RepositoryError> {
        self.read_as(after, limit, audience, outbox::Detail::Whole).await
    }

    async fn read_heads(&self, after: Option<u64>, limit: u64, audience: &Audience) -> Result<Read, RepositoryError> {
        self.read_as(after, limit, audience, outbox::Detail::Head).await
    }

    fn listen(&self, audience: &Audience) -> Listener {
        self.db.wakeups().listen(audience)
    }

    async fn head(&self) -> Result<u64, RepositoryError> {
        let head = outbox::settled_head(self.db.connection()).await.map_err(repository_error)?;
        u64::try_from(head).map_err(|e| RepositoryError::Unexpected(e.into()))
    }

    async fn kept_from(&self) -> Result<u64, RepositoryError> {
        let purged = outbox::position(self.db.connection(), "purged").await.map_err(repository_error)?;
        u64::try_from(purged).map_err(|e| RepositoryError::Unexpected(e.into()))
    }

    async fn purge(&self, before: DateTime<Utc>) -> Result<u64, RepositoryError> {
        self.db
            .transact(async |transaction| {
                let purged = outbox::purge(transaction, before).await?;
                Ok(if purged > 0 { Unit::commit(purged, Vec::new()) } else { Unit::roll_back(0) })
            })
            .await
            .map_err(repository_error)
    }
}
