//! Coupa invoice import files: record types, header rows, lines and charges.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{canonical, decode, docs, samples};
use gateway_model::{ChargeKind, Document};

#[test]
fn coupa_import_sample_decodes_to_its_canonical_json() {
    let dir = samples().join("invoice");
    let raw = std::fs::read(dir.join("coupa_import.csv")).unwrap();
    let d = decode(&raw);
    assert!(d.rejects.is_empty(), "{:?}", d.rejects);
    assert_eq!(
        docs(&d),
        canonical(&dir.join("coupa_import.canonical.json"))
    );
}

#[test]
fn headers_match_by_name_whatever_the_spelling_and_order() {
    let raw = b"invoice , SUPPLIER_NAME,invoice-number,INVOICE DATE,currency\n\
invoice line,quantity,Invoice Number,price,description,unit of measure\n\
Invoice,Acme,A-1,2026-01-02,EUR\n\
Invoice Line,2,A-1,3.5,Bolts,EA\n";
    let d = decode(raw);
    assert!(d.rejects.is_empty(), "{:?}", d.rejects);
    let Document::Invoice(inv) = &d.documents[0].document else {
        panic!("not an invoice")
    };
    assert_eq!(inv.invoice_number.as_deref(), Some("A-1"));
    assert_eq!(inv.supplier.as_ref().unwrap().name.as_deref(), Some("Acme"));
    assert_eq!(inv.currency.as_deref(), Some("EUR"));
    assert_eq!(inv.lines[0].amount.unwrap().to_string(), "7.0");
    assert_eq!(
        inv.lines[0].line_number, 1,
        "ordinal when Line Number is absent"
    );
}

#[test]
fn one_shared_type_header_serves_every_record_type() {
    let raw = b"Type,Invoice Number,Invoice Date,Line Number,Description,Price,Quantity,Total\n\
Invoice,B-7,2026-02-01,,,,,\n\
Invoice Line,B-7,,1,Widget,2.00,4,\n\
Invoice Charge,B-7,,,,,,\n";
    // The charge row has no Type column value of its own under this header: it is rejected,
    // and with it its invoice.
    let d = decode(raw);
    assert!(d.documents.is_empty());
    assert!(
        d.rejects
            .iter()
            .all(|r| r.document.as_deref() == Some("B-7"))
    );
    let raw = b"Type,Invoice Number,Invoice Date,Line Number,Description,Price,Quantity\n\
Invoice,B-7,2026-02-01,,,,\n\
Invoice Line,B-7,,1,Widget,2.00,4\n";
    let d = decode(raw);
    assert!(d.rejects.is_empty(), "{:?}", d.rejects);
    let Document::Invoice(inv) = &d.documents[0].document else {
        panic!()
    };
    assert_eq!(inv.lines.len(), 1);
    assert_eq!(inv.lines[0].amount.unwrap().to_string(), "8.00");
}

#[test]
fn negative_misc_charge_is_a_discount() {
    let raw = std::fs::read(samples().join("invoice/coupa_import.csv")).unwrap();
    let d = decode(&raw);
    let Document::Invoice(inv) = &d.documents[0].document else {
        panic!()
    };
    assert_eq!(inv.charges[1].kind, ChargeKind::Discount);
    assert_eq!(inv.charges[1].amount.unwrap().to_string(), "9.00");
}

#[test]
fn lines_for_another_invoice_are_rejected_not_merged() {
    let raw = b"Invoice,Invoice Number,Invoice Date\n\
Invoice Line,Invoice Number,Price,Quantity\n\
Invoice,C-1,2026-01-01\n\
Invoice Line,C-2,1,1\n\
Invoice Line,C-1,1,1\n";
    let d = decode(raw);
    assert_eq!(d.documents.len(), 1);
    let Document::Invoice(inv) = &d.documents[0].document else {
        panic!()
    };
    assert_eq!(inv.lines.len(), 1);
    assert_eq!(d.rejects.len(), 1);
    assert_eq!(d.rejects[0].location, "row 4");
    assert_eq!(d.rejects[0].document.as_deref(), Some("C-2"));
}

#[test]
fn a_file_that_is_not_a_coupa_layout_gives_one_reject() {
    let d = decode(b"date,desc,currency,amount\n03/08/2014,x,USD,4.11\n");
    assert!(d.documents.is_empty());
    assert_eq!(d.rejects.len(), 1);
    assert_eq!(d.rejects[0].location, "row 1");
    assert!(d.rejects[0].message.contains("column map"));
}

#[test]
fn empty_and_header_only_files_say_so() {
    for raw in [
        &b""[..],
        b"\xEF\xBB\xBF",
        b"Invoice,Invoice Number,Invoice Date\r\n",
    ] {
        let d = decode(raw);
        assert!(d.documents.is_empty());
        assert_eq!(d.rejects.len(), 1, "{raw:?}");
        assert_eq!(d.rejects[0].location, "file");
    }
}

#[test]
fn allocation_and_tag_records_are_kept_and_written_back() {
    use adapter_csv::CsvCodec;
    use gateway_core::{Decode, Encode, PartnerProfile};
    let raw = b"Invoice,Invoice Number,Invoice Date\n\
Invoice Line,Invoice Number,Price,Quantity\n\
Account Allocation,Invoice Number,Line Number,Account Code,Percentage\n\
Tag,Invoice Number,Tag Name\n\
Invoice,T-1,2026-01-01\n\
Invoice Line,T-1,5.00,1\n\
Account Allocation,T-1,1,4000-100,60\n\
Account Allocation,T-1,1,4000-200,40\n\
Tag,T-1,urgent\n";
    let d = decode(raw);
    assert!(d.rejects.is_empty(), "{:?}", d.rejects);
    let doc = &d.documents[0].document;
    let records = &doc.extensions()["csv_records"];
    assert_eq!(
        records[1],
        serde_json::json!({"type": "Account Allocation", "Invoice Number": "T-1",
            "Line Number": "1", "Account Code": "4000-200", "Percentage": "40"})
    );
    assert_eq!(records[2]["Tag Name"], "urgent");
    let p = PartnerProfile::anonymous();
    let bytes = CsvCodec.encode(std::slice::from_ref(doc), &p).unwrap();
    let back = CsvCodec.decode(&bytes, &p);
    assert!(back.rejects.is_empty(), "{:?}", back.rejects);
    assert_eq!(&back.documents[0].document, doc);
}
