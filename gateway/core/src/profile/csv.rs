//! The CSV section of a partner profile (owned by `adapter-csv`).
//!
//! Without `columns` the adapter reads and writes Coupa's own flat-file layouts (invoice import,
//! PO export). With `columns` the file is the partner's own spreadsheet export, described here
//! as data so a new supplier needs a profile, not code.

use gateway_model::DocumentKind;
use serde::Deserialize;

use super::section_problems::{Entry, SectionProblem};

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
    /// to the Coupa layouts and to a column map, reading and writing. `%Y` takes four-digit
    /// years: `05/03/26` under it is refused (read as year 26 it reached Coupa), `%y` reads it.
    #[serde(default)]
    pub date_format: Option<String>,
    /// Decimal separator of amounts and quantities (`','` for `1.234,56`); `'.'` when absent.
    /// Applies to the Coupa layouts and to a column map, reading and writing. When absent, a
    /// `;`-separated file's numbers with a comma and no point are refused as ambiguous
    /// (European files write decimal commas): declare it to have them read.
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
    /// under `"windows-1252"` every cell is read in it, except in a file that starts with a
    /// UTF-8 byte-order mark, which is read as UTF-8 and noted.
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
/// so reading stays streaming: a key that comes back later refuses its document whole (it
/// would otherwise be delivered in two parts, or without the later rows).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CsvGrouping {
    /// One row per line with the header fields repeated; a new document starts when the
    /// document number (the column mapped to `invoice_number` / `po_number`) changes, and a
    /// row whose header fields contradict its document's first row is refused at the cell.
    #[default]
    Repeated,
    /// Rows with the same value in `key_column` form one document; header fields are read from
    /// the first row of the run and may be blank on the others; a different value there is
    /// refused at its cell.
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
    /// The decimal separator when the profile sets none.
    pub const DEFAULT_DECIMAL_SEPARATOR: char = '.';

    /// True when the partner has its own column map (else the Coupa layouts apply).
    pub fn has_column_map(&self) -> bool {
        !self.columns.is_empty()
    }

    /// Every value of this section that would make each of the partner's files fail, or be
    /// read wrong, with messages that do not blame the setting: a `date_format` chrono does not
    /// know (`%Q`) or that does not read back the date it writes (`%d/%m`, no year), a
    /// `decimal_separator` other than `.` or `,`, a `delimiter` the reader cannot take (not one
    /// ASCII character: it would guess one from the file instead; a line break, the quote, a
    /// letter or digit) or that is also the decimal separator (`1,5` would be two cells), a
    /// `currency` that is no ISO 4217 code, `grouping = "key"` without `key_column`, a column map
    /// sending two columns to one field (`CsvProfile::column_map_problems`), a column or
    /// `key_column` named by anything but its number without a header row
    /// (`CsvProfile::numbered_column_problems`). Empty when the
    /// section is sound. (An
    /// unknown `charset` is refused when the section is read; a field the CSV adapter does not
    /// know is its rule, checked by the service's configuration through the adapter.)
    ///
    /// Checked when a profile is loaded (the configuration's partners and `--partner` files),
    /// as [`super::X12Profile::problems`] is: the service otherwise started with the setting,
    /// and every file of the partner then went to `error/` with a reason about its cells
    /// ("a date in the form %Q") rather than about the profile.
    pub fn problems(&self) -> Vec<SectionProblem> {
        let mut found = Vec::new();
        let mut problem = |key: &'static str, message: String| {
            found.push(SectionProblem::new(key, message));
        };
        if let Some(f) = &self.date_format
            && let Err(why) = check_date_format(f)
        {
            problem("date_format", why);
        }
        let decimal = match self.decimal_separator {
            Some(c) if !matches!(c, '.' | ',') => {
                problem(
                    "decimal_separator",
                    format!(
                        "{c:?} is not a decimal separator: use '.' (1234.56, the default) or \
                         ',' (1234,56 and 1.234,56)"
                    ),
                );
                None
            }
            set => Some(set.unwrap_or(Self::DEFAULT_DECIMAL_SEPARATOR)),
        };
        if let Some(d) = self.delimiter {
            let why = if !d.is_ascii() {
                Some(
                    "is not an ASCII character, and the reader takes a one-byte delimiter (it \
                     would guess one from each file instead)"
                        .to_string(),
                )
            } else if d == '"' {
                Some("is the quote character, which encloses cells holding the delimiter".into())
            } else if matches!(d, '\r' | '\n') {
                Some("is a line break, which ends rows".into())
            } else if d.is_ascii_alphanumeric() {
                Some("is a letter or digit, which the cells hold".into())
            } else if Some(d) == decimal {
                Some(format!(
                    "is also the decimal separator{}: a number such as 1{d}5 would be read as two \
                     cells",
                    if self.decimal_separator.is_some() {
                        ""
                    } else {
                        " (its default, as the profile does not set it)"
                    }
                ))
            } else {
                None
            };
            if let Some(why) = why {
                problem(
                    "delimiter",
                    format!(
                        "{d:?} {why}: use one punctuation character other than the decimal \
                         separator, such as {}",
                        delimiter_suggestions(d, decimal)
                    ),
                );
            }
        }
        if let Some(c) = &self.currency {
            let t = c.trim();
            if !(t.len() == 3 && t.bytes().all(|b| b.is_ascii_uppercase())) {
                problem(
                    "currency",
                    format!(
                        "{c:?} is not an ISO 4217 code: three upper-case letters such as \"EUR\""
                    ),
                );
            }
        }
        if self.grouping == CsvGrouping::Key && self.key_column.is_none() {
            problem(
                "grouping",
                "\"key\" needs key_column, the column whose value tells the documents apart".into(),
            );
        }
        found.extend(self.column_map_problems());
        found.extend(self.numbered_column_problems());
        found
    }

    /// Without a header row (`has_header = false`) a column is known by its number only: a
    /// map naming `"Faktura"` there read every file as missing that column, and the reader's
    /// error blamed the file ("not in this file's header (it has [])") rather than the profile.
    fn numbered_column_problems(&self) -> Vec<SectionProblem> {
        if self.has_header != Some(false) {
            return Vec::new();
        }
        let fix = "with has_header = false, columns must be numbers (\"1\" for the first \
                   column): name each column by its number, or set has_header = true if the \
                   file's first row names the columns";
        let mut found = Vec::new();
        let named: Vec<(usize, &str)> = self
            .columns
            .iter()
            .enumerate()
            .filter(|(_, c)| column_number(&c.column).is_none())
            .map(|(i, c)| (i, c.column.as_str()))
            .collect();
        // One problem for the map, at its first such column: a whole map of names is one
        // mistake, said once.
        if let Some((first, name)) = named.first() {
            let others = match named.len() - 1 {
                0 => String::new(),
                n => format!(
                    " (and {n} more: {}{})",
                    named
                        .iter()
                        .skip(1)
                        .take(SHOWN_NAMES)
                        .map(|(_, c)| format!("{c:?}"))
                        .collect::<Vec<_>>()
                        .join(", "),
                    if n > SHOWN_NAMES { ", …" } else { "" }
                ),
            };
            found.push(SectionProblem::at_entry(
                "columns",
                Entry::Index(*first),
                format!("names column {name:?}, which is not a number{others}: {fix}"),
            ));
        }
        if let Some(k) = &self.key_column
            && column_number(k).is_none()
        {
            found.push(SectionProblem::new(
                "key_column",
                format!("{k:?} is not a number: {fix}"),
            ));
        }
        found
    }

    /// What makes a column map read every file wrong: two columns sending their values to one
    /// field (the last column's value won, and an invoice with `Bestellnr` after `Rechnungsnr`
    /// both mapped to `invoice_number` went to Coupa under its PO number). Whether each field
    /// is one the map may name is the adapter's rule (`adapter-csv`), checked where the
    /// adapter is at hand (the service's configuration).
    fn column_map_problems(&self) -> Vec<SectionProblem> {
        let mut found = Vec::new();
        let mut first: std::collections::BTreeMap<&str, (usize, &str)> = Default::default();
        for (i, c) in self.columns.iter().enumerate() {
            let field = c.field.trim();
            if takes_several_columns(field) {
                continue;
            }
            match first.entry(field) {
                std::collections::btree_map::Entry::Vacant(v) => {
                    v.insert((i, c.column.as_str()));
                }
                std::collections::btree_map::Entry::Occupied(o) => {
                    let (j, earlier) = *o.get();
                    found.push(SectionProblem::at_entry(
                        "columns",
                        Entry::Index(i),
                        format!(
                            "maps column {:?} to {field:?}, which column {earlier:?} \
                             (columns[{j}]) is mapped to already: a field takes one column \
                             (with two, the last one's value would win); map one of them to \
                             the field it holds, or to \"ignore\"",
                            c.column
                        ),
                    ));
                }
            }
        }
        found
    }

    /// An invoice column map that can never say the currency (no `currency` column and no
    /// `currency`): the reader refuses every invoice of the partner (Coupa refuses one without
    /// a currency) and the writer every document, so the service refuses the profile when it
    /// starts, saying to add either. Not part of [`CsvProfile::problems`], which
    /// [`super::PartnerProfile::from_toml`] applies to every profile file: a profile for
    /// showing that refusal (the CSV adapter's tests) stays loadable.
    pub fn missing_currency_problem(&self) -> Option<SectionProblem> {
        let invoice = self.kind.unwrap_or(DocumentKind::Invoice) == DocumentKind::Invoice;
        (invoice
            && self.has_column_map()
            && self.currency.is_none()
            && !self.columns.iter().any(|c| c.field.trim() == "currency"))
        .then(|| {
            SectionProblem::new(
                "columns",
                "maps no column to \"currency\" and the section sets no currency, so no \
                 invoice read through it would have one (Coupa refuses an invoice without \
                 one, and the reader refuses them all): map the column holding the currency \
                 to \"currency\", or add currency = \"EUR\" (the partner's ISO 4217 code) to \
                 the section"
                    .into(),
            )
        })
    }
}

