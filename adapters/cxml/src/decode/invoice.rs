//! `InvoiceDetailRequest` → canonical [`Invoice`] (mapping table in CANONICAL.md).
//!
//! Where the model has no field, the value goes to `extensions.cxml` so a round trip keeps it:
//! `operation` (when not `new`), the raw `purpose` (when it is not the canonical spelling), the
//! ship date (`shipping_date`, the header `InvoiceDetailShipping@shippingDate`, see
//! [`shipping_date`]), the
//! invoice a memo corrects (`original_invoice_id`, `original_invoice_date` from `InvoiceIDInfo`),
//! the `invoiceDate` text when it is more than its date (`invoice_date`, see
//! [`kept_timestamp`]), parties in roles the model has no slot for (`parties.<role>`), what the
//! cXML of the parties in slots holds beyond them ([`PartiesKept`]: `PostalAddress`
//! Extrinsics, country names, phone country codes), elements inside `Comments`
//! (`comments_elements`), what a `Tax` holds beyond the taxes ([`TaxRead`]), Extrinsics,
//! the `PaymentTerm`s beyond the model's discount tier and net term (`payment_terms`, see
//! [`payment_terms`]); and per line the other elements of its `InvoiceDetailOrderInfo`
//! (`order_info`: `MasterAgreementReference`, ...),
//! an `invoiceLineNumber` that is not a whole number (`invoice_line_number`; `line_number` is
//! then the ordinal), service-item flag, auxiliary part id, manufacturer part id and name,
//! the description's `ShortName` and further `Description`s, tax extras, comments and
//! Extrinsics, and the line's own ship-to (`ship_to`, and what [`PartiesKept`] keeps of it
//! under `.ship_to`, as for an order line) and ship-from (`ship_from`, the same way): the
//! `shipTo` and `shipFrom` `Contact`s of its `InvoiceDetailLineShipping`, when they are not
//! the invoice's (see [`own_party`]).
//!
//! A summary `DepositAmount` other than zero is refused at its element ([`no_deposit`]): the
//! model and Coupa have no deposit, and the invoice would be paid in full.

use gateway_model::{Charge, ChargeKind, Invoice, InvoiceLine, InvoicePurpose, Party, Text};
use rust_decimal::Decimal;
use serde_json::{Map, Value};

use super::common::{
    Ext, PartiesKept, TaxRead, amount_in, attr_date, attr_decimal, comments, extended, extrinsics,
    id_references, invoice_payment_terms, kept_timestamp, line_description, money_in, party,
    payment_terms, postal_of, preferred, read_tax, text_of, unread_children,
};
use crate::carried;
use crate::error::CxmlError;
use crate::reader::Node;

/// Roles of `InvoicePartner/Contact` that fill the supplier slot, in order of preference: the
/// party in the first role present fills it, wherever it stands in the document (a
/// `supplierCorporate` parent listed before the invoicing `from` stays a kept party). `from`,
/// the writer's role for the supplier, comes first, so a written supplier reads back as one.
const SUPPLIER_ROLES: [&str; 5] = [
    "from",
    "invoiceFrom",
    "issuerOfInvoice",
    "billFrom",
    "supplierCorporate",
];
/// Roles that fill the buyer slot, in order of preference (`soldTo`, the writer's, first).
const BUYER_ROLES: [&str; 3] = ["soldTo", "buyer", "buyerCorporate"];

pub(crate) fn purpose_of(raw: &str) -> InvoicePurpose {
    match raw {
        "creditMemo" | "lineLevelCreditMemo" => InvoicePurpose::CreditMemo,
        "debitMemo" | "lineLevelDebitMemo" => InvoicePurpose::DebitMemo,
        _ => InvoicePurpose::Standard,
    }
}

/// The canonical spelling of a purpose on the wire.
pub(crate) fn purpose_wire(p: InvoicePurpose) -> &'static str {
    match p {
        InvoicePurpose::Standard => "standard",
        InvoicePurpose::CreditMemo => "creditMemo",
        InvoicePurpose::DebitMemo => "debitMemo",
    }
}

