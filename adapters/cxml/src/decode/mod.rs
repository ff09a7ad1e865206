//! cXML element tree → canonical documents, one per cXML document in the input.
//!
//! Only the business body is mapped here; the envelope ([`mod@crate::header`]) becomes the
//! [`SourceMeta`]. Messages we recognise but do not map yet (ConfirmationRequest,
//! ShipNoticeRequest) and non-documents (Response, PunchOut messages) give a located
//! [`CxmlError::Unsupported`] naming the kind, so the caller can route or answer it.

mod common;
mod invoice;
mod order;

pub(crate) use invoice::purpose_wire as invoice_purpose_wire;
pub(crate) use order::purpose_wire as order_purpose_wire;

use gateway_core::{DecodedDocument, SourceMeta};
use gateway_model::Document;

use crate::error::CxmlError;
use crate::header::header_of;
use crate::reader::{Node, Tree};

/// Maps one parsed cXML document to a canonical document with its envelope facts.
pub fn decode_tree(tree: &Tree) -> Result<DecodedDocument, CxmlError> {
    let root = tree.root().ok_or_else(|| CxmlError::Syntax {
        location: "input".into(),
        message: "no root element; expected <cXML>".into(),
    })?;
    let header = header_of(root)?;
    let meta: SourceMeta = header.meta();
    let body = body(root)?;
    let document = match body.name() {
        "InvoiceDetailRequest" => Document::Invoice(invoice::invoice(body)?),
        "OrderRequest" => Document::PurchaseOrder(order::order(body)?),
        "ConfirmationRequest" => {
            return Err(not_mapped(body, "ConfirmationRequest (order_confirmation)"));
        }
        "ShipNoticeRequest" => return Err(not_mapped(body, "ShipNoticeRequest (ship_notice)")),
        other => {
            let what = body.parent().map(|p| p.name()).unwrap_or_default();
            return Err(CxmlError::Unsupported {
                location: body.location(),
                message: format!(
                    "{what}/{other} is not a business document the gateway maps; expected \
                     Request/InvoiceDetailRequest or Request/OrderRequest"
                ),
            });
        }
    };
    Ok(DecodedDocument { document, meta })
}

fn not_mapped(body: Node<'_>, kind: &str) -> CxmlError {
    CxmlError::Unsupported {
        location: body.location(),
        message: format!("kind {kind} is recognised but not yet mapped"),
    }
}

/// The element under `Request`, `Response` or `Message`.
fn body(root: Node<'_>) -> Result<Node<'_>, CxmlError> {
    let holder = root
        .children()
        .find(|c| matches!(c.name(), "Request" | "Response" | "Message"))
        .ok_or_else(|| root.invalid("expected a Request, Response or Message element"))?;
    if holder.name() == "Response" {
        return Err(CxmlError::Unsupported {
            location: holder.location(),
            message: "a cXML Response is a status answer, not a business document (read it \
                      with response::parse)"
                .into(),
        });
    }
    holder
        .children()
        .next()
        .ok_or_else(|| holder.invalid(format!("<{}> is empty", holder.name())))
}
