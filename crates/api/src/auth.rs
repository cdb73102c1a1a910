//! Bearer tokens: who the caller is (a reseller tenant) and what it may do (scopes).

use std::time::Duration;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use pbx_domain::{Account, ResellerId};
use serde_json::{Map, Value};

use crate::jwks::{JWKS_ALGORITHMS, Jwks};
use crate::{ApiError, AppState};

type LocalBoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + 'a>>;

/// The most a token's times may be off, in seconds.
const LEEWAY_SECONDS: u64 = 60;

/// What a token may allow. `onboarding` allows everything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Read customers.
    CustomersRead,
    /// Create and change customers.
    CustomersWrite,
    /// Read PBX profiles.
    PbxsRead,
    /// Create and change PBX profiles.
    PbxsWrite,
    /// Give a customer a trial (`trialDuration` above 0).
    CustomersTrial,
    /// Read the accounts under the caller (the enterprise tier).
    AccountsRead,
    /// Create, change and delete the accounts under the caller.
    AccountsWrite,
    /// Read the change feed of the caller's customers.
    EventsRead,
    /// Read the caller's webhooks and their deliveries.
    WebhooksRead,
    /// Create, change, rotate and delete the caller's webhooks.
    WebhooksWrite,
    /// The platform's collectors: every tenant's change feed and the profiles' credentials. Only a token that
    /// names it has it (`onboarding` does not grant it).
    Collector,
}

impl Scope {
    /// The scope that grants every other.
    pub const ONBOARDING: &'static str = "onboarding";

    /// The scope's name in a token.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::CustomersRead => "customers:read",
            Self::CustomersWrite => "customers:write",
            Self::PbxsRead => "pbxs:read",
            Self::PbxsWrite => "pbxs:write",
            Self::CustomersTrial => "customers:trial",
            Self::AccountsRead => "accounts:read",
            Self::AccountsWrite => "accounts:write",
            Self::EventsRead => "events:read",
            Self::WebhooksRead => "webhooks:read",
            Self::WebhooksWrite => "webhooks:write",
            Self::Collector => "collector",
        }
    }
}

/// How tokens are checked and (in the embedded default) minted.
#[derive(Clone)]
pub struct TokenSettings {
    /// The HS256 key shared by minting and checking (the embedded default); unused with a JWKS.
    pub hs256_key: Vec<u8>,
    /// The `iss` tokens must carry, when set.
    pub issuer: Option<String>,
    /// The `aud` tokens must carry, when set.
    pub intended_audience: Option<String>,
    /// The claim that names the reseller tenant.
    pub tenant_claim: String,
}

impl std::fmt::Debug for TokenSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSettings")
            .field("hs256_key", &"[REDACTED]")
            .field("issuer", &self.issuer)
            .field("intended_audience", &self.intended_audience)
            .field("tenant_claim", &self.tenant_claim)
            .finish()
    }
}

/// Where the keys that sign tokens come from.
enum Keys {
    /// The embedded HS256 key: this service mints and checks.
    Embedded { decoding: DecodingKey, encoding: EncodingKey },
    /// An identity provider's public keys (RS256/ES256): this service only checks.
    Jwks(Jwks),
}

/// Checks bearer tokens, and mints them with the embedded key.
pub struct Authenticator {
    keys: Keys,
    /// The checks of each algorithm this authenticator accepts, built once.
    validations: Vec<(Algorithm, Validation)>,
    settings: TokenSettings,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mode = match self.keys {
            Keys::Embedded { .. } => "embedded HS256",
            Keys::Jwks(_) => "JWKS",
        };
        f.debug_struct("Authenticator").field("mode", &mode).field("settings", &self.settings).finish()
    }
}

/// The path parameter of the account prefix: `/api/v1.0/accounts/{account_tenant_id}/customers…` acts as that
/// account.
pub(crate) const ACTING_ACCOUNT: &str = "account_tenant_id";

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The reseller tenant the caller acts as: the token's, or the account of the prefix.
    pub reseller: ResellerId,
    /// The token's own reseller (the reseller above the account, through the prefix).
    pub token_reseller: ResellerId,
    /// The token's subject (`sub`), when it names one.
    pub subject: Option<String>,
    scopes: Vec<String>,
    /// The account of the prefix (`/accounts/{id}/…`), when the request came through it.
    pub account: Option<Account>,
}

