//! Microsoft Teams: a customer's Microsoft (Entra) tenant, whose calls the platform reads through Microsoft's APIs.
//! The tenant id is the PBX instance; there is no secret (access is granted in the tenant, not by a key).

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
    /// The fields (the API's names) whose values differ in `after`.
    #[must_use]
    pub fn differences(&self, after: &Self) -> Vec<&'static str> {
        super::differing([("microsoftTenantId", self.microsoft_tenant_id != after.microsoft_tenant_id)])
    }

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

#[cfg(feature = "serde")]
pub mod check {
    //! How the service checks a Teams profile (CONTRACT §15): the tenant's OpenID configuration at the Entra authority
    //! → [`ConditionType::TenantExists`]; with the platform's application configured, a client-credentials token for
    //! Microsoft Graph → [`ConditionType::Consented`] (consent given, and the token's `roles` hold
    //! `CallRecords.Read.All`). The transport is the adapter's; the addresses and the reading of answers are here.

    use base64::Engine;
    use serde_json::Value;

    use super::TeamsConnection;
    use crate::connection::{ConditionType, Failure, Reason};

    /// The conditions of a Teams check, in order (`Consented` only with the platform's application configured).
    pub const CONDITIONS: [ConditionType; 2] = [ConditionType::TenantExists, ConditionType::Consented];

    /// The Entra authority of the public cloud.
    pub const AUTHORITY: &str = "https://login.microsoftonline.com";

    /// The scope a token is asked for.
    pub const SCOPE: &str = "https://graph.microsoft.com/.default";

    /// The application permission the platform needs.
    pub const ROLE: &str = "CallRecords.Read.All";

    /// Entra's error codes that mean the tenant has not consented (or does not know the application).
    const CONSENT_MISSING: [u64; 3] = [7_000_229, 700_016, 65_001];

    /// Entra's error code for a tenant that does not exist.
    const NO_TENANT: u64 = 90_002;

    impl TeamsConnection {
        fn at(&self, authority: &str, path: &str) -> String {
            format!("{}/{}/{path}", authority.trim_end_matches('/'), self.microsoft_tenant_id)
        }

        /// The tenant's OpenID configuration at `authority`.
        #[must_use]
        pub fn openid_configuration_url(&self, authority: &str) -> String {
            self.at(authority, "v2.0/.well-known/openid-configuration")
        }

        /// The tenant's token endpoint at `authority`.
        #[must_use]
        pub fn token_url(&self, authority: &str) -> String {
            self.at(authority, "oauth2/v2.0/token")
        }

        /// Where the tenant's administrator consents to the application `client_id`.
        #[must_use]
        pub fn consent_url(&self, authority: &str, client_id: &str) -> String {
            let client: String = url::form_urlencoded::byte_serialize(client_id.as_bytes()).collect();
            self.at(authority, &format!("v2.0/adminconsent?client_id={client}&scope={SCOPE}"))
        }
    }

    fn error_codes(body: &Value) -> Vec<u64> {
        body.get("error_codes")
            .and_then(Value::as_array)
            .map(|c| c.iter().filter_map(Value::as_u64).collect())
            .unwrap_or_default()
    }

    /// Reads the OpenID configuration's answer.
    ///
    /// # Errors
    /// `invalid_tenant` (AADSTS90002) → `TenantNotFound`; 429 → `RateLimited`; anything else but a 200 with an
    /// `issuer` → `UnexpectedResponse`.
    pub fn read_openid_configuration(status: u16, body: &Value) -> Result<(), Failure> {
        match status {
            200 if body.get("issuer").is_some_and(Value::is_string) => Ok(()),
            400 | 404
                if body.get("error").and_then(Value::as_str) == Some("invalid_tenant")
                    || error_codes(body).contains(&NO_TENANT) =>
            {
                Err(Failure::answered(Reason::TenantNotFound, status))
            }
            429 => Err(Failure::answered(Reason::RateLimited, status)),
            _ => Err(Failure::answered(Reason::UnexpectedResponse, status)),
        }
    }

