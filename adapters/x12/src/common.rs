//! Mapping pieces shared by 810 and 850: N1 loops, PER, CUR, ITD, PID, TXI, SAC, qualifier
//! pairs, and the `extensions.x12` convention that keeps what the model does not hold.
//!
//! Extensions convention (stable, so X12 → canonical → X12 → canonical is identical):
//! - `extensions.x12.segments`: unmapped header/summary segments in source order, each an array
//!   of elements with the id first; a composite element is an array of its components.
//!   The encoder writes them right after BIG/BEG.
//! - `extensions.x12.party_segments.<field>`: the segments of a mapped party's N1 loop the model
//!   does not hold (N2, REF other than an id carrier, a second N4 or PER), written back inside
//!   that party's loop, each at its place in it (N1, N2, N3, N4, REF, PER; see
//!   [`crate::order`]).
//! - `extensions.x12.elements`: unmapped elements of the set's singletons keyed `BIG03`:
//!   BIG/BEG, ITD, CUR (CUR01 when not the set's own, `SE` in an 810 and `BY` in an 850;
//!   CUR03 on), an 850's FOB (the elements other than its shipping terms' code, see
//!   `map850::read_fob`), TDS02 on, AMT03 of the total, CTT02 on.
//! - `extensions.x12.field_elements.<field>`: the same, for a mapped part the model holds
//!   without extensions, by its field (`supplier`, `taxes[0]`, `charges[1]`): a party's N1
//!   (N101 when not the slot's own code, `VN` for `SU`; N105 on), first N4 (N405 on) and first
//!   PER (PER01 when not `IC`, communication pairs other than the first TE and EM, PER09);
//!   a tax's TXI (TXI04 on, but TXI08 when it is the taxable amount); a charge's SAC (SAC03,
//!   SAC04, SAC06 when not `3`, SAC08 on).
//! - `lines[].extensions.x12.segments`: unmapped segments of the line loop, written at the end
//!   of the loop; `...x12.ids`: unmapped part-number qualifier pairs `[qualifier, value]`;
//!   `...x12.qualifiers`: the qualifier used for a mapped id when not the default (VP, BP, PL);
//!   `...x12.elements` and `...x12.field_elements` (the line's `taxes[0]`, `charges[0]`) as
//!   for the document. An invoice line's PO (a pair `PO`, a line `REF*PO`) stays among them
//!   and also fills `lines[].po_number`, except a lone `REF*PO*<po>` the field alone writes
//!   back the same (see [`crate::line_loop`]).
//!
//! What X12 carries and the model has no field for is read in the model's words
//! ([`ExtBuilder::mapped`]), so a reader of the canonical document need not parse segments:
//! - `extensions.x12.payment_terms`: the heading's ITDs after the one that is the document's
//!   `payment_terms`, each as the model's payment terms (see [`crate::tiers`]), the elements
//!   the terms do not hold in `field_elements["payment_terms[<k>]"]`;
//! - `extensions.x12.ship_from`: an 810's or 850's ship-from, its heading's (last) `N1*SF`
//!   loop, as a party, with `party_segments.ship_from` and `field_elements.ship_from` as for the
//!   document's parties (cXML writes it as its `shipFrom` contact);
//! - `lines[].extensions.x12.ship_to`: a line's own ship-to, its first `N1*ST` loop, as a
//!   party, with `party_segments.ship_to` and `field_elements.ship_to` as for the document's;
//! - `lines[].extensions.x12.comments`: an 850 line's free text, its `MSG` segments (see
//!   [`crate::line_loop`]).
//!
//! Elements are kept only when a segment has one the model does not hold, so the usual
//! segment allocates nothing for them; the writer starts from its defaults, writes the kept
//! elements over them ([`Kept::fill`]) and then the model's fields, so an edited field wins.

use gateway_model::{
    Address, Charge, ChargeKind, Extensions, Party, PartyId, PaymentTerms, Tax, Text,
};
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};

use crate::envelope::{SetIssue, Severity};
use crate::fields::Fields;
use crate::party_ids;
use crate::tokenizer::Segment;
use crate::values;
use crate::writer::{El, o, t};

/// Collects mapping problems for one set.
#[derive(Debug, Default)]
pub struct MapCx {
    pub issues: Vec<SetIssue>,
}

impl MapCx {
    /// Position of body segment `i` in the set (ST is 1, so the first body segment is 2).
    pub fn pos(i: usize) -> u32 {
        (i + 2) as u32
    }

    pub fn element(
        &mut self,
        sev: Severity,
        seg: &Segment<'_>,
        i: usize,
        el: u32,
        code: &'static str,
        msg: String,
    ) {
        self.issues
            .push(SetIssue::element(sev, seg, Self::pos(i), el, code, msg));
    }

    /// An optional decimal element; a bad value is `sev`.
    pub fn opt_decimal(
        &mut self,
        seg: &Fields<'_, '_>,
        i: usize,
        el: u32,
        sev: Severity,
    ) -> Option<Decimal> {
        self.opt_parsed(seg, i, el, sev, "6", values::decimal)
    }

    /// An optional `N2` element (two implied decimals); a bad value is `sev`.
    pub fn opt_implied2(
        &mut self,
        seg: &Fields<'_, '_>,
        i: usize,
        el: u32,
        sev: Severity,
    ) -> Option<Decimal> {
        self.opt_parsed(seg, i, el, sev, "6", values::implied2)
    }

    /// An optional date element; a bad value is `sev`.
    pub fn opt_date(
        &mut self,
        seg: &Fields<'_, '_>,
        i: usize,
        el: u32,
        sev: Severity,
    ) -> Option<chrono::NaiveDate> {
        self.opt_parsed(seg, i, el, sev, "8", values::date)
    }

    /// An optional whole-number element; a bad value is `sev`.
    pub fn opt_whole(
        &mut self,
        seg: &Fields<'_, '_>,
        i: usize,
        el: u32,
        sev: Severity,
    ) -> Option<u32> {
        self.opt_parsed(seg, i, el, sev, "6", values::whole)
    }

    /// Element `el` parsed by `parse`; absent is `None`, and a value `parse` refuses is
    /// recorded as a `sev` problem with the acknowledgment code `code` (AK4/IK4) and `None`.
    fn opt_parsed<T>(
        &mut self,
        seg: &Fields<'_, '_>,
        i: usize,
        el: u32,
        sev: Severity,
        code: &'static str,
        parse: fn(&str) -> Result<T, String>,
    ) -> Option<T> {
        let v = seg.str_at(el as usize)?;
        match parse(&v) {
            Ok(d) => Some(d),
            Err(m) => {
                self.element(
                    sev,
                    seg,
                    i,
                    el,
                    code,
                    format!("{}{el:02}: {m}", seg.id_str()),
                );
                None
            }
        }
    }
}

/// A segment as JSON: elements with the id first; composites as arrays of components.
pub fn seg_to_json(seg: &Segment<'_>) -> Value {
    let comp = seg.delimiters.component;
    let text = |b| Value::String(seg.owned_text(b));
    let mut elements: Vec<Value> = seg
        .elements()
        .enumerate()
        .map(|(i, e)| {
            if i == 0 || !e.contains(&comp) {
                return text(e);
            }
            // As the writer writes it: no trailing empty components, and one component is a
            // plain element; so a kept segment reads back the same after a round trip.
            let mut parts: Vec<&[u8]> = e.split(|&b| b == comp).collect();
            while parts.len() > 1 && parts.last().is_some_and(|p| p.is_empty()) {
                parts.pop();
            }
            match parts.as_slice() {
                [one] => text(one),
                _ => Value::Array(parts.into_iter().map(text).collect()),
            }
        })
        .collect();
    // Trailing empty elements are not written either.
    while elements.len() > 1 && elements.last().is_some_and(|v| v.as_str() == Some("")) {
        elements.pop();
    }
    Value::Array(elements)
}

/// A JSON segment back to id and elements; `None` when the JSON is not an array of strings.
pub fn json_to_seg(v: &Value) -> Option<(String, Vec<El<'_>>)> {
    let arr = v.as_array()?;
    let (id, rest) = arr.split_first()?;
    let id = id.as_str()?.to_string();
    let mut els = Vec::new();
    for e in rest {
        match e {
            Value::String(s) => els.push(t(s.as_str())),
            Value::Array(parts) => els.push(El::C(
                parts
                    .iter()
                    .map(|p| p.as_str().map(std::borrow::Cow::Borrowed))
                    .collect::<Option<Vec<_>>>()?,
            )),
            _ => return None,
        }
    }
    Some((id, els))
}

