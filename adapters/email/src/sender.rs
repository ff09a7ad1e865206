//! Who sent a message: the `From` address matched against each partner's `[email]` allow-list
//! (an exact address beats a `@domain` entry), and, when the profile asks for it, a passing
//! `Authentication-Results` verdict aligned with the `From` domain (RFC 8601), because `From`
//! alone is trivially forged. Several partners may list the same address (an invoicing service
//! sending for several suppliers); which of them a mail is for is then for its documents to say
//! ([`crate::EmailCodec::route`]).

use gateway_core::profile::EmailProfile;
use gateway_core::{Format, PartnerProfile};

use crate::message::ParsedMail;

/// Why a message's sender is not accepted. Never retryable: the profile or the sender must
/// change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SenderError {
    #[error("the message has no From address")]
    NoFrom,
    #[error("sender {from} is not in any partner's [email] from list")]
    Unknown { from: String },
    #[error("sender {from} is not in partner {partner}'s [email] from list")]
    NotAllowed { from: String, partner: String },
    #[error(
        "sender {from} is not authenticated ({reason}); partner {partner} requires a passing Authentication-Results"
    )]
    Unauthenticated {
        from: String,
        partner: String,
        reason: String,
    },
    /// Several partners list the sender, and the mail's documents do not name exactly one of
    /// them: refused whole rather than given to the first profile.
    #[error(
        "sender {from} is in the [email] from list of partners {}, so its documents must name \
         which of them they are from: {reason}",
        .candidates.join(", ")
    )]
    Shared {
        from: String,
        /// The partners' ids, in profile order (at most [`MAX_NAMED`], then a count).
        candidates: Vec<String>,
        reason: String,
    },
    /// A document says it is from another configured partner than the one the sender is.
    #[error(transparent)]
    Foreign(Box<ForeignDocument>),
}

/// A document in a mail from one partner's sender that names another configured partner as
/// its own sender ([`SenderError::Foreign`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "sender {from} is partner {partner}'s, but {document} says it is from {sender}, which is \
     partner {owner}'s {keys}: an address allowed for one partner must not carry another's \
     documents; if {from} sends for {owner} too, add it to partner {owner}'s [email] from list, \
     and each document goes to the partner it names"
)]
pub struct ForeignDocument {
    pub from: String,
    pub partner: String,
    /// The attachment and document, in words.
    pub document: String,
    /// The sender the document names (`domain:identity`, `qualifier:id`).
    pub sender: String,
    pub owner: String,
    /// The profile keys that name `owner`'s identity.
    pub keys: &'static str,
}

/// How many partners a refusal names one by one; the rest are counted.
pub const MAX_NAMED: usize = 10;

/// The ids of `partners` for a refusal: the first [`MAX_NAMED`], then how many more.
pub(crate) fn ids_of(partners: &[&PartnerProfile]) -> Vec<String> {
    let mut ids: Vec<String> = partners
        .iter()
        .take(MAX_NAMED)
        .map(|p| crate::message::clean(&p.id, 80))
        .collect();
    if partners.len() > MAX_NAMED {
        ids.push(format!("and {} more", partners.len() - MAX_NAMED));
    }
    ids
}

/// How a partner is known in a format's own sender field (cXML `From` credential, X12 ISA
/// sender), as its profile configures it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Identity<'a> {
    /// The cXML credential domain or ISA qualifier; `None` matches any.
    pub qualifier: Option<&'a str>,
    pub id: &'a str,
    /// The profile keys it is configured under, for messages.
    pub keys: &'static str,
}

