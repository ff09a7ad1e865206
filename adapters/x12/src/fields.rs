//! [`Fields`]: a segment split into its elements once.
//!
//! The mapping reads most elements of every segment it maps, by position. Reading them
//! through [`Segment::element`] scans from the start of the segment each time; splitting once
//! and reading offsets costs one pass. The split looks at eight bytes per step (a SWAR
//! comparison on a `u64`) because elements are a few bytes long: per-byte loops and `memchr`
//! calls both cost more per separator found.

use std::borrow::Cow;
use std::ops::Deref;

use crate::tokenizer::Segment;

/// Separators recorded; elements after the last recorded one (or past 64 KiB into the
/// segment) are found by scanning. IT1 and PO1 have at most 25 data elements, SAC 16, so real
/// segments never get there.
const MAX_SEPARATORS: usize = 32;

const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
const ONES: u64 = 0x0101_0101_0101_0101;

/// A segment with the offsets of its element separators. Derefs to the [`Segment`], so
/// its line, id and delimiters read as before; [`Fields::element`], [`Fields::str_at`] and
/// [`Fields::trimmed`] shadow the segment's scanning versions.
#[derive(Debug, Clone, Copy)]
pub struct Fields<'s, 'a> {
    seg: &'s Segment<'a>,
    /// Where element `n` starts in `raw`, for `n` in `0..=count`: 0 for the id, then one
    /// past each of the first `count` element separators. Element `n < count` ends one
    /// before `starts[n + 1]`, the last recorded one at the end of `raw`.
    starts: [u16; MAX_SEPARATORS + 1],
    count: usize,
    /// There are separators after the recorded ones.
    more: bool,
}

