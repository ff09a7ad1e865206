//! Records off a byte stream, one at a time, with their file row numbers and a bound on the
//! size of any one record, so a missing closing quote cannot make the reader swallow the file.
//! A quote still open at the end of the input (the `csv` crate reads such a cell to the end
//! without an error) is told apart from a closed one: see [`Next::Unclosed`]. The record that
//! opened it ends at its line's end, and the lines after it, which the cell swallowed, are
//! read again as records of their own.
//!
//! A quoted cell closed by a `"` followed by anything but the delimiter, a line end, the end
//! of the input or spaces before one of those is told too ([`Next::StrayQuote`]): that is
//! what a stray `"` at the start of a cell makes of the text up to the opening quote of a
//! later quoted cell (`..."Muttern M6";...` closes the cell before `Muttern`), which may be
//! part of the next row only, too little for [`crate::multiline`] to tell it from text. The
//! record is refused, and the lines after its own are read again as records, from the bytes
//! as written, so a row the cell cut in two is read whole.

use gateway_model::charset::Charset;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::io::{BufRead, Read};
use std::rc::Rc;

use csv::{ByteRecord, StringRecord};

use crate::limits::{MAX_COLUMNS, MAX_FIELD_BYTES, MAX_RECORD_BYTES};

/// Bytes the csv reader buffers ahead of the record it is parsing.
const READ_AHEAD: usize = 64 * 1024;

/// `str::trim`, with a fast path for the usual cell that has nothing to trim.
fn trim(s: &str) -> &str {
    let b = s.as_bytes();
    match (b.first(), b.last()) {
        (Some(f), Some(l)) if f.is_ascii_graphic() && l.is_ascii_graphic() => s,
        _ => s.trim(),
    }
}

/// One record of the file.
#[derive(Debug, Clone)]
pub struct Row {
    /// 1-based record number in the file, counting header rows.
    pub number: u64,
    pub cells: StringRecord,
    /// The record was not UTF-8 and its cells were read as Windows-1252.
    pub not_utf8: bool,
}

impl Row {
    /// The trimmed cell at `index`, `""` when the column is absent or the row is short.
    pub fn get(&self, index: Option<usize>) -> &str {
        index.and_then(|i| self.cells.get(i)).map_or("", trim)
    }

    /// True when every cell is empty (spreadsheets leave such rows at the end).
    pub fn is_blank(&self) -> bool {
        self.cells.iter().all(|c| trim(c).is_empty())
    }

    /// Where this row is, for rejects: `row 7` (records, counting header rows; a quoted cell
    /// spanning lines is still one row).
    pub fn place(&self) -> String {
        format!("row {}", self.number)
    }

    /// True when a cell holds a line break (only a quoted cell can): such a cell may be rows
    /// a stray quote swallowed, which the layout judges ([`crate::multiline`]). One search of
    /// the record's bytes, so rows without one cost nothing more.
    pub fn has_line_break(&self) -> bool {
        memchr::memchr2(b'\n', b'\r', self.cells.as_slice().as_bytes()).is_some()
    }

    /// The row's cells before its 0-based `column`, as a row of its own: what could be read of
    /// a record refused at that cell, which may tell its document.
    pub fn before(&self, column: usize) -> Row {
        Row {
            number: self.number,
            cells: self.cells.iter().take(column).collect(),
            not_utf8: self.not_utf8,
        }
    }
}

/// What reading the next record gave.
#[derive(Debug)]
pub enum Next {
    Row(Row),
    /// The record at `number` opened a quoted cell in its `column` (1-based) that is never
    /// closed: the `csv` crate read the rest of the input into that cell. The record is taken
    /// to end at the end of its line, and the lines after it are read again as records of
    /// their own (numbered on from `number`), unless there were none (`rest_read` false).
    Unclosed {
        number: u64,
        column: usize,
        /// The record's first cell (its record type in Coupa's layouts), shortened.
        first: String,
        /// Lines followed the record's in the cell, and are read again.
        rest_read: bool,
        /// The record's cells before the one left open, which were read as written.
        before: Row,
    },
    /// The record at `number` had a field or the whole record over its bound. When
    /// `fatal`, the rest of the file could not be read (the record never ended).
    /// The record at `number` opened a quoted cell in its `column` (1-based) that a `"`
    /// followed by `after` closed, not by a delimiter or a line end: a stray `"` at the start
    /// of the cell, closed by a later quoted cell's opening quote. When the cell held line
    /// breaks (`rest_read`), the lines after the record's first were read again, as written,
    /// as records of their own (numbered on from `number`).
    StrayQuote {
        number: u64,
        column: usize,
        /// The record's first cell (its record type in Coupa's layouts), shortened.
        first: String,
        /// The text that followed the closing quote, up to the next delimiter or line end,
        /// shortened.
        after: String,
        rest_read: bool,
        /// The record's cells before the one the stray quote opened.
        before: Row,
    },
    TooLarge {
        number: u64,
        fatal: bool,
        /// The record's first cell (its record type in Coupa's layouts), shortened; empty
        /// when the record never ended.
        first: String,
        /// When the record never ended because a quoted cell never closed: its column
        /// (1-based).
        open_quote: Option<usize>,
    },
    End,
}

