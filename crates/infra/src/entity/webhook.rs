//! A row of `webhooks`.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhooks")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub owner_tenant_id: Uuid,
    pub name: String,
    pub url: String,
    pub method: String,
    pub format: String,
    /// The event types, space-separated; `None` for all.
    pub events: Option<String>,
    /// A JSON object of strings.
    pub static_data: String,
    pub retries: i32,
    pub enabled: bool,
    /// The signing key, encrypted (`crate::SecretCipher`, the row's id bound).
    pub secret: String,
    /// The key rotated out, encrypted, and until when it still signs.
    pub previous_secret: Option<String>,
    pub previous_secret_until: Option<DateTimeUtc>,
    pub date_created: DateTimeUtc,
    /// Bumped on every change; the `ETag` of the resource.
    pub version: i64,
    /// The position in the change feed of the last event the webhook is done with (delivered or given up).
    pub cursor: i64,
    /// Failed attempts at the event after `cursor`.
    pub attempts: i32,
    /// When the next attempt is due; `None` for at once.
    pub next_attempt_at: Option<DateTimeUtc>,
    /// The replica delivering the webhook, and until when (a lease: one replica at a time).
    pub lease_owner: Option<String>,
    pub lease_until: Option<DateTimeUtc>,
    /// Events in a row its deliveries gave up on (reset by a success or a change of the webhook).
    pub failures: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
