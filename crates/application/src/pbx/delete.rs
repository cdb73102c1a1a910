//! Delete PBX: detach a profile; its PBX instance can then be attached again.

use std::sync::Arc;

use pbx_domain::{CustomerId, PbxId, ResellerId};

use crate::events::Recorder;
use crate::ports::{PbxRepository, RepositoryError, WriteError};
use crate::use_case::opaque_debug;

/// Why the profile was not deleted.
#[derive(Debug, thiserror::Error)]
pub enum DeletePbxError {
    /// No such customer for the caller, or no such profile for the customer.
    #[error("not found")]
    NotFound,
    /// The profile changed since the version the caller gave.
    #[error("the profile has changed")]
    PreconditionFailed,
    /// The store failed: unavailable (a 503 to come back from), or unexpectedly.
    #[error(transparent)]
    Storage(#[from] RepositoryError),
}

/// The delete-PBX use case.
#[derive(Clone)]
pub struct DeletePbx {
    profiles: Arc<dyn PbxRepository>,
    recorder: Recorder,
}
opaque_debug!(DeletePbx);

impl DeletePbx {
    /// The use case over its ports.
    #[must_use]
    pub fn new(profiles: Arc<dyn PbxRepository>, recorder: Recorder) -> Self {
        Self { profiles, recorder }
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
        actor: &pbx_domain::events::Actor,
    ) -> Result<(), DeletePbxError> {
        let event = self.recorder.pbx_deleted(actor, reseller, customer_id, pbx_id);
        match self.profiles.delete(reseller, customer_id, pbx_id, if_match, &event).await {
            Ok(()) => {
                tracing::info!("PBX profile deleted");
                Ok(())
            }
            Err(WriteError::NotFound) => Err(DeletePbxError::NotFound),
            Err(WriteError::VersionMismatch) => Err(DeletePbxError::PreconditionFailed),
            Err(WriteError::Repository(e)) => Err(e.into()),
            Err(other) => Err(DeletePbxError::Storage(RepositoryError::Unexpected(other.into()))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::MockPbxRepository;
    use uuid::Uuid;

    async fn run(outcome: Result<(), WriteError>) -> Result<(), DeletePbxError> {
        let mut profiles = MockPbxRepository::new();
        let outcome = std::sync::Mutex::new(Some(outcome));
        let ids = (ResellerId::from_uuid(Uuid::from_u128(1)), CustomerId::from_uuid(Uuid::from_u128(2)));
        profiles
            .expect_delete()
            .withf(move |reseller, customer, id, version, event| {
                (*reseller, *customer) == ids && *version == Some(2) && event.pbx_id == Some(*id)
            })
            .times(1)
            .returning(move |_, _, _, _, _| outcome.lock().unwrap().take().unwrap());
        DeletePbx::new(Arc::new(profiles), crate::events::test_recorder())
            .execute(ids.0, ids.1, PbxId::from_uuid(Uuid::from_u128(3)), Some(2), &crate::events::test_actor())
            .await
    }

    #[tokio::test]
    async fn every_outcome() {
        assert!(run(Ok(())).await.is_ok());
        assert!(matches!(run(Err(WriteError::NotFound)).await, Err(DeletePbxError::NotFound)));
        assert!(matches!(run(Err(WriteError::VersionMismatch)).await, Err(DeletePbxError::PreconditionFailed)));
        let down = WriteError::Repository(crate::ports::RepositoryError::Unavailable(anyhow::anyhow!("down")));
        assert!(matches!(run(Err(down)).await, Err(DeletePbxError::Storage(RepositoryError::Unavailable(_)))));
    }
}
