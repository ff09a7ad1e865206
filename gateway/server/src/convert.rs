//! `gateway convert` and `gateway validate`: files in, canonical documents or wire formats out.

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use gateway_core::profile::ProfileError;
use gateway_core::{DecodeItem, DecodedDocument, Format, PartnerProfile, Reject, detect_format};
use gateway_model::Document;

use crate::codecs::{Codecs, list};

/// Where input comes from: a file path or `-` for standard input.
pub fn open_input(path: &Path) -> anyhow::Result<Box<dyn BufRead>> {
    if path.as_os_str() == "-" {
        return Ok(Box::new(BufReader::with_capacity(
            64 * 1024,
            std::io::stdin(),
        )));
    }
    let file = std::fs::File::open(path)
        .with_context(|| format!("cannot open {}: check the path", path.display()))?;
    Ok(Box::new(BufReader::with_capacity(64 * 1024, file)))
}

/// Picks the input format: the one asked for, or detected from the first bytes.
pub fn resolve_format(from: Option<Format>, reader: &mut dyn BufRead) -> anyhow::Result<Format> {
    if let Some(f) = from {
        return Ok(f);
    }
    let head = reader.fill_buf().context("cannot read input")?;
    Ok(detect_format(head))
}

/// Checks `--control-numbers DIR` before anything is numbered: the folder must exist. QA:
/// `validate --ack --control-numbers state/x12-control`, the example's folder, made a new
/// one and issued ISA13 1 again, repeating what the service had sent under its own counters
/// (`x12-control` beside the ledger). A new numbering is made on purpose, by creating the
/// folder first.
pub fn existing_counters(dir: &Path) -> anyhow::Result<()> {
    let why = match std::fs::metadata(dir) {
        Ok(m) if m.is_dir() => return Ok(()),
        Ok(_) => "is not a folder",
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => "does not exist",
        Err(e) => bail!("--control-numbers {}: {e}", dir.display()),
    };
    bail!(
        "--control-numbers {dir} {why}: numbered there, ISA13/GS06 would start again from 1 and \
         repeat the ones the service already sent. The service keeps its counters in \
         x12-control beside its ledger, the folder of [ledger] path (var/x12-control with \
         gateway.example.toml): point --control-numbers at that folder, or create {dir} first \
         (mkdir -p {dir}) to start a numbering of its own",
        dir = dir.display()
    )
}

/// Loads `--partner`, or the anonymous profile. The file is held to the checks the service
/// holds its configuration's partners to ([`crate::config::partner_file_problems`]), each
/// problem at its line: a profile the service refuses converts and validates nothing.
pub fn load_partner(path: Option<&PathBuf>) -> anyhow::Result<PartnerProfile> {
    let Some(path) = path else {
        return Ok(PartnerProfile::anonymous());
    };
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|cause| ProfileError::Io {
        path: shown.clone(),
        cause,
    })?;
    let profile = PartnerProfile::from_toml(&text, &shown)?;
    match crate::config::partner_file_problems(&profile, &text) {
        Some(message) => Err(ProfileError::Invalid {
            path: shown,
            message,
        }
        .into()),
        None => Ok(profile),
    }
}

/// What a decode produced, counted for the exit status.
#[derive(Debug, Default)]
pub struct Tally {
    pub documents: usize,
    pub rejects: usize,
}

/// Decodes `reader` as `format`, handing each item to `on_item` in source order. Returns the
/// places (from 0, among the documents handed to `on_item`) of the documents the decoder
/// withdrew after handing them on ([`gateway_core::Decode::decode_reader_withdrawing`]: a CSV
/// invoice refused whole by a row of it further on), each also rejected through `on_item`. A
/// caller reports none of them as read, and holds every document until this returns where
/// [`may_withdraw`] says so.
pub fn decode_stream(
    codecs: &Codecs,
    format: Format,
    reader: &mut dyn BufRead,
    partner: &PartnerProfile,
    on_item: &mut dyn FnMut(DecodeItem) -> anyhow::Result<()>,
) -> anyhow::Result<HashSet<usize>> {
    let Some(decoder) = codecs.decoder(format) else {
        bail!(
            "reading {format} is not supported by this build; it reads: {}",
            list(&codecs.readable())
        );
    };
    let mut failure: Option<anyhow::Error> = None;
    let withdrawn = decoder
        .decode_reader_withdrawing(reader, partner, &mut |item| {
            if failure.is_none()
                && let Err(e) = on_item(item)
            {
                failure = Some(e);
            }
        })
        .context("cannot read input")?;
    match failure {
        Some(e) => Err(e),
        None => Ok(withdrawn.into_iter().collect()),
    }
}

