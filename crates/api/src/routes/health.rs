//! `GET /healthz` (the process answers) and `GET /readyz` (and its database is reachable and migrated). No token.

use actix_web::{HttpResponse, web};
use pbx_application::RepositoryError;
use serde_json::json;

use crate::envelope::success;
use crate::{ApiError, AppState};

#[utoipa::path(
    operation_id = "healthz",
    get,
    path = "/healthz",
    tag = "Operations",
    responses(
        (status = 200, description = "The process answers", body = crate::openapi::HealthEnvelope),
    ),
)]
pub(crate) async fn healthz() -> HttpResponse {
    success(HttpResponse::Ok(), json!({ "status": "alive" }))
}

#[utoipa::path(
    operation_id = "readyz",
    get,
    path = "/readyz",
    tag = "Operations",
    responses(
        (status = 200, description = "The database answers and is migrated", body = crate::openapi::HealthEnvelope),
        (status = 503, description = "The database is unreachable or not migrated", body = crate::openapi::ErrorEnvelope),
    ),
)]
pub(crate) async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    if state.draining.load(std::sync::atomic::Ordering::Relaxed) {
        return Err(ApiError::Unavailable(anyhow::anyhow!("the server is shutting down")));
    }
    state.readiness.check().await.map_err(|e| match e {
        RepositoryError::Unavailable(e) | RepositoryError::Unexpected(e) => ApiError::Unavailable(e),
    })?;
    Ok(success(HttpResponse::Ok(), json!({ "status": "ready" })))
}
