//! Retention: what the gateway keeps on disk, and for how long, so a busy gateway does not
//! fill its disk with what nobody needs any more.
//!
//! Removed after their time (`[retention]`, or `gateway prune`):
//! - `<partner>/archive/<date>/` of the file drop: inputs already read, published and
//!   acknowledged. The day's folder goes as a whole once `archive_days` have passed.
//! - Maildir `cur/`: mails whose documents the bus confirmed, `mail_days` after they arrived.
//! - The attachment store: a file no document needs any more. A file is needed while one of
//!   its documents is not yet delivered (a dead letter can be replayed) and for
//!   `attachment_days` after the last one was done with; a file no document names (a crash
//!   between storing it and recording it) goes once it is that old too.
//!
//! Never removed: the ledger (it is the idempotency record: a resent invoice must stay a
//! duplicate however old it is), `error/` and `quarantine/` (each waits for an operator; the
//! report counts them), what waits in `Incoming` and `Outgoing`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::ledger::Ledger;

const DAY: Duration = Duration::from_secs(24 * 60 * 60);

/// `[retention]`: days each kind of file is kept (0: forever), and how often the running
/// service prunes.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetentionConfig {
    /// Days a day's folder of `<partner>/archive/` is kept.
    pub archive_days: u32,
    /// Days a mail stays in the Maildir's `cur/` after it arrived.
    pub mail_days: u32,
    /// Days an invoice's files stay in the attachment store after its last document was done
    /// with (delivered, purged or refused).
    pub attachment_days: u32,
    /// How often `gateway serve` prunes; 0: only `gateway prune` does.
    pub interval_ms: u64,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        RetentionConfig {
            archive_days: 90,
            mail_days: 90,
            attachment_days: 30,
            interval_ms: 60 * 60 * 1000,
        }
    }
}

/// What one pruning removed (or, in a dry run, would remove) and what it kept on purpose.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct PruneReport {
    pub dry_run: bool,
    /// Day folders of the file drop's archives.
    pub archive_folders: Vec<PathBuf>,
    pub archive_files: u64,
    pub archive_bytes: u64,
    pub mail_files: u64,
    pub mail_bytes: u64,
    pub attachment_files: u64,
    pub attachment_bytes: u64,
    /// Stored files kept because a document may still need them.
    pub attachments_in_use: u64,
    /// Stored files a crash had left set aside, put back.
    pub attachments_restored: usize,
    /// Folders that wait for an operator, never pruned, with the files in them.
    pub waiting: Vec<Waiting>,
    /// What could not be read or removed; the rest was still pruned.
    pub problems: Vec<String>,
}

/// A folder never pruned because what is in it waits for an operator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Waiting {
    /// `acme/error`, or the mail quarantine's path.
    pub folder: String,
    pub files: u64,
}

impl PruneReport {
    /// Whether anything was (or would be) removed.
    pub fn removed_anything(&self) -> bool {
        self.archive_files + self.mail_files + self.attachment_files > 0
            || !self.archive_folders.is_empty()
    }

    /// The report as an operator reads it.
    pub fn render(&self) -> String {
        let verb = if self.dry_run {
            "would remove"
        } else {
            "removed"
        };
        let mut out = format!(
            "archive: {verb} {} day folder(s), {} file(s), {}\n\
             mail: {verb} {} message(s), {}\n\
             attachments: {verb} {} file(s), {}; kept {} a document may still need\n",
            self.archive_folders.len(),
            self.archive_files,
            bytes(self.archive_bytes),
            self.mail_files,
            bytes(self.mail_bytes),
            self.attachment_files,
            bytes(self.attachment_bytes),
            self.attachments_in_use,
        );
        for f in &self.archive_folders {
            out.push_str(&format!("  {verb}: {}\n", f.display()));
        }
        if self.attachments_restored > 0 {
            out.push_str(&format!(
                "attachments: put back {} file(s) an interrupted pruning had set aside\n",
                self.attachments_restored
            ));
        }
        for w in &self.waiting {
            out.push_str(&format!(
                "waiting for an operator (never pruned): {}: {} file(s)\n",
                w.folder, w.files
            ));
        }
        for p in &self.problems {
            out.push_str(&format!("problem: {p}\n"));
        }
        out
    }
}

