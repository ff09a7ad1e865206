//! The sandbox refuses an invoice whose amounts are past what a decimal holds, as an invalid
//! value with its errors (Coupa documents 400 for a validation failure), over real HTTP: the
//! product quantity × price panicked the handler (`Multiplication overflowed`), and the
//! gateway's delivery read a dropped connection instead of Coupa's refusal.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use gateway_sandbox::{Sandbox, SandboxOptions};
use serde_json::{Value, json};

const MAX: &str = "79228162514264337593543950335";

#[tokio::test]
async fn amounts_past_what_a_decimal_holds_are_refused_with_errors_not_a_dropped_request() {
    let h = Sandbox::start(SandboxOptions::default()).await.unwrap();
    let sid = h
        .add_supplier(json!({"name": "Acme", "number": "ACME-1"}))
        .unwrap();
    let c = reqwest::Client::new();
    let token: Value = c
        .post(format!("{}/oauth2/token", h.base_url()))
        .form(&[
            ("client_id", "sandbox-client"),
            ("client_secret", "sandbox-secret"),
            ("grant_type", "client_credentials"),
            ("scope", "core.invoice.write"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = token["access_token"].as_str().unwrap().to_string();
    let invoice = |number: &str, lines: Value| {
        json!({
            "invoice-number": number,
            "invoice-date": "2026-03-15",
            "currency": {"code": "EUR"},
            "supplier": {"id": sid},
            "invoice-lines": lines,
        })
    };
    let post = |body: Value| {
        c.post(format!("{}/api/invoices", h.base_url()))
            .bearer_auth(&token)
            .json(&body)
            .send()
    };

    // QA's ovf2.xml as the gateway maps it: a quantity of 28 nines at 99999, no total.
    let product = invoice(
        "OVF-2",
        json!([{"description": "Micro screws", "quantity": "9999999999999999999999999999", "price": "99999"}]),
    );
    let r = post(product).await.unwrap();
    assert_eq!(r.status(), 400);
    let body = r.text().await.unwrap();
    assert!(body.contains("Line 1: Total is out of range"), "{body}");

    // Two line totals that fit, adding up past what a decimal holds.
    let sum = invoice(
        "OVF-3",
        json!([
            {"description": "A", "quantity": "1", "price": MAX, "total": MAX},
            {"description": "B", "quantity": "1", "price": MAX, "total": MAX},
        ]),
    );
    let r = post(sum).await.unwrap();
    assert_eq!(r.status(), 400);
    let body = r.text().await.unwrap();
    assert!(body.contains("Invoice total is out of range"), "{body}");

    // Nothing was kept, and the sandbox answers the next invoice as before.
    assert!(h.invoices().is_empty());
    let fine = invoice(
        "OK-1",
        json!([{"description": "Gloves", "quantity": "2", "price": "10.50"}]),
    );
    let r = post(fine).await.unwrap();
    assert_eq!(r.status(), 201);
    let created: Value = r.json().await.unwrap();
    assert_eq!(created["gross-total"], "21.00");
}
