//! A row of `accounts`.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "accounts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub parent_tenant_id: Uuid,
    pub name: String,
    pub description: Option<String>,
    pub reference: Option<String>,
    pub country_code: String,
    pub timezone: String,
    pub enabled: bool,
    pub date_created: DateTimeUtc,
    /// Bumped on every change; the `ETag` of the resource.
    pub version: i64,
    /// When the account was deleted; `None` while it lives. A deleted account is kept so that nothing is created
    /// under it.
    pub date_deleted: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
