//! Connection checks (CONTRACT §15): whether a profile's connection reaches its PBX. The [`Prober`] port makes the
//! requests (each PBX type's `check` module in the domain says which, and how their answers read); [`Checks`]
//! bounds how many run at once and how long each takes, lets one replica check a profile at a time (a lease in the
//! [`ConnectionStore`]), keeps the result apart from the profile, and records `pbx.connection_changed` when the
//! summary's state or reason changes — compared under the store's revision, so two writers never both record one
//! change. When checks run: [`Checks::follow`] (after a create or a change of a connection field, from the feed)
//! and [`Checks::run_periodic`]; and on request.

mod follow;
mod ports;
mod queue;
mod schedule;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use chrono::TimeDelta;
use pbx_domain::connection::{Checked, CollectorReport, Connection, Findings, Reason, Status};
use pbx_domain::events::Actor;
use pbx_domain::{CustomerId, PbxConnection, PbxId, PbxProfile, PbxType, ResellerId, Withheld};
use tokio::sync::{Semaphore, oneshot};

pub use follow::needs_check;
pub use ports::{Begun, ConnectionStore, Due, Kept, Prober, Saved};
#[cfg(test)]
pub use ports::{MockConnectionStore, MockProber};
pub use schedule::Schedule;

use crate::events::Recorder;
use crate::ports::{Clock, CustomerRepository, PbxRepository, RepositoryError};
use crate::use_case::opaque_debug;

/// The longest a whole check may take (connect 3 s and each exchange 5 s within it).
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(12);
/// At most one check started per profile in this interval (a request within it gets the last result).
pub const MIN_INTERVAL: TimeDelta = TimeDelta::seconds(10);
/// Checks asked for by requests running at once, at most (the service's own have their workers).
const REQUESTS: usize = 32;
/// How long a check holds its profile: its bound, and a margin.
const LEASE: TimeDelta = TimeDelta::seconds(15);
/// The subject of the events of checks the service starts itself.
pub const SUBJECT: &str = "connection-check";

/// Why a check could not be made or shown.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// No such customer for the caller, or no such profile for the customer.
    #[error("not found")]
    NotFound,
    /// The store failed.
    #[error(transparent)]
    Storage(#[from] RepositoryError),
}

/// Whether a check asked for while another runs waits for it (a request) or leaves it (the service's own).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Join {
    Wait,
    Leave,
}

/// The ports of [`Checks`].
#[derive(Clone)]
pub struct CheckPorts {
    /// The requests.
    pub prober: Arc<dyn Prober>,
    /// The status.
    pub store: Arc<dyn ConnectionStore>,
    /// The profiles checked.
    pub profiles: Arc<dyn PbxRepository>,
    /// Their customers (who may see them).
    pub customers: Arc<dyn CustomerRepository>,
    /// The events' maker.
    pub recorder: Recorder,
    /// The time.
    pub clock: Arc<dyn Clock>,
}
opaque_debug!(CheckPorts);

/// Runs checks, keeps their results and collectors' reports, and summarises them.
#[derive(Clone)]
pub struct Checks {
    ports: CheckPorts,
    schedule: Schedule,
    replica: String,
    slots: Arc<Semaphore>,
    /// The checks the service starts by itself, waiting for a worker.
    queue: Arc<queue::Queue>,
    /// The checks this replica runs, with those waiting for their result.
    running: Arc<Mutex<HashMap<PbxId, Vec<oneshot::Sender<Connection>>>>>,
}
opaque_debug!(Checks);

impl Checks {
    /// Checks by the replica `replica` (unique among replicas) over `ports`, as `schedule` says.
    #[must_use]
    pub fn new(ports: CheckPorts, schedule: Schedule, replica: String) -> Self {
        let slots = Arc::new(Semaphore::new(REQUESTS));
        Self { ports, schedule, replica, slots, queue: Arc::default(), running: Arc::default() }
    }

    /// The `connection` shown for a profile of `pbx_type` whose kept status is `status`, now.
    #[must_use]
    pub fn summarize(&self, pbx_type: PbxType, status: &Status) -> Connection {
        status.summarize(pbx_type.checkable(), self.ports.clock.now(), self.schedule.collector_stale_after)
    }

