//! cXML `Response/Status` documents: what we answer a partner that posted cXML to us, and what we
//! read back from a partner we posted to.
//!
//! The codes are the ones Coupa and suppliers use (Coupa's invoice transmission error codes and
//! the cXML status codes): 200 OK, 201 Accepted, 400, 401 bad credentials, 406 not parseable or
//! not valid, 409 duplicate payloadID, 417 bad document reference or duplicate invoice, 450 not
//! implemented, 500. 2xx means done; 4xx means the sender must change something (no retry);
//! 5xx means try again later (Coupa retries a PO post on 5xx, not on 4xx).

use crate::encode::{CXML_VERSION, new_payload_id, timestamp_now};
use crate::error::CxmlError;
use crate::header::AuthError;
use crate::reader::{Limits, parse_one};

/// What became of an inbound cXML request, as the HTTP handler knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// Taken over for good (the bus confirmed the publish): 200 OK.
    Ok,
    /// Accepted for processing that will finish later: 201 Accepted.
    Accepted,
    /// Understood but refused for a reason none of the others names: 400 Bad Request.
    BadRequest,
    /// Sender credentials or SharedSecret do not match the partner profile: 401.
    BadCredentials,
    /// Not parseable, refused by the hardened reader, or not valid cXML: 406.
    NotParseable,
    /// The payloadID was already received from this sender: 409 Conflict.
    DuplicatePayload,
    /// The document refers to an unknown PO or line: 417 Expectation Failed.
    BadReference,
    /// The supplier already used this invoice number: 417 Expectation Failed.
    DuplicateInvoice,
    /// A cXML request we recognise but do not map (yet): 450 Not Implemented.
    NotImplemented,
    /// Our side failed (bus unavailable, storage error); the sender should retry: 500.
    Internal,
}

/// A cXML `Status`: `code`, `text` and an optional human message (the element content).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub code: u16,
    pub text: String,
    pub message: Option<String>,
}

impl Status {
    pub fn new(code: u16, text: impl Into<String>, message: Option<String>) -> Self {
        Status {
            code,
            text: text.into(),
            message,
        }
    }

    /// 2xx: the request was taken over.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.code)
    }

    /// 5xx: the same request may succeed later; 4xx never will.
    pub fn retryable(&self) -> bool {
        self.code >= 500
    }

    /// The HTTP status to send with this body: the cXML code where it is an HTTP code
    /// (200, 400, 401, 403, 406, 408, 409, 413, 417, 500, 503), 200 for any other success
    /// (201 Accepted is a cXML-level answer), 400 for other client errors (450), 500 for other
    /// server errors.
    pub fn http_status(&self) -> u16 {
        match self.code {
            200 | 400 | 401 | 403 | 406 | 408 | 409 | 413 | 417 | 500 | 503 => self.code,
            c if (200..300).contains(&c) => 200,
            c if (400..500).contains(&c) => 400,
            _ => 500,
        }
    }

    /// Adds a message (e.g. the located reject) to the status.
    pub fn with_message(mut self, message: impl Into<String>) -> Self {
        self.message = Some(message.into());
        self
    }
}

/// The status code and text for an outcome.
pub fn status_for(outcome: Outcome) -> Status {
    let (code, text) = match outcome {
        Outcome::Ok => (200, "OK"),
        Outcome::Accepted => (201, "Accepted"),
        Outcome::BadRequest => (400, "Bad Request"),
        Outcome::BadCredentials => (401, "Unauthorized"),
        Outcome::NotParseable => (406, "Not Acceptable"),
        Outcome::DuplicatePayload => (409, "Conflict"),
        Outcome::BadReference | Outcome::DuplicateInvoice => (417, "Expectation Failed"),
        Outcome::NotImplemented => (450, "Not Implemented"),
        Outcome::Internal => (500, "Internal Server Error"),
    };
    Status::new(code, text, None)
}

impl Outcome {
    /// The outcome for a document the decoder refused: unsupported kinds are 450, everything
    /// else (syntax, limits, entities, invalid values) is 406.
    pub fn of_error(e: &CxmlError) -> Outcome {
        match e {
            CxmlError::Unsupported { .. } => Outcome::NotImplemented,
            _ => Outcome::NotParseable,
        }
    }

    /// The outcome for a failed sender authentication (always 401).
    pub fn of_auth(_: &AuthError) -> Outcome {
        Outcome::BadCredentials
    }
}

