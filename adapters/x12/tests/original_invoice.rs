//! The invoice a memo corrects, written as a heading `REF*OI` from another format's form
//! (`gateway_core::original_invoice`: cXML `InvoiceIDInfo`, CSV `Original Invoice Number`) and
//! kept as a header segment when read back; a `REF*OI` kept from an X12 source is written
//! once, where it was.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use adapter_x12::X12Codec;
use gateway_core::{Decode, Encode, PartnerProfile, original_invoice};
use gateway_model::{Document, Invoice, from_json, from_json_lines};

fn invoice(d: &Document) -> &Invoice {
    match d {
        Document::Invoice(i) => i,
        other => panic!("not an invoice: {other:?}"),
    }
}

fn encode(docs: &[Document]) -> String {
    let bytes = X12Codec::new()
        .encode(docs, &PartnerProfile::anonymous())
        .unwrap();
    String::from_utf8(bytes).unwrap()
}

fn decode(text: &str) -> Vec<Document> {
    let d = X12Codec::new().decode(text.as_bytes(), &PartnerProfile::anonymous());
    assert!(d.rejects.is_empty(), "{:?}\n{text}", d.rejects);
    d.documents.into_iter().map(|d| d.document).collect()
}

/// The cXML credit memo sample as its decoder reads it (its golden canonical JSON).
fn cxml_credit_memo() -> Document {
    let path =
        gateway_core::testkit::repo_root().join("samples/cxml/invoice/credit_memo.canonical.json");
    from_json_lines(&std::fs::read(path).unwrap())
        .remove(0)
        .unwrap()
}

fn ref_oi_count(text: &str) -> usize {
    text.matches("REF*OI*").count()
}

#[test]
fn a_cxml_credit_memo_keeps_its_original_invoice_number_through_an_810() {
    let source = cxml_credit_memo();
    let text = encode(std::slice::from_ref(&source));
    assert_eq!(ref_oi_count(&text), 1, "{text}");
    assert!(text.contains("REF*OI*INV-2026-0031"), "{text}");
    let back = decode(&text);
    assert_eq!(back.len(), 1);
    assert_eq!(
        original_invoice(invoice(&back[0])).number,
        original_invoice(invoice(&source)).number
    );
    // Read back as X12 and written again: the kept REF*OI, not a second one.
    let again = encode(&back);
    assert_eq!(ref_oi_count(&again), 1, "{again}");
    assert_eq!(decode(&again), back);
}

#[test]
fn a_csv_memo_s_original_invoice_number_goes_in_the_heading_before_the_parties() {
    let source = from_json(
        br#"{"kind": "invoice", "invoice_number": "CM-9", "invoice_date": "2026-04-02",
             "purpose": "credit_memo", "supplier": {"name": "Acme"},
             "extensions": {"csv": {"Original Invoice Number": "INV-5"}}}"#,
    )
    .unwrap();
    let text = encode(&[source]);
    let oi = text
        .find("REF*OI*INV-5")
        .unwrap_or_else(|| panic!("{text}"));
    let n1 = text.find("N1*").unwrap_or_else(|| panic!("{text}"));
    assert!(oi < n1, "{text}");
    let back = decode(&text);
    assert_eq!(original_invoice(invoice(&back[0])).number, Some("INV-5"));
}

#[test]
fn a_kept_ref_oi_is_written_once_even_beside_another_format_s_form() {
    let source = from_json(
        br#"{"kind": "invoice", "invoice_number": "CM-9", "invoice_date": "2026-04-02",
             "purpose": "credit_memo",
             "extensions": {"x12": {"segments": [["REF", "OI", "INV-X"]]},
                            "cxml": {"original_invoice_id": "INV-C"}}}"#,
    )
    .unwrap();
    let text = encode(&[source]);
    assert_eq!(ref_oi_count(&text), 1, "{text}");
    assert!(text.contains("REF*OI*INV-X"), "{text}");
}

#[test]
fn an_invoice_naming_no_original_has_no_ref_oi() {
    let source = from_json(
        br#"{"kind": "invoice", "invoice_number": "INV-1", "invoice_date": "2026-04-02"}"#,
    )
    .unwrap();
    assert_eq!(ref_oi_count(&encode(&[source])), 0);
}
