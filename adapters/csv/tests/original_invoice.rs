//! The invoice a credit memo corrects survives the Coupa invoice import layout: written from
//! another format's form (`gateway_core::original_invoice`: cXML `InvoiceIDInfo`, X12
//! `REF*OI`) as `Original Invoice Number`/`Original Invoice Date`, read back into
//! `extensions.csv` where `original_invoice` finds it; kept from a CSV source, written once, as
//! it came.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use adapter_csv::CsvCodec;
use common::{canonical, decode, docs};
use gateway_core::{Encode, PartnerProfile, original_invoice};
use gateway_model::{Document, Invoice};

fn invoice(d: &Document) -> &Invoice {
    match d {
        Document::Invoice(i) => i,
        other => panic!("not an invoice: {other:?}"),
    }
}

fn encode(docs: &[Document]) -> String {
    let bytes = CsvCodec.encode(docs, &PartnerProfile::anonymous()).unwrap();
    String::from_utf8(bytes).unwrap()
}

/// The cXML credit memo sample as its decoder reads it (its golden canonical JSON).
fn cxml_credit_memo() -> Document {
    let path =
        gateway_core::testkit::repo_root().join("samples/cxml/invoice/credit_memo.canonical.json");
    canonical(&path).remove(0)
}

#[test]
fn a_cxml_credit_memo_keeps_its_original_invoice_through_csv() {
    let source = cxml_credit_memo();
    let want = original_invoice(invoice(&source));
    assert_eq!(want.number, Some("INV-2026-0031"));
    let text = encode(std::slice::from_ref(&source));
    assert!(
        text.contains("Original Invoice Number") && text.contains("INV-2026-0031"),
        "{text}"
    );
    let back = decode(text.as_bytes());
    assert!(back.rejects.is_empty(), "{:?}", back.rejects);
    let back = docs(&back);
    assert_eq!(back.len(), 1);
    assert_eq!(original_invoice(invoice(&back[0])), want, "{text}");
}

#[test]
fn an_x12_memo_keeps_its_ref_oi_number_through_csv() {
    let source: Document = gateway_model::from_json(
        br#"{"kind": "invoice", "invoice_number": "CM-2", "purpose": "credit_memo",
             "extensions": {"x12": {"segments": [["REF", "OI", "INV-77"]]}}}"#,
    )
    .unwrap();
    let text = encode(std::slice::from_ref(&source));
    let back = docs(&decode(text.as_bytes()));
    let got = original_invoice(invoice(&back[0]));
    assert_eq!(got.number, Some("INV-77"), "{text}");
    assert_eq!(got.date, None);
    assert!(!text.contains("Original Invoice Date"), "{text}");
}

#[test]
fn a_csv_memo_round_trips_as_it_came_without_a_second_column() {
    let raw = "Invoice,Invoice Number*,Is Credit Note,original-invoice-number,Invoice Control Total\r\n\
               Invoice,CM-9,true,INV-5,-10.00\r\n";
    let first = decode(raw.as_bytes());
    assert!(first.rejects.is_empty(), "{:?}", first.rejects);
    let first = docs(&first);
    assert_eq!(original_invoice(invoice(&first[0])).number, Some("INV-5"));
    let text = encode(&first);
    assert_eq!(text.matches("INV-5").count(), 1, "{text}");
    assert!(!text.contains("Original Invoice Number"), "{text}");
    assert_eq!(docs(&decode(text.as_bytes())), first, "{text}");
}

#[test]
fn an_invoice_naming_no_original_gets_no_column() {
    let source: Document = gateway_model::from_json(
        br#"{"kind": "invoice", "invoice_number": "INV-1", "purpose": "standard"}"#,
    )
    .unwrap();
    assert!(!encode(&[source]).contains("Original"));
}
