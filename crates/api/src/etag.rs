//! `ETag` on reads, `If-Match` on changes: optimistic concurrency over the stored version.

use actix_web::HttpRequest;
use actix_web::http::header::{self, HeaderValue};

use crate::ApiError;

/// The `ETag` of a version: `"3"`.
pub(crate) fn etag(version: u64) -> (header::HeaderName, HeaderValue) {
    let value = HeaderValue::from_str(&format!("\"{version}\"")).unwrap_or(HeaderValue::from_static("\"0\""));
    (header::ETAG, value)
}

/// The form of `If-Match` this service reads, as its OpenAPI pattern: `*`, or one ETag it gives out (`"3"`, weak
/// `W/"3"`, or the bare number `3` that clients copying a version often send). The routes' annotations repeat it
/// (they take a literal); a test compares them.
#[cfg(test)]
pub(crate) const IF_MATCH_PATTERN: &str = "^(\\*|(W/)?\"[0-9]+\"|[0-9]+)$";

/// The version `If-Match` requires: none when absent or `*`.
///
/// A number past the largest version a row can hold (BIGINT) names no version: it is read as that largest value,
/// which no resource reaches (versions count changes from 1), so the answer is 412 like any other stale version.
///
/// # Errors
/// 400 when the header is not of the form of [`IF_MATCH_PATTERN`].
pub(crate) fn if_match(req: &HttpRequest) -> Result<Option<u64>, ApiError> {
    let malformed = || ApiError::BadRequest("If-Match must be * or an ETag such as \"3\".".to_owned());
    let Some(value) = req.headers().get(header::IF_MATCH) else { return Ok(None) };
    let value = value.to_str().map_err(|_| malformed())?.trim();
    if value == "*" {
        return Ok(None);
    }
    let quoted = value.strip_prefix("W/").unwrap_or(value).strip_prefix('"').and_then(|v| v.strip_suffix('"'));
    let digits = quoted.unwrap_or(value);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(malformed());
    }
    let largest = u64::try_from(i64::MAX).unwrap_or(u64::MAX);
    Ok(Some(digits.parse::<u64>().map_or(largest, |v| v.min(largest))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn the_pattern_is_the_form_read() {
        let pattern = regex::Regex::new(IF_MATCH_PATTERN).unwrap();
        let with = |v: &str| if_match(&TestRequest::default().insert_header((header::IF_MATCH, v)).to_http_request());
        for value in ["*", "\"3\"", "W/\"0\"", "12", "\"3", "W/3", "W/W/\"3\"", "\"\"", "", "\"3\",\"4\"", "**", "3x"] {
            assert_eq!(pattern.is_match(value), with(value).is_ok(), "{value:?}");
        }
    }

    #[test]
    fn if_match_values() {
        let with = |v: &str| if_match(&TestRequest::default().insert_header((header::IF_MATCH, v)).to_http_request());
        assert_eq!(with("\"3\"").unwrap(), Some(3));
        assert_eq!(with("W/\"7\"").unwrap(), Some(7));
        assert_eq!(with("*").unwrap(), None);
        assert_eq!(with("3").unwrap(), Some(3), "a bare number");
        for malformed in ["\"abc\"", "\"-1\"", "W/W/\"3\"", "\"3", "W/3", "\"\"", "\"3\", \"4\"", "x"] {
            assert!(with(malformed).is_err(), "{malformed}");
        }
        assert_eq!(with("\"9223372036854775807\"").unwrap(), Some(9_223_372_036_854_775_807));
        let largest = Some(9_223_372_036_854_775_807);
        assert_eq!(with("\"9223372036854775808\"").unwrap(), largest, "past BIGINT: no version");
        assert_eq!(with(&"9".repeat(40)).unwrap(), largest);
        assert_eq!(if_match(&TestRequest::default().to_http_request()).unwrap(), None);
    }
}
