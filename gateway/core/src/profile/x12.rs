//! The X12 section of a partner profile (owned by `adapter-x12`).

use serde::Deserialize;

use super::section_problems::{Entry, SectionProblem};

/// The element length table the X12 writer reads (`adapter-x12`'s `lengths.rs` includes the
/// same file): its first column names the elements a `max_lengths` key may name.
const ELEMENT_LENGTHS: &str = include_str!("../../../../schemas/x12/element-lengths.csv");

/// Elements the writer limits that the table does not hold: MSG01, whose 264 characters
/// the writer knows itself and a profile may lower (`adapter-x12`'s `line_loop.rs`).
const ELEMENTS_OUTSIDE_TABLE: [&str; 1] = ["MSG01"];

/// Punctuation offered for a delimiter at fault, the X12 defaults first.
const DELIMITER_CHOICES: [char; 7] = ['*', '>', '~', '^', '|', ':', '!'];

/// Interchange and group identities and the delimiters this partner uses.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct X12Profile {
    /// Partner's ISA05/ISA06 (qualifier and id) and GS02.
    #[serde(default)]
    pub partner_qualifier: Option<String>,
    #[serde(default)]
    pub partner_id: Option<String>,
    #[serde(default)]
    pub partner_gs_id: Option<String>,
    /// Our ISA07/ISA08 and GS03 when sending to this partner.
    #[serde(default)]
    pub our_qualifier: Option<String>,
    #[serde(default)]
    pub our_id: Option<String>,
    #[serde(default)]
    pub our_gs_id: Option<String>,
    /// GS08 version, e.g. `004010` or `005010`: six digits (version, release, subrelease)
    /// and at most six letters or digits naming an implementation guide (`005010X222A1`).
    /// ISA12 is its first five digits.
    #[serde(default)]
    pub version: Option<String>,
    /// The delimiters (defaults `*`, `~`, `>`, and `^` from ISA12 `00402` on): one ASCII
    /// character each, not a letter, digit or space, all different, a line break only as the
    /// segment terminator ([`X12Profile::problems`]).
    #[serde(default)]
    pub element_separator: Option<char>,
    #[serde(default)]
    pub segment_terminator: Option<char>,
    #[serde(default)]
    pub component_separator: Option<char>,
    /// ISA11; ignored for a version before `00402`, where ISA11 is `U`.
    #[serde(default)]
    pub repetition_separator: Option<char>,
    /// ISA15: `P` production, `T` test or `I` information.
    #[serde(default)]
    pub usage_indicator: Option<char>,
    /// Write a line break after each segment terminator (default true; ignored when the
    /// terminator is itself a newline). Some partners' translators want one unbroken line.
    #[serde(default)]
    pub line_break_after_segment: Option<bool>,
    /// ISA14: ask the partner for a TA1 on interchanges we send (default false).
    #[serde(default)]
    pub request_ta1: Option<bool>,
    /// Element length limits from the partner's implementation guide, where they differ from
    /// the X12 dictionary (`schemas/x12/element-lengths.csv`): `{ N102 = 35, PID05 = 40 }`.
    /// Outbound values longer than the limit are refused with their path, except descriptions,
    /// which continue in further PID segments.
    #[serde(default)]
    pub max_lengths: Option<std::collections::BTreeMap<String, usize>>,
    /// Hours the partner has, by agreement, to answer what we send with a 997/999 (default
    /// [`X12Profile::DEFAULT_ACK_WITHIN_HOURS`]; 0 for a partner that sends none). A document
    /// left unanswered longer may never have reached the partner's translator: the service
    /// counts it in `gateway_x12_acknowledgments_overdue` and logs a warning.
    #[serde(default)]
    pub ack_within_hours: Option<u32>,
    /// The character set the partner's translator writes and reads: `"utf-8"` (default) or
    /// `"windows-1252"` (older systems; ISO-8859-1 readers take it too). What we send is
    /// written in it, and a value with a character it lacks is refused with its path rather
    /// than sent changed. Under the default, what it sends is read as UTF-8 and bytes that are
    /// not UTF-8 as Windows-1252, the document's notes saying where; under `"windows-1252"`
    /// every byte is read as Windows-1252, even a pair that would also be UTF-8 (`Ö€`).
    #[serde(default)]
    pub charset: Option<gateway_model::charset::Charset>,
}

