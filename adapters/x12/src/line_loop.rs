//! The IT1/PO1 loop that 810 and 850 share, both ways: the open line and the segments inside
//! its loop (PID, TXI, SAC, and what the model does not hold) when reading, and the loop
//! written back from a line ([`write_line`]).
//!
//! An invoice line billing another PO than the invoice's (`lines[].po_number`): the first PO
//! its loop names, an IT1 qualifier pair `PO` or else a line `REF*PO` (not one inside the
//! line's N1 loop), is the line's PO when it is not BIG04 ([`read_line_po`], once the set is
//! read, from what the line kept). The pair and the REFs stay kept, so they go back as they
//! came; only a lone `REF*PO*<po>` that the field alone writes back the same (the first REF of
//! the loop, nothing else with it) is not kept. Writing, the field wins: when it no longer
//! says what the kept references say, they are written naming the line's PO (the invoice's
//! when the field is absent) or left out when there is none, and a line with a PO of its own
//! and nothing kept gets `REF*PO*<po>` ([`po_plan`]).
//!
//! A line's own ship-to, ship-from and comments, which cXML carries (a line's `ShipTo`, an
//! invoice line's shipping `Contact`s, `Comments`) and the model holds only in the line's
//! extensions: the ship-to goes in an `N1*ST` loop inside the line loop (the 810's IT1 loop
//! and the 850's PO1 loop both have an N1 loop), the ship-from in an `N1*SF` loop, and each
//! is read back from the loop's first `N1*ST` or `N1*SF` into `x12.ship_to` or
//! `x12.ship_from` (a party, as `cxml.ship_to` is); an 850 line's comments go in MSG segments ([`write_line_comments`]), the PO1 loop's
//! free-form text, and come back into `x12.comments`. The 810's IT1 loop has no free-form
//! text segment: an invoice line's comments are not written, and [`crate::left_out()`] names
//! them.

use chrono::NaiveDate;
use gateway_core::EncodeError;
use gateway_model::{Charge, Extensions, InvoiceLine, OrderLine, Party, Tax, Text};
use rust_decimal::Decimal;
use serde_json::Value;

use crate::common::{
    ExtBuilder, Kept, MapCx, PartIds, PartyLoop, PoRewrite, is_n1_child, kept_element, pair_po,
    party_segments, read_charge, read_party, read_tax, seg_to_json, write_charge, write_kept_list,
    write_kept_segments, write_part_ids, write_party, write_tax, x12_ext,
};
use crate::fields::Fields;
use crate::tokenizer::Segment;
use crate::values;
use crate::writer::{El, Out, o, t};

/// An invoice or order line as the loop reads and writes it.
pub trait LoopLine {
    fn extensions_mut(&mut self) -> &mut Extensions;
    fn description_mut(&mut self) -> &mut Option<Text>;
    fn taxes_mut(&mut self) -> &mut Vec<Tax>;
    fn charges_mut(&mut self) -> &mut Vec<Charge>;
    /// The fields the line item segment and its loop are written from.
    fn parts(&self) -> LineParts<'_>;
}

/// What [`write_line`] writes of a line.
#[derive(Debug)]
pub struct LineParts<'a> {
    pub number: u32,
    pub quantity: Option<Decimal>,
    pub uom: Option<&'a str>,
    pub unit_price: Option<Decimal>,
    /// The line's amount: the price of a line bought by amount, not by quantity.
    pub amount: Option<Decimal>,
    pub description: Option<&'a str>,
    pub ids: PartIds<&'a str>,
    /// DTM*002 (orders only).
    pub need_by: Option<NaiveDate>,
    /// The line's own PO (invoices only: `None` for a line that has no such field, `Some(None)`
    /// for one billing the document's PO).
    pub po_number: Option<Option<&'a str>>,
    pub taxes: &'a [Tax],
    pub charges: &'a [Charge],
    pub extensions: &'a Extensions,
}

/// `$line`'s loop fields; `po_line`, `need_by` and `po` name what only one kind of line has.
macro_rules! loop_line {
    ($line:ty, |$l:ident| po_line: $po_line:expr, need_by: $need_by:expr, po: $po:expr) => {
        impl LoopLine for $line {
            fn extensions_mut(&mut self) -> &mut Extensions {
                &mut self.extensions
            }
            fn description_mut(&mut self) -> &mut Option<Text> {
                &mut self.description
            }
            fn taxes_mut(&mut self) -> &mut Vec<Tax> {
                &mut self.taxes
            }
            fn charges_mut(&mut self) -> &mut Vec<Charge> {
                &mut self.charges
            }
            fn parts(&self) -> LineParts<'_> {
                let $l = self;
                LineParts {
                    number: $l.line_number,
                    quantity: $l.quantity,
                    uom: $l.uom.as_deref(),
                    unit_price: $l.unit_price,
                    amount: $l.amount,
                    description: $l.description.as_deref(),
                    ids: PartIds {
                        supplier: $l.supplier_part_id.as_deref(),
                        buyer: $l.buyer_part_id.as_deref(),
                        po_line: $po_line,
                    },
                    need_by: $need_by,
                    po_number: $po,
                    taxes: &$l.taxes,
                    charges: &$l.charges,
                    extensions: &$l.extensions,
                }
            }
        }
    };
}

