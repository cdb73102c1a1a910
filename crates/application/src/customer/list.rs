//! List customers: a page of the caller's customers, optionally filtered.

use std::sync::Arc;

use pbx_domain::{Customer, ResellerId};

use crate::ports::{CustomerRepository, Page, RepositoryError};
use crate::use_case::opaque_debug;

/// The list-customers use case.
#[derive(Clone)]
pub struct ListCustomers {
    customers: Arc<dyn CustomerRepository>,
}
opaque_debug!(ListCustomers);

impl ListCustomers {
    /// The use case over its port.
    #[must_use]
    pub fn new(customers: Arc<dyn CustomerRepository>) -> Self {
        Self { customers }
    }

    /// A page of the caller's customers, oldest first; with a `filter`, only those whose name or reference
    /// contains it, in any case.
    ///
    /// # Errors
    /// Storage failures only.
    pub async fn execute(
        &self,
        reseller: ResellerId,
        filter: Option<String>,
        page: Page,
    ) -> Result<Vec<Customer>, RepositoryError> {
        let filter = crate::use_case::search_text(filter);
        self.customers.list(reseller, filter, page).await
    }
}