impl Caller {
    /// The path the caller's customer routes live under: `/api/v1.0`, or `/api/v1.0/accounts/{id}` through the
    /// account prefix (so that `Location` names the route family the create came through).
    #[must_use]
    pub fn routes(&self) -> String {
        match &self.account {
            Some(account) => format!("/api/v1.0/accounts/{}", account.id),
            None => "/api/v1.0".to_owned(),
        }
    }

    /// The same caller acting as the account `id` of the prefix, if the token's tenant may (the account itself or
    /// the tenant above it).
    ///
    /// # Errors
    /// 400 when `id` is not a GUID; 404 when the account is missing or the caller may not act as it — the same
    /// answer, so that nobody learns which accounts exist.
    async fn acting_as(self, state: &AppState, id: &str) -> Result<Self, ApiError> {
        let id = ResellerId::parse(id).map_err(|e| ApiError::invalid_id(&e))?;
        let account = state.accounts.acting_as(self.reseller, id).await?.ok_or(ApiError::NotFound)?;
        Ok(Self { reseller: account.id, account: Some(account), ..self })
    }

    /// Who acts, as the change feed records it.
    #[must_use]
    pub fn actor(&self) -> pbx_domain::events::Actor {
        pbx_domain::events::Actor { reseller_id: self.token_reseller.as_uuid(), subject: self.subject.clone() }
    }

    /// Succeeds when the token grants `scope` (or `onboarding`).
    ///
    /// # Errors
    /// [`ApiError::Forbidden`] otherwise.
    pub fn require(&self, scope: Scope) -> Result<(), ApiError> {
        if self.has(scope) { Ok(()) } else { Err(ApiError::Forbidden(scope.as_str())) }
    }

    /// Whether the token grants `scope` (or `onboarding`, which grants every scope but `collector`).
    #[must_use]
    pub fn has(&self, scope: Scope) -> bool {
        self.scopes.iter().any(|s| (s == Scope::ONBOARDING && scope != Scope::Collector) || s == scope.as_str())
    }

    /// Succeeds unless `options` give a trial the token may not grant: 400 on `trialDuration`, as a field the
    /// caller may not set.
    ///
    /// # Errors
    /// [`ApiError::Invalid`] naming `trialDuration`.
    pub(crate) fn may_grant(&self, trial: pbx_domain::TrialDays) -> Result<(), ApiError> {
        if trial.days() == 0 || self.has(Scope::CustomersTrial) {
            return Ok(());
        }
        let message = format!("a trial needs the {} scope", Scope::CustomersTrial.as_str());
        Err(ApiError::Invalid(vec![crate::FieldProblem::new("trialDuration", message)]))
    }
}

/// The checks every token passes whatever signs it: `exp` required, 60 s of skew, `nbf`, `iss` and `aud`.
fn validation(algorithm: Algorithm, settings: &TokenSettings) -> Validation {
    let mut validation = Validation::new(algorithm);
    validation.set_required_spec_claims(&["exp"]);
    validation.leeway = LEEWAY_SECONDS;
    validation.validate_exp = true;
    validation.validate_nbf = true;
    match &settings.issuer {
        Some(issuer) => validation.set_issuer(&[issuer]),
        None => validation.iss = None,
    }
    match &settings.intended_audience {
        Some(audience) => validation.set_audience(&[audience]),
        None => validation.validate_aud = false,
    }
    validation
}

/// A decoding failure as a 401.
fn unauthorized(error: &jsonwebtoken::errors::Error) -> ApiError {
    match error.kind() {
        ErrorKind::ExpiredSignature => ApiError::Unauthorized("expired"),
        ErrorKind::InvalidToken | ErrorKind::Base64(_) | ErrorKind::Json(_) | ErrorKind::Utf8(_) => {
            ApiError::Unauthorized("malformed")
        }
        _ => ApiError::Unauthorized("invalid"),
    }
}

