//! The embedded bus's durable store: one SQLite table of messages in WAL mode with
//! `synchronous=FULL`, so a publish that returned is on disk and survives `kill -9`.
//!
//! A message row is `ready` (waiting, possibly until `available_at`), `leased` (handed to a
//! handler) or `dead`. Acking deletes the row. Leases left by a crashed process go back to
//! `ready` when the serving process opens the store, and count as a delivery.

use std::path::Path;

use gateway_core::{BusError, DeadFilter, DeadLetter, Envelope, QueueDepth, ReplayHistory};
use rusqlite::{Connection, OptionalExtension, params};

use crate::settle::Decision;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS messages (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    consumer     TEXT    NOT NULL,
    envelope     TEXT    NOT NULL,
    body         BLOB    NOT NULL,
    attempt      INTEGER NOT NULL DEFAULT 0,
    state        TEXT    NOT NULL DEFAULT 'ready',
    available_at INTEGER NOT NULL,
    first_error  TEXT,
    last_error   TEXT,
    dead_at      INTEGER
);
CREATE INDEX IF NOT EXISTS messages_ready ON messages (consumer, state, available_at, seq);
";

/// Columns added after the first release, each with its definition: a store written by an
/// older gateway gains them on open ([`ReplayHistory`]).
const ADDED_COLUMNS: [(&str, &str); 2] = [
    ("replays", "INTEGER NOT NULL DEFAULT 0"),
    ("earlier_attempts", "INTEGER NOT NULL DEFAULT 0"),
];

/// One leased message.
#[derive(Debug, Clone)]
pub struct Leased {
    pub seq: i64,
    pub envelope: Envelope,
    pub body: Vec<u8>,
    pub attempt: u32,
    pub first_error: Option<String>,
}

pub struct Store {
    conn: Connection,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").finish_non_exhaustive()
    }
}

