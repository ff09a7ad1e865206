//! 997/999/TA1: accepted, accepted with errors, partially accepted, rejected, and
//! interchange-level problems, with the ack envelope mirroring the inbound one.

// Test helpers outside #[test] functions may unwrap and panic too: a failure is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use adapter_x12::{AckStatus, InMemoryControlNumbers, acknowledge_with};
use chrono::{TimeZone, Utc};
use gateway_core::PartnerProfile;

const ISA4010: &str = "ISA*00*          *00*          *ZZ*SUPPLIER       *01*BUYER          *260315*1030*U*00401*000000042*0*P*>~\n";
const ISA5010: &str = "ISA*00*          *00*          *ZZ*SUPPLIER       *01*BUYER          *260315*1030*^*00501*000000042*0*T*:~\n";

fn set(control: &str, big: &str, it1_qty: &str, ctt: &str) -> String {
    let body = [
        format!("ST*810*{control}"),
        big.to_string(),
        "N1*SU*Acme".into(),
        format!("IT1*1*{it1_qty}*EA*2.50**VP*X1"),
        "TDS*2500".into(),
        format!("CTT*{ctt}"),
    ];
    let n = body.len() + 1;
    format!("{}~\nSE*{n}*{control}~\n", body.join("~\n"))
}

fn interchange(isa: &str, version: &str, sets: &[String], ge01: usize) -> String {
    format!(
        "{isa}GS*IN*SUPGS*BUYGS*20260315*1030*77*X*{version}~\n{}GE*{ge01}*77~\nIEA*1*000000042~\n",
        sets.concat()
    )
}

fn ack(raw: &str) -> (adapter_x12::Acknowledgment, String) {
    let now = Utc.with_ymd_and_hms(2026, 3, 16, 8, 5, 0).unwrap();
    let a = acknowledge_with(
        raw.as_bytes(),
        &PartnerProfile::anonymous(),
        &InMemoryControlNumbers::new(),
        now,
    )
    .unwrap();
    let text = String::from_utf8(a.bytes.clone()).unwrap();
    (a, text)
}

fn good(control: &str) -> String {
    set(control, "BIG*20260315*INV-1", "10", "1")
}

#[test]
fn accepted_4010_group_gets_a_997_in_a_mirrored_envelope() {
    let (a, text) = ack(&interchange(ISA4010, "004010", &[good("0001")], 1));
    assert_eq!(
        text,
        "ISA*00*          *00*          *01*BUYER          *ZZ*SUPPLIER       *260316*0805*U*00401*000000001*0*P*>~\n\
         GS*FA*BUYGS*SUPGS*20260316*0805*1*X*004010~\n\
         ST*997*0001~\n\
         AK1*IN*77~\n\
         AK2*810*0001~\n\
         AK5*A~\n\
         AK9*A*1*1*1~\n\
         SE*6*0001~\n\
         GE*1*1~\n\
         IEA*1*000000001~\n"
    );
    assert_eq!(a.interchanges[0].groups[0].status, AckStatus::Accepted);
    assert!(a.interchanges[0].ta1.is_none());
}

#[test]
fn group_5010_gets_a_999() {
    let (_, text) = ack(&interchange(ISA5010, "005010", &[good("0001")], 1));
    assert!(text.contains("*^*00501*000000001*0*T*:~"), "{text}");
    assert!(
        text.contains("GS*FA*BUYGS*SUPGS*20260316*0805*1*X*005010X231~"),
        "{text}"
    );
    assert!(
        text.contains(
            "ST*999*0001*005010X231~\nAK1*IN*77*005010~\nAK2*810*0001~\nIK5*A~\nAK9*A*1*1*1~"
        ),
        "{text}"
    );
}

#[test]
fn accepted_with_errors_names_segment_and_element() {
    let bad_count = set("0001", "BIG*20260315*INV-1", "10", "3");
    let (a, text) = ack(&interchange(ISA4010, "004010", &[bad_count], 1));
    assert!(
        text.contains("AK2*810*0001~\nAK3*CTT*6**8~\nAK4*1**6*3~\nAK5*E*5~\nAK9*E*1*1*1~"),
        "{text}"
    );
    assert_eq!(
        a.interchanges[0].groups[0].sets[0].status,
        AckStatus::AcceptedWithErrors
    );
}