loop_line!(InvoiceLine, |l| po_line: l.po_line_number.as_deref(), need_by: None,
    po: Some(l.po_number.as_deref()));
loop_line!(OrderLine, |l| po_line: None, need_by: l.need_by, po: None);

/// The line item segment of a set kind and the keys its kept elements go under.
#[derive(Debug, Clone, Copy)]
pub struct LineSegment {
    /// `IT1` or `PO1`.
    pub id: &'static str,
    /// The transaction set (`810`, `850`), for the order of the loop's segments.
    pub set: &'static str,
    /// `IT101`: an assigned id that was not a number, kept as written.
    pub number_key: &'static str,
    /// `IT105`: the basis of unit price, kept as written.
    pub basis_key: &'static str,
    /// `IT103`: the unit as read, kept when the writer would have translated it.
    pub unit_key: &'static str,
}

/// Writes line `n`'s loop: the line item segment, PID, DTM (need-by), TXI, SAC, the line's
/// PO (`REF*PO`, see the module docs; `document_po` is the document's PO, which a line
/// without one bills) and the segments the line kept, in the order of the set's line loop.
pub fn write_line<L: LoopLine>(
    out: &mut Out,
    segment: LineSegment,
    n: usize,
    line: &L,
    document_po: Option<&str>,
) -> Result<(), EncodeError> {
    out.begin_area(segment.set, crate::order::Area::Line);
    write_line_segments(out, segment, n, line, document_po)?;
    out.end_area();
    Ok(())
}

fn write_line_segments<L: LoopLine>(
    out: &mut Out,
    segment: LineSegment,
    n: usize,
    line: &L,
    document_po: Option<&str>,
) -> Result<(), EncodeError> {
    let mut p = line.parts();
    let path = format!("$.lines[{n}]");
    by_amount_as_one_lot(&mut p);
    check_paired(&path, segment.id, &p)?;
    let le = p.extensions;
    let po = po_plan(p.po_number, document_po, le);
    let mut els = vec![
        match kept_element(le, segment.number_key) {
            Some(k) => t(k),
            None => t(p.number.to_string()),
        },
        o(p.quantity.map(values::to_decimal)),
        // A unit read from X12 that the table would change (`Ea`, `CS`) goes back as it came,
        // unless it is longer than the element allows: X12's unit code (355) is two
        // characters, so a `KGM` read (accepted with errors) goes back as the table's `KG`.
        match (kept_element(le, segment.unit_key), p.uom) {
            (Some(k), Some(u)) if k == u && fits(out.max_len(segment.id, 3), k) => t(k),
            (_, u) => o(u.map(x12_unit)),
        },
        o(p.unit_price.map(values::to_decimal)),
        o(kept_element(le, segment.basis_key)),
    ];
    els.extend(write_part_ids(p.ids, le, po.kept));
    out.segment(&path, segment.id, &els)?;
    if let Some(d) = p.description {
        write_description(out, &format!("{path}.description"), d, le)?;
    }
    if let Some(d) = p.need_by {
        out.segment(
            &format!("{path}.need_by"),
            "DTM",
            &[t("002"), t(values::to_date(d))],
        )?;
    }
    for (k, tax) in p.taxes.iter().enumerate() {
        write_tax(
            out,
            tax,
            &format!("{path}.taxes[{k}]"),
            Kept::item(le, "taxes", k),
        )?;
    }
    for (k, c) in p.charges.iter().enumerate() {
        let kept = Kept::item(le, "charges", k);
        write_charge(out, c, &format!("{path}.charges[{k}]"), kept)?;
    }
    // Before the kept segments: the first N1*ST, N1*SF and MSGs of a loop are these.
    write_line_parties(out, &path, le)?;
    if segment.set == "850" {
        write_line_comments(out, &path, le)?;
    }
    if let Some(v) = po.new_ref {
        out.segment(&format!("{path}.po_number"), "REF", &[t("PO"), t(v)])?;
    }
    match po.kept {
        PoRewrite::AsKept => write_kept_segments(out, le, &path),
        rewrite => write_kept_with_po(out, le, &path, rewrite),
    }
}

