//! The text type of the canonical model.
//!
//! Most values a document holds are short: units (`EA`), part numbers, qualifiers, codes,
//! document numbers, cities, postal codes. Held as `String`, each one is a heap allocation
//! when a document is decoded and a free when it is dropped, and on the decode paths that
//! was the largest single cost (about 100 allocations per X12 invoice of ten lines). [`Text`]
//! keeps values of up to 24 bytes inline and only longer ones on the heap, with the same
//! size as a `String`. On the wire it is an ordinary JSON string: the canonical JSON, its
//! schema and the bus format are unchanged.

use std::borrow::{Borrow, Cow};
use std::fmt;
use std::ops::Deref;

use compact_str::CompactString;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Text held by the canonical model: reads as a `&str` (through `Deref`), inline when short.
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Text(CompactString);

impl Text {
    /// The text as a string slice.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// An owned `String` (allocates unless the text is empty).
    pub fn into_string(self) -> String {
        self.0.into_string()
    }

    /// Appends `s` (for the few places that build a value in pieces).
    pub fn push_str(&mut self, s: &str) {
        self.0.push_str(s);
    }
}

/// The first control character `s` holds that text may not: a C0 control (below U+0020)
/// other than tab, line feed and carriage return, such as NUL or BEL, with its position in
/// characters (0-based). JSON and every decoder let such characters through (an escaped
/// `\u0007`, an X12 element accepted with errors, a CSV cell); a text field holding one would
/// reach Coupa as sent, so validation refuses it ([`crate::Document::validate_in`]).
pub(crate) fn forbidden_control(s: &str) -> Option<(usize, char)> {
    // Most text holds none: one pass over the bytes (a control character is one byte in
    // UTF-8, and no byte of a longer character is below 0x20).
    if !s
        .bytes()
        .any(|b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r'))
    {
        return None;
    }
    s.chars()
        .enumerate()
        .find(|&(_, c)| c < ' ' && !matches!(c, '\t' | '\n' | '\r'))
}

impl Deref for Text {
    type Target = str;
    fn deref(&self) -> &str {
        self.0.as_str()
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        self.0.as_str()
    }
}

impl Borrow<str> for Text {
    fn borrow(&self) -> &str {
        self.0.as_str()
    }
}

/// `write!` into a `Text` builds short values without a heap allocation.
impl fmt::Write for Text {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0.push_str(s);
        Ok(())
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.0.as_str(), f)
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.0.as_str(), f)
    }
}

/// Inlined: decoders build dozens of texts per document (about 65 per X12 document), nearly
/// all inline-sized, and the call was about a tenth of what each one cost.
impl From<&str> for Text {
    #[inline]
    fn from(s: &str) -> Self {
        Text(CompactString::new(s))
    }
}

impl From<&String> for Text {
    fn from(s: &String) -> Self {
        Text(CompactString::new(s))
    }
}

impl From<String> for Text {
    fn from(s: String) -> Self {
        Text(CompactString::from(s))
    }
}

impl From<Cow<'_, str>> for Text {
    fn from(s: Cow<'_, str>) -> Self {
        match s {
            Cow::Borrowed(s) => Text::from(s),
            Cow::Owned(s) => Text::from(s),
        }
    }
}

impl From<Text> for String {
    fn from(t: Text) -> Self {
        t.into_string()
    }
}

impl<'a> From<Text> for Cow<'a, str> {
    fn from(t: Text) -> Self {
        Cow::Owned(t.into_string())
    }
}

impl std::str::FromStr for Text {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Text::from(s))
    }
}

impl PartialEq<str> for Text {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for Text {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other.as_str()
    }
}

impl PartialEq<Text> for str {
    fn eq(&self, other: &Text) -> bool {
        self == other.as_str()
    }
}

impl PartialEq<Text> for &str {
    fn eq(&self, other: &Text) -> bool {
        *self == other.as_str()
    }
}

impl PartialEq<Text> for String {
    fn eq(&self, other: &Text) -> bool {
        self.as_str() == other.as_str()
    }
}

impl JsonSchema for Text {
    fn schema_name() -> Cow<'static, str> {
        String::schema_name()
    }

    fn schema_id() -> Cow<'static, str> {
        String::schema_id()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        String::json_schema(generator)
    }

    fn inline_schema() -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::Text;

    #[test]
    fn short_and_long_text_read_back_and_serialise_as_plain_strings() {
        for s in [
            "",
            "EA",
            "exactly twenty-four byte",
            &"x".repeat(300),
            "Zürich café",
        ] {
            let t = Text::from(s);
            assert_eq!(t.as_str(), s);
            assert_eq!(t, s);
            let json = serde_json::to_string(&t).unwrap_or_default();
            assert_eq!(json, serde_json::to_string(s).unwrap_or_default());
            let back: Text = serde_json::from_str(&json).unwrap_or_default();
            assert_eq!(back, t);
        }
    }

    /// Around the inline limit (24 bytes), and with a multi-byte character across it: the
    /// inlined `From<&str>` gives what the other constructors give.
    #[test]
    fn from_str_slice_agrees_with_the_other_constructors_at_the_inline_limit() {
        let long = "x".repeat(25);
        for s in [
            "",
            "E",
            "twenty-three bytes long",
            "exactly twenty-four byte",
            long.as_str(),
            "é",
            "twenty-two bytes long é",
            "twenty-three bytes lon é",
        ] {
            let t = Text::from(s);
            assert_eq!(t.as_str(), s);
            assert_eq!(t.len(), s.len());
            assert_eq!(t, Text::from(s.to_string()));
            assert_eq!(t, Text::from(std::borrow::Cow::Borrowed(s)));
            assert_eq!(t.clone().into_string(), s);
        }
    }

    #[test]
    fn control_characters_other_than_tab_and_line_ends_are_found_with_their_place() {
        use super::forbidden_control;
        assert_eq!(forbidden_control("plain text, Zürich"), None);
        assert_eq!(forbidden_control("tab\there\r\nand a line"), None);
        assert_eq!(forbidden_control("Wid\0gets\u{7}"), Some((3, '\0')));
        assert_eq!(forbidden_control("Zürich\u{1b}"), Some((6, '\u{1b}')));
        // DEL and C1 controls are left to the formats that forbid them.
        assert_eq!(forbidden_control("\u{7f}\u{85}"), None);
    }

    #[test]
    fn schema_is_the_schema_of_a_string() {
        let ours = serde_json::to_value(schemars::schema_for!(Text)).unwrap_or_default();
        let string = serde_json::to_value(schemars::schema_for!(String)).unwrap_or_default();
        assert_eq!(ours, string);
    }
}
