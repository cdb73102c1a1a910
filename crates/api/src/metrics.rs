//! Prometheus metrics: requests by route and status, a latency histogram, the database pool, profiles created.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// Latency buckets, in seconds.
const BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];

/// Reads the database pool: connections open, and idle among them.
pub type PoolUsage = Arc<dyn Fn() -> (u32, usize) + Send + Sync>;

#[derive(Debug, Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

#[derive(Default)]
struct Counters {
    requests: BTreeMap<(String, String, u16), u64>,
    latency: BTreeMap<(String, String), Histogram>,
    profiles_created: BTreeMap<&'static str, u64>,
}

/// The service's metrics.
pub struct Metrics {
    counters: Mutex<Counters>,
    pool: Option<PoolUsage>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

/// A Prometheus label value.
fn label(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

impl Metrics {
    /// Metrics reading the pool through `pool`, when given.
    #[must_use]
    pub fn new(pool: Option<PoolUsage>) -> Self {
        Self { counters: Mutex::new(Counters::default()), pool }
    }

    fn counters(&self) -> std::sync::MutexGuard<'_, Counters> {
        self.counters.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Counts an answered request; `route` is the route's pattern, never the concrete path.
    pub fn record_request(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let mut counters = self.counters();
        *counters.requests.entry((method.to_owned(), route.to_owned(), status)).or_default() += 1;
        let histogram = counters.latency.entry((method.to_owned(), route.to_owned())).or_default();
        let seconds = elapsed.as_secs_f64();
        for (count, bound) in histogram.counts.iter_mut().zip(BUCKETS) {
            if seconds <= bound {
                *count += 1;
            }
        }
        histogram.count += 1;
        histogram.sum += seconds;
    }

    /// Counts a created profile of type `pbx_type`.
    pub fn record_profile_created(&self, pbx_type: &'static str) {
        *self.counters().profiles_created.entry(pbx_type).or_default() += 1;
    }

    /// The metrics in the Prometheus text format.
    #[must_use]
    pub fn render(&self) -> String {
        let counters = self.counters();
        let mut out = String::new();
        out.push_str("# HELP pbx_http_requests_total HTTP requests answered, by method, route and status.\n");
        out.push_str("# TYPE pbx_http_requests_total counter\n");
        for ((method, route, status), count) in &counters.requests {
            let _ = writeln!(
                out,
                "pbx_http_requests_total{{method=\"{}\",route=\"{}\",status=\"{status}\"}} {count}",
                label(method),
                label(route)
            );
        }
        out.push_str("# HELP pbx_http_request_duration_seconds Time to answer HTTP requests, by method and route.\n");
        out.push_str("# TYPE pbx_http_request_duration_seconds histogram\n");
        for ((method, route), histogram) in &counters.latency {
            let labels = format!("method=\"{}\",route=\"{}\"", label(method), label(route));
            for (count, bound) in histogram.counts.iter().zip(BUCKETS) {
                let _ = writeln!(out, "pbx_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {count}");
            }
            let _ =
                writeln!(out, "pbx_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}", histogram.count);
            let _ = writeln!(out, "pbx_http_request_duration_seconds_sum{{{labels}}} {}", histogram.sum);
            let _ = writeln!(out, "pbx_http_request_duration_seconds_count{{{labels}}} {}", histogram.count);
        }
        out.push_str("# HELP pbx_profiles_created_total PBX profiles created, by type.\n");
        out.push_str("# TYPE pbx_profiles_created_total counter\n");
        for pbx_type in pbx_domain::PbxType::ALL.map(pbx_domain::PbxType::as_str) {
            let count = counters.profiles_created.get(pbx_type).copied().unwrap_or(0);
            let _ = writeln!(out, "pbx_profiles_created_total{{type=\"{pbx_type}\"}} {count}");
        }
        if let Some(pool) = &self.pool {
            let (size, idle) = pool();
            let idle = u32::try_from(idle).unwrap_or(u32::MAX).min(size);
            out.push_str("# HELP pbx_db_pool_connections Database connections of this replica, by state.\n");
            out.push_str("# TYPE pbx_db_pool_connections gauge\n");
            let _ = writeln!(out, "pbx_db_pool_connections{{state=\"in_use\"}} {}", size - idle);
            let _ = writeln!(out, "pbx_db_pool_connections{{state=\"idle\"}} {idle}");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_histograms_and_gauges() {
        let metrics = Metrics::new(Some(Arc::new(|| (5, 3))));
        metrics.record_request("POST", "/api/v1.0/customers/{customer_id}/pbxs", 201, Duration::from_millis(3));
        metrics.record_request("POST", "/api/v1.0/customers/{customer_id}/pbxs", 201, Duration::from_millis(30));
        metrics.record_profile_created("KazooPbxConnectionProfile");
        let text = metrics.render();
        let route = "method=\"POST\",route=\"/api/v1.0/customers/{customer_id}/pbxs\"";
        assert!(text.contains(&format!("pbx_http_requests_total{{{route},status=\"201\"}} 2")), "{text}");
        assert!(text.contains(&format!("pbx_http_request_duration_seconds_bucket{{{route},le=\"0.005\"}} 1")));
        assert!(text.contains(&format!("pbx_http_request_duration_seconds_bucket{{{route},le=\"+Inf\"}} 2")));
        assert!(text.contains("pbx_profiles_created_total{type=\"KazooPbxConnectionProfile\"} 1"));
        assert!(text.contains("pbx_profiles_created_total{type=\"ThreeCxConnectionProfile\"} 0"));
        assert!(text.contains("pbx_db_pool_connections{state=\"in_use\"} 2"));
        assert!(text.contains("pbx_db_pool_connections{state=\"idle\"} 3"));
    }
}
