//! Canonical [`PurchaseOrder`] → `OrderRequest`, elements in cXML.dtd order.

use gateway_core::{EncodeError, PartnerProfile};
use gateway_model::{
    Charge, ChargeKind, Extensions, OrderLine, Party, PaymentTerms, PurchaseOrder, Tax,
};
use rust_decimal::Decimal;
use serde_json::Value;

use super::writer::Xml;
use super::{
    Dtd, Kept, PartyKept, address_id, begin, carried_extrinsics, comments, contact, cxml_ext,
    description, end, ext_parties, ext_str, extrinsics, id_references, is_plain, line_descriptions,
    money, money_in, order_envelope, party_body, tax_description, tax_detail_kept, tax_details,
    tax_sum, timestamp,
};
use crate::carried;
use crate::decode::order_purpose_wire;

/// Writes one purchase order as a complete cXML OrderRequest document.
pub fn encode_order(po: &PurchaseOrder, partner: &PartnerProfile) -> Result<Vec<u8>, EncodeError> {
    let mut env = order_envelope(partner)?;
    env.payload_id = ext_str(&po.extensions, super::PAYLOAD_ID);
    let cur = po.currency.as_deref().unwrap_or("");
    let mut x = Xml::new();
    begin(&mut x, Dtd::Cxml, &env);
    x.open("OrderRequest", &[]);
    header(&mut x, po, cur)?;
    for (i, l) in po.lines.iter().enumerate() {
        item(&mut x, i, l, cur)?;
    }
    x.close("OrderRequest");
    end(&mut x);
    x.finish().map_err(|m| EncodeError::Invalid {
        path: "$".into(),
        message: m,
    })
}

/// Only shipping charges have an element in an OrderRequest (`Shipping`), one per level.
fn shipping_only<'c>(charges: &'c [Charge], path: &str) -> Result<Option<&'c Charge>, EncodeError> {
    if let Some(i) = charges.iter().position(|c| c.kind != ChargeKind::Shipping) {
        return Err(EncodeError::Invalid {
            path: format!("{path}[{i}]"),
            message: "an OrderRequest carries shipping charges only (Shipping); discounts, \
                      handling and other charges have no element"
                .into(),
        });
    }
    if charges.len() > 1 {
        return Err(EncodeError::Invalid {
            path: path.to_string(),
            message: "an OrderRequest carries one Shipping charge per level; found several".into(),
        });
    }
    Ok(charges.first())
}

fn shipping(x: &mut Xml, c: &Charge, cur: &str) {
    x.open("Shipping", &[]);
    money(x, cur, c.amount);
    description(x, c.description.as_deref());
    x.close("Shipping");
}

/// `Tax`, when there are taxes or a kept `Tax/Description`; what the decoder kept of it is in
/// `e` (the order's or the line's extensions).
fn tax(x: &mut Xml, taxes: &[Tax], cur: &str, e: &Extensions) {
    let text = tax_description(e);
    if taxes.is_empty() && text.is_none() {
        return;
    }
    x.open("Tax", &[]);
    match taxes {
        [t] if is_plain(t) && text.is_none() && !tax_detail_kept(e) => {
            money(x, cur, t.amount);
            description(x, t.description.as_deref());
        }
        _ => {
            money(x, cur, tax_sum(taxes));
            description(x, text);
            tax_details(x, cur, taxes, e);
        }
    }
    x.close("Tax");
}

