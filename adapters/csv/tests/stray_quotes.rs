//! A stray `"` at the start of a cell opens a quoted cell that the opening quote of a later
//! quoted cell closes: the text between, part of its row and part of the next, becomes one
//! cell, and the row is read with the other row's later cells (QA: an invoice delivered with
//! another line's price). The quote that closed such a cell is followed by text, not by a
//! delimiter or a line end: the record is refused at the row and column where its quote
//! opened, and the lines after its own are read again as rows of their own. Legal quoting
//! (escaped quotes, spaces after a closing quote) is read as before. Coupa's layouts and a
//! partner's column map alike: the check is in the record reader both use.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{decode, decode_with, samples};
use gateway_core::Decoded;
use gateway_model::{Document, Invoice};
use rust_decimal::Decimal;

fn numbers(d: &Decoded) -> Vec<&str> {
    d.documents.iter().map(|d| d.document.number()).collect()
}

fn invoice<'d>(d: &'d Decoded, number: &str) -> &'d Invoice {
    let found = d.documents.iter().find(|x| x.document.number() == number);
    match found.map(|x| &x.document) {
        Some(Document::Invoice(inv)) => inv,
        other => panic!("expected invoice {number}, got {other:?}"),
    }
}

/// `(line number, unit price)` of each line of `inv`.
fn prices(inv: &Invoice) -> Vec<(u32, Option<Decimal>)> {
    inv.lines
        .iter()
        .map(|l| (l.line_number, l.unit_price))
        .collect()
}

fn dec(s: &str) -> Option<Decimal> {
    Some(s.parse().unwrap())
}

/// The reject of `d` at `location`, checked to refuse `number`, to say the quote is not
/// closed where expected and what to do.
fn stray_reject<'d>(d: &'d Decoded, location: &str, number: &str) -> &'d str {
    let r = d
        .rejects
        .iter()
        .find(|r| r.location == location)
        .unwrap_or_else(|| panic!("no reject at {location}: {:#?}", d.rejects));
    assert_eq!(r.document.as_deref(), Some(number), "{}", r.message);
    for words in [
        "a quoted cell opens here and is not closed where expected",
        "Remove the stray `\"` or double it",
        "send the file again",
    ] {
        assert!(r.message.contains(words), "{words:?} in {}", r.message);
    }
    &r.message
}

fn partner_sheet() -> String {
    std::fs::read_to_string(samples().join("invoice/partner_sheet.partner.toml")).unwrap()
}

const SHEET_HEAD: &str = "Rechnungsnr;Datum;Lieferant;Lieferantennr;Kunde;Währung;Bestellnr;Pos;Artikel;Bezeichnung;Menge;Einheit;Preis;Summe\n";
const SHEET_ROW: &str = "15.03.2026;Schrauben Müller GmbH;SUP-200;Globex GmbH;EUR;PO-5001";

/// QA's file (`/tmp/qa14c/csv/d1.csv`) as it was sent: row 2's description opens a quote
/// that row 3's quoted description closes.
const QA_D1: &str = "Rechnungsnr;Datum;Lieferant;Lieferantennr;Kunde;Währung;Bestellnr;Pos;Artikel;Bezeichnung;Menge;Einheit;Preis;Summe
R-2026-001;15.03.2026;Schrauben Müller GmbH;SUP-200;Globex GmbH;EUR;PO-5001;1;A-100;\"Schrauben M6;100;ST;0,12;40,00
R-2026-001;15.03.2026;Schrauben Müller GmbH;SUP-200;Globex GmbH;EUR;PO-5001;2;A-200;\"Muttern M6\";100;ST;0,08;40,00
R-2026-002;16.03.2026;Schrauben Müller GmbH;SUP-200;Globex GmbH;EUR;PO-5002;1;B-300;\"Dübel 8 mm; grau\";50;ST;0,25;12,50
";

#[test]
fn qa_d1_a_stray_quote_closed_by_the_next_rows_quoted_cell_refuses_the_invoice() {
    let d = decode_with(QA_D1.as_bytes(), &partner_sheet());
    let message = stray_reject(&d, "row 2, column 10", "R-2026-001");
    assert!(message.contains("\"Muttern M6"), "{message}");
    assert!(message.contains("from row 3"), "{message}");
    // R-2026-001 is refused whole (its second line too); R-2026-002 is read as written.
    assert_eq!(numbers(&d), ["R-2026-002"]);
    let ok = invoice(&d, "R-2026-002");
    assert_eq!(prices(ok), [(1, dec("0.25"))]);
    assert_eq!(ok.lines[0].description.as_deref(), Some("Dübel 8 mm; grau"));
    assert!(
        d.rejects
            .iter()
            .all(|r| r.document.as_deref() == Some("R-2026-001")),
        "{:#?}",
        d.rejects
    );
}

#[test]
fn partner_map_a_row_of_another_invoice_cut_by_a_stray_quote_is_read_again_whole() {
    // R-1's stray quote swallows the start of R-2's first row, up to its quoted
    // description: R-2 is still delivered with both its lines and their own prices.
    let raw = format!(
        "{SHEET_HEAD}\
R-1;{SHEET_ROW};1;A-100;\"Schrauben M6;100;ST;0,12;12,00\n\
R-2;{SHEET_ROW};1;A-200;\"Muttern M6\";100;ST;0,08;9,00\n\
R-2;{SHEET_ROW};2;A-300;Scheiben M6;10;ST;0,10;9,00\n"
    );
    let d = decode_with(raw.as_bytes(), &partner_sheet());
    stray_reject(&d, "row 2, column 10", "R-1");
    assert_eq!(numbers(&d), ["R-2"]);
    assert_eq!(
        prices(invoice(&d, "R-2")),
        [(1, dec("0.08")), (2, dec("0.10"))]
    );
}

