//! [`X12Codec`]: the `Decode`/`Encode` pair the server registers. Decoding streams: memory is
//! bounded by one transaction set (plus read-ahead), not by the file.

use gateway_model::charset::Charset;
use std::fmt::Write as _;
use std::io::BufRead;
use std::sync::Arc;

use gateway_core::{
    Decode, DecodeItem, Decoded, DecodedDocument, Encode, EncodeError, Format, PartnerProfile,
    Reject, SourceMeta,
};
use gateway_model::{Document, Invoice, PurchaseOrder, Text};

use crate::control::{ControlNumbers, InMemoryControlNumbers};
use crate::envelope::{
    EnvelopeIssue, Expected, Group, Interchange, SetContext, SetHeader, SetIssue, SetPlace,
    Severity, Visitor, Walker,
};
use crate::parallel::{ParallelSink, Parallelism};
use crate::tokenizer::{Segment, Step, TokState, Tokenizer};

/// Largest transaction set the streaming decoder buffers.
pub const MAX_SET_BYTES: usize = 64 * 1024 * 1024;
/// Smallest read from the stream.
const READ_CHUNK: usize = 256 * 1024;

/// What became of one transaction set: a document, or why not; warnings either way.
#[derive(Debug, Clone, PartialEq)]
pub struct SetOutcome {
    pub document: Option<Document>,
    pub issues: Vec<SetIssue>,
}

