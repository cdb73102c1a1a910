//! The reseller portal: a single page at `/` (HTML, CSS and plain JavaScript embedded in the binary) that manages
//! customers and profiles through the public API, and, on a server that mints its own tokens and listens on
//! loopback only, a development token for it.

use std::time::Duration;

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use pbx_domain::ResellerId;
use serde::Serialize;

use crate::envelope::{JSON_UTF8, success};
use crate::{ApiError, AppState};

const INDEX: &str = include_str!("../portal/index.html");
const SCRIPT: &str = include_str!("../portal/app.js");
const STYLE: &str = include_str!("../portal/app.css");

/// The reseller the development token acts for: the same on every start, so that a developer finds their data again.
pub const DEV_TENANT: &str = "00000000-0000-4000-8000-00000000d0e5";

/// How long a development token lasts.
const DEV_TOKEN_TTL: Duration = Duration::from_secs(8 * 3600);

/// Scripts, styles and requests from this origin only; no inline script, no framing.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; \
                   form-action 'none'; frame-ancestors 'none'; base-uri 'none'";

fn asset(content_type: &'static str, body: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::CONTENT_SECURITY_POLICY, CSP))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .body(body)
}

/// `GET /`: the page.
pub(crate) async fn index() -> HttpResponse {
    asset("text/html; charset=utf-8", INDEX)
}

/// `GET /portal/app.js`.
pub(crate) async fn script() -> HttpResponse {
    asset("text/javascript; charset=utf-8", SCRIPT)
}

/// `GET /portal/app.css`.
pub(crate) async fn style() -> HttpResponse {
    asset("text/css; charset=utf-8", STYLE)
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PortalConfig {
    dev_tokens: bool,
}

/// `GET /portal/config.json`: what the page may offer.
pub(crate) async fn config(state: web::Data<AppState>) -> HttpResponse {
    let body = PortalConfig { dev_tokens: state.settings.dev_tokens };
    HttpResponse::Ok().content_type(JSON_UTF8).json(body)
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DevToken {
    token: String,
    tenant_id: String,
    expires_in: u64,
}

/// `POST /portal/dev-token`: a token with every scope for [`DEV_TENANT`]; 404 unless development tokens are on.
///
/// # Errors
/// 404 when they are off; 500 if minting fails.
pub(crate) async fn dev_token(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    if !state.settings.dev_tokens {
        return Err(ApiError::NotFound);
    }
    let tenant = ResellerId::parse(DEV_TENANT).map_err(|e| ApiError::Internal(anyhow::anyhow!("{e}")))?;
    let token = state.authenticator.mint(tenant, "onboarding", DEV_TOKEN_TTL).map_err(ApiError::Internal)?;
    Ok(success(
        HttpResponse::Ok(),
        DevToken { token, tenant_id: DEV_TENANT.to_owned(), expires_in: DEV_TOKEN_TTL.as_secs() },
    ))
}
