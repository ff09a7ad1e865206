//! [`CsvCodec`]: the CSV format as the gateway's codec traits see it.

use std::io::BufRead;

use gateway_core::{
    Decode, DecodeItem, Decoded, Encode, EncodeError, Format, PartnerProfile, Reject,
};
use gateway_model::charset::{Charset, Endian};
use gateway_model::{Document, DocumentKind};

use crate::column_map::{ColumnMap, MapReader};
use crate::coupa::{CoupaReader, Flow};
use crate::dialect;
use crate::rows::Row;
use crate::rows::{Next, RowReader};
use crate::scattered::Withdrawn;
use crate::table::{self, HeaderStyle, Table};
use crate::value::ValueFormat;
use crate::{encode_coupa, encode_map};

/// Reads and writes CSV: Coupa's layouts, or the partner's column map when its profile has
/// one. Stateless; one value serves every partner.
#[derive(Debug, Clone, Copy, Default)]
pub struct CsvCodec;

impl Decode for CsvCodec {
    fn format(&self) -> Format {
        Format::Csv
    }

    /// The whole input, held: an invoice refused after it was read (a row of it further on,
    /// after other documents' rows: [`crate::scattered`]) is taken back out of the documents
    /// and rejected at its rows, so nothing of it is delivered.
    fn decode(&self, raw: &[u8], partner: &PartnerProfile) -> Decoded {
        let mut out = Decoded::default();
        let mut input: &[u8] = raw;
        let read = {
            let mut sink = |item| match item {
                DecodeItem::Document(d) => out.documents.push(*d),
                DecodeItem::Reject(r) => out.rejects.push(r),
            };
            self.read_input(&mut input, partner, &mut sink)
        };
        match read {
            Ok(withdrawn) => withdraw(&mut out, withdrawn),
            // Reading from memory cannot fail; keep the message if it ever does.
            Err(e) => out.rejects.push(Reject::new("input", e.to_string())),
        }
        out
    }

    /// Streams: each document is handed to `sink` when its last row is read. An invoice that
    /// a row further on refuses (a row of it after other documents' rows) has been handed on
    /// by then: the reject of that row names it and says it is refused whole, and at the end
    /// a reject at its rows refuses it as `decode` does. A caller that delivers, prints or
    /// writes documents uses [`Decode::decode_reader_withdrawing`], which also says which
    /// documents to take back.
    fn decode_reader(
        &self,
        reader: &mut dyn BufRead,
        partner: &PartnerProfile,
        sink: &mut dyn FnMut(DecodeItem),
    ) -> std::io::Result<()> {
        self.decode_reader_withdrawing(reader, partner, sink)
            .map(|_| ())
    }

    /// [`CsvCodec::decode_reader`], returning the places of the documents handed on and
    /// withdrawn afterwards, as [`CsvCodec::decode`] takes them back out.
    fn decode_reader_withdrawing(
        &self,
        reader: &mut dyn BufRead,
        partner: &PartnerProfile,
        sink: &mut dyn FnMut(DecodeItem),
    ) -> std::io::Result<Vec<usize>> {
        let withdrawn = self.read_input(reader, partner, sink)?;
        // Handed on already: the rejects that refuse them come last, as `decode` gives them.
        for w in &withdrawn {
            sink(DecodeItem::Reject(w.reject()));
        }
        Ok(withdrawn.into_iter().map(|w| w.ordinal).collect())
    }

    /// Any document handed on may be withdrawn until the file ends: a row of it may come after
    /// any number of other documents' rows ([`crate::scattered`]).
    fn withdraws(&self) -> bool {
        true
    }

    /// The row and column `json_path` was read from (`row 5, column "Quantity" (I)`), from
    /// the rows and columns the reader recorded ([`crate::source_path`]).
    fn source_path(
        &self,
        document: &Document,
        meta: &gateway_core::SourceMeta,
        json_path: &str,
    ) -> Option<String> {
        crate::source_path::source_path(document, meta, json_path)
    }
}

