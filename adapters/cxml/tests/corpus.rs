//! The shared corpus (cXML written by others): every file gives documents or located rejects,
//! never a panic; invoices and orders map number, date, lines and totals as read by eye from
//! the files.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::str::FromStr;

use adapter_cxml::CxmlCodec;
use gateway_core::testkit::{corpus_or_skip, files_under};
use gateway_core::{Decode, Decoded, PartnerProfile};
use gateway_model::{ChargeKind, Decimal, Document, InvoicePurpose, NaiveDate, OrderPurpose};

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn corpus_file(folder: &str, name: &str, test: &str) -> Option<PathBuf> {
    let dir = corpus_or_skip(folder, test).unwrap()?;
    Some(dir.join(name))
}

fn decode(path: &PathBuf) -> Decoded {
    let raw = std::fs::read(path).unwrap();
    CxmlCodec::default().decode(&raw, &PartnerProfile::anonymous())
}

#[test]
fn every_cxml_corpus_file_decodes_without_panicking() {
    let mut seen = 0;
    for folder in ["cxml-invoice", "cxml-order", "cxml-other", "malformed"] {
        let Some(dir) = corpus_or_skip(folder, "every_cxml_corpus_file").unwrap() else {
            return;
        };
        for file in files_under(&dir) {
            if folder == "malformed" && file.extension().and_then(|e| e.to_str()) != Some("xml") {
                continue;
            }
            let d = decode(&file);
            assert!(
                !d.documents.is_empty() || !d.rejects.is_empty(),
                "{}: neither documents nor rejects",
                file.display()
            );
            for r in &d.rejects {
                assert!(
                    !r.location.is_empty(),
                    "{}: unlocated {r:?}",
                    file.display()
                );
            }
            seen += 1;
        }
    }
    assert!(seen >= 11, "only {seen} cXML corpus files");
}

#[test]
fn corpus_invoices_decode_to_invoices() {
    let folder = "cxml-invoice";
    let Some(dir) = corpus_or_skip(folder, "corpus_invoices").unwrap() else {
        return;
    };
    let mut invoices = 0;
    for file in files_under(&dir) {
        let d = decode(&file);
        for doc in &d.documents {
            assert!(
                matches!(doc.document, Document::Invoice(_)),
                "{}",
                file.display()
            );
            invoices += 1;
        }
    }
    assert_eq!(
        invoices, 2,
        "two of the three corpus invoices carry a real date"
    );
}

#[test]
fn invoice_with_line_taxes() {
    let Some(f) = corpus_file(
        "cxml-invoice",
        "officeluv__cxml__invoice_taxes_at_line.xml",
        "invoice_with_line_taxes",
    ) else {
        return;
    };
    let d = decode(&f);
    assert!(d.rejects.is_empty(), "{:?}", d.rejects);
    let Document::Invoice(inv) = &d.documents[0].document else {
        panic!("not an invoice")
    };
    assert_eq!(inv.invoice_number.as_deref(), Some("3495"));
    assert_eq!(inv.invoice_date, Some(day("2009-05-01")));
    assert_eq!(inv.purpose, Some(InvoicePurpose::Standard));
    assert_eq!(inv.po_number.as_deref(), Some("123"));
    assert_eq!(inv.currency.as_deref(), Some("USD"));
    assert_eq!(inv.payment_terms.as_ref().unwrap().net_days, Some(30));
    assert_eq!(inv.lines.len(), 1);
    let l = &inv.lines[0];
    assert_eq!(l.line_number, 1);
    assert_eq!(l.quantity, Some(dec("1")));
    assert_eq!(l.uom.as_deref(), Some("EA"));
    assert_eq!(l.unit_price, Some(dec("365")));
    assert_eq!(l.amount, Some(dec("365")));
    assert_eq!(l.po_line_number.as_deref(), Some("1"));
    assert!(
        l.description
            .as_deref()
            .unwrap()
            .starts_with("NEW 1 NINTENDO WII")
    );
    assert_eq!(l.taxes.len(), 1);
    assert_eq!(l.taxes[0].amount, Some(dec("8")));
    assert_eq!(l.taxes[0].rate, Some(dec("8.25")));
    assert_eq!(l.taxes[0].category.as_deref(), Some("CA"));
    assert_eq!(l.taxes[0].taxable_amount, Some(dec("365")));
    assert_eq!(l.taxes[0].description.as_deref(), Some("total tax"));
    assert_eq!(inv.subtotal, Some(dec("365")));
    assert_eq!(inv.tax_total, Some(dec("8")));
    assert!(
        inv.taxes.is_empty(),
        "tax is at line level: {:?}",
        inv.taxes
    );
    let kinds: Vec<_> = inv.charges.iter().map(|c| (c.kind, c.amount)).collect();
    assert_eq!(
        kinds,
        vec![
            (ChargeKind::Shipping, Some(dec("30"))),
            (ChargeKind::Handling, Some(dec("5")))
        ]
    );
    // NetAmount is an empty Money and there is no Due or Gross amount.
    assert_eq!(inv.total, None);

    let meta = &d.documents[0].meta;
    assert_eq!(meta.sender.as_deref(), Some("DUNS:supplierid"));
    assert_eq!(meta.receiver.as_deref(), Some("DUNS:buyerid"));
    assert_eq!(
        meta.source_key.as_deref(),
        Some("1240598937@devtrunk.coupahost.com")
    );
    assert_eq!(
        meta.extra.get("deployment_mode").map(|v| v.as_str()),
        Some("production")
    );
    assert_eq!(
        meta.extra.get("timestamp").map(|v| v.as_str()),
        Some("2009-05-04T01:24:51-07:00")
    );
    let shown = format!("{meta:?} {}", serde_json::to_string(meta).unwrap());
    assert!(
        !shown.contains("secret"),
        "the shared secret leaked: {shown}"
    );
}

