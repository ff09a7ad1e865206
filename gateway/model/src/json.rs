//! Canonical JSON in and out, with errors that name the JSON path of the problem.

use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::document::{Document, DocumentKind, Invoice, PurchaseOrder, SCHEMA_VERSION};

/// Why a canonical JSON document could not be read. Never retryable: the input must change.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{location}: {message}")]
pub struct JsonError {
    /// Where: a JSON path such as `$.lines[2].quantity`, or `line 3 column 7` for syntax errors,
    /// prefixed with the document's position in the input when there are several.
    pub location: String,
    pub message: String,
}

/// Most documents one input may hold; bounds memory on hostile input.
const MAX_DOCUMENTS: usize = 1_000_000;

/// Reads one canonical document.
pub fn from_json(bytes: &[u8]) -> Result<Document, JsonError> {
    let value: Value = serde_json::from_slice(without_bom(bytes)).map_err(syntax_error)?;
    document_from_value(value, "$", None)
}

/// `bytes` without a UTF-8 byte-order mark, which JSON must not carry but Windows tools
/// (Notepad, PowerShell's `Out-File`) write; RFC 8259 lets a reader ignore it, and refusing
/// it said only "expected value at line 1 column 1".
fn without_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
}

/// Reads every document in `bytes`: one object, an array of objects, or JSON Lines. Each
/// document is read on its own, so one bad document does not hide the others; a syntax error
/// ends the input (nothing after it can be trusted) and is returned as the last item.
pub fn from_json_lines(bytes: &[u8]) -> Vec<Result<Document, JsonError>> {
    from_json_lines_or(bytes, None)
}

/// [`from_json_lines`], reading a document without `"kind"` as `default_kind` (`gateway
/// convert --kind`, for files written by hand or by a system that knows only one kind). A
/// document that names its kind keeps it.
pub fn from_json_lines_or(
    bytes: &[u8],
    default_kind: Option<DocumentKind>,
) -> Vec<Result<Document, JsonError>> {
    let mut out = Vec::new();
    let mut index = 0usize;
    for item in serde_json::Deserializer::from_slice(without_bom(bytes)).into_iter::<Value>() {
        match item {
            Ok(Value::Array(items)) => {
                for v in items {
                    out.push(document_from_value(v, &format!("$[{index}]"), default_kind));
                    index += 1;
                }
            }
            Ok(v) => {
                let root = if index == 0 {
                    "$".to_string()
                } else {
                    format!("document {}: $", index + 1)
                };
                out.push(document_from_value(v, &root, default_kind));
                index += 1;
            }
            Err(e) => {
                out.push(Err(syntax_error(e)));
                break;
            }
        }
        if out.len() >= MAX_DOCUMENTS {
            out.push(Err(JsonError {
                location: format!("document {}", out.len() + 1),
                message: format!("more than {MAX_DOCUMENTS} documents in one input"),
            }));
            break;
        }
    }
    out
}

fn syntax_error(e: serde_json::Error) -> JsonError {
    JsonError {
        location: format!("line {} column {}", e.line(), e.column()),
        message: format!("not valid JSON: {e}"),
    }
}

fn document_from_value(
    mut value: Value,
    root: &str,
    default_kind: Option<DocumentKind>,
) -> Result<Document, JsonError> {
    let Some(obj) = value.as_object_mut() else {
        return Err(JsonError {
            location: root.to_string(),
            message: "expected a JSON object with \"kind\" and \"schema_version\"".into(),
        });
    };
    let kind = match obj.remove("kind") {
        Some(Value::String(k)) => k,
        None if default_kind.is_some() => default_kind
            .map(|k| k.as_str().to_string())
            .unwrap_or_default(),
        Some(_) => {
            return Err(JsonError {
                location: format!("{root}.kind"),
                message: "expected a string: \"invoice\" or \"purchase_order\"".into(),
            });
        }
        None => {
            return Err(JsonError {
                location: format!("{root}.kind"),
                message: "missing; expected \"invoice\" or \"purchase_order\"".into(),
            });
        }
    };
    match obj.get("schema_version") {
        None => {}
        Some(v) if v.as_u64() == Some(u64::from(SCHEMA_VERSION)) => {}
        Some(v) => {
            return Err(JsonError {
                location: format!("{root}.schema_version"),
                message: format!(
                    "unsupported schema_version {v}; this gateway reads {SCHEMA_VERSION}"
                ),
            });
        }
    }
    let located = |e: serde_path_to_error::Error<serde_json::Error>| {
        let path = e.path().to_string();
        let location = if path == "." {
            root.to_string()
        } else {
            format!("{root}.{path}")
        };
        JsonError {
            location,
            message: e.into_inner().to_string(),
        }
    };
    match kind.as_str() {
        "invoice" => serde_path_to_error::deserialize::<_, Invoice>(value)
            .map(Document::Invoice)
            .map_err(located),
        "purchase_order" => serde_path_to_error::deserialize::<_, PurchaseOrder>(value)
            .map(Document::PurchaseOrder)
            .map_err(located),
        other => Err(JsonError {
            location: format!("{root}.kind"),
            message: format!("unknown kind {other:?}; supported: \"invoice\", \"purchase_order\""),
        }),
    }
}

impl<'de> Deserialize<'de> for Document {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        document_from_value(value, "$", None).map_err(serde::de::Error::custom)
    }
}

/// Canonical JSON of one document, pretty-printed (for files and humans).
pub fn to_json(doc: &Document) -> String {
    serde_json::to_string_pretty(doc).unwrap_or_default()
}

/// Canonical JSON of one document on a single line (JSON Lines, bus bodies).
pub fn to_json_line(doc: &Document) -> String {
    serde_json::to_string(doc).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A UTF-8 byte-order mark, which Windows tools write, is read past, in both readers; a
    /// mark in the middle is still a syntax error.
    #[test]
    fn a_leading_byte_order_mark_is_ignored() {
        let doc =
            br#"{"schema_version": 1, "kind": "invoice", "invoice_number": "B-1", "lines": []}"#;
        let mut marked = b"\xEF\xBB\xBF".to_vec();
        marked.extend_from_slice(doc);
        let plain = from_json(doc).map(|d| to_json(&d)).ok();
        assert!(plain.is_some());
        assert_eq!(from_json(&marked).map(|d| to_json(&d)).ok(), plain);
        let lines = from_json_lines(&marked);
        assert_eq!(lines.len(), 1);
        assert!(lines[0].is_ok(), "{:?}", lines[0]);
        let mut twice = doc.to_vec();
        twice.extend_from_slice(&marked);
        assert!(from_json_lines(&twice).iter().any(Result::is_err));
    }
}
