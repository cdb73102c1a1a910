//! `/webhooks`: a reseller's endpoints that receive its events (§13), at `/api/v1.0` and under the account prefix.

use actix_web::{HttpRequest, HttpResponse, web};
use pbx_application::idempotency::Once;
use pbx_domain::WebhookId;

use super::base_url;
use crate::body::{json_object, json_value};
use crate::envelope::{deleted, success};
use crate::etag::{etag, if_match, unconditionally};
use crate::idempotency;
use crate::paging::{collection, page};
use crate::query::QueryParams;
use crate::wire::patch::operations;
use crate::wire::webhook::{self, DeliveryView, WebhookView};
use crate::{ApiError, AppState, Caller, Scope};

/// The path of a webhook's routes, read by name: the account prefix adds a parameter before it.
#[derive(serde::Deserialize)]
pub(crate) struct WebhookPath {
    webhook_id: String,
}

impl WebhookPath {
    fn id(&self) -> Result<WebhookId, ApiError> {
        WebhookId::parse(&self.webhook_id).map_err(|e| ApiError::invalid_id(&e))
    }
}

/// Create a webhook
///
/// Registers an endpoint (its URL) that receives the caller's events, signed per Standard Webhooks 1.0 with the
/// secret that this answer alone shows. With `Idempotency-Key`, a repeat within 24 hours answers what the first
/// request created.
#[utoipa::path(
    operation_id = "createWebhook",
    post,
    path = "/api/v1.0/webhooks",
    tag = "Webhooks",
    params(
        ("Idempotency-Key" = Option<String>, Header, nullable = false, description = "Makes the create safe to retry: a repeat of the same request with the same key within 24 hours gets the first 201 back (marked `Idempotent-Replayed: true`) and creates nothing; 1 to 255 visible ASCII characters, unique per request (a UUID, say)", pattern = "^[!-~]{1,255}$"),
    ),
    request_body(content = crate::wire::webhook::WebhookBody, example = json!({"name": "CRM", "url": "https://crm.example.com/hooks/pbx", "events": ["customer.created", "pbx.enabled", "pbx.disabled"], "staticData": {"source": "pbx"}, "retries": 3})),
    responses(
        (status = 201, description = "Created; `secret` is shown in this answer only", body = crate::envelope::Success<WebhookView<'static>>, headers(("Location" = String, description = "The new webhook's URL"), ("ETag" = String, description = "Its version"), ("Idempotent-Replayed" = String, description = "`true` on the repeat of a request with an Idempotency-Key"))),
        (status = 400, description = "Invalid fields, every one listed (a URL the service may not call among them)", body = crate::envelope::Failure),
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
    caller.require(Scope::WebhooksWrite)?;
    let base = &base_url(&req, &state)?;
    let body = json_object(&req, payload, &state.settings).await?;
    let key = idempotency::key(&req, &body)?;
    let settings = webhook::parse(body, state.webhooks.allow_private()).map_err(ApiError::Invalid)?;
    let Once { value: (created, secret), replayed } =
        state.webhooks.create(caller.reseller, settings, key.as_ref()).await?;
    let location = format!("{base}{}/webhooks/{}", caller.routes(), created.value.id);
    let answer = idempotency::created(location, created.version, replayed);
    Ok(success(answer, WebhookView::new(&created.value, Some(secret.expose()))))
}

/// List your webhooks
///
/// The caller's webhook endpoints, a page at a time, oldest first; `filter` keeps those whose name contains it.
/// Secrets are never shown again.
#[utoipa::path(
    operation_id = "listWebhooks",
    get,
    path = "/api/v1.0/webhooks",
    tag = "Webhooks",
    params(
        ("pageIndex" = Option<u64>, Query, description = "The page, from 0 (default 0)", minimum = 0, maximum = 9_007_199_254_740_991_usize),
        ("pageSize" = Option<u64>, Query, description = "Items a page, 1 to 1000 (default 100)", minimum = 1, maximum = 1000),
        ("filter" = Option<String>, Query, description = "Keeps webhooks whose name contains it, in any case"),
    ),
    responses(
        (status = 200, description = "A page of your webhooks, oldest first (no secret)", body = crate::paging::Collection<WebhookView<'static>>),
        (status = 400, description = "A paging parameter or the filter is invalid", body = crate::envelope::Failure),
        crate::envelope::CommonFailures,
    ),
    security(("bearer" = [])),
)]
pub(crate) async fn list(
    caller: Caller,
    mut query: QueryParams,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::WebhooksRead)?;
    let (page, filter) = (page(&mut query), query.text("filter"));
    let (page, filter) = query.checked((page, filter))?;
    let webhooks = state.webhooks.list(caller.reseller, filter, page).await?;
    Ok(collection(HttpResponse::Ok(), page, webhooks.iter().map(|w| WebhookView::new(w, None)).collect()))
}

