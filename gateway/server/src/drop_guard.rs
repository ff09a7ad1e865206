//! What keeps one dropped file from stopping the file drop.
//!
//! The drop handles its files one after another on one task. A panic while handling one (QA:
//! canonical JSON whose line amounts added up past what a decimal holds panicked in
//! validation) ended that task, and with it every partner's drop, while `/readyz` still said
//! ready; the file stayed in `processing/`, out of `gateway documents`, and after a restart it
//! was resumed first and stopped the drop again. So:
//!
//! - the handling of each file runs under `catch_unwind` (`FileDrop::poll`): a panic is
//!   caught, the file goes to `error/` with a report naming the failure, the ledger keeps it as
//!   a refused file, and the poll goes on to the next file and partner;
//! - while a file is handled, a marker beside it in `processing/` ([`Handling`],
//!   `.<name>.handling`, hidden from the poll) counts the handlings begun and never ended: the
//!   process died in them (an abort, a stack overflow, a kill, which no catch survives). A file
//!   whose handling began [`UNFINISHED_LIMIT`] times so is not begun again: it goes to
//!   `error/` saying so, instead of stopping the service at every start.

use std::any::Any;
use std::path::{Path, PathBuf};

use crate::drop_entry::logged;

/// The suffix of a file's marker in `processing/`: `.<name>.handling`.
pub(crate) const HANDLING: &str = ".handling";

/// Handlings of one file begun and never ended (the process died in each) after which it is
/// not begun again. One is a restart that came mid-file (a deploy, a host reboot) and is
/// retried; two in a row is the file.
pub(crate) const UNFINISHED_LIMIT: u32 = 2;

/// A file being handled: its marker in `processing/`, removed when the handling ends however
/// it ends (returned, failed, panicked, cancelled), so only a death of the process leaves it.
#[derive(Debug)]
pub(crate) struct Handling {
    marker: PathBuf,
}

impl Handling {
    /// How many handlings of the file at `path` began and never ended.
    pub(crate) fn unfinished(path: &Path) -> u32 {
        std::fs::read_to_string(marker_of(path))
            .ok()
            .and_then(|t| t.trim().parse::<u32>().ok())
            .unwrap_or(0)
    }

    /// Marks the start of one more handling of the file at `path`, of which `unfinished`
    /// ([`Handling::unfinished`]) began before and never ended. Without a mark (`processing/`
    /// not writable, logged) the file is handled all the same: only a crash loop on it would
    /// then go uncounted.
    pub(crate) fn begin(path: &Path, unfinished: u32) -> Option<Handling> {
        let marker = marker_of(path);
        match std::fs::write(&marker, unfinished.saturating_add(1).to_string()) {
            Ok(()) => Some(Handling { marker }),
            Err(e) => {
                tracing::warn!(adapter = "file-drop", file = %logged(path), error = %e,
                    "cannot mark the file as being handled in processing/; should handling it \
                     kill the service, it is tried again at every start; make processing/ \
                     writable");
                None
            }
        }
    }
}

impl Drop for Handling {
    fn drop(&mut self) {
        match std::fs::remove_file(&self.marker) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => tracing::warn!(adapter = "file-drop", file = %logged(&self.marker),
                error = %e, "cannot remove the mark of a file handled; if the file is still in \
                processing/, its next handling counts this one as unfinished"),
        }
    }
}

/// The marker of the file at `path`.
fn marker_of(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}{HANDLING}"))
}

/// What a caught panic said, for the file's report and the log.
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_string())
}

/// Why a file that panicked is in `error/`: for its report and its ledger row.
pub(crate) fn panicked_why(message: &str) -> String {
    format!(
        "handling this file failed inside the gateway (a defect: {message}); it is not tried \
         again. Documents of it taken before the failure are listed by `gateway documents \
         --from` this file; report the defect with this file, and drop the file again once it \
         is fixed"
    )
}

/// Why a file whose handling never ended is in `error/`.
pub(crate) fn unfinished_why(times: u32) -> String {
    format!(
        "handling this file began {times} times and never ended: the gateway stopped while \
         handling it each time (a crash: see its log at those times); it is not tried again. \
         Documents of it taken before are listed by `gateway documents --from` this file; drop \
         the file again once the cause is fixed"
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_handling_that_ends_leaves_no_mark_and_one_the_process_died_in_is_counted() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("20260101T000000.000000--inv.json");
        std::fs::write(&file, b"{}").unwrap();
        assert_eq!(Handling::unfinished(&file), 0);
        let h = Handling::begin(&file, 0);
        assert!(marker_of(&file).exists());
        drop(h);
        assert!(!marker_of(&file).exists());
        // Died twice mid-handling: the marks stay and count.
        std::mem::forget(Handling::begin(&file, Handling::unfinished(&file)));
        std::mem::forget(Handling::begin(&file, Handling::unfinished(&file)));
        assert_eq!(Handling::unfinished(&file), 2);
    }

    #[test]
    fn a_panics_message_is_read_whichever_type_it_has() {
        let caught = std::panic::catch_unwind(|| std::panic::panic_any("static text")).unwrap_err();
        assert_eq!(panic_message(caught.as_ref()), "static text");
        let caught =
            std::panic::catch_unwind(|| std::panic::panic_any(format!("made {}", 1))).unwrap_err();
        assert_eq!(panic_message(caught.as_ref()), "made 1");
        let caught = std::panic::catch_unwind(|| std::panic::panic_any(7_u8)).unwrap_err();
        assert_eq!(panic_message(caught.as_ref()), "a panic without a message");
    }
}
