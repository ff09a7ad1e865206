//! Canonical [`Invoice`] → `InvoiceDetailRequest`, elements in InvoiceDetail.dtd order.

use gateway_core::{EncodeError, PartnerProfile};
use gateway_model::{Charge, ChargeKind, Invoice, InvoiceLine, Party};
use rust_decimal::Decimal;
use serde_json::Value;

use super::writer::Xml;
use super::{
    Dtd, PartyKept, SHIP_FROM, begin, carried_extrinsics, comments, contact, cxml_ext, date_time,
    description, elements, end, ext_str, extrinsics, id_references, invoice_envelope, kept_parties,
    line_descriptions, money, money_in, tax_description, tax_details, tax_sum, timestamp,
};
use crate::carried;
use crate::decode::invoice_purpose_wire;

/// Roles written in `InvoiceDetailShipping` rather than `InvoicePartner` (when there are two
/// parties or more to write there: see [`header`]).
const SHIPPING_ROLES: [&str; 3] = [SHIP_FROM, "shipTo", "carrierCorporate"];

/// Writes one invoice as a complete cXML InvoiceDetailRequest document.
pub fn encode_invoice(inv: &Invoice, partner: &PartnerProfile) -> Result<Vec<u8>, EncodeError> {
    let mut env = invoice_envelope(partner)?;
    env.payload_id = super::ext_str(&inv.extensions, super::PAYLOAD_ID);
    let cur = super::required_currency(inv.currency.as_deref())?;
    let extra = kept_parties(&inv.extensions)?;
    let shipment = Shipment::of(inv, &extra);
    let sums = SummarySums::of(inv)?;
    let mut x = Xml::new();
    begin(&mut x, Dtd::InvoiceDetail, &env);
    x.open("InvoiceDetailRequest", &[]);
    header(&mut x, inv, &extra, &sums.marks)?;
    orders(&mut x, inv, cur, &shipment)?;
    summary(&mut x, inv, cur, &sums)?;
    x.close("InvoiceDetailRequest");
    end(&mut x);
    x.finish().map_err(|m| EncodeError::Invalid {
        path: "$".into(),
        message: m,
    })
}

/// The summary's `SubtotalAmount` and `Tax/Money`, which InvoiceDetail.dtd requires and which
/// an empty `Money` does not give (it is no amount a receiver can read): the invoice's own,
/// else the sums that stand in for them ([`Invoice::lines_total`],
/// [`carried::taxes_total`]), each marked by a header Extrinsic so that it reads back as none.
struct SummarySums {
    subtotal: Decimal,
    tax: Decimal,
    /// `(name, value)` of the header Extrinsics marking the sums the writer made.
    marks: Vec<(&'static str, &'static str)>,
}

impl SummarySums {
    /// Refused when a stand-in is not known, at what is missing: a line without an amount
    /// (nor quantity and unit price), a tax without an amount.
    fn of(inv: &Invoice) -> Result<Self, EncodeError> {
        let mut marks = Vec::new();
        let subtotal = match inv.subtotal {
            Some(s) => s,
            None => {
                marks.push((carried::SUBTOTAL_SOURCE, carried::FROM_LINES));
                inv.lines_total().ok_or_else(|| {
                    match inv.lines.iter().position(|l| l.extended_amount().is_none()) {
                        Some(i) => EncodeError::Invalid {
                            path: format!("$.lines[{i}].amount"),
                            message: "the invoice has no subtotal, and this line no amount (nor \
                                      quantity and unit price) to add up to one; \
                                      InvoiceDetail.dtd requires the summary's SubtotalAmount: \
                                      give the invoice its subtotal or the line its amount"
                                .into(),
                        },
                        None => EncodeError::Invalid {
                            path: "$.subtotal".into(),
                            message: "the invoice has no subtotal, and its lines' amounts add \
                                      up to more than a decimal holds; give the invoice its \
                                      subtotal"
                                .into(),
                        },
                    }
                })?
            }
        };
        let tax = match inv.tax_total {
            Some(t) => t,
            None => {
                marks.push((carried::TAX_TOTAL_SOURCE, carried::FROM_TAXES));
                carried::taxes_total(inv).map_err(|path| EncodeError::Invalid {
                    message: if path == "$.taxes" {
                        "the invoice has no tax_total, and its taxes' amounts add up to more \
                         than a decimal holds; give the invoice its tax_total"
                    } else {
                        "the invoice has no tax_total, and this tax no amount to add up to \
                         one; InvoiceDetail.dtd requires the summary's Tax/Money: give the \
                         invoice its tax_total or the tax its amount"
                    }
                    .into(),
                    path,
                })?
            }
        };
        Ok(SummarySums {
            subtotal,
            tax,
            marks,
        })
    }
}

