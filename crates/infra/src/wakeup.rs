//! Waking the feed's waiting readers, and only those that may see what was committed.
//!
//! Each waiting reader has a mailbox (a [`Notify`]) filed under every reseller its audience sees, or with the
//! collectors (every tenant's events). A commit of events rings the mailboxes filed under their resellers and the
//! collectors' — nobody else reads the database again. On PostgreSQL the commit is also told to the other
//! replicas: one `pg_notify` (channel `pbx_events`) carries the resellers of the commits of a few milliseconds, and
//! each replica's one `LISTEN` connection rings its own readers' mailboxes. MySQL/MariaDB has no such channel:
//! there, a waiting reader reads again every second to see other replicas' events. On stop, every mailbox is rung
//! and every reader answers at once.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use pbx_application::events::{Audience, Listener, NewEvent, Wake};
use pbx_domain::ResellerId;
use sea_orm::sqlx::postgres::{PgListener, PgPool, PgPoolOptions};
use sea_orm::sqlx::{self};
use tokio::sync::{Notify, mpsc};
use uuid::Uuid;

/// The PostgreSQL channel commits are told on.
const CHANNEL: &str = "pbx_events";
/// The shortest time between two notifications a replica sends: the commits in between go together.
const NOTIFY_EVERY: Duration = Duration::from_millis(5);
/// A notification's payload stays under PostgreSQL's 8000 bytes.
const PAYLOAD: usize = 7900;

#[derive(Default)]
struct Mailboxes {
    next: u64,
    collectors: HashMap<u64, Arc<Notify>>,
    by_reseller: HashMap<ResellerId, HashMap<u64, Arc<Notify>>>,
}

struct Inner {
    mailboxes: Mutex<Mailboxes>,
    stopping: AtomicBool,
    /// How long a waiting reader goes without a read when nothing is signalled.
    quiet: Duration,
    /// This replica, in its notifications (its own are not rung twice).
    replica: Uuid,
    /// PostgreSQL: the resellers of this replica's commits, for the notifier.
    outgoing: Option<mpsc::UnboundedSender<Vec<ResellerId>>>,
    /// Mailboxes rung, for the tests.
    rung: AtomicU64,
}

/// The waiting readers of this replica.
#[derive(Clone)]
pub(crate) struct Wakeups(Arc<Inner>);

impl std::fmt::Debug for Wakeups {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Wakeups").field("quiet", &self.0.quiet).finish_non_exhaustive()
    }
}

/// A reader's mailbox, filed until dropped.
struct Filed {
    wakeups: Wakeups,
    id: u64,
    resellers: Option<Vec<ResellerId>>,
}

impl Drop for Filed {
    fn drop(&mut self) {
        let mut boxes = self.wakeups.0.mailboxes.lock().unwrap_or_else(PoisonError::into_inner);
        match &self.resellers {
            None => {
                boxes.collectors.remove(&self.id);
            }
            Some(resellers) => {
                for reseller in resellers {
                    if let Some(filed) = boxes.by_reseller.get_mut(reseller) {
                        filed.remove(&self.id);
                        if filed.is_empty() {
                            boxes.by_reseller.remove(reseller);
                        }
                    }
                }
            }
        }
    }
}

impl Wakeups {
    /// Readers that, when nothing is signalled, read again after `quiet`; with `pool` (PostgreSQL), commits are told
    /// to the other replicas and heard from them (the notifier and the listener start on the current runtime).
    pub(crate) fn new(quiet: Duration, pool: Option<PgPool>) -> Self {
        let (outgoing, receiver) = match pool {
            Some(_) => {
                let (sender, receiver) = mpsc::unbounded_channel();
                (Some(sender), Some(receiver))
            }
            None => (None, None),
        };
        let wakeups = Self(Arc::new(Inner {
            mailboxes: Mutex::default(),
            stopping: AtomicBool::new(false),
            quiet,
            replica: Uuid::now_v7(),
            outgoing,
            rung: AtomicU64::new(0),
        }));
        if let (Some(pool), Some(receiver)) = (pool, receiver) {
            tokio::spawn(notify(pool.clone(), wakeups.0.replica, receiver));
            tokio::spawn(listen(pool, wakeups.clone()));
        }
        wakeups
    }