#[test]
fn invoice_with_header_taxes() {
    let Some(f) = corpus_file(
        "cxml-invoice",
        "officeluv__cxml__invoice_taxes_at_total.xml",
        "invoice_with_header_taxes",
    ) else {
        return;
    };
    let d = decode(&f);
    assert!(d.rejects.is_empty(), "{:?}", d.rejects);
    let Document::Invoice(inv) = &d.documents[0].document else {
        panic!("not an invoice")
    };
    assert_eq!(inv.invoice_number.as_deref(), Some("3492"));
    assert!(inv.lines[0].taxes.is_empty());
    assert_eq!(inv.taxes.len(), 1);
    assert_eq!(inv.taxes[0].amount, Some(dec("8")));
    assert_eq!(inv.taxes[0].rate, Some(dec("8.25")));
    assert_eq!(inv.tax_total, Some(dec("8")));
}

#[test]
fn placeholder_invoice_date_is_a_located_reject() {
    let Some(f) = corpus_file(
        "cxml-invoice",
        "officeluv__cxml__invoice_taxes_at_line_multiple_taxes.xml",
        "placeholder_invoice_date",
    ) else {
        return;
    };
    let d = decode(&f);
    assert!(d.documents.is_empty());
    assert_eq!(d.rejects.len(), 1);
    let r = &d.rejects[0];
    assert!(
        r.location.starts_with(
            "/cXML/Request/InvoiceDetailRequest/InvoiceDetailRequestHeader/@invoiceDate (line 49, column 13)"
        ),
        "{r:?}"
    );
    assert!(r.message.contains("\"invoice_date\""), "{r:?}");
    assert_eq!(
        r.document.as_deref(),
        Some("payloadID 1240598937@SUBDOMAIN.coupahost.com")
    );
}

struct Want {
    file: &'static str,
    number: &'static str,
    date: &'static str,
    currency: &'static str,
    total: &'static str,
    lines: &'static [(&'static str, &'static str, &'static str)],
}

#[test]
fn corpus_orders_map_number_date_lines_and_total() {
    let wants = [
        Want {
            file: "FriendsOfCXML__cxml-php__builder__order_request.xml",
            number: "myorder-1",
            date: "2022-09-14",
            currency: "USD",
            total: "3420.60",
            lines: &[("3", "763.20", "5555"), ("5", "226.20", "666")],
        },
        Want {
            file: "FriendsOfCXML__cxml-php__handling__order_request.xml",
            number: "acme-1-1",
            date: "2025-01-27",
            currency: "USD",
            total: "10.00",
            lines: &[("1", "10.00", "QA-ACME-AUTOTEST")],
        },
        Want {
            file: "FriendsOfCXML__cxml-php__samples__OrderRequest.xml",
            number: "DO1234",
            date: "2000-10-12",
            currency: "EUR",
            total: "85.00",
            lines: &[("10", "2.10", "1233244"), ("20", "3.20", "1233245")],
        },
        Want {
            file: "officeluv__cxml__purchase_order_request_200.xml",
            number: "6112",
            date: "2008-01-07",
            currency: "USD",
            total: "1505.0",
            lines: &[("1", "1505.0", "223-4511"), ("2", "1505.0", "223-4511")],
        },
    ];
    for w in &wants {
        let Some(f) = corpus_file("cxml-order", w.file, "corpus_orders") else {
            return;
        };
        let d = decode(&f);
        assert!(d.rejects.is_empty(), "{}: {:?}", w.file, d.rejects);
        assert_eq!(d.documents.len(), 1, "{}", w.file);
        let Document::PurchaseOrder(po) = &d.documents[0].document else {
            panic!("{}: not a purchase order", w.file)
        };
        assert_eq!(po.po_number.as_deref(), Some(w.number), "{}", w.file);
        assert_eq!(po.order_date, Some(day(w.date)), "{}", w.file);
        assert_eq!(po.purpose, Some(OrderPurpose::New), "{}", w.file);
        assert_eq!(po.currency.as_deref(), Some(w.currency), "{}", w.file);
        assert_eq!(po.total, Some(dec(w.total)), "{}", w.file);
        assert_eq!(po.lines.len(), w.lines.len(), "{}", w.file);
        for (i, (l, (q, p, part))) in po.lines.iter().zip(w.lines.iter()).enumerate() {
            assert_eq!(l.line_number, i as u32 + 1, "{}", w.file);
            assert_eq!(l.quantity, Some(dec(q)), "{}", w.file);
            assert_eq!(l.unit_price, Some(dec(p)), "{}", w.file);
            assert_eq!(l.uom.as_deref(), Some("EA"), "{}", w.file);
            assert_eq!(l.supplier_part_id.as_deref(), Some(*part), "{}", w.file);
        }
    }
}

