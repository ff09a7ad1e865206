//! Canonical field paths of a partner column map (`invoice_number`, `ship_to.address.city`,
//! `lines.unit_price`), parsed once per file, and how each is read from and written to a
//! document.

use gateway_model::{
    Address, ChargeKind, Document, DocumentKind, InvoiceLine, InvoicePurpose, OrderLine,
    OrderPurpose, Party, PartyId, PaymentTerms, Tax, Text,
};

use crate::cells::Cells;
use crate::value::ValueFormat;

/// A party of a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Supplier,
    Buyer,
    BillTo,
    RemitTo,
    ShipTo,
}

/// A part of a party.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PartyField {
    Name,
    Id(String),
    /// One street line; each mapping to `address.lines` adds the next one.
    Line,
    City,
    Region,
    PostalCode,
    Country,
    Contact,
    Email,
    Phone,
}

/// A document-level field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeadField {
    Number,
    Date,
    /// `purpose`: `standard`, `credit_memo`, `debit_memo` (invoices); `new`, `update`,
    /// `cancel` (orders), as the canonical JSON names them.
    Purpose,
    PoNumber,
    Currency,
    Version,
    Total,
    Subtotal,
    TaxTotal,
    Comments,
    Party(Role, PartyField),
    TermsDescription,
    NetDays,
    DiscountPercent,
    DiscountDays,
    Charge(ChargeKind),
    TaxAmount,
    TaxRate,
    TaxCategory,
    Extension(String),
}

/// A line-level field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineField {
    LineNumber,
    Quantity,
    Uom,
    UnitPrice,
    Amount,
    Description,
    SupplierPart,
    BuyerPart,
    PoLine,
    /// `lines.po_number` (invoices): the PO the line bills; read and written with the
    /// invoice's in mind ([`crate::line_po`]).
    PoNumber,
    NeedBy,
    TaxAmount,
    TaxRate,
    TaxCategory,
    Extension(String),
}

/// What one mapped column holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    Ignore,
    Head(HeadField),
    Line(LineField),
}

const PATHS: &str = "invoice_number, po_number, invoice_date, order_date, purpose, currency, \
version, total, subtotal, tax_total, comments, <party>.name, <party>.ids.<domain>, \
<party>.address.lines|city|region|postal_code|country, <party>.contact|email|phone \
(<party>: supplier, buyer, bill_to, remit_to, ship_to), payment_terms.description|net_days|\
discount_percent|discount_days, charges.shipping|handling|discount|other, \
taxes.amount|rate|category, extensions.<key>, lines.line_number|quantity|uom|unit_price|amount|\
description|supplier_part_id|buyer_part_id|po_line_number|po_number|need_by, \
lines.taxes.amount|rate|category, lines.extensions.<key>, ignore";

