//! Line-level charges and discounts reach Coupa, against the sandbox over HTTP.
//!
//! QA: the rich JSON invoice with a 10.00 discount on line 1 and 7.00 freight on line 2 (total
//! 359.74) was accepted and delivered, but Coupa held lines 125/90/120 with no charges,
//! shipping 15 and misc −5: its parts added up to 362.74 against a supplier total of 359.74.
//! The stock cXML sample lost its line-2 `InvoiceDetailDiscount` of 4.50 the same way (365.74
//! against 361.24). Coupa's invoice lines have no charge or discount field, so a line's charge
//! is delivered in the header amount of its kind, as the invoice's own charges are.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{d, num, opt, parts};

use std::sync::Arc;

use adapter_coupa::{CoupaInvoiceDelivery, CoupaSupplierRef, InvoiceMapping, SupplierKey};
use gateway_core::{Envelope, Outbound, SourceMeta};
use gateway_model::{Charge, ChargeKind, Document, DocumentKind, Invoice, from_json};
use rust_decimal::Decimal;
use serde_json::Value;

/// A sample invoice as partner acme sends it: the supplier number the samples name (SUP-001)
/// is the number of acme's supplier in the sandbox (ACME-1); delivery refuses to book an
/// invoice naming another supplier's number to the partner's supplier.
fn sample(path: &str) -> Invoice {
    let path = format!("{}/../../{path}", env!("CARGO_MANIFEST_DIR"));
    let mut inv = match from_json(&std::fs::read(path).unwrap()).unwrap() {
        Document::Invoice(i) => i,
        other => panic!("not an invoice: {other:?}"),
    };
    for id in inv.supplier.iter_mut().flat_map(|s| s.ids.iter_mut()) {
        if id.value == "SUP-001" {
            id.value = "ACME-1".into();
        }
    }
    inv
}

fn charge(kind: ChargeKind, amount: &str) -> Charge {
    Charge {
        kind,
        amount: Some(d(amount)),
        rate: None,
        category: None,
        description: None,
        code: None,
    }
}

/// QA's invoice: the rich JSON sample with a discount on line 1 and freight on line 2.
fn rich_with_line_charges() -> Invoice {
    let mut inv = sample("samples/json/invoice/rich.json");
    inv.lines[0].charges = vec![charge(ChargeKind::Discount, "10.00")];
    inv.lines[1].charges = vec![charge(ChargeKind::Shipping, "7.00")];
    inv.total = Some(d("359.74"));
    inv
}

fn envelope() -> Envelope {
    Envelope::inbound(
        DocumentKind::Invoice,
        "test",
        Some("acme".into()),
        SourceMeta::default(),
    )
}

fn delivery(env: &common::Env) -> CoupaInvoiceDelivery {
    CoupaInvoiceDelivery::new(Arc::new(common::client(env))).with_partner(
        "acme",
        CoupaSupplierRef {
            id: Some(env.supplier_id),
            ..CoupaSupplierRef::default()
        },
    )
}

/// Delivers `inv` to the sandbox and returns the one invoice Coupa then holds under its number.
async fn deliver(env: &common::Env, inv: &Invoice) -> Value {
    let doc = Document::Invoice(inv.clone());
    let receipt = delivery(env).deliver(&envelope(), &doc).await.unwrap();
    assert!(!receipt.already_present);
    let number = inv.invoice_number.as_deref().unwrap();
    let held: Vec<Value> = env
        .sandbox
        .invoices()
        .into_iter()
        .filter(|i| i["invoice-number"] == number)
        .collect();
    assert_eq!(held.len(), 1, "{held:?}");
    held.into_iter().next().unwrap()
}

