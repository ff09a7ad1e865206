//! Invoices billing several POs: each CSV line row names the PO it bills, which the model
//! holds as the invoice's `po_number` and, on a line billing another, the line's own
//! `lines[].po_number`. Read in, written out (Coupa import and partner column maps). A blank
//! line PO cell beside lines naming one would bill no PO, which no format can carry (a line
//! without a PO bills the invoice's): refused at the cell.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use adapter_csv::CsvCodec;
use common::{decode, decode_with, docs};
use gateway_core::{Decoded, Encode, PartnerProfile};
use gateway_model::{Document, Invoice, InvoiceLine};

fn invoice(d: &Document) -> &Invoice {
    match d {
        Document::Invoice(i) => i,
        Document::PurchaseOrder(_) => panic!("not an invoice"),
    }
}

fn one_invoice(raw: &[u8], profile: Option<&str>) -> Invoice {
    let d = match profile {
        Some(p) => decode_with(raw, p),
        None => decode(raw),
    };
    assert!(d.rejects.is_empty(), "{:?}", d.rejects);
    let docs = docs(&d);
    assert_eq!(docs.len(), 1, "{docs:?}");
    invoice(&docs[0]).clone()
}

fn pos(inv: &Invoice) -> Vec<Option<&str>> {
    inv.lines.iter().map(|l| l.po_number.as_deref()).collect()
}

fn encode(docs: &[Document], profile: &PartnerProfile) -> Vec<u8> {
    CsvCodec.encode(docs, profile).unwrap()
}

/// Writes `inv` (with `profile`), reads it back and asserts the same invoice; returns the
/// bytes written.
fn round_trip(inv: &Invoice, profile: Option<&str>) -> String {
    let p = match profile {
        Some(t) => PartnerProfile::from_toml(t, "test.toml").unwrap(),
        None => PartnerProfile::anonymous(),
    };
    let bytes = encode(&[Document::Invoice(inv.clone())], &p);
    let text = String::from_utf8(bytes.clone()).unwrap();
    let back = one_invoice(&bytes, profile);
    assert_eq!(&back, inv, "{text}");
    text
}

const MULTI_PO: &[u8] = b"\
Invoice,Invoice Number*,Supplier Name,Invoice Date*,Currency,Invoice Control Total
Invoice Line,Invoice Number*,Supplier Name,Line Number,Description*,Price*,Quantity,Unit of Measure*,PO Number,PO Line Number
Invoice,INV-7,Acme Supplies,2026-03-15,USD,150.00
Invoice Line,INV-7,Acme Supplies,1,Widgets,10.00,5,EA,PO-00001,1
Invoice Line,INV-7,Acme Supplies,2,Gadgets,20.00,4,EA,PO-00002,3
Invoice Line,INV-7,Acme Supplies,3,More widgets,10.00,2,EA,PO-00001,2
";

#[test]
fn a_coupa_import_billing_several_pos_gives_each_line_its_po() {
    let inv = one_invoice(MULTI_PO, None);
    assert_eq!(inv.po_number.as_deref(), Some("PO-00001"));
    assert_eq!(pos(&inv), [None, Some("PO-00002"), None]);
    // Not kept a second time as an unknown column.
    assert!(inv.lines.iter().all(|l| l.extensions.is_empty()), "{inv:?}");
    let report = Document::Invoice(inv.clone()).validate();
    assert!(!report.has_errors(), "{:?}", report.problems);
}

#[test]
fn a_coupa_import_invoice_records_po_is_the_invoices_and_lines_naming_another_keep_theirs() {
    let raw = b"\
Invoice,Invoice Number,PO Number
Invoice,INV-1,PO-1
Invoice Line,Invoice Number,Line Number,Price,Quantity,PO Number,PO Line Number
Invoice Line,INV-1,1,50.00,-1,PO-2,7
Invoice Line,INV-1,2,0,0,PO-2,8
";
    let inv = one_invoice(raw, None);
    assert_eq!(inv.po_number.as_deref(), Some("PO-1"));
    assert_eq!(pos(&inv), [Some("PO-2"), Some("PO-2")]);
    let text = round_trip(&inv, None);
    assert!(text.contains("Invoice,INV-1,PO-1"), "{text}");
}

