//! A row of `webhook_deliveries`: one event's delivery to one webhook.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_deliveries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub webhook_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub event_id: Uuid,
    /// The event's position in the change feed.
    pub position: i64,
    pub event_type: String,
    pub attempts: i32,
    /// `pending`, `delivered` or `failed` (given up).
    pub status: String,
    pub last_status_code: Option<i32>,
    pub last_error: Option<String>,
    pub duration_ms: Option<i64>,
    pub next_attempt_at: Option<DateTimeUtc>,
    pub date_updated: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
