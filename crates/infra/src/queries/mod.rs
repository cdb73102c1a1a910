//! The queries of the repositories, built in one place so that [`crate::plans`] explains exactly the statements
//! the service runs: the reads here, the hand-built writes in [`writes`].

use pbx_application::Page;
use pbx_domain::{CustomerId, PbxId, PbxType, ResellerId};
use std::sync::OnceLock;

use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr, Query, SimpleExpr};
use sea_orm::{
    ColumnTrait, Condition, DbBackend, EntityTrait, FromQueryResult, QueryFilter, QueryOrder, QuerySelect, QueryTrait,
    Select, Statement, Value,
};

use crate::entity::{account, customer, pbx_connection, pbx_profile};

mod writes;

pub(crate) use writes::{insert_for_reseller, insert_where, placeholder};

use crate::instance_key::instance_key;

/// The customer `id` of `reseller`.
pub(crate) fn customer(reseller: ResellerId, id: CustomerId) -> Select<customer::Entity> {
    customer::Entity::find_by_id(id.as_uuid()).filter(customer::Column::ResellerId.eq(reseller.as_uuid()))
}

/// The customer `id`, whoever its reseller (to name the owner of a PBX instance).
pub(crate) fn customer_by_id(id: uuid::Uuid) -> Select<customer::Entity> {
    customer::Entity::find_by_id(id)
}

/// A page of `reseller`'s customers, oldest first, whose name or reference contains `filter` in any case.
pub(crate) fn customers_page(reseller: ResellerId, filter: Option<&str>, page: Page) -> Select<customer::Entity> {
    let mut query = customer::Entity::find().filter(customer::Column::ResellerId.eq(reseller.as_uuid()));
    if let Some(filter) = filter {
        query = query.filter(contains(filter, [customer::Column::Name, customer::Column::Reference]));
    }
    query
        .order_by_asc(customer::Column::DateCreated)
        .order_by_asc(customer::Column::Id)
        .offset(page.offset())
        .limit(page.size)
}

/// The account `id`, whoever its parent.
pub(crate) fn account(id: ResellerId) -> Select<account::Entity> {
    account::Entity::find_by_id(id.as_uuid()).filter(account::Column::DateDeleted.is_null())
}

/// True unless `reseller` is a deleted account, and the account's row (when `reseller` is one) locked until the
/// transaction ends: an account's deletion (which locks the row for update, see
/// [`crate::account_repository`]) waits for the creates under it that came first and then sees their rows, and a
/// create under an account being deleted waits for the deletion and sees the account deleted. SQLite needs no lock:
/// its writes take turns.
pub(crate) fn unless_deleted_account(backend: DbBackend, reseller: ResellerId) -> SimpleExpr {
    let lock = match backend {
        DbBackend::Postgres => " FOR KEY SHARE",
        DbBackend::MySql => " LOCK IN SHARE MODE",
        _ => "",
    };
    let sql = format!("(SELECT date_deleted FROM accounts WHERE id = {}{lock}) IS NULL", placeholder(backend, 1));
    Expr::cust_with_values(sql, [reseller.as_uuid()])
}

/// A page of `parent`'s accounts, oldest first, whose name or reference contains `filter` in any case.
pub(crate) fn accounts_page(parent: ResellerId, filter: Option<&str>, page: Page) -> Select<account::Entity> {
    let mut query = accounts_of(parent);
    if let Some(filter) = filter {
        query = query.filter(contains(filter, [account::Column::Name, account::Column::Reference]));
    }
    query
        .order_by_asc(account::Column::DateCreated)
        .order_by_asc(account::Column::Id)
        .offset(page.offset())
        .limit(page.size)
}

/// The accounts under `parent` (not deleted).
pub(crate) fn accounts_of(parent: ResellerId) -> Select<account::Entity> {
    account::Entity::find()
        .filter(account::Column::ParentTenantId.eq(parent.as_uuid()))
        .filter(account::Column::DateDeleted.is_null())
}

/// The customers of the account `id` (its reseller tenant), for the account's metrics.
pub(crate) fn customers_of(id: ResellerId) -> Select<customer::Entity> {
    customer::Entity::find().filter(customer::Column::ResellerId.eq(id.as_uuid()))
}

