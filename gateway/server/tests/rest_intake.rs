//! What the running service does with canonical JSON a partner POSTs, through the real
//! pipeline, ledger and (embedded) bus: a broken line keeps none of the others back, a kind
//! the gateway does not take is refused per document while the rest goes on, a refused
//! document is kept and found under its number and doc id, and control characters or a key
//! named twice are refused at their path. The answer's status says whether anything was taken.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use gateway_server::service::Running;
use serde_json::{Value, json};

mod common;

const PARTNERS: &str = r#"[[partners]]
id = "acme"
api_token = "acme-token"
"#;

async fn started(dir: &std::path::Path) -> Running {
    common::started(common::config(dir, "", PARTNERS)).await
}

/// An invoice Coupa would take, numbered `number`.
fn invoice(number: &str) -> Value {
    json!({
        "schema_version": 1, "kind": "invoice", "invoice_number": number,
        "invoice_date": "2026-03-15", "currency": "USD",
        "supplier": {"name": "Acme Industrial Supply"},
        "lines": [{"line_number": 1, "description": "Widgets", "quantity": "2",
                   "unit_price": "250.00", "amount": "500.00"}],
        "subtotal": "500.00", "total": "500.00"
    })
}

fn purchase_order(number: &str) -> Value {
    json!({
        "schema_version": 1, "kind": "purchase_order", "po_number": number,
        "order_date": "2026-03-01", "currency": "USD",
        "supplier": {"name": "Acme Industrial Supply"},
        "lines": [{"line_number": 1, "description": "Gloves", "quantity": "10",
                   "uom": "EA", "unit_price": "12.50", "amount": "125.00"}],
        "total": "125.00"
    })
}

/// POSTs `body` as acme: the status and the JSON answer.
async fn post(running: &Running, body: impl Into<reqwest::Body>) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(format!("{}/api/v1/documents", running.base_url()))
        .bearer_auth("acme-token")
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// GETs `path` as acme: the JSON answer.
async fn get(running: &Running, path: &str) -> Value {
    reqwest::Client::new()
        .get(format!("{}{path}", running.base_url()))
        .bearer_auth("acme-token")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn numbers(answer: &Value, list: &str) -> Vec<String> {
    answer[list]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|d| {
                    d["number"]
                        .as_str()
                        .or(d["document"].as_str())
                        .unwrap_or("")
                        .to_string()
                })
                .collect()
        })
        .unwrap_or_default()
}

/// JSON Lines with a trailing comma on line 2 of 4: lines 3 and 4 used to appear nowhere
/// (not in the answer, the ledger or Coupa). Every line but the broken one is taken, the
/// broken one is rejected at its line, and the answer is 207: some taken, some not.
#[tokio::test]
async fn a_broken_json_line_keeps_none_of_the_others_back() {
    let dir = tempfile::tempdir().unwrap();
    let running = started(dir.path()).await;
    let body = format!(
        "{}\n{}\n{}\n{}\n",
        invoice("R1-1"),
        r#"{"schema_version":1,"kind":"invoice","invoice_number":"R1-2",}"#,
        invoice("R1-3"),
        invoice("R1-4")
    );
    let (status, answer) = post(&running, body).await;
    assert_eq!(status, 207, "{answer}");
    assert_eq!(
        numbers(&answer, "accepted"),
        ["R1-1", "R1-3", "R1-4"],
        "{answer}"
    );
    let rejects = answer["rejects"].as_array().unwrap();
    assert_eq!(rejects.len(), 1, "{answer}");
    let location = rejects[0]["location"].as_str().unwrap_or_default();
    assert!(location.starts_with("line 2 column "), "{answer}");
    assert!(rejects[0]["doc_id"].is_string(), "{answer}");
    for n in ["R1-3", "R1-4"] {
        let seen = get(&running, &format!("/api/v1/documents?number={n}")).await;
        assert_eq!(seen["documents"][0]["status"], "published", "{n}: {seen}");
    }
    running.shutdown().await;
}

/// A purchase order posted by a partner was answered 503 "the bus did not take it; send
/// again" for ever (no consumer is bound for `in.purchase_order.*`), and held back the
/// invoice sent with it. It is refused per document, saying what is taken; the invoice goes
/// on (207), and a PO alone is a 422, not a 503.
#[tokio::test]
async fn a_purchase_order_is_refused_per_document_and_the_invoice_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let running = started(dir.path()).await;
    let body = json!([invoice("MIXPO-1"), purchase_order("PO-7781")]).to_string();
    let (status, answer) = post(&running, body).await;
    assert_eq!(status, 207, "{answer}");
    assert_eq!(numbers(&answer, "accepted"), ["MIXPO-1"], "{answer}");
    let reject = &answer["rejects"][0];
    assert_eq!(reject["document"], "PO-7781", "{answer}");
    let message = reject["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("purchase_order is not taken") && message.contains("\"invoice\""),
        "{answer}"
    );
    let doc_id = reject["doc_id"].as_str().unwrap_or_default().to_string();
    let kept = get(&running, &format!("/api/v1/documents/{doc_id}")).await;
    assert_eq!(
        (&kept["kind"], &kept["number"], &kept["status"]),
        (
            &json!("purchase_order"),
            &json!("PO-7781"),
            &json!("rejected")
        ),
        "{kept}"
    );

    let (status, answer) = post(&running, purchase_order("PO-7782").to_string()).await;
    assert_eq!(status, 422, "{answer}");
    running.shutdown().await;
}

