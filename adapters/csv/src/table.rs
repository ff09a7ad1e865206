//! Writing records of several types into one CSV file: each record type gets a header row
//! naming the union of its columns, written just before its first record.

use std::borrow::Cow;
use std::collections::HashMap;

use gateway_core::EncodeError;

use crate::header::{Header, normalize};

/// One record to write: its type (first cell) and its named cells.
///
/// Values borrow from the document where they are its text as is, so writing a file copies
/// each string once, into the output.
#[derive(Debug, Clone, Default)]
pub struct Record<'a> {
    pub kind: &'static str,
    /// Column and value. The encoder's own columns are borrowed (`'static` names); a column
    /// kept from a source file's extensions is owned, which is how [`Table::settle`] tells
    /// them apart.
    pub cells: Vec<(Cow<'static, str>, Cow<'a, str>)>,
    /// The encoder's columns [`Record::set`] left out for want of a value: written empty
    /// when a kept column would otherwise be read as one of them ([`Table::settle`]).
    pub unset: Vec<&'static str>,
}

/// Cells a record usually has; reserved up front so the cell list does not regrow.
const USUAL_CELLS: usize = 16;

impl<'a> Record<'a> {
    pub fn new(kind: &'static str) -> Self {
        Record {
            kind,
            cells: Vec::with_capacity(USUAL_CELLS),
            unset: Vec::new(),
        }
    }

    /// Sets a cell of a column the encoder names itself (each at most once per record); an
    /// empty value is left out.
    pub fn set(&mut self, column: &'static str, value: Option<impl Into<Cow<'a, str>>>) {
        match value.map(Into::into).filter(|v| !v.is_empty()) {
            Some(value) => self.cells.push((Cow::Borrowed(column), value)),
            None => self.unset.push(column),
        }
    }

