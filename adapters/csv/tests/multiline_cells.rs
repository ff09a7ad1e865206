//! A quote opened in one row and closed in a later one: every row between becomes one cell of
//! the first, so their invoices would be merged into a description or lost without a word.
//! Such a cell is refused at the row and column of its opening quote, saying what to do; a
//! description, note or address written over a few lines, which partners do, still goes
//! through. Coupa's import layout and a partner's column map alike.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{decode, decode_with, samples};
use gateway_core::Decoded;
use gateway_model::Document;

fn numbers(d: &Decoded) -> Vec<&str> {
    d.documents.iter().map(|d| d.document.number()).collect()
}

fn invoice(d: &Decoded, i: usize) -> &gateway_model::Invoice {
    match &d.documents[i].document {
        Document::Invoice(inv) => inv,
        other => panic!("expected an invoice, got {other:?}"),
    }
}

/// The one reject of `d`, checked to be at `location`, to refuse the invoice `number`, to
/// name the stray quote and to say what to do.
fn the_reject<'d>(d: &'d Decoded, location: &str, number: &str) -> &'d str {
    assert_eq!(d.rejects.len(), 1, "{:#?}", d.rejects);
    let r = &d.rejects[0];
    assert_eq!(r.location, location, "{}", r.message);
    assert_eq!(r.document.as_deref(), Some(number), "{}", r.message);
    assert!(
        r.message.contains("a quoted cell opens here"),
        "{}",
        r.message
    );
    assert!(
        r.message.contains("Remove the stray `\"`") && r.message.contains("send the file again"),
        "{}",
        r.message
    );
    &r.message
}

const COUPA_HEAD: &str = "Invoice,Invoice Number,Supplier Name,Invoice Date,Currency,Supplier Note\n\
Invoice Line,Invoice Number,Line Number,Description,Price,Quantity,Unit of Measure\n";

#[test]
fn coupa_a_stray_quote_swallowing_an_invoice_is_refused_at_its_row_and_column() {
    // Row 4's description opens a quote; the next `"` (an inch mark after "Nuts 1/2", in
    // Q-2's second line, followed by the delimiter, so the record reader takes it for a
    // closing quote: `stray_quotes.rs` has those followed by text) closes it: Q-2 and its
    // lines would be Q-1's description, Q-2's last cells Q-1's line.
    let raw = format!(
        "{COUPA_HEAD}\
Invoice,Q-1,Quote Supplies,2026-05-01,EUR,\n\
Invoice Line,Q-1,1,\"Cable ties,3.20,5,PK\n\
Invoice,Q-2,Quote Supplies,2026-05-02,EUR,\n\
Invoice Line,Q-2,1,Bolts,1.00,10,EA\n\
Invoice Line,Q-2,2,Nuts 1/2\",0.50,10,EA\n\
Invoice,Q-3,Quote Supplies,2026-05-03,EUR,\n\
Invoice Line,Q-3,1,Washers,0.10,100,EA\n"
    );
    let d = decode(raw.as_bytes());
    let message = the_reject(&d, "row 4, column \"Description\" (D)", "Q-1");
    assert!(
        message.contains("its line 2 (\"Invoice,Q-2,Quote Supplies,"),
        "{message}"
    );
    assert!(message.contains("5 delimiters"), "{message}");
    // Q-1 is refused, Q-2 was never a document; Q-3, after the closing quote, goes through.
    assert_eq!(numbers(&d), ["Q-3"]);
    assert_eq!(invoice(&d, 0).lines.len(), 1);
}

#[test]
fn coupa_a_stray_quote_joining_two_lines_of_one_invoice_is_refused() {
    // The quote closes early in the next line (an inch mark before the delimiter): only its
    // record type, number, line number and description are in the cell, and line 2's price
    // and quantity would become line 1's.
    let raw = format!(
        "{COUPA_HEAD}\
Invoice,Q-4,Quote Supplies,2026-05-01,EUR,\n\
Invoice Line,Q-4,1,\"Cable ties,3.20,5,PK\n\
Invoice Line,Q-4,2,Bolts 1/2\",1.00,10,EA\n\
Invoice,Q-5,Quote Supplies,2026-05-02,EUR,\n\
Invoice Line,Q-5,1,Washers,0.10,100,EA\n"
    );
    let d = decode(raw.as_bytes());
    let message = the_reject(&d, "row 4, column \"Description\" (D)", "Q-4");
    assert!(
        message.contains("\"Invoice Line,Q-4,2,Bolts 1/2\""),
        "{message}"
    );
    assert_eq!(numbers(&d), ["Q-5"]);
}

#[test]
fn coupa_a_value_over_two_lines_outside_free_text_is_refused() {
    let raw = format!(
        "{COUPA_HEAD}\
Invoice,Q-6,\"Quote\nSupplies\",2026-05-01,EUR,\n\
Invoice Line,Q-6,1,Washers,0.10,100,EA\n\
Invoice,Q-7,Quote Supplies,2026-05-02,EUR,\n\
Invoice Line,Q-7,1,Washers,0.10,100,EA\n"
    );
    let d = decode(raw.as_bytes());
    let message = the_reject(&d, "row 3, column \"Supplier Name\" (C)", "Q-6");
    assert!(message.contains("not free text"), "{message}");
    // Q-6's line, its Invoice row refused, is refused with it: only Q-7 goes through.
    assert_eq!(numbers(&d), ["Q-7"]);
}

