//! Problems found in a section of a partner's profile when it is loaded (`[x12]`, `[csv]`),
//! placed at their line in the TOML text they came from, one way for every section: an
//! operator fixes them in the order of the file, so each says where it is and whose it is.

use serde::Deserialize;
use serde::de::IgnoredAny;

/// A value of a profile section that would make every document of the partner fail (an X12
/// delimiter its own reader refuses, a CSV date format that reads nothing back): the key at
/// fault and what is wrong with it and expected instead. Shown as `<key> <message>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SectionProblem {
    /// The key in the section (`component_separator`, `date_format`).
    pub key: &'static str,
    /// The value, what is wrong with it and what is expected.
    pub message: String,
    /// The entry of the key's array or table at fault (`columns[2]`, `max_lengths.ZZZ01`),
    /// placed at its own line: a column map on several lines has its problem on the line of
    /// the column, not of `columns = [`. `None` for the key's whole value.
    pub entry: Option<Entry>,
}

/// An entry of a key's value: the `n`th of an array (from 0) or a table's key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    Index(usize),
    Key(String),
}

impl SectionProblem {
    /// A problem with the value of `key` as a whole.
    pub fn new(key: &'static str, message: String) -> Self {
        SectionProblem {
            key,
            message,
            entry: None,
        }
    }

    /// A problem with one `entry` of `key`'s array or table.
    pub fn at_entry(key: &'static str, entry: Entry, message: String) -> Self {
        SectionProblem {
            key,
            message,
            entry: Some(entry),
        }
    }
}

impl std::fmt::Display for SectionProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.entry {
            None => write!(f, "{} {}", self.key, self.message),
            Some(Entry::Index(n)) => write!(f, "{}[{n}] {}", self.key, self.message),
            Some(Entry::Key(k)) => write!(f, "{}.{k} {}", self.key, self.message),
        }
    }
}

/// Which section of a profile the problems are of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SectionKind {
    X12,
    Csv,
}

impl SectionKind {
    fn key(self) -> &'static str {
        match self {
            SectionKind::X12 => "x12",
            SectionKind::Csv => "csv",
        }
    }
}

/// Where a profile section sits in a TOML text, for placing its problems.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SectionAt {
    /// A partner profile file: the top-level section (`[x12]`).
    File,
    /// The gateway's configuration: the section of its `n`th `[[partners]]` (from 0,
    /// `[partners.x12]`).
    Partner(usize),
}

/// `problems` of partner `partner_id`'s `kind` section, found `at` in `text`, in words: each
/// placed at its line (at the key's value, or at the section when a default is at fault), in
/// the order of the text and joined by `; `: `line 17, column 23: partner "acme" [x12]
/// component_separator '*' is also ...`. A problem is named without a place when `text` does
/// not hold the section (the configuration's `GATEWAY__` overrides made it).
pub fn problems_in_words(
    problems: &[SectionProblem],
    text: &str,
    kind: SectionKind,
    at: SectionAt,
    partner_id: &str,
) -> String {
    problems_in_words_set_by(problems, text, kind, at, partner_id, &|_| None)
}

