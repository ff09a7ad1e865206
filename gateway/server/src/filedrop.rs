//! SFTP landing folders: `<root>/<partner>/Incoming/...` is read, acknowledgments and outbound
//! documents are written to `<root>/<partner>/Outgoing/`.
//!
//! A file's life: seen in `Incoming` → picked once its size held still between two polls and
//! it is at least `min_age` old (partial uploads and `.tmp`/`.part` names are never read) →
//! claimed by an atomic rename into `<partner>/processing/` → decoded and published → moved to
//! `<partner>/archive/<date>/` (all good) or `<partner>/error/` with `<name>.errors.txt`
//! beside it (some rejects; the good documents still went through). A crash at any point
//! leaves the file in `Incoming` or `processing/`; on restart `processing/` is resumed first,
//! and the ledger's idempotency keys keep documents already published from going out twice.
//!
//! An X12 file is taken only from the folder of the partner its interchanges' ISA senders name
//! ([`crate::x12_senders`], the rule `POST /x12` applies); another partner's or nobody's goes
//! to `error/` with the sender found and the one expected, unpublished and unacknowledged.
//!
//! A file's acknowledgment (997/999/TA1) is written to `Outgoing` before the file is finished
//! (archived or moved to `error/`), and exactly once however often the file is retried: it is
//! made once and kept beside the file in `processing/` (`.<name>.ack`, hidden from the poll)
//! until it is written, then marked sent (`.<name>.ack-sent`) until the file is finished. A
//! file whose acknowledgment cannot be written stays in `processing/` and the same bytes (the
//! same ISA13) are written on a later poll; a file that cannot be archived is retried without
//! a second acknowledgment. Only a crash between writing the acknowledgment and marking it
//! sent writes it twice, with the same control numbers.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use gateway_core::metrics::{self, Counter};
use gateway_core::{Format, IngestRequest, PartnerProfile, detect_format};

use crate::config::FileDropConfig;
use crate::pipeline::Pipeline;

/// Produces the acknowledgment to write back for an input (X12 997/999/TA1), if any.
pub type Acknowledger = Arc<dyn Fn(&[u8], &PartnerProfile) -> Option<Vec<u8>> + Send + Sync>;

/// What one poll did, for logs and tests.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PollSummary {
    pub archived: Vec<PathBuf>,
    pub errored: Vec<PathBuf>,
    /// Left for a later poll because the bus or ledger was unavailable.
    pub deferred: Vec<PathBuf>,
    pub documents: usize,
    pub duplicates: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Seen {
    size: u64,
    modified: SystemTime,
}

/// The folder watcher for every partner.
pub struct FileDrop {
    config: FileDropConfig,
    pipeline: Arc<Pipeline>,
    acknowledgers: HashMap<Format, Acknowledger>,
    seen: HashMap<PathBuf, Seen>,
}

impl std::fmt::Debug for FileDrop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileDrop")
            .field("root", &self.config.root)
            .finish()
    }
}

const IGNORED_SUFFIXES: [&str; 6] = [
    ".tmp",
    ".part",
    ".partial",
    ".filepart",
    ".crdownload",
    ".swp",
];

fn ignored(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.starts_with('.') || IGNORED_SUFFIXES.iter().any(|s| lower.ends_with(s))
}

impl FileDrop {
    pub fn new(config: FileDropConfig, pipeline: Arc<Pipeline>) -> Self {
        FileDrop {
            config,
            pipeline,
            acknowledgers: HashMap::new(),
            seen: HashMap::new(),
        }
    }

    /// Writes the acknowledgment `ack` produces for inputs of `format` to `Outgoing`.
    pub fn with_acknowledger(mut self, format: Format, ack: Acknowledger) -> Self {
        self.acknowledgers.insert(format, ack);
        self
    }

    /// The folders of one partner.
    pub fn incoming(&self, partner: &str) -> PathBuf {
        self.config.root.join(partner).join("Incoming")
    }
    pub fn outgoing(&self, partner: &str) -> PathBuf {
        self.config.root.join(partner).join("Outgoing")
    }
    fn processing(&self, partner: &str) -> PathBuf {
        self.config.root.join(partner).join("processing")
    }

