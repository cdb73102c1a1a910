//! The writes built by hand: an insert that happens only when a condition holds (the reseller's customer, an
//! account not deleted), and the placeholders of hand-written statements.

use chrono::{DateTime, Utc};
use pbx_domain::{PbxProfile, ResellerId};

use sea_orm::sea_query::{Expr, ExprTrait, InsertStatement, Query, SimpleExpr};
use sea_orm::{ActiveModelTrait, ActiveValue, DbBackend, EntityTrait, Iterable};

use crate::entity::{customer, pbx_profile};
use crate::profile_row::Content;

/// The placeholder of parameter `n` (from 1) in a hand-written statement on `backend`.
pub(crate) fn placeholder(backend: DbBackend, n: usize) -> String {
    if backend == DbBackend::Postgres { format!("${n}") } else { "?".to_owned() }
}

/// The insert of `row` as `INSERT … SELECT <its values> WHERE <condition>`, which inserts nothing when `condition`
/// does not hold.
///
/// # Errors
/// When the columns and the values do not line up (they come from the same row).
pub(crate) fn insert_where<A: ActiveModelTrait>(
    row: &A,
    condition: SimpleExpr,
) -> Result<InsertStatement, sea_orm::sea_query::error::Error> {
    let mut columns = Vec::new();
    let mut values = Query::select();
    for column in <A::Entity as EntityTrait>::Column::iter() {
        if let ActiveValue::Set(value) | ActiveValue::Unchanged(value) = row.get(column) {
            columns.push(column);
            values.expr(Expr::val(value));
        }
    }
    values.and_where(condition);
    let mut insert = Query::insert();
    insert.into_table(A::Entity::default()).columns(columns).select_from(values)?;
    Ok(insert)
}

/// The insert of a new profile of `reseller`'s customer, ownership checked in the same statement: `INSERT … SELECT
/// … FROM customers WHERE id = … AND reseller_id = …`, which inserts nothing when the customer is not the
/// reseller's. Its country is `country`, or its customer's when `None`; with `returning`, the statement returns the
/// country stored.
///
/// # Errors
/// When the columns and the values do not line up (they do: a test runs the statement on each backend).
pub(crate) fn insert_for_reseller(
    reseller: ResellerId,
    profile: &PbxProfile,
    created_at: DateTime<Utc>,
    content: Content,
    country: Option<String>,
    returning: bool,
) -> Result<InsertStatement, sea_orm::sea_query::error::Error> {
    use pbx_profile::Column as P;
    let customer_column = |column: customer::Column| Expr::col((customer::Entity, column));
    let country = match country {
        Some(code) => Expr::val(code),
        None => customer_column(customer::Column::CountryCode),
    };
    let values = Query::select()
        .expr(Expr::val(profile.id.as_uuid()))
        .expr(customer_column(customer::Column::Id))
        .expr(Expr::val(content.pbx_type))
        .expr(Expr::val(content.instance_id))
        .expr(Expr::val(content.instance_key))
        .expr(Expr::val(content.name))
        .expr(country)
        .expr(Expr::val(content.enabled))
        .expr(Expr::val(content.settings))
        .expr(Expr::val(content.secrets))
        .expr(Expr::val(created_at))
        .expr(Expr::val(1_i64))
        .from(customer::Entity)
        .and_where(customer_column(customer::Column::Id).eq(profile.customer_id.as_uuid()))
        .and_where(customer_column(customer::Column::ResellerId).eq(reseller.as_uuid()))
        .to_owned();
    let mut insert = Query::insert();
    insert
        .into_table(pbx_profile::Entity)
        .columns([
            P::Id,
            P::CustomerId,
            P::PbxType,
            P::InstanceId,
            P::InstanceKey,
            P::Name,
            P::CountryCode,
            P::Enabled,
            P::Settings,
            P::Secrets,
            P::CreatedAt,
            P::Version,
        ])
        .select_from(values)?;
    if returning {
        insert.returning_col(P::CountryCode);
    }
    Ok(insert)
}
