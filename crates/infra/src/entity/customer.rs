//! A row of `customers`.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "customers")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub reseller_id: Uuid,
    pub name: String,
    pub description: Option<String>,
    pub reference: Option<String>,
    pub country_code: String,
    pub timezone: String,
    pub enabled: bool,
    pub date_created: DateTimeUtc,
    /// Bumped on every change; the `ETag` of the resource.
    pub version: i64,
    pub features_agent: i32,
    pub features_device: i32,
    pub tenant_profile_type: String,
    pub trial_duration: i16,
    pub sync_acd_agent_with_pbx: bool,
    pub send_new_user_email: bool,
    pub send_connect_welcome_email: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
