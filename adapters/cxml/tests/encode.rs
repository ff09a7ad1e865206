//! Encoding: corpus round trips, the header (DOCTYPE, payloadID, timestamp, credentials), DTD
//! element order, refusals for what cXML cannot carry, and the invoice status update.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashSet;

use adapter_cxml::reader::{Limits, parse_one};
use adapter_cxml::{CXML_VERSION, CxmlCodec, encode_invoice, encode_order, header};
use gateway_core::testkit::{corpus_or_skip, files_under};
use gateway_core::{Decode, Encode, EncodeError, PartnerProfile};
use gateway_model::{
    Charge, ChargeKind, Document, Invoice, InvoiceLine, InvoicePurpose, OrderLine, OrderPurpose,
    PurchaseOrder,
};

fn profile() -> PartnerProfile {
    PartnerProfile::from_toml(
        r#"
id = "acme"
[cxml]
from_domain = "DUNS"
from_identity = "123456789"
to_domain = "NetworkID"
to_identity = "AN01000000123"
sender_domain = "DUNS"
sender_identity = "123456789-S"
shared_secret = "inbound-secret"
outbound_shared_secret = "outbound-secret"
payload_id_host = "gw.example"
"#,
        "test.toml",
    )
    .unwrap()
}

fn invoice() -> Invoice {
    Invoice {
        invoice_number: Some("INV-1".into()),
        invoice_date: Some("2026-01-31".parse().unwrap()),
        // An absent purpose or order type is written absent (the DTD defaults are standard
        // and new) and reads back absent; the fixtures state them.
        purpose: Some(InvoicePurpose::Standard),
        currency: Some("USD".into()),
        lines: vec![InvoiceLine {
            line_number: 1,
            quantity: Some("2".parse().unwrap()),
            uom: Some("EA".into()),
            unit_price: Some("5.00".parse().unwrap()),
            amount: Some("10.00".parse().unwrap()),
            ..Default::default()
        }],
        total: Some("10.00".parse().unwrap()),
        ..Default::default()
    }
}

fn order() -> PurchaseOrder {
    PurchaseOrder {
        po_number: Some("PO-1".into()),
        order_date: Some("2026-01-30".parse().unwrap()),
        purpose: Some(OrderPurpose::New),
        currency: Some("EUR".into()),
        // cXML.dtd requires a BillTo; one is written from the bill-to, buyer or ship-to.
        bill_to: Some(gateway_model::Party {
            name: Some("Globex Accounts Payable".into()),
            ..Default::default()
        }),
        lines: vec![OrderLine {
            line_number: 1,
            quantity: Some("3".parse().unwrap()),
            uom: Some("EA".into()),
            unit_price: Some("1.25".parse().unwrap()),
            ..Default::default()
        }],
        ..Default::default()
    }
}

#[test]
fn corpus_invoices_and_orders_round_trip_through_cxml() {
    let codec = CxmlCodec::default();
    let partner = profile();
    let mut checked = 0;
    for folder in ["cxml-invoice", "cxml-order"] {
        let Some(dir) = corpus_or_skip(folder, "corpus_round_trip").unwrap() else {
            return;
        };
        for file in files_under(&dir) {
            let first = codec.decode(&std::fs::read(&file).unwrap(), &partner);
            let docs: Vec<Document> = first.documents.into_iter().map(|d| d.document).collect();
            if docs.is_empty() {
                continue;
            }
            let bytes = codec
                .encode(&docs, &partner)
                .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            let again = codec.decode(&bytes, &partner);
            assert!(
                again.rejects.is_empty(),
                "{}: {:?}",
                file.display(),
                again.rejects
            );
            let again: Vec<Document> = again.documents.into_iter().map(|d| d.document).collect();
            assert_eq!(again, docs, "{}", file.display());
            checked += 1;
        }
    }
    assert_eq!(checked, 6, "2 invoices and 4 orders should round trip");
}

