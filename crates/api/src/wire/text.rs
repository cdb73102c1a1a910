//! The schemas of text fields: their lengths, and the rule they all share — no control or format character
//! (Unicode Cc and Cf, as `pbx_domain::text` refuses them) — as a pattern that every engine a client may validate
//! with reads alike: ECMA-262 with and without the `u` flag (JSON Schema's dialect, compiled without it by most
//! JavaScript validators and linters), and Python's `re` (schemathesis, generated clients). A character is one of
//! three alternatives, each written so that it matches in the engines that need it and nothing in the others:
//!
//! - a BMP character that is not refused: `[^…\uD800-\uDFFF]` (escapes only, read alike everywhere);
//! - a character beyond the BMP that is not refused, as a code point (`u` flag, Python): `[^\u0000-\uFFFF…]` with
//!   the few refused ones (all Cf) listed one by one as themselves — no range, whose ends JavaScript without `u`
//!   would read as surrogate halves ("range out of order"); without `u` this class matches nothing;
//! - the same character as a surrogate pair (JavaScript without `u`): a lead and a trail surrogate, the refused
//!   pairs left out; with `u` or in Python a valid string has no lone surrogate, so this matches nothing.
//!
//! Each character counts once in every engine, so the length bounds mean the same too. `scripts/check-patterns.js`
//! (CI) compiles every pattern of docs/openapi.json both ways and compares their answers on every code point.

use utoipa::openapi::Schema;
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, SchemaType, Type};

/// Unicode Cc and Cf within the BMP, as inclusive ranges of code points.
const CONTROL_OR_FORMAT_BMP: [(u32, u32); 17] = [
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
    (0xD800, 0xDFFF), // not characters: surrogate halves, which only JavaScript without `u` sees
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

/// The refused characters beyond the BMP, one by one.
fn astral_refused() -> impl Iterator<Item = u32> {
    CONTROL_OR_FORMAT_ASTRAL.iter().flat_map(|&(first, last)| first..=last)
}

/// `\uXXXX`.
fn escape(unit: u32) -> String {
    format!("\\u{unit:04X}")
}

/// The body of a class of the code units `first..=last` but `left_out` (sorted), as ranges.
fn units_but(first: u32, last: u32, left_out: &[u32]) -> String {
    let ranges: Vec<(u32, u32)> = left_out.iter().map(|&unit| (unit, unit)).collect();
    class_body(&complement(first, last, &ranges))
}

/// The ranges of `first..=last` outside every range of `out` (in any order, overlapping or not).
fn complement(first: u32, last: u32, out: &[(u32, u32)]) -> Vec<(u32, u32)> {
    let mut out = out.to_vec();
    out.sort_unstable();
    let mut kept = Vec::new();
    let mut from = first;
    for (start, end) in out {
        if start > from {
            kept.push((from, start - 1));
        }
        from = from.max(end + 1);
    }
    if from <= last {
        kept.push((from, last));
    }
    kept
}

/// The surrogate pairs of every character beyond the BMP but the refused ones (read by JavaScript without `u`).
fn allowed_pairs() -> String {
    let pair = |c: u32| (0xD800 + ((c - 0x10000) >> 10), 0xDC00 + ((c - 0x10000) & 0x3FF));
    let mut leads: Vec<(u32, Vec<u32>)> = Vec::new();
    for (lead, trail) in astral_refused().map(pair) {
        match leads.last_mut() {
            Some((last, trails)) if *last == lead => trails.push(trail),
            _ => leads.push((lead, vec![trail])),
        }
    }
    let with_refused: Vec<u32> = leads.iter().map(|(lead, _)| *lead).collect();
    let mut alternatives = vec![format!("[{}][\\uDC00-\\uDFFF]", units_but(0xD800, 0xDBFF, &with_refused))];
    for (lead, trails) in &leads {
        alternatives.push(format!("{}[{}]", escape(*lead), units_but(0xDC00, 0xDFFF, trails)));
    }
    alternatives.join("|")
}

/// One character that is neither Cc/Cf nor in `also` (BMP ranges).
fn character(also: &[(u32, u32)]) -> String {
    let refused: Vec<(u32, u32)> = CONTROL_OR_FORMAT_BMP.iter().chain(also).copied().collect();
    let bmp = class_body(&complement(0, 0xFFFF, &refused));
    let astral: String = astral_refused().filter_map(char::from_u32).collect();
    format!("(?:[{bmp}]|[^\\u0000-\\uFFFF{astral}]|{})", allowed_pairs())
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

/// A pattern of this module as Rust's `regex` reads it: without the surrogate pairs (which name no `char`), so as
/// ECMA-262 with `u` and Python read it; `scripts/check-patterns.js` checks that JavaScript without `u` agrees.
#[cfg(test)]
pub(crate) fn rust_regex(pattern: &str) -> regex::Regex {
    let without = pattern.replace(&format!("|{}", allowed_pairs()), "");
    let half = regex::Regex::new(r"\\uD[89A-F]").unwrap();
    assert!(!half.is_match(&without), "a surrogate half left in {without}");
    regex::Regex::new(&without).unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;
    use regex::Regex;

    fn pattern(kind: Text) -> Regex {
        let Schema::Object(object) = kind.schema("", None) else { panic!("an object") };
        rust_regex(&object.pattern.unwrap())
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
    fn a_character_is_exactly_one_the_domain_does_not_refuse() {
        let one = rust_regex(&format!("^{}$", character(&[])));
        for c in (0..=0x10FFFF).filter_map(char::from_u32) {
            assert_eq!(
                one.is_match(c.encode_utf8(&mut [0; 4])),
                !pbx_domain::is_control_or_format(c),
                "U+{:04X}",
                c as u32
            );
        }
    }

    /// Code units as JavaScript without `u` reads a string, each surrogate half moved to a private-use character
    /// (U+F0000 + its offset) so that Rust's `regex` can read them.
    fn shifted(unit: u32) -> char {
        char::from_u32(if (0xD800..=0xDFFF).contains(&unit) { unit - 0xD800 + 0xF0000 } else { unit }).unwrap()
    }

    #[test]
    fn the_surrogate_pairs_are_every_character_beyond_the_bmp_but_the_refused() {
        let mut pattern = String::new();
        let mut rest = allowed_pairs();
        while let Some(at) = rest.find("\\u") {
            pattern += &rest[..at];
            let unit = u32::from_str_radix(&rest[at + 2..at + 6], 16).unwrap();
            pattern += &format!("\\x{{{:X}}}", u32::from(shifted(unit)));
            rest = rest[at + 6..].to_owned();
        }
        pattern += &rest;
        let pairs = Regex::new(&format!("^(?:{pattern})$")).unwrap();
        for c in (0x1_0000..=0x10FFFF).filter_map(char::from_u32) {
            let units: String = c.encode_utf16(&mut [0; 2]).iter().map(|&u| shifted(u32::from(u))).collect();
            assert_eq!(pairs.is_match(&units), !pbx_domain::is_control_or_format(c), "U+{:04X}", c as u32);
        }
    }
}
