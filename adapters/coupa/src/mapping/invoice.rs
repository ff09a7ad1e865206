//! Canonical [`Invoice`] → Coupa invoice JSON for `POST /api/invoices`.

use gateway_core::profile::CoupaSupplierRef;
use gateway_model::{ChargeKind, Decimal, Invoice, InvoiceLine, InvoicePurpose, Party, Tax};
use serde_json::{Map, Value, json};

use super::address_to_coupa;
use crate::error::CoupaError;

/// Options the canonical invoice does not carry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InvoiceMapping {
    /// `account-type {name}` (chart of accounts), when the instance requires one.
    pub account_type: Option<String>,
}

/// How the invoice names its supplier in Coupa: `{"id": n}` once resolved, else number/name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SupplierKey {
    Id(u64),
    Number(String),
    Name(String),
}

impl SupplierKey {
    fn to_json(&self) -> Value {
        match self {
            SupplierKey::Id(id) => json!({ "id": id }),
            SupplierKey::Number(n) => json!({ "number": n }),
            SupplierKey::Name(n) => json!({ "name": n }),
        }
    }
}

/// The supplier reference carried by a canonical party: an id in domain `coupa` (a numeric
/// value is Coupa's supplier id, any other value its supplier number), a number in domain
/// `coupa-number`, else the party name. `None` when none of them is there.
pub fn supplier_ref_from_party(p: &Party) -> Option<CoupaSupplierRef> {
    let coupa = p.id_in("coupa").map(str::trim).filter(|v| !v.is_empty());
    let id = coupa.and_then(|v| v.parse::<u64>().ok());
    let number = p
        .id_in("coupa-number")
        .map(str::to_string)
        .or_else(|| coupa.filter(|_| id.is_none()).map(str::to_string));
    let name = p
        .name
        .as_deref()
        .filter(|n| !n.trim().is_empty())
        .map(str::to_string);
    if id.is_none() && number.is_none() && name.is_none() {
        return None;
    }
    Some(CoupaSupplierRef { id, number, name })
}

fn dec(d: Decimal) -> Value {
    Value::String(d.to_string())
}

fn tax_line(t: &Tax) -> Value {
    let mut m = Map::new();
    if let Some(a) = t.amount {
        m.insert("amount".into(), dec(a));
    }
    if let Some(r) = t.rate {
        m.insert("rate".into(), dec(r));
    }
    if let Some(a) = t.taxable_amount {
        m.insert("taxable-amount".into(), dec(a));
    }
    if let Some(d) = t.description.as_ref().or(t.category.as_ref()) {
        m.insert("description".into(), json!(d));
    }
    Value::Object(m)
}

fn line(l: &InvoiceLine, po_number: Option<&str>) -> Value {
    let mut m = Map::new();
    m.insert("line-num".into(), json!(l.line_number));
    let quantity_line = l.quantity.is_some();
    m.insert(
        "type".into(),
        json!(if quantity_line {
            "InvoiceQuantityLine"
        } else {
            "InvoiceAmountLine"
        }),
    );
    if let Some(d) = &l.description {
        m.insert("description".into(), json!(d));
    }
    // An amount line's price is its amount.
    let price = if quantity_line {
        l.unit_price
    } else {
        l.unit_price.or(l.amount)
    };
    if let Some(p) = price {
        m.insert("price".into(), dec(p));
    }
    if let Some(q) = l.quantity {
        m.insert("quantity".into(), dec(q));
    }
    if let Some(u) = &l.uom {
        m.insert("uom".into(), json!({ "code": u }));
    }
    if let Some(a) = l.amount {
        m.insert("total".into(), dec(a));
    }
    if let Some(p) = &l.supplier_part_id {
        m.insert("source-part-num".into(), json!(p));
    }
    if let Some(po) = po_number {
        m.insert("po-number".into(), json!(po));
    }
    if let Some(pl) = &l.po_line_number {
        m.insert("order-line-num".into(), json!(pl));
    }
    if !l.taxes.is_empty() {
        m.insert(
            "tax-lines".into(),
            Value::Array(l.taxes.iter().map(tax_line).collect()),
        );
    }
    Value::Object(m)
}