/// The parties of a line's own N1 loops, by their key in its extensions (`x12.<key>`,
/// `cxml.<key>`) and N101: its ship-to (`N1*ST`) and ship-from (`N1*SF`), which cXML carries in
/// an invoice line's shipping and the model holds only in the line's extensions.
const LINE_PARTIES: [(&str, &str); 2] = [("ship_to", "ST"), ("ship_from", "SF")];
/// The key of a line's comments in its extensions (`x12.comments`, `cxml.comments`).
const COMMENTS: &str = "comments";
/// MSG01 holds 264 characters (X12 004010 and 005010), unless the partner's profile says
/// otherwise (`x12.max_lengths.MSG01`).
const MSG01_MAX: usize = 264;
/// MSG02 (printer carriage control, X12 element 934) `LC`, line continuation: the MSG's text
/// continues the line before.
const LINE_CONTINUATION: &str = "LC";
/// MSG02 `DS`, advance two lines before print: an empty line comes before the MSG's text.
const AFTER_EMPTY_LINE: &str = "DS";

/// The extension of a line holding `key` (`x12`, what was read from X12, first; else `cxml`,
/// what a cXML line carried), with its value; `None` when neither holds it.
pub(crate) fn line_field<'e>(ext: &'e Extensions, key: &str) -> Option<(&'static str, &'e Value)> {
    ["x12", "cxml"].into_iter().find_map(|format| {
        let v = ext.get(format)?.get(key)?;
        (!v.is_null()).then_some((format, v))
    })
}

/// A line's own ship-to and ship-from ([`LINE_PARTIES`]), each as an N1 loop inside its loop
/// (the 810's IT1 loop and the 850's PO1 loop both have an N1 loop): `x12.<key>`, read from an
/// X12 line, with what its loop kept; else `cxml.<key>`, a cXML line's. One that is no party
/// is refused with its path, not dropped.
fn write_line_parties(out: &mut Out, path: &str, le: &Extensions) -> Result<(), EncodeError> {
    for (key, code) in LINE_PARTIES {
        let Some((format, value)) = line_field(le, key) else {
            continue;
        };
        let at = format!("{path}.extensions.{format}.{key}");
        let party: Party =
            serde_json::from_value(value.clone()).map_err(|e| EncodeError::Invalid {
                path: at.clone(),
                message: format!("a line's {key} is a party (name, ids, address): {e}"),
            })?;
        let (kept, elements) = if format == "x12" {
            (party_segments(le, key), Kept::field(le, key))
        } else {
            (&[][..], Kept::none())
        };
        out.begin_loop("N1");
        let written = write_party(out, code, &party, &at, kept, elements);
        out.end_loop();
        written?;
    }
    Ok(())
}

/// An 850 line's comments as MSG segments (Message Text, the PO1 loop's free-form text), one
/// per line of the text, each cut into pieces MSG01 holds, the pieces after the first marked
/// `LC` (line continuation). An empty line is `DS` on the line after it (an X12 text element
/// is never empty), so a run of empty lines reads back as one, and empty lines at either end
/// not at all. What X12 cannot hold in text (a delimiter, a control character, a character
/// the partner's set lacks) is written as a space, as in a heading NTE. [`OpenLine`] reads
/// them back.
fn write_line_comments(out: &mut Out, path: &str, le: &Extensions) -> Result<(), EncodeError> {
    let Some((format, value)) = line_field(le, COMMENTS) else {
        return Ok(());
    };
    let at = format!("{path}.extensions.{format}.{COMMENTS}");
    let Some(text) = value.as_str() else {
        return Err(EncodeError::Invalid {
            path: at,
            message: "a line's comments are text".into(),
        });
    };
    let max = out.max_len("MSG", 1).unwrap_or(MSG01_MAX).max(1);
    let (mut empty_before, mut any) = (false, false);
    for line in text.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.is_empty() {
            empty_before = any;
            continue;
        }
        let flat = out.free_text(line).into_owned();
        let mut rest = flat.as_str();
        let mut control = if empty_before { AFTER_EMPTY_LINE } else { "" };
        // Each piece takes at least one character: the loop ends.
        while !rest.is_empty() {
            let end = rest.char_indices().nth(max).map_or(rest.len(), |(k, _)| k);
            let Some((piece, tail)) = rest.split_at_checked(end) else {
                break;
            };
            out.segment(&at, "MSG", &[t(piece), t(control)])?;
            control = LINE_CONTINUATION;
            rest = tail;
        }
        (empty_before, any) = (false, true);
    }
    Ok(())
}

