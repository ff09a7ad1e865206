//! Acknowledgments: a 997 for 4010-style groups and a 999 for 005010+ groups (chosen by the
//! inbound GS08), with AK1/AK2/AK3/AK4/AK5/AK9 (IK3/IK4/IK5 in a 999), and a TA1 for
//! interchange-level problems or when ISA14 asks for one. The ack interchange mirrors the
//! inbound one: same delimiters, version and usage indicator, sender and receiver swapped;
//! its sender (ISA05/ISA06, GS02) is the gateway's id as the partner's profile names it when it
//! does, so an interchange addressed to another receiver (rejected, TA1 `R` 008 or 007) is
//! never answered in that receiver's name. A group whose GS02/GS03 is not the profile's is
//! rejected whole (AK9 `R`, AK905 1, no AK2). AK902 echoes the group's GE01.
//! Acknowledgments are never acknowledged: a functional group of 997/999s (GS01 `FA`) gets no
//! AK1, and an interchange of nothing else gets no 997/999 at all (a TA1 still answers
//! interchange problems or ISA14).
//!
//! No acknowledgment is sent with a mandatory element empty: an interchange whose header is
//! too broken to say whom to answer gets none (listed in [`Acknowledgment::unanswerable`]
//! with why), and a set without a usable ST01/ST02 gets no AK2 (the AK9 counts it received
//! and not accepted). An interchange the walker rejects (a repeated control number, TA1 025)
//! is answered by its TA1 `R` alone.

use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use gateway_core::{EncodeError, PartnerProfile};

use crate::codec::map_set;
use crate::control::{ControlKind, ControlNumbers, InMemoryControlNumbers};
use crate::envelope::{
    EnvelopeIssue, Expected, Group, Interchange, SetContext, SetIssue, Severity, Visitor, Walker,
};
use crate::tokenizer::{Delimiters, Segment, TokState};
use crate::writer::{El, Out, o, t};

/// What makes an AK3/AK4 (IK3/IK4) pair: segment position and code, element position,
/// component and code.
type NoteKey<'a> = (u32, &'a str, Option<(u32, Option<u32>, &'a str)>);

/// Most AK3/IK3 loops written per set (the ack stays small for hostile input).
const MAX_SEGMENT_NOTES: usize = 50;

/// Which acknowledgment a group gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AckKind {
    /// 997 functional acknowledgment (4010-style groups).
    Fa997,
    /// 999 implementation acknowledgment (005010 and later).
    Ia999,
}

impl AckKind {
    /// 999 for GS08 `005010...` and later, else 997.
    pub fn for_version(gs08: &str) -> AckKind {
        let major: String = gs08.chars().take(3).collect();
        if major.as_str() >= "005" && major.bytes().all(|b| b.is_ascii_digit()) {
            AckKind::Ia999
        } else {
            AckKind::Fa997
        }
    }
}

/// Accepted, accepted with errors, partially accepted (groups only), rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AckStatus {
    Accepted,
    AcceptedWithErrors,
    Partial,
    Rejected,
}

impl AckStatus {
    pub fn code(self) -> &'static str {
        match self {
            AckStatus::Accepted => "A",
            AckStatus::AcceptedWithErrors => "E",
            AckStatus::Partial => "P",
            AckStatus::Rejected => "R",
        }
    }
}

/// The acknowledgment of one transaction set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetAck {
    pub id: String,
    pub control: String,
    pub convention: Option<String>,
    pub status: AckStatus,
    pub issues: Vec<SetIssue>,
}

/// The acknowledgment of one functional group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupAck {
    pub kind: AckKind,
    pub group: Group,
    /// The sets an AK2 answers.
    pub sets: Vec<SetAck>,
    /// Sets received but not accepted that no AK2 can name (an ST without a usable ST01 or
    /// ST02: AK201 and AK202 are mandatory): counted in AK903 and not in AK904, so AK901 is
    /// never `A` while there are any.
    pub unnamed_sets: u32,
    pub issues: Vec<EnvelopeIssue>,
    pub status: AckStatus,
}

