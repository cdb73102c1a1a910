//! The connection checks against fakes on loopback (CONTRACT §15): a Kazoo Crossbar, a blackhole websocket, an
//! Entra authority, and rude servers (silent, garbage, huge answers, not TLS, a full accept queue). Every reason a
//! check can produce is produced here; no answer ever carries the API key or the token.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

use std::sync::Arc;
use std::time::{Duration, Instant};

use pbx_application::connection::Prober;
use pbx_domain::connection::{ConditionType, Failure, Findings, Reason};
use pbx_domain::kazoo::{AccountId, KazooConnection};
use pbx_domain::teams::{MicrosoftTenantId, TeamsConnection};
use pbx_domain::{HttpUrl, PbxConnection, Secret, WsUrl};
use pbx_infra::checks::{EntraApplication, HttpProber};
use pbx_infra::fakes::{Answer, TOKEN, crossbar, entra, key};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};

async fn http_fake(route: fn(&str, &str, &serde_json::Value) -> Answer) -> String {
    pbx_infra::fakes::http(route).await.url
}

async fn blackhole() -> String {
    pbx_infra::fakes::blackhole().await.url
}

fn kazoo(rest: &str, websocket: &str, account: &str, api_key: &str) -> PbxConnection {
    KazooConnection {
        host_rest: HttpUrl::parse(rest).unwrap(),
        host_websocket: WsUrl::parse(websocket).unwrap(),
        account_id: AccountId::parse(account).unwrap(),
        api_key: Secret::parse(api_key).unwrap(),
        monitor_sub_accounts: false,
    }
    .into()
}

fn prober() -> HttpProber {
    HttpProber::new(true, "http://127.0.0.1:9".to_owned(), None).unwrap()
}

/// The failure of the last condition checked, asserting that the conditions before it held and that nothing of
/// the key or the token shows.
fn last_failure(findings: &Findings, api_key: &str) -> Option<(ConditionType, Failure)> {
    let shown = format!("{findings:?}");
    assert!(!shown.contains(TOKEN) && !shown.contains(api_key), "{shown}");
    let (failed, held): (Vec<_>, Vec<_>) = findings.conditions.iter().partition(|(_, f)| f.is_some());
    assert!(failed.len() <= 1 && findings.conditions.ends_with(&failed), "{findings:?}");
    assert_eq!(held.len() + failed.len(), findings.conditions.len());
    failed.first().map(|(c, f)| (*c, f.unwrap()))
}

#[tokio::test]
async fn a_working_kazoo_passes_every_condition_and_a_parents_key_reads_its_account() {
    let (rest, ws) = (http_fake(crossbar).await, blackhole().await);
    for (account, api_key) in [("acct1", key("good")), ("acct1", key("parent"))] {
        let findings = prober().probe(&kazoo(&rest, &format!("{ws}/ok"), account, &api_key)).await;
        assert_eq!(last_failure(&findings, &api_key), None);
        let checked: Vec<_> = findings.conditions.iter().map(|(c, _)| *c).collect();
        assert_eq!(checked, pbx_domain::kazoo::check::CONDITIONS);
    }
    // hostRest ending in /v2 does not repeat it.
    let findings = prober().probe(&kazoo(&format!("{rest}/v2"), &format!("{ws}/ok"), "acct1", &key("good"))).await;
    assert_eq!(last_failure(&findings, &key("good")), None);
}

