//! Patch PBX: change a profile with a JSON Patch; the result must pass every rule of a create.

use std::sync::Arc;

use pbx_domain::{CustomerId, PbxId, PbxProfile, ResellerId};

use super::fields;
use crate::input::{FieldProblem, Problems};
use crate::patch::{PatchError, PatchOp, apply};
use crate::ports::{CustomerRepository, PbxRepository, Versioned, WriteError};
use crate::use_case::{opaque_debug, storage_errors};

/// What a reseller asks for.
#[derive(Debug, Clone)]
pub struct PatchPbxCommand {
    /// The caller.
    pub reseller: ResellerId,
    /// The profile's customer.
    pub customer_id: CustomerId,
    /// The profile.
    pub pbx_id: PbxId,
    /// The patch document.
    pub operations: Vec<PatchOp>,
    /// Whether the caller accepted the charge of enabling the profile.
    pub accept_charges: bool,
    /// The version the caller last saw (`If-Match`), when given.
    pub if_match: Option<u64>,
}

/// Why the profile was not changed, in the order a client should hear about them.
#[derive(Debug, thiserror::Error)]
pub enum PatchPbxError {
    /// No such customer for the caller, or no such profile for the customer.
    #[error("not found")]
    NotFound,
    /// The profile changed since the version the caller gave.
    #[error("the profile has changed")]
    PreconditionFailed,
    /// The patch or the patched profile has problems; every one is listed.
    #[error("the patch is invalid")]
    Invalid(Vec<FieldProblem>),
    /// A `test` operation failed at this path.
    #[error("a test operation failed")]
    TestFailed(String),
    /// The new PBX instance is attached to a customer already.
    #[error("the PBX instance is already attached to a customer")]
    InstanceAttached,
    /// Enabling the profile is chargeable and the charge was not accepted.
    #[error("enabling a PBX profile is chargeable and the charge was not accepted")]
    ChargesNotAccepted,
    /// The database is unavailable.
    #[error("the database is unavailable")]
    Unavailable(#[source] anyhow::Error),
    /// Anything else.
    #[error(transparent)]
    Unexpected(anyhow::Error),
}
storage_errors!(PatchPbxError);

impl From<WriteError> for PatchPbxError {
    fn from(error: WriteError) -> Self {
        match error {
            WriteError::NotFound => Self::NotFound,
            WriteError::VersionMismatch => Self::PreconditionFailed,
            WriteError::InstanceAttached => Self::InstanceAttached,
            WriteError::InUse => Self::Unexpected(anyhow::anyhow!("a profile cannot be in use")),
            WriteError::Repository(e) => e.into(),
        }
    }
}

/// The patch-PBX use case.
#[derive(Clone)]
pub struct PatchPbx {
    customers: Arc<dyn CustomerRepository>,
    profiles: Arc<dyn PbxRepository>,
}
opaque_debug!(PatchPbx);

impl PatchPbx {
    /// The use case over its ports.
    #[must_use]
    pub fn new(customers: Arc<dyn CustomerRepository>, profiles: Arc<dyn PbxRepository>) -> Self {
        Self { customers, profiles }
    }

    /// Applies the patch and returns the profile as stored.
    ///
    /// # Errors
    /// See [`PatchPbxError`]; the first that applies, in its order.
    #[tracing::instrument(name = "patch_pbx", skip(self, command), fields(pbx_id = %command.pbx_id))]
    pub async fn execute(&self, command: PatchPbxCommand) -> Result<Versioned<PbxProfile>, PatchPbxError> {
        let customer =
            self.customers.find(command.reseller, command.customer_id).await?.ok_or(PatchPbxError::NotFound)?.value;
        let current = self.profiles.find(command.customer_id, command.pbx_id).await?.ok_or(PatchPbxError::NotFound)?;
        if command.if_match.is_some_and(|v| v != current.version) {
            return Err(PatchPbxError::PreconditionFailed);
        }
        let pbx_type = current.value.pbx_type();
        let mut values = fields::of(&current.value);
        apply(&mut values, command.operations, &fields::rules(pbx_type)).map_err(|e| match e {
            PatchError::Invalid(problems) => PatchPbxError::Invalid(problems),
            PatchError::TestFailed(path) => PatchPbxError::TestFailed(path),
        })?;
        let (draft, enabled) = fields::draft(pbx_type, values);
        let mut problems = Problems::from_vec(draft.problems());
        let enabled = problems.take(enabled);
        if !problems.is_empty() {
            return Err(PatchPbxError::Invalid(problems.into_vec()));
        }
        let valid = draft.parse().map_err(PatchPbxError::Invalid)?;
        let patched = PbxProfile {
            id: current.value.id,
            customer_id: current.value.customer_id,
            name: valid.name,
            country_code: valid.country_code.unwrap_or(customer.details.country_code),
            enabled: enabled.unwrap_or(current.value.enabled),
            connection: valid.connection,
        };
        let turned_on = patched.enabled && !current.value.enabled;
        if turned_on && !command.accept_charges {
            let (before, after) = (current.value.instance_id(), patched.instance_id());
            if before != after && self.profiles.instance_attached(after.pbx_type(), after.value()).await? {
                return Err(PatchPbxError::InstanceAttached);
            }
            return Err(PatchPbxError::ChargesNotAccepted);
        }
        let version = self.profiles.update(&patched, current.version).await?;
        tracing::info!(version, "PBX profile changed");
        Ok(Versioned { value: patched, version })
    }
}
