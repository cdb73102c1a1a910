//! The 3CX part of a profile draft.

use pbx_domain::three_cx::{LicenseKey, RecordingArchive, ThreeCxConnection, Username};
use pbx_domain::{PbxConnection, Secret, TimeSpan};
use validator::{Validate, ValidationError};

use crate::input::{self, FieldProblem, Input, Problems, Raw, optional_flag, parse_optional, parse_required};

/// The 3CX fields of a `ThreeCxConnectionProfile`, as sent.
#[derive(Debug, Clone, Default, Validate)]
pub struct ThreeCxDraft {
    /// `licenseKey`: 1–64 visible characters.
    #[validate(custom(function = "license_key"))]
    pub license_key: Input<String>,
    /// `username`: 1–256 characters.
    #[validate(custom(function = "username"))]
    pub username: Input<String>,
    /// `password`: 1–256 characters.
    #[validate(custom(function = "password"))]
    pub password: Input<String>,
    /// `enableRecordingArchive`: optional boolean (or `"true"`/`"false"`), false by default.
    #[validate(custom(function = "optional_flag"))]
    pub enable_recording_archive: Input<bool>,
    /// `recordingArchiveFrequency`: a TimeSpan, required when archiving is enabled.
    #[validate(custom(function = "frequency"))]
    pub recording_archive_frequency: Input<String>,
}

fn license_key(input: &Input<String>) -> Result<(), ValidationError> {
    input::required(input, LicenseKey::parse)
}

fn username(input: &Input<String>) -> Result<(), ValidationError> {
    input::required(input, Username::parse)
}

fn password(input: &Input<String>) -> Result<(), ValidationError> {
    input::required(input, Secret::parse)
}

fn frequency(input: &Input<String>) -> Result<(), ValidationError> {
    input::optional(input, TimeSpan::parse)
}

impl ThreeCxDraft {
    /// The API names of the fields, in the order the API shows them.
    pub const FIELDS: [&'static str; 5] =
        ["licenseKey", "username", "password", "enableRecordingArchive", "recordingArchiveFrequency"];

    /// Sets the field the API calls `field`; gives `raw` back when there is no such field.
    pub(crate) fn set(&mut self, field: &str, raw: Raw) -> Result<(), Raw> {
        match field {
            "licenseKey" => self.license_key = Input::text(raw),
            "username" => self.username = Input::text(raw),
            "password" => self.password = Input::text(raw),
            "enableRecordingArchive" => self.enable_recording_archive = Input::flag(raw),
            "recordingArchiveFrequency" => self.recording_archive_frequency = Input::text(raw),
            _ => return Err(raw),
        }
        Ok(())
    }

    /// Every problem with these fields, the rule between the two archive fields included.
    pub(crate) fn problems(&self) -> Vec<FieldProblem> {
        let mut problems = self.validate().err().map(|e| input::problems(&e, &Self::FIELDS)).unwrap_or_default();
        if self.recording_archive_frequency == Input::Missing
            && let Err(e) = RecordingArchive::new(self.enable_recording_archive.or(false), None)
        {
            problems.push(FieldProblem::new("recordingArchiveFrequency", e.to_string()));
        }
        problems
    }

    /// The connection, once [`ThreeCxDraft::problems`] has found nothing.
    pub(crate) fn parse(self, problems: &mut Problems) -> Option<PbxConnection> {
        let license_key = problems.take(parse_required("licenseKey", self.license_key, LicenseKey::parse));
        let username = problems.take(parse_required("username", self.username, Username::parse));
        let password = problems.take(parse_required("password", self.password, Secret::parse));
        let frequency = problems.take(parse_optional(
            "recordingArchiveFrequency",
            self.recording_archive_frequency,
            TimeSpan::parse,
        ))?;
        let archive = problems.take(
            RecordingArchive::new(self.enable_recording_archive.or(false), frequency)
                .map_err(|e| FieldProblem::new("recordingArchiveFrequency", e.to_string())),
        );
        Some(
            ThreeCxConnection {
                license_key: license_key?,
                username: username?,
                password: password?,
                recording_archive: archive?,
            }
            .into(),
        )
    }
}

/// The 3CX fields of a stored connection, as a client would send them (secrets included).
pub(crate) fn fields(three_cx: &ThreeCxConnection) -> Vec<(&'static str, Raw)> {
    let archive = three_cx.recording_archive;
    let mut fields = vec![
        ("licenseKey", Raw::Text(three_cx.license_key.to_string())),
        ("username", Raw::Text(three_cx.username.to_string())),
        ("password", Raw::Text(three_cx.password.expose().to_owned())),
        ("enableRecordingArchive", Raw::Bool(archive.is_enabled())),
    ];
    if let Some(frequency) = archive.frequency() {
        fields.push(("recordingArchiveFrequency", Raw::Text(frequency.to_string())));
    }
    fields
}