/// Maps a set whose envelope is sound; sets with envelope errors are not mapped. `version` is
/// the group's GS08, whose dictionary the element lengths are checked against.
pub fn map_set(
    header: &SetHeader,
    version: &str,
    segments: &[Segment<'_>],
    mut issues: Vec<SetIssue>,
) -> SetOutcome {
    let mut document = mapped_kind(header, &mut issues).map(Mapped::empty);
    if let Some(d) = &mut document
        && !map_into(d, version, segments, &mut issues, None)
    {
        document = None;
    }
    SetOutcome { document, issues }
}

/// The kinds of set this gateway maps.
#[derive(Debug, Clone, Copy)]
enum Mapped {
    Invoice,
    Order,
}

impl Mapped {
    /// The empty document a set of this kind is mapped into, in place (see [`map_into`]).
    fn empty(self) -> Document {
        match self {
            Mapped::Invoice => Document::Invoice(Invoice::default()),
            Mapped::Order => Document::PurchaseOrder(PurchaseOrder::default()),
        }
    }
}

/// What the set is mapped into, or `None` when it is not mapped: a set with an envelope
/// error, or one of a kind this gateway does not map (an error added to `issues`, except for
/// a 997/999, which `received` reads instead).
///
/// A kind, not a document: a document is over a kilobyte, and one built here and returned
/// would be copied once more into its [`DecodedDocument`].
fn mapped_kind(header: &SetHeader, issues: &mut Vec<SetIssue>) -> Option<Mapped> {
    let acknowledgment = crate::received::is_acknowledgment(&header.id);
    if !acknowledgment && !matches!(header.id.as_str(), "810" | "850") {
        issues.insert(
            0,
            SetIssue::set(
                Severity::Error,
                "1",
                header.line,
                format!(
                    "transaction set {} not mapped: this gateway maps 810 invoices and 850 purchase orders",
                    header.id
                ),
            ),
        );
    }
    if issues.iter().any(|i| i.severity == Severity::Error) {
        return None;
    }
    match header.id.as_str() {
        "810" => Some(Mapped::Invoice),
        "850" => Some(Mapped::Order),
        _ => None,
    }
}

/// Maps `segments` into `document` (from [`Mapped::empty`]), filling it in place, and adds
/// the problems to `issues`. False when one of them is an error: the document is then partly
/// filled, and to be dropped. `lines_at` gets each line's position in the set, when given.
fn map_into(
    document: &mut Document,
    version: &str,
    segments: &[Segment<'_>],
    issues: &mut Vec<SetIssue>,
    lines_at: Option<&mut Vec<u32>>,
) -> bool {
    use crate::set_loop::read_set_into;
    let limits = crate::lengths::Limits::dictionary_for(version);
    let more = match document {
        Document::Invoice(inv) => {
            read_set_into::<crate::map810::Invoice810>(segments, limits, inv, lines_at)
        }
        Document::PurchaseOrder(po) => {
            read_set_into::<crate::map850::Order850>(segments, limits, po, lines_at)
        }
    };
    let mapped = !more.iter().any(|i| i.severity == Severity::Error);
    issues.extend(more);
    mapped
}

/// Transport facts of a set, for the envelope.
pub fn source_meta(cx: &SetContext<'_>, warnings: &[SetIssue]) -> SourceMeta {
    set_meta(&GroupMeta::of(cx), cx.header, warnings)
}

/// The facts a set takes from its interchange and group, and its transaction set id: the
/// same for every set of a group of one kind, so the decoder builds them once per group
/// ([`GroupMeta`]).
fn envelope_meta(cx: &SetContext<'_>) -> SourceMeta {
    let mut meta = SourceMeta::default();
    if let Some(isa) = cx.interchange {
        meta.sender = Some(isa.sender().into());
        meta.receiver = Some(isa.receiver().into());
        meta.extra
            .insert("usage_indicator".into(), isa.field(15).trim().into());
        meta.extra
            .insert("interchange_version".into(), isa.field(12).trim().into());
        let notes: Vec<&str> = isa.issues.iter().map(|i| i.message.as_str()).collect();
        if !notes.is_empty() {
            meta.extra
                .insert("interchange_warnings".into(), notes.join("; ").into());
        }
        // What the TA1 notes while accepting the interchange (a header field of the wrong
        // width, a repeated group control number) is a warning on each of its documents, with
        // where it is and the TA1 code, as `validate` prints and counts it.
        for i in isa
            .issues
            .iter()
            .filter(|i| i.severity == Severity::Warning)
        {
            meta.note(&interchange_problem(isa, i));
        }
    }
    if let Some(g) = cx.group {
        meta.extra.insert("version".into(), g.version().into());
        meta.extra
            .insert("gs_sender".into(), g.field(2).trim().into());
        meta.extra
            .insert("gs_receiver".into(), g.field(3).trim().into());
    }
    meta.extra
        .insert("transaction_set".into(), cx.header.id.as_str().into());
    meta
}

/// The envelope facts of `group` completed with the set's own (`header`).
fn set_meta(group: &GroupMeta, header: &SetHeader, warnings: &[SetIssue]) -> SourceMeta {
    let place = group.place(header);
    let mut meta = group.envelope.clone();
    let mut location = String::with_capacity(64);
    let _ = write!(location, "line {}, ", header.line);
    place.describe_into(&mut location);
    meta.location = Some(location.into());
    // The group's facts name the id of the set they were built for; `GroupMeta::fits` keeps
    // that the id of every set they are used for.
    if group.set_id != header.id {
        meta.extra
            .insert("transaction_set".into(), header.id.as_str().into());
    }
    let mut key = group.key_prefix.clone();
    push_key_part(&mut key, header.control.trim());
    meta.source_key = Some(key);
    for i in warnings {
        meta.note(&format!("{}: {}", place.locate(i), i.message));
    }
    meta
}

/// The character set `partner` writes (`x12.charset`; UTF-8, else Windows-1252, by default).
pub fn partner_charset(partner: &PartnerProfile) -> Charset {
    partner
        .x12
        .as_ref()
        .and_then(|x| x.charset)
        .unwrap_or_default()
}

/// Segments named one by one in [`charset_note`]; the rest are counted.
const MAX_CHARSET_SEGMENTS: usize = 5;

/// Says which segments of a set held bytes that are not UTF-8, read as Windows-1252 (the
/// readers' [`gateway_model::charset::utf8_or_windows_1252`]): the operator sees that the
/// partner's system writes Windows-1252, and where to look should a character be wrong. A
/// note, not a warning: X12 leaves the character set to the partners, so the 997 says
/// nothing of it. `None` for a set that is all UTF-8, which the tokenizer has validated
/// already (one test per segment).
fn charset_note(segments: &[Segment<'_>]) -> Option<String> {
    // A partner whose profile says it writes Windows-1252 is read so throughout: nothing to
    // note.
    if segments
        .first()
        .is_some_and(|s| s.charset == Charset::Windows1252)
    {
        return None;
    }
    let mut named = gateway_core::FirstFew::new(MAX_CHARSET_SEGMENTS);
    for (k, seg) in segments.iter().enumerate() {
        if seg.text.is_some() || std::str::from_utf8(seg.raw).is_ok() {
            continue;
        }
        named.push(format_args!(
            "{} at line {} (segment {} of the set)",
            seg.id_str(),
            seg.line,
            k + 1
        ));
    }
    let named = named.list()?;
    Some(format!(
        "bytes that are not UTF-8 were {} in {named}; if the partner's system writes Windows-1252, say so in its profile (x12.charset = \"windows-1252\") and this note goes; if it writes another set, check those values",
        gateway_core::READ_AS_WINDOWS_1252
    ))
}

/// A control number written into a set's source key (`ISA13/GS06/ST02`, the ledger's key of
/// the document with its sender): as it is, unless it holds `/`, `#` or `%`, which are written
/// `%2F`, `%23`, `%25`, so that no control numbers split differently (GS06 `1/2` with ST02
/// `3456`, GS06 `1` with ST02 `2/3456`) make one key, and a group's place
/// ([`Group::repeat_ordinal`], after `#`) reads as nothing else.
fn push_key_part(key: &mut Text, part: &str) {
    if !part.bytes().any(|b| matches!(b, b'/' | b'#' | b'%')) {
        key.push_str(part);
        return;
    }
    let mut escaped = String::with_capacity(part.len() + 8);
    for c in part.chars() {
        match c {
            '/' => escaped.push_str("%2F"),
            '#' => escaped.push_str("%23"),
            '%' => escaped.push_str("%25"),
            c => escaped.push(c),
        }
    }
    key.push_str(&escaped);
}

/// The control numbers a set's source key names (`ISA13/GS06/ST02`, each as sent, trimmed):
/// the key's parts unescaped ([`push_key_part`]), without the place a group repeating a GS06
/// adds (`#<place>`). For whoever answers about the set later (the 824 naming the 810 it
/// refuses by its GS06 and ST02), which must not take the key's own marks for control
/// numbers. `None` for a key of another form.
pub fn key_controls(key: &str) -> Option<[String; 3]> {
    let mut parts = key.split('/');
    let (isa13, gs06, st02) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let gs06 = gs06.split_once('#').map_or(gs06, |(gs06, _)| gs06);
    Some([
        unescape_key_part(isa13),
        unescape_key_part(gs06),
        unescape_key_part(st02),
    ])
}

/// A key part as [`push_key_part`] had it.
fn unescape_key_part(part: &str) -> String {
    let mut out = String::with_capacity(part.len());
    let mut rest = part;
    while let Some(at) = rest.find('%') {
        out.push_str(&rest[..at]);
        let (c, skip) = match rest.get(at..at + 3) {
            Some("%2F") => ('/', 3),
            Some("%23") => ('#', 3),
            Some("%25") => ('%', 3),
            _ => ('%', 1),
        };
        out.push(c);
        rest = &rest[at + skip..];
    }
    out.push_str(rest);
    out
}

/// What every set of one group shares: the interchange and group control numbers and the
/// [`envelope_meta`] built once from their headers and the set id. It stands for the live
/// context only while those control numbers, the group's place when its GS06 repeats, the
/// interchange's issue count and the set id (ST01) are the same ([`GroupMeta::fits`]); the
/// decoders build a new one otherwise, and drop it at every group or interchange end.
#[derive(Debug)]
pub(crate) struct GroupMeta {
    interchange: Option<Text>,
    group: Option<Text>,
    /// ISA13 and GS06 as written, for [`GroupMeta::fits`].
    controls_as_sent: (Option<Text>, Option<Text>),
    /// [`Group::repeat_ordinal`], which the key names.
    repeat: Option<u32>,
    interchange_issues: usize,
    /// The ST01 the envelope's `transaction_set` holds.
    set_id: Text,
    /// `ISA13/GS06/` (`ISA13/GS06#<place>/` for a group repeating a GS06, each part
    /// written by [`push_key_part`]): the source key of a set without its ST02.
    key_prefix: Text,
    pub(crate) envelope: SourceMeta,
}

impl GroupMeta {
    pub(crate) fn of(cx: &SetContext<'_>) -> Self {
        let interchange = cx.interchange.map(Interchange::control);
        let group = cx.group.map(Group::control);
        let repeat = cx.group.and_then(Group::repeat_ordinal);
        let mut key_prefix = Text::default();
        push_key_part(&mut key_prefix, interchange.unwrap_or(""));
        key_prefix.push_str("/");
        push_key_part(&mut key_prefix, group.unwrap_or(""));
        if let Some(place) = repeat {
            key_prefix.push_str("#");
            key_prefix.push_str(&place.to_string());
        }
        key_prefix.push_str("/");
        GroupMeta {
            interchange: interchange.map(Text::from),
            group: group.map(Text::from),
            controls_as_sent: (
                cx.interchange.map(|i| i.field(13).into()),
                cx.group.map(|g| g.field(6).into()),
            ),
            repeat,
            interchange_issues: cx.interchange.map_or(0, |i| i.issues.len()),
            set_id: cx.header.id.clone(),
            key_prefix,
            envelope: envelope_meta(cx),
        }
    }

    /// The control numbers are compared as written, untrimmed, so that sets do not trim
    /// them again each: the same text is the same control number, and one that differs only
    /// in padding (never within one group) builds facts that are the same anyway.
    pub(crate) fn fits(&self, cx: &SetContext<'_>) -> bool {
        let (isa13, gs06) = &self.controls_as_sent;
        isa13.as_deref() == cx.interchange.map(|i| i.field(13))
            && gs06.as_deref() == cx.group.map(|g| g.field(6))
            && self.repeat == cx.group.and_then(Group::repeat_ordinal)
            && self.interchange_issues == cx.interchange.map_or(0, |i| i.issues.len())
            && self.set_id == cx.header.id
    }

    /// The place of the set with `header` in this group, as the walker gave it.
    pub(crate) fn place<'x>(&'x self, header: &'x SetHeader) -> SetPlace<'x> {
        SetPlace {
            interchange: self.interchange.as_deref(),
            group: self.group.as_deref(),
            header,
        }
    }
}

/// Hands on what one set becomes: its document with the transport facts (`group`'s envelope
/// completed with the set's own), or the reject that says where and why. The one mapping step
/// both the sequential and the parallel decoder run; the document goes straight to `out`
/// (it is large, so it is not moved through a `Result` first).
pub(crate) fn emit_set(
    group: &GroupMeta,
    header: &SetHeader,
    segments: &[Segment<'_>],
    mut issues: Vec<SetIssue>,
    out: &mut dyn Emit,
) {
    let place = &group.place(header);
    let version = group
        .envelope
        .extra
        .get("version")
        .map_or("", |v| v.as_str());
    if let Some(kind) = mapped_kind(place.header, &mut issues) {
        // Built here and mapped in place, so that the document is moved only once: into `out`.
        let mut decoded = DecodedDocument {
            document: kind.empty(),
            meta: SourceMeta::default(),
        };
        let mut lines_at = Vec::new();
        if map_into(
            &mut decoded.document,
            version,
            segments,
            &mut issues,
            Some(&mut lines_at),
        ) {
            decoded.meta = set_meta(group, header, &issues);
            decoded.meta.places = gateway_core::codec::SourcePlaces {
                format: Some(Format::X12),
                lines: lines_at,
                ..Default::default()
            };
            if let Some(note) = charset_note(segments) {
                decoded.meta.note(&note);
            }
            out.document(decoded);
            return;
        }
    }
    // A sound 997/999 is no document and no error: `received` reads it for the server.
    let acknowledgment = crate::received::is_acknowledgment(&place.header.id);
    if acknowledgment && !issues.iter().any(|i| i.severity == Severity::Error) {
        return;
    }
    let first = issues
        .iter()
        .find(|i| i.severity == Severity::Error)
        .or(issues.first());
    let location = match first {
        Some(i) => place.locate(i),
        None => format!("line {}, {}", place.header.line, place.describe()),
    };
    let message: Vec<&str> = issues
        .iter()
        .filter(|i| i.severity == Severity::Error)
        .map(|i| i.message.as_str())
        .collect();
    // A partner's acknowledgment that is itself broken is not acted on (`received` holds its
    // verdicts back by the same rule): its refusal says so.
    let what = if acknowledgment {
        "acknowledgment rejected, its verdicts not applied"
    } else {
        "transaction set rejected"
    };
    out.reject(Reject {
        location,
        message: format!("{what}: {}", message.join("; ")),
        document: Some(format!(
            "{} {}",
            place.header.id,
            place.header.control.trim()
        )),
    });
}

/// Which envelope ended, for [`Emit::envelope_end`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Level {
    Group,
    Interchange,
}

/// Where decoded items go: into a [`Decoded`] ([`Collect`]), or one by one to a stream sink
/// ([`StreamEmit`]).
pub(crate) trait Emit {
    fn document(&mut self, d: DecodedDocument);
    fn reject(&mut self, r: Reject);

    /// A document boxed already (by a decoding thread): a streaming sink takes the box as it is.
    fn boxed_document(&mut self, d: Box<DecodedDocument>) {
        self.document(*d);
    }

    /// A group or interchange ended. `notes` are what its trailer got wrong that refuses
    /// nothing (a GE01 or IEA01 that miscounts, a control number that differs from its
    /// header's, a missing trailer: AK9 `E`, TA1 `E`), each located. The envelope was
    /// accepted with errors, so they are no rejects: they go on what it yielded (see
    /// [`Collect`] and [`StreamEmit`]).
    fn envelope_end(&mut self, level: Level, notes: Vec<String>);
}

/// Items emitted since a group or interchange began: where an envelope's trailer notes go.
#[derive(Debug, Default, Clone, Copy)]
struct Since {
    documents: usize,
    rejects: usize,
}

/// Collects a whole input's items into a [`Decoded`]. A trailer's notes go on every document
/// of its group or interchange, as the interchange header's go on each ([`envelope_meta`]);
/// when it yielded none, they are further reasons on its last refused set (the sender is
/// told both in one acknowledgment). An envelope that yielded neither (empty, or holding only
/// a partner's acknowledgments) has them in its TA1/AK9 alone: nothing of it was taken or
/// refused.
pub(crate) struct Collect<'d> {
    out: &'d mut Decoded,
    group: Since,
    interchange: Since,
}

impl<'d> Collect<'d> {
    pub(crate) fn new(out: &'d mut Decoded) -> Self {
        Collect {
            out,
            group: Since::default(),
            interchange: Since::default(),
        }
    }

    fn now(&self) -> Since {
        Since {
            documents: self.out.documents.len(),
            rejects: self.out.rejects.len(),
        }
    }
}

impl Emit for Collect<'_> {
    fn document(&mut self, d: DecodedDocument) {
        self.out.documents.push(d);
    }
    fn reject(&mut self, r: Reject) {
        self.out.rejects.push(r);
    }
    fn envelope_end(&mut self, level: Level, notes: Vec<String>) {
        let since = match level {
            Level::Group => self.group,
            Level::Interchange => self.interchange,
        };
        if !notes.is_empty() {
            let documents = self
                .out
                .documents
                .get_mut(since.documents..)
                .unwrap_or_default();
            if documents.is_empty() {
                if let Some(r) = self
                    .out
                    .rejects
                    .get_mut(since.rejects..)
                    .and_then(<[Reject]>::last_mut)
                {
                    add_reasons(r, &notes);
                }
            } else {
                for d in documents {
                    for n in &notes {
                        d.meta.note(n);
                    }
                }
            }
        }
        let now = self.now();
        self.group = now;
        if level == Level::Interchange {
            self.interchange = now;
        }
    }
}

/// `notes` as further reasons of the refusal `r`.
fn add_reasons(r: &mut Reject, notes: &[String]) {
    for n in notes {
        r.message.push_str("; ");
        r.message.push_str(n);
    }
}

/// Hands items to a stream sink one by one, holding back the latest until the next one comes
/// (or [`StreamEmit::finish`]): so a trailer's notes, which come after the sets they concern,
/// still reach the last item of their group or interchange (a document's note, or a further
/// reason of a refused set's reject). The items handed on before it go without them: memory
/// stays bounded by one set. Where the envelope yielded no item, as for [`Collect`].
struct StreamEmit<'f> {
    sink: &'f mut dyn FnMut(DecodeItem),
    held: Option<DecodeItem>,
    /// Items emitted since the open group and interchange began.
    in_group: usize,
    in_interchange: usize,
}

