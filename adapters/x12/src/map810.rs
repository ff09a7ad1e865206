//! X12 810 (invoice) ↔ canonical [`Invoice`], per the X12 column of CANONICAL.md.
//!
//! Header: BIG (date, number, PO number, BIG07 purpose), NTE → comments, CUR02 → currency,
//! N1 loops (SU/SE/VN supplier, BY buyer, BT bill-to, RI remit-to, ST ship-to; SF ship-from,
//! which the model has no field for, into `extensions.x12.ship_from`) with N3/N4/PER,
//! ITD → payment terms (the first that gives terms; later ones are further tiers, see
//! `crate::tiers`), the last `DTM*011` (shipped), which the model has no field for, into
//! `extensions.x12.ship_date` (an ISO 8601 date; cXML writes it as
//! `InvoiceDetailShipping@shippingDate`, and its reader's `extensions.cxml.shipping_date` is
//! written as `DTM*011` in turn). Lines: IT1 (number, quantity, UOM, price, qualifier pairs; a `PO`
//! pair or a line `REF*PO` naming another PO than BIG04 → `po_number`, written back as
//! `REF*PO`, see [`crate::line_loop`]), PID05 →
//! description (continued in the PID*F segments right after it, joined with a space; written
//! so when longer than PID05 allows), TXI, SAC. Summary: TDS01 (implied two decimals) → total,
//! TXI, SAC, CTT (CTT01 checked and written as the line count). Everything else goes to
//! `extensions.x12` (see [`crate::common`]).
//!
//! Written from a document that did not come from X12, some fields have no home in the 810
//! as mapped here and are left out: `subtotal` and `tax_total` (derived: the lines, TXI and
//! TDS01 carry the money; but a `tax_total` no tax of the invoice or its lines carries is
//! written as one summary `TXI*TX`, all taxes, with that amount), a tax's taxable amount
//! without a rate (TXI08 goes only beside TXI03, X12's C0803; with a rate it is written),
//! the original invoice's date of a memo (the 810 carries its number,
//! `REF*OI`), a line's comments (the IT1 loop has no free-form text segment; named by
//! [`crate::left_out()`]), the decimal text of quantities and prices (X12 writes `12.5` for
//! `12.50`; the value is the same), and a unit that is not an X12 code (written as its X12
//! code: `HUR` as `HR`, see `schemas/x12/units.csv`, and so a unit read from X12 longer than
//! IT103 allows, `KGM` as `KG`). A tax category is written as its TXI01 code and read back
//! from it as the category cXML names (`sales` ↔ `ST`, `schemas/x12/tax-types.csv`, see
//! [`crate::common::tax_category`]); one 004010 has no code for (`hst`) is written as `ZZ`
//! and named by [`crate::left_out()`]. No money is left out: every tax has its TXI and every
//! charge its SAC. A party's ids after the first, and a first whose domain is not an X12 code,
//! go in loop `REF*ZZ` segments (see [`crate::party_ids`]). Values longer than the partner
//! accepts are refused with their path ([`crate::lengths`]); a line break in free text (a name,
//! address line, contact, description) is written as a space, since X12 data cannot hold one.

use gateway_core::EncodeError;
use gateway_model::{Invoice, InvoiceLine, InvoicePurpose, Party, Text};

use crate::common::{self, ExtBuilder, Kept, LineItem, MapCx, PARTY_SLOTS, SetShape, Survey};
use crate::envelope::{SetIssue, Severity};
use crate::fields::Fields;
use crate::line_loop::{LineSegment, OpenLine, write_line};
use crate::order::Area;
use crate::set_loop::{self, Common, Scope, SetKind, common_fields};
use crate::tokenizer::Segment;
use crate::values;
use crate::writer::{El, Out, o, t};

/// The canonical slot an N1 entity code fills on an invoice.
fn role(code: &str) -> Option<usize> {
    match code {
        "SU" | "SE" | "VN" => Some(0),
        "BY" => Some(1),
        "BT" => Some(2),
        "RI" => Some(3),
        "ST" => Some(4),
        "SF" => Some(5),
        _ => None,
    }
}

