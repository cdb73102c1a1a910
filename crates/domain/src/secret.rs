//! Secret values (API keys, passwords) that never show themselves.

use std::fmt;

/// Why a secret was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    /// An empty secret.
    #[error("must not be empty")]
    Empty,
    /// Longer than [`Secret::MAX_CHARS`].
    #[error("must be at most {max} characters", max = Secret::MAX_CHARS)]
    TooLong,
    /// Holds a control or format character (Unicode Cc, Cf): NUL, a line break, a zero-width space…
    #[error("must not contain control or format characters")]
    ControlCharacter,
}

/// A credential: 1 to 256 characters, no control or format character, kept exactly as given (no trimming).
///
/// `Debug` and `Display` print `[REDACTED]`; the value is read only through [`Secret::expose`], so that every place
/// that reveals it is easy to find.
///
/// ```
/// let key = pbx_domain::Secret::parse("ABCDEF").unwrap();
/// assert_eq!(format!("{key} {key:?}"), "[REDACTED] Secret([REDACTED])");
/// assert_eq!(key.expose(), "ABCDEF");
/// ```
#[derive(Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Deserialize), serde(try_from = "String"))]
pub struct Secret(String);

impl Secret {
    /// The most characters a secret may have.
    pub const MAX_CHARS: usize = 256;

    /// Checks the length of a secret.
    ///
    /// # Errors
    /// [`SecretError`] when `value` is empty, longer than [`Secret::MAX_CHARS`] characters, or holds a control or
    /// format character.
    pub fn parse(value: &str) -> Result<Self, SecretError> {
        if value.is_empty() {
            return Err(SecretError::Empty);
        }
        if value.chars().count() > Self::MAX_CHARS {
            return Err(SecretError::TooLong);
        }
        if value.chars().any(crate::text::is_control_or_format) {
            return Err(SecretError::ControlCharacter);
        }
        Ok(Self(value.to_owned()))
    }

    /// The secret itself. Call it only to send the value where it belongs (the PBX, the cipher).
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([REDACTED])")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[REDACTED]")
    }
}

impl TryFrom<String> for Secret {
    type Error = SecretError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

/// What a profile holds in place of a credential when it was read without its secrets: a profile shown to a caller
/// (whose views never include secrets) is read as `PbxProfile<Withheld>`, so the store need not decrypt anything and
/// the compiler stops any code that would try to send a credential it does not have.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Withheld;

/// What a change does to a profile's credential: keeps the stored one, which it never reads (so the store need not
/// decrypt it, nor encrypt it again), or writes a new one. A changed profile is `PbxProfile<SecretEdit>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretEdit {
    /// The stored credential, unchanged.
    Kept,
    /// A credential the change writes.
    Written(Secret),
}

impl From<Secret> for SecretEdit {
    fn from(secret: Secret) -> Self {
        Self::Written(secret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn length_rules() {
        assert_eq!(Secret::parse(""), Err(SecretError::Empty));
        assert!(Secret::parse(&"k".repeat(256)).is_ok());
        assert_eq!(Secret::parse(&"k".repeat(257)), Err(SecretError::TooLong));
        assert_eq!(Secret::parse(" spaced ").unwrap().expose(), " spaced ", "kept exactly");
        assert_eq!(Secret::parse("key\u{0}"), Err(SecretError::ControlCharacter), "NUL");
        assert_eq!(Secret::parse("\u{2066}key"), Err(SecretError::ControlCharacter), "an isolate (Cf)");
    }

    proptest! {
        #[test]
        fn formatting_never_reveals_the_value(value in "[a-z0-9]{12,40}") {
            let secret = Secret::parse(&value).unwrap();
            let shown = format!("{secret} {secret:?} {secret:#?}");
            prop_assert!(!shown.contains(&value));
            prop_assert_eq!(secret.expose(), value.as_str());
        }
    }
}
