//! Invoices by e-mail: a Maildir inbox read through the shared [`Pipeline`], and purchase orders
//! mailed to suppliers whose channel is `email`.
//!
//! A message's life: delivered by the MTA into `<maildir>/new/` (Maildir writes into `tmp/` and
//! renames, so `new/` only ever holds complete messages) → claimed by an atomic rename into
//! `<maildir>/processing/` → its sender mapped to a partner through the profiles' `[email]`
//! allow-lists → ingested (adapter `email`) → moved to `cur/` with the Seen flag once the bus
//! confirmed every document, or to `quarantine/` with `<name>.reason.txt` beside it (unknown
//! sender, failed authentication, no usable attachment, any rejected attachment). When the bus
//! or ledger is unavailable the message stays in `processing/`, which every poll resumes first;
//! the ledger's idempotency keys (Message-ID + attachment hash) keep a message that is read
//! twice from creating anything twice.
//!
//! An IMAP inbox ([`ImapReader`]) follows the same rules: unseen messages are read with
//! `BODY.PEEK[]`, marked `\Seen` after the bus confirmed, or moved to the quarantine folder with
//! a note giving the reason; what the bus could not take stays unseen.
//!
//! A quarantined message from a partner's own sender (allowed by its `[email]` list and
//! authenticated as the profile requires) is answered, when `[mailbox.smtp]` is set and
//! `tell_senders` is not turned off, with a plain-text reply saying what was wrong and what went
//! through anyway, as a cXML or X12 sender learns it from its answer or 997. An unknown or
//! unauthenticated sender is never answered: a forged `From` must not make the gateway mail
//! a stranger.
//!
//! X12 mailed by a partner is acknowledged by mail, as a dropped file or `POST /x12` is
//! ([`X12MailAcks`], when `[mailbox.smtp]` is set): once the bus confirmed what the message
//! held, each X12 attachment whose interchanges' ISA senders name the partner the message came
//! from (its own, authenticated sender) gets its 997/999/TA1, numbered by that partner's
//! control numbers as the other channels' are, in one reply to the partner's configured
//! address (`[partners.outbound] type = "email"`), else to the sender. An interchange of an
//! unknown sender, or of another partner, is never acknowledged. The reply goes after the
//! message was marked seen (or quarantined): a message kept for the next poll is not answered
//! twice. An acknowledgment the relay does not take is tried again in the background with
//! the same bytes (its control numbers taken once, so the partner sees no gap), with back-off
//! for a bounded time ([`AckRetry`]), kept meanwhile under `<state>/x12-mail-acks/`
//! ([`crate::ack_outbox`]) so a restart sends it; one finally given up is logged, counted
//! (`gateway_documents_failed_total{adapter="email",kind="acknowledgment"}`) and noted on the
//! message's documents in the ledger ([`ACK_NOT_MAILED`]: `gateway documents` shows it with the
//! command that sends it again, `gateway partners` counts them). `gateway acks list` shows the
//! mails waiting and given up, and `gateway acks resend` queues a given-up one for the running
//! gateway, which takes it within its poll interval and mails it as it was (its control
//! numbers kept); once the relay takes it, its documents' note says it was mailed late and
//! `gateway partners` no longer counts them. The documents stay taken and the message read
//! either way, and the partner's resend of the interchange is answered (its documents not
//! taken twice).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use adapter_email::{
    ImapConfig, ImapInbox, Limits, ParsedMail, PoMail, SenderError, SmtpConfig, SmtpMailer,
    check_sender,
};
use gateway_core::metrics::{self, Counter};
use gateway_core::profile::OutboundChannel;
use gateway_core::{DeliveryError, Envelope, Format, IngestRequest, PartnerProfile};
use gateway_model::Document;
use serde::Deserialize;

use crate::ack_outbox::{AckOutbox, GivenUp, PendingAck, PendingFile};
use crate::codecs::Codecs;
use crate::filedrop::{move_into, write_atomically};
use crate::pipeline::Pipeline;
use crate::x12_senders::X12Senders;

/// The metrics kind of an acknowledgment the relay did not take.
const ACKNOWLEDGMENT: &str = "acknowledgment";

/// `[mailbox]` in `gateway.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailboxConfig {
    /// The Maildir the MTA delivers invoice mail into (`new/` is read).
    #[serde(default)]
    pub maildir: Option<PathBuf>,
    #[serde(default = "default_poll")]
    pub poll_interval_ms: u64,
    /// Larger messages are quarantined unread.
    #[serde(default = "default_max_message")]
    pub max_message_bytes: usize,
    /// The relay purchase orders to `email` partners are sent through.
    #[serde(default)]
    pub smtp: Option<SmtpConfig>,
    /// An IMAP inbox read like the Maildir (unseen messages; `\Seen` after the bus confirmed).
    #[serde(default)]
    pub imap: Option<ImapConfig>,
    /// Answer a partner's sender whose message was quarantined, through `smtp` (default true;
    /// unknown and unauthenticated senders are never answered).
    #[serde(default = "default_tell_senders")]
    pub tell_senders: bool,
}

fn default_tell_senders() -> bool {
    true
}

fn default_poll() -> u64 {
    1_000
}
fn default_max_message() -> usize {
    25 * 1024 * 1024
}

/// Whom to answer about a quarantined message: its sender, known and authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The `From` address.
    pub to: String,
    pub partner: String,
    pub subject: Option<String>,
    pub message_id: String,
}

impl Reply {
    /// The `In-Reply-To` naming the message answered, so the sender's client threads them.
    fn in_reply_to(&self) -> Option<String> {
        Some(self.message_id.trim().trim_matches(['<', '>']))
            .filter(|id| !id.is_empty())
            .map(|id| format!("<{id}>"))
    }
}

/// The acknowledgments a partner's message is owed: its X12 attachments whose interchanges
/// name that partner, and where the answer goes (`reply.to`: the partner's configured mail
/// address, else its sender).
#[derive(Debug, Clone)]
pub struct AckDue {
    pub reply: Reply,
    pub interchanges: Vec<DueInterchange>,
    /// The ledger keys of the documents the message held (taken now or before), noted when
    /// the acknowledgment is finally not mailed.
    pub keys: Vec<String>,
}

/// One X12 attachment to acknowledge, as the X12 reader read it.
#[derive(Debug, Clone)]
pub struct DueInterchange {
    /// `attachment 2 'inv.edi'`.
    pub label: String,
    /// The name the acknowledgment is attached under (`inv.ack.edi`).
    pub ack_name: String,
    pub raw: Vec<u8>,
    pub profile: PartnerProfile,
}

