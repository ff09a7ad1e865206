//! cXML element tree → canonical documents, one per cXML document in the input.
//!
//! Only the business body is mapped here; the envelope ([`mod@crate::header`]) becomes the
//! [`SourceMeta`]. Messages we recognise but do not map yet (ConfirmationRequest,
//! ShipNoticeRequest) and non-documents (Response, ProfileRequest, PunchOut messages) give a
//! located [`CxmlError::Unsupported`] naming the kind, so the caller can route or answer it.

mod common;
mod invoice;
mod order;

pub(crate) use common::{KEPT_DISCOUNT_TERM, KEPT_NET_TERM, date};
pub(crate) use invoice::purpose_wire as invoice_purpose_wire;
pub(crate) use invoice::{falls_short, lines_sum, summary_key};
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
    let mut meta: SourceMeta = header.meta();
    let body = body(root)?;
    note_zoneless(&mut meta, root, "timestamp");
    for (element, attr) in [
        ("InvoiceDetailRequestHeader", "invoiceDate"),
        ("OrderRequestHeader", "orderDate"),
    ] {
        if let Some(h) = body.child(element) {
            note_zoneless(&mut meta, h, attr);
        }
    }
    one_currency(body, &mut None)?;
    let document = match body.name() {
        "InvoiceDetailRequest" => {
            let mut notes = Vec::new();
            let inv = invoice::invoice(body, &mut notes)?;
            for n in &notes {
                meta.note(n);
            }
            Document::Invoice(inv)
        }
        "OrderRequest" => Document::PurchaseOrder(order::order(body)?),
        "ConfirmationRequest" => {
            return Err(not_mapped(body, "ConfirmationRequest (order_confirmation)"));
        }
        "ShipNoticeRequest" => return Err(not_mapped(body, "ShipNoticeRequest (ship_notice)")),
        // Answered by `POST /cxml` before decoding (`response::profile_response`); a file or
        // a mail has no one to answer it to.
        "ProfileRequest" => {
            return Err(CxmlError::Unsupported {
                location: body.location(),
                message: "a ProfileRequest is not a document: it is answered with a \
                          ProfileResponse when posted to the gateway's cXML URL (POST /cxml), \
                          not from a file or a mail"
                    .into(),
            });
        }
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
    let lines = match &document {
        Document::Invoice(i) => i.lines.len(),
        Document::PurchaseOrder(p) => p.lines.len(),
    };
    meta.places = crate::source_path::places(body, lines);
    Ok(DecodedDocument { document, meta })
}

/// Notes a timestamp without a time zone: cXML asks for one, other readers refuse it, the
/// gateway reads it as the sender's local date and says so.
fn note_zoneless(meta: &mut SourceMeta, node: Node<'_>, attr: &str) {
    let Some(value) = node.attr_opt(attr) else {
        return;
    };
    let v = value.trim();
    let Some(time) = v.get(11..).filter(|_| v.len() > 10) else {
        return;
    };
    let zoned = time.ends_with('Z') || time.contains('+') || time.contains('-');
    if !zoned {
        meta.note(&format!(
            "{}: {v:?} has no time zone (cXML wants one: {v}Z or {v}±hh:mm); read as the \
             sender's local date",
            node.attr_location(attr)
        ));
    }
}

