//! A cXML `Tax` gives the tax billed in its `Money`, and each `TaxDetail` its share in
//! `TaxAmount`. QA: a `TaxDetail` with its rate and `TaxableAmount` but no `TaxAmount` was
//! read as a tax of that rate without an amount, the summary's (`rateonly.xml`, VAT 19 % of
//! 100.00) and a line's (`lrate.xml`, 8.25 % of 100.00) alike, and Coupa was sent the rate
//! without the 19.00 or 8.25 billed. The one detail without an amount now has the `Money`
//! less the others'; a line whose `Money` cannot be split (several details without one) is
//! refused at its `Tax`. And each document says its payloadID where it came from, so
//! `gateway documents` tells two POSTs of one invoice number apart.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use adapter_cxml::CxmlCodec;
use gateway_core::{Decode, Decoded, PartnerProfile};
use gateway_model::{Decimal, Document, Invoice, Tax};

/// An invoice of one line of 100.00 (payloadID `PID`), its tax `LINE_TAX`, and the summary's
/// `SUMMARY_TAX`.
const INVOICE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE cXML SYSTEM "http://xml.cxml.org/schemas/cXML/1.2.020/InvoiceDetail.dtd">
<cXML payloadID="PID" timestamp="2026-03-15T09:30:00-05:00" xml:lang="en-US">
<Header>
<From><Credential domain="DUNS"><Identity>123456789</Identity></Credential></From>
<To><Credential domain="NetworkID"><Identity>GLOBEX</Identity></Credential></To>
<Sender><Credential domain="DUNS"><Identity>123456789</Identity><SharedSecret>s</SharedSecret></Credential><UserAgent>QA</UserAgent></Sender>
</Header>
<Request deploymentMode="production"><InvoiceDetailRequest>
<InvoiceDetailRequestHeader invoiceID="QA-TAX" purpose="standard" operation="new" invoiceDate="2026-03-15T09:30:00-05:00">
<InvoiceDetailHeaderIndicator/><InvoiceDetailLineIndicator/>
</InvoiceDetailRequestHeader>
<InvoiceDetailOrder>
<InvoiceDetailOrderInfo><OrderReference orderID="PO-1"><DocumentReference payloadID="PO-1"/></OrderReference></InvoiceDetailOrderInfo>
<InvoiceDetailItem invoiceLineNumber="1" quantity="1"><UnitOfMeasure>EA</UnitOfMeasure><UnitPrice><Money currency="EUR">100.00</Money></UnitPrice>
<InvoiceDetailItemReference lineNumber="1"><Description xml:lang="en">Tool</Description></InvoiceDetailItemReference>
<SubtotalAmount><Money currency="EUR">100.00</Money></SubtotalAmount>
LINE_TAX
</InvoiceDetailItem>
</InvoiceDetailOrder>
<InvoiceDetailSummary><SubtotalAmount><Money currency="EUR">100.00</Money></SubtotalAmount>
SUMMARY_TAX
<NetAmount><Money currency="EUR">TOTAL</Money></NetAmount></InvoiceDetailSummary>
</InvoiceDetailRequest></Request></cXML>"#;