/// Get a webhook
///
/// One webhook (never its secret), with its version as `ETag`.
#[utoipa::path(
    operation_id = "getWebhook",
    get,
    path = "/api/v1.0/webhooks/{webhook_id}",
    tag = "Webhooks",
    params(("webhook_id" = crate::wire::Guid, Path, description = "The webhook's id (a GUID)")),
    responses(
        (status = 200, description = "The webhook (no secret)", body = crate::envelope::Success<WebhookView<'static>>, headers(("ETag" = String, description = "Its version"))),
        (status = 400, description = "An id in the path is not a GUID", body = crate::envelope::Failure),
        crate::envelope::CommonFailures,
        (status = 404, description = "No such webhook of yours", body = crate::envelope::Failure),
    ),
    security(("bearer" = [])),
)]
pub(crate) async fn get(
    caller: Caller,
    path: web::Path<WebhookPath>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::WebhooksRead)?;
    let found = state.webhooks.get(caller.reseller, path.id()?).await?;
    let mut ok = HttpResponse::Ok();
    ok.insert_header(etag(found.version));
    Ok(success(ok, WebhookView::new(&found.value, None)))
}

/// Change a webhook
///
/// A JSON Patch of the webhook's settings (name, URL, events, enabled, format, method, retries, static data); a new
/// URL is checked as on create. With `If-Match`, 412 when the webhook changed since that version; without it, the
/// patch applies to the webhook as it is when written.
#[utoipa::path(
    operation_id = "patchWebhook",
    patch,
    path = "/api/v1.0/webhooks/{webhook_id}",
    tag = "Webhooks",
    params(
        ("webhook_id" = crate::wire::Guid, Path, description = "The webhook's id (a GUID)"),
        ("If-Match" = Option<String>, Header, nullable = false, description = "The ETag last read (`\"3\"`; `W/\"3\"` and a bare `3` are read alike); 412 when the resource has changed since", pattern = "^(\\*|(W/)?\"[0-9]+\"|[0-9]+)$"),
    ),
    request_body(content = crate::wire::webhook::WebhookPatch, content_type = "application/json-patch+json", description = "A JSON Patch document: add, remove (optional fields), replace, test; all apply or none. The next delivery uses the result. `secret` is not patchable: rotate it.", example = json!([{"op": "replace", "path": "/enabled", "value": false}])),
    responses(
        (status = 200, description = "The patched webhook", body = crate::envelope::Success<WebhookView<'static>>, headers(("ETag" = String, description = "Its new version"))),
        (status = 400, description = "An id in the path is not a GUID, or a field or operation is invalid (every problem listed)", body = crate::envelope::Failure),
        crate::envelope::CommonFailures,
        (status = 404, description = "No such webhook of yours", body = crate::envelope::Failure),
        (status = 409, description = "A test operation failed, or (without If-Match) the resource changed 20 times in a row while the patch was applied; nothing was changed", body = crate::envelope::Failure),
        (status = 412, description = "The webhook has changed since the If-Match version", body = crate::envelope::Failure),
        (status = 413, description = "The body is over 64 KiB", body = crate::envelope::Failure),
        (status = 415, description = "The body is not JSON", body = crate::envelope::Failure),
    ),
    security(("bearer" = [])),
)]
pub(crate) async fn patch(
    req: HttpRequest,
    caller: Caller,
    path: web::Path<WebhookPath>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::WebhooksWrite)?;
    let id = path.id()?;
    let if_match = if_match(&req)?;
    let operations = operations(json_value(&req, payload, &state.settings).await?)?;
    let saved = unconditionally(if_match, async || {
        let current = state.webhooks.load(caller.reseller, id, if_match).await?;
        let settings = webhook::patched(&current.value, operations.clone(), state.webhooks.allow_private())?;
        Ok(state.webhooks.save(current, settings).await?)
    })
    .await?;
    if saved.value.settings.enabled {
        // Enabled again, it may be behind its feed: no commit would wake it.
        state.deliverer.nudge(saved.value.id);
    }
    let mut ok = HttpResponse::Ok();
    ok.insert_header(etag(saved.version));
    Ok(success(ok, WebhookView::new(&saved.value, None)))
}