#[tokio::test]
async fn each_kazoo_answer_has_its_reason() {
    let (rest, ws) = (http_fake(crossbar).await, blackhole().await);
    let ok = format!("{ws}/ok");
    use ConditionType::{AccountMatches, Authenticated, EventStream};
    let cases = [
        ("acct1", "short".to_owned(), ok.clone(), Authenticated, Reason::InvalidCredentials, Some(400)),
        ("acct1", key("nobody"), ok.clone(), Authenticated, Reason::InvalidCredentials, Some(404)),
        ("acct1", key("limited"), ok.clone(), Authenticated, Reason::RateLimited, Some(429)),
        ("acct1", key("garbage"), ok.clone(), Authenticated, Reason::UnexpectedResponse, Some(201)),
        ("acct1", key("huge"), ok.clone(), Authenticated, Reason::UnexpectedResponse, Some(201)),
        ("acct1", key("redirect"), ok.clone(), Authenticated, Reason::UnexpectedResponse, Some(307)),
        ("foreign", key("parent"), ok.clone(), AccountMatches, Reason::AccountMismatch, Some(403)),
        ("missing", key("parent"), ok.clone(), AccountMatches, Reason::AccountNotFound, Some(404)),
        ("disabled", key("parent"), ok.clone(), AccountMatches, Reason::AccountDisabled, None),
        ("acct1", key("good"), format!("{ws}/refuse"), EventStream, Reason::UnexpectedResponse, None),
    ];
    for (account, api_key, websocket, condition, reason, status) in cases {
        let findings = prober().probe(&kazoo(&rest, &websocket, account, &api_key)).await;
        let failure = last_failure(&findings, &api_key);
        assert_eq!(failure, Some((condition, Failure { reason, status })), "{account} {api_key} {websocket}");
    }
}

#[tokio::test]
async fn a_silent_websocket_or_server_times_out_within_the_bounds() {
    let (rest, ws) = (http_fake(crossbar).await, blackhole().await);
    let started = Instant::now();
    let findings = prober().probe(&kazoo(&rest, &format!("{ws}/silent"), "acct1", &key("good"))).await;
    assert_eq!(
        last_failure(&findings, &key("good")),
        Some((ConditionType::EventStream, Failure::new(Reason::Timeout)))
    );
    assert!(started.elapsed() < Duration::from_secs(7), "one exchange's bound: {:?}", started.elapsed());
    let silent = http_fake(|_, _, _| Answer::Silent).await;
    let started = Instant::now();
    let findings = prober().probe(&kazoo(&silent, &ws, "acct1", &key("good"))).await;
    assert_eq!(findings.conditions, [(ConditionType::Authenticated, Some(Failure::new(Reason::Timeout)))]);
    assert!(started.elapsed() <= Duration::from_secs(12), "{:?}", started.elapsed());
}

#[tokio::test]
async fn transport_failures_have_their_reasons() {
    let closed = {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        listener.local_addr().unwrap()
    };
    // A server that speaks first, and not TLS.
    let not_tls = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let not_tls_address = not_tls.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = not_tls.accept().await {
            let _ = stream.write_all(b"HTTP/1.1 400 This is not TLS\r\n\r\n").await;
        }
    });
    let not_tls = format!("https://{not_tls_address}");
    let ws = blackhole().await;
    let cases = [
        (format!("http://{closed}"), Reason::ConnectionRefused),
        (not_tls, Reason::TlsError),
        ("https://nothing.invalid".to_owned(), Reason::DnsFailure),
    ];
    for (rest, reason) in cases {
        let findings = prober().probe(&kazoo(&rest, &ws, "acct1", &key("good"))).await;
        assert_eq!(findings.conditions, [(ConditionType::Authenticated, Some(Failure::new(reason)))], "{rest}");
    }
    // The websocket's own transport.
    let rest = http_fake(crossbar).await;
    let findings = prober().probe(&kazoo(&rest, &format!("ws://{closed}/ok"), "acct1", &key("good"))).await;
    assert_eq!(
        last_failure(&findings, &key("good")),
        Some((ConditionType::EventStream, Failure::new(Reason::ConnectionRefused)))
    );
}

#[tokio::test]
async fn a_full_accept_queue_is_a_connect_timeout() {
    // A listener that never accepts, its queue filled: the next connection's SYN goes unanswered.
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    socket.bind(&"127.0.0.1:0".parse::<std::net::SocketAddr>().unwrap().into()).unwrap();
    socket.listen(0).unwrap();
    let address = socket.local_addr().unwrap().as_socket().unwrap();
    let mut held = Vec::new();
    for _ in 0..4 {
        if let Ok(Ok(stream)) = tokio::time::timeout(Duration::from_millis(200), TcpStream::connect(address)).await {
            held.push(stream);
        }
    }
    let started = Instant::now();
    let ws = blackhole().await;
    let findings = prober().probe(&kazoo(&format!("http://{address}"), &ws, "acct1", &key("good"))).await;
    let reason = findings.conditions[0].1.unwrap().reason;
    assert_eq!(reason, Reason::ConnectTimeout, "{findings:?}");
    assert!(started.elapsed() < Duration::from_secs(4), "the connect bound: {:?}", started.elapsed());
    drop((held, socket));
}

