//! The bounds that keep memory flat whatever the input: one record, one cell, one document.

/// Longest record (all cells and delimiters) read; a longer one is rejected.
pub const MAX_RECORD_BYTES: usize = 1024 * 1024;
/// Longest cell; a longer one rejects its row.
pub const MAX_FIELD_BYTES: usize = 64 * 1024;
/// Most rows one document may span (header, lines, charges); more rejects the document and
/// its further rows are dropped as they arrive.
pub const MAX_ROWS_PER_DOCUMENT: usize = 100_000;
/// Most rejects kept for one document; the rest are counted in one closing reject.
pub const MAX_REJECTS_PER_DOCUMENT: usize = 50;
/// Most cells in one record, read or written; a wider record is rejected.
pub const MAX_COLUMNS: usize = 1024;
