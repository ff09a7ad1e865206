//! What `gateway documents` and `gateway partners` tell an operator about Coupa POs that were
//! not sent on purpose: one cancelled in Coupa before any version went to the supplier, and one
//! its supplier's Coupa record leaves to Coupa (`po-method` prompt). Each runs the whole path:
//! the Coupa sandbox holds the PO, the running service polls and delivers it, and the
//! `gateway` binary reads the ledger the service wrote, as an operator would.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use gateway_server::demo::{ACME, DemoEnv, DemoOptions};
use serde_json::Value;

mod common;

/// Longest wait for the service to poll and deliver.
const GUARD: Duration = Duration::from_secs(60);

/// `partner`'s line of `gateway partners --json`.
fn partner_json(env: &DemoEnv, partner: &str) -> Value {
    let out = common::gateway_ok(env, &["partners", "--json"]);
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
    let acme = common::demo_acme(&env.sandbox);
    let mut cancelled = gateway_sandbox::demo::sample_purchase_order("PO-CXL-1", acme);
    cancelled["status"] = serde_json::json!("cancelled");
    env.sandbox.add_purchase_order(cancelled).unwrap();
    common::add_acme_po(&env.sandbox, "PO-SENT-1");
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

    let listed = common::gateway_ok(&env, &["documents", "--number", "PO-CXL-1"]);
    assert!(
        listed.contains("cancelled_unsent  acme  purchase_order  PO-CXL-1")
            && listed.contains("not sent: the PO was cancelled before any version of it went")
            && !listed.contains("delivered"),
        "{listed}"
    );
    let by_status = common::gateway_ok(&env, &["documents", "--status", "cancelled_unsent"]);
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
    let table = common::gateway_ok(&env, &["partners"]);
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

    let table = common::gateway_ok(&env, &["partners"]);
    assert_eq!(cell(&table, &partner, "awaiting_operator"), "1", "{table}");
    assert_eq!(cell(&table, &partner, "delivered"), "0", "{table}");
    let hint = format!(
        "hint: {partner}: 1 purchase order(s) wait for the operator, not sent: left to Coupa by its Coupa supplier record (po-method prompt, ...) or by a profile without [partners.outbound] (gateway documents --partner {partner} --status awaiting_operator"
    );
    assert!(table.contains(&hint), "{table}");
    env.shutdown().await.unwrap();
}

/// The ledger status of the row under `key`.
fn status_of(env: &DemoEnv, key: &str) -> Option<String> {
    env.running
        .ledger
        .entry(key)
        .ok()
        .flatten()
        .map(|e| e.status)
}

/// Waits until the row under `key` is `delivered` and Coupa holds the PO marked exported (so
/// the next buyer's change is a version of its own).
async fn wait_delivered(env: &DemoEnv, key: &str, number: &str) {
    assert!(
        env.wait_until(GUARD, |e| status_of(e, key).as_deref() == Some("delivered")
            && e.sandbox.purchase_order_exported(number))
            .await,
        "{key}: {:?}",
        env.running.ledger.list(Some(number), None, 10)
    );
}

