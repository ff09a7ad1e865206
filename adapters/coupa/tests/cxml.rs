//! cXML invoice delivery to the sandbox's `/cxml/invoices`: 200, duplicate 417, bad secret 401.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use adapter_coupa::CoupaError;

fn invoice_cxml(number: &str, secret: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE cXML SYSTEM "http://xml.cXML.org/schemas/cXML/1.2.020/InvoiceDetail.dtd">
<cXML payloadID="{number}@acme" timestamp="2025-04-30T11:45:51-07:00">
<Header><From><Credential domain="DUNS"><Identity>acme</Identity></Credential></From>
<To><Credential domain="NetworkID"><Identity>coupa</Identity></Credential></To>
<Sender><Credential domain="DUNS"><Identity>acme</Identity><SharedSecret>{secret}</SharedSecret></Credential>
<UserAgent>gateway</UserAgent></Sender></Header>
<Request deploymentMode="production"><InvoiceDetailRequest>
<InvoiceDetailRequestHeader invoiceID="{number}" purpose="standard" operation="new" invoiceDate="2025-04-30T11:45:51-07:00"/>
<InvoiceDetailOrder><InvoiceDetailOrderInfo><OrderReference><DocumentReference payloadID="PO-1"/></OrderReference></InvoiceDetailOrderInfo>
<InvoiceDetailItem invoiceLineNumber="1" quantity="2.00"><UnitOfMeasure>EA</UnitOfMeasure>
<UnitPrice><Money currency="USD">5.00</Money></UnitPrice>
<InvoiceDetailItemReference lineNumber="1"><Description xml:lang="en-US">Pens</Description></InvoiceDetailItemReference>
</InvoiceDetailItem></InvoiceDetailOrder>
<InvoiceDetailSummary><SubtotalAmount><Money currency="USD">10.00</Money></SubtotalAmount></InvoiceDetailSummary>
</InvoiceDetailRequest></Request></cXML>"#
    )
}

#[tokio::test]
async fn cxml_invoice_created_then_duplicate_refused() {
    let env = common::start().await;
    let c = common::client(&env);
    let ok = c
        .send_cxml_invoice(&invoice_cxml("CX-1", "acme-secret"))
        .await
        .unwrap();
    assert_eq!(ok.code, 200);
    let stored = env.sandbox.invoices();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0]["invoice-number"], "CX-1");
    assert_eq!(stored[0]["supplier"]["id"], env.supplier_id);
    assert_eq!(stored[0]["invoice-lines"][0]["description"], "Pens");

    let err = c
        .send_cxml_invoice(&invoice_cxml("CX-1", "acme-secret"))
        .await
        .unwrap_err();
    match &err {
        CoupaError::Cxml { code, message, .. } => {
            assert_eq!(*code, 417);
            assert!(message.contains("already been used"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    assert!(!err.is_retryable());
    assert_eq!(env.sandbox.invoices().len(), 1);
}

#[tokio::test]
async fn cxml_bad_secret_and_bad_document() {
    let env = common::start().await;
    let c = common::client(&env);
    let err = c
        .send_cxml_invoice(&invoice_cxml("CX-2", "nope"))
        .await
        .unwrap_err();
    assert!(matches!(err, CoupaError::Cxml { code: 401, .. }), "{err:?}");
    let err = c.send_cxml_invoice("<cXML><Request>").await.unwrap_err();
    assert!(matches!(err, CoupaError::Cxml { code: 406, .. }), "{err:?}");
    assert!(env.sandbox.invoices().is_empty());
}

#[tokio::test]
async fn cxml_server_error_is_retryable() {
    let env = common::start().await;
    let c = common::client(&env);
    env.sandbox.inject(gateway_sandbox::FaultSpec::new(
        "POST /cxml/invoices",
        gateway_sandbox::FaultKind::Status { status: 500 },
        1,
    ));
    let err = c
        .send_cxml_invoice(&invoice_cxml("CX-3", "acme-secret"))
        .await
        .unwrap_err();
    assert!(err.is_retryable(), "{err:?}");
}
