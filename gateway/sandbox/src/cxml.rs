//! cXML endpoints: Coupa's `/cxml/invoices` (InvoiceDetailRequest in, cXML `Response` with
//! codes 200/401/403/406/417 out) and the test supplier endpoint `/supplier/<name>/cxml`, which
//! records OrderRequests and answers `<Status code="200" text="OK"/>` the way a supplier would.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};
use serde_json::{Value, json};

use crate::invoices::{self, DUPLICATE_MESSAGE};
use crate::reply::cxml_status;
use crate::server::SharedState;
use crate::store::{MAX_RECORDS, ReceivedOrder, ReceivedStatusUpdate};

/// Deepest element nesting accepted.
const MAX_DEPTH: usize = 64;
/// Most invoice items read from one document.
const MAX_ITEMS: usize = invoices::MAX_LINES;

/// One invoice item as far as the sandbox needs it.
#[derive(Debug, Default, Clone)]
struct Item {
    line: Option<String>,
    quantity: Option<String>,
    price: Option<String>,
    uom: Option<String>,
    description: Option<String>,
}

/// The facts the sandbox reads from a cXML document.
#[derive(Debug, Default)]
struct Scan {
    is_cxml: bool,
    payload_id: Option<String>,
    from_identity: Option<String>,
    sender_identity: Option<String>,
    sender_secret: Option<String>,
    invoice_id: Option<String>,
    invoice_date: Option<String>,
    is_invoice: bool,
    order_id: Option<String>,
    order_type: Option<String>,
    is_order: bool,
    currency: Option<String>,
    items: Vec<Item>,
    /// The document is a `StatusUpdateRequest`.
    is_status_update: bool,
    /// `DocumentReference@payloadID`: the document the update is about.
    document_reference: Option<String>,
    /// `InvoiceStatus@type` (`rejected`, `paid`, ...).
    invoice_status: Option<String>,
    /// `InvoiceStatus/Comments`.
    status_comments: Option<String>,
}

fn attr(e: &BytesStart<'_>, name: &[u8]) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == name)
        .and_then(|a| a.unescape_value().ok().map(|v| v.into_owned()))
}

fn under(stack: &[Vec<u8>], names: &[&[u8]]) -> bool {
    stack.len() >= names.len()
        && stack
            .iter()
            .rev()
            .zip(names.iter().rev())
            .all(|(a, b)| a.as_slice() == *b)
}

