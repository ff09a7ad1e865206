//! CSV flat files: Coupa's invoice import and PO export layouts, and partners' own
//! spreadsheet layouts described by a column map in their profile.
//!
//! [`CsvCodec`] is the entry point: it implements [`gateway_core::Decode`] (streaming, one
//! document in memory at a time, a bad row rejecting only its own document) and
//! [`gateway_core::Encode`]. [`reject_report`] renders rejects for a file written beside the
//! input.
//!
//! Layouts:
//! - Without a column map in the partner's `[csv]` profile section, the file is one of
//!   Coupa's: the first column is the record type (`Invoice`, `Invoice Line`,
//!   `Invoice Charge`, `Account Allocation`, `Tag`; `Header`, `Line`) and header rows name the
//!   columns (`Invoice,Invoice Number*,...` or `type,id,status,...`). Headers match by name,
//!   whatever the case, spaces, dashes or `*`. Rows of one document come together, its
//!   header record first: a row of an invoice after other documents' rows, or a second
//!   `Invoice` record under its number, refuses the invoice whole (one already handed over is
//!   taken back by `decode`: see `scattered`); in the PO export, several `Header` records
//!   may come together and their `Line` records after them, each going to the order its
//!   `order-header-id` names.
//!   A header row names every column of its records: a value past the last named column
//!   rejects its row's document (it would be lost), a row with fewer cells is read with the
//!   missing ones empty and noted on the document.
//! - With `columns`, the file is the partner's own: see `gateway_core::profile::CsvProfile`.
//!   Rows of one document (`grouping = "repeated"` or `"key"`) must be together and must not
//!   contradict its first row's document fields (a blank cell repeats nothing); either
//!   refuses the document whole.
//!
//! Source data the model has no field for is kept, so a round trip loses nothing:
//! `extensions.csv` (document and line level) holds unknown columns by their header, and
//! `extensions.csv_records` holds `Account Allocation` and `Tag` records.
//!
//! Validation problems are placed in the file as sent ([`gateway_core::Decode::source_path`]):
//! `row 5, column "Quantity" (I)`, rows counted as rejects count them (see `source_path`).
//!
//! Dialects: UTF-8 with or without BOM (other bytes read as Windows-1252; a file with the BOM
//! is UTF-8 even from a partner whose profile says Windows-1252, noted), CRLF or LF, quoted
//! cells with embedded newlines, no final newline, delimiter from the profile or sniffed from
//! the first line among `,` `;` tab `|` (a first line the profile's delimiter does not split
//! but another does refuses the file, naming both). Numbers: see `ValueFormat::decimal`; in a
//! `;`-separated file whose profile names no decimal separator, a comma without a point is
//! refused as ambiguous. A quoted cell never closed (the rest of the file read into it) rejects
//! its row's document at its row and column; the row ends at its line's end and the lines
//! after it are read as rows of their own. A quoted cell closed lines further on is read as
//! one value where it is text of a few lines (a description, note or address), and refused
//! at its row and column where it looks like rows a stray quote swallowed (see `multiline`).
//! Bounds: see [`limits`].

mod cells;
mod codec;
mod column_map;
mod coupa;
mod coupa_invoice;
mod coupa_po;
mod dialect;
mod encode_coupa;
mod encode_map;
mod fields;
mod formula;
mod header;
mod left_out;
pub mod limits;
mod line_po;
mod multiline;
mod parties;
mod pending;
mod report;
mod rows;
mod scattered;
mod source_path;
mod table;
mod utf16;
mod value;

pub use codec::{CsvCodec, UTF8_BY_ITS_MARK};
pub use gateway_core::Reject;
pub use left_out::left_out;
pub use report::reject_report;
