//! Connection status in the database (SQLite by default, PostgreSQL or MySQL/MariaDB with `PBX_TEST_BACKEND`):
//! leases, revisions, the reset by a change of a connection field, the periodic checks due, and many writers at
//! once recording each change of state once.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

use chrono::{DateTime, TimeDelta, Utc};
use pbx_application::connection::{Begun, ConnectionStore, Saved};
use pbx_application::{CustomerRepository, PbxRepository};
use pbx_domain::connection::{Checked, CollectorReport, CollectorState, ConditionType, Findings, Reason};
use pbx_domain::events::EventType;
use pbx_domain::{
    CountryCode, Customer, CustomerId, CustomerName, NewCustomer, PbxConnection, PbxId, PbxProfile, PbxType,
    ProfileName, ResellerId,
};
use pbx_infra::testing::{TestDatabase, event};
use pbx_infra::{
    Database, PoolSettings, SeaOrmConnectionStore, SeaOrmCustomerRepository, SeaOrmPbxRepository, SecretCipher,
};
use uuid::Uuid;

struct Fixture {
    _test_db: TestDatabase,
    db: Database,
    profiles: SeaOrmPbxRepository,
    store: SeaOrmConnectionStore,
    reseller: ResellerId,
}

async fn fixture() -> Fixture {
    let test_db = TestDatabase::create().await.unwrap();
    let db = Database::connect(test_db.url(), &PoolSettings::default()).await.unwrap();
    db.migrate().await.unwrap();
    let profiles = SeaOrmPbxRepository::new(db.clone(), SecretCipher::new(&[42; 32]).unwrap());
    let store = SeaOrmConnectionStore::new(db.clone());
    Fixture { _test_db: test_db, db, profiles, store, reseller: ResellerId::from_uuid(Uuid::now_v7()) }
}

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp_millis(Utc::now().timestamp_millis()).unwrap()
}

impl Fixture {
    async fn profile(&self, pbx_type: PbxType, enabled: bool) -> PbxProfile {
        let customer = Customer {
            id: CustomerId::from_uuid(Uuid::now_v7()),
            reseller_id: self.reseller,
            date_created: now(),
            details: NewCustomer::named(CustomerName::parse("Acme").unwrap()),
            options: pbx_domain::CustomerOptions::default(),
        };
        SeaOrmCustomerRepository::new(self.db.clone()).insert(&customer, &event(), None).await.unwrap();
        let mut connection = PbxConnection::example(pbx_type);
        if let PbxConnection::Kazoo(kazoo) = &mut connection {
            kazoo.account_id = pbx_domain::kazoo::AccountId::parse(&Uuid::now_v7().simple().to_string()).unwrap();
        }
        if let PbxConnection::Teams(teams) = &mut connection {
            teams.microsoft_tenant_id =
                pbx_domain::teams::MicrosoftTenantId::parse(&Uuid::now_v7().to_string()).unwrap();
        }
        let mut profile = PbxProfile::new(
            PbxId::from_uuid(Uuid::now_v7()),
            customer.id,
            ProfileName::parse("Main").unwrap(),
            CountryCode::US,
            connection,
        );
        profile.enabled = enabled;
        self.profiles.insert_for_reseller(self.reseller, &profile, false, now(), event(), None).await.unwrap();
        profile
    }
}

fn failed(at: DateTime<Utc>, reason: Reason) -> Checked {
    let mut findings = Findings::default();
    findings.fails(ConditionType::Authenticated, reason);
    Checked::new(findings, &pbx_domain::kazoo::check::CONDITIONS, None, at)
}

fn changed_event() -> pbx_application::NewEvent {
    pbx_application::NewEvent { event_type: EventType::PbxConnectionChanged, ..event() }
}

