//! A .NET `TimeSpan` as the platform writes it: `[d.]hh:mm:ss[.fffffff]`.

use std::fmt;
use std::sync::LazyLock;

const TICKS_PER_SECOND: u64 = 10_000_000;
const TICKS_PER_MINUTE: u64 = 60 * TICKS_PER_SECOND;
const TICKS_PER_HOUR: u64 = 60 * TICKS_PER_MINUTE;
const TICKS_PER_DAY: u64 = 24 * TICKS_PER_HOUR;

/// Why a time span was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeSpanError {
    /// Not of the form `[d.]hh:mm:ss[.fffffff]`, or a component out of range.
    #[error("must be a time span of the form [d.]hh:mm:ss[.fffffff], such as 00:20:00")]
    Format,
    /// Zero.
    #[error("must be longer than zero")]
    NotPositive,
    /// Longer than one day.
    #[error("must be at most one day (1.00:00:00)")]
    TooLong,
}

/// A positive duration of at most one day, with the 100 ns resolution of .NET (`ticks`).
///
/// Parsed from `[d.]hh:mm:ss[.fffffff]` (hours 0–23, minutes and seconds 0–59, one or two digits each, 1 to 7
/// fractional digits) and shown normalised the way .NET's round-trip format does:
///
/// ```
/// use pbx_domain::TimeSpan;
/// assert_eq!(TimeSpan::parse("0:20:0").unwrap().to_string(), "00:20:00");
/// assert_eq!(TimeSpan::parse("00:00:01.5").unwrap().to_string(), "00:00:01.5000000");
/// assert_eq!(TimeSpan::parse("1.00:00:00").unwrap().to_string(), "1.00:00:00");
/// assert!(TimeSpan::parse("1.00:00:01").is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(try_from = "String", into = "String")
)]
pub struct TimeSpan {
    ticks: u64,
}

impl TimeSpan {
    /// The longest span allowed: one day.
    pub const MAX: Self = Self { ticks: TICKS_PER_DAY };

    /// A span of `ticks` × 100 ns.
    ///
    /// # Errors
    /// [`TimeSpanError::NotPositive`] for zero, [`TimeSpanError::TooLong`] past one day.
    pub fn from_ticks(ticks: u64) -> Result<Self, TimeSpanError> {
        match ticks {
            0 => Err(TimeSpanError::NotPositive),
            t if t > TICKS_PER_DAY => Err(TimeSpanError::TooLong),
            ticks => Ok(Self { ticks }),
        }
    }

    /// Parses `[d.]hh:mm:ss[.fffffff]`.
    ///
    /// # Errors
    /// [`TimeSpanError`] when the text is malformed, zero or longer than a day.
    pub fn parse(value: &str) -> Result<Self, TimeSpanError> {
        let mut parts = value.split(':');
        let (Some(first), Some(minutes), Some(last), None) = (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TimeSpanError::Format);
        };
        let (days, hours) = match first.split_once('.') {
            Some((days, hours)) => (number(days, 1, 8, u64::MAX)?, hours),
            None => (0, first),
        };
        let hours = number(hours, 1, 2, 23)?;
        let minutes = number(minutes, 1, 2, 59)?;
        let (seconds, fraction) = match last.split_once('.') {
            Some((seconds, fraction)) => (seconds, fraction_ticks(fraction)?),
            None => (last, 0),
        };
        let seconds = number(seconds, 1, 2, 59)?;
        let ticks = days
            .checked_mul(TICKS_PER_DAY)
            .and_then(|t| t.checked_add(hours * TICKS_PER_HOUR + minutes * TICKS_PER_MINUTE))
            .and_then(|t| t.checked_add(seconds * TICKS_PER_SECOND + fraction))
            .ok_or(TimeSpanError::TooLong)?;
        Self::from_ticks(ticks)
    }

    /// Every text [`TimeSpan::parse`] accepts, as an anchored regular expression (the OpenAPI pattern): the ranges
    /// of each component, neither zero nor past a day spelled out, since a pattern cannot add.
    #[must_use]
    pub fn pattern() -> &'static str {
        static PATTERN: LazyLock<String> = LazyLock::new(|| {
            let sixty = "[0-5]?[0-9]";
            let (zero, zero_fraction) = ("0{1,2}", "(?:\\.0{1,7})?");
            let fraction = "(?:\\.[0-9]{1,7})?";
            // 1 to 7 digits, one of them not zero: the first non-zero digit at each place.
            let some_fraction = (0..7).map(|k| format!("0{{{k}}}[1-9][0-9]{{0,{}}}", 6 - k)).collect::<Vec<_>>();
            let some_fraction = format!("\\.(?:{})", some_fraction.join("|"));
            // Less than a day and more than zero: the first component that is not zero, at each place.
            let under_a_day = [
                format!("(?:0?[1-9]|1[0-9]|2[0-3]):{sixty}:{sixty}{fraction}"),
                format!("{zero}:(?:0?[1-9]|[1-5][0-9]):{sixty}{fraction}"),
                format!("{zero}:{zero}:(?:0?[1-9]|[1-5][0-9]){fraction}"),
                format!("{zero}:{zero}:{zero}{some_fraction}"),
            ]
            .join("|");
            format!("^(?:(?:0{{1,8}}\\.)?(?:{under_a_day})|0{{0,7}}1\\.{zero}:{zero}:{zero}{zero_fraction})$")
        });
        &PATTERN
    }

    /// The span in 100 ns ticks.
    #[must_use]
    pub const fn ticks(&self) -> u64 {
        self.ticks
    }

    /// The span as a [`std::time::Duration`].
    #[must_use]
    pub const fn as_duration(&self) -> std::time::Duration {
        std::time::Duration::from_nanos(self.ticks * 100)
    }
}

