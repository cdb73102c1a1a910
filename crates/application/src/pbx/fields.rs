//! A stored profile as the fields a client sends and sees, for JSON Patch, and back.

use std::collections::BTreeMap;

use pbx_domain::{PbxConnection, PbxProfile, PbxType};

use super::{ProfileDraft, kazoo, three_cx};
use crate::input::{FieldProblem, Input, Raw};
use crate::patch::Rules;

/// Fields the service sets, which a patch may only `test`.
const READ_ONLY: [&str; 3] = ["_type", "id", "tenantId"];
/// Fields a patch may `remove` (they take their default).
const REMOVABLE: [&str; 4] =
    ["countryCode", "monitorSubAccounts", "enableRecordingArchive", "recordingArchiveFrequency"];
/// Fields a patch may not `test`.
const SECRETS: [&str; 2] = ["apiKey", "password"];

/// Every field of `profile`, secrets included.
pub(crate) fn of(profile: &PbxProfile) -> BTreeMap<String, Raw> {
    let mut fields: Vec<(&str, Raw)> = vec![
        ("_type", Raw::Text(profile.pbx_type().as_str().to_owned())),
        ("id", Raw::Text(profile.id.to_string())),
        ("tenantId", Raw::Text(profile.customer_id.to_string())),
        ("enabled", Raw::Bool(profile.enabled)),
        ("name", Raw::Text(profile.name.to_string())),
        ("countryCode", Raw::Text(profile.country_code.to_string())),
    ];
    fields.extend(match &profile.connection {
        PbxConnection::Kazoo(connection) => kazoo::fields(connection),
        PbxConnection::ThreeCx(connection) => three_cx::fields(connection),
    });
    fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

/// What a patch may do to a profile of `pbx_type`.
pub(crate) fn rules(pbx_type: PbxType) -> Rules<'static> {
    let mut known: Vec<&'static str> = READ_ONLY.to_vec();
    known.push("enabled");
    known.extend(ProfileDraft::fields(pbx_type));
    Rules { kind: pbx_type.as_str(), known, read_only: &READ_ONLY, removable: &REMOVABLE, secret: &SECRETS }
}

/// The draft and the `enabled` flag that `fields` describe (the read-only fields are dropped: a patch cannot have
/// changed them).
pub(crate) fn draft(
    pbx_type: PbxType,
    mut fields: BTreeMap<String, Raw>,
) -> (ProfileDraft, Result<bool, FieldProblem>) {
    let enabled = match Input::flag(fields.remove("enabled").unwrap_or(Raw::Null)) {
        Input::Given(enabled) => Ok(enabled),
        Input::Missing => Err(FieldProblem::new("enabled", "is required")),
        Input::WrongType(expected) => Err(FieldProblem::new("enabled", format!("must be {expected}"))),
    };
    let mut draft = ProfileDraft::new(pbx_type);
    for (field, value) in fields {
        if !READ_ONLY.contains(&field.as_str()) {
            draft.set(&field, value);
        }
    }
    (draft, enabled)
}
