//! Where a canonical path lives in a decoded CSV file ([`gateway_core::Decode::source_path`]):
//! the row and column a field was read from, as a spreadsheet shows them
//! (`$.lines[1].quantity` → `row 5, column "Quantity" (I)`), rows counted as the reader's
//! rejects count them (records from 1, header rows included, a quoted cell spanning lines
//! still one row), columns by their header name as written and their letter.
//!
//! A CSV file's columns are its own (a Coupa header row, a partner's column map), so the
//! decoder records, once per header, which column each field came from ([`SourceColumn`], in
//! a column map's field paths: `invoice_number`, `lines.quantity`, `supplier.address.city`),
//! and for each document the row of its first record (its document fields), of each line and
//! of its first `Invoice Charge` record. A field the file has no column for is placed at its
//! row, saying so: the problem is there, in what the file leaves out.

use std::sync::Arc;

use gateway_core::codec::{PathStep, SourceColumn, SourcePlaces, path_steps};
use gateway_core::{Format, SourceMeta};
use gateway_model::{Document, DocumentKind, Party};

use crate::coupa_invoice::{ChargeCols, InvoiceCols, LineCols};
use crate::coupa_po::{PoCols, PoLineCols};
use crate::fields::{Field, charge_kind_name};
use crate::header::Header;
use crate::parties::{COUPA_ID, COUPA_NUMBER, PartyCols};

/// The field of a Coupa `Invoice Charge` record's amount (no column map has one).
const CHARGE_RECORD_AMOUNT: &str = "charges.amount";
/// The field of a Coupa PO `Line` record's currency (the order's when its header has none).
const LINE_CURRENCY: &str = "lines.currency";

/// Collects the columns of one layout.
#[derive(Default)]
struct Columns(Vec<SourceColumn>);

impl Columns {
    fn add(&mut self, field: &str, index: Option<usize>, h: &Header) {
        let Some(i) = index else { return };
        let name = h.written.get(i).map_or("", String::as_str);
        self.0.push(SourceColumn {
            field: field.into(),
            index: u32::try_from(i).unwrap_or(u32::MAX),
            name: name.into(),
        });
    }

    fn party(&mut self, role: &str, p: &PartyCols, h: &Header) {
        self.add(&format!("{role}.name"), p.name, h);
        self.add(&format!("{role}.ids.{COUPA_ID}"), p.id, h);
        self.add(&format!("{role}.ids.{COUPA_NUMBER}"), p.number, h);
        for s in &p.street {
            self.add(&format!("{role}.address.lines"), Some(*s), h);
        }
        self.add(&format!("{role}.address.city"), p.city, h);
        self.add(&format!("{role}.address.region"), p.region, h);
        self.add(&format!("{role}.address.postal_code"), p.postal_code, h);
        self.add(&format!("{role}.address.country"), p.country, h);
    }

    fn done(self) -> Arc<[SourceColumn]> {
        self.0.into()
    }
}

/// The columns of a partner's column map, resolved against the file's `header` (empty names
/// without a header row).
pub fn map_columns(
    kind: DocumentKind,
    resolved: &[(usize, Field)],
    header: &Header,
) -> Arc<[SourceColumn]> {
    let mut c = Columns::default();
    for (i, f) in resolved {
        if let Some(path) = crate::fields::path(f, kind) {
            c.add(&path, Some(*i), header);
        }
    }
    c.done()
}

