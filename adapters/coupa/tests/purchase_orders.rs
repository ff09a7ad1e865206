//! PO pull against the sandbox: `exported=false` over several pages of 50, filters,
//! `return_object=shallow`, mark exported, and a new version coming back unexported.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use adapter_coupa::{PoQuery, purchase_order_from_coupa};
use gateway_sandbox::demo::sample_purchase_order;
use serde_json::Value;

fn seed(env: &common::Env, n: usize, exported: usize) {
    for i in 1..=n {
        env.sandbox
            .add_purchase_order(sample_purchase_order(
                &format!("PO-{i:05}"),
                env.supplier_id,
            ))
            .unwrap();
    }
    for i in 1..=exported {
        let mut po = sample_purchase_order(&format!("OLD-{i:03}"), env.supplier_id);
        po["exported"] = Value::Bool(true);
        env.sandbox.add_purchase_order(po).unwrap();
    }
}

fn list_offsets(env: &common::Env) -> usize {
    env.sandbox
        .request_log()
        .iter()
        .filter(|r| r.method == "GET" && r.path == "/api/purchase_orders")
        .count()
}

#[tokio::test]
async fn pages_over_120_unexported_and_marks_them_exported() {
    let env = common::start().await;
    seed(&env, 120, 7);
    let c = common::client(&env);
    let pos = c.purchase_orders(&PoQuery::default()).await.unwrap();
    assert_eq!(pos.len(), 120);
    assert_eq!(list_offsets(&env), 3, "pages at offset 0, 50, 100");
    let numbers: Vec<&str> = pos
        .iter()
        .map(|p| p["po-number"].as_str().unwrap())
        .collect();
    assert_eq!(numbers.first(), Some(&"PO-00001"));
    assert_eq!(numbers.last(), Some(&"PO-00120"));
    let mut unique = numbers.clone();
    unique.dedup();
    assert_eq!(unique.len(), 120, "no PO twice");

    for po in &pos {
        let canonical = purchase_order_from_coupa(po).unwrap();
        assert_eq!(canonical.lines.len(), 2);
        c.mark_exported(po["id"].as_u64().unwrap()).await.unwrap();
    }
    assert!(
        c.purchase_orders(&PoQuery::default())
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        env.sandbox
            .purchase_orders()
            .iter()
            .all(|p| p["exported"] == true)
    );
}

#[tokio::test]
async fn a_new_version_is_pulled_again() {
    let env = common::start().await;
    seed(&env, 3, 0);
    let c = common::client(&env);
    let pos = c.purchase_orders(&PoQuery::default()).await.unwrap();
    for po in &pos {
        c.mark_exported(po["id"].as_u64().unwrap()).await.unwrap();
    }
    let id = pos[1]["id"].as_u64().unwrap();
    assert!(env.sandbox.revise_purchase_order(id));
    let again = c.purchase_orders(&PoQuery::default()).await.unwrap();
    assert_eq!(again.len(), 1);
    let po = purchase_order_from_coupa(&again[0]).unwrap();
    assert_eq!(po.version, Some(2));
    assert_eq!(po.purpose, Some(gateway_model::OrderPurpose::Update));
}

#[tokio::test]
async fn filters_and_shallow_answers() {
    let env = common::start().await;
    seed(&env, 60, 0);
    let c = common::client(&env);
    let q = PoQuery::default().filter("po_number[in]", "PO-00002,PO-00059");
    let pos = c.purchase_orders(&q).await.unwrap();
    assert_eq!(pos.len(), 2);
    let q = PoQuery::default().filter("po-number[starts_with]", "PO-0005");
    assert_eq!(c.purchase_orders(&q).await.unwrap().len(), 10);
    let q = PoQuery::default().filter("supplier[name]", "Nobody");
    assert!(c.purchase_orders(&q).await.unwrap().is_empty());

    let shallow = PoQuery {
        shallow: true,
        ..PoQuery::default()
    };
    let page = c.purchase_orders_page(&shallow, 0).await.unwrap();
    assert_eq!(page.len(), 50);
    let first = &page[0];
    assert_eq!(first["po-number"], "PO-00001");
    // One-deep associations keep only ids and natural keys.
    assert!(first["ship-to-address"].get("street1").is_none());
    assert_eq!(first["ship-to-address"]["name"], "Main Warehouse");
    assert!(first["order-lines"][0].get("price").is_none());
    assert!(first["order-lines"][0].get("id").is_some());
}

#[tokio::test]
async fn paging_survives_a_server_error_mid_way() {
    let env = common::start().await;
    seed(&env, 75, 0);
    let c = common::client(&env);
    env.sandbox.inject(gateway_sandbox::FaultSpec::new(
        "GET /api/purchase_orders",
        gateway_sandbox::FaultKind::Status { status: 502 },
        1,
    ));
    let pos = c.purchase_orders(&PoQuery::default()).await.unwrap();
    assert_eq!(pos.len(), 75);
    assert_eq!(c.stats().server_errors, 1);
}

#[tokio::test]
async fn pull_maps_each_and_keeps_a_bad_one_apart() {
    let env = common::start().await;
    seed(&env, 3, 0);
    let mut bad = sample_purchase_order("PO-BAD", env.supplier_id);
    bad["order-lines"][0]["quantity"] = Value::String("ten".into());
    env.sandbox.add_purchase_order(bad).unwrap();
    let c = common::client(&env);
    let pulled = c.pull_purchase_orders(&PoQuery::default()).await.unwrap();
    assert_eq!(pulled.len(), 4);
    assert_eq!(pulled.iter().filter(|p| p.order.is_ok()).count(), 3);
    let bad = pulled.iter().find(|p| p.order.is_err()).unwrap();
    assert_eq!(bad.raw["po-number"], "PO-BAD");
    assert!(bad.coupa_id.is_some());
    let ok = pulled[0].order.as_ref().unwrap();
    assert_eq!(ok.po_number.as_deref(), Some("PO-00001"));
    assert_eq!(
        ok.supplier.as_ref().unwrap().name.as_deref(),
        Some("Acme Supplies")
    );
}