    /// Reads the token endpoint's answer.
    ///
    /// # Errors
    /// AADSTS7000229, 700016 or 65001 → `ConsentMissing`; a token whose `roles` lack [`ROLE`] → `PermissionMissing`;
    /// 429 → `RateLimited`; anything else → `UnexpectedResponse`.
    pub fn read_token(status: u16, body: &Value) -> Result<(), Failure> {
        match status {
            200 => {
                let token = body.get("access_token").and_then(Value::as_str).unwrap_or_default();
                let roles = roles(token).ok_or(Failure::answered(Reason::UnexpectedResponse, status))?;
                if roles.iter().any(|r| r == ROLE) { Ok(()) } else { Err(Failure::new(Reason::PermissionMissing)) }
            }
            400 | 401 if error_codes(body).iter().any(|c| CONSENT_MISSING.contains(c)) => {
                Err(Failure::answered(Reason::ConsentMissing, status))
            }
            400 | 404 if error_codes(body).contains(&NO_TENANT) => {
                Err(Failure::answered(Reason::TenantNotFound, status))
            }
            429 => Err(Failure::answered(Reason::RateLimited, status)),
            _ => Err(Failure::answered(Reason::UnexpectedResponse, status)),
        }
    }

    /// The `roles` of a JWT's payload (not verified: the token came straight from the authority over TLS, and is
    /// only read to tell the reseller what is missing).
    fn roles(token: &str) -> Option<Vec<String>> {
        let payload = token.split('.').nth(1)?;
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
        let claims: Value = serde_json::from_slice(&bytes).ok()?;
        Some(
            claims
                .get("roles")
                .and_then(Value::as_array)
                .map(|r| r.iter().filter_map(Value::as_str).map(str::to_owned).collect())
                .unwrap_or_default(),
        )
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use serde_json::json;

        fn token(roles: &[&str]) -> String {
            let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json!({"roles": roles}).to_string());
            format!("e30.{payload}.sig")
        }

        #[test]
        fn the_authority_addresses() {
            let teams = TeamsConnection::example();
            assert_eq!(
                teams.openid_configuration_url("https://login.microsoftonline.com/"),
                "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0/.well-known/openid-configuration"
            );
            assert_eq!(
                teams.consent_url(AUTHORITY, "app"),
                "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0/adminconsent?client_id=app&scope=https://graph.microsoft.com/.default"
            );
        }

        #[test]
        fn answers_map_to_reasons() {
            assert_eq!(read_openid_configuration(200, &json!({"issuer": "x"})), Ok(()));
            let invalid = json!({"error": "invalid_tenant", "error_codes": [90002]});
            assert_eq!(read_openid_configuration(400, &invalid).unwrap_err().reason, Reason::TenantNotFound);
            assert_eq!(read_openid_configuration(200, &json!({})).unwrap_err().reason, Reason::UnexpectedResponse);
            assert_eq!(read_token(200, &json!({"access_token": token(&[ROLE])})), Ok(()));
            assert_eq!(
                read_token(200, &json!({"access_token": token(&["User.Read.All"])})).unwrap_err().reason,
                Reason::PermissionMissing
            );
            assert_eq!(
                read_token(200, &json!({"access_token": "garbage"})).unwrap_err().reason,
                Reason::UnexpectedResponse
            );
            for code in CONSENT_MISSING {
                let body = json!({"error": "invalid_client", "error_codes": [code]});
                assert_eq!(read_token(400, &body).unwrap_err().reason, Reason::ConsentMissing);
            }
            assert_eq!(
                read_token(401, &json!({"error_codes": [7_000_215]})).unwrap_err().reason,
                Reason::UnexpectedResponse
            );
            assert_eq!(read_token(429, &json!({})).unwrap_err().reason, Reason::RateLimited);
        }
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
