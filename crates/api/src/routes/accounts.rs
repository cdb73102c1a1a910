//! `/accounts`: the enterprise tier's accounts, created and managed by the tenant above them (§10).

use actix_web::{HttpRequest, HttpResponse, web};
use pbx_application::idempotency::Once;
use pbx_domain::ResellerId;

use super::base_url;
use crate::body::{json_object, json_value};
use crate::envelope::{deleted, success};
use crate::etag::{etag, if_match, unconditionally};
use crate::idempotency;
use crate::paging::{collection, page};
use crate::query::QueryParams;
use crate::wire::account::{self, AccountView, MetricsView};
use crate::wire::patch::operations;
use crate::{ApiError, AppState, Caller, Scope};

fn account_id(path: &str) -> Result<ResellerId, ApiError> {
    ResellerId::parse(path).map_err(|e| ApiError::invalid_id(&e))
}

/// Create an account
///
/// Creates a reseller tenant under the caller's tenant (the enterprise tier). Its customers and profiles are then
/// reached under `/api/v1.0/accounts/{account_tenant_id}/…` with the caller's own token. With `Idempotency-Key`, a
/// repeat within 24 hours answers what the first request created.
#[utoipa::path(
    operation_id = "createAccount",
    post,
    path = "/api/v1.0/accounts",
    tag = "Accounts",
    params(
        ("Idempotency-Key" = Option<String>, Header, nullable = false, description = "Makes the create safe to retry: a repeat of the same request with the same key within 24 hours gets the first 201 back (marked `Idempotent-Replayed: true`) and creates nothing; 1 to 255 visible ASCII characters, unique per request (a UUID, say)", pattern = "^[!-~]{1,255}$"),
    ),
    request_body(content = crate::wire::account::AccountBody, example = json!({"name": "Brand North", "countryCode": "CA", "timezone": "America/Toronto"})),
    responses(
        (status = 201, description = "Created: a reseller tenant under the caller", body = crate::envelope::Success<AccountView<'static>>, headers(("Location" = String, description = "The new account's URL"), ("ETag" = String, description = "Its version"), ("Idempotent-Replayed" = String, description = "`true` on the repeat of a request with an Idempotency-Key"))),
        (status = 400, description = "Invalid fields, every one listed", body = crate::envelope::Failure),
        crate::envelope::CommonFailures,
        (status = 409, description = "What the first request with this Idempotency-Key created was deleted since", body = crate::envelope::Failure),
        (status = 413, description = "The body is over 64 KiB", body = crate::envelope::Failure),
        (status = 415, description = "The body is not JSON", body = crate::envelope::Failure),
        (status = 422, description = "The Idempotency-Key was used with a different request in the last 24 hours", body = crate::envelope::Failure),
    ),
    security(("bearer" = [])),
)]
pub(crate) async fn create(
    req: HttpRequest,
    caller: Caller,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::AccountsWrite)?;
    let base = &base_url(&req, &state)?;
    let body = json_object(&req, payload, &state.settings).await?;
    let key = idempotency::key(&req, &body)?;
    let details = account::parse(body).map_err(ApiError::Invalid)?;
    let Once { value: account, replayed } = state.accounts.create(caller.reseller, details, key.as_ref()).await?;
    let location = format!("{base}/api/v1.0/accounts/{}", account.value.id);
    Ok(success(idempotency::created(location, account.version, replayed), AccountView::new(&account.value)))
}

