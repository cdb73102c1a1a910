//! Absolute URLs of a given kind: `http`/`https` for REST, `ws`/`wss` for websockets.

use std::fmt;

/// Why a URL was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    /// Not an absolute URL with a host.
    #[error("must be an absolute URL with a host, such as {example}")]
    NotAbsolute {
        /// A URL of the expected kind.
        example: &'static str,
    },
    /// An absolute URL of another scheme.
    #[error("must use the {expected} scheme")]
    WrongScheme {
        /// The schemes allowed, for the message.
        expected: &'static str,
    },
    /// Holds a control or format character (Unicode Cc, Cf).
    #[error("must not contain control or format characters")]
    ControlCharacter,
    /// Longer than 2,048 characters.
    #[error("must be at most 2048 characters")]
    TooLong,
}

const MAX_URL_CHARS: usize = 2048;

/// Checks an absolute URL of one of `schemes` and returns it exactly as given.
fn parse_kind(
    value: &str,
    schemes: &[&str],
    expected: &'static str,
    example: &'static str,
) -> Result<String, UrlError> {
    if value.chars().count() > MAX_URL_CHARS {
        return Err(UrlError::TooLong);
    }
    // The URL parser silently drops tabs and line breaks: refuse them, and the other Cc/Cf characters, instead.
    if value.chars().any(crate::text::is_control_or_format) {
        return Err(UrlError::ControlCharacter);
    }
    if value != value.trim() {
        return Err(UrlError::NotAbsolute { example });
    }
    let parsed = url::Url::parse(value).map_err(|_| UrlError::NotAbsolute { example })?;
    if !schemes.contains(&parsed.scheme()) {
        return Err(UrlError::WrongScheme { expected });
    }
    match parsed.host_str() {
        Some(host) if !host.is_empty() => Ok(value.to_owned()),
        _ => Err(UrlError::NotAbsolute { example }),
    }
}

macro_rules! url_kind {
    ($(#[$meta:meta])* $name:ident, [$($scheme:literal),+], $expected:literal, $example:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[cfg_attr(
            feature = "serde",
            derive(serde::Serialize, serde::Deserialize),
            serde(try_from = "String", into = "String")
        )]
        pub struct $name(String);

        impl $name {
            /// Checks an absolute URL of this kind. The URL is kept exactly as given (no trailing slash added).
            ///
            /// # Errors
            /// [`UrlError`] when `value` is not an absolute URL with a host, or has another scheme.
            pub fn parse(value: &str) -> Result<Self, UrlError> {
                parse_kind(value, &[$($scheme),+], $expected, $example).map(Self)
            }

            /// The URL as given.
            #[must_use]
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl TryFrom<String> for $name {
            type Error = UrlError;
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

url_kind!(
    /// An absolute `http` or `https` URL (Kazoo's `hostRest`).
    HttpUrl, ["http", "https"], "http or https", "https://rest.example.com"
);
url_kind!(
    /// An absolute `ws` or `wss` URL (Kazoo's `hostWebsocket`).
    WsUrl, ["ws", "wss"], "ws or wss", "wss://ws.example.com"
);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn http_urls() {
        assert_eq!(HttpUrl::parse("https://rest.example.com").unwrap().as_str(), "https://rest.example.com");
        assert!(HttpUrl::parse("http://10.0.0.1:8000/v2").is_ok());
        let cases = [
            ("wss://ws.example.com", UrlError::WrongScheme { expected: "http or https" }),
            ("ftp://rest.example.com", UrlError::WrongScheme { expected: "http or https" }),
            ("rest.example.com", UrlError::NotAbsolute { example: "https://rest.example.com" }),
            ("/relative", UrlError::NotAbsolute { example: "https://rest.example.com" }),
            ("", UrlError::NotAbsolute { example: "https://rest.example.com" }),
            (" https://rest.example.com", UrlError::NotAbsolute { example: "https://rest.example.com" }),
        ];
        for (input, expected) in cases {
            assert_eq!(HttpUrl::parse(input), Err(expected), "{input:?}");
        }
    }

    #[test]
    fn websocket_urls() {
        assert_eq!(WsUrl::parse("wss://ws.example.com").unwrap().as_str(), "wss://ws.example.com");
        assert!(WsUrl::parse("ws://ws.example.com:5555").is_ok());
        assert_eq!(WsUrl::parse("https://ws.example.com"), Err(UrlError::WrongScheme { expected: "ws or wss" }));
        assert_eq!(WsUrl::parse("wss://ws.exa\tmple.com"), Err(UrlError::ControlCharacter), "not silently dropped");
        assert_eq!(HttpUrl::parse("https://a.com/\u{202e}"), Err(UrlError::ControlCharacter));
    }

    #[test]
    fn overlong_urls_are_refused() {
        let long = format!("https://example.com/{}", "a".repeat(MAX_URL_CHARS));
        assert_eq!(HttpUrl::parse(&long), Err(UrlError::TooLong));
    }

    proptest! {
        #[test]
        fn generated_urls_round_trip(host in "[a-z][a-z0-9]{0,20}(\\.[a-z]{2,6}){1,2}", port in proptest::option::of(1u16..)) {
            let url = match port { Some(p) => format!("wss://{host}:{p}"), None => format!("wss://{host}") };
            let parsed = WsUrl::parse(&url).unwrap();
            prop_assert_eq!(parsed.as_str(), url.as_str());
        }

        #[test]
        fn parse_never_panics(s in ".*") {
            let _ = HttpUrl::parse(&s);
        }
    }
}