/// QA (item 10): one PO sent as its order, a change and its cancellation showed three
/// identical "delivered … cXML 200 OK" rows in `gateway documents` and in the partner's
/// status API; only `--json` had the key, so nobody could tell whether the cancellation went.
/// Each row now says which version it is and whether it is the order, a change or the
/// cancellation, in the table, in `--json` and in the partner API (whose fields stay).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_po_row_says_its_version_and_whether_it_is_the_order_a_change_or_the_cancellation() {
    let env = DemoEnv::start(DemoOptions::default()).await.unwrap();
    let id = common::add_acme_po(&env.sandbox, "QA-CX-1");
    wait_delivered(&env, &format!("coupa-po:{id}:v1"), "QA-CX-1").await;
    assert!(env.sandbox.revise_purchase_order(id));
    wait_delivered(&env, &format!("coupa-po:{id}:v2"), "QA-CX-1").await;
    assert!(env.sandbox.cancel_purchase_order(id));
    wait_delivered(&env, &format!("coupa-po:{id}:v2:cancel"), "QA-CX-1").await;
    let types: Vec<_> = env
        .sandbox
        .supplier_received()
        .into_iter()
        .filter(|r| r.order_id.as_deref() == Some("QA-CX-1"))
        .filter_map(|r| r.order_type)
        .collect();
    assert_eq!(types, ["new", "update", "delete"]);

    // The table: one line per row, each naming what it is.
    let listed = common::gateway_ok(&env, &["documents", "--number", "QA-CX-1"]);
    let line = |what: &str| {
        listed
            .lines()
            .filter(|l| l.contains(&format!("purchase_order  QA-CX-1  {what}  (doc ")))
            .count()
    };
    assert_eq!(
        (
            line("version 1: order"),
            line("version 2: change"),
            line("version 2: cancellation")
        ),
        (1, 1, 1),
        "{listed}"
    );

    // `--json`: the fields that were there, and the version beside them.
    let json = common::gateway_ok(&env, &["documents", "--number", "QA-CX-1", "--json"]);
    let mut seen: Vec<(String, Value)> = json
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .map(|v| {
            assert_eq!(v["status"], "delivered", "{v}");
            (
                v["idempotency_key"].as_str().unwrap().to_string(),
                v["purchase_order"].clone(),
            )
        })
        .collect();
    seen.sort_by(|a, b| a.0.cmp(&b.0));
    let expected = vec![
        (
            format!("coupa-po:{id}:v1"),
            serde_json::json!({"version": 1, "purpose": "order"}),
        ),
        (
            format!("coupa-po:{id}:v2"),
            serde_json::json!({"version": 2, "purpose": "change"}),
        ),
        (
            format!("coupa-po:{id}:v2:cancel"),
            serde_json::json!({"version": 2, "purpose": "cancellation"}),
        ),
    ];
    assert_eq!(seen, expected, "{json}");

    // The partner API: the supplier's own view of the same rows.
    let answer: Value = reqwest::Client::new()
        .get(format!(
            "{}/api/v1/documents?number=QA-CX-1",
            env.running.base_url()
        ))
        .bearer_auth("acme-token")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let documents = answer["documents"].as_array().unwrap();
    let mut views: Vec<Value> = documents
        .iter()
        .map(|d| {
            for field in ["doc_id", "kind", "number", "status", "detail", "updated_at"] {
                assert!(d.get(field).is_some(), "{field} missing in {d}");
            }
            assert_eq!(d["status"], "delivered", "{d}");
            d["purchase_order"].clone()
        })
        .collect();
    views.sort_by_key(|v| {
        (
            v["version"].as_u64(),
            v["purpose"].as_str().map(String::from),
        )
    });
    assert_eq!(
        views,
        [
            serde_json::json!({"version": 1, "purpose": "order"}),
            serde_json::json!({"version": 2, "purpose": "cancellation"}),
            serde_json::json!({"version": 2, "purpose": "change"}),
        ],
        "{answer}"
    );
    env.shutdown().await.unwrap();
}

/// The first RFC 3339 time in `text` (a word, trailing punctuation aside).
fn time_in(text: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    text.split_whitespace().find_map(|w| {
        let w = w.trim_end_matches([',', '.', ';', ')', ':']);
        chrono::DateTime::parse_from_rfc3339(w)
            .ok()
            .map(|t| t.with_timezone(&chrono::Utc))
    })
}

/// QA (item 10): a PO the supplier had already received, which died only because Coupa
/// refused its export mark (the API client lacks the scope), showed `dead` with just
/// "forbidden (missing scope?)". Its reason now says where and when the supplier got it, that
/// only the export mark failed, which scope to grant, and that a replay does not send it to the
/// supplier again; and the replay indeed only marks it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_po_dead_on_its_export_mark_says_the_supplier_has_it_and_a_replay_only_marks_it() {
    let env = DemoEnv::start(DemoOptions::default()).await.unwrap();
    // Coupa refuses the export mark as it does for a client without the write scope.
    assert!(env.sandbox.inject(gateway_sandbox::FaultSpec::new(
        "PUT /api/purchase_orders/",
        gateway_sandbox::FaultKind::Status { status: 403 },
        1,
    )));
    // The ledger keeps milliseconds: the bound is taken one earlier.
    let before = chrono::Utc::now() - chrono::TimeDelta::milliseconds(1);
    let id = common::add_acme_po(&env.sandbox, "QA-MARK-1");
    let key = format!("coupa-po:{id}:v1");
    assert!(
        env.wait_until(GUARD, |e| status_of(e, &key).as_deref() == Some("dead"))
            .await,
        "{:?}",
        env.running.ledger.entry(&key)
    );
    let after = chrono::Utc::now();
    let received = |e: &DemoEnv| {
        e.sandbox
            .supplier_received()
            .into_iter()
            .filter(|r| r.order_id.as_deref() == Some("QA-MARK-1"))
            .count()
    };
    assert_eq!(received(&env), 1, "the supplier got the PO");
    assert!(!env.sandbox.purchase_order_exported("QA-MARK-1"));

    let row = env.running.ledger.entry(&key).unwrap().unwrap();
    let reason = row.detail.clone();
    let supplier_url = format!("{}/supplier/acme/cxml", env.sandbox.base_url());
    assert!(
        reason.contains("the supplier already has this PO")
            && reason.contains("(sent at ")
            && reason.contains(&format!(": {supplier_url} cXML 200 OK)"))
            && reason.contains("only marking it exported in Coupa failed")
            && reason.contains("forbidden (missing scope?)")
            && reason.contains("core.purchase_order.write")
            && reason.contains(&format!("gateway dlq replay {}", row.doc_id))
            && reason.contains("does not send it to the supplier again"),
        "{reason}"
    );
    let sent_at = time_in(&reason).unwrap_or_else(|| panic!("no time in: {reason}"));
    assert!(before <= sent_at && sent_at <= after, "{sent_at}: {reason}");
    // The operator reads the same in `gateway documents`.
    let listed = common::gateway_ok(&env, &["documents", "--number", "QA-MARK-1"]);
    assert!(
        listed.contains("dead") && listed.contains(&reason),
        "{listed}"
    );

    // Once the scope is granted (the fault is spent), the replay marks it and sends nothing.
    env.sandbox.clear_faults();
    let filter = gateway_core::DeadFilter {
        doc_id: Some(row.doc_id.clone()),
        ..Default::default()
    };
    let mut out = Vec::new();
    let replayed = gateway_server::dlq::run(
        env.bus.as_ref(),
        gateway_server::dlq::DlqContext::default(),
        &[gateway_server::bus::SUPPLIER_ORDERS],
        &filter,
        &gateway_server::dlq::DlqAction::Replay,
        &mut out,
    )
    .await
    .unwrap();
    assert_eq!(replayed, 1, "{}", String::from_utf8_lossy(&out));
    wait_delivered(&env, &key, "QA-MARK-1").await;
    assert_eq!(
        received(&env),
        1,
        "the replay sent the PO to the supplier again"
    );
    let delivered = env.running.ledger.entry(&key).unwrap().unwrap();
    assert!(
        delivered.detail.contains("already there"),
        "{}",
        delivered.detail
    );
    env.shutdown().await.unwrap();
}