/// Builder for the `x12` object inside an `extensions` map.
#[derive(Debug, Default)]
pub struct ExtBuilder {
    pub segments: Vec<Value>,
    pub elements: Map<String, Value>,
    pub ids: Vec<Value>,
    pub qualifiers: Map<String, Value>,
    /// Segments of a mapped party's N1 loop that the model does not hold, by party field
    /// (`ship_to`), written back inside that loop.
    pub party_segments: Map<String, Value>,
    /// Unmapped elements of mapped parts, taxes and charges, by field (`field_elements`).
    pub field_elements: Map<String, Value>,
    /// Segments of the set's summary (after TDS or CTT) the model does not hold, written back
    /// in the summary (`summary_segments`).
    pub summary: Vec<Value>,
    /// The reader is in the summary: what it keeps goes to `summary`.
    pub in_summary: bool,
    /// What the reader read into the model's words although the model has no field for it,
    /// by key of the `x12` object (`payment_terms`, a line's `ship_to` and `comments`; see the
    /// module docs): a reader of the canonical document finds the terms, party or text there
    /// without parsing segments, and the writer writes them back from there.
    pub mapped: Map<String, Value>,
}

impl ExtBuilder {
    pub fn keep(&mut self, seg: &Segment<'_>) {
        let kept = seg_to_json(seg);
        if self.in_summary {
            self.summary.push(kept);
        } else {
            self.segments.push(kept);
        }
    }

    /// Keeps the non-empty elements of `seg` whose positions are not in `mapped`, under
    /// `ID` + two-digit position (`ITD01`), in `elements`.
    pub fn keep_elements(&mut self, seg: &Fields<'_, '_>, mapped: &[usize]) {
        keep_elements_into(&mut self.elements, seg, mapped);
    }

    /// [`ExtBuilder::keep_elements`] for a part of the document (`field()`, such as
    /// `taxes[0]`), in `field_elements`; the key is only made when something is kept.
    pub fn keep_field_elements(
        &mut self,
        seg: &Fields<'_, '_>,
        mapped: &[usize],
        field: impl FnOnce() -> String,
    ) {
        if unmapped(seg, mapped).next().is_none() {
            return;
        }
        let mut kept = Map::new();
        keep_elements_into(&mut kept, seg, mapped);
        self.keep_field_map(&field(), kept);
    }

    /// Adds `kept` (elements by key) to what `field_elements` holds for `field`.
    pub(crate) fn keep_field_map(&mut self, field: &str, kept: Map<String, Value>) {
        if kept.is_empty() {
            return;
        }
        match self.field_elements.get_mut(field) {
            Some(Value::Object(m)) => m.extend(kept),
            _ => {
                self.field_elements
                    .insert(field.into(), Value::Object(kept));
            }
        }
    }

    /// Puts the kept segments in the order the writer will give them
    /// ([`crate::order::sort_kept`]), so a document read, written and read again lists them
    /// the same way even when the sender's order was not the table's.
    pub fn sort_segments(
        &mut self,
        positions: Option<&crate::order::Positions>,
        summary: Option<&crate::order::Positions>,
    ) {
        fn id(v: &Value) -> &str {
            v.get(0).and_then(Value::as_str).unwrap_or_default()
        }
        if let Some(p) = positions {
            crate::order::sort_kept(p, &mut self.segments, id);
        }
        if let Some(p) = summary {
            crate::order::sort_kept(p, &mut self.summary, id);
        }
    }

    /// Nothing kept (the `in_summary` flag aside).
    fn is_empty(&self) -> bool {
        self.segments.is_empty()
            && self.elements.is_empty()
            && self.ids.is_empty()
            && self.qualifiers.is_empty()
            && self.party_segments.is_empty()
            && self.field_elements.is_empty()
            && self.summary.is_empty()
            && self.mapped.is_empty()
    }

    /// Moves what was kept into `ext` (as its `x12` object) and leaves the builder empty, so
    /// one builder serves every line of a set ([`crate::line_loop::OpenLine`]). Only the
    /// parts that hold something are taken: most lines keep nothing, and moving out and
    /// dropping their empty maps (a `BTreeMap` drop walks an iterator even when empty) cost
    /// more than the rest of the line's extensions.
    pub fn move_into(&mut self, ext: &mut Extensions) {
        use std::mem::take;
        if self.is_empty() {
            return;
        }
        let mut m = Map::new();
        if !self.segments.is_empty() {
            m.insert("segments".into(), Value::Array(take(&mut self.segments)));
        }
        if !self.elements.is_empty() {
            m.insert("elements".into(), Value::Object(take(&mut self.elements)));
        }
        if !self.ids.is_empty() {
            m.insert("ids".into(), Value::Array(take(&mut self.ids)));
        }
        if !self.qualifiers.is_empty() {
            m.insert(
                "qualifiers".into(),
                Value::Object(take(&mut self.qualifiers)),
            );
        }
        if !self.party_segments.is_empty() {
            m.insert(
                "party_segments".into(),
                Value::Object(take(&mut self.party_segments)),
            );
        }
        if !self.field_elements.is_empty() {
            m.insert(
                "field_elements".into(),
                Value::Object(take(&mut self.field_elements)),
            );
        }
        if !self.summary.is_empty() {
            m.insert(
                "summary_segments".into(),
                Value::Array(take(&mut self.summary)),
            );
        }
        m.extend(take(&mut self.mapped));
        ext.insert("x12".into(), Value::Object(m));
    }
}

/// A position of `mapped` when the model holds what it read there (`some`), else none, so
/// an element the model could not take (blank, not a number) is kept as it came.
pub fn held(pos: usize, some: bool) -> usize {
    if some { pos } else { usize::MAX }
}

/// The non-empty elements of `seg` whose positions are not in `mapped`.
fn unmapped<'s, 'a>(
    seg: &'s Fields<'s, 'a>,
    mapped: &'s [usize],
) -> impl Iterator<Item = (usize, &'a [u8])> + 's {
    (1..=seg.element_count()).filter_map(move |i| {
        let e = seg.element(i).filter(|e| !e.is_empty())?;
        (!mapped.contains(&i)).then_some((i, e))
    })
}

/// Keeps the non-empty elements of `seg` whose positions are not in `mapped` in `into`, under
/// `ID` + two-digit position (`ITD01`). Reads the split `Fields` already made and builds the
/// key by hand: this runs for every document (ITD01) and every line (PID).
fn keep_elements_into(into: &mut Map<String, Value>, seg: &Fields<'_, '_>, mapped: &[usize]) {
    for (i, e) in unmapped(seg, mapped) {
        let id = seg.id_str();
        let mut key = String::with_capacity(id.len() + 3);
        key.push_str(id);
        if i < 100 {
            key.push(char::from(b'0' + (i / 10) as u8));
            key.push(char::from(b'0' + (i % 10) as u8));
        } else {
            key.push_str(&i.to_string());
        }
        into.insert(key, Value::String(seg.owned_text(e)));
    }
}

/// The `x12` extension object of a document or line, if any.
pub fn x12_ext(ext: &Extensions) -> Option<&Map<String, Value>> {
    ext.get("x12").and_then(Value::as_object)
}

/// Writes the kept segments of `ext` (`extensions.x12.segments`).
pub fn write_kept_segments(
    out: &mut crate::writer::Out,
    ext: &Extensions,
    path: &str,
) -> Result<(), gateway_core::EncodeError> {
    write_kept(out, ext, path, "segments")
}

/// Writes the kept segments of a set's summary (`extensions.x12.summary_segments`).
pub fn write_kept_summary(
    out: &mut crate::writer::Out,
    ext: &Extensions,
) -> Result<(), gateway_core::EncodeError> {
    write_kept(out, ext, "$", "summary_segments")
}

fn write_kept(
    out: &mut crate::writer::Out,
    ext: &Extensions,
    path: &str,
    key: &str,
) -> Result<(), gateway_core::EncodeError> {
    let Some(segs) = x12_ext(ext)
        .and_then(|m| m.get(key))
        .and_then(Value::as_array)
    else {
        return Ok(());
    };
    write_kept_list(out, segs, &format!("{path}.extensions.x12.{key}"))
}

/// The elements kept in one scope: a document's or line's `x12.elements`, or one part's
/// `x12.field_elements.<field>` (see the module docs).
#[derive(Debug, Clone, Copy)]
pub struct Kept<'a> {
    map: Option<&'a Map<String, Value>>,
    /// Where they are, for errors.
    path: &'static str,
}

