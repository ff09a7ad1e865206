//! A minimal indenting XML writer with escaping. Characters XML 1.0 cannot carry (control
//! characters other than tab, CR, LF) are not written; the first one found is reported by
//! [`Xml::finish`] so the encoder can refuse the document instead of emitting broken XML.

/// An XML document being written.
#[derive(Debug, Default)]
pub(crate) struct Xml {
    out: String,
    depth: usize,
    bad: Option<String>,
}

type Attrs<'a> = [(&'a str, Option<&'a str>)];

impl Xml {
    pub fn new() -> Self {
        Xml {
            out: String::with_capacity(4096),
            ..Xml::default()
        }
    }

    pub fn raw(&mut self, s: &str) {
        self.out.push_str(s);
    }

    fn indent(&mut self) {
        for _ in 0..self.depth {
            self.out.push_str("  ");
        }
    }

    fn start(&mut self, name: &str, attrs: &Attrs<'_>) {
        self.indent();
        self.out.push('<');
        self.out.push_str(name);
        for (k, v) in attrs {
            if let Some(v) = v {
                self.out.push(' ');
                self.out.push_str(k);
                self.out.push_str("=\"");
                self.escape(v, true);
                self.out.push('"');
            }
        }
    }

    /// `<name attrs>` and a new line; attributes whose value is `None` are left out.
    pub fn open(&mut self, name: &str, attrs: &Attrs<'_>) {
        self.start(name, attrs);
        self.out.push_str(">\n");
        self.depth += 1;
    }

    pub fn close(&mut self, name: &str) {
        self.depth = self.depth.saturating_sub(1);
        self.indent();
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push_str(">\n");
    }

    /// `<name attrs/>`.
    pub fn empty(&mut self, name: &str, attrs: &Attrs<'_>) {
        self.start(name, attrs);
        self.out.push_str("/>\n");
    }

    /// `<name attrs>text</name>` (or `<name attrs/>` for empty text).
    pub fn leaf(&mut self, name: &str, attrs: &Attrs<'_>, text: &str) {
        if text.is_empty() {
            self.empty(name, attrs);
            return;
        }
        self.start(name, attrs);
        self.out.push('>');
        self.escape(text, false);
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push_str(">\n");
    }

    /// Text on a line of its own inside an open element (mixed content: the text of an
    /// element that also has children, such as a `Description` with its `ShortName`). The
    /// indentation around it is whitespace a reader trims.
    pub fn text(&mut self, text: &str) {
        if text.is_empty() {
            return;
        }
        self.indent();
        self.escape(text, false);
        self.out.push('\n');
    }

    fn escape(&mut self, s: &str, attr: bool) {
        for c in s.chars() {
            match c {
                '&' => self.out.push_str("&amp;"),
                '<' => self.out.push_str("&lt;"),
                '>' => self.out.push_str("&gt;"),
                '"' if attr => self.out.push_str("&quot;"),
                '\n' if attr => self.out.push_str("&#10;"),
                '\t' if attr => self.out.push_str("&#9;"),
                '\r' => self.out.push_str("&#13;"),
                c if (c as u32) < 0x20 && c != '\n' && c != '\t' => {
                    if self.bad.is_none() {
                        self.bad = Some(format!(
                            "character U+{:04X} cannot be written in XML 1.0 (in {s:?})",
                            c as u32
                        ));
                    }
                }
                '\u{FFFE}' | '\u{FFFF}' => {
                    if self.bad.is_none() {
                        self.bad = Some(format!(
                            "character U+{:04X} cannot be written in XML 1.0",
                            c as u32
                        ));
                    }
                }
                c => self.out.push(c),
            }
        }
    }

    /// The bytes written, or the first unwritable character found.
    pub fn finish(self) -> Result<Vec<u8>, String> {
        match self.bad {
            Some(b) => Err(b),
            None => Ok(self.out.into_bytes()),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn escapes_markup_and_keeps_attribute_whitespace() {
        let mut x = Xml::new();
        x.leaf(
            "T",
            &[("a", Some("x\"<&>\n\ty")), ("skip", None)],
            "a<b&c>\r",
        );
        let s = String::from_utf8(x.finish().unwrap()).unwrap();
        assert_eq!(
            s,
            "<T a=\"x&quot;&lt;&amp;&gt;&#10;&#9;y\">a&lt;b&amp;c&gt;&#13;</T>\n"
        );
    }

    #[test]
    fn control_characters_make_finish_fail() {
        let mut x = Xml::new();
        x.leaf("T", &[], "nul\u{0}");
        assert!(x.finish().unwrap_err().contains("U+0000"));
    }

    #[test]
    fn nesting_is_indented_and_empty_text_is_self_closing() {
        let mut x = Xml::new();
        x.open("A", &[]);
        x.leaf("B", &[], "");
        x.close("A");
        assert_eq!(
            String::from_utf8(x.finish().unwrap()).unwrap(),
            "<A>\n  <B/>\n</A>\n"
        );
    }
}
