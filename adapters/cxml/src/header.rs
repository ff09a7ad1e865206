//! The cXML envelope: `cXML@payloadID/timestamp/version`, `Header/From|To|Sender` credentials,
//! the Sender's SharedSecret, `Request@deploymentMode`, and authentication of the sender against
//! the partner profile.
//!
//! Why a separate step: the HTTP handler must authenticate the sender *before* decoding the
//! business document, and the envelope facts belong on the bus envelope ([`SourceMeta`]), never
//! in the canonical document. The SharedSecret is held as a [`Secret`] from the moment it is read:
//! it is never put in `SourceMeta`, a log line or an error message.

use gateway_core::{PartnerProfile, Secret, SourceMeta};
use gateway_model::Text;

use crate::error::CxmlError;
use crate::reader::{Limits, Node, parse_one};

/// One `Credential`: `domain` scopes `identity` (`NetworkID`, `DUNS`, ...).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Credential {
    pub domain: String,
    pub identity: String,
}

impl Credential {
    /// `domain:identity`, the form used for sender/receiver on the envelope.
    pub fn key(&self) -> String {
        format!("{}:{}", self.domain, self.identity)
    }

    /// Same party: domains compare case-insensitively (`DUNS` = `duns`), identities exactly.
    pub fn same_as(&self, domain: &str, identity: &str) -> bool {
        self.domain.eq_ignore_ascii_case(domain) && self.identity == identity
    }
}

/// The envelope of one cXML document.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CxmlHeader {
    pub payload_id: Option<String>,
    pub timestamp: Option<String>,
    /// `cXML@version`, when given.
    pub version: Option<String>,
    pub from: Vec<Credential>,
    pub to: Vec<Credential>,
    pub sender: Vec<Credential>,
    /// `Sender/Credential/SharedSecret`; `Debug` prints `[redacted]`.
    pub shared_secret: Option<Secret>,
    pub user_agent: Option<String>,
    /// `Request@deploymentMode` (`production` or `test`), when the document is a Request.
    pub deployment_mode: Option<String>,
    /// The element under `Request`/`Response`/`Message` (`InvoiceDetailRequest`, ...).
    pub message: Option<String>,
}

/// Reads the envelope of the first cXML document in `raw` without mapping the body, so the
/// HTTP handler can authenticate the sender first. Hostile input is refused as by the decoder.
pub fn header(raw: &[u8]) -> Result<CxmlHeader, CxmlError> {
    let tree = parse_one(raw, &Limits::default())?;
    let root = tree.root().ok_or_else(|| CxmlError::Syntax {
        location: "input".into(),
        message: "no root element; expected <cXML>".into(),
    })?;
    header_of(root)
}

fn credentials(node: Option<Node<'_>>) -> Vec<Credential> {
    node.map(|n| {
        n.children_named("Credential")
            .map(|c| Credential {
                domain: c.attr("domain").unwrap_or_default().trim().to_string(),
                identity: c
                    .child("Identity")
                    .map(|i| i.text().to_string())
                    .unwrap_or_default(),
            })
            .collect()
    })
    .unwrap_or_default()
}

/// Reads the envelope from the `cXML` root element.
pub fn header_of(root: Node<'_>) -> Result<CxmlHeader, CxmlError> {
    if root.name() != "cXML" {
        return Err(root.invalid(format!(
            "root element is <{}>; expected <cXML>",
            root.name()
        )));
    }
    let head = root.child("Header");
    let sender = head.and_then(|h| h.child("Sender"));
    let shared_secret = sender
        .and_then(|s| {
            s.children_named("Credential")
                .find_map(|c| c.child("SharedSecret"))
        })
        .map(|s| Secret::new(s.text()));
    let body = root
        .children()
        .find(|c| matches!(c.name(), "Request" | "Response" | "Message"));
    Ok(CxmlHeader {
        payload_id: root.attr_opt("payloadID").map(str::to_string),
        timestamp: root.attr_opt("timestamp").map(str::to_string),
        version: root.attr_opt("version").map(str::to_string),
        from: credentials(head.and_then(|h| h.child("From"))),
        to: credentials(head.and_then(|h| h.child("To"))),
        sender: credentials(sender),
        shared_secret,
        user_agent: sender
            .and_then(|s| s.child("UserAgent"))
            .and_then(|u| u.text_opt())
            .map(str::to_string),
        deployment_mode: body
            .filter(|b| b.name() == "Request")
            .and_then(|b| b.attr_opt("deploymentMode"))
            .map(str::to_string),
        message: body
            .and_then(|b| b.children().next())
            .map(|m| m.name().to_string()),
    })
}

