//! Canonical JSON as a wire format (the REST API, `convert --from json`/`--to json`).

use gateway_model::{Document, DocumentKind, from_json_lines_or, to_json_line};

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

    fn decode(&self, raw: &[u8], _partner: &PartnerProfile) -> Decoded {
        let mut out = Decoded::default();
        for (i, item) in from_json_lines_or(raw, self.default_kind)
            .into_iter()
            .enumerate()
        {
            match item {
                Ok(document) => out.documents.push(DecodedDocument {
                    document,
                    meta: SourceMeta {
                        location: Some(format!("document {}", i + 1).into()),
                        ..SourceMeta::default()
                    },
                }),
                Err(e) => out.rejects.push(Reject::new(e.location, e.message)),
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
