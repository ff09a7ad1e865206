//! Coupa's PO export layout has one fixed column list per record type: a supplier reading the
//! file by position found columns appearing and disappearing with each order's contents
//! (`ship-to-address-street2` only for a second street line, `total`, `ship-to-attention`,
//! `need-by-date` only when given), so "Dock 4" was read as the city. And `status` says
//! `issued` of a new or changed order, as Coupa's export does, `cancelled` of a cancellation.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{decode, docs};
use gateway_core::{Encode, PartnerProfile};
use gateway_model::{
    Address, Document, OrderLine, OrderPurpose, Party, PartyId, PaymentTerms, PurchaseOrder,
    ShippingTerms,
};

/// The header row of every PO header record, whatever the order holds.
const HEADER_ROW: &str = "type,id,created-at,status,version,supplier-name,supplier-number,\
supplier-id,supplier-street1,supplier-street2,supplier-street3,supplier-city,supplier-state,\
supplier-postal-code,supplier-country,ship-to-address-name,ship-to-address-number,\
ship-to-address-id,ship-to-address-street1,ship-to-address-street2,ship-to-address-street3,\
ship-to-address-city,ship-to-address-state,ship-to-address-postal-code,\
ship-to-address-country,payment-terms-code,total,currency,ship-to-attention,\
shipping-terms-code";

/// The header row of every PO `Line` record, whatever the line holds. `supp-aux-part-num`, the
/// newest, is last: no column before it moved.
const LINE_ROW: &str = "type,line-number,description,quantity,price,total,uom,need-by-date,source-part-num,\
item-number,currency,supp-aux-part-num";

fn party(name: &str, street: &[&str]) -> Party {
    Party {
        name: Some(name.into()),
        address: Some(Address {
            lines: street.iter().map(|s| (*s).into()).collect(),
            city: Some("San Leandro".into()),
            region: Some("CA".into()),
            postal_code: Some("94577".into()),
            country: Some("US".into()),
        }),
        ..Party::default()
    }
}

/// As the QA's PO-CSV-1: one street line, a total, an attention line, shipping terms, lines
/// with a need-by date and a part number.
fn full() -> PurchaseOrder {
    let mut ship_to = party("Main Warehouse", &["333 East Hill Dr"]);
    ship_to.contact = Some("J Madden".into());
    PurchaseOrder {
        po_number: Some("PO-CSV-1".into()),
        order_date: Some("2026-12-05".parse().unwrap()),
        version: Some(1),
        purpose: Some(OrderPurpose::New),
        currency: Some("USD".into()),
        total: Some("1505.00".parse().unwrap()),
        supplier: Some(Party {
            name: Some("CSV Co".into()),
            ids: vec![
                PartyId {
                    domain: "coupa".into(),
                    value: "3".into(),
                },
                PartyId {
                    domain: "coupa-number".into(),
                    value: "CSV-1".into(),
                },
            ],
            ..Party::default()
        }),
        ship_to: Some(ship_to),
        payment_terms: Some(PaymentTerms {
            description: Some("2/10 Net 45".into()),
            ..PaymentTerms::default()
        }),
        shipping_terms: Some(ShippingTerms {
            code: Some("FOB Destination".into()),
        }),
        lines: vec![OrderLine {
            line_number: 1,
            quantity: Some("10".parse().unwrap()),
            uom: Some("EA".into()),
            unit_price: Some("100.50".parse().unwrap()),
            amount: Some("1005.00".parse().unwrap()),
            description: Some("Laptop stand".into()),
            supplier_part_id: Some("LS-100".into()),
            need_by: Some("2026-06-01".parse().unwrap()),
            ..OrderLine::default()
        }],
        ..PurchaseOrder::default()
    }
}

