//! A PO mail says what the order message does: a cancellation says so in its subject and at
//! the top of its body (QA's case: a cancelled PO-MX2 went out as "Purchase order PO-MX2" with
//! its lines listed as an order, only the attached 850 saying BEG*01), a change says it is a
//! change, and a new order reads as before.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use adapter_email::outbound::{html_body, subject, text_body};
use adapter_email::{PoMail, render_po_mail};
use gateway_core::Format;
use gateway_model::{Document, OrderPurpose, PurchaseOrder, from_json};

fn po(purpose: Option<OrderPurpose>, version: Option<u32>) -> PurchaseOrder {
    let json = r#"{"schema_version": 1, "kind": "purchase_order", "po_number": "PO-MX2", "order_date": "2026-03-01", "currency": "USD", "buyer": {"name": "Globex"}, "lines": [{"line_number": 1, "quantity": "10", "uom": "EA", "unit_price": "12.50", "description": "Safety gloves", "supplier_part_id": "GLV-1"}]}"#;
    match from_json(json.as_bytes()) {
        Ok(Document::PurchaseOrder(mut po)) => {
            po.purpose = purpose;
            po.version = version;
            po
        }
        other => panic!("{other:?}"),
    }
}

/// The whole mail as sent, headers and parts.
fn raw_mail(po: &PurchaseOrder) -> String {
    let m = render_po_mail(PoMail {
        po,
        from: "Purchasing <po@globex.example>".parse().unwrap(),
        reply_to: None,
        to: "orders@mx.example",
        attachment_format: Format::X12,
        attachment_charset: None,
        attachment_name: "PO-MX2.edi".into(),
        attachment: b"ISA*00*...~BEG*01*SA*PO-MX2~".to_vec(),
        message_id: "doc-9@coupa-gateway".into(),
    })
    .unwrap();
    String::from_utf8(m.formatted()).unwrap()
}

const CANCELLED: &str = "This purchase order is cancelled: do not ship it.";

#[test]
fn a_cancelled_po_says_so_in_the_subject() {
    let p = po(Some(OrderPurpose::Cancel), None);
    assert_eq!(
        subject(&p),
        "Cancellation of purchase order PO-MX2 from Globex"
    );
    let raw = raw_mail(&p);
    assert!(
        raw.contains("Subject: Cancellation of purchase order PO-MX2 from Globex"),
        "{raw}"
    );
}

#[test]
fn a_cancelled_po_says_so_at_the_top_of_both_bodies() {
    let p = po(Some(OrderPurpose::Cancel), Some(3));
    let text = text_body(&p);
    let first_lines: Vec<&str> = text.lines().take(3).collect();
    assert!(first_lines.contains(&CANCELLED), "{text}");
    // The lines are listed as what is cancelled, not as an order to fill.
    assert!(text.contains("Cancelled lines:"), "{text}");
    assert!(!text.contains("\nLines:"), "{text}");
    assert!(!text.contains("The purchase order is attached."), "{text}");
    let html = html_body(&p);
    let notice = html.find(CANCELLED).unwrap_or_else(|| panic!("{html}"));
    assert!(notice < html.find("<table").unwrap(), "{html}");
    let raw = raw_mail(&p);
    assert!(raw.contains(CANCELLED), "{raw}");
}

#[test]
fn a_changed_po_says_it_is_a_change() {
    let p = po(Some(OrderPurpose::Update), Some(2));
    assert_eq!(
        subject(&p),
        "Change to purchase order PO-MX2 (revision 2) from Globex"
    );
    let text = text_body(&p);
    assert!(
        text.lines()
            .take(3)
            .any(|l| l.starts_with("This purchase order is changed")),
        "{text}"
    );
    assert!(html_body(&p).contains("This purchase order is changed"));
    // A change without a version number is still a change.
    let p = po(Some(OrderPurpose::Update), None);
    assert_eq!(subject(&p), "Change to purchase order PO-MX2 from Globex");
    let raw = raw_mail(&p);
    assert!(
        raw.contains("Subject: Change to purchase order PO-MX2 from Globex"),
        "{raw}"
    );
}

#[test]
fn a_new_po_reads_as_an_order() {
    for purpose in [Some(OrderPurpose::New), None] {
        let p = po(purpose, None);
        assert_eq!(subject(&p), "Purchase order PO-MX2 from Globex");
        let text = text_body(&p);
        assert!(
            text.starts_with("Purchase order PO-MX2 from Globex\n"),
            "{text}"
        );
        assert!(text.contains("\nLines:\n"), "{text}");
        assert!(!text.contains("cancel"), "{text}");
        assert!(!text.contains("changed"), "{text}");
    }
    // A later version of an order that does not say it is a change keeps its revision.
    let p = po(Some(OrderPurpose::New), Some(2));
    assert_eq!(
        subject(&p),
        "Purchase order PO-MX2 (revision 2) from Globex"
    );
}