impl CsvCodec {
    /// Reads `reader` as `partner`'s documents, handing each to `sink`; returns the documents
    /// handed over and refused afterwards ([`crate::scattered`]).
    fn read_input(
        &self,
        reader: &mut dyn BufRead,
        partner: &PartnerProfile,
        sink: &mut dyn FnMut(DecodeItem),
    ) -> std::io::Result<Vec<Withdrawn>> {
        let mut profile = partner.csv.clone().unwrap_or_default();
        let mut notes = Vec::new();
        // A UTF-8 byte-order mark says the file is UTF-8: read as Windows-1252 because the
        // profile says so, every letter beyond ASCII would be garbled (`DÃ¼bel`).
        if dialect::skip_bom(reader)? && profile.charset == Some(Charset::Windows1252) {
            profile.charset = Some(Charset::Utf8);
            notes.push(format!(
                "the file was {UTF8_BY_ITS_MARK}, though the partner profile says csv.charset = \
                 \"windows-1252\"; if the partner's system now writes UTF-8, set charset = \
                 \"utf-8\" in its [csv] profile (files without the mark are taken for \
                 Windows-1252 until then)"
            ));
        }
        let endian = match crate::utf16::skip_utf16_bom(reader)? {
            // Excel's "Unicode Text": read as UTF-8 as it streams.
            Some(endian) => Some(endian),
            None => {
                let endian = crate::utf16::sniff_utf16(reader)?;
                if let Some(endian) = endian {
                    notes.push(format!(
                        "the file is UTF-16 ({}) without a byte-order mark, and was read so; save it as CSV (UTF-8), or UTF-16 with its mark, so no reader has to guess",
                        match endian {
                            Endian::Little => "little-endian",
                            Endian::Big => "big-endian",
                        }
                    ));
                }
                endian
            }
        };
        match endian {
            Some(endian) => {
                // Decoded from UTF-16 already: the partner's single-byte charset (csv.charset)
                // must not read it a second time.
                let profile = gateway_core::profile::CsvProfile {
                    charset: None,
                    ..profile
                };
                let mut utf8 = crate::utf16::Utf16Reader::new(reader, endian);
                self.read_rows(&mut utf8, partner, &profile, notes, sink)
            }
            None => self.read_rows(reader, partner, &profile, notes, sink),
        }
    }

