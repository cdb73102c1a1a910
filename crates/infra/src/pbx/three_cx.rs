//! The stored form of a 3CX connection.

use pbx_domain::three_cx::ThreeCxConnection;
use serde_json::json;

use super::Stored;

pub(super) fn store(three_cx: &ThreeCxConnection) -> anyhow::Result<Stored> {
    let archive = three_cx.recording_archive;
    Ok(Stored {
        settings: json!({
            "username": three_cx.username.as_str(),
            "enableRecordingArchive": archive.is_enabled(),
            "recordingArchiveFrequency": archive.frequency().map(|f| f.to_string()),
        }),
        secrets: json!({ "password": three_cx.password.expose() }),
    })
}
