//! Canonical documents to a partner's own layout, following the column map in its profile:
//! one row per line with the document's fields repeated on every row.
//!
//! Money is never dropped ([`check_money`]): a value that changes what is paid and that the
//! partner's map has no column for is refused with its canonical path and the field path a
//! column would need: a tax (one per level, `taxes.amount` / `lines.taxes.amount`, or its
//! rate when it has no amount), a charge (one per kind, `charges.<kind>`; line charges have
//! no column), a line amount that quantity × price does not give back (`lines.amount`), a
//! subtotal, tax total or total that the values written do not add up to (`subtotal`,
//! `tax_total`, `total`), a credit or debit memo or a cancelled order (`purpose`), a
//! payment-terms discount (`payment_terms.discount_percent`), and the currency (`currency`;
//! a map without the column carries the partner's `csv.currency` only, which its reader gives
//! every document back, so a document in it is written, one in another refused). A tax total
//! given without any tax goes in the `taxes.amount` column when the map has one and no
//! `tax_total` column. Other fields without a column (parties' details, descriptions, tax and
//! charge descriptions) are left out as the partner's layout does.
//!
//! An invoice line's PO ([`crate::line_po`]) goes in the `lines.po_number` column, else in the
//! `po_number` column of its row (every row but the first, which holds the invoice's); one
//! that would be lost or read back as the invoice's is refused ([`check_po`]), unless the map
//! has no PO column at all (the invoice's is then left out too).
//!
//! A value with a line break is written as it is where the partner's reader (ours) takes it
//! so: a column the map reads only as free text (`column_map::free_text_columns`, which the
//! reader judges cells by), a few lines that do not look like rows ([`crate::multiline`]).
//! Elsewhere descriptive text (a description, comment, terms, a party's name, address line,
//! city or contact) is written on one line, as the X12 writer writes it, and any other value
//! refuses the document at its path ([`crate::table::refused_line_break`]).

use std::borrow::Cow;

use gateway_core::EncodeError;
use gateway_model::{
    Charge, ChargeKind, Document, DocumentKind, InvoicePurpose, OrderPurpose, Tax,
};
use rust_decimal::Decimal;

use crate::column_map::{ColumnMap, Grouping};
use crate::fields::{
    self, Field, HeadField, LineField, LineRef, PartyField, charge_kind_name as kind_name,
};
use crate::header::Header;
use crate::multiline::{FreeText, Judge, has_line_break, one_line};

fn invalid(path: impl Into<String>, message: impl Into<String>) -> EncodeError {
    EncodeError::Invalid {
        path: path.into(),
        message: message.into(),
    }
}

/// One output column: its header (or 1-based number) and the mappings that fill it, the
/// first with a value winning.
#[derive(Debug)]
struct OutColumn<'a> {
    name: &'a str,
    fields: Vec<(&'a Field, usize)>,
}

fn out_columns(map: &ColumnMap) -> Vec<OutColumn<'_>> {
    let mut cols: Vec<OutColumn<'_>> = Vec::new();
    let mut line_occurrences: Vec<(&HeadField, usize)> = Vec::new();
    for (name, f) in &map.columns {
        // The n-th column mapped to the same street-line field writes the n-th line.
        let occurrence = match f {
            Field::Head(h @ HeadField::Party(_, PartyField::Line)) => {
                match line_occurrences.iter_mut().find(|(x, _)| *x == h) {
                    Some((_, n)) => {
                        *n += 1;
                        *n
                    }
                    None => {
                        line_occurrences.push((h, 0));
                        0
                    }
                }
            }
            _ => 0,
        };
        match cols.iter_mut().find(|c| c.name == name) {
            Some(c) => c.fields.push((f, occurrence)),
            None => cols.push(OutColumn {
                name,
                fields: vec![(f, occurrence)],
            }),
        }
    }
    cols
}

/// One row of a document: its line (`None` for a document without lines), and whether it is
/// the document's first row (where a reader takes the document's fields from).
#[derive(Debug, Clone, Copy)]
struct RowOf<'a> {
    line: Option<LineRef<'a>>,
    /// The line's index in the document's lines.
    index: usize,
    first: bool,
}

