//! Is the invoice Coupa already holds under a supplier and invoice number the document we
//! would create (a resend, to take as delivered), or another one (a conflict)?
//!
//! Coupa's uniqueness key for invoices is supplier + invoice number, so the duplicate guard
//! finds whatever invoice holds that key. Judging it by its total alone took a different
//! invoice that happened to share number and total (two rows of one CSV file, a corrected PO
//! number or line) for a resend: reported delivered, never in Coupa. It is the same invoice
//! only when every field we send that Coupa gives back agrees.
//!
//! What must not make a resend a conflict: fields Coupa fills itself (ids, status, created-at,
//! line totals it computes) are never compared, only fields the request carries; a field Coupa
//! does not give back (absent or null in its answer) is passed over; decimals are compared as
//! numbers (`"100"` is `"100.00"`), text trimmed with runs of white space as one, codes
//! without case; a date Coupa gives back as a timestamp is compared by its date; lines are
//! paired by their line numbers, not by where Coupa lists them. A line difference names the
//! line on each side by its own number (Coupa's `line-num` and ours) when the two differ:
//! pairs are made in line order, and naming both by the new document's number sent an
//! operator to the wrong line in Coupa.

use std::fmt;

use chrono::{DateTime, NaiveDate, NaiveTime};
use rust_decimal::Decimal;
use serde_json::Value;

/// Most differences named in a conflict: enough to see what changed, short enough for a
/// dead-letter reason when every line of a long invoice differs.
const MAX_NAMED: usize = 8;
/// Longest text value quoted in a difference (descriptions run to 1550 characters).
const MAX_QUOTED: usize = 60;

/// One field where what Coupa holds differs from what this document would send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// The field in words, with its line when it is a line's: `invoice date`,
    /// `line 2 description`.
    pub field: String,
    /// What Coupa holds, as shown to an operator (text in quotes, clipped).
    pub theirs: String,
    /// What this document says, shown the same way.
    pub ours: String,
    /// This document's line (`line 2`) when it is numbered otherwise than Coupa's line it is
    /// paired with (which `field` names): each side is then named by its own number.
    pub ours_at: Option<String>,
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.ours_at {
            Some(at) => write!(
                f,
                "Coupa's {} {}, this one's {at} says {}",
                self.field, self.theirs, self.ours
            ),
            None => write!(
                f,
                "{} {}, this one says {}",
                self.field, self.theirs, self.ours
            ),
        }
    }
}

/// How a field's two values are compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Free text: trimmed, runs of white space as one, case kept.
    Text,
    /// A code Coupa looks up (currency, unit of measure, payment term) or a flag: as text,
    /// without case.
    Code,
    /// A decimal (amounts, quantities, rates, PO line numbers): by value, so the scale Coupa
    /// writes back does not matter.
    Number,
    /// A date; Coupa may give back a timestamp for the date it was sent.
    Date,
}

