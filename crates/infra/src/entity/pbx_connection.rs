//! A row of `pbx_connections`: a profile's connection status (see migration 14).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "pbx_connections")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub pbx_id: Uuid,
    /// The last check's result (`pbx_domain::connection::Checked` as JSON); `None` before the first check and
    /// after a change of the connection fields.
    pub checked: Option<String>,
    /// The collector's last report (`pbx_domain::connection::CollectorReport` as JSON).
    pub collector: Option<String>,
    /// The replica running a check, and until when it holds the profile (a lease).
    pub checking_by: Option<String>,
    pub checking_until: Option<DateTimeUtc>,
    /// When the last check started (one per profile per 10 s).
    pub started_at: Option<DateTimeUtc>,
    /// When the periodic check is due; `None` for at once.
    pub next_check_at: Option<DateTimeUtc>,
    /// Checks in a row that failed (the periodic interval doubles with each, up to a day).
    pub failures: i32,
    /// Bumped by every write of the status: a write compares it, so that two writers never both record a change.
    pub revision: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
