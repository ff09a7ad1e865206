//! The invoice a credit or debit memo corrects. The canonical model has no field for it, so
//! each decoder keeps it in `extensions` as the sender wrote it: cXML `InvoiceIDInfo`
//! (`cxml.original_invoice_id`, `cxml.original_invoice_date`), X12 `REF*OI` (a kept header
//! segment). Coupa takes it as `original-invoice-number` and `original-invoice-date`; without
//! it a credit note reaches AP unlinked, to be matched by hand.

use chrono::NaiveDate;
use gateway_model::Invoice;
use serde_json::Value;

/// The corrected invoice's number and date, as far as the memo gives them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OriginalInvoice<'a> {
    pub number: Option<&'a str>,
    pub date: Option<NaiveDate>,
}

/// What `inv` says of the invoice it corrects; both `None` when it says nothing.
pub fn original_invoice(inv: &Invoice) -> OriginalInvoice<'_> {
    let cxml = inv.extensions.get("cxml");
    let text = |key: &str| {
        cxml.and_then(|c| c.get(key))
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
    };
    let number = text("original_invoice_id").or_else(|| x12_ref_oi(inv));
    // A cXML date is a timestamp (`2026-03-01T09:00:00-05:00`): its date part is the date.
    let date = text("original_invoice_date")
        .and_then(|d| d.get(..10))
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
    OriginalInvoice { number, date }
}

/// REF02 of the first kept `REF*OI` (original invoice number) of an 810.
fn x12_ref_oi(inv: &Invoice) -> Option<&str> {
    inv.extensions
        .get("x12")?
        .get("segments")?
        .as_array()?
        .iter()
        .filter_map(Value::as_array)
        .find(|s| {
            s.first().and_then(Value::as_str) == Some("REF")
                && s.get(1).and_then(Value::as_str).map(str::trim) == Some("OI")
        })?
        .get(2)?
        .as_str()
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use gateway_model::{Document, from_json};

    fn invoice(extensions: &str) -> Invoice {
        let json = format!(
            r#"{{"kind": "invoice", "invoice_number": "CM-1", "extensions": {extensions}}}"#
        );
        match from_json(json.as_bytes()) {
            Ok(Document::Invoice(i)) => i,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn cxml_and_x12_memos_name_what_they_correct() {
        let cxml = invoice(
            r#"{"cxml": {"original_invoice_id": "INV-31", "original_invoice_date": "2026-03-01T09:00:00-05:00"}}"#,
        );
        assert_eq!(
            original_invoice(&cxml),
            OriginalInvoice {
                number: Some("INV-31"),
                date: NaiveDate::from_ymd_opt(2026, 3, 1)
            }
        );
        let x12 =
            invoice(r#"{"x12": {"segments": [["REF", "DP", "7"], ["REF", "OI", "INV-42"]]}}"#);
        assert_eq!(original_invoice(&x12).number, Some("INV-42"));
        assert_eq!(original_invoice(&invoice("{}")), OriginalInvoice::default());
        let odd = invoice(
            r#"{"cxml": {"original_invoice_date": "March"}, "x12": {"segments": [["REF", "OI"]]}}"#,
        );
        assert_eq!(original_invoice(&odd), OriginalInvoice::default());
    }
}
