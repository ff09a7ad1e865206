//! Canonical JSON as a wire format (the REST API, `convert --from json`/`--to json`).

use gateway_model::{Document, DocumentKind, read_json, to_json_line};

use crate::codec::{Decode, Decoded, DecodedDocument, Encode, EncodeError, Reject, SourceMeta};
use crate::format::Format;
use crate::profile::PartnerProfile;

/// Reads one canonical document, an array of them, or JSON Lines; writes JSON Lines.
#[derive(Debug, Clone, Copy, Default)]
pub struct JsonCodec {
    /// The kind of a document that names none; `None` refuses such a document (the REST API
    /// and the bus always name it).
    default_kind: Option<DocumentKind>,
}

impl JsonCodec {
    /// Reads documents without `"kind"` as `kind` (`gateway convert --kind`).
    pub fn with_default_kind(kind: Option<DocumentKind>) -> Self {
        JsonCodec { default_kind: kind }
    }
}

impl Decode for JsonCodec {
    fn format(&self) -> Format {
        Format::Json
    }

    /// Every document of `raw`, and every value (or stretch of input that is not JSON) that
    /// is none, with where it is: `document 3 (line 7)` when the input holds several values.
    /// A refused object carries the number it names as the reject's `document`, so the
    /// refusal is kept and found under the number its sender knows.
    fn decode(&self, raw: &[u8], _partner: &PartnerProfile) -> Decoded {
        let mut out = Decoded::default();
        for item in read_json(raw, self.default_kind) {
            match item.result {
                Ok(document) => out.documents.push(DecodedDocument {
                    document,
                    meta: SourceMeta {
                        location: Some(item.name.into()),
                        ..SourceMeta::default()
                    },
                }),
                Err(e) => out.rejects.push(Reject {
                    location: e.location,
                    message: e.message,
                    document: e.number,
                }),
            }
        }
        out
    }
}

impl Encode for JsonCodec {
    fn format(&self) -> Format {
        Format::Json
    }

    fn encode(&self, docs: &[Document], _partner: &PartnerProfile) -> Result<Vec<u8>, EncodeError> {
        let mut out = Vec::new();
        for d in docs {
            out.extend_from_slice(to_json_line(d).as_bytes());
            out.push(b'\n');
        }
        Ok(out)
    }
}
