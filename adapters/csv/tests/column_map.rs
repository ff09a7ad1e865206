//! Partner layouts described by a column map in the profile: no code per supplier.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use adapter_csv::CsvCodec;
use common::{canonical, decode_with, docs, samples};
use gateway_core::{Decode, Encode, EncodeError, PartnerProfile};
use gateway_model::{ChargeKind, Document, InvoicePurpose};
use rust_decimal::Decimal;

#[test]
fn partner_sheet_sample_decodes_with_its_profile() {
    let dir = samples().join("invoice");
    let profile = PartnerProfile::load(&dir.join("partner_sheet.partner.toml")).unwrap();
    let raw = std::fs::read(dir.join("partner_sheet.csv")).unwrap();
    let d = CsvCodec.decode(&raw, &profile);
    assert!(d.rejects.is_empty(), "{:?}", d.rejects);
    assert_eq!(
        docs(&d),
        canonical(&dir.join("partner_sheet.canonical.json"))
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
  { column = "Cost centre", field = "lines.extensions.cost_centre" },
  { column = "Ship city", field = "ship_to.address.city" },
]
"#;

#[test]
fn key_grouping_reads_header_fields_from_the_first_row_of_a_run() {
    let raw = b"Order,Date,Qty,Cost centre,Ship city\n\
P1,2026-01-01,1,CC-1,Lyon\n\
P1,,2,,\n\
P2,2026-01-02,3,,Nantes\n";
    let d = decode_with(raw, KEYED);
    assert!(d.rejects.is_empty(), "{:?}", d.rejects);
    let docs = docs(&d);
    assert_eq!(docs.len(), 2);
    let Document::PurchaseOrder(p1) = &docs[0] else {
        panic!()
    };
    assert_eq!(p1.lines.len(), 2);
    assert_eq!(p1.lines[1].line_number, 2);
    assert_eq!(
        p1.lines[0].extensions["cost_centre"],
        serde_json::json!("CC-1")
    );
    assert_eq!(
        p1.ship_to
            .as_ref()
            .unwrap()
            .address
            .as_ref()
            .unwrap()
            .city
            .as_deref(),
        Some("Lyon")
    );
}

#[test]
fn a_bad_cell_rejects_its_group_with_row_and_column() {
    let raw = b"Order,Date,Qty,Cost centre,Ship city\n\
P1,2026-01-01,1,,\n\
P1,,two,,\n\
P2,2026-01-02,3,,\n";
    let d = decode_with(raw, KEYED);
    assert_eq!(d.documents.len(), 1);
    assert_eq!(d.documents[0].document.number(), "P2");
    assert_eq!(d.rejects.len(), 1);
    assert_eq!(d.rejects[0].location, "row 3, column \"Qty\"");
    assert_eq!(d.rejects[0].document.as_deref(), Some("P1"));
}

#[test]
fn a_map_naming_a_missing_column_is_one_reject() {
    let d = decode_with(b"Order,Date\nP1,2026-01-01\n", KEYED);
    assert!(d.documents.is_empty());
    assert_eq!(d.rejects.len(), 1);
    assert!(
        d.rejects[0].message.contains("\"Qty\""),
        "{}",
        d.rejects[0].message
    );
}

#[test]
fn an_unknown_field_path_is_refused_by_name() {
    let profile = "id = \"x\"\n[csv]\ncolumns = [{ column = \"A\", field = \"lines.colour\" }]\n";
    let d = decode_with(b"A\n1\n", profile);
    assert!(d.documents.is_empty());
    assert_eq!(d.rejects.len(), 1);
    assert_eq!(d.rejects[0].location, "partner profile \"x\"");
    assert!(d.rejects[0].message.contains("lines.colour"));
}

#[test]
fn row_grouping_makes_one_document_per_row() {
    let profile = r#"
id = "r"
[csv]
grouping = "row"
currency = "USD"
columns = [
  { column = "1", field = "invoice_number" },
  { column = "2", field = "lines.amount" },
]
has_header = false
"#;
    let d = decode_with(b"A,1.50\nA,2.50\n", profile);
    assert!(d.rejects.is_empty(), "{:?}", d.rejects);
    assert_eq!(d.documents.len(), 2);
}

#[test]
fn a_partner_header_naming_a_column_twice_is_one_reject() {
    let d = decode_with(
        b"Order,Date,Qty,Cost centre,qty\nP1,2026-01-01,1,CC-1,2\n",
        KEYED,
    );
    assert!(d.documents.is_empty());
    assert_eq!(d.rejects.len(), 1);
    assert!(
        d.rejects[0]
            .message
            .contains("\"Qty\" twice (columns 3 and 5)"),
        "{}",
        d.rejects[0].message
    );
}

/// `samples/csv/invoice/partner_sheet.partner.toml`, with `extra` columns added to its map.
fn sheet_with(extra: &[(&str, &str)]) -> PartnerProfile {
    let path = samples().join("invoice/partner_sheet.partner.toml");
    let mut toml = std::fs::read_to_string(path).unwrap();
    let added: String = extra
        .iter()
        .map(|(c, f)| format!("  {{ column = \"{c}\", field = \"{f}\" }},\n"))
        .collect();
    let at = toml.rfind(']').unwrap();
    toml.insert_str(at, &added);
    PartnerProfile::from_toml(&toml, "sheet.toml").unwrap()
}

fn rich_invoice() -> Document {
    let path = gateway_core::testkit::repo_root().join("samples/json/invoice/rich.json");
    gateway_model::from_json(&std::fs::read(path).unwrap()).unwrap()
}

fn refusal(doc: Document, profile: &PartnerProfile) -> (String, String) {
    match CsvCodec.encode(&[doc], profile) {
        Err(EncodeError::Invalid { path, message }) => (path, message),
        Err(e) => panic!("expected a refusal by path, got {e}"),
        Ok(bytes) => panic!("written:\n{}", String::from_utf8_lossy(&bytes)),
    }
}

/// QA: a partner's layout wrote `...;100,00;95,00`, the 5.00 discount gone, and lost the rich
/// sample's line taxes and charges, exit 0.
#[test]
fn a_partner_layout_refuses_money_its_map_has_no_column_for() {
    let sheet = sheet_with(&[]);
    let mut discounted = rich_invoice();
    if let Document::Invoice(i) = &mut discounted {
        i.lines.truncate(1);
        for l in &mut i.lines {
            l.taxes.clear();
        }
        i.charges.retain(|c| c.kind == ChargeKind::Discount);
        i.tax_total = None;
        i.subtotal = None;
        i.payment_terms = None;
        i.total = Some(Decimal::new(12000, 2));
    }
    let (path, message) = refusal(discounted, &sheet);
    assert_eq!(path, "$.charges[0]");
    for want in [
        "discount charge of 5.00",
        "`charges.discount`",
        "INV-2026-0042",
    ] {
        assert!(message.contains(want), "{want}: {message}");
    }

    let (path, message) = refusal(rich_invoice(), &sheet);
    assert_eq!(path, "$.charges[0]");
    for want in [
        "`charges.shipping`",
        "$.charges[1] (`charges.discount`)",
        "$.lines[0].taxes[0] (`lines.taxes.amount`)",
        "$.lines[1].taxes[0] (`lines.taxes.amount`)",
        "$.payment_terms.discount_percent",
    ] {
        assert!(message.contains(want), "{want}: {message}");
    }
}

/// With columns for them, the same money is written and read back.
#[test]
fn a_partner_layout_with_tax_and_charge_columns_keeps_the_money() {
    let sheet = sheet_with(&[
        ("MwSt", "lines.taxes.amount"),
        ("MwSt-Satz", "lines.taxes.rate"),
        ("Fracht", "charges.shipping"),
        ("Rabatt", "charges.discount"),
        ("Skonto", "payment_terms.discount_percent"),
    ]);
    let doc = rich_invoice();
    let bytes = CsvCodec.encode(std::slice::from_ref(&doc), &sheet).unwrap();
    let back = CsvCodec.decode(&bytes, &sheet);
    assert!(back.rejects.is_empty(), "{:?}", back.rejects);
    let (Document::Invoice(a), Document::Invoice(b)) = (&doc, &back.documents[0].document) else {
        panic!()
    };
    assert_eq!(a.total, b.total);
    let amounts = |i: &gateway_model::Invoice| {
        i.charges
            .iter()
            .map(|c| (c.kind, c.amount))
            .collect::<Vec<_>>()
    };
    assert_eq!(amounts(a), amounts(b));
    for (x, y) in a.lines.iter().zip(&b.lines) {
        assert_eq!(x.amount, y.amount);
        let tax = |t: &[gateway_model::Tax]| t.first().map(|t| (t.amount, t.rate));
        assert_eq!(tax(&x.taxes), tax(&y.taxes));
    }
    assert_eq!(
        b.payment_terms.as_ref().and_then(|t| t.discount_percent),
        Some(Decimal::new(2, 0))
    );
}

/// A tax total without any tax goes in the map's tax column, or is refused without one; a
/// line amount, total or memo the layout cannot give back is refused by path.
#[test]
fn a_partner_layout_refuses_totals_and_purposes_it_cannot_give_back() {
    let hdrtax = || {
        let mut inv = gateway_model::Invoice {
            invoice_number: Some("CM-0007".into()),
            currency: Some("EUR".into()),
            tax_total: Some(Decimal::new(578, 2)),
            total: Some(Decimal::new(7578, 2)),
            ..Default::default()
        };
        for (n, price) in [(1, 3000), (2, 4000)] {
            inv.lines.push(gateway_model::InvoiceLine {
                line_number: n,
                quantity: Some(Decimal::ONE),
                unit_price: Some(Decimal::new(price, 2)),
                amount: Some(Decimal::new(price, 2)),
                description: Some("x".into()),
                ..Default::default()
            });
        }
        inv
    };
    let (path, message) = refusal(Document::Invoice(hdrtax()), &sheet_with(&[]));
    assert_eq!(path, "$.tax_total");
    assert!(message.contains("5.78"), "{message}");

    let taxed = sheet_with(&[("MwSt", "taxes.amount")]);
    let bytes = CsvCodec
        .encode(&[Document::Invoice(hdrtax())], &taxed)
        .unwrap();
    let back = CsvCodec.decode(&bytes, &taxed);
    assert!(back.rejects.is_empty(), "{:?}", back.rejects);
    let Document::Invoice(b) = &back.documents[0].document else {
        panic!()
    };
    assert_eq!(
        b.taxes.iter().map(|t| t.amount).collect::<Vec<_>>(),
        [Some(Decimal::new(578, 2))]
    );

    // A tax total the taxes do not add up to.
    let mut off = hdrtax();
    off.lines[0].taxes.push(gateway_model::Tax {
        amount: Some(Decimal::new(500, 2)),
        ..Default::default()
    });
    let line_taxed = sheet_with(&[("MwSt", "lines.taxes.amount")]);
    let (path, _) = refusal(Document::Invoice(off), &line_taxed);
    assert_eq!(path, "$.tax_total");

    // A line amount quantity × price does not give back.
    let mut rounded = hdrtax();
    rounded.tax_total = None;
    rounded.total = None;
    rounded.lines[0].unit_price = Some(Decimal::new(29999, 3));
    let (path, message) = refusal(Document::Invoice(rounded.clone()), &sheet_with(&[]));
    assert_eq!(path, "$.lines[0].amount");
    assert!(message.contains("`lines.amount`"), "{message}");
    assert!(
        CsvCodec
            .encode(
                &[Document::Invoice(rounded)],
                &sheet_with(&[("Betrag", "lines.amount")])
            )
            .is_ok()
    );

    // A total the values written do not add up to, without a total column.
    let mut no_total_column =
        std::fs::read_to_string(samples().join("invoice/partner_sheet.partner.toml")).unwrap();
    no_total_column = no_total_column.replace("  { column = \"Summe\", field = \"total\" },\n", "");
    let no_total_column = PartnerProfile::from_toml(&no_total_column, "t.toml").unwrap();
    let mut odd = hdrtax();
    odd.tax_total = None;
    let (path, message) = refusal(Document::Invoice(odd.clone()), &no_total_column);
    assert_eq!(path, "$.total");
    assert!(message.contains("`total`"), "{message}");
    odd.total = Some(Decimal::new(7000, 2));
    assert!(
        CsvCodec
            .encode(&[Document::Invoice(odd)], &no_total_column)
            .is_ok()
    );

    // A credit memo would read back as an invoice; with a purpose column it is kept.
    let mut memo = hdrtax();
    memo.tax_total = None;
    memo.total = Some(Decimal::new(7000, 2));
    memo.purpose = Some(InvoicePurpose::CreditMemo);
    let (path, _) = refusal(Document::Invoice(memo.clone()), &sheet_with(&[]));
    assert_eq!(path, "$.purpose");
    let with_purpose = sheet_with(&[("Art", "purpose")]);
    let bytes = CsvCodec
        .encode(&[Document::Invoice(memo)], &with_purpose)
        .unwrap();
    let back = CsvCodec.decode(&bytes, &with_purpose);
    assert!(back.rejects.is_empty(), "{:?}", back.rejects);
    let Document::Invoice(b) = &back.documents[0].document else {
        panic!()
    };
    assert_eq!(b.purpose, Some(InvoicePurpose::CreditMemo));
}

/// `samples/csv/invoice/partner_sheet.partner.toml` without its `Währung` column, with
/// `extra` lines added to its `[csv]` section.
fn sheet_without_currency(extra: &str) -> PartnerProfile {
    let path = samples().join("invoice/partner_sheet.partner.toml");
    let toml = std::fs::read_to_string(path)
        .unwrap()
        .replace("  { column = \"Währung\", field = \"currency\" },\n", "")
        .replace("[csv]\n", &format!("[csv]\n{extra}"));
    assert!(!toml.contains("Währung"));
    PartnerProfile::from_toml(&toml, "sheet.toml").unwrap()
}

/// QA: a map without a currency column read the sheet's invoices without a currency (which
/// Coupa refuses after they were accepted).
#[test]
fn an_invoice_read_through_a_map_without_a_currency_column_is_refused_unless_the_partner_has_one() {
    let raw = std::fs::read(samples().join("invoice/partner_sheet.csv")).unwrap();
    let d = CsvCodec.decode(&raw, &sheet_without_currency(""));
    assert!(d.documents.is_empty(), "{:?}", docs(&d));
    let refused: Vec<(&str, Option<&str>)> = d
        .rejects
        .iter()
        .map(|r| (r.location.as_str(), r.document.as_deref()))
        .collect();
    assert_eq!(
        refused,
        [("row 2", Some("R-2026-001")), ("row 4", Some("R-2026-002"))]
    );
    for want in ["no column mapped to `currency`", "csv.currency", "Coupa"] {
        assert!(
            d.rejects[0].message.contains(want),
            "{want}: {}",
            d.rejects[0].message
        );
    }

    // The partner's currency named in its profile: every document is in it.
    let d = CsvCodec.decode(&raw, &sheet_without_currency("currency = \"EUR\"\n"));
    assert!(d.rejects.is_empty(), "{:?}", d.rejects);
    assert_eq!(
        docs(&d),
        canonical(&samples().join("invoice/partner_sheet.canonical.json"))
    );

    // A currency that is no ISO 4217 code is the profile's fault, said once. Loading such a
    // profile is refused now (`CsvProfile::problems`); the reader still says so for a profile
    // made another way.
    let mut euro = sheet_without_currency("");
    if let Some(csv) = euro.csv.as_mut() {
        csv.currency = Some("euro".into());
    }
    let d = CsvCodec.decode(&raw, &euro);
    assert!(d.documents.is_empty());
    assert_eq!(d.rejects.len(), 1, "{:?}", d.rejects);
    assert!(
        d.rejects[0].message.contains("csv.currency \"euro\""),
        "{}",
        d.rejects[0].message
    );
}

/// QA: written through a map without a currency column, the invoice's currency was gone.
#[test]
fn a_map_without_a_currency_column_writes_only_the_partners_currency() {
    let docs = canonical(&samples().join("invoice/partner_sheet.canonical.json"));
    let (path, message) = refusal(docs[0].clone(), &sheet_without_currency(""));
    assert_eq!(path, "$.currency");
    for want in ["\"EUR\" would be lost", "`currency`", "R-2026-001"] {
        assert!(message.contains(want), "{want}: {message}");
    }
    let (path, message) = refusal(
        docs[0].clone(),
        &sheet_without_currency("currency = \"CHF\"\n"),
    );
    assert_eq!(path, "$.currency");
    assert!(message.contains("csv.currency \"CHF\""), "{message}");

    // In the partner's own currency, written and read back the same.
    let eur = sheet_without_currency("currency = \"EUR\"\n");
    let bytes = CsvCodec.encode(&docs, &eur).unwrap();
    assert!(!String::from_utf8_lossy(&bytes).contains("EUR"));
    let back = CsvCodec.decode(&bytes, &eur);
    assert!(back.rejects.is_empty(), "{:?}", back.rejects);
    assert_eq!(common::docs(&back), docs);

    // An order's currency is money too.
    let dir = samples().join("purchase_order");
    let keyed = std::fs::read_to_string(dir.join("partner_keyed.partner.toml"))
        .unwrap()
        .replace("  { column = \"Currency\", field = \"currency\" },\n", "");
    let keyed = PartnerProfile::from_toml(&keyed, "keyed.toml").unwrap();
    let order = canonical(&dir.join("partner_keyed.canonical.json"));
    let (path, _) = refusal(order[0].clone(), &keyed);
    assert_eq!(path, "$.currency");
}

/// QA's `eurosup` sheet: one row per line, the invoice's fields repeated on each.
const EUROSUP: &str = r#"
id = "eurosup"
[csv]
delimiter = ";"
kind = "invoice"
date_format = "%d/%m/%Y"
decimal_separator = ","
grouping = "repeated"
columns = [
  { column = "Rechnungsnr", field = "invoice_number" },
  { column = "Datum", field = "invoice_date" },
  { column = "Lieferant", field = "supplier.name" },
  { column = "Pos", field = "lines.line_number" },
  { column = "Bezeichnung", field = "lines.description" },
  { column = "Menge", field = "lines.quantity" },
  { column = "Preis", field = "lines.unit_price" },
  { column = "Summe", field = "total" },
  { column = "Währung", field = "currency" },
]
"#;

const EUROSUP_HEAD: &str =
    "Rechnungsnr;Datum;Lieferant;Pos;Bezeichnung;Menge;Preis;Summe;Währung\n";

/// QA: rows of one invoice disagreeing on its date and currency were merged silently, and the
/// invoice went to Coupa in EUR with a USD line. Each contradicting cell is refused, naming
/// both rows and values; a blank cell, or the same value written otherwise, is no conflict.
#[test]
fn rows_of_one_invoice_that_disagree_on_a_document_field_refuse_it() {
    let raw = format!(
        "{EUROSUP_HEAD}\
EU-R-1;12/01/2026;Müller GmbH;1;A;1;10,00;30,00;EUR\n\
EU-R-1;13/01/2026;Müller GmbH;2;B;1;20,00;30,00;USD\n\
EU-R-2;12/01/2026;Müller GmbH;1;C;1;5,00;5,00;EUR\n\
EU-R-2;;Müller GmbH;2;D;1;5,00;5,0;\n"
    );
    let d = decode_with(raw.as_bytes(), EUROSUP);
    let numbers: Vec<&str> = d.documents.iter().map(|x| x.document.number()).collect();
    assert_eq!(numbers, ["EU-R-2"], "{:?}", d.rejects);
    let found: Vec<(&str, &str)> = d
        .rejects
        .iter()
        .map(|r| {
            (
                r.location.as_str(),
                r.document.as_deref().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            ("row 3, column \"Datum\"", "EU-R-1"),
            ("row 3, column \"Währung\"", "EU-R-1"),
        ]
    );
    for want in [
        "\"13/01/2026\"",
        "row 2, the invoice's first row, says \"12/01/2026\"",
    ] {
        assert!(
            d.rejects[0].message.contains(want),
            "{want}: {}",
            d.rejects[0].message
        );
    }
    assert!(
        d.rejects[1].message.contains("\"USD\", but row 2"),
        "{}",
        d.rejects[1].message
    );
    // A value the first row leaves blank and a later row gives would be dropped: refused too.
    let raw = format!(
        "{EUROSUP_HEAD}\
EU-R-3;12/01/2026;Müller GmbH;1;A;1;10,00;;EUR\n\
EU-R-3;12/01/2026;Müller GmbH;2;B;1;20,00;30,00;EUR\n"
    );
    let d = decode_with(raw.as_bytes(), EUROSUP);
    assert!(d.documents.is_empty());
    assert_eq!(d.rejects[0].location, "row 3, column \"Summe\"");
    assert!(
        d.rejects[0].message.contains("leaves it blank"),
        "{}",
        d.rejects[0].message
    );
}

/// QA: a row of EU-R-1 after EU-R-2's became a second invoice EU-R-1. Rows of one document
/// that are not together refuse it whole, the run handed over first included.
#[test]
fn rows_of_one_invoice_that_are_not_together_refuse_it_whole() {
    let raw = format!(
        "{EUROSUP_HEAD}\
EU-R-1;12/01/2026;Müller GmbH;1;A;1;10,00;17,00;EUR\n\
EU-R-2;12/01/2026;Müller GmbH;1;C;1;5,00;5,00;EUR\n\
EU-R-1;12/01/2026;Müller GmbH;2;D;1;7,00;17,00;EUR\n"
    );
    let d = decode_with(raw.as_bytes(), EUROSUP);
    let numbers: Vec<&str> = d.documents.iter().map(|x| x.document.number()).collect();
    assert_eq!(numbers, ["EU-R-2"], "{:?}", d.rejects);
    let found: Vec<(&str, &str)> = d
        .rejects
        .iter()
        .map(|r| {
            (
                r.location.as_str(),
                r.document.as_deref().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(found, [("row 4", "EU-R-1"), ("row 2", "EU-R-1")]);
    assert!(
        d.rejects[0].message.contains(
            "the rows with \"Rechnungsnr\" \"EU-R-1\" are not together: row 2 came before"
        ),
        "{}",
        d.rejects[0].message
    );
    assert!(
        d.rejects[1].message.contains("refused whole"),
        "{}",
        d.rejects[1].message
    );

    // Under `grouping = "key"` too: a key that comes back later refuses its order.
    let raw = b"Order,Date,Qty,Cost centre,Ship city\n\
P1,2026-01-01,1,CC-1,Lyon\n\
P2,2026-01-02,3,,Nantes\n\
P1,,2,,\n";
    let d = decode_with(raw, KEYED);
    let numbers: Vec<&str> = d.documents.iter().map(|x| x.document.number()).collect();
    assert_eq!(numbers, ["P2"], "{:?}", d.rejects);
    assert_eq!(d.rejects.len(), 2, "{:?}", d.rejects);
}
