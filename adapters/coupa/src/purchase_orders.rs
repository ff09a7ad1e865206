//! Purchase orders: pull the ones not yet exported (`exported=false`, pages of 50 with
//! `offset`, extra `attr[op]=value` filters, optional `return_object=shallow`) and mark each
//! exported with its own `PUT /api/purchase_orders/:id?exported=true`.

use reqwest::Method;
use serde_json::Value;

use crate::client::CoupaClient;
use crate::error::CoupaError;
use crate::mapping::purchase_order_from_coupa;

/// Coupa returns at most 50 records per GET.
pub const PAGE_SIZE: usize = 50;
/// Most pages read in one pull (100,000 POs); the rest waits for the next pull.
pub const MAX_PAGES: usize = 2_000;

/// Which POs to pull.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoQuery {
    /// Extra conditions as Coupa writes them: `("status[in]", "issued,closed")`,
    /// `("supplier[name]", "Acme")`, `("updated_at[gt]", "2025-01-01")`.
    pub filters: Vec<(String, String)>,
    /// Add `exported=false` (the export pattern Coupa documents).
    pub only_unexported: bool,
    /// `return_object=shallow`: attributes plus ids of associations (smaller, no lines).
    pub shallow: bool,
}

impl Default for PoQuery {
    fn default() -> Self {
        PoQuery {
            filters: Vec::new(),
            only_unexported: true,
            shallow: false,
        }
    }
}

impl PoQuery {
    /// Adds a condition, `attr` may carry an operator: `status[in]`.
    pub fn filter(mut self, attr: &str, value: &str) -> Self {
        self.filters.push((attr.to_string(), value.to_string()));
        self
    }
}

impl CoupaClient {
    /// One page: `offset` records skipped, at most 50 returned.
    pub async fn purchase_orders_page(
        &self,
        q: &PoQuery,
        offset: usize,
    ) -> Result<Vec<Value>, CoupaError> {
        let mut params: Vec<(String, String)> = Vec::new();
        if q.only_unexported {
            params.push(("exported".into(), "false".into()));
        }
        params.extend(q.filters.iter().cloned());
        if q.shallow {
            params.push(("return_object".into(), "shallow".into()));
        }
        params.push(("offset".into(), offset.to_string()));
        params.push(("limit".into(), PAGE_SIZE.to_string()));
        let v = self
            .retrying("list purchase orders", || {
                self.call(Method::GET, "/api/purchase_orders", &params, None)
            })
            .await?;
        match v {
            Value::Array(a) => Ok(a),
            Value::Null => Ok(Vec::new()),
            other => Err(CoupaError::Decode(format!(
                "expected a JSON array of purchase orders, got {}",
                kind(&other)
            ))),
        }
    }

    /// Every matching PO, page by page until a short page. Read them all before marking any
    /// exported: marking shrinks the `exported=false` set and would shift later offsets.
    pub async fn purchase_orders(&self, q: &PoQuery) -> Result<Vec<Value>, CoupaError> {
        let mut all = Vec::new();
        for page in 0..MAX_PAGES {
            let batch = self.purchase_orders_page(q, page * PAGE_SIZE).await?;
            let n = batch.len();
            all.extend(batch);
            if n < PAGE_SIZE {
                break;
            }
        }
        Ok(all)
    }

    /// `PUT /api/purchase_orders/:id?exported=true` (safe to repeat). Checks Coupa's answer
    /// says `exported: true`.
    pub async fn mark_exported(&self, id: u64) -> Result<(), CoupaError> {
        self.set_exported(id, true).await
    }

    /// `PUT /api/purchase_orders/:id?exported=<exported>` (safe to repeat). Checks Coupa's
    /// answer says so. `false` puts a PO marked too early (a buyer's change landed while it
    /// was being marked) back among those the poller reads.
    pub async fn set_exported(&self, id: u64, exported: bool) -> Result<(), CoupaError> {
        let path = format!("/api/purchase_orders/{id}");
        let q = vec![("exported".to_string(), exported.to_string())];
        let what = if exported {
            "mark exported"
        } else {
            "mark not exported"
        };
        let v = self
            .retrying(what, || self.call(Method::PUT, &path, &q, None))
            .await?;
        match v.get("exported") {
            None => Ok(()),
            Some(Value::Bool(b)) if *b == exported => Ok(()),
            Some(other) => Err(CoupaError::Decode(format!(
                "PO {id}: exported = {other} after PUT exported={exported}"
            ))),
        }
    }
}

/// One PO pulled from Coupa: its id (to mark it exported after the bus confirmed it), the
/// raw JSON (for the raw store) and its canonical form or why it could not be mapped.
#[derive(Debug)]
pub struct PulledOrder {
    pub coupa_id: Option<u64>,
    pub raw: Value,
    pub order: Result<gateway_model::PurchaseOrder, CoupaError>,
}

impl CoupaClient {
    /// Pulls every matching PO and maps each; one bad PO does not lose the others. Mark each
    /// exported ([`CoupaClient::mark_exported`]) only after it was published.
    pub async fn pull_purchase_orders(&self, q: &PoQuery) -> Result<Vec<PulledOrder>, CoupaError> {
        let raw = self.purchase_orders(q).await?;
        Ok(raw
            .into_iter()
            .map(|r| PulledOrder {
                coupa_id: r.get("id").and_then(Value::as_u64),
                order: purchase_order_from_coupa(&r),
                raw: r,
            })
            .collect())
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Object(_) => "an object",
        Value::String(_) => "a string",
        Value::Number(_) => "a number",
        Value::Bool(_) => "a boolean",
        Value::Array(_) => "an array",
        Value::Null => "null",
    }
}
