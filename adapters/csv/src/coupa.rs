//! The Coupa layouts, read as a stream: record types in the first column, header rows that
//! name the columns of the records after them, and documents assembled from runs of records.
//!
//! Header rows come in two spellings, both accepted: a row whose first cell is `type` (the PO
//! export; it names the columns of the next record type that follows it, and of any other type
//! that has no header of its own), or a row whose first cell is a record type and whose cells
//! name that type's columns (`Invoice,Invoice Number*,Supplier Name,...`).

use std::sync::Arc;

use gateway_core::codec::SourceColumn;
use gateway_core::{DecodeItem, Reject};
use gateway_model::{Document, PurchaseOrder};

use crate::cells::Cells;
use crate::coupa_invoice::{ChargeCols, EXT, InvoiceCols, LineCols};
use crate::coupa_po::{PoCols, PoLineCols};
use crate::header::{Header, is_name_filler, is_named};
use crate::multiline::{FreeText, Judge};
use crate::parties::PartyCols;
use crate::pending::Pending;
use crate::rows::Row;
use crate::scattered::{Scattered, Withdrawn};
use crate::value::ValueFormat;

/// The columns a layout's fields are read from, shared by its documents.
type ColumnList = Arc<[SourceColumn]>;

/// The record types of both layouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordType {
    Invoice,
    InvoiceLine,
    InvoiceCharge,
    /// `Account Allocation`: kept in the invoice's extensions (`csv_records`).
    Allocation,
    /// `Tag`: kept in the invoice's extensions (`csv_records`).
    Tag,
    PoHeader,
    PoLine,
}

impl RecordType {
    /// The record type named by a first cell.
    pub fn of(cell: &str) -> Option<Self> {
        const NAMES: [(&str, RecordType); 15] = [
            ("invoiceline", RecordType::InvoiceLine),
            ("invoice", RecordType::Invoice),
            ("invoicecharge", RecordType::InvoiceCharge),
            ("invoiceheader", RecordType::Invoice),
            ("line", RecordType::PoLine),
            ("header", RecordType::PoHeader),
            ("orderheader", RecordType::PoHeader),
            ("orderline", RecordType::PoLine),
            ("accountallocation", RecordType::Allocation),
            ("purchaseorder", RecordType::PoHeader),
            ("purchaseorderheader", RecordType::PoHeader),
            ("poheader", RecordType::PoHeader),
            ("purchaseorderline", RecordType::PoLine),
            ("poline", RecordType::PoLine),
            ("orderlines", RecordType::PoLine),
        ];
        // The spellings Coupa writes, before the tolerant comparison.
        match cell {
            "Invoice Line" => return Some(RecordType::InvoiceLine),
            "Invoice" => return Some(RecordType::Invoice),
            "Invoice Charge" => return Some(RecordType::InvoiceCharge),
            "Line" => return Some(RecordType::PoLine),
            "Header" => return Some(RecordType::PoHeader),
            _ => {}
        }
        if is_named(cell, "tag") {
            return Some(RecordType::Tag);
        }
        NAMES
            .iter()
            .find(|(n, _)| is_named(cell, n))
            .map(|(_, t)| *t)
    }

    /// Column names that only a header row of this type would hold.
    fn header_marks(self) -> &'static [&'static str] {
        match self {
            RecordType::Invoice
            | RecordType::InvoiceLine
            | RecordType::InvoiceCharge
            | RecordType::Allocation
            | RecordType::Tag => &["invoicenumber"],
            RecordType::PoHeader => &["id", "ponumber"],
            RecordType::PoLine => &["linenumber"],
        }
    }
}

/// The columns of `h` (a header row of `kind` records, first cell included) that a reader
/// keeps in extensions rather than mapping to a field; `None` for record types whose columns
/// it keeps by name whatever they are, or that keep none. The writer checks what it writes
/// against this ([`crate::table::Table::settle`]), so a round trip reads the same columns.
pub fn kept_columns(kind: &str, h: &Header) -> Option<Vec<usize>> {
    match RecordType::of(kind)? {
        RecordType::Invoice => Some(InvoiceCols::new(h).extras),
        RecordType::InvoiceLine => Some(LineCols::new(h).extras),
        RecordType::PoHeader => Some(PoCols::new(h).extras),
        RecordType::PoLine => Some(PoLineCols::new(h).extras),
        RecordType::InvoiceCharge | RecordType::Allocation | RecordType::Tag => None,
    }
}

