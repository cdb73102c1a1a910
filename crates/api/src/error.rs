//! [`ApiError`]: every way a request can fail, as a status and an envelope.

use std::fmt;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use pbx_application::AccountError;
use pbx_application::EventsError;
use pbx_application::RepositoryError;
use pbx_application::customer::{CreateCustomerError, DeleteCustomerError, GetCustomerError, PatchCustomerError};
use pbx_application::idempotency::KeyError;
use pbx_application::pbx::{CreatePbxError, DeletePbxError, PatchPbxError, ReadCredentialsError, ReadPbxError};

use crate::envelope::{Failure, FieldError, json_body};
use crate::wire::field::FieldProblem;

/// The message of a 400 that lists broken fields.
const INVALID: &str = "One or more fields are invalid.";

/// A request that failed. The cause of a 5xx is logged, never sent.
#[derive(Debug)]
pub enum ApiError {
    /// 401: no usable bearer token.
    Unauthorized(&'static str),
    /// 403: the token lacks the scope.
    Forbidden(&'static str),
    /// 400 with a message.
    BadRequest(String),
    /// 400 listing every broken field.
    Invalid(Vec<FieldProblem>),
    /// 404.
    NotFound,
    /// 405, with the methods the resource has.
    MethodNotAllowed(&'static str),
    /// 415: the body is not JSON.
    UnsupportedMediaType,
    /// 413: the body is over the limit (bytes).
    PayloadTooLarge(usize),
    /// 408: the body did not arrive within this long; the connection is closed after the answer.
    RequestTimeout(std::time::Duration),
    /// 409 with a message.
    Conflict(String),
    /// 402: the operation is chargeable and the charge was not accepted.
    PaymentRequired(&'static str),
    /// 412: `If-Match` names a version that is no longer the current one.
    PreconditionFailed,
    /// 410: the change feed's cursor is older than the oldest event kept.
    Gone,
    /// 422: the `Idempotency-Key` was used with a different request.
    IdempotencyKeyReused,
    /// 417: the request's `Expect` asks for something other than `100-continue`.
    ExpectationFailed,
    /// 429: the tenant is over its rate limit; retry after this many seconds.
    TooManyRequests(u64),
    /// 503: the database cannot be reached.
    Unavailable(anyhow::Error),
    /// 500: anything else.
    Internal(anyhow::Error),
}

impl ApiError {
    /// The seed's answer to a path segment that should be a GUID: `The value '…' is not valid.`
    #[must_use]
    pub fn invalid_id(error: &pbx_domain::IdError) -> Self {
        Self::BadRequest(error.to_string())
    }

    fn message(&self) -> String {
        match self {
            Self::Unauthorized(why) => format!("The bearer token is {why}."),
            Self::Forbidden(scope) => {
                format!("The token does not grant the scope '{scope}' this operation needs.")
            }
            Self::BadRequest(message) | Self::Conflict(message) => message.clone(),
            Self::Invalid(_) => INVALID.to_owned(),
            Self::NotFound => "Not Found".to_owned(),
            Self::MethodNotAllowed(_) => "Method Not Allowed".to_owned(),
            Self::UnsupportedMediaType => {
                "The request body must be JSON in UTF-8, sent with 'Content-Type: application/json' (a charset \
                 parameter, if any, must be utf-8)."
                    .to_owned()
            }
            Self::PayloadTooLarge(limit) => {
                format!("The request body is larger than the limit of {limit} bytes.")
            }
            Self::RequestTimeout(limit) => {
                format!("The request body did not arrive within {} s.", limit.as_secs_f64())
            }
            Self::PaymentRequired(message) => (*message).to_owned(),
            Self::PreconditionFailed => "The resource has changed since the version given in If-Match; read it again \
                                         and repeat the change with its new ETag."
                .to_owned(),
            Self::Gone => "The cursor is older than the oldest event kept: resynchronise (read the resources again), \
                           then follow the feed from its start."
                .to_owned(),
            Self::TooManyRequests(seconds) => {
                format!("Too many requests for this tenant; retry in {seconds} s.")
            }
            Self::ExpectationFailed => "The only expectation this server meets is 'Expect: 100-continue'.".to_owned(),
            Self::IdempotencyKeyReused => "This Idempotency-Key was used with a different request in the last 24 \
                                           hours; use a new key for a new request."
                .to_owned(),
            Self::Unavailable(_) => "The service is temporarily unavailable; try again shortly.".to_owned(),
            Self::Internal(_) => "An unexpected error occurred.".to_owned(),
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

/// `error` and its causes, one per line, for the log.
fn chain(error: &anyhow::Error) -> String {
    error.chain().map(ToString::to_string).collect::<Vec<_>>().join("\n  caused by: ")
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::BadRequest(_) | Self::Invalid(_) => StatusCode::BAD_REQUEST,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::RequestTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::PaymentRequired(_) => StatusCode::PAYMENT_REQUIRED,
            Self::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            Self::Gone => StatusCode::GONE,
            Self::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::ExpectationFailed => StatusCode::EXPECTATION_FAILED,
            Self::IdempotencyKeyReused => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            Self::Unavailable(cause) => {
                tracing::warn!(error = %chain(cause), "database unavailable")
            }
            Self::Internal(cause) => tracing::error!(error = %chain(cause), "request failed"),
            _ => {}
        }
        let status = self.status_code();
        let errors: Vec<FieldError> = match self {
            Self::Invalid(problems) => {
                problems.iter().map(|p| FieldError { field: p.field.clone(), message: p.message.clone() }).collect()
            }
            _ => Vec::new(),
        };
        let message = self.message();
        let mut response = HttpResponse::build(status);
        match self {
            Self::Unauthorized(_) => {
                response.insert_header((header::WWW_AUTHENTICATE, r#"Bearer error="invalid_token""#));
            }
            Self::Unavailable(_) => {
                response.insert_header((header::RETRY_AFTER, HeaderValue::from_static("5")));
            }
            Self::TooManyRequests(seconds) => {
                response.insert_header((header::RETRY_AFTER, seconds.to_string()));
            }
            Self::MethodNotAllowed(methods) => {
                response.insert_header((header::ALLOW, *methods));
            }
            Self::RequestTimeout(_) => {
                // The rest of the body may still come: the connection cannot carry another request.
                response.force_close();
            }
            _ => {}
        }
        json_body(response, &Failure::new(status.as_u16(), &message, &errors))
    }
}

/// The envelope for a bare status (its canonical reason as the message), with no further detail.
pub(crate) fn envelope_for(status: StatusCode) -> HttpResponse {
    let message = status.canonical_reason().unwrap_or("Error");
    json_body(HttpResponse::build(status), &Failure::new(status.as_u16(), message, &[]))
}

const INSTANCE_ATTACHED: &str = "This PBX instance is already attached to a customer.";

impl ApiError {
    /// 409 for a JSON Patch `test` that failed at `path`.
    pub(crate) fn test_failed(path: &str) -> Self {
        Self::Conflict(format!("The test operation at '{path}' failed; nothing was changed."))
    }
}

impl From<RepositoryError> for ApiError {
    fn from(error: RepositoryError) -> Self {
        match error {
            RepositoryError::Unavailable(e) => Self::Unavailable(e),
            RepositoryError::Unexpected(e) => Self::Internal(e),
        }
    }
}

impl From<EventsError> for ApiError {
    fn from(error: EventsError) -> Self {
        match error {
            EventsError::MalformedCursor => {
                Self::Invalid(vec![FieldProblem::new("after", "not a cursor this service handed out")])
            }
            EventsError::UnknownCursor => {
                Self::Invalid(vec![FieldProblem::new("after", "is past every cursor this service handed out")])
            }
            EventsError::Gone => Self::Gone,
            EventsError::Storage(e) => e.into(),
        }
    }
}

impl From<ReadCredentialsError> for ApiError {
    fn from(error: ReadCredentialsError) -> Self {
        match error {
            ReadCredentialsError::NotFound => Self::NotFound,
            ReadCredentialsError::Storage(e) => e.into(),
        }
    }
}

impl From<ReadPbxError> for ApiError {
    fn from(error: ReadPbxError) -> Self {
        match error {
            ReadPbxError::NotFound => Self::NotFound,
            ReadPbxError::Storage(e) => e.into(),
        }
    }
}

impl From<PatchPbxError> for ApiError {
    fn from(error: PatchPbxError) -> Self {
        match error {
            PatchPbxError::NotFound => Self::NotFound,
            PatchPbxError::PreconditionFailed => Self::PreconditionFailed,
            PatchPbxError::InstanceAttached => Self::Conflict(INSTANCE_ATTACHED.to_owned()),
            PatchPbxError::SecretNotRepeated(secret, moved) => Self::Invalid(vec![crate::FieldProblem::new(
                secret,
                format!("must be given again in a patch that changes {moved}; nothing was changed"),
            )]),
            PatchPbxError::ChargesNotAccepted => Self::PaymentRequired(
                "Enabling a PBX profile is chargeable. To accept the charge, repeat the identical request with the \
                 header 'accept-charges: true'. Nothing was changed.",
            ),
            PatchPbxError::Storage(e) => e.into(),
        }
    }
}

impl From<DeletePbxError> for ApiError {
    fn from(error: DeletePbxError) -> Self {
        match error {
            DeletePbxError::NotFound => Self::NotFound,
            DeletePbxError::PreconditionFailed => Self::PreconditionFailed,
            DeletePbxError::Storage(e) => e.into(),
        }
    }
}

impl From<PatchCustomerError> for ApiError {
    fn from(error: PatchCustomerError) -> Self {
        match error {
            PatchCustomerError::NotFound => Self::NotFound,
            PatchCustomerError::PreconditionFailed => Self::PreconditionFailed,
            PatchCustomerError::Storage(e) => e.into(),
        }
    }
}

impl From<pbx_application::webhook::WebhookError> for ApiError {
    fn from(error: pbx_application::webhook::WebhookError) -> Self {
        use pbx_application::webhook::WebhookError;
        match error {
            WebhookError::NotFound => Self::NotFound,
            WebhookError::PreconditionFailed => Self::PreconditionFailed,
            WebhookError::Target(e) => Self::Invalid(vec![crate::FieldProblem::new("url", e.to_string())]),
            WebhookError::TooMany => Self::Conflict(format!(
                "You have {} webhooks, as many as you may have; delete one first.",
                pbx_domain::webhook::MAX_PER_OWNER
            )),
            WebhookError::Random(e) => Self::Internal(anyhow::anyhow!(e)),
            WebhookError::Key(e) => e.into(),
            WebhookError::Storage(e) => e.into(),
        }
    }
}

impl From<KeyError> for ApiError {
    fn from(error: KeyError) -> Self {
        match error {
            KeyError::Reused => Self::IdempotencyKeyReused,
            KeyError::Deleted => Self::Conflict(
                "What the first request with this Idempotency-Key created has been deleted since; send a new key to \
                 create it again."
                    .to_owned(),
            ),
        }
    }
}

impl From<AccountError> for ApiError {
    fn from(error: AccountError) -> Self {
        match error {
            AccountError::NotFound => Self::NotFound,
            AccountError::PreconditionFailed => Self::PreconditionFailed,
            AccountError::NotEmpty => Self::Conflict(
                "The account still has customers or accounts of its own; delete them before the account.".to_owned(),
            ),
            AccountError::Key(e) => e.into(),
            AccountError::Storage(e) => e.into(),
        }
    }
}

impl From<DeleteCustomerError> for ApiError {
    fn from(error: DeleteCustomerError) -> Self {
        match error {
            DeleteCustomerError::NotFound => Self::NotFound,
            DeleteCustomerError::PreconditionFailed => Self::PreconditionFailed,
            DeleteCustomerError::HasProfiles => {
                Self::Conflict("The customer still has PBX profiles; delete them before the customer.".to_owned())
            }
            DeleteCustomerError::Storage(e) => e.into(),
        }
    }
}

impl From<CreatePbxError> for ApiError {
    fn from(error: CreatePbxError) -> Self {
        match error {
            CreatePbxError::CustomerNotFound => Self::NotFound,
            CreatePbxError::InstanceAttached => Self::Conflict(INSTANCE_ATTACHED.to_owned()),
            CreatePbxError::ChargesNotAccepted => Self::PaymentRequired(
                "Creating a PBX profile is chargeable. To accept the charge, repeat the identical request with the \
                 header 'accept-charges: true'. Nothing was created.",
            ),
            CreatePbxError::Key(e) => e.into(),
            CreatePbxError::Storage(e) => e.into(),
        }
    }
}

impl From<CreateCustomerError> for ApiError {
    fn from(error: CreateCustomerError) -> Self {
        match error {
            CreateCustomerError::InstanceAttached => Self::Conflict(INSTANCE_ATTACHED.to_owned()),
            CreateCustomerError::ChargesNotAccepted => Self::PaymentRequired(
                "Creating a PBX profile is chargeable. To accept the charge, repeat the identical request with the \
                 header 'accept-charges: true'. Nothing was created, neither the customer nor its profile.",
            ),
            CreateCustomerError::ResellerNotFound => Self::NotFound,
            CreateCustomerError::Key(e) => e.into(),
            CreateCustomerError::Storage(e) => e.into(),
        }
    }
}

impl From<GetCustomerError> for ApiError {
    fn from(error: GetCustomerError) -> Self {
        match error {
            GetCustomerError::NotFound => Self::NotFound,
            GetCustomerError::Storage(e) => e.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::body::MessageBody;

    fn body(error: &ApiError) -> serde_json::Value {
        let bytes = error.error_response().into_body().try_into_bytes().unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[test]
    fn errors_wear_the_envelope() {
        let json = body(&ApiError::NotFound);
        assert_eq!(json["error"], 404);
        assert_eq!(json["message"], "Not Found");
        assert_eq!(json["status"], "error");
        assert_eq!(json["timestamp"].as_str().unwrap().len(), "2020-02-06T12:46:58.7669535Z".len());
        assert!(json.get("errors").is_none());
    }

    #[test]
    fn validation_errors_list_every_field() {
        let json = body(&ApiError::Invalid(vec![
            FieldProblem::new("hostRest", "must use the http or https scheme"),
            FieldProblem::new("apiKey", "is required"),
        ]));
        assert_eq!(json["errors"][0]["field"], "hostRest");
        assert_eq!(json["errors"][1]["message"], "is required");
    }

    #[test]
    fn the_cause_of_a_server_error_is_never_sent() {
        let json = body(&ApiError::Internal(anyhow::anyhow!("password=hunter2 in a driver message")));
        assert_eq!(json["message"], "An unexpected error occurred.");
        assert!(!json.to_string().contains("hunter2"));
    }

    #[test]
    fn a_401_says_how_to_authenticate() {
        let response = ApiError::Unauthorized("missing").error_response();
        assert_eq!(response.headers().get(header::WWW_AUTHENTICATE).unwrap(), r#"Bearer error="invalid_token""#);
    }
}
