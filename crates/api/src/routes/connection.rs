//! Connection status (§15): check a profile now, check a profile before it is saved, and collectors' reports.

use std::sync::LazyLock;

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use pbx_application::connection::CheckError;
use pbx_domain::connection::{CollectorMessage, CollectorReason, CollectorReport, CollectorState, Connection};
use pbx_domain::{CustomerId, PbxProfile, Withheld};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{CustomerPath, PbxPath};
use crate::body::json_object;
use crate::envelope::success;
use crate::wire::field::{Field, FieldProblem, Problems};
use crate::wire::profile::{self, ProfileView, Secrets};
use crate::wire::{Body, Fields, parse_body};
use crate::{ApiError, AppState, Caller, Scope};

impl From<CheckError> for ApiError {
    fn from(error: CheckError) -> Self {
        match error {
            CheckError::NotFound => Self::NotFound,
            CheckError::Storage(e) => e.into(),
        }
    }
}

fn answer(profile: &PbxProfile<Withheld>, connection: &Connection) -> HttpResponse {
    success(HttpResponse::Ok(), ProfileView::new(profile, Secrets::Hidden, &[], Some(connection)))
}

/// Check a profile's connection now
///
/// Runs the service's check of a stored profile at once and answers the profile with the result in `connection` (12 s
/// at most). A request while a check runs joins it; at most one check starts per profile every 10 s.
#[utoipa::path(
    operation_id = "checkPbx",
    post,
    path = "/api/v1.0/customers/{customer_id}/pbxs/{pbx_id}/check",
    tag = "Connection status",
    params(
        ("customer_id" = crate::wire::Guid, Path, description = "The customer's tenant id (a GUID)"),
        ("pbx_id" = crate::wire::Guid, Path, description = "The profile's id (a GUID)"),
    ),
    responses(
        (status = 200, description = "The profile with the check's result in `connection` (12 s at most). A request while a check runs joins it; one check is started per profile every 10 s at most, a request in between gets the last result. The profile's version does not change.", body = crate::envelope::Success<ProfileView<'static>>),
        (status = 400, description = "An id in the path is not a GUID", body = crate::envelope::Failure),
        crate::envelope::CommonFailures,
        (status = 404, description = "No such customer (or profile) for this reseller", body = crate::envelope::Failure),
    ),
    security(("bearer" = [])),
)]
pub(crate) async fn check(
    caller: Caller,
    path: web::Path<PbxPath>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::PbxsWrite)?;
    let (customer_id, pbx_id) = super::pbxs::ids(&path)?;
    let (profile, connection) = state.checks.check_now(&caller.actor(), caller.reseller, customer_id, pbx_id).await?;
    Ok(answer(&profile, &connection))
}

/// A check of a profile not yet saved.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ConnectionCheck)]
pub(crate) struct DryRunView {
    connection: Connection,
}

/// Test a profile before creating it
///
/// Checks the connection of a profile that is not saved: the same body as a create, the same checks as the service
/// runs on a stored profile, at most 12 s. Nothing is stored, charged or recorded.
#[utoipa::path(
    operation_id = "checkNewPbx",
    post,
    path = "/api/v1.0/customers/{customer_id}/pbxs/check",
    tag = "Connection status",
    params(("customer_id" = crate::wire::Guid, Path, description = "The customer's tenant id (a GUID)")),
    request_body(content = crate::wire::profile::NewProfileSchema, description = "A create's body: the profile to check before it is saved"),
    responses(
        (status = 200, description = "What a check of the profile finds (12 s at most); nothing is stored, charged or recorded", body = crate::envelope::Success<DryRunView>),
        (status = 400, description = "An id in the path is not a GUID, or a field is invalid (every problem listed)", body = crate::envelope::Failure),
        crate::envelope::CommonFailures,
        (status = 404, description = "No such customer for this reseller", body = crate::envelope::Failure),
        (status = 413, description = "The body is over 64 KiB", body = crate::envelope::Failure),
        (status = 415, description = "The body is not JSON", body = crate::envelope::Failure),
    ),
    security(("bearer" = [])),
)]
pub(crate) async fn check_new(
    req: HttpRequest,
    caller: Caller,
    path: web::Path<CustomerPath>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::PbxsWrite)?;
    let customer_id = CustomerId::parse(&path.customer_id).map_err(|e| ApiError::invalid_id(&e))?;
    let body = json_object(&req, payload, &state.settings).await?;
    let profile = profile::parse(body).map_err(ApiError::Invalid)?;
    profile::check_hosts(&profile.connection, state.settings.pbx_hosts_allow_private, "")?;
    let connection = state.checks.dry_run(caller.reseller, customer_id, &profile.connection).await?;
    Ok(success(HttpResponse::Ok(), DryRunView { connection }))
}

