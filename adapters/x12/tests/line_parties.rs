//! An N1 loop inside an IT1/PO1 loop is its line's: it stays in that line's extensions and
//! is written back inside the line loop, and never displaces the heading's N1 of the same
//! role, which fills the document's party. A line's first `N1*ST` loop is its own ship-to,
//! read as a party (`extensions.x12.ship_to`), its first `N1*SF` its ship-from
//! (`extensions.x12.ship_from`); its other N1 loops are kept as they came. The heading's
//! (last) `N1*SF` is the invoice's or order's ship-from, read as a party too
//! (`extensions.x12.ship_from`). So does a `REF*PP` inside a line loop leave the
//! heading's PO revision alone. The 997 accepts such a set, and X12 → canonical → X12 →
//! canonical keeps both.

// Test helpers outside #[test] functions may unwrap and panic too: a failure is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use adapter_x12::{InMemoryControlNumbers, X12Codec, acknowledge_with};
use chrono::{TimeZone, Utc};
use gateway_core::{Decode, Encode, PartnerProfile};
use gateway_model::{Document, Invoice, Party, PurchaseOrder};
use serde_json::{Value, json};

const ISA: &str = "ISA*00*          *00*          *ZZ*ACMESUPPLY     *ZZ*GLOBEXCORP     *260315*1030*U*00401*000000043*0*P*>~\n";

/// An interchange of one set of group `functional` (`IN`, `PO`) holding `body` (ST..SE
/// exclusive).
fn interchange(functional: &str, set: &str, body: &[&str]) -> String {
    let mut segs = vec![format!("ST*{set}*0001")];
    segs.extend(body.iter().map(|s| s.to_string()));
    segs.push(format!("SE*{}*0001", body.len() + 2));
    format!(
        "{ISA}GS*{functional}*ACMESUPPLY*GLOBEXCORP*20260315*1030*43*X*004010~\n{}~\nGE*1*43~\nIEA*1*000000043~\n",
        segs.join("~\n")
    )
}

fn decode(raw: &[u8]) -> Vec<Document> {
    let d = X12Codec::new().decode(raw, &PartnerProfile::anonymous());
    assert!(d.rejects.is_empty(), "rejects {:?}", d.rejects);
    d.documents.into_iter().map(|d| d.document).collect()
}

fn encode(docs: &[Document]) -> String {
    let bytes = X12Codec::new()
        .encode(docs, &PartnerProfile::anonymous())
        .unwrap();
    String::from_utf8(bytes).unwrap()
}

fn invoice(d: &Document) -> &Invoice {
    match d {
        Document::Invoice(i) => i,
        other => panic!("not an invoice: {other:?}"),
    }
}

fn order(d: &Document) -> &PurchaseOrder {
    match d {
        Document::PurchaseOrder(p) => p,
        other => panic!("not an order: {other:?}"),
    }
}

fn name(p: &Option<Party>) -> Option<&str> {
    p.as_ref().and_then(|p| p.name.as_deref())
}

/// The segments a line kept (`extensions.x12.segments`).
fn kept(ext: &gateway_model::Extensions) -> Value {
    ext.get("x12")
        .and_then(|x| x.get("segments"))
        .cloned()
        .unwrap_or(Value::Null)
}

/// The name of a line's own ship-to (`extensions.x12.ship_to`).
fn line_ship_to(ext: &gateway_model::Extensions) -> Option<String> {
    let p: Party = serde_json::from_value(ext.get("x12")?.get("ship_to")?.clone()).unwrap();
    p.name.map(|n| n.to_string())
}

/// The segment ids of an interchange's one set, ST to SE.
fn ids(x12: &str) -> Vec<String> {
    x12.split('~')
        .map(|s| s.trim().split('*').next().unwrap_or_default().to_string())
        .skip_while(|id| id != "ST")
        .take_while(|id| id != "GE")
        .collect()
}

/// X12 → canonical → X12 → canonical gives the same documents.
fn round_trips(docs: &[Document]) -> String {
    let written = encode(docs);
    assert_eq!(decode(written.as_bytes()), docs, "{written}");
    written
}

