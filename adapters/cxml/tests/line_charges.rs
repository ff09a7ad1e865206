//! Line-level charges are counted once. cXML's `InvoiceDetailSummary` amounts
//! (`ShippingAmount`, `SpecialHandlingAmount`, `InvoiceDetailDiscount`) are the invoice's
//! totals, the lines' `InvoiceDetailLineShipping`, `InvoiceDetailLineSpecialHandling` and
//! `InvoiceDetailDiscount` included, as its `Tax` is (`tax_total`). The canonical invoice's
//! `charges[]` are the invoice's own, beside the lines': the summary less the lines'. Written
//! back, the summary is the invoice's own plus the lines'.
//!
//! QA (Coupa sandbox): an invoice with 10.00 shipping on its line and a 10.00 summary
//! `ShippingAmount` (Gross 110.00) was read with a header charge of 10.00 as well, so
//! validation found "110.00 does not equal ... charges 20 = 120" and Coupa was sent 20.00.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::str::FromStr;

use adapter_cxml::{CxmlCodec, encode_invoice};
use gateway_core::{Decode, PartnerProfile};
use gateway_model::{
    Charge, ChargeKind, Decimal, Document, Invoice, InvoiceLine, Party, to_json_line,
};

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn profile() -> PartnerProfile {
    PartnerProfile::from_toml(
        r#"
id = "acme"
[cxml]
from_domain = "DUNS"
from_identity = "acme"
to_domain = "NetworkID"
to_identity = "coupa-buyer"
shared_secret = "acme-secret"
payload_id_host = "gw.example"
"#,
        "test.toml",
    )
    .unwrap()
}

/// QA's input (`ship1.xml`) as it was sent: shipping in the line and the same amount in the
/// summary.
const SHIP1: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE cXML SYSTEM "http://xml.cxml.org/schemas/cXML/1.2.020/InvoiceDetail.dtd">
<cXML payloadID="qab-ship-1@acme" timestamp="2026-04-02T10:00:00+00:00">
  <Header>
    <From><Credential domain="DUNS"><Identity>acme</Identity></Credential></From>
    <To><Credential domain="NetworkID"><Identity>coupa-buyer</Identity></Credential></To>
    <Sender><Credential domain="DUNS"><Identity>acme</Identity><SharedSecret>acme-secret</SharedSecret></Credential><UserAgent>qa</UserAgent></Sender>
  </Header>
  <Request deploymentMode="production">
    <InvoiceDetailRequest>
      <InvoiceDetailRequestHeader invoiceID="QAB-SHIP-1" purpose="standard" operation="new" invoiceDate="2026-04-02T10:00:00+00:00">
        <InvoiceDetailHeaderIndicator/>
        <InvoiceDetailLineIndicator isShippingInLine="yes"/>
        </InvoiceDetailRequestHeader>
      <InvoiceDetailOrder>
        <InvoiceDetailOrderInfo><OrderReference orderID="PO-00001"><DocumentReference payloadID="PO-00001"/></OrderReference></InvoiceDetailOrderInfo>
        <InvoiceDetailItem invoiceLineNumber="1" quantity="2">
          <UnitOfMeasure>EA</UnitOfMeasure>
          <UnitPrice><Money currency="USD">50.00</Money></UnitPrice>
          <InvoiceDetailItemReference lineNumber="1"><Description xml:lang="en">Widgets</Description></InvoiceDetailItemReference>
          <SubtotalAmount><Money currency="USD">100.00</Money></SubtotalAmount>
          <InvoiceDetailLineShipping><InvoiceDetailShipping><Contact role="shipFrom"><Name xml:lang="en">Acme</Name></Contact><Contact role="shipTo"><Name xml:lang="en">Globex</Name></Contact></InvoiceDetailShipping><Money currency="USD">10.00</Money></InvoiceDetailLineShipping>
        </InvoiceDetailItem>
      </InvoiceDetailOrder>
      <InvoiceDetailSummary>
        <SubtotalAmount><Money currency="USD">100.00</Money></SubtotalAmount>
        <ShippingAmount><Money currency="USD">10.00</Money></ShippingAmount>
        <GrossAmount><Money currency="USD">110.00</Money></GrossAmount>
        <NetAmount><Money currency="USD">110.00</Money></NetAmount>
        <DueAmount><Money currency="USD">110.00</Money></DueAmount>
      </InvoiceDetailSummary>
    </InvoiceDetailRequest>
  </Request>
