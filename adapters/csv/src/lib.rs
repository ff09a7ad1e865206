//! CSV flat files: Coupa invoice import and PO export layouts, partner column maps.