/// `PaymentTerm`s: one for the discount (days in `payInNumberOfDays`), one for the net days
/// (with the description as an Extrinsic). Shared with the invoice encoder.
///
/// `payInNumberOfDays` is required (cXML.dtd: `<!ATTLIST PaymentTerm payInNumberOfDays
/// %uint; #REQUIRED>`), so the net term is written only with its days: the model's net days,
/// else those its description names ("Net 45", see [`carried::net_days_of`]; marked
/// [`carried::DAYS_FROM_DESCRIPTION`] so they read back as not given). Terms with neither have
/// no valid `PaymentTerm` (the element is optional in `OrderRequestHeader` and
/// `InvoiceDetailRequestHeader`): their description is returned for the caller to write as
/// the header Extrinsic [`carried::PAYMENT_TERM_CODE`] (Coupa reads a payment term code from
/// that Extrinsic), so the text a supplier or Coupa needs is not lost.
pub(crate) fn payment_terms<'t>(x: &mut Xml, t: &'t PaymentTerms) -> Option<&'t str> {
    if t.discount_percent.is_some() || t.discount_days.is_some() {
        let days = t.discount_days.map(|d| d.to_string());
        x.open("PaymentTerm", &[("payInNumberOfDays", days.as_deref())]);
        x.open("Discount", &[]);
        if let Some(p) = t.discount_percent {
            x.empty("DiscountPercent", &[("percent", Some(&p.to_string()))]);
        }
        x.close("Discount");
        x.close("PaymentTerm");
    }
    let description = t.description.as_deref();
    let (days, derived) = match (t.net_days, description.and_then(carried::net_days_of)) {
        (Some(d), _) => (Some(d), false),
        (None, Some(d)) => (Some(d), true),
        (None, None) => (None, false),
    };
    let Some(days) = days else {
        return description;
    };
    let days = days.to_string();
    let attrs = [("payInNumberOfDays", Some(days.as_str()))];
    if description.is_none() && !derived {
        x.empty("PaymentTerm", &attrs);
        return None;
    }
    x.open("PaymentTerm", &attrs);
    if let Some(d) = description {
        x.leaf("Extrinsic", &[("name", Some("description"))], d);
    }
    if derived {
        carried_extrinsics(
            x,
            [(carried::DAYS_FROM_DESCRIPTION, carried::FROM_DESCRIPTION)],
        );
    }
    x.close("PaymentTerm");
    None
}

/// The header Extrinsic [`carried::PAYMENT_TERM_CODE`] with the description of terms that
/// had no days for a `PaymentTerm` ([`payment_terms`]). Refused when the document's
/// extensions already hold an Extrinsic of that name (kept from a source whose terms had a
/// description of their own): two would read back as one, in the terms.
pub(crate) fn payment_term_code<'a>(
    e: &Extensions,
    code: Option<&'a str>,
) -> Result<Option<(&'static str, &'a str)>, EncodeError> {
    let Some(code) = code else {
        return Ok(None);
    };
    let kept = cxml_ext(e)
        .and_then(|c| c.get("extrinsic"))
        .is_some_and(|m| m.get(carried::PAYMENT_TERM_CODE).is_some());
    if kept {
        return Err(EncodeError::Invalid {
            path: "$.payment_terms.description".into(),
            message: format!(
                "payment terms {code:?} have no days for a cXML PaymentTerm (payInNumberOfDays \
                 is required) and go in the Extrinsic {}, which the document's extensions \
                 already hold",
                carried::PAYMENT_TERM_CODE
            ),
        });
    }
    Ok(Some((carried::PAYMENT_TERM_CODE, code)))
}

/// The order of `OrderRequestHeader`'s children in cXML.dtd (1.2.050 and later), where the
/// elements kept in `header_elements` are written back.
const HEADER_ORDER: &[&str] = &[
    "Total",
    "ShipTo",
    "BillTo",
    "BusinessPartner",
    "LegalEntity",
    "OrganizationalUnit",
    "Shipping",
    "Tax",
    "Payment",
    "PaymentTerm",
    "PaymentInformation",
    "Contact",
    "Comments",
    "Followup",
    "ControlKeys",
    "DocumentReference",
    "SupplierOrderInfo",
    "TermsOfDelivery",
    "DeliveryPeriod",
    "IdReference",
    "ExternalDocumentType",
    "OrderRequestHeaderIndustry",
    "Extrinsic",
];

/// `ShipTo`/`BillTo`: an `Address` and the party's other ids as `IdReference`s.
fn address_holder(x: &mut Xml, name: &str, p: &Party, kept: &PartyKept<'_>) {
    x.open(name, &[]);
    x.open("Address", &[("addressID", address_id(p))]);
    party_body(x, p, kept);
    x.close("Address");
    id_references(x, p);
    x.close(name);
}

