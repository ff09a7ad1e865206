//! Functional acknowledgments a partner sends back (997, 999) for the interchanges the gateway
//! wrote to it: which group and which sets each answers, whether each set was accepted, and the
//! partner's reasons in words. They are not documents: the decoder leaves a sound 997/999 set
//! out of its documents and rejects (see `codec::emit_set`), and the acknowledger does not
//! acknowledge them (an acknowledgment is never acknowledged), so the server reads them here and
//! records the verdict against the 850 it sent. One whose own envelope is broken is rejected by
//! the decoder and held back here ([`Received::refused`]): what is refused is never acted on.

use std::sync::OnceLock;

use crate::tokenizer::{Segment, Tokenizer};

const CODES: &str = include_str!("../../../schemas/x12/ack-codes.csv");

/// Most problems kept per set (a hostile ack stays small).
const MAX_PROBLEMS: usize = 50;

/// Whether a transaction set id is a functional acknowledgment.
pub fn is_acknowledgment(set_id: &str) -> bool {
    matches!(set_id.trim(), "997" | "999")
}

/// One 997 or 999 transaction set: the group it answers and the verdict on each of its sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedAck {
    /// `997` or `999`.
    pub kind: String,
    /// ISA13 of the interchange that carried the acknowledgment.
    pub interchange: String,
    /// `ISA05:ISA06` of that interchange, the partner's id as partner profiles name it.
    pub sender: String,
    /// ST02 of the acknowledgment itself.
    pub control: String,
    /// AK101: the functional id of the group acknowledged (`PO` for 850s).
    pub functional_id: String,
    /// AK102: the GS06 of the group acknowledged, as the gateway wrote it.
    pub group_control: String,
    /// AK901 (A, E, P, R...), absent when the acknowledgment has no AK9.
    pub group_status: Option<String>,
    /// AK905–AK909 in words.
    pub group_problems: Vec<String>,
    /// One per AK2 loop. A 997 may leave them out for an accepted group.
    pub sets: Vec<AckedSet>,
}

/// The verdict on one transaction set (an AK2 loop).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AckedSet {
    /// AK201, `850` for a purchase order.
    pub set_id: String,
    /// AK202: the ST02 the gateway wrote.
    pub control: String,
    /// AK501/IK501.
    pub status: Option<String>,
    /// AK3/AK4 (IK3/IK4) and AK502–AK506 in words.
    pub problems: Vec<String>,
}

/// A TA1 a partner sent: its verdict on a whole interchange the gateway wrote (its envelope,
/// before any group is read). A rejected interchange never reached the partner's translator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedTa1 {
    /// TA101: the ISA13 of the interchange it answers, as the gateway wrote it.
    pub interchange: String,
    /// `ISA05:ISA06` of the interchange that carried the TA1.
    pub sender: String,
    /// TA104: A, E or R.
    pub status: String,
    /// TA105, the note code (`000` when there is no error).
    pub note: String,
}

impl ReceivedTa1 {
    /// Whether the interchange was refused (TA104 `R`).
    pub fn rejected(&self) -> bool {
        self.status == "R"
    }

    /// One line for an operator.
    pub fn summary(&self) -> String {
        format!(
            "{} ({}) by TA1 for interchange {}: {} ({})",
            describe("I17", &self.status),
            self.status,
            self.interchange,
            describe("I18", &self.note),
            self.note
        )
    }
}

/// Every TA1 in `raw`, in order (TA1s travel between ISA and the first GS, or alone).
pub fn read_ta1s(raw: &[u8]) -> Vec<ReceivedTa1> {
    read_received(raw).ta1s
}

/// What the partner said about one set the gateway sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub accepted: bool,
    /// One line for an operator: the status and every reason given.
    pub summary: String,
}

/// Accepted (`A`, `E`), rejected (`M`, `R`, `W`, `X`), or neither (`P` or unknown).
fn accepted(status: &str) -> Option<bool> {
    match status {
        "A" | "E" => Some(true),
        "M" | "R" | "W" | "X" => Some(false),
        _ => None,
    }
}

