//! The codec traits: pure, synchronous conversion between wire bytes and canonical documents.

use std::io::{BufRead, Read};

use gateway_model::{Document, Text};
use serde::Serialize;

use crate::format::Format;
use crate::profile::PartnerProfile;

/// Transport facts a decoder found in the source, which belong on the envelope, not in the
/// document (sender/receiver ids, control numbers, payloadID).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SourceMeta {
    /// Sender identity as `qualifier:id` / `domain:identity` (ISA06 with ISA05, cXML From).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sender: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receiver: Option<Text>,
    /// Stable key of this document in its source, unique per sender: cXML payloadID, or
    /// `isa13/gs06/st02` for X12, or file row range for CSV. Combined with the sender it is
    /// the document's idempotency key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_key: Option<Text>,
    /// Where in the input this document came from, in words (for operators).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Text>,
    /// Other envelope facts (cXML timestamp, deploymentMode, version; X12 usage indicator).
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub extra: std::collections::BTreeMap<Text, Text>,
    /// Files the sender sent with this document (an invoice's PDF copy beside its cXML in a
    /// mail), delivered with it; the pipeline stores them and the envelope carries
    /// [`crate::AttachmentRef`]s.
    #[serde(skip)]
    pub files: Vec<crate::SupportingFile>,
    /// Where the document's parts stand in its source, as the decoder found them, for
    /// [`Decode::source_path`]. Numbers only, recorded while decoding; the words are made
    /// when a problem is reported. Not part of the envelope.
    #[serde(skip)]
    pub places: SourcePlaces,
}

/// Where a decoded document's parts stand in its source ([`SourceMeta::places`]): what a
/// decoder can record cheaply while it reads, so a problem found later (validation names
/// canonical JSON paths) can be told in the source's own terms by [`Decode::source_path`].
/// 0 is "not known" for every number.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourcePlaces {
    /// The format whose decoder recorded these places, so a document read from inside
    /// another (a cXML attachment of a mail) is located by its own format's codec. `None`:
    /// nothing recorded.
    pub format: Option<Format>,
    /// The document's heading: cXML, the line of its `InvoiceDetailRequestHeader` or
    /// `OrderRequestHeader`; CSV, the row of its first record (where its own fields are).
    pub heading: u32,
    /// The document's summary: cXML, the line of its `InvoiceDetailSummary` (an order's
    /// `Total`); CSV, the row of its first `Invoice Charge` record.
    pub summary: u32,
    /// One entry per canonical line, in order: cXML, the line of the item's start tag
    /// (`InvoiceDetailItem`, `ItemOut`); X12, the position in its set of the line's IT1/PO1
    /// (ST is 1); CSV, the row of the line's record (as its rejects count rows).
    pub lines: Vec<u32>,
    /// CSV: the columns the document's fields were read from. A CSV file's columns are the
    /// file's own (a header row, a partner's column map), so their names cannot be made from
    /// the format afterwards as cXML's and X12's are; one list is shared by the documents read
    /// under the same header rows, so recording it costs no copy per document.
    pub columns: std::sync::Arc<[SourceColumn]>,
}

/// A column of a CSV source that fields were read from ([`SourcePlaces::columns`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceColumn {
    /// The field it holds, in the CSV adapter's words: a column map's field paths
    /// (`invoice_number`, `lines.quantity`, `supplier.address.city`).
    pub field: Text,
    /// Its position in the row, 0-based.
    pub index: u32,
    /// Its name as the header row writes it; empty when the file has no header row.
    pub name: Text,
}

/// One step of a canonical JSON path: a field name, and the index after it when it has one
/// (`lines[0]` is `lines` at 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PathStep<'p> {
    pub name: &'p str,
    pub index: Option<usize>,
}

/// The steps of a canonical JSON path as validation writes them (`$.lines[0].quantity`,
/// `$.taxes[1]`, `$`); `None` for text that is not one.
pub fn path_steps(path: &str) -> Option<Vec<PathStep<'_>>> {
    let rest = path.strip_prefix('$')?;
    if rest.is_empty() {
        return Some(Vec::new());
    }
    let rest = rest.strip_prefix('.')?;
    rest.split('.')
        .map(|part| match part.split_once('[') {
            None if !part.is_empty() => Some(PathStep {
                name: part,
                index: None,
            }),
            None => None,
            Some((name, index)) => Some(PathStep {
                name,
                index: Some(index.strip_suffix(']')?.parse().ok()?),
            }),
        })
        .collect()
}

/// The name of `format` as its own standard writes it, for messages (`cXML`, `X12`).
pub fn format_label(format: Format) -> &'static str {
    match format {
        Format::Json => "JSON",
        Format::Cxml => "cXML",
        Format::X12 => "X12",
        Format::Csv => "CSV",
        Format::Email => "e-mail",
    }
}

/// The key of [`SourceMeta::extra`] holding a document's notes.
pub const NOTES: &str = "notes";