fn escape(s: &str, attr: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attr => out.push_str("&quot;"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' && c != '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A complete cXML Response document carrying `status`, with a fresh payloadID on `host`.
pub fn build(status: &Status, host: &str) -> Vec<u8> {
    let payload = new_payload_id(host);
    let ts = timestamp_now();
    let status_el = match status.message.as_deref().filter(|m| !m.is_empty()) {
        Some(m) => format!(
            "<Status code=\"{}\" text=\"{}\">{}</Status>",
            status.code,
            escape(&status.text, true),
            escape(m, false)
        ),
        None => format!(
            "<Status code=\"{}\" text=\"{}\"/>",
            status.code,
            escape(&status.text, true)
        ),
    };
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <!DOCTYPE cXML SYSTEM \"http://xml.cxml.org/schemas/cXML/{CXML_VERSION}/cXML.dtd\">\n\
         <cXML payloadID=\"{}\" timestamp=\"{ts}\" xml:lang=\"en-US\">\n  <Response>\n    \
         {status_el}\n  </Response>\n</cXML>\n",
        escape(&payload, true)
    )
    .into_bytes()
}

/// The requests the gateway takes at its cXML URL, each a `Transaction@requestName` of the
/// [`profile_response`]: invoices only (purchase orders come from Coupa, and the other
/// requests it recognises are answered 450, see [`Outcome::NotImplemented`]).
pub const PROFILE_TRANSACTIONS: &[&str] = &["InvoiceDetailRequest"];

/// `ProfileResponse@effectiveDate`: when the transactions listed were first available. The
/// DTD wants it stable and never in the future (a client compares it with what it cached), so
/// it is a fixed date, the first release of the gateway's cXML intake, not the time of asking.
pub const PROFILE_EFFECTIVE_DATE: &str = "2026-11-22T00:00:00+00:00";

/// The answer to a `ProfileRequest`: a Response with Status 200 and a `ProfileResponse`
/// naming each of [`PROFILE_TRANSACTIONS`] at `url`, with a fresh payloadID on `host`.
///
/// cXML has every server answer a ProfileRequest (a client's "which requests do you take, and
/// where", also used as a ping) this way. Profile.mod's content models:
/// `Response (Status, ProfileResponse?)`, `ProfileResponse (Option*, Transaction+)` with
/// `effectiveDate` `#REQUIRED` (a date-time with its zone), `Transaction (URL, Option*)` with
/// `requestName` `#REQUIRED`. `url` is where the sender posted the request (the server knows
/// it from the request: scheme, `Host` and path); it is escaped, never checked here.
pub fn profile_response(url: &str, host: &str) -> Vec<u8> {
    let payload = new_payload_id(host);
    let ts = timestamp_now();
    let url = escape(url, false);
    let transactions: String = PROFILE_TRANSACTIONS
        .iter()
        .map(|name| {
            format!(
                "\n      <Transaction requestName=\"{name}\">\n        <URL>{url}</URL>\n      \
                 </Transaction>"
            )
        })
        .collect();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <!DOCTYPE cXML SYSTEM \"http://xml.cxml.org/schemas/cXML/{CXML_VERSION}/cXML.dtd\">\n\
         <cXML payloadID=\"{}\" timestamp=\"{ts}\" xml:lang=\"en-US\">\n  <Response>\n    \
         <Status code=\"200\" text=\"OK\"/>\n    \
         <ProfileResponse effectiveDate=\"{PROFILE_EFFECTIVE_DATE}\">{transactions}\n    \
         </ProfileResponse>\n  </Response>\n</cXML>\n",
        escape(&payload, true)
    )
    .into_bytes()
}

/// Reads the `Response/Status` of a cXML answer (through the hardened reader).
pub fn parse(raw: &[u8]) -> Result<Status, CxmlError> {
    let tree = parse_one(raw, &Limits::default())?;
    let root = tree.root().ok_or_else(|| CxmlError::Syntax {
        location: "input".into(),
        message: "no root element; expected <cXML>".into(),
    })?;
    if root.name() != "cXML" {
        return Err(root.invalid(format!(
            "root element is <{}>; expected <cXML>",
            root.name()
        )));
    }
    let response = root
        .child("Response")
        .ok_or_else(|| root.invalid("expected a Response element"))?;
    let status = response
        .child("Status")
        .ok_or_else(|| response.invalid("expected a Status element"))?;
    let raw_code = status.attr_opt("code").ok_or_else(|| {
        CxmlError::invalid(
            status.attr_location("code"),
            "missing: Status@code is required",
        )
    })?;
    let code = raw_code.parse::<u16>().map_err(|_| {
        CxmlError::invalid(
            status.attr_location("code"),
            format!("{raw_code:?} is not a status code (expected a number such as 200)"),
        )
    })?;
    Ok(Status {
        code,
        text: status.attr("text").unwrap_or_default().to_string(),
        message: status.text_opt().map(str::to_string),
    })
}