impl ReceivedAck {
    /// The verdict on set `set_control` of the acknowledged group: its AK2 loop when there is
    /// one, else the whole group's (a 997 may list no AK2 for an accepted group). `None` when
    /// the acknowledgment does not say (a partially accepted group without that set's loop).
    pub fn verdict(&self, set_control: &str) -> Option<Verdict> {
        let how = format!(
            "{} {} (interchange {})",
            self.kind, self.control, self.interchange
        );
        if let Some(set) = self.sets.iter().find(|s| s.control == set_control.trim()) {
            let status = set.status.as_deref().or(self.group_status.as_deref())?;
            let mut summary = format!("{} ({status}) in {how}", describe("717", status));
            for p in &set.problems {
                summary.push_str("; ");
                summary.push_str(p);
            }
            return Some(Verdict {
                accepted: accepted(status)?,
                summary,
            });
        }
        let status = self.group_status.as_deref()?;
        let accepted = accepted(status)?;
        let mut summary = format!(
            "{} ({status}): the whole group {} in {how}",
            describe("717", status),
            self.group_control
        );
        for p in &self.group_problems {
            summary.push_str("; ");
            summary.push_str(p);
        }
        Some(Verdict { accepted, summary })
    }
}

/// The meaning of `code` in X12 element `element` (716, 717, 718, 720, 723), from
/// `schemas/x12/ack-codes.csv`; an unknown code is named as it is.
pub fn describe(element: &str, code: &str) -> String {
    static TABLE: OnceLock<Vec<(&'static str, &'static str, &'static str)>> = OnceLock::new();
    let table = TABLE.get_or_init(|| {
        CODES
            .lines()
            .skip_while(|l| l.starts_with('#'))
            .skip(1)
            .filter_map(|l| {
                let mut cols = l.splitn(3, ',');
                Some((cols.next()?, cols.next()?, cols.next()?))
            })
            .collect()
    });
    table
        .iter()
        .find(|(e, c, _)| *e == element && *c == code)
        .map_or_else(|| format!("code {code}"), |(_, _, m)| (*m).to_string())
}

/// Element `n` as trimmed text (empty when absent).
fn text(seg: &Segment<'_>, n: usize) -> String {
    seg.element(n)
        .map(|e| {
            gateway_model::charset::utf8_or_windows_1252(e)
                .trim()
                .to_string()
        })
        .unwrap_or_default()
}

/// Every 997 and 999 in `raw`, in order.
pub fn read_acknowledgments(raw: &[u8]) -> Vec<ReceivedAck> {
    read_received(raw).acks
}

/// What a partner sent back in one input: its 997/999s and its TA1s, and those not acted on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Received {
    pub acks: Vec<ReceivedAck>,
    pub ta1s: Vec<ReceivedTa1>,
    /// Acknowledgments held back, each with where and why: a 997/999 whose own envelope is
    /// broken (an SE01 that miscounts its segments, SE02 not its ST02, no SE, a repeated
    /// ST02) or that came in an interchange or group rejected whole (a repeated ISA13, not
    /// addressed to this gateway), and a TA1 in such an interchange. The decoder rejects the
    /// same sets, so what is refused is never acted on.
    pub refused: Vec<String>,
}

/// The 997/999s and TA1s in `raw`, read as the anonymous profile's decoder reads it (no
/// expected receiver): see [`read_received_from`].
pub fn read_received(raw: &[u8]) -> Received {
    read_received_from(raw, &gateway_core::PartnerProfile::anonymous())
}

