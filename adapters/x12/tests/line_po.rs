//! An invoice line billing another PO than the invoice's (`lines[].po_number`): read from an
//! IT1 qualifier pair `PO` or a `REF*PO` in the IT1 loop when it differs from BIG04, written
//! as `REF*PO` in the line's loop (or into the pair or REF it came from), and read back the
//! same. A line on the invoice's own PO holds none.

// Test helpers outside #[test] functions may unwrap and panic too: a failure is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use adapter_x12::X12Codec;
use gateway_core::{Decode, Encode, PartnerProfile};
use gateway_model::{Document, Invoice, InvoiceLine, InvoicePurpose, Party};
use rust_decimal::Decimal;

const ISA: &str = "ISA*00*          *00*          *ZZ*ACMESUPPLY     *ZZ*GLOBEXCORP     *260315*1030*U*00401*000000043*0*P*>~\n";

/// An 810 interchange holding `body` (ST..SE exclusive).
fn interchange(body: &[&str]) -> String {
    let mut segs = vec!["ST*810*0001".to_string()];
    segs.extend(body.iter().map(|s| s.to_string()));
    segs.push(format!("SE*{}*0001", body.len() + 2));
    format!(
        "{ISA}GS*IN*ACMESUPPLY*GLOBEXCORP*20260315*1030*43*X*004010~\n{}~\nGE*1*43~\nIEA*1*000000043~\n",
        segs.join("~\n")
    )
}