    /// A record of a fixed layout: every one of `columns`, in that order, starts as an empty
    /// cell, and [`Record::fill`] gives it its value. Every record of the type then has the
    /// same columns in the same places whatever the document holds, so a reader going by
    /// position (not by the header row) reads each value from the column it was written in.
    /// Columns kept from a source file ([`Record::set_extensions`]) follow the list.
    pub fn with_columns(kind: &'static str, columns: &'static [&'static str]) -> Self {
        let mut cells = Vec::with_capacity(columns.len() + 4);
        cells.extend(
            columns
                .iter()
                .map(|c| (Cow::Borrowed(*c), Cow::Borrowed(""))),
        );
        Record {
            kind,
            cells,
            unset: Vec::new(),
        }
    }

    /// Gives the cell of `column` its value (empty for `None`), in its place of the record's
    /// fixed column list ([`Record::with_columns`]). A column missing from the list is added
    /// after the cells so far rather than lost (the layout's tests check the list is whole).
    pub fn fill(&mut self, column: &'static str, value: Option<impl Into<Cow<'a, str>>>) {
        let value = value.map_or(Cow::Borrowed(""), Into::into);
        match self.cells.iter_mut().find(|(c, _)| c == column) {
            Some(slot) => slot.1 = value,
            None => self.cells.push((Cow::Borrowed(column), value)),
        }
    }

    /// The value written in the column named `column` (exactly), if the record has it: after
    /// [`Record::set_extensions`], a kept column's value where it replaced the encoder's.
    pub fn value(&self, column: &str) -> Option<&str> {
        self.cells
            .iter()
            .find(|(c, _)| c == column)
            .map(|(_, v)| v.as_ref())
    }

    /// True when a cell comes from the document's extensions (a column of its source file).
    fn has_kept_columns(&self) -> bool {
        self.cells.iter().any(|(c, _)| matches!(c, Cow::Owned(_)))
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

    /// The cells of an `extensions` object (as decoded from unknown columns). Two keys a
    /// reader takes for one column (`Cost Centre`, `cost-centre`) cannot both be written: one
    /// value would replace the other, so the record is refused.
    pub fn set_extensions(&mut self, ext: Option<&serde_json::Value>) -> Result<(), EncodeError> {
        if let Some(serde_json::Value::Object(m)) = ext {
            let mut seen: Vec<(String, &str)> = Vec::with_capacity(m.len());
            for (k, v) in m {
                let n = normalize(k);
                if let Some((_, other)) = seen.iter().find(|(s, _)| *s == n) {
                    return Err(EncodeError::Invalid {
                        path: format!("$.extensions.csv.{k}"),
                        message: format!(
                            "{other:?} and {k:?} name the same column to a reader, so one value would be lost; keep only one of them"
                        ),
                    });
                }
                seen.push((n, k.as_str()));
                self.set_named(k, crate::fields::json_text(v));
            }
        }
        Ok(())
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
struct Columns {
    kind: &'static str,
    names: Vec<Cow<'static, str>>,
    index: HashMap<Cow<'static, str>, usize>,
    last: Vec<usize>,
    /// The encoder's columns left out of records that also carry kept columns.
    unset: Vec<&'static str>,
}

impl Columns {
    fn new(kind: &'static str) -> Self {
        Columns {
            kind,
            names: Vec::new(),
            index: HashMap::new(),
            last: Vec::new(),
            unset: Vec::new(),
        }
    }

    /// Adds `name` as a column of its own, unless there is one already.
    fn add(&mut self, name: &'static str) {
        if !self.index.contains_key(name) {
            self.index.insert(Cow::Borrowed(name), self.names.len());
            self.names.push(Cow::Borrowed(name));
        }
    }

    /// Positions in the header row (after its first cell) of the kept columns a reader
    /// would map to a field: those `kept` (the reader's extension columns) does not list.
    fn misread(&self, first: &str, kept: &dyn Fn(&Header) -> Option<Vec<usize>>) -> Vec<usize> {
        if !self.names.iter().any(|n| matches!(n, Cow::Owned(_))) {
            return Vec::new();
        }
        let header =
            Header::new(std::iter::once(first).chain(self.names.iter().map(AsRef::as_ref)));
        let Some(kept) = kept(&header) else {
            return Vec::new();
        };
        (0..self.names.len())
            .filter(|&i| matches!(self.names.get(i), Some(Cow::Owned(_))))
            .filter(|i| !kept.contains(&(i + 1)))
            .collect()
    }

    /// The column of the cell at `position` named `name`, added if new.
    // A `Cow`, not a `&str`: a new name is kept by cloning it, which for the encoder's own
    // (`'static`, borrowed) column names copies no text.
    #[allow(clippy::ptr_arg)]
    fn place(&mut self, position: usize, name: &Cow<'static, str>) -> usize {
        if let Some(&col) = self.last.get(position)
            && self.names.get(col).is_some_and(|n| n == name)
        {
            return col;
        }
        let col = match self.index.get(name.as_ref()) {
            Some(&col) => col,
            None => {
                self.index.insert(name.clone(), self.names.len());
                self.names.push(name.clone());
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

/// A file of several record types, each with one header row (the union of its columns)
/// written just before its first record.
///
/// The header must name every column any record of its type uses, so the writer takes the
/// documents twice: [`Table::learn`] sees every document's records to collect the columns,
/// then [`Table::write`] is given them again in the same order. Callers build and drop one
/// document's records at a time, so memory stays at one document whatever the file's size.
pub struct Table {
    style: HeaderStyle,
    types: Vec<Columns>,
    headed: Vec<bool>,
    row: Vec<usize>,
    /// Cells a spreadsheet would run as formulas are marked (`csv.formula_guard`).
    formula_guard: bool,
}

impl Table {
    pub fn new(style: HeaderStyle) -> Self {
        Table {
            style,
            types: Vec::new(),
            headed: Vec::new(),
            row: Vec::new(),
            formula_guard: false,
        }
    }

    /// Marks cells a spreadsheet would run as formulas ([`crate::formula::guarded`]).
    pub fn with_formula_guard(mut self, on: bool) -> Self {
        self.formula_guard = on;
        self
    }

    fn type_of(&mut self, kind: &'static str) -> usize {
        match self.types.iter().position(|c| c.kind == kind) {
            Some(t) => t,
            None => {
                self.types.push(Columns::new(kind));
                self.headed.push(false);
                self.types.len() - 1
            }
        }
    }

    /// First pass: the columns of `records`.
    pub fn learn(&mut self, records: &[Record<'_>]) {
        for r in records {
            let t = self.type_of(r.kind);
            if let Some(columns) = self.types.get_mut(t) {
                for (position, (c, _)) in r.cells.iter().enumerate() {
                    columns.place(position, c);
                }
                if r.has_kept_columns() {
                    for u in &r.unset {
                        if !columns.unset.contains(u) {
                            columns.unset.push(u);
                        }
                    }
                }
            }
        }
    }

    /// Between the passes: makes sure a reader of the file takes every column kept from a
    /// source file (`extensions`) as the unknown column it was, not as a field the model
    /// holds. A source may have had both `ship-to-address-street1` and the alias
    /// `ship-to-address-street`, the second kept as unknown; written without the first (the
    /// document has no street), the alias would be read back as the street. The encoder's
    /// own columns those records left empty are then written (empty), as the source had
    /// them; if a kept column would still be misread, the file is refused naming it.
    /// `kept` gives, for a record type (as written in the first column) and its header row,
    /// the columns its reader keeps in extensions (`None`: it keeps them all).
    pub fn settle(
        &mut self,
        kept: &dyn Fn(&str, &Header) -> Option<Vec<usize>>,
    ) -> Result<(), EncodeError> {
        let style = self.style;
        for columns in &mut self.types {
            let first = match style {
                HeaderStyle::RecordType => columns.kind,
                HeaderStyle::TypeWord => "type",
            };
            let kind = columns.kind;
            let kept_for = |h: &Header| kept(kind, h);
            if columns.misread(first, &kept_for).is_empty() {
                continue;
            }
            for u in std::mem::take(&mut columns.unset) {
                columns.add(u);
            }
            if let Some(&i) = columns.misread(first, &kept_for).first() {
                let name = columns.names.get(i).map_or("", |n| n.as_ref());
                return Err(EncodeError::Invalid {
                    path: format!("$.extensions.csv.{name}"),
                    message: format!(
                        "a reader of the written file would take column {name:?} of the {} records for a field of the document, not as the unknown column it was; rename or remove it",
                        columns.kind
                    ),
                });
            }
        }
        Ok(())
    }

    /// Second pass: writes `records` (learnt before), each type's header row first.
    pub fn write<W: std::io::Write>(
        &mut self,
        w: &mut csv::Writer<W>,
        records: &[Record<'_>],
    ) -> Result<(), EncodeError> {
        for r in records {
            let t = self.type_of(r.kind);
            let (Some(columns), Some(headed)) = (self.types.get_mut(t), self.headed.get_mut(t))
            else {
                continue;
            };
            if !*headed {
                *headed = true;
                // Two column names a reader takes for one (`supplier-name`, `Supplier Name`,
                // kept from different header rows of the source) would make it refuse the file.
                let named: Vec<(String, &str)> = columns
                    .names
                    .iter()
                    .map(|n| (crate::header::normalize(n), n.as_ref()))
                    .collect();
                for (i, (n, a)) in named.iter().enumerate() {
                    if let Some((_, b)) = named.iter().skip(i + 1).find(|(m, _)| m == n) {
                        return Err(EncodeError::Invalid {
                            path: "$.extensions.csv".into(),
                            message: format!(
                                "{} records would have columns {a:?} and {b:?}, which a reader takes for the same column; keep only one of them in the documents' extensions",
                                r.kind
                            ),
                        });
                    }
                }
                let first = match self.style {
                    HeaderStyle::RecordType => r.kind,
                    HeaderStyle::TypeWord => "type",
                };
                let header = std::iter::once(first).chain(columns.names.iter().map(AsRef::as_ref));
                w.write_record(header).map_err(csv_error)?;
            }
            // Column of each cell: `row[k]` is the cell index shown in column k, or none.
            self.row.clear();
            self.row.resize(columns.names.len(), usize::MAX);
            for (i, (c, _)) in r.cells.iter().enumerate() {
                let col = columns.place(i, c);
                match self.row.get_mut(col) {
                    Some(slot) => *slot = i,
                    // Its header row is written: a column first seen now would be lost.
                    None => {
                        return Err(EncodeError::Invalid {
                            path: "csv".into(),
                            message: format!(
                                "column {c:?} of a {} record was not given to Table::learn",
                                r.kind
                            ),
                        });
                    }
                }
            }
            let cells = &r.cells;
            let guard = self.formula_guard;
            let values = self.row.iter().map(|&i| {
                let v = cells.get(i).map_or("", |(_, v)| v.as_ref());
                if guard {
                    crate::formula::guarded(v)
                } else {
                    Cow::Borrowed(v)
                }
            });
            w.write_record(
                std::iter::once(Cow::Borrowed(r.kind))
                    .chain(values)
                    .map(crate::formula::Bytes),
            )
            .map_err(csv_error)?;
        }
        Ok(())
    }
}

/// The CSV writer every table of a file goes through: CRLF line ends, rows of any width.
pub fn csv_writer(delimiter: u8) -> csv::Writer<Vec<u8>> {
    csv::WriterBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new())
}

/// The bytes written through `w`.
pub fn finish(w: csv::Writer<Vec<u8>>) -> Result<Vec<u8>, EncodeError> {
    w.into_inner().map_err(csv_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(kind: &'static str, cells: &[(&'static str, &'static str)]) -> Record<'static> {
        let mut r = Record::new(kind);
        for (c, v) in cells {
            r.set(c, Some(*v));
        }
        r
    }

    #[test]
    fn headers_name_the_union_of_columns_and_rows_follow_them() {
        let a = [record("Invoice", &[("Number", "1"), ("Currency", "USD")])];
        let b = [
            record("Invoice", &[("Number", "2"), ("Note", "n")]),
            record("Invoice Line", &[("Number", "2"), ("Qty", "3")]),
        ];
        let mut t = Table::new(HeaderStyle::RecordType);
        t.learn(&a);
        t.learn(&b);
        let mut w = csv_writer(b',');
        t.write(&mut w, &a).unwrap();
        t.write(&mut w, &b).unwrap();
        let text = String::from_utf8(finish(w).unwrap()).unwrap();
        assert_eq!(
            text,
            "Invoice,Number,Currency,Note\r\nInvoice,1,USD,\r\nInvoice,2,,n\r\n\
             Invoice Line,Number,Qty\r\nInvoice Line,2,3\r\n"
        );
    }

    #[test]
    fn a_column_not_learnt_is_an_error_not_a_lost_cell() {
        let mut t = Table::new(HeaderStyle::TypeWord);
        t.learn(&[record("Header", &[("id", "1")])]);
        let mut w = csv_writer(b',');
        let err = t
            .write(&mut w, &[record("Header", &[("id", "1"), ("extra", "x")])])
            .unwrap_err();
        assert!(err.to_string().contains("extra"), "{err}");
    }

    /// A reader that keeps `street` as an unknown column only beside `street1` (which it
    /// prefers), as the Coupa readers treat an alias beside its field's own column.
    fn street_reader(_kind: &str, h: &Header) -> Option<Vec<usize>> {
        let has_street1 = h.names.iter().any(|n| n == "street1");
        Some(
            (1..h.names.len())
                .filter(|&i| h.names.get(i).is_some_and(|n| n == "street" && has_street1))
                .collect(),
        )
    }

    fn with_kept_street() -> Record<'static> {
        let mut r = Record::new("Header");
        r.set("id", Some("1"));
        r.set("street1", None::<&str>);
        r.set_named("street", "kept".into());
        r
    }

    #[test]
    fn a_kept_column_a_reader_would_misread_gets_the_column_it_stands_beside() {
        let records = [with_kept_street()];
        let mut t = Table::new(HeaderStyle::TypeWord);
        t.learn(&records);
        t.settle(&street_reader).unwrap();
        let mut w = csv_writer(b',');
        t.write(&mut w, &records).unwrap();
        assert_eq!(
            String::from_utf8(finish(w).unwrap()).unwrap(),
            "type,id,street,street1\r\nHeader,1,kept,\r\n"
        );
    }

    #[test]
    fn a_kept_column_that_would_still_be_misread_is_refused_by_name() {
        let mut t = Table::new(HeaderStyle::TypeWord);
        t.learn(&[with_kept_street()]);
        let err = t
            .settle(&|_: &str, _: &Header| Some(Vec::new()))
            .unwrap_err();
        assert!(
            err.to_string().contains("$.extensions.csv.street")
                && err.to_string().contains("Header records"),
            "{err}"
        );
    }

    #[test]
    fn columns_are_left_as_they_are_when_a_reader_misreads_nothing() {
        let records = [record("Header", &[("id", "1")])];
        let mut t = Table::new(HeaderStyle::TypeWord);
        t.learn(&records);
        t.settle(&|_: &str, _: &Header| Some(Vec::new())).unwrap();
        let mut w = csv_writer(b',');
        t.write(&mut w, &records).unwrap();
        assert_eq!(
            String::from_utf8(finish(w).unwrap()).unwrap(),
            "type,id\r\nHeader,1\r\n"
        );
    }
}
