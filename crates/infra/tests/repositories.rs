//! The SeaORM adapters against a real database: SQLite by default, PostgreSQL or MySQL/MariaDB with
//! `PBX_TEST_BACKEND` (see `pbx_infra::testing`).
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

use std::sync::Arc;

use chrono::{DateTime, Utc};
use pbx_application::idempotency::{IdempotencyStore, KeyRecord};
use pbx_application::{AccountRepository, CustomerRepository, InsertPbxError, PbxRepository, WriteError};
use pbx_domain::kazoo::{AccountId, KazooConnection};
use pbx_domain::teams::{MicrosoftTenantId, TeamsConnection};
use pbx_domain::three_cx::{LicenseKey, RecordingArchive, ThreeCxConnection, Username};
use pbx_domain::{
    Account, CountryCode, Customer, CustomerId, CustomerName, HttpUrl, NewCustomer, PbxConnection, PbxId, PbxProfile,
    PbxType, ProfileName, ResellerId, Secret, TimeSpan, WsUrl,
};
use pbx_infra::testing::{Backend, TestDatabase, event};
use pbx_infra::{
    Database, PoolSettings, SeaOrmAccountRepository, SeaOrmCustomerRepository, SeaOrmIdempotencyStore,
    SeaOrmPbxRepository, SecretCipher,
};
use sea_orm::{ConnectionTrait, Statement};
use uuid::Uuid;

struct Fixture {
    test_db: TestDatabase,
    db: Database,
    customers: SeaOrmCustomerRepository,
    profiles: SeaOrmPbxRepository,
    cipher: SecretCipher,
}

async fn fixture() -> Fixture {
    let test_db = TestDatabase::create().await.unwrap();
    let db = Database::connect(test_db.url(), &PoolSettings::default()).await.unwrap();
    db.migrate().await.unwrap();
    let cipher = SecretCipher::new(&[42; 32]).unwrap();
    Fixture {
        customers: SeaOrmCustomerRepository::new(db.clone()),
        profiles: SeaOrmPbxRepository::new(db.clone(), cipher.clone()),
        cipher,
        db,
        test_db,
    }
}

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_575_043_403, 925_168_000).unwrap()
}

fn customer(reseller: ResellerId) -> Customer {
    Customer {
        id: CustomerId::from_uuid(Uuid::now_v7()),
        reseller_id: reseller,
        date_created: now(),
        details: NewCustomer::named(CustomerName::parse("Acme").unwrap()),
        options: pbx_domain::CustomerOptions::default(),
    }
}

fn kazoo(customer: CustomerId, account: &str) -> PbxProfile {
    PbxProfile::new(
        PbxId::from_uuid(Uuid::now_v7()),
        customer,
        ProfileName::parse("Main").unwrap(),
        CountryCode::US,
        KazooConnection {
            host_rest: HttpUrl::parse("https://rest.example.com").unwrap(),
            host_websocket: WsUrl::parse("wss://ws.example.com").unwrap(),
            account_id: AccountId::parse(account).unwrap(),
            api_key: Secret::parse("ABCDEF-very-secret-key").unwrap(),
            monitor_sub_accounts: false,
        }
        .into(),
    )
}

fn three_cx(customer: CustomerId, licence: &str) -> PbxProfile {
    PbxProfile::new(
        PbxId::from_uuid(Uuid::now_v7()),
        customer,
        ProfileName::parse("3CX").unwrap(),
        CountryCode::US,
        PbxConnection::ThreeCx(ThreeCxConnection {
            license_key: LicenseKey::parse(licence).unwrap(),
            username: Username::parse("admin").unwrap(),
            password: Secret::parse("hunter2-very-secret-password").unwrap(),
            recording_archive: RecordingArchive::new(true, TimeSpan::parse("00:20:00").ok()).unwrap(),
        }),
    )
}

#[tokio::test]
async fn migrations_can_run_again_on_a_migrated_database() {
    let f = fixture().await;
    f.db.migrate().await.unwrap();
}

#[tokio::test]
async fn a_customer_is_found_by_its_reseller_only() {
    let f = fixture().await;
    let owner = ResellerId::from_uuid(Uuid::now_v7());
    let stored = customer(owner);
    f.customers.insert(&stored, &event(), None).await.unwrap();

    assert_eq!(
        f.customers.find(owner, stored.id).await.unwrap(),
        Some(pbx_application::Versioned { value: stored.clone(), version: 1 })
    );
    let stranger = ResellerId::from_uuid(Uuid::now_v7());
    assert_eq!(f.customers.find(stranger, stored.id).await.unwrap(), None, "another reseller's customer");
    let missing = CustomerId::from_uuid(Uuid::now_v7());
    assert_eq!(f.customers.find(owner, missing).await.unwrap(), None, "a customer that does not exist");
}

