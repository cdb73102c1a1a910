//! The change feed: every change of a customer or a profile is recorded as an event, in the same transaction as
//! the change (the repositories take the event with the change), and read back in commit order
//! ([`EventLog`], [`ReadEvents`]).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use pbx_domain::connection::{Connection, Status};
use pbx_domain::events::{Actor, EventPage, EventType};
use pbx_domain::{Customer, CustomerId, PbxId, PbxProfile, ResellerId, Withheld};
use serde_json::Value;
use uuid::Uuid;

use crate::ports::{Clock, IdGenerator, RepositoryError};
use crate::use_case::opaque_debug;

/// An event to record with its change.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    /// Its id.
    pub id: Uuid,
    /// What happened.
    pub event_type: EventType,
    /// When.
    pub occurred_at: DateTime<Utc>,
    /// The customer's reseller (or account).
    pub reseller_id: ResellerId,
    /// The customer.
    pub customer_id: CustomerId,
    /// The profile, for a `pbx.*` event.
    pub pbx_id: Option<PbxId>,
    /// Who.
    pub actor: Actor,
    /// The fields an update changed.
    pub changed: Option<Vec<String>>,
    /// The resource as a get shows it (never a secret); `None` for a delete or a credentials read.
    pub data: Option<Value>,
}

impl NewEvent {
    /// Whether this change of a profile of `pbx_type` touches how it is reached (one of its connection fields, or
    /// its type): the last check's result is then of another connection.
    #[must_use]
    pub fn changes_connection(&self, pbx_type: pbx_domain::PbxType) -> bool {
        self.changed.as_deref().is_some_and(|changed| pbx_type.connection_changed(changed))
    }

    /// The connection status this change of a profile of `pbx_type` leaves of `kept`: `kept`, or what a change of
    /// its connection fields leaves ([`Status::after_connection_change`], as the store's reset does).
    #[must_use]
    pub fn connection_after(&self, pbx_type: pbx_domain::PbxType, kept: Status) -> Status {
        if self.changes_connection(pbx_type) { kept.after_connection_change() } else { kept }
    }
}

/// How a resource is shown in an event: as the API's get shows it. The front end implements it (it owns the
/// resources' JSON form).
#[cfg_attr(test, mockall::automock)]
pub trait Render: Send + Sync {
    /// The customer as a get shows it.
    fn customer(&self, customer: &Customer) -> Value;
    /// The profile as a get shows it (no secret: none is given).
    fn profile(&self, profile: &PbxProfile<Withheld>) -> Value;
}

/// The names of the top-level fields whose values differ between two JSON objects, sorted.
fn changed_fields(before: &Value, after: &Value) -> Vec<String> {
    let (Some(before), Some(after)) = (before.as_object(), after.as_object()) else { return Vec::new() };
    let mut changed: Vec<String> =
        after.iter().filter(|(k, v)| before.get(*k) != Some(*v)).map(|(k, _)| k.clone()).collect();
    changed.extend(before.keys().filter(|k| !after.contains_key(*k)).cloned());
    changed.sort();
    changed
}

/// A profile's rendered `data` with its `connection`.
fn with_connection(mut data: Value, connection: &Connection) -> Value {
    if let (Some(object), Ok(connection)) = (data.as_object_mut(), serde_json::to_value(connection)) {
        object.insert("connection".to_owned(), connection);
    }
    data
}

/// Makes the events of changes: ids, times, the resource's form.
#[derive(Clone)]
pub struct Recorder {
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGenerator>,
    render: Arc<dyn Render>,
    /// When a collector's report counts as stale in a profile's `connection`.
    collector_stale_after: TimeDelta,
}
opaque_debug!(Recorder);

impl Recorder {
    /// A recorder stamping events with `clock` and `ids`, showing resources through `render`.
    #[must_use]
    pub fn new(clock: Arc<dyn Clock>, ids: Arc<dyn IdGenerator>, render: Arc<dyn Render>) -> Self {
        let collector_stale_after = crate::connection::Schedule::default().collector_stale_after;
        Self { clock, ids, render, collector_stale_after }
    }

