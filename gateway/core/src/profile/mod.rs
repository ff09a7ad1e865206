//! Partner profiles: every partner quirk as data (ids, delimiters, credentials, column maps,
//! preferred outbound channel), never as `if partner == ...` in code.
//!
//! Each format owns its own section in its own file (`x12.rs`, `cxml.rs`, `csv.rs`); the
//! adapter that reads a section is the one that documents it.

mod csv;
mod cxml;
mod email;
mod outbound;
mod x12;

pub use self::csv::{CsvColumn, CsvGrouping, CsvProfile};
pub use self::cxml::CxmlProfile;
pub use self::email::EmailProfile;
pub use self::outbound::OutboundChannel;
pub use self::x12::{X12Profile, X12ProfileProblem, X12Section, x12_problems_in_words};

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
    /// which delivery uses when an invoice names none; that they go on to Coupa, whose limits
    /// then apply). Every place that validates a
    /// partner's document uses it, so the pipeline, `gateway validate` and the 997 agree.
    pub fn validation_context(&self) -> gateway_model::ValidationContext {
        gateway_model::ValidationContext {
            supplier_from_partner: self.coupa_supplier.is_some(),
            // Every document a partner sends goes on to Coupa.
            to_coupa: !self.anonymous,
        }
    }

    /// Parses a profile from TOML text; `path` is only used in messages. An `[x12]` section
    /// that would make unreadable interchanges ([`X12Profile::problems`]) is refused here, each
    /// problem at its line, so `gateway convert --partner` never writes one.
    pub fn from_toml(text: &str, path: &str) -> Result<Self, ProfileError> {
        let profile: Self = toml::from_str(text).map_err(|e| ProfileError::Invalid {
            path: path.to_string(),
            message: crate::toml_error_in_words(&e, text),
        })?;
        if let Some(x12) = &profile.x12 {
            let problems = x12.problems();
            if !problems.is_empty() {
                return Err(ProfileError::Invalid {
                    path: path.to_string(),
                    message: x12_problems_in_words(&problems, text, X12Section::File, &profile.id),
                });
            }
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

    #[test]
    fn minimal_profile_parses() {
        let p = PartnerProfile::from_toml("id = \"acme\"\n", "p.toml").ok();
        assert_eq!(p.map(|p| p.id), Some("acme".to_string()));
    }
}
