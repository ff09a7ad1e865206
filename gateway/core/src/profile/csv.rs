//! The CSV section of a partner profile (owned by `adapter-csv`).
//!
//! Without `columns` the adapter reads and writes Coupa's own flat-file layouts (invoice import,
//! PO export). With `columns` the file is the partner's own spreadsheet export, described here
//! as data so a new supplier needs a profile, not code.

use gateway_model::DocumentKind;
use serde::Deserialize;

/// Which CSV layout a partner uses and how to read it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CsvProfile {
    /// Field delimiter; sniffed when absent.
    #[serde(default)]
    pub delimiter: Option<char>,
    /// What each row of the partner's layout describes (`invoice` or `purchase_order`);
    /// invoice when absent. Only read when `columns` is not empty.
    #[serde(default)]
    pub kind: Option<DocumentKind>,
    /// Whether the first row names the columns (default true). Without a header row, the
    /// `column` of each mapping is the 1-based column number (`"1"`, `"2"`).
    #[serde(default)]
    pub has_header: Option<bool>,
    /// chrono format of date columns (`"%d/%m/%Y"`); ISO `YYYY-MM-DD` when absent. Applies
    /// to the Coupa layouts and to a column map, reading and writing.
    #[serde(default)]
    pub date_format: Option<String>,
    /// Decimal separator of amounts and quantities (`','` for `1.234,56`); `'.'` when absent.
    /// Applies to the Coupa layouts and to a column map, reading and writing.
    #[serde(default)]
    pub decimal_separator: Option<char>,
    /// How rows become documents; see [`CsvGrouping`].
    #[serde(default)]
    pub grouping: CsvGrouping,
    /// The column whose value identifies a document when `grouping = "key"`; rows with the
    /// same value in a run belong to one document.
    #[serde(default)]
    pub key_column: Option<String>,
    /// The partner's column map, in the order columns are written when encoding. Empty: the
    /// file uses Coupa's layouts.
    #[serde(default)]
    pub columns: Vec<CsvColumn>,
    /// The partner's currency (ISO 4217, `"EUR"`), for a column map: a document whose file
    /// names none (the map has no `currency` column, or the cell is blank) is in it, and a
    /// document in it may be written through a map without a `currency` column. Without it,
    /// an invoice read through a map that has no `currency` column is refused (it would reach
    /// Coupa without one), and a document in any currency is refused by such a map's writer
    /// rather than written without it. Only read when `columns` is not empty.
    #[serde(default)]
    pub currency: Option<String>,
    /// The character set the partner's system writes and reads: `"utf-8"` (default) or
    /// `"windows-1252"` (Excel on Windows opens and saves CSV files in it). What we write is
    /// in it; a character it lacks is refused with its row and column rather than written
    /// changed. Under the default, cells that are not UTF-8 are read as Windows-1252, noted;
    /// under `"windows-1252"` every cell is read in it.
    #[serde(default)]
    pub charset: Option<gateway_model::charset::Charset>,
    /// For partners who open their files in a spreadsheet: a text cell that would run as a
    /// formula there (starting with `=`, `+`, `-`, `@`, a tab or CR, and not a number) is
    /// written with a leading `'`, and that mark is dropped again from this partner's files
    /// when they are read. Off by default: a system importing the file would keep the `'`.
    #[serde(default)]
    pub formula_guard: bool,
}

/// How the rows of a partner layout group into documents. Groups are runs of consecutive rows,
/// so reading stays streaming: a key that comes back later starts a new document.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CsvGrouping {
    /// One row per line with the header fields repeated; a new document starts when the
    /// document number (the column mapped to `invoice_number` / `po_number`) changes.
    #[default]
    Repeated,
    /// Rows with the same value in `key_column` form one document; header fields are read from
    /// the first row of the run and may be blank on the others.
    Key,
    /// Every row is a document of its own with one line.
    Row,
}

/// One column of a partner layout: the column's header (or 1-based number) and the canonical
/// field it holds, as a dotted path (`invoice_number`, `supplier.ids.coupa`,
/// `ship_to.address.city`, `lines.unit_price`, `extensions.cost_center`, `ignore`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CsvColumn {
    pub column: String,
    pub field: String,
}

impl CsvGrouping {
    /// The name used in the profile (`repeated`, `key`, `row`), so callers outside this crate
    /// can branch on it even where the type is not re-exported.
    pub fn as_str(self) -> &'static str {
        match self {
            CsvGrouping::Repeated => "repeated",
            CsvGrouping::Key => "key",
            CsvGrouping::Row => "row",
        }
    }
}

impl CsvProfile {
    /// True when the partner has its own column map (else the Coupa layouts apply).
    pub fn has_column_map(&self) -> bool {
        !self.columns.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_map_parses_from_toml() {
        let text = r#"
delimiter = ";"
kind = "purchase_order"
has_header = false
date_format = "%Y%m%d"
decimal_separator = ","
grouping = "key"
key_column = "5"
columns = [
  { column = "5", field = "po_number" },
  { column = "26", field = "lines.line_number" },
]
"#;
        let p: CsvProfile = toml::from_str(text).unwrap();
        assert_eq!(p.kind, Some(DocumentKind::PurchaseOrder));
        assert_eq!(p.grouping.as_str(), "key");
        assert_eq!(p.columns.len(), 2);
        assert_eq!(p.columns[1].field, "lines.line_number");
        assert!(p.has_column_map());
        assert_eq!(p.currency, None);
        let fixed: CsvProfile = toml::from_str("currency = \"EUR\"\n").unwrap();
        assert_eq!(fixed.currency.as_deref(), Some("EUR"));
    }

    #[test]
    fn unknown_csv_keys_are_refused() {
        let r: Result<CsvProfile, _> = toml::from_str("colums = []\n");
        assert!(r.is_err());
    }
}