#[tokio::test]
async fn a_pbx_instance_is_attached_to_one_customer_at_most() {
    let f = fixture().await;
    let reseller = ResellerId::from_uuid(Uuid::now_v7());
    let (first, second) = (customer(reseller), customer(reseller));
    f.customers.insert(&first, &event(), None).await.unwrap();
    f.customers.insert(&second, &event(), None).await.unwrap();

    assert!(!f.profiles.instance_attached(PbxType::Kazoo, "12345").await.unwrap());
    f.profiles.insert(&kazoo(first.id, "12345"), now()).await.unwrap();
    assert!(f.profiles.instance_attached(PbxType::Kazoo, "12345").await.unwrap());

    let again = f.profiles.insert(&kazoo(second.id, "12345"), now()).await;
    assert!(matches!(again, Err(InsertPbxError::InstanceAttached)), "{again:?}");
    // The same value names another instance for another PBX type.
    f.profiles.insert(&three_cx(second.id, "12345"), now()).await.unwrap();
}

#[tokio::test]
async fn insert_for_reseller_checks_the_owner_and_fills_the_country_in_one_statement() {
    let f = fixture().await;
    let reseller = ResellerId::from_uuid(Uuid::now_v7());
    let mut owner = customer(reseller);
    owner.details.country_code = CountryCode::parse("FR").unwrap();
    f.customers.insert(&owner, &event(), None).await.unwrap();

    // No country of its own: the customer's, stored and returned.
    let inherits = kazoo(owner.id, "own-1");
    assert_eq!(
        f.profiles.insert_for_reseller(reseller, &inherits, true, now(), event(), None).await.unwrap().as_str(),
        "FR"
    );
    let stored = f.profiles.find(owner.id, inherits.id).await.unwrap().unwrap();
    assert_eq!((stored.value.country_code.as_str(), stored.version), ("FR", 1));
    assert_eq!(stored.value.connection, inherits.connection, "secrets encrypted and read back");

    // A country of its own wins.
    let mut given = kazoo(owner.id, "own-2");
    given.country_code = CountryCode::parse("DE").unwrap();
    assert_eq!(
        f.profiles.insert_for_reseller(reseller, &given, false, now(), event(), None).await.unwrap().as_str(),
        "DE"
    );
    assert_eq!(f.profiles.find(owner.id, given.id).await.unwrap().unwrap().value.country_code.as_str(), "DE");

    // Another reseller's customer, or none: nothing written, even for a taken instance (404 before 409).
    let stranger = ResellerId::from_uuid(Uuid::now_v7());
    for (reseller, customer_id, account) in [
        (stranger, owner.id, "own-3"),
        (reseller, CustomerId::from_uuid(Uuid::now_v7()), "own-3"),
        (stranger, owner.id, "OWN-1"),
    ] {
        let profile = kazoo(customer_id, account);
        let refused = f.profiles.insert_for_reseller(reseller, &profile, true, now(), event(), None).await;
        assert!(matches!(refused, Err(InsertPbxError::CustomerNotFound)), "{account}: {refused:?}");
        assert!(f.profiles.find(customer_id, profile.id).await.unwrap().is_none());
    }
    assert!(!f.profiles.instance_attached(PbxType::Kazoo, "own-3").await.unwrap());

    // The owner, a taken instance (whatever its case): a conflict.
    let taken = f.profiles.insert_for_reseller(reseller, &kazoo(owner.id, "OWN-1"), true, now(), event(), None).await;
    assert!(matches!(taken, Err(InsertPbxError::InstanceAttached)), "{taken:?}");
}

#[tokio::test]
async fn concurrent_creates_each_get_their_own_outcome_with_duplicates_inside_and_across_groups() {
    let f = fixture().await;
    let reseller = ResellerId::from_uuid(Uuid::now_v7());
    let mut owner = customer(reseller);
    owner.details.country_code = CountryCode::parse("FR").unwrap();
    f.customers.insert(&owner, &event(), None).await.unwrap();
    let foreign = customer(ResellerId::from_uuid(Uuid::now_v7()));
    f.customers.insert(&foreign, &event(), None).await.unwrap();
    f.profiles.insert(&kazoo(owner.id, "taken-0"), now()).await.unwrap();

    // 240 creates at once: 40 instances tried four times each (respelled), 20 for another reseller's customer, 20
    // for an instance stored before. Whatever the groups turn out to be, each gets its own answer.
    let mut creates = tokio::task::JoinSet::new();
    for i in 0..240 {
        let profiles = f.profiles.clone();
        let (customer_id, account, kind) = match i % 6 {
            4 => (foreign.id, format!("foreign-{i}"), "foreign"),
            5 => (owner.id, "TAKEN-0".to_owned(), "taken"),
            n => (owner.id, if n % 2 == 0 { format!("dup-{}", i % 40) } else { format!("DUP-{}", i % 40) }, "dup"),
        };
        creates.spawn(async move {
            let profile = kazoo(customer_id, &account);
            let outcome = profiles.insert_for_reseller(reseller, &profile, true, now(), event(), None).await;
            (kind, account.to_lowercase(), profile.id, outcome)
        });
    }
    let mut winners = std::collections::HashMap::new();
    while let Some(done) = creates.join_next().await {
        let (kind, account, id, outcome) = done.unwrap();
        match (kind, outcome) {
            ("dup", Ok(country)) => {
                assert_eq!(country.as_str(), "FR");
                assert!(winners.insert(account.clone(), id).is_none(), "{account} created twice");
                let stored = f.profiles.find(owner.id, id).await.unwrap().expect("answered once durable");
                assert_eq!(stored.value.country_code.as_str(), "FR");
            }
            ("dup" | "taken", Err(InsertPbxError::InstanceAttached))
            | ("foreign", Err(InsertPbxError::CustomerNotFound)) => {}
            (kind, outcome) => panic!("{kind} {account}: {outcome:?}"),
        }
    }
    assert_eq!(winners.len(), 40, "every duplicated instance created once: {winners:?}");
    let stored = f.profiles.list(owner.id, pbx_application::Page { index: 0, size: 1000 }).await.unwrap();
    assert_eq!(stored.len(), 41, "the 40 winners and the instance stored before");
    assert!(f.profiles.list(foreign.id, pbx_application::Page { index: 0, size: 1000 }).await.unwrap().is_empty());
}

