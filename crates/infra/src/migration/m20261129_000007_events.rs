//! The change feed's outbox: one row per event, numbered in commit order, and the positions kept beside it.
//!
//! `pbx_event_positions` holds three counters, each its own row (and so its own row lock):
//! - `sequence`: the last event number handed out. A transaction that records events takes it last, just before it
//!   commits, and holds its lock until then: event numbers are handed out in commit order (docs/architecture.md).
//! - `purged`: the last event number deleted by retention; a cursor below it is gone (410).
//! - `nats`: the last event number the NATS relay published.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, json_null, string_len, string_len_null, uuid, uuid_null};

use super::m20261126_000001_initial::instant;

#[derive(DeriveMigrationName)]
pub(super) struct Migration;

#[derive(DeriveIden)]
enum PbxEvents {
    Table,
    Seq,
    Id,
    EventType,
    OccurredAt,
    ResellerId,
    CustomerId,
    PbxId,
    ActorTenantId,
    ActorSubject,
    Changed,
    Data,
}

#[derive(DeriveIden)]
enum PbxEventPositions {
    Table,
    Name,
    Position,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(PbxEvents::Table)
                    .if_not_exists()
                    .col(big_integer(PbxEvents::Seq).primary_key())
                    .col(uuid(PbxEvents::Id).unique_key())
                    .col(string_len(PbxEvents::EventType, 40))
                    .col(instant(manager, PbxEvents::OccurredAt))
                    .col(uuid(PbxEvents::ResellerId))
                    .col(uuid(PbxEvents::CustomerId))
                    .col(uuid_null(PbxEvents::PbxId))
                    .col(uuid(PbxEvents::ActorTenantId))
                    .col(string_len_null(PbxEvents::ActorSubject, 255))
                    .col(json_null(PbxEvents::Changed))
                    .col(json_null(PbxEvents::Data))
                    .to_owned(),
            )
            .await?;
        // A tenant's events in order: the feed read with `events:read`.
        manager
            .create_index(
                Index::create()
                    .name("ix_pbx_events_reseller_seq")
                    .table(PbxEvents::Table)
                    .col(PbxEvents::ResellerId)
                    .col(PbxEvents::Seq)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PbxEventPositions::Table)
                    .if_not_exists()
                    .col(string_len(PbxEventPositions::Name, 20).primary_key())
                    .col(big_integer(PbxEventPositions::Position))
                    .to_owned(),
            )
            .await?;
        let positions = Query::insert()
            .into_table(PbxEventPositions::Table)
            .columns([PbxEventPositions::Name, PbxEventPositions::Position])
            .values_panic(["sequence".into(), 0.into()])
            .values_panic(["purged".into(), 0.into()])
            .values_panic(["nats".into(), 0.into()])
            .to_owned();
        manager.exec_stmt(positions).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(PbxEventPositions::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(PbxEvents::Table).to_owned()).await
    }
}
