//! The `Idempotency-Key` header on creates: a repeat of a request gets what the first made instead of creating
//! again (rules in [`pbx_application::idempotency`]).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder};
use pbx_application::idempotency::{IdempotencyKey, parse_key};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::ApiError;
use crate::etag::etag;

/// The request header.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";

/// Set on an answer that is a replay of the first.
pub const REPLAYED: &str = "idempotent-replayed";

/// What identifies a request under a key: its method, its path and its body (accept-charges aside, so that the
/// repeat the 402 asks for is the same request), its members in one order whatever order the client sent them in.
fn fingerprint(req: &HttpRequest, body: &Map<String, Value>) -> String {
    let mut hash = Sha256::new();
    hash.update(req.method().as_str());
    hash.update(b" ");
    hash.update(req.path());
    hash.update(b"\n");
    let mut canonical = Value::Object(body.clone());
    canonical.sort_all_objects();
    hash.update(serde_json::to_vec(&canonical).unwrap_or_default());
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// The key of the request, if it has one.
///
/// # Errors
/// 400 when the header is not a valid key.
fn key_of(req: &HttpRequest) -> Result<Option<&str>, ApiError> {
    let Some(value) = req.headers().get(IDEMPOTENCY_KEY) else { return Ok(None) };
    let text = value.to_str().map_err(|_| ApiError::BadRequest(invalid_key()))?;
    parse_key(text).map(Some).map_err(|_| ApiError::BadRequest(invalid_key()))
}

fn invalid_key() -> String {
    format!("The Idempotency-Key header is invalid: {}.", pbx_application::idempotency::InvalidKey)
}

/// The request's `Idempotency-Key` with the fingerprint of the request (`body` the JSON object it sent), if it
/// has one: the create's use case writes it with what it makes (see [`pbx_application::idempotency`]).
///
/// # Errors
/// 400 when the header is not a valid key.
pub(crate) fn key(req: &HttpRequest, body: &Map<String, Value>) -> Result<Option<IdempotencyKey>, ApiError> {
    Ok(key_of(req)?.map(|key| IdempotencyKey { key: key.to_owned(), fingerprint: fingerprint(req, body) }))
}

/// A create's 201 at `location`, of a resource at `version`, marked [`REPLAYED`] when an earlier request with the
/// same key made it.
pub(crate) fn created(location: String, version: u64, replayed: bool) -> HttpResponseBuilder {
    let mut created = HttpResponse::Created();
    created.insert_header((header::LOCATION, location)).insert_header(etag(version));
    if replayed {
        created.insert_header((REPLAYED, "true"));
    }
    created
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fingerprint_does_not_depend_on_the_order_of_members() {
        let req = actix_web::test::TestRequest::post().uri("/api/v1.0/customers").to_http_request();
        let object = |text: &str| match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(object)) => object,
            _ => Map::new(),
        };
        let one = object(r#"{"name": "Acme", "features": {"agent": 1, "supervisor": 2}}"#);
        let other = object(r#"{"features": {"supervisor": 2, "agent": 1}, "name": "Acme"}"#);
        assert_eq!(fingerprint(&req, &one), fingerprint(&req, &other));
        assert_ne!(fingerprint(&req, &one), fingerprint(&req, &object(r#"{"name": "Acme"}"#)));
    }
}
