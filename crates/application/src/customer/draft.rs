//! A customer as a client sent it.

use pbx_domain::{CountryCode, CustomerName, NewCustomer, OptionalText, Timezone};
use validator::{Validate, ValidationError};

use crate::input::{self, FieldProblem, Input, Problems, Raw, optional_flag, parse_optional, parse_required};

/// A customer as sent: each field kept as given until [`CustomerDraft::parse`].
#[derive(Debug, Clone, Default, Validate)]
pub struct CustomerDraft {
    #[validate(custom(function = "name"))]
    name: Input<String>,
    #[validate(custom(function = "text"))]
    description: Input<String>,
    #[validate(custom(function = "text"))]
    reference: Input<String>,
    #[validate(custom(function = "country_code"))]
    country_code: Input<String>,
    #[validate(custom(function = "timezone"))]
    timezone: Input<String>,
    #[validate(custom(function = "optional_flag"))]
    enabled: Input<bool>,
    #[validate(skip)]
    refused: Vec<FieldProblem>,
}

fn name(input: &Input<String>) -> Result<(), ValidationError> {
    input::required(input, CustomerName::parse)
}

fn text(input: &Input<String>) -> Result<(), ValidationError> {
    input::optional(input, OptionalText::parse)
}

fn country_code(input: &Input<String>) -> Result<(), ValidationError> {
    input::optional(input, CountryCode::parse)
}

fn timezone(input: &Input<String>) -> Result<(), ValidationError> {
    input::optional(input, Timezone::parse)
}

/// Fields of a customer that the service sets.
const SET_BY_SERVICE: [&str; 3] = ["id", "parentTenantId", "dateCreated"];

impl CustomerDraft {
    /// The API names of the fields a client may send, in the order the API shows them.
    pub const FIELDS: [&'static str; 6] = ["name", "description", "reference", "countryCode", "timezone", "enabled"];

    /// Sets the field the API calls `field`. A field customers do not have is remembered as a problem.
    pub fn set(&mut self, field: &str, raw: Raw) {
        match field {
            "name" => self.name = Input::text(raw),
            "description" => self.description = Input::text(raw),
            "reference" => self.reference = Input::text(raw),
            "countryCode" => self.country_code = Input::text(raw),
            "timezone" => self.timezone = Input::text(raw),
            "enabled" => self.enabled = Input::flag(raw),
            _ => {
                let message = if SET_BY_SERVICE.contains(&field) {
                    "is set by the service and cannot be sent"
                } else {
                    "is not a field of a customer"
                };
                self.refused.push(FieldProblem::new(field, message));
            }
        }
    }

    /// Every problem with the draft.
    #[must_use]
    pub fn problems(&self) -> Vec<FieldProblem> {
        let mut problems = self.validate().err().map(|e| input::problems(&e, &Self::FIELDS)).unwrap_or_default();
        problems.extend(self.refused.iter().cloned());
        problems
    }

    /// The new customer; country `US` and time zone `UTC` unless given.
    ///
    /// # Errors
    /// Every problem [`CustomerDraft::problems`] finds, when there is any.
    pub fn parse(self) -> Result<NewCustomer, Vec<FieldProblem>> {
        let problems = self.problems();
        if !problems.is_empty() {
            return Err(problems);
        }
        let mut problems = Problems::from_vec(problems);
        let name = problems.take(parse_required("name", self.name, CustomerName::parse));
        let description = problems.take(parse_optional("description", self.description, OptionalText::parse));
        let reference = problems.take(parse_optional("reference", self.reference, OptionalText::parse));
        let country_code = problems.take(parse_optional("countryCode", self.country_code, CountryCode::parse));
        let timezone = problems.take(parse_optional("timezone", self.timezone, Timezone::parse));
        match (name, description, reference, country_code, timezone) {
            (Some(name), Some(description), Some(reference), Some(country_code), Some(timezone))
                if problems.is_empty() =>
            {
                Ok(NewCustomer {
                    name,
                    description,
                    reference,
                    country_code: country_code.unwrap_or_default(),
                    timezone: timezone.unwrap_or_default(),
                    enabled: self.enabled.or(false),
                })
            }
            _ => Err(problems.into_vec()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_alone_makes_a_customer_with_defaults() {
        let mut draft = CustomerDraft::default();
        draft.set("name", Raw::Text("Acme".into()));
        let customer = draft.parse().unwrap();
        assert_eq!(customer, NewCustomer::named(CustomerName::parse("Acme").unwrap()));
    }

    #[test]
    fn every_problem_is_reported() {
        let mut draft = CustomerDraft::default();
        draft.set("description", Raw::Text("d".repeat(201)));
        draft.set("countryCode", Raw::Text("ZZ".into()));
        draft.set("timezone", Raw::Text("Mars/Olympus".into()));
        draft.set("enabled", Raw::Number);
        draft.set("id", Raw::Text("x".into()));
        draft.set("colour", Raw::Text("x".into()));
        let fields: Vec<String> = draft.parse().unwrap_err().into_iter().map(|p| p.field).collect();
        assert_eq!(fields, ["name", "description", "countryCode", "timezone", "enabled", "id", "colour"]);
    }
}
