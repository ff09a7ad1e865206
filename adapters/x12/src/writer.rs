//! Writes segments with a partner's delimiters, refusing values that contain a delimiter (X12
//! has no escape mechanism, so such a value would corrupt the interchange).

use std::borrow::Cow;

use gateway_core::EncodeError;
use gateway_model::charset::Charset;

use crate::lengths::{Limits, SegmentLimits};
use crate::tokenizer::Delimiters;

/// One element to write: plain text or a composite of components. Text borrows from the
/// document where it is written as is, so a segment copies each value once, into the output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum El<'a> {
    T(Cow<'a, str>),
    C(Vec<Cow<'a, str>>),
}

impl<'a> El<'a> {
    pub fn empty() -> El<'a> {
        El::T(Cow::Borrowed(""))
    }
    pub fn is_empty(&self) -> bool {
        match self {
            El::T(s) => s.is_empty(),
            El::C(c) => c.iter().all(|s| s.is_empty()),
        }
    }
}

/// Text element.
pub fn t<'a>(s: impl Into<Cow<'a, str>>) -> El<'a> {
    El::T(s.into())
}

/// Optional text element (empty when `None`).
pub fn o<'a>(s: Option<impl Into<Cow<'a, str>>>) -> El<'a> {
    s.map(|s| El::T(s.into())).unwrap_or_else(El::empty)
}

/// Whether element `pos` is marked in a mask of element positions (free text, codes).
fn is_marked(mask: u32, pos: usize) -> bool {
    u32::try_from(pos)
        .ok()
        .and_then(|b| 1u32.checked_shl(b))
        .is_some_and(|bit| mask & bit != 0)
}

/// The elements with the line breaks of their free-text elements (`mask`) made spaces, and the
/// interchange's delimiters in them too (`forbidden`): X12 cannot escape a delimiter, and a
/// PO line described `Screw M6*20` was refused, so the PO never reached its supplier. `None`
/// when there is none to change (the usual case, which copies nothing).
fn flattened_free_text<'e>(
    mask: u32,
    elements: &[El<'e>],
    forbidden: &[bool; 256],
) -> Option<Vec<El<'e>>> {
    if mask == 0 {
        return None;
    }
    let is_forbidden = |c: char| {
        c.is_ascii()
            && forbidden
                .get(usize::from(c as u8))
                .copied()
                .unwrap_or(false)
    };
    // One pass over the bytes answers for nearly every value (printable ASCII, no delimiter);
    // only the others are looked at character by character.
    let plain = |v: &str| {
        v.bytes().all(|b| {
            (0x20..0x7f).contains(&b) && !forbidden.get(usize::from(b)).copied().unwrap_or(false)
        })
    };
    let changes = |i: usize, e: &El| {
        is_marked(mask, i + 1)
            && matches!(e, El::T(v) if !plain(v)
                && (control_char(v).is_some() || v.chars().any(is_forbidden)))
    };
    if !elements.iter().enumerate().any(|(i, e)| changes(i, e)) {
        return None;
    }
    let substitute = [' ', '.', '-', '_', '/']
        .into_iter()
        .find(|c| !is_forbidden(*c))
        .unwrap_or(' ');
    let flat = elements
        .iter()
        .enumerate()
        .map(|(i, e)| match e {
            El::T(v) if changes(i, e) => El::T(Cow::Owned(
                one_line(v)
                    .chars()
                    .map(|c| if is_forbidden(c) { substitute } else { c })
                    .collect(),
            )),
            _ => e.clone(),
        })
        .collect();
    Some(flat)
}

/// Refuses an element of `seg` longer than its limit.
fn check_lengths(
    limits: &Limits,
    seg: &SegmentLimits,
    path: &str,
    id: &str,
    elements: &[El],
) -> Result<(), EncodeError> {
    for (pos, &max) in seg.max.iter().enumerate().skip(1) {
        let (Some(El::T(v)), m) = (elements.get(pos - 1), usize::from(max)) else {
            continue;
        };
        if m == 0 || v.len() <= m {
            continue;
        }
        let length = if is_marked(seg.numeric, pos) {
            v.bytes().filter(u8::is_ascii_digit).count()
        } else {
            v.chars().count()
        };
        if length > m {
            return Err(limits.too_long(path, id, pos, v, m));
        }
    }
    Ok(())
}