    /// The same, counting a collector's report as stale after `stale_after` (`--collector-stale-after`), as the
    /// answers do.
    #[must_use]
    pub fn with_collector_stale_after(self, stale_after: TimeDelta) -> Self {
        Self { collector_stale_after: stale_after, ..self }
    }

    /// The `connection` an event shows of `profile` kept as `status`: a running check is not recorded (the event
    /// shows the state it started from).
    fn recorded<S>(&self, profile: &PbxProfile<S>, status: &Status) -> Connection {
        let status = Status { checking_until: None, ..status.clone() };
        status.summarize(profile.pbx_type().checkable(), self.clock.now(), self.collector_stale_after)
    }

    #[allow(clippy::too_many_arguments)] // one event's fields
    fn event(
        &self,
        event_type: EventType,
        actor: &Actor,
        reseller_id: ResellerId,
        customer_id: CustomerId,
        pbx_id: Option<PbxId>,
        changed: Option<Vec<String>>,
        data: Option<Value>,
    ) -> NewEvent {
        NewEvent {
            id: self.ids.new_id(),
            event_type,
            occurred_at: self.clock.now(),
            reseller_id,
            customer_id,
            pbx_id,
            actor: actor.clone(),
            changed,
            data,
        }
    }

    /// `customer.created`.
    #[must_use]
    pub fn customer_created(&self, actor: &Actor, customer: &Customer) -> NewEvent {
        let data = self.render.customer(customer);
        self.event(EventType::CustomerCreated, actor, customer.reseller_id, customer.id, None, None, Some(data))
    }

    /// `customer.updated`, with the fields that differ between `before` and `after`.
    #[must_use]
    pub fn customer_updated(&self, actor: &Actor, before: &Customer, after: &Customer) -> NewEvent {
        let data = self.render.customer(after);
        let changed = changed_fields(&self.render.customer(before), &data);
        self.event(EventType::CustomerUpdated, actor, after.reseller_id, after.id, None, Some(changed), Some(data))
    }

    /// `customer.deleted`.
    #[must_use]
    pub fn customer_deleted(&self, actor: &Actor, reseller: ResellerId, customer: CustomerId) -> NewEvent {
        self.event(EventType::CustomerDeleted, actor, reseller, customer, None, None, None)
    }

    /// `pbx.created`, its `connection` not yet checked. A profile created without its own country takes its
    /// customer's: the repository then sets the stored country in the data (see
    /// [`crate::PbxRepository::insert_for_reseller`]).
    #[must_use]
    pub fn pbx_created(&self, actor: &Actor, reseller: ResellerId, profile: &PbxProfile) -> NewEvent {
        let shown = self.render.profile(&profile.clone().withheld());
        let data = with_connection(shown, &self.recorded(profile, &Status::default()));
        let (customer, id) = (profile.customer_id, Some(profile.id));
        self.event(EventType::PbxCreated, actor, reseller, customer, id, None, Some(data))
    }

    /// `pbx.updated`, `pbx.enabled` or `pbx.disabled`, with the fields that differ and each secret written (named,
    /// never shown), and the `connection` once the change is written ([`NewEvent::connection_after`] of
    /// `connection`, as kept before it).
    #[must_use]
    pub fn pbx_changed(
        &self,
        actor: &Actor,
        reseller: ResellerId,
        (before, after): (&PbxProfile<Withheld>, &PbxProfile<Withheld>),
        secrets_written: Vec<String>,
        connection: &Status,
    ) -> NewEvent {
        let event_type = EventType::of_profile_change(before.enabled, after.enabled);
        let data = self.render.profile(after);
        // Secrets are never compared: each one written is named, equal or not (see `ProfileChange`).
        let mut changed: Vec<String> = before.differences(after).into_iter().map(str::to_owned).collect();
        changed.extend(secrets_written);
        changed.sort();
        changed.dedup();
        let (customer, id) = (after.customer_id, Some(after.id));
        let mut event = self.event(event_type, actor, reseller, customer, id, Some(changed), None);
        let connection = event.connection_after(after.pbx_type(), connection.clone());
        event.data = Some(with_connection(data, &self.recorded(after, &connection)));
        event
    }