/// The mark of the note a document gets when the 997/999/TA1 its mailed interchange is owed
/// was never mailed (the relay refused every attempt); `gateway partners` counts the documents
/// noted so ([`crate::ledger::PartnerSummary::acks_not_mailed`]).
pub const ACK_NOT_MAILED: &str = "X12 acknowledgment not mailed";

/// The mark the note above is changed to once the acknowledgment, sent again
/// (`gateway acks resend`), was taken by the relay: no longer counted.
pub const ACK_MAILED_LATE: &str = "X12 acknowledgment mailed late";

/// How an acknowledgment mail the relay refused is tried again: the same mail, bytes and
/// control numbers, after a delay that doubles from `first_delay` up to `max_delay`, at most
/// `attempts` times in all and never past `give_up_after` from the first attempt, so a relay
/// that is down for a while loses no 997 and one that stays down is reported, not retried
/// forever.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AckRetry {
    pub attempts: u32,
    pub first_delay: Duration,
    pub max_delay: Duration,
    pub give_up_after: Duration,
}

impl Default for AckRetry {
    /// Ten attempts over about four hours: 30 s, 1, 2, 4, 8, 16, 32 min, then every hour.
    fn default() -> Self {
        AckRetry {
            attempts: 10,
            first_delay: Duration::from_secs(30),
            max_delay: Duration::from_secs(3600),
            give_up_after: Duration::from_secs(6 * 3600),
        }
    }
}

impl AckRetry {
    /// The wait before the attempt after `done` attempts.
    fn delay(&self, done: u32) -> Duration {
        let factor = 1u32 << done.saturating_sub(1).min(20);
        self.first_delay.saturating_mul(factor).min(self.max_delay)
    }
}

/// Mails partners the 997/999/TA1 their mailed X12 is owed, through the SMTP relay that sends
/// PO mails (see the module documentation). An acknowledgment the relay does not take is
/// retried in the background ([`AckRetry`]) with the same bytes, kept under the outbox folder
/// ([`X12MailAcks::with_outbox`]) until sent so a restart sends it ([`X12MailAcks::resume`]);
/// one finally given up is noted on its documents in the ledger ([`ACK_NOT_MAILED`]) with how
/// to send it again, and sent when an operator queues it again ([`X12MailAcks::take_resends`]).
#[derive(Clone)]
pub struct X12MailAcks {
    mailer: Arc<SmtpMailer>,
    outbox: Option<AckOutbox>,
    retry: AckRetry,
}

impl std::fmt::Debug for X12MailAcks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("X12MailAcks")
            .field("outbox", &self.outbox)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

impl X12MailAcks {
    pub fn new(mailer: Arc<SmtpMailer>) -> Self {
        X12MailAcks {
            mailer,
            outbox: None,
            retry: AckRetry::default(),
        }
    }

    /// Keeps each acknowledgment mail not yet sent as a file in `dir` (the service uses
    /// `<state>/x12-mail-acks`), and those given up in `dir/given-up/`, so a restart sends what
    /// was waiting and an operator can send a given-up one again ([`crate::ack_outbox`]).
    pub fn with_outbox(mut self, dir: PathBuf) -> Self {
        self.outbox = Some(AckOutbox::new(dir));
        self
    }

    /// How a refused acknowledgment mail is tried again (default [`AckRetry::default`]).
    pub fn with_retry(mut self, retry: AckRetry) -> Self {
        self.retry = retry;
        self
    }

    /// Sends, in the background, every acknowledgment mail waiting in the outbox (left by a
    /// stop, or moved back from `given-up/` by hand): the same bytes, so no new control
    /// number. Returns how many it took up; a file it cannot read stays where it is, logged.
    /// Called once, as the service starts, before anything else writes into the outbox.
    pub fn resume(&self, ledger: Arc<crate::ledger::Ledger>) -> usize {
        let Some(outbox) = &self.outbox else {
            return 0;
        };
        self.send_kept(&ledger, outbox.waiting(), "that was waiting")
    }

    /// Every `every`, until `shutdown` resolves, sends in the background the acknowledgment
    /// mails `gateway acks resend` queued again, taken out of the queue by a rename
    /// ([`AckOutbox::claim_resends`]) so each is sent once, by this process, as it was (no new
    /// control number). The one running gateway runs it, after [`X12MailAcks::resume`].
    pub async fn take_resends(
        self,
        ledger: Arc<crate::ledger::Ledger>,
        every: Duration,
        shutdown: impl std::future::Future<Output = ()>,
    ) {
        let Some(outbox) = self.outbox.clone() else {
            return;
        };
        tokio::pin!(shutdown);
        loop {
            self.send_kept(&ledger, outbox.claim_resends(), "an operator queued again");
            tokio::select! {
                _ = &mut shutdown => return,
                _ = tokio::time::sleep(every) => {}
            }
        }
    }

    /// Sends the mails kept at `paths` in the background (`why` they are sent, for the log).
    /// Returns how many; a file that cannot be read stays where it is, logged.
    fn send_kept(
        &self,
        ledger: &Arc<crate::ledger::Ledger>,
        paths: Vec<PathBuf>,
        why: &str,
    ) -> usize {
        let mut n = 0;
        for path in paths {
            match crate::ack_outbox::read(&path) {
                Ok(pending) => {
                    tracing::info!(adapter = "email", partner = %pending.partner,
                        to = %pending.to, message = %pending.answers,
                        interchanges = %pending.interchanges, file = %path.display(),
                        "sending an X12 acknowledgment mail {why}");
                    tokio::spawn(self.clone().keep_trying(
                        ledger.clone(),
                        pending,
                        Some(path),
                        0,
                        String::new(),
                    ));
                    n += 1;
                }
                Err(e) => tracing::warn!(adapter = "email", file = %path.display(), error = %e,
                    "cannot read a waiting X12 acknowledgment mail; it is left where it is"),
            }
        }
        n
    }

    /// Builds the acknowledgment of each interchange in `due` with `codecs` (the partner's
    /// control numbers, which the file drop's and `POST /x12`'s acknowledgments continue) and
    /// mails them, one file each, in one reply to `due.reply.to`, once (no retry, no ledger
    /// note: see [`Mailbox::with_x12_acks`] for those). `Ok(None)`: nothing to acknowledge (a
    /// partner's own 997, which is never acknowledged). `Err`: what failed, for the log.
    pub async fn send(&self, codecs: &Codecs, due: &AckDue) -> Result<Option<String>, String> {
        let Some(pending) = self.prepare(codecs, due)? else {
            return Ok(None);
        };
        self.mail(&pending)
            .await
            .map(Some)
            .map_err(|e| e.to_string())
    }

