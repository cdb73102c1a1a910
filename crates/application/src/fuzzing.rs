//! Entry points for the fuzz targets (`make fuzz`), compiled only with the `fuzzing` feature.

use pbx_domain::kazoo::{AccountId, KazooConnection};
use pbx_domain::three_cx::{LicenseKey, RecordingArchive, ThreeCxConnection, Username};
use pbx_domain::{
    CountryCode, CustomerId, HttpUrl, PbxConnection, PbxId, PbxProfile, PbxType, ProfileName, Secret, TimeSpan, WsUrl,
};

use crate::patch::{PatchOp, apply};
use crate::pbx::fields;

/// A valid profile of each type, to patch.
fn sample(pbx_type: PbxType) -> anyhow::Result<PbxProfile> {
    let connection: PbxConnection = match pbx_type {
        PbxType::Kazoo => KazooConnection {
            host_rest: HttpUrl::parse("https://rest.example.com")?,
            host_websocket: WsUrl::parse("wss://ws.example.com")?,
            account_id: AccountId::parse("12345")?,
            api_key: Secret::parse("ABCDEF")?,
            monitor_sub_accounts: false,
        }
        .into(),
        PbxType::ThreeCx => PbxConnection::ThreeCx(ThreeCxConnection {
            license_key: LicenseKey::parse("LIC-1")?,
            username: Username::parse("admin")?,
            password: Secret::parse("pa55word")?,
            recording_archive: RecordingArchive::new(true, Some(TimeSpan::parse("00:20:00")?))?,
        }),
    };
    let (id, customer) = (PbxId::from_uuid(uuid::Uuid::from_u128(1)), CustomerId::from_uuid(uuid::Uuid::from_u128(2)));
    Ok(PbxProfile::new(id, customer, ProfileName::parse("Main")?, CountryCode::US, connection))
}

/// Applies `operations` to a valid profile of `pbx_type` as `PATCH` does: `Ok(true)` when the patched profile is
/// valid, `Ok(false)` when the patch or its result is refused (a 4xx); panics are what the fuzzer looks for.
///
/// # Errors
/// Only if the sample profile cannot be built (a bug of this function).
pub fn patch_profile(pbx_type: PbxType, operations: Vec<PatchOp>) -> anyhow::Result<bool> {
    let profile = sample(pbx_type)?;
    let mut values = fields::of(&profile);
    if apply(&mut values, operations, &fields::rules(pbx_type)).is_err() {
        return Ok(false);
    }
    let (draft, enabled) = fields::draft(pbx_type, values);
    Ok(enabled.is_ok() && draft.parse().is_ok())
}
