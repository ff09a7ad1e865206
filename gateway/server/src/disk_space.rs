//! Readiness and intake on free disk space. A full disk makes every ledger claim fail, so every
//! sender got 503 while `/readyz` still said ready and a load balancer kept sending them here.
//! The service is not ready once a folder it must write (the ledger, stored attachments, the
//! embedded bus) has less than `[ledger] min_free_mb` free, and says which and what to do; and
//! the pipeline refuses documents meanwhile (503, send again: `Pipeline::with_disk_space`), so
//! what is left of the disk stays for the ledger to record the fate of what it already took.

use std::path::{Path, PathBuf};

use futures::future::BoxFuture;

use crate::pipeline::ReadinessCheck;

/// Free space under the folders the service writes, as one readiness check.
#[derive(Debug, Clone)]
pub struct DiskSpace {
    /// What each folder holds (for the message) and the folder.
    folders: Vec<(&'static str, PathBuf)>,
    min_free_bytes: u64,
    /// The setting that sets the minimum, named in the message.
    setting: &'static str,
}

impl DiskSpace {
    pub fn new(min_free_bytes: u64, setting: &'static str) -> Self {
        DiskSpace {
            folders: Vec::new(),
            min_free_bytes,
            setting,
        }
    }

    /// Adds a folder (or the folder of a file) to watch.
    pub fn watching(mut self, what: &'static str, path: &Path) -> Self {
        self.folders.push((what, path.to_path_buf()));
        self
    }

    /// The first folder short of space, in words; `Ok` when every one has enough (a folder
    /// that cannot be measured is not held against the service: its own writes will say why).
    pub fn verdict(&self) -> Result<(), String> {
        for (what, path) in &self.folders {
            let Some(free) = free_bytes(path) else {
                continue;
            };
            if free < self.min_free_bytes {
                return Err(format!(
                    "the disk holding the {what} ({}) has {} free, below {} = {}: free space there (documents are refused meanwhile, and senders told to send again)",
                    path.display(),
                    mib(free),
                    self.setting,
                    self.min_free_bytes / MIB
                ));
            }
        }
        Ok(())
    }
}

const MIB: u64 = 1024 * 1024;

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / MIB as f64)
}

/// Bytes an unprivileged writer may still use on the file system holding `path` (or its
/// nearest existing ancestor: a folder not made yet will be made there).
fn free_bytes(path: &Path) -> Option<u64> {
    let existing = path
        .ancestors()
        .find(|p| !p.as_os_str().is_empty() && p.exists());
    let target = existing.unwrap_or(Path::new("."));
    let st = rustix::fs::statvfs(target).ok()?;
    Some(st.f_bavail.saturating_mul(st.f_frsize))
}

impl ReadinessCheck for DiskSpace {
    fn name(&self) -> &str {
        "disk"
    }

    fn check(&self) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(async move { self.verdict() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_short_of_the_minimum_is_named_with_what_to_do() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let ledger = dir.path().join("var").join("ledger.sqlite");
        let free = free_bytes(&ledger).unwrap_or_else(|| panic!("cannot measure {dir:?}"));
        assert!(free > 0);
        // Enough: a minimum of one byte.
        let ok = DiskSpace::new(1, "[ledger] min_free_mb").watching("ledger", &ledger);
        assert_eq!(ok.verdict(), Ok(()));
        // Not enough: a minimum beyond what the disk has.
        let short = DiskSpace::new(free.saturating_mul(2).max(MIB), "[ledger] min_free_mb")
            .watching("attachments", dir.path())
            .watching("ledger", &ledger);
        let err = short.verdict().err().unwrap_or_default();
        assert!(
            err.contains("the disk holding the attachments")
                && err.contains("below [ledger] min_free_mb")
                && err.contains("free space there"),
            "{err}"
        );
    }
}
