//! Business validation of a canonical document: every problem at once, each with its JSON path,
//! split into errors (the document must not be delivered) and warnings (deliver, but tell).

use rust_decimal::Decimal;
use serde::Serialize;

use crate::Text;
use crate::document::{Document, DocumentKind, Invoice, PurchaseOrder};
use arithmetic::{Header, LineFacts};

mod arithmetic;
mod credit;
mod supplier;

pub use credit::CreditDirection;
pub use supplier::PartnerSupplier;

/// How bad a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Error,
    Warning,
}

/// One problem found in a document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub severity: Severity,
    /// JSON path in the canonical document, such as `$.lines[1].amount`.
    pub path: String,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{sev}: {}: {}", self.path, self.message)
    }
}

/// Every problem found in one document.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ValidationReport {
    pub problems: Vec<Problem>,
}

impl ValidationReport {
    pub fn errors(&self) -> impl Iterator<Item = &Problem> {
        self.problems
            .iter()
            .filter(|p| p.severity == Severity::Error)
    }
    pub fn warnings(&self) -> impl Iterator<Item = &Problem> {
        self.problems
            .iter()
            .filter(|p| p.severity == Severity::Warning)
    }
    pub fn has_errors(&self) -> bool {
        self.errors().next().is_some()
    }
    fn error(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.problems.push(Problem {
            severity: Severity::Error,
            path: path.into(),
            message: message.into(),
        });
    }
    fn warning(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.problems.push(Problem {
            severity: Severity::Warning,
            path: path.into(),
            message: message.into(),
        });
    }
}

/// What the receiver knows of a document's sender, which the document then need not say.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Context<'a> {
    /// The sender's partner profile names its supplier in Coupa, which delivery uses: an
    /// invoice without a supplier party (an X12 810 without `N1*SU`, common when the
    /// interchange ids say who sends) is still deliverable, with a warning.
    pub supplier_from_partner: bool,
    /// The document goes on to Coupa, so an invoice is also checked against what Coupa
    /// refuses (an invoice number over 40 characters, a line without a description or with
    /// one over 1,550, more than [`COUPA_MAX_INVOICE_LINES`] lines): the sender hears of it at
    /// once, in its 997 or cXML answer, instead of reading "accepted" for an invoice that
    /// then dies at Coupa as a dead letter. A credit memo whose direction cannot be told
    /// ([`CreditDirection::Unknown`]) is refused too.
    pub to_coupa: bool,
    /// The Coupa supplier the sender's partner profile names, which delivery books its
    /// invoices to whatever they name: with [`Context::to_coupa`], an invoice naming another
    /// Coupa supplier by id or number is refused, naming both, instead of being booked to
    /// the partner's supplier without a word ([`PartnerSupplier`]).
    pub partner_supplier: Option<PartnerSupplier<'a>>,
}

/// Coupa's longest invoice number, in characters.
pub const COUPA_MAX_INVOICE_NUMBER: usize = 40;
/// Coupa's longest invoice line description, in characters.
pub const COUPA_MAX_LINE_DESCRIPTION: usize = 1550;
/// Most lines on one invoice bound for Coupa. Coupa documents that it refuses an invoice of
/// too many lines (its cXML answer "Request Entity Too Large") but publishes no figure: 5,000
/// has no published source, it is the Coupa sandbox's model of that refusal
/// (`gateway_sandbox::invoices::MAX_LINES`). Checked here, the sender reads the refusal in its
/// 997 or cXML answer instead of "accepted" for an invoice that then dies at Coupa; should a
/// Coupa instance be found to take another number, this and the sandbox change together.
pub const COUPA_MAX_INVOICE_LINES: usize = 5_000;

/// How a message about a value over its length starts, so an acknowledgment can report the
/// value as too long rather than as invalid.
pub const TOO_LONG: &str = "too long:";

/// The kinds of document a partner may send ([`Context::to_coupa`]): what the gateway delivers
/// to Coupa. Purchase orders come from Coupa and go out to suppliers; one a partner sends has
/// nowhere to go (the bus routes only `in.invoice.*` inbound, a test of the server checks the
/// two agree), and was answered "the bus did not take it; send again" for ever, holding back
/// the invoices sent with it. Refused by validation, it is refused alike by every inbound
/// path, by the X12 997 and by `gateway validate --partner`.
pub const PARTNER_KINDS: &[DocumentKind] = &[DocumentKind::Invoice];

