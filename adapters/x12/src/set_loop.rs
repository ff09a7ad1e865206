//! The reading loop 810 and 850 share: ST..SE segment by segment into one document, with the
//! header (NTE, CUR, N1 loops, ITD, TXI, SAC), the line loop (IT1/PO1 and what follows it) and
//! the summary (CTT) read the same way for both. A [`SetKind`] adds what only its set holds:
//! the beginning segment (BIG/BEG), how a line item becomes a line, its own segments (TDS;
//! DTM and AMT) and how the document is finished.

use gateway_model::{Charge, Extensions, Party, PaymentTerms, Tax, Text};

use crate::common::{self, ExtBuilder, LineItem, MapCx, PARTY_SLOTS, SetShape, Survey};
use crate::envelope::{SetIssue, Severity};
use crate::fields::Fields;
use crate::lengths::{Limits, SegmentLimits};
use crate::line_loop::{LoopLine, OpenLine};
use crate::tokenizer::Segment;

/// Where the loop is in the set: segments mean different things in the line loop.
#[derive(Debug, PartialEq, Clone, Copy)]
pub(crate) enum Scope {
    Header,
    Line,
    Summary,
}

/// The fields of a document that the shared loop fills.
#[derive(Debug)]
pub(crate) struct Common<'d, L> {
    pub currency: &'d mut Option<Text>,
    pub payment_terms: &'d mut Option<PaymentTerms>,
    pub lines: &'d mut Vec<L>,
    pub taxes: &'d mut Vec<Tax>,
    pub charges: &'d mut Vec<Charge>,
    pub extensions: &'d mut Extensions,
}

/// [`Common`] over a document's fields: invoices and orders name them alike.
macro_rules! common_fields {
    ($doc:expr) => {
        $crate::set_loop::Common {
            currency: &mut $doc.currency,
            payment_terms: &mut $doc.payment_terms,
            lines: &mut $doc.lines,
            taxes: &mut $doc.taxes,
            charges: &mut $doc.charges,
            extensions: &mut $doc.extensions,
        }
    };
}
pub(crate) use common_fields;

/// What one transaction set kind adds to the shared loop.
pub(crate) trait SetKind {
    type Doc: Default;
    type Line: LoopLine;
    /// The beginning segment, line segment, total segment and party roles.
    const SHAPE: SetShape;
    /// The beginning segment's id and name, for the error when it is missing.
    const BEGIN: (&'static str, &'static str);
    /// The transaction set id (`810`, `850`), for the order of its segments.
    const SET: &'static str;
    /// Segments the set may hold once (maximum use 1): another is kept and noted.
    const ONCE: &'static [[u8; 3]];

    fn common(doc: &mut Self::Doc) -> Common<'_, Self::Line>;

    /// Reads the beginning segment (the first BIG or BEG).
    fn read_begin(
        cx: &mut MapCx,
        doc: &mut Self::Doc,
        ext: &mut ExtBuilder,
        seg: &Fields,
        i: usize,
    );

    /// Pushes the line a line item segment starts; `ext` is the new line's builder.
    fn push_line(lines: &mut Vec<Self::Line>, item: LineItem, ext: &mut ExtBuilder);

    /// A segment only this kind maps (its elements the document does not hold go to `ext`).
    /// Returns the scope after it when it took the segment, `None` to leave it to the shared
    /// loop.
    #[allow(clippy::too_many_arguments)]
    fn own_segment(
        cx: &mut MapCx,
        doc: &mut Self::Doc,
        ext: &mut ExtBuilder,
        open: &mut OpenLine,
        seg: &Fields,
        i: usize,
        scope: Scope,
        survey: &Survey,
    ) -> Option<Scope>;

    /// After the loop: the parties into their places (slots in [`SetShape::role`] order), the
    /// comments, and what the kind derives from the whole document.
    fn finish(doc: &mut Self::Doc, slots: [Option<Party>; PARTY_SLOTS], comments: Option<Text>);

