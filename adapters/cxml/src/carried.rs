//! Canonical fields cXML has no element for, carried in `Extrinsic`s so that canonical → cXML
//! → canonical keeps them: the encoder writes them, the decoder takes them back out (they do
//! not land in `extensions`). The names are ours; a receiver that does not know them ignores
//! them as it ignores any Extrinsic.
//!
//! - The description of a charge whose cXML element has no `Description`: the summary's
//!   `ShippingAmount` and `InvoiceDetailDiscount`, and an invoice line's
//!   `InvoiceDetailLineShipping` and `InvoiceDetailDiscount` (`SpecialHandlingAmount` and
//!   `InvoiceDetailLineSpecialHandling` have a `Description` of their own).
//! - An order line's amount (`ItemOut` has no line total). An order from elsewhere without
//!   the Extrinsic decodes without an amount, as before.

use gateway_model::{Charge, ChargeKind, Text};
use rust_decimal::Decimal;
use serde_json::{Map, Value};

/// The Extrinsic that carries an order line's amount.
pub(crate) const LINE_AMOUNT: &str = "extendedAmount";

/// The Extrinsic that carries the description of a charge of `kind`.
pub(crate) fn charge_description(kind: ChargeKind) -> &'static str {
    match kind {
        ChargeKind::Shipping => "shippingChargeDescription",
        ChargeKind::Handling => "handlingChargeDescription",
        ChargeKind::Discount => "discountChargeDescription",
        ChargeKind::Other => "otherChargeDescription",
    }
}

/// `(name, text)` of the Extrinsics that carry the descriptions of `charges`, leaving out
/// the kinds in `native` (written in the charge's own `Description`).
pub(crate) fn charge_descriptions<'c>(
    charges: &'c [Charge],
    native: &[ChargeKind],
) -> impl Iterator<Item = (&'static str, &'c str)> {
    charges
        .iter()
        .filter(move |c| !native.contains(&c.kind))
        .filter_map(|c| Some((charge_description(c.kind), c.description.as_deref()?)))
}

/// Takes the charge descriptions out of `extrinsic` into the `charges` that have none.
pub(crate) fn restore_charge_descriptions(
    extrinsic: &mut Map<String, Value>,
    charges: &mut [Charge],
) {
    for c in charges.iter_mut().filter(|c| c.description.is_none()) {
        if let Some(Value::String(d)) = extrinsic.remove(charge_description(c.kind)) {
            c.description = Some(Text::from(d));
        }
    }
}

/// An order line's amount carried in `extrinsic` (taken out of it); a value that is not a
/// decimal stays there as it came.
pub(crate) fn take_line_amount(extrinsic: &mut Map<String, Value>) -> Option<Decimal> {
    let amount = match extrinsic.get(LINE_AMOUNT) {
        Some(Value::String(s)) => s.trim().parse::<Decimal>().ok(),
        _ => None,
    }?;
    extrinsic.remove(LINE_AMOUNT);
    Some(amount)
}
