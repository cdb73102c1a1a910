//! `/customers/{id}/pbxs`: create (the seed), list, get, patch, delete.

use actix_web::http::header::HeaderName;
use actix_web::{HttpRequest, HttpResponse, web};
use pbx_application::idempotency::Once;
use pbx_application::pbx::{CreatePbxCommand, Patched};
use pbx_domain::connection::Status;
use pbx_domain::{CustomerId, PbxId};

use super::{CustomerPath, PbxPath, base_url};
use crate::body::{json_object, json_value};
use crate::envelope::{deleted, success};
use crate::etag::{etag, if_match, unconditionally};
use crate::idempotency;
use crate::paging::{collection, page};
use crate::query::QueryParams;
use crate::wire::field::FieldProblem;
use crate::wire::patch::operations;
use crate::wire::profile::{self, InstanceLookupView, ProfileView, Secrets, SummaryView};
use crate::{ApiError, AppState, Caller, Scope};

const ACCEPT_CHARGES: HeaderName = HeaderName::from_static("accept-charges");

/// Whether the request carries `accept-charges: true`.
pub(super) fn accepts_charges(req: &HttpRequest) -> bool {
    req.headers()
        .get(ACCEPT_CHARGES)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
}

/// The ids of `/customers/{customer_id}/pbxs/{pbx_id}`, in path order (400 for the first that is not a GUID).
pub(super) fn ids(path: &PbxPath) -> Result<(CustomerId, PbxId), ApiError> {
    let customer = CustomerId::parse(&path.customer_id).map_err(|e| ApiError::invalid_id(&e))?;
    let pbx = PbxId::parse(&path.pbx_id).map_err(|e| ApiError::invalid_id(&e))?;
    Ok((customer, pbx))
}

/// Create a PBX profile
///
/// Registers how to reach one of the customer's phone systems (Kazoo, 3CX or Microsoft Teams, chosen by `_type`).
/// Chargeable: the request must say `accept-charges: true` (402 without it). A PBX instance is attached to one
/// customer at most (409). The answer alone shows the secrets back; the service then checks the connection by itself.
#[utoipa::path(
    operation_id = "createPbx",
    post,
    path = "/api/v1.0/customers/{customer_id}/pbxs",
    tag = "PBX profiles",
    params(
        ("customer_id" = crate::wire::Guid, Path, description = "The customer's tenant id (a GUID)"),
        ("accept-charges" = String, Header, description = "`true` (any case): creating a profile is chargeable; without it the answer is 402, after every other check", pattern = "^[Tt][Rr][Uu][Ee]$", example = "true"),
        ("Idempotency-Key" = Option<String>, Header, nullable = false, description = "Makes the create safe to retry: a repeat of the same request with the same key within 24 hours gets the first 201 back (marked `Idempotent-Replayed: true`) and creates nothing; 1 to 255 visible ASCII characters, unique per request (a UUID, say)", pattern = "^[!-~]{1,255}$"),
    ),
    request_body(
        content = crate::wire::profile::NewProfileSchema,
        description = "One profile, chosen by `_type`",
        examples(
            ("Kazoo (the seed)" = (value = json!({"name": "Clients ~.pbx.kazoo.name.~ Pbx", "hostRest": "https://rest.example.com", "hostWebsocket": "wss://ws.example.com", "accountId": "12345", "apiKey": "ABCDEF", "_type": "KazooPbxConnectionProfile"}))),
            ("3CX (the seed)" = (value = json!({"_type": "ThreeCxConnectionProfile", "name": "3CX Connexion", "licenseKey": "licenseKey-licenseKey-licenseKey", "username": "nom d'utilisateur-nom d'utilisateur-nom d'utilisateur", "password": "mot de passe mot de passe", "enableRecordingArchive": "true", "recordingArchiveFrequency": "00:20:00"}))),
        )
    ),
    responses(
        (status = 201, description = "Created; this answer alone shows the secrets back", body = crate::envelope::Success<ProfileView<'static>>, headers(("Location" = String, description = "The new profile's URL"), ("ETag" = String, description = "Its version"), ("Idempotent-Replayed" = String, description = "`true` on the repeat of a request with an Idempotency-Key")), example = json!({"data": {"hostRest": "https://rest.example.com", "hostWebsocket": "wss://ws.example.com", "accountId": "12345", "apiKey": "ABCDEF", "monitorSubAccounts": false, "_type": "KazooPbxConnectionProfile", "id": "0190f5a4-7a4e-7b7e-9a52-6f1f0e0c1d2e", "name": "Clients ~.pbx.kazoo.name.~ Pbx", "tenantId": "5b2a2d4c-6f3e-4c8b-9d7a-1e2f3a4b5c6d", "countryCode": "US", "enabled": false}, "status": "success", "timestamp": "2019-11-29T16:03:23.9251680Z"})),
        (status = 400, description = "An id in the path is not a GUID, or a field or parameter is invalid (every problem listed)", body = crate::envelope::Failure),
        crate::envelope::CommonFailures,
        (status = 402, description = "Chargeable: repeat the identical request with `accept-charges: true`; nothing was created", body = crate::envelope::Failure),
        (status = 404, description = "No such customer (or profile) for this reseller", body = crate::envelope::Failure),
        (status = 409, description = "The PBX instance is already attached to a customer; or what the first request with this Idempotency-Key created was deleted since", body = crate::envelope::Failure),
        (status = 413, description = "The body is over 64 KiB", body = crate::envelope::Failure),
        (status = 415, description = "The body is not JSON", body = crate::envelope::Failure),
        (status = 422, description = "The Idempotency-Key was used with a different request in the last 24 hours", body = crate::envelope::Failure),
    ),
    security(("bearer" = [])),
)]
pub(crate) async fn create(
    req: HttpRequest,
    caller: Caller,
    path: web::Path<CustomerPath>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::PbxsWrite)?;
    let customer_id = CustomerId::parse(&path.customer_id).map_err(|e| ApiError::invalid_id(&e))?;
    let base = &base_url(&req, &state)?;
    let body = json_object(&req, payload, &state.settings).await?;
    let key = idempotency::key(&req, &body)?;
    let sent_as_text = profile::sent_as_text(&body);
    let profile = profile::parse(body).map_err(ApiError::Invalid)?;
    profile::check_hosts(&profile.connection, state.settings.pbx_hosts_allow_private, "")?;
    let accept_charges = accepts_charges(&req);
    let actor = caller.actor();
    let command = CreatePbxCommand { reseller: caller.reseller, customer_id, profile, accept_charges, key, actor };
    let Once { value: created, replayed } = state.create_pbx.execute(command).await?;
    let profile = &created.profile.value;
    let connection = match created.connection {
        // Kept: a repeat of the create, re-read.
        Some(kept) => state.checks.summarize(profile.pbx_type(), &kept),
        None => {
            state.metrics.record_profile_created(profile.pbx_type().as_str());
            state.checks.unchecked(profile.pbx_type(), Status::default())
        }
    };
    let location = format!("{base}{}/customers/{}/pbxs/{}", caller.routes(), profile.customer_id, profile.id);
    let answer = idempotency::created(location, created.profile.version, replayed);
    Ok(success(answer, ProfileView::new(profile, Secrets::Shown, &sent_as_text, Some(&connection))))
}