fn is_tds(seg: &Segment<'_>) -> bool {
    seg.id() == b"TDS"
}

/// The 810's part of the set loop (see [`crate::set_loop`]).
pub(crate) struct Invoice810;

impl SetKind for Invoice810 {
    type Doc = Invoice;
    type Line = InvoiceLine;
    const SHAPE: SetShape = SetShape {
        begin: *b"BIG",
        line: *b"IT1",
        total: *b"TDS",
        is_total: is_tds,
        role,
        slot_fields: &[
            "supplier",
            "buyer",
            "bill_to",
            "remit_to",
            "ship_to",
            common::SHIP_FROM_FIELD,
        ],
        model_slots: 5,
        slot_codes: &["SU", "BY", "BT", "RI", "ST", "SF"],
        currency_entity: "SE",
    };
    const BEGIN: (&'static str, &'static str) = ("BIG", "beginning segment for invoice");
    const SET: &'static str = "810";
    const ONCE: &'static [[u8; 3]] = &[*b"BIG", *b"TDS", *b"CTT"];

    #[inline]
    fn common(inv: &mut Invoice) -> Common<'_, InvoiceLine> {
        common_fields!(inv)
    }

    #[inline]
    fn read_begin(cx: &mut MapCx, inv: &mut Invoice, ext: &mut ExtBuilder, seg: &Fields, i: usize) {
        read_big(cx, inv, ext, seg, i);
    }

    #[inline]
    fn push_line(lines: &mut Vec<InvoiceLine>, item: LineItem, _: &mut ExtBuilder) {
        lines.push(InvoiceLine {
            line_number: item.number,
            quantity: item.quantity,
            uom: item.uom,
            unit_price: item.unit_price,
            amount: item.amount,
            supplier_part_id: item.ids.supplier,
            buyer_part_id: item.ids.buyer,
            po_line_number: item.ids.po_line,
            ..InvoiceLine::default()
        });
    }

    /// TDS (the last one) is the total, in implied cents; TDS02 on are kept. The heading's
    /// last `DTM*011` is the ship date ([`ship_date`]).
    #[inline]
    fn own_segment(
        cx: &mut MapCx,
        inv: &mut Invoice,
        ext: &mut ExtBuilder,
        _: &mut OpenLine,
        seg: &Fields,
        i: usize,
        scope: Scope,
        survey: &Survey,
    ) -> Option<Scope> {
        if seg.id() == b"DTM" && Some(i) == survey.last_ship_date {
            let date = ship_date(seg)?;
            ext.mapped.insert(
                common::SHIP_DATE_FIELD.into(),
                serde_json::Value::String(date.format("%Y-%m-%d").to_string()),
            );
            return Some(scope);
        }
        if seg.id() != b"TDS" || Some(i) != survey.last_total {
            return None;
        }
        inv.total = cx.opt_implied2(seg, i, 1, Severity::Error);
        ext.keep_elements(seg, &[1]);
        Some(Scope::Summary)
    }

    /// The supplier numbers kept segments spell (a heading `REF*VN`, a loop `REF*IA`...) are
    /// the supplier's ids too, so the supplier check sees them ([`crate::party_ids`]).
    fn read_kept(inv: &mut Invoice) {
        crate::party_ids::add_kept_numbers(&mut inv.supplier, &mut inv.extensions);
    }

    #[inline]
    fn finish(inv: &mut Invoice, slots: [Option<Party>; PARTY_SLOTS], comments: Option<Text>) {
        // The ship-from is in `extensions.x12.ship_from` already (see `SetShape::model_slots`).
        let [supplier, buyer, bill_to, remit_to, ship_to, _] = slots;
        inv.supplier = supplier;
        inv.buyer = buyer;
        inv.bill_to = bill_to;
        inv.remit_to = remit_to;
        inv.ship_to = ship_to;
        inv.comments = comments;
        let document_po = inv.po_number.as_deref();
        for line in &mut inv.lines {
            crate::line_loop::read_line_po(line, document_po);
        }
    }
}

