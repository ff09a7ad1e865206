//! A line's own ship-to and comments, which cXML carries (`ItemOut/ShipTo`, a line's
//! `Comments`) and the model holds in the line's extensions (`extensions.cxml.ship_to`, a
//! party; `extensions.cxml.comments`), written where X12 has a place for them: the ship-to as
//! an `N1*ST` loop inside the line's IT1/PO1 loop (both sets have an N1 loop there), the
//! comments of an 850 line as `MSG` segments (Message Text, the PO1 loop's free-form text;
//! MSG01 holds 264 characters, a longer line continues in an `MSG` with MSG02 `LC`, line
//! continuation). The 810's IT1 loop has no free-form text segment (004010, 005010: no NTE,
//! no MSG there), so an invoice line's comments are not written, and
//! [`adapter_x12::left_out`] names them. Read back, both are the line's
//! (`extensions.x12.ship_to`, `extensions.x12.comments`): cXML → canonical → X12 → canonical
//! keeps them, and X12 → canonical → X12 → canonical changes nothing. Found by QA: both were
//! dropped without a word.

// Test helpers outside #[test] functions may unwrap and panic too: a failure is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use adapter_x12::X12Codec;
use adapter_x12::tokenizer::Tokenizer;
use gateway_core::testkit::repo_root;
use gateway_core::{Decode, Encode, PartnerProfile};
use gateway_model::{Document, Extensions, Party, from_json_lines};
use serde_json::{Value, json};

fn golden(path: &str) -> Document {
    let bytes = std::fs::read(repo_root().join(path)).unwrap();
    let mut docs: Vec<Document> = from_json_lines(&bytes)
        .into_iter()
        .map(|r| r.unwrap())
        .collect();
    assert_eq!(docs.len(), 1, "{path}");
    docs.remove(0)
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

/// Written as X12, read back, and that written and read again: the same documents.
fn through_x12(docs: &[Document]) -> (String, Vec<Document>) {
    let written = encode(docs);
    let back = decode(&written);
    let again = encode(&back);
    assert_eq!(decode(&again), back, "X12 -> canonical -> X12\n{again}");
    (written, back)
}

fn line_extensions(d: &Document, k: usize) -> &Extensions {
    match d {
        Document::Invoice(i) => &i.lines[k].extensions,
        Document::PurchaseOrder(p) => &p.lines[k].extensions,
    }
}

fn line_extensions_mut(d: &mut Document, k: usize) -> &mut Extensions {
    match d {
        Document::Invoice(i) => &mut i.lines[k].extensions,
        Document::PurchaseOrder(p) => &mut p.lines[k].extensions,
    }
}

/// `extensions.<format>.<key>` of line `k`.
fn kept<'d>(d: &'d Document, k: usize, format: &str, key: &str) -> Option<&'d Value> {
    line_extensions(d, k).get(format).and_then(|x| x.get(key))
}

fn party(v: &Value) -> Party {
    serde_json::from_value(v.clone()).unwrap()
}

/// The segments of the `n`th (0-based) line loop of `x12`'s one set: from its IT1/PO1 to
/// the next line item, CTT, TDS or SE, each split into elements.
fn line_loop(x12: &str, n: usize) -> Vec<Vec<String>> {
    let segs: Vec<Vec<String>> = Tokenizer::new(x12.as_bytes())
        .map(|s| {
            s.unwrap()
                .elements()
                .map(|e| String::from_utf8_lossy(e).into_owned())
                .collect()
        })
        .collect();
    let is_line = |s: &Vec<String>| s[0] == "IT1" || s[0] == "PO1";
    let start = segs
        .iter()
        .enumerate()
        .filter(|(_, s)| is_line(s))
        .nth(n)
        .map(|(i, _)| i)
        .unwrap();
    segs[start..]
        .iter()
        .enumerate()
        .take_while(|(k, s)| {
            *k == 0 || !(is_line(s) || ["CTT", "TDS", "SE"].contains(&s[0].as_str()))
        })
        .map(|(_, s)| s.clone())
        .collect()
}

