//! Reading a JSON request body: its media type, its size, its syntax, and its fields as [`Raw`] values.

use actix_web::http::header;
use actix_web::{HttpRequest, web};
use pbx_application::input::Raw;
use serde_json::{Map, Value};

use crate::ApiError;

/// Whether the request says its body is JSON (`application/json` or `application/*+json`, any parameters).
fn is_json(req: &HttpRequest) -> bool {
    let Some(value) = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// The body as JSON.
///
/// # Errors
/// 415 when it is not declared as JSON, 413 when it is larger than `limit` bytes, 400 when it is not JSON.
pub(crate) async fn json_value(req: &HttpRequest, payload: web::Payload, limit: usize) -> Result<Value, ApiError> {
    if !is_json(req) {
        return Err(ApiError::UnsupportedMediaType);
    }
    let declared =
        req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|length| length > limit) {
        return Err(ApiError::PayloadTooLarge(limit));
    }
    let bytes = payload
        .to_bytes_limited(limit)
        .await
        .map_err(|_| ApiError::PayloadTooLarge(limit))?
        .map_err(|e| ApiError::BadRequest(format!("The request body could not be read: {e}.")))?;
    serde_json::from_slice::<Value>(&bytes)
        .map_err(|e| ApiError::BadRequest(format!("The request body is not valid JSON: {e}.")))
}

/// The body as a JSON object.
///
/// # Errors
/// As [`json_value`], and 400 when it is not an object.
pub(crate) async fn json_object(
    req: &HttpRequest,
    payload: web::Payload,
    limit: usize,
) -> Result<Map<String, Value>, ApiError> {
    match json_value(req, payload, limit).await? {
        Value::Object(object) => Ok(object),
        _ => Err(ApiError::BadRequest("The request body must be a JSON object.".to_owned())),
    }
}

/// A JSON value as the use cases see it.
pub(crate) fn raw(value: Value) -> Raw {
    match value {
        Value::Null => Raw::Null,
        Value::Bool(b) => Raw::Bool(b),
        Value::String(s) => Raw::Text(s),
        Value::Number(_) => Raw::Number,
        Value::Array(_) => Raw::Array,
        Value::Object(_) => Raw::Object,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn json_media_types_are_recognised() {
        for (content_type, expected) in [
            ("application/json", true),
            ("application/json; charset=utf-8", true),
            ("Application/JSON", true),
            ("application/merge-patch+json", true),
            ("text/plain", false),
            ("application/x-www-form-urlencoded", false),
        ] {
            let req = TestRequest::default().insert_header((header::CONTENT_TYPE, content_type)).to_http_request();
            assert_eq!(is_json(&req), expected, "{content_type}");
        }
        assert!(!is_json(&TestRequest::default().to_http_request()), "no content type");
    }

    /// `bytes` as the body of a JSON request, read as the handlers read it (limit 1 KiB).
    fn read(bytes: Vec<u8>) -> Result<Map<String, Value>, ApiError> {
        use actix_web::FromRequest;
        let (req, mut payload) = TestRequest::default()
            .insert_header((header::CONTENT_TYPE, "application/json"))
            .set_payload(bytes)
            .to_http_parts();
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        runtime.block_on(async {
            let payload = web::Payload::from_request(&req, &mut payload).await.unwrap();
            json_object(&req, payload, 1024).await
        })
    }

    fn is_client_error(result: &Result<Map<String, Value>, ApiError>) -> bool {
        use actix_web::ResponseError;
        result.as_ref().err().is_none_or(|e| e.status_code().is_client_error())
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(1000))]

        /// Any bytes at all are a JSON object or a 4xx (400 not JSON / not an object, 413 too large), never a panic.
        #[test]
        fn any_bytes_are_an_object_or_a_4xx(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..1200)) {
            proptest::prop_assert!(is_client_error(&read(bytes)));
        }

        /// Any text, JSON-looking or not, likewise.
        #[test]
        fn any_text_is_an_object_or_a_4xx(text in r#"[{}\[\]",:0-9a-z\\ \PC]{0,200}"#) {
            proptest::prop_assert!(is_client_error(&read(text.into_bytes())));
        }
    }

    #[test]
    fn the_reader_sees_objects_and_refuses_the_rest() {
        assert_eq!(read(br#"{"name": "x"}"#.to_vec()).unwrap()["name"], "x");
        assert!(matches!(read(b"[1]".to_vec()), Err(ApiError::BadRequest(_))));
        assert!(matches!(read(b"{".to_vec()), Err(ApiError::BadRequest(_))));
        assert!(matches!(read(vec![b' '; 2000]), Err(ApiError::PayloadTooLarge(1024))));
    }
}
