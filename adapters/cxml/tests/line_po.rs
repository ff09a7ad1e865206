//! An invoice billing several POs: a line in an `InvoiceDetailOrder` of another PO than the
//! invoice's holds it in `lines[].po_number` (the model's field), not in its extensions, and is
//! written in an `InvoiceDetailOrder` of its own. A document already on the bus with the PO in
//! `extensions.cxml.po_number` (what the reader kept before) is still written so.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use adapter_cxml::CxmlCodec;
use gateway_core::testkit::repo_root;
use gateway_core::{Decode, Encode, PartnerProfile};
use gateway_model::{Document, Invoice};
use serde_json::json;

const SAMPLE: &str = "samples/cxml/invoice/credit_memo";

fn read(path: &str) -> String {
    std::fs::read_to_string(repo_root().join(path)).unwrap()
}

fn partner() -> PartnerProfile {
    PartnerProfile::from_toml(&read(&format!("{SAMPLE}.partner.toml")), "p.toml").unwrap()
}

fn decode(xml: &[u8]) -> Invoice {
    let d = CxmlCodec::new().decode(xml, &partner());
    assert!(d.rejects.is_empty(), "{:?}", d.rejects);
    match d.documents.into_iter().next().map(|d| d.document) {
        Some(Document::Invoice(inv)) => inv,
        other => panic!("not an invoice: {other:?}"),
    }
}

fn write(inv: &Invoice) -> String {
    let bytes = CxmlCodec::new()
        .encode(&[Document::Invoice(inv.clone())], &partner())
        .unwrap();
    String::from_utf8(bytes).unwrap()
}

/// The `orderID`s of the written `InvoiceDetailOrder`s, in order.
fn order_ids(xml: &str) -> Vec<&str> {
    xml.split("<InvoiceDetailOrder>")
        .skip(1)
        .filter_map(|o| o.split(r#"<OrderReference orderID=""#).nth(1))
        .filter_map(|r| r.split('"').next())
        .collect()
}

#[test]
fn a_line_billing_another_po_holds_it_in_its_po_number() {
    let inv = decode(read(&format!("{SAMPLE}.xml")).as_bytes());
    assert_eq!(inv.po_number.as_deref(), Some("PO-100"));
    // The first order's line bills the invoice's PO: no PO of its own.
    assert_eq!(inv.lines[0].po_number, None);
    assert_eq!(inv.lines[1].po_number.as_deref(), Some("PO-200"));
    for l in &inv.lines {
        assert!(
            l.extensions
                .get("cxml")
                .and_then(|c| c.get("po_number"))
                .is_none(),
            "{:?}",
            l.extensions
        );
    }
    let xml = write(&inv);
    assert_eq!(order_ids(&xml), ["PO-100", "PO-200"], "{xml}");
    assert_eq!(decode(xml.as_bytes()), inv, "{xml}");

    // A line billing the invoice's PO again: one order.
    let mut one = inv.clone();
    one.lines[1].po_number = None;
    let xml = write(&one);
    assert_eq!(order_ids(&xml), ["PO-100"], "{xml}");
    assert_eq!(decode(xml.as_bytes()), one, "{xml}");
}

#[test]
fn a_po_kept_in_extensions_by_an_older_reader_is_still_its_lines_order() {
    let mut inv = decode(read(&format!("{SAMPLE}.xml")).as_bytes());
    let want = inv.clone();
    // What the reader made of the second line before the model had the field.
    inv.lines[1].po_number = None;
    inv.lines[1]
        .extensions
        .insert("cxml".into(), json!({"po_number": "PO-200"}));
    let xml = write(&inv);
    assert_eq!(order_ids(&xml), ["PO-100", "PO-200"], "{xml}");
    // Read again, it is in the field.
    assert_eq!(decode(xml.as_bytes()), want, "{xml}");
    // The field wins over an old value beside it.
    inv.lines[1].po_number = Some("PO-300".into());
    let xml = write(&inv);
    assert_eq!(order_ids(&xml), ["PO-100", "PO-300"], "{xml}");
}