/// List a customer's PBX profiles
///
/// Summaries of the customer's profiles (never a secret), a page at a time, oldest first, each with its connection
/// state.
#[utoipa::path(
    operation_id = "listPbxs",
    get,
    path = "/api/v1.0/customers/{customer_id}/pbxs",
    tag = "PBX profiles",
    params(
        ("customer_id" = crate::wire::Guid, Path, description = "The customer's tenant id (a GUID)"),
        ("pageIndex" = Option<u64>, Query, description = "The page, from 0 (default 0)", minimum = 0, maximum = 9_007_199_254_740_991_usize),
        ("pageSize" = Option<u64>, Query, description = "Items a page, 1 to 1000 (default 100)", minimum = 1, maximum = 1000),
    ),
    responses(
        (status = 200, description = "A page of summaries, oldest first", body = crate::paging::Collection<SummaryView<'static>>),
        (status = 400, description = "An id in the path is not a GUID, or a field or parameter is invalid (every problem listed)", body = crate::envelope::Failure),
        crate::envelope::CommonFailures,
        (status = 404, description = "No such customer (or profile) for this reseller", body = crate::envelope::Failure),
    ),
    security(("bearer" = [])),
)]
pub(crate) async fn list(
    caller: Caller,
    path: web::Path<CustomerPath>,
    mut query: QueryParams,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::PbxsRead)?;
    let customer_id = CustomerId::parse(&path.customer_id).map_err(|e| ApiError::invalid_id(&e))?;
    let page = page(&mut query);
    let page = query.checked(page)?;
    let summaries = state.read_pbxs.list(caller.reseller, customer_id, page).await?;
    Ok(collection(HttpResponse::Ok(), page, summaries.iter().map(|s| SummaryView::new(s, &state.checks)).collect()))
}