    /// `pbx.deleted`.
    #[must_use]
    pub fn pbx_deleted(&self, actor: &Actor, reseller: ResellerId, customer: CustomerId, id: PbxId) -> NewEvent {
        self.event(EventType::PbxDeleted, actor, reseller, customer, Some(id), None, None)
    }

    /// `pbx.connection_changed`: the profile as a get shows it, with its `connection`.
    #[must_use]
    pub fn connection_changed(
        &self,
        actor: &Actor,
        reseller: ResellerId,
        profile: &PbxProfile,
        connection: &Connection,
    ) -> NewEvent {
        let data = with_connection(self.render.profile(&profile.clone().withheld()), connection);
        let (customer, id, changed) = (profile.customer_id, Some(profile.id), Some(vec!["connection".to_owned()]));
        self.event(EventType::PbxConnectionChanged, actor, reseller, customer, id, changed, Some(data))
    }

    /// `pbx.credentials_read`.
    #[must_use]
    pub fn credentials_read(&self, actor: &Actor, reseller: ResellerId, customer: CustomerId, id: PbxId) -> NewEvent {
        self.event(EventType::PbxCredentialsRead, actor, reseller, customer, Some(id), None, None)
    }
}

/// A recorder for the use cases' unit tests: fixed time, fresh ids, every resource shown as `{}`.
#[cfg(test)]
pub(crate) fn test_recorder() -> Recorder {
    struct Empty;
    impl Render for Empty {
        fn customer(&self, _: &Customer) -> Value {
            Value::Object(serde_json::Map::new())
        }
        fn profile(&self, _: &PbxProfile<Withheld>) -> Value {
            Value::Object(serde_json::Map::new())
        }
    }
    Recorder::new(Arc::new(crate::system::SystemClock), Arc::new(crate::system::UuidV7Generator), Arc::new(Empty))
}

/// The actor of the use cases' unit tests.
#[cfg(test)]
pub(crate) fn test_actor() -> Actor {
    Actor { reseller_id: Uuid::from_u128(1), subject: Some("test".to_owned()) }
}

/// Whose events a reader sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    /// Every reseller's (scope `collector`).
    All,
    /// The reseller's own customers', and those of the accounts under it (scope `events:read`).
    Reseller(ResellerId),
}

/// A [`Visibility`] resolved against the store: every tenant's events, or those of a list of resellers (a tenant
/// and the accounts under it). A reader reads, and is woken, by its audience.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience {
    /// Every tenant's events.
    All,
    /// The events of these resellers' customers.
    Resellers(Vec<ResellerId>),
}

impl Audience {
    /// Whether an event of `reseller`'s customer is shown to this audience.
    #[must_use]
    pub fn sees(&self, reseller: ResellerId) -> bool {
        match self {
            Self::All => true,
            Self::Resellers(resellers) => resellers.contains(&reseller),
        }
    }
}

/// A page read from the log.
#[derive(Debug, Clone, PartialEq)]
pub enum Read {
    /// The events after the cursor (possibly none), oldest first.
    Events(Vec<pbx_domain::events::Event>),
    /// The same, and more events were committed after them that cannot be handed out yet: an older transaction
    /// is still running, which may yet commit events sorting before them (PostgreSQL). Read again soon.
    HeldBack(Vec<pbx_domain::events::Event>),
    /// The cursor is older than the oldest event kept: events after it were purged.
    Gone,
    /// The cursor is past every event ever recorded and every position purged: the feed never handed it out.
    Ahead,
}

