//! Envelope validation: walks ISA/IEA, GS/GE and ST/SE, checks control numbers, counts and ISA
//! field widths, and hands each complete transaction set to a [`Visitor`] with its problems.
//!
//! Problems are kept at the level they belong to, because acknowledgments answer per level:
//! interchange problems become TA1 notes, group problems AK9 codes, set problems AK5/IK5 and
//! AK3/AK4 (IK3/IK4) details. A problem in one set never touches its neighbours. An
//! interchange or group rejected whole (a repeated ISA13; with [`Walker::expecting`], one not
//! addressed as the partner's profile says) hands each of its sets on with the reason, so the
//! decoder delivers none of them and the acknowledgment answers it by TA1 or AK9 alone.

use gateway_model::Text;
use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::hash::Hash;

use crate::tokenizer::{Delimiters, Segment, Step, TokState, TokenError, Tokenizer};

/// How many control numbers the walker tracks for repeats in one scope (the sets of a group,
/// the groups of an interchange, the interchanges of an input) by default: the most sets a
/// group can hold and count in its trailer (GE01 has at most six digits), so no group the
/// standard allows goes unchecked. Each costs 8 bytes in a hash table (`Controls`), 9 to
/// 19 with the table's room: under 20 MB for the largest group, which is itself some hundred
/// megabytes of input. Past it, what cannot be checked is rejected, never accepted unchecked
/// ([`Walker::tracking_at_most`]).
pub const MAX_TRACKED_CONTROLS: usize = 999_999;

/// Whether a control number was seen before in its scope ([`Controls::note`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Seen {
    /// Not before; now tracked.
    First,
    /// It repeats one tracked earlier.
    Again,
    /// Not among those tracked, and the scope holds as many as are tracked: it cannot be
    /// told whether it repeats one that was not.
    Untracked,
}

/// The control numbers seen in one scope, compactly, so that every one of a large group can be
/// tracked: the walker must never accept a repeat unnoticed, since the ledger keys documents
/// by them and two documents under one key leave one row. A control number (trimmed) of at
/// most nine ASCII characters, as ST02s (4 to 9) and ISA13s (9 digits) are, packed into a
/// `u64` seven bits a character (no character is NUL, so the packing is one-to-one and the
/// text compares exactly as written: `0001` is not `00001`); any other kept as text. `S`
/// tells apart scopes that share one table (the senders of an input's interchanges).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Controls<S: Hash + Eq> {
    packed: HashSet<(S, u64)>,
    other: HashSet<(S, Text)>,
}

impl<S: Hash + Eq> Default for Controls<S> {
    fn default() -> Self {
        Controls {
            packed: HashSet::new(),
            other: HashSet::new(),
        }
    }
}

impl<S: Hash + Eq> Controls<S> {
    fn len(&self) -> usize {
        self.packed.len() + self.other.len()
    }

    /// Forgets every control number, keeping the tables' room for the next scope.
    fn clear(&mut self) {
        self.packed.clear();
        self.other.clear();
    }

    /// Notes `control` (trimmed) in `scope`, tracking it while fewer than `limit` are.
    fn note(&mut self, scope: S, control: &str, limit: usize) -> Seen {
        let room = self.len() < limit;
        let before = match pack(control) {
            Some(p) if room => !self.packed.insert((scope, p)),
            Some(p) => self.packed.contains(&(scope, p)),
            None if room => !self.other.insert((scope, control.into())),
            None => self.other.contains(&(scope, Text::from(control))),
        };
        match (before, room) {
            (true, _) => Seen::Again,
            (false, true) => Seen::First,
            (false, false) => Seen::Untracked,
        }
    }
}

/// `control` as a `u64`, seven bits a character, when it has at most nine characters, all
/// ASCII and none NUL ([`Controls`]).
fn pack(control: &str) -> Option<u64> {
    if control.len() > 9 {
        return None;
    }
    control.bytes().try_fold(0u64, |packed, b| {
        (b != 0 && b.is_ascii()).then_some(packed << 7 | u64::from(b))
    })
}

/// Whether a problem stops the item it belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// The item is rejected.
    Error,
    /// The item is accepted, and the acknowledgment says what was wrong.
    Warning,
}

/// The ISA header of an interchange, owned (a few short strings per interchange).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Interchange {
    /// `fields[0]` is `ISA`, `fields[n]` is ISAnn, untrimmed.
    pub fields: Vec<String>,
    pub delimiters: Delimiters,
    pub line: u32,
    /// Problems found in the header and trailer (TA1 notes).
    pub issues: Vec<EnvelopeIssue>,
    pub(crate) groups: u32,
}

/// The senders (`ISA05:ISA06`, trimmed, as [`Interchange::sender`] gives them) of the
/// interchanges in `raw`, each once, in order; at most 64. An endpoint checks them before it
/// takes anything, as the cXML endpoint checks its From credentials.
pub fn interchange_senders(raw: &[u8]) -> Vec<String> {
    let mut senders: Vec<String> = Vec::new();
    for (sender, _) in interchange_ids(raw) {
        if !senders.contains(&sender) {
            senders.push(sender);
            if senders.len() == 64 {
                break;
            }
        }
    }
    senders
}

/// Each interchange header in `raw`, in order: its sender (`ISA05:ISA06`, trimmed) and its
/// control number (ISA13, trimmed), for messages that name interchanges. Lazy: a caller
/// takes as many as it names.
pub fn interchange_ids(raw: &[u8]) -> impl Iterator<Item = (String, String)> + '_ {
    crate::tokenizer::Tokenizer::new(raw)
        .flatten()
        .filter(|seg| seg.id() == b"ISA")
        .map(|seg| {
            let field = |n| {
                seg.element(n)
                    .map(|v| {
                        gateway_model::charset::utf8_or_windows_1252(v)
                            .trim()
                            .to_string()
                    })
                    .unwrap_or_default()
            };
            (format!("{}:{}", field(5), field(6)), field(13))
        })
}

impl Interchange {
    /// ISA field `n` as written (fixed-width, padded).
    pub fn field(&self, n: usize) -> &str {
        self.fields.get(n).map(String::as_str).unwrap_or("")
    }
    /// ISA13, trimmed.
    pub fn control(&self) -> &str {
        self.field(13).trim()
    }
    /// `ISA05:ISA06`, trimmed.
    pub fn sender(&self) -> String {
        format!("{}:{}", self.field(5).trim(), self.field(6).trim())
    }
    /// `ISA07:ISA08`, trimmed.
    pub fn receiver(&self) -> String {
        format!("{}:{}", self.field(7).trim(), self.field(8).trim())
    }
    /// The problem that rejects the whole interchange (TA1 R), when there is one: its sets
    /// are not read, and no 997/999 answers its groups.
    pub fn rejection(&self) -> Option<&EnvelopeIssue> {
        self.issues.iter().find(|i| i.severity == Severity::Error)
    }
}

/// The GS header of a functional group.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Group {
    /// `fields[0]` is `GS`, `fields[n]` is GSnn.
    pub fields: Vec<String>,
    pub line: u32,
    sets: u32,
    /// The ST02s of its sets so far; emptied when the group ends.
    set_controls: Controls<()>,
    /// Its place among the groups of its interchange (1 for the first).
    ordinal: u32,
    /// Whether its GS06 repeats an earlier group's of its interchange, or could not be
    /// checked against them ([`Group::repeat_ordinal`]).
    repeats: bool,
    /// The problem that rejects the whole group (AK9 `R`), when there is one: a GS02 or GS03
    /// that is not the partner's or ours ([`Expected`]). Its sets are not read.
    rejection: Option<EnvelopeIssue>,
    /// GE01 as sent, when it is a count an AK902 can echo (1 to 6 digits); `None` until the
    /// trailer is read, or when it is missing or unusable.
    included: Option<u32>,
}