    /// Creates every partner's folders.
    pub fn prepare(&self) -> std::io::Result<()> {
        for p in self.pipeline.partners().all() {
            for d in [
                self.incoming(&p.id),
                self.outgoing(&p.id),
                self.processing(&p.id),
            ] {
                std::fs::create_dir_all(d)?;
            }
        }
        Ok(())
    }

    /// Polls until `shutdown` resolves.
    pub async fn run(mut self, shutdown: impl std::future::Future<Output = ()>) {
        if let Err(e) = self.prepare() {
            tracing::error!(adapter = "file-drop", error = %e, "cannot create landing folders");
        }
        tokio::pin!(shutdown);
        let every = Duration::from_millis(self.config.poll_interval_ms.max(10));
        loop {
            let summary = self.poll().await;
            if summary.documents + summary.errored.len() + summary.deferred.len() > 0 {
                tracing::info!(
                    adapter = "file-drop",
                    archived = summary.archived.len(),
                    errored = summary.errored.len(),
                    deferred = summary.deferred.len(),
                    documents = summary.documents,
                    duplicates = summary.duplicates,
                    "file drop poll"
                );
            }
            tokio::select! {
                _ = &mut shutdown => break,
                _ = tokio::time::sleep(every) => {}
            }
        }
    }

    /// One pass: resume `processing/`, then pick the stable files in every `Incoming`.
    pub async fn poll(&mut self) -> PollSummary {
        let mut summary = PollSummary::default();
        let partners: Vec<PartnerProfile> = self.pipeline.partners().all().to_vec();
        let mut listed = std::collections::HashSet::new();
        for partner in &partners {
            for path in list_files(&self.processing(&partner.id)) {
                self.process(partner, &path, &mut summary).await;
            }
            AckState::forget_orphans(&self.processing(&partner.id));
            let mut stable = Vec::new();
            for path in list_files(&self.incoming(&partner.id)) {
                listed.insert(path.clone());
                if self.is_stable(&path) {
                    stable.push(path);
                }
            }
            for path in stable {
                self.seen.remove(&path);
                match self.claim(&partner.id, &path) {
                    Ok(claimed) => self.process(partner, &claimed, &mut summary).await,
                    Err(e) => tracing::warn!(
                        adapter = "file-drop", partner = %partner.id, file = %path.display(),
                        error = %e, "cannot claim file; will retry"
                    ),
                }
            }
        }
        // A file that left `Incoming` before it was picked (renamed by the sender's client,
        // deleted, a partner removed from the configuration) is forgotten, so a drop that
        // runs for months does not keep every such name.
        self.seen.retain(|path, _| listed.contains(path));
        summary
    }

    /// Files in `Incoming` being watched until their size holds still.
    pub fn watched(&self) -> usize {
        self.seen.len()
    }

    /// True when the file's size and time held still since the last poll and it is old enough.
    fn is_stable(&mut self, path: &Path) -> bool {
        let Ok(meta) = std::fs::metadata(path) else {
            return false;
        };
        let now = Seen {
            size: meta.len(),
            modified: meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
        };
        let before = self.seen.insert(path.to_path_buf(), now);
        let old_enough = SystemTime::now()
            .duration_since(now.modified)
            .map(|age| age >= Duration::from_millis(self.config.min_age_ms))
            .unwrap_or(false);
        before == Some(now) && old_enough
    }

    /// Moves the file into `processing/` with a unique name (the rename is atomic).
    fn claim(&self, partner: &str, path: &Path) -> std::io::Result<PathBuf> {
        let dir = self.processing(partner);
        std::fs::create_dir_all(&dir)?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_else(|| "file".into());
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%.6f");
        let target = dir.join(format!("{stamp}--{name}"));
        std::fs::rename(path, &target)?;
        Ok(target)
    }

