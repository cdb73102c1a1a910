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
        .and_then(|v| v.parse::<u64>().ok())
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
        assert_eq!(if_match(&TestRequest::default().to_http_request()).unwrap(), None);
    }
}
