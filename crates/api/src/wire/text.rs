//! The schemas of text fields: their lengths, and the rule they all share — no control or format character
//! (Unicode Cc and Cf, as `pbx_domain::text` refuses them) — as a pattern that the engines clients validate with
//! all compile and read alike: ECMA-262 with and without the `u` flag (JSON Schema's dialect; most JavaScript
//! validators, linters and form libraries compile without it), Python's `re` (schemathesis, generated clients) and
//! Rust's `regex` (jsonschema-rs). So a character is a negated class of BMP escapes only: no character beyond the
//! BMP in a range (JavaScript without `u` reads its ends as surrogate halves: "range out of order") and no surrogate
//! escape (Rust's `regex` refuses them, and schemathesis then drops the whole pattern). Two things the pattern
//! cannot say, written in each field's description and in docs/api.md: the service also refuses the few format
//! characters beyond the BMP ([`CONTROL_OR_FORMAT_ASTRAL`]); and where a pattern bounds a length (a trimmed name),
//! JavaScript without `u` counts a character beyond the BMP as two. `scripts/check-patterns.js` (CI) compiles every
//! pattern of docs/openapi.json both ways and checks they agree on every BMP character, on characters beyond it, and
//! on runs at every bound (runs with characters beyond the BMP while their UTF-16 length is within the bound).

use utoipa::openapi::Schema;
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, SchemaType, Type};

/// Unicode Cc and Cf within the BMP, as inclusive ranges of code points.
const CONTROL_OR_FORMAT_BMP: [(u32, u32); 16] = [
    (0x0000, 0x001F),
    (0x007F, 0x009F),
    (0x00AD, 0x00AD),
    (0x0600, 0x0605),
    (0x061C, 0x061C),
    (0x06DD, 0x06DD),
    (0x070F, 0x070F),
    (0x0890, 0x0891),
    (0x08E2, 0x08E2),
    (0x180E, 0x180E),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x2064),
    (0x2066, 0x206F),
    (0xFEFF, 0xFEFF),
    (0xFFF9, 0xFFFB),
];

/// Unicode Cc and Cf beyond the BMP (all Cf), as inclusive ranges of code points.
const CONTROL_OR_FORMAT_ASTRAL: [(u32, u32); 7] = [
    (0x110BD, 0x110BD),
    (0x110CD, 0x110CD),
    (0x13430, 0x1343F),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0001, 0xE0001),
    (0xE0020, 0xE007F),
];

/// Unicode White_Space — what Rust's `trim` and `char::is_whitespace` take as space — as inclusive ranges (all
/// BMP). Written out because `\s` means a different set in each engine (Python's counts U+001C…U+001F).
const WHITE_SPACE: [(u32, u32); 10] = [
    (0x0009, 0x000D),
    (0x0020, 0x0020),
    (0x0085, 0x0085),
    (0x00A0, 0x00A0),
    (0x1680, 0x1680),
    (0x2000, 0x200A),
    (0x2028, 0x2029),
    (0x202F, 0x202F),
    (0x205F, 0x205F),
    (0x3000, 0x3000),
];

/// The body of a character class of `ranges` (BMP), as escapes.
fn class_body(ranges: &[(u32, u32)]) -> String {
    ranges
        .iter()
        .map(|&(first, last)| if first == last { escape(first) } else { format!("{}-{}", escape(first), escape(last)) })
        .collect()
}

/// `\uXXXX`.
fn escape(unit: u32) -> String {
    format!("\\u{unit:04X}")
}

/// One character that is neither Cc/Cf within the BMP nor in `also` (BMP ranges); any character beyond the BMP
/// (JavaScript without `u`: any surrogate half).
fn character(also: &[(u32, u32)]) -> String {
    let refused: Vec<(u32, u32)> = CONTROL_OR_FORMAT_BMP.iter().chain(also).copied().collect();
    format!("[^{}]", class_body(&refused))
}

/// What each text field's description adds to its pattern: the refused characters that the pattern leaves out.
pub(crate) fn beyond_the_pattern() -> String {
    let ranges: Vec<String> = CONTROL_OR_FORMAT_ASTRAL
        .iter()
        .map(
            |&(first, last)| {
                if first == last { format!("U+{first:04X}") } else { format!("U+{first:04X}–U+{last:04X}") }
            },
        )
        .collect();
    format!(
        " Control and format characters (Unicode Cc and Cf) are refused, those beyond the BMP too ({}), which the \
         pattern leaves out.",
        ranges.join(", ")
    )
}

/// The pattern of a text query parameter (`crate::query::QueryParams::text`): no control or format character, and
/// with `non_blank`, something besides white space.
pub(crate) fn query_pattern(non_blank: bool) -> String {
    let (any, visible) = (character(&[]), character(&WHITE_SPACE));
    if non_blank { format!("^{any}*{visible}{any}*$") } else { format!("^{any}*$") }
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
        // A trimmed field may start and end with whitespace (trimmed away, even a control character such as a tab),
        // and its length counts after trimming, which `maxLength` cannot say: the pattern bounds the trimmed core.
        let ws = class_body(&WHITE_SPACE);
        let (any, visible) = (character(&[]), character(&WHITE_SPACE));
        let core = |max: usize| format!("{visible}(?:{any}{{0,{}}}{visible})?", max.saturating_sub(2));
        let (pattern, min, max) = match self {
            Self::Trimmed { max } => (format!("^[{ws}]*{}[{ws}]*$", core(max)), None, None),
            Self::Optional { max } => (format!("^[{ws}]*(?:{})?[{ws}]*$", core(max)), None, None),
            Self::Secret { max } => (format!("^{any}*$"), Some(1), Some(max)),
            Self::Visible { max } => (format!("^{visible}*$"), Some(1), Some(max)),
        };
        let schema_type = match self {
            Self::Optional { .. } => SchemaType::from_iter([Type::String, Type::Null]),
            _ => SchemaType::Type(Type::String),
        };
        let mut object = ObjectBuilder::new()
            .schema_type(schema_type)
            .description(Some(format!("{description}{}", beyond_the_pattern())))
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
        let one = Regex::new(&format!("^[{}]$", class_body(&WHITE_SPACE))).unwrap();
        for c in (0..=0x10FFFF).filter_map(char::from_u32) {
            assert_eq!(one.is_match(c.encode_utf8(&mut [0; 4])), c.is_whitespace(), "U+{:04X}", c as u32);
        }
    }

    #[test]
    fn a_character_is_one_the_domain_does_not_refuse_or_one_beyond_the_bmp() {
        let one = Regex::new(&format!("^{}$", character(&[]))).unwrap();
        for c in (0..=0x10FFFF).filter_map(char::from_u32) {
            let expected = !pbx_domain::is_control_or_format(c) || u32::from(c) > 0xFFFF;
            assert_eq!(one.is_match(c.encode_utf8(&mut [0; 4])), expected, "U+{:04X}", u32::from(c));
        }
    }

    #[test]
    fn the_descriptions_name_exactly_the_refused_characters_beyond_the_bmp() {
        for c in (0x1_0000..=0x10FFFF).filter_map(char::from_u32) {
            let listed = CONTROL_OR_FORMAT_ASTRAL.iter().any(|&(first, last)| (first..=last).contains(&u32::from(c)));
            assert_eq!(listed, pbx_domain::is_control_or_format(c), "U+{:04X}", u32::from(c));
        }
        assert!(beyond_the_pattern().contains("U+110BD, U+110CD, U+13430–U+1343F"));
    }
}