impl<'a> Kept<'a> {
    /// `ext`'s `x12.elements`.
    pub fn elements(ext: &'a Extensions) -> Self {
        Kept {
            map: x12_ext(ext)
                .and_then(|m| m.get("elements"))
                .and_then(Value::as_object),
            path: "$.extensions.x12.elements",
        }
    }

    /// `ext`'s `x12.field_elements.<field>`.
    pub fn field(ext: &'a Extensions, field: &str) -> Self {
        Kept {
            map: Self::fields(ext)
                .and_then(|f| f.get(field))
                .and_then(Value::as_object),
            path: "$.extensions.x12.field_elements",
        }
    }

    /// `ext`'s `x12.field_elements.<list>[<k>]` (`taxes[0]`); the key is only made when the
    /// document kept elements of some part.
    pub fn item(ext: &'a Extensions, list: &str, k: usize) -> Self {
        match Self::fields(ext) {
            Some(_) => Self::field(ext, &format!("{list}[{k}]")),
            None => Self::none(),
        }
    }

    /// Nothing kept: a part the writer makes itself (the TXI of an invoice's `tax_total`).
    pub fn none() -> Self {
        Kept {
            map: None,
            path: "",
        }
    }

    fn fields(ext: &'a Extensions) -> Option<&'a Map<String, Value>> {
        x12_ext(ext)
            .and_then(|m| m.get("field_elements"))
            .and_then(Value::as_object)
    }

    /// The element kept under `key` (`BIG03`).
    pub fn get(self, key: &str) -> Option<&'a str> {
        self.map?.get(key).and_then(Value::as_str)
    }

    /// The elements kept of segment `id` (`ITD01` → `(1, "01")`). Position 0 never comes out.
    pub fn of(self, id: &'a str) -> impl Iterator<Item = (usize, &'a str)> + 'a {
        self.map.into_iter().flat_map(move |m| {
            m.iter().filter_map(move |(k, v)| {
                let n = k.strip_prefix(id).filter(|n| n.len() == 2)?.parse().ok()?;
                Some((n, v.as_str()?)).filter(|(n, _)| *n > 0)
            })
        })
    }

    /// The last kept position of segment `id` (0 when none). A kept position past 99 (no
    /// X12 segment has that many elements; it can only come from a hand-made document) is
    /// refused rather than looped to.
    pub fn last(self, id: &str) -> Result<usize, gateway_core::EncodeError> {
        let last = self.map.map_or(0, |m| {
            m.keys()
                .filter_map(|k| k.strip_prefix(id)?.parse::<usize>().ok())
                .max()
                .unwrap_or(0)
        });
        if last > 99 {
            return Err(gateway_core::EncodeError::Invalid {
                path: self.path.into(),
                message: format!(
                    "{id}{last} is not an element X12 can write (positions end at 99)"
                ),
            });
        }
        Ok(last)
    }

    /// `elements` (position 1 first, the writer's defaults) with the kept elements of `id`
    /// written over them, grown to the last kept position; the caller then sets the positions
    /// its model fields fill.
    pub fn fill(
        self,
        id: &'a str,
        mut elements: Vec<El<'a>>,
    ) -> Result<Vec<El<'a>>, gateway_core::EncodeError> {
        let last = self.last(id)?;
        if elements.len() < last {
            elements.resize(last, El::empty());
        }
        for (n, v) in self.of(id) {
            if let Some(slot) = elements.get_mut(n - 1) {
                *slot = t(v);
            }
        }
        Ok(elements)
    }
}

/// A kept element (`extensions.x12.elements.BIG03`).
pub fn kept_element<'a>(ext: &'a Extensions, key: &str) -> Option<&'a str> {
    Kept::elements(ext).get(key)
}

/// The positions from `first` to the last kept element of segment `id` (`BIG33` → 33, at least
/// 12), so the writer writes every kept element however far the sender's segment went.
pub fn kept_positions(
    ext: &Extensions,
    id: &str,
    first: usize,
) -> Result<std::ops::RangeInclusive<usize>, gateway_core::EncodeError> {
    Ok(first..=Kept::elements(ext).last(id)?.max(12))
}

/// The elements kept of segment `id` in `ext`'s `x12.elements` ([`Kept::of`]).
pub fn kept_elements_of<'a>(
    ext: &'a Extensions,
    id: &'a str,
) -> impl Iterator<Item = (usize, &'a str)> + 'a {
    Kept::elements(ext).of(id)
}

/// [`Kept::fill`] from `ext`'s `x12.elements`.
pub fn with_kept_elements<'a>(
    ext: &'a Extensions,
    id: &'a str,
    elements: Vec<El<'a>>,
) -> Result<Vec<El<'a>>, gateway_core::EncodeError> {
    Kept::elements(ext).fill(id, elements)
}

/// Segments that may follow N1 inside its loop.
pub fn is_n1_child(id: &[u8]) -> bool {
    matches!(id, b"N2" | b"N3" | b"N4" | b"REF" | b"PER")
}

/// One N1 loop as [`read_party`] reads it.
#[derive(Debug)]
pub struct PartyLoop {
    pub party: Party,
    /// The index after the loop.
    pub end: usize,
    /// The loop segments the model does not hold (N2, REF, a second PER or N4).
    pub leftovers: Vec<usize>,
    /// The elements of N1 (N101 aside), the first N4 and the first PER the party does not
    /// hold, for `field_elements`.
    pub elements: Map<String, Value>,
}

