//! `pbx-server explain`.

use pbx_infra::database::backend_name;
use pbx_infra::plans;

use crate::cli::CommonArgs;

use crate::adapters::{database_url, open_database};

/// `pbx-server explain`: the plans of the read queries, with the ids of the newest profile.
pub async fn explain(common: &CommonArgs) -> anyhow::Result<()> {
    let db = open_database(common).await?;
    let Some(sample) = plans::sample(&db).await? else {
        anyhow::bail!("the database holds no profile to fill the queries with: create one first");
    };
    let plans = plans::read_plans(&db, &sample, false).await?;
    db.close().await?;
    println!(
        "# Plans on {}, for customer {} and profile {}",
        backend_name(&database_url(common)),
        sample.customer,
        sample.pbx
    );
    for plan in &plans {
        println!("\n## {} ({})\n{}", plan.query, if plan.uses_index { "index" } else { "TABLE SCAN" }, plan.sql);
        for step in &plan.steps {
            println!("    {step}");
        }
    }
    let scans: Vec<_> = plans.iter().filter(|p| !p.uses_index).map(|p| p.query).collect();
    anyhow::ensure!(scans.is_empty(), "queries that scan a table: {}", scans.join(", "));
    Ok(())
}