    /// Last, with the document's extensions in place: what the kind reads from the segments
    /// kept as they came (an 810's supplier numbers, [`crate::party_ids::add_kept_numbers`]).
    fn read_kept(_doc: &mut Self::Doc) {}
}

/// The segments between ST and SE.
pub fn body<'s, 'a>(segments: &'s [Segment<'a>]) -> &'s [Segment<'a>] {
    let inner = segments.get(1..).unwrap_or_default();
    match inner.split_last() {
        Some((last, head)) if last.id() == b"SE" => head,
        _ => inner,
    }
}

/// Maps one set (ST..SE) of kind `K`. Returns the document unless a problem is an error;
/// warnings (accepted with errors) come back either way.
///
/// Elements longer or shorter than `limits` allow (the dictionary of the group's version), or
/// holding control characters, are accepted with errors: the partner learns from its 997
/// (AK4 code 5, 4 or 6) and the operator from the note.
pub(crate) fn read_set<K: SetKind>(
    segments: &[Segment<'_>],
    limits: &Limits,
) -> (Option<K::Doc>, Vec<SetIssue>) {
    let mut doc = K::Doc::default();
    let issues = read_set_into::<K>(segments, limits, &mut doc, None);
    let mapped = !issues.iter().any(|i| i.severity == Severity::Error);
    (mapped.then_some(doc), issues)
}

/// [`read_set`] into `doc`, a default document already where it is kept: a document is over
/// a kilobyte, and returning it would copy it on each step of its way into its
/// `DecodedDocument`. Returns the problems; when one is an error, `doc` is partly filled and
/// is to be dropped.
///
/// `lines_at`, when given, gets the position in the set (ST is 1) of each line's IT1/PO1, one
/// per line of `doc` ([`gateway_core::codec::SourcePlaces::lines`]).
pub(crate) fn read_set_into<K: SetKind>(
    segments: &[Segment<'_>],
    limits: &Limits,
    doc: &mut K::Doc,
    mut lines_at: Option<&mut Vec<u32>>,
) -> Vec<SetIssue> {
    let body = body(segments);
    let mut cx = MapCx::default();
    let mut tally = Tally::default();
    let mut ext = ExtBuilder::default();
    let survey = common::survey(body, &K::SHAPE);
    let Some(begin_i) = survey.begin else {
        let line = segments.first().map(|s| s.line).unwrap_or(1);
        let (id, name) = K::BEGIN;
        cx.issues.push(SetIssue::segment(
            Severity::Error,
            id,
            2,
            line,
            "3",
            format!("mandatory segment {id} ({name}) is missing"),
        ));
        return cx.issues;
    };
    let mut slots: [Option<Party>; PARTY_SLOTS] = Default::default();
    let mut comments: Vec<String> = Vec::new();
    K::common(doc).lines.reserve_exact(survey.lines);
    if let Some(at) = lines_at.as_mut() {
        at.reserve_exact(survey.lines);
    }
    let mut open = OpenLine::for_set(K::SET);
    let mut scope = Scope::Header;
    let mut seen_ctt = false;
    let mut i = 0;
    while let Some(seg) = body.get(i) {
        let seg = &Fields::new(seg);
        let id = seg.id();
        check_segment(&mut cx, limits, seg, i, &mut tally);
        ext.in_summary = scope == Scope::Summary;
        if i == begin_i {
            K::read_begin(&mut cx, doc, &mut ext, seg, i);
            i += 1;
            continue;
        }
        if let Some(next) =
            K::own_segment(&mut cx, doc, &mut ext, &mut open, seg, i, scope, &survey)
        {
            scope = next;
            i += 1;
            continue;
        }
        let c = K::common(doc);
        match (scope, id) {
            (Scope::Header | Scope::Summary, b"NTE") if seg.text(2).is_some() => {
                comments.extend(seg.text(2));
            }
            (_, b"CUR") if Some(i) == survey.last_cur => {
                *c.currency = common::read_currency(seg, &K::SHAPE, &mut ext);
            }
            (Scope::Header | Scope::Summary, b"N1") => {
                // The loop's N2/N3/N4/REF/PER are read with it, and checked as they are split.
                let mut check = |child: &Fields<'_, '_>, k: usize| {
                    check_segment(&mut cx, limits, child, k, &mut tally);
                };
                i = common::read_party_into(
                    seg,
                    body,
                    i,
                    &survey,
                    &K::SHAPE,
                    &mut slots,
                    &mut ext,
                    crate::order::positions(K::SET, crate::order::Area::Heading),
                    &mut check,
                );
                continue;
            }
            // The heading's ITDs: the first that gives terms is the document's, each later
            // one a further tier (as cXML reads its tiers); an ITD with nothing the model holds
            // (only ITD01/ITD02 codes) is kept, not dropped. See `crate::tiers`.
            (_, b"ITD") if survey.first_line.is_none_or(|first| i < first) => {
                crate::tiers::read_itd(&mut cx, seg, i, &mut ext, c.payment_terms);
            }
            (_, line) if line == K::SHAPE.line => {
                scope = Scope::Line;
                if let Some(at) = lines_at.as_mut() {
                    at.push(MapCx::pos(i));
                }
                let ordinal = c.lines.len();
                let line_ext = open.start(c.lines);
                let item = common::read_line_item(&mut cx, seg, i, ordinal, line_ext);
                K::push_line(c.lines, item, line_ext);
            }
            (Scope::Header | Scope::Summary, b"TXI") => {
                match common::read_tax(&mut cx, seg, i, &mut ext, c.taxes.len()) {
                    Some(tax) => c.taxes.push(tax),
                    None => ext.keep(seg),
                }
            }
            (Scope::Header | Scope::Summary, b"SAC") => {
                match common::read_charge(&mut cx, seg, i, &mut ext, c.charges.len()) {
                    Some(charge) => c.charges.push(charge),
                    None => ext.keep(seg),
                }
            }
            // The first CTT is the one the writer writes (CTT01 the line count, the rest
            // kept); another is kept whole.
            (_, b"CTT") if !seen_ctt => {
                seen_ctt = true;
                check_ctt(&mut cx, seg, i, c.lines.len());
                ext.keep_elements(seg, &[1]);
                scope = Scope::Summary;
            }
            (_, b"CTT") => {
                note_kept::<K>(&mut cx, seg, i, &mut tally);
                ext.keep(seg);
                scope = Scope::Summary;
            }
            // A line's first N1*ST loop is its own ship-to (`x12.ship_to`), its first N1*SF
            // its ship-from (`x12.ship_from`); its other N1 loops are kept with it.
            (Scope::Line, b"N1") if open.takes_party(seg) => {
                let mut check = |child: &Fields<'_, '_>, k: usize| {
                    check_segment(&mut cx, limits, child, k, &mut tally);
                };
                i = open.read_line_party(seg, body, i, &mut check);
                continue;
            }
            (Scope::Line, _) => {
                if open.segment(&mut cx, seg, i, c.lines) {
                    note_kept::<K>(&mut cx, seg, i, &mut tally);
                }
            }
            _ => {
                note_kept::<K>(&mut cx, seg, i, &mut tally);
                ext.keep(seg);
            }
        }
        i += 1;
    }
    let line = segments.first().map(|s| s.line).unwrap_or(1);
    if tally.unheld > MAX_LENGTH_ISSUES {
        cx.issues.push(SetIssue::set(
            Severity::Warning,
            "5",
            line,
            format!(
                "{} more segments are no part of an X12 {} or appear more often than it allows; kept as sent",
                tally.unheld - MAX_LENGTH_ISSUES,
                K::SET
            ),
        ));
    }
    for (count, what) in [
        (tally.long, "are longer than X12 {} allows"),
        (tally.short, "are shorter than X12 {} requires"),
        (
            tally.control,
            "hold control characters, which X12 {} data cannot hold",
        ),
    ] {
        if count > MAX_LENGTH_ISSUES {
            cx.issues.push(SetIssue::set(
                Severity::Warning,
                "5",
                line,
                format!(
                    "{} more elements {}; accepted as sent",
                    count - MAX_LENGTH_ISSUES,
                    what.replace("{}", limits.version())
                ),
            ));
        }
    }
    open.close(K::common(doc).lines);
    if let Some(at) = lines_at {
        at.truncate(K::common(doc).lines.len());
    }
    let comments = (!comments.is_empty()).then(|| comments.join("\n").into());
    K::finish(doc, slots, comments);
    ext.sort_segments(
        crate::order::positions(K::SET, crate::order::Area::Heading),
        crate::order::positions(K::SET, crate::order::Area::Summary),
    );
    ext.move_into(K::common(doc).extensions);
    K::read_kept(doc);
    cx.issues
}

/// Elements of each fault (over-long, too short, control characters) reported one by one in
/// a set; the rest are counted in one issue per fault, so a set of thousands of lines cannot
/// make thousands of notes.
pub(crate) const MAX_LENGTH_ISSUES: usize = 20;

/// The elements of a set found at fault so far, by fault.
#[derive(Debug, Default)]
struct Tally {
    long: usize,
    short: usize,
    control: usize,
    /// Segments no part of the set, or once too often ([`note_kept`]).
    unheld: usize,
}

/// A segment the mapping keeps whole: when the set may not hold it there (an id that is no
/// part of the transaction set, AK304/IK304 6; a second BIG, AK304 5), it is still kept, and
/// the set is accepted with errors so the partner's 997/999 names it. Runs only for segments
/// kept whole, so a set without them pays nothing.
fn note_kept<K: SetKind>(cx: &mut MapCx, seg: &Fields<'_, '_>, i: usize, tally: &mut Tally) {
    let id = seg.id();
    let name = seg.id_str();
    let (code, message) = if K::ONCE.iter().any(|once| once.as_slice() == id) {
        (
            "5",
            format!(
                "{name} may appear once in an X12 {}; this one is kept as sent",
                K::SET
            ),
        )
    } else if !crate::set_segments::SetSegments::of(K::SET).holds(id) {
        (
            "6",
            format!(
                "segment {name} is no part of an X12 {}; kept as sent",
                K::SET
            ),
        )
    } else {
        return;
    };
    tally.unheld += 1;
    if tally.unheld <= MAX_LENGTH_ISSUES {
        cx.issues.push(SetIssue::segment(
            Severity::Warning,
            name,
            MapCx::pos(i),
            seg.line,
            code,
            message,
        ));
    }
}

/// Checks body segment `i`: its lengths when the table limits its id (the quick byte check
/// first; nearly every segment stops there), and its bytes for control characters (one pass
/// over eight bytes at a time; nearly every segment stops there too). Inlined: it runs for
/// every segment of a set.
#[inline(always)]
fn check_segment(
    cx: &mut MapCx,
    limits: &Limits,
    seg: &Fields<'_, '_>,
    i: usize,
    tally: &mut Tally,
) {
    if let Some(max) = limits.for_id(seg.id())
        && max.may_be_off_length(seg)
    {
        check_lengths(cx, limits.version(), max, seg, i, tally);
    }
    if let Some(first) = first_control_byte(seg.raw, &seg.delimiters) {
        check_controls(cx, limits.version(), seg, i, first, &mut tally.control);
    }
}

/// Reports the elements of `seg` longer than `max` allows (AK4 code 5) or shorter than it
/// requires (AK4 code 4), accepted as sent: the value reaches the document as it came, and
/// the sender learns what its guide should say.
fn check_lengths(
    cx: &mut MapCx,
    version: &str,
    max: &SegmentLimits,
    seg: &Fields<'_, '_>,
    i: usize,
    tally: &mut Tally,
) {
    max.too_short(seg, &mut |e| {
        tally.short += 1;
        if tally.short > MAX_LENGTH_ISSUES {
            return;
        }
        let unit = if e.numeric { "digits" } else { "characters" };
        cx.element(
            Severity::Warning,
            seg,
            i,
            e.position as u32,
            "4",
            format!(
                "{}{:02} is {} {unit}, shorter than the {} X12 {version} requires; accepted as sent",
                seg.id_str(),
                e.position,
                e.length,
                e.min,
            ),
        );
    });
    let count = &mut tally.long;
    max.over_long(seg, &mut |e| {
        *count += 1;
        if *count > MAX_LENGTH_ISSUES {
            return;
        }
        let unit = if e.numeric { "digits" } else { "characters" };
        cx.element(
            Severity::Warning,
            seg,
            i,
            e.position as u32,
            "5",
            format!(
                "{}{:02} is {} {unit}, longer than the {} X12 {version} allows; accepted as sent",
                seg.id_str(),
                e.position,
                e.length,
                e.max,
            ),
        );
    });
}

/// CTT01 must count the line items; a mismatch is accepted with errors.
///
/// A count that is a number but the wrong one is no syntax error: no AK403 code says "valid
/// but wrong" (6, invalid character, was false), so the CTT segment is named in an AK3 with
/// no AK304 (optional in a 997) and no AK4. A 999's IK304 is mandatory, and its one
/// candidate, 8 (segment has data element errors), would promise an IK4 that names no
/// element: the acknowledgment leaves the IK3 out there ([`SEGMENT_NOTE`]) and says the set
/// was accepted with errors (IK5 `E`); the operator reads the note.
fn check_ctt(cx: &mut MapCx, seg: &Fields<'_, '_>, i: usize, lines: usize) {
    if let Some(n) = cx.opt_whole(seg, i, 1, Severity::Warning)
        && n as usize != lines
    {
        cx.issues.push(SetIssue::segment(
            Severity::Warning,
            "CTT",
            MapCx::pos(i),
            seg.line,
            SEGMENT_NOTE,
            format!("CTT01 says {n} line items; the set holds {lines}"),
        ));
    }
}

/// The AK304 of a segment named without a syntax error code: none fits (see [`check_ctt`]).
/// A 997 writes the AK3 with AK304 empty; a 999, whose IK304 is mandatory, writes no IK3.
pub(crate) const SEGMENT_NOTE: &str = "";

/// Where the first byte of `raw` is that X12 data cannot hold: a C0 control character
/// (below 0x20) or DEL (0x7F), other than the interchange's delimiters (which may be control
/// characters: `0x1D` elements, `0x1F` components). One pass over eight bytes at a time,
/// each byte compared exactly (no borrow between bytes), so the first hit is the first byte.
#[inline]
fn first_control_byte(raw: &[u8], d: &crate::tokenizer::Delimiters) -> Option<usize> {
    if may_hold_control(raw) {
        first_control_byte_exactly(raw, d)
    } else {
        None
    }
}

/// Whether `raw` holds any byte below 0x20 or 0x7F, delimiters included: the check every
/// received segment gets, a dozen operations per eight bytes with no branch between them, so
/// the exact search (which leaves the delimiters out) runs only for a segment that has one
/// (or for every segment of a partner whose delimiters are control characters).
#[inline]
fn may_hold_control(raw: &[u8]) -> bool {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let flags = |x: u64| {
        // Below 0x20: high bit clear, and the low seven bits plus 0x60 stay below 0x80.
        let below = !(((x & LOW7).wrapping_add(ONES * 0x60)) | x) & HIGH;
        // 0x7F: the byte XOR 0x7F is zero.
        let d = x ^ LOW7;
        let del = !(((d & LOW7).wrapping_add(LOW7)) | d | LOW7);
        below | del
    };
    let mut seen = 0u64;
    let mut chunks = raw.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        seen |= flags(u64::from_le_bytes(word));
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        // The tail padded with a printable byte.
        let mut word = [b'A'; 8];
        if let Some(head) = word.get_mut(..rest.len()) {
            head.copy_from_slice(rest);
        }
        seen |= flags(u64::from_le_bytes(word));
    }
    seen != 0
}

/// [`first_control_byte`] without the quick check: the first byte below 0x20 or 0x7F that
/// is not a delimiter, each byte compared exactly.
fn first_control_byte_exactly(raw: &[u8], d: &crate::tokenizer::Delimiters) -> Option<usize> {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // The high bit of each byte of the result set when that byte of `x` is zero.
    let zero = |x: u64| !(((x & LOW7).wrapping_add(LOW7)) | x | LOW7);
    let (element, component) = (ONES * u64::from(d.element), ONES * u64::from(d.component));
    let repetition = d.repetition.map(|r| ONES * u64::from(r));
    let del = ONES * 0x7f;
    let hits = |x: u64| {
        // Below 0x20: high bit clear, and the low seven bits plus 0x60 stay below 0x80.
        let below = !(((x & LOW7).wrapping_add(ONES * 0x60)) | x) & HIGH;
        let delimiter =
            zero(x ^ element) | zero(x ^ component) | repetition.map_or(0, |r| zero(x ^ r));
        (below | zero(x ^ del)) & !delimiter
    };
    let mut chunks = raw.chunks_exact(8);
    let mut base = 0usize;
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let h = hits(u64::from_le_bytes(word));
        if h != 0 {
            return Some(base + (h.trailing_zeros() / 8) as usize);
        }
        base += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|&b| {
            (b < 0x20 || b == 0x7f) && b != d.element && b != d.component && Some(b) != d.repetition
        })
        .map(|k| base + k)
}

