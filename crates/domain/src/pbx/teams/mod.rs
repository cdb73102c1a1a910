//! Microsoft Teams: a customer's Microsoft (Entra) tenant, whose calls the platform reads through Microsoft's APIs.
//! The tenant id is the PBX instance; there is no secret (access is granted in the tenant, not by a key).

#[cfg(feature = "serde")]
pub mod check;

use std::fmt;

use super::Credentials;

/// A string that is not a GUID of the form `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be a GUID such as 72f988bf-86f1-41af-91ab-2d7cd011db47")]
pub struct NotAGuid;

/// A Microsoft (Entra) tenant id: a GUID, any case in, lower case kept. It identifies the PBX instance.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MicrosoftTenantId(String);

impl MicrosoftTenantId {
    /// Parses a hyphenated GUID in any case.
    ///
    /// # Errors
    /// [`NotAGuid`] for anything else.
    pub fn parse(value: &str) -> Result<Self, NotAGuid> {
        crate::ids::parse_guid(value).map(|guid| Self(guid.hyphenated().to_string())).map_err(|_| NotAGuid)
    }

    /// The GUID, lower case.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for MicrosoftTenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How to reach a customer's Teams calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamsConnection {
    /// The customer's Microsoft tenant, unique across the system.
    pub microsoft_tenant_id: MicrosoftTenantId,
}

impl TeamsConnection {
    /// The PBX instance: the Microsoft tenant id.
    #[must_use]
    pub fn instance(&self) -> &str {
        self.microsoft_tenant_id.as_str()
    }

    /// What a collector needs: nothing (access is granted in the tenant).
    #[must_use]
    pub fn credentials(&self) -> Credentials {
        Credentials::default()
    }

    /// An example connection.
    ///
    /// # Panics
    /// Never: its value is valid.
    #[must_use]
    #[allow(clippy::expect_used)] // a constant value, tested
    pub fn example() -> Self {
        Self { microsoft_tenant_id: MicrosoftTenantId::parse("72f988bf-86f1-41af-91ab-2d7cd011db47").expect("a GUID") }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{PbxConnection, PbxType};

    #[test]
    fn the_tenant_id_is_the_instance_id_in_lower_case() {
        let tenant = MicrosoftTenantId::parse("72F988BF-86F1-41AF-91AB-2D7CD011DB47").unwrap();
        let connection: PbxConnection = PbxConnection::from(TeamsConnection { microsoft_tenant_id: tenant });
        assert_eq!(connection.instance_id().pbx_type(), PbxType::Teams);
        assert_eq!(connection.instance_id().value(), "72f988bf-86f1-41af-91ab-2d7cd011db47");
    }

    #[test]
    fn only_hyphenated_guids_are_tenant_ids() {
        for bad in ["", "72f988bf86f141af91ab2d7cd011db47", "{72f988bf-86f1-41af-91ab-2d7cd011db47}", "tenant"] {
            assert_eq!(MicrosoftTenantId::parse(bad), Err(NotAGuid), "{bad:?}");
        }
    }
}
