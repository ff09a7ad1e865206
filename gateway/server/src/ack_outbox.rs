//! The outbox of the X12 acknowledgment mails partners are owed (`<state>/x12-mail-acks/`,
//! see [`crate::mailbox::X12MailAcks`]), and `gateway acks`, its view for operators.
//!
//! Each mail is one JSON file holding the mail as made, its control numbers taken, so every
//! attempt sends the same bytes. Where the file is says who has it:
//!
//! - `<outbox>/<id>.json`: waiting. The running gateway is trying it (or a stop left it, and
//!   the next start sends it); only the one `gateway serve` of the ledger reads these.
//! - `<outbox>/given-up/<id>.json`: given up after its retries, with when and why; its
//!   documents carry a note ([`crate::mailbox::ACK_NOT_MAILED`]). Nothing sends it.
//! - `<outbox>/resend/<id>.json`: an operator asked for it again (`gateway acks resend`). The
//!   running gateway takes it by renaming it into the outbox ([`AckOutbox::claim_resends`],
//!   every `[mailbox] poll_interval_ms`, and at start), so only it ever sends it, once, and
//!   with its control numbers: the command never mails anything itself.
//!
//! The command moves a file from `given-up/` to `resend/` by a rename, under a lock of its own
//! (`<outbox>/.operator-lock`) so two operators' commands take turns; a rename either happens
//! or not, so the mail is in one place at a time.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::filedrop::{move_into, write_atomically};

/// Where given-up mails are kept.
const GIVEN_UP: &str = "given-up";
/// Where `gateway acks resend` puts mails for the running gateway to take.
const RESEND: &str = "resend";

/// An acknowledgment mail made (its control numbers taken) and not yet taken by the relay:
/// kept as it is, so every attempt sends the same bytes and no control number is used twice
/// or skipped.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct PendingAck {
    pub(crate) partner: String,
    pub(crate) to: String,
    pub(crate) subject: String,
    pub(crate) body: String,
    /// The acknowledgment mail's own Message-ID (the same on every attempt).
    pub(crate) mail_id: String,
    pub(crate) in_reply_to: Option<String>,
    /// The partner's message answered.
    pub(crate) answers: String,
    /// The interchanges acknowledged (`ACME 000000202`).
    pub(crate) interchanges: String,
    pub(crate) files: Vec<PendingFile>,
    /// The ledger keys of the documents the partner's message held, noted when given up.
    pub(crate) keys: Vec<String>,
    /// When it was made (RFC 3339); empty in files of releases that did not say.
    #[serde(default)]
    pub(crate) made_at: String,
    /// Why and when it was last given up; `None` while it is tried.
    #[serde(default)]
    pub(crate) given_up: Option<GivenUp>,
    /// When an operator asked for it again (`gateway acks resend`).
    #[serde(default)]
    pub(crate) resent_at: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct PendingFile {
    pub(crate) name: String,
    pub(crate) bytes: Vec<u8>,
}

/// Why an acknowledgment mail was given up, kept with it for `gateway acks list`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct GivenUp {
    /// RFC 3339.
    pub at: String,
    pub attempts: u32,
    /// The relay's last answer.
    pub error: String,
}

impl PendingAck {
    /// The name its file is first kept under: its Message-ID's local part.
    pub(crate) fn file_name(&self) -> String {
        format!("{}.json", self.mail_id.split('@').next().unwrap_or("ack"))
    }

    /// The attached files' names, for notes and logs.
    pub(crate) fn file_names(&self) -> String {
        self.files
            .iter()
            .map(|f| f.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Now, as the outbox's files and `gateway acks` write times.
pub(crate) fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Where an acknowledgment mail is in its life ([module documentation](self)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AckState {
    /// The running gateway is trying it, or sends it at its next start.
    Waiting,
    /// `gateway acks resend` asked for it again; the running gateway takes it.
    Queued,
    /// Given up after its retries; nothing sends it.
    GivenUp,
}

impl std::fmt::Display for AckState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            AckState::Waiting => "waiting",
            AckState::Queued => "queued",
            AckState::GivenUp => "given up",
        })
    }
}

