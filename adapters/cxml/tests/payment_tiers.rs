//! Payment terms of several tiers (3% in 10 days, 1% in 20, net 45; a `DiscountAmount`
//! tier): the model holds one discount tier (the first whole percent tier) and the net term;
//! every other `PaymentTerm` is kept in `extensions.cxml.payment_terms` and written back in
//! its place, so cXML → canonical → cXML → canonical changes nothing and the written cXML has
//! every tier. Found by QA: only the last discount tier survived, even cXML to cXML, and a
//! `DiscountAmount` tier was dropped.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use adapter_cxml::CxmlCodec;
use gateway_core::testkit::repo_root;
use gateway_core::{Decode, Encode, PartnerProfile};
use gateway_model::{Document, PaymentTerms};
use serde_json::{Value, json};

const INVOICE: &str = "samples/cxml/invoice/rich";
const ORDER: &str = "samples/cxml/purchase_order/rich";

/// The invoice sample's terms (2% in 10 days, net 30).
const INVOICE_TERMS: &str = r#"<PaymentTerm payInNumberOfDays="10">
          <Discount>
            <DiscountPercent percent="2"/>
          </Discount>
        </PaymentTerm>
        <PaymentTerm payInNumberOfDays="30"/>"#;
/// The order sample's terms (net 45).
const ORDER_TERMS: &str = r#"<PaymentTerm payInNumberOfDays="45"/>"#;

const THREE_PERCENT_10: &str = r#"<PaymentTerm payInNumberOfDays="10"><Discount><DiscountPercent percent="3"/></Discount></PaymentTerm>"#;
const ONE_PERCENT_20: &str = r#"<PaymentTerm payInNumberOfDays="20"><Discount><DiscountPercent percent="1"/></Discount></PaymentTerm>"#;
const AMOUNT_10: &str = r#"<PaymentTerm payInNumberOfDays="10"><Discount><DiscountAmount><Money currency="USD">7.25</Money></DiscountAmount></Discount></PaymentTerm>"#;
const NET_45: &str = r#"<PaymentTerm payInNumberOfDays="45"/>"#;

fn read(path: &str) -> String {
    std::fs::read_to_string(repo_root().join(path)).unwrap()
}

fn partner(sample: &str) -> PartnerProfile {
    PartnerProfile::from_toml(&read(&format!("{sample}.partner.toml")), "p.toml").unwrap()
}

/// The sample with its terms (`old`) replaced by `terms`.
fn with_terms(sample: &str, old: &str, terms: &str) -> String {
    let xml = read(&format!("{sample}.xml"));
    assert_eq!(xml.matches(old).count(), 1, "{sample}");
    xml.replacen(old, terms, 1)
}

fn decode(xml: &[u8], partner: &PartnerProfile) -> Document {
    let d = CxmlCodec::new().decode(xml, partner);
    assert!(d.rejects.is_empty(), "{:?}", d.rejects);
    assert_eq!(d.documents.len(), 1);
    d.documents.into_iter().next().unwrap().document
}

/// Decodes `xml`, writes it as cXML and reads that back: the document must be the same.
/// Returns the first document and the written cXML.
fn round_trip(xml: &str, partner: &PartnerProfile) -> (Document, String) {
    let first = decode(xml.as_bytes(), partner);
    let bytes = CxmlCodec::new()
        .encode(std::slice::from_ref(&first), partner)
        .unwrap();
    let written = String::from_utf8(bytes).unwrap();
    let again = decode(written.as_bytes(), partner);
    assert_eq!(
        again, first,
        "cXML -> canonical -> cXML -> canonical\n{written}"
    );
    (first, written)
}

fn terms(doc: &Document) -> Option<&PaymentTerms> {
    match doc {
        Document::Invoice(i) => i.payment_terms.as_ref(),
        Document::PurchaseOrder(p) => p.payment_terms.as_ref(),
    }
}

fn kept(doc: &Document) -> Option<&Value> {
    doc.extensions()
        .get("cxml")
        .and_then(|c| c.get("payment_terms"))
}

