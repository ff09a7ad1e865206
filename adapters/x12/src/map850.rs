//! X12 850 (purchase order) ↔ canonical [`PurchaseOrder`], per the X12 column of CANONICAL.md.
//!
//! Header: BEG (BEG01 purpose, BEG03 number, BEG05 date), NTE → comments, CUR02, TXI, SAC,
//! N1 loops (SU/SE/VN supplier, BY buyer, BT bill-to, ST ship-to; SF ship-from, which the model
//! has no field for, into `extensions.x12.ship_from` as an 810's, see
//! [`crate::common::write_ship_from`]), ITD. Lines: PO1 (number,
//! quantity, UOM, price, qualifier pairs), PID05 → description (continued in the PID*F
//! segments right after it, joined with a space; written so when longer than PID05 allows),
//! DTM*002 → need-by, TXI, SAC. Summary: CTT (CTT01 checked and written as the line count),
//! AMT*TT → total (computed from the lines when absent). Everything else goes to
//! `extensions.x12` (see [`crate::common`]).
//!
//! `shipping_terms` ↔ the heading FOB: an Incoterm in FOB05 (FOB04 `01`), another code in
//! FOB03 (FOB02 `ZZ`), FOB01 `DF` unless the source said who pays (see [`read_fob`]).
//!
//! `version` ↔ the first header `REF*PP` (purchase order revision number). A party's ids: the
//! first in N1 (N103/N104), the others, and a first whose domain is not an X12 code, in loop
//! `REF*ZZ` segments (see [`crate::party_ids`]). Decimals are written in X12's shortest form
//! (`12.5` for `12.50`; the value is the same), and a unit that is not an X12 code as its X12
//! code (`HUR` as `HR`, see `schemas/x12/units.csv`; a unit read from X12 longer than PO103
//! allows, such as `KGM`, as well). A tax category goes both ways through its TXI01 code
//! (`sales` ↔ `ST`, see [`crate::common::tax_category`]). A tax's taxable amount goes in TXI08 beside its rate, and is left out
//! without one (X12's C0803). Values longer than the partner accepts are refused with
//! their path ([`crate::lengths`]): a Coupa PO the supplier's translator would reject stops here,
//! in the dead-letter queue with the reason, instead of at the supplier.
//! A line break in free text (a name, address line, contact, description) is written as a
//! space, since X12 data cannot hold one.

use gateway_core::EncodeError;
use gateway_model::{
    ChargeKind, OrderLine, OrderPurpose, Party, PurchaseOrder, ShippingTerms, Text,
};
use rust_decimal::Decimal;

use crate::common::{self, ExtBuilder, Kept, LineItem, MapCx, PARTY_SLOTS, SetShape, Survey};
use crate::envelope::{SetIssue, Severity};
use crate::fields::Fields;
use crate::line_loop::{LineSegment, OpenLine, write_line};
use crate::order::Area;
use crate::set_loop::{self, Common, Scope, SetKind, common_fields};
use crate::tokenizer::Segment;
use crate::values;
use crate::writer::{El, Out, t};

fn role(code: &str) -> Option<usize> {
    match code {
        "SU" | "SE" | "VN" => Some(0),
        "BY" => Some(1),
        "BT" => Some(2),
        "ST" => Some(3),
        "SF" => Some(4),
        _ => None,
    }
}

fn is_amt_tt(seg: &Segment<'_>) -> bool {
    seg.id() == b"AMT" && Fields::new(seg).str_at(1).as_deref() == Some("TT")
}