/// The columns of Coupa's invoice import under its current header rows.
pub fn invoice_columns(
    invoice: Option<&(Header, InvoiceCols)>,
    line: Option<&(Header, LineCols)>,
    charge: Option<&(Header, ChargeCols)>,
) -> Arc<[SourceColumn]> {
    let mut c = Columns::default();
    if let Some((h, k)) = invoice {
        for (field, i) in [
            ("invoice_number", k.number),
            ("invoice_date", k.date),
            ("currency", k.currency),
            ("payment_terms.description", k.terms),
            ("po_number", k.po_number),
            ("comments", k.note),
            ("total", k.control_total),
            ("taxes.amount", k.tax_amount),
            ("taxes.rate", k.tax_rate),
            ("taxes.category", k.tax_code),
            ("purpose", k.credit_note),
            ("charges.shipping", k.shipping),
            ("charges.handling", k.handling),
            ("charges.other", k.misc),
            // A negative misc amount is read as a discount.
            ("charges.discount", k.misc),
        ] {
            c.add(field, i, h);
        }
        for (role, p) in [
            ("supplier", &k.supplier),
            ("ship_to", &k.ship_to),
            ("bill_to", &k.bill_to),
            ("remit_to", &k.remit_to),
            ("buyer", &k.buyer),
        ] {
            c.party(role, p, h);
        }
    }
    if let Some((h, k)) = line {
        for (field, i) in [
            ("lines.line_number", k.line_number),
            ("lines.description", k.description),
            ("lines.supplier_part_id", k.supplier_part),
            ("lines.buyer_part_id", k.buyer_part),
            ("lines.unit_price", k.price),
            ("lines.quantity", k.quantity),
            ("lines.uom", k.uom),
            ("lines.po_number", k.po_number),
            ("lines.po_line_number", k.po_line),
            ("lines.taxes.amount", k.tax_amount),
            ("lines.taxes.rate", k.tax_rate),
            ("lines.taxes.category", k.tax_code),
            ("lines.amount", k.total),
        ] {
            c.add(field, i, h);
        }
    }
    if let Some((h, k)) = charge {
        c.add(CHARGE_RECORD_AMOUNT, k.total, h);
    }
    c.done()
}

/// The columns of Coupa's PO export under its current header rows.
pub fn order_columns(
    order: Option<&(Header, PoCols)>,
    line: Option<&(Header, PoLineCols)>,
) -> Arc<[SourceColumn]> {
    let mut c = Columns::default();
    if let Some((h, k)) = order {
        for (field, i) in [
            // The order's number is `po-number`, else Coupa's `id`.
            ("po_number", k.po_number.or(k.id)),
            ("order_date", k.order_date),
            ("version", k.version),
            ("currency", k.currency),
            ("total", k.total),
            ("purpose", k.status),
            ("payment_terms.description", k.terms),
        ] {
            c.add(field, i, h);
        }
        c.party("supplier", &k.supplier, h);
        c.party("ship_to", &k.ship_to, h);
    }
    if let Some((h, k)) = line {
        for (field, i) in [
            ("lines.line_number", k.line_number),
            ("lines.description", k.description),
            ("lines.quantity", k.quantity),
            ("lines.unit_price", k.price),
            ("lines.uom", k.uom),
            ("lines.need_by", k.need_by),
            ("lines.supplier_part_id", k.supplier_part),
            ("lines.buyer_part_id", k.buyer_part),
            ("lines.amount", k.total),
            (LINE_CURRENCY, k.currency),
        ] {
            c.add(field, i, h);
        }
    }
    c.done()
}

