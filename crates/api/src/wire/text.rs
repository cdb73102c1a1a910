//! The schemas of text fields: their lengths, and the rule they all share — no control or format character
//! (Unicode Cc and Cf, as `pbx_domain::text` refuses them) — as a pattern both JavaScript and Python engines read
//! alike: BMP characters as `\uXXXX` escapes, and the few astral format characters (U+E0001…) written as
//! themselves, since the two engines escape those differently (Python reads them as single code points, and
//! JavaScript does with the `u` flag JSON Schema validators use).

use utoipa::openapi::Schema;
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, SchemaType, Type};

/// Unicode Cc and Cf, as the body of a character class.
const CONTROL_OR_FORMAT: &str = "\\u0000-\\u001F\\u007F-\\u009F\\u00AD\\u0600-\\u0605\\u061C\\u06DD\\u070F\\u0890-\\u0891\\u08E2\
                                 \\u180E\\u200B-\\u200F\\u202A-\\u202E\\u2060-\\u2064\\u2066-\\u206F\\uFEFF\\uFFF9-\\uFFFB\
                                 \u{110BD}\u{110CD}\u{13430}-\u{1343F}\u{1BCA0}-\u{1BCA3}\u{1D173}-\u{1D17A}\
                                 \u{E0001}\u{E0020}-\u{E007F}";

/// Unicode White_Space — what Rust's `trim` and `char::is_whitespace` take as space — as the body of a character
/// class. Written out because `\s` means a different set in each engine (Python's counts U+001C…U+001F).
pub(crate) const WHITE_SPACE: &str =
    "\\u0009-\\u000D\\u0020\\u0085\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000";

/// The pattern of a text query parameter (`crate::query::QueryParams::text`): no control or format character, and
/// with `non_blank`, something besides white space.
pub(crate) fn query_pattern(non_blank: bool) -> String {
    let (cc, ws) = (CONTROL_OR_FORMAT, WHITE_SPACE);
    if non_blank { format!("^[^{cc}]*[^{ws}{cc}][^{cc}]*$") } else { format!("^[^{cc}]*$") }
}

/// How a kind of text field is checked.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Text {
    /// Trimmed, then 1 to `max` characters: a name.
    Trimmed { max: usize },
    /// Trimmed, at most `max` characters, possibly empty or absent: free text.
    Optional { max: usize },
    /// Kept as sent, 1 to `max` characters: a secret.
    Secret { max: usize },
    /// 1 to `max` characters, no whitespace: an instance id.
    Visible { max: usize },
}

impl Text {
    /// The schema of a field of this kind, described as `description`, with `example` when given.
    pub(crate) fn schema(self, description: &str, example: Option<&str>) -> Schema {
        let cc = CONTROL_OR_FORMAT;
        // A trimmed field may start and end with whitespace (trimmed away, even a control character such as a tab),
        // and its length counts after trimming, which `maxLength` cannot say: the pattern bounds the trimmed core.
        let ws = WHITE_SPACE;
        let core = |max: usize| format!("[^{ws}{cc}]([^{cc}]{{0,{}}}[^{ws}{cc}])?", max.saturating_sub(2));
        let (pattern, min, max) = match self {
            Self::Trimmed { max } => (format!("^[{ws}]*{}[{ws}]*$", core(max)), None, None),
            Self::Optional { max } => (format!("^[{ws}]*({})?[{ws}]*$", core(max)), None, None),
            Self::Secret { max } => (format!("^[^{cc}]*$"), Some(1), Some(max)),
            Self::Visible { max } => (format!("^[^{ws}{cc}]*$"), Some(1), Some(max)),
        };
        let schema_type = match self {
            Self::Optional { .. } => SchemaType::from_iter([Type::String, Type::Null]),
            _ => SchemaType::Type(Type::String),
        };
        let mut object = ObjectBuilder::new()
            .schema_type(schema_type)
            .description(Some(description))
            .pattern(Some(pattern))
            .min_length(min)
            .max_length(max)
            .examples(example);
        if let Self::Secret { .. } = self {
            object = object.format(Some(SchemaFormat::KnownFormat(KnownFormat::Password)));
        }
        Schema::Object(object.build())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use regex::Regex;

    fn pattern(kind: Text) -> Regex {
        let Schema::Object(object) = kind.schema("", None) else { panic!("an object") };
        Regex::new(&object.pattern.unwrap()).unwrap()
    }

    #[test]
    fn the_patterns_say_what_the_domain_refuses() {
        let name = pattern(Text::Trimmed { max: 100 });
        let hundred = "n".repeat(100);
        for ok in ["Main", "  Main office  ", "\tMain\n", "Café ＡＢＣ", "x", &hundred, &format!("  {hundred}\n")] {
            assert!(name.is_match(ok), "{ok:?}");
        }
        let long = "n".repeat(101);
        for bad in ["line\nbreak", "a\u{0}b", "ab\u{202e}cd", "a\u{200b}b", "\u{feff}x", "", "   ", &long] {
            assert!(!name.is_match(bad), "{bad:?}");
        }
        let optional = pattern(Text::Optional { max: 200 });
        assert!(optional.is_match("") && optional.is_match("  ") && optional.is_match(" Head office "));
        assert!(!optional.is_match(&"d".repeat(201)) && !optional.is_match("a\u{7}"));
        let secret = pattern(Text::Secret { max: 256 });
        assert!(secret.is_match(" spaced key "));
        assert!(!secret.is_match("key\u{0}"));
        let id = pattern(Text::Visible { max: 64 });
        assert!(id.is_match("Acct-A1") && id.is_match("ＡcctA1"));
        assert!(!id.is_match("a b") && !id.is_match("Acct\u{200b}A1"));
    }

    #[test]
    fn the_space_class_is_exactly_what_rust_trims() {
        let one = Regex::new(&format!("^[{WHITE_SPACE}]$")).unwrap();
        for c in (0..=0x10FFFF).filter_map(char::from_u32) {
            assert_eq!(one.is_match(c.encode_utf8(&mut [0; 4])), c.is_whitespace(), "U+{:04X}", c as u32);
        }
    }

    #[test]
    fn the_class_is_exactly_the_characters_the_domain_refuses() {
        let one = Regex::new(&format!("^[{CONTROL_OR_FORMAT}]$")).unwrap();
        for c in (0..=0x10FFFF).filter_map(char::from_u32) {
            assert_eq!(
                one.is_match(c.encode_utf8(&mut [0; 4])),
                pbx_domain::is_control_or_format(c),
                "U+{:04X}",
                c as u32
            );
        }
    }
}
