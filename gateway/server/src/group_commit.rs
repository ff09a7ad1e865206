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

/// Why a write did not become durable (the message of SQLite's error), and whether the
/// storage refused it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitError {
    pub why: String,
    /// What of the storage refused the write (the disk, the file's permissions, another
    /// process's lock), not the write's own statements: every write fails alike until it
    /// recovers, so the ledger is not fit to take documents. `None` for a statement of its own
    /// that failed (a constraint), which says nothing of the next write.
    pub storage: Option<StorageFault>,
}

impl CommitError {
    fn of(e: &rusqlite::Error) -> Self {
        CommitError {
            why: e.to_string(),
            storage: StorageFault::of(e),
        }
    }

    fn poisoned() -> Self {
        CommitError {
            why: "ledger lock poisoned".into(),
            storage: None,
        }
    }
}

/// How the storage under a SQLite file refused a write, for what to do about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StorageFault {
    /// Opened for reading only: the file or its folder is not writable, or is immutable.
    ReadOnly,
    /// No space left on the disk.
    Full,
    /// Another connection holds the write lock beyond the busy timeout.
    Locked,
    /// The file cannot be opened (its folder gone, no permission).
    Unopenable,
    /// The file is damaged or not a database.
    Corrupt,
    /// The operating system failed a read or write (a failing disk, an immutable WAL file).
    Io,
}

impl StorageFault {
    /// The fault of SQLite's error `e`, if it is one of the storage's.
    pub fn of(e: &rusqlite::Error) -> Option<Self> {
        use rusqlite::ErrorCode as C;
        Some(match e.sqlite_error_code()? {
            C::ReadOnly | C::PermissionDenied => StorageFault::ReadOnly,
            C::DiskFull => StorageFault::Full,
            C::DatabaseBusy | C::DatabaseLocked => StorageFault::Locked,
            C::CannotOpen => StorageFault::Unopenable,
            C::DatabaseCorrupt | C::NotADatabase => StorageFault::Corrupt,
            C::SystemIoFailure | C::FileLockingProtocolFailed | C::OutOfMemory => StorageFault::Io,
            _ => return None,
        })
    }

    /// What an operator does about it, in words.
    pub fn what_to_do(self) -> &'static str {
        match self {
            StorageFault::ReadOnly => {
                "the file, or its folder (where SQLite keeps the -wal and -shm files beside it), is not writable by the user running the gateway, or is immutable (lsattr): make both writable by that user, or point [ledger] path at a writable place"
            }
            StorageFault::Full => "the disk holding it is full: free space there",
            StorageFault::Locked => {
                "another process holds the ledger's write lock (a sqlite3 shell, a stuck gateway command): end it"
            }
            StorageFault::Unopenable => {
                "the file cannot be opened: check that its folder exists and that the user running the gateway may read and write both"
            }
            StorageFault::Corrupt => {
                "the file is damaged or not a ledger: stop the gateway and restore it from a backup (sqlite3 .recover can save what it holds)"
            }
            StorageFault::Io => {
                "the operating system failed to read or write it: check the disk (dmesg) and the files' attributes (lsattr: an immutable ledger.sqlite or ledger.sqlite-wal)"
            }
        }
    }
}

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
    failed: VecDeque<(u64, CommitError)>,
}

const FAILED_KEPT: usize = 64;

/// One SQLite connection with group commit.
#[derive(Debug)]
pub struct GroupCommit {
    open: Mutex<Open>,
    durable: Mutex<Durable>,
    flushed: Condvar,
    /// The last write the storage refused, until a write succeeds: every document's claim
    /// fails meanwhile, which readiness reports ([`GroupCommit::failing`]).
    failing: Mutex<Option<CommitError>>,
}

fn lock<T>(m: &Mutex<T>) -> Result<MutexGuard<'_, T>, CommitError> {
    m.lock().map_err(|_| CommitError::poisoned())
}

impl GroupCommit {
    pub fn new(conn: Connection) -> Self {
        // Room for every statement the ledger runs, so none is parsed twice.
        conn.set_prepared_statement_cache_capacity(64);
        GroupCommit {
            open: Mutex::new(Open { conn, epoch: 1 }),
            durable: Mutex::new(Durable::default()),
            flushed: Condvar::new(),
            failing: Mutex::new(None),
        }
    }

    /// Why the last write failed, when the storage refused it and no write succeeded since.
    pub fn failing(&self) -> Option<CommitError> {
        lock(&self.failing).ok().and_then(|f| f.clone())
    }

    /// Remembers how the last write ended, for [`GroupCommit::failing`]: a success clears a
    /// failure, a refusal by the storage sets it, a statement's own failure leaves it.
    fn note_outcome(&self, outcome: Result<(), &CommitError>) {
        let Ok(mut failing) = lock(&self.failing) else {
            return;
        };
        match outcome {
            Ok(()) => *failing = None,
            Err(e) if e.storage.is_some() => *failing = Some(e.clone()),
            Err(_) => {}
        }
    }