/// QA (qaC f5 item 2): a partner with a profile but no `[partners.outbound]` (one that only
/// sends invoices; the QA tester's `nordic`, here the demo's `nobody`) had every Coupa PO of
/// its supplier published and dead-lettered at delivery ("has no [partners.outbound] channel"),
/// an alert for each. Such a PO is left to Coupa now, as one whose supplier record says
/// `prompt` is: kept once as `awaiting_operator` under the partner, saying why and what sends
/// it, never sent, never marked exported, no dead letter.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_po_for_a_partner_without_an_outbound_channel_is_left_to_coupa() {
    let env = DemoEnv::start(DemoOptions::default()).await.unwrap();
    // The demo partner `nobody` names Coupa supplier NOT-IN-COUPA and has no outbound channel.
    gateway_sandbox::demo::add_supplier_with_po(
        &env.sandbox,
        serde_json::json!({"name": "Nobody Ltd", "number": "NOT-IN-COUPA", "po-method": "prompt"}),
        "PO-NOBODY-1",
    )
    .unwrap();
    // A PO sent through after it: the poller has polled past PO-NOBODY-1 by then.
    common::add_acme_po(&env.sandbox, "PO-AFTER-NOBODY");
    assert!(
        env.wait_until(GUARD, |e| settled_status(e, "PO-NOBODY-1").is_some()
            && settled_status(e, "PO-AFTER-NOBODY").is_some())
            .await,
        "{:?}",
        env.running.ledger.list(None, None, 10)
    );
    let rows = env
        .running
        .ledger
        .list(Some("PO-NOBODY-1"), None, 10)
        .unwrap();
    assert_eq!(rows.len(), 1, "recorded once: {rows:?}");
    let row = &rows[0];
    assert_eq!(
        (row.status.as_str(), row.partner.as_str()),
        ("awaiting_operator", "nobody"),
        "{row:?}"
    );
    assert!(
        row.detail
            .contains("partner nobody's profile has no [partners.outbound]")
            && row.detail.contains("cxml, x12_file, csv_file or email"),
        "{}",
        row.detail
    );
    assert!(!env.sandbox.purchase_order_exported("PO-NOBODY-1"));
    let depth = env
        .bus
        .depth(gateway_server::bus::SUPPLIER_ORDERS)
        .await
        .unwrap();
    assert_eq!(depth.dead, 0, "{depth:?}");
    assert!(
        env.sandbox
            .supplier_received()
            .iter()
            .all(|r| r.order_id.as_deref() != Some("PO-NOBODY-1"))
    );
    let listed = common::gateway_ok(&env, &["documents", "--number", "PO-NOBODY-1"]);
    assert!(
        listed.contains("awaiting_operator  nobody  purchase_order  PO-NOBODY-1")
            && listed.contains("has no [partners.outbound]"),
        "{listed}"
    );
    env.shutdown().await.unwrap();
}
