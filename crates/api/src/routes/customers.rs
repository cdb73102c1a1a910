//! `POST /customers`, `GET /customers/{id}`.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use pbx_application::customer::{CreateCustomerCommand, CustomerDraft};
use pbx_domain::CustomerId;

use super::base_url;
use crate::body::{json_object, raw};
use crate::envelope::success;
use crate::views::CustomerView;
use crate::{ApiError, AppState, Caller, Scope};

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
    created.insert_header((header::LOCATION, location));
    Ok(success(created, CustomerView::new(&customer)))
}

pub(super) async fn get(
    caller: Caller,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::CustomersRead)?;
    let id = CustomerId::parse(&path).map_err(|e| ApiError::invalid_id(&e))?;
    let customer = state.get_customer.execute(caller.reseller, id).await?;
    Ok(success(HttpResponse::Ok(), CustomerView::new(&customer)))
}
