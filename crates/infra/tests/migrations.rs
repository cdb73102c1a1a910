//! Migrations: a database left by the previous release is brought forward without losing rows, on SQLite,
//! PostgreSQL or MySQL/MariaDB (`PBX_TEST_BACKEND`).
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

use chrono::{DateTime, Utc};
use pbx_application::{CustomerRepository, PbxRepository};
use pbx_domain::{CustomerId, PbxType, ResellerId};
use pbx_infra::migration::Migrator;
use pbx_infra::testing::TestDatabase;
use pbx_infra::{Database, PoolSettings, SeaOrmCustomerRepository, SeaOrmPbxRepository, SecretCipher};
use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{Alias, Query};
use sea_orm_migration::MigratorTrait;
use uuid::Uuid;

#[tokio::test]
async fn a_database_of_the_first_release_is_migrated_forward_without_losing_rows() {
    let test_db = TestDatabase::create().await.unwrap();
    let db = Database::connect(test_db.url(), &PoolSettings::default()).await.unwrap();
    // The schema as the first release (one migration) left it, with rows it wrote.
    Migrator::up(db.connection(), Some(1)).await.unwrap();
    assert!(db.check_ready().await.is_err(), "a migration is pending");
    let (reseller, customer, profile) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let created: DateTime<Utc> = DateTime::from_timestamp(1_575_043_403, 925_168_000).unwrap();
    let customers = Query::insert()
        .into_table(Alias::new("customers"))
        .columns(
            [
                "id",
                "reseller_id",
                "name",
                "description",
                "reference",
                "country_code",
                "timezone",
                "enabled",
                "date_created",
            ]
            .map(Alias::new),
        )
        .values_panic([
            customer.into(),
            reseller.into(),
            "Acme".into(),
            Some("Head office").into(),
            None::<String>.into(),
            "FR".into(),
            "Europe/Paris".into(),
            true.into(),
            created.into(),
        ])
        .to_owned();
    db.connection().execute(&customers).await.unwrap();
    let settings = serde_json::json!({"hostRest": "https://rest.example.com", "hostWebsocket": "wss://ws.example.com", "monitorSubAccounts": false});
    let row = KazooRow { id: profile, customer, account: "12345", country: "FR", settings, created };
    insert_kazoo_row(&db, &row).await.unwrap();

    db.migrate().await.unwrap();

    db.check_ready().await.unwrap();
    let found = SeaOrmCustomerRepository::new(db.clone())
        .find(ResellerId::from_uuid(reseller), CustomerId::from_uuid(customer))
        .await
        .unwrap()
        .expect("the customer survived the migration")
        .value;
    assert_eq!(found.details.name.as_str(), "Acme");
    assert_eq!(found.details.description.map(|d| d.as_str().to_owned()), Some("Head office".to_owned()));
    assert_eq!(found.details.timezone.name(), "Europe/Paris");
    assert_eq!(found.date_created, created);
    assert_eq!(found.options, pbx_domain::CustomerOptions::default(), "migration 6 filled the options' defaults");
    let profiles = SeaOrmPbxRepository::new(db.clone(), SecretCipher::new(&[1; 32]).unwrap());
    assert!(profiles.instance_attached(PbxType::Kazoo, "12345").await.unwrap(), "the profile survived");
}

/// A Kazoo profile's row as the first releases wrote it (no version, no instance key).
struct KazooRow<'a> {
    id: Uuid,
    customer: Uuid,
    account: &'a str,
    country: &'a str,
    settings: serde_json::Value,
    created: DateTime<Utc>,
}

/// Inserts `row` with the columns every release has had.
async fn insert_kazoo_row(db: &Database, row: &KazooRow<'_>) -> Result<(), sea_orm::DbErr> {
    let columns = [
        "id",
        "customer_id",
        "pbx_type",
        "instance_id",
        "name",
        "country_code",
        "enabled",
        "settings",
        "secrets",
        "created_at",
    ];
    let insert = Query::insert()
        .into_table(Alias::new("pbx_profiles"))
        .columns(columns.map(Alias::new))
        .values_panic([
            row.id.into(),
            row.customer.into(),
            "KazooPbxConnectionProfile".into(),
            row.account.into(),
            "Main".into(),
            row.country.into(),
            false.into(),
            row.settings.clone().into(),
            "v1:00000000:AAAA".into(),
            row.created.into(),
        ])
        .to_owned();
    db.connection().execute(&insert).await.map(drop)
}

