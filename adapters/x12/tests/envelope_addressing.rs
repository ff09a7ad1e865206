//! Whom an interchange is addressed to, what its trailers count, and how each is answered.
//!
//! - An interchange whose receiver (ISA07/ISA08) is not the gateway's id in the partner's
//!   profile was delivered and acknowledged in that receiver's name. It is rejected whole:
//!   TA1 `R` note 008 (007 for the qualifier), answered under the gateway's own id, nothing
//!   read. A group whose GS02/GS03 is not the profile's is rejected (AK9 `R`, AK905 1).
//! - AK902 reported the sets counted instead of the GE01 sent.
//! - Trailer problems that refuse nothing (TA1 `E`, AK9 `E`) were rejects beside the
//!   documents they accepted; a repeated interchange was refused twice, once for its set and
//!   once for itself. They are notes on what was taken, and one refused set is one reject.
//!
//! Inputs are the ones a QA run reproduced these with (partner `newco`).

// Test helpers outside #[test] functions may unwrap and panic too: a failure is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use adapter_x12::{AckStatus, InMemoryControlNumbers, Parallelism, X12Codec, acknowledge_with};
use chrono::{TimeZone, Utc};
use gateway_core::{Decode, DecodeItem, Decoded, PartnerProfile};

/// The partner as the QA configuration names it: it sends as `01:123456789`, GS02
/// `NEWCOGS`, to the gateway's `ZZ:GLOBEX`, GS03 `GLOBEXGS`.
fn newco() -> PartnerProfile {
    PartnerProfile::from_toml(
        r#"
id = "newco"
[coupa_supplier]
number = "NEW-1"
[x12]
partner_qualifier = "01"
partner_id = "123456789"
partner_gs_id = "NEWCOGS"
our_qualifier = "ZZ"
our_id = "GLOBEX"
our_gs_id = "GLOBEXGS"
version = "005010"
"#,
        "newco.toml",
    )
    .unwrap()
}

/// One 810 from newco: interchange `control` (nine digits), ISA07/ISA08 `to`, GS02/GS03
/// `gs`, GE01 `ge01`, IEA01 `iea01`.
fn invoice(control: &str, to: (&str, &str), gs: (&str, &str), ge01: u32, iea01: u32) -> String {
    let group = control.trim_start_matches('0');
    format!(
        "ISA*00*          *00*          *01*123456789      *{:<2}*{:<15}*261201*1200*^*00501*{control}*0*P*:~\n\
GS*IN*{}*{}*20261201*1200*{group}*X*005010~\n\
ST*810*0001~\n\
BIG*20261201*NC-{group}*20261130*PO-NEW-1~\n\
CUR*SE*USD~\n\
N1*SU*Newco Fasteners*92*NEW-1~\n\
IT1*1*10*EA*1.5**VP*P1~\n\
PID*F****Bolt~\n\
IT1*2*4*EA*2.25**VP*P2~\n\
PID*F****Nut~\n\
TDS*2400~\n\
CTT*2~\n\
SE*11*0001~\n\
GE*{ge01}*{group}~\n\
IEA*{iea01}*{control}~\n",
        to.0, to.1, gs.0, gs.1
    )
}

const US: (&str, &str) = ("ZZ", "GLOBEX");
const GS: (&str, &str) = ("NEWCOGS", "GLOBEXGS");

fn ack(raw: &str) -> (adapter_x12::Acknowledgment, String) {
    let now = Utc.with_ymd_and_hms(2026, 12, 1, 12, 5, 0).unwrap();
    let a = acknowledge_with(
        raw.as_bytes(),
        &newco(),
        &InMemoryControlNumbers::new(),
        now,
    )
    .unwrap();
    let text = String::from_utf8(a.bytes.clone()).unwrap();
    (a, text)
}

/// `raw` decoded as newco's, the same on one thread and on several.
fn decode(raw: &str) -> Decoded {
    let [one, more] = [
        Parallelism::sequential(),
        Parallelism {
            threads: 2,
            batch: 1,
        },
    ]
    .map(|par| {
        X12Codec::new()
            .with_parallelism(par)
            .decode(raw.as_bytes(), &newco())
    });
    assert_eq!(one, more);
    one
}

/// `raw` decoded as a stream: the documents and the rejects, in order, the same on one
/// thread and on several.
fn stream(raw: &str) -> Decoded {
    let [one, more] = [
        Parallelism::sequential(),
        Parallelism {
            threads: 2,
            batch: 1,
        },
    ]
    .map(|par| {
        let mut out = Decoded::default();
        X12Codec::new()
            .with_parallelism(par)
            .decode_reader(&mut raw.as_bytes(), &newco(), &mut |item| match item {
                DecodeItem::Document(d) => out.documents.push(*d),
                DecodeItem::Reject(r) => out.rejects.push(r),
            })
            .unwrap();
        out
    });
    assert_eq!(one, more);
    one
}