    async fn process(&self, partner: &PartnerProfile, path: &Path, summary: &mut PollSummary) {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        let original = name
            .split_once("--")
            .map(|(_, n)| n.to_string())
            .unwrap_or(name.clone());
        let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        if size > self.config.max_file_bytes {
            let msg = format!(
                "file is {size} bytes; the limit is {} (file_drop.max_file_bytes)",
                self.config.max_file_bytes
            );
            self.finish_error(partner, path, &original, &[msg], summary);
            return;
        }
        let raw = match std::fs::read(path) {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(adapter = "file-drop", file = %path.display(), error = %e, "cannot read; will retry");
                summary.deferred.push(path.to_path_buf());
                return;
            }
        };
        // A zip: the invoice file and the PDFs that go with it (Coupa's flat-file way).
        let (raw, files, source) = if crate::zipdrop::is_zip(&raw) {
            let limits = crate::zipdrop::ZipLimits::for_files_of(self.config.max_file_bytes);
            match crate::zipdrop::read_zip(&raw, limits) {
                Ok(z) => {
                    let source = format!("file {original}, entry {}", z.document_name);
                    (z.document, z.files, source)
                }
                Err(msg) => {
                    self.finish_error(partner, path, &original, &[msg], summary);
                    return;
                }
            }
        } else {
            (raw, Vec::new(), format!("file {original}"))
        };
        let format = detect_format(&raw);
        // Only the folder owner's interchanges: another partner's would be published and
        // acknowledged as the owner's (and that partner's own copy then swallowed as a
        // duplicate), nobody's would be taken from a sender `POST /x12` refuses.
        if format == Format::X12
            && let Some(why) =
                crate::x12_senders::not_from_owner(partner, self.pipeline.partners(), &raw)
        {
            tracing::warn!(adapter = "file-drop", partner = %partner.id, file = %original,
                interchange = %crate::x12_senders::interchange_names(&raw), reason = %why,
                "X12 file from a sender that is not the folder's partner refused; moved to error/");
            gateway_http::count_refused("file-drop");
            self.finish_error(partner, path, &original, &[why], summary);
            return;
        }
        let report = self
            .pipeline
            .ingest(IngestRequest {
                raw: &raw,
                adapter: "file-drop",
                format: Some(format),
                partner: Some(partner),
                source: Some(&source),
                files: &files,
                notes: &[],
            })
            .await;
        let report = match report {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(adapter = "file-drop", partner = %partner.id, file = %original, error = %e,
                    "not published; the file stays in processing/ and is retried");
                summary.deferred.push(path.to_path_buf());
                return;
            }
        };
        summary.documents += report.accepted.len();
        summary.duplicates += report.duplicates.len();
        for a in &report.accepted {
            tracing::info!(adapter = "file-drop", partner = %partner.id, doc_id = %a.doc_id,
                kind = %a.kind, number = %a.number, file = %original, "published");
        }
        // The sender is owed its acknowledgment before the file is finished.
        if !self.acknowledge(partner, path, &original, format, &raw) {
            summary.deferred.push(path.to_path_buf());
            return;
        }
        if report.rejects.is_empty() {
            let day = chrono::Utc::now().format("%Y-%m-%d").to_string();
            let dir = self.config.root.join(&partner.id).join("archive").join(day);
            match move_into(path, &dir, &original) {
                Ok(p) => {
                    AckState::beside(path).forget();
                    summary.archived.push(p);
                }
                Err(e) => {
                    let interchange = if format == Format::X12 {
                        crate::x12_senders::interchange_names(&raw)
                    } else {
                        String::new()
                    };
                    tracing::warn!(adapter = "file-drop", partner = %partner.id, file = %original,
                        %interchange, folder = %dir.display(), error = %e,
                        "cannot archive; the file stays in processing/ and is retried (its \
                         documents and acknowledgment are not sent again); make the archive \
                         folder writable");
                    summary.deferred.push(path.to_path_buf());
                }
            }
        } else {
            let lines: Vec<String> = report
                .rejects
                .iter()
                .map(|r| match &r.document {
                    Some(d) => format!("{} [{d}]: {}", r.location, r.message),
                    None => format!("{}: {}", r.location, r.message),
                })
                .collect();
            self.finish_error(partner, path, &original, &lines, summary);
        }
    }

    /// Writes the acknowledgment of the file at `path` (in `processing/`) to the partner's
    /// `Outgoing`, once: made on the first pass and kept beside the file until written, then
    /// marked sent, so a retried file is never acknowledged twice and a retry after a failed
    /// write sends the same interchange (same ISA13), not a new one. False when the file must
    /// stay for a later poll (logged and counted in `gateway_documents_failed_total`, adapter
    /// `file-drop`, kind `acknowledgment`).
    fn acknowledge(
        &self,
        partner: &PartnerProfile,
        path: &Path,
        original: &str,
        format: Format,
        raw: &[u8],
    ) -> bool {
        let Some(make) = self.acknowledgers.get(&format) else {
            return true;
        };
        let state = AckState::beside(path);
        if state.sent.exists() {
            return true;
        }
        let ack = match std::fs::read(&state.pending) {
            Ok(ack) => ack,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let Some(ack) = make(raw, partner) else {
                    return true;
                };
                if let Err(e) = write_replacing(&state.pending, &ack) {
                    tracing::warn!(adapter = "file-drop", partner = %partner.id, file = %original,
                        interchange = %crate::x12_senders::interchange_names(raw),
                        kept_at = %state.pending.display(), error = %e,
                        "cannot keep the acknowledgment beside the file in processing/; the file \
                         stays there and is acknowledged on a later poll; make processing/ writable");
                    metrics::count(Counter::Failed, "file-drop", ACKNOWLEDGMENT, 1);
                    return false;
                }
                ack
            }
            Err(e) => {
                tracing::warn!(adapter = "file-drop", partner = %partner.id, file = %original,
                    kept_at = %state.pending.display(), error = %e,
                    "cannot read the acknowledgment kept for the file; it stays in processing/ and \
                     is retried; make processing/ readable");
                metrics::count(Counter::Failed, "file-drop", ACKNOWLEDGMENT, 1);
                return false;
            }
        };
        let out = self.outgoing(&partner.id);
        let stem = original
            .rsplit_once('.')
            .map(|(s, _)| s)
            .unwrap_or(original);
        match write_atomically(&out, &format!("{stem}.ack.edi"), &ack) {
            Ok(written) => {
                if let Err(e) = std::fs::rename(&state.pending, &state.sent) {
                    tracing::warn!(adapter = "file-drop", partner = %partner.id, file = %original,
                        ack = %written.display(), error = %e,
                        "acknowledgment written but not marked sent in processing/: if the file \
                         is retried, the same acknowledgment is written again");
                }
                tracing::info!(adapter = "file-drop", partner = %partner.id, file = %original,
                    interchange = %crate::x12_senders::interchange_names(raw),
                    ack = %written.display(), "acknowledgment written");
                true
            }
            Err(e) => {
                tracing::warn!(adapter = "file-drop", partner = %partner.id, file = %original,
                    interchange = %crate::x12_senders::interchange_names(raw),
                    folder = %out.display(), error = %e,
                    "cannot write the acknowledgment the sender is owed; the file stays in \
                     processing/ and the same acknowledgment is written on the next poll; make \
                     the partner's Outgoing folder writable");
                metrics::count(Counter::Failed, "file-drop", ACKNOWLEDGMENT, 1);
                false
            }
        }
    }

    fn finish_error(
        &self,
        partner: &PartnerProfile,
        path: &Path,
        original: &str,
        problems: &[String],
        summary: &mut PollSummary,
    ) {
        let dir = self.config.root.join(&partner.id).join("error");
        let mut text = format!("{original}: {} problem(s)\n", problems.len());
        for p in problems {
            text.push_str(p);
            text.push('\n');
        }
        let report_name = format!("{original}.errors.txt");
        if let Err(e) = write_atomically(&dir, &report_name, text.as_bytes()) {
            tracing::warn!(adapter = "file-drop", partner = %partner.id, file = %original,
                folder = %dir.display(), error = %e, "cannot write error report; will retry");
            summary.deferred.push(path.to_path_buf());
            return;
        }
        match move_into(path, &dir, original) {
            Ok(p) => {
                AckState::beside(path).forget();
                tracing::warn!(adapter = "file-drop", partner = %partner.id, file = %original,
                    problems = problems.len(), "file moved to error/");
                summary.errored.push(p);
            }
            Err(e) => {
                tracing::warn!(adapter = "file-drop", partner = %partner.id, file = %original,
                    folder = %dir.display(), error = %e, "cannot move to error/; will retry");
                summary.deferred.push(path.to_path_buf());
            }
        }
    }
}

