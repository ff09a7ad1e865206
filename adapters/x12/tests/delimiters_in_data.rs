//! Delimiters that are data. An interchange whose segment terminator (the character after
//! ISA16) is a letter, digit or space used to be read and its invoice delivered, while no
//! acknowledgment could be written: the 997 mirrors the inbound delimiters, and its own ISA
//! holds `ZZ`, `00`, spaces and digits. The sender heard nothing. X12 never lets a delimiter
//! occur in data, so the interchange is refused whole (TA1 R, note 004 "the segment
//! terminator is invalid"), the TA1 written with a terminator of its own, and nothing in it is
//! delivered. A component separator that is a space is refused the same way (note 027), as an
//! alphanumeric one already was.

// Test helpers outside #[test] functions may unwrap and panic too: a failure is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use adapter_x12::{AckStatus, InMemoryControlNumbers, Parallelism, X12Codec, acknowledge_with};
use chrono::{TimeZone, Utc};
use gateway_core::{Decode, PartnerProfile};

/// A partner's invoice (one the gateway accepts with `~`), its ISA16 `component` and segments
/// ended by `terminator` and a line break (none after a space: spaces before a line break are
/// padding, and the line break the terminator).
fn invoice(component: char, terminator: char) -> String {
    let line_break = if terminator == ' ' { "" } else { "\n" };
    let segments = [
        format!(
            "ISA*00*          *00*          *ZZ*ACME           *ZZ*COUPAGW        *260315*1030*U*00401*000000518*0*P*{component}"
        ),
        "GS*IN*ACME*COUPAGW*20260315*1030*42*X*004010".into(),
        "ST*810*0001".into(),
        "BIG*20260315*INV-Q518*20260301*PO-7781".into(),
        "CUR*SE*USD".into(),
        "N1*SU*Acme Industrial Supply*1*123456789".into(),
        "IT1*1*10*EA*12.5**VP*GLV-NIT-L".into(),
        "PID*F****Safety gloves, nitrile, size L".into(),
        "TDS*12500".into(),
        "CTT*1".into(),
        "SE*9*0001".into(),
        "GE*1*42".into(),
        "IEA*1*000000518".into(),
    ];
    segments
        .iter()
        .map(|s| format!("{s}{terminator}{line_break}"))
        .collect()
}

/// A named partner, whose invoices go on to Coupa.
fn acme() -> PartnerProfile {
    PartnerProfile {
        id: "acme".into(),
        ..PartnerProfile::default()
    }
}

fn ack(raw: &str) -> (adapter_x12::Acknowledgment, String) {
    let now = Utc.with_ymd_and_hms(2026, 3, 16, 8, 5, 0).unwrap();
    let a = acknowledge_with(raw.as_bytes(), &acme(), &InMemoryControlNumbers::new(), now)
        .expect("an acknowledgment can be written");
    let text = String::from_utf8(a.bytes.clone()).unwrap();
    (a, text)
}

/// Documents decoded (sequentially and on the machine's cores: the same) and the rejects in
/// words.
fn decode(raw: &str) -> (usize, Vec<String>) {
    let [one, cores] = [Parallelism::sequential(), Parallelism::cores()].map(|par| {
        let d = X12Codec::new()
            .with_parallelism(par)
            .decode(raw.as_bytes(), &acme());
        let rejects: Vec<String> = d.rejects.iter().map(ToString::to_string).collect();
        (d.documents.len(), rejects)
    });
    assert_eq!(one, cores);
    one
}

#[test]
fn the_invoice_with_a_tilde_is_accepted() {
    let raw = invoice('>', '~');
    let (a, text) = ack(&raw);
    assert!(text.contains("AK5*A~"), "{text}");
    assert_eq!(a.interchanges[0].ta1, None);
    assert_eq!(decode(&raw), (1, Vec::new()));
}

#[test]
fn a_segment_terminator_that_is_data_rejects_the_interchange_with_a_ta1_004() {
    for terminator in ['Z', 'z', '9', ' '] {
        let raw = invoice('>', terminator);
        let (a, text) = ack(&raw);
        // The TA1 alone, in an envelope that can hold the header's values: `~` ends its
        // segments.
        assert_eq!(
            a.interchanges[0].ta1,
            Some((AckStatus::Rejected, "004")),
            "{terminator:?}: {text}"
        );
        assert!(
            a.interchanges[0].groups.is_empty(),
            "{terminator:?}: {text}"
        );
        assert!(
            text.starts_with(
                "ISA*00*          *00*          *ZZ*COUPAGW        *ZZ*ACME           *260316*0805*U*00401*"
            ) && text.contains("*0*P*>~\nTA1*000000518*260315*1030*R*004~\nIEA*0*"),
            "{terminator:?}: {text}"
        );
        assert!(!text.contains("AK1"), "{terminator:?}: {text}");
        assert!(a.unanswerable.is_empty(), "{:?}", a.unanswerable);

        // Nothing is delivered, and the reject says where and why: once, on the set refused.
        let (documents, rejects) = decode(&raw);
        assert_eq!(documents, 0, "{terminator:?}: {rejects:?}");
        let why = format!(
            "not read: interchange 000000518 is rejected (TA1 note 004): segment terminator {terminator:?} (the character after ISA16) is a letter, digit or space"
        );
        let refusals: Vec<&String> = rejects
            .iter()
            .filter(|r| r.contains("(TA1 note 004)"))
            .collect();
        assert_eq!(refusals.len(), 1, "{terminator:?}: {rejects:?}");
        assert!(
            refusals[0].contains("set 0001 (810)") && refusals[0].contains(&why),
            "{terminator:?}: {rejects:?}"
        );
        // An interchange holding no set is refused by a reject of its own.
        let header_end = raw.find("GS*IN").unwrap();
        let empty = format!("{}IEA*0*000000518{terminator}", &raw[..header_end]);
        let (documents, rejects) = decode(&empty);
        assert_eq!(documents, 0, "{terminator:?}: {rejects:?}");
        let header = format!(
            "line 1, interchange 000000518: segment terminator {terminator:?} (the character after ISA16) is a letter, digit or space"
        );
        assert!(
            rejects.len() == 1
                && rejects[0].starts_with(&header)
                && rejects[0].ends_with("(TA1 note 004)"),
            "{terminator:?}: {empty:?} {rejects:?}"
        );
    }
}

#[test]
fn a_component_separator_that_is_a_space_rejects_the_interchange_with_a_ta1_027() {
    let raw = invoice(' ', '~');
    let (a, text) = ack(&raw);
    assert!(text.contains("TA1*000000518*260315*1030*R*027~"), "{text}");
    assert!(!text.contains("AK1"), "{text}");
    assert_eq!(a.interchanges[0].ta1, Some((AckStatus::Rejected, "027")));
    let (documents, rejects) = decode(&raw);
    assert_eq!(documents, 0, "{rejects:?}");
    assert!(
        rejects.iter().any(|r| r.starts_with(
            "line 1, segment #1: interchange header ISA: ISA16 component separator ' ' is a space"
        )),
        "{rejects:?}"
    );
}
