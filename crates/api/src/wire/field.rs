//! One field of a request body as sent — absent, of another JSON type than expected, or given — and the problems
//! found while turning fields into domain values, all of them, in field order.

use std::fmt::Display;

use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// One problem with one field of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldProblem {
    /// The field, as the API names it (`hostRest`), or where in the body (`/0/op`).
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

/// A field of a request body. Deserialising one never fails, so that a body with several broken fields is read
/// whole and every problem reported at once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) enum Field<T> {
    /// Not sent, or sent as null.
    #[default]
    Missing,
    /// Sent with another JSON type than [`Wire::EXPECTED`].
    WrongType,
    /// Sent.
    Given(T),
}

/// A JSON type a field can hold.
pub(crate) trait Wire: Sized {
    /// What the field must be, for messages (`a string`).
    const EXPECTED: &'static str;
    /// The value, when `value` has the right type.
    fn from_json(value: Value) -> Option<Self>;
}

impl Wire for String {
    const EXPECTED: &'static str = "a string";
    fn from_json(value: Value) -> Option<Self> {
        match value {
            Value::String(text) => Some(text),
            _ => None,
        }
    }
}

/// Booleans take `true`/`false` or the strings `"true"`/`"false"`, as the platform's own examples send them.
impl Wire for bool {
    const EXPECTED: &'static str = "a boolean (true or false)";
    fn from_json(value: Value) -> Option<Self> {
        match value {
            Value::Bool(flag) => Some(flag),
            Value::String(text) if text == "true" => Some(true),
            Value::String(text) if text == "false" => Some(false),
            _ => None,
        }
    }
}

/// A whole number of days or items: a JSON integer, or the same number written as a string (`"14"`, no sign, no
/// leading zero), as the platform's own examples send it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Count(pub(crate) u64);

/// `number` when it is whole and not negative: JSON Schema counts `6.0` as an integer, so this does too.
pub(crate) fn whole(number: &serde_json::Number) -> Option<u64> {
    number.as_u64().or_else(|| {
        let float = number.as_f64()?;
        // Below 2^53 every whole float is exact; no count here comes near.
        (float.fract() == 0.0 && (0.0..9_007_199_254_740_992.0).contains(&float)).then_some(float as u64)
    })
}

impl Wire for Count {
    const EXPECTED: &'static str = "a whole number (or one as a string)";
    fn from_json(value: Value) -> Option<Self> {
        match value {
            Value::Number(number) => whole(&number).map(Self),
            Value::String(text)
                if (1..=19).contains(&text.len())
                    && text.bytes().all(|b| b.is_ascii_digit())
                    && (text == "0" || !text.starts_with('0')) =>
            {
                text.parse().ok().map(Self)
            }
            _ => None,
        }
    }
}

/// A JSON object.
impl Wire for serde_json::Map<String, Value> {
    const EXPECTED: &'static str = "an object";
    fn from_json(value: Value) -> Option<Self> {
        match value {
            Value::Object(object) => Some(object),
            _ => None,
        }
    }
}

impl<'de, T: Wire> Deserialize<'de> for Field<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(match Value::deserialize(deserializer)? {
            Value::Null => Self::Missing,
            value => T::from_json(value).map_or(Self::WrongType, Self::Given),
        })
    }
}

const REQUIRED: &str = "is required";

impl<T: Wire> Field<T> {
    fn wrong_type(field: &str, problems: &mut Problems) {
        problems.push(field, format!("must be {}", T::EXPECTED));
    }
}

impl Field<String> {
    /// The value `parse` makes of a required field, or `None` after noting its problem.
    pub(crate) fn required<U, E: Display>(
        self,
        field: &str,
        parse: impl FnOnce(&str) -> Result<U, E>,
        problems: &mut Problems,
    ) -> Option<U> {
        match self {
            Self::Given(text) => parse(&text).map_err(|e| problems.push(field, e.to_string())).ok(),
            Self::Missing => {
                problems.push(field, REQUIRED);
                None
            }
            Self::WrongType => {
                Self::wrong_type(field, problems);
                None
            }
        }
    }