/// The acknowledgment of one interchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterchangeAck {
    pub interchange: Interchange,
    /// TA1 status when a TA1 is sent (problems, or ISA14 = 1).
    pub ta1: Option<(AckStatus, &'static str)>,
    pub groups: Vec<GroupAck>,
}

/// Everything acknowledged, and the bytes to send back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acknowledgment {
    pub interchanges: Vec<InterchangeAck>,
    /// One ack interchange per inbound interchange, concatenated.
    pub bytes: Vec<u8>,
    /// Interchanges no acknowledgment can answer, each with where and why: a header too broken
    /// to name the sender to address a TA1 to, or the control number, date and time it
    /// would echo (TA101 to TA103 are mandatory). An acknowledgment with those elements empty
    /// is never sent.
    pub unanswerable: Vec<String>,
}

/// Acknowledges `raw` with process-wide in-memory control numbers; empty when there is nothing
/// to acknowledge or the ack cannot be written. The server should prefer [`acknowledge_with`]
/// (or `X12Codec::acknowledge`) with a persistent [`ControlNumbers`] so numbers survive
/// restarts.
pub fn acknowledge(raw: &[u8], partner: &PartnerProfile) -> Vec<u8> {
    static NUMBERS: OnceLock<InMemoryControlNumbers> = OnceLock::new();
    let numbers = NUMBERS.get_or_init(InMemoryControlNumbers::new);
    acknowledge_with(raw, partner, numbers, Utc::now())
        .map(|a| a.bytes)
        .unwrap_or_default()
}

/// Acknowledges every interchange of `raw`.
pub fn acknowledge_with(
    raw: &[u8],
    partner: &PartnerProfile,
    numbers: &dyn ControlNumbers,
    now: DateTime<Utc>,
) -> Result<Acknowledgment, EncodeError> {
    let mut v = AckVisitor {
        raw,
        context: partner.validation_context(),
        ..AckVisitor::default()
    };
    let start = TokState {
        charset: crate::codec::partner_charset(partner),
        ..TokState::default()
    };
    Walker::expecting(Expected::of(partner)).run(raw, start, true, &mut v);
    let mut bytes = Vec::new();
    for ia in &v.done {
        bytes.extend(render(ia, partner, numbers, now)?);
    }
    Ok(Acknowledgment {
        interchanges: v.done,
        bytes,
        unanswerable: v.unanswerable,
    })
}

#[derive(Default)]
struct AckVisitor<'r> {
    raw: &'r [u8],
    /// What the partner's profile tells about its documents (its Coupa supplier).
    context: gateway_model::ValidationContext<'r>,
    sets: Vec<SetAck>,
    /// Sets of the open group that no AK2 can name.
    unnamed_sets: u32,
    groups: Vec<GroupAck>,
    done: Vec<InterchangeAck>,
    unanswerable: Vec<String>,
}

/// Whether an AK2 can name the set with `header`: AK201 is an id of 3 characters and AK202 a
/// control number of 4 to 9, both mandatory, and neither may hold a delimiter of the
/// acknowledgment (which mirrors the inbound interchange's).
fn nameable(header: &crate::envelope::SetHeader, d: &Delimiters) -> bool {
    let clean = |v: &str| {
        !v.bytes().any(|b| {
            b == d.element || b == d.component || b == d.segment || Some(b) == d.repetition
        })
    };
    let id = header.id.trim();
    let control = header.control.trim();
    id.len() == 3 && (4..=9).contains(&control.len()) && clean(id) && clean(control)
}

fn set_status(issues: &[SetIssue]) -> AckStatus {
    if issues.iter().any(|i| i.severity == Severity::Error) {
        AckStatus::Rejected
    } else if issues.is_empty() {
        AckStatus::Accepted
    } else {
        AckStatus::AcceptedWithErrors
    }
}

