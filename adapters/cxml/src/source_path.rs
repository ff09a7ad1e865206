//! Where a canonical path lives in a decoded cXML document ([`gateway_core::Decode::source_path`]):
//! the element or attribute CANONICAL.md maps the field to, with the line's own identity
//! (`InvoiceDetailItem[@invoiceLineNumber="1"]/@quantity`) and the XML line of the element
//! the decoder recorded ([`places`], read off the tree the decoder has built anyway: one
//! number per line item, no text).
//!
//! Paths are written from the request's elements down, as the reader's own locations name
//! them (`InvoiceDetailRequestHeader/@invoiceID`), short enough for a problem line: the
//! `cXML/Request/InvoiceDetailRequest/` every document shares is left out.

use gateway_core::codec::{PathStep, SourcePlaces, path_steps};
use gateway_core::{Format, SourceMeta};
use gateway_model::{ChargeKind, Document, Extensions, Invoice, InvoiceLine, PurchaseOrder};

use crate::reader::Node;

/// The places of the document decoded from `body` (an `InvoiceDetailRequest` or
/// `OrderRequest`) with `lines` canonical lines: its heading's and summary's XML lines and
/// each line item's, in the order the mapping reads them.
pub(crate) fn places(body: Node<'_>, lines: usize) -> SourcePlaces {
    let line_of = |n: Option<Node<'_>>| n.map_or(0, |n| n.line_column().0);
    let mut places = SourcePlaces {
        format: Some(Format::Cxml),
        ..SourcePlaces::default()
    };
    places.lines.reserve_exact(lines);
    match body.name() {
        "InvoiceDetailRequest" => {
            places.heading = line_of(body.child("InvoiceDetailRequestHeader"));
            places.summary = line_of(body.child("InvoiceDetailSummary"));
            for order in body.children_named("InvoiceDetailOrder") {
                places.lines.extend(
                    order
                        .children()
                        .filter(|i| {
                            matches!(i.name(), "InvoiceDetailItem" | "InvoiceDetailServiceItem")
                        })
                        .map(|i| i.line_column().0),
                );
            }
        }
        "OrderRequest" => {
            let header = body.child("OrderRequestHeader");
            places.heading = line_of(header);
            places.summary = line_of(header.and_then(|h| h.child("Total")));
            places
                .lines
                .extend(body.children_named("ItemOut").map(|i| i.line_column().0));
        }
        _ => {}
    }
    // A cancel's placeholder ItemOut is no line of the document.
    places.lines.truncate(lines);
    places
}

/// Where `json_path` of `document` is in its cXML: the path, then `, line N` when the
/// decoder recorded where the element starts.
pub(crate) fn source_path(
    document: &Document,
    meta: &SourceMeta,
    json_path: &str,
) -> Option<String> {
    let steps = path_steps(json_path)?;
    let places = &meta.places;
    let (path, line) = match document {
        Document::Invoice(inv) => invoice(inv, places, &steps)?,
        Document::PurchaseOrder(po) => order(po, places, &steps)?,
    };
    Some(match line {
        0 => path,
        l => format!("{path}, line {l}"),
    })
}

const INVOICE_HEADER: &str = "InvoiceDetailRequestHeader";
const INVOICE_SUMMARY: &str = "InvoiceDetailSummary";
const ORDER_HEADER: &str = "OrderRequestHeader";

/// A path and the XML line to give with it (0: none).
type At = (String, u32);

