//! The admin API under `/sandbox/`: faults, latency, token expiry, seeding and inspection.
//! Never subject to faults itself.

use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::faults::FaultSpec;
use crate::reply;
use crate::server::{Shared, SharedState};
use crate::{purchase_orders, suppliers};

/// `POST /sandbox/faults` with a [`FaultSpec`] or a list of them.
pub async fn add_fault(State(s): State<SharedState>, Json(body): Json<Value>) -> Response {
    let specs: Result<Vec<FaultSpec>, _> = match body {
        Value::Array(_) => serde_json::from_value(body),
        other => serde_json::from_value(other).map(|one| vec![one]),
    };
    let specs = match specs {
        Ok(s) => s,
        Err(e) => return reply::error(StatusCode::BAD_REQUEST, "fault", &e.to_string()),
    };
    let mut faults = s.faults();
    for spec in specs {
        if !faults.add(spec) {
            return reply::error(StatusCode::BAD_REQUEST, "fault", "too many fault rules");
        }
    }
    reply::json(StatusCode::OK, json!({ "pending": faults.pending() }))
}

/// `DELETE /sandbox/faults`: clears rules and latency.
pub async fn clear_faults(State(s): State<SharedState>) -> Response {
    s.faults().clear();
    reply::json(StatusCode::OK, json!({ "pending": 0 }))
}

#[derive(Debug, Deserialize)]
pub struct Latency {
    ms: u64,
}

/// `POST /sandbox/latency {"ms": 50}`: added to every non-admin request.
pub async fn set_latency(State(s): State<SharedState>, Json(l): Json<Latency>) -> Response {
    s.faults().set_latency(Duration::from_millis(l.ms));
    reply::json(StatusCode::OK, json!({ "latency_ms": l.ms }))
}

/// `GET /sandbox/state`: counters and record counts.
pub async fn state(State(s): State<SharedState>) -> Response {
    let pending = s.faults().pending();
    let store = s.store();
    reply::json(
        StatusCode::OK,
        json!({
            "stats": store.stats,
            "suppliers": store.suppliers.len(),
            "invoices": store.invoices.len(),
            "purchase_orders": store.purchase_orders.len(),
            "received": store.received.len(),
            "faults_pending": pending,
        }),
    )
}

pub fn expire_all(s: &Shared) {
    let now = Instant::now();
    for t in s.store().tokens.values_mut() {
        t.expires_at = now;
    }
}

/// `POST /sandbox/tokens/expire`: every issued token is now expired.
pub async fn expire_tokens(State(s): State<SharedState>) -> Response {
    expire_all(&s);
    reply::json(StatusCode::OK, json!({ "expired": true }))
}

/// `POST /sandbox/suppliers` with a Coupa supplier JSON.
pub async fn seed_supplier(State(s): State<SharedState>, Json(body): Json<Value>) -> Response {
    match suppliers::insert(&mut s.store(), body) {
        Ok(id) => reply::json(StatusCode::CREATED, json!({ "id": id })),
        Err(e) => reply::error(StatusCode::BAD_REQUEST, "supplier", &e),
    }
}

/// `POST /sandbox/purchase_orders` with a Coupa PO JSON.
pub async fn seed_purchase_order(
    State(s): State<SharedState>,
    Json(body): Json<Value>,
) -> Response {
    match purchase_orders::insert(&mut s.store(), body) {
        Ok(id) => reply::json(StatusCode::CREATED, json!({ "id": id })),
        Err(e) => reply::error(StatusCode::BAD_REQUEST, "order_header", &e),
    }
}

/// `POST /sandbox/purchase_orders/:id/revise`: a buyer's change (new version, not exported).
pub async fn revise_purchase_order(State(s): State<SharedState>, Path(id): Path<u64>) -> Response {
    po_changed(purchase_orders::revise(&mut s.store(), id), id)
}

/// The answer to a buyer's change of PO `id`: its id, or 404 when the sandbox has no such PO.
fn po_changed(found: bool, id: u64) -> Response {
    if found {
        reply::json(StatusCode::OK, json!({ "id": id }))
    } else {
        reply::error(
            StatusCode::NOT_FOUND,
            "order_header",
            "No results match your search criteria.",
        )
    }
}

/// `POST /sandbox/purchase_orders/:id/cancel`: the buyer cancels the PO
/// ([`purchase_orders::cancel`]).
pub async fn cancel_purchase_order(State(s): State<SharedState>, Path(id): Path<u64>) -> Response {
    po_changed(purchase_orders::cancel(&mut s.store(), id), id)
}

/// `GET /sandbox/status-updates`: invoice StatusUpdateRequests received by test suppliers.
pub async fn status_updates(State(s): State<SharedState>) -> Response {
    let r = s.store().status_updates.clone();
    reply::json(
        StatusCode::OK,
        serde_json::to_value(r).unwrap_or(Value::Null),
    )
}

/// `GET /sandbox/received`: OrderRequests received by test suppliers.
pub async fn received(State(s): State<SharedState>) -> Response {
    let r = s.store().received.clone();
    reply::json(
        StatusCode::OK,
        serde_json::to_value(r).unwrap_or(Value::Null),
    )
}
