//! A customer on the wire: the body of a create (and of a patched customer), and the answer.

use std::sync::LazyLock;

use json_patch::PatchOperation;
use pbx_domain::{CountryCode, Customer, CustomerName, NewCustomer, OptionalText, Timezone};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;
use utoipa::openapi::Schema;

use super::field::{Field, FieldProblem, Problems};
use super::patch::{PatchTarget, Rules, patch_document, patch_view};
use super::profile::optional_flag;
use super::text::Text;
use super::{Body, Fields, Guid, parse_body, values};
use crate::{ApiError, timestamp};

/// Fields of a customer that the service sets.
const SET_BY_SERVICE: &[&str] = &["id", "parentTenantId", "dateCreated"];

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
}

fn name() -> Schema {
    Text::Trimmed { max: 100 }.schema("A name for people (1–100 characters after trimming).", Some("Acme"))
}

fn country_code() -> Schema {
    values::country_code("An assigned ISO 3166-1 alpha-2 code (any case), `US` when absent.", "FR")
}

fn timezone() -> Schema {
    values::timezone("A name of the IANA time zone database (exact spelling), `UTC` when absent.", "Europe/Paris")
}

fn description() -> Schema {
    Text::Optional { max: 200 }.schema("Free text, at most 200 characters.", None)
}

fn reference() -> Schema {
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

/// The country and time zone of a customer that sends none: `US` and `UTC`, or its account's.
#[derive(Debug, Clone, Default)]
pub(crate) struct Defaults {
    pub(crate) country_code: CountryCode,
    pub(crate) timezone: Timezone,
}

impl CustomerBody {
    /// The customer, or every problem with the body; `defaults` fill the country and time zone unless given.
    pub(super) fn parse(self, defaults: Defaults) -> Result<NewCustomer, Vec<FieldProblem>> {
        let mut problems = Problems::default();
        let name = self.name.required("name", CustomerName::parse, &mut problems);
        let description = self.description.optional("description", OptionalText::parse, &mut problems);
        let reference = self.reference.optional("reference", OptionalText::parse, &mut problems);
        let country_code = self.country_code.optional("countryCode", CountryCode::parse, &mut problems);
        let timezone = self.timezone.optional("timezone", Timezone::parse, &mut problems);
        let enabled = self.enabled.or("enabled", false, &mut problems);
        problems.or_build(|| {
            Some(NewCustomer {
                name: name?,
                description: description?,
                reference: reference?,
                country_code: country_code?.unwrap_or(defaults.country_code),
                timezone: timezone?.unwrap_or(defaults.timezone),
                enabled: enabled?,
            })
        })
    }
}

/// The customer a body describes, `defaults` filling what it does not send.
///
/// # Errors
/// Every broken field, then every field a customer does not have.
pub(crate) fn parse(object: Map<String, Value>, defaults: Defaults) -> Result<NewCustomer, Vec<FieldProblem>> {
    parse_body(object, |body: CustomerBody| body.parse(defaults))
}

/// What `operations` make of `current`: its view patched, then read back as the body of a create.
///
/// # Errors
/// 400 listing every operation that cannot apply or every problem of the patched customer; 409 for a failed
/// `test`.
pub(crate) fn patched(current: &Customer, operations: Vec<PatchOperation>) -> Result<NewCustomer, ApiError> {
    parse(patch_view(CustomerView::new(current), operations, &rules())?, Defaults::default()).map_err(ApiError::Invalid)
}

/// What a patch may do to a customer's fields.
fn rules() -> Rules<'static> {
    Rules { kind: CustomerBody::KIND, fields: CustomerBody::fields(), read_only: SET_BY_SERVICE, writable: &[] }
}

patch_document!(
    /// A JSON Patch document for a customer.
    CustomerPatch,
    "CustomerPatch",
    PatchTarget::of::<CustomerBody>(&rules(), &[])
);

/// A customer of a reseller.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Customer)]
pub(crate) struct CustomerView<'a> {
    #[schema(value_type = Guid)]
    id: String,
    #[schema(example = "Acme")]
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reference: Option<&'a str>,
    #[schema(example = "US")]
    country_code: &'a str,
    #[schema(example = "UTC")]
    timezone: &'a str,
    enabled: bool,
    /// The reseller's tenant id.
    #[schema(value_type = Guid)]
    parent_tenant_id: String,
    #[schema(value_type = String, example = "2019-11-29T16:03:23.9251680Z")]
    date_created: String,
}

impl<'a> CustomerView<'a> {
    pub(crate) fn new(customer: &'a Customer) -> Self {
        Self::of(customer.id.to_string(), &customer.details, customer.reseller_id, customer.date_created)
    }

    /// The view of a tenant `id` with `details`, under `parent`, created at `date_created`.
    pub(super) fn of(
        id: String,
        details: &'a NewCustomer,
        parent: pbx_domain::ResellerId,
        date_created: chrono::DateTime<chrono::Utc>,
    ) -> Self {
        Self {
            id,
            name: details.name.as_str(),
            description: details.description.as_ref().map(|t| t.as_str()),
            reference: details.reference.as_ref().map(|t| t.as_str()),
            country_code: details.country_code.as_str(),
            timezone: details.timezone.name(),
            enabled: details.enabled,
            parent_tenant_id: parent.to_string(),
            date_created: timestamp(date_created),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(value: Value) -> Map<String, Value> {
        let Value::Object(object) = value else { panic!("an object") };
        object
    }

    #[test]
    fn a_name_alone_makes_a_customer_with_defaults() {
        let customer = parse(object(json!({"name": "Acme"})), Defaults::default()).unwrap();
        assert_eq!(customer, NewCustomer::named(CustomerName::parse("Acme").unwrap()));
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
