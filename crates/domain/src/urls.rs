//! Absolute URLs of a given kind: `http`/`https` for REST, `ws`/`wss` for websockets.
//!
//! Beside what the URL parser accepts, a URL must have the form of [`HttpUrl::PATTERN`] / [`WsUrl::PATTERN`]:
//! a host that is a DNS name (ASCII letters, digits and hyphens; the last label starts with a letter), an IPv4
//! address or a bracketed IPv6 address; an optional port up to 65535; then only visible ASCII. So no user name or
//! password in the URL, and no text the parser would silently rewrite. The pattern is the one the OpenAPI document
//! publishes, so a client's validator and the server agree exactly.

use std::fmt;
use std::sync::LazyLock;

use regex::Regex;

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
    /// An absolute URL whose host, port or characters are outside the accepted form.
    #[error(
        "must be of the form scheme://host[:port][/path] with scheme {schemes}, the host a DNS name, an IPv4 address \
         or a bracketed IPv6 address, no user name or password, and only visible ASCII characters"
    )]
    Form {
        /// The schemes allowed, as the message writes them.
        schemes: &'static str,
    },
    /// Longer than 2,048 characters.
    #[error("must be at most 2048 characters")]
    TooLong,
}

const MAX_URL_CHARS: usize = 2048;

/// The accepted form of a URL whose scheme matches `scheme` (a case-insensitive pattern), as a regular expression
/// that Rust's, JavaScript's and Python's engines read alike (no look-around, ASCII classes only).
fn form(scheme: &str) -> String {
    const A: &str = "[A-Za-z0-9]";
    const H: &str = "[A-Za-z0-9-]";
    // A label: letters, digits and inner hyphens, never `--` as its third and fourth characters (`xn--` labels
    // are punycode, which a pattern cannot check).
    let label = |first: &str| format!("{first}(?:{A}|{H}{A}|{H}(?:{A}{A}|-{A}|(?:{A}{H}|-{A}){H}*{A}))?");
    let octet = "(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])";
    let ipv4 = format!("(?:{octet}\\.){{3}}{octet}");
    let h16 = "[0-9A-Fa-f]{1,4}";
    let ls32 = format!("(?:{h16}:{h16}|{ipv4})");
    let ipv6 = [
        format!("(?:{h16}:){{6}}{ls32}"),
        format!("::(?:{h16}:){{5}}{ls32}"),
        format!("(?:{h16})?::(?:{h16}:){{4}}{ls32}"),
        format!("(?:(?:{h16}:){{0,1}}{h16})?::(?:{h16}:){{3}}{ls32}"),
        format!("(?:(?:{h16}:){{0,2}}{h16})?::(?:{h16}:){{2}}{ls32}"),
        format!("(?:(?:{h16}:){{0,3}}{h16})?::{h16}:{ls32}"),
        format!("(?:(?:{h16}:){{0,4}}{h16})?::{ls32}"),
        format!("(?:(?:{h16}:){{0,5}}{h16})?::{h16}"),
        format!("(?:(?:{h16}:){{0,6}}{h16})?::"),
    ]
    .join("|");
    // The last label starts with a letter: one that is all digits (or 0x…) would be read as an IPv4 address.
    let name = format!("(?:{}\\.)*{}", label(A), label("[A-Za-z]"));
    let port = "(?::(?:[0-9]{1,4}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]))?";
    format!("^{scheme}://(?:{name}|{ipv4}|\\[(?:{ipv6})\\]){port}(?:[/?#][!-~]*)?$")
}

/// A pattern and its compiled form (`None` only if it failed to compile, which a test rules out: every URL is then
/// refused rather than the request panicking).
struct Form {
    pattern: String,
    regex: Option<Regex>,
}

impl Form {
    fn new(scheme: &str) -> Self {
        let pattern = form(scheme);
        let regex = Regex::new(&pattern).ok();
        Self { pattern, regex }
    }

    fn matches(&self, value: &str) -> bool {
        self.regex.as_ref().is_some_and(|regex| regex.is_match(value))
    }
}

static HTTP_FORM: LazyLock<Form> = LazyLock::new(|| Form::new("[Hh][Tt][Tt][Pp][Ss]?"));
static WS_FORM: LazyLock<Form> = LazyLock::new(|| Form::new("[Ww][Ss][Ss]?"));