/// Refuses a document whose `Money` is in more than one currency. The canonical document has
/// one currency, and a line priced in yen on a dollar invoice would otherwise be delivered as
/// dollars. Recursive: the reader bounds the depth of the tree.
fn one_currency<'t>(
    node: Node<'t>,
    first: &mut Option<(&'t str, Node<'t>)>,
) -> Result<(), CxmlError> {
    if node.name() == "Money"
        && let Some(currency) = node.attr_opt("currency").map(str::trim)
    {
        match first {
            None => *first = Some((currency, node)),
            Some((seen, at)) if !seen.eq_ignore_ascii_case(currency) => {
                return Err(node.invalid(format!(
                    "Money in {currency}, but {} is in {seen}: a document holds amounts in one \
                     currency; send one document per currency",
                    at.path()
                )));
            }
            Some(_) => {}
        }
    }
    for child in node.children() {
        one_currency(child, first)?;
    }
    Ok(())
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use gateway_core::{Decode, PartnerProfile};

    fn notes_of(xml: &str) -> Vec<String> {
        let d = crate::CxmlCodec::new().decode(xml.as_bytes(), &PartnerProfile::anonymous());
        assert!(d.rejects.is_empty(), "{:?}", d.rejects);
        d.documents[0].meta.notes().map(str::to_string).collect()
    }

    #[test]
    fn a_timestamp_without_a_zone_is_read_and_noted() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../samples/cxml/invoice/rich.xml"
        );
        let rich = std::fs::read_to_string(path).unwrap();
        assert_eq!(notes_of(&rich), Vec::<String>::new());
        let zoneless = rich.replace(
            r#"invoiceDate="2026-03-15T09:30:00-05:00""#,
            r#"invoiceDate="2026-03-15T09:30:00""#,
        );
        assert_ne!(zoneless, rich);
        let notes = notes_of(&zoneless);
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(
            notes[0].contains("@invoiceDate")
                && notes[0].contains("\"2026-03-15T09:30:00\" has no time zone"),
            "{notes:?}"
        );
        // A plain date needs no zone.
        let dated = rich.replace(
            r#"invoiceDate="2026-03-15T09:30:00-05:00""#,
            r#"invoiceDate="2026-03-15""#,
        );
        assert_eq!(notes_of(&dated), Vec::<String>::new());
    }

    /// A header-level invoice (no lines) is refused at its element, saying what to send, not
    /// passed on as an invoice without lines or PO.
    #[test]
    fn a_header_level_invoice_is_refused_at_its_element() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../samples/cxml/invoice/rich.xml"
        );
        let rich = std::fs::read_to_string(path).unwrap();
        let at = rich.find("<InvoiceDetailSummary").unwrap();
        let mut header = rich.clone();
        header.insert_str(
            at,
            r#"<InvoiceDetailHeaderOrder><InvoiceDetailOrderInfo><OrderReference orderID="PO9"><DocumentReference payloadID="x"/></OrderReference></InvoiceDetailOrderInfo></InvoiceDetailHeaderOrder>"#,
        );
        let d = crate::CxmlCodec::new().decode(header.as_bytes(), &PartnerProfile::anonymous());
        assert!(d.documents.is_empty());
        let reject = format!("{:?}", d.rejects);
        assert!(
            reject.contains("InvoiceDetailRequest/InvoiceDetailHeaderOrder")
                && reject.contains("send InvoiceDetailOrder"),
            "{reject}"
        );
    }

    /// A line priced in another currency than the rest is refused at its `Money`, naming both;
    /// read as one currency it would be delivered as dollars.
    #[test]
    fn money_in_two_currencies_is_refused_where_the_second_appears() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../samples/cxml/invoice/rich.xml"
        );
        let rich = std::fs::read_to_string(path).unwrap();
        assert!(!notes_of(&rich).iter().any(|n| n.contains("currency")));
        let first = rich.find(r#"<Money currency="USD">"#).unwrap();
        let second = first + 1 + rich[first + 1..].find(r#"<Money currency="USD">"#).unwrap();
        let mut mixed = rich.clone();
        mixed.replace_range(
            second..second + r#"<Money currency="USD">"#.len(),
            r#"<Money currency="JPY">"#,
        );
        let d = crate::CxmlCodec::new().decode(mixed.as_bytes(), &PartnerProfile::anonymous());
        assert!(d.documents.is_empty());
        let reject = format!("{:?}", d.rejects);
        assert!(
            reject.contains("Money in JPY") && reject.contains("is in USD"),
            "{reject}"
        );
    }
}
