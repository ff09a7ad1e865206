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
}

impl<'r> Cells<'r> {
    pub fn new(row: &'r Row, header: &'r Header, fmt: &'r ValueFormat) -> Self {
        Cells {
            row,
            header,
            fmt,
            problems: Vec::new(),
        }
    }

    /// `row 7, column "Price"`.
    pub fn location(&self, index: Option<usize>) -> String {
        match index {
            Some(i) => format!("{}, column {:?}", self.row.place(), self.header.written(i)),
            None => self.row.place(),
        }
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