impl<'s, 'a> Fields<'s, 'a> {
    /// Splits `seg` (one pass over its bytes).
    pub fn new(seg: &'s Segment<'a>) -> Self {
        let mut f = Fields {
            seg,
            starts: [0; MAX_SEPARATORS + 1],
            count: 0,
            more: false,
        };
        let raw = seg.raw;
        let sep = seg.delimiters.element;
        let pattern = ONES.wrapping_mul(u64::from(sep));
        let mut chunks = raw.chunks_exact(8);
        let mut base = 0usize;
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            // Exact zero-byte test (no false positives from borrows): the high bit of a byte
            // of `hits` is set when that byte of `x` is zero, i.e. the input byte is `sep`.
            let x = u64::from_le_bytes(word) ^ pattern;
            let mut hits = !(((x & LOW7).wrapping_add(LOW7)) | x | LOW7);
            while hits != 0 {
                let at = base + (hits.trailing_zeros() / 8) as usize;
                if !f.record(at) {
                    return f;
                }
                hits &= hits - 1;
            }
            base += 8;
        }
        for (k, &b) in chunks.remainder().iter().enumerate() {
            if b == sep && !f.record(base + k) {
                return f;
            }
        }
        f
    }

    /// Records a separator at `at`; false when the table is full or `at` does not fit (the
    /// rest is scanned on demand).
    fn record(&mut self, at: usize) -> bool {
        match (self.starts.get_mut(self.count + 1), u16::try_from(at + 1)) {
            (Some(slot), Ok(start)) => {
                *slot = start;
                self.count += 1;
                true
            }
            _ => {
                self.more = true;
                false
            }
        }
    }

    /// The segment id: the bytes before the first separator.
    pub fn id(&self) -> &'a [u8] {
        self.element(0).unwrap_or(self.seg.raw)
    }

    /// Element `n` (0 is the id), like [`Segment::element`].
    pub fn element(&self, n: usize) -> Option<&'a [u8]> {
        let raw = self.seg.raw;
        if n < self.count {
            // Both ends recorded: the common case, one comparison.
            let start = usize::from(*self.starts.get(n)?);
            // The next element starts after its separator, never at 0: `saturating_sub` only
            // keeps a broken table from panicking.
            let end = usize::from(*self.starts.get(n + 1)?).saturating_sub(1);
            raw.get(start..end)
        } else if self.more {
            self.seg.element(n)
        } else if n == self.count {
            raw.get(usize::from(*self.starts.get(n)?)..)
        } else {
            None
        }
    }

    /// Element `n` trimmed, borrowed when it can be; `None` when absent or blank.
    pub fn str_at(&self, n: usize) -> Option<Cow<'a, str>> {
        match self.known_str(n) {
            Some(s) => nonblank(s).map(Cow::Borrowed),
            None => self.seg.text_of(self.element(n)?),
        }
    }

    /// Element `n` trimmed and owned, `None` when absent or blank.
    pub fn trimmed(&self, n: usize) -> Option<gateway_model::Text> {
        match self.known_str(n) {
            Some(s) => nonblank(s).map(gateway_model::Text::from),
            None => self.seg.text_value(self.element(n)?),
        }
    }

    /// Element `n` untrimmed, as text the tokenizer validated, when its ends are recorded (the
    /// common case), sliced from the segment's text by offset. `None` sends the caller to the
    /// segment's general path ([`Segment::text_of`]), which gives the same text (trimming
    /// only ASCII blanks moves no end off a character boundary) and also handles the rest:
    /// unvalidated input, separators that split a character, elements past the table.
    fn known_str(&self, n: usize) -> Option<&'a str> {
        let text = self.seg.text?;
        let start = usize::from(*self.starts.get(n)?);
        if n < self.count {
            // The next element starts after its separator, never at 0: `saturating_sub` only
            // keeps a broken table from panicking.
            let end = usize::from(*self.starts.get(n + 1)?).saturating_sub(1);
            text.get(start..end)
        } else if n == self.count && !self.more {
            // The last element runs to the end of the segment.
            text.get(start..)
        } else {
            None
        }
    }

    /// Element `n` as text, `None` when absent or empty (not trimmed).
    pub fn text(&self, n: usize) -> Option<String> {
        match self.element(n) {
            Some(b) if !b.is_empty() => {
                Some(gateway_model::charset::utf8_or_windows_1252(b).into_owned())
            }
            _ => None,
        }
    }

    /// Where the elements start (`starts[n]` for element `n`, 0 for the id) and where the
    /// segment ends: element `n` ends one before `starts[n + 1]`, the last at the end.
    /// `None` when the segment has more separators than were recorded (read those elements
    /// one by one).
    pub fn starts(&self) -> Option<(&[u16], usize)> {
        if self.more {
            return None;
        }
        Some((self.starts.get(..=self.count)?, self.seg.raw.len()))
    }

    /// Number of data elements (not counting the id).
    pub fn element_count(&self) -> usize {
        if self.more {
            self.seg.element_count()
        } else {
            self.count
        }
    }
}

/// `s` without leading and trailing ASCII blanks, `None` when nothing is left (what
/// [`Segment::text_of`] does to bytes).
fn nonblank(s: &str) -> Option<&str> {
    Some(s.trim_ascii()).filter(|t| !t.is_empty())
}