    /// The acknowledgment mail `due` is owed, its control numbers taken: `None` when nothing
    /// is owed.
    fn prepare(&self, codecs: &Codecs, due: &AckDue) -> Result<Option<PendingAck>, String> {
        let mut files = Vec::new();
        let mut said = Vec::new();
        for i in &due.interchanges {
            let ack = crate::protocols::x12_ack(codecs, &i.raw, &i.profile);
            if ack.is_empty() {
                continue;
            }
            said.push(format!(
                "- {} (interchange {}): {}",
                i.label,
                crate::x12_senders::interchange_names(&i.raw),
                i.ack_name
            ));
            files.push(PendingFile {
                name: i.ack_name.clone(),
                bytes: ack,
            });
        }
        if files.is_empty() {
            return Ok(None);
        }
        let reply = &due.reply;
        let subject = match reply.subject.as_deref().filter(|s| !s.trim().is_empty()) {
            Some(s) => format!("Acknowledgment: {s}"),
            None => "Acknowledgment of your X12 interchanges".to_string(),
        };
        let body = format!(
            "The invoice gateway received the X12 interchanges of your message {} and \
             acknowledges them (997/999/TA1) in the attached files:\n\n{}\n",
            reply.message_id,
            said.join("\n")
        );
        Ok(Some(PendingAck {
            partner: reply.partner.clone(),
            to: reply.to.clone(),
            subject,
            body,
            mail_id: format!("ack.{}@coupa-gateway", uuid::Uuid::new_v4().simple()),
            in_reply_to: reply.in_reply_to(),
            answers: reply.message_id.clone(),
            interchanges: due
                .interchanges
                .iter()
                .map(|i| crate::x12_senders::interchange_names(&i.raw))
                .collect::<Vec<_>>()
                .join(", "),
            files,
            keys: due.keys.clone(),
            made_at: crate::ack_outbox::now(),
            given_up: None,
            resent_at: None,
        }))
    }

    /// One attempt at mailing `pending`. Returns the relay's answer.
    async fn mail(&self, pending: &PendingAck) -> Result<String, DeliveryError> {
        let files = pending
            .files
            .iter()
            .map(|f| adapter_email::MailFile {
                name: f.name.clone(),
                format: Format::X12,
                bytes: f.bytes.clone(),
            })
            .collect();
        let message = adapter_email::render_notice_mail_with(
            adapter_email::NoticeMail {
                from: self.mailer.from().clone(),
                reply_to: self.mailer.reply_to().cloned(),
                to: &pending.to,
                subject: &pending.subject,
                body: &pending.body,
                message_id: pending.mail_id.clone(),
                in_reply_to: pending.in_reply_to.clone(),
            },
            files,
        )
        .map_err(|e| {
            DeliveryError::permanent(format!(
                "cannot write the acknowledgment mail to {}: {e}",
                pending.to
            ))
        })?;
        self.mailer.send(message).await
    }

    /// Mails the acknowledgments `due` is owed, logged with the partner, the message and the
    /// interchanges. A refusal the relay may get over is retried in the background with the
    /// same bytes; one finally given up is noted on the message's documents in `ledger`.
    /// `Ok(Some(to))`: acknowledged to `to`; `Err`: what failed at the first attempt (retried
    /// when it says so).
    async fn answer(
        &self,
        codecs: &Codecs,
        ledger: &Arc<crate::ledger::Ledger>,
        due: &AckDue,
    ) -> Result<Option<String>, String> {
        let pending = match self.prepare(codecs, due) {
            Ok(Some(p)) => p,
            Ok(None) => return Ok(None),
            Err(e) => return Err(e),
        };
        let kept = self.keep(&pending);
        match self.mail(&pending).await {
            Ok(answer) => {
                self.sent(&pending, kept.as_deref(), &answer);
                Ok(Some(pending.to))
            }
            Err(e) if e.is_retryable() && self.retry.attempts > 1 => {
                tracing::warn!(adapter = "email", partner = %pending.partner, to = %pending.to,
                    message = %pending.answers, interchanges = %pending.interchanges, error = %e,
                    "the relay did not take the X12 acknowledgment the partner is owed; it is \
                     tried again in the background with the same control numbers");
                let failed = format!("{}: {e} (tried again in the background)", pending.to);
                tokio::spawn(self.clone().keep_trying(
                    ledger.clone(),
                    pending,
                    kept,
                    1,
                    e.to_string(),
                ));
                Err(failed)
            }
            Err(e) => {
                let failed = format!("{}: {e}", pending.to);
                self.give_up(ledger, &pending, kept.as_deref(), 1, &e.to_string());
                Err(failed)
            }
        }
    }

    /// Writes `pending` into the outbox, so a restart sends it; `None` without an outbox or
    /// when it cannot be written (then only this run retries it, logged).
    fn keep(&self, pending: &PendingAck) -> Option<PathBuf> {
        let outbox = self.outbox.as_ref()?;
        match outbox.keep(pending) {
            Ok(path) => Some(path),
            Err(e) => {
                tracing::warn!(adapter = "email", dir = %outbox.dir().display(), error = %e,
                    "cannot keep the X12 acknowledgment mail in the outbox; a restart before \
                     it is sent loses it");
                None
            }
        }
    }

    /// `pending` was taken by the relay: logged, and its outbox file removed.
    fn sent(&self, pending: &PendingAck, kept: Option<&Path>, answer: &str) {
        tracing::info!(adapter = "email", partner = %pending.partner, to = %pending.to,
            message = %pending.answers, interchanges = %pending.interchanges, %answer,
            "X12 acknowledgment mailed to the partner");
        self.remove_kept(kept);
    }

    /// `pending`, given up before, was taken by the relay once sent again: as [`Self::sent`],
    /// and its documents' note ([`ACK_NOT_MAILED`]) now says it was mailed late, so `gateway
    /// partners` no longer counts them.
    fn sent_late(
        &self,
        ledger: &crate::ledger::Ledger,
        pending: &PendingAck,
        kept: Option<&Path>,
        answer: &str,
    ) {
        self.sent(pending, kept, answer);
        let note = format!(
            "{ACK_MAILED_LATE}: the acknowledgment ({}) of interchange {} in message {} was \
             mailed to {} at {}, after it had not been",
            pending.file_names(),
            pending.interchanges,
            pending.answers,
            pending.to,
            crate::ack_outbox::now()
        );
        let keys: Vec<&str> = pending.keys.iter().map(String::as_str).collect();
        if let Err(e) = ledger.replace_note(&keys, &not_mailed_head(pending), &note, false) {
            tracing::warn!(adapter = "email", error = %e,
                "the acknowledgment was mailed late, but its documents' note cannot be changed \
                 in the ledger; it still says it was not mailed");
        }
    }

