//! Two invoice fields the QA onboarding (qaC f5) found never reaching Coupa, against the
//! sandbox over HTTP: the chart of accounts of Coupa's own CSV import (`Chart of Accounts*`,
//! kept in `extensions.csv`; Coupa's `account-type` had no source at all), and payment terms
//! without a description (X12 `ITD*01*3*2**10**30`, cXML `PaymentTerm`s: net 30, 2 % in 10
//! days), sent as no `payment-term` with no word.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;

use adapter_coupa::{CoupaClient, CoupaInvoiceDelivery, CoupaSupplierRef};
use gateway_core::{Envelope, Outbound, Receipt, SourceMeta};
use gateway_model::{Document, DocumentKind, Invoice, PaymentTerms, from_json};
use serde_json::Value;

/// The first invoice of Coupa's CSV import sample (`Chart of Accounts` `US COA`), as partner
/// acme sends it (its supplier number is acme's supplier's in the sandbox), numbered `number`.
fn coupa_csv_invoice(number: &str) -> Invoice {
    let path = format!(
        "{}/../../samples/csv/invoice/coupa_import.canonical.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(path).unwrap();
    let first = text.lines().next().unwrap();
    let mut inv = match from_json(first.as_bytes()).unwrap() {
        Document::Invoice(i) => i,
        other => panic!("not an invoice: {other:?}"),
    };
    for id in inv.supplier.iter_mut().flat_map(|s| s.ids.iter_mut()) {
        if id.value == "SUP-001" {
            id.value = "ACME-1".into();
        }
    }
    inv.invoice_number = Some(number.into());
    inv
}

/// Acme's invoices delivered with `account_type` as `[coupa] account_type`.
fn delivery(env: &common::Env, account_type: Option<&str>) -> CoupaInvoiceDelivery {
    let mut config = common::config(env);
    config.account_type = account_type.map(str::to_string);
    CoupaInvoiceDelivery::new(Arc::new(CoupaClient::new(config).unwrap())).with_partner(
        "acme",
        CoupaSupplierRef {
            id: Some(env.supplier_id),
            ..CoupaSupplierRef::default()
        },
    )
}

/// Delivers `inv` as acme's; the receipt and the invoice Coupa then holds under its number.
async fn deliver(d: &CoupaInvoiceDelivery, env: &common::Env, inv: &Invoice) -> (Receipt, Value) {
    let envelope = Envelope::inbound(
        DocumentKind::Invoice,
        "test",
        Some("acme".into()),
        SourceMeta::default(),
    );
    let receipt = d
        .deliver(&envelope, &Document::Invoice(inv.clone()))
        .await
        .unwrap();
    let number = inv.invoice_number.as_deref().unwrap();
    let held = env
        .sandbox
        .invoices()
        .into_iter()
        .find(|i| i["invoice-number"] == number)
        .unwrap();
    (receipt, held)
}

#[tokio::test]
async fn the_csvs_chart_of_accounts_reaches_coupa_before_the_configured_default() {
    let env = common::start().await;
    let d = delivery(&env, Some("Default COA"));
    let (_, held) = deliver(&d, &env, &coupa_csv_invoice("COA-CSV-1")).await;
    assert_eq!(held["account-type"]["name"], "US COA", "{held}");

    let mut without = coupa_csv_invoice("COA-DEFAULT-1");
    without.extensions.clear();
    let (_, held) = deliver(&d, &env, &without).await;
    assert_eq!(held["account-type"]["name"], "Default COA", "{held}");

    let mut none = coupa_csv_invoice("COA-NONE-1");
    none.extensions.clear();
    let (_, held) = deliver(&delivery(&env, None), &env, &none).await;
    assert!(held.get("account-type").is_none(), "{held}");
}

#[tokio::test]
async fn payment_terms_without_a_description_reach_coupa_as_their_code_or_are_noted() {
    let env = common::start().await;
    let d = delivery(&env, None);
    let mut inv = coupa_csv_invoice("TERMS-CODE-1");
    inv.payment_terms = Some(PaymentTerms {
        description: None,
        net_days: Some(30),
        discount_percent: Some("2".parse().unwrap()),
        discount_days: Some(10),
    });
    let (receipt, held) = deliver(&d, &env, &inv).await;
    assert_eq!(held["payment-term"]["code"], "2/10 Net 30", "{held}");
    assert!(receipt.not_sent.is_empty(), "{receipt:?}");

    // Terms no Coupa code can say: delivered without them, and the receipt says so.
    let mut inv = coupa_csv_invoice("TERMS-NOTED-1");
    inv.payment_terms = Some(PaymentTerms {
        description: None,
        net_days: None,
        discount_percent: Some("2".parse().unwrap()),
        discount_days: Some(10),
    });
    let (receipt, held) = deliver(&d, &env, &inv).await;
    assert!(held.get("payment-term").is_none(), "{held}");
    assert_eq!(receipt.not_sent.len(), 1, "{receipt:?}");
    assert!(
        receipt.not_sent[0].contains("no payment-term was sent"),
        "{receipt:?}"
    );
}