#[test]
fn invoice_header_uses_the_profile_and_a_pinned_doctype() {
    let bytes = encode_invoice(&invoice(), &profile()).unwrap();
    let text = String::from_utf8(bytes.clone()).unwrap();
    assert!(text.contains(&format!(
        "<!DOCTYPE cXML SYSTEM \"http://xml.cxml.org/schemas/cXML/{CXML_VERSION}/InvoiceDetail.dtd\">"
    )));
    let h = header(&bytes).unwrap();
    assert_eq!(h.from[0].key(), "DUNS:123456789");
    assert_eq!(h.to[0].key(), "NetworkID:AN01000000123");
    assert_eq!(h.sender[0].key(), "DUNS:123456789-S");
    assert!(h.shared_secret.as_ref().unwrap().matches("inbound-secret"));
    assert_eq!(h.version.as_deref(), Some(CXML_VERSION));
    assert!(h.payload_id.as_deref().unwrap().ends_with("@gw.example"));
    let ts = h.timestamp.unwrap();
    let parsed = chrono::DateTime::parse_from_rfc3339(&ts).unwrap();
    assert!(ts.ends_with("+00:00"), "{ts}");
    assert_eq!(parsed.offset().local_minus_utc(), 0);
    assert_eq!(h.deployment_mode.as_deref(), Some("production"));
}

#[test]
fn order_header_goes_from_us_to_the_partner_with_the_outbound_secret() {
    let bytes = encode_order(&order(), &profile()).unwrap();
    let text = String::from_utf8(bytes.clone()).unwrap();
    assert!(text.contains(&format!("/{CXML_VERSION}/cXML.dtd\">")));
    let h = header(&bytes).unwrap();
    assert_eq!(h.from[0].key(), "NetworkID:AN01000000123");
    assert_eq!(h.to[0].key(), "DUNS:123456789");
    assert_eq!(h.sender[0].key(), "NetworkID:AN01000000123");
    assert!(h.shared_secret.as_ref().unwrap().matches("outbound-secret"));
    assert_eq!(h.message.as_deref(), Some("OrderRequest"));
}

#[test]
fn payload_ids_are_unique() {
    let mut seen = HashSet::new();
    for _ in 0..200 {
        let h = header(&encode_order(&order(), &profile()).unwrap()).unwrap();
        assert!(seen.insert(h.payload_id.unwrap()), "payloadID repeated");
    }
}

/// A document that names its payloadID (`extensions.cxml.payload_id`, as the gateway does
/// for every attempt at one PO) is written under it: the partner's host is added to a local
/// part, a whole id is kept, and it reads back as the header's payloadID.
#[test]
fn a_payload_id_the_document_names_is_written_as_given() {
    for (given, written) in [
        ("coupa-po.4711.v2.abc", "coupa-po.4711.v2.abc@gw.example"),
        ("1.2@elsewhere.example", "1.2@elsewhere.example"),
    ] {
        let mut po = order();
        po.extensions.insert(
            "cxml".into(),
            serde_json::json!({ adapter_cxml::encode::PAYLOAD_ID: given }),
        );
        let h = header(&encode_order(&po, &profile()).unwrap()).unwrap();
        assert_eq!(h.payload_id.as_deref(), Some(written));
        let mut inv = invoice();
        inv.extensions = po.extensions.clone();
        let h = header(&encode_invoice(&inv, &profile()).unwrap()).unwrap();
        assert_eq!(h.payload_id.as_deref(), Some(written));
    }
}

#[test]
fn missing_cxml_section_is_a_profile_error() {
    let e = encode_invoice(&invoice(), &PartnerProfile::anonymous()).unwrap_err();
    assert!(
        matches!(e, EncodeError::Profile(ref m) if m.contains("no [cxml] section")),
        "{e}"
    );
    let mut p = profile();
    if let Some(c) = p.cxml.as_mut() {
        c.to_identity = None;
    }
    let e = encode_order(&order(), &p).unwrap_err();
    assert!(e.to_string().contains("to_identity"), "{e}");
}

fn child_names(raw: &[u8], path: &str) -> Vec<String> {
    let tree = parse_one(raw, &Limits::default()).unwrap();
    let node = tree.root().unwrap().find(path).unwrap();
    node.children().map(|c| c.name().to_string()).collect()
}

