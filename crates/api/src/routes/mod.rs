//! The routes under `/api/v1.0`, one module per resource, and the health routes.

pub(crate) mod customers;
pub(crate) mod health;
pub(crate) mod pbxs;

use actix_web::HttpRequest;

use crate::AppState;

/// The public base URL: the configured one, else the scheme and host the request came to.
fn base_url(req: &HttpRequest, state: &AppState) -> String {
    match &state.settings.public_url {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None => {
            let info = req.connection_info();
            format!("{}://{}", info.scheme(), info.host())
        }
    }
}