/// As the QA's PO-CSV-2: a second street line, no total, attention or shipping terms, a line
/// with neither need-by date nor part number.
fn sparse() -> PurchaseOrder {
    PurchaseOrder {
        po_number: Some("PO-CSV-2".into()),
        order_date: Some("2026-12-05".parse().unwrap()),
        version: Some(1),
        currency: Some("USD".into()),
        supplier: Some(Party {
            name: Some("CSV Co".into()),
            ..Party::default()
        }),
        ship_to: Some(party("Main Warehouse", &["333 East Hill Dr", "Dock 4"])),
        payment_terms: Some(PaymentTerms {
            description: Some("Net 30".into()),
            ..PaymentTerms::default()
        }),
        lines: vec![OrderLine {
            line_number: 1,
            quantity: Some("1".parse().unwrap()),
            uom: Some("EA".into()),
            unit_price: Some("5.00".parse().unwrap()),
            amount: Some("5.00".parse().unwrap()),
            description: Some("Widget".into()),
            ..OrderLine::default()
        }],
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

/// The file's rows, split on commas (none of these values has one).
fn rows(csv: &str) -> Vec<Vec<String>> {
    csv.lines()
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect()
}

fn cell<'a>(rows: &'a [Vec<String>], header: usize, record: usize, column: &str) -> &'a str {
    let i = rows[header].iter().position(|c| c == column).unwrap();
    assert_eq!(rows[header].len(), rows[record].len(), "{rows:?}");
    &rows[record][i]
}

#[test]
fn two_orders_with_different_fields_have_identical_header_rows() {
    let (a, b) = (write(&full()), write(&sparse()));
    let (a, b) = (rows(&a), rows(&b));
    assert_eq!(a[0].join(","), HEADER_ROW);
    assert_eq!(b[0].join(","), HEADER_ROW);
    // Every record as wide as its header row.
    assert_eq!(a[1].len(), a[0].len());
    assert_eq!(b[1].len(), b[0].len());
}

#[test]
fn two_orders_with_different_line_fields_have_identical_line_header_rows() {
    let (a, b) = (write(&full()), write(&sparse()));
    let (a, b) = (rows(&a), rows(&b));
    assert_eq!(a[2].join(","), LINE_ROW);
    assert_eq!(b[2].join(","), LINE_ROW);
    assert_eq!(a[3].len(), a[2].len());
    assert_eq!(b[3].len(), b[2].len());
}

/// The defect as the supplier met it: the second street line took the city's place.
#[test]
fn a_value_is_in_the_same_position_whatever_else_the_order_holds() {
    let (a, b) = (write(&full()), write(&sparse()));
    let (a, b) = (rows(&a), rows(&b));
    let city = a[0]
        .iter()
        .position(|c| c == "ship-to-address-city")
        .unwrap();
    assert_eq!(a[1][city], "San Leandro");
    assert_eq!(b[1][city], "San Leandro");
    assert_eq!(cell(&b, 0, 1, "ship-to-address-street2"), "Dock 4");
    assert_eq!(cell(&a, 0, 1, "ship-to-address-street2"), "");
    assert_eq!(cell(&b, 2, 3, "need-by-date"), "");
    assert_eq!(cell(&b, 2, 3, "currency"), "USD");
}

#[test]
fn new_and_changed_orders_say_issued_and_a_cancellation_cancelled() {
    for (purpose, status) in [
        (None, "issued"),
        (Some(OrderPurpose::New), "issued"),
        (Some(OrderPurpose::Update), "issued"),
        (Some(OrderPurpose::Cancel), "cancelled"),
    ] {
        let po = PurchaseOrder { purpose, ..full() };
        let r = rows(&write(&po));
        assert_eq!(cell(&r, 0, 1, "status"), status, "{purpose:?}");
    }
}

/// A status kept from a source file stands unless it would contradict the order's purpose.
#[test]
fn a_kept_status_stands_but_never_contradicts_the_purpose() {
    let with = |purpose, status: &str| {
        let mut po = full();
        po.purpose = purpose;
        po.extensions.insert(
            "csv".into(),
            serde_json::json!({ "status": status, "exported": "false" }),
        );
        po
    };
    let r = rows(&write(&with(None, "draft")));
    assert_eq!(cell(&r, 0, 1, "status"), "draft");
    assert_eq!(
        r[0].last().unwrap(),
        "exported",
        "kept columns follow the list"
    );
    let r = rows(&write(&with(Some(OrderPurpose::Cancel), "draft")));
    assert_eq!(cell(&r, 0, 1, "status"), "cancelled");
    let r = rows(&write(&with(None, "cancelled")));
    assert_eq!(cell(&r, 0, 1, "status"), "issued");
}

