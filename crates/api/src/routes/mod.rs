//! The routes under `/api/v1.0`, one module per resource, and the health routes.

pub(crate) mod accounts;
pub(crate) mod connection;
pub(crate) mod credentials;
pub(crate) mod customers;
pub(crate) mod events;
pub(crate) mod health;
pub(crate) mod pbxs;
pub(crate) mod webhooks;

use actix_web::HttpRequest;
use actix_web::http::header;
use pbx_domain::HttpUrl;

use crate::{ApiError, AppState};

/// The path of a customer's routes, read by name: the account prefix adds a parameter before it.
#[derive(serde::Deserialize)]
pub(crate) struct CustomerPath {
    pub(crate) customer_id: String,
}

/// The path of a profile's routes.
#[derive(serde::Deserialize)]
pub(crate) struct PbxPath {
    pub(crate) customer_id: String,
    pub(crate) pbx_id: String,
}

/// The public base URL of `Location`: the configured one; else the scheme and host the request came to, as a proxy
/// forwarded them (`Forwarded`, `X-Forwarded-Proto`, `X-Forwarded-Host`) only with `--trust-forwarded`. Either way
/// they must make an http or https URL of a host name or address, with an optional port (the form of
/// [`HttpUrl`]), so that no header can turn `Location` into `javascript:…` or another site's path.
///
/// # Errors
/// 400 naming the header when they do not.
fn base_url(req: &HttpRequest, state: &AppState) -> Result<String, ApiError> {
    if let Some(url) = &state.settings.public_url {
        return Ok(url.trim_end_matches('/').to_owned());
    }
    let (scheme, host, names) = if state.settings.trust_forwarded {
        let info = req.connection_info();
        (info.scheme().to_owned(), info.host().to_owned(), "Forwarded, X-Forwarded-Proto or X-Forwarded-Host")
    } else {
        let host = req.headers().get(header::HOST).and_then(|h| h.to_str().ok()).map(str::to_owned);
        let host = host.or_else(|| req.uri().authority().map(ToString::to_string));
        let scheme = if req.app_config().secure() { "https" } else { "http" };
        (scheme.to_owned(), host.unwrap_or_else(|| req.app_config().host().to_owned()), "Host")
    };
    let base = format!("{scheme}://{host}");
    let host_only = host.bytes().all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b));
    if matches!(scheme.as_str(), "http" | "https") && host_only && HttpUrl::parse(&base).is_ok() {
        Ok(base)
    } else {
        Err(ApiError::BadRequest(format!(
            "{names}: the request's URL would be {base:?}, not http or https and a host name or address (and a port)"
        )))
    }
}