/// The profiles of the account `id`'s customers, counted by type and whether enabled: `(type, enabled, count)`.
pub(crate) fn profile_counts_of(id: ResellerId) -> Select<pbx_profile::Entity> {
    let customers = Query::select()
        .column(customer::Column::Id)
        .from(customer::Entity)
        .and_where(customer::Column::ResellerId.eq(id.as_uuid()))
        .to_owned();
    pbx_profile::Entity::find()
        .select_only()
        .column(pbx_profile::Column::PbxType)
        .column(pbx_profile::Column::Enabled)
        .column_as(pbx_profile::Column::Id.count(), "profiles")
        .filter(pbx_profile::Column::CustomerId.in_subquery(customers))
        .group_by(pbx_profile::Column::PbxType)
        .group_by(pbx_profile::Column::Enabled)
}

/// What the metrics show of a profile (no connection detail but Kazoo's `monitorSubAccounts`, no secret).
#[derive(Debug, FromQueryResult)]
pub(crate) struct FiguresRow {
    pub(crate) id: uuid::Uuid,
    pub(crate) customer_id: uuid::Uuid,
    pub(crate) pbx_type: String,
    pub(crate) instance_id: String,
    pub(crate) name: String,
    pub(crate) enabled: bool,
    pub(crate) settings: serde_json::Value,
}

/// The profiles of the customers `ids`, oldest first, as the metrics show them.
pub(crate) fn profiles_of(ids: Vec<uuid::Uuid>) -> Select<pbx_profile::Entity> {
    pbx_profile::Entity::find()
        .select_only()
        .columns([
            pbx_profile::Column::Id,
            pbx_profile::Column::CustomerId,
            pbx_profile::Column::PbxType,
            pbx_profile::Column::InstanceId,
            pbx_profile::Column::Name,
            pbx_profile::Column::Enabled,
            pbx_profile::Column::Settings,
        ])
        .filter(pbx_profile::Column::CustomerId.is_in(ids))
        .order_by_asc(pbx_profile::Column::CreatedAt)
        .order_by_asc(pbx_profile::Column::Id)
}

/// Any of `columns` contains `text`, in any case.
pub(crate) fn contains<C: ColumnTrait, const N: usize>(text: &str, columns: [C; N]) -> Condition {
    let pattern = contains_pattern(text);
    columns.into_iter().fold(Condition::any(), |any, column| {
        any.add(Expr::expr(Func::lower(Expr::col(column))).like(LikeExpr::new(pattern.clone()).escape('!')))
    })
}

/// A `LIKE` pattern for "contains `text`", any case (`!` escapes the wildcards).
fn contains_pattern(text: &str) -> String {
    let escaped: String = text
        .to_lowercase()
        .chars()
        .flat_map(|c| match c {
            '!' | '%' | '_' => vec!['!', c],
            c => vec![c],
        })
        .collect();
    format!("%{escaped}%")
}

/// The profile `id` of the customer `customer_id`.
pub(crate) fn profile(customer_id: CustomerId, id: PbxId) -> Select<pbx_profile::Entity> {
    pbx_profile::Entity::find_by_id(id.as_uuid()).filter(pbx_profile::Column::CustomerId.eq(customer_id.as_uuid()))
}

/// The id of the customer `customer_id` if it is `reseller`'s (a subquery).
pub(crate) fn customer_of(reseller: ResellerId, customer_id: CustomerId) -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .column(customer::Column::Id)
        .from(customer::Entity)
        .and_where(customer::Column::Id.eq(customer_id.as_uuid()))
        .and_where(customer::Column::ResellerId.eq(reseller.as_uuid()))
        .to_owned()
}

/// The profile `id` of the customer `customer_id`, if that customer is `reseller`'s.
pub(crate) fn visible_profile(reseller: ResellerId, customer_id: CustomerId, id: PbxId) -> Select<pbx_profile::Entity> {
    profile(customer_id, id).filter(pbx_profile::Column::CustomerId.in_subquery(customer_of(reseller, customer_id)))
}

