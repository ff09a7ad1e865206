//! The cXML section of a partner profile (owned by `adapter-cxml`).
//!
//! The credentials are named from the partner's point of view when it sends to us:
//! `from_*` is the partner, `to_*` is us, `sender_*` is whoever posts for the partner.
//! - Inbound (the partner's InvoiceDetailRequest), and an InvoiceDetailRequest we write on the
//!   partner's behalf: From = `from_*`, To = `to_*`, Sender = `sender_*` + `shared_secret`.
//! - Outbound OrderRequest to the partner (we are the buyer): From = `to_*`, To = `from_*`,
//!   Sender = `to_*` + `outbound_shared_secret` (or `shared_secret` when that is absent).

use serde::Deserialize;

use crate::secret::Secret;

/// cXML credentials: From (the partner), To (us), Sender and its shared secret.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CxmlProfile {
    #[serde(default)]
    pub from_domain: Option<String>,
    #[serde(default)]
    pub from_identity: Option<String>,
    #[serde(default)]
    pub to_domain: Option<String>,
    #[serde(default)]
    pub to_identity: Option<String>,
    #[serde(default)]
    pub sender_domain: Option<String>,
    #[serde(default)]
    pub sender_identity: Option<String>,
    /// Shared secret expected in (and sent as) `Sender/Credential/SharedSecret`.
    #[serde(default)]
    pub shared_secret: Option<Secret>,
    #[serde(default)]
    pub user_agent: Option<String>,
    /// `production` or `test`.
    #[serde(default)]
    pub deployment_mode: Option<String>,
    /// Shared secret we send in OrderRequests to the partner, when it differs from the one the
    /// partner sends us.
    #[serde(default)]
    pub outbound_shared_secret: Option<Secret>,
    /// Host part of the payloadIDs we generate (`<time>.<random>@<host>`); default
    /// `coupa-gateway`.
    #[serde(default)]
    pub payload_id_host: Option<String>,
}
