//! Writing records of several types into one CSV file: each record type gets a header row
//! naming the union of its columns, written just before its first record.

use std::borrow::Cow;
use std::collections::HashMap;

use gateway_core::EncodeError;

use crate::header::normalize;

/// One record to write: its type (first cell) and its named cells.
#[derive(Debug, Clone, Default)]
pub struct Record {
    pub kind: &'static str,
    pub cells: Vec<(Cow<'static, str>, String)>,
}

impl Record {
    pub fn new(kind: &'static str) -> Self {
        Record {
            kind,
            cells: Vec::new(),
        }
    }

    /// Sets a cell of a column the encoder names itself (each at most once per record); an
    /// empty value is left out.
    pub fn set(&mut self, column: &'static str, value: Option<String>) {
        if let Some(value) = value.filter(|v| !v.is_empty()) {
            self.cells.push((Cow::Borrowed(column), value));
        }
    }

    /// Sets a cell that is written even when empty (key columns).
    pub fn always(&mut self, column: &'static str, value: Option<String>) {
        self.cells
            .push((Cow::Borrowed(column), value.unwrap_or_default()));
    }

    /// Sets a cell from an extension: a column of the same normalized name is replaced, so
    /// extension values override what the model wrote.
    fn set_named(&mut self, column: &str, value: String) {
        if value.is_empty() {
            return;
        }
        let n = normalize(column);
        match self.cells.iter_mut().find(|(c, _)| normalize(c) == n) {
            Some(slot) => slot.1 = value,
            None => self.cells.push((Cow::Owned(column.to_string()), value)),
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

/// Writes `records` with one header row per record type.
pub fn write(
    records: &[Record],
    style: HeaderStyle,
    delimiter: u8,
) -> Result<Vec<u8>, EncodeError> {
    // Per record type: its columns in first-seen order and where each one is.
    let mut columns: Vec<(&'static str, Vec<&str>, HashMap<&str, usize>)> = Vec::new();
    for r in records {
        let idx = match columns.iter().position(|(k, _, _)| *k == r.kind) {
            Some(i) => i,
            None => {
                columns.push((r.kind, Vec::new(), HashMap::new()));
                columns.len() - 1
            }
        };
        if let Some((_, cols, index)) = columns.get_mut(idx) {
            for (c, _) in &r.cells {
                if !index.contains_key(c.as_ref()) {
                    index.insert(c.as_ref(), cols.len());
                    cols.push(c.as_ref());
                }
            }
        }
    }
    let mut w = csv::WriterBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    let mut headed: Vec<&str> = Vec::new();
    let mut row: Vec<&str> = Vec::new();
    for r in records {
        let Some((_, cols, index)) = columns.iter().find(|(k, _, _)| *k == r.kind) else {
            continue;
        };
        if !headed.contains(&r.kind) {
            headed.push(r.kind);
            let first = match style {
                HeaderStyle::RecordType => r.kind,
                HeaderStyle::TypeWord => "type",
            };
            let header = std::iter::once(first).chain(cols.iter().copied());
            w.write_record(header).map_err(csv_error)?;
        }
        row.clear();
        row.resize(cols.len() + 1, "");
        if let Some(first) = row.first_mut() {
            *first = r.kind;
        }
        for (c, v) in &r.cells {
            if let Some(slot) = index.get(c.as_ref()).and_then(|i| row.get_mut(i + 1)) {
                *slot = v.as_str();
            }
        }
        w.write_record(&row).map_err(csv_error)?;
    }
    w.into_inner().map_err(csv_error)
}
