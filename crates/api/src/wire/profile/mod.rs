//! A PBX profile on the wire, whatever its type: the body chosen by `_type`, the answer views, the list's summary.
//! Each type's body and view are in a module of their own; the matches here are exhaustive.

mod kazoo;
mod teams;
pub(crate) mod three_cx;

use std::borrow::Cow;
use std::sync::LazyLock;

use json_patch::PatchOperation;
use pbx_application::PbxSummary;
use pbx_application::pbx::{InstanceLookup, NewProfile, ProfileChange};
use pbx_domain::{CountryCode, PbxConnection, PbxProfile, PbxType, ProfileName, Secret, SecretEdit, Withheld};
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;
use utoipa::openapi::schema::{Discriminator, OneOfBuilder, Schema, SchemaType, Type};
use utoipa::openapi::{ObjectBuilder, Ref, RefOr};

use super::field::{Field, FieldProblem, Problems};
use super::patch::{PatchTarget, Rules, edits, patch_document, to_object};
use super::{Body, Fields, Guid, parse_body, values};
use crate::ApiError;
use kazoo::{KazooBody, KazooView};
use teams::{TeamsBody, TeamsView};
use three_cx::{ThreeCxBody, ThreeCxView};

/// A boolean, or the strings `"true"`/`"false"` as the platform's own examples send them.
pub(crate) fn flag() -> Schema {
    OneOfBuilder::new()
        .item(ObjectBuilder::new().schema_type(SchemaType::Type(Type::Boolean)))
        .item(ObjectBuilder::new().schema_type(SchemaType::Type(Type::String)).enum_values(Some(["true", "false"])))
        .description(Some("A boolean; the strings \"true\" and \"false\" are accepted too."))
        .into()
}

/// The same, or null (taken as absent), in a request.
pub(crate) fn optional_flag() -> Schema {
    OneOfBuilder::new()
        .item(ObjectBuilder::new().schema_type(SchemaType::Type(Type::Boolean)))
        .item(ObjectBuilder::new().schema_type(SchemaType::Type(Type::String)).enum_values(Some(["true", "false"])))
        .item(ObjectBuilder::new().schema_type(SchemaType::Type(Type::Null)))
        .description(Some("A boolean; the strings \"true\" and \"false\" are accepted too; null is the default."))
        .into()
}

/// A profile's `countryCode`, the same for every type.
pub(crate) fn country_code() -> Schema {
    values::country_code("An assigned ISO 3166-1 alpha-2 code (any case); the customer's country when absent.", "US")
}

/// Fields of a profile that the service sets; a client may not send them on create.
const SET_BY_SERVICE: &[&str] = &["id", "tenantId", "enabled"];

/// Where the fields a body leaves out come from: nowhere for a create (each is missing), or, for a patch, the
/// profile it changes — a field the patch does not name keeps its value, unparsed, and the secret is kept unread.
/// `C` is the type's connection; `S` the credential a body makes ([`Secret`], or [`SecretEdit`] for a patch).
pub(super) struct Base<'a, C, S> {
    patched: Option<Changing<'a, C, S>>,
}

/// The profile a patch changes, and what the patch names.
struct Changing<'a, C, S> {
    profile: &'a PbxProfile<Withheld>,
    connection: &'a C,
    /// The fields the patch names.
    named: &'a [String],
    /// The credential of a secret the patch does not write.
    kept: S,
}

impl<'a, C> Base<'a, C, SecretEdit> {
    /// A patch's: the fields it does not name come from `profile`, whose connection is `connection`.
    fn patch(profile: &'a PbxProfile<Withheld>, connection: &'a C, named: &'a [String]) -> Self {
        Self { patched: Some(Changing { profile, connection, named, kept: SecretEdit::Kept }) }
    }
}

impl<'a, C, S: Clone> Base<'a, C, S> {
    /// A create's: every field comes from the body.
    pub(super) const NEW: Self = Self { patched: None };