/// The QA tester's `po2.edi`: BIG04 PO-1, line 1 naming PO-2 in an IT1 pair, line 2
/// naming PO-3 in a `REF*PO`.
fn po2() -> String {
    interchange(&[
        "BIG*20260315*INV-1**PO-1",
        "N1*SU*Acme",
        "IT1*1*1*EA*10**PO*PO-2*PL*7",
        "PID*F****x",
        "IT1*2*1*EA*10**PL*3",
        "REF*PO*PO-3",
        "PID*F****y",
        "TDS*2000",
        "CTT*2",
    ])
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

fn invoice_mut(d: &mut Document) -> &mut Invoice {
    match d {
        Document::Invoice(i) => i,
        other => panic!("not an invoice: {other:?}"),
    }
}

/// The segments of an interchange's one set, ST to SE, trimmed.
fn set_segments(x12: &str) -> Vec<String> {
    x12.split('~')
        .map(|s| s.trim().to_string())
        .skip_while(|s| !s.starts_with("ST*"))
        .take_while(|s| !s.starts_with("GE*"))
        .collect()
}

/// The segments of the IT1 loop of line `n` (0-based): from its IT1 to the next IT1 or TDS.
fn line_loop(x12: &str, n: usize) -> Vec<String> {
    let segs = set_segments(x12);
    let starts: Vec<usize> = segs
        .iter()
        .enumerate()
        .filter(|(_, s)| s.starts_with("IT1*"))
        .map(|(i, _)| i)
        .collect();
    let from = starts[n];
    segs[from..]
        .iter()
        .enumerate()
        .take_while(|(k, s)| *k == 0 || !(s.starts_with("IT1*") || s.starts_with("TDS*")))
        .map(|(_, s)| s.clone())
        .collect()
}

fn pos(line: &InvoiceLine) -> Option<&str> {
    line.po_number.as_deref()
}

#[test]
fn each_line_gets_the_po_it_names_when_it_is_not_the_invoices() {
    let docs = decode(po2().as_bytes());
    let inv = invoice(&docs[0]);
    assert_eq!(inv.po_number.as_deref(), Some("PO-1"));
    assert_eq!(pos(&inv.lines[0]), Some("PO-2"), "the IT1 pair PO");
    assert_eq!(pos(&inv.lines[1]), Some("PO-3"), "the line's REF*PO");
    assert_eq!(inv.lines[0].po_line_number.as_deref(), Some("7"));
    assert_eq!(inv.lines[1].po_line_number.as_deref(), Some("3"));

    // A line naming the invoice's own PO bills the invoice's PO: the field stays absent.
    let same = interchange(&[
        "BIG*20260315*INV-1**PO-1",
        "IT1*1*1*EA*10**PO*PO-1",
        "IT1*2*1*EA*10",
        "REF*PO*PO-1",
        "IT1*3*1*EA*10",
        "TDS*3000",
        "CTT*3",
    ]);
    let docs = decode(same.as_bytes());
    let inv = invoice(&docs[0]);
    assert!(inv.lines.iter().all(|l| l.po_number.is_none()), "{inv:?}");
    // ... and the pair and the REF go back as they came.
    assert_eq!(set_segments(&encode(&docs)), set_segments(&same));

    // A REF inside a line's N1 loop is that party's, not the line's PO.
    let party_ref = interchange(&[
        "BIG*20260315*INV-1**PO-1",
        "IT1*1*1*EA*10",
        "N1*ST*Dock 7*92*D7",
        "REF*PO*PO-9",
        "TDS*1000",
        "CTT*1",
    ]);
    let docs = decode(party_ref.as_bytes());
    assert_eq!(pos(&invoice(&docs[0]).lines[0]), None);
    assert_eq!(set_segments(&encode(&docs)), set_segments(&party_ref));
}

/// po2.edi is not quite in the writer's form: the writer puts the mapped IT1 pairs (`PL`)
/// before the kept ones (`PO`), and the 810's line loop has REF after PID. In that form it
/// goes back exactly, PO pair and REF included, and reads back the same.
#[test]
fn po2_goes_back_to_x12_unchanged() {
    let raw = po2();
    let docs = decode(raw.as_bytes());
    let written = encode(&docs);
    let in_writer_form = interchange(&[
        "BIG*20260315*INV-1**PO-1",
        "N1*SU*Acme",
        "IT1*1*1*EA*10**PL*7*PO*PO-2",
        "PID*F****x",
        "IT1*2*1*EA*10**PL*3",
        "PID*F****y",
        "REF*PO*PO-3",
        "TDS*2000",
        "CTT*2",
    ]);
    assert_eq!(
        set_segments(&written),
        set_segments(&in_writer_form),
        "{written}"
    );
    let back = decode(written.as_bytes());
    assert_eq!(back, docs);
    let inv = invoice(&back[0]);
    assert_eq!(
        inv.lines.iter().map(pos).collect::<Vec<_>>(),
        [Some("PO-2"), Some("PO-3")]
    );
    let again = decode(in_writer_form.as_bytes());
    assert_eq!(again, docs);
    assert_eq!(set_segments(&encode(&again)), set_segments(&in_writer_form));

    // A REF*PO among other line REFs, with a description, keeps its place and its elements.
    let busy = interchange(&[
        "BIG*20260315*INV-1**PO-1",
        "IT1*1*1*EA*10",
        "REF*ZZ*note",
        "REF*PO*PO-4*second order",
        "REF*PO*PO-5",
        "IT1*2*1*EA*10",
        "REF*PO*PO-6",
        "REF*VN*V-1",
        "TDS*2000",
        "CTT*2",
    ]);
    let docs = decode(busy.as_bytes());
    let inv = invoice(&docs[0]);
    assert_eq!(
        pos(&inv.lines[0]),
        Some("PO-4"),
        "the first PO the line names"
    );
    assert_eq!(pos(&inv.lines[1]), Some("PO-6"));
    let written = encode(&docs);
    assert_eq!(set_segments(&written), set_segments(&busy), "{written}");
    assert_eq!(decode(written.as_bytes()), docs);
}

fn two_po_invoice() -> Invoice {
    let line = |n: u32, po: Option<&str>| InvoiceLine {
        line_number: n,
        quantity: Some(Decimal::ONE),
        uom: Some("EA".into()),
        unit_price: Some(Decimal::TEN),
        amount: Some(Decimal::TEN),
        description: Some(format!("item {n}").as_str().into()),
        po_line_number: Some("1".into()),
        po_number: po.map(Into::into),
        ..InvoiceLine::default()
    };
    Invoice {
        invoice_number: Some("INV-7".into()),
        invoice_date: chrono::NaiveDate::from_ymd_opt(2026, 3, 15),
        purpose: Some(InvoicePurpose::Standard),
        po_number: Some("PO-1".into()),
        supplier: Some(Party {
            name: Some("Acme".into()),
            ..Party::default()
        }),
        lines: vec![line(1, None), line(2, Some("PO-2"))],
        total: Some(Decimal::from(20)),
        ..Invoice::default()
    }
}

#[test]
fn a_canonical_invoice_on_two_pos_goes_through_x12_and_back_the_same() {
    let original = Document::Invoice(two_po_invoice());
    let written = encode(std::slice::from_ref(&original));
    assert!(
        line_loop(&written, 1).contains(&"REF*PO*PO-2".to_string()),
        "{written}"
    );
    assert!(
        !line_loop(&written, 0)
            .iter()
            .any(|s| s.starts_with("REF*PO")),
        "the first line bills the invoice's PO: {written}"
    );
    let back = decode(written.as_bytes());
    assert_eq!(back, vec![original], "{written}");

    // With no PO on the invoice, a line's PO is its own all the same.
    let mut no_header = two_po_invoice();
    no_header.po_number = None;
    let original = Document::Invoice(no_header);
    let written = encode(std::slice::from_ref(&original));
    assert_eq!(decode(written.as_bytes()), vec![original], "{written}");
}

#[test]
fn an_edited_po_is_written_instead_of_the_one_kept() {
    let mut docs = decode(po2().as_bytes());
    {
        let inv = invoice_mut(&mut docs[0]);
        inv.lines[0].po_number = Some("PO-8".into());
        inv.lines[1].po_number = Some("PO-9".into());
    }
    let written = encode(&docs);
    let first = line_loop(&written, 0);
    assert!(first[0].contains("*PO*PO-8"), "{written}");
    assert!(!written.contains("PO-2"), "{written}");
    let second = line_loop(&written, 1);
    assert!(second.contains(&"REF*PO*PO-9".to_string()), "{written}");
    assert!(!written.contains("PO-3"), "{written}");
    let back = decode(written.as_bytes());
    let inv = invoice(&back[0]);
    assert_eq!(
        inv.lines.iter().map(pos).collect::<Vec<_>>(),
        [Some("PO-8"), Some("PO-9")]
    );
    assert_eq!(set_segments(&encode(&back)), set_segments(&written));

    // Cleared: the line bills the invoice's PO, and no stale PO is written for it.
    let mut docs = decode(po2().as_bytes());
    {
        let inv = invoice_mut(&mut docs[0]);
        inv.lines[0].po_number = None;
        inv.lines[1].po_number = None;
    }
    let written = encode(&docs);
    assert!(
        !written.contains("PO-2") && !written.contains("PO-3"),
        "{written}"
    );
    let back = decode(written.as_bytes());
    let inv = invoice(&back[0]);
    assert!(inv.lines.iter().all(|l| l.po_number.is_none()), "{written}");

    // The invoice's PO edited: a line that billed it (absent field) bills the new one, so a
    // kept pair naming the old one is written with the new one.
    let raw = interchange(&[
        "BIG*20260315*INV-1**PO-1",
        "IT1*1*1*EA*10**PO*PO-1",
        "TDS*1000",
        "CTT*1",
    ]);
    let mut docs = decode(raw.as_bytes());
    invoice_mut(&mut docs[0]).po_number = Some("PO-5".into());
    let written = encode(&docs);
    assert!(line_loop(&written, 0)[0].ends_with("*PO*PO-5"), "{written}");
    let back = decode(written.as_bytes());
    let inv = invoice(&back[0]);
    assert_eq!(inv.po_number.as_deref(), Some("PO-5"));
    assert_eq!(pos(&inv.lines[0]), None, "{written}");
}

/// The golden sample `samples/x12/invoice/multi_po.edi` (lines on the invoice's PO, on
/// another in an IT1 pair, on a third in a `REF*PO`) goes back to X12 segment for segment.
#[test]
fn the_multi_po_sample_goes_back_unchanged() {
    let path = gateway_core::testkit::repo_root().join("samples/x12/invoice/multi_po.edi");
    let raw = std::fs::read_to_string(path).unwrap();
    let docs = decode(raw.as_bytes());
    let inv = invoice(&docs[0]);
    assert_eq!(
        inv.lines.iter().map(pos).collect::<Vec<_>>(),
        [None, Some("PO-2"), Some("PO-3")]
    );
    let written = encode(&docs);
    assert_eq!(set_segments(&written), set_segments(&raw), "{written}");
}
