//! `OrderRequest` → canonical [`PurchaseOrder`] (mapping table in CANONICAL.md).
//!
//! The header `TermsOfDelivery` is the shipping terms (its `TransportTerms` code; see
//! [`shipping_terms`] for what is kept of one the writer did not write).
//!
//! Kept in `extensions.cxml` where the model has no field: the `orderDate` text when it is
//! more than its date (`order_date`, see [`kept_timestamp`]), header `requestedDeliveryDate`,
//! `orderType`, the changed order's payloadID (`document_reference`), contacts in roles
//! without a slot (`parties.<role>`), what the cXML of the parties in slots holds beyond them
//! ([`PartiesKept`]: `PostalAddress` Extrinsics, country names, phone country codes),
//! elements inside `Comments` (`comments_elements`), what a `Tax` holds beyond the taxes
//! ([`super::common::TaxRead`]), the header's other elements (`header_elements`: `Payment`,
//! `Followup`, `SupplierOrderInfo`, ..., as element JSON, written back at their place in the
//! DTD), the `PaymentTerm`s beyond the model's discount tier and net term (`payment_terms`,
//! see [`payment_terms`]), Extrinsics; per line a `lineNumber` that is not a whole number
//! (`line_number`; the canonical `line_number` is then the ordinal), the
//! `requestedDeliveryDate` text when it is more than its date (`requested_delivery_date`), the
//! auxiliary part id, manufacturer part id and name, the description's `ShortName` and
//! further `Description`s, a line ShipTo (`ship_to`, and what [`PartiesKept`] keeps of it
//! under `.ship_to`), classifications,
//! distributions (accounting name, `Segment` attributes, `AccountingSegment`s as element JSON,
//! charge), tax extras, comments and Extrinsics.
//!
//! What the writer filled in or carried for cXML.dtd's sake (`crate::carried`: a BillTo, an
//! amount line's unit, days read from a description, half a discount term, an `orderDate` for
//! an order without one, the `ItemOut` of a cancel without lines, the postal address of a
//! party without a street) reads back as it was before it was written.

use gateway_model::{
    Charge, ChargeKind, OrderLine, OrderPurpose, Party, PurchaseOrder, ShippingTerms, Text,
};
use serde_json::{Map, Value, json};

use super::common::{
    Ext, PartiesKept, amount_in, attr_date, attr_decimal, attr_u32, comments, element_json,
    extrinsic_node, extrinsics, id_references, kept_timestamp, line_description, money_in, party,
    party_with, payment_terms, postal_of, preferred, read_tax, text_of,
};
use crate::carried;
use crate::error::CxmlError;
use crate::reader::Node;

/// `Contact@role` values that fill the supplier slot, in order of preference: the contact in
/// the first role present fills it, wherever it stands; the others are kept parties.
/// `supplierCorporate`, the writer's role for the supplier, comes first, so a written
/// supplier reads back as one.
const SUPPLIER_ROLES: [&str; 3] = [
    "supplierCorporate",
    "supplierMasterAccount",
    "supplierAccount",
];
/// `Contact@role` values that fill the buyer slot, in order of preference (`buyer`, the
/// writer's, first).
const BUYER_ROLES: [&str; 4] = ["buyer", "buyerCorporate", "purchasingAgent", "soldTo"];

/// The `OrderRequestHeader` children the mapping reads; the others are `header_elements`.
const HEADER_READ: [&str; 10] = [
    "Total",
    "ShipTo",
    "BillTo",
    "Shipping",
    "Tax",
    "PaymentTerm",
    "Contact",
    "Comments",
    "DocumentReference",
    "Extrinsic",
];

/// The wire spelling of an order purpose (`OrderRequestHeader@type`).
pub(crate) fn purpose_wire(p: OrderPurpose) -> &'static str {
    match p {
        OrderPurpose::New => "new",
        OrderPurpose::Update => "update",
        OrderPurpose::Cancel => "delete",
    }
}

