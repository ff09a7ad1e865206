//! An invoice naming another Coupa supplier than its sender's profile is refused at intake.
//!
//! QA: from partner acme (`[partners.coupa_supplier] number = "ACME-1"`), a CSV invoice row
//! saying `Supplier Number: RIVAL-1`, `Supplier Name: Rival Corp` was delivered as a Coupa
//! invoice of ACME-1 with no note: delivery books an invoice to its partner's supplier,
//! whatever the document names. Such a document is refused where the sender reads it (REST
//! reject, X12 997, the validation every inbound path runs), naming the supplier the document
//! names and the one the partner is configured as. A name alone differing is a note: trading
//! names vary.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use gateway_core::{Format, PartnerProfile};
use gateway_server::codecs::Codecs;
use gateway_server::service::Running;
use serde_json::{Value, json};

const ACME: &str = r#"id = "acme"
api_token = "acme-token"
[coupa_supplier]
number = "ACME-1"
name = "Acme Industrial Supply"
"#;

fn acme() -> PartnerProfile {
    PartnerProfile::from_toml(ACME, "acme.toml").unwrap()
}

mod common;

async fn started(dir: &std::path::Path) -> Running {
    common::started(common::config(
        dir,
        "",
        &format!("[[partners]]\n{}", partners_section()),
    ))
    .await
}

/// acme's profile as a `[[partners]]` entry of the configuration.
fn partners_section() -> String {
    ACME.replace("[coupa_supplier]", "[partners.coupa_supplier]")
}

/// An invoice Coupa would take, its supplier `supplier`.
fn invoice(number: &str, supplier: Value) -> Value {
    json!({
        "schema_version": 1, "kind": "invoice", "invoice_number": number,
        "invoice_date": "2026-11-23", "currency": "USD", "supplier": supplier,
        "lines": [{"line_number": 1, "description": "Consulting", "quantity": "1",
                   "unit_price": "999.00", "amount": "999.00"}],
        "total": "999.00"
    })
}

async fn post(running: &Running, body: Value) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(format!("{}/api/v1/documents", running.base_url()))
        .bearer_auth("acme-token")
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// The refusal names what the document names and what the partner is configured as.
fn names_both(message: &str) {
    assert!(
        message.contains("supplier number \"RIVAL-1\"")
            && message.contains("\"Rival Corp\"")
            && message.contains("partner acme")
            && message.contains("number \"ACME-1\""),
        "{message}"
    );
}

/// Over REST: another supplier number is rejected; the partner's own number under another
/// trading name, and a name alone, are taken.
#[tokio::test]
async fn rest_refuses_an_invoice_naming_another_coupa_supplier() {
    let dir = tempfile::tempdir().unwrap();
    let running = started(dir.path()).await;
    let rival =
        json!({"name": "Rival Corp", "ids": [{"domain": "coupa-number", "value": "RIVAL-1"}]});
    let (status, answer) = post(&running, invoice("QA-RIVAL-1", rival)).await;
    assert_eq!(status, 422, "{answer}");
    let message = answer["rejects"][0]["message"].as_str().unwrap_or_default();
    names_both(message);

    let own = json!({"name": "Acme Industrial Supply Inc", "ids": [{"domain": "coupa-number", "value": "ACME-1"}]});
    let (status, answer) = post(&running, invoice("QA-OWN-1", own)).await;
    assert!((200..300).contains(&status), "{status} {answer}");

    let named = json!({"name": "Rival Corp"});
    let (status, answer) = post(&running, invoice("QA-NAMED-1", named)).await;
    assert!((200..300).contains(&status), "{status} {answer}");
    assert!(answer.to_string().contains("names vary"), "{answer}");
    running.shutdown().await;
}

/// QA's own input: the CSV row of partner acme saying `Supplier Number: RIVAL-1`, as every
/// inbound path (mail, file drop) validates it.
#[test]
fn qas_csv_row_naming_rival_is_refused_for_acme() {
    let csv = "Invoice,Invoice Number*,Supplier Name,Supplier Number,Invoice Date*,Currency,Invoice Control Total,Chart of Accounts*\n\
               Invoice Line,Invoice Number*,Supplier Name,Line Number,Description*,Supplier Part Number,Price*,Quantity,Unit of Measure*,PO Number,PO Line Number\n\
               Invoice,QA-RIVAL-1,Rival Corp,RIVAL-1,2026-11-23,USD,999.00,US COA\n\
               Invoice Line,QA-RIVAL-1,Rival Corp,1,Consulting,C1,999.00,1,EA,,\n";
    let partner = acme();
    let decoded = Codecs::standard()
        .decoder(Format::Csv)
        .unwrap()
        .decode(csv.as_bytes(), &partner);
    assert!(decoded.rejects.is_empty(), "{:?}", decoded.rejects);
    let [doc] = decoded.documents.as_slice() else {
        panic!("one invoice: {:?}", decoded.documents)
    };
    let report = doc.document.validate_in(partner.validation_context());
    let refusals: Vec<_> = report.errors().filter(|p| p.path == "$.supplier").collect();
    assert_eq!(refusals.len(), 1, "{:?}", report.problems);
    names_both(&refusals[0].message);

    // The same row with the partner's own number is taken.
    let own = csv.replace(",RIVAL-1,", ",ACME-1,");
    let decoded = Codecs::standard()
        .decoder(Format::Csv)
        .unwrap()
        .decode(own.as_bytes(), &partner);
    let report = decoded.documents[0]
        .document
        .validate_in(partner.validation_context());
    assert!(
        !report.errors().any(|p| p.path == "$.supplier"),
        "{:?}",
        report.problems
    );
}

/// An 810 naming RIVAL-1 as its supplier (`REF*ZZ*RIVAL-1*coupa-number` in the N1*SU loop)
/// is rejected in its 997 at the supplier's N1, never acknowledged as accepted.
#[test]
fn an_810_naming_another_coupa_supplier_is_rejected_in_its_997() {
    let x12 = "ISA*00*          *00*          *ZZ*ACMESUPPLY     *ZZ*GLOBEXCORP     *261123*1030*U*00401*000000043*0*P*>~\
               GS*IN*ACMESUPPLY*GLOBEXCORP*20261123*1030*43*X*004010~\
               ST*810*0001~\
               BIG*20261123*QA-RIVAL-2~\
               CUR*SE*USD~\
               N1*SU*Rival Corp*92*RIVAL-1~\
               REF*ZZ*RIVAL-1*coupa-number~\
               IT1*1*1*EA*999**VP*C1~\
               PID*F****Consulting~\
               TDS*99900~\
               CTT*1~\
               SE*10*0001~\
               GE*1*43~\
               IEA*1*000000043~";
    let ack = adapter_x12::acknowledge(x12.as_bytes(), &acme());
    let text = String::from_utf8(ack).unwrap();
    assert!(text.contains("AK5*R"), "{text}");
    assert!(text.contains("AK3*N1*"), "at the supplier's N1: {text}");
    let own = x12.replace("RIVAL-1", "ACME-1");
    let text = String::from_utf8(adapter_x12::acknowledge(own.as_bytes(), &acme())).unwrap();
    assert!(text.contains("AK5*A"), "{text}");
}