/// Parses a field path for documents of `kind`.
pub fn parse(path: &str, kind: DocumentKind) -> Result<Field, String> {
    let invoice = kind == DocumentKind::Invoice;
    let bad = || format!("unknown field {path:?} for {kind} documents; expected one of: {PATHS}");
    let p = path.trim();
    if p == "ignore" {
        return Ok(Field::Ignore);
    }
    if let Some(rest) = p.strip_prefix("lines.") {
        let f = match rest {
            "line_number" => LineField::LineNumber,
            "quantity" => LineField::Quantity,
            "uom" => LineField::Uom,
            "unit_price" => LineField::UnitPrice,
            "amount" => LineField::Amount,
            "description" => LineField::Description,
            "supplier_part_id" => LineField::SupplierPart,
            "buyer_part_id" => LineField::BuyerPart,
            "po_line_number" if invoice => LineField::PoLine,
            "po_number" if invoice => LineField::PoNumber,
            "need_by" if !invoice => LineField::NeedBy,
            "taxes.amount" => LineField::TaxAmount,
            "taxes.rate" => LineField::TaxRate,
            "taxes.category" => LineField::TaxCategory,
            other => match other.strip_prefix("extensions.") {
                Some(k) if !k.is_empty() => LineField::Extension(k.to_string()),
                _ => return Err(bad()),
            },
        };
        return Ok(Field::Line(f));
    }
    let f = match p {
        "invoice_number" if invoice => HeadField::Number,
        "po_number" if invoice => HeadField::PoNumber,
        "po_number" => HeadField::Number,
        "invoice_date" if invoice => HeadField::Date,
        "order_date" if !invoice => HeadField::Date,
        "purpose" => HeadField::Purpose,
        "currency" => HeadField::Currency,
        "version" if !invoice => HeadField::Version,
        "total" => HeadField::Total,
        "subtotal" if invoice => HeadField::Subtotal,
        "tax_total" if invoice => HeadField::TaxTotal,
        "comments" => HeadField::Comments,
        "payment_terms.description" => HeadField::TermsDescription,
        "payment_terms.net_days" => HeadField::NetDays,
        "payment_terms.discount_percent" => HeadField::DiscountPercent,
        "payment_terms.discount_days" => HeadField::DiscountDays,
        "charges.shipping" => HeadField::Charge(ChargeKind::Shipping),
        "charges.handling" => HeadField::Charge(ChargeKind::Handling),
        "charges.discount" => HeadField::Charge(ChargeKind::Discount),
        "charges.other" => HeadField::Charge(ChargeKind::Other),
        "taxes.amount" => HeadField::TaxAmount,
        "taxes.rate" => HeadField::TaxRate,
        "taxes.category" => HeadField::TaxCategory,
        other => {
            if let Some(k) = other.strip_prefix("extensions.").filter(|k| !k.is_empty()) {
                HeadField::Extension(k.to_string())
            } else {
                let (role, rest) = other.split_once('.').ok_or_else(bad)?;
                let role = match role {
                    "supplier" => Role::Supplier,
                    "buyer" => Role::Buyer,
                    "bill_to" => Role::BillTo,
                    "remit_to" if invoice => Role::RemitTo,
                    "ship_to" => Role::ShipTo,
                    _ => return Err(bad()),
                };
                let pf = match rest {
                    "name" => PartyField::Name,
                    "address.lines" => PartyField::Line,
                    "address.city" => PartyField::City,
                    "address.region" => PartyField::Region,
                    "address.postal_code" => PartyField::PostalCode,
                    "address.country" => PartyField::Country,
                    "contact" => PartyField::Contact,
                    "email" => PartyField::Email,
                    "phone" => PartyField::Phone,
                    r => match r.strip_prefix("ids.") {
                        Some(d) if !d.is_empty() => PartyField::Id(d.to_string()),
                        _ => return Err(bad()),
                    },
                };
                HeadField::Party(role, pf)
            }
        }
    };
    Ok(Field::Head(f))
}

/// The field path of `f` for documents of `kind`, as [`parse`] reads it (`None` for
/// `ignore`): what a decoded document records for each column it was read from, so a problem
/// found later is placed at its column ([`crate::source_path`]).
pub fn path(f: &Field, kind: DocumentKind) -> Option<String> {
    let invoice = kind == DocumentKind::Invoice;
    Some(match f {
        Field::Ignore => return None,
        Field::Head(h) => match h {
            HeadField::Number if invoice => "invoice_number".into(),
            HeadField::Number | HeadField::PoNumber => "po_number".into(),
            HeadField::Date if invoice => "invoice_date".into(),
            HeadField::Date => "order_date".into(),
            HeadField::Purpose => "purpose".into(),
            HeadField::Currency => "currency".into(),
            HeadField::Version => "version".into(),
            HeadField::Total => "total".into(),
            HeadField::Subtotal => "subtotal".into(),
            HeadField::TaxTotal => "tax_total".into(),
            HeadField::Comments => "comments".into(),
            HeadField::Party(role, pf) => {
                let part = match pf {
                    PartyField::Name => "name".to_string(),
                    PartyField::Id(d) => format!("ids.{d}"),
                    PartyField::Line => "address.lines".into(),
                    PartyField::City => "address.city".into(),
                    PartyField::Region => "address.region".into(),
                    PartyField::PostalCode => "address.postal_code".into(),
                    PartyField::Country => "address.country".into(),
                    PartyField::Contact => "contact".into(),
                    PartyField::Email => "email".into(),
                    PartyField::Phone => "phone".into(),
                };
                format!("{}.{part}", role_name(*role))
            }
            HeadField::TermsDescription => "payment_terms.description".into(),
            HeadField::NetDays => "payment_terms.net_days".into(),
            HeadField::DiscountPercent => "payment_terms.discount_percent".into(),
            HeadField::DiscountDays => "payment_terms.discount_days".into(),
            HeadField::Charge(kind) => format!("charges.{}", charge_kind_name(*kind)),
            HeadField::TaxAmount => "taxes.amount".into(),
            HeadField::TaxRate => "taxes.rate".into(),
            HeadField::TaxCategory => "taxes.category".into(),
            HeadField::Extension(k) => format!("extensions.{k}"),
        },
        Field::Line(l) => format!(
            "lines.{}",
            match l {
                LineField::LineNumber => "line_number",
                LineField::Quantity => "quantity",
                LineField::Uom => "uom",
                LineField::UnitPrice => "unit_price",
                LineField::Amount => "amount",
                LineField::Description => "description",
                LineField::SupplierPart => "supplier_part_id",
                LineField::BuyerPart => "buyer_part_id",
                LineField::PoLine => "po_line_number",
                LineField::PoNumber => "po_number",
                LineField::NeedBy => "need_by",
                LineField::TaxAmount => "taxes.amount",
                LineField::TaxRate => "taxes.rate",
                LineField::TaxCategory => "taxes.category",
                LineField::Extension(k) => return Some(format!("lines.extensions.{k}")),
            }
        ),
    })
}

