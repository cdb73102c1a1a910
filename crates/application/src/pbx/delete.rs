//! Delete PBX: detach a profile; its PBX instance can then be attached again.

use std::sync::Arc;

use pbx_domain::{CustomerId, PbxId, ResellerId};

use crate::ports::{CustomerRepository, PbxRepository, WriteError};
use crate::use_case::{opaque_debug, storage_errors};

/// Why the profile was not deleted.
#[derive(Debug, thiserror::Error)]
pub enum DeletePbxError {
    /// No such customer for the caller, or no such profile for the customer.
    #[error("not found")]
    NotFound,
    /// The profile changed since the version the caller gave.
    #[error("the profile has changed")]
    PreconditionFailed,
    /// The database is unavailable.
    #[error("the database is unavailable")]
    Unavailable(#[source] anyhow::Error),
    /// Anything else.
    #[error(transparent)]
    Unexpected(anyhow::Error),
}
storage_errors!(DeletePbxError);

/// The delete-PBX use case.
#[derive(Clone)]
pub struct DeletePbx {
    customers: Arc<dyn CustomerRepository>,
    profiles: Arc<dyn PbxRepository>,
}
opaque_debug!(DeletePbx);

impl DeletePbx {
    /// The use case over its ports.
    #[must_use]
    pub fn new(customers: Arc<dyn CustomerRepository>, profiles: Arc<dyn PbxRepository>) -> Self {
        Self { customers, profiles }
    }

    /// Deletes the profile, if its version is `if_match` (when given).
    ///
    /// # Errors
    /// See [`DeletePbxError`].
    #[tracing::instrument(name = "delete_pbx", skip(self))]
    pub async fn execute(
        &self,
        reseller: ResellerId,
        customer_id: CustomerId,
        pbx_id: PbxId,
        if_match: Option<u64>,
    ) -> Result<(), DeletePbxError> {
        self.customers.find(reseller, customer_id).await?.ok_or(DeletePbxError::NotFound)?;
        match self.profiles.delete(customer_id, pbx_id, if_match).await {
            Ok(()) => {
                tracing::info!("PBX profile deleted");
                Ok(())
            }
            Err(WriteError::NotFound) => Err(DeletePbxError::NotFound),
            Err(WriteError::VersionMismatch) => Err(DeletePbxError::PreconditionFailed),
            Err(WriteError::Repository(e)) => Err(e.into()),
            Err(other) => Err(DeletePbxError::Unexpected(other.into())),
        }
    }
}
