//! What the writer sends a partner has its segments in the order of the transaction set's
//! table (a translator refuses a set with a segment out of place): the golden samples, every
//! 810/850 of the shared corpus written back out, and a document whose kept segments came in
//! the wrong order. The check walks the written X12 on its own (areas, N1 loops and the order
//! inside each: N1, N2, N3, N4, REF, PER) and only shares the table of positions with the
//! writer.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use adapter_x12::X12Codec;
use adapter_x12::order::{Area, positions};
use adapter_x12::tokenizer::Tokenizer;
use gateway_core::testkit::{corpus_or_skip, files_under, repo_root};
use gateway_core::{Decode, Encode, PartnerProfile};
use gateway_model::{Document, Invoice, from_json_lines};

/// Every segment found after one with a later position in the same area, as
/// `set 0001 heading: REF (50) after ITD (130)`, or after one with a later place in the same
/// N1 loop, as `set 0001 Heading N1 loop: REF (110) after PER (120)`.
fn order_problems(edi: &[u8]) -> Vec<String> {
    let mut problems = Vec::new();
    let mut set = String::new();
    let mut control = String::new();
    let mut area = Area::Heading;
    let mut last: Option<(String, u16)> = None;
    let mut in_party: Option<u16> = None;
    let mut last_in_loop: Option<(String, u16)> = None;
    for seg in Tokenizer::new(edi).flatten() {
        let id = String::from_utf8_lossy(seg.id()).to_string();
        let el = |n| String::from_utf8_lossy(seg.element(n).unwrap_or_default()).to_string();
        if id == "ST" {
            (set, control, area, last, in_party) = (el(1), el(2), Area::Heading, None, None);
            continue;
        }
        let line = if set == "810" { "IT1" } else { "PO1" };
        let summary_starts = match set.as_str() {
            "810" => id == "TDS" || (id == "CTT" && area != Area::Summary),
            _ => id == "CTT",
        };
        if id == line || (summary_starts && area != Area::Summary) {
            area = if id == line {
                Area::Line
            } else {
                Area::Summary
            };
            last = None;
            in_party = None;
        }
        let Some(table) = positions(&set, area) else {
            continue;
        };
        let pos = match (in_party, id.as_str()) {
            (Some(p), "N2" | "N3" | "N4" | "REF" | "PER") => Some(p),
            _ => {
                in_party = None;
                last_in_loop = None;
                table.of(&id)
            }
        };
        if id == "N1" {
            in_party = pos;
        }
        if in_party.is_some()
            && let Some(place) = table.in_party_loop(&id)
        {
            if let Some((before, p)) = &last_in_loop
                && place < *p
            {
                problems.push(format!(
                    "set {control} {area:?} N1 loop: {id} ({place}) after {before} ({p})"
                ));
            }
            last_in_loop = Some((id.clone(), place));
        }
        let Some(pos) = pos else { continue };
        if let Some((before, p)) = &last
            && pos < *p
        {
            problems.push(format!(
                "set {control} {area:?}: {id} ({pos}) after {before} ({p})"
            ));
        }
        last = Some((id, pos));
    }
    problems
}

fn write(docs: &[Document]) -> Vec<u8> {
    X12Codec::new()
        .encode(docs, &PartnerProfile::anonymous())
        .unwrap()
}

fn decode(raw: &[u8]) -> Vec<Document> {
    X12Codec::new()
        .decode(raw, &PartnerProfile::anonymous())
        .documents
        .into_iter()
        .map(|d| d.document)
        .collect()
}

#[test]
fn the_check_finds_a_segment_out_of_place() {
    let edi = b"ISA*00*          *00*          *ZZ*A              *ZZ*B              *260315*1030*U*00401*000000001*0*P*>~\
GS*IN*A*B*20260315*1030*1*X*004010~ST*810*0001~BIG*20260315*INV-1~ITD*01~REF*VN*1~\
N1*SU*Acme~REF*ZZ*in-the-loop~IT1*1*1*EA*1~PID*F****x~TXI*ST*1~TDS*100~CTT*1~SE*12*0001~GE*1*1~IEA*1*000000001~";
    assert_eq!(
        order_problems(edi),
        [
            "set 0001 Heading: REF (50) after ITD (130)",
            "set 0001 Line: TXI (40) after PID (60)"
        ]
    );
    // Inside an N1 loop: a REF after the PER, an N2 after the N3.
    let edi = b"ISA*00*          *00*          *ZZ*A              *ZZ*B              *260315*1030*U*00401*000000001*0*P*>~\
GS*IN*A*B*20260315*1030*1*X*004010~ST*810*0001~BIG*20260315*INV-1~\
N1*SU*Acme~N3*1 Road~PER*IC*Ann~REF*DP*7~N1*BY*Globex~N3*2 Road~N2*Dock~\
IT1*1*1*EA*1~TDS*100~CTT*1~SE*12*0001~GE*1*1~IEA*1*000000001~";
    assert_eq!(
        order_problems(edi),
        [
            "set 0001 Heading N1 loop: REF (110) after PER (120)",
            "set 0001 Heading N1 loop: N2 (80) after N3 (90)"
        ]
    );
}