fn storage(e: impl std::fmt::Display) -> BusError {
    BusError::Storage(e.to_string())
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn decode_envelope(text: &str) -> Result<Envelope, BusError> {
    serde_json::from_str(text).map_err(|e| BusError::Storage(format!("stored envelope: {e}")))
}

/// Adds the [`ADDED_COLUMNS`] a store does not have yet.
fn add_missing_columns(conn: &Connection) -> Result<(), BusError> {
    let mut stmt = conn
        .prepare("SELECT name FROM pragma_table_info('messages')")
        .map_err(storage)?;
    let have: Vec<String> = stmt
        .query_map([], |r| r.get::<_, String>(0))
        .map_err(storage)?
        .collect::<Result<_, _>>()
        .map_err(storage)?;
    for (name, definition) in ADDED_COLUMNS {
        if !have.iter().any(|h| h == name) {
            conn.execute_batch(&format!(
                "ALTER TABLE messages ADD COLUMN {name} {definition}"
            ))
            .map_err(storage)?;
        }
    }
    Ok(())
}

impl Store {
    pub fn open(path: &Path) -> Result<Self, BusError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| BusError::Storage(format!("cannot create {}: {e}", dir.display())))?;
        }
        let conn = Connection::open(path)
            .map_err(|e| BusError::Storage(format!("cannot open {}: {e}", path.display())))?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(storage)?;
        conn.execute_batch("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;")
            .map_err(storage)?;
        conn.execute_batch(SCHEMA).map_err(storage)?;
        add_missing_columns(&conn)?;
        Ok(Store { conn })
    }

    /// Returns leases of a previous (crashed) process to `ready`. Only the serving process
    /// calls this, once, before consuming.
    pub fn reclaim_leases(&self) -> Result<usize, BusError> {
        self.conn
            .execute(
                "UPDATE messages SET state = 'ready' WHERE state = 'leased'",
                [],
            )
            .map_err(storage)
    }

    /// Inserts every (consumer, envelope, body) in one transaction: all or nothing.
    pub fn insert(&mut self, rows: &[(String, String, &[u8])]) -> Result<(), BusError> {
        let tx = self.conn.transaction().map_err(storage)?;
        {
            let mut stmt = tx
                .prepare_cached(
                    "INSERT INTO messages (consumer, envelope, body, available_at)
                     VALUES (?1, ?2, ?3, ?4)",
                )
                .map_err(storage)?;
            let now = now_ms();
            for (consumer, envelope, body) in rows {
                stmt.execute(params![consumer, envelope, body, now])
                    .map_err(storage)?;
            }
        }
        tx.commit().map_err(storage)
    }

    /// Leases up to `max` due messages of `consumer`, oldest first, counting the delivery.
    pub fn lease(&mut self, consumer: &str, max: usize) -> Result<Vec<Leased>, BusError> {
        let tx = self.conn.transaction().map_err(storage)?;
        let mut out = Vec::new();
        {
            let mut select = tx
                .prepare_cached(
                    "SELECT seq, envelope, body, attempt, first_error FROM messages
                     WHERE consumer = ?1 AND state = 'ready' AND available_at <= ?2
                     ORDER BY available_at, seq LIMIT ?3",
                )
                .map_err(storage)?;
            let limit = i64::try_from(max).unwrap_or(i64::MAX);
            let rows = select
                .query_map(params![consumer, now_ms(), limit], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, Vec<u8>>(2)?,
                        r.get::<_, u32>(3)?,
                        r.get::<_, Option<String>>(4)?,
                    ))
                })
                .map_err(storage)?;
            for row in rows {
                let (seq, envelope, body, attempt, first_error) = row.map_err(storage)?;
                out.push(Leased {
                    seq,
                    envelope: decode_envelope(&envelope)?,
                    body,
                    attempt: attempt.saturating_add(1),
                    first_error,
                });
            }
            let mut update = tx
                .prepare_cached(
                    "UPDATE messages SET state = 'leased', attempt = attempt + 1 WHERE seq = ?1",
                )
                .map_err(storage)?;
            for m in &out {
                update.execute(params![m.seq]).map_err(storage)?;
            }
        }
        tx.commit().map_err(storage)?;
        Ok(out)
    }

    /// Applies every decision in one transaction.
    pub fn settle_all(&mut self, decisions: &[(i64, Decision)]) -> Result<(), BusError> {
        let tx = self.conn.transaction().map_err(storage)?;
        let now = now_ms();
        for (seq, d) in decisions {
            match d {
                Decision::Ack => {
                    tx.execute("DELETE FROM messages WHERE seq = ?1", params![seq])
                        .map_err(storage)?;
                }
                Decision::Retry { delay, reason } => {
                    let ms = i64::try_from(delay.as_millis()).unwrap_or(i64::MAX);
                    tx.execute(
                        "UPDATE messages SET state = 'ready', available_at = ?2,
                                first_error = COALESCE(first_error, ?3), last_error = ?3
                         WHERE seq = ?1",
                        params![seq, now.saturating_add(ms), reason],
                    )
                    .map_err(storage)?;
                }
                Decision::Dead { reason } => {
                    tx.execute(
                        "UPDATE messages SET state = 'dead', dead_at = ?2,
                                first_error = COALESCE(first_error, ?3), last_error = ?3
                         WHERE seq = ?1",
                        params![seq, now, reason],
                    )
                    .map_err(storage)?;
                }
            }
        }
        tx.commit().map_err(storage)
    }

    /// When the next not-yet-due ready message of `consumer` becomes due (unix ms).
    pub fn next_due(&self, consumer: &str) -> Result<Option<i64>, BusError> {
        self.conn
            .query_row(
                "SELECT MIN(available_at) FROM messages WHERE consumer = ?1 AND state = 'ready'",
                params![consumer],
                |r| r.get::<_, Option<i64>>(0),
            )
            .optional()
            .map(Option::flatten)
            .map_err(storage)
    }

    /// Dead letters of `consumer` matching `filter`, oldest first (seq, letter).
    pub fn dead_letters(
        &self,
        consumer: &str,
        filter: &DeadFilter,
        limit: usize,
    ) -> Result<Vec<(i64, DeadLetter)>, BusError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT seq, envelope, body, attempt, first_error, last_error, dead_at,
                        replays, earlier_attempts
                 FROM messages WHERE consumer = ?1 AND state = 'dead' ORDER BY seq",
            )
            .map_err(storage)?;
        let rows = stmt
            .query_map(params![consumer], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Vec<u8>>(2)?,
                    r.get::<_, u32>(3)?,
                    r.get::<_, Option<String>>(4)?,
                    r.get::<_, Option<String>>(5)?,
                    r.get::<_, Option<i64>>(6)?,
                    ReplayHistory {
                        replays: r.get::<_, u32>(7)?,
                        earlier_attempts: r.get::<_, u32>(8)?,
                    },
                ))
            })
            .map_err(storage)?;
        let mut out = Vec::new();
        for row in rows {
            if out.len() >= limit {
                break;
            }
            let (seq, envelope, body, attempts, first_error, last_error, dead_at, replayed) =
                row.map_err(storage)?;
            let envelope = decode_envelope(&envelope)?;
            let reason = last_error.unwrap_or_default();
            if !filter.matches(&envelope, &reason) {
                continue;
            }
            out.push((
                seq,
                DeadLetter {
                    consumer: consumer.to_string(),
                    doc_id: envelope.doc_id.clone(),
                    idempotency_key: envelope.idempotency_key.clone(),
                    partner: envelope.partner.clone(),
                    kind: envelope.kind,
                    attempts,
                    reason,
                    first_error,
                    dead_at: dead_at.and_then(chrono::DateTime::from_timestamp_millis),
                    replayed,
                    envelope,
                    body,
                },
            ));
        }
        Ok(out)
    }

    /// Puts dead letters back to `ready` with a fresh attempt count; returns how many moved.
    pub fn revive(&mut self, seqs: &[i64]) -> Result<usize, BusError> {
        let tx = self.conn.transaction().map_err(storage)?;
        let mut n = 0;
        {
            let mut stmt = tx
                .prepare_cached(
                    "UPDATE messages SET state = 'ready', attempt = 0, available_at = ?2,
                            dead_at = NULL, replays = replays + 1,
                            earlier_attempts = earlier_attempts + attempt
                     WHERE seq = ?1 AND state = 'dead'",
                )
                .map_err(storage)?;
            let now = now_ms();
            for seq in seqs {
                n += stmt.execute(params![seq, now]).map_err(storage)?;
            }
        }
        tx.commit().map_err(storage)?;
        Ok(n)
    }

    pub fn delete_dead(&mut self, seqs: &[i64]) -> Result<usize, BusError> {
        let tx = self.conn.transaction().map_err(storage)?;
        let mut n = 0;
        {
            let mut stmt = tx
                .prepare_cached("DELETE FROM messages WHERE seq = ?1 AND state = 'dead'")
                .map_err(storage)?;
            for seq in seqs {
                n += stmt.execute(params![seq]).map_err(storage)?;
            }
        }
        tx.commit().map_err(storage)?;
        Ok(n)
    }

    pub fn depth(&self, consumer: &str) -> Result<QueueDepth, BusError> {
        self.conn
            .query_row(
                "SELECT COALESCE(SUM(state != 'dead' AND NOT waiting), 0),
                        COALESCE(SUM(state = 'dead'), 0), COALESCE(SUM(waiting), 0)
                 FROM (SELECT state, state = 'ready' AND attempt > 0 AND available_at > ?2
                              AS waiting
                       FROM messages WHERE consumer = ?1)",
                params![consumer, now_ms()],
                |r| {
                    Ok(QueueDepth {
                        ready: r.get::<_, i64>(0)?.try_into().unwrap_or(0),
                        dead: r.get::<_, i64>(1)?.try_into().unwrap_or(0),
                        retrying: r.get::<_, i64>(2)?.try_into().unwrap_or(0),
                    })
                },
            )
            .map_err(storage)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use gateway_core::SourceMeta;
    use gateway_model::DocumentKind;

    /// A store written before replays were counted opens, and its dead letters list and replay
    /// as before, now counting the replay.
    #[test]
    fn a_store_from_before_replay_history_gains_it_on_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bus.sqlite");
        let envelope = Envelope::inbound(
            DocumentKind::Invoice,
            "test",
            Some("acme".into()),
            SourceMeta::default(),
        );
        {
            let old = Connection::open(&path).unwrap();
            old.execute_batch(SCHEMA).unwrap();
            old.execute(
                "INSERT INTO messages (consumer, envelope, body, attempt, state, available_at,
                                       last_error, dead_at)
                 VALUES ('invoices', ?1, x'7B7D', 4, 'dead', 0, 'gave up', 1)",
                params![serde_json::to_string(&envelope).unwrap()],
            )
            .unwrap();
        }
        let mut store = Store::open(&path).unwrap();
        let dead = store
            .dead_letters("invoices", &DeadFilter::default(), 10)
            .unwrap();
        assert_eq!(dead.len(), 1);
        assert_eq!(dead[0].1.attempts, 4);
        assert_eq!(dead[0].1.replayed, ReplayHistory::default());
        assert_eq!(store.revive(&[dead[0].0]).unwrap(), 1);
        store
            .settle_all(&[(
                dead[0].0,
                Decision::Dead {
                    reason: "again".into(),
                },
            )])
            .unwrap();
        let again = store
            .dead_letters("invoices", &DeadFilter::default(), 10)
            .unwrap();
        assert_eq!(
            again[0].1.replayed,
            ReplayHistory {
                replays: 1,
                earlier_attempts: 4
            }
        );
        // Opening it again adds nothing twice.
        drop(store);
        assert!(Store::open(&path).is_ok());
    }
}