/// The PO cell of an invoice line's row ([`crate::line_po`]), in the column mapped to
/// `lines.po_number`, or in the one mapped to `po_number` when the map has none for the line's
/// and the row is not the first (which holds the invoice's, as a reader takes it).
fn po_cell(doc: &Document, f: &Field, row: RowOf<'_>, map: &ColumnMap) -> Option<Option<String>> {
    let (Document::Invoice(inv), Some(LineRef::Invoice(l))) = (doc, row.line) else {
        return None;
    };
    let per_line = match f {
        Field::Line(LineField::PoNumber) => true,
        Field::Head(HeadField::PoNumber) => !row.first && !Columns(map).line(&LineField::PoNumber),
        _ => false,
    };
    per_line.then(|| crate::line_po::cell(inv, l).map(str::to_string))
}

/// The value of `col` on `row`, and the mapping it came from (with the occurrence of its
/// field), `None` when no mapping has a value.
fn cell<'c>(
    col: &'c OutColumn<'_>,
    doc: &Document,
    row: RowOf<'_>,
    map: &ColumnMap,
    tax_from_total: Option<Decimal>,
) -> Option<(String, &'c Field, usize)> {
    let line = row.line;
    col.fields.iter().find_map(|&(f, occurrence)| {
        let value = match f {
            Field::Ignore => None,
            Field::Head(HeadField::TaxAmount) if tax_from_total.is_some() => {
                tax_from_total.map(|d| map.fmt.write_decimal(d))
            }
            Field::Head(HeadField::PoNumber) | Field::Line(LineField::PoNumber)
                if let Some(c) = po_cell(doc, f, row, map) =>
            {
                c
            }
            Field::Head(h) => fields::get_head(doc, h, occurrence, &map.fmt),
            Field::Line(l) => line.and_then(|line| fields::get_line(line, l, &map.fmt)),
        };
        value.map(|v| (v, f, occurrence))
    })
}

/// Whether `f` is descriptive text, written on one line where the reader would not take its
/// line breaks (the fields the X12 writer writes so); any other value with a line break
/// refuses the document.
fn descriptive(f: &Field) -> bool {
    matches!(
        f,
        Field::Line(LineField::Description)
            | Field::Head(
                HeadField::Comments
                    | HeadField::TermsDescription
                    | HeadField::Party(
                        _,
                        PartyField::Name
                            | PartyField::Line
                            | PartyField::City
                            | PartyField::Contact
                    )
            )
    )
}

/// The canonical path of the value `f` (its `occurrence`-th street line) writes on `row` of
/// `doc`: `$.lines[2].uom`, `$.supplier.ids[1]`, `$.taxes[0].category`.
fn value_path(
    f: &Field,
    doc: &Document,
    row: RowOf<'_>,
    occurrence: usize,
    map: &ColumnMap,
) -> String {
    let n = row.index;
    match f {
        // A line's cell holds its own PO, else the invoice's ([`po_cell`]).
        Field::Head(HeadField::PoNumber) | Field::Line(LineField::PoNumber) => {
            let own = matches!(row.line, Some(LineRef::Invoice(l)) if l.po_number.is_some());
            match own && po_cell(doc, f, row, map).is_some() {
                true => format!("$.lines[{n}].po_number"),
                false => "$.po_number".into(),
            }
        }
        Field::Head(HeadField::Party(role, PartyField::Id(domain))) => {
            let at = fields::party_of(doc, *role).and_then(|p| {
                p.ids
                    .iter()
                    .position(|id| id.domain.eq_ignore_ascii_case(domain))
            });
            let role = fields::role_name(*role);
            match at {
                Some(k) => format!("$.{role}.ids[{k}]"),
                None => format!("$.{role}.ids"),
            }
        }
        Field::Head(HeadField::Party(role, PartyField::Line)) => {
            format!("$.{}.address.lines[{occurrence}]", fields::role_name(*role))
        }
        _ => {
            let path = fields::path(f, doc.kind()).unwrap_or_default();
            let path = match path.strip_prefix("lines.") {
                Some(rest) => format!("lines[{n}].{rest}"),
                None => path,
            };
            format!("$.{}", path.replacen("taxes.", "taxes[0].", 1))
        }
    }
}

