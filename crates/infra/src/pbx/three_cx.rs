//! The stored form of a 3CX connection.

use anyhow::Context;
use pbx_domain::TimeSpan;
use pbx_domain::three_cx::{LicenseKey, RecordingArchive, ThreeCxConnection, Username};
use serde::{Deserialize, Serialize};

use super::{Credential, Stored, StoredSecrets};

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

pub(super) fn store(three_cx: &ThreeCxConnection) -> anyhow::Result<Stored> {
    let archive = three_cx.recording_archive;
    let settings = Settings {
        username: three_cx.username.to_string(),
        enable_recording_archive: archive.is_enabled(),
        recording_archive_frequency: archive.frequency().map(|f| f.to_string()),
    };
    let secrets = Secrets { password: three_cx.password.expose().to_owned() };
    Ok(Stored { settings: serde_json::to_value(settings)?, secrets: serde_json::to_value(secrets)? })
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