/// Rotate a webhook's secret
///
/// Creates a new signing secret, shown in this answer only; the previous one also signs each delivery for 24 hours,
/// so that the receiver can switch without losing one.
#[utoipa::path(
    operation_id = "rotateWebhookSecret",
    post,
    path = "/api/v1.0/webhooks/{webhook_id}/secret",
    tag = "Webhooks",
    params(("webhook_id" = crate::wire::Guid, Path, description = "The webhook's id (a GUID)")),
    responses(
        (status = 200, description = "A new secret, shown in this answer only; the previous one also signs each delivery for 24 hours", body = crate::envelope::Success<WebhookView<'static>>, headers(("ETag" = String, description = "Its new version"))),
        (status = 400, description = "An id in the path is not a GUID", body = crate::envelope::Failure),
        crate::envelope::CommonFailures,
        (status = 404, description = "No such webhook of yours", body = crate::envelope::Failure),
    ),
    security(("bearer" = [])),
)]
pub(crate) async fn rotate(
    caller: Caller,
    path: web::Path<WebhookPath>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::WebhooksWrite)?;
    let (rotated, secret) = state.webhooks.rotate(caller.reseller, path.id()?).await?;
    let mut ok = HttpResponse::Ok();
    ok.insert_header(etag(rotated.version));
    Ok(success(ok, WebhookView::new(&rotated.value, Some(secret.expose()))))
}

/// Delete a webhook
///
/// Deletes a webhook: nothing more is delivered to it.
#[utoipa::path(
    operation_id = "deleteWebhook",
    delete,
    path = "/api/v1.0/webhooks/{webhook_id}",
    tag = "Webhooks",
    params(
        ("webhook_id" = crate::wire::Guid, Path, description = "The webhook's id (a GUID)"),
        ("If-Match" = Option<String>, Header, nullable = false, description = "The ETag last read (`\"3\"`; `W/\"3\"` and a bare `3` are read alike); 412 when the resource has changed since", pattern = "^(\\*|(W/)?\"[0-9]+\"|[0-9]+)$"),
    ),
    responses(
        (status = 200, description = "Deleted: no more deliveries", body = crate::envelope::Deleted),
        (status = 400, description = "An id in the path is not a GUID", body = crate::envelope::Failure),
        crate::envelope::CommonFailures,
        (status = 404, description = "No such webhook of yours", body = crate::envelope::Failure),
        (status = 412, description = "The webhook has changed since the If-Match version", body = crate::envelope::Failure),
    ),
    security(("bearer" = [])),
)]
pub(crate) async fn delete(
    req: HttpRequest,
    caller: Caller,
    path: web::Path<WebhookPath>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::WebhooksWrite)?;
    state.webhooks.delete(caller.reseller, path.id()?, if_match(&req)?).await?;
    Ok(deleted())
}

/// List a webhook's deliveries
///
/// The webhook's delivery log, a page at a time, latest event first: each event's outcome, attempts and the reason of
/// its last failure.
#[utoipa::path(
    operation_id = "listWebhookDeliveries",
    get,
    path = "/api/v1.0/webhooks/{webhook_id}/deliveries",
    tag = "Webhooks",
    params(
        ("webhook_id" = crate::wire::Guid, Path, description = "The webhook's id (a GUID)"),
        ("pageIndex" = Option<u64>, Query, description = "The page, from 0 (default 0)", minimum = 0, maximum = 9_007_199_254_740_991_usize),
        ("pageSize" = Option<u64>, Query, description = "Items a page, 1 to 1000 (default 100)", minimum = 1, maximum = 1000),
    ),
    responses(
        (status = 200, description = "A page of the webhook's deliveries, the latest event first", body = crate::paging::Collection<DeliveryView<'static>>),
        (status = 400, description = "An id in the path is not a GUID, or a paging parameter is invalid", body = crate::envelope::Failure),
        crate::envelope::CommonFailures,
        (status = 404, description = "No such webhook of yours", body = crate::envelope::Failure),
    ),
    security(("bearer" = [])),
)]
pub(crate) async fn deliveries(
    caller: Caller,
    path: web::Path<WebhookPath>,
    mut query: QueryParams,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::WebhooksRead)?;
    let id = path.id()?;
    let page = page(&mut query);
    let page = query.checked(page)?;
    let records = state.webhooks.deliveries(caller.reseller, id, page).await?;
    Ok(collection(HttpResponse::Ok(), page, records.iter().map(DeliveryView::new).collect()))
}