/// Reads one N1 loop starting at `start` (the N1, `n1` split). Each segment of the loop after
/// the N1 goes to `check` once split (with its index), so the caller checks it as it checks
/// the set's other segments without splitting it again. `order` is the area's table, whose
/// N1 loop order the leftovers are listed in.
pub fn read_party(
    n1: &Fields<'_, '_>,
    segs: &[Segment<'_>],
    start: usize,
    order: Option<&crate::order::Positions>,
    check: &mut dyn FnMut(&Fields<'_, '_>, usize),
) -> PartyLoop {
    let mut party = Party::default();
    let mut leftovers = Vec::new();
    let mut elements = Map::new();
    party.name = n1.trimmed(2);
    let n1_id = n1.trimmed(4).map(|value| PartyId {
        domain: n1.trimmed(3).unwrap_or_default(),
        value,
    });
    let has_id = n1_id.is_some();
    keep_elements_into(
        &mut elements,
        n1,
        &[
            1,
            held(2, party.name.is_some()),
            held(3, has_id),
            held(4, has_id),
        ],
    );
    let mut carried = Vec::new();
    // The supplier's `REF*VN` numbers, ids after all the others (`party_ids` module docs).
    let mut vendor = Vec::new();
    let supplier = n1.element(1).is_some_and(party_ids::reads_vendor_numbers);
    let mut address = Address::default();
    let mut seen_n4 = false;
    let mut seen_per = false;
    let mut i = start + 1;
    while let Some(seg) = segs.get(i) {
        match seg.id() {
            b"N3" => {
                let seg = Fields::new(seg);
                check(&seg, i);
                address.lines.extend(seg.trimmed(1));
                address.lines.extend(seg.trimmed(2));
            }
            b"N4" if !seen_n4 => {
                seen_n4 = true;
                let seg = Fields::new(seg);
                check(&seg, i);
                address.city = seg.trimmed(1);
                address.region = seg.trimmed(2);
                address.postal_code = seg.trimmed(3);
                address.country = seg.trimmed(4);
                let a = &address;
                keep_elements_into(
                    &mut elements,
                    &seg,
                    &[
                        held(1, a.city.is_some()),
                        held(2, a.region.is_some()),
                        held(3, a.postal_code.is_some()),
                        held(4, a.country.is_some()),
                    ],
                );
            }
            b"PER" if !seen_per => {
                seen_per = true;
                let seg = Fields::new(seg);
                check(&seg, i);
                read_contact(&seg, &mut party, &mut elements);
            }
            b"REF" => {
                let seg = Fields::new(seg);
                check(&seg, i);
                if let Some(id) = party_ids::carried_id(&seg) {
                    carried.push(id);
                } else if let Some(id) = supplier.then(|| party_ids::vendor_number(&seg)).flatten()
                {
                    vendor.push(id);
                } else {
                    leftovers.push(i);
                }
            }
            id if is_n1_child(id) => {
                check(&Fields::new(seg), i);
                leftovers.push(i);
            }
            _ => break,
        }
        i += 1;
    }
    party.ids = party_ids::ids_from_loop(n1_id, carried);
    party.ids.extend(vendor);
    if address != Address::default() {
        party.address = Some(address);
    }
    // Listed as the writer puts them back (`write_party`: each at its place in the loop, N2
    // right after N1, a REF before PER), so a loop with an N2 after its N3, or a REF after
    // its PER, reads the same once written.
    if let Some(order) = order {
        crate::order::sort_party_loop(order, &mut leftovers, |&j| {
            segs.get(j)
                .and_then(|s| std::str::from_utf8(s.id()).ok())
                .unwrap_or_default()
        });
    }
    PartyLoop {
        party,
        end: i,
        leftovers,
        elements,
    }
}

/// The first PER of a party's loop: PER02 the contact, the first TE and EM pairs the phone and
/// email. What else it holds (PER01 when not `IC`, other pairs, PER09) goes to `kept`.
fn read_contact(seg: &Fields<'_, '_>, party: &mut Party, kept: &mut Map<String, Value>) {
    party.contact = seg.trimmed(2);
    let code = |n: usize| seg.element(n).map(<[u8]>::trim_ascii);
    // PER01, PER02, then the phone's pair and the email's.
    let mut mapped = [usize::MAX; 6];
    if code(1) == Some(b"IC".as_slice()) {
        mapped[0] = 1;
    }
    mapped[1] = held(2, party.contact.is_some());
    for pair in [3usize, 5, 7] {
        let (slot, at) = match code(pair) {
            Some(b"TE") if party.phone.is_none() => (&mut party.phone, 2),
            Some(b"EM") if party.email.is_none() => (&mut party.email, 4),
            _ => continue,
        };
        if let Some(v) = seg.trimmed(pair + 1) {
            *slot = Some(v);
            mapped[at] = pair;
            mapped[at + 1] = pair + 1;
        }
    }
    keep_elements_into(kept, seg, &mapped);
}

/// Reads the N1 loop at `i` (`n1` split) into its party slot when it is the last N1 of its
/// role outside the line loops ([`Survey::parties`]), keeping the loop segments the model does not hold with that party
/// (`party_segments`); a slot past [`SetShape::model_slots`] goes to `extensions.x12.<field>`
/// (`ship_from`) instead of a document field; the loop of an earlier N1 of the
/// same role, or of a role the document has no slot for, is kept whole. Returns the index
/// after the loop; `check` sees the loop's other segments and `order` orders what it keeps
/// ([`read_party`]).
#[allow(clippy::too_many_arguments)]
pub fn read_party_into(
    n1: &Fields<'_, '_>,
    body: &[Segment<'_>],
    i: usize,
    survey: &Survey,
    shape: &SetShape,
    slots: &mut [Option<Party>],
    ext: &mut ExtBuilder,
    order: Option<&crate::order::Positions>,
    check: &mut dyn FnMut(&Fields<'_, '_>, usize),
) -> usize {
    let PartyLoop {
        party,
        end,
        leftovers,
        mut elements,
    } = read_party(n1, body, i, order, check);
    // The survey put `i` in the slot of its role if it is the last N1 of that role, so the
    // slot it is in is its role.
    match survey.parties.iter().position(|&last| last == Some(i)) {
        Some(r) => {
            let (Some(field), Some(code)) = (shape.slot_fields.get(r), shape.slot_codes.get(r))
            else {
                return end;
            };
            if r < shape.model_slots {
                if let Some(s) = slots.get_mut(r) {
                    *s = Some(party);
                }
            } else {
                // A party the model has no field for (the ship-from): in the model's
                // words under `x12.<field>`, or the loop kept whole should it not serialise.
                let Ok(value) = serde_json::to_value(&party) else {
                    for s in body.get(i..end).unwrap_or_default() {
                        ext.keep(s);
                    }
                    return end;
                };
                ext.mapped.insert((*field).to_string(), value);
            }
            let kept: Vec<Value> = leftovers
                .iter()
                .filter_map(|&j| body.get(j))
                .map(seg_to_json)
                .collect();
            // N101 when it is another code of the role (`VN` for the supplier's `SU`).
            if let Some(n101) = n1.element(1).filter(|e| *e != code.as_bytes()) {
                elements.insert("N101".into(), Value::String(n1.owned_text(n101)));
            }
            ext.keep_field_map(field, elements);
            if !kept.is_empty() {
                ext.party_segments
                    .insert((*field).to_string(), Value::Array(kept));
            }
        }
        _ => {
            for s in body.get(i..end).unwrap_or_default() {
                ext.keep(s);
            }
        }
    }
    end
}

/// A kept element (`extensions.x12.elements.BIG03`) to write back; empty when not kept.
pub fn kept<'a>(ext: &'a Extensions, key: &str) -> El<'a> {
    o(kept_element(ext, key))
}

/// A field the beginning segment cannot go without, or the error that names it.
pub fn required<T>(
    value: Option<T>,
    path: &str,
    message: &str,
) -> Result<T, gateway_core::EncodeError> {
    value.ok_or_else(|| gateway_core::EncodeError::Invalid {
        path: path.into(),
        message: message.into(),
    })
}

/// [`required`] for the document number, which must not be blank either.
pub fn required_number(
    value: &Option<Text>,
    path: &str,
    message: &str,
) -> Result<Text, gateway_core::EncodeError> {
    required(
        value.clone().filter(|n| !n.trim().is_empty()),
        path,
        message,
    )
}

/// NTE*GEN segments, one per line of the comments.
pub fn write_comments(
    out: &mut crate::writer::Out,
    comments: Option<&Text>,
) -> Result<(), gateway_core::EncodeError> {
    if let Some(c) = comments {
        for l in c.split('\n') {
            out.segment("$.comments", "NTE", &[t("GEN"), t(l)])?;
        }
    }
    Ok(())
}

/// N1 loops for the parties a document has, in `shape`'s slot order (`parties[r]` is the
/// party of slot `r`), each with the loop segments kept for it in `ext`
/// (`x12.party_segments.<field>`) and the elements (`x12.field_elements.<field>`).
pub fn write_parties(
    out: &mut crate::writer::Out,
    shape: &SetShape,
    parties: &[&Option<Party>],
    ext: &Extensions,
) -> Result<(), gateway_core::EncodeError> {
    let slots = parties.iter().zip(shape.slot_codes).zip(shape.slot_fields);
    for ((party, code), field) in slots {
        if let Some(p) = party {
            let loop_kept = party_segments(ext, field);
            let elements = Kept::field(ext, field);
            // The sender's code for the role (`VN`), when it reads back into the same slot.
            let role = elements
                .get("N101")
                .filter(|k| (shape.role)(k) == (shape.role)(code))
                .unwrap_or(code);
            out.begin_loop("N1");
            write_party(out, role, p, &format!("$.{field}"), loop_kept, elements)?;
            out.end_loop();
        }
    }
    Ok(())
}

/// The key of the ship-from in `extensions.x12`: the heading's `N1*SF` (ship from) loop of an
/// 810 or an 850, read as a party ([`SetShape::model_slots`]) since the model has no field for
/// it (and a line's own, `lines[].extensions.x12.ship_from`, the same way). cXML writes it as
/// its `shipFrom` contact.
pub(crate) const SHIP_FROM_FIELD: &str = "ship_from";

/// The key of an 810's ship date in `extensions.x12`: its heading's (last) `DTM*011`
/// (shipped), as an ISO 8601 date (`2026-03-14`), since the model has no field for it. cXML
/// writes it as `InvoiceDetailShipping@shippingDate`.
pub(crate) const SHIP_DATE_FIELD: &str = "ship_date";

/// DTM01 of the ship date: `011`, shipped.
pub(crate) const SHIPPED: &str = "011";

/// Where another format's reader keeps the party a document is shipped from, which the model
/// has no field for: cXML's `Contact role="shipFrom"` (an invoice's `InvoicePartner` or
/// `InvoiceDetailShipping`, an order's header `Contact`).
pub(crate) const SHIP_FROM: &str = "$.extensions.cxml.parties.shipFrom";

/// The ship-from party cXML kept (`extensions.cxml.parties.shipFrom`), when there is one.
pub(crate) fn kept_ship_from(ext: &Extensions) -> Option<Party> {
    let v = ext.get("cxml")?.get("parties")?.get("shipFrom")?;
    serde_json::from_value(v.clone()).ok()
}

