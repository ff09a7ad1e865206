//! Writing records of several types into one CSV file: each record type gets a header row
//! naming the union of its columns, written just before its first record.
//!
//! A value with a line break is written as it is only where the file's reader takes it so
//! (a description, note or address column, a few lines that do not look like rows:
//! [`crate::multiline`], asked through [`Table::with_reader`]). Elsewhere, descriptive text
//! ([`Source::text`]: a description, note, name, address line, city, contact or terms) is
//! written on one line, as the X12 writer writes it, and any other value ([`Source::value`]:
//! a number, id, code, unit) refuses the file at its path, as the X12 writer refuses a line
//! break in a code or an id: a file the reader (or a supplier's importer) refuses is never
//! written.

use std::borrow::Cow;
use std::collections::HashMap;

use gateway_core::EncodeError;

use crate::header::{Header, normalize};
use crate::multiline::{FreeText, Judge, has_line_break, one_line};

/// Where a record's values are in its document: the part of it the record writes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Place {
    /// The document itself (an `Invoice` or PO `Header` record).
    #[default]
    Document,
    /// `lines[n]`.
    Line(usize),
    /// `charges[n]`.
    Charge(usize),
    /// A record kept from a source file, `extensions.csv_records[n]`.
    Kept(usize),
}

impl std::fmt::Display for Place {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Place::Document => f.write_str("$"),
            Place::Line(n) => write!(f, "$.lines[{n}]"),
            Place::Charge(n) => write!(f, "$.charges[{n}]"),
            Place::Kept(n) => write!(f, "$.extensions.{}[{n}]", crate::coupa::OTHER_RECORDS),
        }
    }
}

/// Where a cell's value is in its document (named when the value cannot be written) and
/// whether it is descriptive text, which is all the writer needs to know of a value with a
/// line break (see the module docs). Paths are made only for such a value.
#[derive(Debug, Clone, Copy)]
pub struct Source {
    /// A path from the document's root (`$.supplier`); `None`: the record's [`Place`].
    root: Option<&'static str>,
    /// The field under it (`uom`, `address.lines`).
    field: &'static str,
    /// An index after the field (`address.lines[1]`).
    index: Option<usize>,
    prose: bool,
}

impl Source {
    /// A value that is not descriptive text (a number, id, code, unit, date): a line break
    /// in it refuses the file. `field` is under the record's place.
    pub const fn value(field: &'static str) -> Self {
        Source {
            root: None,
            field,
            index: None,
            prose: false,
        }
    }

    /// Descriptive text (a description, note, name, address line, city, contact, terms):
    /// written on one line where the reader would not take its line breaks.
    pub const fn text(field: &'static str) -> Self {
        Source {
            prose: true,
            ..Source::value(field)
        }
    }

    /// The field under `root` (`$`, `$.supplier`), not under the record's place: a document
    /// field repeated on its line records.
    pub const fn under(self, root: &'static str) -> Self {
        Source {
            root: Some(root),
            ..self
        }
    }

    /// The `index`-th of the field's list (`address.lines[1]`), when it has one.
    pub const fn nth(self, index: Option<usize>) -> Self {
        Source { index, ..self }
    }

    fn path(&self, place: Place) -> String {
        let root = match self.root {
            Some(r) => r.to_string(),
            None => place.to_string(),
        };
        match self.index {
            Some(i) => format!("{root}.{}[{i}]", self.field),
            None => format!("{root}.{}", self.field),
        }
    }
}

/// A cell whose value holds a line break: where the value is, and whether it is prose.
#[derive(Debug, Clone)]
struct Break {
    cell: usize,
    path: String,
    prose: bool,
}

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
    /// The part of its document the record writes, which its values' paths start from.
    place: Place,
    /// The cells whose value holds a line break (usually none).
    breaks: Vec<Break>,
}

/// Cells a record usually has; reserved up front so the cell list does not regrow.
const USUAL_CELLS: usize = 16;

impl<'a> Record<'a> {
    pub fn new(kind: &'static str) -> Self {
        Record {
            kind,
            cells: Vec::with_capacity(USUAL_CELLS),
            unset: Vec::new(),
            place: Place::Document,
            breaks: Vec::new(),
        }
    }

    /// The record writes `place` of its document (its values' paths start there).
    pub fn at(mut self, place: Place) -> Self {
        self.place = place;
        self
    }