/// One acknowledgment mail of the outbox, as `gateway acks list` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct OutboxEntry {
    /// What `gateway acks resend` takes: the file's name without `.json`.
    pub id: String,
    pub state: AckState,
    pub partner: String,
    pub to: String,
    /// The acknowledgments' own interchange control numbers (ISA13), the same at every
    /// attempt.
    pub control_numbers: Vec<String>,
    /// The attached files' names.
    pub files: Vec<String>,
    /// The partner's message answered.
    pub answers: String,
    /// The partner's interchanges acknowledged.
    pub interchanges: String,
    /// Since when it is in its state (RFC 3339): when it was given up, queued or made (the
    /// file's time where the file does not say).
    pub since: String,
    /// Why it was given up.
    pub why: Option<String>,
    pub file: PathBuf,
}

/// Why `gateway acks` could not do what was asked. Only [`OutboxError::Io`] may pass by
/// itself (a disk or permission problem once fixed); the others need another request.
#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    /// No mail of that id: retrying does not help; `gateway acks list` names them.
    #[error("no acknowledgment mail {id} in {dir}: `gateway acks list` names the ones there")]
    Unknown { id: String, dir: PathBuf },
    /// The mail is waiting or queued already: nothing to do, retrying does not help.
    #[error("acknowledgment mail {id} is {state}, not given up: {what}")]
    NotGivenUp {
        id: String,
        state: AckState,
        what: &'static str,
    },
    /// Not an id `gateway acks list` prints: retrying does not help.
    #[error(
        "{id:?} is not the id of an acknowledgment mail (as `gateway acks list` prints them: letters, digits, '.', '-' and '_')"
    )]
    BadId { id: String },
    /// `--to` is not a list of mail addresses: retrying does not help.
    #[error("--to {to:?}: not a mail address, or a comma-separated list of them")]
    BadAddress { to: String },
    /// A file of the outbox could not be read, written or moved: retrying helps once the disk
    /// or permission problem is fixed. (The cause is in the message, not a `source`, so a
    /// `{:#}` chain does not print it twice.)
    #[error("cannot {what} {path}: {cause}")]
    Io {
        what: &'static str,
        path: PathBuf,
        cause: std::io::Error,
    },
    /// The file is not an acknowledgment mail this gateway wrote: retrying does not help.
    #[error("cannot read the acknowledgment mail {path}: {reason}")]
    Unreadable { path: PathBuf, reason: String },
}

impl OutboxError {
    /// Whether the same request may succeed later without another change.
    pub fn is_retryable(&self) -> bool {
        matches!(self, OutboxError::Io { .. })
    }
}

/// The outbox folder of the acknowledgment mails ([module documentation](self)).
#[derive(Debug, Clone)]
pub struct AckOutbox {
    dir: PathBuf,
}

impl AckOutbox {
    pub fn new(dir: PathBuf) -> Self {
        AckOutbox { dir }
    }

    /// The service's outbox for `config`: `<state>/x12-mail-acks`.
    pub fn of(config: &crate::config::Config) -> Self {
        AckOutbox::new(config.state_dir().join("x12-mail-acks"))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Keeps `pending` as waiting: the path of its file.
    pub(crate) fn keep(&self, pending: &PendingAck) -> Result<PathBuf, String> {
        serde_json::to_vec(pending)
            .map_err(|e| e.to_string())
            .and_then(|bytes| {
                write_atomically(&self.dir, &pending.file_name(), &bytes).map_err(|e| e.to_string())
            })
    }

    /// The waiting mails' files, sorted.
    pub(crate) fn waiting(&self) -> Vec<PathBuf> {
        json_files(&self.dir)
    }

    /// Moves `pending` (kept at `kept`, when it was) to `given-up/`, with why (`pending`'s
    /// [`PendingAck::given_up`]): its file is written over with that and then renamed, so it
    /// is in one place at a time. Returns where it is now.
    pub(crate) fn give_up(
        &self,
        kept: Option<&Path>,
        pending: &PendingAck,
    ) -> Result<PathBuf, String> {
        let bytes = serde_json::to_vec(pending).map_err(|e| e.to_string())?;
        let given_up = self.dir.join(GIVEN_UP);
        let Some(kept) = kept else {
            return write_atomically(&given_up, &pending.file_name(), &bytes)
                .map_err(|e| e.to_string());
        };
        let name = kept
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| pending.file_name());
        replace_file(kept, &bytes).map_err(|e| e.to_string())?;
        move_into(kept, &given_up, &name).map_err(|e| e.to_string())
    }