    /// Removes the outbox file of a mail the relay took.
    fn remove_kept(&self, kept: Option<&Path>) {
        if let Some(path) = kept
            && let Err(e) = std::fs::remove_file(path)
        {
            tracing::warn!(adapter = "email", file = %path.display(), error = %e,
                "the acknowledgment was mailed but its outbox file cannot be removed; remove \
                 it, or a restart mails it again");
        }
    }

    /// Tries `pending` again after `done` attempts (the last failing with `last`) until it is
    /// sent or [`AckRetry`] says to stop, then gives it up.
    async fn keep_trying(
        self,
        ledger: Arc<crate::ledger::Ledger>,
        pending: PendingAck,
        kept: Option<PathBuf>,
        mut done: u32,
        mut last: String,
    ) {
        // Taken from the outbox (a restart, or an operator's resend): it may have been given
        // up, and its documents noted so, before.
        let resumed = done == 0;
        let started = tokio::time::Instant::now();
        loop {
            if done > 0 {
                let delay = self.retry.delay(done);
                if done >= self.retry.attempts
                    || started.elapsed() + delay > self.retry.give_up_after
                {
                    self.give_up(&ledger, &pending, kept.as_deref(), done, &last);
                    return;
                }
                tokio::time::sleep(delay).await;
            }
            done += 1;
            match self.mail(&pending).await {
                Ok(answer) if resumed => {
                    self.sent_late(&ledger, &pending, kept.as_deref(), &answer);
                    return;
                }
                Ok(answer) => {
                    self.sent(&pending, kept.as_deref(), &answer);
                    return;
                }
                Err(e) if e.is_retryable() => {
                    tracing::info!(adapter = "email", partner = %pending.partner,
                        to = %pending.to, attempt = done, error = %e,
                        "the relay did not take the X12 acknowledgment; trying again later");
                    last = e.to_string();
                }
                Err(e) => {
                    self.give_up(&ledger, &pending, kept.as_deref(), done, &e.to_string());
                    return;
                }
            }
        }
    }

    /// `pending` will not be sent: its outbox file moved to `given-up/` with when and why, the
    /// message's documents noted ([`ACK_NOT_MAILED`]) with how to send it again (a note of an
    /// earlier give-up of the same mail replaced), logged and counted.
    fn give_up(
        &self,
        ledger: &crate::ledger::Ledger,
        pending: &PendingAck,
        kept: Option<&Path>,
        attempts: u32,
        error: &str,
    ) {
        let mut pending = pending.clone();
        pending.given_up = Some(GivenUp {
            at: crate::ack_outbox::now(),
            attempts,
            error: error.to_string(),
        });
        let pending = &pending;
        let given_up =
            self.outbox
                .as_ref()
                .and_then(|outbox| match outbox.give_up(kept, pending) {
                    Ok(p) => Some(p),
                    Err(e) => {
                        tracing::warn!(adapter = "email", dir = %outbox.dir().display(), error = %e,
                        "cannot keep the given-up acknowledgment mail in given-up/");
                        kept.map(Path::to_path_buf)
                    }
                });
        let resend = match &given_up {
            Some(file) => format!(
                "it is kept, control numbers and all, in {}: fix [mailbox.smtp] (or find the \
                 partner's right address), then `gateway acks resend --config <gateway.toml> {}` \
                 (with `--to ADDRESS` for another address) has the running gateway mail it as it \
                 is (no new control number); or \
                 ask the partner to send the interchanges again (answered under new control \
                 numbers, not taken twice)",
                file.display(),
                file.file_stem()
                    .map(|s| s.to_string_lossy())
                    .unwrap_or_default()
            ),
            None => "fix [mailbox.smtp] or the partner's address, then ask the partner to send \
                  the interchanges again (answered under new control numbers, not taken twice)"
                .to_string(),
        };
        let note = format!(
            "{}not mailed to {}: the relay refused it {attempts} time(s), last with: {error}; \
             {resend}",
            not_mailed_head(pending),
            pending.to
        );
        let keys: Vec<&str> = pending.keys.iter().map(String::as_str).collect();
        if let Err(e) = ledger.replace_note(&keys, &not_mailed_head(pending), &note, true) {
            tracing::warn!(adapter = "email", error = %e,
                "cannot note the unsent acknowledgment in the ledger");
        }
        tracing::error!(adapter = "email", partner = %pending.partner, to = %pending.to,
            message = %pending.answers, interchanges = %pending.interchanges, %error, attempts,
            "{note}");
        metrics::count(Counter::Failed, "email", ACKNOWLEDGMENT, 1);
    }
}

/// The beginning of the [`ACK_NOT_MAILED`] note of `pending`'s documents, whatever the address,
/// the attempts and the release that wrote it: a later note of the same mail replaces the
/// lines that begin so.
fn not_mailed_head(pending: &PendingAck) -> String {
    format!(
        "{ACK_NOT_MAILED}: the acknowledgment ({}) of interchange {} in message {} was ",
        pending.file_names(),
        pending.interchanges,
        pending.answers
    )
}

/// Answers quarantined messages' senders through the SMTP relay.
#[derive(Clone)]
pub struct SenderReplies {
    mailer: Arc<SmtpMailer>,
}

impl std::fmt::Debug for SenderReplies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SenderReplies").finish_non_exhaustive()
    }
}

impl SenderReplies {
    pub fn new(mailer: Arc<SmtpMailer>) -> Self {
        SenderReplies { mailer }
    }

    /// Mails `reply.to` what was wrong with its message (`problems`, as the quarantine note has
    /// them). Returns the relay's answer. A failure is the caller's to log: the message is
    /// quarantined either way, and its note says why.
    pub async fn tell(&self, reply: &Reply, problems: &[String]) -> Result<String, DeliveryError> {
        let subject = match reply.subject.as_deref().filter(|s| !s.trim().is_empty()) {
            Some(s) => format!("Not accepted: {s}"),
            None => "Not accepted: your message to the invoice mailbox".to_string(),
        };
        let mut body =
            String::from("Your message could not be taken in full by the invoice gateway:\n\n");
        for p in problems {
            body.push_str("- ");
            body.push_str(p);
            body.push('\n');
        }
        body.push_str(
            "\nDocuments named \"published anyway\" above were received and need not be sent \
             again. Please correct the rest and send them again, as attachments in cXML, X12 or \
             the Coupa CSV layout.\n",
        );
        let message = adapter_email::render_notice_mail(adapter_email::NoticeMail {
            from: self.mailer.from().clone(),
            reply_to: self.mailer.reply_to().cloned(),
            to: &reply.to,
            subject: &subject,
            body: &body,
            message_id: format!("{}@coupa-gateway", uuid::Uuid::new_v4().simple()),
            in_reply_to: reply.in_reply_to(),
        })
        .map_err(|e| DeliveryError::permanent(format!("cannot write the reply: {e}")))?;
        self.mailer.send(message).await
    }

