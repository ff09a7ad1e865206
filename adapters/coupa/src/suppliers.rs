//! Supplier lookup by id, number or name (`/api/suppliers`), cached: suppliers change rarely
//! and every invoice needs one.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use gateway_core::Secret;
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
    /// `po-change-method`: how changes and cancellations of a PO are transmitted, which
    /// Coupa keeps apart from `po-method` (a supplier may take new orders by cXML and want
    /// changes held for the buyer, `prompt`).
    pub po_change_method: Option<String>,
    pub cxml_url: Option<String>,
    /// `po-email`: one address or a comma-separated list.
    pub po_email: Option<String>,
    /// The cXML credentials Coupa would use for this supplier's POs.
    pub po_cxml: SupplierPoCxml,
}

/// The supplier record's cXML PO credentials, named as Coupa names them: `cxml-domain` and
/// `cxml-identity` are the buyer (From), `cxml-supplier-*` the supplier (To), `cxml-secret`
/// the shared secret sent with them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SupplierPoCxml {
    pub buyer_domain: Option<String>,
    pub buyer_identity: Option<String>,
    pub supplier_domain: Option<String>,
    pub supplier_identity: Option<String>,
    pub secret: Option<Secret>,
}

/// How the supplier's record says its purchase orders are transmitted, as far as the gateway
/// is concerned: it sends what Coupa would send by cXML or e-mail, and leaves the rest alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SupplierPoChannel {
    /// `po-method` `cxml`: POST an OrderRequest to `cxml-url`.
    Cxml { url: String },
    /// `po-method` `email`: mail the PO to `po-email`.
    Email { to: String },
    /// Not ours to send, with the reason in words (`prompt` holds POs for the buyer,
    /// `mark_as_sent` and `buy_online` send nothing, `xml` is Coupa's own format, or the
    /// method's address is missing).
    NotSent { reason: String },
}

impl CoupaSupplier {
    /// Reads a supplier record; `None` without a numeric id.
    pub fn from_json(v: &Value) -> Option<Self> {
        let s = |k: &str| {
            v.get(k)
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_string)
        };
        Some(CoupaSupplier {
            id: v.get("id").and_then(Value::as_u64)?,
            name: s("name"),
            number: s("number"),
            po_method: s("po-method"),
            po_change_method: s("po-change-method"),
            cxml_url: s("cxml-url"),
            po_email: s("po-email"),
            po_cxml: SupplierPoCxml {
                buyer_domain: s("cxml-domain"),
                buyer_identity: s("cxml-identity"),
                supplier_domain: s("cxml-supplier-domain"),
                supplier_identity: s("cxml-supplier-identity"),
                secret: s("cxml-secret").map(Secret::new),
            },
        })
    }

    /// The channel the record names for new purchase orders (`po-method`).
    pub fn po_channel(&self) -> SupplierPoChannel {
        self.channel_of("po-method", self.po_method.as_deref())
    }

    /// The channel the record names for changes and cancellations of a PO
    /// (`po-change-method`). A record without one (an older Coupa, or a supplier set up
    /// before the field existed) sends them as it sends new orders, by `po-method`.
    pub fn po_change_channel(&self) -> SupplierPoChannel {
        match self.po_change_method.as_deref() {
            Some(method) => self.channel_of("po-change-method", Some(method)),
            None => self.po_channel(),
        }
    }

    /// The channel `method`, the value of the record's `field`, names.
    fn channel_of(&self, field: &str, method: Option<&str>) -> SupplierPoChannel {
        let method = method.unwrap_or("").to_ascii_lowercase();
        let not_sent = |why: String| SupplierPoChannel::NotSent { reason: why };
        match method.as_str() {
            "cxml" => match &self.cxml_url {
                Some(url) => SupplierPoChannel::Cxml { url: url.clone() },
                None => not_sent(format!("its {field} is cxml but it has no cxml-url")),
            },
            "email" => match &self.po_email {
                Some(to) => SupplierPoChannel::Email { to: to.clone() },
                None => not_sent(format!("its {field} is email but it has no po-email")),
            },
            "" => not_sent(format!("it has no {field}")),
            "prompt" => not_sent(format!(
                "its {field} is prompt: Coupa holds {} for the buyer to release",
                if field == "po-method" {
                    "its POs"
                } else {
                    "changes and cancellations of its POs"
                }
            )),
            other => not_sent(format!(
                "its {field} is {other}, which the gateway does not send (cxml and email only)"
            )),
        }
    }
}

/// How long a cached supplier is trusted: long enough that invoices rarely wait on a lookup,
/// short enough that a change in Coupa (a new `po-method` or `cxml-url`, a renamed supplier)
/// is seen within minutes, without a restart.
const CACHE_TTL: Duration = Duration::from_secs(300);

/// Cache keyed by `id:`, `number:` or `name:` plus the value, each entry with when it was read.
#[derive(Debug, Default)]
pub struct SupplierCache {
    map: Mutex<HashMap<String, (Instant, CoupaSupplier)>>,
}

impl SupplierCache {
    fn get(&self, key: &str) -> Option<CoupaSupplier> {
        self.get_at(key, Instant::now())
    }