/// The `BillTo`, which cXML.dtd requires (`OrderRequestHeader (Total, ShipTo?, BillTo, ...)`):
/// the order's bill-to when it has one. Coupa's PO API has no bill-to, so the Coupa mapping
/// never fills it; then the order is billed to the buyer (the organisation that places and
/// pays for the order, which is what Coupa itself writes as an OrderRequest's BillTo: its
/// company name and address), else to the ship-to address (the buyer's own location, and the
/// only buyer address a Coupa PO carries; a supplier invoices the buyer, electronically, and
/// needs a buyer address here rather than none), without the ship-to's attention line, e-mail
/// and phone (the person receiving the goods is not who is billed: see
/// [`carried::bill_to_from_ship_to`]). The party it was written from is named in
/// the header Extrinsic [`carried::BILL_TO_SOURCE`] (returned, for the caller to write at
/// its place) so the document reads back without a bill-to, as it was. With no party at all
/// the order is refused: an OrderRequest without BillTo is refused by a validating supplier.
fn bill_to(x: &mut Xml, po: &PurchaseOrder) -> Result<Option<&'static str>, EncodeError> {
    let e = &po.extensions;
    let from_ship_to;
    let (p, field, source) = match (&po.bill_to, &po.buyer, &po.ship_to) {
        (Some(p), _, _) => (p, "bill_to", None),
        (None, Some(p), _) => (p, "buyer", Some(carried::FROM_BUYER)),
        (None, None, Some(p)) => {
            from_ship_to = carried::bill_to_from_ship_to(p);
            (&from_ship_to, "ship_to", Some(carried::FROM_SHIP_TO))
        }
        (None, None, None) => {
            return Err(EncodeError::Invalid {
                path: "$.bill_to".into(),
                message: "an OrderRequest needs a BillTo (cXML.dtd: OrderRequestHeader (Total, \
                          ShipTo?, BillTo, ...)); the order has no bill_to, buyer or ship_to to \
                          write one from"
                    .into(),
            });
        }
    };
    address_holder(x, "BillTo", p, &PartyKept::of(e, field));
    Ok(source)
}

fn header(x: &mut Xml, po: &PurchaseOrder, cur: &str) -> Result<(), EncodeError> {
    let date = po
        .order_date
        .map(|d| timestamp(d, ext_str(&po.extensions, "order_date")));
    let version = po.version.map(|v| v.to_string());
    x.open(
        "OrderRequestHeader",
        &[
            ("orderID", Some(po.po_number.as_deref().unwrap_or(""))),
            ("orderDate", date.as_deref()),
            (
                "type",
                // No purpose stays no purpose (the DTD's default is `new`), as for invoices.
                po.purpose.map(order_purpose_wire),
            ),
            ("orderVersion", version.as_deref()),
            ("orderType", ext_str(&po.extensions, "order_type")),
            (
                "requestedDeliveryDate",
                ext_str(&po.extensions, "requested_delivery_date"),
            ),
        ],
    );
    let e = &po.extensions;
    let mut kept = Kept::new(
        cxml_ext(e).and_then(|c| c.get("header_elements")),
        HEADER_ORDER,
    );
    money_in(x, "Total", cur, po.total);
    kept.before(x, "ShipTo");
    if let Some(p) = &po.ship_to {
        address_holder(x, "ShipTo", p, &PartyKept::of(e, "ship_to"));
    }
    kept.before(x, "BillTo");
    let bill_to_source = bill_to(x, po)?;
    kept.before(x, "Shipping");
    if let Some(s) = shipping_only(&po.charges, "$.charges")? {
        shipping(x, s, cur);
    }
    kept.before(x, "Tax");
    tax(x, &po.taxes, cur, e);
    kept.before(x, "PaymentTerm");
    let code = po.payment_terms.as_ref().and_then(|t| payment_terms(x, t));
    let code = payment_term_code(e, code)?;
    kept.before(x, "Contact");
    if let Some(p) = &po.supplier {
        contact(
            x,
            "supplierCorporate",
            p,
            true,
            &PartyKept::of(e, "supplier"),
        );
    }
    if let Some(p) = &po.buyer {
        contact(x, "buyer", p, true, &PartyKept::of(e, "buyer"));
    }
    for (role, p) in ext_parties(e) {
        contact(x, &role, &p, true, &PartyKept::default());
    }
    kept.before(x, "Comments");
    comments(x, po.comments.as_deref(), e);
    kept.before(x, "DocumentReference");
    // The OrderRequest an update or delete changes (cXML.dtd: "the DocumentReference would
    // reference the most recent OrderRequest document for the order"), by its payloadID: the
    // writer has it only when the document names it (a cXML source's DocumentReference, or a
    // sender that knows what it sent before); it is optional in the DTD and is not made up.
    if let Some(r) = ext_str(e, "document_reference") {
        x.empty("DocumentReference", &[("payloadID", Some(r))]);
    }
    kept.before(x, "Extrinsic");
    extrinsics(x, e);
    carried_extrinsics(
        x,
        bill_to_source
            .map(|s| (carried::BILL_TO_SOURCE, s))
            .into_iter()
            .chain(code),
    );
    kept.rest(x);
    x.close("OrderRequestHeader");
    Ok(())
}

