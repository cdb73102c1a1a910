//! `POST /customers/{id}/pbxs`: Create PBX, the seed.

use actix_web::http::header::{self, HeaderName};
use actix_web::{HttpRequest, HttpResponse, web};
use pbx_application::FieldProblem;
use pbx_application::pbx::{CreatePbxCommand, ProfileDraft};
use pbx_domain::{CustomerId, PbxType};
use serde_json::{Map, Value};

use super::base_url;
use crate::body::{json_object, raw};
use crate::envelope::success;
use crate::views::{ProfileView, Secrets};
use crate::{ApiError, AppState, Caller, Scope};

const ACCEPT_CHARGES: HeaderName = HeaderName::from_static("accept-charges");

/// Whether the request carries `accept-charges: true`.
fn accepts_charges(req: &HttpRequest) -> bool {
    req.headers()
        .get(ACCEPT_CHARGES)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
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
    created.insert_header((header::LOCATION, location));
    Ok(success(created, ProfileView::new(&profile, Secrets::Shown, &sent_as_text)))
}
