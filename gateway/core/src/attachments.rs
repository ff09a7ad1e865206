//! Files a supplier sends beside a document (the PDF copy of an invoice, which in many
//! countries is the invoice in law), kept until the document is delivered and then attached to
//! it there.
//!
//! The bus carries canonical JSON and an envelope, so a file travels as an [`AttachmentRef`] on
//! the envelope: its name, type, size and SHA-256. The bytes stay in an [`AttachmentStore`], a
//! folder addressed by content, written and synced before the document is published: once a
//! sender was told "accepted", the file is on disk. The same file sent twice is stored once.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Most files kept with one document; the rest are noted and left out.
pub const MAX_FILES_PER_DOCUMENT: usize = 10;

/// A file a decoder found beside a document, with its bytes (before it is stored).
#[derive(Clone, PartialEq, Eq)]
pub struct SupportingFile {
    /// The name the sender gave it (`INV-42.pdf`), as it will appear where it is delivered.
    pub name: String,
    /// `type/subtype`, lower case (`application/pdf`).
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// Longest file name kept, in characters.
pub const MAX_NAME_CHARS: usize = 200;

impl SupportingFile {
    /// A file as a sender named it, with the name made fit to show and to send on: its last
    /// path component (`scans/INV-1.pdf`, `C:\\x\\INV-1.pdf` → `INV-1.pdf`), control characters
    /// dropped, at most [`MAX_NAME_CHARS`]; `file` when nothing is left.
    pub fn received(name: &str, content_type: impl Into<String>, bytes: Vec<u8>) -> Self {
        let last = name.rsplit(['/', '\\']).next().unwrap_or(name);
        let clean: String = last
            .chars()
            .filter(|c| !c.is_control())
            .take(MAX_NAME_CHARS)
            .collect();
        let clean = clean.trim();
        SupportingFile {
            name: if clean.is_empty() {
                "file".into()
            } else {
                clean.to_string()
            },
            content_type: content_type.into(),
            bytes,
        }
    }
}

/// Bytes are left out: a debug print of a document must not dump a PDF.
impl std::fmt::Debug for SupportingFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SupportingFile")
            .field("name", &self.name)
            .field("content_type", &self.content_type)
            .field("bytes", &self.bytes.len())
            .finish()
    }
}

/// A stored file, as the envelope carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentRef {
    pub name: String,
    pub content_type: String,
    /// Lower-case hex SHA-256 of the bytes: where they are in the store, and how a reader
    /// knows it got the same bytes.
    pub sha256: String,
    pub size: u64,
}

/// Why a file could not be stored or read back.
#[derive(Debug, thiserror::Error)]
pub enum AttachmentError {
    /// The disk refused (full, permissions, I/O): retrying later can help.
    #[error("attachment store {dir}: {message}")]
    Io { dir: String, message: String },
    /// The file is not in the store (someone removed it): retrying cannot help.
    #[error(
        "{name} (sha256 {sha256}) is not in the attachment store {dir}; it was removed after the document was accepted"
    )]
    Missing {
        name: String,
        sha256: String,
        dir: String,
    },
    /// The stored bytes no longer match their hash: retrying cannot help.
    #[error("{name} in the attachment store {dir} is damaged: its SHA-256 is no longer {sha256}")]
    Damaged {
        name: String,
        sha256: String,
        dir: String,
    },
}

impl AttachmentError {
    /// Whether trying again later can succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, AttachmentError::Io { .. })
    }
}

/// A folder of files addressed by their SHA-256 (`ab/abcdef….bin`).
#[derive(Debug, Clone)]
pub struct AttachmentStore {
    dir: PathBuf,
}

