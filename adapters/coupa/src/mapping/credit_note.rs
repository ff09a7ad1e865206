//! A credit memo in Coupa's signs. Coupa takes a credit in one of two forms: a standard
//! invoice with a negative quantity or price, or a credit note (`is-credit-note`) whose
//! quantity and unit price are positive and which names the invoice it credits (Coupa
//! Compass, "Create PO-backed Credit Memo"). cXML writes a credit memo's amounts negative and
//! X12 810s mostly positive, so the same credit reached Coupa with opposite signs by channel.
//!
//! The direction is one fact of the whole memo ([`Invoice::credit_direction`], the rule the
//! intake's validation applies too): a memo written as credits has every sign turned
//! together, so a line written positive among its credits (a restocking fee, which reduces
//! the credit) becomes a negative line of the positive credit note; one written positive is
//! sent as it came; one whose direction cannot be told is refused, not guessed. Turning line
//! by line, as this did, sent a memo with a fee line as a charge (quantity −3, total −30,
//! supplier total −20).

use std::borrow::Cow;

use gateway_model::{Charge, CreditDirection, Decimal, DiscountSign, Invoice, InvoiceLine, Tax};

use crate::error::CoupaError;

/// A memo as Coupa takes it, and how its discounts count in its total
/// ([`gateway_model::Charge::in_total`]).
pub(super) struct InCoupaSigns<'a> {
    pub invoice: Cow<'a, Invoice>,
    /// The memo's own [`Invoice::discount_sign`], turned with it: a discount that reduced a
    /// credit written negative (added to it, toward zero) reduces the positive credit note
    /// (subtracted), so Coupa's parts add up to the supplier total. Counted as adding to the
    /// credit, a memo of −100.00 less a −5.00 discount, due −95.00, reached Coupa as lines
    /// 100.00 and misc 5.00 with a supplier total of 95.00.
    pub discounts: DiscountSign,
}

/// `inv` in Coupa's signs: a credit memo written as credits turned positive as a whole,
/// anything else as it came. `Err` for a memo whose direction cannot be told.
pub(super) fn in_coupa_signs(inv: &Invoice) -> Result<InCoupaSigns<'_>, CoupaError> {
    match inv.credit_direction() {
        Some(CreditDirection::Negative) => Ok(InCoupaSigns {
            invoice: Cow::Owned(turned(inv)),
            discounts: inv.discount_sign().turned(),
        }),
        Some(CreditDirection::Unknown) => Err(CoupaError::Mapping(
            CreditDirection::UNKNOWN_WHY.to_string(),
        )),
        Some(CreditDirection::Positive) | None => Ok(InCoupaSigns {
            invoice: Cow::Borrowed(inv),
            discounts: inv.discount_sign(),
        }),
    }
}

/// `inv` with every amount's sign turned.
fn turned(inv: &Invoice) -> Invoice {
    let mut out = inv.clone();
    for l in &mut out.lines {
        turn_line(l);
    }
    turn_taxes(&mut out.taxes);
    turn_charges(&mut out.charges);
    for v in [&mut out.subtotal, &mut out.tax_total, &mut out.total] {
        negate(v);
    }
    out
}

/// `-d`, zero without a sign: Coupa was sent `"-0.00"` for a memo's tax of 0.00.
pub(super) fn neg(d: Decimal) -> Decimal {
    unsigned_zero(-d)
}

/// `d`, or zero without a sign when it is zero (`-0.00` → `0.00`, scale kept).
pub(super) fn unsigned_zero(d: Decimal) -> Decimal {
    if d.is_zero() { d.abs() } else { d }
}

fn negate(v: &mut Option<Decimal>) {
    if let Some(d) = v {
        *d = neg(*d);
    }
}

/// A line turned: its amount negated, its quantity positive and its price carrying the sign
/// of the turned amount. A credited line (−3 × 10) becomes 3 × 10; a fee among credits
/// (1 × 10) becomes 1 × −10, a charge in the credit note that leaves its quantity as billed.
fn turn_line(l: &mut InvoiceLine) {
    let charge_in_credit = l.extended_amount().is_some_and(|a| a > Decimal::ZERO);
    l.quantity = l.quantity.map(|q| unsigned_zero(q.abs()));
    l.unit_price = l.unit_price.map(|p| {
        if charge_in_credit {
            neg(p.abs())
        } else {
            unsigned_zero(p.abs())
        }
    });
    negate(&mut l.amount);
    turn_taxes(&mut l.taxes);
    turn_charges(&mut l.charges);
}

