//! What every adapter and the server agree on: the [`Envelope`] that travels beside a document,
//! the [`Decode`]/[`Encode`] codec traits, the [`Outbound`] delivery trait with its
//! [`DeliveryError`] (retryable or permanent), and [`PartnerProfile`], where partner quirks live
//! as data.
//!
//! Adapters depend on this crate and `gateway-model` only, never on each other.

pub mod attachments;
pub mod auxiliary_part_id;
pub mod bus;
pub mod cancellation;
pub mod chart_of_accounts;
pub mod codec;
pub mod delivery;
pub mod envelope;
pub mod error_chain;
pub mod format;
pub mod in_flight;
pub mod ingest;
pub mod json_codec;
pub mod metrics;
pub mod original_invoice;
pub mod process_stats;
pub mod profile;
pub mod redact;
pub mod secret;
pub mod testkit;
pub mod toml_error;
mod turns;

pub use attachments::{
    AttachmentError, AttachmentRef, AttachmentStore, StoredFile, SupportingFile, assign_files,
    sha256_hex,
};
pub use auxiliary_part_id::supplier_part_auxiliary_id;
pub use bus::{
    Broker, BusError, ConsumerSpec, DeadFilter, DeadLetter, Delivered, Handler, Message, Outcome,
    QueueDepth, ReplayHistory, Stop, Topology,
};
pub use cancellation::{CancellationMark, cancellation_refused, invoice_cancellation};
pub use codec::{
    Decode, DecodeItem, Decoded, DecodedDocument, Encode, EncodeError, FirstFew,
    READ_AS_WINDOWS_1252, Reject, SourceMeta,
};
pub use delivery::{DeliveryError, Outbound, Receipt};
pub use envelope::{Direction, Envelope};
pub use error_chain::with_causes;
pub use format::{Format, detect_format};
pub use ingest::{Accepted, Duplicate, Ingest, IngestError, IngestReport, IngestRequest};
pub use json_codec::JsonCodec;
pub use original_invoice::{OriginalInvoice, original_invoice};
pub use profile::{PartnerProfile, ProfileError};
pub use redact::redact_url;
pub use secret::Secret;
pub use toml_error::toml_error_in_words;
pub use turns::{Turn, Turns};
