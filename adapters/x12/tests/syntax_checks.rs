//! X12 syntax faults a received set used to pass as accepted (`AK5*A`): an element shorter
//! than its dictionary minimum, control characters in data, a CTT01 that miscounts the lines,
//! a set in a functional group (GS01) it does not belong to, and segments the set may not hold
//! (no part of it, or once too often). All but the fourth are accepted with errors (the
//! document goes through with the segment kept, the partner is told); the fourth is rejected.

// Test helpers outside #[test] functions may unwrap and panic too: a failure is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use adapter_x12::{AckStatus, InMemoryControlNumbers, X12Codec, acknowledge_with};
use chrono::{TimeZone, Utc};
use gateway_core::{Decode, PartnerProfile};

const ISA4010: &str = "ISA*00*          *00*          *ZZ*SUPPLIER       *01*BUYER          *260315*1030*U*00401*000000042*0*P*>~\n";
const ISA5010: &str = "ISA*00*          *00*          *ZZ*SUPPLIER       *01*BUYER          *260315*1030*^*00501*000000042*0*T*:~\n";

/// One 810 of `body` (ST and SE added) in a group of `gs01` and `version`.
fn invoice_in(isa: &str, gs01: &str, version: &str, st01: &str, body: &[&str]) -> Vec<u8> {
    let mut set = format!("ST*{st01}*0001~\n");
    for seg in body {
        set.push_str(seg);
        set.push_str("~\n");
    }
    format!(
        "{isa}GS*{gs01}*SUPGS*BUYGS*20260315*1030*77*X*{version}~\n{set}SE*{}*0001~\nGE*1*77~\nIEA*1*000000042~\n",
        body.len() + 2
    )
    .into_bytes()
}

fn invoice(body: &[&str]) -> Vec<u8> {
    invoice_in(ISA4010, "IN", "004010", "810", body)
}

const GOOD: [&str; 6] = [
    "BIG*20260315*INV-1*20260301*PO-1",
    "N1*SU*Acme*92*17",
    "N4*Springfield*IL*62701",
    "IT1*1*10*EA*2.50**VP*X1",
    "TDS*2500",
    "CTT*1",
];

/// `GOOD` with segment `at` replaced by `seg`.
fn with(at: usize, seg: &str) -> Vec<&str> {
    let mut body = GOOD.to_vec();
    body[at] = seg;
    body
}

fn ack(raw: &[u8]) -> (AckStatus, String) {
    let now = Utc.with_ymd_and_hms(2026, 3, 16, 8, 5, 0).unwrap();
    let a = acknowledge_with(
        raw,
        &PartnerProfile::anonymous(),
        &InMemoryControlNumbers::new(),
        now,
    )
    .unwrap();
    let text = String::from_utf8_lossy(&a.bytes).into_owned();
    (a.interchanges[0].groups[0].sets[0].status, text)
}