/// The columns of `h` (a header row of `kind` records, first cell included) a reader takes
/// over several lines ([`crate::multiline`]): the same answer the reader gives, so the writer
/// writes line breaks only where they are read back ([`crate::table::Table::write`]).
pub fn free_text(kind: &str, h: &Header) -> Vec<usize> {
    RecordType::of(kind).map_or_else(Vec::new, |k| free_text_columns(k, h))
}

/// True when `first` (a line's first cell) names a record type of Coupa's layouts: a line of
/// a cell beginning so, with a few delimiters, is taken for a swallowed row
/// ([`crate::multiline::Judge::typed`]).
pub fn is_record_type(first: &str) -> bool {
    RecordType::of(first.trim()).is_some()
}

/// True when `row`, whose first cell names `kind`, is a header row of `kind` records: a cell
/// after the first names a column only such a header row holds.
fn names_columns_of(kind: RecordType, row: &Row) -> bool {
    let marks = kind.header_marks();
    // A cheap first test before `is_named`: the first byte `is_named` would compare must
    // be a mark's first letter (a non-ASCII one is left to `is_named`).
    let could_be_mark = |c: &str| {
        c.len() <= 24
            && match c.bytes().find(|b| !is_name_filler(*b)) {
                Some(b) if b.is_ascii() => {
                    let b = b.to_ascii_lowercase();
                    marks.iter().any(|m| m.as_bytes().first() == Some(&b))
                }
                Some(_) => true,
                None => false,
            }
    };
    row.cells
        .iter()
        .skip(1)
        .any(|c| could_be_mark(c) && marks.iter().any(|m| is_named(c, m)))
}

fn is_generic_header(first: &str) -> bool {
    if !first
        .trim_start()
        .as_bytes()
        .first()
        .is_some_and(|b| matches!(b.to_ascii_lowercase(), b't' | b'r'))
    {
        return false;
    }
    ["type", "recordtype", "rowtype"]
        .iter()
        .any(|t| is_named(first, t))
}

/// Extension key holding the invoice records the model has no place for.
pub const OTHER_RECORDS: &str = "csv_records";
/// Record type names as written back.
pub const OTHER_ALLOCATION: &str = "Account Allocation";
pub const OTHER_TAG: &str = "Tag";

/// Whether the rest of the stream is worth reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Continue,
    Stop,
}

/// Reader state for the Coupa layouts.
#[derive(Debug, Default)]
pub struct CoupaReader {
    fmt: ValueFormat,
    pending_header: Option<Header>,
    fallback: Option<Header>,
    invoice: Option<(Header, InvoiceCols)>,
    line: Option<(Header, LineCols)>,
    charge: Option<(Header, ChargeCols)>,
    allocation: Option<Header>,
    tag: Option<Header>,
    po: Option<(Header, PoCols)>,
    po_line: Option<(Header, PoLineCols)>,
    current: Option<Pending>,
    /// Coupa's `id` of the current order, which its lines name in `order-header-id`.
    current_po_id: Option<gateway_model::Text>,
    /// The orders of the current run of header records read before `current`, with their
    /// ids, waiting for their lines: an export may write its header records together and the
    /// lines after them, each line naming its order in `order-header-id`.
    waiting: Vec<(Option<gateway_model::Text>, Pending)>,
    /// A `Line` record was read since the current run of order headers began; the next header
    /// record starts a new run.
    lines_seen: bool,
    /// What the current invoice's lines said about their POs.
    line_pos: crate::line_po::LinePos,
    /// The columns invoices' and orders' fields are read from under the header rows bound
    /// now, made when a document needs them and dropped when a header row binds
    /// ([`crate::source_path`]).
    columns: Option<(ColumnList, ColumnList)>,
    seen_structure: bool,
    seen_records: bool,
    /// The invoices of the file by number, so a row of one away from its others refuses it
    /// whole ([`crate::scattered`]).
    scattered: Scattered,
}

impl CoupaReader {
    /// A reader for files whose numbers and dates are written as `fmt` says.
    pub fn new(fmt: ValueFormat) -> Self {
        CoupaReader {
            fmt,
            ..CoupaReader::default()
        }
    }

    fn bind(&mut self, kind: RecordType, h: Header) {
        self.columns = None;
        match kind {
            RecordType::Invoice => {
                let c = InvoiceCols::new(&h);
                self.invoice = Some((h, c));
            }
            RecordType::InvoiceLine => {
                let c = LineCols::new(&h);
                self.line = Some((h, c));
            }
            RecordType::InvoiceCharge => {
                let c = ChargeCols::new(&h);
                self.charge = Some((h, c));
            }
            RecordType::Allocation => self.allocation = Some(h),
            RecordType::Tag => self.tag = Some(h),
            RecordType::PoHeader => {
                let c = PoCols::new(&h);
                self.po = Some((h, c));
            }
            RecordType::PoLine => {
                let c = PoLineCols::new(&h);
                self.po_line = Some((h, c));
            }
        }
    }