/// The `PaymentTerm` elements of `xml`, the whitespace between elements removed.
fn written_terms(xml: &str) -> Vec<String> {
    let flat = xml
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace("> <", "><");
    let mut out = Vec::new();
    let mut rest = flat.as_str();
    while let Some(at) = rest.find("<PaymentTerm") {
        let tail = &rest[at..];
        let tag_end = tail.find('>').unwrap();
        let end = if tail[..tag_end].ends_with('/') {
            tag_end + 1
        } else {
            tail.find("</PaymentTerm>").unwrap() + "</PaymentTerm>".len()
        };
        out.push(tail[..end].to_string());
        rest = &tail[end..];
    }
    out
}

fn dec(s: &str) -> Option<rust_decimal::Decimal> {
    Some(s.parse().unwrap())
}

#[test]
fn every_discount_tier_is_kept_and_written_back_in_its_place() {
    let partner = partner(INVOICE);
    let xml = with_terms(
        INVOICE,
        INVOICE_TERMS,
        &[THREE_PERCENT_10, ONE_PERCENT_20, NET_45].join("\n"),
    );
    let (doc, written) = round_trip(&xml, &partner);
    // The first tier is the model's: the best discount, the one taken as "the" discount.
    assert_eq!(
        terms(&doc),
        Some(&PaymentTerms {
            net_days: Some(45),
            discount_percent: dec("3"),
            discount_days: Some(10),
            description: None,
        })
    );
    assert_eq!(
        kept(&doc),
        Some(&json!([
            "discount",
            {
                "element": "PaymentTerm",
                "attributes": {"payInNumberOfDays": "20"},
                "children": [{
                    "element": "Discount",
                    "children": [{"element": "DiscountPercent", "attributes": {"percent": "1"}}]
                }]
            },
            "net"
        ]))
    );
    assert_eq!(
        written_terms(&written),
        [THREE_PERCENT_10, ONE_PERCENT_20, NET_45],
        "{written}"
    );
}

#[test]
fn a_discount_amount_tier_is_kept_and_written_back() {
    let partner = partner(INVOICE);
    let xml = with_terms(
        INVOICE,
        INVOICE_TERMS,
        &[AMOUNT_10, ONE_PERCENT_20, NET_45].join("\n"),
    );
    let (doc, written) = round_trip(&xml, &partner);
    // The model holds a percent: the amount tier is kept, the percent tier is the model's.
    assert_eq!(
        terms(&doc),
        Some(&PaymentTerms {
            net_days: Some(45),
            discount_percent: dec("1"),
            discount_days: Some(20),
            description: None,
        })
    );
    let kept = kept(&doc).unwrap();
    assert_eq!(
        kept[0]["children"][0]["children"][0]["element"],
        "DiscountAmount"
    );
    assert_eq!(kept[1], "discount");
    assert_eq!(kept[2], "net");
    assert_eq!(
        written_terms(&written),
        [AMOUNT_10, ONE_PERCENT_20, NET_45],
        "{written}"
    );
}

#[test]
fn an_orders_further_tiers_are_kept_too() {
    let partner = partner(ORDER);
    let net_60 = r#"<PaymentTerm payInNumberOfDays="60"><Extrinsic name="description">Net 60</Extrinsic></PaymentTerm>"#;
    let xml = with_terms(
        ORDER,
        ORDER_TERMS,
        &[NET_45, THREE_PERCENT_10, net_60, ONE_PERCENT_20].join("\n"),
    );
    let (doc, written) = round_trip(&xml, &partner);
    assert_eq!(
        terms(&doc),
        Some(&PaymentTerms {
            net_days: Some(45),
            discount_percent: dec("3"),
            discount_days: Some(10),
            description: None,
        })
    );
    assert_eq!(
        written_terms(&written),
        [NET_45, THREE_PERCENT_10, net_60, ONE_PERCENT_20],
        "{written}"
    );
}