</cXML>"#;

/// Charges of one kind: on the line, in the summary (`None`: the element is absent).
#[derive(Clone, Copy, Default)]
struct Kind<'a> {
    line: Option<&'a str>,
    summary: Option<&'a str>,
}

/// Shipping, handling and discount of a one-line invoice of 100.00 with a supplier (so that it
/// validates), the summary's Gross and Net made from them as cXML means them.
#[derive(Clone, Copy, Default)]
struct Source<'a> {
    shipping: Kind<'a>,
    handling: Kind<'a>,
    discount: Kind<'a>,
    /// `percentageRate` of the summary's `InvoiceDetailDiscount`.
    summary_discount_rate: Option<&'a str>,
}

fn money(a: &str) -> String {
    format!(r#"<Money currency="USD">{a}</Money>"#)
}

impl Source<'_> {
    fn xml(&self) -> String {
        let mut line = String::new();
        if let Some(h) = self.handling.line {
            line += &format!(
                r#"<InvoiceDetailLineSpecialHandling><Description xml:lang="en">Crate</Description>{}</InvoiceDetailLineSpecialHandling>"#,
                money(h)
            );
        }
        if let Some(s) = self.shipping.line {
            line += &format!(
                r#"<InvoiceDetailLineShipping><InvoiceDetailShipping><Contact role="shipFrom"><Name xml:lang="en">Acme</Name></Contact><Contact role="shipTo"><Name xml:lang="en">Globex</Name></Contact></InvoiceDetailShipping>{}</InvoiceDetailLineShipping>"#,
                money(s)
            );
        }
        if let Some(d) = self.discount.line {
            line += &format!(
                r#"<InvoiceDetailDiscount percentageRate="10">{}</InvoiceDetailDiscount>"#,
                money(d)
            );
        }
        let amount = |a: Option<&str>| a.map(dec).unwrap_or_default();
        let gross = dec("100.00") + amount(self.shipping.summary) + amount(self.handling.summary);
        let net = gross - amount(self.discount.summary);
        let mut summary = String::new();
        if let Some(h) = self.handling.summary {
            summary += &format!(
                r#"<SpecialHandlingAmount>{}<Description xml:lang="en">Fragile</Description></SpecialHandlingAmount>"#,
                money(h)
            );
        }
        if let Some(s) = self.shipping.summary {
            summary += &format!("<ShippingAmount>{}</ShippingAmount>", money(s));
        }
        summary += &format!("<GrossAmount>{}</GrossAmount>", money(&gross.to_string()));
        if let Some(d) = self.discount.summary {
            let rate = self
                .summary_discount_rate
                .map(|r| format!(r#" percentageRate="{r}""#))
                .unwrap_or_default();
            summary += &format!(
                "<InvoiceDetailDiscount{rate}>{}</InvoiceDetailDiscount>",
                money(d)
            );
        }
        let net = money(&net.to_string());
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<cXML payloadID="lc-1@acme" timestamp="2026-04-02T10:00:00+00:00">
  <Header>
    <From><Credential domain="DUNS"><Identity>acme</Identity></Credential></From>
    <To><Credential domain="NetworkID"><Identity>coupa-buyer</Identity></Credential></To>
    <Sender><Credential domain="DUNS"><Identity>acme</Identity><SharedSecret>acme-secret</SharedSecret></Credential><UserAgent>qa</UserAgent></Sender>
  </Header>
  <Request deploymentMode="production">
    <InvoiceDetailRequest>
      <InvoiceDetailRequestHeader invoiceID="LC-1" purpose="standard" operation="new" invoiceDate="2026-04-02T10:00:00+00:00">
        <InvoiceDetailHeaderIndicator/>
        <InvoiceDetailLineIndicator/>
        <InvoicePartner><Contact role="from"><Name xml:lang="en">Acme</Name></Contact></InvoicePartner>
      </InvoiceDetailRequestHeader>
      <InvoiceDetailOrder>
        <InvoiceDetailOrderInfo><OrderReference orderID="PO-1"><DocumentReference payloadID="PO-1"/></OrderReference></InvoiceDetailOrderInfo>
        <InvoiceDetailItem invoiceLineNumber="1" quantity="2">
          <UnitOfMeasure>EA</UnitOfMeasure>
          <UnitPrice>{price}</UnitPrice>
          <InvoiceDetailItemReference lineNumber="1"><Description xml:lang="en">Widgets</Description></InvoiceDetailItemReference>
          <SubtotalAmount>{sub}</SubtotalAmount>
          {line}
        </InvoiceDetailItem>
      </InvoiceDetailOrder>
      <InvoiceDetailSummary>
        <SubtotalAmount>{sub}</SubtotalAmount>
        <Tax>{zero}<Description xml:lang="en"/></Tax>
        {summary}
        <NetAmount>{net}</NetAmount>
        <DueAmount>{net}</DueAmount>
      </InvoiceDetailSummary>
    </InvoiceDetailRequest>
  </Request>
</cXML>"#,
            price = money("50.00"),
            sub = money("100.00"),
            zero = money("0.00"),
        )
    }
}

fn decode(xml: &str) -> (Invoice, Vec<String>) {
    let d = CxmlCodec::new().decode(xml.as_bytes(), &profile());
    assert!(d.rejects.is_empty(), "{:?}\n{xml}", d.rejects);
    assert_eq!(d.documents.len(), 1, "{xml}");
    let d = d.documents.into_iter().next().unwrap();
    let notes = d.meta.notes().map(str::to_string).collect();
    match d.document {
        Document::Invoice(inv) => (inv, notes),
        other => panic!("not an invoice: {other:?}"),
    }
}

fn write(inv: &Invoice) -> String {
    String::from_utf8(encode_invoice(inv, &profile()).unwrap()).unwrap()
}

/// `(kind, amount)` of `charges`.
fn amounts(charges: &[Charge]) -> Vec<(ChargeKind, Option<Decimal>)> {
    charges.iter().map(|c| (c.kind, c.amount)).collect()
}

/// The document validates without a problem: no arithmetic warning, no error.
fn assert_clean(inv: &Invoice, context: &str) {
    let report = Document::Invoice(inv.clone()).validate();
    assert!(
        report.problems.is_empty(),
        "{context}: {:?}",
        report.problems
    );
}

/// cXML → canonical → cXML → canonical gives the same JSON; returns the written cXML.
fn assert_round_trip(inv: &Invoice) -> String {
    let written = write(inv);
    let (again, _) = decode(&written);
    assert_eq!(
        to_json_line(&Document::Invoice(again.clone())),
        to_json_line(&Document::Invoice(inv.clone())),
        "\n{written}"
    );
    // And once more: what is written the second time is what was written the first (the
    // envelope's payloadID and timestamp aside).
    let body = |xml: &str| xml[xml.find("<Request").unwrap()..].to_string();
    assert_eq!(body(&write(&again)), body(&written));
    written
}

/// The text of `<name>`'s `Money` in the summary.
fn summary_money(xml: &str, name: &str) -> Option<String> {
    let summary = &xml[xml.find("<InvoiceDetailSummary>")?..];
    let at = summary.find(&format!("<{name}"))?;
    let rest = &summary[at..];
    let open = rest.find("<Money")?;
    let start = open + rest[open..].find('>')? + 1;
    let end = start + rest[start..].find("</Money>")?;
    Some(rest[start..end].to_string())
}

#[test]
fn qa_ship1_line_shipping_is_counted_once() {
    let (inv, notes) = decode(SHIP1);
    assert!(notes.is_empty(), "{notes:?}");
    assert_eq!(
        amounts(&inv.lines[0].charges),
        [(ChargeKind::Shipping, Some(dec("10.00")))]
    );
    assert!(inv.charges.is_empty(), "{:?}", inv.charges);
    // QA's file has no supplier (an error of its own); the arithmetic adds up.
    let report = Document::Invoice(inv.clone()).validate();
    assert!(
        !report.problems.iter().any(|p| p.path == "$.total"),
        "{:?}",
        report.problems
    );
    let written = assert_round_trip(&inv);
    assert_eq!(
        summary_money(&written, "ShippingAmount").as_deref(),
        Some("10.00")
    );
    assert!(written.contains(r#"isShippingInLine="yes""#), "{written}");
}

#[test]
fn summary_equal_to_the_lines_leaves_no_header_charge() {
    let src = Source {
        shipping: Kind {
            line: Some("10.00"),
            summary: Some("10.00"),
        },
        handling: Kind {
            line: Some("3.00"),
            summary: Some("3.00"),
        },
        discount: Kind {
            line: Some("2.00"),
            summary: Some("2.00"),
        },
        ..Source::default()
    };
    let (inv, notes) = decode(&src.xml());
    assert!(notes.is_empty(), "{notes:?}");
    assert!(inv.charges.is_empty(), "{:?}", inv.charges);
    assert_eq!(
        amounts(&inv.lines[0].charges),
        [
            (ChargeKind::Shipping, Some(dec("10.00"))),
            (ChargeKind::Handling, Some(dec("3.00"))),
            (ChargeKind::Discount, Some(dec("2.00"))),
        ]
    );
    assert_clean(&inv, "equal");
    let written = assert_round_trip(&inv);
    for (name, want) in [
        ("SpecialHandlingAmount", "3.00"),
        ("ShippingAmount", "10.00"),
        ("InvoiceDetailDiscount", "2.00"),
    ] {
        assert_eq!(
            summary_money(&written, name).as_deref(),
            Some(want),
            "{name}"
        );
    }
    // The summary's Description of a handling charge the invoice has none of is kept.
    let summary = &written[written.find("<SpecialHandlingAmount>").unwrap()..];
    let summary = &summary[..summary.find("</SpecialHandlingAmount>").unwrap()];
    assert!(
        summary.contains(r#"<Description xml:lang="en">Fragile</Description>"#),
        "{written}"
    );
    for flag in [
        "isSpecialHandlingInLine",
        "isShippingInLine",
        "isDiscountInLine",
    ] {
        assert!(written.contains(&format!(r#"{flag}="yes""#)), "{flag}");
    }
}

/// Summary 15 = the invoice's own 5 + the line's 10, for each kind.
fn header_and_line(kind: ChargeKind) {
    let both = Kind {
        line: Some("10.00"),
        summary: Some("15.00"),
    };
    let src = match kind {
        ChargeKind::Shipping => Source {
            shipping: both,
            ..Source::default()
        },
        ChargeKind::Handling => Source {
            handling: both,
            ..Source::default()
        },
        _ => Source {
            discount: both,
            ..Source::default()
        },
    };
    let (inv, notes) = decode(&src.xml());
    assert!(notes.is_empty(), "{kind:?}: {notes:?}");
    assert_eq!(
        amounts(&inv.charges),
        [(kind, Some(dec("5.00")))],
        "{kind:?}"
    );
    assert_eq!(
        amounts(&inv.lines[0].charges),
        [(kind, Some(dec("10.00")))],
        "{kind:?}"
    );
    assert_clean(&inv, &format!("{kind:?}"));
    let written = assert_round_trip(&inv);
    let name = match kind {
        ChargeKind::Shipping => "ShippingAmount",
        ChargeKind::Handling => "SpecialHandlingAmount",
        _ => "InvoiceDetailDiscount",
    };
    assert_eq!(
        summary_money(&written, name).as_deref(),
        Some("15.00"),
        "{kind:?}"
    );
}

#[test]
fn header_and_line_shipping() {
    header_and_line(ChargeKind::Shipping);
}

#[test]
fn header_and_line_handling() {
    header_and_line(ChargeKind::Handling);
}

#[test]
fn header_and_line_discount() {
    header_and_line(ChargeKind::Discount);
}

/// The summary's rate of a discount the lines make up whole is kept and written back.
#[test]
fn a_summary_discount_rate_is_kept_when_the_lines_make_up_the_discount() {
    let src = Source {
        discount: Kind {
            line: Some("10.00"),
            summary: Some("10.00"),
        },
        summary_discount_rate: Some("10"),
        ..Source::default()
    };
    let (inv, _) = decode(&src.xml());
    assert!(inv.charges.is_empty(), "{:?}", inv.charges);
    assert_clean(&inv, "rate");
    let written = assert_round_trip(&inv);
    let summary = &written[written.find("<InvoiceDetailSummary>").unwrap()..];
    assert!(
        summary.contains(r#"<InvoiceDetailDiscount percentageRate="10">"#),
        "{written}"
    );
}

/// A summary below its lines' sum is not what cXML means: the lines' charges are kept, the
/// summary's amount too (in `extensions.cxml`, written back as it came), with a note.
#[test]
fn a_summary_below_the_lines_is_kept_and_noted() {
    let src = Source {
        shipping: Kind {
            line: Some("10.00"),
            summary: Some("4.00"),
        },
        ..Source::default()
    };
    let (inv, notes) = decode(&src.xml());
    assert!(inv.charges.is_empty(), "{:?}", inv.charges);
    assert_eq!(
        amounts(&inv.lines[0].charges),
        [(ChargeKind::Shipping, Some(dec("10.00")))]
    );
    let kept = inv.extensions["cxml"]["summary_shipping"]["amount"].as_str();
    assert_eq!(kept, Some("4.00"));
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(
        notes[0].contains("ShippingAmount") && notes[0].contains("4.00"),
        "{notes:?}"
    );
    // The total the source gives does not add up with the lines: validation says so.
    let report = Document::Invoice(inv.clone()).validate();
    assert!(
        report.warnings().any(|p| p.path == "$.total"),
        "{:?}",
        report.problems
    );
    let written = assert_round_trip(&inv);
    assert_eq!(
        summary_money(&written, "ShippingAmount").as_deref(),
        Some("4.00")
    );
}

/// A canonical invoice from another format (X12, CSV, JSON) with charges of its own and on its
/// lines: the summary is their sum, and it reads back as it was.
#[test]
fn a_canonical_invoice_is_written_with_the_summary_of_header_and_lines() {
    let charge = |kind: ChargeKind, amount: &str| Charge {
        kind,
        amount: Some(dec(amount)),
        rate: None,
        category: None,
        description: None,
        code: None,
    };
    let line = |n: u32, charges: Vec<Charge>| InvoiceLine {
        line_number: n,
        quantity: Some(dec("1")),
        uom: Some("EA".into()),
        unit_price: Some(dec("50.00")),
        amount: Some(dec("50.00")),
        description: Some("Widget".into()),
        charges,
        ..InvoiceLine::default()
    };
    let inv = Invoice {
        invoice_number: Some("X-1".into()),
        invoice_date: chrono_date(),
        currency: Some("USD".into()),
        po_number: Some("PO-1".into()),
        supplier: Some(Party {
            name: Some("Acme".into()),
            ..Party::default()
        }),
        lines: vec![
            line(
                1,
                vec![
                    charge(ChargeKind::Shipping, "10.00"),
                    charge(ChargeKind::Discount, "1.00"),
                ],
            ),
            line(
                2,
                vec![
                    charge(ChargeKind::Shipping, "2.50"),
                    charge(ChargeKind::Handling, "4.00"),
                ],
            ),
        ],
        charges: vec![
            charge(ChargeKind::Shipping, "5.00"),
            charge(ChargeKind::Discount, "3.00"),
        ],
        subtotal: Some(dec("100.00")),
        tax_total: Some(dec("0.00")),
        total: Some(dec("117.50")),
        ..Invoice::default()
    };
    assert_clean(&inv, "canonical");
    let written = write(&inv);
    for (name, want) in [
        ("ShippingAmount", "17.50"),
        ("SpecialHandlingAmount", "4.00"),
        ("InvoiceDetailDiscount", "4.00"),
    ] {
        assert_eq!(
            summary_money(&written, name).as_deref(),
            Some(want),
            "{name}\n{written}"
        );
    }
    let (back, notes) = decode(&written);
    assert!(notes.is_empty(), "{notes:?}");
    assert_eq!(back, inv, "\n{written}");
    assert_round_trip(&back);
}

fn chrono_date() -> Option<gateway_model::NaiveDate> {
    gateway_model::NaiveDate::from_ymd_opt(2026, 4, 2)
}
