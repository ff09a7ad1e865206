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
//!
//! And what the OrderRequest writer fills in because cXML.dtd requires it (and the
//! InvoiceDetailRequest writer because InvoiceDetail.dtd does), so that reading the
//! document back gives the canonical document it was written from, not the filled-in values:
//! - the party a `BillTo` was written from when the order has no bill-to ([`BILL_TO_SOURCE`]);
//! - the fields of an amount line (no quantity) written as one unit of its amount
//!   ([`AMOUNT_BASED_LINE`]);
//! - `PaymentTerm@payInNumberOfDays` read from the terms' description ("Net 45")
//!   ([`DAYS_FROM_DESCRIPTION`]), and the description of terms with no days at all, in the
//!   header Extrinsic Coupa reads a payment term code from ([`PAYMENT_TERM_CODE`]);
//! - the half of a discount term that has no valid `PaymentTerm` (a percent without days, days
//!   without a percent), in header Extrinsics ([`DISCOUNT_PERCENT_WITHOUT_DAYS`],
//!   [`DISCOUNT_DAYS_WITHOUT_PERCENT`]);
//! - `orderDate` for an order without a date: the document's timestamp ([`ORDER_DATE_SOURCE`]);
//! - the `Total` of an order without a total: the sum of its lines' amounts
//!   ([`TOTAL_SOURCE`]);
//! - the summary's `SubtotalAmount` of an invoice without a subtotal, the sum of its lines'
//!   amounts ([`SUBTOTAL_SOURCE`]), and its `Tax/Money` when the invoice has no tax total,
//!   the sum of its taxes' amounts, zero without any ([`TAX_TOTAL_SOURCE`]): an empty `Money`
//!   is no amount a receiver can read;
//! - the zero `Money` of the `InvoiceDetailLineShipping` that carries an invoice line's own
//!   ship-to or ship-from when the line has no shipping charge ([`SHIPPING_WITHOUT_CHARGE`]);
//! - the `ItemOut` of a cancel without lines ([`PLACEHOLDER_ITEM`]);
//! - what a party's `PostalAddress` would hold when the party has no street (`Street+`): in an
//!   Extrinsic of the `Contact`, the header or the `ItemDetail`
//!   ([`POSTAL_ADDRESS_WITHOUT_STREET`], [`SHIP_TO_POSTAL_ADDRESS`], [`BILL_TO_POSTAL_ADDRESS`]).
//! - the `TermsOfDeliveryCode` and `ShippingPaymentMethod` of the `TermsOfDelivery` that
//!   carries the order's shipping terms (its `TransportTerms` holds the code): the element is
//!   exactly [`terms_of_delivery`], which reads back as the code alone.
//!
//! The reader undoes each only while the document still says what the writer wrote (the
//! BillTo is still that party, the line still one unit, ...). The markers' names are the
//! writer's: the reader takes them out either way, since the writer writes its own (a second
//! one of the same name would read back in its place). [`PAYMENT_TERM_CODE`] is Coupa's name
//! and text a sender may have written: it is taken only into terms without a description.

use gateway_model::{
    Charge, ChargeKind, Invoice, OrderLine, Party, PaymentTerms, PurchaseOrder, Text,
};
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

/// The invoice line Extrinsic that says its `InvoiceDetailLineShipping` was written for the
/// line's own ship-to or ship-from alone (its value: [`FOR_SHIP_TO`], [`FOR_SHIP_FROM`]):
/// InvoiceDetail.dtd has no other place for a line's shipping parties, and that element
/// requires `Money`, so a line without a shipping charge of its own gets one of zero, which
/// reads back as no charge.
pub(crate) const SHIPPING_WITHOUT_CHARGE: &str = "lineShippingWithoutCharge";

/// [`SHIPPING_WITHOUT_CHARGE`]'s value.
pub(crate) const FOR_SHIP_TO: &str = "shipTo";

/// [`SHIPPING_WITHOUT_CHARGE`]'s value when the line has a ship-from of its own and no
/// ship-to.
pub(crate) const FOR_SHIP_FROM: &str = "shipFrom";

/// Takes [`SHIPPING_WITHOUT_CHARGE`] out of an invoice line's `extrinsic`, and with it the
/// line's shipping charge while it is still the zero the writer wrote (one changed since is
/// the line's charge).
pub(crate) fn take_shipping_without_charge(
    extrinsic: &mut Map<String, Value>,
    charges: &mut Vec<Charge>,
) {
    if extrinsic.remove(SHIPPING_WITHOUT_CHARGE).is_none() {
        return;
    }
    charges.retain(|c| {
        !(c.kind == ChargeKind::Shipping
            && c.amount.is_some_and(|a| a.is_zero())
            && c.description.is_none())
    });
}

