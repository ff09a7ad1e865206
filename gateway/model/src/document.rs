//! The document kinds: invoice and purchase order, and the [`Document`] enum over them.

use std::borrow::Cow;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::Text;

use crate::parts::{Charge, Extensions, Party, PaymentTerms, ShippingTerms, Tax};

/// The version of the canonical contract these types implement.
pub const SCHEMA_VERSION: u32 = 1;

fn schema_version() -> u32 {
    SCHEMA_VERSION
}

/// Schema stand-in for decimals: they travel as strings so no precision is lost.
#[derive(Debug)]
pub(crate) struct DecimalString;

impl JsonSchema for DecimalString {
    fn schema_name() -> Cow<'static, str> {
        "DecimalString".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "pattern": "^-?[0-9]+(\\.[0-9]+)?$",
            "description": "A decimal number written as a string, e.g. \"1505.00\"."
        })
    }
}

/// One canonical document. Serialised with its `kind` tag (`"invoice"`, `"purchase_order"`).
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
// Both variants are about the same size, so boxing would add an allocation without saving memory.
#[allow(clippy::large_enum_variant)]
pub enum Document {
    Invoice(Invoice),
    PurchaseOrder(PurchaseOrder),
}

/// The kind of a document, for routing keys, metrics and messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    Invoice,
    PurchaseOrder,
    OrderConfirmation,
    ShipNotice,
}

impl DocumentKind {
    /// The name used in JSON, routing keys and metric labels.
    pub fn as_str(self) -> &'static str {
        match self {
            DocumentKind::Invoice => "invoice",
            DocumentKind::PurchaseOrder => "purchase_order",
            DocumentKind::OrderConfirmation => "order_confirmation",
            DocumentKind::ShipNotice => "ship_notice",
        }
    }
}

impl std::fmt::Display for DocumentKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Document {
    pub fn kind(&self) -> DocumentKind {
        match self {
            Document::Invoice(_) => DocumentKind::Invoice,
            Document::PurchaseOrder(_) => DocumentKind::PurchaseOrder,
        }
    }

    /// The business number: invoice number or PO number (empty when missing).
    pub fn number(&self) -> &str {
        match self {
            Document::Invoice(i) => i.invoice_number.as_deref().unwrap_or(""),
            Document::PurchaseOrder(p) => p.po_number.as_deref().unwrap_or(""),
        }
    }

    pub fn extensions(&self) -> &Extensions {
        match self {
            Document::Invoice(i) => &i.extensions,
            Document::PurchaseOrder(p) => &p.extensions,
        }
    }

    pub fn extensions_mut(&mut self) -> &mut Extensions {
        match self {
            Document::Invoice(i) => &mut i.extensions,
            Document::PurchaseOrder(p) => &mut p.extensions,
        }
    }
}

/// What an invoice does to the amount owed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum InvoicePurpose {
    Standard,
    CreditMemo,
    DebitMemo,
}

/// What a purchase order message does to the order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrderPurpose {
    New,
    Update,
    Cancel,
}

/// Kind of an allowance or charge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChargeKind {
    Shipping,
    Handling,
    Discount,
    Other,
}

/// A supplier's invoice (`"kind": "invoice"`).
///
/// Required fields are `Option`s so a decoder can hand over what the source carried and
/// [`Document::validate`] can name every missing field at once instead of failing on the first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Invoice {
    #[serde(default = "schema_version")]
    pub schema_version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice_number: Option<Text>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::date_json::optional_date"
    )]
    pub invoice_date: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<InvoicePurpose>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub po_number: Option<Text>,
    /// ISO 4217 code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supplier: Option<Party>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buyer: Option<Party>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bill_to: Option<Party>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remit_to: Option<Party>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ship_to: Option<Party>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_terms: Option<PaymentTerms>,
    #[serde(default)]
    pub lines: Vec<InvoiceLine>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub taxes: Vec<Tax>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub charges: Vec<Charge>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<DecimalString>")]
    #[serde(deserialize_with = "crate::decimal_json::optional_decimal")]
    pub subtotal: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<DecimalString>")]
    #[serde(deserialize_with = "crate::decimal_json::optional_decimal")]
    pub tax_total: Option<Decimal>,
    /// Amount to be paid before any terms discount.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<DecimalString>")]
    #[serde(deserialize_with = "crate::decimal_json::optional_decimal")]
    pub total: Option<Decimal>,
    /// Free-text comments or notes carried by the source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comments: Option<Text>,
    #[serde(default, skip_serializing_if = "Extensions::is_empty")]
    pub extensions: Extensions,
}

