//! How a discount counts in an invoice's total, on a credit memo written either way.
//!
//! A discount (a charge of kind `discount`, an allowance) is written as its amount, and most
//! readers keep it so (cXML's reader takes `InvoiceDetailDiscount` unsigned, since suppliers
//! write it with either sign), so its sign does not say which way it counts. On an invoice, and
//! on a credit memo written positive (X12's convention), it is subtracted: Net = Gross −
//! Discount. On a credit memo written as credits (cXML's convention: `GrossAmount` −100.00,
//! `InvoiceDetailDiscount` −5.00, `NetAmount` −95.00) the same rule holds with every amount
//! negative, so the discount takes the negative total toward zero: it reduces the credit, and
//! counted unsigned it is added. Counted as subtracted there, a memo of 100.00 credited less a
//! 5.00 discount reached Coupa as a credit of 100.00 plus 5.00 of misc with a supplier total
//! of 95.00, parts that add to 105.
//!
//! The memo's own totals decide when they can: one whose total is the lines, taxes and other
//! charges with its discounts subtracted, and not with them added (−110.00 = −100.00 − 10.00),
//! says its discount adds to the credit, and is read so. Nothing else tells the two apart, so
//! the rule follows the total the supplier billed, and a memo without one (or whose total
//! fits neither) takes the discount as a discount: reducing the credit. Validation, which
//! checks the total, and the Coupa mapping, which turns the memo positive, both count with
//! [`Invoice::discount_sign`], so what the sender is told and what Coupa holds agree.

use rust_decimal::Decimal;

use crate::document::{ChargeKind, Invoice, InvoiceLine};
use crate::parts::Charge;
use crate::validate::CreditDirection;

/// Amounts may differ by rounding of this much and still be equal (as validation compares
/// a total with its parts).
const ROUNDING: Decimal = Decimal::from_parts(1, 0, 0, false, 2);

/// How a document's discounts count in its total as it is written ([`Invoice::discount_sign`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiscountSign {
    /// Subtracted from the lines, taxes and other charges: an invoice's, a purchase order's,
    /// a credit memo's written positive, and a memo's written as credits whose total says so.
    Subtracted,
    /// Added to them: a credit memo written as credits (negative), whose discount takes its
    /// negative total toward zero, reducing the credit.
    Added,
}

impl DiscountSign {
    /// The sign in the same document with every amount's sign turned (a memo written as
    /// credits made a positive credit note): a discount that reduced the negative credit
    /// reduces the positive one, subtracted.
    pub fn turned(self) -> Self {
        match self {
            DiscountSign::Subtracted => DiscountSign::Added,
            DiscountSign::Added => DiscountSign::Subtracted,
        }
    }
}

impl Charge {
    /// What this charge adds to its document's total, with discounts counting as `discounts`
    /// says: a discount by its amount without its sign, subtracted or added; any other kind
    /// as written (a negative charge is an allowance). `None` for a charge given by a rate
    /// alone, which the total does not count either.
    pub fn in_total(&self, discounts: DiscountSign) -> Option<Decimal> {
        self.amount.map(|a| match (self.kind, discounts) {
            (ChargeKind::Discount, DiscountSign::Subtracted) => -a.abs(),
            (ChargeKind::Discount, DiscountSign::Added) => a.abs(),
            _ => a,
        })
    }
}

impl Invoice {
    /// How this invoice's discounts count in its total (see the module's docs): subtracted,
    /// except on a credit memo written as credits ([`CreditDirection::Negative`]), where they
    /// are added (reducing the credit) unless the memo's total is its parts with them
    /// subtracted and not with them added.
    pub fn discount_sign(&self) -> DiscountSign {
        if self.credit_direction() != Some(CreditDirection::Negative) {
            return DiscountSign::Subtracted;
        }
        let fits = |sign| {
            self.total
                .zip(total_counting(self, sign))
                .and_then(|(total, parts)| total.checked_sub(parts))
                .is_some_and(|d| d.abs() <= ROUNDING)
        };
        if fits(DiscountSign::Subtracted) && !fits(DiscountSign::Added) {
            DiscountSign::Subtracted
        } else {
            DiscountSign::Added
        }
    }
}

/// `inv`'s total as validation makes it from its parts (the subtotal, else the lines' sum;
/// the tax total, else the taxes'; the charges'), discounts counting as `sign`. `None` when a
/// part is not known or the sum is past what a decimal holds.
fn total_counting(inv: &Invoice, sign: DiscountSign) -> Option<Decimal> {
    let base = match inv.subtotal {
        Some(s) => s,
        None => sum(inv.lines.iter().map(InvoiceLine::extended_amount))?,
    };
    let taxes = match inv.tax_total {
        Some(t) => t,
        None => sum(inv
            .taxes
            .iter()
            .chain(inv.lines.iter().flat_map(|l| l.taxes.iter()))
            .filter_map(|t| t.amount)
            .map(Some))?,
    };
    let charges = sum(inv
        .charges
        .iter()
        .chain(inv.lines.iter().flat_map(|l| l.charges.iter()))
        .filter_map(|c| c.in_total(sign))
        .map(Some))?;
    base.checked_add(taxes)?.checked_add(charges)
}

