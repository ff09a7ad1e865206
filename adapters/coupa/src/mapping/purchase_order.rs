//! Coupa purchase order JSON (`GET /api/purchase_orders`) → canonical [`PurchaseOrder`].

use gateway_model::{
    Address, Decimal, NaiveDate, OrderLine, OrderPurpose, Party, PartyId, PaymentTerms,
    PurchaseOrder, ShippingTerms, Text,
};
use serde_json::{Map, Value};

use super::payment_term::terms_of_code;
use crate::error::CoupaError;

/// Most lines mapped from one PO: the gateway's own bound on what it reads and writes for one
/// order, not Coupa's (Coupa publishes none), so a PO past it says so and what to do.
const MAX_LINES: usize = 10_000;

/// A PO line's supplier auxiliary part id in Coupa's JSON.
const AUXILIARY_PART: &str = "supp-aux-part-num";

fn text(v: &Value, key: &str) -> Option<Text> {
    match v.get(key)? {
        Value::String(s) if !s.trim().is_empty() => Some(Text::from(s.trim())),
        Value::Number(n) => Some(Text::from(n.to_string())),
        _ => None,
    }
}

/// A decimal from Coupa's decimal strings (numbers accepted too); `Err` names the field.
fn decimal(v: &Value, key: &str, at: &str) -> Result<Option<Decimal>, CoupaError> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => {
            s.trim().parse().map(Some).map_err(|_| {
                CoupaError::Mapping(format!("{at}/{key}: expected a decimal, got {s:?}"))
            })
        }
        Some(Value::Number(n)) => {
            n.to_string().parse().map(Some).map_err(|_| {
                CoupaError::Mapping(format!("{at}/{key}: expected a decimal, got {n}"))
            })
        }
        Some(other) => Err(CoupaError::Mapping(format!(
            "{at}/{key}: expected a decimal string, got {other}"
        ))),
    }
}

/// The date part of Coupa's ISO 8601 timestamps (`2010-03-25T18:38:00-07:00` → 2010-03-25,
/// the source's local date, as CANONICAL.md asks).
fn date(v: &Value, key: &str, at: &str) -> Result<Option<NaiveDate>, CoupaError> {
    let Some(s) = text(v, key) else {
        return Ok(None);
    };
    let day = s.get(..10).unwrap_or(&s);
    NaiveDate::parse_from_str(day, "%Y-%m-%d")
        .map(Some)
        .map_err(|_| CoupaError::Mapping(format!("{at}/{key}: expected an ISO date, got {s:?}")))
}

fn code(v: &Value, key: &str) -> Option<Text> {
    v.get(key).and_then(|o| text(o, "code"))
}

fn ship_to(po: &Value) -> Option<Party> {
    let a = po.get("ship-to-address").filter(|a| a.is_object())?;
    let lines: Vec<Text> = ["street1", "street2", "street3", "street4"]
        .iter()
        .filter_map(|k| text(a, k))
        .collect();
    let address = Address {
        lines,
        city: text(a, "city"),
        region: text(a, "state"),
        postal_code: text(a, "postal-code"),
        country: code(a, "country"),
    };
    let mut ids = Vec::new();
    if let Some(id) = text(a, "id") {
        ids.push(PartyId {
            domain: "coupa".into(),
            value: id,
        });
    }
    Some(Party {
        name: text(a, "name"),
        ids,
        address: Some(address),
        contact: text(po, "ship-to-attention"),
        ..Party::default()
    })
}

fn supplier(po: &Value) -> Option<Party> {
    let s = po.get("supplier").filter(|s| s.is_object())?;
    let mut ids = Vec::new();
    if let Some(id) = text(s, "id") {
        ids.push(PartyId {
            domain: "coupa".into(),
            value: id,
        });
    }
    if let Some(n) = text(s, "number") {
        ids.push(PartyId {
            domain: "coupa-number".into(),
            value: n,
        });
    }
    Some(Party {
        name: text(s, "name"),
        ids,
        ..Party::default()
    })
}

fn line(l: &Value, ordinal: usize, at: &str) -> Result<OrderLine, CoupaError> {
    let line_number = match l.get("line-num") {
        Some(Value::Number(n)) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    }
    .unwrap_or_else(|| u32::try_from(ordinal).unwrap_or(u32::MAX));
    let mut extensions = gateway_model::Extensions::new();
    let mut coupa = Map::new();
    for key in ["id", "type"] {
        if let Some(v) = l.get(key).filter(|v| !v.is_null()) {
            coupa.insert(key.into(), v.clone());
        }
    }
    // The supplier's auxiliary part id, the key of a punch-out item (cXML's
    // `SupplierPartAuxiliaryID`): the model has no field for it, so it stays in Coupa's form,
    // as text, where every supplier format's writer finds it
    // (`gateway_core::supplier_part_auxiliary_id`).
    if let Some(aux) = text(l, AUXILIARY_PART) {
        coupa.insert(AUXILIARY_PART.into(), Value::String(aux.to_string()));
    }
    if !coupa.is_empty() {
        extensions.insert("coupa".into(), Value::Object(coupa));
    }
    Ok(OrderLine {
        line_number,
        quantity: decimal(l, "quantity", at)?,
        uom: code(l, "uom"),
        unit_price: decimal(l, "price", at)?,
        amount: decimal(l, "total", at)?,
        description: text(l, "description"),
        supplier_part_id: text(l, "source-part-num"),
        buyer_part_id: l.get("item").and_then(|i| text(i, "number")),
        need_by: date(l, "need-by-date", at)?,
        extensions,
        ..OrderLine::default()
    })
}

