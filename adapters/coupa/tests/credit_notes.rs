//! Credit memos reach Coupa as one credit note, against the sandbox over HTTP.
//!
//! QA: the direction was told line by line, so a cXML line-level credit memo of −3 × 10
//! returned with a +1 × 10 restocking fee (due −20.00) reached Coupa as quantity −3, total
//! −30.00 and supplier total −20.00, which Coupa reads as a charge, while an all-negative memo
//! was turned; a memo's tax of 0 went as `"-0.00"`. The direction is now one fact of the
//! memo: written as credits (negative total, or with none, lines summing below zero) every
//! sign turns together; written positive (X12) it goes as it came; when it cannot be told it
//! is refused. The memos below are QA's inputs in their canonical form.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{d, num, parts};

use std::str::FromStr;
use std::sync::Arc;

use adapter_coupa::{CoupaInvoiceDelivery, CoupaSupplierRef};
use gateway_core::{DeliveryError, Envelope, Outbound, SourceMeta};
use gateway_model::{Document, DocumentKind, Invoice, from_json};
use rust_decimal::Decimal;
use serde_json::Value;

/// A credit memo of partner acme: `lines` as `(quantity, price, amount, description)`, the
/// rest of the fields (`"total": "-20.00"`, ...) as JSON members.
fn memo(number: &str, lines: &[(&str, &str, &str, &str)], rest: &str) -> Invoice {
    let lines: Vec<String> = lines
        .iter()
        .enumerate()
        .map(|(i, (q, p, a, what))| {
            format!(
                r#"{{"line_number": {}, "quantity": "{q}", "uom": "EA", "unit_price": "{p}", "amount": "{a}", "description": "{what}", "po_line_number": "{}"}}"#,
                i + 1,
                i + 1
            )
        })
        .collect();
    let json = format!(
        r#"{{"schema_version": 1, "kind": "invoice", "invoice_number": "{number}", "invoice_date": "2026-11-20", "purpose": "credit_memo", "po_number": "PO-00001", "currency": "USD", "supplier": {{"name": "Acme Supplies"}}, "lines": [{}]{}{rest}}}"#,
        lines.join(", "),
        if rest.is_empty() { "" } else { ", " }
    );
    match from_json(json.as_bytes()).unwrap() {
        Document::Invoice(i) => i,
        other => panic!("not an invoice: {other:?}"),
    }
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

/// Delivers `inv` and returns the one invoice Coupa then holds under its number.
async fn deliver(env: &common::Env, inv: &Invoice) -> Value {
    let doc = Document::Invoice(inv.clone());
    delivery(env).deliver(&envelope(), &doc).await.unwrap();
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

/// Each line Coupa holds as (quantity, price, total).
fn lines(held: &Value) -> Vec<(Decimal, Decimal, Decimal)> {
    held["invoice-lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (num(&l["quantity"]), num(&l["price"]), num(&l["total"])))
        .collect()
}

/// No decimal anywhere in `v` is written with a minus sign on zero.
fn no_minus_zero(v: &Value) {
    match v {
        Value::String(s) if s.starts_with('-') && d_or_none(s).is_some_and(|x| x.is_zero()) => {
            panic!("{s:?} sent as a signed zero")
        }
        Value::Array(items) => items.iter().for_each(no_minus_zero),
        Value::Object(m) => m.values().for_each(no_minus_zero),
        _ => {}
    }
}

fn d_or_none(s: &str) -> Option<Decimal> {
    Decimal::from_str(s).ok()
}

/// QA's B3: every line a credit (−2 × 12.50, tax −2.06, due −27.06): a positive credit note.
#[tokio::test]
async fn a_memo_written_all_negative_is_a_positive_credit_note() {
    let env = common::start().await;
    let mut inv = memo(
        "QA-B3",
        &[("-2", "12.50", "-25.00", "Gloves returned")],
        r#""subtotal": "-25.00", "tax_total": "-2.06", "total": "-27.06""#,
    );
    inv.lines[0].taxes = vec![gateway_model::Tax {
        amount: Some(d("-2.06")),
        rate: Some(d("8.25")),
        ..Default::default()
    }];
    let held = deliver(&env, &inv).await;
    assert_eq!(held["is-credit-note"], true, "{held:#}");
    assert_eq!(lines(&held), vec![(d("2"), d("12.50"), d("25.00"))]);
    assert_eq!(
        num(&held["invoice-lines"][0]["tax-lines"][0]["amount"]),
        d("2.06")
    );
    assert_eq!(num(&held["supplier-total"]), d("27.06"));
    assert_eq!(parts(&held), d("27.06"), "{held:#}");
}

/// QA's E1: −3 × 10 returned and a +1 × 10 restocking fee, due −20.00. Turned as a whole: the
/// return is credited 3 × 10, the fee (which reduces the credit) is a negative line of the
/// credit note, and Coupa holds a credit of 20.00 whose parts add up. It was sent as
/// quantity −3, total −30.00, supplier total −20.00: a charge.
#[tokio::test]
async fn a_memo_with_a_fee_among_its_credits_turns_as_a_whole() {
    let env = common::start().await;
    let inv = memo(
        "QA-E1",
        &[
            ("-3", "10.00", "-30.00", "Returned"),
            ("1", "10.00", "10.00", "Restocking fee"),
        ],
        r#""subtotal": "-20.00", "tax_total": "0.00", "total": "-20.00""#,
    );
    let held = deliver(&env, &inv).await;
    assert_eq!(
        lines(&held),
        vec![
            (d("3"), d("10.00"), d("30.00")),
            (d("1"), d("-10.00"), d("-10.00")),
        ],
        "{held:#}"
    );
    assert_eq!(num(&held["supplier-total"]), d("20.00"));
    assert_eq!(parts(&held), d("20.00"), "{held:#}");
    assert_eq!(held["tax-amount"], "0.00", "{held:#}");
    no_minus_zero(&held);

    // With no total, the lines summing below zero say the same.
    let mut untotalled = inv.clone();
    untotalled.invoice_number = Some("QA-E1-NOTOTAL".into());
    untotalled.total = None;
    untotalled.subtotal = None;
    let held = deliver(&env, &untotalled).await;
    assert_eq!(lines(&held)[0], (d("3"), d("10.00"), d("30.00")));
    assert_eq!(lines(&held)[1], (d("1"), d("-10.00"), d("-10.00")));
}

/// QA's E3: −1 × 10 with −5.00 shipping and a tax of 0.00, due −15.00. The tax of zero went
/// as `"-0.00"`; the shipping turns with the rest.
#[tokio::test]
async fn a_turned_memo_sends_zero_as_zero_and_its_charges_turned() {
    let env = common::start().await;
    let inv = memo(
        "QA-E3",
        &[("-1", "10.00", "-10.00", "Widget")],
        r#""charges": [{"kind": "shipping", "amount": "-5.00"}], "subtotal": "-10.00", "tax_total": "0.00", "total": "-15.00""#,
    );
    let held = deliver(&env, &inv).await;
    assert_eq!(held["tax-amount"], "0.00", "{held:#}");
    no_minus_zero(&held);
    assert_eq!(num(&held["shipping-amount"]), d("5.00"));
    assert_eq!(num(&held["supplier-total"]), d("15.00"));
    assert_eq!(parts(&held), d("15.00"), "{held:#}");

    // A memo whose total says its discount added to the credit (−100.00 − 10.00 = −110.00)
    // is read as its total says: turned, the discount adds to the positive credit, and
    // Coupa's parts still add up to the total billed.
    let discounted = memo(
        "QA-E3-DISCOUNT",
        &[("-10", "10.00", "-100.00", "Widget")],
        r#""charges": [{"kind": "discount", "amount": "10.00"}], "total": "-110.00""#,
    );
    let held = deliver(&env, &discounted).await;
    assert_eq!(num(&held["misc-amount"]), d("10.00"), "{held:#}");
    assert_eq!(num(&held["supplier-total"]), d("110.00"));
    assert_eq!(parts(&held), d("110.00"), "{held:#}");
}

/// QA's cmdisc: 100.00 credited less a 5.00 discount, 95.00 due, written as credits (cXML:
/// quantity −1, `GrossAmount` −100.00, `InvoiceDetailDiscount` −5.00 or 5.00, `NetAmount`
/// −95.00) and written positive. Both reach Coupa as one credit note whose parts add up to
/// 95.00: line 100.00, misc −5.00. The memo written as credits reached Coupa with misc 5.00
/// and a supplier total of 95.00, parts that add to 105.
#[tokio::test]
async fn a_discount_reduces_the_credit_however_the_memo_is_signed() {
    let env = common::start().await;
    for (number, q, a, discount, total) in [
        ("QA-CMDISC", "-1", "-100.00", "5.00", "-95.00"),
        ("QA-CMDISC2", "-1", "-100.00", "-5.00", "-95.00"),
        ("QJ-CMPOS", "1", "100.00", "5.00", "95.00"),
    ] {
        let inv = memo(
            number,
            &[(q, "100.00", a, "Returned chair")],
            &format!(
                r#""charges": [{{"kind": "discount", "amount": "{discount}"}}], "subtotal": "{a}", "tax_total": "0.00", "total": "{total}""#
            ),
        );
        let coupa = deliver(&env, &inv).await;
        assert_eq!(coupa["is-credit-note"], true, "{coupa:#}");
        assert_eq!(
            lines(&coupa),
            vec![(d("1"), d("100.00"), d("100.00"))],
            "{number}: {coupa:#}"
        );
        assert_eq!(
            num(&coupa["misc-amount"]),
            d("-5.00"),
            "{number}: {coupa:#}"
        );
        assert_eq!(num(&coupa["supplier-total"]), d("95.00"), "{number}");
        assert_eq!(parts(&coupa), d("95.00"), "{number}: {coupa:#}");
        no_minus_zero(&coupa);
    }
}

/// QA's E2, X12's convention: a credit written positive (3 × 10 credited, a −1 × 10 fee, due
/// 20.00) goes as it came.
#[tokio::test]
async fn a_memo_written_positive_goes_as_it_came() {
    let env = common::start().await;
    let inv = memo(
        "QA-E2",
        &[
            ("3", "10.00", "30.00", "Returned"),
            ("-1", "10.00", "-10.00", "Restocking fee"),
        ],
        r#""tax_total": "0.00", "total": "20.00""#,
    );
    let held = deliver(&env, &inv).await;
    assert_eq!(
        lines(&held),
        vec![
            (d("3"), d("10.00"), d("30.00")),
            (d("-1"), d("10.00"), d("-10.00")),
        ],
        "{held:#}"
    );
    assert_eq!(num(&held["supplier-total"]), d("20.00"));
    assert_eq!(parts(&held), d("20.00"), "{held:#}");
}

/// A memo whose total is zero (or absent) and whose lines cancel out says neither way: it is
/// refused for good with the reason, and Coupa is sent nothing.
#[tokio::test]
async fn a_memo_whose_direction_cannot_be_told_is_refused() {
    let env = common::start().await;
    for (number, rest) in [("QA-ZERO-TOTAL", r#""total": "0.00""#), ("QA-NO-TOTAL", "")] {
        let inv = memo(
            number,
            &[
                ("-1", "10.00", "-10.00", "Returned"),
                ("1", "10.00", "10.00", "Fee"),
            ],
            rest,
        );
        let err = delivery(&env)
            .deliver(&envelope(), &Document::Invoice(inv))
            .await
            .unwrap_err();
        assert!(
            matches!(&err, DeliveryError::Permanent { reason } if reason.contains("direction cannot be told")),
            "{err:?}"
        );
        assert_eq!(common::count_invoices(&env, number), 0);
    }
    assert!(
        !env.sandbox
            .request_log()
            .iter()
            .any(|r| r.method == "POST" && r.path == "/api/invoices"),
        "nothing was created"
    );
}