#[test]
fn elements_follow_dtd_order() {
    let mut inv = invoice();
    inv.subtotal = Some("10.00".parse().unwrap());
    inv.tax_total = Some("0.80".parse().unwrap());
    inv.charges = vec![
        Charge {
            kind: ChargeKind::Discount,
            amount: Some("1".parse().unwrap()),
            rate: None,
            category: None,
            description: None,
            code: None,
        },
        Charge {
            kind: ChargeKind::Shipping,
            amount: Some("2".parse().unwrap()),
            rate: None,
            category: None,
            description: None,
            code: None,
        },
    ];
    let raw = encode_invoice(&inv, &profile()).unwrap();
    assert_eq!(
        child_names(&raw, "Request/InvoiceDetailRequest/InvoiceDetailSummary"),
        [
            "SubtotalAmount",
            "Tax",
            "ShippingAmount",
            "InvoiceDetailDiscount",
            "NetAmount",
            "DueAmount"
        ]
    );
    assert_eq!(
        child_names(&raw, "Request/InvoiceDetailRequest"),
        [
            "InvoiceDetailRequestHeader",
            "InvoiceDetailOrder",
            "InvoiceDetailSummary"
        ]
    );
    assert_eq!(
        child_names(
            &raw,
            "Request/InvoiceDetailRequest/InvoiceDetailOrder/InvoiceDetailItem"
        ),
        [
            "UnitOfMeasure",
            "UnitPrice",
            "InvoiceDetailItemReference",
            "SubtotalAmount"
        ]
    );
    let raw = encode_order(&order(), &profile()).unwrap();
    assert_eq!(child_names(&raw, "Header"), ["From", "To", "Sender"]);
    assert_eq!(
        child_names(&raw, "Request/OrderRequest/ItemOut/ItemDetail"),
        [
            "UnitPrice",
            "Description",
            "UnitOfMeasure",
            "Classification"
        ]
    );
    // The order gives no total: the Extrinsic says the Total is the sum of its lines.
    assert_eq!(
        child_names(&raw, "Request/OrderRequest/OrderRequestHeader"),
        ["Total", "BillTo", "Extrinsic"]
    );
    assert_eq!(
        child_names(&raw, "Request/OrderRequest/ItemOut"),
        ["ItemID", "ItemDetail"]
    );
}

#[test]
fn charges_cxml_cannot_carry_are_refused_with_their_path() {
    let mut inv = invoice();
    inv.charges = vec![Charge {
        kind: ChargeKind::Other,
        amount: Some("1".parse().unwrap()),
        rate: None,
        category: None,
        description: None,
        code: Some("X".into()),
    }];
    let e = encode_invoice(&inv, &profile()).unwrap_err();
    assert!(
        matches!(e, EncodeError::Invalid { ref path, .. } if path == "$.charges[0]"),
        "{e}"
    );
    let mut po = order();
    po.lines[0].charges = vec![Charge {
        kind: ChargeKind::Discount,
        amount: Some("1".parse().unwrap()),
        rate: None,
        category: None,
        description: None,
        code: None,
    }];
    let e = encode_order(&po, &profile()).unwrap_err();
    assert!(
        matches!(e, EncodeError::Invalid { ref path, .. } if path == "$.lines[0].charges[0]"),
        "{e}"
    );
}

#[test]
fn control_characters_are_refused_not_written() {
    let mut inv = invoice();
    inv.comments = Some("bell \u{7}".into());
    let e = encode_invoice(&inv, &profile()).unwrap_err();
    assert!(e.to_string().contains("U+0007"), "{e}");
}

#[test]
fn markup_characters_are_escaped_and_come_back() {
    let mut inv = invoice();
    inv.comments = Some("a < b & \"c\" > 'd'".into());
    inv.lines[0].description = Some("<script>&amp;</script>".into());
    let codec = CxmlCodec::default();
    let bytes = codec
        .encode(&[Document::Invoice(inv.clone())], &profile())
        .unwrap();
    let back = codec.decode(&bytes, &profile());
    assert!(back.rejects.is_empty(), "{:?}", back.rejects);
    assert_eq!(back.documents[0].document, Document::Invoice(inv));
}