impl<'a> Deref for Fields<'_, 'a> {
    type Target = Segment<'a>;

    fn deref(&self) -> &Segment<'a> {
        self.seg
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokenizer::Delimiters;

    fn seg(raw: &[u8], sep: u8) -> Segment<'_> {
        Segment {
            raw,
            delimiters: Delimiters {
                element: sep,
                ..Delimiters::default()
            },
            line: 1,
            ordinal: 1,
            offset: 0,
            end: raw.len(),
            text: std::str::from_utf8(raw).ok(),
            charset: gateway_model::charset::Charset::Utf8,
        }
    }

    /// Every element read through `Fields` equals the plain split, for every position and
    /// one past the end.
    fn agrees(raw: &[u8], sep: u8) {
        let s = seg(raw, sep);
        let f = Fields::new(&s);
        let split: Vec<&[u8]> = raw.split(|&b| b == sep).collect();
        for n in 0..split.len() + 2 {
            assert_eq!(
                f.element(n),
                split.get(n).copied(),
                "element {n} of {:?}",
                String::from_utf8_lossy(raw)
            );
        }
        assert_eq!(f.element_count(), split.len() - 1);
        assert_eq!(f.id(), split[0]);
    }

    #[test]
    fn reads_the_same_elements_as_a_plain_split() {
        for raw in [
            &b""[..],
            b"N1",
            b"N1*",
            b"**",
            b"IT1*1*10*EA*12.50**VP*PART-1-1*BP*B1*PL*1",
            b"PID*F****Item 1 of invoice 0, industrial grade",
            b"ITD*01*3*2**10**30*****2% 10 Net 30",
            b"N3*Stra\xc3\x9fe 1*\xe6\x9d\xb1\xe4\xba\xac",
            b"a*bcdefgh*ijklmnop*q",
            b"********",
            b"*******",
            b"*********",
        ] {
            agrees(raw, b'*');
        }
    }

    #[test]
    fn any_byte_can_be_the_separator() {
        // Bytes with the high bit set, zero and 0x7f are where a sloppy SWAR test goes wrong.
        for sep in [0x00u8, 0x01, 0x1d, 0x7f, 0x80, 0xfe, 0xff, b'|'] {
            let mut raw = Vec::new();
            for k in 0..50u8 {
                raw.push(k.wrapping_mul(37) | 0x40);
                if k % 3 == 0 {
                    raw.push(sep);
                }
                // Neighbours of the separator value must not count.
                raw.push(sep.wrapping_add(1));
                raw.push(sep.wrapping_sub(1));
            }
            agrees(&raw, sep);
        }
    }

    #[test]
    fn more_elements_than_the_table_are_still_found() {
        let raw: Vec<u8> = (0..100)
            .flat_map(|k| format!("E{k}*").into_bytes())
            .collect();
        agrees(&raw, b'*');
        let s = seg(&raw, b'*');
        let f = Fields::new(&s);
        assert_eq!(f.element(77), Some(&b"E77"[..]));
    }

    #[test]
    fn elements_past_64_kib_are_still_found() {
        let mut raw = b"PID*F****".to_vec();
        raw.extend(std::iter::repeat_n(b'x', 70_000));
        raw.extend_from_slice(b"*tail*end");
        agrees(&raw, b'*');
    }

    /// `str_at` and `trimmed` read the text the segment's general path reads, with and
    /// without the tokenizer's text: padding, multi-byte characters at element edges, bytes
    /// that are not UTF-8, a separator byte inside a character, elements past the table.
    #[test]
    fn text_reads_as_the_segment_reads_it() {
        let many: Vec<u8> = (0..40)
            .flat_map(|k| format!(" E{k} *").into_bytes())
            .collect();
        let cases: Vec<(&[u8], u8)> = vec![
            (b"N4* Springfield *  *62701*\t\r\n*", b'*'),
            (
                "N3*Stra\u{df}e 1*\u{6771}\u{4eac}* \u{e9} *\u{a0}x\u{a0}*\u{3000}".as_bytes(),
                b'*',
            ),
            (b"N3*\xff\xfe* ok *\xc3* \xc3\xa9 *\xa9", b'*'),
            // 0xa9 is the second byte of U+00A9 and U+00E9: elements split those characters.
            ("N1\u{a9}x\u{a9}\u{a9}y\u{e9} z\u{e9}".as_bytes(), 0xa9),
            ("N1\u{c3}\u{a9}".as_bytes(), 0xc3),
            (&many, b'*'),
        ];
        for (raw, sep) in cases {
            let validated = seg(raw, sep);
            for text in [validated.text, None] {
                let s = Segment { text, ..validated };
                let f = Fields::new(&s);
                for n in 0..45 {
                    let part = s.element(n);
                    assert_eq!(f.str_at(n), part.and_then(|p| s.text_of(p)), "{raw:?} {n}");
                    assert_eq!(
                        f.trimmed(n),
                        part.and_then(|p| s.text_value(p)),
                        "{raw:?} {n}"
                    );
                }
            }
        }
    }

    #[test]
    fn text_is_trimmed_and_blank_is_none() {
        let s = seg(b"N4* Springfield *  *62701", b'*');
        let f = Fields::new(&s);
        assert_eq!(f.str_at(1).as_deref(), Some("Springfield"));
        assert_eq!(f.str_at(2), None);
        assert_eq!(f.trimmed(3).as_deref(), Some("62701"));
        assert_eq!(f.str_at(4), None);
    }
}