#[tokio::test]
async fn one_instance_is_one_instance_whatever_its_case_or_width() {
    let f = fixture().await;
    let (first, second) =
        (customer(ResellerId::from_uuid(Uuid::now_v7())), customer(ResellerId::from_uuid(Uuid::now_v7())));
    f.customers.insert(&first, &event(), None).await.unwrap();
    f.customers.insert(&second, &event(), None).await.unwrap();
    type Make = fn(CustomerId, &str) -> PbxProfile;
    let cases: [(Make, &str, &str); 3] = [
        (kazoo, "0123456789abcdef", "0123456789ABCDEF"),
        (kazoo, "AcctA1", "\u{ff21}cctA1"),
        (three_cx, "abcd-1234-efgh", "ABCD-1234-EFGH"),
    ];
    for (make, attached, respelled) in cases {
        let profile = make(first.id, attached);
        f.profiles.insert(&profile, now()).await.unwrap();
        let again = f.profiles.insert(&make(second.id, respelled), now()).await;
        assert!(matches!(again, Err(InsertPbxError::InstanceAttached)), "{respelled}: {again:?}");
        assert!(f.profiles.instance_attached(profile.pbx_type(), respelled).await.unwrap(), "{respelled}");
        let owner = f.profiles.find_instance(respelled).await.unwrap().expect("found under another spelling");
        assert_eq!(owner.pbx_id, profile.id);
        let stored = f.profiles.find(first.id, profile.id).await.unwrap().unwrap().value;
        assert_eq!(stored.instance_id().value(), attached, "the profile keeps the spelling it was sent with");
    }
    // A change of spelling by an update is held to the same rule.
    let other = kazoo(second.id, "other-account");
    f.profiles.insert(&other, now()).await.unwrap();
    let mut respelled = other.clone();
    let PbxConnection::Kazoo(connection) = &mut respelled.connection else { unreachable!() };
    connection.account_id = AccountId::parse("ACCTA1").unwrap();
    let updated = f.profiles.update(&other.withheld(), &respelled.withheld(), None, 1, &event()).await;
    assert!(matches!(updated, Err(WriteError::InstanceAttached)));
}

#[tokio::test]
async fn a_teams_profile_reads_back_and_its_tenant_is_attached_once() {
    let f = fixture().await;
    let owner = customer(ResellerId::from_uuid(Uuid::now_v7()));
    f.customers.insert(&owner, &event(), None).await.unwrap();
    let tenant = "72F988BF-86F1-41AF-91AB-2D7CD011DB47";
    let teams = |customer| {
        PbxProfile::new(
            PbxId::from_uuid(Uuid::now_v7()),
            customer,
            ProfileName::parse("Teams").unwrap(),
            CountryCode::US,
            TeamsConnection { microsoft_tenant_id: MicrosoftTenantId::parse(tenant).unwrap() }.into(),
        )
    };
    let profile = teams(owner.id);
    f.profiles.insert(&profile, now()).await.unwrap();
    let stored = f.profiles.find(owner.id, profile.id).await.unwrap().unwrap().value;
    assert_eq!(stored, profile);
    assert!(f.profiles.instance_attached(PbxType::Teams, &tenant.to_lowercase()).await.unwrap());
    let again = f.profiles.insert(&teams(owner.id), now()).await;
    assert!(matches!(again, Err(InsertPbxError::InstanceAttached)), "{again:?}");
}