#[test]
fn credit_memo_spellings_survive_a_round_trip() {
    let codec = CxmlCodec::default();
    let mut inv = invoice();
    inv.purpose = Some(InvoicePurpose::CreditMemo);
    let bytes = codec.encode(&[Document::Invoice(inv)], &profile()).unwrap();
    assert!(String::from_utf8_lossy(&bytes).contains("purpose=\"creditMemo\""));
    // A line-level credit memo decodes to credit_memo and keeps its spelling for re-encoding.
    let raw = String::from_utf8(bytes)
        .unwrap()
        .replace("purpose=\"creditMemo\"", "purpose=\"lineLevelCreditMemo\"");
    let d = codec.decode(raw.as_bytes(), &profile());
    let Document::Invoice(back) = &d.documents[0].document else {
        panic!()
    };
    assert_eq!(back.purpose, Some(InvoicePurpose::CreditMemo));
    let again = codec
        .encode(&[d.documents[0].document.clone()], &profile())
        .unwrap();
    assert!(String::from_utf8_lossy(&again).contains("purpose=\"lineLevelCreditMemo\""));
}

#[test]
fn a_document_without_a_purpose_is_written_without_one_and_reads_back_without_one() {
    // Found by the fuzzer: a header with no purpose attribute read as no purpose, was written
    // with purpose="standard" and read back as standard.
    let codec = CxmlCodec::default();
    let mut inv = invoice();
    inv.purpose = None;
    let bytes = codec
        .encode(&[Document::Invoice(inv.clone())], &profile())
        .unwrap();
    let text = String::from_utf8_lossy(&bytes);
    assert!(!text.contains("purpose=\""), "{text}");
    let d = codec.decode(&bytes, &profile());
    assert!(d.rejects.is_empty(), "{:?}", d.rejects);
    let Document::Invoice(back) = &d.documents[0].document else {
        panic!("not an invoice")
    };
    assert_eq!(back.purpose, None);
    // The same for an order's type.
    let mut po = order();
    po.purpose = None;
    let bytes = codec
        .encode(&[Document::PurchaseOrder(po)], &profile())
        .unwrap();
    assert!(!String::from_utf8_lossy(&bytes).contains(" type=\""));
    let d = codec.decode(&bytes, &profile());
    let Document::PurchaseOrder(back) = &d.documents[0].document else {
        panic!("not an order")
    };
    assert_eq!(back.purpose, None);
    // A standard invoice still says so.
    inv.purpose = Some(InvoicePurpose::Standard);
    let bytes = codec.encode(&[Document::Invoice(inv)], &profile()).unwrap();
    assert!(String::from_utf8_lossy(&bytes).contains("purpose=\"standard\""));
}

#[test]
fn payment_terms_without_days_are_no_terms() {
    // Found by the fuzzer: a PaymentTerm whose required payInNumberOfDays was misspelt read as
    // terms of nothing, which the writer cannot write, so it read back as no terms.
    let codec = CxmlCodec::default();
    let mut inv = invoice();
    inv.payment_terms = Some(gateway_model::PaymentTerms {
        net_days: Some(30),
        ..Default::default()
    });
    let bytes = codec.encode(&[Document::Invoice(inv)], &profile()).unwrap();
    let text = String::from_utf8(bytes).unwrap();
    assert!(text.contains("payInNumberOfDays=\"30\""), "{text}");
    let d = codec.decode(text.as_bytes(), &profile());
    let Document::Invoice(back) = &d.documents[0].document else {
        panic!("not an invoice")
    };
    assert_eq!(
        back.payment_terms.as_ref().and_then(|t| t.net_days),
        Some(30)
    );
    let broken = text.replace("payInNumberOfDays=", "payInNbmreuOfDays=");
    let d = codec.decode(broken.as_bytes(), &profile());
    let Document::Invoice(back) = &d.documents[0].document else {
        panic!("not an invoice")
    };
    assert_eq!(back.payment_terms, None);
}