/// Maps one `OrderRequest` element.
pub(crate) fn order(req: Node<'_>) -> Result<PurchaseOrder, CxmlError> {
    let header = req
        .child("OrderRequestHeader")
        .ok_or_else(|| req.invalid("expected an OrderRequestHeader element"))?;
    let mut po = PurchaseOrder {
        po_number: header.attr_opt("orderID").map(Text::from),
        order_date: attr_date(header, "orderDate")?,
        ..PurchaseOrder::default()
    };
    po.purpose = match header.attr_opt("type") {
        None => None,
        Some("new") => Some(OrderPurpose::New),
        Some("update") => Some(OrderPurpose::Update),
        Some("delete") => Some(OrderPurpose::Cancel),
        Some(other) => {
            return Err(CxmlError::invalid(
                header.attr_location("type"),
                format!("{other:?} is not an order type; expected new, update or delete"),
            ));
        }
    };
    let mut header_extrinsics = extrinsics(header);
    // An `orderDate` the writer filled in (the order had none) reads as no date.
    let mut root = req;
    while let Some(up) = root.parent() {
        root = up;
    }
    if carried::order_date_filled_in(
        &mut header_extrinsics,
        header.attr_opt("orderDate"),
        root.attr_opt("timestamp"),
    ) {
        po.order_date = None;
    }
    let placeholder = header_extrinsics.remove(carried::PLACEHOLDER_ITEM);
    let total_marked = carried::take_total_source(&mut header_extrinsics);
    po.version = match attr_u32(header, "orderVersion")? {
        Some(v) => Some(v),
        None => ["orderVersion", "version", "Version"]
            .iter()
            .find_map(|k| header_extrinsics.get(*k))
            .and_then(Value::as_str)
            .and_then(|v| v.trim().parse().ok()),
    };
    let mut ext = Ext::default();
    ext.put_str(
        "order_date",
        kept_timestamp(header.attr_opt("orderDate"), po.order_date),
    );
    ext.put_str(
        "requested_delivery_date",
        header.attr_opt("requestedDeliveryDate"),
    );
    ext.put_str("order_type", header.attr_opt("orderType"));

    if let Some(m) = money_in(header.child("Total"))? {
        po.total = Some(m.amount);
        po.currency = m.currency;
    }
    let mut kept = PartiesKept::default();
    // What the writer carried of a ShipTo or BillTo without street (taken either way).
    header_extrinsics.remove(carried::SHIP_TO_POSTAL_ADDRESS);
    header_extrinsics.remove(carried::BILL_TO_POSTAL_ADDRESS);
    po.ship_to = address_party(
        header.child("ShipTo"),
        extrinsic_node(header, carried::SHIP_TO_POSTAL_ADDRESS),
        "ship_to",
        &mut kept,
    );
    // Kept (below) unless it is the party the writer billed for want of a bill-to.
    let bill_to = header.child("BillTo").and_then(|b| {
        address_holder_party(b, extrinsic_node(header, carried::BILL_TO_POSTAL_ADDRESS))
    });
    let mut others = Map::new();
    let roles: Vec<&str> = header
        .children_named("Contact")
        .map(|c| c.attr("role").unwrap_or_default())
        .collect();
    let supplier_at = preferred(&roles, &SUPPLIER_ROLES);
    let buyer_at = preferred(&roles, &BUYER_ROLES);
    for (i, c) in header.children_named("Contact").enumerate() {
        let role = c.attr("role").unwrap_or_default();
        let mut p = party(c);
        id_references(c, &mut p);
        let (field, slot) = if Some(i) == supplier_at {
            ("supplier", &mut po.supplier)
        } else if Some(i) == buyer_at {
            ("buyer", &mut po.buyer)
        } else {
            others.insert(
                role.to_string(),
                serde_json::to_value(&p).unwrap_or(Value::Null),
            );
            continue;
        };
        if slot.is_none() {
            kept.keep(field, c, postal_of(c), &p);
            *slot = Some(p);
        } else {
            others.insert(
                role.to_string(),
                serde_json::to_value(&p).unwrap_or(Value::Null),
            );
        }
    }
    ext.put("parties", Value::Object(others));
    let source = carried::take_bill_to_source(&mut header_extrinsics);
    if let Some((address, postal, p)) = bill_to
        && !carried::bill_to_written_from(
            source.as_ref(),
            &p,
            po.buyer.as_ref(),
            po.ship_to.as_ref(),
        )
    {
        kept.keep("bill_to", address, postal, &p);
        po.bill_to = Some(p);
    }
    kept.put(&mut ext);
    if let Some(s) = header.child("Shipping")
        && let Some(a) = amount_in(Some(s))?
    {
        po.charges.push(shipping(a, text_of(s, "Description")));
    }
    if let Some(t) = header.child("Tax") {
        po.taxes = order_taxes(t, &mut ext)?;
    }
    let mut terms = payment_terms(header.children_named("PaymentTerm"))?;
    po.payment_terms = terms.terms.take();
    carried::take_payment_term_code(&mut header_extrinsics, &mut po.payment_terms);
    carried::take_discount_halves(&mut header_extrinsics, &mut po.payment_terms);
    terms.keep(po.payment_terms.as_ref(), &mut ext);
    po.comments = comments(header, &mut ext);
    // An update or delete names the order it changes by that order's payloadID.
    ext.put_str(
        "document_reference",
        header
            .child("DocumentReference")
            .and_then(|d| d.attr_opt("payloadID")),
    );
    let (terms, terms_at) = shipping_terms(header, &mut ext);
    po.shipping_terms = terms;
    // The other header children, but the `TermsOfDelivery` read above (a second one, which
    // the DTD does not allow, is kept with them).
    let others: Vec<Value> = header
        .children()
        .enumerate()
        .filter(|(i, c)| Some(*i) != terms_at && !HEADER_READ.contains(&c.name()))
        .map(|(_, c)| element_json(c))
        .collect();
    ext.put("header_elements", Value::Array(others));
    ext.put("extrinsic", Value::Object(header_extrinsics));

    let mut ordinal = 0u32;
    for item in req.children_named("ItemOut") {
        ordinal += 1;
        let line = line(item, ordinal)?;
        if po.currency.is_none() {
            po.currency = money_in(item.find("ItemDetail/UnitPrice"))?.and_then(|m| m.currency);
        }
        po.lines.push(line);
    }
    carried::drop_placeholder_line(
        placeholder,
        po.purpose == Some(OrderPurpose::Cancel),
        &mut po.lines,
    );
    // A `Total` the writer made from the lines (the order had none) reads as no total.
    if carried::total_filled_in(total_marked, &po) {
        po.total = None;
    }
    po.extensions = ext.into_extensions();
    Ok(po)
}

