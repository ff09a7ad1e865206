//! The order of segments within an 810 or 850.
//!
//! A partner's translator checks that segments come in the order of the transaction set's
//! table and refuses a set with one out of place. The writer emits the segments it maps in
//! that order, but segments kept from an X12 input (a REF or DTM the model does not hold) are
//! written where the writer meets them, and the order differs between sets (an 810 line has
//! TXI before PID, an 850 line after DTM). So [`crate::writer::Out`] records the position of
//! every segment of an area (heading, one line, summary) and puts them in table order when
//! the area ends. Inside an N1 loop the loop's segments go in the loop's own order (N1, N2,
//! N3, N4, REF, PER: a strict translator refuses a loop REF after its PER), wherever the loop
//! is. The positions are data: `schemas/x12/segment-order.csv`.

use std::sync::OnceLock;

const TABLE: &str = include_str!("../../../schemas/x12/segment-order.csv");

/// A part of a transaction set whose segments have one order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Area {
    Heading,
    /// One IT1 or PO1 loop.
    Line,
    Summary,
}

/// The positions of the segments of one area of one set, sorted by packed segment id
/// (looked up for every segment written, so an integer search rather than string compares),
/// and those of the segments of an N1 loop of the set (the table's `n1-loop` rows), which
/// order a loop inside whichever area it is.
#[derive(Debug, Default)]
pub struct Positions {
    entries: Vec<(u32, u16)>,
    party_loop: Vec<(u32, u16)>,
}

/// Where `id` is in `entries` (sorted by packed id).
fn look_up(entries: &[(u32, u16)], id: &str) -> Option<u16> {
    let key = crate::lengths::pack(id)?;
    entries
        .binary_search_by_key(&key, |(e, _)| *e)
        .ok()
        .and_then(|i| entries.get(i))
        .map(|(_, p)| *p)
}

impl Positions {
    /// Where `id` goes, when the table lists it.
    pub fn of(&self, id: &str) -> Option<u16> {
        look_up(&self.entries, id)
    }

    /// Where `id` goes inside an N1 loop (N1 first, PER last), when the loop lists it.
    pub fn in_party_loop(&self, id: &str) -> Option<u16> {
        look_up(&self.party_loop, id)
    }
}

/// Where a segment goes in its area: its position, then the run it is in (each N1 loop is a
/// run of its own, and so is each stretch between loops, numbered in the order written, so
/// loops at one position keep their order), then its place inside its loop (0 outside one).
/// Segments are put in the order of these keys, keeping the written order among equal ones.
pub type Key = (u16, u32, u16);

/// The [`Key`] of each of a list of kept segments, given their ids in order: a listed id at
/// its table position; an N1 opens a loop whose children (N2, N3, N4, REF, PER) share its
/// position and go in the loop's order; any other id at the position of the one before it (0
/// for the first). The writer writes a kept loop as a loop, so that it is put in this order
/// too, and the reader keeps its kept segments sorted by these keys, so a document read back
/// lists its kept segments as it did before it was written.
pub fn kept_keys<'a>(positions: &Positions, ids: impl IntoIterator<Item = &'a str>) -> Vec<Key> {
    let mut out = Vec::new();
    let mut last = 0u16;
    let mut party: Option<u16> = None;
    let mut run = 0u32;
    let mut last_inner = 0u16;
    for id in ids {
        let child = party.is_some() && crate::common::is_n1_child(id.as_bytes());
        let pos = match party {
            Some(p) if child => p,
            _ => positions.of(id).unwrap_or(last),
        };
        if id == "N1" {
            run = run.saturating_add(1);
            party = Some(pos);
            last_inner = 0;
        } else if party.is_some() && !child {
            run = run.saturating_add(1);
            party = None;
        }
        let inner = match party {
            Some(_) => positions.in_party_loop(id).unwrap_or(last_inner),
            None => 0,
        };
        last_inner = inner;
        last = pos;
        out.push((pos, run, inner));
    }
    out
}

