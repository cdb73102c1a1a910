//! `/customers/{id}/pbxs`: create (the seed), list, get, patch, delete.

use std::collections::HashMap;

use actix_web::http::header::{self, HeaderName};
use actix_web::{HttpRequest, HttpResponse, web};
use pbx_application::FieldProblem;
use pbx_application::pbx::{CreatePbxCommand, PatchPbxCommand, ProfileDraft};
use pbx_domain::{CustomerId, PbxId, PbxType};
use serde_json::{Map, Value};

use super::{base_url, deleted};
use crate::body::{json_object, json_value, raw};
use crate::envelope::success;
use crate::etag::{etag, if_match};
use crate::paging::{collection, page};
use crate::patch_doc::operations;
use crate::views::{ProfileView, Secrets, SummaryView};
use crate::{ApiError, AppState, Caller, Scope};

const ACCEPT_CHARGES: HeaderName = HeaderName::from_static("accept-charges");

/// Whether the request carries `accept-charges: true`.
fn accepts_charges(req: &HttpRequest) -> bool {
    req.headers()
        .get(ACCEPT_CHARGES)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
}

/// The ids of `/customers/{customer_id}/pbxs/{pbx_id}`, in path order (400 for the first that is not a GUID).
fn ids(path: &(String, String)) -> Result<(CustomerId, PbxId), ApiError> {
    let customer = CustomerId::parse(&path.0).map_err(|e| ApiError::invalid_id(&e))?;
    let pbx = PbxId::parse(&path.1).map_err(|e| ApiError::invalid_id(&e))?;
    Ok((customer, pbx))
}

/// The draft of the profile a body describes, and the boolean fields it sent as strings.
fn draft(mut body: Map<String, Value>) -> Result<(ProfileDraft, Vec<String>), ApiError> {
    let known = || PbxType::ALL.map(PbxType::as_str).join(", ");
    let pbx_type = match body.remove("_type") {
        None | Some(Value::Null) => {
            return Err(ApiError::Invalid(vec![FieldProblem::new(
                "_type",
                format!("is required: one of {}", known()),
            )]));
        }
        Some(Value::String(name)) => PbxType::parse(&name),
        Some(_) => Err(pbx_domain::UnknownPbxType),
    }
    .map_err(|e| ApiError::Invalid(vec![FieldProblem::new("_type", e.to_string())]))?;
    let mut draft = ProfileDraft::new(pbx_type);
    let mut sent_as_text = Vec::new();
    for (field, value) in body {
        if matches!(&value, Value::String(s) if s == "true" || s == "false") {
            sent_as_text.push(field.clone());
        }
        draft.set(&field, raw(value));
    }
    Ok((draft, sent_as_text))
}

pub(super) async fn create(
    req: HttpRequest,
    caller: Caller,
    path: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::PbxsWrite)?;
    let customer_id = CustomerId::parse(&path).map_err(|e| ApiError::invalid_id(&e))?;
    let body = json_object(&req, payload, state.settings.body_limit).await?;
    let (draft, sent_as_text) = draft(body)?;
    let command =
        CreatePbxCommand { reseller: caller.reseller, customer_id, draft, accept_charges: accepts_charges(&req) };
    let profile = state.create_pbx.execute(command).await?;
    let location = format!("{}/api/v1.0/customers/{}/pbxs/{}", base_url(&req, &state), profile.customer_id, profile.id);
    let mut created = HttpResponse::Created();
    created.insert_header((header::LOCATION, location)).insert_header(etag(1));
    Ok(success(created, ProfileView::new(&profile, Secrets::Shown, &sent_as_text)))
}

pub(super) async fn list(
    caller: Caller,
    path: web::Path<String>,
    query: web::Query<HashMap<String, String>>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::PbxsRead)?;
    let customer_id = CustomerId::parse(&path).map_err(|e| ApiError::invalid_id(&e))?;
    let page = page(&query)?;
    let summaries = state.read_pbxs.list(caller.reseller, customer_id, page).await?;
    Ok(collection(HttpResponse::Ok(), page, summaries.iter().map(SummaryView::new).collect()))
}

pub(super) async fn get(
    caller: Caller,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::PbxsRead)?;
    let (customer_id, pbx_id) = ids(&path)?;
    let profile = state.read_pbxs.get(caller.reseller, customer_id, pbx_id).await?;
    let mut ok = HttpResponse::Ok();
    ok.insert_header(etag(profile.version));
    Ok(success(ok, ProfileView::new(&profile.value, Secrets::Hidden, &[])))
}

pub(super) async fn patch(
    req: HttpRequest,
    caller: Caller,
    path: web::Path<(String, String)>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::PbxsWrite)?;
    let (customer_id, pbx_id) = ids(&path)?;
    let if_match = if_match(&req)?;
    let operations = operations(json_value(&req, payload, state.settings.body_limit).await?)?;
    let command = PatchPbxCommand {
        reseller: caller.reseller,
        customer_id,
        pbx_id,
        operations,
        accept_charges: accepts_charges(&req),
        if_match,
    };
    let profile = state.patch_pbx.execute(command).await?;
    let mut ok = HttpResponse::Ok();
    ok.insert_header(etag(profile.version));
    Ok(success(ok, ProfileView::new(&profile.value, Secrets::Hidden, &[])))
}

pub(super) async fn delete(
    req: HttpRequest,
    caller: Caller,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::PbxsWrite)?;
    let (customer_id, pbx_id) = ids(&path)?;
    state.delete_pbx.execute(caller.reseller, customer_id, pbx_id, if_match(&req)?).await?;
    Ok(deleted())
}

pub(super) async fn lookup(
    caller: Caller,
    query: web::Query<HashMap<String, String>>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::PbxsRead)?;
    let instance_id = query.get("instanceId").map(|v| v.trim()).filter(|v| !v.is_empty()).ok_or_else(|| {
        ApiError::Invalid(vec![FieldProblem::new("instanceId", "is required: a Kazoo account id or a 3CX licence key")])
    })?;
    let data = match state.read_pbxs.lookup(caller.reseller, instance_id).await? {
        pbx_application::pbx::InstanceLookup::Own(owner) => serde_json::json!({
            "exists": true,
            "instanceId": instance_id,
            "id": owner.pbx_id.to_string(),
            "tenantId": owner.customer_id.to_string(),
        }),
        pbx_application::pbx::InstanceLookup::Foreign => {
            serde_json::json!({ "exists": true, "instanceId": instance_id })
        }
        pbx_application::pbx::InstanceLookup::Free => {
            serde_json::json!({ "exists": false, "instanceId": instance_id })
        }
    };
    Ok(success(HttpResponse::Ok(), data))
}
