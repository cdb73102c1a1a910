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

/// How often a patch sent without `If-Match` is applied again after losing its write to another change.
const REAPPLIED: usize = 20;

/// Runs `patch` — read the resource, apply the operations to it, write the result if the resource still has the
/// version read — again each time it fails only because another change was written in between, when the caller gave
/// no `If-Match`: a patch sent without a precondition applies to the resource as it is when written (its `test`
/// operations included), and never answers 412 for a version the caller did not name. Each failed write wrote
/// nothing; after [`REAPPLIED`] lost races in a row the answer is 409 (send it again).
///
/// # Errors
/// What `patch` answers, but 412 without `If-Match`.
pub(crate) async fn unconditionally<T>(
    if_match: Option<u64>,
    mut patch: impl AsyncFnMut() -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    for _ in 0..REAPPLIED {
        match patch().await {
            Err(ApiError::PreconditionFailed) if if_match.is_none() => {}
            answer => return answer,
        }
    }
    Err(ApiError::Conflict(format!(
        "The resource changed {REAPPLIED} times while this patch was applied to it; send the patch again."
    )))
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

    /// A patch losing `lost` races, then written: its answers and how often it ran.
    async fn patched_after(lost: usize, if_match: Option<u64>) -> (Result<u64, ApiError>, usize) {
        let mut runs = 0;
        let answer = unconditionally(if_match, async || {
            runs += 1;
            if runs <= lost { Err(ApiError::PreconditionFailed) } else { Ok(7) }
        })
        .await;
        (answer, runs)
    }

    #[tokio::test]
    async fn a_patch_without_if_match_is_applied_again_after_a_lost_race() {
        let (answer, runs) = patched_after(3, None).await;
        assert_eq!((answer.ok(), runs), (Some(7), 4));
        let (answer, runs) = patched_after(0, None).await;
        assert_eq!((answer.ok(), runs), (Some(7), 1));
        let (answer, runs) = patched_after(3, Some(2)).await;
        assert!(matches!(answer, Err(ApiError::PreconditionFailed)), "with If-Match, a lost race is 412 at once");
        assert_eq!(runs, 1);
        let (answer, runs) = patched_after(REAPPLIED, None).await;
        assert!(matches!(answer, Err(ApiError::Conflict(_))), "losing every time ends in 409");
        assert_eq!(runs, REAPPLIED);
    }
}
