//! A Coupa PO's identity at the supplier and in Coupa, through the running service and the
//! Coupa sandbox over HTTP: the payloadID a supplier recognises an order by (unique to the
//! Coupa instance, QA's lost order), the export mark that must not hide a version the buyer
//! made while it was being written, and the supplier record's `po-change-method` that changes
//! and cancellations follow.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use gateway_sandbox::{FaultKind, FaultSpec, ReceivedOrder};
use gateway_server::demo::{DemoEnv, DemoOptions};
use serde_json::{Value, json};

/// Longest wait for the service to poll and deliver.
const GUARD: Duration = Duration::from_secs(60);

/// A supplier record with no partner profile that takes POs by cXML at `url`, with the record
/// fields `more` added.
fn cxml_supplier(name: &str, url: &str, more: Value) -> Value {
    let mut record = json!({
        "name": name,
        "number": format!("{}-1", name.to_ascii_uppercase()),
        "po-method": "cxml",
        "cxml-url": url,
        "cxml-domain": "NetworkID",
        "cxml-identity": "globex-buyer",
        "cxml-supplier-domain": "DUNS",
        "cxml-supplier-identity": format!("{}-duns", name.to_ascii_lowercase()),
    });
    if let (Some(r), Value::Object(more)) = (record.as_object_mut(), more) {
        r.extend(more);
    }
    record
}

/// What `env`'s sandbox's supplier endpoint `supplier` took (a payloadID it had already is
/// answered "already received" and not kept).
fn received_by(env: &DemoEnv, supplier: &str) -> Vec<ReceivedOrder> {
    env.sandbox
        .supplier_received()
        .into_iter()
        .filter(|o| o.supplier == supplier)
        .collect()
}

/// The `type` of each order `supplier` took, in order.
fn types(env: &DemoEnv, supplier: &str) -> Vec<String> {
    received_by(env, supplier)
        .into_iter()
        .filter_map(|o| o.order_type)
        .collect()
}

/// The Coupa PO with id `id` as the sandbox holds it.
fn coupa_po(env: &DemoEnv, id: u64) -> Value {
    env.sandbox
        .purchase_orders()
        .into_iter()
        .find(|p| p["id"] == id)
        .unwrap_or(Value::Null)
}

/// The ledger status of `key`, once it left `received`/`published`.
fn settled(env: &DemoEnv, key: &str) -> Option<(String, String)> {
    let entry = env.running.ledger.entry(key).ok().flatten()?;
    (!matches!(entry.status.as_str(), "received" | "published"))
        .then_some((entry.status, entry.detail))
}

/// Adds the supplier `name` taking POs by cXML at its own sandbox endpoint (see
/// [`cxml_supplier`], with `more`) and the sample PO `number` for it; the PO's Coupa id.
fn cxml_supplier_with_po(env: &DemoEnv, name: &str, more: Value, number: &str) -> u64 {
    let url = format!(
        "{}/supplier/{}/cxml",
        env.sandbox.base_url(),
        name.to_ascii_lowercase()
    );
    let supplier = env
        .sandbox
        .add_supplier(cxml_supplier(name, &url, more))
        .unwrap();
    env.sandbox
        .add_purchase_order(gateway_sandbox::demo::sample_purchase_order(
            number, supplier,
        ))
        .unwrap()
}

/// Waits until `key` is [`settled`]; its status and detail.
async fn settle(env: &DemoEnv, key: &str) -> Option<(String, String)> {
    assert!(env.wait_until(GUARD, |e| settled(e, key).is_some()).await);
    settled(env, key)
}

