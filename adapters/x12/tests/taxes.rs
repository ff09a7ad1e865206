//! Taxes through X12: an invoice's `tax_total` that no tax carries (what the cXML reader makes
//! of a header `<Tax>` without `<TaxDetail>`) is written as one `TXI*TX` and read back as a
//! tax, and a tax's taxable amount travels in TXI08 beside its rate (X12's C0803), both ways.
//! A tax's category is its TXI01 code read as the name cXML gives the tax (`ST` ↔ `sales`,
//! `schemas/x12/tax-types.csv`), both ways.

// Test helpers outside #[test] functions may unwrap and panic too: a failure is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use adapter_x12::X12Codec;
use gateway_core::{Decode, Encode, PartnerProfile};
use gateway_model::{Document, Invoice, from_json};
use rust_decimal::Decimal;

fn dec(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn invoice_json(extra: &str, line_extra: &str) -> Document {
    from_json(
        format!(
            r#"{{"kind": "invoice", "schema_version": 1, "invoice_number": "CM-0007",
                "invoice_date": "2026-04-02", "currency": "EUR",
                "supplier": {{"name": "Acme"}},
                "lines": [
                    {{"line_number": 1, "quantity": "2", "uom": "EA", "unit_price": "15.00",
                      "amount": "30.00", "description": "Valve"{line_extra}}},
                    {{"line_number": 2, "quantity": "1", "uom": "EA", "unit_price": "40.00",
                      "amount": "40.00", "description": "Gauge"}}
                ]{extra}}}"#
        )
        .as_bytes(),
    )
    .unwrap()
}

fn encode(doc: &Document) -> String {
    let bytes = X12Codec::new()
        .encode(std::slice::from_ref(doc), &PartnerProfile::anonymous())
        .unwrap();
    String::from_utf8(bytes).unwrap()
}

fn decode(x12: &str) -> Vec<Document> {
    let d = X12Codec::new().decode(x12.as_bytes(), &PartnerProfile::anonymous());
    assert!(d.rejects.is_empty(), "rejects {:?}", d.rejects);
    d.documents.into_iter().map(|d| d.document).collect()
}

fn invoice(d: &Document) -> &Invoice {
    match d {
        Document::Invoice(i) => i,
        other => panic!("not an invoice: {other:?}"),
    }
}

/// The TXI segments written, each as its elements.
fn txis(x12: &str) -> Vec<Vec<String>> {
    x12.split('~')
        .map(str::trim)
        .filter(|s| s.starts_with("TXI*"))
        .map(|s| s.split('*').map(String::from).collect())
        .collect()
}

