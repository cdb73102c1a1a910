//! The stored form of a 3CX connection.

use anyhow::Context;
use pbx_domain::three_cx::{LicenseKey, RecordingArchive, ThreeCxConnection, Username};
use pbx_domain::{Secret, TimeSpan};
use serde::{Deserialize, Serialize};

use super::{Credential, StoredSecrets};

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Settings {
    username: String,
    enable_recording_archive: bool,
    recording_archive_frequency: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct Secrets {
    password: String,
}

/// The stored settings of a 3CX connection: all but the licence (the row's instance) and the password.
pub(super) fn settings<S>(three_cx: &ThreeCxConnection<S>) -> anyhow::Result<serde_json::Value> {
    let archive = three_cx.recording_archive;
    let settings = Settings {
        username: three_cx.username.to_string(),
        enable_recording_archive: archive.is_enabled(),
        recording_archive_frequency: archive.frequency().map(|f| f.to_string()),
    };
    Ok(serde_json::to_value(settings)?)
}

/// The stored secrets of a 3CX connection whose password is `password`.
pub(super) fn secrets(password: &Secret) -> anyhow::Result<serde_json::Value> {
    Ok(serde_json::to_value(Secrets { password: password.expose().to_owned() })?)
}

pub(super) fn load<S: Credential>(
    instance_id: &str,
    settings: serde_json::Value,
    secrets: &StoredSecrets,
) -> anyhow::Result<ThreeCxConnection<S>> {
    let settings: Settings = serde_json::from_value(settings).context("3CX settings")?;
    let frequency = settings.recording_archive_frequency.as_deref().map(TimeSpan::parse).transpose()?;
    Ok(ThreeCxConnection {
        license_key: LicenseKey::parse(instance_id)?,
        username: Username::parse(&settings.username)?,
        password: S::read(secrets, |s: Secrets| s.password).context("3CX secrets")?,
        recording_archive: RecordingArchive::new(settings.enable_recording_archive, frequency)?,
    })
}
