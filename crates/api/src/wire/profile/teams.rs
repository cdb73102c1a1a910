//! `TeamsPbxConnectionProfile` on the wire: the body of a create (and of a patched profile), and the answer.

use pbx_application::pbx::NewProfile;
use pbx_domain::PbxProfile;
use pbx_domain::teams::{MicrosoftTenantId, TeamsConnection};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa::openapi::Schema;

use super::{Base, Common, Shown, country_code};
use crate::wire::Guid;
use crate::wire::field::{Field, FieldProblem, Problems};
use crate::wire::text::Text;

/// The `_type` of a Teams profile.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, ToSchema)]
pub(crate) enum TeamsType {
    #[default]
    TeamsPbxConnectionProfile,
}

/// A new Microsoft Teams profile.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = NewTeamsPbxConnectionProfile)]
pub(crate) struct TeamsBody {
    #[serde(rename = "_type")]
    #[schema(inline)]
    // It chose this type before the body was read (`profile::parse`): here for the schema and the unknown-field
    // check, never read again.
    _pbx_type: TeamsType,
    #[serde(default)]
    #[schema(schema_with = name, required = true)]
    name: Field<String>,
    /// The customer's Microsoft (Entra) tenant id; unique across the system.
    #[serde(default)]
    #[schema(value_type = Guid, required = true)]
    microsoft_tenant_id: Field<String>,
    #[serde(default)]
    #[schema(schema_with = country_code)]
    country_code: Field<String>,
}

fn name() -> Schema {
    Text::Trimmed { max: 100 }.schema("A name for people (1–100 characters).", Some("Teams"))
}

impl TeamsBody {
    /// The profile, or every problem with the body; `base` gives the fields the body leaves out.
    pub(super) fn parse<S: Clone>(
        self,
        base: &Base<'_, TeamsConnection, S>,
    ) -> Result<NewProfile<S>, Vec<FieldProblem>> {
        let mut problems = Problems::default();
        let p = &mut problems;
        let common = Common::parse(self.name, self.country_code, base, p);
        let kept = base.keep("microsoftTenantId", |t| t.microsoft_tenant_id.clone());
        let tenant =
            self.microsoft_tenant_id.or_kept(kept, |f| f.required("microsoftTenantId", MicrosoftTenantId::parse, p));
        problems.or_build(|| common?.with(TeamsConnection { microsoft_tenant_id: tenant? }.into()))
    }
}

/// A Microsoft Teams PBX connection profile.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = TeamsPbxConnectionProfile)]
pub(crate) struct TeamsView<'a> {
    /// The customer's Microsoft (Entra) tenant id, lower case; unique across the system.
    #[schema(value_type = Guid)]
    microsoft_tenant_id: &'a str,
    #[serde(rename = "_type")]
    #[schema(inline)]
    pbx_type: TeamsType,
    /// The profile's id.
    #[schema(value_type = Guid)]
    id: String,
    /// A name for people (1–100 characters).
    #[schema(example = "Teams")]
    name: &'a str,
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

impl<'a> TeamsView<'a> {
    /// The view of `profile`, whose connection is `teams`.
    pub(super) fn new<S>(profile: &'a PbxProfile<S>, teams: &'a TeamsConnection, shown: &Shown<'a>) -> Self {
        Self {
            microsoft_tenant_id: teams.microsoft_tenant_id.as_str(),
            pbx_type: TeamsType::TeamsPbxConnectionProfile,
            id: profile.id.to_string(),
            name: profile.name.as_str(),
            tenant_id: profile.customer_id.to_string(),
            country_code: profile.country_code.as_str(),
            enabled: profile.enabled,
            connection: shown.connection,
        }
    }
}