/// Why a [`Listener`] completed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wake {
    /// An event its audience sees was committed (on this replica, or on another that said so).
    Committed,
    /// Nothing was signalled for a while: a safety read, for a signal that may have been lost.
    Quiet,
    /// The service is stopping: answer now.
    ShuttingDown,
}

/// Completes when a reader should read again (see [`EventLog::listen`]).
pub type Listener = Pin<Box<dyn Future<Output = Wake> + Send>>;

/// Where events are kept, in commit order.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait EventLog: Send + Sync {
    /// Records `events` in a transaction of their own (a change that is not a write: a credentials read).
    ///
    /// # Errors
    /// When the store fails.
    async fn append(&self, events: &[NewEvent]) -> Result<(), RepositoryError>;

    /// The resellers whose events `visibility` shows (the tenant and its accounts), or all.
    ///
    /// # Errors
    /// When the store fails.
    async fn audience(&self, visibility: Visibility) -> Result<Audience, RepositoryError>;

    /// Up to `limit` events after `after` (from the oldest kept when `None`) that `audience` sees, in commit
    /// order: the adapter MUST never return an event that sorts after one not yet visible.
    ///
    /// # Errors
    /// When the store fails.
    async fn read(&self, after: Option<u64>, limit: u64, audience: &Audience) -> Result<Read, RepositoryError>;

    /// As [`EventLog::read`], each event's `data` narrowed to `{"_type": …}` (its profile's PBX type, `null` for an
    /// event of a customer): what a follower that only routes events needs (the webhook deliverer, the checks),
    /// without a profile's whole view read and parsed for each event. By default, a whole read narrowed.
    ///
    /// # Errors
    /// When the store fails.
    async fn read_heads(&self, after: Option<u64>, limit: u64, audience: &Audience) -> Result<Read, RepositoryError> {
        Ok(match self.read(after, limit, audience).await? {
            Read::Events(events) => Read::Events(events.into_iter().map(head).collect()),
            Read::HeldBack(events) => Read::HeldBack(events.into_iter().map(head).collect()),
            other => other,
        })
    }

    /// A future that completes when an event `audience` sees is committed, on this replica or another; or when
    /// nothing was heard for the store's safety interval; or at once when the service stops. It listens from the
    /// call on (a commit between the call and its first poll is not missed) and holds no database connection.
    fn listen(&self, audience: &Audience) -> Listener;

    /// The position of the last event a reader may be handed now (committed, and not held back behind an older
    /// transaction), or of the last one purged when none is kept: a follower that starts there misses nothing
    /// committed after the call.
    ///
    /// # Errors
    /// When the store fails.
    async fn head(&self) -> Result<u64, RepositoryError>;

    /// The cursor from which a reader reads every event kept: the position of the last event purged (0 when none
    /// was). The `next` of an empty page read without a cursor.
    ///
    /// # Errors
    /// When the store fails.
    async fn kept_from(&self) -> Result<u64, RepositoryError>;

    /// Deletes the events that occurred before `before`; returns how many.
    ///
    /// # Errors
    /// When the store fails.
    async fn purge(&self, before: DateTime<Utc>) -> Result<u64, RepositoryError>;
}

/// `event` with its `data` narrowed to its `_type` (see [`EventLog::read_heads`]).
fn head(mut event: pbx_domain::events::Event) -> pbx_domain::events::Event {
    let pbx_type = event.data.as_ref().and_then(|d| d.get("_type")).cloned().unwrap_or(Value::Null);
    event.data = Some(serde_json::json!({ "_type": pbx_type }));
    event
}

