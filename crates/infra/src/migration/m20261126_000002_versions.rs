//! A version number on customers and profiles, for optimistic concurrency (`ETag` / `If-Match`).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub(super) struct Migration;

#[derive(DeriveIden)]
enum Customers {
    Table,
    Version,
}

#[derive(DeriveIden)]
enum PbxProfiles {
    Table,
    Version,
}

fn version() -> ColumnDef {
    ColumnDef::new(Alias::new("version")).big_integer().not_null().default(1).to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table(Customers::Table).add_column(version()).to_owned()).await?;
        manager.alter_table(Table::alter().table(PbxProfiles::Table).add_column(version()).to_owned()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(Table::alter().table(PbxProfiles::Table).drop_column(PbxProfiles::Version).to_owned())
            .await?;
        manager.alter_table(Table::alter().table(Customers::Table).drop_column(Customers::Version).to_owned()).await
    }
}
