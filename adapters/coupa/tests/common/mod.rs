//! Shared test setup: a sandbox on port 0 with one supplier, and a client configured for it.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use adapter_coupa::{CoupaClient, CoupaClientConfig};
use gateway_core::Secret;
use gateway_sandbox::{Sandbox, SandboxHandle, SandboxOptions};
use serde_json::{Value, json};

pub struct Env {
    pub sandbox: SandboxHandle,
    pub supplier_id: u64,
}

pub async fn start() -> Env {
    start_with(SandboxOptions::default()).await
}

pub async fn start_with(opts: SandboxOptions) -> Env {
    let sandbox = Sandbox::start(opts).await.unwrap();
    let supplier_id = sandbox
        .add_supplier(json!({
            "name": "Acme Supplies",
            "number": "ACME-1",
            "po-method": "cxml",
            "cxml-url": "http://127.0.0.1:1/unused",
            "allow-cxml-invoicing": true,
            "cxml-invoice-supplier-domain": "DUNS",
            "cxml-invoice-supplier-identity": "acme",
            "cxml-invoice-secret": "acme-secret"
        }))
        .unwrap();
    Env {
        sandbox,
        supplier_id,
    }
}

pub fn config(env: &Env) -> CoupaClientConfig {
    let mut c = CoupaClientConfig::new(
        env.sandbox.base_url(),
        "sandbox-client",
        Secret::new("sandbox-secret"),
    );
    c.backoff_base = Duration::from_millis(10);
    c.backoff_max = Duration::from_millis(100);
    // The sandbox takes a token at once unless a test asks it not to.
    c.token_activation = Duration::ZERO;
    c
}

pub fn client(env: &Env) -> CoupaClient {
    CoupaClient::new(config(env)).unwrap()
}

/// A client whose requests time out quickly, for the hang / drop faults.
pub fn impatient_client(env: &Env) -> CoupaClient {
    let mut c = config(env);
    c.timeout = Duration::from_secs(2);
    CoupaClient::new(c).unwrap()
}

/// A minimal valid Coupa invoice body for the sandbox's supplier.
pub fn invoice_body(supplier_id: u64, number: &str) -> Value {
    json!({
        "invoice-number": number,
        "invoice-date": "2025-04-22",
        "supplier": {"id": supplier_id},
        "currency": {"code": "USD"},
        "line-level-taxation": false,
        "invoice-lines": [{
            "line-num": 1, "type": "InvoiceQuantityLine", "description": "Widgets",
            "price": "250.00", "quantity": "20.0", "total": "5000.00", "uom": {"code": "EA"}
        }]
    })
}

/// Invoices in the sandbox with this number.
pub fn count_invoices(env: &Env, number: &str) -> usize {
    env.sandbox
        .invoices()
        .iter()
        .filter(|i| i["invoice-number"] == number)
        .count()
}

/// Token requests the sandbox answered.
pub fn token_requests(env: &Env) -> usize {
    env.sandbox
        .request_log()
        .iter()
        .filter(|r| r.path == "/oauth2/token")
        .count()
}