/// Most text fields holding control characters one report lists; the rest are counted.
const MAX_CONTROLS_LISTED: usize = 20;

impl Document {
    /// Checks required fields, currency shape and arithmetic (line amount = quantity × price,
    /// subtotal = Σ lines, total = subtotal + taxes + charges − discounts; a sum or product
    /// past what a decimal holds is an error at the value that went past, never a panic; a
    /// line number given twice is a warning), knowing nothing of the sender.
    pub fn validate(&self) -> ValidationReport {
        self.validate_in(Context::default())
    }

    /// [`Document::validate`] for a sender the receiver knows (`cx`).
    pub fn validate_in(&self, cx: Context<'_>) -> ValidationReport {
        let mut r = ValidationReport::default();
        if cx.to_coupa && !PARTNER_KINDS.contains(&self.kind()) {
            // Nothing else about it matters: it is not taken whatever it holds.
            let taken: Vec<String> = PARTNER_KINDS
                .iter()
                .map(|k| format!("{:?}", k.as_str()))
                .collect();
            r.error(
                "$.kind",
                format!(
                    "a {} is not taken from a partner: this gateway's inbound endpoints (REST, cXML, X12, file drop, e-mail) take documents of kind {} only, which it delivers to Coupa; purchase orders come from Coupa and go out to suppliers",
                    self.kind(),
                    taken.join(", ")
                ),
            );
            return r;
        }
        match self {
            Document::Invoice(inv) => validate_invoice(inv, cx, &mut r),
            Document::PurchaseOrder(po) => validate_order(po, &mut r),
        }
        r
    }
}

fn required<T>(r: &mut ValidationReport, value: &Option<T>, path: &str, what: &str) {
    if value.is_none() {
        r.error(path, format!("missing: {what} is required"));
    }
}

fn required_text(r: &mut ValidationReport, value: &Option<Text>, path: &str, what: &str) {
    match value {
        Some(v) if !v.trim().is_empty() => {}
        _ => r.error(path, format!("missing: {what} is required")),
    }
}

fn check_currency(r: &mut ValidationReport, currency: &Option<Text>) {
    match currency {
        None => r.warning(
            "$.currency",
            "no currency; the receiver's default will apply",
        ),
        Some(c) if c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase()) => {}
        Some(c) => r.error(
            "$.currency",
            format!("{c:?} is not an ISO 4217 code (three upper-case letters such as \"USD\")"),
        ),
    }
}

fn validate_invoice(inv: &Invoice, cx: Context<'_>, r: &mut ValidationReport) {
    required_text(
        r,
        &inv.invoice_number,
        "$.invoice_number",
        "the invoice number",
    );
    required(r, &inv.invoice_date, "$.invoice_date", "the invoice date");
    // Bound for Coupa, a missing currency is an error there, not "the receiver's default".
    if !(cx.to_coupa && inv.currency.is_none()) {
        check_currency(r, &inv.currency);
    }
    match &inv.supplier {
        None if cx.supplier_from_partner => r.warning(
            "$.supplier",
            "no supplier party; the partner profile's Coupa supplier is used",
        ),
        None => r.error(
            "$.supplier",
            "missing: the supplier is required (name it in the document, or set coupa_supplier in the sender's partner profile)",
        ),
        Some(s) if s.name.is_none() && s.ids.is_empty() => {
            r.error("$.supplier", "the supplier needs a name or at least one id")
        }
        Some(_) => {}
    }
    if inv.lines.is_empty() {
        r.error("$.lines", "an invoice needs at least one line");
    }
    if cx.to_coupa {
        check_coupa_limits(inv, r);
        if inv.credit_direction() == Some(CreditDirection::Unknown) {
            r.error("$.total", CreditDirection::UNKNOWN_WHY);
        }
        if let Some(wanted) = &cx.partner_supplier {
            supplier::check_partner_supplier(inv, wanted, r);
        }
    }
    let lines = inv.lines.iter().map(|l| LineFacts {
        line_number: l.line_number,
        quantity: l.quantity,
        unit_price: l.unit_price,
        amount: l.amount,
        taxes: &l.taxes,
        charges: &l.charges,
    });
    let header = Header {
        subtotal: inv.subtotal,
        tax_total: inv.tax_total,
        total: inv.total,
        taxes: &inv.taxes,
        charges: &inv.charges,
        discounts: inv.discount_sign(),
    };
    arithmetic::check_amounts(r, lines, &header);
}