/// `N1*SF` (ship from) of an 810's or 850's heading, with its N3/N4/PER: X12's own
/// (`extensions.x12.ship_from`, with what its loop kept), else the ship-from cXML named
/// ([`kept_ship_from`]). An X12 one that is no party is refused with its path, not dropped. A
/// whole `N1*SF` loop kept among the segments (`extensions.x12.segments`: an earlier one of
/// two, or one read before the ship-from was mapped) is written with them, and a cXML
/// ship-from then is not.
pub(crate) fn write_ship_from(
    out: &mut crate::writer::Out,
    e: &Extensions,
) -> Result<(), gateway_core::EncodeError> {
    if let Some(v) = x12_ext(e)
        .and_then(|x| x.get(SHIP_FROM_FIELD))
        .filter(|v| !v.is_null())
    {
        let path = format!("$.extensions.x12.{SHIP_FROM_FIELD}");
        let party: Party = serde_json::from_value(v.clone()).map_err(|err| {
            gateway_core::EncodeError::Invalid {
                path: path.clone(),
                message: format!("the ship-from is a party (name, ids, address): {err}"),
            }
        })?;
        out.begin_loop("N1");
        let written = write_party(
            out,
            "SF",
            &party,
            &path,
            party_segments(e, SHIP_FROM_FIELD),
            Kept::field(e, SHIP_FROM_FIELD),
        );
        out.end_loop();
        return written;
    }
    let Some(party) = kept_ship_from(e) else {
        return Ok(());
    };
    let kept_sf = x12_ext(e)
        .and_then(|x| x.get("segments"))
        .and_then(Value::as_array)
        .is_some_and(|segs| {
            segs.iter().any(|s| {
                s.get(0).and_then(Value::as_str) == Some("N1")
                    && s.get(1).and_then(Value::as_str) == Some("SF")
            })
        });
    if kept_sf {
        return Ok(());
    }
    out.begin_loop("N1");
    let written = write_party(out, "SF", &party, SHIP_FROM, &[], Kept::none());
    out.end_loop();
    written
}

/// The segments of party `field`'s N1 loop the model does not hold
/// (`x12.party_segments.<field>`), written back inside that loop; none when nothing was kept.
pub fn party_segments<'e>(ext: &'e Extensions, field: &str) -> &'e [Value] {
    x12_ext(ext)
        .and_then(|m| m.get("party_segments"))
        .and_then(|k| k.get(field))
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// Writes segments kept from an X12 input (`["REF", "DP", "042"]` each; `path` names the list,
/// for errors) as they came, each at its place in the area ([`crate::order::kept_positions`]:
/// a kept N1 loop, a party the model does not hold, stays one loop, in the loop's order; its
/// REF and PER are the loop's, not the heading's). Inside a loop being written (a party's
/// kept segments) each goes to its place in that loop.
pub(crate) fn write_kept_list(
    out: &mut crate::writer::Out,
    segs: &[Value],
    path: &str,
) -> Result<(), gateway_core::EncodeError> {
    let places = out.kept_positions(
        segs.iter()
            .map(|v| v.get(0).and_then(Value::as_str).unwrap_or_default()),
    );
    // Kept N1 loops are written as loops (in an ordered area, outside any loop).
    let loops = places.is_some();
    let mut in_loop = false;
    for (i, v) in segs.iter().enumerate() {
        let p = format!("{path}[{i}]");
        let (id, els) = json_to_seg(v).ok_or_else(|| gateway_core::EncodeError::Invalid {
            path: p.clone(),
            message: "expected an array of strings (segment id first)".into(),
        })?;
        if !(2..=3).contains(&id.len()) || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(gateway_core::EncodeError::Invalid {
                path: p,
                message: format!("{id:?} is not a segment id"),
            });
        }
        let at = places.as_ref().and_then(|p| p.get(i).copied());
        if loops {
            if in_loop && !is_n1_child(id.as_bytes()) {
                out.end_loop();
                in_loop = false;
            }
            if id == "N1" {
                out.begin_kept_loop(at);
                in_loop = true;
            }
        }
        out.kept_segment(&p, &id, &els, at)?;
    }
    if in_loop {
        out.end_loop();
    }
    Ok(())
}

/// Writes an N1 loop for `party` with entity code `role`, the loop's segments `kept` and the
/// `elements` kept of its N1, N4 and PER.
pub fn write_party(
    out: &mut crate::writer::Out,
    role: &str,
    party: &Party,
    path: &str,
    kept: &[Value],
    elements: Kept<'_>,
) -> Result<(), gateway_core::EncodeError> {
    if let Some(k) = party.ids.iter().position(|i| i.value.trim().is_empty()) {
        return Err(gateway_core::EncodeError::Invalid {
            path: format!("{path}.ids[{k}].value"),
            message: "a party id needs a value (X12 N104 or REF02)".into(),
        });
    }
    // A supplier's vendor numbers ending its ids go back as the `REF*VN`s they came as.
    let (held, vendor) = if party_ids::reads_vendor_numbers(role.as_bytes()) {
        party_ids::split_vendor_numbers(&party.ids)
    } else {
        (party.ids.as_slice(), &[][..])
    };
    let ids = party_ids::plan(held);
    let first_carried = held.len() - ids.carried.len();
    if let Some(k) = ids.carried.iter().position(|i| i.domain.trim().is_empty()) {
        return Err(gateway_core::EncodeError::Invalid {
            path: format!("{path}.ids[{}].domain", first_carried + k),
            message: "a party id after the first needs a domain: X12 carries it in REF03 of a loop REF*ZZ".into(),
        });
    }
    let mut n1 = elements.fill("N1", vec![El::empty(); 4])?;
    n1[0] = t(role);
    if let Some(name) = party.name.as_deref() {
        n1[1] = t(name);
    }
    if let Some((code, value)) = ids.n1 {
        n1[2] = t(code);
        n1[3] = t(value);
    }
    out.segment(path, "N1", &n1)?;
    if let Some(a) = &party.address {
        for pair in a.lines.chunks(2) {
            let els: Vec<El> = pair.iter().map(|l| t(l.as_str())).collect();
            out.segment(&format!("{path}.address.lines"), "N3", &els)?;
        }
    }
    let a = party.address.as_ref();
    let place = [
        a.and_then(|a| a.city.as_deref()),
        a.and_then(|a| a.region.as_deref()),
        a.and_then(|a| a.postal_code.as_deref()),
        a.and_then(|a| a.country.as_deref()),
    ];
    if place.iter().any(Option::is_some) || elements.of("N4").next().is_some() {
        let mut n4 = elements.fill("N4", vec![El::empty(); 4])?;
        for (slot, v) in n4.iter_mut().zip(place) {
            if let Some(v) = v {
                *slot = t(v);
            }
        }
        out.segment(&format!("{path}.address"), "N4", &n4)?;
    }
    for (k, id) in ids.carried.iter().enumerate() {
        out.segment(
            &format!("{path}.ids[{}]", first_carried + k),
            "REF",
            &[
                t(party_ids::CARRIER_QUALIFIER),
                t(id.value.as_str()),
                t(id.domain.as_str()),
            ],
        )?;
    }
    for (k, id) in vendor.iter().enumerate() {
        out.segment(
            &format!("{path}.ids[{}]", held.len() + k),
            "REF",
            &[t(party_ids::VENDOR_QUALIFIER), t(id.value.as_str())],
        )?;
    }
    if party.contact.is_some()
        || party.phone.is_some()
        || party.email.is_some()
        || elements.of("PER").next().is_some()
    {
        out.segment(path, "PER", &contact(party, path, elements)?)?;
    }
    // The kept segments (an N2, a REF, a second N4 or PER) go to their places in the loop
    // when the area ends ([`crate::order`]: N1, N2, N3, N4, REF, PER), the order the reader
    // lists them in. Most parties keep nothing: no path then.
    if kept.is_empty() {
        return Ok(());
    }
    write_kept_list(out, kept, &format!("{path}.extensions.x12.party_segments"))
}

/// PER for a party: PER01 `IC` unless another was kept, PER02 the contact, the kept elements
/// where they were, and the phone (TE) and email (EM) in the first communication pairs the
/// kept ones leave free, so `PER*IC*Ann*TE*1*FX*2*EM*a@b` reads and writes the same.
fn contact<'a>(
    party: &'a Party,
    path: &str,
    elements: Kept<'a>,
) -> Result<Vec<El<'a>>, gateway_core::EncodeError> {
    let mut els = elements.fill("PER", vec![t("IC"), El::empty()])?;
    if let Some(c) = party.contact.as_deref() {
        els[1] = t(c);
    }
    for (qualifier, value, field) in [
        ("TE", party.phone.as_deref(), "phone"),
        ("EM", party.email.as_deref(), "email"),
    ] {
        let Some(value) = value else { continue };
        let free = |at: usize| (at..=at + 1).all(|k| els.get(k).is_none_or(El::is_empty));
        let at = [2usize, 4, 6]
            .into_iter()
            .find(|&at| free(at))
            .ok_or_else(|| gateway_core::EncodeError::Invalid {
                path: format!("{path}.{field}"),
                message: "PER has three communication pairs and the kept elements fill them".into(),
            })?;
        if els.len() < at + 2 {
            els.resize(at + 2, El::empty());
        }
        els[at] = t(qualifier);
        els[at + 1] = t(value);
    }
    Ok(els)
}