/// `InvoiceDetailRequestHeader`. `invoiceDate` is required (`%datetime.tz; #REQUIRED`) and is
/// the invoice's own date (payment terms run from it): an invoice without one is refused at
/// `$.invoice_date`, not dated by the writer. `marks`: the header Extrinsics of the summary's
/// sums ([`SummarySums`]).
fn header(
    x: &mut Xml,
    inv: &Invoice,
    extra: &[(String, Party)],
    marks: &[(&'static str, &'static str)],
) -> Result<(), EncodeError> {
    let date = inv
        .invoice_date
        .map(|d| timestamp(d, ext_str(&inv.extensions, "invoice_date")))
        .ok_or_else(|| EncodeError::Invalid {
            path: "$.invoice_date".into(),
            message: "an InvoiceDetailRequest needs the invoice date \
                      (InvoiceDetailRequestHeader@invoiceDate is required); add invoice_date"
                .into(),
        })?;
    // No purpose stays no purpose: the DTD's default (`standard`) is what a reader assumes, and
    // writing it would make a document that had none read back as standard.
    let purpose =
        ext_str(&inv.extensions, "purpose").or_else(|| inv.purpose.map(invoice_purpose_wire));
    x.open(
        "InvoiceDetailRequestHeader",
        &[
            (
                "invoiceID",
                Some(inv.invoice_number.as_deref().unwrap_or("")),
            ),
            ("purpose", purpose),
            (
                "operation",
                Some(ext_str(&inv.extensions, "operation").unwrap_or("new")),
            ),
            ("invoiceDate", Some(date.as_str())),
        ],
    );
    x.empty("InvoiceDetailHeaderIndicator", &[]);
    let yes = |b: bool| b.then_some("yes");
    let line_kind = |k: ChargeKind| {
        inv.lines
            .iter()
            .any(|l| l.charges.iter().any(|c| c.kind == k))
    };
    x.empty(
        "InvoiceDetailLineIndicator",
        &[
            (
                "isTaxInLine",
                yes(inv.lines.iter().any(|l| !l.taxes.is_empty())),
            ),
            (
                "isSpecialHandlingInLine",
                yes(line_kind(ChargeKind::Handling)),
            ),
            (
                "isShippingInLine",
                yes(inv.lines.iter().any(writes_line_shipping)),
            ),
            ("isDiscountInLine", yes(line_kind(ChargeKind::Discount))),
        ],
    );
    // (role, party, its canonical field when it has one: for what was kept of it)
    let mut partners: Vec<(&str, &Party, Option<&str>)> = Vec::new();
    for (role, field, p) in [
        ("from", "supplier", &inv.supplier),
        ("soldTo", "buyer", &inv.buyer),
        ("billTo", "bill_to", &inv.bill_to),
        ("remitTo", "remit_to", &inv.remit_to),
    ] {
        if let Some(p) = p {
            partners.push((role, p, Some(field)));
        }
    }
    for (role, p) in extra {
        if !SHIPPING_ROLES.contains(&role.as_str()) {
            partners.push((role.as_str(), p, None));
        }
    }
    let kept = |field: Option<&str>| {
        field
            .map(|f| PartyKept::of(&inv.extensions, f))
            .unwrap_or_default()
    };
    let mut shipping = header_shipping(inv, extra);
    // `InvoiceDetailShipping (Contact, Contact+, ...)` holds two parties or more (ship-from and
    // ship-to). One alone (the ship-to of an X12 or CSV invoice) is an InvoicePartner instead:
    // the reader takes a role from either, and a second Contact made up for the DTD would read
    // back as a party the invoice does not have.
    if shipping.len() == 1 {
        partners.append(&mut shipping);
    }
    for (role, p, field) in partners {
        x.open("InvoicePartner", &[]);
        contact(x, role, p, false, &kept(field));
        id_references(x, p);
        x.close("InvoicePartner");
    }
    original_invoice(x, inv);
    if !shipping.is_empty() {
        let date = shipping_date(&inv.extensions)?;
        x.open(
            "InvoiceDetailShipping",
            &[("shippingDate", date.as_deref())],
        );
        for (role, p, field) in shipping {
            contact(x, role, p, true, &kept(field));
        }
        x.close("InvoiceDetailShipping");
    }
    // Terms without days have no valid PaymentTerm: their description goes in the header
    // Extrinsic Coupa reads a payment term code from (see `order::payment_terms`).
    let terms = super::order::payment_terms(x, inv.payment_terms.as_ref(), &inv.extensions)?;
    let terms = super::order::payment_terms_carried(&inv.extensions, terms)?;
    comments(x, inv.comments.as_deref(), &inv.extensions);
    extrinsics(x, &inv.extensions);
    // The summary's SpecialHandlingAmount has a Description; ShippingAmount and the discount
    // do not.
    carried_extrinsics(
        x,
        carried::charge_descriptions(&inv.charges, &[ChargeKind::Handling])
            .chain(terms.iter().map(|(n, v)| (*n, v.as_str())))
            .chain(marks.iter().copied()),
    );
    x.close("InvoiceDetailRequestHeader");
    Ok(())
}

