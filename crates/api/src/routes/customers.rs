//! `/customers`: create, list, get, patch, delete.

use actix_web::{HttpRequest, HttpResponse, web};
use pbx_application::customer::CreateCustomerCommand;
use pbx_application::idempotency::Once;
use pbx_domain::CustomerId;

use super::pbxs::accepts_charges;
use super::{CustomerPath, base_url};
use crate::body::{json_object, json_value};
use crate::envelope::{deleted, success};
use crate::etag::{etag, if_match, unconditionally};
use crate::idempotency;
use crate::paging::{collection, page};
use crate::query::QueryParams;
use crate::wire::customer::{self, CustomerView, Defaults};
use crate::wire::patch::operations;
use crate::{ApiError, AppState, Caller, Scope};

fn customer_id(path: &str) -> Result<CustomerId, ApiError> {
    CustomerId::parse(path).map_err(|e| ApiError::invalid_id(&e))
}

/// Create a customer
///
/// Creates a customer tenant for the caller (reseller). Its first PBX profile may come in the same request
/// (`pbxConnectionProfile`, chargeable: `accept-charges: true`); nothing is created if it cannot be. With
/// `Idempotency-Key`, a repeat within 24 hours answers what the first request created.
#[utoipa::path(
    operation_id = "createCustomer",
    post,
    path = "/api/v1.0/customers",
    tag = "Customers",
    params(
        ("Idempotency-Key" = Option<String>, Header, nullable = false, description = "Makes the create safe to retry: a repeat of the same request with the same key within 24 hours gets the first 201 back (marked `Idempotent-Replayed: true`) and creates nothing; 1 to 255 visible ASCII characters, unique per request (a UUID, say)", pattern = "^[!-~]{1,255}$"),
        ("accept-charges" = Option<String>, Header, nullable = false, description = "`true` (any case) to accept the charge of the `pbxConnectionProfile` sent with the customer (402 without it, and nothing is created); anything else counts as absent"),
    ),
    request_body(content = crate::wire::customer::CustomerBody, example = json!({"name": "Acme", "countryCode": "FR", "timezone": "Europe/Paris"})),
    responses(
        (status = 201, description = "Created", body = crate::envelope::Success<CustomerView<'static>>, headers(("Location" = String, description = "The new customer's URL"), ("ETag" = String, description = "Its version"), ("Idempotent-Replayed" = String, description = "`true` on the repeat of a request with an Idempotency-Key"))),
        (status = 400, description = "Invalid fields, every one listed", body = crate::envelope::Failure),
        crate::envelope::CommonFailures,
        (status = 402, description = "A `pbxConnectionProfile` was sent without `accept-charges: true`: nothing was created", body = crate::envelope::Failure),
        (status = 409, description = "The `pbxConnectionProfile`'s instance is attached elsewhere (nothing was created), or what the first request with this Idempotency-Key created was deleted since", body = crate::envelope::Failure),
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
    caller.require(Scope::CustomersWrite)?;
    let base = &base_url(&req, &state)?;
    let body = json_object(&req, payload, &state.settings).await?;
    let key = idempotency::key(&req, &body)?;
    // Under an account, a customer takes the account's country and time zone unless it sends its own.
    let defaults = caller.account.as_ref().map_or_else(Defaults::default, |account| Defaults {
        country_code: account.details.country_code,
        timezone: account.details.timezone,
    });
    let input = customer::parse(body, defaults).map_err(ApiError::Invalid)?;
    if let Some(first) = &input.first_profile {
        let allow_private = state.settings.pbx_hosts_allow_private;
        crate::wire::profile::check_hosts(&first.connection, allow_private, "pbxConnectionProfile.")?;
    }
    caller.may_grant(input.options.trial_duration)?;
    if input.first_profile.is_some() {
        caller.require(Scope::PbxsWrite)?;
    }
    let command = CreateCustomerCommand {
        reseller: caller.reseller,
        details: input.details,
        options: input.options,
        key,
        first_profile: input.first_profile,
        accept_charges: accepts_charges(&req),
        actor: caller.actor(),
    };
    let Once { value: created, replayed } = state.create_customer.execute(command).await?;
    if let (Some(first), false) = (created.profiles.first(), replayed) {
        state.metrics.record_profile_created(first.pbx_type.as_str());
    }
    let location = format!("{base}{}/customers/{}", caller.routes(), created.customer.id);
    let answer = idempotency::created(location, created.version, replayed);
    Ok(success(answer, CustomerView::with_profiles(&created.customer, &created.profiles, &state.checks)))
}

/// List your customers
///
/// The caller's customers, a page at a time, oldest first; `filter` keeps those whose name or reference contains it.
#[utoipa::path(
    operation_id = "listCustomers",
    get,
    path = "/api/v1.0/customers",
    tag = "Customers",
    params(
        ("pageIndex" = Option<u64>, Query, description = "The page, from 0 (default 0)", minimum = 0, maximum = 9_007_199_254_740_991_usize),
        ("pageSize" = Option<u64>, Query, description = "Items a page, 1 to 1000 (default 100)", minimum = 1, maximum = 1000),
        ("filter" = Option<String>, Query, description = "Keeps customers whose name or reference contains it, in any case"),
    ),
    responses(
        (status = 200, description = "A page of your customers, oldest first", body = crate::paging::Collection<CustomerView<'static>>),
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
    caller.require(Scope::CustomersRead)?;
    let (page, filter) = (page(&mut query), query.text("filter"));
    let (page, filter) = query.checked((page, filter))?;
    let customers = state.list_customers.execute(caller.reseller, filter, page).await?;
    Ok(collection(HttpResponse::Ok(), page, customers.iter().map(CustomerView::new).collect()))
}

/// Get a customer
///
/// One of the caller's customers, with a summary of each of its profiles and its version as `ETag`.
#[utoipa::path(
    operation_id = "getCustomer",
    get,
    path = "/api/v1.0/customers/{customer_id}",
    tag = "Customers",
    params(
        ("customer_id" = crate::wire::Guid, Path, description = "The customer's tenant id (a GUID)"),
    ),
    responses(
        (status = 200, description = "The customer", body = crate::envelope::Success<CustomerView<'static>>, headers(("ETag" = String, description = "Its version"))),
        (status = 400, description = "An id in the path is not a GUID, or a field or parameter is invalid (every problem listed)", body = crate::envelope::Failure),
        crate::envelope::CommonFailures,
        (status = 404, description = "No such customer (or profile) for this reseller", body = crate::envelope::Failure),
    ),
    security(("bearer" = [])),
)]
pub(crate) async fn get(
    caller: Caller,
    path: web::Path<CustomerPath>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::CustomersRead)?;
    let id = customer_id(&path.customer_id)?;
    let (customer, profiles) = state.get_customer.execute(caller.reseller, id).await?;
    let mut ok = HttpResponse::Ok();
    ok.insert_header(etag(customer.version));
    Ok(success(ok, CustomerView::with_profiles(&customer.value, &profiles, &state.checks)))
}