/// The header Extrinsic that says which party a `BillTo` was written from (`buyer`,
/// `shipTo`): the order had no bill-to, and cXML.dtd requires one.
pub(crate) const BILL_TO_SOURCE: &str = "billToSource";

/// [`BILL_TO_SOURCE`]'s value for a `BillTo` written from the buyer.
pub(crate) const FROM_BUYER: &str = "buyer";

/// [`BILL_TO_SOURCE`]'s value for a `BillTo` written from the ship-to.
pub(crate) const FROM_SHIP_TO: &str = "shipTo";

/// The bill-to written from a ship-to: its name, ids and address, without the person goods
/// are delivered to (`contact`, the DeliverTo lines) and that person's e-mail and phone,
/// which are not whom the supplier bills.
pub(crate) fn bill_to_from_ship_to(ship_to: &Party) -> Party {
    Party {
        name: ship_to.name.clone(),
        ids: ship_to.ids.clone(),
        address: ship_to.address.clone(),
        ..Party::default()
    }
}

/// The party [`BILL_TO_SOURCE`] names, taken out of `extrinsic` (the name is the writer's: a
/// value it does not know is dropped, as the writer writes its own).
pub(crate) fn take_bill_to_source(extrinsic: &mut Map<String, Value>) -> Option<Value> {
    extrinsic.remove(BILL_TO_SOURCE)
}

/// Whether the `BillTo` read as `bill_to` was written from the party `source` names (what
/// [`take_bill_to_source`] took) rather than from a bill-to: it still is what the writer
/// makes of that party.
pub(crate) fn bill_to_written_from(
    source: Option<&Value>,
    bill_to: &Party,
    buyer: Option<&Party>,
    ship_to: Option<&Party>,
) -> bool {
    let party = match source {
        Some(Value::String(s)) if s == FROM_BUYER => buyer.cloned(),
        Some(Value::String(s)) if s == FROM_SHIP_TO => ship_to.map(bill_to_from_ship_to),
        _ => None,
    };
    party.as_ref() == Some(bill_to)
}

/// The ItemDetail Extrinsic of an amount line (no quantity, a Coupa `OrderAmountLine`) written
/// as one unit at its amount, since `ItemOut@quantity` is required: the fields the writer
/// filled in, space-separated (`quantity`, and `unitPrice` / `unitOfMeasure` when the line
/// had none).
pub(crate) const AMOUNT_BASED_LINE: &str = "amountBasedLine";

/// What [`AMOUNT_BASED_LINE`] names: the quantity written (one unit).
pub(crate) const FILLED_QUANTITY: &str = "quantity";
/// What [`AMOUNT_BASED_LINE`] names: the unit price written (the amount).
pub(crate) const FILLED_UNIT_PRICE: &str = "unitPrice";
/// What [`AMOUNT_BASED_LINE`] names: the unit of measure written ([`AMOUNT_LINE_UOM`]).
pub(crate) const FILLED_UOM: &str = "unitOfMeasure";

/// The unit of measure of an amount line that has none: UN/CEFACT Rec. 20 "each" (what
/// Coupa's own cXML sample uses), one of it at the line's amount.
pub(crate) const AMOUNT_LINE_UOM: &str = "EA";

/// Undoes on `line` (read from the cXML) what the writer filled in for an amount line, as
/// [`AMOUNT_BASED_LINE`] in `extrinsic` names it, while the line still holds what was filled
/// in: one unit, its amount as the unit price, `EA`. The Extrinsic is taken out of
/// `extrinsic` either way (the name is the writer's, which writes its own).
pub(crate) fn take_amount_based(extrinsic: &mut Map<String, Value>, line: &mut OrderLine) {
    let Some(Value::String(filled)) = extrinsic.remove(AMOUNT_BASED_LINE) else {
        return;
    };
    let filled: Vec<&str> = filled.split_whitespace().collect();
    let known = [FILLED_QUANTITY, FILLED_UNIT_PRICE, FILLED_UOM];
    let holds = filled.iter().all(|f| known.contains(f))
        && filled.contains(&FILLED_QUANTITY)
        && line.quantity == Some(Decimal::ONE)
        && (!filled.contains(&FILLED_UNIT_PRICE)
            || (line.amount.is_some() && line.unit_price == line.amount))
        && (!filled.contains(&FILLED_UOM) || line.uom.as_deref() == Some(AMOUNT_LINE_UOM));
    if !holds {
        return;
    }
    let (price, uom) = (
        filled.contains(&FILLED_UNIT_PRICE),
        filled.contains(&FILLED_UOM),
    );
    line.quantity = None;
    if price {
        line.unit_price = None;
    }
    if uom {
        line.uom = None;
    }
}