impl<'a> Identity<'a> {
    /// `partner`'s identity in `format`, when its profile configures one (cXML and X12 only:
    /// the other formats name no sender of their own).
    pub(crate) fn of(partner: &'a PartnerProfile, format: Format) -> Option<Identity<'a>> {
        match format {
            Format::Cxml => partner.cxml.as_ref().and_then(|c| {
                c.from_identity.as_deref().map(|id| Identity {
                    qualifier: c.from_domain.as_deref(),
                    id,
                    keys: "[cxml] from_domain:from_identity",
                })
            }),
            Format::X12 => partner.x12.as_ref().and_then(|x| {
                x.partner_id.as_deref().map(|id| Identity {
                    qualifier: x.partner_qualifier.as_deref(),
                    id,
                    keys: "[x12] partner_qualifier:partner_id",
                })
            }),
            _ => None,
        }
    }

    /// Whether a document's sender (`domain:identity`, `qualifier:id`) is this identity: the
    /// same id, and the same qualifier when the profile names one (case and surrounding blanks
    /// ignored), as the server finds a partner by sender.
    pub(crate) fn matches(&self, sender: &str) -> bool {
        let (q, id) = sender.split_once(':').unwrap_or(("", sender));
        id.trim().eq_ignore_ascii_case(self.id.trim())
            && self
                .qualifier
                .is_none_or(|w| w.trim().eq_ignore_ascii_case(q.trim()))
    }

    /// `DUNS:123456789`, `*:ACME` when no qualifier is configured.
    pub(crate) fn shown(&self) -> String {
        format!("{}:{}", self.qualifier.unwrap_or("*"), self.id)
    }
}

/// Domain part of an address, lower case.
fn domain_of(addr: &str) -> Option<&str> {
    addr.rsplit_once('@')
        .map(|(_, d)| d)
        .filter(|d| !d.is_empty())
}

/// How well `profile` names `from`: 2 exact address, 1 domain, 0 not at all.
fn rank(profile: &EmailProfile, from: &str) -> u8 {
    let from = from.trim();
    let domain = domain_of(from);
    let mut best = 0;
    for entry in &profile.from {
        let entry = entry.trim();
        if let Some(d) = entry.strip_prefix('@') {
            if domain.is_some_and(|x| x.eq_ignore_ascii_case(d)) {
                best = best.max(1);
            }
        } else if entry.eq_ignore_ascii_case(from) {
            best = 2;
        }
    }
    best
}

/// Every partner whose `[email] from` list names `from` best, in profile order: an exact
/// address wins over a domain, and partners that name it equally well (an invoicing service
/// listed by each supplier it sends for) are all returned, for the mail's documents to decide
/// between ([`crate::EmailCodec::route`]). Empty when none names it.
pub fn find_partners<'a>(profiles: &'a [PartnerProfile], from: &str) -> Vec<&'a PartnerProfile> {
    let mut best = 0u8;
    let mut found = Vec::new();
    for p in profiles {
        let Some(email) = &p.email else { continue };
        let r = rank(email, from);
        if r == 0 || r < best {
            continue;
        }
        if r > best {
            best = r;
            found.clear();
        }
        found.push(p);
    }
    found
}

/// The partner whose `[email] from` list names `from` best (an exact address wins over a
/// domain), when exactly one does. `None` also when several partners name it equally well:
/// the sender alone does not say which of them a mail is for, and taking the first profile
/// delivered one supplier's invoices under another's name. [`crate::EmailCodec::route`] lets
/// the mail's documents decide.
pub fn find_partner<'a>(profiles: &'a [PartnerProfile], from: &str) -> Option<&'a PartnerProfile> {
    match find_partners(profiles, from).as_slice() {
        [one] => Some(*one),
        _ => None,
    }
}

/// Checks that `mail` may speak for `partner` (allow-list and, when required, authentication).
/// A partner without an `[email]` section accepts any sender: that is the `convert` case, where
/// no mailbox routing happens.
pub fn check_sender(partner: &PartnerProfile, mail: &ParsedMail) -> Result<(), SenderError> {
    let Some(email) = &partner.email else {
        return Ok(());
    };
    let from = mail.from.as_deref().ok_or(SenderError::NoFrom)?;
    if rank(email, from) == 0 {
        return Err(SenderError::NotAllowed {
            from: from.to_string(),
            partner: partner.id.clone(),
        });
    }
    if email.require_auth_results {
        authenticated(
            &mail.auth_results,
            from,
            email.trusted_authserv_id.as_deref(),
        )
        .map_err(|reason| SenderError::Unauthenticated {
            from: from.to_string(),
            partner: partner.id.clone(),
            reason,
        })?;
    }
    Ok(())
}

/// One `method=result` with its properties.
#[derive(Debug)]
struct Verdict {
    method: String,
    result: String,
    props: Vec<(String, String)>,
}

