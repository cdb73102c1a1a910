//! 3CX: a licensed 3CX system, reached with a user's credentials; it can archive call recordings.

use super::Credentials;
use crate::text::bounded_text;
use crate::{Secret, TimeSpan};

bounded_text!(
    /// A 3CX licence key: 1 to 64 visible characters. It identifies the PBX instance.
    LicenseKey,
    visible,
    64
);

bounded_text!(
    /// The 3CX user the platform signs in as: 1 to 256 characters after trimming, no control characters.
    Username,
    bounded,
    256
);

/// Whether recordings are archived, and how often. Archiving needs a frequency; a frequency without archiving
/// is kept for when archiving is turned on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordingArchive {
    /// Recordings are not archived.
    Disabled {
        /// The frequency to use once archiving is enabled, if one was given.
        frequency: Option<TimeSpan>,
    },
    /// Recordings are archived every `frequency`.
    Enabled {
        /// How often the archive runs (positive, at most a day).
        frequency: TimeSpan,
    },
}

/// Archiving was asked for without a frequency.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("is required when enableRecordingArchive is true")]
pub struct FrequencyRequired;

impl RecordingArchive {
    /// Combines the two fields of the API.
    ///
    /// # Errors
    /// [`FrequencyRequired`] when `enabled` is true and there is no frequency.
    pub fn new(enabled: bool, frequency: Option<TimeSpan>) -> Result<Self, FrequencyRequired> {
        match (enabled, frequency) {
            (true, Some(frequency)) => Ok(Self::Enabled { frequency }),
            (true, None) => Err(FrequencyRequired),
            (false, frequency) => Ok(Self::Disabled { frequency }),
        }
    }

    /// Whether recordings are archived.
    #[must_use]
    pub const fn is_enabled(&self) -> bool {
        matches!(self, Self::Enabled { .. })
    }

    /// The frequency, if any.
    #[must_use]
    pub const fn frequency(&self) -> Option<TimeSpan> {
        match *self {
            Self::Enabled { frequency } => Some(frequency),
            Self::Disabled { frequency } => frequency,
        }
    }
}

impl Default for RecordingArchive {
    fn default() -> Self {
        Self::Disabled { frequency: None }
    }
}

/// How to reach a 3CX system; `S` is [`Secret`], or [`Withheld`](crate::Withheld) when read without secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreeCxConnection<S = Secret> {
    /// The licence, unique across the system.
    pub license_key: LicenseKey,
    /// The user to sign in as.
    pub username: Username,
    /// That user's password.
    pub password: S,
    /// Recording archive settings.
    pub recording_archive: RecordingArchive,
}

impl<S> ThreeCxConnection<S> {
    /// The same connection with its password mapped by `f` (withheld, say).
    pub fn map_secrets<T>(self, f: impl FnOnce(S) -> T) -> ThreeCxConnection<T> {
        let Self { license_key, username, password, recording_archive } = self;
        ThreeCxConnection { license_key, username, password: f(password), recording_archive }
    }

    /// The PBX instance: the licence key.
    #[must_use]
    pub fn instance(&self) -> &str {
        self.license_key.as_str()
    }

    /// The password (the API's field name) when `after` sends it for another licence or user, with the fields
    /// that move it.
    #[must_use]
    pub fn moved_secret<T>(&self, after: &ThreeCxConnection<T>) -> Option<(&'static str, &'static str)> {
        (self.license_key != after.license_key || self.username != after.username)
            .then_some(("password", "licenseKey or username"))
    }

    /// The fields (the API's names) whose values differ in `after`, the password aside.
    #[must_use]
    pub fn differences<T>(&self, after: &ThreeCxConnection<T>) -> Vec<&'static str> {
        let (archive, archive_after) = (self.recording_archive, after.recording_archive);
        super::differing([
            ("licenseKey", self.license_key != after.license_key),
            ("username", self.username != after.username),
            ("enableRecordingArchive", archive.is_enabled() != archive_after.is_enabled()),
            ("recordingArchiveFrequency", archive.frequency() != archive_after.frequency()),
        ])
    }
}

impl ThreeCxConnection {
    /// What a collector needs: the licence key, the user name and the password.
    #[must_use]
    pub fn credentials(&self) -> Credentials {
        Credentials {
            license_key: Some(self.license_key.as_str().to_owned()),
            username: Some(self.username.as_str().to_owned()),
            password: Some(self.password.expose().to_owned()),
            ..Credentials::default()
        }
    }

    /// An example connection, archiving every 20 minutes.
    ///
    /// # Panics
    /// Never: its values are valid.
    #[must_use]
    #[allow(clippy::expect_used)] // constant values, tested
    pub fn example() -> Self {
        let frequency = TimeSpan::parse("00:20:00").ok();
        Self {
            license_key: LicenseKey::parse("LIC-1").expect("a licence key"),
            username: Username::parse("admin").expect("a user name"),
            password: Secret::parse("pa55word").expect("a password"),
            recording_archive: RecordingArchive::new(true, frequency).expect("a frequency"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_licence_key_is_the_instance_id_and_the_password_follows_it() {
        let before = ThreeCxConnection::example();
        assert_eq!(crate::PbxConnection::from(before.clone()).instance_id().value(), "LIC-1");
        let renamed = ThreeCxConnection { username: Username::parse("other").unwrap(), ..before.clone() };
        assert_eq!(before.moved_secret(&renamed), Some(("password", "licenseKey or username")));
        assert_eq!(before.moved_secret(&before), None);
        assert_eq!(before.credentials().password.as_deref(), Some("pa55word"));
    }

    #[test]
    fn archiving_needs_a_frequency() {
        let twenty_minutes = TimeSpan::parse("00:20:00").ok();
        assert_eq!(
            RecordingArchive::new(true, twenty_minutes),
            Ok(RecordingArchive::Enabled { frequency: TimeSpan::parse("00:20:00").unwrap() })
        );
        assert_eq!(RecordingArchive::new(true, None), Err(FrequencyRequired));
        let kept = RecordingArchive::new(false, twenty_minutes).unwrap();
        assert!(!kept.is_enabled());
        assert_eq!(kept.frequency(), twenty_minutes, "a frequency without archiving is kept");
        assert_eq!(RecordingArchive::default().frequency(), None);
    }
}
