//! One `gateway serve` per ledger. Two services on one ledger would each take the other's
//! unconfirmed claims for abandoned ones ([`crate::ledger::Ledger::interrupt_unconfirmed`])
//! and hand out X12 control numbers from the same counters; the second is refused at start
//! with what to do instead.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// Held for as long as the service runs; dropping it (or the process dying, `kill -9`
/// included) frees the ledger for the next `gateway serve`.
#[derive(Debug)]
pub struct ServeLock {
    _file: File,
    path: PathBuf,
}

/// Why the ledger could not be taken: another service holds it (retrying helps once that one
/// stops), or the lock file could not be used (a permission or disk problem to fix).
#[derive(Debug, thiserror::Error)]
pub enum ServeLockError {
    #[error(
        "another `gateway serve` ({holder}) is using the ledger beside {path}: stop it first, or give this one its own [ledger] path"
    )]
    Held { path: PathBuf, holder: String },
    /// (The I/O error is in the message, not a `source`, so a `{:#}` chain does not print
    /// it twice.)
    #[error("cannot use the lock file {path}: {cause}")]
    Io {
        path: PathBuf,
        cause: std::io::Error,
    },
}

impl ServeLock {
    /// Takes the lock beside `ledger` (`<ledger>.serve-lock`) without waiting, and writes this
    /// process id in it so the refusal names the holder.
    pub fn take(ledger: &Path) -> Result<ServeLock, ServeLockError> {
        let mut name = ledger.as_os_str().to_owned();
        name.push(".serve-lock");
        let path = PathBuf::from(name);
        let io = |cause| ServeLockError::Io {
            path: path.clone(),
            cause,
        };
        if let Some(dir) = path.parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let holder = match holder.trim() {
                    "" => "process unknown".to_string(),
                    pid => format!("process {pid}"),
                };
                return Err(ServeLockError::Held { path, holder });
            }
            Err(TryLockError::Error(e)) => return Err(io(e)),
        }
        file.set_len(0).map_err(io)?;
        file.seek(SeekFrom::Start(0)).map_err(io)?;
        write!(file, "{}", std::process::id()).map_err(io)?;
        Ok(ServeLock { _file: file, path })
    }

    /// The lock file, for messages.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_service_on_the_same_ledger_is_refused_until_the_first_stops() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let ledger = dir.path().join("state").join("ledger.sqlite");
        let first = ServeLock::take(&ledger).unwrap_or_else(|e| panic!("{e}"));
        assert!(first.path().ends_with("ledger.sqlite.serve-lock"));
        let err = ServeLock::take(&ledger).err().map(|e| e.to_string());
        let err = err.unwrap_or_else(|| panic!("a second lock on the same ledger was granted"));
        assert!(
            err.contains(&format!("process {}", std::process::id()))
                && err.contains("give this one its own [ledger] path"),
            "{err}"
        );
        // Another ledger is free.
        ServeLock::take(&dir.path().join("other.sqlite")).unwrap_or_else(|e| panic!("{e}"));
        drop(first);
        ServeLock::take(&ledger).unwrap_or_else(|e| panic!("the lock was not freed: {e}"));
    }
}
