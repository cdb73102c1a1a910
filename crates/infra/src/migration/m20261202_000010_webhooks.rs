//! Webhooks (§13): a reseller's endpoints that receive its events, each with its signing secrets (encrypted as
//! profile secrets are, the row's id bound to each).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, boolean, integer, pk_uuid, string_len, text, text_null, uuid};

use super::m20261126_000001_initial::instant;

#[derive(DeriveMigrationName)]
pub(super) struct Migration;

#[derive(DeriveIden)]
enum Webhooks {
    Table,
    Id,
    OwnerTenantId,
    Name,
    Url,
    Method,
    Format,
    Events,
    StaticData,
    Retries,
    Enabled,
    Secret,
    PreviousSecret,
    PreviousSecretUntil,
    DateCreated,
    Version,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let previous_until = match manager.get_database_backend() {
            sea_orm::DbBackend::MySql => {
                ColumnDef::new(Webhooks::PreviousSecretUntil).custom(Alias::new("datetime(6)")).null().to_owned()
            }
            _ => ColumnDef::new(Webhooks::PreviousSecretUntil).timestamp_with_time_zone().null().to_owned(),
        };
        manager
            .create_table(
                Table::create()
                    .table(Webhooks::Table)
                    .if_not_exists()
                    .col(pk_uuid(Webhooks::Id))
                    .col(uuid(Webhooks::OwnerTenantId))
                    .col(string_len(Webhooks::Name, 100))
                    .col(string_len(Webhooks::Url, 2048))
                    .col(string_len(Webhooks::Method, 8))
                    .col(string_len(Webhooks::Format, 8))
                    // The event types, space-separated; NULL for all of them.
                    .col(text_null(Webhooks::Events))
                    // A JSON object of strings.
                    .col(text(Webhooks::StaticData))
                    .col(integer(Webhooks::Retries))
                    .col(boolean(Webhooks::Enabled))
                    .col(text(Webhooks::Secret))
                    .col(text_null(Webhooks::PreviousSecret))
                    .col(previous_until)
                    .col(instant(manager, Webhooks::DateCreated))
                    .col(big_integer(Webhooks::Version).default(1))
                    .to_owned(),
            )
            .await?;
        // A tenant's webhooks, oldest first: the list's order.
        manager
            .create_index(
                Index::create()
                    .name("ix_webhooks_owner_created")
                    .table(Webhooks::Table)
                    .col(Webhooks::OwnerTenantId)
                    .col(Webhooks::DateCreated)
                    .col(Webhooks::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Webhooks::Table).to_owned()).await
    }
}