impl<'a> Visitor<'a> for AckVisitor<'_> {
    fn set(&mut self, cx: &SetContext<'_>, segments: &[Segment<'a>], issues: Vec<SetIssue>) {
        if cx.group.is_none_or(is_acknowledgment_group) {
            // A set outside a group cannot be acknowledged by a 997/999; an acknowledgment
            // is not acknowledged.
            return;
        }
        if cx.interchange.is_some_and(|i| i.rejection().is_some()) {
            // A rejected interchange is answered by its TA1 alone.
            return;
        }
        if cx.group.is_some_and(|g| g.rejection().is_some()) {
            // A rejected group is answered by its AK9 alone: received, none accepted.
            return;
        }
        let delimiters = cx.interchange.map(|i| i.delimiters).unwrap_or_default();
        if !nameable(cx.header, &delimiters) {
            // Rejected by the walker (ST01/ST02 missing or malformed); the group's AK9 counts
            // it as received and not accepted.
            self.unnamed_sets += 1;
            return;
        }
        let version = cx.group.map_or("", Group::version);
        let mut outcome = map_set(cx.header, version, segments, issues);
        // What the pipeline will refuse is refused here too, so the partner is not told
        // "accepted" about a document that is never delivered.
        if let Some(document) = &outcome.document {
            outcome
                .issues
                .extend(crate::refusals::refusals(document, segments, self.context));
        }
        self.sets.push(SetAck {
            id: cx.header.id.to_string(),
            control: cx.header.control.trim().to_string(),
            convention: cx.header.convention.as_deref().map(str::to_string),
            status: set_status(&outcome.issues),
            issues: outcome.issues,
        });
    }

    fn group_end(&mut self, _: Option<&Interchange>, group: &Group, issues: Vec<EnvelopeIssue>) {
        let sets = std::mem::take(&mut self.sets);
        let unnamed_sets = std::mem::take(&mut self.unnamed_sets);
        if is_acknowledgment_group(group) {
            return;
        }
        if let Some(refusal) = group.rejection() {
            // Its code first in AK905; the trailer's problems after it.
            let mut all = vec![refusal.clone()];
            all.extend(issues);
            self.groups.push(GroupAck {
                kind: AckKind::for_version(group.version()),
                group: group.clone(),
                sets: Vec::new(),
                unnamed_sets: 0,
                issues: all,
                status: AckStatus::Rejected,
            });
            return;
        }
        let accepted = sets
            .iter()
            .filter(|s| s.status != AckStatus::Rejected)
            .count();
        let answered = sets.len() + unnamed_sets as usize;
        let status = if answered > 0 && accepted == 0 {
            AckStatus::Rejected
        } else if accepted < answered {
            AckStatus::Partial
        } else if !issues.is_empty()
            || sets
                .iter()
                .any(|s| s.status == AckStatus::AcceptedWithErrors)
        {
            AckStatus::AcceptedWithErrors
        } else {
            AckStatus::Accepted
        };
        self.groups.push(GroupAck {
            kind: AckKind::for_version(group.version()),
            group: group.clone(),
            sets,
            unnamed_sets,
            issues,
            status,
        });
    }

    fn interchange_end(&mut self, isa: &Interchange) {
        let mut groups = std::mem::take(&mut self.groups);
        let ta1 = match (isa.rejection(), isa.issues.first()) {
            (Some(i), _) => {
                // Nothing of a rejected interchange was taken: no 997/999 for its groups.
                groups.clear();
                Some((AckStatus::Rejected, i.code))
            }
            (None, Some(i)) => Some((AckStatus::AcceptedWithErrors, i.code)),
            (None, None) if isa.field(14) == "1" => Some((AckStatus::Accepted, "000")),
            (None, None) => None,
        };
        self.done.push(InterchangeAck {
            interchange: isa.clone(),
            ta1,
            groups,
        });
    }

    fn stray(
        &mut self,
        location: String,
        message: String,
        ta1_code: Option<&'static str>,
        offset: Option<usize>,
    ) {
        // An ISA that cannot be used: reject the interchange with a TA1 built from what can be
        // read of its header.
        let (Some(code), Some(offset)) = (ta1_code, offset) else {
            return;
        };
        if code == "024" {
            return;
        }
        let Some(rest) = self.raw.get(offset..) else {
            return;
        };
        let sep = rest.get(3).copied().unwrap_or(b'*');
        let head = rest.get(..rest.len().min(120)).unwrap_or_default();
        let fields: Vec<String> = head
            .split(|&b| b == sep)
            .take(17)
            .map(|f| gateway_model::charset::utf8_or_windows_1252(f).into_owned())
            .collect();
        // The TA1 goes to ISA05/ISA06 from ISA07/ISA08 and echoes ISA13, ISA09 and ISA10
        // (TA101 to TA103, mandatory): without them there is no one to answer.
        let missing: Vec<String> = [5, 6, 7, 8, 13, 9, 10]
            .into_iter()
            .filter(|&n| fields.get(n).is_none_or(|f| f.trim().is_empty()))
            .map(|n| format!("ISA{n:02}"))
            .collect();
        if !missing.is_empty() {
            self.unanswerable.push(format!(
                "{location}: {message}; no TA1 answers it: {} cannot be read from the header, and a TA1 needs them to name whom it answers",
                missing.join(", ")
            ));
            return;
        }
        let usable = |b: u8| !b.is_ascii_alphanumeric() && !b.is_ascii_whitespace();
        let delimiters = Delimiters {
            element: if usable(sep) { sep } else { b'*' },
            ..Delimiters::default()
        };
        self.done.push(InterchangeAck {
            interchange: Interchange {
                fields,
                delimiters,
                line: 0,
                issues: Vec::new(),
                groups: 0,
            },
            ta1: Some((AckStatus::Rejected, code)),
            groups: Vec::new(),
        });
    }
}