/// A document refused for one field (a price as a JSON number, a decimal with a comma, a
/// date it cannot read, a field it does not know) was kept as kind `unknown` without a
/// number, and the reject had `"document": null` and no doc id: neither the sender nor the
/// operators could find it by number. It is kept under its kind and number, and the reject
/// says both its number and its doc id.
#[tokio::test]
async fn a_refused_invoice_is_found_by_its_number_and_doc_id() {
    let dir = tempfile::tempdir().unwrap();
    let running = started(dir.path()).await;
    let cases: [(&str, &str, Value); 4] = [
        ("NUM-R6", "unit_price", json!(250.0)),
        ("DEC-R6", "unit_price", json!("2,50")),
        ("DATE-R6", "", json!("15/03/2026")),
        ("UNK-R6", "colour", json!("red")),
    ];
    for (number, field, value) in cases {
        let mut doc = invoice(number);
        match field {
            "" => doc["invoice_date"] = value,
            f => doc["lines"][0][f] = value,
        }
        let (status, answer) = post(&running, doc.to_string()).await;
        assert_eq!(status, 422, "{number}: {answer}");
        let reject = &answer["rejects"][0];
        assert_eq!(reject["document"], number, "{answer}");
        let doc_id = reject["doc_id"].as_str().unwrap_or_default();
        assert!(!doc_id.is_empty(), "{answer}");
        let kept = get(&running, &format!("/api/v1/documents/{doc_id}")).await;
        assert_eq!(kept["kind"], "invoice", "{kept}");
        let found = get(&running, &format!("/api/v1/documents?number={number}")).await;
        assert_eq!(found["documents"][0]["doc_id"], doc_id, "{found}");
        assert_eq!(found["documents"][0]["status"], "rejected", "{found}");
        let rows = running.ledger.list(Some(number), None, 10).unwrap();
        assert_eq!(rows.len(), 1, "{rows:?}");
        assert_eq!(rows[0].kind, "invoice", "{rows:?}");
    }
    running.shutdown().await;
}

/// NUL and BEL in a description reached Coupa; a key named twice was delivered with its
/// second value. Both are refused at their path, under the invoice's number.
#[tokio::test]
async fn control_characters_and_a_key_named_twice_are_refused_at_their_path() {
    let dir = tempfile::tempdir().unwrap();
    let running = started(dir.path()).await;
    let mut doc = invoice("ENC-CTRL");
    doc["lines"][0]["description"] = json!("Wid\u{0}gets\u{7}");
    let (status, answer) = post(&running, doc.to_string()).await;
    assert_eq!(status, 422, "{answer}");
    let reject = &answer["rejects"][0];
    assert_eq!(
        reject["location"], "document 1, $.lines[0].description",
        "{answer}"
    );
    assert!(
        reject["message"]
            .as_str()
            .is_some_and(|m| m.contains("U+0000 (NUL)")),
        "{answer}"
    );

    let twice = invoice("DK-1").to_string();
    let twice = format!(
        "{},\"invoice_number\":\"DK-2\"}}",
        &twice[..twice.len() - 1]
    );
    let (status, answer) = post(&running, twice).await;
    assert_eq!(status, 422, "{answer}");
    let reject = &answer["rejects"][0];
    assert_eq!(reject["location"], "$.invoice_number", "{answer}");
    assert_eq!(reject["document"], "DK-1", "{answer}");
    running.shutdown().await;
}

/// The kinds validation lets a partner send are the kinds the bus routes inbound: a kind
/// taken but not routed would be answered "send again" for ever, one routed but refused
/// would never arrive.
#[test]
fn the_kinds_partners_may_send_are_the_kinds_the_bus_routes_inbound() {
    let dir = tempfile::tempdir().unwrap();
    let topology = gateway_server::bus::topology(&common::config(dir.path(), "", PARTNERS).bus);
    let routed: Vec<String> = topology
        .consumers
        .iter()
        .flat_map(|c| c.bindings.iter())
        .filter_map(|b| {
            b.strip_prefix("in.")?
                .strip_suffix(".*")
                .map(str::to_string)
        })
        .collect();
    let taken: Vec<String> = gateway_model::PARTNER_KINDS
        .iter()
        .map(|k| k.as_str().to_string())
        .collect();
    assert_eq!(routed, taken);
}
