//! The schemas of the domain's value types whose rules are a list or a form: country codes, time zones, time spans
//! and URLs.
//! Each pattern is built from what the domain itself accepts (its list of assigned codes, the time zone database
//! it parses with, the URL form it checks), so the document cannot drift from the server; the tests below compare
//! them value by value.

use std::fmt::Write as _;
use std::sync::LazyLock;

use pbx_domain::{CountryCode, HttpUrl, TimeSpan, Timezone, WsUrl};
use utoipa::openapi::ObjectBuilder;
use utoipa::openapi::schema::{Schema, SchemaType, Type};

/// Every assigned ISO 3166-1 alpha-2 code, in any case: one group per first letter (`[Aa][DdEeFf…]`).
static COUNTRY_CODE: LazyLock<String> = LazyLock::new(|| {
    let mut groups: Vec<(char, String)> = Vec::new();
    for code in CountryCode::assigned() {
        let mut letters = code.chars();
        let (Some(first), Some(second)) = (letters.next(), letters.next()) else { continue };
        let both = format!("{second}{}", second.to_ascii_lowercase());
        match groups.last_mut() {
            Some((letter, seconds)) if *letter == first => seconds.push_str(&both),
            _ => groups.push((first, both)),
        }
    }
    let alternatives: Vec<String> =
        groups.iter().map(|(first, seconds)| format!("[{first}{}][{seconds}]", first.to_ascii_lowercase())).collect();
    format!("^(?:{})$", alternatives.join("|"))
});

/// Every time zone name the service accepts, exactly as spelled (`+` is the only character that needs escaping).
static TIMEZONE: LazyLock<String> = LazyLock::new(|| {
    let mut pattern = String::from("^(?:");
    for (index, name) in Timezone::names().enumerate() {
        if index > 0 {
            pattern.push('|');
        }
        for c in name.chars() {
            if "\\.+*?()|[]{}^$".contains(c) {
                pattern.push('\\');
            }
            let _ = write!(pattern, "{c}");
        }
    }
    pattern.push_str(")$");
    pattern
});

fn string(nullable: bool, description: &str, pattern: &str, example: &str) -> ObjectBuilder {
    let schema_type =
        if nullable { SchemaType::from_iter([Type::String, Type::Null]) } else { SchemaType::Type(Type::String) };
    ObjectBuilder::new()
        .schema_type(schema_type)
        .description(Some(description))
        .pattern(Some(pattern))
        .examples(Some(example))
}

/// An optional country code (any case), described as `description`.
pub(crate) fn country_code(description: &str, example: &str) -> Schema {
    string(true, description, &COUNTRY_CODE, example).into()
}

/// An optional time zone name, described as `description`.
pub(crate) fn timezone(description: &str, example: &str) -> Schema {
    string(true, description, &TIMEZONE, example).into()
}

/// An optional .NET time span.
pub(crate) fn time_span(description: &str, example: &str) -> Schema {
    string(true, description, TimeSpan::pattern(), example).into()
}

/// A required `http`/`https` URL.
pub(crate) fn http_url(description: &str, example: &str) -> Schema {
    string(false, description, HttpUrl::pattern(), example).max_length(Some(2048)).into()
}

/// A required `ws`/`wss` URL.
pub(crate) fn ws_url(description: &str, example: &str) -> Schema {
    string(false, description, WsUrl::pattern(), example).max_length(Some(2048)).into()
}

#[cfg(test)]
mod tests {
    use regex::Regex;

    use super::*;

    #[test]
    fn the_country_pattern_matches_exactly_the_codes_the_domain_parses() {
        let pattern = Regex::new(&COUNTRY_CODE).unwrap();
        let letters: Vec<char> = ('A'..='Z').chain('a'..='z').collect();
        let mut accepted = 0;
        for first in &letters {
            for second in &letters {
                let code = format!("{first}{second}");
                assert_eq!(pattern.is_match(&code), CountryCode::parse(&code).is_ok(), "{code}");
                accepted += usize::from(pattern.is_match(&code));
            }
        }
        assert_eq!(accepted, CountryCode::assigned().len() * 4);
        for other in ["", "U", "USA", "U1", "ÉÉ", " US"] {
            assert!(!pattern.is_match(other), "{other:?}");
        }
    }

    #[test]
    fn the_timezone_pattern_matches_exactly_the_names_the_domain_parses() {
        let pattern = Regex::new(&TIMEZONE).unwrap();
        for name in Timezone::names() {
            assert!(pattern.is_match(name), "{name}");
            let lower = name.to_ascii_lowercase();
            assert_eq!(pattern.is_match(&lower), Timezone::parse(&lower).is_ok(), "{lower}");
        }
        for other in ["", "Mars/Olympus", "Europe/Paris ", "Etc/GMTx1", "UTC|UTC", "+02:00"] {
            assert!(!pattern.is_match(other), "{other:?}");
            assert!(Timezone::parse(other).is_err(), "{other:?}");
        }
        assert!(pattern.is_match("Etc/GMT+1") && pattern.is_match("Etc/GMT-14"));
    }
}