/// The invoice-only form, `InvoiceDetailPaymentTerm` (a rate of 0 is the net term): its tiers
/// are chosen and kept the same way, as the `PaymentTerm`s the writer writes for them.
#[test]
fn invoice_detail_payment_term_tiers_are_kept_too() {
    let partner = partner(INVOICE);
    let xml = with_terms(
        INVOICE,
        INVOICE_TERMS,
        r#"<InvoiceDetailPaymentTerm payInNumberofDays="10" percentageRate="3"/>
        <InvoiceDetailPaymentTerm payInNumberofDays="20" percentageRate="1"/>
        <InvoiceDetailPaymentTerm payInNumberofDays="45" percentageRate="0"/>"#,
    );
    let (doc, written) = round_trip(&xml, &partner);
    assert_eq!(
        terms(&doc),
        Some(&PaymentTerms {
            net_days: Some(45),
            discount_percent: dec("3"),
            discount_days: Some(10),
            description: None,
        })
    );
    assert_eq!(
        written_terms(&written),
        [THREE_PERCENT_10, ONE_PERCENT_20, NET_45],
        "{written}"
    );
}

/// One discount tier and one net term are all the model's: nothing is kept for them (the
/// golden samples' canonical JSON has no `payment_terms` extension).
#[test]
fn terms_the_model_holds_whole_keep_nothing() {
    for (sample, old, new) in [
        (INVOICE, INVOICE_TERMS, INVOICE_TERMS),
        (ORDER, ORDER_TERMS, ORDER_TERMS),
        (INVOICE, INVOICE_TERMS, NET_45),
    ] {
        let (doc, _) = round_trip(&with_terms(sample, old, new), &partner(sample));
        assert!(terms(&doc).is_some(), "{sample}");
        assert_eq!(kept(&doc), None, "{sample}");
    }
}

