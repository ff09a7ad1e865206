//! QA R-X3/R-X4: an 810 from partner acme (`[coupa_supplier] number = "ACME-1"`) naming
//! another supplier, by `N1*SU*Rival Co*92*RIVAL-1` (where the gateway's own writer puts a
//! Coupa supplier number) or by `REF*VN*RIVAL-1` in the SU loop, was acknowledged `AK5*A`
//! and booked to ACME-1. Both are compared with the profile's number now; the `REF*VN` is read
//! as a supplier id (domain `vendor-number`) and written back as it came.

// Test helpers outside #[test] functions may unwrap and panic too: a failure is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use adapter_x12::X12Codec;
use gateway_core::{Decode, Encode, PartnerProfile};
use gateway_model::{Document, PartyId};

const ISA: &str = "ISA*00*          *00*          *ZZ*ACMESUPPLY     *ZZ*GLOBEXCORP     *261205*1522*U*00401*000000405*0*P*>~\n";

/// An 810 interchange holding `body` (ST..SE exclusive).
fn interchange(body: &[&str]) -> String {
    let mut segs = vec!["ST*810*0001".to_string()];
    segs.extend(body.iter().map(|s| s.to_string()));
    segs.push(format!("SE*{}*0001", body.len() + 2));
    format!(
        "{ISA}GS*IN*ACMESUPPLY*GLOBEXCORP*20261205*1522*1*X*004010~\n{}~\nGE*1*1~\nIEA*1*000000405~\n",
        segs.join("~\n")
    )
}

/// The QA tester's 810 with the supplier's loop `su` (N1 first).
fn invoice_with(su: &[&str]) -> String {
    let mut body = vec!["BIG*20260501*R-X3**PO-7781", "CUR*SE*EUR"];
    body.extend_from_slice(su);
    body.extend_from_slice(&[
        "IT1*1*4*EA*25**PL*1",
        "PID*F****Widget",
        "TDS*12900",
        "TXI*VA*19*19",
        "SAC*C*D240***1000**********Freight",
        "CTT*1",
    ]);
    interchange(&body)
}

fn acme() -> PartnerProfile {
    PartnerProfile::from_toml(
        r#"
id = "acme"
[coupa_supplier]
number = "ACME-1"
[x12]
partner_qualifier = "ZZ"
partner_id = "ACMESUPPLY"
our_qualifier = "ZZ"
our_id = "GLOBEXCORP"
version = "004010"
"#,
        "acme.toml",
    )
    .unwrap()
}

fn ack(x12: &str) -> String {
    String::from_utf8(adapter_x12::acknowledge(x12.as_bytes(), &acme())).unwrap()
}

fn decode(raw: &str) -> Vec<Document> {
    let d = X12Codec::new().decode(raw.as_bytes(), &PartnerProfile::anonymous());
    assert!(d.rejects.is_empty(), "rejects {:?}", d.rejects);
    d.documents.into_iter().map(|d| d.document).collect()
}

fn encode(docs: &[Document]) -> String {
    let bytes = X12Codec::new()
        .encode(docs, &PartnerProfile::anonymous())
        .unwrap();
    String::from_utf8(bytes).unwrap()
}

/// The segments of an interchange's one set, ST to SE, trimmed.
fn set_segments(x12: &str) -> Vec<String> {
    x12.split('~')
        .map(|s| s.trim().to_string())
        .skip_while(|s| !s.starts_with("ST*"))
        .take_while(|s| !s.starts_with("GE*"))
        .collect()
}

fn supplier_ids(d: &Document) -> Vec<PartyId> {
    match d {
        Document::Invoice(i) => i
            .supplier
            .as_ref()
            .map(|p| p.ids.clone())
            .unwrap_or_default(),
        other => panic!("not an invoice: {other:?}"),
    }
}

#[test]
fn an_810_naming_another_supplier_by_qualifier_92_or_ref_vn_is_rejected() {
    for su in [
        &["N1*SU*Rival Co*92*RIVAL-1"][..],
        &["N1*SU*Rival Co", "REF*VN*RIVAL-1"][..],
    ] {
        let text = ack(&invoice_with(su));
        assert!(text.contains("AK5*R"), "{su:?}: {text}");
        assert!(
            text.contains("AK3*N1*"),
            "{su:?}: at the supplier's N1: {text}"
        );
        // The partner's own number passes.
        let own: Vec<String> = su.iter().map(|s| s.replace("RIVAL-1", "ACME-1")).collect();
        let own: Vec<&str> = own.iter().map(String::as_str).collect();
        let text = ack(&invoice_with(&own));
        assert!(text.contains("AK5*A"), "{own:?}: {text}");
    }
}

