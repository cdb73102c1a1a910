//! `GET /healthz` (the process answers) and `GET /readyz` (and its database is reachable and migrated). No token.

use actix_web::{HttpResponse, web};
use pbx_application::RepositoryError;
use serde::Serialize;
use utoipa::ToSchema;

use crate::envelope::success;
use crate::{ApiError, AppState};

/// The state of the process or of its database.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Health {
    #[schema(example = "ready")]
    status: &'static str,
}

/// Liveness
///
/// 200 while the process answers; no token needed.
#[utoipa::path(
    operation_id = "healthz",
    get,
    path = "/healthz",
    tag = "Operations",
    responses(
        (status = 200, description = "The process answers", body = crate::envelope::Success<Health>),
    ),
)]
pub(crate) async fn healthz() -> HttpResponse {
    success(HttpResponse::Ok(), Health { status: "alive" })
}

/// Readiness
///
/// 200 when the database answers and is migrated, 503 otherwise (and while the process drains on shutdown); no token
/// needed.
#[utoipa::path(
    operation_id = "readyz",
    get,
    path = "/readyz",
    tag = "Operations",
    responses(
        (status = 200, description = "The database answers and is migrated", body = crate::envelope::Success<Health>),
        (status = 503, description = "The database is unreachable or not migrated", body = crate::envelope::Failure),
    ),
)]
pub(crate) async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    if state.draining.load(std::sync::atomic::Ordering::Relaxed) {
        return Err(ApiError::Unavailable(anyhow::anyhow!("the server is shutting down")));
    }
    state.readiness.check().await.map_err(|e| match e {
        RepositoryError::Unavailable(e) | RepositoryError::Unexpected(e) => ApiError::Unavailable(e),
    })?;
    Ok(success(HttpResponse::Ok(), Health { status: "ready" }))
}
