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
//! One file cannot stop the drop ([`crate::drop_guard`]): a file whose handling panics goes
//! to `error/` saying so and the poll goes on, and one the process died handling twice is
//! moved there unhandled instead of stopping the service at every start.
//!
//! A file is taken only from the folder of the partner its documents name as their sender
//! ([`crate::folder_owner`]: the X12 ISA sender, the rule `POST /x12` applies; the cXML From
//! credential; the CSV Coupa supplier): another partner's, or (X12, cXML) nobody's, goes to
//! `error/` with the sender found and the one expected, unpublished and unacknowledged.
//!
//! Nothing in a landing folder is ever followed as a link: a file is claimed by renaming its
//! directory entry, then opened without following a link (`O_NOFOLLOW`, without waiting on a
//! fifo) and read, sized and checked through that handle only. A symbolic link (to anything),
//! a fifo, a socket or a device found there is moved to `error/` as it is, unread, with a
//! report saying so, and kept in the ledger as a refused file; `archive/` only ever receives
//! the regular file that was read. A name too long to take the claim's time stamp is kept
//! shortened with a hash of it (`kept_name`); its reports and the ledger keep it whole. File
//! names are logged escaped (a sender's name cannot forge or colour a log line).
//!
//! A file still being written can be taken anyway: an SFTP client that pauses mid-upload for
//! longer than `min_age` leaves a file that looks complete (nothing tells an upload's end
//! without a rename or trigger convention), and the bytes it writes after the claim land in
//! the moved file (the rename keeps the file the client has open). So a file whose size or
//! time changes while it is read is left for a later poll, and every file read is watched for
//! a while after it is finished (its size and time as read, in memory, the last
//! [`MAX_WATCHED`] files): one that changed was cut short, and is reported in `error/` with
//! what was read and what became of it, logged and counted
//! (`gateway_documents_rejected_total{adapter="file-drop",kind="file_cut_short"}`), once.
//!
//! A file's acknowledgment (997/999/TA1) is written to `Outgoing` before the file is finished
//! (archived or moved to `error/`), and exactly once however often the file is retried: it is
//! made once and kept beside the file in `processing/` (`.<name>.ack`, hidden from the poll)
//! until it is written, then marked sent (`.<name>.ack-sent`) until the file is finished. A
//! file whose acknowledgment cannot be written stays in `processing/` and the same bytes (the
//! same ISA13) are written on a later poll; a file that cannot be archived is retried without
//! a second acknowledgment. Only a crash between writing the acknowledgment and marking it
//! sent writes it twice, with the same control numbers.

use crate::drop_entry::{
    Opened, copy_regular, entry_kind, kept_name, logged, open_regular, read_handle,
    still_the_file_read,
};
use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use gateway_core::metrics::{self, Counter};
use gateway_core::{Format, IngestRequest, PartnerProfile, detect_format};

use crate::config::FileDropConfig;
use crate::drop_guard;
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
    /// Files found changed after they were read (their writer was still writing): each is
    /// the file in `error/` that carries the note saying so.
    pub cut_short: Vec<PathBuf>,
}