#[test]
fn a_memo_naming_only_the_original_invoice_date_keeps_it() {
    // Found by the fuzzer: InvoiceIDInfo with a date and no invoiceID kept the date, but the
    // writer wrote InvoiceIDInfo only with an id, so the date was lost on the way back.
    let codec = CxmlCodec::default();
    let mut inv = invoice();
    inv.purpose = Some(InvoicePurpose::CreditMemo);
    inv.extensions.insert(
        "cxml".into(),
        serde_json::json!({ "original_invoice_date": "2026-03-01T09:00:00-05:00" }),
    );
    let bytes = codec
        .encode(&[Document::Invoice(inv.clone())], &profile())
        .unwrap();
    let text = String::from_utf8_lossy(&bytes);
    assert!(
        text.contains("<InvoiceIDInfo invoiceID=\"\" invoiceDate=\"2026-03-01T09:00:00-05:00\"/>"),
        "{text}"
    );
    let d = codec.decode(&bytes, &profile());
    assert_eq!(d.documents[0].document, Document::Invoice(inv));
}

#[test]
fn several_documents_encode_to_concatenated_cxml_and_decode_back() {
    let codec = CxmlCodec::default();
    let docs = vec![
        Document::Invoice(invoice()),
        Document::PurchaseOrder(order()),
    ];
    let bytes = codec.encode(&docs, &profile()).unwrap();
    let back = codec.decode(&bytes, &profile());
    assert!(back.rejects.is_empty(), "{:?}", back.rejects);
    let back: Vec<Document> = back.documents.into_iter().map(|d| d.document).collect();
    assert_eq!(back, docs);
}

/// The foundation's golden documents go to cXML and back with every field as it was, down
/// to the text of each decimal: the descriptions of the shipping and discount charges (no
/// `Description` in cXML's summary elements) and the order lines' amounts (no line total in
/// `ItemOut`) travel in Extrinsics the decoder takes back. A line-level charge's description
/// (no `Description` in cXML at all) is added to the invoice to cover lines too.
#[test]
fn golden_json_documents_round_trip_through_cxml_exactly() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../samples/json");
    let codec = CxmlCodec::default();
    let partner = profile();
    for kind in ["invoice", "purchase_order"] {
        let path = format!("{root}/{kind}/rich.canonical.json");
        let mut doc = gateway_model::from_json(&std::fs::read(&path).unwrap()).unwrap();
        if let Document::Invoice(inv) = &mut doc {
            inv.lines[0].charges.push(Charge {
                kind: ChargeKind::Shipping,
                amount: Some("3.50".parse().unwrap()),
                rate: None,
                category: None,
                description: Some("Line freight".into()),
                code: None,
            });
        }
        let bytes = codec.encode(std::slice::from_ref(&doc), &partner).unwrap();
        let back = codec.decode(&bytes, &partner);
        assert!(back.rejects.is_empty(), "{path}: {:?}", back.rejects);
        let back = &back.documents[0].document;
        assert_eq!(
            gateway_model::to_json_line(back),
            gateway_model::to_json_line(&doc),
            "{path}"
        );
        // What carries the fields is not left behind as extensions.
        assert!(
            !gateway_model::to_json_line(back).contains("ChargeDescription")
                && !gateway_model::to_json_line(back).contains("extendedAmount"),
            "{path}"
        );
    }
}

/// A source with a shipTo contact in InvoicePartner and another in InvoiceDetailShipping: the
/// first is the model's ship-to, the second kept in the extensions; written and read again,
/// each comes back where it was (the writer wrote the kept one first, so they swapped).
/// Found by fuzzing (`.ci/fuzz.sh 600 cxml`).
#[test]
fn two_ship_to_contacts_come_back_where_they_were() {
    let raw = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../samples/cxml/invoice/rich.xml"),
    )
    .unwrap();
    let extra = r#"<InvoicePartner><Contact role="shipTo"><Name xml:lang="en">Globex Corporation</Name></Contact></InvoicePartner>
        <InvoicePartner>"#;
    let raw = raw.replacen("<InvoicePartner>", extra, 1);
    let first = CxmlCodec::default().decode(raw.as_bytes(), &profile());
    assert!(first.rejects.is_empty(), "{:?}", first.rejects);
    let Document::Invoice(inv) = &first.documents[0].document else {
        panic!()
    };
    let ship_to = inv.ship_to.as_ref().unwrap();
    assert_eq!(ship_to.name.as_deref(), Some("Globex Corporation"));
    let docs: Vec<Document> = first.documents.into_iter().map(|d| d.document).collect();
    let written = CxmlCodec::default().encode(&docs, &profile()).unwrap();
    let again = CxmlCodec::default().decode(&written, &profile());
    let back: Vec<Document> = again.documents.into_iter().map(|d| d.document).collect();
    assert_eq!(back, docs, "{}", String::from_utf8_lossy(&written));
}

