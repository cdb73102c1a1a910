//! The database's plans for the service's read queries (`pbx-server explain`), to check at any scale that each is
//! served by an index.

use pbx_application::Page;
use pbx_domain::{CustomerId, PbxId, PbxType, ResellerId};
use sea_orm::{
    ConnectionTrait, DbBackend, EntityTrait, QueryOrder, QueryResult, QuerySelect, QueryTrait, Statement,
    TransactionTrait,
};

use crate::Database;
use crate::entity::pbx_profile;
use crate::{outbox, queries};
use pbx_application::events::Audience;

/// Existing rows whose ids fill the queries' parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sample {
    /// A reseller with a customer.
    pub reseller: ResellerId,
    /// That customer, with a profile.
    pub customer: CustomerId,
    /// That profile.
    pub pbx: PbxId,
    /// Its PBX type.
    pub pbx_type: PbxType,
    /// Its PBX instance.
    pub instance_id: String,
}

/// One query and how the database would run it.
#[derive(Debug, Clone)]
pub struct Plan {
    /// What the query is for.
    pub query: &'static str,
    /// The statement, its parameters inlined.
    pub sql: String,
    /// The database's plan, one line a step.
    pub steps: Vec<String>,
    /// Whether every table the query reads is reached through an index (no full scan).
    pub uses_index: bool,
}

/// The most recent profile and its customer, if there is any profile.
///
/// # Errors
/// When the database cannot be read or holds an id that is not a UUID.
pub async fn sample(db: &Database) -> anyhow::Result<Option<Sample>> {
    let connection = db.connection();
    let Some(profile) =
        pbx_profile::Entity::find().order_by_desc(pbx_profile::Column::CreatedAt).one(connection).await?
    else {
        return Ok(None);
    };
    let owner = queries::customer_by_id(profile.customer_id)
        .one(connection)
        .await?
        .ok_or_else(|| anyhow::anyhow!("profile {} refers to a missing customer", profile.id))?;
    Ok(Some(Sample {
        reseller: ResellerId::from_uuid(owner.reseller_id),
        customer: CustomerId::from_uuid(profile.customer_id),
        pbx: PbxId::from_uuid(profile.id),
        pbx_type: PbxType::parse(&profile.pbx_type)?,
        instance_id: profile.instance_id,
    }))
}

/// The plans of every read query of the repositories, with the ids of `sample`. With `as_if_large`, PostgreSQL is
/// told not to scan tables (it prefers to on small ones), to see whether an index could serve each query; it may
/// still pick a whole-index scan on a column that is not first in its index, which only a large table shows (SQLite
/// and MySQL plans show it at any size).
///
/// # Errors
/// When the database refuses a statement.
pub async fn read_plans(db: &Database, sample: &Sample, as_if_large: bool) -> anyhow::Result<Vec<Plan>> {
    let page = Page { index: 0, size: 100 };
    let backend = db.backend();
    let one = Audience::Resellers(vec![sample.reseller]);
    let with_accounts = Audience::Resellers(vec![sample.reseller, ResellerId::from_uuid(uuid::Uuid::nil())]);
    let queries: [(&'static str, Statement); 18] = [
        ("customer of a reseller", queries::customer(sample.reseller, sample.customer).build(backend)),
        ("customer by id (owner of an instance)", queries::customer_by_id(sample.customer.as_uuid()).build(backend)),
        ("page of customers", queries::customers_page(sample.reseller, None, page).build(backend)),
        ("page of customers, filtered", queries::customers_page(sample.reseller, Some("acme"), page).build(backend)),
        ("profile of a customer", queries::profile(sample.customer, sample.pbx).build(backend)),
        (
            "profile as its reseller sees it",
            queries::visible_profile_shown(backend, sample.reseller, sample.customer, sample.pbx),
        ),
        (
            "profile to change, with its customer's country",
            queries::profile_to_change(backend, sample.reseller, sample.customer, sample.pbx),
        ),
        ("page of profiles", queries::profiles_page(sample.customer, page).build(backend)),
        ("instance of a type", queries::instance_of_type(sample.pbx_type, &sample.instance_id).build(backend)),
        ("instance lookup", queries::instance(&sample.instance_id).limit(1).build(backend)),
        ("account by id", queries::account(sample.reseller).build(backend)),
        ("customers of an account (metrics)", queries::customers_of(sample.reseller).build(backend)),
        ("profiles of an account by type (metrics)", queries::profile_counts_of(sample.reseller).build(backend)),
        (
            "profiles of a page of customers (metrics)",
            queries::profiles_of(vec![sample.customer.as_uuid()]).build(backend),
        ),
        ("accounts a tenant's feed shows", outbox::resellers_statement(backend, sample.reseller)),
        ("a reseller's feed", outbox::page_statement(backend, 0, 100, &one, None, outbox::Detail::Whole)),
        (
            "a tenant's feed with an account (one range each)",
            outbox::page_statement(backend, 0, 100, &with_accounts, None, outbox::Detail::Whole),
        ),
        (
            "every tenant's feed (collector)",
            outbox::page_statement(backend, 0, 100, &Audience::All, None, outbox::Detail::Whole),
        ),
    ];
    let txn = db.connection().begin().await?;
    if as_if_large && backend == DbBackend::Postgres {
        txn.execute_unprepared("SET LOCAL enable_seqscan = off").await?;
    }
    let mut plans = Vec::with_capacity(queries.len());
    for (query, statement) in queries {
        let sql = statement.to_string();
        let explain = match backend {
            DbBackend::Sqlite => format!("EXPLAIN QUERY PLAN {sql}"),
            _ => format!("EXPLAIN {sql}"),
        };
        let rows = txn.query_all_raw(Statement::from_string(backend, explain)).await?;
        let steps = rows.iter().map(|row| step(backend, row)).collect::<Result<Vec<_>, _>>()?;
        let uses_index = steps.iter().all(|step| !is_full_scan(backend, step));
        plans.push(Plan { query, sql, steps, uses_index });
    }
    txn.rollback().await?;
    Ok(plans)
}

/// One line of a plan: PostgreSQL's text, SQLite's detail, MySQL's row as `table type key extra`.
fn step(backend: DbBackend, row: &QueryResult) -> Result<String, sea_orm::DbErr> {
    match backend {
        DbBackend::Postgres => row.try_get::<String>("", "QUERY PLAN"),
        DbBackend::Sqlite => row.try_get::<String>("", "detail"),
        _ => {
            let text = |column: &str| row.try_get::<Option<String>>("", column).map(Option::unwrap_or_default);
            Ok(format!("table={} type={} key={} extra={}", text("table")?, text("type")?, text("key")?, text("Extra")?))
        }
    }
}

/// The service's tables (a scan of anything else is of a subquery's rows, already read through an index).
const TABLES: [&str; 5] = ["pbx_profiles", "customers", "accounts", "pbx_events", "idempotency_keys"];

/// Whether a plan line reads a whole table (or a whole index, for MySQL).
fn is_full_scan(backend: DbBackend, step: &str) -> bool {
    match backend {
        DbBackend::Postgres => step.contains("Seq Scan"),
        // SEARCH uses an index; SCAN reads every row (of the table or of an index).
        DbBackend::Sqlite => step
            .trim_start()
            .strip_prefix("SCAN ")
            .is_some_and(|rest| TABLES.iter().any(|t| rest.split_whitespace().next() == Some(*t))),
        _ => {
            (step.contains(" type=ALL ") || step.contains(" type=index "))
                && !step.starts_with("table=<")
                && !step.starts_with("table=r")
        }
    }
}