/// What the partner's reader (ours) says of the cells the map's columns are written in
/// ([`crate::multiline`]): which of the columns `cols` it takes over several lines.
struct Reading<'m> {
    map: &'m ColumnMap,
    delimiter: u8,
    header: Option<Header>,
    free: Vec<usize>,
    width: usize,
}

impl<'m> Reading<'m> {
    fn new(map: &'m ColumnMap, cols: &[OutColumn<'_>], delimiter: u8) -> Self {
        let header = if map.has_header {
            Header::new(cols.iter().map(|c| c.name))
        } else {
            Header::default()
        };
        let resolved = map.resolved(&header);
        let free = crate::column_map::free_text_columns(&resolved);
        let width = if map.has_header {
            header.named_width()
        } else {
            resolved.iter().map(|(i, _)| i + 1).max().unwrap_or(0)
        };
        Reading {
            map,
            delimiter,
            header: map.has_header.then_some(header),
            free,
            width,
        }
    }

    /// `value`, written in 0-based `column` from `f` (its `occurrence`) on `row` of `doc`, as
    /// the file can hold it: as it is where the reader takes it so, on one line where it is
    /// descriptive text, else refused at its path.
    fn written(
        &self,
        value: String,
        column: usize,
        name: &str,
        (f, occurrence): (&Field, usize),
        doc: &Document,
        row: RowOf<'_>,
    ) -> Result<String, EncodeError> {
        if !has_line_break(&value) {
            return Ok(value);
        }
        let width = self.width;
        let judge = Judge {
            delimiter: self.delimiter,
            header: self.header.as_ref(),
            free_text: FreeText::Columns(self.free.clone()),
            row_columns: &|_| width,
            typed: &|_| false,
        };
        if descriptive(f) {
            match judge.accepts(column, &value) {
                true => Ok(value),
                false => Ok(one_line(&value)),
            }
        } else {
            // Refused even where the reader would take it (a line break it trims off the
            // end): it would not read back as it is.
            let column = match &self.header {
                Some(_) => format!("{name:?}"),
                None => format!("{}", column + 1),
            };
            Err(crate::table::refused_line_break(
                &value_path(f, doc, row, occurrence, self.map),
                &format!("column {column} of the partner's layout"),
                &value,
            ))
        }
    }
}

/// Writes `docs` in the partner's layout.
pub fn write(docs: &[Document], map: &ColumnMap, delimiter: u8) -> Result<Vec<u8>, EncodeError> {
    let cols = out_columns(map);
    let mut w = csv::WriterBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    let csv_error = |e: csv::Error| invalid("csv", e.to_string());
    // Without a header, columns are written at their numbers.
    let positions: Vec<usize> = if map.has_header {
        (0..cols.len()).collect()
    } else {
        let mut p = Vec::new();
        for c in &cols {
            let n = gateway_core::profile::column_number(c.name).ok_or_else(|| {
                EncodeError::Profile(format!(
                    "csv.columns: {:?} is not a column number (has_header = false)",
                    c.name
                ))
            })?;
            p.push(n);
        }
        p
    };
    let width = positions.iter().max().map_or(0, |m| m + 1);
    if width > crate::limits::MAX_COLUMNS {
        return Err(EncodeError::Profile(format!(
            "csv.columns: column numbers above {} are not written",
            crate::limits::MAX_COLUMNS
        )));
    }
    if map.has_header {
        w.write_record(cols.iter().map(|c| c.name))
            .map_err(csv_error)?;
    }
    let reading = Reading::new(map, &cols, delimiter);
    let mut previous_key: Option<String> = None;
    for (d, doc) in docs.iter().enumerate() {
        let want = match map.kind {
            DocumentKind::PurchaseOrder => DocumentKind::PurchaseOrder,
            _ => DocumentKind::Invoice,
        };
        if doc.kind() != want {
            return Err(EncodeError::UnsupportedKind {
                format: gateway_core::Format::Csv,
                kind: doc.kind().to_string(),
                supported: format!("{want} (this partner's column map)"),
            });
        }
        let tax_from_total = check_money(doc, map)?;
        let lines: Vec<Option<LineRef<'_>>> = match doc {
            Document::Invoice(i) => i.lines.iter().map(|l| Some(LineRef::Invoice(l))).collect(),
            Document::PurchaseOrder(p) => p.lines.iter().map(|l| Some(LineRef::Order(l))).collect(),
        };
        let lines = if lines.is_empty() { vec![None] } else { lines };
        if map.grouping == Grouping::Row && lines.len() > 1 {
            return Err(invalid(
                format!("documents[{d}].lines"),
                "this partner's layout holds one line per document (grouping = \"row\")",
            ));
        }
        for (n, line) in lines.into_iter().enumerate() {
            let mut row = vec![String::new(); width];
            let of = RowOf {
                line,
                index: n,
                first: n == 0,
            };
            for (c, pos) in cols.iter().zip(&positions) {
                if let Some(slot) = row.get_mut(*pos) {
                    *slot = match cell(c, doc, of, map, tax_from_total) {
                        Some((value, f, occurrence)) => {
                            reading.written(value, *pos, c.name, (f, occurrence), doc, of)?
                        }
                        None => String::new(),
                    };
                    if map.formula_guard
                        && let Cow::Owned(marked) = crate::formula::guarded(slot)
                    {
                        *slot = marked;
                    }
                }
            }
            w.write_record(&row).map_err(csv_error)?;
        }
        // Two documents in a row with the same key would read back as one.
        if map.grouping != Grouping::Row {
            let key = doc.number().to_string();
            if previous_key.as_deref() == Some(key.as_str()) {
                return Err(invalid(
                    format!("documents[{d}]"),
                    format!(
                        "follows a document with the same number {key:?}; they would read back \
                         as one"
                    ),
                ));
            }
            previous_key = Some(key);
        }
    }
    w.into_inner().map_err(|e| invalid("csv", e.to_string()))
}

