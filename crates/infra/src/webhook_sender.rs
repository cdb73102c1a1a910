//! Deliveries over HTTP: 10 s at most, no redirect followed, and only to addresses a webhook may target — checked
//! again at each delivery, on what the host resolves to then (DNS can change), by the client's own resolver.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use pbx_application::delivery::{Attempt, Sender};
use pbx_domain::connection::Reason;
use pbx_domain::webhook::{Delivery, WebhookMethod, address_literal, check_addresses};

use crate::checks::transport_reason;
use crate::outbound::CheckedResolver;

/// How long a delivery may take, all told.
const TIMEOUT: Duration = Duration::from_secs(10);

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
        Self::with_timeout(allow_private, TIMEOUT)
    }

    /// A sender whose deliveries take `timeout` at most (the service's is 10 s; tests wait less).
    ///
    /// # Errors
    /// When the HTTP client cannot be built (no TLS roots).
    pub fn with_timeout(allow_private: bool, timeout: Duration) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .dns_resolver(Arc::new(CheckedResolver::new(allow_private)))
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
            return failed(format!("The receiver's address is one deliveries may not reach ({e})."));
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
                let error = (!status.is_success()).then(|| format!("The receiver answered {status}."));
                Attempt { status: Some(status.as_u16()), error, duration: started.elapsed() }
            }
            Err(e) => failed(describe(&e)),
        }
    }
}

/// A failed request as a sentence for the delivery log: what went wrong (classified as the connection checks
/// classify it), never the HTTP client's own text, which names the URL (a query string's token included) and reads
/// like a stack of errors.
fn describe(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        return "The receiver did not answer in time.".to_owned();
    }
    let said = match transport_reason(error) {
        Some(Reason::BlockedDestination) => "The receiver's host resolves to an address deliveries may not reach.",
        Some(Reason::DnsFailure) => "The receiver's host name does not resolve.",
        Some(Reason::TlsError) => "The TLS handshake with the receiver failed (its certificate, say).",
        Some(Reason::ConnectionRefused) => "The receiver refused the connection.",
        _ if error.is_connect() => "The receiver could not be reached.",
        _ => "The receiver closed the connection, or answered something that is not HTTP.",
    };
    said.to_owned()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    /// A receiver on loopback that reads each request's head and then does `answer` with the socket.
    async fn receiver<F, Fut>(answer: F) -> String
    where
        F: Fn(tokio::net::TcpStream) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hooks", listener.local_addr().unwrap());
        let answer = Arc::new(answer);
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let answer = Arc::clone(&answer);
                tokio::spawn(async move {
                    let mut head = Vec::new();
                    let mut byte = [0_u8; 1];
                    while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).await.is_ok_and(|n| n == 1) {
                        head.push(byte[0]);
                    }
                    answer(stream).await;
                });
            }
        });
        url
    }

    fn delivery(url: &str) -> Delivery {
        Delivery {
            method: WebhookMethod::Post,
            url: url.to_owned(),
            headers: vec![("content-type", "application/json".to_owned()), ("webhook-id", "1".to_owned())],
            body: b"{}".to_vec(),
        }
    }

    async fn send(url: &str) -> Attempt {
        let sender = HttpSender::with_timeout(true, Duration::from_millis(500)).unwrap();
        sender.send(&delivery(url)).await
    }

    #[tokio::test]
    async fn a_silent_receiver_times_out() {
        let url = receiver(|stream| async move {
            tokio::time::sleep(Duration::from_secs(5)).await;
            drop(stream);
        })
        .await;
        let attempt = send(&url).await;
        assert!(!attempt.succeeded());
        assert_eq!(attempt.status, None);
        assert_eq!(attempt.error.as_deref(), Some("The receiver did not answer in time."));
        assert!(attempt.duration < Duration::from_secs(2), "{attempt:?}");
    }

    #[tokio::test]
    async fn a_huge_answer_is_not_read_a_2xx_is_a_success() {
        let url = receiver(|mut stream| async move {
            let head = "HTTP/1.1 200 OK\r\ncontent-length: 1073741824\r\n\r\n";
            let _ = stream.write_all(head.as_bytes()).await;
            let chunk = vec![b'x'; 64 * 1024];
            while stream.write_all(&chunk).await.is_ok() {}
        })
        .await;
        let attempt = send(&url).await;
        assert!(attempt.succeeded(), "{attempt:?}");
        assert!(attempt.duration < Duration::from_millis(500), "the body is not waited for: {attempt:?}");
    }

    #[tokio::test]
    async fn a_redirect_is_not_followed_and_other_statuses_fail() {
        let url = receiver(|mut stream| async move {
            let answer = "HTTP/1.1 302 Found\r\nlocation: http://169.254.169.254/\r\ncontent-length: 0\r\n\r\n";
            let _ = stream.write_all(answer.as_bytes()).await;
        })
        .await;
        let attempt = send(&url).await;
        assert_eq!(attempt.status, Some(302));
        assert!(!attempt.succeeded() && attempt.error.as_deref().unwrap().contains("302"), "{attempt:?}");
        let url = receiver(|mut stream| async move {
            let _ = stream.write_all(b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n").await;
        })
        .await;
        let attempt = send(&url).await;
        assert_eq!((attempt.status, attempt.succeeded()), (Some(503), false), "{attempt:?}");
    }

    #[tokio::test]
    async fn garbage_or_a_closed_connection_is_a_failure_not_a_panic() {
        let garbage = receiver(|mut stream| async move {
            let _ = stream.write_all(b"this is not HTTP at all\r\n\r\n").await;
        })
        .await;
        let closed = receiver(|stream| async move { drop(stream) }).await;
        let refused = {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let port = listener.local_addr().unwrap().port();
            drop(listener);
            format!("http://127.0.0.1:{port}/hooks")
        };
        for (url, said) in [
            (garbage, "The receiver closed the connection, or answered something that is not HTTP."),
            (closed, "The receiver closed the connection, or answered something that is not HTTP."),
            (refused, "The receiver refused the connection."),
        ] {
            let attempt = send(&url).await;
            assert!(!attempt.succeeded() && attempt.status.is_none(), "{attempt:?}");
            assert_eq!(attempt.error.as_deref(), Some(said), "a sentence, never the client's text");
        }
    }

    #[tokio::test]
    async fn a_forbidden_address_is_refused_before_any_request() {
        let sender = HttpSender::with_timeout(false, Duration::from_millis(500)).unwrap();
        let attempt = sender.send(&delivery("https://127.0.0.1:9/hooks")).await;
        let said = attempt.error.unwrap();
        assert!(said.starts_with("The receiver's address is one deliveries may not reach"), "{said}");
    }
}