#[test]
fn coupa_sample_order_keeps_addresses_comments_and_distribution() {
    let Some(f) = corpus_file(
        "cxml-order",
        "officeluv__cxml__purchase_order_request_200.xml",
        "coupa_sample_order",
    ) else {
        return;
    };
    let d = decode(&f);
    let Document::PurchaseOrder(po) = &d.documents[0].document else {
        panic!("not a purchase order")
    };
    let ship = po.ship_to.as_ref().unwrap();
    assert_eq!(ship.name.as_deref(), Some("jmadden"));
    assert_eq!(ship.id_in("addressID"), Some("3119"));
    assert_eq!(ship.email.as_deref(), Some("jmadden@coupa1.com"));
    assert_eq!(ship.contact.as_deref(), Some("j maddedn"));
    let a = ship.address.as_ref().unwrap();
    assert_eq!(a.lines, vec!["333 East Hill Dr".to_string()]);
    assert_eq!(a.city.as_deref(), Some("san leandro"));
    assert_eq!(a.region.as_deref(), Some("ca"));
    assert_eq!(a.postal_code.as_deref(), Some("22222"));
    assert_eq!(a.country.as_deref(), Some("US"));
    assert_eq!(po.bill_to.as_ref().unwrap().name.as_deref(), Some("SOB1"));
    assert_eq!(
        po.comments.as_deref(),
        Some("header comment goes here if entered by user")
    );
    let cx = &po.extensions["cxml"];
    assert_eq!(cx["parties"]["endUser"]["name"], "j maddedn");
    let line = &po.lines[0].extensions["cxml"];
    assert_eq!(line["supplier_part_auxiliary_id"], "1005379527029\\1");
    assert_eq!(line["classification"][0]["domain"], "UNSPSC");
    assert_eq!(line["distribution"][0]["accounting"], "bbbb");
    assert_eq!(line["distribution"][0]["segments"][1]["type"], "Department");
    assert_eq!(line["distribution"][0]["charge"], "1505.0");
    assert_eq!(
        line["comments"],
        "line item comment goes here if entered by user"
    );
    assert!(d.documents[0].meta.sender.as_deref() == Some("duns:dell"));
}

#[test]
fn ship_notice_and_other_messages_are_located_rejects() {
    let cases = [
        (
            "FriendsOfCXML__cxml-php__ShipNoticeRequest.xml",
            "kind ShipNoticeRequest (ship_notice) is recognised but not yet mapped",
            "/cXML/Request/ShipNoticeRequest",
        ),
        (
            "FriendsOfCXML__cxml-php__poom.xml",
            "Message/PunchOutOrderMessage is not a business document",
            "/cXML/Message/PunchOutOrderMessage",
        ),
        (
            "officeluv__cxml__response_status_200.xml",
            "a cXML Response is a status answer",
            "/cXML/Response",
        ),
    ];
    for (file, message, path) in cases {
        let Some(f) = corpus_file("cxml-other", file, "other_messages") else {
            return;
        };
        let d = decode(&f);
        assert!(d.documents.is_empty(), "{file}");
        assert_eq!(d.rejects.len(), 1, "{file}");
        assert!(
            d.rejects[0].message.contains(message),
            "{file}: {:?}",
            d.rejects[0]
        );
        assert!(
            d.rejects[0].location.starts_with(path),
            "{file}: {:?}",
            d.rejects[0]
        );
    }
}