#[tokio::test]
async fn concurrent_creates_of_one_instance_let_exactly_one_win() {
    let f = fixture().await;
    let reseller = ResellerId::from_uuid(Uuid::now_v7());
    let owner = customer(reseller);
    f.customers.insert(&owner, &event(), None).await.unwrap();
    let profiles = Arc::new(f.profiles.clone());
    let attempts: Vec<_> = (0..16)
        .map(|n| {
            let profiles = Arc::clone(&profiles);
            // One instance under 16 spellings: the unique index compares the normal form.
            let spelling: String =
                "raced".chars().enumerate().map(|(i, c)| if i % 2 == 0 { c.to_ascii_uppercase() } else { c }).collect();
            let profile = kazoo(owner.id, if n % 2 == 0 { "raced" } else { &spelling });
            tokio::spawn(async move { profiles.insert(&profile, now()).await })
        })
        .collect();
    let mut won = 0;
    for attempt in attempts {
        match attempt.await.unwrap() {
            Ok(()) => won += 1,
            Err(InsertPbxError::InstanceAttached) => {}
            Err(other) => panic!("unexpected error: {other:?}"),
        }
    }
    assert_eq!(won, 1);
}

#[tokio::test]
async fn secrets_are_stored_encrypted_and_decrypt_with_the_key() {
    let f = fixture().await;
    let reseller = ResellerId::from_uuid(Uuid::now_v7());
    let owner = customer(reseller);
    f.customers.insert(&owner, &event(), None).await.unwrap();
    let kazoo = kazoo(owner.id, "k-1");
    let three_cx = three_cx(owner.id, "L-1");
    f.profiles.insert(&kazoo, now()).await.unwrap();
    f.profiles.insert(&three_cx, now()).await.unwrap();

    let rows =
        f.db.connection()
            .query_all_raw(Statement::from_string(
                f.db.backend(),
                "SELECT id, settings, secrets FROM pbx_profiles ORDER BY instance_id",
            ))
            .await
            .unwrap();
    assert_eq!(rows.len(), 2);
    for row in rows {
        let id: Uuid = row.try_get("", "id").unwrap();
        let settings: serde_json::Value = row.try_get("", "settings").unwrap();
        let secrets: String = row.try_get("", "secrets").unwrap();
        for plain in ["ABCDEF-very-secret-key", "hunter2-very-secret-password"] {
            assert!(!secrets.contains(plain) && !settings.to_string().contains(plain), "{plain} in clear");
        }
        let decrypted: serde_json::Value =
            serde_json::from_slice(&f.cipher.decrypt(&secrets, id.as_bytes()).unwrap()).unwrap();
        let expected = if id == kazoo.id.as_uuid() {
            serde_json::json!({ "apiKey": "ABCDEF-very-secret-key" })
        } else {
            serde_json::json!({ "password": "hunter2-very-secret-password" })
        };
        assert_eq!(decrypted, expected);
    }
    if f.test_db.backend() == Backend::Sqlite {
        let file = f.test_db.url().trim_start_matches("sqlite://").trim_end_matches("?mode=rwc");
        let folder = std::path::Path::new(file).parent().unwrap();
        for entry in std::fs::read_dir(folder).unwrap() {
            let bytes = std::fs::read(entry.unwrap().path()).unwrap();
            let text = String::from_utf8_lossy(&bytes);
            assert!(!text.contains("very-secret"), "a secret is readable in the SQLite files");
        }
    }
}

#[tokio::test]
async fn a_profile_read_to_be_shown_decrypts_nothing() {
    let f = fixture().await;
    let owner = customer(ResellerId::from_uuid(Uuid::now_v7()));
    f.customers.insert(&owner, &event(), None).await.unwrap();
    let (first, second) = (kazoo(owner.id, "k-shown"), three_cx(owner.id, "L-shown"));
    f.profiles.insert(&first, now()).await.unwrap();
    f.profiles.insert(&second, now()).await.unwrap();
    // A repository whose key opens none of the stored secrets: a whole read fails, a read to be shown does not.
    let other_key = SeaOrmPbxRepository::new(f.db.clone(), SecretCipher::new(&[7; 32]).unwrap());
    assert!(other_key.find(owner.id, first.id).await.is_err(), "the whole profile needs its secrets");
    for profile in [first, second] {
        let shown = other_key.find_visible(owner.reseller_id, owner.id, profile.id).await.unwrap().unwrap();
        assert_eq!(shown.profile.value, profile.withheld());
    }
}