/// The ship date of a heading `DTM*011*CCYYMMDD` (shipped), when DTM02 is a date written the
/// way [`write_ship_date`] writes it and nothing follows it, so that writing the date back
/// gives the same segment. Any other (a time in DTM03, a two-digit year) stays kept as its
/// segment (cXML's `left_out` names it).
fn ship_date(seg: &Fields<'_, '_>) -> Option<chrono::NaiveDate> {
    if seg.element_count() > 2 {
        return None;
    }
    let text = std::str::from_utf8(seg.element(2)?).ok()?;
    let date = values::date(text).ok()?;
    (values::to_date(date) == text).then_some(date)
}

/// `DTM*011` (shipped): X12's own ship date (`extensions.x12.ship_date`, an ISO 8601 date),
/// else the date of the one cXML read (`extensions.cxml.shipping_date`,
/// `InvoiceDetailShipping@shippingDate`: its date part; its time of day, and a text that is no
/// date, are named by [`crate::left_out()`]). An X12 one that is no date is refused with its
/// path, not dropped. Written in the heading at the table's place (after ITD).
fn write_ship_date(out: &mut Out, e: &gateway_model::Extensions) -> Result<(), EncodeError> {
    let own = common::x12_ext(e)
        .and_then(|x| x.get(common::SHIP_DATE_FIELD))
        .filter(|v| !v.is_null());
    let (date, path) = match own {
        Some(v) => {
            let path = format!("$.extensions.x12.{}", common::SHIP_DATE_FIELD);
            let d = v
                .as_str()
                .and_then(|t| chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d").ok())
                .ok_or_else(|| EncodeError::Invalid {
                    path: path.clone(),
                    message: format!(
                        "the ship date is a date written YYYY-MM-DD (DTM02 of DTM*011), not {v}"
                    ),
                })?;
            (d, path)
        }
        None => match cxml_ship_date(e) {
            Some(d) => (d, CXML_SHIP_DATE.to_string()),
            None => return Ok(()),
        },
    };
    out.segment(
        &path,
        "DTM",
        &[t(common::SHIPPED), t(values::to_date(date))],
    )
}

/// Where cXML's reader keeps an invoice's ship date (`InvoiceDetailShipping@shippingDate`).
pub(crate) const CXML_SHIP_DATE: &str = "$.extensions.cxml.shipping_date";

/// The date of the ship date cXML kept (`extensions.cxml.shipping_date`: its first ten
/// characters, `YYYY-MM-DD`, the sender's local date), when it has one.
pub(crate) fn cxml_ship_date(e: &gateway_model::Extensions) -> Option<chrono::NaiveDate> {
    let text = e.get("cxml")?.get("shipping_date")?.as_str()?.trim();
    chrono::NaiveDate::parse_from_str(text.get(..10)?, "%Y-%m-%d").ok()
}

/// Maps one 810 set (ST..SE). Returns the invoice unless a problem is an error; warnings
/// (accepted with errors) come back either way.
pub fn to_invoice(segments: &[Segment<'_>], version: &str) -> (Option<Invoice>, Vec<SetIssue>) {
    set_loop::read_set::<Invoice810>(segments, crate::lengths::Limits::dictionary_for(version))
}

/// BIG: date, number, PO number, purpose; the other elements are kept.
fn read_big(
    cx: &mut MapCx,
    inv: &mut Invoice,
    ext: &mut ExtBuilder,
    seg: &Fields<'_, '_>,
    i: usize,
) {
    inv.invoice_date = cx.opt_date(seg, i, 1, Severity::Error);
    if inv.invoice_date.is_none() && seg.str_at(1).is_none() {
        cx.element(
            Severity::Error,
            seg,
            i,
            1,
            "1",
            "BIG01 invoice date is required".into(),
        );
    }
    inv.invoice_number = seg.trimmed(2);
    if inv.invoice_number.is_none() {
        cx.element(
            Severity::Error,
            seg,
            i,
            2,
            "1",
            "BIG02 invoice number is required".into(),
        );
    }
    inv.po_number = seg.trimmed(4);
    let big07 = seg.str_at(7);
    inv.purpose = Some(match big07.as_deref() {
        Some("CN" | "CR") => InvoicePurpose::CreditMemo,
        Some("DI" | "DR") => InvoicePurpose::DebitMemo,
        _ => InvoicePurpose::Standard,
    });
    let mapped: &[usize] = if matches!(big07.as_deref(), Some("CR" | "DR")) {
        &[1, 2, 4, 7]
    } else {
        &[1, 2, 4]
    };
    ext.keep_elements(seg, mapped);
}

const IT1: LineSegment = LineSegment {
    id: "IT1",
    set: "810",
    number_key: "IT101",
    basis_key: "IT105",
    unit_key: "IT103",
};

/// Writes the body of an 810 (BIG through CTT; the caller writes ST and SE).
pub fn write_invoice(out: &mut Out, inv: &Invoice) -> Result<(), EncodeError> {
    let date = common::required(
        inv.invoice_date,
        "$.invoice_date",
        "an 810 needs the invoice date (BIG01)",
    )?;
    let number = common::required_number(
        &inv.invoice_number,
        "$.invoice_number",
        "an 810 needs the invoice number (BIG02)",
    )?;
    let purpose = inv.purpose.unwrap_or(InvoicePurpose::Standard);
    let kept07 = common::kept_element(&inv.extensions, "BIG07");
    let big07 = match (purpose, kept07) {
        (InvoicePurpose::CreditMemo, Some(k @ ("CN" | "CR"))) => Some(k.to_string()),
        (InvoicePurpose::DebitMemo, Some(k @ ("DI" | "DR"))) => Some(k.to_string()),
        (InvoicePurpose::Standard, Some(k)) if !matches!(k, "CN" | "CR" | "DI" | "DR") => {
            Some(k.to_string())
        }
        (InvoicePurpose::CreditMemo, _) => Some("CR".into()),
        (InvoicePurpose::DebitMemo, _) => Some("DR".into()),
        (InvoicePurpose::Standard, _) => None,
    };
    let e = &inv.extensions;
    let mut big = vec![
        t(values::to_date(date)),
        t(number),
        po_date(inv),
        o(inv.po_number.as_deref()),
        common::kept(e, "BIG05"),
        common::kept(e, "BIG06"),
        o(big07),
    ];
    for n in common::kept_positions(e, "BIG", 8)? {
        big.push(common::kept(e, &format!("BIG{n:02}")));
    }
    // Each area (heading, every line, summary) is put in the 810's order when it ends.
    out.begin_area("810", Area::Heading);
    out.segment("$", "BIG", &big)?;
    // The terms' ITD before the kept segments, then one ITD per further tier: the reader
    // takes the first ITD that gives terms as the document's (see `crate::tiers`).
    if let Some(terms) = &inv.payment_terms {
        common::write_terms(out, terms, e)?;
    }
    crate::tiers::write_tiers(out, e)?;
    common::write_kept_segments(out, e, "$")?;
    common::write_comments(out, inv.comments.as_ref())?;
    if let Some(c) = &inv.currency {
        common::write_currency(out, &Invoice810::SHAPE, c, e)?;
    }
    write_original_invoice(out, inv)?;
    // The supplier numbers written back as the kept segments they came as are not the loop's.
    let supplier = crate::party_ids::without_kept_numbers(&inv.supplier, e);
    common::write_parties(
        out,
        &Invoice810::SHAPE,
        &[
            &*supplier,
            &inv.buyer,
            &inv.bill_to,
            &inv.remit_to,
            &inv.ship_to,
        ],
        e,
    )?;
    common::write_ship_from(out, e)?;
    write_ship_date(out, e)?;
    // Without TDS there is no summary boundary: header taxes and charges go before the lines so
    // they are not read back as the last line's.
    if inv.total.is_none() {
        write_header_amounts(out, inv)?;
    }
    out.end_area();
    for (n, line) in inv.lines.iter().enumerate() {
        write_line(out, IT1, n, line, inv.po_number.as_deref())?;
    }
    out.begin_area("810", Area::Summary);
    if let Some(total) = inv.total {
        let v = values::to_implied2(total).ok_or_else(|| EncodeError::Invalid {
            path: "$.total".into(),
            message: format!("{total} has more than two decimals; TDS01 carries cents"),
        })?;
        let mut tds = Kept::elements(e).fill("TDS", vec![El::empty()])?;
        tds[0] = t(v);
        out.segment("$.total", "TDS", &tds)?;
        write_header_amounts(out, inv)?;
    }
    common::write_ctt(out, inv.lines.len(), e)?;
    common::write_kept_summary(out, &inv.extensions)?;
    out.end_area();
    Ok(())
}

/// `REF*OI*<number>`: the invoice a memo corrects, as another format's reader kept it
/// ([`gateway_core::original_invoice`]: cXML `InvoiceIDInfo`, CSV `Original Invoice Number`).
/// A `REF*OI` kept from an X12 source is written with the kept segments, as it came, and no
/// other. The 810 has no element for the original invoice's date, which is left out.
fn write_original_invoice(out: &mut Out, inv: &Invoice) -> Result<(), EncodeError> {
    if gateway_core::original_invoice::x12_has_ref_oi(inv) {
        return Ok(());
    }
    let Some(number) = gateway_core::original_invoice(inv).number else {
        return Ok(());
    };
    let path = if inv
        .extensions
        .get("cxml")
        .and_then(|c| c.get("original_invoice_id"))
        .is_some()
    {
        "$.extensions.cxml.original_invoice_id"
    } else {
        "$.extensions.csv"
    };
    out.segment(path, "REF", &[t("OI"), t(number)])
}

/// BIG03, the date of the PO the invoice bills: as X12 kept it, else the date of cXML's
/// `OrderReference@orderDate` (`extensions.cxml.order_date`, ISO 8601).
fn po_date(inv: &Invoice) -> El<'_> {
    let e = &inv.extensions;
    if common::kept_element(e, "BIG03").is_some() {
        return common::kept(e, "BIG03");
    }
    let cxml = e
        .get("cxml")
        .and_then(|c| c.get("order_date"))
        .and_then(serde_json::Value::as_str)
        .and_then(|d| d.get(..10))
        .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
    match cxml {
        Some(d) => t(values::to_date(d)),
        None => El::empty(),
    }
}

fn write_header_amounts(out: &mut Out, inv: &Invoice) -> Result<(), EncodeError> {
    let e = &inv.extensions;
    for (k, tax) in inv.taxes.iter().enumerate() {
        common::write_tax(
            out,
            tax,
            &format!("$.taxes[{k}]"),
            Kept::item(e, "taxes", k),
        )?;
    }
    if let Some(tax) = tax_total_alone(inv) {
        common::write_tax(out, &tax, "$.tax_total", Kept::none())?;
    }
    for (k, c) in inv.charges.iter().enumerate() {
        let kept = Kept::item(e, "charges", k);
        common::write_charge(out, c, &format!("$.charges[{k}]"), kept)?;
    }
    Ok(())
}

/// TXI01 of the TXI that carries an invoice's `tax_total` alone: `TX`, all taxes.
const ALL_TAXES: &str = "TX";

/// The tax an invoice's `tax_total` is when no tax of the invoice or its lines carries it (a
/// cXML header `<Tax>` without `<TaxDetail>`): one TXI*TX with that amount, so the money the
/// TDS total holds comes back from X12 as a tax. A zero total is no tax to write.
fn tax_total_alone(inv: &Invoice) -> Option<gateway_model::Tax> {
    let amount = inv.tax_total.filter(|t| !t.is_zero())?;
    if !inv.taxes.is_empty() || inv.lines.iter().any(|l| !l.taxes.is_empty()) {
        return None;
    }
    Some(gateway_model::Tax {
        amount: Some(amount),
        category: Some(ALL_TAXES.into()),
        ..gateway_model::Tax::default()
    })
}