/// A party's name in field paths (`supplier`, `ship_to`).
pub fn role_name(role: Role) -> &'static str {
    match role {
        Role::Supplier => "supplier",
        Role::Buyer => "buyer",
        Role::BillTo => "bill_to",
        Role::RemitTo => "remit_to",
        Role::ShipTo => "ship_to",
    }
}

/// A charge kind's name in field paths (`charges.shipping`).
pub fn charge_kind_name(kind: ChargeKind) -> &'static str {
    match kind {
        ChargeKind::Shipping => "shipping",
        ChargeKind::Handling => "handling",
        ChargeKind::Discount => "discount",
        ChargeKind::Other => "other",
    }
}

fn party_slot(doc: &mut Document, role: Role) -> Option<&mut Option<Party>> {
    Some(match (doc, role) {
        (Document::Invoice(i), Role::Supplier) => &mut i.supplier,
        (Document::Invoice(i), Role::Buyer) => &mut i.buyer,
        (Document::Invoice(i), Role::BillTo) => &mut i.bill_to,
        (Document::Invoice(i), Role::RemitTo) => &mut i.remit_to,
        (Document::Invoice(i), Role::ShipTo) => &mut i.ship_to,
        (Document::PurchaseOrder(p), Role::Supplier) => &mut p.supplier,
        (Document::PurchaseOrder(p), Role::Buyer) => &mut p.buyer,
        (Document::PurchaseOrder(p), Role::BillTo) => &mut p.bill_to,
        (Document::PurchaseOrder(p), Role::ShipTo) => &mut p.ship_to,
        (Document::PurchaseOrder(_), Role::RemitTo) => return None,
    })
}

/// The party of `doc` in `role`, if it has one.
pub fn party_of(doc: &Document, role: Role) -> Option<&Party> {
    match (doc, role) {
        (Document::Invoice(i), Role::Supplier) => i.supplier.as_ref(),
        (Document::Invoice(i), Role::Buyer) => i.buyer.as_ref(),
        (Document::Invoice(i), Role::BillTo) => i.bill_to.as_ref(),
        (Document::Invoice(i), Role::RemitTo) => i.remit_to.as_ref(),
        (Document::Invoice(i), Role::ShipTo) => i.ship_to.as_ref(),
        (Document::PurchaseOrder(p), Role::Supplier) => p.supplier.as_ref(),
        (Document::PurchaseOrder(p), Role::Buyer) => p.buyer.as_ref(),
        (Document::PurchaseOrder(p), Role::BillTo) => p.bill_to.as_ref(),
        (Document::PurchaseOrder(p), Role::ShipTo) => p.ship_to.as_ref(),
        (Document::PurchaseOrder(_), Role::RemitTo) => None,
    }
}

fn terms(doc: &mut Document) -> &mut PaymentTerms {
    let slot = match doc {
        Document::Invoice(i) => &mut i.payment_terms,
        Document::PurchaseOrder(p) => &mut p.payment_terms,
    };
    slot.get_or_insert_with(PaymentTerms::default)
}