#[test]
fn confirmation_request_is_recognised_but_not_mapped() {
    let raw = br#"<cXML payloadID="c@x" timestamp="2026-01-01T00:00:00Z"><Header/><Request><ConfirmationRequest><ConfirmationHeader type="accept"/></ConfirmationRequest></Request></cXML>"#;
    let d = CxmlCodec::default().decode(raw, &PartnerProfile::anonymous());
    assert!(d.documents.is_empty());
    assert!(
        d.rejects[0]
            .message
            .contains("kind ConfirmationRequest (order_confirmation)"),
        "{:?}",
        d.rejects
    );
    assert_eq!(d.rejects[0].document.as_deref(), Some("payloadID c@x"));
}

/// The richest corpus invoice, with its placeholder date replaced: partners by role, tax
/// purposes per TaxDetail, discount, Extrinsics, and a round trip that keeps them.
#[test]
fn multiple_taxes_invoice_with_a_real_date_maps_and_round_trips() {
    use gateway_core::Encode;
    let Some(f) = corpus_file(
        "cxml-invoice",
        "officeluv__cxml__invoice_taxes_at_line_multiple_taxes.xml",
        "multiple_taxes_invoice",
    ) else {
        return;
    };
    let raw = std::fs::read_to_string(&f)
        .unwrap()
        .replace("invoiceDate=\"invoice_date\"", "invoiceDate=\"2018-08-06\"");
    let partner = PartnerProfile::from_toml(
        "id = \"kyle\"\n[cxml]\nfrom_domain = \"DUNS\"\nfrom_identity = \"Kyle\"\n\
         to_domain = \"DUNS\"\nto_identity = \"Coupa\"\n",
        "kyle.toml",
    )
    .unwrap();
    let codec = CxmlCodec::default();
    let d = codec.decode(raw.as_bytes(), &partner);
    assert!(d.rejects.is_empty(), "{:?}", d.rejects);
    let Document::Invoice(inv) = &d.documents[0].document else {
        panic!("not an invoice")
    };
    assert_eq!(inv.invoice_date, Some(day("2018-08-06")));
    assert_eq!(inv.po_number, None, "only a MasterAgreementReference");
    let supplier = inv.supplier.as_ref().unwrap();
    assert_eq!(
        supplier.id_in("taxNumber"),
        Some("supplier_tax_registration")
    );
    assert_eq!(supplier.id_in("addressID"), Some("supplier_address_code"));
    assert_eq!(
        supplier.address.as_ref().unwrap().country.as_deref(),
        Some("CA")
    );
    assert_eq!(inv.remit_to.as_ref().unwrap().name.as_deref(), Some("name"));
    assert_eq!(
        inv.bill_to.as_ref().unwrap().contact.as_deref(),
        Some("name")
    );
    assert_eq!(
        inv.ship_to
            .as_ref()
            .unwrap()
            .address
            .as_ref()
            .unwrap()
            .postal_code
            .as_deref(),
        Some("00001")
    );
    let terms = inv.payment_terms.as_ref().unwrap();
    assert_eq!((terms.net_days, terms.discount_days), (Some(1), Some(1)));
    assert_eq!(terms.discount_percent, Some(dec("1")));
    assert_eq!(inv.lines[0].taxes[0].rate, Some(dec("13")));
    assert_eq!(inv.lines[0].taxes[0].category.as_deref(), Some("HST"));
    assert_eq!(inv.taxes.len(), 5);
    assert_eq!(inv.tax_total, None, "the summary Tax Money is empty");
    assert_eq!(
        inv.extensions["cxml"]["tax_purposes"],
        serde_json::json!([
            "tax",
            "specialHandlingTax",
            "specialHandlingTax",
            "shippingTax",
            "shippingTax"
        ])
    );
    assert_eq!(inv.extensions["cxml"]["extrinsic"]["ExchangeRate"], "1");
    assert_eq!(
        inv.extensions["cxml"]["parties"]["shipFrom"]["name"],
        "oiwur"
    );
    assert_eq!(
        inv.lines[0].extensions["cxml"]["extrinsic"]["HSN/SAC"],
        "HSN/SAC value"
    );
    let kinds: Vec<_> = inv.charges.iter().map(|c| (c.kind, c.amount)).collect();
    assert_eq!(
        kinds,
        vec![
            (ChargeKind::Shipping, Some(dec("10"))),
            (ChargeKind::Handling, Some(dec("10"))),
            (ChargeKind::Discount, Some(dec("123")))
        ]
    );

    let docs = vec![d.documents[0].document.clone()];
    let bytes = codec.encode(&docs, &partner).unwrap();
    assert!(String::from_utf8_lossy(&bytes).contains("purpose=\"shippingTax\""));
    let again = codec.decode(&bytes, &partner);
    assert!(again.rejects.is_empty(), "{:?}", again.rejects);
    assert_eq!(again.documents[0].document, docs[0]);
}
