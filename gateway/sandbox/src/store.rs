//! The sandbox's memory: suppliers, invoices and purchase orders as Coupa-shaped JSON records
//! (dashed keys, decimal strings), issued tokens, cXML orders received by test suppliers, and
//! a bounded request log. Optionally loaded from and saved to a JSON snapshot file.

use std::collections::{HashMap, VecDeque};
use std::time::Instant;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::index::InvoiceIndex;

/// Most records of one kind; creating more answers 400 so memory stays bounded.
pub const MAX_RECORDS: usize = 100_000;
/// Most request-log entries kept (oldest dropped first).
pub const MAX_LOG: usize = 10_000;

/// A cXML OrderRequest received by the test supplier endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceivedOrder {
    /// The `<name>` in `/supplier/<name>/cxml`.
    pub supplier: String,
    /// `OrderRequestHeader@orderID`, when found.
    pub order_id: Option<String>,
    /// `OrderRequestHeader@type` (`new`, `update`, `delete`).
    pub order_type: Option<String>,
    /// `payloadID` of the cXML envelope.
    pub payload_id: Option<String>,
    /// The document as received.
    pub body: String,
}

/// A cXML StatusUpdateRequest about an invoice, received by the test supplier endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceivedStatusUpdate {
    /// The `<name>` in `/supplier/<name>/cxml`.
    pub supplier: String,
    /// `payloadID` of the update itself.
    pub payload_id: Option<String>,
    /// `DocumentReference@payloadID`: the invoice document it is about.
    pub document_reference: Option<String>,
    /// `InvoiceIDInfo@invoiceID`.
    pub invoice_id: Option<String>,
    /// `InvoiceStatus@type`.
    pub status: String,
    /// `InvoiceStatus/Comments`.
    pub comments: Option<String>,
    /// The document as received.
    pub body: String,
}

/// One request the sandbox answered (after faults), for assertions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LoggedRequest {
    pub method: String,
    pub path: String,
    pub status: u16,
}

/// Counters a test can assert on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SandboxStats {
    pub tokens_issued: u64,
    pub requests: u64,
    pub served_429: u64,
    pub served_5xx: u64,
    pub unauthorized: u64,
}

/// What a snapshot file holds.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Snapshot {
    #[serde(default)]
    pub suppliers: Vec<Value>,
    #[serde(default)]
    pub invoices: Vec<Value>,
    #[serde(default)]
    pub purchase_orders: Vec<Value>,
    #[serde(default)]
    pub received: Vec<ReceivedOrder>,
    #[serde(default)]
    pub status_updates: Vec<ReceivedStatusUpdate>,
}

/// An issued access token.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub scopes: Vec<String>,
    pub expires_at: Instant,
    /// Refused (401) before this: Coupa asks clients to wait after generating a token.
    pub usable_at: Instant,
}

/// How an instance compares invoice numbers that differ only in letter case. Coupa does not
/// publish it: its duplicate rule is "supplier + invoice number", and whether `INV-1` and
/// `inv-1` are one number, to the lookup `GET /api/invoices?invoice_number=..` or to the
/// create's duplicate check, is not said. The default is the sandbox's query language (a
/// lookup ignores ASCII case, as it does for every attribute) and a strict create (only the
/// very same number, surrounding spaces aside, is refused as a duplicate): the create never
/// saves a client whose guard misses a number in another case. Tests set the other
/// combinations so the gateway's guard is shown to hold whichever one Coupa has.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InvoiceNumberCase {
    /// `invoice_number=X` and `invoice_number[in]=..` match the number exactly, letter case
    /// included.
    pub exact_lookups: bool,
    /// A create is refused when the supplier has the number in any letter case.
    pub unique_ignoring_case: bool,
}

