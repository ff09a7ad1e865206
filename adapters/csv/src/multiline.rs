//! A quoted cell over several lines: legal CSV, and how partners write a description or an
//! address on more than one line, but also what a stray `"` at the start of a cell makes of
//! the rows after it, up to the next `"`: one cell, its row read with the cells after that
//! quote, the rows in it never read (their invoices merged into a description, or lost).
//!
//! Such a cell is refused, at the row and column of its opening quote, when it looks like
//! swallowed rows rather than text: a line of it after its first has at least as many
//! delimiters as a row of the file (the header row of the record it would be names columns,
//! less one; a header row of at least [`MIN_ROW_COLUMNS`] columns), or, in the Coupa
//! layouts, begins with a record type the file has a header row for and has a few delimiters;
//! or it has more than [`MAX_LINE_BREAKS`] line breaks; or it sits in a column that is not
//! free text (a description, comment or address column of the layout). A header row's cells
//! may hold line breaks anywhere (spreadsheets wrap long column names), the other tests still
//! applying. The layouts say what their columns are ([`Judge`]); the codec refuses the row as
//! it refuses a record it cannot read, rejecting the document it falls in.
//!
//! The writers ask the same questions of every value they write with a line break
//! ([`Judge::accepts`], the layouts' free-text columns from the functions their readers use:
//! `coupa::free_text`, `column_map::free_text_columns`), so the gateway never writes a file it
//! would refuse: descriptive text the reader would refuse as it is goes on one line
//! ([`one_line`]), and any other value with a line break is refused at its path.

use gateway_core::Reject;

use crate::header::Header;
use crate::rows::Row;

/// Most line breaks a free-text cell may hold: more is taken for rows swallowed by a stray
/// quote, not a description or an address (whose lines are a handful).
pub const MAX_LINE_BREAKS: usize = 20;

/// Fewest columns a header row must name for its count of delimiters to tell a row from text
/// (a line of a description may well hold two commas).
const MIN_ROW_COLUMNS: usize = 4;

/// Fewest delimiters on a line beginning with a record type (`Invoice Line,INV-7,2,Bolt`) for
/// it to be taken for a row: the record type, its document's number and a value.
const MIN_TYPED_DELIMITERS: usize = 3;

/// Which cells of a row may hold line breaks.
#[derive(Debug)]
pub enum FreeText {
    /// Every cell (a header row: column names wrapped over lines).
    Any,
    /// The cells of these 0-based columns: the layout's description, comment and address
    /// columns for the row's record type.
    Columns(Vec<usize>),
}

/// What a layout says about the row holding a cell over several lines.
pub struct Judge<'a> {
    pub delimiter: u8,
    /// The header the row is read under, naming its columns in the reject.
    pub header: Option<&'a Header>,
    pub free_text: FreeText,
    /// How many columns a row beginning with the given line has: its header row's named
    /// width (or, where no header row tells, the row's own cells).
    pub row_columns: &'a dyn Fn(&str) -> usize,
    /// True when the line begins with a record type the file has a header row for (the Coupa
    /// layouts; always false for a column map).
    pub typed: &'a dyn Fn(&str) -> bool,
}

/// Why a cell over several lines is refused.
enum Why<'r> {
    /// Line `index` (0-based) of the cell looks like a row of the file.
    RowLike {
        index: usize,
        line: &'r str,
        delimiters: usize,
    },
    TooManyLines,
    NotFreeText,
}

