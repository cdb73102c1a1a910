//! IANA time zone names.

use std::fmt;
use std::str::FromStr;

/// Not a name in the IANA time zone database.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be an IANA time zone name, such as UTC or America/New_York")]
pub struct TimezoneError;

/// A time zone of the IANA database (`"Europe/Paris"`), held by its canonical spelling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(try_from = "String", into = "String")
)]
pub struct Timezone(chrono_tz::Tz);

impl Timezone {
    /// UTC, the default of a customer created without a time zone.
    pub const UTC: Self = Self(chrono_tz::Tz::UTC);

    /// Looks up an IANA name (exact spelling).
    ///
    /// # Errors
    /// [`TimezoneError`] when `value` is not in the database.
    pub fn parse(value: &str) -> Result<Self, TimezoneError> {
        chrono_tz::Tz::from_str(value).map(Self).map_err(|_| TimezoneError)
    }

    /// Every name [`Timezone::parse`] accepts, links included (`US/Eastern`).
    pub fn names() -> impl Iterator<Item = &'static str> {
        chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name())
    }

    /// The IANA name.
    #[must_use]
    pub fn name(&self) -> &'static str {
        self.0.name()
    }
}

impl Default for Timezone {
    fn default() -> Self {
        Self::UTC
    }
}

impl fmt::Display for Timezone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl TryFrom<String> for Timezone {
    type Error = TimezoneError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Timezone> for String {
    fn from(value: Timezone) -> Self {
        value.name().to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_names_parse_and_unknown_ones_do_not() {
        for name in ["UTC", "Europe/Paris", "America/New_York", "Asia/Kolkata"] {
            assert_eq!(Timezone::parse(name).unwrap().name(), name);
        }
        for name in ["", "Mars/Olympus", "europe paris", "+02:00"] {
            assert_eq!(Timezone::parse(name), Err(TimezoneError), "{name:?}");
        }
    }

    #[test]
    fn every_listed_name_parses_as_itself() {
        let mut count = 0;
        for name in Timezone::names() {
            assert_eq!(Timezone::parse(name).map(|tz| tz.name()), Ok(name));
            count += 1;
        }
        assert!(count > 400, "{count} names");
        assert!(Timezone::names().any(|name| name == "UTC"));
    }
}