/// The 997 `acme`'s set gets (a named partner's invoices go on to Coupa, so the set is also
/// held to the pipeline's validation).
fn ack_of(raw: &str) -> String {
    let acme = PartnerProfile {
        id: "acme".into(),
        ..PartnerProfile::default()
    };
    let now = Utc.with_ymd_and_hms(2026, 3, 16, 8, 5, 0).unwrap();
    let a = acknowledge_with(raw.as_bytes(), &acme, &InMemoryControlNumbers::new(), now).unwrap();
    String::from_utf8(a.bytes).unwrap()
}

#[test]
fn a_line_n1_stays_with_its_line_and_the_heading_n1_fills_the_invoice_party() {
    let raw = interchange(
        "IN",
        "810",
        &[
            "BIG*20260315*INV-1**PO-1",
            "CUR*SE*USD",
            "N1*SU*Acme Supply*92*ACME",
            "N1*ST*Globex Warehouse 7*92*WH7",
            "N3*77 Dock Street",
            "N4*Cypress Creek*OR*97002*US",
            "IT1*1*1*EA*10**VP*A",
            "PID*F****x",
            "IT1*2*1*EA*10**VP*B",
            "PID*F****y",
            "N1*ST*Globex Warehouse 3*92*WH3",
            "N3*3 Pier Road",
            "N1*SU*Acme East Branch*92*ACME-E",
            "TDS*2000",
            "CTT*2",
        ],
    );
    let docs = decode(raw.as_bytes());
    let inv = invoice(&docs[0]);
    assert_eq!(name(&inv.supplier), Some("Acme Supply"));
    assert_eq!(name(&inv.ship_to), Some("Globex Warehouse 7"));
    let ship_to = inv.ship_to.as_ref().unwrap();
    assert_eq!(ship_to.ids[0].value, "WH7");
    assert_eq!(
        ship_to.address.as_ref().unwrap().lines,
        vec!["77 Dock Street".to_string()]
    );
    assert!(!inv.extensions.contains_key("x12"), "{:?}", inv.extensions);
    assert_eq!(kept(&inv.lines[0].extensions), Value::Null);
    assert_eq!(line_ship_to(&inv.lines[0].extensions), None);
    assert_eq!(
        line_ship_to(&inv.lines[1].extensions).as_deref(),
        Some("Globex Warehouse 3")
    );
    assert_eq!(
        kept(&inv.lines[1].extensions),
        json!([["N1", "SU", "Acme East Branch", "92", "ACME-E"]])
    );

    let ack = ack_of(&raw);
    assert!(ack.contains("AK5*A~"), "{ack}");
    assert!(!ack.contains("AK3"), "{ack}");

    // Written back, the line's N1 loops are inside its IT1 loop, before the summary.
    let written = round_trips(&docs);
    let ids = ids(&written);
    let it1 = ids.iter().rposition(|id| id == "IT1").unwrap();
    let tds = ids.iter().position(|id| id == "TDS").unwrap();
    let line_n1s = ids
        .iter()
        .enumerate()
        .filter(|(k, id)| *id == "N1" && *k > it1)
        .count();
    assert_eq!(line_n1s, 2, "{written}");
    assert!(ids[it1..tds].iter().filter(|id| *id == "N1").count() == 2);
    assert!(written.contains("N1*ST*Globex Warehouse 3*92*WH3~\nN3*3 Pier Road~"));
}

