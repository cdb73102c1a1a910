//! GUID identifiers: any case accepted, lower case shown.

use std::fmt;
use std::str::FromStr;

use uuid::Uuid;

/// A string that is not a GUID of the form `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("The value '{0}' is not valid.")]
pub struct IdError(String);

impl IdError {
    /// The value as it was given.
    #[must_use]
    pub fn value(&self) -> &str {
        &self.0
    }
}

pub(crate) fn parse_guid(value: &str) -> Result<Uuid, IdError> {
    // Only the hyphenated 36-character form is a GUID here; `Uuid::parse_str` would also take braces, URNs and
    // the simple 32-digit form.
    if value.len() != 36 {
        return Err(IdError(value.to_owned()));
    }
    Uuid::try_parse(value).map_err(|_| IdError(value.to_owned()))
}

macro_rules! guid_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(transparent))]
        pub struct $name(Uuid);

        impl $name {
            /// Parses a hyphenated GUID, in any case.
            ///
            /// # Errors
            /// [`IdError`] when `value` is not a hyphenated GUID.
            pub fn parse(value: &str) -> Result<Self, IdError> {
                parse_guid(value).map(Self)
            }

            /// Wraps a UUID (for instance a fresh UUIDv7).
            #[must_use]
            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            /// The UUID inside.
            #[must_use]
            pub const fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0.hyphenated(), f)
            }
        }

        impl From<Uuid> for $name {
            fn from(uuid: Uuid) -> Self {
                Self(uuid)
            }
        }
    };
}

guid_id!(
    /// The tenant id of a reseller: the account that calls the API and owns customers.
    ResellerId
);
guid_id!(
    /// The tenant id of a customer (`CUSTOMER_TENANT_ID` in the API, `tenantId` on a profile).
    CustomerId
);
guid_id!(
    /// The id of a PBX connection profile (`PBX_ID`).
    PbxId
);
guid_id!(
    /// The id of a webhook (the `triggerID` of its deliveries).
    WebhookId
);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parse_accepts_any_case_and_displays_lower_case() {
        let id = CustomerId::parse("5B2A2D4C-6F3E-4C8B-9D7A-1E2F3A4B5C6D").unwrap();
        assert_eq!(id.to_string(), "5b2a2d4c-6f3e-4c8b-9d7a-1e2f3a4b5c6d");
    }

    #[test]
    fn parse_rejects_what_is_not_a_hyphenated_guid_with_the_seed_message() {
        for bad in [
            "",
            "not-a-guid",
            "5b2a2d4c6f3e4c8b9d7a1e2f3a4b5c6d",
            "{5b2a2d4c-6f3e-4c8b-9d7a-1e2f3a4b5c6d}",
            "5b2a2d4c-6f3e-4c8b-9d7a-1e2f3a4b5c6g",
            "urn:uuid:5b2a2d4c-6f3e-4c8b-9d7a-1e2f3a4b5c6d",
        ] {
            let err = PbxId::parse(bad).unwrap_err();
            assert_eq!(err.to_string(), format!("The value '{bad}' is not valid."), "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn display_then_parse_round_trips(bytes in any::<[u8; 16]>()) {
            let id = ResellerId::from_uuid(Uuid::from_bytes(bytes));
            prop_assert_eq!(ResellerId::parse(&id.to_string()).unwrap(), id);
            prop_assert_eq!(ResellerId::parse(&id.to_string().to_uppercase()).unwrap(), id);
        }

        #[test]
        fn parse_never_panics(s in ".*") {
            let _ = CustomerId::parse(&s);
        }
    }
}
