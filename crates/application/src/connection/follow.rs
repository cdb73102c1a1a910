//! The checks that follow the feed: a profile created, or whose connection fields a change touched, is checked at
//! once — by one replica (the lease decides; the others leave it), on a task of its own, never awaited by the
//! request that made the change.

use std::sync::Arc;
use std::time::Duration;

use pbx_domain::PbxType;
use pbx_domain::events::{Event, EventType};

use super::{Checks, Due};
use crate::events::{Audience, EventLog, Followed, Found, Read, follow, parse_cursor};
use crate::ports::RepositoryError;
use pbx_domain::{CustomerId, PbxId, ResellerId};

/// Events read from the feed at a time.
const PAGE: u64 = 1000;

/// After a page that was not full, the pause before the next read: a burst of commits (a bulk import, thousands of
/// creates a second) is then read a page at a time instead of once per commit — read once per commit, the feed
/// took a quarter of a burst's throughput (docs/performance.md, run 21) — and a check still starts within a tenth of
/// a second of its change.
const GATHER: Duration = Duration::from_millis(100);

impl Checks {
    /// Follows the whole feed from its head until the service stops (woken by commits, no fixed-interval poll),
    /// and checks the profiles that [`needs_check`] names.
    pub async fn follow(self, log: Arc<dyn EventLog>) {
        let mut place = loop {
            match log.head().await {
                Ok(head) => break head,
                Err(e) => tracing::warn!(error = %e, "the feed's head could not be read for checks; trying again"),
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        };
        loop {
            let from = place;
            match follow(|| log.listen(&Audience::All), None, || to_check_after(log.as_ref(), from)).await {
                Ok(Followed::Read((due, to, full))) => {
                    place = to;
                    due.into_iter().for_each(|due| self.start(due));
                    if !full {
                        tokio::time::sleep(GATHER).await;
                    }
                }
                Ok(Followed::Elapsed) => {}
                Ok(Followed::Stopped) => return,
                Err(e) => {
                    tracing::warn!(error = %e, "the feed could not be read for checks; trying again");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    }
}

/// Whether `event` asks for a check of its profile: a create, or a change naming a connection field of the
/// profile's type (or the type itself), of a type the service checks.
#[must_use]
pub fn needs_check(event: &Event) -> bool {
    let Some(pbx_type) = event.data.as_ref().and_then(|d| d.get("_type")).and_then(|t| t.as_str()) else {
        return false;
    };
    let Ok(pbx_type) = PbxType::parse(pbx_type) else { return false };
    if !pbx_type.checkable() {
        return false;
    }
    match event.event_type {
        EventType::PbxCreated => true,
        EventType::PbxUpdated | EventType::PbxEnabled | EventType::PbxDisabled => {
            event.changed.as_deref().is_some_and(|changed| pbx_type.connection_changed(changed))
        }
        _ => false,
    }
}

/// The profiles to check among the events after `place`, the place after them, and whether the page was full.
async fn to_check_after(log: &dyn EventLog, place: u64) -> Result<Found<(Vec<Due>, u64, bool)>, RepositoryError> {
    let (events, held_back) = match log.read_heads(Some(place), PAGE, &Audience::All).await? {
        Read::Events(events) => (events, false),
        Read::HeldBack(events) => (events, true),
        // Purged past the place: the periodic checks find what was missed.
        Read::Gone => return Ok(Found::Ready((Vec::new(), log.kept_from().await?, true))),
        Read::Ahead => return Ok(Found::Nothing),
    };
    let Some(last) = events.last() else {
        return Ok(if held_back { Found::HeldBack(None) } else { Found::Nothing });
    };
    let place = parse_cursor(&last.cursor)
        .map_err(|e| RepositoryError::Unexpected(anyhow::anyhow!("an event's cursor: {e}")))?;
    let mut due: Vec<Due> = events
        .iter()
        .filter(|e| needs_check(e))
        .filter_map(|e| {
            Some(Due {
                pbx_id: PbxId::from_uuid(e.pbx_id?),
                customer_id: CustomerId::from_uuid(e.customer_id),
                reseller_id: ResellerId::from_uuid(e.reseller_id),
            })
        })
        .collect();
    // A profile created and changed in one page is checked once.
    due.sort_unstable_by_key(|d| d.pbx_id.as_uuid());
    due.dedup_by_key(|d| d.pbx_id.as_uuid());
    let full = events.len() as u64 >= PAGE;
    Ok(Found::Ready((due, place, full)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(event_type: EventType, changed: Option<&[&str]>, pbx_type: &str) -> Event {
        Event {
            id: uuid::Uuid::nil(),
            cursor: "1".to_owned(),
            event_type,
            occurred_at: chrono::DateTime::UNIX_EPOCH,
            reseller_id: uuid::Uuid::nil(),
            customer_id: uuid::Uuid::nil(),
            pbx_id: Some(uuid::Uuid::nil()),
            actor: pbx_domain::events::Actor { reseller_id: uuid::Uuid::nil(), subject: None },
            changed: changed.map(|c| c.iter().map(|f| (*f).to_owned()).collect()),
            data: Some(json!({"_type": pbx_type})),
        }
    }

    /// A feed of 3CX creates (never checked: no check starts) whose commits wake its followers at once: its first
    /// `full` reads find a full page, the others 3 events; it notes when it is read.
    struct Busy {
        full: usize,
        reads: std::sync::Mutex<Vec<tokio::time::Instant>>,
    }

    #[async_trait::async_trait]
    impl EventLog for Busy {
        async fn append(&self, _: &[crate::NewEvent]) -> Result<(), RepositoryError> {
            Ok(())
        }
        async fn audience(&self, _: crate::Visibility) -> Result<Audience, RepositoryError> {
            Ok(Audience::All)
        }
        async fn read(&self, after: Option<u64>, _: u64, _: &Audience) -> Result<Read, RepositoryError> {
            tokio::task::yield_now().await;
            let (per_read, count) = {
                let mut reads = self.reads.lock().unwrap();
                reads.push(tokio::time::Instant::now());
                (if reads.len() <= self.full { PAGE } else { 3 }, reads.len())
            };
            if count > 1000 {
                // A follower that never waits would never let the clock move: stopped here, the test fails.
                std::future::pending::<()>().await;
            }
            let from = after.unwrap_or(0);
            let events = (1..=per_read)
                .map(|n| Event {
                    cursor: (from + n).to_string(),
                    ..event(EventType::PbxCreated, None, "ThreeCxConnectionProfile")
                })
                .collect();
            Ok(Read::Events(events))
        }
        fn listen(&self, _: &Audience) -> crate::Listener {
            Box::pin(std::future::ready(crate::Wake::Committed))
        }
        async fn head(&self) -> Result<u64, RepositoryError> {
            Ok(0)
        }
        async fn kept_from(&self) -> Result<u64, RepositoryError> {
            Ok(0)
        }
        async fn purge(&self, _: chrono::DateTime<chrono::Utc>) -> Result<u64, RepositoryError> {
            Ok(0)
        }
    }

    /// The instants at which a follower read the feed during one second of commits all the time, the first `full`
    /// reads finding full pages.
    async fn reads_in_a_second(full: usize) -> Vec<tokio::time::Instant> {
        let log = Arc::new(Busy { full, reads: std::sync::Mutex::default() });
        let checks = crate::connection::tests::checks(crate::connection::MockProber::new());
        let follower = tokio::spawn(checks.follow(log.clone()));
        tokio::time::sleep(Duration::from_secs(1)).await;
        follower.abort();
        log.reads.lock().unwrap().clone()
    }

    #[tokio::test(start_paused = true)]
    async fn a_burst_of_commits_is_read_a_page_at_a_time() {
        let reads = reads_in_a_second(0).await;
        assert!((9..=11).contains(&reads.len()), "one read per {GATHER:?}: {}", reads.len());
        assert!(reads.windows(2).all(|w| w[1] - w[0] >= GATHER), "pages that are not full wait to gather more");
        // Behind (full pages): read again at once, then as before.
        let reads = reads_in_a_second(5).await;
        assert!(reads[..6].windows(2).all(|w| w[1] == w[0]), "a follower behind catches up without waiting");
        assert!(reads[5..].windows(2).all(|w| w[1] - w[0] >= GATHER));
    }

    #[test]
    fn a_change_of_any_connection_field_of_every_checkable_type_is_checked() {
        for &pbx_type in PbxType::ALL.iter().filter(|t| t.checkable()) {
            for &field in pbx_type.connection_fields() {
                let changed = event(EventType::PbxUpdated, Some(&[field]), pbx_type.as_str());
                assert!(needs_check(&changed), "{field} of {pbx_type:?}");
            }
        }
    }

    #[test]
    fn creates_and_changes_of_connection_fields_of_checkable_types_are_checked() {
        let kazoo = "KazooPbxConnectionProfile";
        assert!(needs_check(&event(EventType::PbxCreated, None, kazoo)));
        assert!(needs_check(&event(EventType::PbxUpdated, Some(&["apiKey"]), kazoo)));
        assert!(needs_check(&event(EventType::PbxEnabled, Some(&["enabled", "hostRest"]), kazoo)));
        assert!(!needs_check(&event(EventType::PbxUpdated, Some(&["name"]), kazoo)), "a rename");
        assert!(!needs_check(&event(EventType::PbxEnabled, Some(&["enabled"]), kazoo)));
        assert!(!needs_check(&event(EventType::PbxCreated, None, "ThreeCxConnectionProfile")), "not checkable");
        assert!(!needs_check(&event(EventType::PbxConnectionChanged, Some(&["connection"]), kazoo)), "no loop");
        assert!(!needs_check(&event(EventType::PbxDeleted, None, kazoo)));
    }
}