/// Reading the file back gives the order written (the purpose `new`/`update` aside, which the
/// layout does not carry: both are `issued`).
#[test]
fn orders_read_back_as_written() {
    for po in [full(), sparse()] {
        let d = decode(write(&po).as_bytes());
        assert!(d.rejects.is_empty(), "{:?}", d.rejects);
        let want = PurchaseOrder {
            purpose: None,
            ..po.clone()
        };
        assert_eq!(docs(&d), vec![Document::PurchaseOrder(want)]);
    }
    let cancel = PurchaseOrder {
        purpose: Some(OrderPurpose::Cancel),
        ..sparse()
    };
    let d = decode(write(&cancel).as_bytes());
    assert_eq!(docs(&d), vec![Document::PurchaseOrder(cancel)]);
}

/// Several orders of one file share the header rows, and an order from a Coupa export file
/// keeps its columns' places: its kept columns come after the fixed list.
#[test]
fn orders_of_one_file_and_kept_columns_follow_the_fixed_list() {
    let bytes = adapter_csv::CsvCodec
        .encode(
            &[
                Document::PurchaseOrder(sparse()),
                Document::PurchaseOrder(full()),
            ],
            &PartnerProfile::anonymous(),
        )
        .unwrap();
    let text = String::from_utf8(bytes).unwrap();
    let r = rows(&text);
    assert_eq!(r[0].join(","), HEADER_ROW, "{text}");
    assert!(
        r.iter().filter(|row| row[0] == "type").count() == 2,
        "{text}"
    );
}

/// QA 14b item 7: a Coupa PO line's `supp-aux-part-num` (QA3-CSV's `AUX-9`, a punch-out
/// item's key) was in no column. It is the Line record's last column, `supp-aux-part-num`
/// (Coupa's name), from whichever format's form the line keeps it in; read back, it is a kept
/// cell the next write puts in the same column, once.
#[test]
fn a_lines_auxiliary_part_id_is_the_last_line_column() {
    let mut po = full();
    po.lines[0].extensions.insert(
        "coupa".into(),
        serde_json::json!({"id": 101, "supp-aux-part-num": "AUX-9", "type": "OrderQuantityLine"}),
    );
    let mut cxml_line = po.lines[0].clone();
    cxml_line.line_number = 2;
    cxml_line.extensions = [(
        "cxml".to_string(),
        serde_json::json!({"supplier_part_auxiliary_id": "BOX-100"}),
    )]
    .into();
    po.lines.push(cxml_line);
    let text = write(&po);
    let r = rows(&text);
    assert_eq!(r[2].join(","), LINE_ROW, "{text}");
    assert_eq!(r[3].last().map(String::as_str), Some("AUX-9"), "{text}");
    assert_eq!(cell(&r, 2, 3, "supp-aux-part-num"), "AUX-9");
    assert_eq!(cell(&r, 2, 4, "supp-aux-part-num"), "BOX-100");
    assert_eq!(cell(&r, 2, 3, "source-part-num"), "LS-100");

    let d = decode(text.as_bytes());
    assert!(d.rejects.is_empty(), "{:?}", d.rejects);
    let Document::PurchaseOrder(back) = docs(&d).remove(0) else {
        panic!("not a PO")
    };
    assert_eq!(
        gateway_core::supplier_part_auxiliary_id(&back.lines[0].extensions),
        Some(("csv", "AUX-9"))
    );
    let again = write(&back);
    assert_eq!(rows(&again), r, "{again}");

    // A column of another spelling kept from a CSV source is written as it came, not twice.
    let mut kept = sparse();
    kept.lines[0].extensions.insert(
        "csv".into(),
        serde_json::json!({"Supplier Aux Part Num": "K-1"}),
    );
    let r = rows(&write(&kept));
    assert_eq!(cell(&r, 2, 3, "supp-aux-part-num"), "");
    assert_eq!(cell(&r, 2, 3, "Supplier Aux Part Num"), "K-1");
}