    /// Notes the value of cell `cell` (replacing what was noted of it) when it holds a line
    /// break, with the path `path` makes.
    fn note_break(&mut self, cell: usize, value: &str, prose: bool, path: impl FnOnce() -> String) {
        self.breaks.retain(|b| b.cell != cell);
        if has_line_break(value) {
            self.breaks.push(Break {
                cell,
                path: path(),
                prose,
            });
        }
    }

    /// Sets a cell of a column the encoder names itself (each at most once per record), its
    /// value from `source`; an empty value is left out.
    pub fn set(
        &mut self,
        column: &'static str,
        source: Source,
        value: Option<impl Into<Cow<'a, str>>>,
    ) {
        match value.map(Into::into).filter(|v| !v.is_empty()) {
            Some(value) => {
                let place = self.place;
                self.note_break(self.cells.len(), &value, source.prose, || {
                    source.path(place)
                });
                self.cells.push((Cow::Borrowed(column), value));
            }
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
            place: Place::Document,
            breaks: Vec::new(),
        }
    }

    /// Gives the cell of `column` its value from `source` (empty for `None`), in its place of
    /// the record's fixed column list ([`Record::with_columns`]). A column missing from the
    /// list is added after the cells so far rather than lost (the layout's tests check the
    /// list is whole).
    pub fn fill(
        &mut self,
        column: &'static str,
        source: Source,
        value: Option<impl Into<Cow<'a, str>>>,
    ) {
        let value = value.map_or(Cow::Borrowed(""), Into::into);
        let cell = match self.cells.iter().position(|(c, _)| c == column) {
            Some(i) => i,
            None => {
                self.cells.push((Cow::Borrowed(column), Cow::Borrowed("")));
                self.cells.len() - 1
            }
        };
        let place = self.place;
        self.note_break(cell, &value, source.prose, || source.path(place));
        if let Some(slot) = self.cells.get_mut(cell) {
            slot.1 = value;
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

    /// Sets a cell, from `source`, that is written even when empty (key columns).
    pub fn always(
        &mut self,
        column: &'static str,
        source: Source,
        value: Option<impl Into<Cow<'a, str>>>,
    ) {
        let value = value.map_or(Cow::Borrowed(""), Into::into);
        let place = self.place;
        self.note_break(self.cells.len(), &value, source.prose, || {
            source.path(place)
        });
        self.cells.push((Cow::Borrowed(column), value));
    }

    /// Sets a cell from an extension (its path `path`): a column of the same normalized name
    /// is replaced, so extension values override what the model wrote.
    fn set_named(&mut self, column: &str, value: String, path: impl FnOnce() -> String) {
        if value.is_empty() {
            return;
        }
        let n = normalize(column);
        let cell = match self.cells.iter().position(|(c, _)| normalize(c) == n) {
            Some(i) => i,
            None => {
                self.cells
                    .push((Cow::Owned(column.to_string()), Cow::Borrowed("")));
                self.cells.len() - 1
            }
        };
        // A kept value is the source's cell as it was, never descriptive text of the model.
        self.note_break(cell, &value, false, path);
        if let Some(slot) = self.cells.get_mut(cell) {
            slot.1 = Cow::Owned(value);
        }
    }

    /// The cells of an `extensions` object (as decoded from unknown columns), found at `under`
    /// in the record's place (`extensions.csv`; empty for a kept record's own cells). Two keys
    /// a reader takes for one column (`Cost Centre`, `cost-centre`) cannot both be written: one
    /// value would replace the other, so the record is refused.
    pub fn set_extensions(
        &mut self,
        ext: Option<&serde_json::Value>,
        under: &str,
    ) -> Result<(), EncodeError> {
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
                let place = self.place;
                self.set_named(k, crate::fields::json_text(v), || match under {
                    "" => format!("{place}.{k}"),
                    _ => format!("{place}.{under}.{k}"),
                });
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
    /// Once the header row is written: that row as a reader reads it, and the columns it
    /// takes over several lines.
    written: Option<(Header, Vec<usize>)>,
}

impl Columns {
    fn new(kind: &'static str) -> Self {
        Columns {
            kind,
            names: Vec::new(),
            index: HashMap::new(),
            last: Vec::new(),
            unset: Vec::new(),
            written: None,
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
    reader: Reader,
}

/// What the file's reader says of cells over several lines ([`Table::with_reader`]).
#[derive(Clone, Copy)]
struct Reader {
    delimiter: u8,
    /// The columns of a header row (record type first) it takes over several lines.
    free_text: fn(&str, &Header) -> Vec<usize>,
    /// Whether a line beginning with this cell begins with a record type.
    typed: fn(&str) -> bool,
}

impl Table {
    pub fn new(style: HeaderStyle) -> Self {
        Table {
            style,
            types: Vec::new(),
            headed: Vec::new(),
            row: Vec::new(),
            formula_guard: false,
            // Until told: a `,` file whose reader takes no cell over several lines.
            reader: Reader {
                delimiter: b',',
                free_text: |_, _| Vec::new(),
                typed: |_| false,
            },
        }
    }

    /// The reader of the written file, whose answers decide where a value's line breaks are
    /// written ([`crate::multiline`]): the file's `delimiter`, the columns of a header row it
    /// takes over several lines (`free_text`, given the record type and the header row), and
    /// whether a line's first cell names a record type (`typed`).
    pub fn with_reader(
        mut self,
        delimiter: u8,
        free_text: fn(&str, &Header) -> Vec<usize>,
        typed: fn(&str) -> bool,
    ) -> Self {
        self.reader = Reader {
            delimiter,
            free_text,
            typed,
        };
        self
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
                w.write_record(header.clone()).map_err(csv_error)?;
                let header = Header::new(header);
                let free = (self.reader.free_text)(r.kind, &header);
                columns.written = Some((header, free));
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
            let one_lined = match &columns.written {
                Some((header, free)) if !r.breaks.is_empty() => {
                    line_breaks(r, &self.row, header, free, self.reader)?
                }
                _ => Vec::new(),
            };
            let cells = &r.cells;
            let guard = self.formula_guard;
            let values = self.row.iter().map(|&i| {
                let v = match one_lined.iter().find(|(c, _)| *c == i) {
                    Some((_, flat)) => flat.as_str(),
                    None => cells.get(i).map_or("", |(_, v)| v.as_ref()),
                };
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

/// The values of `r`'s cells with a line break that go on one line (cell index, value), or the
/// refusal of the first that cannot be written (see the module docs). `row[k]`: the cell shown
/// in column `k` after the record type, under `header`, whose columns `free` the reader takes
/// over several lines.
fn line_breaks(
    r: &Record<'_>,
    row: &[usize],
    header: &Header,
    free: &[usize],
    reader: Reader,
) -> Result<Vec<(usize, String)>, EncodeError> {
    let own = header.named_width();
    let typed = |line: &str| {
        let first = line.split(char::from(reader.delimiter)).next();
        first.is_some_and(reader.typed)
    };
    let judge = Judge {
        delimiter: reader.delimiter,
        header: Some(header),
        free_text: FreeText::Columns(free.to_vec()),
        row_columns: &|_| own,
        typed: &typed,
    };
    let mut flat = Vec::new();
    for b in &r.breaks {
        let (Some((name, value)), Some(column)) =
            (r.cells.get(b.cell), row.iter().position(|&i| i == b.cell))
        else {
            continue;
        };
        // A value is refused even where the reader would take it (a line break it trims off
        // the end): it would not read back as it is.
        if !b.prose {
            let column = format!("column {name:?} of the {} records", r.kind);
            return Err(refused_line_break(&b.path, &column, value));
        }
        // The row's cells begin with the record type.
        if !judge.accepts(column + 1, value) {
            flat.push((b.cell, one_line(value)));
        }
    }
    Ok(flat)
}

/// The refusal of `value`, at `path`, for a line break `column` (`column "UOM" of the partner's
/// layout`) cannot carry.
pub fn refused_line_break(path: &str, column: &str, value: &str) -> EncodeError {
    EncodeError::Invalid {
        path: path.into(),
        message: format!(
            "{:?} holds a line break, which {column} cannot carry: a CSV reader (the gateway's, and a supplier's importer) takes a cell over \
             several lines only in a description, note or address column, and refuses the \
             file otherwise. Write the value on one line (remove the line break) and convert \
             the document again",
            crate::cells::shorten(value)
        ),
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
            r.set(c, Source::value(c), Some(*v));
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
        r.set("id", Source::value("po_number"), Some("1"));
        r.set("street1", Source::text("address.lines"), None::<&str>);
        r.set_named("street", "kept".into(), || "$.extensions.csv.street".into());
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