/// Get a PBX profile
///
/// The profile without its secrets, with its connection status (`connection`) and its version as `ETag`.
#[utoipa::path(
    operation_id = "getPbx",
    get,
    path = "/api/v1.0/customers/{customer_id}/pbxs/{pbx_id}",
    tag = "PBX profiles",
    params(
        ("customer_id" = crate::wire::Guid, Path, description = "The customer's tenant id (a GUID)"),
        ("pbx_id" = crate::wire::Guid, Path, description = "The profile's id (a GUID)"),
    ),
    responses(
        (status = 200, description = "The profile, without its secrets", body = crate::envelope::Success<ProfileView<'static>>, headers(("ETag" = String, description = "Its version"))),
        (status = 400, description = "An id in the path is not a GUID, or a field or parameter is invalid (every problem listed)", body = crate::envelope::Failure),
        crate::envelope::CommonFailures,
        (status = 404, description = "No such customer (or profile) for this reseller", body = crate::envelope::Failure),
    ),
    security(("bearer" = [])),
)]
pub(crate) async fn get(
    caller: Caller,
    path: web::Path<PbxPath>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::PbxsRead)?;
    let (customer_id, pbx_id) = ids(&path)?;
    let shown = state.read_pbxs.get(caller.reseller, customer_id, pbx_id).await?;
    let connection = state.checks.summarize(shown.profile.value.pbx_type(), &shown.connection);
    let mut ok = HttpResponse::Ok();
    ok.insert_header(etag(shown.profile.version));
    Ok(success(ok, ProfileView::new(&shown.profile.value, Secrets::Hidden, &[], Some(&connection))))
}

/// Change a PBX profile
///
/// A JSON Patch of the profile's fields; all operations apply or none. Enabling a disabled profile is chargeable
/// (`accept-charges: true`, 402 without it); moving a secret elsewhere (a new host, licence key or user name) needs
/// the secret written again. With `If-Match`, 412 when the profile changed since that version; without it, the patch
/// applies to the profile as it is when written.
#[utoipa::path(
    operation_id = "patchPbx",
    patch,
    path = "/api/v1.0/customers/{customer_id}/pbxs/{pbx_id}",
    tag = "PBX profiles",
    params(
        ("customer_id" = crate::wire::Guid, Path, description = "The customer's tenant id (a GUID)"),
        ("pbx_id" = crate::wire::Guid, Path, description = "The profile's id (a GUID)"),
        ("accept-charges" = Option<String>, Header, nullable = false, description = "`true` (any case) to accept the charge of enabling the profile (402 without it when the patch enables a disabled profile); anything else counts as absent"),
        ("If-Match" = Option<String>, Header, nullable = false, description = "The ETag last read (`\"3\"`; `W/\"3\"` and a bare `3` are read alike); 412 when the resource has changed since", pattern = "^(\\*|(W/)?\"[0-9]+\"|[0-9]+)$"),
    ),
    request_body(content = crate::wire::profile::PbxPatch, content_type = "application/json-patch+json", description = "A JSON Patch document: add, remove (optional fields), replace, test; all apply or none", example = json!([{"op": "replace", "path": "/enabled", "value": "true"}])),
    responses(
        (status = 200, description = "The patched profile, without its secrets", body = crate::envelope::Success<ProfileView<'static>>, headers(("ETag" = String, description = "Its new version"))),
        (status = 400, description = "An id in the path is not a GUID, or a field or parameter is invalid (every problem listed)", body = crate::envelope::Failure),
        crate::envelope::CommonFailures,
        (status = 402, description = "Enabling is chargeable: repeat with `accept-charges: true`; nothing was changed", body = crate::envelope::Failure),
        (status = 404, description = "No such customer (or profile) for this reseller", body = crate::envelope::Failure),
        (status = 409, description = "The new instance is attached elsewhere, a test operation failed, or (without If-Match) the profile changed 20 times in a row while the patch was applied; nothing was changed", body = crate::envelope::Failure),
        (status = 412, description = "The profile has changed since the If-Match version", body = crate::envelope::Failure),
        (status = 413, description = "The body is over 64 KiB", body = crate::envelope::Failure),
        (status = 415, description = "The body is not JSON", body = crate::envelope::Failure),
    ),
    security(("bearer" = [])),
)]
pub(crate) async fn patch(
    req: HttpRequest,
    caller: Caller,
    path: web::Path<PbxPath>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::PbxsWrite)?;
    let (customer_id, pbx_id) = ids(&path)?;
    let if_match = if_match(&req)?;
    let operations = operations(json_value(&req, payload, &state.settings).await?)?;
    let Patched { profile, connection } = unconditionally(if_match, async || {
        let editable = state.patch_pbx.load(caller.reseller, customer_id, pbx_id, if_match).await?;
        let change = profile::patched(&editable.current.value, operations.clone())?;
        profile::check_hosts(&change.profile.connection, state.settings.pbx_hosts_allow_private, "")?;
        Ok(state.patch_pbx.save(editable, change, accepts_charges(&req), &caller.actor()).await?)
    })
    .await?;
    let connection = match connection {
        // Never checked, or its connection just changed: checked next, when the service checks by itself.
        status @ Status { checked: None, checking_until: None, .. } => {
            state.checks.unchecked(profile.value.pbx_type(), status)
        }
        status => state.checks.summarize(profile.value.pbx_type(), &status),
    };
    let mut ok = HttpResponse::Ok();
    ok.insert_header(etag(profile.version));
    Ok(success(ok, ProfileView::new(&profile.value, Secrets::Hidden, &[], Some(&connection))))
}

