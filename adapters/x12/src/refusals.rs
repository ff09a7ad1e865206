//! What the gateway refuses in a set it could map, as the set's 997/999 issues.
//!
//! The pipeline refuses a document whose canonical validation fails (a line without a
//! quantity or a price, an invoice without a supplier): it is never delivered. The
//! acknowledgment must say so, or the supplier reads "accepted" for an invoice nobody will
//! pay and never sends it again. The errors come from the same validation the pipeline runs
//! ([`gateway_model::Document::validate`]), placed at the X12 element the value comes from
//! where there is one (a line's IT102/PO102 and IT104/PO104, BIG/BEG's number and date, the
//! heading's CUR02), at the line's segment for the rest of a line, at the segment that is
//! missing for a set without its supplier's N1 or without lines (AK304 code 3, where it was
//! expected), and on the set otherwise.
//!
//! A set lists at most [`MAX_LISTED`] problems with its lines one by one, and as many of the
//! rest; each kind's others are counted in one issue that names the next, so an invoice of
//! 40,000 lines without descriptions is rejected with 20 AK3 loops, not 40,000. Segments are
//! looked up in an [`Index`] of the set built in one pass.

use gateway_model::{Document, ValidationContext};

use crate::envelope::{SetIssue, Severity};
use crate::tokenizer::Segment;

