//! How many events in a row a webhook's deliveries gave up on: at `pbx_application::delivery::DISABLE_AFTER` the
//! webhook is disabled; a delivery that succeeds, or a change of the webhook, counts from zero again.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::integer;

#[derive(DeriveMigrationName)]
pub(super) struct Migration;

#[derive(DeriveIden)]
enum Webhooks {
    Table,
    Failures,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let column = integer(Webhooks::Failures).default(0).to_owned();
        manager.alter_table(Table::alter().table(Webhooks::Table).add_column(column).to_owned()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table(Webhooks::Table).drop_column(Webhooks::Failures).to_owned()).await
    }
}
