//! A deleted account keeps its row, marked with the instant of its deletion: a customer or an account created
//! under it afterwards, or while it is being deleted, is refused by the row it locks (see
//! `crate::queries::unless_deleted_account`); every read leaves marked rows out.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub(super) struct Migration;

#[derive(DeriveIden)]
enum Accounts {
    Table,
    DateDeleted,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let column = match manager.get_database_backend() {
            sea_orm::DbBackend::MySql => {
                ColumnDef::new(Accounts::DateDeleted).custom(Alias::new("datetime(6)")).null().to_owned()
            }
            _ => ColumnDef::new(Accounts::DateDeleted).timestamp_with_time_zone().null().to_owned(),
        };
        manager.alter_table(Table::alter().table(Accounts::Table).add_column(column).to_owned()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let table = Table::alter().table(Accounts::Table).drop_column(Accounts::DateDeleted).to_owned();
        manager.alter_table(table).await
    }
}