#[test]
fn rejected_set_and_partial_group() {
    let bad_date = set("0002", "BIG*20261340*INV-2", "10", "1");
    let bad_qty = set("0003", "BIG*20260315*INV-3", "1O", "1");
    let (a, text) = ack(&interchange(
        ISA4010,
        "004010",
        &[good("0001"), bad_date, bad_qty],
        3,
    ));
    assert!(
        text.contains("AK2*810*0002~\nAK3*BIG*2**8~\nAK4*1**8*20261340~\nAK5*R*5~"),
        "{text}"
    );
    assert!(
        text.contains("AK2*810*0003~\nAK3*IT1*4**8~\nAK4*2**6*1O~\nAK5*R*5~"),
        "{text}"
    );
    assert!(text.contains("AK9*P*3*3*1~"), "{text}");
    assert_eq!(a.interchanges[0].groups[0].status, AckStatus::Partial);
}

#[test]
fn envelope_errors_reject_the_set_and_all_rejected_rejects_the_group() {
    let wrong_se = good("0001").replace("SE*7*0001", "SE*9*0001");
    let (_, text) = ack(&interchange(ISA4010, "004010", &[wrong_se], 1));
    assert!(
        text.contains("AK2*810*0001~\nAK5*R*4~\nAK9*R*1*1*0~"),
        "{text}"
    );
    let not_mapped = good("0001").replace("ST*810", "ST*855");
    let (_, text) = ack(&interchange(ISA4010, "004010", &[not_mapped], 1));
    assert!(
        text.contains("AK2*855*0001~\nAK5*R*1~\nAK9*R*1*1*0~"),
        "{text}"
    );
    // GE01 disagrees with the sets received: accepted with errors, code 5.
    let (_, text) = ack(&interchange(ISA4010, "004010", &[good("0001")], 2));
    assert!(text.contains("AK9*E*1*1*1*5~"), "{text}");
}

#[test]
fn ta1_for_interchange_problems() {
    // IEA02 does not match ISA13.
    let raw = interchange(ISA4010, "004010", &[good("0001")], 1)
        .replace("IEA*1*000000042", "IEA*1*000000043");
    let (a, text) = ack(&raw);
    assert!(
        text.contains("~\nTA1*000000042*260315*1030*E*001~\nGS*FA"),
        "{text}"
    );
    assert_eq!(
        a.interchanges[0].ta1,
        Some((AckStatus::AcceptedWithErrors, "001"))
    );
    // ISA14 = 1 asks for a TA1 even when all is well.
    let raw = interchange(
        &ISA4010.replace("*0*P*", "*1*P*"),
        "004010",
        &[good("0001")],
        1,
    );
    let (_, text) = ack(&raw);
    assert!(text.contains("TA1*000000042*260315*1030*A*000~"), "{text}");
    // An ISA whose delimiters collide cannot be read at all: TA1 R and no group ack.
    let broken = ISA4010.replace("*P*>~", "*P*~~");
    let (a, text) = ack(&format!("{broken}GS*IN*A*B~"));
    assert!(text.contains("TA1*000000042*260315*1030*R*026~"), "{text}");
    assert!(!text.contains("AK1"), "{text}");
    assert_eq!(
        a.interchanges.last().unwrap().ta1,
        Some((AckStatus::Rejected, "026"))
    );
}

#[test]
fn acknowledge_convenience_returns_bytes() {
    let raw = interchange(ISA4010, "004010", &[good("0001")], 1);
    let bytes = adapter_x12::acknowledge(raw.as_bytes(), &PartnerProfile::anonymous());
    assert!(String::from_utf8(bytes).unwrap().contains("AK5*A"));
}