impl Group {
    pub fn field(&self, n: usize) -> &str {
        self.fields.get(n).map(String::as_str).unwrap_or("")
    }
    /// GS06, trimmed.
    pub fn control(&self) -> &str {
        self.field(6).trim()
    }
    /// GS08, trimmed (`004010`, `005010X222A1`).
    pub fn version(&self) -> &str {
        self.field(8).trim()
    }
    /// Number of ST/SE sets seen in the group.
    pub fn sets_received(&self) -> u32 {
        self.sets
    }
    /// The number of transaction sets the group's trailer says it includes (GE01), when the
    /// trailer was read and holds a count of at most six digits (AK902's width). X12 has the
    /// 997/999 echo it in AK902 beside the sets received (AK903), so a sender sees both when
    /// they differ.
    pub fn sets_included(&self) -> Option<u32> {
        self.included
    }
    /// The problem that rejects the whole group (AK9 `R` with its AK905 code), when there is
    /// one: its sets are not read and no AK2 answers them.
    pub fn rejection(&self) -> Option<&EnvelopeIssue> {
        self.rejection.as_ref()
    }
    /// The group's place among its interchange's groups (1 for the first), when its GS06
    /// repeats an earlier group's there (or, in an interchange of more groups than are
    /// tracked, could not be checked against them): a repeat is noted, not rejected, so its
    /// sets' keys name the place, or a set sharing an ST02 with one of the earlier group
    /// would be taken for the same document. `None` for a group whose GS06 is its own.
    pub fn repeat_ordinal(&self) -> Option<u32> {
        self.repeats.then_some(self.ordinal)
    }
}

/// What the partner's profile says an inbound interchange must be addressed to and from,
/// beyond the ISA sender an entry point matched it by: this gateway's interchange id for the
/// partner (ISA07/ISA08, the profile's `our_qualifier`/`our_id`) and the application codes
/// agreed for its groups (GS02 `partner_gs_id`, GS03 `our_gs_id`). Each is checked only when
/// the profile names it; the anonymous profile (`gateway validate` without `--partner`)
/// checks nothing. Compared trimmed and without regard to case, as partner profiles are
/// matched to ISA senders.
///
/// An interchange addressed to another receiver is not this gateway's to take: it is rejected
/// whole (TA1 `R`, note 008 for ISA08, 007 for the ISA07 qualifier), so nothing in it is
/// delivered or acknowledged in that receiver's name. A group whose GS02 or GS03 is not the
/// agreed one is rejected (AK9 `R`, AK905 code 1, "functional group not supported": the code
/// lists of 004010 and 005010, the versions the gateway acknowledges in, have no code for a
/// wrong application sender or receiver; codes 7 and 8 for them came in later releases).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expected {
    /// ISA07 (when the profile names our qualifier) and ISA08.
    pub receiver: Option<(Option<String>, String)>,
    /// GS02: the partner's application sender code.
    pub group_sender: Option<String>,
    /// GS03: our application receiver code.
    pub group_receiver: Option<String>,
}

impl Expected {
    /// What `partner`'s `[x12]` section names; nothing for a partner without one.
    pub fn of(partner: &gateway_core::PartnerProfile) -> Self {
        let Some(x) = partner.x12.as_ref() else {
            return Expected::default();
        };
        let named = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_string)
        };
        Expected {
            receiver: named(&x.our_id).map(|id| (named(&x.our_qualifier), id)),
            group_sender: named(&x.partner_gs_id),
            group_receiver: named(&x.our_gs_id),
        }
    }
}

/// Whether `value` as sent is `expected`, as profiles match ids: trimmed, case aside.
fn same_id(value: &str, expected: &str) -> bool {
    value.trim().eq_ignore_ascii_case(expected.trim())
}

/// An interchange- or group-level problem: `code` is the TA1 note code (TA105) or the AK9/IK9
/// group error code (AK905).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvelopeIssue {
    pub severity: Severity,
    pub code: &'static str,
    pub line: u32,
    pub message: String,
}

/// The ST header of a transaction set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SetHeader {
    /// ST01 (`810`).
    pub id: Text,
    /// ST02.
    pub control: Text,
    /// ST03 implementation convention reference (5010), when present.
    pub convention: Option<Text>,
    pub line: u32,
}

/// A problem with one element (AK4 / IK4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElementIssue {
    /// 1-based element position in the segment.
    pub position: u32,
    /// 1-based component position within a composite, when the problem is in one.
    pub component: Option<u32>,
    /// AK403/IK403 code: 1 missing, 6 invalid character, 7 invalid code, 8 invalid date, ...
    pub code: &'static str,
    /// The bad value, when there is one.
    pub value: Option<String>,
}

/// A problem with one segment (AK3 / IK3), optionally narrowed to one element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentIssue {
    pub id: String,
    /// 1-based position of the segment in the set (ST is 1).
    pub position: u32,
    /// AK304/IK304 code: 1 unrecognized id, 2 unexpected, 3 mandatory missing, 8 element errors.
    pub code: &'static str,
    pub element: Option<ElementIssue>,
}

/// A problem in one transaction set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetIssue {
    pub severity: Severity,
    /// AK502/IK502 code: 1 not supported, 2 trailer missing, 3 control numbers differ, 4 count
    /// wrong, 5 segments in error, 6 bad ST01, 7 bad ST02, 23 duplicate control number.
    pub set_code: &'static str,
    pub segment: Option<SegmentIssue>,
    pub line: u32,
    pub message: String,
}

impl SetIssue {
    /// A set-level problem without a segment.
    pub fn set(severity: Severity, code: &'static str, line: u32, message: String) -> Self {
        SetIssue {
            severity,
            set_code: code,
            segment: None,
            line,
            message,
        }
    }

    /// A problem in element `element` (1-based) of `seg`, at `position` in the set.
    pub fn element(
        severity: Severity,
        seg: &Segment<'_>,
        position: u32,
        element: u32,
        code: &'static str,
        message: String,
    ) -> Self {
        let value = seg
            .element(element as usize)
            .filter(|v| !v.is_empty())
            .map(|v| seg.charset.read(v).into_owned());
        SetIssue {
            severity,
            set_code: "5",
            segment: Some(SegmentIssue {
                id: seg.id_str().to_string(),
                position,
                code: "8",
                element: Some(ElementIssue {
                    position: element,
                    component: None,
                    code,
                    value,
                }),
            }),
            line: seg.line,
            message,
        }
    }

    /// A problem with a whole segment.
    pub fn segment(
        severity: Severity,
        id: &str,
        position: u32,
        line: u32,
        code: &'static str,
        message: String,
    ) -> Self {
        SetIssue {
            severity,
            set_code: "5",
            segment: Some(SegmentIssue {
                id: id.to_string(),
                position,
                code,
                element: None,
            }),
            line,
            message,
        }
    }
}

/// Where a set is: its interchange, group and header.
#[derive(Debug, Clone, Copy)]
pub struct SetContext<'x> {
    pub interchange: Option<&'x Interchange>,
    pub group: Option<&'x Group>,
    pub header: &'x SetHeader,
}

impl SetContext<'_> {
    /// The set's place in words: what messages and locations need of the context.
    pub fn place(&self) -> SetPlace<'_> {
        SetPlace {
            interchange: self.interchange.map(Interchange::control),
            group: self.group.map(Group::control),
            header: self.header,
        }
    }
}

/// Where a set is: its interchange's and group's control numbers (ISA13, GS06, trimmed) and
/// its header. All that mapping a set and locating its problems need of the envelope, so a
/// decoder can keep it per group (and hand it to another thread) without the headers.
#[derive(Debug, Clone, Copy)]
pub struct SetPlace<'x> {
    pub interchange: Option<&'x str>,
    pub group: Option<&'x str>,
    pub header: &'x SetHeader,
}