/// Where `json_path` of `document` is in the CSV it was read from: `row 5, column
/// "Quantity" (I)`, or `row 3 (no column holds it)` for a field the file has no column for.
/// `None` for a path that names no field of the document, a line the decoder did not record,
/// or a document this decoder did not read (its places say nothing of rows and columns).
pub(crate) fn source_path(
    document: &Document,
    meta: &SourceMeta,
    json_path: &str,
) -> Option<String> {
    if meta.places.format != Some(Format::Csv) {
        return None;
    }
    let steps = path_steps(json_path)?;
    let at = At {
        places: &meta.places,
    };
    let Some((first, rest)) = steps.split_first() else {
        return Some(match meta.location.as_deref() {
            Some(rows) => rows.to_string(),
            None => row_words(at.places.heading),
        });
    };
    let invoice = matches!(document, Document::Invoice(_));
    let heading = at.places.heading;
    match (first.name, first.index, rest) {
        ("lines", None, []) => Some(at.line_rows()),
        ("lines", Some(i), _) => line(document, &at, i, rest),
        ("charges", index, _) => Some(at.charge(document, index)),
        ("taxes", index, _) => Some(at.tax("taxes", index, rest, heading)),
        ("payment_terms", None, []) => Some(at.prefix("payment_terms.", heading)),
        ("payment_terms", None, [field]) if field.index.is_none() => match field.name {
            "description" | "net_days" | "discount_percent" | "discount_days" => {
                Some(at.field(&format!("payment_terms.{}", field.name), heading))
            }
            _ => None,
        },
        ("extensions", None, [key]) if key.index.is_none() => {
            Some(at.field(&format!("extensions.{}", key.name), heading))
        }
        ("po_number", None, []) if invoice => Some(at.invoice_po(document)),
        ("currency", None, []) if at.column(LINE_CURRENCY, 0).is_some() => {
            Some(match at.column("currency", 0) {
                Some(_) => at.field("currency", heading),
                // A PO export without a header currency takes the first line's.
                None => at.field(LINE_CURRENCY, at.places.lines.first().copied().unwrap_or(0)),
            })
        }
        (role @ ("supplier" | "buyer" | "bill_to" | "ship_to"), None, _) => {
            party(document, &at, role, rest)
        }
        ("remit_to", None, _) if invoice => party(document, &at, "remit_to", rest),
        (field, None, []) => {
            let known: &[&str] = if invoice {
                &[
                    "invoice_number",
                    "invoice_date",
                    "purpose",
                    "currency",
                    "comments",
                    "subtotal",
                    "tax_total",
                    "total",
                ]
            } else {
                &[
                    "po_number",
                    "order_date",
                    "purpose",
                    "version",
                    "currency",
                    "comments",
                    "total",
                ]
            };
            known.contains(&field).then(|| at.field(field, heading))
        }
        _ => None,
    }
}

/// The places of one document.
struct At<'a> {
    places: &'a SourcePlaces,
}

impl At<'_> {
    /// The `n`-th column (0-based) holding `field`.
    fn column(&self, field: &str, n: usize) -> Option<&SourceColumn> {
        self.places
            .columns
            .iter()
            .filter(|c| c.field.as_str() == field)
            .nth(n)
    }

    /// `field` in row `row`.
    fn field(&self, field: &str, row: u32) -> String {
        place(row, self.column(field, 0))
    }

    /// The first column of a field under `prefix` (a party, the payment terms) in row `row`.
    fn prefix(&self, prefix: &str, row: u32) -> String {
        let column = self
            .places
            .columns
            .iter()
            .find(|c| c.field.starts_with(prefix));
        place(row, column)
    }

    /// The rows of the lines.
    fn line_rows(&self) -> String {
        match (self.places.lines.first(), self.places.lines.last()) {
            (Some(a), Some(b)) if a != b => format!("rows {a}-{b}"),
            (Some(a), _) => row_words(*a),
            _ => format!("{} (no line rows)", row_words(self.places.heading)),
        }
    }

    /// A tax of a document (`level` `taxes`) or line (`lines.taxes`) in row `row`: the map
    /// holds one per level, the first.
    fn tax(&self, level: &str, index: Option<usize>, rest: &[PathStep<'_>], row: u32) -> String {
        if index.is_some_and(|i| i > 0) {
            return place(row, None);
        }
        let parts: &[&str] = match rest.first().map(|s| s.name) {
            Some("amount") => &["amount"],
            Some("rate") => &["rate"],
            Some("category") => &["category"],
            _ => &["amount", "rate", "category"],
        };
        let column = parts
            .iter()
            .find_map(|p| self.column(&format!("{level}.{p}"), 0));
        place(row, column)
    }

    /// A document charge: in its kind's column of the document's first row, else in the
    /// `Invoice Charge` records.
    fn charge(&self, document: &Document, index: Option<usize>) -> String {
        let heading = self.places.heading;
        let charges = match document {
            Document::Invoice(i) => &i.charges,
            Document::PurchaseOrder(p) => &p.charges,
        };
        let Some(i) = index else {
            return match self.column(CHARGE_RECORD_AMOUNT, 0) {
                Some(c) if self.places.summary != 0 => place(self.places.summary, Some(c)),
                _ => self.prefix("charges.", heading),
            };
        };
        let Some(charge) = charges.get(i) else {
            return place(heading, None);
        };
        let field = format!("charges.{}", charge_kind_name(charge.kind));
        // The document's own column holds the first charge of its kind.
        let first_of_kind = !charges.iter().take(i).any(|c| c.kind == charge.kind);
        match (self.column(&field, 0), self.column(CHARGE_RECORD_AMOUNT, 0)) {
            (Some(c), _) if first_of_kind => place(heading, Some(c)),
            (_, Some(c)) if self.places.summary != 0 => format!(
                "an Invoice Charge row from row {}, column {}",
                self.places.summary,
                column_words(c)
            ),
            (Some(c), _) => place(heading, Some(c)),
            _ => place(heading, None),
        }
    }

    /// The invoice's PO: its column in the document's first row, else the first line whose
    /// cell names it (a line naming it has no PO of its own).
    fn invoice_po(&self, document: &Document) -> String {
        if self.column("po_number", 0).is_some() {
            return self.field("po_number", self.places.heading);
        }
        let Document::Invoice(inv) = document else {
            return place(self.places.heading, None);
        };
        let naming = inv
            .lines
            .iter()
            .position(|l| l.po_number.is_none())
            .and_then(|i| self.places.lines.get(i).copied());
        match naming {
            Some(row) => self.field("lines.po_number", row),
            None => place(self.places.heading, None),
        }
    }
}