/// The validation errors of `document`, mapped from `segments` (ST..SE), as issues that
/// reject the set; `cx` is what the sender's partner profile tells the validation, as in the
/// pipeline. Empty when the pipeline would accept it.
pub(crate) fn refusals(
    document: &Document,
    segments: &[Segment<'_>],
    cx: ValidationContext,
) -> Vec<SetIssue> {
    let report = document.validate_in(cx);
    // A cancellation the pipeline refuses for every partner, as it refuses it.
    let cancellation = cx
        .to_coupa
        .then(|| gateway_core::invoice_cancellation(document))
        .flatten()
        .map(|mark| {
            (
                mark.path.to_string(),
                gateway_core::cancellation_refused(&mark, document.number()),
            )
        });
    // Borrowed from the report: a set of many refused lines has as many problems, and only
    // the few listed become issues.
    let mut problems = report
        .errors()
        .map(|p| (p.path.as_str(), p.message.as_str()))
        .chain(cancellation.iter().map(|(p, m)| (p.as_str(), m.as_str())))
        .peekable();
    if problems.peek().is_none() {
        return Vec::new();
    }
    let shape = match document {
        Document::Invoice(_) => Shape {
            begin: b"BIG",
            number: 2,
            date: 1,
            line: b"IT1",
            line_id: "IT1",
        },
        Document::PurchaseOrder(_) => Shape {
            begin: b"BEG",
            number: 3,
            date: 5,
            line: b"PO1",
            line_id: "PO1",
        },
    };
    let set_line = segments.first().map_or(1, |s| s.line);
    // Where the set's segments are, found in one pass: placing a problem looks its segment
    // up there instead of scanning the set again, which made a set of many refused lines
    // quadratic in its lines.
    let index = Index::new(&shape, segments);
    let mut issues = Vec::new();
    let mut lines = Unlisted::default();
    let mut others = Unlisted::default();
    for (path, text) in problems {
        let unlisted = if path.starts_with("$.lines[") {
            &mut lines
        } else {
            &mut others
        };
        if unlisted.listed == MAX_LISTED {
            unlisted.count += 1;
            unlisted
                .next
                .get_or_insert_with(|| format!("{path}: {text}"));
            continue;
        }
        unlisted.listed += 1;
        issues.push(issue(&shape, &index, segments, set_line, path, text));
    }
    for (unlisted, what) in [(lines, "line problems"), (others, "problems")] {
        if let Some(next) = unlisted.next {
            issues.push(SetIssue::set(
                Severity::Error,
                "5",
                set_line,
                format!(
                    "{} more {what} are not listed one by one (the next: {next}); the set is rejected until every one is fixed",
                    unlisted.count
                ),
            ));
        }
    }
    issues
}

/// Most problems with lines, and most of the rest, that a set's refusal lists one by one
/// (AK3/AK4 or IK3/IK4 loops, and issues for the operator), as for the elements the mapping
/// finds at fault: the rest are counted in one issue each, so a set of thousands of refused
/// lines cannot make thousands of loops.
const MAX_LISTED: usize = crate::set_loop::MAX_LENGTH_ISSUES;

/// The problems of one kind not listed one by one: how many, and the first of them.
#[derive(Default)]
struct Unlisted {
    listed: usize,
    count: usize,
    next: Option<String>,
}

/// The issue that says validation problem `path` (`text`) at its place in `segments`.
fn issue(
    shape: &Shape,
    index: &Index,
    segments: &[Segment<'_>],
    set_line: u32,
    path: &str,
    text: &str,
) -> SetIssue {
    let message = format!("{path}: {text}");
    match shape.place(path, index, segments) {
        Some(Place::Element(k, seg, element, when_missing)) => {
            let missing = seg
                .element(element as usize)
                .is_none_or(|v| v.trim_ascii().is_empty());
            // A missing element, a value over the receiver's length, or a value that is not
            // a valid code.
            let code = if missing {
                when_missing
            } else if text.starts_with(gateway_model::TOO_LONG) {
                "5"
            } else {
                "7"
            };
            SetIssue::element(Severity::Error, seg, position(k), element, code, message)
        }
        Some(Place::Segment(k, seg)) => SetIssue::segment(
            Severity::Error,
            seg.id_str(),
            position(k),
            seg.line,
            "8",
            message,
        ),
        Some(Place::Missing(id, k)) => SetIssue::segment(
            Severity::Error,
            id,
            position(k),
            segments.get(k).map_or(set_line, |s| s.line),
            "3",
            message,
        ),
        None => SetIssue::set(Severity::Error, "5", set_line, message),
    }
}

/// Where a set's beginning segment, line segments and heading end are (indexes into its
/// segments), found in one pass.
struct Index {
    /// The first beginning segment (BIG/BEG).
    begin: Option<usize>,
    /// Every line segment (IT1/PO1), in order: line `i` of the document is `lines[i]`.
    lines: Vec<usize>,
    /// Where a heading segment was expected: before the first line, else before the summary
    /// (the SE when the set holds nothing else).
    heading_end: usize,
}

impl Index {
    fn new(shape: &Shape, segments: &[Segment<'_>]) -> Self {
        let mut begin = None;
        let mut lines = Vec::new();
        let mut summary = None;
        for (k, s) in segments.iter().enumerate() {
            let id = s.id();
            if id == shape.line {
                lines.push(k);
            } else if begin.is_none() && id == shape.begin {
                begin = Some(k);
            } else if summary.is_none() && matches!(id, b"TDS" | b"CTT" | b"AMT" | b"SE") {
                summary = Some(k);
            }
        }
        let heading_end = lines
            .first()
            .copied()
            .or(summary)
            .unwrap_or(segments.len().saturating_sub(1));
        Index {
            begin,
            lines,
            heading_end,
        }
    }
}

/// The N101 entity codes both set kinds read the supplier party from (`map810`/`map850`).
const SUPPLIER_CODES: &[&str] = &["SU", "SE", "VN"];

/// Position in the set of `segments[k]` (ST is 1).
fn position(k: usize) -> u32 {
    u32::try_from(k + 1).unwrap_or(u32::MAX)
}

/// Where a validation path's value came from.
enum Place<'s, 'a> {
    /// `segments[k]`, element `n`, and the AK4 code when it is missing: 1 for an element
    /// the standard makes mandatory, 2 for one it makes conditional (the IT1/PO1 quantity
    /// and price come in pairs).
    Element(usize, &'s Segment<'a>, u32, &'static str),
    /// `segments[k]` as a whole.
    Segment(usize, &'s Segment<'a>),
    /// A required segment (`id`) that is missing, or present without what makes it count:
    /// AK304 code 3, at `segments[k]`, where it was expected.
    Missing(&'static str, usize),
}

/// The segments a set kind takes its number, date and lines from.
struct Shape {
    begin: &'static [u8],
    number: u32,
    date: u32,
    line: &'static [u8],
    /// The line segment's id as text, for a missing line loop.
    line_id: &'static str,
}

impl Shape {
    /// Where the value of validation `path` came from. Lines and the beginning segment are
    /// looked up in `index`; the rest (the supplier's N1, the heading's CUR, a kept element)
    /// are scanned for, for at most [`MAX_LISTED`] problems of a set.
    fn place<'s, 'a>(
        &self,
        path: &str,
        index: &Index,
        segments: &'s [Segment<'a>],
    ) -> Option<Place<'s, 'a>> {
        let at = |k: usize| segments.get(k).map(|seg| (k, seg));
        let first_line = index.lines.first().copied();
        let heading_end = index.heading_end;
        match path {
            "$.supplier" => {
                // The supplier's N1 loop, when there is one (the party needs a name or an id);
                // else the N1 missing, where the heading's N1 loops are (or end).
                let supplier = segments
                    .iter()
                    .enumerate()
                    .take(heading_end)
                    .find(|(_, s)| {
                        s.id() == b"N1"
                            && s.element(1)
                                .is_some_and(|v| SUPPLIER_CODES.iter().any(|c| c.as_bytes() == v))
                    });
                if let Some((k, seg)) = supplier {
                    // N1 needs N102 or N103/N104: the name is the one to give.
                    return Some(Place::Element(k, seg, 2, "2"));
                }
                let at = segments
                    .iter()
                    .take(heading_end)
                    .position(|s| s.id() == b"N1")
                    .unwrap_or(heading_end);
                return Some(Place::Missing("N1", at));
            }
            "$.lines" if first_line.is_none() => {
                return Some(Place::Missing(self.line_id, heading_end));
            }
            _ => {}
        }
        if let Some(rest) = path.strip_prefix("$.lines[") {
            let (line, field) = rest.split_once(']')?;
            let (k, seg) = at(*index.lines.get(line.parse::<usize>().ok()?)?)?;
            return Some(match field {
                ".quantity" => Place::Element(k, seg, 2, "2"),
                ".unit_price" => Place::Element(k, seg, 4, "2"),
                _ => Place::Segment(k, seg),
            });
        }
        // An element kept in `extensions` (`$.extensions.x12.elements.BIG08`): the first
        // segment of that id.
        if let Some(kept) = path.strip_prefix("$.extensions.x12.elements.") {
            let split = kept.len().checked_sub(2)?;
            let (id, n) = (kept.get(..split)?, kept.get(split..)?);
            let (k, seg) = segments
                .iter()
                .enumerate()
                .find(|(_, s)| s.id() == id.as_bytes())?;
            return Some(Place::Element(k, seg, n.parse().ok()?, "1"));
        }
        let element = match path {
            "$.invoice_number" | "$.po_number" => self.number,
            "$.invoice_date" | "$.order_date" => self.date,
            "$.currency" => {
                // The heading's CUR: the last one before the first line.
                let first_line = first_line.unwrap_or(segments.len());
                let (k, seg) = segments
                    .iter()
                    .enumerate()
                    .take(first_line)
                    .rfind(|(_, s)| s.id() == b"CUR")?;
                return Some(Place::Element(k, seg, 2, "1"));
            }
            _ => return None,
        };
        let (k, seg) = at(index.begin?)?;
        Some(Place::Element(k, seg, element, "1"))
    }
}