    /// The value of `field` when a patch does not name it: `value` of the connection it changes.
    pub(super) fn keep<U>(&self, field: &str, value: impl FnOnce(&'a C) -> U) -> Option<U> {
        Some(value(self.unnamed(field)?.connection))
    }

    /// The secret `field` when a patch does not write it: the stored one, kept.
    pub(super) fn keep_secret(&self, field: &str) -> Option<S> {
        Some(self.unnamed(field)?.kept.clone())
    }

    /// The value of a field every type has when a patch does not name it: `value` of the profile it changes.
    fn keep_common<U>(&self, field: &str, value: impl FnOnce(&'a PbxProfile<Withheld>) -> U) -> Option<U> {
        Some(value(self.unnamed(field)?.profile))
    }

    /// The profile a patch changes, when the patch does not name `field`.
    fn unnamed(&self, field: &str) -> Option<&Changing<'a, C, S>> {
        self.patched.as_ref().filter(|p| !p.named.iter().any(|named| named == field))
    }
}

/// The fields every PBX type has, parsed.
pub(super) struct Common {
    name: ProfileName,
    country_code: Option<CountryCode>,
}

impl Common {
    /// `name` and `countryCode`, or `None` after noting their problems.
    pub(super) fn parse<C, S: Clone>(
        name: Field<String>,
        country_code: Field<String>,
        base: &Base<'_, C, S>,
        problems: &mut Problems,
    ) -> Option<Self> {
        let kept = base.keep_common("name", |p| p.name.clone());
        let name = name.or_kept(kept, |name| name.required("name", ProfileName::parse, problems));
        let kept = base.keep_common("countryCode", |p| Some(p.country_code));
        let country_code =
            country_code.or_kept(kept, |code| code.optional("countryCode", CountryCode::parse, problems));
        Some(Self { name: name?, country_code: country_code? })
    }

    /// The profile with `connection`.
    pub(super) fn with<S>(self, connection: PbxConnection<S>) -> Option<NewProfile<S>> {
        Some(NewProfile { name: self.name, country_code: self.country_code, connection })
    }
}

macro_rules! body {
    ($body:ty, $pbx_type:expr) => {
        impl Body for $body {
            const KIND: &'static str = $pbx_type.as_str();
            const SET_BY_SERVICE: &'static [&'static str] = SET_BY_SERVICE;
            fn fields() -> &'static Fields {
                static FIELDS: LazyLock<Fields> = LazyLock::new(Fields::of::<$body>);
                &FIELDS
            }
        }
    };
}
body!(KazooBody, PbxType::Kazoo);
body!(ThreeCxBody, PbxType::ThreeCx);
body!(TeamsBody, PbxType::Teams);

/// The schema of a new profile's body (`NewPbxProfile`): one of each type's body, chosen by `_type`. Built from
/// [`PbxType::ALL`] and each type's body (see [`body_schema`]); bodies are read through [`parse`], which reports every
/// problem.
pub(crate) struct NewProfileSchema;

impl utoipa::PartialSchema for NewProfileSchema {
    fn schema() -> RefOr<Schema> {
        // The mapping said outright: without it, a discriminator's values are the schemas' names
        // (`NewKazooPbxConnectionProfile`), which is what generated clients then send.
        let mapping = PbxType::ALL
            .iter()
            .map(|&pbx_type| (pbx_type.as_str(), format!("#/components/schemas/{}", body_schema(pbx_type).0)));
        let mut one_of = OneOfBuilder::new()
            .description(Some("A new PBX connection profile, chosen by `_type`; fields of another type are refused."))
            .discriminator(Some(Discriminator::with_mapping("_type", mapping)));
        for &pbx_type in PbxType::ALL {
            one_of = one_of.item(Ref::from_schema_name(body_schema(pbx_type).0));
        }
        RefOr::T(one_of.into())
    }
}

impl ToSchema for NewProfileSchema {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("NewPbxProfile")
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        for &pbx_type in PbxType::ALL {
            let (name, schema, nested) = body_schema(pbx_type);
            schemas.push((name.into_owned(), schema));
            nested(schemas);
        }
    }
}

/// The schemas a body refers to, registered beside it.
type Nested = fn(&mut Vec<(String, RefOr<Schema>)>);

/// The name and schema of the body of a profile of `pbx_type`, and how to register the schemas it refers to.
fn body_schema(pbx_type: PbxType) -> (Cow<'static, str>, RefOr<Schema>, Nested) {
    fn of<B: ToSchema>() -> (Cow<'static, str>, RefOr<Schema>, Nested) {
        (B::name(), B::schema(), B::schemas)
    }
    match pbx_type {
        PbxType::Kazoo => of::<KazooBody>(),
        PbxType::ThreeCx => of::<ThreeCxBody>(),
        PbxType::Teams => of::<TeamsBody>(),
    }
}