#[test]
fn a_cxml_order_lines_ship_to_and_comments_go_in_its_po1_loop_and_read_back() {
    let doc = golden("samples/cxml/purchase_order/rich.canonical.json");
    let ship_to = party(kept(&doc, 1, "cxml", "ship_to").unwrap());
    let comments = kept(&doc, 1, "cxml", "comments").unwrap().clone();
    let (written, back) = through_x12(std::slice::from_ref(&doc));

    let second = line_loop(&written, 1);
    let n1 = second
        .iter()
        .find(|s| s[0] == "N1")
        .expect("no N1 in the line");
    assert_eq!(n1[..3], ["N1", "ST", "Globex Warehouse 3"], "{written}");
    assert!(
        second
            .iter()
            .any(|s| s[..] == ["MSG", "Shrink-wrapped, please."]),
        "{written}"
    );
    // The other lines have neither.
    for k in [0, 2] {
        let other = line_loop(&written, k);
        assert!(
            !other.iter().any(|s| s[0] == "N1" || s[0] == "MSG"),
            "{written}"
        );
    }

    assert_eq!(party(kept(&back[0], 1, "x12", "ship_to").unwrap()), ship_to);
    assert_eq!(kept(&back[0], 1, "x12", "comments"), Some(&comments));
    assert_eq!(kept(&back[0], 0, "x12", "ship_to"), None);
    assert_eq!(kept(&back[0], 0, "x12", "comments"), None);
}

#[test]
fn a_cxml_invoice_lines_ship_to_goes_in_its_it1_loop_and_its_comments_are_named_left_out() {
    let mut doc = golden("samples/cxml/invoice/rich.canonical.json");
    // A line ship-to as the cXML reader keeps one (`ItemOut/ShipTo` of an order line).
    let ship_to = json!({
        "name": "Globex Lab 2",
        "ids": [{"domain": "addressID", "value": "LAB2"}],
        "address": {"lines": ["9 Test Lane"], "city": "Cypress Creek", "region": "OR",
                    "postal_code": "97002", "country": "US"}
    });
    line_extensions_mut(&mut doc, 2)
        .get_mut("cxml")
        .unwrap()
        .as_object_mut()
        .unwrap()
        .insert("ship_to".into(), ship_to.clone());
    assert_eq!(
        kept(&doc, 2, "cxml", "comments"),
        Some(&json!("Technician: R. Diaz"))
    );

    let left: Vec<String> = adapter_x12::left_out(&doc)
        .iter()
        .map(ToString::to_string)
        .collect();
    // The comments, and nothing of the line's ship-to (the rest is the sample's Extrinsics,
    // tax descriptions and the like: `cxml_invoice_left_out.rs`).
    let comments: Vec<&String> = left.iter().filter(|l| l.contains("comments")).collect();
    assert_eq!(comments.len(), 1, "{left:?}");
    assert!(
        comments[0].starts_with("$.lines[2].extensions.cxml.comments: ")
            && comments[0].contains("IT1 loop"),
        "{left:?}"
    );
    assert!(!left.iter().any(|l| l.contains("ship_to")), "{left:?}");

    let (written, back) = through_x12(std::slice::from_ref(&doc));
    let third = line_loop(&written, 2);
    assert!(
        third.iter().any(|s| s[..3] == ["N1", "ST", "Globex Lab 2"]),
        "{written}"
    );
    assert!(
        third.iter().any(|s| s[..] == ["N3", "9 Test Lane"]),
        "{written}"
    );
    // No text segment the 810 does not have in its IT1 loop, and the comment is nowhere.
    assert!(!written.contains("MSG*"), "{written}");
    assert!(!written.contains("Technician"), "{written}");
    assert_eq!(
        party(kept(&back[0], 2, "x12", "ship_to").unwrap()),
        party(&ship_to)
    );
    assert_eq!(kept(&back[0], 2, "x12", "comments"), None);
    // What the 810 carries, it carries: nothing is named left out of an X12 invoice.
    assert!(adapter_x12::left_out(&back[0]).is_empty());
}

const ISA: &str = "ISA*00*          *00*          *ZZ*GLOBEX         *ZZ*ACME           *260301*1200*U*00401*000000001*0*P*>~\n";

