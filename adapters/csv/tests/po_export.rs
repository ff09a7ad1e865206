//! Coupa PO export files: dashed headers, header records and `Line` records.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{canonical, decode, docs, samples};
use gateway_model::{Document, OrderPurpose};

#[test]
fn coupa_export_sample_decodes_to_its_canonical_json() {
    let dir = samples().join("purchase_order");
    let raw = std::fs::read(dir.join("coupa_export.csv")).unwrap();
    let d = decode(&raw);
    assert!(d.rejects.is_empty(), "{:?}", d.rejects);
    assert_eq!(
        docs(&d),
        canonical(&dir.join("coupa_export.canonical.json"))
    );
}

#[test]
fn cancelled_status_is_the_cancel_purpose_and_numbers_come_from_id() {
    let raw = b"type,id,status,version,created-at\nHeader,77,cancelled,3,2026-01-05\n";
    let d = decode(raw);
    assert!(d.rejects.is_empty(), "{:?}", d.rejects);
    let Document::PurchaseOrder(po) = &d.documents[0].document else {
        panic!()
    };
    assert_eq!(po.po_number.as_deref(), Some("77"));
    assert_eq!(po.purpose, Some(OrderPurpose::Cancel));
    assert_eq!(po.version, Some(3));
    assert!(po.extensions.is_empty(), "{:?}", po.extensions);
}

#[test]
fn a_line_naming_another_order_rejects_its_order_only() {
    let raw = b"type,id,created-at\n\
Header,1,2026-01-01\n\
type,order-header-id,line-number,quantity,price\n\
Line,1,1,1,1.00\n\
Line,9,2,1,1.00\n\
Header,2,2026-01-02\n\
Line,2,1,5,2.00\n";
    let d = decode(raw);
    assert_eq!(d.documents.len(), 1);
    assert_eq!(d.documents[0].document.number(), "2");
    assert_eq!(d.rejects.len(), 1);
    assert_eq!(d.rejects[0].location, "row 5, column \"order-header-id\"");
    assert_eq!(d.rejects[0].document.as_deref(), Some("1"));
}

#[test]
fn line_before_any_header_is_rejected() {
    let raw = b"type,line-number\nLine,1\n";
    let d = decode(raw);
    assert!(d.documents.is_empty());
    assert_eq!(d.rejects.len(), 1);
    assert_eq!(d.rejects[0].location, "row 2");
}