#[test]
fn golden_samples_and_the_corpus_are_written_in_table_order() {
    let mut written = 0;
    let mut inputs = vec![
        repo_root().join("samples/x12/invoice/rich.edi"),
        repo_root().join("samples/x12/purchase_order/rich.edi"),
    ];
    for folder in ["x12-810", "x12-850"] {
        if let Some(dir) = corpus_or_skip(folder, "x12 segment order").unwrap() {
            inputs.extend(files_under(&dir));
        }
    }
    for f in inputs {
        let docs = decode(&std::fs::read(&f).unwrap());
        assert!(!docs.is_empty(), "{}", f.display());
        let out = write(&docs);
        let problems = order_problems(&out);
        assert!(
            problems.is_empty(),
            "{}: {problems:#?}\n{}",
            f.display(),
            String::from_utf8_lossy(&out)
        );
        written += 1;
    }
    assert!(written >= 2, "{written}");
}

#[test]
fn kept_segments_go_to_their_place_and_a_kept_party_loop_stays_whole() {
    let golden =
        std::fs::read(repo_root().join("samples/x12/invoice/rich.canonical.json")).unwrap();
    let mut docs: Vec<Document> = from_json_lines(&golden)
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let Document::Invoice(inv) = &mut docs[0] else {
        panic!("the golden invoice sample is not an invoice");
    };
    // As a hand-made document might hold them: a date and a FOB before a reference, then a
    // party the model does not hold with its own REF (a REF after an N1 is the loop's).
    inv.extensions.insert(
        "x12".into(),
        serde_json::json!({"segments": [
            ["DTM", "011", "20260314"],
            ["FOB", "PP"],
            ["REF", "IV", "X-1"],
            ["N1", "PE", "Payee"],
            ["REF", "DP", "7"]
        ]}),
    );
    let out = write(&docs);
    assert_eq!(order_problems(&out), Vec::<String>::new());
    let text = String::from_utf8(out.clone()).unwrap();
    // Each segment as its id and first element: `REF*IV`.
    let ids: Vec<String> = text
        .split('~')
        .map(|s| s.trim().split('*').take(2).collect::<Vec<_>>().join("*"))
        .collect();
    let at = |want: &str| {
        ids.iter()
            .position(|s| *s == want)
            .unwrap_or_else(|| panic!("{want} not written:\n{text}"))
    };
    // The heading REF comes right after CUR; the payee loop keeps its REF; DTM and FOB
    // follow ITD.
    assert_eq!(at("REF*IV"), at("CUR*SE") + 1, "{text}");
    assert_eq!(at("REF*DP"), at("N1*PE") + 1, "{text}");
    assert!(
        at("ITD*") < at("DTM*011") && at("DTM*011") < at("FOB*PP"),
        "{text}"
    );
    // Read back, the document holds the same segments (in table order now), the DTM*011
    // read as the ship date.
    let again = decode(&out);
    let Document::Invoice(back) = &again[0] else {
        panic!("not an invoice");
    };
    let kept = &back.extensions["x12"]["segments"];
    assert_eq!(
        kept,
        &serde_json::json!([
            ["REF", "IV", "X-1"],
            ["N1", "PE", "Payee"],
            ["REF", "DP", "7"],
            ["FOB", "PP"]
        ]),
        "{text}"
    );
    assert_eq!(back.extensions["x12"]["ship_date"], "2026-03-14", "{text}");
}

/// The table's sanity: the documents other systems wrote follow it too, as do the golden
/// samples.
#[test]
fn corpus_inputs_and_golden_samples_follow_the_table() {
    let mut total = 0;
    let mut out_of_order = Vec::new();
    let mut inputs = files_under(&repo_root().join("samples/x12"))
        .into_iter()
        .filter(|f| f.extension().is_some_and(|e| e == "edi"))
        .collect::<Vec<_>>();
    for folder in ["x12-810", "x12-850"] {
        let Some(dir) = corpus_or_skip(folder, "x12 segment order").unwrap() else {
            return;
        };
        inputs.extend(files_under(&dir));
    }
    {
        for f in inputs {
            total += 1;
            let p = order_problems(&std::fs::read(&f).unwrap());
            if !p.is_empty() {
                out_of_order.push(format!("{}: {p:?}", f.display()));
            }
        }
    }
    assert!(total >= 14, "{total}");
    assert!(out_of_order.is_empty(), "{out_of_order:#?}");
}