/// A group of functional acknowledgments (GS01 `FA`, which 997 and 999 both use).
fn is_acknowledgment_group(group: &Group) -> bool {
    group.field(1).trim() == "FA"
}

/// Who the acknowledgment of `isa` is from (its ISA05/ISA06): this gateway's interchange id
/// for `partner` when the profile names it, else the receiver the interchange named (ISA07/
/// ISA08, mirrored). An interchange addressed to another receiver is rejected (TA1 note 007 or
/// 008) and answered under the gateway's own id, never in the name of the party it was
/// addressed to.
fn our_interchange_id<'a>(isa: &'a Interchange, partner: &'a PartnerProfile) -> (&'a str, &'a str) {
    let named = |v: Option<&'a String>| v.map(|v| v.trim()).filter(|v| !v.is_empty());
    let x12 = partner.x12.as_ref();
    match named(x12.and_then(|x| x.our_id.as_ref())) {
        Some(id) => (
            named(x12.and_then(|x| x.our_qualifier.as_ref())).unwrap_or(isa.field(7).trim()),
            id,
        ),
        None => (isa.field(7).trim(), isa.field(8).trim()),
    }
}

/// The application codes of a group's acknowledgment (its GS02 and GS03): ours and the
/// partner's as its profile names them, else the group's own GS03 and GS02 mirrored. A group
/// that named other codes is rejected (AK905 code 1) and answered from and to the agreed ones.
fn group_ids<'a>(group: &'a Group, partner: &'a PartnerProfile) -> (&'a str, &'a str) {
    let named = |v: Option<&'a String>| v.map(|v| v.trim()).filter(|v| !v.is_empty());
    let x12 = partner.x12.as_ref();
    (
        named(x12.and_then(|x| x.our_gs_id.as_ref())).unwrap_or(group.field(3).trim()),
        named(x12.and_then(|x| x.partner_gs_id.as_ref())).unwrap_or(group.field(2).trim()),
    )
}

/// Pads to the ISA width; an inbound id wider than the standard is mirrored as sent.
fn pad(value: &str, width: usize) -> String {
    format!("{value:<width$}")
}

fn ak_version(kind: AckKind, inbound: &str) -> String {
    match kind {
        AckKind::Ia999 => "005010X231".into(),
        AckKind::Fa997 => inbound.to_string(),
    }
}

