//! A party's Coupa id and Coupa supplier number in the Coupa layouts' `...-id` and
//! `...-number` columns, in the domains `adapter-coupa`'s PO mapping gives them: `coupa` for
//! Coupa's id, `coupa-number` for the supplier number. QA's case: a PO to supplier CsvCo
//! (number `CSV-3`, id 3) was exported with `supplier-number` = `3` and no `supplier-id`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::HashMap;

use adapter_csv::CsvCodec;
use common::{decode, docs};
use gateway_core::{Encode, PartnerProfile};
use gateway_model::{
    Address, Document, Invoice, InvoiceLine, OrderLine, OrderPurpose, Party, PartyId, PurchaseOrder,
};

fn id(domain: &str, value: &str) -> PartyId {
    PartyId {
        domain: domain.into(),
        value: value.into(),
    }
}

/// Supplier CsvCo as `adapter-coupa`'s `purchase_order_from_coupa` maps Coupa's
/// `"supplier": {"id": 3, "number": "CSV-3", "name": "CsvCo"}`: the id first, in `coupa`, then
/// the number, in `coupa-number`.
fn csvco() -> Party {
    Party {
        name: Some("CsvCo".into()),
        ids: vec![id("coupa", "3"), id("coupa-number", "CSV-3")],
        ..Party::default()
    }
}

/// A PO as the Coupa mapping gives it: the supplier above, a ship-to address whose Coupa id
/// (`ship-to-address.id`) is in `coupa`.
fn coupa_po() -> PurchaseOrder {
    PurchaseOrder {
        po_number: Some("PO-MX2".into()),
        purpose: Some(OrderPurpose::New),
        version: Some(1),
        currency: Some("USD".into()),
        supplier: Some(csvco()),
        ship_to: Some(Party {
            name: Some("Dock 4".into()),
            ids: vec![id("coupa", "17")],
            address: Some(Address {
                lines: vec!["77 Dock Street".into()],
                city: Some("Cypress Creek".into()),
                ..Address::default()
            }),
            ..Party::default()
        }),
        lines: vec![OrderLine {
            line_number: 1,
            quantity: Some("2".parse().unwrap()),
            unit_price: Some("4.50".parse().unwrap()),
            description: Some("Widgets".into()),
            ..OrderLine::default()
        }],
        ..PurchaseOrder::default()
    }
}

fn write(doc: Document) -> String {
    let bytes = CsvCodec
        .encode(&[doc], &PartnerProfile::anonymous())
        .unwrap();
    String::from_utf8(bytes).unwrap()
}

/// Every record of type `kind` in `text` (no quoted commas in these tests), as column → value
/// by the header row written for that type.
fn records(text: &str, kind: &str) -> Vec<HashMap<String, String>> {
    let mut header: Vec<String> = Vec::new();
    let mut out = Vec::new();
    for line in text.lines() {
        let cells: Vec<&str> = line.split(',').collect();
        if cells.first() == Some(&kind) {
            if header.is_empty() {
                // A header row for this type: `Invoice,Invoice Number,...`.
                header = cells.iter().map(|c| c.to_string()).collect();
            } else {
                out.push(
                    header
                        .iter()
                        .cloned()
                        .zip(cells.iter().map(|c| c.to_string()))
                        .collect(),
                );
            }
        } else if cells.first() == Some(&"type") && kind == "Header" && header.is_empty() {
            // The PO export names its columns in a `type,...` row before the `Header` record.
            header = cells.iter().map(|c| c.to_string()).collect();
        }
    }
    out
}

fn cell<'a>(r: &'a HashMap<String, String>, column: &str) -> Option<&'a str> {
    r.get(column).map(String::as_str).filter(|v| !v.is_empty())
}

#[test]
fn a_coupa_po_export_has_the_supplier_id_and_number_each_in_its_column() {
    let text = write(Document::PurchaseOrder(coupa_po()));
    let headers = records(&text, "Header");
    assert_eq!(headers.len(), 1, "{text}");
    let h = &headers[0];
    assert_eq!(cell(h, "supplier-number"), Some("CSV-3"), "{text}");
    assert_eq!(cell(h, "supplier-id"), Some("3"), "{text}");
    assert_eq!(cell(h, "supplier-name"), Some("CsvCo"), "{text}");
    // The ship-to's Coupa id is an id too, not a number.
    assert_eq!(cell(h, "ship-to-address-id"), Some("17"), "{text}");
    assert_eq!(cell(h, "ship-to-address-number"), None, "{text}");
}

#[test]
fn a_coupa_po_export_reads_back_with_the_coupa_mappings_domains() {
    let po = coupa_po();
    let text = write(Document::PurchaseOrder(po.clone()));
    let back = decode(text.as_bytes());
    assert!(back.rejects.is_empty(), "{:?}", back.rejects);
    let Document::PurchaseOrder(read) = &docs(&back)[0] else {
        panic!("not an order: {text}")
    };
    assert_eq!(read.po_number, po.po_number);
    assert_eq!(read.supplier, po.supplier, "{text}");
    assert_eq!(read.ship_to, po.ship_to, "{text}");
    let supplier = read.supplier.as_ref().unwrap();
    assert_eq!(supplier.id_in("coupa"), Some("3"));
    assert_eq!(supplier.id_in("coupa-number"), Some("CSV-3"));
}

#[test]
fn a_po_export_file_reads_its_supplier_id_and_number_into_their_domains() {
    let raw = b"type,id,created-at,supplier-name,supplier-number,supplier-id\n\
Header,6112,2026-04-01,CsvCo,CSV-3,3\n";
    let d = decode(raw);
    assert!(d.rejects.is_empty(), "{:?}", d.rejects);
    let Document::PurchaseOrder(po) = &docs(&d)[0] else {
        panic!("not an order")
    };
    assert_eq!(po.supplier, Some(csvco()));
}

#[test]
fn the_invoice_import_has_the_supplier_number_in_supplier_number() {
    let inv = Invoice {
        invoice_number: Some("INV-7".into()),
        supplier: Some(csvco()),
        lines: vec![InvoiceLine {
            line_number: 1,
            quantity: Some("1".parse().unwrap()),
            unit_price: Some("9.00".parse().unwrap()),
            ..InvoiceLine::default()
        }],
        charges: vec![gateway_model::Charge {
            kind: gateway_model::ChargeKind::Shipping,
            amount: Some("5.00".parse().unwrap()),
            rate: None,
            category: None,
            description: None,
            code: None,
        }],
        ..Invoice::default()
    };
    let text = write(Document::Invoice(inv.clone()));
    let head = records(&text, "Invoice");
    assert_eq!(head.len(), 1, "{text}");
    assert_eq!(cell(&head[0], "Supplier Number"), Some("CSV-3"), "{text}");
    assert_eq!(cell(&head[0], "Supplier ID"), Some("3"), "{text}");
    for kind in ["Invoice Line", "Invoice Charge"] {
        let rs = records(&text, kind);
        assert_eq!(rs.len(), 1, "{kind}: {text}");
        assert_eq!(
            cell(&rs[0], "Supplier Number"),
            Some("CSV-3"),
            "{kind}: {text}"
        );
    }
    let back = decode(text.as_bytes());
    assert!(back.rejects.is_empty(), "{:?}", back.rejects);
    let Document::Invoice(read) = &docs(&back)[0] else {
        panic!("not an invoice: {text}")
    };
    assert_eq!(read.supplier, inv.supplier, "{text}");
}
