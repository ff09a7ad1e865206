//! QA (qa14b items 3, 8, 10): what the gateway does with a supplier's cXML URL. A supplier
//! endpoint answering 307/308 had the whole OrderRequest, SharedSecret included, re-sent to the
//! host its `Location` named, and the PO marked delivered; a password or token in a supplier's
//! URL was written to the INFO log and the ledger; a supplier with no profile whose Coupa record
//! lacks its cXML identities died naming a partner-profile setting that does not exist. Each
//! runs the whole path: the Coupa sandbox holds the PO, the running service polls and sends it
//! to the sandbox's supplier endpoint, and the ledger and logs are read as an operator would.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use gateway_sandbox::{FaultKind, FaultSpec, Sandbox, SandboxHandle, SandboxOptions};
use gateway_server::demo::{DemoEnv, DemoOptions};
use gateway_server::ledger::Entry;
use serde_json::json;

mod common;

/// Longest wait for the service to poll and deliver.
const GUARD: Duration = Duration::from_secs(60);

/// The one ledger row of PO `number` once its status is `status`.
fn row_once(env: &DemoEnv, number: &str, status: &str) -> Option<Entry> {
    let rows = env.running.ledger.list(Some(number), None, 10).ok()?;
    match rows.as_slice() {
        [row] if row.status == status => Some(row.clone()),
        _ => None,
    }
}

/// Waits for PO `number` to reach `status`; its row.
async fn settled(env: &DemoEnv, number: &str, status: &str) -> Entry {
    assert!(
        env.wait_until(GUARD, |e| row_once(e, number, status).is_some())
            .await,
        "{number} never became {status}: {:?}",
        env.running.ledger.list(Some(number), None, 10)
    );
    row_once(env, number, status).unwrap()
}

/// How many requests `sandbox` served on `POST path`.
fn posts(sandbox: &SandboxHandle, path: &str) -> usize {
    sandbox
        .request_log()
        .iter()
        .filter(|r| r.method == "POST" && r.path == path)
        .count()
}

/// Item 3: a 308, then a 307, from the supplier's endpoint. The OrderRequest goes nowhere else
/// (the host the Location names serves nothing), the endpoint sees the one request, the PO is
/// not marked exported, and it dies at once (a redirect does not go away by itself) with a
/// reason naming the status, the Location (its token hidden) and what to correct.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supplier_redirect_is_not_followed_and_the_po_dies_naming_the_location() {
    common::logs();
    let env = DemoEnv::start(DemoOptions::default()).await.unwrap();
    let elsewhere = Sandbox::start(SandboxOptions::default()).await.unwrap();
    let acme = common::demo_acme(&env.sandbox);
    for (status, number) in [(308, "PO-REDIR-308"), (307, "PO-REDIR-307")] {
        let before = posts(&env.sandbox, "/supplier/acme/cxml");
        let location = format!(
            "{}/supplier/acme/cxml?token=MOVED-TOKEN",
            elsewhere.base_url()
        );
        assert!(env.sandbox.inject(FaultSpec::new(
            "POST /supplier/acme/cxml",
            FaultKind::Redirect { status, location },
            5,
        )));
        env.sandbox
            .add_purchase_order(gateway_sandbox::demo::sample_purchase_order(number, acme))
            .unwrap();

        let row = settled(&env, number, "dead").await;
        let shown = format!("{}/supplier/acme/cxml?token=***", elsewhere.base_url());
        assert!(
            row.detail
                .contains(&format!("answered HTTP {status} redirecting to {shown}"))
                && row.detail.contains("correct the supplier's URL")
                && !row.detail.contains("MOVED-TOKEN"),
            "{}",
            row.detail
        );
        assert_eq!(
            posts(&env.sandbox, "/supplier/acme/cxml") - before,
            1,
            "{:?}",
            env.sandbox.request_log()
        );
        assert!(!env.sandbox.purchase_order_exported(number));
        env.sandbox.clear_faults();
    }
    assert!(
        elsewhere.request_log().is_empty(),
        "the redirect was followed: {:?}",
        elsewhere.request_log()
    );
    assert!(elsewhere.supplier_received().is_empty());
    assert!(env.sandbox.supplier_received().is_empty());
    env.shutdown().await.unwrap();
}

