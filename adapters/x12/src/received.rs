//! Functional acknowledgments a partner sends back (997, 999) for the interchanges the gateway
//! wrote to it: which group and which sets each answers, whether each set was accepted, and the
//! partner's reasons in words. They are not documents: the decoder leaves a sound 997/999 set
//! out of its documents and rejects (see `codec::emit_set`), and the acknowledger does not
//! acknowledge them (an acknowledgment is never acknowledged), so the server reads them here and
//! records the verdict against the 850 it sent.

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

/// What a partner sent back in one input: its 997/999s and its TA1s.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Received {
    pub acks: Vec<ReceivedAck>,
    pub ta1s: Vec<ReceivedTa1>,
}

/// The 997/999s and TA1s in `raw`, in one pass. Reading stops at the first byte the tokenizer
/// cannot split (the decoder reports that input as rejected anyway); what was read before is
/// kept.
pub fn read_received(raw: &[u8]) -> Received {
    let mut out = Received::default();
    // Every acknowledgment group says `FA` (GS01) and every TA1 is named so: input without
    // those bytes has none, and an invoice batch is not tokenized a second time.
    let finder = |needle: &[u8]| memchr::memmem::find(raw, needle).is_some();
    if !finder(b"FA") && !finder(b"TA1") {
        return out;
    }
    let mut interchange = String::new();
    let mut sender = String::new();
    let mut open: Option<ReceivedAck> = None;
    for seg in Tokenizer::new(raw) {
        let Ok(seg) = seg else { break };
        match seg.id() {
            b"ISA" => {
                interchange = text(&seg, 13);
                sender = format!("{}:{}", text(&seg, 5), text(&seg, 6));
            }
            b"TA1" => out.ta1s.push(ReceivedTa1 {
                interchange: text(&seg, 1),
                sender: sender.clone(),
                status: text(&seg, 4),
                note: text(&seg, 5),
            }),
            b"ST" => {
                open = is_acknowledgment(&text(&seg, 1)).then(|| ReceivedAck {
                    kind: text(&seg, 1),
                    interchange: interchange.clone(),
                    sender: sender.clone(),
                    control: text(&seg, 2),
                    functional_id: String::new(),
                    group_control: String::new(),
                    group_status: None,
                    group_problems: Vec::new(),
                    sets: Vec::new(),
                });
            }
            b"SE" => out.acks.extend(open.take()),
            _ => {
                if let Some(ack) = open.as_mut() {
                    read_segment(ack, &seg);
                }
            }
        }
    }
    out
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

    fn ack(body: &str) -> Vec<ReceivedAck> {
        let raw = format!(
            "{ISA}GS*FA*ACME*GLOBEX*20260301*1200*9*X*004010~ST*997*0001~{body}SE*9*0001~GE*1*9~IEA*1*000000077~"
        );
        read_acknowledgments(raw.as_bytes())
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
