//! Documents over a limit, on the whole path (the Coupa sandbox, the running service, the
//! `gateway` binary): the one who can act is told which limit it is and what to do, and the
//! document is kept where operators look, under its partner. An invoice of more lines than
//! Coupa takes is refused in the sender's answer, not accepted and then lost at Coupa; a Coupa
//! PO of more lines than the gateway takes is kept as rejected under its supplier's partner.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;
use std::time::Duration;

use gateway_model::{COUPA_MAX_INVOICE_LINES, Decimal, Document};
use gateway_server::demo::{ACME, DemoEnv, DemoOptions};

mod common;

/// Longest wait for the service to poll Coupa.
const GUARD: Duration = Duration::from_secs(60);

/// The demo invoice `number` with `lines` lines of one unit at 1.00, its totals to match, and
/// nothing else Coupa would refuse.
fn invoice_of_lines(number: &str, lines: usize) -> gateway_model::Invoice {
    let mut inv = DemoEnv::invoice(number).unwrap();
    let mut line = inv.lines[2].clone();
    line.quantity = Some(Decimal::ONE);
    line.unit_price = Some(Decimal::new(100, 2));
    line.amount = Some(Decimal::new(100, 2));
    line.po_line_number = None;
    inv.lines = (1..=lines)
        .map(|n| {
            let mut l = line.clone();
            l.line_number = u32::try_from(n).unwrap();
            l
        })
        .collect();
    inv.charges.clear();
    inv.taxes.clear();
    inv.tax_total = None;
    let sum = Decimal::new(i64::try_from(lines).unwrap() * 100, 2);
    inv.subtotal = Some(sum);
    inv.total = Some(sum);
    inv
}

/// QA: a cXML invoice of 6,000 lines was answered 200 "accepted", then died at Coupa ("too
/// many lines"), and `gateway validate --partner` passed it. The sender's answer refuses it
/// now, saying Coupa's limit and what to do; it is kept as rejected, nothing reaches Coupa,
/// and `validate --partner` says the same.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cxml_invoice_of_more_lines_than_coupa_takes_is_refused_in_its_answer() {
    let env = DemoEnv::start(DemoOptions::default()).await.unwrap();
    let lines = COUPA_MAX_INVOICE_LINES + 1;
    let inv = invoice_of_lines("QA-LINES-1", lines);
    let said = format!(
        "the invoice has {lines} lines; Coupa takes at most {COUPA_MAX_INVOICE_LINES} on one \
         invoice: send it as several invoices of at most {COUPA_MAX_INVOICE_LINES} lines each"
    );
    let (status, answer) = env.post_cxml(ACME, &inv).await.unwrap();
    assert!((400..500).contains(&status), "{status}: {answer}");
    assert!(answer.contains(&said), "{answer}");
    let rows = env
        .running
        .ledger
        .list(Some("QA-LINES-1"), None, 10)
        .unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(
        (rows[0].status.as_str(), rows[0].partner.as_str()),
        ("rejected", ACME)
    );
    assert!(rows[0].detail.contains(&said), "{}", rows[0].detail);
    assert!(!env.coupa_invoice_numbers().contains(&"QA-LINES-1".into()));

    // `gateway validate --partner` on the same cXML, as the supplier would check it first.
    let body = env
        .codecs
        .encoder(gateway_core::Format::Cxml)
        .unwrap()
        .encode(&[Document::Invoice(inv)], env.partner(ACME).unwrap())
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("many.xml");
    std::fs::write(&file, body).unwrap();
    let profile = dir.path().join("acme.partner.toml");
    std::fs::write(&profile, "id = \"acme\"\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_gateway"))
        .arg("validate")
        .arg(&file)
        .arg("--partner")
        .arg(&profile)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains(&format!("error: $.lines: {said}")),
        "{stdout}"
    );
    env.shutdown().await.unwrap();
}

/// QA: a Coupa PO of more than 10,000 lines (its supplier Acme's) became `rejected`
/// "mapping: purchase order has more than 10000 lines", counted under partner `(unknown)` in
/// `gateway partners`, and said neither that the limit is the gateway's own nor what to do.
/// It is kept under the supplier's partner now, saying both.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_coupa_po_of_more_lines_than_the_gateway_takes_is_rejected_under_its_supplier() {
    let env = DemoEnv::start(DemoOptions::default()).await.unwrap();
    let acme = common::demo_acme(&env.sandbox);
    let mut po = gateway_sandbox::demo::sample_purchase_order("QA-BIGPO-1", acme);
    let line = po["order-lines"][0].clone();
    let lines: Vec<serde_json::Value> = (1..=10_001)
        .map(|n| {
            let mut l = line.clone();
            l["line-num"] = serde_json::json!(n);
            l
        })
        .collect();
    po["order-lines"] = serde_json::Value::Array(lines);
    env.sandbox.add_purchase_order(po).unwrap();
    let rejected = |e: &DemoEnv| {
        e.running
            .ledger
            .list(Some("QA-BIGPO-1"), Some("rejected"), 10)
            .unwrap()
    };
    assert!(
        env.wait_until(GUARD, |e| !rejected(e).is_empty()).await,
        "{:?}",
        env.running.ledger.list(Some("QA-BIGPO-1"), None, 10)
    );
    let rows = rejected(&env);
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(
        (rows[0].partner.as_str(), rows[0].kind.as_str()),
        (ACME, "purchase_order"),
        "{rows:?}"
    );
    for said in [
        "purchase order has 10001 lines, more than the 10000 the gateway takes on one order",
        "its own fixed limit, not Coupa's",
        "send it to the supplier another way, or split the order in Coupa",
    ] {
        assert!(
            rows[0].detail.contains(said),
            "{said:?}: {}",
            rows[0].detail
        );
    }
    // `gateway partners` counts it under acme, and nothing under `(unknown)`.
    let summaries = env.running.ledger.partner_summaries().unwrap();
    let of = |p: &str| summaries.iter().find(|s| s.partner == p);
    assert_eq!(of(ACME).map(|s| s.rejected), Some(1), "{summaries:?}");
    assert!(of("(unknown)").is_none(), "{summaries:?}");
    env.shutdown().await.unwrap();
}