    /// A listener for a reader of `audience` (see [`pbx_application::EventLog::listen`]).
    pub(crate) fn listen(&self, audience: &Audience) -> Listener {
        let mailbox = Arc::new(Notify::new());
        let resellers = match audience {
            Audience::All => None,
            Audience::Resellers(resellers) => Some(resellers.clone()),
        };
        let filed = {
            let mut boxes = self.0.mailboxes.lock().unwrap_or_else(PoisonError::into_inner);
            boxes.next += 1;
            let id = boxes.next;
            match &resellers {
                None => {
                    boxes.collectors.insert(id, Arc::clone(&mailbox));
                }
                Some(resellers) => {
                    for reseller in resellers {
                        boxes.by_reseller.entry(*reseller).or_default().insert(id, Arc::clone(&mailbox));
                    }
                }
            }
            Filed { wakeups: self.clone(), id, resellers }
        };
        let quiet = self.0.quiet;
        Box::pin(async move {
            // Filed before the first poll: a ring in between leaves its permit in the mailbox.
            let filed = filed;
            if filed.wakeups.0.stopping.load(Ordering::SeqCst) {
                return Wake::ShuttingDown;
            }
            let wake = match tokio::time::timeout(quiet, mailbox.notified()).await {
                Ok(()) => Wake::Committed,
                Err(_) => Wake::Quiet,
            };
            if filed.wakeups.0.stopping.load(Ordering::SeqCst) { Wake::ShuttingDown } else { wake }
        })
    }

    /// Events were committed on this replica: ring their readers, and tell the other replicas.
    pub(crate) fn committed(&self, events: &[NewEvent]) {
        if events.is_empty() {
            return;
        }
        let resellers: Vec<ResellerId> =
            events.iter().map(|e| e.reseller_id).collect::<HashSet<_>>().into_iter().collect();
        self.ring(&resellers);
        if let Some(outgoing) = &self.0.outgoing {
            let _ = outgoing.send(resellers); // the notifier stops only with the process
        }
    }

    /// Rings the mailboxes of readers who see `resellers`' events, and the collectors'.
    fn ring(&self, resellers: &[ResellerId]) {
        let boxes = self.0.mailboxes.lock().unwrap_or_else(PoisonError::into_inner);
        let mut rung = 0;
        for mailbox in resellers.iter().filter_map(|r| boxes.by_reseller.get(r)).flat_map(HashMap::values) {
            mailbox.notify_one();
            rung += 1;
        }
        for mailbox in boxes.collectors.values() {
            mailbox.notify_one();
            rung += 1;
        }
        self.0.rung.fetch_add(rung, Ordering::Relaxed);
    }

    /// Rings every mailbox (a notification may have been missed, or the service stops).
    fn ring_all(&self) {
        let boxes = self.0.mailboxes.lock().unwrap_or_else(PoisonError::into_inner);
        boxes.collectors.values().chain(boxes.by_reseller.values().flat_map(HashMap::values)).for_each(|m| {
            m.notify_one();
        });
    }

    /// The service stops: every waiting reader answers now, and a reader that starts waiting answers at once.
    pub(crate) fn stop(&self) {
        self.0.stopping.store(true, Ordering::SeqCst);
        self.ring_all();
    }

    /// How many mailboxes have been rung so far.
    #[cfg(test)]
    fn rung(&self) -> u64 {
        self.0.rung.load(Ordering::Relaxed)
    }

    /// Readers waiting now.
    #[cfg(test)]
    fn waiting(&self) -> usize {
        let boxes = self.0.mailboxes.lock().unwrap_or_else(PoisonError::into_inner);
        let filed: HashSet<u64> = boxes.by_reseller.values().flat_map(HashMap::keys).copied().collect();
        boxes.collectors.len() + filed.len()
    }
}

/// PostgreSQL: sends the resellers of this replica's commits to the other replicas, those of a few milliseconds
/// in one notification (each a transaction of its own, outside the writes).
async fn notify(pool: PgPool, replica: Uuid, mut commits: mpsc::UnboundedReceiver<Vec<ResellerId>>) {
    while let Some(first) = commits.recv().await {
        let mut resellers: HashSet<ResellerId> = first.into_iter().collect();
        while let Ok(more) = commits.try_recv() {
            resellers.extend(more);
        }
        for payload in payloads(replica, resellers) {
            if let Err(e) = sqlx::query("SELECT pg_notify($1, $2)").bind(CHANNEL).bind(payload).execute(&pool).await {
                tracing::warn!(error = %e, "a commit could not be told to the other replicas (they see it at their next safety read)");
            }
        }
        tokio::time::sleep(NOTIFY_EVERY).await;
    }
}

