//! Mapping against hand-written expected JSON (`tests/data/`): canonical invoice → Coupa
//! invoice JSON, Coupa PO JSON → canonical purchase order.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use adapter_coupa::mapping::supplier_ref_from_party;
use adapter_coupa::{
    CoupaError, InvoiceMapping, SupplierKey, invoice_to_coupa, purchase_order_from_coupa,
};
use gateway_model::{Document, Party, PartyId, from_json};
use serde_json::{Value, json};

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
    let err = invoice_to_coupa(&inv, &SupplierKey::Id(7), &InvoiceMapping::default()).unwrap_err();
    assert!(matches!(err, CoupaError::Mapping(m) if m.contains("invoice_number")));
    let mut inv = invoice("invoice.canonical.json");
    inv.invoice_date = None;
    assert!(invoice_to_coupa(&inv, &SupplierKey::Id(7), &InvoiceMapping::default()).is_err());
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

/// The PO's payment terms as `purchase_order_from_coupa` reads `term` (its `payment-term`).
fn terms_of(term: Value) -> Option<gateway_model::PaymentTerms> {
    let mut po: Value = serde_json::from_slice(&data("po.coupa.json")).unwrap();
    po["payment-term"] = term;
    purchase_order_from_coupa(&po).unwrap().payment_terms
}

/// `(description, net_days, discount_percent, discount_days)`.
type Terms = (Option<String>, Option<u32>, Option<String>, Option<u32>);

fn flat(t: Option<gateway_model::PaymentTerms>) -> Option<Terms> {
    t.map(|t| {
        (
            t.description.map(|d| d.to_string()),
            t.net_days,
            t.discount_percent.map(|p| p.to_string()),
            t.discount_days,
        )
    })
}

fn terms(code: &str, net: Option<u32>, percent: Option<&str>, days: Option<u32>) -> Option<Terms> {
    Some((Some(code.into()), net, percent.map(str::to_string), days))
}

/// A Coupa payment-term code in the usual forms (`2/10 Net 45`, `Net 30`) gives the model's
/// discount and net days, so every supplier format gets the discount, not only its text (the
/// QA tester's `2/10 Net 45` reached a cXML supplier as `payInNumberOfDays="45"` alone). Any
/// other code is the description only: days are not guessed.
#[test]
fn a_payment_term_code_in_the_usual_forms_gives_its_discount_and_days() {
    for (code, want) in [
        (
            "2/10 Net 45",
            terms("2/10 Net 45", Some(45), Some("2"), Some(10)),
        ),
        (
            "1.5/15, Net 60",
            terms("1.5/15, Net 60", Some(60), Some("1.5"), Some(15)),
        ),
        (
            "2%/10 net 30",
            terms("2%/10 net 30", Some(30), Some("2"), Some(10)),
        ),
        ("Net 30", terms("Net 30", Some(30), None, None)),
        ("NET45", terms("NET45", Some(45), None, None)),
        ("Net-60 days", terms("Net-60 days", Some(60), None, None)),
        ("Immediate", terms("Immediate", None, None, None)),
        ("Net 30 EOM", terms("Net 30 EOM", None, None, None)),
        ("2/10 EOM", terms("2/10 EOM", None, None, None)),
        ("2% 10 Net 30", terms("2% 10 Net 30", None, None, None)),
        ("0/10 Net 30", terms("0/10 Net 30", None, None, None)),
        ("100/10 Net 30", terms("100/10 Net 30", None, None, None)),
        ("2/ten Net 30", terms("2/ten Net 30", None, None, None)),
        ("Cabinet 30", terms("Cabinet 30", None, None, None)),
        (
            "Net 99999999999",
            terms("Net 99999999999", None, None, None),
        ),
    ] {
        assert_eq!(
            flat(terms_of(json!({"id": 5, "code": code}))),
            want,
            "{code:?}"
        );
    }
    assert_eq!(terms_of(json!({"id": 5, "code": " "})), None);
    assert_eq!(terms_of(Value::Null), None);
}