#[test]
fn an_interchange_addressed_to_another_receiver_is_rejected_whole_by_a_ta1() {
    for (to, code, why) in [
        (
            ("ZZ", "SOMEONEELSE"),
            "008",
            "ISA08 \"SOMEONEELSE\" is not this gateway's interchange id \"GLOBEX\"",
        ),
        (
            ("01", "GLOBEX"),
            "007",
            "ISA07 \"01\" is not the qualifier \"ZZ\" of this gateway's interchange id GLOBEX",
        ),
    ] {
        let raw = invoice("000000803", to, GS, 1, 1);
        let (a, text) = ack(&raw);
        assert_eq!(
            a.interchanges[0].ta1,
            Some((AckStatus::Rejected, code)),
            "{text}"
        );
        assert!(a.interchanges[0].groups.is_empty(), "{text}");
        assert!(!text.contains("GS*FA"), "{text}");
        // Answered under the gateway's own id, never in the name it was addressed to.
        assert!(
            text.starts_with(
                "ISA*00*          *00*          *ZZ*GLOBEX         *01*123456789      *"
            ),
            "{text}"
        );
        assert!(
            text.contains(&format!("TA1*000000803*261201*1200*R*{code}~")),
            "{text}"
        );
        for d in [decode(&raw), stream(&raw)] {
            assert!(d.documents.is_empty(), "{code}: {d:?}");
            assert_eq!(d.rejects.len(), 1, "{code}: {d:?}");
            let r = &d.rejects[0];
            assert_eq!(r.document.as_deref(), Some("810 0001"), "{r:?}");
            assert!(
                r.message.starts_with(&format!(
                    "transaction set rejected: not read: interchange 000000803 is rejected (TA1 note {code}): {why}"
                )),
                "{r:?}"
            );
        }
    }
    // Addressed as agreed (case and padding aside): taken.
    let raw = invoice("000000801", ("zz", "globex"), GS, 1, 1);
    assert_eq!(decode(&raw).documents.len(), 1);
    let (a, text) = ack(&raw);
    assert_eq!(a.interchanges[0].ta1, None, "{text}");
    assert!(text.contains("AK9*A*1*1*1~"), "{text}");
    // Without the partner's profile there is nothing to check against.
    let elsewhere = invoice("000000803", ("ZZ", "SOMEONEELSE"), GS, 1, 1);
    assert_eq!(
        X12Codec::new()
            .decode(elsewhere.as_bytes(), &PartnerProfile::anonymous())
            .documents
            .len(),
        1
    );
}

#[test]
fn a_group_with_other_application_codes_is_rejected_with_ak905_code_1() {
    for (gs, element, expected) in [
        (
            ("OTHERGS", "GLOBEXGS"),
            "GS02 \"OTHERGS\"",
            "the partner's application code \"NEWCOGS\"",
        ),
        (
            ("NEWCOGS", "OTHERRCV"),
            "GS03 \"OTHERRCV\"",
            "this gateway's application code \"GLOBEXGS\"",
        ),
    ] {
        let raw = invoice("000000804", US, gs, 1, 1);
        let (a, text) = ack(&raw);
        assert_eq!(a.interchanges[0].ta1, None, "{text}");
        // The group's 999 comes from and goes to the agreed codes, rejects the group with
        // AK905 code 1 and answers no set of it.
        assert!(
            text.contains("GS*FA*GLOBEXGS*NEWCOGS*")
                && text.contains("AK1*IN*804*005010~\nAK9*R*1*1*0*1~"),
            "{text}"
        );
        assert!(!text.contains("AK2"), "{text}");
        for d in [decode(&raw), stream(&raw)] {
            assert!(d.documents.is_empty(), "{element}: {d:?}");
            assert_eq!(d.rejects.len(), 1, "{element}: {d:?}");
            let m = &d.rejects[0].message;
            assert!(
                m.starts_with(&format!(
                    "transaction set rejected: not read: group 804 is rejected (AK905 code 1): {element} is not {expected} (group 804)"
                )),
                "{m}"
            );
        }
    }
    // A group of no set is refused by a reject of its own.
    let empty = "ISA*00*          *00*          *01*123456789      *ZZ*GLOBEX         *261201*1200*^*00501*000000805*0*P*:~\nGS*IN*OTHERGS*GLOBEXGS*20261201*1200*805*X*005010~\nGE*0*805~\nIEA*1*000000805~\n";
    let d = decode(empty);
    assert_eq!(d.rejects.len(), 1, "{d:?}");
    assert!(
        d.rejects[0].location == "line 2, interchange 000000805, group 805"
            && d.rejects[0]
                .message
                .starts_with("group rejected: GS02 \"OTHERGS\""),
        "{d:?}"
    );
}