    /// [`SenderReplies::tell`], logged with the partner and the outcome.
    async fn answer(&self, reply: &Reply, problems: &[String]) -> Option<String> {
        match self.tell(reply, problems).await {
            Ok(answer) => {
                tracing::info!(adapter = "email", partner = %reply.partner, to = %reply.to,
                    message = %reply.message_id, %answer, "sender told why its message was quarantined");
                Some(reply.to.clone())
            }
            Err(e) => {
                tracing::warn!(adapter = "email", partner = %reply.partner, to = %reply.to,
                    message = %reply.message_id, error = %e, "could not tell the sender why its message was quarantined");
                None
            }
        }
    }
}

/// What one poll did, for logs and tests.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct MailPoll {
    /// Moved to `cur/` (seen).
    pub seen: Vec<PathBuf>,
    pub quarantined: Vec<PathBuf>,
    /// Left in `processing/` for the next poll (bus or ledger unavailable).
    pub deferred: Vec<PathBuf>,
    pub documents: usize,
    pub duplicates: usize,
    /// Senders told why their message was quarantined.
    pub told: Vec<String>,
    /// Where X12 acknowledgments were mailed.
    pub acknowledged: Vec<String>,
    /// X12 acknowledgments the relay did not take: the address and the error.
    pub not_acknowledged: Vec<String>,
}

/// The Maildir reader.
pub struct Mailbox {
    root: PathBuf,
    poll_every: Duration,
    limits: Limits,
    pipeline: Arc<Pipeline>,
    replies: Option<SenderReplies>,
    acks: Option<X12MailAcks>,
}

impl std::fmt::Debug for Mailbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailbox").field("root", &self.root).finish()
    }
}

impl Mailbox {
    pub fn new(root: PathBuf, config: &MailboxConfig, pipeline: Arc<Pipeline>) -> Self {
        Mailbox {
            root,
            poll_every: Duration::from_millis(config.poll_interval_ms.max(10)),
            limits: Limits {
                max_message_bytes: config.max_message_bytes,
                ..Limits::default()
            },
            pipeline,
            replies: None,
            acks: None,
        }
    }

    /// Answers the senders of quarantined messages (see the module documentation).
    pub fn with_replies(mut self, replies: SenderReplies) -> Self {
        self.replies = Some(replies);
        self
    }

    /// Acknowledges partners' mailed X12 by mail (see the module documentation).
    pub fn with_x12_acks(mut self, acks: X12MailAcks) -> Self {
        self.acks = Some(acks);
        self
    }

    pub fn new_dir(&self) -> PathBuf {
        self.root.join("new")
    }
    pub fn cur_dir(&self) -> PathBuf {
        self.root.join("cur")
    }
    pub fn quarantine_dir(&self) -> PathBuf {
        self.root.join("quarantine")
    }
    fn processing_dir(&self) -> PathBuf {
        self.root.join("processing")
    }

    /// Creates the Maildir folders (`tmp`, `new`, `cur`) and ours.
    pub fn prepare(&self) -> std::io::Result<()> {
        for d in ["tmp", "new", "cur", "processing", "quarantine"] {
            std::fs::create_dir_all(self.root.join(d))?;
        }
        Ok(())
    }

    /// Polls until `shutdown` resolves.
    pub async fn run(self, shutdown: impl std::future::Future<Output = ()>) {
        if let Err(e) = self.prepare() {
            tracing::error!(adapter = "email", error = %e, "cannot create the Maildir folders");
        }
        tokio::pin!(shutdown);
        loop {
            let s = self.poll().await;
            if s.seen.len() + s.quarantined.len() + s.deferred.len() > 0 {
                tracing::info!(
                    adapter = "email",
                    seen = s.seen.len(),
                    quarantined = s.quarantined.len(),
                    deferred = s.deferred.len(),
                    documents = s.documents,
                    duplicates = s.duplicates,
                    "mailbox poll"
                );
            }
            tokio::select! {
                _ = &mut shutdown => break,
                _ = tokio::time::sleep(self.poll_every) => {}
            }
        }
    }

    /// One pass: resume `processing/`, then claim and ingest everything in `new/`.
    pub async fn poll(&self) -> MailPoll {
        let mut summary = MailPoll::default();
        for path in list(&self.processing_dir()) {
            self.process(&path, &mut summary).await;
        }
        for path in list(&self.new_dir()) {
            match self.claim(&path) {
                Ok(claimed) => self.process(&claimed, &mut summary).await,
                // another reader took it, or it vanished: nothing to do
                Err(e) => tracing::warn!(adapter = "email", file = %path.display(), error = %e,
                    "cannot claim message; will retry"),
            }
        }
        summary
    }

    fn claim(&self, path: &Path) -> std::io::Result<PathBuf> {
        let dir = self.processing_dir();
        std::fs::create_dir_all(&dir)?;
        let target = dir.join(path.file_name().unwrap_or_default());
        std::fs::rename(path, &target)?;
        Ok(target)
    }

