//! Demo seed data and the entry point for `gateway sandbox --port N`.

use std::net::SocketAddr;
use std::path::PathBuf;

use serde_json::{Value, json};

use crate::server::{Sandbox, SandboxError, SandboxHandle, SandboxOptions};

/// A Coupa-shaped purchase order for `supplier_id` with two lines, for demos and tests: with
/// payment and shipping terms and a ship-to attention line, which every supplier channel
/// (cXML, X12, CSV, e-mail) must pass on.
pub fn sample_purchase_order(po_number: &str, supplier_id: u64) -> Value {
    json!({
        "po-number": po_number,
        "status": "issued",
        "currency": {"code": "USD"},
        "supplier": {"id": supplier_id},
        "payment-term": {"code": "Net 30"},
        "shipping-term": {"id": 2, "code": "FOB Destination"},
        "ship-to-attention": "J Madden",
        "ship-to-address": {
            "name": "Main Warehouse",
            "street1": "333 East Hill Dr",
            "city": "San Leandro",
            "state": "CA",
            "postal-code": "94577",
            "country": {"code": "US"}
        },
        "total": "1505.00",
        "order-lines": [
            {"line-num": 1, "description": "Laptop stand", "quantity": "10.0", "price": "100.50",
             "total": "1005.00", "uom": {"code": "EA"}, "source-part-num": "LS-100",
             "need-by-date": "2025-06-01T00:00:00+00:00", "type": "OrderQuantityLine"},
            {"line-num": 2, "description": "Cable kit", "quantity": "5.0", "price": "100.00",
             "total": "500.00", "uom": {"code": "EA"}, "source-part-num": "CK-5",
             "type": "OrderQuantityLine"}
        ]
    })
}

/// Adds `supplier` (a Coupa supplier record) with one issued, unexported sample PO numbered
/// `po_number`; returns the supplier id.
pub fn add_supplier_with_po(
    handle: &SandboxHandle,
    supplier: Value,
    po_number: &str,
) -> Result<u64, String> {
    let id = handle.add_supplier(supplier)?;
    handle.add_purchase_order(sample_purchase_order(po_number, id))?;
    Ok(id)
}

/// Seeds one supplier (`Acme Supplies`, number `ACME-1`, cXML PO method pointing at the
/// sandbox's own test supplier endpoint, cXML invoicing identity `acme`/secret `acme-secret`)
/// and `po_count` issued, unexported POs. Returns the supplier id.
pub fn seed_demo(handle: &SandboxHandle, po_count: usize) -> Result<u64, String> {
    let supplier = handle.add_supplier(json!({
        "name": "Acme Supplies",
        "number": "ACME-1",
        "po-method": "cxml",
        "cxml-url": format!("{}/supplier/acme/cxml", handle.base_url()),
        "cxml-domain": "NetworkID",
        "cxml-identity": "coupa-buyer",
        "cxml-supplier-domain": "DUNS",
        "cxml-supplier-identity": "acme",
        "cxml-secret": "acme-po-secret",
        "po-email": "orders@acme.example",
        "allow-cxml-invoicing": true,
        "cxml-invoice-supplier-domain": "DUNS",
        "cxml-invoice-supplier-identity": "acme",
        "cxml-invoice-secret": "acme-secret",
        "invoice-matching-level": "2-way"
    }))?;
    for i in 1..=po_count {
        handle.add_purchase_order(sample_purchase_order(&format!("PO-{i:05}"), supplier))?;
    }
    Ok(supplier)
}

/// What `gateway sandbox` accepts.
#[derive(Debug, Clone, Default)]
pub struct CliOptions {
    pub port: u16,
    /// Listen on 0.0.0.0 instead of 127.0.0.1.
    pub public: bool,
    /// State file: loaded at start when it exists, saved at Ctrl-C.
    pub snapshot: Option<PathBuf>,
    /// Seed files with suppliers and purchase orders (Coupa JSON).
    pub seed_files: Vec<PathBuf>,
    /// Skip the demo supplier and POs.
    pub no_demo: bool,
}

/// Runs the sandbox with demo data (unless `no_demo`, or a snapshot was loaded) until Ctrl-C,
/// then saves the snapshot when one is given. The entry point for `gateway sandbox --port N`.
pub async fn run_cli(opts: CliOptions) -> Result<(), SandboxError> {
    let ip = if opts.public {
        [0, 0, 0, 0]
    } else {
        [127, 0, 0, 1]
    };
    let fresh = opts.snapshot.as_ref().is_none_or(|p| !p.exists());
    let handle = Sandbox::start(SandboxOptions {
        addr: Some(SocketAddr::from((ip, opts.port))),
        snapshot: opts.snapshot,
        seed_files: opts.seed_files,
        ..SandboxOptions::default()
    })
    .await?;
    if fresh && !opts.no_demo {
        seed_demo(&handle, 3).map_err(SandboxError::Serve)?;
    }
    println!(
        "coupa sandbox on {} (client_id sandbox-client, client_secret sandbox-secret); Ctrl-C stops",
        handle.base_url()
    );
    let _ = tokio::signal::ctrl_c().await;
    handle.shutdown().await
}