/// Term sets a sender should not send (terms without their days, a Discount of nothing,
/// only amount tiers): what the model takes is chosen so that it is the model's again once
/// written, and the rest comes back where it was.
#[test]
fn odd_term_sets_read_back_as_they_were_read() {
    let partner = partner(INVOICE);
    let immediate =
        r#"<PaymentTerm><Extrinsic name="description">Immediate</Extrinsic></PaymentTerm>"#;
    let net_30 = r#"<PaymentTerm payInNumberOfDays="30"/>"#;
    let bare_discount = r#"<PaymentTerm payInNumberOfDays="10"><Discount/></PaymentTerm>"#;
    let three_no_days =
        r#"<PaymentTerm><Discount><DiscountPercent percent="3"/></Discount></PaymentTerm>"#;
    let one_no_days =
        r#"<PaymentTerm><Discount><DiscountPercent percent="1"/></Discount></PaymentTerm>"#;
    let misspelt = r#"<PaymentTerm payInNbmreuOfDays="30"/>"#;
    let amount_20 = AMOUNT_10.replace(r#""10""#, r#""20""#);
    // (the terms, the model's, the terms written back as they came: the kept ones)
    let cases: Vec<(Vec<&str>, Option<PaymentTerms>, Vec<&str>)> = vec![
        // The net term with days is the model's; the one without is kept.
        (
            vec![immediate, net_30],
            Some(PaymentTerms {
                net_days: Some(30),
                ..PaymentTerms::default()
            }),
            vec![immediate, net_30],
        ),
        // One net term without days: its description, as before.
        (
            vec![immediate],
            Some(PaymentTerms {
                description: Some("Immediate".into()),
                ..PaymentTerms::default()
            }),
            vec![],
        ),
        // A whole tier wins over a Discount of nothing before it.
        (
            vec![bare_discount, ONE_PERCENT_20],
            Some(PaymentTerms {
                discount_percent: dec("1"),
                discount_days: Some(20),
                ..PaymentTerms::default()
            }),
            vec![bare_discount, ONE_PERCENT_20],
        ),
        // One half tier alone: the half, as before.
        (
            vec![three_no_days, NET_45],
            Some(PaymentTerms {
                net_days: Some(45),
                discount_percent: dec("3"),
                ..PaymentTerms::default()
            }),
            vec![NET_45],
        ),
        // Two half tiers: neither is the model's; both are kept.
        (
            vec![three_no_days, one_no_days, NET_45],
            Some(PaymentTerms {
                net_days: Some(45),
                ..PaymentTerms::default()
            }),
            vec![three_no_days, one_no_days, NET_45],
        ),
        // A term the model holds nothing of (its required attribute misspelt): kept whole.
        (vec![misspelt], None, vec![misspelt]),
        (vec![misspelt, AMOUNT_10], None, vec![misspelt, AMOUNT_10]),
        // Only amount tiers: no terms the model holds, every tier kept.
        (
            vec![AMOUNT_10, &amount_20],
            None,
            vec![AMOUNT_10, &amount_20],
        ),
        // Two net terms: the first is the model's.
        (
            vec![NET_45, THREE_PERCENT_10, net_30],
            Some(PaymentTerms {
                net_days: Some(45),
                discount_percent: dec("3"),
                discount_days: Some(10),
                ..PaymentTerms::default()
            }),
            vec![NET_45, THREE_PERCENT_10, net_30],
        ),
    ];
    for (set, want, verbatim) in cases {
        let xml = with_terms(INVOICE, INVOICE_TERMS, &set.join("\n"));
        let (doc, written) = round_trip(&xml, &partner);
        assert_eq!(terms(&doc), want.as_ref(), "{set:?}");
        assert_eq!(written_terms(&written), verbatim, "{set:?}\n{written}");
    }
}

/// Every sequence of up to three terms from a pool of the kinds above reads back, once
/// written, as it was read: the model's terms are the model's again and the kept ones come
/// back in their places.
#[test]
fn any_three_terms_read_back_as_they_were_read() {
    let pool = [
        THREE_PERCENT_10,
        ONE_PERCENT_20,
        AMOUNT_10,
        NET_45,
        r#"<PaymentTerm payInNumberOfDays="30"><Extrinsic name="description">Net 30</Extrinsic></PaymentTerm>"#,
        r#"<PaymentTerm payInNumberOfDays="60"><Extrinsic name="description">Net 60</Extrinsic><Extrinsic name="payInNumberOfDaysSource">description</Extrinsic></PaymentTerm>"#,
        r#"<PaymentTerm><Extrinsic name="description">Immediate</Extrinsic></PaymentTerm>"#,
        r#"<PaymentTerm payInNumberOfDays="10"><Discount/></PaymentTerm>"#,
        r#"<PaymentTerm><Discount><DiscountPercent percent="3"/></Discount></PaymentTerm>"#,
        r#"<PaymentTerm payInNbmreuOfDays="30"/>"#,
        // Terms the writer writes a net term for though no net term gave them.
        r#"<PaymentTerm payInNumberOfDays="10"><Discount><DiscountPercent percent="2"/></Discount><Extrinsic name="description">2% 10 Net 30</Extrinsic></PaymentTerm>"#,
        r#"<PaymentTerm payInNumberOfDays="15"><Discount><DiscountPercent percent="1.5"/></Discount><NetDueDays>40</NetDueDays></PaymentTerm>"#,
    ];
    let n = pool.len();
    let mut sets: Vec<Vec<&str>> = Vec::new();
    for a in 0..n {
        sets.push(vec![pool[a]]);
        for b in 0..n {
            sets.push(vec![pool[a], pool[b]]);
            for c in 0..n {
                sets.push(vec![pool[a], pool[b], pool[c]]);
            }
        }
    }
    // The order writer shares the terms writer: pairs in an order too.
    let pairs = sets.iter().filter(|s| s.len() <= 2);
    let orders = pairs.map(|set| (ORDER, ORDER_TERMS, set.clone()));
    let invoices = sets.iter().map(|set| (INVOICE, INVOICE_TERMS, set.clone()));
    for (sample, old, set) in invoices.chain(orders).collect::<Vec<_>>() {
        let partner = partner(sample);
        let xml = with_terms(sample, old, &set.join("\n"));
        let first = decode(xml.as_bytes(), &partner);
        let bytes = CxmlCodec::new()
            .encode(std::slice::from_ref(&first), &partner)
            .unwrap_or_else(|e| panic!("{set:?}: {e}"));
        let again = decode(&bytes, &partner);
        assert_eq!(again, first, "{set:?}\n{}", String::from_utf8_lossy(&bytes));
    }
}
