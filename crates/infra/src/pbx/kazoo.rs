//! Kazoo in the database (its settings and its encrypted key) and on the wire of its connection check.

use anyhow::Context;
use pbx_domain::kazoo::{AccountId, KazooConnection};
use pbx_domain::{HttpUrl, Secret, WsUrl};
use serde::{Deserialize, Serialize};

use super::{Credential, StoredSecrets};

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Settings {
    host_rest: String,
    host_websocket: String,
    monitor_sub_accounts: bool,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Secrets {
    api_key: String,
}

/// The stored settings of a Kazoo connection: all but the account (the row's instance) and the key.
pub(super) fn settings<S>(kazoo: &KazooConnection<S>) -> anyhow::Result<serde_json::Value> {
    let settings = Settings {
        host_rest: kazoo.host_rest.to_string(),
        host_websocket: kazoo.host_websocket.to_string(),
        monitor_sub_accounts: kazoo.monitor_sub_accounts,
    };
    Ok(serde_json::to_value(settings)?)
}

/// The stored secrets of a Kazoo connection whose API key is `api_key`.
pub(super) fn secrets(api_key: &Secret) -> anyhow::Result<serde_json::Value> {
    Ok(serde_json::to_value(Secrets { api_key: api_key.expose().to_owned() })?)
}

/// Whether the stored settings of a Kazoo profile monitor its sub-accounts (`None` when they cannot be read).
pub(super) fn monitors_sub_accounts(settings: serde_json::Value) -> Option<bool> {
    serde_json::from_value::<Settings>(settings).ok().map(|s| s.monitor_sub_accounts)
}

pub(super) fn load<S: Credential>(
    instance_id: &str,
    settings: serde_json::Value,
    secrets: &StoredSecrets,
) -> anyhow::Result<KazooConnection<S>> {
    let settings: Settings = serde_json::from_value(settings).context("Kazoo settings")?;
    Ok(KazooConnection {
        host_rest: HttpUrl::stored(&settings.host_rest)?,
        host_websocket: WsUrl::stored(&settings.host_websocket)?,
        account_id: AccountId::parse(instance_id)?,
        api_key: S::read(secrets, |s: Secrets| s.api_key).context("Kazoo secrets")?,
        monitor_sub_accounts: settings.monitor_sub_accounts,
    })
}

/// A Kazoo check's transport: Crossbar over HTTP, then blackhole's websocket (see `pbx_domain::kazoo::check`).
pub(super) mod check {
    use futures_util::{SinkExt, StreamExt};
    use pbx_domain::connection::{ConditionType, Failure, Findings, Reason};
    use pbx_domain::kazoo::KazooConnection;
    use pbx_domain::kazoo::check::{self, Authenticated};
    use pbx_domain::webhook::check_addresses;
    use serde_json::Value;
    use tokio::net::TcpStream;
    use tokio_tungstenite::tungstenite::{self, Message, protocol::WebSocketConfig};

    use crate::checks::{Budget, HttpProber, MAX_ANSWER, refused_reason, transport_reason};
    use crate::outbound::resolve;

    pub(in crate::pbx) async fn probe(prober: &HttpProber, kazoo: &KazooConnection, budget: &Budget) -> Findings {
        let mut findings = Findings::default();
        // Decided before any connection: the key would travel in the clear.
        if kazoo.insecure() && !prober.allow_private {
            findings.fails(ConditionType::Authenticated, Reason::InsecureTransport);
            return findings;
        }
        let auth = prober.client.put(kazoo.auth_url()).json(&check::auth_body(kazoo.api_key.expose()));
        let authenticated = match prober.exchange(auth, budget).await.and_then(|(s, body)| check::read_auth(s, &body)) {
            Ok(authenticated) => authenticated,
            Err(failure) => {
                findings.fails(ConditionType::Authenticated, failure);
                return findings;
            }
        };
        findings.holds(ConditionType::Authenticated);
        let own = authenticated.account_id == kazoo.account_id.as_str();
        let account = prober.client.get(kazoo.account_url()).header("X-Auth-Token", &authenticated.token);
        match prober.exchange(account, budget).await.and_then(|(s, body)| check::read_account(s, &body, own)) {
            Ok(()) => findings.holds(ConditionType::AccountMatches),
            Err(failure) => {
                findings.fails(ConditionType::AccountMatches, failure);
                return findings;
            }
        }
        match event_stream(prober, kazoo, &authenticated, budget).await {
            Ok(()) => findings.holds(ConditionType::EventStream),
            Err(failure) => findings.fails(ConditionType::EventStream, failure),
        }
        findings
    }

    /// Opens the websocket to a checked address, then `ping` and `subscribe`, each answered in time.
    async fn event_stream(
        prober: &HttpProber,
        kazoo: &KazooConnection,
        authenticated: &Authenticated,
        budget: &Budget,
    ) -> Result<(), Failure> {
        let url =
            url::Url::parse(kazoo.host_websocket.as_str()).map_err(|_| Failure::new(Reason::UnexpectedResponse))?;
        let host = url.host_str().ok_or(Failure::new(Reason::UnexpectedResponse))?;
        let port = url.port_or_known_default().ok_or(Failure::new(Reason::UnexpectedResponse))?;
        let addresses = match pbx_domain::address::address_literal(&url) {
            Some(ip) => {
                check_addresses(&[ip], prober.allow_private).map_err(|_| Failure::new(Reason::BlockedDestination))?;
                vec![std::net::SocketAddr::new(ip, port)]
            }
            // A host written as an address was handled above: this is a name.
            None => resolve(host, port, prober.allow_private).await.map_err(|r| Failure::new(refused_reason(&r)))?,
        };
        let stream = connect(&addresses, budget).await?;
        let config = WebSocketConfig::default().max_message_size(Some(MAX_ANSWER)).max_frame_size(Some(MAX_ANSWER));
        let handshake = tokio_tungstenite::client_async_tls_with_config(url.as_str(), stream, Some(config), None);
        let (mut socket, _) = match tokio::time::timeout(budget.exchange(), handshake).await {
            Err(_) => return Err(Failure::new(Reason::Timeout)),
            Ok(Err(tungstenite::Error::Http(response))) => {
                return Err(Failure::answered(Reason::UnexpectedResponse, response.status().as_u16()));
            }
            Ok(Err(e)) => return Err(Failure::new(transport_reason(&e).unwrap_or(Reason::UnexpectedResponse))),
            Ok(Ok(connected)) => connected,
        };
        let ping_id = uuid::Uuid::now_v7().to_string();
        let answer = ask(&mut socket, check::ping(&ping_id), &ping_id, budget).await?;
        check::read_pong(&answer)?;
        let subscribe_id = uuid::Uuid::now_v7().to_string();
        let message = check::subscribe(&authenticated.token, kazoo.account_id.as_str(), &subscribe_id);
        let answer = ask(&mut socket, message, &subscribe_id, budget).await?;
        check::read_subscribed(&answer)?;
        let _ = tokio::time::timeout(budget.exchange(), socket.close(None)).await;
        Ok(())
    }

    /// A TCP connection to the first of `addresses` that accepts, within the connect bound.
    async fn connect(addresses: &[std::net::SocketAddr], budget: &Budget) -> Result<TcpStream, Failure> {
        let mut last = Failure::new(Reason::ConnectionRefused);
        for address in addresses {
            match tokio::time::timeout(budget.connect(), TcpStream::connect(address)).await {
                Ok(Ok(stream)) => {
                    // Each message is one small write answered at once: no waiting for an acknowledgement (Nagle).
                    let _ = stream.set_nodelay(true);
                    return Ok(stream);
                }
                Ok(Err(_)) => last = Failure::new(Reason::ConnectionRefused),
                Err(_) => last = Failure::new(Reason::ConnectTimeout),
            }
        }
        Err(last)
    }

    /// Sends `message` and waits for the message that answers `request_id` (others are skipped).
    async fn ask<S>(socket: &mut S, message: Value, request_id: &str, budget: &Budget) -> Result<Value, Failure>
    where
        S: futures_util::Sink<Message, Error = tungstenite::Error>
            + futures_util::Stream<Item = Result<Message, tungstenite::Error>>
            + Unpin,
    {
        let unexpected = Failure::new(Reason::UnexpectedResponse);
        let sent = tokio::time::timeout(budget.exchange(), socket.send(Message::text(message.to_string()))).await;
        match sent {
            Err(_) => return Err(Failure::new(Reason::Timeout)),
            Ok(Err(_)) => return Err(unexpected),
            Ok(Ok(())) => {}
        }
        let deadline = tokio::time::Instant::now() + budget.exchange();
        loop {
            let next = tokio::time::timeout_at(deadline, socket.next()).await;
            let message = match next {
                Err(_) => return Err(Failure::new(Reason::Timeout)),
                Ok(None | Some(Err(_))) => return Err(unexpected),
                Ok(Some(Ok(message))) => message,
            };
            match message {
                Message::Text(text) => {
                    let value: Value = serde_json::from_str(text.as_str()).map_err(|_| unexpected)?;
                    if check::answers(&value, request_id) {
                        return Ok(value);
                    }
                }
                Message::Close(_) => return Err(unexpected),
                _ => {}
            }
        }
    }
}
