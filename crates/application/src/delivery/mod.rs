//! Webhook deliveries from the change feed (§13): each webhook follows its owner's feed from where it was created,
//! one replica at a time (a lease), and takes each event it subscribes to in feed order: delivered (a 2xx), or
//! tried again after `attempt × 2 s` up to its `retries`, then given up; the next event waits until then. Its place in
//! the feed moves only once an event is done with, so a crash or a restart delivers the event again, with the same
//! `webhook-id`: at least once.
//!
//! **Which webhooks are worked, and when.** Each replica's [`Deliverer`] follows the whole feed ([`follow`]: woken by
//! every commit, no fixed-interval poll) from an in-memory place; the resellers of the events it reads name the only
//! webhooks with something new — those whose owner sees them — and only those are claimed. A webhook with nothing
//! new is never claimed and costs nothing; one with work never waits for a slot another holds (each claimed webhook
//! is worked on a task of its own). A retry falls due on a timer of the replica that scheduled it; a rare sweep
//! ([`SWEEP`]) claims what wake-ups cannot bring: events committed while no replica ran, a retry or a claim left by a
//! replica that died, a webhook enabled again behind its feed.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};
use pbx_domain::events::Event;
use pbx_domain::webhook::{Delivery, PING, Webhook, delivery, ping};
use pbx_domain::{ResellerId, WebhookId};

mod ports;

pub use ports::{Attempt, Claim, Claimable, DeliveryRecord, DeliveryStore, Outcome, Recorded, Sender};
#[cfg(test)]
pub use ports::{MockDeliveryStore, MockSender};

use crate::events::{Audience, EventLog, Followed, Found, Read, Visibility, follow, parse_cursor};
use crate::ports::{Clock, RepositoryError};
use crate::use_case::opaque_debug;
use crate::webhook::{Secrets, WebhookRepository};

/// How long a claim on a webhook lasts; renewed with each event done.
pub const LEASE: chrono::TimeDelta = chrono::TimeDelta::seconds(30);
/// Events read from the feed at a time.
const PAGE: u64 = 100;
/// Events in a row given up on (each after its retries) at which a webhook is disabled: its receiver has been
/// failing for that many changes. A delivery that succeeds, or a change of the webhook, counts from zero again.
pub const DISABLE_AFTER: u32 = 10;
/// The type of the delivery log's entry that records a webhook's disabling.
pub const DISABLED: &str = "webhook.disabled";
/// How often a replica sweeps for webhooks with work that no wake-up brings (see [`Claimable::Behind`]): once a
/// minute, one statement when there is none.
pub const SWEEP: Duration = Duration::from_secs(60);

/// The wait before attempt `attempt + 1` after `attempt` failed ones: `attempt × 2 s`, as the platform's portal
/// does.
#[must_use]
pub fn backoff(attempts: u32) -> chrono::Duration {
    chrono::Duration::seconds(2 * i64::from(attempts))
}

/// A webhook this replica is working: the resellers whose events it sees, and whether events of theirs were
/// committed since its last read (it then reads again before giving its claim up).
struct Working {
    audience: Audience,
    more: bool,
}

/// The deliveries of one replica.
#[derive(Clone)]
pub struct Deliverer {
    store: Arc<dyn DeliveryStore>,
    webhooks: Arc<dyn WebhookRepository>,
    log: Arc<dyn EventLog>,
    sender: Arc<dyn Sender>,
    clock: Arc<dyn Clock>,
    replica: String,
    working: Arc<Mutex<HashMap<WebhookId, Working>>>,
}
opaque_debug!(Deliverer);

impl Deliverer {
    /// The deliveries of the replica `replica` (unique among replicas) over their ports.
    pub fn new(
        store: Arc<dyn DeliveryStore>,
        webhooks: Arc<dyn WebhookRepository>,
        log: Arc<dyn EventLog>,
        sender: Arc<dyn Sender>,
        clock: Arc<dyn Clock>,
        replica: String,
    ) -> Self {
        Self { store, webhooks, log, sender, clock, replica, working: Arc::default() }
    }

    fn until(&self) -> DateTime<Utc> {
        self.clock.now() + LEASE
    }