/// AK902 is the number of sets the group says it includes (GE01), AK903 those received.
#[test]
fn ak902_is_the_ge01_sent() {
    let raw = invoice("000000511", US, GS, 3, 1);
    let (_, text) = ack(&raw);
    assert!(text.contains("AK9*E*3*1*1*5~"), "{text}");
    // Without a usable GE01 (not a count of at most six digits) the sets received stand in.
    let (_, text) = ack(&raw.replace("GE*3*", "GE*1234567*"));
    assert!(text.contains("AK9*E*1*1*1*5~"), "{text}");
}

/// A trailer that miscounts (IEA01: TA1 `E` 021; GE01: AK9 `E` code 5) accepts what it
/// holds: the invoice is taken with a note saying what was wrong, and nothing is rejected.
#[test]
fn trailer_warnings_are_notes_on_what_was_taken_not_rejects() {
    for (raw, note) in [
        (
            invoice("000000503", US, GS, 1, 2),
            "line 15, interchange 000000503: IEA01 says \"2\" functional groups; the interchange holds 1 (TA1 note 021)",
        ),
        (
            invoice("000000511", US, GS, 3, 1),
            "line 14, interchange 000000511, group 511: GE01 says \"3\" transaction sets; the group holds 1 (AK905 code 5)",
        ),
    ] {
        for d in [decode(&raw), stream(&raw)] {
            assert!(d.rejects.is_empty(), "{note}: {:?}", d.rejects);
            assert_eq!(d.documents.len(), 1);
            let notes: Vec<&str> = d.documents[0].meta.notes().collect();
            assert_eq!(notes, [note]);
        }
    }

    // Every document of the group is noted; read as a stream (memory bounded by one set),
    // the last one, which is still held when the trailer comes.
    let two = invoice("000000512", US, GS, 3, 1).replace(
        "GE*3*512~",
        "ST*810*0002~\nBIG*20261201*NC-512B*20261130*PO-NEW-1~\nN1*SU*Newco Fasteners*92*NEW-1~\nIT1*1*1*EA*1**VP*P1~\nTDS*100~\nSE*6*0002~\nGE*3*512~",
    );
    let noted = |d: &Decoded| -> Vec<usize> {
        d.documents.iter().map(|d| d.meta.notes().count()).collect()
    };
    let whole = decode(&two);
    assert!(whole.rejects.is_empty(), "{:?}", whole.rejects);
    assert_eq!(noted(&whole), [1, 1]);
    let streamed = stream(&two);
    assert!(streamed.rejects.is_empty(), "{:?}", streamed.rejects);
    assert_eq!(noted(&streamed), [0, 1]);

    // A group that yielded nothing but a refused set: the trailer's problem is one more
    // reason of that set's reject, not a reject of its own.
    let refused = invoice("000000513", US, GS, 3, 1).replace("SE*11*0001", "SE*12*0001");
    for d in [decode(&refused), stream(&refused)] {
        assert!(d.documents.is_empty());
        assert_eq!(d.rejects.len(), 1, "{:?}", d.rejects);
        assert!(
            d.rejects[0].message.contains("SE01 says \"12\"")
                && d.rejects[0].message.ends_with(
                    "GE01 says \"3\" transaction sets; the group holds 1 (AK905 code 5)"
                ),
            "{:?}",
            d.rejects
        );
    }
}

/// A repeated interchange control number in one input (TA1 `R` 025): its one set is refused
/// once, with the reason, and the first copy is taken.
#[test]
fn a_repeated_interchange_is_one_refusal_per_set() {
    let first = invoice("000000201", US, GS, 1, 1);
    let second = first
        .replace(
            "GS*IN*NEWCOGS*GLOBEXGS*20261201*1200*201*",
            "GS*IN*NEWCOGS*GLOBEXGS*20261201*1200*202*",
        )
        .replace("GE*1*201~", "GE*1*202~")
        .replace("NC-201", "NC-202");
    let raw = format!("{first}{second}");
    for d in [decode(&raw), stream(&raw)] {
        assert_eq!(d.documents.len(), 1, "{:?}", d.rejects);
        assert_eq!(d.rejects.len(), 1, "{:?}", d.rejects);
        assert!(
            d.rejects[0].message.contains("(TA1 note 025)")
                && d.rejects[0].location.contains("set 0001 (810)"),
            "{:?}",
            d.rejects
        );
    }
    let (a, _) = ack(&raw);
    assert_eq!(a.interchanges[1].ta1, Some((AckStatus::Rejected, "025")));
}
