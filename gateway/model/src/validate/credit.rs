//! Which way a credit memo writes its amounts.
//!
//! cXML writes a credit memo's amounts as credits, negative (`quantity="-3"`, a negative
//! `DueAmount`); an X12 810 mostly writes them positive and lets BIG07 say it is a credit.
//! A receiver that takes credits one way (Coupa's credit note: positive amounts) must turn
//! the whole document around or none of it: turning line by line made a memo with a
//! restocking fee reach Coupa with opposite signs on its lines, read as a charge. So the
//! direction is one fact of the document, told here once for every reader (the validation
//! that answers the sender, the Coupa mapping that turns the memo).

use std::cmp::Ordering;

use rust_decimal::Decimal;

use crate::document::{Invoice, InvoiceLine, InvoicePurpose};

/// Which way a credit memo's amounts are written ([`Invoice::credit_direction`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreditDirection {
    /// As credits, negative (cXML's convention): a negative total, or, with a total of zero
    /// or none, lines whose amounts sum below zero. A line written positive among them (a
    /// restocking fee) is a charge that reduces the credit.
    Negative,
    /// Positive (X12's convention), or nothing signed to tell by (every line zero): the
    /// amounts are the credit as they stand.
    Positive,
    /// Cannot be told: the total is zero or absent and the lines' amounts, some below zero
    /// and some above, cancel out. Either reading is a guess, and the wrong one books a
    /// credit as a charge.
    Unknown,
}

impl CreditDirection {
    /// Why a memo of direction [`CreditDirection::Unknown`] is refused, in the words the
    /// sender reads (its 997 or cXML answer) and a dead letter gives.
    pub const UNKNOWN_WHY: &'static str = "a credit memo whose direction cannot be told: its \
        total is zero or absent and its lines' amounts, some negative and some positive, \
        cancel out, so nothing says whether its amounts are written as credits (negative, as \
        cXML writes a credit memo) or positive (as an X12 810 does), and the buyer would book \
        it either as a credit or as a charge; send the memo with its total";
}

impl Invoice {
    /// Which way this credit memo writes its amounts; `None` for an invoice that is not a
    /// credit memo. The total decides when it is not zero (below zero: written as credits);
    /// else the lines' amounts (each its amount, else quantity × price) summed do.
    pub fn credit_direction(&self) -> Option<CreditDirection> {
        (self.purpose == Some(InvoicePurpose::CreditMemo)).then(|| direction(self))
    }
}

fn direction(inv: &Invoice) -> CreditDirection {
    match inv.total.map(|t| t.cmp(&Decimal::ZERO)) {
        Some(Ordering::Less) => return CreditDirection::Negative,
        Some(Ordering::Greater) => return CreditDirection::Positive,
        _ => {}
    }
    let mut sum = Some(Decimal::ZERO);
    let mut signed = false;
    for value in inv.lines.iter().filter_map(InvoiceLine::extended_amount) {
        signed |= !value.is_zero();
        sum = sum.and_then(|s| s.checked_add(value));
    }
    match sum.map(|s| s.cmp(&Decimal::ZERO)) {
        Some(Ordering::Less) => CreditDirection::Negative,
        Some(Ordering::Greater) => CreditDirection::Positive,
        Some(Ordering::Equal) if !signed => CreditDirection::Positive,
        // Lines that cancel out, or amounts too large to add: no way to tell.
        _ => CreditDirection::Unknown,
    }
}

impl InvoiceLine {
    /// The line's extended amount: as given, else quantity × price; `None` without either
    /// (or when the product does not fit).
    pub fn extended_amount(&self) -> Option<Decimal> {
        self.amount.or_else(|| {
            self.quantity
                .zip(self.unit_price)
                .and_then(|(q, p)| q.checked_mul(p))
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn memo(total: Option<&str>, lines: &[&str]) -> Invoice {
        Invoice {
            purpose: Some(InvoicePurpose::CreditMemo),
            total: total.map(|t| t.parse().unwrap()),
            lines: lines
                .iter()
                .map(|a| InvoiceLine {
                    amount: Some(a.parse().unwrap()),
                    ..InvoiceLine::default()
                })
                .collect(),
            ..Invoice::default()
        }
    }

    #[test]
    fn the_total_decides_else_the_lines_else_it_cannot_be_told() {
        use CreditDirection::*;
        let cases = [
            (Some("-20.00"), &["-30", "10"][..], Negative),
            (Some("20.00"), &["30", "-10"][..], Positive),
            // The total decides even against lines written the other way.
            (Some("-20.00"), &["30", "-10"][..], Negative),
            (None, &["-30", "10"][..], Negative),
            (Some("0"), &["-30", "10"][..], Negative),
            (None, &["30", "-10"][..], Positive),
            (None, &["-10", "10"][..], Unknown),
            (Some("0.00"), &["-10", "10"][..], Unknown),
            (Some("0.00"), &["0", "0"][..], Positive),
            (None, &[][..], Positive),
        ];
        for (total, lines, want) in cases {
            assert_eq!(
                memo(total, lines).credit_direction(),
                Some(want),
                "{total:?} {lines:?}"
            );
        }
        let mut standard = memo(Some("-20"), &["-20"]);
        standard.purpose = Some(InvoicePurpose::Standard);
        assert_eq!(standard.credit_direction(), None);
    }

    /// Bound for Coupa, a memo whose direction cannot be told is refused at intake (the
    /// sender reads it in its 997 or cXML answer), at its total; one that can be told is not.
    #[test]
    fn the_intake_refuses_a_memo_whose_direction_cannot_be_told() {
        let to_coupa = crate::ValidationContext {
            to_coupa: true,
            ..Default::default()
        };
        let refused = |inv: Invoice| {
            crate::Document::Invoice(inv)
                .validate_in(to_coupa)
                .errors()
                .any(|p| p.path == "$.total" && p.message == CreditDirection::UNKNOWN_WHY)
        };
        assert!(refused(memo(Some("0.00"), &["-10", "10"])));
        assert!(refused(memo(None, &["-10", "10"])));
        assert!(!refused(memo(Some("-20.00"), &["-30", "10"])));
        assert!(!refused(memo(None, &["-30", "10"])));
    }
}
