//! Partner layouts: a file described by the column map in the partner's profile, read as a
//! stream. Rows group into documents by runs of the same key (the document number, or a named
//! key column), or one document per row.

use gateway_core::profile::CsvProfile;
use gateway_core::{DecodeItem, Reject};
use gateway_model::{Document, DocumentKind, Invoice, InvoiceLine, OrderLine, PurchaseOrder};

use crate::cells::Cells;
use crate::coupa::Flow;
use crate::fields::{self, Field, HeadField, LineField, LineMut};
use crate::header::{Header, normalize};
use crate::pending::Pending;
use crate::rows::Row;
use crate::scattered::{Scattered, Withdrawn};
use crate::value::ValueFormat;
use gateway_model::same_number;

/// How rows group (the profile's `grouping`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grouping {
    Repeated,
    Key,
    Row,
}

/// A column map checked against the profile: field paths parsed, nothing resolved yet.
#[derive(Debug, Clone)]
pub struct ColumnMap {
    pub kind: DocumentKind,
    pub has_header: bool,
    pub fmt: ValueFormat,
    pub grouping: Grouping,
    pub key_column: Option<String>,
    /// `(column name or number, field)` in profile order.
    pub columns: Vec<(String, Field)>,
    /// `csv.formula_guard`: cells a spreadsheet would run as formulas are marked when written.
    pub formula_guard: bool,
    /// `csv.currency`: the partner's currency, for documents whose file names none.
    pub currency: Option<gateway_model::Text>,
}

impl ColumnMap {
    /// The map of `profile`, or the reason it is unusable (named by its profile key).
    pub fn from_profile(profile: &CsvProfile) -> Result<Self, String> {
        let kind = profile.kind.unwrap_or(DocumentKind::Invoice);
        if !matches!(kind, DocumentKind::Invoice | DocumentKind::PurchaseOrder) {
            return Err(format!(
                "csv.kind = {kind:?}: CSV column maps describe invoices or purchase orders"
            ));
        }
        let grouping = match profile.grouping.as_str() {
            "key" => Grouping::Key,
            "row" => Grouping::Row,
            _ => Grouping::Repeated,
        };
        if grouping == Grouping::Key && profile.key_column.is_none() {
            return Err("csv.grouping = \"key\" needs csv.key_column".into());
        }
        let mut columns = Vec::new();
        for (i, c) in profile.columns.iter().enumerate() {
            let f = fields::parse(&c.field, kind).map_err(|e| format!("csv.columns[{i}]: {e}"))?;
            columns.push((c.column.clone(), f));
        }
        let fmt = ValueFormat {
            decimal_separator: profile.decimal_separator.unwrap_or('.'),
            date_format: profile.date_format.clone(),
            // Reading sets it once the file's delimiter is known.
            ambiguous_comma: false,
        };
        if let Some(f) = &fmt.date_format
            && chrono::format::StrftimeItems::new(f).any(|i| i == chrono::format::Item::Error)
        {
            return Err(format!("csv.date_format {f:?} is not a chrono date format"));
        }
        let currency = match profile.currency.as_deref().map(str::trim) {
            Some(c) if c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase()) => Some(c.into()),
            Some(c) => {
                return Err(format!(
                    "csv.currency {c:?} is not an ISO 4217 code (three upper-case letters such \
                     as \"EUR\")"
                ));
            }
            None => None,
        };
        Ok(ColumnMap {
            kind,
            has_header: profile.has_header.unwrap_or(true),
            fmt,
            grouping,
            key_column: profile.key_column.clone(),
            columns,
            formula_guard: profile.formula_guard,
            currency,
        })
    }

    /// True when a column holds the document's currency.
    pub fn has_currency_column(&self) -> bool {
        self.columns
            .iter()
            .any(|(_, f)| *f == Field::Head(HeadField::Currency))
    }

    /// Why an invoice read with this map cannot be taken: the map has no `currency` column
    /// and names no currency for the partner, so the invoice would have none, which Coupa
    /// refuses after it was accepted. `None` for orders (one without a currency takes the
    /// receiver's default, as the contract allows and `validate` warns) and for maps that can
    /// say it.
    fn missing_currency(&self) -> Option<&'static str> {
        (self.kind == DocumentKind::Invoice
            && self.currency.is_none()
            && !self.has_currency_column())
        .then_some(
            "the partner's column map (csv.columns in its profile) has no column mapped to \
             `currency`, so the file does not say this invoice's currency, and an invoice \
             without one is refused by Coupa; map the column that holds it to `currency`, or \
             name the partner's currency in csv.currency",
        )
    }

    /// The map's fields placed in a file under `header` (empty without a header row), as the
    /// reader places them: the columns it names that `header` has (all, by number, without a
    /// header row).
    pub fn resolved(&self, header: &Header) -> Vec<(usize, Field)> {
        self.columns
            .iter()
            .filter_map(|(name, f)| self.resolve(name, header).map(|i| (i, f.clone())))
            .collect()
    }

    /// The index a column name (or 1-based number without a header) has in `header`.
    fn resolve(&self, name: &str, header: &Header) -> Option<usize> {
        if self.has_header {
            header.find(&[normalize(name).as_str()])
        } else {
            gateway_core::profile::column_number(name)
        }
    }
}

