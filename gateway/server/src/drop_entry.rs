//! What the file drop takes from a landing folder, and under which name: a regular file with
//! one name, opened without following a link and read only from that open handle (a partner
//! swapping a file for a link to something outside its folder between two looks got that file
//! published; a hard link is the outside file under a second name), and a
//! name that fits the names the drop gives it (a 250-byte name was never claimed) and is
//! logged escaped (a name holding a newline forged log lines).

use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// Longest name of a dropped file kept as it is in the names the drop gives it (in
/// `processing/`, `archive/`, `error/`): what is left of the 255 bytes a name may hold goes to
/// the claim's time stamp, a counter, and the hidden names kept beside it
/// (`.<stamp>--<name>.ack-sent`, `.<name>.errors.txt.tmp`).
pub(crate) const MAX_KEPT_NAME: usize = 200;

/// The name a file dropped as `original` is kept under: `original` itself, or when it is
/// longer than [`MAX_KEPT_NAME`] bytes its start, `~`, a short hash of the whole name and its
/// extension (`<start>~<hash>.csv`), so two long names with the same start stay apart. The
/// full name goes into its report, the ledger and the logs.
pub(crate) fn kept_name(original: &str) -> String {
    if original.len() <= MAX_KEPT_NAME {
        return original.to_string();
    }
    let hash: String = crate::pipeline::content_fingerprint(original.as_bytes())
        .chars()
        .take(12)
        .collect();
    let ext = original
        .rsplit_once('.')
        .map(|(_, e)| e)
        .filter(|e| !e.is_empty() && e.len() <= 16 && e.chars().all(|c| c.is_ascii_alphanumeric()))
        .map(|e| format!(".{e}"))
        .unwrap_or_default();
    let mut cut = MAX_KEPT_NAME.saturating_sub(1 + hash.len() + ext.len());
    while cut > 0 && !original.is_char_boundary(cut) {
        cut -= 1;
    }
    let start = original.get(..cut).unwrap_or_default();
    format!("{start}~{hash}{ext}")
}

/// A file name or path as it goes into a log line: control characters (a newline, a carriage
/// return, an ANSI escape) escaped, so a sender's file name cannot forge or colour log lines.
pub(crate) fn logged(name: impl AsRef<std::ffi::OsStr>) -> String {
    name.as_ref().to_string_lossy().escape_debug().to_string()
}

/// What a directory entry that is not a regular file is, for a report.
pub(crate) fn entry_kind(t: std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if t.is_symlink() {
        "a symbolic link"
    } else if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a named pipe (fifo)"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_block_device() || t.is_char_device() {
        "a device"
    } else if t.is_file() {
        "a regular file"
    } else {
        "not a regular file"
    }
}

/// What [`open_regular`] found at a path.
#[derive(Debug)]
pub(crate) enum Opened {
    /// A regular file, open for reading, with its metadata taken from the open handle.
    File(std::fs::File, std::fs::Metadata),
    /// Not a regular file (what it is, for the report); it was not opened, or not read.
    NotRegular(String),
    /// It could not be opened or examined (gone, no permission): retried on a later poll.
    Failed(std::io::Error),
}

/// Opens `path` for reading without ever following a symbolic link: the open refuses a link
/// (`O_NOFOLLOW`), does not wait on a fifo (`O_NONBLOCK`) nor take a terminal (`O_NOCTTY`),
/// and what was opened is checked on the open handle to be a regular file. Everything read
/// from the handle is that file, whatever its name points to by then. A path that is not a
/// regular file when it is looked at first is not opened at all (opening a device may do
/// something).
pub(crate) fn open_regular(path: &Path) -> Opened {
    use rustix::fs::{Mode, OFlags};
    let describe = |path: &Path, e: std::io::Error| match std::fs::symlink_metadata(path) {
        Ok(m) if !m.file_type().is_file() => Opened::NotRegular(not_followed(path, m.file_type())),
        _ => Opened::Failed(e),
    };
    match std::fs::symlink_metadata(path) {
        Ok(m) if !m.file_type().is_file() => {
            return Opened::NotRegular(not_followed(path, m.file_type()));
        }
        Ok(_) => {}
        Err(e) => return Opened::Failed(e),
    }
    let flags =
        OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC;
    let file = match rustix::fs::open(path, flags, Mode::empty()) {
        Ok(fd) => std::fs::File::from(fd),
        Err(e) => return describe(path, e.into()),
    };
    match file.metadata() {
        Ok(m) if m.file_type().is_file() && m.nlink() > 1 => Opened::NotRegular(hard_linked(&m)),
        Ok(m) if m.file_type().is_file() => Opened::File(file, m),
        Ok(m) => Opened::NotRegular(not_followed(path, m.file_type())),
        Err(e) => Opened::Failed(e),
    }
}

/// Why a regular file with more than one name was refused, unread. A hard link into the
/// landing folder is the same file as its other name, which may be outside the partner's
/// folder (someone else's invoice, a system file): whether the link could be made at all
/// was left to the kernel's `protected_hardlinks`, which a host may have turned off. A file a
/// partner uploads has one name; one with several is not taken.
fn hard_linked(m: &std::fs::Metadata) -> String {
    let others = m.nlink().saturating_sub(1);
    let names = if others == 1 { "name" } else { "names" };
    format!(
        "a regular file that also has {others} other {names} (a hard link): the same file may \
         be somewhere outside this folder, so it was not read; nothing was taken. Drop a copy \
         of the file, not a link to it"
    )
}

/// Why an entry that is not a regular file was refused, unread.
pub(crate) fn not_followed(path: &Path, t: std::fs::FileType) -> String {
    let what = entry_kind(t);
    if t.is_symlink() {
        let to = std::fs::read_link(path)
            .map(|to| format!(" to {}", logged(to)))
            .unwrap_or_default();
        format!(
            "not a regular file but {what}{to}: the link was not followed and nothing it points \
             to was read; nothing was taken. Drop the file itself, not a link to it"
        )
    } else {
        format!(
            "not a regular file but {what}: it was not read; nothing was taken. Drop a regular \
             file"
        )
    }
}

/// Reads the open `file` to its end, at most `limit` bytes and one more (a file that grew
/// past what its size said is then seen as changed).
pub(crate) fn read_handle(file: &std::fs::File, size: u64, limit: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut raw = Vec::with_capacity(usize::try_from(size.min(limit)).unwrap_or(0));
    file.take(limit.saturating_add(1)).read_to_end(&mut raw)?;
    Ok(raw)
}

/// Copies the regular file `from` (never a link: [`open_regular`]) to `to`, synced.
pub(crate) fn copy_regular(from: &Path, to: &Path) -> std::io::Result<()> {
    let mut file = match open_regular(from) {
        Opened::File(file, _) => file,
        Opened::NotRegular(why) => return Err(std::io::Error::other(why)),
        Opened::Failed(e) => return Err(e),
    };
    let mut out = std::fs::File::create(to)?;
    std::io::copy(&mut file, &mut out)?;
    out.sync_all()
}

/// True when `path` is still the regular file that was read (`read`, from its open handle):
/// not replaced meanwhile by a link or another file.
pub(crate) fn still_the_file_read(path: &Path, read: &std::fs::Metadata) -> bool {
    std::fs::symlink_metadata(path)
        .is_ok_and(|m| m.file_type().is_file() && m.dev() == read.dev() && m.ino() == read.ino())
}
