//! Idempotency keys written in their create's own transaction (issue 36): a key's row is the request's fingerprint
//! and the id of what it made, nothing more. The answers kept before (status, `Location`, the encrypted body) go;
//! a replay re-reads the resource by its id. Rows of claims never answered go too: under the new rule a row means
//! a committed create, and theirs may not have committed.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub(super) struct Migration;

#[derive(DeriveIden)]
enum IdempotencyKeys {
    Table,
    Status,
    Location,
    Answer,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let unanswered = Query::delete()
            .from_table(IdempotencyKeys::Table)
            .and_where(Expr::col(IdempotencyKeys::Status).is_null())
            .to_owned();
        manager.get_connection().execute(&unanswered).await?;
        // One column an alteration: SQLite drops no more at once.
        for column in [IdempotencyKeys::Status, IdempotencyKeys::Location, IdempotencyKeys::Answer] {
            manager.alter_table(Table::alter().table(IdempotencyKeys::Table).drop_column(column).to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // The answers are not brought back: every key kept stands for a create, re-read by its id.
        let columns = [
            ColumnDef::new(IdempotencyKeys::Status).small_integer().null().to_owned(),
            ColumnDef::new(IdempotencyKeys::Location).string_len(2048).null().to_owned(),
            ColumnDef::new(IdempotencyKeys::Answer).text().null().to_owned(),
        ];
        for column in columns {
            manager.alter_table(Table::alter().table(IdempotencyKeys::Table).add_column(column).to_owned()).await?;
        }
        Ok(())
    }
}
