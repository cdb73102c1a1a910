//! When the service checks by itself, and how many checks run at once.

use std::time::Duration;

use chrono::TimeDelta;

/// The longest a failing profile waits for its next periodic check.
const LONGEST: TimeDelta = TimeDelta::days(1);

/// The checks' settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    /// Whether the service checks by itself (after a create or a change, periodically); the check routes work
    /// either way (`--pbx-checks`).
    pub automatic: bool,
    /// The periodic checks' interval (`--check-interval`, 6 h): doubled for each failed check in a row, up to a
    /// day, and jittered by ±10 %.
    pub interval: TimeDelta,
    /// When a collector's report counts as stale (`--collector-stale-after`, 15 min).
    pub collector_stale_after: TimeDelta,
    /// The workers of the checks the service starts by itself: as many run at once, at most (requests have their
    /// own bound).
    pub concurrency: usize,
}

impl Default for Schedule {
    fn default() -> Self {
        Self {
            automatic: true,
            interval: TimeDelta::hours(6),
            collector_stale_after: TimeDelta::minutes(15),
            concurrency: 4,
        }
    }
}

impl Schedule {
    /// The wait before the next periodic check after `failures` failed ones in a row.
    #[must_use]
    pub fn next_after(&self, failures: u32) -> TimeDelta {
        // Doubled per failure, never past a day (nor below the interval, when that is longer).
        let longest = LONGEST.max(self.interval);
        let base = (0..failures.min(16)).fold(self.interval, |wait, _| (wait * 2).min(longest));
        let mut random = [0_u8; 2];
        // Without randomness the jitter is none: the schedule still holds.
        let _ = getrandom::getrandom(&mut random);
        let permille = i32::from(u16::from_le_bytes(random) % 201) - 100;
        base + base * permille / 1000
    }

    /// How often the periodic checks look for profiles due: a tenth of the interval, between 1 s and 1 min.
    #[must_use]
    pub fn tick(&self) -> Duration {
        (self.interval / 10).to_std().unwrap_or_default().clamp(Duration::from_secs(1), Duration::from_secs(60))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_double_the_wait_up_to_a_day_jittered() {
        let schedule = Schedule::default();
        for _ in 0..50 {
            let first = schedule.next_after(0);
            assert!(first >= TimeDelta::minutes(324) && first <= TimeDelta::minutes(396), "{first}");
            let second = schedule.next_after(1);
            assert!(second >= TimeDelta::minutes(648) && second <= TimeDelta::minutes(792), "{second}");
            let many = schedule.next_after(30);
            assert!(many >= TimeDelta::hours(21) && many <= TimeDelta::minutes(1584), "{many}");
        }
        assert_eq!(schedule.tick(), Duration::from_secs(60));
    }
}
