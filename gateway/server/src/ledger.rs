//! The document ledger: one row per document ever received, keyed by its idempotency key, with
//! its fate (published, delivered, dead, rejected). It answers "have we seen this before?"
//! (duplicate payloadID, the same file twice) and "what happened to invoice X?" (operators).
//!
//! SQLite in WAL mode; every write is committed before the caller goes on.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension, params};

use crate::group_commit::{CommitError, GroupCommit, StorageFault};

mod export_marks;

/// Why the ledger could not be used. Disk trouble may pass, so callers treat it as retryable
/// (HTTP 503, file left in place) rather than losing or duplicating a document.
#[derive(Debug, thiserror::Error)]
#[error("document ledger: {0}")]
pub struct LedgerError(String);

impl From<rusqlite::Error> for LedgerError {
    fn from(e: rusqlite::Error) -> Self {
        LedgerError(e.to_string())
    }
}

/// How the detail of a dead letter's row begins once an operator replayed it
/// ([`Ledger::mark_replayed`]): then when, ` after: ` and the reason it had died of.
pub const REPLAYED: &str = "replayed by an operator at ";

/// A replay's line in a row's history ([`Entry::history`]), after its time and before the
/// reason it had died of.
pub const REPLAYED_HISTORY: &str =
    "replayed by an operator from the dead letters, where it had died of: ";

/// The setting that names the ledger's file, for messages.
pub const PATH_SETTING: &str = "[ledger] path";

impl LedgerError {
    /// `why` a use of the ledger at `path` failed, naming the file and the setting, and what
    /// to do when the storage refused it: an operator reading "attempt to write a readonly
    /// database" at start was not told which file, nor why.
    fn at(path: &Path, why: &str, storage: Option<StorageFault>) -> Self {
        let advice = storage
            .map(|f| format!(": {}", f.what_to_do()))
            .unwrap_or_default();
        LedgerError(format!(
            "{} ({PATH_SETTING}): {why}{advice}",
            path.display()
        ))
    }
}

/// The hash in one line [`Ledger::record_attachments`] wrote: `name (size bytes, sha256 hex)`.
pub fn recorded_sha256(line: &str) -> Option<String> {
    let (_, tail) = line.rsplit_once("sha256 ")?;
    let hex = tail.strip_suffix(')')?;
    (hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit())).then(|| hex.to_string())
}

/// Where a document is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Claimed by an inbound path, not yet confirmed by the bus. A crash here leaves the row;
    /// a resend is then treated as new (the bus never saw it).
    Received,
    /// Was `received` when the gateway stopped (a crash, a `kill -9`): the sender was never
    /// told it was accepted, so it should send it again, and its resend takes this row over
    /// when it comes under the same key. Marked when the next `gateway serve` starts
    /// ([`Ledger::interrupt_unconfirmed`]), so no row claims to be on its way for good. Not
    /// final: if the bus had confirmed it just before the stop, its delivery moves it on.
    Interrupted,
    /// On the bus, on its way (in its queue or a retry tier).
    Published,
    Delivered,
    /// A dead letter, the detail saying why as `gateway dlq list` does: however the bus parked
    /// it (the target refused it for good, its retries ran out, the delivery limit), recorded
    /// when the bus tells the consumer ([`gateway_core::Handler::settled`]). A replay makes it
    /// `published` again at once, its history keeping the death ([`Ledger::mark_replayed`]);
    /// the redelivery then moves it on (or back here when it dies again).
    Dead,
    /// Dead, then deleted from the dead letters by an operator (`gateway dlq purge`): not
    /// delivered, and nothing will deliver it; the detail keeps why it died.
    Purged,
    Rejected,
    /// Delivered, and then refused by the partner in its 997/999: final (a later delivery
    /// report does not overwrite it, and the same document is not sent again by itself).
    PartnerRejected,
    /// Not sent, on purpose: a later version of the same purchase order (or its cancellation)
    /// was already on its way to the supplier, and this older one arriving after it would
    /// undo it (a retry, or a dead letter replayed late). The detail names the later key.
    Superseded,
    /// Not sent, on purpose: the cancellation of a Coupa PO none of whose versions went to the
    /// supplier (cancelled before the poller saw it, or while its first version failed for
    /// certain: no connection, or the supplier answered refusing it), so the supplier never
    /// had the order and there is nothing to cancel. A version whose send has an unknown
    /// outcome (the answer lost) counts as sent: its cancellation goes out. Not delivered, and
    /// final; it still stands for the PO, so a version arriving after it is `superseded`.
    CancelledUnsent,
    /// Not sent, and nothing in the gateway will send it until an operator acts: a Coupa PO
    /// whose supplier's record says the gateway must not send it (`po-method` prompt: Coupa
    /// holds it for the buyer to release). The detail says why and what sends it. The poller
    /// takes the row over and sends the PO once the supplier has a channel.
    AwaitingOperator,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Received => "received",
            Status::Interrupted => "interrupted",
            Status::Published => "published",
            Status::Delivered => "delivered",
            Status::Dead => "dead",
            Status::Purged => "purged",
            Status::Rejected => "rejected",
            Status::PartnerRejected => "partner_rejected",
            Status::Superseded => "superseded",
            Status::CancelledUnsent => "cancelled_unsent",
            Status::AwaitingOperator => "awaiting_operator",
        }
    }
    /// Every status, as `gateway documents --status` offers them.
    pub const ALL: [Status; 11] = [
        Status::Received,
        Status::Interrupted,
        Status::Published,
        Status::Delivered,
        Status::Dead,
        Status::Purged,
        Status::Rejected,
        Status::PartnerRejected,
        Status::Superseded,
        Status::CancelledUnsent,
        Status::AwaitingOperator,
    ];

    /// The statuses nothing will move a document out of by itself: delivered, purged,
    /// refused, or not sent on purpose. Retention may remove such a document's files once `attachment_days` have
    /// passed; [`Ledger::attachment_hashes_in_use`] queries by this list.
    const DONE: [Status; 6] = [
        Status::Delivered,
        Status::Purged,
        Status::Rejected,
        Status::PartnerRejected,
        Status::Superseded,
        Status::CancelledUnsent,
    ];

    /// Nothing will deliver the document again by itself ([`Status::DONE`]).
    pub fn is_done(self) -> bool {
        Status::DONE.contains(&self)
    }

    pub fn parse(s: &str) -> Status {
        match s {
            "interrupted" => Status::Interrupted,
            "published" => Status::Published,
            "delivered" => Status::Delivered,
            "dead" => Status::Dead,
            "purged" => Status::Purged,
            "rejected" => Status::Rejected,
            "partner_rejected" => Status::PartnerRejected,
            "superseded" => Status::Superseded,
            "cancelled_unsent" => Status::CancelledUnsent,
            "awaiting_operator" => Status::AwaitingOperator,
            _ => Status::Received,
        }
    }
}

/// What claiming an idempotency key found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// First time (or an earlier attempt never reached the bus): go on and publish.
    New,
    /// Already on the bus or beyond: do not publish again.
    Duplicate { doc_id: String, status: Status },
    /// Already on the bus or beyond for a document of different content
    /// ([`Ledger::claim_content`]): the sender used the same control numbers or payloadID for
    /// another document. Nothing was claimed.
    Reused { doc_id: String, number: String },
}

/// A row of the ledger, for operators.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Entry {
    pub idempotency_key: String,
    pub doc_id: String,
    pub adapter: String,
    pub partner: String,
    pub kind: String,
    pub number: String,
    pub status: String,
    pub detail: String,
    /// What the partner's functional acknowledgment said about a document sent to it (empty
    /// until one arrives): `accepted (A) in 997 0001 ...` or the rejection with its reasons.
    pub partner_ack: String,
    /// What the gateway accepted but noticed (decoder notes, validation warnings), one per line.
    pub notes: String,
    /// Where the document came from: the input (a dropped file's name) and where in it
    /// (`line 12, interchange 000000042, group 1, set 0001`), so an operator can find it.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub source: String,
    /// The files kept with it (its PDF copy), one per line: `name (size bytes, sha256 hex)`.
    #[serde(skip_serializing_if = "String::is_empty", default)]
    pub attachments: String,
    /// What happened to it before its present status that the status and detail no longer
    /// say, one event per line, oldest first: it died and an operator replayed it
    /// ([`Ledger::mark_replayed`]). A delivery after a replay rewrites the detail; this stays.
    #[serde(skip_serializing_if = "String::is_empty", default)]
    pub history: String,
    pub received_at: String,
    pub updated_at: String,
}

/// The facts recorded when a document is claimed.
#[derive(Debug, Clone)]
pub struct NewDocument<'a> {
    pub idempotency_key: &'a str,
    pub doc_id: &'a str,
    pub adapter: &'a str,
    pub partner: &'a str,
    pub kind: &'a str,
    pub number: &'a str,
    /// Supplier + invoice number for invoices: the same invoice through another channel.
    pub business_key: Option<&'a str>,
}

impl NewDocument<'_> {
    /// The values of the columns `?1` to `?7` of an insert: key, doc id, adapter, partner,
    /// kind, number, business key (claims and rejections write the same facts).
    fn columns(&self) -> [&dyn rusqlite::ToSql; 7] {
        [
            &self.idempotency_key,
            &self.doc_id,
            &self.adapter,
            &self.partner,
            &self.kind,
            &self.number,
            &self.business_key,
        ]
    }
}

/// An input refused before any document was read from it, as
/// [`Ledger::record_refused_input`] keeps it.
#[derive(Debug, Clone, Copy)]
pub struct RefusedInput<'a> {
    /// The row's key: the same input refused again is the same row.
    pub key: &'a str,
    pub adapter: &'a str,
    /// Whose it is (`(unknown)` when nothing says).
    pub partner: &'a str,
    /// `unknown` when nothing was read, else the kind it was read as (`purchase_order`).
    pub kind: &'a str,
    /// What names it (the file, message or PO number), kept as the row's number.
    pub label: &'a str,
    /// Why it was refused, and what to do.
    pub detail: &'a str,
    /// Where it came from ([`Entry::source`], `file zp.zip`), so `gateway documents --from`
    /// finds it as it finds accepted documents; empty when no file names it.
    pub source: &'a str,
}

/// One partner's documents by fate ([`Ledger::partner_summaries`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct PartnerSummary {
    pub partner: String,
    pub documents: u64,
    pub delivered: u64,
    /// `received` or `published`: on the bus, not delivered yet.
    pub on_the_way: u64,
    pub dead: u64,
    /// Dead, then purged by an operator: never delivered.
    pub purged: u64,
    pub rejected: u64,
    pub partner_rejected: u64,
    /// Accepted with notes (what the gateway tolerated).
    pub noted: u64,
    /// Of those, documents with text read as Windows-1252 ([`gateway_core::READ_AS_WINDOWS_1252`]).
    pub read_as_windows_1252: u64,
    /// Of those, documents under a key (control numbers, payloadID) the partner had used for
    /// another document.
    pub reused_keys: u64,
    /// Refused as test data (X12 ISA15 `T`, cXML `deploymentMode="test"`).
    pub test_documents: u64,
    /// Left [`Status::Interrupted`] by a gateway stop: the partner was not told they were
    /// accepted, and only its resends (under another key) would deliver them.
    pub interrupted: u64,
    /// Coupa POs [`Status::AwaitingOperator`]: not sent, and nothing sends them until an
    /// operator acts (in Coupa or in the configuration), so they are counted where an
    /// operator looks first.
    pub awaiting_operator: u64,
    /// Coupa POs [`Status::CancelledUnsent`]: cancelled before any version went to the
    /// supplier, so never sent; counted apart from `delivered`.
    pub cancelled_unsent: u64,
    /// Documents taken from a partner's mail whose X12 acknowledgment the relay never took
    /// after every retry ([`crate::mailbox::ACK_NOT_MAILED`] in their notes): the partner has
    /// no 997 for them.
    pub acks_not_mailed: u64,
    /// When anything last happened to one of its documents (UTC, RFC 3339).
    pub last_activity: String,
}

/// Documents a partner has not acknowledged in time ([`Ledger::overdue_acknowledgments`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OverdueAcks {
    pub documents: u64,
    /// When the oldest of them was sent (UTC, RFC 3339); `None` when there are none.
    pub oldest_sent_at: Option<String>,
}

/// Which documents [`Ledger::search`] returns; `None` matches anything.
#[derive(Debug, Clone, Default)]
pub struct DocumentFilter<'a> {
    pub number: Option<&'a str>,
    /// `received`, `published`, `delivered`, `dead`, `rejected` or `partner_rejected`.
    pub status: Option<&'a str>,
    pub partner: Option<&'a str>,
    /// `invoice` or `purchase_order`.
    pub kind: Option<&'a str>,
    /// A doc id or idempotency key.
    pub doc: Option<&'a str>,
    /// Only documents sent as X12 at least this many hours ago that no 997/999/TA1 has
    /// answered yet (0: every one still waiting).
    pub unacknowledged_hours: Option<u32>,
    /// Only documents accepted with notes.
    pub noted: bool,
    /// Only documents whose source ([`Entry::source`]) contains this text (a file name).
    pub from: Option<&'a str>,
    pub limit: u32,
}

/// The ledger.
#[derive(Debug)]
pub struct Ledger {
    db: GroupCommit,
    /// Its file, named in every error.
    path: PathBuf,
}

