//! Canonical [`PurchaseOrder`] → `OrderRequest`, elements in cXML.dtd order.

use gateway_core::{EncodeError, PartnerProfile};
use gateway_model::{
    Charge, ChargeKind, Extensions, OrderLine, Party, PaymentTerms, PurchaseOrder, Tax,
};
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
pub(crate) fn payment_terms(x: &mut Xml, t: &PaymentTerms) {
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
    if t.net_days.is_some() || t.description.is_some() {
        let days = t.net_days.map(|d| d.to_string());
        match &t.description {
            Some(d) => {
                x.open("PaymentTerm", &[("payInNumberOfDays", days.as_deref())]);
                x.leaf("Extrinsic", &[("name", Some("description"))], d);
                x.close("PaymentTerm");
            }
            None => x.empty("PaymentTerm", &[("payInNumberOfDays", days.as_deref())]),
        }
    }
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
    if let Some(p) = &po.bill_to {
        address_holder(x, "BillTo", p, &PartyKept::of(e, "bill_to"));
    }
    kept.before(x, "Shipping");
    if let Some(s) = shipping_only(&po.charges, "$.charges")? {
        shipping(x, s, cur);
    }
    kept.before(x, "Tax");
    tax(x, &po.taxes, cur, e);
    kept.before(x, "PaymentTerm");
    if let Some(t) = &po.payment_terms {
        payment_terms(x, t);
    }
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
    if let Some(r) = ext_str(e, "document_reference") {
        x.empty("DocumentReference", &[("payloadID", Some(r))]);
    }
    kept.before(x, "Extrinsic");
    extrinsics(x, e);
    kept.rest(x);
    x.close("OrderRequestHeader");
    Ok(())
}

fn item(x: &mut Xml, i: usize, l: &OrderLine, cur: &str) -> Result<(), EncodeError> {
    let qty = l.quantity.map(|q| gateway_model::decimal_text(q, '.'));
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
            ("quantity", Some(qty.as_deref().unwrap_or(""))),
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
    money_in(x, "UnitPrice", cur, l.unit_price);
    line_descriptions(x, l.description.as_deref(), &l.extensions, true);
    x.leaf("UnitOfMeasure", &[], l.uom.as_deref().unwrap_or(""));
    let ext = cxml_ext(&l.extensions);
    if let Some(classes) = ext
        .and_then(|e| e.get("classification"))
        .and_then(Value::as_array)
    {
        for c in classes {
            x.leaf(
                "Classification",
                &[("domain", c.get("domain").and_then(Value::as_str))],
                c.get("value").and_then(Value::as_str).unwrap_or(""),
            );
        }
    }
    if let Some(m) = ext_str(&l.extensions, "manufacturer_part_id") {
        x.leaf("ManufacturerPartID", &[], m);
    }
    if let Some(m) = ext_str(&l.extensions, "manufacturer_name") {
        x.leaf("ManufacturerName", &[("xml:lang", Some("en"))], m);
    }
    extrinsics(x, &l.extensions);
    let amount = l.amount.map(|a| a.to_string());
    carried_extrinsics(x, amount.as_deref().map(|a| (carried::LINE_AMOUNT, a)));
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
