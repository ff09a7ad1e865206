//! The credential each HTTP endpoint takes a partner's documents by, and the rule that a
//! partner whose profile has none is refused there, never let through unchecked.
//!
//! - `POST /cxml`: the `[partners.cxml] shared_secret` (checked by `adapter_cxml::authenticate`).
//! - `POST /x12`: the partner's `api_token`, as `Authorization: Bearer <api_token>` of the
//!   partner the interchanges' ISA senders name ([`check_x12_token`]).
//! - `POST /api/v1/documents`: the `api_token` (a partner without one is named by no token).
//!
//! The ids a partner is found by (cXML From, ISA05:ISA06) are printed on every document it
//! sends, so they prove nothing: a partner without a secret took cXML with any SharedSecret or
//! none, and `/x12` took any interchange naming a known sender, and both went on to Coupa. The
//! file drop (the partner's SFTP account) and the mailbox (its senders' allow-list) are
//! authenticated by their own means and are not affected. At start, [`warn_at_start`] names
//! each partner an endpoint will refuse for want of its credential, so an operator learns it
//! from the log and not from the partner.

use axum::http::HeaderMap;
use gateway_core::{PartnerProfile, Secret};

/// Why `POST /x12` refused a partner's interchange (HTTP 401). Never retryable as sent: the
/// sender must send its token, or the operator give the partner one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum X12Refusal {
    /// The profile has no `api_token`: nothing to check the sender against.
    #[error(
        "partner {partner}'s profile has no api_token, so X12 posted to /x12 as it is refused (its ISA ids alone prove nothing); nothing was accepted. Set api_token in its [[partners]] entry (or GATEWAY__PARTNERS__{env}__API_TOKEN) and send it as `Authorization: Bearer <api_token>`, or send the interchange by its SFTP folder or e-mail",
        env = env_id(partner)
    )]
    NoToken { partner: String },
    /// The request carries no bearer token, or not the partner's.
    #[error(
        "missing or wrong bearer token for partner {partner}, the sender the interchange's ISA names; nothing was accepted. Send `Authorization: Bearer <api_token of your partner profile>`"
    )]
    BadToken { partner: String },
}

impl X12Refusal {
    /// Never: the same request is refused again.
    pub fn retryable(&self) -> bool {
        false
    }
}

/// A partner id as the environment names its keys (`GATEWAY__PARTNERS__<ID>__...`).
fn env_id(partner: &str) -> String {
    partner.to_ascii_uppercase().replace('-', "_")
}

/// Whether the request in `headers` authenticates `partner`, the sender its interchanges'
/// ISA names, for `POST /x12`: its bearer token must be the partner's `api_token`, compared
/// in constant time ([`Secret::matches`]); a partner without one is refused.
pub fn check_x12_token(headers: &HeaderMap, partner: &PartnerProfile) -> Result<(), X12Refusal> {
    let Some(expected) = Secret::configured(partner.api_token.as_ref()) else {
        return Err(X12Refusal::NoToken {
            partner: partner.id.clone(),
        });
    };
    match gateway_http::bearer_token(headers) {
        Some(given) if expected.matches(given) => Ok(()),
        _ => Err(X12Refusal::BadToken {
            partner: partner.id.clone(),
        }),
    }
}

/// What an HTTP endpoint will refuse from each partner for want of its credential, one line a
/// partner and endpoint, in profile order: a partner with a `[partners.cxml]` section but no
/// `shared_secret` (it may only receive POs by cXML, which needs none, so it is not refused at
/// start), and one with a `[partners.x12]` section but no `api_token` (it may send only by
/// SFTP or e-mail).
pub fn refused_for_want_of_credentials(partners: &[PartnerProfile]) -> Vec<String> {
    let mut out = Vec::new();
    for p in partners {
        if let Some(cx) = &p.cxml
            && Secret::configured(cx.shared_secret.as_ref()).is_none()
        {
            out.push(format!(
                "partner {} has [partners.cxml] without shared_secret: cXML it posts to /cxml is refused (401) until shared_secret is set (GATEWAY__PARTNERS__{}__CXML__SHARED_SECRET); POs sent to it by cXML are not affected",
                p.id,
                env_id(&p.id)
            ));
        }
        if p.x12.is_some() && Secret::configured(p.api_token.as_ref()).is_none() {
            out.push(format!(
                "partner {} has [partners.x12] without api_token: X12 it posts to /x12 is refused (401) until api_token is set (GATEWAY__PARTNERS__{}__API_TOKEN) and sent as `Authorization: Bearer`; its files and mail are taken as before",
                p.id,
                env_id(&p.id)
            ));
        }
    }
    out
}

