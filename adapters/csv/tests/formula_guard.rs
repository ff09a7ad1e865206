//! `csv.formula_guard`: text a spreadsheet would run as a formula is written with a leading
//! `'` for partners who open their files in one, numbers (negative amounts included) are not,
//! and reading the partner's file drops the mark again, so a round trip keeps the text. Off,
//! everything is written as it is.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use adapter_csv::CsvCodec;
use common::{canonical, docs, samples};
use gateway_core::{Decode, Encode, PartnerProfile};
use gateway_model::{Decimal, Document};

const FORMULA: &str = "=HYPERLINK(\"http://evil.example\",\"Click\")";

/// The Coupa import sample with a formula for a line's description and a negative amount.
fn poisoned() -> Vec<Document> {
    let mut docs = canonical(&samples().join("invoice/coupa_import.canonical.json"));
    let Some(Document::Invoice(inv)) = docs.first_mut() else {
        panic!("expected an invoice");
    };
    inv.lines[0].description = Some(FORMULA.into());
    inv.lines[0].unit_price = Some(Decimal::new(-1250, 2));
    inv.lines[0].amount = inv.lines[0]
        .quantity
        .zip(inv.lines[0].unit_price)
        .map(|(q, p)| q * p);
    docs
}

fn profile(toml: &str) -> PartnerProfile {
    PartnerProfile::from_toml(toml, "test").unwrap()
}

fn description(d: &Document) -> Option<String> {
    match d {
        Document::Invoice(i) => i.lines[0].description.as_deref().map(str::to_string),
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_guard_marks_formulas_not_numbers_and_reading_drops_the_mark() {
    let source = poisoned();
    let on = profile("id = \"p\"\n[csv]\nformula_guard = true\n");
    let text = String::from_utf8(CsvCodec.encode(&source, &on).unwrap()).unwrap();
    assert!(
        text.contains("\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"Click\"\")\""),
        "{text}"
    );
    assert!(
        text.contains(",-12.50,"),
        "a negative price is no formula: {text}"
    );
    let back = CsvCodec.decode(text.as_bytes(), &on);
    assert!(back.rejects.is_empty(), "{:?}", back.rejects);
    assert_eq!(docs(&back), source, "the round trip keeps the text");
    // Read without the guard, the mark is the partner's text.
    let plain = CsvCodec.decode(text.as_bytes(), &PartnerProfile::anonymous());
    assert_eq!(
        description(&docs(&plain)[0]).unwrap(),
        format!("'{FORMULA}")
    );
}

#[test]
fn without_the_guard_cells_are_written_as_they_are() {
    let source = poisoned();
    let text = String::from_utf8(
        CsvCodec
            .encode(&source, &PartnerProfile::anonymous())
            .unwrap(),
    )
    .unwrap();
    assert!(!text.contains("'="), "{text}");
    assert!(text.contains("\"=HYPERLINK("), "{text}");
}

#[test]
fn a_partner_column_map_is_guarded_too() {
    let sheet = std::fs::read_to_string(samples().join("invoice/partner_sheet.partner.toml"))
        .unwrap()
        .replace("[csv]\n", "[csv]\nformula_guard = true\n");
    let on = profile(&sheet);
    let raw = std::fs::read(samples().join("invoice/partner_sheet.csv")).unwrap();
    let mut source = docs(&CsvCodec.decode(&raw, &on));
    let Some(Document::Invoice(inv)) = source.first_mut() else {
        panic!("expected an invoice");
    };
    inv.lines[0].description = Some("@SUM(A1:A9)".into());
    let text = String::from_utf8(CsvCodec.encode(&source, &on).unwrap()).unwrap();
    assert!(text.contains(";'@SUM(A1:A9);"), "{text}");
    assert_eq!(docs(&CsvCodec.decode(text.as_bytes(), &on)), source);
}
