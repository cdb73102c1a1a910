//! A per-tenant token bucket: each reseller may make `rate` requests a second, in bursts of up to `burst`.
//! The count is per replica.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use pbx_domain::ResellerId;

/// Tenants kept before idle ones are forgotten.
const PRUNE_ABOVE: usize = 10_000;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

/// Per-tenant rate limits.
#[derive(Debug)]
pub struct RateLimiter {
    rate: f64,
    burst: f64,
    buckets: Mutex<HashMap<ResellerId, Bucket>>,
}

impl RateLimiter {
    /// `per_second` requests a second per tenant, in bursts of `burst`; `None` when `per_second` is 0 (no limit).
    #[must_use]
    pub fn new(per_second: u32, burst: u32) -> Option<Self> {
        (per_second > 0).then(|| Self {
            rate: f64::from(per_second),
            burst: f64::from(burst.max(1)),
            buckets: Mutex::new(HashMap::new()),
        })
    }

    /// Takes one request from `tenant`'s bucket.
    ///
    /// # Errors
    /// How long to wait before the next request would pass, when the bucket is empty.
    pub fn check(&self, tenant: ResellerId) -> Result<(), Duration> {
        self.check_at(tenant, Instant::now())
    }

    fn check_at(&self, tenant: ResellerId, now: Instant) -> Result<(), Duration> {
        let mut buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        if buckets.len() > PRUNE_ABOVE {
            let (rate, burst) = (self.rate, self.burst);
            buckets.retain(|_, b| b.tokens + now.duration_since(b.updated).as_secs_f64() * rate < burst);
        }
        let bucket = buckets.entry(tenant).or_insert(Bucket { tokens: self.burst, updated: now });
        let refilled = now.duration_since(bucket.updated).as_secs_f64() * self.rate;
        bucket.tokens = (bucket.tokens + refilled).min(self.burst);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - bucket.tokens) / self.rate))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    #[test]
    fn a_burst_passes_then_the_rate_applies_per_tenant() {
        let limiter = RateLimiter::new(10, 3).unwrap();
        let (a, b) = (ResellerId::from_uuid(Uuid::from_u128(1)), ResellerId::from_uuid(Uuid::from_u128(2)));
        let start = Instant::now();
        for _ in 0..3 {
            assert!(limiter.check_at(a, start).is_ok());
        }
        let wait = limiter.check_at(a, start).unwrap_err();
        assert!(wait <= Duration::from_millis(100) && wait > Duration::ZERO, "{wait:?}");
        assert!(limiter.check_at(b, start).is_ok(), "another tenant has its own bucket");
        assert!(limiter.check_at(a, start + Duration::from_millis(100)).is_ok(), "refilled");
    }

    #[test]
    fn zero_means_no_limit() {
        assert!(RateLimiter::new(0, 10).is_none());
    }
}
