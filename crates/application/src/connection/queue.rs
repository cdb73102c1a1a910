//! The checks the service starts by itself (after a create or a change, periodically), waiting for one of a few
//! workers: each profile queued once however often it is asked for (coalesced), oldest first. Requests never wait
//! here; a burst of creates queues its checks, and the workers take them at their pace, so that checking never
//! takes the database from the API.

use std::collections::{HashSet, VecDeque};
use std::sync::{Mutex, PoisonError};

use pbx_domain::PbxId;
use tokio::sync::Notify;

use super::Due;

/// Profiles waiting for a check.
#[derive(Debug, Default)]
pub(super) struct Queue {
    waiting: Mutex<(VecDeque<Due>, HashSet<PbxId>)>,
    pushed: Notify,
}

impl Queue {
    /// Queues `due` unless its profile waits already.
    pub(super) fn push(&self, due: Due) {
        let mut waiting = self.waiting.lock().unwrap_or_else(PoisonError::into_inner);
        if waiting.1.insert(due.pbx_id) {
            waiting.0.push_back(due);
            drop(waiting);
            self.pushed.notify_one();
        }
    }

    /// The oldest profile waiting, once there is one.
    pub(super) async fn pop(&self) -> Due {
        loop {
            let notified = self.pushed.notified();
            {
                let mut waiting = self.waiting.lock().unwrap_or_else(PoisonError::into_inner);
                if let Some(due) = waiting.0.pop_front() {
                    waiting.1.remove(&due.pbx_id);
                    return due;
                }
            }
            notified.await;
        }
    }

    /// How many profiles wait.
    pub(super) fn len(&self) -> usize {
        self.waiting.lock().unwrap_or_else(PoisonError::into_inner).0.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pbx_domain::{CustomerId, ResellerId};
    use uuid::Uuid;

    fn due(n: u128) -> Due {
        Due {
            pbx_id: PbxId::from_uuid(Uuid::from_u128(n)),
            customer_id: CustomerId::from_uuid(Uuid::nil()),
            reseller_id: ResellerId::from_uuid(Uuid::nil()),
        }
    }

    #[tokio::test]
    async fn a_profile_waits_once_and_the_oldest_goes_first() {
        let queue = Queue::default();
        for n in [1, 2, 1, 3, 2] {
            queue.push(due(n));
        }
        assert_eq!(queue.len(), 3);
        for n in [1, 2, 3] {
            assert_eq!(queue.pop().await, due(n));
        }
        queue.push(due(1));
        assert_eq!(queue.pop().await, due(1), "queued again once taken");
    }

    #[tokio::test]
    async fn a_worker_waits_for_a_push() {
        let queue = std::sync::Arc::new(Queue::default());
        let worker = tokio::spawn({
            let queue = std::sync::Arc::clone(&queue);
            async move { queue.pop().await }
        });
        tokio::task::yield_now().await;
        queue.push(due(7));
        assert_eq!(worker.await.unwrap(), due(7));
    }
}
