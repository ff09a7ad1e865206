//! The X12 tokenizer: splits bytes into segments and elements without copying.
//!
//! Delimiters are read from each ISA header (element separator = the byte after `ISA`,
//! component separator = ISA16, segment terminator = the byte after ISA16, repetition separator
//! = ISA11 only for ISA12 ≥ `00402`), so one input may hold several interchanges with different
//! delimiters. Whitespace after terminators and before segments (CR, LF, CRLF, spaces,
//! indentation) is skipped. Every segment carries its line and its ordinal in the input, so
//! errors can say where they are.
//!
//! The tokenizer works on a byte slice. For streams, [`Tokenizer::with_state`] resumes from a
//! saved [`TokState`] and, when `eof` is false, reports [`Step::NeedMore`] instead of
//! guessing at a segment cut by the end of the buffer.

use gateway_model::charset::Charset;

/// How far the tokenizer scans for the 16 separators of an ISA header (the standard is 106
/// bytes; partners pad or shorten fields, so allow slack).
const MAX_ISA_LEN: usize = 256;

/// The delimiters of one interchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delimiters {
    pub element: u8,
    pub component: u8,
    pub segment: u8,
    /// ISA11 when ISA12 ≥ 00402 and ISA11 is not alphanumeric.
    pub repetition: Option<u8>,
    /// The terminator is a newline: trailing spaces and CR before it are padding, not data.
    pub trim_trailing: bool,
}

impl Default for Delimiters {
    fn default() -> Self {
        Delimiters {
            element: b'*',
            component: b':',
            segment: b'~',
            repetition: None,
            trim_trailing: false,
        }
    }
}

/// One segment, borrowed from the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment<'a> {
    /// The segment without its terminator (and without newline padding).
    pub raw: &'a [u8],
    pub delimiters: Delimiters,
    /// 1-based line of the segment's first byte.
    pub line: u32,
    /// 1-based ordinal of the segment in the whole input.
    pub ordinal: u64,
    /// Byte offset of the segment's first byte in the tokenized slice.
    pub offset: usize,
    /// Byte offset just after the segment's terminator.
    pub end: usize,
    /// `raw` as text when the tokenizer already knows it is UTF-8, so reading an element
    /// as text does not validate it again (see [`Segment::text_of`]).
    pub text: Option<&'a str>,
    /// How bytes that are not ASCII read ([`TokState::charset`]).
    pub charset: Charset,
}

