//! A row of `pbx_events`: one event of the change feed.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "pbx_events")]
pub struct Model {
    /// The event's place in commit order (the cursor).
    #[sea_orm(primary_key, auto_increment = false)]
    pub seq: i64,
    pub id: Uuid,
    pub event_type: String,
    pub occurred_at: DateTimeUtc,
    pub reseller_id: Uuid,
    pub customer_id: Uuid,
    pub pbx_id: Option<Uuid>,
    pub actor_tenant_id: Uuid,
    pub actor_subject: Option<String>,
    pub changed: Option<Json>,
    pub data: Option<Json>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
