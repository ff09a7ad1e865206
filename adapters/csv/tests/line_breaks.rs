//! The CSV writer never writes a file the gateway's CSV reader refuses: a document with a line
//! break in any kind of field is written and read back, or refused at write with the field's
//! path. The reader takes a cell over several lines only in a free-text column (descriptions,
//! notes, address lines), of at most 20 line breaks, none of its lines looking like a row
//! (`multiline.rs`). So, for every layout (Coupa's invoice import and PO export, a partner's
//! column map with and without a header row) and every kind of field:
//! - free text is read back as written, where the reader takes it so, else on one line;
//! - other descriptive text (a name, city, contact, terms) is read back on one line, as the
//!   X12 writer writes it, and `left_out` names it;
//! - any other value (a number, id, code, unit, kept column) is refused at its path.
//!
//! Each field is tried with every value of [`values`]: each kind of line end, the most line
//! breaks the reader takes and one more, lines that look like rows, a trailing line break.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use adapter_csv::CsvCodec;
use gateway_core::{Decode, Encode, EncodeError, PartnerProfile};
use gateway_model::{Document, to_json_line};
use serde_json::{Value, json};

/// How the reader takes a field's cell, and so what the writer must do with a line break in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A free-text column: a few lines are read back as they are.
    Free,
    /// Descriptive text in a column the reader reads on one line: written on one line.
    Prose,
    /// A value: a line break in it refuses the write, at this path.
    Value(&'static str),
}

/// A value to write into a field, and whether the reader takes it over several lines in a
/// free-text column (`false`: too many lines, or a line that looks like a row).
struct Sample {
    name: &'static str,
    text: String,
    fits: bool,
}

