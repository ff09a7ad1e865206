//! Repeated control numbers are refused at any count, with bounded memory (QA qa14a item 3):
//! a group of 100,002 sets used to accept a repeated ST02 (`AK5*A` twice) because repeats
//! were tracked for the first 100,000 sets only, and both invoices, under one ledger key,
//! left one row. The walker now tracks every ST02 of a group compactly up to a bound past any
//! count GE01 can state, and rejects the sets past it rather than accept them unchecked; the
//! same holds for ISA13 across an input. Sets of two groups sharing a GS06 in one interchange
//! (a warning, not a rejection) get keys of their own, and a `/` in a control number cannot
//! make two sets' keys alike.

// Test helpers outside #[test] functions may unwrap and panic too: a failure is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use adapter_x12::codec::key_controls;
use adapter_x12::envelope::{
    EnvelopeIssue, Group, Interchange, SetContext, SetIssue, Severity, Visitor, Walker,
};
use adapter_x12::tokenizer::{Segment, TokState};
use adapter_x12::{AckStatus, InMemoryControlNumbers, X12Codec, acknowledge_with};
use chrono::{TimeZone, Utc};
use gateway_core::{Decode, PartnerProfile};

fn isa(control: u32) -> String {
    format!(
        "ISA*00*          *00*          *ZZ*ACME           *ZZ*GLOBEX         *260315*1030*U*00401*{control:09}*0*P*>~\n"
    )
}

/// One sound 810 under `st02`, invoice `number`.
fn invoice_set(st02: &str, number: &str) -> String {
    format!(
        "ST*810*{st02}~\nBIG*20260315*{number}**PO-1~\nCUR*SE*USD~\nN1*SU*Acme Industrial Supply~\nIT1*1*2*EA*10.5**VP*P-1~\nPID*F****Part 1~\nTDS*2100~\nCTT*1~\nSE*9*{st02}~\n"
    )
}

/// An interchange of one group per entry of `groups`: its GS06 and its sets (already
/// written).
fn interchange(control: u32, groups: &[(&str, Vec<String>)]) -> String {
    let mut out = isa(control);
    for (gs06, sets) in groups {
        out.push_str(&format!(
            "GS*IN*ACME*GLOBEX*20260315*1030*{gs06}*X*004010~\n"
        ));
        for s in sets {
            out.push_str(s);
        }
        out.push_str(&format!("GE*{}*{gs06}~\n", sets.len()));
    }
    out.push_str(&format!("IEA*{}*{control:09}~\n", groups.len()));
    out
}

/// What the walker reports: each set's ST02 and problems, each interchange's problems.
#[derive(Default)]
struct Seen {
    sets: Vec<(String, Vec<SetIssue>)>,
    interchanges: Vec<(String, Vec<EnvelopeIssue>)>,
}

impl<'a> Visitor<'a> for Seen {
    fn set(&mut self, cx: &SetContext<'_>, _: &[Segment<'a>], issues: Vec<SetIssue>) {
        self.sets.push((cx.header.control.to_string(), issues));
    }
    fn group_end(&mut self, _: Option<&Interchange>, _: &Group, _: Vec<EnvelopeIssue>) {}
    fn interchange_end(&mut self, isa: &Interchange) {
        self.interchanges
            .push((isa.control().to_string(), isa.issues.clone()));
    }
    fn stray(&mut self, l: String, m: String, _: Option<&'static str>, _: Option<usize>) {
        panic!("unexpected stray data at {l}: {m}");
    }
}

fn walk(walker: &mut Walker, raw: &str) -> Seen {
    let mut seen = Seen::default();
    walker.run(raw.as_bytes(), TokState::default(), true, &mut seen);
    seen
}

fn errors(issues: &[SetIssue]) -> Vec<(&'static str, &str)> {
    issues
        .iter()
        .filter(|i| i.severity == Severity::Error)
        .map(|i| (i.set_code, i.message.as_str()))
        .collect()
}

