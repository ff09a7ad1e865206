//! Mapping against hand-written expected JSON (`tests/data/`): canonical invoice → Coupa
//! invoice JSON, Coupa PO JSON → canonical purchase order.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use adapter_coupa::mapping::supplier_ref_from_party;
use adapter_coupa::{
    CoupaError, InvoiceMapping, SupplierKey, invoice_to_coupa, purchase_order_from_coupa,
};
use gateway_model::{Document, Party, PartyId, from_json};
use serde_json::Value;

fn data(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn invoice(name: &str) -> gateway_model::Invoice {
    match from_json(&data(name)).unwrap() {
        Document::Invoice(i) => i,
        other => panic!("not an invoice: {other:?}"),
    }
}

#[test]
fn invoice_with_header_tax_and_charges() {
    let inv = invoice("invoice.canonical.json");
    let opts = InvoiceMapping {
        account_type: Some("US COA".into()),
    };
    let got = invoice_to_coupa(&inv, &SupplierKey::Id(7), &opts).unwrap();
    let want: Value = serde_json::from_slice(&data("invoice.coupa.json")).unwrap();
    assert_eq!(
        got,
        want,
        "got:\n{}",
        serde_json::to_string_pretty(&got).unwrap()
    );
}

#[test]
fn credit_note_with_line_level_tax() {
    let inv = invoice("invoice-line-tax.canonical.json");
    let got = invoice_to_coupa(
        &inv,
        &SupplierKey::Number("HG-1".into()),
        &InvoiceMapping::default(),
    )
    .unwrap();
    let want: Value = serde_json::from_slice(&data("invoice-line-tax.coupa.json")).unwrap();
    assert_eq!(
        got,
        want,
        "got:\n{}",
        serde_json::to_string_pretty(&got).unwrap()
    );
}

#[test]
fn invoice_without_number_or_date_cannot_be_mapped() {
    let mut inv = invoice("invoice.canonical.json");
    inv.invoice_number = None;
    let err = invoice_to_coupa(&inv, &SupplierKey::Id(1), &InvoiceMapping::default()).unwrap_err();
    assert!(matches!(err, CoupaError::Mapping(m) if m.contains("invoice_number")));
    let mut inv = invoice("invoice.canonical.json");
    inv.invoice_date = None;
    assert!(invoice_to_coupa(&inv, &SupplierKey::Id(1), &InvoiceMapping::default()).is_err());
}

#[test]
fn purchase_order_from_coupa_json() {
    let po: Value = serde_json::from_slice(&data("po.coupa.json")).unwrap();
    let got = Document::PurchaseOrder(purchase_order_from_coupa(&po).unwrap());
    let want = from_json(&data("po.canonical.json")).unwrap();
    assert_eq!(got, want, "got:\n{}", gateway_model::to_json(&got));
}

/// Coupa's `shipping-term` (`{"id", "code"}`) is the order's shipping terms, by its code, as
/// `payment-term` is its payment terms: without it a supplier never learned the delivery
/// terms. A PO without one has none, and a blank code is no code.
#[test]
fn a_pos_shipping_term_is_its_shipping_terms() {
    let mut po: Value = serde_json::from_slice(&data("po.coupa.json")).unwrap();
    let got = purchase_order_from_coupa(&po).unwrap().shipping_terms;
    assert_eq!(got.and_then(|t| t.code).as_deref(), Some("FOB Destination"));
    po["shipping-term"]["code"] = Value::String("  ".into());
    assert_eq!(purchase_order_from_coupa(&po).unwrap().shipping_terms, None);
    po.as_object_mut().unwrap().remove("shipping-term");
    assert_eq!(purchase_order_from_coupa(&po).unwrap().shipping_terms, None);
}

#[test]
fn purchase_order_bad_decimal_is_located() {
    let mut po: Value = serde_json::from_slice(&data("po.coupa.json")).unwrap();
    po["order-lines"][1]["price"] = Value::String("5OO.00".into());
    let err = purchase_order_from_coupa(&po).unwrap_err();
    assert!(
        matches!(&err, CoupaError::Mapping(m) if m.contains("order-lines[1]/price")),
        "{err}"
    );
    assert!(purchase_order_from_coupa(&Value::Array(vec![])).is_err());
}

#[test]
fn cancelled_and_first_version_purposes() {
    let mut po: Value = serde_json::from_slice(&data("po.coupa.json")).unwrap();
    po["version"] = 1.into();
    assert_eq!(
        purchase_order_from_coupa(&po).unwrap().purpose,
        Some(gateway_model::OrderPurpose::New)
    );
    po["status"] = "cancelled".into();
    assert_eq!(
        purchase_order_from_coupa(&po).unwrap().purpose,
        Some(gateway_model::OrderPurpose::Cancel)
    );
}

#[test]
fn supplier_reference_from_party_ids() {
    let party = |ids: &[(&str, &str)], name: Option<&str>| Party {
        name: name.map(Into::into),
        ids: ids
            .iter()
            .map(|(d, v)| PartyId {
                domain: (*d).into(),
                value: (*v).into(),
            })
            .collect(),
        ..Party::default()
    };
    let r = supplier_ref_from_party(&party(&[("coupa", "84")], Some("Acme"))).unwrap();
    assert_eq!(
        (r.id, r.number.as_deref(), r.name.as_deref()),
        (Some(84), None, Some("Acme"))
    );
    let r = supplier_ref_from_party(&party(&[("coupa", "SUP-001")], None)).unwrap();
    assert_eq!((r.id, r.number.as_deref()), (None, Some("SUP-001")));
    let r = supplier_ref_from_party(&party(&[("DUNS", "1234")], Some("Acme"))).unwrap();
    assert_eq!((r.id, r.name.as_deref()), (None, Some("Acme")));
    assert!(supplier_ref_from_party(&party(&[("DUNS", "1")], None)).is_none());
}

/// A credit memo names the invoice it corrects; Coupa takes it as `original-invoice-number`
/// and `original-invoice-date`, so AP sees the credit note linked (it used to arrive without).
/// The memo is the cXML golden sample's canonical JSON (`InvoiceIDInfo invoiceID="INV-2026-0031"
/// invoiceDate="2026-03-01T09:00:00-05:00"`), and an X12 memo's `REF*OI`.
#[test]
fn a_credit_memo_names_the_invoice_it_corrects() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../samples/cxml/invoice/credit_memo.canonical.json"
    );
    let Document::Invoice(memo) = from_json(&std::fs::read(path).unwrap()).unwrap() else {
        panic!("not an invoice")
    };
    let got = invoice_to_coupa(&memo, &SupplierKey::Id(7), &InvoiceMapping::default()).unwrap();
    assert_eq!(got["is-credit-note"], true);
    assert_eq!(got["original-invoice-number"], "INV-2026-0031");
    assert_eq!(got["original-invoice-date"], "2026-03-01");

    let mut x12 = memo.clone();
    x12.extensions =
        serde_json::from_str(r#"{"x12": {"segments": [["REF", "OI", "INV-0042"]]}}"#).unwrap();
    let got = invoice_to_coupa(&x12, &SupplierKey::Id(7), &InvoiceMapping::default()).unwrap();
    assert_eq!(got["original-invoice-number"], "INV-0042");
    assert!(got.get("original-invoice-date").is_none());

    // A standard invoice names none, whatever it carries.
    let mut standard = memo;
    standard.purpose = Some(gateway_model::InvoicePurpose::Standard);
    let got = invoice_to_coupa(&standard, &SupplierKey::Id(7), &InvoiceMapping::default()).unwrap();
    assert!(got.get("original-invoice-number").is_none());
}