/// [`problems_in_words`] for a section some of whose keys an environment variable set (the
/// configuration's `GATEWAY__` overrides): `set_by(key)` names the variable that set `key`, and
/// a problem of such a key names it instead of a line: the file's line there holds another
/// value (`line 63` said `">"` of a `component_separator` the environment set to `'*'`).
pub fn problems_in_words_set_by(
    problems: &[SectionProblem],
    text: &str,
    kind: SectionKind,
    at: SectionAt,
    partner_id: &str,
    set_by: &dyn Fn(&str) -> Option<String>,
) -> String {
    let keys = section_keys(text, kind, at, partner_id);
    let shown = match at {
        SectionAt::File => format!("[{}]", kind.key()),
        SectionAt::Partner(_) => format!("[partners.{}]", kind.key()),
    };
    let mut placed: Vec<(Place, &SectionProblem)> = problems
        .iter()
        .map(|p| {
            if let Some(name) = set_by(p.key) {
                return (Place::Variable(name), p);
            }
            let offset = keys.as_ref().map(|k| {
                k.get_ref().get(p.key).map_or(k.span().start, |value| {
                    value.get_ref().place(value, &p.entry)
                })
            });
            (offset.map_or(Place::Nowhere, Place::At), p)
        })
        .collect();
    // In the order of the file, as a reader fixes them; the environment's after.
    placed.sort_by_key(|(place, _)| match place {
        Place::At(offset) => (0, *offset),
        Place::Variable(_) => (1, 0),
        Place::Nowhere => (2, 0),
    });
    placed
        .into_iter()
        .map(|(place, p)| match place {
            Place::At(offset) => format!(
                "{}: partner {partner_id:?} {shown} {p}",
                line_and_column(text, offset)
            ),
            Place::Variable(name) => {
                format!("environment variable {name}: partner {partner_id:?} {shown} {p}")
            }
            Place::Nowhere => format!("partner {partner_id:?} {shown} {p}"),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Where a problem is shown.
enum Place {
    /// At this byte of the text.
    At(usize),
    /// At the environment variable that set the key.
    Variable(String),
    /// Nowhere: the text does not hold the section.
    Nowhere,
}

/// Each key of a section and the place of its value (and of its entries), and the section's
/// own place.
type SpannedKeys = toml::Spanned<std::collections::BTreeMap<String, toml::Spanned<Entries>>>;

/// The places of the entries of a key's value: of each element of an array, of each key's
/// value in a table; nothing for any other value.
#[derive(Debug, Default)]
struct Entries {
    items: Vec<std::ops::Range<usize>>,
    keys: std::collections::BTreeMap<String, std::ops::Range<usize>>,
}

impl Entries {
    /// The start of `entry` of `value` (this), else of the whole value.
    fn place(&self, value: &toml::Spanned<Entries>, entry: &Option<Entry>) -> usize {
        let found = match entry {
            Some(Entry::Index(n)) => self.items.get(*n),
            Some(Entry::Key(k)) => self.keys.get(k),
            None => None,
        };
        found.map_or(value.span().start, |r| r.start)
    }
}

impl<'de> Deserialize<'de> for Entries {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(EntriesVisitor)
    }
}

/// Reads [`Entries`] of any value: arrays and tables give their entries' places.
struct EntriesVisitor;

impl<'de> serde::de::Visitor<'de> for EntriesVisitor {
    type Value = Entries;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any TOML value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<Entries, E> {
        Ok(Entries::default())
    }
    fn visit_i64<E>(self, _: i64) -> Result<Entries, E> {
        Ok(Entries::default())
    }
    fn visit_u64<E>(self, _: u64) -> Result<Entries, E> {
        Ok(Entries::default())
    }
    fn visit_f64<E>(self, _: f64) -> Result<Entries, E> {
        Ok(Entries::default())
    }
    fn visit_str<E>(self, _: &str) -> Result<Entries, E> {
        Ok(Entries::default())
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Entries, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<toml::Spanned<IgnoredAny>>()? {
            items.push(item.span());
        }
        Ok(Entries {
            items,
            ..Entries::default()
        })
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Entries, A::Error> {
        let mut keys = std::collections::BTreeMap::new();
        while let Some(key) = map.next_key::<String>()? {
            // A date-time is read as a table of one private key: it has no entries.
            if key.starts_with("$__toml_private") {
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            let value = map.next_value::<toml::Spanned<IgnoredAny>>()?;
            keys.insert(key, value.span());
        }
        Ok(Entries {
            keys,
            ..Entries::default()
        })
    }
}

/// The part of a profile [`problems_in_words`] reads: its id and the keys of its sections.
#[derive(Deserialize)]
struct KeysOf {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    x12: Option<SpannedKeys>,
    #[serde(default)]
    csv: Option<SpannedKeys>,
}

/// The part of a configuration [`problems_in_words`] reads.
#[derive(Deserialize)]
struct PartnersOf {
    #[serde(default)]
    partners: Vec<KeysOf>,
}

/// The keys of the `kind` section in `text`, when it is there and belongs to `partner_id`.
fn section_keys(
    text: &str,
    kind: SectionKind,
    at: SectionAt,
    partner_id: &str,
) -> Option<SpannedKeys> {
    let profile = match at {
        SectionAt::File => toml::from_str::<KeysOf>(text).ok()?,
        SectionAt::Partner(n) => toml::from_str::<PartnersOf>(text)
            .ok()?
            .partners
            .into_iter()
            .nth(n)?,
    };
    // An override may have replaced the partners the text names: place nothing then.
    if at != SectionAt::File && profile.id.as_deref() != Some(partner_id) {
        return None;
    }
    match kind {
        SectionKind::X12 => profile.x12,
        SectionKind::Csv => profile.csv,
    }
}

/// `line L, column C` of byte `offset` in `text`, as TOML errors are placed
/// ([`crate::toml_error_in_words`]).
fn line_and_column(text: &str, offset: usize) -> String {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    format!("line {line}, column {column}")
}