#[test]
fn codec_acknowledge_shares_the_codecs_control_numbers() {
    use gateway_core::Encode;
    let codec = adapter_x12::X12Codec::new();
    let raw = interchange(ISA4010, "004010", &[good("0001")], 1);
    let a = codec
        .acknowledge(raw.as_bytes(), &PartnerProfile::anonymous())
        .unwrap();
    assert!(
        String::from_utf8(a.bytes)
            .unwrap()
            .contains("*000000001*0*P*>~")
    );
    let docs: Vec<gateway_model::Document> = adapter_x12::decode_all(raw.as_bytes())
        .documents
        .into_iter()
        .map(|d| d.document)
        .collect();
    let out =
        String::from_utf8(codec.encode(&docs, &PartnerProfile::anonymous()).unwrap()).unwrap();
    assert!(out.contains("*000000002*0*P*>~"), "{out}");
}

#[test]
fn an_850_without_its_mandatory_beg01_or_beg02_is_rejected_not_read_as_a_new_order() {
    // Found by the fuzzer: `BEG**SA*…` read as a PO with no purpose, and writing it again made
    // it a new order (BEG01 00). BEG01 and BEG02 are mandatory: the set is rejected with AK4
    // code 1, naming the element.
    for (beg, element) in [
        ("BEG**SA*PO-1**20260315", "1"),
        ("BEG*00**PO-1**20260315", "2"),
    ] {
        let raw = format!(
            "{ISA4010}GS*PO*SUPGS*BUYGS*20260315*1030*77*X*004010~\n\
             ST*850*0001~\n{beg}~\nPO1*1*1*EA*1.00~\nCTT*1~\nSE*5*0001~\n\
             GE*1*77~\nIEA*1*000000042~\n"
        );
        let (a, text) = ack(&raw);
        assert!(
            text.contains(&format!(
                "AK2*850*0001~\nAK3*BEG*2**8~\nAK4*{element}**1~\nAK5*R*5~"
            )),
            "{beg}: {text}"
        );
        assert_eq!(a.interchanges[0].groups[0].status, AckStatus::Rejected);
    }
    let whole = format!(
        "{ISA4010}GS*PO*SUPGS*BUYGS*20260315*1030*77*X*004010~\n\
         ST*850*0001~\nBEG*00*SA*PO-1**20260315~\nPO1*1*1*EA*1.00~\nCTT*1~\nSE*5*0001~\n\
         GE*1*77~\nIEA*1*000000042~\n"
    );
    let (_, text) = ack(&whole);
    assert!(text.contains("AK2*850*0001~\nAK5*A~"), "{text}");
}

#[test]
fn acknowledgments_are_never_acknowledged() {
    // A supplier's 997 for one of our 850s: answering it with a 999 would start a loop of
    // acknowledgments and tell the supplier its 997 was "rejected".
    let fa = format!(
        "{ISA4010}GS*FA*SUPGS*BUYGS*20260315*1030*78*X*004010~\n\
         ST*997*0001~\nAK1*PO*12~\nAK2*850*0001~\nAK5*A~\nAK9*A*1*1*1~\nSE*6*0001~\n\
         GE*1*78~\nIEA*1*000000042~\n"
    );
    let (a, text) = ack(&fa);
    assert_eq!(text, "", "nothing to send back");
    assert!(a.interchanges[0].groups.is_empty());
    // With an invoice group beside it, only the invoice group is acknowledged.
    let mixed = fa
        .replace(
            "GE*1*78~\n",
            &format!(
                "GE*1*78~\nGS*IN*SUPGS*BUYGS*20260315*1030*77*X*004010~\n{}GE*1*77~\n",
                good("0001")
            ),
        )
        .replace("IEA*1*", "IEA*2*");
    let (_, text) = ack(&mixed);
    assert!(text.contains("AK1*IN*77~"), "{text}");
    assert!(!text.contains("AK1*FA"), "{text}");
    // ISA14 asking for a TA1 still gets one.
    let asked = fa.replace("*0*P*>~", "*1*P*>~");
    let (a, text) = ack(&asked);
    assert!(text.contains("TA1*000000042*"), "{text}");
    assert!(a.interchanges[0].groups.is_empty());
}