#[test]
fn coupa_descriptions_notes_and_addresses_over_a_few_lines_go_through() {
    let raw = "Invoice,Invoice Number,Supplier Name,Invoice Date,Currency,Supplier Note,Ship To Address Street1\n\
Invoice Line,Invoice Number,Line Number,Description,Price,Quantity,Unit of Measure\n\
Invoice,Q-8,Quote Supplies,2026-05-01,EUR,\"Thanks,\r\nsee you, Alice\",\"77 Dock Street\nDoor 4\"\n\
Invoice Line,Q-8,1,\"Cable ties, black\nUV resistant, 200 mm\npack of \"\"100\"\"\",3.20,5,PK\n";
    let d = decode(raw.as_bytes());
    assert!(d.rejects.is_empty(), "{:#?}", d.rejects);
    let inv = invoice(&d, 0);
    assert_eq!(inv.comments.as_deref(), Some("Thanks,\r\nsee you, Alice"));
    assert_eq!(
        inv.lines[0].description.as_deref(),
        Some("Cable ties, black\nUV resistant, 200 mm\npack of \"100\"")
    );
    let street = &inv
        .ship_to
        .as_ref()
        .unwrap()
        .address
        .as_ref()
        .unwrap()
        .lines;
    assert_eq!(street[0].as_str(), "77 Dock Street\nDoor 4");
}

#[test]
fn coupa_a_description_of_more_than_twenty_line_breaks_is_refused() {
    let with_lines = |breaks: usize| {
        let description = vec!["part"; breaks + 1].join("\n");
        format!(
            "{COUPA_HEAD}\
Invoice,Q-9,Quote Supplies,2026-05-01,EUR,\n\
Invoice Line,Q-9,1,\"{description}\",3.20,5,PK\n"
        )
    };
    let d = decode(with_lines(20).as_bytes());
    assert!(d.rejects.is_empty(), "{:#?}", d.rejects);
    assert_eq!(numbers(&d), ["Q-9"]);
    let d = decode(with_lines(21).as_bytes());
    let message = the_reject(&d, "row 4, column \"Description\" (D)", "Q-9");
    assert!(message.contains("21 line breaks"), "{message}");
    assert!(d.documents.is_empty());
}

fn partner_sheet() -> String {
    std::fs::read_to_string(samples().join("invoice/partner_sheet.partner.toml")).unwrap()
}

const SHEET_HEAD: &str = "Rechnungsnr;Datum;Lieferant;Lieferantennr;Kunde;Währung;Bestellnr;Pos;Artikel;Bezeichnung;Menge;Einheit;Preis;Summe\n";
const SHEET_ROW: &str = "15.03.2026;Schrauben Müller GmbH;SUP-200;Globex GmbH;EUR;PO-5001";

#[test]
fn partner_map_a_stray_quote_in_a_description_swallowing_rows_is_refused() {
    // R-1's description opens a quote that R-2's (`Scheiben 1/2"`) closes: R-1's second row
    // and R-2's first would be R-1's description, and R-2's last cells R-1's line.
    let raw = format!(
        "{SHEET_HEAD}\
R-1;{SHEET_ROW};1;A-100;\"Schrauben M6;100;ST;0,12;20,00\n\
R-1;{SHEET_ROW};2;A-200;Muttern M6;100;ST;0,08;20,00\n\
R-2;{SHEET_ROW};1;A-300;Scheiben 1/2\";50;ST;0,10;5,00\n\
R-3;{SHEET_ROW};1;A-300;Scheiben M6;50;ST;0,10;5,00\n"
    );
    let d = decode_with(raw.as_bytes(), &partner_sheet());
    let message = the_reject(&d, "row 2, column \"Bezeichnung\" (J)", "R-1");
    assert!(message.contains("13 delimiters"), "{message}");
    assert_eq!(numbers(&d), ["R-3"]);
}

#[test]
fn partner_map_a_quote_over_lines_in_a_column_that_is_not_free_text_is_refused() {
    // The quote opened in `Artikel` closes in the next row's `Artikel`: fewer delimiters in
    // the cell than a row has, but an article number is no text of several lines.
    let raw = format!(
        "{SHEET_HEAD}\
R-4;{SHEET_ROW};1;\"A-100;Schrauben M6;100;ST;0,12;20,00\n\
R-4;{SHEET_ROW};2;A-200\";Muttern M6;100;ST;0,08;20,00\n\
R-5;{SHEET_ROW};1;A-300;Scheiben M6;50;ST;0,10;5,00\n"
    );
    let d = decode_with(raw.as_bytes(), &partner_sheet());
    let message = the_reject(&d, "row 2, column \"Artikel\" (I)", "R-4");
    assert!(message.contains("not free text"), "{message}");
    assert_eq!(numbers(&d), ["R-5"]);
}

#[test]
fn partner_map_a_description_over_lines_and_a_wrapped_column_name_go_through() {
    // Spreadsheets wrap long column names: `Bezeich-` / `nung` is still `Bezeichnung`.
    let raw = format!(
        "{}\
R-6;{SHEET_ROW};1;A-100;\"Schrauben M6\nverzinkt; DIN 933\";100;ST;0,12;12,00\n",
        SHEET_HEAD.replace("Bezeichnung", "\"Bezeich-\nnung\"")
    );
    let d = decode_with(raw.as_bytes(), &partner_sheet());
    assert!(d.rejects.is_empty(), "{:#?}", d.rejects);
    assert_eq!(
        invoice(&d, 0).lines[0].description.as_deref(),
        Some("Schrauben M6\nverzinkt; DIN 933")
    );
}
