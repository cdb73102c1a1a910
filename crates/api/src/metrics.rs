//! Prometheus metrics: requests by route and status, a latency histogram, the database pool, profiles created.
//!
//! Kept with `prometheus-client` (OpenMetrics text): a metric family takes a shared read lock to find a series
//! it has seen, and the series themselves are atomics, so recording a request takes no process-wide mutex.

use std::sync::Arc;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

/// Latency buckets, in seconds.
const BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];

/// The media type of [`Metrics::render`]'s text.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Reads the database pool: connections open, and idle among them.
pub type PoolUsage = Arc<dyn Fn() -> (u32, usize) + Send + Sync>;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Request {
    method: String,
    route: String,
    status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Route {
    method: String,
    route: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Created {
    r#type: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolState {
    state: &'static str,
}

type Latency = Family<Route, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    Histogram::new(BUCKETS)
}

/// The service's metrics.
pub struct Metrics {
    registry: Registry,
    requests: Family<Request, Counter>,
    latency: Latency,
    profiles_created: Family<Created, Counter>,
    pool_connections: Family<PoolState, Gauge>,
    pool: Option<PoolUsage>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Metrics {
    /// Metrics reading the pool through `pool`, when given.
    #[must_use]
    pub fn new(pool: Option<PoolUsage>) -> Self {
        let mut registry = Registry::default();
        let requests = Family::<Request, Counter>::default();
        registry.register("pbx_http_requests", "HTTP requests answered, by method, route and status", requests.clone());
        let latency = Latency::new_with_constructor(latency_histogram);
        registry.register_with_unit(
            "pbx_http_request_duration",
            "Time to answer HTTP requests, by method and route",
            Unit::Seconds,
            latency.clone(),
        );
        let profiles_created = Family::<Created, Counter>::default();
        registry.register("pbx_profiles_created", "PBX profiles created, by type", profiles_created.clone());
        for pbx_type in pbx_domain::PbxType::ALL {
            // Every type shows, at 0 until its first create.
            drop(profiles_created.get_or_create(&Created { r#type: pbx_type.as_str() }));
        }
        let pool_connections = Family::<PoolState, Gauge>::default();
        if pool.is_some() {
            registry.register(
                "pbx_db_pool_connections",
                "Database connections of this replica, by state",
                pool_connections.clone(),
            );
        }
        Self { registry, requests, latency, profiles_created, pool_connections, pool }
    }

    /// Counts an answered request; `route` is the route's pattern, never the concrete path.
    pub fn record_request(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let (method, route) = (method.to_owned(), route.to_owned());
        self.latency
            .get_or_create(&Route { method: method.clone(), route: route.clone() })
            .observe(elapsed.as_secs_f64());
        self.requests.get_or_create(&Request { method, route, status }).inc();
    }

    /// Counts a created profile of type `pbx_type`.
    pub fn record_profile_created(&self, pbx_type: &'static str) {
        self.profiles_created.get_or_create(&Created { r#type: pbx_type }).inc();
    }

    /// The metrics in the OpenMetrics text format ([`CONTENT_TYPE`]).
    #[must_use]
    pub fn render(&self) -> String {
        if let Some(pool) = &self.pool {
            let (size, idle) = pool();
            let idle = u32::try_from(idle).unwrap_or(u32::MAX).min(size);
            self.pool_connections.get_or_create(&PoolState { state: "in_use" }).set(i64::from(size - idle));
            self.pool_connections.get_or_create(&PoolState { state: "idle" }).set(i64::from(idle));
        }
        let mut out = String::new();
        if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &self.registry) {
            tracing::error!(error = %e, "the metrics could not be written");
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
        // Label order carries no meaning; the library writes `le` first.
        let bucket =
            |le: &str, count: u32| format!("pbx_http_request_duration_seconds_bucket{{le=\"{le}\",{route}}} {count}");
        assert!(text.contains(&bucket("0.005", 1)), "{text}");
        assert!(text.contains(&bucket("+Inf", 2)));
        assert!(text.contains(&format!("pbx_http_request_duration_seconds_count{{{route}}} 2")));
        assert!(text.contains("pbx_profiles_created_total{type=\"KazooPbxConnectionProfile\"} 1"), "{text}");
        assert!(text.contains("pbx_profiles_created_total{type=\"ThreeCxConnectionProfile\"} 0"));
        assert!(text.contains("pbx_db_pool_connections{state=\"in_use\"} 2"), "{text}");
        assert!(text.contains("pbx_db_pool_connections{state=\"idle\"} 3"));
        assert!(text.ends_with("# EOF\n"));
    }

    #[test]
    fn label_values_are_escaped() {
        let metrics = Metrics::new(None);
        metrics.record_request("GET", "a\"b\\c", 404, Duration::ZERO);
        assert!(metrics.render().contains(r#"route="a\"b\\c""#), "{}", metrics.render());
    }
}