/// The elements with each string shorter than its minimum padded with trailing spaces, which
/// X12.6 allows for exactly this and every reader trims; a code shorter than its minimum is
/// refused, since padding would make it another code. `None` when nothing is short (the usual
/// case, which copies nothing).
fn padded_to_minimum<'e>(
    seg: &SegmentLimits,
    path: &str,
    id: &str,
    elements: &[El<'e>],
) -> Result<Option<Vec<El<'e>>>, EncodeError> {
    let mut padded: Option<Vec<El<'e>>> = None;
    for (pos, &min) in seg.min.iter().enumerate().skip(1) {
        let min = usize::from(min);
        let Some(El::T(v)) = elements.get(pos - 1) else {
            continue;
        };
        // An empty element is left out, not padded: a minimum applies to a value present.
        if min < 2 || v.is_empty() || v.chars().count() >= min {
            continue;
        }
        if is_marked(seg.code, pos) {
            return Err(Limits::too_short(path, id, pos, v, min));
        }
        let long_enough = format!("{v:<min$}");
        let out = padded.get_or_insert_with(|| elements.to_vec());
        if let Some(slot) = out.get_mut(pos - 1) {
            *slot = El::T(Cow::Owned(long_enough));
        }
    }
    Ok(padded)
}

/// `text` with each line break (CRLF, CR or LF) written as one space, and so every other
/// control character (a tab, a NUL, U+2028): X12 data carries printable characters only.
pub fn one_line(text: &str) -> String {
    text.replace("\r\n", " ")
        .chars()
        .map(|c| if is_control(c) { ' ' } else { c })
        .collect()
}

/// A control character (C0, DEL, C1) or a Unicode line or paragraph separator.
fn is_control(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}')
}

/// The first control character in `text` ([`is_control`]); one pass over bytes when the text
/// is plain ASCII, as nearly every value is.
fn control_char(text: &str) -> Option<char> {
    if text.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return None;
    }
    text.chars().find(|c| is_control(*c))
}

/// Segment output for one interchange.
#[derive(Debug)]
pub struct Out {
    pub buf: Vec<u8>,
    delimiters: Delimiters,
    /// Segments written since the last [`Out::reset_count`] (for SE01).
    pub count: u32,
    /// Written after each terminator (`"\n"` for readable files, empty for none).
    line_break: &'static [u8],
    /// Bytes no value may contain with these delimiters, looked up once per byte written.
    forbidden: [bool; 256],
    /// Element lengths the partner accepts, for segments written from canonical documents.
    limits: Option<Limits>,
    /// The area being written, whose segments are put in table order when it ends.
    area: Option<Ordering>,
    /// Each segment of that area: where it goes ([`crate::order::Key`]) and where it starts
    /// in `buf` (kept between areas so a line loop allocates nothing).
    marks: Vec<(crate::order::Key, usize)>,
    /// The character set the partner reads (`x12.charset`): values are written in it.
    charset: Charset,
}

/// The segments of an area written so far, each with its table position and where it starts
/// in the buffer.
#[derive(Debug)]
struct Ordering {
    positions: &'static crate::order::Positions,
    /// Inside a loop every segment takes the loop's position, so the loop moves as a block,
    /// and goes to its place in the loop ([`crate::order::Positions::in_party_loop`]).
    loop_position: Option<u16>,
    /// The run being written: each loop is one, and each stretch between loops
    /// ([`crate::order::Key`]).
    run: u32,
    /// The position of the last segment written, for one the table does not list.
    last: u16,
    /// Its place in its loop, for one the loop does not list.
    last_in_loop: u16,
    /// The key of the last segment written.
    last_key: crate::order::Key,
    in_order: bool,
}

impl Out {
    pub fn new(delimiters: Delimiters, line_break: &'static [u8]) -> Self {
        let mut forbidden = [false; 256];
        let mut bad = vec![delimiters.element, delimiters.component, delimiters.segment];
        bad.extend(delimiters.repetition);
        // Line breaks would be read as padding after a terminator.
        if delimiters.trim_trailing || line_break.contains(&b'\n') {
            bad.extend_from_slice(b"\r\n");
        }
        for b in bad {
            if let Some(slot) = forbidden.get_mut(usize::from(b)) {
                *slot = true;
            }
        }
        Out {
            buf: Vec::new(),
            delimiters,
            count: 0,
            line_break,
            forbidden,
            limits: None,
            area: None,
            marks: Vec::new(),
            charset: Charset::Utf8,
        }
    }

