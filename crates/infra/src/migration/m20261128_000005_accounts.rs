//! The enterprise tier's accounts: reseller tenants created and managed by the tenant above them.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, boolean, pk_uuid, string_len, string_len_null, uuid};

use super::m20261126_000001_initial::instant;

#[derive(DeriveMigrationName)]
pub(super) struct Migration;

#[derive(DeriveIden)]
enum Accounts {
    Table,
    Id,
    ParentTenantId,
    Name,
    Description,
    Reference,
    CountryCode,
    Timezone,
    Enabled,
    DateCreated,
    Version,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Accounts::Table)
                    .if_not_exists()
                    .col(pk_uuid(Accounts::Id))
                    .col(uuid(Accounts::ParentTenantId))
                    .col(string_len(Accounts::Name, 100))
                    .col(string_len_null(Accounts::Description, 200))
                    .col(string_len_null(Accounts::Reference, 200))
                    .col(string_len(Accounts::CountryCode, 2))
                    .col(string_len(Accounts::Timezone, 64))
                    .col(boolean(Accounts::Enabled))
                    .col(instant(manager, Accounts::DateCreated))
                    .col(big_integer(Accounts::Version).default(1))
                    .to_owned(),
            )
            .await?;
        // A tenant's accounts, oldest first: the list's order and filter.
        manager
            .create_index(
                Index::create()
                    .name("ix_accounts_parent_created")
                    .table(Accounts::Table)
                    .col(Accounts::ParentTenantId)
                    .col(Accounts::DateCreated)
                    .col(Accounts::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Accounts::Table).to_owned()).await
    }
}