/// A shipping party of the header: its role, the party, and its canonical field when it has
/// one (for what was kept of it).
type ShippingParty<'a> = (&'a str, &'a Party, Option<&'static str>);

/// The parties of the header's `InvoiceDetailShipping` (roles [`SHIPPING_ROLES`]): the kept
/// ones, the model's ship-to among them. The reader takes the first shipTo contact for the
/// model's ship-to and keeps a second one (a source may have had one in InvoicePartner and one
/// here) in the extensions: the model's goes before the kept one, so each is read back where
/// it was.
fn header_shipping<'a>(inv: &'a Invoice, extra: &'a [(String, Party)]) -> Vec<ShippingParty<'a>> {
    let kept_shipping = |shipto: bool| {
        extra
            .iter()
            .filter(move |(r, _)| SHIPPING_ROLES.contains(&r.as_str()) && (r == "shipTo") == shipto)
            .map(|(r, p)| (r.as_str(), p, None))
    };
    let mut shipping: Vec<ShippingParty<'a>> = kept_shipping(false).collect();
    if let Some(p) = &inv.ship_to {
        shipping.push(("shipTo", p, Some("ship_to")));
    }
    shipping.extend(kept_shipping(true));
    shipping
}

/// Whether the header has an `InvoiceDetailShipping` (two shipping parties or more, see
/// [`header`]), the one place of the invoice's ship date (`shippingDate`); `crate::left_out`
/// names a ship date when there is none.
pub(crate) fn writes_header_shipping(inv: &Invoice) -> bool {
    kept_parties(&inv.extensions).is_ok_and(|extra| header_shipping(inv, &extra).len() > 1)
}

/// `InvoiceDetailShipping@shippingDate` (`%datetime.tz;`): the ship date cXML kept
/// (`extensions.cxml.shipping_date`, see `decode::invoice`: a date alone is written as
/// [`date_time`] writes one, any other text as it came), else X12's (`extensions.x12.ship_date`,
/// an 810's `DTM*011`) as [`date_time`]. An X12 one that is no date is refused with its path,
/// not dropped.
fn shipping_date(e: &gateway_model::Extensions) -> Result<Option<String>, EncodeError> {
    let as_date = |t: &str| chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d").ok();
    if let Some(text) = ext_str(e, SHIPPING_DATE) {
        return Ok(Some(
            as_date(text).map_or_else(|| text.to_string(), date_time),
        ));
    }
    let Some(v) = e
        .get("x12")
        .and_then(|x| x.get(X12_SHIP_DATE))
        .filter(|v| !v.is_null())
    else {
        return Ok(None);
    };
    v.as_str()
        .and_then(as_date)
        .map(|d| Some(date_time(d)))
        .ok_or_else(|| EncodeError::Invalid {
            path: format!("$.extensions.x12.{X12_SHIP_DATE}"),
            message: format!("the ship date is a date written YYYY-MM-DD (X12 DTM*011), not {v}"),
        })
}

/// The key of the ship date cXML's reader keeps (`extensions.cxml.shipping_date`).
pub(crate) const SHIPPING_DATE: &str = "shipping_date";

/// The key of the ship date X12's reader keeps (`extensions.x12.ship_date`, an 810's
/// `DTM*011`).
pub(crate) const X12_SHIP_DATE: &str = "ship_date";