#[test]
fn partner_map_a_stray_quote_closed_within_its_own_row_is_refused() {
    // No line break swallowed, but the row's cells shifted: `0,12` would be read as the
    // quantity's neighbour, the price column holding `12,00`.
    let raw = format!(
        "{SHEET_HEAD}\
R-7;{SHEET_ROW};1;A-100;\"Schrauben M6;100;ST;\"0,12\";12,00\n\
R-8;{SHEET_ROW};1;A-100;Schrauben M6;100;ST;0,12;12,00\n"
    );
    let d = decode_with(raw.as_bytes(), &partner_sheet());
    let message = stray_reject(&d, "row 2, column 10", "R-7");
    assert!(message.contains("\"0,12"), "{message}");
    assert_eq!(numbers(&d), ["R-8"]);
}

const COUPA_HEAD: &str = "Invoice,Invoice Number,Supplier Name,Invoice Date,Currency,Supplier Note\n\
Invoice Line,Invoice Number,Line Number,Description,Price,Quantity,Unit of Measure\n";

#[test]
fn coupa_a_stray_quote_closed_by_a_later_quoted_cell_is_refused_and_the_rows_read_again() {
    // Q-1's description opens a quote that Q-2's quoted description closes: the cell holds
    // Q-2's Invoice row and the start of its line, too few delimiters per line for a row.
    let raw = format!(
        "{COUPA_HEAD}\
Invoice,Q-1,Quote Supplies,2026-05-01,EUR,\n\
Invoice Line,Q-1,1,\"Cable ties,3.20,5,PK\n\
Invoice,Q-2,Quote Supplies,2026-05-02,EUR,\n\
Invoice Line,Q-2,1,\"Bolts, M6\",1.00,10,EA\n"
    );
    let d = decode(raw.as_bytes());
    let message = stray_reject(&d, "row 4, column 4", "Q-1");
    assert!(message.contains("followed by \"Bolts\""), "{message}");
    assert_eq!(numbers(&d), ["Q-2"]);
    let q2 = invoice(&d, "Q-2");
    assert_eq!(prices(q2), [(1, dec("1.00"))]);
    assert_eq!(q2.lines[0].description.as_deref(), Some("Bolts, M6"));
}

#[test]
fn coupa_a_quote_inside_a_quoted_value_not_written_twice_is_refused() {
    // QA's d3 shape: `"Pipe 12" long"` was read as `Pipe 12 long"`.
    let raw = format!(
        "{COUPA_HEAD}\
\"Invoice\",\"Q-11\",\"Quote Supplies\",\"2026-05-01\",\"EUR\",\"\"\n\
\"Invoice Line\",\"Q-11\",\"1\",\"Pipe 12\" long\",\"3.20\",\"5\",\"EA\"\n\
\"Invoice\",\"Q-12\",\"Quote Supplies\",\"2026-05-01\",\"EUR\",\"\"\n\
\"Invoice Line\",\"Q-12\",\"1\",\"Pipe 10\"\" long\",\"3.20\",\"5\",\"EA\"\n"
    );
    let d = decode(raw.as_bytes());
    let message = stray_reject(&d, "row 4, column 4", "Q-11");
    assert!(message.contains("followed by \"long\\\"\""), "{message}");
    assert!(message.contains("not written twice"), "{message}");
    assert_eq!(numbers(&d), ["Q-12"]);
    assert_eq!(
        invoice(&d, "Q-12").lines[0].description.as_deref(),
        Some("Pipe 10\" long")
    );
}

#[test]
fn legal_quoting_is_read_as_before() {
    // Escaped quotes, a quoted cell before the delimiter, at the line's end (LF and CRLF) and
    // at the end of the input, an empty quoted cell, spaces after a closing quote (trimmed,
    // as the reader always did), a quote inside an unquoted cell, a description over lines.
    let raw = format!(
        "{COUPA_HEAD}\
Invoice,\"Q-10\",\"Quote Supplies\" ,2026-05-01,EUR,\"\"\r\n\
Invoice Line,Q-10,1,\"Pipe \"\"12\"\" long\",\"3.20\"  ,5,\"PK\"\n\
Invoice Line,Q-10,2,12\" ruler,1.00,2,\"EA\"\n\
Invoice Line,Q-10,3,\"Cable ties\nblack\",\"0.50\",4,\"EA\""
    );
    let d = decode(raw.as_bytes());
    assert!(d.rejects.is_empty(), "{:#?}", d.rejects);
    let inv = invoice(&d, "Q-10");
    assert_eq!(
        inv.supplier.as_ref().and_then(|s| s.name.as_deref()),
        Some("Quote Supplies")
    );
    assert_eq!(
        prices(inv),
        [(1, dec("3.20")), (2, dec("1.00")), (3, dec("0.50"))]
    );
    let descriptions: Vec<_> = inv
        .lines
        .iter()
        .map(|l| l.description.as_deref().unwrap_or_default())
        .collect();
    assert_eq!(
        descriptions,
        ["Pipe \"12\" long", "12\" ruler", "Cable ties\nblack"]
    );
}
