//! `/api/purchase_orders`: list (`exported=false`, operators, offset paging of 50,
//! `return_object=shallow`), show, and mark exported with `PUT /:id?exported=true` (or a body
//! `{"exported": true}`). A new version (a buyer's change) resets `exported` to false.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};

use crate::auth::authorize;
use crate::query::ListQuery;
use crate::reply;
use crate::server::SharedState;
use crate::store::{MAX_RECORDS, Store, id_of};

const READ: &[&str] = &["core.purchase_order.read", "core.purchase_order.write"];
const WRITE: &[&str] = &["core.purchase_order.write"];

fn now() -> String {
    chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S+00:00")
        .to_string()
}

/// Stores a PO: `po-number` required and unique; defaults `status` issued, `version` 1,
/// `exported` false; the supplier reference is expanded to `{id, name, number}` when known.
pub fn insert(store: &mut Store, body: Value) -> Result<u64, String> {
    let Value::Object(mut rec) = body else {
        return Err("Purchase order must be a JSON object".into());
    };
    let number = rec
        .get("po-number")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or("Po number can't be blank")?
        .to_string();
    if number.chars().count() > 20 {
        return Err("Po number is too long (maximum is 20 characters)".into());
    }
    if store
        .purchase_orders
        .iter()
        .any(|p| p.get("po-number").and_then(Value::as_str) == Some(number.as_str()))
    {
        return Err("Po number has already been taken".into());
    }
    if store.purchase_orders.len() >= MAX_RECORDS {
        return Err("Sandbox purchase order store is full".into());
    }
    if let Some(r) = rec.get("supplier")
        && let Some(s) = store.find_supplier(r)
    {
        let summary = json!({"id": s.get("id"), "name": s.get("name"), "number": s.get("number")});
        rec.insert("supplier".into(), summary);
    }
    let id = store.next_id();
    let mut lines = Vec::new();
    if let Some(Value::Array(ls)) = rec.get("order-lines") {
        for (i, l) in ls.iter().enumerate() {
            let mut l = l.as_object().cloned().unwrap_or_default();
            l.insert("id".into(), json!(store.next_id()));
            l.entry("line-num").or_insert(json!(i + 1));
            l.insert("order-header-id".into(), json!(id));
            lines.push(Value::Object(l));
        }
    }
    let at = now();
    rec.insert("id".into(), json!(id));
    rec.insert("order-lines".into(), Value::Array(lines));
    rec.entry("status").or_insert(json!("issued"));
    rec.entry("version").or_insert(json!(1));
    rec.entry("exported").or_insert(json!(false));
    rec.entry("created-at").or_insert(json!(at.clone()));
    rec.insert("updated-at".into(), json!(at));
    store.purchase_orders.push(Value::Object(rec));
    Ok(id)
}

/// A new PO version: `version` + 1 and `exported` back to false. False when unknown.
pub fn revise(store: &mut Store, id: u64) -> bool {
    let Some(po) = store.purchase_orders.iter_mut().find(|p| id_of(p) == id) else {
        return false;
    };
    let version = po.get("version").and_then(Value::as_u64).unwrap_or(1);
    if let Some(o) = po.as_object_mut() {
        o.insert("version".into(), json!(version.saturating_add(1)));
        o.insert("exported".into(), json!(false));
        o.insert("updated-at".into(), json!(now()));
    }
    true
}

/// A buyer's cancellation: `status` cancelled and `exported` back to false, the version kept
/// (whether Coupa also raises it is not documented; keeping it is the case a client must
/// not mistake for the version it already sent). False when unknown.
pub fn cancel(store: &mut Store, id: u64) -> bool {
    let Some(po) = store.purchase_orders.iter_mut().find(|p| id_of(p) == id) else {
        return false;
    };
    if let Some(o) = po.as_object_mut() {
        o.insert("status".into(), json!("cancelled"));
        o.insert("exported".into(), json!(false));
        o.insert("updated-at".into(), json!(now()));
    }
    true
}

fn not_found() -> Response {
    reply::error(
        StatusCode::NOT_FOUND,
        "order_header",
        "No results match your search criteria.",
    )
}

/// `GET /api/purchase_orders`.
pub async fn list(
    State(s): State<SharedState>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    if let Err(r) = authorize(&s, &headers, READ) {
        return r;
    }
    let q = ListQuery::parse(&q);
    let page = q.apply(s.store().purchase_orders.iter());
    reply::json(StatusCode::OK, Value::Array(page))
}

/// `GET /api/purchase_orders/:id`.
pub async fn show(
    State(s): State<SharedState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Err(r) = authorize(&s, &headers, READ) {
        return r;
    }
    let id: u64 = id.parse().unwrap_or(0);
    let found = s
        .store()
        .purchase_orders
        .iter()
        .find(|p| id_of(p) == id)
        .cloned();
    found.map_or_else(not_found, |v| reply::json(StatusCode::OK, v))
}

/// `PUT|PATCH /api/purchase_orders/:id?exported=true`: only `exported` is applied ("Any other
/// changes included may be ignored"); answers `{"id", "exported"}`-bearing record.
pub async fn update(
    State(s): State<SharedState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<Vec<(String, String)>>,
    body: Bytes,
) -> Response {
    if let Err(r) = authorize(&s, &headers, WRITE) {
        return r;
    }
    let id: u64 = id.parse().unwrap_or(0);
    let from_query = q
        .iter()
        .find(|(k, _)| k == "exported")
        .map(|(_, v)| v.trim() == "true");
    let from_body = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v.get("exported").and_then(Value::as_bool));
    let mut store = s.store();
    let Some(po) = store.purchase_orders.iter_mut().find(|p| id_of(p) == id) else {
        return not_found();
    };
    if let (Some(exported), Some(o)) = (from_query.or(from_body), po.as_object_mut()) {
        o.insert("exported".into(), json!(exported));
        if exported {
            o.insert("last-exported-at".into(), json!(now()));
        }
    }
    reply::json(StatusCode::OK, po.clone())
}
