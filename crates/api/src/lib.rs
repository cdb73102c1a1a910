//! # pbx-api
//!
//! The HTTP front end of the PBX profile service, on actix-web: routes under `/api/v1.0`, the response envelope,
//! bearer-token authentication and scopes. Handlers turn requests into use-case commands and use-case results into
//! answers; [`ApiError`] owns the mapping from use-case errors to statuses.

mod app;
pub mod auth;
mod body;
mod envelope;
mod error;
mod etag;
mod framing;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
pub mod idempotency;
mod jwks;
pub mod metrics;
pub mod openapi;
mod paging;
pub mod portal;
mod query;
mod rate_limit;
mod request_log;
mod routes;
mod state;
mod stopping;
mod wire;

pub use app::{app, configure, metrics};
pub use auth::{Authenticator, Caller, Scope, TokenSettings};
pub use error::ApiError;
pub use framing::Enveloped;
pub use metrics::Metrics;
pub use pbx_application::timestamp::timestamp;
pub use rate_limit::RateLimiter;
pub use request_log::{envelope_errors, log_requests};
pub use state::{ApiSettings, AppState};
pub use stopping::answer_while_stopping;
pub use wire::event::EventRender;
pub use wire::field::FieldProblem;