impl<'f> StreamEmit<'f> {
    fn new(sink: &'f mut dyn FnMut(DecodeItem)) -> Self {
        StreamEmit {
            sink,
            held: None,
            in_group: 0,
            in_interchange: 0,
        }
    }

    fn hold(&mut self, item: DecodeItem) {
        if let Some(before) = self.held.replace(item) {
            (self.sink)(before);
        }
        self.in_group += 1;
        self.in_interchange += 1;
    }

    /// Hands on the item held back. Call when the input ends.
    fn finish(&mut self) {
        if let Some(item) = self.held.take() {
            (self.sink)(item);
        }
    }
}

impl Emit for StreamEmit<'_> {
    fn document(&mut self, d: DecodedDocument) {
        self.hold(DecodeItem::Document(Box::new(d)));
    }
    fn boxed_document(&mut self, d: Box<DecodedDocument>) {
        self.hold(DecodeItem::Document(d));
    }
    fn reject(&mut self, r: Reject) {
        self.hold(DecodeItem::Reject(r));
    }
    fn envelope_end(&mut self, level: Level, notes: Vec<String>) {
        let yielded = match level {
            Level::Group => self.in_group,
            Level::Interchange => self.in_interchange,
        };
        // Something was emitted since the envelope began, so the item held is its last.
        if yielded > 0 {
            match self.held.as_mut() {
                Some(DecodeItem::Document(d)) => {
                    for n in &notes {
                        d.meta.note(n);
                    }
                }
                Some(DecodeItem::Reject(r)) => add_reasons(r, &notes),
                None => {}
            }
        }
        self.in_group = 0;
        if level == Level::Interchange {
            self.in_interchange = 0;
        }
    }
}

