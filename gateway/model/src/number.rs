//! Document numbers as the whole gateway compares them: trimmed, ASCII letters without regard
//! to case (`F4-A`, `f4-a` and ` F4-A ` are one invoice). The intake's business key, Coupa's
//! duplicate guard and the CSV readers' grouping of rows all use this one rule: where two of
//! them differed, an invoice resent in another case became a second Coupa invoice, and rows
//! of one invoice split into a short invoice and a conflict.

/// The form a number is kept and compared under: trimmed, ASCII letters in upper case (only
/// ASCII is folded, so a key never depends on Unicode case tables).
pub fn number_key(number: &str) -> String {
    number.trim().to_ascii_uppercase()
}

/// True when `a` and `b` name the same document ([`number_key`] of both is equal).
pub fn same_number(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_compare_trimmed_and_ignoring_ascii_case() {
        assert!(same_number("F4-A", "f4-a"));
        assert!(same_number(" F4-A ", "f4-a"));
        assert!(!same_number("F4-A", "F4-B"));
        // Only ASCII case is folded.
        assert!(!same_number("Ä-1", "ä-1"));
        assert_eq!(number_key(" f4-a "), number_key("F4-A"));
        assert_eq!(number_key(" f4-a "), "F4-A");
    }
}
