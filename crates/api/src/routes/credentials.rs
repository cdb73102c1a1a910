//! `GET /customers/{id}/pbxs/{pbxId}/credentials`: what a collector needs to connect (scope `collector`), each read
//! recorded in the feed.

use actix_web::{HttpResponse, web};

use super::PbxPath;
use crate::envelope::success;
use crate::{ApiError, AppState, Caller, Scope};

/// Read a profile's credentials
///
/// The secrets a collector needs to connect to the profile's PBX (scope `collector`, any tenant's profile). Each read
/// is recorded in the change feed as `pbx.credentials_read`.
#[utoipa::path(
    operation_id = "getPbxCredentials",
    get,
    path = "/api/v1.0/customers/{customer_id}/pbxs/{pbx_id}/credentials",
    tag = "Change feed",
    params(
        ("customer_id" = crate::wire::Guid, Path, description = "The customer's tenant id (a GUID)"),
        ("pbx_id" = crate::wire::Guid, Path, description = "The profile's id (a GUID)"),
    ),
    responses(
        (status = 200, description = "The profile's credentials (only with the `collector` scope, for any tenant's profile); the read is recorded as `pbx.credentials_read`", body = crate::envelope::Success<pbx_domain::Credentials>),
        (status = 400, description = "An id in the path is not a GUID", body = crate::envelope::Failure),
        crate::envelope::CommonFailures,
        (status = 404, description = "No such profile", body = crate::envelope::Failure),
    ),
    security(("bearer" = [])),
)]
pub(crate) async fn credentials(
    caller: Caller,
    path: web::Path<PbxPath>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::Collector)?;
    let (customer, pbx) = super::pbxs::ids(&path)?;
    let credentials = state.read_credentials.execute(customer, pbx, &caller.actor()).await?;
    Ok(success(HttpResponse::Ok(), credentials))
}