/// QA's case: Coupa's parts add up to the invoice's total, the line discount and freight in
/// the header amounts of their kinds; a resend is still taken for the same invoice.
#[tokio::test]
async fn line_charges_of_a_json_invoice_add_up_in_coupa() {
    let env = common::start().await;
    let inv = rich_with_line_charges();
    let held = deliver(&env, &inv).await;
    assert_eq!(num(&held["supplier-total"]), d("359.74"), "{held}");
    assert_eq!(parts(&held), d("359.74"), "{held:#}");
    // The lines stay as billed (so they still match the PO lines); the charges are header
    // amounts: freight 15 + 7, misc −5 − 10.
    let totals: Vec<Decimal> = held["invoice-lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| num(&l["total"]))
        .collect();
    assert_eq!(totals, vec![d("125.00"), d("90.00"), d("120.00")]);
    assert_eq!(num(&held["shipping-amount"]), d("22.00"), "{held}");
    assert_eq!(num(&held["misc-amount"]), d("-15.00"), "{held}");
    assert!(held.get("handling-amount").is_none(), "{held}");

    // The duplicate guard compares the new sums: a resend is the same invoice.
    let again = delivery(&env)
        .deliver(&envelope(), &Document::Invoice(inv.clone()))
        .await
        .unwrap();
    assert!(again.already_present);
    assert_eq!(common::count_invoices(&env, "INV-2026-0042"), 1);

    // ...and the same number with the line discount gone is another invoice, not a copy.
    let mut other = inv;
    other.lines[0].charges.clear();
    other.total = Some(d("369.74"));
    let err = delivery(&env)
        .deliver(&envelope(), &Document::Invoice(other))
        .await
        .unwrap_err();
    assert!(
        err.reason()
            .contains("misc amount -15.00, this one says -5.00"),
        "{err}"
    );
}

/// The stock cXML sample (its golden canonical form): line 2's 5 % discount of 4.50 is
/// counted, so Coupa's parts add up to the sample's 361.24.
#[tokio::test]
async fn the_cxml_samples_line_discount_is_counted() {
    let env = common::start().await;
    let inv = sample("samples/cxml/invoice/rich.canonical.json");
    assert_eq!(inv.lines[1].charges.len(), 1, "the sample's line discount");
    let held = deliver(&env, &inv).await;
    assert_eq!(num(&held["supplier-total"]), d("361.24"), "{held}");
    assert_eq!(parts(&held), d("361.24"), "{held:#}");
    assert_eq!(num(&held["shipping-amount"]), d("15.00"), "{held}");
    assert_eq!(num(&held["handling-amount"]), d("3.00"), "{held}");
    assert_eq!(num(&held["misc-amount"]), d("-9.50"), "{held}");
}

/// An invoice without line charges maps as before the fix: its own charges in the header
/// amounts (shipping 15.00; the 5.00 discount as misc −5.00), its lines as billed, and its
/// parts add up in Coupa. The expectations are the sample's own values.
#[tokio::test]
async fn an_invoice_without_line_charges_maps_as_before() {
    let inv = sample("samples/json/invoice/rich.json");
    assert!(inv.lines.iter().all(|l| l.charges.is_empty()));
    let got =
        adapter_coupa::invoice_to_coupa(&inv, &SupplierKey::Id(7), &InvoiceMapping::default())
            .unwrap();
    assert_eq!(num(&got["shipping-amount"]), d("15.00"), "{got:#}");
    assert_eq!(num(&got["misc-amount"]), d("-5.00"), "{got:#}");
    assert_eq!(opt(&got, "handling-amount"), Decimal::ZERO, "{got:#}");
    let lines = got["invoice-lines"].as_array().unwrap();
    assert_eq!(lines.len(), inv.lines.len());
    for (sent, line) in lines.iter().zip(&inv.lines) {
        assert_eq!(Some(num(&sent["price"])), line.unit_price, "{sent}");
        assert_eq!(Some(num(&sent["quantity"])), line.quantity, "{sent}");
        assert_eq!(Some(num(&sent["total"])), line.amount, "{sent}");
    }

    let env = common::start().await;
    let held = deliver(&env, &inv).await;
    assert_eq!(parts(&held), d("362.74"), "{held:#}");
    assert_eq!(num(&held["supplier-total"]), d("362.74"), "{held}");
}