    /// Writes values in `charset` (the partner's `x12.charset`) instead of UTF-8.
    pub fn with_charset(mut self, charset: Charset) -> Self {
        self.charset = charset;
        self
    }

    /// Starts `area` of transaction set `set`: from here to [`Out::end_area`] segments are put
    /// in the order of `schemas/x12/segment-order.csv` (a set the table lacks is left as
    /// written).
    pub fn begin_area(&mut self, set: &str, area: crate::order::Area) {
        self.marks.clear();
        self.area = crate::order::positions(set, area).map(|positions| Ordering {
            positions,
            loop_position: None,
            run: 0,
            last: 0,
            last_in_loop: 0,
            last_key: (0, 0, 0),
            in_order: true,
        });
    }

    /// Starts a loop (`N1`) inside the area: its segments move together, at the loop's place,
    /// each at its place in the loop.
    pub fn begin_loop(&mut self, id: &str) {
        self.begin_loop_at(id, None);
    }

    /// [`Out::begin_loop`] for a loop kept from an X12 input, at `at`
    /// ([`crate::order::kept_positions`] of its N1), never before the segment that opened the
    /// area, as [`Out::kept_segment`] places it.
    pub fn begin_kept_loop(&mut self, at: Option<u16>) {
        let floor = self.marks.first().map_or(0, |m| m.0.0);
        self.begin_loop_at("N1", at.map(|p| p.max(floor)));
    }

    fn begin_loop_at(&mut self, id: &str, at: Option<u16>) {
        if let Some(a) = self.area.as_mut() {
            a.loop_position = Some(at.or_else(|| a.positions.of(id)).unwrap_or(a.last));
            a.run = a.run.saturating_add(1);
            a.last_in_loop = 0;
        }
    }

    pub fn end_loop(&mut self) {
        if let Some(a) = self.area.as_mut() {
            a.loop_position = None;
            a.run = a.run.saturating_add(1);
        }
    }

    /// Ends the area: its segments are reordered by position (and inside a loop by their
    /// place in it), keeping the written order among equal ones (a segment the table lacks
    /// stays after the one before it).
    pub fn end_area(&mut self) {
        let Some(a) = self.area.take() else {
            return;
        };
        let Some(&(_, start)) = self.marks.first() else {
            return;
        };
        if a.in_order {
            return;
        }
        let end = self.buf.len();
        let marks = &self.marks;
        let mut spans: Vec<(crate::order::Key, usize, usize)> = marks
            .iter()
            .enumerate()
            .map(|(i, &(key, from))| {
                let to = marks.get(i + 1).map_or(end, |m| m.1);
                (key, from, to)
            })
            .collect();
        spans.sort_by_key(|&(key, _, _)| key);
        let mut sorted = Vec::with_capacity(end - start);
        for (_, from, to) in spans {
            sorted.extend_from_slice(self.buf.get(from..to).unwrap_or_default());
        }
        self.buf.truncate(start);
        self.buf.extend_from_slice(&sorted);
    }