/// `edi` with `extra` inserted after the first segment starting with `after`, and SE01
/// counted again.
fn with_segments(edi: &str, after: &str, extra: &[&str]) -> String {
    let mut segs: Vec<String> = edi
        .split('~')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    let at = segs.iter().position(|s| s.starts_with(after)).unwrap() + 1;
    for (k, e) in extra.iter().enumerate() {
        segs.insert(at + k, (*e).to_string());
    }
    let st = segs.iter().position(|s| s.starts_with("ST*")).unwrap();
    let se = segs.iter().position(|s| s.starts_with("SE*")).unwrap();
    let control = segs[se].split('*').nth(2).unwrap().to_string();
    segs[se] = format!("SE*{}*{control}", se - st + 1);
    segs.iter().map(|s| format!("{s}~\n")).collect()
}

/// The golden rich invoice with segments inserted (each `(after, extra)` as in
/// [`with_segments`]), read: the one invoice it holds.
fn rich_invoice_with(inserts: &[(&str, &[&str])]) -> Invoice {
    let rich = std::fs::read_to_string(repo_root().join("samples/x12/invoice/rich.edi")).unwrap();
    let edi = inserts.iter().fold(rich, |edi, (after, extra)| {
        with_segments(&edi, after, extra)
    });
    match decode(edi.as_bytes()).as_slice() {
        [Document::Invoice(inv)] => inv.clone(),
        other => panic!("not one invoice: {other:?}\n{edi}"),
    }
}

/// Writes `inv`, checks that the segments are in table order and that it reads back the same;
/// the bytes written.
fn written_and_read_back(inv: &Invoice) -> Vec<u8> {
    let docs = [Document::Invoice(inv.clone())];
    let out = write(&docs);
    assert_eq!(order_problems(&out), Vec::<String>::new());
    assert_eq!(decode(&out), docs, "{}", String::from_utf8_lossy(&out));
    out
}