impl PollSummary {
    /// Whether the poll did something the end-of-poll log line should tell: documents taken or
    /// received before (a copy of a file already taken is archived, and said so; it was
    /// archived without a word), files in `error/`, left for later or found cut short.
    pub fn worth_logging(&self) -> bool {
        self.documents
            + self.duplicates
            + self.errored.len()
            + self.deferred.len()
            + self.cut_short.len()
            > 0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Seen {
    size: u64,
    modified: SystemTime,
}

impl Seen {
    fn of(meta: &std::fs::Metadata) -> Self {
        Seen {
            size: meta.len(),
            modified: meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
        }
    }
}

/// Most files watched after they were read: memory stays bounded however many files arrive
/// (a file pushed out before its watch ends is only not checked any more).
pub const MAX_WATCHED: usize = 1_000;
/// How long a file read is watched at least, and in `min_age`s: longer than the pauses of the
/// SFTP clients that outlast `min_age`, and several polls.
const WATCH_AT_LEAST: Duration = Duration::from_secs(60);
const WATCH_MIN_AGES: u32 = 10;
/// Most lines a cut-short note gives to what became of the documents read, and most
/// characters of one (a reject's message may quote the input).
const MAX_OUTCOME_LINES: usize = 20;
const MAX_OUTCOME_CHARS: usize = 300;
/// Most of an earlier report read back into a cut-short note.
const MAX_REPORT_BYTES: u64 = 1 << 20;
/// The metrics kind of a file found cut short.
const FILE_CUT_SHORT: &str = "file_cut_short";

/// A file the drop read and finished (archived or moved to `error/`), watched for a while in
/// case its writer was still writing: see [`FileDrop::recheck_taken`].
#[derive(Debug)]
struct Taken {
    partner: String,
    /// The file's full name, for the note.
    original: String,
    /// The name it is kept under ([`kept_name`]), for the files the note makes.
    kept: String,
    /// Where the file is now: the writer's later bytes land there.
    at: PathBuf,
    /// Its report, when it was finished in `error/`.
    report: Option<PathBuf>,
    /// Its size and time when it was read.
    read: Seen,
    read_at: chrono::DateTime<chrono::Utc>,
    /// When it was read, and how long it is watched after ([`FileDrop::watch_for`]).
    read_instant: Instant,
    watch_for: Duration,
    format: Option<Format>,
    /// What became of the documents read, at most [`MAX_OUTCOME_LINES`] lines and a count.
    outcome: Vec<String>,
    /// The last document taken, which a CSV file cut short may have taken without its rest.
    last_taken: Option<String>,
    /// Whether an acknowledgment of the part read was written to `Outgoing`.
    acknowledged: bool,
}

/// A dropped file's names: the one it was dropped under, for reports, the ledger and the
/// logs, and the one it is kept under in the drop's folders ([`kept_name`]).
#[derive(Debug)]
struct Names {
    original: String,
    kept: String,
}

impl Names {
    /// The names of the file at `path` in `processing/` (`<stamp>--<name>`), and the name it
    /// was claimed under. `original` is its full name when it was just claimed; a file
    /// resumed from `processing/` goes by the name it was claimed under.
    fn of(path: &Path, original: Option<String>) -> (String, Names) {
        let claimed = path
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        let kept = claimed
            .split_once("--")
            .map(|(_, n)| n.to_string())
            .unwrap_or(claimed.clone());
        let names = Names {
            original: original.unwrap_or_else(|| kept.clone()),
            kept: kept_name(&kept),
        };
        (claimed, names)
    }
}

/// The folder watcher for every partner.
pub struct FileDrop {
    config: FileDropConfig,
    pipeline: Arc<Pipeline>,
    acknowledgers: HashMap<Format, Acknowledger>,
    seen: HashMap<PathBuf, Seen>,
    /// Files read and finished, oldest first, at most [`MAX_WATCHED`].
    taken: VecDeque<Taken>,
    /// Why each file waiting in `processing/` was last not published, as logged: a file
    /// retried at every poll while the cause lasts (the disk short of space, the bus down) is
    /// warned of once per cause, not at every poll.
    waiting: std::sync::Mutex<HashMap<PathBuf, String>>,
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
    /// Keeps a file refused before any document was read from it (a zip that cannot be
    /// taken, documents of another partner's sender, a file over `max_file_bytes`) in the
    /// ledger and counts it once: it was only in `error/`, so `gateway documents` and the
    /// partner's status view did not show it.
    fn keep_refused(&self, partner: &PartnerProfile, original: &str, raw: &[u8], why: &str) {
        let key = format!(
            "file-drop:refused:{}:{}",
            partner.id,
            crate::pipeline::content_fingerprint(raw)
        );
        // The label names the file, and so does the source, which `gateway documents --from`
        // searches as it does for the documents of a file taken.
        let label = format!("file {original}");
        match self
            .pipeline
            .ledger()
            .record_refused_input(&crate::ledger::RefusedInput {
                key: &key,
                adapter: "file-drop",
                partner: &partner.id,
                kind: "unknown",
                label: &label,
                detail: why,
                source: &label,
            }) {
            Ok(true) => gateway_http::count_refused("file-drop"),
            Ok(false) => {}
            Err(e) => tracing::warn!(adapter = "file-drop", partner = %partner.id,
                file = %logged(original), error = %e,
                "a refused file could not be kept in the ledger; it is in error/"),
        }
    }

    pub fn new(config: FileDropConfig, pipeline: Arc<Pipeline>) -> Self {
        FileDrop {
            config,
            pipeline,
            acknowledgers: HashMap::new(),
            seen: HashMap::new(),
            taken: VecDeque::new(),
            waiting: std::sync::Mutex::new(HashMap::new()),
        }
    }

    /// Notes that `path` was not published for `why` (the cause, without details that change
    /// from one poll to the next); true when that is news (the first time, or another cause
    /// than last time), to be warned of.
    fn waiting_anew(&self, path: &Path, why: &str) -> bool {
        let mut waiting = self
            .waiting
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if waiting.get(path).is_some_and(|before| before == why) {
            return false;
        }
        if waiting.len() >= MAX_WATCHED {
            waiting.clear();
        }
        waiting.insert(path.to_path_buf(), why.to_string());
        true
    }

    /// `path` is no longer waiting: its next wait is warned of again.
    fn waited(&self, path: &Path) {
        self.waiting
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(path);
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
            if summary.worth_logging() {
                tracing::info!(
                    adapter = "file-drop",
                    archived = summary.archived.len(),
                    errored = summary.errored.len(),
                    deferred = summary.deferred.len(),
                    cut_short = summary.cut_short.len(),
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

    /// One pass: check the files read lately for a writer that was still writing, resume
    /// `processing/`, then pick the stable files in every `Incoming`.
    pub async fn poll(&mut self) -> PollSummary {
        let mut summary = PollSummary::default();
        self.recheck_taken(&mut summary);
        let partners: Vec<PartnerProfile> = self.pipeline.partners().all().to_vec();
        let mut listed = std::collections::HashSet::new();
        for partner in &partners {
            for path in list_files(&self.processing(&partner.id)) {
                if let Some(taken) = self
                    .process_guarded(partner, &path, None, &mut summary)
                    .await
                {
                    self.watch(taken);
                }
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
                    Ok((claimed, original)) => {
                        if let Some(taken) = self
                            .process_guarded(partner, &claimed, Some(original), &mut summary)
                            .await
                        {
                            self.watch(taken);
                        }
                    }
                    Err(e) => tracing::warn!(
                        adapter = "file-drop", partner = %partner.id, file = %logged(&path),
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

    /// Files read lately and still watched for a writer that was not done (at most
    /// [`MAX_WATCHED`]).
    pub fn read_lately(&self) -> usize {
        self.taken.len()
    }

    /// True when the file's size and time held still since the last poll and it is old enough.
    /// A link is not followed: its own size and time are watched (it is refused once claimed).
    fn is_stable(&mut self, path: &Path) -> bool {
        let Ok(meta) = std::fs::symlink_metadata(path) else {
            return false;
        };
        let now = Seen::of(&meta);
        let before = self.seen.insert(path.to_path_buf(), now);
        before == Some(now) && self.old_enough(now.modified)
    }

    /// True when a file last changed at `modified` is at least `min_age` old (a time in the
    /// future is not: a clock that jumped must not make a file look settled).
    fn old_enough(&self, modified: SystemTime) -> bool {
        SystemTime::now()
            .duration_since(modified)
            .map(|age| age >= Duration::from_millis(self.config.min_age_ms))
            .unwrap_or(false)
    }

    /// Watches a file just finished, forgetting the oldest beyond [`MAX_WATCHED`].
    fn watch(&mut self, taken: Taken) {
        while self.taken.len() >= MAX_WATCHED {
            self.taken.pop_front();
        }
        self.taken.push_back(taken);
    }

    /// How long a file read is watched: [`WATCH_MIN_AGES`] times `min_age`, at least
    /// [`WATCH_AT_LEAST`].
    fn watch_for(&self) -> Duration {
        Duration::from_millis(self.config.min_age_ms)
            .saturating_mul(WATCH_MIN_AGES)
            .max(WATCH_AT_LEAST)
    }

    /// Compares every file read lately with what was read of it. One that grew or changed
    /// since had a writer still writing when it was read (an SFTP client pausing mid-upload
    /// outlasted `min_age`): what came later was never read, and the file where it lies
    /// (archive/, or error/ with a report about the part read) says otherwise. It is reported
    /// once, in `error/` ([`FileDrop::report_cut_short`]), logged and counted; one that held
    /// still is forgotten when its watch ends, one that left its folder (an operator, the
    /// retention) at once. A report that cannot be written is retried on the next poll.
    fn recheck_taken(&mut self, summary: &mut PollSummary) {
        let now = Instant::now();
        let mut keep = VecDeque::with_capacity(self.taken.len());
        while let Some(taken) = self.taken.pop_front() {
            // A link put in its place is not followed: the file left its folder.
            let meta = match std::fs::symlink_metadata(&taken.at) {
                Ok(meta) if meta.file_type().is_file() => meta,
                _ => continue,
            };
            let current = Seen::of(&meta);
            if current == taken.read {
                if now.duration_since(taken.read_instant) < taken.watch_for {
                    keep.push_back(taken);
                }
                continue;
            }
            match self.report_cut_short(&taken, current) {
                Ok(note) => {
                    tracing::warn!(adapter = "file-drop", partner = %taken.partner,
                        file = %logged(&taken.original), read_bytes = taken.read.size,
                        now_bytes = current.size, read_at = %taken.read_at.to_rfc3339(),
                        now_at = %logged(&taken.at), note = %logged(&note),
                        "file was still being written when it was read: only the part read was \
                         taken, the rest was NOT read; reported in error/ for the sender to send \
                         the rest");
                    metrics::count(Counter::Rejected, "file-drop", FILE_CUT_SHORT, 1);
                    summary.cut_short.push(note);
                }
                Err(e) => {
                    tracing::warn!(adapter = "file-drop", partner = %taken.partner,
                        file = %logged(&taken.original), read_bytes = taken.read.size,
                        now_bytes = current.size, now_at = %logged(&taken.at), error = %e,
                        "file was still being written when it was read (the rest was NOT read), \
                         and the note saying so cannot be written to error/; retried on the next \
                         poll; make the partner's error/ folder writable");
                    keep.push_back(taken);
                }
            }
        }
        self.taken = keep;
    }

    /// Writes the note on a file cut short into the partner's `error/`: beside a copy of the
    /// file as it is now when it was archived (the archive keeps the file its writer
    /// finished), or at the head of its report when it is in `error/` already (the report
    /// was about the part read). Returns the file in `error/` the note is about.
    fn report_cut_short(&self, taken: &Taken, now: Seen) -> std::io::Result<PathBuf> {
        let dir = self.config.root.join(&taken.partner).join("error");
        if let Some(report) = &taken.report {
            // Read without following a link put in its place.
            let earlier = match open_regular(report) {
                Opened::File(file, meta) => read_handle(&file, meta.len(), MAX_REPORT_BYTES)
                    .map(|raw| String::from_utf8_lossy(&raw).into_owned())
                    .unwrap_or_default(),
                Opened::NotRegular(_) | Opened::Failed(_) => String::new(),
            };
            let text = format!(
                "{}\n--- the report written when the file was read, about its first {} bytes ---\n{earlier}",
                cut_short_note(taken, now, None),
                taken.read.size
            );
            write_replacing(report, text.as_bytes())?;
            return Ok(taken.at.clone());
        }
        std::fs::create_dir_all(&dir)?;
        let tmp = dir.join(format!(".{}.cut-short.tmp", taken.kept));
        let copied = (|| {
            copy_regular(&taken.at, &tmp)?;
            let (target, report) = free_report_pair(&dir, &taken.kept);
            let note = cut_short_note(taken, now, Some(&target));
            write_atomically(&dir, &report, note.as_bytes())?;
            std::fs::rename(&tmp, &target)?;
            Ok(target)
        })();
        if copied.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        copied
    }

    /// Moves the file into `processing/` with a unique name (the rename is atomic, and moves
    /// the directory entry itself: a link is moved as a link, never followed); its new path
    /// and its full original name. A name too long to take the time stamp is kept shortened
    /// ([`kept_name`]).
    fn claim(&self, partner: &str, path: &Path) -> std::io::Result<(PathBuf, String)> {
        let dir = self.processing(partner);
        std::fs::create_dir_all(&dir)?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_else(|| "file".into());
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%.6f");
        let target = dir.join(format!("{stamp}--{}", kept_name(&name)));
        std::fs::rename(path, &target)?;
        Ok((target, name))
    }

    /// [`Self::process`], such that whatever happens in it the drop goes on
    /// ([`crate::drop_guard`]): a panic is caught and the file goes to `error/` saying so, and
    /// a file whose handling the process died in [`drop_guard::UNFINISHED_LIMIT`] times is
    /// moved there unread.
    async fn process_guarded(
        &self,
        partner: &PartnerProfile,
        path: &Path,
        original: Option<String>,
        summary: &mut PollSummary,
    ) -> Option<Taken> {
        use futures::FutureExt;
        let unfinished = drop_guard::Handling::unfinished(path);
        if unfinished >= drop_guard::UNFINISHED_LIMIT {
            // Its mark stays until the file is out of processing/ (then the poll's
            // `forget_orphans` removes it), so a failed move is refused again next poll.
            let why = drop_guard::unfinished_why(unfinished);
            self.finish_failed(partner, path, original, &why, summary);
            return None;
        }
        let handling = drop_guard::Handling::begin(path, unfinished);
        let work =
            std::panic::AssertUnwindSafe(self.process(partner, path, original.clone(), summary))
                .catch_unwind()
                .await;
        drop(handling);
        match work {
            Ok(taken) => taken,
            Err(panic) => {
                let why = drop_guard::panicked_why(&drop_guard::panic_message(panic.as_ref()));
                self.finish_failed(partner, path, original, &why, summary);
                None
            }
        }
    }

    /// A file whose handling failed inside the gateway (`why`): to `error/` with its report,
    /// kept in the ledger as a refused file (so `gateway documents --from` and the partner's
    /// status view show it), logged as an error and counted
    /// (`gateway_documents_failed_total{adapter="file-drop",kind="defect"}`).
    fn finish_failed(
        &self,
        partner: &PartnerProfile,
        path: &Path,
        original: Option<String>,
        why: &str,
        summary: &mut PollSummary,
    ) {
        let (claimed, names) = Names::of(path, original);
        tracing::error!(adapter = "file-drop", partner = %partner.id,
            file = %logged(&names.original), reason = %why,
            "handling the file failed inside the gateway; moved to error/, the drop goes on");
        metrics::count(Counter::Failed, "file-drop", DEFECT, 1);
        // Keyed by the name it was claimed under (its time stamp): the same claim resumed is
        // the same row.
        self.keep_refused(
            partner,
            &names.original,
            format!("failed:{claimed}").as_bytes(),
            why,
        );
        // Gone already (moved before the failure): nothing left to move.
        if std::fs::symlink_metadata(path).is_ok() {
            self.finish_error(partner, path, &names, &[why.to_string()], summary);
        }
    }

    /// Reads, checks and publishes one file of `processing/`, then archives it or moves it to
    /// `error/`. Returns what was read of a file finished, to watch for a writer that was not
    /// done ([`FileDrop::recheck_taken`]); `None` when it was not read or stays in
    /// `processing/` for a later poll. `original` is the file's full name when it was just
    /// claimed (a file resumed from `processing/` goes by the name it was claimed under).
    ///
    /// The file is opened without following a link and read only through that handle
    /// ([`open_regular`]): a symbolic link (whatever it points to), a fifo, a device or a
    /// folder found in its place is moved to `error/` unread, kept in the ledger as refused,
    /// and never published.
    async fn process(
        &self,
        partner: &PartnerProfile,
        path: &Path,
        original: Option<String>,
        summary: &mut PollSummary,
    ) -> Option<Taken> {
        let (claimed, names) = Names::of(path, original);
        let original = names.original.clone();
        let (file, opened) = match open_regular(path) {
            Opened::File(file, meta) => (file, meta),
            Opened::NotRegular(why) => {
                tracing::warn!(adapter = "file-drop", partner = %partner.id,
                    file = %logged(&original), reason = %why,
                    "not a regular file: not followed nor read, refused; moved to error/");
                // Keyed by the name it was claimed under: the same entry resumed after a crash
                // is the same ledger row.
                self.keep_refused(
                    partner,
                    &original,
                    format!("unread:{claimed}").as_bytes(),
                    &why,
                );
                self.finish_error(partner, path, &names, &[why], summary);
                return None;
            }
            Opened::Failed(e) => {
                tracing::warn!(adapter = "file-drop", file = %logged(path), error = %e, "cannot read; will retry");
                summary.deferred.push(path.to_path_buf());
                return None;
            }
        };
        let before = Seen::of(&opened);
        // Changed since it was picked (or, resumed from processing/, lately): its writer may
        // not be done; read once it held still for min_age.
        if !self.old_enough(before.modified) {
            tracing::info!(adapter = "file-drop", partner = %partner.id, file = %logged(&original),
                "changed less than min_age ago: read on a later poll");
            summary.deferred.push(path.to_path_buf());
            return None;
        }
        if before.size > self.config.max_file_bytes {
            let msg = format!(
                "file is {} bytes; the limit is {} (file_drop.max_file_bytes)",
                before.size, self.config.max_file_bytes
            );
            // Unread, so keyed by the name it was claimed under and its size, as a file that
            // is not regular is: kept where operators look, like an oversize mail.
            self.keep_refused(
                partner,
                &original,
                format!("oversize:{claimed}:{}", before.size).as_bytes(),
                &msg,
            );
            self.finish_error(partner, path, &names, &[msg], summary);
            return None;
        }
        let raw = match read_handle(&file, before.size, self.config.max_file_bytes) {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(adapter = "file-drop", file = %logged(path), error = %e, "cannot read; will retry");
                summary.deferred.push(path.to_path_buf());
                return None;
            }
        };
        // Written to while it was read: nothing of it is taken yet.
        let after = file.metadata().map(|m| Seen::of(&m)).ok();
        drop(file);
        if after != Some(before) || u64::try_from(raw.len()).ok() != Some(before.size) {
            tracing::warn!(adapter = "file-drop", partner = %partner.id, file = %logged(&original),
                read_bytes = raw.len(), "the file changed while it was read: its writer is not \
                done; nothing taken, read again on a later poll once it held still for min_age");
            summary.deferred.push(path.to_path_buf());
            return None;
        }
        let mut taken = Taken {
            partner: partner.id.clone(),
            original: original.clone(),
            kept: names.kept.clone(),
            at: PathBuf::new(),
            report: None,
            read: before,
            read_at: chrono::Utc::now(),
            read_instant: Instant::now(),
            watch_for: self.watch_for(),
            format: None,
            outcome: Vec::new(),
            last_taken: None,
            acknowledged: false,
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
                    self.keep_refused(partner, &original, &raw, &msg);
                    taken.outcome = vec![format!("nothing was taken: {msg}")];
                    let (at, report) = self.finish_error(partner, path, &names, &[msg], summary)?;
                    return Some(taken.finished(at, Some(report)));
                }
            }
        } else if raw.starts_with(b"%PDF-") {
            // Read as CSV, a PDF said "row 1: not a Coupa invoice import".
            let why = "a PDF on its own: the gateway reads invoices from cXML, X12 or CSV files; \
                       put the PDF in a zip beside the invoice file that names it (Image Scan \
                       Filename), or send it with the invoice by e-mail"
                .to_string();
            self.keep_refused(partner, &original, &raw, &why);
            taken.outcome = vec![format!("nothing was taken: {why}")];
            let (at, report) = self.finish_error(partner, path, &names, &[why], summary)?;
            return Some(taken.finished(at, Some(report)));
        } else {
            (raw, Vec::new(), format!("file {original}"))
        };
        // Owned, so a long X12 or JSON input is decoded on a thread of its own as it is
        // published in batches (`Pipeline::ingest_streaming`).
        let raw = Arc::new(raw);
        let format = detect_format(&raw);
        taken.format = Some(format);
        // Only the folder owner's documents: another partner's would be published (and
        // acknowledged) as the owner's, and that partner's own copy then swallowed as a
        // duplicate; nobody's would be taken from a sender `POST /x12` or `POST /cxml` refuses.
        let decoder = self.pipeline.codecs().decoder(format);
        if let Some(why) = crate::folder_owner::not_from_owner(
            partner,
            self.pipeline.partners(),
            format,
            &raw,
            decoder.as_deref(),
        ) {
            let interchange = if format == Format::X12 {
                crate::x12_senders::interchange_names(&raw)
            } else {
                String::new()
            };
            tracing::warn!(adapter = "file-drop", partner = %partner.id, file = %logged(&original),
                %format, %interchange, reason = %why,
                "file from a sender that is not the folder's partner refused; moved to error/");
            self.keep_refused(partner, &original, &raw, &why);
            taken.outcome =
                vec!["nothing was taken: the documents are not this folder's partner's".into()];
            let (at, report) = self.finish_error(partner, path, &names, &[why], summary)?;
            return Some(taken.finished(at, Some(report)));
        }
        let report = self
            .pipeline
            .ingest_streaming(
                IngestRequest {
                    raw: &raw,
                    adapter: "file-drop",
                    format: Some(format),
                    partner: Some(partner),
                    source: Some(&source),
                    files: &files,
                    notes: &[],
                },
                Arc::clone(&raw),
            )
            .await;
        let report = match report {
            Ok(r) => {
                self.waited(path);
                r
            }
            Err(e) => {
                let why = e.to_string();
                if self.waiting_anew(path, gateway_http::not_taken_cause(&e)) {
                    tracing::warn!(adapter = "file-drop", partner = %partner.id, file = %logged(&original), error = %why,
                        "not published; the file stays in processing/ and is retried (said once while this lasts)");
                } else {
                    tracing::debug!(adapter = "file-drop", partner = %partner.id, file = %logged(&original), error = %why,
                        "still not published; retried");
                }
                summary.deferred.push(path.to_path_buf());
                return None;
            }
        };
        summary.documents += report.accepted.len();
        summary.duplicates += report.duplicates.len();
        for a in &report.accepted {
            tracing::info!(adapter = "file-drop", partner = %partner.id, doc_id = %a.doc_id,
                kind = %a.kind, number = %a.number, file = %logged(&original), "published");
        }
        self.note_received_again(partner, &original, &source, &report);
        taken.outcome = outcome_lines(&report);
        taken.last_taken = report
            .accepted
            .last()
            .map(|a| format!("{} {}", a.kind, a.number));
        // The sender is owed its acknowledgment before the file is finished.
        if !self.acknowledge(partner, path, &names, format, &raw) {
            summary.deferred.push(path.to_path_buf());
            return None;
        }
        taken.acknowledged = self.acknowledgers.contains_key(&format);
        if report.rejects.is_empty() {
            let day = chrono::Utc::now().format("%Y-%m-%d").to_string();
            let dir = self.config.root.join(&partner.id).join("archive").join(day);
            // Archive only the file read: an entry put in its place meanwhile (a link, another
            // file) goes to error/, so archive/ never holds a link.
            if !still_the_file_read(path, &opened) {
                let why = format!(
                    "the file in processing/ was replaced after it was read ({}); what is there \
                     now was not read and is not archived. What was read was taken: {}",
                    std::fs::symlink_metadata(path)
                        .map(|m| entry_kind(m.file_type()))
                        .unwrap_or("gone"),
                    taken.outcome.join("; ")
                );
                tracing::warn!(adapter = "file-drop", partner = %partner.id,
                    file = %logged(&original), reason = %why,
                    "file replaced in processing/ after it was read; not archived, moved to error/");
                let (at, report) = self.finish_error(partner, path, &names, &[why], summary)?;
                return Some(taken.finished(at, Some(report)));
            }
            match move_into(path, &dir, &names.kept) {
                Ok(p) => {
                    AckState::beside(path).forget();
                    summary.archived.push(p.clone());
                    Some(taken.finished(p, None))
                }
                Err(e) => {
                    let interchange = if format == Format::X12 {
                        crate::x12_senders::interchange_names(&raw)
                    } else {
                        String::new()
                    };
                    tracing::warn!(adapter = "file-drop", partner = %partner.id, file = %logged(&original),
                        %interchange, folder = %logged(&dir), error = %e,
                        "cannot archive; the file stays in processing/ and is retried (its \
                         documents and acknowledgment are not sent again); make the archive \
                         folder writable");
                    summary.deferred.push(path.to_path_buf());
                    None
                }
            }
        } else {
            let (problems, taken_too) = rejects_report(&report);
            let (at, report) =
                self.finish_error_noting(partner, path, &names, &problems, &taken_too, summary)?;
            Some(taken.finished(at, Some(report)))
        }
    }

    /// Says what became of the documents of a file that the gateway had received before (the
    /// same file dropped again under another name, or resumed after its archive failed): a log
    /// line naming the file, how many and their doc ids, and, on their ledger rows, this file
    /// as a further source ([`crate::ledger::Ledger::record_received_again`]), so `gateway
    /// documents --from FILE` shows them. A copy whose documents were all there was archived
    /// with no log line and no row naming it, and `--from` answered "0 document(s)". The rows
    /// keep their status and first source: nothing of the first receipt is lost, and the
    /// partner's counts are not swollen by a row per copy.
    fn note_received_again(
        &self,
        partner: &PartnerProfile,
        original: &str,
        source: &str,
        report: &gateway_core::IngestReport,
    ) {
        if report.duplicates.is_empty() {
            return;
        }
        let mut ledger_failed = None;
        for d in &report.duplicates {
            if let Err(e) = self
                .pipeline
                .ledger()
                .record_received_again(&d.doc_id, source)
            {
                ledger_failed = Some(e);
            }
        }
        if let Some(e) = ledger_failed {
            tracing::warn!(adapter = "file-drop", partner = %partner.id, file = %logged(original),
                error = %e, "cannot note on the ledger rows of documents received before that \
                this file held them again; `gateway documents --from` does not find them by \
                this file");
        }
        let received = received_before(report);
        if report.accepted.is_empty() && report.rejects.is_empty() {
            tracing::info!(adapter = "file-drop", partner = %partner.id, file = %logged(original),
                documents = report.duplicates.len(), received_before = %received,
                "every document of the file was received before (a copy of a file already \
                taken): none was taken again; `gateway documents --from` the file lists them");
        } else {
            tracing::info!(adapter = "file-drop", partner = %partner.id, file = %logged(original),
                documents = report.duplicates.len(), received_before = %received,
                "documents of the file were received before: not taken again");
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
        names: &Names,
        format: Format,
        raw: &[u8],
    ) -> bool {
        let original = &names.original;
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
                    tracing::warn!(adapter = "file-drop", partner = %partner.id, file = %logged(original),
                        interchange = %crate::x12_senders::interchange_names(raw),
                        kept_at = %logged(&state.pending), error = %e,
                        "cannot keep the acknowledgment beside the file in processing/; the file \
                         stays there and is acknowledged on a later poll; make processing/ writable");
                    metrics::count(Counter::Failed, "file-drop", ACKNOWLEDGMENT, 1);
                    return false;
                }
                ack
            }
            Err(e) => {
                tracing::warn!(adapter = "file-drop", partner = %partner.id, file = %logged(original),
                    kept_at = %logged(&state.pending), error = %e,
                    "cannot read the acknowledgment kept for the file; it stays in processing/ and \
                     is retried; make processing/ readable");
                metrics::count(Counter::Failed, "file-drop", ACKNOWLEDGMENT, 1);
                return false;
            }
        };
        let out = self.outgoing(&partner.id);
        let stem = names
            .kept
            .rsplit_once('.')
            .map(|(s, _)| s)
            .unwrap_or(&names.kept);
        match write_atomically(&out, &format!("{stem}.ack.edi"), &ack) {
            Ok(written) => {
                if let Err(e) = std::fs::rename(&state.pending, &state.sent) {
                    tracing::warn!(adapter = "file-drop", partner = %partner.id, file = %logged(original),
                        ack = %logged(&written), error = %e,
                        "acknowledgment written but not marked sent in processing/: if the file \
                         is retried, the same acknowledgment is written again");
                }
                tracing::info!(adapter = "file-drop", partner = %partner.id, file = %logged(original),
                    interchange = %crate::x12_senders::interchange_names(raw),
                    ack = %logged(&written), "acknowledgment written");
                true
            }
            Err(e) => {
                tracing::warn!(adapter = "file-drop", partner = %partner.id, file = %logged(original),
                    interchange = %crate::x12_senders::interchange_names(raw),
                    folder = %logged(&out), error = %e,
                    "cannot write the acknowledgment the sender is owed; the file stays in \
                     processing/ and the same acknowledgment is written on the next poll; make \
                     the partner's Outgoing folder writable");
                metrics::count(Counter::Failed, "file-drop", ACKNOWLEDGMENT, 1);
                false
            }
        }
    }

    /// Moves the file to the partner's `error/` with its report (`<name>.errors.txt`) beside
    /// it; the file's new place and its report's, or `None` when it stays in `processing/`
    /// for a later poll.
    fn finish_error(
        &self,
        partner: &PartnerProfile,
        path: &Path,
        names: &Names,
        problems: &[String],
        summary: &mut PollSummary,
    ) -> Option<(PathBuf, PathBuf)> {
        self.finish_error_noting(partner, path, names, problems, &[], summary)
    }

    /// [`Self::finish_error`] with `notes` after the problems in the report: what the operator
    /// should know besides (the documents of the file that were taken), not counted among
    /// the problems.
    fn finish_error_noting(
        &self,
        partner: &PartnerProfile,
        path: &Path,
        names: &Names,
        problems: &[String],
        notes: &[String],
        summary: &mut PollSummary,
    ) -> Option<(PathBuf, PathBuf)> {
        let original = &names.original;
        let dir = self.config.root.join(&partner.id).join("error");
        let text = error_report(names, problems, notes);
        // The report is named after the entry as kept (`empty.csv.1` beside
        // `empty.csv.1.errors.txt`), so each file and its report are found together.
        let (target, report_name) = match std::fs::create_dir_all(&dir) {
            Ok(()) => free_report_pair(&dir, &names.kept),
            Err(e) => {
                tracing::warn!(adapter = "file-drop", partner = %partner.id, file = %logged(original),
                    folder = %logged(&dir), error = %e, "cannot create error/; will retry");
                summary.deferred.push(path.to_path_buf());
                return None;
            }
        };
        let report = match write_atomically(&dir, &report_name, text.as_bytes()) {
            Ok(report) => report,
            Err(e) => {
                tracing::warn!(adapter = "file-drop", partner = %partner.id, file = %logged(original),
                    folder = %logged(&dir), error = %e, "cannot write error report; will retry");
                summary.deferred.push(path.to_path_buf());
                return None;
            }
        };
        // A rename: a link is moved as a link, never followed. Onto the name chosen with the
        // report, which nothing else in error/ takes meanwhile (this poll is its only writer).
        match rename_new(path, &target) {
            Ok(p) => {
                AckState::beside(path).forget();
                tracing::warn!(adapter = "file-drop", partner = %partner.id, file = %logged(original),
                    problems = problems.len(), "file moved to error/");
                summary.errored.push(p.clone());
                Some((p, report))
            }
            Err(e) => {
                // The report goes too: the retry writes it again beside the name it then takes.
                let _ = std::fs::remove_file(&report);
                tracing::warn!(adapter = "file-drop", partner = %partner.id, file = %logged(original),
                    folder = %logged(&dir), error = %e, "cannot move to error/; will retry");
                summary.deferred.push(path.to_path_buf());
                None
            }
        }
    }
}

impl Taken {
    /// The file read is finished at `at` (with its report in `error/`, if any).
    fn finished(mut self, at: PathBuf, report: Option<PathBuf>) -> Self {
        self.at = at;
        self.report = report;
        self
    }
}

/// What the report of a file some of whose documents were refused says: its problems (each
/// reject, where and why) and, apart from them, which documents of the file were taken and
/// which had been received before.
fn rejects_report(report: &gateway_core::IngestReport) -> (Vec<String>, Vec<String>) {
    let problems = report
        .rejects
        .iter()
        .map(gateway_core::Reject::described)
        .collect();
    let mut notes = taken_beside_rejects(report);
    if !report.duplicates.is_empty() {
        notes.push(format!(
            "received before, not taken again: {}",
            received_before(report)
        ));
    }
    (problems, notes)
}

/// The documents of an ingest received before, for a log line or a report: each number with
/// its doc id and status, at most [`MAX_OUTCOME_LINES`], then how many more.
fn received_before(report: &gateway_core::IngestReport) -> String {
    let mut shown: Vec<String> = report
        .duplicates
        .iter()
        .take(MAX_OUTCOME_LINES)
        .map(|d| format!("{} (doc {}, {})", d.number, d.doc_id, d.status))
        .collect();
    if report.duplicates.len() > MAX_OUTCOME_LINES {
        shown.push(format!(
            "and {} more",
            report.duplicates.len() - MAX_OUTCOME_LINES
        ));
    }
    shown.join(", ")
}

/// The text of a file's `<name>.errors.txt`: how many problems and each one, then the
/// `notes` (what else the operator should know, such as which documents of the file were
/// taken), which are no problems and are not counted as such.
fn error_report(names: &Names, problems: &[String], notes: &[String]) -> String {
    let original = &names.original;
    let mut text = format!("{original}: {} problem(s)\n", problems.len());
    if names.kept != *original {
        text.push_str(&format!(
            "(its name is too long to be kept whole: it is kept as {})\n",
            names.kept
        ));
    }
    for p in problems.iter().chain(notes) {
        text.push_str(p);
        text.push('\n');
    }
    text
}

/// For the report of a file with rejects: the documents of the same file that were taken,
/// and what to send again. Without it the report listed only the rejects, and an operator who
/// fixed a row and dropped the whole file again sent the taken invoices a second time.
fn taken_beside_rejects(report: &gateway_core::IngestReport) -> Vec<String> {
    if report.accepted.is_empty() {
        return Vec::new();
    }
    let mut numbers: Vec<String> = report
        .accepted
        .iter()
        .take(MAX_OUTCOME_LINES)
        .map(|a| format!("{} {}", a.kind, a.number))
        .collect();
    if report.accepted.len() > MAX_OUTCOME_LINES {
        numbers.push(format!(
            "and {} more",
            report.accepted.len() - MAX_OUTCOME_LINES
        ));
    }
    vec![format!(
        "the other documents of this file were taken and go on to delivery: {}; send again only the rejected ones, fixed, not the whole file",
        numbers.join(", ")
    )]
}

/// What became of the documents of one ingest, for a cut-short note: at most
/// [`MAX_OUTCOME_LINES`] lines, then how many more.
fn outcome_lines(report: &gateway_core::IngestReport) -> Vec<String> {
    let taken = report
        .accepted
        .iter()
        .map(|a| format!("taken, on its way to delivery: {} {}", a.kind, a.number));
    let duplicates = report.duplicates.iter().map(|d| {
        format!(
            "received before, not taken again: {} (status {})",
            d.number, d.status
        )
    });
    let rejected = report.rejects.iter().map(|r| match &r.document {
        Some(d) => format!("rejected: {d}: {}: {}", r.location, r.message),
        None => format!("rejected: {}: {}", r.location, r.message),
    });
    let all = taken.chain(duplicates).chain(rejected);
    let mut lines: Vec<String> = Vec::new();
    let mut more = 0usize;
    for line in all {
        if lines.len() < MAX_OUTCOME_LINES {
            lines.push(match line.char_indices().nth(MAX_OUTCOME_CHARS) {
                Some((cut, _)) => format!("{}...", &line[..cut]),
                None => line,
            });
        } else {
            more += 1;
        }
    }
    if lines.is_empty() {
        lines.push("no document was read from the part read".into());
    }
    if more > 0 {
        lines.push(format!(
            "and {more} more (`gateway documents --partner <id>` lists them)"
        ));
    }
    lines
}

/// The note on a file cut short: when it was read and how much of it, what became of the
/// documents in that part, that the rest was not read, and what to do. `copy` is the copy
/// in `error/` when the file itself was archived.
fn cut_short_note(taken: &Taken, now: Seen, copy: Option<&Path>) -> String {
    use std::fmt::Write;
    let time = |t: SystemTime| chrono::DateTime::<chrono::Utc>::from(t).to_rfc3339();
    let mut text = String::new();
    let _ = writeln!(
        text,
        "{}: this file was still being written when the gateway read it",
        taken.original
    );
    let _ = writeln!(
        text,
        "The gateway read it at {}, when it held {} bytes; its writer went on writing after \
         that (it now holds {} bytes, last changed {}). Only the first {} bytes were read. What \
         was written later was NOT read: nothing of it was taken or delivered.",
        taken.read_at.to_rfc3339(),
        taken.read.size,
        now.size,
        time(now.modified),
        taken.read.size
    );
    let _ = writeln!(text, "The documents in the part read:");
    for line in &taken.outcome {
        let _ = writeln!(text, "  {line}");
    }
    if let (Some(Format::Csv), Some(last)) = (taken.format, &taken.last_taken) {
        let _ = writeln!(
            text,
            "The last document taken ({last}) may itself be incomplete: its rows written after \
             the read were not read. Compare it with what the sender sent and correct it in \
             Coupa if it is: sending it again does not change it (Coupa creates no second \
             invoice of the same supplier and number)."
        );
    }
    if taken.acknowledged {
        let _ = writeln!(
            text,
            "The acknowledgment written to Outgoing for it answers only the part read."
        );
    }
    let _ = writeln!(
        text,
        "What to do: have the sender send the rest (or the whole file: the documents already \
         taken are recognised and not delivered twice) as a new file, uploaded under a \
         temporary name (.part, .tmp) and renamed once complete, so the gateway never reads a \
         file mid-upload."
    );
    match copy {
        Some(copy) => {
            let _ = writeln!(
                text,
                "{} is a copy of the file as it was at {}; the file its writer finished is {} \
                 (its archive holds more than was read).",
                copy.display(),
                chrono::Utc::now().to_rfc3339(),
                taken.at.display()
            );
        }
        None => {
            let x12 = if taken.format == Some(Format::X12) {
                " (an X12 file cut short reads as a set, group or interchange without its end: \
                 SE, GE or IEA missing)"
            } else {
                ""
            };
            let _ = writeln!(
                text,
                "The file in error/ is the file as its writer finished it; it was incomplete \
                 when it was read, and the problems reported below are about its first {} \
                 bytes{x12}.",
                taken.read.size
            );
        }
    }
    text
}

/// The metrics kind of an acknowledgment the file drop could not write.
const ACKNOWLEDGMENT: &str = "acknowledgment";
/// The metrics kind of a file whose handling failed inside the gateway ([`drop_guard`]).
const DEFECT: &str = "defect";

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
                Err(e) => tracing::warn!(adapter = "file-drop", file = %logged(p), error = %e,
                    "cannot remove the acknowledgment kept for a finished file; removed on a later poll"),
            }
        }
    }

