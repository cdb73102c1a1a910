//! A row of `idempotency_keys`: the answer to a create, stored under the key its client sent. `status` is null
//! while the first request with the key is still being answered; `answer` holds the body, encrypted (it may show a
//! secret).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "idempotency_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub reseller_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub idempotency_key: String,
    /// SHA-256 (hex) of what identifies the request: method, path and body.
    pub fingerprint: String,
    /// The id the create gives what it makes, reserved when the key is first claimed.
    pub resource_id: Uuid,
    pub status: Option<i16>,
    pub location: Option<String>,
    pub answer: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