    fn is_bound(&self, kind: RecordType) -> bool {
        match kind {
            RecordType::Invoice => self.invoice.is_some(),
            RecordType::InvoiceLine => self.line.is_some(),
            RecordType::InvoiceCharge => self.charge.is_some(),
            RecordType::Allocation => self.allocation.is_some(),
            RecordType::Tag => self.tag.is_some(),
            RecordType::PoHeader => self.po.is_some(),
            RecordType::PoLine => self.po_line.is_some(),
        }
    }

    /// Handles one record.
    pub fn row(&mut self, row: &Row, sink: &mut dyn FnMut(DecodeItem)) -> Flow {
        if row.is_blank() {
            return Flow::Continue;
        }
        let first = row.get(Some(0));
        if is_generic_header(first) {
            let header = Header::new(row.cells.iter()).at(row.number);
            if let Some(why) = header.duplicate(1) {
                return self.refuse_header(row, why, sink);
            }
            self.pending_header = Some(header);
            self.seen_structure = true;
            return Flow::Continue;
        }
        let Some(kind) = RecordType::of(first) else {
            if !self.seen_structure {
                sink(DecodeItem::Reject(Reject::new(
                    row.place(),
                    "not a Coupa invoice import or PO export file: the first column should be a \
                     record type (Invoice, Invoice Line, Invoice Charge, Header, Line) or the \
                     header `type`; for a partner's own layout, give the partner profile a CSV \
                     column map",
                )));
                return Flow::Stop;
            }
            self.reject_row(
                row,
                Reject::new(
                    format!("{}, column 1", row.place()),
                    format!(
                        "{first:?} (expected a record type: Invoice, Invoice Line, Invoice Charge, \
                         Account Allocation, Tag, Header or Line)"
                    ),
                ),
                sink,
            );
            return Flow::Continue;
        };
        if names_columns_of(kind, row) {
            let header = Header::new(row.cells.iter()).at(row.number);
            if let Some(why) = header.duplicate(1) {
                return self.refuse_header(row, why, sink);
            }
            self.bind(kind, header);
            self.seen_structure = true;
            return Flow::Continue;
        }
        self.seen_structure = true;
        self.seen_records = true;
        if let Some(h) = self.pending_header.take() {
            self.fallback = Some(h.clone());
            self.bind(kind, h);
        } else if !self.is_bound(kind)
            && let Some(h) = self.fallback.clone()
        {
            self.bind(kind, h);
        }
        if !self.is_bound(kind) {
            if matches!(kind, RecordType::Invoice | RecordType::PoHeader) {
                self.finish(sink);
            }
            sink(DecodeItem::Reject(Reject::new(
                row.place(),
                format!(
                    "{first:?} record with no header row before it (expected a row naming the \
                     columns: `type,...` or `{first},...`)"
                ),
            )));
            return Flow::Continue;
        }
        match kind {
            RecordType::Invoice => self.invoice_row(row, sink),
            RecordType::InvoiceLine => self.invoice_line_row(row, sink),
            RecordType::InvoiceCharge => self.charge_row(row, sink),
            RecordType::Allocation | RecordType::Tag => self.other_row(kind, row, sink),
            RecordType::PoHeader => return self.po_row(row, sink),
            RecordType::PoLine => self.po_line_row(row, sink),
        }
        Flow::Continue
    }

    /// Ends the input: the last document is handed over; a file without any record says so.
    pub fn end(&mut self, sink: &mut dyn FnMut(DecodeItem)) {
        self.finish(sink);
        if !self.seen_records {
            sink(DecodeItem::Reject(Reject::new(
                "file",
                "no records: the file is empty or holds header rows only",
            )));
        }
    }