#[derive(Debug, Default)]
struct Guard {
    limit: Cell<u64>,
    tripped: Cell<bool>,
    /// Bytes handed to the csv reader so far.
    read: Cell<u64>,
    /// The input has ended (a read gave no bytes).
    eof: Cell<bool>,
    /// Where the bytes handed out leave the csv reader's quoting.
    quotes: Cell<QuoteScan>,
    /// Quoted cells closed by a `"` followed by text, in input order, not yet passed by a
    /// record the csv reader returned.
    strays: RefCell<VecDeque<Stray>>,
    /// The bytes handed out from `kept_from` on, while a stray or an open quoted cell may need
    /// the lines after its first read again ([`Stray::rest_from`]); empty otherwise.
    kept: RefCell<Vec<u8>>,
    kept_from: Cell<u64>,
}

/// A quoted cell closed by a `"` that is followed by text: see [`Next::StrayQuote`].
#[derive(Debug, Clone)]
struct Stray {
    /// Input offset of the opening quote: the stray belongs to the record that holds it.
    opened_at: u64,
    /// 1-based column of the cell the quote opened.
    column: usize,
    /// Input offset of the first line break inside the quoted cell: the lines after it are
    /// read again. `None` when the cell closed on its own line.
    rest_from: Option<u64>,
    /// What followed the closing quote, shortened.
    after: String,
}

/// Most bytes of the text after a stray's closing quote quoted in the reject.
const AFTER_SHOWN: usize = 24;

impl Guard {
    /// Keeps the bytes of `got` (handed out from input offset `start`) that a stray or an open
    /// quoted cell may need read again, and lets go of those no longer needed.
    fn keep(&self, got: &[u8], start: u64, quotes: &QuoteScan) {
        let need = self
            .strays
            .borrow()
            .iter()
            .filter_map(|s| s.rest_from)
            .chain(quotes.line_break)
            .min();
        let mut kept = self.kept.borrow_mut();
        let Some(from) = need else {
            kept.clear();
            return;
        };
        if from >= start || kept.is_empty() {
            kept.clear();
            let from = from.max(start);
            self.kept_from.set(from);
            let skip = usize::try_from(from - start).unwrap_or(usize::MAX);
            kept.extend_from_slice(got.get(skip..).unwrap_or_default());
        } else {
            let drop = from.saturating_sub(self.kept_from.get());
            let drop_len = usize::try_from(drop).unwrap_or(usize::MAX).min(kept.len());
            kept.drain(..drop_len);
            self.kept_from
                .set(self.kept_from.get().saturating_add(drop));
            kept.extend_from_slice(got);
        }
    }
}

/// Where a byte falls as the csv reader (default quoting: `"` opens a quoted cell only at the
/// start of a cell, `""` inside one is a quote) sees it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum Quoting {
    /// At the start of a cell (or of a record).
    #[default]
    Start,
    /// In a cell that did not start with a quote.
    Field,
    /// In a quoted cell.
    Quoted,
    /// Just after a quote in a quoted cell: it closed the cell, or a second one follows.
    QuoteSeen,
    /// Spaces or tabs after a closing quote: the reader keeps them in the cell, and trimming
    /// drops them, so only a delimiter or a line end may follow.
    AfterQuote,
}

/// Follows the quoting of the bytes the csv reader is given, so that the end of the input can
/// tell whether a quoted cell was left open, and in which column it opened.
#[derive(Debug, Clone, Copy, Default)]
struct QuoteScan {
    state: Quoting,
    delimiter: u8,
    /// 0-based index of the cell being read in the current record.
    cell: usize,
    /// 0-based index of the cell the open quote started.
    opened_in: usize,
    /// Input offset of the next byte fed.
    at: u64,
    /// Input offset of the open quote.
    opened_at: u64,
    /// Input offset of the first line break in the quoted cell open (or just closed), if any.
    line_break: Option<u64>,
}

