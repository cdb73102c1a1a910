//! A customer on the wire: the body of a create (and of a patched customer), and the answer.

mod view;

pub(crate) use view::{CustomerView, TenantView};

use std::sync::LazyLock;

use json_patch::PatchOperation;
use pbx_application::pbx::NewProfile;
use pbx_domain::{
    CountryCode, Customer, CustomerName, CustomerOptions, Features, NewCustomer, OptionalText, TenantProfileType,
    Timezone, TrialDays,
};
use serde::Deserialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;
use utoipa::openapi::Schema;
use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, SchemaType, Type};

use super::field::{Count, Field, FieldProblem, Problems};
use super::patch::{PatchTarget, Rules, patch_document, patch_view};
use super::profile::optional_flag;
use super::text::Text;
use super::{Body, Fields, parse_body, values};
use crate::ApiError;

/// Fields of a customer that the service sets.
const SET_BY_SERVICE: &[&str] = &["id", "parentTenantId", "dateCreated", "pbxConnectionProfiles"];

/// What a patch may not change: those, and the first profile (create only).
const PATCH_READ_ONLY: &[&str] =
    &["id", "parentTenantId", "dateCreated", "pbxConnectionProfiles", "pbxConnectionProfile"];

/// A new customer.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = NewCustomer)]
pub(crate) struct CustomerBody {
    #[serde(default)]
    #[schema(schema_with = name, required = true)]
    name: Field<String>,
    #[serde(default)]
    #[schema(schema_with = description)]
    description: Field<String>,
    #[serde(default)]
    #[schema(schema_with = reference)]
    reference: Field<String>,
    #[serde(default)]
    #[schema(schema_with = country_code)]
    country_code: Field<String>,
    #[serde(default)]
    #[schema(schema_with = timezone)]
    timezone: Field<String>,
    /// Whether the customer is active (false when absent).
    #[serde(default)]
    #[schema(schema_with = optional_flag)]
    enabled: Field<bool>,
    #[serde(default)]
    #[schema(schema_with = features)]
    features: Field<Map<String, Value>>,
    #[serde(default)]
    #[schema(schema_with = tenant_profile_type)]
    tenant_profile_type: Field<String>,
    #[serde(default)]
    #[schema(schema_with = trial_duration)]
    trial_duration: Field<Count>,
    /// Whether the ACD agents follow the PBX's (false when absent).
    #[serde(default)]
    #[schema(schema_with = sync_acd_agent_with_pbx)]
    sync_acd_agent_with_pbx: Field<bool>,
    /// Whether new users get an e-mail (true when absent).
    #[serde(default)]
    #[schema(schema_with = send_new_user_email)]
    send_new_user_email: Field<bool>,
    /// Whether the customer gets the Connect welcome e-mail (true when absent).
    #[serde(default)]
    #[schema(schema_with = send_connect_welcome_email)]
    send_connect_welcome_email: Field<bool>,
    #[serde(default)]
    #[schema(schema_with = first_profile)]
    pbx_connection_profile: Field<Map<String, Value>>,
}

/// A first PBX profile, or null.
fn first_profile() -> Schema {
    OneOfBuilder::new()
        .item(utoipa::openapi::Ref::from_schema_name("NewPbxProfile"))
        .item(ObjectBuilder::new().schema_type(SchemaType::Type(Type::Null)))
        .description(Some(
            "A first PBX profile, created with the customer in one transaction (create only): chargeable, so the \
             request needs `accept-charges: true` (402 otherwise, and nothing is created); 409 when its instance is \
             attached elsewhere (nothing created). Its problems are listed as `pbxConnectionProfile.<field>`.",
        ))
        .into()
}

/// The field of a customer's first profile.
const FIRST_PROFILE: &str = "pbxConnectionProfile";