/// Why no page of events.
#[derive(Debug, thiserror::Error)]
pub enum EventsError {
    /// The cursor is not one this service hands out.
    #[error("the cursor is malformed")]
    MalformedCursor,
    /// The cursor is older than what is kept.
    #[error("the cursor is older than the oldest event kept")]
    Gone,
    /// The cursor is well formed but past every cursor the feed handed out (a follower would skip events).
    #[error("the cursor is past every cursor handed out")]
    UnknownCursor,
    /// The store failed.
    #[error(transparent)]
    Storage(#[from] RepositoryError),
}

/// A cursor's form: the event's position in commit order, in decimal. Clients treat it as opaque.
///
/// # Errors
/// [`EventsError::MalformedCursor`].
pub fn parse_cursor(cursor: &str) -> Result<u64, EventsError> {
    if cursor.is_empty() || cursor.len() > 19 || !cursor.bytes().all(|b| b.is_ascii_digit()) {
        return Err(EventsError::MalformedCursor);
    }
    cursor.parse().map_err(|_| EventsError::MalformedCursor)
}

/// The longest pause between two reads while events are held back (see [`Read::HeldBack`]); a follow that has a
/// deadline waits for them this long at least, whatever its deadline.
const HELD_BACK_PAUSE: Duration = Duration::from_millis(100);
const HELD_BACK_AT_LEAST: Duration = Duration::from_secs(1);

/// What a follower's read found (see [`follow`]).
#[derive(Debug)]
pub enum Found<T> {
    /// Something to act on: the follow ends with it.
    Ready(T),
    /// Nothing new: wait for a commit the follower's audience sees.
    Nothing,
    /// Committed events wait behind an older transaction that is still running (see [`Read::HeldBack`]): read
    /// again within milliseconds. `Some` holds what was read before them, handed out once the wait for them is
    /// over (a deadline's follow waits [`HELD_BACK_AT_LEAST`] for them).
    HeldBack(Option<T>),
}

/// How a [`follow`] ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Followed<T> {
    /// A read found something.
    Read(T),
    /// The deadline passed with nothing found.
    Elapsed,
    /// The service stops.
    Stopped,
}

/// The one way to follow the feed, for every consumer of it (a long poll, the webhook deliverer, the NATS relay):
/// listen for the commits an audience sees, *then* read from the follower's place (a commit after the read still
/// wakes the wait), and when the read finds nothing, wait for such a commit — or for the store's rare safety read,
/// or the deadline — and read again; events held back behind an older transaction are read again within
/// milliseconds (1 ms, doubling to 100 ms) rather than at the next commit. No fixed-interval poll: a follower
/// with nothing new costs the store nothing until a commit it may see. `listen` is the audience's
/// [`EventLog::listen`]; `read` reads from the follower's place.
///
/// # Errors
/// The first error of `read`.
pub async fn follow<T, E, F>(
    listen: impl Fn() -> Listener,
    deadline: Option<tokio::time::Instant>,
    mut read: impl FnMut() -> F,
) -> Result<Followed<T>, E>
where
    F: Future<Output = Result<Found<T>, E>>,
{
    let started = tokio::time::Instant::now();
    // Events held back are waited for until then (forever without a deadline: a follower that never stops).
    let held_back_until = deadline.map(|d| d.max(started + HELD_BACK_AT_LEAST));
    let mut pause = Duration::from_millis(1);
    loop {
        // Listening before reading: an event committed after the read still wakes the wait below.
        let listener = listen();
        let found = read().await?;
        let now = tokio::time::Instant::now();
        match found {
            Found::Ready(value) => return Ok(Followed::Read(value)),
            Found::HeldBack(_) if held_back_until.is_none_or(|until| now < until) => {
                // Committed but not yet safe to hand out (an older transaction is still running, for milliseconds
                // as a rule): read again soon, not only at the next wake-up (a stop still answers at once).
                let until = now + pause;
                if tokio::time::timeout_at(until, listener).await == Ok(Wake::ShuttingDown) {
                    return Ok(Followed::Stopped);
                }
                tokio::time::sleep_until(until).await;
                pause = (pause * 2).min(HELD_BACK_PAUSE);
                continue;
            }
            Found::HeldBack(Some(value)) => return Ok(Followed::Read(value)),
            Found::HeldBack(None) | Found::Nothing => {}
        }
        if deadline.is_some_and(|d| now >= d) {
            return Ok(Followed::Elapsed);
        }
        pause = Duration::from_millis(1);
        let woken = match deadline {
            Some(deadline) => tokio::time::timeout_at(deadline, listener).await,
            None => Ok(listener.await),
        };
        match woken {
            // Not read again at the deadline: nothing woke the wait.
            Err(_) => return Ok(Followed::Elapsed),
            Ok(Wake::ShuttingDown) => return Ok(Followed::Stopped),
            Ok(Wake::Committed | Wake::Quiet) => {}
        }
    }
}