/// The order's shipping terms from the header's first `TermsOfDelivery`, and where that is
/// among the header's children: the code its `TransportTerms` names
/// ([`carried::transport_terms_code`]). One the writer wrote for a code
/// ([`carried::terms_of_delivery`]) is that code alone; any other (an `Address`, `Comments`,
/// its own `TermsOfDeliveryCode` or `ShippingPaymentMethod`) is also kept whole in
/// `terms_of_delivery` beside the code read from it, for the writer to give back while the
/// code is unchanged. Terms without a code (no `TransportTerms`) are kept that way too, and
/// read as none.
fn shipping_terms(header: Node<'_>, ext: &mut Ext) -> (Option<ShippingTerms>, Option<usize>) {
    let Some((at, node)) = header
        .children()
        .enumerate()
        .find(|(_, c)| c.name() == "TermsOfDelivery")
    else {
        return (None, None);
    };
    let element = element_json(node);
    let code = carried::transport_terms_code(&element).map(Text::from);
    let written = code
        .as_deref()
        .is_some_and(|c| element == carried::terms_of_delivery(c));
    if !written {
        ext.put(
            "terms_of_delivery",
            json!({"code": code.as_deref(), "element": element}),
        );
    }
    (code.map(|c| ShippingTerms { code: Some(c) }), Some(at))
}

/// A party from `ShipTo`/`BillTo` (`holder`): its `Address`, plus `IdReference`s beside it;
/// what its cXML holds beyond the party goes in `kept` for the canonical field `field`.
/// `carried`: the Extrinsic the writer carried the postal address of a party without street
/// in (the `Address` has no room for one), read when the `Address` has no `PostalAddress`.
fn address_party(
    holder: Option<Node<'_>>,
    carried: Option<Node<'_>>,
    field: &str,
    kept: &mut PartiesKept,
) -> Option<Party> {
    let (address, postal, p) = address_holder_party(holder?, carried)?;
    kept.keep(field, address, postal, &p);
    Some(p)
}

/// The party of a `ShipTo`/`BillTo`: its `Address`, plus `IdReference`s beside it; with the
/// `Address` and the element its postal address was read from (see [`address_party`]).
fn address_holder_party<'t>(
    holder: Node<'t>,
    carried: Option<Node<'t>>,
) -> Option<(Node<'t>, Option<Node<'t>>, Party)> {
    let address = holder.child("Address")?;
    let postal = address.child("PostalAddress").or(carried);
    let mut p = party_with(address, postal);
    id_references(holder, &mut p);
    Some((address, postal, p))
}

fn shipping(amount: rust_decimal::Decimal, description: Option<Text>) -> Charge {
    Charge {
        kind: ChargeKind::Shipping,
        amount: Some(amount),
        rate: None,
        category: None,
        description,
        code: None,
    }
}

/// Order taxes: the `TaxDetail`s, or the `Tax/Money` total when there are none; what the
/// model has no field for goes in `ext`.
fn order_taxes(t: Node<'_>, ext: &mut Ext) -> Result<Vec<gateway_model::Tax>, CxmlError> {
    let mut read = read_tax(t)?;
    read.plain_when_no_details();
    read.keep(ext);
    Ok(read.taxes)
}

