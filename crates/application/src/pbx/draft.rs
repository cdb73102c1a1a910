//! A profile as a client sent it, and its parsing into domain types with every problem reported.

use pbx_domain::{CountryCode, PbxConnection, PbxType, ProfileName};
use validator::{Validate, ValidationError};

use super::{KazooDraft, ThreeCxDraft};
use crate::input::{self, FieldProblem, Input, Problems, Raw, parse_optional, parse_required};

/// Fields every PBX type has.
#[derive(Debug, Clone, Default, Validate)]
struct CommonDraft {
    #[validate(custom(function = "profile_name"))]
    name: Input<String>,
    #[validate(custom(function = "country_code"))]
    country_code: Input<String>,
}

fn profile_name(input: &Input<String>) -> Result<(), ValidationError> {
    input::required(input, ProfileName::parse)
}

fn country_code(input: &Input<String>) -> Result<(), ValidationError> {
    input::optional(input, CountryCode::parse)
}

const COMMON_FIELDS: [&str; 2] = ["name", "countryCode"];

/// Fields of a profile that the service sets; a client may not send them on create.
const SET_BY_SERVICE: [&str; 3] = ["id", "tenantId", "enabled"];

#[derive(Debug, Clone)]
enum ConnectionDraft {
    Kazoo(KazooDraft),
    ThreeCx(ThreeCxDraft),
}

/// A profile of a known type as sent: each field kept as given until [`ProfileDraft::parse`].
#[derive(Debug, Clone)]
pub struct ProfileDraft {
    common: CommonDraft,
    connection: ConnectionDraft,
    refused: Vec<FieldProblem>,
}

/// A profile whose every field is valid; the customer's country stands in for a missing one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidProfile {
    /// The profile's name.
    pub name: ProfileName,
    /// The country, when one was given.
    pub country_code: Option<CountryCode>,
    /// How to reach the PBX.
    pub connection: PbxConnection,
}

impl ProfileDraft {
    /// An empty draft of a profile of type `pbx_type`.
    #[must_use]
    pub fn new(pbx_type: PbxType) -> Self {
        let connection = match pbx_type {
            PbxType::Kazoo => ConnectionDraft::Kazoo(KazooDraft::default()),
            PbxType::ThreeCx => ConnectionDraft::ThreeCx(ThreeCxDraft::default()),
        };
        Self { common: CommonDraft::default(), connection, refused: Vec::new() }
    }

    /// The PBX type of the draft.
    #[must_use]
    pub const fn pbx_type(&self) -> PbxType {
        match self.connection {
            ConnectionDraft::Kazoo(_) => PbxType::Kazoo,
            ConnectionDraft::ThreeCx(_) => PbxType::ThreeCx,
        }
    }