/// Whether a document [`decode_stream`] hands on for `format` may still be withdrawn by the
/// rest of the input ([`gateway_core::Decode::withdraws`]), so it is printed, counted or
/// written only once the input has ended.
pub fn may_withdraw(codecs: &Codecs, format: Format) -> bool {
    codecs.decoder(format).is_some_and(|d| d.withdraws())
}

/// A document as problems name it: its kind and number (`invoice INV-7`), or that it has
/// none (`invoice without a number`), never a kind and a blank.
pub fn document_label(document: &Document) -> String {
    match document.number().trim() {
        "" => format!("{} without a number", document.kind()),
        _ => format!("{} {}", document.kind(), document.number()),
    }
}

/// Where canonical `json_path` of a decoded document is in the format it was read from, as
/// the text to put after a problem: ` (cXML: InvoiceDetailItem[@invoiceLineNumber="1"]/@quantity,
/// line 23)`, ` (X12: IT102 of the IT1 at segment 5 of the set)`; empty when the decoder has
/// nothing to add (canonical JSON's paths are its own). The format is the one whose decoder
/// recorded the document's places, so a cXML attachment of a mail is located as cXML.
pub fn source_suffix(
    codecs: &Codecs,
    document: &Document,
    meta: &gateway_core::SourceMeta,
    json_path: &str,
) -> String {
    let Some(format) = meta.places.format else {
        return String::new();
    };
    codecs
        .decoder(format)
        .and_then(|d| d.source_path(document, meta, json_path))
        .map(|at| format!(" ({}: {at})", gateway_core::codec::format_label(format)))
        .unwrap_or_default()
}

/// Prints a reject on standard error with its location.
pub fn report_reject(input: &str, r: &Reject) {
    match &r.document {
        Some(d) => eprintln!("{input}: rejected ({d}) at {}: {}", r.location, r.message),
        None => eprintln!("{input}: rejected at {}: {}", r.location, r.message),
    }
}

/// `r` with the way out for a canonical JSON document that names no `kind`: `--kind`, an
/// option of this command the model's message cannot know of. QA: the refusal said `$.kind:
/// missing` and nothing of the option that exists for it.
fn with_kind_hint(from: Format, mut r: Reject) -> Reject {
    if from == Format::Json && r.location.ends_with(".kind") && r.message.starts_with("missing") {
        r.message.push_str(
            "; name it in the document, or give --kind invoice or --kind purchase_order for \
             documents that name none",
        );
    }
    r
}

/// Options of `gateway convert`.
#[derive(Debug)]
pub struct ConvertRequest<'a> {
    pub input: &'a Path,
    pub from: Option<Format>,
    pub to: Format,
    pub partner: PartnerProfile,
    /// Write each document to its own file here instead of all to `out` (cXML carries one
    /// document per message, so several need this).
    pub out_dir: Option<&'a Path>,
    /// With `out_dir`: replace files already there. Without it a run that would replace one
    /// writes nothing, so an earlier run's output (or another input's, under the same name) is
    /// never lost silently.
    pub force: bool,
}

/// Whether an encode error is the document's (it is reported as a reject, exit 1) rather than
/// the setup's (a profile, a control-number store: exit 2).
fn documents_fault(e: &gateway_core::EncodeError) -> bool {
    matches!(
        e,
        gateway_core::EncodeError::Invalid { .. }
            | gateway_core::EncodeError::UnsupportedKind { .. }
    )
}

/// `document`'s own file name in `--out-dir`: its place in the input and its number, made safe
/// for a file name (`0002-INV-7.xml`). The place keeps the documents of one run apart (two
/// invoices numbered alike, or numbers that differ only in characters made `_`), so one never
/// replaces another; runs of other inputs into the same folder are kept apart by refusing.
fn file_name(index: usize, document: &Document, to: Format) -> String {
    let number = match document {
        Document::Invoice(i) => i.invoice_number.as_deref(),
        Document::PurchaseOrder(p) => p.po_number.as_deref(),
    }
    .unwrap_or("");
    let safe: String = number
        .chars()
        .take(60)
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let ext = match to {
        Format::Cxml => "xml",
        Format::X12 => "edi",
        Format::Csv => "csv",
        Format::Json | Format::Email => "json",
    };
    if safe.is_empty() {
        format!("{:04}.{ext}", index + 1)
    } else {
        format!("{:04}-{safe}.{ext}", index + 1)
    }
}