#[tokio::test]
async fn profiles_read_back_exactly_and_list_oldest_first_in_pages() {
    let f = fixture().await;
    let owner = customer(ResellerId::from_uuid(Uuid::now_v7()));
    f.customers.insert(&owner, &event(), None).await.unwrap();
    let (first, second) = (kazoo(owner.id, "k-read"), three_cx(owner.id, "L-read"));
    f.profiles.insert(&first, now()).await.unwrap();
    f.profiles.insert(&second, now() + chrono::Duration::seconds(1)).await.unwrap();

    let read = f.profiles.find(owner.id, second.id).await.unwrap().unwrap();
    assert_eq!(read, pbx_application::Versioned { value: second.clone(), version: 1 });
    let elsewhere = CustomerId::from_uuid(Uuid::now_v7());
    assert_eq!(f.profiles.find(elsewhere, second.id).await.unwrap(), None, "under another customer");
    let visible = f.profiles.find_visible(owner.reseller_id, owner.id, second.id).await.unwrap();
    let shown = pbx_application::Versioned { value: second.clone().withheld(), version: 1 };
    let shown = pbx_application::ShownProfile { profile: shown, connection: Default::default() };
    assert_eq!(visible.as_ref(), Some(&shown), "as the owner's reseller sees it, without secrets, never checked");
    let stranger = ResellerId::from_uuid(Uuid::now_v7());
    assert_eq!(f.profiles.find_visible(stranger, owner.id, second.id).await.unwrap(), None, "to another reseller");
    assert_eq!(f.profiles.find_visible(owner.reseller_id, elsewhere, second.id).await.unwrap(), None);
    let to_change = f.profiles.find_to_change(owner.reseller_id, owner.id, second.id).await.unwrap();
    let customer_country = owner.details.country_code;
    let expected = pbx_application::ProfileToChange {
        current: pbx_application::Versioned { value: read.value.clone().withheld(), version: 1 },
        customer_country,
        connection: Default::default(),
    };
    assert_eq!(to_change, Some(expected), "no secret, the customer's country and the status (none kept), one query");
    let created = f.profiles.find_created(owner.reseller_id, owner.id, second.id).await.unwrap();
    let expected =
        pbx_application::ProfileToChange { current: read.clone(), customer_country, connection: Default::default() };
    assert_eq!(created, Some(expected), "what a replay shows: the secrets decrypted");
    assert_eq!(f.profiles.find_to_change(stranger, owner.id, second.id).await.unwrap(), None, "another reseller's");
    assert_eq!(f.profiles.find_to_change(owner.reseller_id, elsewhere, second.id).await.unwrap(), None);

    let page = |index, size| pbx_application::Page { index, size };
    let all: Vec<PbxId> = f.profiles.list(owner.id, page(0, 10)).await.unwrap().into_iter().map(|s| s.id).collect();
    assert_eq!(all, [first.id, second.id]);
    let second_page = f.profiles.list(owner.id, page(1, 1)).await.unwrap();
    assert_eq!(second_page.len(), 1);
    assert_eq!(second_page[0].pbx_type, PbxType::ThreeCx);
    assert!(f.profiles.list(owner.id, page(2, 1)).await.unwrap().is_empty());
}

#[tokio::test]
async fn updates_and_deletes_check_the_version() {
    let f = fixture().await;
    let owner = customer(ResellerId::from_uuid(Uuid::now_v7()));
    f.customers.insert(&owner, &event(), None).await.unwrap();
    let mut profile = kazoo(owner.id, "k-version");
    f.profiles.insert(&profile, now()).await.unwrap();
    let taken = kazoo(owner.id, "k-taken");
    f.profiles.insert(&taken, now()).await.unwrap();

    let before = profile.clone().withheld();
    profile.enabled = true;
    let after = profile.clone().withheld();
    assert_eq!(f.profiles.update(&before, &after, None, 1, &event()).await.unwrap(), 2);
    assert!(matches!(f.profiles.update(&before, &after, None, 1, &event()).await, Err(WriteError::VersionMismatch)));
    let read = f.profiles.find(owner.id, profile.id).await.unwrap().unwrap();
    assert_eq!(read.value, profile, "enabled, the API key kept as stored (never read)");
    assert_eq!(read.version, 2);

    let clash = PbxProfile { connection: taken.connection.clone(), ..profile.clone() }.withheld();
    assert!(matches!(f.profiles.update(&after, &clash, None, 2, &event()).await, Err(WriteError::InstanceAttached)));

    // A written key is stored (encrypted, bound to the row); the other columns are left as they are.
    let other = f.profiles.find(owner.id, taken.id).await.unwrap().unwrap().value.withheld();
    let key = Secret::parse("ROTATED").unwrap();
    assert_eq!(f.profiles.update(&other, &other, Some(key), 1, &event()).await.unwrap(), 2);
    let rotated = f.profiles.find(owner.id, taken.id).await.unwrap().unwrap();
    let PbxConnection::Kazoo(kazoo) = &rotated.value.connection else { unreachable!() };
    assert_eq!(kazoo.api_key.expose(), "ROTATED");
    assert_eq!(rotated.value.clone().withheld(), other, "nothing else changed");

    let reseller = owner.reseller_id;
    assert!(matches!(
        f.profiles.delete(reseller, owner.id, profile.id, Some(1), &event()).await,
        Err(WriteError::VersionMismatch)
    ));
    let stranger = ResellerId::from_uuid(Uuid::now_v7());
    let foreign = f.profiles.delete(stranger, owner.id, profile.id, Some(2), &event()).await;
    assert!(matches!(foreign, Err(WriteError::NotFound)), "another reseller deletes nothing: {foreign:?}");
    f.profiles.delete(reseller, owner.id, profile.id, Some(2), &event()).await.unwrap();
    let gone = f.profiles.delete(reseller, owner.id, profile.id, None, &event()).await;
    assert!(matches!(gone, Err(WriteError::NotFound)));
    assert!(!f.profiles.instance_attached(PbxType::Kazoo, "k-version").await.unwrap(), "attachable again");
}

