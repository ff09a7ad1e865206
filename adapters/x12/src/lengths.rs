//! How long an element the writer fills from a canonical document may and must be.
//!
//! A partner's translator checks every element against the X12 dictionary (and its own
//! implementation guide) and rejects a set with a value that is too long or too short (997 AK4
//! codes 4 and 5). The
//! canonical model has no such limits, so without a check a long Coupa description or name
//! would leave the gateway as an 850 the supplier refuses. The limits are data
//! (`schemas/x12/element-lengths.csv`, per version); a partner profile can lower or raise
//! them (`x12.max_lengths`). Segments kept from an X12 input are written as they came.

use std::collections::BTreeMap;

use gateway_core::EncodeError;

use crate::fields::Fields;

const TABLE: &str = include_str!("../../../schemas/x12/element-lengths.csv");

/// Maximum element lengths for one interchange's version and partner.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Limits {
    /// One entry per segment of the table, sorted by packed id (see [`pack`]) and found by
    /// binary search: cheaper per written segment than hashing the id.
    segments: Vec<SegmentLimits>,
    /// Open-addressing index of `segments` by packed id ([`slot`]; `u8::MAX` empty), built
    /// once the table is complete: every received segment is looked up.
    index: Vec<u8>,
    /// Where the numbers come from, for messages: `004010` or `the partner profile`.
    version: String,
    overridden: Vec<(String, usize)>,
}

/// The limits of one segment.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SegmentLimits {
    key: u32,
    /// Maximum per element position (index 0 unused; 0 means no limit).
    pub max: Vec<u16>,
    /// Minimum per element position (index 0 unused; 0 or missing means none).
    pub min: Vec<u8>,
    /// Bit `n` set when element `n` is a code (type ID): a value shorter than its minimum is
    /// refused, where a string (type AN) is padded with trailing spaces.
    pub code: u32,
    /// Bit `n` set when element `n` is free text (a line break becomes a space there).
    pub free_text: u32,
    /// Bit `n` set when element `n` is a number (type R, N0, N2): its length counts digits
    /// only, not a sign or a decimal point (X12.6).
    pub numeric: u32,
    /// The maximum in bytes by position, `u16::MAX` where there is none, for the quick
    /// check every received segment gets ([`off_length_in_bytes`]).
    byte_max: ByteMax,
    /// What received elements are checked against for being too short, by position: the
    /// minimum less one (0: none, as for a minimum of 0 or 1, which any value present
    /// meets). The table's minimums and the dates and times of [`READ_MINIMUMS`].
    short_below: ShortBelow,
}

/// [`SegmentLimits::byte_max`]: one entry per position a [`Fields`] records (and the id's).
#[derive(Debug, Clone, PartialEq, Eq)]
struct ByteMax([u16; 33]);

impl Default for ByteMax {
    fn default() -> Self {
        ByteMax([u16::MAX; 33])
    }
}

/// [`SegmentLimits::short_below`]: one entry per position a [`Fields`] records.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ShortBelow([u16; 33]);

impl Default for ShortBelow {
    fn default() -> Self {
        ShortBelow(NO_MINIMUM)
    }
}

/// No minimum at any position.
const NO_MINIMUM: [u16; 33] = [0; 33];

/// Minimums the reader checks that the element-lengths table does not hold, because the
/// writer never fills them from free values: the dates (type DT, exactly CCYYMMDD from
/// 004010 on) and times (TM, 4 to 8) of the 810 and 850. A six-digit `BIG01` is an 003xxx
/// date, not a 004010 one. Segment, position, minimum; not applied to groups before 004010.
const READ_MINIMUMS: &[(&str, usize, u8)] = &[
    ("BIG", 1, 8),
    ("BIG", 3, 8),
    ("BEG", 5, 8),
    ("DTM", 2, 8),
    ("DTM", 3, 4),
];

/// An element of a received segment shorter than the dictionary's minimum (blank elements
/// are absent, never short).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooShort {
    /// 1-based element position.
    pub position: usize,
    /// Characters, or digits for a number, spaces included (X12.6 pads a string to its
    /// minimum with them).
    pub length: usize,
    pub min: u16,
    /// The element is a number, counted in digits.
    pub numeric: bool,
}

/// An element of a received segment longer than the dictionary allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OverLong {
    /// 1-based element position.
    pub position: usize,
    /// Characters, or digits for a number.
    pub length: usize,
    pub max: u16,
    /// The element is a number, counted in digits.
    pub numeric: bool,
}

