//! A row of `pbx_profiles`. `settings` holds the type's non-secret fields as JSON; `secrets` holds its secret fields,
//! encrypted (see [`crate::SecretCipher`]).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "pbx_profiles")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub customer_id: Uuid,
    pub pbx_type: String,
    /// The instance id as sent.
    pub instance_id: String,
    /// What uniqueness and the lookup compare: see `instance_key.rs`. Null only in rows no release writes.
    pub instance_key: Option<String>,
    pub name: String,
    pub country_code: String,
    pub enabled: bool,
    pub settings: Json,
    pub secrets: String,
    pub created_at: DateTimeUtc,
    /// Bumped on every change; the `ETag` of the resource.
    pub version: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