/// The profile `id` of the customer `customer_id` with that customer's country (`customer_country`) and its
/// connection status ([`ConnectionColumns`]), if the customer is `reseller`'s: one query for what a change reads.
pub(crate) fn profile_to_change(
    backend: DbBackend,
    reseller: ResellerId,
    customer_id: CustomerId,
    id: PbxId,
) -> Statement {
    let p = |n| placeholder(backend, n);
    let sql = format!(
        "SELECT p.*, c.country_code AS customer_country, k.checked AS connection_checked, \
         k.collector AS connection_collector, k.checking_until AS connection_checking_until \
         FROM pbx_profiles p JOIN customers c ON c.id = p.customer_id LEFT JOIN pbx_connections k ON k.pbx_id = p.id \
         WHERE p.id = {} AND p.customer_id = {} AND c.reseller_id = {}",
        p(1),
        p(2),
        p(3)
    );
    Statement::from_sql_and_values(
        backend,
        sql,
        [id.as_uuid(), customer_id.as_uuid(), reseller.as_uuid()].map(Value::from),
    )
}

/// The columns of a profile that its views show: all but the encrypted secrets and the creation time.
#[derive(Debug, FromQueryResult)]
pub(crate) struct ShownRow {
    pub(crate) id: uuid::Uuid,
    pub(crate) customer_id: uuid::Uuid,
    pub(crate) pbx_type: String,
    pub(crate) instance_id: String,
    pub(crate) name: String,
    pub(crate) country_code: String,
    pub(crate) enabled: bool,
    pub(crate) settings: serde_json::Value,
    pub(crate) version: i64,
}

const SHOWN_COLUMNS: [pbx_profile::Column; 9] = [
    pbx_profile::Column::Id,
    pbx_profile::Column::CustomerId,
    pbx_profile::Column::PbxType,
    pbx_profile::Column::InstanceId,
    pbx_profile::Column::Name,
    pbx_profile::Column::CountryCode,
    pbx_profile::Column::Enabled,
    pbx_profile::Column::Settings,
    pbx_profile::Column::Version,
];

/// [`visible_profile`] without its secrets, one row at most: the statement of a get, the service's most frequent
/// read.
fn visible_profile_shown_query(
    reseller: ResellerId,
    customer_id: CustomerId,
    id: PbxId,
) -> Select<pbx_profile::Entity> {
    with_connection(visible_profile(reseller, customer_id, id).select_only().columns(SHOWN_COLUMNS)).limit(1)
}

/// The profiles of `select` with their connection status (`connection_checked`, `connection_collector`,
/// `connection_checking_until`; null when none is kept), joined by primary key.
fn with_connection(mut select: Select<pbx_profile::Entity>) -> Select<pbx_profile::Entity> {
    use pbx_connection::Column;
    QueryTrait::query(&mut select).left_join(
        pbx_connection::Entity,
        Expr::col((pbx_connection::Entity, Column::PbxId)).equals((pbx_profile::Entity, pbx_profile::Column::Id)),
    );
    select
        .expr_as(Expr::col((pbx_connection::Entity, Column::Checked)), "connection_checked")
        .expr_as(Expr::col((pbx_connection::Entity, Column::Collector)), "connection_collector")
        .expr_as(Expr::col((pbx_connection::Entity, Column::CheckingUntil)), "connection_checking_until")
}

/// The connection status columns of a row read with [`with_connection`].
#[derive(Debug, FromQueryResult)]
pub(crate) struct ConnectionColumns {
    pub(crate) connection_checked: Option<String>,
    pub(crate) connection_collector: Option<String>,
    pub(crate) connection_checking_until: Option<chrono::DateTime<chrono::Utc>>,
}

impl ConnectionColumns {
    /// The status they keep.
    pub(crate) fn status(&self) -> anyhow::Result<pbx_domain::connection::Status> {
        crate::connection_store::status(
            self.connection_checked.as_deref(),
            self.connection_collector.as_deref(),
            self.connection_checking_until,
        )
    }
}

/// A profile of a page, with its connection status.
#[derive(Debug, FromQueryResult)]
pub(crate) struct SummaryRow {
    pub(crate) id: uuid::Uuid,
    pub(crate) customer_id: uuid::Uuid,
    pub(crate) name: String,
    pub(crate) pbx_type: String,
    pub(crate) country_code: String,
    pub(crate) enabled: bool,
    #[sea_orm(nested)]
    pub(crate) connection: ConnectionColumns,
}

