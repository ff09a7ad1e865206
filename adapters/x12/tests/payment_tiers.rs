//! Payment terms of several tiers (3% in 10 days, 1% in 20, net 45) through X12: one ITD per
//! tier. The model holds the primary terms (`payment_terms`: cXML's first whole discount tier
//! and first net term, which one ITD holds together); cXML keeps the other tiers in
//! `extensions.cxml.payment_terms`. The 810/850 writer writes the primary ITD first and then
//! one ITD for each other tier, and the reader takes the heading's first ITD that gives terms
//! as the primary (as cXML takes its first tier) and each later one as a further tier
//! (`extensions.x12.payment_terms`, in the model's words, with the elements the terms do not
//! hold in `extensions.x12.field_elements["payment_terms[k]"]`). Found by QA: the reader took
//! the last ITD as the terms, and the writer wrote no ITD for cXML's further tiers.

// Test helpers outside #[test] functions may unwrap and panic too: a failure is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use adapter_x12::X12Codec;
use adapter_x12::tokenizer::Tokenizer;
use gateway_core::testkit::repo_root;
use gateway_core::{Decode, Encode, PartnerProfile};
use gateway_model::{Document, Extensions, PaymentTerms, from_json_lines};
use serde_json::{Value, json};

fn golden(path: &str) -> Document {
    let bytes = std::fs::read(repo_root().join(path)).unwrap();
    from_json_lines(&bytes).into_iter().next().unwrap().unwrap()
}

fn encode(docs: &[Document]) -> String {
    let bytes = X12Codec::new()
        .encode(docs, &PartnerProfile::anonymous())
        .unwrap_or_else(|e| panic!("encode: {e}"));
    String::from_utf8(bytes).unwrap()
}

fn decode(x12: &str) -> Vec<Document> {
    let d = X12Codec::new().decode(x12.as_bytes(), &PartnerProfile::anonymous());
    assert!(d.rejects.is_empty(), "rejects {:?}\n{x12}", d.rejects);
    d.documents.into_iter().map(|d| d.document).collect()
}

fn dec(s: &str) -> Option<rust_decimal::Decimal> {
    Some(s.parse().unwrap())
}

fn terms(d: &Document) -> Option<&PaymentTerms> {
    match d {
        Document::Invoice(i) => i.payment_terms.as_ref(),
        Document::PurchaseOrder(p) => p.payment_terms.as_ref(),
    }
}

fn set_terms(d: &mut Document, terms: Option<PaymentTerms>, kept: Option<Value>) {
    let (slot, ext): (&mut Option<PaymentTerms>, &mut Extensions) = match d {
        Document::Invoice(i) => (&mut i.payment_terms, &mut i.extensions),
        Document::PurchaseOrder(p) => (&mut p.payment_terms, &mut p.extensions),
    };
    *slot = terms;
    let cxml = ext
        .entry("cxml".to_string())
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .unwrap();
    match kept {
        Some(k) => cxml.insert("payment_terms".into(), k),
        None => cxml.remove("payment_terms"),
    };
}

/// Every ITD of `x12`, split into elements.
fn itds(x12: &str) -> Vec<Vec<String>> {
    Tokenizer::new(x12.as_bytes())
        .map(|s| s.unwrap())
        .filter(|s| s.id() == b"ITD")
        .map(|s| {
            s.elements()
                .map(|e| String::from_utf8_lossy(e).into_owned())
                .collect()
        })
        .collect()
}

/// The further tiers an X12 document read back holds (`extensions.x12.payment_terms`).
fn x12_tiers(d: &Document) -> Vec<PaymentTerms> {
    d.extensions()
        .get("x12")
        .and_then(|x| x.get("payment_terms"))
        .map(|v| serde_json::from_value(v.clone()).unwrap())
        .unwrap_or_default()
}

/// A `PaymentTerm` kept by the cXML reader (its element JSON).
fn cxml_term(days: &str, discount: Option<Value>) -> Value {
    let mut t = json!({"element": "PaymentTerm", "attributes": {"payInNumberOfDays": days}});
    if let Some(d) = discount {
        t["children"] = json!([{"element": "Discount", "children": [d]}]);
    }
    t
}

fn percent(p: &str) -> Value {
    json!({"element": "DiscountPercent", "attributes": {"percent": p}})
}

/// The cXML invoice sample with 3% in 10 days, 1% in 20 and net 45, as the cXML reader reads
/// them (see adapters/cxml/tests/payment_tiers.rs): the first tier and the net term are the
/// model's, the 1% tier is kept in its place.
fn three_tier_invoice() -> Document {
    let mut doc = golden("samples/cxml/invoice/rich.canonical.json");
    set_terms(
        &mut doc,
        Some(PaymentTerms {
            net_days: Some(45),
            discount_percent: dec("3"),
            discount_days: Some(10),
            description: None,
        }),
        Some(json!([
            "discount",
            cxml_term("20", Some(percent("1"))),
            "net"
        ])),
    );
    doc
}