#[test]
fn a_canonical_invoice_with_a_line_on_another_po_round_trips_through_the_coupa_import() {
    let mut inv = one_invoice(MULTI_PO, None);
    let text = round_trip(&inv, None);
    let rows: Vec<&str> = text.lines().filter(|l| l.contains("Gadgets")).collect();
    assert!(rows.len() == 1 && rows[0].contains("PO-00002"), "{text}");

    // The first line on another PO: the Invoice record carries the invoice's.
    inv.lines[0].po_number = Some("PO-00009".into());
    let text = round_trip(&inv, None);
    assert!(
        text.contains("PO-00009") && text.contains("PO-00001"),
        "{text}"
    );
}

/// The locations of `d`'s rejects, none of its documents taken.
fn refused(d: &Decoded) -> Vec<&str> {
    assert!(d.documents.is_empty(), "{:?}", docs(d));
    d.rejects.iter().map(|r| r.location.as_str()).collect()
}

/// QA: a blank PO cell on one line of a multi-PO invoice was kept blank for CSV alone, while
/// the same invoice converted to cXML, X12 or Coupa billed that line to the invoice's PO.
#[test]
fn a_blank_po_cell_beside_lines_naming_one_is_refused_at_its_cell() {
    // Lines 1 and 3 name no PO (freight, say), before and after the line that does.
    let raw = b"\
Invoice,Invoice Number*,Supplier Name,Invoice Date*,Currency
Invoice Line,Invoice Number*,Supplier Name,Line Number,Description*,Price*,Quantity,Unit of Measure*,PO Number
Invoice,INV-8,Acme Supplies,2026-03-15,USD
Invoice Line,INV-8,Acme Supplies,1,Freight,10.00,1,EA,
Invoice Line,INV-8,Acme Supplies,2,Widgets,10.00,5,EA,PO-00001
Invoice Line,INV-8,Acme Supplies,3,Consulting (no PO),60.00,1,HR,
";
    let d = decode(raw);
    assert_eq!(
        refused(&d),
        [
            r#"row 4, column "PO Number""#,
            r#"row 6, column "PO Number""#
        ]
    );
    assert!(
        d.rejects
            .iter()
            .all(|r| r.document.as_deref() == Some("INV-8")),
        "{:?}",
        d.rejects
    );
    let m = &d.rejects[0].message;
    for want in [
        "blank, while other lines of this invoice name a PO",
        "bills the invoice's (\"PO-00001\")",
        "cXML, X12 and Coupa",
        "on an invoice of their own",
    ] {
        assert!(m.contains(want), "{want}: {m}");
    }

    // A partner's `lines.po_number` column says the same of a blank cell.
    let d = decode_with(
        b"Invoice,Line,Qty,Price,Line PO\nI-1,1,1,2.00,PO-1\nI-1,2,1,3.00,\n",
        LINE_MAP,
    );
    assert_eq!(refused(&d), [r#"row 3, column "Line PO""#]);
}

/// A line an older reading marked blank for CSV alone (`extensions.csv."PO Number": ""`)
/// bills the invoice's PO in the canonical document, as cXML, X12 and Coupa read it: it is
/// written with that PO, not blank.
#[test]
fn a_line_marked_blank_by_an_older_reading_is_written_with_the_invoices_po() {
    let mut inv = one_invoice(MULTI_PO, None);
    inv.lines[2]
        .extensions
        .insert("csv".into(), serde_json::json!({ "PO Number": "" }));
    for profile in [None, Some(LINE_MAP)] {
        let p = match profile {
            Some(t) => PartnerProfile::from_toml(t, "test.toml").unwrap(),
            None => PartnerProfile::anonymous(),
        };
        let bytes = encode(&[Document::Invoice(inv.clone())], &p);
        let text = String::from_utf8(bytes.clone()).unwrap();
        let third = text
            .lines()
            .filter(|l| l.contains("INV-7"))
            .filter(|l| profile.is_some() || l.starts_with("Invoice Line"))
            .nth(2)
            .unwrap();
        assert!(third.contains("PO-00001"), "{text}");
        let back = one_invoice(&bytes, profile);
        assert_eq!(pos(&back), [None, Some("PO-00002"), None]);
    }
}

#[test]
fn lines_all_blank_under_an_invoice_po_bill_it_and_keep_nothing() {
    let raw = b"\
Invoice,Invoice Number,PO Number
Invoice,INV-1,PO-1
Invoice Line,Invoice Number,Line Number,Price,Quantity,PO Number
Invoice Line,INV-1,1,2.00,1,
Invoice Line,INV-1,2,3.00,1,
";
    let inv = one_invoice(raw, None);
    assert_eq!(inv.po_number.as_deref(), Some("PO-1"));
    assert_eq!(pos(&inv), [None, None]);
    assert!(inv.lines.iter().all(|l| l.extensions.is_empty()), "{inv:?}");
    round_trip(&inv, None);
}

/// A supplier sheet with the PO on every row, mapped to `po_number`.
const HEAD_MAP: &str = r#"
id = "sheet"
[csv]
kind = "invoice"
currency = "USD"
columns = [
  { column = "Invoice", field = "invoice_number" },
  { column = "PO", field = "po_number" },
  { column = "Line", field = "lines.line_number" },
  { column = "Qty", field = "lines.quantity" },
  { column = "Price", field = "lines.unit_price" },
]
"#;

#[test]
fn a_partner_po_number_column_gives_rows_naming_another_po_their_own() {
    let raw = b"Invoice,PO,Line,Qty,Price\nI-1,PO-1,1,1,2.00\nI-1,PO-2,2,1,3.00\nI-1,,3,1,4.00\n";
    let inv = one_invoice(raw, Some(HEAD_MAP));
    assert_eq!(inv.po_number.as_deref(), Some("PO-1"));
    // A blank cell in a document column repeats nothing: the line bills the invoice's PO.
    assert_eq!(pos(&inv), [None, Some("PO-2"), None]);
    let text = round_trip(&inv, Some(HEAD_MAP));
    assert!(text.contains("I-1,PO-2,2"), "{text}");
}

#[test]
fn a_partner_po_number_column_cannot_hold_the_first_lines_own_po() {
    let mut inv = one_invoice(
        b"Invoice,PO,Line,Qty,Price\nI-1,PO-1,1,1,2.00\nI-1,PO-1,2,1,3.00\n",
        Some(HEAD_MAP),
    );
    inv.lines[0].po_number = Some("PO-2".into());
    let p = PartnerProfile::from_toml(HEAD_MAP, "test.toml").unwrap();
    let err = CsvCodec
        .encode(&[Document::Invoice(inv)], &p)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("$.lines[0].po_number") && err.contains("lines.po_number"),
        "{err}"
    );
}

/// A map with the line's PO in a column of its own.
const LINE_MAP: &str = r#"
id = "sheet"
[csv]
kind = "invoice"
currency = "USD"
columns = [
  { column = "Invoice", field = "invoice_number" },
  { column = "Line", field = "lines.line_number" },
  { column = "Qty", field = "lines.quantity" },
  { column = "Price", field = "lines.unit_price" },
  { column = "Line PO", field = "lines.po_number" },
]
"#;

#[test]
fn a_partner_lines_po_number_column_reads_and_writes_each_lines_po() {
    let raw = b"Invoice,Line,Qty,Price,Line PO\nI-1,1,1,2.00,PO-1\nI-1,2,1,3.00,PO-1\n\
I-1,3,1,4.00,PO-2\nI-1,4,1,5.00,PO-1\n";
    let inv = one_invoice(raw, Some(LINE_MAP));
    assert_eq!(inv.po_number.as_deref(), Some("PO-1"));
    assert_eq!(pos(&inv), [None, None, Some("PO-2"), None]);
    assert!(inv.lines.iter().all(|l| l.extensions.is_empty()), "{inv:?}");
    let text = round_trip(&inv, Some(LINE_MAP));
    assert!(text.contains("I-1,3,1,4.00,PO-2\r\n"), "{text}");
    round_trip(&inv, None);

    // Every cell blank: no line names a PO, and the invoice has none.
    let inv = one_invoice(
        b"Invoice,Line,Qty,Price,Line PO\nI-1,1,1,2.00,\nI-1,2,1,3.00,\n",
        Some(LINE_MAP),
    );
    assert_eq!(inv.po_number, None);
    assert_eq!(pos(&inv), [None, None]);
}

#[test]
fn a_canonical_invoice_billing_several_pos_round_trips_through_a_partner_map() {
    let full = one_invoice(MULTI_PO, None);
    // What the maps have columns for.
    let inv = Invoice {
        invoice_number: full.invoice_number.clone(),
        po_number: full.po_number.clone(),
        currency: full.currency.clone(),
        lines: full
            .lines
            .iter()
            .map(|l| InvoiceLine {
                line_number: l.line_number,
                quantity: l.quantity,
                unit_price: l.unit_price,
                amount: l.amount,
                po_number: l.po_number.clone(),
                ..InvoiceLine::default()
            })
            .collect(),
        ..Invoice::default()
    };
    assert_eq!(pos(&inv), [None, Some("PO-00002"), None]);
    round_trip(&inv, Some(HEAD_MAP));
    round_trip(&inv, Some(LINE_MAP));
}