    /// Takes every mail `gateway acks resend` queued, by renaming it into the outbox: the
    /// caller (the one running gateway) then sends each as a waiting one. Returns their new
    /// paths; one that cannot be moved is logged and left for the next call.
    pub(crate) fn claim_resends(&self) -> Vec<PathBuf> {
        let mut claimed = Vec::new();
        for path in json_files(&self.dir.join(RESEND)) {
            let Some(name) = path.file_name() else {
                continue;
            };
            let target = self.dir.join(name);
            if std::fs::symlink_metadata(&target).is_ok() {
                tracing::warn!(adapter = "email", file = %path.display(),
                    waiting = %target.display(),
                    "an acknowledgment mail queued again has the name of one waiting; it is left \
                     where it is");
                continue;
            }
            match std::fs::rename(&path, &target) {
                Ok(()) => claimed.push(target),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => tracing::warn!(adapter = "email", file = %path.display(),
                    error = %e, "cannot take an acknowledgment mail queued again; tried again later"),
            }
        }
        claimed
    }

    /// Every mail of the outbox: waiting, queued, then given up, each sorted by id; and the
    /// files that could not be read.
    pub fn list(&self) -> (Vec<OutboxEntry>, Vec<OutboxError>) {
        let mut entries = Vec::new();
        let mut problems = Vec::new();
        for (dir, state) in [
            (self.dir.clone(), AckState::Waiting),
            (self.dir.join(RESEND), AckState::Queued),
            (self.dir.join(GIVEN_UP), AckState::GivenUp),
        ] {
            for path in json_files(&dir) {
                match read(&path) {
                    Ok(pending) => entries.push(entry(path, state, &pending)),
                    // Sent or moved meanwhile.
                    Err(OutboxError::Io { cause, .. })
                        if cause.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => problems.push(e),
                }
            }
        }
        (entries, problems)
    }

    /// The ids of the given-up mails.
    pub fn given_up_ids(&self) -> Vec<String> {
        json_files(&self.dir.join(GIVEN_UP))
            .iter()
            .filter_map(|p| id_of(p))
            .collect()
    }

    /// Queues given-up mail `id` for the running gateway to send as it is (its bytes and
    /// control numbers), to `to` instead of its address when given (one address or a
    /// comma-separated list). Returns it as queued.
    pub fn resend(&self, id: &str, to: Option<&str>) -> Result<OutboxEntry, OutboxError> {
        let name = file_name_of(id)?;
        if let Some(to) = to
            && !is_address_list(to)
        {
            return Err(OutboxError::BadAddress { to: to.to_string() });
        }
        let _turn = self.operator_turn()?;
        let from = self.dir.join(GIVEN_UP).join(&name);
        if std::fs::symlink_metadata(&from).is_err() {
            return Err(self.not_given_up(id, &name));
        }
        let mut pending = read(&from)?;
        pending.resent_at = Some(now());
        if let Some(to) = to {
            pending.to = to.trim().to_string();
        }
        let bytes = serde_json::to_vec(&pending).map_err(|e| OutboxError::Unreadable {
            path: from.clone(),
            reason: e.to_string(),
        })?;
        replace_file(&from, &bytes).map_err(io("write", &from))?;
        let queue = self.dir.join(RESEND);
        std::fs::create_dir_all(&queue).map_err(io("create", &queue))?;
        let target = queue.join(&name);
        if std::fs::symlink_metadata(&target).is_ok() {
            return Err(OutboxError::NotGivenUp {
                id: id.to_string(),
                state: AckState::Queued,
                what: "another copy of it is queued already",
            });
        }
        std::fs::rename(&from, &target).map_err(io("move", &from))?;
        Ok(entry(target, AckState::Queued, &pending))
    }

    /// Why `name` is not in `given-up/`: it is waiting or queued, or unknown.
    fn not_given_up(&self, id: &str, name: &str) -> OutboxError {
        let id = id.to_string();
        if self.dir.join(name).is_file() {
            OutboxError::NotGivenUp {
                id,
                state: AckState::Waiting,
                what: "the running gateway is trying it (or sends it at its next start)",
            }
        } else if self.dir.join(RESEND).join(name).is_file() {
            OutboxError::NotGivenUp {
                id,
                state: AckState::Queued,
                what: "it was queued again already; the running gateway sends it",
            }
        } else {
            OutboxError::Unknown {
                id,
                dir: self.dir.clone(),
            }
        }
    }

