//! The ordinary implementations of the [`Clock`] and [`IdGenerator`] ports.

use chrono::{DateTime, SubsecRound, Utc};
use uuid::Uuid;

use crate::ports::{Clock, IdGenerator};

/// The system clock, to the microsecond: the finest resolution every supported database keeps, so that what a
/// create answers is what a later read returns.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now().trunc_subsecs(6)
    }
}

/// UUIDv7 ids: unique, and ordered by creation time.
#[derive(Debug, Clone, Copy, Default)]
pub struct UuidV7Generator;

impl IdGenerator for UuidV7Generator {
    fn new_id(&self) -> Uuid {
        Uuid::now_v7()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clock_keeps_microseconds() {
        assert_eq!(SystemClock.now().timestamp_subsec_nanos() % 1_000, 0);
    }

    #[test]
    fn ids_are_version_7_and_increase() {
        let ids = UuidV7Generator;
        let (first, second) = (ids.new_id(), ids.new_id());
        assert_eq!(first.get_version_num(), 7);
        assert!(first < second);
    }
}