impl Authenticator {
    /// An authenticator for HS256 tokens signed with `settings.hs256_key`, which it can also mint.
    #[must_use]
    pub fn hs256(settings: TokenSettings) -> Self {
        let keys = Keys::Embedded {
            decoding: DecodingKey::from_secret(&settings.hs256_key),
            encoding: EncodingKey::from_secret(&settings.hs256_key),
        };
        Self::with_keys(keys, &[Algorithm::HS256], settings)
    }

    fn with_keys(keys: Keys, algorithms: &[Algorithm], settings: TokenSettings) -> Self {
        let validations = algorithms.iter().map(|a| (*a, validation(*a, &settings))).collect();
        Self { keys, validations, settings }
    }

    /// The checks of `algorithm`, when this authenticator accepts it.
    fn validation(&self, algorithm: Algorithm) -> Option<&Validation> {
        self.validations.iter().find(|(a, _)| *a == algorithm).map(|(_, v)| v)
    }

    /// An authenticator for RS256/ES256 tokens of an identity provider whose keys are the JWKS at `location`
    /// (a file, or an `https://` URL; `http://` only on the loopback). The keys are loaded now.
    ///
    /// # Errors
    /// When the location is not usable or the key set cannot be read.
    pub async fn jwks(settings: TokenSettings, location: &str) -> anyhow::Result<Self> {
        let jwks = Jwks::new(location)?;
        jwks.refresh().await?;
        Ok(Self::with_keys(Keys::Jwks(jwks), &JWKS_ALGORITHMS, settings))
    }

    /// The caller a token names.
    ///
    /// # Errors
    /// [`ApiError::Unauthorized`] when the token is malformed, badly signed, signed with another algorithm than
    /// its key's, expired, not yet valid, for another issuer or audience, or names no tenant.
    pub async fn verify(&self, token: &str) -> Result<Caller, ApiError> {
        let invalid = || ApiError::Unauthorized("invalid");
        let claims = match &self.keys {
            Keys::Embedded { decoding, .. } => {
                let validation = self.validation(Algorithm::HS256).ok_or_else(invalid)?;
                jsonwebtoken::decode::<Map<String, Value>>(token, decoding, validation)
            }
            Keys::Jwks(jwks) => {
                let header = jsonwebtoken::decode_header(token).map_err(|e| unauthorized(&e))?;
                let validation = self.validation(header.alg).ok_or_else(invalid)?;
                let (algorithm, key) = jwks.key(header.kid.as_deref().unwrap_or_default()).await.ok_or_else(invalid)?;
                if algorithm != header.alg {
                    return Err(invalid());
                }
                jsonwebtoken::decode::<Map<String, Value>>(token, &key, validation)
            }
        }
        .map_err(|e| unauthorized(&e))?
        .claims;
        let reseller = claims
            .get(&self.settings.tenant_claim)
            .and_then(Value::as_str)
            .and_then(|t| ResellerId::parse(t).ok())
            // The nil GUID names no tenant: it is what an unset id serialises to, not a reseller.
            .filter(|tenant| !tenant.as_uuid().is_nil())
            .ok_or(ApiError::Unauthorized("invalid"))?;
        let scopes = claims
            .get("scope")
            .and_then(Value::as_str)
            .map(|s| s.split_whitespace().map(str::to_owned).collect())
            .unwrap_or_default();
        let subject = claims.get("sub").and_then(Value::as_str).map(|s| s.chars().take(255).collect());
        Ok(Caller { reseller, token_reseller: reseller, subject, scopes, account: None })
    }

    /// A token for `reseller` (in the tenant claim) with `scopes` (space separated), valid for `ttl` from now.
    ///
    /// # Errors
    /// When tokens come from an identity provider (this service then mints none), or signing fails.
    pub fn mint(&self, reseller: ResellerId, scopes: &str, ttl: Duration) -> anyhow::Result<String> {
        let Keys::Embedded { encoding, .. } = &self.keys else {
            anyhow::bail!(
                "tokens come from an identity provider (--jwks): get one from it; this service mints no token"
            );
        };
        let now = jsonwebtoken::get_current_timestamp();
        let mut claims = Map::new();
        claims.insert(self.settings.tenant_claim.clone(), Value::from(reseller.to_string()));
        claims.insert("scope".to_owned(), Value::from(scopes));
        claims.insert("iat".to_owned(), Value::from(now));
        claims.insert("exp".to_owned(), Value::from(now.saturating_add(ttl.as_secs())));
        if let Some(issuer) = &self.settings.issuer {
            claims.insert("iss".to_owned(), Value::from(issuer.as_str()));
        }
        if let Some(audience) = &self.settings.intended_audience {
            claims.insert("aud".to_owned(), Value::from(audience.as_str()));
        }
        Ok(jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, encoding)?)
    }
}

