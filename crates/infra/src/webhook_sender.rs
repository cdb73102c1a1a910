//! Deliveries over HTTP: 10 s at most, no redirect followed, and only to addresses a webhook may target — checked
//! again at each delivery, on what the host resolves to then (DNS can change), by the client's own resolver.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use pbx_application::delivery::{Attempt, Sender};
use pbx_domain::webhook::{Delivery, WebhookMethod, address_literal, check_addresses};

/// How long a delivery may take, all told.
const TIMEOUT: Duration = Duration::from_secs(10);

/// Resolves a host as the system does, then refuses it when an address is one a webhook may not target.
#[derive(Debug, Clone, Copy)]
struct CheckedResolver {
    allow_private: bool,
}

impl reqwest::dns::Resolve for CheckedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let addresses: Vec<SocketAddr> = tokio::net::lookup_host((name.as_str(), 0)).await?.collect();
            let ips: Vec<_> = addresses.iter().map(SocketAddr::ip).collect();
            check_addresses(&ips, allow_private)?;
            let addresses: reqwest::dns::Addrs = Box::new(addresses.into_iter());
            Ok(addresses)
        })
    }
}

/// [`Sender`] over `reqwest`.
#[derive(Debug, Clone)]
pub struct HttpSender {
    client: reqwest::Client,
    allow_private: bool,
}

impl HttpSender {
    /// A sender; `allow_private` lets deliveries reach private addresses (tests, on-premises).
    ///
    /// # Errors
    /// When the HTTP client cannot be built (no TLS roots).
    pub fn new(allow_private: bool) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .dns_resolver(Arc::new(CheckedResolver { allow_private }))
            .user_agent(concat!("pbx-server-webhooks/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self { client, allow_private })
    }
}

#[async_trait]
impl Sender for HttpSender {
    async fn send(&self, delivery: &Delivery) -> Attempt {
        let started = Instant::now();
        let failed = |error: String| Attempt { status: None, error: Some(error), duration: started.elapsed() };
        let Ok(url) = url::Url::parse(&delivery.url) else { return failed("the URL cannot be read".to_owned()) };
        // A host written as an address does not go through the resolver.
        if let Some(address) = address_literal(&url)
            && let Err(e) = check_addresses(&[address], self.allow_private)
        {
            return failed(format!("refused target: {e}"));
        }
        let method = match delivery.method {
            WebhookMethod::Post => reqwest::Method::POST,
            WebhookMethod::Put => reqwest::Method::PUT,
            WebhookMethod::Get => reqwest::Method::GET,
        };
        let mut request = self.client.request(method, url);
        for (name, value) in &delivery.headers {
            request = request.header(*name, value);
        }
        if delivery.method != WebhookMethod::Get {
            request = request.body(delivery.body.clone());
        }
        match request.send().await {
            Ok(response) => {
                let status = response.status();
                // The body is not read: a receiver's answer is its status.
                let error = (!status.is_success()).then(|| format!("the receiver answered {status}"));
                Attempt { status: Some(status.as_u16()), error, duration: started.elapsed() }
            }
            Err(e) => failed(describe(&e)),
        }
    }
}

/// A failed request in a line: a timeout, a refused connection or target, …
fn describe(error: &reqwest::Error) -> String {
    let mut text = if error.is_timeout() { "timed out".to_owned() } else { error.to_string() };
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text = format!("{text}: {cause}");
        source = cause.source();
    }
    text
}