/// The fields a body of `pbx_type` has.
pub(crate) fn fields(pbx_type: PbxType) -> &'static Fields {
    match pbx_type {
        PbxType::Kazoo => KazooBody::fields(),
        PbxType::ThreeCx => ThreeCxBody::fields(),
        PbxType::Teams => TeamsBody::fields(),
    }
}

/// The `_type` of a body.
///
/// # Errors
/// The problem with `_type` when it is missing or names no known type (the message lists the known ones).
pub(crate) fn pbx_type(object: &Map<String, Value>) -> Result<PbxType, FieldProblem> {
    let known = || PbxType::names().join(", ");
    match object.get("_type") {
        None | Some(Value::Null) => Err(FieldProblem::new("_type", format!("is required: one of {}", known()))),
        Some(Value::String(name)) => PbxType::parse(name).map_err(|e| FieldProblem::new("_type", e.to_string())),
        Some(_) => Err(FieldProblem::new("_type", pbx_domain::UnknownPbxType.to_string())),
    }
}

/// The profile a body describes, with every problem when it has any.
///
/// # Errors
/// Every problem: `_type`, each broken field, then each field the type does not have.
/// The one address rule (`pbx_domain::address`, CONTRACT §14) on a profile's hosts: a host written as an address
/// the service must not call (loopback, private, link-local, metadata…, in any spelling) is a problem of its field,
/// `prefix` before its name, unless `allow_private`. Host names are not resolved (a profile is valid offline).
///
/// # Errors
/// [`ApiError::Invalid`] naming each such host.
pub(crate) fn check_hosts<S>(connection: &PbxConnection<S>, allow_private: bool, prefix: &str) -> Result<(), ApiError> {
    if allow_private {
        return Ok(());
    }
    let problems: Vec<FieldProblem> = connection
        .hosts()
        .into_iter()
        .filter_map(|(field, url)| {
            let address = pbx_domain::address::forbidden_literal(&url::Url::parse(url).ok()?)?;
            Some(FieldProblem::new(
                format!("{prefix}{field}"),
                format!(
                    "names {address}, an address the service may not call (loopback, private, link-local, \
                     metadata…); --pbx-hosts-allow-private allows it"
                ),
            ))
        })
        .collect();
    if problems.is_empty() { Ok(()) } else { Err(ApiError::Invalid(problems)) }
}

pub(crate) fn parse(object: Map<String, Value>) -> Result<NewProfile, Vec<FieldProblem>> {
    match pbx_type(&object).map_err(|problem| vec![problem])? {
        PbxType::Kazoo => parse_body(object, |body: KazooBody| body.parse(&Base::NEW)),
        PbxType::ThreeCx => parse_body(object, |body: ThreeCxBody| body.parse(&Base::NEW)),
        PbxType::Teams => parse_body(object, |body: TeamsBody| body.parse(&Base::NEW)),
    }
}

/// What `operations` make of `current`: the fields they name read by the rules of a create, one by one, the
/// others kept as they are (valid already), the secret kept unread unless written.
///
/// # Errors
/// 400 listing every operation that cannot apply or every problem of the fields they leave; 409 for a failed
/// `test`.
pub(crate) fn patched(
    current: &PbxProfile<Withheld>,
    operations: Vec<PatchOperation>,
) -> Result<ProfileChange, ApiError> {
    let rules = rules(current.pbx_type());
    let secrets_written = rules.secrets_written(&operations);
    let view = || to_object(ProfileView::new(current, Secrets::Hidden, &[], None), &rules);
    let mut edits = edits(view, operations, &rules)?;
    let enabled: Field<bool> = match edits.take("enabled") {
        None => Field::Given(current.enabled),
        Some(value) => serde_json::from_value(value).unwrap_or_default(),
    };
    let mut body = edits.into_object();
    let named: Vec<String> = body.keys().cloned().collect();
    body.insert("_type".to_owned(), Value::from(current.pbx_type().as_str()));
    let mut problems = Problems::default();
    let profile = match &current.connection {
        PbxConnection::Kazoo(kazoo) => parse_body(body, |b: KazooBody| b.parse(&Base::patch(current, kazoo, &named))),
        PbxConnection::ThreeCx(three_cx) => {
            parse_body(body, |b: ThreeCxBody| b.parse(&Base::patch(current, three_cx, &named)))
        }
        PbxConnection::Teams(teams) => parse_body(body, |b: TeamsBody| b.parse(&Base::patch(current, teams, &named))),
    }
    .map_err(|found| problems.extend(found))
    .ok();
    let enabled = match enabled {
        Field::Missing => {
            problems.push("enabled", "is required");
            None
        }
        other => other.or("enabled", false, &mut problems),
    };
    problems
        .or_build(|| Some(ProfileChange { profile: profile?, enabled: enabled?, secrets_written }))
        .map_err(ApiError::Invalid)
}