#[tokio::test]
async fn an_instance_is_found_with_its_owner() {
    let f = fixture().await;
    let reseller = ResellerId::from_uuid(Uuid::now_v7());
    let owner = customer(reseller);
    f.customers.insert(&owner, &event(), None).await.unwrap();
    let profile = three_cx(owner.id, "L-owner");
    f.profiles.insert(&profile, now()).await.unwrap();

    let found = f.profiles.find_instance("L-owner").await.unwrap().unwrap();
    assert_eq!((found.pbx_id, found.customer_id, found.reseller_id), (profile.id, owner.id, reseller));
    assert_eq!(f.profiles.find_instance("nobody").await.unwrap(), None);
}

#[tokio::test]
async fn customers_filter_by_name_or_reference_in_any_case_and_wildcards_are_literal() {
    let f = fixture().await;
    let reseller = ResellerId::from_uuid(Uuid::now_v7());
    let named = |name: &str, reference: Option<&str>, second: i64| {
        let mut c = customer(reseller);
        c.details.name = CustomerName::parse(name).unwrap();
        c.details.reference = reference.map(|r| pbx_domain::OptionalText::parse(r).unwrap());
        c.date_created = now() + chrono::Duration::seconds(second);
        c
    };
    for c in [
        named("Acme Corp", None, 0),
        named("Globex", Some("ACME-7"), 1),
        named("100% Pure", None, 2),
        named("Initech", None, 3),
    ] {
        f.customers.insert(&c, &event(), None).await.unwrap();
    }
    f.customers.insert(&customer(ResellerId::from_uuid(Uuid::now_v7())), &event(), None).await.unwrap();

    let page = pbx_application::Page { index: 0, size: 100 };
    let names = |list: Vec<Customer>| list.into_iter().map(|c| c.details.name.to_string()).collect::<Vec<_>>();
    let list = |filter: Option<&str>| f.customers.list(reseller, filter.map(str::to_owned), page);
    assert_eq!(names(list(None).await.unwrap()), ["Acme Corp", "Globex", "100% Pure", "Initech"]);
    assert_eq!(names(list(Some("acme")).await.unwrap()), ["Acme Corp", "Globex"]);
    assert_eq!(names(list(Some("0%")).await.unwrap()), ["100% Pure"]);
    assert!(list(Some("_")).await.unwrap().is_empty(), "an underscore is not a wildcard");
}

#[tokio::test]
async fn a_customer_with_profiles_cannot_be_deleted() {
    let f = fixture().await;
    let reseller = ResellerId::from_uuid(Uuid::now_v7());
    let mut owner = customer(reseller);
    f.customers.insert(&owner, &event(), None).await.unwrap();
    let profile = kazoo(owner.id, "k-in-use");
    f.profiles.insert(&profile, now()).await.unwrap();

    let in_use = f.customers.delete(reseller, owner.id, None, &event()).await;
    assert!(matches!(in_use, Err(WriteError::InUse)), "{in_use:?}");
    owner.details.enabled = true;
    assert_eq!(f.customers.update(&owner, 1, &event()).await.unwrap(), 2);
    assert!(matches!(f.customers.update(&owner, 1, &event()).await, Err(WriteError::VersionMismatch)));
    f.profiles.delete(reseller, owner.id, profile.id, None, &event()).await.unwrap();
    let stranger = ResellerId::from_uuid(Uuid::now_v7());
    assert!(matches!(f.customers.delete(stranger, owner.id, None, &event()).await, Err(WriteError::NotFound)));
    assert!(matches!(
        f.customers.delete(reseller, owner.id, Some(1), &event()).await,
        Err(WriteError::VersionMismatch)
    ));
    f.customers.delete(reseller, owner.id, Some(2), &event()).await.unwrap();
    assert_eq!(f.customers.find(reseller, owner.id).await.unwrap(), None);
}