/// The bearer token of a request. Two `Authorization` headers are refused (400): a proxy in front may check one
/// and this service would use another.
fn bearer(req: &HttpRequest) -> Result<&str, ApiError> {
    let mut values = req.headers().get_all(header::AUTHORIZATION);
    let value = values.next().ok_or(ApiError::Unauthorized("missing"))?;
    if values.next().is_some() {
        return Err(ApiError::BadRequest("send one Authorization header, not several".to_owned()));
    }
    let value = value.to_str().map_err(|_| ApiError::Unauthorized("malformed"))?;
    match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() => Ok(token.trim()),
        _ => Err(ApiError::Unauthorized("malformed")),
    }
}

/// Authenticates the request by its bearer token.
async fn authenticate(req: HttpRequest) -> Result<Caller, ApiError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("the application state is not configured")))?;
    state.authenticator.verify(bearer(&req)?).await
}

/// The caller of the request: the one the rate-limit middleware identified already, or else checked here.
impl FromRequest for Caller {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let identified = req.extensions().get::<Self>().cloned();
            let caller = match identified {
                Some(caller) => caller,
                None => authenticate(req.clone()).await?,
            };
            let Some(account) = req.match_info().get(ACTING_ACCOUNT) else { return Ok(caller) };
            let state = req
                .app_data::<web::Data<AppState>>()
                .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("the application state is not configured")))?;
            caller.acting_as(state, account).await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TENANT: &str = "11111111-1111-4111-8111-111111111111";

    fn settings() -> TokenSettings {
        TokenSettings {
            hs256_key: vec![9; 32],
            issuer: None,
            intended_audience: None,
            tenant_claim: "tenant_id".into(),
        }
    }

    fn sign(claims: &Value, key: &[u8], alg: Algorithm) -> String {
        jsonwebtoken::encode(&Header::new(alg), claims, &EncodingKey::from_secret(key)).unwrap()
    }

    fn now() -> u64 {
        jsonwebtoken::get_current_timestamp()
    }

    #[test]
    fn two_authorization_headers_are_refused_whichever_is_valid() {
        use actix_web::test::TestRequest;
        let one = TestRequest::default().insert_header((header::AUTHORIZATION, "Bearer abc")).to_http_request();
        assert_eq!(bearer(&one).ok(), Some("abc"));
        let two = TestRequest::default()
            .append_header((header::AUTHORIZATION, "Bearer abc"))
            .append_header((header::AUTHORIZATION, "Bearer def"))
            .to_http_request();
        assert!(matches!(bearer(&two), Err(ApiError::BadRequest(_))), "{:?}", bearer(&two));
    }

    #[tokio::test]
    async fn a_minted_token_verifies_with_its_tenant_and_scopes() {
        let auth = Authenticator::hs256(settings());
        let token = auth.mint(ResellerId::parse(TENANT).unwrap(), "pbxs:read", Duration::from_secs(60)).unwrap();
        let caller = auth.verify(&token).await.unwrap();
        assert_eq!(caller.reseller.to_string(), TENANT);
        assert!(caller.require(Scope::PbxsRead).is_ok());
        assert!(matches!(caller.require(Scope::PbxsWrite), Err(ApiError::Forbidden("pbxs:write"))));
    }

    #[test]
    fn onboarding_grants_every_scope_but_collector() {
        let tenant = ResellerId::parse(TENANT).unwrap();
        let caller = Caller {
            reseller: tenant,
            token_reseller: tenant,
            subject: None,
            scopes: vec!["onboarding".into()],
            account: None,
        };
        for scope in [Scope::CustomersRead, Scope::CustomersWrite, Scope::PbxsRead, Scope::PbxsWrite, Scope::EventsRead]
        {
            assert!(caller.require(scope).is_ok(), "{scope:?}");
        }
        assert!(matches!(caller.require(Scope::Collector), Err(ApiError::Forbidden("collector"))));
        let collector = Caller { scopes: vec!["collector".into()], ..caller };
        assert!(collector.require(Scope::Collector).is_ok());
        assert!(collector.require(Scope::PbxsRead).is_err(), "collector grants nothing else");
    }

    #[tokio::test]
    async fn bad_tokens_are_refused() {
        let auth = Authenticator::hs256(settings());
        let exp = now() + 600;
        let cases: Vec<(String, &str)> = vec![
            (sign(&serde_json::json!({"tenant_id": TENANT, "exp": exp}), &[8; 32], Algorithm::HS256), "another key"),
            (sign(&serde_json::json!({"tenant_id": TENANT}), &[9; 32], Algorithm::HS256), "no exp"),
            (
                sign(&serde_json::json!({"tenant_id": TENANT, "exp": now() - 3600}), &[9; 32], Algorithm::HS256),
                "expired",
            ),
            (
                sign(
                    &serde_json::json!({"tenant_id": TENANT, "exp": exp, "nbf": now() + 3600}),
                    &[9; 32],
                    Algorithm::HS256,
                ),
                "not yet valid",
            ),
            (sign(&serde_json::json!({"exp": exp}), &[9; 32], Algorithm::HS256), "no tenant"),
            (
                sign(&serde_json::json!({"tenant_id": "acme", "exp": exp}), &[9; 32], Algorithm::HS256),
                "tenant not a GUID",
            ),
            (
                sign(
                    &serde_json::json!({"tenant_id": "00000000-0000-0000-0000-000000000000", "exp": exp}),
                    &[9; 32],
                    Algorithm::HS256,
                ),
                "tenant the nil GUID",
            ),
            (
                sign(&serde_json::json!({"tenant_id": TENANT, "exp": exp}), &[9; 32], Algorithm::HS512),
                "another algorithm",
            ),
            ("not.a.token".to_owned(), "garbage"),
            (
                // {"alg":"none","typ":"JWT"} . {"tenant_id":…,"exp":…} . (no signature)
                format!(
                    "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{}.",
                    base64_url(&serde_json::json!({"tenant_id": TENANT, "exp": exp}).to_string())
                ),
                "alg none",
            ),
        ];
        for (token, why) in cases {
            assert!(matches!(auth.verify(&token).await, Err(ApiError::Unauthorized(_))), "{why}");
        }
    }

    #[tokio::test]
    async fn issuer_and_audience_are_checked_when_configured() {
        let auth = Authenticator::hs256(TokenSettings {
            issuer: Some("https://idp.example.com".into()),
            intended_audience: Some("pbx".into()),
            ..settings()
        });
        let exp = now() + 600;
        let good = serde_json::json!({"tenant_id": TENANT, "exp": exp, "iss": "https://idp.example.com", "aud": "pbx"});
        assert!(auth.verify(&sign(&good, &[9; 32], Algorithm::HS256)).await.is_ok());
        let wrong_aud =
            serde_json::json!({"tenant_id": TENANT, "exp": exp, "iss": "https://idp.example.com", "aud": "x"});
        assert!(auth.verify(&sign(&wrong_aud, &[9; 32], Algorithm::HS256)).await.is_err());
        let wrong_iss = serde_json::json!({"tenant_id": TENANT, "exp": exp, "iss": "https://evil", "aud": "pbx"});
        assert!(auth.verify(&sign(&wrong_iss, &[9; 32], Algorithm::HS256)).await.is_err());
    }

    #[tokio::test]
    async fn the_tenant_claim_name_is_configurable() {
        let auth = Authenticator::hs256(TokenSettings { tenant_claim: "org".into(), ..settings() });
        let token = sign(&serde_json::json!({"org": TENANT, "exp": now() + 60}), &[9; 32], Algorithm::HS256);
        assert_eq!(auth.verify(&token).await.unwrap().reseller.to_string(), TENANT);
    }

    fn base64_url(text: &str) -> String {
        const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let bytes = text.as_bytes();
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let n = chunk.iter().enumerate().fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
            for i in 0..=chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            }
        }
        out
    }
}
