//! What the ledger says of a dead letter an operator replays (`gateway dlq replay`): QA found
//! `gateway documents` and `gateway partners` still saying `dead` (the old reason, the old
//! time) until the redelivery ended, while `gateway dlq show` had no such dead letter; and
//! once delivered, the row said only `coupa: 9`, nothing of the death and the replay.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use gateway_server::demo::{DemoEnv, DemoOptions, NOBODY};
use gateway_server::ledger::{Ledger, NewDocument, REPLAYED, REPLAYED_HISTORY, Status};
use serde_json::Value;

mod common;

/// `gateway <args> --config cfg`.
fn gateway(cfg: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gateway"))
        .args(args)
        .arg("--config")
        .arg(cfg)
        .output()
        .unwrap()
}

/// [`gateway`], which must succeed: its standard output.
fn gateway_ok(cfg: &Path, args: &[&str]) -> String {
    let out = gateway(cfg, args);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "gateway {args:?}: {}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// `partner`'s line of `gateway partners --json`.
fn partner_json(text: &str, partner: &str) -> Value {
    text.lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|v| v["partner"] == partner)
        .unwrap_or_else(|| panic!("no {partner} in:\n{text}"))
}

/// The demo configuration (embedded bus and ledger in `dir`; partners acme, globex, nobody).
fn demo_config(dir: &Path) -> PathBuf {
    let cfg = dir.join("gateway.toml");
    std::fs::write(
        &cfg,
        gateway_server::demo::config_text(dir, "http://127.0.0.1:9", None, "dlqr"),
    )
    .unwrap();
    cfg
}

/// The reason `common::dead_invoice` gives its letter.
const DIED_OF: &str = "Coupa refused the invoice: supplier not found";

/// Between the replay and the end of the redelivery (no consumer runs here, so the row is
/// seen there): the row is `published`, saying when it was replayed and what it had died of,
/// `--status dead` no longer lists it and `gateway partners` counts it on its way, not dead;
/// once delivered, its `earlier:` line still says it died and was replayed.
#[test]
fn a_replayed_dead_letter_is_on_its_way_in_the_ledger_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = demo_config(dir.path());
    let id = common::dead_invoice(&cfg, "acme");
    let ledger_path = dir.path().join("ledger.sqlite");
    {
        // The row the service wrote for it: dead, with the reason the dead letter shows.
        let ledger = Ledger::open(&ledger_path).unwrap();
        ledger
            .claim(&NewDocument {
                idempotency_key: "rest:acme:Y-00001",
                doc_id: &id,
                adapter: "rest",
                partner: "acme",
                kind: "invoice",
                number: "Y-00001",
                business_key: Some("acme:Y-00001"),
            })
            .unwrap();
        ledger.set_status(&id, Status::Dead, DIED_OF).unwrap();
    }
    let dead = gateway_ok(
        &cfg,
        &["documents", "--status", "dead", "--number", "Y-00001"],
    );
    assert!(dead.contains(&id), "{dead}");

    let replayed = gateway_ok(&cfg, &["dlq", "replay", &id]);
    assert!(
        replayed.contains("coupa-invoices: replayed 1 dead letter(s)"),
        "{replayed}"
    );

    let dead = gateway_ok(
        &cfg,
        &["documents", "--status", "dead", "--number", "Y-00001"],
    );
    assert!(
        !dead.contains(&id),
        "still listed dead after the replay:\n{dead}"
    );
    let on_its_way = gateway_ok(
        &cfg,
        &["documents", "--status", "published", "--number", "Y-00001"],
    );
    assert!(
        on_its_way.contains(&id)
            && on_its_way.contains(REPLAYED)
            && on_its_way.contains(&format!(" after: {DIED_OF}")),
        "{on_its_way}"
    );
    let acme = partner_json(&gateway_ok(&cfg, &["partners", "--json"]), "acme");
    assert_eq!(
        (acme["dead"].as_u64(), acme["on_the_way"].as_u64()),
        (Some(0), Some(1)),
        "{acme}"
    );

    // The consumer delivers it: the detail is the delivery's, and the history stays.
    Ledger::open(&ledger_path)
        .unwrap()
        .set_status(&id, Status::Delivered, "coupa: 9")
        .unwrap();
    let delivered = gateway_ok(&cfg, &["documents", "--doc", &id]);
    assert!(
        delivered.contains("delivered")
            && delivered.contains("coupa: 9")
            && delivered.contains("earlier: ")
            && delivered.contains(&format!("{REPLAYED_HISTORY}{DIED_OF}")),
        "{delivered}"
    );
    let json = gateway_ok(&cfg, &["documents", "--doc", &id, "--json"]);
    let row: Value = serde_json::from_str(json.lines().next().unwrap()).unwrap();
    assert!(
        row["history"]
            .as_str()
            .is_some_and(|h| h.contains(REPLAYED_HISTORY)),
        "{row}"
    );
}

/// QA's steps on the whole path: an invoice dies in the running service (here its supplier
/// is unknown to Coupa), the operator fixes the cause and replays it with `gateway dlq
/// replay`: at once it is no longer listed dead, and once delivered, `gateway documents`
/// says it died and was replayed and `gateway partners` counts it delivered, not dead.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invoice_replayed_after_its_cause_is_fixed_is_delivered_with_its_history() {
    let env = DemoEnv::start(DemoOptions::default()).await.unwrap();
    let cfg = env.config_path();
    let (status, body) = env
        .post_rest(
            "nobody-token",
            &gateway_model::Document::Invoice(DemoEnv::invoice("Y-00001").unwrap()),
        )
        .await
        .unwrap();
    assert_eq!(status, 202, "{body}");
    let row = || {
        env.running
            .ledger
            .list(Some("Y-00001"), None, 10)
            .unwrap()
            .into_iter()
            .next()
    };
    assert!(
        env.wait_until(Duration::from_secs(30), |_| row()
            .is_some_and(|r| r.status == "dead"))
            .await,
        "{:?}",
        row()
    );
    let id = row().unwrap().doc_id;
    let died_of = row().unwrap().detail;

    env.sandbox
        .add_supplier(
            serde_json::json!({"name": "A supplier Coupa did not know", "number": "NOT-IN-COUPA"}),
        )
        .unwrap();
    let replayed = gateway_ok(&cfg, &["dlq", "replay", &id]);
    assert!(replayed.contains("replayed 1 dead letter(s)"), "{replayed}");
    let dead = gateway_ok(
        &cfg,
        &["documents", "--status", "dead", "--number", "Y-00001"],
    );
    assert!(
        !dead.contains(&id),
        "still listed dead after the replay:\n{dead}"
    );

    assert!(
        env.wait_until(Duration::from_secs(30), |_| row()
            .is_some_and(|r| r.status == "delivered"))
            .await,
        "{:?}",
        row()
    );
    let listed = gateway_ok(&cfg, &["documents", "--number", "Y-00001"]);
    assert!(
        listed.contains("delivered")
            && listed.contains("earlier: ")
            && listed.contains(&format!("{REPLAYED_HISTORY}{died_of}")),
        "{listed}"
    );
    let nobody = partner_json(&gateway_ok(&cfg, &["partners", "--json"]), NOBODY);
    assert_eq!(
        (nobody["dead"].as_u64(), nobody["delivered"].as_u64()),
        (Some(0), Some(1)),
        "{nobody}"
    );
    env.shutdown().await.unwrap();
}