/// The first profile a body gives, with its problems named `pbxConnectionProfile.<field>`.
fn parse_first_profile(given: Field<Map<String, Value>>, problems: &mut Problems) -> Option<Option<NewProfile>> {
    match given {
        Field::Missing => Some(None),
        Field::WrongType => {
            problems.push(FIRST_PROFILE, "must be an object: a PBX profile, chosen by _type");
            None
        }
        Field::Given(object) => match super::profile::parse(object) {
            Ok(profile) => Some(Some(profile)),
            Err(found) => {
                for problem in found {
                    let field = if problem.field.is_empty() {
                        FIRST_PROFILE.to_owned()
                    } else {
                        format!("{FIRST_PROFILE}.{}", problem.field)
                    };
                    problems.push(&field, problem.message);
                }
                None
            }
        },
    }
}

/// A customer as a create sends it: its details, its options, and maybe its first profile.
#[derive(Debug)]
pub(crate) struct NewCustomerInput {
    pub(crate) details: NewCustomer,
    pub(crate) options: CustomerOptions,
    pub(crate) first_profile: Option<NewProfile>,
}

fn sync_acd_agent_with_pbx() -> Schema {
    super::titled(optional_flag(), "Sync ACD agents with the PBX")
}

fn send_new_user_email() -> Schema {
    super::titled(flag_on_by_default(), "Send new users their e-mail")
}

fn send_connect_welcome_email() -> Schema {
    super::titled(flag_on_by_default(), "Send the Connect welcome e-mail")
}

/// A flag that is on unless sent off: `optional_flag` with `true` as its stated default (the portal's checkbox
/// starts checked).
fn flag_on_by_default() -> Schema {
    OneOfBuilder::new()
        .item(ObjectBuilder::new().schema_type(SchemaType::Type(Type::Boolean)))
        .item(ObjectBuilder::new().schema_type(SchemaType::Type(Type::String)).enum_values(Some(["true", "false"])))
        .item(ObjectBuilder::new().schema_type(SchemaType::Type(Type::Null)))
        .description(Some("A boolean; the strings \"true\" and \"false\" are accepted too; true when absent or null."))
        .default(Some(Value::Bool(true)))
        .into()
}

fn integer(description: &str, max: u64) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::Integer))
        .minimum(Some(0))
        .maximum(Some(max))
        .description(Some(description))
}

/// `Features` (a component of its own: client generators read a named object in a union, not an inline one), or
/// null.
fn features() -> Schema {
    OneOfBuilder::new()
        .item(utoipa::openapi::Ref::from_schema_name("Features"))
        .item(ObjectBuilder::new().schema_type(SchemaType::Type(Type::Null)))
        .description(Some("Licence counts; `{\"agent\": 0, \"device\": 0}` when not sent (or null)."))
        .into()
}

fn tenant_profile_type() -> Schema {
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .pattern(Some(TenantProfileType::pattern()))
        .description(Some(
            "The customer's profile type on the platform, `TenantProfileType_analytics` when absent. \
             `TenantProfileType_` then 1–40 letters.",
        ))
        .examples(["TenantProfileType_analytics"])
        .into()
}

/// A trial's days as text: 0 to 90, no leading zero (what [`Count`] and [`TrialDays`] take).
const TRIAL_TEXT: &str = "^([0-9]|[1-8][0-9]|90)$";

fn trial_duration() -> Schema {
    let days = "A trial in days, 0 (none, when absent) to 90; above 0 needs the `customers:trial` scope.";
    OneOfBuilder::new()
        .item(integer(days, u64::from(TrialDays::MAX)))
        .item(
            ObjectBuilder::new()
                .schema_type(SchemaType::Type(Type::String))
                .pattern(Some(TRIAL_TEXT))
                .description(Some("The same number of days, as a string (\"14\").")),
        )
        .item(ObjectBuilder::new().schema_type(SchemaType::Type(Type::Null)))
        .description(Some(days))
        .into()
}

pub(super) fn name() -> Schema {
    Text::Trimmed { max: 100 }.schema("A name for people (1–100 characters after trimming).", Some("Acme"))
}

pub(super) fn country_code() -> Schema {
    values::country_code("An assigned ISO 3166-1 alpha-2 code (any case), `US` when absent.", "FR")
}

pub(super) fn timezone() -> Schema {
    values::timezone("A name of the IANA time zone database (exact spelling), `UTC` when absent.", "Europe/Paris")
}

