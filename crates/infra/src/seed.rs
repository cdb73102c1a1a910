//! Synthetic customers and Kazoo profiles in bulk (`pbx-server seed`), to measure the service at scale. Rows are
//! written as the service writes them (secrets encrypted with its cipher), many to a statement.

use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::{DateTime, Utc};
use pbx_domain::kazoo::{AccountId, KazooConnection};
use pbx_domain::{
    CountryCode, Customer, CustomerId, CustomerName, HttpUrl, NewCustomer, PbxId, PbxProfile, ProfileName, ResellerId,
    Secret, WsUrl,
};
use uuid::Uuid;

use crate::{SeaOrmCustomerRepository, SeaOrmPbxRepository};

/// Rows a statement: well under the parameter caps of SQLite (32,766), PostgreSQL and MySQL (65,535).
const BATCH: usize = 1_000;

/// What to load.
#[derive(Debug, Clone, Copy)]
pub struct SeedPlan {
    /// The reseller owning every customer.
    pub reseller: ResellerId,
    /// How many customers.
    pub customers: u32,
    /// How many profiles, spread evenly over the customers.
    pub profiles: u64,
}

/// What was loaded.
#[derive(Debug, Clone, Copy)]
pub struct SeedReport {
    /// Customers inserted.
    pub customers: u64,
    /// Profiles inserted.
    pub profiles: u64,
    /// Time taken.
    pub elapsed: Duration,
}

/// Loads `plan` through the repositories' bulk inserts; `progress` hears the profile count after each batch.
/// Instance ids (`seed-<run>-<n>`) are new on every run, so seeding twice adds to the first.
///
/// # Errors
/// When the database refuses a batch (what was inserted before stays) or a value is out of the domain's rules.
pub async fn seed(
    customers: &SeaOrmCustomerRepository,
    profiles: &SeaOrmPbxRepository,
    plan: SeedPlan,
    progress: impl Fn(u64),
) -> anyhow::Result<SeedReport> {
    anyhow::ensure!(plan.customers > 0 || plan.profiles == 0, "profiles need at least one customer");
    let started = Instant::now();
    let run = &Uuid::now_v7().simple().to_string()[..12];
    // Timestamps in the past, one microsecond apart, so that anything created afterwards is the newest.
    let total = u64::from(plan.customers) + plan.profiles;
    let mut clock = Utc::now()
        - chrono::Duration::microseconds(i64::try_from(total).context("too many rows")?)
        - chrono::Duration::seconds(1);
    let mut tick = || {
        clock += chrono::Duration::microseconds(1);
        clock
    };

    let mut owners = Vec::with_capacity(plan.customers as usize);
    let mut batch = Vec::with_capacity(BATCH);
    for n in 0..plan.customers {
        let customer = Customer {
            id: CustomerId::from_uuid(Uuid::now_v7()),
            reseller_id: plan.reseller,
            date_created: tick(),
            details: NewCustomer::named(CustomerName::parse(&format!("Seed customer {n}"))?),
            options: pbx_domain::CustomerOptions::default(),
        };
        owners.push(customer.id);
        batch.push(customer);
        if batch.len() == BATCH {
            customers.insert_batch(&batch).await?;
            batch.clear();
        }
    }
    customers.insert_batch(&batch).await?;

    let mut batch: Vec<(PbxProfile, DateTime<Utc>)> = Vec::with_capacity(BATCH);
    for n in 0..plan.profiles {
        // Evenly spread: profile n belongs to customer n mod customers (a customer's profiles are not adjacent).
        let owner = owners[usize::try_from(n % u64::from(plan.customers))?];
        batch.push((kazoo(owner, &format!("seed-{run}-{n}"))?, tick()));
        if batch.len() == BATCH {
            profiles.insert_batch(&batch).await?;
            batch.clear();
            progress(n + 1);
        }
    }
    if !batch.is_empty() {
        profiles.insert_batch(&batch).await?;
        progress(plan.profiles);
    }
    Ok(SeedReport { customers: u64::from(plan.customers), profiles: plan.profiles, elapsed: started.elapsed() })
}

fn kazoo(customer: CustomerId, account: &str) -> anyhow::Result<PbxProfile> {
    Ok(PbxProfile::new(
        PbxId::from_uuid(Uuid::now_v7()),
        customer,
        ProfileName::parse("Seeded Kazoo")?,
        CountryCode::US,
        KazooConnection {
            host_rest: HttpUrl::parse("https://rest.kazoo.example.com")?,
            host_websocket: WsUrl::parse("wss://ws.kazoo.example.com")?,
            account_id: AccountId::parse(account)?,
            api_key: Secret::parse("seeded-api-key")?,
            monitor_sub_accounts: false,
        }
        .into(),
    ))
}
