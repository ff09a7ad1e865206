//! The e-mail section of a partner profile (owned by `adapter-email`).
//!
//! ```toml
//! [partners.email]
//! from = ["billing@acme.example", "@acme.example"]   # addresses, or "@domain" for a whole domain
//! require_auth_results = true                        # a passing SPF/DKIM/DMARC verdict is needed
//! trusted_authserv_id = "mx.globex.example"          # only our own MTA's verdicts count
//! po_format = "csv"                                  # attachment format of POs sent by mail
//! ```

use serde::Deserialize;

use crate::format::Format;

/// Who may send documents for this partner by e-mail, and how POs are mailed to it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailProfile {
    /// Allowed senders: full addresses (`billing@acme.example`) or whole domains
    /// (`@acme.example`). Compared case-insensitively with the message's `From` address.
    #[serde(default)]
    pub from: Vec<String>,
    /// When true, a message counts only if an `Authentication-Results` header shows a passing
    /// DMARC verdict, or a passing DKIM/SPF verdict aligned with the `From` domain, because the
    /// `From` header alone is trivially forged.
    #[serde(default)]
    pub require_auth_results: bool,
    /// The `authserv-id` of our own receiving MTA. When set, only `Authentication-Results`
    /// headers it wrote are believed (a sender can add its own header claiming `pass`); when
    /// unset, only the topmost header (the last hop's) is read.
    #[serde(default)]
    pub trusted_authserv_id: Option<String>,
    /// Format of the PO attached to mails to this partner; when unset: cXML if the profile has
    /// a `[cxml]` section, X12 if it has `[x12]`, else CSV (which needs no ids).
    #[serde(default)]
    pub po_format: Option<Format>,
}
