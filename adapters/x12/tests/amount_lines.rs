//! A line bought by amount (Coupa's amount lines: a price, no quantity, no unit) broke X12's
//! paired rule P020304 and was refused, so the PO never went to the supplier, and no operator
//! could fix it short of editing the PO in Coupa. It is written as one lot at that amount.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use adapter_x12::X12Codec;
use gateway_core::{Decode, Encode, PartnerProfile};
use gateway_model::{Document, from_json};

fn order(line: &str) -> Document {
    from_json(
        format!(
            r#"{{"kind": "purchase_order", "po_number": "PO-AMT-1", "order_date": "2026-04-02",
                "currency": "USD", "supplier": {{"name": "Acme"}}, "lines": [{line}]}}"#
        )
        .as_bytes(),
    )
    .unwrap()
}

fn encode(doc: &Document) -> Result<String, String> {
    X12Codec::new()
        .encode(std::slice::from_ref(doc), &PartnerProfile::anonymous())
        .map(|b| String::from_utf8(b).unwrap())
        .map_err(|e| e.to_string())
}

#[test]
fn an_amount_line_goes_out_as_one_lot_at_its_amount() {
    let doc = order(r#"{"line_number": 1, "description": "Consulting", "amount": "1500.00"}"#);
    let text = encode(&doc).unwrap();
    assert!(text.contains("PO1*1*1*LO*1500"), "{text}");
    // Read back, it is one lot at that price: the amount is kept.
    let back = X12Codec::new().decode(text.as_bytes(), &PartnerProfile::anonymous());
    assert!(back.rejects.is_empty(), "{:?}", back.rejects);
    let Document::PurchaseOrder(po) = &back.documents[0].document else {
        panic!("not an order");
    };
    let line = &po.lines[0];
    assert_eq!(
        (
            line.quantity.map(|q| q.to_string()),
            line.uom.as_deref(),
            line.unit_price.map(|p| p.normalize().to_string())
        ),
        (Some("1".into()), Some("LO"), Some("1500".into()))
    );
    // A price without a quantity or unit is the same.
    let doc = order(r#"{"line_number": 1, "description": "Fee", "unit_price": "99.50"}"#);
    assert!(encode(&doc).unwrap().contains("PO1*1*1*LO*99.5"));
}

#[test]
fn a_line_missing_only_part_of_the_pair_is_still_refused() {
    // A quantity without a unit is a mistake to fix, not an amount line.
    let doc = order(r#"{"line_number": 1, "quantity": "2", "unit_price": "5.00"}"#);
    let err = encode(&doc).unwrap_err();
    assert!(err.contains("P020304") && err.contains("uom"), "{err}");
}