    /// Ends the current document, and the orders of its run of header records: they are
    /// handed over in the order of their header records. An order left without lines while
    /// the lines after its run went to the others says so.
    pub fn finish(&mut self, sink: &mut dyn FnMut(DecodeItem)) {
        let current = self.current.take().map(|p| (self.current_po_id.take(), p));
        let lines_seen = std::mem::take(&mut self.lines_seen);
        if current.is_none() && self.waiting.is_empty() {
            return;
        }
        let (invoice_columns, order_columns) = self.columns();
        let several = !self.waiting.is_empty();
        for (id, mut p) in self.waiting.drain(..).chain(current) {
            p.set_columns(match p.doc {
                Document::Invoice(_) => invoice_columns.clone(),
                Document::PurchaseOrder(_) => order_columns.clone(),
            });
            if several
                && lines_seen
                && !p.is_rejected()
                && let Document::PurchaseOrder(po) = &p.doc
                && po.lines.is_empty()
            {
                let named = id.as_deref().map_or_else(
                    || "it has no id".to_string(),
                    |id| format!("no Line record names its id {id:?} in order-header-id"),
                );
                p.note(format!(
                    "this order has no lines: {named}, while the Line records after its run of \
                     header records went to the other orders of that run"
                ));
            }
            // Invoices are remembered by number; orders are only counted.
            let key = match &p.doc {
                Document::Invoice(i) => i.invoice_number.clone().unwrap_or_default(),
                Document::PurchaseOrder(_) => gateway_model::Text::default(),
            };
            let rows = p.rows();
            let handed = p.finish(sink);
            // An invoice's rejects call it by its number, its key (a blank one is not kept).
            self.scattered.finished(&key, rows, handed, &key);
        }
    }

    /// The invoices handed over and then refused whole, because a row of theirs came after
    /// other documents' rows ([`crate::scattered`]).
    pub fn take_withdrawn(&mut self) -> Vec<Withdrawn> {
        self.scattered.take_withdrawn()
    }

    /// The columns of invoices and of orders under the header rows bound now.
    fn columns(&mut self) -> (ColumnList, ColumnList) {
        let (invoice, order) = self.columns.get_or_insert_with(|| {
            (
                crate::source_path::invoice_columns(
                    self.invoice.as_ref(),
                    self.line.as_ref(),
                    self.charge.as_ref(),
                ),
                crate::source_path::order_columns(self.po.as_ref(), self.po_line.as_ref()),
            )
        });
        (invoice.clone(), order.clone())
    }

    /// Every document still open (the current one and the orders waiting for their lines).
    fn open_documents(&mut self) -> impl Iterator<Item = &mut Pending> {
        self.waiting
            .iter_mut()
            .map(|(_, p)| p)
            .chain(self.current.as_mut())
    }

    /// True while order header records follow one another: the orders read so far wait for
    /// lines that name them.
    fn in_header_run(&self) -> bool {
        !self.lines_seen
            && matches!(
                self.current.as_ref().map(|p| &p.doc),
                Some(Document::PurchaseOrder(_))
            )
    }

    /// A bad row: it rejects the document it belongs to (the current one), or stands alone.
    /// A header row that cannot be used: the document being read is finished, the reason is
    /// a reject at that row, and reading stops (the rows after it would be read by a guess).
    fn refuse_header(&mut self, row: &Row, why: String, sink: &mut dyn FnMut(DecodeItem)) -> Flow {
        self.finish(sink);
        sink(DecodeItem::Reject(Reject::new(
            row.place(),
            format!("{why}; the rows after it were not read"),
        )));
        Flow::Stop
    }

    fn reject_row(&mut self, row: &Row, r: Reject, sink: &mut dyn FnMut(DecodeItem)) {
        match self.current.as_mut() {
            Some(p) => {
                p.add_row(row);
                p.reject([r]);
            }
            None => sink(DecodeItem::Reject(r)),
        }
    }

    fn invoice_row(&mut self, row: &Row, sink: &mut dyn FnMut(DecodeItem)) {
        self.finish(sink);
        let Some((h, cols)) = &self.invoice else {
            return;
        };
        let mut c = Cells::new(row, h, &self.fmt).against_header();
        let inv = cols.read(&mut c);
        self.line_pos.reset();
        let number = inv.invoice_number.clone().unwrap_or_default();
        let mut p = Pending::new(Document::Invoice(inv), row);
        p.absorb(c);
        // Rows under this number came before, with other rows between or an Invoice row of
        // their own: the invoice is refused whole, the rows before included.
        if self.scattered.seen(&number) {
            let at = row.number;
            let why = || {
                format!(
                    "row {at} is another Invoice row for it, further on (expected one Invoice \
                     row per invoice, its lines and charges right after it)"
                )
            };
            if let Some((before, _)) = self.scattered.apart(&number, at, why) {
                p.reject([Reject::new(
                    row.place(),
                    format!(
                        "invoice {number:?} came before, at {before} (expected the rows of one \
                         invoice together: its Invoice row, then its lines and charges); its \
                         rows here and there are refused, the whole invoice with them"
                    ),
                )]);
            }
        }
        self.current = Some(p);
    }

