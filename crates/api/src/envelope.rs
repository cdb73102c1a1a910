//! The envelope every answer wears, and its timestamps.

use actix_web::{HttpResponse, HttpResponseBuilder};
use chrono::Utc;

use crate::timestamp;
use serde::Serialize;

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
#[derive(Debug, Serialize)]
pub(crate) struct Success<T: Serialize> {
    pub data: T,
    pub status: &'static str,
    pub timestamp: String,
}

impl<T: Serialize> Success<T> {
    pub(crate) fn new(data: T) -> Self {
        Self { data, status: "success", timestamp: timestamp(Utc::now()) }
    }
}

/// One broken field of a request.
#[derive(Debug, Serialize)]
pub(crate) struct FieldError {
    pub field: String,
    pub message: String,
}

/// `{"error": 404, "message": "Not Found", "status": "error", "timestamp": …}`, with `errors` for validation.
#[derive(Debug, Serialize)]
pub(crate) struct Failure<'a> {
    pub error: u16,
    pub message: &'a str,
    pub status: &'static str,
    pub timestamp: String,
    #[serde(skip_serializing_if = "<[FieldError]>::is_empty")]
    pub errors: &'a [FieldError],
}

impl<'a> Failure<'a> {
    pub(crate) fn new(error: u16, message: &'a str, errors: &'a [FieldError]) -> Self {
        Self { error, message, status: "error", timestamp: timestamp(Utc::now()), errors }
    }
}