/// Change a customer
///
/// A JSON Patch of the customer's fields; all operations apply or none. With `If-Match`, 412 when the customer
/// changed since that version; without it, the patch applies to the customer as it is when written.
#[utoipa::path(
    operation_id = "patchCustomer",
    patch,
    path = "/api/v1.0/customers/{customer_id}",
    tag = "Customers",
    params(
        ("customer_id" = crate::wire::Guid, Path, description = "The customer's tenant id (a GUID)"),
        ("If-Match" = Option<String>, Header, nullable = false, description = "The ETag last read (`\"3\"`; `W/\"3\"` and a bare `3` are read alike); 412 when the resource has changed since", pattern = "^(\\*|(W/)?\"[0-9]+\"|[0-9]+)$"),
    ),
    request_body(content = crate::wire::customer::CustomerPatch, content_type = "application/json-patch+json", description = "A JSON Patch document: add, remove (optional fields), replace, test; all apply or none", example = json!([{"op": "replace", "path": "/name", "value": "Acme SA"}])),
    responses(
        (status = 200, description = "The patched customer", body = crate::envelope::Success<CustomerView<'static>>, headers(("ETag" = String, description = "Its new version"))),
        (status = 400, description = "An id in the path is not a GUID, or a field or parameter is invalid (every problem listed)", body = crate::envelope::Failure),
        crate::envelope::CommonFailures,
        (status = 404, description = "No such customer (or profile) for this reseller", body = crate::envelope::Failure),
        (status = 409, description = "A test operation failed, or (without If-Match) the resource changed 20 times in a row while the patch was applied; nothing was changed", body = crate::envelope::Failure),
        (status = 412, description = "The customer has changed since the If-Match version", body = crate::envelope::Failure),
        (status = 413, description = "The body is over 64 KiB", body = crate::envelope::Failure),
        (status = 415, description = "The body is not JSON", body = crate::envelope::Failure),
    ),
    security(("bearer" = [])),
)]
pub(crate) async fn patch(
    req: HttpRequest,
    caller: Caller,
    path: web::Path<CustomerPath>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::CustomersWrite)?;
    let customer_id = customer_id(&path.customer_id)?;
    let if_match = if_match(&req)?;
    let operations = operations(json_value(&req, payload, &state.settings).await?)?;
    let customer = unconditionally(if_match, async || {
        let current = state.patch_customer.load(caller.reseller, customer_id, if_match).await?;
        let (details, options) = customer::patched(&current.value, operations.clone())?;
        if options.trial_duration != current.value.options.trial_duration {
            caller.may_grant(options.trial_duration)?;
        }
        Ok(state.patch_customer.save(current, details, options, &caller.actor()).await?)
    })
    .await?;
    let mut ok = HttpResponse::Ok();
    ok.insert_header(etag(customer.version));
    Ok(success(ok, CustomerView::new(&customer.value)))
}