impl QuoteScan {
    fn new(delimiter: u8) -> Self {
        QuoteScan {
            delimiter,
            ..QuoteScan::default()
        }
    }

    /// The state after `buf`: runs of bytes that cannot change it are skipped in one search.
    /// A quoted cell closed by a `"` followed by text is added to `strays`.
    fn feed(&mut self, buf: &[u8], strays: &mut VecDeque<Stray>) {
        let mut i = 0;
        while let Some(&b) = buf.get(i) {
            let rest = buf.get(i..).unwrap_or_default();
            match self.state {
                Quoting::Quoted => match memchr::memchr(b'"', rest) {
                    Some(q) => {
                        self.note_line_break(rest.get(..q).unwrap_or_default(), i);
                        self.state = Quoting::QuoteSeen;
                        i += q + 1;
                    }
                    None => {
                        self.note_line_break(rest, i);
                        i = buf.len();
                    }
                },
                Quoting::Field => match rest
                    .iter()
                    .position(|&c| c == self.delimiter || c == b'\n' || c == b'\r')
                {
                    Some(at) => {
                        let end = rest.get(at).copied().unwrap_or(b'\n');
                        self.end_cell(end);
                        i += at + 1;
                    }
                    None => i = buf.len(),
                },
                Quoting::Start => {
                    i += 1;
                    if b == b'"' {
                        self.state = Quoting::Quoted;
                        self.opened_in = self.cell;
                        self.opened_at = self.at.saturating_add(i as u64 - 1);
                        self.line_break = None;
                    } else if !self.end_cell(b) {
                        self.state = Quoting::Field;
                    }
                }
                Quoting::QuoteSeen | Quoting::AfterQuote => {
                    if self.state == Quoting::QuoteSeen && b == b'"' {
                        self.state = Quoting::Quoted;
                    } else if self.end_cell(b) {
                        self.line_break = None;
                    } else if b == b' ' || b == b'\t' {
                        self.state = Quoting::AfterQuote;
                    } else {
                        // The csv reader keeps bytes after the closing quote in the cell; a
                        // quote that closed a cell so was not meant to close it.
                        strays.push_back(self.stray(rest));
                        self.state = Quoting::Field;
                        self.line_break = None;
                        continue;
                    }
                    i += 1;
                }
            }
        }
        self.at = self.at.saturating_add(buf.len() as u64);
    }

    /// Notes the first line break of the open quoted cell in `text`, which starts at `i` of
    /// the buffer being fed.
    fn note_line_break(&mut self, text: &[u8], i: usize) {
        if self.line_break.is_none()
            && let Some(at) = memchr::memchr2(b'\n', b'\r', text)
        {
            self.line_break = Some(self.at.saturating_add((i + at) as u64));
        }
    }

    /// The stray quote closed just before `rest`, the bytes of this buffer from there on.
    fn stray(&self, rest: &[u8]) -> Stray {
        let after = rest
            .iter()
            .position(|&c| c == self.delimiter || c == b'\n' || c == b'\r')
            .map_or(rest, |end| rest.get(..end).unwrap_or_default());
        let after = after.get(..AFTER_SHOWN).unwrap_or(after);
        Stray {
            opened_at: self.opened_at,
            column: self.opened_in.saturating_add(1),
            rest_from: self.line_break,
            after: String::from_utf8_lossy(after).into_owned(),
        }
    }

    /// True (and the state moved to the next cell or record) when `b` ends a cell.
    fn end_cell(&mut self, b: u8) -> bool {
        if b == self.delimiter {
            self.cell = self.cell.saturating_add(1);
        } else if b == b'\n' || b == b'\r' {
            self.cell = 0;
        } else {
            return false;
        }
        self.state = Quoting::Start;
        true
    }
}

/// The input, refusing to hand out more than the bound past the last record boundary.
struct Guarded<'a> {
    inner: Box<dyn Read + 'a>,
    read: u64,
    guard: Rc<Guard>,
}

