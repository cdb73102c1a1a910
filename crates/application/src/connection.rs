//! Connection checks (CONTRACT §15): whether a profile's connection reaches its PBX. The [`Prober`] port makes the
//! requests (each PBX type's `check` module in the domain says which, and how their answers read); the use case
//! bounds how many run at once and how long each takes, and summarises what they found.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::TimeDelta;
use pbx_domain::PbxConnection;
use pbx_domain::connection::{Checked, Connection, Findings, Status};
use tokio::sync::Semaphore;

use crate::ports::Clock;
use crate::use_case::opaque_debug;

/// The longest a whole check may take (connect 3 s and each exchange 5 s within it).
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(12);

/// Makes a check's requests.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait Prober: Send + Sync {
    /// Checks `connection`, condition by condition in its type's order, stopping at the first that fails; within
    /// [`CHECK_TIMEOUT`].
    async fn probe(&self, connection: &PbxConnection) -> Findings;
}

/// Runs checks: at most `concurrency` at once (a check waiting for a slot waits, it is never refused), each bounded
/// by [`CHECK_TIMEOUT`] even if a prober is not.
#[derive(Clone)]
pub struct Checks {
    prober: Arc<dyn Prober>,
    clock: Arc<dyn Clock>,
    slots: Arc<Semaphore>,
    stale_after: TimeDelta,
}
opaque_debug!(Checks);

impl Checks {
    /// Checks through `prober`, `concurrency` at a time; a collector's report counts as stale after `stale_after`.
    #[must_use]
    pub fn new(prober: Arc<dyn Prober>, clock: Arc<dyn Clock>, concurrency: usize, stale_after: TimeDelta) -> Self {
        Self { prober, clock, slots: Arc::new(Semaphore::new(concurrency.max(1))), stale_after }
    }

    /// Checks `connection` now, as a profile not yet saved: nothing is stored, nothing recorded. A type the service
    /// cannot check is `unknown` with reason `NotCheckable`, and no request is made.
    pub async fn dry_run(&self, connection: &PbxConnection) -> Connection {
        let conditions = connection.pbx_type().checked_conditions();
        let checked = if conditions.is_empty() {
            None
        } else {
            let findings = self.probe(connection).await;
            Some(Checked::new(findings, conditions, None, self.clock.now()))
        };
        let status = Status { checked, collector: None };
        status.summarize(!conditions.is_empty(), false, self.clock.now(), self.stale_after)
    }

    async fn probe(&self, connection: &PbxConnection) -> Findings {
        // The semaphore is never closed: a failed acquire cannot happen, and would only skip the bound.
        let _slot = self.slots.acquire().await.ok();
        match tokio::time::timeout(CHECK_TIMEOUT, self.prober.probe(connection)).await {
            Ok(findings) => findings,
            Err(_) => {
                let mut findings = Findings::default();
                let first = connection.pbx_type().checked_conditions().first().copied();
                if let Some(first) = first {
                    findings.fails(first, pbx_domain::connection::Reason::Timeout);
                }
                findings
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pbx_domain::PbxType;
    use pbx_domain::connection::{ConditionType, ConnectionState, Reason};

    fn checks(prober: MockProber) -> Checks {
        Checks::new(Arc::new(prober), Arc::new(crate::system::SystemClock), 2, TimeDelta::minutes(15))
    }

    #[tokio::test]
    async fn an_uncheckable_type_makes_no_request() {
        let mut prober = MockProber::new();
        prober.expect_probe().never();
        let shown = checks(prober).dry_run(&PbxConnection::example(PbxType::ThreeCx)).await;
        assert_eq!((shown.state, shown.reason.as_deref()), (ConnectionState::Unknown, Some("NotCheckable")));
    }

    #[tokio::test]
    async fn a_dry_run_summarises_the_findings() {
        let mut prober = MockProber::new();
        prober.expect_probe().times(1).returning(|_| {
            let mut findings = Findings::default();
            findings.holds(ConditionType::Authenticated);
            findings.fails(ConditionType::AccountMatches, Reason::AccountDisabled);
            findings
        });
        let shown = checks(prober).dry_run(&PbxConnection::example(PbxType::Kazoo)).await;
        assert_eq!((shown.state, shown.reason.as_deref()), (ConnectionState::Failed, Some("AccountDisabled")));
        assert_eq!(shown.conditions.len(), 3, "the event stream is listed, unknown");
    }

    #[tokio::test(start_paused = true)]
    async fn a_prober_that_never_ends_is_cut_at_the_bound() {
        struct Silent;
        #[async_trait]
        impl Prober for Silent {
            async fn probe(&self, _: &PbxConnection) -> Findings {
                std::future::pending().await
            }
        }
        let checks = Checks::new(Arc::new(Silent), Arc::new(crate::system::SystemClock), 1, TimeDelta::minutes(15));
        let started = tokio::time::Instant::now();
        let shown = checks.dry_run(&PbxConnection::example(PbxType::Teams)).await;
        assert_eq!(started.elapsed(), CHECK_TIMEOUT);
        assert_eq!(shown.reason.as_deref(), Some("Timeout"));
    }
}