/// A run of `min..=max` ASCII digits whose value is at most `limit`.
fn number(digits: &str, min: usize, max: usize, limit: u64) -> Result<u64, TimeSpanError> {
    if !(min..=max).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(TimeSpanError::Format);
    }
    digits.parse::<u64>().ok().filter(|n| *n <= limit).ok_or(TimeSpanError::Format)
}

/// 1 to 7 fractional digits, as ticks.
fn fraction_ticks(digits: &str) -> Result<u64, TimeSpanError> {
    let value = number(digits, 1, 7, u64::MAX)?;
    let scale = 10u64.pow(7 - u32::try_from(digits.len()).map_err(|_| TimeSpanError::Format)?);
    Ok(value * scale)
}

impl fmt::Display for TimeSpan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days = self.ticks / TICKS_PER_DAY;
        let hours = self.ticks % TICKS_PER_DAY / TICKS_PER_HOUR;
        let minutes = self.ticks % TICKS_PER_HOUR / TICKS_PER_MINUTE;
        let seconds = self.ticks % TICKS_PER_MINUTE / TICKS_PER_SECOND;
        let fraction = self.ticks % TICKS_PER_SECOND;
        if days > 0 {
            write!(f, "{days}.")?;
        }
        write!(f, "{hours:02}:{minutes:02}:{seconds:02}")?;
        if fraction > 0 {
            write!(f, ".{fraction:07}")?;
        }
        Ok(())
    }
}

impl TryFrom<String> for TimeSpan {
    type Error = TimeSpanError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<TimeSpan> for String {
    fn from(value: TimeSpan) -> Self {
        value.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_and_normalises() {
        let cases = [
            ("00:20:00", "00:20:00"),
            ("0:20:0", "00:20:00"),
            ("23:59:59", "23:59:59"),
            ("00:00:00.0000001", "00:00:00.0000001"),
            ("00:00:01.25", "00:00:01.2500000"),
            ("0.01:00:00", "01:00:00"),
            ("1.00:00:00", "1.00:00:00"),
        ];
        for (input, shown) in cases {
            assert_eq!(TimeSpan::parse(input).map(|t| t.to_string()), Ok(shown.to_owned()), "{input}");
        }
    }

    #[test]
    fn refuses_malformed_zero_and_too_long() {
        let cases = [
            ("", TimeSpanError::Format),
            ("20", TimeSpanError::Format),
            ("00:20", TimeSpanError::Format),
            ("00:20:00:00", TimeSpanError::Format),
            ("24:00:00", TimeSpanError::Format),
            ("00:60:00", TimeSpanError::Format),
            ("00:00:60", TimeSpanError::Format),
            ("-00:20:00", TimeSpanError::Format),
            ("+00:20:00", TimeSpanError::Format),
            ("00:20:00.", TimeSpanError::Format),
            ("00:20:00.12345678", TimeSpanError::Format),
            (" 00:20:00", TimeSpanError::Format),
            ("a0:20:00", TimeSpanError::Format),
            ("00:00:00", TimeSpanError::NotPositive),
            ("0.00:00:00.0000000", TimeSpanError::NotPositive),
            ("1.00:00:00.0000001", TimeSpanError::TooLong),
            ("2.00:00:00", TimeSpanError::TooLong),
            ("99999999.23:59:59", TimeSpanError::TooLong),
        ];
        let pattern = regex::Regex::new(TimeSpan::pattern()).unwrap();
        for (input, expected) in cases {
            assert_eq!(TimeSpan::parse(input), Err(expected), "{input:?}");
            assert!(!pattern.is_match(input), "{input:?}");
        }
    }

    #[test]
    fn the_pattern_matches_every_span_of_a_day_at_one_second_steps() {
        let pattern = regex::Regex::new(TimeSpan::pattern()).unwrap();
        for seconds in (1..=86_400u64).step_by(7) {
            let shown = TimeSpan::from_ticks(seconds * TICKS_PER_SECOND).unwrap().to_string();
            assert!(pattern.is_match(&shown), "{shown}");
            let short = format!("0.{}:{}:{}.1", seconds / 3600 % 24, seconds / 60 % 60, seconds % 60);
            assert_eq!(pattern.is_match(&short), TimeSpan::parse(&short).is_ok(), "{short}");
        }
    }

    proptest! {
        #[test]
        fn display_then_parse_round_trips(ticks in 1..=TICKS_PER_DAY) {
            let span = TimeSpan::from_ticks(ticks).unwrap();
            prop_assert_eq!(TimeSpan::parse(&span.to_string()), Ok(span));
        }

        #[test]
        fn the_pattern_matches_exactly_what_parses(s in "([0-9]{1,9}\\.)?[0-9]{1,3}:[0-9]{1,3}:[0-9]{1,3}(\\.[0-9]{0,8})?") {
            let pattern = regex::Regex::new(TimeSpan::pattern()).unwrap();
            prop_assert_eq!(pattern.is_match(&s), TimeSpan::parse(&s).is_ok(), "{}", s);
        }

        #[test]
        fn parse_never_panics(s in "[0-9.:]{0,24}|.*") {
            let _ = TimeSpan::parse(&s);
        }
    }
}