impl AttachmentStore {
    /// The store in `dir` (created on first write).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        AttachmentStore { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn io(&self, what: &str, e: std::io::Error) -> AttachmentError {
        AttachmentError::Io {
            dir: self.dir.display().to_string(),
            message: format!("{what}: {e}"),
        }
    }

    fn path_of(&self, sha256: &str) -> Option<PathBuf> {
        let ok = sha256.len() == 64 && sha256.bytes().all(|b| b.is_ascii_hexdigit());
        let prefix = sha256.get(..2).filter(|_| ok)?;
        Some(self.dir.join(prefix).join(format!("{sha256}.bin")))
    }

    /// Stores `file` durably (written, synced, renamed into place, folder synced) and returns
    /// its reference. A file already stored is not written again.
    pub fn put(&self, file: &SupportingFile) -> Result<AttachmentRef, AttachmentError> {
        let sha256 = sha256_hex(&file.bytes);
        let r = AttachmentRef {
            name: file.name.clone(),
            content_type: file.content_type.clone(),
            size: file.bytes.len() as u64,
            sha256,
        };
        let path = self.path_of(&r.sha256).ok_or_else(|| AttachmentError::Io {
            dir: self.dir.display().to_string(),
            message: "a hash that is not 64 hex digits".into(),
        })?;
        // Touched before it is checked: retention (`remove_unless_touched_since`) then keeps a
        // file a new document just took, even when an earlier one was done with it long ago.
        if touch(&path) && self.get(&r).is_ok() {
            return Ok(r);
        }
        let folder = path.parent().unwrap_or(&self.dir);
        std::fs::create_dir_all(folder).map_err(|e| self.io("creating the folder", e))?;
        let tmp = folder.join(format!(
            ".{}.{}.tmp",
            r.sha256,
            uuid::Uuid::new_v4().simple()
        ));
        let written = (|| {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(&file.bytes)?;
            f.sync_all()?;
            std::fs::rename(&tmp, &path)?;
            std::fs::File::open(folder)?.sync_all()
        })();
        if let Err(e) = written {
            let _ = std::fs::remove_file(&tmp);
            return Err(self.io(&format!("writing {}", r.name), e));
        }
        Ok(r)
    }

    /// The bytes of a stored file, checked against its hash.
    pub fn get(&self, r: &AttachmentRef) -> Result<Vec<u8>, AttachmentError> {
        let missing = || AttachmentError::Missing {
            name: r.name.clone(),
            sha256: r.sha256.clone(),
            dir: self.dir.display().to_string(),
        };
        let path = self.path_of(&r.sha256).ok_or_else(missing)?;
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(missing()),
            Err(e) => return Err(self.io(&format!("reading {}", r.name), e)),
        };
        if sha256_hex(&bytes) != r.sha256 {
            return Err(AttachmentError::Damaged {
                name: r.name.clone(),
                sha256: r.sha256.clone(),
                dir: self.dir.display().to_string(),
            });
        }
        Ok(bytes)
    }

    /// Whether the store holds a file with this hash (not reading or checking it): what
    /// `gateway documents` says of a file retention may have removed.
    pub fn holds(&self, sha256: &str) -> bool {
        self.path_of(sha256).is_some_and(|p| p.is_file())
    }

    /// Every file in the store, for retention. Folders and names the store did not write are
    /// left out (and so never removed).
    pub fn stored(&self) -> Result<Vec<StoredFile>, AttachmentError> {
        let mut out = Vec::new();
        let top = match std::fs::read_dir(&self.dir) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
            Err(e) => return Err(self.io("listing", e)),
        };
        for folder in top.flatten() {
            let prefix = folder.file_name().to_string_lossy().to_string();
            if prefix.len() != 2 || !prefix.bytes().all(|b| b.is_ascii_hexdigit()) {
                continue;
            }
            let entries = std::fs::read_dir(folder.path())
                .map_err(|e| self.io(&format!("listing {prefix}/"), e))?;
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().to_string();
                let Some(sha256) = name.strip_suffix(".bin") else {
                    continue;
                };
                if self.path_of(sha256) != Some(entry.path()) {
                    continue;
                }
                if let Ok(m) = entry.metadata() {
                    out.push(StoredFile {
                        sha256: sha256.to_string(),
                        size: m.len(),
                        modified: m.modified().unwrap_or(SystemTime::UNIX_EPOCH),
                    });
                }
            }
        }
        out.sort_by(|a, b| a.sha256.cmp(&b.sha256));
        Ok(out)
    }

    /// Removes the stored file `sha256` unless it was stored or taken again (by [`put`]) at or
    /// after `cutoff`; true when removed. Safe beside a running `put`, in this process or
    /// another: the file is first renamed aside, and put back if it turns out to be fresh, so a
    /// `put` that touched it either sees it gone and writes it again, or made it fresh.
    ///
    /// [`put`]: AttachmentStore::put
    pub fn remove_unless_touched_since(
        &self,
        sha256: &str,
        cutoff: SystemTime,
    ) -> Result<bool, AttachmentError> {
        let Some(path) = self.path_of(sha256) else {
            return Ok(false);
        };
        let aside = path.with_file_name(format!(".{sha256}.pruning"));
        match std::fs::rename(&path, &aside) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(self.io(&format!("setting {sha256} aside"), e)),
        }
        let fresh = std::fs::metadata(&aside)
            .and_then(|m| m.modified())
            .is_ok_and(|m| m >= cutoff);
        if fresh {
            // Same bytes whatever a concurrent put wrote meanwhile: the name is their hash.
            std::fs::rename(&aside, &path).map_err(|e| self.io("putting back", e))?;
            return Ok(false);
        }
        std::fs::remove_file(&aside).map_err(|e| self.io(&format!("removing {sha256}"), e))?;
        Ok(true)
    }

    /// Puts back files a crash left set aside by [`remove_unless_touched_since`], and removes
    /// temporary files of writes that never finished, older than `cutoff`. Returns how many
    /// were put back.
    ///
    /// [`remove_unless_touched_since`]: AttachmentStore::remove_unless_touched_since
    pub fn recover(&self, cutoff: SystemTime) -> Result<usize, AttachmentError> {
        let mut restored = 0;
        let Ok(top) = std::fs::read_dir(&self.dir) else {
            return Ok(0);
        };
        for folder in top.flatten() {
            let Ok(entries) = std::fs::read_dir(folder.path()) else {
                continue;
            };
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().to_string();
                if let Some(sha256) = name
                    .strip_prefix('.')
                    .and_then(|n| n.strip_suffix(".pruning"))
                    && let Some(path) = self.path_of(sha256)
                    && path.parent() == Some(&folder.path())
                {
                    if !path.exists() {
                        std::fs::rename(entry.path(), &path)
                            .map_err(|e| self.io("putting back", e))?;
                        restored += 1;
                    } else {
                        std::fs::remove_file(entry.path())
                            .map_err(|e| self.io("removing a copy set aside", e))?;
                    }
                } else if name.starts_with('.')
                    && name.ends_with(".tmp")
                    && entry
                        .metadata()
                        .and_then(|m| m.modified())
                        .is_ok_and(|m| m < cutoff)
                {
                    std::fs::remove_file(entry.path())
                        .map_err(|e| self.io("removing an unfinished write", e))?;
                }
            }
        }
        Ok(restored)
    }
}