/// Where field `rest` of line `i` is.
fn line(document: &Document, at: &At<'_>, i: usize, rest: &[PathStep<'_>]) -> Option<String> {
    let lines = match document {
        Document::Invoice(inv) => inv.lines.len(),
        Document::PurchaseOrder(po) => po.lines.len(),
    };
    if i >= lines {
        return None;
    }
    let row = *at.places.lines.get(i)?;
    let Some((field, under)) = rest.split_first() else {
        return Some(row_words(row));
    };
    let invoice = matches!(document, Document::Invoice(_));
    Some(match (field.name, field.index, under) {
        ("taxes", index, _) => at.tax("lines.taxes", index, under, row),
        // No CSV layout has line charges.
        ("charges", _, _) => place(row, None),
        ("extensions", None, [key]) if key.index.is_none() => {
            at.field(&format!("lines.extensions.{}", key.name), row)
        }
        // A partner's `po_number` column names the PO of each row's line.
        ("po_number", None, []) if invoice => match at.column("lines.po_number", 0) {
            Some(c) => place(row, Some(c)),
            None => at.field("po_number", row),
        },
        // Without an amount column, the amount is quantity × price.
        ("amount", None, []) => match (
            at.column("lines.amount", 0),
            at.column("lines.quantity", 0),
            at.column("lines.unit_price", 0),
        ) {
            (Some(c), _, _) => place(row, Some(c)),
            (None, Some(q), Some(p)) => format!(
                "row {row}, column {} × column {}",
                column_words(q),
                column_words(p)
            ),
            _ => place(row, None),
        },
        (
            name @ ("line_number" | "quantity" | "uom" | "unit_price" | "description"
            | "supplier_part_id" | "buyer_part_id"),
            None,
            [],
        ) => at.field(&format!("lines.{name}"), row),
        ("po_line_number", None, []) if invoice => at.field("lines.po_line_number", row),
        ("need_by", None, []) if !invoice => at.field("lines.need_by", row),
        _ => return None,
    })
}

/// Where field `rest` of party `role` is, in the document's first row.
fn party(document: &Document, at: &At<'_>, role: &str, rest: &[PathStep<'_>]) -> Option<String> {
    let row = at.places.heading;
    let Some((field, under)) = rest.split_first() else {
        return Some(at.prefix(&format!("{role}."), row));
    };
    Some(match (field.name, field.index, under) {
        ("name" | "contact" | "email" | "phone", None, []) => {
            at.field(&format!("{role}.{}", field.name), row)
        }
        ("ids", index, _) => {
            let domain = index
                .and_then(|i| party_of(document, role)?.ids.get(i))
                .map(|id| id.domain.to_string());
            match domain {
                Some(d) => at.field(&format!("{role}.ids.{d}"), row),
                None => at.prefix(&format!("{role}.ids."), row),
            }
        }
        ("address", None, []) => at.prefix(&format!("{role}.address."), row),
        ("address", None, [part, ..]) => match (part.name, part.index) {
            ("lines", index) => place(
                row,
                at.column(&format!("{role}.address.lines"), index.unwrap_or(0)),
            ),
            ("city" | "region" | "postal_code" | "country", None) => {
                at.field(&format!("{role}.address.{}", part.name), row)
            }
            _ => return None,
        },
        _ => return None,
    })
}