/// Item 8: a supplier known only from its Coupa record, whose cxml-url holds a password and a
/// token. The order is sent to that URL (the sandbox's endpoint gets it), but the ledger (row,
/// `sent_to`, `gateway documents`) and the log show it as `svc:***@...?token=***`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_or_token_in_a_supplier_url_is_neither_logged_nor_stored() {
    common::logs();
    let env = DemoEnv::start(DemoOptions::default()).await.unwrap();
    let addr = env.sandbox.addr();
    let url = format!("http://svc:HTTP-PASSWORD-123@{addr}/supplier/np/cxml?token=URLTOKEN-456");
    gateway_sandbox::demo::add_supplier_with_po(
        &env.sandbox,
        json!({
            "name": "Credentialed Supplies",
            "number": "SUP-CRED",
            "po-method": "cxml",
            "cxml-url": url,
            "cxml-domain": "NetworkID",
            "cxml-identity": "coupa-buyer",
            "cxml-supplier-domain": "DUNS",
            "cxml-supplier-identity": "np",
        }),
        "PO-CRED-1",
    )
    .unwrap();

    let row = settled(&env, "PO-CRED-1", "delivered").await;
    let received: Vec<_> = env
        .sandbox
        .supplier_received()
        .into_iter()
        .map(|r| (r.supplier, r.order_id))
        .collect();
    assert_eq!(
        received,
        [("np".to_string(), Some("PO-CRED-1".to_string()))]
    );

    let shown = format!("http://svc:***@{addr}/supplier/np/cxml?token=***");
    let sent_to = env
        .running
        .ledger
        .sent_to(&row.idempotency_key)
        .unwrap()
        .unwrap_or_default();
    let listed = common::gateway_ok(&env, &["documents", "--number", "PO-CRED-1"]);
    let listed_json = common::gateway_ok(&env, &["documents", "--number", "PO-CRED-1", "--json"]);
    let logged = common::logged();
    for (what, text) in [
        ("ledger detail", row.detail.as_str()),
        ("sent_to", sent_to.as_str()),
        ("gateway documents", listed.as_str()),
        ("gateway documents --json", listed_json.as_str()),
        ("log", logged.as_str()),
    ] {
        assert!(
            !text.contains("HTTP-PASSWORD-123") && !text.contains("URLTOKEN-456"),
            "{what} shows the secret: {text}"
        );
    }
    for (what, text) in [
        ("ledger detail", row.detail.as_str()),
        ("gateway documents", listed.as_str()),
        ("log", logged.as_str()),
    ] {
        assert!(
            text.contains(&shown),
            "{what} does not name {shown}: {text}"
        );
    }
    env.shutdown().await.unwrap();
}