/// Reader state for one file in a partner layout.
#[derive(Debug)]
pub struct MapReader {
    map: ColumnMap,
    header: Option<Header>,
    resolved: Vec<(usize, Field)>,
    key: Option<usize>,
    current: Option<Pending>,
    current_key: String,
    seen_records: bool,
    /// The columns of an invoice map mapped to `po_number` and to `lines.po_number`.
    po_columns: (Option<usize>, Option<usize>),
    /// What the current invoice's lines said about their POs.
    line_pos: crate::line_po::LinePos,
    /// The columns fields are read from, for every document's places.
    columns: std::sync::Arc<[gateway_core::codec::SourceColumn]>,
    /// The current document's first row, whose document fields the rows after it must not
    /// contradict ([`MapReader::disagreements`]).
    first_row: Option<Row>,
    /// The documents of the file by key, so rows of one that are not together refuse it
    /// whole ([`crate::scattered`]).
    scattered: Scattered,
}

impl MapReader {
    pub fn new(map: ColumnMap) -> Self {
        MapReader {
            map,
            header: None,
            resolved: Vec::new(),
            key: None,
            current: None,
            current_key: String::new(),
            seen_records: false,
            po_columns: (None, None),
            line_pos: crate::line_po::LinePos::default(),
            columns: std::sync::Arc::default(),
            first_row: None,
            scattered: Scattered::default(),
        }
    }

    /// The documents handed over and then refused whole, because rows of theirs came after
    /// other documents' rows ([`crate::scattered`]).
    pub fn take_withdrawn(&mut self) -> Vec<Withdrawn> {
        self.scattered.take_withdrawn()
    }

    /// What the key column is called in messages: `"Rechnungsnr"`.
    fn key_name(&self) -> String {
        match (self.key, &self.header) {
            (Some(k), Some(h)) if self.map.has_header => format!("{:?}", h.written(k)),
            (Some(k), _) => format!("{}", k + 1),
            (None, _) => "key".to_string(),
        }
    }

    /// A run of rows under `key` starts at `row`, but rows under it came before: the document
    /// is refused whole, the one handed over under it withdrawn. The reject for the run, if so.
    fn apart(&mut self, key: &str, row: &Row) -> Option<Reject> {
        if self.map.grouping == Grouping::Row || !self.scattered.seen(key) {
            return None;
        }
        let kind = self.map.kind;
        let column = self.key_name();
        let at = row.number;
        let why = || {
            format!(
                "row {at} has its {column} {key:?} too, after other documents' rows (expected \
                 the rows of one {kind} together)"
            )
        };
        let (before, _) = self.scattered.apart(key, at, why)?;
        Some(Reject::new(
            row.place(),
            format!(
                "the rows with {column} {key:?} are not together: {before} came before, with \
                 other documents' rows between (expected the rows of one {kind} one after \
                 another); the {kind} is refused whole, its rows there included"
            ),
        ))
    }

    /// The cells of `row`, a further row of the current document, that contradict its first
    /// row's document fields (date, currency, total, supplier, ...): each a problem at its
    /// cell naming both rows and values. Such rows would be merged into one document with the
    /// first row's values, the others dropped. A blank cell repeats nothing and contradicts
    /// nothing; the `po_number` column of an invoice is left to [`attach_po`], which reads a
    /// value other than the first row's as the line's own PO. Values compare as read (`5,0`
    /// and `5,00` agree), text as written, but for the document number and the key column:
    /// rows were grouped by those compared as the business key takes them (`QE-B2` and
    /// `qe-b2` are one invoice), so they agree the same way rather than refusing the rows
    /// they grouped.
    fn disagreements(&self, row: &Row, c: &mut Cells<'_>) {
        let (Some(first), Some(header)) = (self.first_row.as_ref(), self.header.as_ref()) else {
            return;
        };
        let kind = self.map.kind;
        for (i, f) in &self.resolved {
            let Field::Head(h) = f else { continue };
            if *h == HeadField::PoNumber {
                continue;
            }
            let (was, now) = (first.get(Some(*i)), row.get(Some(*i)));
            if now.is_empty() || was == now {
                continue;
            }
            if (*h == HeadField::Number || self.key == Some(*i)) && same_number(was, now) {
                continue;
            }
            let read = |r: &Row| {
                let mut doc = empty(kind);
                let mut cells = Cells::new(r, header, &self.map.fmt);
                fields::set_head(&mut doc, h, &mut cells, Some(*i));
                cells.problems.is_empty().then_some(doc)
            };
            let (a, b) = (read(first), read(row));
            if a.is_some() && a == b {
                continue;
            }
            let said = if was.is_empty() {
                "leaves it blank".to_string()
            } else {
                format!("says {was:?}")
            };
            c.problem(
                Some(*i),
                format!(
                    "{now:?}, but row {}, the {kind}'s first row, {said} (expected the same \
                     value on every row of one {kind}, or a blank cell; rows that disagree \
                     would be merged into one {kind} with the first row's value)",
                    first.number
                ),
            );
        }
    }