fn invoice(inv: &Invoice, places: &SourcePlaces, steps: &[PathStep<'_>]) -> Option<At> {
    let Some((first, rest)) = steps.split_first() else {
        return Some(("InvoiceDetailRequest".into(), 0));
    };
    let h = INVOICE_HEADER;
    let s = INVOICE_SUMMARY;
    let heading = |p: String| Some((p, places.heading));
    let summary = |p: String| Some((p, places.summary));
    match (first.name, first.index, rest) {
        ("invoice_number", None, []) => heading(format!("{h}/@invoiceID")),
        ("invoice_date", None, []) => heading(format!("{h}/@invoiceDate")),
        ("purpose", None, []) => heading(format!("{h}/@purpose")),
        ("po_number", None, []) => Some((
            "InvoiceDetailOrder/InvoiceDetailOrderInfo/OrderReference/@orderID".into(),
            0,
        )),
        ("currency", None, []) => Some(("Money/@currency".into(), 0)),
        ("supplier", None, _) => heading(contact(h, "from", rest)?),
        ("buyer", None, _) => heading(contact(h, "soldTo", rest)?),
        ("bill_to", None, _) => heading(contact(h, "billTo", rest)?),
        ("remit_to", None, _) => heading(contact(h, "remitTo", rest)?),
        ("ship_to", None, _) => heading(contact(h, "shipTo", rest)?),
        ("payment_terms", None, _) => heading(terms(h, rest)?),
        ("comments", None, []) => heading(format!("{h}/Comments")),
        ("lines", None, []) => Some((
            "InvoiceDetailOrder/InvoiceDetailItem (or InvoiceDetailServiceItem)".into(),
            0,
        )),
        ("lines", Some(i), _) => invoice_line(inv.lines.get(i)?, places.lines.get(i), rest),
        ("taxes", index, []) => summary(tax_detail(s, index)),
        ("charges", index, _) => {
            let kind = index.and_then(|i| inv.charges.get(i)).map(|c| c.kind);
            summary(format!("{s}/{}", summary_charge(kind)))
        }
        ("subtotal", None, []) => summary(format!("{s}/SubtotalAmount/Money")),
        ("tax_total", None, []) => summary(format!("{s}/Tax/Money")),
        ("total", None, []) => summary(format!(
            "{s}/DueAmount/Money (else NetAmount, else GrossAmount)"
        )),
        ("extensions", None, [cxml, operation])
            if cxml.name == "cxml" && operation.name == "operation" =>
        {
            heading(format!("{h}/@operation"))
        }
        _ => None,
    }
}

/// An invoice line's element (`InvoiceDetailItem[@invoiceLineNumber="1"]`) and the path of
/// `rest` under it.
fn invoice_line(line: &InvoiceLine, at: Option<&u32>, rest: &[PathStep<'_>]) -> Option<At> {
    let service = cxml_ext(&line.extensions, "service").and_then(|v| v.as_bool()) == Some(true);
    let (item, reference) = if service {
        (
            "InvoiceDetailServiceItem",
            "InvoiceDetailServiceItemReference",
        )
    } else {
        ("InvoiceDetailItem", "InvoiceDetailItemReference")
    };
    let number = cxml_ext(&line.extensions, "invoice_line_number")
        .and_then(|v| v.as_str())
        .map_or_else(|| line.line_number.to_string(), str::to_string);
    let element = format!("{item}[@invoiceLineNumber={}]", quoted(&number));
    let under = match rest {
        [] => String::new(),
        [field] => match (field.name, field.index) {
            ("line_number", None) => "/@invoiceLineNumber".into(),
            ("quantity", None) => "/@quantity".into(),
            ("uom", None) => "/UnitOfMeasure".into(),
            ("unit_price", None) => "/UnitPrice/Money".into(),
            ("amount", None) => "/SubtotalAmount/Money".into(),
            ("description", None) => format!("/{reference}/Description"),
            ("supplier_part_id", None) => format!("/{reference}/ItemID/SupplierPartID"),
            ("buyer_part_id", None) => format!("/{reference}/ItemID/BuyerPartID"),
            ("po_line_number", None) => format!("/{reference}/@lineNumber"),
            ("po_number", None) => {
                return Some((
                    format!(
                        "InvoiceDetailOrderInfo/OrderReference/@orderID of the \
                         InvoiceDetailOrder holding {element}"
                    ),
                    at.copied().unwrap_or(0),
                ));
            }
            ("taxes", index) => tax_detail("", index),
            ("charges", index) => {
                let kind = index.and_then(|i| line.charges.get(i)).map(|c| c.kind);
                format!("/{}", line_charge(kind))
            }
            _ => return None,
        },
        [field, _] if field.name == "charges" => {
            let kind = field
                .index
                .and_then(|i| line.charges.get(i))
                .map(|c| c.kind);
            format!("/{}", line_charge(kind))
        }
        _ => return None,
    };
    Some((format!("{element}{under}"), at.copied().unwrap_or(0)))
}

fn order(po: &PurchaseOrder, places: &SourcePlaces, steps: &[PathStep<'_>]) -> Option<At> {
    let Some((first, rest)) = steps.split_first() else {
        return Some(("OrderRequest".into(), 0));
    };
    let h = ORDER_HEADER;
    let heading = |p: String| Some((p, places.heading));
    let total = |p: String| Some((p, places.summary));
    match (first.name, first.index, rest) {
        ("po_number", None, []) => heading(format!("{h}/@orderID")),
        ("order_date", None, []) => heading(format!("{h}/@orderDate")),
        ("purpose", None, []) => heading(format!("{h}/@type")),
        ("version", None, []) => heading(format!("{h}/@orderVersion")),
        ("currency", None, []) => total(format!("{h}/Total/Money/@currency")),
        ("total", None, []) => total(format!("{h}/Total/Money")),
        ("supplier", None, _) => heading(contact_in(h, "supplierCorporate", rest)?),
        ("buyer", None, _) => heading(contact_in(h, "buyer", rest)?),
        ("ship_to", None, _) => heading(address_holder(h, "ShipTo", rest)?),
        ("bill_to", None, _) => heading(address_holder(h, "BillTo", rest)?),
        ("payment_terms", None, _) => heading(terms(h, rest)?),
        ("comments", None, []) => heading(format!("{h}/Comments")),
        ("taxes", index, []) => heading(tax_detail(h, index)),
        ("charges", _, _) => heading(format!("{h}/Shipping")),
        ("lines", None, []) => Some(("ItemOut".into(), 0)),
        ("lines", Some(i), _) => order_line(po, i, places.lines.get(i), rest),
        _ => None,
    }
}

/// An order line's `ItemOut[@lineNumber="1"]` and the path of `rest` under it.
fn order_line(po: &PurchaseOrder, i: usize, at: Option<&u32>, rest: &[PathStep<'_>]) -> Option<At> {
    let line = po.lines.get(i)?;
    let number = cxml_ext(&line.extensions, "line_number")
        .and_then(|v| v.as_str())
        .map_or_else(|| line.line_number.to_string(), str::to_string);
    let element = format!("ItemOut[@lineNumber={}]", quoted(&number));
    let under = match rest {
        [] => String::new(),
        [field, ..] => match (field.name, field.index, rest.len()) {
            ("line_number", None, 1) => "/@lineNumber".into(),
            ("quantity", None, 1) => "/@quantity".into(),
            ("need_by", None, 1) => "/@requestedDeliveryDate".into(),
            ("uom", None, 1) => "/ItemDetail/UnitOfMeasure".into(),
            ("unit_price", None, 1) => "/ItemDetail/UnitPrice/Money".into(),
            ("description", None, 1) => "/ItemDetail/Description".into(),
            ("supplier_part_id", None, 1) => "/ItemID/SupplierPartID".into(),
            ("buyer_part_id", None, 1) => "/ItemID/BuyerPartID".into(),
            ("amount", None, 1) => format!(
                "/ItemDetail/Extrinsic[@name=\"{}\"]",
                crate::carried::LINE_AMOUNT
            ),
            ("taxes", index, 1) => tax_detail("", index),
            ("charges", _, _) => "/Shipping".into(),
            _ => return None,
        },
    };
    Some((format!("{element}{under}"), at.copied().unwrap_or(0)))
}

/// A party in an `InvoicePartner/Contact` of `role` under `header`, and the element of its
/// field `rest`.
fn contact(header: &str, role: &str, rest: &[PathStep<'_>]) -> Option<String> {
    contact_in(&format!("{header}/InvoicePartner"), role, rest)
}

/// A party in a `Contact` of `role` under `holder`, and the element of its field `rest`.
fn contact_in(holder: &str, role: &str, rest: &[PathStep<'_>]) -> Option<String> {
    let base = format!("{holder}/Contact[@role=\"{role}\"]");
    match rest.first().map(|s| s.name) {
        Some("ids") => Some(format!("{holder}[Contact/@role=\"{role}\"]/IdReference")),
        _ => Some(format!(
            "{base}{}",
            party_field(rest, "Name", "PostalAddress")?
        )),
    }
}

/// A party in an order's `ShipTo`/`BillTo` (`Address`), and the element of its field `rest`.
fn address_holder(header: &str, holder: &str, rest: &[PathStep<'_>]) -> Option<String> {
    match rest.first().map(|s| s.name) {
        Some("ids") => Some(format!("{header}/{holder}/IdReference")),
        _ => Some(format!(
            "{header}/{holder}/Address{}",
            party_field(rest, "Name", "PostalAddress")?
        )),
    }
}

/// The element of a party's field `rest` under its contact or address (empty: the party).
fn party_field(rest: &[PathStep<'_>], name: &str, postal: &str) -> Option<String> {
    let Some((field, under)) = rest.split_first() else {
        return Some(String::new());
    };
    Some(match (field.name, under) {
        ("name", []) => format!("/{name}"),
        ("address", []) => format!("/{postal}"),
        ("address", [part, ..]) => match part.name {
            "lines" => format!("/{postal}/Street"),
            "city" => format!("/{postal}/City"),
            "region" => format!("/{postal}/State"),
            "postal_code" => format!("/{postal}/PostalCode"),
            "country" => format!("/{postal}/Country/@isoCountryCode"),
            _ => format!("/{postal}"),
        },
        ("email", []) => "/Email".into(),
        ("phone", []) => "/Phone".into(),
        ("contact", []) => format!("/{name}"),
        _ => return None,
    })
}

/// Payment terms under `header`, and the attribute of field `rest`.
fn terms(header: &str, rest: &[PathStep<'_>]) -> Option<String> {
    let under = match rest.first().map(|s| s.name) {
        None => "",
        Some("net_days" | "discount_days") => "/@payInNumberOfDays",
        Some("discount_percent") => "/Discount/DiscountPercent/@percent",
        Some("description") => "/Extrinsic",
        Some(_) => return None,
    };
    Some(format!("{header}/PaymentTerm{under}"))
}

/// A `TaxDetail` (1-based, as XPath counts) under `holder`'s `Tax`, or the `Tax`.
fn tax_detail(holder: &str, index: Option<usize>) -> String {
    match index {
        Some(i) => format!("{holder}/Tax/TaxDetail[{}]", i + 1),
        None => format!("{holder}/Tax"),
    }
}

/// The summary element an invoice's own charge of `kind` is read from.
fn summary_charge(kind: Option<ChargeKind>) -> &'static str {
    match kind {
        Some(ChargeKind::Shipping) => "ShippingAmount",
        Some(ChargeKind::Handling) => "SpecialHandlingAmount",
        Some(ChargeKind::Discount) => "InvoiceDetailDiscount",
        Some(ChargeKind::Other) | None => {
            "ShippingAmount, SpecialHandlingAmount or InvoiceDetailDiscount"
        }
    }
}

/// The line element a line's charge of `kind` is read from.
fn line_charge(kind: Option<ChargeKind>) -> &'static str {
    match kind {
        Some(ChargeKind::Shipping) => "InvoiceDetailLineShipping",
        Some(ChargeKind::Handling) => "InvoiceDetailLineSpecialHandling",
        Some(ChargeKind::Discount) => "InvoiceDetailDiscount",
        Some(ChargeKind::Other) | None => {
            "InvoiceDetailLineShipping, InvoiceDetailLineSpecialHandling or InvoiceDetailDiscount"
        }
    }
}

/// `extensions.cxml.<key>` of a line.
fn cxml_ext<'e>(e: &'e Extensions, key: &str) -> Option<&'e serde_json::Value> {
    e.get("cxml")?.get(key)
}

/// `value` as an XPath string literal: in double quotes, or single quotes when it holds a
/// double quote (one holding both is shown in double quotes, its own replaced by `'`).
fn quoted(value: &str) -> String {
    match (value.contains('"'), value.contains('\'')) {
        (false, _) => format!("\"{value}\""),
        (true, false) => format!("'{value}'"),
        (true, true) => format!("\"{}\"", value.replace('"', "'")),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use gateway_core::{Decode, PartnerProfile};
    use gateway_model::{Charge, InvoiceLine, OrderLine, Party, PaymentTerms, Tax};

    fn shipping() -> Charge {
        Charge {
            kind: ChargeKind::Shipping,
            amount: None,
            rate: None,
            category: None,
            description: None,
            code: None,
        }
    }

    fn invoice_doc() -> Document {
        let party = Some(Party::default());
        Document::Invoice(Invoice {
            supplier: party.clone(),
            buyer: party.clone(),
            bill_to: party.clone(),
            remit_to: party.clone(),
            ship_to: party,
            payment_terms: Some(PaymentTerms::default()),
            lines: vec![InvoiceLine {
                line_number: 1,
                taxes: vec![Tax::default()],
                charges: vec![shipping()],
                ..InvoiceLine::default()
            }],
            taxes: vec![Tax::default()],
            charges: vec![shipping()],
            ..Invoice::default()
        })
    }

    fn order_doc() -> Document {
        Document::PurchaseOrder(PurchaseOrder {
            lines: vec![OrderLine {
                line_number: 1,
                ..OrderLine::default()
            }],
            ..PurchaseOrder::default()
        })
    }

    #[test]
    fn every_mapped_invoice_and_order_field_has_a_cxml_place() {
        let meta = SourceMeta::default();
        for (doc, fields) in [
            (
                invoice_doc(),
                gateway_core::testkit::CANONICAL_INVOICE_PATHS,
            ),
            (order_doc(), gateway_core::testkit::CANONICAL_ORDER_PATHS),
        ] {
            for field in fields {
                let at = source_path(&doc, &meta, field);
                assert!(
                    at.as_deref().is_some_and(|a| !a.is_empty()),
                    "{} {field}: {at:?}",
                    doc.kind()
                );
            }
        }
    }

    #[test]
    fn the_mapping_table_names_the_elements_canonical_md_names() {
        let meta = SourceMeta::default();
        let inv = invoice_doc();
        let at = |p: &str| source_path(&inv, &meta, p).unwrap();
        assert_eq!(
            at("$.invoice_number"),
            "InvoiceDetailRequestHeader/@invoiceID"
        );
        assert_eq!(
            at("$.lines[0].quantity"),
            r#"InvoiceDetailItem[@invoiceLineNumber="1"]/@quantity"#
        );
        assert_eq!(at("$.currency"), "Money/@currency");
        assert_eq!(
            at("$.bill_to"),
            r#"InvoiceDetailRequestHeader/InvoicePartner/Contact[@role="billTo"]"#
        );
        assert_eq!(
            at("$.lines[0].unit_price"),
            r#"InvoiceDetailItem[@invoiceLineNumber="1"]/UnitPrice/Money"#
        );
        assert_eq!(
            at("$.lines[0].taxes[0]"),
            r#"InvoiceDetailItem[@invoiceLineNumber="1"]/Tax/TaxDetail[1]"#
        );
        assert_eq!(
            at("$.charges[0].amount"),
            "InvoiceDetailSummary/ShippingAmount"
        );
        assert_eq!(
            at("$.extensions.cxml.operation"),
            "InvoiceDetailRequestHeader/@operation"
        );
        let po = order_doc();
        assert_eq!(
            source_path(&po, &meta, "$.lines[0].unit_price").unwrap(),
            r#"ItemOut[@lineNumber="1"]/ItemDetail/UnitPrice/Money"#
        );
        assert_eq!(
            source_path(&po, &meta, "$.po_number").unwrap(),
            "OrderRequestHeader/@orderID"
        );
        // What the document has no place for, or is no path, is not guessed.
        for unknown in [
            "$.lines[5].quantity",
            "$.nonsense",
            "lines",
            "$.lines[0].bogus",
        ] {
            assert_eq!(source_path(&inv, &meta, unknown), None, "{unknown}");
        }
    }

    /// The decoder records each line item's XML line, and a service line and a line number
    /// that is no whole number are named as sent.
    #[test]
    fn decoded_lines_are_located_by_their_own_identity_and_xml_line() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../samples/cxml/invoice/rich.xml"
        );
        let rich = std::fs::read_to_string(path).unwrap();
        let codec = crate::CxmlCodec::new();
        let d = codec.decode(rich.as_bytes(), &PartnerProfile::anonymous());
        let d = &d.documents[0];
        let item_line = |n: usize| {
            rich.match_indices("<InvoiceDetail")
                .filter(|(at, _)| {
                    let rest = &rich[*at..];
                    rest.starts_with("<InvoiceDetailItem ")
                        || rest.starts_with("<InvoiceDetailServiceItem ")
                })
                .nth(n)
                .map(|(at, _)| rich[..at].matches('\n').count() + 1)
                .unwrap()
        };
        let first = codec
            .source_path(&d.document, &d.meta, "$.lines[0].quantity")
            .unwrap();
        assert!(
            first.ends_with(&format!("/@quantity, line {}", item_line(0))),
            "{first}"
        );
        assert!(first.starts_with("InvoiceDetail"), "{first}");
        let header = codec
            .source_path(&d.document, &d.meta, "$.invoice_number")
            .unwrap();
        let header_line = rich[..rich.find("<InvoiceDetailRequestHeader").unwrap()]
            .matches('\n')
            .count()
            + 1;
        assert_eq!(
            header,
            format!("InvoiceDetailRequestHeader/@invoiceID, line {header_line}")
        );
        let Document::Invoice(inv) = &d.document else {
            panic!("an invoice");
        };
        assert_eq!(d.meta.places.lines.len(), inv.lines.len());
    }

    #[test]
    fn a_service_line_and_a_line_number_in_letters_are_named_as_sent() {
        let mut line = InvoiceLine {
            line_number: 2,
            ..InvoiceLine::default()
        };
        let mut cxml = serde_json::Map::new();
        cxml.insert("service".into(), serde_json::Value::Bool(true));
        cxml.insert("invoice_line_number".into(), "A\"1".into());
        line.extensions
            .insert("cxml".into(), serde_json::Value::Object(cxml));
        let doc = Document::Invoice(Invoice {
            lines: vec![line],
            ..Invoice::default()
        });
        let mut meta = SourceMeta::default();
        meta.places.lines = vec![17];
        assert_eq!(
            source_path(&doc, &meta, "$.lines[0].description").unwrap(),
            r#"InvoiceDetailServiceItem[@invoiceLineNumber='A"1']/InvoiceDetailServiceItemReference/Description, line 17"#
        );
    }
}
