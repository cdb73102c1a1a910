//! `ThreeCxConnectionProfile` on the wire: the body of a create (and of a patched profile), and the answer.

use pbx_application::pbx::NewProfile;
use pbx_domain::three_cx::{LicenseKey, RecordingArchive, ThreeCxConnection, Username};
use pbx_domain::{PbxProfile, Secret, TimeSpan, Withheld};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;
use utoipa::openapi::Schema;

use super::{Base, Common, Credential, Shown, country_code, flag, optional_flag};
use crate::wire::field::{Field, FieldProblem, Problems};
use crate::wire::text::Text;
use crate::wire::{Guid, values};

/// The `_type` of a 3CX profile.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, ToSchema)]
pub(crate) enum ThreeCxType {
    #[default]
    ThreeCxConnectionProfile,
}

/// A new 3CX profile.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = NewThreeCxConnectionProfile)]
pub(crate) struct ThreeCxBody {
    #[serde(rename = "_type")]
    #[schema(inline)]
    // It chose this type before the body was read (`profile::parse`): here for the schema and the unknown-field
    // check, never read again.
    _pbx_type: ThreeCxType,
    #[serde(default)]
    #[schema(schema_with = name, required = true)]
    name: Field<String>,
    #[serde(default)]
    #[schema(schema_with = license_key, required = true)]
    license_key: Field<String>,
    #[serde(default)]
    #[schema(schema_with = username, required = true)]
    username: Field<String>,
    #[serde(default)]
    #[schema(schema_with = password, required = true)]
    password: Field<String>,
    /// Whether call recordings are archived (false when absent).
    #[serde(default)]
    #[schema(schema_with = optional_flag)]
    enable_recording_archive: Field<bool>,
    #[serde(default)]
    #[schema(schema_with = frequency)]
    recording_archive_frequency: Field<String>,
    #[serde(default)]
    #[schema(schema_with = country_code)]
    country_code: Field<String>,
}

fn name() -> Schema {
    Text::Trimmed { max: 100 }.schema("A name for people (1–100 characters).", Some("3CX Connexion"))
}

fn frequency() -> Schema {
    let description = "How often recordings are archived, as hours:minutes:seconds (`01:00:00` is hourly), more than \
                       zero and at most a day; required when archiving. A .NET TimeSpan `[d.]hh:mm:ss[.fffffff]` \
                       (hours 0–23, minutes and seconds 0–59).";
    values::time_span(description, "00:20:00")
}

fn license_key() -> Schema {
    let description =
        "The 3CX licence (1–64 visible characters); unique across the system, whatever its case or width.";
    crate::wire::titled(Text::Visible { max: 64 }.schema(description, None), "Licence key")
}

fn username() -> Schema {
    Text::Trimmed { max: 256 }.schema("The 3CX user to sign in as (1–256 characters).", None)
}

fn password() -> Schema {
    let description = "That user's password (1–256 characters): stored encrypted, never shown again after this create.";
    Text::Secret { max: 256 }.schema(description, None)
}

/// Adds to the schema of [`ThreeCxBody`] what its properties cannot say alone: archiving (`enableRecordingArchive`
/// true, or `"true"`) needs a `recordingArchiveFrequency`.
pub(crate) fn add_conditions(schema: &mut Value) {
    if let Value::Object(schema) = schema {
        schema.insert(
            "if".to_owned(),
            json!({"properties": {"enableRecordingArchive": {"enum": [true, "true"]}}, "required": ["enableRecordingArchive"]}),
        );
        schema.insert(
            "then".to_owned(),
            json!({"properties": {"recordingArchiveFrequency": {"type": "string"}}, "required": ["recordingArchiveFrequency"]}),
        );
    }
}

