//! What every handler can reach: the use cases, the authenticator and the API's settings.

use std::sync::Arc;

use pbx_application::Readiness;
use pbx_application::customer::{CreateCustomer, DeleteCustomer, GetCustomer, ListCustomers, PatchCustomer};
use pbx_application::pbx::{CreatePbx, DeletePbx, PatchPbx, ReadPbxs};

use crate::Authenticator;

/// Settings of the HTTP front end.
#[derive(Debug, Clone)]
pub struct ApiSettings {
    /// The public base URL (`https://api.example.com`) used in `Location`; taken from the request when unset.
    pub public_url: Option<String>,
    /// The largest request body accepted, in bytes.
    pub body_limit: usize,
}

impl Default for ApiSettings {
    fn default() -> Self {
        Self { public_url: None, body_limit: 64 * 1024 }
    }
}

/// The handlers' shared state.
#[derive(Clone)]
pub struct AppState {
    /// Checks bearer tokens.
    pub authenticator: Authenticator,
    /// Create PBX.
    pub create_pbx: CreatePbx,
    /// Create customer.
    pub create_customer: CreateCustomer,
    /// Get, list and look up profiles.
    pub read_pbxs: ReadPbxs,
    /// Patch PBX.
    pub patch_pbx: PatchPbx,
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
    /// Whether the database is reachable and migrated.
    pub readiness: Arc<dyn Readiness>,
    /// Settings.
    pub settings: ApiSettings,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").field("settings", &self.settings).finish_non_exhaustive()
    }
}