impl X12Profile {
    /// The usual trading-partner agreement: a functional acknowledgment within a day.
    pub const DEFAULT_ACK_WITHIN_HOURS: u32 = 24;
    /// The delimiters, version and usage indicator `adapter-x12` writes when the profile names
    /// none (its `encode::outbound_identities`): [`X12Profile::problems`] checks the
    /// delimiters an interchange will have, so a set one that clashes with a default is found.
    pub const DEFAULT_ELEMENT_SEPARATOR: char = '*';
    pub const DEFAULT_COMPONENT_SEPARATOR: char = '>';
    pub const DEFAULT_SEGMENT_TERMINATOR: char = '~';
    /// ISA11, written only from ISA12 `00402` on (before, ISA11 is `U` and no separator).
    pub const DEFAULT_REPETITION_SEPARATOR: char = '^';
    pub const DEFAULT_VERSION: &'static str = "004010";

    /// Every value of this section that would go into the interchanges written for the partner
    /// and make them unreadable, to the gateway's own reader or to the partner's translator:
    /// delimiters that are data (a letter, digit or space), not one byte, or the same as
    /// another (defaults included; the repetition separator from ISA12 `00402` on), a line
    /// break anywhere but as the segment terminator, an ISA15 other than `P`, `T` or `I`, a
    /// GS08 that is not a version code, ids and qualifiers wider than their ISA/GS elements or
    /// holding a delimiter, `max_lengths` entries that name no element the writer limits (or in
    /// lower case) or allow 0 characters. Empty when the section is sound.
    ///
    /// Checked when a profile is loaded (the configuration's partners and `--partner` files),
    /// because the writer would otherwise find out only at the first purchase order, after
    /// Coupa had it marked as sent: a PO written with `component_separator` equal to
    /// `element_separator` reached the partner's folder as an 850 no reader could parse.
    pub fn problems(&self) -> Vec<SectionProblem> {
        let mut found = Vec::new();
        let mut problem = |key: &'static str, message: String| {
            found.push(SectionProblem::new(key, message));
        };
        let version = self.version.as_deref().unwrap_or(Self::DEFAULT_VERSION);
        if let Some(v) = &self.version
            && !is_version_code(v)
        {
            problem(
                "version",
                format!(
                    "{v:?} is not a GS08 version code: six digits (version, release, \
                     subrelease) and at most six letters or digits naming an implementation \
                     guide, such as \"004010\", \"005010\" or \"005010X222A1\""
                ),
            );
        }
        if let Some(u) = self.usage_indicator
            && !matches!(u, 'P' | 'T' | 'I')
        {
            problem(
                "usage_indicator",
                format!(
                    "{u:?} is not an ISA15 usage indicator: use 'P' (production), 'T' (test) \
                     or 'I' (information)"
                ),
            );
        }
        let delimiters = self.delimiters(version);
        for d in &delimiters {
            let Some(c) = d.set else { continue };
            let why = if !c.is_ascii() {
                "is not an ASCII character, and an X12 delimiter is one byte"
            } else if c.is_ascii_alphanumeric() || c == ' ' {
                "is a letter, digit or space, which X12 data holds (the interchange header's \
                 own values among them), and a delimiter may never occur in data"
            } else if matches!(c, '\r' | '\n') && d.key != "segment_terminator" {
                "is a line break, which only the segment terminator may be (a line break \
                 follows each segment)"
            } else {
                continue;
            };
            problem(
                d.key,
                format!(
                    "{c:?} {why}: use a punctuation character the other delimiters are not, \
                     such as {}",
                    free_delimiters(&delimiters, d.key)
                ),
            );
        }
        for (i, a) in delimiters.iter().enumerate() {
            for b in &delimiters[i + 1..] {
                if a.value != b.value {
                    continue;
                }
                // Blame the one the profile sets (the later one when both are set).
                let (blamed, other) = if b.set.is_some() { (b, a) } else { (a, b) };
                let all = if delimiters.len() == 4 {
                    "the element separator, component separator, segment terminator and \
                     repetition separator (ISA11 from ISA12 00402 on)"
                } else {
                    "the element separator, component separator and segment terminator"
                };
                problem(
                    blamed.key,
                    format!(
                        "{:?} is also the {}{}: {all} must all differ, or no reader can tell \
                         them apart; use one the others are not, such as {}",
                        blamed.value,
                        other.key,
                        if other.set.is_some() {
                            ""
                        } else {
                            " (its default, as the profile does not set it)"
                        },
                        free_delimiters(&delimiters, blamed.key)
                    ),
                );
            }
        }
        // The delimiters a value written in the header must not hold (those that are data are
        // reported above already).
        let punctuation: Vec<char> = delimiters
            .iter()
            .map(|d| d.value)
            .filter(|c| c.is_ascii() && !c.is_ascii_alphanumeric() && *c != ' ')
            .collect();
        let qualifiers = [
            (
                "partner_qualifier",
                &self.partner_qualifier,
                "ISA05 (ISA07 on what we send)",
            ),
            (
                "our_qualifier",
                &self.our_qualifier,
                "ISA07 (ISA05 on what we send)",
            ),
        ];
        for (key, value, element) in qualifiers {
            if let Some(q) = value
                && !(q.len() == 2 && q.bytes().all(|b| b.is_ascii_alphanumeric()))
            {
                problem(
                    key,
                    format!(
                        "{q:?} is not an {element} id qualifier: two letters or digits, such as \
                         \"ZZ\", \"01\" or \"12\""
                    ),
                );
            }
        }
        let ids = [
            (
                "partner_id",
                &self.partner_id,
                "ISA06 (ISA08 on what we send)",
            ),
            ("our_id", &self.our_id, "ISA08 (ISA06 on what we send)"),
            (
                "partner_gs_id",
                &self.partner_gs_id,
                "GS02 (GS03 on what we send)",
            ),
            ("our_gs_id", &self.our_gs_id, "GS03 (GS02 on what we send)"),
        ];
        for (key, value, element) in ids {
            let Some(id) = value else { continue };
            let why = if id.trim().is_empty() {
                "is blank".to_string()
            } else if !id.bytes().all(|b| (0x20..0x7f).contains(&b)) {
                "holds a character that is not printable ASCII, which the fixed-width \
                 interchange header cannot hold"
                    .to_string()
            } else if id.len() > 15 {
                format!("is {} characters long", id.len())
            } else if let Some(c) = id.chars().find(|c| punctuation.contains(c)) {
                format!("holds the delimiter {c:?}")
            } else {
                continue;
            };
            problem(
                key,
                format!(
                    "{id:?} {why}: {element} holds 1 to 15 printable ASCII characters, none of \
                     them a delimiter"
                ),
            );
        }
        found.extend(self.max_length_problems());
        found
    }

    /// `max_lengths` entries the writer would take without a word and not apply as meant: a
    /// key in the writer's form that names no element it limits (`ZZZ01`, a typo: the
    /// partner's limit is then not kept, and its translator rejects the set), and a zero (no
    /// value fits, and the writer reads 0 as "no limit"). Each at its entry. A key not in the
    /// writer's form (`n102`) is [`X12Profile::max_length_key_problems`].
    fn max_length_problems(&self) -> Vec<SectionProblem> {
        self.max_length_entries(false)
    }

    /// `max_lengths` keys not in the form the writer reads (`n102`, `name`): the writer
    /// refuses them itself, but only when it writes the partner's first PO, after Coupa had it
    /// marked as sent; the service refuses them when it starts (its configuration's check).
    /// Not part of [`X12Profile::problems`], which every profile file is held to, so a profile
    /// showing the writer's own refusal stays loadable. A lower-case key is named with the
    /// upper-case one to write (the writer does not read keys case-insensitively).
    pub fn max_length_key_problems(&self) -> Vec<SectionProblem> {
        self.max_length_entries(true)
    }

    /// The problems of `max_lengths` entries whose key is in the writer's form, or (`malformed`)
    /// of those whose key is not.
    fn max_length_entries(&self, malformed: bool) -> Vec<SectionProblem> {
        let Some(limits) = &self.max_lengths else {
            return Vec::new();
        };
        let mut found = Vec::new();
        for (key, max) in limits {
            if in_writers_form(key) == malformed {
                continue;
            }
            let entry = || Entry::Key(key.clone());
            if !is_limited_element(key) {
                let upper = key.to_ascii_uppercase();
                let message = if is_limited_element(&upper) {
                    format!(
                        "is not an element id as the writer reads them (upper case): write \
                         {upper} = {max}"
                    )
                } else {
                    format!(
                        "names no element the X12 writer limits: write the segment id and the \
                         two-digit position in upper case, one of {}",
                        limited_elements().join(", ")
                    )
                };
                found.push(SectionProblem::at_entry("max_lengths", entry(), message));
            } else if *max == 0 {
                found.push(SectionProblem::at_entry(
                    "max_lengths",
                    entry(),
                    "= 0 allows no value at all: give the partner's maximum length, at least 1"
                        .into(),
                ));
            }
        }
        found
    }

    /// The delimiters an interchange written with this profile has, each with its key and the
    /// value the profile sets; the repetition separator only from ISA12 `00402` on.
    fn delimiters(&self, version: &str) -> Vec<Delimiter> {
        let one = |key, set: Option<char>, default| Delimiter {
            key,
            set,
            value: set.unwrap_or(default),
        };
        let mut all = vec![
            one(
                "element_separator",
                self.element_separator,
                Self::DEFAULT_ELEMENT_SEPARATOR,
            ),
            one(
                "component_separator",
                self.component_separator,
                Self::DEFAULT_COMPONENT_SEPARATOR,
            ),
            one(
                "segment_terminator",
                self.segment_terminator,
                Self::DEFAULT_SEGMENT_TERMINATOR,
            ),
        ];
        if isa12(version).as_str() >= "00402" {
            all.push(one(
                "repetition_separator",
                self.repetition_separator,
                Self::DEFAULT_REPETITION_SEPARATOR,
            ));
        }
        all
    }
}

