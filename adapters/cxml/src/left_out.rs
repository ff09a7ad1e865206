//! What writing a document as cXML (InvoiceDetailRequest, OrderRequest) leaves out because
//! the DTDs have no place for it, named so that a conversion says so instead of losing it
//! without a word ([`left_out()`], `Encode::left_out` of [`crate::CxmlCodec`]; the writer
//! writes what has a place and refuses what is malformed). Each is something X12 or CSV
//! carries:
//!
//! - A charge's code (`charges[].code`, X12 SAC02 such as `D240`): `ShippingAmount (Money)`,
//!   `SpecialHandlingAmount (Money, Description?)`, `InvoiceDetailDiscount (Money,
//!   Distribution*)`, the lines' `InvoiceDetailLineShipping` and
//!   `InvoiceDetailLineSpecialHandling` and an order's `Shipping (Money, Description)` hold
//!   no code; the charge's kind is what they say.
//! - The rate of a shipping or handling charge (`charges[].rate`, X12 SAC08): only
//!   `InvoiceDetailDiscount` has one (`percentageRate`).
//! - The ship-to and ship-from of a service line (`lines[].extensions.<cxml|x12>.ship_to`,
//!   `.ship_from`): `InvoiceDetailServiceItem` has neither a `ShipTo` nor an
//!   `InvoiceDetailLineShipping`, the one place an `InvoiceDetailItem` has for them.
//! - An order line's ship-from (`lines[].extensions.x12.ship_from`, an 850 PO1 loop's
//!   `N1*SF`): the OrderRequest writer writes the `ItemOut`'s `ShipTo` only.
//! - What of a payment-term tier X12 read no valid `PaymentTerm` holds (see
//!   `encode::tiers`).
//! - An invoice's ship date (X12's `DTM*011`, `extensions.x12.ship_date`; cXML's own,
//!   `extensions.cxml.shipping_date`) when the invoice has fewer than two shipping parties:
//!   `InvoiceDetailShipping@shippingDate` is its place, and the writer writes it there, but
//!   writes a header `InvoiceDetailShipping` only with two shipping parties (`Contact,
//!   Contact+`: a ship-to alone is an `InvoicePartner`; a made-up second contact would read
//!   back as a party the invoice does not have). An X12 ship date kept as its segment (a
//!   `DTM*011` with a time, or an earlier one of two, in `extensions.x12.segments`) is not
//!   written either. The PO's date (X12 BIG03) is written, as `OrderReference@orderDate`.
//! - An invoice's chart of accounts (the Coupa CSV's `Chart of Accounts`, Coupa's
//!   `account-type`; `gateway_core::chart_of_accounts`): InvoiceDetail.dtd has no element
//!   for it.
//!
//! Charges cXML refuses outright (an invoice charge of kind `other`, an order's charges that
//! are not shipping) are the writer's to refuse, and not named here.

use gateway_model::{Charge, ChargeKind, Document};

/// Why a charge's code is not written.
const NO_CHARGE_CODE: &str = "cXML has no element for a charge's code (ShippingAmount, \
     SpecialHandlingAmount, InvoiceDetailDiscount, the line's InvoiceDetailLineShipping and \
     InvoiceDetailLineSpecialHandling, an order's Shipping: an amount, a description, a \
     discount's rate); the charge is written without it";

/// Why a shipping or handling charge's rate is not written.
const NO_CHARGE_RATE: &str = "cXML has no rate for a shipping or handling charge (only \
     InvoiceDetailDiscount has a percentageRate); the charge is written with its amount alone";

/// Why a service line's own ship-to or ship-from is not written.
const NO_SERVICE_SHIP_TO: &str = "a cXML InvoiceDetailServiceItem has no ShipTo and no \
     InvoiceDetailLineShipping (InvoiceDetailItem's only), so the line's own ship-to or \
     ship-from is not written";

/// Why an order line's own ship-from is not written.
const NO_ORDER_LINE_SHIP_FROM: &str = "the OrderRequest writer writes an ItemOut's ShipTo but \
     no ship-from (an X12 PO1 loop's N1*SF), so the line's own ship-from is not written";

/// Why a ship date is not written without two shipping parties.
const NO_SHIP_DATE: &str = "the ship date belongs in the header's \
     InvoiceDetailShipping@shippingDate, and the invoice has no InvoiceDetailShipping: it \
     needs two shipping parties (a ship-from and a ship-to, Contact, Contact+) and the invoice \
     has fewer; it is not written";

/// Why a ship date X12 kept as its segment is not written.
const NO_KEPT_SHIP_DATE: &str = "a ship date X12 kept as its segment (DTM*011 with a time, \
     or an earlier one of two) has no place in cXML (InvoiceDetailShipping@shippingDate holds \
     the invoice's one ship date, X12's last DTM*011 of a date alone); it is not written";

