//! Bounded, printable text: the rule shared by names and free-text fields.

/// Why a piece of text was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    /// Empty, or only whitespace, where a value is required.
    #[error("must not be empty")]
    Empty,
    /// Longer than allowed (counted in characters, after trimming).
    #[error("must be at most {max} characters")]
    TooLong {
        /// The largest length allowed.
        max: usize,
    },
    /// Holds a control character (a line break, a tab, NUL, …) or a format character (a zero-width space, a
    /// right-to-left override, …): Unicode categories Cc and Cf.
    #[error("must not contain control or format characters")]
    ControlCharacter,
    /// Holds a space or an invisible character where only visible characters are allowed.
    #[error("must contain only visible characters (no spaces)")]
    NotVisible,
}

/// Whether `c` is a control character (Unicode Cc: NUL, a line break…) or a format character (Cf: a zero-width
/// space, U+202E which shows the text after it reversed…). No text field takes either: they are invisible, or change
/// what the text around them looks like, so two values that look the same could differ.
#[must_use]
pub fn is_control_or_format(c: char) -> bool {
    use icu_properties::{CodePointMapData, props::GeneralCategory};
    matches!(CodePointMapData::<GeneralCategory>::new().get(c), GeneralCategory::Control | GeneralCategory::Format)
}

/// Trims `value` and checks it is 1 to `max` characters with no control or format character.
pub(crate) fn bounded(value: &str, max: usize) -> Result<String, TextError> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(TextError::Empty);
    }
    if trimmed.chars().count() > max {
        return Err(TextError::TooLong { max });
    }
    if trimmed.chars().any(is_control_or_format) {
        return Err(TextError::ControlCharacter);
    }
    Ok(trimmed.to_owned())
}

/// Checks that `value` is 1 to `max` visible characters (no whitespace, control or format character), untrimmed.
pub(crate) fn visible(value: &str, max: usize) -> Result<String, TextError> {
    if value.is_empty() {
        return Err(TextError::Empty);
    }
    if value.chars().count() > max {
        return Err(TextError::TooLong { max });
    }
    if value.chars().any(|c| c.is_whitespace() || is_control_or_format(c)) {
        return Err(TextError::NotVisible);
    }
    Ok(value.to_owned())
}

/// Declares a newtype over a trimmed, bounded string (`trimmed`) or a run of visible characters (`visible`).
macro_rules! bounded_text {
    ($(#[$meta:meta])* $name:ident, $check:ident, $max:expr) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[cfg_attr(
            feature = "serde",
            derive(serde::Serialize, serde::Deserialize),
            serde(try_from = "String", into = "String")
        )]
        pub struct $name(String);

        impl $name {
            /// The most characters allowed.
            pub const MAX_CHARS: usize = $max;

            /// Checks the length and characters of `value`.
            ///
            /// # Errors
            /// [`TextError`](crate::TextError) when the value is empty, too long or has a character it may not.
            pub fn parse(value: &str) -> Result<Self, $crate::TextError> {
                $crate::text::$check(value, $max).map(Self)
            }

            /// The text.
            #[must_use]
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl TryFrom<String> for $name {
            type Error = $crate::TextError;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse(&value)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> Self {
                value.0
            }
        }
    };
}
pub(crate) use bounded_text;

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn bounded_trims_and_checks() {
        let cases: &[(&str, Result<&str, TextError>, &str)] = &[
            ("  Main PBX ", Ok("Main PBX"), "surrounding spaces are trimmed"),
            ("", Err(TextError::Empty), "empty"),
            ("   ", Err(TextError::Empty), "blank"),
            ("a\u{0}b", Err(TextError::ControlCharacter), "NUL"),
            ("a\nb", Err(TextError::ControlCharacter), "inner line break"),
            ("ab\u{202e}cd", Err(TextError::ControlCharacter), "right-to-left override (Cf)"),
            ("a\u{200b}b", Err(TextError::ControlCharacter), "zero-width space (Cf)"),
            ("a\u{feff}", Err(TextError::ControlCharacter), "byte order mark (Cf)"),
            ("ééé", Ok("ééé"), "counted in characters, not bytes"),
            ("abcdefghi", Err(TextError::TooLong { max: 8 }), "too long"),
        ];
        for (input, expected, why) in cases {
            assert_eq!(bounded(input, 8), expected.clone().map(str::to_owned), "{why}");
        }
    }

    #[test]
    fn visible_keeps_the_value_and_refuses_spaces() {
        assert_eq!(visible("abc-123", 8), Ok("abc-123".to_owned()));
        assert_eq!(visible("", 8), Err(TextError::Empty));
        assert_eq!(visible(" abc", 8), Err(TextError::NotVisible));
        assert_eq!(visible("a\u{7}", 8), Err(TextError::NotVisible));
        assert_eq!(visible("Acct\u{200b}A1", 8), Err(TextError::NotVisible), "zero-width space");
        assert_eq!(visible("ＡcctA1", 8), Ok("ＡcctA1".to_owned()), "fullwidth letters are visible");
        assert_eq!(visible("123456789", 8), Err(TextError::TooLong { max: 8 }));
    }

    proptest! {
        #[test]
        fn accepted_text_is_trimmed_bounded_and_printable(s in ".{0,12}") {
            if let Ok(text) = bounded(&s, 8) {
                prop_assert_eq!(text.trim(), text.as_str());
                prop_assert!(!text.is_empty() && text.chars().count() <= 8);
                prop_assert!(!text.chars().any(is_control_or_format));
                prop_assert_eq!(bounded(&text, 8), Ok(text.clone()));
            }
        }
    }
}