/// The PaymentTerm Extrinsic that says its `payInNumberOfDays` (required) was read from the
/// terms' description (its value: `description`), the model having no net days.
pub(crate) const DAYS_FROM_DESCRIPTION: &str = "payInNumberOfDaysSource";

/// [`DAYS_FROM_DESCRIPTION`]'s value.
pub(crate) const FROM_DESCRIPTION: &str = "description";

/// The header Extrinsic with the description of payment terms that have no days (a
/// `PaymentTerm` without its required `payInNumberOfDays` would be invalid): the name Coupa
/// reads a payment term code from in an invoice header ("Option #2" of Coupa's
/// sample cXML invoice with payment terms).
pub(crate) const PAYMENT_TERM_CODE: &str = "PaymentTermCode";

/// The net days a payment-terms description names: `Net 45`, `NET 120`, `net30`,
/// `Net 30 days`, `2% 10 Net 30` (the net part at the end). Nothing for any other text
/// (`Immediate`, `Net 30 EOM`, `Net 10th Prox`): days are not guessed.
pub(crate) fn net_days_of(description: &str) -> Option<u32> {
    let lower = description.trim().to_ascii_lowercase();
    let rest = lower
        .strip_suffix(" days")
        .or_else(|| lower.strip_suffix(" day"))
        .unwrap_or(&lower)
        .trim_end();
    let digits_at = rest
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_ascii_digit())
        .last()
        .map(|(i, _)| i)?;
    let (head, digits) = rest.split_at(digits_at);
    let head = head.trim_end_matches([' ', '-']);
    let before_net = head.strip_suffix("net")?;
    // `net` is a word: at the start, or after a space or punctuation (`2/10 net 30`).
    if before_net
        .chars()
        .next_back()
        .is_some_and(|c| c.is_ascii_alphanumeric())
    {
        return None;
    }
    digits.parse().ok()
}

/// Whether the PaymentTerm whose Extrinsics are `names_values` had its days read from
/// `description` by the writer ([`DAYS_FROM_DESCRIPTION`]) and still says those `days`.
pub(crate) fn days_from_description<'a>(
    mut names_values: impl Iterator<Item = (&'a str, &'a str)>,
    description: Option<&str>,
    days: Option<u32>,
) -> bool {
    names_values.any(|(n, v)| n == DAYS_FROM_DESCRIPTION && v == FROM_DESCRIPTION)
        && days.is_some()
        && description.and_then(net_days_of) == days
}

/// Takes the description of payment terms without days ([`PAYMENT_TERM_CODE`]) out of
/// `extrinsic` into `terms`, when the terms read have no description of their own.
pub(crate) fn take_payment_term_code(
    extrinsic: &mut Map<String, Value>,
    terms: &mut Option<PaymentTerms>,
) {
    if terms.as_ref().is_some_and(|t| t.description.is_some()) {
        return;
    }
    let Some(Value::String(code)) = extrinsic.get(PAYMENT_TERM_CODE) else {
        return;
    };
    // Empty text reads as no description; such a code is not the writer's.
    if code.is_empty() {
        return;
    }
    let code = Text::from(code.as_str());
    extrinsic.remove(PAYMENT_TERM_CODE);
    terms.get_or_insert_with(PaymentTerms::default).description = Some(code);
}

/// The header Extrinsic with the percent of a discount term that has no days (cXML.dtd:
/// `PaymentTerm@payInNumberOfDays` is `#REQUIRED`, so no `PaymentTerm` can hold it).
pub(crate) const DISCOUNT_PERCENT_WITHOUT_DAYS: &str = "discountPercentWithoutDays";

/// The header Extrinsic with the days of a discount term that has no percent (cXML.dtd:
/// `Discount (DiscountPercent | DiscountAmount)`, so no `Discount` can be written for it).
pub(crate) const DISCOUNT_DAYS_WITHOUT_PERCENT: &str = "discountDaysWithoutPercent";

