//! A line's supplier auxiliary part id: the supplier's own second key of an item, which a
//! punch-out catalog hands the buyer with each item of a cart and expects back on the order
//! to find that item (cXML `ItemID/SupplierPartAuxiliaryID`, Coupa's `supp-aux-part-num`). A
//! supplier that gets an order line without it may not find the item it priced.
//!
//! The canonical model has no field for it, so each reader keeps it in the line's
//! `extensions` as its source had it: cXML `SupplierPartAuxiliaryID`
//! (`cxml.supplier_part_auxiliary_id`), a Coupa PO line's `supp-aux-part-num`
//! (`coupa.supp-aux-part-num`), an X12 IT1/PO1 id pair of qualifier [`X12_QUALIFIER`] (a
//! kept pair in `x12.ids`), and a CSV column such as [`CSV_COLUMN`] (a kept cell of
//! `extensions.csv`, under the header as the file spelt it).
//!
//! [`supplier_part_auxiliary_id`] reads all four, so every writer writes the id from
//! whichever form the line has, in its own form (the same way
//! [`crate::original_invoice`] carries a memo's original invoice from one format to another).

use gateway_model::Extensions;
use serde_json::Value;

/// Where a line's supplier auxiliary part id was found: the name of the extension holding it
/// (`cxml`, `coupa`, `x12`, `csv`), so a writer can tell its own form (written back as kept)
/// from another format's (written in its own form).
pub type KeptIn = &'static str;

/// The X12 Product/Service ID qualifier (element 235) of a supplier auxiliary part id:
/// `VS`, Vendor's Supplemental Item Number, the pair X12 translators give cXML's
/// `SupplierPartAuxiliaryID`.
pub const X12_QUALIFIER: &str = "VS";

/// The column of the CSV PO export layout for the id: Coupa's own name for the field.
pub const CSV_COLUMN: &str = "supp-aux-part-num";

/// Header spellings of the id's CSV column, in compare form (see
/// [`crate::original_invoice`]: case, whitespace, `-`, `_`, `.`, `*` and `?` aside).
const CSV_NAMES: &[&str] = &[
    "suppauxpartnum",
    "supplierauxpartnum",
    "supplierauxiliarypartnum",
    "supplierpartauxiliaryid",
];

/// The supplier auxiliary part id of the line whose extensions are `ext`, trimmed, with the
/// extension it was found in; `None` when no form holds a non-empty one. cXML's form first,
/// then Coupa's, X12's and CSV's.
pub fn supplier_part_auxiliary_id(ext: &Extensions) -> Option<(KeptIn, &str)> {
    let field = |format: &str, key: &str| ext.get(format)?.get(key).and_then(text);
    if let Some(v) = field("cxml", "supplier_part_auxiliary_id") {
        return Some(("cxml", v));
    }
    if let Some(v) = field("coupa", "supp-aux-part-num") {
        return Some(("coupa", v));
    }
    if let Some(v) = x12_pair(ext) {
        return Some(("x12", v));
    }
    csv_cell(ext).map(|v| ("csv", v))
}

/// `v` as trimmed text, when it is a string with more than blanks.
fn text(v: &Value) -> Option<&str> {
    v.as_str().map(str::trim).filter(|s| !s.is_empty())
}

/// The value of the first kept X12 id pair `[VS, value]` (`x12.ids`).
fn x12_pair(ext: &Extensions) -> Option<&str> {
    ext.get("x12")?
        .get("ids")?
        .as_array()?
        .iter()
        .filter_map(Value::as_array)
        .find(|pair| pair.first().and_then(Value::as_str).map(str::trim) == Some(X12_QUALIFIER))?
        .get(1)
        .and_then(text)
}

/// The first non-empty kept CSV cell whose column names the id.
fn csv_cell(ext: &Extensions) -> Option<&str> {
    ext.get("csv")?
        .as_object()?
        .iter()
        .filter(|(k, _)| csv_has_name(k))
        .find_map(|(_, v)| text(v))
}

/// Whether a CSV header names the id's column (any spelling of [`CSV_NAMES`]).
pub fn csv_has_name(header: &str) -> bool {
    CSV_NAMES
        .iter()
        .any(|n| crate::original_invoice::csv_named(header, n))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ext(v: Value) -> Extensions {
        serde_json::from_value(v).unwrap_or_default()
    }

    #[test]
    fn every_readers_form_is_found_and_cxml_comes_first() {
        let cases = [
            (
                json!({"cxml": {"supplier_part_auxiliary_id": " A1 "}}),
                Some(("cxml", "A1")),
            ),
            (
                json!({"coupa": {"id": 5, "supp-aux-part-num": "AUX-9"}}),
                Some(("coupa", "AUX-9")),
            ),
            (
                json!({"x12": {"ids": [["ZZ", "X"], ["VS", "V-2"]]}}),
                Some(("x12", "V-2")),
            ),
            (
                json!({"csv": {"Supplier Aux Part Num": "C-3"}}),
                Some(("csv", "C-3")),
            ),
            (
                json!({"csv": {"supp-aux-part-num": "C-4"}}),
                Some(("csv", "C-4")),
            ),
            (
                json!({"coupa": {"supp-aux-part-num": "B"}, "cxml": {"supplier_part_auxiliary_id": "A"}}),
                Some(("cxml", "A")),
            ),
            // Blank is none, and another X12 qualifier or CSV column is not the id.
            (json!({"coupa": {"supp-aux-part-num": "  "}}), None),
            (
                json!({"x12": {"ids": [["VP", "X"]]}, "csv": {"part": "Y"}}),
                None,
            ),
            (json!({}), None),
        ];
        for (e, want) in cases {
            assert_eq!(supplier_part_auxiliary_id(&ext(e.clone())), want, "{e}");
        }
    }
}