/// Maps one `InvoiceDetailRequest` element; what was read although it is not what cXML means
/// goes in `notes` (see [`own_charge`]).
pub(crate) fn invoice(req: Node<'_>, notes: &mut Vec<String>) -> Result<Invoice, CxmlError> {
    let header = req
        .child("InvoiceDetailRequestHeader")
        .ok_or_else(|| req.invalid("expected an InvoiceDetailRequestHeader element"))?;
    let mut inv = Invoice {
        invoice_number: header.attr_opt("invoiceID").map(Text::from),
        invoice_date: attr_date(header, "invoiceDate")?,
        ..Invoice::default()
    };
    let mut ext = Ext::default();
    ext.put_str(
        "invoice_date",
        kept_timestamp(header.attr_opt("invoiceDate"), inv.invoice_date),
    );
    if let Some(p) = header.attr_opt("purpose") {
        let purpose = purpose_of(p);
        inv.purpose = Some(purpose);
        if p != purpose_wire(purpose) {
            ext.put_str("purpose", Some(p));
        }
    }
    if let Some(op) = header.attr_opt("operation").filter(|o| *o != "new") {
        ext.put_str("operation", Some(op));
    }

    // Parties: InvoicePartner contacts by role, then InvoiceDetailShipping contacts.
    let mut others = Map::new();
    let mut kept = PartiesKept::default();
    let mut by_role: Vec<(String, Party, Node<'_>)> = Vec::new();
    for ip in header.children_named("InvoicePartner") {
        if let Some(c) = ip.child("Contact") {
            let mut p = party(c);
            id_references(ip, &mut p);
            by_role.push((c.attr("role").unwrap_or_default().to_string(), p, c));
        }
    }
    if let Some(ship) = header.child("InvoiceDetailShipping") {
        for c in ship.children_named("Contact") {
            let mut p = party(c);
            id_references(c, &mut p);
            by_role.push((c.attr("role").unwrap_or_default().to_string(), p, c));
        }
        ext.put_str(
            crate::encode::SHIPPING_DATE,
            shipping_date(ship.attr_opt("shippingDate")).as_deref(),
        );
    }
    let (supplier_at, buyer_at) = {
        let roles: Vec<&str> = by_role.iter().map(|(r, _, _)| r.as_str()).collect();
        (
            preferred(&roles, &SUPPLIER_ROLES),
            preferred(&roles, &BUYER_ROLES),
        )
    };
    for (i, (role, p, contact)) in by_role.into_iter().enumerate() {
        let (field, slot) = if Some(i) == supplier_at {
            ("supplier", &mut inv.supplier)
        } else if Some(i) == buyer_at {
            ("buyer", &mut inv.buyer)
        } else if SUPPLIER_ROLES.contains(&role.as_str()) || BUYER_ROLES.contains(&role.as_str()) {
            others.insert(role, serde_json::to_value(&p).unwrap_or(Value::Null));
            continue;
        } else {
            match role.as_str() {
                "billTo" => ("bill_to", &mut inv.bill_to),
                "remitTo" => ("remit_to", &mut inv.remit_to),
                "shipTo" => ("ship_to", &mut inv.ship_to),
                _ => {
                    others.insert(role, serde_json::to_value(&p).unwrap_or(Value::Null));
                    continue;
                }
            }
        };
        if slot.is_none() {
            kept.keep(field, contact, postal_of(contact), &p);
            *slot = Some(p);
        } else {
            others.insert(role, serde_json::to_value(&p).unwrap_or(Value::Null));
        }
    }
    // The invoice's ship-to and ship-from as the writer puts them in every line's shipping (the
    // model's ship-to, else the one kept; the ship-from kept): a line's `shipTo` or `shipFrom`
    // that is the invoice's is not a party of the line's own.
    let kept_party = |role: &str| -> Option<Party> {
        others
            .get(role)
            .and_then(|v| serde_json::from_value(v.clone()).ok())
    };
    let invoice_ship_to: Option<Party> = inv.ship_to.clone().or_else(|| kept_party("shipTo"));
    let invoice_ship_from: Option<Party> = kept_party("shipFrom");
    ext.put("parties", Value::Object(others));
    kept.put(&mut ext);
    // The invoice a credit or debit memo corrects.
    if let Some(orig) = header.child("InvoiceIDInfo") {
        ext.put_str("original_invoice_id", orig.attr_opt("invoiceID"));
        ext.put_str("original_invoice_date", orig.attr_opt("invoiceDate"));
    }

    // `(InvoiceDetailPaymentTerm* | PaymentTerm*)`: the `PaymentTerm`s when they give terms
    // or terms to keep, else the `InvoiceDetailPaymentTerm`s.
    let mut terms = payment_terms(header.children_named("PaymentTerm"))?;
    if terms.is_empty() {
        terms = invoice_payment_terms(header.children_named("InvoiceDetailPaymentTerm"))?;
    }
    inv.payment_terms = terms.terms.take();
    inv.comments = comments(header, &mut ext);
    let mut header_extrinsic = extrinsics(header);
    carried::take_payment_term_code(&mut header_extrinsic, &mut inv.payment_terms);
    carried::take_discount_halves(&mut header_extrinsic, &mut inv.payment_terms);
    terms.keep(inv.payment_terms.as_ref(), &mut ext);

    // The date of the PO the invoice bills (its first order's), which the model has no
    // field for: kept as written, and written back (X12 BIG03 is the same date).
    let order_date = req
        .children_named("InvoiceDetailOrder")
        .find_map(|o| o.child("InvoiceDetailOrderInfo")?.child("OrderReference"))
        .and_then(|r| r.attr_opt("orderDate"));
    ext.put_str("order_date", order_date);

    // Orders and their lines.
    if let Some(header_order) = req.child("InvoiceDetailHeaderOrder") {
        // A header-level invoice has no lines, and a Coupa invoice needs them: refused here, at
        // its element, rather than passed on as an invoice without lines or PO.
        return Err(CxmlError::Unsupported {
            location: header_order.location(),
            message: "InvoiceDetailHeaderOrder (an invoice summarised per order, without \
                      lines) is not mapped: Coupa invoices need lines; send InvoiceDetailOrder \
                      with InvoiceDetailItem or InvoiceDetailServiceItem lines"
                .into(),
        });
    }
    let mut ordinal = 0u32;
    let mut currency: Option<Text> = None;
    for order in req.children_named("InvoiceDetailOrder") {
        let po = order_reference(order);
        // What else the order's info names (a MasterAgreementReference, ...): kept per line.
        let order_info = order
            .child("InvoiceDetailOrderInfo")
            .map(|i| unread_children(i, &["OrderReference", "OrderIDInfo"]))
            .unwrap_or_default();
        if inv.po_number.is_none() && inv.lines.is_empty() {
            inv.po_number = po.clone();
        }
        for item in order.children() {
            let service = match item.name() {
                "InvoiceDetailItem" => false,
                "InvoiceDetailServiceItem" => true,
                _ => continue,
            };
            ordinal += 1;
            let order = OrderOfLine {
                po: po.as_deref(),
                header_po: inv.po_number.as_deref(),
                info: &order_info,
                ship_to: invoice_ship_to.as_ref(),
                ship_from: invoice_ship_from.as_ref(),
            };
            let (line, cur) = line(item, service, ordinal, &order)?;
            if currency.is_none() {
                currency = cur;
            }
            inv.lines.push(line);
        }
    }

    // Summary.
    if let Some(sum) = req.child("InvoiceDetailSummary") {
        if let Some(m) = money_in(sum.child("SubtotalAmount"))? {
            inv.subtotal = Some(m.amount);
            currency = m.currency.or(currency);
        }
        if let Some(tax) = sum.child("Tax") {
            // Header-level breakdown only; the total is tax_total (line taxes stay on lines).
            let mut read = read_tax(tax)?;
            read.keep(&mut ext);
            inv.tax_total = read.total;
            inv.taxes = read.taxes;
        }
        inv.charges = summary_charges(sum, &inv.lines, &mut ext, notes)?;
        let due = amount_in(sum.child("DueAmount"))?;
        let net = amount_in(sum.child("NetAmount"))?;
        let gross = amount_in(sum.child("GrossAmount"))?;
        no_deposit(sum, net, due)?;
        inv.total = due.or(net).or(gross);
    }
    carried::restore_charge_descriptions(&mut header_extrinsic, &mut inv.charges);
    // A subtotal or tax total the writer made (the invoice had none) reads as none.
    carried::undo_invoice_sums(&mut header_extrinsic, &mut inv);
    ext.put("extrinsic", Value::Object(header_extrinsic));
    inv.currency = currency;
    inv.extensions = ext.into_extensions();
    Ok(inv)
}

/// The ship date of the invoice's `InvoiceDetailShipping@shippingDate`, which the model has no
/// field for, as kept in `extensions.cxml.shipping_date`: its date alone (`2026-03-14`) when
/// the text is what the writer writes for a date without a time
/// ([`crate::encode::date_time`]), so a ship date X12 gave reads back as the date it was;
/// otherwise the text as written (its time and offset, or a text that is no date). The writer
/// writes it back in the header's `InvoiceDetailShipping`, and X12 writes its date as
/// `DTM*011`.
fn shipping_date(text: Option<&str>) -> Option<String> {
    let text = text?;
    let date = super::common::date(text, String::new).ok();
    match kept_timestamp(Some(text), date) {
        None if date.is_some() => date.map(|d| d.format("%Y-%m-%d").to_string()),
        _ => Some(text.to_string()),
    }
}

/// Refuses an invoice whose summary has a `DepositAmount` other than zero, at that element.
///
/// InvoiceDetail.dtd's `InvoiceDetailSummary` has `NetAmount, DepositAmount?, DueAmount?`: a
/// deposit is what the buyer paid in advance, and `DueAmount` is the net amount less it. The
/// canonical invoice has no deposit, and a Coupa invoice is paid by its lines and charges: read
/// as `total` = `DueAmount`, it reached Coupa with the lines' full amount and a supplier total
/// short by the deposit, and Coupa, paying the lines, would pay the deposit a second time. The
/// sender can say the same in what the model holds: the deposit as a negative line or an
/// `InvoiceDetailDiscount`, so the lines and charges add up to the amount due.
fn no_deposit(sum: Node<'_>, net: Option<Decimal>, due: Option<Decimal>) -> Result<(), CxmlError> {
    let Some(at) = sum.child("DepositAmount") else {
        return Ok(());
    };
    let Some(deposit) = money_in(Some(at))? else {
        return Ok(());
    };
    if deposit.amount.is_zero() {
        return Ok(());
    }
    let currency = deposit
        .currency
        .as_deref()
        .map(|c| format!(" {c}"))
        .unwrap_or_default();
    // The advice is a credit of the deposit; a deposit written negative is the same credit.
    let amount = deposit.amount.abs();
    let figures = match (net, due) {
        (Some(n), Some(d)) => {
            format!(" (NetAmount {n}, DueAmount {d}: Coupa would pay {n} from the lines, not {d})")
        }
        (Some(n), None) => format!(" (Coupa would pay the NetAmount {n} from the lines)"),
        _ => String::new(),
    };
    Err(CxmlError::Unsupported {
        location: at.location(),
        message: format!(
            "a prepaid deposit of {amount}{currency} cannot be carried to Coupa: a Coupa invoice \
             has no deposit and is paid by its lines and charges{figures}. Send the deposit as \
             a line of its own with a negative amount (quantity 1, unit price -{amount}, \
             described as the deposit paid) or as an InvoiceDetailDiscount of {amount} in the \
             summary, so the invoice adds up to the amount due, and leave DepositAmount out \
             (or 0)"
        ),
    })
}

/// The PO an `InvoiceDetailOrder` bills: `OrderReference@orderID`, else its
/// `DocumentReference@payloadID` (Coupa puts the PO number there), else `OrderIDInfo@orderID`.
fn order_reference(order: Node<'_>) -> Option<Text> {
    let info = order.child("InvoiceDetailOrderInfo")?;
    let from_ref = info.child("OrderReference").and_then(|r| {
        r.attr_opt("orderID").or_else(|| {
            r.child("DocumentReference")
                .and_then(|d| d.attr_opt("payloadID"))
        })
    });
    from_ref
        .or_else(|| {
            info.child("OrderIDInfo")
                .and_then(|o| o.attr_opt("orderID"))
        })
        .map(Text::from)
}

/// The invoice's own shipping, special handling and discount, from the summary.
///
/// cXML's summary amounts are the invoice's totals: `ShippingAmount` includes the lines'
/// `InvoiceDetailLineShipping`, `SpecialHandlingAmount` their
/// `InvoiceDetailLineSpecialHandling`, the summary's `InvoiceDetailDiscount` their
/// `InvoiceDetailDiscount` (as the summary's `Tax` includes the lines' taxes, read as
/// `tax_total`). The model's `charges[]` are the invoice's own, beside the lines', so the
/// invoice's charge of a kind is the summary's amount less the lines' (see [`own_charge`]).
fn summary_charges(
    sum: Node<'_>,
    lines: &[InvoiceLine],
    ext: &mut Ext,
    notes: &mut Vec<String>,
) -> Result<Vec<Charge>, CxmlError> {
    let mut out = Vec::new();
    if let Some(s) = sum.child("ShippingAmount")
        && let Some(a) = amount_in(Some(s))?
    {
        let c = charge(ChargeKind::Shipping, a, None);
        out.extend(own_charge(c, s, lines, ext, notes)?);
    }
    if let Some(h) = sum.child("SpecialHandlingAmount")
        && let Some(a) = amount_in(Some(h))?
    {
        let c = charge(ChargeKind::Handling, a, text_of(h, "Description"));
        out.extend(own_charge(c, h, lines, ext, notes)?);
    }
    if let Some(d) = sum.child("InvoiceDetailDiscount")
        && let Some(c) = discount(d)?
    {
        out.extend(own_charge(c, d, lines, ext, notes)?);
    }
    Ok(out)
}

/// The key in `extensions.cxml` of what a summary amount of `kind` holds that the invoice's own
/// charge does not (see [`own_charge`]). The writer reads it back.
pub(crate) fn summary_key(kind: ChargeKind) -> &'static str {
    match kind {
        ChargeKind::Shipping => "summary_shipping",
        ChargeKind::Handling => "summary_handling",
        ChargeKind::Discount => "summary_discount",
        ChargeKind::Other => "summary_other",
    }
}

