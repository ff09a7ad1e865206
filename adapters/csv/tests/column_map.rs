//! Partner layouts described by a column map in the profile: no code per supplier.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use adapter_csv::CsvCodec;
use common::{canonical, decode_with, docs, samples};
use gateway_core::{Decode, PartnerProfile};
use gateway_model::Document;

#[test]
fn partner_sheet_sample_decodes_with_its_profile() {
    let dir = samples().join("invoice");
    let profile = PartnerProfile::load(&dir.join("partner_sheet.partner.toml")).unwrap();
    let raw = std::fs::read(dir.join("partner_sheet.csv")).unwrap();
    let d = CsvCodec.decode(&raw, &profile);
    assert!(d.rejects.is_empty(), "{:?}", d.rejects);
    assert_eq!(
        docs(&d),
        canonical(&dir.join("partner_sheet.canonical.json"))
    );
}

const KEYED: &str = r#"
id = "k"
[csv]
kind = "purchase_order"
grouping = "key"
key_column = "Order"
columns = [
  { column = "Order", field = "po_number" },
  { column = "Date", field = "order_date" },
  { column = "Qty", field = "lines.quantity" },
  { column = "Cost centre", field = "lines.extensions.cost_centre" },
  { column = "Ship city", field = "ship_to.address.city" },
]
"#;

#[test]
fn key_grouping_reads_header_fields_from_the_first_row_of_a_run() {
    let raw = b"Order,Date,Qty,Cost centre,Ship city\n\
P1,2026-01-01,1,CC-1,Lyon\n\
P1,,2,,\n\
P2,2026-01-02,3,,Nantes\n";
    let d = decode_with(raw, KEYED);
    assert!(d.rejects.is_empty(), "{:?}", d.rejects);
    let docs = docs(&d);
    assert_eq!(docs.len(), 2);
    let Document::PurchaseOrder(p1) = &docs[0] else {
        panic!()
    };
    assert_eq!(p1.lines.len(), 2);
    assert_eq!(p1.lines[1].line_number, 2);
    assert_eq!(
        p1.lines[0].extensions["cost_centre"],
        serde_json::json!("CC-1")
    );
    assert_eq!(
        p1.ship_to
            .as_ref()
            .unwrap()
            .address
            .as_ref()
            .unwrap()
            .city
            .as_deref(),
        Some("Lyon")
    );
}

#[test]
fn a_bad_cell_rejects_its_group_with_row_and_column() {
    let raw = b"Order,Date,Qty,Cost centre,Ship city\n\
P1,2026-01-01,1,,\n\
P1,,two,,\n\
P2,2026-01-02,3,,\n";
    let d = decode_with(raw, KEYED);
    assert_eq!(d.documents.len(), 1);
    assert_eq!(d.documents[0].document.number(), "P2");
    assert_eq!(d.rejects.len(), 1);
    assert_eq!(d.rejects[0].location, "row 3, column \"Qty\"");
    assert_eq!(d.rejects[0].document.as_deref(), Some("P1"));
}

#[test]
fn a_map_naming_a_missing_column_is_one_reject() {
    let d = decode_with(b"Order,Date\nP1,2026-01-01\n", KEYED);
    assert!(d.documents.is_empty());
    assert_eq!(d.rejects.len(), 1);
    assert!(
        d.rejects[0].message.contains("\"Qty\""),
        "{}",
        d.rejects[0].message
    );
}

#[test]
fn an_unknown_field_path_is_refused_by_name() {
    let profile = "id = \"x\"\n[csv]\ncolumns = [{ column = \"A\", field = \"lines.colour\" }]\n";
    let d = decode_with(b"A\n1\n", profile);
    assert!(d.documents.is_empty());
    assert_eq!(d.rejects.len(), 1);
    assert_eq!(d.rejects[0].location, "partner profile \"x\"");
    assert!(d.rejects[0].message.contains("lines.colour"));
}

#[test]
fn row_grouping_makes_one_document_per_row() {
    let profile = r#"
id = "r"
[csv]
grouping = "row"
columns = [
  { column = "1", field = "invoice_number" },
  { column = "2", field = "lines.amount" },
]
has_header = false
"#;
    let d = decode_with(b"A,1.50\nA,2.50\n", profile);
    assert!(d.rejects.is_empty(), "{:?}", d.rejects);
    assert_eq!(d.documents.len(), 2);
}

#[test]
fn a_partner_header_naming_a_column_twice_is_one_reject() {
    let d = decode_with(
        b"Order,Date,Qty,Cost centre,qty\nP1,2026-01-01,1,CC-1,2\n",
        KEYED,
    );
    assert!(d.documents.is_empty());
    assert_eq!(d.rejects.len(), 1);
    assert!(
        d.rejects[0]
            .message
            .contains("\"Qty\" twice (columns 3 and 5)"),
        "{}",
        d.rejects[0].message
    );
}