    async fn process(&self, path: &Path, summary: &mut MailPoll) {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        if usize::try_from(size).map_or(true, |s| s > self.limits.max_message_bytes) {
            let why = format!(
                "{name}: the message is {size} bytes; the limit is {} ([mailbox] max_message_bytes)",
                self.limits.max_message_bytes
            );
            keep_refused(
                &self.pipeline,
                &format!("email:refused:{name}"),
                std::slice::from_ref(&why),
            );
            self.quarantine(path, &name, &[why], summary);
            return;
        }
        let raw = match std::fs::read(path) {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(adapter = "email", file = %path.display(), error = %e, "cannot read; will retry");
                summary.deferred.push(path.to_path_buf());
                return;
            }
        };
        match judge(&self.pipeline, &self.limits, &raw).await {
            Verdict::Seen {
                documents,
                duplicates,
                acks,
            } => {
                summary.documents += documents;
                summary.duplicates += duplicates;
                match move_into(path, &self.cur_dir(), &seen_name(&name)) {
                    Ok(p) => {
                        summary.seen.push(p);
                        self.acknowledge(acks, summary).await;
                    }
                    Err(e) => {
                        tracing::warn!(adapter = "email", error = %e, "cannot move to cur/; will retry");
                        summary.deferred.push(path.to_path_buf());
                    }
                }
            }
            Verdict::Quarantine {
                problems,
                documents,
                reply,
                acks,
            } => {
                summary.documents += documents;
                if self.quarantine(path, &name, &problems, summary) {
                    self.acknowledge(acks, summary).await;
                    if let (Some(replies), Some(reply)) = (&self.replies, &reply)
                        && let Some(to) = replies.answer(reply, &problems).await
                    {
                        summary.told.push(to);
                    }
                }
            }
            Verdict::Deferred => summary.deferred.push(path.to_path_buf()),
        }
    }

    /// Mails the X12 acknowledgments `due` (once the message is seen or quarantined, so one
    /// kept for the next poll is not answered twice).
    async fn acknowledge(&self, due: Option<AckDue>, summary: &mut MailPoll) {
        match acknowledge(self.acks.as_ref(), &self.pipeline, due).await {
            Ok(Some(to)) => summary.acknowledged.push(to),
            Ok(None) => {}
            Err(e) => summary.not_acknowledged.push(e),
        }
    }

    /// Moves the message to `quarantine/` with its note; false when it stays for the next poll.
    fn quarantine(
        &self,
        path: &Path,
        name: &str,
        problems: &[String],
        summary: &mut MailPoll,
    ) -> bool {
        let dir = self.quarantine_dir();
        let mut text = format!("{name}: {} problem(s)\n", problems.len());
        for p in problems {
            text.push_str(p);
            text.push('\n');
        }
        if let Err(e) = write_atomically(&dir, &format!("{name}.reason.txt"), text.as_bytes()) {
            tracing::warn!(adapter = "email", error = %e, "cannot write the quarantine reason; will retry");
            summary.deferred.push(path.to_path_buf());
            return false;
        }
        match move_into(path, &dir, name) {
            Ok(p) => {
                tracing::warn!(adapter = "email", file = %name, problems = problems.len(), "message quarantined");
                summary.quarantined.push(p);
                true
            }
            Err(e) => {
                tracing::warn!(adapter = "email", error = %e, "cannot quarantine; will retry");
                summary.deferred.push(path.to_path_buf());
                false
            }
        }
    }
}

/// The X12 acknowledgments `due`, mailed through `acks` when a relay is configured; logged
/// when one is owed and there is none.
async fn acknowledge(
    acks: Option<&X12MailAcks>,
    pipeline: &Pipeline,
    due: Option<AckDue>,
) -> Result<Option<String>, String> {
    let Some(due) = due else {
        return Ok(None);
    };
    match acks {
        Some(acks) => {
            acks.answer(pipeline.codecs(), pipeline.ledger(), &due)
                .await
        }
        None => {
            tracing::info!(adapter = "email", partner = %due.reply.partner,
                message = %due.reply.message_id,
                "the partner's mailed X12 is not acknowledged: no [mailbox.smtp] relay to mail \
                 its 997 through");
            Ok(None)
        }
    }
}

/// What to do with one message after the pipeline saw it.
#[derive(Debug, Clone)]
pub enum Verdict {
    /// Every document is on the bus (or was already): mark the message seen. `acks`: the X12
    /// acknowledgments the partner is owed.
    Seen {
        documents: usize,
        duplicates: usize,
        acks: Option<AckDue>,
    },
    /// Unknown sender, unreadable, nothing usable, or some attachment rejected (`documents`
    /// from the others did go out). `reply`: the sender to tell, when it is a partner's own;
    /// `acks`: the X12 acknowledgments the partner is owed (a 997 rejecting a set answers it).
    Quarantine {
        problems: Vec<String>,
        documents: usize,
        reply: Option<Reply>,
        acks: Option<AckDue>,
    },
    /// The bus or ledger could not decide: leave the message for the next poll.
    Deferred,
}

/// Parses `raw`, finds the partner by `From`, and ingests it through the pipeline.
pub async fn judge(pipeline: &Pipeline, limits: &Limits, raw: &[u8]) -> Verdict {
    // Refused before the pipeline saw a document: kept in the ledger and counted here, so the
    // operator finds it beside the rest (the pipeline keeps what it refuses itself).
    let quarantine = |problems: Vec<String>| {
        let key = format!(
            "email:refused:{}",
            crate::pipeline::content_fingerprint(raw)
        );
        keep_refused(pipeline, &key, &problems);
        Verdict::Quarantine {
            problems,
            documents: 0,
            reply: None,
            acks: None,
        }
    };
    let mail = match ParsedMail::parse(raw, limits) {
        Ok(m) => m,
        Err(e) => return quarantine(vec![e.to_string()]),
    };
    let partners = pipeline.partners().all();
    // The partner the mail is for: its sender's, or, when several partners list the sender
    // (an invoicing service), the one its documents name.
    let router =
        adapter_email::EmailCodec::new(pipeline.codecs().attachment_readers()).with_limits(*limits);
    let partner = match router.route(partners, &mail) {
        Ok(p) => p,
        Err(SenderError::Unknown { .. } | SenderError::NoFrom) => {
            return quarantine(vec![format!(
                "{}: unknown sender {}: no partner's [email] from list names it",
                mail.label(),
                mail.from.as_deref().unwrap_or("(no From address)")
            )]);
        }
        Err(e) => return quarantine(vec![format!("{}: {e}", mail.label())]),
    };
    // Only a partner's own sender, authenticated as its profile requires, is ever answered.
    let reply = check_sender(partner, &mail).is_ok().then(|| Reply {
        to: mail.from.clone().unwrap_or_default(),
        partner: partner.id.clone(),
        subject: mail.subject.clone(),
        message_id: mail.message_id.clone(),
    });
    let report = pipeline
        .ingest(IngestRequest {
            raw,
            adapter: "email",
            format: Some(Format::Email),
            partner: Some(partner),
            source: None,
            files: &[],
            notes: &[],
        })
        .await;
    let report = match report {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(adapter = "email", partner = %partner.id, message = %mail.message_id, error = %e,
                "not published; the message is left for the next poll");
            return Verdict::Deferred;
        }
    };
    for a in &report.accepted {
        tracing::info!(adapter = "email", partner = %partner.id, doc_id = %a.doc_id,
            kind = %a.kind, number = %a.number, message = %mail.message_id, "published");
    }
    // Owed only now that the bus confirmed (or had) what the message held.
    let keys = report
        .accepted
        .iter()
        .map(|a| a.idempotency_key.clone())
        .chain(report.duplicates.iter().map(|d| d.idempotency_key.clone()))
        .collect();
    let acks = acks_due(pipeline, &router, &mail, partner, keys);
    if report.rejects.is_empty() {
        return Verdict::Seen {
            documents: report.accepted.len(),
            duplicates: report.duplicates.len(),
            acks,
        };
    }
    let mut problems: Vec<String> = report
        .rejects
        .iter()
        .map(gateway_core::Reject::described)
        .collect();
    for a in &report.accepted {
        problems.push(format!(
            "published anyway: {} {} ({})",
            a.kind, a.number, a.doc_id
        ));
    }
    Verdict::Quarantine {
        problems,
        documents: report.accepted.len(),
        reply,
        acks,
    }
}