impl Judge<'_> {
    /// The first cell of `row` that holds a line break and is refused: its 0-based column and
    /// the reject, placed at the row and column where its quote opened.
    pub fn refused(&self, row: &Row) -> Option<(usize, Reject)> {
        row.cells.iter().enumerate().find_map(|(column, cell)| {
            // Line breaks around a value are trimmed off by every reader: no row is in them.
            let cell = cell.trim();
            if !cell.contains(['\n', '\r']) {
                return None;
            }
            let why = self.why(column, cell)?;
            Some((column, self.reject(row, column, cell, why)))
        })
    }

    /// True when a reader takes `cell`, in 0-based `column` of a row it judges with `self`, as
    /// it is: a value without a line break, or text of a few lines in a free-text column. The
    /// writers ask this of each value with a line break before writing it.
    pub fn accepts(&self, column: usize, cell: &str) -> bool {
        let cell = cell.trim();
        !cell.contains(['\n', '\r']) || self.why(column, cell).is_none()
    }

    fn why<'r>(&self, column: usize, cell: &'r str) -> Option<Why<'r>> {
        let lines: Vec<&str> = lines(cell).collect();
        let delimiter = char::from(self.delimiter);
        for (index, line) in lines.iter().enumerate().skip(1) {
            let delimiters = line.matches(delimiter).count();
            let columns = (self.row_columns)(line);
            let full = columns >= MIN_ROW_COLUMNS && delimiters + 1 >= columns;
            if full || (delimiters >= MIN_TYPED_DELIMITERS && (self.typed)(line)) {
                return Some(Why::RowLike {
                    index,
                    line,
                    delimiters,
                });
            }
        }
        if lines.len() > MAX_LINE_BREAKS + 1 {
            return Some(Why::TooManyLines);
        }
        match &self.free_text {
            FreeText::Any => None,
            FreeText::Columns(free) if free.contains(&column) => None,
            FreeText::Columns(_) => Some(Why::NotFreeText),
        }
    }

    fn reject(&self, row: &Row, column: usize, cell: &str, why: Why<'_>) -> Reject {
        let breaks = lines(cell).count().saturating_sub(1);
        let letter = crate::source_path::column_letter(u32::try_from(column).unwrap_or(u32::MAX));
        let named = match self
            .header
            .filter(|h| h.names.get(column).is_some_and(|n| !n.is_empty()))
        {
            Some(h) => format!("{:?} ({letter})", h.written(column)),
            None => format!("{} ({letter})", column + 1),
        };
        let opens = format!(
            "a quoted cell opens here and runs over {breaks} line break{}",
            if breaks == 1 { "" } else { "s" }
        );
        let seems = "a `\"` at the start of this cell that is not meant as a quote has made \
                     the rows after it, up to the next `\"`, one cell";
        let reason = match why {
            Why::RowLike {
                index,
                line,
                delimiters,
            } => format!(
                "{opens}, and its line {} ({:?}) holds {delimiters} delimiters, as a row of the \
                 file does: {seems}",
                index + 1,
                crate::cells::shorten(line)
            ),
            Why::TooManyLines => format!(
                "{opens}, more than the {MAX_LINE_BREAKS} a description or an address is taken \
                 to have: {seems}"
            ),
            Why::NotFreeText => format!(
                "{opens}, in a column that is not free text (only description, comment and \
                 address columns may hold several lines): its value would be read with line \
                 breaks in it, or {seems}"
            ),
        };
        Reject::new(
            format!("{}, column {named}", row.place()),
            format!(
                "{reason}; the row is rejected with its document, and the lines in the cell \
                 were not read as rows, so a document of theirs is not delivered either. \
                 Remove the stray `\"` (a `\"` that is part of a value is written twice, \
                 `\"\"`, inside a quoted cell), or write the value on one line, and send the \
                 file again"
            ),
        )
    }
}

/// The lines of `cell`, split at CRLF, LF or CR.
fn lines(cell: &str) -> impl Iterator<Item = &str> {
    cell.split('\n')
        .flat_map(|l| l.strip_suffix('\r').unwrap_or(l).split('\r'))
}

/// `text` on one line: each line break (CRLF, LF or CR) written as one space, as the X12
/// writer writes descriptive text. What the writers do with a description, note, address or
/// name a reader would not take over several lines; `left_out` names the value so changed.
pub fn one_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, line) in lines(text).enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(line);
    }
    out
}

/// True when `text` holds a line break (CR or LF).
pub fn has_line_break(text: &str) -> bool {
    memchr::memchr2(b'\n', b'\r', text.as_bytes()).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_split_at_every_line_end() {
        let got: Vec<&str> = lines("a\r\nb\nc\rd").collect();
        assert_eq!(got, ["a", "b", "c", "d"]);
    }

    #[test]
    fn one_line_makes_each_line_break_one_space() {
        assert_eq!(one_line("a\r\nb\nc\rd\n\ne"), "a b c d  e");
        assert_eq!(one_line("plain"), "plain");
    }
}
