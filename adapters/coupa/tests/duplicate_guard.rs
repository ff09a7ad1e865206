//! The duplicate guard against the sandbox over HTTP: when Coupa already holds an invoice under
//! the supplier and number, is it the invoice being delivered (a resend, taken as delivered) or
//! another one (a conflict, a dead letter)?
//!
//! QA found two different invoices of one CSV file under one number (DUP-1: Widget A 2×50 and
//! Widget B 4×25, both 100) both reported delivered as Coupa invoice 23, which held only one
//! of them: the guard judged by the total alone. A corrected resend that kept its total (a
//! fixed PO number or date) was lost the same way.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;

use adapter_coupa::{CoupaError, CoupaInvoiceDelivery, CoupaSupplierRef};
use gateway_core::{DeliveryError, Envelope, Outbound, SourceMeta};
use gateway_model::{Document, DocumentKind, from_json};
use gateway_sandbox::{FaultKind, FaultSpec};
use serde_json::{Value, json};

/// A one-line invoice DUP-1 of the sandbox's supplier, total 100.
fn one_line(
    supplier_id: u64,
    description: &str,
    quantity: &str,
    price: &str,
    total: &str,
) -> Value {
    json!({
        "invoice-number": "DUP-1",
        "invoice-date": "2025-04-22",
        "supplier": {"id": supplier_id},
        "currency": {"code": "USD"},
        "line-level-taxation": false,
        "supplier-total": "100.00",
        "invoice-lines": [{
            "line-num": 1, "type": "InvoiceQuantityLine", "description": description,
            "price": price, "quantity": quantity, "total": total, "uom": {"code": "EA"},
            "po-number": "PO-6112", "order-line-num": "1"
        }]
    })
}

fn widget_a(supplier_id: u64) -> Value {
    one_line(supplier_id, "Widget A", "2", "50.00", "100.00")
}

/// QA's case through the client: the second invoice, same number and total, other line, is a
/// conflict naming the line's differences; Coupa keeps the first and nothing more.
#[tokio::test]
async fn another_invoice_with_the_same_number_and_total_is_a_conflict_naming_the_lines() {
    let env = common::start().await;
    let c = common::client(&env);
    let first = c
        .deliver_invoice(&widget_a(env.supplier_id), env.supplier_id)
        .await
        .unwrap();
    assert!(!first.already_present);
    let widget_b = one_line(env.supplier_id, "Widget B", "4", "25.00", "100.00");
    let err = c
        .deliver_invoice(&widget_b, env.supplier_id)
        .await
        .unwrap_err();
    let CoupaError::Conflict(why) = &err else {
        panic!("expected a conflict, got {err:?}");
    };
    let head = format!(
        "Coupa already has invoice DUP-1 of supplier Acme Supplies (Coupa invoice id {}",
        first.invoice.id
    );
    for said in [
        head.as_str(),
        "line 1 description 'Widget A', this one says 'Widget B'",
        "line 1 quantity 2, this one says 4",
        "line 1 price 50.00, this one says 25.00",
        "void or credit the one in Coupa first",
        "under a new number",
    ] {
        assert!(why.contains(said), "{said:?} not in: {why}");
    }
    assert!(!why.contains("supplier total"), "the totals agree: {why}");
    assert!(!err.is_retryable());
    assert_eq!(common::count_invoices(&env, "DUP-1"), 1);
    assert_eq!(
        env.sandbox.invoices()[0]["invoice-lines"][0]["description"],
        "Widget A"
    );
    assert_eq!(c.stats().found_existing, 0);
}

fn canonical(description: &str, quantity: &str, price: &str) -> Document {
    let doc = json!({
        "schema_version": 1,
        "kind": "invoice",
        "invoice_number": "DUP-1",
        "invoice_date": "2025-04-22",
        "currency": "USD",
        "lines": [{
            "line_number": 1, "quantity": quantity, "uom": "EA", "unit_price": price,
            "amount": "100.00", "description": description
        }],
        "total": "100.00"
    });
    from_json(&serde_json::to_vec(&doc).unwrap()).unwrap()
}