pub(super) fn description() -> Schema {
    Text::Optional { max: 200 }.schema("Free text, at most 200 characters.", None)
}

pub(super) fn reference() -> Schema {
    Text::Optional { max: 200 }.schema("Your own reference for the customer, at most 200 characters.", None)
}

impl Body for CustomerBody {
    const KIND: &'static str = "a customer";
    const SET_BY_SERVICE: &'static [&'static str] = SET_BY_SERVICE;
    fn fields() -> &'static Fields {
        static FIELDS: LazyLock<Fields> = LazyLock::new(Fields::of::<CustomerBody>);
        &FIELDS
    }
}

/// The features a body gives (both counts, each 0 to 100,000), or none when it sends none; a key besides `agent`
/// and `device` is a problem.
fn parse_features(given: Field<Map<String, Value>>, problems: &mut Problems) -> Option<Features> {
    let object = match given {
        Field::Missing => return Some(Features::default()),
        Field::WrongType => {
            problems.push("features", "must be an object: {\"agent\": n, \"device\": n}");
            return None;
        }
        Field::Given(object) => object,
    };
    let mut counts = [0_u32; 2];
    let mut valid = true;
    for key in ["agent", "device"].into_iter().filter(|key| !object.contains_key(*key)) {
        problems.push(&format!("features.{key}"), "is required when features are sent");
        valid = false;
    }
    for (key, value) in object {
        let Some(slot) = ["agent", "device"].iter().position(|k| *k == key) else {
            problems.push(&format!("features.{key}"), "is not a feature (agent, device)");
            valid = false;
            continue;
        };
        let count = match &value {
            Value::Number(number) => super::field::whole(number),
            _ => None,
        };
        match count.and_then(|n| u32::try_from(n).ok()).filter(|n| *n <= Features::MAX) {
            Some(count) => counts[slot] = count,
            None => {
                problems
                    .push(&format!("features.{key}"), format!("must be a whole number from 0 to {}", Features::MAX));
                valid = false;
            }
        }
    }
    valid.then(|| Features::new(counts[0], counts[1]).ok()).flatten()
}

/// The country and time zone of a customer that sends none: `US` and `UTC`, or its account's.
#[derive(Debug, Clone, Default)]
pub(crate) struct Defaults {
    pub(crate) country_code: CountryCode,
    pub(crate) timezone: Timezone,
}

/// The details every tenant body has (a customer's, an account's), sent or not.
pub(super) struct DetailFields {
    pub(super) name: Field<String>,
    pub(super) description: Field<String>,
    pub(super) reference: Field<String>,
    pub(super) country_code: Field<String>,
    pub(super) timezone: Field<String>,
    pub(super) enabled: Field<bool>,
}

impl DetailFields {
    /// The details, `defaults` filling the country and time zone; `None` after noting every problem.
    pub(super) fn parse(self, defaults: Defaults, problems: &mut Problems) -> Option<NewCustomer> {
        let name = self.name.required("name", CustomerName::parse, problems);
        let description = self.description.optional("description", OptionalText::parse, problems);
        let reference = self.reference.optional("reference", OptionalText::parse, problems);
        let country_code = self.country_code.optional("countryCode", CountryCode::parse, problems);
        let timezone = self.timezone.optional("timezone", Timezone::parse, problems);
        let enabled = self.enabled.or("enabled", false, problems);
        Some(NewCustomer {
            name: name?,
            description: description?,
            reference: reference?,
            country_code: country_code?.unwrap_or(defaults.country_code),
            timezone: timezone?.unwrap_or(defaults.timezone),
            enabled: enabled?,
        })
    }
}