    fn set_header(&mut self, header: Header) -> Result<(), String> {
        if let Some(why) = header.duplicate(0) {
            return Err(why);
        }
        let mut missing = Vec::new();
        let mut resolved = Vec::new();
        for (name, f) in &self.map.columns {
            match self.map.resolve(name, &header) {
                Some(i) => resolved.push((i, f.clone())),
                None => missing.push(name.as_str()),
            }
        }
        if !missing.is_empty() {
            return Err(format!(
                "column(s) {missing:?} of the partner's column map are not in this file's header \
                 (it has {:?})",
                header.written
            ));
        }
        self.key = match (self.map.grouping, &self.map.key_column) {
            (Grouping::Key, Some(k)) => Some(
                self.map
                    .resolve(k, &header)
                    .ok_or_else(|| format!("key column {k:?} is not in this file's header"))?,
            ),
            _ => resolved
                .iter()
                .find(|(_, f)| *f == Field::Head(HeadField::Number))
                .map(|(i, _)| *i),
        };
        let column_of = |want: &Field| resolved.iter().find(|(_, f)| f == want).map(|(i, _)| *i);
        self.po_columns = (
            column_of(&Field::Head(HeadField::PoNumber)),
            column_of(&Field::Line(LineField::PoNumber)),
        );
        self.columns = crate::source_path::map_columns(self.map.kind, &resolved, &header);
        self.resolved = resolved;
        self.header = Some(header);
        Ok(())
    }

    /// Handles one record.
    pub fn row(&mut self, row: &Row, sink: &mut dyn FnMut(DecodeItem)) -> Flow {
        if row.is_blank() {
            return Flow::Continue;
        }
        if self.header.is_none() {
            let header = if self.map.has_header {
                Header::new(row.cells.iter())
            } else {
                Header::default()
            };
            if let Err(e) = self.set_header(header) {
                sink(DecodeItem::Reject(Reject::new(row.place(), e)));
                return Flow::Stop;
            }
            if self.map.has_header {
                return Flow::Continue;
            }
        }
        self.seen_records = true;
        let key = row.get(self.key).to_string();
        let new_doc = match (&self.current, self.map.grouping) {
            (None, _) | (_, Grouping::Row) => true,
            // Keys compare as the business key takes numbers: `qe-b2` after `QE-B2` is the
            // same document's row, which keeps the first row's number.
            (Some(_), _) => !same_number(&key, &self.current_key),
        };
        if new_doc {
            self.finish(sink);
            let mut p = Pending::new(empty(self.map.kind), row);
            p.set_columns(self.columns.clone());
            if let Some(why) = self.map.missing_currency() {
                p.reject([Reject::new(row.place(), why)]);
            }
            if let Some(r) = self.apart(&key, row) {
                p.reject([r]);
            }
            self.current = Some(p);
            self.current_key = key;
            self.line_pos.reset();
            self.first_row = match self.first_row.take() {
                // The row's cells copied into the buffers of the last one.
                Some(mut first) => {
                    first.number = row.number;
                    first.not_utf8 = row.not_utf8;
                    first.cells.clone_from(&row.cells);
                    Some(first)
                }
                None => Some(row.clone()),
            };
        }
        let (Some(p), Some(header)) = (self.current.as_mut(), self.header.as_ref()) else {
            return Flow::Continue;
        };
        if !new_doc && !p.add_row(row) {
            return Flow::Continue;
        }
        let mut c = Cells::new(row, header, &self.map.fmt);
        if !new_doc {
            self.disagreements(row, &mut c);
        }
        let Some(p) = self.current.as_mut() else {
            return Flow::Continue;
        };
        if new_doc {
            for (i, f) in &self.resolved {
                if let Field::Head(h) = f {
                    fields::set_head(&mut p.doc, h, &mut c, Some(*i));
                }
            }
            if let Some(fixed) = &self.map.currency {
                let currency = match &mut p.doc {
                    Document::Invoice(x) => &mut x.currency,
                    Document::PurchaseOrder(x) => &mut x.currency,
                };
                currency.get_or_insert_with(|| fixed.clone());
            }
        }
        let has_line = self
            .resolved
            .iter()
            .any(|(i, f)| matches!(f, Field::Line(_)) && !row.get(Some(*i)).is_empty());
        if has_line {
            add_line(&mut p.doc, &self.resolved, &mut c);
            p.line_at(row);
            if let Document::Invoice(inv) = &mut p.doc {
                attach_po(&mut self.line_pos, self.po_columns, inv, &mut c);
            }
        }
        p.reject(c.problems);
        Flow::Continue
    }