#[test]
fn a_supplier_ref_vn_is_an_id_and_writes_back_as_it_came() {
    let rival = PartyId {
        domain: "vendor-number".into(),
        value: "RIVAL-1".into(),
    };
    for su in [
        &["N1*SU*Rival Co", "REF*VN*RIVAL-1"][..],
        &[
            "N1*SU*Rival Co*92*R1",
            "N3*1 Main St",
            "N4*Springfield*IL*62701*US",
            "REF*ZZ*17*coupa",
            "REF*VN*RIVAL-1",
            "PER*IC*Ann",
        ][..],
        &["N1*VN*Rival Co*1*123456789", "REF*VN*RIVAL-1", "REF*VN*R2"][..],
    ] {
        let x12 = invoice_with(su);
        let docs = decode(&x12);
        let ids = supplier_ids(&docs[0]);
        assert!(ids.contains(&rival), "{su:?}: {ids:?}");
        let written = encode(&docs);
        assert_eq!(set_segments(&written), set_segments(&x12), "{written}");
        assert_eq!(decode(&written), docs);
    }
    // A REF*VN in another party's loop stays a segment of that loop.
    let x12 = invoice_with(&["N1*SU*Rival Co", "N1*ST*Dock 4", "REF*VN*RIVAL-1"]);
    let docs = decode(&x12);
    assert!(!supplier_ids(&docs[0]).contains(&rival), "{docs:?}");
    let written = encode(&docs);
    assert_eq!(set_segments(&written), set_segments(&x12), "{written}");
}

/// QA 14c item 5: the spellings of a supplier number that went through as the partner's own
/// supplier (each `AK5*A`, then booked to ACME-1): the heading segments (after CUR) and the
/// supplier's loop, and the domain each number is read in.
const OTHER_SPELLINGS: &[(&[&str], &str)] = &[
    // A REF03 description.
    (
        &["N1*SU*Rival Co*1*123456789", "REF*VN*RIVAL-1*Vendor number"],
        "vendor-number",
    ),
    // A trailing space.
    (
        &["N1*SU*Rival Co*1*123456789", "REF*VN*RIVAL-1 "],
        "vendor-number",
    ),
    // X12's internal vendor number, in the loop and in the heading.
    (
        &["N1*SU*Rival Co*1*123456789", "REF*IA*RIVAL-1"],
        "internal-vendor-number",
    ),
    (
        &["REF*IA*RIVAL-1", "N1*SU*Rival Co"],
        "internal-vendor-number",
    ),
    // A heading number and no supplier loop at all.
    (&["REF*IA*RIVAL-1"], "internal-vendor-number"),
];

#[test]
fn every_spelling_of_another_supplier_number_is_rejected() {
    for (segs, _) in OTHER_SPELLINGS {
        let text = ack(&invoice_with(segs));
        assert!(text.contains("AK5*R"), "{segs:?}: {text}");
        let own: Vec<String> = segs
            .iter()
            .map(|s| s.replace("RIVAL-1", "acme-1"))
            .collect();
        let own: Vec<&str> = own.iter().map(String::as_str).collect();
        let text = ack(&invoice_with(&own));
        assert!(text.contains("AK5*A"), "{own:?}: {text}");
    }
}

#[test]
fn every_spelling_of_a_supplier_number_is_an_id_and_writes_back_as_it_came() {
    for (segs, domain) in OTHER_SPELLINGS {
        let x12 = invoice_with(segs);
        let docs = decode(&x12);
        let ids = supplier_ids(&docs[0]);
        let number = PartyId {
            domain: (*domain).into(),
            value: "RIVAL-1".into(),
        };
        assert_eq!(ids.last(), Some(&number), "{segs:?}: {ids:?}");
        assert_eq!(
            ids.iter().filter(|i| i.value == "RIVAL-1").count(),
            1,
            "{segs:?}: {ids:?}"
        );
        let written = encode(&docs);
        assert_eq!(set_segments(&written), set_segments(&x12), "{written}");
        assert_eq!(decode(&written), docs, "{segs:?}");
    }
    // A bare supplier loop beside a heading number is kept, and two numbers keep their order.
    for segs in [
        &["REF*IA*RIVAL-1", "N1*SU"][..],
        &["REF*IA*R2", "N1*SU*Rival Co", "REF*VN*R3", "REF*VN*R1*desc"][..],
    ] {
        let x12 = invoice_with(segs);
        let docs = decode(&x12);
        let written = encode(&docs);
        assert_eq!(set_segments(&written), set_segments(&x12), "{written}");
        assert_eq!(decode(&written), docs, "{segs:?}");
    }
}

/// A heading-level `REF*VN` is X12's "vendor order number", the supplier's own order
/// reference (samples/x12/invoice/rich.edi carries one): not a supplier number, so it neither
/// refuses the invoice nor becomes a supplier id, and it is written back as it came.
#[test]
fn a_heading_vendor_order_number_is_not_a_supplier_number() {
    for segs in [
        &["REF*VN*SO-778812", "N1*SU*Acme*1*123456789"][..],
        &["REF*VN*SO-778812"][..],
    ] {
        let x12 = invoice_with(segs);
        let text = ack(&x12);
        assert!(text.contains("AK5*A"), "{segs:?}: {text}");
        let docs = decode(&x12);
        assert!(
            supplier_ids(&docs[0])
                .iter()
                .all(|id| id.value != "SO-778812"),
            "{segs:?}: {docs:?}"
        );
        let written = encode(&docs);
        assert_eq!(set_segments(&written), set_segments(&x12), "{written}");
    }
}
