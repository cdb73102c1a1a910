//! Reading a JSON request body: its media type, its size, its syntax (a key twice is refused).

use std::cell::RefCell;
use std::fmt;

use actix_web::http::header;
use actix_web::{HttpRequest, web};
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::wire::field::FieldProblem;
use crate::{ApiError, ApiSettings};

/// Whether the request says its body is JSON (`application/json` or `application/*+json`) in UTF-8: JSON's only
/// encoding, so a `charset` parameter, if any, must say `utf-8`; the body is never decoded as anything else.
fn is_json(req: &HttpRequest) -> bool {
    let Some(value) = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let mut parts = value.split(';');
    let essence = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
    let json = essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"));
    json && parts.all(|parameter| {
        let (name, value) = parameter.split_once('=').unwrap_or((parameter, ""));
        !name.trim().eq_ignore_ascii_case("charset")
            || matches!(value.trim().trim_matches('"').to_ascii_lowercase().as_str(), "utf-8" | "utf8")
    })
}

/// Reads any JSON value as `serde_json` does, but refuses an object that has a key twice (`serde_json` would keep the
/// last silently, so a body could say two things and mean one), noting the key in `duplicate`.
#[derive(Clone, Copy)]
struct Strict<'a> {
    duplicate: &'a RefCell<Option<String>>,
}

impl<'de> DeserializeSeed<'de> for Strict<'_> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strict<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(item) = seq.next_element_seed(self)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if object.contains_key(&key) {
                let message = format!("the key \"{key}\" appears twice");
                *self.duplicate.borrow_mut() = Some(key);
                return Err(de::Error::custom(message));
            }
            let value = map.next_value_seed(self)?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

/// `bytes` as one JSON value.
///
/// # Errors
/// 400 naming the key when an object has a key twice, 400 when the bytes are not JSON.
pub(crate) fn parse_json(bytes: &[u8]) -> Result<Value, ApiError> {
    let duplicate = RefCell::new(None);
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let parsed = Strict { duplicate: &duplicate }.deserialize(&mut deserializer).and_then(|value| {
        deserializer.end()?;
        Ok(value)
    });
    parsed.map_err(|e| match duplicate.into_inner() {
        Some(key) => ApiError::Invalid(vec![FieldProblem::new(key, "appears more than once in the body")]),
        None => ApiError::BadRequest(format!("The request body is not valid JSON: {e}.")),
    })
}

/// The body as JSON.
///
/// # Errors
/// 415 when it is not declared as JSON in UTF-8, 413 when it is larger than `limit` bytes, 400 when it is not JSON or
/// an object in it has a key twice.
pub(crate) async fn json_value(
    req: &HttpRequest,
    payload: web::Payload,
    settings: &ApiSettings,
) -> Result<Value, ApiError> {
    let limit = settings.body_limit;
    if !is_json(req) {
        return Err(ApiError::UnsupportedMediaType);
    }
    let declared =
        req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|length| length > limit) {
        return Err(ApiError::PayloadTooLarge(limit));
    }
    // A body that never finishes would hold the connection (and a worker's memory) for ever.
    let bytes = tokio::time::timeout(settings.body_timeout, payload.to_bytes_limited(limit))
        .await
        .map_err(|_| ApiError::RequestTimeout(settings.body_timeout))?
        .map_err(|_| ApiError::PayloadTooLarge(limit))?
        .map_err(|e| ApiError::BadRequest(format!("The request body could not be read: {e}.")))?;
    parse_json(&bytes)
}

/// The body as a JSON object.
///
/// # Errors
/// As [`json_value`], and 400 when it is not an object.
pub(crate) async fn json_object(
    req: &HttpRequest,
    payload: web::Payload,
    settings: &ApiSettings,
) -> Result<Map<String, Value>, ApiError> {
    match json_value(req, payload, settings).await? {
        Value::Object(object) => Ok(object),
        _ => Err(ApiError::BadRequest("The request body must be a JSON object.".to_owned())),
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
            ("application/json;charset=UTF-8", true),
            ("application/json; charset=\"utf-8\"", true),
            ("application/json; charset=latin1", false),
            ("application/json; charset=iso-8859-1", false),
            ("application/json; charset=utf-16", false),
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
        let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
        runtime.block_on(async {
            let payload = web::Payload::from_request(&req, &mut payload).await.unwrap();
            json_object(&req, payload, &ApiSettings { body_limit: 1024, ..ApiSettings::default() }).await
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
    fn a_key_sent_twice_is_refused_at_any_depth_naming_it() {
        for (body, key) in [
            (r#"{"accountId": "a", "accountId": "b"}"#, "accountId"),
            (r#"{"_type": "x", "name": "n", "_type": "y"}"#, "_type"),
            (r#"[{"op": "replace", "path": "/name", "op": "test"}]"#, "op"),
            (r#"{"a": {"b": 1, "b": 2}}"#, "b"),
        ] {
            match parse_json(body.as_bytes()) {
                Err(ApiError::Invalid(problems)) => assert_eq!(problems[0].field, key, "{body}"),
                other => panic!("{body}: {other:?}"),
            }
        }
        let same = r#"{"a": [1, 2.5, -3, "x", null, true, {"a": {}}], "b": {"a": 1}}"#;
        assert_eq!(parse_json(same.as_bytes()).unwrap(), serde_json::from_str::<Value>(same).unwrap());
        assert!(matches!(parse_json(b"{} {}"), Err(ApiError::BadRequest(_))), "trailing data");
    }

    proptest::proptest! {
        /// Without repeated keys, the strict reader reads what `serde_json` reads.
        #[test]
        fn the_strict_reader_agrees_with_serde_json(text in r#"[{}\[\]",:0-9a-c.e\-\\ ]{0,60}"#) {
            let expected = serde_json::from_str::<Value>(&text);
            match parse_json(text.as_bytes()) {
                Ok(value) => proptest::prop_assert_eq!(Some(value), expected.ok()),
                Err(ApiError::Invalid(_)) => proptest::prop_assert!(expected.is_ok(), "a repeat is valid JSON"),
                Err(_) => proptest::prop_assert!(expected.is_err()),
            }
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
