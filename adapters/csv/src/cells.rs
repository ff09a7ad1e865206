//! Reading the cells of one row into model values, collecting every bad cell of the row as a
//! located reject (`row 7, column "Price"`) instead of stopping at the first.

use chrono::NaiveDate;
use gateway_core::Reject;
use gateway_model::Text;
use rust_decimal::Decimal;

use crate::header::Header;
use crate::rows::Row;
use crate::value::{CellError, ValueFormat, boolean, whole};

/// One row being read against its header.
#[derive(Debug)]
pub struct Cells<'r> {
    pub row: &'r Row,
    pub header: &'r Header,
    pub fmt: &'r ValueFormat,
    pub problems: Vec<Reject>,
    /// Set by [`Cells::against_header`] when the row has fewer cells than its header names:
    /// the row and what its missing cells are, for the document's note.
    pub short: Option<String>,
}

/// Cells beyond the header quoted in a reject, at most.
const MAX_QUOTED_EXTRAS: usize = 3;
/// Longest quoted cell in a reject, in characters.
const MAX_QUOTED_CHARS: usize = 40;

impl<'r> Cells<'r> {
    pub fn new(row: &'r Row, header: &'r Header, fmt: &'r ValueFormat) -> Self {
        Cells {
            row,
            header,
            fmt,
            problems: Vec::new(),
            short: None,
        }
    }

    /// Checks the row's width against its header (a Coupa layout's header row, which names
    /// every column the records of its type have). A cell past the last named column that holds
    /// a value has no column to be read into and would be lost: a problem with the row. A row
    /// with fewer cells is read with the missing ones empty (some exporters leave trailing
    /// empty cells out) and noted in [`Cells::short`].
    pub fn against_header(mut self) -> Self {
        let named = self.header.named_width();
        let count = self.row.cells.len();
        if named == 0 {
            return self;
        }
        if count > named {
            let extra: Vec<(usize, &str)> = self
                .row
                .cells
                .iter()
                .enumerate()
                .skip(named)
                .map(|(i, c)| (i, c.trim()))
                .filter(|(_, c)| !c.is_empty())
                .collect();
            if let Some(&(first, _)) = extra.first() {
                let mut quoted: Vec<String> = extra
                    .iter()
                    .take(MAX_QUOTED_EXTRAS)
                    .map(|(i, c)| format!("column {}: {:?}", i + 1, shorten(c)))
                    .collect();
                if extra.len() > MAX_QUOTED_EXTRAS {
                    quoted.push(format!("{} more", extra.len() - MAX_QUOTED_EXTRAS));
                }
                let message = format!(
                    "{count} cells, but {} names {named} columns: the values from column {} on \
                     ({}) have no column and would be lost (expected at most {named} cells; name \
                     the extra columns in the header row, or quote a cell that holds the \
                     delimiter)",
                    self.header.describe(),
                    first + 1,
                    quoted.join(", ")
                );
                self.problem(None, message);
            }
        } else if count < named {
            let missing: Vec<String> = (count..named)
                .filter(|i| self.header.names.get(*i).is_some_and(|n| !n.is_empty()))
                .map(|i| self.header.written(i))
                .collect();
            self.short = Some(format!(
                "{}: {count} of the {named} cells {} names ({} read as empty)",
                self.row.place(),
                self.header.describe(),
                missing.join(", ")
            ));
        }
        self
    }

    /// `row 7, column "Price"`.
    pub fn location(&self, index: Option<usize>) -> String {
        location(self.row, self.header, index)
    }

    /// Records a problem with a cell (or the row when `index` is `None`).
    pub fn problem(&mut self, index: Option<usize>, message: impl Into<String>) {
        let location = self.location(index);
        self.problems.push(Reject::new(location, message));
    }

    fn cell_error(&mut self, index: Option<usize>, e: CellError) {
        self.problem(index, format!("{} (expected {})", e.found, e.expected));
    }

    /// The trimmed cell, `None` when empty or absent.
    pub fn text(&self, index: Option<usize>) -> Option<Text> {
        let s = self.row.get(index);
        (!s.is_empty()).then(|| Text::from(s))
    }

    pub fn raw(&self, index: Option<usize>) -> &'r str {
        self.row.get(index)
    }

    pub fn decimal(&mut self, index: Option<usize>) -> Option<Decimal> {
        let s = self.row.get(index);
        if s.is_empty() {
            return None;
        }
        match self.fmt.decimal(s) {
            Ok(d) => Some(d),
            Err(e) => {
                self.cell_error(index, e);
                None
            }
        }
    }

    pub fn date(&mut self, index: Option<usize>) -> Option<NaiveDate> {
        let s = self.row.get(index);
        if s.is_empty() {
            return None;
        }
        match self.fmt.date(s) {
            Ok(d) => Some(d),
            Err(e) => {
                self.cell_error(index, e);
                None
            }
        }
    }

    pub fn whole(&mut self, index: Option<usize>) -> Option<u32> {
        let s = self.row.get(index);
        if s.is_empty() {
            return None;
        }
        match whole(s) {
            Ok(n) => Some(n),
            Err(e) => {
                self.cell_error(index, e);
                None
            }
        }
    }

    pub fn boolean(&mut self, index: Option<usize>) -> Option<bool> {
        let s = self.row.get(index);
        if s.is_empty() {
            return None;
        }
        match boolean(s) {
            Ok(b) => Some(b),
            Err(e) => {
                self.cell_error(index, e);
                None
            }
        }
    }

    /// The non-empty cells of `columns`, keyed by their header as written, for `extensions`.
    pub fn extras(&self, columns: &[usize]) -> Option<serde_json::Value> {
        let mut map = serde_json::Map::new();
        for &i in columns {
            let v = self.row.get(Some(i));
            if !v.is_empty() {
                map.insert(self.header.written(i), serde_json::Value::String(v.into()));
            }
        }
        (!map.is_empty()).then_some(serde_json::Value::Object(map))
    }
}

/// Where cell `index` of `row` is (`row 7, column "Price"`), or the row when `index` is
/// `None`: what [`Cells::location`] says, for callers that hold the row and header apart
/// from the cells' problem list.
pub fn location(row: &Row, header: &Header, index: Option<usize>) -> String {
    match index {
        Some(i) => format!("{}, column {:?}", row.place(), header.written(i)),
        None => row.place(),
    }
}

/// `s`, cut to [`MAX_QUOTED_CHARS`] characters with `…` when longer.
pub(crate) fn shorten(s: &str) -> String {
    match s.char_indices().nth(MAX_QUOTED_CHARS) {
        Some((i, _)) => format!("{}…", s.get(..i).unwrap_or(s)),
        None => s.to_string(),
    }
}