/// The set's AK3..AK5 lines (or IK3..IK5), one string.
fn set_response(text: &str) -> String {
    text.lines()
        .filter(|l| {
            ["AK3", "AK4", "AK5", "IK3", "IK4", "IK5"]
                .iter()
                .any(|p| l.starts_with(p))
        })
        .map(|l| l.trim_end_matches('~'))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Documents decoded and the notes on the first, or the rejects.
fn decode(raw: &[u8]) -> (usize, String, usize) {
    let d = X12Codec::new().decode(raw, &PartnerProfile::anonymous());
    let notes = d
        .documents
        .first()
        .map(|doc| format!("{:?}", doc.meta.extra))
        .unwrap_or_default();
    (d.documents.len(), notes, d.rejects.len())
}

#[test]
fn a_sound_invoice_is_accepted() {
    let (status, text) = ack(&invoice(&GOOD));
    assert_eq!(status, AckStatus::Accepted, "{text}");
    assert_eq!(set_response(&text), "AK5*A", "{text}");
}

// 1. Elements shorter than their minimum: AK4 code 4.

#[test]
fn a_six_digit_date_in_004010_is_too_short_and_accepted_with_errors() {
    let raw = invoice(&with(0, "BIG*260315*INV-1*20260301*PO-1"));
    let (status, text) = ack(&raw);
    assert_eq!(status, AckStatus::AcceptedWithErrors, "{text}");
    assert_eq!(
        set_response(&text),
        "AK3*BIG*2**8\nAK4*1**4*260315\nAK5*E*5",
        "{text}"
    );
    // The document still goes through, with the note.
    let (docs, notes, rejects) = decode(&raw);
    assert_eq!((docs, rejects), (1, 0));
    assert!(
        notes.contains("BIG01 is 6 characters, shorter than the 8"),
        "{notes}"
    );
}

#[test]
fn a_short_date_in_005010_gets_ik4_code_4_in_its_999() {
    let raw = invoice_in(
        ISA5010,
        "IN",
        "005010",
        "810",
        &with(0, "BIG*20260315*INV-1*260301*PO-1"),
    );
    let (status, text) = ack(&raw);
    assert_eq!(status, AckStatus::AcceptedWithErrors, "{text}");
    assert_eq!(
        set_response(&text),
        "IK3*BIG*2**8\nIK4*3**4*260301\nIK5*E*5",
        "{text}"
    );
}

#[test]
fn short_codes_and_strings_are_too_short_and_padding_meets_the_minimum() {
    // N403 (postal code, ID 3/15) of two characters, N104 (AN 2/80) of one.
    let raw = invoice(&with(2, "N4*Springfield*IL*62"));
    let (_, text) = ack(&raw);
    assert_eq!(
        set_response(&text),
        "AK3*N4*4**8\nAK4*3**4*62\nAK5*E*5",
        "{text}"
    );
    let raw = invoice(&with(1, "N1*SU*Acme*92*7"));
    let (_, text) = ack(&raw);
    assert_eq!(
        set_response(&text),
        "AK3*N1*3**8\nAK4*4**4*7\nAK5*E*5",
        "{text}"
    );
    // A string padded with spaces to its minimum, as X12.6 allows (and the writer does).
    let (status, text) = ack(&invoice(&with(1, "N1*SU*Acme*92*7 ")));
    assert_eq!(status, AckStatus::Accepted, "{text}");
}

#[test]
fn a_blank_optional_element_is_not_too_short() {
    for body in [
        with(0, "BIG*20260315*INV-1**PO-1"),
        with(0, "BIG*20260315*INV-1* *PO-1"),
        with(2, "N4*Springfield**62701"),
        with(2, "N4*Springfield*  *62701"),
        with(1, "N1*SU*Acme"),
    ] {
        let (status, text) = ack(&invoice(&body));
        assert_eq!(status, AckStatus::Accepted, "{body:?}\n{text}");
    }
}

#[test]
fn dates_of_groups_before_004010_are_six_digits_and_not_short() {
    let raw = invoice_in(
        ISA4010,
        "IN",
        "003040",
        "810",
        &with(0, "BIG*960315*INV-1*960301*PO-1"),
    );
    let (_, text) = ack(&raw);
    assert!(!text.contains("AK4*1**4"), "{text}");
    assert!(!text.contains("AK4*3**4"), "{text}");
}

// 2. Control characters in data: AK4 code 6.

#[test]
fn control_characters_in_data_are_invalid_characters_accepted_with_errors() {
    let mut raw = invoice(&with(1, "N1*SU*Ac\x07me*92*17"));
    // A NUL inside PID-free IT107 too: each element is reported once.
    let at = raw.windows(5).position(|w| w == b"VP*X1").unwrap() + 4;
    raw.splice(at..at, [0u8, 0u8]);
    let (status, text) = ack(&raw);
    assert_eq!(status, AckStatus::AcceptedWithErrors, "{text}");
    // The value is not echoed: the acknowledgment would hold the control character itself.
    assert_eq!(
        set_response(&text),
        "AK3*N1*3**8\nAK4*2**6\nAK3*IT1*5**8\nAK4*7**6\nAK5*E*5",
        "{text}"
    );
    assert!(!text.bytes().any(|b| b < 0x20 && b != b'\n'), "{text:?}");
    let (docs, notes, rejects) = decode(&raw);
    assert_eq!((docs, rejects), (1, 0));
    assert!(
        notes.contains("N102 holds control character 0x07"),
        "{notes}"
    );
    assert!(
        notes.contains("IT107 holds control character 0x00"),
        "{notes}"
    );
}

#[test]
fn control_character_delimiters_are_not_data() {
    // Elements 0x1D, components 0x1F, segments 0x1C, as `ctrlchars.edi` sends them.
    let to_controls = |raw: Vec<u8>| -> Vec<u8> {
        raw.into_iter()
            .filter(|&b| b != b'\n')
            .map(|b| match b {
                b'*' => 0x1d,
                b'>' => 0x1f,
                b'~' => 0x1c,
                b => b,
            })
            .collect()
    };
    let (status, text) = ack(&to_controls(invoice(&GOOD)));
    assert_eq!(status, AckStatus::Accepted, "{text:?}");
    // A BEL in data is still found among them.
    let (status, text) = ack(&to_controls(invoice(&with(1, "N1*SU*Ac\x07me*92*17"))));
    assert_eq!(status, AckStatus::AcceptedWithErrors, "{text:?}");
    assert!(text.contains("\x1d2\x1d\x1d6\x1c"), "{text:?}");
}

// 3. A CTT01 that miscounts: the CTT named, no element.

#[test]
fn a_miscounting_ctt_is_named_in_an_ak3_without_an_ak4() {
    let raw = invoice(&with(5, "CTT*3"));
    let (status, text) = ack(&raw);
    assert_eq!(status, AckStatus::AcceptedWithErrors, "{text}");
    assert_eq!(set_response(&text), "AK3*CTT*7\nAK5*E*5", "{text}");
    let (docs, notes, _) = decode(&raw);
    assert_eq!(docs, 1);
    assert!(
        notes.contains("CTT01 says 3 line items; the set holds 1"),
        "{notes}"
    );
}

#[test]
fn a_miscounting_ctt_in_a_999_gets_no_ik3() {
    let raw = invoice_in(ISA5010, "IN", "005010", "810", &with(5, "CTT*3"));
    let (status, text) = ack(&raw);
    assert_eq!(status, AckStatus::AcceptedWithErrors, "{text}");
    assert_eq!(set_response(&text), "IK5*E*5", "{text}");
}

#[test]
fn a_ctt01_that_is_not_a_number_is_still_an_invalid_character() {
    let (_, text) = ack(&invoice(&with(5, "CTT*X")));
    assert_eq!(
        set_response(&text),
        "AK3*CTT*7**8\nAK4*1**6*X\nAK5*E*5",
        "{text}"
    );
}

// 4. A set in a group of another functional identifier: rejected, AK502 code 6.

#[test]
fn an_invoice_in_a_purchase_order_group_is_rejected() {
    let raw = invoice_in(ISA4010, "PO", "004010", "810", &GOOD);
    let (status, text) = ack(&raw);
    assert_eq!(status, AckStatus::Rejected, "{text}");
    assert!(
        text.contains("AK1*PO*77~\nAK2*810*0001~\nAK5*R*6~\nAK9*R*1*1*0~"),
        "{text}"
    );
    let (docs, _, rejects) = decode(&raw);
    assert_eq!((docs, rejects), (0, 1));
}

#[test]
fn an_order_in_an_invoice_group_is_rejected() {
    let body = [
        "BEG*00*SA*PO-1**20260315",
        "N1*BY*Buyer*92*B1",
        "PO1*1*10*EA*2.50**VP*X1",
        "CTT*1",
    ];
    let (status, text) = ack(&invoice_in(ISA4010, "IN", "004010", "850", &body));
    assert_eq!(status, AckStatus::Rejected, "{text}");
    assert!(text.contains("AK5*R*6~"), "{text}");
    let (status, text) = ack(&invoice_in(ISA4010, "PO", "004010", "850", &body));
    assert_ne!(status, AckStatus::Rejected, "{text}");
}

// 5. Segments the set may not hold there: kept, and named (AK304 6 and 5).

/// The decoded document's `extensions.x12`, as JSON text.
fn kept_x12(raw: &[u8]) -> String {
    let d = X12Codec::new().decode(raw, &PartnerProfile::anonymous());
    let doc = d
        .documents
        .first()
        .unwrap_or_else(|| panic!("no document: {:?}", d.rejects));
    gateway_model::to_json(&doc.document)
}

#[test]
fn a_segment_no_part_of_the_set_is_kept_and_named_with_code_6() {
    // In the heading, in a line and in the summary; a Z segment is a partner's own.
    let mut body = GOOD.to_vec();
    body.insert(1, "ZZZ*A*B");
    body.insert(5, "BEG*00*SA*PO-9**20260315");
    body.insert(8, "ZA1*S");
    let raw = invoice(&body);
    let (status, text) = ack(&raw);
    assert_eq!(status, AckStatus::AcceptedWithErrors, "{text}");
    assert_eq!(
        set_response(&text),
        "AK3*ZZZ*3**6\nAK3*BEG*7**6\nAK3*ZA1*10**6\nAK5*E*5",
        "{text}"
    );
    let (docs, notes, rejects) = decode(&raw);
    assert_eq!((docs, rejects), (1, 0));
    assert!(
        notes.contains("segment ZZZ is no part of an X12 810"),
        "{notes}"
    );
    // Nothing is lost: each is kept as it came.
    let kept = kept_x12(&raw);
    for seg in ["ZZZ", "\"A\"", "BEG", "PO-9", "ZA1"] {
        assert!(kept.contains(seg), "{seg} not kept: {kept}");
    }
}

#[test]
fn a_second_beginning_segment_total_or_ctt_is_named_with_code_5() {
    let mut body = GOOD.to_vec();
    body.insert(1, "BIG*20260316*INV-2");
    let (status, text) = ack(&invoice(&body));
    assert_eq!(status, AckStatus::AcceptedWithErrors, "{text}");
    assert_eq!(set_response(&text), "AK3*BIG*3**5\nAK5*E*5", "{text}");
    // The first BIG is the invoice's; the second is kept.
    let raw = invoice(&body);
    let kept = kept_x12(&raw);
    assert!(kept.contains("INV-2"), "{kept}");
    assert!(kept.contains("\"invoice_number\": \"INV-1\""), "{kept}");

    let mut body = GOOD.to_vec();
    body.push("CTT*1");
    let (_, text) = ack(&invoice(&body));
    assert_eq!(set_response(&text), "AK3*CTT*8**5\nAK5*E*5", "{text}");

    // Two TDS: the last is the total, the other is named.
    let mut body = GOOD.to_vec();
    body.insert(4, "TDS*9900");
    let (_, text) = ack(&invoice(&body));
    assert_eq!(set_response(&text), "AK3*TDS*6**5\nAK5*E*5", "{text}");
}

#[test]
fn a_999_names_a_segment_no_part_of_the_set_with_ik304_6() {
    let mut body = GOOD.to_vec();
    body.insert(1, "ZZZ*A");
    let raw = invoice_in(ISA5010, "IN", "005010", "810", &body);
    let (status, text) = ack(&raw);
    assert_eq!(status, AckStatus::AcceptedWithErrors, "{text}");
    assert_eq!(set_response(&text), "IK3*ZZZ*3**6\nIK5*E*5", "{text}");
}

#[test]
fn an_order_may_hold_its_own_segments_but_not_an_invoices() {
    let body = [
        "BEG*00*SA*PO-1**20260315",
        "REF*DP*12",
        "PER*BD*Pat",
        "TD5*O*2*UPSN",
        "N1*BY*Buyer*92*B1",
        "N1*ST*Dock*92*S1",
        "N2*Building 4",
        "PO1*1*10*EA*2.50**VP*X1",
        "SCH*10*EA****002*20260401",
        "CTT*1",
    ];
    let (status, text) = ack(&invoice_in(ISA4010, "PO", "004010", "850", &body));
    assert_eq!(status, AckStatus::Accepted, "{text}");
    let mut body = body.to_vec();
    body.insert(8, "IT1*1*10*EA*2.50");
    let (status, text) = ack(&invoice_in(ISA4010, "PO", "004010", "850", &body));
    assert_eq!(status, AckStatus::AcceptedWithErrors, "{text}");
    assert_eq!(set_response(&text), "AK3*IT1*10**6\nAK5*E*5", "{text}");
}

#[test]
fn a_flood_of_foreign_segments_is_named_twenty_times_and_counted() {
    let mut body = GOOD.to_vec();
    for _ in 0..50 {
        body.insert(1, "ZZZ*A");
    }
    let raw = invoice(&body);
    let (status, text) = ack(&raw);
    assert_eq!(status, AckStatus::AcceptedWithErrors, "{text}");
    assert_eq!(text.matches("AK3*ZZZ").count(), 20, "{text}");
    let (_, notes, _) = decode(&raw);
    assert!(
        notes.contains("30 more segments are no part of an X12 810"),
        "{notes}"
    );
}

// 6. A segment written with another element separator than its ISA's.

#[test]
fn a_segment_with_another_separator_than_the_isa_says_so() {
    let raw = invoice(&GOOD);
    let text = String::from_utf8(raw).unwrap();
    // The ISA declares `^`; the rest still uses `*`.
    let mixed = text.replacen('*', "^", 16);
    assert!(mixed.starts_with("ISA^00^"), "{mixed}");
    let d = X12Codec::new().decode(mixed.as_bytes(), &PartnerProfile::anonymous());
    let first = d.rejects.first().map(|r| r.to_string()).unwrap_or_default();
    assert!(
        first.contains("\"GS*IN*SUPGS*BUYGS*20260315*1030*77*X*004010\" is not a segment id")
            && first.contains("separates elements with '^'")
            && first.contains("seems to use '*'"),
        "{first}"
    );
}
