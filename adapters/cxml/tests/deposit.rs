//! A prepaid deposit in an invoice's summary (`InvoiceDetailSummary/DepositAmount`, between
//! `NetAmount` and `DueAmount` in InvoiceDetail.dtd; `DueAmount` = net less the deposit) has no
//! place in the canonical invoice or in Coupa, which pays an invoice by its lines and charges.
//! Read as `total` = `DueAmount`, such an invoice reached Coupa with the lines' full amount,
//! and was paid in full: it is refused at the element, saying what to send instead, unless the
//! deposit is zero.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use adapter_cxml::CxmlCodec;
use gateway_core::testkit::repo_root;
use gateway_core::{Decode, Decoded, PartnerProfile};
use gateway_model::{Document, ValidationContext};

/// The QA tester's invoice: one line of 100.00, a deposit of 40.00, 60.00 due.
const DEPOSIT: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE cXML SYSTEM "http://xml.cXML.org/schemas/cXML/1.2.020/InvoiceDetail.dtd">
<cXML payloadID="qa-g7@acme" timestamp="2026-11-20T10:00:00-05:00" xml:lang="en-US" version="1.2.020">
<Header>
<From><Credential domain="DUNS"><Identity>123456789</Identity></Credential></From>
<To><Credential domain="NetworkID"><Identity>GLOBEX</Identity></Credential></To>
<Sender><Credential domain="DUNS"><Identity>123456789</Identity><SharedSecret>s</SharedSecret></Credential><UserAgent>QA 1.0</UserAgent></Sender>
</Header>
<Request deploymentMode="production"><InvoiceDetailRequest>
<InvoiceDetailRequestHeader invoiceID="QA-G7" purpose="standard" operation="new" invoiceDate="2026-11-20T10:00:00-05:00">
<InvoiceDetailHeaderIndicator/><InvoiceDetailLineIndicator isTaxInLine="yes"/>
<PaymentTerm payInNumberOfDays="30"/>
</InvoiceDetailRequestHeader>
<InvoiceDetailOrder><InvoiceDetailOrderInfo><OrderReference orderID="PO-00001"><DocumentReference payloadID="PO-00001"/></OrderReference></InvoiceDetailOrderInfo><InvoiceDetailItem invoiceLineNumber="1" quantity="1"><UnitOfMeasure>EA</UnitOfMeasure><UnitPrice><Money currency="USD">100.00</Money></UnitPrice>
<InvoiceDetailItemReference lineNumber="1"><ItemID><SupplierPartID>W-1</SupplierPartID></ItemID><Description xml:lang="en">Widget</Description></InvoiceDetailItemReference>
<SubtotalAmount><Money currency="USD">100.00</Money></SubtotalAmount></InvoiceDetailItem>LINE2</InvoiceDetailOrder>
<InvoiceDetailSummary><SubtotalAmount><Money currency="USD">SUBTOTAL</Money></SubtotalAmount><Tax><Money currency="USD">0.00</Money><Description xml:lang="en">t</Description></Tax><NetAmount><Money currency="USD">NET</Money></NetAmount>DEPOSIT<DueAmount><Money currency="USD">60.00</Money></DueAmount></InvoiceDetailSummary>
</InvoiceDetailRequest></Request></cXML>"#;

const DEPOSIT_40: &str = r#"<DepositAmount><Money currency="USD">40.00</Money></DepositAmount>"#;

/// The deposit as the refusal says to send it: a line of its own, with a negative price.
const DEPOSIT_LINE: &str = r#"<InvoiceDetailItem invoiceLineNumber="2" quantity="1"><UnitOfMeasure>EA</UnitOfMeasure><UnitPrice><Money currency="USD">-40.00</Money></UnitPrice>
<InvoiceDetailItemReference lineNumber="1"><ItemID><SupplierPartID>W-1</SupplierPartID></ItemID><Description xml:lang="en">Less deposit paid</Description></InvoiceDetailItemReference>
<SubtotalAmount><Money currency="USD">-40.00</Money></SubtotalAmount></InvoiceDetailItem>"#;

fn invoice(line2: &str, subtotal: &str, net: &str, deposit: &str) -> String {
    DEPOSIT
        .replace("LINE2", line2)
        .replace("SUBTOTAL", subtotal)
        .replace("NET", net)
        .replace("DEPOSIT", deposit)
}

fn decode(xml: &str) -> Decoded {
    CxmlCodec::new().decode(xml.as_bytes(), &PartnerProfile::anonymous())
}

#[test]
fn a_deposit_is_refused_at_its_element_saying_what_to_send() {
    let d = decode(&invoice("", "100.00", "100.00", DEPOSIT_40));
    assert!(d.documents.is_empty(), "{:?}", d.documents);
    assert_eq!(d.rejects.len(), 1, "{:?}", d.rejects);
    let r = &d.rejects[0];
    assert!(
        r.location.starts_with(
            "/cXML/Request/InvoiceDetailRequest/InvoiceDetailSummary/DepositAmount (line "
        ),
        "{}",
        r.location
    );
    for said in [
        "prepaid deposit of 40.00 USD cannot be carried to Coupa",
        "NetAmount 100.00, DueAmount 60.00",
        "a line of its own with a negative amount",
        "unit price -40.00",
        "InvoiceDetailDiscount of 40.00",
        "leave DepositAmount out",
    ] {
        assert!(r.message.contains(said), "{said:?} not in {}", r.message);
    }
    assert_eq!(r.document.as_deref(), Some("payloadID qa-g7@acme"));
}

/// A deposit of zero (or an empty one) says nothing: the invoice is read as before.
#[test]
fn a_zero_or_empty_deposit_is_no_deposit() {
    let rich = std::fs::read_to_string(repo_root().join("samples/cxml/invoice/rich.xml")).unwrap();
    let plain = decode(&rich);
    assert!(plain.rejects.is_empty(), "{:?}", plain.rejects);
    for deposit in [
        r#"<DepositAmount><Money currency="USD">0.00</Money></DepositAmount>"#,
        r#"<DepositAmount><Money currency="USD"/></DepositAmount>"#,
    ] {
        let with = rich.replace("<DueAmount>", &format!("{deposit}<DueAmount>"));
        assert_ne!(with, rich);
        let d = decode(&with);
        assert!(d.rejects.is_empty(), "{deposit}: {:?}", d.rejects);
        assert_eq!(d.documents[0].document, plain.documents[0].document);
    }
}

/// What the refusal advises is taken, and adds up: the deposit as a negative line, the lines'
/// sum the amount due.
#[test]
fn the_deposit_sent_as_a_negative_line_adds_up_to_the_amount_due() {
    let d = decode(&invoice(DEPOSIT_LINE, "60.00", "60.00", ""));
    assert!(d.rejects.is_empty(), "{:?}", d.rejects);
    let doc = &d.documents[0].document;
    let Document::Invoice(inv) = doc else {
        panic!("{doc:?}")
    };
    assert_eq!(inv.total.map(|t| t.to_string()).as_deref(), Some("60.00"));
    // As the pipeline checks it for a partner whose profile names its Coupa supplier.
    let report = doc.validate_in(ValidationContext {
        supplier_from_partner: true,
        to_coupa: true,
        ..ValidationContext::default()
    });
    assert!(!report.has_errors(), "{:?}", report.problems);
    assert!(
        !report.problems.iter().any(|p| p.path == "$.total"),
        "{:?}",
        report.problems
    );
}
