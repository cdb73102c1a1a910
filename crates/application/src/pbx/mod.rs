//! PBX connection profiles: the use cases, in domain values (the wire format is the front end's).

mod create;
mod credentials;
mod delete;
mod patch;
mod read;

use pbx_domain::{CountryCode, PbxConnection, ProfileName};

pub use create::{CreatePbx, CreatePbxCommand, CreatePbxError};
pub use credentials::{ReadCredentials, ReadCredentialsError};
pub use delete::{DeletePbx, DeletePbxError};
pub use patch::{Editable, PatchPbx, PatchPbxError, Patched, ProfileChange};
pub use read::{InstanceLookup, ReadPbxError, ReadPbxs};

/// A profile a client describes: every field valid; the customer's country stands in for a missing one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewProfile {
    /// The profile's name.
    pub name: ProfileName,
    /// The country, when one was given.
    pub country_code: Option<CountryCode>,
    /// How to reach the PBX.
    pub connection: PbxConnection,
}
