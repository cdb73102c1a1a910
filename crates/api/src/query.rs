//! The query string, read by one parser for every route: each parameter at most once, percent-decoded to valid
//! UTF-8 (`+` is a space), text parameters held to the text rule of bodies, numbers to their range — and every
//! problem named in one 400.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::future::{Ready, ready};

use actix_web::{FromRequest, HttpRequest, dev::Payload};
use pbx_domain::is_control_or_format;

use crate::ApiError;
use crate::wire::field::FieldProblem;

/// A request's query parameters, and the problems found in them so far.
#[derive(Debug, Default)]
pub(crate) struct QueryParams {
    values: HashMap<String, String>,
    problems: Vec<FieldProblem>,
}

impl QueryParams {
    /// Reads `query` (the part of the URI after `?`).
    pub(crate) fn parse(query: &str) -> Self {
        let mut params = Self::default();
        for pair in query.split('&').filter(|pair| !pair.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let Some(name) = decode(name) else {
                params.problem("query", "a parameter name is not valid UTF-8 once percent-decoded");
                continue;
            };
            let Some(value) = decode(value) else {
                params.problem(&name, "must be valid UTF-8 once percent-decoded");
                continue;
            };
            match params.values.entry(name) {
                Entry::Occupied(taken) => {
                    let name = taken.key().clone();
                    params.problem(&name, "must be given at most once");
                }
                Entry::Vacant(free) => {
                    free.insert(value);
                }
            }
        }
        params
    }

    /// The parameter `name` as sent, when it was.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// The text parameter `name`, when it was sent and has no control or format character (otherwise a problem).
    pub(crate) fn text(&mut self, name: &str) -> Option<String> {
        let value = self.values.get(name)?.clone();
        if value.chars().any(is_control_or_format) {
            self.problem(name, "must not contain control or format characters");
            return None;
        }
        Some(value)
    }

    /// The whole number `name`, `default` when it was not sent; one outside `min..=max` (or not a number) is a
    /// problem, and reads as `default`.
    pub(crate) fn number(&mut self, name: &str, default: u64, min: u64, max: u64) -> u64 {
        match self.values.get(name).map(|text| text.trim().parse::<u64>()) {
            None => default,
            Some(Ok(n)) if (min..=max).contains(&n) => n,
            Some(_) => {
                self.problem(name, &format!("must be a whole number from {min} to {max}"));
                default
            }
        }
    }

    /// `value`, unless a problem was found: then a 400 naming each.
    ///
    /// # Errors
    /// [`ApiError::Invalid`] with every problem, in the order found.
    pub(crate) fn checked<T>(self, value: T) -> Result<T, ApiError> {
        if self.problems.is_empty() { Ok(value) } else { Err(ApiError::Invalid(self.problems)) }
    }

    fn problem(&mut self, name: &str, message: &str) {
        // A parameter repeated three times is named once.
        if !self.problems.iter().any(|p| p.field == name && p.message == message) {
            self.problems.push(FieldProblem::new(name, message));
        }
    }
}

/// `text` percent-decoded, `+` read as a space; `None` when the bytes are not UTF-8.
fn decode(text: &str) -> Option<String> {
    let spaced = text.replace('+', " ");
    let bytes = percent_encoding::percent_decode_str(&spaced).collect::<Vec<u8>>();
    String::from_utf8(bytes).ok()
}

impl FromRequest for QueryParams {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(Self::parse(request.query_string())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(params: QueryParams) -> Vec<(String, String)> {
        match params.checked(()) {
            Ok(()) => Vec::new(),
            Err(ApiError::Invalid(problems)) => problems.into_iter().map(|p| (p.field, p.message)).collect(),
            Err(other) => panic!("{other:?}"),
        }
    }

    #[test]
    fn values_are_percent_decoded_with_plus_as_a_space() {
        let params = QueryParams::parse("filter=Acme+%C3%A9t%C3%A9&empty=&bare&pageSize=5");
        assert_eq!(params.get("filter"), Some("Acme été"));
        assert_eq!((params.get("empty"), params.get("bare")), (Some(""), Some("")));
        assert_eq!(params.get("pageSize"), Some("5"));
        assert_eq!(problems(params), []);
    }

    #[test]
    fn a_repeated_parameter_or_bytes_that_are_not_utf8_are_named() {
        let params = QueryParams::parse("pageSize=1&pageSize=2&pageSize=3&filter=%FF&%FE=1");
        assert_eq!(params.get("pageSize"), Some("1"));
        assert_eq!(
            problems(params),
            [
                ("pageSize".to_owned(), "must be given at most once".to_owned()),
                ("filter".to_owned(), "must be valid UTF-8 once percent-decoded".to_owned()),
                ("query".to_owned(), "a parameter name is not valid UTF-8 once percent-decoded".to_owned()),
            ]
        );
    }

    #[test]
    fn text_follows_the_text_rule_of_bodies() {
        for (query, ok) in [
            ("filter=plain", true),
            ("filter=%00", false),
            ("filter=a%0Ab", false),
            ("filter=%E2%80%8B", false),
            ("filter=%E2%80%AE", false),
        ] {
            let mut params = QueryParams::parse(query);
            let text = params.text("filter");
            assert_eq!(text.is_some(), ok, "{query}");
            assert_eq!(problems(params).is_empty(), ok, "{query}");
        }
    }

    #[test]
    fn numbers_keep_to_their_range() {
        let mut params = QueryParams::parse("limit=0&wait=30");
        assert_eq!((params.number("limit", 100, 1, 1000), params.number("wait", 0, 0, 30)), (100, 30));
        assert_eq!(params.number("absent", 7, 0, 9), 7);
        assert_eq!(problems(params), [("limit".to_owned(), "must be a whole number from 1 to 1000".to_owned())]);
    }
}