    /// Reads the records of `reader` (after any byte-order mark) as `partner`'s documents,
    /// each with `notes` (what was noticed about the file as a whole).
    fn read_rows(
        &self,
        reader: &mut dyn BufRead,
        partner: &PartnerProfile,
        profile: &gateway_core::profile::CsvProfile,
        mut notes: Vec<String>,
        sink: &mut dyn FnMut(DecodeItem),
    ) -> std::io::Result<Vec<Withdrawn>> {
        let delimiter = dialect::delimiter(profile.delimiter, reader)?;
        // The profile's delimiter, declared, not found on the first line while another is:
        // the file is in another dialect than the profile says, and read with the profile's
        // every layout would blame something else (not a record type, a missing column).
        // A column map of one column is one column wide whatever the delimiter.
        let several_columns = !profile.has_column_map() || profile.columns.len() > 1;
        if profile.delimiter.is_some()
            && several_columns
            && let Some(other) = dialect::other_delimiter(delimiter, reader)?
        {
            let spelled = match other {
                b'\t' => "\"\\t\"".to_string(),
                o => format!("{:?}", char::from(o).to_string()),
            };
            sink(DecodeItem::Reject(Reject::new(
                "row 1",
                format!(
                    "the partner profile's delimiter {} (csv.delimiter) does not split the \
                     header line: the file looks {}-separated; set delimiter = {spelled} in the \
                     partner's [csv] profile if it now writes such files, or ask for {}-separated \
                     ones; nothing in the file was read",
                    dialect::shown(delimiter),
                    dialect::shown(other),
                    dialect::shown(delimiter),
                ),
            )));
            return Ok(Vec::new());
        }
        // A `;` between cells is what spreadsheets write where the comma is the decimal mark:
        // without the partner saying which separator it writes, `2,500` is ambiguous.
        let ambiguous_comma = profile.decimal_separator.is_none() && delimiter == b';';
        // A delimiter other than the comma, guessed because the profile names none, is noted
        // with every document: the guess rests on the first line only.
        let guessed = (profile.delimiter.is_none() && delimiter != b',').then(|| {
            format!(
                "the delimiter {:?} was guessed from the first line; set csv.delimiter in the \
                 partner profile so a file whose first line differs is not misread",
                char::from(delimiter)
            )
        });
        notes.extend(guessed);
        let mut noting = |item: DecodeItem| match item {
            DecodeItem::Document(mut d) if !notes.is_empty() => {
                for note in &notes {
                    d.meta.note(note);
                }
                sink(DecodeItem::Document(d));
            }
            item => sink(item),
        };
        let sink = &mut noting;
        let mut layout = if profile.has_column_map() {
            match ColumnMap::from_profile(profile) {
                Ok(mut map) => {
                    map.fmt.ambiguous_comma = ambiguous_comma;
                    Layout::Map(Box::new(MapReader::new(map)))
                }
                Err(e) => {
                    sink(DecodeItem::Reject(Reject::new(
                        format!("partner profile {:?}", partner.id),
                        e,
                    )));
                    return Ok(Vec::new());
                }
            }
        } else {
            let fmt = ValueFormat {
                ambiguous_comma,
                ..value_format(profile)
            };
            Layout::Coupa(Box::new(CoupaReader::new(fmt)))
        };
        let mut rows = RowReader::new(reader, delimiter)
            .with_charset(profile.charset.unwrap_or_default())
            .with_formula_guard(profile.formula_guard);
        loop {
            match rows.next()? {
                Next::End => break,
                Next::Row(row) => {
                    // A quoted cell over several lines that looks like rows a stray quote
                    // swallowed is refused as a record that could not be read.
                    if row.has_line_break()
                        && let Some((column, r)) = layout.multiline(&row, delimiter)
                    {
                        let first = row.get(Some(0));
                        let first = first.lines().next().unwrap_or(first).to_string();
                        let before = row.before(column);
                        layout.reject_oversized(r, row.number, &first, false, Some(&before), sink);
                        rows.recycle(row);
                        continue;
                    }
                    if layout.row(&row, sink) == Flow::Stop {
                        return Ok(layout.take_withdrawn());
                    }
                    rows.recycle(row);
                }
                Next::Unclosed {
                    number,
                    column,
                    first,
                    rest_read,
                    before,
                } => {
                    let rest = if rest_read {
                        format!(
                            "; the row was read up to the end of its line and rejected, and the \
                             rows after it (from row {}) were read as rows of their own",
                            number.saturating_add(1)
                        )
                    } else {
                        "; the row was read up to the end of the file and rejected".to_string()
                    };
                    let r = Reject::new(
                        format!("row {number}, column {column}"),
                        format!(
                            "a quoted cell opens here and is never closed (expected a closing \
                             `\"` at the end of the cell; a `\"` inside a quoted cell is written \
                             twice: `\"\"`){rest}"
                        ),
                    );
                    layout.reject_oversized(r, number, &first, false, Some(&before), sink);
                }
                Next::StrayQuote {
                    number,
                    column,
                    first,
                    after,
                    rest_read,
                    before,
                } => {
                    let rest = if rest_read {
                        format!(
                            "; the row is rejected, and the lines after its own (from row {}) \
                             were read as rows of their own",
                            number.saturating_add(1)
                        )
                    } else {
                        "; the row is rejected".to_string()
                    };
                    let r = Reject::new(
                        format!("row {number}, column {column}"),
                        format!(
                            "a quoted cell opens here and is not closed where expected: the `\"` \
                             that ends it is followed by {after:?}, not by the delimiter or the \
                             end of the line: the `\"` at the start of this cell is a stray one that made \
                             the text up to the next `\"` (the opening quote of a later cell) \
                             one cell, or a `\"` inside the value is not written twice{rest}. \
                             Remove the stray `\"` or double it (a `\"` that is part of a value \
                             is written twice, `\"\"`, inside a quoted cell), and send the file \
                             again"
                        ),
                    );
                    layout.reject_oversized(r, number, &first, false, Some(&before), sink);
                }
                Next::TooLarge {
                    number,
                    fatal,
                    first,
                    open_quote,
                } => {
                    let r = match open_quote {
                        Some(column) => Reject::new(
                            format!("row {number}, column {column}"),
                            format!(
                                "a quoted cell opens here and is not closed within {} bytes \
                                 (expected a closing `\"` at the end of the cell; a `\"` inside \
                                 a quoted cell is written twice: `\"\"`); the rest of the file, \
                                 from row {number} on, could not be read and is rejected with it",
                                crate::limits::MAX_RECORD_BYTES
                            ),
                        ),
                        None => {
                            let mut message = format!(
                                "record over the bounds ({} bytes per cell, {} per record, {} \
                                 cells); an unclosed quote?",
                                crate::limits::MAX_FIELD_BYTES,
                                crate::limits::MAX_RECORD_BYTES,
                                crate::limits::MAX_COLUMNS
                            );
                            if fatal {
                                message.push_str(" The rest of the file could not be read.");
                            }
                            Reject::new(format!("row {number}"), message)
                        }
                    };
                    layout.reject_oversized(r, number, &first, fatal, None, sink);
                }
            }
        }
        layout.end(sink);
        Ok(layout.take_withdrawn())
    }
}

