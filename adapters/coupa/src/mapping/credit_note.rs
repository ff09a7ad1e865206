//! A credit memo in Coupa's signs. Coupa takes a credit in one of two forms: a standard
//! invoice with a negative quantity or price, or a credit note (`is-credit-note`) whose
//! quantity and unit price are positive and which names the invoice it credits (Coupa
//! Compass, "Create PO-backed Credit Memo"). cXML writes a credit memo's amounts negative and
//! X12 810s mostly positive, so the same credit reached Coupa with opposite signs by channel.
//! A memo written all negative is turned around here; one already positive, or mixing signs
//! (which no turn keeps right), is sent as it came.

use std::borrow::Cow;

use gateway_model::{Charge, Decimal, Invoice, InvoiceLine, InvoicePurpose, Tax};

/// `inv` with a credit memo's negative amounts made positive when every line and the total
/// are credits (none above zero, one below); otherwise `inv` itself.
pub(super) fn in_coupa_signs(inv: &Invoice) -> Cow<'_, Invoice> {
    if inv.purpose != Some(InvoicePurpose::CreditMemo) || !written_negative(inv) {
        return Cow::Borrowed(inv);
    }
    let mut out = inv.clone();
    for l in &mut out.lines {
        turn_line(l);
    }
    turn_taxes(&mut out.taxes);
    turn_charges(&mut out.charges);
    for v in [&mut out.subtotal, &mut out.tax_total, &mut out.total] {
        negate(v);
    }
    Cow::Owned(out)
}

/// Every line amount (or quantity × price) and the total at or below zero, one below.
fn written_negative(inv: &Invoice) -> bool {
    let line_values: Vec<Decimal> = inv
        .lines
        .iter()
        .filter_map(|l| {
            l.amount.or_else(|| {
                l.quantity
                    .zip(l.unit_price)
                    .and_then(|(q, p)| q.checked_mul(p))
            })
        })
        .collect();
    let values = line_values.iter().chain(inv.total.iter());
    values.clone().all(|v| *v <= Decimal::ZERO) && values.into_iter().any(|v| *v < Decimal::ZERO)
}

fn negate(v: &mut Option<Decimal>) {
    if let Some(d) = v {
        *d = -*d;
    }
}

fn turn_line(l: &mut InvoiceLine) {
    l.quantity = l.quantity.map(|q| q.abs());
    l.unit_price = l.unit_price.map(|p| p.abs());
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

    fn d(s: &str) -> Option<Decimal> {
        Some(s.parse().unwrap())
    }

    fn memo(q: &str, p: &str, amount: &str, total: &str) -> Invoice {
        Invoice {
            purpose: Some(InvoicePurpose::CreditMemo),
            lines: vec![InvoiceLine {
                quantity: d(q),
                unit_price: d(p),
                amount: d(amount),
                taxes: vec![Tax {
                    amount: d(&total.replace("110", "10")),
                    ..Tax::default()
                }],
                ..InvoiceLine::default()
            }],
            total: d(total),
            ..Invoice::default()
        }
    }

    #[test]
    fn a_memo_written_negative_is_sent_positive_and_one_written_positive_as_it_came() {
        for (q, p) in [("-2", "50"), ("2", "-50"), ("-2", "-50")] {
            let neg = memo(q, p, "-100", "-110");
            let turned = in_coupa_signs(&neg);
            let l = &turned.lines[0];
            assert_eq!(
                (l.quantity, l.unit_price, l.amount),
                (d("2"), d("50"), d("100")),
                "{q} {p}"
            );
            assert_eq!(l.taxes[0].amount, d("10"));
            assert_eq!(turned.total, d("110"));
        }
        let pos = memo("2", "50", "100", "110");
        assert!(matches!(in_coupa_signs(&pos), Cow::Borrowed(_)));
        // A standard invoice with a negative line is Coupa's other form of credit: untouched.
        let mut standard = memo("-2", "50", "-100", "-110");
        standard.purpose = Some(InvoicePurpose::Standard);
        assert!(matches!(in_coupa_signs(&standard), Cow::Borrowed(_)));
        // Mixed signs: no turn keeps every line right, so nothing is turned.
        let mut mixed = memo("-2", "50", "-100", "-90");
        mixed.lines.push(InvoiceLine {
            quantity: d("1"),
            unit_price: d("10"),
            amount: d("10"),
            ..InvoiceLine::default()
        });
        assert!(matches!(in_coupa_signs(&mixed), Cow::Borrowed(_)));
    }
}
