//! Canonical JSON as a wire format (the REST API, `convert --from json`/`--to json`).

use std::io::BufRead;

use gateway_model::{Document, DocumentKind, JsonItem, read_json_each, to_json_line};

use crate::codec::{
    Decode, DecodeItem, Decoded, DecodedDocument, Encode, EncodeError, Reject, SourceMeta,
};
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
    /// refusal is kept and found under the number its sender knows. Each document is keyed by
    /// its content ([`content_key`]).
    fn decode(&self, raw: &[u8], _partner: &PartnerProfile) -> Decoded {
        let mut out = Decoded::default();
        read_json_each(raw, self.default_kind, &mut |item| match decoded(item) {
            DecodeItem::Document(d) => out.documents.push(*d),
            DecodeItem::Reject(r) => out.rejects.push(r),
        });
        out
    }

    /// [`Decode::decode`], handing each document on as soon as it is read: JSON Lines costs
    /// the input's bytes and one document at a time, not every document of the input (a
    /// 47 MB file of 100,000 invoices took 700 MB read whole). A top-level array is parsed
    /// whole first ([`gateway_model::read_json_each`]).
    fn decode_reader(
        &self,
        reader: &mut dyn BufRead,
        _partner: &PartnerProfile,
        sink: &mut dyn FnMut(DecodeItem),
    ) -> std::io::Result<()> {
        let mut raw = Vec::new();
        reader.read_to_end(&mut raw)?;
        read_json_each(&raw, self.default_kind, &mut |item| sink(decoded(item)));
        Ok(())
    }
}

/// One item of the JSON reader as the codec hands it on.
fn decoded(item: JsonItem) -> DecodeItem {
    match item.result {
        Ok(document) => {
            let meta = SourceMeta {
                location: Some(item.name.into()),
                source_key: Some(content_key(&document).into()),
                ..SourceMeta::default()
            };
            DecodeItem::Document(Box::new(DecodedDocument { document, meta }))
        }
        Err(e) => DecodeItem::Reject(Reject {
            location: e.location,
            message: e.message,
            document: e.number,
        }),
    }
}

/// A canonical JSON document's key in its source: its content (`json:` and the SHA-256 of
/// its canonical JSON). The format carries no payloadID or control number, and a random key
/// made the same document a new one each time it came: a file dropped twice, or resumed
/// after a crash, was published again and left the first run's rows `interrupted` with
/// "send it again". By content, the same document is the same key whichever channel brings
/// it (the REST API, the file drop, a mail) and however it is laid out (one line or
/// pretty-printed), so it is a duplicate; a corrected document is a new one.
pub fn content_key(document: &Document) -> String {
    let content = crate::sha256_hex(to_json_line(document).as_bytes());
    let short = content.get(..32).unwrap_or(&content);
    format!("json:{short}")
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
