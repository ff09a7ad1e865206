//! `/api/suppliers`: list with filters, show, create (name required and unique, number unique).
//! Records carry the PO transmission fields (`po-method`, `cxml-url`, cXML credentials,
//! `po-email`) and the cXML invoicing credentials.

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

const READ: &[&str] = &["core.supplier.read", "core.supplier.write"];
const WRITE: &[&str] = &["core.supplier.write"];

fn str_field<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
}

/// Validates and stores a supplier; defaults as Coupa: `status` draft→ we use `active` so
/// seeded suppliers are usable, `payment-method` invoice, `po-method` prompt, and
/// `po-change-method` the record's `po-method` (Coupa's records carry both fields; what Coupa
/// defaults the second to is not published, and the same method is the plain case).
pub fn insert(store: &mut Store, body: Value) -> Result<u64, String> {
    let Value::Object(mut rec) = body else {
        return Err("Supplier must be a JSON object".into());
    };
    let probe = Value::Object(rec.clone());
    let Some(name) = str_field(&probe, "name") else {
        return Err("Name can't be blank".into());
    };
    if name.chars().count() > 100 {
        return Err("Name is too long (maximum is 100 characters)".into());
    }
    let taken = |key: &str, val: &str| {
        store.suppliers.iter().any(|s| {
            s.get(key)
                .and_then(Value::as_str)
                .is_some_and(|x| x.eq_ignore_ascii_case(val))
        })
    };
    if taken("name", name) {
        return Err("Name has already been taken".into());
    }
    if let Some(number) = str_field(&probe, "number")
        && taken("number", number)
    {
        return Err("Number has already been taken".into());
    }
    if store.suppliers.len() >= MAX_RECORDS {
        return Err("Sandbox supplier store is full".into());
    }
    let id = store.next_id();
    rec.insert("id".into(), json!(id));
    rec.entry("status").or_insert(json!("active"));
    rec.entry("payment-method").or_insert(json!("invoice"));
    let po_method = rec.entry("po-method").or_insert(json!("prompt")).clone();
    rec.entry("po-change-method").or_insert(po_method);
    store.suppliers.push(Value::Object(rec));
    Ok(id)
}

/// Secrets are write-only: never returned by the API.
fn public(s: &Value) -> Value {
    let mut s = s.clone();
    if let Some(o) = s.as_object_mut() {
        o.retain(|k, _| !k.ends_with("secret") && !k.ends_with("password"));
    }
    s
}

/// `GET /api/suppliers`.
pub async fn list(
    State(s): State<SharedState>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    if let Err(r) = authorize(&s, &headers, READ) {
        return r;
    }
    let q = ListQuery::parse(&q);
    let page: Vec<Value> = q
        .apply(s.store().suppliers.iter())
        .iter()
        .map(public)
        .collect();
    reply::json(StatusCode::OK, Value::Array(page))
}

/// `GET /api/suppliers/:id`.
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
        .suppliers
        .iter()
        .find(|x| id_of(x) == id)
        .map(public);
    found.map_or_else(
        || {
            reply::error(
                StatusCode::NOT_FOUND,
                "supplier",
                "No results match your search criteria.",
            )
        },
        |v| reply::json(StatusCode::OK, v),
    )
}

/// `POST /api/suppliers`.
pub async fn create(State(s): State<SharedState>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(r) = authorize(&s, &headers, WRITE) {
        return r;
    }
    let parsed: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return reply::error(StatusCode::BAD_REQUEST, "supplier", &e.to_string()),
    };
    let mut store = s.store();
    match insert(&mut store, parsed) {
        Ok(id) => {
            let rec = store.suppliers.iter().find(|x| id_of(x) == id).map(public);
            reply::json(StatusCode::CREATED, rec.unwrap_or(json!({ "id": id })))
        }
        Err(e) => reply::error(StatusCode::BAD_REQUEST, "supplier", &e),
    }
}