    /// The current invoice when `row` (naming `number`) belongs to it; else the row is
    /// rejected on its own and `None` comes back. Numbers compare as the business key takes
    /// them ([`gateway_model::same_number`]): a line `f4-a` under the Invoice row `F4-A` is
    /// that invoice's, which keeps the number as its Invoice row writes it; compared exactly,
    /// the line would be refused and the invoice delivered short of it.
    fn invoice_for(
        &mut self,
        row: &Row,
        number: &str,
        what: &str,
        sink: &mut dyn FnMut(DecodeItem),
    ) -> Option<&mut Pending> {
        let current_number = match self.current.as_ref().map(|p| &p.doc) {
            Some(Document::Invoice(i)) => Some(i.invoice_number.as_deref().unwrap_or_default()),
            _ => None,
        };
        let problem = match &current_number {
            None => Some(format!(
                "{what} row with no Invoice row before it (an invoice's Invoice row comes first, \
                 then its lines and charges)"
            )),
            Some(n) if !number.is_empty() && !gateway_model::same_number(n, number) => {
                Some(format!(
                    "{what} row for invoice {number:?} follows invoice {n:?} (expected the rows \
                     of one invoice together, its Invoice row first)"
                ))
            }
            Some(_) => None,
        };
        if let Some(mut message) = problem {
            // The invoice the row names is refused whole: handed over already, it is
            // withdrawn; still to come, it is refused when it starts.
            let at = row.number;
            let after = current_number.map(str::to_string);
            let why = || match &after {
                Some(n) => format!(
                    "its {what} row {at} comes after invoice {n:?} and was refused (expected \
                     the rows of one invoice together, its Invoice row first)"
                ),
                None => format!(
                    "its {what} row {at} has no Invoice row before it and was refused (expected \
                     the rows of one invoice together, its Invoice row first)"
                ),
            };
            match self.scattered.apart(number, at, why) {
                Some((before, true)) => message.push_str(&format!(
                    "; invoice {number:?}, at {before}, is refused whole with this row"
                )),
                Some((before, false)) => message.push_str(&format!(
                    "; invoice {number:?}, at {before}, is refused with this row"
                )),
                None if !number.is_empty() => message.push_str(&format!(
                    "; an invoice {number:?} further on is refused with this row"
                )),
                None => {}
            }
            let mut r = Reject::new(row.place(), message);
            r.document = (!number.is_empty()).then(|| number.to_string());
            sink(DecodeItem::Reject(r));
            return None;
        }
        let p = self.current.as_mut()?;
        p.add_row(row).then_some(p)
    }

    fn invoice_line_row(&mut self, row: &Row, sink: &mut dyn FnMut(DecodeItem)) {
        // Borrowed from the row: only the column index comes from `self`.
        let number = match &self.line {
            Some((_, cols)) => row.get(cols.invoice_number),
            None => return,
        };
        if self
            .invoice_for(row, number, "Invoice Line", sink)
            .is_none()
        {
            return;
        }
        let (Some((h, cols)), Some(p)) = (&self.line, self.current.as_mut()) else {
            return;
        };
        let Document::Invoice(inv) = &mut p.doc else {
            return;
        };
        let mut c = Cells::new(row, h, &self.fmt).against_header();
        let ordinal = u32::try_from(inv.lines.len() + 1).unwrap_or(u32::MAX);
        let (line, po) = cols.read(&mut c, ordinal);
        inv.lines.push(line);
        if cols.po_number.is_some() {
            // The invoice's PO is the Invoice record's, else the first line's naming one.
            let (row, h) = (c.row, c.header);
            let place = || crate::cells::location(row, h, cols.po_number);
            self.line_pos.attach(inv, po, true, place, &mut c.problems);
        }
        p.line_at(row);
        p.absorb(c);
    }

    fn charge_row(&mut self, row: &Row, sink: &mut dyn FnMut(DecodeItem)) {
        let number = match &self.charge {
            Some((_, cols)) => row.get(cols.invoice_number),
            None => return,
        };
        if self
            .invoice_for(row, number, "Invoice Charge", sink)
            .is_none()
        {
            return;
        }
        let (Some((h, cols)), Some(p)) = (&self.charge, self.current.as_mut()) else {
            return;
        };
        let Document::Invoice(inv) = &mut p.doc else {
            return;
        };
        let mut c = Cells::new(row, h, &self.fmt).against_header();
        if let Some(ch) = cols.read(&mut c) {
            inv.charges.push(ch);
        }
        p.charge_at(row);
        p.absorb(c);
    }