/// The PO references an invoice line's loop kept: its IT1 qualifier pairs and its segments.
#[derive(Debug, Clone, Copy, Default)]
struct KeptPo<'a> {
    pairs: &'a [Value],
    segments: &'a [Value],
}

impl<'a> KeptPo<'a> {
    fn of(ext: &'a Extensions) -> Self {
        let Some(x) = x12_ext(ext) else {
            return KeptPo::default();
        };
        let list = |key: &str| {
            x.get(key)
                .and_then(Value::as_array)
                .map_or(&[][..], Vec::as_slice)
        };
        KeptPo {
            pairs: list("ids"),
            segments: list("segments"),
        }
    }

    /// The POs the kept pairs name, in order.
    fn pair_pos(self) -> impl Iterator<Item = &'a str> {
        self.pairs.iter().filter_map(pair_po)
    }

    /// The first PO the line names: a pair's, else a line REF's.
    fn first(self) -> Option<&'a str> {
        self.pair_pos()
            .next()
            .or_else(|| line_po_refs(self.segments).next().map(|(_, v)| v))
    }
}

/// The line `REF*PO` segments among a line's kept segments (in the order the reader keeps
/// them and the writer writes them), with the index of each and the PO it names; a REF of
/// the line's N1 loop is that party's and is not one.
fn line_po_refs(segs: &[Value]) -> impl Iterator<Item = (usize, &str)> {
    let mut in_party = false;
    segs.iter().enumerate().filter_map(move |(k, seg)| {
        let id = seg.get(0).and_then(Value::as_str).unwrap_or_default();
        in_party = id == "N1" || (in_party && is_n1_child(id.as_bytes()));
        if in_party || id != "REF" {
            return None;
        }
        let q = seg.get(1).and_then(Value::as_str)?;
        let v = seg.get(2).and_then(Value::as_str)?.trim_ascii();
        (q.trim_ascii() == "PO" && !v.is_empty()).then_some((k, v))
    })
}

/// How a line's PO is written (see the module docs).
#[derive(Debug, Clone, Copy)]
struct PoPlan<'a> {
    /// What becomes of the PO references the line kept.
    kept: PoRewrite<'a>,
    /// A `REF*PO` to write for a PO nothing kept names.
    new_ref: Option<&'a str>,
}

/// Plans the writing of a line's PO `own` (`None` for a line without the field) beside the
/// document's PO `document` and what the line kept in `ext`: when the field says what
/// [`read_line_po`] would read from the kept references, they go as they came; otherwise the
/// field wins.
fn po_plan<'a>(
    own: Option<Option<&'a str>>,
    document: Option<&'a str>,
    ext: &'a Extensions,
) -> PoPlan<'a> {
    let as_kept = PoPlan {
        kept: PoRewrite::AsKept,
        new_ref: None,
    };
    let Some(own) = own else {
        return as_kept;
    };
    let own = own.filter(|v| !v.trim_ascii().is_empty());
    let first = KeptPo::of(ext).first();
    if own == first.filter(|v| Some(*v) != document) {
        return as_kept;
    }
    match first {
        Some(_) => PoPlan {
            kept: own.or(document).map_or(PoRewrite::Drop, PoRewrite::Write),
            new_ref: None,
        },
        None => PoPlan {
            kept: PoRewrite::AsKept,
            new_ref: own.filter(|v| Some(*v) != document),
        },
    }
}

/// The line's kept segments with its `REF*PO` segments as `rewrite` says. Runs only for a
/// line whose PO was edited.
fn write_kept_with_po(
    out: &mut Out,
    ext: &Extensions,
    path: &str,
    rewrite: PoRewrite<'_>,
) -> Result<(), EncodeError> {
    let segs = KeptPo::of(ext).segments;
    let refs: Vec<usize> = line_po_refs(segs).map(|(k, _)| k).collect();
    let segs: Vec<Value> = segs
        .iter()
        .enumerate()
        .filter_map(|(k, seg)| {
            if !refs.contains(&k) {
                return Some(seg.clone());
            }
            let PoRewrite::Write(v) = rewrite else {
                return None;
            };
            let mut seg = seg.clone();
            if let Some(slot) = seg.get_mut(2) {
                *slot = Value::String(v.to_string());
            }
            Some(seg)
        })
        .collect();
    write_kept_list(out, &segs, &format!("{path}.extensions.x12.segments"))
}