#[tokio::test]
async fn a_rotation_re_encrypts_every_secret_under_the_new_key() {
    let f = fixture().await;
    let owner = customer(ResellerId::from_uuid(Uuid::now_v7()));
    f.customers.insert(&owner, &event(), None).await.unwrap();
    for i in 0..3 {
        f.profiles.insert(&kazoo(owner.id, &format!("k-rot-{i}")), now()).await.unwrap();
    }
    let new_key = [77u8; 32];
    let rotated = f.cipher.rotated_to(&new_key).unwrap();

    let report = pbx_infra::rotation::re_encrypt_all(&f.db, &rotated).await.unwrap();
    assert_eq!((report.re_encrypted, report.already_current), (3, 0));
    let again = pbx_infra::rotation::re_encrypt_all(&f.db, &rotated).await.unwrap();
    assert_eq!((again.re_encrypted, again.already_current), (0, 3));

    // Only the new key is needed now.
    let new_only = SeaOrmPbxRepository::new(f.db.clone(), SecretCipher::new(&new_key).unwrap());
    let listed = new_only.list(owner.id, pbx_application::Page { index: 0, size: 10 }).await.unwrap();
    for summary in listed {
        let profile = new_only.find(owner.id, summary.id).await.unwrap().unwrap().value;
        let PbxConnection::Kazoo(kazoo) = profile.connection else { panic!("a Kazoo profile") };
        assert_eq!(kazoo.api_key.expose(), "ABCDEF-very-secret-key");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_inserts_each_get_their_own_answer_and_only_the_answered_rows_exist() {
    // On SQLite they are committed in groups: a duplicate in a group fails alone, the others of the group commit.
    let f = fixture().await;
    let owner = customer(ResellerId::from_uuid(Uuid::now_v7()));
    f.customers.insert(&owner, &event(), None).await.unwrap();
    let profiles = Arc::new(f.profiles.clone());
    let mut inserts = tokio::task::JoinSet::new();
    for n in 0..60 {
        // Every third instance is sent twice.
        let instance = if n % 3 == 2 { format!("group-{}", n - 1) } else { format!("group-{n}") };
        let (profiles, profile) = (Arc::clone(&profiles), kazoo(owner.id, &instance));
        inserts.spawn(async move { (instance, profile.id, profiles.insert(&profile, now()).await) });
    }
    let (mut created, mut refused) = (std::collections::BTreeMap::new(), 0);
    while let Some(result) = inserts.join_next().await {
        let (instance, id, outcome) = result.unwrap();
        match outcome {
            Ok(()) => assert!(created.insert(instance, id).is_none(), "an instance created twice"),
            Err(InsertPbxError::InstanceAttached) => refused += 1,
            Err(e) => panic!("insert failed: {e}"),
        }
    }
    assert_eq!((created.len(), refused), (40, 20));
    let page = pbx_application::Page { index: 0, size: 1000 };
    let stored: std::collections::BTreeSet<PbxId> =
        f.profiles.list(owner.id, page).await.unwrap().into_iter().map(|s| s.id).collect();
    assert_eq!(stored, created.values().copied().collect(), "exactly the rows answered as created");
}

#[tokio::test]
async fn accounts_are_their_parents_and_leave_only_once_they_have_no_customer() {
    let f = fixture().await;
    let accounts = SeaOrmAccountRepository::new(f.db.clone());
    let (parent, stranger) = (ResellerId::from_uuid(Uuid::now_v7()), ResellerId::from_uuid(Uuid::now_v7()));
    let new_account = |name: &str| Account {
        id: ResellerId::from_uuid(Uuid::now_v7()),
        parent,
        date_created: now(),
        details: NewCustomer::named(CustomerName::parse(name).unwrap()),
    };
    let (north, south) = (new_account("Brand North"), new_account("Brand South"));
    accounts.insert(&north, None).await.unwrap();
    accounts.insert(&south, None).await.unwrap();
    assert_eq!(accounts.find(north.id).await.unwrap().unwrap().value, north);
    let page = pbx_application::Page { index: 0, size: 10 };
    let names = |list: Vec<Account>| list.into_iter().map(|a| a.details.name.to_string()).collect::<Vec<_>>();
    assert_eq!(names(accounts.list(parent, None, page).await.unwrap()), ["Brand North", "Brand South"]);
    assert_eq!(names(accounts.list(parent, Some("SOUTH".into()), page).await.unwrap()), ["Brand South"]);
    assert!(accounts.list(stranger, None, page).await.unwrap().is_empty());

    let renamed = Account { details: NewCustomer::named(CustomerName::parse("Brand Nord").unwrap()), ..north.clone() };
    assert_eq!(accounts.update(&renamed, 1).await.unwrap(), 2);
    assert!(matches!(accounts.update(&renamed, 1).await, Err(WriteError::VersionMismatch)));
    let foreign = Account { parent: stranger, ..renamed.clone() };
    assert!(matches!(accounts.update(&foreign, 2).await, Err(WriteError::NotFound)), "another tenant's");

    // A customer of the account (its tenant id is the customer's reseller) keeps it.
    f.customers.insert(&customer(north.id), &event(), None).await.unwrap();
    assert!(matches!(accounts.delete(parent, north.id, None).await, Err(WriteError::InUse)));
    assert!(matches!(accounts.delete(stranger, south.id, None).await, Err(WriteError::NotFound)));
    assert!(matches!(accounts.delete(parent, south.id, Some(5)).await, Err(WriteError::VersionMismatch)));
    accounts.delete(parent, south.id, Some(1)).await.unwrap();
    assert_eq!(accounts.find(south.id).await.unwrap(), None);
    assert!(matches!(accounts.delete(parent, south.id, None).await, Err(WriteError::NotFound)));
}

// Idempotency keys: a key written in its create's transaction, a taken key writing nothing (under concurrent creates
// too), a failed create leaving its key free, expiry and purge.

fn at(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000 + seconds, 0).unwrap()
}

fn key(reseller: ResellerId, key: &str, resource_id: Uuid, created_at: DateTime<Utc>) -> KeyRecord {
    KeyRecord { reseller, key: key.to_owned(), fingerprint: "fp".to_owned(), resource_id, created_at }
}

#[tokio::test]
async fn a_key_is_written_with_its_create_and_a_taken_key_writes_nothing() {
    let f = fixture().await;
    let keys = SeaOrmIdempotencyStore::new(f.db.clone());
    let reseller = ResellerId::from_uuid(Uuid::now_v7());
    let first = customer(reseller);
    let record = key(reseller, "k1", first.id.as_uuid(), at(0));
    f.customers.insert(&first, &event(), Some(record)).await.unwrap();
    let kept = keys.find(reseller, "k1").await.unwrap().unwrap();
    assert_eq!((kept.fingerprint.as_str(), kept.resource_id, kept.created_at), ("fp", first.id.as_uuid(), at(0)));

    let second = customer(reseller);
    let taken = f.customers.insert(&second, &event(), Some(key(reseller, "k1", second.id.as_uuid(), at(1)))).await;
    assert!(matches!(taken, Err(WriteError::KeyTaken)), "{taken:?}");
    assert!(f.customers.find(reseller, second.id).await.unwrap().is_none(), "nothing of the create written");
    let other = ResellerId::from_uuid(Uuid::now_v7());
    let theirs = customer(other);
    f.customers.insert(&theirs, &event(), Some(key(other, "k1", theirs.id.as_uuid(), at(1)))).await.unwrap();

    // A create that fails commits nothing, its key included: the key is free for the next.
    let profile = kazoo(first.id, "acct-1");
    f.profiles.insert_for_reseller(reseller, &profile, false, at(0), event(), None).await.unwrap();
    let again = kazoo(first.id, "acct-1");
    let refused = f
        .profiles
        .insert_for_reseller(
            reseller,
            &again,
            false,
            at(0),
            event(),
            Some(key(reseller, "k2", again.id.as_uuid(), at(0))),
        )
        .await;
    assert!(matches!(refused, Err(InsertPbxError::InstanceAttached)), "{refused:?}");
    assert!(keys.find(reseller, "k2").await.unwrap().is_none());
    let fixed = kazoo(first.id, "acct-2");
    let record = key(reseller, "k2", fixed.id.as_uuid(), at(0));
    f.profiles.insert_for_reseller(reseller, &fixed, false, at(0), event(), Some(record)).await.unwrap();
    assert_eq!(keys.find(reseller, "k2").await.unwrap().unwrap().resource_id, fixed.id.as_uuid());

    // An expired row is forgotten only as it was read; the purge takes what is older than its bound.
    keys.forget(reseller, "k1", at(5)).await.unwrap();
    assert!(keys.find(reseller, "k1").await.unwrap().is_some(), "another row than the one read");
    keys.forget(reseller, "k1", at(0)).await.unwrap();
    assert!(keys.find(reseller, "k1").await.unwrap().is_none());
    assert_eq!(keys.purge(at(1)).await.unwrap(), 1, "k2 (at 0); theirs at 1 stays");
    assert!(keys.find(other, "k1").await.unwrap().is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_creates_under_one_key_make_one() {
    let f = Arc::new(fixture().await);
    let keys = SeaOrmIdempotencyStore::new(f.db.clone());
    let reseller = ResellerId::from_uuid(Uuid::now_v7());
    let owner = customer(reseller);
    f.customers.insert(&owner, &event(), None).await.unwrap();
    let now = Utc::now();
    let mut creates = tokio::task::JoinSet::new();
    for i in 0..20 {
        let f = Arc::clone(&f);
        creates.spawn(async move {
            if i % 2 == 0 {
                let c = customer(reseller);
                let record = key(reseller, "same-customer", c.id.as_uuid(), now);
                f.customers.insert(&c, &event(), Some(record)).await.map_err(|e| matches!(e, WriteError::KeyTaken))
            } else {
                // Each its own instance: only the key can stop them.
                let p = kazoo(owner.id, &format!("acct-{i}"));
                let record = key(reseller, "same-profile", p.id.as_uuid(), now);
                f.profiles
                    .insert_for_reseller(reseller, &p, true, now, event(), Some(record))
                    .await
                    .map(|_| ())
                    .map_err(|e| matches!(e, InsertPbxError::KeyTaken))
            }
        });
    }
    let outcomes: Vec<Result<(), bool>> = creates.join_all().await;
    assert_eq!(outcomes.iter().filter(|o| o.is_ok()).count(), 2, "one create a key: {outcomes:?}");
    assert!(outcomes.iter().all(|o| matches!(o, Ok(()) | Err(true))), "the others find the key taken: {outcomes:?}");
    let customers = f.customers.list(reseller, None, pbx_application::Page { index: 0, size: 100 }).await.unwrap();
    assert_eq!(customers.len(), 2, "the owner and one more");
    let profiles = f.profiles.list(owner.id, pbx_application::Page { index: 0, size: 100 }).await.unwrap();
    assert_eq!(profiles.len(), 1);
    let made = keys.find(reseller, "same-profile").await.unwrap().unwrap();
    assert_eq!(made.resource_id, profiles[0].id.as_uuid(), "the key names what was made");
    assert!(now - made.created_at < chrono::TimeDelta::seconds(1));
}