impl<'a> Segment<'a> {
    /// The segment id (`ST`, `BIG`, ...): the bytes before the first element separator.
    pub fn id(&self) -> &'a [u8] {
        let sep = self.delimiters.element;
        let raw = self.raw;
        // Ids are two or three characters: look there before scanning.
        let len = match raw {
            [a, b, s, ..] if *s == sep && *a != sep && *b != sep => 2,
            [a, b, c, s, ..] if *s == sep && ![*a, *b, *c].contains(&sep) => 3,
            _ => raw.iter().position(|&b| b == sep).unwrap_or(raw.len()),
        };
        raw.get(..len).unwrap_or(raw)
    }

    /// The id as text (lossy; ids are ASCII).
    pub fn id_str(&self) -> &'a str {
        std::str::from_utf8(self.id()).unwrap_or("?")
    }

    /// The elements, the id first (`elements().nth(1)` is the first data element).
    pub fn elements(&self) -> std::slice::Split<'a, u8, impl FnMut(&u8) -> bool + use<'a>> {
        let sep = self.delimiters.element;
        self.raw.split(move |&b| b == sep)
    }

    /// Element `n` (1-based as in `BIG02`; 0 is the id); `None` when the segment is shorter.
    pub fn element(&self, n: usize) -> Option<&'a [u8]> {
        // One scan to the n-th separator and one to the next: the mapping reads elements by
        // position many times per segment, and this is cheaper than `elements().nth(n)`.
        // (Elements are a few bytes long: a plain loop beats `memchr`'s setup here.)
        let sep = self.delimiters.element;
        let mut rest = self.raw;
        for _ in 0..n {
            let at = rest.iter().position(|&b| b == sep)?;
            rest = rest.get(at + 1..)?;
        }
        let end = rest.iter().position(|&b| b == sep).unwrap_or(rest.len());
        rest.get(..end)
    }

    /// Element `n` as text in the segment's character set ([`Charset::read`]), `None` when
    /// absent or empty.
    pub fn text(&self, n: usize) -> Option<String> {
        match self.element(n) {
            Some(b) if !b.is_empty() => Some(self.charset.read(b).into_owned()),
            _ => None,
        }
    }

    /// Element `n` trimmed and borrowed from the input (owned only when it is not UTF-8);
    /// `None` when absent or blank. The mapping reads through this so it allocates only what
    /// the document keeps.
    pub fn str_at(&self, n: usize) -> Option<std::borrow::Cow<'a, str>> {
        self.text_of(self.element(n)?)
    }

    /// `part`, a piece of this segment's bytes (an element or component), as trimmed text
    /// read in the segment's character set ([`Charset::read`]); borrowed from [`Segment::text`]
    /// without validating again when the tokenizer validated the input. A `part` from
    /// elsewhere is validated as usual.
    pub fn text_of(&self, part: &'a [u8]) -> Option<std::borrow::Cow<'a, str>> {
        // Trim the bytes first: blank parts (most absent elements) end here.
        let part = part.trim_ascii();
        if part.is_empty() {
            return None;
        }
        match self.known_text(part) {
            Some(s) => Some(std::borrow::Cow::Borrowed(s)),
            None => Some(self.charset.read(part)),
        }
    }

    /// [`Segment::text_of`] as a [`gateway_model::Text`], without the `Cow` in between.
    pub fn text_value(&self, part: &'a [u8]) -> Option<gateway_model::Text> {
        let part = part.trim_ascii();
        if part.is_empty() {
            return None;
        }
        Some(match self.known_text(part) {
            Some(s) => gateway_model::Text::from(s),
            None => self.charset.read(part).into(),
        })
    }

    /// `part` (a piece of this segment's bytes) as text, untrimmed, in the segment's character
    /// set ([`Charset::read`]), without validating again when the tokenizer validated it.
    pub fn lossy(&self, part: &'a [u8]) -> std::borrow::Cow<'a, str> {
        match self.known_text(part) {
            Some(s) => std::borrow::Cow::Borrowed(s),
            None => self.charset.read(part),
        }
    }

    /// [`Segment::lossy`] as an owned `String`, for what is kept as JSON.
    pub fn owned_text(&self, part: &'a [u8]) -> String {
        self.lossy(part).into_owned()
    }

    /// `part` as text when it lies in the part of `raw` the tokenizer validated: `text` is
    /// `raw` as text, so the part's offset in `raw` is its offset in `text`; `get` refuses an
    /// offset from elsewhere or one that splits a character.
    fn known_text(&self, part: &'a [u8]) -> Option<&'a str> {
        let text = self.text?;
        let start = (part.as_ptr() as usize).checked_sub(self.raw.as_ptr() as usize)?;
        text.get(start..start.checked_add(part.len())?)
    }

    /// Element `n` trimmed, `None` when absent or blank.
    pub fn trimmed(&self, n: usize) -> Option<gateway_model::Text> {
        self.text_value(self.element(n)?)
    }

    /// Number of data elements (not counting the id).
    pub fn element_count(&self) -> usize {
        self.elements().count().saturating_sub(1)
    }
}

/// A problem the tokenizer cannot get past (only at interchange level: without a usable ISA
/// nothing after it can be split).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct TokenError {
    pub line: u32,
    pub ordinal: u64,
    /// Byte offset of the offending data in the tokenized slice.
    pub offset: usize,
    pub message: String,
    /// The TA1 note code that describes the problem (`026` bad element separator, ...).
    pub ta1_code: &'static str,
}

/// Where the tokenizer is; `Copy` so a caller can rewind to a saved point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokState {
    pub delimiters: Option<Delimiters>,
    pub line: u32,
    pub ordinal: u64,
    pub pos: usize,
    /// How bytes that are not ASCII read: the partner's `x12.charset` (by default UTF-8, and
    /// Windows-1252 where they are not UTF-8).
    pub charset: Charset,
}

impl Default for TokState {
    fn default() -> Self {
        TokState {
            delimiters: None,
            line: 1,
            ordinal: 0,
            pos: 0,
            charset: Charset::Utf8,
        }
    }
}

/// One step of the tokenizer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step<'a> {
    Segment(Segment<'a>),
    Error(TokenError),
    /// The buffer ends inside a segment and more input may follow.
    NeedMore,
    End,
}