fn turn_taxes(taxes: &mut [Tax]) {
    for t in taxes {
        negate(&mut t.amount);
        negate(&mut t.taxable_amount);
    }
}

fn turn_charges(charges: &mut [Charge]) {
    for c in charges {
        negate(&mut c.amount);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use gateway_model::InvoicePurpose;

    fn d(s: &str) -> Option<Decimal> {
        Some(s.parse().unwrap())
    }

    fn line(q: &str, p: &str, amount: &str) -> InvoiceLine {
        InvoiceLine {
            quantity: d(q),
            unit_price: d(p),
            amount: d(amount),
            ..InvoiceLine::default()
        }
    }

    fn memo(lines: Vec<InvoiceLine>, total: Option<&str>) -> Invoice {
        Invoice {
            purpose: Some(InvoicePurpose::CreditMemo),
            lines,
            total: total.and_then(d),
            ..Invoice::default()
        }
    }

    fn qpa(l: &InvoiceLine) -> (Option<Decimal>, Option<Decimal>, Option<Decimal>) {
        (l.quantity, l.unit_price, l.amount)
    }

    #[test]
    fn a_memo_written_negative_is_sent_positive_and_one_written_positive_as_it_came() {
        for (q, p) in [("-2", "50"), ("2", "-50"), ("-2", "-50")] {
            let mut neg = memo(vec![line(q, p, "-100")], Some("-110"));
            neg.lines[0].taxes = vec![Tax {
                amount: d("-10"),
                ..Tax::default()
            }];
            let turned = in_coupa_signs(&neg).unwrap();
            assert!(matches!(turned.invoice, Cow::Owned(_)));
            let l = &turned.invoice.lines[0];
            assert_eq!(qpa(l), (d("2"), d("50"), d("100")), "{q} {p}");
            assert_eq!(l.taxes[0].amount, d("10"));
            assert_eq!(turned.invoice.total, d("110"));
        }
        let pos = memo(vec![line("2", "50", "100")], Some("110"));
        let same = in_coupa_signs(&pos).unwrap();
        assert!(matches!(same.invoice, Cow::Borrowed(_)));
        // A standard invoice with a negative line is Coupa's other form of credit: untouched.
        let mut standard = memo(vec![line("-2", "50", "-100")], Some("-110"));
        standard.purpose = Some(InvoicePurpose::Standard);
        assert!(matches!(
            in_coupa_signs(&standard).unwrap().invoice,
            Cow::Borrowed(_)
        ));
    }

    /// QA's E1: −3 × 10 returned and a +1 × 10 restocking fee, due −20.00. Turned as a whole:
    /// the credit 3 × 10, the fee a negative line, 20.00 credited.
    #[test]
    fn a_fee_among_credits_turns_with_them() {
        let m = memo(
            vec![line("-3", "10.00", "-30.00"), line("1", "10.00", "10.00")],
            Some("-20.00"),
        );
        let out = in_coupa_signs(&m).unwrap();
        assert!(matches!(out.invoice, Cow::Owned(_)));
        let lines = &out.invoice.lines;
        assert_eq!(qpa(&lines[0]), (d("3"), d("10.00"), d("30.00")));
        assert_eq!(qpa(&lines[1]), (d("1"), d("-10.00"), d("-10.00")));
        assert_eq!(out.invoice.total, d("20.00"));
    }

    #[test]
    fn zero_turns_to_zero_never_minus_zero() {
        let mut m = memo(vec![line("-1", "10.00", "-10.00")], Some("-10.00"));
        m.tax_total = d("0.00");
        let out = in_coupa_signs(&m).unwrap();
        let tax = out.invoice.tax_total.unwrap();
        assert_eq!(tax.to_string(), "0.00");
        assert_eq!(neg("0.00".parse().unwrap()).to_string(), "0.00");
        assert_eq!(neg("-0.00".parse().unwrap()).to_string(), "0.00");
    }

    #[test]
    fn a_memo_whose_direction_cannot_be_told_is_refused() {
        let m = memo(
            vec![line("-1", "10.00", "-10.00"), line("1", "10.00", "10.00")],
            None,
        );
        let err = in_coupa_signs(&m).err().unwrap();
        assert!(
            matches!(&err, CoupaError::Mapping(m) if m.contains("direction cannot be told")),
            "{err}"
        );
    }
}