/// Sets the walker handed on since the open group and interchange began: an envelope that
/// is rejected whole is reported once, by each of its sets, and by a reject of its own only
/// when it held none.
#[derive(Debug, Default)]
pub(crate) struct SetsSeen {
    group: u32,
    interchange: u32,
}

impl SetsSeen {
    pub(crate) fn set(&mut self) {
        self.group = self.group.saturating_add(1);
        self.interchange = self.interchange.saturating_add(1);
    }

    /// The sets of the group that ended; counting starts again.
    pub(crate) fn group_end(&mut self) -> u32 {
        std::mem::take(&mut self.group)
    }

    /// The sets of the interchange that ended; counting starts again.
    pub(crate) fn interchange_end(&mut self) -> u32 {
        self.group = 0;
        std::mem::take(&mut self.interchange)
    }
}

/// Turns walker findings into decode items.
struct DecodeSink<'f> {
    sink: &'f mut dyn Emit,
    group_meta: Option<GroupMeta>,
    seen: SetsSeen,
}

impl<'f> DecodeSink<'f> {
    fn new(sink: &'f mut dyn Emit) -> Self {
        DecodeSink {
            sink,
            group_meta: None,
            seen: SetsSeen::default(),
        }
    }
}

impl<'a> Visitor<'a> for DecodeSink<'_> {
    fn set(&mut self, cx: &SetContext<'_>, segments: &[Segment<'a>], issues: Vec<SetIssue>) {
        self.seen.set();
        // Used where it is kept: the facts are a few hundred bytes, not moved out and back.
        let group = match &mut self.group_meta {
            Some(g) if g.fits(cx) => g,
            slot => slot.insert(GroupMeta::of(cx)),
        };
        emit_set(group, cx.header, segments, issues, self.sink);
    }

    fn group_end(&mut self, isa: Option<&Interchange>, group: &Group, issues: Vec<EnvelopeIssue>) {
        self.group_meta = None;
        let sets = self.seen.group_end();
        group_end_items(self.sink, isa, group, issues, sets);
    }

    fn interchange_end(&mut self, isa: &Interchange) {
        self.group_meta = None;
        let sets = self.seen.interchange_end();
        interchange_end_items(self.sink, isa, sets);
    }

    fn stray(
        &mut self,
        location: String,
        message: String,
        _: Option<&'static str>,
        _: Option<usize>,
    ) {
        self.sink.reject(Reject::new(location, message));
    }
}