/// The metrics kind of an acknowledgment the file drop could not write.
const ACKNOWLEDGMENT: &str = "acknowledgment";

/// Where a file in `processing/` keeps its acknowledgment: `pending` (made, not yet written to
/// `Outgoing`) or `sent` (written), hidden names the poll never picks.
#[derive(Debug)]
struct AckState {
    pending: PathBuf,
    sent: PathBuf,
}

const PENDING: &str = ".ack";
const SENT: &str = ".ack-sent";
/// The temporary name [`write_replacing`] writes `pending` through.
const PENDING_TMP: &str = ".ack.tmp";

impl AckState {
    fn beside(path: &Path) -> Self {
        let dir = path.parent().unwrap_or(Path::new("."));
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        AckState {
            pending: dir.join(format!(".{name}{PENDING}")),
            sent: dir.join(format!(".{name}{SENT}")),
        }
    }

    /// Once the file is finished (archived or in `error/`).
    fn forget(&self) {
        for p in [&self.pending, &self.sent] {
            match std::fs::remove_file(p) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => tracing::warn!(adapter = "file-drop", file = %p.display(), error = %e,
                    "cannot remove the acknowledgment kept for a finished file; removed on a later poll"),
            }
        }
    }

    /// Removes what is kept for files no longer in `dir` (finished while the removal failed).
    fn forget_orphans(dir: &Path) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().to_string();
            let Some(hidden) = name.strip_prefix('.') else {
                continue;
            };
            let file = [PENDING_TMP, SENT, PENDING]
                .iter()
                .find_map(|suffix| hidden.strip_suffix(suffix));
            if let Some(file) = file
                && !file.is_empty()
                && !dir.join(file).exists()
                && let Err(err) = std::fs::remove_file(e.path())
            {
                tracing::warn!(adapter = "file-drop", file = %e.path().display(), error = %err,
                    "cannot remove an acknowledgment kept for a file no longer in processing/");
            }
        }
    }
}