/// The PO's version from the last header `REF*PP*<n>` (purchase order revision number): REF02
/// a whole number written the way [`write_order`] writes it (no sign, no leading zero) and
/// nothing after it, so that writing the version back gives the same segment. Any other REF
/// stays kept, and the writer puts kept segments before its own `REF*PP`.
fn revision(seg: &Fields<'_, '_>) -> Option<u32> {
    if seg.str_at(1).as_deref() != Some("PP") || seg.element_count() > 2 {
        return None;
    }
    let digits = seg.element(2)?;
    if digits.first() == Some(&b'0') || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// The 850's part of the set loop (see [`crate::set_loop`]).
pub(crate) struct Order850;

impl SetKind for Order850 {
    type Doc = PurchaseOrder;
    type Line = OrderLine;
    const SHAPE: SetShape = SetShape {
        begin: *b"BEG",
        line: *b"PO1",
        total: *b"AMT",
        is_total: is_amt_tt,
        role,
        slot_fields: &[
            "supplier",
            "buyer",
            "bill_to",
            "ship_to",
            common::SHIP_FROM_FIELD,
        ],
        model_slots: 4,
        slot_codes: &["SU", "BY", "BT", "ST", "SF"],
        currency_entity: "BY",
    };
    const BEGIN: (&'static str, &'static str) = ("BEG", "beginning segment for purchase order");
    const SET: &'static str = "850";
    const ONCE: &'static [[u8; 3]] = &[*b"BEG", *b"CTT"];
    #[inline]
    fn common(po: &mut PurchaseOrder) -> Common<'_, OrderLine> {
        common_fields!(po)
    }

    #[inline]
    fn read_begin(
        cx: &mut MapCx,
        po: &mut PurchaseOrder,
        ext: &mut ExtBuilder,
        seg: &Fields,
        i: usize,
    ) {
        read_beg(cx, po, ext, seg, i);
    }

    #[inline]
    fn push_line(lines: &mut Vec<OrderLine>, item: LineItem, ext: &mut ExtBuilder) {
        lines.push(OrderLine {
            line_number: item.number,
            quantity: item.quantity,
            uom: item.uom,
            unit_price: item.unit_price,
            amount: item.amount,
            supplier_part_id: item.ids.supplier,
            buyer_part_id: item.ids.buyer,
            ..OrderLine::default()
        });
        if let Some(pl) = item.ids.po_line {
            // The PO model has no PO line number: a PL pair stays in extensions.
            ext.ids.push(serde_json::json!(["PL", pl.as_str()]));
        }
    }

    /// DTM*002 in a line loop is the line's need-by date (the first one); AMT*TT (the last
    /// one) is the total (AMT03 kept).
    #[inline]
    fn own_segment(
        cx: &mut MapCx,
        po: &mut PurchaseOrder,
        ext: &mut ExtBuilder,
        open: &mut OpenLine,
        seg: &Fields,
        i: usize,
        scope: Scope,
        survey: &Survey,
    ) -> Option<Scope> {
        match (scope, seg.id()) {
            (Scope::Line, b"DTM")
                if seg.str_at(1).as_deref() == Some("002")
                    && po.lines.last().is_some_and(|l| l.need_by.is_none()) =>
            {
                match (cx.opt_date(seg, i, 2, Severity::Error), po.lines.last_mut()) {
                    (Some(d), Some(l)) => l.need_by = Some(d),
                    (None, Some(_)) => open.keep(seg),
                    _ => {}
                }
                Some(scope)
            }
            // A FOB naming no terms (only who pays the carriage, FOB*PP) is kept whole.
            (Scope::Header, b"FOB") if Some(i) == survey.last_fob => {
                po.shipping_terms = Some(read_fob(seg, ext)?);
                Some(scope)
            }
            (Scope::Header, b"REF") if Some(i) == survey.last_revision => {
                po.version = Some(revision(seg)?);
                Some(scope)
            }
            (_, b"AMT") if Some(i) == survey.last_total => {
                po.total = cx.opt_decimal(seg, i, 2, Severity::Error);
                ext.keep_elements(seg, &[1, 2]);
                Some(Scope::Summary)
            }
            _ => None,
        }
    }

    #[inline]
    fn finish(po: &mut PurchaseOrder, slots: [Option<Party>; PARTY_SLOTS], comments: Option<Text>) {
        // The ship-from is in `extensions.x12.ship_from` already (see `SetShape::model_slots`).
        let [supplier, buyer, bill_to, ship_to, ..] = slots;
        po.supplier = supplier;
        po.buyer = buyer;
        po.bill_to = bill_to;
        po.ship_to = ship_to;
        po.comments = comments;
        if po.total.is_none() {
            po.total = computed_total(po);
        }
    }
}

