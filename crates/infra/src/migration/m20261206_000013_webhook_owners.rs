//! How many webhooks each owner (a reseller, or an account) has: at most `pbx_domain::webhook::MAX_PER_OWNER`. A
//! create takes one in its own transaction (`UPDATE … SET webhooks = webhooks + 1 WHERE webhooks < max`: the row
//! lock makes concurrent creates of one owner count one after the other), a delete gives it back.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{integer, pk_uuid};

#[derive(DeriveMigrationName)]
pub(super) struct Migration;

#[derive(DeriveIden)]
enum WebhookOwners {
    Table,
    OwnerTenantId,
    Webhooks,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(WebhookOwners::Table)
                    .if_not_exists()
                    .col(pk_uuid(WebhookOwners::OwnerTenantId))
                    .col(integer(WebhookOwners::Webhooks).default(0))
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(
                "INSERT INTO webhook_owners (owner_tenant_id, webhooks) \
                 SELECT owner_tenant_id, COUNT(*) FROM webhooks GROUP BY owner_tenant_id",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(WebhookOwners::Table).to_owned()).await
    }
}
