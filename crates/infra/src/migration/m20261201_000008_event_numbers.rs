//! PostgreSQL numbers events by transaction id from now on (see `crate::outbox`): the counter row `sequence` is
//! removed there, so that a replica still running the previous version fails its writes loudly ("the event counter
//! is missing") instead of handing out small numbers behind cursors already given. Stop the old replicas before
//! starting new ones. Events already stored keep their numbers, which sort before every new one, and a cursor
//! handed out before still reads on from where it was. MySQL/MariaDB and SQLite keep the counter.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub(super) struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        manager.get_connection().execute_unprepared("DELETE FROM pbx_event_positions WHERE name = 'sequence'").await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        // The counter starts past every number handed out.
        let restore = "INSERT INTO pbx_event_positions (name, position) \
                       SELECT 'sequence', COALESCE(MAX(seq), 0) FROM pbx_events";
        manager.get_connection().execute_unprepared(restore).await?;
        Ok(())
    }
}