/// The sum of the amounts of the lines' charges of `kind` (a discount's counted positive, as
/// [`discount`] reads it), `None` when no line has one with an amount. `Err(())` when the sum
/// is beyond what a decimal holds.
pub(crate) fn lines_sum(lines: &[InvoiceLine], kind: ChargeKind) -> Result<Option<Decimal>, ()> {
    let mut sum: Option<Decimal> = None;
    for c in lines.iter().flat_map(|l| l.charges.iter()) {
        if c.kind != kind {
            continue;
        }
        let Some(a) = c.amount else { continue };
        let a = if kind == ChargeKind::Discount {
            a.abs()
        } else {
            a
        };
        sum = Some(sum.unwrap_or_default().checked_add(a).ok_or(())?);
    }
    Ok(sum)
}

/// Whether a summary amount falls short of its lines' sum: the invoice's own charge
/// (`summary - lines`) would go the other way from the lines' (a negative shipping charge on an
/// invoice whose lines ship for a positive amount), which is not what cXML means by a total.
pub(crate) fn falls_short(own: Decimal, lines: Decimal) -> bool {
    !own.is_zero() && !lines.is_zero() && own.is_sign_negative() != lines.is_sign_negative()
}

/// The invoice's own charge of `total`'s kind: the summary's amount (`total`, read from `at`)
/// less the lines' charges of that kind.
///
/// - No line has one: the summary's charge as it is.
/// - The lines make it up whole: none. What the summary's element holds beyond the amount (the
///   handling's `Description`, the discount's `percentageRate`) is kept in
///   `extensions.cxml.summary_<kind>` for the writer.
/// - The summary is less than the lines' sum: none either; the lines' charges are the detail
///   the invoice is billed by, and the summary's element is kept whole in
///   `extensions.cxml.summary_<kind>` (`amount`, `rate`, `description`), so a round trip writes
///   it back as it came, and a note says the summary and the lines disagree (the total then
///   does not add up either, which validation reports). Refusing the invoice would lose it
///   over a figure the model does not hold; a negative charge of the invoice's own would be a
///   charge the supplier never billed.
fn own_charge(
    mut total: Charge,
    at: Node<'_>,
    lines: &[InvoiceLine],
    ext: &mut Ext,
    notes: &mut Vec<String>,
) -> Result<Option<Charge>, CxmlError> {
    let Some(amount) = total.amount else {
        return Ok(Some(total));
    };
    let in_lines = lines_sum(lines, total.kind).map_err(|()| {
        at.invalid("the lines' charges of this kind add up to more than a decimal holds")
    })?;
    let Some(in_lines) = in_lines else {
        return Ok(Some(total));
    };
    let own = amount
        .checked_sub(in_lines)
        .ok_or_else(|| at.invalid("the summary amount less the lines' is beyond a decimal"))?;
    let short = falls_short(own, in_lines);
    if !own.is_zero() && !short {
        total.amount = Some(own);
        return Ok(Some(total));
    }
    let mut kept = Map::new();
    if short {
        kept.insert("amount".into(), Value::String(amount.to_string()));
        notes.push(format!(
            "{}: {amount} is less than the lines' {in_lines} of the same kind (cXML's summary \
             amount is the invoice's total, the lines' included); the lines' charges are \
             kept, the summary's amount is in extensions.cxml.{}",
            at.location(),
            summary_key(total.kind)
        ));
    }
    if let Some(r) = total.rate {
        kept.insert("rate".into(), Value::String(r.to_string()));
    }
    if let Some(d) = total.description {
        kept.insert("description".into(), Value::String(d.to_string()));
    }
    ext.put(summary_key(total.kind), Value::Object(kept));
    Ok(None)
}

