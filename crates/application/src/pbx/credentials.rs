//! Credentials for collectors: the secrets a collector needs to connect to a PBX, each read recorded.

use std::sync::Arc;

use pbx_domain::events::{Actor, Credentials};
use pbx_domain::{CustomerId, PbxId};

use crate::events::{EventLog, Recorder};
use crate::ports::{CustomerRepository, PbxRepository, RepositoryError};
use crate::use_case::opaque_debug;

/// Why no credentials.
#[derive(Debug, thiserror::Error)]
pub enum ReadCredentialsError {
    /// No such profile.
    #[error("not found")]
    NotFound,
    /// The store failed.
    #[error(transparent)]
    Storage(#[from] RepositoryError),
}

/// The read-credentials use case (any tenant's profile: the caller is a collector of the platform).
#[derive(Clone)]
pub struct ReadCredentials {
    customers: Arc<dyn CustomerRepository>,
    profiles: Arc<dyn PbxRepository>,
    log: Arc<dyn EventLog>,
    recorder: Recorder,
}
opaque_debug!(ReadCredentials);

impl ReadCredentials {
    /// The use case over its ports.
    #[must_use]
    pub fn new(
        customers: Arc<dyn CustomerRepository>,
        profiles: Arc<dyn PbxRepository>,
        log: Arc<dyn EventLog>,
        recorder: Recorder,
    ) -> Self {
        Self { customers, profiles, log, recorder }
    }

    /// The credentials of profile `pbx_id` of customer `customer_id`, once the read is recorded as
    /// `pbx.credentials_read` (no read goes unrecorded: if recording fails, nothing is shown).
    ///
    /// # Errors
    /// See [`ReadCredentialsError`].
    #[tracing::instrument(name = "read_credentials", skip(self, actor))]
    pub async fn execute(
        &self,
        customer_id: CustomerId,
        pbx_id: PbxId,
        actor: &Actor,
    ) -> Result<Credentials, ReadCredentialsError> {
        let reseller = self.customers.reseller_of(customer_id).await?.ok_or(ReadCredentialsError::NotFound)?;
        let profile = self.profiles.find(customer_id, pbx_id).await?.ok_or(ReadCredentialsError::NotFound)?;
        self.log.append(&[self.recorder.credentials_read(actor, reseller, customer_id, pbx_id)]).await?;
        tracing::info!("PBX credentials read");
        Ok(profile.value.connection.credentials())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{MockEventLog, test_actor, test_recorder};
    use crate::ports::{MockCustomerRepository, MockPbxRepository};
    use pbx_domain::ResellerId;
    use uuid::Uuid;

    #[tokio::test]
    async fn a_missing_profile_records_nothing() {
        let mut customers = MockCustomerRepository::new();
        customers.expect_reseller_of().returning(|_| Ok(Some(ResellerId::from_uuid(Uuid::from_u128(1)))));
        let mut profiles = MockPbxRepository::new();
        profiles.expect_find().returning(|_, _| Ok(None));
        let mut log = MockEventLog::new();
        log.expect_append().never();
        let read = ReadCredentials::new(Arc::new(customers), Arc::new(profiles), Arc::new(log), test_recorder());
        let id = (CustomerId::from_uuid(Uuid::from_u128(2)), PbxId::from_uuid(Uuid::from_u128(3)));
        assert!(matches!(read.execute(id.0, id.1, &test_actor()).await, Err(ReadCredentialsError::NotFound)));
    }
}
