//! What every handler can reach: the use cases, the authenticator and the API's settings.

use std::sync::Arc;

use pbx_application::customer::{CreateCustomer, DeleteCustomer, GetCustomer, ListCustomers, PatchCustomer};
use pbx_application::pbx::{CreatePbx, DeletePbx, PatchPbx, ReadCredentials, ReadPbxs};
use pbx_application::{Accounts, ReadEvents, Readiness};

use crate::{Authenticator, Metrics, RateLimiter};

/// Settings of the HTTP front end.
#[derive(Debug, Clone)]
pub struct ApiSettings {
    /// The public base URL (`https://api.example.com`) used in `Location`; taken from the request when unset.
    pub public_url: Option<String>,
    /// The largest request body accepted, in bytes.
    pub body_limit: usize,
    /// How long a request's body may take to arrive once its head has (408 after).
    pub body_timeout: std::time::Duration,
    /// Origins allowed to call the API from a browser (CORS); none by default, and then CORS stays off.
    pub cors_origins: Vec<String>,
    /// Whether `/metrics` is served with the API (false when it has a listener of its own).
    pub metrics_with_api: bool,
    /// Whether the portal may hand out development tokens (`POST /portal/dev-token`): only when asked for, the
    /// server mints its own tokens and listens on loopback.
    pub dev_tokens: bool,
    /// Whether `Location` may be built from the `Forwarded` and `X-Forwarded-*` headers (behind a proxy that sets
    /// them); they are ignored otherwise.
    pub trust_forwarded: bool,
    /// Whether a PBX profile's hosts may be written as addresses the service would not call otherwise (loopback,
    /// private, link-local, metadata): tests and on-premises PBXs.
    pub pbx_hosts_allow_private: bool,
}

impl Default for ApiSettings {
    fn default() -> Self {
        Self {
            public_url: None,
            body_limit: 64 * 1024,
            body_timeout: std::time::Duration::from_secs(10),
            cors_origins: Vec::new(),
            metrics_with_api: true,
            dev_tokens: false,
            trust_forwarded: false,
            pbx_hosts_allow_private: false,
        }
    }
}

/// The handlers' shared state.
#[derive(Clone)]
pub struct AppState {
    /// Checks bearer tokens.
    pub authenticator: Arc<Authenticator>,
    /// The enterprise tier's accounts.
    pub accounts: Accounts,
    /// Webhooks (§13).
    pub webhooks: pbx_application::webhook::Webhooks,
    /// Their deliveries (a test delivery is made from a request).
    pub deliverer: pbx_application::delivery::Deliverer,
    /// Create PBX.
    pub create_pbx: CreatePbx,
    /// Create customer.
    pub create_customer: CreateCustomer,
    /// Get, list and look up profiles.
    pub read_pbxs: ReadPbxs,
    /// Patch PBX.
    pub patch_pbx: PatchPbx,
    /// Connection checks and collectors' reports (§15).
    pub checks: pbx_application::connection::Checks,
    /// Delete PBX.
    pub delete_pbx: DeletePbx,
    /// Get customer.
    pub get_customer: GetCustomer,
    /// List customers.
    pub list_customers: ListCustomers,
    /// Patch customer.
    pub patch_customer: PatchCustomer,
    /// Delete customer.
    pub delete_customer: DeleteCustomer,
    /// The change feed.
    pub read_events: ReadEvents,
    /// Credentials for collectors.
    pub read_credentials: ReadCredentials,
    /// Whether the database is reachable and migrated.
    pub readiness: Arc<dyn Readiness>,
    /// Metrics.
    pub metrics: Arc<Metrics>,
    /// Set when the server is about to stop: readiness turns 503 and connections are not kept alive.
    pub draining: Arc<std::sync::atomic::AtomicBool>,
    /// Per-tenant request limits, when configured.
    pub rate_limiter: Option<Arc<RateLimiter>>,
    /// Settings.
    pub settings: ApiSettings,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").field("settings", &self.settings).finish_non_exhaustive()
    }
}