    /// Removes what is kept for files no longer in `dir` (finished while the removal failed),
    /// their handling marks ([`drop_guard::Handling`]) too.
    fn forget_orphans(dir: &Path) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().to_string();
            let Some(hidden) = name.strip_prefix('.') else {
                continue;
            };
            let file = [PENDING_TMP, SENT, PENDING, drop_guard::HANDLING]
                .iter()
                .find_map(|suffix| hidden.strip_suffix(suffix));
            if let Some(file) = file
                && !file.is_empty()
                && std::fs::symlink_metadata(dir.join(file)).is_err()
                && let Err(err) = std::fs::remove_file(e.path())
            {
                tracing::warn!(adapter = "file-drop", file = %logged(e.path()), error = %err,
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
/// upload names. Anything else but a folder (a symbolic link, whatever it points to, a fifo,
/// a device) is listed too, to be refused in `error/` rather than skipped silently; a link is
/// never followed.
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
            // `DirEntry::file_type` does not follow a link: a link to a folder is listed.
            match e.file_type() {
                Ok(t) if t.is_dir() => stack.push(p),
                Ok(_) => out.push(p),
                Err(_) => {}
            }
        }
    }
    out.sort();
    out
}

/// Moves `path` into `dir` as `name`, adding a counter when the name is taken.
pub(crate) fn move_into(path: &Path, dir: &Path, name: &str) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let target = free_name(dir, name);
    std::fs::rename(path, &target)?;
    Ok(target)
}