/// Splits an `Authentication-Results` value into its authserv-id and verdicts.
fn parse_header(value: &str) -> (String, Vec<Verdict>) {
    // drop RFC 5322 comments: "(...)", not nested more than the value is long
    let mut text = String::with_capacity(value.len());
    let mut depth = 0usize;
    for c in value.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            _ if depth == 0 => text.push(c),
            _ => {}
        }
    }
    let mut segments = text.split(';');
    let id = segments
        .next()
        .and_then(|s| s.split_whitespace().next())
        .unwrap_or("")
        .to_ascii_lowercase();
    let verdicts = segments
        .filter_map(|seg| {
            let mut tokens = seg.split_whitespace();
            let (method, result) = tokens.next()?.split_once('=')?;
            let method = method.split('/').next().unwrap_or(method);
            Some(Verdict {
                method: method.to_ascii_lowercase(),
                result: result.to_ascii_lowercase(),
                props: tokens
                    .filter_map(|t| t.split_once('='))
                    .map(|(k, v)| (k.to_ascii_lowercase(), v.trim_matches('"').to_string()))
                    .collect(),
            })
        })
        .collect();
    (id, verdicts)
}

/// Relaxed alignment (RFC 7489): same domain, or one is a subdomain of the other.
fn aligned(a: &str, b: &str) -> bool {
    let (a, b) = (a.to_ascii_lowercase(), b.to_ascii_lowercase());
    a == b || a.ends_with(&format!(".{b}")) || b.ends_with(&format!(".{a}"))
}