#[tokio::test]
async fn a_check_holds_its_profile_and_one_starts_per_interval() {
    let f = fixture().await;
    let profile = f.profile(PbxType::Kazoo, true).await;
    let (t, until) = (now(), now() + TimeDelta::seconds(15));
    assert_eq!(f.store.kept(profile.id).await.unwrap().revision, 0, "nothing kept yet");
    let Begun::Started(kept) = f.store.begin(profile.id, "r1", t, until, t - TimeDelta::seconds(10)).await.unwrap()
    else {
        panic!("the first check starts")
    };
    assert_eq!((kept.revision, kept.checking_by.as_deref()), (1, Some("r1")));
    assert_eq!(kept.status.checking_until, Some(until));
    let again = f.store.begin(profile.id, "r2", t, until, t - TimeDelta::seconds(10)).await.unwrap();
    assert_eq!(again, Begun::Running, "another replica leaves it");
    let saved =
        f.store.finish(profile.id, 1, &failed(t, Reason::InvalidCredentials), until, 1, Some(changed_event())).await;
    assert_eq!(saved.unwrap(), Saved::Saved);
    let stale = f.store.finish(profile.id, 1, &failed(t, Reason::Timeout), until, 1, None).await.unwrap();
    assert_eq!(stale, Saved::Moved, "a write at an old revision writes nothing");
    let kept = f.store.kept(profile.id).await.unwrap();
    assert_eq!((kept.revision, kept.failures, kept.status.checking_until), (2, 1, None));
    assert_eq!(kept.status.checked.unwrap().failed().unwrap().reason, Some(Reason::InvalidCredentials));
    let soon = t + TimeDelta::seconds(5);
    let recent =
        f.store.begin(profile.id, "r2", soon, soon + TimeDelta::seconds(15), soon - TimeDelta::seconds(10)).await;
    assert!(matches!(recent.unwrap(), Begun::Recent(_)), "one started 5 s ago");
    let later = t + TimeDelta::seconds(11);
    let started =
        f.store.begin(profile.id, "r2", later, later + TimeDelta::seconds(15), later - TimeDelta::seconds(10)).await;
    assert!(matches!(started.unwrap(), Begun::Started(_)));
}

#[tokio::test]
async fn the_status_shows_in_reads_and_a_change_of_a_connection_field_resets_it() {
    let f = fixture().await;
    let profile = f.profile(PbxType::Kazoo, true).await;
    let t = now();
    assert!(matches!(f.store.begin(profile.id, "r1", t, t, t).await.unwrap(), Begun::Started(_)));
    f.store.finish(profile.id, 1, &failed(t, Reason::AccountDisabled), t, 1, None).await.unwrap();
    let report = CollectorReport {
        state: CollectorState::Connected,
        reason: None,
        message: None,
        last_seen_at: t,
        last_event_at: None,
    };
    assert_eq!(f.store.report(profile.id, 2, &report, None).await.unwrap(), Saved::Saved);
    let shown = f.profiles.find_visible(f.reseller, profile.customer_id, profile.id).await.unwrap().unwrap();
    assert_eq!(shown.connection.collector, Some(report.clone()));
    assert_eq!(shown.connection.checked.as_ref().unwrap().failed().unwrap().reason, Some(Reason::AccountDisabled));
    assert_eq!(shown.profile.version, 1, "a check never changes the profile's version");
    let listed = f.profiles.list(profile.customer_id, pbx_application::Page { index: 0, size: 10 }).await.unwrap();
    assert_eq!(listed[0].connection, shown.connection);
    let to_change = |id| f.profiles.find_to_change(f.reseller, profile.customer_id, id);
    assert_eq!(to_change(profile.id).await.unwrap().unwrap().connection, shown.connection, "what a patch reads");

    // A rename keeps the status; a new API key forgets the check (not the collector's report).
    let mut renamed = profile.clone();
    renamed.name = ProfileName::parse("Renamed").unwrap();
    let rename = pbx_application::NewEvent { changed: Some(vec!["name".to_owned()]), ..event() };
    let (before, after) = (profile.clone().withheld(), renamed.clone().withheld());
    f.profiles.update(&before, &after, None, 1, &rename).await.unwrap();
    assert!(f.store.kept(profile.id).await.unwrap().status.checked.is_some());
    let rekey = pbx_application::NewEvent { changed: Some(vec!["apiKey".to_owned()]), ..event() };
    let key = pbx_domain::Secret::parse("NEWKEY").unwrap();
    f.profiles.update(&after, &after, Some(key), 2, &rekey).await.unwrap();
    let kept = f.store.kept(profile.id).await.unwrap();
    let after = to_change(profile.id).await.unwrap().unwrap().connection;
    assert_eq!(after, shown.connection.clone().after_connection_change(), "the store resets as the domain says");
    assert_eq!((kept.status.checked, kept.status.collector, kept.failures), (None, Some(report), 0));
    // A profile never checked: the reset creates its row.
    let other = f.profile(PbxType::Teams, false).await;
    let retenant = pbx_application::NewEvent { changed: Some(vec!["microsoftTenantId".to_owned()]), ..event() };
    let other = other.withheld();
    f.profiles.update(&other, &other, None, 1, &retenant).await.unwrap();
    assert_eq!(f.store.kept(other.id).await.unwrap().revision, 1);
}