/// Checks an absolute URL of one of `schemes` and returns it exactly as given.
fn parse_kind(
    value: &str,
    schemes: &[&str],
    expected: &'static str,
    example: &'static str,
    form: Option<&Form>,
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
        Some(host) if !host.is_empty() => {}
        _ => return Err(UrlError::NotAbsolute { example }),
    }
    if form.is_some_and(|form| !form.matches(value)) {
        return Err(UrlError::Form { schemes: expected });
    }
    Ok(value.to_owned())
}

macro_rules! url_kind {
    ($(#[$meta:meta])* $name:ident, [$($scheme:literal),+], $expected:literal, $example:literal, $form:ident) => {
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
                parse_kind(value, &[$($scheme),+], $expected, $example, Some(&$form)).map(Self)
            }

            /// A URL as stored: of this kind, but not held to [`Self::pattern`], which came later:
            /// a profile saved before keeps reading. A change of the profile checks it again with [`Self::parse`].
            ///
            /// # Errors
            /// [`UrlError`] when `value` is not an absolute URL with a host, or has another scheme.
            pub fn stored(value: &str) -> Result<Self, UrlError> {
                parse_kind(value, &[$($scheme),+], $expected, $example, None).map(Self)
            }

            /// The form every URL of this kind has, as a regular expression (anchored; the OpenAPI pattern).
            #[must_use]
            pub fn pattern() -> &'static str {
                &$form.pattern
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
    HttpUrl, ["http", "https"], "http or https", "https://rest.example.com", HTTP_FORM
);
url_kind!(
    /// An absolute `ws` or `wss` URL (Kazoo's `hostWebsocket`).
    WsUrl, ["ws", "wss"], "ws or wss", "wss://ws.example.com", WS_FORM
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

    #[test]
    fn the_forms_compile_and_are_anchored() {
        for pattern in [HttpUrl::pattern(), WsUrl::pattern()] {
            assert!(Regex::new(pattern).is_ok(), "{pattern}");
            assert!(pattern.starts_with('^') && pattern.ends_with('$'));
        }
    }

    #[test]
    fn a_stored_url_from_before_the_form_still_reads() {
        let old = "https://user:secret@rest_1.example.com";
        assert!(HttpUrl::parse(old).is_err());
        assert_eq!(HttpUrl::stored(old).unwrap().as_str(), old);
        assert!(HttpUrl::stored("wss://ws.example.com").is_err(), "the scheme still holds");
    }

    #[test]
    fn urls_outside_the_form_are_refused_naming_it() {
        assert!(HttpUrl::parse("HTTPS://Rest.Example.com").is_ok());
        assert!(HttpUrl::parse("https://[::1]:8443/x?y=1#z").is_ok());
        assert!(HttpUrl::parse("https://[2001:db8::ffff:10.0.0.1]/").is_ok());
        assert!(HttpUrl::parse("http://pbx-1.example.com:65535/api/%7Euser").is_ok());
        assert!(WsUrl::parse("ws://ab-c--d.example/").is_ok());
        let form = UrlError::Form { schemes: "http or https" };
        for input in [
            "https://user:secret@rest.example.com",
            "https://@rest.example.com",
            "https://rest_1.example.com",
            "https://bücher.example",
            "https://xn--bcher-kva.example",
            "https://rest.example.com./",
            "https://rest.example.com/ä",
            "https://rest.example.com/a b",
            "https://rest.example.com:/",
            "https://rest.example.com\\path",
            "https://-rest.example.com",
            "https://010.0.0.1",
            "https://ab--c.example",
            "https://[::1%25eth0]",
        ] {
            let refused = HttpUrl::parse(input);
            assert!(matches!(refused, Err(UrlError::Form { .. } | UrlError::NotAbsolute { .. })), "{input:?}");
            if url::Url::parse(input).is_ok() {
                assert_eq!(refused, Err(form.clone()), "{input:?}");
            }
        }
    }

    fn generated(pattern: &str) -> impl Strategy<Value = String> + use<> {
        // proptest generates from a pattern without its anchors.
        let bare = pattern.trim_start_matches('^').trim_end_matches('$');
        proptest::string::string_regex(bare).unwrap()
    }

    proptest! {
        #[test]
        fn every_url_of_the_published_form_is_accepted(http in generated(HttpUrl::pattern()), ws in generated(WsUrl::pattern())) {
            prop_assert!(HttpUrl::parse(&http).is_ok(), "{:?}: {:?}", http, HttpUrl::parse(&http));
            prop_assert!(WsUrl::parse(&ws).is_ok(), "{:?}: {:?}", ws, WsUrl::parse(&ws));
        }

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