#[tokio::test]
async fn private_targets_and_plain_transports_are_refused_unless_allowed() {
    let strict = HttpProber::new(false, "http://127.0.0.1:9".to_owned(), None).unwrap();
    let (rest, ws) = (http_fake(crossbar).await, blackhole().await);
    let findings = strict.probe(&kazoo(&rest, &ws, "acct1", &key("good"))).await;
    assert_eq!(findings.conditions, [(ConditionType::Authenticated, Some(Failure::new(Reason::InsecureTransport)))]);
    for rest in ["https://127.0.0.1:9", "https://localhost:9", "https://[::1]:9", "https://169.254.169.254"] {
        let findings = strict.probe(&kazoo(rest, "wss://ws.example.com", "acct1", &key("good"))).await;
        let expected = [(ConditionType::Authenticated, Some(Failure::new(Reason::BlockedDestination)))];
        assert_eq!(findings.conditions, expected, "{rest}");
    }
}

fn teams(tenant: &str) -> PbxConnection {
    TeamsConnection { microsoft_tenant_id: MicrosoftTenantId::parse(tenant).unwrap() }.into()
}

#[tokio::test]
async fn teams_tenants_consent_and_permissions() {
    let authority = http_fake(entra).await;
    let application =
        EntraApplication { client_id: "app-id".to_owned(), client_secret: Secret::parse("app-secret").unwrap() };
    let with_app = HttpProber::new(true, authority.clone(), Some(application)).unwrap();
    let without_app = HttpProber::new(true, authority.clone(), None).unwrap();
    let tenant = |n: u8| format!("00000000-0000-0000-0000-00000000000{n}");
    use ConditionType::{Consented, TenantExists};
    let findings = with_app.probe(&teams(&tenant(1))).await;
    assert_eq!(findings.conditions, [(TenantExists, None), (Consented, None)]);
    let findings = with_app.probe(&teams(&tenant(2))).await;
    assert_eq!(findings.conditions[1], (Consented, Some(Failure::answered(Reason::ConsentMissing, 400))));
    let consent = findings.consent_url.unwrap();
    assert!(consent.starts_with(&format!("{authority}/{}/v2.0/adminconsent?client_id=app-id", tenant(2))), "{consent}");
    let findings = with_app.probe(&teams(&tenant(3))).await;
    assert_eq!(findings.conditions[1], (Consented, Some(Failure::new(Reason::PermissionMissing))));
    let findings = with_app.probe(&teams(&tenant(0))).await;
    assert_eq!(findings.conditions, [(TenantExists, Some(Failure::answered(Reason::TenantNotFound, 400)))]);
    let findings = without_app.probe(&teams(&tenant(2))).await;
    assert_eq!(findings.conditions, [(TenantExists, None)], "no application: consent is not checked");
    assert!(!format!("{findings:?}{:?}", with_app).contains("app-secret"));
}

#[tokio::test]
async fn checks_never_wait_on_each_other() {
    let rest = http_fake(|_, _, _| Answer::Silent).await;
    let (good_rest, ws) = (http_fake(crossbar).await, blackhole().await);
    let prober = Arc::new(prober());
    let slow: Vec<_> = (0..20)
        .map(|_| {
            let prober = Arc::clone(&prober);
            let connection = kazoo(&rest, &ws, "acct1", &key("good"));
            tokio::spawn(async move { prober.probe(&connection).await })
        })
        .collect();
    let started = Instant::now();
    let findings = prober.probe(&kazoo(&good_rest, &format!("{ws}/ok"), "acct1", &key("good"))).await;
    assert!(findings.all_hold(), "{findings:?}");
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
    for task in slow {
        task.abort();
    }
}