/// Renders one ack interchange (empty when there is nothing to say).
fn render(
    ia: &InterchangeAck,
    partner: &PartnerProfile,
    numbers: &dyn ControlNumbers,
    now: DateTime<Utc>,
) -> Result<Vec<u8>, EncodeError> {
    if ia.ta1.is_none() && ia.groups.is_empty() {
        return Ok(Vec::new());
    }
    let isa = &ia.interchange;
    let mut d = writable(isa.delimiters);
    // A newline terminator: keep it; otherwise add a line break for readability.
    let line_break: &'static [u8] = if d.trim_trailing { b"" } else { b"\n" };
    d.trim_trailing = false;
    // An AK4 copies the partner's bad element back in the character set it reads.
    let charset = partner
        .x12
        .as_ref()
        .and_then(|x| x.charset)
        .unwrap_or_default();
    let mut out = Out::new(d, line_break).with_charset(charset);
    let key = partner.id.as_str();
    let control = numbers
        .next(key, ControlKind::Interchange)
        .map_err(|e| EncodeError::ControlNumbers(e.to_string()))?;
    let field = |n: usize| isa.field(n).to_string();
    let version = if isa.field(12).trim().len() == 5 {
        field(12)
    } else {
        "00401".into()
    };
    let (our_qualifier, our_id) = our_interchange_id(isa, partner);
    let isa_fields = vec![
        "00".into(),
        " ".repeat(10),
        "00".into(),
        " ".repeat(10),
        pad(our_qualifier, 2),
        pad(our_id, 15),
        pad(isa.field(5).trim(), 2),
        pad(isa.field(6).trim(), 15),
        now.format("%y%m%d").to_string(),
        now.format("%H%M").to_string(),
        match d.repetition {
            Some(r) => (r as char).to_string(),
            None => "U".into(),
        },
        version,
        format!("{control:09}"),
        "0".into(),
        match isa.field(15).trim() {
            "T" => "T".into(),
            _ => "P".into(),
        },
        (d.component as char).to_string(),
    ];
    out.raw_isa(&isa_fields)?;
    if let Some((status, code)) = ia.ta1 {
        out.segment(
            "$",
            "TA1",
            &[
                t(isa.field(13).trim()),
                t(isa.field(9).trim()),
                t(isa.field(10).trim()),
                t(status.code()),
                t(code),
            ],
        )?;
    }
    for g in &ia.groups {
        render_group(&mut out, g, partner, numbers, now)?;
    }
    out.segment(
        "$",
        "IEA",
        &[t(ia.groups.len().to_string()), t(format!("{control:09}"))],
    )?;
    Ok(out.buf)
}

/// The inbound delimiters, as the acknowledgment can be written with them. A segment terminator
/// that is data (a letter, digit or space: the walker rejects such an interchange, TA1 note
/// 004, so only its TA1 is written) would occur in the acknowledgment's own ISA values: it is
/// replaced by the first of `~ ' ! |` the other delimiters leave free.
fn writable(mut d: Delimiters) -> Delimiters {
    if crate::envelope::is_data_byte(d.segment) {
        d.segment = [b'~', b'\'', b'!', b'|']
            .into_iter()
            .find(|&c| c != d.element && c != d.component && Some(c) != d.repetition)
            .unwrap_or(b'\n');
        d.trim_trailing = false;
    }
    d
}

/// A value safe to echo in AK404/IK404 (no delimiters, no control characters, which the
/// acknowledgment would then hold itself; bounded length).
fn echo<'a>(value: &'a Option<String>, d: &Delimiters) -> El<'a> {
    match value {
        Some(v)
            if !v.bytes().any(|b| {
                b == d.element
                    || b == d.component
                    || b == d.segment
                    || Some(b) == d.repetition
                    || b < 0x20
                    || b == 0x7f
            }) =>
        {
            t(v.chars().take(99).collect::<String>())
        }
        _ => El::empty(),
    }
}

