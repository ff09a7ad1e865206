//! What `gateway documents` and `gateway partners` tell an operator about Coupa POs that were
//! not sent on purpose: one cancelled in Coupa before any version went to the supplier, and one
//! its supplier's Coupa record leaves to Coupa (`po-method` prompt). Each runs the whole path:
//! the Coupa sandbox holds the PO, the running service polls and delivers it, and the
//! `gateway` binary reads the ledger the service wrote, as an operator would.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;
use std::time::Duration;

use gateway_server::demo::{ACME, DemoEnv, DemoOptions};
use serde_json::Value;

/// Longest wait for the service to poll and deliver.
const GUARD: Duration = Duration::from_secs(60);

/// `gateway <args> --config <the env's configuration>`: its standard output, after checking it
/// succeeded.
fn gateway(env: &DemoEnv, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_gateway"))
        .args(args)
        .arg("--config")
        .arg(env.config_path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "gateway {args:?}: {}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// `partner`'s line of `gateway partners --json`.
fn partner_json(env: &DemoEnv, partner: &str) -> Value {
    let out = gateway(env, &["partners", "--json"]);
    out.lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|v| v["partner"] == partner)
        .unwrap_or_else(|| panic!("no {partner} in:\n{out}"))
}

/// The cell of column `name` in `partner`'s row of the `gateway partners` table. Cells are
/// single words; the header's two-word labels (`on way`, `overdue 997`, `last activity`) are
/// joined first so the header's words line up with the row's.
fn cell(table: &str, partner: &str, name: &str) -> String {
    let mut lines = table.lines();
    let header = lines
        .next()
        .unwrap()
        .replace("on way", "on_way")
        .replace("overdue 997", "overdue_997")
        .replace("last activity", "last_activity");
    let at = header
        .split_whitespace()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column {name} in: {header}"));
    let row = lines
        .find(|l| l.split_whitespace().next() == Some(partner))
        .unwrap_or_else(|| panic!("no {partner} in:\n{table}"));
    row.split_whitespace()
        .nth(at)
        .unwrap_or_else(|| panic!("no {name} cell in: {row}"))
        .to_string()
}

/// The ledger status of the one row of PO `number`, once it left `received`/`published`.
fn settled_status(env: &DemoEnv, number: &str) -> Option<String> {
    let rows = env.running.ledger.list(Some(number), None, 10).ok()?;
    let [row] = rows.as_slice() else {
        return None;
    };
    (!matches!(row.status.as_str(), "received" | "published")).then(|| row.status.clone())
}

/// QA: a PO the buyer cancelled in Coupa before the gateway sent any version of it was listed
/// `delivered` and counted delivered for its supplier, though the supplier never heard of it.
/// It is `cancelled_unsent` now, in `gateway documents` and in its own column of `gateway
/// partners`, and only the PO actually sent counts as delivered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_po_cancelled_before_any_version_was_sent_is_not_counted_delivered() {
    let env = DemoEnv::start(DemoOptions::default()).await.unwrap();
    let acme = env
        .sandbox
        .suppliers()
        .iter()
        .find(|s| s["number"] == "ACME-1")
        .and_then(|s| s["id"].as_u64())
        .unwrap();
    let mut cancelled = gateway_sandbox::demo::sample_purchase_order("PO-CXL-1", acme);
    cancelled["status"] = serde_json::json!("cancelled");
    env.sandbox.add_purchase_order(cancelled).unwrap();
    env.sandbox
        .add_purchase_order(gateway_sandbox::demo::sample_purchase_order(
            "PO-SENT-1",
            acme,
        ))
        .unwrap();
    assert!(
        env.wait_until(GUARD, |e| settled_status(e, "PO-CXL-1").is_some()
            && settled_status(e, "PO-SENT-1").is_some())
            .await,
        "{:?}",
        env.running.ledger.list(None, None, 10)
    );
    assert_eq!(
        settled_status(&env, "PO-SENT-1").as_deref(),
        Some("delivered")
    );
    assert_eq!(
        settled_status(&env, "PO-CXL-1").as_deref(),
        Some("cancelled_unsent")
    );
    // The supplier got the one order it was sent, nothing of the cancelled one.
    let received: Vec<_> = env
        .sandbox
        .supplier_received()
        .into_iter()
        .map(|r| r.order_id)
        .collect();
    assert_eq!(received, [Some("PO-SENT-1".to_string())]);

    let listed = gateway(&env, &["documents", "--number", "PO-CXL-1"]);
    assert!(
        listed.contains("cancelled_unsent  acme  purchase_order  PO-CXL-1")
            && listed.contains("not sent: the PO was cancelled before any version of it went")
            && !listed.contains("delivered"),
        "{listed}"
    );
    let by_status = gateway(&env, &["documents", "--status", "cancelled_unsent"]);
    assert!(
        by_status.contains("PO-CXL-1") && !by_status.contains("PO-SENT-1"),
        "{by_status}"
    );

    let row = partner_json(&env, ACME);
    assert_eq!(
        (&row["delivered"], &row["cancelled_unsent"]),
        (&serde_json::json!(1), &serde_json::json!(1)),
        "{row}"
    );
    let table = gateway(&env, &["partners"]);
    assert_eq!(
        (
            cell(&table, ACME, "delivered"),
            cell(&table, ACME, "cancelled_unsent")
        ),
        ("1".to_string(), "1".to_string()),
        "{table}"
    );
    env.shutdown().await.unwrap();
}

/// QA: a PO kept `awaiting_operator` (its supplier's Coupa record says `po-method` prompt, so
/// the gateway does not send it) was counted in none of `gateway partners`' columns, so the
/// partners view showed nothing waiting. It has a column of its own now, and a hint saying
/// where to read why and what sends it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_po_awaiting_the_operator_is_counted_in_the_partners_view() {
    let env = DemoEnv::start(DemoOptions::default()).await.unwrap();
    let hooli = gateway_sandbox::demo::add_supplier_with_po(
        &env.sandbox,
        serde_json::json!({"name": "Hooli", "number": "HOOLI-3", "po-method": "prompt"}),
        "PO-HOOLI-1",
    )
    .unwrap();
    let partner = format!("coupa-supplier-{hooli}");
    assert!(
        env.wait_until(GUARD, |e| settled_status(e, "PO-HOOLI-1").is_some())
            .await
    );
    assert_eq!(
        settled_status(&env, "PO-HOOLI-1").as_deref(),
        Some("awaiting_operator")
    );

    let row = partner_json(&env, &partner);
    assert_eq!(row["documents"], 1, "{row}");
    assert_eq!(row["awaiting_operator"], 1, "{row}");
    assert_eq!(row["delivered"], 0, "{row}");

    let table = gateway(&env, &["partners"]);
    assert_eq!(cell(&table, &partner, "awaiting_operator"), "1", "{table}");
    assert_eq!(cell(&table, &partner, "delivered"), "0", "{table}");
    let hint = format!(
        "hint: {partner}: 1 purchase order(s) wait for the operator, not sent: its Coupa supplier record leaves them to Coupa (gateway documents --partner {partner} --status awaiting_operator"
    );
    assert!(table.contains(&hint), "{table}");
    env.shutdown().await.unwrap();
}
