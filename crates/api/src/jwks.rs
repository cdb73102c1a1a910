//! An identity provider's public keys (a JWKS), read from a file or fetched over HTTPS, cached by key id and
//! refreshed when a token names a key the cache does not hold — at most once a minute.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, JwkSet, KeyAlgorithm};
use jsonwebtoken::{Algorithm, DecodingKey};
use tokio::sync::{Mutex, RwLock};

/// The algorithms accepted from an identity provider. HS* is refused: a public key is no shared secret.
pub(crate) const JWKS_ALGORITHMS: [Algorithm; 2] = [Algorithm::RS256, Algorithm::ES256];

/// The shortest time between two refreshes of the key set.
const REFRESH_EVERY: Duration = Duration::from_secs(60);

enum Location {
    File(PathBuf),
    Url(String),
}

/// The cached key set.
pub(crate) struct Jwks {
    location: Location,
    client: reqwest::Client,
    keys: RwLock<HashMap<String, (Algorithm, DecodingKey)>>,
    last_refresh: Mutex<Option<Instant>>,
}

/// Whether an `http://` URL points at this machine (plain HTTP is allowed there only, for tests and sidecars).
fn is_loopback(url: &reqwest::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(domain)) => domain == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// The algorithm a key is for, from its `alg` or else its type; `None` for keys this service does not accept.
fn algorithm(jwk: &Jwk) -> Option<Algorithm> {
    let algorithm = match (&jwk.common.key_algorithm, &jwk.algorithm) {
        (Some(KeyAlgorithm::RS256), AlgorithmParameters::RSA(_)) => Algorithm::RS256,
        (Some(KeyAlgorithm::ES256), AlgorithmParameters::EllipticCurve(ec)) if ec.curve == EllipticCurve::P256 => {
            Algorithm::ES256
        }
        (None, AlgorithmParameters::RSA(_)) => Algorithm::RS256,
        (None, AlgorithmParameters::EllipticCurve(ec)) if ec.curve == EllipticCurve::P256 => Algorithm::ES256,
        _ => return None,
    };
    Some(algorithm)
}

impl Jwks {
    pub(crate) fn new(location: &str) -> anyhow::Result<Self> {
        let location = if location.starts_with("https://") || location.starts_with("http://") {
            let url = reqwest::Url::parse(location).context("the JWKS URL does not parse")?;
            if url.scheme() == "http" && !is_loopback(&url) {
                bail!("the JWKS URL must use https (plain http only to localhost)");
            }
            Location::Url(location.to_owned())
        } else {
            Location::File(PathBuf::from(location))
        };
        let client = reqwest::Client::builder().timeout(Duration::from_secs(5)).build()?;
        Ok(Self { location, client, keys: RwLock::new(HashMap::new()), last_refresh: Mutex::new(None) })
    }

    async fn fetch(&self) -> anyhow::Result<JwkSet> {
        let text = match &self.location {
            Location::File(path) => tokio::fs::read_to_string(path)
                .await
                .with_context(|| format!("reading the JWKS file {}", path.display()))?,
            Location::Url(url) => {
                self.client
                    .get(url)
                    .send()
                    .await
                    .and_then(reqwest::Response::error_for_status)
                    .with_context(|| format!("fetching the JWKS from {url}"))?
                    .text()
                    .await?
            }
        };
        serde_json::from_str(&text).context("the JWKS is not a JSON Web Key Set")
    }

    /// Loads the key set now.
    pub(crate) async fn refresh(&self) -> anyhow::Result<()> {
        let set = self.fetch().await?;
        let mut keys = HashMap::new();
        for jwk in &set.keys {
            let Some(algorithm) = algorithm(jwk) else { continue };
            let key = DecodingKey::from_jwk(jwk).context("a key of the JWKS cannot be used")?;
            keys.insert(jwk.common.key_id.clone().unwrap_or_default(), (algorithm, key));
        }
        if keys.is_empty() {
            bail!("the JWKS holds no RS256 or ES256 (P-256) key");
        }
        tracing::info!(keys = keys.len(), "JWKS loaded");
        *self.keys.write().await = keys;
        Ok(())
    }

    /// The key `kid` and its algorithm; an unknown `kid` refreshes the set, at most once every minute.
    pub(crate) async fn key(&self, kid: &str) -> Option<(Algorithm, DecodingKey)> {
        if let Some(found) = self.keys.read().await.get(kid) {
            return Some(found.clone());
        }
        {
            let mut last = self.last_refresh.lock().await;
            if last.is_some_and(|at| at.elapsed() < REFRESH_EVERY) {
                return None;
            }
            *last = Some(Instant::now());
            if let Err(e) = self.refresh().await {
                tracing::warn!(error = format!("{e:#}"), "the JWKS could not be refreshed");
            }
        }
        self.keys.read().await.get(kid).cloned()
    }
}