/// Delete a PBX profile
///
/// Deletes a profile; its PBX instance can be attached again. `If-Match` makes the delete conditional on the version
/// last read.
#[utoipa::path(
    operation_id = "deletePbx",
    delete,
    path = "/api/v1.0/customers/{customer_id}/pbxs/{pbx_id}",
    tag = "PBX profiles",
    params(
        ("customer_id" = crate::wire::Guid, Path, description = "The customer's tenant id (a GUID)"),
        ("pbx_id" = crate::wire::Guid, Path, description = "The profile's id (a GUID)"),
        ("If-Match" = Option<String>, Header, nullable = false, description = "The ETag last read (`\"3\"`; `W/\"3\"` and a bare `3` are read alike); 412 when the resource has changed since", pattern = "^(\\*|(W/)?\"[0-9]+\"|[0-9]+)$"),
    ),
    responses(
        (status = 200, description = "Deleted; the PBX instance can be attached again", body = crate::envelope::Deleted),
        (status = 400, description = "An id in the path is not a GUID, or a field or parameter is invalid (every problem listed)", body = crate::envelope::Failure),
        crate::envelope::CommonFailures,
        (status = 404, description = "No such customer (or profile) for this reseller", body = crate::envelope::Failure),
        (status = 412, description = "The profile has changed since the If-Match version", body = crate::envelope::Failure),
    ),
    security(("bearer" = [])),
)]
pub(crate) async fn delete(
    req: HttpRequest,
    caller: Caller,
    path: web::Path<PbxPath>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::PbxsWrite)?;
    let (customer_id, pbx_id) = ids(&path)?;
    state.delete_pbx.execute(caller.reseller, customer_id, pbx_id, if_match(&req)?, &caller.actor()).await?;
    Ok(deleted())
}

/// Look up a PBX instance
///
/// Whether a PBX instance (a Kazoo account id, a 3CX licence key, a Teams tenant) is attached to a customer, and the
/// ids of the customer and profile when they are the caller's.
#[utoipa::path(
    operation_id = "lookupPbxInstance",
    get,
    path = "/api/v1.0/pbxs",
    tag = "PBX profiles",
    params(
        ("instanceId" = String, Query, description = "The id of a PBX instance, in the field each profile type names it (see `NewPbxProfile`), in any case or width; something besides white space, and no control or format character"),
    ),
    responses(
        (status = 200, description = "Whether the instance is attached (ids only when to one of your customers)", body = crate::envelope::Success<InstanceLookupView<'static>>),
        (status = 400, description = "`instanceId` is missing, only white space, sent twice or holds a control or format character", body = crate::envelope::Failure),
        crate::envelope::CommonFailures,
    ),
    security(("bearer" = [])),
)]
pub(crate) async fn lookup(
    caller: Caller,
    mut query: QueryParams,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::PbxsRead)?;
    let sent = query.get("instanceId").is_some();
    let instance_id = query.text("instanceId");
    let instance_id = query.checked(instance_id)?;
    let instance_id = instance_id.as_deref().map(str::trim).filter(|v| !v.is_empty()).ok_or_else(|| {
        let message = if sent { "must be more than white space" } else { "is required: the id of a PBX instance" };
        ApiError::Invalid(vec![FieldProblem::new("instanceId", message)])
    })?;
    let found = state.read_pbxs.lookup(caller.reseller, instance_id).await?;
    let data = InstanceLookupView::new(instance_id, &found);
    Ok(success(HttpResponse::Ok(), data))
}
