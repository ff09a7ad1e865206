//! Delivery to an outbound target (Coupa, a supplier URL, a folder, a mailbox).

use futures::future::BoxFuture;
use gateway_model::Document;

use crate::envelope::Envelope;

/// Why a delivery failed, and whether trying again can help. The bus consumer turns
/// `Retryable` into a delayed retry and `Permanent` into a dead letter carrying the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
    /// Network trouble, timeouts, 429, 5xx: the same message may succeed later.
    #[error("retryable: {reason}")]
    Retryable {
        reason: String,
        /// The target asked us to wait this long (for example `Retry-After`).
        retry_after: Option<std::time::Duration>,
    },
    /// The target refused the document (validation, unknown supplier, duplicate): retrying
    /// the same bytes will fail the same way; an operator must fix and replay.
    #[error("permanent: {reason}")]
    Permanent { reason: String },
}

impl DeliveryError {
    pub fn retryable(reason: impl Into<String>) -> Self {
        DeliveryError::Retryable {
            reason: reason.into(),
            retry_after: None,
        }
    }
    pub fn permanent(reason: impl Into<String>) -> Self {
        DeliveryError::Permanent {
            reason: reason.into(),
        }
    }
    pub fn is_retryable(&self) -> bool {
        matches!(self, DeliveryError::Retryable { .. })
    }
    pub fn reason(&self) -> &str {
        match self {
            DeliveryError::Retryable { reason, .. } | DeliveryError::Permanent { reason } => reason,
        }
    }
}

/// Proof of a successful delivery: the target's reference for the document.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Receipt {
    /// The target's id (Coupa invoice id, file path, SMTP queue id...).
    pub reference: String,
    /// True when the target already had it (found by the duplicate guard) and nothing new was
    /// created.
    pub already_present: bool,
    /// Not sent, on purpose: a later version of the same document (its key here) is already
    /// on its way to the target, and this one arriving after it would undo it. Recorded as
    /// `superseded`, not delivered.
    pub superseded_by: Option<String>,
    /// Not sent, on purpose: the document cancels something the target never received (a PO
    /// cancelled in Coupa before any version of it went to the supplier), so there was nothing
    /// to cancel. Recorded as `cancelled_unsent`, not delivered: counted as delivered, it told
    /// operators the supplier had been told of an order it never had.
    pub nothing_to_cancel: bool,
    /// Parts of the document the target was not sent, having no place for them (Coupa:
    /// payment terms it cannot take as a code, a charge given by a rate alone), in words. The
    /// ledger keeps them beside the reference, so `gateway documents` says what was left out,
    /// not only a log line.
    pub not_sent: Vec<String>,
}

/// Delivers documents to one outbound target.
pub trait Outbound: Send + Sync {
    /// Name used in queue names, metrics and logs (`coupa`, `supplier-cxml`).
    fn name(&self) -> &str;

    fn deliver<'a>(
        &'a self,
        envelope: &'a Envelope,
        document: &'a Document,
    ) -> BoxFuture<'a, Result<Receipt, DeliveryError>>;
}
