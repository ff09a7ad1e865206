//! Writing records of several types into one CSV file: each record type gets a header row
//! naming the union of its columns, written just before its first record.

use std::borrow::Cow;
use std::collections::HashMap;

use gateway_core::EncodeError;

use crate::header::normalize;

/// One record to write: its type (first cell) and its named cells.
///
/// Values borrow from the document where they are its text as is, so writing a file copies
/// each string once, into the output.
#[derive(Debug, Clone, Default)]
pub struct Record<'a> {
    pub kind: &'static str,
    pub cells: Vec<(Cow<'static, str>, Cow<'a, str>)>,
}

/// Cells a record usually has; reserved up front so the cell list does not regrow.
const USUAL_CELLS: usize = 16;

impl<'a> Record<'a> {
    pub fn new(kind: &'static str) -> Self {
        Record {
            kind,
            cells: Vec::with_capacity(USUAL_CELLS),
        }
    }

    /// Sets a cell of a column the encoder names itself (each at most once per record); an
    /// empty value is left out.
    pub fn set(&mut self, column: &'static str, value: Option<impl Into<Cow<'a, str>>>) {
        if let Some(value) = value.map(Into::into).filter(|v| !v.is_empty()) {
            self.cells.push((Cow::Borrowed(column), value));
        }
    }

    /// Sets a cell that is written even when empty (key columns).
    pub fn always(&mut self, column: &'static str, value: Option<impl Into<Cow<'a, str>>>) {
        self.cells.push((
            Cow::Borrowed(column),
            value.map_or(Cow::Borrowed(""), Into::into),
        ));
    }

    /// Sets a cell from an extension: a column of the same normalized name is replaced, so
    /// extension values override what the model wrote.
    fn set_named(&mut self, column: &str, value: String) {
        if value.is_empty() {
            return;
        }
        let n = normalize(column);
        match self.cells.iter_mut().find(|(c, _)| normalize(c) == n) {
            Some(slot) => slot.1 = Cow::Owned(value),
            None => self
                .cells
                .push((Cow::Owned(column.to_string()), Cow::Owned(value))),
        }
    }

    /// The cells of an `extensions` object (as decoded from unknown columns).
    pub fn set_extensions(&mut self, ext: Option<&serde_json::Value>) {
        if let Some(serde_json::Value::Object(m)) = ext {
            for (k, v) in m {
                self.set_named(k, crate::fields::json_text(v));
            }
        }
    }
}

/// How header rows start: with the record type (`Invoice,Invoice Number,...`) or with the
/// word `type` (`type,id,status,...`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderStyle {
    RecordType,
    TypeWord,
}

fn csv_error(e: impl std::fmt::Display) -> EncodeError {
    EncodeError::Invalid {
        path: "csv".into(),
        message: e.to_string(),
    }
}

/// Where each record type's cells go: its columns in first-seen order, an index by name, and
/// the column of each cell position in the record of this type seen last. Records of one type
/// nearly always name the same columns in the same order, so a cell is placed by comparing it
/// with the name seen at its position, and hashed only when that differs.
struct Columns<'r> {
    kind: &'static str,
    names: Vec<&'r str>,
    index: HashMap<&'r str, usize>,
    last: Vec<usize>,
}

impl<'r> Columns<'r> {
    fn new(kind: &'static str) -> Self {
        Columns {
            kind,
            names: Vec::new(),
            index: HashMap::new(),
            last: Vec::new(),
        }
    }

    /// The column of the cell at `position` named `name`, added if new.
    fn place(&mut self, position: usize, name: &'r str) -> usize {
        if let Some(&col) = self.last.get(position)
            && self.names.get(col).is_some_and(|n| *n == name)
        {
            return col;
        }
        let col = match self.index.get(name) {
            Some(&col) => col,
            None => {
                self.index.insert(name, self.names.len());
                self.names.push(name);
                self.names.len() - 1
            }
        };
        match self.last.get_mut(position) {
            Some(slot) => *slot = col,
            None => self.last.push(col),
        }
        col
    }
}

/// Writes `records` with one header row per record type.
pub fn write(
    records: &[Record],
    style: HeaderStyle,
    delimiter: u8,
) -> Result<Vec<u8>, EncodeError> {
    // Pass 1: the columns of every record type, and the column of every cell (in record order),
    // so pass 2 places cells without looking names up again.
    let mut types: Vec<Columns> = Vec::new();
    let mut record_type: Vec<usize> = Vec::with_capacity(records.len());
    let mut placed: Vec<usize> = Vec::new();
    for r in records {
        let t = match types.iter().position(|c| c.kind == r.kind) {
            Some(t) => t,
            None => {
                types.push(Columns::new(r.kind));
                types.len() - 1
            }
        };
        record_type.push(t);
        if let Some(columns) = types.get_mut(t) {
            for (position, (c, _)) in r.cells.iter().enumerate() {
                placed.push(columns.place(position, c.as_ref()));
            }
        }
    }
    let mut w = csv::WriterBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    let mut headed = vec![false; types.len()];
    let mut row: Vec<&str> = Vec::new();
    let mut placed = placed.iter();
    for (r, &t) in records.iter().zip(&record_type) {
        let (Some(columns), Some(headed)) = (types.get(t), headed.get_mut(t)) else {
            continue;
        };
        if !*headed {
            *headed = true;
            let first = match style {
                HeaderStyle::RecordType => r.kind,
                HeaderStyle::TypeWord => "type",
            };
            let header = std::iter::once(first).chain(columns.names.iter().copied());
            w.write_record(header).map_err(csv_error)?;
        }
        row.clear();
        row.resize(columns.names.len() + 1, "");
        if let Some(first) = row.first_mut() {
            *first = r.kind;
        }
        for ((_, v), col) in r.cells.iter().zip(placed.by_ref()) {
            if let Some(slot) = row.get_mut(col + 1) {
                *slot = v.as_ref();
            }
        }
        w.write_record(&row).map_err(csv_error)?;
    }
    w.into_inner().map_err(csv_error)
}
