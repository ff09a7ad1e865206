//! A line's supplier auxiliary part id, the key of a punch-out item (cXML
//! `ItemID/SupplierPartAuxiliaryID`, a Coupa PO line's `supp-aux-part-num`), goes in the
//! line's PO1 part-number pairs as `VS` (Vendor's Supplemental Item Number), after the
//! supplier's (`VP`) and buyer's (`BP`) part ids. Read back it is a kept `VS` pair, which every
//! writer finds again (`gateway_core::supplier_part_auxiliary_id`), and which is written once.
//! Found by QA (14b item 7): QA4-EDI's line `supp-aux-part-num` `AUX-9` was nowhere in the 850.

// Test helpers outside #[test] functions may unwrap and panic too: a failure is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use adapter_x12::X12Codec;
use adapter_x12::tokenizer::Tokenizer;
use gateway_core::testkit::repo_root;
use gateway_core::{Decode, Encode, PartnerProfile, supplier_part_auxiliary_id};
use gateway_model::{Document, PurchaseOrder, from_json, from_json_lines};

fn encode(doc: &Document) -> String {
    let bytes = X12Codec::new()
        .encode(std::slice::from_ref(doc), &PartnerProfile::anonymous())
        .unwrap_or_else(|e| panic!("encode: {e}"));
    String::from_utf8(bytes).unwrap()
}

fn decode(x12: &str) -> PurchaseOrder {
    let d = X12Codec::new().decode(x12.as_bytes(), &PartnerProfile::anonymous());
    assert!(d.rejects.is_empty(), "rejects {:?}\n{x12}", d.rejects);
    match d.documents.into_iter().map(|d| d.document).next() {
        Some(Document::PurchaseOrder(po)) => po,
        other => panic!("not a PO: {other:?}"),
    }
}

/// The elements of every PO1 of `x12`.
fn po1s(x12: &str) -> Vec<Vec<String>> {
    Tokenizer::new(x12.as_bytes())
        .map(|s| {
            s.unwrap()
                .elements()
                .map(|e| String::from_utf8_lossy(e).into_owned())
                .collect::<Vec<_>>()
        })
        .filter(|s| s[0] == "PO1")
        .collect()
}

/// A PO as the Coupa mapping makes it from a line with `"supp-aux-part-num": "AUX-9"`.
fn coupa_po() -> Document {
    let json = r#"{"schema_version": 1, "kind": "purchase_order", "po_number": "QA4-EDI",
        "order_date": "2026-03-01", "purpose": "new", "version": 1, "currency": "USD",
        "lines": [
          {"line_number": 1, "quantity": "2", "uom": "EA", "unit_price": "250.16",
           "amount": "500.32", "description": "Punch-out item", "supplier_part_id": "LS-100",
           "buyer_part_id": "IT-7",
           "extensions": {"coupa": {"id": 101, "supp-aux-part-num": "AUX-9",
                                    "type": "OrderQuantityLine"}}},
          {"line_number": 2, "quantity": "1", "uom": "EA", "unit_price": "5",
           "description": "Catalog item", "supplier_part_id": "W-1"}
        ]}"#;
    from_json(json.as_bytes()).unwrap()
}

#[test]
fn a_coupa_lines_auxiliary_part_id_is_a_vs_pair_of_its_po1() {
    let x12 = encode(&coupa_po());
    let lines = po1s(&x12);
    assert_eq!(
        lines[0][6..],
        ["VP", "LS-100", "BP", "IT-7", "VS", "AUX-9"],
        "{x12}"
    );
    // A line without one has no VS pair.
    assert_eq!(lines[1][6..], ["VP", "W-1"], "{x12}");

    // Read back, it is the line's kept VS pair, found as the line's auxiliary id, and
    // written once again: X12 -> canonical -> X12 changes nothing.
    let back = decode(&x12);
    assert_eq!(
        supplier_part_auxiliary_id(&back.lines[0].extensions),
        Some(("x12", "AUX-9"))
    );
    let again = encode(&Document::PurchaseOrder(back.clone()));
    assert_eq!(po1s(&again), lines, "{again}");
    assert_eq!(decode(&again), back);
}

/// cXML's own (`extensions.cxml.supplier_part_auxiliary_id`, the golden rich order's
/// `BOX-100`) goes the same way.
#[test]
fn a_cxml_lines_auxiliary_part_id_is_a_vs_pair_of_its_po1() {
    let bytes =
        std::fs::read(repo_root().join("samples/cxml/purchase_order/rich.canonical.json")).unwrap();
    let doc = from_json_lines(&bytes).into_iter().next().unwrap().unwrap();
    let x12 = encode(&doc);
    let first = &po1s(&x12)[0];
    let vs = first
        .iter()
        .position(|e| e == "VS")
        .unwrap_or_else(|| panic!("{x12}"));
    assert_eq!(first[vs + 1], "BOX-100", "{x12}");
    assert_eq!(first.iter().filter(|e| *e == "VS").count(), 1, "{x12}");
}