impl Default for Invoice {
    fn default() -> Self {
        Invoice {
            schema_version: SCHEMA_VERSION,
            invoice_number: None,
            invoice_date: None,
            purpose: None,
            po_number: None,
            currency: None,
            supplier: None,
            buyer: None,
            bill_to: None,
            remit_to: None,
            ship_to: None,
            payment_terms: None,
            lines: Vec::new(),
            taxes: Vec::new(),
            charges: Vec::new(),
            subtotal: None,
            tax_total: None,
            total: None,
            comments: None,
            extensions: Extensions::new(),
        }
    }
}

/// One invoice line.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InvoiceLine {
    /// The source's line number, else the 1-based ordinal.
    pub line_number: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<DecimalString>")]
    #[serde(deserialize_with = "crate::decimal_json::optional_decimal")]
    pub quantity: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uom: Option<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<DecimalString>")]
    #[serde(deserialize_with = "crate::decimal_json::optional_decimal")]
    pub unit_price: Option<Decimal>,
    /// Extended amount; decoders compute quantity × unit price when the source omits it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<DecimalString>")]
    #[serde(deserialize_with = "crate::decimal_json::optional_decimal")]
    pub amount: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supplier_part_id: Option<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buyer_part_id: Option<Text>,
    /// The PO line this line bills, as the source writes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub po_line_number: Option<Text>,
    /// The PO this line bills when it is not the invoice's `po_number` (an invoice billing
    /// several POs); absent, the line bills the invoice's PO.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub po_number: Option<Text>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub taxes: Vec<Tax>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub charges: Vec<Charge>,
    #[serde(default, skip_serializing_if = "Extensions::is_empty")]
    pub extensions: Extensions,
}

/// A buyer's purchase order (`"kind": "purchase_order"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PurchaseOrder {
    #[serde(default = "schema_version")]
    pub schema_version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub po_number: Option<Text>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::date_json::optional_date"
    )]
    pub order_date: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<OrderPurpose>,
    /// Change number when known (Coupa PO version).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supplier: Option<Party>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buyer: Option<Party>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bill_to: Option<Party>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ship_to: Option<Party>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_terms: Option<PaymentTerms>,
    /// The delivery terms the supplier ships under (Coupa's `shipping-term`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping_terms: Option<ShippingTerms>,
    #[serde(default)]
    pub lines: Vec<OrderLine>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub taxes: Vec<Tax>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub charges: Vec<Charge>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<DecimalString>")]
    #[serde(deserialize_with = "crate::decimal_json::optional_decimal")]
    pub total: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comments: Option<Text>,
    #[serde(default, skip_serializing_if = "Extensions::is_empty")]
    pub extensions: Extensions,
}

impl Default for PurchaseOrder {
    fn default() -> Self {
        PurchaseOrder {
            schema_version: SCHEMA_VERSION,
            po_number: None,
            order_date: None,
            purpose: None,
            version: None,
            currency: None,
            supplier: None,
            buyer: None,
            bill_to: None,
            ship_to: None,
            payment_terms: None,
            shipping_terms: None,
            lines: Vec::new(),
            taxes: Vec::new(),
            charges: Vec::new(),
            total: None,
            comments: None,
            extensions: Extensions::new(),
        }
    }
}

impl PurchaseOrder {
    /// The sum of the lines' amounts ([`OrderLine::extended_amount`]), zero for an order
    /// without lines; `None` when a line has no amount to add (no `amount`, and no quantity
    /// or unit price to make one) or the sum overflows.
    ///
    /// A supplier checks an order's total against its lines, so this is the total a supplier
    /// is shown when the order gives none ([`PurchaseOrder::shown_total`]). It is never written
    /// into the model's `total`, which stays what the source said (CANONICAL.md: a field the
    /// source does not carry is not invented).
    ///
    /// Written as [`shown_sum`] writes a sum: `1112.47`, not the `1112.470` that lines of
    /// three-decimal quantities add up to.
    pub fn lines_total(&self) -> Option<Decimal> {
        shown_lines_sum(self.lines.iter().map(OrderLine::extended_amount))
    }

    /// The total a supplier is shown: the order's own `total`, else
    /// [`PurchaseOrder::lines_total`]. One computation for every place that shows one (the PO
    /// mail's text, the cXML `Total` the DTD requires), so a supplier reading both never sees
    /// two figures for one order.
    pub fn shown_total(&self) -> Option<Decimal> {
        self.total.or_else(|| self.lines_total())
    }
}