impl Read for Guarded<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.read > self.guard.limit.get() {
            self.guard.tripped.set(true);
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "CSV record over its size bound",
            ));
        }
        let n = self.inner.read(buf)?;
        let start = self.read;
        self.read += n as u64;
        self.guard.read.set(self.read);
        if n == 0 {
            self.guard.eof.set(true);
        } else if let Some(got) = buf.get(..n) {
            let mut quotes = self.guard.quotes.get();
            quotes.feed(got, &mut self.guard.strays.borrow_mut());
            self.guard.quotes.set(quotes);
            self.guard.keep(got, start, &quotes);
        }
        Ok(n)
    }
}

/// Streaming record reader over any `BufRead`.
pub struct RowReader<'a> {
    csv: csv::Reader<Guarded<'a>>,
    guard: Rc<Guard>,
    delimiter: u8,
    record: ByteRecord,
    number: u64,
    done: bool,
    /// The partner's `csv.charset`: under Windows-1252 every cell is read in it.
    charset: Charset,
    /// The partner's `csv.formula_guard`: the `'` that marks a formula-like cell is dropped.
    formula_guard: bool,
}

impl std::fmt::Debug for RowReader<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RowReader")
            .field("number", &self.number)
            .finish()
    }
}

fn bound_from(pos: u64) -> u64 {
    pos.saturating_add((MAX_RECORD_BYTES + READ_AHEAD) as u64)
}

impl<'a> RowReader<'a> {
    /// Reads every cell in `charset` when it is Windows-1252 (the partner's `csv.charset`),
    /// not only the cells that are not UTF-8.
    pub fn with_formula_guard(mut self, on: bool) -> Self {
        self.formula_guard = on;
        self
    }

    pub fn with_charset(mut self, charset: Charset) -> Self {
        self.charset = charset;
        self
    }

    /// A reader for `input` (BOM already skipped) with the given delimiter.
    pub fn new(input: &'a mut dyn BufRead, delimiter: u8) -> Self {
        let (csv, guard) = csv_reader(Box::new(input), delimiter);
        RowReader {
            csv,
            guard,
            delimiter,
            record: ByteRecord::new(),
            number: 0,
            done: false,
            charset: Charset::Utf8,
            formula_guard: false,
        }
    }

    /// Hands a row's storage back so the next record is read without allocating.
    pub fn recycle(&mut self, row: Row) {
        let mut record = row.cells.into_byte_record();
        record.clear();
        self.record = record;
    }

    /// The next record. I/O errors of the input are returned; an over-long record is a
    /// [`Next::TooLarge`], not an error.
    pub fn next(&mut self) -> std::io::Result<Next> {
        if self.done {
            return Ok(Next::End);
        }
        match self.csv.read_byte_record(&mut self.record) {
            Ok(false) => {
                self.done = true;
                Ok(Next::End)
            }
            Ok(true) => {
                self.number += 1;
                let end = self.csv.position().byte();
                self.guard.limit.set(bound_from(end));
                if let Some(stray) = self.stray_before(end) {
                    let first = self.first_cell();
                    let before = self.cells_before(stray.column);
                    let rest_read = match stray.rest_from {
                        Some(from) => self.read_again_from(from),
                        None => false,
                    };
                    return Ok(Next::StrayQuote {
                        number: self.number,
                        column: stray.column,
                        first,
                        after: stray.after,
                        rest_read,
                        before,
                    });
                }
                // Told before the bounds: the cell left open holds the rest of the file, which
                // is read on, however long.
                if let Some(column) = self.unclosed() {
                    let first = self.first_cell();
                    let before = self.cells_before(column);
                    let rest_read = self.read_on_after(column);
                    return Ok(Next::Unclosed {
                        number: self.number,
                        column,
                        first,
                        rest_read,
                        before,
                    });
                }
                if self.record.as_slice().len() > MAX_RECORD_BYTES
                    || self.record.len() > MAX_COLUMNS
                    || self.record.iter().any(|f| f.len() > MAX_FIELD_BYTES)
                {
                    return Ok(Next::TooLarge {
                        number: self.number,
                        fatal: false,
                        first: self.first_cell(),
                        open_quote: None,
                    });
                }
                let record = std::mem::take(&mut self.record);
                let (mut cells, not_utf8) = to_strings(record, self.charset);
                if self.formula_guard {
                    cells = unguarded_cells(cells);
                }
                Ok(Next::Row(Row {
                    number: self.number,
                    cells,
                    not_utf8,
                }))
            }
            Err(e) => {
                self.done = true;
                if self.guard.tripped.get() {
                    self.number += 1;
                    // The scan agrees with the csv reader, which never left this record: a
                    // quote it holds open was opened in it.
                    let quotes = self.guard.quotes.get();
                    Ok(Next::TooLarge {
                        number: self.number,
                        fatal: true,
                        first: String::new(),
                        open_quote: (quotes.state == Quoting::Quoted)
                            .then(|| quotes.opened_in.saturating_add(1)),
                    })
                } else {
                    match e.into_kind() {
                        csv::ErrorKind::Io(io) => Err(io),
                        other => Err(std::io::Error::other(format!("{other:?}"))),
                    }
                }
            }
        }
    }
}

