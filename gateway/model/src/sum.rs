//! Sums of amounts that say when they overflow instead of panicking.
//!
//! `rust_decimal`'s `+`, `-`, `*` and its `Sum` panic when a result is past what a decimal
//! holds ([`Decimal::MAX`], 79228162514264337593543950335), and a partner's document may hold
//! amounts near it: every reader takes up to 28 digits. One dropped file with two such line
//! amounts panicked in validation and stopped the file drop for every partner. So a sum of
//! input values goes through [`checked_sum`], and its `None` is for the caller to report (as
//! validation does, at the value that overflowed) or to treat as "no sum".

use rust_decimal::Decimal;

/// The sum of `values`, `None` when it is past what a decimal holds.
pub fn checked_sum(values: impl IntoIterator<Item = Decimal>) -> Option<Decimal> {
    values
        .into_iter()
        .try_fold(Decimal::ZERO, Decimal::checked_add)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sum_past_the_largest_decimal_is_none_not_a_panic() {
        assert_eq!(checked_sum([Decimal::MAX, Decimal::ONE]), None);
        assert_eq!(checked_sum([Decimal::MIN, Decimal::NEGATIVE_ONE]), None);
        // Opposite signs cancel as they go.
        assert_eq!(
            checked_sum([Decimal::MAX, Decimal::MIN, Decimal::ONE]),
            Some(Decimal::ONE)
        );
        assert_eq!(checked_sum([]), Some(Decimal::ZERO));
    }
}
