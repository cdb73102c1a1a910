//! `/customers`: create, list, get, patch, delete.

use std::collections::HashMap;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use pbx_application::customer::{CreateCustomerCommand, CustomerDraft, PatchCustomerCommand};
use pbx_domain::CustomerId;

use super::{base_url, deleted};
use crate::body::{json_object, json_value, raw};
use crate::envelope::success;
use crate::etag::{etag, if_match};
use crate::paging::{collection, page};
use crate::patch_doc::operations;
use crate::views::CustomerView;
use crate::{ApiError, AppState, Caller, Scope};

fn customer_id(path: &str) -> Result<CustomerId, ApiError> {
    CustomerId::parse(path).map_err(|e| ApiError::invalid_id(&e))
}

pub(super) async fn create(
    req: HttpRequest,
    caller: Caller,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::CustomersWrite)?;
    let body = json_object(&req, payload, state.settings.body_limit).await?;
    let mut draft = CustomerDraft::default();
    for (field, value) in body {
        draft.set(&field, raw(value));
    }
    let customer = state.create_customer.execute(CreateCustomerCommand { reseller: caller.reseller, draft }).await?;
    let location = format!("{}/api/v1.0/customers/{}", base_url(&req, &state), customer.id);
    let mut created = HttpResponse::Created();
    created.insert_header((header::LOCATION, location)).insert_header(etag(1));
    Ok(success(created, CustomerView::new(&customer)))
}

pub(super) async fn list(
    caller: Caller,
    query: web::Query<HashMap<String, String>>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::CustomersRead)?;
    let page = page(&query)?;
    let customers = state.list_customers.execute(caller.reseller, query.get("filter").cloned(), page).await?;
    Ok(collection(HttpResponse::Ok(), page, customers.iter().map(CustomerView::new).collect()))
}

pub(super) async fn get(
    caller: Caller,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::CustomersRead)?;
    let customer = state.get_customer.execute(caller.reseller, customer_id(&path)?).await?;
    let mut ok = HttpResponse::Ok();
    ok.insert_header(etag(customer.version));
    Ok(success(ok, CustomerView::new(&customer.value)))
}

pub(super) async fn patch(
    req: HttpRequest,
    caller: Caller,
    path: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::CustomersWrite)?;
    let customer_id = customer_id(&path)?;
    let if_match = if_match(&req)?;
    let operations = operations(json_value(&req, payload, state.settings.body_limit).await?)?;
    let command = PatchCustomerCommand { reseller: caller.reseller, customer_id, operations, if_match };
    let customer = state.patch_customer.execute(command).await?;
    let mut ok = HttpResponse::Ok();
    ok.insert_header(etag(customer.version));
    Ok(success(ok, CustomerView::new(&customer.value)))
}

pub(super) async fn delete(
    req: HttpRequest,
    caller: Caller,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::CustomersWrite)?;
    state.delete_customer.execute(caller.reseller, customer_id(&path)?, if_match(&req)?).await?;
    Ok(deleted())
}