impl CxmlHeader {
    /// Whether the document asks for the server's profile (`Request/ProfileRequest`, EMPTY in
    /// cXML.dtd): answered at once with [`crate::response::profile_response`] once its sender
    /// is authenticated, never decoded as a document or published.
    pub fn is_profile_request(&self) -> bool {
        self.message.as_deref() == Some("ProfileRequest")
    }

    /// The envelope facts for the bus: From as sender, To as receiver, payloadID as the source
    /// key; timestamp, deploymentMode, version, Sender credential and user agent in `extra`.
    /// The SharedSecret is deliberately absent.
    pub fn meta(&self) -> SourceMeta {
        let mut meta = SourceMeta {
            sender: self.from.first().map(|c| c.key().into()),
            receiver: self.to.first().map(|c| c.key().into()),
            source_key: self.payload_id.as_deref().map(Text::from),
            ..SourceMeta::default()
        };
        let mut put = |k: &str, v: &Option<String>| {
            if let Some(v) = v {
                meta.extra.insert(k.into(), v.as_str().into());
            }
        };
        put("timestamp", &self.timestamp);
        put("deployment_mode", &self.deployment_mode);
        put("version", &self.version);
        put("user_agent", &self.user_agent);
        put(
            "sender_credential",
            &self.sender.first().map(Credential::key),
        );
        put("message", &self.message);
        meta
    }
}

/// Why a sender was not accepted. Maps to cXML status 401. Not retryable with the same
/// credentials; messages never contain the secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("partner {0} has no [cxml] section in its profile")]
    NoProfile(String),
    /// `expected`: the `domain:identity` to send instead, named for the To credential only
    /// (the buyer's own, no secret; a partner onboarding could not tell what was wrong), never
    /// for a partner's own From or Sender.
    #[error(
        "the {role} credential does not match partner {partner}{hint}",
        hint = expected.as_deref().map(|e| format!(": expected {e} (domain:identity), this gateway's own")).unwrap_or_default()
    )]
    WrongCredential {
        role: &'static str,
        partner: String,
        expected: Option<String>,
    },
    /// The profile has a `[cxml]` section but no `shared_secret`: nothing to check a sender
    /// against, so nobody is taken as the partner (anyone knowing its public From credentials
    /// could otherwise post invoices that reach Coupa).
    #[error(
        "partner {partner}'s profile has no shared_secret in [partners.cxml], so cXML from it is refused: set shared_secret to the secret it sends in Sender/Credential/SharedSecret (or GATEWAY__PARTNERS__{env}__CXML__SHARED_SECRET); outbound_shared_secret is only the one sent with its POs",
        env = partner.to_ascii_uppercase().replace('-', "_")
    )]
    NoSharedSecret { partner: String },
    #[error("no SharedSecret in Sender/Credential")]
    MissingSecret,
    #[error("the SharedSecret does not match")]
    BadSecret,
}

impl AuthError {
    /// Never: the sender must fix its credentials (or we our profile).
    pub fn retryable(&self) -> bool {
        false
    }
}

/// Checks the envelope against the partner profile: every configured credential (From, To,
/// Sender) must be among the document's, and the shared secret must match, compared through
/// fixed-length digests in constant time ([`Secret::matches`]). A profile without a
/// `shared_secret` (or an empty one) takes no cXML at all ([`AuthError::NoSharedSecret`]):
/// the From, To and Sender credentials are printed on every document the partner sends, so
/// they prove nothing on their own.
pub fn authenticate(header: &CxmlHeader, profile: &PartnerProfile) -> Result<(), AuthError> {
    let Some(cx) = &profile.cxml else {
        return Err(AuthError::NoProfile(profile.id.clone()));
    };
    let Some(expected) = Secret::configured(cx.shared_secret.as_ref()) else {
        return Err(AuthError::NoSharedSecret {
            partner: profile.id.clone(),
        });
    };
    let check = |role: &'static str,
                 creds: &[Credential],
                 domain: &Option<String>,
                 identity: &Option<String>|
     -> Result<(), AuthError> {
        if let (Some(d), Some(i)) = (domain, identity)
            && !creds.iter().any(|c| c.same_as(d, i))
        {
            return Err(AuthError::WrongCredential {
                role,
                partner: profile.id.clone(),
                expected: (role == "To").then(|| format!("{d}:{i}")),
            });
        }
        Ok(())
    };
    check("From", &header.from, &cx.from_domain, &cx.from_identity)?;
    check("To", &header.to, &cx.to_domain, &cx.to_identity)?;
    check(
        "Sender",
        &header.sender,
        &cx.sender_domain,
        &cx.sender_identity,
    )?;
    let Some(given) = &header.shared_secret else {
        return Err(AuthError::MissingSecret);
    };
    if !expected.matches(given.expose()) {
        return Err(AuthError::BadSecret);
    }
    Ok(())
}
