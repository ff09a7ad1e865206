//! Shared test setup: a sandbox on port 0 with one supplier, and a client configured for it.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use adapter_coupa::{CoupaClient, CoupaClientConfig};
use gateway_core::Secret;
use gateway_sandbox::{Sandbox, SandboxHandle, SandboxOptions};
use std::str::FromStr;

use rust_decimal::Decimal;
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

/// A decimal from its text.
pub fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

/// A decimal Coupa's JSON gives as a string or a number.
pub fn num(v: &Value) -> Decimal {
    match v {
        Value::String(s) => d(s),
        Value::Number(n) => d(&n.to_string()),
        other => panic!("not a decimal: {other}"),
    }
}

/// `v[key]` as a decimal, zero when absent or null.
pub fn opt(v: &Value, key: &str) -> Decimal {
    v.get(key)
        .filter(|x| !x.is_null())
        .map_or(Decimal::ZERO, num)
}

/// What the parts of an invoice Coupa holds add up to: its lines' totals and tax lines, the
/// header tax, shipping, handling and misc amounts.
pub fn parts(held: &Value) -> Decimal {
    let mut sum = Decimal::ZERO;
    for l in held["invoice-lines"].as_array().unwrap() {
        sum += num(&l["total"]);
        sum += opt(l, "tax-amount");
        for t in l
            .get("tax-lines")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            sum += opt(t, "amount");
        }
    }
    for key in [
        "tax-amount",
        "shipping-amount",
        "handling-amount",
        "misc-amount",
    ] {
        sum += opt(held, key);
    }
    sum
}