/// Where a group is, for its problems: `line 12, interchange 000000001, group 7`.
fn group_location(line: u32, isa: Option<&Interchange>, group: &Group) -> String {
    let mut location = format!("line {line}, ");
    if let Some(isa) = isa {
        location.push_str(&format!("interchange {}, ", isa.control()));
    }
    location.push_str(&format!("group {}", group.control()));
    location
}

/// What a group's end gives, after its `sets` sets: a group rejected whole (a GS02 or GS03
/// not the partner's profile's) was reported by each of its sets' rejects, and by one of its
/// own only when it held none; a group accepted (with errors or not) hands its trailer's
/// problems on as notes ([`Emit::envelope_end`]), never as rejects: its sets were taken.
pub(crate) fn group_end_items(
    sink: &mut dyn Emit,
    isa: Option<&Interchange>,
    group: &Group,
    issues: Vec<EnvelopeIssue>,
    sets: u32,
) {
    if let Some(refusal) = group.rejection() {
        if sets == 0 {
            sink.reject(Reject::new(
                group_location(refusal.line, isa, group),
                format!(
                    "group rejected: {} (AK905 code {})",
                    refusal.message, refusal.code
                ),
            ));
        }
        sink.envelope_end(Level::Group, Vec::new());
        return;
    }
    let notes = issues
        .iter()
        .map(|i| {
            format!(
                "{}: {} (AK905 code {})",
                group_location(i.line, isa, group),
                i.message,
                i.code
            )
        })
        .collect();
    sink.envelope_end(Level::Group, notes);
}

/// An interchange problem in words: where, what, and its TA1 note code (TA105).
fn interchange_problem(isa: &Interchange, i: &EnvelopeIssue) -> String {
    format!(
        "line {}, interchange {}: {} (TA1 note {})",
        i.line,
        isa.control(),
        i.message,
        i.code
    )
}

/// What an interchange's end gives, after its `sets` sets: one rejected whole (TA1 `R`: a
/// repeated control number, a receiver that is not this gateway, a terminator that is data)
/// was reported by each of its sets' rejects, and by one of its own only when it held none,
/// so one refused set counts once. One accepted hands its trailer's problems (TA1 `E`: IEA01,
/// IEA02, a missing IEA) on as notes ([`Emit::envelope_end`]); its header's travel on its
/// documents already ([`envelope_meta`]).
pub(crate) fn interchange_end_items(sink: &mut dyn Emit, isa: &Interchange, sets: u32) {
    if let Some(refusal) = isa.rejection() {
        if sets == 0 {
            sink.reject(Reject::new(
                format!("line {}, interchange {}", refusal.line, isa.control()),
                format!("{} (TA1 note {})", refusal.message, refusal.code),
            ));
        }
        sink.envelope_end(Level::Interchange, Vec::new());
        return;
    }
    // An interchange cut short before any set (an ISA and nothing after it, or noise) has
    // nothing to carry its notes: said as a reject, so such an input is never read as nothing.
    if sets == 0
        && let Some(cut) = isa.issues.iter().find(|i| i.code == "023")
    {
        sink.reject(Reject::new(
            format!("line {}, interchange {}", cut.line, isa.control()),
            "input ended without the trailer IEA and before any transaction set: nothing was \
             read (TA1 note 023); send the whole interchange"
                .to_string(),
        ));
    }
    let notes = isa
        .issues
        .iter()
        .filter(|i| matches!(i.code, "001" | "021" | "023"))
        .map(|i| interchange_problem(isa, i))
        .collect();
    sink.envelope_end(Level::Interchange, notes);
}

/// Decodes a complete input, handing items to `sink` in source order.
pub fn decode_slice(raw: &[u8], sink: &mut dyn FnMut(DecodeItem)) {
    let mut emit = StreamEmit::new(sink);
    let mut v = DecodeSink::new(&mut emit);
    Walker::new().run(raw, TokState::default(), true, &mut v);
    emit.finish();
}

/// Decodes a complete input into documents and rejects, on the caller's thread.
pub fn decode_all(raw: &[u8]) -> Decoded {
    decode_all_with(raw, Parallelism::default())
}

/// [`decode_all`] on `par.threads` threads; the result is the same for any number.
pub fn decode_all_with(raw: &[u8], par: Parallelism) -> Decoded {
    decode_all_as(raw, par, Charset::Utf8, Expected::default())
}

/// [`decode_all_with`] reading bytes that are not ASCII in `charset` (the partner's
/// `x12.charset`), refusing what is not addressed as `expected` says.
fn decode_all_as(raw: &[u8], par: Parallelism, charset: Charset, expected: Expected) -> Decoded {
    let mut out = Decoded::default();
    let mut collect = Collect::new(&mut out);
    let start = TokState {
        charset,
        ..TokState::default()
    };
    let mut walker = Walker::expecting(expected);
    if par.threads <= 1 {
        let mut v = DecodeSink::new(&mut collect);
        walker.run(raw, start, true, &mut v);
    } else {
        let mut v = ParallelSink::new(&mut collect, par);
        walker.run(raw, start, true, &mut v);
        v.finish();
    }
    out
}

/// Decodes a stream on the caller's thread, keeping at most one transaction set (and a
/// read-ahead) in memory.
pub fn decode_stream(
    reader: &mut dyn BufRead,
    sink: &mut dyn FnMut(DecodeItem),
) -> std::io::Result<()> {
    decode_stream_limited(reader, MAX_SET_BYTES, sink)
}

