//! The invoice a memo corrects, written as `InvoiceIDInfo` from another format's form
//! (`gateway_core::original_invoice`: CSV `Original Invoice Number`/`Date` kept in
//! `extensions.csv`, X12 `REF*OI`) and read back into `extensions.cxml`; a cXML source's own
//! `InvoiceIDInfo` is written as it came, once.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use adapter_cxml::CxmlCodec;
use gateway_core::{Decode, Encode, PartnerProfile, original_invoice};
use gateway_model::{Document, Invoice, from_json};

fn profile() -> PartnerProfile {
    PartnerProfile::from_toml(
        r#"
id = "acme"
[cxml]
from_domain = "DUNS"
from_identity = "123456789"
to_domain = "NetworkID"
to_identity = "AN01000000123"
sender_domain = "DUNS"
sender_identity = "123456789-S"
shared_secret = "inbound-secret"
outbound_shared_secret = "outbound-secret"
payload_id_host = "gw.example"
"#,
        "test.toml",
    )
    .unwrap()
}

fn invoice(d: &Document) -> &Invoice {
    match d {
        Document::Invoice(i) => i,
        other => panic!("not an invoice: {other:?}"),
    }
}

/// Encodes `json` as cXML and decodes it again: the text written and the invoice read. An
/// invoice of no line gets one (cXML requires one: `InvoiceDetailOrder (..., (InvoiceDetailItem
/// | InvoiceDetailServiceItem)+)`); the memos here are about the invoice they correct.
fn through_cxml(json: &str) -> (String, Document, Document) {
    let mut source = from_json(json.as_bytes()).unwrap();
    // cXML names the currency of every amount.
    if let Document::Invoice(inv) = &mut source
        && inv.currency.is_none()
    {
        inv.currency = Some("USD".into());
    }
    if let Document::Invoice(inv) = &mut source
        && inv.lines.is_empty()
    {
        inv.lines.push(gateway_model::InvoiceLine {
            line_number: 1,
            quantity: Some("1".parse().unwrap()),
            uom: Some("EA".into()),
            unit_price: Some("10.00".parse().unwrap()),
            amount: Some("10.00".parse().unwrap()),
            ..Default::default()
        });
    }
    let codec = CxmlCodec::default();
    let bytes = codec
        .encode(std::slice::from_ref(&source), &profile())
        .unwrap();
    let d = codec.decode(&bytes, &profile());
    assert!(d.rejects.is_empty(), "{:?}", d.rejects);
    let text = String::from_utf8(bytes).unwrap();
    (text, source, d.documents[0].document.clone())
}

/// A credit memo as the CSV reader gives it from a Coupa invoice import row with
/// `Original Invoice Number` and `Original Invoice Date`.
const CSV_MEMO: &str = r#"{"kind": "invoice", "invoice_number": "CM-9", "invoice_date": "2026-04-02",
    "purpose": "credit_memo", "currency": "USD", "total": "-10.00",
    "extensions": {"csv": {"Original Invoice Number": "INV-5", "Original Invoice Date": "2026-03-01"}}}"#;

#[test]
fn a_csv_credit_memo_names_its_original_invoice_in_invoice_id_info() {
    let (text, source, back) = through_cxml(CSV_MEMO);
    assert!(
        text.contains(
            r#"<InvoiceIDInfo invoiceID="INV-5" invoiceDate="2026-03-01T12:00:00+00:00"/>"#
        ),
        "{text}"
    );
    assert_eq!(
        original_invoice(invoice(&back)),
        original_invoice(invoice(&source))
    );
    assert_eq!(original_invoice(invoice(&back)).number, Some("INV-5"));
}

#[test]
fn an_x12_ref_oi_becomes_invoice_id_info_without_a_date() {
    let (text, _, back) = through_cxml(
        r#"{"kind": "invoice", "invoice_number": "CM-2", "invoice_date": "2026-04-02",
            "purpose": "credit_memo", "extensions": {"x12": {"segments": [["REF", "OI", "INV-77"]]}}}"#,
    );
    assert!(
        text.contains(r#"<InvoiceIDInfo invoiceID="INV-77"/>"#),
        "{text}"
    );
    assert_eq!(original_invoice(invoice(&back)).number, Some("INV-77"));
}

#[test]
fn a_cxml_source_s_own_invoice_id_info_is_written_once_as_it_came() {
    let (text, source, back) = through_cxml(
        r#"{"kind": "invoice", "invoice_number": "CM-3", "invoice_date": "2026-04-02",
            "purpose": "credit_memo",
            "extensions": {"cxml": {"original_invoice_id": "INV-1", "original_invoice_date": "2026-03-01T09:00:00-05:00"},
                           "csv": {"Original Invoice Number": "INV-OTHER"}}}"#,
    );
    assert_eq!(text.matches("<InvoiceIDInfo").count(), 1, "{text}");
    assert!(text.contains(r#"invoiceID="INV-1""#), "{text}");
    assert_eq!(
        invoice(&back).extensions.get("cxml"),
        invoice(&source).extensions.get("cxml")
    );
}

#[test]
fn an_invoice_naming_no_original_has_no_invoice_id_info() {
    let (text, _, _) = through_cxml(
        r#"{"kind": "invoice", "invoice_number": "INV-1", "invoice_date": "2026-04-02"}"#,
    );
    assert!(!text.contains("InvoiceIDInfo"), "{text}");
}