/// A csv reader over `inner`, guarded, with the guard.
fn csv_reader<'a>(
    inner: Box<dyn Read + 'a>,
    delimiter: u8,
) -> (csv::Reader<Guarded<'a>>, Rc<Guard>) {
    let guard = Rc::new(Guard::default());
    guard.limit.set(bound_from(0));
    guard.quotes.set(QuoteScan::new(delimiter));
    let csv = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .buffer_capacity(READ_AHEAD)
        .from_reader(Guarded {
            inner,
            read: 0,
            guard: Rc::clone(&guard),
        });
    (csv, guard)
}

impl<'a> RowReader<'a> {
    /// After a record whose cell `column` (1-based) opened a quote never closed: the lines
    /// that cell swallowed, after the record's own, become the input, so they are read as
    /// records. The cell holds them as written, but for each `"` they held, which was written
    /// `""` (a lone `"` would have closed the cell). False, and the reader done, when no line
    /// followed the record's.
    fn read_on_after(&mut self, column: usize) -> bool {
        let cell = column
            .checked_sub(1)
            .and_then(|i| self.record.get(i))
            .unwrap_or_default();
        let rest = cell
            .iter()
            .position(|&b| b == b'\n' || b == b'\r')
            .and_then(|at| {
                let after = cell.get(at + 1..)?;
                let crlf = cell.get(at) == Some(&b'\r') && after.first() == Some(&b'\n');
                if crlf { after.get(1..) } else { Some(after) }
            })
            .unwrap_or_default();
        if rest.iter().all(u8::is_ascii_whitespace) {
            self.done = true;
            return false;
        }
        let mut input = Vec::with_capacity(rest.len() + rest.len() / 16);
        for &b in rest {
            input.push(b);
            if b == b'"' {
                input.push(b'"');
            }
        }
        let (csv, guard) = csv_reader(Box::new(std::io::Cursor::new(input)), self.delimiter);
        self.csv = csv;
        self.guard = guard;
        true
    }
}

impl RowReader<'_> {
    /// The first stray of the record that ended at input offset `end` (later ones in it are
    /// dropped: the record is refused for the first).
    fn stray_before(&self, end: u64) -> Option<Stray> {
        let mut strays = self.guard.strays.borrow_mut();
        let mut first = None;
        while strays.front().is_some_and(|s| s.opened_at < end) {
            let s = strays.pop_front();
            first = first.or(s);
        }
        first
    }

    /// After a record refused for a stray quote whose cell held a line break at input offset
    /// `from`: the input from the line after it, as written (the bytes kept since, then the
    /// input not handed out yet), is read again with a fresh reader, so the rows the cell
    /// swallowed or cut are read as records. False, and the reader done, when the bytes are
    /// not kept (they always are while a stray is pending).
    fn read_again_from(&mut self, from: u64) -> bool {
        let kept = std::mem::take(&mut *self.guard.kept.borrow_mut());
        let Some(skip) = from
            .checked_sub(self.guard.kept_from.get())
            .and_then(|s| usize::try_from(s).ok())
            .filter(|&s| s <= kept.len())
        else {
            self.done = true;
            return false;
        };
        let mut rest = kept;
        rest.drain(..skip);
        // The line break the cell held ends the refused record's line.
        let cut = match rest.as_slice() {
            [b'\r', b'\n', ..] => 2,
            [b'\r' | b'\n', ..] => 1,
            _ => 0,
        };
        rest.drain(..cut);
        let (empty, _) = csv_reader(Box::new(std::io::empty()), self.delimiter);
        let unread = std::mem::replace(&mut self.csv, empty).into_inner().inner;
        let input = std::io::Cursor::new(rest).chain(unread);
        let (csv, guard) = csv_reader(Box::new(input), self.delimiter);
        self.csv = csv;
        self.guard = guard;
        true
    }

    /// The cells of the record just read before its `column` (1-based), as a row.
    fn cells_before(&self, column: usize) -> Row {
        let mut record = ByteRecord::new();
        for f in self.record.iter().take(column.saturating_sub(1)) {
            record.push_field(f);
        }
        let (mut cells, not_utf8) = to_strings(record, self.charset);
        if self.formula_guard {
            cells = unguarded_cells(cells);
        }
        Row {
            number: self.number,
            cells,
            not_utf8,
        }
    }

    /// The first cell of the record just read, shortened, for rejects.
    fn first_cell(&self) -> String {
        let first = self.record.get(0).unwrap_or_default();
        // A quote never closed in the first cell: its line only.
        let first = first
            .split(|&b| b == b'\n' || b == b'\r')
            .next()
            .unwrap_or_default();
        String::from_utf8_lossy(first.get(..64).unwrap_or(first)).into_owned()
    }

    /// The 1-based column of a quoted cell the record just read left open: the input ended
    /// inside it, so the csv reader read the rest of the file into that cell. `None` when the
    /// record ended as records do.
    fn unclosed(&self) -> Option<usize> {
        let quotes = self.guard.quotes.get();
        (self.guard.eof.get()
            && quotes.state == Quoting::Quoted
            && self.csv.position().byte() == self.guard.read.get())
        .then(|| quotes.opened_in.saturating_add(1))
    }
}