/// CTT: CTT01 the number of lines, then the elements kept of the CTT read (hash total,
/// weight and its unit...), in `ext` (the document's).
pub fn write_ctt(
    out: &mut crate::writer::Out,
    lines: usize,
    ext: &Extensions,
) -> Result<(), gateway_core::EncodeError> {
    let mut els = Kept::elements(ext).fill("CTT", vec![El::empty()])?;
    els[0] = t(lines.to_string());
    out.segment("$.lines", "CTT", &els)
}

/// ITD → payment terms. The elements the terms do not hold (ITD01 terms type, ITD02 basis
/// date, due dates, a value that did not parse) go to `ext`, so an X12 partner gets its ITD
/// back whole; an ITD with nothing the model holds is the caller's to keep whole.
pub fn read_terms(
    cx: &mut MapCx,
    seg: &Fields<'_, '_>,
    i: usize,
    ext: &mut ExtBuilder,
) -> Option<PaymentTerms> {
    let terms = PaymentTerms {
        description: seg.trimmed(12),
        net_days: cx.opt_whole(seg, i, 7, Severity::Warning),
        discount_percent: cx.opt_decimal(seg, i, 3, Severity::Warning),
        discount_days: cx.opt_whole(seg, i, 5, Severity::Warning),
    };
    if terms == PaymentTerms::default() {
        return None;
    }
    ext.keep_elements(
        seg,
        &[
            held(3, terms.discount_percent.is_some()),
            held(5, terms.discount_days.is_some()),
            held(7, terms.net_days.is_some()),
            held(12, terms.description.is_some()),
        ],
    );
    Some(terms)
}

/// Payment terms → ITD, with the elements [`read_terms`] kept in `ext` (the document's).
pub fn write_terms(
    out: &mut crate::writer::Out,
    terms: &PaymentTerms,
    ext: &Extensions,
) -> Result<(), gateway_core::EncodeError> {
    let els = terms_elements(terms, Kept::elements(ext))?;
    out.segment("$.payment_terms", "ITD", &els)
}

/// The elements of the ITD for `terms`: those `kept` of the ITD they were read from, then
/// the terms' own over them (ITD03 discount percent, ITD05 its days, ITD07 net days, ITD12
/// description), so an edited field wins.
pub fn terms_elements<'a>(
    terms: &'a PaymentTerms,
    kept: Kept<'a>,
) -> Result<Vec<El<'a>>, gateway_core::EncodeError> {
    let mut els = kept.fill("ITD", vec![El::empty(); 12])?;
    if let Some(p) = terms.discount_percent {
        els[2] = t(values::to_decimal(p));
    }
    if let Some(d) = terms.discount_days {
        els[4] = t(d.to_string());
    }
    if let Some(d) = terms.net_days {
        els[6] = t(d.to_string());
    }
    if let Some(d) = terms.description.as_deref() {
        els[11] = t(d);
    }
    Ok(els)
}

/// TXI → tax (`None` when it carries neither amount nor rate). TXI01 is the category, as cXML
/// names it ([`tax_category`]: `ST` → `sales`). TXI08 (dollar basis for
/// percent) is the taxable amount when the TXI has a rate (TXI03), as X12's C0803 has it; the
/// elements the tax does not hold (TXI04 on: jurisdiction, exemption, a TXI08 without a rate
/// or that is no number, tax id) go to `ext` under `taxes[<index>]`, `index` being the tax's
/// in its list.
pub fn read_tax(
    cx: &mut MapCx,
    seg: &Fields<'_, '_>,
    i: usize,
    ext: &mut ExtBuilder,
    index: usize,
) -> Option<Tax> {
    let amount = cx.opt_decimal(seg, i, 2, Severity::Error);
    let rate = cx.opt_decimal(seg, i, 3, Severity::Error);
    if amount.is_none() && rate.is_none() {
        return None;
    }
    // Most TXIs end before TXI08: only those that reach it are looked at again.
    let taxable_amount = if rate.is_some() && seg.element(8).is_some_and(|e| !e.is_empty()) {
        cx.opt_decimal(seg, i, 8, Severity::Warning)
    } else {
        None
    };
    // TXI01 as the category cXML names (`ST` → `sales`), which the writer turns back into the
    // code (see `schemas/x12/tax-types.csv`).
    let category = seg.trimmed(1).map(|c| Text::from(tax_category(&c)));
    let tax = Tax {
        amount,
        rate,
        category,
        description: None,
        taxable_amount,
    };
    ext.keep_field_elements(
        seg,
        &[
            held(1, tax.category.is_some()),
            held(2, tax.amount.is_some()),
            held(3, tax.rate.is_some()),
            held(8, tax.taxable_amount.is_some()),
        ],
        || format!("taxes[{index}]"),
    );
    Some(tax)
}

const TAX_TYPES: &str = include_str!("../../../schemas/x12/tax-types.csv");

/// One row of `schemas/x12/tax-types.csv`: a TXI01 code, a category name, and whether the code
/// reads as that name (`read`), or the name is only written as the code.
struct TaxType {
    code: &'static str,
    category: &'static str,
    read: bool,
}

/// `schemas/x12/tax-types.csv`, read once.
fn tax_types() -> &'static [TaxType] {
    static TABLE: std::sync::OnceLock<Vec<TaxType>> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        TAX_TYPES
            .lines()
            .skip_while(|l| l.starts_with('#'))
            .skip(1)
            .filter_map(|l| {
                let mut cols = l.split(',');
                Some(TaxType {
                    code: cols.next()?,
                    category: cols.next()?,
                    read: cols.next()? == "yes",
                })
            })
            .collect()
    })
}

/// The canonical category of a tax of TXI01 `code`: the name cXML (and so Coupa, the CSV and
/// JSON documents) gives that tax (`ST` → `sales`, `VA` → `vat`; `schemas/x12/tax-types.csv`),
/// so one tax has one category whatever channel it came in by. A code the table gives no name
/// (`TX`, all taxes; `ZZ`) is its own category, as CANONICAL.md keeps a source's codes.
pub fn tax_category(code: &str) -> &str {
    tax_types()
        .iter()
        .find(|t| t.read && t.code == code)
        .map_or(code, |t| t.category)
}

/// TXI01 for a canonical tax category: the code `schemas/x12/tax-types.csv` gives the name
/// (ignoring ASCII case: `sales` → ST, `vat` → VA, `gst` → GS, `pst` → PS; names 004010 has
/// no code for, such as `hst` or `usage`, → ZZ, mutually defined), `ZZ` when there is none,
/// and anything else as it is (a code read from X12 that the table does not name, such as
/// `TX`, goes back the same; a value TXI01 cannot hold is refused by the length check with
/// its path). [`tax_category`] reads each code the table writes back as the name it was
/// written from, but ZZ, whose category word is lost ([`crate::left_out()`] names it).
pub fn tax_type_code(category: Option<&str>) -> &str {
    let Some(c) = category else { return "ZZ" };
    tax_types()
        .iter()
        .find(|t| t.category.len() == c.len() && t.category.eq_ignore_ascii_case(c))
        .map_or(c, |t| t.code)
}

/// Tax → TXI, with the elements [`read_tax`] kept (`kept`, the tax's `field_elements`). The
/// taxable amount goes in TXI08 (dollar basis for percent) when the tax has a rate: X12's
/// C0803 allows TXI08 only beside TXI03, so a taxable amount without a rate (a descriptive
/// figure: the amount and the category travel) is left out.
pub fn write_tax(
    out: &mut crate::writer::Out,
    tax: &Tax,
    path: &str,
    kept: Kept<'_>,
) -> Result<(), gateway_core::EncodeError> {
    let mut els = kept.fill(
        "TXI",
        vec![t(tax_type_code(None)), El::empty(), El::empty()],
    )?;
    if let Some(c) = tax.category.as_deref() {
        els[0] = t(tax_type_code(Some(c)));
    }
    if let Some(a) = tax.amount {
        els[1] = t(values::to_decimal(a));
    }
    if let Some(r) = tax.rate {
        els[2] = t(values::to_decimal(r));
        if let Some(b) = tax.taxable_amount {
            if els.len() < 8 {
                els.resize(8, El::empty());
            }
            els[7] = t(values::to_decimal(b));
        }
    }
    out.segment(path, "TXI", &els)
}