/// A file in the store: its hash, size and when it was last stored or taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFile {
    pub sha256: String,
    pub size: u64,
    pub modified: SystemTime,
}

/// Marks `path` as just used; false when it is not there (or cannot be written).
fn touch(path: &Path) -> bool {
    std::fs::File::options()
        .write(true)
        .open(path)
        .and_then(|f| f.set_modified(SystemTime::now()))
        .is_ok()
}

/// Whether `number` appears in `name` as a whole token (not `INV-1` inside `INV-10.pdf`).
fn names_number(name: &str, number: &str) -> bool {
    if number.trim().is_empty() {
        return false;
    }
    let hay = name.to_ascii_lowercase();
    let needle = number.trim().to_ascii_lowercase();
    let edge = |c: Option<char>| c.is_none_or(|c| !c.is_ascii_alphanumeric());
    hay.match_indices(&needle).any(|(at, _)| {
        edge(hay.get(..at).and_then(|s| s.chars().next_back()))
            && edge(hay.get(at + needle.len()..).and_then(|s| s.chars().next()))
    })
}

/// Whether `value`, a value a document carries (Coupa's CSV `Image Scan Filename`, say),
/// names the file `name`: the name itself, a path ending in it, or a `file://` reference.
fn names_file(value: &str, name: &str) -> bool {
    let v = value.trim();
    let v = v.strip_prefix("file://").unwrap_or(v);
    v == name || v.rsplit(['/', '\\']).next() == Some(name)
}