impl SetPlace<'_> {
    /// `interchange 000000001, group 1, set 0001`, for messages.
    pub fn describe(&self) -> String {
        let mut s = String::new();
        self.describe_into(&mut s);
        s
    }

    /// [`SetPlace::describe`], appended to `s`.
    pub fn describe_into(&self, s: &mut String) {
        // Pieces pushed as they are: this runs once per document, and `write!` costs more
        // than the text it writes.
        if let Some(i) = self.interchange {
            s.push_str("interchange ");
            s.push_str(i);
            s.push_str(", ");
        }
        if let Some(g) = self.group {
            s.push_str("group ");
            s.push_str(g);
            s.push_str(", ");
        }
        s.push_str("set ");
        s.push_str(&self.header.control);
        s.push_str(" (");
        s.push_str(&self.header.id);
        s.push(')');
    }

    /// A full location for one issue: `line 12, interchange .., group .., set .., segment IT1
    /// (#14), element IT104`.
    pub fn locate(&self, issue: &SetIssue) -> String {
        let mut s = format!("line {}, {}", issue.line, self.describe());
        if let Some(seg) = &issue.segment {
            let _ = write!(s, ", segment {} (#{})", seg.id, seg.position);
            if let Some(e) = &seg.element {
                let _ = write!(s, ", element {}{:02}", seg.id, e.position);
            }
        }
        s
    }
}

/// Receives what the walker finds, in input order.
pub trait Visitor<'a> {
    /// A complete transaction set (ST through SE, or as far as it went) and its envelope
    /// problems. `segments` includes ST and SE.
    fn set(&mut self, cx: &SetContext<'_>, segments: &[Segment<'a>], issues: Vec<SetIssue>);
    /// A group ended (GE, or implied by what followed); `issues` are trailer problems.
    fn group_end(
        &mut self,
        interchange: Option<&Interchange>,
        group: &Group,
        issues: Vec<EnvelopeIssue>,
    );
    /// An interchange ended; its issues are in `interchange.issues`.
    fn interchange_end(&mut self, interchange: &Interchange);
    /// A TA1 between the interchange header and its first group: a partner's verdict on an
    /// interchange the gateway sent. Only the reader of partners' acknowledgments wants it.
    fn ta1(&mut self, _interchange: &Interchange, _segment: &Segment<'_>) {}
    /// Data that belongs to no set: bytes before an ISA, a segment outside ST/SE, a broken
    /// ISA. `location` is in words; `ta1_code` is set for interchange-level problems.
    fn stray(
        &mut self,
        location: String,
        message: String,
        ta1_code: Option<&'static str>,
        offset: Option<usize>,
    );
}

/// What [`Walker::run`] did with the buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Where to resume (everything before `state.pos` is consumed).
    pub state: TokState,
    /// The buffer ended inside a segment or set; call again with more input.
    pub need_more: bool,
}

/// Walks segments, keeping the open interchange and group.
#[derive(Debug, Default)]
pub struct Walker {
    interchange: Option<Interchange>,
    group: Option<Group>,
    /// The ISA13s of the input, by sender (an index into `senders`).
    seen_interchanges: Controls<u32>,
    senders: HashMap<String, u32>,
    /// The GS06s of the open interchange.
    seen_groups: Controls<()>,
    /// Set while skipping the rest of a set too large to buffer.
    skipping: Option<SetHeader>,
    /// Data before an interchange header being skipped: reported once, when the run ends.
    skipped: Option<SkippedRun>,
    /// Whether the input held anything but padding (a segment, or data the tokenizer skipped).
    seen_input: bool,
    /// Whom the partner's interchanges and groups must be addressed to and from.
    expected: Expected,
    /// How many control numbers are tracked per scope; [`MAX_TRACKED_CONTROLS`] when `None`.
    control_limit: Option<usize>,
}

/// A run of data before an interchange header that the tokenizer skips piece by piece (a
/// streamed input without a usable ISA comes in one piece per read): where it started and
/// how much of it there was, reported once.
#[derive(Debug)]
struct SkippedRun {
    line: u32,
    ordinal: u64,
    offset: usize,
    message: String,
    bytes: usize,
}

const ISA_WIDTHS: [(usize, usize, &str); 16] = [
    (1, 2, "010"),
    (2, 10, "011"),
    (3, 2, "012"),
    (4, 10, "013"),
    (5, 2, "005"),
    (6, 15, "006"),
    (7, 2, "007"),
    (8, 15, "008"),
    (9, 6, "014"),
    (10, 4, "015"),
    (11, 1, "016"),
    (12, 5, "017"),
    (13, 9, "018"),
    (14, 1, "019"),
    (15, 1, "020"),
    (16, 1, "027"),
];

fn fields(seg: &Segment<'_>) -> Vec<String> {
    seg.elements()
        .take(64)
        .map(|e| gateway_model::charset::utf8_or_windows_1252(e).into_owned())
        .collect()
}

/// The functional identifier code (GS01) of the group a set this gateway maps belongs in
/// (X12: every set of a group is of the group's functional identifier; 810 is `IN`, 850 `PO`).
///
/// A set in a group of another identifier is not valid within that group: it is rejected,
/// AK5 `R` with AK502 code 6 (missing or invalid transaction set identifier; ST01 in the
/// AK4, code 7, is not a code of that group), as an ST01 this gateway does not map is (code
/// 1). Only the sets the gateway maps are checked: a partner's 997/999 is read whatever its
/// group (and never acknowledged), and the rest are rejected as not mapped anyway.
fn functional_group_of(st01: &str) -> Option<&'static str> {
    match st01 {
        "810" => Some("IN"),
        "850" => Some("PO"),
        _ => None,
    }
}

/// Whether `b` is a byte X12 data holds in every character set (a letter, a digit, a space),
/// so that no delimiter may be it: the interchange header's own values hold such bytes.
pub(crate) fn is_data_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b' '
}

fn is_segment_id(id: &[u8]) -> bool {
    (2..=3).contains(&id.len())
        && id
            .iter()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        && id.first().is_some_and(|b| b.is_ascii_uppercase())
}

fn parse_count(v: &str) -> Option<u64> {
    let t = v.trim();
    if t.is_empty() || t.len() > 18 || !t.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // At most 18 checked digits: the value fits, without `parse` checking them again.
    Some(t.bytes().fold(0u64, |n, b| {
        n.saturating_mul(10)
            .saturating_add(u64::from(b.saturating_sub(b'0')))
    }))
}

/// Control numbers compare as numbers when both are numeric (`0001` = `1`), else as text.
fn same_control(a: &str, b: &str) -> bool {
    match (parse_count(a), parse_count(b)) {
        (Some(x), Some(y)) => x == y,
        _ => a.trim() == b.trim(),
    }
}

impl Walker {
    pub fn new() -> Self {
        Self::default()
    }

    /// A walker that rejects interchanges and groups not addressed as `expected` says (see
    /// [`Expected`]).
    pub fn expecting(expected: Expected) -> Self {
        Walker {
            expected,
            ..Self::default()
        }
    }

    /// This walker, tracking at most `limit` control numbers per scope (sets per group,
    /// groups per interchange, interchanges per input) instead of [`MAX_TRACKED_CONTROLS`]:
    /// what comes past it, and so cannot be checked for a repeat, is rejected (a set, an
    /// interchange) or keyed by its place (a group). For tests, and callers that want less
    /// memory spent on large inputs.
    pub fn tracking_at_most(mut self, limit: usize) -> Self {
        self.control_limit = Some(limit);
        self
    }

    fn limit(&self) -> usize {
        self.control_limit.unwrap_or(MAX_TRACKED_CONTROLS)
    }