/// Takes the halves of a discount term carried in [`DISCOUNT_PERCENT_WITHOUT_DAYS`] and
/// [`DISCOUNT_DAYS_WITHOUT_PERCENT`] out of `extrinsic` (either way: the names are the
/// writer's) into `terms`, where the terms read have none of their own.
pub(crate) fn take_discount_halves(
    extrinsic: &mut Map<String, Value>,
    terms: &mut Option<PaymentTerms>,
) {
    let percent = match extrinsic.remove(DISCOUNT_PERCENT_WITHOUT_DAYS) {
        Some(Value::String(p)) => gateway_model::parse_plain_decimal(p.trim()),
        _ => None,
    };
    let days = match extrinsic.remove(DISCOUNT_DAYS_WITHOUT_PERCENT) {
        Some(Value::String(d)) => d.trim().parse::<u32>().ok(),
        _ => None,
    };
    if let Some(p) = percent
        && terms.as_ref().is_none_or(|t| t.discount_percent.is_none())
    {
        terms
            .get_or_insert_with(PaymentTerms::default)
            .discount_percent = Some(p);
    }
    if let Some(d) = days
        && terms.as_ref().is_none_or(|t| t.discount_days.is_none())
    {
        terms
            .get_or_insert_with(PaymentTerms::default)
            .discount_days = Some(d);
    }
}

/// The header Extrinsic that says `OrderRequestHeader@orderDate` (`#REQUIRED`) was written
/// from the document's own timestamp (its value: [`FROM_TIMESTAMP`]): the order had no date.
pub(crate) const ORDER_DATE_SOURCE: &str = "orderDateSource";

/// [`ORDER_DATE_SOURCE`]'s value.
pub(crate) const FROM_TIMESTAMP: &str = "timestamp";

/// Whether the `orderDate` read as `order_date` is what the writer filled in for an order
/// without a date: [`ORDER_DATE_SOURCE`] (taken out of `extrinsic` either way) says so and
/// the attribute is still the document's `timestamp`.
pub(crate) fn order_date_filled_in(
    extrinsic: &mut Map<String, Value>,
    order_date: Option<&str>,
    timestamp: Option<&str>,
) -> bool {
    let marked = matches!(extrinsic.remove(ORDER_DATE_SOURCE), Some(Value::String(s)) if s == FROM_TIMESTAMP);
    marked && order_date.is_some() && order_date == timestamp
}

/// The header Extrinsic that says `OrderRequestHeader/Total` (required by cXML.dtd) was written
/// as the sum of the lines' amounts (its value: [`FROM_LINES`]): the order gave no total.
/// A supplier is shown that sum, as the PO mail shows it; reading the document back gives the
/// order without a total, as it was.
pub(crate) const TOTAL_SOURCE: &str = "totalSource";

/// [`TOTAL_SOURCE`]'s value.
pub(crate) const FROM_LINES: &str = "lines";

/// Takes [`TOTAL_SOURCE`] out of the header's `extrinsic`: whether it says the `Total` was
/// the lines' sum ([`total_filled_in`] decides, once the lines are read).
pub(crate) fn take_total_source(extrinsic: &mut Map<String, Value>) -> bool {
    matches!(extrinsic.remove(TOTAL_SOURCE), Some(Value::String(s)) if s == FROM_LINES)
}

/// Whether the order's `total` is what the writer filled in for an order without one:
/// `marked` ([`take_total_source`]) and still the sum of the lines read (a total changed
/// since is the order's own).
pub(crate) fn total_filled_in(marked: bool, po: &PurchaseOrder) -> bool {
    marked && po.total.is_some() && po.total == po.lines_total()
}

/// The header Extrinsic that says the invoice summary's `SubtotalAmount` (required by
/// InvoiceDetail.dtd) was written as the sum of the lines' amounts ([`Invoice::lines_total`];
/// its value: [`FROM_LINES`]): the invoice gave no subtotal.
pub(crate) const SUBTOTAL_SOURCE: &str = "subtotalSource";

/// The header Extrinsic that says the invoice summary's `Tax/Money` (required) was written as
/// the sum of the invoice's taxes' amounts, its own and its lines' ([`taxes_total`]; its
/// value: [`FROM_TAXES`]): the invoice gave no tax total.
pub(crate) const TAX_TOTAL_SOURCE: &str = "taxTotalSource";

/// [`TAX_TOTAL_SOURCE`]'s value.
pub(crate) const FROM_TAXES: &str = "taxes";

