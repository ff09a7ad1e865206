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
}

impl std::fmt::Display for SectionProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.key, self.message)
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
    let keys = section_keys(text, kind, at, partner_id);
    let shown = match at {
        SectionAt::File => format!("[{}]", kind.key()),
        SectionAt::Partner(_) => format!("[partners.{}]", kind.key()),
    };
    let mut placed: Vec<(Option<usize>, &SectionProblem)> = problems
        .iter()
        .map(|p| {
            let offset = keys.as_ref().map(|k| {
                k.get_ref()
                    .get(p.key)
                    .map_or(k.span().start, |value| value.span().start)
            });
            (offset, p)
        })
        .collect();
    // In the order of the file, as a reader fixes them.
    placed.sort_by_key(|(offset, _)| offset.unwrap_or(usize::MAX));
    placed
        .into_iter()
        .map(|(offset, p)| match offset {
            Some(offset) => format!(
                "{}: partner {partner_id:?} {shown} {p}",
                line_and_column(text, offset)
            ),
            None => format!("partner {partner_id:?} {shown} {p}"),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Each key of a section and the place of its value, and the section's own place.
type SpannedKeys = toml::Spanned<std::collections::BTreeMap<String, toml::Spanned<IgnoredAny>>>;

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