/// Maps one 850 set (ST..SE). Returns the order unless a problem is an error.
pub fn to_order(segments: &[Segment<'_>], version: &str) -> (Option<PurchaseOrder>, Vec<SetIssue>) {
    set_loop::read_set::<Order850>(segments, crate::lengths::Limits::dictionary_for(version))
}

/// Lines + taxes + charges (discounts subtract), when every line has an amount.
fn computed_total(po: &PurchaseOrder) -> Option<Decimal> {
    if po.lines.is_empty() {
        return None;
    }
    let mut sum = Decimal::ZERO;
    // Each sum checked: `Sum` on decimals panics past what one holds.
    let charges = |cs: &[gateway_model::Charge]| {
        gateway_model::checked_sum(cs.iter().filter_map(|c| {
            c.amount.map(|a| match c.kind {
                ChargeKind::Discount => -a.abs(),
                _ => a,
            })
        }))
    };
    let taxes =
        |ts: &[gateway_model::Tax]| gateway_model::checked_sum(ts.iter().filter_map(|t| t.amount));
    for l in &po.lines {
        sum = sum.checked_add(l.amount?)?;
        sum = sum.checked_add(taxes(&l.taxes)?)?;
        sum = sum.checked_add(charges(&l.charges)?)?;
    }
    sum = sum.checked_add(taxes(&po.taxes)?)?;
    sum.checked_add(charges(&po.charges)?)
}

fn read_beg(
    cx: &mut MapCx,
    po: &mut PurchaseOrder,
    ext: &mut ExtBuilder,
    seg: &Fields<'_, '_>,
    i: usize,
) {
    let beg01 = seg.str_at(1);
    po.purpose = match beg01.as_deref() {
        Some("00") => Some(OrderPurpose::New),
        Some("01") => Some(OrderPurpose::Cancel),
        Some("04" | "05") => Some(OrderPurpose::Update),
        _ => None,
    };
    // BEG01 and BEG02 are mandatory (M ID 2/2) like BEG03 and BEG05: a set without them is
    // rejected (AK4 code 1) rather than read as a PO of no purpose that would go out again as
    // a new order.
    for (el, what) in [
        (1, "BEG01 transaction set purpose code"),
        (2, "BEG02 purchase order type code"),
    ] {
        if seg.str_at(el as usize).is_none() {
            cx.element(
                Severity::Error,
                seg,
                i,
                el,
                "1",
                format!("{what} is required"),
            );
        }
    }
    po.po_number = seg.trimmed(3);
    if po.po_number.is_none() {
        cx.element(
            Severity::Error,
            seg,
            i,
            3,
            "1",
            "BEG03 purchase order number is required".into(),
        );
    }
    po.order_date = cx.opt_date(seg, i, 5, Severity::Error);
    if seg.str_at(5).is_none() {
        cx.element(
            Severity::Error,
            seg,
            i,
            5,
            "1",
            "BEG05 purchase order date is required".into(),
        );
    }
    // Positions read into the model; `usize::MAX` is no position.
    let mut mapped = [3, 5, usize::MAX, usize::MAX];
    if matches!(beg01.as_deref(), Some("00" | "01" | "04")) {
        mapped[2] = 1;
    }
    if seg.str_at(2).as_deref() == Some("SA") {
        mapped[3] = 2;
    }
    ext.keep_elements(seg, &mapped);
}

/// Incoterms (2000, 2010, 2020): the codes FOB05 carries with FOB04 `01` (Incoterms).
const INCOTERMS: [&str; 16] = [
    "EXW", "FCA", "FAS", "FOB", "CFR", "CIF", "CPT", "CIP", "DAP", "DPU", "DDP", "DAT", "DAF",
    "DES", "DEQ", "DDU",
];

/// FOB01 (shipment method of payment, mandatory) the writer fills in: `DF`, defined by buyer
/// and seller (the model does not say who pays the carriage; the terms that follow do).
const FOB_PAYMENT: &str = "DF";
/// FOB04 (transportation terms qualifier) for an Incoterm in FOB05.
const FOB_INCOTERMS: &str = "01";
/// FOB02 (location qualifier) before a code written as FOB03 text: `ZZ`, mutually defined.
const FOB_MUTUALLY_DEFINED: &str = "ZZ";

/// The heading FOB → shipping terms, `None` (the FOB kept whole) when it names none. The code
/// is FOB05 (transportation terms code), else FOB03 when FOB02 is `ZZ` (the free text the
/// writer puts a code that is no Incoterm in). What the writer fills in reads back as nothing:
/// FOB01 `DF`, FOB04 `01` before an Incoterm; every other element (another FOB01, FOB02/FOB03
/// beside a FOB05, FOB06 on) is kept in `x12.elements`, so the partner gets its FOB back.
fn read_fob(seg: &Fields<'_, '_>, ext: &mut ExtBuilder) -> Option<ShippingTerms> {
    let mut mapped = [usize::MAX; 4];
    let code = match seg.trimmed(5) {
        Some(c) => {
            mapped[0] = 5;
            if seg.str_at(4).as_deref() == Some(FOB_INCOTERMS) && INCOTERMS.contains(&c.as_str()) {
                mapped[1] = 4;
            }
            c
        }
        // Not beside a FOB04 (which needs its FOB05, X12's C0405): that FOB is kept whole.
        None if seg.str_at(2).as_deref() == Some(FOB_MUTUALLY_DEFINED)
            && seg.str_at(4).is_none() =>
        {
            let c = seg.trimmed(3)?;
            mapped[0] = 2;
            mapped[1] = 3;
            c
        }
        None => return None,
    };
    if seg.str_at(1).as_deref() == Some(FOB_PAYMENT) {
        mapped[2] = 1;
    }
    ext.keep_elements(seg, &mapped);
    Some(ShippingTerms { code: Some(code) })
}

/// Shipping terms → the heading FOB, with the elements [`read_fob`] kept in `ext` (the
/// document's). An Incoterm goes in FOB05 (FOB04 `01`), and so does a code read from a FOB05
/// whose FOB02, FOB03 or FOB04 were kept; any other code in FOB03 after FOB02 `ZZ` (FOB05 is a
/// three-letter code from a list, FOB03 free text of up to 80 characters: a longer code is
/// refused at `$.shipping_terms.code`, as any value too long for the partner). FOB01 is the
/// kept one, else [`FOB_PAYMENT`]. Terms without a code write nothing.
fn write_fob(
    out: &mut Out,
    terms: &ShippingTerms,
    e: &gateway_model::Extensions,
) -> Result<(), EncodeError> {
    let Some(code) = terms.code.as_deref().filter(|c| !c.trim().is_empty()) else {
        return Ok(());
    };
    let kept = common::Kept::elements(e);
    let mut els = kept.fill("FOB", vec![t(FOB_PAYMENT)])?;
    if els.len() < 5 {
        els.resize(5, El::empty());
    }
    let incoterm = INCOTERMS.contains(&code);
    // A code read from a FOB05 goes back there when the source's FOB04, or its own FOB02 or
    // FOB03 (which hold a location then, not this code), were kept beside it.
    let source_fob05 = ["FOB02", "FOB03", "FOB04"]
        .iter()
        .any(|k| kept.get(k).is_some());
    if incoterm || source_fob05 {
        if incoterm && kept.get("FOB04").is_none() {
            els[3] = t(FOB_INCOTERMS);
        }
        els[4] = t(code);
    } else {
        els[1] = t(FOB_MUTUALLY_DEFINED);
        els[2] = t(code);
    }
    out.segment("$.shipping_terms.code", "FOB", &els)
}

const PO1: LineSegment = LineSegment {
    id: "PO1",
    set: "850",
    number_key: "PO101",
    basis_key: "PO105",
    unit_key: "PO103",
};

/// Writes the body of an 850 (BEG through AMT; the caller writes ST and SE).
pub fn write_order(out: &mut Out, po: &PurchaseOrder) -> Result<(), EncodeError> {
    let date = common::required(
        po.order_date,
        "$.order_date",
        "an 850 needs the order date (BEG05)",
    )?;
    let number = common::required_number(
        &po.po_number,
        "$.po_number",
        "an 850 needs the PO number (BEG03)",
    )?;
    let e = &po.extensions;
    let kept01 = common::kept_element(e, "BEG01");
    let beg01 = match (po.purpose, kept01) {
        (Some(OrderPurpose::Update), Some(k)) if k == "05" => k,
        (None, Some(k)) => k,
        (Some(OrderPurpose::New) | None, _) => "00",
        (Some(OrderPurpose::Cancel), _) => "01",
        (Some(OrderPurpose::Update), _) => "04",
    };
    let beg02 = common::kept_element(e, "BEG02").unwrap_or("SA");
    let mut beg = vec![
        t(beg01),
        t(beg02),
        t(number),
        common::kept(e, "BEG04"),
        t(values::to_date(date)),
    ];
    for n in common::kept_positions(e, "BEG", 6)? {
        beg.push(common::kept(e, &format!("BEG{n:02}")));
    }
    // Each area (heading, every line, summary) is put in the 850's order when it ends.
    out.begin_area("850", Area::Heading);
    out.segment("$", "BEG", &beg)?;
    // The terms' ITD before the kept segments, then one ITD per further tier: the reader
    // takes the first ITD that gives terms as the document's (see `crate::tiers`).
    if let Some(terms) = &po.payment_terms {
        common::write_terms(out, terms, e)?;
    }
    crate::tiers::write_tiers(out, e)?;
    common::write_kept_segments(out, e, "$")?;
    common::write_comments(out, po.comments.as_ref())?;
    if let Some(c) = &po.currency {
        common::write_currency(out, &Order850::SHAPE, c, e)?;
    }
    // After the kept segments and CUR, in the 850's order: the last header REF*PP is the
    // version (see `revision`).
    if let Some(v) = po.version {
        out.segment("$.version", "REF", &[t("PP"), t(v.to_string())])?;
    }
    for (k, c) in po.charges.iter().enumerate() {
        let kept = Kept::item(e, "charges", k);
        common::write_charge(out, c, &format!("$.charges[{k}]"), kept)?;
    }
    if let Some(terms) = &po.shipping_terms {
        write_fob(out, terms, e)?;
    }
    for (k, tax) in po.taxes.iter().enumerate() {
        common::write_tax(
            out,
            tax,
            &format!("$.taxes[{k}]"),
            Kept::item(e, "taxes", k),
        )?;
    }
    common::write_parties(
        out,
        &Order850::SHAPE,
        &[&po.supplier, &po.buyer, &po.bill_to, &po.ship_to],
        e,
    )?;
    common::write_ship_from(out, e)?;
    out.end_area();
    for (n, line) in po.lines.iter().enumerate() {
        write_line(out, PO1, n, line, None)?;
    }
    out.begin_area("850", Area::Summary);
    common::write_ctt(out, po.lines.len(), e)?;
    if let Some(total) = po.total {
        let mut amt = Kept::elements(e).fill("AMT", vec![El::empty(); 2])?;
        amt[0] = t("TT");
        amt[1] = t(values::to_decimal(total));
        out.segment("$.total", "AMT", &amt)?;
    }
    common::write_kept_summary(out, &po.extensions)?;
    out.end_area();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use gateway_model::{OrderLine, Tax};

    /// An order whose taxes add up past what a decimal holds has no computed total; `Sum`
    /// panicked there (a partner's `max_lengths` may widen TXI02 to 29 digits).
    #[test]
    fn a_total_past_what_a_decimal_holds_is_none_not_a_panic() {
        let tax = || Tax {
            amount: Some(Decimal::MAX),
            ..Tax::default()
        };
        let po = PurchaseOrder {
            lines: vec![OrderLine {
                amount: Some(Decimal::ONE),
                taxes: vec![tax(), tax()],
                ..OrderLine::default()
            }],
            ..PurchaseOrder::default()
        };
        assert_eq!(computed_total(&po), None);
        let fits = PurchaseOrder {
            lines: vec![OrderLine {
                amount: Some(Decimal::ONE),
                ..OrderLine::default()
            }],
            taxes: vec![Tax {
                amount: Some(Decimal::TWO),
                ..Tax::default()
            }],
            ..PurchaseOrder::default()
        };
        assert_eq!(computed_total(&fits), Some(Decimal::from(3)));
    }
}
