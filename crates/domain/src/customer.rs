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

/// Why a customer option was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OptionError {
    /// A feature count outside 0–100,000.
    #[error("must be 0 to {max}", max = Features::MAX)]
    FeatureCount,
    /// A tenant profile type not of the form `TenantProfileType_` and 1–40 letters.
    #[error("must be TenantProfileType_ followed by 1 to 40 letters (TenantProfileType_analytics, say)")]
    TenantProfileType,
    /// A trial longer than 90 days.
    #[error("must be 0 to {max} days", max = TrialDays::MAX)]
    TrialDuration,
}

/// The features a customer has, as licence counts: 0 turns one off.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Features {
    agent: u32,
    device: u32,
}

impl Features {
    /// The most of each feature.
    pub const MAX: u32 = 100_000;

    /// `agent` and `device` licences, each 0 to [`Features::MAX`].
    ///
    /// # Errors
    /// [`OptionError::FeatureCount`] for a count above the maximum.
    pub const fn new(agent: u32, device: u32) -> Result<Self, OptionError> {
        if agent > Self::MAX || device > Self::MAX {
            return Err(OptionError::FeatureCount);
        }
        Ok(Self { agent, device })
    }

    /// Agent licences.
    #[must_use]
    pub const fn agent(&self) -> u32 {
        self.agent
    }

    /// Device licences.
    #[must_use]
    pub const fn device(&self) -> u32 {
        self.device
    }
}

/// The kind of tenant profile the platform gives the customer: `TenantProfileType_` and 1 to 40 ASCII letters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TenantProfileType(String);

impl TenantProfileType {
    const PREFIX: &'static str = "TenantProfileType_";

    /// Checks the form.
    ///
    /// # Errors
    /// [`OptionError::TenantProfileType`] for anything else.
    pub fn parse(value: &str) -> Result<Self, OptionError> {
        let rest = value.strip_prefix(Self::PREFIX).ok_or(OptionError::TenantProfileType)?;
        if (1..=40).contains(&rest.len()) && rest.bytes().all(|b| b.is_ascii_alphabetic()) {
            Ok(Self(value.to_owned()))
        } else {
            Err(OptionError::TenantProfileType)
        }
    }

    /// The form as a regular expression (anchored), for the OpenAPI document.
    #[must_use]
    pub const fn pattern() -> &'static str {
        "^TenantProfileType_[A-Za-z]{1,40}$"
    }

    /// The type.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for TenantProfileType {
    fn default() -> Self {
        Self("TenantProfileType_analytics".to_owned())
    }
}

/// A trial's length in days: 0 (no trial) to 90.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct TrialDays(u8);

impl TrialDays {
    /// The longest trial.
    pub const MAX: u8 = 90;

    /// `days`, if at most [`TrialDays::MAX`].
    ///
    /// # Errors
    /// [`OptionError::TrialDuration`] above it.
    pub fn new(days: u64) -> Result<Self, OptionError> {
        u8::try_from(days).ok().filter(|d| *d <= Self::MAX).map(Self).ok_or(OptionError::TrialDuration)
    }

    /// The days.
    #[must_use]
    pub const fn days(self) -> u8 {
        self.0
    }
}

/// What the platform's clients set on a customer beyond its details (§11 of the contract).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerOptions {
    /// Licence counts.
    pub features: Features,
    /// The tenant profile type.
    pub tenant_profile_type: TenantProfileType,
    /// A trial, in days (0: none). Granting one is a privilege of its own.
    pub trial_duration: TrialDays,
    /// Whether the ACD agents follow the PBX's.
    pub sync_acd_agent_with_pbx: bool,
    /// Whether new users get an e-mail.
    pub send_new_user_email: bool,
    /// Whether the customer gets the Connect welcome e-mail.
    pub send_connect_welcome_email: bool,
}

impl Default for CustomerOptions {
    /// No features, the analytics profile, no trial, no sync, both e-mails sent.
    fn default() -> Self {
        Self {
            features: Features::default(),
            tenant_profile_type: TenantProfileType::default(),
            trial_duration: TrialDays::default(),
            sync_acd_agent_with_pbx: false,
            send_new_user_email: true,
            send_connect_welcome_email: true,
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
    /// Its options.
    pub options: CustomerOptions,
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
    fn options_have_their_documented_bounds() {
        assert!(Features::new(Features::MAX, 0).is_ok() && Features::new(0, Features::MAX + 1).is_err());
        assert_eq!(TrialDays::new(90).map(TrialDays::days), Ok(90));
        assert!(TrialDays::new(91).is_err() && TrialDays::new(u64::MAX).is_err());
        assert_eq!(TenantProfileType::default().as_str(), "TenantProfileType_analytics");
        for bad in [
            "TenantProfileType_",
            "TenantProfileType_a1",
            "tenantProfileType_x",
            "x",
            &format!("TenantProfileType_{}", "a".repeat(41)),
        ] {
            assert!(TenantProfileType::parse(bad).is_err(), "{bad}");
        }
        let options = CustomerOptions::default();
        assert!(options.send_new_user_email && options.send_connect_welcome_email && !options.sync_acd_agent_with_pbx);
    }

    proptest::proptest! {
        #[test]
        fn the_tenant_profile_type_pattern_is_the_parser(value in "TenantProfileType_[A-Za-z0-9_]{0,42}|[A-Za-z_]{0,30}") {
            let pattern = regex::Regex::new(TenantProfileType::pattern()).unwrap();
            proptest::prop_assert_eq!(pattern.is_match(&value), TenantProfileType::parse(&value).is_ok());
        }
    }

    #[test]
    fn optional_text_allows_empty_and_bounds_length() {
        assert_eq!(OptionalText::parse("  ").unwrap().as_str(), "");
        assert_eq!(OptionalText::parse(&"x".repeat(200)).unwrap().as_str().len(), 200);
        assert_eq!(OptionalText::parse(&"x".repeat(201)), Err(TextError::TooLong { max: 200 }));
    }
}
