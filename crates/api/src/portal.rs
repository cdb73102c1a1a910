//! The reseller portal: a single page at `/` (HTML, CSS and plain JavaScript embedded in the binary) that manages
//! customers and profiles through the public API, and, on a server that mints its own tokens and listens on
//! loopback only, a development token for it.

use std::time::Duration;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
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

/// Whether the request names this server by a loopback name (`localhost`, `127.0.0.1`, `[::1]`): a page of another
/// site whose name was re-pointed at 127.0.0.1 (DNS rebinding) sends its own name, and gets no token.
fn addressed_as_loopback(req: &HttpRequest) -> bool {
    let Some(host) = req.headers().get(header::HOST).and_then(|v| v.to_str().ok()) else { return false };
    let name = match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    };
    matches!(name, "localhost" | "127.0.0.1" | "[::1]")
}

/// Whether the request came through a proxy that says so (`Forwarded`, `X-Forwarded-*`): a proxy on this host
/// reaches the server from loopback and may keep the loopback `Host` (nginx's `proxy_pass http://127.0.0.1:8080`
/// does), so loopback alone does not prove the caller is on this host.
fn forwarded(req: &HttpRequest) -> bool {
    req.headers().keys().any(|name| name.as_str() == "forwarded" || name.as_str().starts_with("x-forwarded-"))
}

/// `POST /portal/dev-token`: a token with every scope for [`DEV_TENANT`]; 404 unless development tokens are on,
/// the request names the server by a loopback name and it did not come through a proxy.
///
/// # Errors
/// 404 when they are off; 500 if minting fails.
pub(crate) async fn dev_token(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    if !state.settings.dev_tokens || !addressed_as_loopback(&req) || forwarded(&req) {
        return Err(ApiError::NotFound);
    }
    let reseller = ResellerId::parse(DEV_TENANT).map_err(|e| ApiError::Internal(anyhow::anyhow!("{e}")))?;
    let token = state.authenticator.mint(reseller, "onboarding", DEV_TOKEN_TTL).map_err(ApiError::Internal)?;
    Ok(success(
        HttpResponse::Ok(),
        DevToken { token, tenant_id: DEV_TENANT.to_owned(), expires_in: DEV_TOKEN_TTL.as_secs() },
    ))
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    #[test]
    fn only_loopback_names_get_development_tokens() {
        for (host, expected) in [
            ("localhost:8080", true),
            ("127.0.0.1:8080", true),
            ("[::1]:8080", true),
            ("localhost", true),
            ("evil.example.com:8080", false),
            ("127.0.0.1.evil.example.com", false),
            ("0.0.0.0:8080", false),
        ] {
            let req = TestRequest::default().insert_header(("host", host)).to_http_request();
            assert_eq!(super::addressed_as_loopback(&req), expected, "{host}");
        }
    }

    #[test]
    fn a_request_through_a_proxy_is_seen_as_forwarded() {
        for header in ["forwarded", "x-forwarded-for", "X-Forwarded-Host", "x-forwarded-proto"] {
            let req = TestRequest::default().insert_header((header, "127.0.0.1")).to_http_request();
            assert!(super::forwarded(&req), "{header}");
        }
        let direct = TestRequest::default().insert_header(("host", "127.0.0.1:8080")).to_http_request();
        assert!(!super::forwarded(&direct));
    }
}
