//! Customers and PBX profiles.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    boolean, json_binary, pk_uuid, string_len, string_len_null, text, timestamp_with_time_zone, uuid,
};

/// A UTC instant to the microsecond: `timestamptz` on PostgreSQL, `datetime(6)` on MySQL (whose `timestamp`
/// keeps whole seconds and ends in 2038).
pub(super) fn instant(manager: &SchemaManager, column: impl IntoIden) -> ColumnDef {
    match manager.get_database_backend() {
        sea_orm::DbBackend::MySql => ColumnDef::new(column).custom(Alias::new("datetime(6)")).not_null().to_owned(),
        _ => timestamp_with_time_zone(column),
    }
}

#[derive(DeriveMigrationName)]
pub(super) struct Migration;

#[derive(DeriveIden)]
enum Customers {
    Table,
    Id,
    ResellerId,
    Name,
    Description,
    Reference,
    CountryCode,
    Timezone,
    Enabled,
    DateCreated,
}

#[derive(DeriveIden)]
enum PbxProfiles {
    Table,
    Id,
    CustomerId,
    PbxType,
    InstanceId,
    Name,
    CountryCode,
    Enabled,
    Settings,
    Secrets,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Customers::Table)
                    .if_not_exists()
                    .col(pk_uuid(Customers::Id))
                    .col(uuid(Customers::ResellerId))
                    .col(string_len(Customers::Name, 100))
                    .col(string_len_null(Customers::Description, 200))
                    .col(string_len_null(Customers::Reference, 200))
                    .col(string_len(Customers::CountryCode, 2))
                    .col(string_len(Customers::Timezone, 64))
                    .col(boolean(Customers::Enabled))
                    .col(instant(manager, Customers::DateCreated))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_customers_reseller")
                    .table(Customers::Table)
                    .col(Customers::ResellerId)
                    .col(Customers::DateCreated)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PbxProfiles::Table)
                    .if_not_exists()
                    .col(pk_uuid(PbxProfiles::Id))
                    .col(uuid(PbxProfiles::CustomerId))
                    .col(string_len(PbxProfiles::PbxType, 40))
                    .col(string_len(PbxProfiles::InstanceId, 64))
                    .col(string_len(PbxProfiles::Name, 100))
                    .col(string_len(PbxProfiles::CountryCode, 2))
                    .col(boolean(PbxProfiles::Enabled))
                    .col(json_binary(PbxProfiles::Settings))
                    .col(text(PbxProfiles::Secrets))
                    .col(instant(manager, PbxProfiles::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_pbx_profiles_customer")
                            .from(PbxProfiles::Table, PbxProfiles::CustomerId)
                            .to(Customers::Table, Customers::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        // A PBX instance belongs to at most one customer: the database itself refuses a second profile for it,
        // so two concurrent creates cannot both win.
        manager
            .create_index(
                Index::create()
                    .name("ux_pbx_profiles_instance")
                    .table(PbxProfiles::Table)
                    .col(PbxProfiles::PbxType)
                    .col(PbxProfiles::InstanceId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_pbx_profiles_customer")
                    .table(PbxProfiles::Table)
                    .col(PbxProfiles::CustomerId)
                    .col(PbxProfiles::CreatedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(PbxProfiles::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(Customers::Table).to_owned()).await
    }
}