/// What the partner's map has columns for.
struct Columns<'a>(&'a ColumnMap);

impl Columns<'_> {
    fn head(&self, f: &HeadField) -> bool {
        self.0
            .columns
            .iter()
            .any(|(_, x)| matches!(x, Field::Head(h) if h == f))
    }

    fn line(&self, f: &LineField) -> bool {
        self.0
            .columns
            .iter()
            .any(|(_, x)| matches!(x, Field::Line(l) if l == f))
    }
}

/// Where a lost value could go: the field path a column of the map would need, or why none
/// can hold it.
#[derive(Debug, Clone)]
enum Needs {
    Column(String),
    Nothing(&'static str),
}

impl std::fmt::Display for Needs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Needs::Column(c) => write!(f, "the map needs a column mapped to `{c}`"),
            Needs::Nothing(why) => f.write_str(why),
        }
    }
}

fn column(path: impl Into<String>) -> Needs {
    Needs::Column(path.into())
}

/// The values of one document its partner's layout would lose: the first in full, and the
/// others with what they need, so one refusal names every column the map lacks.
struct Lost<'a> {
    doc: &'a Document,
    first: Option<(String, String)>,
    others: Vec<String>,
}

impl<'a> Lost<'a> {
    fn new(doc: &'a Document) -> Self {
        Lost {
            doc,
            first: None,
            others: Vec::new(),
        }
    }

    /// `what` (at `path`) would be lost; `needs` says where it could go.
    fn add(&mut self, path: String, what: String, needs: Needs) {
        match self.first {
            None => self.first = Some((path, format!("{what}; {needs}"))),
            Some(_) => self.others.push(match needs {
                Needs::Column(c) => format!("{path} (`{c}`)"),
                Needs::Nothing(_) => path,
            }),
        }
    }

    /// The refusal of the first value, naming the others.
    fn result(self) -> Result<(), EncodeError> {
        let Some((path, what)) = self.first else {
            return Ok(());
        };
        let mut message = format!(
            "{} {:?}: {what} (the partner's column map: csv.columns in its profile)",
            self.doc.kind(),
            self.doc.number()
        );
        const NAMED: usize = 8;
        if !self.others.is_empty() {
            let named: Vec<&str> = self.others.iter().take(NAMED).map(String::as_str).collect();
            message.push_str(&format!("; also lost: {}", named.join(", ")));
            if self.others.len() > NAMED {
                message.push_str(&format!(" and {} more", self.others.len() - NAMED));
            }
        }
        Err(invalid(path, message))
    }
}

