//! A PO mail tells the supplier's people where and how the goods go: the ship-to's attention
//! line (Coupa's `ship-to-attention`, the canonical ship-to `contact`) and the shipping terms
//! (Coupa's `shipping-term`) are in both bodies. Before, the attention line reached cXML and
//! X12 suppliers but no mail, and the shipping terms reached no supplier at all.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use adapter_email::outbound::{html_body, text_body};
use gateway_model::{Document, PurchaseOrder, from_json};

fn po(json: &str) -> PurchaseOrder {
    match from_json(json.as_bytes()) {
        Ok(Document::PurchaseOrder(po)) => po,
        other => panic!("{other:?}"),
    }
}

const COUPA_PO: &str = r#"{"schema_version": 1, "kind": "purchase_order", "po_number": "PO-6112", "order_date": "2026-03-01", "currency": "USD",
  "ship_to": {"name": "Main Warehouse", "contact": "J Madden <Receiving>"},
  "shipping_terms": {"code": "FOB Destination"},
  "lines": [{"line_number": 1, "quantity": "1", "uom": "EA", "unit_price": "5", "description": "Bolts"}]}"#;

#[test]
fn the_attention_line_and_shipping_terms_are_in_both_bodies() {
    let p = po(COUPA_PO);
    let text = text_body(&p);
    for line in [
        "Ship to: Main Warehouse",
        "Attention: J Madden <Receiving>",
        "Shipping terms: FOB Destination",
    ] {
        assert!(text.lines().any(|l| l == line), "{line}:\n{text}");
    }
    // Before the lines, with the order's other facts.
    assert!(
        text.find("Shipping terms:").unwrap() < text.find("Lines:").unwrap(),
        "{text}"
    );
    let html = html_body(&p);
    for part in [
        "<p>Ship to: Main Warehouse</p>",
        "<p>Attention: J Madden &lt;Receiving&gt;</p>",
        "<p>Shipping terms: FOB Destination</p>",
    ] {
        assert!(html.contains(part), "{part}:\n{html}");
    }
    assert!(html.find("Attention:").unwrap() < html.find("<table").unwrap());
}

/// An attention line of several lines (a cXML ship-to's `DeliverTo`s) is one line of the
/// mail; an order without them says nothing of them.
#[test]
fn a_several_line_attention_is_one_line_and_absent_facts_are_not_written() {
    let p = po(&COUPA_PO.replace("J Madden <Receiving>", "Receiving Dock\\nAttn: M. Chen"));
    let text = text_body(&p);
    assert!(
        text.lines()
            .any(|l| l == "Attention: Receiving Dock, Attn: M. Chen"),
        "{text}"
    );
    let mut bare = po(COUPA_PO);
    bare.ship_to = None;
    bare.shipping_terms = None;
    let text = text_body(&bare);
    assert!(!text.contains("Attention"), "{text}");
    assert!(!text.contains("Shipping terms"), "{text}");
    assert!(!html_body(&bare).contains("Attention"));
}