    /// The fields a client may send for `pbx_type` (besides `_type`), in the order the API shows them.
    #[must_use]
    pub fn fields(pbx_type: PbxType) -> Vec<&'static str> {
        let specific: &[&str] = match pbx_type {
            PbxType::Kazoo => &KazooDraft::FIELDS,
            PbxType::ThreeCx => &ThreeCxDraft::FIELDS,
        };
        COMMON_FIELDS.iter().chain(specific).copied().collect()
    }

    /// Sets the field the API calls `field`. A field the type does not have is remembered as a problem.
    pub fn set(&mut self, field: &str, raw: Raw) {
        let unknown = match field {
            "name" => {
                self.common.name = Input::text(raw);
                return;
            }
            "countryCode" => {
                self.common.country_code = Input::text(raw);
                return;
            }
            _ => match &mut self.connection {
                ConnectionDraft::Kazoo(kazoo) => kazoo.set(field, raw).is_err(),
                ConnectionDraft::ThreeCx(three_cx) => three_cx.set(field, raw).is_err(),
            },
        };
        if unknown {
            let message = if SET_BY_SERVICE.contains(&field) {
                "is set by the service and cannot be sent".to_owned()
            } else {
                format!("is not a field of {}", self.pbx_type())
            };
            self.refused.push(FieldProblem::new(field, message));
        }
    }

    /// Every problem with the draft: each broken field, each field the type does not have.
    #[must_use]
    pub fn problems(&self) -> Vec<FieldProblem> {
        let mut problems =
            self.common.validate().err().map(|e| input::problems(&e, &COMMON_FIELDS)).unwrap_or_default();
        problems.extend(match &self.connection {
            ConnectionDraft::Kazoo(kazoo) => kazoo.problems(),
            ConnectionDraft::ThreeCx(three_cx) => three_cx.problems(),
        });
        problems.extend(self.refused.iter().cloned());
        problems
    }

    /// The valid profile.
    ///
    /// # Errors
    /// Every problem [`ProfileDraft::problems`] finds, when there is any.
    pub fn parse(self) -> Result<ValidProfile, Vec<FieldProblem>> {
        let problems = self.problems();
        if !problems.is_empty() {
            return Err(problems);
        }
        let mut problems = Problems::from_vec(problems);
        let name = problems.take(parse_required("name", self.common.name, ProfileName::parse));
        let country_code = problems.take(parse_optional("countryCode", self.common.country_code, CountryCode::parse));
        let connection = match self.connection {
            ConnectionDraft::Kazoo(kazoo) => kazoo.parse(&mut problems),
            ConnectionDraft::ThreeCx(three_cx) => three_cx.parse(&mut problems),
        };
        match (name, country_code, connection) {
            (Some(name), Some(country_code), Some(connection)) if problems.is_empty() => {
                Ok(ValidProfile { name, country_code, connection })
            }
            _ => Err(problems.into_vec()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pbx_domain::Secret;

    fn text(value: &str) -> Raw {
        Raw::Text(value.to_owned())
    }

    fn draft(pbx_type: PbxType, fields: &[(&str, Raw)]) -> ProfileDraft {
        let mut draft = ProfileDraft::new(pbx_type);
        for (field, raw) in fields {
            draft.set(field, raw.clone());
        }
        draft
    }

    fn seed_kazoo() -> ProfileDraft {
        draft(
            PbxType::Kazoo,
            &[
                ("name", text("Clients ~.pbx.kazoo.name.~ Pbx")),
                ("hostRest", text("https://rest.example.com")),
                ("hostWebsocket", text("wss://ws.example.com")),
                ("accountId", text("12345")),
                ("apiKey", text("ABCDEF")),
            ],
        )
    }

    #[test]
    fn the_seed_kazoo_profile_parses() {
        let profile = seed_kazoo().parse().unwrap();
        assert_eq!(profile.name.as_str(), "Clients ~.pbx.kazoo.name.~ Pbx");
        assert_eq!(profile.country_code, None);
        let PbxConnection::Kazoo(kazoo) = profile.connection else { panic!("a Kazoo connection") };
        assert_eq!(kazoo.api_key, Secret::parse("ABCDEF").unwrap());
        assert!(!kazoo.monitor_sub_accounts);
    }

    #[test]
    fn the_seed_three_cx_profile_parses_with_its_string_boolean() {
        let profile = draft(
            PbxType::ThreeCx,
            &[
                ("name", text("3CX Connexion")),
                ("licenseKey", text("licenseKey-licenseKey-licenseKey")),
                ("username", text("nom d'utilisateur-nom d'utilisateur-nom d'utilisateur")),
                ("password", text("mot de passe mot de passe")),
                ("enableRecordingArchive", text("true")),
                ("recordingArchiveFrequency", text("00:20:00")),
            ],
        )
        .parse()
        .unwrap();
        let PbxConnection::ThreeCx(three_cx) = profile.connection else { panic!("a 3CX connection") };
        assert!(three_cx.recording_archive.is_enabled());
        assert_eq!(three_cx.recording_archive.frequency().map(|f| f.to_string()), Some("00:20:00".to_owned()));
    }

    #[test]
    fn every_broken_field_is_reported_in_field_order() {
        let mut broken = draft(
            PbxType::Kazoo,
            &[
                ("name", Raw::Number),
                ("countryCode", text("XX")),
                ("hostRest", text("ftp://rest.example.com")),
                ("hostWebsocket", text("https://ws.example.com")),
                ("apiKey", text("")),
                ("monitorSubAccounts", text("maybe")),
            ],
        );
        broken.set("licenseKey", text("x"));
        broken.set("id", text("x"));
        let problems = broken.parse().unwrap_err();
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "name",
                "countryCode",
                "hostRest",
                "hostWebsocket",
                "accountId",
                "apiKey",
                "monitorSubAccounts",
                "licenseKey",
                "id"
            ]
        );
        let message = |field: &str| problems.iter().find(|p| p.field == field).map(|p| p.message.clone()).unwrap();
        assert_eq!(message("name"), "must be a string");
        assert_eq!(message("accountId"), "is required");
        assert_eq!(message("hostRest"), "must use the http or https scheme");
        assert_eq!(message("licenseKey"), "is not a field of KazooPbxConnectionProfile");
        assert_eq!(message("id"), "is set by the service and cannot be sent");
    }

    #[test]
    fn archiving_without_a_frequency_is_reported_with_the_other_problems() {
        let problems = draft(
            PbxType::ThreeCx,
            &[("licenseKey", text("L-1")), ("username", text("u")), ("enableRecordingArchive", Raw::Bool(true))],
        )
        .parse()
        .unwrap_err();
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, ["name", "password", "recordingArchiveFrequency"]);
    }

    #[test]
    fn nulls_count_as_missing() {
        let mut draft = seed_kazoo();
        draft.set("countryCode", Raw::Null);
        draft.set("monitorSubAccounts", Raw::Null);
        assert!(draft.parse().is_ok());
    }

    #[test]
    fn fields_lists_common_then_specific_fields() {
        assert_eq!(ProfileDraft::fields(PbxType::ThreeCx)[..3], ["name", "countryCode", "licenseKey"]);
    }
}