    /// Operators' commands on the outbox take turns: held until dropped.
    fn operator_turn(&self) -> Result<File, OutboxError> {
        std::fs::create_dir_all(&self.dir).map_err(io("create", &self.dir))?;
        let path = self.dir.join(".operator-lock");
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io("open", &path))?;
        file.lock().map_err(io("lock", &path))?;
        Ok(file)
    }
}

/// The outbox file named by `id` as `gateway acks list` prints it (a file name or Message-ID
/// given for it is taken too), refusing anything that could name another file.
fn file_name_of(id: &str) -> Result<String, OutboxError> {
    let bare = id.trim();
    let bare = bare.strip_suffix(".json").unwrap_or(bare);
    let bare = bare.split('@').next().unwrap_or(bare);
    let fits = !bare.is_empty()
        && !bare.starts_with('.')
        && bare
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
    if fits {
        Ok(format!("{bare}.json"))
    } else {
        Err(OutboxError::BadId { id: id.to_string() })
    }
}

/// Whether `to` is a mail address or a comma-separated list of them, as the mail is written.
fn is_address_list(to: &str) -> bool {
    let mut any = false;
    for addr in to.split(',').map(str::trim).filter(|a| !a.is_empty()) {
        if addr
            .parse::<adapter_email::lettre::message::Mailbox>()
            .is_err()
        {
            return false;
        }
        any = true;
    }
    any
}