/// The 997/999s and TA1s `partner` sent in `raw`, in one walk of its envelopes, by the rules
/// the decoder and the acknowledger apply to the same input with the same profile: a set is
/// an acknowledgment to act on only when its envelope is sound.
///
/// By severity, as X12 treats what it receives: a set the envelope rejects (AK5 `R`: its
/// SE01 miscounts, its SE02 is not its ST02, it has no SE or a repeated ST02) may have lost
/// segments, an AK2 loop among them, so its verdicts cannot be trusted and are held back
/// ([`Received::refused`]; the decoder rejects it with the same reasons). What the envelope
/// only notes (a group or interchange trailer that miscounts, TA1 `E` or AK9 `E`) leaves the
/// set whole and checked by its own SE: it is acted on.
pub fn read_received_from(raw: &[u8], partner: &gateway_core::PartnerProfile) -> Received {
    // Every acknowledgment group says `FA` (GS01) and every TA1 is named so: input without
    // those bytes has none, and an invoice batch is not walked a second time.
    let finder = |needle: &[u8]| memchr::memmem::find(raw, needle).is_some();
    if !finder(b"FA") && !finder(b"TA1") {
        return Received::default();
    }
    let mut v = ReceivedVisitor::default();
    let start = crate::tokenizer::TokState {
        charset: crate::codec::partner_charset(partner),
        ..crate::tokenizer::TokState::default()
    };
    crate::envelope::Walker::expecting(crate::envelope::Expected::of(partner))
        .run(raw, start, true, &mut v);
    v.out
}

/// Collects the acknowledgments the walker hands on.
#[derive(Default)]
struct ReceivedVisitor {
    out: Received,
}