#[test]
fn a_tax_total_no_tax_carries_is_written_as_one_txi_and_read_back_as_a_tax() {
    let doc = invoice_json(r#", "tax_total": "5.78", "total": "75.78""#, "");
    let x12 = encode(&doc);
    assert_eq!(txis(&x12), vec![vec!["TXI", "TX", "5.78"]], "{x12}");
    assert!(x12.contains("TDS*7578~"), "{x12}");
    let back = decode(&x12);
    let inv = invoice(&back[0]);
    assert_eq!(inv.taxes.len(), 1);
    assert_eq!(inv.taxes[0].amount, Some(dec("5.78")));
    assert_eq!(inv.taxes[0].category.as_deref(), Some("TX"));
    assert_eq!(inv.total, Some(dec("75.78")));
    // Lines 70 + tax 5.78 make the total again: nothing for validation to flag.
    let report = back[0].validate();
    assert!(
        report.problems.iter().all(|p| p.path != "$.total"),
        "{report:?}"
    );
    // Once a tax, it stays one: written again, the same TXI.
    let again = encode(&back[0]);
    assert_eq!(txis(&again), txis(&x12));
    assert_eq!(decode(&again), back);
}

#[test]
fn a_tax_total_without_a_total_is_written_before_the_lines() {
    let doc = invoice_json(r#", "tax_total": "5.78""#, "");
    let x12 = encode(&doc);
    let at = |id: &str| x12.find(&format!("~\n{id}*")).unwrap();
    assert!(at("TXI") < at("IT1"), "{x12}");
    let back = decode(&x12);
    assert_eq!(invoice(&back[0]).taxes[0].amount, Some(dec("5.78")));
    assert!(invoice(&back[0]).lines.iter().all(|l| l.taxes.is_empty()));
}

#[test]
fn a_tax_total_the_taxes_carry_is_not_written_again() {
    // The lines carry it.
    let doc = invoice_json(
        r#", "tax_total": "2.48", "total": "72.48""#,
        r#", "taxes": [{"amount": "2.48", "rate": "8.25", "category": "sales"}]"#,
    );
    assert_eq!(txis(&encode(&doc)), vec![vec!["TXI", "ST", "2.48", "8.25"]]);
    // The invoice's own taxes carry it.
    let doc = invoice_json(
        r#", "taxes": [{"amount": "5.78", "category": "vat"}], "tax_total": "5.78""#,
        "",
    );
    assert_eq!(txis(&encode(&doc)), vec![vec!["TXI", "VA", "5.78"]]);
    // A zero tax total is no tax.
    let doc = invoice_json(r#", "tax_total": "0.00", "total": "70.00""#, "");
    assert!(txis(&encode(&doc)).is_empty());
}

#[test]
fn the_taxable_amount_travels_in_txi08_beside_the_rate() {
    let doc = invoice_json(
        "",
        r#", "taxes": [{"amount": "2.48", "rate": "8.25", "category": "sales",
                        "taxable_amount": "30.00"}]"#,
    );
    let x12 = encode(&doc);
    assert_eq!(
        txis(&x12),
        vec![vec!["TXI", "ST", "2.48", "8.25", "", "", "", "", "30"]],
        "{x12}"
    );
    let back = decode(&x12);
    let tax = &invoice(&back[0]).lines[0].taxes[0];
    assert_eq!(tax.taxable_amount, Some(dec("30")));
    assert_eq!(
        (tax.amount, tax.rate),
        (Some(dec("2.48")), Some(dec("8.25")))
    );
    // Read from X12, TXI08 is the taxable amount, not a kept element, and goes back as it came.
    assert!(
        invoice(&back[0]).lines[0].extensions.is_empty(),
        "{:?}",
        invoice(&back[0]).lines[0].extensions
    );
    assert_eq!(txis(&encode(&back[0])), txis(&x12));
}

#[test]
fn a_taxable_amount_without_a_rate_is_left_out_and_a_txi08_without_txi03_is_kept() {
    // X12's C0803: TXI08 only beside TXI03.
    let doc = invoice_json(
        "",
        r#", "taxes": [{"amount": "2.48", "category": "sales", "taxable_amount": "30.00"}]"#,
    );
    assert_eq!(txis(&encode(&doc)), vec![vec!["TXI", "ST", "2.48"]]);
    // A sender's TXI08 without TXI03 is no taxable amount, and goes back as it came.
    let x12 = encode(&invoice_json("", ""));
    let x12 = x12.replace("PID*F****Valve~", "PID*F****Valve~\nTXI*ST*2.48******30~");
    let se = x12
        .split('~')
        .position(|s| s.trim().starts_with("SE*"))
        .unwrap()
        - x12
            .split('~')
            .position(|s| s.trim().starts_with("ST*"))
            .unwrap();
    let x12 = x12.replace(&format!("SE*{se}*"), &format!("SE*{}*", se + 1));
    let back = decode(&x12);
    let tax = &invoice(&back[0]).lines[0].taxes[0];
    assert_eq!((tax.amount, tax.taxable_amount), (Some(dec("2.48")), None));
    assert_eq!(
        txis(&encode(&back[0])),
        vec![vec!["TXI", "ST", "2.48", "", "", "", "", "", "30"]]
    );
}

#[test]
fn a_taxable_amount_longer_than_txi08_allows_is_refused_with_its_path() {
    let doc = invoice_json(
        "",
        r#", "taxes": [{"amount": "2.48", "rate": "8.25", "taxable_amount": "123456789.10"}]"#,
    );
    let err = X12Codec::new()
        .encode(std::slice::from_ref(&doc), &PartnerProfile::anonymous())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("$.lines[0].taxes[0]") && err.contains("TXI08"),
        "{err}"
    );
}