/// `InvoiceIDInfo`: the invoice a memo corrects. Kept from a cXML source (`original_invoice_id`,
/// `original_invoice_date`), it is written as it came; either alone is still written (a memo
/// whose InvoiceIDInfo gave only the date keeps it: invoiceID is required by the DTD, so it is
/// written empty then, and read as absent). Otherwise it is what another format's reader kept
/// ([`gateway_core::original_invoice`]: X12 `REF*OI`, CSV `Original Invoice Number`/`Date`).
fn original_invoice(x: &mut Xml, inv: &Invoice) {
    let id = ext_str(&inv.extensions, "original_invoice_id");
    let date = ext_str(&inv.extensions, "original_invoice_date");
    if id.is_some() || date.is_some() {
        x.empty(
            "InvoiceIDInfo",
            &[("invoiceID", Some(id.unwrap_or(""))), ("invoiceDate", date)],
        );
        return;
    }
    let other = gateway_core::original_invoice(inv);
    let date = other.date.map(date_time);
    if let Some(id) = other.number {
        x.empty(
            "InvoiceIDInfo",
            &[("invoiceID", Some(id)), ("invoiceDate", date.as_deref())],
        );
    }
}

/// What makes an `InvoiceDetailOrder`: the PO and the other elements of its
/// `InvoiceDetailOrderInfo` (kept per line in `order_info`).
type OrderKey<'a> = (Option<&'a str>, Option<&'a Value>);

/// One `InvoiceDetailOrder`: its key and its lines with their index in the invoice.
type OrderGroup<'a> = (OrderKey<'a>, Vec<(usize, &'a InvoiceLine)>);

/// Lines grouped into `InvoiceDetailOrder`s by the PO they bill and the rest of their order's
/// info (consecutive runs).
fn orders(
    x: &mut Xml,
    inv: &Invoice,
    cur: &str,
    shipment: &Shipment<'_>,
) -> Result<(), EncodeError> {
    let header_po = inv.po_number.as_deref();
    let mut groups: Vec<OrderGroup<'_>> = Vec::new();
    for (i, l) in inv.lines.iter().enumerate() {
        // The line's PO; an older document on the bus has it in `extensions.cxml.po_number`.
        let po = l
            .po_number
            .as_deref()
            .or_else(|| ext_str(&l.extensions, "po_number"))
            .or(header_po);
        // Kept elements that write nothing (an empty list from JSON) are none: an
        // `InvoiceDetailOrderInfo` needs an element.
        let info = cxml_ext(&l.extensions)
            .and_then(|c| c.get("order_info"))
            .filter(|v| v.as_array().is_some_and(|a| a.iter().any(is_element)));
        let key = (po, info);
        match groups.last_mut() {
            Some((g, lines)) if *g == key => lines.push((i, l)),
            _ => groups.push((key, vec![(i, l)])),
        }
    }
    if groups.is_empty() {
        // `InvoiceDetailOrder (InvoiceDetailOrderInfo, ..., (InvoiceDetailItem |
        // InvoiceDetailServiceItem)+)`: an invoice of no line has no valid order.
        return Err(EncodeError::Invalid {
            path: "$.lines".into(),
            message: "an InvoiceDetailRequest needs at least one line (InvoiceDetailOrder \
                      holds one InvoiceDetailItem or InvoiceDetailServiceItem or more); add the \
                      invoice's lines"
                .into(),
        });
    }
    for ((po, info), lines) in groups {
        x.open("InvoiceDetailOrder", &[]);
        x.open("InvoiceDetailOrderInfo", &[]);
        match po {
            Some(po) => {
                // The invoice's PO's date (X12 BIG03, or cXML's own), on its order only.
                let date = (Some(po) == header_po).then(|| order_date(inv)).flatten();
                x.open(
                    "OrderReference",
                    &[("orderID", Some(po)), ("orderDate", date.as_deref())],
                );
                x.empty("DocumentReference", &[("payloadID", Some(po))]);
                x.close("OrderReference");
            }
            // The DTD allows a MasterAgreementReference (or ...IDInfo) alone.
            None if info.is_some() => {}
            None => x.empty("OrderIDInfo", &[("orderID", Some(""))]),
        }
        // MasterAgreementReference, MasterAgreementIDInfo, SupplierOrderInfo: after the
        // order's reference in each of the DTD's choices.
        elements(x, info);
        x.close("InvoiceDetailOrderInfo");
        for (i, l) in lines {
            line(x, i, l, cur, shipment)?;
        }
        x.close("InvoiceDetailOrder");
    }
    Ok(())
}

/// The date of the PO an invoice bills, for `OrderReference@orderDate`: as cXML kept it
/// (`extensions.cxml.order_date`), else X12's BIG03 (`extensions.x12.elements.BIG03`,
/// `CCYYMMDD`) as an ISO 8601 date.
fn order_date(inv: &Invoice) -> Option<String> {
    if let Some(d) = ext_str(&inv.extensions, "order_date") {
        return Some(d.to_string());
    }
    let big03 = inv
        .extensions
        .get("x12")?
        .get("elements")?
        .get("BIG03")?
        .as_str()?;
    let d = chrono::NaiveDate::parse_from_str(big03, "%Y%m%d").ok()?;
    Some(d.format("%Y-%m-%d").to_string())
}

fn one_of<'c>(
    charges: &'c [Charge],
    kind: ChargeKind,
    path: &str,
) -> Result<Option<&'c Charge>, EncodeError> {
    let mut it = charges.iter().filter(|c| c.kind == kind);
    let first = it.next();
    if it.next().is_some() {
        return Err(EncodeError::Invalid {
            path: path.to_string(),
            message: format!("cXML carries one {kind:?} charge here; found several"),
        });
    }
    Ok(first)
}