/// The sum of `values`; `None` when one is unknown or the sum is past what a decimal holds.
fn sum(values: impl IntoIterator<Item = Option<Decimal>>) -> Option<Decimal> {
    values
        .into_iter()
        .try_fold(Decimal::ZERO, |s, v| s.checked_add(v?))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::document::InvoicePurpose;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    /// A credit memo of one line of `line`, a discount of `discount` and total `total`.
    fn memo(line: &str, discount: &str, total: Option<&str>) -> Invoice {
        Invoice {
            purpose: Some(InvoicePurpose::CreditMemo),
            lines: vec![InvoiceLine {
                amount: Some(d(line)),
                ..InvoiceLine::default()
            }],
            charges: vec![Charge {
                kind: ChargeKind::Discount,
                amount: Some(d(discount)),
                rate: None,
                category: None,
                description: None,
                code: None,
            }],
            total: total.map(d),
            ..Invoice::default()
        }
    }

    /// QA's cmdisc: −100.00 credited, a discount of 5.00 (written −5.00 or 5.00), due
    /// −95.00: the discount reduces the credit, so it is added to the negative lines. Written
    /// positive (100.00, 5.00, 95.00), and on an invoice, it is subtracted.
    #[test]
    fn a_discount_reduces_the_credit_of_a_memo_written_either_way() {
        for discount in ["5.00", "-5.00"] {
            let m = memo("-100.00", discount, Some("-95.00"));
            assert_eq!(m.discount_sign(), DiscountSign::Added, "{discount}");
            assert_eq!(m.charges[0].in_total(m.discount_sign()), Some(d("5.00")));
            // Without a total, a discount is a discount.
            assert_eq!(
                memo("-100.00", discount, None).discount_sign(),
                DiscountSign::Added
            );
            // Turned positive with the memo, it is subtracted from the positive credit.
            assert_eq!(
                m.charges[0].in_total(m.discount_sign().turned()),
                Some(d("-5.00"))
            );
        }
        let positive = memo("100.00", "5.00", Some("95.00"));
        assert_eq!(positive.discount_sign(), DiscountSign::Subtracted);
        assert_eq!(
            positive.charges[0].in_total(positive.discount_sign()),
            Some(d("-5.00"))
        );
        let mut standard = memo("-100.00", "5.00", Some("-95.00"));
        standard.purpose = Some(InvoicePurpose::Standard);
        assert_eq!(standard.discount_sign(), DiscountSign::Subtracted);
        // A charge of another kind counts as written, whichever way discounts do.
        let fee = Charge {
            kind: ChargeKind::Other,
            ..positive.charges[0].clone()
        };
        assert_eq!(fee.in_total(DiscountSign::Added), Some(d("5.00")));
        assert_eq!(fee.in_total(DiscountSign::Subtracted), Some(d("5.00")));
    }

    /// QA's cmdisc: validation counts the discount as the memo does, so −100.00 credited less
    /// a discount of 5.00, due −95.00, adds up (it was told "−95.00 does not equal lines
    /// −100 plus taxes 0 plus charges −5 = −105"), and so does a memo whose total says its
    /// discount was subtracted.
    #[test]
    fn validation_counts_a_memos_discount_as_the_memo_does() {
        let total_note = |inv: Invoice| {
            crate::Document::Invoice(inv)
                .validate()
                .problems
                .into_iter()
                .filter(|p| p.path == "$.total")
                .map(|p| p.message)
                .collect::<Vec<_>>()
        };
        for discount in ["5.00", "-5.00"] {
            assert_eq!(
                total_note(memo("-100.00", discount, Some("-95.00"))),
                Vec::<String>::new()
            );
        }
        assert!(total_note(memo("-100.00", "10.00", Some("-110.00"))).is_empty());
        assert!(total_note(memo("100.00", "5.00", Some("95.00"))).is_empty());
        // A total that fits neither reading is still told, with the discount reducing the
        // credit.
        let told = total_note(memo("-100.00", "5.00", Some("-42.00")));
        assert!(
            told.iter()
                .any(|m| m.contains("charges 5") && m.contains("= -95")),
            "{told:?}"
        );
    }

    /// A memo whose total says its discount was subtracted (−100.00 − 10.00 = −110.00) is
    /// read as its total says; one whose total fits neither reading takes the discount as a
    /// discount.
    #[test]
    fn the_memos_total_decides_when_only_one_reading_fits_it() {
        assert_eq!(
            memo("-100.00", "10.00", Some("-110.00")).discount_sign(),
            DiscountSign::Subtracted
        );
        assert_eq!(
            memo("-100.00", "10.00", Some("-42.00")).discount_sign(),
            DiscountSign::Added
        );
    }
}