/// An invoice line's PO, from what its loop kept (see the module docs), once the set is
/// read: the first PO the line names when it is not `document` (BIG04). A lone
/// `REF*PO*<po>` that [`write_line`] writes back the same from the field alone is then no
/// longer kept: the first REF of the line, naming nothing else, with no unlisted segment
/// after it (whose place follows the segment before it). Most lines kept nothing and return
/// at once.
pub fn read_line_po(line: &mut InvoiceLine, document: Option<&str>) {
    if line.extensions.is_empty() {
        return;
    }
    let kept = KeptPo::of(&line.extensions);
    let Some(first) = kept.first().filter(|v| Some(*v) != document) else {
        return;
    };
    line.po_number = Some(first.into());
    let lone = {
        let mut refs = line_po_refs(kept.segments);
        match (kept.pair_pos().next(), refs.next(), refs.next()) {
            (None, Some((k, v)), None) if is_plain_po_ref(kept.segments, k, v) => Some(k),
            _ => None,
        }
    };
    let Some(k) = lone else {
        return;
    };
    if let Some(Value::Object(x)) = line.extensions.get_mut("x12") {
        if let Some(Value::Array(segs)) = x.get_mut("segments")
            && k < segs.len()
        {
            segs.remove(k);
            if segs.is_empty() {
                x.remove("segments");
            }
        }
        if x.is_empty() {
            line.extensions.remove("x12");
        }
    }
}

/// Whether kept segment `k` is `REF*PO*<po>` exactly as the writer writes it from the field,
/// at the place the writer puts that: before every other REF of the line, and followed by
/// nothing that takes its place from the segment before it.
fn is_plain_po_ref(segs: &[Value], k: usize, po: &str) -> bool {
    let plain = segs.get(k).and_then(Value::as_array).is_some_and(|els| {
        els.len() == 3
            && els.first().and_then(Value::as_str) == Some("REF")
            && els.get(1).and_then(Value::as_str) == Some("PO")
            && els.get(2).and_then(Value::as_str) == Some(po)
    });
    fn id(seg: &Value) -> &str {
        seg.get(0).and_then(Value::as_str).unwrap_or_default()
    }
    let first_ref = !segs.iter().take(k).any(|s| id(s) == "REF");
    let listed = crate::order::positions("810", crate::order::Area::Line);
    let next_placed = segs
        .get(k + 1)
        .is_none_or(|next| listed.is_some_and(|p| p.of(id(next)).is_some()));
    plain && first_ref && next_placed
}

/// Whether `value` is no longer than `max` characters (no limit: it is).
fn fits(max: Option<usize>, value: &str) -> bool {
    max.is_none_or(|m| value.len() <= m || value.chars().count() <= m)
}

/// A line bought by amount (a Coupa amount line: a price or amount, no quantity, no unit) is
/// written as one lot (`1`, `LO`) at that amount, the usual X12 form: without it the paired
/// rule refused the line, and the PO went nowhere, with no fix within an operator's reach.
fn by_amount_as_one_lot(p: &mut LineParts<'_>) {
    let no_unit = p.uom.is_none_or(|u| u.trim().is_empty());
    if p.quantity.is_some() || !no_unit {
        return;
    }
    if let Some(price) = p.amount.or(p.unit_price) {
        p.quantity = Some(Decimal::ONE);
        p.uom = Some("LO");
        p.unit_price = Some(price);
    }
}

/// X12's paired rule P020304 on IT1 and PO1: quantity, unit and unit price are all there or
/// none is. A line that would break it (`IT1*1**EA*12.5`) is refused with the path of the
/// first field it lacks, rather than written for the partner's translator to reject.
fn check_paired(path: &str, id: &str, p: &LineParts<'_>) -> Result<(), EncodeError> {
    let fields = [
        ("quantity", p.quantity.is_some()),
        ("uom", p.uom.is_some_and(|u| !u.trim().is_empty())),
        ("unit_price", p.unit_price.is_some()),
    ];
    let present = fields.iter().filter(|(_, there)| *there).count();
    if present == 0 || present == fields.len() {
        return Ok(());
    }
    let missing: Vec<&str> = fields
        .iter()
        .filter(|(_, there)| !there)
        .map(|(f, _)| *f)
        .collect();
    let first = missing.first().copied().unwrap_or_default();
    let lacks = missing.join(" and ");
    Err(EncodeError::Invalid {
        path: format!("{path}.{first}"),
        message: format!(
            "{id}02 quantity, {id}03 unit and {id}04 unit price go together (X12 paired rule P020304) and this line has no {lacks}; give it all three or none"
        ),
    })
}

const UNITS: &str = include_str!("../../../schemas/x12/units.csv");