/// QA item 2: two buyers' gateways, each in front of its own Coupa instance, each with a PO
/// of Coupa id N version 1, send to one supplier endpoint that drops repeated payloadIDs. The
/// payloadID was made from the Coupa id and version alone, so the second order was answered
/// "already received" and lost, while its gateway logged it delivered and marked it exported.
/// With the Coupa instance in the payloadID, the supplier holds both orders.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_buyers_pos_with_the_same_coupa_id_both_reach_a_supplier_that_drops_repeats() {
    let first = DemoEnv::start(DemoOptions::default()).await.unwrap();
    let second = DemoEnv::start(DemoOptions::default()).await.unwrap();
    let url = format!("{}/supplier/shared/cxml", first.sandbox.base_url());
    let mut ids = Vec::new();
    for (env, number) in [(&first, "BUYER-A-8"), (&second, "BUYER-B-8")] {
        let supplier = env
            .sandbox
            .add_supplier(cxml_supplier("Shared", &url, json!({})))
            .unwrap();
        ids.push(
            env.sandbox
                .add_purchase_order(gateway_sandbox::demo::sample_purchase_order(
                    number, supplier,
                ))
                .unwrap(),
        );
    }
    assert_eq!(
        ids[0], ids[1],
        "the case needs the same Coupa PO id in both instances"
    );
    let exported = |env: &DemoEnv, number: &str| env.sandbox.purchase_order_exported(number);
    assert!(
        first.wait_until(GUARD, |e| exported(e, "BUYER-A-8")).await
            && second.wait_until(GUARD, |e| exported(e, "BUYER-B-8")).await,
        "{:?}",
        received_by(&first, "shared")
    );
    let held = received_by(&first, "shared");
    // In whichever order the two gateways got there.
    let mut orders: Vec<_> = held.iter().map(|o| o.order_id.clone()).collect();
    orders.sort();
    assert_eq!(
        orders,
        [Some("BUYER-A-8".to_string()), Some("BUYER-B-8".to_string())],
        "the supplier holds {:?}",
        held.iter().map(|o| &o.payload_id).collect::<Vec<_>>()
    );
    assert_ne!(held[0].payload_id, held[1].payload_id);
    first.shutdown().await.unwrap();
    second.shutdown().await.unwrap();
}

/// QA item 4: the buyer revises a PO in the instant between the export mark's read of it
/// (version 1, the one sent) and its `exported=true`: Coupa reset the flag for version 2, the
/// mark set it again, and version 2 was never sent. The sandbox's `then_revise` fault makes the
/// revision land right after that read. The mark reads the PO again afterwards and, Coupa
/// holding version 2, sets `exported` false again: the supplier gets version 2 as a change, and
/// the PO ends exported at version 2.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revision_made_while_the_export_mark_is_written_is_sent_all_the_same() {
    let env = DemoEnv::start(DemoOptions::default()).await.unwrap();
    let url = format!("{}/supplier/marky/cxml", env.sandbox.base_url());
    let supplier = env
        .sandbox
        .add_supplier(cxml_supplier("Marky", &url, json!({})))
        .unwrap();
    // The sandbox numbers records in turn: the PO added next gets the next id. Its first read
    // by id is the export mark's, after the supplier took version 1.
    let po = supplier + 1;
    assert!(env.sandbox.inject(FaultSpec::new(
        &format!("GET /api/purchase_orders?id={po}&"),
        FaultKind::ThenRevise { purchase_order: po },
        1,
    )));
    let added = env
        .sandbox
        .add_purchase_order(gateway_sandbox::demo::sample_purchase_order(
            "PO-MARK-1",
            supplier,
        ))
        .unwrap();
    assert_eq!(added, po);
    let done = |e: &DemoEnv| {
        types(e, "marky").len() >= 2
            && coupa_po(e, po)["version"] == 2
            && coupa_po(e, po)["exported"] == true
    };
    assert!(
        env.wait_until(GUARD, done).await,
        "version 2 was hidden: the supplier holds {:?}, Coupa {}",
        types(&env, "marky"),
        coupa_po(&env, po)
    );
    assert_eq!(types(&env, "marky"), ["new", "update"]);
    let revised = env
        .sandbox
        .request_log()
        .iter()
        .filter(|r| r.method == "PUT" && r.path == format!("/api/purchase_orders/{po}"))
        .count();
    assert_eq!(
        revised, 3,
        "marked (v1), marked not exported again, marked (v2)"
    );
    env.shutdown().await.unwrap();
}

