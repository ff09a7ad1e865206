//! The one document being assembled from consecutive rows: it is emitted whole when its last
//! row has been read, or rejected whole (with every located problem) when any of its rows was
//! bad. Nothing else is kept, which is what bounds memory by one document.

use std::sync::Arc;

use gateway_core::codec::{SourceColumn, SourcePlaces};
use gateway_core::{DecodeItem, DecodedDocument, Format, Reject, SourceMeta};
use gateway_model::Document;

use crate::cells::Cells;
use crate::limits::{MAX_REJECTS_PER_DOCUMENT, MAX_ROWS_PER_DOCUMENT};
use crate::rows::Row;

/// A document under construction and the rows it came from.
#[derive(Debug)]
pub struct Pending {
    pub doc: Document,
    first_row: u64,
    last_row: u64,
    rows: usize,
    problems: Vec<Reject>,
    dropped: usize,
    overflowed: bool,
    /// The rows that were not UTF-8 and were read as Windows-1252.
    not_utf8: gateway_core::FirstFew,
    /// The rows with fewer cells than their header names, each with what it lacks.
    short: gateway_core::FirstFew,
    /// Further notes for the document (at most [`MAX_NOTES`]).
    notes: Vec<String>,
    /// The row of each line's record, in line order ([`SourcePlaces::lines`]).
    line_rows: Vec<u32>,
    /// The row of the document's first charge record (Coupa's `Invoice Charge`), 0 when none.
    charge_row: u32,
    /// The columns its fields were read from ([`SourcePlaces::columns`]).
    columns: Arc<[SourceColumn]>,
}

/// Notes kept for one document besides the charset and short-row ones.
const MAX_NOTES: usize = 5;

/// Rows named one by one in the Windows-1252 note; the rest are counted.
const MAX_NAMED_ROWS: usize = 5;

impl Pending {
    pub fn new(doc: Document, row: &Row) -> Self {
        let mut p = Pending::at(doc, row.number);
        p.charset_of(row);
        p
    }

    /// A document whose first row is `number` (a row that could not be read as cells).
    pub fn at(doc: Document, number: u64) -> Self {
        Pending {
            doc,
            first_row: number,
            last_row: number,
            rows: 1,
            problems: Vec::new(),
            dropped: 0,
            overflowed: false,
            not_utf8: gateway_core::FirstFew::new(MAX_NAMED_ROWS),
            short: gateway_core::FirstFew::new(MAX_NAMED_ROWS),
            notes: Vec::new(),
            line_rows: Vec::new(),
            charge_row: 0,
            columns: Arc::default(),
        }
    }

    /// Records that the document's last line was read from `row`.
    pub fn line_at(&mut self, row: &Row) {
        self.line_rows.push(row_number(row.number));
    }

    /// Records that a charge of the document was read from `row` (a record of its own).
    pub fn charge_at(&mut self, row: &Row) {
        if self.charge_row == 0 {
            self.charge_row = row_number(row.number);
        }
    }

    /// The columns the document's fields were read from.
    pub fn set_columns(&mut self, columns: Arc<[SourceColumn]>) {
        self.columns = columns;
    }

    /// Takes what reading a row's cells found: its problems, and whether it was short.
    pub fn absorb(&mut self, cells: Cells<'_>) {
        if let Some(short) = cells.short {
            self.short.push(short);
        }
        self.reject(cells.problems);
    }

    /// A note for the document, given with it when it goes through.
    pub fn note(&mut self, note: String) {
        if self.notes.len() < MAX_NOTES {
            self.notes.push(note);
        }
    }

    /// True when the document is already rejected.
    pub fn is_rejected(&self) -> bool {
        !self.problems.is_empty()
    }

    /// Remembers `row` when it was read as Windows-1252, for the document's note.
    fn charset_of(&mut self, row: &Row) {
        if row.not_utf8 {
            self.not_utf8.push(row.number);
        }
    }