impl Ledger {
    /// Opens (or creates) the ledger. Every write is flushed to disk before it returns
    /// (`synchronous = FULL`); group commit makes that cheap under concurrency. An error
    /// names the file and `[ledger] path`. Opening writes nothing that is there already, so a
    /// ledger SQLite could open only for reading opens (for `gateway documents`); its first
    /// write fails, which [`Ledger::probe_write`] finds before the service takes documents.
    pub fn open(path: &Path) -> Result<Self, LedgerError> {
        if let Some(dir) = path.parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir).map_err(|e| {
                LedgerError::at(
                    path,
                    &format!("cannot create its folder {}: {e}", dir.display()),
                    None,
                )
            })?;
        }
        let conn = Connection::open(path)
            .map_err(|e| LedgerError::at(path, &e.to_string(), StorageFault::of(&e)))?;
        Ledger::over(conn, path)
    }

    /// The ledger in the file `conn` has open at `path`: its tables made or brought up to
    /// date.
    fn over(conn: Connection, path: &Path) -> Result<Self, LedgerError> {
        Ledger::prepare(&conn)
            .map_err(|e| LedgerError::at(path, &e.to_string(), StorageFault::of(&e)))?;
        Ok(Ledger {
            db: GroupCommit::new(conn),
            path: path.to_path_buf(),
        })
    }

    /// The ledger's file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes one row of its own and returns once it is on disk: whether the ledger can take
    /// documents now. The service calls it at start, before anything else writes, so a ledger
    /// it cannot write stops it with the file named; readiness calls it to see whether a
    /// ledger that failed writes again ([`crate::ledger_health`]).
    pub fn probe_write(&self) -> Result<(), LedgerError> {
        self.write(|c| {
            c.prepare_cached(
                "INSERT INTO write_probe (id, at) VALUES (1, strftime('%Y-%m-%dT%H:%M:%fZ','now'))
                 ON CONFLICT(id) DO UPDATE SET at = excluded.at",
            )?
            .execute([])
            .map(|_| ())
        })
    }

    /// Why the ledger cannot write now, naming the file, the setting and what to do: the
    /// storage refused its last write and none succeeded since. `None` while it writes.
    pub fn write_failure(&self) -> Option<String> {
        self.db
            .failing()
            .map(|e| LedgerError::at(&self.path, &e.why, e.storage).0)
    }

    /// Records that an operator replayed these dead letters (doc id, the reason it died, as
    /// `gateway dlq` shows it), before the bus has them again: each row still `dead` (or still
    /// on its way, for a dead letter the ledger never heard of) becomes `published`, on its
    /// way, its detail saying when and after what, and a line of its history keeps that it
    /// died and was replayed, whatever comes after. Marked before the replay, so the
    /// consumer's outcome (delivered, or dead again) is the last word. Returns how many rows
    /// changed.
    pub fn mark_replayed(&self, letters: &[(&str, &str)]) -> Result<usize, LedgerError> {
        self.write(|c| {
            let mut update = c.prepare_cached(
                "UPDATE documents SET status = 'published',
                     detail = ?3 || strftime('%Y-%m-%dT%H:%M:%fZ','now') || ' after: ' ||
                         CASE WHEN ?2 = '' THEN detail ELSE ?2 END,
                     history = CASE WHEN history = '' THEN '' ELSE history || char(10) END ||
                         strftime('%Y-%m-%dT%H:%M:%fZ','now') || ' ' || ?4 ||
                         CASE WHEN ?2 = '' THEN detail ELSE ?2 END,
                     updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now')
                 WHERE doc_id = ?1 AND status IN ('dead', 'received', 'interrupted', 'published')",
            )?;
            let mut n = 0;
            for (id, reason) in letters {
                n += update.execute(params![id, reason, REPLAYED, REPLAYED_HISTORY])?;
            }
            Ok(n)
        })
    }

    /// Undoes [`Ledger::mark_replayed`] for dead letters a replay did not take after all
    /// (doc id, the reason they still show): `dead` again with that reason, and the history
    /// line the mark added removed. Only rows the mark left as it left them change. Returns
    /// how many did.
    pub fn unmark_replayed(&self, letters: &[(&str, &str)]) -> Result<usize, LedgerError> {
        self.write(|c| {
            let mut read = c.prepare_cached(
                "SELECT idempotency_key, history FROM documents
                 WHERE doc_id = ?1 AND status = 'published' AND substr(detail, 1, ?2) = ?3",
            )?;
            let mut update = c.prepare_cached(
                "UPDATE documents SET status = 'dead', detail = ?2, history = ?3,
                     updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now')
                 WHERE idempotency_key = ?1",
            )?;
            let mut n = 0;
            for (id, reason) in letters {
                let rows: Vec<(String, String)> = read
                    .query_map(params![id, REPLAYED.chars().count(), REPLAYED], |r| {
                        Ok((r.get(0)?, r.get(1)?))
                    })?
                    .collect::<Result<_, _>>()?;
                for (key, history) in rows {
                    let earlier = match history.rsplit_once('\n') {
                        Some((earlier, _)) => earlier,
                        None => "",
                    };
                    n += update.execute(params![key, reason, earlier])?;
                }
            }
            Ok(n)
        })
    }

    /// Makes the ledger's tables in `conn`'s file, or brings an older ledger's up to date.
    fn prepare(conn: &Connection) -> Result<(), rusqlite::Error> {
        conn.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = FULL;
             PRAGMA busy_timeout = 5000;
             CREATE TABLE IF NOT EXISTS documents (
                 idempotency_key TEXT PRIMARY KEY,
                 doc_id TEXT NOT NULL,
                 adapter TEXT NOT NULL,
                 partner TEXT NOT NULL,
                 kind TEXT NOT NULL,
                 number TEXT NOT NULL,
                 business_key TEXT,
                 status TEXT NOT NULL,
                 detail TEXT NOT NULL DEFAULT '',
                 received_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
                 updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
             );
             CREATE INDEX IF NOT EXISTS documents_doc_id ON documents(doc_id);
             CREATE INDEX IF NOT EXISTS documents_business ON documents(business_key);
             CREATE TABLE IF NOT EXISTS idempotent_requests (
                 scope TEXT NOT NULL,
                 key TEXT NOT NULL,
                 body_hash TEXT NOT NULL,
                 status INTEGER NOT NULL,
                 response BLOB NOT NULL,
                 created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
                 PRIMARY KEY (scope, key)
             );
             CREATE TABLE IF NOT EXISTS x12_sent (
                 partner TEXT NOT NULL,
                 interchange_control TEXT NOT NULL DEFAULT '',
                 group_control TEXT NOT NULL,
                 set_control TEXT NOT NULL,
                 idempotency_key TEXT NOT NULL,
                 sent_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
                 PRIMARY KEY (partner, group_control, set_control)
             );
             CREATE TABLE IF NOT EXISTS write_probe (
                 id INTEGER PRIMARY KEY CHECK (id = 1),
                 at TEXT NOT NULL
             );",
        )?;
        // Ledgers made before partner acknowledgments were read lack these columns.
        add_column_if_missing(conn, "documents", "partner_ack", "TEXT NOT NULL DEFAULT ''")?;
        add_column_if_missing(conn, "documents", "notes", "TEXT NOT NULL DEFAULT ''")?;
        add_column_if_missing(conn, "documents", "source", "TEXT NOT NULL DEFAULT ''")?;
        // And this, before a replayed dead letter's row kept that it had died.
        add_column_if_missing(conn, "documents", "history", "TEXT NOT NULL DEFAULT ''")?;
        // And this, before files were kept with documents.
        add_column_if_missing(conn, "documents", "attachments", "TEXT NOT NULL DEFAULT ''")?;
        // And this, before documents' content was kept: their rows answer as before.
        add_column_if_missing(
            conn,
            "documents",
            "content_hash",
            "TEXT NOT NULL DEFAULT ''",
        )?;
        add_column_if_missing(
            conn,
            "x12_sent",
            "interchange_control",
            "TEXT NOT NULL DEFAULT ''",
        )?;
        // And this, before a PO's sending was kept apart from its status detail.
        add_column_if_missing(conn, "documents", "sent_to", "TEXT NOT NULL DEFAULT ''")?;
        // And this, before a PO's cXML payloadID was recorded: the POs of such a ledger went
        // out under the form of that time, which is written in for them (see
        // `fill_legacy_payload_ids`), so later changes refer to them by what they were sent as.
        // The fill runs at every open, not only when the column is added: an older gateway
        // run on this ledger meanwhile (a downgrade, then this one again) sent POs under the
        // legacy form without recording it (qa14d item 4). Cheap: one query that finds
        // nothing once done.
        //
        // The columns come in one transaction with what the upgrade writes into them: a
        // ledger left with a column but not its values would have POs referred to under a
        // payloadID they never had, count a PO in flight as never sent, or one left to Coupa
        // as the gateway's to cancel.
        let upgrade = conn.unchecked_transaction()?;
        add_column_if_missing(
            &upgrade,
            "documents",
            "payload_id",
            "TEXT NOT NULL DEFAULT ''",
        )?;
        // And this, before a send whose outcome is unknown counted as possibly received.
        let attempts_new = add_column_if_missing(
            &upgrade,
            "documents",
            "attempted_at",
            "TEXT NOT NULL DEFAULT ''",
        )?;
        // And this, before a dead PO's reason said when the supplier got it.
        add_column_if_missing(&upgrade, "documents", "sent_at", "TEXT NOT NULL DEFAULT ''")?;
        // And this, before a PO version left to Coupa counted as possibly received.
        let left_new = add_column_if_missing(
            &upgrade,
            "documents",
            "left_to_coupa_at",
            "TEXT NOT NULL DEFAULT ''",
        )?;
        // And this, before an export mark's unsettled note outlived the process.
        export_marks::create_table(&upgrade)?;
        fill_legacy_payload_ids(&upgrade)?;
        if attempts_new {
            mark_legacy_pos_in_flight(&upgrade)?;
        }
        if left_new {
            mark_legacy_pos_left_to_coupa(&upgrade)?;
        }
        upgrade.commit()?;
        Ok(())
    }

    /// A write: atomic, and durable when it returns (group commit, see `group_commit.rs`).
    fn write<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, rusqlite::Error>,
    ) -> Result<T, LedgerError> {
        outside_the_async_workers(|| self.db.write(f)).map_err(|e| self.error(e))
    }

    fn read<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, rusqlite::Error>,
    ) -> Result<T, LedgerError> {
        outside_the_async_workers(|| self.db.read(f)).map_err(|e| self.error(e))
    }

    fn error(&self, e: CommitError) -> LedgerError {
        LedgerError::at(&self.path, &e.why, e.storage)
    }

    /// Claims `doc.idempotency_key`. A key seen before and already on the bus is a duplicate;
    /// a key whose earlier attempt never reached the bus is taken over by this attempt.
    pub fn claim(&self, doc: &NewDocument<'_>) -> Result<Claim, LedgerError> {
        self.claim_with(doc, &[], "", "", false)
    }

    /// [`Ledger::claim`] for a document whose content is known: `content_hash` (of its
    /// canonical JSON) is kept with the key, and a key already on the bus for other content is
    /// [`Claim::Reused`], not a duplicate. X12 and cXML keys are the sender's control numbers
    /// and payloadIDs, which some senders reuse (a counter reset, a reinstalled system): taken
    /// as duplicates, their new invoices were dropped while the 997 said accepted. A row from
    /// before content was kept (no hash) still answers duplicate.
    /// `source` says where the document came from ([`Entry::source`]).
    ///
    /// A sender's document an operator purged from the dead letters (and told the sender was
    /// not accepted) is taken again when the sender sends it again: it was answered as a
    /// duplicate ("accepted" in a 997) and dropped. The PO poller's claims ([`Ledger::claim`])
    /// keep a purge final, or the next poll would send the PO again.
    pub fn claim_content(
        &self,
        doc: &NewDocument<'_>,
        content_hash: &str,
        source: &str,
    ) -> Result<Claim, LedgerError> {
        self.claim_with(doc, &[], content_hash, source, true)
    }

    /// [`Ledger::claim_content`] for a document also known by `earlier_keys`: the keys an
    /// earlier release gave the same document ([`gateway_core::Envelope::earlier_keys`]; a
    /// mailed cXML or X12 document was keyed by its message and attachment). A row under one
    /// of them that reached the bus makes this a [`Claim::Duplicate`] of it, whatever its
    /// content (an earlier key names the very bytes sent, which a newer decoder may read into
    /// other canonical JSON), so a document the ledger has under its old key is not published
    /// again when it is resent after an upgrade. The row under the key it has now decides
    /// first; nothing is written under an earlier key.
    pub fn claim_content_known_as(
        &self,
        doc: &NewDocument<'_>,
        earlier_keys: &[String],
        content_hash: &str,
        source: &str,
    ) -> Result<Claim, LedgerError> {
        self.claim_with(doc, earlier_keys, content_hash, source, true)
    }

    fn claim_with(
        &self,
        doc: &NewDocument<'_>,
        earlier_keys: &[String],
        content_hash: &str,
        source: &str,
        purged_taken_again: bool,
    ) -> Result<Claim, LedgerError> {
        self.write(|tx| {
            let existing: Option<(String, String, String, String)> = tx
                .prepare_cached(
                    "SELECT doc_id, status, content_hash, number FROM documents
                     WHERE idempotency_key = ?1",
                )?
                .query_row(params![doc.idempotency_key], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
                })
                .optional()?;
            // Rows a new claim takes over: never on the bus (a PO that waited for the
            // operator included), or given up by an operator.
            let taken_over = |status: Status| {
                matches!(
                    status,
                    Status::Received
                        | Status::Interrupted
                        | Status::Rejected
                        | Status::AwaitingOperator
                ) || (purged_taken_again && status == Status::Purged)
            };
            let on_the_bus = match existing {
                Some((doc_id, status, kept, number)) if !taken_over(Status::parse(&status)) => {
                    Some((doc_id, status, kept, number))
                }
                _ => None,
            };
            // Only when the key it has now is not on the bus: that row decides.
            let mut earlier = None;
            if on_the_bus.is_none() {
                let mut find = tx.prepare_cached(
                    "SELECT doc_id, status FROM documents WHERE idempotency_key = ?1",
                )?;
                for key in earlier_keys {
                    let row: Option<(String, String)> = find
                        .query_row(params![key], |r| Ok((r.get(0)?, r.get(1)?)))
                        .optional()?;
                    if let Some((doc_id, status)) = row
                        && !taken_over(Status::parse(&status))
                    {
                        earlier = Some((doc_id, Status::parse(&status)));
                        break;
                    }
                }
            }
            let claim = match (on_the_bus, earlier) {
                (Some((doc_id, status, kept, number)), _) => {
                    if !content_hash.is_empty() && !kept.is_empty() && kept != content_hash {
                        Claim::Reused { doc_id, number }
                    } else {
                        Claim::Duplicate {
                            doc_id,
                            status: Status::parse(&status),
                        }
                    }
                }
                (None, Some((doc_id, status))) => Claim::Duplicate { doc_id, status },
                (None, None) => {
                    tx.prepare_cached(
                        "INSERT INTO documents (idempotency_key, doc_id, adapter, partner, kind,
                             number, business_key, status, content_hash, source)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'received', ?8, ?9)
                         ON CONFLICT(idempotency_key) DO UPDATE SET doc_id = excluded.doc_id,
                             adapter = excluded.adapter, partner = excluded.partner,
                             number = excluded.number, status = 'received', detail = '',
                             content_hash = excluded.content_hash, source = excluded.source,
                             updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now')",
                    )?
                    .execute(rusqlite::params_from_iter(
                        doc.columns().into_iter().chain([
                            &content_hash as &dyn rusqlite::ToSql,
                            &source as &dyn rusqlite::ToSql,
                        ]),
                    ))?;
                    Claim::New
                }
            };
            Ok(claim)
        })
    }

    /// Keeps refused documents as `rejected` with why (`detail`) and where each came from
    /// (`source`, as [`Entry::source`] of an accepted one: the dropped file's name and where in
    /// it), in one transaction: an operator lists them with the rest (`gateway documents
    /// --from FILE` shows what became of every document of a file, the refused ones too), and
    /// a partner's status view shows them. A key seen before that never reached the bus
    /// (`received`, `rejected`) takes the row over, with the new reasons (and the new source,
    /// when this one has one); a key already on the bus or beyond is left alone (a bad copy
    /// of a document the gateway has does not undo it). Returns how many rows it wrote.
    pub fn record_rejections(
        &self,
        refused: &[(NewDocument<'_>, String, String)],
    ) -> Result<usize, LedgerError> {
        if refused.is_empty() {
            return Ok(0);
        }
        self.write(|tx| {
            let mut upsert = tx.prepare_cached(
                "INSERT INTO documents (idempotency_key, doc_id, adapter, partner, kind,
                     number, business_key, status, detail, source)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'rejected', ?8, ?9)
                 ON CONFLICT(idempotency_key) DO UPDATE SET doc_id = excluded.doc_id,
                     adapter = excluded.adapter, status = 'rejected', detail = excluded.detail,
                     source = CASE WHEN excluded.source <> '' THEN excluded.source
                                   ELSE documents.source END,
                     updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now')
                 WHERE documents.status IN ('received', 'interrupted', 'rejected')",
            )?;
            let mut written = 0;
            for (doc, detail, source) in refused {
                let detail: &dyn rusqlite::ToSql = detail;
                let source: &dyn rusqlite::ToSql = source;
                written += upsert.execute(rusqlite::params_from_iter(
                    doc.columns().into_iter().chain([detail, source]),
                ))?;
            }
            Ok(written)
        })
    }

    /// Notes on the rows of `doc_id` that the same document came again in `source` (a copy of
    /// a dropped file under another name) and was not taken again: `; again in <source>, not
    /// taken again` is appended to their source, so `gateway documents --from` that file finds
    /// them. Only where their source does not hold `source` yet (`--from` finds them already;
    /// a file retried after its archive failed meets its own documents), and never past
    /// 4,000 characters. The status and the time of the last change stay as they were. Returns
    /// whether a row changed.
    pub fn record_received_again(&self, doc_id: &str, source: &str) -> Result<bool, LedgerError> {
        const MAX_SOURCE_CHARS: usize = 4_000;
        let mention = format!("; again in {source}, not taken again");
        self.write(|tx| {
            let changed = tx
                .prepare_cached(
                    "UPDATE documents SET source = source || ?2
                     WHERE doc_id = ?1 AND instr(source, ?3) = 0
                       AND length(source) + length(?2) <= ?4",
                )?
                .execute(params![doc_id, mention, source, MAX_SOURCE_CHARS])?;
            Ok(changed > 0)
        })
    }

    /// Keeps an input refused before any document was read from it (a mail from an unknown
    /// sender, a zip that cannot be taken, a file from another partner's sender or over the
    /// size limit, a Coupa PO that cannot be read) as one `rejected` row ([`RefusedInput`]),
    /// so operators find it with the rest, not only in `error/`, `quarantine/` or a log line.
    /// Returns whether the row is new or says something new (the same input refused again for
    /// the same reason rewrites nothing), for counting and logging once.
    pub fn record_refused_input(&self, input: &RefusedInput<'_>) -> Result<bool, LedgerError> {
        let known = self.entry(input.key)?;
        if known
            .as_ref()
            .is_some_and(|e| e.status == Status::Rejected.as_str() && e.detail == input.detail)
        {
            return Ok(false);
        }
        let doc_id = uuid::Uuid::new_v4().to_string();
        let label: String = input.label.chars().take(120).collect();
        let row = NewDocument {
            idempotency_key: input.key,
            doc_id: &doc_id,
            adapter: input.adapter,
            partner: input.partner,
            kind: input.kind,
            number: &label,
            business_key: None,
        };
        let refused = (row, input.detail.to_string(), input.source.to_string());
        Ok(self.record_rejections(&[refused])? > 0)
    }

    /// Keeps a document the gateway will not send until an operator acts (`doc`, with why and
    /// what sends it in `detail`) as `awaiting_operator`, so `gateway documents` lists it, and
    /// notes it left to Coupa (`left_to_coupa_at`, kept when the row is later superseded): the
    /// operator may release it in Coupa, which sends it under a payloadID the gateway never
    /// learns, so it counts as possibly received ([`Ledger::earlier_po_left_to_coupa`]). A row
    /// never on the bus (`received`, `interrupted`, `rejected`, an earlier wait) is taken over;
    /// one already on the bus or beyond is left alone. Returns whether the row is new or says
    /// something new: the caller logs then, once, not at every poll that finds it waiting.
    pub fn record_awaiting_operator(
        &self,
        doc: &NewDocument<'_>,
        detail: &str,
    ) -> Result<bool, LedgerError> {
        let known = self.entry(doc.idempotency_key)?;
        if known.as_ref().is_some_and(|e| {
            e.status == Status::AwaitingOperator.as_str()
                && e.detail == detail
                && e.partner == doc.partner
        }) {
            return Ok(false);
        }
        let written = self.write(|tx| {
            let detail: &dyn rusqlite::ToSql = &detail;
            tx.prepare_cached(
                "INSERT INTO documents (idempotency_key, doc_id, adapter, partner, kind,
                     number, business_key, status, detail, left_to_coupa_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'awaiting_operator', ?8,
                     strftime('%Y-%m-%dT%H:%M:%fZ','now'))
                 ON CONFLICT(idempotency_key) DO UPDATE SET adapter = excluded.adapter,
                     partner = excluded.partner, number = excluded.number,
                     status = 'awaiting_operator', detail = excluded.detail,
                     left_to_coupa_at = CASE WHEN documents.left_to_coupa_at = ''
                         THEN excluded.left_to_coupa_at ELSE documents.left_to_coupa_at END,
                     updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now')
                 WHERE documents.status IN
                     ('received', 'interrupted', 'rejected', 'awaiting_operator')",
            )?
            .execute(rusqlite::params_from_iter(
                doc.columns().into_iter().chain([detail]),
            ))
        })?;
        Ok(written > 0)
    }

    /// Other documents with the same business key (supplier + invoice number) already on the
    /// bus, excluding `idempotency_key` itself.
    pub fn same_business_key(
        &self,
        business_key: &str,
        idempotency_key: &str,
    ) -> Result<Vec<Entry>, LedgerError> {
        self.select(
            "WHERE business_key = ?1 AND idempotency_key <> ?2 AND status IN ('published','delivered')",
            params![business_key, idempotency_key],
        )
    }

    /// Records a new status for a document, by doc id or idempotency key.
    pub fn set_status(&self, key: &str, status: Status, detail: &str) -> Result<(), LedgerError> {
        self.write(|c| {
            c.prepare_cached(
                "UPDATE documents SET status = ?2, detail = ?3,
                     updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now')
                 WHERE (idempotency_key = ?1 OR doc_id = ?1) AND status <> 'partner_rejected'",
            )?
            .execute(params![key, status.as_str(), detail])?;
            Ok(())
        })
    }

    /// Records that an operator purged these dead letters (by doc id): `purged`, with the
    /// operator's `note` before the reason it died, so the ledger still says what became of
    /// each and why. Only rows still `dead` change. Returns how many did.
    pub fn mark_purged(&self, doc_ids: &[&str], note: &str) -> Result<usize, LedgerError> {
        self.write(|c| {
            let mut update = c.prepare_cached(
                "UPDATE documents SET status = 'purged',
                     detail = 'purged from the dead letters by an operator' ||
                         CASE WHEN ?2 = '' THEN '' ELSE ': ' || ?2 END ||
                         CASE WHEN detail = '' THEN '' ELSE '; it had died of: ' || detail END,
                     updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now')
                 WHERE doc_id = ?1 AND status = 'dead'",
            )?;
            let mut n = 0;
            for id in doc_ids {
                n += update.execute(params![id, note])?;
            }
            Ok(n)
        })
    }

    /// Marks `dead` the documents the bus holds as dead letters while the ledger still has
    /// them on their way (`received` or `published`), each with the reason `gateway dlq list`
    /// shows: a dead letter no handler heard of (RabbitMQ parking a message itself at its
    /// delivery limit when the consumer could not, a crash between the park and the ledger
    /// write). Each item is (doc id, reason). Rows in any other state (delivered after a
    /// replay, already dead, purged) stay as they are. Returns how many changed.
    pub fn reconcile_dead_letters(&self, letters: &[(&str, &str)]) -> Result<usize, LedgerError> {
        self.write(|c| {
            let mut update = c.prepare_cached(
                "UPDATE documents SET status = 'dead', detail = ?2,
                     updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now')
                 WHERE doc_id = ?1 AND status IN ('received', 'interrupted', 'published')",
            )?;
            let mut n = 0;
            for (id, reason) in letters {
                n += update.execute(params![id, reason])?;
            }
            Ok(n)
        })
    }

    /// Records that the supplier has this document (`reference`: the file, URL or mail it went
    /// as), apart from its status: a later status (dead, because Coupa's export mark failed;
    /// delivered) rewrites the detail, and a replay that read "sent" from the detail sent the
    /// PO to the supplier a second time. When it was sent is kept too ([`Ledger::sent_at`]).
    pub fn record_sent(&self, idempotency_key: &str, reference: &str) -> Result<(), LedgerError> {
        self.write(|c| {
            c.prepare_cached(
                "UPDATE documents SET sent_to = ?2,
                     sent_at = strftime('%Y-%m-%dT%H:%M:%fZ','now')
                 WHERE idempotency_key = ?1",
            )?
            .execute(params![idempotency_key, reference])?;
            Ok(())
        })
    }

    /// When the supplier got the document ([`Ledger::record_sent`]), UTC in RFC 3339; `None`
    /// when it was not sent, or was sent by a gateway that did not record the time: a PO that
    /// died after its supplier got it says so, and since when, in its reason.
    pub fn sent_at(&self, idempotency_key: &str) -> Result<Option<String>, LedgerError> {
        self.read(|c| {
            c.prepare_cached("SELECT sent_at FROM documents WHERE idempotency_key = ?1")?
                .query_row(params![idempotency_key], |r| r.get::<_, String>(0))
                .optional()
                .map(|s| s.filter(|s| !s.is_empty()))
        })
    }

    /// The cXML payloadID `key` goes out under: the one recorded at its first attempt, else
    /// `new`, recorded now (in one write, so two attempts at once agree). Every attempt, retry
    /// and replay of a PO version then carries the payloadID its first attempt had, whatever
    /// the configuration (`[coupa] base_url`, `payload_id_host`) says by then. `None` when the
    /// key has no row (nothing to record it on). A value ending in `@` was recorded by an older
    /// gateway ([`fill_legacy_payload_ids`]): the host part is the caller's to add.
    pub fn payload_id_for(&self, key: &str, new: &str) -> Result<Option<String>, LedgerError> {
        self.write(|c| {
            c.prepare_cached(
                "UPDATE documents SET payload_id = ?2 WHERE idempotency_key = ?1 AND payload_id = ''",
            )?
            .execute(params![key, new])?;
            c.prepare_cached("SELECT payload_id FROM documents WHERE idempotency_key = ?1")?
                .query_row(params![key], |r| r.get::<_, String>(0))
                .optional()
        })
    }

    /// The cXML payloadID recorded for `key` ([`Ledger::payload_id_for`]), `None` when none
    /// was: what a later change or cancellation names in its `DocumentReference`.
    pub fn recorded_payload_id(&self, key: &str) -> Result<Option<String>, LedgerError> {
        self.read(|c| {
            c.prepare_cached("SELECT payload_id FROM documents WHERE idempotency_key = ?1")?
                .query_row(params![key], |r| r.get::<_, String>(0))
                .optional()
                .map(|s| s.filter(|s| !s.is_empty()))
        })
    }

    /// Where the document was sent ([`Ledger::record_sent`]), `None` when it was not.
    pub fn sent_to(&self, idempotency_key: &str) -> Result<Option<String>, LedgerError> {
        self.read(|c| {
            c.prepare_cached("SELECT sent_to FROM documents WHERE idempotency_key = ?1")?
                .query_row(params![idempotency_key], |r| r.get::<_, String>(0))
                .optional()
                .map(|s| s.filter(|s| !s.is_empty()))
        })
    }

    /// Records, before a document goes out on a channel whose outcome can stay unknown (a cXML
    /// POST whose answer is lost), that it is being sent: from then on it counts as possibly
    /// received ([`Ledger::earlier_po_sent`], [`Ledger::later_po_version`]), so a later
    /// change or cancellation refers to it. Returns false when an earlier attempt was recorded
    /// already (and stays so whatever this one comes to) or the key has no row.
    pub fn record_attempt(&self, idempotency_key: &str) -> Result<bool, LedgerError> {
        self.write(|c| {
            c.prepare_cached(
                "UPDATE documents SET attempted_at = strftime('%Y-%m-%dT%H:%M:%fZ','now')
                 WHERE idempotency_key = ?1 AND attempted_at = ''",
            )?
            .execute(params![idempotency_key])
            .map(|n| n == 1)
        })
    }

    /// Takes back [`Ledger::record_attempt`] when that attempt certainly did not reach the
    /// supplier (no connection was made, or it answered refusing the document): a change
    /// sent later must then be a new order, and a cancellation has nothing to cancel.
    pub fn clear_attempt(&self, idempotency_key: &str) -> Result<(), LedgerError> {
        self.write(|c| {
            c.prepare_cached("UPDATE documents SET attempted_at = '' WHERE idempotency_key = ?1")?
                .execute(params![idempotency_key])?;
            Ok(())
        })
    }

    /// A key of the same Coupa PO that a supplier must receive after `key` and that is on its
    /// way, sent or possibly sent (published, delivered, refused by the supplier's 997 after
    /// it had it, or an attempt whose outcome is unknown), a cancellation that found nothing
    /// to cancel (`cancelled_unsent`: the PO is cancelled all the same), or one that died
    /// (`dead`: Coupa holds it, and the operator replays it once the cause is fixed; the older
    /// one sent meanwhile would be a stale order the supplier works on): `key` arriving after
    /// it would undo it.
    pub fn later_po_version(
        &self,
        key: &crate::po_keys::PoKey,
    ) -> Result<Option<String>, LedgerError> {
        let keys = self.po_keys(
            key.coupa_id,
            "SELECT idempotency_key FROM documents
             WHERE idempotency_key >= ?1 AND idempotency_key < ?2
               AND (status IN ('published', 'delivered', 'partner_rejected', 'cancelled_unsent',
                               'dead')
                    OR sent_to <> '' OR attempted_at <> '' OR left_to_coupa_at <> '')",
        )?;
        Ok(keys.into_iter().find(|k| {
            crate::po_keys::PoKey::parse(k).is_some_and(|(other, _)| other.later_than(key))
        }))
    }

    /// Marks `superseded` the rows of the same Coupa PO still `awaiting_operator` under a key a
    /// supplier would receive before `key` (now waiting or on its way): the later version or
    /// the cancellation stands for the PO, so the earlier one waits for no one, and `gateway
    /// documents --status awaiting_operator` lists only what an operator can still act on.
    /// Returns how many rows changed.
    pub fn supersede_waiting_po(&self, key: &crate::po_keys::PoKey) -> Result<usize, LedgerError> {
        let keys = self.po_keys(
            key.coupa_id,
            "SELECT idempotency_key FROM documents
             WHERE idempotency_key >= ?1 AND idempotency_key < ?2
               AND status = 'awaiting_operator'",
        )?;
        let earlier: Vec<String> = keys
            .into_iter()
            .filter(|k| {
                crate::po_keys::PoKey::parse(k).is_some_and(|(other, _)| key.later_than(&other))
            })
            .collect();
        if earlier.is_empty() {
            return Ok(0);
        }
        let detail = format!(
            "not sent: Coupa holds a later version or the cancellation of this PO ({}), which stands for it",
            key.key()
        );
        self.write(|c| {
            let mut update = c.prepare_cached(
                "UPDATE documents SET status = 'superseded', detail = ?2,
                     updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now')
                 WHERE idempotency_key = ?1 AND status = 'awaiting_operator'",
            )?;
            let mut n = 0;
            for k in &earlier {
                n += update.execute(params![k, detail])?;
            }
            Ok(n)
        })
    }

    /// The keys of one Coupa PO that `sql` selects, given the bounds of its keys as `?1` and
    /// `?2` (a range on the key index, [`crate::po_keys::PoKey::range_of`]).
    fn po_keys(&self, coupa_id: u64, sql: &str) -> Result<Vec<String>, LedgerError> {
        let (low, high) = crate::po_keys::PoKey::range_of(coupa_id);
        self.read(|c| {
            let mut st = c.prepare_cached(sql)?;
            let rows = st.query_map(params![low, high], |r| r.get::<_, String>(0))?;
            rows.collect()
        })
    }

    /// The key of the most recent OrderRequest (version, cancellation or resend) of the same
    /// Coupa PO sent before `key`: what a change or cancellation names in its cXML
    /// `DocumentReference`. Only what the supplier was sent, or may have received (an attempt
    /// whose answer was lost, [`Ledger::record_attempt`], or a version left to Coupa, which
    /// the operator may have released there), counts.
    pub fn earlier_po_sent(
        &self,
        key: &crate::po_keys::PoKey,
    ) -> Result<Option<String>, LedgerError> {
        let keys = self.po_keys(
            key.coupa_id,
            "SELECT idempotency_key FROM documents
             WHERE idempotency_key >= ?1 AND idempotency_key < ?2
               AND (sent_to <> '' OR attempted_at <> '' OR left_to_coupa_at <> ''
                    OR status IN ('delivered', 'partner_rejected'))",
        )?;
        Ok(keys
            .into_iter()
            .filter_map(|k| {
                let (other, resend) = crate::po_keys::PoKey::parse(&k)?;
                key.later_than(&other)
                    .then_some(((other.version, other.cancel, resend.unwrap_or(0)), k))
            })
            .max_by(|a, b| a.0.cmp(&b.0))
            .map(|(_, k)| k))
    }

    /// The most recent earlier OrderRequest of the PO of `key` ([`Ledger::earlier_po_sent`])
    /// when it is a version left to Coupa that the gateway itself never sent nor attempted:
    /// the supplier has it, if at all, from Coupa, under a payloadID the gateway does not
    /// know, so a change or cancellation the gateway sent could name nothing it knows. Such a
    /// change waits for the operator too.
    pub fn earlier_po_left_to_coupa(
        &self,
        key: &crate::po_keys::PoKey,
    ) -> Result<Option<String>, LedgerError> {
        let Some(earlier) = self.earlier_po_sent(key)? else {
            return Ok(None);
        };
        let left = self.read(|c| {
            c.prepare_cached(
                "SELECT 1 FROM documents WHERE idempotency_key = ?1
                   AND left_to_coupa_at <> '' AND sent_to = '' AND attempted_at = ''
                   AND status NOT IN ('delivered', 'partner_rejected')",
            )?
            .query_row(params![earlier], |_| Ok(()))
            .optional()
        })?;
        Ok(left.map(|()| earlier))
    }

    /// Marks [`Status::Interrupted`] every row still `received`: claimed by a gateway that
    /// stopped before the bus confirmed it and before the sender had an answer. Only the one
    /// `gateway serve` that holds the ledger ([`ServeLock`]) may call this, before it takes
    /// documents in; no other process claims. Returns how many rows changed.
    pub fn interrupt_unconfirmed(&self) -> Result<usize, LedgerError> {
        self.write(|c| {
            c.prepare_cached(
                "UPDATE documents SET status = 'interrupted',
                     detail = 'the gateway stopped before this document was on the bus, and the sender was not told it was accepted: it should send it again (its resend under the same key takes this row over); if the bus had it after all, its delivery will show here',
                     updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now')
                 WHERE status = 'received'",
            )?
            .execute([])
        })
    }

    /// Marks a claimed document as on the bus, only while it is still `received`: the
    /// consumer may already have delivered (or dead-lettered) it between the publisher
    /// confirm and this call, and that later fate must not be overwritten.
    pub fn mark_published(&self, idempotency_key: &str) -> Result<(), LedgerError> {
        self.mark_all_published(&[idempotency_key])
    }

    /// [`Ledger::mark_published`] for every key of one request, in one transaction (one disk
    /// flush for a CSV file of a thousand invoices, not a thousand).
    pub fn mark_all_published(&self, idempotency_keys: &[&str]) -> Result<(), LedgerError> {
        self.write(|c| {
            let mut update = c.prepare_cached(
                "UPDATE documents SET status = 'published',
                     updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now')
                 WHERE idempotency_key = ?1 AND status = 'received'",
            )?;
            for key in idempotency_keys {
                update.execute(params![key])?;
            }
            Ok(())
        })
    }

    /// The document with this idempotency key or doc id, if the ledger knows it.
    pub fn entry(&self, key: &str) -> Result<Option<Entry>, LedgerError> {
        Ok(self
            .select(
                "WHERE idempotency_key = ?1 OR doc_id = ?1 LIMIT 1",
                params![key],
            )?
            .into_iter()
            .next())
    }

    /// Forgets a claim whose publish failed, so the sender's retry is processed anew.
    pub fn release(&self, idempotency_key: &str) -> Result<(), LedgerError> {
        self.write(|c| {
            c.prepare_cached(
                "DELETE FROM documents WHERE idempotency_key = ?1 AND status = 'received'",
            )?
            .execute(params![idempotency_key])?;
            Ok(())
        })
    }

    /// The most recent documents, newest first, optionally by number or status.
    pub fn list(
        &self,
        number: Option<&str>,
        status: Option<&str>,
        limit: u32,
    ) -> Result<Vec<Entry>, LedgerError> {
        self.search(&DocumentFilter {
            number,
            status,
            limit,
            ..DocumentFilter::default()
        })
    }

    /// The most recent documents matching every field `filter` sets, newest first. The
    /// number matches as the gateway compares document numbers
    /// ([`gateway_model::number_key`]: trimmed, ASCII case folded): `po-edi-1` and
    /// `"PO-EDI-1 "` found nothing where `PO-EDI-1` found the PO, and an operator told "not in
    /// the ledger" resent it. SQLite's `upper` folds ASCII only, as `number_key` does; the
    /// characters trimmed are ASCII whitespace (a number with other white space at its ends
    /// is matched with it).
    pub fn search(&self, filter: &DocumentFilter<'_>) -> Result<Vec<Entry>, LedgerError> {
        let number = filter.number.map(gateway_model::number_key);
        self.select(
            "WHERE (?1 IS NULL OR upper(trim(number, ' ' || char(9, 10, 11, 12, 13))) = ?1) AND (?2 IS NULL OR status = ?2)
                 AND (?3 IS NULL OR partner = ?3) AND (?4 IS NULL OR kind = ?4)
                 AND (?5 IS NULL OR doc_id = ?5 OR idempotency_key = ?5)
                 AND (?7 IS NULL OR (partner_ack = '' AND EXISTS (
                     SELECT 1 FROM x12_sent s WHERE s.idempotency_key = documents.idempotency_key
                     AND s.sent_at <= strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-' || ?7 || ' hours'))))
                 AND (NOT ?8 OR notes <> '')
                 AND (?9 IS NULL OR instr(source, ?9) > 0)
             ORDER BY received_at DESC LIMIT ?6",
            params![
                number,
                filter.status,
                filter.partner,
                filter.kind,
                filter.doc,
                filter.limit,
                filter.unacknowledged_hours,
                filter.noted,
                filter.from
            ],
        )
    }

    /// Every partner's documents by fate, one row per partner in id order.
    pub fn partner_summaries(&self) -> Result<Vec<PartnerSummary>, LedgerError> {
        self.read(|c| {
            let mut st = c.prepare_cached(
                "SELECT partner, COUNT(*), SUM(status = 'delivered'),
                        SUM(status IN ('received', 'published')), SUM(status = 'dead'),
                        SUM(status = 'purged'), SUM(status = 'rejected'),
                        SUM(status = 'partner_rejected'), SUM(notes <> ''), MAX(updated_at),
                        SUM(instr(notes, ?1) > 0), SUM(instr(notes, ?2) > 0),
                        SUM(status = 'rejected' AND instr(detail, ?3) = 1),
                        SUM(status = 'interrupted'), SUM(status = 'awaiting_operator'),
                        SUM(status = 'cancelled_unsent'), SUM(instr(notes, ?4) > 0)
                 FROM documents GROUP BY partner ORDER BY partner",
            )?;
            let markers = [
                gateway_core::READ_AS_WINDOWS_1252,
                crate::pipeline::REUSED_KEY,
                crate::pipeline::TEST_DOCUMENT,
                crate::mailbox::ACK_NOT_MAILED,
            ];
            let rows = st.query_map(markers, |r| {
                Ok(PartnerSummary {
                    partner: r.get(0)?,
                    documents: r.get(1)?,
                    delivered: r.get(2)?,
                    on_the_way: r.get(3)?,
                    dead: r.get(4)?,
                    purged: r.get(5)?,
                    rejected: r.get(6)?,
                    partner_rejected: r.get(7)?,
                    noted: r.get(8)?,
                    last_activity: r.get(9)?,
                    read_as_windows_1252: r.get(10)?,
                    reused_keys: r.get(11)?,
                    test_documents: r.get(12)?,
                    interrupted: r.get(13)?,
                    awaiting_operator: r.get(14)?,
                    cancelled_unsent: r.get(15)?,
                    acks_not_mailed: r.get(16)?,
                })
            })?;
            rows.collect()
        })
    }

    /// Counts by status, for summaries.
    pub fn counts(&self) -> Result<Vec<(String, String, String, u64)>, LedgerError> {
        self.read(|c| {
            let mut st = c.prepare(
                "SELECT adapter, kind, status, COUNT(*) FROM documents GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
            )?;
            let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
            rows.collect()
        })
    }

    fn select(&self, clause: &str, p: impl rusqlite::Params) -> Result<Vec<Entry>, LedgerError> {
        let sql = format!(
            "SELECT idempotency_key, doc_id, adapter, partner, kind, number, status, detail,
                    partner_ack, received_at, updated_at, notes, source, attachments, history
             FROM documents {clause}"
        );
        self.read(|c| {
            let mut st = c.prepare_cached(&sql)?;
            let rows = st.query_map(p, |r| {
                Ok(Entry {
                    idempotency_key: r.get(0)?,
                    doc_id: r.get(1)?,
                    adapter: r.get(2)?,
                    partner: r.get(3)?,
                    kind: r.get(4)?,
                    number: r.get(5)?,
                    status: r.get(6)?,
                    detail: r.get(7)?,
                    partner_ack: r.get(8)?,
                    received_at: r.get(9)?,
                    updated_at: r.get(10)?,
                    notes: r.get(11)?,
                    source: r.get(12)?,
                    attachments: r.get(13)?,
                    history: r.get(14)?,
                })
            })?;
            rows.collect()
        })
    }

    /// Remembers the X12 group and set control numbers a document went out under, so the
    /// partner's 997/999 (which names only those) can be matched to it.
    pub fn record_x12_sent(
        &self,
        partner: &str,
        idempotency_key: &str,
        sets: &[adapter_x12::SentSet],
    ) -> Result<(), LedgerError> {
        self.write(|c| {
            let mut insert = c.prepare_cached(
                "INSERT OR REPLACE INTO x12_sent
                     (partner, interchange_control, group_control, set_control, idempotency_key)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            for s in sets {
                insert.execute(params![
                    partner,
                    s.interchange,
                    s.group,
                    s.set,
                    idempotency_key
                ])?;
            }
            Ok(())
        })
    }

    /// The documents sent to `partner` in interchange `interchange_control` (a TA1 names only
    /// that), each once.
    pub fn x12_sent_in_interchange(
        &self,
        partner: &str,
        interchange_control: &str,
    ) -> Result<Vec<String>, LedgerError> {
        self.read(|c| {
            let mut st = c.prepare_cached(
                "SELECT DISTINCT idempotency_key FROM x12_sent
                 WHERE partner = ?1 AND interchange_control = ?2 ORDER BY idempotency_key",
            )?;
            let rows = st.query_map(params![partner, interchange_control], |r| r.get(0))?;
            rows.collect()
        })
    }

    /// The sets sent to `partner` in group `group_control`: (set control, idempotency key).
    pub fn x12_sent_in_group(
        &self,
        partner: &str,
        group_control: &str,
    ) -> Result<Vec<(String, String)>, LedgerError> {
        self.read(|c| {
            let mut st = c.prepare_cached(
                "SELECT set_control, idempotency_key FROM x12_sent
                 WHERE partner = ?1 AND group_control = ?2 ORDER BY set_control",
            )?;
            let rows = st.query_map(params![partner, group_control], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?;
            rows.collect()
        })
    }

    /// The partners X12 documents were sent to, each once.
    pub fn x12_partners(&self) -> Result<Vec<String>, LedgerError> {
        self.read(|c| {
            let mut st =
                c.prepare_cached("SELECT DISTINCT partner FROM x12_sent ORDER BY partner")?;
            let rows = st.query_map([], |r| r.get(0))?;
            rows.collect()
        })
    }

    /// The documents sent to `partner` more than `hours` ago that no 997/999/TA1 has answered
    /// yet: how many, and when the oldest went out.
    pub fn overdue_acknowledgments(
        &self,
        partner: &str,
        hours: u32,
    ) -> Result<OverdueAcks, LedgerError> {
        self.read(|c| {
            c.prepare_cached(
                "SELECT COUNT(DISTINCT s.idempotency_key), MIN(s.sent_at)
                 FROM x12_sent s JOIN documents d ON d.idempotency_key = s.idempotency_key
                 WHERE s.partner = ?1 AND d.partner_ack = ''
                   AND s.sent_at <= strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-' || ?2 || ' hours')",
            )?
            .query_row(params![partner, hours], |r| {
                Ok(OverdueAcks {
                    documents: r.get(0)?,
                    oldest_sent_at: r.get(1)?,
                })
            })
        })
    }

    /// Records what the gateway accepted but noticed about a document (its notes).
    pub fn record_notes(&self, idempotency_key: &str, notes: &str) -> Result<(), LedgerError> {
        self.write(|c| {
            c.prepare_cached("UPDATE documents SET notes = ?2 WHERE idempotency_key = ?1")?
                .execute(params![idempotency_key, notes])?;
            Ok(())
        })
    }

    /// Adds `note` as a line of the notes of each document under `idempotency_keys` (once:
    /// a document already noted so is left as it is), keeping what was noted before; for what
    /// happened after a document was taken that the operator must see beside it (the 997 of
    /// its mailed interchange never sent). Returns how many rows were noted.
    pub fn append_note(&self, idempotency_keys: &[&str], note: &str) -> Result<usize, LedgerError> {
        self.write(|c| {
            let mut update = c.prepare_cached(
                "UPDATE documents SET
                     notes = CASE WHEN notes = '' THEN ?2 ELSE notes || char(10) || ?2 END,
                     updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now')
                 WHERE idempotency_key = ?1 AND instr(notes, ?2) = 0",
            )?;
            let mut n = 0;
            for key in idempotency_keys {
                n += update.execute(params![key, note])?;
            }
            Ok(n)
        })
    }

    /// Replaces, in the notes of each row of `idempotency_keys`, the lines that begin with
    /// `head` by `note` (in the first one's place), or, with `append` and no such line, adds
    /// `note` as [`Ledger::append_note`] does: a note that changes (the acknowledgment of a
    /// mailed interchange given up again, or mailed late after all) stays one line. Returns
    /// how many rows changed.
    pub fn replace_note(
        &self,
        idempotency_keys: &[&str],
        head: &str,
        note: &str,
        append: bool,
    ) -> Result<usize, LedgerError> {
        self.write(|c| {
            let mut read =
                c.prepare_cached("SELECT notes FROM documents WHERE idempotency_key = ?1")?;
            let mut update = c.prepare_cached(
                "UPDATE documents SET notes = ?2,
                     updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now')
                 WHERE idempotency_key = ?1",
            )?;
            let mut n = 0;
            for key in idempotency_keys {
                let notes: Option<String> =
                    read.query_row(params![key], |r| r.get(0)).optional()?;
                if let Some(changed) = notes.and_then(|n| notes_with(&n, head, note, append)) {
                    n += update.execute(params![key, changed])?;
                }
            }
            Ok(n)
        })
    }

    /// Records the files kept with a document (`gateway documents` shows them, and which
    /// stored file belongs to which document stays known).
    pub fn record_attachments(
        &self,
        idempotency_key: &str,
        files: &[gateway_core::AttachmentRef],
    ) -> Result<(), LedgerError> {
        let text = files
            .iter()
            .map(|f| format!("{} ({} bytes, sha256 {})", f.name, f.size, f.sha256))
            .collect::<Vec<_>>()
            .join("\n");
        self.write(|c| {
            c.prepare_cached("UPDATE documents SET attachments = ?2 WHERE idempotency_key = ?1")?
                .execute(params![idempotency_key, text])?;
            Ok(())
        })
    }

    /// The SHA-256 of every stored file a document may still need: one not yet done with
    /// ([`Status::is_done`]; a dead one can be replayed), or done with at or after
    /// `done_since`. Retention keeps these and may remove the rest.
    pub fn attachment_hashes_in_use(
        &self,
        done_since: std::time::SystemTime,
    ) -> Result<std::collections::HashSet<String>, LedgerError> {
        let done = Status::DONE
            .iter()
            .map(|s| format!("'{}'", s.as_str()))
            .collect::<Vec<_>>()
            .join(", ");
        // The ledger's own time format (`strftime('%Y-%m-%dT%H:%M:%fZ')`), so the text
        // comparison with `updated_at` orders as time does.
        let done_since = chrono::DateTime::<chrono::Utc>::from(done_since)
            .format("%Y-%m-%dT%H:%M:%S%.3fZ")
            .to_string();
        self.read(|c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT attachments FROM documents WHERE attachments <> ''
                   AND (status NOT IN ({done}) OR updated_at >= ?1)"
            ))?;
            let mut rows = stmt.query(params![done_since])?;
            let mut hashes = std::collections::HashSet::new();
            while let Some(r) = rows.next()? {
                let text: String = r.get(0)?;
                hashes.extend(text.lines().filter_map(recorded_sha256));
            }
            Ok(hashes)
        })
    }

    /// Records the partner's verdict on a document it was sent; a rejection also makes the
    /// document `partner_rejected`, so operators find it by status (and a later acceptance of
    /// the same set, a partner correcting itself, makes it `delivered` again).
    /// Returns whether this verdict newly refused the document (not the same refusal come
    /// again: a supplier that sends its 997 twice is one refusal, counted once).
    pub fn record_partner_ack(
        &self,
        idempotency_key: &str,
        accepted: bool,
        summary: &str,
    ) -> Result<bool, LedgerError> {
        self.write(|c| {
            let before: Option<(String, String)> = c
                .prepare_cached(
                    "SELECT status, partner_ack FROM documents WHERE idempotency_key = ?1",
                )?
                .query_row(params![idempotency_key], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?;
            let newly_refused = !accepted
                && before.is_some_and(|(status, ack)| {
                    status != Status::PartnerRejected.as_str() || ack != summary
                });
            c.prepare_cached(
                "UPDATE documents SET partner_ack = ?2,
                     status = CASE WHEN status = 'purged' THEN status
                                   WHEN NOT ?3 THEN 'partner_rejected'
                                   WHEN status = 'partner_rejected' THEN 'delivered'
                                   ELSE status END,
                     updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now')
                 WHERE idempotency_key = ?1",
            )?
            .execute(params![idempotency_key, summary, accepted])?;
            Ok(newly_refused)
        })
    }

    /// A stored answer to an HTTP request made with an `Idempotency-Key`.
    pub fn idempotent_response(
        &self,
        scope: &str,
        key: &str,
    ) -> Result<Option<(String, u16, Vec<u8>)>, LedgerError> {
        self.read(|c| {
            c.query_row(
                "SELECT body_hash, status, response FROM idempotent_requests WHERE scope = ?1 AND key = ?2",
                params![scope, key],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()
        })
    }

    /// Stores the answer to an idempotent request (first answer wins).
    pub fn store_idempotent_response(
        &self,
        scope: &str,
        key: &str,
        body_hash: &str,
        status: u16,
        response: &[u8],
    ) -> Result<(), LedgerError> {
        self.write(|c| {
            c.execute(
                "INSERT OR IGNORE INTO idempotent_requests (scope, key, body_hash, status, response)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![scope, key, body_hash, status, response],
            )?;
            Ok(())
        })
    }
}

/// A partner's view of its documents for `GET /api/v1/documents`.
impl gateway_http::DocumentLookup for Ledger {
    fn documents(
        &self,
        partner: &str,
        doc_id: Option<&str>,
        number: Option<&str>,
        limit: u32,
    ) -> Result<Vec<gateway_http::DocumentStatus>, String> {
        let entries = self
            .search(&DocumentFilter {
                partner: Some(partner),
                doc: doc_id,
                number,
                limit,
                ..DocumentFilter::default()
            })
            .map_err(|e| e.to_string())?;
        Ok(entries
            .into_iter()
            .map(|e| gateway_http::DocumentStatus {
                purchase_order: crate::po_keys::PoKey::describe(&e.idempotency_key),
                doc_id: e.doc_id,
                kind: e.kind,
                number: e.number,
                status: e.status,
                detail: e.detail,
                partner_ack: e.partner_ack,
                notes: e.notes.lines().map(str::to_string).collect(),
                source: e.source,
                attachments: e.attachments.lines().map(str::to_string).collect(),
                received_at: e.received_at,
                updated_at: e.updated_at,
            })
            .collect())
    }
}

impl gateway_http::IdempotencyStore for Ledger {
    fn get(&self, scope: &str, key: &str) -> Result<Option<gateway_http::StoredResponse>, String> {
        self.idempotent_response(scope, key)
            .map(|o| {
                o.map(|(body_hash, status, body)| gateway_http::StoredResponse {
                    body_hash,
                    status,
                    body,
                })
            })
            .map_err(|e| e.to_string())
    }

    fn put(
        &self,
        scope: &str,
        key: &str,
        response: &gateway_http::StoredResponse,
    ) -> Result<(), String> {
        self.store_idempotent_response(
            scope,
            key,
            &response.body_hash,
            response.status,
            &response.body,
        )
        .map_err(|e| e.to_string())
    }
}

/// `notes` with its lines that begin with `head` replaced by `note` ([`Ledger::replace_note`]);
/// `None` when nothing changes.
fn notes_with(notes: &str, head: &str, note: &str, append: bool) -> Option<String> {
    let mut lines: Vec<&str> = Vec::new();
    let mut found = false;
    for line in notes.split('\n') {
        if !line.starts_with(head) {
            lines.push(line);
        } else if !found {
            lines.push(note);
            found = true;
        }
    }
    let changed = match (found, append) {
        (true, _) => lines.join("\n"),
        (false, true) if notes.is_empty() => note.to_string(),
        (false, true) => format!("{notes}\n{note}"),
        (false, false) => return None,
    };
    (changed != notes).then_some(changed)
}

/// Adds `column` to `table` in a ledger made by an older gateway (SQLite has no `ADD COLUMN IF
/// NOT EXISTS`). The names are ours, never input.
/// Returns whether it added it.
fn add_column_if_missing(
    conn: &Connection,
    table: &str,
    column: &str,
    declaration: &str,
) -> Result<bool, rusqlite::Error> {
    let present = conn
        .prepare("SELECT 1 FROM pragma_table_info(?1) WHERE name = ?2")?
        .exists(params![table, column])?;
    if !present {
        conn.execute_batch(&format!(
            "ALTER TABLE {table} ADD COLUMN {column} {declaration}"
        ))?;
    }
    Ok(!present)
}

/// The Coupa PO rows an older gateway may have sent and that carry no payloadID; `state` is
/// the SQL condition on their state (ours, never input). Shared by [`fill_legacy_payload_ids`] and
/// [`mark_legacy_pos_in_flight`], so both pick PO rows by one rule.
fn legacy_po_keys(conn: &Connection, state: &str) -> Result<Vec<String>, rusqlite::Error> {
    conn.prepare(&format!(
        "SELECT idempotency_key FROM documents
         WHERE adapter = 'coupa' AND kind = 'purchase_order' AND payload_id = '' AND ({state})"
    ))?
    .query_map([], |r| r.get::<_, String>(0))?
    .collect()
}

/// Writes `keys`' legacy payloadID: the form an older gateway sent them under, made from the
/// key alone ([`crate::supplier::legacy_payload_local_part`]), followed by an `@` with no host,
/// since the host was the partner profile's `payload_id_host` (else `coupa-gateway`) and is
/// not known here ([`crate::supplier`] reads it so).
fn write_legacy_payload_ids(conn: &Connection, keys: &[String]) -> Result<(), rusqlite::Error> {
    let mut update = conn.prepare(
        "UPDATE documents SET payload_id = ?2 WHERE idempotency_key = ?1 AND payload_id = ''",
    )?;
    for key in keys {
        let legacy = format!("{}@", crate::supplier::legacy_payload_local_part(key));
        update.execute(params![key, legacy])?;
    }
    Ok(())
}

/// Writes into each Coupa PO row sent without a recorded payloadID the one it went out under
/// (if it went out by cXML), the legacy form ([`write_legacy_payload_ids`]). Run at every
/// open: an older gateway that ran on the ledger since (a downgrade) sent POs so too.
///
/// Only rows an older gateway sent get it (sent: `sent_to`, or `delivered`/
/// `partner_rejected` from before `sent_to` was kept; by an older gateway: no `sent_at`, which
/// this one writes with every send, so its POs sent as a file or mail keep none): a later
/// change must name what they went under. A row never sent (`awaiting_operator`, `dead`, ...)
/// keeps none, so it goes out under the unique form of today when it is sent: the legacy
/// form, made from the key alone, is the same for every Coupa instance's PO of that id and
/// version, and a supplier dropping repeated payloadIDs would take it for another buyer's
/// order. Rows in flight at the upgrade are
/// [`mark_legacy_pos_in_flight`]'s.
fn fill_legacy_payload_ids(conn: &Connection) -> Result<(), rusqlite::Error> {
    let keys = legacy_po_keys(
        conn,
        "sent_at = '' AND (sent_to <> '' OR status IN ('delivered', 'partner_rejected'))",
    )?;
    write_legacy_payload_ids(conn, &keys)
}

/// At the upgrade that began recording attempts (when `attempted_at` is added): a PO row the
/// older gateway left on its way (`published`, or `received`/`interrupted`, which a stop
/// between the bus's confirm and the status write leaves on the bus) with no record of its
/// sending may have reached the supplier, since that gateway recorded no attempt (a POST
/// whose answer was lost, qa14d items 1 and 2). It counts as possibly sent (`attempted_at`),
/// so a later cancellation goes out as a delete and a change as an update referring to it,
/// and gets the legacy payloadID the older gateway would have retried it under, so a retry
/// is the same order to the supplier. The ledger does not know the row's channel: a row of
/// a file channel gets both too, which only makes its cancellation go out rather than be
/// skipped (a delete for an order the supplier never got is refused; a live order that
/// should be cancelled is worse), and a payloadID no file carries.
fn mark_legacy_pos_in_flight(conn: &Connection) -> Result<(), rusqlite::Error> {
    let in_flight = "status IN ('published', 'received', 'interrupted') AND sent_to = ''";
    let keys = legacy_po_keys(conn, in_flight)?;
    write_legacy_payload_ids(conn, &keys)?;
    conn.execute(
        &format!(
            "UPDATE documents SET attempted_at = strftime('%Y-%m-%dT%H:%M:%fZ','now')
             WHERE adapter = 'coupa' AND kind = 'purchase_order' AND attempted_at = ''
               AND {in_flight}"
        ),
        [],
    )?;
    Ok(())
}

/// The start of the detail an older gateway wrote on a PO version waiting for the operator
/// when a later one stood for it: such a `superseded` row had been left to Coupa.
const LEGACY_SUPERSEDED_WAITING: &str =
    "not sent: Coupa holds a later version or the cancellation of this PO (";

/// At the upgrade that began noting POs left to Coupa (when `left_to_coupa_at` is added):
/// the older gateway's `awaiting_operator` PO rows, and those it superseded while they
/// waited, were left to Coupa, where the operator may have released them, so they count as
/// possibly received as the new gateway's do (qa14d item 3): a later change or cancellation
/// waits for the operator instead of being skipped as `cancelled_unsent`.
fn mark_legacy_pos_left_to_coupa(conn: &Connection) -> Result<(), rusqlite::Error> {
    conn.execute(
        "UPDATE documents SET left_to_coupa_at = strftime('%Y-%m-%dT%H:%M:%fZ','now')
         WHERE adapter = 'coupa' AND kind = 'purchase_order' AND left_to_coupa_at = ''
           AND (status = 'awaiting_operator'
                OR (status = 'superseded' AND substr(detail, 1, ?2) = ?1))",
        params![
            LEGACY_SUPERSEDED_WAITING,
            LEGACY_SUPERSEDED_WAITING.chars().count()
        ],
    )?;
    Ok(())
}

/// Runs a ledger write, which waits for the disk (an fsync with `durability = "full"`), so that
/// it does not hold an async worker thread: on a multi-threaded runtime the worker hands its
/// other tasks (HTTP answers, bus confirms) to another thread first. Elsewhere (a plain thread,
/// a single-threaded test runtime) it just runs.
fn outside_the_async_workers<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(f)
        }
        _ => f(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::po_keys::PoKey;

    fn doc<'a>(key: &'a str, id: &'a str) -> NewDocument<'a> {
        NewDocument {
            idempotency_key: key,
            doc_id: id,
            adapter: "cxml-http",
            partner: "acme",
            kind: "invoice",
            number: "INV-1",
            business_key: Some("acme:INV-1"),
        }
    }

    #[test]
    fn a_claim_left_by_a_stop_is_marked_interrupted_and_its_resend_takes_it_over() {
        let dir = tempfile::tempdir().unwrap();
        let l = Ledger::open(&dir.path().join("l.sqlite")).unwrap();
        for key in ["left", "on-the-bus", "late-confirmed"] {
            assert_eq!(l.claim(&doc(key, key)).unwrap(), Claim::New);
        }
        l.mark_published("on-the-bus").unwrap();
        assert_eq!(l.interrupt_unconfirmed().unwrap(), 2);
        let status = |k: &str| l.entry(k).unwrap().unwrap();
        assert_eq!(status("on-the-bus").status, "published");
        let left = status("left");
        assert_eq!(left.status, "interrupted");
        assert!(left.detail.contains("should send it again"), "{left:?}");
        // Nothing left to mark the second time.
        assert_eq!(l.interrupt_unconfirmed().unwrap(), 0);
        // Not final: the bus had this one after all, and its delivery says so.
        l.set_status("late-confirmed", Status::Delivered, "")
            .unwrap();
        assert_eq!(status("late-confirmed").status, "delivered");
        // The sender's resend under the same key is new, and the row no longer says why it
        // was interrupted.
        assert_eq!(l.claim(&doc("left", "left-2")).unwrap(), Claim::New);
        let taken = status("left");
        assert_eq!(
            (
                taken.status.as_str(),
                taken.detail.as_str(),
                taken.doc_id.as_str()
            ),
            ("received", "", "left-2")
        );
        // A dead letter the ledger had as interrupted is marked dead.
        assert_eq!(l.claim(&doc("dies", "dies")).unwrap(), Claim::New);
        l.interrupt_unconfirmed().unwrap();
        assert_eq!(
            l.reconcile_dead_letters(&[("dies", "delivery limit")])
                .unwrap(),
            1
        );
        assert_eq!(status("dies").status, "dead");
        // Partners see how many were interrupted ("left" again: its resend was interrupted
        // too), apart from those on their way.
        let summary = l.partner_summaries().unwrap();
        assert_eq!(
            (summary[0].interrupted, summary[0].on_the_way),
            (1, 1),
            "{summary:?}"
        );
        assert_eq!(Status::parse("interrupted"), Status::Interrupted);
        assert!(Status::ALL.contains(&Status::Interrupted) && !Status::Interrupted.is_done());
    }

    /// A sender's document purged from the dead letters is taken again when the sender
    /// sends it again (it was told it was not accepted); a poller's purged PO stays purged.
    #[test]
    fn a_purged_document_sent_again_is_taken_but_a_purged_po_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let l = Ledger::open(&dir.path().join("l.sqlite")).unwrap();
        assert_eq!(
            l.claim_content(&doc("x12:1", "d1"), "aaaa", "").unwrap(),
            Claim::New
        );
        l.set_status("x12:1", Status::Dead, "Coupa refused it")
            .unwrap();
        assert_eq!(l.mark_purged(&["d1"], "told the supplier").unwrap(), 1);
        assert_eq!(
            l.claim_content(&doc("x12:1", "d2"), "aaaa", "").unwrap(),
            Claim::New
        );
        assert_eq!(l.entry("x12:1").unwrap().unwrap().status, "received");

        assert_eq!(l.claim(&doc("coupa-po:7:v1", "p1")).unwrap(), Claim::New);
        l.set_status("coupa-po:7:v1", Status::Dead, "supplier down")
            .unwrap();
        assert_eq!(l.mark_purged(&["p1"], "").unwrap(), 1);
        assert!(matches!(
            l.claim(&doc("coupa-po:7:v1", "p2")).unwrap(),
            Claim::Duplicate {
                status: Status::Purged,
                ..
            }
        ));
    }

    /// A supplier that sends its refusing 997 twice refused the PO once: the counter counts
    /// what this returns.
    #[test]
    fn the_same_refusal_twice_is_newly_refused_once() {
        let dir = tempfile::tempdir().unwrap();
        let l = Ledger::open(&dir.path().join("l.sqlite")).unwrap();
        assert_eq!(l.claim(&doc("po-1", "d1")).unwrap(), Claim::New);
        l.set_status("po-1", Status::Delivered, "").unwrap();
        assert!(
            l.record_partner_ack("po-1", false, "rejected (R) in 997 0001")
                .unwrap()
        );
        assert!(
            !l.record_partner_ack("po-1", false, "rejected (R) in 997 0001")
                .unwrap()
        );
        // Another refusal (a later 997 with other reasons) is new; an acceptance never is.
        assert!(
            l.record_partner_ack("po-1", false, "rejected (R) in 997 0002")
                .unwrap()
        );
        assert!(
            !l.record_partner_ack("po-1", true, "accepted (A) in 997 0003")
                .unwrap()
        );
        assert!(!l.record_partner_ack("unknown", false, "rejected").unwrap());
    }

    #[test]
    fn files_of_documents_not_done_or_done_lately_are_in_use() {
        let dir = tempfile::tempdir().unwrap();
        let l = Ledger::open(&dir.path().join("l.sqlite")).unwrap();
        let file = |n: u8| gateway_core::AttachmentRef {
            name: format!("INV-{n} (copy) sha256 x.pdf"),
            content_type: "application/pdf".into(),
            sha256: format!("{n:02x}").repeat(32),
            size: 10,
        };
        for (key, status, n) in [
            ("dead", Some(Status::Dead), 1),
            ("on-the-bus", None, 2),
            ("delivered", Some(Status::Delivered), 3),
            ("purged", Some(Status::Purged), 4),
        ] {
            assert_eq!(l.claim(&doc(key, key)).unwrap(), Claim::New);
            l.mark_published(key).unwrap();
            l.record_attachments(key, &[file(n)]).unwrap();
            if let Some(s) = status {
                l.set_status(key, s, "").unwrap();
            }
        }
        let hex = |n: u8| format!("{n:02x}").repeat(32);
        // Done with long before a cutoff in the future: only the undone ones are in use.
        let now = std::time::SystemTime::now();
        let later = l
            .attachment_hashes_in_use(now + std::time::Duration::from_secs(86_400))
            .unwrap();
        assert_eq!(later, [hex(1), hex(2)].into_iter().collect());
        // With a cutoff in the past, the ones done since are kept too.
        let before = l
            .attachment_hashes_in_use(now - std::time::Duration::from_secs(86_400))
            .unwrap();
        assert_eq!(before.len(), 4, "{before:?}");
        assert_eq!(recorded_sha256("x (1 bytes, sha256 zz)"), None);
    }

    #[test]
    fn published_never_overwrites_a_later_fate() {
        let dir = tempfile::tempdir().unwrap();
        let l = Ledger::open(&dir.path().join("l.sqlite")).unwrap();
        assert_eq!(l.claim(&doc("k1", "d1")).unwrap(), Claim::New);
        l.mark_published("k1").unwrap();
        assert_eq!(l.entry("k1").unwrap().unwrap().status, "published");
        // The consumer delivered it before the publisher got round to marking it.
        assert_eq!(l.claim(&doc("k2", "d2")).unwrap(), Claim::New);
        l.set_status("k2", Status::Delivered, "coupa: 1").unwrap();
        l.mark_published("k2").unwrap();
        assert_eq!(l.entry("k2").unwrap().unwrap().status, "delivered");
    }

    #[test]
    fn a_key_reused_for_other_content_is_told_apart_from_a_duplicate() {
        let dir = tempfile::tempdir().unwrap();
        let l = Ledger::open(&dir.path().join("l.sqlite")).unwrap();
        assert_eq!(
            l.claim_content(&doc("k1", "d1"), "aaaa", "").unwrap(),
            Claim::New
        );
        // Not on the bus yet: a second attempt takes the key over, whatever it holds.
        assert_eq!(
            l.claim_content(&doc("k1", "d2"), "bbbb", "").unwrap(),
            Claim::New
        );
        l.mark_published("k1").unwrap();
        assert_eq!(
            l.claim_content(&doc("k1", "d3"), "bbbb", "").unwrap(),
            Claim::Duplicate {
                doc_id: "d2".into(),
                status: Status::Published
            }
        );
        assert_eq!(
            l.claim_content(&doc("k1", "d4"), "cccc", "").unwrap(),
            Claim::Reused {
                doc_id: "d2".into(),
                number: "INV-1".into()
            }
        );
        // A claim that knows no content, and a row kept before content was (no hash), answer
        // duplicate as they always did.
        assert!(matches!(
            l.claim(&doc("k1", "d5")).unwrap(),
            Claim::Duplicate { .. }
        ));
        assert_eq!(l.claim(&doc("k2", "d6")).unwrap(), Claim::New);
        l.mark_published("k2").unwrap();
        assert!(matches!(
            l.claim_content(&doc("k2", "d7"), "dddd", "").unwrap(),
            Claim::Duplicate { .. }
        ));
    }

    #[test]
    fn a_document_under_its_earlier_key_is_a_duplicate_after_its_key_changed_form() {
        let dir = tempfile::tempdir().unwrap();
        let l = Ledger::open(&dir.path().join("l.sqlite")).unwrap();
        // Mailed before the upgrade: keyed by the message and attachment.
        let old = "billing@acme.example:<m1@acme>/5ha/p1@acme";
        assert_eq!(
            l.claim_content(&doc(old, "d1"), "aaaa", "").unwrap(),
            Claim::New
        );
        l.mark_published(old).unwrap();
        let earlier = [old.to_string()];
        // Mailed again after it: its own key is new, its earlier one is on the bus. Even
        // read into other canonical JSON by a newer decoder, the same bytes are a duplicate.
        assert_eq!(
            l.claim_content_known_as(&doc("DUNS:1:p1@acme", "d2"), &earlier, "bbbb", "")
                .unwrap(),
            Claim::Duplicate {
                doc_id: "d1".into(),
                status: Status::Published
            }
        );
        assert!(l.entry("DUNS:1:p1@acme").unwrap().is_none());
        // Looked up under its own key only, it was new: published twice.
        assert_eq!(
            l.claim_content(&doc("DUNS:1:p1@acme", "d3"), "bbbb", "")
                .unwrap(),
            Claim::New
        );
        l.release("DUNS:1:p1@acme").unwrap();
        // An earlier row that never reached the bus does not hold the document back.
        let stopped = "billing@acme.example:<m2@acme>/5ha/p2@acme";
        assert_eq!(l.claim(&doc(stopped, "d4")).unwrap(), Claim::New);
        assert_eq!(
            l.claim_content_known_as(
                &doc("DUNS:1:p2@acme", "d5"),
                &[stopped.to_string()],
                "cccc",
                ""
            )
            .unwrap(),
            Claim::New
        );
        // The key it has now decides first: other content under it is a reuse.
        l.mark_published("DUNS:1:p2@acme").unwrap();
        assert_eq!(
            l.claim_content_known_as(&doc("DUNS:1:p2@acme", "d6"), &earlier, "dddd", "")
                .unwrap(),
            Claim::Reused {
                doc_id: "d5".into(),
                number: "INV-1".into()
            }
        );
    }

    #[test]
    fn a_rejection_takes_over_what_never_reached_the_bus_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let l = Ledger::open(&dir.path().join("l.sqlite")).unwrap();
        assert_eq!(l.claim(&doc("received", "d1")).unwrap(), Claim::New);
        assert_eq!(l.claim(&doc("published", "d2")).unwrap(), Claim::New);
        l.mark_published("published").unwrap();
        let refused = [
            (doc("received", "d3"), "why 1".to_string(), String::new()),
            (doc("published", "d4"), "why 2".to_string(), String::new()),
            (
                doc("new", "d5"),
                "why 3".to_string(),
                "file a.edi".to_string(),
            ),
        ];
        assert_eq!(l.record_rejections(&refused).unwrap(), 2);
        let fate = |k: &str| {
            let e = l.entry(k).unwrap().unwrap();
            (e.status, e.detail, e.doc_id)
        };
        assert_eq!(l.entry("new").unwrap().unwrap().source, "file a.edi");
        assert_eq!(
            fate("received"),
            ("rejected".into(), "why 1".into(), "d3".into())
        );
        assert_eq!(
            fate("published"),
            ("published".into(), String::new(), "d2".into())
        );
        assert_eq!(
            fate("new"),
            ("rejected".into(), "why 3".into(), "d5".into())
        );
        // The same refusal again updates its row; a rejected key is not a duplicate.
        assert_eq!(
            l.record_rejections(&[(doc("new", "d6"), "why 4".to_string(), String::new())])
                .unwrap(),
            1
        );
        assert_eq!(
            fate("new"),
            ("rejected".into(), "why 4".into(), "d6".into())
        );
        // A refusal that does not know where the document came from keeps what was known.
        assert_eq!(l.entry("new").unwrap().unwrap().source, "file a.edi");
        // Rejected rows are found by their source, as accepted ones are.
        let from = l
            .search(&DocumentFilter {
                from: Some("a.edi"),
                limit: 10,
                ..DocumentFilter::default()
            })
            .unwrap();
        assert_eq!(
            from.iter().map(|e| e.doc_id.as_str()).collect::<Vec<_>>(),
            ["d6"]
        );
        assert_eq!(l.claim(&doc("new", "d7")).unwrap(), Claim::New);
    }

    #[test]
    fn purging_marks_only_dead_documents_and_keeps_why_they_died() {
        let dir = tempfile::tempdir().unwrap();
        let l = Ledger::open(&dir.path().join("l.sqlite")).unwrap();
        for (key, id) in [("k1", "d1"), ("k2", "d2"), ("k3", "d3")] {
            assert_eq!(l.claim(&doc(key, id)).unwrap(), Claim::New);
        }
        l.set_status("k1", Status::Dead, "coupa: supplier not found")
            .unwrap();
        l.set_status("k2", Status::Delivered, "coupa: 7").unwrap();
        l.set_status("k3", Status::Dead, "").unwrap();
        assert_eq!(l.mark_purged(&["d1", "d2"], "resent").unwrap(), 1);
        assert_eq!(l.mark_purged(&["d3"], "").unwrap(), 1);
        let fate = |k: &str| {
            let e = l.entry(k).unwrap().unwrap();
            (e.status, e.detail)
        };
        assert_eq!(
            fate("k1"),
            (
                "purged".into(),
                "purged from the dead letters by an operator: resent; it had died of: coupa: supplier not found".into()
            )
        );
        assert_eq!(fate("k2"), ("delivered".into(), "coupa: 7".into()));
        assert_eq!(
            fate("k3"),
            (
                "purged".into(),
                "purged from the dead letters by an operator".into()
            )
        );
        assert_eq!(l.mark_purged(&["d1"], "again").unwrap(), 0, "once");
    }

    #[test]
    fn dead_letters_no_handler_heard_of_are_reconciled_only_while_on_their_way() {
        let dir = tempfile::tempdir().unwrap();
        let l = Ledger::open(&dir.path().join("l.sqlite")).unwrap();
        for (key, id) in [("k1", "d1"), ("k2", "d2"), ("k3", "d3")] {
            assert_eq!(l.claim(&doc(key, id)).unwrap(), Claim::New);
        }
        l.mark_published("k1").unwrap();
        l.set_status("k2", Status::Delivered, "coupa: 7").unwrap();
        l.set_status("k3", Status::Dead, "supplier not found")
            .unwrap();
        let limit = "delivery limit 5 exceeded (the consumer stopped while handling it each time)";
        assert_eq!(
            l.reconcile_dead_letters(&[
                ("d1", limit),
                ("d2", limit),
                ("d3", limit),
                ("unknown", limit)
            ])
            .unwrap(),
            1
        );
        let fate = |k: &str| {
            let e = l.entry(k).unwrap().unwrap();
            (e.status, e.detail)
        };
        assert_eq!(fate("k1"), ("dead".into(), limit.into()));
        assert_eq!(fate("k2"), ("delivered".into(), "coupa: 7".into()));
        assert_eq!(fate("k3"), ("dead".into(), "supplier not found".into()));
        assert_eq!(l.reconcile_dead_letters(&[("d1", limit)]).unwrap(), 0);
    }

    #[test]
    fn a_key_is_new_until_it_reached_the_bus() {
        let dir = tempfile::tempdir().unwrap();
        let l = Ledger::open(&dir.path().join("l.sqlite")).unwrap();
        assert_eq!(l.claim(&doc("k1", "d1")).unwrap(), Claim::New);
        // the first attempt crashed before the confirm: the resend is processed
        assert_eq!(l.claim(&doc("k1", "d2")).unwrap(), Claim::New);
        l.set_status("k1", Status::Published, "").unwrap();
        assert_eq!(
            l.claim(&doc("k1", "d3")).unwrap(),
            Claim::Duplicate {
                doc_id: "d2".into(),
                status: Status::Published
            }
        );
        // the same invoice through another channel is visible by business key
        assert_eq!(l.claim(&doc("k2", "d4")).unwrap(), Claim::New);
        let same = l.same_business_key("acme:INV-1", "k2").unwrap();
        assert_eq!(same.len(), 1);
        assert_eq!(same[0].doc_id, "d2");
    }

    /// `gateway documents --number po-edi-1` and `--number "PO-EDI-1 "` found nothing where
    /// `PO-EDI-1` found the document: numbers match as the gateway compares them
    /// (`number_key`: trimmed, ASCII case folded), and still only their own document.
    #[test]
    fn documents_are_found_by_number_in_any_case_and_untrimmed() {
        let dir = tempfile::tempdir().unwrap();
        let l = Ledger::open(&dir.path().join("l.sqlite")).unwrap();
        l.claim(&NewDocument {
            number: "PO-EDI-1",
            ..doc("k1", "d1")
        })
        .unwrap();
        l.claim(&NewDocument {
            number: "PO-EDI-10",
            ..doc("k2", "d2")
        })
        .unwrap();
        for asked in ["PO-EDI-1", "po-edi-1", "PO-EDI-1 ", "\tPo-Edi-1"] {
            let rows = l.list(Some(asked), None, 10).unwrap();
            let ids: Vec<&str> = rows.iter().map(|e| e.doc_id.as_str()).collect();
            assert_eq!(ids, ["d1"], "{asked:?}");
        }
        assert!(l.list(Some("PO-EDI"), None, 10).unwrap().is_empty());
    }

    #[test]
    fn released_claims_are_forgotten_and_state_survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("l.sqlite");
        {
            let l = Ledger::open(&path).unwrap();
            l.claim(&doc("k1", "d1")).unwrap();
            l.release("k1").unwrap();
            assert!(l.list(None, None, 10).unwrap().is_empty());
            l.claim(&doc("k2", "d2")).unwrap();
            l.set_status("d2", Status::Delivered, "coupa id 7").unwrap();
        }
        let l = Ledger::open(&path).unwrap();
        let rows = l.list(Some("INV-1"), Some("delivered"), 10).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].detail, "coupa id 7");
    }

    fn sent(interchange: &str, group: &str, set: &str) -> adapter_x12::SentSet {
        adapter_x12::SentSet {
            interchange: interchange.into(),
            group: group.into(),
            set: set.into(),
        }
    }

    #[test]
    fn overdue_acknowledgments_count_unanswered_documents_past_the_hours() {
        let dir = tempfile::tempdir().unwrap();
        let l = Ledger::open(&dir.path().join("l.sqlite")).unwrap();
        for (key, id) in [("k1", "d1"), ("k2", "d2"), ("k3", "d3")] {
            l.claim(&doc(key, id)).unwrap();
        }
        l.record_x12_sent("globex", "k1", &[sent("000000001", "1", "0001")])
            .unwrap();
        l.record_x12_sent("globex", "k2", &[sent("000000002", "2", "0001")])
            .unwrap();
        l.record_x12_sent("acme", "k3", &[sent("000000001", "1", "0001")])
            .unwrap();
        // k1 and k3 went out long ago, k2 just now.
        let old = "2026-01-01T00:00:00.000Z";
        l.write(|c| {
            c.execute(
                "UPDATE x12_sent SET sent_at = ?1 WHERE idempotency_key IN ('k1', 'k3')",
                [old],
            )
        })
        .unwrap();
        assert_eq!(l.x12_partners().unwrap(), ["acme", "globex"]);
        assert_eq!(
            l.overdue_acknowledgments("globex", 24).unwrap(),
            OverdueAcks {
                documents: 1,
                oldest_sent_at: Some(old.into())
            }
        );
        assert_eq!(l.overdue_acknowledgments("globex", 0).unwrap().documents, 2);
        assert_eq!(l.overdue_acknowledgments("acme", 24).unwrap().documents, 1);
        // An answer, accepting or refusing, ends the wait.
        l.record_partner_ack("k1", true, "accepted (A) in 997 0001")
            .unwrap();
        l.record_partner_ack("k3", false, "rejected (R) in 997 0001")
            .unwrap();
        assert_eq!(
            l.overdue_acknowledgments("globex", 24).unwrap(),
            OverdueAcks::default()
        );
        assert_eq!(l.overdue_acknowledgments("acme", 24).unwrap().documents, 0);
    }

    #[test]
    fn a_partner_rejection_is_final_and_shown() {
        let dir = tempfile::tempdir().unwrap();
        let l = Ledger::open(&dir.path().join("l.sqlite")).unwrap();
        l.claim(&doc("k1", "d1")).unwrap();
        l.record_x12_sent("globex", "k1", &[sent("000000007", "12", "0001")])
            .unwrap();
        assert_eq!(
            l.x12_sent_in_interchange("globex", "000000007").unwrap(),
            ["k1"]
        );
        assert_eq!(
            l.x12_sent_in_group("globex", "12").unwrap(),
            [("0001".to_string(), "k1".to_string())]
        );
        assert!(l.x12_sent_in_group("acme", "12").unwrap().is_empty());
        // Sent and not answered yet: listed as waiting from 0 hours on, not yet after 1 hour.
        let waiting = |hours| {
            l.search(&DocumentFilter {
                unacknowledged_hours: Some(hours),
                limit: 10,
                ..DocumentFilter::default()
            })
            .unwrap()
            .len()
        };
        assert_eq!((waiting(0), waiting(1)), (1, 0));
        l.record_partner_ack("k1", false, "rejected (R) in 997 0001")
            .unwrap();
        assert_eq!(waiting(0), 0, "answered");
        // The delivery report that comes after does not hide the refusal, and the same PO is
        // not taken as new.
        l.set_status("k1", Status::Delivered, "supplier: file")
            .unwrap();
        let e = l.entry("k1").unwrap().unwrap();
        assert_eq!(
            (e.status.as_str(), e.partner_ack.as_str()),
            ("partner_rejected", "rejected (R) in 997 0001")
        );
        assert!(matches!(
            l.claim(&doc("k1", "d2")).unwrap(),
            Claim::Duplicate {
                status: Status::PartnerRejected,
                ..
            }
        ));
        // The partner accepts it after all (a corrected 997): delivered again.
        l.record_partner_ack("k1", true, "accepted (A) in 997 0002")
            .unwrap();
        let e = l.entry("k1").unwrap().unwrap();
        assert_eq!(
            (e.status.as_str(), e.partner_ack.as_str()),
            ("delivered", "accepted (A) in 997 0002")
        );
    }

    #[test]
    fn a_ledger_made_before_partner_acknowledgments_gains_the_column() {
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
                     updated_at TEXT NOT NULL DEFAULT '2026-01-01');
                 INSERT INTO documents (idempotency_key, doc_id, adapter, partner, kind, number, status)
                     VALUES ('k0', 'd0', 'x12', 'globex', 'purchase_order', 'PO-1', 'delivered');",
            )
            .unwrap();
        }
        let l = Ledger::open(&path).unwrap();
        let e = l.entry("k0").unwrap().unwrap();
        assert_eq!(
            (e.status.as_str(), e.partner_ack.as_str()),
            ("delivered", "")
        );
        // Opening it again finds the column there.
        drop(l);
        Ledger::open(&path).unwrap();
    }

    /// A ledger as the previous release (f91a496) made it: `sent_to` but none of the columns
    /// added since, holding Coupa PO rows of (key, status, sent_to, detail).
    fn old_release_ledger(path: &Path, rows: &[(&str, &str, &str, &str)]) {
        let c = Connection::open(path).unwrap();
        c.execute_batch(
            "CREATE TABLE documents (idempotency_key TEXT PRIMARY KEY, doc_id TEXT NOT NULL,
                 adapter TEXT NOT NULL, partner TEXT NOT NULL, kind TEXT NOT NULL,
                 number TEXT NOT NULL, business_key TEXT, status TEXT NOT NULL,
                 detail TEXT NOT NULL DEFAULT '',
                 received_at TEXT NOT NULL DEFAULT '2026-01-01',
                 updated_at TEXT NOT NULL DEFAULT '2026-01-01',
                 sent_to TEXT NOT NULL DEFAULT '');",
        )
        .unwrap();
        for (key, status, sent_to, detail) in rows {
            c.execute(
                "INSERT INTO documents (idempotency_key, doc_id, adapter, partner, kind,
                     number, status, sent_to, detail)
                 VALUES (?1, ?1, 'coupa', 'acme', 'purchase_order', 'PO', ?2, ?3, ?4)",
                params![key, status, sent_to, detail],
            )
            .unwrap();
        }
    }

    fn legacy_id(key: &str) -> String {
        format!("{}@", crate::supplier::legacy_payload_local_part(key))
    }

    /// QA (qa14c item 7, qa14d items 1-2): the upgrade gives the legacy payloadID, made from
    /// the key alone and the same for every Coupa instance, only to POs the older gateway sent
    /// or may have sent (on their way at the upgrade: it would have retried them under it). A
    /// PO never sent (waiting for the operator, dead) goes out later under today's form.
    #[test]
    fn the_upgrade_gives_the_legacy_payload_id_only_to_pos_sent_or_in_flight_before_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.sqlite");
        let rows = [
            ("coupa-po:1:v1", "delivered", "", ""),
            ("coupa-po:2:v1", "partner_rejected", "", ""),
            (
                "coupa-po:3:v1",
                "dead",
                "supplier acme: https://acme.example/cxml",
                "",
            ),
            ("coupa-po:4:v1", "awaiting_operator", "", ""),
            ("coupa-po:5:v1", "dead", "", ""),
            ("coupa-po:6:v1", "published", "", ""),
            ("coupa-po:7:v1", "interrupted", "", ""),
        ];
        old_release_ledger(&path, &rows);
        let l = Ledger::open(&path).unwrap();
        for (key, status, _, _) in rows {
            let recorded = l.recorded_payload_id(key).unwrap();
            let never_sent = matches!(key, "coupa-po:4:v1" | "coupa-po:5:v1");
            if never_sent {
                assert_eq!(recorded, None, "{key} ({status}) was never sent");
            } else {
                assert_eq!(recorded, Some(legacy_id(key)), "{key} ({status})");
            }
        }
    }

    /// QA (qa14d items 1-2): a cXML PO the older gateway left `published` (its POST's answer
    /// lost, a retry pending) may be at the supplier: after the upgrade its cancellation
    /// refers to it (a delete, not `cancelled_unsent`), and its retry goes out under the
    /// payloadID the older gateway sent it under. A PO dead before being sent counts as not
    /// sent.
    #[test]
    fn a_po_in_flight_at_the_upgrade_counts_as_possibly_sent_under_its_legacy_id() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.sqlite");
        old_release_ledger(
            &path,
            &[
                ("coupa-po:38086:v1", "published", "", ""),
                ("coupa-po:40:v1", "received", "", ""),
                ("coupa-po:41:v1", "dead", "", "the supplier refused it"),
            ],
        );
        let l = Ledger::open(&path).unwrap();
        for (id, earlier) in [
            (38086, Some("coupa-po:38086:v1")),
            (40, Some("coupa-po:40:v1")),
            (41, None),
        ] {
            let cancel = PoKey {
                coupa_id: id,
                version: 1,
                cancel: true,
            };
            assert_eq!(
                l.earlier_po_sent(&cancel).unwrap().as_deref(),
                earlier,
                "{id}"
            );
        }
        let legacy = legacy_id("coupa-po:38086:v1");
        assert_eq!(
            l.payload_id_for("coupa-po:38086:v1", "coupa-po.38086.v1.new@host")
                .unwrap(),
            Some(legacy)
        );
        // A retry's attempt finds it recorded already.
        assert!(!l.record_attempt("coupa-po:38086:v1").unwrap());
    }

    /// QA (qa14d item 3): a PO the older gateway left to Coupa (`awaiting_operator`, or
    /// superseded while it waited) counts after the upgrade as left to Coupa, so its change
    /// or cancellation waits for the operator instead of being skipped.
    #[test]
    fn a_po_left_to_coupa_before_the_upgrade_keeps_its_changes_waiting_for_the_operator() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.sqlite");
        old_release_ledger(
            &path,
            &[
                (
                    "coupa-po:53:v1",
                    "awaiting_operator",
                    "",
                    "waits for the operator: ...",
                ),
                (
                    "coupa-po:54:v1",
                    "superseded",
                    "",
                    "not sent: Coupa holds a later version or the cancellation of this PO (coupa-po:54:v2), which stands for it",
                ),
                (
                    "coupa-po:54:v2",
                    "awaiting_operator",
                    "",
                    "waits for the operator: ...",
                ),
                (
                    "coupa-po:55:v1",
                    "superseded",
                    "",
                    "not sent: version 2 went first",
                ),
            ],
        );
        let l = Ledger::open(&path).unwrap();
        let key = |coupa_id, version, cancel| PoKey {
            coupa_id,
            version,
            cancel,
        };
        assert_eq!(
            l.earlier_po_left_to_coupa(&key(53, 1, true))
                .unwrap()
                .as_deref(),
            Some("coupa-po:53:v1")
        );
        assert_eq!(
            l.earlier_po_left_to_coupa(&key(54, 2, false))
                .unwrap()
                .as_deref(),
            Some("coupa-po:54:v1")
        );
        assert_eq!(
            l.earlier_po_left_to_coupa(&key(55, 2, false)).unwrap(),
            None
        );
    }

    /// QA (qa14d item 4): a PO an older gateway sent on an upgraded ledger (a downgrade, then
    /// this gateway again) recorded no payloadID: the next open writes the legacy one, so a
    /// change refers to what went out. Rows in flight meanwhile, and rows of today's form,
    /// are left alone.
    #[test]
    fn a_po_sent_by_an_older_gateway_after_the_upgrade_gets_its_legacy_id_at_the_next_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ledger.sqlite");
        old_release_ledger(&path, &[]);
        drop(Ledger::open(&path).unwrap());
        {
            // The older gateway, which knows none of the new columns, sends v4 and puts v5 on
            // the bus; today's gateway had sent v3 under today's form.
            let c = Connection::open(&path).unwrap();
            c.execute_batch(
                "INSERT INTO documents (idempotency_key, doc_id, adapter, partner, kind,
                     number, status, sent_to, payload_id)
                 VALUES ('coupa-po:20:v3', 'a', 'coupa', 'acme', 'purchase_order', 'PO',
                         'delivered', 'supplier acme', 'coupa-po.20.v3.1b337a8d6f75@coupa-gateway'),
                        ('coupa-po:20:v4', 'b', 'coupa', 'acme', 'purchase_order', 'PO',
                         'delivered', 'supplier acme', ''),
                        ('coupa-po:20:v5', 'c', 'coupa', 'acme', 'purchase_order', 'PO',
                         'published', '', '');
                 -- Today's gateway sent this one as a file: no payloadID of its own.
                 INSERT INTO documents (idempotency_key, doc_id, adapter, partner, kind,
                     number, status, sent_to, sent_at)
                 VALUES ('coupa-po:21:v1', 'd', 'coupa', 'x12p', 'purchase_order', 'PO',
                         'delivered', 'supplier x12p: out/po.edi', '2026-05-01T00:00:00.000Z');",
            )
            .unwrap();
        }
        let l = Ledger::open(&path).unwrap();
        assert_eq!(
            l.recorded_payload_id("coupa-po:20:v4").unwrap(),
            Some(legacy_id("coupa-po:20:v4"))
        );
        assert_eq!(
            l.recorded_payload_id("coupa-po:20:v3").unwrap().as_deref(),
            Some("coupa-po.20.v3.1b337a8d6f75@coupa-gateway")
        );
        assert_eq!(l.recorded_payload_id("coupa-po:20:v5").unwrap(), None);
        assert_eq!(l.recorded_payload_id("coupa-po:21:v1").unwrap(), None);
    }

    /// A note that changes replaces its earlier line, wherever it is among the others, and
    /// is added only when asked.
    #[test]
    fn a_note_that_changes_stays_one_line() {
        assert_eq!(
            notes_with("a\nX: 1\nb\nX: 2", "X: ", "X: 3", false).as_deref(),
            Some("a\nX: 3\nb")
        );
        assert_eq!(notes_with("a", "X: ", "X: 3", false), None);
        assert_eq!(
            notes_with("a", "X: ", "X: 3", true).as_deref(),
            Some("a\nX: 3")
        );
        assert_eq!(notes_with("", "X: ", "X: 3", true).as_deref(), Some("X: 3"));
        assert_eq!(notes_with("X: 3", "X: ", "X: 3", true), None);
    }

    /// `Status::ALL` (what `gateway documents --status` offers) holds every status, each read
    /// back by `parse`: the match stops compiling when a status is added, and the assertion
    /// fails until it is listed.
    #[test]
    fn every_status_is_listed_and_read_back_by_its_name() {
        let listed = |s: Status| match s {
            Status::Received
            | Status::Interrupted
            | Status::Published
            | Status::Delivered
            | Status::Dead
            | Status::Purged
            | Status::Rejected
            | Status::PartnerRejected
            | Status::Superseded
            | Status::CancelledUnsent
            | Status::AwaitingOperator => Status::ALL.contains(&s),
        };
        for s in Status::ALL {
            assert!(listed(s));
            assert_eq!(Status::parse(s.as_str()), s, "{}", s.as_str());
        }
        let names: std::collections::BTreeSet<&str> =
            Status::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(names.len(), Status::ALL.len());
    }

    /// QA: after `gateway dlq replay`, the row still said `dead` (old reason, old time) until
    /// the redelivery ended, and once delivered nothing said it had died. A replayed row is
    /// on its way, saying when and after what, `gateway partners` no longer counts it dead,
    /// and its history keeps the death and the replay whatever comes after (a delivery, or
    /// death again and a second replay).
    #[test]
    fn a_replayed_dead_letter_is_on_its_way_and_its_history_keeps_the_replay() {
        let dir = tempfile::tempdir().unwrap();
        let l = Ledger::open(&dir.path().join("l.sqlite")).unwrap();
        let died = "Coupa did not answer: connection refused";
        for key in ["k1", "k2", "k3"] {
            l.claim(&doc(key, key)).unwrap();
            l.set_status(key, Status::Dead, died).unwrap();
        }
        l.set_status("k3", Status::Delivered, "coupa: 3").unwrap();
        let dead_before = l.entry("k1").unwrap().unwrap();

        // k3 was delivered meanwhile: a replay's mark leaves it as it is.
        let marked = l
            .mark_replayed(&[("k1", died), ("k2", died), ("k3", died)])
            .unwrap();
        assert_eq!(marked, 2);
        let row = l.entry("k1").unwrap().unwrap();
        assert_eq!(row.status, "published", "{row:?}");
        assert!(
            row.detail.starts_with(REPLAYED)
                && row.detail.ends_with(&format!(" after: {died}"))
                && row.updated_at > dead_before.updated_at,
            "{row:?}"
        );
        assert!(
            row.history.contains(REPLAYED_HISTORY) && row.history.ends_with(died),
            "{row:?}"
        );
        let summary = &l.partner_summaries().unwrap()[0];
        assert_eq!((summary.dead, summary.on_the_way), (0, 2), "{summary:?}");
        assert!(l.entry("k3").unwrap().unwrap().history.is_empty());

        // Delivered: the detail is the delivery's, the history still says it died once.
        l.set_status("k1", Status::Delivered, "coupa: 9").unwrap();
        let delivered = l.entry("k1").unwrap().unwrap();
        assert_eq!(delivered.detail, "coupa: 9");
        assert_eq!(delivered.history, row.history);
        assert_eq!(delivered.history.lines().count(), 1);

        // k2 died again and was replayed a second time: two lines, oldest first.
        l.set_status("k2", Status::Dead, "supplier not found")
            .unwrap();
        l.mark_replayed(&[("k2", "supplier not found")]).unwrap();
        let twice = l.entry("k2").unwrap().unwrap().history;
        let lines: Vec<&str> = twice.lines().collect();
        assert_eq!(lines.len(), 2, "{twice}");
        assert!(lines[0].ends_with(died) && lines[1].ends_with("supplier not found"));

        // A replay that did not take it after all: dead again, and the line it added gone.
        l.unmark_replayed(&[("k2", "supplier not found")]).unwrap();
        let undone = l.entry("k2").unwrap().unwrap();
        assert_eq!(
            (undone.status.as_str(), undone.detail.as_str()),
            ("dead", "supplier not found")
        );
        assert_eq!(undone.history, lines[0]);
        // A delivered row is not marked dead by it.
        assert_eq!(l.unmark_replayed(&[("k1", died)]).unwrap(), 0);
    }

    /// QA: a ledger SQLite could open only for reading stopped `gateway serve` with
    /// "document ledger: attempt to write a readonly database", naming no file. Its first
    /// write (the probe the service makes at start) names the file, the setting and what to
    /// do; and the ledger reports it as failing until a write succeeds.
    #[test]
    fn a_ledger_that_cannot_be_written_is_named_with_what_to_do() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ledger.sqlite");
        Ledger::open(&path).unwrap().probe_write().unwrap();
        let read_only =
            Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
        let l = Ledger::over(read_only, &path).unwrap();
        assert_eq!(l.write_failure(), None);
        let err = l.probe_write().unwrap_err().to_string();
        assert!(
            err.contains(&path.display().to_string())
                && err.contains("([ledger] path)")
                && err.contains("readonly database")
                && err.contains("not writable by the user running the gateway"),
            "{err}"
        );
        let failing = l.write_failure().unwrap_or_default();
        assert!(failing.contains(&path.display().to_string()), "{failing}");
        // Every later write says the same.
        let err = l.interrupt_unconfirmed().unwrap_err().to_string();
        assert!(err.contains("([ledger] path)"), "{err}");
        // A file that cannot be opened at all is named too.
        let dir_as_file = dir.path().join("a-folder");
        std::fs::create_dir(&dir_as_file).unwrap();
        let err = Ledger::open(&dir_as_file).unwrap_err().to_string();
        assert!(
            err.contains(&dir_as_file.display().to_string()) && err.contains("([ledger] path)"),
            "{err}"
        );
    }
}