/// The acknowledgments `partner` is owed for `mail`: each X12 attachment whose interchanges
/// all name `partner` by their ISA sender (the rule `POST /x12` and the file drop apply), read
/// as the decoder read it, from the partner's own, authenticated sender only
/// ([`adapter_email::EmailCodec::x12_attachments`]). The answer goes to the partner's
/// configured mail address, else to that sender. `None` when nothing is owed.
fn acks_due(
    pipeline: &Pipeline,
    router: &adapter_email::EmailCodec,
    mail: &ParsedMail,
    partner: &PartnerProfile,
    keys: Vec<String>,
) -> Option<AckDue> {
    let mut interchanges = Vec::new();
    for att in router.x12_attachments(mail, partner) {
        match crate::x12_senders::x12_senders(pipeline.partners(), &att.bytes) {
            X12Senders::One(p) if p.id == partner.id => {}
            _ => {
                tracing::info!(adapter = "email", partner = %partner.id, message = %mail.message_id,
                    attachment = %att.label,
                    interchange = %crate::x12_senders::interchange_names(&att.bytes),
                    "not acknowledged: the interchanges are not all the partner's own");
                continue;
            }
        }
        let mut ack_name = ack_file_name(att.name, interchanges.len() + 1);
        if interchanges
            .iter()
            .any(|i: &DueInterchange| i.ack_name == ack_name)
        {
            // Two files of one name (from different folders of the sender's).
            ack_name = ack_file_name(None, interchanges.len() + 1);
        }
        interchanges.push(DueInterchange {
            label: att.label,
            ack_name,
            raw: att.bytes.into_owned(),
            profile: att.profile.into_owned(),
        });
    }
    if interchanges.is_empty() {
        return None;
    }
    let to = match &partner.outbound {
        Some(OutboundChannel::Email { to }) => to.clone(),
        _ => mail.from.clone()?,
    };
    Some(AckDue {
        reply: Reply {
            to,
            partner: partner.id.clone(),
            subject: mail.subject.clone(),
            message_id: mail.message_id.clone(),
        },
        interchanges,
        keys,
    })
}

/// The name an attachment's acknowledgment is mailed under: its own stem with `.ack.edi`, as
/// the file drop names a file's (`INV-1.edi` → `INV-1.ack.edi`), in letters, digits, `.`,
/// `-` and `_` only (the sender chose the name), else `acknowledgment-<n>.edi`.
fn ack_file_name(name: Option<&str>, n: usize) -> String {
    let stem: String = name
        .map(|n| n.rsplit_once('.').map_or(n, |(s, _)| s))
        .unwrap_or("")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .take(100)
        .collect();
    let stem = stem.trim_matches(['.', '_']);
    if stem.is_empty() {
        format!("acknowledgment-{n}.edi")
    } else {
        format!("{stem}.ack.edi")
    }
}

/// Keeps a mail refused before any of its documents was read (an unknown or shared sender,
/// a message that cannot be parsed, one over the size limit) in the ledger and counts it
/// ([`crate::ledger::Ledger::record_refused_input`]): it was only in `quarantine/` and a log
/// line, so a supplier's new billing address piled up unseen.
fn keep_refused(pipeline: &Pipeline, key: &str, problems: &[String]) {
    let label = problems
        .first()
        .and_then(|p| p.split_once(": "))
        .map_or("", |(label, _)| label);
    match pipeline
        .ledger()
        .record_refused_input(&crate::ledger::RefusedInput {
            key,
            adapter: "email",
            partner: "(unknown)",
            kind: "unknown",
            label,
            detail: &problems.join("; "),
            source: "",
        }) {
        Ok(true) => gateway_http::count_refused("email"),
        Ok(false) => {}
        Err(e) => tracing::warn!(adapter = "email", error = %e,
            "a refused message could not be kept in the ledger; it is in quarantine/"),
    }
}

/// The IMAP inbox reader: each poll logs in, reads the unseen messages and marks each seen
/// (or quarantines it) only after the pipeline's verdict; messages the bus could not take stay
/// unseen for the next poll.
pub struct ImapReader {
    config: ImapConfig,
    poll_every: Duration,
    limits: Limits,
    pipeline: Arc<Pipeline>,
    replies: Option<SenderReplies>,
    acks: Option<X12MailAcks>,
}

impl std::fmt::Debug for ImapReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImapReader")
            .field("host", &self.config.host)
            .field("mailbox", &self.config.mailbox)
            .finish_non_exhaustive()
    }
}

impl ImapReader {
    pub fn new(config: ImapConfig, mailbox: &MailboxConfig, pipeline: Arc<Pipeline>) -> Self {
        ImapReader {
            config,
            poll_every: Duration::from_millis(mailbox.poll_interval_ms.max(10)),
            limits: Limits {
                max_message_bytes: mailbox.max_message_bytes,
                ..Limits::default()
            },
            pipeline,
            replies: None,
            acks: None,
        }
    }

    /// Answers the senders of quarantined messages (see the module documentation).
    pub fn with_replies(mut self, replies: SenderReplies) -> Self {
        self.replies = Some(replies);
        self
    }

    /// Acknowledges partners' mailed X12 by mail (see the module documentation).
    pub fn with_x12_acks(mut self, acks: X12MailAcks) -> Self {
        self.acks = Some(acks);
        self
    }

