//! Documents whose rows are not together. A document is read from a run of consecutive rows
//! and handed over when the run ends, so memory holds one document; a row of an invoice that
//! comes after another document's rows (a late `Invoice Charge`, a second run of rows under the
//! same number) could then only be rejected on its own, while the rest of the invoice went
//! through without it: an invoice short of a line or charge, delivered as if complete.
//!
//! [`Scattered`] remembers the key (the document number, or a column map's key) and rows of
//! every document of the file, not the document itself. A row away from its document's run
//! refuses that document whole: the run being read is rejected, a document still to come
//! under the key is rejected when it starts, and one handed over already is withdrawn.
//! [`crate::CsvCodec`]'s `decode`, which holds the documents of its input, takes a withdrawn
//! one back out and rejects it at its rows; a streaming reader (`decode_reader`) has handed
//! it on already, and the reject of the row that refused it says which it is
//! (`decode_reader_withdrawing` also returns its place, for a caller holding what it read).
//!
//! Keys are remembered as the business key takes them ([`crate::number`]): `F4-A` seen, a
//! later run under `f4-a` is the same document's rows, apart.

use std::collections::HashMap;

use gateway_model::Text;

use gateway_model::number_key;

/// The keys of a file's documents and where they were.
#[derive(Debug, Default)]
pub struct Scattered {
    /// Every key seen in the file (a document read under it, or a row naming it), in the form
    /// of [`number_key`], so keys differing only in case or surrounding spaces are one.
    seen: HashMap<Text, Seen>,
    /// Documents handed over so far: the next one's place among them.
    handed: usize,
    /// The documents handed over that were refused afterwards.
    withdrawn: Vec<Withdrawn>,
}

/// Where a key's rows were first seen, and the document handed over under it, if one was and
/// it still stands.
#[derive(Debug)]
struct Seen {
    first: u64,
    last: u64,
    handed: Option<usize>,
    /// What rejects call the document: its key as first written (the remembered form is
    /// folded to upper case), or a column map's number when its key column is another.
    label: Text,
}

/// A document handed over and then refused: its place among the documents of the input, in the
/// order they were handed over, its rows and name as its rejects give them (`rows 4-5`,
/// `ORD-1`), and why (`its Invoice Charge row 8 comes after ...`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Withdrawn {
    pub ordinal: usize,
    pub rows: String,
    pub label: String,
    pub why: String,
}

impl Withdrawn {
    /// The reject that refuses the document at its rows.
    pub fn reject(&self) -> gateway_core::Reject {
        let mut r = gateway_core::Reject::new(
            self.rows.as_str(),
            format!("refused whole, nothing of it taken: {}", self.why),
        );
        r.document = Some(self.label.clone());
        r
    }
}

/// `row 4` or `rows 4-5`.
pub fn rows_place(first: u64, last: u64) -> String {
    if first == last {
        format!("row {first}")
    } else {
        format!("rows {first}-{last}")
    }
}

impl Scattered {
    /// True when rows under `key` were seen before (a blank key is never remembered).
    pub fn seen(&self, key: &str) -> bool {
        !key.trim().is_empty() && self.seen.contains_key(number_key(key).as_str())
    }

    /// A document of the file has ended at `rows` under `key` (blank: none), and was handed
    /// over when `handed`; `label` is what its rejects call it. A key already seen keeps its
    /// first rows: a document read again under it was refused when it started.
    pub fn finished(&mut self, key: &str, (first, last): (u64, u64), handed: bool, label: &str) {
        let ordinal = handed.then(|| {
            let n = self.handed;
            self.handed += 1;
            n
        });
        if key.trim().is_empty() {
            return;
        }
        self.seen
            .entry(Text::from(number_key(key)))
            .or_insert_with(|| Seen {
                first,
                last,
                handed: ordinal,
                label: Text::from(label),
            });
    }

    /// Row `row` belongs to the document under `key` but is away from its run. The document is
    /// refused whole: one handed over under `key` is withdrawn (`why` says what refused it, in
    /// words that follow "refused whole"), and the key is remembered so a run of rows still to
    /// come under it is refused when it starts. Returns the rows seen under `key` before, when
    /// there were some, and whether a document handed over was withdrawn.
    pub fn apart(
        &mut self,
        key: &str,
        row: u64,
        why: impl FnOnce() -> String,
    ) -> Option<(String, bool)> {
        if key.trim().is_empty() {
            return None;
        }
        let folded = number_key(key);
        let Some(seen) = self.seen.get_mut(folded.as_str()) else {
            self.seen.insert(
                Text::from(folded),
                Seen {
                    first: row,
                    last: row,
                    handed: None,
                    label: Text::from(key),
                },
            );
            return None;
        };
        let before = rows_place(seen.first, seen.last);
        let withdrew = match seen.handed.take() {
            Some(ordinal) => {
                self.withdrawn.push(Withdrawn {
                    ordinal,
                    rows: before.clone(),
                    label: seen.label.to_string(),
                    why: why(),
                });
                true
            }
            None => false,
        };
        Some((before, withdrew))
    }

    /// The documents handed over and refused afterwards, in the order they were refused.
    pub fn take_withdrawn(&mut self) -> Vec<Withdrawn> {
        std::mem::take(&mut self.withdrawn)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_apart_withdraws_the_document_handed_over_under_its_key() {
        let mut s = Scattered::default();
        s.finished("A", (4, 5), true, "A");
        s.finished("", (6, 7), true, "invoice at rows 6-7");
        s.finished("B", (8, 9), false, "B");
        assert!(s.seen("A") && s.seen("B") && !s.seen("") && !s.seen("C"));
        let why = || "row 12 is late".to_string();
        assert_eq!(s.apart("A", 12, why), Some(("rows 4-5".to_string(), true)));
        // Once withdrawn, a further row apart withdraws nothing more.
        assert_eq!(s.apart("A", 13, why), Some(("rows 4-5".to_string(), false)));
        assert_eq!(s.apart("B", 14, why), Some(("rows 8-9".into(), false)));
        // A key first named by a row apart: a run under it later is refused.
        assert_eq!(s.apart("C", 15, why), None);
        assert!(s.seen("C"));
        let w = s.take_withdrawn();
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].ordinal, 0);
        let r = w[0].reject();
        assert_eq!(r.location, "rows 4-5");
        assert_eq!(r.document.as_deref(), Some("A"));
        assert!(r.message.contains("row 12"), "{}", r.message);
    }

    /// Keys are the business key's: `a-1` is `A-1`'s row apart, and the document withdrawn is
    /// named as its run wrote it.
    #[test]
    fn keys_differing_only_in_case_or_spaces_are_one() {
        let mut s = Scattered::default();
        s.finished("A-1", (4, 5), true, "A-1");
        assert!(s.seen("a-1") && s.seen(" A-1 ") && !s.seen("  "));
        let why = || "row 9 is late".to_string();
        assert_eq!(s.apart("a-1", 9, why), Some(("rows 4-5".to_string(), true)));
        let w = s.take_withdrawn();
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].label, "A-1");
    }
}