    /// Ends the input: the last document is handed over; a file without any record says so.
    pub fn end(&mut self, sink: &mut dyn FnMut(DecodeItem)) {
        self.finish(sink);
        if !self.seen_records {
            sink(DecodeItem::Reject(Reject::new(
                "file",
                "no records: the file is empty or holds a header row only",
            )));
        }
    }

    /// Ends the current document: it is handed over, and remembered under its key.
    pub fn finish(&mut self, sink: &mut dyn FnMut(DecodeItem)) {
        if let Some(p) = self.current.take() {
            let (rows, label) = (p.rows(), p.label());
            let handed = p.finish(sink);
            // Under `grouping = "row"` every row is a document: no key groups rows.
            let key = match self.map.grouping {
                Grouping::Row => "",
                _ => self.current_key.as_str(),
            };
            self.scattered.finished(key, rows, handed, &label);
        }
    }

    /// A record that could not be read (over-long, or a quoted cell never closed) rejects the
    /// document it falls in. Which one that is, the cells read before the bad one (`before`)
    /// tell when they hold the key: another key than the current document's starts a document
    /// of its own, rejected, which the rows after it with that key join; so does every such
    /// record under `grouping = "row"`. Otherwise the current document takes it.
    pub fn reject_oversized(
        &mut self,
        r: Reject,
        number: u64,
        before: Option<&Row>,
        sink: &mut dyn FnMut(DecodeItem),
    ) {
        let key = before.and_then(|row| {
            self.key
                .filter(|k| *k < row.cells.len())
                .map(|k| row.get(Some(k)).to_string())
        });
        let own = self.header.is_some()
            && match (self.map.grouping, &key) {
                (Grouping::Row, _) => true,
                (_, Some(key)) => self.current.is_none() || !same_number(key, &self.current_key),
                (_, None) => false,
            };
        if !own {
            match self.current.as_mut() {
                Some(p) => p.reject([r]),
                None => sink(DecodeItem::Reject(r)),
            }
            return;
        }
        self.finish(sink);
        self.seen_records = true;
        self.first_row = None;
        let mut doc = empty(self.map.kind);
        // The document's number, when the cells read hold it, names it in the reject.
        if let (Some(row), Some(header)) = (before, self.header.as_ref()) {
            let mut c = Cells::new(row, header, &self.map.fmt);
            for (i, f) in &self.resolved {
                if *f == Field::Head(HeadField::Number) && *i < row.cells.len() {
                    fields::set_head(&mut doc, &HeadField::Number, &mut c, Some(*i));
                }
            }
        }
        let mut p = Pending::at(doc, number);
        p.reject([r]);
        let key = key.unwrap_or_default();
        // Its key came before: the document handed over under it is refused too.
        if let Some(before) = before
            && let Some(apart) = self.apart(&key, before)
        {
            p.reject([apart]);
        }
        self.current = Some(p);
        self.current_key = key;
    }
}

/// A document of `kind` with nothing read into it yet.
fn empty(kind: DocumentKind) -> Document {
    match kind {
        DocumentKind::PurchaseOrder => Document::PurchaseOrder(PurchaseOrder::default()),
        _ => Document::Invoice(Invoice::default()),
    }
}