#[test]
fn a_line_n1_leaves_the_heading_ship_to_of_an_order() {
    let raw = interchange(
        "PO",
        "850",
        &[
            "BEG*00*NE*PO-7781**20260301",
            "CUR*BY*USD",
            "N1*BT*Globex AP",
            "N1*ST*Globex Warehouse 7*92*WH7",
            "PO1*1*10*EA*12.5**VP*GLV",
            "PID*F****Gloves",
            "PO1*2*4*BX*45**VP*PPR",
            "PID*F****Paper",
            "N1*ST*Globex Warehouse 3*92*WH3",
            "CTT*2",
            "AMT*TT*305",
        ],
    );
    let docs = decode(raw.as_bytes());
    let po = order(&docs[0]);
    assert_eq!(name(&po.ship_to), Some("Globex Warehouse 7"));
    assert_eq!(name(&po.bill_to), Some("Globex AP"));
    assert!(
        po.extensions
            .get("x12")
            .is_none_or(|x| x.get("segments").is_none())
    );
    assert_eq!(
        line_ship_to(&po.lines[1].extensions).as_deref(),
        Some("Globex Warehouse 3")
    );
    assert_eq!(kept(&po.lines[1].extensions), Value::Null);
    let written = round_trips(&docs);
    assert!(
        written.contains("PID*F****Paper~\nN1*ST*Globex Warehouse 3*92*WH3~\nCTT*2~"),
        "{written}"
    );
}

/// The summary begins at the last total segment (TDS) or a CTT: an N1 after it is the
/// invoice's, one after an earlier TDS (kept, once too often) is still in the line loop.
#[test]
fn an_n1_after_the_summary_begins_is_the_invoices_and_one_before_it_the_lines() {
    let raw = interchange(
        "IN",
        "810",
        &[
            "BIG*20260315*INV-2",
            "N1*ST*Heading Dock",
            "N1*RI*Heading Lockbox",
            "IT1*1*1*EA*10",
            "PID*F****x",
            "TDS*999",
            "N1*ST*Line Dock",
            "TDS*1000",
            "N1*RI*Summary Lockbox",
            "CTT*1",
            "N1*BY*After CTT",
        ],
    );
    let docs = decode(raw.as_bytes());
    let inv = invoice(&docs[0]);
    assert_eq!(name(&inv.ship_to), Some("Heading Dock"));
    assert_eq!(name(&inv.remit_to), Some("Summary Lockbox"));
    assert_eq!(name(&inv.buyer), Some("After CTT"));
    assert_eq!(kept(&inv.lines[0].extensions), json!([["TDS", "999"]]));
    assert_eq!(
        line_ship_to(&inv.lines[0].extensions).as_deref(),
        Some("Line Dock")
    );
    // The heading's earlier remit-to is kept whole, as before.
    assert_eq!(
        kept(&inv.extensions),
        json!([["N1", "RI", "Heading Lockbox"]])
    );
}

#[test]
fn a_ref_pp_in_a_line_loop_leaves_the_orders_version() {
    let raw = interchange(
        "PO",
        "850",
        &[
            "BEG*00*NE*PO-7782**20260301",
            "REF*PP*3",
            "N1*ST*Dock",
            "PO1*1*1*EA*5**VP*X",
            "PID*F****Item",
            "REF*PP*9",
            "CTT*1",
        ],
    );
    let docs = decode(raw.as_bytes());
    let po = order(&docs[0]);
    assert_eq!(po.version, Some(3));
    assert_eq!(kept(&po.lines[0].extensions), json!([["REF", "PP", "9"]]));
    round_trips(&docs);
}

/// The party `x12.<key>` of extensions `ext` holds, when it holds one.
fn x12_party(ext: &gateway_model::Extensions, key: &str) -> Option<Party> {
    Some(serde_json::from_value(ext.get("x12")?.get(key)?.clone()).unwrap())
}

/// The segments of `x12` from the one starting `first` up to (not including) the next one
/// starting with any of `until`.
fn run_of<'x>(x12: &'x str, first: &str, until: &[&str]) -> Vec<&'x str> {
    let segs: Vec<&str> = x12.split("~\n").collect();
    let at = segs.iter().position(|s| s.starts_with(first)).unwrap();
    segs[at..]
        .iter()
        .take_while(|s| s.starts_with(first) || !until.iter().any(|u| s.starts_with(u)))
        .copied()
        .collect()
}

/// A heading ship-from loop, with what the party does not hold (N2, N105, PER01).
const SF_LOOP: [&str; 5] = [
    "N1*SF*Acme Dock 2*92*DOCK2*FR",
    "N2*Building C",
    "N3*5 Quay Road",
    "N4*Springfield*IL*62702*US",
    "PER*SH*Lee Park*TE*555-0199",
];