impl<'a> crate::envelope::Visitor<'a> for ReceivedVisitor {
    fn set(
        &mut self,
        cx: &crate::envelope::SetContext<'_>,
        segments: &[Segment<'a>],
        issues: Vec<crate::envelope::SetIssue>,
    ) {
        if !is_acknowledgment(&cx.header.id) {
            return;
        }
        let interchange = cx.interchange.map(|i| i.control().to_string());
        let mut ack = ReceivedAck {
            kind: cx.header.id.trim().to_string(),
            interchange: interchange.clone().unwrap_or_default(),
            sender: cx.interchange.map(|i| i.sender()).unwrap_or_default(),
            control: cx.header.control.trim().to_string(),
            functional_id: String::new(),
            group_control: String::new(),
            group_status: None,
            group_problems: Vec::new(),
            sets: Vec::new(),
        };
        let errors: Vec<String> = issues
            .iter()
            .filter(|i| i.severity == crate::envelope::Severity::Error)
            .map(|i| format!("{}: {}", cx.place().locate(i), i.message))
            .collect();
        if !errors.is_empty() {
            self.out.refused.push(format!(
                "{} {} (interchange {}) not applied: {}",
                ack.kind,
                ack.control,
                ack.interchange,
                errors.join("; ")
            ));
            return;
        }
        for seg in segments.iter().filter(|s| !matches!(s.id(), b"ST" | b"SE")) {
            read_segment(&mut ack, seg);
        }
        self.out.acks.push(ack);
    }

    fn group_end(
        &mut self,
        _: Option<&crate::envelope::Interchange>,
        _: &crate::envelope::Group,
        _: Vec<crate::envelope::EnvelopeIssue>,
    ) {
    }

    fn interchange_end(&mut self, _: &crate::envelope::Interchange) {}

    fn ta1(&mut self, isa: &crate::envelope::Interchange, seg: &Segment<'_>) {
        let ta1 = ReceivedTa1 {
            interchange: text(seg, 1),
            sender: isa.sender(),
            status: text(seg, 4),
            note: text(seg, 5),
        };
        match isa.rejection() {
            Some(refusal) => self.out.refused.push(format!(
                "TA1 for interchange {} (in interchange {}, line {}) not applied: interchange {} is rejected (TA1 note {}): {}",
                ta1.interchange,
                isa.control(),
                seg.line,
                isa.control(),
                refusal.code,
                refusal.message
            )),
            None => self.out.ta1s.push(ta1),
        }
    }

    fn stray(&mut self, _: String, _: String, _: Option<&'static str>, _: Option<usize>) {}
}

/// Where a set the gateway wrote sits: what a partner's TA1 (the interchange) or 997/999 (the
/// group and set) will name when it answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentSet {
    /// ISA13.
    pub interchange: String,
    /// GS06.
    pub group: String,
    /// ST02.
    pub set: String,
}

/// Every set in `raw` with its control numbers, recorded when the interchange is sent.
pub fn sets_in(raw: &[u8]) -> Vec<SentSet> {
    let (mut interchange, mut group) = (String::new(), String::new());
    let mut out = Vec::new();
    for seg in Tokenizer::new(raw) {
        let Ok(seg) = seg else { break };
        match seg.id() {
            b"ISA" => interchange = text(&seg, 13),
            b"GS" => group = text(&seg, 6),
            b"ST" => out.push(SentSet {
                interchange: interchange.clone(),
                group: group.clone(),
                set: text(&seg, 2),
            }),
            _ => {}
        }
    }
    out
}

/// One segment inside a 997/999.
fn read_segment(ack: &mut ReceivedAck, seg: &Segment<'_>) {
    let problem = |ack: &mut ReceivedAck, line: String| {
        if let Some(set) = ack.sets.last_mut() {
            match set.problems.len() {
                n if n < MAX_PROBLEMS => set.problems.push(line),
                n if n == MAX_PROBLEMS => set.problems.push("and more".into()),
                _ => {}
            }
        }
    };
    let codes = |element: &str, from: usize, to: usize| -> Vec<String> {
        (from..=to)
            .map(|n| text(seg, n))
            .filter(|c| !c.is_empty())
            .map(|c| format!("{} ({c})", describe(element, &c)))
            .collect()
    };
    match seg.id() {
        b"AK1" => {
            ack.functional_id = text(seg, 1);
            ack.group_control = text(seg, 2);
        }
        b"AK2" => ack.sets.push(AckedSet {
            set_id: text(seg, 1),
            control: text(seg, 2),
            status: None,
            problems: Vec::new(),
        }),
        b"AK3" | b"IK3" => {
            let lp = text(seg, 3);
            let line = format!(
                "segment {} at position {}{}: {}",
                text(seg, 1),
                text(seg, 2),
                if lp.is_empty() {
                    String::new()
                } else {
                    format!(" in loop {lp}")
                },
                codes("720", 4, 4).join(", ")
            );
            problem(ack, line);
        }
        b"AK4" | b"IK4" => {
            let reference = text(seg, 2);
            let bad = text(seg, 4);
            let line = format!(
                "element {}{}: {}{}",
                text(seg, 1),
                if reference.is_empty() {
                    String::new()
                } else {
                    format!(" (data element {reference})")
                },
                codes("723", 3, 3).join(", "),
                if bad.is_empty() {
                    String::new()
                } else {
                    format!(", value {bad:?}")
                }
            );
            problem(ack, line);
        }
        b"AK5" | b"IK5" => {
            let status = text(seg, 1);
            for c in codes("718", 2, 6) {
                problem(ack, c);
            }
            if let Some(set) = ack.sets.last_mut() {
                set.status = Some(status).filter(|s| !s.is_empty());
            }
        }
        b"AK9" => {
            ack.group_status = Some(text(seg, 1)).filter(|s| !s.is_empty());
            ack.group_problems = codes("716", 5, 9);
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISA: &str = "ISA*00*          *00*          *ZZ*ACME           *ZZ*GLOBEX         *260301*1200*U*00401*000000077*0*P*>~";

    /// A 997 holding `body`, its SE01 counting its segments.
    fn ack(body: &str) -> Vec<ReceivedAck> {
        read_acknowledgments(ack_raw(body).as_bytes())
    }

    fn ack_raw(body: &str) -> String {
        let n = body.matches('~').count() + 2;
        format!(
            "{ISA}GS*FA*ACME*GLOBEX*20260301*1200*9*X*004010~ST*997*0001~{body}SE*{n}*0001~GE*1*9~IEA*1*000000077~"
        )
    }

    #[test]
    fn a_rejected_set_says_where_and_why_in_words() {
        let acks = ack(
            "AK1*PO*42~AK2*850*0001~AK3*PO1*6**8~AK4*4*212*5*123456789012345678~AK5*R*5~AK9*R*1*1*0~",
        );
        assert_eq!(acks.len(), 1);
        let a = &acks[0];
        assert_eq!(
            (
                a.kind.as_str(),
                a.functional_id.as_str(),
                a.group_control.as_str()
            ),
            ("997", "PO", "42")
        );
        assert_eq!(a.interchange, "000000077");
        assert_eq!(a.sender, "ZZ:ACME");
        let v = a.verdict("0001").unwrap();
        assert!(!v.accepted);
        for want in [
            "rejected (R) in 997 0001 (interchange 000000077)",
            "segment PO1 at position 6: segment has data element errors (8)",
            "element 4 (data element 212): data element too long (5), value \"123456789012345678\"",
            "one or more segments in error (5)",
        ] {
            assert!(v.summary.contains(want), "{want} in {}", v.summary);
        }
    }

    /// A 997 whose own envelope is broken (its SE01 says 9 segments, it holds 8) may have lost
    /// a segment, an AK2 loop among them: its verdicts are held back, with where and why, as
    /// the decoder rejects it. A trailer that only miscounts (GE01, IEA01: AK9 `E`, TA1 `E`)
    /// leaves the set whole: it is read and acted on.
    #[test]
    fn a_broken_acknowledgment_is_refused_and_a_trailer_warning_is_not() {
        let body = "AK1*PO*2~AK2*850*0001~AK3*PO1*11**8~AK4*4**7*100~AK5*R*5~AK9*R*1*1*0~";
        let sound = ack_raw(body);
        let broken = sound.replace("SE*8*0001", "SE*9*0001");
        assert_ne!(sound, broken);
        let r = read_received(broken.as_bytes());
        assert!(r.acks.is_empty(), "{r:?}");
        assert_eq!(r.refused.len(), 1, "{r:?}");
        assert!(
            r.refused[0].starts_with("997 0001 (interchange 000000077) not applied: line 1, ")
                && r.refused[0].contains("SE01 says \"9\" segments; the set holds 8"),
            "{r:?}"
        );
        // The decoder rejects the same set, saying its verdicts were not applied.
        let decoded = crate::decode_all(broken.as_bytes());
        assert_eq!(decoded.rejects.len(), 1, "{decoded:?}");
        assert!(
            decoded.rejects[0]
                .message
                .starts_with("acknowledgment rejected, its verdicts not applied: SE01 says"),
            "{decoded:?}"
        );

        for warned in [
            sound.replace("GE*1*9~", "GE*3*9~"),
            sound.replace("IEA*1*", "IEA*2*"),
        ] {
            let r = read_received(warned.as_bytes());
            assert!(r.refused.is_empty(), "{r:?}");
            assert_eq!(r.acks.len(), 1, "{r:?}");
            assert!(!r.acks[0].verdict("0001").unwrap().accepted);
            // Neither a document nor a reject: nothing was refused.
            let decoded = crate::decode_all(warned.as_bytes());
            assert!(decoded.rejects.is_empty(), "{decoded:?}");
            assert!(decoded.documents.is_empty(), "{decoded:?}");
        }
    }

    /// An acknowledgment, or a TA1, in an interchange rejected whole (here: not addressed to
    /// this gateway's id for the partner, TA1 note 008) is not acted on either.
    #[test]
    fn acknowledgments_in_a_rejected_interchange_are_refused() {
        let acme = gateway_core::PartnerProfile::from_toml(
            "id = \"acme\"\n[x12]\npartner_qualifier = \"ZZ\"\npartner_id = \"ACME\"\nour_qualifier = \"ZZ\"\nour_id = \"GLOBEX\"\n",
            "acme.toml",
        )
        .unwrap();
        let raw = format!(
            "{}TA1*000000042*260301*1200*R*025~IEA*0*000000077~",
            ack_raw("AK1*PO*42~AK9*A*1*1*1~").replace("IEA*1*000000077~", "")
        );
        let r = read_received_from(raw.as_bytes(), &acme);
        assert_eq!((r.acks.len(), r.ta1s.len()), (1, 1), "{r:?}");
        let elsewhere = raw.replace("ZZ*GLOBEX         *", "ZZ*SOMEONEELSE    *");
        let r = read_received_from(elsewhere.as_bytes(), &acme);
        assert!(r.acks.is_empty() && r.ta1s.is_empty(), "{r:?}");
        assert_eq!(r.refused.len(), 2, "{r:?}");
        assert!(
            r.refused.iter().all(|why| why.contains("(TA1 note 008)")),
            "{r:?}"
        );
        // Without the partner's profile nothing says whom it must be addressed to.
        assert_eq!(read_received(elsewhere.as_bytes()).acks.len(), 1);
    }

    #[test]
    fn an_accepted_group_without_set_loops_accepts_every_set_and_partial_needs_the_loop() {
        let acks = ack("AK1*PO*42~AK9*A*2*2*2~");
        let v = acks[0].verdict("0002").unwrap();
        assert!(v.accepted, "{}", v.summary);
        assert!(v.summary.contains("the whole group 42"), "{}", v.summary);
        let acks = ack("AK1*PO*42~AK2*850*0001~AK5*A~AK9*P*2*2*1~");
        assert!(acks[0].verdict("0001").unwrap().accepted);
        assert_eq!(
            acks[0].verdict("0002"),
            None,
            "not said: neither accepted nor rejected"
        );
        // An unknown code is shown as it is, not dropped.
        let acks = ack("AK1*PO*42~AK2*850*0001~AK5*R*99~AK9*R*1*1*0~");
        assert!(acks[0].verdict("0001").unwrap().summary.contains("code 99"));
    }

    #[test]
    fn a_999_uses_ik_segments_and_other_sets_are_not_acknowledgments() {
        let raw = format!(
            "{ISA}GS*FA*ACME*GLOBEX*20260301*1200*9*X*005010X231~ST*999*0001*005010X231~AK1*PO*42*005010~AK2*850*0003~IK3*N1*4**8~IK4*4*67*4*7~IK5*R*I5~AK9*R*1*1*0~SE*8*0001~GE*1*9~\
GS*IN*ACME*GLOBEX*20260301*1200*10*X*004010~ST*810*0001~BIG*20260301*1~SE*3*0001~GE*1*10~IEA*2*000000077~"
        );
        let acks = read_acknowledgments(raw.as_bytes());
        assert_eq!(acks.len(), 1);
        let v = acks[0].verdict("0003").unwrap();
        assert!(!v.accepted);
        assert!(
            v.summary
                .contains("element 4 (data element 67): data element too short (4), value \"7\""),
            "{}",
            v.summary
        );
        assert!(
            v.summary
                .contains("implementation one or more segments in error (I5)"),
            "{}",
            v.summary
        );
    }

    #[test]
    fn a_ta1_names_the_interchange_and_says_why_in_words() {
        let raw = format!("{ISA}TA1*000000042*260301*1200*R*025~IEA*0*000000077~");
        let t = read_ta1s(raw.as_bytes());
        assert_eq!(t.len(), 1);
        assert!(t[0].rejected());
        assert_eq!(
            (t[0].interchange.as_str(), t[0].sender.as_str()),
            ("000000042", "ZZ:ACME")
        );
        assert_eq!(
            t[0].summary(),
            "interchange rejected because of errors (R) by TA1 for interchange 000000042: duplicate interchange control number (025)"
        );
        // What the gateway sent is named the same way.
        let sent = sets_in(
            format!("{ISA}GS*PO*A*B*20260301*1200*7*X*004010~ST*850*0001~SE*2*0001~ST*850*0002~SE*2*0002~GE*2*7~IEA*1*000000077~").as_bytes(),
        );
        assert_eq!(sent.len(), 2);
        assert_eq!(
            (
                sent[1].interchange.as_str(),
                sent[1].group.as_str(),
                sent[1].set.as_str()
            ),
            ("000000077", "7", "0002")
        );
    }

    #[test]
    fn every_code_in_the_table_is_read() {
        let mut rows = 0;
        for line in CODES.lines().skip_while(|l| l.starts_with('#')).skip(1) {
            let cols: Vec<&str> = line.splitn(3, ',').collect();
            assert_eq!(cols.len(), 3, "{line}");
            // The first row for an element and code is the one shown; no code is listed twice.
            assert_eq!(describe(cols[0], cols[1]), cols[2], "{line}");
            rows += 1;
        }
        assert_eq!(rows, 56 + 3 + 28);
        assert_eq!(
            describe("716", "5"),
            "number of included transaction sets does not match the actual count"
        );
        assert_eq!(describe("717", "E"), "accepted, but errors were noted");
        assert_eq!(
            describe("720", "I9"),
            "implementation dependent \"not used\" segment present"
        );
    }
}