/// Whether a string the document keeps in its extensions (at most a few levels down) names
/// the file `name`.
fn refers_to(doc: &crate::DecodedDocument, name: &str) -> bool {
    fn walk(v: &serde_json::Value, name: &str, depth: usize) -> bool {
        match v {
            serde_json::Value::String(s) => names_file(s, name),
            serde_json::Value::Array(a) if depth > 0 => a.iter().any(|x| walk(x, name, depth - 1)),
            serde_json::Value::Object(o) if depth > 0 => {
                o.values().any(|x| walk(x, name, depth - 1))
            }
            _ => false,
        }
    }
    doc.document.extensions().values().any(|v| walk(v, name, 3))
}

/// Gives each of `files`, sent in one input with `docs`, to the document it belongs to (in
/// its `meta.files`): the one document that names the file (a column such as Coupa's CSV
/// `Image Scan Filename`, kept in its extensions), else the one document whose number its name
/// holds (`INV-42.pdf`, `Invoice INV-42 copy.pdf`), else, when the input carries one document,
/// that one. A file that cannot be placed is not guessed at: every document's notes name it.
/// At most [`MAX_FILES_PER_DOCUMENT`] go with one document; the notes name the rest.
pub fn assign_files(files: Vec<SupportingFile>, docs: &mut [crate::DecodedDocument]) {
    let mut unplaced: Vec<String> = Vec::new();
    for file in files {
        let which = |test: &dyn Fn(&crate::DecodedDocument) -> bool| -> Vec<usize> {
            docs.iter()
                .enumerate()
                .filter(|(_, d)| test(d))
                .map(|(i, _)| i)
                .collect()
        };
        let referring = which(&|d| refers_to(d, &file.name));
        let named = which(&|d| names_number(&file.name, d.document.number()));
        let target = match (referring.as_slice(), named.as_slice(), docs.len()) {
            ([one], _, _) => Some(*one),
            ([], [one], _) => Some(*one),
            ([], [], 1) => Some(0),
            _ => None,
        };
        let Some(doc) = target.and_then(|i| docs.get_mut(i)) else {
            unplaced.push(file.name);
            continue;
        };
        if doc.meta.files.len() >= MAX_FILES_PER_DOCUMENT {
            doc.meta.note(&format!(
                "{} was not attached: a document takes at most {MAX_FILES_PER_DOCUMENT} files",
                file.name
            ));
            continue;
        }
        doc.meta.files.push(file);
    }
    note_missing_files(docs);
    if unplaced.is_empty() || docs.is_empty() {
        return;
    }
    let numbers: Vec<&str> = docs.iter().map(|d| d.document.number()).collect();
    let note = format!(
        "{} not attached to any document: the input carries {} documents ({}) and a file's \
         name must hold the number of exactly one of them; name each invoice's file by its \
         number (INV-42.pdf)",
        unplaced.join(", "),
        docs.len(),
        numbers.join(", ")
    );
    for d in docs.iter_mut() {
        d.meta.note(&note);
    }
}

/// The columns that name a document's own file (Coupa's invoice import layout), as kept in
/// the document's `csv` extensions.
const FILE_REFERENCE_COLUMNS: [&str; 1] = ["Image Scan Filename"];

/// Notes on each document that names a file of its own (`Image Scan Filename`) that did not
/// come with it: it was delivered without its copy and nothing said so.
fn note_missing_files(docs: &mut [crate::DecodedDocument]) {
    for doc in docs.iter_mut() {
        let Some(csv) = doc
            .document
            .extensions()
            .get("csv")
            .and_then(serde_json::Value::as_object)
        else {
            continue;
        };
        let missing: Vec<String> = FILE_REFERENCE_COLUMNS
            .iter()
            .filter_map(|column| csv.get(*column)?.as_str())
            .map(str::trim)
            .filter(|v| !v.is_empty() && !v.starts_with("http://") && !v.starts_with("https://"))
            .filter(|v| !doc.meta.files.iter().any(|f| names_file(v, &f.name)))
            .map(str::to_string)
            .collect();
        for name in missing {
            doc.meta.note(&format!(
                "its Image Scan Filename names {name}, which did not come with it: the invoice goes without that file; attach it to the invoice in Coupa (the same invoice sent again is a duplicate, and its files are not read)"
            ));
        }
    }
}