/// A collector's report on the profile it collects from.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = CollectorReportBody)]
pub(crate) struct ReportBody {
    /// What the collector sees.
    #[serde(default)]
    #[schema(value_type = CollectorState, required = true)]
    state: Field<String>,
    /// Why, as a CamelCase name (`WebsocketClosed`).
    #[serde(default)]
    #[schema(value_type = String, pattern = "^[A-Z][A-Za-z0-9]{0,63}$")]
    reason: Field<String>,
    /// A sentence for people (1–200 characters, no control characters).
    #[serde(default)]
    #[schema(value_type = String, min_length = 1, max_length = 200)]
    message: Field<String>,
    /// When the collector last received an event from the PBX (RFC 3339).
    #[serde(default)]
    #[schema(value_type = String, format = DateTime)]
    last_event_at: Field<String>,
}

impl Body for ReportBody {
    const KIND: &'static str = "a collector's report";
    const SET_BY_SERVICE: &'static [&'static str] = &["lastSeenAt"];
    fn fields() -> &'static Fields {
        static FIELDS: LazyLock<Fields> = LazyLock::new(Fields::of::<ReportBody>);
        &FIELDS
    }
}

impl ReportBody {
    fn parse(self, now: DateTime<Utc>) -> Result<CollectorReport, Vec<FieldProblem>> {
        let mut problems = Problems::default();
        let state = self.state.required("state", parse_state, &mut problems);
        let reason = self.reason.optional("reason", CollectorReason::parse, &mut problems);
        let message = self.message.optional("message", CollectorMessage::parse, &mut problems);
        let last_event_at = self.last_event_at.optional("lastEventAt", parse_instant, &mut problems);
        problems.or_build(|| {
            Some(CollectorReport {
                state: state?,
                reason: reason?,
                message: message?,
                last_seen_at: now,
                last_event_at: last_event_at?,
            })
        })
    }
}

fn parse_state(value: &str) -> Result<CollectorState, &'static str> {
    serde_json::from_value(serde_json::Value::from(value))
        .map_err(|_| "must be one of: connected, connecting, disconnected, failed")
}

fn parse_instant(value: &str) -> Result<DateTime<Utc>, &'static str> {
    DateTime::parse_from_rfc3339(value)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| "must be an RFC 3339 date and time (2026-12-07T10:00:00Z)")
}

/// Report what a collector sees
///
/// A collector of the platform reports whether it reaches the profile's PBX (scope `collector`); the profile's
/// connection state combines it with the service's own check.
#[utoipa::path(
    operation_id = "reportPbxConnection",
    put,
    path = "/api/v1.0/customers/{customer_id}/pbxs/{pbx_id}/connection/collector",
    tag = "Connection status",
    params(
        ("customer_id" = crate::wire::Guid, Path, description = "The customer's tenant id (a GUID)"),
        ("pbx_id" = crate::wire::Guid, Path, description = "The profile's id (a GUID)"),
    ),
    request_body(content = ReportBody, description = "What the collector sees; `lastSeenAt` is the service's clock"),
    responses(
        (status = 200, description = "The profile with its `connection` (only with the `collector` scope, for any tenant's profile); `pbx.connection_changed` is recorded when the state or reason changes", body = crate::envelope::Success<ProfileView<'static>>),
        (status = 400, description = "An id in the path is not a GUID, or a field is invalid (every problem listed)", body = crate::envelope::Failure),
        crate::envelope::CommonFailures,
        (status = 404, description = "No such profile", body = crate::envelope::Failure),
        (status = 413, description = "The body is over 64 KiB", body = crate::envelope::Failure),
        (status = 415, description = "The body is not JSON", body = crate::envelope::Failure),
    ),
    security(("bearer" = [])),
)]
pub(crate) async fn report(
    req: HttpRequest,
    caller: Caller,
    path: web::Path<PbxPath>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::Collector)?;
    let (customer_id, pbx_id) = super::pbxs::ids(&path)?;
    let body = json_object(&req, payload, &state.settings).await?;
    let report = parse_body(body, |b: ReportBody| b.parse(state.checks.now())).map_err(ApiError::Invalid)?;
    let (profile, connection) = state.checks.report(&caller.actor(), customer_id, pbx_id, report).await?;
    Ok(answer(&profile, &connection))
}