/// The name a file refused into `dir` is kept under and its report's: `name` and
/// `name.errors.txt`, or `name.<n>` and `name.<n>.errors.txt` with the first counter for which
/// neither is taken (RELIABILITY.md: a file's report is `<its name in error/>.errors.txt`). A
/// second `empty.csv` became `empty.csv.1` beside a report `1-empty.csv.errors.txt`.
fn free_report_pair(dir: &Path, name: &str) -> (PathBuf, String) {
    let taken = |n: &str| {
        std::fs::symlink_metadata(dir.join(n)).is_ok()
            || std::fs::symlink_metadata(dir.join(format!("{n}.errors.txt"))).is_ok()
    };
    let mut kept = name.to_string();
    let mut n = 1;
    while taken(&kept) {
        kept = format!("{name}.{n}");
        n += 1;
    }
    let report = format!("{kept}.errors.txt");
    (dir.join(kept), report)
}

/// Renames `path` to `target`, which must not be there (checked just before: a rename would
/// replace it).
fn rename_new(path: &Path, target: &Path) -> std::io::Result<PathBuf> {
    if std::fs::symlink_metadata(target).is_ok() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            format!("{} appeared meanwhile", target.display()),
        ));
    }
    std::fs::rename(path, target)?;
    Ok(target.to_path_buf())
}

