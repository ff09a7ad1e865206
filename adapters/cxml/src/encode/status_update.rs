//! `StatusUpdateRequest` with an `InvoiceStatus`: tells a cXML supplier what became of an
//! invoice it sent us.
//!
//! Why it exists: the supplier got a `200` when the gateway took its InvoiceDetailRequest, so
//! as far as its system knows the invoice is on its way to being paid. When the gateway later
//! gives the invoice up (Coupa rejected it and it is purged from the dead-letter queue), nothing
//! else would ever tell the supplier; this document does, with the reason in words.
//!
//! Element names, their order and the `InvoiceStatus@type` values follow cXML 1.2's
//! `StatusUpdateRequest` (cXML.dtd): `DocumentReference?`, `Status`, then `InvoiceStatus`, of
//! whose children only `InvoiceIDInfo` and `Comments` are written. The header is the one an
//! OrderRequest to the same partner gets: the buyer (us) is From and Sender, the supplier is
//! To.

// Tests: `adapters/cxml/tests/encode.rs`, module `status_update`, beside the other writers'.

use chrono::NaiveDate;
use gateway_core::{EncodeError, PartnerProfile};

use super::writer::Xml;
use super::{Dtd, begin, date_time, end, order_envelope};

/// Longest reason written, in characters. A supplier's system shows the comment to a person,
/// and Coupa's reasons are a sentence or two; a longer text is some system's dump that would
/// only bury the point, so it is cut.
pub const MAX_COMMENT_CHARS: usize = 2_000;

/// What became of an invoice, as cXML's `InvoiceStatus@type` names it.
///
/// A closed set because the DTD declares an enumeration: a supplier validating the document
/// refuses any other value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvoiceStatusKind {
    Processing,
    Reconciled,
    Rejected,
    Paying,
    Paid,
}

impl InvoiceStatusKind {
    /// The wire value, spelled as the DTD's enumeration spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            InvoiceStatusKind::Processing => "processing",
            InvoiceStatusKind::Reconciled => "reconciled",
            InvoiceStatusKind::Rejected => "rejected",
            InvoiceStatusKind::Paying => "paying",
            InvoiceStatusKind::Paid => "paid",
        }
    }
}

/// A status update about one invoice a supplier sent.
///
/// Borrows its text: the caller already holds it, and an update is written once.
#[derive(Debug, Clone)]
pub struct InvoiceStatusUpdate<'a> {
    /// payloadID of the supplier's InvoiceDetailRequest (written as
    /// `DocumentReference@payloadID`), so its system can match the update to what it sent;
    /// None (or blank) when unknown, and then no DocumentReference is written.
    pub payload_id: Option<&'a str>,
    /// The supplier's invoice number (`InvoiceIDInfo@invoiceID`): what a person at the
    /// supplier looks the invoice up by. Must not be blank.
    pub invoice_id: &'a str,
    /// The invoice date (`InvoiceIDInfo@invoiceDate`, written as a cXML timestamp of that
    /// date like the other dates this encoder writes); tells apart invoices whose numbers a
    /// supplier reuses.
    pub invoice_date: Option<NaiveDate>,
    pub status: InvoiceStatusKind,
    /// Why, in words (`Comments`), e.g. the reason Coupa gave. Any characters may appear
    /// (they are escaped); blank means no Comments, and more than 2,000 characters are cut
    /// and end with "…".
    pub comments: &'a str,
}

/// Writes one complete cXML `StatusUpdateRequest` document about one invoice, so the supplier
/// learns what became of an invoice it was told (by a `200`) had been taken.
///
/// The header is the one an OrderRequest to `partner` gets (From = us, To = the partner,
/// Sender = us with the outbound SharedSecret), because this is a request from the buyer's
/// side to the supplier.
///
/// Errors: [`EncodeError::Profile`] when the partner has no `[cxml]` section or lacks a
/// credential the header needs; [`EncodeError::Invalid`] for a blank invoice id or a character
/// XML 1.0 cannot carry.
pub fn encode_invoice_status_update(
    update: &InvoiceStatusUpdate<'_>,
    partner: &PartnerProfile,
) -> Result<Vec<u8>, EncodeError> {
    if update.invoice_id.trim().is_empty() {
        return Err(EncodeError::Invalid {
            path: "invoice_id".into(),
            message: "expected the supplier's invoice number (InvoiceIDInfo@invoiceID, \
                      required by cXML.dtd); found an empty one"
                .into(),
        });
    }
    let env = order_envelope(partner)?;
    let date = update.invoice_date.map(date_time);
    let comments = xml_safe(update.comments);
    let comments = bounded(comments.trim());
    let mut x = Xml::new();
    begin(&mut x, Dtd::Cxml, &env);
    x.open("StatusUpdateRequest", &[]);
    if let Some(p) = update.payload_id.filter(|p| !p.trim().is_empty()) {
        x.empty("DocumentReference", &[("payloadID", Some(p))]);
    }
    x.empty("Status", &[("code", Some("200")), ("text", Some("OK"))]);
    x.open("InvoiceStatus", &[("type", Some(update.status.as_str()))]);
    x.empty(
        "InvoiceIDInfo",
        &[
            ("invoiceID", Some(update.invoice_id)),
            ("invoiceDate", date.as_deref()),
        ],
    );
    if !comments.is_empty() {
        x.leaf("Comments", &[("xml:lang", Some("en"))], &comments);
    }
    x.close("InvoiceStatus");
    x.close("StatusUpdateRequest");
    end(&mut x);
    x.finish().map_err(|m| EncodeError::Invalid {
        path: "$".into(),
        message: m,
    })
}

/// `text` with each character XML 1.0 cannot hold (control characters other than tab and
/// line breaks, U+FFFE/U+FFFF) as a space: the reason comes from other systems (Coupa's error
/// bodies) and must get through to the supplier rather than make the notice unwritable.
fn xml_safe(text: &str) -> std::borrow::Cow<'_, str> {
    let allowed = |c: char| {
        matches!(c, '\t' | '\n' | '\r')
            || ('\u{20}'..='\u{D7FF}').contains(&c)
            || ('\u{E000}'..='\u{FFFD}').contains(&c)
            || c >= '\u{10000}'
    };
    if text.chars().all(allowed) {
        return text.into();
    }
    text.chars()
        .map(|c| if allowed(c) { c } else { ' ' })
        .collect::<String>()
        .into()
}

/// `text` cut to [`MAX_COMMENT_CHARS`] characters (never inside one) plus "…" when longer.
fn bounded(text: &str) -> std::borrow::Cow<'_, str> {
    match text.char_indices().nth(MAX_COMMENT_CHARS) {
        Some((cut, _)) => {
            let kept = text.get(..cut).unwrap_or_default().trim_end();
            format!("{kept}…").into()
        }
        None => text.into(),
    }
}
