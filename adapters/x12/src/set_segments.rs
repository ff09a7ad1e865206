//! Which segment ids belong in an 810 or 850 at all (`schemas/x12/set-segments.csv`).
//!
//! A segment the mapping does not hold is kept in `extensions` whatever its id, so a round
//! trip loses nothing. But a partner whose set carries a segment that is no part of the
//! transaction set (`ZZZ`, a `BEG` in an invoice) should hear so in its 997/999, as its own
//! translator would tell it, rather than read "accepted".

use std::sync::OnceLock;

const TABLE: &str = include_str!("../../../schemas/x12/set-segments.csv");

/// The packed ids of each set's segments, sorted.
fn table() -> &'static [(&'static str, Vec<u32>)] {
    static PARSED: OnceLock<Vec<(&'static str, Vec<u32>)>> = OnceLock::new();
    PARSED.get_or_init(|| {
        let mut out: Vec<(&'static str, Vec<u32>)> = Vec::new();
        for line in TABLE.lines().filter(|l| !l.starts_with('#')).skip(1) {
            let Some((set, id)) = line.split_once(',') else {
                continue;
            };
            let Some(id) = crate::lengths::pack(id.trim()) else {
                continue;
            };
            match out.iter_mut().find(|(s, _)| *s == set) {
                Some((_, ids)) => ids.push(id),
                None => out.push((set, vec![id])),
            }
        }
        for (_, ids) in &mut out {
            ids.sort_unstable();
        }
        out
    })
}

/// The segment ids of one transaction set.
#[derive(Debug, Clone, Copy)]
pub struct SetSegments {
    ids: Option<&'static [u32]>,
}

impl SetSegments {
    /// The segments of set `set` (`810`, `850`); a set the table does not describe holds any.
    pub fn of(set: &str) -> Self {
        SetSegments {
            ids: table()
                .iter()
                .find(|(s, _)| *s == set)
                .map(|(_, ids)| ids.as_slice()),
        }
    }

    /// Whether a segment with this id may appear in the set.
    pub fn holds(self, id: &[u8]) -> bool {
        let Some(ids) = self.ids else {
            return true;
        };
        if !(2..=3).contains(&id.len()) {
            return false;
        }
        let key = id.iter().fold(0u32, |acc, &x| (acc << 8) | u32::from(x));
        ids.binary_search(&key).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_set_holds_its_own_segments_and_not_the_others_or_unknown_ones() {
        let invoice = SetSegments::of("810");
        let order = SetSegments::of("850");
        for id in [
            "BIG", "IT1", "TDS", "N1", "N2", "REF", "DTM", "SLN", "CTT", "SAC",
        ] {
            assert!(invoice.holds(id.as_bytes()), "810 {id}");
        }
        for id in ["BEG", "PO1", "N1", "NX2", "SCH", "CTT", "AMT", "TD5"] {
            assert!(order.holds(id.as_bytes()), "850 {id}");
        }
        for id in [
            "ZZZ", "BEG", "PO1", "ST", "SE", "GS", "ISA", "N", "ABCD", "",
        ] {
            assert!(!invoice.holds(id.as_bytes()), "810 {id}");
        }
        for id in ["ZZZ", "BIG", "IT1", "TDS"] {
            assert!(!order.holds(id.as_bytes()), "850 {id}");
        }
        // A set the table does not describe is not judged.
        assert!(SetSegments::of("855").holds(b"ZZZ"));
    }

    /// Every segment the writer may place (`segment-order.csv`) is one the reader accepts.
    #[test]
    fn every_segment_the_order_table_places_belongs_to_its_set() {
        let order = include_str!("../../../schemas/x12/segment-order.csv");
        let mut checked = 0;
        for line in order.lines().filter(|l| !l.starts_with('#')).skip(1) {
            let cols: Vec<&str> = line.split(',').collect();
            if let [set, _, id, ..] = cols.as_slice() {
                assert!(SetSegments::of(set).holds(id.as_bytes()), "{set} {id}");
                checked += 1;
            }
        }
        assert!(checked > 100, "{checked}");
    }
}