impl SegmentLimits {
    /// The quick check every received segment gets before [`SegmentLimits::over_long`] and
    /// [`SegmentLimits::too_short`], in one pass over the element ends the split found: an
    /// element longer in bytes than its maximum, or present (one byte or more) and shorter in
    /// bytes than its minimum. False for nearly every received segment.
    ///
    /// Bytes bound characters from above, so nothing over-long is missed; a value whose bytes
    /// reach the minimum while its characters do not (multi-byte characters in a string of
    /// two or more) is not reported as short: the check stays one comparison per element.
    #[inline]
    pub fn may_be_off_length(&self, seg: &Fields<'_, '_>) -> bool {
        match seg.starts() {
            Some((starts, end)) => {
                off_length_in_bytes(&self.byte_max.0, &self.short_below.0, starts, end)
            }
            None => true,
        }
    }

    /// The elements of `seg` (a segment of this id) shorter than their minimum, in order
    /// (AK4 code 4). A blank element is absent, not short; a composite is not checked. Runs
    /// after [`SegmentLimits::may_be_off_length`] found a candidate.
    pub fn too_short(&self, seg: &Fields<'_, '_>, found: &mut dyn FnMut(TooShort)) {
        for (position, &below) in self.short_below.0.iter().enumerate().skip(1) {
            if below == 0 {
                continue;
            }
            let Some(value) = seg.element(position) else {
                return;
            };
            if value.len() > usize::from(below) || value.trim_ascii().is_empty() {
                continue;
            }
            if value.contains(&seg.delimiters.component) {
                continue;
            }
            let numeric = position < 32 && self.numeric & (1 << position) != 0;
            let length = if numeric {
                value.iter().filter(|b| b.is_ascii_digit()).count()
            } else {
                seg.charset.read(value).chars().count()
            };
            if length <= usize::from(below) {
                found(TooShort {
                    position,
                    length,
                    min: below + 1,
                    numeric,
                });
            }
        }
    }

    /// The quick check before [`SegmentLimits::over_long`]: bytes bound characters and
    /// digits from above, so when no element is longer in bytes than its maximum, nothing is
    /// too long. False for nearly every received segment.
    #[inline]
    pub fn may_be_over_long(&self, seg: &Fields<'_, '_>) -> bool {
        match seg.starts() {
            Some((starts, end)) => off_length_in_bytes(&self.byte_max.0, &NO_MINIMUM, starts, end),
            None => true,
        }
    }

    /// The elements of `seg` (a segment of this id) longer than their maximum, in order.
    /// Surrounding spaces are not counted (readers trim them); a composite element is not
    /// checked (the table holds simple elements only).
    /// Runs after [`SegmentLimits::may_be_over_long`] found a candidate, so it may be thorough.
    pub fn over_long(&self, seg: &Fields<'_, '_>, found: &mut dyn FnMut(OverLong)) {
        if !self.may_be_over_long(seg) {
            return;
        }
        for (position, &max) in self.max.iter().enumerate().filter(|(_, m)| **m > 0) {
            // Positions ascend: once one is missing, so are the rest.
            let Some(value) = seg.element(position) else {
                return;
            };
            if value.len() <= usize::from(max) {
                continue;
            }
            let value = value.trim_ascii();
            if value.contains(&seg.delimiters.component) {
                continue;
            }
            let numeric = position < 32 && self.numeric & (1 << position) != 0;
            let length = if numeric {
                value.iter().filter(|b| b.is_ascii_digit()).count()
            } else {
                // Characters as the reader reads them (one per byte in Windows-1252).
                seg.charset.read(value).chars().count()
            };
            if length > usize::from(max) {
                found(OverLong {
                    position,
                    length,
                    max,
                    numeric,
                });
            }
        }
    }
}