/// What to tell a user whose `--out-dir` already holds `path`.
fn already_there(path: &Path) -> String {
    format!(
        "{} already exists: pass --force to replace it, or choose another --out-dir",
        path.display()
    )
}

/// Refuses a run whose files are already in `--out-dir` (an earlier run's, or another
/// input's whose documents have the same places and numbers), naming the first and counting
/// the others; checked before anything is written.
fn refuse_existing<'p>(paths: impl Iterator<Item = &'p Path>) -> anyhow::Result<()> {
    // `symlink_metadata`: a dangling link is there too, and writing through it is refused.
    let taken: Vec<&Path> = paths
        .filter(|p| std::fs::symlink_metadata(p).is_ok())
        .collect();
    match taken.as_slice() {
        [] => Ok(()),
        [one] => bail!("{}", already_there(one)),
        [first, rest @ ..] => bail!(
            "{} (and {} more of this run's files)",
            already_there(first),
            rest.len()
        ),
    }
}

/// Writes `bytes` as `path` atomically: into a temporary file beside it, synced, then renamed,
/// so a reader (a transfer job watching the folder) never sees half a file and a failed run
/// leaves no partial one. Without `replace`, the rename refuses a file that appeared there
/// since [`refuse_existing`] looked (no-replace rename, or a hard link where that is missing).
fn write_new_file(path: &Path, bytes: &[u8], replace: bool) -> anyhow::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".gateway-convert-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    tmp.write_all(bytes)
        .and_then(|()| tmp.as_file().sync_all())
        .with_context(|| format!("cannot write {}", path.display()))?;
    let placed = if replace {
        tmp.persist(path)
    } else {
        tmp.persist_noclobber(path)
    };
    match placed {
        Ok(_) => Ok(()),
        Err(e) if e.error.kind() == std::io::ErrorKind::AlreadyExists => {
            bail!("{}", already_there(path))
        }
        Err(e) => Err(e.error).with_context(|| format!("cannot write {}", path.display())),
    }
}

/// Prints what `encoder` leaves out of `document` (a field the target format has no place
/// for) as warnings on standard error.
fn warn_left_out(
    encoder: &dyn gateway_core::Encode,
    document: &Document,
    req: &ConvertRequest<'_>,
    shown: &str,
) {
    for what in encoder.left_out(document, &req.partner) {
        eprintln!(
            "{shown}: warning: {} {} leaves out {what}",
            document.number(),
            req.to
        );
    }
}

/// Writes `document` as a JSON Lines line of its own to `out` (`convert --to json` without
/// `--out-dir`), or says why it cannot be written and counts it as rejected.
fn write_line(
    encoder: &dyn gateway_core::Encode,
    document: &Document,
    req: &ConvertRequest<'_>,
    shown: &str,
    out: &mut dyn Write,
    tally: &mut Tally,
) -> anyhow::Result<()> {
    tally.documents += 1;
    warn_left_out(encoder, document, req, shown);
    match encoder.encode(std::slice::from_ref(document), &req.partner) {
        Ok(bytes) => out.write_all(&bytes)?,
        Err(e) if documents_fault(&e) => {
            eprintln!("{shown}: not written: cannot write {}: {e}", req.to);
            tally.documents -= 1;
            tally.rejects += 1;
        }
        Err(e) => bail!("cannot write {}: {e}", req.to),
    }
    Ok(())
}