/// The same through the `coupa` outbound, as the CSV rows reached it: the second is a
/// permanent delivery error (a dead letter) saying what differs, not a receipt for the first's
/// Coupa invoice.
#[tokio::test]
async fn through_the_outbound_the_second_invoice_is_a_dead_letter_not_a_receipt() {
    let env = common::start().await;
    let delivery = CoupaInvoiceDelivery::new(Arc::new(common::client(&env))).with_partner(
        "acme",
        CoupaSupplierRef {
            number: Some("ACME-1".into()),
            ..CoupaSupplierRef::default()
        },
    );
    let envelope = || {
        Envelope::inbound(
            DocumentKind::Invoice,
            "csv",
            Some("acme".into()),
            SourceMeta::default(),
        )
    };
    let first = delivery
        .deliver(&envelope(), &canonical("Widget A", "2", "50"))
        .await
        .unwrap();
    assert!(!first.already_present);
    let err = delivery
        .deliver(&envelope(), &canonical("Widget B", "4", "25"))
        .await
        .unwrap_err();
    match &err {
        DeliveryError::Permanent { reason } => assert!(
            reason.contains("line 1 description 'Widget A', this one says 'Widget B'"),
            "{reason}"
        ),
        other => panic!("expected a permanent error, got {other:?}"),
    }
    assert_eq!(common::count_invoices(&env, "DUP-1"), 1);
    // The first again is still a resend.
    let again = delivery
        .deliver(&envelope(), &canonical("Widget A", "2", "50"))
        .await
        .unwrap();
    assert!(again.already_present);
    assert_eq!(again.reference, first.reference);
}

/// A resend of the very invoice Coupa holds stays a resend: Coupa's own fields (id, status,
/// created-at, line ids), another decimal scale or a number for a decimal string, another key
/// order, the lines in another order, a timestamp for the date, and fields Coupa did not give
/// back do not make it a conflict.
#[tokio::test]
async fn the_same_invoice_again_is_already_present_whatever_the_decimal_scale() {
    let env = common::start().await;
    let c = common::client(&env);
    let two_lines = |lines: Value| {
        json!({
            "invoice-number": "SAME-1",
            "invoice-date": "2025-04-22",
            "supplier": {"id": env.supplier_id},
            "currency": {"code": "USD"},
            "line-level-taxation": false,
            "shipping-amount": "15.00",
            "supplier-total": "115.00",
            "supplier-note": "Thank you",
            "invoice-lines": lines
        })
    };
    let body = two_lines(json!([
        {"line-num": 1, "type": "InvoiceQuantityLine", "description": "Widget A",
         "price": "50.00", "quantity": "2", "total": "100.00", "uom": {"code": "EA"},
         "po-number": "PO-6112", "order-line-num": "1"},
        {"line-num": 2, "type": "InvoiceAmountLine", "description": "Setup fee",
         "price": "0.00", "total": "0.00"}
    ]));
    let first = c.deliver_invoice(&body, env.supplier_id).await.unwrap();
    assert!(!first.already_present);
    assert_eq!(
        env.sandbox.invoices()[0]["status"],
        "pending_approval",
        "Coupa's status changed since"
    );

    // Byte for byte the same.
    let again = c.deliver_invoice(&body, env.supplier_id).await.unwrap();
    assert!(again.already_present);
    assert_eq!(again.invoice.id, first.invoice.id);

    // Other scales and JSON numbers, keys in another order, lines listed the other way round.
    let rescaled = json!({
        "supplier-total": 115,
        "invoice-lines": [
            {"total": "0", "price": "0", "description": "Setup fee", "type": "InvoiceAmountLine",
             "line-num": 2},
            {"order-line-num": 1, "po-number": "PO-6112", "uom": {"code": "ea"}, "total": "100",
             "quantity": "2.000", "price": 50, "description": "  Widget A ", "line-num": 1,
             "type": "InvoiceQuantityLine"}
        ],
        "shipping-amount": "15",
        "supplier-note": "Thank  you",
        "line-level-taxation": false,
        "currency": {"code": "USD"},
        "supplier": {"id": env.supplier_id},
        "invoice-date": "2025-04-22",
        "invoice-number": "SAME-1"
    });
    let again = c.deliver_invoice(&rescaled, env.supplier_id).await.unwrap();
    assert!(again.already_present);
    assert_eq!(common::count_invoices(&env, "SAME-1"), 1);
    assert_eq!(c.stats().found_existing, 2);

    // An invoice Coupa holds with its date as a timestamp and without the PO number, line
    // total and note (fields an instance need not give back) is the same invoice.
    let mut held = two_lines(json!([
        {"line-num": 1, "type": "InvoiceQuantityLine", "description": "Widget A",
         "price": "50.00", "quantity": "2", "uom": {"code": "EA"}},
        {"line-num": 2, "type": "InvoiceAmountLine", "description": "Setup fee", "price": "0.00"}
    ]));
    held["invoice-number"] = json!("SAME-2");
    held["invoice-date"] = json!("2025-04-22T00:00:00-07:00");
    held.as_object_mut().unwrap().remove("supplier-note");
    c.create_invoice(&held).await.unwrap();
    let mut ours = body.clone();
    ours["invoice-number"] = json!("SAME-2");
    let again = c.deliver_invoice(&ours, env.supplier_id).await.unwrap();
    assert!(again.already_present);
    assert_eq!(common::count_invoices(&env, "SAME-2"), 1);
}