    /// Runs a read. It sees every write made so far, flushed or not (one connection).
    pub fn read<T>(
        &self,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> Result<T, CommitError> {
        let open = lock(&self.open)?;
        f(&open.conn).map_err(|e| CommitError::of(&e))
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
                    // IMMEDIATE: the write lock is taken here, waiting out the busy timeout
                    // for another connection's (a `gateway dlq replay` beside the service). A
                    // deferred BEGIN took it at the first write, after the writer had read, and
                    // SQLite refuses that upgrade at once, without waiting, when another
                    // connection committed in between: senders were told 503.
                    run_cached(&open.conn, "BEGIN IMMEDIATE")?;
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
        let outcome = match (value, flushed) {
            (Err(e), _) => Err(CommitError::of(&e)),
            (Ok(_), Err(e)) => Err(e),
            (Ok(v), Ok(())) => Ok(v),
        };
        self.note_outcome(outcome.as_ref().map(|_| ()));
        outcome
    }

    /// Waits until transaction `epoch` is committed, committing it (and every write that
    /// joined it) when no one else is.
    fn wait_durable(&self, epoch: u64) -> Result<(), CommitError> {
        let mut durable = lock(&self.durable)?;
        loop {
            if durable.committed >= epoch {
                return match durable.failed.iter().find(|(e, _)| *e == epoch) {
                    Some((_, why)) => Err(why.clone()),
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
                .map_err(|_| CommitError::poisoned())?;
        }
    }

    /// Commits the open transaction; returns its number and the outcome. A failed commit is
    /// the storage's (the transaction's statements all ran): one SQLite does not name is `Io`.
    fn commit_open(&self) -> (u64, Result<(), CommitError>) {
        let mut open = match lock(&self.open) {
            Ok(o) => o,
            Err(e) => return (0, Err(e)),
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
                let failed = CommitError {
                    why: format!("commit failed: {e}"),
                    storage: Some(StorageFault::of(&e).unwrap_or(StorageFault::Io)),
                };
                (epoch, Err(failed))
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

    /// The ledger refused every document while nothing but its log said so: a write the
    /// storage refuses (here another connection's write lock) is remembered until a write
    /// succeeds; a write's own failure (a duplicate key) is not the storage's.
    #[test]
    fn a_write_the_storage_refuses_is_remembered_until_one_succeeds() {
        let dir = tempfile::tempdir().unwrap();
        let g = db(dir.path());
        g.write(|c| c.execute("INSERT INTO t VALUES (1, 'x')", []))
            .unwrap();
        assert_eq!(g.failing(), None);
        assert!(
            g.write(|c| c.execute("INSERT INTO t VALUES (1, 'x')", []))
                .is_err()
        );
        assert_eq!(
            g.failing(),
            None,
            "a duplicate key is the write's own fault"
        );

        // Refused at once rather than after the busy timeout.
        g.read(|c| c.busy_timeout(std::time::Duration::ZERO))
            .unwrap();
        let other = Connection::open(dir.path().join("g.sqlite")).unwrap();
        other.execute_batch("BEGIN IMMEDIATE").unwrap();
        let refused = g
            .write(|c| c.execute("INSERT INTO t VALUES (2, 'x')", []))
            .unwrap_err();
        assert_eq!(refused.storage, Some(StorageFault::Locked), "{refused:?}");
        assert_eq!(g.failing(), Some(refused));

        other.execute_batch("ROLLBACK").unwrap();
        g.write(|c| c.execute("INSERT INTO t VALUES (2, 'x')", []))
            .unwrap();
        assert_eq!(g.failing(), None, "a write succeeded since");
    }

    /// A writer that reads before it writes keeps the write lock from its first statement: a
    /// second connection committing between that read and the write used to make SQLite
    /// refuse the write at once ("database is locked", whatever the busy timeout), and the
    /// demo's REST sender got 503 while a second ledger connection marked a PO exported.
    #[test]
    fn a_writer_that_reads_first_is_not_refused_for_a_commit_made_after_its_read() {
        let dir = tempfile::tempdir().unwrap();
        let g = db(dir.path());
        let other = Connection::open(dir.path().join("g.sqlite")).unwrap();
        other.busy_timeout(std::time::Duration::ZERO).unwrap();
        let written = g.write(|c| {
            let before: i64 = c.query_row("SELECT count(*) FROM t", [], |r| r.get(0))?;
            // The other connection's write waits for this transaction, or is refused: it
            // does not slip in between the read and the write.
            let slipped_in = other
                .execute("INSERT INTO t VALUES (100, 'other')", [])
                .is_ok();
            c.execute("INSERT INTO t VALUES (1, 'mine')", [])?;
            Ok((before, slipped_in))
        });
        let (before, slipped_in) =
            written.unwrap_or_else(|e| panic!("the write was refused: {e:?}"));
        assert_eq!(before, 0);
        assert!(
            !slipped_in,
            "another connection committed inside the writer's transaction"
        );
        let mine: String = g
            .read(|c| c.query_row("SELECT v FROM t WHERE k = 1", [], |r| r.get(0)))
            .unwrap();
        assert_eq!(mine, "mine");
    }
}