fn no_other(charges: &[Charge], path: &str) -> Result<(), EncodeError> {
    if let Some(i) = charges.iter().position(|c| c.kind == ChargeKind::Other) {
        return Err(EncodeError::Invalid {
            path: format!("{path}[{i}]"),
            message: "cXML invoices carry shipping, handling and discount charges; a charge of \
                      kind other has no element"
                .into(),
        });
    }
    Ok(())
}

fn discount(x: &mut Xml, c: &Charge, cur: &str) {
    let rate = c.rate.map(|r| r.to_string());
    x.open(
        "InvoiceDetailDiscount",
        &[("percentageRate", rate.as_deref())],
    );
    money(x, cur, c.amount);
    x.close("InvoiceDetailDiscount");
}

fn line(
    x: &mut Xml,
    i: usize,
    l: &InvoiceLine,
    cur: &str,
    shipment: &Shipment<'_>,
) -> Result<(), EncodeError> {
    let path = format!("$.lines[{i}].charges");
    no_other(&l.charges, &path)?;
    let service = is_service(l);
    // `InvoiceDetailServiceItem` has no InvoiceDetailLineShipping or
    // InvoiceDetailLineSpecialHandling (InvoiceDetailItem's only).
    if service
        && let Some(j) = l
            .charges
            .iter()
            .position(|c| matches!(c.kind, ChargeKind::Shipping | ChargeKind::Handling))
    {
        return Err(EncodeError::Invalid {
            path: format!("{path}[{j}]"),
            message: "a cXML InvoiceDetailServiceItem has no line shipping or special handling \
                      (InvoiceDetailLineShipping and InvoiceDetailLineSpecialHandling belong to \
                      InvoiceDetailItem); put the charge on the invoice's charges"
                .into(),
        });
    }
    // A source's line number that is not a whole number ("A1") is written back as it was.
    let number = match ext_str(&l.extensions, "invoice_line_number") {
        Some(n) => n.to_string(),
        None => l.line_number.to_string(),
    };
    let qty = l.quantity.map(|q| gateway_model::decimal_text(q, '.'));
    let uom = l.uom.as_deref().filter(|u| !u.trim().is_empty());
    // `InvoiceDetailItem (UnitOfMeasure, UnitPrice, ...)` with `quantity` required; a service
    // item's quantity is optional and so is its `(UnitOfMeasure, UnitPrice, ...)` group.
    let need = |field: &str, message: &str| EncodeError::Invalid {
        path: format!("$.lines[{i}].{field}"),
        message: message.to_string(),
    };
    if !service && qty.is_none() {
        return Err(need(
            "quantity",
            "cXML InvoiceDetailItem requires quantity and the line has none; add the line's \
             quantity (a line billed by amount alone is a service line: extensions.cxml.service)",
        ));
    }
    if uom.is_none() && (!service || l.unit_price.is_some()) {
        return Err(need(
            "uom",
            "cXML requires a UnitOfMeasure (a UN/CEFACT code such as EA, BX, HUR) on an \
             InvoiceDetailItem and beside a service line's unit price, and the line has none; \
             add the line's uom",
        ));
    }
    let (name, reference) = if service {
        (
            "InvoiceDetailServiceItem",
            "InvoiceDetailServiceItemReference",
        )
    } else {
        ("InvoiceDetailItem", "InvoiceDetailItemReference")
    };
    x.open(
        name,
        &[
            ("invoiceLineNumber", Some(number.as_str())),
            ("quantity", qty.as_deref()),
        ],
    );
    if !service {
        x.leaf("UnitOfMeasure", &[], uom.unwrap_or_default());
        money_in(x, "UnitPrice", cur, l.unit_price);
    }
    // `lineNumber` (the PO line) is required: empty for a line that names none, which the
    // reader reads as none.
    x.open(
        reference,
        &[(
            "lineNumber",
            Some(l.po_line_number.as_deref().unwrap_or("")),
        )],
    );
    let aux = ext_str(&l.extensions, "supplier_part_auxiliary_id");
    if l.supplier_part_id.is_some() || l.buyer_part_id.is_some() || aux.is_some() {
        x.open("ItemID", &[]);
        x.leaf(
            "SupplierPartID",
            &[],
            l.supplier_part_id.as_deref().unwrap_or(""),
        );
        if let Some(a) = aux {
            x.leaf("SupplierPartAuxiliaryID", &[], a);
        }
        if let Some(b) = &l.buyer_part_id {
            x.leaf("BuyerPartID", &[], b);
        }
        x.close("ItemID");
    }
    line_descriptions(x, l.description.as_deref(), &l.extensions, false);
    // `(ManufacturerPartID, ManufacturerName)?`: both or neither; the half not known is
    // written empty, which the reader reads as absent.
    let part = ext_str(&l.extensions, "manufacturer_part_id");
    let maker = ext_str(&l.extensions, "manufacturer_name");
    if part.is_some() || maker.is_some() {
        x.leaf("ManufacturerPartID", &[], part.unwrap_or(""));
        x.leaf(
            "ManufacturerName",
            &[("xml:lang", Some("en"))],
            maker.unwrap_or(""),
        );
    }
    x.close(reference);
    money_in(x, "SubtotalAmount", cur, l.amount);
    if let Some(uom) = uom.filter(|_| service) {
        x.leaf("UnitOfMeasure", &[], uom);
        money_in(x, "UnitPrice", cur, l.unit_price);
    }
    let tax_text = tax_description(&l.extensions);
    if !l.taxes.is_empty() || tax_text.is_some() {
        x.open("Tax", &[]);
        money(x, cur, tax_sum(&l.taxes));
        description(x, tax_text);
        tax_details(x, cur, &l.taxes, &l.extensions);
        x.close("Tax");
    }
    if let Some(h) = one_of(&l.charges, ChargeKind::Handling, &path)? {
        x.open("InvoiceDetailLineSpecialHandling", &[]);
        if let Some(d) = &h.description {
            description(x, Some(d));
        }
        money(x, cur, h.amount);
        x.close("InvoiceDetailLineSpecialHandling");
    }
    // The line's own ship-to and ship-from (cXML's, else an X12 line's `N1*ST`, `N1*SF`):
    // InvoiceDetail.dtd's one place for them is its shipping (`InvoiceDetailItem` has no
    // `ShipTo`). A service line has no line shipping: its parties are left out (see
    // `crate::left_out`).
    let line_path = format!("$.lines[{i}]");
    let (ship_to, ship_from) = match service {
        true => (None, None),
        false => (
            super::line_ship_to(&l.extensions, &line_path)?,
            super::line_ship_from(&l.extensions, &line_path)?,
        ),
    };
    let shipping = one_of(&l.charges, ChargeKind::Shipping, &path)?;
    if shipping.is_some() || ship_to.is_some() || ship_from.is_some() {
        // `InvoiceDetailLineShipping (InvoiceDetailShipping, Money, Distribution*)`: a line
        // shipped to or from its own address without a shipping charge of its own charges
        // nothing (`Money` is required), marked so that it reads back as no charge.
        x.open("InvoiceDetailLineShipping", &[]);
        shipment.write(x, ship_to.as_ref(), ship_from.as_ref());
        match shipping {
            Some(s) => money(x, cur, s.amount),
            None => money(x, cur, Some(Decimal::new(0, 2))),
        }
        x.close("InvoiceDetailLineShipping");
    }
    if let Some(d) = one_of(&l.charges, ChargeKind::Discount, &path)? {
        discount(x, d, cur);
    }
    // cXML's comments, else those of an X12 line: both item kinds end `Comments?, ...,
    // Extrinsic*`.
    comments(
        x,
        super::line_comments(&l.extensions, &line_path)?,
        &l.extensions,
    );
    extrinsics(x, &l.extensions);
    // InvoiceDetailLineSpecialHandling has a Description; the line's shipping and discount
    // do not.
    let parties_only = match (shipping, &ship_to, &ship_from) {
        (Some(_), _, _) | (None, None, None) => None,
        (None, Some(_), _) => Some(carried::FOR_SHIP_TO),
        (None, None, Some(_)) => Some(carried::FOR_SHIP_FROM),
    };
    let ship_to_only = parties_only.map(|v| (carried::SHIPPING_WITHOUT_CHARGE, v));
    carried_extrinsics(
        x,
        carried::charge_descriptions(&l.charges, &[ChargeKind::Handling]).chain(ship_to_only),
    );
    x.close(name);
    Ok(())
}

