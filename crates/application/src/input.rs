//! Input as a client sent it, before it is parsed into domain types, and the field problems found in it.
//!
//! A front end turns each field of a request into a [`Raw`] value; drafts ([`crate::pbx::ProfileDraft`],
//! [`crate::customer::CustomerDraft`]) keep them as [`Input`]s and check them with `validator`, whose custom rules
//! call the domain's parsers, so that every broken field is reported at once and each rule lives in one place.

use std::borrow::Cow;
use std::fmt::Display;

use validator::{ValidationError, ValidationErrors};

/// A field value as the client sent it, stripped of any wire format.
#[derive(Debug, Clone, PartialEq)]
pub enum Raw {
    /// An explicit null.
    Null,
    /// A boolean.
    Bool(bool),
    /// A string.
    Text(String),
    /// A number.
    Number,
    /// An array.
    Array,
    /// An object.
    Object,
}

/// A field of a draft: absent, of the wrong type, or given.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Input<T> {
    /// Not sent, or sent as null.
    #[default]
    Missing,
    /// Sent with another type than the one expected (named here, for the message).
    WrongType(&'static str),
    /// Sent.
    Given(T),
}

/// `validator` copies the value of a field it refuses into its error; an [`Input`] serialises as nothing, so that no
/// submitted value (a secret, say) travels with a validation error.
impl<T> serde::Serialize for Input<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_unit()
    }
}

impl Input<String> {
    /// A string field.
    #[must_use]
    pub fn text(raw: Raw) -> Self {
        match raw {
            Raw::Null => Self::Missing,
            Raw::Text(text) => Self::Given(text),
            _ => Self::WrongType("a string"),
        }
    }
}

impl Input<bool> {
    /// A boolean field; the strings `"true"` and `"false"` are accepted too, as the platform's own examples send
    /// them.
    #[must_use]
    pub fn flag(raw: Raw) -> Self {
        match raw {
            Raw::Null => Self::Missing,
            Raw::Bool(value) => Self::Given(value),
            Raw::Text(text) if text == "true" => Self::Given(true),
            Raw::Text(text) if text == "false" => Self::Given(false),
            _ => Self::WrongType("a boolean (true or false)"),
        }
    }

    /// The value, or `default` when missing. A wrong type has been reported by validation before this is used.
    #[must_use]
    pub fn or(&self, default: bool) -> bool {
        match self {
            Self::Given(value) => *value,
            _ => default,
        }
    }
}

/// One problem with one field of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldProblem {
    /// The field, as the API names it (`hostRest`).
    pub field: String,
    /// What is wrong, for people (`must use the http or https scheme`).
    pub message: String,
}

impl FieldProblem {
    /// A problem with `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into() }
    }
}

const REQUIRED: &str = "is required";

fn problem(message: String) -> ValidationError {
    ValidationError::new("invalid").with_message(Cow::Owned(message))
}

/// A `validator` rule for a required string field checked by a domain parser.
///
/// # Errors
/// A [`ValidationError`] whose message says what is wrong.
pub fn required<T, E: Display>(
    input: &Input<String>,
    parse: impl Fn(&str) -> Result<T, E>,
) -> Result<(), ValidationError> {
    match input {
        Input::Missing => Err(problem(REQUIRED.to_owned())),
        Input::WrongType(expected) => Err(problem(format!("must be {expected}"))),
        Input::Given(value) => parse(value).map(drop).map_err(|e| problem(e.to_string())),
    }
}

/// A `validator` rule for an optional string field checked by a domain parser.
///
/// # Errors
/// A [`ValidationError`] whose message says what is wrong.
pub fn optional<T, E: Display>(
    input: &Input<String>,
    parse: impl Fn(&str) -> Result<T, E>,
) -> Result<(), ValidationError> {
    match input {
        Input::Missing => Ok(()),
        other => required(other, parse),
    }
}

