//! The Coupa PO layout carries the ship-to's attention line (`ship-to-attention`, the
//! canonical ship-to `contact`) and the shipping terms (`shipping-terms-code`): both reached
//! cXML and X12 suppliers but not CSV ones. They are the last of the header record's fixed
//! columns, so every column a supplier reads by position keeps its place.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::decode;
use gateway_core::{Encode, PartnerProfile};
use gateway_model::{Address, Document, OrderLine, Party, PurchaseOrder, ShippingTerms};

/// An order as the layout carries it (no purpose for a new order: the export has `status`).
fn order(contact: Option<&str>, terms: Option<&str>) -> PurchaseOrder {
    PurchaseOrder {
        po_number: Some("PO-9".into()),
        order_date: Some("2026-03-01".parse().unwrap()),
        version: Some(1),
        currency: Some("USD".into()),
        ship_to: Some(Party {
            name: Some("Main Warehouse".into()),
            address: Some(Address {
                lines: vec!["333 East Hill Dr".into()],
                city: Some("San Leandro".into()),
                country: Some("US".into()),
                ..Address::default()
            }),
            contact: contact.map(Into::into),
            ..Party::default()
        }),
        shipping_terms: terms.map(|c| ShippingTerms {
            code: Some(c.into()),
        }),
        lines: vec![OrderLine {
            line_number: 1,
            quantity: Some("2".parse().unwrap()),
            uom: Some("EA".into()),
            unit_price: Some("5.00".parse().unwrap()),
            amount: Some("10.00".parse().unwrap()),
            description: Some("Bolts".into()),
            ..OrderLine::default()
        }],
        total: Some("10.00".parse().unwrap()),
        ..PurchaseOrder::default()
    }
}

fn write(po: &PurchaseOrder) -> String {
    let bytes = adapter_csv::CsvCodec
        .encode(
            &[Document::PurchaseOrder(po.clone())],
            &PartnerProfile::anonymous(),
        )
        .unwrap();
    String::from_utf8(bytes).unwrap()
}

fn read(csv: &str) -> PurchaseOrder {
    let d = decode(csv.as_bytes());
    assert!(d.rejects.is_empty(), "{:?}\n{csv}", d.rejects);
    match &d.documents[0].document {
        Document::PurchaseOrder(po) => po.clone(),
        other => panic!("{other:?}"),
    }
}

/// The first two rows: the header record's header row and the record.
fn header_record(csv: &str) -> (String, String) {
    let mut rows = csv.lines();
    (
        rows.next().unwrap().to_string(),
        rows.next().unwrap().to_string(),
    )
}

/// The layout's columns are fixed whatever the order holds (see `po_fixed_columns.rs`): the
/// two columns are there, empty, for an order without them, and the last of the list.
#[test]
fn the_attention_line_and_shipping_terms_are_the_last_columns_and_read_back() {
    let plain = order(None, None);
    let full = order(Some("J Madden"), Some("FOB Destination"));
    let (plain_head, plain_row) = header_record(&write(&plain));
    let csv = write(&full);
    let (head, row) = header_record(&csv);
    assert_eq!(head, plain_head, "{csv}");
    assert!(
        head.ends_with(",ship-to-attention,shipping-terms-code"),
        "{csv}"
    );
    let before = plain_row
        .strip_suffix(",,")
        .unwrap_or_else(|| panic!("{plain_row}"));
    assert_eq!(row, format!("{before},J Madden,FOB Destination"), "{csv}");
    assert_eq!(read(&csv), full, "{csv}");
    assert_eq!(read(&write(&plain)), plain);
}

/// Each on its own; a ship-to known only by its attention line reads back as that.
#[test]
fn each_goes_alone_and_an_attention_line_is_a_ship_to_of_its_own() {
    for po in [
        order(Some("Receiving, dock 4"), None),
        order(None, Some("DAP")),
    ] {
        let csv = write(&po);
        assert_eq!(read(&csv), po, "{csv}");
    }
    let mut only = order(Some("J Madden"), None);
    only.ship_to = Some(Party {
        contact: Some("J Madden".into()),
        ..Party::default()
    });
    let csv = write(&only);
    assert!(
        csv.lines()
            .next()
            .unwrap()
            .ends_with(",ship-to-attention,shipping-terms-code")
    );
    assert_eq!(read(&csv), only, "{csv}");
}

/// Coupa's own spelling of the export's column (`Shipping-terms-code`) reads as the terms.
#[test]
fn coupas_spelling_of_the_column_is_read() {
    let csv = "type,id,created-at,Shipping-terms-code,ship-to-attention\n\
               Header,77,2026-01-05,FOB Origin,Pat\n";
    let po = read(csv);
    assert_eq!(
        po.shipping_terms.and_then(|t| t.code).as_deref(),
        Some("FOB Origin")
    );
    assert_eq!(po.ship_to.and_then(|p| p.contact).as_deref(), Some("Pat"));
    assert!(po.extensions.is_empty(), "{:?}", po.extensions);
}