/// A sender's own order of the segments the model does not hold (a FOB before a REF, an
/// unknown segment before a line's REF, an ISS before a CAD in the summary) is put in table
/// order once, when read; written and read again, the document is the same, what is written
/// is in table order, and the summary's segments stay in the summary.
#[test]
fn kept_segments_out_of_order_survive_a_round_trip_in_table_order() {
    let inv = &rich_invoice_with(&[
        ("BIG*", &["FOB*PP", "REF*IA*77"]),
        ("IT1*1*", &["ZZ1*A", "REF*LI*9", "SAC*C*D240***100"]),
        // The summary's own: an ISS before a CAD (the table has CAD first).
        ("TDS*", &["ISS*1*CT*5", "CAD*M****UPS"]),
    ]);
    let heading: Vec<&str> = inv.extensions["x12"]["segments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s[0].as_str().unwrap())
        .collect();
    let at = |id: &str| heading.iter().position(|s| *s == id).unwrap();
    assert!(at("REF") < at("FOB"), "{heading:?}");
    let line: Vec<&str> = inv.lines[0].extensions["x12"]["segments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s[0].as_str().unwrap())
        .collect();
    assert_eq!(line, ["ZZ1", "REF"], "{line:?}");
    assert_eq!(
        inv.extensions["x12"]["summary_segments"],
        serde_json::json!([["CAD", "M", "", "", "", "UPS"], ["ISS", "1", "CT", "5"]]),
        "kept with the summary, in table order"
    );
    let out = written_and_read_back(inv);
    let text = String::from_utf8_lossy(&out).to_string();
    let (tds, cad, iss, ctt) = (
        text.find("TDS*").unwrap(),
        text.find("CAD*").unwrap(),
        text.find("ISS*").unwrap(),
        text.find("CTT*").unwrap(),
    );
    assert!(
        tds < cad && cad < iss && iss < ctt,
        "written in the summary: {text}"
    );
}

/// Found by the fuzzer: a free-form PID after an unknown segment was kept apart from the
/// description, then written next to it (the unknown segment goes to its place) and read back
/// as part of it. Every later free-form PID of a loop now continues the description.
#[test]
fn a_later_free_form_pid_continues_the_description_wherever_it_is() {
    let inv = &rich_invoice_with(&[("PID*F****Safety gloves", &["ZZ1*A", "PID*F****box of 100"])]);
    assert_eq!(
        inv.lines[0].description.as_deref(),
        Some("Safety gloves, nitrile, size L box of 100")
    );
    assert_eq!(
        inv.lines[0].extensions["x12"]["segments"],
        serde_json::json!([["ZZ1", "A"]])
    );
    written_and_read_back(inv);
}

/// Found by the fuzzer: an N1 loop with an N2 after its N3 and N4, and a second N4 before it,
/// kept those in the sender's order, but the writer puts kept N2s right after the N1 (their
/// place) and the rest at the loop's end, so the document read back listed them differently.
/// The reader now lists a loop's kept segments as the writer puts them back.
#[test]
fn a_party_loop_with_its_n2_late_reads_the_same_once_written() {
    let inv = &rich_invoice_with(&[(
        "N4*Springfield",
        &["N4*JUAREZ*CH**MEX", "N2*ATTN RECEIVING", "N3*SECOND STREET"],
    )]);
    assert_eq!(
        inv.extensions["x12"]["party_segments"]["supplier"],
        serde_json::json!([["N2", "ATTN RECEIVING"], ["N4", "JUAREZ", "CH", "", "MEX"]]),
        "kept N2 first, then the rest"
    );
    written_and_read_back(inv);
}

/// Found mapping the ship-from: the party writer put what a loop kept (a REF the model does
/// not hold) after the loop's PER, and a strict translator refuses a loop REF after its PER
/// (004010/005010 810 and 850: N1, N2, N3, N4, REF, PER). Each goes to its place in the loop:
/// the kept REF and the kept N2 of the supplier, and of a line's ship-to, and a whole loop kept
/// for a role the model has no field for (its PER before its REF as the sender had it).
/// Written in order, it reads back the same.
#[test]
fn a_party_loops_kept_ref_goes_before_its_per() {
    let inv = &rich_invoice_with(&[
        ("PER*IC*Dana", &["REF*DP*042", "N2*Accounts dept"]),
        (
            "PID*F****Safety gloves",
            &["N1*ST*Bay 3", "PER*IC*Lee", "REF*DP*7"],
        ),
        (
            "N4*Cypress Creek*OR*97002",
            &["N1*PE*Payee Co", "PER*IC*Kim", "REF*DP*9"],
        ),
    ]);
    assert_eq!(
        inv.extensions["x12"]["party_segments"]["supplier"],
        serde_json::json!([["N2", "Accounts dept"], ["REF", "DP", "042"]]),
        "listed in the loop's order"
    );
    let out = written_and_read_back(inv);
    let text = String::from_utf8_lossy(&out).to_string();
    assert!(
        text.contains(
            "N1*SU*Acme Industrial Supply*1*123456789~\nN2*Accounts dept~\nN3*100 Factory Road*Building 4~\n\
             N4*Springfield*IL*62701*US~\nREF*DP*042~\nPER*IC*Dana Ortiz*TE*+1 217 555 0100*EM*billing@acme.example~\n"
        ),
        "{text}"
    );
    assert!(
        text.contains("N1*ST*Bay 3~\nREF*DP*7~\nPER*IC*Lee~\n"),
        "{text}"
    );
    assert!(
        text.contains("N1*PE*Payee Co~\nREF*DP*9~\nPER*IC*Kim~\n"),
        "{text}"
    );
}

/// The golden invoice and order with a loop REF after the loop PER (as a sender that does
/// not keep the table's order sends them): read, written and read again, the documents are
/// the same and what is written has every loop in order.
#[test]
fn samples_with_a_loop_ref_after_its_per_round_trip_in_order() {
    for (sample, after) in [
        ("samples/x12/invoice/rich.edi", "PER*IC*Dana"),
        ("samples/x12/purchase_order/rich.edi", "N1*ST"),
    ] {
        let raw = std::fs::read_to_string(repo_root().join(sample)).unwrap();
        let edi = with_segments(&raw, after, &["PER*IC*Receiving", "REF*DP*042"]);
        assert!(
            !order_problems(edi.as_bytes()).is_empty(),
            "{sample}: out of order to begin with"
        );
        let docs = decode(edi.as_bytes());
        assert_eq!(docs.len(), 1, "{sample}");
        let out = write(&docs);
        assert_eq!(
            order_problems(&out),
            Vec::<String>::new(),
            "{sample}:\n{}",
            String::from_utf8_lossy(&out)
        );
        assert_eq!(decode(&out), docs, "{sample}");
        let again = write(&decode(&out));
        assert_eq!(again, out, "{sample}: written the same twice");
    }
}