/// `cells` with the mark [`crate::formula::guarded`] adds dropped (`csv.formula_guard`);
/// the record as it is when no cell has it.
fn unguarded_cells(cells: StringRecord) -> StringRecord {
    if !cells.iter().any(|c| crate::formula::unguarded(c).is_some()) {
        return cells;
    }
    cells
        .iter()
        .map(|c| crate::formula::unguarded(c).unwrap_or(c))
        .collect()
}

/// UTF-8 cells as they are; a cell that is not UTF-8 is read as Windows-1252, which is what
/// spreadsheets on Windows write (`’` is 0x92 there, a control code in ISO-8859-1), so no
/// byte is lost or refused. True with the record when a cell was read so. Under
/// `Charset::Windows1252` (the partner's profile says so) every cell is read in it, and that
/// is nothing to note.
fn to_strings(record: ByteRecord, charset: Charset) -> (StringRecord, bool) {
    if charset == Charset::Windows1252 && !record.as_slice().is_ascii() {
        let mut s = StringRecord::new();
        for f in record.iter() {
            s.push_field(&charset.read(f));
        }
        return (s, false);
    }
    match StringRecord::from_byte_record(record) {
        Ok(s) => (s, false),
        Err(e) => {
            let record = e.into_byte_record();
            let mut s = StringRecord::new();
            for f in record.iter() {
                s.push_field(&gateway_model::charset::utf8_or_windows_1252(f));
            }
            (s, true)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(data: &[u8], d: u8) -> Vec<Row> {
        let mut input: &[u8] = data;
        rows_left(&mut RowReader::new(&mut input, d))
    }

    /// The rows `r` reads until the end or a refusal.
    fn rows_left(r: &mut RowReader<'_>) -> Vec<Row> {
        let mut out = Vec::new();
        while let Next::Row(row) = r.next().unwrap() {
            out.push(row);
        }
        out
    }

    /// Each row as its number and its cells joined with `|`.
    fn numbered(rows: Vec<Row>) -> Vec<(u64, String)> {
        rows.into_iter()
            .map(|row| (row.number, row.cells.iter().collect::<Vec<_>>().join("|")))
            .collect()
    }

    #[test]
    fn embedded_newlines_keep_row_numbers_and_lines() {
        let rows = all(b"a,b\r\n\"x\ny\",2\r\nlast,3", b',');
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[1].get(Some(0)), "x\ny");
        assert_eq!(rows[2].number, 3);
        assert_eq!(rows[2].place(), "row 3");
        assert_eq!(rows[2].get(Some(1)), "3");
        assert_eq!(rows[2].get(Some(9)), "");
    }

    #[test]
    fn windows_1252_cells_are_kept() {
        let rows = all(b"caf\xe9,Men\x92s,1\ncaf\xc3\xa9,2\n", b',');
        assert_eq!(rows[0].get(Some(0)), "café");
        assert_eq!(rows[0].get(Some(1)), "Men’s");
        assert!(rows[0].not_utf8);
        assert_eq!(rows[1].get(Some(0)), "café");
        assert!(!rows[1].not_utf8);
    }

    fn last(data: &[u8]) -> (Vec<Row>, Next) {
        let mut input: &[u8] = data;
        let mut r = RowReader::new(&mut input, b',');
        let mut rows = Vec::new();
        loop {
            match r.next().unwrap() {
                Next::Row(row) => rows.push(row),
                other => {
                    assert!(matches!(r.next().unwrap(), Next::End));
                    return (rows, other);
                }
            }
        }
    }

    #[test]
    fn a_quote_left_open_at_the_end_is_told() {
        for data in [
            &b"a,b\nInvoice Line,1,\"Widget,10.00,2\n"[..],
            b"a,b\nInvoice Line,1,\"Widget,10.00,2",
            b"a,b\nInvoice Line,1,\"Widget \"\"big\"\",2\r\n",
            b"a,b\nInvoice Line,1,\"x\"\"",
        ] {
            let (rows, next) = last(data);
            assert_eq!(rows.len(), 1, "{data:?}");
            match next {
                Next::Unclosed {
                    number,
                    column,
                    first,
                    rest_read,
                    before,
                } => {
                    assert_eq!((number, column), (2, 3), "{data:?}");
                    assert_eq!(first, "Invoice Line");
                    assert!(!rest_read, "{data:?}");
                    assert_eq!(
                        before.cells.iter().collect::<Vec<_>>(),
                        ["Invoice Line", "1"]
                    );
                }
                other => panic!("{data:?}: expected Unclosed, got {other:?}"),
            }
        }
    }

    #[test]
    fn the_lines_an_unclosed_quote_swallowed_are_read_as_rows() {
        // QA: the quote opened in row 2 swallowed rows 3 and 4; their quotes, all written
        // twice, are as the csv reader read them.
        for data in [
            &b"a,b\nX,\"open,1\nZ,\"\",3\nW,\"\"\"\",4\n"[..],
            b"a,b\r\nX,\"open,1\r\nZ,\"\",3\r\nW,\"\"\"\",4",
        ] {
            let mut input: &[u8] = data;
            let mut r = RowReader::new(&mut input, b',');
            assert!(matches!(r.next().unwrap(), Next::Row(row) if row.number == 1));
            match r.next().unwrap() {
                Next::Unclosed {
                    number,
                    column,
                    first,
                    rest_read,
                    ..
                } => {
                    assert_eq!((number, column, first.as_str()), (2, 2, "X"));
                    assert!(rest_read);
                }
                other => panic!("{data:?}: expected Unclosed, got {other:?}"),
            }
            let rest = numbered(rows_left(&mut r));
            assert_eq!(
                rest,
                [(3, "Z||3".to_string()), (4, "W|\"|4".to_string())],
                "{data:?}"
            );
        }
        // Nothing after the row's line but blank lines: the reader is done.
        let (rows, next) = last(b"a\nX,\"open\n\n\n");
        assert_eq!(rows.len(), 1);
        assert!(matches!(
            next,
            Next::Unclosed {
                rest_read: false,
                ..
            }
        ));
    }

    #[test]
    fn closed_quotes_and_literal_quotes_are_not_told() {
        for data in [
            &b"a,\"b\"\n\"x\ny\",2"[..],
            b"a,\"b\"",
            b"a,\"b\"\"\"\n",
            b"12\" ruler,5\n",
            b"12\" ruler,\"5\" ,\"\"\t\n",
            b"\"a\",b\r\n\"\"\r\n",
            b"",
        ] {
            let (_, next) = last(data);
            assert!(matches!(next, Next::End), "{data:?}: {next:?}");
        }
    }

    #[test]
    fn a_quote_closed_before_text_is_told_and_the_lines_after_are_read_again() {
        // Within the line: the record is refused, the next one read as it is.
        let mut input: &[u8] = b"12\" ruler,\"5\"x,\"\"\n\"a\" b,c\nlast,1\n";
        let mut r = RowReader::new(&mut input, b',');
        for (row, col, after) in [(1, 2, "x"), (2, 1, "b")] {
            match r.next().unwrap() {
                Next::StrayQuote {
                    number,
                    column,
                    after: got,
                    rest_read,
                    ..
                } => {
                    assert_eq!((number, column, got.as_str()), (row, col, after));
                    assert!(!rest_read);
                }
                other => panic!("expected StrayQuote, got {other:?}"),
            }
        }
        assert!(matches!(r.next().unwrap(), Next::Row(row) if row.get(Some(0)) == "last"));
        // Over lines (CRLF): the lines after the record's first are read again as written.
        let mut input: &[u8] = b"h\r\nA,\"open,1\r\nB,\"q\"\"x\",2\r\nC,\"z\",3\r\n";
        let mut r = RowReader::new(&mut input, b',');
        assert!(matches!(r.next().unwrap(), Next::Row(_)));
        match r.next().unwrap() {
            Next::StrayQuote {
                number,
                column,
                first,
                rest_read,
                before,
                ..
            } => {
                assert_eq!((number, column, first.as_str()), (2, 2, "A"));
                assert!(rest_read);
                assert_eq!(before.cells.iter().collect::<Vec<_>>(), ["A"]);
            }
            other => panic!("expected StrayQuote, got {other:?}"),
        }
        let rest = numbered(rows_left(&mut r));
        assert_eq!(
            rest,
            [(3, "B|q\"x|2".to_string()), (4, "C|z|3".to_string())]
        );
    }

    #[test]
    fn the_lines_after_a_stray_are_read_again_across_many_reads() {
        // The stray's record and the rows after it span several of the csv reader's reads.
        let mut data = b"h\nA,\"open,1\n".to_vec();
        let filler = format!("F,{},0\n", "x".repeat(200));
        for _ in 0..(READ_AHEAD / 100) {
            data.extend_from_slice(filler.as_bytes());
        }
        data.extend_from_slice(b"B,\"q\",2\nC,3\n");
        let mut input: &[u8] = &data;
        let mut r = RowReader::new(&mut input, b',');
        assert!(matches!(r.next().unwrap(), Next::Row(_)));
        assert!(matches!(
            r.next().unwrap(),
            Next::StrayQuote {
                number: 2,
                column: 2,
                rest_read: true,
                ..
            }
        ));
        let rows: Vec<String> = rows_left(&mut r)
            .iter()
            .map(|row| row.get(Some(0)).to_string())
            .collect();
        assert_eq!(rows.len(), READ_AHEAD / 100 + 2);
        assert_eq!(rows.last().map(String::as_str), Some("C"));
        assert_eq!(rows[rows.len() - 2], "B");
    }

    #[test]
    fn the_quote_scan_agrees_across_read_boundaries() {
        // The scan sees the input in the csv reader's chunks: a quote pair split between two
        // reads is still an escaped quote.
        let mut strays = VecDeque::new();
        let mut s = QuoteScan::new(b',');
        s.feed(b"a,\"x\"", &mut strays);
        s.feed(b"\"y", &mut strays);
        assert_eq!(s.state, Quoting::Quoted);
        s.feed(b"\"", &mut strays);
        assert_eq!(s.state, Quoting::QuoteSeen);
        s.feed(b" ", &mut strays);
        assert_eq!(s.state, Quoting::AfterQuote);
        s.feed(b",b\n\"", &mut strays);
        assert_eq!((s.state, s.opened_in), (Quoting::Quoted, 0));
        // A closing quote, then a space, then text, split over three reads.
        s.feed(b"p\nq\"", &mut strays);
        s.feed(b" ", &mut strays);
        assert!(strays.is_empty());
        s.feed(b"z,", &mut strays);
        let stray = strays.pop_front().unwrap();
        assert_eq!(
            (
                stray.opened_at,
                stray.column,
                stray.rest_from,
                stray.after.as_str()
            ),
            (12, 1, Some(14), "z")
        );
        assert_eq!(s.state, Quoting::Start);
    }

    #[test]
    fn unclosed_quote_is_bounded() {
        let mut data = b"a,b\n\"never closed,".to_vec();
        data.extend(std::iter::repeat_n(b'x', MAX_RECORD_BYTES + 3 * READ_AHEAD));
        let mut input: &[u8] = &data;
        let mut r = RowReader::new(&mut input, b',');
        assert!(matches!(r.next().unwrap(), Next::Row(_)));
        match r.next().unwrap() {
            Next::TooLarge {
                number,
                fatal,
                open_quote,
                ..
            } => {
                assert_eq!(number, 2);
                assert!(fatal);
                assert_eq!(open_quote, Some(1));
            }
            other => panic!("expected TooLarge, got {other:?}"),
        }
        assert!(matches!(r.next().unwrap(), Next::End));
    }
}
