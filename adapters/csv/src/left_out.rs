//! What writing a document as CSV leaves out, named so that a conversion says so instead of
//! losing it without a word ([`left_out()`], `Encode::left_out` of [`crate::CsvCodec`]).
//!
//! The CSV layouts hold less than the canonical model: Coupa's invoice import keeps a
//! payment term's text but not its days and percent, a party's name and address but not its
//! contact details or most of its ids, a header tax's amount and rate but not its
//! description; a partner's column map holds what it has columns for and nothing else. Rather
//! than a table of the columns each layout writes, which would drift from the writers, the
//! document is written exactly as [`crate::CsvCodec`] writes it, read back with the same
//! reader, and every canonical value of the document that did not come back (or came back
//! as another value) is named by its path: what the writer writes is, by construction, what
//! is not named. A part missing whole is named once (`$.supplier.ids[0]`, not its domain and
//! value); decimals compare by value (`1505.00` is `1505.0`).
//!
//! A value whose line breaks are written as spaces (descriptive text where a reader would
//! not take them: a name, or a description of more than 20 lines, see `table`) is named
//! saying so. A document the writer refuses is named nothing here: `encode` says why it
//! refuses it.
//!
//! A line's supplier auxiliary part id comes back in the CSV form (the PO layout's column
//! `supp-aux-part-num`, kept under `extensions.csv`), not in the form it was sent in (cXML's,
//! Coupa's, an X12 `VS` pair): it is carried when
//! [`gateway_core::supplier_part_auxiliary_id`] finds the same id in the sent line and in the
//! line read back ([`carried_auxiliary_part_ids`]), and named only when it is really lost.

use gateway_core::{Decode, Encode, PartnerProfile};
use gateway_model::{Document, to_json_line};
use serde_json::Value;

/// Why a part of a document is named.
const NO_COLUMN: &str = "the CSV layout has no column for it, so it is not written";
const COLUMN_MAP: &str = "the partner's CSV column map has no column for it, so it is not written";
const DIFFERS: &str = "the CSV layout writes another value in its place";
const ONE_LINE: &str = "written on one line, each line break a space: a CSV reader takes a cell over several lines only in a description, note or address column, of at most 20 lines that do not look like rows";

/// What writing `doc` as CSV for `partner` (Coupa's layouts, or its column map) leaves out,
/// each as `path: why`, by path (an object's fields in the order of their names); empty when a read back gives all of it.
pub fn left_out(doc: &Document, partner: &PartnerProfile) -> Vec<String> {
    let codec = crate::CsvCodec;
    let Ok(bytes) = codec.encode(std::slice::from_ref(doc), partner) else {
        return Vec::new();
    };
    let mut back = codec.decode(&bytes, partner);
    let why = match partner.csv.as_ref().is_some_and(|c| c.has_column_map()) {
        true => COLUMN_MAP,
        false => NO_COLUMN,
    };
    let (Ok(sent), Some(read)) = (as_value(doc), back.documents.first_mut()) else {
        return Vec::new();
    };
    let Ok(mut got) = as_value(&read.document) else {
        return Vec::new();
    };
    carried_auxiliary_part_ids(&sent, &mut got);
    let mut out = Vec::new();
    diff("$", &sent, Some(&got), why, &mut out);
    out
}

/// `doc` as its canonical JSON.
fn as_value(doc: &Document) -> Result<Value, serde_json::Error> {
    serde_json::from_str(&to_json_line(doc))
}