    /// The value `parse` makes of an optional field (`Some(None)` when absent), or `None` after noting its problem.
    pub(crate) fn optional<U, E: Display>(
        self,
        field: &str,
        parse: impl FnOnce(&str) -> Result<U, E>,
        problems: &mut Problems,
    ) -> Option<Option<U>> {
        match self {
            Self::Missing => Some(None),
            other => other.required(field, parse, problems).map(Some),
        }
    }
}

impl<T> Field<T> {
    /// `kept` when there is one (a field a patch does not name keeps the profile's value: it is absent from the
    /// patch's body), else what `read` makes of the field.
    pub(crate) fn or_kept<U>(self, kept: Option<U>, read: impl FnOnce(Self) -> Option<U>) -> Option<U> {
        match kept {
            Some(kept) => Some(kept),
            None => read(self),
        }
    }
}

impl<T: Wire> Field<T> {
    /// The value, `default` when absent, or `None` after noting its problem.
    pub(crate) fn or(self, field: &str, default: T, problems: &mut Problems) -> Option<T> {
        match self {
            Self::Given(value) => Some(value),
            Self::Missing => Some(default),
            Self::WrongType => {
                Self::wrong_type(field, problems);
                None
            }
        }
    }
}

/// The problems found in a body, in the order they were found.
#[derive(Debug, Default)]
pub(crate) struct Problems(Vec<FieldProblem>);

impl Problems {
    /// Notes a problem with `field`.
    pub(crate) fn push(&mut self, field: &str, message: impl Into<String>) {
        self.0.push(FieldProblem::new(field, message));
    }

    /// Notes problems found elsewhere.
    pub(crate) fn extend(&mut self, problems: impl IntoIterator<Item = FieldProblem>) {
        self.0.extend(problems);
    }

    /// What `build` makes when no problem was noted (it then has every value it needs), else every problem.
    pub(crate) fn or_build<T>(self, build: impl FnOnce() -> Option<T>) -> Result<T, Vec<FieldProblem>> {
        if self.0.is_empty() { build().ok_or_else(Vec::new) } else { Err(self.0) }
    }

    /// The problems noted.
    #[cfg(test)]
    pub(crate) fn into_vec(self) -> Vec<FieldProblem> {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn field<T: Wire>(value: Value) -> Field<T> {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn fields_are_read_whatever_was_sent() {
        assert_eq!(field::<String>(json!("a")), Field::Given("a".to_owned()));
        assert_eq!(field::<String>(json!(null)), Field::Missing);
        assert_eq!(field::<String>(json!(true)), Field::WrongType);
        assert_eq!(field::<bool>(json!("false")), Field::Given(false));
        assert_eq!(field::<bool>(json!(true)), Field::Given(true));
        assert_eq!(field::<bool>(json!("yes")), Field::WrongType);
        assert_eq!(field::<bool>(json!(1)), Field::WrongType);
    }

    #[test]
    fn every_problem_is_noted_with_its_message() {
        let mut problems = Problems::default();
        assert_eq!(Field::<String>::Missing.required("a", |s| s.parse::<u8>(), &mut problems), None);
        assert_eq!(Field::<String>::WrongType.optional("b", |s| s.parse::<u8>(), &mut problems), None);
        assert_eq!(Field::Given("x".to_owned()).required("c", |s| s.parse::<u8>(), &mut problems), None);
        assert_eq!(Field::<String>::Missing.optional("d", |s| s.parse::<u8>(), &mut problems), Some(None));
        assert_eq!(Field::<bool>::WrongType.or("e", false, &mut problems), None);
        let found: Vec<(String, String)> = problems.into_vec().into_iter().map(|p| (p.field, p.message)).collect();
        assert_eq!(
            found,
            [
                ("a".to_owned(), "is required".to_owned()),
                ("b".to_owned(), "must be a string".to_owned()),
                ("c".to_owned(), "invalid digit found in string".to_owned()),
                ("e".to_owned(), "must be a boolean (true or false)".to_owned()),
            ]
        );
    }
}