/// Reports each element of `seg` that holds a control character (AK4 code 6, invalid
/// character), the first found at byte `first`; accepted as sent. Runs only for a segment
/// that holds one.
fn check_controls(
    cx: &mut MapCx,
    version: &str,
    seg: &Fields<'_, '_>,
    i: usize,
    first: usize,
    count: &mut usize,
) {
    let d = seg.delimiters;
    let mut last_reported = None;
    let mut position = seg
        .raw
        .get(..first)
        .map_or(0, |head| head.iter().filter(|&&b| b == d.element).count());
    for (k, &b) in seg.raw.iter().enumerate().skip(first) {
        if b == d.element {
            position += 1;
            continue;
        }
        let control = (b < 0x20 || b == 0x7f) && b != d.component && Some(b) != d.repetition;
        // The id's own bytes make it no segment id, which the walker reports.
        if !control || position == 0 || last_reported == Some(position) {
            continue;
        }
        last_reported = Some(position);
        *count += 1;
        if *count > MAX_LENGTH_ISSUES {
            return;
        }
        cx.element(
            Severity::Warning,
            seg,
            i,
            position as u32,
            "6",
            format!(
                "{}{position:02} holds control character 0x{b:02X} (byte {}), which X12 {version} data cannot hold; accepted as sent",
                seg.id_str(),
                k + 1,
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokenizer::Delimiters;

    fn naive(raw: &[u8], d: &Delimiters) -> Option<usize> {
        raw.iter().position(|&b| {
            (b < 0x20 || b == 0x7f) && b != d.element && b != d.component && Some(b) != d.repetition
        })
    }

    /// Every byte value at every offset of a word and in the tail, beside every delimiter
    /// choice, against a byte-by-byte scan.
    #[test]
    fn the_control_scan_finds_the_first_control_byte_exactly() {
        let delimiter_sets = [
            Delimiters::default(),
            Delimiters {
                element: 0x1d,
                component: 0x1f,
                segment: 0x1c,
                repetition: Some(0x1e),
                trim_trailing: false,
            },
            Delimiters {
                element: 0x7f,
                component: 0x00,
                repetition: None,
                ..Delimiters::default()
            },
        ];
        for d in &delimiter_sets {
            for len in [1usize, 7, 8, 9, 16, 21] {
                for at in 0..len {
                    for b in 0..=255u8 {
                        // Printable filler with the delimiters and high bytes around.
                        let mut raw: Vec<u8> = (0..len)
                            .map(|k| match k % 4 {
                                0 => b'A',
                                1 => d.element,
                                2 => 0xc3,
                                _ => d.component,
                            })
                            .collect();
                        raw[at] = b;
                        assert_eq!(first_control_byte(&raw, d), naive(&raw, d), "{raw:?} {d:?}");
                    }
                }
            }
        }
    }
}
