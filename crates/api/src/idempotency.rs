//! The `Idempotency-Key` header on creates: a repeat of a request gets the first answer back instead of creating
//! again (rules in [`pbx_application::idempotency`]).

use std::future::Future;
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use pbx_application::RepositoryError;
use pbx_application::idempotency::{Claim, IdempotencyKeys, Reservation, StoredAnswer, parse_key};
use pbx_domain::ResellerId;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::envelope::JSON_UTF8;
use crate::etag::etag;
use crate::{ApiError, AppState};

/// The request header.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";

/// Set on an answer that is a replay of the first.
pub const REPLAYED: &str = "idempotent-replayed";

/// How long a repeat waits for the first request with its key to be answered, asking again after 10 ms, then
/// twice as long each time up to 200 ms.
const WAIT: Duration = Duration::from_secs(5);
const FIRST_POLL: Duration = Duration::from_millis(10);
const LONGEST_POLL: Duration = Duration::from_millis(200);

/// What identifies a request under a key: its method, its path and its body (accept-charges aside, so that the
/// repeat the 402 asks for is the same request).
fn fingerprint(req: &HttpRequest, body: &Map<String, Value>) -> String {
    let mut hash = Sha256::new();
    hash.update(req.method().as_str());
    hash.update(b" ");
    hash.update(req.path());
    hash.update(b"\n");
    hash.update(serde_json::to_vec(body).unwrap_or_default());
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// The key of the request, if it has one.
///
/// # Errors
/// 400 when the header is not a valid key.
fn key_of(req: &HttpRequest) -> Result<Option<&str>, ApiError> {
    let Some(value) = req.headers().get(IDEMPOTENCY_KEY) else { return Ok(None) };
    let text = value.to_str().map_err(|_| ApiError::BadRequest(invalid_key()))?;
    parse_key(text).map(Some).map_err(|_| ApiError::BadRequest(invalid_key()))
}

fn invalid_key() -> String {
    format!("The Idempotency-Key header is invalid: {}.", pbx_application::idempotency::InvalidKey)
}

/// Answers with `create(body, reservation)` once per key: without a key, simply `create(body, None)`; with one, the
/// first request runs it under the key's [`Reservation`] and a repeat gets its answer (201) back, marked
/// [`REPLAYED`].
///
/// # Errors
/// 400 for an invalid key, 422 for a key used with another request, 409 while the first request is still being
/// answered after [`WAIT`], 503 when the keys cannot be stored; else what `create` answers.
pub(crate) async fn once<F, Fut>(
    req: &HttpRequest,
    state: &AppState,
    reseller: ResellerId,
    body: Map<String, Value>,
    create: F,
) -> Result<HttpResponse, ApiError>
where
    F: FnOnce(Map<String, Value>, Option<Reservation>) -> Fut,
    Fut: Future<Output = Result<HttpResponse, ApiError>>,
{
    let Some(key) = key_of(req)? else { return create(body, None).await };
    let fingerprint = fingerprint(req, &body);
    let keys = &state.idempotency;
    let (mut waited, mut pause) = (Duration::ZERO, FIRST_POLL);
    let reservation = loop {
        let candidate = keys.candidate();
        let claim = match keys.claim(reseller, key, &fingerprint, candidate).await {
            Ok(claim) => claim,
            Err(error) => {
                if matches!(error, RepositoryError::Unavailable(_)) {
                    // The claim may have committed with its answer lost: left to the repeat, as below.
                    abandon_in_background(keys, reseller, key, candidate);
                }
                return Err(error.into());
            }
        };
        match claim {
            Claim::Claimed(reservation) => break reservation,
            Claim::Replay(answer) => return Ok(replay(answer)),
            Claim::Mismatch => return Err(ApiError::IdempotencyKeyReused),
            Claim::InProgress if waited < WAIT => {
                tokio::time::sleep(pause).await;
                waited += pause;
                pause = (pause * 2).min(LONGEST_POLL);
            }
            Claim::InProgress => return Err(ApiError::IdempotencyKeyInUse),
        }
    };
    let response = match create(body, Some(reservation)).await {
        Ok(response) => response,
        Err(error) => error.error_response(),
    };
    let (head, body) = response.into_parts();
    let bytes = match body.try_into_bytes() {
        Ok(bytes) => bytes,
        Err(_) => {
            keys.release(reseller, key).await.map_err(ApiError::from)?;
            return Err(ApiError::Internal(anyhow::anyhow!("a create answered with a streamed body")));
        }
    };
    // Only a creation is replayed. A 503 (the database failed or was cut off) leaves the claim to the repeat, with
    // its reservation, as the create may have committed; any other answer (a 400, a 402…) frees the key for a
    // corrected repeat.
    let kept = if head.status() == StatusCode::SERVICE_UNAVAILABLE {
        abandon_in_background(keys, reseller, key, reservation.id);
        Ok(())
    } else if head.status() == StatusCode::CREATED {
        let answer = StoredAnswer {
            code: head.status().as_u16(),
            location: head.headers().get(header::LOCATION).and_then(|v| v.to_str().ok()).map(str::to_owned),
            body: bytes.to_vec(),
        };
        keys.keep(reseller, key, &answer).await
    } else {
        keys.release(reseller, key).await
    };
    if let Err(e) = kept {
        // The create happened; only its record is missing. Answer it all the same: a repeat will wait out the
        // claim's lease, then take it over and find what this request created under the reservation.
        tracing::warn!(error = %e, "the answer of an idempotent request could not be stored");
    }
    Ok(head.set_body(bytes).map_into_boxed_body())
}

/// Leaves the claim reserving `reserved` to the request's repeats ([`IdempotencyKeys::abandon`]) in the background:
/// tried again while the database is away, without holding the answer back.
fn abandon_in_background(keys: &IdempotencyKeys, reseller: ResellerId, key: &str, reserved: Uuid) {
    let (keys, key) = (keys.clone(), key.to_owned());
    tokio::spawn(async move {
        if let Err(e) = keys.abandon(reseller, &key, reserved).await {
            tracing::warn!(error = %e, "a key could not be left to its repeats; they wait out its lease");
        }
    });
}

fn replay(answer: StoredAnswer) -> HttpResponse {
    let status = StatusCode::from_u16(answer.code).unwrap_or(StatusCode::CREATED);
    let mut response = HttpResponse::build(status);
    response.content_type(JSON_UTF8).insert_header((REPLAYED, "true"));
    if status == StatusCode::CREATED {
        response.insert_header(etag(1)); // what a create answers: the first version
    }
    if let Some(location) = answer.location {
        response.insert_header((header::LOCATION, location));
    }
    response.body(answer.body)
}