/// A corrected resend that keeps its lines and total but fixes the date, the PO number or the
/// PO line is another document: a conflict naming the field, not a resend.
#[tokio::test]
async fn another_date_or_po_number_with_the_same_lines_and_total_is_a_conflict() {
    let env = common::start().await;
    let c = common::client(&env);
    let body = widget_a(env.supplier_id);
    c.deliver_invoice(&body, env.supplier_id).await.unwrap();

    let conflict = |err: CoupaError| match err {
        CoupaError::Conflict(why) => why,
        other => panic!("expected a conflict, got {other:?}"),
    };
    let mut dated = body.clone();
    dated["invoice-date"] = json!("2025-04-23");
    let why = conflict(
        c.deliver_invoice(&dated, env.supplier_id)
            .await
            .unwrap_err(),
    );
    assert!(
        why.contains("invoice date 2025-04-22, this one says 2025-04-23"),
        "{why}"
    );
    assert!(!why.contains("line 1"), "the lines agree: {why}");

    let mut po = body.clone();
    po["invoice-lines"][0]["po-number"] = json!("PO-6113");
    let why = conflict(c.deliver_invoice(&po, env.supplier_id).await.unwrap_err());
    assert!(
        why.contains("line 1 PO number 'PO-6112', this one says 'PO-6113'"),
        "{why}"
    );
    assert!(!why.contains("invoice date"), "{why}");

    let mut po_line = body.clone();
    po_line["invoice-lines"][0]["order-line-num"] = json!("2");
    let why = conflict(
        c.deliver_invoice(&po_line, env.supplier_id)
            .await
            .unwrap_err(),
    );
    assert!(why.contains("line 1 PO line 1, this one says 2"), "{why}");

    let mut currency = body.clone();
    currency["currency"]["code"] = json!("EUR");
    let why = conflict(
        c.deliver_invoice(&currency, env.supplier_id)
            .await
            .unwrap_err(),
    );
    assert!(why.contains("currency USD, this one says EUR"), "{why}");

    assert_eq!(common::count_invoices(&env, "DUP-1"), 1);
    // Through all that, the invoice itself is still a resend.
    assert!(
        c.deliver_invoice(&body, env.supplier_id)
            .await
            .unwrap()
            .already_present
    );
}

/// Another gateway (or a copy the lock did not cover) creates another invoice under the
/// number between our lookup and our create, and Coupa refuses ours as a reused number. The
/// guard took the invoice it then found for the one it had created ("delivered"): it is
/// compared as well now.
#[tokio::test]
async fn an_invoice_found_after_a_duplicate_refusal_is_compared_too() {
    let env = common::start().await;
    let sid = env.supplier_id;
    // Our create is answered 429 (Retry-After 1 s); the other invoice lands in that second.
    assert!(env.sandbox.inject(FaultSpec::new(
        "POST /api/invoices",
        FaultKind::RateLimit { retry_after: 1 },
        1
    )));
    let c = Arc::new(common::client(&env));
    let ours = {
        let c = Arc::clone(&c);
        tokio::spawn(async move { c.deliver_invoice(&widget_a(sid), sid).await })
    };
    for _ in 0..500 {
        if env.sandbox.stats().served_429 == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    assert_eq!(env.sandbox.stats().served_429, 1);
    common::client(&env)
        .create_invoice(&one_line(sid, "Widget B", "4", "25.00", "100.00"))
        .await
        .unwrap();
    let err = ours.await.unwrap().unwrap_err();
    assert!(
        matches!(&err, CoupaError::Conflict(why)
            if why.contains("line 1 description 'Widget B', this one says 'Widget A'")),
        "{err:?}"
    );
    assert_eq!(common::count_invoices(&env, "DUP-1"), 1);
    assert_eq!(c.stats().found_existing, 0);
}
