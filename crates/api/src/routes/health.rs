//! `GET /healthz` (the process answers) and `GET /readyz` (and its database is reachable and migrated). No token.

use actix_web::{HttpResponse, web};
use pbx_application::RepositoryError;
use serde_json::json;

use crate::envelope::success;
use crate::{ApiError, AppState};

pub(super) async fn healthz() -> HttpResponse {
    success(HttpResponse::Ok(), json!({ "status": "alive" }))
}

pub(super) async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    state.readiness.check().await.map_err(|e| match e {
        RepositoryError::Unavailable(e) | RepositoryError::Unexpected(e) => ApiError::Unavailable(e),
    })?;
    Ok(success(HttpResponse::Ok(), json!({ "status": "ready" })))
}