impl Invoice {
    /// The sum of the lines' amounts ([`InvoiceLine::extended_amount`]) as [`shown_sum`]
    /// writes it, zero for an invoice without lines; `None` when a line has no amount to add
    /// (no `amount`, and no quantity or unit price to make one) or the sum overflows. What a
    /// format that requires a subtotal (cXML's `SubtotalAmount`) shows for an invoice that
    /// gives none; never written into the model's `subtotal`, which stays what the source
    /// said.
    pub fn lines_total(&self) -> Option<Decimal> {
        shown_lines_sum(self.lines.iter().map(InvoiceLine::extended_amount))
    }
}

/// The sum of lines' amounts as [`shown_sum`] writes it; `None` when a line has none or the
/// sum overflows. One computation for an order's total and an invoice's subtotal.
fn shown_lines_sum(mut amounts: impl Iterator<Item = Option<Decimal>>) -> Option<Decimal> {
    amounts
        .try_fold(Decimal::ZERO, |sum, amount| sum.checked_add(amount?))
        .map(shown_sum)
}

/// A sum the gateway computed, as it writes it where a document gives none (a PO's total
/// from its lines, an invoice's subtotal or tax): at the scale of its terms less the trailing
/// zeros past two decimals, and never with fewer than two, most currencies' minor unit (lines
/// of three-decimal quantities made an OrderRequest `Total` of `1112.470`): `1112.47`,
/// `170.00`, `120.00` for `120`, `0.125` stays `0.125`.
pub fn shown_sum(sum: Decimal) -> Decimal {
    let mut shown = sum.normalize();
    if shown.scale() < 2 {
        shown.rescale(2);
    }
    shown
}

impl OrderLine {
    /// The line's amount: its own `amount`, else quantity × unit price (`None` when neither
    /// is there, or the product overflows).
    pub fn extended_amount(&self) -> Option<Decimal> {
        self.amount
            .or_else(|| match (self.quantity, self.unit_price) {
                (Some(q), Some(p)) => q.checked_mul(p),
                _ => None,
            })
    }
}

/// One purchase order line.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderLine {
    pub line_number: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<DecimalString>")]
    #[serde(deserialize_with = "crate::decimal_json::optional_decimal")]
    pub quantity: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uom: Option<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<DecimalString>")]
    #[serde(deserialize_with = "crate::decimal_json::optional_decimal")]
    pub unit_price: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<DecimalString>")]
    #[serde(deserialize_with = "crate::decimal_json::optional_decimal")]
    pub amount: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supplier_part_id: Option<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buyer_part_id: Option<Text>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::date_json::optional_date"
    )]
    pub need_by: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub taxes: Vec<Tax>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub charges: Vec<Charge>,
    #[serde(default, skip_serializing_if = "Extensions::is_empty")]
    pub extensions: Extensions,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    /// QA: an OrderRequest for a PO without a total said `1112.470`, lines of three-decimal
    /// quantities summed at their scale. A computed sum drops zeros past two decimals only.
    #[test]
    fn a_computed_sum_keeps_two_decimals_and_no_trailing_zeros_past_them() {
        for (sum, shown) in [
            ("1112.470", "1112.47"),
            ("1112.400", "1112.40"),
            ("1112.000", "1112.00"),
            ("170.00", "170.00"),
            ("120", "120.00"),
            ("12.5", "12.50"),
            ("0.125", "0.125"),
            ("0.1250", "0.125"),
            ("0.000", "0.00"),
            ("-3.100", "-3.10"),
        ] {
            assert_eq!(shown_sum(d(sum)).to_string(), shown, "{sum}");
        }
        let line = |q: &str, p: &str| OrderLine {
            quantity: Some(d(q)),
            unit_price: Some(d(p)),
            ..OrderLine::default()
        };
        let po = PurchaseOrder {
            lines: vec![line("2.500", "444.988"), line("1", "0.00")],
            ..PurchaseOrder::default()
        };
        // 2.500 × 444.988 = 1112.470000
        assert_eq!(
            po.lines_total().map(|t| t.to_string()).as_deref(),
            Some("1112.47")
        );
        let inv = Invoice {
            lines: vec![
                InvoiceLine {
                    amount: Some(d("125.00")),
                    ..InvoiceLine::default()
                },
                InvoiceLine {
                    quantity: Some(d("1")),
                    unit_price: Some(d("45.00")),
                    ..InvoiceLine::default()
                },
            ],
            ..Invoice::default()
        };
        assert_eq!(
            inv.lines_total().map(|t| t.to_string()).as_deref(),
            Some("170.00")
        );
        assert_eq!(Invoice::default().lines_total(), Some(Decimal::ZERO));
    }
}