/// Coupa's invoice lines carry no charge: each line charge is said to be in the header amount
/// it was counted in (the delivery logs it), and what cannot be sent at all is named.
#[test]
fn where_line_charges_went_and_what_is_not_sent() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../samples/cxml/invoice/rich.canonical.json"
    );
    let Document::Invoice(mut inv) = from_json(&std::fs::read(path).unwrap()).unwrap() else {
        panic!("not an invoice")
    };
    assert_eq!(
        adapter_coupa::mapping::line_charges_at_header(&inv),
        vec!["line 2 discount 4.50 is in Coupa's misc-amount"]
    );
    assert!(adapter_coupa::mapping::not_sent(&inv).is_empty());

    // A charge given by a rate alone, and a header tax beside the lines' taxes, are not sent.
    inv.lines[0].charges.push(gateway_model::Charge {
        kind: gateway_model::ChargeKind::Handling,
        amount: None,
        rate: Some("2".parse().unwrap()),
        category: None,
        description: None,
        code: None,
    });
    inv.taxes.push(gateway_model::Tax {
        amount: Some("1.25".parse().unwrap()),
        ..gateway_model::Tax::default()
    });
    assert_eq!(
        adapter_coupa::mapping::not_sent(&inv),
        vec![
            "line 1 handling at rate 2 has no amount and is not sent".to_string(),
            "header tax 1.25 is not sent: the lines carry taxes (line-level taxation), and \
             Coupa takes a header tax amount only without them"
                .to_string(),
        ]
    );
}

