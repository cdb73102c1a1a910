//! Bulk seeding, and every read query of the repositories served by an index, on each backend
//! (`PBX_TEST_BACKEND`).
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

use pbx_application::{CustomerRepository, Page, PbxRepository};
use pbx_domain::{PbxType, ResellerId};
use pbx_infra::seed::{SeedPlan, seed};
use pbx_infra::testing::TestDatabase;
use pbx_infra::{Database, PoolSettings, SeaOrmCustomerRepository, SeaOrmPbxRepository, SecretCipher, plans};
use uuid::Uuid;

#[tokio::test]
async fn seeded_rows_read_back_and_every_read_query_is_served_by_an_index() {
    let test_db = TestDatabase::create().await.unwrap();
    let db = Database::connect(test_db.url(), &PoolSettings::default()).await.unwrap();
    db.migrate().await.unwrap();
    assert_eq!(plans::sample(&db).await.unwrap(), None, "no profile, no sample");

    let customers = SeaOrmCustomerRepository::new(db.clone());
    let profiles = SeaOrmPbxRepository::new(db.clone(), SecretCipher::new(&[7; 32]).unwrap());
    let reseller = ResellerId::from_uuid(Uuid::now_v7());
    let plan = SeedPlan { reseller, customers: 3, profiles: 2_500 };
    let heard = std::sync::Mutex::new(Vec::new());
    let report = seed(&customers, &profiles, plan, |n| heard.lock().unwrap().push(n)).await.unwrap();
    assert_eq!((report.customers, report.profiles), (3, 2_500));
    assert_eq!(*heard.lock().unwrap(), [1_000, 2_000, 2_500], "progress after each batch");

    let page = Page { index: 0, size: 1_000 };
    let seeded = customers.list(reseller, None, page).await.unwrap();
    assert_eq!(seeded.len(), 3);
    let mut spread = Vec::new();
    for customer in &seeded {
        spread.push(profiles.list(customer.id, page).await.unwrap().len());
    }
    assert_eq!(spread, [834, 833, 833], "evenly spread, oldest customer first");

    let sample = plans::sample(&db).await.unwrap().expect("a sample");
    assert_eq!((sample.reseller, sample.pbx_type), (reseller, PbxType::Kazoo));
    assert!(sample.instance_id.ends_with("-2499"), "the newest profile: {}", sample.instance_id);
    let newest = profiles.find(sample.customer, sample.pbx).await.unwrap().expect("readable");
    assert_eq!(newest.value.instance_id().value(), sample.instance_id, "secrets decrypt with the repository's cipher");

    let plans = plans::read_plans(&db, &sample, true).await.unwrap();
    assert_eq!(plans.len(), 18);
    for plan in &plans {
        assert!(!plan.steps.is_empty(), "{}: no plan", plan.query);
        assert!(plan.uses_index, "{} scans a table:\n{}\n{}", plan.query, plan.sql, plan.steps.join("\n"));
    }
    // A tenant's feed reads its resellers' index ranges, never the whole feed filtered (issue 22).
    for plan in plans.iter().filter(|p| p.sql.contains("reseller_id = ") && p.sql.contains("pbx_events")) {
        let ranges = plan.steps.iter().filter(|s| s.contains("ix_pbx_events_reseller_seq")).count();
        let arms = plan.sql.matches("reseller_id = ").count();
        assert!(
            arms >= 1 && ranges >= arms,
            "{}: {ranges} ranges for {arms} resellers:\n{}",
            plan.query,
            plan.steps.join("\n")
        );
        // The primary key only for the last number (`MAX(seq)`: one step backward from its end).
        let walks = plan.steps.iter().any(|s| s.contains("pbx_events_pkey") && !s.contains("Backward"));
        assert!(!walks, "{}: walks the feed:\n{}", plan.query, plan.steps.join("\n"));
    }
}
