//! Partner profiles: every partner quirk as data (ids, delimiters, credentials, column maps,
//! preferred outbound channel), never as `if partner == ...` in code.
//!
//! Each format owns its own section in its own file (`x12.rs`, `cxml.rs`, `csv.rs`); the
//! adapter that reads a section is the one that documents it.

mod csv;
mod cxml;
mod email;
mod outbound;
mod section_problems;
mod x12;

pub use self::csv::{CsvColumn, CsvGrouping, CsvProfile, column_number};
pub use self::cxml::CxmlProfile;
pub use self::email::EmailProfile;
pub use self::outbound::OutboundChannel;
pub use self::section_problems::{
    Entry, SectionAt, SectionKind, SectionProblem, problems_in_words, problems_in_words_set_by,
};
pub use self::x12::X12Profile;

use serde::Deserialize;

/// Why a partner profile could not be loaded. Not retryable: fix the file.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// The file could not be read. (The I/O error is in the message, not a `source`, so a
    /// `{:#}` chain does not print it twice.)
    #[error("cannot read partner profile {path}: {cause}")]
    Io { path: String, cause: std::io::Error },
    #[error("partner profile {path} is not valid: {message}")]
    Invalid { path: String, message: String },
}

/// One trading partner.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartnerProfile {
    /// Short stable id, used in routing keys, folder names and metrics (`acme`).
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    /// The partner's supplier record in Coupa (id, number or name), for invoices it sends.
    #[serde(default)]
    pub coupa_supplier: Option<CoupaSupplierRef>,
    #[serde(default)]
    pub x12: Option<X12Profile>,
    #[serde(default)]
    pub cxml: Option<CxmlProfile>,
    #[serde(default)]
    pub csv: Option<CsvProfile>,
    /// Who may send documents by e-mail for this partner; see [`EmailProfile`].
    #[serde(default)]
    pub email: Option<EmailProfile>,
    /// Bearer token the partner uses on the REST API (`Authorization: Bearer ...`).
    #[serde(default)]
    pub api_token: Option<crate::secret::Secret>,
    /// Where purchase orders for this partner go, and in which format.
    #[serde(default)]
    pub outbound: Option<OutboundChannel>,
    /// No partner is known ([`PartnerProfile::anonymous`]: `gateway convert` and `validate`
    /// without `--partner`): nothing is known of where its documents go, so they are not
    /// held to Coupa's limits. Never read from a profile file.
    #[serde(skip)]
    pub anonymous: bool,
}

/// How the partner is known in Coupa.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CoupaSupplierRef {
    #[serde(default)]
    pub id: Option<u64>,
    #[serde(default)]
    pub number: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
}

impl PartnerProfile {
    /// The profile used when none is given: no ids, default delimiters and layouts.
    pub fn anonymous() -> Self {
        PartnerProfile {
            id: "default".into(),
            anonymous: true,
            ..Default::default()
        }
    }

    /// What this profile tells the validation of the partner's documents (its Coupa supplier,
    /// which delivery uses when an invoice names none and which an invoice may not contradict;
    /// that they go on to Coupa, whose limits then apply). Every place that validates a
    /// partner's document uses it, so the pipeline, `gateway validate` and the 997 agree.
    pub fn validation_context(&self) -> gateway_model::ValidationContext<'_> {
        gateway_model::ValidationContext {
            supplier_from_partner: self.coupa_supplier.is_some(),
            // Every document a partner sends goes on to Coupa.
            to_coupa: !self.anonymous,
            // Delivery books the partner's invoices to this supplier: one naming another is
            // refused at intake rather than booked to it.
            partner_supplier: self.coupa_supplier.as_ref().map(|s| {
                gateway_model::PartnerSupplier {
                    partner: &self.id,
                    id: s.id,
                    number: s.number.as_deref(),
                    name: s.name.as_deref(),
                }
            }),
        }
    }

    /// Parses a profile from TOML text; `path` is only used in messages. An `[x12]` section
    /// that would make unreadable interchanges ([`X12Profile::problems`]) or a `[csv]` section
    /// that would fail every file ([`CsvProfile::problems`]) is refused here, each problem at
    /// its line, so `gateway convert --partner` never writes one. A whole gateway
    /// configuration given as a profile is told apart ([`whole_configuration`]).
    pub fn from_toml(text: &str, path: &str) -> Result<Self, ProfileError> {
        let profile: Self = toml::from_str(text).map_err(|e| ProfileError::Invalid {
            path: path.to_string(),
            message: whole_configuration(text)
                .unwrap_or_else(|| crate::toml_error_in_words(&e, text)),
        })?;
        let mut found = Vec::new();
        if let Some(x12) = &profile.x12 {
            let problems = x12.problems();
            if !problems.is_empty() {
                found.push(problems_in_words(
                    &problems,
                    text,
                    SectionKind::X12,
                    SectionAt::File,
                    &profile.id,
                ));
            }
        }
        if let Some(csv) = &profile.csv {
            let problems = csv.problems();
            if !problems.is_empty() {
                found.push(problems_in_words(
                    &problems,
                    text,
                    SectionKind::Csv,
                    SectionAt::File,
                    &profile.id,
                ));
            }
        }
        if !found.is_empty() {
            return Err(ProfileError::Invalid {
                path: path.to_string(),
                message: found.join("; "),
            });
        }
        Ok(profile)
    }

    /// Reads a profile from a TOML file.
    pub fn load(path: &std::path::Path) -> Result<Self, ProfileError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|cause| ProfileError::Io {
            path: shown.clone(),
            cause,
        })?;
        Self::from_toml(&text, &shown)
    }
}

