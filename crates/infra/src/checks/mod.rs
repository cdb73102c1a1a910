//! The connection checks' requests ([`Prober`] over `reqwest` and `tokio-tungstenite`): connect 3 s, each exchange
//! 5 s, a whole check 12 s; no redirect followed; every address checked by the rule of CONTRACT §14 and the
//! connection made to that address ([`crate::outbound`]); an answer read to 64 KiB at most; a secret never sent
//! over plain `http`/`ws` unless private targets are allowed. What is asked and how answers read is each type's
//! `check` module in the domain, its transport each type's `check` module beside its columns (`crate::pbx`); this
//! module holds what they share, and says what a transport failure means.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use pbx_application::connection::{CHECK_TIMEOUT, Prober};
use pbx_domain::connection::{Failure, Findings, Reason};
use pbx_domain::webhook::{address_literal, check_addresses};
use pbx_domain::{PbxConnection, Secret};
use tokio::time::Instant;

use crate::outbound::{CheckedResolver, Refused};

/// The longest a connection may take to open.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// The longest one request and its answer may take.
const EXCHANGE_TIMEOUT: Duration = Duration::from_secs(5);
/// The most of an answer that is read.
pub(crate) const MAX_ANSWER: usize = 64 * 1024;

/// The platform's application in Microsoft Entra, with which a Microsoft tenant's consent is checked.
#[derive(Debug, Clone)]
pub struct EntraApplication {
    /// Its client id.
    pub client_id: String,
    /// Its client secret.
    pub client_secret: Secret,
}

/// [`Prober`] over HTTP and websockets.
#[derive(Debug, Clone)]
pub struct HttpProber {
    pub(crate) client: reqwest::Client,
    pub(crate) allow_private: bool,
    /// The Entra authority.
    pub(crate) authority: String,
    pub(crate) entra: Option<EntraApplication>,
}

impl HttpProber {
    /// A prober; `allow_private` lets checks reach private addresses and plain `http`/`ws` (tests, on-premises);
    /// `authority` is the Entra authority (`https://login.microsoftonline.com`); `entra` the platform's
    /// application there, without which a Microsoft tenant's check stops at the tenant's existence.
    ///
    /// # Errors
    /// When the HTTP client cannot be built (no TLS roots).
    pub fn new(allow_private: bool, authority: String, entra: Option<EntraApplication>) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .dns_resolver(Arc::new(CheckedResolver::new(allow_private)))
            .user_agent(concat!("pbx-server-checks/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self { client, allow_private, authority, entra })
    }

    /// Sends `request` within `budget`, and reads its answer's status and JSON body (`null` when not JSON).
    pub(crate) async fn exchange(
        &self,
        request: reqwest::RequestBuilder,
        budget: &Budget,
    ) -> Result<(u16, serde_json::Value), Failure> {
        let request =
            request.timeout(budget.exchange()).build().map_err(|_| Failure::new(Reason::UnexpectedResponse))?;
        if let Some(address) = address_literal(request.url())
            && check_addresses(&[address], self.allow_private).is_err()
        {
            return Err(Failure::new(Reason::BlockedDestination));
        }
        let mut response = self.client.execute(request).await.map_err(|e| http_failure(&e))?;
        let status = response.status().as_u16();
        let mut body = Vec::new();
        loop {
            match tokio::time::timeout(budget.exchange(), response.chunk()).await {
                Err(_) => return Err(Failure::answered(Reason::Timeout, status)),
                Ok(Err(e)) => return Err(http_failure(&e)),
                Ok(Ok(None)) => break,
                Ok(Ok(Some(chunk))) => {
                    if body.len() + chunk.len() > MAX_ANSWER {
                        return Err(Failure::answered(Reason::UnexpectedResponse, status));
                    }
                    body.extend_from_slice(&chunk);
                }
            }
        }
        Ok((status, serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null)))
    }
}

#[async_trait]
impl Prober for HttpProber {
    async fn probe(&self, connection: &PbxConnection) -> Findings {
        let budget = Budget { deadline: Instant::now() + CHECK_TIMEOUT };
        crate::pbx::probe(self, connection, &budget).await
    }
}

/// The time left to a check.
#[derive(Debug)]
pub(crate) struct Budget {
    deadline: Instant,
}

impl Budget {
    /// What an exchange may take: 5 s, or what is left of the check.
    pub(crate) fn exchange(&self) -> Duration {
        EXCHANGE_TIMEOUT.min(self.deadline.saturating_duration_since(Instant::now()))
    }

    /// What opening a connection may take: 3 s, or what is left.
    pub(crate) fn connect(&self) -> Duration {
        CONNECT_TIMEOUT.min(self.deadline.saturating_duration_since(Instant::now()))
    }
}

/// What a failed request means, read from the error and its causes (never shown: its text may carry the URL).
fn http_failure(error: &reqwest::Error) -> Failure {
    if let Some(reason) = transport_reason(error) {
        return Failure::new(reason);
    }
    if error.is_timeout() {
        return Failure::new(if error.is_connect() { Reason::ConnectTimeout } else { Reason::Timeout });
    }
    Failure::new(if error.is_connect() { Reason::ConnectionRefused } else { Reason::UnexpectedResponse })
}

/// The reason of a host the address rule refused (one for every refused address), or that does not resolve.
pub(crate) fn refused_reason(refused: &Refused) -> Reason {
    if refused.forbidden().is_some() { Reason::BlockedDestination } else { Reason::DnsFailure }
}

/// The reason of a refused target, a refused connection or a TLS failure among `error`'s causes.
pub(crate) fn transport_reason(error: &(dyn std::error::Error + 'static)) -> Option<Reason> {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = cause {
        if let Some(refused) = e.downcast_ref::<Refused>() {
            return Some(refused_reason(refused));
        }
        if e.downcast_ref::<rustls::Error>().is_some() {
            return Some(Reason::TlsError);
        }
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::ConnectionRefused {
                return Some(Reason::ConnectionRefused);
            }
            // An I/O error's `source` skips the error it wraps (rustls' own, say): descend into it instead.
            if let Some(inner) = io.get_ref() {
                cause = Some(inner);
                continue;
            }
        }
        cause = e.source();
    }
    None
}
