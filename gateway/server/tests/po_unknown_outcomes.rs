//! Coupa POs whose send to the supplier has an unknown outcome, or whose later version died.
//! QA (qa14b items 1, 6 and 10): a cXML PO whose POST reached the supplier but whose answer
//! was lost counted as never sent, so its cancellation was not sent (`cancelled_unsent`) and
//! its change went as a second new order; an older version went out after the newer one died;
//! `gateway resend` of a superseded or waiting PO said it was "still on its way". Each test
//! runs the whole path: the Coupa sandbox holds the PO and plays the supplier (with its fault
//! injection), the running service polls and delivers, and the `gateway` binary answers as it
//! answers an operator.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use gateway_sandbox::{FaultKind, FaultSpec};
use gateway_server::demo::{DemoEnv, DemoOptions};
use gateway_server::ledger::Entry;

mod common;

/// Longest wait for the service to poll and deliver (a lost answer costs the demo's 5 s
/// supplier timeout, then retries).
const GUARD: Duration = Duration::from_secs(90);

/// The demo partner acme's cXML endpoint, in the sandbox.
const ACME_ROUTE: &str = "/supplier/acme/cxml";

/// The ledger row of `key`.
fn row(env: &DemoEnv, key: &str) -> Option<Entry> {
    env.running.ledger.entry(key).unwrap()
}

/// Whether `key`'s row left `received`/`published` (its delivery came to an end).
fn settled(env: &DemoEnv, key: &str) -> bool {
    row(env, key).is_some_and(|r| !matches!(r.status.as_str(), "received" | "published"))
}

/// What the sandbox's acme took of PO `number`: (type, payloadID, body), in order.
fn acme_took(env: &DemoEnv, number: &str) -> Vec<(String, String, String)> {
    env.sandbox
        .supplier_received()
        .into_iter()
        .filter(|o| o.supplier == "acme" && o.order_id.as_deref() == Some(number))
        .map(|o| {
            (
                o.order_type.unwrap_or_default(),
                o.payload_id.unwrap_or_default(),
                o.body,
            )
        })
        .collect()
}

/// What [`acme_took`] holds, without the bodies: (type, payloadID), for failure messages.
fn summary(took: &[(String, String, String)]) -> Vec<(&str, &str)> {
    took.iter().map(|t| (t.0.as_str(), t.1.as_str())).collect()
}

/// Answers acme's next `times` OrderRequests with `kind`.
fn fault_acme_posts(env: &DemoEnv, kind: FaultKind, times: u32) {
    assert!(
        env.sandbox
            .inject(FaultSpec::new(&format!("POST {ACME_ROUTE}"), kind, times))
    );
}

/// Waits until every row of `keys` is [`settled`]; fails with PO `number`'s rows.
async fn wait_settled(env: &DemoEnv, number: &str, keys: [&str; 2]) {
    assert!(
        env.wait_until(GUARD, |e| keys.iter().all(|k| settled(e, k)))
            .await,
        "{:?}",
        env.running.ledger.list(Some(number), None, 10)
    );
}

/// The buyer cancels PO `number` (Coupa id `id`) after version 1; waits until both version 1
/// and the cancellation are [`settled`], the cancellation delivered. Version 1's key.
async fn cancelled_and_delivered(env: &DemoEnv, id: u64, number: &str) -> String {
    assert!(env.sandbox.cancel_purchase_order(id));
    let (v1, cancel) = (
        format!("coupa-po:{id}:v1"),
        format!("coupa-po:{id}:v1:cancel"),
    );
    wait_settled(env, number, [&v1, &cancel]).await;
    let cancelled = row(env, &cancel).unwrap();
    assert_eq!(cancelled.status, "delivered", "{cancelled:?}");
    v1
}

/// [`acme_took`] of PO `number`, whose types must be `types`, in order.
fn acme_took_as(env: &DemoEnv, number: &str, types: &[&str]) -> Vec<(String, String, String)> {
    let took = acme_took(env, number);
    let took_types: Vec<&str> = took.iter().map(|t| t.0.as_str()).collect();
    assert_eq!(took_types, types, "{:?}", summary(&took));
    took
}

/// `body` must name in its DocumentReference the payloadID the ledger recorded for `v1`.
fn assert_references_recorded(env: &DemoEnv, v1: &str, body: &str) {
    let first = env.running.ledger.recorded_payload_id(v1).unwrap().unwrap();
    assert!(
        body.contains(&format!("<DocumentReference payloadID=\"{first}\"/>")),
        "{body}"
    );
}

/// POSTs to acme's endpoint the sandbox answered with `status`.
fn acme_posts_answered(env: &DemoEnv, status: u16) -> usize {
    env.sandbox
        .request_log()
        .iter()
        .filter(|r| r.method == "POST" && r.path == ACME_ROUTE && r.status == status)
        .count()
}