impl CustomerBody {
    /// The customer, or every problem with the body; `defaults` fill the country and time zone unless given.
    fn parse(self, defaults: Defaults) -> Result<NewCustomerInput, Vec<FieldProblem>> {
        let mut problems = Problems::default();
        let details = DetailFields {
            name: self.name,
            description: self.description,
            reference: self.reference,
            country_code: self.country_code,
            timezone: self.timezone,
            enabled: self.enabled,
        }
        .parse(defaults, &mut problems);
        let standard = CustomerOptions::default();
        let features = parse_features(self.features, &mut problems);
        let tenant_profile_type =
            self.tenant_profile_type.optional("tenantProfileType", TenantProfileType::parse, &mut problems);
        let trial = self.trial_duration.or("trialDuration", Count(0), &mut problems);
        let trial = trial.and_then(|Count(days)| {
            TrialDays::new(days).map_err(|e| problems.push("trialDuration", e.to_string())).ok()
        });
        let sync =
            self.sync_acd_agent_with_pbx.or("syncAcdAgentWithPbx", standard.sync_acd_agent_with_pbx, &mut problems);
        let new_user = self.send_new_user_email.or("sendNewUserEmail", standard.send_new_user_email, &mut problems);
        let welcome = self.send_connect_welcome_email.or(
            "sendConnectWelcomeEmail",
            standard.send_connect_welcome_email,
            &mut problems,
        );
        let first_profile = parse_first_profile(self.pbx_connection_profile, &mut problems);
        problems.or_build(|| {
            let options = CustomerOptions {
                features: features?,
                tenant_profile_type: tenant_profile_type?.unwrap_or(standard.tenant_profile_type),
                trial_duration: trial?,
                sync_acd_agent_with_pbx: sync?,
                send_new_user_email: new_user?,
                send_connect_welcome_email: welcome?,
            };
            Some(NewCustomerInput { details: details?, options, first_profile: first_profile? })
        })
    }
}

/// The customer a body describes, `defaults` filling what it does not send.
///
/// # Errors
/// Every broken field, then every field a customer does not have.
pub(crate) fn parse(object: Map<String, Value>, defaults: Defaults) -> Result<NewCustomerInput, Vec<FieldProblem>> {
    parse_body(object, |body: CustomerBody| body.parse(defaults))
}

/// What `operations` make of `current`: its view patched, then read back as the body of a create.
///
/// # Errors
/// 400 listing every operation that cannot apply or every problem of the patched customer; 409 for a failed
/// `test`.
pub(crate) fn patched(
    current: &Customer,
    operations: Vec<PatchOperation>,
) -> Result<(NewCustomer, CustomerOptions), ApiError> {
    let view = patch_view(CustomerView::new(current), operations, &rules())?;
    // `pbxConnectionProfile` is read-only in a patch (create only): the input never has one here.
    let input = parse(view, Defaults::default()).map_err(ApiError::Invalid)?;
    Ok((input.details, input.options))
}

/// What a patch may do to a customer's fields.
fn rules() -> Rules<'static> {
    Rules { kind: CustomerBody::KIND, fields: CustomerBody::fields(), read_only: PATCH_READ_ONLY, writable: &[] }
}

