//! The invoice a credit or debit memo corrects. The canonical model has no field for it, so
//! each decoder keeps it in `extensions` as the sender wrote it: cXML `InvoiceIDInfo`
//! (`cxml.original_invoice_id`, `cxml.original_invoice_date`), X12 `REF*OI` (a kept header
//! segment), Coupa CSV `Original Invoice Number` and `Original Invoice Date` (unknown columns
//! of the `Invoice` record, kept in `extensions.csv` under the header as the file spelt it).
//! Coupa takes it as `original-invoice-number` and `original-invoice-date`; without it a
//! credit note reaches AP unlinked, to be matched by hand.
//!
//! [`original_invoice`] reads all three forms, so an encoder whose own form is absent writes
//! the original invoice from it (and a memo keeps it from one format to another).

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
    let number = text("original_invoice_id")
        .or_else(|| x12_ref_oi(inv))
        .or_else(|| csv_cell(inv, CSV_NUMBER_NAMES).map(|(_, v)| v));
    // A cXML date is a timestamp (`2026-03-01T09:00:00-05:00`): its date part is the date. A
    // CSV date is read when written as ISO (`2026-03-01`, the layouts' default format).
    let date = text("original_invoice_date")
        .or_else(|| csv_cell(inv, CSV_DATE_NAMES).map(|(_, v)| v))
        .and_then(|d| d.get(..10))
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
    OriginalInvoice { number, date }
}

/// The Coupa invoice import's column for the original invoice number, as the CSV writer names
/// it.
pub const CSV_NUMBER_COLUMN: &str = "Original Invoice Number";
/// The Coupa invoice import's column for the original invoice date.
pub const CSV_DATE_COLUMN: &str = "Original Invoice Date";

/// Header spellings (compared as the CSV reader compares headers: case, whitespace, `-`, `_`,
/// `.`, `*` and `?` aside) of the number's column.
const CSV_NUMBER_NAMES: &[&str] = &[
    "originalinvoicenumber",
    "originalinvoiceno",
    "originalinvoiceid",
];
const CSV_DATE_NAMES: &[&str] = &["originalinvoicedate"];

/// The CSV header normalization (`adapter_csv::header::normalize`) in compare form.
pub(crate) fn csv_named(header: &str, target: &str) -> bool {
    let mut want = target.chars();
    for c in header.chars() {
        if c.is_whitespace() || matches!(c, '-' | '_' | '.' | '*' | '?') {
            continue;
        }
        let mut lower = c.to_lowercase();
        if !lower.all(|l| want.next() == Some(l)) {
            return false;
        }
    }
    want.next().is_none()
}

/// The first non-empty cell of `extensions.csv` whose column is one of `names`: its key (as
/// kept) and trimmed text.
fn csv_cell<'a>(inv: &'a Invoice, names: &[&str]) -> Option<(&'a str, &'a str)> {
    inv.extensions
        .get("csv")?
        .as_object()?
        .iter()
        .filter(|(k, _)| names.iter().any(|n| csv_named(k, n)))
        .find_map(|(k, v)| {
            let v = v.as_str().map(str::trim).filter(|s| !s.is_empty())?;
            Some((k.as_str(), v))
        })
}

/// Whether `extensions.csv` holds a column (any spelling) for the original invoice number
/// (`date: false`) or date (`date: true`), empty or not: the CSV writer then writes that
/// column as kept and not the one of its own.
pub fn csv_has_column(inv: &Invoice, date: bool) -> bool {
    let names = if date {
        CSV_DATE_NAMES
    } else {
        CSV_NUMBER_NAMES
    };
    inv.extensions
        .get("csv")
        .and_then(Value::as_object)
        .is_some_and(|m| m.keys().any(|k| names.iter().any(|n| csv_named(k, n))))
}

/// Whether the invoice keeps an X12 header `REF*OI` (whatever its REF02): the 810 writer
/// then writes that one and no other.
pub fn x12_has_ref_oi(inv: &Invoice) -> bool {
    x12_segments(inv).is_some_and(|mut s| s.any(|seg| is_ref_oi(&seg)))
}

fn x12_segments(inv: &Invoice) -> Option<impl Iterator<Item = &Vec<Value>>> {
    Some(
        inv.extensions
            .get("x12")?
            .get("segments")?
            .as_array()?
            .iter()
            .filter_map(Value::as_array),
    )
}

fn is_ref_oi(s: &&Vec<Value>) -> bool {
    s.first().and_then(Value::as_str) == Some("REF")
        && s.get(1).and_then(Value::as_str).map(str::trim) == Some("OI")
}

/// REF02 of the first kept `REF*OI` (original invoice number) of an 810.
fn x12_ref_oi(inv: &Invoice) -> Option<&str> {
    x12_segments(inv)?
        .find(is_ref_oi)?
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

    #[test]
    fn a_csv_memo_names_what_it_corrects_in_its_kept_columns() {
        let csv = invoice(
            r#"{"csv": {"Cost Center": "7", "original-invoice-number*": " INV-9 ", "ORIGINAL INVOICE DATE": "2026-02-03"}}"#,
        );
        assert_eq!(
            original_invoice(&csv),
            OriginalInvoice {
                number: Some("INV-9"),
                date: NaiveDate::from_ymd_opt(2026, 2, 3)
            }
        );
        assert!(csv_has_column(&csv, false) && csv_has_column(&csv, true));
        // Another format's form comes first; an empty or non-ISO cell says nothing.
        let both = invoice(
            r#"{"cxml": {"original_invoice_id": "INV-1"}, "csv": {"Original Invoice Number": "INV-2"}}"#,
        );
        assert_eq!(original_invoice(&both).number, Some("INV-1"));
        let odd = invoice(
            r#"{"csv": {"Original Invoice Number": " ", "Original Invoice Date": "03/02/2026", "Original Invoice Numbers": "X"}}"#,
        );
        assert_eq!(original_invoice(&odd), OriginalInvoice::default());
        assert!(csv_has_column(&odd, false));
        assert!(!csv_has_column(&invoice("{}"), true));
    }

    #[test]
    fn a_kept_ref_oi_is_found_even_without_a_number() {
        assert!(x12_has_ref_oi(&invoice(
            r#"{"x12": {"segments": [["REF", "OI"]]}}"#
        )));
        assert!(!x12_has_ref_oi(&invoice(
            r#"{"x12": {"segments": [["REF", "DP", "OI"]]}}"#
        )));
    }
}