/// The position of each of a list of kept segments in its area ([`kept_keys`]).
pub fn kept_positions<'a>(
    positions: &Positions,
    ids: impl IntoIterator<Item = &'a str>,
) -> Vec<u16> {
    kept_keys(positions, ids)
        .into_iter()
        .map(|(pos, _, _)| pos)
        .collect()
}

/// Sorts `items` (kept segments, `id` giving each one's segment id) stably by [`kept_keys`].
pub fn sort_kept<T>(positions: &Positions, items: &mut Vec<T>, id: impl Fn(&T) -> &str) {
    if items.len() < 2 {
        return;
    }
    let keys = kept_keys(positions, items.iter().map(&id));
    if keys.is_sorted() {
        return;
    }
    let mut keyed: Vec<(Key, T)> = keys.into_iter().zip(items.drain(..)).collect();
    keyed.sort_by_key(|(k, _)| *k);
    items.extend(keyed.into_iter().map(|(_, t)| t));
}

/// Sorts the segments kept of one N1 loop (`items`, not the N1 itself) stably into the loop's
/// order ([`Positions::in_party_loop`]), the order the writer gives them back in.
pub fn sort_party_loop<'s, T>(positions: &Positions, items: &mut [T], id: impl Fn(&T) -> &'s str) {
    items.sort_by_key(|t| positions.in_party_loop(id(t)).unwrap_or(u16::MAX));
}

