//! Export marks not yet seen settled: a Coupa PO the gateway is marking, or has marked,
//! `exported` for the version it sent, before it read the PO again and saw Coupa still holding
//! that version. Coupa has no conditional update, so a buyer's change can land between the
//! mark's read and its write, and the mark then hides the new version from the poller. The
//! note outlives the process that made it, so whoever comes next (the mark's retry, or the
//! poller after a restart) sets `exported` false again when Coupa holds another version.

use rusqlite::{Connection, OptionalExtension, params};

use super::{Ledger, LedgerError};
use crate::po_keys::PoKey;

/// Creates the table in a ledger made before the notes were kept (additive: nothing else
/// changes, and an older gateway opening the ledger ignores it).
pub(super) fn create_table(conn: &Connection) -> Result<(), rusqlite::Error> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS unsettled_export_marks (
             coupa_po_id TEXT PRIMARY KEY,
             sent_key TEXT NOT NULL,
             noted_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
         );",
    )
}

impl Ledger {
    /// Notes, before the mark is written, that PO `sent.coupa_id` is being marked exported for
    /// `sent`, replacing any earlier note of the PO: durable when it returns, so a stop before
    /// the mark is seen settled leaves it for the next process.
    pub fn note_unsettled_mark(&self, sent: &PoKey) -> Result<(), LedgerError> {
        self.write(|c| {
            c.prepare_cached(
                "INSERT INTO unsettled_export_marks (coupa_po_id, sent_key) VALUES (?1, ?2)
                 ON CONFLICT (coupa_po_id) DO UPDATE SET sent_key = excluded.sent_key,
                     noted_at = excluded.noted_at",
            )?
            .execute(params![sent.coupa_id.to_string(), sent.key()])?;
            Ok(())
        })
    }

    /// The version PO `coupa_po_id` was marked exported for whose mark is not yet seen
    /// settled, if any.
    pub fn unsettled_mark(&self, coupa_po_id: u64) -> Result<Option<PoKey>, LedgerError> {
        let key: Option<String> = self.read(|c| {
            c.prepare_cached("SELECT sent_key FROM unsettled_export_marks WHERE coupa_po_id = ?1")?
                .query_row(params![coupa_po_id.to_string()], |r| r.get(0))
                .optional()
        })?;
        Ok(key.and_then(|k| PoKey::parse(&k)).map(|(k, _)| k))
    }

    /// Every unsettled mark, oldest first: what the poller settles.
    pub fn unsettled_marks(&self) -> Result<Vec<PoKey>, LedgerError> {
        let keys: Vec<String> = self.read(|c| {
            let mut st = c.prepare_cached(
                "SELECT sent_key FROM unsettled_export_marks ORDER BY noted_at, coupa_po_id",
            )?;
            let rows = st.query_map([], |r| r.get(0))?;
            rows.collect()
        })?;
        Ok(keys
            .iter()
            .filter_map(|k| PoKey::parse(k))
            .map(|(k, _)| k)
            .collect())
    }

    /// Forgets the note of PO `coupa_po_id`: its mark was seen right, or undone.
    pub fn settle_mark(&self, coupa_po_id: u64) -> Result<(), LedgerError> {
        self.write(|c| {
            c.prepare_cached("DELETE FROM unsettled_export_marks WHERE coupa_po_id = ?1")?
                .execute(params![coupa_po_id.to_string()])?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(coupa_id: u64, version: u32, cancel: bool) -> PoKey {
        PoKey {
            coupa_id,
            version,
            cancel,
        }
    }

    /// A ledger made before the notes were kept gains the table, its rows untouched; a note
    /// survives the ledger being closed and opened again, a later one of the same PO replaces
    /// it, and a settled one is gone.
    #[test]
    fn a_ledger_made_before_unsettled_marks_were_kept_keeps_them_across_opens() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.sqlite");
        {
            let c = Connection::open(&path).unwrap();
            c.execute_batch(
                "CREATE TABLE documents (idempotency_key TEXT PRIMARY KEY, doc_id TEXT NOT NULL,
                     adapter TEXT NOT NULL, partner TEXT NOT NULL, kind TEXT NOT NULL,
                     number TEXT NOT NULL, business_key TEXT, status TEXT NOT NULL,
                     detail TEXT NOT NULL DEFAULT '',
                     received_at TEXT NOT NULL DEFAULT '2026-01-01',
                     updated_at TEXT NOT NULL DEFAULT '2026-01-01',
                     sent_to TEXT NOT NULL DEFAULT '');
                 INSERT INTO documents (idempotency_key, doc_id, adapter, partner, kind, number,
                     status, sent_to)
                 VALUES ('coupa-po:7:v1', 'd7', 'coupa', 'acme', 'purchase_order', 'PO-7',
                     'delivered', 'supplier acme');",
            )
            .unwrap();
        }
        let l = Ledger::open(&path).unwrap();
        assert_eq!(
            l.entry("coupa-po:7:v1").unwrap().unwrap().status,
            "delivered"
        );
        assert_eq!(l.unsettled_marks().unwrap(), Vec::new());
        l.note_unsettled_mark(&key(7, 1, false)).unwrap();
        l.note_unsettled_mark(&key(8, 2, true)).unwrap();
        drop(l);

        let l = Ledger::open(&path).unwrap();
        assert_eq!(l.unsettled_mark(7).unwrap(), Some(key(7, 1, false)));
        assert_eq!(
            l.unsettled_marks().unwrap(),
            vec![key(7, 1, false), key(8, 2, true)]
        );
        l.note_unsettled_mark(&key(7, 2, false)).unwrap();
        assert_eq!(l.unsettled_mark(7).unwrap(), Some(key(7, 2, false)));
        l.settle_mark(7).unwrap();
        assert_eq!(l.unsettled_mark(7).unwrap(), None);
        assert_eq!(l.unsettled_marks().unwrap(), vec![key(8, 2, true)]);
    }
}