    /// An invoice record the model has no place for (`Account Allocation`, `Tag`): kept,
    /// cell by cell, in the invoice's `extensions.csv_records` so encoding writes it back.
    fn other_row(&mut self, kind: RecordType, row: &Row, sink: &mut dyn FnMut(DecodeItem)) {
        let number = {
            let h = match kind {
                RecordType::Tag => &self.tag,
                _ => &self.allocation,
            };
            let Some(h) = h else { return };
            row.get(h.find(&["invoicenumber"])).to_string()
        };
        let what = match kind {
            RecordType::Tag => OTHER_TAG,
            _ => OTHER_ALLOCATION,
        };
        if self.invoice_for(row, &number, what, sink).is_none() {
            return;
        }
        let h = match kind {
            RecordType::Tag => &self.tag,
            _ => &self.allocation,
        };
        let (Some(h), Some(p)) = (h, self.current.as_mut()) else {
            return;
        };
        let mut record = serde_json::Map::new();
        record.insert("type".into(), serde_json::Value::String(what.into()));
        for (i, v) in row.cells.iter().enumerate().skip(1) {
            let v = v.trim();
            if !v.is_empty() {
                record.insert(h.written(i), serde_json::Value::String(v.into()));
            }
        }
        let slot = p
            .doc
            .extensions_mut()
            .entry(OTHER_RECORDS.to_string())
            .or_insert_with(|| serde_json::Value::Array(Vec::new()));
        if let serde_json::Value::Array(a) = slot {
            a.push(serde_json::Value::Object(record));
        }
    }

    /// An order header record. While header records follow one another, the orders before it
    /// stay open for the lines that name them.
    fn po_row(&mut self, row: &Row, sink: &mut dyn FnMut(DecodeItem)) -> Flow {
        if self.in_header_run() {
            if self.waiting.len() + 1 >= MAX_WAITING_ORDERS {
                return self.too_many_waiting(row, sink);
            }
            if let Some(p) = self.current.take() {
                self.waiting.push((self.current_po_id.take(), p));
            }
        } else {
            self.finish(sink);
        }
        let Some((h, cols)) = &self.po else {
            return Flow::Continue;
        };
        let mut c = Cells::new(row, h, &self.fmt).against_header();
        let po = cols.read(&mut c);
        self.current_po_id = cols.header_id(&c);
        let mut p = Pending::new(Document::PurchaseOrder(po), row);
        p.absorb(c);
        self.current = Some(p);
        Flow::Continue
    }

    /// More orders wait for their lines than are held: they are rejected, and so is the rest
    /// of the file (its lines would have no order to go to).
    fn too_many_waiting(&mut self, row: &Row, sink: &mut dyn FnMut(DecodeItem)) -> Flow {
        let r = Reject::new(
            row.place(),
            format!(
                "more than {MAX_WAITING_ORDERS} order header records before their Line records \
                 (expected at most {MAX_WAITING_ORDERS} orders' headers together, or each \
                 order's lines after its header); split the file; the rows after it were not read"
            ),
        );
        for p in self.open_documents() {
            p.reject([r.clone()]);
        }
        self.finish(sink);
        sink(DecodeItem::Reject(r));
        Flow::Stop
    }

    /// A `Line` record: it goes to the open order whose id it names in `order-header-id`, or,
    /// without one, to the order whose header it follows.
    fn po_line_row(&mut self, row: &Row, sink: &mut dyn FnMut(DecodeItem)) {
        let is_po = matches!(
            self.current.as_ref().map(|p| &p.doc),
            Some(Document::PurchaseOrder(_))
        );
        if !is_po {
            sink(DecodeItem::Reject(Reject::new(
                row.place(),
                "Line row with no order header row before it (an order's header record comes \
                 first, then its lines)",
            )));
            return;
        }
        self.lines_seen = true;
        let Some((h, cols)) = &self.po_line else {
            return;
        };
        let named = row.get(cols.header_id);
        let has_id = |id: &Option<gateway_model::Text>| id.as_deref() == Some(named);
        // The order it names. Without a name, or when no open order has an id to compare, the
        // line goes to the order it follows; so does a line naming an id no open order has,
        // which it then rejects.
        let owner = if named.is_empty() || has_id(&self.current_po_id) {
            Owner::Current
        } else if let Some(i) = self.waiting.iter().position(|(id, _)| has_id(id)) {
            Owner::Waiting(i)
        } else if self.current_po_id.is_none() && self.waiting.iter().all(|(id, _)| id.is_none()) {
            Owner::Current
        } else {
            Owner::Unknown(self.open_ids())
        };
        let target = match &owner {
            Owner::Waiting(i) => self.waiting.get_mut(*i).map(|(_, p)| p),
            Owner::Current | Owner::Unknown(_) => self.current.as_mut(),
        };
        let Some(p) = target else { return };
        if !p.add_row(row) {
            return;
        }
        let Document::PurchaseOrder(po) = &mut p.doc else {
            return;
        };
        let mut c = Cells::new(row, h, &self.fmt).against_header();
        let ordinal = u32::try_from(po.lines.len() + 1).unwrap_or(u32::MAX);
        let (mut line, refs) = cols.read(&mut c, ordinal);
        if let Owner::Unknown(expected) = owner {
            c.problem(
                cols.header_id,
                format!(
                    "{named:?} (expected {expected}; an order's lines follow its header record, \
                     and name its id)"
                ),
            );
        }
        attach_po_currency(po, &mut line, refs.currency);
        po.lines.push(line);
        p.line_at(row);
        p.absorb(c);
    }

