//! QA's inputs with amounts past what a decimal holds (`tests/data/qa_overflow/`, as QA sent
//! them), and one with a line number twice, through the running service's HTTP endpoints and
//! `gateway validate`.
//!
//! QA: two line subtotals of 79228162514264337593543950335 (cXML `sumovf.xml`, JSON
//! `j_sumovf.json`) panicked validation: the endpoints answered 500 in plain text (no cXML
//! Status) and `gateway validate` crashed with exit 101. A quantity × price past it
//! (`j_mulovf.json`, `ovf1.xml`, `ovf2.xml`) skipped the line-amount check and was taken (202,
//! Coupa held the wrong quantity). Now each is refused at its line, 406 with a cXML Status or
//! 422 with the reject, and validate prints it and exits 1. A line number given twice
//! (`dupline.xml`) is taken with a note saying so.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use gateway_server::service::Running;
use serde_json::Value;

mod common;

/// Partner acme as QA's configuration has it: its REST token, its cXML credentials.
const PARTNERS: &str = r#"[[partners]]
id = "acme"
api_token = "acme-rest-token"
[partners.coupa_supplier]
number = "ACME-1"
[partners.cxml]
from_domain = "DUNS"
from_identity = "123456789"
to_domain = "NetworkID"
to_identity = "GLOBEX"
sender_domain = "DUNS"
sender_identity = "123456789"
shared_secret = "acme-shared-secret"
"#;

/// The largest decimal, which QA's sums went past.
const MAX: &str = "79228162514264337593543950335";

fn qa_input(name: &str) -> String {
    let path = format!(
        "{}/tests/data/qa_overflow/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// POSTs QA's input `name` to `path` (`/cxml`, or the REST API with acme's token): the
/// status and the body.
async fn post(running: &Running, path: &str, name: &str) -> (u16, String) {
    let mut request = reqwest::Client::new()
        .post(format!("{}{path}", running.base_url()))
        .body(qa_input(name));
    if path.starts_with("/api/") {
        request = request
            .bearer_auth("acme-rest-token")
            .header("content-type", "application/json");
    }
    let answer = request.send().await.unwrap();
    let status = answer.status().as_u16();
    (status, answer.text().await.unwrap())
}

#[tokio::test]
async fn amounts_past_what_a_decimal_holds_are_refused_at_their_line_by_every_endpoint() {
    let dir = tempfile::tempdir().unwrap();
    let running = common::started(common::config(dir.path(), "", PARTNERS)).await;

    // cXML: 406 with a cXML Status naming the line where the sum went past.
    let (status, body) = post(&running, "/cxml", "sumovf.xml").await;
    assert_eq!(status, 406, "{body}");
    assert!(
        body.contains("<Status code=\"406\"")
            && body.contains("$.lines[1].amount")
            && body.contains("more than an amount can hold")
            && body.contains(MAX),
        "{body}"
    );
    // A product past it: refused at the amount it cannot equal, or at the quantity.
    let (status, body) = post(&running, "/cxml", "ovf1.xml").await;
    assert_eq!(status, 406, "{body}");
    assert!(
        body.contains("$.lines[0].amount") && body.contains("does not equal quantity"),
        "{body}"
    );
    let (status, body) = post(&running, "/cxml", "ovf2.xml").await;
    assert_eq!(status, 406, "{body}");
    assert!(
        body.contains("$.lines[0].quantity") && body.contains("more than an amount can hold"),
        "{body}"
    );

    // REST: 422 with the reject at its path.
    for (name, path) in [
        ("j_sumovf.json", "$.lines[1].amount"),
        ("j_mulovf.json", "$.lines[0].amount"),
    ] {
        let (status, body) = post(&running, "/api/v1/documents", name).await;
        assert_eq!(status, 422, "{name}: {body}");
        let answer: Value = serde_json::from_str(&body).unwrap();
        let rejects = answer["rejects"].to_string();
        assert!(
            rejects.contains(path) && rejects.contains("more than an amount can hold"),
            "{name}: {body}"
        );
    }

    // The service took nothing of them and answers on: one line number twice is taken, with
    // a note at the line that repeats it.
    let (status, body) = post(&running, "/cxml", "dupline.xml").await;
    assert_eq!(status, 200, "{body}");
    let ledger = gateway_server::ledger::Ledger::open(&dir.path().join("ledger.sqlite")).unwrap();
    let rows = ledger
        .search(&gateway_server::ledger::DocumentFilter {
            partner: Some("acme"),
            limit: 100,
            ..Default::default()
        })
        .unwrap();
    let taken: Vec<(&str, &str)> = rows
        .iter()
        .map(|e| (e.number.as_str(), e.status.as_str()))
        .filter(|(_, status)| *status != "rejected")
        .collect();
    assert_eq!(taken.len(), 1, "{rows:?}");
    assert_eq!(taken[0].0, "QA-dupline");
    let dup = rows.iter().find(|e| e.number == "QA-dupline").unwrap();
    assert!(
        dup.notes.contains("$.lines[1].line_number") && dup.notes.contains("line number 1"),
        "{dup:?}"
    );
    running.shutdown().await;
}

/// `gateway validate` printed a panic and exited 101; now the located error, exit 1.
#[test]
fn validate_prints_the_overflow_at_its_line_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("sumovf.xml");
    std::fs::write(&input, qa_input("sumovf.xml")).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_gateway"))
        .arg("validate")
        .arg(&input)
        .output()
        .unwrap();
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(1), "{printed}");
    assert!(
        printed.contains("error: $.lines[1].amount")
            && printed.contains("more than an amount can hold")
            && printed.contains("InvoiceDetailItem[@invoiceLineNumber=\"2\"]"),
        "{printed}"
    );
    assert!(!printed.contains("panicked"), "{printed}");
}
