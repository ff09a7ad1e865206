//! What the X12 test files share: where X12 lives in the shared corpus.

/// The corpus folders holding X12 (`malformed` also holds other formats' files).
pub const X12_FOLDERS: [&str; 6] = [
    "x12-810",
    "x12-850",
    "x12-855",
    "x12-856",
    "x12-997",
    "malformed",
];