fn bytes(n: u64) -> String {
    const MIB: u64 = 1024 * 1024;
    if n >= MIB {
        format!("{:.1} MiB", n as f64 / MIB as f64)
    } else {
        format!("{n} bytes")
    }
}

/// Prunes what `config` keeps past its time, as of `now`; `dry_run` removes nothing and
/// reports what it would remove. Problems are reported, not fatal: one unreadable folder
/// does not stop the others from being pruned.
pub fn prune(config: &Config, ledger: &Ledger, now: SystemTime, dry_run: bool) -> PruneReport {
    let r = &config.retention;
    let mut report = PruneReport {
        dry_run,
        ..PruneReport::default()
    };
    if let Some(fd) = &config.file_drop {
        prune_archives(&fd.root, r.archive_days, now, &mut report);
    }
    if let Some(maildir) = config.mailbox.as_ref().and_then(|m| m.maildir.as_ref()) {
        prune_mail(maildir, r.mail_days, now, &mut report);
    }
    prune_attachments(
        &gateway_core::AttachmentStore::new(config.attachments_dir()),
        ledger,
        r.attachment_days,
        now,
        &mut report,
    );
    report
}

fn days_before(now: SystemTime, days: u32) -> SystemTime {
    now.checked_sub(DAY * days)
        .unwrap_or(SystemTime::UNIX_EPOCH)
}

/// Each partner's `archive/<YYYY-MM-DD>/` older than `days`, and the `error/` folders that
/// wait for an operator.
fn prune_archives(root: &Path, days: u32, now: SystemTime, report: &mut PruneReport) {
    let Ok(partners) = std::fs::read_dir(root) else {
        return;
    };
    let oldest_kept = chrono::DateTime::<chrono::Utc>::from(days_before(now, days)).date_naive();
    let mut partners: Vec<_> = partners.flatten().map(|e| e.path()).collect();
    partners.sort();
    for partner in partners {
        let name = partner
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        let waiting = count_waiting(&partner.join("error"));
        if waiting.0 > 0 {
            report.waiting.push(Waiting {
                folder: format!("{name}/error"),
                files: waiting.0,
            });
        }
        if days == 0 {
            continue;
        }
        let Ok(day_folders) = std::fs::read_dir(partner.join("archive")) else {
            continue;
        };
        let mut old: Vec<PathBuf> = day_folders
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .filter(|e| {
                chrono::NaiveDate::parse_from_str(&e.file_name().to_string_lossy(), "%Y-%m-%d")
                    .is_ok_and(|d| d < oldest_kept)
            })
            .map(|e| e.path())
            .collect();
        old.sort();
        for folder in old {
            let (files, size) = count_files(&folder);
            if !dry_run_or(report.dry_run, || std::fs::remove_dir_all(&folder)) {
                report
                    .problems
                    .push(format!("cannot remove {}", folder.display()));
                continue;
            }
            report.archive_files += files;
            report.archive_bytes += size;
            report.archive_folders.push(folder);
        }
    }
}

/// Mails in `cur/` that arrived more than `days` ago, and the quarantined ones waiting.
fn prune_mail(maildir: &Path, days: u32, now: SystemTime, report: &mut PruneReport) {
    let quarantined = count_waiting(&maildir.join("quarantine"));
    if quarantined.0 > 0 {
        report.waiting.push(Waiting {
            folder: maildir.join("quarantine").display().to_string(),
            files: quarantined.0,
        });
    }
    if days == 0 {
        return;
    }
    let cutoff = days_before(now, days);
    let Ok(entries) = std::fs::read_dir(maildir.join("cur")) else {
        return;
    };
    for entry in entries.flatten() {
        let Ok(meta) = entry.metadata() else { continue };
        if !meta.is_file() || !meta.modified().is_ok_and(|m| m < cutoff) {
            continue;
        }
        let path = entry.path();
        if !dry_run_or(report.dry_run, || std::fs::remove_file(&path)) {
            report
                .problems
                .push(format!("cannot remove {}", path.display()));
            continue;
        }
        report.mail_files += 1;
        report.mail_bytes += meta.len();
    }
}