#[test]
fn a_cxml_invoices_further_tier_is_an_itd_of_its_own_and_reads_back_as_a_tier() {
    let doc = three_tier_invoice();
    let written = encode(std::slice::from_ref(&doc));
    // The model's terms first (the reader takes the first ITD), then the 1% tier.
    assert_eq!(
        itds(&written),
        [
            vec!["ITD", "", "", "3", "", "10", "", "45"],
            vec!["ITD", "", "", "1", "", "20"],
        ],
        "{written}"
    );
    let back = decode(&written);
    assert_eq!(terms(&back[0]), terms(&doc));
    assert_eq!(
        x12_tiers(&back[0]),
        [PaymentTerms {
            discount_percent: dec("1"),
            discount_days: Some(20),
            ..PaymentTerms::default()
        }]
    );
    // And as X12 again: the same ITDs, the same document.
    let again = encode(&back);
    assert_eq!(itds(&again), itds(&written), "{again}");
    assert_eq!(decode(&again), back);
    // Every element of the tier has its ITD element: nothing of the terms is left out.
    assert!(
        adapter_x12::left_out(&doc)
            .iter()
            .all(|l| !l.path.contains("payment_terms"))
    );
}

#[test]
fn an_orders_tiers_net_term_and_amount_tier_each_get_an_itd() {
    let mut doc = golden("samples/cxml/purchase_order/rich.canonical.json");
    let amount = json!({"element": "DiscountAmount", "children": [
        {"element": "Money", "attributes": {"currency": "USD"}, "text": "7.25"}
    ]});
    let mut net_60 = cxml_term("60", None);
    net_60["children"] = json!([
        {"element": "Extrinsic", "attributes": {"name": "description"}, "text": "Net 60"}
    ]);
    set_terms(
        &mut doc,
        Some(PaymentTerms {
            net_days: Some(45),
            discount_percent: dec("3"),
            discount_days: Some(10),
            description: None,
        }),
        Some(json!([
            "net",
            "discount",
            net_60,
            cxml_term("10", Some(amount))
        ])),
    );
    let written = encode(std::slice::from_ref(&doc));
    assert_eq!(
        itds(&written),
        [
            vec!["ITD", "", "", "3", "", "10", "", "45"],
            vec![
                "ITD", "", "", "", "", "", "", "60", "", "", "", "", "Net 60"
            ],
            // ITD08, the terms discount amount, has two implied decimals.
            vec!["ITD", "", "", "", "", "10", "", "", "725"],
        ],
        "{written}"
    );
    let back = decode(&written);
    assert_eq!(terms(&back[0]), terms(&doc));
    assert_eq!(
        x12_tiers(&back[0]),
        [
            PaymentTerms {
                net_days: Some(60),
                description: Some("Net 60".into()),
                ..PaymentTerms::default()
            },
            PaymentTerms {
                discount_days: Some(10),
                ..PaymentTerms::default()
            },
        ]
    );
    // The amount the model has no field for stays with its tier.
    assert_eq!(
        back[0].extensions()["x12"]["field_elements"]["payment_terms[1]"],
        json!({"ITD08": "725"})
    );
    assert_eq!(decode(&encode(&back)), back);
}

#[test]
fn the_first_itd_with_terms_is_the_documents_and_every_later_one_a_tier() {
    let raw = "ISA*00*          *00*          *ZZ*ACME           *ZZ*GLOBEX         *260301*1200*U*00401*000000001*0*P*>~\
GS*IN*ACME*GLOBEX*20260301*1200*1*X*004010~ST*810*0001~BIG*20260315*INV-1**PO-1~\
ITD*01*3~ITD*05*3*2**10**30*****2% 10 Net 30~ITD*05*3*1**20**30~\
IT1*1*1*EA*10**VP*A~TDS*1000~CTT*1~SE*9*0001~GE*1*1~IEA*1*000000001~";
    let docs = decode(raw);
    assert_eq!(
        terms(&docs[0]),
        Some(&PaymentTerms {
            net_days: Some(30),
            discount_percent: dec("2"),
            discount_days: Some(10),
            description: Some("2% 10 Net 30".into()),
        })
    );
    assert_eq!(
        x12_tiers(&docs[0]),
        [PaymentTerms {
            net_days: Some(30),
            discount_percent: dec("1"),
            discount_days: Some(20),
            description: None,
        }]
    );
    let x12 = &docs[0].extensions()["x12"];
    assert_eq!(x12["elements"], json!({"ITD01": "05", "ITD02": "3"}));
    assert_eq!(
        x12["field_elements"]["payment_terms[0]"],
        json!({"ITD01": "05", "ITD02": "3"})
    );
    // An ITD with nothing the model holds is kept whole, as before.
    assert_eq!(x12["segments"], json!([["ITD", "01", "3"]]));

    let written = encode(&docs);
    let written_itds = itds(&written);
    let percents: Vec<&str> = written_itds
        .iter()
        .map(|s| s.get(3).map_or("", String::as_str))
        .collect();
    assert_eq!(percents, ["2", "1", ""], "{written}");
    assert_eq!(decode(&written), docs, "{written}");
}
