//! The ports of the connection checks: the requests ([`Prober`]) and where status is kept ([`ConnectionStore`]).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use pbx_domain::connection::{Checked, CollectorReport, Findings, Status};
use pbx_domain::{CustomerId, PbxConnection, PbxId, ResellerId};

use crate::NewEvent;
use crate::ports::RepositoryError;

/// Makes a check's requests.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait Prober: Send + Sync {
    /// Checks `connection`, condition by condition in its type's order, stopping at the first that fails; within
    /// [`super::CHECK_TIMEOUT`].
    async fn probe(&self, connection: &PbxConnection) -> Findings;
}

/// A profile's kept status, and the revision a write of it must find.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Kept {
    /// The status.
    pub status: Status,
    /// Bumped by every write (0 before the first).
    pub revision: u64,
    /// The replica whose check holds the profile, while one does.
    pub checking_by: Option<String>,
    /// Failed checks in a row.
    pub failures: u32,
}

/// What became of a request to begin a check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Begun {
    /// This replica holds the profile until the lease given: check it.
    Started(Kept),
    /// Another check holds it.
    Running,
    /// One started less than the minimum interval ago: its result stands.
    Recent(Kept),
    /// The profile is gone.
    Gone,
}

/// What became of a write of the status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Saved {
    /// Written, with its event.
    Saved,
    /// The revision moved (another write came first): nothing written; read again.
    Moved,
    /// The profile is gone.
    Gone,
}

/// A profile whose periodic check is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Due {
    /// The profile.
    pub pbx_id: PbxId,
    /// Its customer.
    pub customer_id: CustomerId,
    /// The customer's reseller (or account).
    pub reseller_id: ResellerId,
}

/// Where connection status is kept, apart from the profiles (a write never changes a profile's version).
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait ConnectionStore: Send + Sync {
    /// The kept status of `pbx` (the default when nothing is kept).
    async fn kept(&self, pbx: PbxId) -> Result<Kept, RepositoryError>;

    /// Takes `pbx` for a check by `replica` until `until`, unless a check holds it at `now` or one started after
    /// `recent`; bumps the revision.
    async fn begin(
        &self,
        pbx: PbxId,
        replica: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
        recent: DateTime<Utc>,
    ) -> Result<Begun, RepositoryError>;

    /// Ends a check: its result, when the next is due and the failures in a row, the lease released; `event`
    /// recorded with it. Written only while the revision is `revision`.
    async fn finish(
        &self,
        pbx: PbxId,
        revision: u64,
        checked: &Checked,
        next_check_at: DateTime<Utc>,
        failures: u32,
        event: Option<NewEvent>,
    ) -> Result<Saved, RepositoryError>;

    /// Keeps a collector's report, with `event`, while the revision is `revision`.
    async fn report(
        &self,
        pbx: PbxId,
        revision: u64,
        report: &CollectorReport,
        event: Option<NewEvent>,
    ) -> Result<Saved, RepositoryError>;

    /// Up to `limit` enabled profiles of the types the service checks whose periodic check is due at `now`
    /// (never checked, or due) and that no check holds.
    async fn due(&self, now: DateTime<Utc>, limit: u64) -> Result<Vec<Due>, RepositoryError>;
}