/// Stored files no document needs, older than `days`.
fn prune_attachments(
    store: &gateway_core::AttachmentStore,
    ledger: &Ledger,
    days: u32,
    now: SystemTime,
    report: &mut PruneReport,
) {
    if days == 0 {
        return;
    }
    let cutoff = days_before(now, days);
    if !report.dry_run {
        match store.recover(cutoff) {
            Ok(n) => report.attachments_restored = n,
            Err(e) => report.problems.push(e.to_string()),
        }
    }
    let in_use = match ledger.attachment_hashes_in_use(cutoff) {
        Ok(h) => h,
        Err(e) => {
            // Without knowing what is in use, nothing is removed.
            report
                .problems
                .push(format!("ledger: {e}; no attachment removed"));
            return;
        }
    };
    let stored = match store.stored() {
        Ok(s) => s,
        Err(e) => {
            report.problems.push(e.to_string());
            return;
        }
    };
    for file in stored {
        if in_use.contains(&file.sha256) {
            report.attachments_in_use += 1;
            continue;
        }
        if file.modified >= cutoff {
            continue;
        }
        let removed = if report.dry_run {
            Ok(true)
        } else {
            store.remove_unless_touched_since(&file.sha256, cutoff)
        };
        match removed {
            Ok(true) => {
                report.attachment_files += 1;
                report.attachment_bytes += file.size;
            }
            Ok(false) => {}
            Err(e) => report.problems.push(e.to_string()),
        }
    }
}

/// Runs `remove` unless this is a dry run; true when nothing failed.
fn dry_run_or(dry_run: bool, remove: impl FnOnce() -> std::io::Result<()>) -> bool {
    dry_run || remove().is_ok()
}

/// Files waiting for an operator under `dir` (an `error/` folder, the mail quarantine): the
/// files themselves, not the `<name>.errors.txt` or `<name>.reason.txt` the gateway wrote
/// beside each to say why, so one refused file counts once.
fn count_waiting(dir: &Path) -> (u64, u64) {
    let (files, bytes) = count_files(dir);
    let (notes, note_bytes) = count_matching(dir, &|name: &str| {
        name.ends_with(".errors.txt") || name.ends_with(".reason.txt")
    });
    (
        files.saturating_sub(notes),
        bytes.saturating_sub(note_bytes),
    )
}

/// Files under `dir` (recursively) whose names `keep` accepts, and their total size.
fn count_matching(dir: &Path, keep: &dyn Fn(&str) -> bool) -> (u64, u64) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return (0, 0);
    };
    let mut total = (0, 0);
    for entry in entries.flatten() {
        match entry.metadata() {
            Ok(m) if m.is_dir() => {
                let (n, b) = count_matching(&entry.path(), keep);
                total.0 += n;
                total.1 += b;
            }
            Ok(m) if keep(&entry.file_name().to_string_lossy()) => {
                total.0 += 1;
                total.1 += m.len();
            }
            _ => {}
        }
    }
    total
}

/// Files under `dir` (recursively) and their total size; (0, 0) when it is not there.
fn count_files(dir: &Path) -> (u64, u64) {
    count_matching(dir, &|_| true)
}