/// QA's input: 100,001 sets with ST02s of their own, then one repeating the last.
/// The 997 rejects the repeat (AK5 R, code 23) and no other set; the decoder delivers one of
/// the two invoices, the other is refused where it is.
#[test]
fn a_repeated_st02_after_100001_sets_is_rejected_as_a_duplicate() {
    // Minimal sets before the two invoices: only the envelope is walked for them.
    // (Only the last two are sound invoices; the rest are refused for what they lack.)
    let mut sets: Vec<String> = (1..=100_000u32)
        .map(|n| format!("ST*810*{n:09}~\nSE*2*{n:09}~\n"))
        .collect();
    sets.push(invoice_set("000100001", "XZB-000001"));
    sets.push(invoice_set("000100001", "XZB-000002"));
    let raw = interchange(996, &[("996", sets)]);

    let now = Utc.with_ymd_and_hms(2026, 3, 16, 8, 5, 0).unwrap();
    let ack = acknowledge_with(
        raw.as_bytes(),
        &PartnerProfile::anonymous(),
        &InMemoryControlNumbers::new(),
        now,
    )
    .unwrap();
    let sets = &ack.interchanges[0].groups[0].sets;
    assert_eq!(sets.len(), 100_002);
    let duplicates: Vec<usize> = sets
        .iter()
        .enumerate()
        .filter(|(_, s)| s.issues.iter().any(|i| i.set_code == "23"))
        .map(|(n, _)| n)
        .collect();
    assert_eq!(duplicates, vec![100_001], "only the repeat is a duplicate");
    assert_eq!(
        sets[100_000].status,
        AckStatus::Accepted,
        "{:?}",
        sets[100_000]
    );
    assert_eq!(sets[100_001].status, AckStatus::Rejected);
    let text = String::from_utf8_lossy(&ack.bytes);
    assert!(
        text.contains("AK2*810*000100001~\nAK5*A~\nAK2*810*000100001~\nAK5*R*23~"),
        "the 997 answers the first A and the repeat R*23: {}",
        &text[text.len().saturating_sub(400)..]
    );

    let decoded = X12Codec::new().decode(raw.as_bytes(), &PartnerProfile::anonymous());
    let numbers: Vec<&str> = decoded
        .documents
        .iter()
        .map(|d| d.document.number())
        .collect();
    assert_eq!(numbers, vec!["XZB-000001"]);
    assert!(
        decoded.rejects.iter().any(|r| r
            .message
            .contains("ST02 000100001 repeats an earlier set in group 996")),
        "{:?}",
        decoded.rejects.last()
    );
}

/// Past the tracking bound (lowered here to 3), the group's further sets are rejected, each
/// saying why and what to do; a repeat of a tracked ST02 is still a duplicate.
#[test]
fn sets_past_the_tracking_bound_are_rejected_never_accepted_unchecked() {
    let sets = ["0001", "0002", "0003", "0004", "0001", "0004"]
        .iter()
        .map(|c| format!("ST*810*{c}~\nSE*2*{c}~\n"))
        .collect();
    let raw = interchange(1, &[("1", sets)]);
    let seen = walk(&mut Walker::new().tracking_at_most(3), &raw);
    let verdicts: Vec<_> = seen
        .sets
        .iter()
        .map(|(c, issues)| (c.as_str(), errors(issues)))
        .collect();
    for (c, errors) in &verdicts[..3] {
        assert!(errors.is_empty(), "set {c}: {errors:?}");
    }
    let (c, errs) = &verdicts[3];
    assert_eq!(*c, "0004");
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!(errs[0].0, "5");
    assert!(
        errs[0]
            .1
            .contains("group 1 holds more than 3 transaction sets")
            && errs[0].1.contains("ST02 0004 cannot be checked")
            && errs[0].1.contains("split the group"),
        "{}",
        errs[0].1
    );
    assert_eq!(verdicts[4].1.len(), 1);
    assert_eq!(verdicts[4].1[0].0, "23", "{:?}", verdicts[4]);
    assert_eq!(verdicts[5].1.len(), 1);
    assert_eq!(verdicts[5].1[0].0, "5", "{:?}", verdicts[5]);
    // The next group is tracked afresh.
    let raw = interchange(
        1,
        &[
            ("1", vec![format!("ST*810*0001~\nSE*2*0001~\n")]),
            ("2", vec![format!("ST*810*0001~\nSE*2*0001~\n")]),
        ],
    );
    let seen = walk(&mut Walker::new().tracking_at_most(1), &raw);
    assert!(seen.sets.iter().all(|(_, i)| errors(i).is_empty()));
}