/// Puts back, in each line of `got` (read back) whose supplier auxiliary part id
/// ([`gateway_core::supplier_part_auxiliary_id`]) is the one of the same line of `sent`, each
/// part of the sent line's `extensions` that on its own holds that id (cXML's
/// `supplier_part_auxiliary_id`, Coupa's `supp-aux-part-num`, an X12 `VS` pair of `ids`):
/// the id came back in another form, so the comparison finds it carried. A part holding
/// another id (a line with two that differ, of which one is written) stays lost.
fn carried_auxiliary_part_ids(sent: &Value, got: &mut Value) {
    let id_of = |ext: Option<&Value>| -> Option<String> {
        let ext: gateway_model::Extensions = serde_json::from_value(ext?.clone()).ok()?;
        gateway_core::supplier_part_auxiliary_id(&ext).map(|(_, id)| id.to_owned())
    };
    let (Some(lines), Some(back)) = (
        sent.get("lines").and_then(Value::as_array),
        got.get_mut("lines").and_then(Value::as_array_mut),
    ) else {
        return;
    };
    for (line, back) in lines.iter().zip(back) {
        let Some(id) = id_of(back.get("extensions")) else {
            continue;
        };
        let Some(sent_ext) = line.get("extensions").and_then(Value::as_object) else {
            continue;
        };
        if id_of(line.get("extensions")).as_deref() != Some(id.as_str()) {
            continue;
        }
        // Whether `value` as the extension `format`'s `key`, alone in a line, is the id.
        let holds = |format: &str, key: &str, value: &Value| {
            id_of(Some(&serde_json::json!({ format: { key: value } }))).as_deref()
                == Some(id.as_str())
        };
        let Some(got_ext) = field(back, "extensions") else {
            continue;
        };
        for (format, kept) in sent_ext {
            for (key, value) in kept.as_object().into_iter().flatten() {
                let carried = match value {
                    Value::Array(items) => Value::Array(
                        items
                            .iter()
                            .filter(|item| holds(format, key, &serde_json::json!([item])))
                            .cloned()
                            .collect(),
                    ),
                    v if holds(format, key, v) => v.clone(),
                    _ => continue,
                };
                if carried.as_array().is_some_and(Vec::is_empty) {
                    continue;
                }
                let Some(slot) = field(got_ext, format).and_then(|f| field(f, key)) else {
                    continue;
                };
                match (slot, carried) {
                    (Value::Array(have), Value::Array(items)) => have.extend(items),
                    (slot @ Value::Null, carried) => *slot = carried,
                    _ => {}
                }
            }
        }
    }
}

/// The field `key` of the object `v` (made an object when null, and the field null when
/// absent); `None` when `v` is another value.
fn field<'v>(v: &'v mut Value, key: &str) -> Option<&'v mut Value> {
    if v.is_null() {
        *v = Value::Object(Default::default());
    }
    Some(v.as_object_mut()?.entry(key).or_insert(Value::Null))
}

/// Names every value of `sent` (at `path`) that `got` does not hold alike.
fn diff(path: &str, sent: &Value, got: Option<&Value>, why: &str, out: &mut Vec<String>) {
    let got = got.filter(|g| !g.is_null());
    match (sent, got) {
        (Value::Null, _) => {}
        (Value::Object(m), _) if m.is_empty() => {}
        (Value::Array(a), _) if a.is_empty() => {}
        (_, None) => out.push(format!("{path}: {why}")),
        (Value::Object(s), Some(Value::Object(g))) => {
            for (k, v) in s {
                diff(&format!("{path}.{k}"), v, g.get(k), why, out);
            }
        }
        (Value::Array(s), Some(Value::Array(g))) => {
            for (n, v) in s.iter().enumerate() {
                let at = format!("{path}[{n}]");
                // A party's ids are a set: one written elsewhere in the list is carried, and
                // one not written is named whole, not by its domain and value.
                if path.ends_with(".ids") {
                    if !g.iter().any(|g| deep_alike(v, g)) {
                        out.push(format!("{at}: {why}"));
                    }
                    continue;
                }
                diff(&at, v, g.get(n), why, out);
            }
        }
        (s, Some(g)) if alike(s, g) => {}
        (Value::String(s), Some(Value::String(g)))
            if crate::multiline::has_line_break(s)
                && s.trim() != g.as_str()
                && crate::multiline::one_line(s).trim() == g.as_str() =>
        {
            out.push(format!("{path}: {ONE_LINE}"));
        }
        (_, Some(_)) => out.push(format!("{path}: {DIFFERS}")),
    }
}

/// Whether `sent` comes back whole as `got`.
fn deep_alike(sent: &Value, got: &Value) -> bool {
    let mut out = Vec::new();
    diff("", sent, Some(got), "", &mut out);
    out.is_empty()
}

/// Whether two leaf values are the same: equal, or decimal text of the same value.
fn alike(a: &Value, b: &Value) -> bool {
    if a == b {
        return true;
    }
    let (Value::String(a), Value::String(b)) = (a, b) else {
        return false;
    };
    match (
        gateway_model::parse_plain_decimal(a),
        gateway_model::parse_plain_decimal(b),
    ) {
        (Some(x), Some(y)) => x == y,
        _ => false,
    }
}