/// What an `ItemOut` says of a line's quantity, unit price and unit of measure, and what of
/// it was filled in ([`carried::AMOUNT_BASED_LINE`]).
struct Quantities<'l> {
    quantity: String,
    unit_price: Option<Decimal>,
    uom: &'l str,
    filled: Vec<&'static str>,
}

/// A line with a quantity is written as it is. An amount line (no quantity: a Coupa
/// `OrderAmountLine`, whose `price` is its amount) is one unit at its amount, since
/// `ItemOut@quantity` is required and a number (`%r8;`): `quantity="1"`, the amount as the
/// unit price when the line has no unit price (one that is not the amount cannot be one unit
/// of it: refused), and [`carried::AMOUNT_LINE_UOM`] when the line has no unit of measure.
fn quantities<'l>(i: usize, l: &'l OrderLine) -> Result<Quantities<'l>, EncodeError> {
    if let Some(q) = l.quantity {
        return Ok(Quantities {
            quantity: gateway_model::decimal_text(q, '.'),
            unit_price: l.unit_price,
            uom: l.uom.as_deref().unwrap_or(""),
            filled: Vec::new(),
        });
    }
    let mut filled = vec![carried::FILLED_QUANTITY];
    let unit_price = match (l.unit_price, l.amount) {
        (Some(p), Some(a)) if p != a => {
            return Err(EncodeError::Invalid {
                path: format!("$.lines[{i}].unit_price"),
                message: format!(
                    "an amount line (no quantity) is written as one unit at its amount {a}, \
                     since cXML requires ItemOut@quantity; its unit price {p} is not that amount"
                ),
            });
        }
        (None, Some(a)) => {
            filled.push(carried::FILLED_UNIT_PRICE);
            Some(a)
        }
        (p, _) => p,
    };
    let uom = match l.uom.as_deref() {
        Some(u) => u,
        None => {
            filled.push(carried::FILLED_UOM);
            carried::AMOUNT_LINE_UOM
        }
    };
    Ok(Quantities {
        quantity: "1".into(),
        unit_price,
        uom,
        filled,
    })
}

/// The `Classification` written for a line that has none (cXML.dtd: `ItemDetail (...,
/// UnitOfMeasure, PriceBasisQuantity?, Classification+, ...)`, `Classification (#PCDATA)` with
/// `domain` required): UNSPSC, the domain Coupa writes, with no code. The reader takes it
/// back as no classification.
pub(crate) const DEFAULT_CLASSIFICATION_DOMAIN: &str = "UNSPSC";