    /// The ids of the open orders, for a message: `"6112", the id of the order header above`,
    /// or `one of the ids of the order headers above: "6112", "6113"`.
    fn open_ids(&self) -> String {
        let ids: Vec<String> = self
            .waiting
            .iter()
            .map(|(id, _)| id)
            .chain(std::iter::once(&self.current_po_id))
            .flatten()
            .take(MAX_LISTED_IDS)
            .map(|id| format!("{id:?}"))
            .collect();
        let open = self.waiting.len() + 1;
        match ids.as_slice() {
            [one] if open == 1 => format!("{one}, the id of the order header above"),
            _ if open > MAX_LISTED_IDS => format!(
                "one of the ids of the {open} order headers above: {}, ...",
                ids.join(", ")
            ),
            _ => format!(
                "one of the ids of the order headers above: {}",
                ids.join(", ")
            ),
        }
    }
}

/// The open order a `Line` record goes to.
#[derive(Debug)]
enum Owner {
    /// The order whose header it follows.
    Current,
    /// An earlier order of the run of header records, by its place in `waiting`.
    Waiting(usize),
    /// None of them has the id it names (listed here): it goes with the order it follows,
    /// which it rejects.
    Unknown(String),
}

/// Orders held open at once waiting for their lines (one run of header records).
const MAX_WAITING_ORDERS: usize = 10_000;
/// Order ids listed in a message about a line naming none of them.
const MAX_LISTED_IDS: usize = 5;

/// The export carries currency per line: the order's currency is the first line's, and a
/// line in another currency keeps its own in the line's extensions.
fn attach_po_currency(
    po: &mut PurchaseOrder,
    line: &mut gateway_model::OrderLine,
    currency: Option<gateway_model::Text>,
) {
    let Some(cur) = currency else { return };
    match &po.currency {
        None => po.currency = Some(cur),
        Some(c) if *c == cur => {}
        Some(_) => put_ext(&mut line.extensions, "currency", cur.into_string()),
    }
}

fn put_ext(ext: &mut gateway_model::Extensions, key: &str, value: String) {
    let slot = ext
        .entry(EXT.to_string())
        .or_insert_with(|| serde_json::Value::Object(serde_json::Map::new()));
    if let serde_json::Value::Object(m) = slot {
        m.insert(key.to_string(), serde_json::Value::String(value));
    }
}

impl CoupaReader {
    /// A record that could not be read as cells (over-long, a quoted cell never closed, or one
    /// over several lines that looks like swallowed rows, [`crate::multiline`]): which
    /// document it belongs to is unknown, so every open one is rejected with it (the current
    /// one, and the orders of a run of header records waiting for their lines). When the
    /// record starts a document (`Invoice`, `Header`), the document before it is complete and
    /// goes through; an `Invoice` record whose cells read before the bad one (`before`) hold
    /// its number is a rejected invoice of its own, which its lines and charges after it
    /// join; otherwise the rows of the rejected one that follow are rejected too, as they have
    /// no header record. In a run of order headers, it takes the place of an order that is
    /// rejected, so the lines that follow it are rejected with it, and the others' lines still
    /// find them. When `fatal`, the rest of the file was not read: the open orders waiting for
    /// lines may miss some, and are rejected.
    pub fn reject_oversized(
        &mut self,
        r: Reject,
        number: u64,
        first: &str,
        fatal: bool,
        before: Option<&Row>,
        sink: &mut dyn FnMut(DecodeItem),
    ) {
        let starts = RecordType::of(first);
        if starts == Some(RecordType::PoHeader) && self.in_header_run() {
            if fatal {
                for p in self.open_documents() {
                    p.reject([r.clone()]);
                }
                self.finish(sink);
                return;
            }
            if let Some(p) = self.current.take() {
                self.waiting.push((self.current_po_id.take(), p));
            }
            let mut p = Pending::at(Document::PurchaseOrder(PurchaseOrder::default()), number);
            p.reject([r]);
            self.current = Some(p);
            return;
        }
        if matches!(starts, Some(RecordType::Invoice | RecordType::PoHeader)) {
            self.finish(sink);
            let invoice_number = before
                .filter(|_| starts == Some(RecordType::Invoice))
                .and_then(|row| {
                    let h = self.header_of(RecordType::Invoice)?;
                    let n = row.get(InvoiceCols::new(h).number);
                    (!n.is_empty()).then(|| gateway_model::Text::from(n))
                });
            if let Some(n) = invoice_number {
                let invoice = gateway_model::Invoice {
                    invoice_number: Some(n),
                    ..gateway_model::Invoice::default()
                };
                let mut p = Pending::at(Document::Invoice(invoice), number);
                p.reject([r]);
                self.line_pos.reset();
                self.current = Some(p);
                return;
            }
            sink(DecodeItem::Reject(r));
            return;
        }
        if self.current.is_none() {
            sink(DecodeItem::Reject(r));
            return;
        }
        for p in self.open_documents() {
            p.reject([r.clone()]);
        }
    }
}