/// `schemas/x12/units.csv` as (Recommendation 20, X12) pairs, read once.
fn units() -> &'static [(&'static str, &'static str)] {
    static TABLE: std::sync::OnceLock<Vec<(&'static str, &'static str)>> =
        std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        UNITS
            .lines()
            .skip_while(|l| l.starts_with('#'))
            .skip(1)
            .filter_map(|l| {
                let mut cols = l.split(',');
                Some((cols.next()?, cols.next()?))
            })
            .collect()
    })
}

/// Whether [`x12_unit`] writes `uom` unchanged. Asked for every line read, so the usual case
/// (two capital letters, unless the table translates that code to another) skips the scan.
pub fn written_as_is(uom: &str) -> bool {
    static CHANGED_PAIRS: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();
    let changed = CHANGED_PAIRS.get_or_init(|| {
        units()
            .iter()
            .filter(|(rec20, x12)| rec20.len() == 2 && rec20 != x12)
            .map(|(rec20, _)| *rec20)
            .collect()
    });
    let b = uom.as_bytes();
    if b.len() == 2
        && b.iter().all(u8::is_ascii_uppercase)
        && !changed.iter().any(|c| c.as_bytes() == b)
    {
        return true;
    }
    x12_unit(uom) == uom
}

/// The X12 unit code (355) for a canonical unit: the UN/CEFACT codes cXML and Coupa send are
/// translated through `schemas/x12/units.csv`; anything else is written as it is (and refused
/// by the length check when longer than two characters).
pub fn x12_unit(uom: &str) -> &str {
    units()
        .iter()
        .find(|(rec20, _)| rec20.len() == uom.len() && rec20.eq_ignore_ascii_case(uom))
        .map_or(uom, |(_, x12)| x12)
}

/// PID*F with the description in PID05, and the other elements of the PID it came from (kept
/// in the line's extensions); one longer than PID05 allows continues in further PID*F
/// segments, cut at spaces (see [`crate::lengths::wrap`]), which [`OpenLine::segment`] joins
/// back with one space each.
fn write_description(
    out: &mut Out,
    path: &str,
    description: &str,
    line_ext: &Extensions,
) -> Result<(), EncodeError> {
    let has_break = memchr::memchr2(b'\r', b'\n', description.as_bytes()).is_some();
    let max = out.max_len("PID", 5);
    // The usual case: short enough (bytes bound characters) and on one line.
    // Most lines keep nothing of their PID: those are written without looking further.
    let kept = crate::common::kept_elements_of(line_ext, "PID")
        .next()
        .is_some();
    // A kept element past PID99 (only a malformed input has one) is refused, not dropped.
    if !line_ext.is_empty() {
        crate::common::kept_positions(line_ext, "PID", 1)?;
    }
    if !has_break && max.is_none_or(|m| description.len() <= m) {
        return if kept {
            out.segment(path, "PID", &first_pid(description, line_ext)?)
        } else {
            out.segment(path, "PID", &pid(description))
        };
    }
    // Line breaks become spaces first, so that they can also be where a long one is cut.
    let flat;
    let description = if has_break {
        flat = crate::writer::one_line(description);
        flat.as_str()
    } else {
        description
    };
    let pieces = match max {
        Some(max) if description.chars().count() > max => {
            crate::lengths::wrap(description, max).ok_or_else(|| EncodeError::Invalid {
                path: path.to_string(),
                message: format!(
                    "PID05 allows {max} characters and this description of {} cannot be cut at single spaces into pieces that short (a word is longer, or spaces are doubled); shorten it where it comes from, or raise x12.max_lengths.PID05 if the partner allows more",
                    description.chars().count()
                ),
            })?
        }
        _ => vec![description],
    };
    for (k, piece) in pieces.into_iter().enumerate() {
        if k == 0 && kept {
            out.segment(path, "PID", &first_pid(piece, line_ext)?)?;
        } else {
            out.segment(path, "PID", &pid(piece))?;
        }
    }
    Ok(())
}

/// The PID that starts a description: PID*F with `piece` in PID05 and the elements kept from
/// the source's PID (PID01 when not `F`, PID02–04 characteristic and agency codes, PID06 on).
fn first_pid<'a>(piece: &'a str, line_ext: &'a Extensions) -> Result<Vec<El<'a>>, EncodeError> {
    let mut els = crate::common::with_kept_elements(line_ext, "PID", pid(piece).to_vec())?;
    if let Some(slot) = els.get_mut(4) {
        *slot = t(piece);
    }
    Ok(els)
}

/// PID*F with `piece` in PID05.
fn pid(piece: &str) -> [El<'_>; 5] {
    [t("F"), El::empty(), El::empty(), El::empty(), t(piece)]
}

