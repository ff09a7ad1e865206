//! Cells a spreadsheet would run as a formula (CSV injection). A PO line description typed as
//! `=HYPERLINK(...)` in Coupa reaches the supplier's CSV, and Excel runs it when the file is
//! opened. Partners who open their files in a spreadsheet set `csv.formula_guard`: such cells
//! are written with a leading `'` (the mark spreadsheets read as "text"), and that mark is
//! dropped again when the same partner's files are read, so a round trip keeps the text.
//! Off by default: a system that imports the file would read the `'` as data.

use std::borrow::Cow;

/// The characters that start a formula in Excel, LibreOffice and Google Sheets (OWASP's list).
const TRIGGERS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// Whether `cell` would be run as a formula: it starts with a trigger and is not a number
/// (a negative amount such as `-1.234,56` or `-5` is written as it is).
fn runs_as_formula(cell: &str) -> bool {
    let Some(first) = cell.chars().next() else {
        return false;
    };
    if !TRIGGERS.contains(&first) {
        return false;
    }
    let rest = cell.get(1..).unwrap_or_default();
    let number = first == '-'
        && rest.starts_with(|c: char| c.is_ascii_digit())
        && rest
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | ',' | ' ' | '\''));
    !number
}

/// A cell as the `csv` writer takes it (`Cow<str>` is no `AsRef<[u8]>`), so a cell left as
/// it was is not copied.
pub struct Bytes<'a>(pub Cow<'a, str>);

impl AsRef<[u8]> for Bytes<'_> {
    fn as_ref(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

/// `cell` as written for a partner with the guard on.
pub fn guarded(cell: &str) -> Cow<'_, str> {
    if runs_as_formula(cell) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// `cell` as read from a partner with the guard on: the mark [`guarded`] adds, dropped.
pub fn unguarded(cell: &str) -> Option<&str> {
    let inner = cell.strip_prefix('\'')?;
    runs_as_formula(inner).then_some(inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_marked_numbers_and_text_are_not_and_reading_drops_the_mark() {
        for formula in [
            "=HYPERLINK(\"http://x\")",
            "+1 555 0100",
            "-2+3",
            "@SUM(A1)",
            "\tx",
            "\rx",
            "-A1",
            "-",
        ] {
            let written = guarded(formula);
            assert_eq!(written, format!("'{formula}"), "{formula:?}");
            assert_eq!(unguarded(&written), Some(formula), "{formula:?}");
        }
        for plain in [
            "",
            "Gloves",
            "-5",
            "-1.234,56",
            "-0.50",
            "12",
            "a=b",
            "'quoted",
        ] {
            assert_eq!(guarded(plain), plain, "{plain:?}");
            assert_eq!(unguarded(plain), None, "{plain:?}");
        }
        // A mark before text that is no formula is the partner's own: kept.
        assert_eq!(unguarded("'Gloves"), None);
    }
}