/// Send a test event
///
/// Sends a `webhook.ping` event to the webhook once, signed like any other; the outcome goes to the delivery log.
#[utoipa::path(
    operation_id = "pingWebhook",
    post,
    path = "/api/v1.0/webhooks/{webhook_id}/ping",
    tag = "Webhooks",
    params(("webhook_id" = crate::wire::Guid, Path, description = "The webhook's id (a GUID)")),
    responses(
        (status = 202, description = "A test delivery (`type`: `webhook.ping`) is being made, once, signed as any other; its outcome goes to the delivery log under `eventId`", body = crate::envelope::Success<crate::wire::webhook::PingView>),
        (status = 400, description = "An id in the path is not a GUID", body = crate::envelope::Failure),
        crate::envelope::CommonFailures,
        (status = 404, description = "No such webhook of yours", body = crate::envelope::Failure),
        (status = 409, description = "The webhook is disabled: enable it first", body = crate::envelope::Failure),
    ),
    security(("bearer" = [])),
)]
pub(crate) async fn ping(
    caller: Caller,
    path: web::Path<WebhookPath>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::WebhooksWrite)?;
    let found = state.webhooks.get(caller.reseller, path.id()?).await?;
    if !found.value.settings.enabled {
        return Err(ApiError::Conflict("The webhook is disabled; enable it before a test delivery.".to_owned()));
    }
    let event_id = state.deliverer.ping(found.value);
    Ok(success(HttpResponse::Accepted(), crate::wire::webhook::PingView::new(event_id)))
}

/// The path of a logged delivery.
#[derive(serde::Deserialize)]
pub(crate) struct DeliveryPath {
    webhook_id: String,
    event_id: String,
}

/// Deliver an event again
///
/// Sends one event to the webhook once more (the same `webhook-id`), outside the feed's order; the outcome goes to
/// the delivery log.
#[utoipa::path(
    operation_id = "retryWebhookDelivery",
    post,
    path = "/api/v1.0/webhooks/{webhook_id}/deliveries/{event_id}/retry",
    tag = "Webhooks",
    params(
        ("webhook_id" = crate::wire::Guid, Path, description = "The webhook's id (a GUID)"),
        ("event_id" = crate::wire::Guid, Path, description = "The event's id in the delivery log (a GUID)"),
    ),
    responses(
        (status = 202, description = "The event is being delivered once more (same `webhook-id`), outside the feed's order; the outcome goes to the delivery log", body = crate::envelope::Success<crate::wire::webhook::PingView>),
        (status = 400, description = "An id in the path is not a GUID", body = crate::envelope::Failure),
        crate::envelope::CommonFailures,
        (status = 404, description = "No such webhook of yours, or no such event in its log", body = crate::envelope::Failure),
    ),
    security(("bearer" = [])),
)]
pub(crate) async fn retry(
    caller: Caller,
    path: web::Path<DeliveryPath>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::WebhooksWrite)?;
    let id = WebhookId::parse(&path.webhook_id).map_err(|e| ApiError::invalid_id(&e))?;
    let event_id = pbx_domain::CustomerId::parse(&path.event_id).map_err(|e| ApiError::invalid_id(&e))?.as_uuid();
    let found = state.webhooks.get(caller.reseller, id).await?;
    if !state.deliverer.retry(found.value, event_id).await? {
        return Err(ApiError::NotFound);
    }
    Ok(success(HttpResponse::Accepted(), crate::wire::webhook::PingView::new(event_id)))
}
