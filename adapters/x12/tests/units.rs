//! X12's unit code (element 355, IT103/PO103) is two characters. A received `KGM` (the
//! UN/CEFACT code for kilogram) is over-long: the reader accepts it with errors (AK4 code 5)
//! and keeps it as the line's unit, and the writer writes what X12 can hold, the table's `KG`,
//! rather than refuse the document it read. A unit that fits goes back as it came (`Ea`), and
//! so does `KGM` to a partner whose guide allows three characters.

// Test helpers outside #[test] functions may unwrap and panic too: a failure is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use adapter_x12::X12Codec;
use gateway_core::{Decode, Encode, PartnerProfile};
use gateway_model::Document;

const ISA: &str = "ISA*00*          *00*          *ZZ*ACMESUPPLY     *ZZ*GLOBEXCORP     *260315*1030*U*00401*000000043*0*P*>~\n";

fn interchange(functional: &str, set: &str, body: &[&str]) -> String {
    let mut segs = vec![format!("ST*{set}*0001")];
    segs.extend(body.iter().map(|s| s.to_string()));
    segs.push(format!("SE*{}*0001", body.len() + 2));
    format!(
        "{ISA}GS*{functional}*ACMESUPPLY*GLOBEXCORP*20260315*1030*43*X*004010~\n{}~\nGE*1*43~\nIEA*1*000000043~\n",
        segs.join("~\n")
    )
}

fn invoice_with_unit(unit: &str) -> String {
    interchange(
        "IN",
        "810",
        &[
            "BIG*20260315*INV-1",
            "N1*SU*Acme",
            &format!("IT1*1*2.5*{unit}*10**VP*A"),
            "PID*F****Steel wire",
            "TDS*2500",
            "CTT*1",
        ],
    )
}

fn decode(raw: &str) -> Vec<Document> {
    let d = X12Codec::new().decode(raw.as_bytes(), &PartnerProfile::anonymous());
    assert!(d.rejects.is_empty(), "rejects {:?}", d.rejects);
    d.documents.into_iter().map(|d| d.document).collect()
}

fn encode(docs: &[Document], partner: &PartnerProfile) -> String {
    String::from_utf8(X12Codec::new().encode(docs, partner).unwrap()).unwrap()
}

fn uom(d: &Document) -> Option<String> {
    match d {
        Document::Invoice(i) => i.lines[0].uom.as_deref().map(String::from),
        Document::PurchaseOrder(p) => p.lines[0].uom.as_deref().map(String::from),
    }
}

#[test]
fn a_unit_longer_than_it103_allows_is_read_and_written_back_as_its_x12_code() {
    let raw = invoice_with_unit("KGM");
    let decoded = X12Codec::new().decode(raw.as_bytes(), &PartnerProfile::anonymous());
    // Accepted with errors: the sender hears of it in its 997, the operator in a note.
    let notes = format!("{:?}", decoded.documents[0].meta);
    assert!(notes.contains("IT103"), "{notes}");
    let docs: Vec<Document> = decoded.documents.into_iter().map(|d| d.document).collect();
    assert_eq!(uom(&docs[0]).as_deref(), Some("KGM"));

    let written = encode(&docs, &PartnerProfile::anonymous());
    assert!(written.contains("IT1*1*2.5*KG*10**VP*A~"), "{written}");
    let back = decode(&written);
    assert_eq!(uom(&back[0]).as_deref(), Some("KG"));
    // From there on it is stable.
    assert_eq!(encode(&back, &PartnerProfile::anonymous()), written);
}

#[test]
fn a_po103_kgm_goes_out_as_kg_too() {
    let raw = interchange(
        "PO",
        "850",
        &[
            "BEG*00*NE*PO-1**20260301",
            "PO1*1*3*KGM*4**VP*W",
            "PID*F****Wire",
            "CTT*1",
        ],
    );
    let docs = decode(&raw);
    assert_eq!(uom(&docs[0]).as_deref(), Some("KGM"));
    let written = encode(&docs, &PartnerProfile::anonymous());
    assert!(written.contains("PO1*1*3*KG*4**VP*W~"), "{written}");
}

#[test]
fn a_unit_that_fits_goes_back_as_it_came() {
    // `Ea` fits IT103; the table would write `EA`, but the sender's own code goes back.
    let docs = decode(&invoice_with_unit("Ea"));
    let written = encode(&docs, &PartnerProfile::anonymous());
    assert!(written.contains("IT1*1*2.5*Ea*10**VP*A~"), "{written}");
    // A partner whose guide allows three characters gets its `KGM` back.
    let partner =
        PartnerProfile::from_toml("id = \"p\"\n[x12]\nmax_lengths = { IT103 = 3 }\n", "p.toml")
            .unwrap();
    let docs = decode(&invoice_with_unit("KGM"));
    let written = encode(&docs, &partner);
    assert!(written.contains("IT1*1*2.5*KGM*10**VP*A~"), "{written}");
}