/// The first tax, created when there is none (a column map describes one tax per level).
fn first_tax(taxes: &mut Vec<Tax>) -> Option<&mut Tax> {
    if taxes.is_empty() {
        taxes.push(Tax::default());
    }
    taxes.first_mut()
}

fn ext_string(ext: &mut gateway_model::Extensions, key: &str, v: String) {
    ext.insert(key.to_string(), serde_json::Value::String(v));
}

/// Reads the cell `i` of `c` into the document-level field `f`. Empty cells set nothing.
pub fn set_head(doc: &mut Document, f: &HeadField, c: &mut Cells<'_>, i: Option<usize>) {
    if c.raw(i).is_empty() {
        return;
    }
    match f {
        HeadField::Number => {
            let v = c.text(i);
            match doc {
                Document::Invoice(x) => x.invoice_number = v,
                Document::PurchaseOrder(x) => x.po_number = v,
            }
        }
        HeadField::Date => {
            let v = c.date(i);
            match doc {
                Document::Invoice(x) => x.invoice_date = v,
                Document::PurchaseOrder(x) => x.order_date = v,
            }
        }
        HeadField::Purpose => {
            let raw = c.raw(i);
            let word = raw.to_ascii_lowercase().replace([' ', '-'], "_");
            match doc {
                Document::Invoice(x) => match word.as_str() {
                    "standard" => x.purpose = Some(InvoicePurpose::Standard),
                    "credit_memo" => x.purpose = Some(InvoicePurpose::CreditMemo),
                    "debit_memo" => x.purpose = Some(InvoicePurpose::DebitMemo),
                    _ => c.problem(
                        i,
                        format!("{raw:?} (expected standard, credit_memo or debit_memo)"),
                    ),
                },
                Document::PurchaseOrder(x) => match word.as_str() {
                    "new" => x.purpose = Some(OrderPurpose::New),
                    "update" => x.purpose = Some(OrderPurpose::Update),
                    "cancel" => x.purpose = Some(OrderPurpose::Cancel),
                    _ => c.problem(i, format!("{raw:?} (expected new, update or cancel)")),
                },
            }
        }
        HeadField::PoNumber => {
            if let Document::Invoice(x) = doc {
                x.po_number = c.text(i);
            }
        }
        HeadField::Currency => {
            let v = c.text(i);
            match doc {
                Document::Invoice(x) => x.currency = v,
                Document::PurchaseOrder(x) => x.currency = v,
            }
        }
        HeadField::Version => {
            let v = c.whole(i);
            if let Document::PurchaseOrder(x) = doc {
                x.version = v;
            }
        }
        HeadField::Total => {
            let v = c.decimal(i);
            match doc {
                Document::Invoice(x) => x.total = v,
                Document::PurchaseOrder(x) => x.total = v,
            }
        }
        HeadField::Subtotal => {
            let v = c.decimal(i);
            if let Document::Invoice(x) = doc {
                x.subtotal = v;
            }
        }
        HeadField::TaxTotal => {
            let v = c.decimal(i);
            if let Document::Invoice(x) = doc {
                x.tax_total = v;
            }
        }
        HeadField::Comments => {
            let v = c.text(i);
            match doc {
                Document::Invoice(x) => x.comments = v,
                Document::PurchaseOrder(x) => x.comments = v,
            }
        }
        HeadField::Party(role, pf) => {
            let v = c.text(i);
            if let (Some(slot), Some(v)) = (party_slot(doc, *role), v) {
                set_party(slot.get_or_insert_with(Party::default), pf, v);
            }
        }
        HeadField::TermsDescription => terms(doc).description = c.text(i),
        HeadField::NetDays => {
            let v = c.whole(i);
            terms(doc).net_days = v;
        }
        HeadField::DiscountPercent => {
            let v = c.decimal(i);
            terms(doc).discount_percent = v;
        }
        HeadField::DiscountDays => {
            let v = c.whole(i);
            terms(doc).discount_days = v;
        }
        HeadField::Charge(kind) => {
            if let Some(a) = c.decimal(i) {
                let ch = gateway_model::Charge {
                    kind: *kind,
                    amount: Some(a),
                    rate: None,
                    category: None,
                    description: None,
                    code: None,
                };
                match doc {
                    Document::Invoice(x) => x.charges.push(ch),
                    Document::PurchaseOrder(x) => x.charges.push(ch),
                }
            }
        }
        HeadField::TaxAmount | HeadField::TaxRate | HeadField::TaxCategory => {
            let taxes = match doc {
                Document::Invoice(x) => &mut x.taxes,
                Document::PurchaseOrder(x) => &mut x.taxes,
            };
            if let Some(t) = first_tax(taxes) {
                set_tax(t, f, c, i);
            }
        }
        HeadField::Extension(k) => {
            if let Some(v) = c.text(i) {
                ext_string(doc.extensions_mut(), k, v.into_string());
            }
        }
    }
}