    /// Walks `input` from `state`. With `eof` false, stops before a segment or set that the
    /// buffer cuts and reports `need_more`; the caller appends input and calls again with the
    /// returned state. With `eof` true, closes whatever is open at the end.
    pub fn run<'a>(
        &mut self,
        input: &'a [u8],
        state: TokState,
        eof: bool,
        visitor: &mut dyn Visitor<'a>,
    ) -> Progress {
        let mut tok = Tokenizer::with_state(input, state, eof);
        // One buffer for every set of this call: no allocation per set.
        let mut segments: Vec<Segment<'a>> = Vec::new();
        loop {
            let before = tok.state();
            match tok.step() {
                Step::End => {
                    if eof {
                        self.finish(tok.state().line, visitor);
                    }
                    return Progress {
                        state: tok.state(),
                        need_more: false,
                    };
                }
                Step::NeedMore => {
                    return Progress {
                        state: before,
                        need_more: true,
                    };
                }
                Step::Error(e) => {
                    let skipped = tok.state().pos.saturating_sub(e.offset);
                    self.token_error(e, skipped, visitor);
                }
                Step::Segment(seg) => {
                    self.seen_input = true;
                    self.end_skipped_run(visitor);
                    if self.skipping.is_some() {
                        self.skip(&seg, visitor);
                        continue;
                    }
                    if seg.id() == b"ST" {
                        match self.collect_set(&mut tok, seg, &mut segments, visitor) {
                            Some(()) => {}
                            None => {
                                return Progress {
                                    state: before,
                                    need_more: true,
                                };
                            }
                        }
                    } else {
                        self.envelope_segment(&seg, visitor);
                    }
                }
            }
        }
    }

    /// Gives up buffering the set that starts at `st` (too large): reports it rejected and
    /// skips its segments until SE.
    pub fn abandon_set(&mut self, st: &Segment<'_>, limit: usize, visitor: &mut dyn Visitor<'_>) {
        let header = SetHeader {
            id: st.lossy(st.element(1).unwrap_or_default()).into(),
            control: st.lossy(st.element(2).unwrap_or_default()).into(),
            convention: None,
            line: st.line,
        };
        let cx = SetContext {
            interchange: self.interchange.as_ref(),
            group: self.group.as_ref(),
            header: &header,
        };
        let issue = SetIssue::set(
            Severity::Error,
            "5",
            st.line,
            format!("transaction set larger than {limit} bytes; it was not read"),
        );
        visitor.set(&cx, &[], vec![issue]);
        if let Some(g) = self.group.as_mut() {
            g.sets += 1;
        }
        self.skipping = Some(header);
    }

    fn skip(&mut self, seg: &Segment<'_>, visitor: &mut dyn Visitor<'_>) {
        match seg.id() {
            b"SE" => self.skipping = None,
            b"ISA" | b"GS" | b"GE" | b"IEA" => {
                self.skipping = None;
                self.envelope_segment(seg, visitor);
            }
            _ => {}
        }
    }

    /// `skipped` is how many bytes the tokenizer passed over for `e`.
    fn token_error(&mut self, e: TokenError, skipped: usize, visitor: &mut dyn Visitor<'_>) {
        self.seen_input = true;
        if e.ta1_code == "024" {
            // Data before an interchange header: one report per run, however many pieces
            // the tokenizer skips it in.
            match self.skipped.as_mut() {
                Some(run) => run.bytes = run.bytes.saturating_add(skipped),
                None => {
                    self.skipped = Some(SkippedRun {
                        line: e.line,
                        ordinal: e.ordinal,
                        offset: e.offset,
                        message: e.message,
                        bytes: skipped,
                    })
                }
            }
            return;
        }
        self.end_skipped_run(visitor);
        // A broken ISA ends the open interchange: nothing after it can be split reliably.
        self.close_interchange(e.line, "023", visitor);
        visitor.stray(
            format!("line {}, segment #{}", e.line, e.ordinal),
            e.message,
            Some(e.ta1_code),
            Some(e.offset),
        );
    }

    /// Reports the run of skipped data that ended (at a segment, another problem or the end
    /// of the input), once, where it started.
    fn end_skipped_run(&mut self, visitor: &mut dyn Visitor<'_>) {
        if let Some(run) = self.skipped.take() {
            visitor.stray(
                format!("line {}, segment #{}", run.line, run.ordinal),
                format!(
                    "{} ({} byte{} from here on)",
                    run.message,
                    run.bytes,
                    if run.bytes == 1 { "" } else { "s" }
                ),
                Some("024"),
                Some(run.offset),
            );
        }
    }

    /// The end of the input, at `line`: reports what is still open.
    fn finish(&mut self, line: u32, visitor: &mut dyn Visitor<'_>) {
        self.end_skipped_run(visitor);
        if !self.seen_input {
            visitor.stray(
                format!("line {line}"),
                "the input holds no interchange: it is empty or blank (expected an interchange header ISA)".into(),
                None,
                None,
            );
        }
        if let Some(h) = self.skipping.take() {
            visitor.stray(
                format!("line {}, set {}", h.line, h.control),
                "input ended inside a transaction set that was too large to read".into(),
                None,
                None,
            );
        }
        self.close_group(None, visitor);
        if let Some(mut isa) = self.interchange.take() {
            isa.issues.push(EnvelopeIssue {
                severity: Severity::Warning,
                code: "023",
                line: isa.line,
                message: format!(
                    "interchange {}: input ended without the trailer IEA",
                    isa.control()
                ),
            });
            visitor.interchange_end(&isa);
        }
    }

    fn close_group(&mut self, at: Option<u32>, visitor: &mut dyn Visitor<'_>) {
        if let Some(mut g) = self.group.take() {
            // Not needed past the group; an acknowledgment keeps a copy of the group.
            g.set_controls = Controls::default();
            let line = at.unwrap_or(g.line);
            let issue = EnvelopeIssue {
                severity: Severity::Warning,
                code: "3",
                line,
                message: format!("group {}: functional group trailer GE missing", g.control()),
            };
            visitor.group_end(self.interchange.as_ref(), &g, vec![issue]);
        }
    }

    fn close_interchange(&mut self, line: u32, code: &'static str, visitor: &mut dyn Visitor<'_>) {
        self.close_group(Some(line), visitor);
        if let Some(mut isa) = self.interchange.take() {
            isa.issues.push(EnvelopeIssue {
                severity: Severity::Warning,
                code,
                line,
                message: format!(
                    "interchange {}: trailer IEA missing before line {line}",
                    isa.control()
                ),
            });
            visitor.interchange_end(&isa);
        }
    }

    fn envelope_segment(&mut self, seg: &Segment<'_>, visitor: &mut dyn Visitor<'_>) {
        match seg.id() {
            b"ISA" => self.open_interchange(seg, visitor),
            b"GS" => self.open_group(seg, visitor),
            b"GE" => self.end_group(seg, visitor),
            b"IEA" => self.end_interchange(seg, visitor),
            b"TA1" if self.group.is_none() => {
                if let Some(isa) = self.interchange.as_ref() {
                    visitor.ta1(isa, seg);
                } else {
                    visitor.stray(
                        format!("line {}, segment TA1 (#{})", seg.line, seg.ordinal),
                        stray_message(seg),
                        None,
                        None,
                    );
                }
            }
            b"SE" => visitor.stray(
                format!("line {}, segment SE (#{})", seg.line, seg.ordinal),
                "transaction set trailer SE without a header ST".into(),
                None,
                None,
            ),
            other => visitor.stray(
                format!(
                    "line {}, segment {} (#{})",
                    seg.line,
                    String::from_utf8_lossy(other),
                    seg.ordinal
                ),
                stray_message(seg),
                None,
                None,
            ),
        }
    }

    fn open_interchange(&mut self, seg: &Segment<'_>, visitor: &mut dyn Visitor<'_>) {
        self.close_interchange(seg.line, "023", visitor);
        let fields = fields(seg);
        let mut isa = Interchange {
            fields,
            delimiters: seg.delimiters,
            line: seg.line,
            issues: Vec::new(),
            groups: 0,
        };
        for (n, width, code) in ISA_WIDTHS {
            let v = isa.field(n);
            if v.len() != width {
                isa.issues.push(EnvelopeIssue {
                    severity: Severity::Warning,
                    code,
                    line: seg.line,
                    message: format!(
                        "ISA{n:02} is {} characters wide; the standard fixes it at {width}",
                        v.len()
                    ),
                });
            }
        }
        let terminator = seg.delimiters.segment;
        if is_data_byte(terminator) {
            // The tokenizer takes the byte after ISA16 as it comes; a letter, digit or space
            // there is data (the header's own ISA01, ISA05 and ISA13 hold such bytes), and a
            // delimiter must never occur in data: the segments cannot be told apart, and no
            // acknowledgment could be written with it. Rejected whole (TA1 R).
            isa.issues.push(EnvelopeIssue {
                severity: Severity::Error,
                code: "004",
                line: seg.line,
                message: format!(
                    "segment terminator {:?} (the character after ISA16) is a letter, digit or space, which X12 data holds (this header's own values among them), and a delimiter may never occur in data; nothing in the interchange is read: send it with a terminator such as '~'",
                    terminator as char
                ),
            });
        }
        if !isa.field(13).bytes().all(|b| b.is_ascii_digit()) || isa.field(13).is_empty() {
            isa.issues.push(EnvelopeIssue {
                severity: Severity::Warning,
                code: "018",
                line: seg.line,
                message: format!("ISA13 {:?} is not a numeric control number", isa.field(13)),
            });
        }
        if !matches!(isa.field(15), "P" | "T" | "I") {
            isa.issues.push(EnvelopeIssue {
                severity: Severity::Warning,
                code: "020",
                line: seg.line,
                message: format!("ISA15 {:?} is not P, T or I", isa.field(15)),
            });
        }
        if let Some(issue) = self.misaddressed(&isa, seg.line) {
            isa.issues.push(issue);
        }
        if let Some(issue) = self.note_interchange(&isa, seg.line) {
            isa.issues.push(issue);
        }
        self.seen_groups.clear();
        self.interchange = Some(isa);
    }

    /// Notes the interchange `isa` among the input's: the problem that rejects it, when its
    /// ISA13 repeats an earlier interchange's of its sender (a second copy: its sets are not
    /// read) or, past the interchanges tracked, cannot be checked.
    fn note_interchange(&mut self, isa: &Interchange, line: u32) -> Option<EnvelopeIssue> {
        let limit = self.limit();
        let tracked = self.seen_interchanges.len();
        let sender = isa.sender();
        let scope = match self.senders.get(&sender) {
            Some(&n) => Some(n),
            None if tracked < limit => {
                let n = u32::try_from(self.senders.len()).unwrap_or(u32::MAX);
                self.senders.insert(sender, n);
                Some(n)
            }
            None => None,
        };
        let seen = match scope {
            Some(n) => self.seen_interchanges.note(n, isa.control(), limit),
            None => Seen::Untracked,
        };
        let (code, message) = match seen {
            Seen::First => return None,
            Seen::Again => (
                "025",
                format!(
                    "interchange control number {} repeats an earlier interchange in this input",
                    isa.control()
                ),
            ),
            Seen::Untracked => (
                "024",
                format!(
                    "interchange control number {} cannot be checked against the earlier interchanges: this input holds more than {limit} interchanges, the most the gateway checks for repeated control numbers in one input, so nothing in this one is read: send it and the interchanges after it in another input",
                    isa.control()
                ),
            ),
        };
        Some(EnvelopeIssue {
            severity: Severity::Error,
            code,
            line,
            message,
        })
    }

    /// Why the interchange `isa` is not addressed to this gateway, when it is not: its
    /// receiver (ISA07/ISA08) is not the one the partner's profile names ([`Expected`]).
    fn misaddressed(&self, isa: &Interchange, line: u32) -> Option<EnvelopeIssue> {
        let (qualifier, id) = self.expected.receiver.as_ref()?;
        let (code, message) = if !same_id(isa.field(8), id) {
            (
                "008",
                format!(
                    "ISA08 {:?} is not this gateway's interchange id {id:?}: the interchange is addressed to another receiver, so nothing in it is taken or answered in that receiver's name; send it to {}{id}",
                    isa.field(8).trim(),
                    qualifier
                        .as_deref()
                        .map(|q| format!("{q}:"))
                        .unwrap_or_default()
                ),
            )
        } else if let Some(q) = qualifier
            && !same_id(isa.field(7), q)
        {
            (
                "007",
                format!(
                    "ISA07 {:?} is not the qualifier {q:?} of this gateway's interchange id {id}: send it to {q}:{id}",
                    isa.field(7).trim()
                ),
            )
        } else {
            return None;
        };
        Some(EnvelopeIssue {
            severity: Severity::Error,
            code,
            line,
            message,
        })
    }

    /// Why the group `g` is not the partner's to this gateway, when it is not: its GS02 or
    /// GS03 is not the application code the partner's profile names ([`Expected`]).
    fn misaddressed_group(expected: &Expected, g: &Group) -> Option<EnvelopeIssue> {
        let wrong = |n: usize, expected: &Option<String>, whose: &str| {
            let expected = expected.as_deref()?;
            (!same_id(g.field(n), expected)).then(|| {
                format!(
                    "GS{n:02} {:?} is not {whose} application code {expected:?} (group {}): the group is not the partner's to this gateway, so none of its sets is taken",
                    g.field(n).trim(),
                    g.control()
                )
            })
        };
        let message = wrong(2, &expected.group_sender, "the partner's")
            .or_else(|| wrong(3, &expected.group_receiver, "this gateway's"))?;
        Some(EnvelopeIssue {
            severity: Severity::Error,
            code: "1",
            line: g.line,
            message,
        })
    }

    fn open_group(&mut self, seg: &Segment<'_>, visitor: &mut dyn Visitor<'_>) {
        self.close_group(Some(seg.line), visitor);
        let Some(isa) = self.interchange.as_mut() else {
            visitor.stray(
                format!("line {}, segment GS (#{})", seg.line, seg.ordinal),
                "functional group header GS outside an interchange".into(),
                Some("024"),
                None,
            );
            return;
        };
        isa.groups += 1;
        let mut g = Group {
            fields: fields(seg),
            line: seg.line,
            ordinal: isa.groups,
            ..Group::default()
        };
        g.rejection = Self::misaddressed_group(&self.expected, &g);
        let limit = self.control_limit.unwrap_or(MAX_TRACKED_CONTROLS);
        let message = match self.seen_groups.note((), g.control(), limit) {
            Seen::First => None,
            Seen::Again => Some(format!(
                "group control number {} repeats an earlier group in interchange {}",
                g.control(),
                isa.control()
            )),
            Seen::Untracked => Some(format!(
                "group control number {} was not checked against the earlier groups: interchange {} holds more than {limit} groups, the most the gateway checks for repeats; its sets are told apart by the group's place ({}): send fewer groups in an interchange",
                g.control(),
                isa.control(),
                g.ordinal
            )),
        };
        if let Some(message) = message {
            // Noted, not rejected: the group's sets are keyed by its place.
            g.repeats = true;
            isa.issues.push(EnvelopeIssue {
                severity: Severity::Warning,
                code: "024",
                line: seg.line,
                message,
            });
        }
        self.group = Some(g);
    }

    fn end_group(&mut self, seg: &Segment<'_>, visitor: &mut dyn Visitor<'_>) {
        let Some(mut g) = self.group.take() else {
            visitor.stray(
                format!("line {}, segment GE (#{})", seg.line, seg.ordinal),
                "functional group trailer GE without a header GS".into(),
                None,
                None,
            );
            return;
        };
        // Not needed past the group; an acknowledgment keeps a copy of the group.
        g.set_controls = Controls::default();
        let mut issues = Vec::new();
        let ge02 = String::from_utf8_lossy(seg.element(2).unwrap_or_default());
        if !same_control(&ge02, g.control()) {
            issues.push(EnvelopeIssue {
                severity: Severity::Warning,
                code: "4",
                line: seg.line,
                message: format!(
                    "GE02 {ge02:?} does not match GS06 {:?} of group at line {}",
                    g.control(),
                    g.line
                ),
            });
        }
        let ge01 = String::from_utf8_lossy(seg.element(1).unwrap_or_default());
        g.included = parse_count(&ge01)
            .filter(|&n| n <= 999_999)
            .and_then(|n| u32::try_from(n).ok());
        if parse_count(&ge01) != Some(u64::from(g.sets)) {
            issues.push(EnvelopeIssue {
                severity: Severity::Warning,
                code: "5",
                line: seg.line,
                message: format!(
                    "GE01 says {ge01:?} transaction sets; the group holds {}",
                    g.sets
                ),
            });
        }
        visitor.group_end(self.interchange.as_ref(), &g, issues);
    }

    fn end_interchange(&mut self, seg: &Segment<'_>, visitor: &mut dyn Visitor<'_>) {
        self.close_group(Some(seg.line), visitor);
        let Some(mut isa) = self.interchange.take() else {
            visitor.stray(
                format!("line {}, segment IEA (#{})", seg.line, seg.ordinal),
                "interchange trailer IEA without a header ISA".into(),
                None,
                None,
            );
            return;
        };
        let iea02 = String::from_utf8_lossy(seg.element(2).unwrap_or_default());
        if !same_control(&iea02, isa.control()) {
            isa.issues.push(EnvelopeIssue {
                severity: Severity::Warning,
                code: "001",
                line: seg.line,
                message: format!("IEA02 {iea02:?} does not match ISA13 {:?}", isa.control()),
            });
        }
        let iea01 = String::from_utf8_lossy(seg.element(1).unwrap_or_default());
        if parse_count(&iea01) != Some(u64::from(isa.groups)) {
            isa.issues.push(EnvelopeIssue {
                severity: Severity::Warning,
                code: "021",
                line: seg.line,
                message: format!(
                    "IEA01 says {iea01:?} functional groups; the interchange holds {}",
                    isa.groups
                ),
            });
        }
        visitor.interchange_end(&isa);
    }

    /// Collects ST..SE (`st` is an ST). Returns `None` when the buffer ends first and more
    /// input may come.
    fn collect_set<'a>(
        &mut self,
        tok: &mut Tokenizer<'a>,
        st: Segment<'a>,
        segments: &mut Vec<Segment<'a>>,
        visitor: &mut dyn Visitor<'a>,
    ) -> Option<()> {
        segments.clear();
        segments.push(st);
        let mut issues = Vec::new();
        let mut ended_by: Option<Segment<'a>> = None;
        let mut se: Option<Segment<'a>> = None;
        // The segments (by index) whose id is not a segment id: checked as they come, while
        // the id is at hand, and reported after the header's problems.
        let mut bad_ids: Vec<usize> = Vec::new();
        loop {
            let before = tok.state();
            match tok.step() {
                Step::Segment(seg) => match seg.id() {
                    b"SE" => {
                        segments.push(seg);
                        se = Some(seg);
                        break;
                    }
                    b"ST" | b"GS" | b"GE" | b"IEA" | b"ISA" => {
                        // Missing SE: the set ends here; hand the segment back.
                        tok.set_state(before);
                        ended_by = Some(seg);
                        break;
                    }
                    id => {
                        if !is_segment_id(id) {
                            bad_ids.push(segments.len());
                        }
                        segments.push(seg);
                    }
                },
                Step::NeedMore => return None,
                Step::End => break,
                Step::Error(e) => {
                    issues.push(SetIssue::set(
                        Severity::Error,
                        "2",
                        e.line,
                        e.message.clone(),
                    ));
                    let skipped = tok.state().pos.saturating_sub(e.offset);
                    self.token_error(e, skipped, visitor);
                    break;
                }
            }
        }
        let header = SetHeader {
            id: st.lossy(st.element(1).unwrap_or_default()).into(),
            control: st.lossy(st.element(2).unwrap_or_default()).into(),
            convention: st.str_at(3).map(Text::from),
            line: st.line,
        };
        if !(header.id.len() == 3 && header.id.bytes().all(|b| b.is_ascii_digit())) {
            issues.push(SetIssue::element(
                Severity::Error,
                &st,
                1,
                1,
                if header.id.is_empty() { "1" } else { "7" },
                format!(
                    "ST01 {:?} is not a transaction set identifier (three digits such as 810)",
                    header.id
                ),
            ));
            if let Some(i) = issues.last_mut() {
                i.set_code = "6";
            }
        }
        if let Some(g) = self.group.as_ref()
            && let Some(expected) = functional_group_of(&header.id)
            && g.field(1).trim() != expected
        {
            let mut i = SetIssue::element(
                Severity::Error,
                &st,
                1,
                1,
                "7",
                format!(
                    "ST01 {} is not a set of functional group {:?} (GS01 of group {}): sets {} belong in groups with GS01 {expected}",
                    header.id,
                    g.field(1).trim(),
                    g.control(),
                    header.id,
                ),
            );
            i.set_code = "6";
            issues.push(i);
        }
        if !(4..=9).contains(&header.control.trim().len()) {
            let mut i = SetIssue::element(
                Severity::Error,
                &st,
                1,
                2,
                if header.control.is_empty() { "1" } else { "4" },
                format!(
                    "ST02 {:?} must be a control number of 4 to 9 characters",
                    header.control
                ),
            );
            i.set_code = "7";
            issues.push(i);
        }
        if let Some(refusal) = self.interchange.as_ref().and_then(Interchange::rejection) {
            issues.push(SetIssue::set(
                Severity::Error,
                "5",
                st.line,
                format!(
                    "not read: interchange {} is rejected (TA1 note {}): {}",
                    self.interchange.as_ref().map_or("", Interchange::control),
                    refusal.code,
                    refusal.message
                ),
            ));
        }
        if let Some(g) = self.group.as_ref()
            && let Some(refusal) = g.rejection()
        {
            issues.push(SetIssue::set(
                Severity::Error,
                "5",
                st.line,
                format!(
                    "not read: group {} is rejected (AK905 code {}): {}",
                    g.control(),
                    refusal.code,
                    refusal.message
                ),
            ));
        }
        let limit = self.limit();
        if let Some(g) = self.group.as_mut() {
            g.sets += 1;
            match g.set_controls.note((), header.control.trim(), limit) {
                Seen::First => {}
                Seen::Again => issues.push(SetIssue::set(
                    Severity::Error,
                    "23",
                    st.line,
                    format!(
                        "ST02 {} repeats an earlier set in group {}",
                        header.control,
                        g.control()
                    ),
                )),
                // Never accepted unchecked: a repeat would share its ledger key.
                Seen::Untracked => issues.push(SetIssue::set(
                    Severity::Error,
                    "5",
                    st.line,
                    format!(
                        "group {} holds more than {limit} transaction sets, the most the gateway checks for repeated control numbers in one group, so ST02 {} cannot be checked against the earlier sets and the set is not read: split the group into groups of at most {limit} sets and send this set and those after it again",
                        g.control(),
                        header.control
                    ),
                )),
            }
        } else {
            issues.push(SetIssue::set(
                Severity::Error,
                "5",
                st.line,
                "transaction set outside a functional group (no GS before ST)".into(),
            ));
        }
        for (i, seg) in bad_ids.iter().filter_map(|&i| Some((i, segments.get(i)?))) {
            issues.push(SetIssue::segment(
                Severity::Error,
                seg.id_str(),
                (i + 1) as u32,
                seg.line,
                "1",
                format!(
                    "{:?} is not a segment id (two or three upper-case letters or digits)",
                    String::from_utf8_lossy(seg.id())
                ),
            ));
        }
        match se {
            Some(se) => {
                let se02 = se.lossy(se.element(2).unwrap_or_default());
                if !same_control(&se02, &header.control) {
                    let mut i = SetIssue::element(
                        Severity::Error,
                        &se,
                        segments.len() as u32,
                        2,
                        "7",
                        format!("SE02 {se02:?} does not match ST02 {:?}", header.control),
                    );
                    i.set_code = "3";
                    issues.push(i);
                }
                let se01 = se.lossy(se.element(1).unwrap_or_default());
                if parse_count(&se01) != Some(segments.len() as u64) {
                    let mut i = SetIssue::element(
                        Severity::Error,
                        &se,
                        segments.len() as u32,
                        1,
                        "6",
                        format!(
                            "SE01 says {se01:?} segments; the set holds {} (ST through SE)",
                            segments.len()
                        ),
                    );
                    i.set_code = "4";
                    issues.push(i);
                }
            }
            None => {
                let line = segments.last().map(|s| s.line).unwrap_or(st.line);
                let what = ended_by
                    .map(|s| format!("segment {} at line {}", s.id_str(), s.line))
                    .unwrap_or_else(|| "the end of the input".into());
                issues.push(SetIssue::set(
                    Severity::Error,
                    "2",
                    line,
                    format!("transaction set trailer SE missing before {what}"),
                ));
            }
        }
        let cx = SetContext {
            interchange: self.interchange.as_ref(),
            group: self.group.as_ref(),
            header: &header,
        };
        visitor.set(&cx, segments, issues);
        Some(())
    }
}

