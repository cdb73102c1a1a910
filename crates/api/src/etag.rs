//! `ETag` on reads, `If-Match` on changes: optimistic concurrency over the stored version.

use actix_web::HttpRequest;
use actix_web::http::header::{self, HeaderValue};

use crate::ApiError;

/// The `ETag` of a version: `"3"`.
pub(crate) fn etag(version: u64) -> (header::HeaderName, HeaderValue) {
    let value = HeaderValue::from_str(&format!("\"{version}\"")).unwrap_or(HeaderValue::from_static("\"0\""));
    (header::ETAG, value)
}

/// The version `If-Match` requires: none when absent or `*`.
///
/// # Errors
/// 400 when the header is not `*` or an ETag this service gives out (`"3"`).
pub(crate) fn if_match(req: &HttpRequest) -> Result<Option<u64>, ApiError> {
    let malformed = || ApiError::BadRequest("If-Match must be * or an ETag such as \"3\".".to_owned());
    let Some(value) = req.headers().get(header::IF_MATCH) else { return Ok(None) };
    let value = value.to_str().map_err(|_| malformed())?.trim();
    if value == "*" {
        return Ok(None);
    }
    value
        .trim_start_matches("W/")
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        // Versions are stored as BIGINT: a larger number is no ETag of ours (400, not a failed conversion later).
        .and_then(|v| v.parse::<i64>().ok())
        .and_then(|v| u64::try_from(v).ok())
        .map(Some)
        .ok_or_else(malformed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn if_match_values() {
        let with = |v: &str| if_match(&TestRequest::default().insert_header((header::IF_MATCH, v)).to_http_request());
        assert_eq!(with("\"3\"").unwrap(), Some(3));
        assert_eq!(with("W/\"7\"").unwrap(), Some(7));
        assert_eq!(with("*").unwrap(), None);
        assert!(with("3").is_err());
        assert!(with("\"abc\"").is_err());
        assert_eq!(with("\"9223372036854775807\"").unwrap(), Some(9_223_372_036_854_775_807));
        assert!(with("\"9223372036854775808\"").is_err(), "past BIGINT");
        assert!(with("\"-1\"").is_err());
        assert_eq!(if_match(&TestRequest::default().to_http_request()).unwrap(), None);
    }
}
