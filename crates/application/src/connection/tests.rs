use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use pbx_domain::PbxType;
use pbx_domain::connection::{ConditionType, ConnectionState, Reason};
use pbx_domain::events::EventType;
use uuid::Uuid;

use super::*;
use crate::events::{test_actor, test_recorder};
use crate::ports::{MockCustomerRepository, MockPbxRepository, Versioned};

fn ports(
    prober: impl Prober + 'static,
    store: impl ConnectionStore + 'static,
    profile: Option<PbxProfile>,
) -> CheckPorts {
    let mut profiles = MockPbxRepository::new();
    profiles.expect_find().returning(move |_, _| Ok(profile.clone().map(|value| Versioned { value, version: 1 })));
    let mut customers = MockCustomerRepository::new();
    customers.expect_reseller_of().returning(|_| Ok(Some(ResellerId::from_uuid(Uuid::from_u128(1)))));
    CheckPorts {
        prober: Arc::new(prober),
        store: Arc::new(store),
        profiles: Arc::new(profiles),
        customers: Arc::new(customers),
        recorder: test_recorder(),
        clock: Arc::new(crate::system::SystemClock),
    }
}

pub(super) fn checks(prober: MockProber) -> Checks {
    Checks::new(ports(prober, MockConnectionStore::new(), None), Schedule::default(), "r1".to_owned())
}

fn kazoo() -> PbxProfile {
    let (id, customer) = (PbxId::from_uuid(Uuid::from_u128(3)), CustomerId::from_uuid(Uuid::from_u128(2)));
    let name = pbx_domain::ProfileName::parse("K").unwrap();
    let country = pbx_domain::CountryCode::parse("US").unwrap();
    PbxProfile::new(id, customer, name, country, PbxConnection::example(PbxType::Kazoo))
}

#[tokio::test]
async fn an_uncheckable_type_makes_no_request() {
    let mut prober = MockProber::new();
    prober.expect_probe().never();
    let shown = checks(prober).check_unsaved(&PbxConnection::example(PbxType::ThreeCx)).await;
    assert_eq!((shown.state, shown.reason.as_deref()), (ConnectionState::Unknown, Some("NotCheckable")));
}

#[tokio::test]
async fn a_dry_run_summarises_the_findings() {
    let mut prober = MockProber::new();
    prober.expect_probe().times(1).returning(|_| {
        let mut findings = Findings::default();
        findings.holds(ConditionType::Authenticated);
        findings.fails(ConditionType::AccountMatches, Reason::AccountDisabled);
        findings
    });
    let shown = checks(prober).check_unsaved(&PbxConnection::example(PbxType::Kazoo)).await;
    assert_eq!((shown.state, shown.reason.as_deref()), (ConnectionState::Failed, Some("AccountDisabled")));
    assert_eq!(shown.conditions.len(), 3, "the event stream is listed, unknown");
}

#[tokio::test(start_paused = true)]
async fn a_prober_that_never_ends_is_cut_at_the_bound() {
    struct Silent;
    #[async_trait]
    impl Prober for Silent {
        async fn probe(&self, _: &PbxConnection) -> Findings {
            std::future::pending().await
        }
    }
    let checks = Checks::new(ports(Silent, MockConnectionStore::new(), None), Schedule::default(), "r1".to_owned());
    let started = tokio::time::Instant::now();
    let shown = checks.check_unsaved(&PbxConnection::example(PbxType::Kazoo)).await;
    assert_eq!(started.elapsed(), CHECK_TIMEOUT);
    assert_eq!(shown.reason.as_deref(), Some("Timeout"));
}

/// A prober whose every check finds `failure` on the first condition, or passes, counting its calls.
struct Counting {
    calls: Arc<AtomicU64>,
    failure: Option<Reason>,
}

#[async_trait]
impl Prober for Counting {
    async fn probe(&self, _: &PbxConnection) -> Findings {
        self.calls.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(50)).await;
        let mut findings = Findings::default();
        match self.failure {
            Some(reason) => findings.fails(ConditionType::Authenticated, reason),
            None => pbx_domain::kazoo::check::CONDITIONS.iter().for_each(|&c| findings.holds(c)),
        }
        findings
    }
}

/// A store that keeps nothing: every check begins, `finish` says saved and hands its event to `events`.
fn store(events: Arc<Mutex<Vec<crate::NewEvent>>>, before: Status) -> MockConnectionStore {
    let mut store = MockConnectionStore::new();
    let kept = Kept { status: before, revision: 1, checking_by: None, failures: 0 };
    store.expect_begin().returning(move |_, _, _, _, _| Ok(Begun::Started(kept.clone())));
    store.expect_finish().returning(move |_, revision, _, _, _, event| {
        assert_eq!(revision, 1);
        events.lock().unwrap().extend(event);
        Ok(Saved::Saved)
    });
    store
}

#[tokio::test]
async fn concurrent_requests_join_one_check_and_a_change_is_recorded_once() {
    let calls = Arc::new(AtomicU64::new(0));
    let events = Arc::new(Mutex::new(Vec::new()));
    let prober = Counting { calls: Arc::clone(&calls), failure: Some(Reason::InvalidCredentials) };
    let checks = Checks::new(
        ports(prober, store(Arc::clone(&events), Status::default()), Some(kazoo())),
        Schedule::default(),
        "r1".to_owned(),
    );
    let (reseller, actor) = (ResellerId::from_uuid(Uuid::from_u128(1)), test_actor());
    let profile = kazoo();
    let all = futures_join(&checks, &actor, reseller, &profile, 20).await;
    assert!(
        all.iter().all(|c| c.state == ConnectionState::Failed && c.reason.as_deref() == Some("InvalidCredentials"))
    );
    assert_eq!(calls.load(Ordering::SeqCst), 1, "one check for twenty requests");
    let events = events.lock().unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event_type, EventType::PbxConnectionChanged);
}

async fn futures_join(
    checks: &Checks,
    actor: &Actor,
    reseller: ResellerId,
    profile: &PbxProfile,
    n: usize,
) -> Vec<Connection> {
    let tasks: Vec<_> = (0..n)
        .map(|_| {
            let (checks, actor, profile) = (checks.clone(), actor.clone(), profile.clone());
            tokio::spawn(async move { checks.check(&actor, reseller, &profile, Join::Wait).await.unwrap() })
        })
        .collect();
    let mut shown = Vec::new();
    for task in tasks {
        shown.push(task.await.unwrap());
    }
    shown
}

#[tokio::test]
async fn a_check_that_changes_nothing_records_nothing() {
    let events = Arc::new(Mutex::new(Vec::new()));
    let calls = Arc::new(AtomicU64::new(0));
    let mut all = Findings::default();
    pbx_domain::kazoo::check::CONDITIONS.iter().for_each(|&c| all.holds(c));
    let before = Status {
        checked: Some(Checked::new(all, &pbx_domain::kazoo::check::CONDITIONS, None, chrono::Utc::now())),
        ..Status::default()
    };
    let prober = Counting { calls, failure: None };
    let checks = Checks::new(
        ports(prober, store(Arc::clone(&events), before), Some(kazoo())),
        Schedule::default(),
        "r1".to_owned(),
    );
    let shown =
        checks.check(&test_actor(), ResellerId::from_uuid(Uuid::from_u128(1)), &kazoo(), Join::Wait).await.unwrap();
    assert_eq!(shown.state, ConnectionState::Connected);
    assert!(events.lock().unwrap().is_empty(), "connected before, connected after");
}
