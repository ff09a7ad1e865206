//! The cXML section of a partner profile (owned by `adapter-cxml`).

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
}