/// What a patch may do to the fields of a profile of `pbx_type`.
fn rules(pbx_type: PbxType) -> Rules<'static> {
    Rules {
        kind: pbx_type.as_str(),
        fields: fields(pbx_type),
        read_only: &["_type", "id", "tenantId"],
        writable: &["enabled"],
    }
}

/// What a patch may name on a profile of any type: each type's fields, once (a field of another type than the
/// profile's is refused, 400, like any field the profile does not have).
fn targets() -> Vec<PatchTarget> {
    let mut targets: Vec<PatchTarget> = Vec::new();
    for &pbx_type in PbxType::ALL {
        let (rules, enabled) = (rules(pbx_type), [("enabled", flag())]);
        let of_type = match pbx_type {
            PbxType::Kazoo => PatchTarget::of::<KazooBody>(&rules, &enabled),
            PbxType::ThreeCx => PatchTarget::of::<ThreeCxBody>(&rules, &enabled),
            PbxType::Teams => PatchTarget::of::<TeamsBody>(&rules, &enabled),
        };
        for target in of_type {
            if !targets.iter().any(|t| t.field == target.field) {
                targets.push(target);
            }
        }
    }
    targets
}

patch_document!(
    /// A JSON Patch document for a PBX profile.
    PbxPatch,
    "PbxPatch",
    targets()
);

/// The boolean fields of a body sent as the strings `"true"`/`"false"`: the create's answer echoes them so.
pub(crate) fn sent_as_text(object: &Map<String, Value>) -> Vec<String> {
    object
        .iter()
        .filter(|(_, value)| matches!(value, Value::String(s) if s == "true" || s == "false"))
        .map(|(field, _)| field.clone())
        .collect()
}

/// Whether a view shows the profile's secrets. Only the answer to a create does (and the document a patch edits,
/// which is never sent).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Secrets {
    Shown,
    Hidden,
}

/// A profile's credential as a view holds it: a [`Secret`] can be shown, a [`Withheld`] one never is.
pub(crate) trait Credential {
    /// The value, if there is one to show.
    fn value(&self) -> Option<&str>;
}

impl Credential for Secret {
    fn value(&self) -> Option<&str> {
        Some(self.expose())
    }
}

impl Credential for Withheld {
    fn value(&self) -> Option<&str> {
        None
    }
}

/// How a view shows secrets and booleans.
pub(crate) struct Shown<'a> {
    secrets: Secrets,
    sent_as_text: &'a [String],
    connection: Option<&'a pbx_domain::connection::Connection>,
}

impl Shown<'_> {
    /// The secret, when shown.
    pub(super) fn secret<'s>(&self, secret: &'s impl Credential) -> Option<&'s str> {
        if self.secrets == Secrets::Shown { secret.value() } else { None }
    }

    /// A boolean shown the way the client sent it: `"true"` stays a string in the echo of a create, as in the seed.
    pub(super) fn flag(&self, value: bool, field: &str) -> Value {
        if self.sent_as_text.iter().any(|f| f == field) { Value::from(value.to_string()) } else { Value::from(value) }
    }
}