/// A `TaxDetail` of `rate` % on 100.00, with `amount` as its `TaxAmount` when there is one.
fn detail(rate: &str, amount: Option<&str>) -> String {
    let amount = amount
        .map(|a| format!(r#"<TaxAmount><Money currency="EUR">{a}</Money></TaxAmount>"#))
        .unwrap_or_default();
    format!(
        r#"<TaxDetail purpose="tax" category="vat" percentageRate="{rate}"><TaxableAmount><Money currency="EUR">100.00</Money></TaxableAmount>{amount}</TaxDetail>"#
    )
}

/// A `Tax` of `money` with `details`.
fn tax(money: &str, details: &[String]) -> String {
    format!(
        r#"<Tax><Money currency="EUR">{money}</Money><Description xml:lang="en">VAT</Description>{}</Tax>"#,
        details.concat()
    )
}

fn invoice(line_tax: &str, summary_tax: &str, total: &str) -> String {
    INVOICE
        .replace("PID", "tax-0001@acme.example")
        .replace("LINE_TAX", line_tax)
        .replace("SUMMARY_TAX", summary_tax)
        .replace("TOTAL", total)
}

fn decode(xml: &str) -> Decoded {
    CxmlCodec::new().decode(xml.as_bytes(), &PartnerProfile::anonymous())
}

fn read(xml: &str) -> Invoice {
    let d = decode(xml);
    assert!(d.rejects.is_empty(), "{:?}", d.rejects);
    match d.documents.into_iter().next().unwrap().document {
        Document::Invoice(i) => i,
        other => panic!("not an invoice: {other:?}"),
    }
}

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn amounts(taxes: &[Tax]) -> Vec<Option<Decimal>> {
    taxes.iter().map(|t| t.amount).collect()
}

/// QA's rateonly.xml: the summary's one `TaxDetail` (19 % of 100.00) without a `TaxAmount`
/// is the `Tax/Money`, 19.00, with its rate and taxable amount kept.
#[test]
fn a_summary_tax_detail_without_its_amount_has_the_taxs_money() {
    let inv = read(&invoice("", &tax("19.00", &[detail("19", None)]), "119.00"));
    assert_eq!(amounts(&inv.taxes), vec![Some(d("19.00"))]);
    assert_eq!(inv.taxes[0].rate, Some(d("19")));
    assert_eq!(inv.taxes[0].taxable_amount, Some(d("100.00")));
    assert_eq!(inv.tax_total, Some(d("19.00")));
}

/// QA's lrate.xml: a line's one `TaxDetail` without a `TaxAmount` is the line's
/// `Tax/Money`, 8.25.
#[test]
fn a_line_tax_detail_without_its_amount_has_the_taxs_money() {
    let inv = read(&invoice(
        &tax("8.25", &[detail("8.25", None)]),
        &tax("8.25", &[]),
        "108.25",
    ));
    assert_eq!(amounts(&inv.lines[0].taxes), vec![Some(d("8.25"))]);
    assert_eq!(inv.lines[0].taxes[0].rate, Some(d("8.25")));
}

/// Of several details, the one without an amount has the `Money` less the others'; with
/// every amount given, nothing changes.
#[test]
fn the_one_detail_without_an_amount_has_what_the_others_leave() {
    let inv = read(&invoice(
        &tax("10.00", &[detail("7", Some("7.00")), detail("3", None)]),
        &tax("10.00", &[]),
        "110.00",
    ));
    assert_eq!(
        amounts(&inv.lines[0].taxes),
        vec![Some(d("7.00")), Some(d("3.00"))]
    );
    // A credit memo's negative tax: the same, negative.
    let inv = read(&invoice(
        &tax("-10.00", &[detail("7", Some("-7.00")), detail("3", None)]),
        &tax("-10.00", &[]),
        "90.00",
    ));
    assert_eq!(amounts(&inv.lines[0].taxes)[1], Some(d("-3.00")));
}

/// A line's `Money` that several details without an amount share cannot be split: refused
/// at the line's `Tax`, saying what to send. The summary's is not refused: its `Money` is the
/// invoice's tax total, which Coupa is sent as the tax amount.
#[test]
fn a_line_tax_that_cannot_be_split_is_refused_at_its_tax() {
    let unsplit = tax("10.00", &[detail("7", None), detail("3", None)]);
    let d_ = decode(&invoice(&unsplit, &tax("10.00", &[]), "110.00"));
    assert!(d_.documents.is_empty(), "{:?}", d_.documents);
    assert_eq!(d_.rejects.len(), 1, "{:?}", d_.rejects);
    let r = &d_.rejects[0];
    assert!(
        r.location.contains("/InvoiceDetailItem/Tax (line "),
        "{}",
        r.location
    );
    assert!(
        r.message
            .contains("tax of 10.00 is not split among its TaxDetails: 2 of them")
            && r.message.contains("give each TaxDetail its TaxAmount"),
        "{}",
        r.message
    );
    let inv = read(&invoice("", &unsplit, "110.00"));
    assert_eq!(amounts(&inv.taxes), vec![None, None]);
    assert_eq!(inv.tax_total, Some(d("10.00")));
}

/// Each document of an input says its payloadID where it came from (QA: two POSTs of
/// QA-A1-EUR both showed `from: cXML document 1`); one without a payloadID says its place
/// alone, and a payloadID is shown on one line, clipped.
#[test]
fn a_documents_location_names_its_payload_id() {
    let one = invoice("", &tax("0.00", &[]), "100.00");
    let second = one.replace("tax-0001@acme.example", "tax-0002@acme.example");
    let d_ = decode(&format!("{one}\n{second}"));
    let locations: Vec<&str> = d_
        .documents
        .iter()
        .map(|d| d.meta.location.as_deref().unwrap())
        .collect();
    assert_eq!(
        locations,
        vec![
            "cXML document 1, payloadID tax-0001@acme.example",
            "cXML document 2, payloadID tax-0002@acme.example",
        ]
    );
    let none = one.replace(r#"payloadID="tax-0001@acme.example" "#, "");
    let d_ = decode(&none);
    assert_eq!(
        d_.documents[0].meta.location.as_deref(),
        Some("cXML document 1")
    );
    let long = one.replace(
        "tax-0001@acme.example",
        &format!("a&#9;b{}", "x".repeat(300)),
    );
    let d_ = decode(&long);
    let shown = d_.documents[0].meta.location.as_deref().unwrap();
    assert!(shown.starts_with("cXML document 1, payloadID a"), "{shown}");
    assert!(!shown.contains('\t'), "{shown}");
    assert!(
        shown.ends_with("xxx…") && shown.chars().count() < 250,
        "{shown}"
    );
}
