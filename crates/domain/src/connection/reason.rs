//! Why a check found what it found: a stable name and a fixed sentence, never the remote system's own words.

use serde::{Deserialize, Serialize};

/// The reasons a check (or the summary) gives, as CamelCase names (CONTRACT §15).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, strum::VariantArray, strum::IntoStaticStr,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = ConnectionReason))]
pub enum Reason {
    /// The host name does not resolve.
    DnsFailure,
    /// No connection within the connect timeout.
    ConnectTimeout,
    /// The host refused the connection.
    ConnectionRefused,
    /// The TLS handshake failed (certificate, protocol).
    TlsError,
    /// Connected, but no answer in time.
    Timeout,
    /// An answer the check cannot use (status, shape, size, a redirect).
    UnexpectedResponse,
    /// The address is one the service may not reach (the same for every refused address).
    BlockedDestination,
    /// A secret would go over plain `http`/`ws`.
    InsecureTransport,
    /// The PBX refused the credentials.
    InvalidCredentials,
    /// The key belongs to another account, which cannot read this one.
    AccountMismatch,
    /// The account does not exist.
    AccountNotFound,
    /// The account is disabled.
    AccountDisabled,
    /// The PBX asked to slow down.
    RateLimited,
    /// The Microsoft tenant does not exist.
    TenantNotFound,
    /// The tenant's administrator has not consented to the platform's application.
    ConsentMissing,
    /// The application lacks a permission it needs (`CallRecords.Read.All`).
    PermissionMissing,
    /// The service cannot check this type of PBX itself; collectors report on it.
    NotCheckable,
    /// The collector's last report is too old.
    CollectorStale,
}

impl Reason {
    /// The reason's name (`DnsFailure`).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// The fixed sentence shown for the reason.
    #[must_use]
    pub const fn sentence(self) -> &'static str {
        match self {
            Self::DnsFailure => "The host name does not resolve.",
            Self::ConnectTimeout => "The host did not accept a connection in time.",
            Self::ConnectionRefused => "The host refused the connection.",
            Self::TlsError => "The secure connection could not be established (certificate or protocol).",
            Self::Timeout => "The PBX did not answer in time.",
            Self::UnexpectedResponse => "The PBX gave an answer the check cannot use.",
            Self::BlockedDestination => "The address is not one the service may connect to.",
            Self::InsecureTransport => "The secret would be sent over an unencrypted connection (http or ws).",
            Self::InvalidCredentials => "The PBX refused the credentials.",
            Self::AccountMismatch => "The API key belongs to another account, which cannot read this one.",
            Self::AccountNotFound => "The account does not exist on this PBX.",
            Self::AccountDisabled => "The account is disabled.",
            Self::RateLimited => "The PBX asked to slow down; the check will be tried again later.",
            Self::TenantNotFound => "The Microsoft tenant does not exist.",
            Self::ConsentMissing => "The tenant's administrator has not consented to the platform's application.",
            Self::PermissionMissing => "The platform's application lacks the CallRecords.Read.All permission.",
            Self::NotCheckable => "The service cannot check this type of PBX; collectors report its state.",
            Self::CollectorStale => "The collector has not reported recently.",
        }
    }
}

/// A condition found false: its reason, and the remote status code when an answer gave it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failure {
    /// Why.
    pub reason: Reason,
    /// The remote answer's status code (HTTP), if one was answered.
    pub status: Option<u16>,
}

impl Failure {
    /// A failure with no remote status.
    #[must_use]
    pub const fn new(reason: Reason) -> Self {
        Self { reason, status: None }
    }

    /// A failure for an answer of `status`.
    #[must_use]
    pub const fn answered(reason: Reason, status: u16) -> Self {
        Self { reason, status: Some(status) }
    }

    /// The fixed sentence of the reason, with the status code when there is one.
    #[must_use]
    pub fn message(&self) -> String {
        match self.status {
            Some(status) => format!("{} (HTTP {status})", self.reason.sentence()),
            None => self.reason.sentence().to_owned(),
        }
    }
}

impl From<Reason> for Failure {
    fn from(reason: Reason) -> Self {
        Self::new(reason)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use strum::VariantArray;

    #[test]
    fn every_reason_serialises_as_its_name_and_has_a_sentence() {
        for &reason in Reason::VARIANTS {
            assert_eq!(serde_json::to_value(reason).unwrap(), serde_json::Value::from(reason.as_str()));
            assert!(reason.sentence().ends_with('.'), "{reason:?}");
        }
        assert_eq!(
            Failure::answered(Reason::InvalidCredentials, 401).message(),
            "The PBX refused the credentials. (HTTP 401)"
        );
    }
}