impl ThreeCxBody {
    /// The profile, or every problem with the body; `base` gives the fields the body leaves out.
    pub(super) fn parse<S: From<Secret> + Clone>(
        self,
        base: &Base<'_, ThreeCxConnection<Withheld>, S>,
    ) -> Result<NewProfile<S>, Vec<FieldProblem>> {
        let mut problems = Problems::default();
        let p = &mut problems;
        let common = Common::parse(self.name, self.country_code, base, p);
        let kept = base.keep("licenseKey", |c| c.license_key.clone());
        let license_key = self.license_key.or_kept(kept, |f| f.required("licenseKey", LicenseKey::parse, p));
        let kept = base.keep("username", |c| c.username.clone());
        let username = self.username.or_kept(kept, |f| f.required("username", Username::parse, p));
        let written = |password: &str| Secret::parse(password).map(S::from);
        let password = self.password.or_kept(base.keep_secret("password"), |f| f.required("password", written, p));
        let kept = base.keep("enableRecordingArchive", |c| c.recording_archive.is_enabled());
        let archiving = self.enable_recording_archive.or_kept(kept, |f| f.or("enableRecordingArchive", false, p));
        let kept = base.keep("recordingArchiveFrequency", |c| c.recording_archive.frequency());
        let frequency = self
            .recording_archive_frequency
            .or_kept(kept, |f| f.optional("recordingArchiveFrequency", TimeSpan::parse, p));
        let archive = match (archiving, frequency) {
            (Some(archiving), Some(frequency)) => RecordingArchive::new(archiving, frequency)
                .map_err(|e| problems.push("recordingArchiveFrequency", e.to_string()))
                .ok(),
            _ => None,
        };
        problems.or_build(|| {
            let connection = ThreeCxConnection {
                license_key: license_key?,
                username: username?,
                password: password?,
                recording_archive: archive?,
            };
            common?.with(connection.into())
        })
    }
}

/// A 3CX PBX connection profile, in the seed's field order.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = ThreeCxConnectionProfile)]
pub(crate) struct ThreeCxView<'a> {
    #[serde(rename = "_type")]
    #[schema(inline)]
    pbx_type: ThreeCxType,
    /// A name for people (1–100 characters).
    #[schema(example = "3CX Connexion")]
    name: &'a str,
    /// The 3CX licence (1–64 visible characters); unique across the system.
    #[schema(min_length = 1, max_length = 64, example = "licenseKey-licenseKey-licenseKey")]
    license_key: &'a str,
    /// The 3CX user to sign in as.
    #[schema(min_length = 1, max_length = 256)]
    username: &'a str,
    /// That user's password: only in the answer to the create that sent it.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 256)]
    password: Option<&'a str>,
    /// Whether call recordings are archived.
    #[schema(schema_with = flag)]
    enable_recording_archive: Value,
    /// A .NET TimeSpan `[d.]hh:mm:ss[.fffffff]`, positive, at most a day; required when archiving.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "00:20:00")]
    recording_archive_frequency: Option<String>,
    /// The profile's id.
    #[schema(value_type = Guid)]
    id: String,
    /// The customer's tenant id.
    #[schema(value_type = Guid)]
    tenant_id: String,
    /// ISO 3166-1 alpha-2.
    #[schema(example = "US", pattern = "^[A-Z]{2}$")]
    country_code: &'a str,
    /// Whether the platform uses the profile (false on create; enabling is chargeable).
    enabled: bool,
    /// Whether the profile reaches its PBX (read only; CONTRACT §15). Absent only where an event's data predates
    /// the check.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<pbx_domain::connection::Connection>, nullable = false)]
    connection: Option<&'a pbx_domain::connection::Connection>,
}

impl<'a> ThreeCxView<'a> {
    /// The view of `profile`, whose connection is `three_cx`.
    pub(super) fn new<S: Credential>(
        profile: &'a PbxProfile<S>,
        three_cx: &'a ThreeCxConnection<S>,
        shown: &Shown<'a>,
    ) -> Self {
        let archive = three_cx.recording_archive;
        Self {
            pbx_type: ThreeCxType::ThreeCxConnectionProfile,
            name: profile.name.as_str(),
            license_key: three_cx.license_key.as_str(),
            username: three_cx.username.as_str(),
            password: shown.secret(&three_cx.password),
            enable_recording_archive: shown.flag(archive.is_enabled(), "enableRecordingArchive"),
            recording_archive_frequency: archive.frequency().map(|f| f.to_string()),
            id: profile.id.to_string(),
            tenant_id: profile.customer_id.to_string(),
            country_code: profile.country_code.as_str(),
            enabled: profile.enabled,
            connection: shown.connection,
        }
    }
}