impl CoupaReader {
    /// The header a record of `kind` would be read under now, as [`CoupaReader::row`] binds
    /// them: a `type` header row waiting for the next record, else the type's own, else the
    /// last `type` header row.
    fn header_of(&self, kind: RecordType) -> Option<&Header> {
        if let Some(h) = &self.pending_header {
            return Some(h);
        }
        let own = match kind {
            RecordType::Invoice => self.invoice.as_ref().map(|(h, _)| h),
            RecordType::InvoiceLine => self.line.as_ref().map(|(h, _)| h),
            RecordType::InvoiceCharge => self.charge.as_ref().map(|(h, _)| h),
            RecordType::Allocation => self.allocation.as_ref(),
            RecordType::Tag => self.tag.as_ref(),
            RecordType::PoHeader => self.po.as_ref().map(|(h, _)| h),
            RecordType::PoLine => self.po_line.as_ref().map(|(h, _)| h),
        };
        own.or(self.fallback.as_ref())
    }

    /// Why `row`, which has a cell over several lines, is refused, at that cell (its 0-based
    /// column); `None` when its cells over several lines are text ([`crate::multiline`]). A
    /// swallowed line is measured against the header row of the record type it begins with,
    /// else the one `row` is read under.
    pub fn multiline(&self, row: &Row, delimiter: u8) -> Option<(usize, Reject)> {
        let first = row.get(Some(0));
        let kind = RecordType::of(first);
        let header_row = is_generic_header(first) || kind.is_some_and(|k| names_columns_of(k, row));
        let header = kind.and_then(|k| self.header_of(k)).filter(|_| !header_row);
        let free_text = match (header_row, kind, header) {
            (true, _, _) => FreeText::Any,
            (false, Some(k), Some(h)) => FreeText::Columns(free_text_columns(k, h)),
            _ => FreeText::Columns(Vec::new()),
        };
        let own = header.map_or(row.cells.len(), Header::named_width);
        let type_of = |line: &str| {
            let first = line.split(char::from(delimiter)).next().unwrap_or_default();
            RecordType::of(first.trim()).and_then(|k| self.header_of(k))
        };
        let row_columns = |line: &str| type_of(line).map_or(own, Header::named_width);
        let typed = |line: &str| type_of(line).is_some();
        Judge {
            delimiter,
            header,
            free_text,
            row_columns: &row_columns,
            typed: &typed,
        }
        .refused(row)
    }
}

/// The columns of a `kind` record under `h` that hold free text, which may run over several
/// lines: descriptions, the supplier's note, address street lines.
fn free_text_columns(kind: RecordType, h: &Header) -> Vec<usize> {
    match kind {
        RecordType::Invoice => {
            let c = InvoiceCols::new(h);
            let parties = [c.supplier, c.ship_to, c.bill_to, c.remit_to, c.buyer];
            c.note
                .into_iter()
                .chain(parties.into_iter().flat_map(|p| p.street))
                .collect()
        }
        RecordType::InvoiceLine => LineCols::new(h)
            .description
            .into_iter()
            .chain(PartyCols::find(h, &["supplier"]).street)
            .collect(),
        RecordType::InvoiceCharge => ChargeCols::new(h).description.into_iter().collect(),
        RecordType::PoHeader => {
            let c = PoCols::new(h);
            c.supplier
                .street
                .into_iter()
                .chain(c.ship_to.street)
                .collect()
        }
        RecordType::PoLine => PoLineCols::new(h).description.into_iter().collect(),
        RecordType::Allocation | RecordType::Tag => Vec::new(),
    }
}