/// Lower-case hex SHA-256 of `bytes`: how files, bodies and messages are named and compared
/// across the gateway.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let digest = Sha256::digest(bytes);
    let mut s = String::with_capacity(digest.len() * 2);
    for b in digest {
        let _ = write!(s, "{b:02x}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pdf(name: &str, body: &[u8]) -> SupportingFile {
        SupportingFile {
            name: name.into(),
            content_type: "application/pdf".into(),
            bytes: body.to_vec(),
        }
    }

    fn age(path: &Path, seconds: u64) {
        crate::testkit::set_modified(
            path,
            SystemTime::now() - std::time::Duration::from_secs(seconds),
        )
        .expect("set mtime");
    }

    #[test]
    fn retention_removes_only_files_not_taken_since_the_cutoff() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = AttachmentStore::new(dir.path());
        let old = store.put(&pdf("old.pdf", b"%PDF old")).expect("put");
        let again = store.put(&pdf("again.pdf", b"%PDF again")).expect("put");
        let path = |r: &AttachmentRef| store.path_of(&r.sha256).expect("path");
        age(&path(&old), 3600);
        age(&path(&again), 3600);
        // A new document takes the same bytes: the file is fresh again.
        store.put(&pdf("again-2.pdf", b"%PDF again")).expect("put");
        let listed = store.stored().expect("list");
        assert_eq!(listed.len(), 2, "{listed:?}");
        let cutoff = SystemTime::now() - std::time::Duration::from_secs(60);
        assert!(
            listed
                .iter()
                .any(|f| f.sha256 == old.sha256 && f.modified < cutoff)
        );
        assert!(
            listed
                .iter()
                .any(|f| f.sha256 == again.sha256 && f.modified >= cutoff)
        );
        assert!(
            store
                .remove_unless_touched_since(&old.sha256, cutoff)
                .expect("rm")
        );
        assert!(
            !store
                .remove_unless_touched_since(&again.sha256, cutoff)
                .expect("rm")
        );
        assert!(matches!(
            store.get(&old),
            Err(AttachmentError::Missing { .. })
        ));
        assert_eq!(store.get(&again).expect("kept"), b"%PDF again");
        // Removing what is gone is not an error, and says nothing was removed.
        assert!(
            !store
                .remove_unless_touched_since(&old.sha256, cutoff)
                .expect("rm")
        );
        assert_eq!(
            crate::testkit::files_under(dir.path()).len(),
            1,
            "nothing set aside is left behind"
        );
    }

    #[test]
    fn a_file_a_crash_left_set_aside_is_put_back() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = AttachmentStore::new(dir.path());
        let r = store.put(&pdf("INV-1.pdf", b"%PDF kept")).expect("put");
        let path = store.path_of(&r.sha256).expect("path");
        let aside = path.with_file_name(format!(".{}.pruning", r.sha256));
        std::fs::rename(&path, &aside).expect("set aside");
        let stale_tmp = path.with_file_name(format!(".{}.0123.tmp", r.sha256));
        std::fs::write(&stale_tmp, b"half").expect("tmp");
        age(&stale_tmp, 3600);
        let cutoff = SystemTime::now() - std::time::Duration::from_secs(60);
        assert_eq!(store.recover(cutoff).expect("recover"), 1);
        assert_eq!(store.get(&r).expect("back"), b"%PDF kept");
        assert!(
            !stale_tmp.exists(),
            "an unfinished write older than the cutoff is removed"
        );
        assert_eq!(crate::testkit::files_under(dir.path()).len(), 1);
    }

    #[test]
    fn a_stored_file_reads_back_and_the_same_bytes_are_stored_once() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = AttachmentStore::new(dir.path().join("files"));
        let a = store.put(&pdf("INV-1.pdf", b"%PDF-1.7 one")).expect("put");
        assert_eq!(a.size, 12);
        assert_eq!(store.get(&a).expect("get"), b"%PDF-1.7 one");
        // The same bytes under another name: one file on disk, two references.
        let b = store.put(&pdf("copy.pdf", b"%PDF-1.7 one")).expect("put");
        assert_eq!(b.sha256, a.sha256);
        assert_eq!(b.name, "copy.pdf");
        let files: Vec<_> = crate::testkit::files_under(dir.path());
        assert_eq!(files.len(), 1, "{files:?}");
    }

    #[test]
    fn a_received_name_keeps_its_last_part_without_control_characters() {
        let named = |n: &str| SupportingFile::received(n, "application/pdf", Vec::new()).name;
        assert_eq!(named("scans/INV-1.pdf"), "INV-1.pdf");
        assert_eq!(named("C:\\x\\INV-1.pdf"), "INV-1.pdf");
        assert_eq!(named("INV\r\n-1.pdf"), "INV-1.pdf");
        assert_eq!(named("  "), "file");
        assert_eq!(named(&"a".repeat(300)).chars().count(), MAX_NAME_CHARS);
    }

    #[test]
    fn the_hash_is_sha256_of_the_bytes() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = AttachmentStore::new(dir.path());
        // SHA-256 of "abc" (FIPS 180-2, appendix B.1).
        let r = store.put(&pdf("abc.pdf", b"abc")).expect("put");
        assert_eq!(
            r.sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn a_removed_or_damaged_file_is_a_permanent_error_naming_it() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = AttachmentStore::new(dir.path());
        let r = store.put(&pdf("INV-2.pdf", b"%PDF-1.4 two")).expect("put");
        let path = crate::testkit::files_under(dir.path())
            .pop()
            .expect("stored");
        std::fs::write(&path, b"%PDF-1.4 tw0").expect("damage");
        let damaged = store.get(&r).expect_err("damaged");
        assert!(!damaged.is_retryable());
        assert!(damaged.to_string().contains("INV-2.pdf"), "{damaged}");
        std::fs::remove_file(&path).expect("remove");
        let missing = store.get(&r).expect_err("missing");
        assert!(
            matches!(missing, AttachmentError::Missing { .. }),
            "{missing}"
        );
        assert!(!missing.is_retryable());
        // Stored again, it is whole again.
        store.put(&pdf("INV-2.pdf", b"%PDF-1.4 two")).expect("put");
        assert_eq!(store.get(&r).expect("get"), b"%PDF-1.4 two");
    }

    fn doc(number: &str) -> crate::DecodedDocument {
        crate::DecodedDocument {
            document: gateway_model::Document::Invoice(gateway_model::Invoice {
                invoice_number: Some(number.into()),
                ..gateway_model::Invoice::default()
            }),
            meta: crate::SourceMeta::default(),
        }
    }

    #[test]
    fn numbers_match_whole_tokens_only() {
        assert!(names_number("INV-42.pdf", "INV-42"));
        assert!(names_number("Invoice inv-42 copy.pdf", "INV-42"));
        assert!(!names_number("INV-420.pdf", "INV-42"));
        assert!(!names_number("XINV-42.pdf", "INV-42"));
        assert!(names_number("2026_INV-42_final.pdf", "INV-42"));
        assert!(!names_number("anything.pdf", ""));
    }

    #[test]
    fn each_file_goes_with_the_document_its_name_holds() {
        let mut docs = vec![doc("INV-1"), doc("INV-2")];
        assign_files(
            vec![pdf("INV-1.pdf", b"one"), pdf("copy of INV-2.pdf", b"two")],
            &mut docs,
        );
        assert_eq!(docs[0].meta.files.len(), 1);
        assert_eq!(docs[0].meta.files[0].bytes, b"one");
        assert_eq!(docs[1].meta.files[0].bytes, b"two");
        assert_eq!(docs[0].meta.notes().count(), 0);
    }

    #[test]
    fn a_file_goes_with_the_document_that_names_it() {
        let mut a = doc("INV-1");
        a.document.extensions_mut().insert(
            "csv".into(),
            serde_json::json!({"Image Scan Filename": "file://scan-0001.pdf"}),
        );
        let mut b = doc("INV-2");
        b.document.extensions_mut().insert(
            "csv".into(),
            serde_json::json!({"Image Scan Filename": "scans/scan-0002.pdf"}),
        );
        let mut docs = vec![a, b];
        assign_files(
            vec![
                pdf("scan-0002.pdf", b"two"),
                pdf("scan-0001.pdf", b"one"),
                // Named by neither: the number rule still applies.
                pdf("INV-1 terms.pdf", b"terms"),
            ],
            &mut docs,
        );
        let names = |d: &crate::DecodedDocument| -> Vec<String> {
            d.meta.files.iter().map(|f| f.name.clone()).collect()
        };
        assert_eq!(names(&docs[0]), ["scan-0001.pdf", "INV-1 terms.pdf"]);
        assert_eq!(names(&docs[1]), ["scan-0002.pdf"]);
        assert!(names_file("C:\\scans\\x.pdf", "x.pdf"));
        assert!(!names_file("x.pdf.bak", "x.pdf"));
    }

    /// A document naming its own file that the input did not bring is noted: it was
    /// delivered without it, silently.
    #[test]
    fn a_named_file_that_did_not_come_is_noted() {
        let mut a = doc("ZM-1");
        a.document.extensions_mut().insert(
            "csv".into(),
            serde_json::json!({"Image Scan Filename": "ZM-1-scan.pdf"}),
        );
        let mut b = doc("ZM-2");
        b.document.extensions_mut().insert(
            "csv".into(),
            serde_json::json!({"Image Scan Filename": "ZM-2-scan.pdf"}),
        );
        let mut c = doc("ZM-3");
        c.document.extensions_mut().insert(
            "csv".into(),
            serde_json::json!({"Image Scan Filename": "https://files.example/ZM-3.pdf"}),
        );
        let mut docs = vec![a, b, c];
        assign_files(vec![pdf("ZM-1-scan.pdf", b"one")], &mut docs);
        let notes = |d: &crate::DecodedDocument| d.meta.notes().collect::<Vec<_>>().join("|");
        assert_eq!(notes(&docs[0]), "");
        assert!(
            notes(&docs[1]).contains("names ZM-2-scan.pdf, which did not come with it"),
            "{}",
            notes(&docs[1])
        );
        assert_eq!(notes(&docs[2]), "", "a URL is Coupa's to fetch");
    }

    #[test]
    fn with_one_document_every_file_is_its_own() {
        let mut docs = vec![doc("INV-9")];
        assign_files(
            vec![pdf("scan.pdf", b"a"), pdf("terms.pdf", b"b")],
            &mut docs,
        );
        let names: Vec<_> = docs[0].meta.files.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["scan.pdf", "terms.pdf"]);
    }

    #[test]
    fn a_file_that_names_no_single_document_is_noted_not_guessed() {
        let mut docs = vec![doc("INV-1"), doc("INV-2")];
        assign_files(vec![pdf("scan.pdf", b"a")], &mut docs);
        assert!(docs.iter().all(|d| d.meta.files.is_empty()));
        for d in &docs {
            let notes: Vec<_> = d.meta.notes().collect();
            assert_eq!(notes.len(), 1);
            assert!(notes[0].contains("scan.pdf"), "{}", notes[0]);
            assert!(notes[0].contains("INV-1, INV-2"), "{}", notes[0]);
        }
    }

    #[test]
    fn at_most_ten_files_go_with_one_document() {
        let files: Vec<SupportingFile> = (0..12).map(|k| pdf(&format!("p{k}.pdf"), b"x")).collect();
        let mut docs = vec![doc("INV-1")];
        assign_files(files, &mut docs);
        assert_eq!(docs[0].meta.files.len(), MAX_FILES_PER_DOCUMENT);
        assert_eq!(docs[0].meta.notes().count(), 2);
    }

    #[test]
    fn a_reference_that_is_not_a_hash_never_reads_outside_the_store() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = AttachmentStore::new(dir.path().join("store"));
        std::fs::write(dir.path().join("secret.bin"), b"x").expect("write");
        let r = AttachmentRef {
            name: "x".into(),
            content_type: "application/pdf".into(),
            sha256: "../secret".into(),
            size: 1,
        };
        assert!(matches!(
            store.get(&r),
            Err(AttachmentError::Missing { .. })
        ));
    }
}
