//! Records off a byte stream, one at a time, with their file row numbers and a bound on the
//! size of any one record, so a missing closing quote cannot make the reader swallow the file.

use gateway_model::charset::Charset;
use std::cell::Cell;
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
}

/// What reading the next record gave.
#[derive(Debug)]
pub enum Next {
    Row(Row),
    /// The record at `number` had a field or the whole record over its bound. When
    /// `fatal`, the rest of the file could not be read (the record never ended).
    TooLarge {
        number: u64,
        fatal: bool,
        /// The record's first cell (its record type in Coupa's layouts), shortened; empty
        /// when the record never ended.
        first: String,
    },
    End,
}

#[derive(Debug, Default)]
struct Guard {
    limit: Cell<u64>,
    tripped: Cell<bool>,
}

/// The input, refusing to hand out more than the bound past the last record boundary.
struct Guarded<'a> {
    inner: &'a mut dyn BufRead,
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
        self.read += n as u64;
        Ok(n)
    }
}

/// Streaming record reader over any `BufRead`.
pub struct RowReader<'a> {
    csv: csv::Reader<Guarded<'a>>,
    guard: Rc<Guard>,
    record: ByteRecord,
    number: u64,
    done: bool,
    /// The partner's `csv.charset`: under Windows-1252 every cell is read in it.
    charset: Charset,
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
    pub fn with_charset(mut self, charset: Charset) -> Self {
        self.charset = charset;
        self
    }

    /// A reader for `input` (BOM already skipped) with the given delimiter.
    pub fn new(input: &'a mut dyn BufRead, delimiter: u8) -> Self {
        let guard = Rc::new(Guard::default());
        guard.limit.set(bound_from(0));
        let csv = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delimiter)
            .buffer_capacity(READ_AHEAD)
            .from_reader(Guarded {
                inner: input,
                read: 0,
                guard: Rc::clone(&guard),
            });
        RowReader {
            csv,
            guard,
            record: ByteRecord::new(),
            number: 0,
            done: false,
            charset: Charset::Utf8,
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
                self.guard.limit.set(bound_from(self.csv.position().byte()));
                if self.record.as_slice().len() > MAX_RECORD_BYTES
                    || self.record.len() > MAX_COLUMNS
                    || self.record.iter().any(|f| f.len() > MAX_FIELD_BYTES)
                {
                    let first = self.record.get(0).unwrap_or_default();
                    let first = String::from_utf8_lossy(first.get(..64).unwrap_or(first));
                    return Ok(Next::TooLarge {
                        number: self.number,
                        fatal: false,
                        first: first.into_owned(),
                    });
                }
                let record = std::mem::take(&mut self.record);
                let (cells, not_utf8) = to_strings(record, self.charset);
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
                    Ok(Next::TooLarge {
                        number: self.number,
                        fatal: true,
                        first: String::new(),
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
        let mut r = RowReader::new(&mut input, d);
        let mut out = Vec::new();
        while let Next::Row(row) = r.next().unwrap() {
            out.push(row);
        }
        out
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

    #[test]
    fn unclosed_quote_is_bounded() {
        let mut data = b"a,b\n\"never closed,".to_vec();
        data.extend(std::iter::repeat_n(b'x', MAX_RECORD_BYTES + 3 * READ_AHEAD));
        let mut input: &[u8] = &data;
        let mut r = RowReader::new(&mut input, b',');
        assert!(matches!(r.next().unwrap(), Next::Row(_)));
        match r.next().unwrap() {
            Next::TooLarge { number, fatal, .. } => {
                assert_eq!(number, 2);
                assert!(fatal);
            }
            other => panic!("expected TooLarge, got {other:?}"),
        }
        assert!(matches!(r.next().unwrap(), Next::End));
    }
}