/// Whether an element is longer in bytes than its maximum in `max` (by position;
/// `u16::MAX` is none) or, present, shorter than its minimum (`below`: the minimum less one,
/// 0 for none), the elements given by where they start (`starts[n]` for element `n`, the id
/// first; at most 33) and the segment's length `end`. Branch-free over the elements: it runs
/// for nearly every received segment.
fn off_length_in_bytes(max: &[u16; 33], below: &[u16; 33], starts: &[u16], end: usize) -> bool {
    let count = starts.len().saturating_sub(1);
    let (Some(&last_start), Some(begin), Some(next), Some(limits), Some(mins)) = (
        starts.last(),
        starts.get(1..count),
        starts.get(2..),
        max.get(1..count),
        below.get(1..count),
    ) else {
        return false;
    };
    // Element p (1..count) ends one before element p + 1 starts. An empty element's length
    // less one wraps to u16::MAX, which no minimum is above.
    let inner =
        next.iter()
            .zip(begin)
            .zip(limits)
            .zip(mins)
            .fold(false, |off, (((n, b), m), s)| {
                let len = n.wrapping_sub(*b).wrapping_sub(1);
                off | (len > *m) | (len.wrapping_sub(1) < *s)
            });
    let last = end.saturating_sub(usize::from(last_start));
    inner
        || max.get(count).is_some_and(|&m| last > usize::from(m))
        || below
            .get(count)
            .is_some_and(|&s| last.wrapping_sub(1) < usize::from(s))
}

/// A GS08 of a version before 004010 (`003040`): six digits below `004010`.
fn before_4010(version: &str) -> bool {
    version
        .get(..6)
        .is_some_and(|v| v.bytes().all(|b| b.is_ascii_digit()) && v < "004010")
}

/// A segment id (two or three bytes) as one integer; longer ids are never in the table.
pub(crate) fn pack(id: &str) -> Option<u32> {
    pack_bytes(id.as_bytes())
}

fn pack_bytes(b: &[u8]) -> Option<u32> {
    if !(2..=3).contains(&b.len()) {
        return None;
    }
    Some(b.iter().fold(0u32, |acc, &x| (acc << 8) | u32::from(x)))
}

/// Slots of [`Limits::index`]: at most half full, so a probe ends quickly.
const INDEX_SLOTS: usize = 64;

/// The first slot to probe for a packed id (the top six bits of a multiplicative hash).
fn slot(key: u32) -> usize {
    (key.wrapping_mul(0x9E37_79B1) >> 26) as usize
}

/// `N102` → (`N1`, 2).
fn split_key(key: &str) -> Option<(&str, usize)> {
    let cut = key.len().checked_sub(2)?;
    let (seg, pos) = (key.get(..cut)?, key.get(cut..)?);
    let valid_seg = (2..=3).contains(&seg.len())
        && seg
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    let pos: usize = pos.parse().ok()?;
    (valid_seg && pos > 0).then_some((seg, pos))
}

impl Limits {
    /// The dictionary's limits for a GS08 version (`005010…` uses the 5010 column, anything
    /// else the 4010 one), then the partner's `overrides` (`{"N102": 35}`).
    pub fn new(version: &str, overrides: &BTreeMap<String, usize>) -> Result<Self, EncodeError> {
        let mut limits = Self::dictionary_for(version).clone();
        limits.version = version.to_string();
        for (key, max) in overrides {
            let (seg, pos) = split_key(key).ok_or_else(|| EncodeError::Invalid {
                path: format!("x12.max_lengths.{key}"),
                message: format!(
                    "{key:?} is not an element: write the segment id and the two-digit position, e.g. N102"
                ),
            })?;
            let max = u16::try_from(*max).unwrap_or(u16::MAX);
            limits.set(seg, pos, max);
            limits.overridden.push((key.clone(), usize::from(max)));
        }
        limits.build_index();
        Ok(limits)
    }