fn party_of<'d>(document: &'d Document, role: &str) -> Option<&'d Party> {
    match (document, role) {
        (Document::Invoice(i), "supplier") => i.supplier.as_ref(),
        (Document::Invoice(i), "buyer") => i.buyer.as_ref(),
        (Document::Invoice(i), "bill_to") => i.bill_to.as_ref(),
        (Document::Invoice(i), "remit_to") => i.remit_to.as_ref(),
        (Document::Invoice(i), "ship_to") => i.ship_to.as_ref(),
        (Document::PurchaseOrder(p), "supplier") => p.supplier.as_ref(),
        (Document::PurchaseOrder(p), "buyer") => p.buyer.as_ref(),
        (Document::PurchaseOrder(p), "bill_to") => p.bill_to.as_ref(),
        (Document::PurchaseOrder(p), "ship_to") => p.ship_to.as_ref(),
        _ => None,
    }
}

/// `row 5, column "Quantity" (I)`, or the row alone, saying no column holds the field; a row
/// not known (0) is left out.
fn place(row: u32, column: Option<&SourceColumn>) -> String {
    match (row, column) {
        (0, Some(c)) => format!("column {}", column_words(c)),
        (r, Some(c)) => format!("row {r}, column {}", column_words(c)),
        (r, None) => format!("{} (no column holds it)", row_words(r)),
    }
}

fn row_words(row: u32) -> String {
    match row {
        0 => "the document's rows".to_string(),
        r => format!("row {r}"),
    }
}

/// `"Quantity" (I)`, or `9 (I)` for a column without a name (no header row).
fn column_words(c: &SourceColumn) -> String {
    let letter = column_letter(c.index);
    if c.name.is_empty() {
        format!("{} ({letter})", u64::from(c.index) + 1)
    } else {
        format!("{:?} ({letter})", c.name.as_str())
    }
}