/// `dir/name`, or `dir/name.<n>` with the first counter not taken.
fn free_name(dir: &Path, name: &str) -> PathBuf {
    let mut target = dir.join(name);
    let mut n = 1;
    // Whatever is there, a dangling link too (`exists` follows links).
    while std::fs::symlink_metadata(&target).is_ok() {
        target = dir.join(format!("{name}.{n}"));
        n += 1;
    }
    target
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
    while std::fs::symlink_metadata(&target).is_ok() {
        target = dir.join(format!("{n}-{name}"));
        n += 1;
    }
    std::fs::rename(&tmp, &target)?;
    Ok(target)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::drop_entry::MAX_KEPT_NAME;

    /// A file with a rejected row says which of its documents were taken: an operator who
    /// fixed the row and dropped the whole file again sent the taken invoices twice.
    #[test]
    fn a_report_with_rejects_names_what_was_taken_and_what_to_send_again() {
        let taken = |n: &str| gateway_core::Accepted {
            doc_id: format!("d-{n}"),
            idempotency_key: format!("k-{n}"),
            kind: "invoice".into(),
            number: n.into(),
            partner: "csvco".into(),
            same_business_key_as: None,
            notes: Vec::new(),
            attachments: Vec::new(),
        };
        let mut report = gateway_core::IngestReport {
            accepted: vec![taken("QA-CSV-1"), taken("QA-CSV-2")],
            ..Default::default()
        };
        let lines = taken_beside_rejects(&report);
        assert_eq!(lines.len(), 1);
        assert!(
            lines[0].contains("invoice QA-CSV-1, invoice QA-CSV-2")
                && lines[0].contains("send again only the rejected ones"),
            "{lines:?}"
        );
        report.accepted.clear();
        assert!(taken_beside_rejects(&report).is_empty());
    }

    /// A file with one rejected set and documents taken: the report counts the one problem,
    /// and the line naming what was taken follows it without being counted (it said
    /// "2 problem(s)" over one problem and that line).
    #[test]
    fn an_error_report_counts_only_its_problems() {
        let taken = |n: &str| gateway_core::Accepted {
            doc_id: format!("d-{n}"),
            idempotency_key: format!("k-{n}"),
            kind: "invoice".into(),
            number: n.into(),
            partner: "newco".into(),
            same_business_key_as: None,
            notes: Vec::new(),
            attachments: Vec::new(),
        };
        let report = gateway_core::IngestReport {
            accepted: vec![taken("NC-4001"), taken("NC-4003")],
            rejects: vec![gateway_core::Reject {
                location:
                    "line 14, interchange 000000401, group 401, set 0002 (810), $.lines[0].quantity"
                        .into(),
                message: "missing: quantity is required".into(),
                document: Some("NC-4002".into()),
            }],
            ..Default::default()
        };
        let names = Names {
            original: "fd_mixed.edi".into(),
            kept: "fd_mixed.edi".into(),
        };
        let (problems, notes) = rejects_report(&report);
        let text = error_report(&names, &problems, &notes);
        assert_eq!(
            text,
            "fd_mixed.edi: 1 problem(s)\n\
             line 14, interchange 000000401, group 401, set 0002 (810), $.lines[0].quantity [NC-4002]: missing: quantity is required\n\
             the other documents of this file were taken and go on to delivery: invoice NC-4001, invoice NC-4003; send again only the rejected ones, fixed, not the whole file\n"
        );
    }

    /// The claimed path is a link by the time it is opened (swapped in after every check on
    /// the name): the open refuses it, and says it was not followed.
    #[test]
    fn a_claimed_path_that_is_a_link_is_not_opened() {
        let dir = tempfile::tempdir().unwrap();
        let outside = dir.path().join("secret.csv");
        std::fs::write(&outside, "INV-OUTSIDE-1").unwrap();
        let claimed = dir.path().join("20250101T000000.000000--race.csv");
        std::os::unix::fs::symlink(&outside, &claimed).unwrap();
        match open_regular(&claimed) {
            Opened::NotRegular(why) => {
                assert!(
                    why.contains("symbolic link") && why.contains("not followed"),
                    "{why}"
                );
            }
            other => panic!("a link was opened: {other:?}"),
        }
        // A link to a folder, and a folder, neither.
        let folder = dir.path().join("folder");
        std::fs::create_dir(&folder).unwrap();
        std::os::unix::fs::symlink(&folder, dir.path().join("to-folder")).unwrap();
        for p in [dir.path().join("to-folder"), folder] {
            assert!(matches!(open_regular(&p), Opened::NotRegular(_)), "{p:?}");
        }
        assert_eq!(std::fs::read_to_string(&outside).unwrap(), "INV-OUTSIDE-1");
    }

    /// Once open, what is read is the file opened, whatever the name is made to point to
    /// afterwards; and the name is then no longer the file read, so it is not archived.
    #[test]
    fn what_is_read_is_the_file_opened_not_what_the_name_points_to_later() {
        let dir = tempfile::tempdir().unwrap();
        let outside = dir.path().join("secret.csv");
        std::fs::write(&outside, "outside").unwrap();
        let claimed = dir.path().join("claimed.csv");
        std::fs::write(&claimed, "inside!").unwrap();
        let Opened::File(file, meta) = open_regular(&claimed) else {
            panic!("a regular file was not opened");
        };
        assert!(still_the_file_read(&claimed, &meta));
        std::fs::remove_file(&claimed).unwrap();
        std::os::unix::fs::symlink(&outside, &claimed).unwrap();
        let raw = read_handle(&file, meta.len(), 1_000).unwrap();
        assert_eq!(raw, b"inside!");
        assert!(!still_the_file_read(&claimed, &meta));
    }

    /// A fifo is refused without waiting for a writer.
    #[test]
    fn a_fifo_is_not_opened() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe.csv");
        rustix::fs::mknodat(
            rustix::fs::CWD,
            &fifo,
            rustix::fs::FileType::Fifo,
            rustix::fs::Mode::from_raw_mode(0o600),
            0,
        )
        .unwrap();
        match open_regular(&fifo) {
            Opened::NotRegular(why) => assert!(why.contains("fifo"), "{why}"),
            other => panic!("{other:?}"),
        }
    }

    /// Every name the drop makes from a kept name fits in 255 bytes, however long the
    /// original; short names are kept as they are; two long names differing at their end
    /// stay apart; a multi-byte character is never cut.
    #[test]
    fn kept_names_fit_and_stay_apart() {
        assert_eq!(kept_name("invoice.csv"), "invoice.csv");
        let short = "s".repeat(MAX_KEPT_NAME);
        assert_eq!(kept_name(&short), short);
        let a = format!("{}a.edi", "é".repeat(125));
        let b = format!("{}b.edi", "é".repeat(125));
        assert!(a.len() == 255 && b.len() == 255);
        let (ka, kb) = (kept_name(&a), kept_name(&b));
        assert_ne!(ka, kb);
        for k in [&ka, &kb] {
            assert!(k.len() <= MAX_KEPT_NAME && k.ends_with(".edi"), "{k}");
            assert!(k.starts_with("éé"));
            let longest = [
                format!("20250101T000000.000000--{k}"),
                format!(".20250101T000000.000000--{k}{SENT}"),
                format!(".20250101T000000.000000--{k}{PENDING}.tmp"),
                format!(".{k}.errors.txt.tmp"),
                format!(".{k}.cut-short.tmp"),
                format!("99-{k}.errors.txt"),
            ];
            for name in longest {
                assert!(name.len() <= 255, "{} bytes: {name}", name.len());
            }
        }
        // No extension worth keeping: the hash ends the name.
        let odd = "z".repeat(300);
        assert!(kept_name(&odd).len() <= MAX_KEPT_NAME);
    }

    #[test]
    fn names_are_logged_escaped() {
        assert_eq!(
            logged("odd\nname\r\x1b[31mred.csv"),
            r"odd\nname\r\u{1b}[31mred.csv"
        );
        assert_eq!(logged(Path::new("/a/b.csv")), "/a/b.csv");
    }
}