/// Refuses a line's `Tax` whose `Money` is not split among its `TaxDetail`s: several of them
/// give no `TaxAmount` (see [`TaxRead::unsplit`]). Coupa taxes such an invoice by line, each
/// tax line with its own amount, so read as rates alone the line's tax would reach Coupa
/// without the amount billed. The summary's `Tax` is not refused so: its `Money` is the
/// invoice's `tax_total`, which reaches Coupa as its tax amount whatever the details say.
fn unsplit_line_tax(tax: Node<'_>, read: &TaxRead) -> CxmlError {
    let money = read.total.map(|m| format!(" of {m}")).unwrap_or_default();
    tax.invalid(format!(
        "the line's tax{money} is not split among its TaxDetails: {} of them give no \
         TaxAmount, so what each bills cannot be told, and the buyer would be sent their rates \
         without the tax billed; give each TaxDetail its TaxAmount",
        read.unsplit
    ))
}

/// An `InvoiceDetailDiscount`: amount (made positive: a discount always reduces) and rate.
fn discount(d: Node<'_>) -> Result<Option<Charge>, CxmlError> {
    let amount = amount_in(Some(d))?.map(|a| a.abs());
    let rate = attr_decimal(d, "percentageRate")?;
    if amount.is_none() && rate.is_none() {
        return Ok(None);
    }
    Ok(Some(Charge {
        kind: ChargeKind::Discount,
        amount,
        rate,
        category: None,
        description: None,
        code: None,
    }))
}

