//! Header names matched by meaning, not spelling: `Invoice Number*`, `invoice number`,
//! `invoice-number` and `INVOICE_NUMBER` are the same column.

/// The comparable form of a header: lower case, with whitespace (any, as `str::trim` sees it,
/// so a name and its trimmed spelling always compare equal), dashes, underscores, dots, `*`
/// (Coupa's "required" mark) and `?` removed.
pub fn normalize(name: &str) -> String {
    name.chars()
        .filter(|c| !is_filler_char(*c))
        .flat_map(char::to_lowercase)
        .collect()
}

/// An ASCII byte that [`normalize`] drops: whitespace (including vertical tab and form feed,
/// which `u8::is_ascii_whitespace` leaves out but `str::trim` removes) and the fillers.
pub fn is_name_filler(b: u8) -> bool {
    matches!(
        b,
        b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | b'-' | b'_' | b'.' | b'*' | b'?'
    )
}

/// A character that [`normalize`] drops: the ASCII fillers and any Unicode whitespace (the
/// no-break space among them).
fn is_filler_char(c: char) -> bool {
    c.is_whitespace() || u8::try_from(c).is_ok_and(is_name_filler)
}

/// True when `cell` normalizes to `target` (already normalized), without allocating: used on
/// every data row to tell header rows from records.
pub fn is_named(cell: &str, target: &str) -> bool {
    // Normalizing never lengthens ASCII text, so a shorter cell cannot match.
    if cell.len() < target.len() && cell.is_ascii() {
        return false;
    }
    if cell.is_ascii() {
        // Byte by byte: header cells are ASCII nearly always.
        let mut t = target.bytes();
        for b in cell.bytes() {
            if is_name_filler(b) {
                continue;
            }
            if t.next() != Some(b.to_ascii_lowercase()) {
                return false;
            }
        }
        return t.next().is_none();
    }
    let mut t = target.chars();
    for c in cell.chars() {
        if is_filler_char(c) {
            continue;
        }
        if c.is_ascii() {
            if t.next() != Some(c.to_ascii_lowercase()) {
                return false;
            }
            continue;
        }
        for l in c.to_lowercase() {
            if t.next() != Some(l) {
                return false;
            }
        }
    }
    t.next().is_none()
}

/// A header row: each column's normalized name, and its text as written (for messages and
/// extension keys).
#[derive(Debug, Clone, Default)]
pub struct Header {
    pub names: Vec<String>,
    pub written: Vec<String>,
    /// The file row the header was read from (0 when it was not read from a file).
    pub row: u64,
}

impl Header {
    pub fn new<'a>(cells: impl Iterator<Item = &'a str>) -> Self {
        let mut h = Header::default();
        for c in cells {
            h.names.push(normalize(c));
            // Coupa marks required columns with `*`; the mark is not part of the name.
            h.written
                .push(c.trim().trim_end_matches('*').trim_end().to_string());
        }
        h
    }

    /// Why this header cannot be used: a name given to two data columns (`Invoice Number` and
    /// `invoice-number` are one name) from column `first` on (1 in the Coupa layouts, whose
    /// first column holds the record type, not data). Which of them a field comes from would be
    /// a guess, and the other's values would be kept under the same name.
    pub fn duplicate(&self, first: usize) -> Option<String> {
        for (i, n) in self.names.iter().enumerate().skip(first) {
            if n.is_empty() {
                continue;
            }
            if let Some(j) = self.names.iter().skip(i + 1).position(|m| m == n) {
                return Some(format!(
                    "the header names {:?} twice (columns {} and {}); a header names each column once: remove or rename one",
                    self.written(i),
                    i + 1,
                    i + j + 2
                ));
            }
        }
        None
    }

    /// The header read from file row `row`.
    pub fn at(mut self, row: u64) -> Self {
        self.row = row;
        self
    }

    /// How many columns it names: up to its last named column (the empty names a spreadsheet
    /// leaves after it do not count).
    pub fn named_width(&self) -> usize {
        self.names
            .iter()
            .rposition(|n| !n.is_empty())
            .map_or(0, |i| i + 1)
    }

    /// `the header row (row 2)`, or `the header row` when it was not read from a file.
    pub fn describe(&self) -> String {
        match self.row {
            0 => "the header row".to_string(),
            r => format!("the header row (row {r})"),
        }
    }

    /// Index of the first column whose normalized name is one of `names`.
    pub fn find(&self, names: &[&str]) -> Option<usize> {
        names
            .iter()
            .find_map(|n| self.names.iter().position(|h| h == n))
    }

    /// The column's name as written in the file (`column 3` when unnamed).
    pub fn written(&self, index: usize) -> String {
        match self.written.get(index) {
            Some(w) if !w.is_empty() => w.clone(),
            _ => format!("column {}", index + 1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spelling_variants_match() {
        assert_eq!(normalize("Invoice Number*"), "invoicenumber");
        assert_eq!(normalize("invoice-number"), "invoicenumber");
        assert_eq!(normalize(" INVOICE_NUMBER "), "invoicenumber");
        assert_eq!(normalize("Submit For Approval?"), "submitforapproval");
        assert!(is_named("Invoice Number*", "invoicenumber"));
        assert!(is_named("line-number", "linenumber"));
        assert!(!is_named("line-numbers", "linenumber"));
        assert!(!is_named("line", "linenumber"));
    }

    #[test]
    fn is_named_agrees_with_normalize() {
        let cells = [
            "Invoice Number*",
            "INVOICE_NUMBER",
            "invoice.number?",
            "Invoice\tNumber",
            "Invoice\u{a0}Number",
            "line-number\u{b}\u{b}",
            "Line\u{2003}Number\u{85}",
            "Straße",
            "STRASSE",
            "strasse",
            "İnvoice Number",
            "invoicenumbers",
            "invoice",
            "",
            "*",
            "Ünit Price",
            "ünitprice",
            "UNIT-PRICE",
        ];
        let targets = [
            "linenumber",
            "invoicenumber",
            "strasse",
            "straße",
            "ünitprice",
            "unitprice",
            "",
        ];
        for cell in cells {
            for target in targets {
                assert_eq!(
                    is_named(cell, target),
                    normalize(cell) == target,
                    "{cell:?} against {target:?}"
                );
            }
        }
    }

    #[test]
    fn find_returns_first_alias_present() {
        let h = Header::new(["type", "Supplier Name", "id"].into_iter());
        assert_eq!(h.find(&["ponumber", "id"]), Some(2));
        assert_eq!(h.find(&["suppliername"]), Some(1));
        assert_eq!(h.find(&["nothing"]), None);
        assert_eq!(h.written(1), "Supplier Name");
    }
}