fn set_tax(t: &mut Tax, f: &HeadField, c: &mut Cells<'_>, i: Option<usize>) {
    match f {
        HeadField::TaxAmount => t.amount = c.decimal(i),
        HeadField::TaxRate => t.rate = c.decimal(i),
        _ => t.category = c.text(i),
    }
}

fn set_party(p: &mut Party, f: &PartyField, v: Text) {
    fn addr(p: &mut Party) -> &mut Address {
        p.address.get_or_insert_with(Address::default)
    }
    match f {
        PartyField::Name => p.name = Some(v),
        PartyField::Id(d) => p.ids.push(PartyId {
            domain: d.as_str().into(),
            value: v,
        }),
        PartyField::Line => addr(p).lines.push(v),
        PartyField::City => addr(p).city = Some(v),
        PartyField::Region => addr(p).region = Some(v),
        PartyField::PostalCode => addr(p).postal_code = Some(v),
        PartyField::Country => addr(p).country = Some(v),
        PartyField::Contact => p.contact = Some(v),
        PartyField::Email => p.email = Some(v),
        PartyField::Phone => p.phone = Some(v),
    }
}

/// A line of either kind, for the line-level setters and getters.
#[derive(Debug)]
pub enum LineMut<'a> {
    Invoice(&'a mut InvoiceLine),
    Order(&'a mut OrderLine),
}

/// Reads cell `i` into the line-level field `f`.
pub fn set_line(line: &mut LineMut<'_>, f: &LineField, c: &mut Cells<'_>, i: Option<usize>) {
    if c.raw(i).is_empty() {
        return;
    }
    macro_rules! both {
        ($l:ident => $e:expr) => {
            match line {
                LineMut::Invoice($l) => $e,
                LineMut::Order($l) => $e,
            }
        };
    }
    match f {
        LineField::LineNumber => {
            if let Some(n) = c.whole(i) {
                both!(l => l.line_number = n)
            }
        }
        LineField::Quantity => {
            let v = c.decimal(i);
            both!(l => l.quantity = v)
        }
        LineField::Uom => both!(l => l.uom = c.text(i)),
        LineField::UnitPrice => {
            let v = c.decimal(i);
            both!(l => l.unit_price = v)
        }
        LineField::Amount => {
            let v = c.decimal(i);
            both!(l => l.amount = v)
        }
        LineField::Description => both!(l => l.description = c.text(i)),
        LineField::SupplierPart => both!(l => l.supplier_part_id = c.text(i)),
        LineField::BuyerPart => both!(l => l.buyer_part_id = c.text(i)),
        LineField::PoLine => {
            if let LineMut::Invoice(l) = line {
                l.po_line_number = c.text(i);
            }
        }
        LineField::PoNumber => {
            if let LineMut::Invoice(l) = line {
                l.po_number = c.text(i);
            }
        }
        LineField::NeedBy => {
            let v = c.date(i);
            if let LineMut::Order(l) = line {
                l.need_by = v;
            }
        }
        LineField::TaxAmount | LineField::TaxRate | LineField::TaxCategory => {
            let taxes = both!(l => &mut l.taxes);
            if let Some(t) = first_tax(taxes) {
                match f {
                    LineField::TaxAmount => t.amount = c.decimal(i),
                    LineField::TaxRate => t.rate = c.decimal(i),
                    _ => t.category = c.text(i),
                }
            }
        }
        LineField::Extension(k) => {
            if let Some(v) = c.text(i) {
                both!(l => ext_string(&mut l.extensions, k, v.into_string()))
            }
        }
    }
}

/// The text of document-level field `f` in `doc`; `occurrence` picks the n-th street line
/// when several columns map to `address.lines`.
pub fn get_head(
    doc: &Document,
    f: &HeadField,
    occurrence: usize,
    fmt: &ValueFormat,
) -> Option<String> {
    let dec = |d: Option<rust_decimal::Decimal>| d.map(|d| fmt.write_decimal(d));
    let (inv, po) = match doc {
        Document::Invoice(i) => (Some(i), None),
        Document::PurchaseOrder(p) => (None, Some(p)),
    };
    let terms = inv
        .and_then(|i| i.payment_terms.as_ref())
        .or_else(|| po.and_then(|p| p.payment_terms.as_ref()));
    let taxes = inv.map(|i| &i.taxes).or_else(|| po.map(|p| &p.taxes));
    let first_tax = taxes.and_then(|t| t.first());
    match f {
        HeadField::Number => Some(doc.number().to_string()).filter(|s| !s.is_empty()),
        HeadField::Date => inv
            .and_then(|i| i.invoice_date)
            .or_else(|| po.and_then(|p| p.order_date))
            .map(|d| fmt.write_date(d)),
        HeadField::Purpose => match doc {
            Document::Invoice(i) => i.purpose.map(|p| {
                match p {
                    InvoicePurpose::Standard => "standard",
                    InvoicePurpose::CreditMemo => "credit_memo",
                    InvoicePurpose::DebitMemo => "debit_memo",
                }
                .to_string()
            }),
            Document::PurchaseOrder(p) => p.purpose.map(|p| {
                match p {
                    OrderPurpose::New => "new",
                    OrderPurpose::Update => "update",
                    OrderPurpose::Cancel => "cancel",
                }
                .to_string()
            }),
        },
        HeadField::PoNumber => inv.and_then(|i| owned(&i.po_number)),
        HeadField::Currency => inv
            .and_then(|i| owned(&i.currency))
            .or_else(|| po.and_then(|p| owned(&p.currency))),
        HeadField::Version => po.and_then(|p| p.version).map(|v| v.to_string()),
        HeadField::Total => dec(inv
            .and_then(|i| i.total)
            .or_else(|| po.and_then(|p| p.total))),
        HeadField::Subtotal => dec(inv.and_then(|i| i.subtotal)),
        HeadField::TaxTotal => dec(inv.and_then(|i| i.tax_total)),
        HeadField::Comments => inv
            .and_then(|i| owned(&i.comments))
            .or_else(|| po.and_then(|p| owned(&p.comments))),
        HeadField::Party(role, pf) => {
            let p = party_of(doc, *role)?;
            let a = p.address.as_ref();
            match pf {
                PartyField::Name => owned(&p.name),
                PartyField::Id(d) => p.id_in(d).map(str::to_string),
                PartyField::Line => a.and_then(|a| a.lines.get(occurrence).map(|l| l.to_string())),
                PartyField::City => a.and_then(|a| owned(&a.city)),
                PartyField::Region => a.and_then(|a| owned(&a.region)),
                PartyField::PostalCode => a.and_then(|a| owned(&a.postal_code)),
                PartyField::Country => a.and_then(|a| owned(&a.country)),
                PartyField::Contact => owned(&p.contact),
                PartyField::Email => owned(&p.email),
                PartyField::Phone => owned(&p.phone),
            }
        }
        HeadField::TermsDescription => terms.and_then(|t| owned(&t.description)),
        HeadField::NetDays => terms.and_then(|t| t.net_days).map(|v| v.to_string()),
        HeadField::DiscountPercent => dec(terms.and_then(|t| t.discount_percent)),
        HeadField::DiscountDays => terms.and_then(|t| t.discount_days).map(|v| v.to_string()),
        HeadField::Charge(kind) => {
            let charges = inv.map(|i| &i.charges).or_else(|| po.map(|p| &p.charges))?;
            // The first charge of the kind that has an amount: one column holds one charge.
            dec(charges
                .iter()
                .filter(|c| c.kind == *kind)
                .find_map(|c| c.amount))
        }
        HeadField::TaxAmount => dec(first_tax.and_then(|t| t.amount)),
        HeadField::TaxRate => dec(first_tax.and_then(|t| t.rate)),
        HeadField::TaxCategory => first_tax.and_then(|t| owned(&t.category)),
        HeadField::Extension(k) => doc.extensions().get(k).map(json_text),
    }
}

/// A model text as an owned cell value.
fn owned(t: &Option<Text>) -> Option<String> {
    t.as_deref().map(str::to_string)
}

/// A line of either kind, read-only.
#[derive(Debug, Clone, Copy)]
pub enum LineRef<'a> {
    Invoice(&'a InvoiceLine),
    Order(&'a OrderLine),
}

/// The text of line-level field `f`.
pub fn get_line(line: LineRef<'_>, f: &LineField, fmt: &ValueFormat) -> Option<String> {
    macro_rules! both {
        ($l:ident => $e:expr) => {
            match line {
                LineRef::Invoice($l) => $e,
                LineRef::Order($l) => $e,
            }
        };
    }
    let dec = |d: Option<rust_decimal::Decimal>| d.map(|d| fmt.write_decimal(d));
    match f {
        LineField::LineNumber => Some(both!(l => l.line_number).to_string()),
        LineField::Quantity => dec(both!(l => l.quantity)),
        LineField::Uom => both!(l => owned(&l.uom)),
        LineField::UnitPrice => dec(both!(l => l.unit_price)),
        LineField::Amount => dec(both!(l => l.amount)),
        LineField::Description => both!(l => owned(&l.description)),
        LineField::SupplierPart => both!(l => owned(&l.supplier_part_id)),
        LineField::BuyerPart => both!(l => owned(&l.buyer_part_id)),
        LineField::PoLine => match line {
            LineRef::Invoice(l) => owned(&l.po_line_number),
            LineRef::Order(_) => None,
        },
        // The line's own; the writer writes the invoice's where the line has none.
        LineField::PoNumber => match line {
            LineRef::Invoice(l) => owned(&l.po_number),
            LineRef::Order(_) => None,
        },
        LineField::NeedBy => match line {
            LineRef::Order(l) => l.need_by.map(|d| fmt.write_date(d)),
            LineRef::Invoice(_) => None,
        },
        LineField::TaxAmount => dec(both!(l => l.taxes.first()).and_then(|t| t.amount)),
        LineField::TaxRate => dec(both!(l => l.taxes.first()).and_then(|t| t.rate)),
        LineField::TaxCategory => both!(l => l.taxes.first()).and_then(|t| owned(&t.category)),
        LineField::Extension(k) => both!(l => l.extensions.get(k)).map(json_text),
    }
}

/// An extension value as cell text: strings as they are, anything else as JSON.
pub fn json_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_parse_by_kind() {
        let inv = DocumentKind::Invoice;
        let po = DocumentKind::PurchaseOrder;
        assert_eq!(
            parse("invoice_number", inv).unwrap(),
            Field::Head(HeadField::Number)
        );
        assert_eq!(
            parse("po_number", po).unwrap(),
            Field::Head(HeadField::Number)
        );
        assert_eq!(
            parse("po_number", inv).unwrap(),
            Field::Head(HeadField::PoNumber)
        );
        assert_eq!(
            parse("supplier.ids.GLN", po).unwrap(),
            Field::Head(HeadField::Party(
                Role::Supplier,
                PartyField::Id("GLN".into())
            ))
        );
        assert_eq!(
            parse("lines.need_by", po).unwrap(),
            Field::Line(LineField::NeedBy)
        );
        assert!(parse("lines.need_by", inv).is_err());
        assert_eq!(
            parse("lines.po_number", inv).unwrap(),
            Field::Line(LineField::PoNumber)
        );
        assert!(parse("lines.po_number", po).is_err());
        assert!(parse("remit_to.name", po).is_err());
        // Every path a map may name reads back as itself.
        for (kind, paths) in [
            (
                inv,
                &[
                    "invoice_number",
                    "po_number",
                    "invoice_date",
                    "remit_to.address.lines",
                    "supplier.ids.GLN",
                    "payment_terms.discount_days",
                    "charges.discount",
                    "taxes.category",
                    "extensions.cost_centre",
                    "lines.po_number",
                    "lines.taxes.rate",
                    "lines.extensions.x",
                ][..],
            ),
            (
                po,
                &["po_number", "order_date", "version", "lines.need_by"][..],
            ),
        ] {
            for p in paths {
                assert_eq!(path(&parse(p, kind).unwrap(), kind).as_deref(), Some(*p));
            }
        }
        assert_eq!(path(&Field::Ignore, inv), None);
        let e = parse("invoice_numbr", inv).unwrap_err();
        assert!(
            e.contains("invoice_numbr") && e.contains("unit_price"),
            "{e}"
        );
    }
}