/// Starts the demo environment with acme's next OrderRequest taken and its answer never sent
/// (the sandbox's `commit_then_drop`: the gateway gives up after its 5 s supplier timeout),
/// adds PO `number` for acme, and waits until acme has it. Returns the environment and the
/// PO's Coupa id.
async fn po_taken_with_its_answer_lost(number: &str) -> (DemoEnv, u64) {
    let env = DemoEnv::start(DemoOptions::default()).await.unwrap();
    fault_acme_posts(&env, FaultKind::CommitThenDrop, 1);
    let id = common::add_acme_po(&env.sandbox, number);
    assert!(
        env.wait_until(GUARD, |e| !acme_took(e, number).is_empty())
            .await,
        "acme never got {number}"
    );
    (env, id)
}

/// QA item 1: acme took version 1, its answer was lost, and the buyer cancelled the PO while
/// the gateway waited to retry. The cancellation was recorded `cancelled_unsent` and no
/// delete went out, so acme kept a live order Coupa had cancelled. The lost attempt now counts
/// as possibly received: the cancellation goes as a `delete` naming version 1's payloadID.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_po_taken_with_its_answer_lost_then_cancelled_is_cancelled_at_the_supplier() {
    let (env, id) = po_taken_with_its_answer_lost("PO-LOST-CXL").await;
    let v1 = cancelled_and_delivered(&env, id, "PO-LOST-CXL").await;
    let took = acme_took_as(&env, "PO-LOST-CXL", &["new", "delete"]);
    let (first, delete) = (&took[0].1, &took[1].2);
    assert!(
        delete.contains(&format!("<DocumentReference payloadID=\"{first}\"/>")),
        "{delete}"
    );
    // Version 1's retry, whichever came first, sent nothing more.
    assert!(
        matches!(
            row(&env, &v1).unwrap().status.as_str(),
            "superseded" | "delivered"
        ),
        "{:?}",
        row(&env, &v1)
    );
    assert!(env.sandbox.purchase_order_exported("PO-LOST-CXL"));
    env.shutdown().await.unwrap();
}

/// QA item 1, a change: acme took version 1, its answer was lost, and the buyer revised the
/// PO. Version 2 went as a second `new` order with no DocumentReference, so acme held two
/// orders. It now goes as an `update` naming version 1's payloadID.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_po_taken_with_its_answer_lost_then_changed_is_sent_as_a_change() {
    let (env, id) = po_taken_with_its_answer_lost("PO-LOST-CHG").await;
    assert!(env.sandbox.revise_purchase_order(id));
    let (v1, v2) = (format!("coupa-po:{id}:v1"), format!("coupa-po:{id}:v2"));
    wait_settled(&env, "PO-LOST-CHG", [&v1, &v2]).await;
    assert_eq!(row(&env, &v2).unwrap().status, "delivered");
    let took = acme_took_as(&env, "PO-LOST-CHG", &["new", "update"]);
    let (first, update) = (&took[0].1, &took[1].2);
    assert!(
        update.contains(&format!("<DocumentReference payloadID=\"{first}\"/>")),
        "{update}"
    );
    env.shutdown().await.unwrap();
}