/// [`decode_stream`] with a chosen limit on one transaction set's size: a larger set is
/// rejected (located at its ST) and skipped, and decoding goes on after its SE.
pub fn decode_stream_limited(
    reader: &mut dyn BufRead,
    max_set_bytes: usize,
    sink: &mut dyn FnMut(DecodeItem),
) -> std::io::Result<()> {
    decode_stream_with(reader, max_set_bytes, Parallelism::sequential(), sink)
}

/// [`decode_stream_limited`] on `par.threads` threads. `sink` is called on the caller's
/// thread, in source order, with the same items for any number of threads. Items already
/// decoded are handed on before a read error is returned. Memory: the read-ahead, plus a
/// bounded number of batches in flight (see the `parallel` module).
pub fn decode_stream_with(
    reader: &mut dyn BufRead,
    max_set_bytes: usize,
    par: Parallelism,
    sink: &mut dyn FnMut(DecodeItem),
) -> std::io::Result<()> {
    decode_stream_as(
        reader,
        max_set_bytes,
        par,
        Charset::Utf8,
        Expected::default(),
        sink,
    )
}

/// [`decode_stream_with`] reading bytes that are not ASCII in `charset` (the partner's
/// `x12.charset`), refusing what is not addressed as `expected` says.
fn decode_stream_as(
    reader: &mut dyn BufRead,
    max_set_bytes: usize,
    par: Parallelism,
    charset: Charset,
    expected: Expected,
    sink: &mut dyn FnMut(DecodeItem),
) -> std::io::Result<()> {
    let mut emit = StreamEmit::new(sink);
    let walker = Walker::expecting(expected);
    let read = if par.threads <= 1 {
        let mut v = DecodeSink::new(&mut emit);
        stream_sets(reader, max_set_bytes, charset, walker, &mut v)
    } else {
        let mut v = ParallelSink::new(&mut emit, par);
        let read = stream_sets(reader, max_set_bytes, charset, walker, &mut v);
        v.finish();
        read
    };
    emit.finish();
    read
}

/// Reads `reader` in chunks and walks what it holds, handing sets and envelope findings to `v`.
fn stream_sets<V: for<'a> Visitor<'a>>(
    reader: &mut dyn BufRead,
    max_set_bytes: usize,
    charset: Charset,
    mut walker: Walker,
    v: &mut V,
) -> std::io::Result<()> {
    let max_set_bytes = max_set_bytes.max(1024);
    let mut buf: Vec<u8> = Vec::new();
    let mut state = TokState {
        charset,
        ..TokState::default()
    };
    let mut eof = false;
    let chunk = READ_CHUNK.min(max_set_bytes);
    let mut want = chunk;
    loop {
        // Read at least `want` more bytes (doubling while a set is incomplete keeps re-scans
        // linear overall).
        let target = buf.len() + want;
        while !eof && buf.len() < target {
            let chunk = reader.fill_buf()?;
            if chunk.is_empty() {
                eof = true;
                break;
            }
            let n = chunk.len();
            buf.extend_from_slice(chunk);
            reader.consume(n);
        }
        let progress = walker.run(&buf, state, eof, &mut *v);
        state = progress.state;
        let consumed = state.pos > 0;
        if consumed {
            buf.drain(..state.pos.min(buf.len()));
            state.pos = 0;
        }
        if eof {
            return Ok(());
        }
        if progress.need_more {
            if buf.len() > max_set_bytes {
                let mut tok = Tokenizer::with_state(&buf, state, false);
                match tok.step() {
                    Step::Segment(st) if st.id() == b"ST" => {
                        walker.abandon_set(&st, max_set_bytes, &mut *v);
                        state = tok.state();
                    }
                    _ => {
                        v.stray(
                            format!("line {}", state.line),
                            format!("a segment longer than {max_set_bytes} bytes; it was skipped"),
                            None,
                            None,
                        );
                        state.pos = buf.len();
                    }
                }
                buf.drain(..state.pos.min(buf.len()));
                state.pos = 0;
                want = chunk;
            } else if consumed {
                want = chunk;
            } else {
                // The pending set did not fit in what was read: read more before re-scanning.
                want = want.saturating_mul(2).min(max_set_bytes);
            }
        } else {
            want = chunk;
        }
    }
}

/// The X12 codec: decodes 810/850 (streaming), encodes invoices and orders as 810/850.
#[derive(Debug, Clone)]
pub struct X12Codec {
    numbers: Arc<dyn ControlNumbers>,
    parallelism: Parallelism,
}

impl Default for X12Codec {
    fn default() -> Self {
        X12Codec {
            numbers: Arc::new(InMemoryControlNumbers::new()),
            parallelism: Parallelism::sequential(),
        }
    }
}

impl X12Codec {
    /// A codec with in-memory control numbers.
    pub fn new() -> Self {
        Self::default()
    }

    /// A codec drawing outbound control numbers from `numbers` (file- or ledger-backed).
    pub fn with_control_numbers(numbers: Arc<dyn ControlNumbers>) -> Self {
        X12Codec {
            numbers,
            parallelism: Parallelism::sequential(),
        }
    }

    /// This codec, mapping the sets of large inputs on `par.threads` threads (the output is
    /// the same; see [`Parallelism::cores`] for when it pays).
    pub fn with_parallelism(mut self, par: Parallelism) -> Self {
        self.parallelism = par;
        self
    }

    pub fn control_numbers(&self) -> &Arc<dyn ControlNumbers> {
        &self.numbers
    }

    /// The 997/999/TA1 for `raw`, numbered from this codec's control numbers (so acks and
    /// outbound documents to a partner never share an ISA13).
    pub fn acknowledge(
        &self,
        raw: &[u8],
        partner: &PartnerProfile,
    ) -> Result<crate::ack::Acknowledgment, EncodeError> {
        crate::ack::acknowledge_with(raw, partner, self.numbers.as_ref(), chrono::Utc::now())
    }
}

impl Decode for X12Codec {
    fn format(&self) -> Format {
        Format::X12
    }