/// Words of the note on a file read as UTF-8 because its byte-order mark says so, though its
/// partner's profile names Windows-1252, so the ledger and `gateway partners` can find the
/// documents whose partner may want its `csv.charset` changed.
pub const UTF8_BY_ITS_MARK: &str = "read as UTF-8, as its UTF-8 byte-order mark says";

/// Takes the documents handed over and refused afterwards out of `out`, each rejected at its
/// rows with why (the reject of the row that refused it is in `out` already).
fn withdraw(out: &mut Decoded, withdrawn: Vec<Withdrawn>) {
    if withdrawn.is_empty() {
        return;
    }
    let mut gone = std::collections::HashSet::new();
    for w in &withdrawn {
        gone.insert(w.ordinal);
        out.rejects.push(w.reject());
    }
    let mut ordinal = 0;
    out.documents.retain(|_| {
        ordinal += 1;
        !gone.contains(&(ordinal - 1))
    });
}

/// How the partner writes decimals and dates, for the Coupa layouts too (a column map has
/// its own copy).
fn value_format(profile: &gateway_core::profile::CsvProfile) -> ValueFormat {
    ValueFormat {
        decimal_separator: profile.decimal_separator.unwrap_or('.'),
        date_format: profile.date_format.clone(),
        // Reading sets it once the file's delimiter is known.
        ambiguous_comma: false,
    }
}

/// The layout a file is read with.
#[derive(Debug)]
enum Layout {
    Coupa(Box<CoupaReader>),
    Map(Box<MapReader>),
}

impl Layout {
    fn row(&mut self, row: &Row, sink: &mut dyn FnMut(DecodeItem)) -> Flow {
        match self {
            Layout::Coupa(l) => l.row(row, sink),
            Layout::Map(l) => l.row(row, sink),
        }
    }

    fn end(&mut self, sink: &mut dyn FnMut(DecodeItem)) {
        match self {
            Layout::Coupa(l) => l.end(sink),
            Layout::Map(l) => l.end(sink),
        }
    }

    /// The documents handed over and refused afterwards ([`crate::scattered`]).
    fn take_withdrawn(&mut self) -> Vec<Withdrawn> {
        match self {
            Layout::Coupa(l) => l.take_withdrawn(),
            Layout::Map(l) => l.take_withdrawn(),
        }
    }

    /// Why `row`, which has a cell over several lines, is refused ([`crate::multiline`]).
    fn multiline(&self, row: &Row, delimiter: u8) -> Option<(usize, Reject)> {
        match self {
            Layout::Coupa(l) => l.multiline(row, delimiter),
            Layout::Map(l) => l.multiline(row, delimiter),
        }
    }

    /// A record that could not be read as cells (see [`Next::TooLarge`], [`Next::Unclosed`]),
    /// or was refused for a cell over several lines that looks like swallowed rows;
    /// `before`: its cells that could be read, when some could.
    fn reject_oversized(
        &mut self,
        r: Reject,
        number: u64,
        first: &str,
        fatal: bool,
        before: Option<&Row>,
        sink: &mut dyn FnMut(DecodeItem),
    ) {
        match self {
            Layout::Coupa(l) => l.reject_oversized(r, number, first, fatal, before, sink),
            Layout::Map(l) => l.reject_oversized(r, number, before, sink),
        }
    }
}

impl Encode for CsvCodec {
    fn format(&self) -> Format {
        Format::Csv
    }