/// A PBX connection profile, chosen by `_type`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
#[schema(as = PbxProfile, discriminator(property_name = "_type", mapping(
    ("KazooPbxConnectionProfile" = "#/components/schemas/KazooPbxConnectionProfile"),
    ("ThreeCxConnectionProfile" = "#/components/schemas/ThreeCxConnectionProfile"),
    ("TeamsPbxConnectionProfile" = "#/components/schemas/TeamsPbxConnectionProfile"),
)))]
pub(crate) enum ProfileView<'a> {
    Kazoo(KazooView<'a>),
    ThreeCx(ThreeCxView<'a>),
    Teams(TeamsView<'a>),
}

impl<'a> ProfileView<'a> {
    /// The view of `profile` and its `connection`; `sent_as_text` names the boolean fields the client sent as
    /// strings.
    pub(crate) fn new<S: Credential>(
        profile: &'a PbxProfile<S>,
        secrets: Secrets,
        sent_as_text: &'a [String],
        connection: Option<&'a pbx_domain::connection::Connection>,
    ) -> Self {
        let shown = Shown { secrets, sent_as_text, connection };
        match &profile.connection {
            PbxConnection::Kazoo(kazoo) => Self::Kazoo(KazooView::new(profile, kazoo, &shown)),
            PbxConnection::ThreeCx(three_cx) => Self::ThreeCx(ThreeCxView::new(profile, three_cx, &shown)),
            PbxConnection::Teams(teams) => Self::Teams(TeamsView::new(profile, teams, &shown)),
        }
    }
}

/// A profile in a list: `{id, name, _type, tenantId, countryCode, enabled, connection}`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = PbxSummary)]
pub(crate) struct SummaryView<'a> {
    #[schema(value_type = Guid)]
    id: String,
    name: &'a str,
    #[serde(rename = "_type")]
    #[schema(example = "KazooPbxConnectionProfile")]
    pbx_type: &'static str,
    /// The customer's tenant id.
    #[schema(value_type = Guid)]
    tenant_id: String,
    #[schema(example = "US")]
    country_code: &'a str,
    enabled: bool,
    /// Whether the profile reaches its PBX (read only; CONTRACT §15).
    connection: pbx_domain::connection::Connection,
}

impl<'a> SummaryView<'a> {
    /// The summary, its kept connection status summarised by `checks`.
    pub(crate) fn new(summary: &'a PbxSummary, checks: &pbx_application::connection::Checks) -> Self {
        Self {
            id: summary.id.to_string(),
            name: &summary.name,
            pbx_type: summary.pbx_type.as_str(),
            tenant_id: summary.customer_id.to_string(),
            country_code: summary.country_code.as_str(),
            enabled: summary.enabled,
            connection: checks.summarize(summary.pbx_type, &summary.connection),
        }
    }
}

/// Whether a PBX instance is attached; `id` and `tenantId` only when it is attached to one of your customers.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = InstanceLookup)]
pub(crate) struct InstanceLookupView<'a> {
    exists: bool,
    /// The instance id as asked.
    instance_id: &'a str,
    /// The profile attached to it.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Guid>)]
    id: Option<String>,
    /// The customer whose profile it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Guid>)]
    tenant_id: Option<String>,
}