    /// The segment and element CANONICAL.md maps `json_path` to, a line's at the position in
    /// its set the decoder recorded: `$.lines[0].quantity` → `IT102 of the IT1 at segment 14
    /// of the set`; `$.invoice_number` → `BIG02`.
    fn source_path(
        &self,
        document: &Document,
        meta: &SourceMeta,
        json_path: &str,
    ) -> Option<String> {
        crate::source_path::source_path(document, meta, json_path)
    }

    /// Interchanges and groups not addressed to this gateway as `partner`'s profile says
    /// ([`Expected`]) are rejected with their sets, as the acknowledgment rejects them.
    fn decode(&self, raw: &[u8], partner: &PartnerProfile) -> Decoded {
        decode_all_as(
            raw,
            self.parallelism,
            partner_charset(partner),
            Expected::of(partner),
        )
    }

    fn decode_reader(
        &self,
        reader: &mut dyn BufRead,
        partner: &PartnerProfile,
        sink: &mut dyn FnMut(DecodeItem),
    ) -> std::io::Result<()> {
        let charset = partner_charset(partner);
        let expected = Expected::of(partner);
        decode_stream_as(
            reader,
            MAX_SET_BYTES,
            self.parallelism,
            charset,
            expected,
            sink,
        )
    }
}

impl Encode for X12Codec {
    fn format(&self) -> Format {
        Format::X12
    }

    fn encode(&self, docs: &[Document], partner: &PartnerProfile) -> Result<Vec<u8>, EncodeError> {
        crate::encode::encode_documents(docs, partner, self.numbers.as_ref(), chrono::Utc::now())
    }