fn item(x: &mut Xml, i: usize, l: &OrderLine, cur: &str) -> Result<(), EncodeError> {
    let q = quantities(i, l)?;
    // A source's line number that is not a whole number is written back as it was.
    let number = match ext_str(&l.extensions, "line_number") {
        Some(n) => n.to_string(),
        None => l.line_number.to_string(),
    };
    let need_by = l
        .need_by
        .map(|d| timestamp(d, ext_str(&l.extensions, "requested_delivery_date")));
    x.open(
        "ItemOut",
        &[
            ("quantity", Some(q.quantity.as_str())),
            ("lineNumber", Some(number.as_str())),
            ("requestedDeliveryDate", need_by.as_deref()),
        ],
    );
    x.open("ItemID", &[]);
    x.leaf(
        "SupplierPartID",
        &[],
        l.supplier_part_id.as_deref().unwrap_or(""),
    );
    if let Some(a) = ext_str(&l.extensions, "supplier_part_auxiliary_id") {
        x.leaf("SupplierPartAuxiliaryID", &[], a);
    }
    if let Some(b) = &l.buyer_part_id {
        x.leaf("BuyerPartID", &[], b);
    }
    x.close("ItemID");
    x.open("ItemDetail", &[]);
    money_in(x, "UnitPrice", cur, q.unit_price);
    line_descriptions(x, l.description.as_deref(), &l.extensions, true);
    x.leaf("UnitOfMeasure", &[], q.uom);
    let ext = cxml_ext(&l.extensions);
    let classes = ext
        .and_then(|e| e.get("classification"))
        .and_then(Value::as_array)
        .filter(|c| !c.is_empty());
    match classes {
        Some(classes) => {
            for c in classes {
                x.leaf(
                    "Classification",
                    &[("domain", c.get("domain").and_then(Value::as_str))],
                    c.get("value").and_then(Value::as_str).unwrap_or(""),
                );
            }
        }
        None => x.empty(
            "Classification",
            &[("domain", Some(DEFAULT_CLASSIFICATION_DOMAIN))],
        ),
    }
    if let Some(m) = ext_str(&l.extensions, "manufacturer_part_id") {
        x.leaf("ManufacturerPartID", &[], m);
    }
    if let Some(m) = ext_str(&l.extensions, "manufacturer_name") {
        x.leaf("ManufacturerName", &[("xml:lang", Some("en"))], m);
    }
    extrinsics(x, &l.extensions);
    let amount = l.amount.map(|a| a.to_string());
    let filled = q.filled.join(" ");
    carried_extrinsics(
        x,
        amount
            .as_deref()
            .map(|a| (carried::LINE_AMOUNT, a))
            .into_iter()
            .chain((!filled.is_empty()).then_some((carried::AMOUNT_BASED_LINE, filled.as_str()))),
    );
    x.close("ItemDetail");
    if let Some(p) = ext
        .and_then(|e| e.get("ship_to"))
        .and_then(|v| serde_json::from_value::<Party>(v.clone()).ok())
    {
        address_holder(x, "ShipTo", &p, &PartyKept::of(&l.extensions, "ship_to"));
    }
    if let Some(s) = shipping_only(&l.charges, &format!("$.lines[{i}].charges"))? {
        shipping(x, s, cur);
    }
    tax(x, &l.taxes, cur, &l.extensions);
    if let Some(dists) = ext
        .and_then(|e| e.get("distribution"))
        .and_then(Value::as_array)
    {
        for d in dists {
            distribution(x, d);
        }
    }
    comments(x, ext_str(&l.extensions, "comments"), &l.extensions);
    x.close("ItemOut");
    Ok(())
}

/// One `Distribution` from its extension form (`accounting`, `segments`, `charge`, `currency`).
fn distribution(x: &mut Xml, d: &Value) {
    x.open("Distribution", &[]);
    x.open(
        "Accounting",
        &[(
            "name",
            Some(d.get("accounting").and_then(Value::as_str).unwrap_or("")),
        )],
    );
    if let Some(segs) = d.get("segments").and_then(Value::as_array) {
        for s in segs {
            let attrs: Vec<(&str, Option<&str>)> = s
                .as_object()
                .map(|m| m.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect())
                .unwrap_or_default();
            x.empty("Segment", &attrs);
        }
    }
    x.close("Accounting");
    let amount = d
        .get("charge")
        .and_then(Value::as_str)
        .and_then(|s| s.parse::<rust_decimal::Decimal>().ok());
    let currency = d.get("currency").and_then(Value::as_str).unwrap_or("");
    money_in(x, "Charge", currency, amount);
    x.close("Distribution");
}