/// The parties of the invoice's shipment, for the `InvoiceDetailShipping` a line's shipping
/// charge holds: the ship-from kept in the extensions (the model has no field for it: cXML's,
/// else X12's, see [`parties_kept`]) and the ship-to.
struct Shipment<'a> {
    from: Option<&'a Party>,
    to: Option<&'a Party>,
    to_kept: PartyKept<'a>,
}

impl<'a> Shipment<'a> {
    fn of(inv: &'a Invoice, extra: &'a [(String, Party)]) -> Self {
        let kept = |role: &str| extra.iter().find(|(r, _)| r == role).map(|(_, p)| p);
        Shipment {
            from: kept(SHIP_FROM),
            to: inv.ship_to.as_ref().or_else(|| kept("shipTo")),
            to_kept: match inv.ship_to {
                Some(_) => PartyKept::of(&inv.extensions, "ship_to"),
                None => PartyKept::default(),
            },
        }
    }

    /// `InvoiceDetailShipping (Contact, Contact+, ...)` of a line: ship-from and ship-to, the
    /// line's own ship-to and ship-from (`own`, `own_from`, with what was kept of each) in
    /// place of the invoice's, and a `Contact` of an empty `Name` for either that is not
    /// known. The reader takes a ship-to or ship-from that is neither the invoice's nor the
    /// empty stand-in as the line's own (`extensions.cxml.ship_to`, `.ship_from`).
    fn write(
        &self,
        x: &mut Xml,
        own: Option<&(Party, PartyKept<'_>)>,
        own_from: Option<&(Party, PartyKept<'_>)>,
    ) {
        let unknown = Party::default();
        x.open("InvoiceDetailShipping", &[]);
        match own_from {
            Some((p, kept)) => contact(x, SHIP_FROM, p, true, kept),
            None => contact(
                x,
                SHIP_FROM,
                self.from.unwrap_or(&unknown),
                true,
                &PartyKept::default(),
            ),
        }
        match own {
            Some((p, kept)) => contact(x, "shipTo", p, true, kept),
            None => contact(
                x,
                "shipTo",
                self.to.unwrap_or(&unknown),
                true,
                &self.to_kept,
            ),
        }
        x.close("InvoiceDetailShipping");
    }
}

/// Whether a line is a service line (`InvoiceDetailServiceItem`, `extensions.cxml.service`).
pub(crate) fn is_service(l: &InvoiceLine) -> bool {
    cxml_ext(&l.extensions)
        .and_then(|c| c.get("service"))
        .and_then(serde_json::Value::as_bool)
        .unwrap_or(false)
}

/// Whether a line gets an `InvoiceDetailLineShipping` ([`line`]): a shipping charge, or a
/// ship-to or ship-from of its own, on an `InvoiceDetailItem` (a service item has no line
/// shipping). The header's `isShippingInLine` says so.
fn writes_line_shipping(l: &InvoiceLine) -> bool {
    !is_service(l)
        && (l.charges.iter().any(|c| c.kind == ChargeKind::Shipping)
            || super::line_field(&l.extensions, super::LINE_SHIP_TO).is_some()
            || super::line_field(&l.extensions, super::LINE_SHIP_FROM).is_some())
}

/// Whether `v` is element JSON that [`elements`] writes (an object naming an element).
fn is_element(v: &Value) -> bool {
    v.get("element")
        .and_then(Value::as_str)
        .is_some_and(crate::reader::is_xml_name)
}

fn summary(x: &mut Xml, inv: &Invoice, cur: &str, sums: &SummarySums) -> Result<(), EncodeError> {
    no_other(&inv.charges, "$.charges")?;
    x.open("InvoiceDetailSummary", &[]);
    money_in(x, "SubtotalAmount", cur, Some(sums.subtotal));
    x.open("Tax", &[]);
    money(x, cur, Some(sums.tax));
    description(x, tax_description(&inv.extensions));
    tax_details(x, cur, &inv.taxes, &inv.extensions);
    x.close("Tax");
    if let Some(h) = summary_charge(inv, ChargeKind::Handling)? {
        x.open("SpecialHandlingAmount", &[]);
        money(x, cur, h.amount);
        if let Some(d) = &h.description {
            description(x, Some(d));
        }
        x.close("SpecialHandlingAmount");
    }
    if let Some(s) = summary_charge(inv, ChargeKind::Shipping)? {
        money_in(x, "ShippingAmount", cur, s.amount);
    }
    if let Some(d) = summary_charge(inv, ChargeKind::Discount)? {
        discount(x, &d, cur);
    }
    money_in(x, "NetAmount", cur, inv.total);
    if inv.total.is_some() {
        money_in(x, "DueAmount", cur, inv.total);
    }
    x.close("InvoiceDetailSummary");
    Ok(())
}

/// The summary's charge of `kind` (`ShippingAmount`, `SpecialHandlingAmount`,
/// `InvoiceDetailDiscount`). cXML's summary amount is the invoice's total of the kind, as its
/// `Tax` is: the invoice's own charge plus its lines' (a discount's counted positive), which
/// the reader takes back apart. The invoice's own charge gives the rate and description. Without
/// one, what the reader kept of the source's summary (`extensions.cxml.summary_<kind>`) does:
/// its rate and description, and its amount while that is still less than the lines' sum (the
/// source's summary that fell short of its lines, written back as it came). `None` when neither
/// the invoice nor its lines have a charge of the kind.
fn summary_charge(inv: &Invoice, kind: ChargeKind) -> Result<Option<Charge>, EncodeError> {
    let own = one_of(&inv.charges, kind, "$.charges")?;
    let in_lines = crate::decode::lines_sum(&inv.lines, kind).map_err(|()| too_large(kind))?;
    let kept = cxml_ext(&inv.extensions)
        .and_then(|c| c.get(crate::decode::summary_key(kind)))
        .and_then(Value::as_object);
    let kept_text = |key: &str| kept.and_then(|m| m.get(key)).and_then(Value::as_str);
    let kept_decimal = |key: &str| kept_text(key).and_then(|t| t.trim().parse::<Decimal>().ok());
    let signed = |a: Decimal| {
        if kind == ChargeKind::Discount {
            a.abs()
        } else {
            a
        }
    };
    let charge = match (own, in_lines) {
        (None, None) => return Ok(None),
        (Some(c), None) => c.clone(),
        (Some(c), Some(lines)) => {
            let amount = match c.amount {
                Some(a) => signed(a)
                    .checked_add(lines)
                    .ok_or_else(|| too_large(kind))?,
                None => lines,
            };
            Charge {
                amount: Some(amount),
                ..c.clone()
            }
        }
        (None, Some(lines)) => {
            let short = kept_decimal("amount").filter(|k| {
                k.checked_sub(lines)
                    .is_some_and(|own| crate::decode::falls_short(own, lines))
            });
            Charge {
                kind,
                amount: Some(short.unwrap_or(lines)),
                rate: kept_decimal("rate"),
                category: None,
                description: kept_text("description").map(gateway_model::Text::from),
                code: None,
            }
        }
    };
    Ok(Some(charge))
}

fn too_large(kind: ChargeKind) -> EncodeError {
    EncodeError::Invalid {
        path: "$.charges".into(),
        message: format!(
            "the invoice's and its lines' {kind:?} charges add up to more than a decimal holds"
        ),
    }
}