/// Ok when a believed header shows DMARC pass, or DKIM/SPF pass aligned with the `From`
/// domain; else the verdicts seen, for the quarantine reason.
fn authenticated(headers: &[String], from: &str, trusted: Option<&str>) -> Result<(), String> {
    let from_domain = domain_of(from).unwrap_or("");
    let believed: Vec<(String, Vec<Verdict>)> = match trusted {
        Some(t) => headers
            .iter()
            .map(|h| parse_header(h))
            .filter(|(id, _)| id.eq_ignore_ascii_case(t))
            .collect(),
        None => headers.iter().take(1).map(|h| parse_header(h)).collect(),
    };
    if believed.is_empty() {
        return Err(match trusted {
            Some(t) => format!("no Authentication-Results header from {t}"),
            None => "no Authentication-Results header".into(),
        });
    }
    let mut seen = Vec::new();
    for (_, verdicts) in &believed {
        for v in verdicts {
            seen.push(format!("{}={}", v.method, v.result));
            if v.result != "pass" {
                continue;
            }
            let prop = |names: &[&str]| {
                v.props
                    .iter()
                    .find(|(k, _)| names.contains(&k.as_str()))
                    .map(|(_, val)| val.rsplit('@').next().unwrap_or(val).to_string())
            };
            let ok = match v.method.as_str() {
                "dmarc" => prop(&["header.from"]).is_none_or(|d| aligned(&d, from_domain)),
                "dkim" => prop(&["header.d", "header.i"]).is_some_and(|d| aligned(&d, from_domain)),
                "spf" => {
                    prop(&["smtp.mailfrom", "smtp.helo"]).is_some_and(|d| aligned(&d, from_domain))
                }
                _ => false,
            };
            if ok {
                return Ok(());
            }
        }
    }
    if seen.is_empty() {
        Err("Authentication-Results has no verdicts".into())
    } else {
        Err(format!(
            "no passing DMARC, or DKIM/SPF aligned with {from_domain}: {}",
            seen.join(", ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(id: &str, from: &[&str], auth: bool) -> PartnerProfile {
        PartnerProfile {
            id: id.into(),
            email: Some(EmailProfile {
                from: from.iter().map(|s| s.to_string()).collect(),
                require_auth_results: auth,
                ..EmailProfile::default()
            }),
            ..PartnerProfile::default()
        }
    }

    fn mail(from: &str, auth: &[&str]) -> ParsedMail {
        ParsedMail {
            message_id: "m@x".into(),
            from: Some(from.into()),
            subject: None,
            auth_results: auth.iter().map(|s| s.to_string()).collect(),
            attachments: Vec::new(),
        }
    }

    #[test]
    fn exact_address_beats_domain() {
        let ps = vec![
            profile("acme", &["@acme.example"], false),
            profile("acme-ap", &["ap@acme.example"], false),
        ];
        let id = |f: &str| find_partner(&ps, f).map(|p| p.id.clone());
        assert_eq!(id("AP@Acme.Example").as_deref(), Some("acme-ap"));
        assert_eq!(id("billing@acme.example").as_deref(), Some("acme"));
        assert_eq!(id("billing@acme.example.evil"), None);
        assert_eq!(id("billing@evil.example"), None);
    }

    /// Two partners listing one invoicing service: the sender alone names no partner (the
    /// first profile used to win), and both are candidates; an exact address still beats
    /// another partner's domain entry.
    #[test]
    fn a_shared_sender_names_every_partner_that_lists_it() {
        let ps = vec![
            profile("initech", &["invoices@billingservice.example"], false),
            profile("acme", &["Invoices@BillingService.example"], false),
            profile("hooli", &["@billingservice.example"], false),
        ];
        let ids = |f: &str| {
            find_partners(&ps, f)
                .iter()
                .map(|p| p.id.as_str())
                .collect::<Vec<_>>()
        };
        assert_eq!(ids("invoices@billingservice.example"), ["initech", "acme"]);
        assert!(find_partner(&ps, "invoices@billingservice.example").is_none());
        assert_eq!(ids("other@billingservice.example"), ["hooli"]);
        assert_eq!(
            find_partner(&ps, "other@billingservice.example").map(|p| p.id.as_str()),
            Some("hooli")
        );
        assert!(ids("x@elsewhere.example").is_empty());
    }

    #[test]
    fn authentication_is_checked_only_when_required() {
        let open = profile("acme", &["@acme.example"], false);
        assert!(check_sender(&open, &mail("x@acme.example", &[])).is_ok());
        let strict = profile("acme", &["@acme.example"], true);
        let none = check_sender(&strict, &mail("x@acme.example", &[]));
        assert!(
            matches!(none, Err(SenderError::Unauthenticated { .. })),
            "{none:?}"
        );
        let pass = "mx.globex.example; spf=pass smtp.mailfrom=bounce@acme.example; dkim=pass header.d=acme.example; dmarc=pass header.from=acme.example";
        assert!(check_sender(&strict, &mail("x@acme.example", &[pass])).is_ok());
        let fail = "mx.globex.example; spf=fail smtp.mailfrom=x@evil.example; dkim=none; dmarc=fail (p=reject) header.from=acme.example";
        let err = check_sender(&strict, &mail("x@acme.example", &[fail])).unwrap_err();
        assert!(err.to_string().contains("dmarc=fail"), "{err}");
    }

    #[test]
    fn dkim_pass_for_another_domain_does_not_count() {
        let h = "mx; dkim=pass header.d=evil.example; spf=pass smtp.mailfrom=evil.example";
        assert!(authenticated(&[h.into()], "ap@acme.example", None).is_err());
        let sub = "mx; dkim=pass header.d=mail.acme.example";
        assert!(authenticated(&[sub.into()], "ap@acme.example", None).is_ok());
    }

    #[test]
    fn only_the_trusted_authserv_id_is_believed() {
        let forged = "evil.example; dmarc=pass header.from=acme.example";
        let ours = "mx.globex.example; dmarc=fail header.from=acme.example";
        let hs = [ours.to_string(), forged.to_string()];
        assert!(authenticated(&hs, "a@acme.example", Some("mx.globex.example")).is_err());
        // without a trusted id only the topmost header (our MTA's) is read
        assert!(authenticated(&hs, "a@acme.example", None).is_err());
        let hs = [forged.to_string()];
        assert!(authenticated(&hs, "a@acme.example", Some("mx.globex.example")).is_err());
    }

    #[test]
    fn disallowed_sender_is_named() {
        let p = profile("acme", &["billing@acme.example"], false);
        let err = check_sender(&p, &mail("mallory@evil.example", &[])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "sender mallory@evil.example is not in partner acme's [email] from list"
        );
    }
}