fn order_850(lines: &[&str]) -> String {
    let mut body = vec!["ST*850*0001".to_string(), "BEG*00*SA*PO-1**20260301".into()];
    body.extend(lines.iter().map(|s| s.to_string()));
    body.push("CTT*2".into());
    body.push(format!("SE*{}*0001", body.len() + 1));
    format!(
        "{ISA}GS*PO*GLOBEX*ACME*20260301*1200*1*X*004010~\n{}~\nGE*1*1~\nIEA*1*000000001~\n",
        body.join("~\n")
    )
}

#[test]
fn an_850_lines_msg_text_and_n1_st_are_the_lines_and_come_back_whole() {
    let long = "x".repeat(300);
    let raw = order_850(&[
        "PO1*1*10*EA*12.5**VP*GLV",
        "PID*F****Gloves",
        "MSG*Deliver to dock 4",
        &format!("MSG*{}*DS", &long[..264]),
        &format!("MSG*{}*LC", &long[264..]),
        "MSG*Printed*NP",
        "N1*ST*Globex Warehouse 3*92*WH3",
        "N2*Receiving",
        "N3*3 Pier Road",
        "N4*Cypress Creek*OR*97002*US*SN*7",
        "N1*SU*Acme East*92*ACME-E",
        "N1*ST*Second Dock",
        "PO1*2*4*BX*45**VP*PPR",
    ]);
    let docs = decode(&raw);
    let got_ship_to = party(kept(&docs[0], 0, "x12", "ship_to").unwrap());
    assert_eq!(got_ship_to.name.as_deref(), Some("Globex Warehouse 3"));
    assert_eq!(got_ship_to.ids[0].value, "WH3");
    let address = got_ship_to.address.unwrap();
    assert_eq!(address.lines, ["3 Pier Road"]);
    assert_eq!(address.postal_code.as_deref(), Some("97002"));
    // One comment line per MSG; MSG02 `DS` (advance two lines) puts an empty line before
    // its text, and `LC` (line continuation) continues the line before.
    assert_eq!(
        kept(&docs[0], 0, "x12", "comments"),
        Some(&json!(format!("Deliver to dock 4\n\n{long}")))
    );
    // What the model does not hold of the loop stays with the line: the N2 and N405/N406 of
    // the ship-to, an MSG with another MSG02, the other N1 loops.
    let x12 = line_extensions(&docs[0], 0).get("x12").unwrap();
    assert_eq!(
        x12["party_segments"]["ship_to"],
        json!([["N2", "Receiving"]])
    );
    assert_eq!(
        x12["field_elements"]["ship_to"],
        json!({"N405": "SN", "N406": "7"})
    );
    assert_eq!(
        x12["segments"],
        json!([
            ["MSG", "Printed", "NP"],
            ["N1", "SU", "Acme East", "92", "ACME-E"],
            ["N1", "ST", "Second Dock"]
        ])
    );
    assert_eq!(kept(&docs[0], 1, "x12", "ship_to"), None);

    let (written, back) = through_x12(&docs);
    assert_eq!(back, docs, "{written}");
    let first = line_loop(&written, 0);
    let msgs: Vec<&Vec<String>> = first.iter().filter(|s| s[0] == "MSG").collect();
    assert_eq!(msgs[0][..], ["MSG", "Deliver to dock 4"]);
    assert_eq!(msgs[1][1].chars().count(), 264);
    assert_eq!(msgs[1][2], "DS");
    assert_eq!(msgs[2][1..], [&long[264..], "LC"]);
    assert_eq!(msgs[3][1..], ["Printed", "NP"]);
    assert!(
        written.contains("N1*ST*Globex Warehouse 3*92*WH3~\nN2*Receiving~\nN3*3 Pier Road~\nN4*Cypress Creek*OR*97002*US*SN*7~"),
        "{written}"
    );
}