/// SAC → charge (`None` for `N`, no allowance or charge). The elements the charge does not
/// hold (SAC03, SAC04, SAC06 when not `3` percent, SAC08 on) go to `ext` under
/// `charges[<index>]`, `index` being the charge's in its list.
pub fn read_charge(
    cx: &mut MapCx,
    seg: &Fields<'_, '_>,
    i: usize,
    ext: &mut ExtBuilder,
    index: usize,
) -> Option<Charge> {
    let code = seg.trimmed(2);
    let kind = match seg.str_at(1).as_deref() {
        Some("A") => ChargeKind::Discount,
        Some("C") => match code.as_deref() {
            Some("D240") | Some("G830") => ChargeKind::Shipping,
            Some("D500") | Some("H090") => ChargeKind::Handling,
            _ => ChargeKind::Other,
        },
        _ => return None,
    };
    let charge = Charge {
        kind,
        amount: cx.opt_implied2(seg, i, 5, Severity::Error),
        rate: cx.opt_decimal(seg, i, 7, Severity::Error),
        category: None,
        description: seg.trimmed(15),
        code,
    };
    let rate = charge.rate.is_some();
    ext.keep_field_elements(
        seg,
        &[
            1,
            held(2, charge.code.is_some()),
            held(5, charge.amount.is_some()),
            held(6, rate && seg.element(6) == Some(b"3".as_slice())),
            held(7, rate),
            held(15, charge.description.is_some()),
        ],
        || format!("charges[{index}]"),
    );
    Some(charge)
}

/// Charge → SAC, with the elements [`read_charge`] kept (`kept`, the charge's
/// `field_elements`).
pub fn write_charge(
    out: &mut crate::writer::Out,
    c: &Charge,
    path: &str,
    kept: Kept<'_>,
) -> Result<(), gateway_core::EncodeError> {
    let (flag, default_code) = match c.kind {
        ChargeKind::Discount => ("A", "C310"),
        ChargeKind::Shipping => ("C", "D240"),
        ChargeKind::Handling => ("C", "D500"),
        ChargeKind::Other => ("C", "ZZZZ"),
    };
    let mut defaults = vec![El::empty(); 15];
    defaults[1] = t(default_code);
    // SAC06 `3` (percent) goes with a rate unless the sender's qualifier was kept.
    if c.rate.is_some() {
        defaults[5] = t("3");
    }
    let mut els = kept.fill("SAC", defaults)?;
    els[0] = t(flag);
    if let Some(code) = c.code.as_deref() {
        els[1] = t(code);
    }
    if let Some(a) = c.amount {
        let v = values::to_implied2(a).ok_or_else(|| gateway_core::EncodeError::Invalid {
            path: format!("{path}.amount"),
            message: format!("{a} has more than two decimals; SAC05 carries cents"),
        })?;
        els[4] = t(v);
    }
    if let Some(r) = c.rate {
        els[6] = t(values::to_decimal(r));
    }
    if let Some(d) = c.description.as_deref() {
        els[14] = t(d);
    }
    out.segment(path, "SAC", &els)
}

/// The last CUR naming a currency (CUR02) → the document's currency; CUR01 when not the
/// set's own (`shape.currency_entity`) and CUR03 on (exchange rate, the other party's
/// currency...) go to `ext`.
pub fn read_currency(seg: &Fields<'_, '_>, shape: &SetShape, ext: &mut ExtBuilder) -> Option<Text> {
    let currency = seg.trimmed(2);
    let own = seg.element(1).map(<[u8]>::trim_ascii) == Some(shape.currency_entity.as_bytes());
    ext.keep_elements(seg, &[held(1, own), held(2, currency.is_some())]);
    currency
}

/// Currency → CUR, with the elements [`read_currency`] kept in `ext` (the document's).
pub fn write_currency(
    out: &mut crate::writer::Out,
    shape: &SetShape,
    currency: &str,
    ext: &Extensions,
) -> Result<(), gateway_core::EncodeError> {
    let mut els = Kept::elements(ext).fill("CUR", vec![t(shape.currency_entity), El::empty()])?;
    els[1] = t(currency);
    out.segment("$.currency", "CUR", &els)
}

/// What IT1 (810) and PO1 (850) share: assigned id, quantity, UOM, unit price, the basis of
/// price kept as written, and the part-number qualifier pairs from element 6.
#[derive(Debug)]
pub struct LineItem {
    pub number: u32,
    pub quantity: Option<Decimal>,
    pub uom: Option<Text>,
    pub unit_price: Option<Decimal>,
    /// `quantity × unit_price` when both are there and the product fits.
    pub amount: Option<Decimal>,
    pub ids: PartIds,
}

/// Reads an IT1 or PO1 segment (`seg.id()` names the kept elements: `IT101`, `PO105`) and
/// keeps what the model does not hold in `ext`, the line's builder; a line without a usable
/// assigned id gets its ordinal, and the text goes to extensions.
pub fn read_line_item(
    cx: &mut MapCx,
    seg: &Fields<'_, '_>,
    i: usize,
    ordinal: usize,
    ext: &mut ExtBuilder,
) -> LineItem {
    let number = match seg.str_at(1) {
        Some(v) => match values::whole(&v) {
            Ok(n) => n,
            Err(_) => {
                ext.elements
                    .insert(format!("{}01", seg.id_str()), Value::String(v.into_owned()));
                (ordinal + 1) as u32
            }
        },
        None => (ordinal + 1) as u32,
    };
    let quantity = cx.opt_decimal(seg, i, 2, Severity::Error);
    let unit_price = cx.opt_decimal(seg, i, 4, Severity::Error);
    if let Some(b) = seg.str_at(5) {
        ext.elements
            .insert(format!("{}05", seg.id_str()), Value::String(b.into_owned()));
    }
    let ids = read_part_ids(seg, 6, ext);
    let amount = match (quantity, unit_price) {
        (Some(q), Some(p)) => q.checked_mul(p),
        _ => None,
    };
    let uom = seg.trimmed(3);
    if let Some(u) = uom.as_deref()
        && !crate::line_loop::written_as_is(u)
    {
        ext.elements
            .insert(format!("{}03", seg.id_str()), Value::String(u.to_string()));
    }
    LineItem {
        number,
        quantity,
        uom,
        unit_price,
        amount,
        ids,
    }
}

/// Part ids of a line from IT1/PO1 qualifier pairs starting at element `first`: owned when
/// read, borrowed from the line when written.
#[derive(Debug, Default)]
pub struct PartIds<S = Text> {
    pub supplier: Option<S>,
    pub buyer: Option<S>,
    pub po_line: Option<S>,
}

pub fn read_part_ids(seg: &Fields<'_, '_>, first: usize, ext: &mut ExtBuilder) -> PartIds {
    let mut ids = PartIds::default();
    let last = seg.element_count().min(first + 39);
    for at in (first..=last).step_by(2) {
        // Qualifiers are compared as bytes; only values become text.
        let q = seg.element(at).unwrap_or_default().trim_ascii();
        if q.is_empty() {
            continue;
        }
        let Some(v) = seg.trimmed(at + 1) else {
            continue;
        };
        let slot = match q {
            b"VP" | b"VN" | b"SK" if ids.supplier.is_none() => {
                Some(("supplier", "VP", &mut ids.supplier))
            }
            b"BP" | b"IN" if ids.buyer.is_none() => Some(("buyer", "BP", &mut ids.buyer)),
            b"PL" if ids.po_line.is_none() => Some(("po_line", "PL", &mut ids.po_line)),
            _ => None,
        };
        match slot {
            Some((name, default, target)) => {
                if q != default.as_bytes() {
                    ext.qualifiers.insert(
                        name.into(),
                        Value::String(gateway_model::charset::utf8_or_windows_1252(q).into()),
                    );
                }
                *target = Some(v);
            }
            None => {
                let q = seg.str_at(at).unwrap_or_default();
                ext.ids.push(json!([q, v.as_str()]));
            }
        }
    }
    ids
}

/// What the writer does with the PO references a line kept (an IT1 pair `PO`, a line
/// `REF*PO`; see [`crate::line_loop`]): write them as they came, write them naming another
/// PO (the line's `po_number` was edited), or leave them out (the line names none any more).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoRewrite<'a> {
    AsKept,
    Write(&'a str),
    Drop,
}