/// The same for interchanges in one input: past the bound (2 here) an interchange is rejected
/// whole (TA1 R) with why and what to do, and a repeated ISA13 still is.
#[test]
fn interchanges_past_the_tracking_bound_are_rejected() {
    let one = |control| interchange(control, &[("1", vec![invoice_set("0001", "A-1")])]);
    let raw = [one(1), one(2), one(3), one(1), one(2)].concat();
    let seen = walk(&mut Walker::new().tracking_at_most(2), &raw);
    let rejections: Vec<(&str, Option<&str>)> = seen
        .interchanges
        .iter()
        .map(|(c, issues)| {
            (
                c.as_str(),
                issues
                    .iter()
                    .find(|i| i.severity == Severity::Error)
                    .map(|i| i.code),
            )
        })
        .collect();
    assert_eq!(
        rejections,
        vec![
            ("000000001", None),
            ("000000002", None),
            ("000000003", Some("024")),
            ("000000001", Some("025")),
            ("000000002", Some("025")),
        ]
    );
    let message = &seen.interchanges[2].1[0].message;
    assert!(
        message.contains("more than 2 interchanges") && message.contains("in another input"),
        "{message}"
    );
    // Their sets are not read.
    assert!(
        errors(&seen.sets[2].1)
            .iter()
            .any(|(_, m)| m.contains("not read"))
    );
}

fn keys(raw: &str) -> Vec<(String, String)> {
    let decoded = X12Codec::new().decode(raw.as_bytes(), &PartnerProfile::anonymous());
    assert!(decoded.rejects.is_empty(), "{:?}", decoded.rejects);
    decoded
        .documents
        .iter()
        .map(|d| {
            (
                d.document.number().to_string(),
                d.meta.source_key.as_deref().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// Two groups of one interchange under one GS06 (a warning in the TA1, the sets accepted):
/// each set keeps a key of its own, the first group's as it always was.
#[test]
fn sets_of_groups_sharing_a_gs06_have_keys_of_their_own() {
    let raw = interchange(
        7,
        &[
            ("5", vec![invoice_set("0001", "G-1")]),
            ("5", vec![invoice_set("0001", "G-2")]),
            ("5", vec![invoice_set("0001", "G-3")]),
        ],
    );
    assert_eq!(
        keys(&raw),
        vec![
            ("G-1".into(), "000000007/5/0001".into()),
            ("G-2".into(), "000000007/5#2/0001".into()),
            ("G-3".into(), "000000007/5#3/0001".into()),
        ]
    );
    // Read back, the key names the control numbers as sent (the 824 refusing the invoice
    // names its GS06 and ST02).
    assert_eq!(
        key_controls("000000007/5#3/0001"),
        Some(["000000007".into(), "5".into(), "0001".into()])
    );
}

/// A `/` (or `#`, `%`) in a control number is written escaped in the key, so control numbers
/// split differently cannot make one key.
#[test]
fn a_slash_in_a_control_number_cannot_make_two_keys_alike() {
    let raw = interchange(
        7,
        &[
            ("1/2", vec![invoice_set("3456", "S-1")]),
            ("1", vec![invoice_set("2/3456", "S-2")]),
            ("9", vec![invoice_set("5#2%", "S-3")]),
        ],
    );
    assert_eq!(
        keys(&raw),
        vec![
            ("S-1".into(), "000000007/1%2F2/3456".into()),
            ("S-2".into(), "000000007/1/2%2F3456".into()),
            ("S-3".into(), "000000007/9/5%232%25".into()),
        ]
    );
    for (key, gs06, st02) in [
        ("000000007/1%2F2/3456", "1/2", "3456"),
        ("000000007/1/2%2F3456", "1", "2/3456"),
        ("000000007/9/5%232%25", "9", "5#2%"),
    ] {
        assert_eq!(
            key_controls(key),
            Some(["000000007".into(), gs06.into(), st02.into()])
        );
    }
}