/// Delete a customer
///
/// Deletes a customer: 409 while it still has PBX profiles (delete them first). `If-Match` makes the delete
/// conditional on the version last read.
#[utoipa::path(
    operation_id = "deleteCustomer",
    delete,
    path = "/api/v1.0/customers/{customer_id}",
    tag = "Customers",
    params(
        ("customer_id" = crate::wire::Guid, Path, description = "The customer's tenant id (a GUID)"),
        ("If-Match" = Option<String>, Header, nullable = false, description = "The ETag last read (`\"3\"`; `W/\"3\"` and a bare `3` are read alike); 412 when the resource has changed since", pattern = "^(\\*|(W/)?\"[0-9]+\"|[0-9]+)$"),
    ),
    responses(
        (status = 200, description = "Deleted", body = crate::envelope::Deleted),
        (status = 400, description = "An id in the path is not a GUID, or a field or parameter is invalid (every problem listed)", body = crate::envelope::Failure),
        crate::envelope::CommonFailures,
        (status = 404, description = "No such customer (or profile) for this reseller", body = crate::envelope::Failure),
        (status = 409, description = "The customer still has PBX profiles", body = crate::envelope::Failure),
        (status = 412, description = "The customer has changed since the If-Match version", body = crate::envelope::Failure),
    ),
    security(("bearer" = [])),
)]
pub(crate) async fn delete(
    req: HttpRequest,
    caller: Caller,
    path: web::Path<CustomerPath>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::CustomersWrite)?;
    state
        .delete_customer
        .execute(caller.reseller, customer_id(&path.customer_id)?, if_match(&req)?, &caller.actor())
        .await?;
    Ok(deleted())
}