impl<'a> InstanceLookupView<'a> {
    /// What the caller may learn of `instance_id`.
    pub(crate) fn new(instance_id: &'a str, found: &InstanceLookup) -> Self {
        let (exists, owner) = match found {
            InstanceLookup::Own(owner) => (true, Some(owner)),
            InstanceLookup::Foreign => (true, None),
            InstanceLookup::Free => (false, None),
        };
        Self {
            exists,
            instance_id,
            id: owner.map(|o| o.pbx_id.to_string()),
            tenant_id: owner.map(|o| o.customer_id.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::object;
    use proptest::prelude::*;
    use serde_json::json;

    fn seed_kazoo() -> Value {
        json!({
            "name": "Clients ~.pbx.kazoo.name.~ Pbx",
            "hostRest": "https://rest.example.com",
            "hostWebsocket": "wss://ws.example.com",
            "accountId": "12345",
            "apiKey": "ABCDEF",
            "_type": "KazooPbxConnectionProfile"
        })
    }

    fn named(problems: &[FieldProblem]) -> Vec<&str> {
        problems.iter().map(|p| p.field.as_str()).collect()
    }

    #[test]
    fn the_seeds_profiles_parse() {
        let kazoo = parse(object(seed_kazoo())).unwrap();
        assert_eq!(kazoo.name.as_str(), "Clients ~.pbx.kazoo.name.~ Pbx");
        assert_eq!(kazoo.country_code, None);
        let PbxConnection::Kazoo(connection) = kazoo.connection else { panic!("a Kazoo connection") };
        assert_eq!(connection.api_key.expose(), "ABCDEF");
        assert!(!connection.monitor_sub_accounts);

        let three_cx = parse(object(json!({
            "_type": "ThreeCxConnectionProfile",
            "name": "3CX Connexion",
            "licenseKey": "licenseKey-licenseKey-licenseKey",
            "username": "nom d'utilisateur-nom d'utilisateur-nom d'utilisateur",
            "password": "mot de passe mot de passe",
            "enableRecordingArchive": "true",
            "recordingArchiveFrequency": "00:20:00"
        })))
        .unwrap();
        let PbxConnection::ThreeCx(connection) = three_cx.connection else { panic!("a 3CX connection") };
        assert!(connection.recording_archive.is_enabled());
        assert_eq!(connection.recording_archive.frequency().map(|f| f.to_string()), Some("00:20:00".to_owned()));
    }

    #[test]
    fn every_broken_field_is_reported_in_field_order_then_the_fields_the_type_lacks() {
        let problems = parse(object(json!({
            "_type": "KazooPbxConnectionProfile",
            "name": 7,
            "countryCode": "XX",
            "hostRest": "ftp://rest.example.com",
            "hostWebsocket": "https://ws.example.com",
            "apiKey": "",
            "monitorSubAccounts": "maybe",
            "licenseKey": "x",
            "id": "x"
        })))
        .unwrap_err();
        assert_eq!(
            named(&problems),
            [
                "name",
                "countryCode",
                "hostRest",
                "hostWebsocket",
                "accountId",
                "apiKey",
                "monitorSubAccounts",
                "id",
                "licenseKey"
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
        let problems = parse(object(json!({
            "_type": "ThreeCxConnectionProfile",
            "licenseKey": "L-1",
            "username": "u",
            "enableRecordingArchive": true
        })))
        .unwrap_err();
        assert_eq!(named(&problems), ["name", "password", "recordingArchiveFrequency"]);
    }

    #[test]
    fn nulls_count_as_missing_and_the_type_is_required() {
        let mut body = seed_kazoo();
        body["countryCode"] = Value::Null;
        body["monitorSubAccounts"] = Value::Null;
        assert!(parse(object(body)).is_ok());
        let problems = parse(object(json!({"name": "x"}))).unwrap_err();
        assert_eq!(
            problems[0].message,
            "is required: one of KazooPbxConnectionProfile, ThreeCxConnectionProfile, TeamsPbxConnectionProfile"
        );
    }

    #[test]
    fn the_schema_of_each_body_names_its_fields_and_secrets() {
        let kazoo = fields(PbxType::Kazoo);
        assert_eq!(kazoo.secrets, ["apiKey"]);
        assert!(kazoo.is_required("accountId") && !kazoo.is_required("monitorSubAccounts"));
        assert_eq!(fields(PbxType::ThreeCx).secrets, ["password"]);
        assert!(fields(PbxType::Teams).secrets.is_empty());
    }

    #[test]
    fn each_types_body_names_its_instance_field_for_the_portal() {
        // The portal finds the field of a type's PBX instance by these words (its 409 message looks the instance up).
        for &pbx_type in PbxType::ALL {
            let (name, schema, _) = body_schema(pbx_type);
            let RefOr::T(Schema::Object(object)) = schema else { panic!("{name}: an object") };
            let unique: Vec<&String> = object
                .properties
                .iter()
                .filter(|(_, property)| {
                    let description = match property {
                        RefOr::T(Schema::Object(object)) => object.description.as_deref(),
                        RefOr::Ref(reference) => Some(reference.description.as_str()),
                        RefOr::T(_) => None,
                    };
                    description.is_some_and(|d| d.contains("unique across the system"))
                })
                .map(|(field, _)| field)
                .collect();
            assert_eq!(unique.len(), 1, "{name}: {unique:?}");
        }
    }

    /// Every type's field names, and those the service sets.
    fn known() -> Vec<String> {
        let mut known: Vec<String> = ["_type", "id", "tenantId", "enabled"].map(str::to_owned).to_vec();
        for &pbx_type in PbxType::ALL {
            known.extend(fields(pbx_type).names.iter().cloned());
        }
        known
    }

    /// Any JSON value, with the field names among the keys and what the fields expect among the strings.
    fn json() -> impl Strategy<Value = Value> {
        let words = vec![
            "KazooPbxConnectionProfile",
            "ThreeCxConnectionProfile",
            "TeamsPbxConnectionProfile",
            "https://rest.example.com",
            "wss://ws.example.com",
            "00:20:00",
            "72f988bf-86f1-41af-91ab-2d7cd011db47",
            "true",
            "US",
        ];
        super::super::arbitrary_json(words, known())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Hostile bodies never panic: they are a profile, or problems (at least one).
        #[test]
        fn any_body_is_a_profile_or_its_problems(
            body in prop::collection::btree_map(prop_oneof![prop::sample::select(known()), ".{0,12}"], json(), 0..10)
        ) {
            if let Err(problems) = parse(body.into_iter().collect()) {
                prop_assert!(!problems.is_empty());
            }
        }
    }
}