/// Inserts a customer and Kazoo profiles with the given account ids in the schema of migration 3, returning the ids
/// of the profiles the old unique index let in (MySQL's case-insensitive collation already refused a case variant).
async fn rows_of_release_3(db: &Database, accounts: &[&str]) -> Vec<Uuid> {
    let customer = Uuid::now_v7();
    let created: DateTime<Utc> = DateTime::from_timestamp(1_575_043_403, 0).unwrap();
    let insert = Query::insert()
        .into_table(Alias::new("customers"))
        .columns(["id", "reseller_id", "name", "country_code", "timezone", "enabled", "date_created"].map(Alias::new))
        .values_panic([
            customer.into(),
            Uuid::now_v7().into(),
            "Acme".into(),
            "US".into(),
            "UTC".into(),
            false.into(),
            created.into(),
        ])
        .to_owned();
    db.connection().execute(&insert).await.unwrap();
    let mut ids = Vec::new();
    for account in accounts {
        let id = Uuid::now_v7();
        let row = KazooRow { id, customer, account, country: "US", settings: serde_json::json!({}), created };
        if insert_kazoo_row(db, &row).await.is_ok() {
            ids.push(id);
        }
    }
    ids
}

#[tokio::test]
async fn instance_keys_are_filled_for_existing_rows_and_compare_every_spelling() {
    let test_db = TestDatabase::create().await.unwrap();
    let db = Database::connect(test_db.url(), &PoolSettings::default()).await.unwrap();
    Migrator::up(db.connection(), Some(3)).await.unwrap();
    rows_of_release_3(&db, &["0123abcdef", "other"]).await;

    db.migrate().await.unwrap();

    let profiles = SeaOrmPbxRepository::new(db.clone(), SecretCipher::new(&[1; 32]).unwrap());
    assert!(profiles.instance_attached(PbxType::Kazoo, "0123ABCDEF").await.unwrap(), "found under another case");
    assert!(profiles.instance_attached(PbxType::Kazoo, "\u{ff2f}THER").await.unwrap(), "and another width");
    assert!(!profiles.instance_attached(PbxType::Kazoo, "0123abcdee").await.unwrap());
}

#[tokio::test]
async fn the_instance_key_migration_refuses_rows_that_already_collide_naming_them_and_changes_nothing() {
    let test_db = TestDatabase::create().await.unwrap();
    let db = Database::connect(test_db.url(), &PoolSettings::default()).await.unwrap();
    Migrator::up(db.connection(), Some(3)).await.unwrap();
    let unrelated = rows_of_release_3(&db, &["unrelated"]).await;
    let colliding = rows_of_release_3(&db, &["Acct-A1", "ACCT-a1", "\u{ff21}cct-A1"]).await;
    assert!(colliding.len() >= 2, "the old index let at least two spellings in");

    let refused = db.migrate().await.expect_err("the migration refuses");
    let message = format!("{refused:#}");
    for id in &colliding {
        assert!(message.contains(&id.to_string()), "names {id}: {message}");
    }
    assert!(!message.contains(&unrelated[0].to_string()), "names only the colliding profiles: {message}");

    // Nothing was dropped or changed: the rows are there, the schema is still that of migration 3.
    let count =
        Query::select().expr(sea_orm::sea_query::Expr::cust("COUNT(*)")).from(Alias::new("pbx_profiles")).to_owned();
    let row = db.connection().query_one(&count).await.unwrap().unwrap();
    assert_eq!(row.try_get_by_index::<i64>(0).unwrap(), i64::try_from(colliding.len() + 1).unwrap());
    assert!(db.check_ready().await.is_err(), "migration 4 is still pending");
}