/// The service's pruning: once at start, then every `every`, until `stop`.
pub async fn run(
    config: Config,
    ledger: Arc<Ledger>,
    every: Duration,
    stop: impl std::future::Future<Output = ()>,
) {
    tokio::pin!(stop);
    let config = Arc::new(config);
    loop {
        let (c, l) = (Arc::clone(&config), Arc::clone(&ledger));
        match tokio::task::spawn_blocking(move || prune(&c, &l, SystemTime::now(), false)).await {
            Ok(report) => {
                gateway_core::metrics::set_files_waiting(
                    &report
                        .waiting
                        .iter()
                        .map(|w| (w.folder.clone(), w.files))
                        .collect::<Vec<_>>(),
                );
                if report.removed_anything() {
                    tracing::info!(
                        adapter = "retention",
                        archive_folders = report.archive_folders.len(),
                        archive_files = report.archive_files,
                        mail_files = report.mail_files,
                        attachment_files = report.attachment_files,
                        "pruned what was kept past its time"
                    );
                }
                for p in &report.problems {
                    tracing::warn!(adapter = "retention", problem = %p, "pruning could not finish everything");
                }
            }
            Err(e) => tracing::error!(adapter = "retention", error = %e, "pruning stopped"),
        }
        tokio::select! {
            _ = &mut stop => return,
            _ = tokio::time::sleep(every) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::{Claim, NewDocument, Status};

    fn config(dir: &Path) -> Config {
        let d = dir.display();
        Config::parse(
            &format!(
                r#"
[ledger]
path = "{d}/ledger.sqlite"
[file_drop]
root = "{d}/sftp"
[mailbox]
maildir = "{d}/mail"
[coupa]
base_url = "http://127.0.0.1:9"
client_id = "x"
client_secret = "y"
"#
            ),
            "test",
            std::iter::empty(),
        )
        .unwrap_or_else(|e| panic!("{e}"))
    }

    fn write(path: &Path, body: &[u8], modified: SystemTime) {
        std::fs::create_dir_all(path.parent().unwrap_or(Path::new("."))).expect("mkdir");
        std::fs::write(path, body).expect("write");
        gateway_core::testkit::set_modified(path, modified).expect("mtime");
    }

    fn pdf(body: &[u8]) -> gateway_core::SupportingFile {
        gateway_core::SupportingFile::received("INV-1.pdf", "application/pdf", body.to_vec())
    }

    /// Pruning a month from now: what is past its time goes, what a document may still need
    /// or an operator must look at stays, and a dry run removes nothing but says the same.
    #[test]
    fn what_is_past_its_time_goes_and_the_rest_stays() {
        let dir = tempfile::tempdir().expect("temp dir");
        let c = config(dir.path());
        let ledger = Ledger::open(&c.ledger.path).expect("ledger");
        let now = SystemTime::now();
        let later = now + DAY * 31;
        let sftp = dir.path().join("sftp");
        let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
        write(&sftp.join("acme/archive/2020-01-01/a.edi"), b"ISA 1", now);
        write(&sftp.join("acme/archive/2020-01-01/b.edi"), b"ISA 22", now);
        write(
            &sftp.join(format!("acme/archive/{today}/c.edi")),
            b"ISA",
            now,
        );
        write(&sftp.join("acme/archive/notes/old.txt"), b"mine", now);
        write(&sftp.join("acme/error/bad.csv"), b"x", now);
        // What the gateway writes beside a file it could not take explains it; it is not a
        // second file waiting.
        write(&sftp.join("acme/error/bad.csv.errors.txt"), b"why", now);
        let mail = dir.path().join("mail");
        write(&mail.join("cur/old:2,S"), b"From: a", now - DAY * 100);
        write(&mail.join("cur/new:2,S"), b"From: b", now);
        write(&mail.join("quarantine/q.eml"), b"?", now);
        write(&mail.join("quarantine/q.eml.reason.txt"), b"why", now);

        // One file a dead letter needs, one a delivered invoice needed, one no document names,
        // and one stored after the pruning's cutoff.
        let store = gateway_core::AttachmentStore::new(c.attachments_dir());
        let mut refs = Vec::new();
        for (key, status, body) in [
            ("dead", Status::Dead, &b"%PDF dead"[..]),
            ("done", Status::Delivered, &b"%PDF done"[..]),
        ] {
            let doc = NewDocument {
                idempotency_key: key,
                doc_id: key,
                adapter: "email",
                partner: "acme",
                kind: "invoice",
                number: key,
                business_key: None,
            };
            assert_eq!(ledger.claim(&doc).expect("claim"), Claim::New);
            let r = store.put(&pdf(body)).expect("put");
            ledger
                .record_attachments(key, std::slice::from_ref(&r))
                .expect("record");
            ledger.set_status(key, status, "").expect("status");
            refs.push(r);
        }
        let orphan = store.put(&pdf(b"%PDF orphan")).expect("put");
        let fresh = store.put(&pdf(b"%PDF fresh")).expect("put");
        let path = |r: &gateway_core::AttachmentRef| {
            c.attachments_dir()
                .join(&r.sha256[..2])
                .join(format!("{}.bin", r.sha256))
        };
        write(&path(&fresh), b"%PDF fresh", later);

        let dry = prune(&c, &ledger, later, true);
        assert!(dry.dry_run && dry.problems.is_empty(), "{dry:?}");
        assert!(sftp.join("acme/archive/2020-01-01/a.edi").exists());
        assert!(mail.join("cur/old:2,S").exists());
        assert_eq!(store.stored().expect("list").len(), 4);

        let done = prune(&c, &ledger, later, false);
        assert_eq!(
            PruneReport {
                dry_run: true,
                ..done.clone()
            },
            dry,
            "the dry run says what the real one does"
        );
        assert_eq!(
            done.archive_folders,
            vec![sftp.join("acme/archive/2020-01-01")]
        );
        assert_eq!((done.archive_files, done.archive_bytes), (2, 11));
        assert!(!sftp.join("acme/archive/2020-01-01").exists());
        assert!(sftp.join(format!("acme/archive/{today}/c.edi")).exists());
        assert!(sftp.join("acme/archive/notes/old.txt").exists());
        assert_eq!((done.mail_files, done.mail_bytes), (1, 7));
        assert!(!mail.join("cur/old:2,S").exists());
        assert!(mail.join("cur/new:2,S").exists());
        assert_eq!(done.attachment_files, 2, "{done:?}");
        assert_eq!(done.attachments_in_use, 1, "{done:?}");
        assert!(store.get(&refs[0]).is_ok(), "the dead letter's file stays");
        assert!(store.get(&refs[1]).is_err(), "the delivered one's goes");
        assert!(store.get(&orphan).is_err());
        assert!(store.get(&fresh).is_ok());
        assert_eq!(done.waiting.len(), 2, "{done:?}");
        assert_eq!(
            (done.waiting[0].folder.as_str(), done.waiting[0].files),
            ("acme/error", 1)
        );
        assert!(done.waiting[1].folder.ends_with("quarantine"), "{done:?}");
        assert_eq!(done.waiting[1].files, 1);
        let text = done.render();
        assert!(
            text.contains("archive: removed 1 day folder(s), 2 file(s), 11 bytes"),
            "{text}"
        );
        assert!(
            text.contains("waiting for an operator (never pruned): acme/error: 1 file(s)"),
            "{text}"
        );

        // Pruned today instead: the delivered invoice's file would have been kept a month.
        let again = prune(&c, &ledger, now, false);
        assert!(!again.removed_anything(), "{again:?}");
    }

    #[test]
    fn zero_days_keeps_everything() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut c = config(dir.path());
        c.retention = RetentionConfig {
            archive_days: 0,
            mail_days: 0,
            attachment_days: 0,
            interval_ms: 0,
        };
        let ledger = Ledger::open(&c.ledger.path).expect("ledger");
        let now = SystemTime::now();
        write(
            &dir.path().join("sftp/acme/archive/2020-01-01/a.edi"),
            b"ISA",
            now,
        );
        write(
            &dir.path().join("mail/cur/old:2,S"),
            b"From",
            now - DAY * 1000,
        );
        let store = gateway_core::AttachmentStore::new(c.attachments_dir());
        store.put(&pdf(b"%PDF")).expect("put");
        let r = prune(&c, &ledger, now + DAY * 10_000, false);
        assert!(!r.removed_anything() && r.problems.is_empty(), "{r:?}");
        assert!(
            dir.path()
                .join("sftp/acme/archive/2020-01-01/a.edi")
                .exists()
        );
        assert_eq!(store.stored().expect("list").len(), 1);
    }
}