/// One `ItemOut`.
fn line(item: Node<'_>, ordinal: u32) -> Result<OrderLine, CxmlError> {
    let mut ext = Ext::default();
    let raw_number = item.attr_opt("lineNumber");
    let number = raw_number.and_then(|n| n.parse::<u32>().ok());
    if number.is_none() {
        // Not a whole number: the ordinal stands in, the original is written back.
        ext.put_str("line_number", raw_number);
    }
    let mut l = OrderLine {
        line_number: number.unwrap_or(ordinal),
        quantity: attr_decimal(item, "quantity")?,
        need_by: attr_date(item, "requestedDeliveryDate")?,
        ..OrderLine::default()
    };
    ext.put_str(
        "requested_delivery_date",
        kept_timestamp(item.attr_opt("requestedDeliveryDate"), l.need_by),
    );
    if let Some(id) = item.child("ItemID") {
        l.supplier_part_id = text_of(id, "SupplierPartID");
        l.buyer_part_id = text_of(id, "BuyerPartID");
        ext.put_str(
            "supplier_part_auxiliary_id",
            id.child("SupplierPartAuxiliaryID")
                .and_then(|a| a.text_opt()),
        );
    }
    let mut extrinsic = Map::new();
    if let Some(d) = item.child("ItemDetail") {
        l.unit_price = amount_in(d.child("UnitPrice"))?;
        l.description = line_description(d, &mut ext);
        l.uom = text_of(d, "UnitOfMeasure");
        let classes: Vec<Value> = d
            .children_named("Classification")
            .map(|c| json!({"domain": c.attr("domain").unwrap_or_default(), "value": c.text()}))
            .collect();
        // One empty UNSPSC classification is what the writer puts where a line has none
        // (`Classification+`): it says nothing, and reads as none.
        let nothing = json!({"domain": crate::encode::DEFAULT_CLASSIFICATION_DOMAIN, "value": ""});
        if !matches!(classes.as_slice(), [only] if *only == nothing) {
            ext.put("classification", Value::Array(classes));
        }
        ext.put_str(
            "manufacturer_part_id",
            d.child("ManufacturerPartID").and_then(|m| m.text_opt()),
        );
        ext.put_str(
            "manufacturer_name",
            d.child("ManufacturerName").and_then(|m| m.text_opt()),
        );
        extrinsic = extrinsics(d);
    }
    let mut kept = PartiesKept::default();
    let carried_ship_to = item
        .child("ItemDetail")
        .and_then(|d| extrinsic_node(d, carried::SHIP_TO_POSTAL_ADDRESS));
    if let Some(p) = address_party(item.child("ShipTo"), carried_ship_to, "ship_to", &mut kept) {
        ext.put("ship_to", serde_json::to_value(&p).unwrap_or(Value::Null));
    }
    kept.put(&mut ext);
    if let Some(t) = item.child("Tax") {
        l.taxes = order_taxes(t, &mut ext)?;
    }
    if let Some(s) = item.child("Shipping")
        && let Some(a) = amount_in(Some(s))?
    {
        l.charges.push(shipping(a, text_of(s, "Description")));
    }
    let mut dists = Vec::new();
    for d in item.children_named("Distribution") {
        let acc = d.child("Accounting");
        let segments: Vec<Value> = acc
            .map(|a| {
                a.children_named("Segment")
                    .map(|s| {
                        let mut m = Map::new();
                        for (k, v) in s.attrs() {
                            m.insert(k.to_string(), Value::String(v.to_string()));
                        }
                        Value::Object(m)
                    })
                    .collect()
            })
            .unwrap_or_default();
        // The newer form of segments (`Accounting (Segment+ | AccountingSegment+)`), as
        // element JSON: written back as they came.
        let accounting_segments: Vec<Value> = acc
            .map(|a| {
                a.children_named("AccountingSegment")
                    .map(element_json)
                    .collect()
            })
            .unwrap_or_default();
        let charge = money_in(d.child("Charge"))?;
        let mut m = Map::new();
        if let Some(name) = acc.and_then(|a| a.attr_opt("name")) {
            m.insert("accounting".into(), Value::String(name.to_string()));
        }
        m.insert("segments".into(), Value::Array(segments));
        if !accounting_segments.is_empty() {
            m.insert(
                "accounting_segments".into(),
                Value::Array(accounting_segments),
            );
        }
        if let Some(c) = charge {
            m.insert("charge".into(), Value::String(c.amount.to_string()));
            if let Some(cur) = c.currency {
                m.insert("currency".into(), Value::String(cur.into_string()));
            }
        }
        dists.push(Value::Object(m));
    }
    ext.put("distribution", Value::Array(dists));
    let line_comments = comments(item, &mut ext);
    ext.put_str("comments", line_comments.as_deref());
    for (k, v) in extrinsics(item) {
        extrinsic.insert(k, v);
    }
    // What the writer carried of the line ShipTo (read above), taken either way.
    extrinsic.remove(carried::SHIP_TO_POSTAL_ADDRESS);
    l.amount = carried::take_line_amount(&mut extrinsic);
    carried::take_amount_based(&mut extrinsic, &mut l);
    ext.put("extrinsic", Value::Object(extrinsic));
    l.extensions = ext.into_extensions();
    Ok(l)
}
