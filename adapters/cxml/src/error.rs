//! The one error type of the cXML adapter. Every variant carries where the problem is (an XML
//! path such as `/cXML/Request/InvoiceDetailRequest/InvoiceDetailOrder[2]`, plus line and
//! column where known) and what was expected, so an operator can fix the document without
//! opening a debugger.

use gateway_core::Reject;

/// Why a cXML input (or part of it) could not be read, written or answered.
///
/// None of these is retryable: the same bytes give the same error. Retrying helps only after
/// the sender changes the document or the partner profile changes; see [`CxmlError::retryable`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CxmlError {
    /// The bytes are not well-formed XML (or not in a supported character encoding).
    #[error("{location}: not well-formed XML: {message}")]
    Syntax { location: String, message: String },
    /// A bound on size, depth or count was exceeded; the input is refused before it can use
    /// unbounded memory or stack.
    #[error("{location}: {what} exceeds the limit of {limit}")]
    Limit {
        location: String,
        what: String,
        limit: usize,
    },
    /// An entity declaration, external entity or unknown entity reference. Only the five
    /// predefined entities and character references are ever expanded; nothing is fetched.
    #[error("{location}: {message}")]
    Entity { location: String, message: String },
    /// Well-formed XML that is not the cXML we expect (missing element, bad value).
    #[error("{location}: {message}")]
    Invalid { location: String, message: String },
    /// A cXML message we recognise but do not map to a canonical document (yet).
    #[error("{location}: {message}")]
    Unsupported { location: String, message: String },
}

impl CxmlError {
    /// Whether sending the same bytes again could succeed. Always `false`: cXML errors are
    /// properties of the document, not of the moment.
    pub fn retryable(&self) -> bool {
        false
    }

    /// Where the problem is: XML path and, where known, line and column.
    pub fn location(&self) -> &str {
        match self {
            CxmlError::Syntax { location, .. }
            | CxmlError::Limit { location, .. }
            | CxmlError::Entity { location, .. }
            | CxmlError::Invalid { location, .. }
            | CxmlError::Unsupported { location, .. } => location,
        }
    }

    /// What was wrong, without the location.
    pub fn message(&self) -> String {
        match self {
            CxmlError::Syntax { message, .. } => format!("not well-formed XML: {message}"),
            CxmlError::Limit { what, limit, .. } => format!("{what} exceeds the limit of {limit}"),
            CxmlError::Entity { message, .. }
            | CxmlError::Invalid { message, .. }
            | CxmlError::Unsupported { message, .. } => message.clone(),
        }
    }

    pub(crate) fn invalid(location: impl Into<String>, message: impl Into<String>) -> Self {
        CxmlError::Invalid {
            location: location.into(),
            message: message.into(),
        }
    }

    /// The codec-level reject for this error.
    pub fn to_reject(&self, document: Option<String>) -> Reject {
        Reject {
            location: self.location().to_string(),
            message: self.message(),
            document,
        }
    }
}