/// Words every note about text read as Windows-1252 holds (the X12 and CSV readers'), so the
/// ledger can count, per partner, the documents whose partner may want its character set
/// declared (`gateway partners`).
pub const READ_AS_WINDOWS_1252: &str = "read as Windows-1252";

/// The places a note names: the first `max` one by one, the rest counted, so a note stays one
/// line however many there are (`N1 at line 5, PID at line 9 and 12 more`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FirstFew {
    max: usize,
    named: String,
    count: usize,
}

impl FirstFew {
    pub fn new(max: usize) -> Self {
        FirstFew {
            max,
            ..FirstFew::default()
        }
    }

    /// Adds a place; named while fewer than `max` are, counted after.
    pub fn push(&mut self, place: impl std::fmt::Display) {
        use std::fmt::Write as _;
        self.count += 1;
        if self.count > self.max {
            return;
        }
        if self.count > 1 {
            self.named.push_str(", ");
        }
        let _ = write!(self.named, "{place}");
    }

    /// How many places were added.
    pub fn count(&self) -> usize {
        self.count
    }

    /// The places named and how many more, `None` when none were added.
    pub fn list(&self) -> Option<String> {
        match self.count {
            0 => None,
            n if n > self.max => Some(format!("{} and {} more", self.named, n - self.max)),
            _ => Some(self.named.clone()),
        }
    }
}

impl SourceMeta {
    /// Notes what the decoder accepted although it deviates from the format (an X12 set
    /// accepted with errors, a trailer missing), so the deviation is recorded with the
    /// document and shown to operators and the partner instead of passing silently.
    /// A line break in `note` becomes a space: notes are kept one per line.
    pub fn note(&mut self, note: &str) {
        let note = note.replace(['\r', '\n'], " ");
        match self.extra.get_mut(NOTES) {
            Some(notes) => {
                notes.push_str("\n");
                notes.push_str(&note);
            }
            None => {
                self.extra.insert(NOTES.into(), note.into());
            }
        }
    }

    /// The notes, in the order they were made.
    pub fn notes(&self) -> impl Iterator<Item = &str> {
        self.extra
            .get(NOTES)
            .map(|n| n.as_str())
            .unwrap_or_default()
            .lines()
    }
}

/// A document decoded from a source, with its transport facts.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodedDocument {
    pub document: Document,
    pub meta: SourceMeta,
}

/// Part of the input that could not become a document. The rest of the input is unaffected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{location}: {message}")]
pub struct Reject {
    /// Where, as precisely as the format allows: `line 12, segment IT1 (#14), element IT104`,
    /// `/cXML/Request/InvoiceDetailRequest line 3 column 5`, `row 7, column "Price"`.
    pub location: String,
    /// What was wrong and what was expected.
    pub message: String,
    /// The document this reject belongs to, when known (set control number, invoice number).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document: Option<String>,
}

impl Reject {
    pub fn new(location: impl Into<String>, message: impl Into<String>) -> Self {
        Reject {
            location: location.into(),
            message: message.into(),
            document: None,
        }
    }

    /// The reject as one line of a report for a sender or an operator: `row 8 [ORD-1]: why`,
    /// the document in brackets when it is known (the `Display` form leaves it out).
    pub fn described(&self) -> String {
        match &self.document {
            Some(d) => format!("{} [{d}]: {}", self.location, self.message),
            None => format!("{}: {}", self.location, self.message),
        }
    }
}

/// Everything decoded from one input: good documents and located rejects, in source order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Decoded {
    pub documents: Vec<DecodedDocument>,
    pub rejects: Vec<Reject>,
}

/// One item of a streaming decode, in source order.
#[derive(Debug, Clone, PartialEq)]
pub enum DecodeItem {
    Document(Box<DecodedDocument>),
    Reject(Reject),
}

/// Wire bytes → canonical documents. Never fails as a whole: the good documents and the
/// located rejects both come back, because X12 acks and CSV imports accept or reject per item.
pub trait Decode: Send + Sync {
    fn format(&self) -> Format;

    fn decode(&self, raw: &[u8], partner: &PartnerProfile) -> Decoded;

    /// The largest input this format accepts whole, when it has a limit. The default
    /// [`Decode::decode_reader`] reads one byte more than this at most, so an endless or
    /// oversized stream costs bounded memory and `decode` refuses it with its own limit reject.
    fn max_input_bytes(&self) -> Option<usize> {
        None
    }

    /// Streaming decode: items are handed to `sink` as they complete so memory stays bounded by
    /// one document. The default reads the whole input (at most [`Decode::max_input_bytes`] + 1
    /// bytes); formats that can stream override it.
    fn decode_reader(
        &self,
        reader: &mut dyn BufRead,
        partner: &PartnerProfile,
        sink: &mut dyn FnMut(DecodeItem),
    ) -> std::io::Result<()> {
        let mut raw = Vec::new();
        match self.max_input_bytes() {
            Some(max) => {
                let cap = u64::try_from(max).unwrap_or(u64::MAX).saturating_add(1);
                reader.take(cap).read_to_end(&mut raw)?;
            }
            None => {
                reader.read_to_end(&mut raw)?;
            }
        }
        let decoded = self.decode(&raw, partner);
        for d in decoded.documents {
            sink(DecodeItem::Document(Box::new(d)));
        }
        for r in decoded.rejects {
            sink(DecodeItem::Reject(r));
        }
        Ok(())
    }