/// What Coupa refuses in an invoice that the model itself allows ([`Context::to_coupa`]).
/// Coupa takes taxes on the lines or on the invoice, not both: sent with line taxes, the
/// invoice's own were dropped, and Coupa held less tax than the supplier billed. Header taxes
/// that only restate the lines' sum (an X12 summary TXI) are no loss and pass.
fn check_coupa_tax_level(inv: &Invoice, r: &mut ValidationReport) {
    let lines: Vec<&crate::Tax> = inv.lines.iter().flat_map(|l| l.taxes.iter()).collect();
    if inv.taxes.is_empty() || lines.is_empty() {
        return;
    }
    // Sums past what a decimal holds are `None` (their overflow is reported with the
    // document's arithmetic), and no restatement.
    let header = crate::checked_sum(inv.taxes.iter().filter_map(|t| t.amount));
    let line_sum = crate::checked_sum(lines.iter().filter_map(|t| t.amount));
    if header.is_some() && header == line_sum && inv.taxes.iter().all(|t| t.amount.is_some()) {
        return;
    }
    let shown = |sum: Option<Decimal>| {
        sum.map_or_else(|| "too large to add".to_string(), |s| s.to_string())
    };
    r.error(
        "$.taxes",
        format!(
            "the invoice has taxes of its own ({}) and on its lines ({}); Coupa takes taxes on the lines or on the invoice, not both, so the invoice's would be lost: put every tax on the lines, or every tax on the invoice",
            shown(header),
            shown(line_sum)
        ),
    );
}

fn check_coupa_limits(inv: &Invoice, r: &mut ValidationReport) {
    check_coupa_tax_level(inv, r);
    check_control_characters(inv, r);
    // Coupa refuses an invoice without a currency ("Currency can't be blank") or with a line
    // without a price: said here, the sender reads it in its 997 or cXML answer instead of
    // "accepted" for an invoice that then dies at Coupa.
    if inv.currency.is_none() {
        r.error(
            "$.currency",
            "missing: Coupa requires the invoice's currency (an ISO 4217 code such as \"USD\": X12 CUR02, cXML Money@currency)",
        );
    }
    for (i, line) in inv.lines.iter().enumerate() {
        // An amount line (no quantity) is sent at its amount; a quantity line needs its price.
        if line.unit_price.is_none() && (line.quantity.is_some() || line.amount.is_none()) {
            r.error(
                format!("$.lines[{i}].unit_price"),
                "missing: Coupa requires a unit price on every invoice line with a quantity",
            );
        }
    }
    if inv.lines.len() > COUPA_MAX_INVOICE_LINES {
        r.error(
            "$.lines",
            format!(
                "the invoice has {} lines; Coupa takes at most {COUPA_MAX_INVOICE_LINES} on one \
                 invoice: send it as several invoices of at most {COUPA_MAX_INVOICE_LINES} lines \
                 each",
                inv.lines.len()
            ),
        );
    }
    if let Some(n) = &inv.invoice_number {
        let chars = n.chars().count();
        if chars > COUPA_MAX_INVOICE_NUMBER {
            r.error(
                "$.invoice_number",
                format!(
                    "{TOO_LONG} the invoice number is {chars} characters; Coupa takes at most \
                     {COUPA_MAX_INVOICE_NUMBER}"
                ),
            );
        }
    }
    for (i, line) in inv.lines.iter().enumerate() {
        let path = format!("$.lines[{i}].description");
        match &line.description {
            Some(d) if !d.trim().is_empty() => {
                let chars = d.chars().count();
                if chars > COUPA_MAX_LINE_DESCRIPTION {
                    r.error(
                        path,
                        format!(
                            "{TOO_LONG} the description is {chars} characters; Coupa takes at \
                             most {COUPA_MAX_LINE_DESCRIPTION}"
                        ),
                    );
                }
            }
            _ => r.error(
                path,
                "missing: Coupa requires a description on every invoice line",
            ),
        }
    }
}

