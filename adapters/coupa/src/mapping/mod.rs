//! Pure mapping between the canonical model and Coupa's JSON (dashed keys, decimal strings).
//! No I/O: tested against hand-written expected JSON in `adapters/coupa/tests/data/`.

mod credit_note;
mod invoice;
mod payment_term;
mod purchase_order;

pub use invoice::{
    InvoiceMapping, SupplierKey, invoice_to_coupa, line_charges_at_header, not_sent,
    supplier_ref_from_party,
};
pub(crate) use invoice::{another_supplier_number, numbers_naming_another};
pub use purchase_order::purchase_order_from_coupa;

use serde_json::{Map, Value, json};

use gateway_model::Address;

/// Coupa's address object (`street1`..`street4`, `city`, `state`, `postal-code`,
/// `country {code}`), with `name` when given.
pub(crate) fn address_to_coupa(name: Option<&str>, a: &Address) -> Value {
    let mut m = Map::new();
    if let Some(n) = name {
        m.insert("name".into(), json!(n));
    }
    for (i, line) in a.lines.iter().take(4).enumerate() {
        m.insert(format!("street{}", i + 1), json!(line));
    }
    if let Some(c) = &a.city {
        m.insert("city".into(), json!(c));
    }
    if let Some(r) = &a.region {
        m.insert("state".into(), json!(r));
    }
    if let Some(p) = &a.postal_code {
        m.insert("postal-code".into(), json!(p));
    }
    if let Some(c) = &a.country {
        m.insert("country".into(), json!({ "code": c }));
    }
    Value::Object(m)
}