    /// Checks the length of every element [`Out::segment`] writes against `limits`.
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = Some(limits);
        self
    }

    /// The most characters element `pos` of `seg` may hold, when limits apply.
    pub fn max_len(&self, seg: &str, pos: usize) -> Option<usize> {
        self.limits.as_ref().and_then(|l| l.max(seg, pos))
    }

    /// Writes a segment kept from an X12 input as it came: its lengths are the sender's. `at`
    /// is its place in the area ([`crate::order::kept_positions`]), never before the segment
    /// that opened the area; inside a loop it goes with the loop.
    pub fn kept_segment(
        &mut self,
        path: &str,
        id: &str,
        elements: &[El],
        at: Option<u16>,
    ) -> Result<(), EncodeError> {
        let floor = self.marks.first().map_or(0, |m| m.0.0);
        self.write_segment_at(path, id, elements, at.map(|p| p.max(floor)))
    }

    /// The positions of kept segments with `ids` in the current area, `None` outside an
    /// ordered area or inside a loop.
    pub fn kept_positions<'a>(&self, ids: impl IntoIterator<Item = &'a str>) -> Option<Vec<u16>> {
        let a = self.area.as_ref().filter(|a| a.loop_position.is_none())?;
        Some(crate::order::kept_positions(a.positions, ids))
    }

    /// The delimiters this interchange is written with.
    pub fn delimiters(&self) -> Delimiters {
        self.delimiters
    }

    pub fn reset_count(&mut self) {
        self.count = 0;
    }

    fn check(&self, path: &str, id: &str, i: usize, value: &str) -> Result<(), EncodeError> {
        self.encoded(path, id, i, value).map(|_| ())
    }

    /// `value` as the bytes to write for element `i` of `id`: in the partner's character set,
    /// refused when that set lacks one of its characters or when it holds a delimiter.
    fn encoded<'v>(
        &self,
        path: &str,
        id: &str,
        i: usize,
        value: &'v str,
    ) -> Result<Cow<'v, [u8]>, EncodeError> {
        let bytes = self.charset.encode(value).map_err(|e| EncodeError::Invalid {
            path: path.to_string(),
            message: format!(
                "{id}{i:02} value {value:?}: {e}, the character set the partner reads (x12.charset in its profile); change the value, or set charset = \"utf-8\" if the partner reads UTF-8"
            ),
        })?;
        let forbidden = |b: &u8| {
            self.forbidden
                .get(usize::from(*b))
                .copied()
                .unwrap_or(false)
        };
        if let Some(b) = bytes.iter().find(|b| forbidden(b)) {
            return Err(EncodeError::Invalid {
                path: path.to_string(),
                message: format!(
                    "{id}{i:02} value {value:?} contains the delimiter {:?}; X12 cannot escape it (change the value or the partner's delimiters)",
                    char::from(*b)
                ),
            });
        }
        // Free text had its control characters made spaces already; in a code or an id one
        // would reach the partner as data its translator refuses (X12 character sets are
        // printable only), or cut the segment where it is the partner's terminator.
        if let Some(c) = control_char(value) {
            return Err(EncodeError::Invalid {
                path: path.to_string(),
                message: format!(
                    "{id}{i:02} value {value:?} contains the control character U+{:04X}, which X12 data cannot carry; remove it",
                    u32::from(c)
                ),
            });
        }
        Ok(bytes)
    }

    /// Refuses `value` as element `pos` of segment `id` for what [`Out::segment`] would refuse
    /// it for (a delimiter of this interchange, more characters than the limit), naming
    /// `path`: for a segment whose elements come from different fields, each checked under
    /// its own name before the segment is written.
    pub fn check_value(
        &self,
        path: &str,
        id: &str,
        pos: usize,
        value: &str,
    ) -> Result<(), EncodeError> {
        self.check(path, id, pos, value)?;
        let Some((limits, seg)) = self
            .limits
            .as_ref()
            .and_then(|l| l.for_segment(id).map(|s| (l, s)))
        else {
            return Ok(());
        };
        let mut elements = vec![El::empty(); pos.saturating_sub(1)];
        elements.push(t(value));
        check_lengths(limits, seg, path, id, &elements)
    }

    /// `text` as a value this interchange's delimiters cannot break, for words that must get
    /// through whole rather than be refused (a reason a document was given up): each line
    /// break (CRLF, CR or LF) becomes one space, as in free-text elements, and each character
    /// that is a delimiter here (element, component, segment, repetition separator; a line
    /// break is one already) becomes a space too, since X12 cannot escape it, and so does any
    /// other control character (outside X12's character sets, and what some partners choose
    /// as delimiters), and any character the partner's character set lacks. Should a space
    /// itself be a delimiter, the first of `.`, `-`, `_`, `/` that is not takes its place.
    /// Borrowed when there is nothing to change.
    pub fn free_text<'t>(&self, text: &'t str) -> Cow<'t, str> {
        let flat = if control_char(text).is_some() {
            Cow::Owned(one_line(text))
        } else {
            Cow::Borrowed(text)
        };
        let forbidden = |c: char| {
            c.is_ascii()
                && self
                    .forbidden
                    .get(usize::from(c as u8))
                    .copied()
                    .unwrap_or(false)
        };
        let replaced = |c: char| forbidden(c) || c.is_control() || !self.charset.carries(c);
        if !flat.chars().any(replaced) {
            return flat;
        }
        let substitute = [' ', '.', '-', '_', '/']
            .into_iter()
            .find(|c| !forbidden(*c))
            .unwrap_or(' ');
        Cow::Owned(
            flat.chars()
                .map(|c| if replaced(c) { substitute } else { c })
                .collect(),
        )
    }

    /// Writes `id` and its elements; trailing empty elements are dropped. `path` names the
    /// canonical field for errors. With limits, a line break in a free-text element is written
    /// as a space, and an element longer than allowed is refused before anything is written.
    pub fn segment(&mut self, path: &str, id: &str, elements: &[El]) -> Result<(), EncodeError> {
        let fixed = match self.limits.as_ref() {
            Some(limits) => match limits.for_segment(id) {
                Some(seg) => {
                    let flat = flattened_free_text(seg.free_text, elements, &self.forbidden);
                    let flat_or_given = flat.as_deref().unwrap_or(elements);
                    check_lengths(limits, seg, path, id, flat_or_given)?;
                    padded_to_minimum(seg, path, id, flat_or_given)?.or(flat)
                }
                None => None,
            },
            None => None,
        };
        self.write_segment(path, id, fixed.as_deref().unwrap_or(elements))
    }

    fn write_segment(&mut self, path: &str, id: &str, elements: &[El]) -> Result<(), EncodeError> {
        self.write_segment_at(path, id, elements, None)
    }

    fn write_segment_at(
        &mut self,
        path: &str,
        id: &str,
        elements: &[El],
        at: Option<u16>,
    ) -> Result<(), EncodeError> {
        let keep = elements
            .iter()
            .rposition(|e| !e.is_empty())
            .map(|i| i + 1)
            .unwrap_or(0);
        let d = self.delimiters;
        if let Some(a) = self.area.as_mut() {
            let pos = a
                .loop_position
                .or(at)
                .or_else(|| a.positions.of(id))
                .unwrap_or(a.last);
            let in_loop = match a.loop_position {
                Some(_) => a.positions.in_party_loop(id).unwrap_or(a.last_in_loop),
                None => 0,
            };
            let key = (pos, a.run, in_loop);
            a.in_order &= key >= a.last_key;
            (a.last, a.last_in_loop, a.last_key) = (pos, in_loop, key);
            self.marks.push((key, self.buf.len()));
        }
        self.buf.extend_from_slice(id.as_bytes());
        for (i, e) in elements.iter().take(keep).enumerate() {
            self.buf.push(d.element);
            match e {
                El::T(s) => {
                    let bytes = self.encoded(path, id, i + 1, s)?;
                    self.buf.extend_from_slice(&bytes);
                }
                El::C(parts) => {
                    let keep = parts
                        .iter()
                        .rposition(|p| !p.is_empty())
                        .map(|i| i + 1)
                        .unwrap_or(0);
                    for (j, p) in parts.iter().take(keep).enumerate() {
                        if j > 0 {
                            self.buf.push(d.component);
                        }
                        let bytes = self.encoded(path, id, i + 1, p)?;
                        self.buf.extend_from_slice(&bytes);
                    }
                }
            }
        }
        self.buf.push(d.segment);
        self.buf.extend_from_slice(self.line_break);
        self.count += 1;
        Ok(())
    }

    /// Writes an ISA header verbatim (fields already padded).
    pub fn raw_isa(&mut self, fields: &[String]) -> Result<(), EncodeError> {
        let d = self.delimiters;
        self.buf.extend_from_slice(b"ISA");
        for (i, f) in fields.iter().enumerate() {
            self.buf.push(d.element);
            // ISA11 and ISA16 hold the repetition and component separators themselves.
            if i != 10 && i + 1 < fields.len() {
                self.check("$", "ISA", i + 1, f)?;
            }
            self.buf.extend_from_slice(f.as_bytes());
        }
        self.buf.push(d.segment);
        self.buf.extend_from_slice(self.line_break);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_trailing_empties_and_refuses_delimiters() {
        let mut o = Out::new(Delimiters::default(), b"\n");
        o.segment("$", "N1", &[t("ST"), t("ACME"), El::empty(), El::empty()])
            .unwrap();
        assert_eq!(o.buf, b"N1*ST*ACME~\n");
        let err = o.segment("$.x", "N1", &[t("ST"), t("A*B")]).unwrap_err();
        assert!(err.to_string().contains("$.x"), "{err}");
        o.buf.clear();
        o.segment("$", "X", &[El::C(vec!["a".into(), "b".into(), "".into()])])
            .unwrap();
        assert_eq!(o.buf, b"X*a:b~\n");
    }

    #[test]
    fn refuses_every_delimiter_and_line_breaks_only_when_they_matter() {
        let with_rep = Delimiters {
            repetition: Some(b'^'),
            ..Delimiters::default()
        };
        let mut o = Out::new(with_rep, b"\n");
        for bad in ["a*b", "a:b", "a~b", "a^b", "a\nb", "a\rb"] {
            assert!(
                o.segment("$", "N1", &[t(bad)]).is_err(),
                "{bad:?} must be refused"
            );
            assert!(
                o.segment("$", "X", &[El::C(vec!["x".into(), bad.into()])])
                    .is_err(),
                "{bad:?} must be refused in a component"
            );
        }
        o.buf.clear();
        o.segment("$", "N1", &[t("a|b!c")]).unwrap();
        assert_eq!(o.buf, b"N1*a|b!c~\n");
        // Without a repetition separator `^` is data; a newline never is (X12 data is
        // printable: it is refused outside free text even where it delimits nothing).
        let mut plain = Out::new(Delimiters::default(), b"");
        plain.segment("$", "N1", &[t("a^b c")]).unwrap();
        assert_eq!(plain.buf, b"N1*a^b c~");
        assert!(plain.segment("$", "N1", &[t("a\nc")]).is_err());
    }

    #[test]
    fn free_text_loses_its_delimiters_and_line_breaks_and_values_are_checked_alone() {
        let d = Delimiters {
            repetition: Some(b'^'),
            ..Delimiters::default()
        };
        let o = Out::new(d, b"\n");
        assert!(matches!(o.free_text("plain é"), Cow::Borrowed("plain é")));
        // For a partner that reads Windows-1252, what it lacks goes too; what it has stays.
        let w = Out::new(d, b"\n").with_charset(Charset::Windows1252);
        assert_eq!(w.free_text("ok ✓ é – €"), "ok   é – €");
        assert_eq!(o.free_text("a*b:c~d^e\r\nf\ng"), "a b c d e f g");
        assert_eq!(
            o.free_text("tab\there\u{7}bell\u{1c}fs"),
            "tab here bell fs"
        );
        // A space that is a delimiter is not what replaces one.
        let spaced = Out::new(
            Delimiters {
                element: b' ',
                ..Delimiters::default()
            },
            b"",
        );
        assert_eq!(spaced.free_text("a b*c"), "a.b*c");
        let limits = Limits::new("004010", &Default::default()).unwrap();
        let o = Out::new(d, b"\n").with_limits(limits);
        o.check_value("$.x", "N1", 2, &"n".repeat(60)).unwrap();
        let err = o.check_value("$.x", "N1", 2, &"n".repeat(61)).unwrap_err();
        assert!(err.to_string().starts_with("$.x: N102"), "{err}");
        let err = o.check_value("$.y", "N1", 2, "a~b").unwrap_err();
        assert!(err.to_string().starts_with("$.y: N102"), "{err}");
        // A segment the table does not know: only delimiters are refused.
        o.check_value("$", "ZZZ", 1, &"z".repeat(500)).unwrap();
    }

    /// A control character never reaches the partner: in free text it is a space, like a line
    /// break; in any other element (a code, an id) the value is refused with its path.
    #[test]
    fn control_characters_are_spaces_in_free_text_and_refused_elsewhere() {
        let limits = Limits::new("004010", &Default::default()).unwrap();
        let mut o = Out::new(Delimiters::default(), b"\n").with_limits(limits);
        o.segment(
            "$.lines[0].description",
            "PID",
            &[
                El::T("F".into()),
                El::empty(),
                El::empty(),
                El::empty(),
                El::T("A\u{0}B\u{7}C\tD\u{2028}E\u{85}F".into()),
            ],
        )
        .unwrap();
        let written = String::from_utf8(o.buf.clone()).unwrap();
        assert!(written.contains("PID*F****A B C D E F"), "{written:?}");
        let err = o
            .segment(
                "$.supplier",
                "N1",
                &[
                    El::T("SU".into()),
                    El::T("Acme".into()),
                    El::T("92".into()),
                    El::T("SUP\u{1}7".into()),
                ],
            )
            .unwrap_err();
        assert!(
            err.to_string().contains("$.supplier") && err.to_string().contains("U+0001"),
            "{err}"
        );
    }
}