/// The offset of the first `term` in `rest`, and the newlines before it (all of `rest`'s
/// when there is no terminator).
fn find_terminator(rest: &[u8], term: u8) -> (Option<usize>, u32) {
    if term == b'\n' {
        return (memchr::memchr(term, rest), 0);
    }
    let mut newlines = 0u32;
    let mut from = 0;
    loop {
        let tail = rest.get(from..).unwrap_or_default();
        match memchr::memchr2(term, b'\n', tail) {
            Some(i) if tail.get(i) == Some(&b'\n') => {
                newlines = newlines.saturating_add(1);
                from += i + 1;
            }
            Some(i) => return (Some(from + i), newlines),
            None => return (None, newlines),
        }
    }
}

/// Splits a byte slice into segments.
#[derive(Debug, Clone)]
pub struct Tokenizer<'a> {
    input: &'a [u8],
    st: TokState,
    eof: bool,
    /// The longest UTF-8 prefix of `input[text_from..]`, validated once here so that
    /// segments can hand out text without validating each element.
    text: Option<&'a str>,
    text_from: usize,
}

/// The longest prefix of `bytes` that is UTF-8.
fn utf8_prefix(bytes: &[u8]) -> Option<&str> {
    match std::str::from_utf8(bytes) {
        Ok(s) => Some(s),
        Err(e) => std::str::from_utf8(bytes.get(..e.valid_up_to())?).ok(),
    }
}

/// `bytes` start like UTF-16 text: a UTF-16 byte-order mark, or `ISA` with a zero byte beside
/// each letter.
fn looks_utf16(bytes: &[u8]) -> bool {
    bytes.starts_with(b"\xFF\xFE")
        || bytes.starts_with(b"\xFE\xFF")
        || bytes.starts_with(b"I\0S\0A\0")
        || bytes.starts_with(b"\0I\0S\0A")
}

fn is_pad(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n' | 0x0b | 0x0c)
}

impl<'a> Tokenizer<'a> {
    /// Tokenizes a complete input.
    pub fn new(input: &'a [u8]) -> Self {
        Self::with_state(input, TokState::default(), true)
    }

    /// Resumes at `state` in `input`; `eof` says whether `input` is all there is.
    pub fn with_state(input: &'a [u8], state: TokState, eof: bool) -> Self {
        let text_from = state.pos.min(input.len());
        Tokenizer {
            input,
            st: state,
            eof,
            text: input.get(text_from..).and_then(utf8_prefix),
            text_from,
        }
    }