/// The 810's ship-from (`N1*SF`) was kept whole among the segments, which cXML cannot read:
/// X12 → cXML lost it. It is read as a party, `extensions.x12.ship_from`, with what its loop
/// holds beyond the party kept beside it (as for the document's parties), and written back
/// as the same loop; the last heading `N1*SF` is the ship-from, an earlier one stays kept.
#[test]
fn the_heading_ship_from_is_read_as_a_party_and_written_back_as_it_came() {
    let sf_loop = SF_LOOP;
    let mut body = vec![
        "BIG*20260315*INV-3**PO-1",
        "CUR*SE*USD",
        "N1*SF*Old Dock",
        "N1*SU*Acme Supply*92*ACME",
    ];
    body.extend(sf_loop);
    body.extend([
        "N1*ST*Globex Warehouse 7*92*WH7",
        "IT1*1*1*EA*10**VP*A",
        "PID*F****x",
        "TDS*1000",
        "CTT*1",
    ]);
    let raw = interchange("IN", "810", &body);
    let docs = decode(raw.as_bytes());
    let inv = invoice(&docs[0]);
    let from = x12_party(&inv.extensions, "ship_from").unwrap();
    assert_eq!(from.name.as_deref(), Some("Acme Dock 2"));
    assert_eq!(
        (from.ids[0].domain.as_str(), from.ids[0].value.as_str()),
        ("92", "DOCK2")
    );
    let address = from.address.as_ref().unwrap();
    assert_eq!(address.lines, vec!["5 Quay Road".to_string()]);
    assert_eq!(address.postal_code.as_deref(), Some("62702"));
    assert_eq!(from.contact.as_deref(), Some("Lee Park"));
    // The document's own parties are where they were.
    assert_eq!(name(&inv.supplier), Some("Acme Supply"));
    assert_eq!(name(&inv.ship_to), Some("Globex Warehouse 7"));
    // The earlier N1*SF stays kept whole; what the loop holds beyond the party (its N2, N105,
    // PER01) is kept with the ship-from.
    assert_eq!(kept(&inv.extensions), json!([["N1", "SF", "Old Dock"]]));
    let x12 = &inv.extensions["x12"];
    assert_eq!(
        x12["party_segments"]["ship_from"],
        json!([["N2", "Building C"]])
    );
    assert_eq!(
        x12["field_elements"]["ship_from"],
        json!({"N105": "FR", "PER01": "SH"})
    );

    // Written back: the same loop, and the kept one before it; read again, the same invoice.
    let written = round_trips(&docs);
    assert_eq!(
        run_of(&written, "N1*SF*Acme", &["N1*", "IT1"]),
        sf_loop,
        "{written}"
    );
    assert!(written.contains("N1*SF*Old Dock~"), "{written}");
    let ack = ack_of(&raw);
    assert!(ack.contains("AK5*A~"), "{ack}");
}

/// An 850's heading `N1*SF` was kept as raw segments while the 810's was read as a party: it
/// is read the same way now, by the same code (`extensions.x12.ship_from`, with what its loop
/// holds beyond the party, here an N2 and a REF), the last one the ship-from and an earlier one
/// kept whole, and written back as it came, its loop in the table's order (REF before PER).
#[test]
fn an_orders_heading_ship_from_is_read_as_an_invoices_is() {
    let mut sf_loop: Vec<&str> = SF_LOOP.to_vec();
    sf_loop.insert(4, "REF*DK*2");
    let mut body = vec![
        "BEG*00*SA*PO-9**20260301",
        "CUR*BY*USD",
        "N1*SF*Old Dock",
        "N1*SU*Acme Supply*92*ACME",
    ];
    body.extend(&sf_loop);
    body.extend([
        "N1*ST*Globex Warehouse 7*92*WH7",
        "PO1*1*1*EA*10**VP*A",
        "CTT*1",
    ]);
    let raw = interchange("PO", "850", &body);
    let docs = decode(raw.as_bytes());
    let po = order(&docs[0]);
    let from = x12_party(&po.extensions, "ship_from").unwrap();
    assert_eq!(from.name.as_deref(), Some("Acme Dock 2"));
    assert_eq!(
        (from.ids[0].domain.as_str(), from.ids[0].value.as_str()),
        ("92", "DOCK2")
    );
    assert_eq!(from.contact.as_deref(), Some("Lee Park"));
    assert_eq!(name(&po.supplier), Some("Acme Supply"));
    assert_eq!(name(&po.ship_to), Some("Globex Warehouse 7"));
    assert_eq!(kept(&po.extensions), json!([["N1", "SF", "Old Dock"]]));
    let x12 = &po.extensions["x12"];
    assert_eq!(
        x12["party_segments"]["ship_from"],
        json!([["N2", "Building C"], ["REF", "DK", "2"]])
    );
    assert_eq!(
        x12["field_elements"]["ship_from"],
        json!({"N105": "FR", "PER01": "SH"})
    );
    let written = round_trips(&docs);
    assert_eq!(
        run_of(&written, "N1*SF*Acme", &["N1*", "PO1"]),
        sf_loop,
        "{written}"
    );
    assert!(written.contains("N1*SF*Old Dock~"), "{written}");
}