/// The sum of the amounts of `inv`'s taxes, its own and its lines' (cXML's summary `Tax` is
/// the invoice's whole tax), `0.00` without any, as [`gateway_model::shown_sum`] writes a sum.
/// `Err`: the path of the first tax without an amount (the sum is not known), or `$.taxes`
/// when the sum overflows.
pub(crate) fn taxes_total(inv: &Invoice) -> Result<Decimal, String> {
    let own = inv
        .taxes
        .iter()
        .enumerate()
        .map(|(i, t)| (format!("$.taxes[{i}].amount"), t.amount));
    let lines = inv.lines.iter().enumerate().flat_map(|(l, line)| {
        line.taxes
            .iter()
            .enumerate()
            .map(move |(i, t)| (format!("$.lines[{l}].taxes[{i}].amount"), t.amount))
    });
    let mut sum = Decimal::ZERO;
    for (path, amount) in own.chain(lines) {
        sum = sum
            .checked_add(amount.ok_or(path)?)
            .ok_or_else(|| "$.taxes".to_string())?;
    }
    Ok(gateway_model::shown_sum(sum))
}

/// Takes [`SUBTOTAL_SOURCE`] and [`TAX_TOTAL_SOURCE`] out of the header's `extrinsic` and
/// undoes what they mark while `inv`, read whole, still says what the writer wrote: a
/// `subtotal` that is still its lines' sum and a `tax_total` that is still its taxes' sum
/// read as none (a value changed since is the invoice's own).
pub(crate) fn undo_invoice_sums(extrinsic: &mut Map<String, Value>, inv: &mut Invoice) {
    let marked = |extrinsic: &mut Map<String, Value>, name: &str, value: &str| matches!(extrinsic.remove(name), Some(Value::String(s)) if s == value);
    if marked(extrinsic, SUBTOTAL_SOURCE, FROM_LINES)
        && inv.subtotal.is_some()
        && inv.subtotal == inv.lines_total()
    {
        inv.subtotal = None;
    }
    if marked(extrinsic, TAX_TOTAL_SOURCE, FROM_TAXES)
        && inv.tax_total.is_some()
        && inv.tax_total == taxes_total(inv).ok()
    {
        inv.tax_total = None;
    }
}

/// The header Extrinsic naming the `lineNumber` of the `ItemOut` written for a cancel without
/// lines (cXML.dtd: `OrderRequest (OrderRequestHeader, ItemOut+)`): [`placeholder_line`].
pub(crate) const PLACEHOLDER_ITEM: &str = "placeholderItemOut";

/// The `lineNumber` of the placeholder `ItemOut`.
pub(crate) const PLACEHOLDER_LINE_NUMBER: u32 = 1;

/// The line the placeholder `ItemOut` reads as: quantity 0 (nothing is ordered), an empty
/// `SupplierPartID` (the `ItemID` is required), nothing else.
pub(crate) fn placeholder_line(line_number: u32) -> OrderLine {
    OrderLine {
        line_number,
        quantity: Some(Decimal::ZERO),
        ..OrderLine::default()
    }
}

/// Takes the lines' one line out of `lines` when [`PLACEHOLDER_ITEM`] (`marker`, taken out of
/// the header Extrinsics either way) names it, the order is a cancel and that line is still
/// the placeholder.
pub(crate) fn drop_placeholder_line(
    marker: Option<Value>,
    cancel: bool,
    lines: &mut Vec<OrderLine>,
) {
    let Some(Value::String(n)) = marker else {
        return;
    };
    let Ok(n) = n.trim().parse::<u32>() else {
        return;
    };
    if cancel && matches!(lines.as_slice(), [only] if *only == placeholder_line(n)) {
        lines.clear();
    }
}

/// The `Contact` Extrinsic holding what the contact's `PostalAddress` would hold (`DeliverTo`,
/// `City`, `State`, `PostalCode`, `Country`, its Extrinsics) when the party has no street:
/// cXML.dtd's `PostalAddress (DeliverTo*, Street+, City, ...)` needs one, and `Contact` takes
/// `PostalAddress*` and `Extrinsic*`. `Extrinsic` is `ANY`, so the elements are the DTD's own.
pub(crate) const POSTAL_ADDRESS_WITHOUT_STREET: &str = "postalAddressWithoutStreet";

/// [`POSTAL_ADDRESS_WITHOUT_STREET`] for the ship-to written as an `Address` (header or line
/// `ShipTo`, whose `Address (Name, PostalAddress?, ...)` has no Extrinsic): in the
/// `OrderRequestHeader`'s or the `ItemDetail`'s Extrinsics.
pub(crate) const SHIP_TO_POSTAL_ADDRESS: &str = "shipToPostalAddressWithoutStreet";