    /// The dictionary's limits for a GS08 version, without a partner's overrides: what an
    /// inbound set is checked against (the buyer's side sets no looser limits than X12's).
    pub(crate) fn dictionary_for(version: &str) -> &'static Limits {
        // Read each version's table once per process: the service encodes one PO at a time,
        // and every inbound set is checked.
        static TABLES: std::sync::OnceLock<[Limits; 3]> = std::sync::OnceLock::new();
        let [v4010, v5010, older] = TABLES.get_or_init(|| {
            let (mut v4010, mut v5010) = (Self::dictionary(1), Self::dictionary(2));
            // Before 004010 a date was six digits (YYMMDD): its dates are not held to eight.
            let mut older = v4010.clone();
            v4010.read_minimums();
            v5010.read_minimums();
            v4010.version = "004010".into();
            older.version = "004010".into();
            v5010.version = "005010".into();
            [v4010, v5010, older]
        });
        if version.starts_with("0050") {
            v5010
        } else if before_4010(version) {
            older
        } else {
            v4010
        }
    }

    /// Adds [`READ_MINIMUMS`] to what received elements are checked against (the writer's
    /// `min` is left as the table has it). Rebuilds the index: a segment may be new.
    fn read_minimums(&mut self) {
        for &(seg, pos, min) in READ_MINIMUMS {
            if let Some(slot) = self.entry(seg).and_then(|e| e.short_below.0.get_mut(pos)) {
                *slot = u16::from(min.saturating_sub(1));
            }
        }
        self.build_index();
    }

    /// Where the numbers come from, for messages (`004010`, or the partner's GS08).
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The element-lengths table's limits, from its maximum column for `version` (1: 004010,
    /// 2: 005010).
    fn dictionary(version: usize) -> Limits {
        // element,type,min,max_004010,max_005010,free_text,name (the name may hold commas)
        let mut limits = Limits::default();
        for line in TABLE.lines().skip_while(|l| l.starts_with('#')).skip(1) {
            let cols: Vec<&str> = line.splitn(7, ',').collect();
            let parsed = cols
                .first()
                .and_then(|k| split_key(k))
                .zip(cols.get(2 + version).and_then(|m| m.parse::<u16>().ok()));
            // The table is ours and a unit test reads every row; a bad row is skipped.
            if let Some(((seg, pos), max)) = parsed {
                limits.set(seg, pos, max);
                let min = cols.get(2).and_then(|m| m.parse::<u8>().ok()).unwrap_or(0);
                let (free, code) = (cols.get(5) == Some(&"yes"), cols.get(1) == Some(&"ID"));
                limits.mark(seg, pos, min, free, code);
                if matches!(cols.get(1), Some(&("R" | "N0" | "N2"))) {
                    limits.mark_numeric(seg, pos);
                }
            }
        }
        limits.build_index();
        limits
    }

    /// The entry of `seg`, made when missing.
    fn entry(&mut self, seg: &str) -> Option<&mut SegmentLimits> {
        let key = pack(seg)?;
        let at = match self.segments.binary_search_by_key(&key, |s| s.key) {
            Ok(at) => at,
            Err(at) => {
                self.segments.insert(
                    at,
                    SegmentLimits {
                        key,
                        ..SegmentLimits::default()
                    },
                );
                at
            }
        };
        self.segments.get_mut(at)
    }

    fn set(&mut self, seg: &str, pos: usize, max: u16) {
        let Some(e) = self.entry(seg) else { return };
        if e.max.len() <= pos {
            e.max.resize(pos + 1, 0);
        }
        if let Some(slot) = e.max.get_mut(pos) {
            *slot = max;
        }
        if let Some(slot) = e.byte_max.0.get_mut(pos) {
            // A limit in digits or characters is the same number of bytes or more.
            *slot = if max == 0 { u16::MAX } else { max };
        }
    }

    /// Records element `pos`'s minimum and whether it is free text and a code.
    fn mark(&mut self, seg: &str, pos: usize, min: u8, free_text: bool, code: bool) {
        let Some(flag) = u32::try_from(pos).ok().and_then(|b| 1u32.checked_shl(b)) else {
            return;
        };
        if let Some(e) = self.entry(seg) {
            if e.min.len() <= pos {
                e.min.resize(pos + 1, 0);
            }
            if let Some(slot) = e.min.get_mut(pos) {
                *slot = min;
            }
            if let Some(slot) = e.short_below.0.get_mut(pos) {
                *slot = u16::from(min.saturating_sub(1));
            }
            if free_text {
                e.free_text |= flag;
            }
            if code {
                e.code |= flag;
            }
        }
    }

    fn mark_numeric(&mut self, seg: &str, pos: usize) {
        let Some(flag) = u32::try_from(pos).ok().and_then(|b| 1u32.checked_shl(b)) else {
            return;
        };
        if let Some(e) = self.entry(seg) {
            e.numeric |= flag;
        }
    }

    /// The limits of segment `id`, looked up once per segment written.
    pub fn for_segment(&self, id: &str) -> Option<&SegmentLimits> {
        self.for_id(id.as_bytes())
    }

    /// [`Limits::for_segment`] by the id's bytes, as a received segment has it.
    #[inline]
    pub fn for_id(&self, id: &[u8]) -> Option<&SegmentLimits> {
        let key = pack_bytes(id)?;
        if self.index.is_empty() {
            return self
                .segments
                .binary_search_by_key(&key, |s| s.key)
                .ok()
                .and_then(|at| self.segments.get(at));
        }
        let mut at = slot(key);
        loop {
            let found = self.segments.get(usize::from(*self.index.get(at)?))?;
            if found.key == key {
                return Some(found);
            }
            at = (at + 1) % INDEX_SLOTS;
        }
    }

    /// Builds [`Limits::index`]; without it (a table of more segments than it holds),
    /// lookups search the sorted list.
    fn build_index(&mut self) {
        self.index.clear();
        if self.segments.len() >= INDEX_SLOTS / 2 {
            return;
        }
        let mut index = vec![u8::MAX; INDEX_SLOTS];
        for (n, s) in self.segments.iter().enumerate() {
            let mut at = slot(s.key);
            while index.get(at).is_some_and(|&x| x != u8::MAX) {
                at = (at + 1) % INDEX_SLOTS;
            }
            if let (Some(cell), Ok(n)) = (index.get_mut(at), u8::try_from(n)) {
                *cell = n;
            }
        }
        self.index = index;
    }

    /// The limit of one element, if there is one.
    pub fn max(&self, seg: &str, pos: usize) -> Option<usize> {
        self.for_segment(seg)
            .and_then(|s| s.max.get(pos))
            .filter(|m| **m > 0)
            .map(|m| usize::from(*m))
    }

    /// The error for code `value` in element `seg``pos`, shorter than its minimum `min`.
    pub fn too_short(path: &str, seg: &str, pos: usize, value: &str, min: usize) -> EncodeError {
        EncodeError::Invalid {
            path: path.to_string(),
            message: format!(
                "{seg}{pos:02} is a code of at least {min} characters and {value:?} is shorter; the partner would reject the set. Correct the value where it comes from"
            ),
        }
    }

    /// The error for `value` in element `seg``pos`, which is longer than `max` characters.
    pub fn too_long(
        &self,
        path: &str,
        seg: &str,
        pos: usize,
        value: &str,
        max: usize,
    ) -> EncodeError {
        let key = format!("{seg}{pos:02}");
        let numeric = self
            .for_segment(seg)
            .is_some_and(|s| pos < 32 && s.numeric & (1 << pos) != 0);
        let (length, unit) = if numeric {
            (value.bytes().filter(u8::is_ascii_digit).count(), "digits")
        } else {
            (value.chars().count(), "characters")
        };
        let source = if self.overridden.iter().any(|(k, _)| *k == key) {
            "the partner profile (x12.max_lengths) allows".to_string()
        } else {
            format!("X12 {} allows", self.version)
        };
        EncodeError::Invalid {
            path: path.to_string(),
            message: format!(
                "{key} would be {length} {unit} ({value:?}) and {source} at most {max}; the partner would reject the set. Shorten the value where it comes from, or set x12.max_lengths.{key} in the partner profile if the partner's guide allows more",
            ),
        }
    }
}