/// What to say of `text` given as a partner profile when it is a whole gateway configuration
/// (it has `[[partners]]`, or the service's own sections such as `[http]` or `[coupa]`):
/// read as a profile it was refused with "unknown field `http`", which did not say what a
/// profile is. `None` when it does not look like one.
fn whole_configuration(text: &str) -> Option<String> {
    const SERVICE_SECTIONS: [&str; 9] = [
        "http",
        "bus",
        "ledger",
        "attachments",
        "coupa",
        "file_drop",
        "po_poller",
        "mailbox",
        "retention",
    ];
    let table: toml::Table = toml::from_str(text).ok()?;
    let partners: Vec<&str> = match table.get("partners") {
        Some(toml::Value::Array(items)) => items
            .iter()
            .filter_map(|p| p.get("id").and_then(toml::Value::as_str))
            .collect(),
        _ => Vec::new(),
    };
    if partners.is_empty()
        && !table.contains_key("partners")
        && !SERVICE_SECTIONS.iter().any(|s| table.contains_key(*s))
    {
        return None;
    }
    let take = match partners.as_slice() {
        [] => "it names no partner".to_string(),
        [one] => format!(
            "to use partner {one:?}, copy its [[partners]] table into a file of its own, \
             without the `partners.` prefix"
        ),
        many => format!(
            "to use one of its partners ({}), copy that partner's [[partners]] table into a file \
             of its own, without the `partners.` prefix",
            many.iter()
                .take(10)
                .map(|p| format!("{p:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    Some(format!(
        "this is a whole gateway configuration (it has [[partners]] or the service's sections \
         such as [http] and [coupa]), not a partner profile. A profile is one partner's table \
         without the `partners.` prefix: `id = \"acme\"` and its keys at the top, then [x12], \
         [cxml], [csv], [email], [coupa_supplier] or [outbound] where the configuration has \
         [partners.x12], [partners.cxml], ... (see samples/*/*/*.partner.toml); {take}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_are_refused_with_the_key_named() {
        let err = PartnerProfile::from_toml("id = \"acme\"\nnmae = \"x\"\n", "p.toml")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("nmae"), "{err}");
    }

    /// A whole configuration given as `--partner` says what a profile is and which partners
    /// it could be taken from: it said "unknown field `http`".
    #[test]
    fn a_whole_configuration_is_told_apart_from_a_profile() {
        let config = "[http]\nlisten = \"127.0.0.1:8080\"\n[coupa]\nbase_url = \"x\"\n\
                      [[partners]]\nid = \"acme\"\n[[partners]]\nid = \"frsup\"\n\
                      [partners.csv]\ndelimiter = \";\"\n";
        let err = PartnerProfile::from_toml(config, "gateway.toml")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.contains("gateway.toml is not valid: this is a whole gateway configuration")
                && err.contains("without the `partners.` prefix")
                && err.contains("samples/*/*/*.partner.toml")
                && err.contains("(\"acme\", \"frsup\")"),
            "{err}"
        );
        let one = PartnerProfile::from_toml("[[partners]]\nid = \"acme\"\n", "g.toml")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(one.contains("to use partner \"acme\", copy"), "{one}");
        // A profile with a typo is still refused for its typo.
        let typo = PartnerProfile::from_toml("id = \"acme\"\n[csvv]\n", "p.toml")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(typo.contains("csvv") && !typo.contains("whole"), "{typo}");
    }

    /// A `[csv]` section that would fail every file is refused at its line, naming the
    /// partner, as an `[x12]` one is.
    #[test]
    fn a_csv_section_that_fails_every_file_is_refused_at_its_line() {
        let err = PartnerProfile::from_toml(
            "id = \"frsup\"\n[csv]\ndelimiter = \";\"\ndecimal_separator = \";\"\n",
            "frsup.toml",
        )
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(
            err.starts_with(
                "partner profile frsup.toml is not valid: line 4, column 21: partner \"frsup\" [csv] decimal_separator ';'"
            ),
            "{err}"
        );
    }

    #[test]
    fn minimal_profile_parses() {
        let p = PartnerProfile::from_toml("id = \"acme\"\n", "p.toml").ok();
        assert_eq!(p.map(|p| p.id), Some("acme".to_string()));
    }
}
