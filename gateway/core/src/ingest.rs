//! The inbound pipeline as entry points see it: hand over bytes, get back what was accepted
//! (already confirmed by the bus), what was a duplicate and what was rejected. HTTP handlers,
//! the file drop and the mailbox reader all go through one implementation (in the server), so
//! "nothing acknowledged before the bus confirmed" holds on every path.

use futures::future::BoxFuture;

use crate::codec::Reject;
use crate::format::Format;
use crate::profile::PartnerProfile;

/// Where the bytes came from.
#[derive(Debug, Clone)]
pub struct IngestRequest<'a> {
    pub raw: &'a [u8],
    /// The entry point (`cxml`, `x12`, `rest`, `file-drop`, `email`): the `adapter` label of
    /// metrics and the ledger.
    pub adapter: &'a str,
    /// The format when the channel fixes it; detected from content when `None`.
    pub format: Option<Format>,
    /// The partner when the channel already knows it (authenticated, or its folder).
    pub partner: Option<&'a PartnerProfile>,
    /// What the input was, so an operator can find it again from a document (a dropped
    /// file's name); the ledger keeps it with where in the input each document was.
    pub source: Option<&'a str>,
    /// Files sent with the input (the parts of a `multipart/related` cXML POST), given to the
    /// documents decoded from it by [`crate::assign_files`].
    pub files: &'a [crate::SupportingFile],
    /// What the channel noticed about the input as a whole (a file the document names but the
    /// request lacks), noted on every document decoded from it.
    pub notes: &'a [String],
}

/// A document that went onto the bus (confirmed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    pub doc_id: String,
    pub idempotency_key: String,
    pub kind: String,
    pub number: String,
    pub partner: String,
    /// Another document with the same supplier + invoice number is already on the bus
    /// (another channel): flagged; the Coupa duplicate guard keeps it from being created twice.
    pub same_business_key_as: Option<String>,
    /// What the gateway accepted but noticed: decoder notes ([`crate::SourceMeta::note`]) and
    /// validation warnings (totals that do not add up, no currency).
    pub notes: Vec<String>,
    /// The files kept with it, to be attached where it is delivered (its PDF copy).
    pub attachments: Vec<String>,
}

/// A document received before: not published again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Duplicate {
    pub doc_id: String,
    pub idempotency_key: String,
    pub status: String,
    pub number: String,
}

/// The outcome of one ingest.
#[derive(Debug, Clone, Default)]
pub struct IngestReport {
    pub format: Option<Format>,
    pub accepted: Vec<Accepted>,
    pub duplicates: Vec<Duplicate>,
    pub rejects: Vec<Reject>,
    /// The doc id of the ledger row that keeps a reject, by the reject's index in `rejects`:
    /// the sender is given it with the reject, to follow the refusal by id as it follows an
    /// accepted document (`GET /api/v1/documents/{doc_id}`). A reject no row keeps (another
    /// request is handling the same document) has none.
    pub reject_doc_ids: std::collections::BTreeMap<usize, String>,
    /// Partner acknowledgments (X12 997/999) the input held, one line each: the document each
    /// answered and the partner's verdict, or why it could not be matched.
    pub acknowledgments: Vec<String>,
}

/// Nothing could be decided: the sender must retry (HTTP 503, file left for the next poll).
/// Always retryable; nothing was acknowledged.
#[derive(Debug, Clone, thiserror::Error)]
#[error("temporarily unavailable: {0}")]
pub struct IngestError(pub String);

/// How the error starts when another request is taking one of the same documents right now
/// ([`IngestError::is_in_flight`]); the pipeline's words for the sender.
pub const IN_FLIGHT: &str = "another request is taking this same document right now";

/// How the error starts when the bus has not confirmed a request's documents within the
/// publish timeout ([`IngestError::may_be_taken`]): the publish goes on, so they may yet be
/// taken.
pub const UNCONFIRMED: &str = "the gateway's message bus has not confirmed it yet";

impl IngestError {
    /// Whether the request was not taken because another request is taking one of its
    /// documents right now (parallel copies of one POST). Retrying is right, but the sender
    /// must not be told that nothing was accepted: that other request may well have accepted
    /// the document, and the retry's answer says whether it did (a duplicate) or takes it.
    pub fn is_in_flight(&self) -> bool {
        self.0.starts_with(IN_FLIGHT)
    }

    /// Whether the documents may be taken after all: another request is taking them
    /// ([`IngestError::is_in_flight`]), or the bus has not confirmed them yet but may
    /// ([`UNCONFIRMED`]). The sender is told to retry shortly, not that nothing was accepted:
    /// the retry's answer says what became of them, and never takes them twice.
    pub fn may_be_taken(&self) -> bool {
        self.is_in_flight() || self.0.starts_with(UNCONFIRMED)
    }
}

/// The shared inbound pipeline.
pub trait Ingest: Send + Sync {
    fn ingest<'a>(
        &'a self,
        req: IngestRequest<'a>,
    ) -> BoxFuture<'a, Result<IngestReport, IngestError>>;

    /// The configured partners (for authentication and sender lookup).
    fn partners(&self) -> &[PartnerProfile];

    /// True when the bus (and what else the pipeline needs) answers, for `/readyz`.
    fn ready(&self) -> BoxFuture<'_, Result<(), String>>;
}
