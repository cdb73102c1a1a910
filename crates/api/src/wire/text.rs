//! The schemas of text fields: their lengths, and the rule they all share — no control or format character
//! (Unicode Cc and Cf, as `pbx_domain::text` refuses them) — as a pattern both JavaScript and Python engines read
//! alike. The class lists the Basic Multilingual Plane's Cc and Cf; the few astral Cf characters (U+E0001…) are
//! refused by the server without the pattern saying so.

use utoipa::openapi::Schema;
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, SchemaType, Type};

/// Unicode Cc and Cf in the Basic Multilingual Plane, as the body of a character class.
const CONTROL_OR_FORMAT: &str = "\\u0000-\\u001F\\u007F-\\u009F\\u00AD\\u0600-\\u0605\\u061C\\u06DD\\u070F\\u0890-\\u0891\\u08E2\
                                 \\u180E\\u200B-\\u200F\\u202A-\\u202E\\u2060-\\u2064\\u2066-\\u206F\\uFEFF\\uFFF9-\\uFFFB";

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
        let core = |max: usize| format!("[^\\s{cc}]([^{cc}]{{0,{}}}[^\\s{cc}])?", max.saturating_sub(2));
        let (pattern, min, max) = match self {
            Self::Trimmed { max } => (format!("^\\s*{}\\s*$", core(max)), None, None),
            Self::Optional { max } => (format!("^\\s*({})?\\s*$", core(max)), None, None),
            Self::Secret { max } => (format!("^[^{cc}]*$"), Some(1), Some(max)),
            Self::Visible { max } => (format!("^[^\\s{cc}]*$"), Some(1), Some(max)),
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
}
