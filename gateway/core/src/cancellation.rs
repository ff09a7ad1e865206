//! Invoices their senders mark as cancelled. The canonical model has no cancellation (its
//! `purpose` is standard, credit memo or debit memo), so each decoder keeps the sender's mark
//! in `extensions`: X12 BIG08 `01` ("cancellation"), cXML `operation="delete"`. Read as a
//! standard invoice, a cancellation was delivered to Coupa as a new invoice, or taken as a
//! copy of the one it cancels: the opposite of what the supplier asked. Coupa's API voids
//! invoices only through its own workflow, so the gateway refuses them with what to do instead.

use gateway_model::{Document, Invoice};
use serde_json::Value;

/// Where a document says it cancels an invoice, and how the sender said it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CancellationMark {
    /// The canonical path of the mark (`$.extensions.x12.elements.BIG08`), for locating it.
    pub path: &'static str,
    /// How the sender wrote it (`X12 BIG08 01`).
    pub said: &'static str,
}

/// The cancellation mark of an invoice, if it carries one.
pub fn invoice_cancellation(doc: &Document) -> Option<CancellationMark> {
    let Document::Invoice(inv) = doc else {
        return None;
    };
    if extension(inv, &["x12", "elements", "BIG08"]).is_some_and(|v| v.trim() == "01") {
        return Some(CancellationMark {
            path: "$.extensions.x12.elements.BIG08",
            said: "X12 BIG08 01",
        });
    }
    if extension(inv, &["cxml", "operation"])
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("delete"))
    {
        return Some(CancellationMark {
            path: "$.extensions.cxml.operation",
            said: "cXML operation=\"delete\"",
        });
    }
    None
}

/// How the reason for refusing a cancellation starts, so an answer can tell it apart.
pub const CANCELLATION: &str = "an invoice cancellation";

/// Why a cancellation is not delivered, and what to do instead.
pub fn cancellation_refused(mark: &CancellationMark, number: &str) -> String {
    format!(
        "{CANCELLATION} ({}): the gateway does not void invoices in Coupa, so it is not \
         delivered; ask the buyer's accounts payable to void invoice {number:?} in Coupa, \
         or send a credit memo",
        mark.said
    )
}

fn extension<'a>(inv: &'a Invoice, path: &[&str]) -> Option<&'a str> {
    let (first, rest) = path.split_first()?;
    let mut v = inv.extensions.get(*first)?;
    for key in rest {
        v = v.get(key)?;
    }
    Value::as_str(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use gateway_model::from_json;

    fn invoice(extensions: &str) -> Document {
        let json = format!(
            r#"{{"kind": "invoice", "invoice_number": "INV-1", "extensions": {extensions}}}"#
        );
        from_json(json.as_bytes()).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn the_marks_of_x12_and_cxml_are_told_from_everything_else() {
        let x12 = invoice(r#"{"x12": {"elements": {"BIG08": "01"}}}"#);
        assert_eq!(
            invoice_cancellation(&x12).map(|m| m.path),
            Some("$.extensions.x12.elements.BIG08")
        );
        let cxml = invoice(r#"{"cxml": {"operation": "delete"}}"#);
        assert_eq!(
            invoice_cancellation(&cxml).map(|m| m.said),
            Some("cXML operation=\"delete\"")
        );
        for other in [
            r#"{"x12": {"elements": {"BIG08": "00"}}}"#,
            r#"{"cxml": {"operation": "new"}}"#,
            r#"{"x12": {"elements": {"BIG08": 1}}}"#,
            "{}",
        ] {
            assert_eq!(invoice_cancellation(&invoice(other)), None, "{other}");
        }
        let refused = cancellation_refused(
            &CancellationMark {
                path: "$",
                said: "X12 BIG08 01",
            },
            "INV-1",
        );
        assert!(refused.contains("void invoice \"INV-1\""), "{refused}");
    }
}