fn io(what: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> OutboxError {
    let path = path.to_path_buf();
    move |cause| OutboxError::Io { what, path, cause }
}

/// Reads the mail kept at `path`.
pub(crate) fn read(path: &Path) -> Result<PendingAck, OutboxError> {
    let bytes = std::fs::read(path).map_err(io("read", path))?;
    serde_json::from_slice(&bytes).map_err(|e| OutboxError::Unreadable {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

/// Writes `bytes` over the file at `path` in one step (a synced file renamed over it).
fn replace_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp"));
    {
        let mut f = File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)
}

/// The id of the mail kept at `path`: its file name without `.json`.
fn id_of(path: &Path) -> Option<String> {
    Some(path.file_stem()?.to_string_lossy().into_owned())
}

/// `pending`, kept at `path` in `state`, for operators.
fn entry(path: PathBuf, state: AckState, pending: &PendingAck) -> OutboxEntry {
    let stated = match state {
        AckState::GivenUp => pending.given_up.as_ref().map(|g| g.at.clone()),
        AckState::Queued => pending.resent_at.clone(),
        AckState::Waiting => Some(pending.made_at.clone()).filter(|t| !t.is_empty()),
    };
    let since = stated.unwrap_or_else(|| {
        std::fs::metadata(&path)
            .and_then(|m| m.modified())
            .map(|t| {
                chrono::DateTime::<chrono::Utc>::from(t)
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            })
            .unwrap_or_default()
    });
    let why = match (state, &pending.given_up) {
        (AckState::GivenUp, Some(g)) => Some(format!(
            "the relay refused it {} time(s), last with: {}",
            g.attempts, g.error
        )),
        (AckState::GivenUp, None) => Some(
            "given up by a release that did not keep why: see the note on its documents \
             (gateway documents --noted)"
                .to_string(),
        ),
        _ => None,
    };
    OutboxEntry {
        id: id_of(&path).unwrap_or_default(),
        state,
        partner: pending.partner.clone(),
        to: pending.to.clone(),
        control_numbers: pending
            .files
            .iter()
            .flat_map(|f| adapter_x12::envelope::interchange_ids(&f.bytes))
            .map(|(_, control)| control)
            .collect(),
        files: pending.files.iter().map(|f| f.name.clone()).collect(),
        answers: pending.answers.clone(),
        interchanges: pending.interchanges.clone(),
        since,
        why,
        file: path,
    }
}

/// The `.json` files directly in `dir`, sorted, without dot files (a write in progress).
fn json_files(dir: &Path) -> Vec<PathBuf> {
    crate::mailbox::list(dir)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect()
}

/// `gateway acks list`: each mail (JSON Lines with `json`), then how many in each state.
pub fn print_list(
    entries: &[OutboxEntry],
    json: bool,
    out: &mut impl Write,
) -> std::io::Result<()> {
    if json {
        for e in entries {
            serde_json::to_writer(&mut *out, e)?;
            writeln!(out)?;
        }
        return Ok(());
    }
    for e in entries {
        let numbers = if e.control_numbers.is_empty() {
            "(no ISA header)".to_string()
        } else {
            e.control_numbers.join(", ")
        };
        writeln!(
            out,
            "{}  {} since {}  partner {}  to {}  ISA13 {}",
            e.id, e.state, e.since, e.partner, e.to, numbers
        )?;
        writeln!(
            out,
            "    answers message {} (interchange {}): {}",
            e.answers,
            e.interchanges,
            e.files.join(", ")
        )?;
        if let Some(why) = &e.why {
            writeln!(out, "    why: {why}")?;
        }
    }
    let count = |s: AckState| entries.iter().filter(|e| e.state == s).count();
    let given_up = count(AckState::GivenUp);
    writeln!(
        out,
        "{} acknowledgment mail(s): {} waiting, {} queued again, {} given up{}",
        entries.len(),
        count(AckState::Waiting),
        count(AckState::Queued),
        given_up,
        if given_up > 0 {
            " (gateway acks resend ID, or --all-given-up)"
        } else {
            ""
        }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending(id: &str) -> PendingAck {
        PendingAck {
            partner: "acme".into(),
            to: "edi@acme.example".into(),
            subject: "Acknowledgment".into(),
            body: "body".into(),
            mail_id: format!("{id}@coupa-gateway"),
            in_reply_to: None,
            answers: "<m1@acme.example>".into(),
            interchanges: "ZZ:ACME 000000202".into(),
            files: vec![PendingFile {
                name: "INV-1.ack.edi".into(),
                bytes: b"ISA*00*          *00*          *ZZ*COUPAGW        *ZZ*ACME           *261205*1200*U*00401*000000042*0*P*>~".to_vec(),
            }],
            keys: vec!["k1".into()],
            made_at: now(),
            given_up: None,
            resent_at: None,
        }
    }

    /// A given-up mail is queued once: the command moves it, a second command finds it queued
    /// (not a second copy), the gateway's claim takes it into the outbox, and an id that could
    /// name another file is refused.
    #[test]
    fn a_given_up_mail_is_queued_once_and_taken_by_the_gateway() {
        let dir = tempfile::tempdir().unwrap();
        let outbox = AckOutbox::new(dir.path().join("x12-mail-acks"));
        let mut p = pending("ack.1");
        let kept = outbox.keep(&p).unwrap();
        p.given_up = Some(GivenUp {
            at: now(),
            attempts: 3,
            error: "421 busy".into(),
        });
        outbox.give_up(Some(&kept), &p).unwrap();
        assert!(!kept.exists());
        let (listed, problems) = outbox.list();
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].state, AckState::GivenUp);
        assert_eq!(listed[0].control_numbers, vec!["000000042".to_string()]);
        assert!(listed[0].why.as_deref().unwrap().contains("3 time(s)"));
        assert_eq!(outbox.given_up_ids(), vec!["ack.1".to_string()]);

        let queued = outbox.resend("ack.1", Some("new@acme.example")).unwrap();
        assert_eq!(queued.state, AckState::Queued);
        assert_eq!(queued.to, "new@acme.example");
        let again = outbox.resend("ack.1", None).err().unwrap();
        assert!(
            matches!(
                again,
                OutboxError::NotGivenUp {
                    state: AckState::Queued,
                    ..
                }
            ),
            "{again}"
        );
        let claimed = outbox.claim_resends();
        assert_eq!(claimed, vec![outbox.dir().join("ack.1.json")]);
        assert!(outbox.claim_resends().is_empty());
        assert_eq!(read(&claimed[0]).unwrap().to, "new@acme.example");
        let waiting = outbox.resend("ack.1.json", None).err().unwrap();
        assert!(
            matches!(
                waiting,
                OutboxError::NotGivenUp {
                    state: AckState::Waiting,
                    ..
                }
            ),
            "{waiting}"
        );
        for bad in ["../ack.1", ".operator-lock", ""] {
            assert!(
                matches!(outbox.resend(bad, None), Err(OutboxError::BadId { .. })),
                "{bad}"
            );
        }
        assert!(matches!(
            outbox.resend("ack.2", None),
            Err(OutboxError::Unknown { .. })
        ));
    }
}