/// A discount reduces the total by its amount, also when written negative (as the model's
/// validation counts it): it used to reach Coupa as a positive misc amount.
#[test]
fn a_discount_written_negative_still_reduces_the_total() {
    let mut inv = invoice("invoice.canonical.json");
    let want = invoice_to_coupa(&inv, &SupplierKey::Id(7), &InvoiceMapping::default()).unwrap();
    assert_eq!(want["misc-amount"], "-10.00");
    for c in &mut inv.charges {
        if c.kind == gateway_model::ChargeKind::Discount {
            c.amount = c.amount.map(|a| -a);
        }
    }
    let got = invoice_to_coupa(&inv, &SupplierKey::Id(7), &InvoiceMapping::default()).unwrap();
    assert_eq!(got, want);
}

/// An invoice billing two POs: each line names the PO it bills, so Coupa matches it against
/// that PO's lines (every line carried the header's PO).
#[test]
fn a_line_billing_another_po_names_that_po() {
    let mut inv = invoice("invoice.canonical.json");
    assert!(inv.lines.len() >= 2, "the sample has two lines");
    let header_po = inv.po_number.clone().unwrap_or_default();
    assert!(!header_po.is_empty());
    inv.lines[1].po_number = Some("PO-OTHER-9".into());
    let got = invoice_to_coupa(&inv, &SupplierKey::Id(7), &InvoiceMapping::default()).unwrap();
    let pos: Vec<&str> = got["invoice-lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["po-number"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(pos[0], header_po.as_str());
    assert_eq!(pos[1], "PO-OTHER-9");
}

/// A tax given only as the invoice's total (a cXML summary `Tax` without `TaxDetail`, JSON
/// `tax_total` alone) reaches Coupa as its `tax-amount`: it was dropped, and Coupa's parts
/// fell 8.00 short of the total the supplier billed.
#[test]
fn a_tax_given_only_as_the_total_is_sent_as_the_tax_amount() {
    let mut inv = invoice("invoice.canonical.json");
    inv.taxes.clear();
    for l in &mut inv.lines {
        l.taxes.clear();
    }
    inv.tax_total = Some("8.00".parse().unwrap());
    let got = invoice_to_coupa(&inv, &SupplierKey::Id(7), &InvoiceMapping::default()).unwrap();
    assert_eq!(got["tax-amount"], "8.00");
    assert_eq!(got["line-level-taxation"], false);
    // With taxes on the lines, the total restates them: the lines carry them, not the header.
    inv.lines[0].taxes.push(gateway_model::Tax {
        amount: Some("8.00".parse().unwrap()),
        ..Default::default()
    });
    let got = invoice_to_coupa(&inv, &SupplierKey::Id(7), &InvoiceMapping::default()).unwrap();
    assert!(got.get("tax-amount").is_none(), "{got}");
    assert_eq!(got["line-level-taxation"], true);
}

/// A remit-to named only by its code (`<Contact role="remitTo" addressID="RT-LOCKBOX-7">`, as
/// Coupa's own cXML sample names it) reaches Coupa as the remit-to's code: it was dropped, and
/// the payment would go to the supplier's default remit-to.
#[test]
fn a_remit_to_named_by_its_code_is_sent_as_the_remit_to_code() {
    let mut inv = invoice("invoice.canonical.json");
    inv.remit_to = Some(Party {
        ids: vec![PartyId {
            domain: "addressID".into(),
            value: "RT-LOCKBOX-7".into(),
        }],
        ..Party::default()
    });
    let got = invoice_to_coupa(&inv, &SupplierKey::Id(7), &InvoiceMapping::default()).unwrap();
    assert_eq!(
        got["remit-to-address"],
        serde_json::json!({"remit-to-code": "RT-LOCKBOX-7"})
    );
    // A party with neither address nor code sends nothing.
    inv.remit_to = Some(Party {
        name: Some("Lockbox".into()),
        ..Party::default()
    });
    let got = invoice_to_coupa(&inv, &SupplierKey::Id(7), &InvoiceMapping::default()).unwrap();
    assert!(got.get("remit-to-address").is_none(), "{got}");
}