    /// The text of the segment at `input[start..start + len]`. A segment that starts past the
    /// validated prefix (which ended at bytes that are not UTF-8, in an earlier segment)
    /// validates again from its start, so one Windows-1252 name leaves the segments after it
    /// on the fast path: each byte is validated about once, and `None` here means the segment
    /// itself holds bytes that are not UTF-8.
    /// For a partner that writes Windows-1252 (`x12.charset`), a segment that is not ASCII
    /// has no text here: its bytes are read as Windows-1252 even where they would be UTF-8.
    #[inline]
    fn text_from(&mut self, start: usize, raw: &[u8]) -> Option<&'a str> {
        let len = raw.len();
        if self.st.charset == Charset::Windows1252 && !raw.is_ascii() {
            return None;
        }
        match self.text_at(start, len) {
            Some(text) => Some(text),
            None => self.validate_again(start, len),
        }
    }

    /// [`Tokenizer::text_from`] for a segment outside the validated prefix.
    #[cold]
    fn validate_again(&mut self, start: usize, len: usize) -> Option<&'a str> {
        let validated_to = self
            .text
            .map_or(self.text_from, |t| self.text_from + t.len());
        if start < validated_to || len == 0 {
            return None;
        }
        self.text = self.input.get(start..).and_then(utf8_prefix);
        self.text_from = start;
        self.text_at(start, len)
    }

    /// The text of `input[start..start + len]`, when it lies in the validated prefix.
    fn text_at(&self, start: usize, len: usize) -> Option<&'a str> {
        let from = start.checked_sub(self.text_from)?;
        self.text?.get(from..from.checked_add(len)?)
    }

    pub fn state(&self) -> TokState {
        self.st
    }

    /// The slice being tokenized.
    pub fn input(&self) -> &'a [u8] {
        self.input
    }

    /// Rewinds (or advances) to a state saved from this tokenizer.
    pub fn set_state(&mut self, state: TokState) {
        self.st = state;
    }

    /// The next segment, error, or the need for more input.
    pub fn step(&mut self) -> Step<'a> {
        let input = self.input;
        // A UTF-8 byte-order mark before the first segment (Windows editors write one) is no
        // data: skipped, as a CSV or cXML reader skips it.
        if self.st.ordinal == 0 && self.st.pos == 0 && input.starts_with(b"\xEF\xBB\xBF") {
            self.st.pos = 3;
        }
        // Skip padding between segments, counting lines.
        let mut pos = self.st.pos;
        let term = self.st.delimiters.map(|d| d.segment);
        while let Some(&b) = input.get(pos) {
            if is_pad(b) || Some(b) == term {
                if b == b'\n' {
                    self.st.line = self.st.line.saturating_add(1);
                }
                pos += 1;
            } else {
                break;
            }
        }
        self.st.pos = pos;
        let rest = input.get(pos..).unwrap_or_default();
        if rest.is_empty() {
            return if self.eof { Step::End } else { Step::NeedMore };
        }
        if rest.len() < 4
            && !self.eof
            && b"ISA".starts_with(rest.get(..3.min(rest.len())).unwrap_or_default())
        {
            return Step::NeedMore;
        }
        if rest.starts_with(b"ISA") && rest.get(3).is_some_and(|b| !b.is_ascii_alphanumeric()) {
            return self.isa(rest);
        }
        let Some(delims) = self.st.delimiters else {
            return self.no_header(rest);
        };
        // One vectorised search for the terminator or a newline: newlines inside a segment
        // are rare, so this usually stops once, at the terminator.
        let (end, newlines) = find_terminator(rest, delims.segment);
        let (len, consumed) = match end {
            Some(i) => (i, i + 1),
            None if self.eof => (rest.len(), rest.len()),
            None => return Step::NeedMore,
        };
        let mut raw = rest.get(..len).unwrap_or_default();
        if delims.trim_trailing {
            while let Some((&last, head)) = raw.split_last() {
                if matches!(last, b' ' | b'\t' | b'\r' | b'\n') {
                    raw = head;
                } else {
                    break;
                }
            }
        }
        self.st.ordinal += 1;
        let seg = Segment {
            raw,
            delimiters: delims,
            line: self.st.line,
            ordinal: self.st.ordinal,
            offset: pos,
            end: pos + consumed,
            text: self.text_from(pos, raw),
            charset: self.st.charset,
        };
        self.st.line = self.st.line.saturating_add(newlines);
        self.st.pos = pos + consumed;
        Step::Segment(seg)
    }

    /// Data before any ISA: report it once and skip to the next `ISA`.
    fn no_header(&mut self, rest: &'a [u8]) -> Step<'a> {
        let line = self.st.line;
        let skip = match find(rest, b"ISA") {
            Some(i) => i.max(1),
            None if self.eof => rest.len(),
            None => rest.len().saturating_sub(2).max(1),
        };
        let skipped = rest.get(..skip).unwrap_or_default();
        self.st.line = self
            .st
            .line
            .saturating_add(skipped.iter().filter(|&&b| b == b'\n').count() as u32);
        self.st.pos += skip;
        self.st.ordinal += 1;
        Step::Error(TokenError {
            line,
            ordinal: self.st.ordinal,
            offset: self.st.pos - skip,
            message: if looks_utf16(rest) {
                "expected an interchange header ISA, and the input is UTF-16 (a UTF-16 byte-order mark, or every other byte zero); X12 is read byte by byte: send it as UTF-8 or Windows-1252".into()
            } else {
                "expected an interchange header ISA; data before it was skipped".into()
            },
            ta1_code: "024",
        })
    }

    /// An ISA header: read the delimiters, then return the ISA as a segment.
    fn isa(&mut self, rest: &'a [u8]) -> Step<'a> {
        let line = self.st.line;
        let fail = |this: &mut Self, message: String, code: &'static str| {
            this.st.delimiters = None;
            this.st.ordinal += 1;
            let offset = this.st.pos;
            // Skip past this "ISA" so the next interchange can still be found.
            this.st.pos += 3;
            Step::Error(TokenError {
                line,
                ordinal: this.st.ordinal,
                offset,
                message,
                ta1_code: code,
            })
        };
        let Some(&sep) = rest.get(3) else {
            return Step::NeedMore;
        };
        // Find the 16th element separator: ISA16 follows it, the terminator follows ISA16.
        let mut count = 0;
        let mut sixteenth = None;
        for (i, &b) in rest.iter().enumerate().take(MAX_ISA_LEN) {
            if b == sep {
                count += 1;
                if count == 16 {
                    sixteenth = Some(i);
                    break;
                }
            }
        }
        let Some(k) = sixteenth else {
            if !self.eof && rest.len() < MAX_ISA_LEN {
                return Step::NeedMore;
            }
            return fail(
                self,
                format!(
                    "interchange header ISA: expected 16 elements separated by {:?} within {MAX_ISA_LEN} bytes",
                    sep as char
                ),
                "022",
            );
        };
        let (Some(&component), Some(&after)) = (rest.get(k + 1), rest.get(k + 2)) else {
            if !self.eof {
                return Step::NeedMore;
            }
            return fail(
                self,
                "interchange header ISA ends before its segment terminator".into(),
                "023",
            );
        };
        let mut segment = after;
        let mut term_at = k + 2;
        let mut trim = matches!(after, b'\r' | b'\n');
        if matches!(after, b' ' | b'\t') {
            // Newline-terminated files that pad every segment with spaces.
            let mut j = k + 2;
            while rest.get(j).is_some_and(|&b| b == b' ' || b == b'\t') {
                j += 1;
            }
            match rest.get(j) {
                Some(&nl @ (b'\r' | b'\n')) => {
                    segment = nl;
                    term_at = j;
                    trim = true;
                }
                None if !self.eof => return Step::NeedMore,
                _ => {}
            }
        }
        if sep == component || sep == segment || component == segment {
            return fail(
                self,
                format!(
                    "interchange header ISA: element separator {:?}, component separator {:?} and segment terminator {:?} must differ",
                    sep as char, component as char, segment as char
                ),
                "026",
            );
        }
        // A letter, digit or space is data (the header's own values hold spaces), and a
        // delimiter may never occur in data.
        if crate::envelope::is_data_byte(component) {
            return fail(
                self,
                format!(
                    "interchange header ISA: ISA16 component separator {:?} is {}, which X12 data holds, and a delimiter may never occur in data",
                    component as char,
                    if component == b' ' {
                        "a space"
                    } else {
                        "alphanumeric"
                    }
                ),
                "027",
            );
        }
        let raw = rest.get(..k + 2).unwrap_or_default();
        let isa11 = raw.split(|&b| b == sep).nth(11).unwrap_or_default();
        let isa12 = raw.split(|&b| b == sep).nth(12).unwrap_or_default();
        let repetition = match isa11 {
            [r] if isa12 >= b"00402".as_slice()
                && !r.is_ascii_alphanumeric()
                && *r != sep
                && *r != component
                && *r != segment =>
            {
                Some(*r)
            }
            _ => None,
        };
        let delims = Delimiters {
            element: sep,
            component,
            segment,
            repetition,
            trim_trailing: trim,
        };
        self.st.delimiters = Some(delims);
        self.st.ordinal += 1;
        let newlines = rest
            .get(..term_at)
            .unwrap_or_default()
            .iter()
            .filter(|&&b| b == b'\n')
            .count() as u32;
        let pos = self.st.pos;
        let seg = Segment {
            raw,
            delimiters: delims,
            line,
            ordinal: self.st.ordinal,
            offset: pos,
            end: pos + term_at + 1,
            text: self.text_from(pos, raw),
            charset: self.st.charset,
        };
        self.st.line = self.st.line.saturating_add(newlines);
        self.st.pos = pos + term_at + 1;
        Step::Segment(seg)
    }
}