/// The text of a PID that continues a description: PID*F with only PID05.
fn continuation<'a>(seg: &Fields<'_, 'a>) -> Option<std::borrow::Cow<'a, str>> {
    let only_pid05 = seg.str_at(1).as_deref() == Some("F")
        && seg.element_count() == 5
        && [2, 3, 4]
            .iter()
            .all(|&n| seg.element(n).is_some_and(<[u8]>::is_empty));
    only_pid05.then(|| seg.str_at(5)).flatten()
}

/// The line whose loop is being read, always the last of the document's lines. What its loop
/// keeps is collected here and moved into the line when the next one starts or the set ends,
/// so lines are pushed once and never moved.
#[derive(Debug, Default)]
pub struct OpenLine {
    ext: ExtBuilder,
    /// PID05 already gave the line its description; a later PID continues it when it is
    /// free-form text only, and is kept otherwise.
    described: bool,
    /// The order of the set's line loop, for the segments a line keeps.
    positions: Option<&'static crate::order::Positions>,
    /// The line's N1 loop of each of [`LINE_PARTIES`] was read into it: a later one is kept.
    parties_read: [bool; LINE_PARTIES.len()],
    /// The set's line loop has MSG (an 850's PO1 loop; an 810's IT1 loop has none): its text
    /// is the line's comments.
    reads_msg: bool,
    /// The comment lines read from the line's MSG segments so far.
    comments: Vec<String>,
}

impl OpenLine {
    /// The open line of a set `set` (`810`, `850`).
    pub fn for_set(set: &str) -> Self {
        OpenLine {
            positions: crate::order::positions(set, crate::order::Area::Line),
            reads_msg: set == "850",
            ..OpenLine::default()
        }
    }

    /// Closes the last of `lines` before the next line is pushed, and returns the builder the
    /// new line's kept elements go to.
    pub fn start<L: LoopLine>(&mut self, lines: &mut [L]) -> &mut ExtBuilder {
        self.close(lines);
        self.described = false;
        self.parties_read = Default::default();
        &mut self.ext
    }

    /// Moves what the loop kept into its line, the last of `lines`.
    pub fn close<L: LoopLine>(&mut self, lines: &mut [L]) {
        if let Some(l) = lines.last_mut() {
            if !self.comments.is_empty() {
                let text = self.comments.join("\n");
                self.comments.clear();
                self.ext.mapped.insert(COMMENTS.into(), Value::String(text));
            }
            self.ext.sort_segments(self.positions, None);
            self.ext.move_into(l.extensions_mut());
        }
    }

    /// Keeps `seg` with the open line.
    pub fn keep(&mut self, seg: &Fields<'_, '_>) {
        self.ext.keep(seg);
    }

    /// Which of [`LINE_PARTIES`] N1 `n1` opens, when it is the first of its code in the loop.
    fn party_of(&self, n1: &Fields<'_, '_>) -> Option<usize> {
        let code = n1.element(1)?;
        LINE_PARTIES
            .iter()
            .zip(self.parties_read)
            .position(|((_, c), read)| !read && code == c.as_bytes())
    }

    /// Whether N1 `n1` opens one of the line's own parties: the first `N1*ST` (ship-to) or
    /// `N1*SF` (ship-from) of its loop.
    pub fn takes_party(&self, n1: &Fields<'_, '_>) -> bool {
        self.party_of(n1).is_some()
    }

