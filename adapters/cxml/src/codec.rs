//! [`CxmlCodec`]: the `Decode`/`Encode` pair the server registers for [`Format::Cxml`].

use gateway_core::{Decode, Decoded, Encode, EncodeError, Format, PartnerProfile};
use gateway_model::Document;

use crate::decode::decode_tree;
use crate::encode::{encode_invoice, encode_order};
use crate::reader::{Limits, parse};

/// cXML codec. Decodes every cXML document in the input (usually one; several when
/// concatenated) into canonical documents and located rejects; encodes invoices as
/// InvoiceDetailRequest and purchase orders as OrderRequest.
#[derive(Debug, Clone, Default)]
pub struct CxmlCodec {
    /// Bounds applied to every input.
    pub limits: Limits,
}

impl CxmlCodec {
    pub fn new() -> Self {
        Self::default()
    }
}

impl Decode for CxmlCodec {
    fn format(&self) -> Format {
        Format::Cxml
    }

    fn decode(&self, raw: &[u8], _partner: &PartnerProfile) -> Decoded {
        let parsed = parse(raw, &self.limits);
        let mut out = Decoded::default();
        for (i, tree) in parsed.trees.iter().enumerate() {
            match decode_tree(tree) {
                Ok(mut d) => {
                    d.meta.location = Some(location(i, d.meta.source_key.as_deref()).into());
                    key_by_content_without_payload_id(&mut d);
                    out.documents.push(d);
                }
                Err(e) => {
                    let key = tree
                        .root()
                        .and_then(|r| r.attr_opt("payloadID"))
                        .map(|p| format!("payloadID {p}"));
                    out.rejects.push(e.to_reject(key));
                }
            }
        }
        if let Some(e) = parsed.error {
            out.rejects.push(e.to_reject(None));
        }
        out
    }

    /// Whole documents only; the default `decode_reader` reads at most this + 1 bytes.
    fn max_input_bytes(&self) -> Option<usize> {
        Some(self.limits.max_bytes)
    }

    /// The element or attribute CANONICAL.md maps `json_path` to, with the line's identity
    /// and the XML line the decoder recorded: `$.lines[0].quantity` →
    /// `InvoiceDetailItem[@invoiceLineNumber="1"]/@quantity, line 23`.
    fn source_path(
        &self,
        document: &Document,
        meta: &gateway_core::SourceMeta,
        json_path: &str,
    ) -> Option<String> {
        crate::source_path::source_path(document, meta, json_path)
    }
}

/// Longest payloadID a location shows, in characters (the reader takes attribute values of up
/// to 64 KiB).
const MAX_SHOWN_PAYLOAD_ID: usize = 200;

/// Where the `index`th (from 0) cXML document of an input is, in words for operators: `cXML
/// document 1, payloadID a1-0001@acme.example`. The payloadID is what the sender and its logs
/// know the document by: two POSTs of one invoice number were both shown as `from: cXML
/// document 1` in `gateway documents`, and the operator could not tell which input each row
/// came from. Shown fit for one line: control characters dropped, at most
/// [`MAX_SHOWN_PAYLOAD_ID`] characters and `…`. Without a payloadID, the place alone.
fn location(index: usize, payload_id: Option<&str>) -> String {
    let place = format!("cXML document {}", index + 1);
    let Some(id) = payload_id else {
        return place;
    };
    let mut shown = id.chars().filter(|c| !c.is_control());
    let mut clipped: String = shown.by_ref().take(MAX_SHOWN_PAYLOAD_ID).collect();
    if shown.next().is_some() {
        clipped.push('…');
    }
    if clipped.trim().is_empty() {
        return place;
    }
    format!("{place}, payloadID {clipped}")
}

/// A cXML without a payloadID (the DTD requires one) had no key: each time it was sent it was
/// a new document. It is known by its canonical content instead, so the same document sent
/// again is a duplicate, and the note says why.
fn key_by_content_without_payload_id(d: &mut gateway_core::DecodedDocument) {
    if d.meta.source_key.is_some() {
        return;
    }
    let content = gateway_core::sha256_hex(gateway_model::to_json_line(&d.document).as_bytes());
    let short = content.get(..32).unwrap_or(&content);
    d.meta.source_key = Some(format!("no-payload-id:{short}").into());
    d.meta.note(
        "the cXML has no payloadID, which cXML requires: it is known by its content, so the same document sent again is taken as a duplicate; send a payloadID",
    );
}

impl Encode for CxmlCodec {
    fn format(&self) -> Format {
        Format::Cxml
    }

    /// One complete cXML document per canonical document, concatenated: an
    /// InvoiceDetailRequest for an invoice, an OrderRequest for a purchase order.
    fn encode(&self, docs: &[Document], partner: &PartnerProfile) -> Result<Vec<u8>, EncodeError> {
        let mut out = Vec::new();
        for (i, d) in docs.iter().enumerate() {
            let bytes = match d {
                Document::Invoice(inv) => encode_invoice(inv, partner),
                Document::PurchaseOrder(po) => encode_order(po, partner),
            }
            .map_err(|e| match e {
                EncodeError::Invalid { path, message } if docs.len() > 1 => EncodeError::Invalid {
                    path: format!("document {}: {path}", i + 1),
                    message,
                },
                other => other,
            })?;
            out.extend_from_slice(&bytes);
        }
        Ok(out)
    }

    /// What InvoiceDetail.dtd and cXML.dtd have no place for, as `path: why`
    /// (`crate::left_out`): a charge's code, a shipping or handling charge's rate, a service
    /// line's own ship-to, what of a payment-term tier read from X12 no `PaymentTerm` holds.
    fn left_out(&self, doc: &Document, _partner: &PartnerProfile) -> Vec<String> {
        crate::left_out::left_out(doc)
    }
}