    /// Counts another row of this document. False when the document is over its row bound
    /// (the row must then be dropped; the document is already rejected).
    pub fn add_row(&mut self, row: &Row) -> bool {
        self.charset_of(row);
        let row = row.number;
        self.last_row = row;
        self.rows += 1;
        if self.rows > MAX_ROWS_PER_DOCUMENT {
            if !self.overflowed {
                self.overflowed = true;
                self.problems.push(Reject::new(
                    format!("row {row}"),
                    format!(
                        "document has more than {MAX_ROWS_PER_DOCUMENT} rows; split it into smaller documents"
                    ),
                ));
                clear_lines(&mut self.doc);
                self.line_rows = Vec::new();
            }
            return false;
        }
        true
    }

    pub fn reject(&mut self, problems: impl IntoIterator<Item = Reject>) {
        for p in problems {
            if self.problems.len() < MAX_REJECTS_PER_DOCUMENT {
                self.problems.push(p);
            } else {
                self.dropped += 1;
            }
        }
    }

    /// What the document's rejects call it: its number, or its kind and rows (`invoice at
    /// rows 4-5`) when it has none.
    pub fn label(&self) -> String {
        match self.doc.number() {
            "" => format!(
                "{} at {}",
                self.doc.kind(),
                crate::scattered::rows_place(self.first_row, self.last_row)
            ),
            number => number.to_string(),
        }
    }

    /// The first and last row of the document so far.
    pub fn rows(&self) -> (u64, u64) {
        (self.first_row, self.last_row)
    }

    /// Hands the document, or its rejects, to `sink`; true when the document was handed over
    /// (its place among the documents of the input counts them: [`crate::scattered`]).
    pub fn finish(self, sink: &mut dyn FnMut(DecodeItem)) -> bool {
        let rows = crate::scattered::rows_place(self.first_row, self.last_row);
        if self.problems.is_empty() {
            let charset_note = self.charset_note();
            let mut meta = SourceMeta {
                source_key: Some(rows.as_str().into()),
                location: Some(rows.into()),
                places: SourcePlaces {
                    format: Some(Format::Csv),
                    heading: row_number(self.first_row),
                    summary: self.charge_row,
                    lines: self.line_rows,
                    columns: self.columns,
                },
                ..SourceMeta::default()
            };
            if let Some(note) = charset_note {
                meta.note(&note);
            }
            if let Some(rows) = self.short.list() {
                meta.note(&format!(
                    "rows shorter than their header row: {rows}; check that no value is missing \
                     or shifted (some exporters leave trailing empty cells out)"
                ));
            }
            for note in &self.notes {
                meta.note(note);
            }
            sink(DecodeItem::Document(Box::new(DecodedDocument {
                document: self.doc,
                meta,
            })));
            return true;
        }
        let label = self.label();
        for mut p in self.problems {
            p.document = Some(label.clone());
            sink(DecodeItem::Reject(p));
        }
        if self.dropped > 0 {
            let mut p = Reject::new(
                rows,
                format!(
                    "{} more problem(s) in this document not listed",
                    self.dropped
                ),
            );
            p.document = Some(label);
            sink(DecodeItem::Reject(p));
        }
        false
    }
}

impl Pending {
    /// Says which rows were not UTF-8 and were read as Windows-1252, so the operator knows the
    /// partner's spreadsheet writes it and where to look should a character be wrong.
    fn charset_note(&self) -> Option<String> {
        let rows = self.not_utf8.list()?;
        let word = if self.not_utf8.count() > 1 {
            "rows"
        } else {
            "row"
        };
        Some(format!(
            "{word} {rows} not UTF-8: {}; if the partner's system writes Windows-1252, say so in its profile (csv.charset = \"windows-1252\") and this note goes; if it writes another set, check those values",
            gateway_core::READ_AS_WINDOWS_1252
        ))
    }
}

/// A row number as [`SourcePlaces`] holds it (0, "not known", past `u32::MAX`).
fn row_number(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(0)
}

fn clear_lines(doc: &mut Document) {
    match doc {
        Document::Invoice(i) => {
            i.lines = Vec::new();
            i.charges = Vec::new();
        }
        Document::PurchaseOrder(p) => p.lines = Vec::new(),
    }
}