/// A webhook-style supplier URL carries its secret as a path segment: the order is sent to the
/// URL as it is, but the dead letter's reason (an order refused), the ledger (row, `sent_to`,
/// `gateway documents`, `gateway dlq list`) and the log show the segment as `***`, the
/// segments around it as they are.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secret_in_a_supplier_url_path_is_neither_logged_nor_stored() {
    common::logs();
    let env = DemoEnv::start(DemoOptions::default()).await.unwrap();
    let addr = env.sandbox.addr();
    let secret = "hk8f14e45fceea167a5a36dedd4bea2543";
    let path = format!("/supplier/{secret}/cxml");
    let url = format!("http://{addr}{path}");
    let shown = format!("http://{addr}/supplier/***/cxml");
    // The first order is refused by the supplier (a permanent 400): it dies at once.
    assert!(env.sandbox.inject(FaultSpec::new(
        &format!("POST {path}"),
        FaultKind::Status { status: 400 },
        1,
    )));
    let id = gateway_sandbox::demo::add_supplier_with_po(
        &env.sandbox,
        json!({
            "name": "Webhook Supplies",
            "number": "SUP-HOOK",
            "po-method": "cxml",
            "cxml-url": url,
            "cxml-domain": "NetworkID",
            "cxml-identity": "coupa-buyer",
            "cxml-supplier-domain": "DUNS",
            "cxml-supplier-identity": "hook",
        }),
        "PO-HOOK-1",
    )
    .unwrap();
    let dead = settled(&env, "PO-HOOK-1", "dead").await;
    assert!(
        dead.detail
            .contains(&format!("{shown} refused the order with HTTP 400")),
        "{}",
        dead.detail
    );
    let dead_letters = common::gateway_ok(&env, &["dlq", "list"]);
    assert!(
        dead_letters.contains("PO-HOOK-1") && dead_letters.contains(&shown),
        "{dead_letters}"
    );

    // The second one goes through.
    env.sandbox
        .add_purchase_order(gateway_sandbox::demo::sample_purchase_order(
            "PO-HOOK-2",
            id,
        ))
        .unwrap();
    let row = settled(&env, "PO-HOOK-2", "delivered").await;
    let received: Vec<_> = env
        .sandbox
        .supplier_received()
        .into_iter()
        .map(|r| (r.supplier, r.order_id))
        .collect();
    assert_eq!(
        received,
        [(secret.to_string(), Some("PO-HOOK-2".to_string()))]
    );

    let sent_to = env
        .running
        .ledger
        .sent_to(&row.idempotency_key)
        .unwrap()
        .unwrap_or_default();
    let listed = common::gateway_ok(&env, &["documents", "--number", "PO-HOOK-2"]);
    let listed_dead = common::gateway_ok(&env, &["documents", "--number", "PO-HOOK-1"]);
    let listed_json = common::gateway_ok(&env, &["documents", "--number", "PO-HOOK-2", "--json"]);
    let logged = common::logged();
    for (what, text) in [
        ("dead letter reason in the ledger", dead.detail.as_str()),
        ("gateway dlq list", dead_letters.as_str()),
        ("ledger detail", row.detail.as_str()),
        ("sent_to", sent_to.as_str()),
        ("gateway documents", listed.as_str()),
        ("gateway documents of the dead one", listed_dead.as_str()),
        ("gateway documents --json", listed_json.as_str()),
        ("log", logged.as_str()),
    ] {
        assert!(!text.contains(secret), "{what} shows the secret: {text}");
    }
    for (what, text) in [
        ("ledger detail", row.detail.as_str()),
        ("gateway documents", listed.as_str()),
        ("log", logged.as_str()),
    ] {
        assert!(
            text.contains(&shown),
            "{what} does not name {shown}: {text}"
        );
    }
    env.shutdown().await.unwrap();
}

/// Item 10: a supplier with no partner profile whose Coupa record has po-method cxml but no
/// cxml-domain/cxml-identity died with "[cxml] to_domain is needed", a setting of a partner
/// profile it does not have. The reason names the record's fields and what to do; nothing is
/// sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_coupa_record_without_its_cxml_identities_is_named_in_the_reason() {
    common::logs();
    let env = DemoEnv::start(DemoOptions::default()).await.unwrap();
    let url = format!("{}/supplier/bare/cxml", env.sandbox.base_url());
    let id = gateway_sandbox::demo::add_supplier_with_po(
        &env.sandbox,
        json!({
            "name": "Bare Record",
            "number": "QA8-BADURL",
            "po-method": "cxml",
            "cxml-url": url,
            "cxml-supplier-domain": "DUNS",
            "cxml-supplier-identity": "bare",
        }),
        "PO-BARE-1",
    )
    .unwrap();

    let row = settled(&env, "PO-BARE-1", "dead").await;
    assert!(
        row.detail.contains(&format!(
            "not sent: Coupa supplier {id}: its po-method is cxml but its Coupa supplier record has no cxml-domain, cxml-identity,"
        )) && row
            .detail
            .contains("Fill them in on the supplier record in Coupa")
            && !row.detail.contains("to_domain")
            && !row.detail.contains("cxml-supplier-domain,"),
        "{}",
        row.detail
    );
    assert_eq!(posts(&env.sandbox, "/supplier/bare/cxml"), 0);
    env.shutdown().await.unwrap();
}