impl<'a> Iterator for Tokenizer<'a> {
    type Item = Result<Segment<'a>, TokenError>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.step() {
            Step::Segment(s) => Some(Ok(s)),
            Step::Error(e) => Some(Err(e)),
            Step::NeedMore | Step::End => None,
        }
    }
}

/// First position of `needle` in `hay`.
pub(crate) fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISA: &str = "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *200301*1253*U*00401*000000001*0*T*>~";

    fn ids(input: &[u8]) -> Vec<String> {
        Tokenizer::new(input)
            .map(|s| s.unwrap().id_str().to_string())
            .collect()
    }

    #[test]
    fn reads_delimiters_from_isa() {
        let input = format!("{ISA}GS*PO*A*B~ST*850*1~SE*2*1~GE*1*1~IEA*1*000000001~");
        let segs: Vec<_> = Tokenizer::new(input.as_bytes())
            .map(|s| s.unwrap())
            .collect();
        assert_eq!(segs.len(), 6);
        let d = segs[0].delimiters;
        assert_eq!((d.element, d.component, d.segment), (b'*', b'>', b'~'));
        assert_eq!(d.repetition, None, "ISA11 'U' in 00401 is not a separator");
        assert_eq!(segs[0].element(13), Some(&b"000000001"[..]));
        assert_eq!(segs[2].element(1), Some(&b"850"[..]));
        assert_eq!(segs[5].ordinal, 6);
    }

    #[test]
    fn a_byte_order_mark_before_the_isa_is_skipped() {
        let input = format!("\u{feff}{ISA}\nGS*IN*S*R*20260315*1030*1*X*004010~");
        let segs: Vec<_> = Tokenizer::new(input.as_bytes()).collect();
        assert!(segs.iter().all(Result::is_ok), "{segs:?}");
        assert_eq!(segs.len(), 2);
        // Only at the start: later those bytes are data like any other.
        let later = format!("{ISA}\n\u{feff}GS*IN~");
        let ids: Vec<String> = Tokenizer::new(later.as_bytes())
            .map(|s| s.map(|s| s.id_str().to_string()).unwrap_or_default())
            .collect();
        assert_eq!(ids, ["ISA", "\u{feff}GS"]);
    }

    #[test]
    fn utf16_input_is_named_as_such() {
        for input in [
            &b"\xFF\xFEI\0S\0A\0*\0"[..],
            &b"\xFE\xFF\0I\0S\0A\0*"[..],
            &b"I\0S\0A\0*\0"[..],
        ] {
            let Some(Err(e)) = Tokenizer::new(input).next() else {
                panic!("{input:?} gave no error");
            };
            assert!(e.message.contains("the input is UTF-16"), "{e}");
        }
        let Some(Err(e)) = Tokenizer::new(b"junk").next() else {
            panic!("junk gave no error");
        };
        assert!(!e.message.contains("UTF-16"), "{e}");
    }

    #[test]
    fn text_is_the_same_before_and_after_invalid_utf8() {
        // A Latin-1 byte in the second N1 ends the validated prefix: elements before it are
        // borrowed from the validated text, its own are read one by one, and the segment
        // after it is validated again and back on the fast path.
        let mut input = format!("{ISA}N1*SU* Caf\u{e9} A *92*1~N1*ST*Caf").into_bytes();
        input.push(0xE9);
        input.extend_from_slice(b"*92*2~N3*R\xC3\xA9sidence~");
        let segs: Vec<_> = Tokenizer::new(&input).map(|s| s.unwrap()).collect();
        assert!(
            segs[1].text.is_some(),
            "first N1 lies in the validated prefix"
        );
        assert!(
            segs[2].text.is_none(),
            "the N1 holds a byte that is not UTF-8"
        );
        assert!(segs[3].text.is_some(), "the N3 after it is UTF-8 again");
        assert_eq!(segs[1].str_at(2).as_deref(), Some("Caf\u{e9} A"));
        // The byte that is not UTF-8 is read as Windows-1252, where 0xE9 is `é`.
        assert_eq!(segs[2].str_at(2).as_deref(), Some("Caf\u{e9}"));
        assert_eq!(segs[2].str_at(4).as_deref(), Some("2"));
        assert_eq!(segs[3].str_at(1).as_deref(), Some("R\u{e9}sidence"));
        // A piece that is not part of the segment is read on its own, not through `text`.
        assert_eq!(segs[1].text_of(b" other ").as_deref(), Some("other"));
        assert_eq!(segs[1].text_of(b"   "), None);
        // The owned form reads the same text by both routes.
        for (seg, n) in [(1, 2), (2, 2), (2, 4), (3, 1), (1, 9)] {
            assert_eq!(
                segs[seg].trimmed(n).as_deref(),
                segs[seg].str_at(n).as_deref(),
                "segment {seg} element {n}"
            );
        }
    }

    #[test]
    fn resuming_validates_from_the_resume_point() {
        let input = format!("{ISA}N1*SU*Caf\u{e9}~N3*Main~");
        let mut first = Tokenizer::new(input.as_bytes());
        let _isa = first.next();
        let _n1 = first.next();
        let mut resumed = Tokenizer::with_state(input.as_bytes(), first.state(), true);
        let n3 = resumed.next().unwrap().unwrap();
        assert_eq!(n3.text, Some("N3*Main"));
        assert_eq!(n3.str_at(1).as_deref(), Some("Main"));
    }

    #[test]
    fn repetition_separator_only_from_00402() {
        let isa = "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *200301*1253*^*00501*000000001*0*T*:~";
        let segs: Vec<_> = Tokenizer::new(isa.as_bytes()).map(|s| s.unwrap()).collect();
        assert_eq!(segs[0].delimiters.repetition, Some(b'^'));
    }

    #[test]
    fn tolerates_newlines_indentation_and_missing_final_terminator() {
        let input =
            format!("  {ISA}\r\n  GS*PO*A*B~\r\n\r\n    ST*850*1~\nSE*2*1~GE*1*1~IEA*1*000000001");
        let segs: Vec<_> = Tokenizer::new(input.as_bytes())
            .map(|s| s.unwrap())
            .collect();
        assert_eq!(segs.len(), 6);
        assert_eq!(segs[1].line, 2);
        assert_eq!(segs[2].line, 4);
        assert_eq!(segs[3].line, 5);
        assert_eq!(segs[5].raw, b"IEA*1*000000001");
    }

    #[test]
    fn newline_terminator_with_trailing_spaces() {
        let isa = ISA.replace("T*>~", "T*> \r\n");
        let input = format!("{isa}GS*PO*A*B \r\nST*850*1 \r\n");
        let segs: Vec<_> = Tokenizer::new(input.as_bytes())
            .map(|s| s.unwrap())
            .collect();
        assert_eq!(segs.len(), 3);
        assert_eq!(segs[0].delimiters.segment, b'\r');
        assert_eq!(segs[1].raw, b"GS*PO*A*B");
        assert_eq!(segs[2].element(2), Some(&b"1"[..]));
        assert_eq!(segs[2].line, 3);
    }

    #[test]
    fn several_interchanges_with_different_delimiters() {
        let second = ISA.replace('*', "|").replace("|>~", "|!\n");
        let input = format!("{ISA}IEA*0*000000001~\n{second}IEA|0|000000001\n");
        let segs: Vec<_> = Tokenizer::new(input.as_bytes())
            .map(|s| s.unwrap())
            .collect();
        assert_eq!(segs.len(), 4);
        assert_eq!(segs[2].delimiters.element, b'|');
        assert_eq!(segs[2].delimiters.component, b'!');
        assert_eq!(segs[3].element(2), Some(&b"000000001"[..]));
    }

    #[test]
    fn control_characters_as_delimiters() {
        let isa = ISA.replace('*', "\x1d").replace("\x1d>~", "\x1d\x1f\x1c");
        let input = format!("{isa}GS\x1dPO\x1c");
        assert_eq!(ids(input.as_bytes()), vec!["ISA", "GS"]);
    }

    #[test]
    fn garbage_before_isa_is_one_located_error() {
        let input = format!("hello\nworld\n{ISA}GS*PO~");
        let items: Vec<_> = Tokenizer::new(input.as_bytes()).collect();
        assert!(matches!(&items[0], Err(e) if e.line == 1));
        assert_eq!(items.len(), 3);
        assert_eq!(items[1].as_ref().unwrap().line, 3);
    }

    #[test]
    fn short_or_bad_isa_is_an_error_not_a_panic() {
        for input in [
            "ISA*00*",
            "ISA",
            "ISA*0**0",
            "ISA*1*2*3*4*5*6*7*8*9*0*1*2*3*4*5*6**",
        ] {
            let items: Vec<_> = Tokenizer::new(input.as_bytes()).collect();
            assert!(items.iter().any(|i| i.is_err()), "{input}: {items:?}");
        }
    }

    #[test]
    fn streaming_state_asks_for_more_instead_of_cutting_a_segment() {
        let input = format!("{ISA}GS*PO*A*B~ST*85");
        let mut t = Tokenizer::with_state(input.as_bytes(), TokState::default(), false);
        assert!(matches!(t.step(), Step::Segment(_)));
        assert!(matches!(t.step(), Step::Segment(_)));
        let saved = t.state();
        assert_eq!(t.step(), Step::NeedMore);
        let more = format!("{input}0*1~");
        let mut t = Tokenizer::with_state(more.as_bytes(), saved, true);
        match t.step() {
            Step::Segment(s) => assert_eq!(s.raw, b"ST*850*1"),
            other => panic!("{other:?}"),
        }
    }
}
