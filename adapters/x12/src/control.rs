//! Control numbers for outbound interchanges and groups: increasing per partner and never
//! reused. Behind a trait so the server's ledger (SQLite) can take over; an in-memory default
//! and a counter-file implementation live here.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;

/// Which counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ControlKind {
    /// ISA13 (nine digits).
    Interchange,
    /// GS06.
    Group,
}

impl ControlKind {
    fn as_str(self) -> &'static str {
        match self {
            ControlKind::Interchange => "isa",
            ControlKind::Group => "gs",
        }
    }
}

/// Largest ISA13 (nine digits).
pub const MAX_CONTROL: u64 = 999_999_999;

/// Why a control number could not be issued.
#[derive(Debug, thiserror::Error)]
pub enum ControlNumberError {
    /// The counter file could not be read or written. Retrying may help (disk full, lock).
    #[error("control number file {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    /// The counter file holds something other than a number. Not retryable: fix the file.
    #[error("control number file {path} does not hold a number")]
    Corrupt { path: String },
    /// All nine-digit numbers are used. Not retryable: the partner must agree to a reset.
    #[error("control numbers for partner {partner} are exhausted")]
    Exhausted { partner: String },
}

/// Issues control numbers. Implementations must never return the same number twice for the
/// same partner and kind, also across restarts where they persist.
///
/// `partner` is the partner profile's id (`acme`), whatever the interchange's ISA ids: the
/// service, the 997s it sends and `gateway validate --ack --control-numbers` /
/// `convert --to x12 --control-numbers` all count under it, so a run beside the service
/// continues that partner's numbers only when it names the same profile. That is why
/// `validate --control-numbers` refuses to run without `--partner`: under the anonymous
/// profile's `default` its ack started at 1 and repeated the ISA13/GS06 the service had
/// already sent that sender.
pub trait ControlNumbers: Send + Sync + std::fmt::Debug {
    fn next(&self, partner: &str, kind: ControlKind) -> Result<u64, ControlNumberError>;
}

/// Process-local counters, starting at 1. For tests and single-run conversions.
#[derive(Debug, Default)]
pub struct InMemoryControlNumbers {
    counters: Mutex<HashMap<(String, ControlKind), u64>>,
}

impl InMemoryControlNumbers {
    pub fn new() -> Self {
        Self::default()
    }
}

impl ControlNumbers for InMemoryControlNumbers {
    fn next(&self, partner: &str, kind: ControlKind) -> Result<u64, ControlNumberError> {
        let mut map = self
            .counters
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let n = map.entry((partner.to_string(), kind)).or_insert(0);
        if *n >= MAX_CONTROL {
            return Err(ControlNumberError::Exhausted {
                partner: partner.to_string(),
            });
        }
        *n += 1;
        Ok(*n)
    }
}

/// One small file per partner and kind (`<dir>/<partner>.<isa|gs>`), written to a temporary
/// file and renamed, so a crash never leaves a number that could be issued twice.
#[derive(Debug)]
pub struct FileControlNumbers {
    dir: PathBuf,
    lock: Mutex<()>,
}

impl FileControlNumbers {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        FileControlNumbers {
            dir: dir.into(),
            lock: Mutex::new(()),
        }
    }
}

/// Takes the exclusive lock on `dir`'s lock file (blocking while another process holds it).
fn lock_folder(dir: &std::path::Path) -> Result<std::fs::File, ControlNumberError> {
    let path = dir.join(".lock");
    let io = |source| ControlNumberError::Io {
        path: path.display().to_string(),
        source,
    };
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io)?;
    file.lock().map_err(io)?;
    Ok(file)
}

fn safe_name(partner: &str) -> String {
    partner
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(100)
        .collect()
}

impl ControlNumbers for FileControlNumbers {
    fn next(&self, partner: &str, kind: ControlKind) -> Result<u64, ControlNumberError> {
        let _guard = self
            .lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let path = self
            .dir
            .join(format!("{}.{}", safe_name(partner), kind.as_str()));
        let shown = path.display().to_string();
        let io = |source| ControlNumberError::Io {
            path: shown.clone(),
            source,
        };
        // Another process may count in the same folder (`gateway validate --ack
        // --control-numbers` beside a running service): read, add one and write under an
        // exclusive lock on the folder's lock file, released when `_folder` closes.
        std::fs::create_dir_all(&self.dir).map_err(io)?;
        let _folder = lock_folder(&self.dir)?;
        let current = match std::fs::read_to_string(&path) {
            Ok(s) => s
                .trim()
                .parse::<u64>()
                .map_err(|_| ControlNumberError::Corrupt {
                    path: shown.clone(),
                })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => 0,
            Err(e) => return Err(io(e)),
        };
        if current >= MAX_CONTROL {
            return Err(ControlNumberError::Exhausted {
                partner: partner.to_string(),
            });
        }
        let next = current + 1;
        let tmp = path.with_extension(format!("{}.tmp", kind.as_str()));
        std::fs::write(&tmp, format!("{next}\n")).map_err(io)?;
        std::fs::rename(&tmp, &path).map_err(io)?;
        Ok(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_memory_counts_per_partner_and_kind() {
        let c = InMemoryControlNumbers::new();
        assert_eq!(c.next("a", ControlKind::Interchange).unwrap(), 1);
        assert_eq!(c.next("a", ControlKind::Interchange).unwrap(), 2);
        assert_eq!(c.next("a", ControlKind::Group).unwrap(), 1);
        assert_eq!(c.next("b", ControlKind::Interchange).unwrap(), 1);
    }

    /// Instances that share a folder but not a mutex stand for processes: the folder's lock
    /// file alone must keep their numbers apart.
    #[test]
    fn instances_sharing_a_folder_never_issue_the_same_number() {
        let dir = tempfile::tempdir().unwrap();
        let issued: Vec<u64> = std::thread::scope(|s| {
            let workers: Vec<_> = (0..4)
                .map(|_| {
                    s.spawn(|| {
                        let c = FileControlNumbers::new(dir.path());
                        (0..50)
                            .map(|_| c.next("acme", ControlKind::Interchange).unwrap())
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            workers
                .into_iter()
                .flat_map(|w| w.join().unwrap())
                .collect()
        });
        let mut sorted = issued.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (1..=200).collect::<Vec<u64>>());
    }

    #[test]
    fn file_counter_survives_a_new_instance() {
        let dir = tempfile::tempdir().unwrap();
        let c = FileControlNumbers::new(dir.path());
        assert_eq!(c.next("acme/x", ControlKind::Interchange).unwrap(), 1);
        assert_eq!(c.next("acme/x", ControlKind::Interchange).unwrap(), 2);
        let again = FileControlNumbers::new(dir.path());
        assert_eq!(again.next("acme/x", ControlKind::Interchange).unwrap(), 3);
        std::fs::write(dir.path().join("bad.isa"), "x").unwrap();
        assert!(matches!(
            again.next("bad", ControlKind::Interchange),
            Err(ControlNumberError::Corrupt { .. })
        ));
    }
}