fn validate_order(po: &PurchaseOrder, r: &mut ValidationReport) {
    required_text(r, &po.po_number, "$.po_number", "the PO number");
    required(r, &po.order_date, "$.order_date", "the order date");
    check_currency(r, &po.currency);
    if po.lines.is_empty() && po.purpose != Some(crate::OrderPurpose::Cancel) {
        r.error("$.lines", "a purchase order needs at least one line");
    }
    let lines = po.lines.iter().map(|l| LineFacts {
        line_number: l.line_number,
        quantity: l.quantity,
        unit_price: l.unit_price,
        amount: l.amount,
        taxes: &l.taxes,
        charges: &l.charges,
    });
    let header = Header {
        subtotal: None,
        tax_total: None,
        total: po.total,
        taxes: &po.taxes,
        charges: &po.charges,
        discounts: crate::DiscountSign::Subtracted,
    };
    arithmetic::check_amounts(r, lines, &header);
}

/// Refuses every text of `value` (its extensions' keys and values included) that holds a
/// control character other than tab, line feed and carriage return, at its path: canonical
/// JSON carries one as `\u0007`, X12 accepts an element holding one with errors, a CSV cell
/// takes anything, and Coupa would keep it as sent. One pass writes `value` as JSON to a sink
/// that only watches for the escapes of such characters (no copy, no allocation); only when it
/// sees one is `value` walked for the paths.
fn check_control_characters<T: Serialize>(value: &T, r: &mut ValidationReport) {
    let mut watch = ControlWatch::default();
    // Writing stops at the first one found (the watch answers with an error); a failure of
    // another kind is not the watch's concern.
    let _ = serde_json::to_writer(&mut watch, value);
    if !watch.found {
        return;
    }
    let Ok(tree) = serde_json::to_value(value) else {
        return;
    };
    let mut found = Found::default();
    let mut path = String::from("$");
    controls_in(&tree, &mut path, &mut found);
    for (path, at, c) in found.listed {
        let name = match c {
            '\0' => " (NUL)",
            '\u{7}' => " (BEL)",
            '\u{8}' => " (backspace)",
            '\u{b}' => " (vertical tab)",
            '\u{c}' => " (form feed)",
            '\u{1b}' => " (escape)",
            _ => "",
        };
        r.error(
            path,
            format!(
                "holds the control character U+{:04X}{name} at character {}: text may hold tab, line feed and carriage return but no other control characters, which Coupa would keep as sent; remove it",
                u32::from(c),
                at + 1
            ),
        );
    }
    if found.more > 0 {
        r.error(
            "$",
            format!(
                "{} more text values hold control characters (the first {MAX_CONTROLS_LISTED} are listed)",
                found.more
            ),
        );
    }
}

/// The texts holding control characters: the first few with their paths, and how many more.
#[derive(Default)]
struct Found {
    listed: Vec<(String, usize, char)>,
    more: usize,
}

impl Found {
    fn add(&mut self, path: String, at: usize, c: char) {
        if self.listed.len() < MAX_CONTROLS_LISTED {
            self.listed.push((path, at, c));
        } else {
            self.more += 1;
        }
    }
}

fn controls_in(value: &serde_json::Value, path: &mut String, found: &mut Found) {
    use std::fmt::Write;
    match value {
        serde_json::Value::String(s) => {
            if let Some((at, c)) = crate::text::forbidden_control(s) {
                found.add(path.clone(), at, c);
            }
        }
        serde_json::Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let len = path.len();
                let _ = write!(path, "[{i}]");
                controls_in(item, path, found);
                path.truncate(len);
            }
        }
        serde_json::Value::Object(fields) => {
            for (key, item) in fields {
                let len = path.len();
                match crate::text::forbidden_control(key) {
                    // The key itself: named escaped, as the path must be readable.
                    Some((at, c)) => {
                        let _ = write!(path, ".{}", key.escape_default());
                        found.add(path.clone(), at, c);
                    }
                    None => {
                        let _ = write!(path, ".{key}");
                    }
                }
                controls_in(item, path, found);
                path.truncate(len);
            }
        }
        _ => {}
    }
}

/// An `io::Write` that keeps nothing and notes whether JSON written to it holds an escaped
/// control character: `serde_json` writes each as `\u00XX`, `\b` or `\f` (tab, line feed and
/// carriage return as `\t`, `\n`, `\r`), and writes no other `\u` escape.
#[derive(Default)]
struct ControlWatch {
    /// The last byte written was an escaping backslash.
    escaping: bool,
    found: bool,
}

impl std::io::Write for ControlWatch {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        for &b in buf {
            if self.escaping {
                self.escaping = false;
                if matches!(b, b'u' | b'b' | b'f') {
                    self.found = true;
                    return Err(std::io::Error::other("a control character"));
                }
            } else if b == b'\\' {
                self.escaping = true;
            }
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
