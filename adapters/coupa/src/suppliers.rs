//! Supplier lookup by id, number or name (`/api/suppliers`), cached: suppliers change rarely
//! and every invoice needs one.

use std::collections::HashMap;
use std::sync::Mutex;

use gateway_core::profile::CoupaSupplierRef;
use reqwest::Method;
use serde_json::Value;

use crate::client::CoupaClient;
use crate::error::CoupaError;

/// Most cached suppliers; the cache is emptied when full (simple and bounded).
const MAX_CACHED: usize = 10_000;

/// A Coupa supplier as the gateway needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoupaSupplier {
    pub id: u64,
    pub name: Option<String>,
    pub number: Option<String>,
    /// `po-method` (`cxml`, `email`, `prompt`, ...).
    pub po_method: Option<String>,
    pub cxml_url: Option<String>,
}

impl CoupaSupplier {
    /// Reads a supplier record; `None` without a numeric id.
    pub fn from_json(v: &Value) -> Option<Self> {
        let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
        Some(CoupaSupplier {
            id: v.get("id").and_then(Value::as_u64)?,
            name: s("name"),
            number: s("number"),
            po_method: s("po-method"),
            cxml_url: s("cxml-url"),
        })
    }
}

/// Cache keyed by `id:`, `number:` or `name:` plus the value.
#[derive(Debug, Default)]
pub struct SupplierCache {
    map: Mutex<HashMap<String, CoupaSupplier>>,
}

impl SupplierCache {
    fn get(&self, key: &str) -> Option<CoupaSupplier> {
        self.map
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(key)
            .cloned()
    }

    fn put(&self, key: String, s: CoupaSupplier) {
        let mut m = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if m.len() >= MAX_CACHED {
            m.clear();
        }
        m.insert(key, s);
    }
}

impl CoupaClient {
    /// `GET /api/suppliers/:id`.
    pub async fn supplier_by_id(&self, id: u64) -> Result<CoupaSupplier, CoupaError> {
        let key = format!("id:{id}");
        if let Some(s) = self.suppliers.get(&key) {
            return Ok(s);
        }
        let path = format!("/api/suppliers/{id}");
        let v = self
            .retrying("supplier by id", || {
                self.call(Method::GET, &path, &[], None)
            })
            .await
            .map_err(|e| match e {
                CoupaError::NotFound(_) => CoupaError::SupplierNotFound(format!("id {id}")),
                other => other,
            })?;
        let s = CoupaSupplier::from_json(&v)
            .ok_or_else(|| CoupaError::Decode("supplier without id".into()))?;
        self.suppliers.put(key, s.clone());
        Ok(s)
    }

    async fn supplier_by(&self, attr: &str, value: &str) -> Result<CoupaSupplier, CoupaError> {
        let key = format!("{attr}:{value}");
        if let Some(s) = self.suppliers.get(&key) {
            return Ok(s);
        }
        let q = vec![(attr.to_string(), value.to_string())];
        let v = self
            .retrying("supplier lookup", || {
                self.call(Method::GET, "/api/suppliers", &q, None)
            })
            .await?;
        let found = v
            .as_array()
            .and_then(|a| a.first())
            .and_then(CoupaSupplier::from_json)
            .ok_or_else(|| CoupaError::SupplierNotFound(format!("{attr} {value:?}")))?;
        self.suppliers.put(key, found.clone());
        Ok(found)
    }

    /// `GET /api/suppliers?number=...`.
    pub async fn supplier_by_number(&self, number: &str) -> Result<CoupaSupplier, CoupaError> {
        self.supplier_by("number", number).await
    }

    /// `GET /api/suppliers?name=...`.
    pub async fn supplier_by_name(&self, name: &str) -> Result<CoupaSupplier, CoupaError> {
        self.supplier_by("name", name).await
    }

    /// Resolves a partner's supplier reference: id first, then number, then name (Coupa's own
    /// order for imports).
    pub async fn resolve_supplier(
        &self,
        r: &CoupaSupplierRef,
    ) -> Result<CoupaSupplier, CoupaError> {
        if let Some(id) = r.id {
            return self.supplier_by_id(id).await;
        }
        if let Some(n) = r.number.as_deref().filter(|n| !n.trim().is_empty()) {
            return self.supplier_by_number(n.trim()).await;
        }
        if let Some(n) = r.name.as_deref().filter(|n| !n.trim().is_empty()) {
            return self.supplier_by_name(n.trim()).await;
        }
        Err(CoupaError::SupplierNotFound(
            "the supplier reference has no id, number or name".into(),
        ))
    }
}