/// Every (set, area) of the table, parsed once, each with its set's N1 loop order.
fn table() -> &'static [(&'static str, Area, Positions)] {
    static PARSED: OnceLock<Vec<(&'static str, Area, Positions)>> = OnceLock::new();
    PARSED.get_or_init(|| {
        let mut out: Vec<(&'static str, Area, Positions)> = Vec::new();
        let mut loops: Vec<(&'static str, Vec<(u32, u16)>)> = Vec::new();
        for line in TABLE.lines().filter(|l| !l.starts_with('#')).skip(1) {
            let mut cols = line.splitn(5, ',');
            let (Some(set), Some(area), Some(id), Some(pos)) =
                (cols.next(), cols.next(), cols.next(), cols.next())
            else {
                continue;
            };
            let (Ok(pos), Some(id)) = (pos.parse::<u16>(), crate::lengths::pack(id)) else {
                continue;
            };
            let area = match area {
                "heading" => Area::Heading,
                "line" => Area::Line,
                "summary" => Area::Summary,
                "n1-loop" => {
                    match loops.iter_mut().find(|(s, _)| *s == set) {
                        Some((_, l)) => l.push((id, pos)),
                        None => loops.push((set, vec![(id, pos)])),
                    }
                    continue;
                }
                _ => continue,
            };
            match out.iter_mut().find(|(s, a, _)| *s == set && *a == area) {
                Some((_, _, p)) => p.entries.push((id, pos)),
                None => out.push((
                    set,
                    area,
                    Positions {
                        entries: vec![(id, pos)],
                        party_loop: Vec::new(),
                    },
                )),
            }
        }
        for (set, _, p) in &mut out {
            p.entries.sort_unstable();
            if let Some((_, l)) = loops.iter().find(|(s, _)| s == set) {
                p.party_loop.clone_from(l);
                p.party_loop.sort_unstable();
            }
        }
        out
    })
}

/// The positions for `area` of transaction set `set` (`810`, `850`); `None` for a set the
/// table does not describe (its segments are written as the writer emits them).
pub fn positions(set: &str, area: Area) -> Option<&'static Positions> {
    table()
        .iter()
        .find(|(s, a, _)| *s == set && *a == area)
        .map(|(_, _, p)| p)
}

#[cfg(test)]
mod tests {
    use super::*;

    impl Area {
        fn name(self) -> &'static str {
            match self {
                Area::Heading => "heading",
                Area::Line => "line",
                Area::Summary => "summary",
            }
        }
    }

    #[test]
    fn the_table_describes_every_area_of_both_sets_with_one_position_per_segment() {
        for set in ["810", "850"] {
            for area in [Area::Heading, Area::Line, Area::Summary] {
                let p =
                    positions(set, area).unwrap_or_else(|| panic!("{set} {} missing", area.name()));
                let ids: Vec<u32> = p.entries.iter().map(|(id, _)| *id).collect();
                let mut unique = ids.clone();
                unique.dedup();
                assert_eq!(ids, unique, "{set} {}: a segment listed twice", area.name());
            }
        }
        assert!(positions("855", Area::Heading).is_none());
    }

    #[test]
    fn positions_follow_the_published_tables() {
        let h810 = positions("810", Area::Heading).unwrap();
        let order: Vec<u16> = ["BIG", "NTE", "CUR", "REF", "PER", "N1", "ITD", "DTM"]
            .iter()
            .map(|id| h810.of(id).unwrap())
            .collect();
        assert!(order.is_sorted(), "{order:?}");
        // Within a line the two sets differ: an 810 has TXI before PID, an 850 after DTM.
        let l810 = positions("810", Area::Line).unwrap();
        assert!(l810.of("TXI") < l810.of("PID"));
        let l850 = positions("850", Area::Line).unwrap();
        assert!(l850.of("PID") < l850.of("DTM") && l850.of("DTM") < l850.of("TXI"));
        assert_eq!(h810.of("ZZZ"), None);
    }

    #[test]
    fn kept_positions_keep_a_party_loop_together_and_an_unknown_segment_after_its_neighbour() {
        let h850 = positions("850", Area::Heading).unwrap();
        let ids = ["ZZ1", "DTM", "ZZ2", "N1", "N3", "REF", "CUR", "REF"];
        let keys = kept_positions(h850, ids);
        let (dtm, n1, cur, reference) = (
            h850.of("DTM").unwrap(),
            h850.of("N1").unwrap(),
            h850.of("CUR").unwrap(),
            h850.of("REF").unwrap(),
        );
        assert_eq!(keys, [0, dtm, dtm, n1, n1, n1, cur, reference]);
        // Sorting is stable and done once: sorting again changes nothing.
        let mut items: Vec<&str> = ids.to_vec();
        sort_kept(h850, &mut items, |s| s);
        assert_eq!(
            items,
            ["ZZ1", "CUR", "REF", "DTM", "ZZ2", "N1", "N3", "REF"]
        );
        let once = items.clone();
        sort_kept(h850, &mut items, |s| s);
        assert_eq!(items, once);
    }

    #[test]
    fn inside_a_kept_loop_segments_take_the_loops_order_and_loops_keep_theirs() {
        for set in ["810", "850"] {
            let h = positions(set, Area::Heading).unwrap();
            let order: Vec<u16> = ["N1", "N2", "N3", "N4", "REF", "PER"]
                .iter()
                .map(|id| h.in_party_loop(id).unwrap())
                .collect();
            assert!(order.is_sorted(), "{set} {order:?}");
            // Every area of the set orders a loop the same way.
            let line = positions(set, Area::Line).unwrap();
            assert_eq!(line.in_party_loop("REF"), h.in_party_loop("REF"));
        }
        let h810 = positions("810", Area::Heading).unwrap();
        let mut items = vec![
            "N1:a", "PER:a", "REF:a", "N3:a", "N1:b", "PER:b", "N2:b", "DTM", "REF",
        ];
        sort_kept(h810, &mut items, |s| {
            s.split(':').next().unwrap_or_default()
        });
        assert_eq!(
            items,
            [
                "REF", "N1:a", "N3:a", "REF:a", "PER:a", "N1:b", "N2:b", "PER:b", "DTM"
            ]
        );
        let mut leftovers = ["PER", "REF", "N4", "N2"];
        sort_party_loop(h810, &mut leftovers, |s| s);
        assert_eq!(leftovers, ["N2", "N4", "REF", "PER"]);
    }
}