/// List your accounts
///
/// The enterprise tier: the reseller tenants created under the caller's tenant, a page at a time, oldest first;
/// `filter` keeps those whose name or reference contains it.
#[utoipa::path(
    operation_id = "listAccounts",
    get,
    path = "/api/v1.0/accounts",
    tag = "Accounts",
    params(
        ("pageIndex" = Option<u64>, Query, description = "The page, from 0 (default 0)", minimum = 0, maximum = 9_007_199_254_740_991_usize),
        ("pageSize" = Option<u64>, Query, description = "Items a page, 1 to 1000 (default 100)", minimum = 1, maximum = 1000),
        ("filter" = Option<String>, Query, description = "Keeps accounts whose name or reference contains it, in any case"),
    ),
    responses(
        (status = 200, description = "A page of your accounts, oldest first", body = crate::paging::Collection<AccountView<'static>>),
        (status = 400, description = "A paging parameter is invalid", body = crate::envelope::Failure),
        crate::envelope::CommonFailures,
    ),
    security(("bearer" = [])),
)]
pub(crate) async fn list(
    caller: Caller,
    mut query: QueryParams,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::AccountsRead)?;
    let (page, filter) = (page(&mut query), query.text("filter"));
    let (page, filter) = query.checked((page, filter))?;
    let accounts = state.accounts.list(caller.reseller, filter, page).await?;
    Ok(collection(HttpResponse::Ok(), page, accounts.iter().map(AccountView::new).collect()))
}

/// Get an account
///
/// One of the caller's accounts, with its version as `ETag`.
#[utoipa::path(
    operation_id = "getAccount",
    get,
    path = "/api/v1.0/accounts/{account_id}",
    tag = "Accounts",
    params(
        ("account_id" = crate::wire::Guid, Path, description = "The account's tenant id (a GUID)"),
    ),
    responses(
        (status = 200, description = "The account", body = crate::envelope::Success<AccountView<'static>>, headers(("ETag" = String, description = "Its version"))),
        (status = 400, description = "An id in the path is not a GUID", body = crate::envelope::Failure),
        crate::envelope::CommonFailures,
        (status = 404, description = "No such account under the caller", body = crate::envelope::Failure),
    ),
    security(("bearer" = [])),
)]
pub(crate) async fn get(
    caller: Caller,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::AccountsRead)?;
    let account = state.accounts.get(caller.reseller, account_id(&path)?).await?;
    let mut ok = HttpResponse::Ok();
    ok.insert_header(etag(account.version));
    Ok(success(ok, AccountView::new(&account.value)))
}

/// Change an account
///
/// A JSON Patch of the account's fields; all operations apply or none. With `If-Match`, 412 when the account changed
/// since that version; without it, the patch applies to the account as it is when written.
#[utoipa::path(
    operation_id = "patchAccount",
    patch,
    path = "/api/v1.0/accounts/{account_id}",
    tag = "Accounts",
    params(
        ("account_id" = crate::wire::Guid, Path, description = "The account's tenant id (a GUID)"),
        ("If-Match" = Option<String>, Header, nullable = false, description = "The ETag last read (`\"3\"`; `W/\"3\"` and a bare `3` are read alike); 412 when the resource has changed since", pattern = "^(\\*|(W/)?\"[0-9]+\"|[0-9]+)$"),
    ),
    request_body(content = crate::wire::account::AccountPatch, content_type = "application/json-patch+json", description = "A JSON Patch document: add, remove (optional fields), replace, test; all apply or none", example = json!([{"op": "replace", "path": "/enabled", "value": true}])),
    responses(
        (status = 200, description = "The patched account", body = crate::envelope::Success<AccountView<'static>>, headers(("ETag" = String, description = "Its new version"))),
        (status = 400, description = "An id in the path is not a GUID, or a field or operation is invalid (every problem listed)", body = crate::envelope::Failure),
        crate::envelope::CommonFailures,
        (status = 404, description = "No such account under the caller", body = crate::envelope::Failure),
        (status = 409, description = "A test operation failed, or (without If-Match) the resource changed 20 times in a row while the patch was applied; nothing was changed", body = crate::envelope::Failure),
        (status = 412, description = "The account has changed since the If-Match version", body = crate::envelope::Failure),
        (status = 413, description = "The body is over 64 KiB", body = crate::envelope::Failure),
        (status = 415, description = "The body is not JSON", body = crate::envelope::Failure),
    ),
    security(("bearer" = [])),
)]
pub(crate) async fn patch(
    req: HttpRequest,
    caller: Caller,
    path: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::AccountsWrite)?;
    let id = account_id(&path)?;
    let if_match = if_match(&req)?;
    let operations = operations(json_value(&req, payload, &state.settings).await?)?;
    let account = unconditionally(if_match, async || {
        let current = state.accounts.load(caller.reseller, id, if_match).await?;
        let details = account::patched(&current.value, operations.clone())?;
        Ok(state.accounts.save(current, details).await?)
    })
    .await?;
    let mut ok = HttpResponse::Ok();
    ok.insert_header(etag(account.version));
    Ok(success(ok, AccountView::new(&account.value)))
}