/// Runs `convert`; returns how many documents and rejects there were. A document is written
/// only once the reader can no longer withdraw it ([`may_withdraw`]): JSON Lines stream out
/// as documents complete, except from an input whose documents a later part may still refuse
/// (CSV), which are held until it ends, as every input's are for the formats written in one
/// piece.
pub fn convert(
    codecs: &Codecs,
    req: &ConvertRequest<'_>,
    out: &mut dyn Write,
) -> anyhow::Result<Tally> {
    let Some(encoder) = codecs.encoder(req.to) else {
        bail!(
            "writing {} is not supported by this build; it writes: {}",
            req.to,
            list(&codecs.writable())
        );
    };
    let encoder = encoder.as_ref();
    let mut reader = open_input(req.input)?;
    let from = resolve_format(req.from, &mut reader)?;
    let shown = req.input.display().to_string();
    let mut tally = Tally::default();
    // JSON Lines go out one document at a time; other formats are written in one piece (one
    // interchange, one file) once the input is read.
    let one_at_a_time = req.to == Format::Json && req.out_dir.is_none();
    let hold = !one_at_a_time || may_withdraw(codecs, from);
    // Each held document with its place among the documents read.
    let mut held: Vec<(usize, Document)> = Vec::new();
    let mut read = 0usize;
    let withdrawn = decode_stream(codecs, from, &mut reader, &req.partner, &mut |item| {
        match item {
            DecodeItem::Document(d) => {
                let DecodedDocument { document, .. } = *d;
                let place = read;
                read += 1;
                if hold {
                    held.push((place, document));
                } else {
                    write_line(encoder, &document, req, &shown, out, &mut tally)?;
                }
            }
            DecodeItem::Reject(r) => {
                tally.rejects += 1;
                report_reject(&shown, &with_kind_hint(from, r));
            }
        }
        Ok(())
    })?;
    // The documents the reader withdrew are rejected already (counted above): none is written.
    let batch: Vec<Document> = held
        .into_iter()
        .filter(|(place, _)| !withdrawn.contains(place))
        .map(|(_, document)| document)
        .collect();
    if one_at_a_time {
        for document in &batch {
            write_line(encoder, document, req, &shown, out, &mut tally)?;
        }
        out.flush()?;
        return Ok(tally);
    }
    tally.documents += batch.len();
    for document in &batch {
        warn_left_out(encoder, document, req, &shown);
    }
    if let Some(dir) = req.out_dir {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create {}: check the path", dir.display()))?;
        // Every document is encoded before anything is written, so a run refused for a file
        // already there writes nothing at all.
        let mut files: Vec<(PathBuf, Vec<u8>)> = Vec::with_capacity(batch.len());
        for (index, document) in batch.iter().enumerate() {
            match encoder.encode(std::slice::from_ref(document), &req.partner) {
                Ok(bytes) => files.push((dir.join(file_name(index, document, req.to)), bytes)),
                Err(e) if documents_fault(&e) => {
                    eprintln!(
                        "{shown}: not written (document {}): cannot write {}: {e}",
                        index + 1,
                        req.to
                    );
                    tally.documents -= 1;
                    tally.rejects += 1;
                }
                Err(e) => bail!("cannot write {}: {e}", req.to),
            }
        }
        if !req.force {
            refuse_existing(files.iter().map(|(path, _)| path.as_path()))?;
        }
        for (path, bytes) in files {
            write_new_file(&path, &bytes, req.force)?;
            writeln!(out, "{}", path.display())?;
        }
    } else if !batch.is_empty() {
        if req.to == Format::Cxml && batch.len() > 1 {
            bail!(
                "the input holds {} documents and a cXML message carries one: write each to its \
                 own file with --out-dir DIR",
                batch.len()
            );
        }
        match encoder.encode(&batch, &req.partner) {
            Ok(bytes) => out.write_all(&bytes)?,
            Err(e) if documents_fault(&e) => {
                // One output holds them all, so none is written: say which one to fix.
                eprintln!(
                    "{shown}: nothing written: cannot write {}: {e}; fix that document or \
                     convert the others with --out-dir DIR, one file each",
                    req.to
                );
                tally.rejects += batch.len();
                tally.documents = 0;
            }
            Err(e) => bail!("cannot write {}: {e}", req.to),
        }
    }
    out.flush()?;
    Ok(tally)
}

/// Runs `validate`: decodes, then checks every document; prints every problem with its
/// location. Returns (documents, errors, warnings).
pub fn validate(
    codecs: &Codecs,
    input: &Path,
    from: Option<Format>,
    partner: &PartnerProfile,
    out: &mut dyn Write,
) -> anyhow::Result<(usize, usize, usize)> {
    let mut reader = open_input(input)?;
    let format = resolve_format(from, &mut reader)?;
    validate_reader(codecs, input, format, &mut reader, partner, out)
}

/// What `validate` says of one item of its input: the lines it prints and the errors and
/// warnings they count, and for a document its place among the documents read, so what is
/// said of one the reader withdraws afterwards can be left unsaid.
#[derive(Debug, Default)]
struct Said {
    document: Option<usize>,
    text: Vec<u8>,
    errors: usize,
    warnings: usize,
}