/// The payloads telling `resellers`: `<replica> <reseller> <reseller> …`, each under PostgreSQL's limit.
fn payloads(replica: Uuid, resellers: HashSet<ResellerId>) -> Vec<String> {
    let mut payloads = Vec::new();
    let mut current = replica.to_string();
    for reseller in resellers {
        if current.len() + 37 > PAYLOAD {
            payloads.push(std::mem::replace(&mut current, replica.to_string()));
        }
        current.push(' ');
        current.push_str(&reseller.to_string());
    }
    payloads.push(current);
    payloads
}

/// PostgreSQL: rings this replica's readers for the commits other replicas tell; reconnects after a failure, and
/// then rings everyone (a notification may have gone by unheard).
async fn listen(pool: PgPool, wakeups: Wakeups) {
    // A connection of its own, outside the service's pool (whose size is the requests').
    let own = PgPoolOptions::new().max_connections(1).connect_lazy_with((*pool.connect_options()).clone());
    let mut pause = Duration::from_millis(200);
    loop {
        let listening = async {
            let mut listener = PgListener::connect_with(&own).await?;
            listener.listen(CHANNEL).await?;
            wakeups.ring_all();
            loop {
                let notification = listener.recv().await?;
                let mut words = notification.payload().split(' ');
                if words.next() == Some(wakeups.0.replica.to_string().as_str()) {
                    continue;
                }
                let resellers: Vec<ResellerId> =
                    words.filter_map(|w| Uuid::parse_str(w).ok()).map(ResellerId::from_uuid).collect();
                wakeups.ring(&resellers);
            }
            #[allow(unreachable_code)]
            Ok::<(), sqlx::Error>(())
        };
        if let Err(e) = listening.await {
            if pool.is_closed() {
                own.close().await;
                return;
            }
            tracing::warn!(error = %e, retry_in = ?pause, "listening for other replicas' commits failed; again soon");
        }
        wakeups.ring_all();
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(5));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reseller(n: u128) -> ResellerId {
        ResellerId::from_uuid(Uuid::from_u128(n))
    }

    fn event_of(reseller: ResellerId) -> NewEvent {
        NewEvent {
            id: Uuid::now_v7(),
            event_type: pbx_domain::events::EventType::CustomerCreated,
            occurred_at: chrono::Utc::now(),
            reseller_id: reseller,
            customer_id: pbx_domain::CustomerId::from_uuid(Uuid::nil()),
            pbx_id: None,
            actor: pbx_domain::events::Actor { reseller_id: Uuid::nil(), subject: None },
            changed: None,
            data: None,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_commit_wakes_the_readers_who_see_it_and_no_other() {
        let wakeups = Wakeups::new(Duration::from_secs(10), None);
        let mine = wakeups.listen(&Audience::Resellers(vec![reseller(1), reseller(2)]));
        let theirs = wakeups.listen(&Audience::Resellers(vec![reseller(3)]));
        let collector = wakeups.listen(&Audience::All);
        assert_eq!(wakeups.waiting(), 3);
        wakeups.committed(&[event_of(reseller(2))]); // before anyone polls: kept in the mailboxes
        assert_eq!(mine.await, Wake::Committed);
        assert_eq!(collector.await, Wake::Committed);
        assert_eq!(theirs.await, Wake::Quiet, "another reseller's commit rang nothing");
        assert_eq!(wakeups.rung(), 2);
        assert_eq!(wakeups.waiting(), 0, "mailboxes are taken back with their listeners");
    }

    #[tokio::test(start_paused = true)]
    async fn stopping_answers_waiting_readers_and_later_ones_at_once() {
        let wakeups = Wakeups::new(Duration::from_secs(10), None);
        let waiting = wakeups.listen(&Audience::All);
        wakeups.stop();
        assert_eq!(waiting.await, Wake::ShuttingDown);
        assert_eq!(wakeups.listen(&Audience::Resellers(vec![reseller(1)])).await, Wake::ShuttingDown);
    }

    #[test]
    fn payloads_stay_under_the_limit_and_name_the_replica_first() {
        let replica = Uuid::now_v7();
        let payloads = payloads(replica, (0..500).map(reseller).collect());
        assert!(payloads.len() > 1);
        let named: usize = payloads.iter().map(|p| p.split(' ').count() - 1).sum();
        assert_eq!(named, 500);
        assert!(payloads.iter().all(|p| p.len() <= PAYLOAD && p.starts_with(&replica.to_string())));
    }
}