    /// Reads the N1 loop at `i` of `body` (`n1` split, which [`Self::takes_party`]) into the
    /// line's ship-to or ship-from (`x12.ship_to`, `x12.ship_from`), what its loop holds
    /// beyond the party into `party_segments.<key>` and `field_elements.<key>`, as for a
    /// document's party. Returns the index after the loop; `check` sees the loop's other
    /// segments ([`read_party`]).
    pub fn read_line_party(
        &mut self,
        n1: &Fields<'_, '_>,
        body: &[Segment<'_>],
        i: usize,
        check: &mut dyn FnMut(&Fields<'_, '_>, usize),
    ) -> usize {
        let which = self
            .party_of(n1)
            .and_then(|k| Some((k, LINE_PARTIES.get(k)?.0)));
        let PartyLoop {
            party,
            end,
            leftovers,
            elements,
        } = read_party(n1, body, i, self.positions, check);
        let (Some((k, key)), Ok(value)) = (which, serde_json::to_value(&party)) else {
            // Not one of the line's parties after all, or (never) a party that does not
            // serialise: the loop is kept as it came.
            for seg in body.get(i..end).unwrap_or_default() {
                self.ext.keep(seg);
            }
            return end;
        };
        if let Some(read) = self.parties_read.get_mut(k) {
            *read = true;
        }
        self.ext.mapped.insert(key.into(), value);
        let kept: Vec<Value> = leftovers
            .iter()
            .filter_map(|&j| body.get(j))
            .map(seg_to_json)
            .collect();
        if !kept.is_empty() {
            self.ext
                .party_segments
                .insert(key.into(), Value::Array(kept));
        }
        self.ext.keep_field_map(key, elements);
        end
    }

    /// Reads an MSG of the line loop into the line's comments, when it is free-form text as
    /// the writer writes it (see [`write_line_comments`]): MSG01 (text with no control
    /// character and no component or repetition separator, which a kept segment would write
    /// back as a composite) and at most MSG02 `LC` (line continuation: the text continues the
    /// line before) or `DS` (advance two lines: an empty line before it). Trailing empty
    /// elements count for nothing, as a kept segment loses them. Returns false for any other
    /// MSG (another MSG02, an MSG03), which the caller keeps whole.
    fn read_comment(&mut self, seg: &Fields<'_, '_>) -> bool {
        let d = seg.delimiters;
        let last = (1..=seg.element_count())
            .rev()
            .find(|&n| seg.element(n).is_some_and(|e| !e.is_empty()))
            .unwrap_or(0);
        let control = seg.element(2).filter(|e| !e.is_empty());
        let text_only = |e: &[u8]| {
            !e.is_empty()
                && !e
                    .iter()
                    .any(|&b| b < 0x20 || b == 0x7f || b == d.component || Some(b) == d.repetition)
        };
        let plain = last <= 2
            && matches!(control, None | Some(b"LC") | Some(b"DS"))
            && seg.element(1).is_some_and(text_only);
        let Some(text) = seg.text(1).filter(|_| plain) else {
            return false;
        };
        // Characters decoded from Windows-1252 may be C1 controls; an MSG of those is kept.
        if text.chars().any(char::is_control) {
            return false;
        }
        match (control, self.comments.last_mut()) {
            (Some(b"LC"), Some(last)) => last.push_str(&text),
            (Some(b"DS"), Some(_)) => {
                self.comments.push(String::new());
                self.comments.push(text);
            }
            _ => self.comments.push(text),
        }
        true
    }

    /// A segment of the loop that the set's own mapping did not take: the first PID05 is the
    /// description, TXI a tax, SAC a charge; anything else (or one of those the model cannot
    /// hold) is kept. Returns whether it was kept only because nothing maps its id (the
    /// caller then checks the set may hold it).
    pub fn segment<L: LoopLine>(
        &mut self,
        cx: &mut MapCx,
        seg: &Fields<'_, '_>,
        i: usize,
        lines: &mut [L],
    ) -> bool {
        let Some(line) = lines.last_mut() else {
            return false;
        };
        match seg.id() {
            b"PID" if !self.described => match seg.trimmed(5) {
                Some(d) => {
                    *line.description_mut() = Some(d);
                    // PID01 `F` is what the writer puts anyway; other elements are kept. The
                    // usual PID*F****text has none, and is told by its positions alone.
                    let f = seg.element(1).is_some_and(|e| e == b"F");
                    let plain = f
                        && seg.element_count() == 5
                        && [2, 3, 4]
                            .iter()
                            .all(|&n| seg.element(n).is_some_and(<[u8]>::is_empty));
                    if !plain {
                        self.ext
                            .keep_elements(seg, &[5, if f { 1 } else { usize::MAX }]);
                    }
                    self.described = true;
                }
                None => self.keep(seg),
            },
            // Every later free-form PID (PID*F****text) continues the description, wherever
            // it is in the loop: the writer puts a loop's segments in table order, which
            // would bring a free-form PID kept apart next to the description anyway.
            b"PID" if self.described => {
                match (line.description_mut().as_mut(), continuation(seg)) {
                    (Some(d), Some(more)) => {
                        let mut joined = String::with_capacity(d.len() + 1 + more.len());
                        joined.push_str(d);
                        joined.push(' ');
                        joined.push_str(&more);
                        *d = joined.into();
                    }
                    _ => self.keep(seg),
                }
            }
            b"TXI" => match read_tax(cx, seg, i, &mut self.ext, line.taxes_mut().len()) {
                Some(tax) => line.taxes_mut().push(tax),
                None => self.keep(seg),
            },
            b"SAC" => match read_charge(cx, seg, i, &mut self.ext, line.charges_mut().len()) {
                Some(c) => line.charges_mut().push(c),
                None => self.keep(seg),
            },
            b"MSG" if self.reads_msg => {
                if !self.read_comment(seg) {
                    self.keep(seg);
                    return true;
                }
            }
            _ => {
                self.keep(seg);
                return true;
            }
        }
        false
    }
}