/// What `validate` found in the documents it reports.
#[derive(Debug, Default)]
struct Found {
    errors: usize,
    warnings: usize,
}

impl Said {
    /// Prints it to `out` and counts it in `found`.
    fn print(&self, out: &mut dyn Write, found: &mut Found) -> std::io::Result<()> {
        out.write_all(&self.text)?;
        found.errors += self.errors;
        found.warnings += self.warnings;
        Ok(())
    }
}

/// Checks document `d`, the `place`th (from 0) of the input, as the running gateway would for
/// `partner`, saying each problem with its location into `said`.
fn check_document(
    codecs: &Codecs,
    shown: &str,
    partner: &PartnerProfile,
    place: usize,
    d: &DecodedDocument,
    said: &mut Said,
) -> std::io::Result<()> {
    let where_ = d
        .meta
        .location
        .as_deref()
        .map(str::to_string)
        .unwrap_or_else(|| format!("document {}", place + 1));
    let report = d.document.validate_in(partner.validation_context());
    let label = document_label(&d.document);
    let out = &mut said.text;
    // What the decoder tolerated (an X12 set accepted with errors) is a warning too.
    let notes: Vec<&str> = d.meta.notes().collect();
    for note in &notes {
        writeln!(out, "{shown}: {where_} ({label}): warning: {note}")?;
    }
    said.warnings += notes.len();
    for p in &report.problems {
        let at = source_suffix(codecs, &d.document, &d.meta, &p.path);
        writeln!(out, "{shown}: {where_} ({label}): {p}{at}")?;
    }
    said.errors += report.errors().count();
    said.warnings += report.warnings().count();
    // What the running gateway refuses for a partner although the document is valid, as it
    // and the 997 refuse it.
    let cx = partner.validation_context();
    if cx.to_coupa
        && let Some(mark) = gateway_core::invoice_cancellation(&d.document)
    {
        let at = source_suffix(codecs, &d.document, &d.meta, mark.path);
        writeln!(
            out,
            "{shown}: {where_} ({label}): error at {}: {}{at}",
            mark.path,
            gateway_core::cancellation_refused(&mark, d.document.number())
        )?;
        said.errors += 1;
    }
    Ok(())
}

/// [`validate`] of what `reader` holds, read as `format`; `input` names it in messages. What
/// is said of each document is printed as it is read, or, from an input whose documents a
/// later part may still withdraw ([`may_withdraw`]: CSV), held until the input ends and then
/// printed for the documents that stand: a withdrawn one is neither counted as read nor has
/// its problems printed; the reject that withdrew it says why.
fn validate_reader(
    codecs: &Codecs,
    input: &Path,
    format: Format,
    reader: &mut dyn BufRead,
    partner: &PartnerProfile,
    out: &mut dyn Write,
) -> anyhow::Result<(usize, usize, usize)> {
    let shown = input.display().to_string();
    let hold = may_withdraw(codecs, format);
    let mut found = Found::default();
    let mut read = 0usize;
    // Held: what was said of each item, in source order; a document said nothing of is not
    // kept (it is counted by `read`).
    let mut held: Vec<Said> = Vec::new();
    let withdrawn = decode_stream(codecs, format, reader, partner, &mut |item| {
        let mut said = Said::default();
        match item {
            DecodeItem::Document(d) => {
                said.document = Some(read);
                check_document(codecs, &shown, partner, read, &d, &mut said)?;
                read += 1;
            }
            DecodeItem::Reject(r) => {
                said.errors += 1;
                writeln!(said.text, "{shown}: error: {}: {}", r.location, r.message)?;
            }
        }
        if !hold {
            said.print(out, &mut found)?;
        } else if !said.text.is_empty() {
            held.push(said);
        }
        Ok(())
    })?;
    for said in &held {
        if said
            .document
            .is_none_or(|place| !withdrawn.contains(&place))
        {
            said.print(out, &mut found)?;
        }
    }
    let docs = read.saturating_sub(withdrawn.iter().filter(|place| **place < read).count());
    let Found { errors, warnings } = found;
    writeln!(
        out,
        "{shown}: {docs} document(s) read as {format}, {errors} error(s), {warnings} warning(s)"
    )?;
    Ok((docs, errors, warnings))
}