    /// Follows the feed and works each webhook that has something new on a task of its own (a slow receiver
    /// delays only its own webhook), until the service stops or the task is dropped.
    pub async fn run(self) {
        let mut place = loop {
            match self.log.head().await {
                Ok(head) => break head,
                Err(e) => tracing::warn!(error = %e, "the feed's head could not be read; trying again"),
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        };
        // What the feed holds up to its head is the sweep's; what is committed after, the follower's. The second
        // sweep comes as soon as the claims of a replica that died just before this one started have run out.
        self.claim(Claimable::Behind).await;
        let mut sweep_at = tokio::time::Instant::now() + LEASE.to_std().unwrap_or(SWEEP) + Duration::from_secs(1);
        loop {
            if tokio::time::Instant::now() >= sweep_at {
                self.claim(Claimable::Behind).await;
                sweep_at = tokio::time::Instant::now() + SWEEP;
            }
            let from = place;
            let followed =
                follow(|| self.log.listen(&Audience::All), Some(sweep_at), || self.resellers_after(from)).await;
            match followed {
                Ok(Followed::Read((resellers, to))) => {
                    place = to;
                    self.wake(resellers).await;
                }
                Ok(Followed::Elapsed) => {}
                Ok(Followed::Stopped) => return,
                Err(e) => {
                    tracing::warn!(error = %e, "the feed could not be read for webhook deliveries; trying again");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    }

    /// The resellers of the events committed after `place` (every tenant's), and the place after them.
    async fn resellers_after(&self, place: u64) -> Result<Found<(Vec<ResellerId>, u64)>, RepositoryError> {
        let (events, held_back) = match self.log.read_heads(Some(place), PAGE, &Audience::All).await? {
            Read::Events(events) => (events, false),
            Read::HeldBack(events) => (events, true),
            // Purged past the place (a replica stopped for a week): every webhook goes on from its own.
            Read::Gone => return Ok(Found::Ready((Vec::new(), self.log.kept_from().await?))),
            Read::Ahead => return Ok(Found::Nothing),
        };
        let Some(last) = events.last() else {
            return Ok(if held_back { Found::HeldBack(None) } else { Found::Nothing });
        };
        let place = parse_cursor(&last.cursor)
            .map_err(|e| RepositoryError::Unexpected(anyhow::anyhow!("an event's cursor: {e}")))?;
        let mut resellers: Vec<ResellerId> = events.iter().map(|e| ResellerId::from_uuid(e.reseller_id)).collect();
        resellers.sort_unstable();
        resellers.dedup();
        Ok(Found::Ready((resellers, place)))
    }

    /// Events of `resellers` were committed: the webhooks this replica works that see them read again before
    /// giving up their claim, and those that see them and no replica holds are claimed.
    async fn wake(&self, resellers: Vec<ResellerId>) {
        if resellers.is_empty() {
            return;
        }
        {
            let mut working = self.working.lock().unwrap_or_else(PoisonError::into_inner);
            for webhook in working.values_mut() {
                if resellers.iter().any(|r| webhook.audience.sees(*r)) {
                    webhook.more = true;
                }
            }
        }
        self.claim(Claimable::SeeingEventsOf(resellers)).await;
    }

    /// Claims the webhooks `which` names and works each on a task of its own.
    async fn claim(&self, which: Claimable) {
        let now = self.clock.now();
        match self.store.claim(&self.replica, &which, now, self.until()).await {
            Ok(claims) => {
                for claim in claims {
                    let deliverer = self.clone();
                    tokio::spawn(async move { deliverer.work(claim).await });
                }
            }
            Err(e) => tracing::warn!(error = %e, "webhooks could not be claimed; the next sweep tries again"),
        }
    }

    /// Claims webhook `id` if it is enabled, free and due (enabled again, it may be behind its feed, and no commit
    /// would wake it), on a task of its own.
    pub fn nudge(&self, id: WebhookId) {
        let deliverer = self.clone();
        tokio::spawn(async move { deliverer.claim(Claimable::One(id)).await });
    }

    /// Sends a test delivery (`webhook.ping`) to `webhook` on a task of its own, once, and logs it; returns its id
    /// (its `webhook-id`).
    pub fn ping(&self, webhook: Webhook) -> uuid::Uuid {
        let id = uuid::Uuid::now_v7();
        let deliverer = self.clone();
        tokio::spawn(async move {
            let webhook_id = webhook.id;
            if let Err(e) = deliverer.send_ping(webhook, id, 0).await {
                tracing::warn!(%webhook_id, error = %e, "a test delivery could not be logged");
            }
        });
        id
    }

    /// Sends the test delivery `id` to `webhook`, its attempt after `attempts`, and logs it.
    async fn send_ping(&self, webhook: Webhook, id: uuid::Uuid, attempts: u32) -> Result<(), RepositoryError> {
        let Some(secrets) = self.webhooks.secrets(webhook.id).await? else { return Ok(()) };
        let now = self.clock.now();
        let attempt = self.sender.send(&ping(&webhook, id, now, &secrets.signing_at(now))).await;
        let outcome = if attempt.succeeded() { Outcome::Delivered } else { Outcome::Failed };
        self.store.note(webhook.id, id, PING, None, attempts + 1, &attempt, &outcome).await
    }

    /// Delivers event `event_id` of `webhook`'s log once more, on a task of its own, outside the feed's order (the
    /// webhook goes on where it is), and logs it. `false` when the log has no such event.
    ///
    /// # Errors
    /// When the store fails.
    pub async fn retry(&self, webhook: Webhook, event_id: uuid::Uuid) -> Result<bool, RepositoryError> {
        let Some((position, attempts, event_type)) = self.store.logged(webhook.id, event_id).await? else {
            return Ok(false);
        };
        // The entry of a disabling records no delivery: there is nothing to send again.
        if event_type == DISABLED {
            return Ok(false);
        }
        let deliverer = self.clone();
        tokio::spawn(async move {
            let webhook_id = webhook.id;
            let sent = if event_type == PING {
                deliverer.send_ping(webhook, event_id, attempts).await
            } else {
                deliverer.send_again(webhook, event_id, &event_type, position, attempts).await
            };
            if let Err(e) = sent {
                tracing::warn!(%webhook_id, error = %e, "a retry asked for could not be made");
            }
        });
        Ok(true)
    }

    async fn send_again(
        &self,
        webhook: Webhook,
        event_id: uuid::Uuid,
        event_type: &str,
        position: u64,
        attempts: u32,
    ) -> Result<(), RepositoryError> {
        let audience = self.log.audience(Visibility::Reseller(webhook.owner)).await?;
        let event = match self.log.read(Some(position.saturating_sub(1)), 1, &audience).await? {
            Read::Events(events) | Read::HeldBack(events) => events.into_iter().find(|e| e.id == event_id),
            Read::Gone | Read::Ahead => None,
        };
        let Some(secrets) = self.webhooks.secrets(webhook.id).await? else { return Ok(()) };
        let now = self.clock.now();
        let attempt = match &event {
            Some(event) => self.sender.send(&request(&webhook, event, &secrets, now)).await,
            None => {
                let error = Some("the event is no longer kept (the feed's retention)".to_owned());
                Attempt { status: None, error, duration: Duration::ZERO }
            }
        };
        let outcome = if attempt.succeeded() { Outcome::Delivered } else { Outcome::Failed };
        self.store.note(webhook.id, event_id, event_type, Some(position), attempts + 1, &attempt, &outcome).await
    }

    /// Delivers `claim`'s events in feed order until none is left or one must wait for a retry; then gives the
    /// claim up.
    pub fn work(&self, claim: Claim) -> std::pin::Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        // Boxed: a webhook's work may claim it again, which starts its work again.
        Box::pin(self.work_on(claim))
    }

    async fn work_on(&self, claim: Claim) {
        let id = claim.webhook.id;
        let ended = match self.log.audience(Visibility::Reseller(claim.webhook.owner)).await {
            Ok(audience) => {
                self.working
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .insert(id, Working { audience: audience.clone(), more: false });
                self.deliver(claim, &audience).await
            }
            Err(e) => Err(e),
        };
        let more = self.working.lock().unwrap_or_else(PoisonError::into_inner).remove(&id).is_some_and(|w| w.more);
        match ended {
            // Events came between its last read and the claim given up: no other replica could claim it then.
            Ok(Ended::Released) if more => self.claim(Claimable::One(id)).await,
            Ok(Ended::Released | Ended::Lost) => {}
            Ok(Ended::RetryAt(at)) => {
                let deliverer = self.clone();
                tokio::spawn(async move {
                    let wait = (at - deliverer.clock.now()).to_std().unwrap_or_default();
                    tokio::time::sleep(wait).await;
                    deliverer.claim(Claimable::One(id)).await;
                });
            }
            Err(e) => {
                tracing::warn!(webhook_id = %id, error = %e, "webhook deliveries interrupted; the claim runs out");
            }
        }
    }

    async fn deliver(&self, claim: Claim, audience: &Audience) -> Result<Ended, RepositoryError> {
        let Claim { webhook, mut cursor, mut attempts } = claim;
        let Some(secrets) = self.webhooks.secrets(webhook.id).await? else { return Ok(Ended::Lost) };
        loop {
            let events = match self.log.read(Some(cursor), PAGE, audience).await? {
                Read::Events(events) | Read::HeldBack(events) => events,
                // Purged while the webhook was away: it goes on from the oldest event kept.
                Read::Gone => {
                    cursor = self.log.kept_from().await?;
                    continue;
                }
                Read::Ahead => Vec::new(),
            };
            if events.is_empty() {
                // Events committed since the read are told by the follower: then it reads once more.
                let more = self
                    .working
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .get_mut(&webhook.id)
                    .is_some_and(|w| std::mem::take(&mut w.more));
                if more {
                    continue;
                }
                self.store.release(&self.replica, webhook.id, cursor).await?;
                return Ok(Ended::Released);
            }
            for event in events {
                let position = parse_cursor(&event.cursor)
                    .map_err(|e| RepositoryError::Unexpected(anyhow::anyhow!("an event's cursor: {e}")))?;
                if !webhook.settings.receives(event.event_type) {
                    cursor = position;
                    continue;
                }
                let now = self.clock.now();
                let attempt = self.sender.send(&request(&webhook, &event, &secrets, now)).await;
                attempts += 1;
                let outcome = if attempt.succeeded() {
                    Outcome::Delivered
                } else if attempts > u32::from(webhook.settings.retries) {
                    Outcome::Failed
                } else {
                    Outcome::Retry(self.clock.now() + backoff(attempts))
                };
                let recorded = self
                    .store
                    .record(&self.replica, webhook.id, &event, position, attempts, &attempt, &outcome, self.until())
                    .await?;
                match (recorded, &outcome) {
                    (Recorded::Lost, _) => return Ok(Ended::Lost),
                    (Recorded::Disabled, _) => {
                        tracing::warn!(
                            webhook_id = %webhook.id,
                            owner = %webhook.owner,
                            given_up = DISABLE_AFTER,
                            "webhook disabled: its receiver failed this many events in a row"
                        );
                        // Given up at once: enabled again, another claim goes on from here.
                        self.store.release(&self.replica, webhook.id, position).await?;
                        return Ok(Ended::Lost);
                    }
                    (Recorded::Kept, Outcome::Retry(at)) => return Ok(Ended::RetryAt(*at)),
                    (Recorded::Kept, _) => {}
                }
                (cursor, attempts) = (position, 0);
            }
        }
    }
}

/// How the work on a claimed webhook ended.
enum Ended {
    /// Nothing left to deliver: the claim was given up.
    Released,
    /// An event waits for its retry at this instant (the claim was given up until then).
    RetryAt(DateTime<Utc>),
    /// The claim is no longer this replica's (lost, or the webhook disabled or deleted).
    Lost,
}

/// The request of `event` for `webhook` at `now`, signed by the secrets that sign then.
fn request(webhook: &Webhook, event: &Event, secrets: &Secrets, now: DateTime<Utc>) -> Delivery {
    delivery(webhook, event, &secrets.signing_at(now), now.timestamp())
}
