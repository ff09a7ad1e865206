//! A document's lines and amounts: what each line needs, line amount = quantity × price,
//! subtotal = Σ lines, total = subtotal + taxes + charges − discounts, and each line's number
//! its own.
//!
//! Every sum, product and difference of the document's values is checked: `rust_decimal`'s
//! operators and `Sum` panic past [`Decimal::MAX`], and a partner may send amounts near it
//! (every reader takes 28 digits). A file of two lines of 79228162514264337593543950335
//! panicked here and stopped the file drop for every partner; a quantity × price past it
//! skipped the line-amount check, and the wrong quantity reached Coupa. Now each is an error
//! at the value that went past, which the sender reads in its answer.

use std::collections::HashMap;

use rust_decimal::Decimal;

use super::ValidationReport;
use crate::discount::DiscountSign;
use crate::parts::{Charge, Tax};

/// Amounts may differ by rounding of this much before we call them inconsistent.
const TOLERANCE: Decimal = Decimal::from_parts(1, 0, 0, false, 2);

/// One line as the checks see it, an invoice's or an order's.
pub(super) struct LineFacts<'a> {
    pub line_number: u32,
    pub quantity: Option<Decimal>,
    pub unit_price: Option<Decimal>,
    pub amount: Option<Decimal>,
    pub taxes: &'a [Tax],
    pub charges: &'a [Charge],
}

/// The document's own amounts, which its lines are checked against.
pub(super) struct Header<'a> {
    pub subtotal: Option<Decimal>,
    pub tax_total: Option<Decimal>,
    pub total: Option<Decimal>,
    pub taxes: &'a [Tax],
    pub charges: &'a [Charge],
    /// How its discounts count in its total ([`crate::Invoice::discount_sign`]).
    pub discounts: DiscountSign,
}

/// Checks the lines one by one, then the header's taxes and charges, then the totals.
pub(super) fn check_amounts<'a>(
    r: &mut ValidationReport,
    lines: impl IntoIterator<Item = LineFacts<'a>>,
    header: &Header<'_>,
) {
    let mut line_sum = Tally::new("the line amounts");
    let mut taxes = Tally::new("the taxes");
    let mut charges = Tally::new("the charges");
    let mut numbers = LineNumbers::default();
    for (i, line) in lines.into_iter().enumerate() {
        numbers.check(r, i, line.line_number);
        match check_line(r, i, &line) {
            Some(a) => line_sum.add(r, a, || format!("$.lines[{i}].amount")),
            None => line_sum.complete = false,
        }
        let path = format!("$.lines[{i}]");
        taxes.add_taxes(r, &path, line.taxes);
        charges.add_charges(r, &path, line.charges, header.discounts);
    }
    check_taxes(r, "$.taxes", header.taxes);
    check_charges(r, "$.charges", header.charges);
    taxes.add_taxes(r, "$", header.taxes);
    charges.add_charges(r, "$", header.charges, header.discounts);
    check_totals(
        r,
        Totals {
            line_sum: line_sum.known(),
            subtotal: header.subtotal,
            tax_total: header.tax_total,
            taxes: taxes.sum,
            charges: charges.sum,
            total: header.total,
        },
    );
}

/// How a value past [`Decimal::MAX`] is told, in every message.
fn past_max() -> String {
    format!("more than an amount can hold (at most {})", Decimal::MAX)
}

/// Whether two amounts differ by more than rounding; a difference past what a decimal holds
/// (two huge amounts of opposite signs) is a difference too.
fn differ(a: Decimal, b: Decimal) -> bool {
    a.checked_sub(b).is_none_or(|d| d.abs() > TOLERANCE)
}

/// Checks one line and returns its amount (given or computed) for the subtotal check.
fn check_line(r: &mut ValidationReport, i: usize, line: &LineFacts<'_>) -> Option<Decimal> {
    let path = format!("$.lines[{i}]");
    if line.quantity.is_none() {
        r.error(format!("{path}.quantity"), "missing: quantity is required");
    }
    if line.unit_price.is_none() && line.amount.is_none() {
        r.error(
            format!("{path}.unit_price"),
            "missing: a unit price or a line amount is required",
        );
    }
    if let Some(q) = line.quantity
        && q.is_sign_negative()
        && !q.is_zero()
    {
        r.warning(format!("{path}.quantity"), "negative quantity");
    }
    check_taxes(r, &format!("{path}.taxes"), line.taxes);
    check_charges(r, &format!("{path}.charges"), line.charges);
    let (Some(q), Some(p)) = (line.quantity, line.unit_price) else {
        return line.amount;
    };
    match (line.amount, q.checked_mul(p)) {
        (Some(a), Some(c)) => {
            if differ(a, c) {
                r.error(
                    format!("{path}.amount"),
                    format!(
                        "{a} does not equal quantity × unit_price = {}",
                        c.normalize()
                    ),
                );
            }
            Some(a)
        }
        (None, Some(c)) => Some(c),
        // The line's amount cannot be what the quantity and price make: one of them is wrong
        // (a quantity of 28 nines), and delivered it would reach the buyer as sent.
        (Some(a), None) => {
            r.error(
                format!("{path}.amount"),
                format!(
                    "{a} does not equal quantity × unit_price: {q} × {p} is {}; the quantity or \
                     the unit price is wrong",
                    past_max()
                ),
            );
            Some(a)
        }
        (None, None) => {
            r.error(
                format!("{path}.quantity"),
                format!(
                    "the line's amount, quantity × unit_price = {q} × {p}, is {}; the quantity \
                     or the unit price is wrong",
                    past_max()
                ),
            );
            None
        }
    }
}

