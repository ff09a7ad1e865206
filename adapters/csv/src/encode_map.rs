//! Canonical documents to a partner's own layout, following the column map in its profile:
//! one row per line with the document's fields repeated on every row.

use std::borrow::Cow;

use gateway_core::EncodeError;
use gateway_model::{Document, DocumentKind};

use crate::column_map::{ColumnMap, Grouping};
use crate::fields::{self, Field, HeadField, LineRef, PartyField};

fn invalid(path: impl Into<String>, message: impl Into<String>) -> EncodeError {
    EncodeError::Invalid {
        path: path.into(),
        message: message.into(),
    }
}

/// One output column: its header (or 1-based number) and the mappings that fill it, the
/// first with a value winning.
#[derive(Debug)]
struct OutColumn<'a> {
    name: &'a str,
    fields: Vec<(&'a Field, usize)>,
}

fn out_columns(map: &ColumnMap) -> Vec<OutColumn<'_>> {
    let mut cols: Vec<OutColumn<'_>> = Vec::new();
    let mut line_occurrences: Vec<(&HeadField, usize)> = Vec::new();
    for (name, f) in &map.columns {
        // The n-th column mapped to the same street-line field writes the n-th line.
        let occurrence = match f {
            Field::Head(h @ HeadField::Party(_, PartyField::Line)) => {
                match line_occurrences.iter_mut().find(|(x, _)| *x == h) {
                    Some((_, n)) => {
                        *n += 1;
                        *n
                    }
                    None => {
                        line_occurrences.push((h, 0));
                        0
                    }
                }
            }
            _ => 0,
        };
        match cols.iter_mut().find(|c| c.name == name) {
            Some(c) => c.fields.push((f, occurrence)),
            None => cols.push(OutColumn {
                name,
                fields: vec![(f, occurrence)],
            }),
        }
    }
    cols
}

fn cell(col: &OutColumn<'_>, doc: &Document, line: Option<LineRef<'_>>, map: &ColumnMap) -> String {
    col.fields
        .iter()
        .find_map(|(f, occurrence)| match f {
            Field::Ignore => None,
            Field::Head(h) => fields::get_head(doc, h, *occurrence, &map.fmt),
            Field::Line(l) => line.and_then(|line| fields::get_line(line, l, &map.fmt)),
        })
        .unwrap_or_default()
}

/// Writes `docs` in the partner's layout.
pub fn write(docs: &[Document], map: &ColumnMap, delimiter: u8) -> Result<Vec<u8>, EncodeError> {
    let cols = out_columns(map);
    let mut w = csv::WriterBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    let csv_error = |e: csv::Error| invalid("csv", e.to_string());
    // Without a header, columns are written at their numbers.
    let positions: Vec<usize> = if map.has_header {
        (0..cols.len()).collect()
    } else {
        let mut p = Vec::new();
        for c in &cols {
            let n = c
                .name
                .trim()
                .trim_start_matches('#')
                .parse::<usize>()
                .ok()
                .and_then(|n| n.checked_sub(1))
                .ok_or_else(|| {
                    EncodeError::Profile(format!(
                        "csv.columns: {:?} is not a column number (has_header = false)",
                        c.name
                    ))
                })?;
            p.push(n);
        }
        p
    };
    let width = positions.iter().max().map_or(0, |m| m + 1);
    if width > crate::limits::MAX_COLUMNS {
        return Err(EncodeError::Profile(format!(
            "csv.columns: column numbers above {} are not written",
            crate::limits::MAX_COLUMNS
        )));
    }
    if map.has_header {
        w.write_record(cols.iter().map(|c| c.name))
            .map_err(csv_error)?;
    }
    let mut previous_key: Option<String> = None;
    for (d, doc) in docs.iter().enumerate() {
        let want = match map.kind {
            DocumentKind::PurchaseOrder => DocumentKind::PurchaseOrder,
            _ => DocumentKind::Invoice,
        };
        if doc.kind() != want {
            return Err(EncodeError::UnsupportedKind {
                format: gateway_core::Format::Csv,
                kind: doc.kind().to_string(),
                supported: format!("{want} (this partner's column map)"),
            });
        }
        let lines: Vec<Option<LineRef<'_>>> = match doc {
            Document::Invoice(i) => i.lines.iter().map(|l| Some(LineRef::Invoice(l))).collect(),
            Document::PurchaseOrder(p) => p.lines.iter().map(|l| Some(LineRef::Order(l))).collect(),
        };
        let lines = if lines.is_empty() { vec![None] } else { lines };
        if map.grouping == Grouping::Row && lines.len() > 1 {
            return Err(invalid(
                format!("documents[{d}].lines"),
                "this partner's layout holds one line per document (grouping = \"row\")",
            ));
        }
        for line in lines {
            let mut row = vec![String::new(); width];
            for (c, pos) in cols.iter().zip(&positions) {
                if let Some(slot) = row.get_mut(*pos) {
                    *slot = cell(c, doc, line, map);
                    if map.formula_guard
                        && let Cow::Owned(marked) = crate::formula::guarded(slot)
                    {
                        *slot = marked;
                    }
                }
            }
            w.write_record(&row).map_err(csv_error)?;
        }
        // Two documents in a row with the same key would read back as one.
        if map.grouping != Grouping::Row {
            let key = doc.number().to_string();
            if previous_key.as_deref() == Some(key.as_str()) {
                return Err(invalid(
                    format!("documents[{d}]"),
                    format!(
                        "follows a document with the same number {key:?}; they would read back \
                         as one"
                    ),
                ));
            }
            previous_key = Some(key);
        }
    }
    w.into_inner().map_err(|e| invalid("csv", e.to_string()))
}