patch_document!(
    /// A JSON Patch document for a customer.
    CustomerPatch,
    "CustomerPatch",
    // The first profile is create-only and the profiles' summaries are not in the document a patch edits: not even
    // a `test` of either is listed.
    PatchTarget::of::<CustomerBody>(&rules(), &[])
        .into_iter()
        .filter(|target| ![FIRST_PROFILE, "pbxConnectionProfiles"].contains(&target.field.as_str()))
        .collect::<Vec<_>>()
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::object;
    use serde_json::json;

    #[test]
    fn a_name_alone_makes_a_customer_with_defaults() {
        let customer = parse(object(json!({"name": "Acme"})), Defaults::default()).unwrap();
        let named = NewCustomer::named(CustomerName::parse("Acme").unwrap());
        assert_eq!((customer.details, customer.options), (named, CustomerOptions::default()));
        assert!(customer.first_profile.is_none());
    }

    #[test]
    fn the_platforms_customer_fields_are_read_with_their_leniency() {
        let body = json!({
            "name": "Acme",
            "features": {"agent": 5, "device": 100_000},
            "tenantProfileType": "TenantProfileType_callcenter",
            "trialDuration": "14",
            "syncAcdAgentWithPbx": "true",
            "sendNewUserEmail": false,
        });
        let options = parse(object(body), Defaults::default()).unwrap().options;
        assert_eq!((options.features.agent(), options.features.device()), (5, 100_000));
        assert_eq!(options.tenant_profile_type.as_str(), "TenantProfileType_callcenter");
        assert_eq!(options.trial_duration.days(), 14);
        assert!(options.sync_acd_agent_with_pbx && !options.send_new_user_email && options.send_connect_welcome_email);
    }

    proptest::proptest! {
        #[test]
        fn the_trial_text_pattern_is_what_the_parser_takes(text in "[0-9]{1,4}|-?[0-9 .+e]{0,4}") {
            let pattern = regex::Regex::new(TRIAL_TEXT).unwrap();
            let parsed = parse(object(json!({"name": "A", "trialDuration": text.clone()})), Defaults::default()).is_ok();
            proptest::prop_assert_eq!(pattern.is_match(&text), parsed, "{}", text);
        }
    }

    #[test]
    fn a_first_profiles_problems_are_named_under_its_field_with_the_customers_own() {
        let body = json!({"name": " ", "pbxConnectionProfile": {"_type": "KazooPbxConnectionProfile", "name": "K",
            "hostRest": "ftp://x", "accountId": "1", "apiKey": "k", "hostWebsocket": "wss://ws.example.com"}});
        let problems = parse(object(body), Defaults::default()).unwrap_err();
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, ["name", "pbxConnectionProfile.hostRest"]);
        let typeless = parse(object(json!({"name": "A", "pbxConnectionProfile": {"name": "K"}})), Defaults::default());
        assert_eq!(typeless.unwrap_err()[0].field, "pbxConnectionProfile._type");
        let three_cx = json!({"_type": "ThreeCxConnectionProfile", "name": "T", "licenseKey": "L-1", "username": "u", "password": "p"});
        let input = parse(object(json!({"name": "A", "pbxConnectionProfile": three_cx})), Defaults::default()).unwrap();
        assert_eq!(input.first_profile.map(|p| p.connection.pbx_type()), Some(pbx_domain::PbxType::ThreeCx));
    }

    #[test]
    fn every_broken_option_is_reported() {
        let body = json!({
            "name": "Acme",
            "features": {"agent": -1, "device": 100_001, "seats": 3},
            "tenantProfileType": "Analytics",
            "trialDuration": 91,
            "sendNewUserEmail": "yes",
        });
        let problems = parse(object(body), Defaults::default()).unwrap_err();
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "features.agent",
                "features.device",
                "features.seats",
                "tenantProfileType",
                "trialDuration",
                "sendNewUserEmail"
            ]
        );
        let text = |v: Value| parse(object(json!({"name": "A", "trialDuration": v})), Defaults::default()).is_ok();
        assert!(text(json!(6.0)), "a whole float is an integer to JSON Schema");
        let features = |v: Value| {
            let problems =
                parse(object(json!({"name": "A", "features": v})), Defaults::default()).err().unwrap_or_default();
            problems.into_iter().map(|p| p.field).collect::<Vec<_>>()
        };
        assert_eq!(features(json!({"agent": 1})), ["features.device"], "both counts, when features are sent");
        assert_eq!(features(json!({})), ["features.agent", "features.device"]);
        assert_eq!(features(json!([1, 2])), ["features"]);
        assert!(features(json!(null)).is_empty() && features(json!({"agent": 0, "device": 7.0})).is_empty());
        assert!(
            text(json!("90")) && text(json!(0)) && !text(json!("14 days")) && !text(json!(1.5)) && !text(json!(""))
        );
    }

    #[test]
    fn every_problem_is_reported_in_field_order_then_the_unknown_fields() {
        let problems = parse(
            object(json!({
                "id": "x",
                "description": "d".repeat(201),
                "countryCode": "ZZ",
                "timezone": "Mars/Olympus",
                "enabled": "maybe",
                "colour": "red"
            })),
            Defaults::default(),
        )
        .unwrap_err();
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, ["name", "description", "countryCode", "timezone", "enabled", "colour", "id"]);
        assert_eq!(problems[6].message, "is set by the service and cannot be sent");
    }
}