    fn get_at(&self, key: &str, now: Instant) -> Option<CoupaSupplier> {
        self.map
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(key)
            .filter(|(read, _)| now.saturating_duration_since(*read) < CACHE_TTL)
            .map(|(_, s)| s.clone())
    }

    fn put(&self, key: String, s: CoupaSupplier) {
        self.put_at(key, s, Instant::now());
    }

    fn put_at(&self, key: String, s: CoupaSupplier, now: Instant) {
        let mut m = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if m.len() >= MAX_CACHED {
            m.clear();
        }
        m.insert(key, (now, s));
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use std::time::{Duration, Instant};

    use super::{CACHE_TTL, CoupaSupplier, SupplierCache, SupplierPoChannel};

    #[test]
    fn a_cached_supplier_is_read_again_after_the_ttl() {
        let cache = SupplierCache::default();
        let s = CoupaSupplier::from_json(&json!({"id": 7, "po-method": "prompt"})).unwrap();
        let t0 = Instant::now();
        cache.put_at("id:7".into(), s.clone(), t0);
        let just_before = t0 + CACHE_TTL - Duration::from_secs(1);
        assert_eq!(cache.get_at("id:7", just_before), Some(s));
        assert_eq!(cache.get_at("id:7", t0 + CACHE_TTL), None);
    }

    fn channel(record: serde_json::Value) -> SupplierPoChannel {
        CoupaSupplier::from_json(&record)
            .map(|s| s.po_channel())
            .unwrap_or(SupplierPoChannel::NotSent {
                reason: "no id".into(),
            })
    }

    #[test]
    fn cxml_and_email_suppliers_are_sent_to_their_address() {
        assert_eq!(
            channel(json!({"id": 1, "po-method": "cxml", "cxml-url": " https://s.example/po "})),
            SupplierPoChannel::Cxml {
                url: "https://s.example/po".into()
            }
        );
        assert_eq!(
            channel(json!({"id": 1, "po-method": "email", "po-email": "a@s.example, b@s.example"})),
            SupplierPoChannel::Email {
                to: "a@s.example, b@s.example".into()
            }
        );
    }

    #[test]
    fn other_methods_and_missing_addresses_are_not_sent_and_say_why() {
        for (record, why) in [
            (json!({"id": 1, "po-method": "prompt"}), "prompt"),
            (
                json!({"id": 1, "po-method": "mark_as_sent"}),
                "mark_as_sent",
            ),
            (json!({"id": 1, "po-method": "buy_online"}), "buy_online"),
            (json!({"id": 1, "po-method": "xml"}), "xml"),
            (json!({"id": 1}), "no po-method"),
            (
                json!({"id": 1, "po-method": "cxml", "cxml-url": ""}),
                "no cxml-url",
            ),
            (json!({"id": 1, "po-method": "email"}), "no po-email"),
        ] {
            match channel(record.clone()) {
                SupplierPoChannel::NotSent { reason } => {
                    assert!(reason.contains(why), "{record}: {reason}")
                }
                other => panic!("{record}: {other:?}"),
            }
        }
    }

    /// QA: a supplier taking new orders by cXML and wanting changes held (`po-change-method`
    /// prompt) got every change and cancellation POSTed to its cxml-url: changes follow
    /// `po-change-method`, and a record without one sends them as new orders are sent.
    #[test]
    fn changes_follow_po_change_method_and_fall_back_to_po_method() {
        let change = |record: serde_json::Value| {
            CoupaSupplier::from_json(&record)
                .map(|s| s.po_change_channel())
                .unwrap_or(SupplierPoChannel::NotSent {
                    reason: "no id".into(),
                })
        };
        let cxml = json!({"id": 1, "po-method": "cxml", "cxml-url": "https://s.example/po",
                          "po-email": "po@s.example", "po-change-method": "prompt"});
        assert_eq!(
            channel(cxml.clone()),
            SupplierPoChannel::Cxml {
                url: "https://s.example/po".into()
            }
        );
        match change(cxml) {
            SupplierPoChannel::NotSent { reason } => assert!(
                reason.contains("po-change-method is prompt")
                    && reason.contains("changes and cancellations"),
                "{reason}"
            ),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            change(
                json!({"id": 1, "po-method": "cxml", "cxml-url": "https://s.example/po",
                          "po-email": "po@s.example", "po-change-method": "email"})
            ),
            SupplierPoChannel::Email {
                to: "po@s.example".into()
            }
        );
        match change(
            json!({"id": 1, "po-method": "cxml", "cxml-url": "https://s.example/po",
                            "po-change-method": "xml"}),
        ) {
            SupplierPoChannel::NotSent { reason } => {
                assert!(reason.contains("its po-change-method is xml"), "{reason}")
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            change(json!({"id": 1, "po-method": "cxml", "cxml-url": "https://s.example/po"})),
            SupplierPoChannel::Cxml {
                url: "https://s.example/po".into()
            }
        );
    }

    #[test]
    fn the_po_secret_is_read_but_never_printed() {
        let s = CoupaSupplier::from_json(&json!({"id": 1, "cxml-secret": "hush-123"}));
        let secret = s.as_ref().and_then(|s| s.po_cxml.secret.as_ref());
        assert_eq!(secret.map(|s| s.expose()), Some("hush-123"));
        assert!(!format!("{s:?}").contains("hush-123"));
    }
}