/// Splits `text` into pieces of at most `max` characters at single spaces (the space between
/// two pieces is dropped), so that joining the pieces with one space gives `text` back. `None`
/// when that cannot be done: a word longer than `max`, or spaces that joining would not
/// restore (doubled, leading or trailing).
pub fn wrap(text: &str, max: usize) -> Option<Vec<&str>> {
    if max == 0 {
        return None;
    }
    let mut pieces = Vec::new();
    let mut rest = text;
    while rest.chars().count() > max {
        // Byte offset of the character just past `max` characters.
        let limit = rest
            .char_indices()
            .nth(max)
            .map(|(i, _)| i)
            .unwrap_or(rest.len());
        // A space just past `max` characters still ends a piece of exactly `max`.
        let end = if rest.as_bytes().get(limit) == Some(&b' ') {
            limit + 1
        } else {
            limit
        };
        let window = rest.get(..end)?;
        let cut = window.rfind(' ')?;
        let (head, tail) = (rest.get(..cut)?, rest.get(cut + 1..)?);
        if head.is_empty() || head.ends_with(' ') || tail.starts_with(' ') {
            return None;
        }
        pieces.push(head);
        rest = tail;
    }
    pieces.push(rest);
    (pieces.join(" ") == text && pieces.iter().all(|p| p.trim() == *p)).then_some(pieces)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokenizer::Tokenizer;

    /// The over-long elements of the first segment of `x12` (an ISA-less fragment is read
    /// with the default delimiters).
    fn over_long_in(limits: &Limits, x12: &str) -> Vec<(usize, usize)> {
        let isa = "ISA*00*          *00*          *ZZ*S              *ZZ*R              *260315*1030*U*00401*000000001*0*P*>~";
        let input = format!("{isa}{x12}");
        let seg = Tokenizer::new(input.as_bytes()).flatten().nth(1).unwrap();
        let fields = Fields::new(&seg);
        let max = limits.for_id(seg.id()).unwrap();
        let mut found = Vec::new();
        max.over_long(&fields, &mut |e| found.push((e.position, e.length)));
        // The quick check never misses what the full check finds.
        assert!(found.is_empty() || max.may_be_over_long(&fields), "{x12}");
        found
    }

    #[test]
    fn received_elements_are_checked_by_position_in_characters_or_digits() {
        let l4 = Limits::dictionary_for("004010");
        let sixty = "N".repeat(60);
        assert_eq!(over_long_in(l4, &format!("N1*SU*{sixty}~")), vec![]);
        assert_eq!(over_long_in(l4, &format!("N1*SU*{sixty}N~")), vec![(2, 61)]);
        // The last element, and one in the middle, and spaces around a value not counted.
        assert_eq!(
            over_long_in(l4, &format!("N1*SU*{sixty}N*92*{}~", "9".repeat(81))),
            vec![(2, 61), (4, 81)]
        );
        assert_eq!(over_long_in(l4, &format!("N1*SU*  {sixty}  ~")), vec![]);
        // Sixty characters of two bytes each: characters count, not bytes.
        assert_eq!(
            over_long_in(l4, &format!("N1*SU*{}~", "é".repeat(60))),
            vec![]
        );
        // Numbers count digits: a sign and a decimal point are free.
        assert_eq!(over_long_in(l4, "IT1*1*-123456789.0*EA*1~"), vec![]);
        assert_eq!(over_long_in(l4, "IT1*1*12345678901*EA*1~"), vec![(2, 11)]);
        assert_eq!(
            over_long_in(Limits::dictionary_for("005010"), "IT1*1*12345678901*EA*1~"),
            vec![]
        );
        // A segment with only its id, or shorter than the limited positions.
        assert_eq!(over_long_in(l4, "N1~"), vec![]);
        assert_eq!(over_long_in(l4, "N1*SU~"), vec![]);
        // More elements than the separators recorded: read one by one.
        let many = format!("N1*SU*{sixty}N{}~", "*".repeat(40));
        assert_eq!(over_long_in(l4, &many), vec![(2, 61)]);
    }

    /// The too-short elements of the first segment of `x12`, checked like over-long ones.
    fn too_short_in(limits: &Limits, x12: &str) -> Vec<(usize, usize)> {
        let isa = "ISA*00*          *00*          *ZZ*S              *ZZ*R              *260315*1030*U*00401*000000001*0*P*>~";
        let input = format!("{isa}{x12}");
        let seg = Tokenizer::new(input.as_bytes()).flatten().nth(1).unwrap();
        let fields = Fields::new(&seg);
        let min = limits.for_id(seg.id()).unwrap();
        let mut found = Vec::new();
        min.too_short(&fields, &mut |e| found.push((e.position, e.length)));
        // The quick check never misses what the full check finds.
        assert!(found.is_empty() || min.may_be_off_length(&fields), "{x12}");
        found
    }

    #[test]
    fn received_elements_shorter_than_their_minimum_are_found_and_blanks_are_not() {
        let l4 = Limits::dictionary_for("004010");
        // N4: city AN 2, state ID 2, postal code ID 3, country ID 2.
        assert_eq!(too_short_in(l4, "N4*Springfield*IL*62701*US~"), vec![]);
        assert_eq!(
            too_short_in(l4, "N4*X*I*627*U~"),
            vec![(1, 1), (2, 1), (4, 1)]
        );
        assert_eq!(too_short_in(l4, "N4*Springfield*IL*62~"), vec![(3, 2)]);
        // Blank is absent; a string padded to its minimum is long enough.
        assert_eq!(too_short_in(l4, "N4*Springfield**  *~"), vec![]);
        assert_eq!(too_short_in(l4, "N4*X *IL~"), vec![]);
        // Dates: eight digits from 004010, not before.
        assert_eq!(too_short_in(l4, "BIG*260315*INV*20260301~"), vec![(1, 6)]);
        assert_eq!(too_short_in(l4, "DTM*011*2603*12~"), vec![(2, 4), (3, 2)]);
        let l3 = Limits::dictionary_for("003040");
        assert_eq!(too_short_in(l3, "BIG*260315*INV*260301~"), vec![]);
        // The writer's minimums are the table's: no dates added there.
        assert_eq!(
            l4.for_segment("BIG")
                .unwrap()
                .min
                .get(1)
                .copied()
                .unwrap_or(0),
            0
        );
    }

    #[test]
    fn every_row_of_the_table_is_read() {
        let rows = TABLE
            .lines()
            .skip_while(|l| l.starts_with('#'))
            .skip(1)
            .filter(|l| !l.trim().is_empty())
            .count();
        let l4 = Limits::new("004010", &BTreeMap::new()).unwrap();
        let l5 = Limits::new("005010X222A1", &BTreeMap::new()).unwrap();
        let read: usize = l4
            .segments
            .iter()
            .map(|s| s.max.iter().filter(|m| **m > 0).count())
            .sum();
        assert_eq!(read, rows);
        assert_eq!(l4.max("N1", 2), Some(60));
        assert_eq!(l4.max("REF", 2), Some(30));
        assert_eq!(l5.max("REF", 2), Some(50));
        assert_eq!(l4.max("PID", 5), Some(80));
        assert_eq!(l4.max("N1", 1), None);
        let free = |id| l4.for_segment(id).map_or(0, |s| s.free_text);
        assert_eq!(free("PID"), 1 << 5);
        assert_eq!(free("N3"), (1 << 1) | (1 << 2));
        assert_eq!(free("N1"), 1 << 2);
        assert_eq!(free("CUR"), 0);
        assert_eq!(free("ST"), 0);
        // N4: city AN 2/30, state ID 2/2, postal code ID 3/15, country ID 2/3.
        let n4 = l4.for_segment("N4").unwrap();
        assert_eq!(n4.min, [0, 2, 2, 3, 2]);
        assert_eq!(n4.code, (1 << 2) | (1 << 3) | (1 << 4));
        assert_eq!(l5.for_segment("N1").unwrap().min, [0, 0, 1, 1, 2]);
        // Quantities and prices count digits; IT102 grew from 10 to 15 in 005010.
        assert_eq!(l4.for_segment("IT1").unwrap().numeric, (1 << 2) | (1 << 4));
        assert_eq!((l4.max("IT1", 2), l5.max("IT1", 2)), (Some(10), Some(15)));
        assert_eq!(n4.numeric, 0);
        // TXI08, the taxable amount.
        assert_eq!((l4.max("TXI", 8), l5.max("TXI", 8)), (Some(9), Some(9)));
        assert_eq!(l4.for_segment("TXI").unwrap().numeric & (1 << 8), 1 << 8);
    }

    #[test]
    fn a_partner_override_replaces_the_dictionary_and_a_bad_key_is_named() {
        let mut o = BTreeMap::new();
        o.insert("N102".to_string(), 35);
        let l = Limits::new("004010", &o).unwrap();
        assert_eq!(l.max("N1", 2), Some(35));
        let msg = l
            .too_long("$.supplier", "N1", 2, &"x".repeat(40), 35)
            .to_string();
        assert!(
            msg.contains("partner profile") && msg.contains("N102"),
            "{msg}"
        );
        o.insert("name".to_string(), 3);
        let err = Limits::new("004010", &o).unwrap_err().to_string();
        assert!(err.contains("x12.max_lengths.name"), "{err}");
    }

    #[test]
    fn wrapping_joins_back_or_says_it_cannot() {
        let text = "Safety gloves, nitrile, powder free, size L, box of one hundred";
        for max in [10, 20, 33, 80] {
            let pieces = wrap(text, max).unwrap();
            assert!(
                pieces.iter().all(|p| p.chars().count() <= max),
                "{pieces:?}"
            );
            assert_eq!(pieces.join(" "), text);
        }
        assert_eq!(wrap("short", 80), Some(vec!["short"]));
        assert_eq!(wrap("ééé ééé", 3), Some(vec!["ééé", "ééé"]));
        assert_eq!(
            wrap("abcdefghijk lm", 5),
            None,
            "a word longer than the limit"
        );
        assert_eq!(wrap("abc  def", 4), None, "a doubled space");
        assert_eq!(wrap("", 4), Some(vec![""]));
    }
}