/// The same as a statement whose text is built once per backend and reused (the driver prepares it once per
/// connection and finds it again by its text): a get only binds its values, in the order sea-query binds them —
/// a test compares the two for every backend.
pub(crate) fn visible_profile_shown(
    backend: DbBackend,
    reseller: ResellerId,
    customer_id: CustomerId,
    id: PbxId,
) -> Statement {
    static TEXT: [OnceLock<String>; 3] = [OnceLock::new(), OnceLock::new(), OnceLock::new()];
    let slot = match backend {
        DbBackend::Postgres => 0,
        DbBackend::MySql => 1,
        _ => 2,
    };
    let sql = TEXT[slot].get_or_init(|| {
        let nil = uuid::Uuid::nil();
        let any = (ResellerId::from_uuid(nil), CustomerId::from_uuid(nil), PbxId::from_uuid(nil));
        visible_profile_shown_query(any.0, any.1, any.2).build(backend).sql
    });
    let customer = customer_id.as_uuid();
    let values = [id.as_uuid(), customer, customer, reseller.as_uuid()].map(Value::from);
    Statement::from_sql_and_values(backend, sql.clone(), values.into_iter().chain([Value::from(1_u64)]))
}

/// A page of the customer's profiles, oldest first.
pub(crate) fn profiles_page(customer_id: CustomerId, page: Page) -> Select<pbx_profile::Entity> {
    with_connection(pbx_profile::Entity::find())
        .filter(pbx_profile::Column::CustomerId.eq(customer_id.as_uuid()))
        .order_by_asc(pbx_profile::Column::CreatedAt)
        .order_by_asc(pbx_profile::Column::Id)
        .offset(page.offset())
        .limit(page.size)
}

/// The profiles of the PBX instance `instance_id` of type `pbx_type`, however it was spelled (one at most: the
/// pair of type and instance key is unique).
pub(crate) fn instance_of_type(pbx_type: PbxType, instance_id: &str) -> Select<pbx_profile::Entity> {
    pbx_profile::Entity::find()
        .filter(pbx_profile::Column::PbxType.eq(pbx_type.as_str()))
        .filter(pbx_profile::Column::InstanceKey.eq(instance_key(instance_id)))
}

/// The oldest profile of the PBX instance `instance_id`, whatever its type and spelling.
pub(crate) fn instance(instance_id: &str) -> Select<pbx_profile::Entity> {
    // Naming every type lets the (type, instance key) unique index serve the lookup instead of a table scan.
    pbx_profile::Entity::find()
        .filter(pbx_profile::Column::PbxType.is_in(PbxType::names()))
        .filter(pbx_profile::Column::InstanceKey.eq(instance_key(instance_id)))
        .order_by_asc(pbx_profile::Column::CreatedAt)
}

/// The country code of the profile `id`.
pub(crate) fn country_of(id: PbxId) -> Select<pbx_profile::Entity> {
    pbx_profile::Entity::find_by_id(id.as_uuid()).select_only().column(pbx_profile::Column::CountryCode)
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    #[test]
    fn the_prepared_get_is_the_query_it_stands_for_on_every_backend() {
        for backend in [DbBackend::Postgres, DbBackend::MySql, DbBackend::Sqlite] {
            for (r, c, p) in [(1, 2, 3), (7, 7, 7), (u128::MAX, 0, 42)] {
                let ids = (
                    ResellerId::from_uuid(Uuid::from_u128(r)),
                    CustomerId::from_uuid(Uuid::from_u128(c)),
                    PbxId::from_uuid(Uuid::from_u128(p)),
                );
                let built = visible_profile_shown_query(ids.0, ids.1, ids.2).build(backend);
                let reused = visible_profile_shown(backend, ids.0, ids.1, ids.2);
                assert_eq!(reused.sql, built.sql, "{backend:?}");
                assert_eq!(reused.values, built.values, "{backend:?}: the values in the order the text binds them");
                assert!(!built.sql.contains("secrets"), "a get reads no secret: {}", built.sql);
            }
        }
    }
}