/// All mutable sandbox state, behind one mutex in [`crate::server::Shared`].
#[derive(Debug, Default)]
pub struct Store {
    pub suppliers: Vec<Value>,
    pub invoices: Vec<Value>,
    pub purchase_orders: Vec<Value>,
    pub received: Vec<ReceivedOrder>,
    pub status_updates: Vec<ReceivedStatusUpdate>,
    pub tokens: HashMap<String, IssuedToken>,
    pub log: VecDeque<LoggedRequest>,
    pub stats: SandboxStats,
    /// Create a second invoice with a supplier's used number instead of refusing it
    /// ([`crate::SandboxOptions::accept_duplicate_invoice_numbers`]).
    pub accept_duplicate_numbers: bool,
    /// How invoice numbers compare in lookups and in the create's duplicate check
    /// ([`crate::SandboxHandle::set_invoice_number_case`]).
    pub number_case: InvoiceNumberCase,
    /// Files on invoices (`/api/invoices/:id/attachments`); not kept in snapshots.
    pub attachments: Vec<crate::attachments::StoredAttachment>,
    next_id: u64,
    invoice_index: InvoiceIndex,
}

/// The numeric `id` of a record (0 when missing).
pub fn id_of(v: &Value) -> u64 {
    v.get("id").and_then(Value::as_u64).unwrap_or(0)
}

impl Store {
    /// The position in `invoices` of the invoice with this id.
    pub fn invoice_position(&mut self, id: u64) -> Option<usize> {
        self.invoice_index.refresh(&self.invoices);
        self.invoice_index.position(id)
    }

    /// Positions (in id order) of the invoices whose number may equal `number` in the query
    /// language's sense; callers apply their exact test to these.
    pub fn invoices_numbered(&mut self, number: &str) -> Vec<usize> {
        self.invoice_index.refresh(&self.invoices);
        self.invoice_index.numbered(number).to_vec()
    }

    /// A store holding a snapshot's records; ids continue after the highest one seen.
    pub fn from_snapshot(s: Snapshot) -> Store {
        let max = s
            .suppliers
            .iter()
            .chain(&s.invoices)
            .chain(&s.purchase_orders)
            .map(id_of)
            .max()
            .unwrap_or(0);
        Store {
            suppliers: s.suppliers,
            invoices: s.invoices,
            purchase_orders: s.purchase_orders,
            received: s.received,
            status_updates: s.status_updates,
            next_id: max,
            ..Store::default()
        }
    }

    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            suppliers: self.suppliers.clone(),
            invoices: self.invoices.clone(),
            purchase_orders: self.purchase_orders.clone(),
            received: self.received.clone(),
            status_updates: self.status_updates.clone(),
        }
    }

    /// A new record id, unique across kinds (like database ids, only increasing).
    pub fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    pub fn log(&mut self, method: &str, path: &str, status: u16) {
        if self.log.len() >= MAX_LOG {
            self.log.pop_front();
        }
        self.log.push_back(LoggedRequest {
            method: method.to_string(),
            path: path.to_string(),
            status,
        });
        self.stats.requests += 1;
        match status {
            429 => self.stats.served_429 += 1,
            401 => self.stats.unauthorized += 1,
            500..=599 => self.stats.served_5xx += 1,
            _ => {}
        }
    }

    /// Finds a supplier by a reference object `{id}` / `{number}` / `{name}` (number first,
    /// then name, as Coupa's invoice import does).
    pub fn find_supplier(&self, reference: &Value) -> Option<&Value> {
        if let Some(id) = reference.get("id").and_then(as_u64_loose) {
            return self.suppliers.iter().find(|s| id_of(s) == id);
        }
        if let Some(n) = reference.get("number").and_then(Value::as_str)
            && let Some(s) = self
                .suppliers
                .iter()
                .find(|s| s.get("number").and_then(Value::as_str) == Some(n))
        {
            return Some(s);
        }
        let name = reference.get("name").and_then(Value::as_str)?;
        self.suppliers.iter().find(|s| {
            s.get("name")
                .and_then(Value::as_str)
                .is_some_and(|x| x.eq_ignore_ascii_case(name))
        })
    }
}

/// An id given as a number or a numeric string.
pub fn as_u64_loose(v: &Value) -> Option<u64> {
    v.as_u64()
        .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
}