/// [`SHIP_TO_POSTAL_ADDRESS`] for the header `BillTo`.
pub(crate) const BILL_TO_POSTAL_ADDRESS: &str = "billToPostalAddressWithoutStreet";

/// `TermsOfDeliveryCode@value` the writer gives the order's shipping terms: what the terms
/// are about. cXML.dtd requires the element (`TermsOfDelivery (TermsOfDeliveryCode,
/// ShippingPaymentMethod, TransportTerms?, Address?, Comments*)`) and its `value` from a list;
/// a buyer's shipping term (Coupa's `FOB Destination`, an Incoterm) is a delivery condition.
pub(crate) const TERMS_OF_DELIVERY_CODE: &str = "DeliveryCondition";

/// `ShippingPaymentMethod@value` the writer fills in: the element is required and the model
/// does not say who pays the carriage, so it is the list's `Other`, with no text.
pub(crate) const SHIPPING_PAYMENT_METHOD: &str = "Other";

/// `TransportTerms@value` for a code written as the element's text: the attribute takes only
/// the DTD's own names (`FreeOnBoard`, `Ex-Works`, ...), a buyer's code (`FOB Destination`,
/// `DAP`) goes as `Other` with the code as text, as cXML has it for codes off its list.
pub(crate) const TRANSPORT_TERMS_OTHER: &str = "Other";

/// The `TermsOfDelivery` (as element JSON, for `encode::element_from_json`) the writer writes
/// for the shipping terms' `code`: [`TERMS_OF_DELIVERY_CODE`], [`SHIPPING_PAYMENT_METHOD`] and
/// the code in a `TransportTerms` of value [`TRANSPORT_TERMS_OTHER`]. The reader takes a
/// `TermsOfDelivery` that is exactly this as the code alone, so nothing the writer filled in
/// for the DTD's sake reads back into the document.
pub(crate) fn terms_of_delivery(code: &str) -> Value {
    let coded = |name: &str, value: &str| serde_json::json!({"element": name, "attributes": {"value": value}});
    let mut transport = coded("TransportTerms", TRANSPORT_TERMS_OTHER);
    if let Some(o) = transport.as_object_mut()
        && !code.is_empty()
    {
        o.insert("text".into(), Value::String(code.to_string()));
    }
    serde_json::json!({
        "element": "TermsOfDelivery",
        "children": [
            coded("TermsOfDeliveryCode", TERMS_OF_DELIVERY_CODE),
            coded("ShippingPaymentMethod", SHIPPING_PAYMENT_METHOD),
            transport,
        ],
    })
}

/// The code a `TermsOfDelivery` names (`terms`, as element JSON): its `TransportTerms`' text
/// when the value is [`TRANSPORT_TERMS_OTHER`] (a code off the DTD's list), else the value
/// itself (`FreeOnBoard`); `None` without a `TransportTerms` or when it is blank.
pub(crate) fn transport_terms_code(terms: &Value) -> Option<&str> {
    let t = terms
        .get("children")?
        .as_array()?
        .iter()
        .find(|c| c.get("element").and_then(Value::as_str) == Some("TransportTerms"))?;
    let value = t
        .get("attributes")
        .and_then(|a| a.get("value"))
        .and_then(Value::as_str)
        .map(str::trim)
        .unwrap_or_default();
    let text = t.get("text").and_then(Value::as_str).unwrap_or_default();
    let code = if value == TRANSPORT_TERMS_OTHER || value.is_empty() {
        text
    } else {
        value
    };
    Some(code).filter(|c| !c.is_empty())
}

#[cfg(test)]
mod tests {
    use super::net_days_of;

    #[test]
    fn net_days_are_read_only_from_net_terms() {
        for (text, days) in [
            ("Net 45", Some(45)),
            ("NET 120", Some(120)),
            ("net30", Some(30)),
            ("Net-60", Some(60)),
            ("Net 30 days", Some(30)),
            ("2% 10 Net 30", Some(30)),
            ("2/10 net 30", Some(30)),
            (" Net 0 ", Some(0)),
            ("Immediate", None),
            ("Net 30 EOM", None),
            ("Net 10th Prox", None),
            ("Net", None),
            ("Cabinet 30", None),
            ("30", None),
            ("Net 99999999999", None),
            ("", None),
        ] {
            assert_eq!(net_days_of(text), days, "{text:?}");
        }
    }
}