/// How many further column names a problem with a map's names lists.
const SHOWN_NAMES: usize = 5;

/// The index (from 0) of the column a map names in a file without a header row
/// (`has_header = false`), where `column` is its number from 1, optionally after `#` (`"3"`,
/// `"#3"`); `None` for anything else, `"0"` included. The one rule for the profile's check,
/// the CSV reader and its writer.
pub fn column_number(column: &str) -> Option<usize> {
    column
        .trim()
        .trim_start_matches('#')
        .parse::<usize>()
        .ok()
        .and_then(|n| n.checked_sub(1))
}

/// Fields a map may send several columns to: `ignore`, and a party's street lines (each
/// column mapped to `<party>.address.lines` adds the next line).
fn takes_several_columns(field: &str) -> bool {
    field == "ignore" || field.ends_with(".address.lines")
}

/// The usual delimiters, less `rejected` and the decimal separator: a suggestion that is the
/// value at fault, or clashes with the decimal comma, sends the operator round again.
fn delimiter_suggestions(rejected: char, decimal: Option<char>) -> String {
    let usable: Vec<&str> = [
        (',', "','"),
        (';', "';'"),
        ('|', "'|'"),
        ('\t', "a tab (\"\\t\")"),
    ]
    .into_iter()
    .filter(|(c, _)| *c != rejected && Some(*c) != decimal)
    .map(|(_, shown)| shown)
    .collect();
    match usable.split_last() {
        Some((last, [])) => (*last).to_string(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    }
}

/// The dates a `date_format` must write and read back: a day and a month that cannot be
/// taken for each other, with and without a leading zero.
const SAMPLE_DATES: [(i32, u32, u32); 2] = [(2026, 11, 23), (2026, 1, 5)];

/// Whether chrono knows every specifier of `format` and it reads back each date it writes (it
/// has a day, a month and a year). Written as a date at midnight with a zero offset, so a
/// format that also holds a time or an offset (a partner exporting timestamps, which reading
/// takes the date of) passes.
fn check_date_format(format: &str) -> Result<(), String> {
    use chrono::format::{Item, StrftimeItems};
    use std::fmt::Write;
    if StrftimeItems::new(format).any(|i| matches!(i, Item::Error)) {
        return Err(format!(
            "{format:?} is not a chrono date format (it holds a % specifier chrono does not \
             know, or a lone %): use specifiers such as %d (day), %m (month), %Y or %y (year), \
             %b (month name), as in \"%d/%m/%Y\", \"%d.%m.%Y\" or \"%Y%m%d\""
        ));
    }
    for (y, m, d) in SAMPLE_DATES {
        let Some(date) = chrono::NaiveDate::from_ymd_opt(y, m, d) else {
            continue;
        };
        let at = chrono::NaiveDateTime::from(date).and_utc().fixed_offset();
        let mut written = String::new();
        if write!(
            written,
            "{}",
            at.format_with_items(StrftimeItems::new(format))
        )
        .is_err()
        {
            return Err(format!(
                "{format:?} cannot write a date: use specifiers such as %d, %m and %Y"
            ));
        }
        match chrono::NaiveDate::parse_from_str(&written, format) {
            Ok(read) if read == date => {}
            Ok(read) => {
                return Err(format!(
                    "{format:?} does not read back the date it writes: {date} is written \
                     {written:?} and read as {read}"
                ));
            }
            Err(e) => {
                return Err(format!(
                    "{format:?} does not read back the date it writes: {date} is written \
                     {written:?}, which it cannot read ({e}); a date format needs a day, a \
                     month and a year, such as %d/%m/%Y"
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::section_problems::{SectionAt, SectionKind, problems_in_words};

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

    fn keys(text: &str) -> Vec<&'static str> {
        let p: CsvProfile = toml::from_str(text).unwrap_or_else(|e| panic!("{e}"));
        p.problems().iter().map(|p| p.key).collect()
    }

    #[test]
    fn sound_sections_have_no_problems() {
        assert!(CsvProfile::default().problems().is_empty());
        for sound in [
            "delimiter = \";\"\ndecimal_separator = \",\"\ndate_format = \"%d/%m/%Y\"\n",
            "delimiter = \"\\t\"\ndate_format = \"%Y%m%d\"\n",
            "delimiter = \"|\"\ndate_format = \"%d.%m.%y\"\n",
            "date_format = \"%m/%d/%Y\"\ndecimal_separator = \",\"\n",
            "date_format = \"%e %b %Y\"\n",
            // A partner exporting timestamps: reading takes their date.
            "date_format = \"%Y-%m-%d %H:%M:%S\"\n",
            "date_format = \"%Y-%m-%dT%H:%M:%S%z\"\n",
            "currency = \"EUR\"\ngrouping = \"key\"\nkey_column = \"No\"\n",
        ] {
            assert_eq!(keys(sound), Vec::<&str>::new(), "{sound}");
        }
    }

    /// Each of these made every file of the partner fail with a message about its cells, not
    /// the setting: they are refused when the profile is loaded.
    #[test]
    fn settings_that_fail_every_file_are_problems() {
        for (text, key) in [
            ("date_format = \"%Q\"\n", "date_format"),
            ("date_format = \"%d/%m/%\"\n", "date_format"),
            ("date_format = \"%d/%m\"\n", "date_format"),
            ("date_format = \"\"\n", "date_format"),
            ("decimal_separator = \"x\"\n", "decimal_separator"),
            (
                "decimal_separator = \";\"\ndelimiter = \";\"\n",
                "decimal_separator",
            ),
            (
                "decimal_separator = \",\"\ndelimiter = \",\"\n",
                "delimiter",
            ),
            ("delimiter = \".\"\n", "delimiter"),
            ("delimiter = \"\\\"\"\n", "delimiter"),
            ("delimiter = \"\\n\"\n", "delimiter"),
            ("delimiter = \"§\"\n", "delimiter"),
            ("delimiter = \"x\"\n", "delimiter"),
            ("currency = \"euro\"\n", "currency"),
            ("grouping = \"key\"\n", "grouping"),
        ] {
            assert_eq!(keys(text), [key], "{text}");
        }
        let p: CsvProfile = toml::from_str("delimiter = \".\"\n").unwrap();
        let words = p.problems()[0].to_string();
        assert!(
            words.starts_with("delimiter '.' is also the decimal separator (its default"),
            "{words}"
        );
        let p: CsvProfile = toml::from_str("date_format = \"%d/%m\"\n").unwrap();
        let words = p.problems()[0].to_string();
        assert!(
            words.contains(
                "\"%d/%m\" does not read back the date it writes: 2026-11-23 is written \"23/11\""
            ),
            "{words}"
        );
    }

    /// A character set the gateway does not know is refused when the section is read.
    #[test]
    fn an_unknown_charset_is_refused() {
        let err = toml::from_str::<CsvProfile>("charset = \"latin9\"\n")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.contains("latin9") && err.contains("windows-1252"),
            "{err}"
        );
    }

    /// Each problem is placed at its key's value and names the partner, in a profile file and
    /// in the configuration.
    #[test]
    fn problems_are_placed_at_their_line() {
        let file = "id = \"frsup\"\n[csv]\ndelimiter = \";\"\ndate_format = \"%Q\"\ndecimal_separator = \";\"\n";
        let csv: CsvProfile =
            toml::from_str("delimiter = \";\"\ndate_format = \"%Q\"\ndecimal_separator = \";\"\n")
                .unwrap();
        let words = problems_in_words(
            &csv.problems(),
            file,
            SectionKind::Csv,
            SectionAt::File,
            "frsup",
        );
        assert!(
            words.starts_with(
                "line 4, column 15: partner \"frsup\" [csv] date_format \"%Q\" is not a chrono date format"
            ) && words.contains(
                "; line 5, column 21: partner \"frsup\" [csv] decimal_separator ';' is not a decimal separator"
            ),
            "{words}"
        );
        let config = "[[partners]]\nid = \"a\"\n[[partners]]\nid = \"frsup\"\n[partners.csv]\ndate_format = \"%Q\"\n";
        let csv: CsvProfile = toml::from_str("date_format = \"%Q\"\n").unwrap();
        let words = problems_in_words(
            &csv.problems(),
            config,
            SectionKind::Csv,
            SectionAt::Partner(1),
            "frsup",
        );
        assert!(
            words.starts_with("line 6, column 15: partner \"frsup\" [partners.csv] date_format"),
            "{words}"
        );
        let words = problems_in_words(
            &csv.problems(),
            config,
            SectionKind::Csv,
            SectionAt::Partner(0),
            "frsup",
        );
        assert!(
            words.starts_with("partner \"frsup\" [partners.csv]"),
            "{words}"
        );
    }

    /// Two columns sent to one field: the last one's value won, and invoices went to Coupa
    /// under their PO numbers. Refused at the second column's line; street lines may repeat.
    #[test]
    fn two_columns_to_one_field_are_refused_at_the_second() {
        let file = "id = \"c\"\n[csv]\ncurrency = \"EUR\"\ncolumns = [\n  { column = \"Rechnungsnr\", field = \"invoice_number\" },\n  { column = \"Datum\", field = \"invoice_date\" },\n  { column = \"Bestellnr\", field = \" invoice_number\" },\n  { column = \"Str1\", field = \"ship_to.address.lines\" },\n  { column = \"Str2\", field = \"ship_to.address.lines\" },\n  { column = \"x\", field = \"ignore\" },\n  { column = \"y\", field = \"ignore\" },\n]\n";
        let csv: CsvProfile = toml::from_str(file.split_once("[csv]\n").unwrap().1).unwrap();
        let problems = csv.problems();
        assert_eq!(problems.len(), 1, "{problems:?}");
        let words = problems_in_words(&problems, file, SectionKind::Csv, SectionAt::File, "c");
        assert!(
            words.starts_with(
                "line 7, column 3: partner \"c\" [csv] columns[2] maps column \"Bestellnr\" to \"invoice_number\", which column \"Rechnungsnr\" (columns[0]) is mapped to already"
            ),
            "{words}"
        );
    }

    /// An invoice map with no currency column and no `csv.currency` had every invoice refused
    /// by the reader; an order map may leave it out (the receiver's default applies).
    #[test]
    fn an_invoice_map_that_cannot_say_the_currency_is_refused() {
        let missing = |text: &str| {
            let p: CsvProfile = toml::from_str(text).unwrap_or_else(|e| panic!("{e}"));
            p.missing_currency_problem().map(|p| p.to_string())
        };
        let map = "columns = [ { column = \"No\", field = \"invoice_number\" } ]\n";
        let words = missing(map).unwrap_or_default();
        assert!(
            words.contains(
                "map the column holding the currency to \"currency\", or add currency = "
            ),
            "{words}"
        );
        assert_eq!(missing(&format!("currency = \"EUR\"\n{map}")), None);
        assert_eq!(
            missing(
                "columns = [ { column = \"No\", field = \"invoice_number\" }, { column = \"Cur\", field = \"currency\" } ]\n"
            ),
            None
        );
        assert_eq!(
            missing(
                "kind = \"purchase_order\"\ncolumns = [ { column = \"No\", field = \"po_number\" } ]\n"
            ),
            None
        );
        assert_eq!(missing(""), None);
    }

    /// The suggestions for a delimiter at fault leave out the decimal separator and the value
    /// itself: `","` beside a decimal comma was told to use "',', ';', '|' or a tab".
    #[test]
    fn delimiter_suggestions_leave_out_the_clash() {
        let p: CsvProfile =
            toml::from_str("delimiter = \",\"\ndecimal_separator = \",\"\n").unwrap();
        let words = p.problems()[0].to_string();
        assert!(
            words.ends_with("such as ';', '|' or a tab (\"\\t\")"),
            "{words}"
        );
        let p: CsvProfile = toml::from_str("delimiter = \".\"\n").unwrap();
        let words = p.problems()[0].to_string();
        assert!(
            words.ends_with("such as ',', ';', '|' or a tab (\"\\t\")"),
            "{words}"
        );
    }

    /// Without a header row a column is known by its number: a map naming `"Faktura"` there
    /// was loaded, and every file then failed with "not in this file's header (it has [])".
    /// The profile is refused at the column's line; numbers (`"1"`, `"#2"`) are sound.
    #[test]
    fn named_columns_without_a_header_row_are_refused_at_their_line() {
        let file = "id = \"nordic\"\n[csv]\nhas_header = false\ncurrency = \"SEK\"\ncolumns = [\n  { column = \"1\", field = \"invoice_number\" },\n  { column = \"Datum\", field = \"invoice_date\" },\n  { column = \"#3\", field = \"lines.amount\" },\n]\n";
        let err = crate::profile::PartnerProfile::from_toml(file, "nordic.toml")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.contains(
                "line 7, column 3: partner \"nordic\" [csv] columns[1] names column \"Datum\", \
                 which is not a number: with has_header = false, columns must be numbers"
            ),
            "{err}"
        );
        assert!(
            !err.contains("columns[0]") && !err.contains("columns[2]") && !err.contains("more"),
            "{err}"
        );
        // A map of names is one mistake, said once at its first column.
        let named = file
            .replace("\"1\"", "\"Nr\"")
            .replace("\"#3\"", "\"Summa\"");
        let err = crate::profile::PartnerProfile::from_toml(&named, "nordic.toml")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.contains(
                "line 6, column 3: partner \"nordic\" [csv] columns[0] names column \"Nr\", \
                 which is not a number (and 2 more: \"Datum\", \"Summa\"): with has_header"
            ) && err.matches("columns must be numbers").count() == 1,
            "{err}"
        );
        assert_eq!(
            keys("has_header = false\ngrouping = \"key\"\nkey_column = \"No\"\n"),
            ["key_column"]
        );
        assert_eq!(
            keys("has_header = false\ngrouping = \"key\"\nkey_column = \"2\"\n"),
            Vec::<&str>::new()
        );
        // With a header row names are what the map holds.
        let named = file.replace("has_header = false", "has_header = true");
        assert!(crate::profile::PartnerProfile::from_toml(&named, "nordic.toml").is_ok());
        assert_eq!(column_number(" #3 "), Some(2));
        assert_eq!(column_number("0"), None);
    }

    #[test]
    fn unknown_csv_keys_are_refused() {
        let r: Result<CsvProfile, _> = toml::from_str("colums = []\n");
        assert!(r.is_err());
    }
}
