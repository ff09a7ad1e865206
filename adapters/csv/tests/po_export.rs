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

/// QA's file: Coupa wrote both header records, then both orders' lines, each naming its
/// order in `order-header-id`.
const HEADERS_THEN_LINES: &[u8] =
    b"type,id,created-at,status,version,supplier-name,supplier-number\n\
Header,6112,2026-04-01T09:30:00-07:00,issued,2,Acme,SUP-001\n\
Header,6113,2026-04-02T14:05:00-07:00,issued,1,Acme,SUP-001\n\
type,id,order-header-id,line-number,description,quantity,price,total,uom,need-by-date,currency\n\
Line,90001,6112,1,Gloves,10,12.50,125.00,EA,2026-04-15,USD\n\
Line,90003,6113,1,Install,3,80.00,240.00,HR,,EUR\n";

fn order(d: &gateway_core::DecodedDocument) -> &gateway_model::PurchaseOrder {
    match &d.document {
        Document::PurchaseOrder(po) => po,
        other => panic!("{other:?}"),
    }
}

#[test]
fn lines_go_to_the_order_their_order_header_id_names() {
    let d = decode(HEADERS_THEN_LINES);
    assert!(d.rejects.is_empty(), "{:?}", d.rejects);
    assert_eq!(d.documents.len(), 2);
    let (a, b) = (order(&d.documents[0]), order(&d.documents[1]));
    assert_eq!(a.po_number.as_deref(), Some("6112"));
    assert_eq!(b.po_number.as_deref(), Some("6113"));
    let desc = |po: &gateway_model::PurchaseOrder| -> Vec<String> {
        po.lines
            .iter()
            .map(|l| l.description.as_deref().unwrap_or_default().to_string())
            .collect()
    };
    assert_eq!(desc(a), ["Gloves"]);
    assert_eq!(desc(b), ["Install"]);
    assert_eq!(a.currency.as_deref(), Some("USD"));
    assert_eq!(b.currency.as_deref(), Some("EUR"));
    assert!(d.documents.iter().all(|d| d.meta.notes().next().is_none()));
}

#[test]
fn an_order_whose_run_of_lines_all_went_elsewhere_says_so() {
    let raw = String::from_utf8(HEADERS_THEN_LINES.to_vec())
        .unwrap()
        .replace("Line,90001,6112,", "Line,90001,6113,");
    let d = decode(raw.as_bytes());
    assert!(d.rejects.is_empty(), "{:?}", d.rejects);
    let (a, b) = (order(&d.documents[0]), order(&d.documents[1]));
    assert!(a.lines.is_empty());
    assert_eq!(b.lines.len(), 2);
    let notes: Vec<&str> = d.documents[0].meta.notes().collect();
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(
        notes[0].contains("no Line record names its id \"6112\" in order-header-id"),
        "{}",
        notes[0]
    );
    assert!(d.documents[1].meta.notes().next().is_none());
}

#[test]
fn a_line_naming_no_order_of_the_run_rejects_the_order_it_follows_listing_the_ids() {
    let raw = String::from_utf8(HEADERS_THEN_LINES.to_vec())
        .unwrap()
        .replace("Line,90003,6113,", "Line,90003,6114,");
    let d = decode(raw.as_bytes());
    assert_eq!(d.documents.len(), 1, "{:?}", d.rejects);
    assert_eq!(d.documents[0].document.number(), "6112");
    assert_eq!(d.rejects.len(), 1, "{:?}", d.rejects);
    let r = &d.rejects[0];
    assert_eq!(r.location, "row 6, column \"order-header-id\"");
    assert_eq!(r.document.as_deref(), Some("6113"));
    assert!(r.message.contains("\"6112\", \"6113\""), "{}", r.message);
}

#[test]
fn a_line_never_closed_in_a_run_of_orders_rejects_every_order_of_the_run() {
    // Which order the unreadable line (and the rest of the file read into it) belongs to is
    // unknown: no order of the run goes out without lines it may have had.
    let mut raw = HEADERS_THEN_LINES.to_vec();
    raw.extend_from_slice(b"Line,90004,6112,2,\"Boots,1,5.00,5.00,EA,,USD\n");
    let d = decode(&raw);
    assert!(d.documents.is_empty(), "{:?}", d.documents);
    let docs: Vec<&str> = d
        .rejects
        .iter()
        .map(|r| r.document.as_deref().unwrap_or_default())
        .collect();
    assert_eq!(docs, ["6112", "6113"]);
    assert!(d.rejects.iter().all(|r| r.location == "row 7, column 5"));
}

#[test]
fn an_unreadable_header_in_a_run_rejects_itself_and_the_lines_after_it_only() {
    let big = "x".repeat(adapter_csv::limits::MAX_FIELD_BYTES + 1);
    let raw = String::from_utf8(HEADERS_THEN_LINES.to_vec())
        .unwrap()
        .replace("issued,1,Acme", &format!("issued,1,{big}"));
    let d = decode(raw.as_bytes());
    // 6112's line still finds it; 6113's line names no order that could be read.
    assert_eq!(d.documents.len(), 1, "{:?}", d.rejects);
    assert_eq!(order(&d.documents[0]).lines.len(), 1);
    let places: Vec<&str> = d.rejects.iter().map(|r| r.location.as_str()).collect();
    assert_eq!(places, ["row 3", "row 6, column \"order-header-id\""]);
    assert!(
        d.rejects
            .iter()
            .all(|r| r.document.as_deref() == Some("purchase_order at rows 3-6"))
    );
}

/// A cancellation has the same columns as the order it cancels: `status` was written only for
/// a cancellation, every later column moved by one, and a supplier reading by position took
/// `cancelled` for the version.
#[test]
fn a_cancellation_has_the_same_columns_as_its_order() {
    use gateway_core::{Encode, PartnerProfile};
    let order = gateway_model::PurchaseOrder {
        po_number: Some("PO-9".into()),
        version: Some(2),
        order_date: Some("2026-03-01".parse().unwrap()),
        currency: Some("USD".into()),
        purpose: Some(OrderPurpose::Update),
        lines: vec![gateway_model::OrderLine {
            line_number: 1,
            quantity: Some("2".parse().unwrap()),
            unit_price: Some("5.00".parse().unwrap()),
            description: Some("Bolts".into()),
            ..Default::default()
        }],
        ..Default::default()
    };
    let cancel = gateway_model::PurchaseOrder {
        purpose: Some(OrderPurpose::Cancel),
        ..order.clone()
    };
    let header = |po: &gateway_model::PurchaseOrder| {
        let bytes = adapter_csv::CsvCodec
            .encode(
                &[Document::PurchaseOrder(po.clone())],
                &PartnerProfile::anonymous(),
            )
            .unwrap();
        String::from_utf8(bytes)
            .unwrap()
            .lines()
            .next()
            .unwrap()
            .to_string()
    };
    let (a, b) = (header(&order), header(&cancel));
    assert_eq!(a, b);
    assert!(a.contains(",status,"), "{a}");
    // And each reads back as it was.
    for po in [order, cancel] {
        let bytes = adapter_csv::CsvCodec
            .encode(
                &[Document::PurchaseOrder(po.clone())],
                &PartnerProfile::anonymous(),
            )
            .unwrap();
        let d = decode(&bytes);
        assert!(d.rejects.is_empty(), "{:?}", d.rejects);
        let Document::PurchaseOrder(back) = &d.documents[0].document else {
            panic!()
        };
        assert_eq!(
            back.purpose == Some(OrderPurpose::Cancel),
            po.purpose == Some(OrderPurpose::Cancel)
        );
        assert_eq!(back.version, po.version);
    }
}