/// The PO of the invoice line just read from `c`'s row ([`crate::line_po`]). A
/// `lines.po_number` column speaks for the line, a blank cell saying it bills no PO, which
/// beside lines naming one is refused at that cell; the invoice's PO is its `po_number`
/// column's on the first row, else the first line's naming one. Without one, the `po_number`
/// column does on every row: a cell naming another PO than the first row's is the line's own,
/// and a blank one repeats nothing (as for every document field), so the line bills the
/// invoice's.
fn attach_po(
    line_pos: &mut crate::line_po::LinePos,
    (head, line): (Option<usize>, Option<usize>),
    inv: &mut Invoice,
    c: &mut Cells<'_>,
) {
    let (row, header) = (c.row, c.header);
    match (line, head) {
        (Some(i), _) => {
            let place = || crate::cells::location(row, header, Some(i));
            line_pos.attach(
                inv,
                row.get(Some(i)),
                head.is_none(),
                place,
                &mut c.problems,
            );
        }
        (None, Some(i)) => {
            let cell = row.get(Some(i));
            if !cell.is_empty() {
                line_pos.attach(inv, cell, false, String::new, &mut c.problems);
            }
        }
        (None, None) => {}
    }
}

fn add_line(doc: &mut Document, resolved: &[(usize, Field)], c: &mut Cells<'_>) {
    let read = |line: &mut LineMut<'_>, c: &mut Cells<'_>| {
        for (i, f) in resolved {
            if let Field::Line(lf) = f {
                fields::set_line(line, lf, c, Some(*i));
            }
        }
    };
    match doc {
        Document::Invoice(inv) => {
            let ordinal = u32::try_from(inv.lines.len() + 1).unwrap_or(u32::MAX);
            let mut l = InvoiceLine {
                line_number: ordinal,
                ..InvoiceLine::default()
            };
            read(&mut LineMut::Invoice(&mut l), c);
            if l.amount.is_none()
                && let (Some(q), Some(p)) = (l.quantity, l.unit_price)
            {
                l.amount = q.checked_mul(p);
            }
            inv.lines.push(l);
        }
        Document::PurchaseOrder(po) => {
            let ordinal = u32::try_from(po.lines.len() + 1).unwrap_or(u32::MAX);
            let mut l = OrderLine {
                line_number: ordinal,
                ..OrderLine::default()
            };
            read(&mut LineMut::Order(&mut l), c);
            if l.amount.is_none()
                && let (Some(q), Some(p)) = (l.quantity, l.unit_price)
            {
                l.amount = q.checked_mul(p);
            }
            po.lines.push(l);
        }
    }
}

impl MapReader {
    /// Why `row`, which has a cell over several lines, is refused, at that cell (its 0-based
    /// column); `None` when its cells over several lines are text ([`crate::multiline`]): in a
    /// column the map reads as a description, comment or address line, not holding what looks
    /// like rows of the file (at least as many delimiters as the header row names columns,
    /// less one; without a header row, as reach the map's last column).
    pub fn multiline(&self, row: &Row, delimiter: u8) -> Option<(usize, Reject)> {
        let header_row = self.header.is_none() && self.map.has_header;
        // Without a header row, the first record is judged before it places the columns.
        let placed;
        let resolved = match self.header {
            None if !self.map.has_header => {
                placed = self.map.resolved(&Header::default());
                &placed
            }
            _ => &self.resolved,
        };
        let (free_text, columns) = if header_row {
            (crate::multiline::FreeText::Any, row.cells.len())
        } else {
            let columns = match (&self.header, self.map.has_header) {
                (Some(h), true) => h.named_width(),
                _ => resolved.iter().map(|(i, _)| i + 1).max().unwrap_or(0),
            };
            (
                crate::multiline::FreeText::Columns(free_text_columns(resolved)),
                columns,
            )
        };
        crate::multiline::Judge {
            delimiter,
            header: self.header.as_ref().filter(|_| self.map.has_header),
            free_text,
            row_columns: &|_| columns,
            typed: &|_| false,
        }
        .refused(row)
    }
}

/// The columns (0-based, as `resolved` places the map's fields) a map reads only as free text,
/// which may hold several lines: descriptions, comments, address lines. The reader judges
/// cells by it ([`crate::multiline`]) and the writer writes line breaks only where it says
/// ([`crate::encode_map`]).
pub fn free_text_columns(resolved: &[(usize, Field)]) -> Vec<usize> {
    let free = |f: &Field| {
        matches!(
            f,
            Field::Line(LineField::Description)
                | Field::Head(
                    HeadField::Comments
                        | HeadField::TermsDescription
                        | HeadField::Party(_, fields::PartyField::Line)
                )
        )
    };
    // A column mapped twice is free text only when no mapping reads it as a value.
    resolved
        .iter()
        .filter(|(_, f)| free(f))
        .map(|(i, _)| *i)
        .filter(|i| {
            resolved
                .iter()
                .all(|(j, f)| j != i || free(f) || *f == Field::Ignore)
        })
        .collect()
}
