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
    ack_as(raw, &PartnerProfile::anonymous())
}

/// The acknowledgment of `raw` from `partner`, and its text.
fn ack_as(raw: &str, partner: &PartnerProfile) -> (adapter_x12::Acknowledgment, String) {
    let now = Utc.with_ymd_and_hms(2026, 3, 16, 8, 5, 0).unwrap();
    let a = acknowledge_with(raw.as_bytes(), partner, &InMemoryControlNumbers::new(), now).unwrap();
    let text = String::from_utf8(a.bytes.clone()).unwrap();
    (a, text)
}

/// A named partner, whose invoices go on to Coupa.
fn acme() -> PartnerProfile {
    PartnerProfile {
        id: "acme".into(),
        ..PartnerProfile::default()
    }
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
    // A six-digit BIG01 where 004010 wants CCYYMMDD (a CTT01 that miscounts used to be the
    // example here; it names no element: see tests/syntax_checks.rs).
    let short_date = set("0001", "BIG*260315*INV-1", "10", "1");
    let (a, text) = ack(&interchange(ISA4010, "004010", &[short_date], 1));
    assert!(
        text.contains("AK2*810*0001~\nAK3*BIG*2**8~\nAK4*1**4*260315~\nAK5*E*5~\nAK9*E*1*1*1~"),
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
    // GE01 disagrees with the sets received: accepted with errors, code 5; AK902 echoes the
    // GE01 sent, AK903 counts the sets received.
    let (_, text) = ack(&interchange(ISA4010, "004010", &[good("0001")], 2));
    assert!(text.contains("AK9*E*2*1*1*5~"), "{text}");
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

/// A set whose supplier name (N102, 60 characters in X12) and quantity (IT102, 10 digits in
/// 004010 and 15 in 005010) are longer than the dictionary allows.
fn over_long(control: &str, name: &str, qty: &str, street: &str) -> String {
    let body = [
        format!("ST*810*{control}"),
        "BIG*20260315*INV-LONG".into(),
        format!("N1*SU*{name}"),
        format!("N3*{street}"),
        format!("IT1*1*{qty}*EA*2.50**VP*X1"),
        "TDS*2500".into(),
        "CTT*1".into(),
    ];
    format!("{}~\nSE*8*{control}~\n", body.join("~\n"))
}

#[test]
fn over_long_elements_are_accepted_with_errors_and_noted_against_the_groups_version() {
    use gateway_core::Decode;
    let name = "N".repeat(61);
    // N301 (in the supplier's N1 loop) allows 55.
    let street = "S".repeat(56);
    // Eleven digits: a sign and a decimal point are not counted.
    let raw = interchange(
        ISA4010,
        "004010",
        &[over_long("0001", &name, "-1234567890.1", &street)],
        1,
    );
    let (a, text) = ack(&raw);
    assert!(
        text.contains(&format!(
            "AK2*810*0001~\nAK3*N1*3**8~\nAK4*2**5*{name}~\nAK3*N3*4**8~\nAK4*1**5*{street}~\nAK3*IT1*5**8~\nAK4*2**5*-1234567890.1~\nAK5*E*5~"
        )),
        "{text}"
    );
    assert_eq!(
        a.interchanges[0].groups[0].sets[0].status,
        AckStatus::AcceptedWithErrors
    );
    // The document keeps the values whole, and its notes say what was too long.
    let decoded = adapter_x12::X12Codec::new().decode(raw.as_bytes(), &PartnerProfile::anonymous());
    let [d] = decoded.documents.as_slice() else {
        panic!("{:?}", decoded.rejects)
    };
    let gateway_model::Document::Invoice(inv) = &d.document else {
        panic!("not an invoice")
    };
    let supplier = inv.supplier.as_ref().and_then(|p| p.name.as_ref());
    assert_eq!(supplier.map(|n| n.as_str()), Some(name.as_str()));
    assert_eq!(
        inv.lines[0].quantity.map(|q| q.to_string()).as_deref(),
        Some("-1234567890.1")
    );
    let notes: Vec<&str> = d.meta.notes().collect();
    assert_eq!(notes.len(), 3, "{notes:?}");
    assert!(
        notes[0].ends_with(
            "N102 is 61 characters, longer than the 60 X12 004010 allows; accepted as sent"
        ),
        "{notes:?}"
    );
    assert!(
        notes[1].ends_with(
            "N301 is 56 characters, longer than the 55 X12 004010 allows; accepted as sent"
        ),
        "{notes:?}"
    );
    assert!(
        notes[2].ends_with(
            "IT102 is 11 digits, longer than the 10 X12 004010 allows; accepted as sent"
        ),
        "{notes:?}"
    );

    // 005010 allows 15 digits in IT102: the same quantity with a name that fits is accepted.
    let raw = interchange(
        ISA5010,
        "005010",
        &[over_long(
            "0001",
            &"N".repeat(60),
            "-1234567890.1",
            &"S".repeat(55),
        )],
        1,
    );
    let (a, text) = ack(&raw);
    assert!(text.contains("AK2*810*0001~\nIK5*A~"), "{text}");
    assert_eq!(
        a.interchanges[0].groups[0].sets[0].status,
        AckStatus::Accepted
    );
}

#[test]
fn a_set_full_of_over_long_elements_reports_twenty_and_counts_the_rest() {
    let lines: Vec<String> = (1..=25)
        .map(|n| format!("IT1*{n}*12345678901*EA*2.50**VP*X{n}"))
        .collect();
    let body = [
        vec!["ST*810*0001".to_string(), "BIG*20260315*INV-MANY".into()],
        lines,
        vec!["CTT*25".into()],
    ]
    .concat();
    let set = format!("{}~\nSE*{}*0001~\n", body.join("~\n"), body.len() + 1);
    let (a, text) = ack(&interchange(ISA4010, "004010", &[set], 1));
    assert_eq!(text.matches("AK4*2**5*12345678901~").count(), 20, "{text}");
    let issues = &a.interchanges[0].groups[0].sets[0].issues;
    assert!(
        issues
            .iter()
            .any(|i| i.message
                == "5 more elements are longer than X12 004010 allows; accepted as sent"),
        "{issues:?}"
    );
}

/// For a partner (whose invoices go on to Coupa), what Coupa would refuse is refused in the
/// 997 at once: an invoice number over Coupa's 40 characters at BIG02 as too long (AK4 code 5),
/// a line without a description at its IT1. It used to be accepted here and die at Coupa as a
/// dead letter, while the supplier had read "accepted". Without a partner (`gateway validate`
/// with no profile) nothing is known of where the invoice goes, and it is accepted (with X12's
/// own length error noted).
#[test]
fn a_partners_invoice_coupa_would_refuse_is_rejected_in_its_997() {
    let long = "INV-".to_string() + &"7".repeat(37);
    let body = [
        "ST*810*0001".to_string(),
        format!("BIG*20260315*{long}"),
        "N1*SU*Acme".into(),
        "IT1*1*10*EA*2.50**VP*X1".into(),
        "PID*F****Widgets".into(),
        "IT1*2*3*EA*1**VP*X2".into(),
        "TDS*2800".into(),
        "CTT*2".into(),
    ];
    let set = format!("{}~\nSE*9*0001~\n", body.join("~\n"));
    let raw = interchange(ISA4010, "004010", std::slice::from_ref(&set), 1);
    let (a, text) = ack_as(&raw, &acme());
    assert!(
        text.contains(&format!(
            "AK2*810*0001~\nAK3*BIG*2**8~\nAK4*2**5*{long}~\nAK3*IT1*6**8~\nAK5*R*5~"
        )),
        "{text}"
    );
    let issues: Vec<&str> = a.interchanges[0].groups[0].sets[0]
        .issues
        .iter()
        .map(|i| i.message.as_str())
        .collect();
    assert!(
        issues.contains(&"$.invoice_number: too long: the invoice number is 41 characters; Coupa takes at most 40")
            && issues.contains(&"$.lines[1].description: missing: Coupa requires a description on every invoice line"),
        "{issues:?}"
    );
    // Accepted, with only X12's own length error (BIG02 takes 22 in 004010) noted.
    let (_, anonymous) = ack(&raw);
    assert!(
        anonymous.contains("AK5*E*5~") && !anonymous.contains("AK3*IT1"),
        "{anonymous}"
    );
}

/// An 810 whose BIG08 says `01` (cancellation) used to be read as a standard invoice: the
/// gateway delivered it to Coupa as a new invoice. It is refused in the 997 at BIG08, with
/// what to do instead.
#[test]
fn an_invoice_cancellation_is_refused_at_big08() {
    let body = [
        "ST*810*0001",
        "BIG*20260315*INV-9******01",
        // Bound for Coupa, an invoice needs its currency.
        "CUR*SE*USD",
        "N1*SU*Acme",
        "IT1*1*10*EA*2.50**VP*X1",
        "PID*F****Widgets",
        "TDS*2500",
        "CTT*1",
    ];
    let set = format!("{}~\nSE*9*0001~\n", body.join("~\n"));
    let raw = interchange(ISA4010, "004010", std::slice::from_ref(&set), 1);
    let (a, text) = ack_as(&raw, &acme());
    assert!(
        text.contains("AK2*810*0001~\nAK3*BIG*2**8~\nAK4*8**7*01~\nAK5*R*5~"),
        "{text}"
    );
    let issues = &a.interchanges[0].groups[0].sets[0].issues;
    assert!(
        issues.iter().any(
            |i| i.message.contains("an invoice cancellation (X12 BIG08 01")
                && i.message.contains("void invoice \"INV-9\"")
        ),
        "{issues:?}"
    );
    // The same invoice as an original (BIG08 00) is accepted.
    let original = raw.replace("******01~", "******00~");
    let (_, text) = ack_as(&original, &acme());
    assert!(text.contains("AK5*A~"), "{text}");
}

/// An 810 of `lines` lines of 2.50, bound for Coupa (currency, supplier, descriptions).
fn invoice_of_lines(lines: usize) -> String {
    let mut body = vec![
        "ST*810*0001".to_string(),
        "BIG*20260315*INV-MANY".into(),
        "CUR*SE*USD".into(),
        "N1*SU*Acme".into(),
    ];
    for n in 1..=lines {
        body.push(format!("IT1*{n}*1*EA*2.50**VP*X{n}"));
        body.push("PID*F****Widgets".into());
    }
    body.push(format!("TDS*{}", lines * 250));
    body.push(format!("CTT*{lines}"));
    format!("{}~\nSE*{}*0001~\n", body.join("~\n"), body.len() + 1)
}

/// QA: an invoice of more lines than Coupa takes was accepted and died at Coupa. For a
/// partner it is rejected in the 997, on the set, saying the limit and what to do; one of
/// exactly the limit is accepted.
#[test]
fn an_invoice_of_more_lines_than_coupa_takes_is_rejected_in_its_997() {
    let max = gateway_model::COUPA_MAX_INVOICE_LINES;
    let raw = interchange(ISA4010, "004010", &[invoice_of_lines(max + 1)], 1);
    let (a, text) = ack_as(&raw, &acme());
    assert!(text.contains("AK2*810*0001~\nAK5*R*5~"), "{text}");
    let issues: Vec<&str> = a.interchanges[0].groups[0].sets[0]
        .issues
        .iter()
        .map(|i| i.message.as_str())
        .collect();
    let said = format!(
        "the invoice has {} lines; Coupa takes at most {max} on one invoice: send it as several \
         invoices of at most {max} lines each",
        max + 1
    );
    assert!(issues.iter().any(|i| i.contains(&said)), "{issues:?}");
    let raw = interchange(ISA4010, "004010", &[invoice_of_lines(max)], 1);
    let (_, text) = ack_as(&raw, &acme());
    assert!(text.contains("AK2*810*0001~\nAK5*A~"), "{text}");
}

#[test]
fn a_set_the_pipeline_would_refuse_is_rejected_at_the_element_its_value_comes_from() {
    // Line 1 has no quantity, line 2 no price: the IT1 pairs are incomplete, and the
    // gateway cannot deliver either line.
    let body = [
        "ST*810*0001",
        "BIG*20260315*INV-9",
        "N1*SU*Acme",
        "IT1*1**EA*2.50**VP*X1",
        "IT1*2*3*EA***VP*X2",
        "TDS*2500",
        "CTT*2",
    ];
    let set = format!("{}~\nSE*8*0001~\n", body.join("~\n"));
    let (a, text) = ack(&interchange(
        ISA4010,
        "004010",
        std::slice::from_ref(&set),
        1,
    ));
    assert!(
        text.contains(
            "AK2*810*0001~\nAK3*IT1*4**8~\nAK4*2**2~\nAK3*IT1*5**8~\nAK4*4**2~\nAK5*R*5~\nAK9*R*1*1*0~"
        ),
        "{text}"
    );
    let issues = &a.interchanges[0].groups[0].sets[0].issues;
    assert!(
        issues
            .iter()
            .any(|i| i.message == "$.lines[0].quantity: missing: quantity is required"),
        "{issues:?}"
    );

    // A currency that is not an ISO code: rejected at the heading's CUR02 as an invalid code.
    let with_cur = set
        .replace(
            "BIG*20260315*INV-9~\n",
            "BIG*20260315*INV-9~\nCUR*SE*usd~\n",
        )
        .replace("IT1*1**EA", "IT1*1*10*EA")
        .replace("EA***VP*X2", "EA*1**VP*X2")
        .replace("SE*8*", "SE*9*");
    let (_, text) = ack(&interchange(ISA4010, "004010", &[with_cur], 1));
    assert!(
        text.contains("AK2*810*0001~\nAK3*CUR*3**8~\nAK4*2**7*usd~\nAK5*R*5~"),
        "{text}"
    );

    // No supplier at all: the supplier's N1 is named as the required segment missing (code
    // 3), where the heading's N1 loops end (before the first IT1, position 3).
    let set = set.replace("N1*SU*Acme~\n", "").replace("SE*8*", "SE*7*");
    let set = set
        .replace("IT1*1**EA", "IT1*1*10*EA")
        .replace("EA***VP*X2", "EA*1**VP*X2");
    let (a, text) = ack(&interchange(
        ISA4010,
        "004010",
        std::slice::from_ref(&set),
        1,
    ));
    assert!(
        text.contains("AK2*810*0001~\nAK3*N1*3**3~\nAK5*R*5~"),
        "{text}"
    );
    let issues = &a.interchanges[0].groups[0].sets[0].issues;
    assert_eq!(
        issues
            .iter()
            .map(|i| i.message.as_str())
            .collect::<Vec<_>>(),
        [
            "$.supplier: missing: the supplier is required (name it in the document, or set coupa_supplier in the sender's partner profile)"
        ]
    );
}

/// Every element of `text`'s segments that the 997/999/TA1 make mandatory is filled: no
/// segment of the acknowledgment ends in, or holds, an empty mandatory element.
fn assert_no_empty_mandatory(text: &str) {
    for seg in text.split('~').map(str::trim).filter(|s| !s.is_empty()) {
        let el: Vec<&str> = seg.split('*').collect();
        let mandatory: &[usize] = match el[0] {
            "ISA" => &[5, 6, 7, 8, 9, 10, 13],
            "TA1" => &[1, 2, 3, 4, 5],
            "AK2" => &[1, 2],
            "AK3" => &[1, 2],
            "AK9" => &[1, 2, 3, 4],
            _ => &[],
        };
        for &n in mandatory {
            assert!(
                el.get(n).is_some_and(|v| !v.trim().is_empty()),
                "{seg}: element {n} is empty in\n{text}"
            );
        }
    }
}

/// An input cut inside an ST (`ST*8`, no ST02): no AK2 can name the set (AK201 and AK202 are
/// mandatory), so there is none; the group's AK9 counts it received and not accepted.
#[test]
fn a_set_without_a_usable_st02_gets_no_ak2_and_is_counted_in_the_ak9() {
    let head = "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *260101*1200*U*00401*000000001*0*P*>~GS*IN*SENDER*RECEIVER*20260101*1200*1*X*004010~";
    let (a, text) = ack(&format!("{head}ST*8"));
    assert_no_empty_mandatory(&text);
    assert!(!text.contains("AK2"), "{text}");
    // AK905 3: the group ended without its GE.
    assert!(text.contains("AK1*IN*1~\nAK9*R*1*1*0*3~"), "{text}");
    assert_eq!(a.interchanges[0].groups[0].unnamed_sets, 1);

    // Beside a good set: the group is partially accepted, and only the good set is named.
    let raw = interchange(ISA4010, "004010", &[good("0001")], 2)
        .replace("GE*2*77~", "ST*810~\nBIG*20260315*INV-2~\nSE*3~\nGE*2*77~");
    let (_, text) = ack(&raw);
    assert_no_empty_mandatory(&text);
    assert!(
        text.contains("AK2*810*0001~\nAK5*A~\nAK9*P*2*2*1~"),
        "{text}"
    );
}

/// An ISA too broken to read (`ISA*` and then no element separators): there is no sender to
/// address a TA1 to, nor a control number, date and time to echo, so nothing is sent and the
/// acknowledgment says why.
#[test]
fn an_unreadable_interchange_header_gets_no_ta1_with_empty_elements() {
    let raw = format!("ISA*{}", "B".repeat(5000));
    let (a, text) = ack(&raw);
    assert_eq!(text, "", "no acknowledgment to send");
    assert!(a.interchanges.is_empty(), "{:?}", a.interchanges);
    assert_eq!(a.unanswerable.len(), 1, "{:?}", a.unanswerable);
    assert!(
        a.unanswerable[0]
            .starts_with("line 1, segment #1: interchange header ISA: expected 16 elements")
            && a.unanswerable[0]
                .contains("ISA05, ISA06, ISA07, ISA08, ISA13, ISA09, ISA10 cannot be read"),
        "{:?}",
        a.unanswerable
    );
    // A header that names its parties still gets its TA1 R.
    let broken = ISA4010.replace("*P*>~", "*P*~~");
    let (a, text) = ack(&format!("{broken}GS*IN*A*B~"));
    assert!(text.contains("TA1*000000042*260315*1030*R*026~"), "{text}");
    assert_no_empty_mandatory(&text);
    assert!(a.unanswerable.is_empty(), "{:?}", a.unanswerable);
}

/// A second copy of an interchange (its control number repeats the first's from the same
/// sender) is rejected as a whole: TA1 R 025, and no 997 for its groups.
#[test]
fn a_repeated_interchange_is_rejected_by_its_ta1_and_gets_no_997() {
    let one = interchange(ISA4010, "004010", &[good("0001")], 1);
    let (a, text) = ack(&format!("{one}{one}"));
    assert_eq!(a.interchanges.len(), 2);
    assert_eq!(a.interchanges[0].ta1, None);
    assert_eq!(a.interchanges[0].groups.len(), 1);
    assert_eq!(
        a.interchanges[1].ta1,
        Some((AckStatus::Rejected, "025")),
        "{text}"
    );
    assert!(a.interchanges[1].groups.is_empty(), "{text}");
    assert_eq!(text.matches("AK1*").count(), 1, "{text}");
    assert!(
        text.contains("TA1*000000042*260315*1030*R*025~\nIEA*0*"),
        "{text}"
    );
}

/// A supplier's N1 with a code the gateway does not read as the supplier (`N1*QQ`): the set is
/// rejected, and its AK3 names the N1 (required segment missing, code 3) where it is.
#[test]
fn a_set_without_a_supplier_n1_names_the_missing_n1_in_its_ak3() {
    let raw = interchange(
        ISA4010,
        "004010",
        &[good("0001").replace("N1*SU*", "N1*QQ*")],
        1,
    );
    let (_, text) = ack(&raw);
    assert!(
        text.contains("AK2*810*0001~\nAK3*N1*3**3~\nAK5*R*5~\nAK9*R*1*1*0~"),
        "{text}"
    );
    // An 850 without lines names its missing PO1 loop, before the summary's CTT.
    let po = "ST*850*0001~\nBEG*00*SA*PO-1**20260301~\nN1*SU*Acme~\nCTT*0~\nSE*5*0001~\n";
    let raw = interchange(ISA4010, "004010", &[po.to_string()], 1).replace("GS*IN", "GS*PO");
    let (_, text) = ack(&raw);
    assert!(
        text.contains("AK2*850*0001~\nAK3*PO1*4**3~\nAK5*R*5~"),
        "{text}"
    );
}