/// Reads the document once; `Err` is the parser's message (answered 406).
fn scan(body: &str) -> Result<Scan, String> {
    let mut r = Reader::from_str(body);
    let mut out = Scan::default();
    let mut stack: Vec<Vec<u8>> = Vec::new();
    // An element's text arrives in pieces (entity references are events of their own): it
    // is gathered here and read when the element ends.
    let mut text = String::new();
    loop {
        let ev = r.read_event().map_err(|e| e.to_string())?;
        let (start, empty) = match &ev {
            Event::Start(e) => (Some(e.clone()), false),
            Event::Empty(e) => (Some(e.clone()), true),
            _ => (None, false),
        };
        if let Some(e) = start {
            text.clear();
            let name = e.local_name().as_ref().to_vec();
            match name.as_slice() {
                b"cXML" => {
                    out.is_cxml = true;
                    out.payload_id = attr(&e, b"payloadID");
                }
                b"InvoiceDetailRequestHeader" => {
                    out.is_invoice = true;
                    out.invoice_id = attr(&e, b"invoiceID");
                    out.invoice_date = attr(&e, b"invoiceDate");
                }
                b"StatusUpdateRequest" => out.is_status_update = true,
                b"DocumentReference" => out.document_reference = attr(&e, b"payloadID"),
                b"InvoiceStatus" => out.invoice_status = attr(&e, b"type"),
                b"InvoiceIDInfo" => out.invoice_id = attr(&e, b"invoiceID"),
                b"OrderRequestHeader" => {
                    out.is_order = true;
                    out.order_id = attr(&e, b"orderID");
                    out.order_type = attr(&e, b"type");
                }
                b"InvoiceDetailItem" | b"InvoiceDetailServiceItem" => {
                    if out.items.len() >= MAX_ITEMS {
                        return Err(format!("more than {MAX_ITEMS} invoice items"));
                    }
                    out.items.push(Item {
                        line: attr(&e, b"invoiceLineNumber"),
                        quantity: attr(&e, b"quantity"),
                        ..Item::default()
                    });
                }
                b"Money" if out.currency.is_none() => out.currency = attr(&e, b"currency"),
                _ => {}
            }
            if !empty {
                if stack.len() >= MAX_DEPTH {
                    return Err(format!("elements nested deeper than {MAX_DEPTH}"));
                }
                stack.push(name);
            }
            continue;
        }
        match ev {
            Event::End(_) => {
                let text = std::mem::take(&mut text).trim().to_string();
                if under(&stack, &[b"From", b"Credential", b"Identity"]) {
                    out.from_identity = Some(text);
                } else if under(&stack, &[b"Sender", b"Credential", b"Identity"]) {
                    out.sender_identity = Some(text);
                } else if under(&stack, &[b"Sender", b"Credential", b"SharedSecret"]) {
                    out.sender_secret = Some(text);
                } else if under(&stack, &[b"InvoiceStatus", b"Comments"]) {
                    out.status_comments = Some(text);
                } else if let Some(item) = out.items.last_mut() {
                    if under(&stack, &[b"UnitPrice", b"Money"]) {
                        item.price = Some(text);
                    } else if under(&stack, &[b"UnitOfMeasure"]) {
                        item.uom = Some(text);
                    } else if under(&stack, &[b"Description"]) {
                        item.description = Some(text);
                    }
                }
                stack.pop();
            }
            Event::Text(t) => text.push_str(&t.decode().map_err(|e| e.to_string())?),
            Event::GeneralRef(g) => {
                let name = g.decode().map_err(|e| e.to_string())?;
                match g.resolve_char_ref().map_err(|e| e.to_string())? {
                    Some(c) => text.push(c),
                    None => match quick_xml::escape::resolve_predefined_entity(&name) {
                        Some(c) => text.push_str(c),
                        None => return Err(format!("unknown entity &{name};")),
                    },
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !stack.is_empty() {
        return Err("document ends inside an element".into());
    }
    Ok(out)
}

/// `POST /cxml/invoices`: authenticates the supplier by its cXML invoicing identity and shared
/// secret, then creates the invoice (duplicates answer 417, as Coupa documents).
pub async fn invoice(State(s): State<SharedState>, body: Bytes) -> Response {
    let Ok(text) = std::str::from_utf8(&body) else {
        return cxml_status(
            StatusCode::NOT_ACCEPTABLE,
            406,
            "Not Acceptable",
            "Could not parse cXML document",
        );
    };
    let doc = match scan(text) {
        Ok(d) if d.is_cxml && d.is_invoice => d,
        Ok(_) => {
            return cxml_status(
                StatusCode::NOT_ACCEPTABLE,
                406,
                "Not Acceptable",
                "Request did not validate: not an InvoiceDetailRequest",
            );
        }
        Err(e) => {
            return cxml_status(
                StatusCode::NOT_ACCEPTABLE,
                406,
                "Not Acceptable",
                &format!("Could not parse cXML document: {e}"),
            );
        }
    };
    let mut store = s.store();
    let identity = doc.sender_identity.clone().or(doc.from_identity.clone());
    let supplier = identity.as_deref().and_then(|id| {
        store.suppliers.iter().find(|sup| {
            sup.get("cxml-invoice-supplier-identity")
                .and_then(Value::as_str)
                == Some(id)
        })
    });
    let Some(supplier) = supplier.cloned() else {
        return cxml_status(
            StatusCode::UNAUTHORIZED,
            401,
            "Unauthorized",
            "Invalid credentials",
        );
    };
    let want_secret = supplier.get("cxml-invoice-secret").and_then(Value::as_str);
    if let Some(want) = want_secret {
        let given = doc.sender_secret.as_deref().unwrap_or("");
        if !gateway_core::Secret::new(want).matches(given) {
            return cxml_status(
                StatusCode::UNAUTHORIZED,
                401,
                "Unauthorized",
                "Invalid credentials",
            );
        }
    }
    if supplier
        .get("allow-cxml-invoicing")
        .and_then(Value::as_bool)
        == Some(false)
    {
        return cxml_status(
            StatusCode::FORBIDDEN,
            403,
            "Forbidden",
            "cXML invoicing is not allowed for this supplier",
        );
    }
    let lines: Vec<Value> = doc
        .items
        .iter()
        .enumerate()
        .map(|(i, it)| {
            json!({
                "line-num": it.line.as_deref().and_then(|l| l.parse::<u64>().ok()).unwrap_or(i as u64 + 1),
                "description": it.description.clone().unwrap_or_else(|| format!("cXML line {}", i + 1)),
                "price": it.price.clone(),
                "quantity": it.quantity.clone(),
                "uom": it.uom.as_ref().map(|u| json!({"code": u})),
                "type": "InvoiceQuantityLine",
            })
        })
        .collect();
    let created = json!({
        "invoice-number": doc.invoice_id,
        "invoice-date": doc.invoice_date,
        "currency": {"code": doc.currency},
        "supplier": {"id": supplier.get("id")},
        "invoice-lines": lines,
        "line-level-taxation": false,
        "origin": "cxml",
    });
    if store.invoices.len() >= MAX_RECORDS {
        return cxml_status(
            StatusCode::INTERNAL_SERVER_ERROR,
            500,
            "Internal Server Error",
            "Unexpected server error.",
        );
    }
    match invoices::insert(&mut store, &created, "pending_approval") {
        Ok(_) => cxml_status(StatusCode::OK, 200, "OK", ""),
        Err(errs) => {
            let dup = errs.iter().any(|e| e == DUPLICATE_MESSAGE);
            let msg = if dup {
                format!("Invalid attributes in document: {DUPLICATE_MESSAGE}")
            } else {
                format!("Invalid attributes in document: {}", errs.join("; "))
            };
            cxml_status(
                StatusCode::EXPECTATION_FAILED,
                417,
                "Expectation Failed",
                &msg,
            )
        }
    }
}

/// `POST /supplier/<name>/cxml`: a test supplier's cXML endpoint. Records an OrderRequest, or
/// a StatusUpdateRequest about one of its invoices (what the gateway sends when it gives one
/// up), and answers 200 OK; an OrderRequest whose payloadID it already has is answered OK and
/// not recorded again; any other document answers 400.
pub async fn supplier_order(
    State(s): State<SharedState>,
    Path(name): Path<String>,
    body: Bytes,
) -> Response {
    let text = String::from_utf8_lossy(&body).into_owned();
    let doc = match scan(&text) {
        Ok(d) if d.is_cxml && d.is_order => d,
        Ok(d) if d.is_cxml && d.is_status_update => {
            return record_status_update(&s, name, d, text);
        }
        Ok(_) => {
            return cxml_status(
                StatusCode::BAD_REQUEST,
                400,
                "Bad Request",
                "Not a cXML OrderRequest or StatusUpdateRequest",
            );
        }
        Err(e) => {
            return cxml_status(
                StatusCode::BAD_REQUEST,
                400,
                "Bad Request",
                &format!("Could not parse cXML: {e}"),
            );
        }
    };
    let mut store = s.store();
    // A supplier that recognises payloadIDs, as cXML asks: the same document again (a sender's
    // retry after an answer that never reached it) is answered OK and not taken twice.
    let again = doc.payload_id.as_deref().is_some_and(|p| {
        store
            .received
            .iter()
            .any(|o| o.supplier == name && o.payload_id.as_deref() == Some(p))
    });
    if again {
        return cxml_status(StatusCode::OK, 200, "OK", "already received");
    }
    let order = ReceivedOrder {
        supplier: name,
        order_id: doc.order_id,
        order_type: doc.order_type,
        payload_id: doc.payload_id,
        body: text,
    };
    keep(&mut store.received, order)
}

/// Records what a test supplier received and answers 200, or 500 once it holds
/// [`MAX_RECORDS`] (memory stays bounded).
fn keep<T>(inbox: &mut Vec<T>, received: T) -> Response {
    if inbox.len() >= MAX_RECORDS {
        return cxml_status(
            StatusCode::INTERNAL_SERVER_ERROR,
            500,
            "Internal Server Error",
            "Supplier inbox full",
        );
    }
    inbox.push(received);
    cxml_status(StatusCode::OK, 200, "OK", "")
}

/// Keeps a status update for [`crate::SandboxHandle::supplier_status_updates`]; one without
/// `InvoiceStatus` is refused, as the sandbox's suppliers only take invoice statuses.
fn record_status_update(s: &SharedState, supplier: String, doc: Scan, body: String) -> Response {
    let Some(status) = doc.invoice_status else {
        return cxml_status(
            StatusCode::BAD_REQUEST,
            400,
            "Bad Request",
            "StatusUpdateRequest without InvoiceStatus",
        );
    };
    let update = ReceivedStatusUpdate {
        supplier,
        payload_id: doc.payload_id,
        document_reference: doc.document_reference,
        invoice_id: doc.invoice_id,
        status,
        comments: doc.status_comments,
        body,
    };
    keep(&mut s.store().status_updates, update)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scans_invoice_facts() {
        let x = r#"<?xml version="1.0"?><cXML payloadID="p1"><Header>
<From><Credential domain="d"><Identity>sup-1</Identity></Credential></From>
<Sender><Credential domain="d"><Identity>sup-1</Identity><SharedSecret>s3</SharedSecret></Credential></Sender></Header>
<Request><InvoiceDetailRequest><InvoiceDetailRequestHeader invoiceID="INV-9" invoiceDate="2025-01-02T00:00:00-08:00"/>
<InvoiceDetailOrder><InvoiceDetailItem invoiceLineNumber="1" quantity="2"><UnitOfMeasure>EA</UnitOfMeasure>
<UnitPrice><Money currency="USD">5.00</Money></UnitPrice><InvoiceDetailItemReference lineNumber="1"><Description>Pens</Description></InvoiceDetailItemReference></InvoiceDetailItem></InvoiceDetailOrder>
</InvoiceDetailRequest></Request></cXML>"#;
        let s = scan(x).unwrap();
        assert!(s.is_cxml && s.is_invoice && !s.is_order);
        assert_eq!(s.invoice_id.as_deref(), Some("INV-9"));
        assert_eq!(s.sender_secret.as_deref(), Some("s3"));
        assert_eq!(s.currency.as_deref(), Some("USD"));
        assert_eq!(s.items.len(), 1);
        assert_eq!(s.items[0].price.as_deref(), Some("5.00"));
        assert_eq!(s.items[0].description.as_deref(), Some("Pens"));
        assert!(scan("<cXML><a></cXML>").is_err());
    }

    #[test]
    fn scans_status_update_facts() {
        let x = r#"<?xml version="1.0"?><cXML payloadID="p2"><Header/><Request>
<StatusUpdateRequest><DocumentReference payloadID="orig-1"/><Status code="200" text="OK"/>
<InvoiceStatus type="rejected"><InvoiceIDInfo invoiceID="INV-7"/><Comments xml:lang="en">no &amp; such PO</Comments></InvoiceStatus>
</StatusUpdateRequest></Request></cXML>"#;
        let s = scan(x).unwrap();
        assert!(s.is_cxml && s.is_status_update && !s.is_order && !s.is_invoice);
        assert_eq!(s.document_reference.as_deref(), Some("orig-1"));
        assert_eq!(s.invoice_status.as_deref(), Some("rejected"));
        assert_eq!(s.invoice_id.as_deref(), Some("INV-7"));
        assert_eq!(s.status_comments.as_deref(), Some("no & such PO"));
    }
}