/// Reading the feed, and keeping it to its retention.
#[derive(Clone)]
pub struct ReadEvents {
    log: Arc<dyn EventLog>,
    clock: Arc<dyn Clock>,
}
opaque_debug!(ReadEvents);

impl ReadEvents {
    /// The use case over its port.
    #[must_use]
    pub fn new(log: Arc<dyn EventLog>, clock: Arc<dyn Clock>) -> Self {
        Self { log, clock }
    }

    /// Up to `limit` events after `after` that `visibility` shows; when there are none, waits up to `wait` for
    /// the next: it reads again only when woken by a commit its audience sees (or by the store's rare safety read),
    /// and answers an empty page at once when the service stops.
    ///
    /// # Errors
    /// [`EventsError`].
    pub async fn page(
        &self,
        after: Option<&str>,
        limit: u64,
        wait: Duration,
        visibility: Visibility,
    ) -> Result<EventPage, EventsError> {
        let after = after.map(parse_cursor).transpose()?;
        let deadline = tokio::time::Instant::now() + wait;
        let audience = self.log.audience(visibility).await?;
        // An empty page goes on from its cursor, or, without one, from the oldest event kept: a cursor the feed
        // accepts (unless events are purged past it meanwhile).
        let page = async |events: Vec<pbx_domain::events::Event>| -> Result<EventPage, EventsError> {
            let next = match (events.last(), after) {
                (Some(last), _) => last.cursor.clone(),
                (None, Some(after)) => after.to_string(),
                (None, None) => self.log.kept_from().await?.to_string(),
            };
            Ok(EventPage { data: events, next })
        };
        let audience = &audience;
        let followed = follow(
            || self.log.listen(audience),
            Some(deadline),
            move || async move {
                Ok::<_, EventsError>(match self.log.read(after, limit, audience).await? {
                    Read::Gone => return Err(EventsError::Gone),
                    Read::Ahead => return Err(EventsError::UnknownCursor),
                    Read::Events(events) if events.is_empty() => Found::Nothing,
                    Read::Events(events) => Found::Ready(events),
                    // A full page is not short of anything.
                    Read::HeldBack(events) if events.len() as u64 >= limit => Found::Ready(events),
                    Read::HeldBack(events) => Found::HeldBack((!events.is_empty()).then_some(events)),
                })
            },
        )
        .await?;
        match followed {
            Followed::Read(events) => page(events).await,
            Followed::Elapsed | Followed::Stopped => page(Vec::new()).await,
        }
    }

