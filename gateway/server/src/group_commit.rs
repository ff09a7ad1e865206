//! Group commit for the ledger's SQLite connection: writers that arrive while a commit is
//! flushing to disk go into the next transaction together, and that transaction is flushed
//! once for all of them.
//!
//! Every document costs a few ledger writes, and with `synchronous = FULL` each commit waits
//! for an fsync. One commit per write made the disk the bound of the whole gateway (the CPU
//! was under half busy). Here each writer runs its own statements on its own thread inside a
//! savepoint of the open transaction, then waits until a commit covering its write is on disk;
//! the first writer to wait when no commit is running becomes the one that commits. A write
//! still returns only once it is durable, so nothing changes for callers but the throughput.

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, MutexGuard};

use rusqlite::Connection;

/// Why a write did not become durable (the message of SQLite's error).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitError(pub String);

/// The connection and the number of the transaction writes currently go into.
#[derive(Debug)]
struct Open {
    conn: Connection,
    epoch: u64,
}

/// What is on disk: every transaction up to `committed`, except the `failed` ones.
#[derive(Debug, Default)]
struct Durable {
    committed: u64,
    committing: bool,
    /// Recent transactions whose commit failed, with the reason (bounded).
    failed: VecDeque<(u64, String)>,
}

const FAILED_KEPT: usize = 64;

/// One SQLite connection with group commit.
#[derive(Debug)]
pub struct GroupCommit {
    open: Mutex<Open>,
    durable: Mutex<Durable>,
    flushed: Condvar,
}

fn lock<T>(m: &Mutex<T>) -> Result<MutexGuard<'_, T>, CommitError> {
    m.lock()
        .map_err(|_| CommitError("ledger lock poisoned".into()))
}

impl GroupCommit {
    pub fn new(conn: Connection) -> Self {
        // Room for every statement the ledger runs, so none is parsed twice.
        conn.set_prepared_statement_cache_capacity(64);
        GroupCommit {
            open: Mutex::new(Open { conn, epoch: 1 }),
            durable: Mutex::new(Durable::default()),
            flushed: Condvar::new(),
        }
    }

    /// Runs a read. It sees every write made so far, flushed or not (one connection).
    pub fn read<T>(
        &self,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> Result<T, CommitError> {
        let open = lock(&self.open)?;
        f(&open.conn).map_err(|e| CommitError(e.to_string()))
    }

    /// Runs `f` atomically (all of its statements or none) and returns once it is on disk.
    pub fn write<T>(
        &self,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> Result<T, CommitError> {
        let (value, epoch) = {
            let open = lock(&self.open)?;
            let run = || -> rusqlite::Result<T> {
                if open.conn.is_autocommit() {
                    run_cached(&open.conn, "BEGIN")?;
                }
                run_cached(&open.conn, "SAVEPOINT write")?;
                match f(&open.conn) {
                    Ok(v) => {
                        run_cached(&open.conn, "RELEASE write")?;
                        Ok(v)
                    }
                    Err(e) => {
                        // Undo this writer's statements only; the others' stay in the
                        // transaction.
                        let _ = open.conn.execute_batch("ROLLBACK TO write; RELEASE write");
                        Err(e)
                    }
                }
            };
            (run(), open.epoch)
        };
        // Even a failed write waits for the commit: the transaction it may have begun must
        // not stay open holding SQLite's write lock.
        let flushed = self.wait_durable(epoch);
        let value = value.map_err(|e| CommitError(e.to_string()))?;
        flushed?;
        Ok(value)
    }

    /// Waits until transaction `epoch` is committed, committing it (and every write that
    /// joined it) when no one else is.
    fn wait_durable(&self, epoch: u64) -> Result<(), CommitError> {
        let mut durable = lock(&self.durable)?;
        loop {
            if durable.committed >= epoch {
                return match durable.failed.iter().find(|(e, _)| *e == epoch) {
                    Some((_, why)) => Err(CommitError(why.clone())),
                    None => Ok(()),
                };
            }
            if !durable.committing {
                durable.committing = true;
                drop(durable);
                let (done, outcome) = self.commit_open();
                durable = lock(&self.durable)?;
                durable.committing = false;
                if let Err(why) = outcome {
                    durable.failed.push_back((done, why));
                    if durable.failed.len() > FAILED_KEPT {
                        durable.failed.pop_front();
                    }
                }
                durable.committed = durable.committed.max(done);
                self.flushed.notify_all();
                continue;
            }
            durable = self
                .flushed
                .wait(durable)
                .map_err(|_| CommitError("ledger lock poisoned".into()))?;
        }
    }

    /// Commits the open transaction; returns its number and the outcome.
    fn commit_open(&self) -> (u64, Result<(), String>) {
        let mut open = match lock(&self.open) {
            Ok(o) => o,
            Err(e) => return (0, Err(e.0)),
        };
        let epoch = open.epoch;
        open.epoch += 1;
        if open.conn.is_autocommit() {
            return (epoch, Ok(()));
        }
        match run_cached(&open.conn, "COMMIT") {
            Ok(()) => (epoch, Ok(())),
            Err(e) => {
                let _ = open.conn.execute_batch("ROLLBACK");
                (epoch, Err(format!("commit failed: {e}")))
            }
        }
    }
}

/// Runs a statement without parameters through the connection's statement cache: the
/// transaction-control statements run for every write, and `execute_batch` would parse them
/// anew each time (a profile showed SQL parsing at about 5% of the gateway's CPU).
fn run_cached(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn db(dir: &std::path::Path) -> Arc<GroupCommit> {
        let conn = Connection::open(dir.join("g.sqlite")).unwrap();
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;
             CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT NOT NULL);",
        )
        .unwrap();
        Arc::new(GroupCommit::new(conn))
    }

    #[test]
    fn concurrent_writes_are_all_durable_and_a_failed_one_leaves_the_others() {
        let dir = tempfile::tempdir().unwrap();
        let g = db(dir.path());
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let g = Arc::clone(&g);
                std::thread::spawn(move || {
                    for i in 0..50 {
                        let k = t * 1000 + i;
                        g.write(|c| c.execute("INSERT INTO t VALUES (?1, 'x')", [k]))
                            .unwrap();
                    }
                    // A failing write (duplicate key) undoes only itself.
                    let dup = g.write(|c| {
                        c.execute("INSERT INTO t VALUES (?1, 'y')", [t * 1000 + 10_000])?;
                        c.execute("INSERT INTO t VALUES (?1, 'x')", [t * 1000])
                    });
                    assert!(dup.is_err());
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        drop(g);
        // A fresh connection sees exactly the successful writes: they were committed.
        let c = Connection::open(dir.path().join("g.sqlite")).unwrap();
        let n: i64 = c
            .query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 8 * 50);
        let strays: i64 = c
            .query_row("SELECT COUNT(*) FROM t WHERE v = 'y'", [], |r| r.get(0))
            .unwrap();
        assert_eq!(strays, 0, "the failed write's first statement was undone");
    }
}