/// A whole number of days from a Coupa integer field (a number, or a string of digits); `Err`
/// names the field.
fn days(v: &Value, key: &str, at: &str) -> Result<Option<u32>, CoupaError> {
    let bad = |got: &dyn std::fmt::Display| {
        CoupaError::Mapping(format!(
            "{at}/{key}: expected a whole number of days, got {got}"
        ))
    };
    match v.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| bad(&format!("{s:?}"))),
        Some(Value::Number(n)) => n
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .map(Some)
            .ok_or_else(|| bad(n)),
        Some(other) => Err(bad(other)),
    }
}

/// The PO's payment terms from Coupa's `payment-term`: its `code` is the description, always.
///
/// The days and the discount come from the record's own fields when they say something
/// (`days-for-net-payment`, or a `discount-rate` other than zero, in percent, with its
/// `days-for-discount-payment`: Coupa's payment-term attributes, `2/10 Net 30` being `30`,
/// `2.0`, `10`; the record wins over its code), else from the code in the usual forms `Net N`
/// and `P/D Net N` (see [`super::payment_term::terms_of_code`]). Every supplier format reads the model's fields
/// (cXML `PaymentTerm`s with a `Discount`, X12 ITD, CSV), so a discount left in the code alone
/// reached the supplier as text only. A rate that is not a percent (negative, 100 or more) is
/// refused with its path, as a bad amount is.
fn payment_terms(po: &Value) -> Result<Option<PaymentTerms>, CoupaError> {
    let Some(term) = po.get("payment-term").filter(|t| t.is_object()) else {
        return Ok(None);
    };
    let at = "payment-term";
    let description = text(term, "code");
    let net_days = days(term, "days-for-net-payment", at)?;
    let rate = decimal(term, "discount-rate", at)?;
    if let Some(r) = rate
        && (r.is_sign_negative() || r >= Decimal::ONE_HUNDRED)
    {
        return Err(CoupaError::Mapping(format!(
            "{at}/discount-rate: expected a percent from 0 to below 100, got {r}"
        )));
    }
    let discount_days = days(term, "days-for-discount-payment", at)?;
    // A rate of zero is no discount (and days for it say nothing).
    let percent = rate.filter(|r| !r.is_zero());
    let mut terms = if net_days.is_some() || percent.is_some() {
        PaymentTerms {
            net_days,
            discount_percent: percent,
            discount_days: percent.and(discount_days),
            description: None,
        }
    } else {
        description
            .as_deref()
            .and_then(terms_of_code)
            .unwrap_or_default()
    };
    terms.description = description;
    Ok((terms != PaymentTerms::default()).then_some(terms))
}

/// Maps one Coupa PO. `purpose`: `cancel` when cancelled, `update` for version > 1, else
/// `new`. `order_date` is the date of `created-at` (Coupa's JSON has no order date of its own).
/// `payment-term` gives the payment terms (its code the description, its days and discount
/// from its fields or its code: [`payment_terms`]), `shipping-term` (`{"code": ...}`) the
/// shipping terms' code; `ship-to-attention` the ship-to's contact.
/// Coupa's `id` and `status` go to `extensions.coupa` (needed to mark it exported).
pub fn purchase_order_from_coupa(po: &Value) -> Result<PurchaseOrder, CoupaError> {
    if !po.is_object() {
        return Err(CoupaError::Mapping(
            "purchase order: expected a JSON object".into(),
        ));
    }
    let version = match po.get("version") {
        Some(Value::Number(n)) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    };
    let status = text(po, "status");
    let purpose = if matches!(status.as_deref(), Some("cancelled" | "canceled")) {
        OrderPurpose::Cancel
    } else if version.is_some_and(|v| v > 1) {
        OrderPurpose::Update
    } else {
        OrderPurpose::New
    };
    let raw_lines = po.get("order-lines").and_then(Value::as_array);
    if let Some(l) = raw_lines.filter(|l| l.len() > MAX_LINES) {
        return Err(CoupaError::Mapping(format!(
            "purchase order has {} lines, more than the {MAX_LINES} the gateway takes on one \
             order (its own fixed limit, not Coupa's), so the gateway does not send it: send \
             it to the supplier another way, or split the order in Coupa into orders of at \
             most {MAX_LINES} lines",
            l.len()
        )));
    }
    let lines = raw_lines
        .into_iter()
        .flatten()
        .enumerate()
        .map(|(i, l)| line(l, i + 1, &format!("order-lines[{i}]")))
        .collect::<Result<Vec<_>, _>>()?;
    let mut coupa = Map::new();
    for key in ["id", "status", "exported"] {
        if let Some(v) = po.get(key).filter(|v| !v.is_null()) {
            coupa.insert(key.into(), v.clone());
        }
    }
    let mut extensions = gateway_model::Extensions::new();
    extensions.insert("coupa".into(), Value::Object(coupa));
    let currency = code(po, "currency").or_else(|| {
        raw_lines
            .and_then(|l| l.first())
            .and_then(|l| code(l, "currency"))
    });
    Ok(PurchaseOrder {
        po_number: text(po, "po-number"),
        order_date: date(po, "created-at", "")?,
        purpose: Some(purpose),
        version,
        currency,
        supplier: supplier(po),
        ship_to: ship_to(po),
        payment_terms: payment_terms(po)?,
        // The delivery terms the supplier ships under: its code, as for the payment term.
        shipping_terms: code(po, "shipping-term").map(|c| ShippingTerms { code: Some(c) }),
        lines,
        total: decimal(po, "total", "")?,
        extensions,
        ..PurchaseOrder::default()
    })
}
