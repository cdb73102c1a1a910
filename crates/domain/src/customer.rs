//! A reseller's customer: the tenant that PBX profiles are attached to.

use chrono::{DateTime, Utc};

use crate::text::bounded_text;
use crate::{CountryCode, CustomerId, ResellerId, TextError, Timezone};

bounded_text!(
    /// A customer's name: 1 to 100 characters after trimming, no control characters.
    CustomerName,
    bounded,
    100
);

/// Optional free text of at most 200 characters (a customer's `description` or `reference`), trimmed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(try_from = "String", into = "String")
)]
pub struct OptionalText(String);

impl OptionalText {
    /// The most characters allowed, after trimming.
    pub const MAX_CHARS: usize = 200;

    /// Trims `value` and checks it; an empty value is allowed.
    ///
    /// # Errors
    /// [`TextError`] when the trimmed value is too long or has a control character.
    pub fn parse(value: &str) -> Result<Self, TextError> {
        if value.trim().is_empty() {
            return Ok(Self(String::new()));
        }
        crate::text::bounded(value, Self::MAX_CHARS).map(Self)
    }

    /// The text (possibly empty).
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for OptionalText {
    type Error = TextError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<OptionalText> for String {
    fn from(value: OptionalText) -> Self {
        value.0
    }
}

/// What a reseller gives to create a customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCustomer {
    /// The customer's name.
    pub name: CustomerName,
    /// A description, if any.
    pub description: Option<OptionalText>,
    /// The reseller's own reference for the customer (an account number…), if any.
    pub reference: Option<OptionalText>,
    /// The country; PBX profiles created without a country take this one.
    pub country_code: CountryCode,
    /// The customer's time zone.
    pub timezone: Timezone,
    /// Whether the customer is enabled.
    pub enabled: bool,
}

impl NewCustomer {
    /// A customer with only a name: country `US`, time zone `UTC`, not enabled.
    #[must_use]
    pub fn named(name: CustomerName) -> Self {
        Self {
            name,
            description: None,
            reference: None,
            country_code: CountryCode::US,
            timezone: Timezone::UTC,
            enabled: false,
        }
    }
}

/// A customer as stored: what was given, plus its id, its reseller and its creation time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Customer {
    /// The customer's tenant id.
    pub id: CustomerId,
    /// The reseller tenant that owns the customer.
    pub reseller_id: ResellerId,
    /// When it was created (UTC).
    pub date_created: DateTime<Utc>,
    /// The customer's details.
    pub details: NewCustomer,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_named_customer_has_the_documented_defaults() {
        let customer = NewCustomer::named(CustomerName::parse(" Acme ").unwrap());
        assert_eq!(customer.name.as_str(), "Acme");
        assert_eq!(customer.country_code, CountryCode::US);
        assert_eq!(customer.timezone, Timezone::UTC);
        assert!(!customer.enabled);
    }

    #[test]
    fn optional_text_allows_empty_and_bounds_length() {
        assert_eq!(OptionalText::parse("  ").unwrap().as_str(), "");
        assert_eq!(OptionalText::parse(&"x".repeat(200)).unwrap().as_str().len(), 200);
        assert_eq!(OptionalText::parse(&"x".repeat(201)), Err(TextError::TooLong { max: 200 }));
    }
}