/// Names the ship date of an invoice without an `InvoiceDetailShipping`, and the `DTM*011`
/// (shipped) segments X12 kept of it.
fn ship_dates(inv: &gateway_model::Invoice, out: &mut Vec<String>) {
    let e = &inv.extensions;
    let date = [
        ("cxml", crate::encode::SHIPPING_DATE),
        ("x12", crate::encode::X12_SHIP_DATE),
    ]
    .into_iter()
    .find(|(format, key)| {
        e.get(*format)
            .and_then(|f| f.get(*key))
            .is_some_and(|v| !v.is_null())
    });
    if let Some((format, key)) = date
        && !crate::encode::writes_header_shipping(inv)
    {
        out.push(format!("$.extensions.{format}.{key}: {NO_SHIP_DATE}"));
    }
    let Some(segs) = e
        .get("x12")
        .and_then(|x| x.get("segments"))
        .and_then(serde_json::Value::as_array)
    else {
        return;
    };
    for (k, seg) in segs.iter().enumerate() {
        if seg.get(0).and_then(serde_json::Value::as_str) == Some("DTM")
            && seg.get(1).and_then(serde_json::Value::as_str) == Some("011")
        {
            out.push(format!(
                "$.extensions.x12.segments[{k}]: {NO_KEPT_SHIP_DATE}"
            ));
        }
    }
}

/// What writing `doc` as cXML leaves out, in document order, each as `path: why`; empty
/// when cXML carries all of it that the writer knows of.
pub(crate) fn left_out(doc: &Document) -> Vec<String> {
    let mut out = Vec::new();
    match doc {
        Document::Invoice(inv) => {
            crate::encode::tiers::left_out(inv.payment_terms.as_ref(), &inv.extensions, &mut out);
            if gateway_core::chart_of_accounts::chart_of_accounts(&inv.extensions).is_some() {
                out.push(format!(
                    "{}: {}",
                    gateway_core::chart_of_accounts::PATH,
                    gateway_core::chart_of_accounts::LEFT_OUT
                ));
            }
            ship_dates(inv, &mut out);
            for (n, line) in inv.lines.iter().enumerate() {
                let at = format!("$.lines[{n}]");
                if crate::encode::is_service(line) {
                    for key in [crate::encode::LINE_SHIP_TO, crate::encode::LINE_SHIP_FROM] {
                        if let Some((format, _)) = crate::encode::line_field(&line.extensions, key)
                        {
                            out.push(format!(
                                "{at}.extensions.{format}.{key}: {NO_SERVICE_SHIP_TO}"
                            ));
                        }
                    }
                }
                let writes = match crate::encode::is_service(line) {
                    true => service_writes,
                    false => invoice_writes,
                };
                charges(&format!("{at}.charges"), &line.charges, writes, &mut out);
            }
            charges("$.charges", &inv.charges, invoice_writes, &mut out);
        }
        Document::PurchaseOrder(po) => {
            crate::encode::tiers::left_out(po.payment_terms.as_ref(), &po.extensions, &mut out);
            for (n, line) in po.lines.iter().enumerate() {
                if let Some((format, _)) =
                    crate::encode::line_field(&line.extensions, crate::encode::LINE_SHIP_FROM)
                {
                    out.push(format!(
                        "$.lines[{n}].extensions.{format}.{}: {NO_ORDER_LINE_SHIP_FROM}",
                        crate::encode::LINE_SHIP_FROM
                    ));
                }
                charges(
                    &format!("$.lines[{n}].charges"),
                    &line.charges,
                    order_writes,
                    &mut out,
                );
            }
            charges("$.charges", &po.charges, order_writes, &mut out);
        }
    }
    out
}

/// The charges an invoice writes: all but `other`, which the writer refuses.
fn invoice_writes(kind: ChargeKind) -> bool {
    kind != ChargeKind::Other
}

/// The charges a service line writes: its discount (`InvoiceDetailServiceItem` has no line
/// shipping or special handling; the writer refuses them).
fn service_writes(kind: ChargeKind) -> bool {
    kind == ChargeKind::Discount
}

/// The charges an order writes: shipping (`Shipping`); the writer refuses the others.
fn order_writes(kind: ChargeKind) -> bool {
    kind == ChargeKind::Shipping
}

/// Names the code and rate of each of `charges` (at `path`) that `writes` says is written.
fn charges(path: &str, charges: &[Charge], writes: fn(ChargeKind) -> bool, out: &mut Vec<String>) {
    for (k, c) in charges.iter().enumerate() {
        if !writes(c.kind) {
            continue;
        }
        if c.code.is_some() {
            out.push(format!("{path}[{k}].code: {NO_CHARGE_CODE}"));
        }
        if c.rate.is_some() && matches!(c.kind, ChargeKind::Shipping | ChargeKind::Handling) {
            out.push(format!("{path}[{k}].rate: {NO_CHARGE_RATE}"));
        }
    }
}
