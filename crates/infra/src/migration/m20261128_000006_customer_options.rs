//! The customer fields the platform's clients send (§11): features, tenant profile type, trial, sync and e-mail
//! flags. Existing rows take the defaults.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub(super) struct Migration;

#[derive(DeriveIden)]
enum Customers {
    Table,
    FeaturesAgent,
    FeaturesDevice,
    TenantProfileType,
    TrialDuration,
    SyncAcdAgentWithPbx,
    SendNewUserEmail,
    SendConnectWelcomeEmail,
}

fn columns() -> [ColumnDef; 7] {
    [
        ColumnDef::new(Customers::FeaturesAgent).integer().not_null().default(0).to_owned(),
        ColumnDef::new(Customers::FeaturesDevice).integer().not_null().default(0).to_owned(),
        ColumnDef::new(Customers::TenantProfileType)
            .string_len(64)
            .not_null()
            .default("TenantProfileType_analytics")
            .to_owned(),
        ColumnDef::new(Customers::TrialDuration).small_integer().not_null().default(0).to_owned(),
        ColumnDef::new(Customers::SyncAcdAgentWithPbx).boolean().not_null().default(false).to_owned(),
        ColumnDef::new(Customers::SendNewUserEmail).boolean().not_null().default(true).to_owned(),
        ColumnDef::new(Customers::SendConnectWelcomeEmail).boolean().not_null().default(true).to_owned(),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column a statement: SQLite alters one at a time.
        for mut column in columns() {
            manager.alter_table(Table::alter().table(Customers::Table).add_column(&mut column).to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            Customers::FeaturesAgent,
            Customers::FeaturesDevice,
            Customers::TenantProfileType,
            Customers::TrialDuration,
            Customers::SyncAcdAgentWithPbx,
            Customers::SendNewUserEmail,
            Customers::SendConnectWelcomeEmail,
        ] {
            manager.alter_table(Table::alter().table(Customers::Table).drop_column(column).to_owned()).await?;
        }
        Ok(())
    }
}