/// Up to four of [`DELIMITER_CHOICES`] that none of `delimiters` but the one of `key` is: a
/// suggestion that repeats a delimiter the profile uses clashes in turn.
fn free_delimiters(delimiters: &[Delimiter], key: &str) -> String {
    let free: Vec<String> = DELIMITER_CHOICES
        .iter()
        .filter(|c| !delimiters.iter().any(|d| d.key != key && d.value == **c))
        .take(4)
        .map(|c| format!("{c:?}"))
        .collect();
    match free.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    }
}

/// The element ids the X12 writer has a length for (the table's, and MSG01).
fn limited_elements() -> Vec<&'static str> {
    ELEMENT_LENGTHS
        .lines()
        .filter(|l| !l.starts_with('#'))
        .skip(1)
        .filter_map(|l| l.split(',').next())
        .map(str::trim)
        .filter(|id| !id.is_empty())
        .chain(ELEMENTS_OUTSIDE_TABLE)
        .collect()
}

/// Whether `key` has the form the writer reads a `max_lengths` key in (`adapter-x12`'s
/// `lengths.rs` `split_key`, which refuses any other): a segment id of two or three upper-case
/// letters or digits, then a two-digit position above 0 (`N102`).
fn in_writers_form(key: &str) -> bool {
    let Some(cut) = key.len().checked_sub(2) else {
        return false;
    };
    let (Some(segment), Some(position)) = (key.get(..cut), key.get(cut..)) else {
        return false;
    };
    (2..=3).contains(&segment.len())
        && segment
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        && position.parse::<usize>().is_ok_and(|p| p > 0)
}