/// The PO a kept qualifier pair `[qualifier, value]` names, when its qualifier is `PO`.
pub fn pair_po(pair: &Value) -> Option<&str> {
    let q = pair.get(0)?.as_str()?;
    let v = pair.get(1)?.as_str()?.trim_ascii();
    (q.trim_ascii() == "PO" && !v.is_empty()).then_some(v)
}

/// Qualifier pairs for IT1/PO1: mapped ids first (with their remembered qualifiers), then a
/// supplier auxiliary part id another format kept (`VS`), then the kept ones, a kept `PO` pair
/// as `po` says.
pub fn write_part_ids<'a>(
    ids: PartIds<&'a str>,
    ext: &'a Extensions,
    po: PoRewrite<'a>,
) -> Vec<El<'a>> {
    let x = x12_ext(ext);
    let qual = |name: &str, default: &'static str| -> &'a str {
        x.and_then(|m| m.get("qualifiers"))
            .and_then(|q| q.get(name))
            .and_then(Value::as_str)
            .unwrap_or(default)
    };
    let mut els = Vec::new();
    for (name, default, v) in [
        ("supplier", "VP", ids.supplier),
        ("buyer", "BP", ids.buyer),
        ("po_line", "PL", ids.po_line),
    ] {
        if let Some(v) = v {
            els.push(t(qual(name, default)));
            els.push(t(v));
        }
    }
    // The supplier's auxiliary part id (a punch-out item's key) another format's reader kept
    // (cXML `SupplierPartAuxiliaryID`, a Coupa PO line's `supp-aux-part-num`, a CSV column):
    // a `VS` pair, Vendor's Supplemental Item Number. One read from X12 is a kept pair below.
    if let Some((from, aux)) = gateway_core::supplier_part_auxiliary_id(ext)
        && from != "x12"
    {
        els.push(t(gateway_core::auxiliary_part_id::X12_QUALIFIER));
        els.push(t(aux));
    }
    if let Some(kept) = x.and_then(|m| m.get("ids")).and_then(Value::as_array) {
        for pair in kept {
            if let (Some(q), Some(v)) = (
                pair.get(0).and_then(Value::as_str),
                pair.get(1).and_then(Value::as_str),
            ) {
                let v = match (po, pair_po(pair)) {
                    (PoRewrite::Write(new), Some(_)) => new,
                    (PoRewrite::Drop, Some(_)) => continue,
                    _ => v,
                };
                els.push(t(q));
                els.push(t(v));
            }
        }
    }
    els
}

/// The most party slots a set kind has ([`SetShape::slot_fields`]): an 810's five parties and
/// its ship-from.
pub const PARTY_SLOTS: usize = 6;

/// What tells the segments of one set kind apart, for [`survey`].
pub struct SetShape {
    /// The beginning segment: BIG or BEG.
    pub begin: [u8; 3],
    /// The line item segment: IT1 or PO1.
    pub line: [u8; 3],
    /// The id of the segment carrying the document total: TDS or AMT.
    pub total: [u8; 3],
    /// Whether a segment with the `total` id carries the total (TDS does, AMT when AMT01 is
    /// TT). Asked only about those: most segments are told apart by their id alone.
    pub is_total: fn(&Segment<'_>) -> bool,
    /// The party slot an N1 entity code fills.
    pub role: fn(&str) -> Option<usize>,
    /// The document field of each party slot (`supplier`, ...), in slot order.
    pub slot_fields: &'static [&'static str],
    /// How many of the slots are fields of the document; the ones after them are parties the
    /// model has no field for, read into `extensions.x12.<field>` (the heading `N1*SF`,
    /// `ship_from`, which cXML writes as its `shipFrom`).
    pub model_slots: usize,
    /// The N101 code the writer gives each party slot (`SU`, ...), in slot order; another
    /// code of the role read (`VN`) is kept.
    pub slot_codes: &'static [&'static str],
    /// The CUR01 entity the writer gives the document's currency (`SE` for the seller's in an
    /// 810, `BY` in an 850); another read is kept.
    pub currency_entity: &'static str,
}

/// Where a set's singletons are, found in one pass before mapping. Singletons: the last one
/// wins, so kept duplicates written before it on encode do not displace it.
#[derive(Debug, Default)]
pub struct Survey {
    /// The first beginning segment.
    pub begin: Option<usize>,
    /// The last CUR of the heading naming a currency (CUR02): the document's currency.
    pub last_cur: Option<usize>,
    /// The first line item segment: the heading ends there. Every ITD before it is the
    /// document's (the first that gives terms its `payment_terms`, the others further tiers;
    /// see [`crate::tiers`]), one after it its line's.
    pub first_line: Option<usize>,
    /// The last FOB of the heading (an 850's shipping terms); a line loop's is the line's.
    pub last_fob: Option<usize>,
    pub last_total: Option<usize>,
    /// Last `REF*PP` (PO revision number) of the heading, outside the N1 loops.
    pub last_revision: Option<usize>,
    /// Last `DTM*011` (shipped) of the heading: an 810's ship date.
    pub last_ship_date: Option<usize>,
    /// Last N1 per party slot outside the line loops (heading or summary): an N1 loop inside
    /// an IT1/PO1 loop is its line's, kept with it.
    pub parties: [Option<usize>; PARTY_SLOTS],
    /// Number of line item segments.
    pub lines: usize,
}

/// Surveys the segments between ST and SE.
pub fn survey(body: &[Segment<'_>], shape: &SetShape) -> Survey {
    let mut s = Survey::default();
    let mut in_n1_loop = false;
    // Where the reading loop will be ([`crate::set_loop::Scope`]): in the heading until the
    // first line item, then in a line loop until a CTT or the last total segment, and in it
    // again from the next line item. An N1 inside a line loop is that line's, never the
    // document's party. Which total segment is the last is known only at the end, so an N1
    // after a total segment (and no CTT) since the last line item waits in `after_total`
    // until a later total segment shows it was in the line loop after all.
    let mut ctt_since_line = false;
    let mut total_since_line = false;
    let mut after_total: [Option<usize>; PARTY_SLOTS] = [None; PARTY_SLOTS];
    for (i, seg) in body.iter().enumerate() {
        let id = seg.id();
        in_n1_loop = id == b"N1" || (in_n1_loop && is_n1_child(id));
        // Fixed-size ids compare as integers, not through `memcmp`.
        let id3 = <[u8; 3]>::try_from(id).ok();
        if id3 == Some(shape.line) {
            s.first_line = s.first_line.or(Some(i));
            s.lines += 1;
            ctt_since_line = false;
            total_since_line = false;
        } else if id == b"N1" {
            let Some(r) = seg.str_at(1).as_deref().and_then(shape.role) else {
                continue;
            };
            let slot = if s.lines == 0 || ctt_since_line {
                s.parties.get_mut(r)
            } else if total_since_line {
                after_total.get_mut(r)
            } else {
                None
            };
            if let Some(slot) = slot {
                *slot = Some(i);
            }
        } else if id == b"CTT" {
            ctt_since_line = true;
        } else if id3 == Some(shape.begin) {
            s.begin = s.begin.or(Some(i));
        } else if id == b"CUR" {
            // The document's currency and terms are the heading's: a line loop's CUR or ITD
            // is the line's (kept with it). Only a CUR that names a currency counts; one
            // without CUR02 is kept, so it cannot become the currency once written again.
            if s.lines == 0 && seg.element(2).is_some_and(|c| !c.trim_ascii().is_empty()) {
                s.last_cur = Some(i);
            }
        } else if id == b"FOB" {
            if s.lines == 0 {
                s.last_fob = Some(i);
            }
        } else if id == b"REF" {
            // The heading's only: a line loop's `REF*PP` is the line's (kept with it).
            if s.lines == 0 && !in_n1_loop && seg.element(1) == Some(b"PP".as_slice()) {
                s.last_revision = Some(i);
            }
        } else if id == b"DTM" {
            // The heading's only: a line loop's DTM is the line's (kept with it).
            if s.lines == 0 && seg.element(1) == Some(SHIPPED.as_bytes()) {
                s.last_ship_date = Some(i);
            }
        } else if id3 == Some(shape.total) && (shape.is_total)(seg) {
            s.last_total = Some(i);
            total_since_line = true;
            // An earlier total segment is not the last: the N1s after it were in a line loop.
            after_total = [None; PARTY_SLOTS];
        }
    }
    for (slot, waiting) in s.parties.iter_mut().zip(after_total) {
        *slot = (*slot).max(waiting);
    }
    s
}
