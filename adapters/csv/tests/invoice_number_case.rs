//! Rows of one invoice whose numbers differ only in ASCII case or surrounding spaces (`F4-A`,
//! `f4-a`, ` F4-A `) are one invoice, as the intake's business key and Coupa's duplicate guard
//! take them: the readers group them into one document under the number its first row
//! writes, and rows truly apart (another number between) still refuse it whole.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{decode, decode_with, docs};
use gateway_model::Document;
use rust_decimal::Decimal;

/// `(location, document)` of each reject.
fn places(d: &gateway_core::Decoded) -> Vec<(String, Option<String>)> {
    d.rejects
        .iter()
        .map(|r| (r.location.clone(), r.document.clone()))
        .collect()
}

/// The one invoice decoded: its number, line count and the sum of its line amounts.
fn one_invoice(d: &gateway_core::Decoded) -> (String, usize, Decimal) {
    assert!(d.rejects.is_empty(), "{:?}", d.rejects);
    let docs = docs(d);
    assert_eq!(docs.len(), 1, "{docs:?}");
    let Document::Invoice(inv) = &docs[0] else {
        panic!("not an invoice: {:?}", docs[0])
    };
    let sum = inv.lines.iter().filter_map(|l| l.amount).sum();
    (
        inv.invoice_number
            .as_deref()
            .unwrap_or_default()
            .to_string(),
        inv.lines.len(),
        sum,
    )
}

/// QA (`part/f4.csv`): the second line `f4-a` of invoice `F4-A` was refused on its own and
/// F4-A delivered with one line, 30.00 of its 60.00. Both lines join it, its number as its
/// Invoice row writes it; a number in spaces and another case joins too.
#[test]
fn coupa_lines_whose_number_differs_only_in_case_join_their_invoice() {
    let raw = "\
Invoice,Invoice Number,Supplier Name,Supplier Number,Invoice Date,Currency,Invoice Control Total
Invoice Line,Invoice Number,Supplier Name,Line Number,Description,Price,Quantity,Unit of Measure,Total,PO Number,PO Line Number
Invoice Charge,Invoice Number,Supplier Name,Type,Total,Description
Invoice,F4-A,Acme,ACME-1,2026-06-01,USD,60.00
Invoice Line,F4-A,Acme,1,Bolt,10.00,3,EA,30.00,PO-1,1
Invoice Line,f4-a,Acme,2,Nut,10.00,3,EA,30.00,PO-1,2
";
    let d = decode(raw.as_bytes());
    assert_eq!(
        one_invoice(&d),
        ("F4-A".to_string(), 2, Decimal::new(6000, 2))
    );
    let spaced = raw.replace("Invoice Line,f4-a,", "Invoice Line,\" f4-A \",");
    let d = decode(spaced.as_bytes());
    assert_eq!(
        one_invoice(&d),
        ("F4-A".to_string(), 2, Decimal::new(6000, 2))
    );
}

/// A late line in another case is still the invoice's row apart: the invoice is refused whole,
/// the run handed over first included, named as that run wrote its number.
#[test]
fn coupa_a_late_line_in_another_case_still_refuses_its_invoice_whole() {
    let raw = "\
Invoice,Invoice Number,Invoice Date,Currency
Invoice Line,Invoice Number,Line Number,Description,Price,Quantity
Invoice,SAME-1,2026-03-15,USD
Invoice Line,SAME-1,1,Gloves,10.00,1
Invoice,SAME-2,2026-03-15,USD
Invoice Line,SAME-2,1,Paper,5.00,1
Invoice Line,same-1,2,Late line for SAME-1,7.00,1
";
    let d = decode(raw.as_bytes());
    let numbers: Vec<&str> = d.documents.iter().map(|x| x.document.number()).collect();
    assert_eq!(numbers, ["SAME-2"], "{:?}", d.rejects);
    assert_eq!(
        places(&d),
        [
            ("row 7".to_string(), Some("same-1".to_string())),
            ("rows 3-4".to_string(), Some("SAME-1".to_string())),
        ]
    );
    assert!(
        d.rejects[0]
            .message
            .contains("invoice \"same-1\", at rows 3-4, is refused whole with this row"),
        "{}",
        d.rejects[0].message
    );
}