#[test]
fn an_810_lines_n1_st_is_the_lines_ship_to_and_an_msg_there_is_kept_as_it_came() {
    let raw = format!(
        "{ISA}GS*IN*GLOBEX*ACME*20260301*1200*1*X*004010~\nST*810*0001~\nBIG*20260315*INV-1**PO-1~\n\
IT1*1*1*EA*10**VP*A~\nPID*F****x~\nN1*ST*Globex Warehouse 3*92*WH3~\nN3*3 Pier Road~\n\
MSG*not an 810 line segment~\nTDS*1000~\nCTT*1~\nSE*10*0001~\nGE*1*1~\nIEA*1*000000001~\n"
    );
    let docs = decode(&raw);
    let got = party(kept(&docs[0], 0, "x12", "ship_to").unwrap());
    assert_eq!(got.name.as_deref(), Some("Globex Warehouse 3"));
    assert_eq!(kept(&docs[0], 0, "x12", "comments"), None);
    let (written, back) = through_x12(&docs);
    assert_eq!(back, docs, "{written}");
}

#[test]
fn a_line_comment_with_delimiters_and_a_bad_line_ship_to_are_handled_not_lost() {
    let mut doc = golden("samples/cxml/purchase_order/rich.canonical.json");
    let cxml = line_extensions_mut(&mut doc, 1)
        .get_mut("cxml")
        .unwrap()
        .as_object_mut()
        .unwrap();
    // X12 cannot escape a delimiter: free text has it as a space, as a heading NTE does.
    cxml.insert("comments".into(), json!("Shrink*wrapped~ please"));
    let (written, back) = through_x12(std::slice::from_ref(&doc));
    assert!(written.contains("MSG*Shrink wrapped  please~"), "{written}");
    assert_eq!(
        kept(&back[0], 1, "x12", "comments"),
        Some(&json!("Shrink wrapped  please"))
    );
    // A ship-to that is no party is refused with its path, not dropped.
    line_extensions_mut(&mut doc, 1)
        .get_mut("cxml")
        .unwrap()
        .as_object_mut()
        .unwrap()
        .insert("ship_to".into(), json!("Dock 4"));
    let err = X12Codec::new()
        .encode(&[doc], &PartnerProfile::anonymous())
        .unwrap_err()
        .to_string();
    assert!(err.contains("$.lines[1].extensions.cxml.ship_to"), "{err}");
}

/// MSG segments that are not text as the writer writes it stay as they came, and whatever a
/// line's MSGs are, X12 → canonical → X12 → canonical changes nothing (the fuzz target's
/// property).
#[test]
fn odd_msg_segments_are_kept_and_every_line_loop_reads_back_the_same() {
    let cases: &[&[&str]] = &[
        // A continuation or an empty line before the first text: the text alone.
        &["MSG*first*LC", "MSG*second*DS"],
        &["MSG*a*DS", "MSG*b*DS", "MSG*c*LC"],
        // Trailing empty elements count for nothing (a kept segment loses them).
        &["MSG*a**", "MSG*b*LC*"],
        // Another carriage control, a line count, a composite: kept whole.
        &["MSG*a*SS", "MSG*b*AA*3", "MSG*c>d", "MSG*e"],
        // Only spaces, and text the loop kept around it.
        &["MSG*   ", "N9*L1*X", "MSG*in the N9 loop", "SLN*1**I*1*EA"],
        // Two ship-tos: the first is the line's, the second kept; an N1 of no name.
        &["N1*ST", "N1*ST*Second", "N3*1 Road", "MSG*after"],
    ];
    for lines in cases {
        let mut body = vec!["PO1*1*10*EA*12.5**VP*GLV"];
        body.extend_from_slice(lines);
        body.push("PO1*2*4*BX*45**VP*PPR");
        let docs = decode(&order_850(&body));
        let (written, back) = through_x12(&docs);
        assert_eq!(back, docs, "{lines:?}\n{written}");
    }
    let docs = decode(&order_850(&[
        "PO1*1*10*EA*12.5**VP*GLV",
        "MSG*a*SS",
        "MSG*c>d",
        "MSG*e",
        "PO1*2*4*BX*45**VP*PPR",
    ]));
    assert_eq!(kept(&docs[0], 0, "x12", "comments"), Some(&json!("e")));
    assert_eq!(
        kept(&docs[0], 0, "x12", "segments"),
        Some(&json!([["MSG", "a", "SS"], ["MSG", ["c", "d"]]]))
    );
}
