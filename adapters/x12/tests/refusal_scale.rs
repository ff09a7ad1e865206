//! An invoice of thousands of lines that Coupa would refuse line by line (no description):
//! each refusal is found at its own IT1 through an index of the set's lines built once (it
//! used to scan the set again for every refused line, quadratic in the lines: 40,000 took
//! 42 s), and the 997 names a bounded number of them, counting the rest, as it already did
//! for over-long elements: the set is still rejected.

// Test helpers outside #[test] functions may unwrap and panic too: a failure is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use adapter_x12::{AckStatus, InMemoryControlNumbers, acknowledge_with};
use chrono::{TimeZone, Utc};
use gateway_core::PartnerProfile;

const ISA: &str = "ISA*00*          *00*          *ZZ*ACME           *ZZ*COUPAGW        *260315*1030*U*00401*000000951*0*P*>~\n";

/// A partner's 810 of `lines` lines, none with a description (no PID), with a varying number
/// of segments after each IT1 so positions are not a simple stride. Returns the interchange
/// and each IT1's position in the set (ST is 1).
fn undescribed(lines: usize) -> (String, Vec<u32>) {
    let mut body = vec![
        "ST*810*0001".to_string(),
        "BIG*20260315*INV-ND*20260301*PO-7781".into(),
        "CUR*SE*USD".into(),
        "N1*SU*Acme Industrial Supply*1*123456789".into(),
        "N1*BY*Globex Corporation*92*GLOBEX".into(),
    ];
    let mut positions = Vec::with_capacity(lines);
    for n in 1..=lines {
        body.push(format!("IT1*{n}*1*EA*1**VP*P{n}"));
        positions.push(u32::try_from(body.len()).unwrap());
        // 0, 1 or 2 segments of the line loop after the IT1.
        for k in 0..n % 3 {
            body.push(format!("REF*ZZ*L{n}-{k}"));
        }
    }
    body.push(format!("TDS*{}", lines * 100));
    body.push(format!("CTT*{lines}"));
    let set = format!("{}~\nSE*{}*0001~\n", body.join("~\n"), body.len() + 1);
    let raw = format!(
        "{ISA}GS*IN*ACME*COUPAGW*20260315*1030*42*X*004010~\n{set}GE*1*42~\nIEA*1*000000951~\n"
    );
    (raw, positions)
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
    let a = acknowledge_with(raw.as_bytes(), &acme(), &InMemoryControlNumbers::new(), now).unwrap();
    let text = String::from_utf8(a.bytes.clone()).unwrap();
    (a, text)
}

/// The AK3 segment positions of the 997, in order.
fn ak3_positions(text: &str) -> Vec<u32> {
    text.split('~')
        .map(str::trim)
        .filter_map(|s| s.strip_prefix("AK3*IT1*"))
        .map(|rest| rest.split('*').next().unwrap().parse().unwrap())
        .collect()
}

#[test]
fn each_refused_line_is_named_at_its_own_it1() {
    let (raw, positions) = undescribed(12);
    let (a, text) = ack(&raw);
    assert_eq!(ak3_positions(&text), positions, "{text}");
    assert!(
        text.contains("AK5*R*5~") && text.contains("AK9*R*1*1*0~"),
        "{text}"
    );
    let set = &a.interchanges[0].groups[0].sets[0];
    assert_eq!(set.status, AckStatus::Rejected);
    for (i, issue) in set.issues.iter().enumerate() {
        assert_eq!(
            issue.message,
            format!(
                "$.lines[{i}].description: missing: Coupa requires a description on every invoice line"
            ),
        );
        let seg = issue.segment.as_ref().unwrap();
        assert_eq!((seg.id.as_str(), seg.position), ("IT1", positions[i]));
    }
    assert_eq!(set.issues.len(), 12, "{:?}", set.issues);
}

#[test]
fn twenty_thousand_refused_lines_name_twenty_and_count_the_rest() {
    let lines = 20_000;
    let (raw, positions) = undescribed(lines);
    let (a, text) = ack(&raw);
    // Still rejected, with a bounded number of AK3 loops: the first lines, each at its IT1.
    assert!(
        text.contains("AK5*R*5~") && text.contains("AK9*R*1*1*0~"),
        "{text}"
    );
    assert_eq!(ak3_positions(&text), positions[..20], "{text}");
    let set = &a.interchanges[0].groups[0].sets[0];
    assert_eq!(set.status, AckStatus::Rejected);
    // More lines than Coupa takes on one invoice, said once on the set, then the lines.
    assert_eq!(set.issues.len(), 22, "{:?}", set.issues);
    assert!(
        set.issues[0].segment.is_none()
            && set.issues[0].message.starts_with(&format!(
                "$.lines: the invoice has {lines} lines; Coupa takes at most {}",
                gateway_model::COUPA_MAX_INVOICE_LINES
            )),
        "{:?}",
        set.issues[0]
    );
    // The rest are counted where the operator reads the set's problems.
    let last = set.issues.last().unwrap();
    assert!(last.segment.is_none(), "{last:?}");
    assert!(
        last.message.starts_with(&format!(
            "{} more line problems are not listed one by one",
            lines - 20
        )) && last
            .message
            .contains("$.lines[20].description: missing: Coupa requires a description"),
        "{}",
        last.message
    );
}