/// Why a segment outside any transaction set is there, in words. An id holding another
/// punctuation mark is most often a segment written with another element separator than the
/// one its ISA declares (the byte after `ISA`), and says so.
fn stray_message(seg: &Segment<'_>) -> String {
    /// Bytes of the would-be id quoted back: enough to recognise the segment.
    const MAX_ECHOED: usize = 60;
    let id = seg.id();
    let separator = seg.delimiters.element;
    match id.iter().find(|b| !b.is_ascii_alphanumeric()) {
        Some(&other) if id.len() > 3 => format!(
            "{:?} is not a segment id: this interchange separates elements with {:?} (the byte after ISA), and the segment seems to use {:?}; write every segment with the ISA's separators",
            String::from_utf8_lossy(id.get(..MAX_ECHOED).unwrap_or(id)),
            char::from(separator),
            char::from(other)
        ),
        _ => "segment outside a transaction set (expected ISA, GS, ST, GE or IEA)".into(),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Everything the walker reports, for tests here and of the writers (whose output must
    /// walk without a finding).
    #[derive(Default)]
    pub(crate) struct Record {
        /// Each set: ST02, its segment count, its issues, where the first one is.
        pub(crate) sets: Vec<(String, usize, Vec<SetIssue>, String)>,
        /// Each group: GS06 and its issues.
        pub(crate) groups: Vec<(String, Vec<EnvelopeIssue>)>,
        pub(crate) interchanges: Vec<Interchange>,
        pub(crate) strays: Vec<String>,
    }

    impl<'a> Visitor<'a> for Record {
        fn set(&mut self, cx: &SetContext<'_>, segments: &[Segment<'a>], issues: Vec<SetIssue>) {
            let loc = issues
                .first()
                .map(|i| cx.place().locate(i))
                .unwrap_or_default();
            self.sets
                .push((cx.header.control.to_string(), segments.len(), issues, loc));
        }
        fn group_end(&mut self, _: Option<&Interchange>, g: &Group, issues: Vec<EnvelopeIssue>) {
            self.groups.push((g.control().to_string(), issues));
        }
        fn interchange_end(&mut self, isa: &Interchange) {
            self.interchanges.push(isa.clone());
        }
        fn stray(
            &mut self,
            location: String,
            message: String,
            _: Option<&'static str>,
            _: Option<usize>,
        ) {
            self.strays.push(format!("{location}: {message}"));
        }
    }

    const ISA: &str = "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *200301*1253*U*00401*000000001*0*T*>~\n";

    fn walk(input: &str) -> Record {
        walk_bytes(input.as_bytes())
    }

    /// Walks a whole input (nothing more to come).
    pub(crate) fn walk_bytes(input: &[u8]) -> Record {
        let mut r = Record::default();
        let p = Walker::new().run(input, TokState::default(), true, &mut r);
        assert!(!p.need_more);
        r
    }

    /// Counts and control numbers read as `str::parse` reads the checked digits.
    #[test]
    fn counts_match_parse() {
        for ok in ["0", "0001", " 42 ", "000000042", "999999999999999999"] {
            assert_eq!(parse_count(ok), ok.trim().parse::<u64>().ok(), "{ok}");
        }
        for bad in [
            "",
            "-1",
            "+1",
            "1.0",
            "1234567890123456789",
            "12a",
            "\u{664}",
        ] {
            assert_eq!(parse_count(bad), None, "{bad}");
        }
        assert!(same_control("0001", "1") && !same_control("0001", "2"));
    }

    #[test]
    fn clean_interchange_has_no_issues() {
        let r = walk(&format!(
            "{ISA}GS*IN*S*R*20200301*1253*7*X*004010~\nST*810*0001~\nBIG*20200301*INV1~\nSE*3*0001~\nST*810*0002~\nBIG*20200301*INV2~\nSE*3*0002~\nGE*2*7~\nIEA*1*000000001~\n"
        ));
        assert_eq!(r.sets.len(), 2);
        assert!(r.sets.iter().all(|s| s.2.is_empty()), "{:?}", r.sets);
        assert!(r.groups[0].1.is_empty());
        assert!(
            r.interchanges[0].issues.is_empty(),
            "{:?}",
            r.interchanges[0].issues
        );
        assert!(r.strays.is_empty());
    }

    #[test]
    fn bad_set_count_rejects_only_that_set_with_location() {
        let r = walk(&format!(
            "{ISA}GS*IN*S*R*20200301*1253*7*X*004010~\nST*810*0001~\nBIG*20200301*INV1~\nSE*9*0001~\nST*810*0002~\nBIG*20200301*INV2~\nSE*3*0002~\nGE*2*7~\nIEA*1*000000001~\n"
        ));
        assert_eq!(r.sets[0].2.len(), 1);
        assert_eq!(r.sets[0].2[0].set_code, "4");
        assert!(r.sets[1].2.is_empty());
        assert_eq!(
            r.sets[0].3,
            "line 5, interchange 000000001, group 7, set 0001 (810), segment SE (#3), element SE01"
        );
    }

    #[test]
    fn control_number_mismatches_at_every_level() {
        let r = walk(&format!(
            "{ISA}GS*IN*S*R*20200301*1253*7*X*004010~\nST*810*0001~\nSE*2*0002~\nGE*3*8~\nIEA*2*000000009~\n"
        ));
        assert_eq!(r.sets[0].2[0].set_code, "3");
        let codes: Vec<_> = r.groups[0].1.iter().map(|i| i.code).collect();
        assert_eq!(codes, vec!["4", "5"]);
        let codes: Vec<_> = r.interchanges[0].issues.iter().map(|i| i.code).collect();
        assert_eq!(codes, vec!["001", "021"]);
    }

    #[test]
    fn missing_trailers_are_reported_not_fatal() {
        let r = walk(&format!(
            "{ISA}GS*IN*S*R*20200301*1253*7*X*004010~\nST*810*0001~\nBIG*1~\nST*810*0002~\nSE*2*0002~\n"
        ));
        assert_eq!(r.sets.len(), 2);
        assert_eq!(r.sets[0].2[0].set_code, "2");
        assert!(r.sets[1].2.is_empty());
        assert_eq!(r.groups[0].1[0].code, "3");
        assert_eq!(r.interchanges[0].issues[0].code, "023");
    }

    #[test]
    fn isa_width_problems_are_noted() {
        let isa = ISA.replace("RECEIVER       ", "RECEIVER     ");
        let r = walk(&format!("{isa}IEA*0*000000001~"));
        let codes: Vec<_> = r.interchanges[0].issues.iter().map(|i| i.code).collect();
        assert_eq!(codes, vec!["008"]);
    }

    #[test]
    fn duplicate_set_control_in_group() {
        let r = walk(&format!(
            "{ISA}GS*IN*S*R*20200301*1253*7*X*004010~ST*810*0001~SE*2*0001~ST*810*0001~SE*2*0001~GE*2*7~IEA*1*000000001~"
        ));
        assert!(r.sets[0].2.is_empty());
        assert_eq!(r.sets[1].2[0].set_code, "23");
    }

    #[test]
    fn ta1_between_isa_and_gs_is_accepted() {
        let r = walk(&format!(
            "{ISA}TA1*000000007*200301*1253*A*000~GS*IN*S*R*1*1*7*X*004010~ST*810*0001~SE*2*0001~GE*1*7~IEA*1*000000001~"
        ));
        assert!(r.strays.is_empty(), "{:?}", r.strays);
        assert_eq!(r.sets.len(), 1);
        assert!(r.interchanges[0].issues.is_empty());
    }

    #[test]
    fn stray_segments_are_located() {
        let r = walk(&format!(
            "{ISA}FOO*1~GS*IN*S*R*1*1*7*X*004010~GE*0*7~IEA*1*000000001~"
        ));
        assert_eq!(r.strays.len(), 1);
        assert!(r.strays[0].contains("FOO"), "{:?}", r.strays);
    }

    /// Data without an interchange header, streamed in many pieces: one report for the run,
    /// where it started and how many bytes it held, not one per piece.
    #[test]
    fn skipped_data_before_an_isa_is_reported_once_per_run() {
        let junk = "B".repeat(10_000);
        let input = format!("{junk}{ISA}GS*IN*S*R*1*1*7*X*004010~GE*0*7~IEA*1*000000001~");
        let bytes = input.as_bytes();
        let mut r = Record::default();
        let mut w = Walker::new();
        let mut state = TokState::default();
        let mut buf: Vec<u8> = Vec::new();
        let mut fed = 0;
        loop {
            let end = (fed + 100).min(bytes.len());
            buf.extend_from_slice(&bytes[fed..end]);
            fed = end;
            let eof = fed == bytes.len();
            let p = w.run(&buf, state, eof, &mut r);
            buf.drain(..p.state.pos.min(buf.len()));
            state = TokState { pos: 0, ..p.state };
            if eof && !p.need_more {
                break;
            }
        }
        assert_eq!(
            r.strays,
            vec![
                "line 1, segment #1: expected an interchange header ISA; data before it was skipped (10000 bytes from here on)"
            ]
        );
        assert_eq!(r.interchanges.len(), 1);
        // Two runs apart (a broken ISA between them) are two reports.
        let broken = ISA.replace("*>~", "*~~");
        let r = walk(&format!("xx{broken}yyy"));
        assert_eq!(r.strays.len(), 3, "{:?}", r.strays);
        assert!(
            r.strays[0].contains("(2 bytes from here on)"),
            "{:?}",
            r.strays
        );
        assert!(
            r.strays[2].contains("bytes from here on)"),
            "{:?}",
            r.strays
        );
    }

    /// An input with no interchange at all (empty, or nothing but line breaks and spaces) is
    /// said so, not taken for an input with nothing wrong.
    #[test]
    fn an_input_without_any_interchange_is_reported() {
        for input in ["", " \r\n\n", "\u{feff}"] {
            let r = walk(input);
            assert_eq!(r.strays.len(), 1, "{input:?}: {:?}", r.strays);
            assert!(
                r.strays[0].contains("the input holds no interchange"),
                "{:?}",
                r.strays
            );
        }
        let r = walk(&format!("{ISA}IEA*0*000000001~"));
        assert!(r.strays.is_empty(), "{:?}", r.strays);
    }

    /// A repeated interchange control number rejects the second interchange: each of its sets
    /// is rejected with the reason, and the first copy is untouched.
    #[test]
    fn a_repeated_interchange_rejects_its_sets() {
        let one = format!(
            "{ISA}GS*IN*S*R*20200301*1253*7*X*004010~ST*810*0001~BIG*20200301*INV1~SE*3*0001~GE*1*7~IEA*1*000000001~"
        );
        let r = walk(&format!("{one}{one}"));
        assert_eq!(r.sets.len(), 2);
        assert!(r.sets[0].2.is_empty(), "{:?}", r.sets[0]);
        assert_eq!(r.sets[1].2.len(), 1, "{:?}", r.sets[1]);
        assert_eq!(r.sets[1].2[0].severity, Severity::Error);
        assert!(
            r.sets[1].2[0]
                .message
                .starts_with("not read: interchange 000000001 is rejected (TA1 note 025)"),
            "{:?}",
            r.sets[1].2
        );
        let rejection = r.interchanges[1].rejection().map(|i| i.code);
        assert_eq!(rejection, Some("025"));
        assert_eq!(r.interchanges[0].rejection(), None);
    }

    #[test]
    fn streaming_in_small_pieces_gives_the_same_sets() {
        let input = format!(
            "{ISA}GS*IN*S*R*20200301*1253*7*X*004010~\nST*810*0001~\nBIG*20200301*INV1~\nSE*3*0001~\nST*810*0002~\nBIG*20200301*INV2~\nSE*3*0002~\nGE*2*7~\nIEA*1*000000001~\n"
        );
        let whole = walk(&input);
        let bytes = input.as_bytes();
        for chunk in [1usize, 7, 50] {
            let mut r = Record::default();
            let mut w = Walker::new();
            let mut buf: Vec<u8> = Vec::new();
            let mut state = TokState::default();
            let mut fed = 0;
            loop {
                let eof = fed >= bytes.len();
                if !eof {
                    let end = (fed + chunk).min(bytes.len());
                    buf.extend_from_slice(&bytes[fed..end]);
                    fed = end;
                }
                let eof = fed >= bytes.len();
                let p = w.run(&buf, state, eof, &mut r);
                state = p.state;
                if eof && !p.need_more {
                    break;
                }
            }
            let got: Vec<_> = r.sets.iter().map(|s| (s.0.clone(), s.1)).collect();
            let want: Vec<_> = whole.sets.iter().map(|s| (s.0.clone(), s.1)).collect();
            assert_eq!(got, want, "chunk {chunk}");
            assert!(r.interchanges[0].issues.is_empty());
        }
    }

    /// Control numbers are compared exactly as written, whether packed or kept as text, and
    /// past the limit one not tracked is told apart from a repeat.
    #[test]
    fn control_numbers_are_tracked_exactly_as_written() {
        assert_ne!(pack("0001"), pack("00001"));
        assert_ne!(pack("0001"), pack("1"));
        assert!(pack("A12345678").is_some());
        assert_eq!(pack("1234567890"), None);
        assert_eq!(pack("\u{e9}123"), None);
        let mut c = Controls::<()>::default();
        assert_eq!(c.note((), "0001", 3), Seen::First);
        assert_eq!(c.note((), "00001", 3), Seen::First);
        assert_eq!(c.note((), "\u{e9}123", 3), Seen::First);
        assert_eq!(c.note((), "0001", 3), Seen::Again);
        assert_eq!(c.note((), "\u{e9}123", 3), Seen::Again);
        assert_eq!(c.note((), "0002", 3), Seen::Untracked);
        assert_eq!(c.note((), "\u{e9}124", 3), Seen::Untracked);
        assert_eq!(c.note((), "00001", 3), Seen::Again);
        let mut by_sender = Controls::<u32>::default();
        assert_eq!(by_sender.note(0, "000000001", 9), Seen::First);
        assert_eq!(by_sender.note(1, "000000001", 9), Seen::First);
        assert_eq!(by_sender.note(1, "000000001", 9), Seen::Again);
    }
}