/// The spreadsheet letter of the 0-based column `index`: `A`, ..., `Z`, `AA`, ...
pub(crate) fn column_letter(index: u32) -> String {
    let mut n = u64::from(index) + 1;
    let mut letters = Vec::new();
    while n > 0 {
        let rem = (n - 1) % 26;
        letters.push(char::from(b'A' + u8::try_from(rem).unwrap_or(0)));
        n = (n - 1) / 26;
    }
    letters.iter().rev().collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use gateway_core::{Decode, PartnerProfile};

    #[test]
    fn columns_are_lettered_as_spreadsheets_do() {
        let letters: Vec<String> = [0, 1, 25, 26, 27, 51, 52, 701, 702]
            .into_iter()
            .map(column_letter)
            .collect();
        assert_eq!(
            letters,
            ["A", "B", "Z", "AA", "AB", "AZ", "BA", "ZZ", "AAA"]
        );
    }

    /// A Coupa invoice import with a column for every field the layout reads.
    const COUPA_INVOICE: &str = "\
Invoice,Invoice Number*,Supplier Name,Supplier Number,Supplier City,Invoice Date*,Currency,Payment Terms,PO Number,Supplier Note,Invoice Control Total,Tax Amount,Is Credit Note,Shipping Amount,Ship To Address Street1,Bill To Name,Remit To Name,Buyer Name
Invoice Line,Invoice Number*,Line Number,Description*,Supplier Part Number,Buyer Part Number,Price*,Quantity,Unit of Measure*,PO Number,PO Line Number,Line Tax Amount,Total
Invoice Charge,Invoice Number*,Type,Total,Description
Invoice,INV-1,Acme,SUP-1,Springfield,2026-03-01,USD,Net 30,PO-1,note,61.00,1.00,false,5.00,1 Main St,Globex AP,Acme Lockbox,Globex
Invoice Line,INV-1,1,Widgets,W-1,B-1,10.00,2,EA,PO-1,1,0.50,20.00
Invoice Line,INV-1,2,Gadgets,G-1,B-2,15.00,2,EA,PO-1,2,0.50,30.00
Invoice Charge,INV-1,InvoiceHandlingCharge,5.00,Handling
";

    fn decoded(raw: &str, profile: &PartnerProfile) -> gateway_core::DecodedDocument {
        let d = crate::CsvCodec.decode(raw.as_bytes(), profile);
        assert!(d.rejects.is_empty(), "{:?}", d.rejects);
        assert_eq!(d.documents.len(), 1);
        d.documents.into_iter().next().unwrap()
    }

    /// Where `path` of `d` is, as `gateway validate` asks the codec.
    fn at(d: &gateway_core::DecodedDocument, path: &str) -> Option<String> {
        crate::CsvCodec.source_path(&d.document, &d.meta, path)
    }

    #[test]
    fn a_coupa_import_names_the_row_and_column_of_each_field() {
        let d = decoded(COUPA_INVOICE, &PartnerProfile::anonymous());
        assert_eq!(d.meta.places.format, Some(gateway_core::Format::Csv));
        let place_of = |p: &str| at(&d, p).unwrap();
        assert_eq!(
            place_of("$.invoice_number"),
            r#"row 4, column "Invoice Number" (B)"#
        );
        assert_eq!(
            place_of("$.invoice_date"),
            r#"row 4, column "Invoice Date" (F)"#
        );
        assert_eq!(place_of("$.currency"), r#"row 4, column "Currency" (G)"#);
        assert_eq!(
            place_of("$.lines[1].quantity"),
            r#"row 6, column "Quantity" (H)"#
        );
        assert_eq!(
            place_of("$.lines[0].unit_price"),
            r#"row 5, column "Price" (G)"#
        );
        assert_eq!(
            place_of("$.lines[0].amount"),
            r#"row 5, column "Total" (M)"#
        );
        assert_eq!(
            place_of("$.lines[1].taxes[0]"),
            r#"row 6, column "Line Tax Amount" (L)"#
        );
        assert_eq!(
            place_of("$.supplier"),
            r#"row 4, column "Supplier Name" (C)"#
        );
        assert_eq!(
            place_of("$.supplier.address.city"),
            r#"row 4, column "Supplier City" (E)"#
        );
        assert_eq!(
            place_of("$.ship_to.address.lines[0]"),
            r#"row 4, column "Ship To Address Street1" (O)"#
        );
        assert_eq!(
            place_of("$.charges[0].amount"),
            r#"row 4, column "Shipping Amount" (N)"#
        );
        assert_eq!(
            place_of("$.charges[1]"),
            r#"an Invoice Charge row from row 7, column "Total" (D)"#
        );
        assert_eq!(place_of("$.lines"), "rows 5-6");
        assert_eq!(place_of("$.lines[1]"), "row 6");
        assert_eq!(place_of("$"), "rows 4-7");
        // No column of the layout: the row, saying so.
        assert_eq!(
            place_of("$.payment_terms.net_days"),
            "row 4 (no column holds it)"
        );
        assert_eq!(
            place_of("$.lines[0].charges[0]"),
            "row 5 (no column holds it)"
        );
        // What the document has no place for, or is no path, is not guessed.
        for unknown in [
            "$.lines[5].quantity",
            "$.nonsense",
            "lines",
            "$.lines[0].bogus",
            "$.version",
            "$.lines[0].need_by",
        ] {
            assert_eq!(at(&d, unknown), None, "{unknown}");
        }
    }

    /// Every field CANONICAL.md maps has a place in a Coupa import that has its column; those
    /// the import has no column for are placed at their row, saying so.
    #[test]
    fn every_mapped_invoice_and_order_field_has_a_csv_place() {
        let invoice = decoded(COUPA_INVOICE, &PartnerProfile::anonymous());
        // Coupa's invoice import has no subtotal, tax total, terms days or discount, and no
        // line charges.
        let not_in_coupa_import: &[&str] = &[
            "$.payment_terms.net_days",
            "$.payment_terms.discount_percent",
            "$.payment_terms.discount_days",
            "$.lines[0].charges[0].amount",
            "$.subtotal",
            "$.tax_total",
        ];
        for field in gateway_core::testkit::CANONICAL_INVOICE_PATHS {
            let place = at(&invoice, field);
            let place = place.as_deref().unwrap_or_else(|| panic!("{field}: None"));
            assert_eq!(
                place.contains("no column holds it"),
                not_in_coupa_import.contains(field),
                "{field}: {place}"
            );
        }
        let order = decoded(
            "\
type,id,po-number,version,created-at,currency,total,status,supplier-name,ship-to-address-street1,ship-to-address-postal-code,payment-terms-code
Header,61,PO-61,2,2026-03-01,USD,20.00,issued,Acme,1 Main St,12345,Net 30
type,line-num,description,quantity,price,uom,need-by-date,source-part-num,item-number,total,order-header-id
Line,1,Widgets,2,10.00,EA,2026-04-01,W-1,B-1,20.00,61
",
            &PartnerProfile::anonymous(),
        );
        // The export has no buyer or bill-to columns.
        let not_in_po_export: &[&str] = &["$.buyer", "$.bill_to"];
        for field in gateway_core::testkit::CANONICAL_ORDER_PATHS {
            let place = at(&order, field);
            let place = place.as_deref().unwrap_or_else(|| panic!("{field}: None"));
            assert_eq!(
                place.contains("no column holds it"),
                not_in_po_export.contains(field),
                "{field}: {place}"
            );
        }
        assert_eq!(
            at(&order, "$.lines[0].need_by").unwrap(),
            r#"row 4, column "need-by-date" (G)"#
        );
        assert_eq!(
            at(&order, "$.po_number").unwrap(),
            r#"row 2, column "po-number" (C)"#
        );
    }

    #[test]
    fn a_column_map_names_the_partners_columns_and_numbers_without_a_header() {
        let profile = PartnerProfile::from_toml(
            r#"
id = "sheet"
[csv]
currency = "EUR"
columns = [
  { column = "Rechnung", field = "invoice_number" },
  { column = "Bestellung", field = "po_number" },
  { column = "Menge", field = "lines.quantity" },
  { column = "Preis", field = "lines.unit_price" },
]
"#,
            "t.toml",
        )
        .unwrap();
        let d = decoded(
            "Rechnung,Bestellung,Menge,Preis\nR-1,PO-1,2,1.00\nR-1,PO-2,,3.00\n",
            &profile,
        );
        let place_of = |p: &str| at(&d, p).unwrap();
        assert_eq!(
            place_of("$.lines[1].quantity"),
            r#"row 3, column "Menge" (C)"#
        );
        assert_eq!(
            place_of("$.invoice_number"),
            r#"row 2, column "Rechnung" (A)"#
        );
        // A row's PO, in the document column of that row.
        assert_eq!(
            place_of("$.lines[1].po_number"),
            r#"row 3, column "Bestellung" (B)"#
        );
        assert_eq!(
            place_of("$.lines[0].amount"),
            r#"row 2, column "Menge" (C) × column "Preis" (D)"#
        );
        // The partner's currency comes from its profile: no column holds it.
        assert_eq!(place_of("$.currency"), "row 2 (no column holds it)");

        let numbered = PartnerProfile::from_toml(
            r#"
id = "n"
[csv]
has_header = false
kind = "purchase_order"
columns = [
  { column = "1", field = "po_number" },
  { column = "28", field = "lines.quantity" },
]
"#,
            "t.toml",
        )
        .unwrap();
        let mut row = vec![""; 28];
        row[0] = "PO-9";
        row[27] = "4";
        let d = decoded(&format!("{}\n", row.join(",")), &numbered);
        assert_eq!(
            at(&d, "$.lines[0].quantity").unwrap(),
            "row 1, column 28 (AB)"
        );
    }
}