/// QA items 6 and 10: version 1 is answered 503 (retried), the buyer revises, version 2 is
/// refused with 400 (dead). Version 1's retry went out as a new order, a stale order acme
/// worked on while Coupa held version 2. A dead later version still supersedes it; `gateway
/// resend` of it says what it is instead of "still on its way"; and the operator's replay of
/// version 2 gives acme the one order, as new.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_older_version_is_not_sent_after_the_newer_one_died() {
    let env = DemoEnv::start(DemoOptions::default()).await.unwrap();
    // Version 1's first three attempts (the retry tiers are 200 ms, 1 s, 3 s): its fourth
    // comes 3 s after the third, time for version 2 to be polled and refused.
    fault_acme_posts(&env, FaultKind::Status { status: 503 }, 3);
    let id = common::add_acme_po(&env.sandbox, "PO-DIED-2");
    assert!(
        env.wait_until(GUARD, |e| acme_posts_answered(e, 503) == 3)
            .await
    );
    fault_acme_posts(&env, FaultKind::Status { status: 400 }, 1);
    assert!(env.sandbox.revise_purchase_order(id));
    let (v1, v2) = (format!("coupa-po:{id}:v1"), format!("coupa-po:{id}:v2"));
    wait_settled(&env, "PO-DIED-2", [&v1, &v2]).await;
    let dead = row(&env, &v2).unwrap();
    assert_eq!(dead.status, "dead", "{dead:?}");
    assert_eq!(acme_posts_answered(&env, 400), 1, "version 2 was refused");
    let older = row(&env, &v1).unwrap();
    assert_eq!(older.status, "superseded", "{older:?}");
    assert!(older.detail.contains(&v2), "{older:?}");
    let took = acme_took(&env, "PO-DIED-2");
    assert!(took.is_empty(), "{:?}", summary(&took));

    // The operator asks to resend version 1: told what it is and what to do, not "on its way".
    let said = common::gateway_refusing(&env, &["resend", &v1]);
    assert!(
        said.contains(&format!("{v1} is superseded"))
            && said.contains(&v2)
            && said.contains("replay it if it is dead")
            && !said.contains("on its way"),
        "{said}"
    );

    // The cause fixed, the operator replays version 2: acme gets one order, as new.
    let replayed = env
        .bus
        .replay(
            gateway_server::bus::SUPPLIER_ORDERS,
            &gateway_core::DeadFilter {
                doc_id: Some(dead.doc_id.clone()),
                ..gateway_core::DeadFilter::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(replayed, 1);
    assert!(
        env.wait_until(GUARD, |e| row(e, &v2)
            .is_some_and(|r| r.status == "delivered"))
            .await,
        "{:?}",
        row(&env, &v2)
    );
    acme_took_as(&env, "PO-DIED-2", &["new"]);
    env.shutdown().await.unwrap();
}

/// QA item 10: `gateway resend` of a PO waiting for the operator (its supplier's Coupa record
/// says `po-method` prompt) answered "still on its way to the supplier". It says it was never
/// sent, and what sends it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resending_a_po_awaiting_the_operator_says_it_was_never_sent_and_what_sends_it() {
    let env = DemoEnv::start(DemoOptions::default()).await.unwrap();
    gateway_sandbox::demo::add_supplier_with_po(
        &env.sandbox,
        serde_json::json!({"name": "Hooli", "number": "HOOLI-3", "po-method": "prompt"}),
        "PO-HOOLI-9",
    )
    .unwrap();
    let waiting = |e: &DemoEnv| {
        e.running
            .ledger
            .list(Some("PO-HOOLI-9"), None, 10)
            .unwrap()
            .into_iter()
            .find(|r| r.status == "awaiting_operator")
    };
    assert!(env.wait_until(GUARD, |e| waiting(e).is_some()).await);
    let key = waiting(&env).unwrap().idempotency_key;
    let said = common::gateway_refusing(&env, &["resend", &key]);
    assert!(
        said.contains(&format!("{key} is awaiting_operator, never sent"))
            && said.contains("po-method")
            && said.contains("the next poll then sends it")
            && !said.contains("on its way"),
        "{said}"
    );
    env.shutdown().await.unwrap();
}

/// Starts the demo environment with acme's next three OrderRequests answered `status` (a proxy
/// whose backend did not answer in time), adds PO `number` for acme, and waits until the three
/// were answered: version 1's next retry is 3 s away. Returns the environment and the PO's
/// Coupa id.
async fn po_answered_by_a_proxy(number: &str, status: u16) -> (DemoEnv, u64) {
    let env = DemoEnv::start(DemoOptions::default()).await.unwrap();
    fault_acme_posts(&env, FaultKind::Status { status }, 3);
    let id = common::add_acme_po(&env.sandbox, number);
    assert!(
        env.wait_until(GUARD, |e| acme_posts_answered(e, status) == 3)
            .await
    );
    (env, id)
}

/// QA (qa14c item 1): a 504 (or 502) comes from a proxy whose backend may have taken the
/// order; it counted as certainly not received, so the cancellation made meanwhile was
/// `cancelled_unsent` and never went out. It now counts as possibly received: the
/// cancellation goes as a `delete` naming the payloadID version 1 went under.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_po_answered_504_then_cancelled_is_cancelled_at_the_supplier() {
    let (env, id) = po_answered_by_a_proxy("PO-504-CXL", 504).await;
    let v1 = cancelled_and_delivered(&env, id, "PO-504-CXL").await;
    let took = acme_took_as(&env, "PO-504-CXL", &["delete"]);
    assert_references_recorded(&env, &v1, &took[0].2);
    assert_eq!(row(&env, &v1).unwrap().status, "superseded");
    env.shutdown().await.unwrap();
}

/// QA (qa14c item 1), a change: version 1 answered 502, then revised. Version 2 went as a
/// second `new` order, so a supplier whose backend took version 1 held two orders. It now goes
/// as an `update` naming version 1's payloadID.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_po_answered_502_then_changed_is_sent_as_a_change() {
    let (env, id) = po_answered_by_a_proxy("PO-502-CHG", 502).await;
    assert!(env.sandbox.revise_purchase_order(id));
    let (v1, v2) = (format!("coupa-po:{id}:v1"), format!("coupa-po:{id}:v2"));
    wait_settled(&env, "PO-502-CHG", [&v1, &v2]).await;
    assert_eq!(row(&env, &v2).unwrap().status, "delivered");
    let took = acme_took_as(&env, "PO-502-CHG", &["update"]);
    assert_references_recorded(&env, &v1, &took[0].2);
    env.shutdown().await.unwrap();
}
