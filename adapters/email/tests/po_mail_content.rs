//! What a PO mail tells a supplier (QA 14b items 7 and 9):
//! - the CSV attached to it names the character set it is written in (it was `text/csv` with
//!   no charset, so mail readers showed UTF-8 `Müller` and `Église` garbled): UTF-8 by
//!   default, the partner's `csv.charset` when it has one;
//! - each line's supplier auxiliary part id (a punch-out item's key: a Coupa line's
//!   `supp-aux-part-num`, cXML's `SupplierPartAuxiliaryID`) is on the line, in both bodies.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use adapter_email::outbound::{attachment_charset, html_body, text_body};
use adapter_email::{PoMail, render_po_mail};
use gateway_core::{Format, PartnerProfile};
use gateway_model::charset::Charset;
use gateway_model::{Document, PurchaseOrder, from_json};
use mail_parser::{MessageParser, MimeHeaders};

/// A PO as the Coupa mapping makes it: line 1 with `"supp-aux-part-num": "AUX-9"`, line 2
/// from a cXML order with its own auxiliary id, line 3 with none; no total.
fn po() -> PurchaseOrder {
    let json = r#"{"schema_version": 1, "kind": "purchase_order", "po_number": "QA3-CSV",
        "order_date": "2026-03-01", "currency": "EUR", "buyer": {"name": "Globex"},
        "lines": [
          {"line_number": 1, "quantity": "2", "uom": "EA", "unit_price": "250.16",
           "description": "Punch-out item", "supplier_part_id": "LS-100",
           "extensions": {"coupa": {"id": 101, "supp-aux-part-num": "AUX-9"}}},
          {"line_number": 2, "quantity": "1", "uom": "EA", "unit_price": "5",
           "description": "Box", "supplier_part_id": "B-1",
           "extensions": {"cxml": {"supplier_part_auxiliary_id": "BOX-100"}}},
          {"line_number": 3, "quantity": "1", "uom": "EA", "unit_price": "1",
           "description": "Plain", "supplier_part_id": "P-1"}
        ]}"#;
    match from_json(json.as_bytes()) {
        Ok(Document::PurchaseOrder(po)) => po,
        other => panic!("{other:?}"),
    }
}

fn partner(toml: &str) -> PartnerProfile {
    PartnerProfile::from_toml(toml, "mx.toml").unwrap()
}

/// The mail as sent, with `attachment` as its CSV file, written for `partner`.
fn raw_mail(partner: &PartnerProfile, attachment: Vec<u8>) -> Vec<u8> {
    let p = po();
    render_po_mail(PoMail {
        po: &p,
        from: "Purchasing <po@globex.example>".parse().unwrap(),
        reply_to: None,
        to: "orders@mx.example",
        attachment_format: Format::Csv,
        attachment_charset: attachment_charset(Format::Csv, partner),
        attachment_name: "QA3-CSV.csv".into(),
        attachment,
        message_id: "doc-3@coupa-gateway".into(),
    })
    .unwrap()
    .formatted()
}

/// The attachment's text as a mail reader shows it: decoded by the charset its part names.
fn attachment_text(raw: &[u8]) -> String {
    let m = MessageParser::default().parse(raw).unwrap();
    let a = m.attachment(0).unwrap();
    a.text_contents()
        .map(str::to_string)
        .unwrap_or_else(|| panic!("not text: {:?}", a.content_type()))
}

const NAMES: &str = "supplier-name,ship-to-address-city\r\nMüller GmbH,Église-sur-Mer\r\n";

#[test]
fn a_csv_attachment_names_the_utf_8_it_is_written_in() {
    let anonymous = PartnerProfile::anonymous();
    assert_eq!(
        attachment_charset(Format::Csv, &anonymous),
        Some(Charset::Utf8)
    );
    let raw = raw_mail(&anonymous, NAMES.as_bytes().to_vec());
    let text = String::from_utf8_lossy(&raw);
    assert!(
        text.contains("Content-Type: text/csv; charset=utf-8"),
        "{text}"
    );
    assert_eq!(attachment_text(&raw), NAMES);
}

#[test]
fn a_csv_attachment_names_the_partners_windows_1252() {
    let p = partner("id = \"mx\"\n[csv]\ncharset = \"windows-1252\"\n");
    assert_eq!(
        attachment_charset(Format::Csv, &p),
        Some(Charset::Windows1252)
    );
    let bytes = Charset::Windows1252.encode(NAMES).unwrap().into_owned();
    assert_ne!(bytes, NAMES.as_bytes());
    let raw = raw_mail(&p, bytes);
    let text = String::from_utf8_lossy(&raw);
    assert!(
        text.contains("Content-Type: text/csv; charset=windows-1252"),
        "{text}"
    );
    assert_eq!(attachment_text(&raw), NAMES);
    // The gateway's own mail reader takes it back as the same text.
    let back = adapter_email::ParsedMail::parse(&raw, &adapter_email::Limits::default()).unwrap();
    assert_eq!(back.attachments[0].bytes, NAMES.as_bytes());
}

#[test]
fn formats_that_are_no_text_to_a_mail_reader_name_no_charset() {
    let p = partner("id = \"mx\"\n[csv]\ncharset = \"windows-1252\"\n");
    for f in [Format::Cxml, Format::X12, Format::Json] {
        assert_eq!(attachment_charset(f, &p), None, "{f}");
    }
}

#[test]
fn each_lines_auxiliary_part_id_is_on_the_line_in_both_bodies() {
    let p = po();
    let text = text_body(&p);
    let lines: Vec<&str> = text.lines().collect();
    let at = |needle: &str| lines.iter().position(|l| l.contains(needle)).unwrap();
    // Under the line it belongs to, before the next one.
    assert_eq!(
        at("Auxiliary part ID: AUX-9"),
        at("1. LS-100") + 1,
        "{text}"
    );
    assert_eq!(at("Auxiliary part ID: BOX-100"), at("2. B-1") + 1, "{text}");
    assert_eq!(text.matches("Auxiliary part ID").count(), 2, "{text}");

    let html = html_body(&p);
    assert!(html.contains("<th>Auxiliary part ID</th>"), "{html}");
    assert!(
        html.contains("<td>1</td><td>LS-100</td><td>AUX-9</td>"),
        "{html}"
    );
    assert!(html.contains("<td>3</td><td>P-1</td><td></td>"), "{html}");

    // An order where no line has one gets no such column.
    let mut plain = p.clone();
    for l in &mut plain.lines {
        l.extensions.clear();
    }
    assert!(!html_body(&plain).contains("Auxiliary"));
    assert!(!text_body(&plain).contains("Auxiliary"));
}

/// The total the mail shows for an order that gives none is its lines' sum (2 × 250.16 + 5 +
/// 1), the figure the cXML attachment's `Total` carries too.
#[test]
fn the_mail_total_of_an_order_without_one_is_its_lines_sum() {
    let text = text_body(&po());
    assert!(text.contains("Total: 506.32 EUR"), "{text}");
}