/// The money of one document's line, as the checks need it.
struct LineMoney<'a> {
    taxes: &'a [Tax],
    charges: &'a [Charge],
    quantity: Option<Decimal>,
    unit_price: Option<Decimal>,
    amount: Option<Decimal>,
}

impl<'a> LineMoney<'a> {
    fn of(doc: &'a Document) -> Vec<Self> {
        // The same fields on both kinds of line.
        macro_rules! money {
            ($lines:expr) => {
                $lines
                    .iter()
                    .map(|l| LineMoney {
                        taxes: &l.taxes,
                        charges: &l.charges,
                        quantity: l.quantity,
                        unit_price: l.unit_price,
                        amount: l.amount,
                    })
                    .collect()
            };
        }
        match doc {
            Document::Invoice(i) => money!(i.lines),
            Document::PurchaseOrder(p) => money!(p.lines),
        }
    }
}

fn or_none(d: Option<Decimal>) -> String {
    d.map_or_else(|| "nothing".to_string(), |d| d.to_string())
}

/// Checks that every value of `doc` that changes what is paid has a column in `map` (see the
/// module docs), refusing the document with the path of the first that has none and naming
/// the others. Returns the amount to write in the `taxes.amount` column for a tax total
/// given without any tax.
fn check_money(doc: &Document, map: &ColumnMap) -> Result<Option<Decimal>, EncodeError> {
    let has = Columns(map);
    let mut out = Lost::new(doc);
    let (taxes, charges, terms, total) = match doc {
        Document::Invoice(i) => (&i.taxes, &i.charges, &i.payment_terms, i.total),
        Document::PurchaseOrder(p) => (&p.taxes, &p.charges, &p.payment_terms, p.total),
    };
    let (subtotal, tax_total) = match doc {
        Document::Invoice(i) => (i.subtotal, i.tax_total),
        Document::PurchaseOrder(_) => (None, None),
    };
    let lines = LineMoney::of(doc);

    check_taxes(
        &mut out,
        "$.taxes",
        "the map holds one tax for the document, its first",
        taxes,
        [
            (has.head(&HeadField::TaxAmount), "taxes.amount"),
            (has.head(&HeadField::TaxRate), "taxes.rate"),
        ],
    );
    for (k, c) in charges.iter().enumerate() {
        let path = format!("$.charges[{k}]");
        let kind = kind_name(c.kind);
        let Some(amount) = c.amount else {
            if let Some(rate) = c.rate {
                out.add(
                    path,
                    format!("the {kind} charge of {rate} % (a rate, no amount) would be lost"),
                    Needs::Nothing("a column map holds charge amounts, not rates"),
                );
            }
            continue;
        };
        if !has.head(&HeadField::Charge(c.kind)) {
            out.add(
                path,
                format!("the {kind} charge of {amount} would be lost"),
                column(format!("charges.{kind}")),
            );
        } else if charges
            .iter()
            .take(k)
            .any(|p| p.kind == c.kind && p.amount.is_some())
        {
            out.add(
                path,
                format!("a second {kind} charge ({amount}) would be lost"),
                Needs::Nothing("the map's column for the kind holds one charge"),
            );
        }
    }

    let qp_columns = has.line(&LineField::Quantity) && has.line(&LineField::UnitPrice);
    let amount_column = has.line(&LineField::Amount);
    let mut line_sum = Some(Decimal::ZERO);
    for (n, l) in lines.iter().enumerate() {
        check_taxes(
            &mut out,
            &format!("$.lines[{n}].taxes"),
            "the map holds one tax for each line, its first",
            l.taxes,
            [
                (has.line(&LineField::TaxAmount), "lines.taxes.amount"),
                (has.line(&LineField::TaxRate), "lines.taxes.rate"),
            ],
        );
        for (j, c) in l.charges.iter().enumerate() {
            let what = match (c.amount, c.rate) {
                (Some(a), _) => a.to_string(),
                (None, Some(r)) => format!("{r} %"),
                (None, None) => continue,
            };
            out.add(
                format!("$.lines[{n}].charges[{j}]"),
                format!(
                    "the line's {} charge of {what} would be lost",
                    kind_name(c.kind)
                ),
                Needs::Nothing(
                    "a column map has no line charges (`charges.<kind>` holds the document's)",
                ),
            );
        }
        // What the reader takes back: the amount column, else quantity × price.
        let product = match (l.quantity, l.unit_price) {
            (Some(q), Some(p)) if qp_columns => q.checked_mul(p),
            _ => None,
        };
        let back = if amount_column {
            l.amount.or(product)
        } else {
            product
        };
        if let Some(a) = l.amount
            && back != Some(a)
        {
            out.add(
                format!("$.lines[{n}].amount"),
                format!(
                    "the line amount {a} would be lost: quantity × price written gives {}",
                    or_none(back)
                ),
                column("lines.amount"),
            );
        }
        line_sum = match (line_sum, back) {
            (Some(s), Some(b)) => s.checked_add(b),
            _ => None,
        };
    }

    if let Some(st) = subtotal
        && !has.head(&HeadField::Subtotal)
        && line_sum != Some(st)
    {
        out.add(
            "$.subtotal".into(),
            format!(
                "the subtotal {st} would be lost: the line amounts written add up to {}",
                or_none(line_sum)
            ),
            column("subtotal"),
        );
    }

    // `None` past what a decimal holds: then nothing written adds up to what was given.
    let header_tax = gateway_model::checked_sum(taxes.iter().filter_map(|t| t.amount));
    let line_taxes = || lines.iter().flat_map(|l| l.taxes.iter());
    let line_tax = gateway_model::checked_sum(line_taxes().filter_map(|t| t.amount));
    let all_tax = header_tax.zip(line_tax).and_then(|(h, l)| h.checked_add(l));
    let any_header_tax = taxes.iter().any(|t| t.amount.is_some());
    let any_line_tax = line_taxes().any(|t| t.amount.is_some());
    let mut tax_from_total = None;
    if let Some(tt) = tax_total
        && !has.head(&HeadField::TaxTotal)
    {
        if any_header_tax || any_line_tax {
            // Header taxes may restate the lines' (an X12 summary TXI).
            let derivable = all_tax == Some(tt)
                || (any_header_tax && header_tax == Some(tt))
                || (any_line_tax && line_tax == Some(tt));
            if !derivable {
                out.add(
                    "$.tax_total".into(),
                    format!(
                        "the tax total {tt} would be lost: the taxes written add up to {}",
                        or_none(all_tax)
                    ),
                    column("tax_total"),
                );
            }
        } else if !tt.is_zero() {
            if has.head(&HeadField::TaxAmount) && taxes.len() <= 1 {
                tax_from_total = Some(tt);
            } else {
                out.add(
                    "$.tax_total".into(),
                    format!("the tax total {tt}, given without any tax, would be lost"),
                    column("tax_total` or `taxes.amount"),
                );
            }
        }
    }

    if let Some(total) = total
        && !has.head(&HeadField::Total)
    {
        let tax = tax_total.or(all_tax);
        let charged = gateway_model::checked_sum(charges.iter().filter_map(|c| {
            c.amount.map(|a| match c.kind {
                ChargeKind::Discount => -a.abs(),
                _ => a,
            })
        }));
        let derived = subtotal
            .or(line_sum)
            .zip(tax)
            .and_then(|(base, tax)| base.checked_add(tax))
            .zip(charged)
            .and_then(|(s, charged)| s.checked_add(charged));
        if derived != Some(total) {
            out.add(
                "$.total".into(),
                format!(
                    "the total {total} would be lost: the lines, taxes ({}) and charges \
                     ({}) written add up to {}",
                    or_none(tax),
                    or_none(charged),
                    or_none(derived)
                ),
                column("total"),
            );
        }
    }

    let purpose_lost = match doc {
        Document::Invoice(i) => match i.purpose {
            Some(InvoicePurpose::CreditMemo) => Some("a credit memo would read back as an invoice"),
            Some(InvoicePurpose::DebitMemo) => Some("a debit memo would read back as an invoice"),
            _ => None,
        },
        Document::PurchaseOrder(p) => (p.purpose == Some(OrderPurpose::Cancel))
            .then_some("a cancellation would read back as an order"),
    };
    if let Some(why) = purpose_lost
        && !has.head(&HeadField::Purpose)
    {
        out.add("$.purpose".into(), why.into(), column("purpose"));
    }
    if let Some(d) = terms.as_ref().and_then(|t| t.discount_percent)
        && !d.is_zero()
        && !has.head(&HeadField::DiscountPercent)
    {
        out.add(
            "$.payment_terms.discount_percent".into(),
            format!("the {d} % payment-terms discount would be lost"),
            column("payment_terms.discount_percent"),
        );
    }
    check_currency(doc, map, &mut out);
    check_po(doc, &has, &mut out);
    out.result()?;
    Ok(tax_from_total)
}