    /// Polls until `shutdown` resolves.
    pub async fn run(self, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            match self.poll().await {
                Ok(s) if s.seen + s.quarantined + s.deferred > 0 => {
                    tracing::info!(
                        adapter = "email-imap",
                        seen = s.seen,
                        quarantined = s.quarantined,
                        deferred = s.deferred,
                        documents = s.documents,
                        "imap poll"
                    );
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(adapter = "email-imap", error = %e, "imap poll failed; will retry")
                }
            }
            tokio::select! {
                _ = &mut shutdown => break,
                _ = tokio::time::sleep(self.poll_every) => {}
            }
        }
    }

    /// One pass over the unseen messages.
    pub async fn poll(&self) -> Result<ImapPoll, adapter_email::ImapError> {
        let mut inbox = ImapInbox::connect(&self.config).await?;
        let mut summary = ImapPoll::default();
        for uid in inbox.unseen().await? {
            let fetched = inbox.fetch(uid, self.limits.max_message_bytes).await?;
            let verdict = match &fetched.raw {
                Some(raw) => judge(&self.pipeline, &self.limits, raw).await,
                None => {
                    let problems = vec![format!(
                        "IMAP message {uid}: the message is {} bytes; the limit is {} ([mailbox] max_message_bytes)",
                        fetched.size.unwrap_or(0),
                        self.limits.max_message_bytes
                    )];
                    keep_refused(
                        &self.pipeline,
                        &format!("email:refused:imap:{}:{uid}", self.config.mailbox),
                        &problems,
                    );
                    Verdict::Quarantine {
                        problems,
                        documents: 0,
                        reply: None,
                        acks: None,
                    }
                }
            };
            match verdict {
                Verdict::Seen {
                    documents, acks, ..
                } => {
                    inbox.mark_seen(uid).await?;
                    summary.seen += 1;
                    summary.documents += documents;
                    summary.count_ack(self.acknowledge(acks).await);
                }
                Verdict::Quarantine {
                    problems,
                    documents,
                    reply,
                    acks,
                } => {
                    inbox.quarantine(uid, &problems.join("\n")).await?;
                    tracing::warn!(adapter = "email-imap", uid, problems = %problems.join("; "), "message quarantined");
                    summary.quarantined += 1;
                    summary.documents += documents;
                    summary.count_ack(self.acknowledge(acks).await);
                    if let (Some(replies), Some(reply)) = (&self.replies, &reply)
                        && replies.answer(reply, &problems).await.is_some()
                    {
                        summary.told += 1;
                    }
                }
                Verdict::Deferred => summary.deferred += 1,
            }
        }
        inbox.logout().await;
        Ok(summary)
    }

    /// Mails the X12 acknowledgments `due` (once the message is marked seen or quarantined).
    async fn acknowledge(&self, due: Option<AckDue>) -> Result<Option<String>, String> {
        acknowledge(self.acks.as_ref(), &self.pipeline, due).await
    }
}

/// What one IMAP poll did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ImapPoll {
    pub seen: usize,
    pub quarantined: usize,
    pub deferred: usize,
    pub documents: usize,
    /// Senders told why their message was quarantined.
    pub told: usize,
    /// Messages whose X12 acknowledgments were mailed.
    pub acknowledged: usize,
    /// Messages whose X12 acknowledgments the relay did not take (logged).
    pub not_acknowledged: usize,
}

impl ImapPoll {
    fn count_ack(&mut self, outcome: Result<Option<String>, String>) {
        match outcome {
            Ok(Some(_)) => self.acknowledged += 1,
            Ok(None) => {}
            Err(_) => self.not_acknowledged += 1,
        }
    }
}

/// The Maildir name with the Seen flag (`<unique>:2,S`), keeping other flags.
fn seen_name(name: &str) -> String {
    match name.split_once(":2,") {
        Some((base, flags)) if flags.contains('S') => format!("{base}:2,{flags}"),
        Some((base, flags)) => {
            let mut f: Vec<char> = flags.chars().chain(['S']).collect();
            f.sort_unstable();
            format!("{base}:2,{}", f.into_iter().collect::<String>())
        }
        None => format!("{name}:2,S"),
    }
}

/// Message files directly in `dir`, sorted, skipping dot files (a write in progress): also
/// the acknowledgment outbox's ([`crate::ack_outbox`]).
pub(crate) fn list(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = entries
        .flatten()
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .map(|e| e.path())
        .collect();
    out.sort();
    out
}

/// The mail of a purchase order to `to`: the PO in the partner's format (see
/// [`adapter_email::po_format`]) attached to a text + HTML summary, from `mailer`'s sender.
/// The caller sends it ([`PoMailReady`]).
pub fn po_mail(
    mailer: &SmtpMailer,
    codecs: &Codecs,
    env: &Envelope,
    doc: &Document,
    partner: &PartnerProfile,
    to: &str,
    stem: &str,
) -> Result<PoMailReady, DeliveryError> {
    let Document::PurchaseOrder(po) = doc else {
        return Err(DeliveryError::permanent(format!(
            "only purchase orders are mailed to suppliers, not a {}",
            doc.kind()
        )));
    };
    let format = adapter_email::po_format(partner);
    let encoder = codecs.encoder(format).ok_or_else(|| {
        DeliveryError::permanent(format!("this gateway cannot write {format} documents"))
    })?;
    let bytes = encoder
        .encode(std::slice::from_ref(doc), partner)
        .map_err(|e| {
            DeliveryError::permanent(format!(
                "cannot write the PO as {format} for {}: {e}",
                partner.id
            ))
        })?;
    let (ext, _) = adapter_email::outbound::attachment_type(format);
    let x12 = (format == Format::X12).then(|| bytes.clone());
    let message = adapter_email::render_po_mail(PoMail {
        po,
        from: mailer.from().clone(),
        reply_to: mailer.reply_to().cloned(),
        to,
        attachment_format: format,
        attachment_charset: adapter_email::outbound::attachment_charset(format, partner),
        attachment_name: format!("{stem}.{ext}"),
        attachment: bytes,
        message_id: format!("{}@coupa-gateway", env.doc_id),
    })
    .map_err(|e| DeliveryError::permanent(format!("partner {}: {e}", partner.id)))?;
    Ok(PoMailReady { message, x12 })
}

/// A PO mail ready for the relay: the message, and the X12 attachment when it was one (its
/// control numbers are what the supplier's 997 will name). The caller sends it, recording the
/// attempt first (`supplier.rs`): a mail whose reply was lost may have been taken.
#[derive(Debug)]
pub struct PoMailReady {
    pub message: adapter_email::lettre::Message,
    pub x12: Option<Vec<u8>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sender chose the name: the acknowledgment keeps its stem in safe characters only.
    #[test]
    fn an_acknowledgment_is_named_after_its_file_in_safe_characters() {
        assert_eq!(ack_file_name(Some("INV-1.edi"), 1), "INV-1.ack.edi");
        assert_eq!(ack_file_name(Some("../a b.x12"), 2), "a_b.ack.edi");
        assert_eq!(ack_file_name(Some("../"), 3), "acknowledgment-3.edi");
        assert_eq!(ack_file_name(None, 4), "acknowledgment-4.edi");
    }

    #[test]
    fn seen_flag_is_added_once() {
        assert_eq!(seen_name("123.abc.host"), "123.abc.host:2,S");
        assert_eq!(seen_name("123.abc.host:2,F"), "123.abc.host:2,FS");
        assert_eq!(seen_name("123.abc.host:2,S"), "123.abc.host:2,S");
    }
}
