//! What lets an operator follow one document through what the gateway says (QA, day two): the
//! PO poller's log lines carry the document's doc id and adapter, as the delivery's lines do;
//! `gateway dlq list --json` carries the document's number, as the text form does; and a PO the
//! supplier was sent that Coupa lists as not exported again is marked exported again and said
//! so once, where it was skipped at every poll without a sign. The whole path: the Coupa
//! sandbox over HTTP, the running service, the `gateway` binary.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use gateway_server::demo::{DemoEnv, DemoOptions};
use serde_json::Value;

mod common;

/// Longest wait for the service to poll, deliver and mark.
const GUARD: Duration = Duration::from_secs(60);

/// The lines logged so far that contain every one of `parts`.
fn lines_with(parts: &[&str]) -> Vec<String> {
    common::logged()
        .lines()
        .filter(|l| parts.iter().all(|p| l.contains(p)))
        .map(str::to_string)
        .collect()
}

/// The ledger row of PO `number` (one version), once delivered.
fn delivered_row(env: &DemoEnv, number: &str) -> Option<gateway_server::ledger::Entry> {
    let rows = env.running.ledger.list(Some(number), None, 10).ok()?;
    match rows.as_slice() {
        [row] if row.status == "delivered" => Some(row.clone()),
        _ => None,
    }
}

/// QA: after PO v1 was delivered and marked exported, `PUT /api/purchase_orders/:id?
/// exported=false` left Coupa saying "not exported" for good: the poller skipped the version
/// it had claimed at every poll, logging nothing. It marks it exported again now (the
/// supplier has that version), once, with a line naming the PO, its version and `gateway
/// resend`, and sends nothing twice. The line the poller logs when it queued the PO carries
/// its doc id and adapter, as the delivery's do (QA: it had neither).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivered_po_coupa_lists_unexported_again_is_marked_exported_again_and_said_once() {
    common::logs();
    let env = DemoEnv::start(DemoOptions::default()).await.unwrap();
    let id = common::add_acme_po(&env.sandbox, "PO-AGAIN-1");
    assert!(
        env.wait_until(GUARD, |e| delivered_row(e, "PO-AGAIN-1").is_some()
            && e.sandbox.purchase_order_exported("PO-AGAIN-1"))
            .await,
        "{:?}",
        env.running.ledger.list(Some("PO-AGAIN-1"), None, 10)
    );
    let row = delivered_row(&env, "PO-AGAIN-1").unwrap();

    let queued = lines_with(&[
        "purchase order queued for the supplier",
        "po_number=PO-AGAIN-1",
    ]);
    assert_eq!(queued.len(), 1, "{queued:?}");
    assert!(
        queued[0].contains(&format!("doc_id={}", row.doc_id))
            && queued[0].contains("adapter=coupa"),
        "{}",
        queued[0]
    );

    // An operator, or a Coupa integration, sets the flag back, over Coupa's API.
    let client = adapter_coupa::CoupaClient::new(gateway_server::coupa_link::client_config(
        &env.config.coupa,
    ))
    .unwrap();
    client.set_exported(id, false).await.unwrap();
    assert!(!env.sandbox.purchase_order_exported("PO-AGAIN-1"));
    assert!(
        env.wait_until(GUARD, |e| e.sandbox.purchase_order_exported("PO-AGAIN-1"))
            .await,
        "still not exported in Coupa: {:?}",
        lines_with(&["PO-AGAIN-1"])
    );
    let said = lines_with(&[
        "Coupa listed purchase order PO-AGAIN-1 version 1 as not exported",
        "marked exported again",
    ]);
    assert_eq!(said.len(), 1, "{said:?}");
    assert!(
        said[0].contains(&format!("`gateway resend {}`", row.doc_id))
            && said[0].contains(&format!("doc_id={}", row.doc_id))
            && said[0].contains("adapter=coupa"),
        "{}",
        said[0]
    );
    // The supplier was sent the PO once; the ledger row is as it was.
    let sent: Vec<_> = env
        .sandbox
        .supplier_received()
        .into_iter()
        .filter(|r| r.order_id.as_deref() == Some("PO-AGAIN-1"))
        .collect();
    assert_eq!(sent.len(), 1, "{sent:?}");
    let now = delivered_row(&env, "PO-AGAIN-1").unwrap();
    assert_eq!(
        (now.doc_id, now.idempotency_key),
        (row.doc_id, row.idempotency_key)
    );
    env.shutdown().await.unwrap();
}

/// QA: `gateway dlq list` prints `invoice INV-2026-0042`, its `--json` had no number at all.
/// The JSON carries it now, beside the fields it had.
#[test]
fn dlq_list_json_carries_the_documents_number() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("gateway.toml");
    std::fs::write(
        &cfg,
        gateway_server::demo::config_text(dir.path(), "http://127.0.0.1:9", None, "joins"),
    )
    .unwrap();
    let doc_id = common::dead_invoice(&cfg, "acme");
    let list = |json: bool| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_gateway"));
        cmd.args(["dlq", "list", "--consumer", "coupa-invoices"]);
        if json {
            cmd.arg("--json");
        }
        let out = cmd.arg("--config").arg(&cfg).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let text = list(false);
    assert!(text.contains("invoice INV-2026-0042"), "{text}");
    let json = list(true);
    let letters: Vec<Value> = json
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let [letter] = letters.as_slice() else {
        panic!("{json}");
    };
    assert_eq!(letter["number"], "INV-2026-0042", "{letter}");
    assert_eq!(letter["doc_id"], doc_id.as_str(), "{letter}");
    assert_eq!(letter["kind"], "invoice", "{letter}");
}
