//! What writing a document as an X12 810 or 850 leaves out because the transaction set has no
//! place for it, named so that a conversion says so instead of losing it without a word
//! ([`left_out()`]; the writer itself writes what has a place and refuses what is malformed).
//!
//! - An invoice line's comments (`lines[].extensions.cxml.comments`, a cXML line's
//!   `Comments`): the 810's IT1 loop has no segment for free-form text (X12 004010 and
//!   005010: no NTE, MSG or N9 loop there; the heading NTE is the invoice's, and PID is the
//!   item's description), so they are not written. An order line's go in its PO1 loop's
//!   `MSG` segments ([`crate::line_loop`]).
//! - What a payment term cXML kept holds beyond an ITD's elements (see [`crate::tiers`]).

use gateway_model::Document;

/// One part of a document an X12 810/850 leaves out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeftOut {
    /// The canonical path of what is left out (`$.lines[2].extensions.cxml.comments`).
    pub path: String,
    /// Why, in words.
    pub reason: String,
}

impl std::fmt::Display for LeftOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.reason)
    }
}

/// Why an invoice line's comments are not written.
const NO_LINE_TEXT_IN_810: &str = "an 810's IT1 loop has no segment for free-form text (X12 004010 and 005010: no NTE or MSG there), so the line's comments are not written";

/// What writing `doc` as X12 leaves out, in document order; empty when X12 carries all of it
/// that the writer knows of.
pub fn left_out(doc: &Document) -> Vec<LeftOut> {
    let mut out = Vec::new();
    match doc {
        Document::Invoice(inv) => {
            crate::tiers::left_out(&inv.extensions, &mut out);
            for (n, line) in inv.lines.iter().enumerate() {
                if let Some((format, _)) =
                    crate::line_loop::line_field(&line.extensions, "comments")
                {
                    out.push(LeftOut {
                        path: format!("$.lines[{n}].extensions.{format}.comments"),
                        reason: NO_LINE_TEXT_IN_810.into(),
                    });
                }
            }
        }
        Document::PurchaseOrder(po) => crate::tiers::left_out(&po.extensions, &mut out),
    }
    out
}