/// X12 810 line taxes reached Coupa described `ST`, the raw TXI01, where the same tax from
/// cXML or CSV is described `sales`: a TXI01 code is read as the category cXML gives that tax
/// (`schemas/x12/tax-types.csv`) and the category is written back as the code, so X12 →
/// canonical → X12 gives the TXI as it came.
#[test]
fn a_txi01_code_reads_as_the_category_cxml_names_and_is_written_back_as_the_code() {
    for (code, category) in [("ST", "sales"), ("VA", "vat"), ("GS", "gst"), ("PS", "pst")] {
        // The category as the code itself: the writer writes a code it has no name for as it
        // is, so the X12 read here holds TXI01 `code`.
        let sent = encode(&invoice_json(
            "",
            &format!(r#", "taxes": [{{"amount": "2.48", "rate": "8.25", "category": "{code}"}}]"#),
        ));
        assert_eq!(txis(&sent), vec![vec!["TXI", code, "2.48", "8.25"]]);
        let read = decode(&sent);
        let line = &invoice(&read[0]).lines[0];
        assert_eq!(line.taxes[0].category.as_deref(), Some(category), "{code}");
        // Nothing of the TXI is kept beside the category: the category alone writes it back.
        assert!(line.extensions.is_empty(), "{code}: {:?}", line.extensions);
        let again = encode(&read[0]);
        assert_eq!(txis(&again), txis(&sent), "{code}");
        assert_eq!(decode(&again), read, "{code}");
    }
}

/// A code no category is named for (TX, all taxes; ZZ, mutually defined; CA, city tax) is its
/// own category, both ways.
#[test]
fn a_txi01_code_without_a_category_name_stays_the_code_both_ways() {
    for code in ["TX", "ZZ", "CA", "LS"] {
        let sent = encode(&invoice_json(
            "",
            &format!(r#", "taxes": [{{"amount": "1.00", "category": "{code}"}}]"#),
        ));
        assert_eq!(txis(&sent), vec![vec!["TXI", code, "1"]]);
        let read = decode(&sent);
        assert_eq!(
            invoice(&read[0]).lines[0].taxes[0].category.as_deref(),
            Some(code)
        );
        assert_eq!(txis(&encode(&read[0])), txis(&sent), "{code}");
    }
}

/// Canonical → X12 → canonical keeps the category cXML and CSV give (`sales`, `vat`, any
/// letter case written as the code); a category 004010 has no code for (`hst`) is written as
/// ZZ and comes back as ZZ, which `left_out` names at its path, amount and rate kept.
#[test]
fn a_canonical_category_survives_x12_and_one_without_a_code_is_named_left_out() {
    let doc = invoice_json(
        r#", "taxes": [{"amount": "5.00", "category": "vat"}, {"amount": "1.30", "category": "hst"}]"#,
        r#", "taxes": [{"amount": "2.48", "rate": "8.25", "category": "Sales"}]"#,
    );
    let x12 = encode(&doc);
    assert_eq!(
        txis(&x12),
        // Without a total, the header's TXIs go before the lines (see above).
        vec![
            vec!["TXI", "VA", "5"],
            vec!["TXI", "ZZ", "1.3"],
            vec!["TXI", "ST", "2.48", "8.25"],
        ],
        "{x12}"
    );
    let back = decode(&x12);
    let inv = invoice(&back[0]);
    assert_eq!(inv.lines[0].taxes[0].category.as_deref(), Some("sales"));
    assert_eq!(inv.taxes[0].category.as_deref(), Some("vat"));
    assert_eq!(inv.taxes[1].category.as_deref(), Some("ZZ"));
    assert_eq!(inv.taxes[1].amount, Some(dec("1.30")));
    let left: Vec<String> = adapter_x12::left_out(&doc)
        .iter()
        .map(|l| l.path.clone())
        .collect();
    assert_eq!(left, ["$.taxes[1].category"]);
    // Read back, ZZ is what it is: nothing more is lost.
    assert!(adapter_x12::left_out(&back[0]).is_empty());
}

/// The table is one name per code read (so a code read writes back the same), names are no
/// two-character codes (so no code read as itself is taken for a name), and every row has its
/// columns: a malformed row would be skipped without a word otherwise.
#[test]
fn the_tax_type_table_reads_each_code_as_one_name_that_writes_it_back() {
    let table = std::fs::read_to_string(
        gateway_core::testkit::repo_root().join("schemas/x12/tax-types.csv"),
    )
    .unwrap();
    let rows: Vec<Vec<&str>> = table
        .lines()
        .skip_while(|l| l.starts_with('#'))
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    assert!(rows.len() >= 4, "{rows:?}");
    let mut read_codes = std::collections::HashSet::new();
    let mut names = std::collections::HashSet::new();
    for row in &rows {
        assert_eq!(row.len(), 4, "{row:?}");
        let (code, name, read) = (row[0], row[1], row[2]);
        assert!(
            code.len() == 2 && code.bytes().all(|b| b.is_ascii_uppercase()),
            "{row:?}"
        );
        assert!(
            name.len() > 2 && name == name.to_ascii_lowercase(),
            "{row:?}"
        );
        assert!(names.insert(name), "{name} twice");
        assert!(matches!(read, "yes" | "no"), "{row:?}");
        if read == "yes" {
            assert!(read_codes.insert(code), "{code} read as two names");
            // Read and written through the codec: the code comes back.
            let sent = encode(&invoice_json(
                "",
                &format!(r#", "taxes": [{{"amount": "1", "category": "{name}"}}]"#),
            ));
            assert_eq!(txis(&sent), vec![vec!["TXI", code, "1"]], "{name}");
            let read = decode(&sent);
            assert_eq!(
                invoice(&read[0]).lines[0].taxes[0].category.as_deref(),
                Some(name)
            );
        }
    }
}