/// Coupa's own fields of the payment term, when the record has them, give the days and the
/// discount (a JSON number or a decimal string), over what its code would say; a rate of zero
/// is no discount, and then the code is read; a rate that is not a percent is refused at its
/// path.
#[test]
fn a_payment_terms_own_fields_win_over_its_code() {
    let got = terms_of(json!({
        "id": 3, "code": "2/10 Net 30", "days-for-net-payment": 30,
        "days-for-discount-payment": 10, "discount-rate": 2.0
    }));
    assert_eq!(
        flat(got),
        terms("2/10 Net 30", Some(30), Some("2.0"), Some(10))
    );
    let got = terms_of(json!({
        "code": "Special", "days-for-net-payment": "60",
        "days-for-discount-payment": "15", "discount-rate": "1.25"
    }));
    assert_eq!(
        flat(got),
        terms("Special", Some(60), Some("1.25"), Some(15))
    );
    // The record says net 15 and no discount: its code is not read for one.
    let got = terms_of(json!({
        "code": "2/10 Net 30", "days-for-net-payment": 15,
        "days-for-discount-payment": null, "discount-rate": null
    }));
    assert_eq!(flat(got), terms("2/10 Net 30", Some(15), None, None));
    // A zero rate and no days say nothing: the code is read.
    let got = terms_of(json!({
        "code": "2/10 Net 45", "days-for-net-payment": null,
        "days-for-discount-payment": 0, "discount-rate": "0.0"
    }));
    assert_eq!(
        flat(got),
        terms("2/10 Net 45", Some(45), Some("2"), Some(10))
    );

    for (term, path) in [
        (
            json!({"code": "x", "discount-rate": "-2"}),
            "payment-term/discount-rate",
        ),
        (
            json!({"code": "x", "discount-rate": "two"}),
            "payment-term/discount-rate",
        ),
        (
            json!({"code": "x", "days-for-net-payment": 1.5}),
            "payment-term/days-for-net-payment",
        ),
        (
            json!({"code": "x", "days-for-discount-payment": "-1", "discount-rate": 2}),
            "payment-term/days-for-discount-payment",
        ),
    ] {
        let mut po: Value = serde_json::from_slice(&data("po.coupa.json")).unwrap();
        po["payment-term"] = term.clone();
        let err = purchase_order_from_coupa(&po).unwrap_err();
        assert!(
            matches!(&err, CoupaError::Mapping(m) if m.starts_with(path)),
            "{term}: {err}"
        );
    }
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

/// QA 14b item 7: a line's `supp-aux-part-num` (the supplier's key of a punch-out item) is
/// the line's supplier auxiliary part id, which every supplier format's writer reads
/// (`gateway_core::supplier_part_auxiliary_id`): as text, trimmed, also when Coupa sends a
/// number; a blank or null one is none.
#[test]
fn a_lines_supp_aux_part_num_is_its_supplier_auxiliary_part_id() {
    use gateway_core::supplier_part_auxiliary_id;
    let mut po: Value = serde_json::from_slice(&data("po.coupa.json")).unwrap();
    po["order-lines"][0]["supp-aux-part-num"] = " AUX-9 ".into();
    po["order-lines"][1]["supp-aux-part-num"] = 1005379527.into();
    let got = purchase_order_from_coupa(&po).unwrap();
    let aux = |k: usize| supplier_part_auxiliary_id(&got.lines[k].extensions);
    assert_eq!(aux(0), Some(("coupa", "AUX-9")));
    assert_eq!(aux(1), Some(("coupa", "1005379527")));
    for blank in [Value::Null, "  ".into()] {
        po["order-lines"][0]["supp-aux-part-num"] = blank;
        let got = purchase_order_from_coupa(&po).unwrap();
        assert_eq!(supplier_part_auxiliary_id(&got.lines[0].extensions), None);
    }
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

/// QA's j_rateonly.json: a header tax given by its rate alone beside the invoice's tax total
/// (`"taxes": [{"rate": "8.25", "category": "sales"}]`, `"tax_total": "17.74"`) reaches Coupa
/// with the tax billed as its amount, and its rate. It went as the rate alone: Coupa held no
/// tax amount, and its parts fell 17.74 short of the supplier total.
#[test]
fn a_header_tax_given_by_its_rate_is_sent_with_the_tax_total_as_its_amount() {
    let mut inv = invoice("invoice.canonical.json");
    inv.taxes = vec![gateway_model::Tax {
        rate: Some("8.25".parse().unwrap()),
        category: Some("sales".into()),
        ..Default::default()
    }];
    inv.tax_total = Some("17.74".parse().unwrap());
    let got = invoice_to_coupa(&inv, &SupplierKey::Id(7), &InvoiceMapping::default()).unwrap();
    assert_eq!(got["tax-amount"], "17.74", "{got:#}");
    assert_eq!(got["tax-rate"], "8.25", "{got:#}");
    assert!(adapter_coupa::mapping::not_sent(&inv).is_empty());

    // Beside a tax with its amount, the tax total still gives what both bill.
    inv.taxes.push(gateway_model::Tax {
        amount: Some("2.00".parse().unwrap()),
        ..Default::default()
    });
    inv.tax_total = Some("19.74".parse().unwrap());
    let got = invoice_to_coupa(&inv, &SupplierKey::Id(7), &InvoiceMapping::default()).unwrap();
    assert_eq!(got["tax-amount"], "19.74", "{got:#}");

    // Without a tax total nothing gives the rate's amount: the amounts known are sent, and
    // the delivery's log names the tax whose amount is not.
    inv.tax_total = None;
    let got = invoice_to_coupa(&inv, &SupplierKey::Id(7), &InvoiceMapping::default()).unwrap();
    assert_eq!(got["tax-amount"], "2.00", "{got:#}");
    assert_eq!(
        adapter_coupa::mapping::not_sent(&inv),
        vec![
            "the invoice's tax at rate 8.25 (sales) has no amount, nor does the invoice give \
             its tax total: no amount of it is sent"
                .to_string()
        ]
    );

    // A line's tax by its rate alone: Coupa's tax line carries the rate only, and the log
    // says so.
    let mut inv = invoice("invoice.canonical.json");
    inv.taxes.clear();
    inv.lines[0].taxes.push(gateway_model::Tax {
        rate: Some("8.25".parse().unwrap()),
        ..Default::default()
    });
    assert_eq!(
        adapter_coupa::mapping::not_sent(&inv),
        vec!["line 1's tax at rate 8.25 has no amount: Coupa is sent its rate only".to_string()]
    );
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

/// QA (qaC f5 item 3): an invoice's payment terms without a description (X12
/// `ITD*01*3*2**10**30`, cXML `PaymentTerm`s of 10 days at 2 % and of 30 days: net 30, 2 % in
/// 10) reached Coupa without a payment-term and nothing said so. They are sent as Coupa's
/// usual code; terms no code can say are named among what Coupa was not sent.
#[test]
fn payment_terms_without_a_description_go_as_their_code_or_are_named_not_sent() {
    let mut inv = invoice("invoice.canonical.json");
    inv.payment_terms = Some(gateway_model::PaymentTerms {
        description: None,
        net_days: Some(30),
        discount_percent: Some("2".parse().unwrap()),
        discount_days: Some(10),
    });
    let got = invoice_to_coupa(&inv, &SupplierKey::Id(7), &InvoiceMapping::default()).unwrap();
    assert_eq!(got["payment-term"], json!({"code": "2/10 Net 30"}));
    assert!(adapter_coupa::mapping::not_sent(&inv).is_empty());

    inv.payment_terms = Some(gateway_model::PaymentTerms {
        net_days: None,
        ..inv.payment_terms.clone().unwrap()
    });
    let got = invoice_to_coupa(&inv, &SupplierKey::Id(7), &InvoiceMapping::default()).unwrap();
    assert!(got.get("payment-term").is_none(), "{got}");
    let lost = adapter_coupa::mapping::not_sent(&inv);
    assert_eq!(lost.len(), 1, "{lost:?}");
    assert!(
        lost[0].starts_with("payment terms (discount 2%, discount days 10, no net days)")
            && lost[0].contains("no payment-term was sent"),
        "{lost:?}"
    );
}
