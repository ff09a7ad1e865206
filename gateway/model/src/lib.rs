//! The canonical document model: what the REST API accepts, what travels on the bus and what
//! `gateway convert --to json` prints.
//!
//! The names and meanings are fixed by `CANONICAL.md` (schema_version 1): extend with new
//! optional fields, never rename. This crate knows nothing of cXML, X12, CSV, Coupa, AMQP or
//! HTTP; every wire format maps to and from these types in its own adapter.
//!
//! Money, quantities and rates are [`rust_decimal::Decimal`] serialised as strings so no
//! precision is lost; dates are ISO `YYYY-MM-DD`.

pub mod charset;
mod date_json;
mod decimal_json;
mod decimal_text;
mod discount;
mod document;
mod json;
mod number;
mod parts;
mod sum;
mod text;
mod validate;

pub use decimal_json::parse_canonical_decimal;
pub use decimal_text::{decimal_text, is_plain_decimal_form, parse_plain_decimal, push_decimal};
pub use discount::DiscountSign;
pub use document::{
    ChargeKind, Document, DocumentKind, Invoice, InvoiceLine, InvoicePurpose, OrderLine,
    OrderPurpose, PurchaseOrder, SCHEMA_VERSION, shown_sum,
};
pub use json::{
    JsonError, JsonItem, from_json, from_json_lines, from_json_lines_or, read_json, read_json_each,
    to_json, to_json_line,
};
pub use number::{number_key, same_number};
pub use parts::{Address, Charge, Extensions, Party, PartyId, PaymentTerms, ShippingTerms, Tax};
pub use sum::checked_sum;
pub use text::Text;
pub use validate::{
    COUPA_MAX_INVOICE_LINES, COUPA_MAX_INVOICE_NUMBER, COUPA_MAX_LINE_DESCRIPTION,
    Context as ValidationContext, CreditDirection, PARTNER_KINDS, PartnerSupplier, Problem,
    Severity, TOO_LONG, ValidationReport,
};

pub use chrono::NaiveDate;
pub use rust_decimal::Decimal;

/// The JSON Schema of one canonical document, generated from these types. Committed in
/// `schemas/canonical.schema.json`; a test fails when the committed copy is stale.
pub fn json_schema() -> serde_json::Value {
    let schema = schemars::schema_for!(Document);
    serde_json::to_value(&schema).unwrap_or(serde_json::Value::Null)
}