fn check_taxes(r: &mut ValidationReport, path: &str, taxes: &[Tax]) {
    for (i, t) in taxes.iter().enumerate() {
        if t.amount.is_none() && t.rate.is_none() {
            r.error(format!("{path}[{i}]"), "a tax needs an amount or a rate");
        }
    }
}

fn check_charges(r: &mut ValidationReport, path: &str, charges: &[Charge]) {
    for (i, c) in charges.iter().enumerate() {
        if c.amount.is_none() && c.rate.is_none() {
            r.error(
                format!("{path}[{i}].amount"),
                "missing: a charge needs an amount or a rate",
            );
        }
    }
}

/// A running sum of the document's amounts of one kind that reports, once and at the value
/// that made it, a sum past what a decimal holds.
struct Tally {
    /// What is summed, for the report: "the line amounts".
    what: &'static str,
    /// The sum so far; `None` once it went past what a decimal holds (reported).
    sum: Option<Decimal>,
    /// Whether every value was known (a line without an amount makes the line sum unknown,
    /// though the amounts known are still added, so their overflow is still found).
    complete: bool,
}

impl Tally {
    fn new(what: &'static str) -> Self {
        Tally {
            what,
            sum: Some(Decimal::ZERO),
            complete: true,
        }
    }

    fn add(&mut self, r: &mut ValidationReport, value: Decimal, path: impl FnOnce() -> String) {
        let Some(sum) = self.sum else {
            return;
        };
        self.sum = sum.checked_add(value);
        if self.sum.is_none() {
            r.error(
                path(),
                format!(
                    "{} up to this one add up to {}: an amount is wrong",
                    self.what,
                    past_max()
                ),
            );
        }
    }

    /// Adds the taxes at `owner` (`$` or a line's path) by their amounts.
    fn add_taxes(&mut self, r: &mut ValidationReport, owner: &str, taxes: &[Tax]) {
        for (j, t) in taxes.iter().enumerate() {
            if let Some(a) = t.amount {
                self.add(r, a, || format!("{owner}.taxes[{j}].amount"));
            }
        }
    }

    /// Adds the charges at `owner` as they count in the total ([`Charge::in_total`]).
    fn add_charges(
        &mut self,
        r: &mut ValidationReport,
        owner: &str,
        charges: &[Charge],
        discounts: DiscountSign,
    ) {
        for (j, c) in charges.iter().enumerate() {
            if let Some(a) = c.in_total(discounts) {
                self.add(r, a, || format!("{owner}.charges[{j}].amount"));
            }
        }
    }

    /// The sum when every value was known and it did not overflow.
    fn known(&self) -> Option<Decimal> {
        self.sum.filter(|_| self.complete)
    }
}

/// The line numbers seen so far, each with the first line that had it.
#[derive(Default)]
struct LineNumbers(HashMap<u32, usize>);

impl LineNumbers {
    /// A number a line before had is a warning, not an error: Coupa is not known to refuse
    /// an invoice of repeated line numbers (`line-num`; its documentation says nothing and
    /// the sandbox takes them), so refusing would stop invoices Coupa takes. Every reader
    /// gives its source's number here (X12 IT101, cXML `invoiceLineNumber`, CSV `Line
    /// Number`, canonical JSON `line_number`), so every channel says it alike.
    fn check(&mut self, r: &mut ValidationReport, i: usize, number: u32) {
        if let Some(first) = self.0.get(&number) {
            r.warning(
                format!("$.lines[{i}].line_number"),
                format!(
                    "line number {number} is also $.lines[{first}]'s: each line should have a \
                     number of its own; Coupa gets both as line {number}, and anyone referring \
                     to line {number} may mean either"
                ),
            );
        } else {
            self.0.insert(number, i);
        }
    }
}

struct Totals {
    line_sum: Option<Decimal>,
    subtotal: Option<Decimal>,
    tax_total: Option<Decimal>,
    /// `None` when their sum overflowed (reported where it did).
    taxes: Option<Decimal>,
    charges: Option<Decimal>,
    total: Option<Decimal>,
}

fn check_totals(r: &mut ValidationReport, t: Totals) {
    if let (Some(sub), Some(sum)) = (t.subtotal, t.line_sum)
        && differ(sub, sum)
    {
        r.error(
            "$.subtotal",
            format!(
                "{sub} does not equal the sum of line amounts {}",
                sum.normalize()
            ),
        );
    }
    if let (Some(tt), Some(taxes)) = (t.tax_total, t.taxes)
        && !taxes.is_zero()
        && differ(tt, taxes)
    {
        r.warning(
            "$.tax_total",
            format!("{tt} does not equal the sum of taxes {}", taxes.normalize()),
        );
    }
    let base = t.subtotal.or(t.line_sum);
    let (Some(total), Some(base), Some(taxes), Some(charges)) = (t.total, base, t.taxes, t.charges)
    else {
        return;
    };
    let tax = t.tax_total.unwrap_or(taxes);
    let Some(expected) = base.checked_add(tax).and_then(|s| s.checked_add(charges)) else {
        r.error(
            "$.total",
            format!(
                "lines {} + taxes {} + charges {} add up to {}: an amount is wrong",
                base.normalize(),
                tax.normalize(),
                charges.normalize(),
                past_max()
            ),
        );
        return;
    };
    if differ(total, expected) {
        r.warning(
            "$.total",
            format!(
                "{total} does not equal lines {} + taxes {} + charges {} = {}",
                base.normalize(),
                tax.normalize(),
                charges.normalize(),
                expected.normalize()
            ),
        );
    }
}
