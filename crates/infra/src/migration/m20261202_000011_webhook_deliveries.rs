//! Webhook deliveries: where each webhook is in the change feed (the position of the last event it is done with),
//! which replica is delivering it (a lease), when its next attempt is due; and the log of each event's delivery.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, integer, string_len, text_null, uuid};

use super::m20261126_000001_initial::instant;

#[derive(DeriveMigrationName)]
pub(super) struct Migration;

#[derive(DeriveIden)]
enum Webhooks {
    Table,
    Cursor,
    Attempts,
    NextAttemptAt,
    LeaseOwner,
    LeaseUntil,
}

#[derive(DeriveIden)]
enum WebhookDeliveries {
    Table,
    WebhookId,
    EventId,
    Position,
    EventType,
    Attempts,
    Status,
    LastStatusCode,
    LastError,
    DurationMs,
    NextAttemptAt,
    DateUpdated,
}

/// A nullable instant column, as `instant` makes them.
pub(super) fn instant_null(manager: &SchemaManager, column: impl IntoIden) -> ColumnDef {
    match manager.get_database_backend() {
        sea_orm::DbBackend::MySql => ColumnDef::new(column).custom(Alias::new("datetime(6)")).null().to_owned(),
        _ => ColumnDef::new(column).timestamp_with_time_zone().null().to_owned(),
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column a statement: SQLite alters a table one column at a time.
        let columns = [
            big_integer(Webhooks::Cursor).default(0).to_owned(),
            integer(Webhooks::Attempts).default(0).to_owned(),
            instant_null(manager, Webhooks::NextAttemptAt),
            ColumnDef::new(Webhooks::LeaseOwner).string_len(64).null().to_owned(),
            instant_null(manager, Webhooks::LeaseUntil),
        ];
        for mut column in columns {
            manager.alter_table(Table::alter().table(Webhooks::Table).add_column(&mut column).to_owned()).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(WebhookDeliveries::Table)
                    .if_not_exists()
                    .col(uuid(WebhookDeliveries::WebhookId))
                    .col(uuid(WebhookDeliveries::EventId))
                    .col(big_integer(WebhookDeliveries::Position))
                    .col(string_len(WebhookDeliveries::EventType, 32))
                    .col(integer(WebhookDeliveries::Attempts))
                    .col(string_len(WebhookDeliveries::Status, 16))
                    .col(ColumnDef::new(WebhookDeliveries::LastStatusCode).integer().null())
                    .col(text_null(WebhookDeliveries::LastError))
                    .col(ColumnDef::new(WebhookDeliveries::DurationMs).big_integer().null())
                    .col(instant_null(manager, WebhookDeliveries::NextAttemptAt))
                    .col(instant(manager, WebhookDeliveries::DateUpdated))
                    .primary_key(Index::create().col(WebhookDeliveries::WebhookId).col(WebhookDeliveries::EventId))
                    .to_owned(),
            )
            .await?;
        // A webhook's log, newest first.
        manager
            .create_index(
                Index::create()
                    .name("ix_webhook_deliveries_position")
                    .table(WebhookDeliveries::Table)
                    .col(WebhookDeliveries::WebhookId)
                    .col(WebhookDeliveries::Position)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(WebhookDeliveries::Table).to_owned()).await?;
        for column in
            [Webhooks::LeaseUntil, Webhooks::LeaseOwner, Webhooks::NextAttemptAt, Webhooks::Attempts, Webhooks::Cursor]
        {
            manager.alter_table(Table::alter().table(Webhooks::Table).drop_column(column).to_owned()).await?;
        }
        Ok(())
    }
}