    /// Invoices to Coupa's invoice import layout and purchase orders to its PO export layout
    /// (both kinds may share one file), or every document to the partner's column map.
    fn encode(&self, docs: &[Document], partner: &PartnerProfile) -> Result<Vec<u8>, EncodeError> {
        let profile = partner.csv.clone().unwrap_or_default();
        let configured = profile
            .delimiter
            .and_then(|c| u8::try_from(c).ok())
            .filter(u8::is_ascii);
        let delimiter = configured.unwrap_or(b',');
        let bytes = if profile.has_column_map() {
            let map = ColumnMap::from_profile(&profile).map_err(EncodeError::Profile)?;
            encode_map::write(docs, &map, delimiter)?
        } else {
            coupa_layouts(docs, &profile, delimiter)?
        };
        // A reader without a configured delimiter sniffs it from the first line: a header whose
        // column names hold more tabs (or `;`, `|`) than the file has commas would be read with
        // the wrong one. Such a file is refused rather than written unreadable.
        if configured.is_none() && crate::dialect::sniff(&bytes) != delimiter {
            return Err(EncodeError::Invalid {
                path: "$.extensions.csv".into(),
                message: "the column names (kept from the source file) hold more tabs, `;` or `|` than the header has commas, so the file would be read with the wrong delimiter; rename those columns, or set csv.delimiter in the partner profile".into(),
            });
        }
        in_charset(bytes, profile.charset.unwrap_or_default(), delimiter)
    }

    /// What the partner's layout (Coupa's, or its column map) leaves out of `doc`, found by
    /// writing it and reading it back ([`crate::left_out()`]).
    fn left_out(&self, doc: &Document, partner: &PartnerProfile) -> Vec<String> {
        crate::left_out(doc, partner)
    }
}

/// The written file (UTF-8) in the character set the partner reads. A character the set lacks
/// is refused at its row and column, found by reading the file back.
fn in_charset(bytes: Vec<u8>, charset: Charset, delimiter: u8) -> Result<Vec<u8>, EncodeError> {
    if charset == Charset::Utf8 || bytes.is_ascii() {
        return Ok(bytes);
    }
    let text = String::from_utf8_lossy(&bytes);
    let unmappable = match charset.encode(&text) {
        Ok(encoded) => return Ok(encoded.into_owned()),
        Err(e) => e,
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(text.as_bytes());
    let place = reader
        .records()
        .flatten()
        .enumerate()
        .find_map(|(row, record)| {
            let column = record
                .iter()
                .position(|cell| cell.contains(unmappable.character))?;
            let cell = record.get(column).unwrap_or_default();
            Some(format!("row {}, column {} ({cell:?})", row + 1, column + 1))
        })
        .unwrap_or_else(|| "the file".to_string());
    Err(EncodeError::Invalid {
        path: "$".into(),
        message: format!(
            "{place} holds {:?} (U+{:04X}), which Windows-1252, the character set the partner reads (csv.charset in its profile), lacks; change the value, or set charset = \"utf-8\" if the partner reads UTF-8",
            unmappable.character,
            u32::from(unmappable.character)
        ),
    })
}

/// Invoices to the invoice import layout and orders to the PO export layout, in one file.
fn coupa_layouts(
    docs: &[Document],
    profile: &gateway_core::profile::CsvProfile,
    delimiter: u8,
) -> Result<Vec<u8>, EncodeError> {
    let fmt = value_format(profile);
    // The writer asks the reader where a value's line breaks may go ([`crate::multiline`]).
    let table = |style| {
        Table::new(style)
            .with_formula_guard(profile.formula_guard)
            .with_reader(
                delimiter,
                crate::coupa::free_text,
                crate::coupa::is_record_type,
            )
    };
    let mut invoices = table(HeaderStyle::RecordType);
    let mut orders = table(HeaderStyle::TypeWord);
    let mut records = Vec::new();
    // Pass 1 learns each table's columns, pass 2 writes; one document's records at a time.
    let mut w = table::csv_writer(delimiter);
    for write in [false, true] {
        for kind in [DocumentKind::Invoice, DocumentKind::PurchaseOrder] {
            for doc in docs.iter().filter(|d| d.kind() == kind) {
                records.clear();
                let table = match doc {
                    Document::Invoice(i) => {
                        encode_coupa::invoice_records(i, &fmt, &mut records)?;
                        &mut invoices
                    }
                    Document::PurchaseOrder(p) => {
                        encode_coupa::order_records(p, &fmt, &mut records)?;
                        &mut orders
                    }
                };
                if write {
                    table.write(&mut w, &records)?;
                } else {
                    table.learn(&records);
                }
            }
        }
        if !write {
            invoices.settle(&crate::coupa::kept_columns)?;
            orders.settle(&crate::coupa::kept_columns)?;
        }
    }
    table::finish(w)
}