/// Maps a canonical invoice to Coupa's create body. Fails only when the invoice number or date
/// is missing (Coupa's required keys); everything else Coupa validates itself and refuses with
/// its own message.
///
/// Choices: header taxes → `tax-amount` (and `tax-rate` when there is exactly one rate) unless
/// a line carries taxes (then `line-level-taxation` is true and lines carry `tax-lines`);
/// charges → `shipping-amount` / `handling-amount` / `misc-amount` (discounts as a negative
/// misc amount); `total` → `supplier-total` (the control total); `comments` →
/// `supplier-note`; credit memos set `is-credit-note`; a memo names the invoice it corrects
/// (`original-invoice-number`, `original-invoice-date`, from [`gateway_core::original_invoice`]).
pub fn invoice_to_coupa(
    inv: &Invoice,
    supplier: &SupplierKey,
    opts: &InvoiceMapping,
) -> Result<Value, CoupaError> {
    let number = inv
        .invoice_number
        .as_deref()
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| CoupaError::Mapping("invoice_number is missing".into()))?;
    let date = inv
        .invoice_date
        .ok_or_else(|| CoupaError::Mapping("invoice_date is missing".into()))?;
    let line_level = inv.lines.iter().any(|l| !l.taxes.is_empty());
    let mut m = Map::new();
    m.insert("invoice-number".into(), json!(number));
    m.insert(
        "invoice-date".into(),
        json!(date.format("%Y-%m-%d").to_string()),
    );
    m.insert("supplier".into(), supplier.to_json());
    if let Some(c) = &inv.currency {
        m.insert("currency".into(), json!({ "code": c }));
    }
    m.insert("line-level-taxation".into(), json!(line_level));
    if inv.purpose == Some(InvoicePurpose::CreditMemo) {
        m.insert("is-credit-note".into(), json!(true));
    }
    // The invoice a memo corrects, so AP sees the credit note linked to it.
    if inv.purpose.is_some_and(|p| p != InvoicePurpose::Standard) {
        let original = gateway_core::original_invoice(inv);
        if let Some(n) = original.number {
            m.insert("original-invoice-number".into(), json!(n));
        }
        if let Some(d) = original.date {
            m.insert(
                "original-invoice-date".into(),
                json!(d.format("%Y-%m-%d").to_string()),
            );
        }
    }
    if let Some(a) = &opts.account_type {
        m.insert("account-type".into(), json!({ "name": a }));
    }
    if let Some(d) = inv
        .payment_terms
        .as_ref()
        .and_then(|p| p.description.as_ref())
    {
        m.insert("payment-term".into(), json!({ "code": d }));
    }
    for (key, party) in [
        ("bill-to-address", &inv.bill_to),
        ("ship-to-address", &inv.ship_to),
        ("remit-to-address", &inv.remit_to),
    ] {
        if let Some(p) = party
            && let Some(a) = &p.address
        {
            m.insert(key.into(), address_to_coupa(p.name.as_deref(), a));
        }
    }
    if !line_level && !inv.taxes.is_empty() {
        let amounts: Vec<Decimal> = inv.taxes.iter().filter_map(|t| t.amount).collect();
        if !amounts.is_empty() {
            m.insert("tax-amount".into(), dec(amounts.iter().copied().sum()));
        }
        if let [only] = inv.taxes.as_slice()
            && let Some(r) = only.rate
        {
            m.insert("tax-rate".into(), dec(r));
        }
    }
    let sum = |kind: ChargeKind| -> Option<Decimal> {
        let v: Vec<Decimal> = inv
            .charges
            .iter()
            .filter(|c| c.kind == kind)
            .filter_map(|c| c.amount)
            .collect();
        (!v.is_empty()).then(|| v.into_iter().sum())
    };
    if let Some(s) = sum(ChargeKind::Shipping) {
        m.insert("shipping-amount".into(), dec(s));
    }
    if let Some(h) = sum(ChargeKind::Handling) {
        m.insert("handling-amount".into(), dec(h));
    }
    let misc = match (sum(ChargeKind::Other), sum(ChargeKind::Discount)) {
        (None, None) => None,
        (o, d) => Some(o.unwrap_or_default() - d.unwrap_or_default()),
    };
    if let Some(x) = misc {
        m.insert("misc-amount".into(), dec(x));
    }
    if let Some(t) = inv.total {
        m.insert("supplier-total".into(), dec(t));
    }
    if let Some(c) = &inv.comments {
        m.insert("supplier-note".into(), json!(c));
    }
    m.insert(
        "invoice-lines".into(),
        Value::Array(
            inv.lines
                .iter()
                .map(|l| line(l, inv.po_number.as_deref()))
                .collect(),
        ),
    );
    Ok(Value::Object(m))
}