    /// Deletes the events older than `retention`; returns how many.
    ///
    /// # Errors
    /// When the store fails.
    pub async fn purge(&self, retention: Duration) -> Result<u64, RepositoryError> {
        let retention = chrono::Duration::from_std(retention).map_err(|e| RepositoryError::Unexpected(e.into()))?;
        self.log.purge(self.clock.now() - retention).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changed_fields_are_the_keys_whose_values_differ() {
        let before = serde_json::json!({"name": "a", "enabled": false, "gone": 1, "same": true});
        let after = serde_json::json!({"name": "b", "enabled": true, "new": 2, "same": true});
        assert_eq!(changed_fields(&before, &after), ["enabled", "gone", "name", "new"]);
    }

    #[test]
    fn cursors_are_decimal_positions() {
        assert_eq!(parse_cursor("0").unwrap(), 0);
        assert_eq!(parse_cursor("42").unwrap(), 42);
        assert_eq!(parse_cursor("9999999999999999999").unwrap(), 9_999_999_999_999_999_999, "19 digits, as documented");
        for bad in ["", "-1", "x", "1.5", "99999999999999999999999", " 1", "18446744073709551615"] {
            assert!(matches!(parse_cursor(bad), Err(EventsError::MalformedCursor)), "{bad}");
        }
    }

    /// A log that answers its reads from a script (its last answer repeats), counting them, and whose listener
    /// completes as `wake` says: at once, after 10 s for `Quiet`, never for `None`.
    struct Scripted {
        reads: std::sync::Mutex<Vec<Read>>,
        wake: Option<Wake>,
        count: std::sync::atomic::AtomicUsize,
    }

    impl Scripted {
        fn new(reads: Vec<Read>, wake: Option<Wake>) -> Arc<Self> {
            Arc::new(Self { reads: std::sync::Mutex::new(reads), wake, count: Default::default() })
        }

        fn reads(&self) -> usize {
            self.count.load(std::sync::atomic::Ordering::SeqCst)
        }
    }

    #[async_trait]
    impl EventLog for Scripted {
        async fn append(&self, _: &[NewEvent]) -> Result<(), RepositoryError> {
            Ok(())
        }
        async fn audience(&self, _: Visibility) -> Result<Audience, RepositoryError> {
            Ok(Audience::All)
        }
        async fn read(&self, _: Option<u64>, _: u64, _: &Audience) -> Result<Read, RepositoryError> {
            self.count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let mut reads = self.reads.lock().unwrap();
            Ok(if reads.len() > 1 { reads.remove(0) } else { reads[0].clone() })
        }
        fn listen(&self, _: &Audience) -> Listener {
            match self.wake {
                None => Box::pin(std::future::pending()),
                Some(Wake::Quiet) => Box::pin(async {
                    tokio::time::sleep(Duration::from_secs(10)).await;
                    Wake::Quiet
                }),
                Some(wake) => Box::pin(std::future::ready(wake)),
            }
        }
        async fn head(&self) -> Result<u64, RepositoryError> {
            Ok(5)
        }
        async fn kept_from(&self) -> Result<u64, RepositoryError> {
            Ok(5)
        }
        async fn purge(&self, _: DateTime<Utc>) -> Result<u64, RepositoryError> {
            Ok(0)
        }
    }

    fn read_events(log: Arc<Scripted>) -> ReadEvents {
        let mut clock = crate::ports::MockClock::new();
        clock.expect_now().returning(Utc::now);
        ReadEvents::new(log, Arc::new(clock))
    }

    fn event_at(cursor: &str) -> pbx_domain::events::Event {
        serde_json::from_value(serde_json::json!({
            "id": Uuid::now_v7(), "cursor": cursor, "type": "customer.created", "occurredAt": "2026-12-01T10:00:00Z",
            "resellerId": Uuid::nil(), "customerId": Uuid::nil(), "actor": {"tenantId": Uuid::nil()}, "data": null
        }))
        .unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn an_empty_page_waits_for_the_next_event_and_not_longer_than_asked() {
        let events = read_events(Scripted::new(vec![Read::Events(Vec::new())], None));
        let started = tokio::time::Instant::now();
        let page = events.page(Some("7"), 10, Duration::from_secs(3), Visibility::All).await.unwrap();
        assert!(page.data.is_empty());
        assert_eq!(page.next, "7", "an empty page resumes where it was asked");
        assert_eq!(started.elapsed(), Duration::from_secs(3));
        let at_once = events.page(None, 10, Duration::ZERO, Visibility::All).await.unwrap();
        assert_eq!(
            (at_once.next.as_str(), started.elapsed()),
            ("5", Duration::from_secs(3)),
            "without a cursor, from the oldest event kept (events up to 5 purged): never a cursor that is gone"
        );
    }

    #[tokio::test]
    async fn a_cursor_past_every_one_handed_out_is_refused() {
        let events = read_events(Scripted::new(vec![Read::Ahead], None));
        let page = events.page(Some("99"), 10, Duration::from_secs(30), Visibility::All).await;
        assert!(matches!(page, Err(EventsError::UnknownCursor)));
    }

    #[tokio::test(start_paused = true)]
    async fn a_commit_signalled_while_reading_wakes_the_wait_at_once() {
        let log =
            Scripted::new(vec![Read::Events(Vec::new()), Read::Events(vec![event_at("8")])], Some(Wake::Committed));
        let started = tokio::time::Instant::now();
        let page = read_events(log).page(Some("7"), 10, Duration::from_secs(30), Visibility::All).await.unwrap();
        assert_eq!((page.data.len(), page.next.as_str()), (1, "8"));
        assert_eq!(started.elapsed(), Duration::ZERO, "no poll interval waited");
    }

    #[tokio::test]
    async fn a_purged_cursor_is_gone() {
        let events = read_events(Scripted::new(vec![Read::Gone], None));
        let page = events.page(Some("1"), 10, Duration::ZERO, Visibility::All).await;
        assert!(matches!(page, Err(EventsError::Gone)));
    }

    #[tokio::test(start_paused = true)]
    async fn a_stopping_service_answers_a_waiting_reader_at_once_with_its_cursor() {
        let log = Scripted::new(vec![Read::Events(Vec::new())], Some(Wake::ShuttingDown));
        let started = tokio::time::Instant::now();
        let page = read_events(Arc::clone(&log)).page(Some("9"), 10, Duration::from_secs(30), Visibility::All).await;
        let page = page.unwrap();
        assert_eq!((page.data.len(), page.next.as_str()), (0, "9"));
        assert_eq!(started.elapsed(), Duration::ZERO);
        assert_eq!(log.reads(), 1, "no read after the stop");
    }

    #[tokio::test(start_paused = true)]
    async fn an_idle_reader_reads_only_at_the_safety_interval_and_not_again_at_its_deadline() {
        let log = Scripted::new(vec![Read::Events(Vec::new())], Some(Wake::Quiet));
        let started = tokio::time::Instant::now();
        let page = read_events(Arc::clone(&log)).page(None, 10, Duration::from_secs(25), Visibility::All).await;
        assert!(page.unwrap().data.is_empty());
        assert_eq!(started.elapsed(), Duration::from_secs(25));
        assert_eq!(log.reads(), 3, "at 0, 10 and 20 s");
    }

    #[tokio::test(start_paused = true)]
    async fn events_held_back_are_read_again_soon_for_a_second_at_least() {
        let log = Scripted::new(vec![Read::HeldBack(Vec::new())], Some(Wake::Committed));
        let started = tokio::time::Instant::now();
        let page = read_events(Arc::clone(&log)).page(None, 10, Duration::ZERO, Visibility::All).await;
        assert!(page.unwrap().data.is_empty());
        let waited = started.elapsed();
        assert!(waited >= HELD_BACK_AT_LEAST && waited < HELD_BACK_AT_LEAST + HELD_BACK_PAUSE, "{waited:?}");
        let reads = log.reads();
        assert!((10..=20).contains(&reads), "read again with growing pauses, not in a tight loop: {reads} reads");
    }

    #[tokio::test(start_paused = true)]
    async fn a_page_left_short_by_held_back_events_waits_for_them_briefly() {
        let log = Scripted::new(
            vec![Read::HeldBack(vec![event_at("8")]), Read::Events(vec![event_at("8"), event_at("9")])],
            None,
        );
        let started = tokio::time::Instant::now();
        let page = read_events(log).page(Some("7"), 10, Duration::ZERO, Visibility::All).await.unwrap();
        assert_eq!((page.data.len(), page.next.as_str()), (2, "9"), "the whole page, once settled");
        assert!(started.elapsed() < Duration::from_millis(10), "{:?}", started.elapsed());
    }
}