    /// The `connection` of a profile just created, or whose connection just changed (its kept `status` holds no
    /// check): `checking` when the service checks it at once, else `unknown`.
    #[must_use]
    pub fn unchecked(&self, pbx_type: PbxType, status: Status) -> Connection {
        let now = self.ports.clock.now();
        let checks = self.schedule.automatic && pbx_type.checkable();
        let status = Status { checking_until: checks.then(|| now + LEASE), ..status };
        self.summarize(pbx_type, &status)
    }

    /// The time, as the checks keep it.
    #[must_use]
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.ports.clock.now()
    }

    /// The kept status of `pbx`.
    async fn status(&self, pbx: PbxId) -> Result<Status, RepositoryError> {
        Ok(self.ports.store.kept(pbx).await?.status)
    }

    /// Checks `connection` as a profile of the caller's customer `customer_id` not yet saved: nothing is stored,
    /// nothing recorded. A type the service cannot check is `unknown` with reason `NotCheckable`, and no request is
    /// made.
    ///
    /// # Errors
    /// [`CheckError::NotFound`] when the customer is missing or another reseller's.
    pub async fn dry_run(
        &self,
        reseller: ResellerId,
        customer_id: CustomerId,
        connection: &PbxConnection,
    ) -> Result<Connection, CheckError> {
        self.ports.customers.find(reseller, customer_id).await?.ok_or(CheckError::NotFound)?;
        Ok(self.check_unsaved(connection).await)
    }

    /// Checks `connection` without keeping anything.
    async fn check_unsaved(&self, connection: &PbxConnection) -> Connection {
        let conditions = connection.pbx_type().checked_conditions();
        let checked = if conditions.is_empty() {
            None
        } else {
            let _slot = self.slots.acquire().await.ok();
            let findings = self.probe(connection).await;
            Some(Checked::new(findings, conditions, None, self.ports.clock.now()))
        };
        self.summarize(connection.pbx_type(), &Status { checked, ..Status::default() })
    }

    /// Checks the profile `pbx_id` of the caller's customer now (or joins the check running, or gives the last
    /// result when one started less than [`MIN_INTERVAL`] ago).
    ///
    /// # Errors
    /// [`CheckError::NotFound`] when the customer or the profile is missing or another reseller's.
    pub async fn check_now(
        &self,
        actor: &Actor,
        reseller: ResellerId,
        customer_id: CustomerId,
        pbx_id: PbxId,
    ) -> Result<(PbxProfile<Withheld>, Connection), CheckError> {
        let profile = self.visible(reseller, customer_id, pbx_id).await?;
        let connection = self.check(actor, reseller, &profile, Join::Wait).await?;
        Ok((profile.withheld(), connection))
    }

    /// Keeps a collector's report on the profile `pbx_id` (found whoever its reseller: collectors serve every
    /// reseller), recording `pbx.connection_changed` when the summary changes.
    ///
    /// # Errors
    /// [`CheckError::NotFound`] when the profile is missing.
    pub async fn report(
        &self,
        actor: &Actor,
        customer_id: CustomerId,
        pbx_id: PbxId,
        report: CollectorReport,
    ) -> Result<(PbxProfile<Withheld>, Connection), CheckError> {
        let profile = self.ports.profiles.find(customer_id, pbx_id).await?.ok_or(CheckError::NotFound)?.value;
        let reseller = self.ports.customers.reseller_of(customer_id).await?.ok_or(CheckError::NotFound)?;
        loop {
            let kept = self.ports.store.kept(pbx_id).await?;
            let after = Status { collector: Some(report.clone()), ..kept.status.clone() };
            let (event, shown) = self.compare(actor, reseller, &profile, &kept.status, &after);
            match self.ports.store.report(pbx_id, kept.revision, &report, event).await? {
                Saved::Saved => return Ok((profile.withheld(), shown)),
                Saved::Gone => return Err(CheckError::NotFound),
                Saved::Moved => {}
            }
        }
    }

    async fn visible(
        &self,
        reseller: ResellerId,
        customer_id: CustomerId,
        pbx_id: PbxId,
    ) -> Result<PbxProfile, CheckError> {
        self.ports.customers.find(reseller, customer_id).await?.ok_or(CheckError::NotFound)?;
        Ok(self.ports.profiles.find(customer_id, pbx_id).await?.ok_or(CheckError::NotFound)?.value)
    }

    /// The event to record when `before` and `after` summarise to different states or reasons, and the summary
    /// after.
    fn compare(
        &self,
        actor: &Actor,
        reseller: ResellerId,
        profile: &PbxProfile,
        before: &Status,
        after: &Status,
    ) -> (Option<crate::NewEvent>, Connection) {
        // `checking` is shown, never recorded: both sides are compared as settled.
        let settled =
            |status: &Status| self.summarize(profile.pbx_type(), &Status { checking_until: None, ..status.clone() });
        let (was, is) = (settled(before), settled(after));
        let changed = (was.state, &was.reason) != (is.state, &is.reason);
        let event = changed.then(|| self.ports.recorder.connection_changed(actor, reseller, profile, &is));
        (event, self.summarize(profile.pbx_type(), after))
    }

    /// Checks `profile`, as [`Join`] says when another check holds it.
    async fn check(
        &self,
        actor: &Actor,
        reseller: ResellerId,
        profile: &PbxProfile,
        join: Join,
    ) -> Result<Connection, RepositoryError> {
        let id = profile.id;
        if !profile.pbx_type().checkable() {
            return Ok(self.summarize(profile.pbx_type(), &self.status(id).await?));
        }
        let waiting = {
            let mut running = self.running.lock().unwrap_or_else(PoisonError::into_inner);
            match running.get_mut(&id) {
                Some(waiters) if join == Join::Wait => {
                    let (tx, rx) = oneshot::channel();
                    waiters.push(tx);
                    Some(Some(rx))
                }
                Some(_) => Some(None),
                None => {
                    running.insert(id, Vec::new());
                    None
                }
            }
        };
        match waiting {
            Some(Some(rx)) => return self.joined(rx, id, &profile.connection).await,
            Some(None) => return Ok(self.summarize(profile.pbx_type(), &self.status(id).await?)),
            None => {}
        }
        let result = self.run(actor, reseller, profile, join).await;
        let waiters = self.running.lock().unwrap_or_else(PoisonError::into_inner).remove(&id).unwrap_or_default();
        if let Ok(shown) = &result {
            for waiter in waiters {
                let _ = waiter.send(shown.clone());
            }
        }
        result
    }

    async fn joined(
        &self,
        rx: oneshot::Receiver<Connection>,
        id: PbxId,
        connection: &PbxConnection,
    ) -> Result<Connection, RepositoryError> {
        match rx.await {
            Ok(shown) => Ok(shown),
            Err(_) => Ok(self.summarize(connection.pbx_type(), &self.status(id).await?)),
        }
    }

    /// Begins, probes and ends one check of `profile` on this replica.
    async fn run(
        &self,
        actor: &Actor,
        reseller: ResellerId,
        profile: &PbxProfile,
        join: Join,
    ) -> Result<Connection, RepositoryError> {
        let id = profile.id;
        // A request's slot first (a check waiting for one does not hold its profile); the service's own checks
        // run on its workers, which are their bound.
        let _slot = if join == Join::Wait { self.slots.acquire().await.ok() } else { None };
        let now = self.ports.clock.now();
        let begun = self.ports.store.begin(id, &self.replica, now, now + LEASE, now - MIN_INTERVAL).await?;
        let mut kept = match begun {
            Begun::Started(kept) => kept,
            Begun::Recent(kept) => return Ok(self.summarize(profile.pbx_type(), &kept.status)),
            Begun::Gone => return Ok(self.summarize(profile.pbx_type(), &Status::default())),
            Begun::Running if join == Join::Leave => {
                return Ok(self.summarize(profile.pbx_type(), &self.status(id).await?));
            }
            Begun::Running => return self.wait_for_other(id, &profile.connection).await,
        };
        let findings = self.probe(&profile.connection).await;
        let conditions = profile.pbx_type().checked_conditions();
        loop {
            let now = self.ports.clock.now();
            let checked = Checked::new(findings.clone(), conditions, kept.status.checked.as_ref(), now);
            let failures = if checked.failed().is_some() { kept.failures.saturating_add(1) } else { 0 };
            let next = now + self.schedule.next_after(failures);
            let after = Status { checked: Some(checked.clone()), checking_until: None, ..kept.status.clone() };
            let (event, shown) = self.compare(actor, reseller, profile, &kept.status, &after);
            match self.ports.store.finish(id, kept.revision, &checked, next, failures, event).await? {
                Saved::Saved => return Ok(shown),
                Saved::Gone => return Ok(self.summarize(profile.pbx_type(), &Status::default())),
                Saved::Moved => {
                    kept = self.ports.store.kept(id).await?;
                    // The profile is gone (its row with it), or another replica took it after this check's lease
                    // ran out (its result wins), or its connection changed (the result is of the old one).
                    let taken = kept.checking_by.as_deref().is_some_and(|by| by != self.replica);
                    if kept.revision == 0 || taken || kept.checking_by.is_none() {
                        return Ok(self.summarize(profile.pbx_type(), &kept.status));
                    }
                }
            }
        }
    }

    /// Waits (polling, within a check's bound) for another replica's check of `id` to end.
    async fn wait_for_other(&self, id: PbxId, connection: &PbxConnection) -> Result<Connection, RepositoryError> {
        let deadline = tokio::time::Instant::now() + CHECK_TIMEOUT + Duration::from_secs(1);
        loop {
            let status = self.status(id).await?;
            let running = status.checking_until.is_some_and(|until| until > self.ports.clock.now());
            if !running || tokio::time::Instant::now() >= deadline {
                return Ok(self.summarize(connection.pbx_type(), &status));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Probes `connection` within [`CHECK_TIMEOUT`], even if the prober does not keep to it (the caller holds a
    /// slot: the semaphore is never closed, so acquiring one cannot fail).
    async fn probe(&self, connection: &PbxConnection) -> Findings {
        match tokio::time::timeout(CHECK_TIMEOUT, self.ports.prober.probe(connection)).await {
            Ok(findings) => findings,
            Err(_) => {
                let mut findings = Findings::default();
                if let Some(&first) = connection.pbx_type().checked_conditions().first() {
                    findings.fails(first, Reason::Timeout);
                }
                findings
            }
        }
    }

    /// Queues a check of the profile `due` names, as the service does by itself (after a create or a change,
    /// periodically): a worker of [`Checks::work`] takes it.
    pub fn start(&self, due: Due) {
        self.queue.push(due);
    }

    /// The workers of the queued checks (`Schedule::concurrency` of them), until the task is dropped. A check leaves
    /// a profile that another check holds, and logs a failure to keep its result.
    pub async fn work(self) {
        let mut workers = tokio::task::JoinSet::new();
        for _ in 0..self.schedule.concurrency.max(1) {
            let checks = self.clone();
            workers.spawn(async move {
                loop {
                    let due = checks.queue.pop().await;
                    checks.check_queued(due).await;
                }
            });
        }
        while workers.join_next().await.is_some() {}
    }

    async fn check_queued(&self, Due { pbx_id, customer_id, reseller_id }: Due) {
        let actor = Actor { reseller_id: reseller_id.as_uuid(), subject: Some(SUBJECT.to_owned()) };
        let profile = match self.ports.profiles.find(customer_id, pbx_id).await {
            Ok(Some(profile)) => profile.value,
            Ok(None) => return,
            Err(e) => return tracing::warn!(error = %e, pbx = %pbx_id, "a profile to check could not be read"),
        };
        if let Err(e) = self.check(&actor, reseller_id, &profile, Join::Leave).await {
            tracing::warn!(error = %e, pbx = %pbx_id, "a connection check could not be kept");
        }
    }

    /// The periodic checks, until the task is dropped: every tick, the profiles due (a page at a time).
    pub async fn run_periodic(self) {
        loop {
            tokio::time::sleep(self.schedule.tick()).await;
            // Not more than the workers can take before the next look: what is left comes due again then.
            if self.queue.len() >= 100 {
                continue;
            }
            match self.ports.store.due(self.ports.clock.now(), 100).await {
                Ok(due) => due.into_iter().for_each(|due| self.start(due)),
                Err(e) => tracing::warn!(error = %e, "the profiles due for a check could not be read"),
            }
        }
    }
}

#[cfg(test)]
mod tests;
