//! PBX connection profiles: the use cases, in domain values (the wire format is the front end's).

mod create;
mod credentials;
mod delete;
mod patch;
mod read;

use pbx_domain::{CountryCode, PbxConnection, ProfileName, Secret};

pub use create::{CreatePbx, CreatePbxCommand, CreatePbxError};
pub use credentials::{ReadCredentials, ReadCredentialsError};
pub use delete::{DeletePbx, DeletePbxError};
pub use patch::{Editable, PatchPbx, PatchPbxError, Patched, ProfileChange};
pub use read::{InstanceLookup, ReadPbxError, ReadPbxs};

/// A profile a client describes: every field valid; the customer's country stands in for a missing one. A new
/// profile's credential is a [`Secret`]; a changed one's a [`pbx_domain::SecretEdit`] (the stored one kept, or a new
/// one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewProfile<S = Secret> {
    /// The profile's name.
    pub name: ProfileName,
    /// The country, when one was given.
    pub country_code: Option<CountryCode>,
    /// How to reach the PBX.
    pub connection: PbxConnection<S>,
}
