//! Connection status (CONTRACT §15), apart from the profile's own columns so that a check never changes its
//! version: the last check's result and the collector's last report (JSON text), the lease of a running check,
//! and the schedule of the periodic ones. A profile's row goes with it (`ON DELETE CASCADE`).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, integer, text_null, uuid};

use super::m20261202_000011_webhook_deliveries::instant_null;

#[derive(DeriveMigrationName)]
pub(super) struct Migration;

#[derive(DeriveIden)]
enum PbxConnections {
    Table,
    PbxId,
    Checked,
    Collector,
    CheckingBy,
    CheckingUntil,
    StartedAt,
    NextCheckAt,
    Failures,
    Revision,
}

#[derive(DeriveIden)]
enum PbxProfiles {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(PbxConnections::Table)
                    .if_not_exists()
                    .col(uuid(PbxConnections::PbxId).primary_key())
                    .col(text_null(PbxConnections::Checked))
                    .col(text_null(PbxConnections::Collector))
                    .col(ColumnDef::new(PbxConnections::CheckingBy).string_len(64).null())
                    .col(instant_null(manager, PbxConnections::CheckingUntil))
                    .col(instant_null(manager, PbxConnections::StartedAt))
                    .col(instant_null(manager, PbxConnections::NextCheckAt))
                    .col(integer(PbxConnections::Failures).default(0))
                    .col(big_integer(PbxConnections::Revision).default(0))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_pbx_connections_profile")
                            .from(PbxConnections::Table, PbxConnections::PbxId)
                            .to(PbxProfiles::Table, PbxProfiles::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_pbx_connections_next_check_at")
                    .table(PbxConnections::Table)
                    .col(PbxConnections::NextCheckAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(PbxConnections::Table).to_owned()).await
    }
}