/// A line's first `N1*SF` is its own ship-from (`lines[].extensions.x12.ship_from`), as its
/// first `N1*ST` is its ship-to; a later one stays kept. Written back inside the line loop.
/// A cXML line's ship-from (`lines[].extensions.cxml.ship_from`) is written the same way and
/// reads back as X12's.
#[test]
fn a_line_ship_from_is_its_first_n1_sf_both_ways() {
    let raw = interchange(
        "IN",
        "810",
        &[
            "BIG*20260315*INV-4**PO-1",
            "CUR*SE*USD",
            "N1*SU*Acme Supply*92*ACME",
            "IT1*1*1*EA*10**VP*A",
            "PID*F****x",
            "N1*SF*Acme Dock 9*92*DOCK9",
            "N3*9 Quay Road",
            "N1*ST*Globex Lab 2",
            "N1*SF*Acme Dock 10",
            "IT1*2*1*EA*10**VP*B",
            "PID*F****y",
            "TDS*2000",
            "CTT*2",
        ],
    );
    let docs = decode(raw.as_bytes());
    let inv = invoice(&docs[0]);
    let from = x12_party(&inv.lines[0].extensions, "ship_from").unwrap();
    assert_eq!(from.name.as_deref(), Some("Acme Dock 9"));
    assert_eq!(from.address.unwrap().lines, vec!["9 Quay Road".to_string()]);
    assert_eq!(
        line_ship_to(&inv.lines[0].extensions).as_deref(),
        Some("Globex Lab 2")
    );
    assert_eq!(
        kept(&inv.lines[0].extensions),
        json!([["N1", "SF", "Acme Dock 10"]])
    );
    assert_eq!(x12_party(&inv.lines[1].extensions, "ship_from"), None);
    assert!(!inv.extensions.contains_key("x12"), "{:?}", inv.extensions);
    let written = round_trips(&docs);
    assert!(
        written.contains("PID*F****x~\nN1*ST*Globex Lab 2~\nN1*SF*Acme Dock 9*92*DOCK9~\nN3*9 Quay Road~\nN1*SF*Acme Dock 10~\nIT1*2"),
        "{written}"
    );

    // From cXML: the line's ship-from, written as its N1*SF, reads back as X12's.
    let mut from_cxml = docs[0].clone();
    let Document::Invoice(inv) = &mut from_cxml else {
        unreachable!()
    };
    inv.lines[0].extensions.clear();
    inv.lines[1]
        .extensions
        .insert("cxml".into(), json!({"ship_from": {"name": "Acme Dock 3"}}));
    let written = encode(&[from_cxml]);
    assert!(
        written.contains("PID*F****y~\nN1*SF*Acme Dock 3~\nTDS"),
        "{written}"
    );
    let back = decode(written.as_bytes());
    assert_eq!(
        x12_party(&invoice(&back[0]).lines[1].extensions, "ship_from")
            .and_then(|p| p.name)
            .as_deref(),
        Some("Acme Dock 3")
    );
}