fn charge(kind: ChargeKind, amount: rust_decimal::Decimal, description: Option<Text>) -> Charge {
    Charge {
        kind,
        amount: Some(amount),
        rate: None,
        category: None,
        description,
        code: None,
    }
}

/// The `InvoiceDetailOrder` a line is in.
struct OrderOfLine<'a> {
    /// The PO it bills.
    po: Option<&'a str>,
    /// The invoice's PO (the first order's).
    header_po: Option<&'a str>,
    /// The elements of its `InvoiceDetailOrderInfo` the mapping does not read.
    info: &'a [Value],
    /// The invoice's ship-to (see [`own_party`]).
    ship_to: Option<&'a Party>,
    /// The invoice's ship-from, kept in `extensions.cxml.parties.shipFrom` (see
    /// [`own_party`]).
    ship_from: Option<&'a Party>,
}

/// A line's own party of `role` (`shipTo`, `shipFrom`), with the `Contact` it was read from:
/// that `Contact` of its `InvoiceDetailLineShipping/InvoiceDetailShipping`, InvoiceDetail.dtd's
/// one place for a line's shipping parties (`InvoiceDetailItem` has no `ShipTo`;
/// `InvoiceDetailServiceItem` has no line shipping). `None` when it is the invoice's
/// (`invoice`, which the writer puts in every line's shipping, as a source may) or the
/// empty-named `Contact` the writer puts where none is known: neither says anything of the
/// line.
fn own_party<'t>(item: Node<'t>, role: &str, invoice: Option<&Party>) -> Option<(Node<'t>, Party)> {
    let contact = item
        .find("InvoiceDetailLineShipping/InvoiceDetailShipping")?
        .children_named("Contact")
        .find(|c| c.attr("role") == Some(role))?;
    let mut p = party(contact);
    id_references(contact, &mut p);
    (p != Party::default() && Some(&p) != invoice).then_some((contact, p))
}

