//! The ports of webhook deliveries: where their state is kept ([`DeliveryStore`]) and how one is sent ([`Sender`]),
//! with the values that cross them.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use pbx_domain::events::Event;
use pbx_domain::webhook::{Delivery, Webhook};
use pbx_domain::{ResellerId, WebhookId};

use crate::ports::RepositoryError;

/// Which webhooks a claim takes: always only those enabled, held by no replica, and whose next attempt is due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claimable {
    /// Those whose owner sees the events of these resellers (new events of theirs were committed): the owner is
    /// one of them, or the tenant above one of them (an account's).
    SeeingEventsOf(Vec<ResellerId>),
    /// This one (its retry fell due, or more events came while this replica was working it).
    One(WebhookId),
    /// Those with work that no wake-up brings: events after their place (committed while no replica ran, or
    /// before the webhook was enabled again), a retry due, a claim run out (a replica died).
    Behind,
}

/// What [`DeliveryStore::record`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// Nothing: the replica no longer holds the claim.
    Lost,
    /// The attempt and its outcome.
    Kept,
    /// The attempt, its outcome, and — the event being the [`DISABLE_AFTER`](super::DISABLE_AFTER)th in a row given up — the webhook's
    /// disabling, with a [`DISABLED`](super::DISABLED) entry in its log.
    Disabled,
}

/// A webhook claimed by this replica: its settings and where it is in the feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// The webhook, as it is now (a change applies to the next delivery).
    pub webhook: Webhook,
    /// The position of the last event it is done with.
    pub cursor: u64,
    /// Failed attempts at the next event.
    pub attempts: u32,
}

/// What became of one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// The receiver's status code, when it answered.
    pub status: Option<u16>,
    /// Why it failed, when it did (a status that is not 2xx, a timeout, a refused target…).
    pub error: Option<String>,
    /// How long it took.
    pub duration: Duration,
}

impl Attempt {
    /// A 2xx.
    #[must_use]
    pub fn succeeded(&self) -> bool {
        self.error.is_none() && self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

/// The outcome of an event for a webhook, as the delivery log keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Delivered: the webhook moves past it.
    Delivered,
    /// Given up after its retries: the webhook moves past it.
    Failed,
    /// To be tried again at the instant given; the webhook stays on it.
    Retry(DateTime<Utc>),
}

/// One event's delivery to a webhook, as the log shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryRecord {
    /// The event (the `webhook-id` of its deliveries).
    pub event_id: uuid::Uuid,
    /// Its type.
    pub event_type: String,
    /// Attempts made.
    pub attempts: u32,
    /// Where it stands.
    pub status: &'static str,
    /// The receiver's last status code, when it answered.
    pub last_status_code: Option<u16>,
    /// Why the last attempt failed, when it did.
    pub last_error: Option<String>,
    /// How long the last attempt took.
    pub duration_ms: Option<u64>,
    /// When the next attempt is due, for a pending one.
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// When the last attempt was made (for the entry of a disabling, when it was recorded).
    pub last_attempt_at: DateTime<Utc>,
}

/// Where the state of deliveries is kept.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait DeliveryStore: Send + Sync {
    /// Claims the webhooks `which` names that are enabled, held by no replica and due at `now`, for `replica`
    /// until `until`.
    ///
    /// # Errors
    /// When the store fails.
    async fn claim(
        &self,
        replica: &str,
        which: &Claimable,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Vec<Claim>, RepositoryError>;

    /// Records `attempt` at `event` (at feed position `position`) and its `outcome`; for a delivered or failed one,
    /// moves the webhook past it and renews the claim until `until`, and counts the events given up in a row: the
    /// [`DISABLE_AFTER`](super::DISABLE_AFTER)th disables the webhook, in the same transaction. Only while `replica` holds the claim.
    ///
    /// # Errors
    /// When the store fails.
    #[allow(clippy::too_many_arguments)]
    async fn record(
        &self,
        replica: &str,
        id: WebhookId,
        event: &Event,
        position: u64,
        attempts: u32,
        attempt: &Attempt,
        outcome: &Outcome,
        until: DateTime<Utc>,
    ) -> Result<Recorded, RepositoryError>;

    /// Moves the webhook to `cursor` (past events it does not receive) and gives up the claim.
    ///
    /// # Errors
    /// When the store fails.
    async fn release(&self, replica: &str, id: WebhookId, cursor: u64) -> Result<(), RepositoryError>;

    /// Logs `attempt`, the `attempts`-th, at a delivery made out of the feed's order (a test delivery, or a retry
    /// asked for), delivered or failed as `outcome` says, at `position` (the webhook's place when `None`), without
    /// moving the webhook.
    ///
    /// # Errors
    /// When the store fails.
    #[allow(clippy::too_many_arguments)]
    async fn note(
        &self,
        id: WebhookId,
        event_id: uuid::Uuid,
        event_type: &str,
        position: Option<u64>,
        attempts: u32,
        attempt: &Attempt,
        outcome: &Outcome,
    ) -> Result<(), RepositoryError>;

    /// Where event `event_id` of webhook `id`'s log is in the feed, the attempts made at it, and its type.
    ///
    /// # Errors
    /// When the store fails.
    async fn logged(&self, id: WebhookId, event_id: uuid::Uuid) -> Result<Option<(u64, u32, String)>, RepositoryError>;

    /// A page of webhook `id`'s delivery log, the latest event first.
    ///
    /// # Errors
    /// When the store fails.
    async fn log(&self, id: WebhookId, page: crate::ports::Page) -> Result<Vec<DeliveryRecord>, RepositoryError>;
}

/// Sends a delivery.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait Sender: Send + Sync {
    /// Sends `delivery` (10 s at most, no redirect followed, to an allowed address only).
    async fn send(&self, delivery: &Delivery) -> Attempt;
}
