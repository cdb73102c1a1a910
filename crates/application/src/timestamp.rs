//! The API's form of an instant, which the use cases need too (stored answers, events).

use chrono::{DateTime, Utc};

/// `2019-11-29T16:03:23.9251680Z`: UTC, exactly seven fractional digits (the .NET round-trip format the API uses
/// for every instant).
#[must_use]
pub fn timestamp(at: DateTime<Utc>) -> String {
    format!("{}.{:07}Z", at.format("%Y-%m-%dT%H:%M:%S"), at.timestamp_subsec_nanos() / 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_have_seven_fractional_digits() {
        let at = DateTime::from_timestamp(1_575_043_403, 925_168_000).unwrap();
        assert_eq!(timestamp(at), "2019-11-29T16:03:23.9251680Z");
        let whole = DateTime::from_timestamp(1_580_993_127, 0).unwrap();
        assert_eq!(timestamp(whole), "2020-02-06T12:45:27.0000000Z");
    }
}
