//! What can go wrong talking to Coupa, and whether trying again can help.

use std::time::Duration;

/// A Coupa call failed. [`CoupaError::is_retryable`] says whether the same call may succeed
/// later; [`CoupaError::is_ambiguous`] says whether Coupa may have acted on it anyway.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CoupaError {
    /// The configuration is unusable (bad URL, zero rate). Permanent.
    #[error("configuration: {0}")]
    Config(String),
    /// The token endpoint refused our client credentials or scopes. Permanent: fix the config.
    #[error("token request refused ({status}): {body}")]
    TokenRefused { status: u16, body: String },
    /// 401 even with a fresh token. Retryable: the token endpoint took our credentials, so
    /// this is Coupa's side settling (a token not yet active, a secret being rotated); a
    /// dead letter for every invoice in flight would cost an operator a replay each.
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    /// 403: the token lacks the scope for this call. Permanent.
    #[error("forbidden (missing scope?): {0}")]
    Forbidden(String),
    /// 429. Retryable, after `retry_after` when Coupa said.
    #[error("rate limited by Coupa (retry after {retry_after:?})")]
    RateLimited { retry_after: Option<Duration> },
    /// 5xx. Retryable.
    #[error("Coupa server error {status}: {body}")]
    Server { status: u16, body: String },
    /// No answer in time. Retryable; when `sent` is true Coupa may have acted (ambiguous).
    #[error("timed out (request sent: {sent})")]
    Timeout { sent: bool },
    /// Connection trouble. Retryable; ambiguous when `sent`.
    #[error("transport: {message} (request sent: {sent})")]
    Transport { message: String, sent: bool },
    /// 400/417/422: Coupa refused the document. Permanent; `body` is Coupa's error body and
    /// `messages` its error strings.
    #[error("Coupa refused the request ({status}): {}", messages.join("; "))]
    Validation {
        status: u16,
        body: String,
        messages: Vec<String>,
    },
    /// 404 on a show. Permanent.
    #[error("not found: {0}")]
    NotFound(String),
    /// Another status we do not expect. Permanent.
    #[error("unexpected status {status}: {body}")]
    UnexpectedStatus { status: u16, body: String },
    /// Coupa answered 2xx with a body we cannot read. Permanent.
    #[error("cannot read Coupa's answer: {0}")]
    Decode(String),
    /// The supplier reference matches no Coupa supplier. Permanent.
    #[error("supplier not found in Coupa: {0}")]
    SupplierNotFound(String),
    /// The canonical document cannot become a Coupa document. Permanent.
    #[error("mapping: {0}")]
    Mapping(String),
    /// Coupa holds another invoice under this supplier and number (its total differs).
    /// Permanent: an operator voids one of them first.
    #[error("conflict: {0}")]
    Conflict(String),
    /// cXML `Response/Status` other than 2xx; retryable for 5xx.
    #[error("cXML status {code} {text}: {message}")]
    Cxml {
        code: u16,
        text: String,
        message: String,
    },
}

impl CoupaError {
    /// True when the same request may succeed later.
    pub fn is_retryable(&self) -> bool {
        match self {
            CoupaError::RateLimited { .. }
            | CoupaError::Server { .. }
            | CoupaError::Timeout { .. }
            | CoupaError::Unauthorized(_)
            | CoupaError::Transport { .. } => true,
            CoupaError::Cxml { code, .. } => *code >= 500 || *code == 429,
            _ => false,
        }
    }

    /// True when Coupa may have acted on the request although we got no answer: look before
    /// creating again.
    pub fn is_ambiguous(&self) -> bool {
        matches!(
            self,
            CoupaError::Timeout { sent: true } | CoupaError::Transport { sent: true, .. }
        )
    }

    /// How long Coupa asked us to wait, when it did.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            CoupaError::RateLimited { retry_after } => *retry_after,
            _ => None,
        }
    }
}

impl From<CoupaError> for gateway_core::DeliveryError {
    fn from(e: CoupaError) -> Self {
        if e.is_retryable() {
            gateway_core::DeliveryError::Retryable {
                reason: e.to_string(),
                retry_after: e.retry_after(),
            }
        } else {
            let reason = match &e {
                CoupaError::Validation { status, body, .. } => {
                    format!("Coupa refused the invoice ({status}): {body}")
                }
                other => other.to_string(),
            };
            gateway_core::DeliveryError::Permanent { reason }
        }
    }
}
