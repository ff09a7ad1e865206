//! CSV flat files: Coupa's invoice import and PO export layouts, and partners' own
//! spreadsheet layouts described by a column map in their profile.
//!
//! [`CsvCodec`] is the entry point: it implements [`gateway_core::Decode`] (streaming, one
//! document in memory at a time, a bad row rejecting only its own document) and
//! [`gateway_core::Encode`]. [`reject_report`] renders rejects for a file written beside the
//! input.

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
mod header;
pub mod limits;
mod parties;
mod pending;
mod report;
mod rows;
mod table;
mod value;

pub use codec::CsvCodec;
pub use gateway_core::Reject;
pub use report::reject_report;
