//! The per-tenant rate limit: each reseller may make `rate` requests a second, in bursts of up to `burst`, counted
//! per replica. A middleware of its own, on the `/api` scope: it identifies the caller (the `Caller` extractor then
//! finds it in the request instead of checking the token again) and answers 429 with `Retry-After` before any
//! handler runs. The buckets are `governor`'s keyed limiter (GCRA over a sharded map: no process-wide lock).

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage, ResponseError, web};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use pbx_domain::ResellerId;

use crate::{ApiError, AppState, Caller};

/// Tenants remembered before those whose bucket has refilled are forgotten.
const PRUNE_ABOVE: usize = 10_000;
/// How often (in checks) the number of remembered tenants is looked at.
const PRUNE_EVERY: u64 = 4_096;

/// Per-tenant rate limits.
#[derive(Debug)]
pub struct RateLimiter {
    buckets: DefaultKeyedRateLimiter<ResellerId>,
    clock: DefaultClock,
    checks: AtomicU64,
}

impl RateLimiter {
    /// `per_second` requests a second per tenant, in bursts of `burst`; `None` when `per_second` is 0 (no limit).
    #[must_use]
    pub fn new(per_second: u32, burst: u32) -> Option<Self> {
        let rate = NonZeroU32::new(per_second)?;
        let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
        let clock = DefaultClock::default();
        let buckets =
            governor::RateLimiter::dashmap_with_clock(Quota::per_second(rate).allow_burst(burst), clock.clone());
        Some(Self { buckets, clock, checks: AtomicU64::new(0) })
    }

    /// Takes one request from `reseller`'s bucket.
    ///
    /// # Errors
    /// How long to wait before the next request would pass, when the bucket is empty.
    pub fn check(&self, reseller: ResellerId) -> Result<(), std::time::Duration> {
        if self.checks.fetch_add(1, Ordering::Relaxed).is_multiple_of(PRUNE_EVERY) && self.buckets.len() > PRUNE_ABOVE {
            self.buckets.retain_recent();
            self.buckets.shrink_to_fit();
        }
        self.buckets.check_key(&reseller).map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }
}

/// Counts the request against its tenant's limit: 429 with `Retry-After` when it is spent. A request whose token
/// does not check out passes on, to be answered 401 by the handler's `Caller` extractor as ever.
///
/// # Errors
/// Those of the wrapped service.
pub async fn limit_rate(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let limiter = req.app_data::<web::Data<AppState>>().and_then(|state| state.rate_limiter.clone());
    if let Some(limiter) = limiter
        && let Ok(caller) = Caller::extract(req.request()).await
    {
        if let Err(wait) = limiter.check(caller.reseller) {
            // Rounded up: a client that waits as told finds a token.
            let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            let error = ApiError::TooManyRequests(seconds.max(1));
            return Ok(req.into_response(error.error_response()));
        }
        req.extensions_mut().insert(caller);
    }
    next.call(req).await.map(ServiceResponse::map_into_boxed_body)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use uuid::Uuid;

    #[test]
    fn a_burst_passes_then_the_rate_applies_per_tenant() {
        let limiter = RateLimiter::new(10, 3).unwrap();
        let (a, b) = (ResellerId::from_uuid(Uuid::from_u128(1)), ResellerId::from_uuid(Uuid::from_u128(2)));
        for _ in 0..3 {
            assert!(limiter.check(a).is_ok());
        }
        let wait = limiter.check(a).unwrap_err();
        assert!(wait <= Duration::from_millis(100) && wait > Duration::ZERO, "{wait:?}");
        assert!(limiter.check(b).is_ok(), "another tenant has its own bucket");
        std::thread::sleep(wait + Duration::from_millis(5));
        assert!(limiter.check(a).is_ok(), "refilled");
    }

    #[test]
    fn zero_means_no_limit() {
        assert!(RateLimiter::new(0, 10).is_none());
    }
}