/// Whether `key` is an element id the writer limits, exactly as it names them.
fn is_limited_element(key: &str) -> bool {
    limited_elements().contains(&key)
}

/// One delimiter of an interchange, for [`X12Profile::problems`].
struct Delimiter {
    key: &'static str,
    /// What the profile sets, if it does.
    set: Option<char>,
    /// What the interchange will hold.
    value: char,
}

/// ISA12 for a GS08 version as `adapter-x12` derives it (`004010` → `00401`; anything not
/// starting with five digits → `00401`), which decides whether ISA11 is a separator.
fn isa12(version: &str) -> String {
    let v: String = version.chars().take(5).collect();
    if v.len() == 5 && v.bytes().all(|b| b.is_ascii_digit()) {
        v
    } else {
        "00401".into()
    }
}

/// A GS08 version code: `VVVRRR` digits (version, release, subrelease), then at most six
/// letters or digits of an industry or implementation guide identifier (`X222A1`, `VICS`).
fn is_version_code(v: &str) -> bool {
    let (Some(digits), Some(guide)) = (v.get(..6), v.get(6..)) else {
        return false;
    };
    digits.bytes().all(|b| b.is_ascii_digit())
        && guide.len() <= 6
        && guide.bytes().all(|b| b.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::section_problems::{SectionAt, SectionKind, problems_in_words};

    fn section(text: &str) -> X12Profile {
        toml::from_str(text).unwrap_or_else(|e| panic!("{e}"))
    }

    fn keys(text: &str) -> Vec<&'static str> {
        section(text).problems().iter().map(|p| p.key).collect()
    }

    #[test]
    fn a_sound_section_and_an_empty_one_have_no_problems() {
        assert!(X12Profile::default().problems().is_empty());
        let sound = "partner_qualifier = \"01\"\npartner_id = \"123456789\"\n\
                     partner_gs_id = \"NEWCOGS\"\nour_qualifier = \"ZZ\"\nour_id = \"GLOBEX\"\n\
                     our_gs_id = \"GLOBEXGS\"\nversion = \"005010X222A1\"\n\
                     element_separator = \"*\"\nsegment_terminator = \"~\"\n\
                     component_separator = \":\"\nrepetition_separator = \"^\"\n\
                     usage_indicator = \"I\"\n";
        assert_eq!(keys(sound), Vec::<&str>::new());
        // A newline terminator and control-character delimiters are X12's own.
        assert_eq!(
            keys("segment_terminator = \"\\n\"\nelement_separator = \"\\u001d\"\n"),
            Vec::<&str>::new()
        );
    }

    /// The delimiters an interchange will hold must differ, defaults included; the
    /// repetition separator counts only from ISA12 00402 on, where the writer puts it in ISA11.
    #[test]
    fn clashing_delimiters_are_found_with_the_one_the_profile_sets() {
        assert_eq!(
            keys("component_separator = \"*\"\n"),
            ["component_separator"]
        );
        let p = section("element_separator = \">\"\n").problems();
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].key, "element_separator");
        assert!(
            p[0].message.contains("component_separator (its default"),
            "{}",
            p[0]
        );
        assert_eq!(
            keys("element_separator = \"*\"\nsegment_terminator = \"*\"\n"),
            ["segment_terminator"]
        );
        assert_eq!(
            keys("version = \"005010\"\nrepetition_separator = \"~\"\n"),
            ["repetition_separator"]
        );
        assert_eq!(
            keys("version = \"005010\"\ncomponent_separator = \"^\"\n"),
            ["component_separator"]
        );
        // Before 00402 ISA11 is `U`, not a separator: nothing to clash with.
        assert_eq!(
            keys("version = \"004010\"\ncomponent_separator = \"^\"\n"),
            Vec::<&str>::new()
        );
    }

    #[test]
    fn data_characters_and_misplaced_line_breaks_are_not_delimiters() {
        assert_eq!(
            keys("component_separator = \"A\"\n"),
            ["component_separator"]
        );
        assert_eq!(keys("segment_terminator = \" \"\n"), ["segment_terminator"]);
        assert_eq!(keys("element_separator = \"7\"\n"), ["element_separator"]);
        assert_eq!(keys("element_separator = \"é\"\n"), ["element_separator"]);
        assert_eq!(keys("element_separator = \"\\n\"\n"), ["element_separator"]);
        assert_eq!(
            keys("version = \"005010\"\nrepetition_separator = \"U\"\n"),
            ["repetition_separator"]
        );
    }

    #[test]
    fn usage_version_and_identities_are_held_to_their_elements() {
        for ok in ["P", "T", "I"] {
            assert!(keys(&format!("usage_indicator = \"{ok}\"\n")).is_empty());
        }
        assert_eq!(keys("usage_indicator = \"X\"\n"), ["usage_indicator"]);
        for bad in [
            "4010",
            "00401",
            "004010X222A1B",
            "0040l0",
            "",
            "004010-X",
            "00401é",
        ] {
            assert_eq!(
                keys(&format!("version = \"{bad}\"\n")),
                ["version"],
                "{bad}"
            );
        }
        for ok in ["004010", "005010", "005010X222A1", "004010VICS", "003060"] {
            assert!(keys(&format!("version = \"{ok}\"\n")).is_empty(), "{ok}");
        }
        assert_eq!(keys("partner_qualifier = \"ZZZ\"\n"), ["partner_qualifier"]);
        assert_eq!(keys("our_qualifier = \"Z\"\n"), ["our_qualifier"]);
        assert_eq!(keys("partner_id = \"1234567890123456\"\n"), ["partner_id"]);
        assert!(keys("partner_id = \"123456789012345\"\n").is_empty());
        assert_eq!(keys("our_id = \"   \"\n"), ["our_id"]);
        assert_eq!(keys("our_id = \"MÜLLER\"\n"), ["our_id"]);
        assert_eq!(keys("partner_gs_id = \"ACME*GS\"\n"), ["partner_gs_id"]);
        assert_eq!(
            keys("our_gs_id = \"GLOBEX-GS-0000001\"\n"),
            ["our_gs_id"],
            "16 characters"
        );
    }

    /// Each problem is placed at its key's value, or at the section when a default is at
    /// fault, and names the partner.
    #[test]
    fn problems_are_placed_at_their_line() {
        let file = "id = \"newco\"\n\n[x12]\nour_id = \"GLOBEX\"\nusage_indicator = \"X\"\nelement_separator = \">\"\n";
        let x =
            section("our_id = \"GLOBEX\"\nusage_indicator = \"X\"\nelement_separator = \">\"\n");
        let words = problems_in_words(
            &x.problems(),
            file,
            SectionKind::X12,
            SectionAt::File,
            "newco",
        );
        assert!(
            words.starts_with(
                "line 5, column 19: partner \"newco\" [x12] usage_indicator 'X' is not"
            ),
            "{words}"
        );
        assert!(
            words.contains("; line 6, column 21: partner \"newco\" [x12] element_separator '>'"),
            "{words}"
        );
        let config = "[[partners]]\nid = \"a\"\n[[partners]]\nid = \"newco\"\n\n[partners.x12]\ncomponent_separator = \"*\"\n";
        let clash = section("component_separator = \"*\"\n").problems();
        let words = problems_in_words(
            &clash,
            config,
            SectionKind::X12,
            SectionAt::Partner(1),
            "newco",
        );
        assert!(
            words.starts_with(
                "line 7, column 23: partner \"newco\" [partners.x12] component_separator '*' is also the element_separator"
            ),
            "{words}"
        );
        // Another partner at that place (an override replaced them): no place.
        let words = problems_in_words(
            &clash,
            config,
            SectionKind::X12,
            SectionAt::Partner(0),
            "newco",
        );
        assert!(words.starts_with("partner \"newco\""), "{words}");
    }

    /// `max_lengths` keys the writer would not apply as meant are refused at their entry:
    /// lower case (with the upper-case key to write), an element it does not limit, a zero.
    #[test]
    fn max_lengths_that_the_writer_would_not_keep_are_refused() {
        let file = "id = \"m\"\n[x12]\npartner_id = \"EDICO\"\nmax_lengths = { N102 = 35, n102 = 10, ZZZ01 = 5 }\n";
        let x = section(file.split_once("[x12]\n").unwrap().1);
        let mut problems = x.problems();
        // The lower-case key is the service's to refuse (the writer refuses it too, late).
        assert_eq!(problems.len(), 1, "{problems:?}");
        problems.extend(x.max_length_key_problems());
        let words = problems_in_words(&problems, file, SectionKind::X12, SectionAt::File, "m");
        assert!(
            words.contains(
                "line 4, column 47: partner \"m\" [x12] max_lengths.ZZZ01 names no element the X12 writer limits"
            ) && words.contains(
                "line 4, column 35: partner \"m\" [x12] max_lengths.n102 is not an element id as the writer reads them (upper case): write N102 = 10"
            ) && !words.contains("max_lengths.N102"),
            "{words}"
        );
        assert_eq!(keys("max_lengths = { N102 = 0 }\n"), ["max_lengths"]);
        assert!(keys("max_lengths = { N102 = 35, PID05 = 40, MSG01 = 80 }\n").is_empty());
    }

    /// The suggested delimiters are none the profile uses: `repetition_separator = "U"` was
    /// told to use '*', '>' or '~', the other three.
    #[test]
    fn delimiter_suggestions_leave_out_those_in_use() {
        let p = section("version = \"005010\"\nrepetition_separator = \"U\"\n").problems();
        let words = p[0].to_string();
        assert!(words.ends_with("such as '^', '|', ':' or '!'"), "{words}");
        let p = section("component_separator = \"*\"\n").problems();
        let words = p[0].to_string();
        assert!(words.ends_with("such as '>', '^', '|' or ':'"), "{words}");
    }
}