/// Count an account's customers and profiles
///
/// Counts over one of the caller's accounts: its customers and their profiles; with a token that also has
/// `customers:read` and `pbxs:read`, a page of its customers with their profiles (never a secret).
#[utoipa::path(
    operation_id = "getAccountMetrics",
    get,
    path = "/api/v1.0/accounts/{account_id}/metrics",
    tag = "Accounts",
    params(
        ("account_id" = crate::wire::Guid, Path, description = "The account's tenant id (a GUID)"),
        ("pageIndex" = Option<u64>, Query, description = "The page of `items`, from 0 (default 0)", minimum = 0, maximum = 9_007_199_254_740_991_usize),
        ("pageSize" = Option<u64>, Query, description = "Customers a page, 1 to 1000 (default 100)", minimum = 1, maximum = 1000),
    ),
    responses(
        (status = 200, description = "Counts over the account's customers and profiles, and, for a token that also has `customers:read` and `pbxs:read`, a page of its customers with their profiles (no secrets)", body = crate::envelope::Success<MetricsView<'static>>),
        (status = 400, description = "An id in the path is not a GUID, or a paging parameter is invalid", body = crate::envelope::Failure),
        crate::envelope::CommonFailures,
        (status = 404, description = "No such account, or the caller is neither the account nor its parent", body = crate::envelope::Failure),
    ),
    security(("bearer" = [])),
)]
pub(crate) async fn metrics(
    caller: Caller,
    path: web::Path<String>,
    mut query: QueryParams,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::AccountsRead)?;
    let id = account_id(&path)?;
    let page = page(&mut query);
    let page = query.checked(page)?;
    // The customers and their profiles are what customers:read and pbxs:read guard on the plain routes.
    let may_read_items = caller.has(Scope::CustomersRead) && caller.has(Scope::PbxsRead);
    let metrics = state.accounts.metrics(caller.reseller, id, may_read_items.then_some(page)).await?;
    Ok(success(HttpResponse::Ok(), MetricsView::new(id, &metrics, may_read_items)))
}

/// Delete an account
///
/// Deletes one of the caller's accounts: 409 while it still has customers. `If-Match` makes the delete conditional on
/// the version last read.
#[utoipa::path(
    operation_id = "deleteAccount",
    delete,
    path = "/api/v1.0/accounts/{account_id}",
    tag = "Accounts",
    params(
        ("account_id" = crate::wire::Guid, Path, description = "The account's tenant id (a GUID)"),
        ("If-Match" = Option<String>, Header, nullable = false, description = "The ETag last read (`\"3\"`; `W/\"3\"` and a bare `3` are read alike); 412 when the resource has changed since", pattern = "^(\\*|(W/)?\"[0-9]+\"|[0-9]+)$"),
    ),
    responses(
        (status = 200, description = "Deleted: from now on the account answers 404", body = crate::envelope::Deleted),
        (status = 400, description = "An id in the path is not a GUID", body = crate::envelope::Failure),
        crate::envelope::CommonFailures,
        (status = 404, description = "No such account under the caller", body = crate::envelope::Failure),
        (status = 409, description = "The account still has customers", body = crate::envelope::Failure),
        (status = 412, description = "The account has changed since the If-Match version", body = crate::envelope::Failure),
    ),
    security(("bearer" = [])),
)]
pub(crate) async fn delete(
    req: HttpRequest,
    caller: Caller,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::AccountsWrite)?;
    state.accounts.delete(caller.reseller, account_id(&path)?, if_match(&req)?).await?;
    Ok(deleted())
}