/// Writes `bytes` as `path` through a temporary name and a rename that replaces what was there.
fn write_replacing(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!("{name}.tmp"));
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)
}

/// Regular files directly in `dir` and its sub-folders, sorted by name, skipping temporary
/// upload names.
fn list_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            let name = e.file_name().to_string_lossy().to_string();
            if ignored(&name) {
                continue;
            }
            match e.file_type() {
                Ok(t) if t.is_dir() => stack.push(p),
                Ok(t) if t.is_file() => out.push(p),
                _ => {}
            }
        }
    }
    out.sort();
    out
}

/// Moves `path` into `dir` as `name`, adding a counter when the name is taken.
pub(crate) fn move_into(path: &Path, dir: &Path, name: &str) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let mut target = dir.join(name);
    let mut n = 1;
    while target.exists() {
        target = dir.join(format!("{name}.{n}"));
        n += 1;
    }
    std::fs::rename(path, &target)?;
    Ok(target)
}

/// Writes `bytes` as `dir/name` through a temporary name and a rename, so readers never see
/// a partial file.
pub fn write_atomically(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<PathBuf> {
    use std::io::Write;
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(".{name}.tmp"));
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    let mut target = dir.join(name);
    let mut n = 1;
    while target.exists() {
        target = dir.join(format!("{n}-{name}"));
        n += 1;
    }
    std::fs::rename(&tmp, &target)?;
    Ok(target)
}