/// A `validator` rule for an optional boolean field.
///
/// # Errors
/// A [`ValidationError`] when the field was sent with another type.
pub fn optional_flag(input: &Input<bool>) -> Result<(), ValidationError> {
    match input {
        Input::WrongType(expected) => Err(problem(format!("must be {expected}"))),
        _ => Ok(()),
    }
}

/// Parses a required field that validation has accepted.
///
/// # Errors
/// The field's problem, should it be missing or invalid after all.
pub fn parse_required<T, E: Display>(
    field: &str,
    input: Input<String>,
    parse: impl Fn(&str) -> Result<T, E>,
) -> Result<T, FieldProblem> {
    match input {
        Input::Given(value) => parse(&value).map_err(|e| FieldProblem::new(field, e.to_string())),
        Input::Missing => Err(FieldProblem::new(field, REQUIRED)),
        Input::WrongType(expected) => Err(FieldProblem::new(field, format!("must be {expected}"))),
    }
}

/// Parses an optional field that validation has accepted.
///
/// # Errors
/// The field's problem, should it be invalid after all.
pub fn parse_optional<T, E: Display>(
    field: &str,
    input: Input<String>,
    parse: impl Fn(&str) -> Result<T, E>,
) -> Result<Option<T>, FieldProblem> {
    match input {
        Input::Missing => Ok(None),
        other => parse_required(field, other, parse).map(Some),
    }
}

/// The API's name of a Rust field (`host_rest` → `hostRest`).
fn camel_case(field: &str) -> String {
    let mut out = String::with_capacity(field.len());
    let mut upper = false;
    for c in field.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// The problems `validator` found, named as the API names fields and ordered as `order` lists them.
#[must_use]
pub fn problems(errors: &ValidationErrors, order: &[&str]) -> Vec<FieldProblem> {
    let mut found: Vec<FieldProblem> = errors
        .field_errors()
        .into_iter()
        .flat_map(|(field, errors)| {
            let field = camel_case(&field);
            errors.iter().map(move |error| {
                let message = error.message.as_deref().unwrap_or("is invalid");
                FieldProblem::new(field.clone(), message)
            })
        })
        .collect();
    found.sort_by_key(|p| order.iter().position(|f| *f == p.field).unwrap_or(order.len()));
    found
}

/// Gathers the results of parsing several fields, keeping every problem.
#[derive(Debug, Default)]
pub struct Problems(Vec<FieldProblem>);

impl Problems {
    /// Starts from the problems already known.
    #[must_use]
    pub fn from_vec(problems: Vec<FieldProblem>) -> Self {
        Self(problems)
    }

    /// The value of `result`, or `None` after noting its problem.
    pub fn take<T>(&mut self, result: Result<T, FieldProblem>) -> Option<T> {
        result.map_err(|problem| self.0.push(problem)).ok()
    }

    /// Notes a problem.
    pub fn push(&mut self, problem: FieldProblem) {
        self.0.push(problem);
    }

    /// Whether no problem was noted.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The problems noted.
    #[must_use]
    pub fn into_vec(self) -> Vec<FieldProblem> {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_case_fields_are_named_in_camel_case() {
        assert_eq!(camel_case("host_rest"), "hostRest");
        assert_eq!(camel_case("enable_recording_archive"), "enableRecordingArchive");
        assert_eq!(camel_case("name"), "name");
    }

    #[test]
    fn flags_accept_booleans_and_their_strings_only() {
        assert_eq!(Input::flag(Raw::Bool(true)), Input::Given(true));
        assert_eq!(Input::flag(Raw::Text("false".into())), Input::Given(false));
        assert_eq!(Input::flag(Raw::Null), Input::Missing);
        assert!(matches!(Input::flag(Raw::Text("yes".into())), Input::WrongType(_)));
        assert!(matches!(Input::flag(Raw::Number), Input::WrongType(_)));
    }

    #[test]
    fn text_accepts_strings_only() {
        assert_eq!(Input::text(Raw::Text("a".into())), Input::Given("a".to_owned()));
        assert_eq!(Input::text(Raw::Null), Input::Missing);
        assert_eq!(Input::text(Raw::Bool(true)), Input::WrongType("a string"));
    }
}