fn render_group(
    out: &mut Out,
    g: &GroupAck,
    partner: &PartnerProfile,
    numbers: &dyn ControlNumbers,
    now: DateTime<Utc>,
) -> Result<(), EncodeError> {
    let key = partner.id.as_str();
    let (from, to) = group_ids(&g.group, partner);
    let gctl = numbers
        .next(key, ControlKind::Group)
        .map_err(|e| EncodeError::ControlNumbers(e.to_string()))?;
    let is999 = g.kind == AckKind::Ia999;
    let version = ak_version(g.kind, g.group.version());
    out.segment(
        "$",
        "GS",
        &[
            t("FA"),
            t(from),
            t(to),
            t(now.format("%Y%m%d").to_string()),
            t(now.format("%H%M").to_string()),
            t(gctl.to_string()),
            t("X"),
            t(version.as_str()),
        ],
    )?;
    out.reset_count();
    let (set_id, ik3, ik4, ik5) = if is999 {
        ("999", "IK3", "IK4", "IK5")
    } else {
        ("997", "AK3", "AK4", "AK5")
    };
    let mut st = vec![t(set_id), t("0001")];
    if is999 {
        st.push(t(version));
    }
    out.segment("$", "ST", &st)?;
    let mut ak1 = vec![t(g.group.field(1).trim()), t(g.group.control())];
    if is999 {
        ak1.push(t(g.group.version()));
    }
    out.segment("$", "AK1", &ak1)?;
    let d = out.delimiters();
    for s in &g.sets {
        let mut ak2 = vec![t(s.id.as_str()), t(s.control.as_str())];
        if is999 {
            ak2.push(o(s.convention.as_deref()));
        }
        out.segment("$", "AK2", &ak2)?;
        // Two checks can find the same fault (BIG02 over both X12's length and Coupa's): the
        // partner reads it once.
        let mut written: Vec<NoteKey<'_>> = Vec::new();
        for issue in s
            .issues
            .iter()
            .filter(|i| i.set_code == "5")
            .take(MAX_SEGMENT_NOTES)
        {
            let Some(seg) = &issue.segment else { continue };
            // A segment named without a syntax error code (a CTT01 that miscounts): a 997's
            // AK304 may be empty, a 999's IK304 may not, and no IK304 code fits.
            let noted = seg.code == crate::set_loop::SEGMENT_NOTE;
            if noted && is999 {
                continue;
            }
            let key = (
                seg.position,
                seg.code,
                seg.element
                    .as_ref()
                    .map(|e| (e.position, e.component, e.code)),
            );
            if written.contains(&key) {
                continue;
            }
            written.push(key);
            out.segment(
                "$",
                ik3,
                &[
                    t(seg.id.as_str()),
                    t(seg.position.to_string()),
                    El::empty(),
                    if noted { El::empty() } else { t(seg.code) },
                ],
            )?;
            if let Some(e) = &seg.element {
                let position = match e.component {
                    Some(c) => El::C(vec![e.position.to_string().into(), c.to_string().into()]),
                    None => t(e.position.to_string()),
                };
                out.segment(
                    "$",
                    ik4,
                    &[position, El::empty(), t(e.code), echo(&e.value, &d)],
                )?;
            }
        }
        let mut codes: Vec<&str> = Vec::new();
        for i in &s.issues {
            if !codes.contains(&i.set_code) && codes.len() < 5 {
                codes.push(i.set_code);
            }
        }
        let mut ak5 = vec![t(s.status.code())];
        if s.status != AckStatus::Accepted {
            ak5.extend(codes.iter().map(|c| t(*c)));
        }
        out.segment("$", ik5, &ak5)?;
    }
    // AK902 is the number of sets the group says it includes (its GE01), AK903 those
    // received, AK904 those accepted: a GE01 that disagrees with the count shows as it was
    // sent (and AK905 code 5 says so). Without a usable GE01 (no trailer, or not a count
    // AK902 can hold) the sets received stand in.
    let received = g.group.sets_received();
    let included = g.group.sets_included().unwrap_or(received);
    let accepted = g
        .sets
        .iter()
        .filter(|s| s.status != AckStatus::Rejected)
        .count();
    let mut ak9 = vec![
        t(g.status.code()),
        t(included.to_string()),
        t(received.to_string()),
        t(accepted.to_string()),
    ];
    for i in g.issues.iter().take(5) {
        ak9.push(t(i.code));
    }
    out.segment("$", "AK9", &ak9)?;
    let n = out.count + 1;
    out.segment("$", "SE", &[t(n.to_string()), t("0001")])?;
    out.segment("$", "GE", &[t("1"), t(gctl.to_string())])?;
    Ok(())
}