/// What a partner's 997/999 in the input says, one line per set it answers (or per group when
/// it lists none), as the running gateway records it against what it sent.
fn describe_acknowledgments(
    shown: &str,
    received: &[adapter_x12::ReceivedAck],
    out: &mut dyn Write,
) -> std::io::Result<()> {
    for a in received {
        let head = format!(
            "{shown}: {} {} from {} answers group {} ({})",
            a.kind, a.control, a.sender, a.group_control, a.functional_id
        );
        let controls: Vec<&str> = if a.sets.is_empty() {
            vec![""]
        } else {
            a.sets.iter().map(|s| s.control.as_str()).collect()
        };
        for control in controls {
            let set = if control.is_empty() {
                String::new()
            } else {
                format!(", set {control}")
            };
            match a.verdict(control) {
                Some(v) => writeln!(out, "{head}{set}: {}", v.summary)?,
                None => writeln!(out, "{head}{set}: neither accepted nor rejected")?,
            }
        }
    }
    Ok(())
}

/// Runs `validate --ack` on an X12 input: its problems go to `problems` as [`validate`] writes
/// them, and `out` gets what the gateway would send back: a 997 or 999 for each functional
/// group (after its GS08) and a TA1 where an interchange has envelope problems or asks for
/// one, numbered from `codecs`' control numbers. Returns the number of errors.
pub fn acknowledge(
    codecs: &Codecs,
    input: &Path,
    from: Option<Format>,
    partner: &PartnerProfile,
    out: &mut dyn Write,
    problems: &mut dyn Write,
) -> anyhow::Result<usize> {
    let raw = read_all(input)?;
    let format = from.unwrap_or_else(|| detect_format(&raw));
    if format != Format::X12 {
        bail!(
            "--ack acknowledges X12 input, and {} reads as {format}: validate it without --ack, \
             or pass --from x12 if it is X12",
            input.display()
        );
    }
    let (_, errors, _) = validate_reader(
        codecs,
        input,
        format,
        &mut std::io::Cursor::new(&raw),
        partner,
        problems,
    )?;
    let ack = codecs
        .x12()
        .acknowledge(&raw, partner)
        .map_err(|e| anyhow::anyhow!("cannot write the acknowledgment: {e}"))?;
    // Read as the service reads them from this partner: a broken one is refused (the
    // decoder's error above says why), not described as if it were acted on.
    let adapter_x12::Received {
        acks: received,
        ta1s,
        refused,
    } = adapter_x12::received::read_received_from(&raw, partner);
    describe_acknowledgments(&input.display().to_string(), &received, problems)?;
    for t in &ta1s {
        writeln!(
            problems,
            "{}: from {}: {}",
            input.display(),
            t.sender,
            t.summary()
        )?;
    }
    // An interchange no acknowledgment can answer is said so, whatever else was answered.
    for why in &ack.unanswerable {
        writeln!(problems, "{}: not acknowledged: {why}", input.display())?;
    }
    let mut errors = errors;
    if ack.bytes.is_empty() {
        if received.is_empty() && ta1s.is_empty() && refused.is_empty() {
            // Nothing the gateway could answer, and nothing that needs no answer: an error.
            writeln!(
                problems,
                "{}: nothing to acknowledge: no interchange with a usable ISA header",
                input.display()
            )?;
            errors = errors.max(1);
        } else {
            writeln!(
                problems,
                "{}: nothing to acknowledge: acknowledgments (997/999/TA1) are never acknowledged",
                input.display()
            )?;
        }
    }
    out.write_all(&ack.bytes)?;
    out.flush()?;
    Ok(errors)
}

/// Most bytes [`read_all`] holds: an acknowledgment answers whole interchanges, so `--ack`
/// reads its input into memory, and a larger file should be split (or validated without
/// `--ack`, which streams).
pub const MAX_WHOLE_INPUT: u64 = 1 << 30;

/// Reads a whole input into memory, up to [`MAX_WHOLE_INPUT`] bytes.
pub fn read_all(path: &Path) -> anyhow::Result<Vec<u8>> {
    let r = open_input(path)?;
    let mut buf = Vec::new();
    r.take(MAX_WHOLE_INPUT + 1).read_to_end(&mut buf)?;
    if buf.len() as u64 > MAX_WHOLE_INPUT {
        bail!(
            "{} is larger than {} MiB, the most --ack reads at once: split it by interchange, \
             or validate it without --ack (which streams)",
            path.display(),
            MAX_WHOLE_INPUT >> 20
        );
    }
    Ok(buf)
}
