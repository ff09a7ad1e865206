//! Writing records of several types into one CSV file: each record type gets a header row
//! naming the union of its columns, written just before its first record.

use gateway_core::EncodeError;

use crate::header::normalize;

/// One record to write: its type (first cell) and its named cells.
#[derive(Debug, Clone, Default)]
pub struct Record {
    pub kind: &'static str,
    pub cells: Vec<(String, String)>,
}

impl Record {
    pub fn new(kind: &'static str) -> Self {
        Record {
            kind,
            cells: Vec::new(),
        }
    }

    /// Sets a cell; an empty value is left out; a column of the same (normalized) name is
    /// replaced, so extension values override what the model wrote.
    pub fn set(&mut self, column: &str, value: Option<String>) {
        let Some(value) = value.filter(|v| !v.is_empty()) else {
            return;
        };
        let n = normalize(column);
        match self.cells.iter_mut().find(|(c, _)| normalize(c) == n) {
            Some(slot) => slot.1 = value,
            None => self.cells.push((column.to_string(), value)),
        }
    }

    /// Sets a cell that is always written, even when empty (key columns).
    pub fn always(&mut self, column: &str, value: Option<String>) {
        let v = value.unwrap_or_default();
        if v.is_empty() {
            let n = normalize(column);
            if !self.cells.iter().any(|(c, _)| normalize(c) == n) {
                self.cells.push((column.to_string(), String::new()));
            }
        } else {
            self.set(column, Some(v));
        }
    }

    /// The cells of an `extensions` object (as decoded from unknown columns).
    pub fn set_extensions(&mut self, ext: Option<&serde_json::Value>) {
        if let Some(serde_json::Value::Object(m)) = ext {
            for (k, v) in m {
                self.set(k, Some(crate::fields::json_text(v)));
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
    let mut columns: Vec<(&'static str, Vec<String>)> = Vec::new();
    for r in records {
        let idx = match columns.iter().position(|(k, _)| *k == r.kind) {
            Some(i) => i,
            None => {
                columns.push((r.kind, Vec::new()));
                columns.len() - 1
            }
        };
        if let Some((_, cols)) = columns.get_mut(idx) {
            for (c, _) in &r.cells {
                if !cols.contains(c) {
                    cols.push(c.clone());
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
    for r in records {
        let Some((_, cols)) = columns.iter().find(|(k, _)| *k == r.kind) else {
            continue;
        };
        if !headed.contains(&r.kind) {
            headed.push(r.kind);
            let first = match style {
                HeaderStyle::RecordType => r.kind,
                HeaderStyle::TypeWord => "type",
            };
            let row = std::iter::once(first).chain(cols.iter().map(String::as_str));
            w.write_record(row).map_err(csv_error)?;
        }
        let row = std::iter::once(r.kind).chain(cols.iter().map(|c| {
            r.cells
                .iter()
                .find(|(k, _)| k == c)
                .map_or("", |(_, v)| v.as_str())
        }));
        w.write_record(row).map_err(csv_error)?;
    }
    w.into_inner().map_err(csv_error)
}