/// The `StatusUpdateRequest` that tells a supplier what became of its invoice
/// (`encode/status_update.rs`).
mod status_update {
    use adapter_cxml::encode::MAX_COMMENT_CHARS;
    use adapter_cxml::reader::{Limits, Node, Tree, parse_one};
    use adapter_cxml::{InvoiceStatusKind, InvoiceStatusUpdate, encode_invoice_status_update};
    use chrono::NaiveDate;

    use super::*;

    fn update(comments: &str) -> InvoiceStatusUpdate<'_> {
        InvoiceStatusUpdate {
            payload_id: Some("1773580000000.abc@supplier.example"),
            invoice_id: "INV-1",
            invoice_date: Some(NaiveDate::from_ymd_opt(2026, 3, 15).unwrap()),
            status: InvoiceStatusKind::Rejected,
            comments,
        }
    }

    fn parse(raw: &[u8]) -> Tree {
        parse_one(raw, &Limits::default()).unwrap()
    }

    fn at<'t>(tree: &'t Tree, path: &str) -> Node<'t> {
        let root = tree.root().unwrap();
        root.find(path)
            .unwrap_or_else(|| panic!("no {path} under {}", root.name()))
    }

    fn names(n: Node<'_>) -> Vec<&str> {
        n.children().map(|c| c.name()).collect()
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]

        /// Whatever words another system gives as the reason (any characters, markup, control
        /// characters, line breaks), the update is written, reads back as cXML, and carries
        /// the reason trimmed, each character XML cannot hold as a space.
        #[test]
        fn any_reason_is_written_and_read_back(
            reason in "(\\PC|[<>&'\"\\x00-\\x1f\u{FFFE}\u{FFFF}]){0,300}"
        ) {
            let raw = encode_invoice_status_update(&update(&reason), &profile()).unwrap();
            let tree = parse(&raw);
            let status = at(&tree, "Request/StatusUpdateRequest/InvoiceStatus");
            let comments = status.children().find(|c| c.name() == "Comments");
            let expected: String = reason
                .chars()
                .map(|c| {
                    let ok = matches!(c, '\t' | '\n' | '\r')
                        || ('\u{20}'..='\u{D7FF}').contains(&c)
                        || ('\u{E000}'..='\u{FFFD}').contains(&c)
                        || c >= '\u{10000}';
                    if ok { c } else { ' ' }
                })
                .collect();
            let expected = expected.trim();
            match comments {
                Some(c) => proptest::prop_assert_eq!(c.text(), expected),
                None => proptest::prop_assert!(expected.is_empty(), "{expected:?}"),
            }
        }
    }

    #[test]
    fn rejected_update_carries_header_reference_status_and_exact_reason() {
        let reason = "Line 2: price <> PO & tax 7 % — «refusé» by AP";
        let raw = encode_invoice_status_update(&update(reason), &profile()).unwrap();
        let text = std::str::from_utf8(&raw).unwrap();
        assert!(text.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"));
        // The raw reason never appears: its markup characters are escaped.
        assert!(!text.contains(reason));

        let tree = parse(&raw);
        let doctype = tree.doctype.clone().unwrap();
        assert!(doctype.contains("/cXML.dtd"), "{doctype}");
        let root = tree.root().unwrap();
        assert_eq!(root.name(), "cXML");
        let payload = root.attr("payloadID").unwrap();
        assert!(payload.ends_with("@gw.example"), "{payload}");
        assert!(root.attr("timestamp").is_some());

        // From = us (the profile's to_*), To = the supplier (from_*), Sender = us + secret.
        assert_eq!(
            at(&tree, "Header/From/Credential").attr("domain"),
            Some("NetworkID")
        );
        assert_eq!(
            at(&tree, "Header/From/Credential/Identity").text(),
            "AN01000000123"
        );
        assert_eq!(
            at(&tree, "Header/To/Credential").attr("domain"),
            Some("DUNS")
        );
        assert_eq!(
            at(&tree, "Header/To/Credential/Identity").text(),
            "123456789"
        );
        assert_eq!(
            at(&tree, "Header/Sender/Credential/Identity").text(),
            "AN01000000123"
        );
        assert_eq!(
            at(&tree, "Header/Sender/Credential/SharedSecret").text(),
            "outbound-secret"
        );
        assert!(
            at(&tree, "Header/From/Credential")
                .child("SharedSecret")
                .is_none()
        );
        assert!(at(&tree, "Request").attr("deploymentMode").is_some());

        let sur = at(&tree, "Request/StatusUpdateRequest");
        assert_eq!(
            names(sur),
            ["DocumentReference", "Status", "InvoiceStatus"],
            "cXML.dtd order"
        );
        assert_eq!(
            at(&tree, "Request/StatusUpdateRequest/DocumentReference").attr("payloadID"),
            Some("1773580000000.abc@supplier.example")
        );
        let status = at(&tree, "Request/StatusUpdateRequest/Status");
        assert_eq!(status.attr("code"), Some("200"));
        assert_eq!(status.attr("text"), Some("OK"));
        let inv = at(&tree, "Request/StatusUpdateRequest/InvoiceStatus");
        assert_eq!(inv.attr("type"), Some("rejected"));
        assert_eq!(names(inv), ["InvoiceIDInfo", "Comments"]);
        let info = inv.child("InvoiceIDInfo").unwrap();
        assert_eq!(info.attr("invoiceID"), Some("INV-1"));
        assert_eq!(info.attr("invoiceDate"), Some("2026-03-15T12:00:00+00:00"));
        let comments = inv.child("Comments").unwrap();
        assert_eq!(comments.attr("xml:lang"), Some("en"));
        assert_eq!(comments.text(), reason);
    }

    #[test]
    fn unknown_reference_date_and_reason_are_left_out() {
        // The last: a reason of only a character XML cannot hold (found by the property below).
        for (payload_id, comments) in [(None, ""), (Some(" "), "  \n\t "), (None, "\u{e}")] {
            let u = InvoiceStatusUpdate {
                payload_id,
                invoice_date: None,
                ..update(comments)
            };
            let raw = encode_invoice_status_update(&u, &profile()).unwrap();
            let tree = parse(&raw);
            let sur = at(&tree, "Request/StatusUpdateRequest");
            assert_eq!(names(sur), ["Status", "InvoiceStatus"]);
            let inv = sur.child("InvoiceStatus").unwrap();
            assert_eq!(names(inv), ["InvoiceIDInfo"]);
            let info = inv.child("InvoiceIDInfo").unwrap();
            assert_eq!(info.attr("invoiceID"), Some("INV-1"));
            assert_eq!(info.attr("invoiceDate"), None);
        }
    }

    #[test]
    fn every_kind_is_written_as_the_dtd_spells_it() {
        use InvoiceStatusKind::*;
        for (kind, wire) in [
            (Processing, "processing"),
            (Reconciled, "reconciled"),
            (Rejected, "rejected"),
            (Paying, "paying"),
            (Paid, "paid"),
        ] {
            let u = InvoiceStatusUpdate {
                status: kind,
                ..update("r")
            };
            let raw = encode_invoice_status_update(&u, &profile()).unwrap();
            let tree = parse(&raw);
            assert_eq!(
                at(&tree, "Request/StatusUpdateRequest/InvoiceStatus").attr("type"),
                Some(wire)
            );
        }
    }

    #[test]
    fn missing_profile_section_or_credential_is_a_profile_error() {
        let e =
            encode_invoice_status_update(&update("r"), &PartnerProfile::anonymous()).unwrap_err();
        assert!(
            matches!(e, EncodeError::Profile(ref m) if m.contains("no [cxml] section")),
            "{e}"
        );
        let mut p = profile();
        if let Some(c) = p.cxml.as_mut() {
            c.from_identity = None;
        }
        let e = encode_invoice_status_update(&update("r"), &p).unwrap_err();
        assert!(
            matches!(e, EncodeError::Profile(ref m) if m.contains("from_identity")),
            "{e}"
        );
    }

    #[test]
    fn blank_invoice_id_or_unwritable_character_is_invalid() {
        for id in ["", "   "] {
            let u = InvoiceStatusUpdate {
                invoice_id: id,
                ..update("r")
            };
            let e = encode_invoice_status_update(&u, &profile()).unwrap_err();
            assert!(
                matches!(e, EncodeError::Invalid { ref path, ref message }
                    if path == "invoice_id" && message.contains("invoice number")),
                "{e}"
            );
        }
        // In the invoice number a character XML cannot hold is refused; in the reason, which
        // comes from other systems, it becomes a space so the notice still goes.
        let mut u = update("fine");
        u.invoice_id = "INV\u{7}";
        let e = encode_invoice_status_update(&u, &profile()).unwrap_err();
        assert!(
            matches!(e, EncodeError::Invalid { ref message, .. } if message.contains("U+0007")),
            "{e}"
        );
        let raw = encode_invoice_status_update(&update("bell\u{7}rang\u{FFFE}twice"), &profile())
            .unwrap();
        let tree = parse(&raw);
        let text = at(&tree, "Request/StatusUpdateRequest/InvoiceStatus/Comments").text();
        assert_eq!(text, "bell rang twice");
    }

    #[test]
    fn long_reason_is_cut_at_a_character_boundary() {
        // 1,999 ASCII characters, then three-byte characters: the 2,000th character, the last
        // one kept, is multi-byte, and so is the first one dropped.
        let reason = format!("{}{}", "a".repeat(1_999), "€".repeat(3_001));
        assert_eq!(reason.chars().count(), 5_000);
        let raw = encode_invoice_status_update(&update(&reason), &profile()).unwrap();
        assert!(std::str::from_utf8(&raw).is_ok());
        let tree = parse(&raw);
        let text = at(&tree, "Request/StatusUpdateRequest/InvoiceStatus/Comments").text();
        assert_eq!(text.chars().count(), 2_001);
        let tail: String = text.chars().skip(1_995).collect();
        assert!(text.ends_with("€…"), "{tail}");
        let kept = text.strip_suffix('…').unwrap();
        assert_eq!(kept.chars().count(), 2_000);
        assert!(reason.starts_with(kept));
    }

    #[test]
    fn reason_of_exactly_the_limit_is_kept_whole() {
        let reason = "é".repeat(MAX_COMMENT_CHARS);
        let raw = encode_invoice_status_update(&update(&reason), &profile()).unwrap();
        let tree = parse(&raw);
        let text = at(&tree, "Request/StatusUpdateRequest/InvoiceStatus/Comments").text();
        assert_eq!(text, reason);
    }
}

/// cXML names the currency of every amount: a document without one was written with
/// `currency=""`, which a validating receiver refuses and no reader can price.
#[test]
fn a_document_without_a_currency_is_refused_at_its_path_not_written_with_an_empty_one() {
    let json = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../samples/json/invoice/rich.json"
    ))
    .unwrap();
    let mut doc = gateway_model::from_json(&json).unwrap();
    let gateway_model::Document::Invoice(inv) = &mut doc else {
        panic!("not an invoice")
    };
    assert!(adapter_cxml::encode_invoice(inv, &profile()).is_ok());
    inv.currency = None;
    match adapter_cxml::encode_invoice(inv, &profile()) {
        Err(gateway_core::EncodeError::Invalid { path, message }) => {
            assert_eq!(path, "$.currency");
            assert!(message.contains("Money@currency"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}
