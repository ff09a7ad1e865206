//! The sandbox over real HTTP: token endpoint, Coupa-shaped answers, the admin fault API,
//! the test supplier endpoint and snapshots.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use gateway_sandbox::demo::{sample_purchase_order, seed_demo};
use gateway_sandbox::{Sandbox, SandboxHandle, SandboxOptions};
use serde_json::{Value, json};

async fn start() -> SandboxHandle {
    Sandbox::start(SandboxOptions::default()).await.unwrap()
}

async fn token(h: &SandboxHandle, scope: &str) -> String {
    let r = reqwest::Client::new()
        .post(format!("{}/oauth2/token", h.base_url()))
        .form(&[
            ("client_id", "sandbox-client"),
            ("client_secret", "sandbox-secret"),
            ("grant_type", "client_credentials"),
            ("scope", scope),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["expires_in"], 86_399);
    assert_eq!(v["scope"], scope);
    v["access_token"].as_str().unwrap().to_string()
}

async fn get(h: &SandboxHandle, tok: &str, path: &str) -> (u16, Value) {
    let r = reqwest::Client::new()
        .get(format!("{}{}", h.base_url(), path))
        .bearer_auth(tok)
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap();
    let s = r.status().as_u16();
    (s, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn token_endpoint_checks_client_grant_and_scope() {
    let h = start().await;
    let c = reqwest::Client::new();
    let url = format!("{}/oauth2/token", h.base_url());
    let bad = c
        .post(&url)
        .form(&[
            ("client_id", "sandbox-client"),
            ("client_secret", "x"),
            ("grant_type", "client_credentials"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 401);
    let grant = c
        .post(&url)
        .form(&[
            ("client_id", "sandbox-client"),
            ("client_secret", "sandbox-secret"),
            ("grant_type", "password"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(grant.status(), 400);
    // No token → 401; a token without the route's scope → 403.
    assert_eq!(get(&h, "nope", "/api/invoices").await.0, 401);
    let t = token(&h, "core.supplier.read").await;
    assert_eq!(get(&h, &t, "/api/invoices").await.0, 403);
    assert_eq!(get(&h, &t, "/api/suppliers").await.0, 200);
}

#[tokio::test]
async fn empty_lists_are_empty_arrays_and_missing_records_404() {
    let h = start().await;
    let t = token(
        &h,
        "core.invoice.read core.supplier.read core.purchase_order.read",
    )
    .await;
    assert_eq!(
        get(&h, &t, "/api/invoices?invoice_number=none").await,
        (200, json!([]))
    );
    let (s, body) = get(&h, &t, "/api/invoices/999").await;
    assert_eq!(s, 404);
    assert!(body["errors"].is_object());
    assert_eq!(
        get(&h, &t, "/api/purchase_orders?exported=false").await,
        (200, json!([]))
    );
}

#[tokio::test]
async fn supplier_secrets_are_not_returned_and_filters_work() {
    let h = start().await;
    let id = seed_demo(&h, 2).unwrap();
    let t = token(&h, "core.supplier.read core.purchase_order.read").await;
    let (s, sup) = get(&h, &t, &format!("/api/suppliers/{id}")).await;
    assert_eq!(s, 200);
    assert_eq!(sup["po-method"], "cxml");
    assert_eq!(sup["cxml-supplier-identity"], "acme");
    assert!(sup.get("cxml-secret").is_none());
    assert!(sup.get("cxml-invoice-secret").is_none());
    let (_, list) = get(&h, &t, "/api/suppliers?name[contains]=acme").await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    let (_, list) = get(
        &h,
        &t,
        "/api/purchase_orders?supplier[number]=ACME-1&total[gt_or_eq]=1505",
    )
    .await;
    assert_eq!(list.as_array().unwrap().len(), 2);
    let (_, list) = get(&h, &t, "/api/purchase_orders?return_object=limited").await;
    assert_eq!(list[0].as_object().unwrap().len(), 1);
}

#[tokio::test]
async fn admin_fault_api_scripts_statuses_and_clears() {
    let h = start().await;
    let t = token(&h, "core.invoice.read").await;
    let c = reqwest::Client::new();
    let admin = format!("{}/sandbox/faults", h.base_url());
    let r = c
        .post(&admin)
        .json(&json!([
            {"route": "GET /api/invoices", "kind": "status", "status": 503, "count": 1},
            {"route": "GET /api/invoices", "kind": "rate_limit", "retry_after": 7}
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["pending"], 2);
    assert_eq!(get(&h, &t, "/api/invoices").await.0, 503);
    let r = c
        .get(format!("{}/api/invoices", h.base_url()))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "7");
    assert_eq!(get(&h, &t, "/api/invoices").await.0, 200);

    c.post(&admin)
        .json(&json!({"route": "/api/", "kind": "status", "status": 500, "count": 5}))
        .send()
        .await
        .unwrap();
    assert_eq!(get(&h, &t, "/api/invoices").await.0, 500);
    c.delete(&admin).send().await.unwrap();
    assert_eq!(get(&h, &t, "/api/invoices").await.0, 200);
    let bad = c
        .post(&admin)
        .json(&json!({"kind": "explode"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    let state: Value = c
        .get(format!("{}/sandbox/state", h.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(state["stats"]["served_429"], 1);
    assert_eq!(state["stats"]["served_5xx"], 2);
}

#[tokio::test]
async fn hang_fault_outlasts_the_client_timeout() {
    let h = Sandbox::start(SandboxOptions::default()).await.unwrap();
    let t = token(&h, "core.invoice.read").await;
    reqwest::Client::new()
        .post(format!("{}/sandbox/faults", h.base_url()))
        .json(&json!({"route": "GET /api/invoices", "kind": "hang"}))
        .send()
        .await
        .unwrap();
    let err = reqwest::Client::new()
        .get(format!("{}/api/invoices", h.base_url()))
        .bearer_auth(&t)
        .timeout(Duration::from_secs(1))
        .send()
        .await
        .unwrap_err();
    assert!(err.is_timeout());
    // The next request is served normally, and shutdown releases the hung one.
    assert_eq!(get(&h, &t, "/api/invoices").await.0, 200);
    h.shutdown().await.unwrap();
}

#[tokio::test]
async fn latency_setting_is_applied_and_cleared() {
    let h = start().await;
    let c = reqwest::Client::new();
    let r = c
        .post(format!("{}/sandbox/latency", h.base_url()))
        .json(&json!({"ms": 5}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["latency_ms"], 5);
    let t = token(&h, "core.invoice.read").await;
    assert_eq!(get(&h, &t, "/api/invoices").await.0, 200);
    h.clear_faults();
}

#[tokio::test]
async fn test_supplier_endpoint_records_order_requests() {
    let h = start().await;
    let po = r#"<?xml version="1.0"?>
<!DOCTYPE cXML SYSTEM "http://xml.cxml.org/schemas/cXML/1.2.014/cXML.dtd">
<cXML xml:lang="en-US" timestamp="2008-05-19T19:51:57+00:00" payloadID="1211226717.22017@gw" version="1.2.014">
<Header><From><Credential domain="duns"><Identity>buyer</Identity></Credential></From>
<To><Credential domain="Duns"><Identity>acme</Identity></Credential></To>
<Sender><Credential domain="duns"><Identity>buyer</Identity><SharedSecret>s</SharedSecret></Credential><UserAgent>Coupa Procurement 1.0</UserAgent></Sender></Header>
<Request deploymentMode="production"><OrderRequest><OrderRequestHeader orderID="6112" orderDate="2008-05-19T19:51:55Z" type="new" orderType="regular">
<Total><Money currency="USD">1505.0</Money></Total></OrderRequestHeader>
<ItemOut quantity="1" lineNumber="1"><ItemID><SupplierPartID>X</SupplierPartID></ItemID></ItemOut></OrderRequest></Request></cXML>"#;
    let c = reqwest::Client::new();
    let url = format!("{}/supplier/acme/cxml", h.base_url());
    let r = c.post(&url).body(po).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let body = r.text().await.unwrap();
    assert!(body.contains(r#"<Status code="200" text="OK">"#), "{body}");
    let got = h.supplier_received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].supplier, "acme");
    assert_eq!(got[0].order_id.as_deref(), Some("6112"));
    assert_eq!(got[0].order_type.as_deref(), Some("new"));
    assert_eq!(got[0].payload_id.as_deref(), Some("1211226717.22017@gw"));

    let r = c
        .post(&url)
        .body("<cXML><Request/></cXML>")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    // Faults apply to the supplier endpoint too (a supplier that is down).
    h.inject(gateway_sandbox::FaultSpec::new(
        "POST /supplier/",
        gateway_sandbox::FaultKind::Status { status: 503 },
        1,
    ));
    assert_eq!(c.post(&url).body(po).send().await.unwrap().status(), 503);
    assert_eq!(h.supplier_received().len(), 1);
    let listed: Value = c
        .get(format!("{}/sandbox/received", h.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed[0]["order_id"], "6112");
}

#[tokio::test]
async fn snapshot_is_saved_on_shutdown_and_loaded_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    let opts = SandboxOptions {
        snapshot: Some(path.clone()),
        ..SandboxOptions::default()
    };
    let h = Sandbox::start(opts.clone()).await.unwrap();
    let sid = h.add_supplier(json!({"name": "Snap Co"})).unwrap();
    h.add_purchase_order(sample_purchase_order("PO-SNAP", sid))
        .unwrap();
    h.shutdown().await.unwrap();
    assert!(path.exists());

    let h = Sandbox::start(opts).await.unwrap();
    assert_eq!(h.suppliers().len(), 1);
    assert_eq!(h.purchase_orders()[0]["po-number"], "PO-SNAP");
    // New ids continue after the loaded ones.
    let next = h.add_supplier(json!({"name": "Next Co"})).unwrap();
    assert!(next > sid);
    h.shutdown().await.unwrap();
}

#[tokio::test]
async fn seeding_over_the_admin_api_and_revise() {
    let h = start().await;
    let c = reqwest::Client::new();
    let r: Value = c
        .post(format!("{}/sandbox/suppliers", h.base_url()))
        .json(&json!({"name": "Admin Co", "number": "AD-1"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let sid = r["id"].as_u64().unwrap();
    let dup = c
        .post(format!("{}/sandbox/suppliers", h.base_url()))
        .json(&json!({"name": "admin co"}))
        .send()
        .await
        .unwrap();
    assert_eq!(dup.status(), 400);
    let r: Value = c
        .post(format!("{}/sandbox/purchase_orders", h.base_url()))
        .json(&sample_purchase_order("PO-A", sid))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let pid = r["id"].as_u64().unwrap();
    let po = &h.purchase_orders()[0];
    assert_eq!(po["supplier"]["name"], "Admin Co");
    assert_eq!(po["version"], 1);
    let r = c
        .post(format!(
            "{}/sandbox/purchase_orders/{pid}/revise",
            h.base_url()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(h.purchase_orders()[0]["version"], 2);
}

#[tokio::test]
async fn seed_files_are_loaded_with_validation() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("seed.json");
    let mut po = sample_purchase_order("PO-SEED", 0);
    po["supplier"] = json!({"number": "SD-1"});
    std::fs::write(
        &path,
        json!({"suppliers": [{"name": "Seed Co", "number": "SD-1"}], "purchase_orders": [po]})
            .to_string(),
    )
    .unwrap();
    let h = Sandbox::start(SandboxOptions {
        seed_files: vec![path.clone()],
        ..SandboxOptions::default()
    })
    .await
    .unwrap();
    let pos = h.purchase_orders();
    assert_eq!(pos.len(), 1);
    assert_eq!(pos[0]["supplier"]["name"], "Seed Co");
    drop(h);

    std::fs::write(
        &path,
        json!({"purchase_orders": [{"status": "issued"}]}).to_string(),
    )
    .unwrap();
    let err = Sandbox::start(SandboxOptions {
        seed_files: vec![path],
        ..SandboxOptions::default()
    })
    .await
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("purchase_orders[0]: Po number can't be blank"),
        "{err}"
    );
}
