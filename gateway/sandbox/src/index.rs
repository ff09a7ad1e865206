//! Indexes over the invoice store, so the lookups the gateway makes for every invoice (the
//! duplicate guard's `GET /api/invoices?invoice_number=..&supplier[id]=..`, the create's
//! duplicate check, `GET`/`PUT /api/invoices/:id`) cost the same with 10 or 100,000 invoices.
//! Before them each lookup scanned every invoice, so a load run grew with the square of its
//! size and measured the sandbox, not the gateway.
//!
//! Invoices are only ever appended and never change their id or number, so the index follows
//! the store by indexing whatever was appended since it last looked ([`InvoiceIndex::refresh`]);
//! nothing else has to remember to update it.

use std::collections::HashMap;

use rust_decimal::Decimal;
use serde_json::Value;

use crate::query;
use crate::store::id_of;

/// Positions in `Store::invoices` by id and by invoice number.
#[derive(Debug, Default)]
pub struct InvoiceIndex {
    indexed: usize,
    by_id: HashMap<u64, usize>,
    by_number: HashMap<String, Vec<usize>>,
}

/// The key under which a value is filed: equal keys for every pair of values the query
/// language calls equal (numerically equal decimals, or text equal ignoring ASCII case), so a
/// lookup by key finds a superset of the matches and the query's own test picks among them.
pub fn eq_key(text: &str) -> String {
    match text.trim().parse::<Decimal>() {
        Ok(d) => format!("#{}", d.normalize()),
        Err(_) => text.to_ascii_lowercase(),
    }
}

impl InvoiceIndex {
    /// Indexes the invoices appended since the last call.
    pub fn refresh(&mut self, invoices: &[Value]) {
        if invoices.len() < self.indexed {
            // The store was replaced by a shorter one: start again.
            *self = InvoiceIndex::default();
        }
        let start = self.indexed;
        for (pos, inv) in invoices.iter().enumerate().skip(start) {
            self.by_id.insert(id_of(inv), pos);
            if let Some(number) = query::text_at(inv, &["invoice_number".to_string()]) {
                self.by_number.entry(eq_key(&number)).or_default().push(pos);
            }
        }
        self.indexed = invoices.len();
    }

    /// The position of the invoice with this id.
    pub fn position(&self, id: u64) -> Option<usize> {
        self.by_id.get(&id).copied()
    }

    /// Positions (ascending, so in id order) of the invoices whose number may equal `number`.
    pub fn numbered(&self, number: &str) -> &[usize] {
        self.by_number
            .get(&eq_key(number))
            .map_or(&[], Vec::as_slice)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn follows_appends_and_files_equal_values_together() {
        let mut invoices = vec![
            json!({"id": 1, "invoice-number": "INV-1"}),
            json!({"id": 2, "invoice-number": "007"}),
        ];
        let mut ix = InvoiceIndex::default();
        ix.refresh(&invoices);
        assert_eq!(ix.position(2), Some(1));
        assert_eq!(ix.numbered("inv-1"), &[0]);
        assert_eq!(
            ix.numbered("7.0"),
            &[1],
            "numerically equal numbers share a key"
        );
        invoices.push(json!({"id": 9, "invoice_number": "INV-1"}));
        ix.refresh(&invoices);
        assert_eq!(ix.numbered("INV-1"), &[0, 2]);
        assert_eq!(ix.position(9), Some(2));
        assert!(ix.numbered("nope").is_empty());
        invoices.truncate(1);
        ix.refresh(&invoices);
        assert_eq!(ix.position(9), None);
    }
}