/// The document's currency, which a map without a `currency` column carries only when it is
/// the partner's own (`csv.currency`, which the reader gives every document of the file):
/// written without it, the amounts would be read in another currency, or in none (Coupa
/// refuses an invoice without one).
fn check_currency(doc: &Document, map: &ColumnMap, out: &mut Lost<'_>) {
    let currency = match doc {
        Document::Invoice(i) => i.currency.as_deref(),
        Document::PurchaseOrder(p) => p.currency.as_deref(),
    };
    let Some(currency) = currency else {
        return;
    };
    if map.has_currency_column() || map.currency.as_deref() == Some(currency) {
        return;
    }
    let read_as = match map.currency.as_deref() {
        Some(fixed) => format!("it would be read back in the partner's csv.currency {fixed:?}"),
        None => "the map has no column for it and names no csv.currency".to_string(),
    };
    out.add(
        "$.currency".into(),
        format!("the currency {currency:?} would be lost: {read_as}"),
        column("currency"),
    );
}

/// The POs of an invoice's lines, when the map has a column for POs (without one, the
/// invoice's PO is left out too): a line billing another PO than the invoice's needs a cell
/// of its own, which the `po_number` column gives every row but the first (it holds the
/// invoice's there); without a `po_number` column, a reader takes the invoice's PO from the
/// first line naming one.
fn check_po(doc: &Document, has: &Columns<'_>, out: &mut Lost<'_>) {
    let Document::Invoice(inv) = doc else {
        return;
    };
    let (head, line) = (
        has.head(&HeadField::PoNumber),
        has.line(&LineField::PoNumber),
    );
    if line && !head && crate::line_po::first_named_differs(inv) {
        let po = inv.po_number.as_deref().unwrap_or_default();
        out.add(
            "$.po_number".into(),
            format!(
                "the invoice's PO {po:?} would be lost: a reader takes the first PO the lines \
                 name"
            ),
            column("po_number"),
        );
    }
    if head
        && !line
        && let Some(first) = inv.lines.first()
        && let Some(own) = crate::line_po::own(inv, first)
    {
        out.add(
            "$.lines[0].po_number".into(),
            format!(
                "the first line's PO {own:?} would be lost: the first row's `po_number` cell \
                 holds the invoice's"
            ),
            column("lines.po_number"),
        );
    }
}

/// The taxes of one level (`path`: `$.taxes` or `$.lines[n].taxes`): the map holds the first,
/// its amount in the first column of `columns`, its rate (when it has no amount) in the second.
fn check_taxes(
    out: &mut Lost<'_>,
    path: &str,
    one_per: &'static str,
    taxes: &[Tax],
    [(amount_column, amount_path), (rate_column, rate_path)]: [(bool, &str); 2],
) {
    for (k, t) in taxes.iter().enumerate() {
        let what = match (t.amount, t.rate) {
            (Some(a), _) => a.to_string(),
            (None, Some(r)) => format!("{r} % (a rate, no amount)"),
            (None, None) => continue,
        };
        let what = format!("the tax of {what} would be lost");
        if k > 0 {
            out.add(format!("{path}[{k}]"), what, Needs::Nothing(one_per));
            continue;
        }
        let (carried, needs) = if t.amount.is_some() {
            (amount_column, amount_path)
        } else {
            (rate_column, rate_path)
        };
        if !carried {
            out.add(format!("{path}[{k}]"), what, column(needs));
        }
    }
}