    fn left_out(&self, doc: &Document, _partner: &PartnerProfile) -> Vec<String> {
        crate::left_out(doc)
            .iter()
            .map(ToString::to_string)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = "ISA*00*          *00*          *ZZ*S              *ZZ*R              *260315*1030*U*00401*000000001*0*P*>~\nGS*IN*S*R*20260315*1030*1*X*004010~\n";

    fn invoice(ctl: &str, lines: usize) -> String {
        let mut segs = vec![format!("ST*810*{ctl}"), format!("BIG*20260315*INV{ctl}")];
        for l in 1..=lines {
            segs.push(format!("IT1*{l}*1*EA*2.5**VP*PART-NUMBER-{l}"));
        }
        let n = segs.len() + 1;
        format!("{}~\nSE*{n}*{ctl}~\n", segs.join("~\n"))
    }

    /// Part-number pairs: the first supplier, buyer and PO line qualifiers are mapped (an
    /// alternative qualifier is remembered), the rest are kept in order; segments inside a line
    /// loop stay with the line they follow; and all of it survives X12 → canonical → X12.
    #[test]
    fn qualifier_pairs_and_line_segments_stay_with_their_line_through_a_round_trip() {
        let body = [
            "ST*810*0001",
            "BIG*20260315*INV1",
            "IT1*1*1*EA*2.5**VN*A*IN*B*PL*3*ZZ*X*VP*SECOND",
            "REF*ZZ*KEPT1",
            "IT1*2*1*EA*2.5**VP*P2",
            "PID*F****Desc 2",
            "PID*F*08***Second desc",
            "TDS*500",
            "SE*9*0001",
        ];
        let raw = format!("{HEAD}{}~\nGE*1*1~\nIEA*1*000000001~\n", body.join("~\n"));
        let decoded = X12Codec::new().decode(raw.as_bytes(), &PartnerProfile::anonymous());
        assert!(decoded.rejects.is_empty(), "{:?}", decoded.rejects);
        let Some(Document::Invoice(inv)) = decoded.documents.first().map(|d| &d.document) else {
            panic!("expected one invoice: {decoded:?}");
        };
        let first = &inv.lines[0];
        assert_eq!(first.supplier_part_id.as_deref(), Some("A"));
        assert_eq!(first.buyer_part_id.as_deref(), Some("B"));
        assert_eq!(first.po_line_number.as_deref(), Some("3"));
        assert_eq!(
            serde_json::to_value(&first.extensions).unwrap(),
            serde_json::json!({"x12": {
                "qualifiers": {"supplier": "VN", "buyer": "IN"},
                "ids": [["ZZ", "X"], ["VP", "SECOND"]],
                "segments": [["REF", "ZZ", "KEPT1"]],
            }})
        );
        let second = &inv.lines[1];
        assert_eq!(second.supplier_part_id.as_deref(), Some("P2"));
        assert_eq!(second.description.as_deref(), Some("Desc 2"));
        assert_eq!(
            serde_json::to_value(&second.extensions).unwrap(),
            serde_json::json!({"x12": {"segments": [["PID", "F", "08", "", "", "Second desc"]]}})
        );
        let partner = PartnerProfile::from_toml(
            "id = \"p\"\n[x12]\npartner_qualifier = \"ZZ\"\npartner_id = \"S\"\n\
             partner_gs_id = \"S\"\nour_qualifier = \"ZZ\"\nour_id = \"R\"\n\
             our_gs_id = \"R\"\nversion = \"004010\"\n",
            "p.toml",
        )
        .unwrap();
        let again = X12Codec::new()
            .encode(&[Document::Invoice(inv.clone())], &partner)
            .unwrap();
        let text = String::from_utf8_lossy(&again);
        assert!(
            text.contains("IT1*1*1*EA*2.5**VN*A*IN*B*PL*3*ZZ*X*VP*SECOND~"),
            "{text}"
        );
        let redecoded = X12Codec::new().decode(&again, &PartnerProfile::anonymous());
        assert_eq!(
            redecoded.documents.first().map(|d| &d.document),
            Some(&Document::Invoice(inv.clone()))
        );
    }

    /// Envelope facts are built once per group and reused: each document must still carry its
    /// own interchange's and group's, also when control numbers repeat across them.
    #[test]
    fn every_document_carries_its_own_interchange_and_group_facts() {
        let isa = |sender: &str| {
            format!(
                "ISA*00*          *00*          *ZZ*{sender:<15}*ZZ*R              *260315*1030*U*00401*000000001*0*P*>~\n"
            )
        };
        let gs = |sender: &str, version: &str| {
            format!("GS*IN*{sender}*R*20260315*1030*1*X*{version}~\n")
        };
        let end = "GE*1*1~\n";
        let raw = format!(
            "{}{}{}{}{}{}{}IEA*2*000000001~\n{}{}{}{}IEA*1*000000001~\n",
            isa("FIRST"),
            gs("GSA", "004010"),
            invoice("0001", 1),
            end,
            gs("GSB", "005010"),
            invoice("0001", 1),
            end,
            isa("SECOND"),
            gs("GSC", "004010"),
            invoice("0001", 1),
            end,
        );
        let decoded = X12Codec::new().decode(raw.as_bytes(), &PartnerProfile::anonymous());
        let facts: Vec<(Option<&str>, Option<&str>, Option<&str>)> = decoded
            .documents
            .iter()
            .map(|d| {
                (
                    d.meta.sender.as_deref(),
                    d.meta.extra.get("gs_sender").map(Text::as_str),
                    d.meta.extra.get("version").map(Text::as_str),
                )
            })
            .collect();
        assert_eq!(
            facts,
            vec![
                (Some("ZZ:FIRST"), Some("GSA"), Some("004010")),
                (Some("ZZ:FIRST"), Some("GSB"), Some("005010")),
                (Some("ZZ:SECOND"), Some("GSC"), Some("004010")),
            ],
            "rejects: {:?}",
            decoded.rejects
        );
        // Each set's own facts are never taken from the cache.
        let locations: Vec<&str> = decoded
            .documents
            .iter()
            .filter_map(|d| d.meta.location.as_deref())
            .collect();
        // Counted by hand: each ST's line in the input above.
        let lines: Vec<&str> = locations
            .iter()
            .filter_map(|l| l.split(',').next())
            .collect();
        assert_eq!(lines, ["line 3", "line 9", "line 17"]);
    }

    /// What the TA1 notes while accepting an interchange (here ISA06 10 characters wide, TA1
    /// 006) is a note on its documents, with where and the TA1 code, which `validate` prints
    /// as a warning.
    #[test]
    fn interchange_header_problems_are_noted_on_its_documents_with_the_ta1_code() {
        let raw = format!(
            "{}{}GE*1*1~\nIEA*1*000000001~\n",
            HEAD.replace("*S              *", "*S         *"),
            invoice("0001", 1)
        );
        let decoded = X12Codec::new().decode(raw.as_bytes(), &PartnerProfile::anonymous());
        assert!(decoded.rejects.is_empty(), "{:?}", decoded.rejects);
        let notes: Vec<&str> = decoded.documents[0].meta.notes().collect();
        assert_eq!(
            notes,
            [
                "line 1, interchange 000000001: ISA06 is 10 characters wide; the standard fixes it at 15 (TA1 note 006)"
            ]
        );
    }

    /// A second copy of an interchange is rejected (TA1 R 025): its documents are not handed
    /// on, on one thread or several, and the rejects say why: once per set refused, never a
    /// second time for the interchange that held it (one refused set counts once).
    #[test]
    fn a_repeated_interchanges_documents_are_not_output() {
        let one = format!("{HEAD}{}GE*1*1~\nIEA*1*000000001~\n", invoice("0001", 1));
        let raw = format!("{one}{one}");
        for par in [
            Parallelism::sequential(),
            Parallelism {
                threads: 2,
                batch: 1,
            },
        ] {
            let decoded = decode_all_with(raw.as_bytes(), par);
            assert_eq!(decoded.documents.len(), 1, "{:?}", decoded.rejects);
            let messages: Vec<&str> = decoded.rejects.iter().map(|r| r.message.as_str()).collect();
            assert_eq!(
                messages,
                [
                    "transaction set rejected: not read: interchange 000000001 is rejected (TA1 note 025): interchange control number 000000001 repeats an earlier interchange in this input",
                ]
            );
        }
    }

    /// An empty or blank input holds no interchange: a reject, not a clean nothing.
    #[test]
    fn an_empty_input_is_rejected() {
        for raw in ["", "\n  \n"] {
            let decoded = X12Codec::new().decode(raw.as_bytes(), &PartnerProfile::anonymous());
            assert!(decoded.documents.is_empty());
            assert_eq!(decoded.rejects.len(), 1, "{raw:?}");
            assert!(
                decoded.rejects[0]
                    .message
                    .starts_with("the input holds no interchange"),
                "{:?}",
                decoded.rejects
            );
            let mut items = Vec::new();
            decode_stream(&mut raw.as_bytes(), &mut |i| items.push(i)).unwrap();
            assert_eq!(items.len(), 1, "{items:?}");
        }
    }

    #[test]
    fn an_oversized_set_is_rejected_and_the_next_one_still_decodes() {
        let raw = format!(
            "{HEAD}{}{}GE*2*1~\nIEA*1*000000001~\n",
            invoice("0001", 400),
            invoice("0002", 2)
        );
        let mut items = Vec::new();
        let mut reader = std::io::BufReader::with_capacity(512, raw.as_bytes());
        decode_stream_limited(&mut reader, 4096, &mut |i| items.push(i)).unwrap();
        let rejects: Vec<&Reject> = items
            .iter()
            .filter_map(|i| match i {
                DecodeItem::Reject(r) => Some(r),
                _ => None,
            })
            .collect();
        let docs: Vec<&DecodedDocument> = items
            .iter()
            .filter_map(|i| match i {
                DecodeItem::Document(d) => Some(d.as_ref()),
                _ => None,
            })
            .collect();
        assert_eq!(docs.len(), 1, "{rejects:?}");
        assert_eq!(docs[0].document.number(), "INV0002");
        assert_eq!(rejects.len(), 1, "{rejects:?}");
        assert!(
            rejects[0].message.contains("larger than 4096 bytes"),
            "{rejects:?}"
        );
        assert!(rejects[0].location.contains("set 0001"), "{rejects:?}");
        // The whole input in memory decodes both.
        let whole = X12Codec::new().decode(raw.as_bytes(), &PartnerProfile::anonymous());
        assert_eq!(whole.documents.len(), 2);
    }
}