/// Partner `beta` of QA's gateway.toml: `;`, one row per line, the invoice repeated.
const BETA: &str = r#"
id = "beta"
[csv]
delimiter = ";"
kind = "invoice"
grouping = "repeated"
columns = [
  { column = "InvNo", field = "invoice_number" },
  { column = "Date", field = "invoice_date" },
  { column = "SupplierNo", field = "supplier.ids.coupa" },
  { column = "Cur", field = "currency" },
  { column = "PO", field = "lines.po_number" },
  { column = "Pos", field = "lines.line_number" },
  { column = "Desc", field = "lines.description" },
  { column = "Qty", field = "lines.quantity" },
  { column = "Price", field = "lines.unit_price" },
  { column = "Amount", field = "lines.amount" },
  { column = "TaxAmt", field = "lines.taxes.amount" },
  { column = "Total", field = "total" },
]
"#;

const BETA_HEAD: &str = "InvNo;Date;SupplierNo;Cur;PO;Pos;Desc;Qty;Price;Amount;TaxAmt;Total\n";

/// QA (`part/b2.csv`): adjacent rows `QE-B2` and `qe-b2` became two invoices, one delivered
/// with half its lines and the other dead-lettered as a conflict. They are one invoice, and
/// the number cells do not contradict each other on the document field either.
#[test]
fn column_map_rows_whose_number_differs_only_in_case_are_one_invoice() {
    let raw = format!(
        "{BETA_HEAD}\
QE-B2;2026-06-01;BETA-1;USD;PO-9;1;Bolt;3;10.00;30.00;;60.00\n\
qe-b2 ;2026-06-01;BETA-1;USD;PO-9;2;Nut;3;10.00;30.00;;60.00\n"
    );
    let d = decode_with(raw.as_bytes(), BETA);
    assert_eq!(
        one_invoice(&d),
        ("QE-B2".to_string(), 2, Decimal::new(6000, 2))
    );
}

/// Rows under a number in another case after another invoice's rows are apart: the invoice
/// is refused whole, as when the number is written the same.
#[test]
fn column_map_a_later_run_in_another_case_refuses_its_invoice_whole() {
    let raw = format!(
        "{BETA_HEAD}\
QE-B4;2026-06-01;BETA-1;USD;PO-9;1;Bolt;3;10.00;30.00;;60.00\n\
QE-B5;2026-06-01;BETA-1;USD;PO-9;1;Nut;1;5.00;5.00;;5.00\n\
qe-b4;2026-06-01;BETA-1;USD;PO-9;2;Nut;3;10.00;30.00;;60.00\n"
    );
    let d = decode_with(raw.as_bytes(), BETA);
    let numbers: Vec<&str> = d.documents.iter().map(|x| x.document.number()).collect();
    assert_eq!(numbers, ["QE-B5"], "{:?}", d.rejects);
    assert_eq!(
        places(&d),
        [
            ("row 4".to_string(), Some("qe-b4".to_string())),
            ("row 2".to_string(), Some("QE-B4".to_string())),
        ]
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
]
"#;

/// Under `grouping = "key"` the key compares the same way: `p1` joins `P1`'s order, and
/// comes back after `P2`'s rows refuses it whole.
#[test]
fn column_map_keys_differing_only_in_case_group_and_refuse_alike() {
    let raw = b"Order,Date,Qty\nP1,2026-01-01,1\np1,,2\nP2,2026-01-02,3\n";
    let d = decode_with(raw, KEYED);
    assert!(d.rejects.is_empty(), "{:?}", d.rejects);
    let docs = docs(&d);
    let numbers: Vec<&str> = docs.iter().map(Document::number).collect();
    assert_eq!(numbers, ["P1", "P2"]);
    let Document::PurchaseOrder(p1) = &docs[0] else {
        panic!("not an order: {:?}", docs[0])
    };
    assert_eq!(p1.lines.len(), 2);

    let raw = b"Order,Date,Qty\nP1,2026-01-01,1\nP2,2026-01-02,3\np1,,2\n";
    let d = decode_with(raw, KEYED);
    let numbers: Vec<&str> = d.documents.iter().map(|x| x.document.number()).collect();
    assert_eq!(numbers, ["P2"], "{:?}", d.rejects);
    assert_eq!(d.rejects.len(), 2, "{:?}", d.rejects);
}