/// Logs a warning for each line of [`refused_for_want_of_credentials`]; `gateway serve` calls
/// it once, at start.
pub fn warn_at_start(partners: &[PartnerProfile]) {
    for line in refused_for_want_of_credentials(partners) {
        tracing::warn!("{line}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(toml: &str) -> PartnerProfile {
        PartnerProfile::from_toml(toml, "p.toml").unwrap_or_else(|e| panic!("{e}"))
    }

    /// QA (qaC f5 item 1): `/tmp/qaC/cfgerr/c7.toml`'s `cxmlsup` (no secret at all) and
    /// `c9.toml`'s (only `outbound_shared_secret`) are named, as is an X12 partner without a
    /// token; a partner with its credentials, or one that only receives POs by file, is not.
    #[test]
    fn partners_an_endpoint_will_refuse_are_named_at_start() {
        let partners = [
            profile(
                "id = \"cxmlsup\"\n[cxml]\nfrom_domain = \"DUNS\"\nfrom_identity = \"555000111\"\n",
            ),
            profile(
                "id = \"po-only\"\n[cxml]\nfrom_domain = \"DUNS\"\nfrom_identity = \"1\"\noutbound_shared_secret = \"x\"\n",
            ),
            profile("id = \"steel\"\n[x12]\npartner_id = \"EDISTEEL\"\n"),
            profile(
                "id = \"acme\"\napi_token = \"t\"\n[cxml]\nfrom_identity = \"2\"\nshared_secret = \"s\"\n[x12]\npartner_id = \"ACME\"\n",
            ),
            profile("id = \"nordic\"\n[outbound]\ntype = \"csv_file\"\ndir = \"out\"\n"),
        ];
        let lines = refused_for_want_of_credentials(&partners);
        assert_eq!(lines.len(), 3, "{lines:#?}");
        assert!(
            lines[0].starts_with("partner cxmlsup has [partners.cxml] without shared_secret")
                && lines[0].contains("GATEWAY__PARTNERS__CXMLSUP__CXML__SHARED_SECRET"),
            "{}",
            lines[0]
        );
        assert!(
            lines[1].starts_with("partner po-only has [partners.cxml] without shared_secret")
                && lines[1].contains("GATEWAY__PARTNERS__PO_ONLY__"),
            "{}",
            lines[1]
        );
        assert!(
            lines[2].starts_with("partner steel has [partners.x12] without api_token"),
            "{}",
            lines[2]
        );
    }

    #[test]
    fn x12_over_http_needs_the_partners_own_token() {
        let steel = profile("id = \"steel\"\n[x12]\npartner_id = \"EDISTEEL\"\n");
        let acme =
            profile("id = \"acme\"\napi_token = \"acme-token\"\n[x12]\npartner_id = \"A\"\n");
        let with = |token: Option<&str>| {
            let mut h = HeaderMap::new();
            if let Some(t) = token {
                h.insert(
                    axum::http::header::AUTHORIZATION,
                    axum::http::HeaderValue::from_str(&format!("Bearer {t}")).unwrap(),
                );
            }
            h
        };
        assert_eq!(
            check_x12_token(&with(Some("anything")), &steel),
            Err(X12Refusal::NoToken {
                partner: "steel".into()
            })
        );
        assert!(
            X12Refusal::NoToken {
                partner: "steel".into()
            }
            .to_string()
            .contains("GATEWAY__PARTNERS__STEEL__API_TOKEN")
        );
        assert_eq!(check_x12_token(&with(Some("acme-token")), &acme), Ok(()));
        for wrong in [None, Some("acme-token2"), Some("")] {
            assert_eq!(
                check_x12_token(&with(wrong), &acme),
                Err(X12Refusal::BadToken {
                    partner: "acme".into()
                }),
                "{wrong:?}"
            );
        }
    }
}