#[tokio::test]
async fn enabled_checkable_profiles_come_due_and_deleted_ones_take_their_status_along() {
    let f = fixture().await;
    let (kazoo, teams, three_cx, disabled) = (
        f.profile(PbxType::Kazoo, true).await,
        f.profile(PbxType::Teams, true).await,
        f.profile(PbxType::ThreeCx, true).await,
        f.profile(PbxType::Kazoo, false).await,
    );
    let t = now();
    let due: Vec<PbxId> = f.store.due(t, 100).await.unwrap().into_iter().map(|d| d.pbx_id).collect();
    assert!(due.contains(&kazoo.id) && due.contains(&teams.id), "never checked: due");
    assert!(!due.contains(&three_cx.id) && !due.contains(&disabled.id), "not checkable, or disabled");
    let owner = f.store.due(t, 100).await.unwrap().into_iter().find(|d| d.pbx_id == kazoo.id).unwrap();
    assert_eq!((owner.customer_id, owner.reseller_id), (kazoo.customer_id, f.reseller));
    assert!(matches!(
        f.store.begin(kazoo.id, "r1", t, t + TimeDelta::seconds(15), t).await.unwrap(),
        Begun::Started(_)
    ));
    let due: Vec<PbxId> = f.store.due(t, 100).await.unwrap().into_iter().map(|d| d.pbx_id).collect();
    assert!(!due.contains(&kazoo.id), "held by a check");
    f.store.finish(kazoo.id, 1, &failed(t, Reason::Timeout), t + TimeDelta::hours(6), 1, None).await.unwrap();
    assert!(!f.store.due(t, 100).await.unwrap().iter().any(|d| d.pbx_id == kazoo.id), "checked: due in 6 h");
    assert!(f.store.due(t + TimeDelta::hours(7), 100).await.unwrap().iter().any(|d| d.pbx_id == kazoo.id));

    let deleted = pbx_application::NewEvent { event_type: EventType::PbxDeleted, ..event() };
    f.profiles.delete(f.reseller, kazoo.customer_id, kazoo.id, None, &deleted).await.unwrap();
    assert_eq!(f.store.kept(kazoo.id).await.unwrap().revision, 0, "the status went with the profile");
    assert_eq!(f.store.begin(kazoo.id, "r1", t, t, t).await.unwrap(), Begun::Gone);
    let report = CollectorReport {
        state: CollectorState::Failed,
        reason: None,
        message: None,
        last_seen_at: t,
        last_event_at: None,
    };
    assert_eq!(f.store.report(kazoo.id, 0, &report, None).await.unwrap(), Saved::Gone);
}

#[tokio::test]
async fn of_many_writers_at_one_revision_one_writes() {
    let f = fixture().await;
    let profile = f.profile(PbxType::ThreeCx, true).await;
    let t = now();
    let writers: Vec<_> = (0..16)
        .map(|i| {
            let store = f.store.clone();
            let state = if i % 2 == 0 { CollectorState::Connected } else { CollectorState::Failed };
            let report = CollectorReport { state, reason: None, message: None, last_seen_at: t, last_event_at: None };
            tokio::spawn(async move { store.report(profile.id, 0, &report, Some(changed_event())).await.unwrap() })
        })
        .collect();
    let mut saved = 0;
    for writer in writers {
        saved += usize::from(writer.await.unwrap() == Saved::Saved);
    }
    assert_eq!(saved, 1, "the others must read again");
    assert_eq!(f.store.kept(profile.id).await.unwrap().revision, 1);
}