/// QA item 5: a supplier with no partner profile whose Coupa record takes new orders by cXML
/// (`po-method`) and wants changes and cancellations held for the buyer (`po-change-method`
/// prompt) got the change and the cancellation POSTed to its cxml-url. They follow
/// `po-change-method` now: each waits for the operator (`awaiting_operator`, saying which field
/// to change), and the supplier holds only the new order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_and_cancellations_follow_the_suppliers_po_change_method() {
    let env = DemoEnv::start(DemoOptions::default()).await.unwrap();
    let po = cxml_supplier_with_po(
        &env,
        "Chg",
        json!({"po-change-method": "prompt"}),
        "PO-CHG-1",
    );
    let key = |suffix: &str| format!("coupa-po:{po}:{suffix}");
    assert_eq!(
        settle(&env, &key("v1")).await.map(|(s, _)| s).as_deref(),
        Some("delivered")
    );
    assert_eq!(types(&env, "chg"), ["new"]);

    assert!(env.sandbox.revise_purchase_order(po));
    let (status, detail) = settle(&env, &key("v2")).await.unwrap_or_default();
    assert_eq!(status, "awaiting_operator", "{detail}");
    assert!(
        detail.contains("its po-change-method is prompt")
            && detail.contains("set the supplier's po-change-method to cxml"),
        "{detail}"
    );

    assert!(env.sandbox.cancel_purchase_order(po));
    let (status, detail) = settle(&env, &key("v2:cancel")).await.unwrap_or_default();
    assert_eq!(status, "awaiting_operator", "{detail}");
    assert_eq!(
        types(&env, "chg"),
        ["new"],
        "the change or the cancellation went by po-method"
    );
    env.shutdown().await.unwrap();
}

/// QA (qa14c item 3): a supplier whose Coupa record leaves new orders to the buyer
/// (`po-method` prompt) and takes changes by cXML (`po-change-method`). Version 1 waits for
/// the operator, who releases it in Coupa, which sends it under a payloadID the gateway never
/// learns. Version 2 then went to the supplier as a second new order, and the cancellation was
/// `cancelled_unsent`. A version left to Coupa counts as possibly received: the change and the
/// cancellation wait for the operator too, saying why, and nothing goes to the supplier.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_of_a_version_left_to_coupa_waits_for_the_operator_too() {
    let env = DemoEnv::start(DemoOptions::default()).await.unwrap();
    let po = cxml_supplier_with_po(
        &env,
        "Np2",
        json!({"po-method": "prompt", "po-change-method": "cxml"}),
        "PO-NP2-1",
    );
    let key = |suffix: &str| format!("coupa-po:{po}:{suffix}");
    let (status, detail) = settle(&env, &key("v1")).await.unwrap_or_default();
    assert_eq!(status, "awaiting_operator", "{detail}");

    assert!(env.sandbox.revise_purchase_order(po));
    let (status, detail) = settle(&env, &key("v2")).await.unwrap_or_default();
    assert_eq!(status, "awaiting_operator", "{detail}");
    assert!(
        detail.contains(&format!("earlier version ({})", key("v1")))
            && detail.contains("payloadID the gateway does not know")
            && detail.contains("Send this change from Coupa"),
        "{detail}"
    );

    assert!(env.sandbox.cancel_purchase_order(po));
    let (status, detail) = settle(&env, &key("v2:cancel")).await.unwrap_or_default();
    assert_eq!(status, "awaiting_operator", "{detail}");
    assert!(
        detail.contains(&format!("earlier version ({})", key("v2")))
            && detail.contains("Send this cancellation from Coupa"),
        "{detail}"
    );
    assert!(
        types(&env, "np2").is_empty(),
        "the gateway sent the change or cancellation of an order Coupa sent: {:?}",
        types(&env, "np2")
    );
    env.shutdown().await.unwrap();
}