/// One `InvoiceDetailItem` or `InvoiceDetailServiceItem`, with the currency of its money.
fn line(
    item: Node<'_>,
    service: bool,
    ordinal: u32,
    order: &OrderOfLine<'_>,
) -> Result<(InvoiceLine, Option<Text>), CxmlError> {
    let reference = item.child(if service {
        "InvoiceDetailServiceItemReference"
    } else {
        "InvoiceDetailItemReference"
    });
    let mut ext = Ext::default();
    let raw_number = item.attr_opt("invoiceLineNumber");
    let number = raw_number.and_then(|n| n.parse::<u32>().ok());
    if number.is_none() {
        // Not a whole number ("A1"): the ordinal stands in, the original is written back.
        ext.put_str("invoice_line_number", raw_number);
    }
    let price = money_in(item.child("UnitPrice"))?;
    let mut l = InvoiceLine {
        line_number: number.unwrap_or(ordinal),
        quantity: attr_decimal(item, "quantity")?,
        uom: text_of(item, "UnitOfMeasure"),
        unit_price: price.as_ref().map(|m| m.amount),
        amount: amount_in(item.child("SubtotalAmount"))?,
        ..InvoiceLine::default()
    };
    if l.amount.is_none() {
        l.amount = extended(l.quantity, l.unit_price);
    }
    if let Some(r) = reference {
        l.po_line_number = r.attr_opt("lineNumber").map(Text::from);
        l.description = line_description(r, &mut ext);
        if let Some(id) = r.child("ItemID") {
            l.supplier_part_id = text_of(id, "SupplierPartID");
            l.buyer_part_id = text_of(id, "BuyerPartID");
            ext.put_str(
                "supplier_part_auxiliary_id",
                id.child("SupplierPartAuxiliaryID")
                    .and_then(|a| a.text_opt()),
            );
        }
        ext.put_str(
            "manufacturer_part_id",
            r.child("ManufacturerPartID").and_then(|m| m.text_opt()),
        );
        ext.put_str(
            "manufacturer_name",
            r.child("ManufacturerName").and_then(|m| m.text_opt()),
        );
    }
    if let Some(tax) = item.child("Tax") {
        let mut read: TaxRead = read_tax(tax)?;
        if read.unsplit > 0 {
            return Err(unsplit_line_tax(tax, &read));
        }
        read.plain_when_no_details();
        read.keep(&mut ext);
        l.taxes = read.taxes;
    }
    if let Some(a) = amount_in(item.child("InvoiceDetailLineShipping"))? {
        l.charges.push(charge(ChargeKind::Shipping, a, None));
    }
    if let Some(h) = item.child("InvoiceDetailLineSpecialHandling")
        && let Some(a) = amount_in(Some(h))?
    {
        l.charges
            .push(charge(ChargeKind::Handling, a, text_of(h, "Description")));
    }
    if let Some(d) = item.child("InvoiceDetailDiscount") {
        l.charges.extend(discount(d)?);
    }
    // The line's own ship-to, in the form an order line's takes (`ship_to`, a party, and what
    // its cXML holds beyond it under `.ship_to`), and its own ship-from in the same form
    // (`ship_from`), which the writer writes back in the line's shipping. The model's line
    // has no field for either.
    let mut kept = PartiesKept::default();
    for (role, field, invoice) in [
        ("shipTo", "ship_to", order.ship_to),
        ("shipFrom", "ship_from", order.ship_from),
    ] {
        if let Some((contact, p)) = own_party(item, role, invoice) {
            kept.keep(field, contact, postal_of(contact), &p);
            ext.put(field, serde_json::to_value(&p).unwrap_or(Value::Null));
        }
    }
    kept.put(&mut ext);
    if service {
        ext.put("service", Value::Bool(true));
    }
    // The PO this line bills, when it is not the invoice's (a second InvoiceDetailOrder).
    if order.po.is_some() && order.po != order.header_po {
        l.po_number = order.po.map(Text::from);
    }
    ext.put("order_info", Value::Array(order.info.to_vec()));
    let line_comments = comments(item, &mut ext);
    ext.put_str("comments", line_comments.as_deref());
    let mut extrinsic = extrinsics(item);
    carried::take_shipping_without_charge(&mut extrinsic, &mut l.charges);
    carried::restore_charge_descriptions(&mut extrinsic, &mut l.charges);
    ext.put("extrinsic", Value::Object(extrinsic));
    l.extensions = ext.into_extensions();
    Ok((l, price.and_then(|m| m.currency)))
}