/// A field of the request: its name in words, its path in the Coupa JSON, how it compares.
type Field = (&'static str, &'static [&'static str], Kind);

/// Header fields compared before the lines.
const HEADER: &[Field] = &[
    ("invoice date", &["invoice-date"], Kind::Date),
    ("currency", &["currency", "code"], Kind::Code),
    ("credit note", &["is-credit-note"], Kind::Code),
    (
        "original invoice number",
        &["original-invoice-number"],
        Kind::Text,
    ),
    (
        "original invoice date",
        &["original-invoice-date"],
        Kind::Date,
    ),
    ("payment term", &["payment-term", "code"], Kind::Code),
    ("supplier note", &["supplier-note"], Kind::Text),
];

/// Header amounts compared after the lines, the control total last.
const AMOUNTS: &[Field] = &[
    ("tax amount", &["tax-amount"], Kind::Number),
    ("tax rate", &["tax-rate"], Kind::Number),
    ("shipping amount", &["shipping-amount"], Kind::Number),
    ("handling amount", &["handling-amount"], Kind::Number),
    ("misc amount", &["misc-amount"], Kind::Number),
    ("supplier total", &["supplier-total"], Kind::Number),
];

/// A line's fields.
const LINE: &[Field] = &[
    ("description", &["description"], Kind::Text),
    ("type", &["type"], Kind::Text),
    ("quantity", &["quantity"], Kind::Number),
    ("unit of measure", &["uom", "code"], Kind::Code),
    ("price", &["price"], Kind::Number),
    ("total", &["total"], Kind::Number),
    ("supplier part number", &["source-part-num"], Kind::Text),
    ("PO number", &["po-number"], Kind::Text),
    ("PO line", &["order-line-num"], Kind::Number),
];

/// Where `held` (the invoice JSON Coupa gave back) differs from `request` (the invoice JSON
/// we would create), in the order an operator reads an invoice: header, lines, amounts.
/// Empty when it is the same invoice.
///
/// Not compared, on purpose: the supplier and invoice number (the key the invoice was found
/// by), the addresses and account type (Coupa answers with its own address and chart of
/// accounts records, not the text sent), and `line-level-taxation` (the taxes themselves
/// are compared).
pub fn differences(held: &Value, request: &Value) -> Vec<Difference> {
    let mut out = Vec::new();
    compare_fields(HEADER, held, request, "", None, &mut out);
    compare_lines(held, request, &mut out);
    compare_fields(AMOUNTS, held, request, "", None, &mut out);
    out
}

/// The differences in words for a conflict reason: at most [`MAX_NAMED`], then how many more.
pub fn describe(diffs: &[Difference]) -> String {
    let mut s = diffs
        .iter()
        .take(MAX_NAMED)
        .map(Difference::to_string)
        .collect::<Vec<_>>()
        .join("; ");
    if diffs.len() > MAX_NAMED {
        s.push_str(&format!("; and {} more", diffs.len() - MAX_NAMED));
    }
    s
}

/// Compares `fields` of `held` and `request`, each difference named `prefix` + the field's
/// name, with `ours_at` ([`Difference::ours_at`]) when this document's line is numbered
/// otherwise.
fn compare_fields(
    fields: &[Field],
    held: &Value,
    request: &Value,
    prefix: &str,
    ours_at: Option<&str>,
    out: &mut Vec<Difference>,
) {
    for &(name, path, kind) in fields {
        let (Some(ours), Some(theirs)) = (scalar(request, path), scalar(held, path)) else {
            // Not sent, or not given back: nothing to tell them apart by.
            continue;
        };
        if !same(kind, &theirs, &ours) {
            out.push(Difference {
                field: format!("{prefix}{name}"),
                theirs: shown(kind, &theirs),
                ours: shown(kind, &ours),
                ours_at: ours_at.map(str::to_string),
            });
        }
    }
}

fn compare_lines(held: &Value, request: &Value, out: &mut Vec<Difference>) {
    let (Some(ours), Some(theirs)) = (lines_of(request), lines_of(held)) else {
        return;
    };
    if ours.len() != theirs.len() {
        // Which line is which cannot be told; the count says enough.
        out.push(Difference {
            field: "number of lines".into(),
            theirs: theirs.len().to_string(),
            ours: ours.len().to_string(),
            ours_at: None,
        });
        return;
    }
    for (i, (o, t)) in in_line_order(ours)
        .into_iter()
        .zip(in_line_order(theirs))
        .enumerate()
    {
        // Each side by its own number: paired in line order, Coupa's line 1 may be our line 2.
        let number = |l: &Value| scalar(l, &["line-num"]).unwrap_or_else(|| (i + 1).to_string());
        let (our_number, their_number) = (number(o), number(t));
        let ours_at =
            (!same(Kind::Number, &their_number, &our_number)).then(|| format!("line {our_number}"));
        let prefix = format!("line {their_number} ");
        compare_fields(LINE, t, o, &prefix, ours_at.as_deref(), out);
        if let (Some(ours), Some(theirs)) = (line_tax(o), line_tax(t))
            && ours != theirs
        {
            out.push(Difference {
                field: format!("{prefix}tax"),
                theirs: theirs.to_string(),
                ours: ours.to_string(),
                ours_at: ours_at.clone(),
            });
        }
    }
}

fn lines_of(v: &Value) -> Option<&Vec<Value>> {
    v.get("invoice-lines").and_then(Value::as_array)
}

/// The lines ordered by their `line-num` when each has a distinct one (Coupa need not list
/// them in the order they were sent, and may number them itself from 1), else as listed.
fn in_line_order(lines: &[Value]) -> Vec<&Value> {
    let numbered: Option<Vec<(Decimal, &Value)>> = lines
        .iter()
        .map(|l| l.get("line-num").and_then(decimal).map(|n| (n, l)))
        .collect();
    match numbered {
        Some(mut n) => {
            n.sort_by_key(|a| a.0);
            if n.windows(2).all(|w| w[0].0 != w[1].0) {
                return n.into_iter().map(|(_, l)| l).collect();
            }
            lines.iter().collect()
        }
        None => lines.iter().collect(),
    }
}

/// The sum of a line's tax-line amounts, when it has any and they add up to what a decimal
/// holds (`Sum` panicked past it).
fn line_tax(line: &Value) -> Option<Decimal> {
    let amounts: Vec<Decimal> = line
        .get("tax-lines")?
        .as_array()?
        .iter()
        .filter_map(|t| t.get("amount").and_then(decimal))
        .collect();
    if amounts.is_empty() {
        return None;
    }
    gateway_model::checked_sum(amounts)
}

/// The value at `path` as text; `None` when absent, null, empty or not a scalar.
fn scalar(v: &Value, path: &[&str]) -> Option<String> {
    let at = path.iter().try_fold(v, |v, k| v.get(k))?;
    let s = match at {
        Value::String(s) => s.trim().to_string(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => return None,
    };
    (!s.is_empty()).then_some(s)
}

fn same(kind: Kind, theirs: &str, ours: &str) -> bool {
    match kind {
        Kind::Text => words(theirs) == words(ours),
        Kind::Code => words(theirs).to_lowercase() == words(ours).to_lowercase(),
        Kind::Number => match (parse_decimal(theirs), parse_decimal(ours)) {
            (Some(t), Some(o)) => t == o,
            _ => words(theirs) == words(ours),
        },
        Kind::Date => match (dates_meant(theirs), date_of(ours)) {
            (Some(t), Some(o)) => t.contains(&o),
            _ => words(theirs) == words(ours),
        },
    }
}

/// Trimmed, with each run of white space as one space.
fn words(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn shown(kind: Kind, s: &str) -> String {
    match kind {
        Kind::Text => {
            let w = words(s);
            if w.chars().count() > MAX_QUOTED {
                let clipped: String = w.chars().take(MAX_QUOTED).collect();
                format!("'{clipped}…'")
            } else {
                format!("'{w}'")
            }
        }
        _ => s.to_string(),
    }
}

fn parse_decimal(s: &str) -> Option<Decimal> {
    let s = s.trim();
    s.parse::<Decimal>()
        .ok()
        .or_else(|| Decimal::from_scientific(s).ok())
}

/// A Coupa decimal, sent as a string (`"500.00"`) or, by some instances, a number.
pub(crate) fn decimal(v: &Value) -> Option<Decimal> {
    match v {
        Value::String(s) => parse_decimal(s),
        Value::Number(n) => parse_decimal(&n.to_string()),
        _ => None,
    }
}

/// The date a request's `YYYY-MM-DD` (or a timestamp's first ten characters) names.
fn date_of(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    NaiveDate::parse_from_str(s.get(..10).unwrap_or(s), "%Y-%m-%d").ok()
}

/// The dates a value Coupa gives back may stand for. A date, or a timestamp at midnight
/// (`2025-04-22T00:00:00-07:00`, a date stored in the instance's zone): that date. A
/// timestamp at another hour was converted on the way (midnight UTC shown in the instance's
/// zone, `2025-04-21T17:00:00-07:00`): its own date or its UTC date.
fn dates_meant(s: &str) -> Option<Vec<NaiveDate>> {
    let s = s.trim();
    match DateTime::parse_from_rfc3339(s) {
        Ok(t) if t.time() == NaiveTime::MIN => Some(vec![t.date_naive()]),
        Ok(t) => Some(vec![t.date_naive(), t.naive_utc().date()]),
        Err(_) => date_of(s).map(|d| vec![d]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn request() -> Value {
        json!({
            "invoice-number": "DUP-1",
            "invoice-date": "2025-04-22",
            "supplier": {"id": 7},
            "currency": {"code": "USD"},
            "supplier-total": "100.00",
            "shipping-amount": "0",
            "invoice-lines": [
                {"line-num": 1, "type": "InvoiceQuantityLine", "description": "Widget A",
                 "price": "50", "quantity": "2", "total": "100.00", "uom": {"code": "EA"},
                 "po-number": "PO-1", "order-line-num": "1",
                 "tax-lines": [{"amount": "8.00", "rate": "8"}]},
                {"line-num": 2, "type": "InvoiceAmountLine", "description": "Setup",
                 "price": "0.00", "total": "0.00"}
            ]
        })
    }

    /// What Coupa gives back for `request()`: its own ids and status, another scale, a
    /// timestamp for the date, the lines listed the other way round, and fields it does not
    /// echo.
    fn held() -> Value {
        json!({
            "id": 23, "status": "pending_approval", "created-at": "2025-04-22T10:00:00Z",
            "invoice-number": "DUP-1",
            "invoice-date": "2025-04-22T00:00:00-07:00",
            "supplier": {"id": 7, "name": "Acme"},
            "currency": {"id": 1, "code": "usd"},
            "supplier-total": 100,
            "gross-total": "108.00",
            "invoice-lines": [
                {"id": 41, "line-num": 2, "type": "InvoiceAmountLine", "description": "  Setup ",
                 "price": "0", "total": "0"},
                {"id": 40, "line-num": 1, "type": "InvoiceQuantityLine", "description": "Widget A",
                 "price": "50.0000", "quantity": 2.0, "total": "100", "uom": {"id": 3, "code": "EA"},
                 "po-number": null, "order-line-num": 1,
                 "tax-lines": [{"id": 9, "amount": "8", "rate": "8.0"}]}
            ]
        })
    }

    #[test]
    fn what_coupa_gives_back_for_the_same_request_is_the_same_invoice() {
        assert_eq!(differences(&held(), &request()), Vec::new());
    }

    #[test]
    fn a_date_converted_to_the_instance_zone_is_still_the_date_sent() {
        let mut held = held();
        held["invoice-date"] = json!("2025-04-21T17:00:00-07:00");
        assert_eq!(differences(&held, &request()), Vec::new());
        held["invoice-date"] = json!("2025-04-21T00:00:00-07:00");
        let d = differences(&held, &request());
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(
            d[0].to_string(),
            "invoice date 2025-04-21T00:00:00-07:00, this one says 2025-04-22"
        );
    }

    #[test]
    fn each_differing_field_is_named_with_its_line() {
        let mut ours = request();
        ours["invoice-lines"][0]["description"] = json!("Widget B");
        ours["invoice-lines"][0]["price"] = json!("25");
        ours["invoice-lines"][0]["quantity"] = json!("4");
        ours["invoice-lines"][0]["tax-lines"][0]["amount"] = json!("8.50");
        ours["currency"]["code"] = json!("EUR");
        let d: Vec<String> = differences(&held(), &ours)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            d,
            vec![
                "currency usd, this one says EUR",
                "line 1 description 'Widget A', this one says 'Widget B'",
                "line 1 quantity 2.0, this one says 4",
                "line 1 price 50.0000, this one says 25",
                "line 1 tax 8, this one says 8.50",
            ]
        );
    }

    /// QA: Coupa holds lines 1 'Bolt' and 2 'Nut', this document numbers them 2 and 3 with
    /// other descriptions; the conflict said "line 2 description 'Bolt', this one says 'Nut'"
    /// though Coupa's 'Bolt' is its line 1.
    #[test]
    fn lines_numbered_otherwise_are_each_named_by_their_own_number() {
        // `held` lists Coupa's line 2 first, then its line 1.
        let mut theirs = held();
        theirs["invoice-lines"][1]["description"] = json!("Bolt");
        theirs["invoice-lines"][0]["description"] = json!("Nut");
        let mut ours = theirs.clone();
        ours["invoice-lines"][1]["line-num"] = json!(2);
        ours["invoice-lines"][1]["description"] = json!("Nut");
        ours["invoice-lines"][0]["line-num"] = json!(3);
        ours["invoice-lines"][0]["description"] = json!("Washer");
        let d: Vec<String> = differences(&theirs, &ours)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            d,
            vec![
                "Coupa's line 1 description 'Bolt', this one's line 2 says 'Nut'",
                "Coupa's line 2 description 'Nut', this one's line 3 says 'Washer'",
            ]
        );
    }

    #[test]
    fn another_number_of_lines_is_named_without_pairing_them() {
        let mut ours = request();
        if let Some(lines) = ours["invoice-lines"].as_array_mut() {
            lines.pop();
        }
        let d = differences(&held(), &ours);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].to_string(), "number of lines 2, this one says 1");
    }

    #[test]
    fn a_long_list_is_cut_short() {
        let diffs: Vec<Difference> = (0..10)
            .map(|i| Difference {
                field: format!("line {i} price"),
                theirs: "1".into(),
                ours: "2".into(),
                ours_at: None,
            })
            .collect();
        let s = describe(&diffs);
        assert!(
            s.ends_with("line 7 price 1, this one says 2; and 2 more"),
            "{s}"
        );
    }

    /// Tax lines whose amounts add up past what a decimal holds, in what Coupa gives back:
    /// no line tax to compare, not a panic of the delivery's duplicate check.
    #[test]
    fn tax_lines_adding_up_past_what_a_decimal_holds_are_not_compared() {
        let max = "79228162514264337593543950335";
        let mut theirs = held();
        theirs["invoice-lines"][1]["tax-lines"] = json!([{"amount": max}, {"amount": max}]);
        let diffs = differences(&theirs, &request());
        assert!(!diffs.iter().any(|d| d.field.ends_with("tax")), "{diffs:?}");
    }
}