    /// [`Decode::decode_reader`] for a caller that must not act on a document (count it good,
    /// print it, write it out) while the rest of the input may still refuse it: returns the
    /// places (from 0, in the order `sink` was handed the documents) of the documents handed
    /// on and refused afterwards, each also rejected through `sink` with why. Such a caller
    /// holds the documents of a decoder that [`Decode::withdraws`] until this returns, and
    /// drops the ones named; [`Decode::decode`] does the same itself. The default withdraws
    /// nothing.
    fn decode_reader_withdrawing(
        &self,
        reader: &mut dyn BufRead,
        partner: &PartnerProfile,
        sink: &mut dyn FnMut(DecodeItem),
    ) -> std::io::Result<Vec<usize>> {
        self.decode_reader(reader, partner, sink)
            .map(|()| Vec::new())
    }

    /// Whether a document [`Decode::decode_reader_withdrawing`] hands on may be withdrawn by
    /// what follows it (CSV: a row of an invoice after other documents' rows refuses it whole),
    /// so a caller that streams must hold its documents until the input ends. False: every
    /// document is final when handed on, and streaming callers need hold nothing.
    fn withdraws(&self) -> bool {
        false
    }

    /// Where canonical `json_path` (a validation problem's path, such as
    /// `$.lines[0].quantity`) lives in this format, for `document` as decoded with `meta`:
    /// the element and attribute (cXML), the segment and element (X12), the row and column
    /// (CSV), with the line or position the decoder recorded in [`SourceMeta::places`] when it
    /// has one. `None` when the format has nothing to add (canonical JSON's paths are its own)
    /// or the path maps to nothing in it. Never fails: an unknown path is `None`.
    fn source_path(
        &self,
        document: &Document,
        meta: &SourceMeta,
        json_path: &str,
    ) -> Option<String> {
        let _ = (document, meta, json_path);
        None
    }
}

/// Why a document could not be written in a format. Never retryable: the document or the
/// partner profile must change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    #[error("{format} cannot carry a {kind}; it carries {supported}")]
    UnsupportedKind {
        format: Format,
        kind: String,
        supported: String,
    },
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
    #[error("partner profile: {0}")]
    Profile(String),
    #[error("control number store: {0}")]
    ControlNumbers(String),
}

/// Canonical documents → wire bytes.
pub trait Encode: Send + Sync {
    fn format(&self) -> Format;

    /// Encodes a batch of documents into one output (one interchange, one CSV file, one cXML
    /// document each concatenated for formats that carry one document per message).
    fn encode(&self, docs: &[Document], partner: &PartnerProfile) -> Result<Vec<u8>, EncodeError>;

    /// What writing `doc` in this format leaves out because the format has no place for it
    /// (an invoice line's comments in an 810), each as `path: why`, so a conversion can say so
    /// rather than lose it without a word. What is malformed is refused by [`Encode::encode`]
    /// instead; empty when the format carries everything the writer knows of. `partner` is
    /// the profile the document would be written for (a CSV column map has only its columns).
    fn left_out(&self, _doc: &Document, _partner: &PartnerProfile) -> Vec<String> {
        Vec::new()
    }
}

#[cfg(test)]
mod path_step_tests {
    use super::{PathStep, path_steps};

    #[test]
    fn canonical_paths_split_into_steps() {
        let step = |name, index| PathStep { name, index };
        assert_eq!(
            path_steps("$.lines[12].quantity"),
            Some(vec![step("lines", Some(12)), step("quantity", None)])
        );
        assert_eq!(path_steps("$"), Some(vec![]));
        assert_eq!(
            path_steps("$.extensions.cxml.operation").map(|s| s.len()),
            Some(3)
        );
        for bad in [
            "",
            "lines",
            "$lines",
            "$.lines[",
            "$.lines[x]",
            "$..a",
            "$.a.",
        ] {
            assert_eq!(path_steps(bad), None, "{bad}");
        }
    }
}

#[cfg(test)]
mod first_few_tests {
    use super::FirstFew;

    #[test]
    fn names_the_first_few_and_counts_the_rest() {
        let mut few = FirstFew::new(2);
        assert_eq!(few.list(), None);
        few.push(3);
        assert_eq!(few.list().as_deref(), Some("3"));
        few.push("row 4");
        assert_eq!(few.list().as_deref(), Some("3, row 4"));
        few.push(9);
        few.push(12);
        assert_eq!(few.list().as_deref(), Some("3, row 4 and 2 more"));
        assert_eq!(few.count(), 4);
    }
}
