//! The envelope every answer wears, and its timestamps.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, HttpResponseBuilder};
use chrono::Utc;

use crate::timestamp;
use serde::Serialize;
use utoipa::ToSchema;

/// The media type of every answer.
pub(crate) const JSON_UTF8: &str = "application/json; charset=utf-8";

/// `body` as the JSON body of `builder`'s answer.
pub(crate) fn json_body<T: Serialize>(mut builder: HttpResponseBuilder, body: &T) -> HttpResponse {
    match serde_json::to_vec(body) {
        Ok(bytes) => builder.content_type(JSON_UTF8).body(bytes),
        Err(e) => {
            tracing::error!(error = %e, "an answer could not be serialised");
            HttpResponse::InternalServerError().finish()
        }
    }
}

/// A success answer: `data` in the envelope.
pub(crate) fn success<T: Serialize>(builder: HttpResponseBuilder, data: T) -> HttpResponse {
    json_body(builder, &Success::new(data))
}

/// `{"data": …, "status": "success", "timestamp": …}`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Success<T: Serialize> {
    pub data: T,
    #[schema(example = "success")]
    pub status: &'static str,
    #[schema(example = "2019-11-29T16:03:23.9251680Z")]
    pub timestamp: String,
}

impl<T: Serialize> Success<T> {
    pub(crate) fn new(data: T) -> Self {
        Self { data, status: "success", timestamp: timestamp(Utc::now()) }
    }
}

/// One broken field of a request.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct FieldError {
    #[schema(example = "hostRest")]
    pub field: String,
    #[schema(example = "must use the http or https scheme")]
    pub message: String,
}

/// An error: `{"error": 404, "message": "Not Found", "status": "error", "timestamp": …}`, with `errors` for
/// validation.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ErrorEnvelope)]
pub(crate) struct Failure<'a> {
    /// The HTTP status.
    #[schema(example = 404)]
    pub error: u16,
    #[schema(example = "Not Found")]
    pub message: &'a str,
    #[schema(example = "error")]
    pub status: &'static str,
    #[schema(example = "2020-02-06T12:46:58.7669535Z")]
    pub timestamp: String,
    /// Every broken field, on a 400 about fields.
    #[serde(skip_serializing_if = "<[FieldError]>::is_empty")]
    #[schema(value_type = Option<Vec<FieldError>>)]
    pub errors: &'a [FieldError],
}

/// A whole HTTP/1.1 error answer in the envelope, as bytes, for a connection the HTTP server does not handle (see
/// [`crate::stopping`]); the connection is closed after it.
pub(crate) fn raw_error(status: StatusCode, message: &str, headers: &[(&str, &str)]) -> Vec<u8> {
    let failure = Failure::new(status.as_u16(), message, &[]);
    let body = serde_json::to_vec(&failure).unwrap_or_default();
    let mut answer = format!(
        "HTTP/1.1 {} {}\r\ncontent-type: {JSON_UTF8}\r\ncontent-length: {}\r\ncache-control: no-store\r\n\
         connection: close\r\n",
        status.as_u16(),
        status.canonical_reason().unwrap_or("Error"),
        body.len()
    );
    for (name, value) in headers {
        answer.push_str(&format!("{name}: {value}\r\n"));
    }
    answer.push_str("\r\n");
    let mut answer = answer.into_bytes();
    answer.extend_from_slice(&body);
    answer
}

/// The answer to a delete: `{"status": "success", "timestamp": …}`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Deleted {
    #[schema(example = "success")]
    status: &'static str,
    #[schema(example = "2019-11-29T16:03:23.9251680Z")]
    timestamp: String,
}

/// The answer to a delete.
pub(crate) fn deleted() -> HttpResponse {
    json_body(HttpResponse::Ok(), &Deleted { status: "success", timestamp: timestamp(Utc::now()) })
}

impl<'a> Failure<'a> {
    pub(crate) fn new(error: u16, message: &'a str, errors: &'a [FieldError]) -> Self {
        Self { error, message, status: "error", timestamp: timestamp(Utc::now()), errors }
    }
}

/// The answers every `/api` operation may give besides its own: token problems, the rate limit, an unavailable
/// database. Written once; each operation lists them with `crate::envelope::CommonFailures`.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)] // a description: `ApiError` writes these answers
pub(crate) enum CommonFailures {
    /// The bearer token is missing, malformed, expired or invalid
    #[response(status = 401, headers(("WWW-Authenticate" = String, description = "`Bearer error=\"invalid_token\"`")))]
    Unauthorized(Failure<'static>),
    /// The token lacks the scope
    #[response(status = 403)]
    Forbidden(Failure<'static>),
    /// The reseller is over its rate limit
    #[response(status = 429, headers(("Retry-After" = u64, description = "Seconds to wait before the next request")))]
    TooManyRequests(Failure<'static>),
    /// The database is unavailable; nothing was changed
    #[response(status = 503, headers(("Retry-After" = u64, description = "Seconds to wait before trying again")))]
    Unavailable(Failure<'static>),
}
