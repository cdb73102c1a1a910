//! What a collector needs to connect to a PBX: the secrets each type gives (`PbxConnection::credentials`).

use std::fmt;

/// What a collector needs to connect: the profile's secrets, as `GET …/pbxs/{id}/credentials` answers them; each
/// type fills its own.
#[derive(Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "camelCase"))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Credentials {
    /// Kazoo's API key.
    #[cfg_attr(feature = "serde", serde(default, skip_serializing_if = "Option::is_none"))]
    #[cfg_attr(feature = "openapi", schema(nullable = false, format = Password))]
    pub api_key: Option<String>,
    /// 3CX's licence key.
    #[cfg_attr(feature = "serde", serde(default, skip_serializing_if = "Option::is_none"))]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub license_key: Option<String>,
    /// 3CX's user name.
    #[cfg_attr(feature = "serde", serde(default, skip_serializing_if = "Option::is_none"))]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub username: Option<String>,
    /// 3CX's password.
    #[cfg_attr(feature = "serde", serde(default, skip_serializing_if = "Option::is_none"))]
    #[cfg_attr(feature = "openapi", schema(nullable = false, format = Password))]
    pub password: Option<String>,
}

impl fmt::Debug for Credentials {
    /// Which credentials are present, never their values.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = |v: &Option<String>| v.as_ref().map(|_| "[REDACTED]");
        f.debug_struct("Credentials")
            .field("api_key", &shown(&self.api_key))
            .field("license_key", &shown(&self.license_key))
            .field("username", &shown(&self.username))
            .field("password", &shown(&self.password))
            .finish()
    }
}
