//! Writing an invoice whose taxes add up past what a decimal holds: a refusal by path, never a
//! panic (`Sum` on decimals panics there, in both writers' tax total checks).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use adapter_csv::CsvCodec;
use common::samples;
use gateway_core::{Encode, EncodeError, PartnerProfile};
use gateway_model::{Document, Invoice, InvoiceLine, Tax};
use rust_decimal::Decimal;

/// Two lines, each with a tax of the largest decimal; a tax total of 5.
fn huge_taxes() -> Document {
    let line = |n| InvoiceLine {
        line_number: n,
        quantity: Some(Decimal::ONE),
        unit_price: Some(Decimal::TEN),
        amount: Some(Decimal::TEN),
        description: Some("x".into()),
        taxes: vec![Tax {
            amount: Some(Decimal::MAX),
            ..Tax::default()
        }],
        ..InvoiceLine::default()
    };
    Document::Invoice(Invoice {
        invoice_number: Some("OVF-1".into()),
        currency: Some("EUR".into()),
        tax_total: Some(Decimal::new(5, 0)),
        lines: vec![line(1), line(2)],
        ..Invoice::default()
    })
}

fn refused_at(profile: &PartnerProfile) -> String {
    match CsvCodec.encode(&[huge_taxes()], profile) {
        Err(EncodeError::Invalid { path, .. }) => path,
        Err(e) => panic!("expected a refusal by path, got {e}"),
        Ok(bytes) => panic!("written:\n{}", String::from_utf8_lossy(&bytes)),
    }
}

#[test]
fn taxes_past_what_a_decimal_holds_are_refused_by_the_coupa_layout() {
    assert_eq!(refused_at(&PartnerProfile::anonymous()), "$.tax_total");
}

#[test]
fn taxes_past_what_a_decimal_holds_are_refused_by_a_partner_layout() {
    // The sample sheet with a column for the lines' taxes.
    let toml = std::fs::read_to_string(samples().join("invoice/partner_sheet.partner.toml"))
        .unwrap()
        .replace(
            "  { column = \"Summe\", field = \"total\" },\n",
            "  { column = \"Summe\", field = \"total\" },\n  { column = \"MwSt\", field = \"lines.taxes.amount\" },\n",
        );
    assert!(toml.contains("MwSt"));
    let profile = PartnerProfile::from_toml(&toml, "sheet.toml").unwrap();
    assert_eq!(refused_at(&profile), "$.tax_total");
}