/// The values every field is tried with, for a file separated by `delimiter` whose record
/// types begin their rows with `record` (`Invoice Line,INV-1,2`; empty for a column map).
fn values(delimiter: char, record: &str) -> Vec<Sample> {
    let lines = |n: usize| {
        (0..n)
            .map(|i| format!("Line {i} of the text"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let d = delimiter;
    let mut out = vec![
        Sample {
            name: "LF",
            text: "Part A\nPart B".into(),
            fits: true,
        },
        Sample {
            name: "CRLF",
            text: "Part A\r\nPart B".into(),
            fits: true,
        },
        Sample {
            name: "CR",
            text: "Part A\rPart B".into(),
            fits: true,
        },
        Sample {
            name: "20 line breaks",
            text: lines(21),
            fits: true,
        },
        Sample {
            name: "21 line breaks",
            text: lines(22),
            fits: false,
        },
        Sample {
            name: "a trailing line break",
            text: "Part A\n".into(),
            fits: true,
        },
        Sample {
            name: "a delimiter on each line",
            text: format!("Bolts{d} M6\nNuts{d} M6"),
            fits: true,
        },
        Sample {
            name: "a line with a row's delimiters",
            text: format!("Bolts\n{}", format!("x{d}").repeat(200)),
            fits: false,
        },
    ];
    if !record.is_empty() {
        out.push(Sample {
            name: "a line beginning with a record type",
            text: format!("Bolts\n{record}{d}INV-1{d}2{d}Nuts"),
            fits: false,
        });
    }
    out
}

/// `text` on one line, each line break (CRLF, CR or LF) a space.
fn flat(text: &str) -> String {
    text.replace("\r\n", " ").replace(['\r', '\n'], " ")
}

/// `value` as the reader gives a cell back: trimmed.
fn as_read(value: &str) -> String {
    value.trim().to_string()
}

fn doc(v: &Value) -> Document {
    gateway_model::from_json(v.to_string().as_bytes()).unwrap()
}

fn json_of(d: &Document) -> Value {
    serde_json::from_str(&to_json_line(d)).unwrap()
}

/// `$.supplier.ids[1].value` as the JSON pointer `/supplier/ids/1/value`.
fn pointer(path: &str) -> String {
    path.trim_start_matches('$')
        .replace(['.', '['], "/")
        .replace(']', "")
}

fn coupa_invoice() -> Value {
    json!({
        "kind": "invoice",
        "invoice_number": "INV-1",
        "invoice_date": "2026-05-01",
        "currency": "EUR",
        "po_number": "PO-9",
        "comments": "Thanks",
        "supplier": {
            "name": "Acme",
            "ids": [{"domain": "coupa", "value": "17"}, {"domain": "coupa-number", "value": "SUP-1"}],
            "address": {"lines": ["1 Main St", "Unit 2"], "city": "Berlin", "region": "BE",
                        "postal_code": "10115", "country": "DE"}
        },
        "buyer": {"name": "Globex"},
        "ship_to": {"name": "Dock", "address": {"lines": ["7 Quay", "Gate 3"], "city": "Hamburg"}},
        "remit_to": {"name": "Acme Lockbox", "address": {"lines": ["PO Box 1"], "city": "Munich"}},
        "payment_terms": {"description": "Net 30"},
        "taxes": [{"amount": "19.00", "rate": "19", "category": "vat"}],
        "lines": [{
            "line_number": 1, "description": "Bolts", "supplier_part_id": "B-6",
            "buyer_part_id": "100", "uom": "EA", "quantity": "10", "unit_price": "10.00",
            "amount": "100.00", "po_line_number": "1",
            "taxes": [{"amount": "0.00", "rate": "0", "category": "exempt"}],
            "extensions": {"csv": {"Project": "P-1"}}
        }],
        "charges": [{"kind": "shipping", "amount": "5.00", "description": "Freight"}],
        "extensions": {
            "csv": {"Cost Centre": "CC-1"},
            "csv_records": [{"type": "Account Allocation", "Account Code": "4000"}]
        }
    })
}

/// Every field of [`coupa_invoice`] the import writes, with how the reader takes its cell.
const COUPA_INVOICE: &[(&str, Kind)] = &[
    ("$.comments", Kind::Free),
    ("$.supplier.address.lines[0]", Kind::Free),
    ("$.supplier.address.lines[1]", Kind::Free),
    ("$.ship_to.address.lines[1]", Kind::Free),
    ("$.remit_to.address.lines[0]", Kind::Free),
    ("$.lines[0].description", Kind::Free),
    ("$.charges[0].description", Kind::Free),
    ("$.supplier.name", Kind::Prose),
    ("$.buyer.name", Kind::Prose),
    ("$.ship_to.name", Kind::Prose),
    ("$.supplier.address.city", Kind::Prose),
    ("$.remit_to.address.city", Kind::Prose),
    ("$.payment_terms.description", Kind::Prose),
    ("$.invoice_number", Kind::Value("$.invoice_number")),
    ("$.currency", Kind::Value("$.currency")),
    ("$.po_number", Kind::Value("$.po_number")),
    ("$.supplier.ids[0].value", Kind::Value("$.supplier.ids[0]")),
    ("$.supplier.ids[1].value", Kind::Value("$.supplier.ids[1]")),
    (
        "$.supplier.address.region",
        Kind::Value("$.supplier.address.region"),
    ),
    (
        "$.supplier.address.postal_code",
        Kind::Value("$.supplier.address.postal_code"),
    ),
    (
        "$.supplier.address.country",
        Kind::Value("$.supplier.address.country"),
    ),
    ("$.taxes[0].category", Kind::Value("$.taxes[0].category")),
    ("$.lines[0].uom", Kind::Value("$.lines[0].uom")),
    (
        "$.lines[0].supplier_part_id",
        Kind::Value("$.lines[0].supplier_part_id"),
    ),
    (
        "$.lines[0].buyer_part_id",
        Kind::Value("$.lines[0].buyer_part_id"),
    ),
    (
        "$.lines[0].po_line_number",
        Kind::Value("$.lines[0].po_line_number"),
    ),
    (
        "$.lines[0].taxes[0].category",
        Kind::Value("$.lines[0].taxes[0].category"),
    ),
    (
        "$.extensions.csv.Cost Centre",
        Kind::Value("$.extensions.csv.Cost Centre"),
    ),
    (
        "$.lines[0].extensions.csv.Project",
        Kind::Value("$.lines[0].extensions.csv.Project"),
    ),
    (
        "$.extensions.csv_records[0].Account Code",
        Kind::Value("$.extensions.csv_records[0].Account Code"),
    ),
];

fn coupa_order() -> Value {
    json!({
        "kind": "purchase_order",
        "po_number": "PO-9",
        "order_date": "2026-05-01",
        "version": 1,
        "currency": "EUR",
        "supplier": {
            "name": "Acme",
            "ids": [{"domain": "coupa", "value": "17"}],
            "address": {"lines": ["1 Main St", "Unit 2"], "city": "Berlin", "postal_code": "10115"}
        },
        "ship_to": {
            "name": "Dock", "contact": "Dana",
            "address": {"lines": ["7 Quay"], "city": "Hamburg", "country": "DE"}
        },
        "payment_terms": {"description": "Net 30"},
        "shipping_terms": {"code": "FOB"},
        "lines": [{
            "line_number": 1, "description": "Bolts", "supplier_part_id": "B-6",
            "buyer_part_id": "100", "uom": "EA", "quantity": "10", "unit_price": "10.00",
            "amount": "100.00"
        }]
    })
}

/// Every text field of [`coupa_order`] the PO export writes.
const COUPA_ORDER: &[(&str, Kind)] = &[
    ("$.supplier.address.lines[0]", Kind::Free),
    ("$.supplier.address.lines[1]", Kind::Free),
    ("$.ship_to.address.lines[0]", Kind::Free),
    ("$.lines[0].description", Kind::Free),
    ("$.supplier.name", Kind::Prose),
    ("$.ship_to.name", Kind::Prose),
    ("$.ship_to.contact", Kind::Prose),
    ("$.supplier.address.city", Kind::Prose),
    ("$.payment_terms.description", Kind::Prose),
    ("$.po_number", Kind::Value("$.po_number")),
    ("$.currency", Kind::Value("$.currency")),
    ("$.supplier.ids[0].value", Kind::Value("$.supplier.ids[0]")),
    (
        "$.supplier.address.postal_code",
        Kind::Value("$.supplier.address.postal_code"),
    ),
    (
        "$.ship_to.address.country",
        Kind::Value("$.ship_to.address.country"),
    ),
    (
        "$.shipping_terms.code",
        Kind::Value("$.shipping_terms.code"),
    ),
    ("$.lines[0].uom", Kind::Value("$.lines[0].uom")),
    (
        "$.lines[0].supplier_part_id",
        Kind::Value("$.lines[0].supplier_part_id"),
    ),
    (
        "$.lines[0].buyer_part_id",
        Kind::Value("$.lines[0].buyer_part_id"),
    ),
];

/// A partner's own invoice sheet: `;`-separated, a header row, one row per line.
const MAP_INVOICE_PROFILE: &str = r#"
id = "sheet"
[csv]
delimiter = ";"
kind = "invoice"
columns = [
  { column = "Number", field = "invoice_number" },
  { column = "Date", field = "invoice_date" },
  { column = "Currency", field = "currency" },
  { column = "PO", field = "po_number" },
  { column = "Remarks", field = "comments" },
  { column = "Terms", field = "payment_terms.description" },
  { column = "Supplier", field = "supplier.name" },
  { column = "Supplier ID", field = "supplier.ids.coupa" },
  { column = "Street", field = "supplier.address.lines" },
  { column = "Street 2", field = "supplier.address.lines" },
  { column = "City", field = "supplier.address.city" },
  { column = "Postcode", field = "supplier.address.postal_code" },
  { column = "Contact", field = "supplier.contact" },
  { column = "Ref", field = "extensions.ref" },
  { column = "Line", field = "lines.line_number" },
  { column = "Item", field = "lines.supplier_part_id" },
  { column = "Text", field = "lines.description" },
  { column = "Unit", field = "lines.uom" },
  { column = "Qty", field = "lines.quantity" },
  { column = "Price", field = "lines.unit_price" },
  { column = "Amount", field = "lines.amount" },
  { column = "Project", field = "lines.extensions.project" },
]
"#;

fn map_invoice() -> Value {
    json!({
        "kind": "invoice",
        "invoice_number": "INV-1",
        "invoice_date": "2026-05-01",
        "currency": "EUR",
        "po_number": "PO-9",
        "comments": "Thanks",
        "payment_terms": {"description": "Net 30"},
        "supplier": {
            "name": "Acme", "contact": "Dana",
            "ids": [{"domain": "coupa", "value": "17"}],
            "address": {"lines": ["1 Main St", "Unit 2"], "city": "Berlin", "postal_code": "10115"}
        },
        "lines": [{
            "line_number": 1, "description": "Bolts", "supplier_part_id": "B-6", "uom": "EA",
            "quantity": "10", "unit_price": "10.00", "amount": "100.00",
            "extensions": {"project": "P-1"}
        }],
        "extensions": {"ref": "R-1"}
    })
}

const MAP_INVOICE: &[(&str, Kind)] = &[
    ("$.comments", Kind::Free),
    ("$.payment_terms.description", Kind::Free),
    ("$.supplier.address.lines[0]", Kind::Free),
    ("$.supplier.address.lines[1]", Kind::Free),
    ("$.lines[0].description", Kind::Free),
    ("$.supplier.name", Kind::Prose),
    ("$.supplier.address.city", Kind::Prose),
    ("$.supplier.contact", Kind::Prose),
    ("$.invoice_number", Kind::Value("$.invoice_number")),
    ("$.currency", Kind::Value("$.currency")),
    ("$.po_number", Kind::Value("$.po_number")),
    ("$.supplier.ids[0].value", Kind::Value("$.supplier.ids[0]")),
    (
        "$.supplier.address.postal_code",
        Kind::Value("$.supplier.address.postal_code"),
    ),
    ("$.extensions.ref", Kind::Value("$.extensions.ref")),
    ("$.lines[0].uom", Kind::Value("$.lines[0].uom")),
    (
        "$.lines[0].supplier_part_id",
        Kind::Value("$.lines[0].supplier_part_id"),
    ),
    (
        "$.lines[0].extensions.project",
        Kind::Value("$.lines[0].extensions.project"),
    ),
];

/// A partner's order file without a header row: columns by number.
const MAP_ORDER_PROFILE: &str = r#"
id = "numbered"
[csv]
kind = "purchase_order"
has_header = false
currency = "EUR"
columns = [
  { column = "1", field = "po_number" },
  { column = "2", field = "ship_to.name" },
  { column = "3", field = "ship_to.address.lines" },
  { column = "4", field = "lines.line_number" },
  { column = "5", field = "lines.description" },
  { column = "6", field = "lines.uom" },
  { column = "7", field = "lines.quantity" },
]
"#;

fn map_order() -> Value {
    json!({
        "kind": "purchase_order",
        "po_number": "PO-9",
        "currency": "EUR",
        "ship_to": {"name": "Dock", "address": {"lines": ["7 Quay"]}},
        "lines": [{"line_number": 1, "description": "Bolts", "uom": "EA", "quantity": "10"}]
    })
}

const MAP_ORDER: &[(&str, Kind)] = &[
    ("$.ship_to.address.lines[0]", Kind::Free),
    ("$.lines[0].description", Kind::Free),
    ("$.ship_to.name", Kind::Prose),
    ("$.po_number", Kind::Value("$.po_number")),
    ("$.lines[0].uom", Kind::Value("$.lines[0].uom")),
];

/// One layout under test: its partner, its document, the fields tried, and the file's
/// delimiter and record type (for lines that look like rows).
struct Layout {
    name: &'static str,
    partner: PartnerProfile,
    base: Value,
    fields: &'static [(&'static str, Kind)],
    delimiter: char,
    record: &'static str,
}

fn layouts() -> Vec<Layout> {
    let profile = |toml: &str| PartnerProfile::from_toml(toml, "test.toml").unwrap();
    vec![
        Layout {
            name: "Coupa invoice import",
            partner: PartnerProfile::anonymous(),
            base: coupa_invoice(),
            fields: COUPA_INVOICE,
            delimiter: ',',
            record: "Invoice Line",
        },
        Layout {
            name: "Coupa PO export",
            partner: PartnerProfile::anonymous(),
            base: coupa_order(),
            fields: COUPA_ORDER,
            delimiter: ',',
            record: "Line",
        },
        Layout {
            name: "column map with a header row",
            partner: profile(MAP_INVOICE_PROFILE),
            base: map_invoice(),
            fields: MAP_INVOICE,
            delimiter: ';',
            record: "",
        },
        Layout {
            name: "column map without a header row",
            partner: profile(MAP_ORDER_PROFILE),
            base: map_order(),
            fields: MAP_ORDER,
            delimiter: ',',
            record: "",
        },
    ]
}

/// The document `base` with the field at `path` set to `text`.
fn with(base: &Value, path: &str, text: &str) -> Value {
    let mut v = base.clone();
    let slot = v
        .pointer_mut(&pointer(path))
        .unwrap_or_else(|| panic!("{path} is not in the test document"));
    *slot = Value::String(text.into());
    v
}

/// The document `d` written and read back under `partner`, checked to be read whole: one
/// document, no reject.
fn written_and_read(d: &Document, partner: &PartnerProfile, what: &str) -> Value {
    let bytes = CsvCodec
        .encode(std::slice::from_ref(d), partner)
        .unwrap_or_else(|e| panic!("{what}: refused without a line break: {e}"));
    let back = CsvCodec.decode(&bytes, partner);
    assert!(
        back.rejects.is_empty() && back.documents.len() == 1,
        "{what}: the reader refuses the written file: {:#?}\n{}",
        back.rejects,
        String::from_utf8_lossy(&bytes)
    );
    json_of(&back.documents[0].document)
}

/// Every field of every layout with every value: the file written is read whole, the field
/// read back as the value (free text the reader takes so) or on one line (named by
/// `left_out`), the rest of the document as it reads without the line break; or the write is
/// refused at the field's path, saying what to do.
#[test]
fn a_line_break_in_any_field_is_read_back_or_refused_at_its_path_never_a_file_the_reader_refuses() {
    let mut tried = 0;
    for layout in layouts() {
        for (path, kind) in layout.fields {
            for sample in values(layout.delimiter, layout.record) {
                let what = format!("{}, {path} with {}", layout.name, sample.name);
                let d = doc(&with(&layout.base, path, &sample.text));
                let written = CsvCodec.encode(std::slice::from_ref(&d), &layout.partner);
                tried += 1;
                let expected = match kind {
                    Kind::Value(at) => {
                        let Err(EncodeError::Invalid { path: got, message }) = &written else {
                            let file = written.as_deref().map(String::from_utf8_lossy);
                            panic!("{what}: expected a refusal at {at}, got {file:?}");
                        };
                        assert_eq!(got, at, "{what}: {message}");
                        assert!(
                            message.contains("holds a line break")
                                && message.contains("Write the value on one line"),
                            "{what}: {message}"
                        );
                        continue;
                    }
                    Kind::Free if sample.fits => as_read(&sample.text),
                    Kind::Free | Kind::Prose => as_read(&flat(&sample.text)),
                };
                let bytes = written.unwrap_or_else(|e| panic!("{what}: refused: {e}"));
                let back = CsvCodec.decode(&bytes, &layout.partner);
                assert!(
                    back.rejects.is_empty() && back.documents.len() == 1,
                    "{what}: the reader refuses the written file: {:#?}\n{}",
                    back.rejects,
                    String::from_utf8_lossy(&bytes)
                );
                let got = json_of(&back.documents[0].document);
                assert_eq!(
                    got.pointer(&pointer(path)),
                    Some(&Value::String(expected.clone())),
                    "{what}\n{}",
                    String::from_utf8_lossy(&bytes)
                );
                // Nothing else changed: the document reads back as it does with the value
                // written without its line breaks.
                let plain = doc(&with(&layout.base, path, &expected));
                assert_eq!(
                    got,
                    written_and_read(&plain, &layout.partner, &what),
                    "{what}"
                );
                // A value put on one line is named, saying so.
                let named = CsvCodec.left_out(&d, &layout.partner);
                let one_lined = format!("{path}: written on one line");
                if expected != as_read(&sample.text) && expected == as_read(&flat(&sample.text)) {
                    assert!(
                        named.iter().any(|n| n.starts_with(&one_lined)),
                        "{what}: not named: {named:#?}"
                    );
                } else {
                    assert!(
                        !named.iter().any(|n| n.starts_with(&one_lined)),
                        "{what}: named though written as it is: {named:#?}"
                    );
                }
            }
        }
    }
    // 4 layouts, 70 fields, 8 or 9 values each.
    assert_eq!(tried, 608);
}

/// The cases the task names, told in full: a line break in an invoice number, a unit, a PO
/// number, a party id refuses the Coupa import at the field's path; a description of many
/// lines is written on one line rather than as a file the reader refuses.
#[test]
fn coupa_import_refuses_a_line_break_in_an_id_and_puts_a_long_description_on_one_line() {
    let partner = PartnerProfile::anonymous();
    for (path, at, column) in [
        ("$.invoice_number", "$.invoice_number", "Invoice Number"),
        ("$.lines[0].uom", "$.lines[0].uom", "Unit of Measure"),
        ("$.po_number", "$.po_number", "PO Number"),
        (
            "$.supplier.ids[1].value",
            "$.supplier.ids[1]",
            "Supplier Number",
        ),
    ] {
        let d = doc(&with(&coupa_invoice(), path, "A-1\nA-2"));
        match CsvCodec.encode(std::slice::from_ref(&d), &partner) {
            Err(EncodeError::Invalid { path, message }) => {
                assert_eq!(path, at, "{message}");
                assert!(
                    message.contains(&format!("column {column:?}"))
                        && message.contains("\"A-1\\nA-2\""),
                    "{message}"
                );
            }
            Err(other) => panic!("{at}: expected a refusal of the value, got {other}"),
            Ok(file) => panic!(
                "{at}: expected a refusal, got a file:\n{}",
                String::from_utf8_lossy(&file)
            ),
        }
    }
    // 30 lines: more than a description is taken to have, so read as rows a stray quote made.
    let long: Vec<String> = (1..=30).map(|i| format!("step {i}")).collect();
    let d = doc(&with(
        &coupa_invoice(),
        "$.lines[0].description",
        &long.join("\n"),
    ));
    let bytes = CsvCodec.encode(std::slice::from_ref(&d), &partner).unwrap();
    let back = CsvCodec.decode(&bytes, &partner);
    assert!(back.rejects.is_empty(), "{:#?}", back.rejects);
    let got = json_of(&back.documents[0].document);
    assert_eq!(got["lines"][0]["description"], long.join(" "));
    let named = CsvCodec.left_out(&d, &partner);
    assert!(
        named
            .iter()
            .any(|n| n.starts_with("$.lines[0].description: written on one line")),
        "{named:#?}"
    );
}

/// The reader's side: in a partner's file without a header row, the first record places the
/// map's columns, and its description over two lines is text like any other record's (it was
/// refused as "not free text", judged before the columns were placed, so the writer's file
/// lost its first document).
#[test]
fn a_headerless_files_first_record_may_hold_a_description_over_two_lines() {
    let partner = PartnerProfile::from_toml(MAP_ORDER_PROFILE, "test.toml").unwrap();
    let raw = "PO-9,Dock,7 Quay,1,\"Bolts\r\nM6\",EA,10\r\nPO-9,Dock,7 Quay,2,Nuts,EA,5\r\n";
    let back = CsvCodec.decode(raw.as_bytes(), &partner);
    assert!(back.rejects.is_empty(), "{:#?}", back.rejects);
    let got = json_of(&back.documents[0].document);
    assert_eq!(got["lines"][0]["description"], "Bolts\r\nM6");
    assert_eq!(got["lines"][1]["description"], "Nuts");
    // A value column is still refused there.
    let raw = "PO-9,Dock,7 Quay,1,Bolts,\"EA\nPK\",10\r\n";
    let back = CsvCodec.decode(raw.as_bytes(), &partner);
    assert!(back.documents.is_empty());
    assert_eq!(back.rejects[0].location, "row 1, column 6 (F)");
}
