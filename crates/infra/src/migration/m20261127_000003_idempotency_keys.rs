//! The `Idempotency-Key`s of creates: one row per (reseller, key), pending until the answer is stored, with the id
//! reserved for what the create makes.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{small_integer_null, string_len, string_len_null, text_null, uuid};

use super::m20261126_000001_initial::instant;

#[derive(DeriveMigrationName)]
pub(super) struct Migration;

#[derive(DeriveIden)]
enum IdempotencyKeys {
    Table,
    ResellerId,
    IdempotencyKey,
    Fingerprint,
    ResourceId,
    Status,
    Location,
    Answer,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(IdempotencyKeys::Table)
                    .if_not_exists()
                    .col(uuid(IdempotencyKeys::ResellerId))
                    .col(string_len(IdempotencyKeys::IdempotencyKey, 255))
                    .col(string_len(IdempotencyKeys::Fingerprint, 64))
                    .col(uuid(IdempotencyKeys::ResourceId))
                    .col(small_integer_null(IdempotencyKeys::Status))
                    .col(string_len_null(IdempotencyKeys::Location, 2048))
                    .col(text_null(IdempotencyKeys::Answer))
                    .col(instant(manager, IdempotencyKeys::CreatedAt))
                    .primary_key(Index::create().col(IdempotencyKeys::ResellerId).col(IdempotencyKeys::IdempotencyKey))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_idempotency_keys_created")
                    .table(IdempotencyKeys::Table)
                    .col(IdempotencyKeys::CreatedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(IdempotencyKeys::Table).to_owned()).await
    }
}
