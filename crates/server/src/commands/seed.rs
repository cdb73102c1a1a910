//! `pbx-server seed`.

use anyhow::Context;
use pbx_domain::ResellerId;
use pbx_infra::seed::SeedPlan;
use pbx_infra::{SeaOrmCustomerRepository, SeaOrmPbxRepository};

use crate::cli::{CommonArgs, SeedArgs};

use crate::adapters::{cipher, open_database};

/// `pbx-server seed`.
pub async fn seed(common: &CommonArgs, args: &SeedArgs) -> anyhow::Result<()> {
    let plan = SeedPlan {
        reseller: ResellerId::parse(&args.tenant).context("--tenant must be a GUID")?,
        customers: args.customers,
        profiles: args.profiles,
    };
    let db = open_database(common).await?;
    let customers = SeaOrmCustomerRepository::new(db.clone());
    let profiles = SeaOrmPbxRepository::new(db.clone(), cipher(common)?);
    let step = (plan.profiles / 10).max(1);
    let report = pbx_infra::seed::seed(&customers, &profiles, plan, |done| {
        if done % step < 1_000 || done == plan.profiles {
            eprintln!("seed: {done} of {} profiles", plan.profiles);
        }
    })
    .await?;
    db.close().await?;
    println!(
        "Seeded {} customers and {} profiles of tenant {} in {:.1} s.",
        report.customers,
        report.profiles,
        plan.reseller,
        report.elapsed.as_secs_f64()
    );
    Ok(())
}
