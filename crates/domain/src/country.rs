//! ISO 3166-1 alpha-2 country codes.

use std::fmt;

/// The officially assigned ISO 3166-1 alpha-2 codes, sorted.
const ASSIGNED: [&str; 249] = [
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX", "AZ", "BA", "BB", "BD",
    "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS", "BT", "BV", "BW", "BY", "BZ", "CA",
    "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN", "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE",
    "DJ", "DK", "DM", "DO", "DZ", "EC", "EE", "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR", "GA",
    "GB", "GD", "GE", "GF", "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY", "HK",
    "HM", "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM", "JO", "JP",
    "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC", "LI", "LK", "LR", "LS", "LT",
    "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK", "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS",
    "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA", "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ",
    "OM", "PA", "PE", "PF", "PG", "PH", "PK", "PL", "PM", "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS",
    "RU", "RW", "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS", "ST",
    "SV", "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO", "TR", "TT", "TV", "TW",
    "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI", "VN", "VU", "WF", "WS", "YE", "YT", "ZA",
    "ZM", "ZW",
];

/// Not an assigned ISO 3166-1 alpha-2 code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be an ISO 3166-1 alpha-2 country code, such as US or FR")]
pub struct CountryCodeError;

/// An assigned ISO 3166-1 alpha-2 country code, held in upper case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(try_from = "String", into = "String")
)]
pub struct CountryCode([u8; 2]);

impl CountryCode {
    /// The United States, the default of a customer created without a country.
    pub const US: Self = Self(*b"US");

    /// Parses a two-letter code in any case (`"fr"` → `FR`).
    ///
    /// # Errors
    /// [`CountryCodeError`] unless `value` is an assigned alpha-2 code.
    pub fn parse(value: &str) -> Result<Self, CountryCodeError> {
        let upper = value.to_ascii_uppercase();
        match ASSIGNED.binary_search(&upper.as_str()) {
            Ok(index) => {
                let code = ASSIGNED[index].as_bytes();
                Ok(Self([code[0], code[1]]))
            }
            Err(_) => Err(CountryCodeError),
        }
    }

    /// Every assigned code, in upper case and in order: what [`CountryCode::parse`] accepts (in any case).
    #[must_use]
    pub fn assigned() -> &'static [&'static str] {
        &ASSIGNED
    }

    /// The code, in upper case.
    #[must_use]
    pub fn as_str(&self) -> &str {
        // Both bytes come from `ASSIGNED`, which is ASCII.
        std::str::from_utf8(&self.0).unwrap_or("US")
    }
}

impl Default for CountryCode {
    fn default() -> Self {
        Self::US
    }
}

impl fmt::Display for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl TryFrom<String> for CountryCode {
    type Error = CountryCodeError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<CountryCode> for String {
    fn from(value: CountryCode) -> Self {
        value.as_str().to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_table_is_sorted_without_duplicates() {
        assert!(ASSIGNED.windows(2).all(|pair| pair[0] < pair[1]));
    }

    #[test]
    fn parse_accepts_assigned_codes_in_any_case() {
        for (input, expected) in [("US", "US"), ("fr", "FR"), ("Gb", "GB"), ("ZW", "ZW"), ("AD", "AD")] {
            assert_eq!(CountryCode::parse(input).unwrap().as_str(), expected, "{input}");
        }
    }

    #[test]
    fn parse_rejects_unassigned_or_malformed_codes() {
        for input in ["", "U", "USA", "UK", "XX", "1A", "u s", "ÉÉ"] {
            assert_eq!(CountryCode::parse(input), Err(CountryCodeError), "{input:?}");
        }
    }

    proptest! {
        #[test]
        fn every_parsed_code_round_trips(s in "[A-Za-z]{2}") {
            if let Ok(code) = CountryCode::parse(&s) {
                prop_assert_eq!(code.as_str(), s.to_ascii_uppercase());
                prop_assert_eq!(CountryCode::parse(code.as_str()), Ok(code));
            }
        }
    }
}
